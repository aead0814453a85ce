//! Client eviction (`maxmemory-clients`, Redis 7.0's `evictClients`): when the connections
//! together hold more memory than the limit, the largest ones are closed until they are under
//! it again.
//!
//! Counting: each connection's figure is `Conn::memory_bytes` (buffers' capacities, the
//! transaction queue, the WATCH list, the struct), recounted by `account_client` when its
//! buffers may have changed: after each command (`process_input`) and for every connection
//! the loop flushed or re-armed this turn (`event_loop`). `ClientsMemory` keeps the total of
//! all connections and the part of it that may be evicted; each is changed by the difference
//! between a connection's new and last figure (`Conn::mem_counted_bytes`), so nothing walks
//! the connections to keep it. Only an eviction pass does, and a pass runs only while the
//! total is at or over the limit and some connection can be evicted; each such pass closes
//! at least one connection.
//!
//! All this runs only while a limit is set: without one a request pays a comparison with the
//! cached limit, not the recounts (callgrind: ~170 instructions per unpipelined request when
//! they always ran). The figures then go stale (closing still takes a connection's figure
//! out, so the totals stay the sums of the figures), and setting a limit recounts every
//! connection once (`apply_clients_memory_limit`, as Redis's `applyClientMaxMemoryUsage`).
//!
//! As in Redis, the memory of connections that cannot be evicted (CLIENT NO-EVICT) counts
//! toward the limit: they can make every other connection get closed. The AOF loading
//! client (id 0) is no connection and is never counted.
//!
//! Invariants (`check_clients_memory`): `total_bytes` is the sum of `mem_counted_bytes` over
//! the open connections and `evictable_bytes` the same sum over those without `no_evict`;
//! a closed connection's figure is 0.

use super::Server;
use crate::net::conn::Conn;

/// The clients' memory as last counted, and the limit.
#[derive(Default, Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientsMemory {
    /// Every open connection (what INFO's `mem_clients_normal` shows).
    pub total_bytes: usize,
    /// The connections eviction may close (not CLIENT NO-EVICT).
    pub evictable_bytes: usize,
    /// `maxmemory-clients` in bytes as the config gives it (0: none), cached because every
    /// loop turn and every command looks at it.
    pub limit_bytes: usize,
}

/// The id of the AOF loading client, which has no socket (`Server::add_loading_client`).
const LOADING_CLIENT_ID: u64 = 0;

fn counted(c: &Conn) -> bool {
    // The master client is never evicted (Redis evicts normal and Pub/Sub clients only).
    !c.closed && c.id != LOADING_CLIENT_ID && !c.master
}

impl Server {
    /// The clients' memory limit in force, in bytes (0: no limit).
    #[inline]
    pub fn clients_memory_limit_bytes(&self) -> usize {
        self.clients_mem.limit_bytes
    }

    /// Takes the limit from the config (at start-up and after CONFIG SET, which may change
    /// `maxmemory-clients` or, for a percentage, `maxmemory`). When a limit appears, every
    /// connection is recounted, since nothing was counted without one.
    pub fn apply_clients_memory_limit(&mut self) {
        let limit = self
            .config
            .maxmemory_clients
            .bytes(self.config.maxmemory_bytes);
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let before = std::mem::replace(&mut self.clients_mem.limit_bytes, limit);
        if before == 0 && limit > 0 {
            self.recount_clients();
        }
    }

    /// Counts every open connection afresh.
    fn recount_clients(&mut self) {
        let slots: Vec<usize> = self.conns.iter().map(|(s, _)| s).collect();
        for slot in slots {
            self.account_client(slot, 0);
        }
    }

    /// The open connections' memory, for INFO: the total while a limit keeps it current,
    /// else counted now (a walk, which INFO can afford).
    pub fn clients_memory_bytes(&self) -> usize {
        if self.clients_memory_limit_bytes() > 0 {
            return self.clients_mem.total_bytes;
        }
        self.conns
            .iter()
            .filter(|(_, c)| counted(c))
            .map(|(_, c)| c.memory_bytes(0))
            .sum()
    }

    /// Recounts the memory of the connection in `slot` and moves the totals by the change.
    /// `extra_out` is its output buffer's capacity while `process_input` holds it.
    pub(crate) fn account_client(&mut self, slot: usize, extra_out: usize) {
        let Some(c) = self.conns.get_mut(slot) else {
            return;
        };
        if !counted(c) {
            return;
        }
        let now = c.memory_bytes(extra_out);
        let before = std::mem::replace(&mut c.mem_counted_bytes, now);
        let m = &mut self.clients_mem;
        m.total_bytes = m.total_bytes - before + now;
        if !c.no_evict {
            m.evictable_bytes = m.evictable_bytes - before + now;
        }
    }

    /// Takes a connection's figure out of the totals as it closes.
    pub(crate) fn uncount_client(&mut self, slot: usize) {
        let Some(c) = self.conns.get_mut(slot) else {
            return;
        };
        let before = std::mem::take(&mut c.mem_counted_bytes);
        self.clients_mem.total_bytes -= before;
        if !c.no_evict {
            self.clients_mem.evictable_bytes -= before;
        }
    }

    /// CLIENT NO-EVICT: the connection's memory stays in the total but leaves (or rejoins)
    /// the evictable part.
    pub(crate) fn set_no_evict(&mut self, slot: usize, on: bool) {
        let Some(c) = self.conns.get_mut(slot) else {
            return;
        };
        if c.no_evict == on {
            return;
        }
        c.no_evict = on;
        let bytes = c.mem_counted_bytes;
        if on {
            self.clients_mem.evictable_bytes -= bytes;
        } else {
            self.clients_mem.evictable_bytes += bytes;
        }
    }

    /// Whether an eviction pass has work: a limit is set, the total is at or over it (Redis
    /// evicts at `>=`) and some connection can be evicted.
    fn eviction_due(&self, limit: usize) -> bool {
        limit > 0 && self.clients_mem.total_bytes >= limit && self.clients_mem.evictable_bytes > 0
    }

    /// Closes connections, largest first, until the clients' memory is under the limit
    /// (Redis's `evictClients`). `running` is the connection whose buffers `process_input`
    /// holds: it is never closed here; true means it was chosen, and the caller closes it
    /// (`evict_client`) once its buffers are back in place. Its figure must be current.
    pub(crate) fn evict_clients(&mut self, running: Option<usize>) -> bool {
        let limit = self.clients_memory_limit_bytes();
        if !self.eviction_due(limit) {
            return false;
        }
        // Only here, with the total over the limit, are the connections walked; a pass
        // closes at least one, so this runs at most once per eviction.
        let mut candidates: Vec<(usize, u64, usize)> = self
            .conns
            .iter()
            .filter(|(_, c)| counted(c) && !c.no_evict)
            .map(|(s, c)| (c.mem_counted_bytes, c.id, s))
            .collect();
        // Largest first; among equals the oldest connection (lowest id) first, so that a
        // tie is broken the same way on every run.
        candidates.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut total = self.clients_mem.total_bytes;
        let mut evict_running = false;
        for &(bytes, _, slot) in &candidates {
            if total < limit {
                break;
            }
            total -= bytes;
            if Some(slot) == running {
                evict_running = true;
            } else {
                self.evict_client(slot);
            }
        }
        if total >= limit {
            log::warn!("Over client maxmemory after evicting all evictable clients");
        }
        evict_running
    }

    /// Closes one connection for client eviction: logged with its CLIENT LIST line (as
    /// Redis's "Evicting client"), counted in INFO's `evicted_clients`, its unsent replies
    /// dropped.
    pub(crate) fn evict_client(&mut self, slot: usize) {
        if !self.conns.get(slot).is_some_and(counted) {
            return;
        }
        if log::log_enabled!(log::Level::Info) {
            let mut line = String::new();
            crate::cmd::server::client_info_line(self, slot, 0, &mut line);
            log::info!("Evicting client: {}", line.trim_end());
        }
        self.stats.evicted_clients += 1;
        self.close(slot);
    }

    /// Asserts the invariants of the module doc (tests and debug checks).
    pub fn check_clients_memory(&self) {
        let mut m = ClientsMemory {
            limit_bytes: self.clients_mem.limit_bytes,
            ..ClientsMemory::default()
        };
        for (_, c) in &self.conns {
            if !counted(c) {
                assert_eq!(
                    c.mem_counted_bytes, 0,
                    "closed client {} still counted",
                    c.id
                );
                continue;
            }
            m.total_bytes += c.mem_counted_bytes;
            if !c.no_evict {
                m.evictable_bytes += c.mem_counted_bytes;
            }
        }
        assert_eq!(m, self.clients_mem, "clients' memory totals");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ClientsMemoryLimit, Config};
    use std::os::fd::OwnedFd;
    use std::os::unix::net::UnixStream;

    /// A server with `n` registered connections (socket pairs whose far ends are returned so
    /// they stay open), each counted once.
    fn server_with_clients(n: usize) -> (Server, Vec<usize>, Vec<UnixStream>) {
        let mut srv = Server::new(Config::default());
        let mut slots = Vec::new();
        let mut peers = Vec::new();
        for _ in 0..n {
            let (a, b) = UnixStream::pair().expect("socket pair");
            let slot = srv.bench_add_client(OwnedFd::from(a));
            srv.account_client(slot, 0);
            slots.push(slot);
            peers.push(b);
        }
        srv.check_clients_memory();
        (srv, slots, peers)
    }

    #[test]
    fn totals_follow_growth_no_evict_and_close() {
        let (mut srv, slots, _peers) = server_with_clients(3);
        let base = srv.clients_mem.total_bytes;
        assert_eq!(srv.clients_mem.evictable_bytes, base);
        // A query buffer grows: only the difference is added.
        srv.conns[slots[0]].inbuf = Some(Vec::with_capacity(100_000));
        srv.account_client(slots[0], 0);
        srv.check_clients_memory();
        assert!(srv.clients_mem.total_bytes >= base + 100_000);
        // Recounting without change changes nothing.
        let t = srv.clients_mem;
        srv.account_client(slots[0], 0);
        assert_eq!(srv.clients_mem, t);
        // NO-EVICT moves the figure out of the evictable part only.
        srv.set_no_evict(slots[0], true);
        srv.check_clients_memory();
        assert_eq!(srv.clients_mem.total_bytes, t.total_bytes);
        assert!(srv.clients_mem.evictable_bytes < 100_000);
        srv.set_no_evict(slots[0], true);
        srv.check_clients_memory();
        // Closing takes it out of both.
        srv.close(slots[1]);
        srv.check_clients_memory();
        srv.set_no_evict(slots[0], false);
        srv.close(slots[0]);
        srv.check_clients_memory();
        assert_eq!(
            srv.clients_mem.total_bytes,
            srv.conns[slots[2]].mem_counted_bytes
        );
    }

    #[test]
    fn eviction_closes_largest_first_until_under_and_spares_no_evict() {
        let (mut srv, slots, _peers) = server_with_clients(4);
        let mb = 1024 * 1024;
        srv.config.maxmemory_clients = ClientsMemoryLimit::Bytes(2 * mb as u64);
        srv.apply_clients_memory_limit();
        // Sizes: 1.5 MB (no-evict), 0.4 MB, 1 MB, small.
        for (slot, cap) in [
            (slots[0], mb * 3 / 2),
            (slots[1], mb * 2 / 5),
            (slots[2], mb),
        ] {
            srv.conns[slot].inbuf = Some(Vec::with_capacity(cap));
            srv.account_client(slot, 0);
        }
        srv.set_no_evict(slots[0], true);
        assert!(srv.clients_mem.total_bytes >= 2 * mb);
        assert!(!srv.evict_clients(None));
        srv.check_clients_memory();
        // The 1 MB one went; that brought the total under the limit, so the rest stay.
        assert!(srv.conns.get(slots[2]).is_none_or(|c| c.closed));
        assert!(!srv.conns[slots[0]].closed);
        assert!(!srv.conns[slots[1]].closed);
        assert!(!srv.conns[slots[3]].closed);
        assert_eq!(srv.stats.evicted_clients, 1);
        assert!(srv.clients_mem.total_bytes < 2 * mb);
        // The no-evict client grows past the limit alone: every other client goes, and it
        // stays.
        srv.conns[slots[0]].inbuf = Some(Vec::with_capacity(3 * mb));
        srv.account_client(slots[0], 0);
        assert!(!srv.evict_clients(None));
        srv.check_clients_memory();
        assert!(!srv.conns[slots[0]].closed);
        assert!(srv.conns.get(slots[1]).is_none_or(|c| c.closed));
        assert!(srv.conns.get(slots[3]).is_none_or(|c| c.closed));
        assert_eq!(srv.stats.evicted_clients, 3);
        assert_eq!(srv.clients_mem.evictable_bytes, 0);
        // Nothing left to evict: a pass does nothing.
        assert!(!srv.evict_clients(None));
        assert_eq!(srv.stats.evicted_clients, 3);
    }

    #[test]
    fn the_running_client_is_chosen_not_closed() {
        let (mut srv, slots, _peers) = server_with_clients(2);
        srv.config.maxmemory_clients = ClientsMemoryLimit::Bytes(1024 * 1024);
        srv.apply_clients_memory_limit();
        // The running client holds its output outside the connection.
        srv.account_client(slots[0], 2 * 1024 * 1024);
        assert!(srv.evict_clients(Some(slots[0])));
        // Chosen, so the other, small one was spared; the caller closes it.
        assert!(!srv.conns[slots[0]].closed);
        assert!(!srv.conns[slots[1]].closed);
        assert_eq!(srv.stats.evicted_clients, 0);
        srv.evict_client(slots[0]);
        assert_eq!(srv.stats.evicted_clients, 1);
        srv.check_clients_memory();
    }

    #[test]
    fn setting_a_limit_recounts_every_connection() {
        let (mut srv, slots, _peers) = server_with_clients(2);
        // Without a limit nothing recounts a connection whose buffers grew.
        srv.conns[slots[0]].inbuf = Some(Vec::with_capacity(500_000));
        let stale = srv.clients_mem.total_bytes;
        assert!(srv.clients_memory_bytes() >= stale + 500_000);
        srv.config.maxmemory_clients = ClientsMemoryLimit::Bytes(1024 * 1024);
        srv.apply_clients_memory_limit();
        srv.check_clients_memory();
        assert!(srv.clients_mem.total_bytes >= stale + 500_000);
        assert_eq!(srv.clients_memory_bytes(), srv.clients_mem.total_bytes);
    }

    #[test]
    fn no_limit_no_eviction() {
        let (mut srv, slots, _peers) = server_with_clients(1);
        srv.conns[slots[0]].inbuf = Some(Vec::with_capacity(10 * 1024 * 1024));
        srv.account_client(slots[0], 0);
        assert!(!srv.evict_clients(None));
        assert_eq!(srv.stats.evicted_clients, 0);
        // A percentage of an unset maxmemory is no limit either.
        srv.config.maxmemory_clients = ClientsMemoryLimit::PercentOfMaxmemory(10);
        srv.apply_clients_memory_limit();
        assert_eq!(srv.clients_memory_limit_bytes(), 0);
        assert!(!srv.evict_clients(None));
        srv.config.maxmemory_bytes = 50 * 1024 * 1024;
        srv.apply_clients_memory_limit();
        assert_eq!(srv.clients_memory_limit_bytes(), 5 * 1024 * 1024);
        assert!(!srv.evict_clients(None));
        assert_eq!(srv.stats.evicted_clients, 1);
        assert!(srv.conns.get(slots[0]).is_none_or(|c| c.closed));
    }
}
