//! `aof_loader`: feeds any bytes to the append-only-file readers: `persist::aof::parse_aof`
//! (the command reader), `persist::aof::check_bytes` (the valid-prefix check the loader and
//! `--check-aof` use) and `persist::aof::Manifest::parse` (the multi-part AOF manifest). Each
//! must return an error or a value, never panic or hang. On success it also checks that they
//! agree: `check_bytes` counts the commands `parse_aof` read within the bytes, re-encoding the
//! commands with `aof::encode` parses back to the same commands, and a parsed manifest
//! rendered with `Manifest::render` parses back to the same manifest. (Two round-trip bugs it
//! found, `\xHH` names and over-long rendered lines, are fixed; their inputs are in
//! fuzz/regressions/aof_loader and unit tests in src/persist/aof.rs.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringkv::persist::aof::{check_bytes, encode, parse_aof, Manifest};

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
        let rendered = m.render();
        match Manifest::parse(&rendered) {
            Ok(m2) => assert_eq!(m2, m, "manifest render/parse round trip differs"),
            Err(e) => panic!("a rendered manifest does not parse: {e}\n{rendered}"),
        }
    }
});
