//! Files the persistence tests share: scratch directories for servers that are restarted
//! on the same files, the AOF directory's layout, and a shutdown that waits for the
//! process to be gone (so the next server on the same files reads what it wrote).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::Server;

/// A scratch directory, emptied when made and removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A fresh directory under the system's temp dir, named after `tag`, this process and a
    /// counter (tests of one binary run in parallel).
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("ringkv-test-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }

    /// The path as a `--dir` argument.
    pub fn s(&self) -> &str {
        self.0.to_str().expect("utf-8 temp path")
    }

    pub fn path_buf(&self) -> PathBuf {
        self.0.clone()
    }

    /// Where the AOF files and their manifest are.
    pub fn aof_dir(&self) -> PathBuf {
        self.0.join("appendonlydir")
    }

    /// The incr file of sequence `seq`.
    pub fn incr(&self, seq: u32) -> PathBuf {
        self.aof_dir()
            .join(format!("appendonly.aof.{seq}.incr.aof"))
    }

    /// The RDB file (default name).
    pub fn dump(&self) -> PathBuf {
        self.0.join("dump.rdb")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The file of the given manifest type (`b` base, `i` incr; the last one listed) in the
/// AOF directory under `dir`.
pub fn aof_file(dir: &Path, kind: char) -> PathBuf {
    let adir = dir.join("appendonlydir");
    let manifest =
        std::fs::read_to_string(adir.join("appendonly.aof.manifest")).expect("AOF manifest");
    let suffix = format!("type {kind}");
    let name = manifest
        .lines()
        .rfind(|l| l.ends_with(&suffix))
        .and_then(|l| l.split(' ').nth(1))
        .unwrap_or_else(|| panic!("no {suffix} file in {manifest}"))
        .to_string();
    adir.join(name)
}

/// The commands of the newest incr file of the AOF under `dir`, each as one line: its
/// arguments through `show`, joined by spaces.
pub fn incr_commands(dir: &Path, show: fn(&[u8]) -> String) -> Vec<String> {
    let bytes = std::fs::read(aof_file(dir, 'i')).expect("incr file");
    ringkv::persist::aof::parse_aof(&bytes)
        .expect("a valid AOF")
        .iter()
        .map(|c| c.iter().map(|a| show(a)).collect::<Vec<_>>().join(" "))
        .collect()
}

/// An argument as text, invalid UTF-8 replaced (`incr_commands`' usual `show`).
pub fn lossy(a: &[u8]) -> String {
    String::from_utf8_lossy(a).into_owned()
}

/// Sends SHUTDOWN and waits until the process has exited (a zombie counts: the test's
/// `Server` reaps it when dropped).
pub fn shutdown_and_wait(srv: &Server) {
    let mut c = srv.raw();
    c.send(&super::encode(&[b"SHUTDOWN"]));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", srv.pid())).unwrap_or_default();
        let state = stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .chars()
            .next();
        if matches!(state, None | Some('Z') | Some('X')) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "server did not exit after SHUTDOWN"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}
