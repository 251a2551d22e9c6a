//! `vigie serve --demo`: Mali's régions and the PROSMED target cercles (data/demo, see its README
//! for sources), a few institutions, one account per built-in role, escalation rules for Mopti and
//! Gao, and a handful of reports and alerts in different states (made through the same storage
//! functions as the API, by the demo accounts, with fixed idempotency keys). Loading twice
//! changes nothing. The responders' phone numbers are fictitious.

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use vigie_domain::early_warning::alert::{AlertCommand, Outcome, ResponseAction};
use vigie_domain::early_warning::report::{Channel, LocationInput, ReportInput, ReporterKind};
use vigie_storage::alerts::LevelSpec;
use vigie_storage::reports::Sender;
use vigie_domain::area::{AreaCode, Geometry};
use vigie_domain::import::areas::{self as area_import, Format};
use vigie_domain::Lang;
use vigie_storage::audit::Actor;
use vigie_storage::{Db, StoreError};

const AREAS_CSV: &str = include_str!("../../../data/demo/areas.csv");
const REGIONS_GEOJSON: &str = include_str!("../../../data/demo/regions.geojson");
pub const DEMO_PASSWORD: &str = "demo-vigie-2026";

/// One account per built-in role: (username, display name, role, area).
const ACCOUNTS: &[(&str, &str, &str, &str)] = &[
    ("admin", "Administratrice nationale", "admin", "ML"),
    ("analyste.mopti", "Analyste alerte précoce — Mopti", "analyst", "ML-5"),
    ("analyste.gao", "Analyste alerte précoce — Gao", "analyst", "ML-7"),
    ("gendarmerie.mopti", "Gendarmerie — Compagnie de Mopti", "responder", "ML-5"),
    ("cndh", "Commission nationale des droits de l'homme", "case_handler", "ML"),
    ("suivi", "Chargée de suivi-évaluation PROSMED", "me_officer", "ML"),
    ("lecteur", "Partenaire (lecture seule)", "viewer", "ML"),
    ("relais.koro", "Point focal communautaire — Koro", "reporter", "ML-5-KORO"),
];

const ORGS: &[(&str, &str, &str)] = &[
    ("Gendarmerie nationale — Compagnie de Mopti", "gendarmerie", "ML-5-MOPTI"),
    ("Commissariat de police de Mopti", "police", "ML-5-MOPTI"),
    ("Préfecture de Koro", "prefecture", "ML-5-KORO"),
    ("Comité local de sécurité de Koro", "security_committee", "ML-5-KORO"),
    ("Commission nationale des droits de l'homme (CNDH)", "cndh", "ML-BKO"),
    ("Inspection des services de sécurité et de protection civile", "inspection", "ML-BKO"),
    ("PNUD Mali", "un_agency", "ML-BKO"),
    ("ONU Femmes Mali", "un_agency", "ML-BKO"),
];

/// Loads the demo data; returns the (username, password) to print.
pub async fn load(db: &Db) -> anyhow::Result<(String, String)> {
    let mut rows = area_import::parse(Format::Csv, AREAS_CSV.as_bytes()).map_err(|e| anyhow::anyhow!("demo areas: {e:?}"))?;
    let regions: serde_json::Value = serde_json::from_str(REGIONS_GEOJSON).context("demo regions.geojson")?;
    for f in regions["features"].as_array().into_iter().flatten() {
        let code = f["properties"]["code"].as_str().unwrap_or_default();
        if let Some(row) = rows.iter_mut().find(|r| r.area.code.as_str() == code) {
            row.area.geometry = Some(Geometry::parse(f["geometry"].clone()).map_err(|m| anyhow::anyhow!("{code}: {}", m.text(Lang::En)))?);
        }
    }
    let actor = Actor::system("demo");
    vigie_storage::areas::import(db, &rows, &actor).await.map_err(|e| match e {
        StoreError::Lines(lines) => anyhow::anyhow!(
            "demo areas: {}",
            lines.iter().map(|l| format!("line {} [{}]: {}", l.line, l.field, l.msg.text(Lang::En))).collect::<Vec<_>>().join("; ")
        ),
        e => e.into(),
    })?;

    let existing = vigie_storage::orgs::list(db, &vigie_storage::areas::root_paths(db).await?, None, 1, 500).await?;
    for (name, kind, area) in ORGS {
        if !existing.items.iter().any(|o| o.name == *name) {
            vigie_storage::orgs::create(db, name, kind, &AreaCode::parse(area).unwrap(), &actor).await?;
        }
    }
    for (username, display, role, area) in ACCOUNTS {
        match vigie_storage::users::id_by_username(db, username).await {
            Ok(_) => continue,
            Err(StoreError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
        vigie_storage::users::create(
            db,
            vigie_storage::users::NewUser {
                username,
                display_name: display,
                password: Some(DEMO_PASSWORD),
                org_id: None,
                locale: Lang::Fr,
                grants: vec![(role.to_string(), AreaCode::parse(area).unwrap())],
            },
            &actor,
        )
        .await?;
    }
    early_warning(db, vigie_storage::now()).await?;
    crate::demo_governance::load(db, vigie_storage::now().date_naive()).await?;
    crate::demo_cases::load(db, DEMO_PASSWORD, vigie_storage::now()).await?;
    crate::demo_results::load(db).await?;
    Ok(("admin".into(), DEMO_PASSWORD.into()))
}

/// Escalation rules: (region, [(responder, phone, minutes to acknowledge)]), for alerts of
/// severity "high" or more, any category.
const RULES: &[(&str, &[(&str, Option<&str>, i64)])] = &[
    ("ML-5", &[
        ("Brigade territoriale de gendarmerie", Some("70 00 00 01"), 30),
        ("Préfet du cercle", None, 30),
        ("Compagnie de gendarmerie de Mopti (permanence)", Some("70 00 00 02"), 60),
    ]),
    ("ML-7", &[
        ("Brigade de gendarmerie d'Ansongo", Some("70 00 00 11"), 30),
        ("Préfet d'Ansongo", None, 30),
        ("Poste de commandement régional de Gao", Some("70 00 00 12"), 60),
    ]),
];

/// One step of a demo scenario, `minutes` after the report was received, by a demo account.
enum Step {
    /// Report verification: status and Admiralty grade.
    Verify(&'static str, &'static str),
    Command(AlertCommand),
}

struct Scenario {
    key: &'static str,
    by: &'static str,
    category: &'static str,
    area: &'static str,
    text: &'static str,
    /// When the report was received, in minutes before the demo is loaded.
    received_ago: i64,
    steps: Vec<(i64, &'static str, Step)>,
}

fn scenarios() -> Vec<Scenario> {
    use AlertCommand::{Acknowledge, Close, MarkFalseAlarm, Raise, Respond};
    use Step::{Command, Verify};
    let day = 24 * 60;
    vec![
        Scenario {
            key: "demo-ew-mopti-1", by: "analyste.mopti", category: "armed_attack", area: "ML-5-MOPTI",
            text: "Des hommes armés ont attaqué le campement de pêcheurs de Kakagnan à l'aube ; trois blessés, des pirogues brûlées.",
            received_ago: 10 * day,
            steps: vec![
                (15, "analyste.mopti", Verify("verified", "B2")),
                (20, "analyste.mopti", Command(Raise)),
                (45, "gendarmerie.mopti", Command(Acknowledge { level: Some(0) })),
                (120, "gendarmerie.mopti", Command(Respond { actions: vec![ResponseAction::PatrolDeployed] })),
                (2 * day, "gendarmerie.mopti", Command(Close { outcome: Outcome::ViolenceNotPrevented })),
            ],
        },
        Scenario {
            key: "demo-ew-koro-1", by: "relais.koro", category: "armed_attack", area: "ML-5-KORO",
            text: "Des hommes armés à moto tournent autour du marché hebdomadaire de Dinangourou et menacent les commerçants.",
            received_ago: 6 * day,
            steps: vec![
                (20, "analyste.mopti", Verify("verified", "B2")),
                (25, "analyste.mopti", Command(Raise)),
                (40, "gendarmerie.mopti", Command(Acknowledge { level: Some(0) })),
                (90, "gendarmerie.mopti", Command(Respond { actions: vec![ResponseAction::PatrolDeployed, ResponseAction::Mediation] })),
                (day, "gendarmerie.mopti", Command(Close { outcome: Outcome::ViolencePrevented })),
            ],
        },
        Scenario {
            key: "demo-ew-bankass-1", by: "analyste.mopti", category: "intercommunal_conflict", area: "ML-5-BANKASS",
            text: "Dispute entre éleveurs et agriculteurs autour d'un champ piétiné près de Ségué ; des jeunes se rassemblent avec des bâtons.",
            received_ago: 3 * day,
            steps: vec![
                (30, "analyste.mopti", Verify("verified", "C3")),
                (35, "analyste.mopti", Command(Raise)),
                // After the first level's 30 minutes: late.
                (100, "gendarmerie.mopti", Command(Acknowledge { level: Some(0) })),
                (180, "gendarmerie.mopti", Command(Respond { actions: vec![ResponseAction::Mediation] })),
            ],
        },
        Scenario {
            key: "demo-ew-djenne-1", by: "analyste.mopti", category: "threat_intimidation", area: "ML-5-DJENNE",
            text: "Des tracts menaçant les élus communaux ont été déposés devant la mairie de Djenné cette nuit.",
            received_ago: 90,
            steps: vec![],
        },
        Scenario {
            key: "demo-ew-gao-1", by: "analyste.gao", category: "rumour_hate_speech", area: "ML-7-GAO",
            text: "Un message vocal circule sur WhatsApp annonçant une attaque imminente contre le grand marché de Gao.",
            received_ago: 4 * day,
            steps: vec![
                (60, "analyste.gao", Verify("false", "C5")),
                (65, "analyste.gao", Command(MarkFalseAlarm)),
            ],
        },
        Scenario {
            key: "demo-ew-ansongo-1", by: "analyste.gao", category: "abduction", area: "ML-7-ANSONGO",
            text: "Deux commerçants enlevés sur la route Ansongo–Ménaka par des individus armés.",
            received_ago: 150,
            // Critical: raised before verification; nobody acknowledges, so it escalates.
            steps: vec![(10, "analyste.gao", Command(Raise))],
        },
    ]
}

async fn actor_of(db: &Db, username: &str) -> anyhow::Result<Actor> {
    let id = vigie_storage::users::id_by_username(db, username).await?;
    Ok(Actor::user(id, username))
}

/// Demo escalation rules, reports and alerts. A scenario whose report exists already is left as it is.
async fn early_warning(db: &Db, now: DateTime<Utc>) -> anyhow::Result<()> {
    let existing = vigie_storage::alerts::list_rules(db).await?;
    let admin = actor_of(db, "admin").await?;
    for (area, levels) in RULES {
        if existing.iter().any(|(r, _)| r.area_code == *area && r.category_code.is_none()) {
            continue;
        }
        let levels = levels.iter().map(|(name, phone, minutes)| LevelSpec { name: name.to_string(), phone: phone.map(str::to_string), ack_minutes: *minutes }).collect();
        vigie_storage::alerts::create_rule(db, None, 3, &AreaCode::parse(area).unwrap(), levels, false, &admin).await?;
    }
    for sc in scenarios() {
        let received = now - Duration::minutes(sc.received_ago);
        let by = actor_of(db, sc.by).await?;
        let input = ReportInput {
            category: Some(sc.category.into()),
            text: sc.text.into(),
            occurred_at: received - Duration::minutes(30),
            location: LocationInput { area: Some(sc.area.into()), point: None, place_name: None },
            reporter: ReporterKind::FocalPoint,
            channel: Channel::Web,
            language: "fr".into(),
            idempotency_key: sc.key.into(),
        };
        let out = vigie_storage::reports::intake(db, input, Sender { user_id: by.id, phone: None }, &by, received).await?;
        if out.duplicate_submission {
            continue;
        }
        for (minutes, who, step) in sc.steps {
            let at = received + Duration::minutes(minutes);
            let actor = actor_of(db, who).await?;
            match step {
                Step::Verify(status, grade) => {
                    vigie_storage::reports::verify(db, out.report_id, status, Some(grade), None, &actor, at).await?;
                }
                Step::Command(cmd) => {
                    let alert = out.alert_id.context("demo report without an event")?;
                    vigie_storage::alerts::command(db, alert, cmd, &actor, at).await?;
                }
            }
        }
    }
    // Escalations already due (the unanswered Gao alert) are carried out now, so that starting
    // the demo again finds nothing to do.
    vigie_storage::alerts::escalate_due(db, now).await?;
    Ok(())
}
