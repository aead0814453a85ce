//! `aof_loader`: feeds any bytes to the append-only-file readers: `persist::aof::parse_aof`
//! (the command reader), `persist::aof::check_bytes` (the valid-prefix check the loader and
//! `--check-aof` use) and `persist::aof::Manifest::parse` (the multi-part AOF manifest). Each
//! must return an error or a value, never panic or hang. On success it also checks that they
//! agree: `check_bytes` counts the commands `parse_aof` read within the bytes, re-encoding the
//! commands with `aof::encode` parses back to the same commands, and a parsed manifest
//! rendered with `Manifest::render` parses back to the same manifest (except for file names
//! with bytes `render` writes as `\xHH`, and rendered lines over the line limit: known
//! findings, see docs/ROBUSTNESS.md).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringkv::persist::aof::{check_bytes, encode, parse_aof, Manifest};

/// A byte `Manifest::render` writes as a `\xHH` escape in a quoted file name.
fn needs_hex_escape(name: &str) -> bool {
    name.bytes()
        .any(|b| !matches!(b, 0x20..=0x7e | b'\n' | b'\r' | b'\t'))
}

fuzz_target!(|data: &[u8]| {
    let check = check_bytes(data);
    assert!(check.valid_len <= data.len(), "valid prefix past the end");
    if let Ok(cmds) = parse_aof(data) {
        assert!(
            cmds.iter().all(|c| !c.is_empty()),
            "a command without arguments"
        );
        assert_eq!(
            check.commands,
            cmds.len(),
            "check_bytes and parse_aof disagree"
        );
        let mut again = Vec::new();
        for c in &cmds {
            let args: Vec<&[u8]> = c.iter().map(Vec::as_slice).collect();
            encode(&mut again, &args);
        }
        assert_eq!(
            parse_aof(&again).ok().as_ref(),
            Some(&cmds),
            "re-encoded commands parse differently"
        );
    }
    // The prefix that check_bytes calls valid must itself parse.
    assert!(
        parse_aof(&data[..check.valid_len]).is_ok(),
        "the valid prefix does not parse"
    );

    let text = String::from_utf8_lossy(data);
    if let Ok(m) = Manifest::parse(&text) {
        if m.base
            .iter()
            .chain(&m.history)
            .chain(&m.incrs)
            .any(|f| needs_hex_escape(&f.name))
        {
            // Known finding (fuzz/regressions/aof_loader/manifest-name-hex-escape): `render`
            // writes such bytes as \xHH, which `parse` reads back as 'x' and two characters.
            // Skipped so that the run goes on to find other failures.
            return;
        }
        let rendered = m.render();
        match Manifest::parse(&rendered) {
            Ok(m2) => assert_eq!(m2, m, "manifest render/parse round trip differs"),
            // Known finding (fuzz/regressions/aof_loader/manifest-rendered-line-too-long):
            // escaping can make a line that was read within the line limit longer than it.
            Err(e) if e.contains("line too long") => {}
            Err(e) => panic!("a rendered manifest does not parse: {e}\n{rendered}"),
        }
    }
});
