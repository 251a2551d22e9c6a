#![no_main]
//! Submission parsing against the shipped incident form, then mapping and export.
use libfuzzer_sys::fuzz_target;
use vigie_domain::openrosa::submission::{export_tables, Submission};
use vigie_domain::openrosa::xform::XForm;

static FORM: &str = include_str!("../../forms/incident_fr.xml");

static PARSED: std::sync::OnceLock<XForm> = std::sync::OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let form = PARSED.get_or_init(|| XForm::parse(FORM.as_bytes()).expect("shipped form parses"));
    let _ = Submission::identify(data);
    if let Ok(sub) = Submission::parse(data, form) {
        let _ = vigie_domain::openrosa::mapping::incident_report(form, &sub, &Default::default());
        let _ = export_tables(form, std::slice::from_ref(&sub));
    }
});
