//! `resp_parser`: feeds any bytes to the incremental request parser (`resp::parse::Parser`)
//! with Redis's default limits, once in one piece and once split at fuzzer-chosen points
//! (with or without compacting the buffer through `consumed`/`rebase` between pieces), and
//! checks that it never panics or spins, that a protocol error sticks, and that both runs give
//! the same commands and the same final error. The one split-dependent outcome Redis has on
//! purpose (the 64 KiB "too big" limits apply to the bytes seen so far without a line end) is
//! allowed: then the split run must stop with such an error after a prefix of the commands.
//!
//! With bit 6 set, the split run also parses ahead (`Parser::parse_ahead`, the pipeline
//! lookahead) after every complete command, as the server does, so that commands taken from
//! the lookahead (and lookaheads dropped by a compaction) must give the same result too;
//! and before every parse between commands it parses the next command ahead, as the
//! lookahead across connections does (`Server::prefetch_ready`).
//!
//! Input layout: byte 0 = flags (low 4 bits: number of split sizes - 1; bit 4: compact after
//! every piece; bit 5: compact after odd pieces only; bit 6: parse ahead), then that many
//! split-size bytes (a 0 size means "call parse again with no new bytes, then feed 1 byte"),
//! then the stream.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringkv::resp::parse::{ParseLimits, Parser, ProtocolError, Status};

type Commands = Vec<Vec<Vec<u8>>>;

fn take_command(p: &mut Parser, buf: &[u8], out: &mut Commands) {
    out.push(p.argv(buf).iter().map(<[u8]>::to_vec).collect());
    p.next_command();
}

/// Parses `stream` in one buffer: the commands and the final error (None: incomplete).
fn parse_whole(stream: &[u8], limits: &ParseLimits) -> (Commands, Option<ProtocolError>) {
    let mut buf = stream.to_vec();
    let mut p = Parser::new();
    let mut cmds = Vec::new();
    // Every complete command consumes at least one byte.
    for _ in 0..=buf.len() + 1 {
        match p.parse(&mut buf, limits) {
            Status::Complete => take_command(&mut p, &buf, &mut cmds),
            Status::Incomplete => return (cmds, None),
            Status::Error(e) => {
                assert_eq!(
                    p.parse(&mut buf, limits),
                    Status::Error(e),
                    "error not sticky"
                );
                return (cmds, Some(e));
            }
        }
    }
    panic!("parser did not finish within {} calls", buf.len() + 2);
}

/// Parses `stream` fed in pieces of the given sizes (cycled).
fn parse_split(
    stream: &[u8],
    sizes: &[u8],
    compact: u8,
    ahead: bool,
    limits: &ParseLimits,
) -> (Commands, Option<ProtocolError>) {
    let mut buf: Vec<u8> = Vec::new();
    let mut p = Parser::new();
    let mut cmds = Vec::new();
    let mut fed = 0;
    let mut piece = 0usize;
    while fed < stream.len() {
        let size = sizes[piece % sizes.len()];
        if size == 0 {
            // A wake-up with nothing new must change nothing.
            match p.parse(&mut buf, limits) {
                Status::Complete => take_command(&mut p, &buf, &mut cmds),
                Status::Incomplete => {}
                Status::Error(e) => return (cmds, Some(e)),
            }
        }
        let n = usize::from(size).max(1).min(stream.len() - fed);
        buf.extend_from_slice(&stream[fed..fed + n]);
        fed += n;
        let mut turns = 0usize;
        loop {
            turns += 1;
            assert!(turns <= buf.len() + 2, "parser spins on one piece");
            if ahead && p.idle_at().is_some() && !p.ahead_pending() {
                let n = p.parse_ahead(&buf, limits, 1, |_, spans| {
                    assert!(!spans.is_empty(), "a command without arguments");
                });
                assert!(n <= 1, "lookahead count");
            }
            match p.parse(&mut buf, limits) {
                Status::Complete => {
                    if ahead && !p.ahead_pending() {
                        let mut seen = 0usize;
                        let n = p.parse_ahead(&buf, limits, 16, |_, spans| {
                            assert!(!spans.is_empty(), "a command without arguments");
                            seen += 1;
                        });
                        assert!(seen == n && n <= 16, "lookahead count");
                    }
                    take_command(&mut p, &buf, &mut cmds)
                }
                Status::Incomplete => break,
                Status::Error(e) => {
                    assert_eq!(
                        p.parse(&mut buf, limits),
                        Status::Error(e),
                        "error not sticky"
                    );
                    return (cmds, Some(e));
                }
            }
        }
        let _ = p.bytes_wanted();
        let do_compact = match compact {
            1 => true,
            2 => piece % 2 == 1,
            _ => false,
        };
        if do_compact {
            let c = p.consumed();
            assert!(c <= buf.len(), "consumed past the buffer");
            buf.drain(..c);
            p.rebase(c);
        }
        piece += 1;
    }
    (cmds, None)
}

fn is_too_big(e: ProtocolError) -> bool {
    matches!(
        e,
        ProtocolError::TooBigMultibulkCount
            | ProtocolError::TooBigBulkCount
            | ProtocolError::TooBigInline
    )
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let n_sizes = usize::from(flags & 0x0f) + 1;
    if rest.len() < n_sizes {
        return;
    }
    let (sizes, stream) = rest.split_at(n_sizes);
    let compact = if flags & 0x10 != 0 {
        1
    } else if flags & 0x20 != 0 {
        2
    } else {
        0
    };
    let limits = ParseLimits::default();
    let (whole, whole_end) = parse_whole(stream, &limits);
    let ahead = flags & 0x40 != 0;
    let (split, split_end) = parse_split(stream, sizes, compact, ahead, &limits);
    if split == whole && split_end == whole_end {
        return;
    }
    // The only allowed difference: the split run hit a 64 KiB limit earlier.
    match split_end {
        Some(e) if is_too_big(e) && whole.starts_with(&split) => {}
        _ => panic!(
            "split parse differs: whole {} commands, end {:?}; split {} commands, end {:?}",
            whole.len(),
            whole_end,
            split.len(),
            split_end
        ),
    }
});
