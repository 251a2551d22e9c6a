//! The alerts' fact columns (migration 0016) and the SQL indicators built on them agree with
//! the domain's computation from the alert documents, on SQLite and PostgreSQL: on a
//! generated history (`vigie bench generate`: every lifecycle the state machine allows), on
//! alerts driven through the storage the server uses (save_doc), and after a backfill.

use crate::support;

use chrono::{DateTime, Duration, TimeZone, Utc};
use std::process::Command;
use support::{fresh_db, Backend};
use vigie_domain::area::AreaPath;
use vigie_domain::early_warning::alert::{AlertCommand, Outcome, ResponseAction};
use vigie_domain::early_warning::indicators::Period;
use vigie_domain::early_warning::report::{Channel, LocationInput, ReportInput, ReporterKind};
use vigie_storage::audit::Actor;
use vigie_storage::reports::Sender;
use vigie_storage::Db;

const BIN: &str = env!("CARGO_BIN_EXE_vigie");

both_backends!(indicators_from_facts_equal_the_documents);

fn key_file(dir: &std::path::Path) -> String {
    dir.join("facts.key").display().to_string()
}

/// Every column the indicators read, per alert (to compare before and after a backfill).
async fn facts_snapshot(db: &Db) -> Vec<(i64, Option<i32>, i32, i32, Option<i64>, Option<i64>, Option<String>)> {
    let deadline = match db.backend {
        vigie_storage::Backend::Sqlite => "first_deadline",
        vigie_storage::Backend::Postgres => "to_char(first_deadline AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')",
    };
    let sql = format!("SELECT id, ack_in_time, withdrawn_in_time, responded, report_to_alert_ns, alert_to_response_ns, {deadline} FROM alerts ORDER BY id");
    vigie_storage::run!(&db.read, c => sqlx::query_as(&sql).fetch_all(c).await.unwrap())
}

async fn assert_same_indicators(db: &Db, end: DateTime<Utc>) {
    let areas = ["ML", "ML/ML-5", "ML/ML-6", "ML/ML-5/ML-5-KORO"].map(|p| AreaPath(p.into()));
    let periods = [(end - Duration::days(90), end), (end - Duration::days(400), end), (end - Duration::days(45), end - Duration::days(15))];
    // As of the end, and as of a month earlier (deadlines not yet passed: "undetermined").
    for as_of in [end, end - Duration::days(30)] {
        for area in &areas {
            for (start, stop) in periods {
                let period = Period { start, end: stop };
                let fast = vigie_storage::alerts::indicators(db, area, period, as_of).await.unwrap();
                let slow = vigie_storage::alerts::indicators_from_documents(db, area, period, as_of).await.unwrap();
                assert_eq!(fast, slow, "{area:?} {period:?} as of {as_of}");
            }
        }
        for depth in [1, 2] {
            let fast = vigie_storage::analytics::indicator_rollup(db, depth, end - Duration::days(400), end, as_of).await.unwrap();
            let slow = vigie_storage::analytics::indicator_rollup_raw(db, depth, end - Duration::days(400), end, as_of).await.unwrap();
            assert!(fast.len() > 20, "{} rows", fast.len());
            assert_eq!(fast.len(), slow.len());
            for (f, s) in fast.iter().zip(&slow) {
                assert_eq!(f, s);
            }
        }
    }
}

fn report(area: &str, key: &str, occurred_at: DateTime<Utc>) -> ReportInput {
    ReportInput {
        category: Some("armed_attack".into()),
        text: format!("Hommes armés signalés ({key})"),
        occurred_at,
        location: LocationInput { area: Some(area.into()), point: None, place_name: None },
        reporter: ReporterKind::FocalPoint,
        channel: Channel::Api,
        language: "fr".into(),
        idempotency_key: key.into(),
    }
}

async fn indicators_from_facts_equal_the_documents(b: Backend) {
    let Some(tdb) = fresh_db(b).await else { return };
    let url = tdb.url.clone();
    let key = key_file(tdb.dir());
    let o = Command::new(BIN).args(["--db", &url, "bench", "generate", "--reports", "3000", "--years", "1", "--seed", "11", "--communes", "60"]).env("VIGIE_KEY_FILE", &key).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let end = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();

    let keys = vigie_storage::crypto::Keyring::load_or_create(std::path::Path::new(&key)).unwrap();
    let db = Db::connect(&url).await.unwrap().with_keys(keys);
    // Lifecycles written by the server's own path (save_doc): acknowledged in time, late, never.
    let sys = Actor::system("test");
    let t0 = end - Duration::days(20);
    for (i, ack_after) in [Some(5), Some(90), None].into_iter().enumerate() {
        let r = vigie_storage::reports::intake(&db, report("ML-5-KORO", &format!("facts-{i}"), t0 - Duration::hours(1)), Sender::default(), &sys, t0).await.unwrap();
        let id = r.alert_id.unwrap();
        let at = |m: i64| t0 + Duration::minutes(m);
        vigie_storage::alerts::command(&db, id, AlertCommand::Verify, &sys, at(1)).await.unwrap();
        vigie_storage::alerts::command(&db, id, AlertCommand::Raise, &sys, at(2)).await.unwrap();
        vigie_storage::alerts::escalate_due(&db, at(3)).await.unwrap();
        if let Some(m) = ack_after {
            vigie_storage::alerts::command(&db, id, AlertCommand::Acknowledge { level: None }, &sys, at(m)).await.unwrap();
            vigie_storage::alerts::command(&db, id, AlertCommand::Respond { actions: vec![ResponseAction::PatrolDeployed] }, &sys, at(m + 7)).await.unwrap();
            vigie_storage::alerts::command(&db, id, AlertCommand::Close { outcome: Outcome::ViolenceStopped }, &sys, at(m + 100)).await.unwrap();
        }
    }

    // The history is varied enough for every branch of the indicators to count something.
    let whole = Period { start: end - Duration::days(400), end };
    let ind = vigie_storage::alerts::indicators(&db, &AreaPath("ML".into()), whole, end).await.unwrap();
    assert!(ind.records > 1000 && ind.alerts_raised > 100 && ind.false_alarms > 0, "{ind:?}");
    let (a, iv) = (&ind.ack, &ind.interventions);
    assert!(a.within > 0 && a.late > 0 && a.not_acknowledged > 0, "{a:?}");
    assert!(iv.prevented > 0 && iv.stopped > 0 && iv.not_prevented > 0 && iv.false_alarm > 0 && iv.unknown > 0, "{iv:?}");
    assert!(ind.median_report_to_alert.is_some() && ind.median_alert_to_response.is_some());
    let earlier = vigie_storage::alerts::indicators(&db, &AreaPath("ML".into()), whole, end - Duration::days(30)).await.unwrap();
    assert!(earlier.ack.undetermined > 0, "{:?}", earlier.ack);
    assert_same_indicators(&db, end).await;

    // Rows whose facts were never written (before migration 0016) are filled at start, the same.
    let before = facts_snapshot(&db).await;
    let wipe = "UPDATE alerts SET facts = 0, acknowledged_at = NULL, responded_at = NULL, first_deadline = NULL, ack_in_time = NULL, \
                withdrawn_in_time = 0, responded = 0, report_to_alert_ns = NULL, alert_to_response_ns = NULL";
    let n: u64 = vigie_storage::run!(&db.write, c => sqlx::query(wipe).execute(c).await.unwrap().rows_affected());
    assert_ne!(facts_snapshot(&db).await, before);
    assert_eq!(vigie_storage::alert_facts::backfill(&db).await.unwrap(), n);
    assert_eq!(facts_snapshot(&db).await, before);
    assert_eq!(vigie_storage::alert_facts::backfill(&db).await.unwrap(), 0, "nothing left to fill");
    assert_same_indicators(&db, end).await;
    db.close().await;
}
