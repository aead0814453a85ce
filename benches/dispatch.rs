//! Command dispatch micro-benchmark: 1,000 pipelined GETs, and 1,000 pipelined SETs of
//! existing keys, run through the server's real parse → command lookup → arity check →
//! handler → reply path (`Server::bench_dispatch`, a thin hidden wrapper over the private
//! dispatcher) for one fake client, on a warm 100k-key keyspace. No sockets or io_uring are
//! involved: this is the per-command CPU cost of a loop turn.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ringkv::config::Config;
use ringkv::keyspace::value::Value;
use ringkv::server::Server;
use std::hint::black_box;
use std::os::unix::net::UnixStream;

const KEYS: usize = 100_000;
const BATCH: usize = 1000;

/// A multibulk command, as a client library would send it.
fn push_command(buf: &mut Vec<u8>, args: &[&[u8]]) {
    buf.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        buf.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        buf.extend_from_slice(a);
        buf.extend_from_slice(b"\r\n");
    }
}

fn bench_dispatch(c: &mut Criterion) {
    let mut srv = Server::new(Config::default());
    // The peer end must stay open so the fake client's fd is a live socket.
    let (ours, _peer) = UnixStream::pair().expect("socketpair for the fake client");
    let slot = srv.bench_add_client(ours.into());
    let now_ms = srv.now_ms;
    for i in 0..KEYS {
        srv.dbs[0].set(
            format!("key:{i}").as_bytes(),
            Value::from_bytes(b"value-0123456789"),
            now_ms,
            false,
        );
    }

    // Keys spread over the keyspace (a multiplicative stride), so lookups are not sequential.
    let key_of = |i: usize| format!("key:{}", (i * 7919) % KEYS).into_bytes();
    let mut gets = Vec::new();
    let mut sets = Vec::new();
    for i in 0..BATCH {
        let k = key_of(i);
        push_command(&mut gets, &[b"GET", &k]);
        push_command(&mut sets, &[b"SET", &k, b"value-9876543210"]);
    }

    let mut out = Vec::with_capacity(64 * 1024);
    // Check once, outside the measurement, that every command ran and succeeded.
    assert_eq!(srv.bench_dispatch(slot, &mut sets, &mut out), BATCH);
    assert_eq!(out, b"+OK\r\n".repeat(BATCH));
    out.clear();
    assert_eq!(srv.bench_dispatch(slot, &mut gets, &mut out), BATCH);
    assert_eq!(out, b"$16\r\nvalue-9876543210\r\n".repeat(BATCH));

    let mut group = c.benchmark_group("dispatch_100k_keys");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("get_pipeline_1000", |b| {
        b.iter(|| {
            out.clear();
            black_box(srv.bench_dispatch(slot, &mut gets, &mut out))
        });
    });
    group.bench_function("set_pipeline_1000", |b| {
        b.iter(|| {
            out.clear();
            black_box(srv.bench_dispatch(slot, &mut sets, &mut out))
        });
    });
    group.finish();
}

criterion_group!(benches, bench_dispatch);
criterion_main!(benches);
