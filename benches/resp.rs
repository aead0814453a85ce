//! RESP protocol micro-benchmarks: the incremental request parser (`resp::parse::Parser`) on a
//! buffer of 1,000 pipelined `SET key:N value` commands, once in multibulk form and once as
//! inline commands, reported as input bytes per second; and the reply encoder
//! (`resp::reply::Reply`) writing 1,000 replies of common shapes into a reused `Vec`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ringkv::resp::parse::{ParseLimits, Parser, Status};
use ringkv::resp::reply::Reply;
use std::hint::black_box;

/// Commands per pipelined batch (and replies per encoder iteration).
const BATCH: usize = 1000;

fn multibulk_batch() -> Vec<u8> {
    let mut buf = Vec::new();
    for i in 0..BATCH {
        let key = format!("key:{i}");
        buf.extend_from_slice(
            format!(
                "*3\r\n$3\r\nSET\r\n${}\r\n{key}\r\n$5\r\nvalue\r\n",
                key.len()
            )
            .as_bytes(),
        );
    }
    buf
}

fn inline_batch() -> Vec<u8> {
    let mut buf = Vec::new();
    for i in 0..BATCH {
        buf.extend_from_slice(format!("SET key:{i} value\r\n").as_bytes());
    }
    buf
}

/// Parses every command in `buf` the way the server does (parse, read argv, next_command),
/// then drops the consumed bytes from the parser's view with `rebase` so the same buffer can
/// be parsed again. Returns the sum of argument lengths so the work cannot be optimised away.
fn parse_all(parser: &mut Parser, buf: &mut [u8], limits: &ParseLimits) -> usize {
    let mut total = 0;
    let mut commands = 0;
    // One command per turn, so the loop is bounded by the batch size.
    while commands <= BATCH {
        match parser.parse(buf, limits) {
            Status::Complete => {
                total += parser.argv(buf).iter().map(<[u8]>::len).sum::<usize>();
                parser.next_command();
                commands += 1;
            }
            Status::Incomplete => break,
            Status::Error(e) => panic!("benchmark input rejected: {}", e.message()),
        }
    }
    assert_eq!(commands, BATCH, "every pipelined command must parse");
    let consumed = parser.consumed();
    parser.rebase(consumed);
    total
}

fn bench_parse(c: &mut Criterion) {
    let limits = ParseLimits::default();
    let mut group = c.benchmark_group("resp_parse_1000_set");
    for (name, input) in [("multibulk", multibulk_batch()), ("inline", inline_batch())] {
        // Inline commands without quotes are not rewritten in place, so one buffer serves
        // every iteration.
        let mut buf = input;
        let mut parser = Parser::new();
        group.throughput(Throughput::Bytes(buf.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| black_box(parse_all(&mut parser, black_box(&mut buf), &limits)));
        });
    }
    group.finish();
}

fn bench_reply(c: &mut Criterion) {
    let mut group = c.benchmark_group("resp_reply_1000");
    group.throughput(Throughput::Elements(BATCH as u64));
    let value = b"value-of-twenty-byte";
    for resp3 in [false, true] {
        let name = if resp3 { "mixed_resp3" } else { "mixed_resp2" };
        let mut out = Vec::with_capacity(64 * 1024);
        group.bench_function(name, |b| {
            b.iter(|| {
                out.clear();
                let mut r = Reply::new(&mut out, resp3);
                // Five top-level replies per round, as a pipeline of GET, SET, INCR, a
                // two-key MGET with one miss, and a GET of a missing key would produce.
                for i in 0..BATCH / 5 {
                    r.bulk(black_box(value));
                    r.ok();
                    r.int(black_box(i as i64 * 1_000_003));
                    r.array(2);
                    r.bulk(value);
                    r.null();
                    r.null();
                }
                black_box(out.len())
            });
        });
    }
    group.bench_function("bulk_resp2", |b| {
        let mut out = Vec::with_capacity(64 * 1024);
        b.iter(|| {
            out.clear();
            let mut r = Reply::new(&mut out, false);
            for _ in 0..BATCH {
                r.bulk(black_box(value));
            }
            black_box(out.len())
        });
    });
    group.finish();
}

criterion_group!(benches, bench_parse, bench_reply);
criterion_main!(benches);
