//! `vigie reports list|show` and `vigie alerts list|show|ack`, as an administrator uses them
//! on the server, on SQLite and PostgreSQL.

use crate::support;

use serde_json::Value;
use std::process::{Command, Output};
use support::{fresh_db, Backend};
use vigie_domain::early_warning::alert::AlertCommand;
use vigie_domain::early_warning::report::{Channel, LocationInput, ReportInput, ReporterKind};
use vigie_storage::audit::Actor;
use vigie_storage::reports::Sender;

const BIN: &str = env!("CARGO_BIN_EXE_vigie");

fn key_file(db: &str) -> String {
    let dir = std::env::temp_dir().join("vigie-test-keys");
    std::fs::create_dir_all(&dir).unwrap();
    let name: String = db.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    dir.join(format!("ew-{}.key", &name[name.len().saturating_sub(80)..])).display().to_string()
}

fn vigie_in(lang: &str, db: &str, args: &[&str]) -> Output {
    Command::new(BIN).arg("--db").arg(db).args(args).env("LANG", lang).env("VIGIE_KEY_FILE", key_file(db)).output().expect("run vigie")
}

fn vigie(db: &str, args: &[&str]) -> Output {
    vigie_in("fr_FR.UTF-8", db, args)
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}
fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

#[test]
fn early_warning_help_speaks_french_and_english() {
    let fr = Command::new(BIN).arg("--help").env("LANG", "fr_ML.UTF-8").output().unwrap();
    assert!(out(&fr).contains("Consulte les signalements (alerte précoce)"), "{}", out(&fr));
    assert!(out(&fr).contains("Consulte les alertes et accuse réception"));
    let en = Command::new(BIN).args(["alerts", "ack", "--help", "--lang", "en"]).env("LANG", "fr_ML.UTF-8").output().unwrap();
    assert!(out(&en).contains("Account the acknowledgement is recorded for"), "{}", out(&en));
    let en = Command::new(BIN).args(["reports", "list", "--help"]).env("LANG", "en_GB.UTF-8").output().unwrap();
    assert!(out(&en).contains("Include reports of protected categories"), "{}", out(&en));
    let fr = Command::new(BIN).args(["reports", "show", "--help"]).env("LANG", "fr_FR.UTF-8").output().unwrap();
    assert!(out(&fr).contains("Affiche un signalement, ses échanges et ses pièces jointes"), "{}", out(&fr));
}

both_backends!(reports_and_alerts_from_the_command_line);

fn report(cat: &str, area: &str, text: &str, key: &str) -> ReportInput {
    ReportInput {
        category: Some(cat.into()),
        text: text.into(),
        occurred_at: chrono::Utc::now() - chrono::Duration::hours(1),
        location: LocationInput { area: Some(area.into()), point: None, place_name: None },
        reporter: ReporterKind::FocalPoint,
        channel: Channel::Api,
        language: "fr".into(),
        idempotency_key: key.into(),
    }
}

async fn reports_and_alerts_from_the_command_line(b: Backend) {
    let Some(tdb) = fresh_db(b).await else { return };
    let url = tdb.url.clone();
    let csv = tdb.dir().join("areas.csv");
    std::fs::write(&csv, "code,parent,level,name\nML,,country,Mali\nML-5,ML,region,Mopti\nML-5-KORO,ML-5,cercle,Koro\nML-6,ML,region,Tombouctou\n").unwrap();
    assert!(vigie(&url, &["import", "areas", csv.to_str().unwrap()]).status.success());
    for (name, role, area) in [("gendarme", "responder", "ML-5"), ("relais", "reporter", "ML-5-KORO"), ("gendarme.tbt", "responder", "ML-6")] {
        let o = vigie(&url, &["user", "add", name, "--role", role, "--area", area]);
        assert!(o.status.success(), "{}", err(&o));
    }
    // Reports and an alert made through the storage the server uses.
    let keys = vigie_storage::crypto::Keyring::load_or_create(std::path::Path::new(&key_file(&url))).unwrap();
    let db = vigie_storage::Db::connect(&url).await.unwrap().with_keys(keys);
    let sys = Actor::system("test");
    let now = vigie_storage::now();
    let open = vigie_storage::reports::intake(&db, report("armed_attack", "ML-5-KORO", "Hommes armés   à moto\nautour du marché de Koro", "k1"), Sender::default(), &sys, now).await.unwrap();
    let abuse = vigie_storage::reports::intake(&db, report("security_forces_abuse", "ML-5-KORO", "arrestations arbitraires au poste", "k2"), Sender::default(), &sys, now).await.unwrap();
    let alert = open.alert_id.unwrap();
    for cmd in [AlertCommand::Verify, AlertCommand::Raise] {
        vigie_storage::alerts::command(&db, alert, cmd, &sys, vigie_storage::now()).await.unwrap();
    }
    db.close().await;

    // The list leaves protected reports out unless asked, and says so in the count.
    let o = vigie(&url, &["reports", "list"]);
    assert!(o.status.success(), "{}", err(&o));
    let text = out(&o);
    assert!(text.contains(&open.reference) && text.contains("Hommes armés à moto autour du marché de Koro"), "{text}");
    assert!(!text.contains(&abuse.reference), "{text}");
    assert!(text.contains("1 affiché(s) sur 1."), "{text}");
    let o = vigie(&url, &["reports", "list", "--protected", "--json"]);
    let v: Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(v["total"], 2, "{v}");
    assert!(v["items"].as_array().unwrap().iter().any(|r| r["protected"] == true));
    let v: Value = serde_json::from_str(&out(&vigie(&url, &["reports", "list", "--json", "--area", "ML-6"]))).unwrap();
    assert_eq!(v["total"], 0);
    let o = vigie(&url, &["reports", "list", "--area", "ML-99"]);
    assert!(!o.status.success());

    // One report: refused for a protected one without the flag; the reading is audited.
    let o = vigie(&url, &["reports", "show", &abuse.report_id.to_string()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("ajoutez --protected"), "{}", err(&o));
    let o = vigie(&url, &["reports", "show", &abuse.report_id.to_string(), "--protected"]);
    assert!(o.status.success() && out(&o).contains("arrestations arbitraires au poste"), "{}", out(&o));
    let o = vigie_in("en_GB.UTF-8", &url, &["reports", "show", &open.report_id.to_string()]);
    assert!(out(&o).contains("Category:") && out(&o).contains("armed_attack") && out(&o).contains(&format!("Event:                 {alert}")), "{}", out(&o));
    let o = vigie(&url, &["reports", "show", "999999"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("Signalement 999999 introuvable."));

    // Alerts: the raised one needs attention (no escalation rule covers it).
    let o = vigie(&url, &["alerts", "list", "--attention"]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).lines().any(|l| l.starts_with(&format!("{alert}\talerted\t"))), "{}", out(&o));
    let o = vigie(&url, &["alerts", "show", &alert.to_string()]);
    assert!(out(&o).contains("alertée") && out(&o).contains("OUI — une personne doit intervenir"), "{}", out(&o));

    // Acknowledging needs alerts.respond over the alert's area, and a legal step.
    let o = vigie(&url, &["alerts", "ack", &alert.to_string(), "--by", "relais"]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    let o = vigie(&url, &["alerts", "ack", &alert.to_string(), "--by", "gendarme.tbt"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("Cette donnée est hors de votre zone de compétence."), "{}", err(&o));
    let o = vigie(&url, &["alerts", "ack", &alert.to_string(), "--by", "gendarme", "--level", "0"]);
    assert!(o.status.success(), "{} {}", out(&o), err(&o));
    assert!(out(&o).contains(&format!("Alerte {alert} : réception accusée par gendarme.")), "{}", out(&o));
    let o = vigie(&url, &["alerts", "ack", &alert.to_string(), "--by", "gendarme"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("Impossible de passer de « réception confirmée »"), "{}", err(&o));

    let db = vigie_storage::Db::connect(&url).await.unwrap();
    let a = vigie_storage::alerts::get(&db, alert).await.unwrap();
    assert_eq!(a.state, "acknowledged");
    assert_eq!(a.lifecycle.acknowledged_by_level, Some(0));
    let log = vigie_storage::audit::list(&db, &Default::default(), 1, 500).await.unwrap();
    let entries: Vec<(String, String)> = log.items.iter().map(|e| (e.action.clone(), e.actor.clone())).collect();
    assert!(entries.contains(&("alert.acknowledged".into(), "gendarme (cli)".into())), "{entries:?}");
    assert!(entries.iter().any(|(a, _)| a == "report.read_protected"), "{entries:?}");
    let v = vigie_storage::audit::verify(&db).await.unwrap();
    assert!(v.broken.is_none());
}
