#![no_main]
//! A report as JSON (the domain input), then validation against the default taxonomy. The
//! other API bodies, and the report body of the API itself, are in `api_body`.
use libfuzzer_sys::fuzz_target;
use vigie_domain::early_warning::report::{ReportInput, ReportPolicy};
use vigie_domain::early_warning::taxonomy::Taxonomy;

fuzz_target!(|data: &[u8]| {
    if let Ok(input) = serde_json::from_slice::<ReportInput>(data) {
        let now = chrono_now();
        let _ = input.validate(now, &Taxonomy::default(), &ReportPolicy::default());
    }
});

fn chrono_now() -> chrono::DateTime<chrono::Utc> {
    "2026-11-23T08:00:00Z".parse().unwrap()
}
