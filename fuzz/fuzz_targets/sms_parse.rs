#![no_main]
//! The SMS grammar on arbitrary text: never panics, always returns a command and a reply that fits.
use libfuzzer_sys::fuzz_target;
use vigie_domain::area::{AreaCode, AreaPath};
use vigie_domain::early_warning::places::{Gazetteer, PlaceEntry, DEFAULT_ALIASES};
use vigie_domain::early_warning::taxonomy::Taxonomy;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let taxonomy = Taxonomy::default();
    let places = Gazetteer::new(
        [("ML-5-KORO", "ML/ML-5/ML-5-KORO", "Koro"), ("ML-1-NIORO-DU-SAHEL", "ML/ML-1/ML-1-NIORO-DU-SAHEL", "Nioro du Sahel"), ("ML-BKO-C5", "ML/ML-BKO/ML-BKO-C5", "Commune V")]
            .iter()
            .map(|(c, p, n)| PlaceEntry { area: AreaCode::parse(c).unwrap(), path: AreaPath(p.to_string()), name: n.to_string() })
            .collect(),
        DEFAULT_ALIASES,
    );
    let cmd = vigie_domain::sms::parse(text, &taxonomy, &places);
    let _ = serde_json::to_string(&cmd);
    let _ = vigie_domain::sms::SmsSize::of(text);
});
