#![no_main]
//! `vigie import risks` on arbitrary bytes (CSV or XLSX).
use libfuzzer_sys::fuzz_target;
use vigie_domain::framework::risk::parse_risks;
use vigie_domain::import::xlsx;

fuzz_target!(|data: &[u8]| {
    let Ok(csv) = xlsx::as_csv(data, Some("risks")).or_else(|_| xlsx::as_csv(data, None)) else {
        return;
    };
    let _ = parse_risks(&csv);
});
