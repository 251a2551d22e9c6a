//! The entry point of the `api_body` fuzz target (`fuzz/fuzz_targets/api_body.rs`): every JSON
//! request body of the API, decoded as [`ApiJson`](crate::error::ApiJson) decodes it, its
//! refusal rendered as a problem in both languages, then the checks its handler makes before
//! the database where they exist as functions of their own (the rest of each handler's checks
//! run in `vigie_storage`, against the database). Not used by the server itself.

use crate::api::{alerts, cases, categories, directory, events, governance, orgs, public, reports, results, roles, session, users, webhooks};
use crate::error::{decode_json, render, ApiError};
use vigie_domain::early_warning::report::{Channel, ReportPolicy};
use vigie_domain::early_warning::taxonomy::Taxonomy;
use vigie_domain::Lang;

/// How many body types [`api_body`] knows; the first byte of its input picks one (modulo this).
pub const BODIES: u8 = 50;

/// Decodes `data` as a `T` and hands it to `then`, or renders the refusal; true if it decoded.
fn decoded<T: serde::de::DeserializeOwned>(data: &[u8], then: impl FnOnce(T)) -> bool {
    match decode_json::<T>(data) {
        Ok(v) => {
            then(v);
            true
        }
        Err(e) => {
            refused(e);
            false
        }
    }
}

fn refused(e: ApiError) {
    for lang in [Lang::Fr, Lang::En] {
        let _ = render(&e, lang);
    }
}

fn check<T>(r: Result<T, ApiError>) {
    if let Err(e) = r {
        refused(e);
    }
}

/// One request body: `data[0]` picks the type (see the match), the rest is the body. True if
/// the body decoded (then its checks ran).
pub fn api_body(data: &[u8]) -> bool {
    let Some((&kind, body)) = data.split_first() else { return false };
    let now: chrono::DateTime<chrono::Utc> = "2026-11-23T08:00:00Z".parse().unwrap();
    let today = now.date_naive();
    match kind % BODIES {
        0 => decoded(body, |b: reports::NewReport| {
            check(b.area());
            check(b.into_input(Channel::Api, None).map(|input| {
                let _ = input.validate(now, &Taxonomy::default(), &ReportPolicy::default());
            }));
        }),
        1 => decoded::<reports::VerificationBody>(body, drop),
        2 => decoded::<reports::Question>(body, drop),
        3 => decoded::<cases::NewCaseBody>(body, drop),
        4 => decoded::<cases::MoveBody>(body, drop),
        5 => decoded::<cases::HandlerBody>(body, drop),
        6 => decoded::<cases::ExclusionBody>(body, drop),
        7 => decoded::<cases::QuestionBody>(body, drop),
        8 => decoded::<cases::PublishBody>(body, drop),
        9 => decoded::<cases::ReferBody>(body, drop),
        10 => decoded::<cases::FromReportBody>(body, drop),
        11 => decoded::<events::MergeBody>(body, drop),
        12 => decoded::<events::SplitBody>(body, drop),
        13 => decoded(body, |c: vigie_domain::early_warning::alert::AlertCommand| {
            let _ = alerts::command_permission(&c);
        }),
        14 => decoded::<alerts::RuleBody>(body, drop),
        15 => decoded::<alerts::AutoRaiseBody>(body, drop),
        16 => decoded(body, |b: webhooks::WebhookBody| check(b.check())),
        17 => decoded::<crate::api::areas::AreaBody>(body, drop),
        18 => decoded::<users::NewUserBody>(body, drop),
        19 => decoded::<users::UserPatch>(body, drop),
        20 => decoded::<users::GrantBody>(body, drop),
        21 => decoded::<users::TokenBody>(body, drop),
        22 => decoded(body, |b: categories::CategoryView| check(categories::category_of("violence", b))),
        23 => decoded::<vigie_storage::results::NewProgramme>(body, drop),
        24 => decoded::<vigie_domain::budget::table::CostRules>(body, drop),
        25 => decoded::<results::IndicatorBody>(body, drop),
        26 => decoded::<Vec<vigie_storage::results::ActualInput>>(body, drop),
        27 => decoded(body, |b: results::ReviewBody| check(results::review_of(b, today))),
        28 => decoded::<vigie_storage::returns::NewDataset>(body, drop),
        29 => decoded::<results::ReturnBody>(body, drop),
        30 => decoded(body, |b: directory::EntryBody| {
            check(vigie_domain::governance::directory::EntryText::from(b).parse(today).map_err(governance::invalid))
        }),
        31 => decoded::<directory::ConsentBody>(body, drop),
        32 => decoded::<directory::PublicationBody>(body, drop),
        33 => decoded::<directory::WithdrawalBody>(body, drop),
        34 => decoded::<public::Denunciation>(body, drop),
        35 => decoded::<public::ReceiptBody>(body, drop),
        36 => decoded::<public::AnswerBody>(body, drop),
        37 => decoded::<public::EvidenceBody>(body, drop),
        38 => decoded::<governance::NewCommittee>(body, drop),
        39 => decoded::<governance::MembersBody>(body, drop),
        40 => decoded(body, |b: governance::MeetingBody| check(b.parse().map_err(governance::invalid))),
        41 => decoded::<governance::FollowUpBody>(body, drop),
        42 => decoded::<governance::PlanBody>(body, drop),
        43 => decoded::<governance::StatusBody>(body, drop),
        44 => decoded::<session::LoginBody>(body, drop),
        45 => decoded::<session::TotpEnable>(body, drop),
        46 => decoded::<session::TotpDisable>(body, drop),
        47 => decoded::<roles::RoleBody>(body, drop),
        48 => decoded::<roles::RoleUpdate>(body, drop),
        _ => decoded::<orgs::OrgBody>(body, drop),
    }
}

#[cfg(test)]
mod tests {
    /// The seeds of the fuzz corpus (the bodies of `tests/authz_matrix.rs`) all decode, so the
    /// checks after decoding run, and there is one for every body type.
    #[test]
    fn the_fuzz_corpus_decodes() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/corpus/api_body");
        let mut kinds = std::collections::BTreeSet::new();
        for e in std::fs::read_dir(dir).unwrap() {
            let path = e.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            kinds.insert(data[0] % super::BODIES);
            assert!(super::api_body(&data), "{} does not decode", path.display());
        }
        assert_eq!(kinds.len(), super::BODIES as usize, "a seed per body type");
    }
}
