//! `function_restore`: feeds any bytes to FUNCTION RESTORE's payload reader
//! (`persist::rdb::parse_function_payload`, checksum check off so that corrupted bodies are
//! read) and creates the libraries it yields in a function engine, as the command does. Both
//! must answer Ok or Redis's error, never panic, hang or allocate from an untrusted length;
//! the libraries created must dump to a payload that reads back as the same codes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringkv::persist::rdb::{function_payload, parse_function_payload};
use ringkv::script::functions::Functions;

fuzz_target!(|data: &[u8]| {
    let Ok(codes) = parse_function_payload(data, false) else {
        return;
    };
    let mut functions = Functions::new(Default::default());
    let Ok(libs) = functions.create_all(codes.iter().map(Vec::as_slice), false) else {
        return;
    };
    functions.replace_all(libs);
    functions.check_invariants();
    let dumped: Vec<Vec<u8>> = functions.codes().map(<[u8]>::to_vec).collect();
    let payload = function_payload(dumped.iter().map(Vec::as_slice), true);
    let again = parse_function_payload(&payload, true).expect("our own payload reads back");
    assert_eq!(again, dumped);
});
