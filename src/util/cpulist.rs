//! CPU lists, as taskset(1) and Redis's `server_cpulist` / `bio_cpulist` write them: items
//! separated by commas, each a CPU (`3`), a range (`0-3`) or a range with a stride
//! (`0-20:2`), and pinning the calling thread to one (`sched_setaffinity`).
//!
//! Redis ignores a list it cannot parse, and the kernel's refusal to pin; ringkv refuses
//! both (at the config file or command line, and at start-up), since a setting that was
//! accepted must be honoured.

/// CPUs a `cpu_set_t` can name (glibc's CPU_SETSIZE); a larger number cannot be pinned to.
pub const CPUS_MAX: usize = 1024;

/// The CPUs `list` names, ascending, without repeats.
pub fn parse(list: &str) -> Result<Vec<usize>, String> {
    let bad = || format!("'{list}' is not a CPU list (such as 0-3,8 or 0-20:2)");
    let num = |s: &str| -> Result<usize, String> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        s.parse::<usize>().map_err(|_| bad())
    };
    let mut cpus = Vec::new();
    for item in list.split(',') {
        let (range, stride) = match item.split_once(':') {
            Some((r, s)) => (r, num(s)?),
            None => (item, 1),
        };
        let (first, last) = match range.split_once('-') {
            Some((a, b)) => (num(a)?, num(b)?),
            None if stride == 1 && !item.contains(':') => {
                let n = num(range)?;
                (n, n)
            }
            None => return Err(bad()),
        };
        if stride == 0 || first > last {
            return Err(bad());
        }
        if last >= CPUS_MAX {
            return Err(format!(
                "CPU {last} in '{list}' is beyond the {CPUS_MAX} CPUs a thread can be pinned to"
            ));
        }
        cpus.extend((first..=last).step_by(stride));
    }
    cpus.sort_unstable();
    cpus.dedup();
    Ok(cpus)
}

fn cpu_set(cpus: &[usize]) -> libc::cpu_set_t {
    // SAFETY: cpu_set_t is a plain bit array, for which all zeroes is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    for &c in cpus {
        assert!(c < CPUS_MAX, "parse() bounds every CPU");
        // SAFETY: `c` is within the set's CPU_SETSIZE bits (asserted above).
        unsafe { libc::CPU_SET(c, &mut set) };
    }
    set
}

/// The CPUs the calling thread may run on.
pub fn allowed() -> Result<Vec<usize>, String> {
    let mut set = cpu_set(&[]);
    // SAFETY: `set` is a valid cpu_set_t of the size passed; pid 0 is the calling thread.
    let rc = unsafe { libc::sched_getaffinity(0, std::mem::size_of_val(&set), &mut set) };
    if rc != 0 {
        return Err(format!(
            "sched_getaffinity: {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok((0..CPUS_MAX)
        // SAFETY: every `c` is below CPUS_MAX, the set's CPU_SETSIZE bits.
        .filter(|&c| unsafe { libc::CPU_ISSET(c, &set) })
        .collect())
}

/// Pins the calling thread to `cpus` (the kernel keeps those of them this process may use).
pub fn pin_current_thread(cpus: &[usize]) -> Result<(), String> {
    let set = cpu_set(cpus);
    // SAFETY: `set` is a valid cpu_set_t of the size passed; pid 0 is the calling thread.
    let rc = unsafe { libc::sched_setaffinity(0, std::mem::size_of_val(&set), &set) };
    if rc != 0 {
        return Err(format!(
            "sched_setaffinity: {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}

/// Checks at start-up that a thread can be pinned to `cpus`: at least one of them is a CPU
/// this process may run on (`name` is the setting, for the message).
pub fn check_usable(name: &str, cpus: &[usize]) -> Result<(), String> {
    let allowed = allowed()?;
    if cpus.iter().any(|c| allowed.contains(c)) {
        Ok(())
    } else {
        Err(format!(
            "{name}: none of the CPUs {cpus:?} is one this process may run on ({allowed:?})"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_as_taskset_writes_them() {
        assert_eq!(parse("0").unwrap(), vec![0]);
        assert_eq!(parse("0,2-3").unwrap(), vec![0, 2, 3]);
        assert_eq!(parse("0-8:3").unwrap(), vec![0, 3, 6]);
        assert_eq!(parse("3,1,1-2").unwrap(), vec![1, 2, 3]);
        for bad in [
            "", "a", "1-", "-1", "3-1", "0-4:0", "1,,2", "1:2", " 1", "0-2:x",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        assert!(parse("0-1024").unwrap_err().contains("beyond"));
    }

    #[test]
    fn a_thread_is_pinned_and_unpinned() {
        let all = allowed().unwrap();
        assert!(!all.is_empty());
        let first = all[0];
        let all2 = all.clone();
        std::thread::spawn(move || {
            pin_current_thread(&[first]).unwrap();
            assert_eq!(allowed().unwrap(), vec![first]);
            pin_current_thread(&all2).unwrap();
            assert_eq!(allowed().unwrap(), all2);
        })
        .join()
        .unwrap();
        assert!(check_usable("x", &[first]).is_ok());
        assert!(check_usable("x", &[CPUS_MAX - 1]).is_err() || all.contains(&(CPUS_MAX - 1)));
    }
}
