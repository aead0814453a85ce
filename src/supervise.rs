//! `supervised`: telling a service manager that the server is up, as Redis does. Under
//! systemd (`NOTIFY_SOCKET` set by a `Type=notify` unit) the sd_notify datagrams
//! `READY=1` once the data is loaded and the listeners are up, and `STOPPING=1` at shutdown;
//! under upstart (`UPSTART_JOB`, `expect stop`) a SIGSTOP when ready. `auto` picks whichever
//! the environment shows. Nothing here keeps state beyond the mode found at start-up.

use crate::config::Supervised;

/// The supervisor found for the configured mode (None: not supervised), as Redis's
/// `redisIsSupervised`; a requested one that the environment lacks is logged.
pub fn detect(mode: Supervised) -> Option<Supervised> {
    let systemd = std::env::var_os("NOTIFY_SOCKET").is_some();
    let upstart = std::env::var_os("UPSTART_JOB").is_some();
    match mode {
        Supervised::No => None,
        Supervised::Auto if upstart => Some(Supervised::Upstart),
        Supervised::Auto if systemd => Some(Supervised::Systemd),
        Supervised::Auto => None,
        Supervised::Upstart if upstart => Some(Supervised::Upstart),
        Supervised::Upstart => {
            log::warn!("upstart supervision requested, but UPSTART_JOB not found!");
            None
        }
        Supervised::Systemd if systemd => Some(Supervised::Systemd),
        Supervised::Systemd => {
            log::warn!(
                "systemd supervision requested or auto-detected, but NOTIFY_SOCKET not found!"
            );
            None
        }
    }
}

/// Sends one sd_notify message (`READY=1\n...`) to `NOTIFY_SOCKET` (a path, or `@name`
/// for the abstract namespace).
pub fn notify_systemd(msg: &str) {
    use std::os::linux::net::SocketAddrExt;
    use std::os::unix::net::{SocketAddr, UnixDatagram};
    let Some(target) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let target = target.as_encoded_bytes();
    let addr = match target.strip_prefix(b"@") {
        Some(name) => SocketAddr::from_abstract_name(name),
        None => SocketAddr::from_pathname(std::path::Path::new(
            <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(target),
        )),
    };
    let sent = addr.and_then(|addr| UnixDatagram::unbound()?.send_to_addr(msg.as_bytes(), &addr));
    if let Err(e) = sent {
        log::warn!("Can't send notification to systemd: {e}");
    }
}

/// The server is ready for clients.
pub fn ready(kind: Option<Supervised>) {
    match kind {
        Some(Supervised::Systemd) => {
            log::info!("Sending READY=1 to systemd");
            notify_systemd("STATUS=Ready to accept connections\nREADY=1\n");
        }
        Some(Supervised::Upstart) => {
            // upstart's `expect stop`: stopped once, then continued by upstart (Redis also
            // clears UPSTART_JOB for its children; ringkv starts none).
            let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGSTOP);
        }
        _ => {}
    }
}
