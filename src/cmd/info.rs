//! INFO: the server's state and statistics as Redis 7.0's sections and fields, for the
//! dashboards and exporters that read them (redis_exporter, RedisInsight, redis-cli --stat).
//!
//! Every field of redis-server 7.0.15 with a meaning in ringkv is printed, under the same
//! name, in the same section and order; tests/info.rs compares the names with a live
//! redis-server and lists the fields left out, each with its reason. A few fields are
//! ringkv's own (`ringkv_version`, `expired_keys_active`, `auth_failures`, `busy_poll_hits`).
//! Sections are chosen as Redis 7.0 chooses them: none or `default` (all but commandstats
//! and latencystats), `all` and `everything` (every section: ringkv has no module-made
//! ones), or any list of names and of those words, in any case; an unknown name adds
//! nothing.

use super::server::REDIS_VERSION;
use super::Ctx;
use crate::resp::Argv;
use std::fmt::Write as _;

/// One `name:value` line.
fn field(s: &mut String, name: &str, value: impl std::fmt::Display) {
    let _ = write!(s, "{name}:{value}\r\n");
}

fn human(bytes: u64) -> String {
    let b = bytes as f64;
    if b < 1024.0 {
        format!("{bytes}B")
    } else if b < 1024.0 * 1024.0 {
        format!("{:.2}K", b / 1024.0)
    } else if b < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2}M", b / (1024.0 * 1024.0))
    } else {
        format!("{:.2}G", b / (1024.0 * 1024.0 * 1024.0))
    }
}

fn cpu_times(who: nix::sys::resource::UsageWho) -> (f64, f64) {
    match nix::sys::resource::getrusage(who) {
        Ok(u) => {
            let s = u.system_time();
            let us = u.user_time();
            (
                s.tv_sec() as f64 + s.tv_usec() as f64 / 1e6,
                us.tv_sec() as f64 + us.tv_usec() as f64 / 1e6,
            )
        }
        Err(_) => (0.0, 0.0),
    }
}

const SECTIONS_DEFAULT: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "errorstats",
    "cluster",
    "keyspace",
];
const SECTIONS_ALL: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "commandstats",
    "errorstats",
    "latencystats",
    "cluster",
    "keyspace",
];

fn info_section(ctx: &Ctx<'_>, name: &str, s: &mut String) {
    let srv = &*ctx.srv;
    let now = ctx.now_ms;
    match name {
        "server" => {
            let uptime = srv.start_instant.elapsed().as_secs();
            let uname = nix::sys::utsname::uname().ok();
            let os = uname
                .map(|u| {
                    format!(
                        "{} {} {}",
                        u.sysname().to_string_lossy(),
                        u.release().to_string_lossy(),
                        u.machine().to_string_lossy()
                    )
                })
                .unwrap_or_default();
            let port = srv.config.port;
            let config_file = srv
                .config
                .config_file
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            let exe = std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            let supervised = match srv.config.supervised_by {
                Some(crate::config::Supervised::Systemd) => "systemd",
                Some(crate::config::Supervised::Upstart) => "upstart",
                _ => "no",
            };
            let _ = write!(
                s,
                "# Server\r\nredis_version:{REDIS_VERSION}\r\nringkv_version:{}\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\nredis_build_id:0\r\nredis_mode:standalone\r\nos:{os}\r\narch_bits:64\r\nmonotonic_clock:POSIX clock_gettime\r\nmultiplexing_api:io_uring\r\nprocess_id:{}\r\nprocess_supervised:{supervised}\r\nrun_id:{}\r\ntcp_port:{port}\r\nserver_time_usec:{}\r\nuptime_in_seconds:{uptime}\r\nuptime_in_days:{}\r\nhz:{}\r\nconfigured_hz:{}\r\nlru_clock:{}\r\nexecutable:{exe}\r\nconfig_file:{config_file}\r\nio_threads_active:0\r\n",
                env!("CARGO_PKG_VERSION"),
                std::process::id(),
                srv.run_id,
                now * 1000,
                uptime / 86400,
                srv.hz,
                srv.config.hz,
                (now / 1000) & 0xff_ffff,
            );
        }
        "clients" => {
            // The largest input and output buffers among the clients now (Redis keeps the
            // largest of the last seconds; ringkv's buffers shrink back when drained, so
            // the current ones are what is held). One pass over the connections.
            let (mut max_in, mut max_out) = (0usize, 0usize);
            for (_, c) in srv.conns.iter().filter(|(_, c)| !c.closed) {
                let input = c.inbuf.as_ref().map_or(c.inbuf_away_bytes, Vec::capacity);
                max_in = max_in.max(input);
                max_out = max_out.max(c.out.capacity());
            }
            // WAIT's clients are blocked too (Redis's BLOCKED_WAIT).
            let (waiting, waiting_with_timeout) = crate::repl::primary::waiting_counts(srv);
            let _ = write!(
                s,
                "# Clients\r\nconnected_clients:{}\r\ncluster_connections:0\r\nmaxclients:{}\r\nclient_recent_max_input_buffer:{max_in}\r\nclient_recent_max_output_buffer:{max_out}\r\nblocked_clients:{}\r\ntracking_clients:{}\r\nclients_in_timeout_table:{}\r\n",
                srv.connected_clients(),
                srv.config.clients_max,
                srv.blocking.blocked_count() + waiting,
                srv.tracking.clients(),
                srv.blocking.timeout_count() + waiting_with_timeout,
            );
        }
        "memory" => {
            let used = srv.used_memory();
            let rss = crate::alloc::rss();
            let peak = crate::alloc::peak() as u64;
            let o = crate::cmd::memory::Overhead::of(ctx);
            let total = nix::sys::sysinfo::sysinfo()
                .map(|i| i.ram_total())
                .unwrap_or(0);
            // The Lua interpreter of EVAL scripts (counted in used_memory too: it allocates
            // through the server's allocator).
            let lua = srv.scripts.vm_memory() as u64;
            // Functions have their own interpreter; Redis sums both into the `_total` and
            // `used_memory_scripts` fields.
            let fns = &srv.scripts.functions;
            let vm_functions = fns.vm_memory() as u64;
            let scripts_eval = srv.scripts.cache_memory() as u64;
            let functions_mem = fns.overhead_memory() as u64;
            let maxmemory = srv.config.maxmemory_bytes;
            let (alloc, active, resident) = (
                o.allocator_allocated,
                o.allocator_active,
                o.allocator_resident,
            );
            use crate::cmd::memory::Overhead as O;
            s.push_str("# Memory\r\n");
            field(s, "used_memory", used);
            field(s, "used_memory_human", human(used));
            field(s, "used_memory_rss", rss);
            field(s, "used_memory_rss_human", human(rss));
            field(s, "used_memory_peak", peak);
            field(s, "used_memory_peak_human", human(peak));
            let peak_perc = if peak > 0 {
                used as f64 * 100.0 / peak as f64
            } else {
                0.0
            };
            field(s, "used_memory_peak_perc", format!("{peak_perc:.2}%"));
            field(s, "used_memory_overhead", o.overhead_total);
            field(s, "used_memory_startup", o.startup);
            field(s, "used_memory_dataset", o.dataset);
            field(
                s,
                "used_memory_dataset_perc",
                format!("{:.2}%", o.dataset_perc),
            );
            field(s, "allocator_allocated", alloc);
            field(s, "allocator_active", active);
            field(s, "allocator_resident", resident);
            field(s, "total_system_memory", total);
            field(s, "total_system_memory_human", human(total));
            field(s, "used_memory_lua", lua);
            field(s, "used_memory_vm_eval", lua);
            field(s, "used_memory_lua_human", human(lua));
            field(s, "used_memory_scripts_eval", scripts_eval);
            field(s, "number_of_cached_scripts", srv.scripts.cached());
            field(s, "number_of_functions", fns.function_count());
            field(s, "number_of_libraries", fns.library_count());
            field(s, "used_memory_vm_functions", vm_functions);
            field(s, "used_memory_vm_total", lua + vm_functions);
            field(s, "used_memory_vm_total_human", human(lua + vm_functions));
            field(s, "used_memory_functions", functions_mem);
            field(s, "used_memory_scripts", scripts_eval + functions_mem);
            field(
                s,
                "used_memory_scripts_human",
                human(scripts_eval + functions_mem),
            );
            field(s, "maxmemory", maxmemory);
            field(s, "maxmemory_human", human(maxmemory));
            field(s, "maxmemory_policy", srv.config.maxmemory_policy.name());
            field(
                s,
                "allocator_frag_ratio",
                format!("{:.2}", O::ratio(active, alloc)),
            );
            field(s, "allocator_frag_bytes", O::diff(active, alloc));
            field(
                s,
                "allocator_rss_ratio",
                format!("{:.2}", O::ratio(resident, active)),
            );
            field(s, "allocator_rss_bytes", O::diff(resident, active));
            field(
                s,
                "rss_overhead_ratio",
                format!("{:.2}", O::ratio(o.rss, resident)),
            );
            field(s, "rss_overhead_bytes", O::diff(o.rss, resident));
            let frag = if used > 0 {
                rss as f64 / used as f64
            } else {
                0.0
            };
            field(s, "mem_fragmentation_ratio", format!("{frag:.2}"));
            field(s, "mem_fragmentation_bytes", rss as i64 - used as i64);
            field(
                s,
                "mem_not_counted_for_evict",
                crate::evict::not_counted_bytes(srv),
            );
            // No replication backlog, replicas or cluster links in this server (yet).
            field(s, "mem_replication_backlog", 0);
            field(s, "mem_total_replication_buffers", 0);
            field(s, "mem_clients_slaves", 0);
            field(s, "mem_clients_normal", srv.clients_memory_bytes());
            field(s, "mem_cluster_links", 0);
            field(s, "mem_aof_buffer", srv.aof.buffer_bytes());
            field(s, "mem_allocator", "libc");
            // ringkv has no active defragmentation.
            field(s, "active_defrag_running", 0);
            field(s, "lazyfree_pending_objects", srv.lazyfree.pending());
            let freed = srv.lazyfree.freed();
            field(
                s,
                "lazyfreed_objects",
                freed.saturating_sub(srv.stats.lazyfreed_base),
            );
        }
        "persistence" => s.push_str(&srv.info_persistence()),
        "stats" => {
            let st = &srv.stats;
            let (exceeded_total_ms, exceeded_current_ms) = srv.evict.exceeded_ms();
            let kbps = |b: u64| format!("{:.2}", b as f64 / 1024.0);
            s.push_str("# Stats\r\n");
            field(s, "total_connections_received", st.connections_received);
            field(s, "total_commands_processed", st.commands_processed);
            field(s, "instantaneous_ops_per_sec", srv.instantaneous_ops());
            field(s, "total_net_input_bytes", st.net_input_bytes);
            field(s, "total_net_output_bytes", st.net_output_bytes);
            // Replication traffic: none in this server (yet).
            field(s, "total_net_repl_input_bytes", 0);
            field(s, "total_net_repl_output_bytes", 0);
            field(
                s,
                "instantaneous_input_kbps",
                kbps(srv.instantaneous_net_bytes(true)),
            );
            field(
                s,
                "instantaneous_output_kbps",
                kbps(srv.instantaneous_net_bytes(false)),
            );
            field(s, "instantaneous_input_repl_kbps", "0.00");
            field(s, "instantaneous_output_repl_kbps", "0.00");
            field(s, "rejected_connections", st.rejected_connections);
            field(s, "sync_full", srv.repl.primary.sync_full);
            field(s, "sync_partial_ok", srv.repl.primary.sync_partial_ok);
            field(s, "sync_partial_err", srv.repl.primary.sync_partial_err);
            field(s, "expired_keys", srv.expired_keys());
            field(s, "expired_keys_active", st.expired_keys_active);
            field(
                s,
                "expired_time_cap_reached_count",
                st.expired_time_cap_reached,
            );
            field(
                s,
                "expire_cycle_cpu_milliseconds",
                st.expire_cycle_us / 1000,
            );
            field(s, "evicted_keys", srv.evict.evicted_keys);
            field(s, "evicted_clients", st.evicted_clients);
            field(
                s,
                "total_eviction_exceeded_time",
                exceeded_total_ms.saturating_sub(st.eviction_exceeded_base_ms),
            );
            field(s, "current_eviction_exceeded_time", exceeded_current_ms);
            field(s, "keyspace_hits", st.keyspace_hits);
            field(s, "keyspace_misses", st.keyspace_misses);
            let kinds = [
                ("pubsub_channels", crate::pubsub::Kind::Channel),
                ("pubsub_patterns", crate::pubsub::Kind::Pattern),
                ("pubsubshard_channels", crate::pubsub::Kind::Shard),
            ];
            for (name, kind) in kinds {
                field(s, name, srv.pubsub.len(kind));
            }
            // Snapshots are written without forking.
            field(s, "latest_fork_usec", 0);
            field(s, "total_forks", 0);
            field(s, "tracking_total_keys", srv.tracking.total_keys());
            field(s, "tracking_total_items", srv.tracking.total_items());
            field(s, "tracking_total_prefixes", srv.tracking.total_prefixes());
            field(s, "unexpected_error_replies", st.unexpected_error_replies);
            field(s, "total_error_replies", st.total_error_replies);
            field(s, "auth_failures", st.auth_failures);
            // The loop is the only thread doing I/O.
            field(s, "io_threaded_reads_processed", 0);
            field(s, "io_threaded_writes_processed", 0);
            field(s, "busy_poll_hits", st.busy_poll_hits);
        }
        "replication" => crate::repl::primary::info_section(srv, s),
        "cpu" => {
            let (sys, user) = cpu_times(nix::sys::resource::UsageWho::RUSAGE_SELF);
            // INFO runs on the loop's thread: its own figures are the main thread's.
            let (msys, muser) = cpu_times(nix::sys::resource::UsageWho::RUSAGE_THREAD);
            let _ = write!(
                s,
                "# CPU\r\nused_cpu_sys:{sys:.6}\r\nused_cpu_user:{user:.6}\r\nused_cpu_sys_children:0.000000\r\nused_cpu_user_children:0.000000\r\nused_cpu_sys_main_thread:{msys:.6}\r\nused_cpu_user_main_thread:{muser:.6}\r\n"
            );
        }
        "modules" => s.push_str("# Modules\r\n"),
        "cluster" => s.push_str("# Cluster\r\ncluster_enabled:0\r\n"),
        "errorstats" => {
            s.push_str("# Errorstats\r\n");
            for (code, n) in &srv.stats.error_codes {
                let code = String::from_utf8_lossy(code);
                let _ = write!(s, "errorstat_{code}:count={n}\r\n");
            }
        }
        "commandstats" => {
            s.push_str("# Commandstats\r\n");
            for (i, c) in srv.all_commands.iter().enumerate() {
                let st = &srv.cmd_stats[i];
                if st.calls == 0 && st.rejected_calls == 0 && st.failed_calls == 0 {
                    continue;
                }
                let per = if st.calls > 0 {
                    st.usec as f64 / st.calls as f64
                } else {
                    0.0
                };
                let _ = write!(
                    s,
                    "cmdstat_{}:calls={},usec={},usec_per_call={per:.2},rejected_calls={},failed_calls={}\r\n",
                    c.name, st.calls, st.usec, st.rejected_calls, st.failed_calls
                );
            }
        }
        "latencystats" => {
            s.push_str("# Latencystats\r\n");
            if srv.config.latency_tracking {
                super::latency::info_latencystats(srv, s);
            }
        }
        "keyspace" => {
            s.push_str("# Keyspace\r\n");
            for (i, db) in srv.dbs.iter().enumerate() {
                if db.is_empty() {
                    continue;
                }
                let _ = write!(
                    s,
                    "db{i}:keys={},expires={},avg_ttl={}\r\n",
                    db.len(),
                    db.expires_len(),
                    db.avg_ttl_ms(now)
                );
            }
        }
        _ => {}
    }
}

pub fn cmd_info(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let mut wanted: Vec<&str> = Vec::new();
    if argv.len() == 1 {
        wanted.extend_from_slice(SECTIONS_DEFAULT);
    }
    for i in 1..argv.len() {
        let a = String::from_utf8_lossy(argv.get(i)).to_ascii_lowercase();
        match a.as_str() {
            "default" => wanted.extend_from_slice(SECTIONS_DEFAULT),
            "all" | "everything" => wanted.extend_from_slice(SECTIONS_ALL),
            other => {
                if let Some(n) = SECTIONS_ALL.iter().find(|s| **s == other) {
                    wanted.push(n);
                }
            }
        }
    }
    let mut s = String::new();
    for name in SECTIONS_ALL {
        if wanted.contains(name) {
            if !s.is_empty() {
                s.push_str("\r\n");
            }
            info_section(ctx, name, &mut s);
        }
    }
    ctx.reply.verbatim(s.as_bytes());
}
