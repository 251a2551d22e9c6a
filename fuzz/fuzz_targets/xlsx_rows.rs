#![no_main]
//! The XLSX reader (a zip of XML from anyone's spreadsheet) on arbitrary bytes: errors, never
//! panics, bounded memory.
use libfuzzer_sys::fuzz_target;
use vigie_domain::import::xlsx;

fuzz_target!(|data: &[u8]| {
    let _ = xlsx::sheet_names(data);
    let _ = xlsx::sheet_to_csv(data, None);
    let _ = xlsx::sheet_to_csv(data, Some("budget"));
    let _ = xlsx::first_sheet_rows(data);
});
