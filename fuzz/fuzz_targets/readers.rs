//! Fuzzes the file readers: the safetensors header parser and the GGUF header reader must return
//! `Ok` or `Err` on any bytes, never panic or allocate without bound.
//! Run: cargo install cargo-fuzz && cargo +nightly fuzz run readers (not run in CI).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = wgquant::io::safetensors::parse_bytes(data);
    let _ = wgquant::io::gguf::parse_header(&mut &data[..], data.len() as u64, "<fuzz>");
});
