#![no_main]
//! Receipt and reference codes typed by people: parse, never panic.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let _ = vigie_domain::cases::receipt::ReceiptCode::parse(s);
    let _ = vigie_domain::sms::RefCode::parse(s);
    let _ = vigie_domain::phone::Phone::parse(s);
});
