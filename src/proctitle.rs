//! The process title (`set-proc-title`, `proc-title-template`), as Redis sets it: what `ps`
//! and /proc/PID/cmdline show becomes the template expanded, e.g. `ringkv 127.0.0.1:6379`.
//!
//! The title is written over the process's own argument area (the kernel's `arg_start` ..
//! `arg_end` from /proc/self/stat) through /proc/self/mem, the file interface the kernel
//! gives a process to its own memory, which is what C's setproctitle does with a pointer.
//! Invariants: nothing is written outside that area (a longer title is cut, and the last
//! byte stays NUL); the area is written only if, when first looked at, it held exactly this
//! process's own arguments (under valgrind, /proc/self/stat names valgrind's arguments,
//! which are not ours to change: there is no title then); the area is read only by the
//! kernel after start-up (`main` has copied the arguments it needs).

use crate::config::Config;
use std::io::{Read, Seek, SeekFrom, Write};
use std::sync::OnceLock;

/// The argument area (address, length), once it was found to hold our own arguments.
static AREA: OnceLock<Option<(u64, usize)>> = OnceLock::new();

/// The template with its variables replaced (Redis's `sdstemplate` rules: `{{` is a
/// literal `{`, a lone `}` is itself), trimmed of spaces; None for an unknown variable or
/// an unfinished one.
pub fn expand(template: &str, title: &str, c: &Config) -> Option<String> {
    let mut out = String::new();
    let mut rest = template;
    // Bounded by the template's length: each pass consumes at least one character.
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        if after.is_empty() {
            return None;
        }
        if let Some(tail) = after.strip_prefix('{') {
            out.push('{');
            rest = tail;
            continue;
        }
        let close = after.find('}')?;
        out.push_str(&variable(&after[..close], title, c)?);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Some(out.trim_matches(' ').to_string())
}

fn variable(name: &str, title: &str, c: &Config) -> Option<String> {
    let unixsocket = || {
        c.unixsocket
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    };
    Some(match name {
        "title" => title.to_string(),
        "listen-addr" if c.port != 0 => {
            let addr = c.bind.first().map_or("*", String::as_str);
            format!("{addr}:{}", c.port)
        }
        "listen-addr" => format!("unixsocket:{}", unixsocket()),
        "server-mode" => String::new(),
        "config-file" => c
            .config_file
            .as_ref()
            .map_or_else(|| "-".to_string(), |p| p.display().to_string()),
        "port" => c.port.to_string(),
        "tls-port" => "0".to_string(),
        "unixsocket" => unixsocket(),
        _ => return None,
    })
}

/// Whether CONFIG SET and the config file accept `template` (Redis's check: it expands,
/// with an empty title, to something).
pub fn valid(template: &str, c: &Config) -> bool {
    expand(template, "", c).is_some_and(|t| !t.is_empty())
}

/// Sets the process title from the template, with the name the server was started by as
/// `{title}` (nothing happens without `set-proc-title`).
pub fn apply(c: &Config, argv0: &str) -> std::io::Result<()> {
    if !c.set_proc_title {
        return Ok(());
    }
    let Some(title) = expand(&c.proc_title_template, argv0, c) else {
        return Ok(());
    };
    let Some((start, len)) = *AREA.get_or_init(own_area) else {
        return Ok(());
    };
    let mut area = vec![0u8; len];
    let n = title.len().min(len - 1);
    area[..n].copy_from_slice(&title.as_bytes()[..n]);
    let mut mem = std::fs::OpenOptions::new()
        .write(true)
        .open("/proc/self/mem")?;
    mem.seek(SeekFrom::Start(start))?;
    mem.write_all(&area)
}

/// The kernel's argument area of this process, if it holds exactly the arguments this
/// process was started with (each followed by a NUL).
fn own_area() -> Option<(u64, usize)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces): the state is field 3, so
    // arg_start (field 48) and arg_end (49) are the 46th and 47th of these.
    let fields: Vec<&str> = stat[stat.rfind(')')? + 2..].split(' ').collect();
    let num = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
    let (start, end) = (num(45)?, num(46)?);
    let len = end.checked_sub(start)? as usize;
    let mut expected = Vec::with_capacity(len);
    for a in std::env::args_os() {
        expected.extend_from_slice(a.as_encoded_bytes());
        expected.push(0);
    }
    if len == 0 || expected.len() != len {
        return None;
    }
    let mut mem = std::fs::File::open("/proc/self/mem").ok()?;
    mem.seek(SeekFrom::Start(start)).ok()?;
    let mut found = vec![0u8; len];
    mem.read_exact(&mut found).ok()?;
    (found == expected).then_some((start, len))
}
