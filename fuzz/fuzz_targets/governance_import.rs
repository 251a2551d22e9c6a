#![no_main]
//! `vigie import committees|directory` on arbitrary bytes: the CSV reader or the XLSX one, then
//! both row parsers.
use libfuzzer_sys::fuzz_target;
use vigie_domain::governance::import::{parse_committees, parse_directory};
use vigie_domain::import::{csv_rows, xlsx};

fuzz_target!(|data: &[u8]| {
    let rows = if xlsx::is_xlsx(data) {
        xlsx::first_sheet_rows(data).ok()
    } else {
        csv_rows(data).ok()
    };
    let Some(rows) = rows else { return };
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let _ = parse_committees(&rows, today);
    let _ = parse_directory(&rows, today);
});
