#![no_main]
//! Results-framework and budget imports on arbitrary CSV bytes.
use libfuzzer_sys::fuzz_target;
use vigie_domain::budget::money::Currency;
use vigie_domain::budget::table::{parse_budget, RowSumPolicy};
use vigie_domain::framework::import::import_framework;
use vigie_domain::framework::ProgrammePeriod;

fuzz_target!(|data: &[u8]| {
    // The first half as the results file, the rest as the indicators file.
    let (a, b) = data.split_at(data.len() / 2);
    let _ = import_framework(a, b, ProgrammePeriod::new(2021, 2025).unwrap());
    let _ = parse_budget(data, Currency::USD, RowSumPolicy::Error);
});
