#![no_main]
//! `vigie import budget` on arbitrary bytes (CSV or XLSX), both row-sum policies.
use libfuzzer_sys::fuzz_target;
use vigie_domain::budget::money::Currency;
use vigie_domain::budget::table::{parse_budget, RowSumPolicy};
use vigie_domain::import::xlsx;

fuzz_target!(|data: &[u8]| {
    // As results_import::budget: the "budget" sheet, else the first one.
    let Ok(csv) = xlsx::as_csv(data, Some("budget")).or_else(|_| xlsx::as_csv(data, None)) else {
        return;
    };
    let _ = parse_budget(&csv, Currency::XOF, RowSumPolicy::Error);
    let _ = parse_budget(&csv, Currency::USD, RowSumPolicy::Warn);
});
