#![no_main]
//! Area import (CSV and GeoJSON) on arbitrary bytes: line-numbered errors, never panics.
use libfuzzer_sys::fuzz_target;
use vigie_domain::import::areas::{parse, Format};

fuzz_target!(|data: &[u8]| {
    let _ = parse(Format::Csv, data);
    let _ = parse(Format::GeoJson, data);
});
