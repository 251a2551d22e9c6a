#![no_main]
//! `vigie import expenditure` on arbitrary bytes: expenditure records or a printed variance table.
use libfuzzer_sys::fuzz_target;
use vigie_domain::budget::execution::parse_expenditures;
use vigie_domain::budget::money::Currency;
use vigie_domain::budget::variance;
use vigie_domain::framework::ProgrammePeriod;
use vigie_domain::import::xlsx;

fuzz_target!(|data: &[u8]| {
    let Ok(csv) = xlsx::as_csv(data, None) else {
        return;
    };
    // Both readers, whatever the header says, so each sees every input.
    let _ = variance::is_printed_table(&csv);
    let _ = variance::import_printed(&csv, Currency::USD);
    let _ = parse_expenditures(
        &csv,
        Currency::XOF,
        ProgrammePeriod::new(2021, 2025).unwrap(),
    );
});
