#![no_main]
//! The SMS grammar on arbitrary text: never panics, always returns a command and a reply that fits.
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;
use vigie_domain::area::{AreaCode, AreaPath};
use vigie_domain::early_warning::places::{Gazetteer, PlaceEntry, DEFAULT_ALIASES};
use vigie_domain::early_warning::taxonomy::Taxonomy;

// Built once, as the server does (once per import of areas), not once per message.
static TAXONOMY: LazyLock<Taxonomy> = LazyLock::new(Taxonomy::default);
static PLACES: LazyLock<Gazetteer> = LazyLock::new(|| {
    Gazetteer::new(
        [("ML-5-KORO", "ML/ML-5/ML-5-KORO", "Koro"), ("ML-1-NIORO-DU-SAHEL", "ML/ML-1/ML-1-NIORO-DU-SAHEL", "Nioro du Sahel"), ("ML-BKO-C5", "ML/ML-BKO/ML-BKO-C5", "Commune V")]
            .iter()
            .map(|(c, p, n)| PlaceEntry { area: AreaCode::parse(c).unwrap(), path: AreaPath(p.to_string()), name: n.to_string() })
            .collect(),
        DEFAULT_ALIASES,
    )
});

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let cmd = vigie_domain::sms::parse(text, &TAXONOMY, &PLACES);
    let _ = serde_json::to_string(&cmd);
    let _ = vigie_domain::sms::SmsSize::of(text);
});
