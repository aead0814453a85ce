//! The `#!lua` first line of an EVAL script and its flags, as Redis 7.0's
//! `evalExtractShebangFlags`.
//!
//! A script without a shebang runs in compatibility mode (Redis's
//! `SCRIPT_FLAG_EVAL_COMPAT_MODE`): the legacy rules, where only the commands a script calls
//! are checked. A script with `#!lua` declares what it does up front, even with no flags
//! (then it may write, and is refused when over maxmemory or when writes are failing).
//!
//! The line is split as Redis's `sdssplitargs` splits it (quotes allowed), the first word
//! must be `#!lua`, and every other word must be `flags=` followed by a comma-separated
//! list of known flag names (an empty list is no flag; an empty name is an unknown flag).

/// The script may not write (`no-writes`).
pub const NO_WRITES: u32 = 1 << 0;
/// The script may run while used memory is over maxmemory (`allow-oom`).
pub const ALLOW_OOM: u32 = 1 << 1;
/// The script may run on a stale replica (`allow-stale`).
pub const ALLOW_STALE: u32 = 1 << 2;
/// The script refuses to run in cluster mode (`no-cluster`).
pub const NO_CLUSTER: u32 = 1 << 3;
/// The script may access keys of several slots (`allow-cross-slot-keys`).
pub const ALLOW_CROSS_SLOT: u32 = 1 << 4;
/// No shebang: the legacy rules.
pub const COMPAT: u32 = 1 << 31;

/// Flag names as scripts write them, as Redis's `scripts_flags_def`.
pub(crate) const NAMES: [(&[u8], u32); 5] = [
    (b"no-writes", NO_WRITES),
    (b"allow-oom", ALLOW_OOM),
    (b"allow-stale", ALLOW_STALE),
    (b"no-cluster", NO_CLUSTER),
    (b"allow-cross-slot-keys", ALLOW_CROSS_SLOT),
];

/// The script's flags and where its code starts (the shebang line is skipped, its line feed
/// kept so that line numbers in errors are the user's), or the error Redis answers.
pub fn parse(body: &[u8]) -> Result<(u32, usize), String> {
    if !body.starts_with(b"#!") {
        return Ok((COMPAT, 0));
    }
    // Redis reads the body as a C string: a NUL ends it.
    let text = body.split(|&b| b == 0).next().unwrap_or_default();
    let Some(end) = text.iter().position(|&b| b == b'\n') else {
        return Err("ERR Invalid script shebang".into());
    };
    let mut line = text[..end].to_vec();
    let mut spans = Vec::new();
    let n = line.len();
    if !crate::resp::parse::split_inline(&mut line, 0, n, &mut spans) || spans.is_empty() {
        return Err("ERR Invalid engine in script shebang".into());
    }
    let word = |i: usize| &line[spans[i].start..spans[i].end];
    if word(0) != b"#!lua" {
        return Err(format!(
            "ERR Unexpected engine in script shebang: {}",
            String::from_utf8_lossy(word(0))
        ));
    }
    let mut flags = 0;
    for i in 1..spans.len() {
        let Some(list) = word(i).strip_prefix(b"flags=") else {
            return Err(format!(
                "ERR Unknown lua shebang option: {}",
                String::from_utf8_lossy(word(i))
            ));
        };
        if list.is_empty() {
            continue;
        }
        for name in list.split(|&b| b == b',') {
            match NAMES.iter().find(|(n, _)| *n == name) {
                Some((_, f)) => flags |= f,
                None => {
                    return Err(format!(
                        "ERR Unexpected flag in script shebang: {}",
                        String::from_utf8_lossy(name)
                    ))
                }
            }
        }
    }
    Ok((flags, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each case was checked against redis-server 7.0.15 (EVAL's reply to the script).
    #[test]
    fn shebangs_as_redis_reads_them() {
        assert_eq!(parse(b"return 1"), Ok((COMPAT, 0)));
        assert_eq!(parse(b"#!lua\nreturn 1"), Ok((0, 5)));
        assert_eq!(parse(b"#!lua flags=\nreturn 1"), Ok((0, 12)));
        assert_eq!(
            parse(b"#!lua flags=no-writes,allow-oom\nx"),
            Ok((NO_WRITES | ALLOW_OOM, 31))
        );
        assert_eq!(
            parse(b"#!lua  \"flags=no-writes\"  \nx").map(|r| r.0),
            Ok(NO_WRITES)
        );
        let err = |s: &[u8]| parse(s).unwrap_err();
        assert_eq!(err(b"#!lua"), "ERR Invalid script shebang");
        assert_eq!(err(b"#!lua\0\nx"), "ERR Invalid script shebang");
        assert_eq!(err(b"#!lua \"x\nx"), "ERR Invalid engine in script shebang");
        assert_eq!(err(b"#!\nx"), "ERR Unexpected engine in script shebang: #!");
        assert_eq!(
            err(b"#! lua\nx"),
            "ERR Unexpected engine in script shebang: #!"
        );
        assert_eq!(
            err(b"#!python\nx"),
            "ERR Unexpected engine in script shebang: #!python"
        );
        assert_eq!(
            err(b"#!lua name=x\nx"),
            "ERR Unknown lua shebang option: name=x"
        );
        assert_eq!(
            err(b"#!lua flags=no-writes,bogus\nx"),
            "ERR Unexpected flag in script shebang: bogus"
        );
        assert_eq!(
            err(b"#!lua flags=no-writes,\nx"),
            "ERR Unexpected flag in script shebang: "
        );
    }
}
