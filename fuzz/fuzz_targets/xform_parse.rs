#![no_main]
//! XForm parsing on arbitrary bytes: errors, never panics, no entity expansion, bounded memory.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = vigie_domain::openrosa::xform::XForm::parse(data);
});
