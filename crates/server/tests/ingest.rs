//! Group commit of report intake (`vigie_storage::group_commit`): many concurrent requests share
//! one commit, each is answered with its own outcome, a request that fails inside the group is
//! rolled back alone, resends inside one group store one report, and the audit chain stays whole.

use crate::support;

use chrono::Utc;
use std::collections::HashSet;
use support::TestApp;
use vigie_domain::early_warning::report::{Channel, LocationInput, ReportInput, ReporterKind};
use vigie_storage::audit::Actor;
use vigie_storage::reports::{self, Sender};
use vigie_storage::{group_commit, run, Db};

both_backends!(
    concurrent_intakes_share_commits_and_each_gets_its_answer,
    a_failing_request_does_not_fail_its_group,
    resends_in_one_group_store_one_report,
    http_reports_under_concurrency,
    big_and_many_events_still_group_their_reports,
    a_group_places_its_reports_as_one_by_one,
    the_writer_sees_merges_and_splits,
    a_report_that_may_raise_an_alert_goes_ahead_of_bulk_intake,
    submissions_share_the_writers_commit_with_their_reports,
    an_sms_and_its_report_are_written_together,
    a_report_above_joins_the_event_below_it,
    a_resend_is_recognised_whatever_the_month_it_was_stored_in,
);

fn input(key: &str, text: &str, area: &str) -> ReportInput {
    ReportInput {
        category: Some("armed_attack".into()),
        text: text.into(),
        occurred_at: Utc::now() - chrono::Duration::minutes(5),
        location: LocationInput { area: Some(area.into()), point: None, place_name: None },
        reporter: ReporterKind::FocalPoint,
        channel: Channel::Api,
        language: "fr".into(),
        idempotency_key: key.into(),
    }
}

async fn count(db: &Db, sql: &str) -> i64 {
    run!(&db.read, c => sqlx::query_scalar::<_, i64>(sql).fetch_one(c).await.unwrap())
}

/// Sends `n` intakes at once, each in its own task, like concurrent HTTP requests.
async fn send_all(db: &Db, inputs: Vec<ReportInput>) -> Vec<vigie_storage::StoreResult<reports::IntakeOutcome>> {
    let tasks: Vec<_> = inputs
        .into_iter()
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move { reports::intake(&db, i, Sender::default(), &Actor::system("test"), vigie_storage::now()).await })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

async fn concurrent_intakes_share_commits_and_each_gets_its_answer(b: support::Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    let db = &app.db;
    let n = 300;
    let (c0, r0) = group_commit::stats(db);
    let areas = ["ML-5-KORO", "ML-5-MOPTI", "ML-6-GOUNDAM"];
    let inputs = (0..n).map(|i| input(&format!("k-{i}"), &format!("attaque numéro {i}"), areas[i % 3])).collect();
    let results = send_all(db, inputs).await;
    let ids: HashSet<i64> = results.iter().map(|r| r.as_ref().expect("stored").report_id).collect();
    assert_eq!(ids.len(), n, "each request has its own report");
    assert!(results.iter().all(|r| !r.as_ref().unwrap().duplicate_submission));
    // Every acknowledged report is in the database, with its own audit entry.
    assert_eq!(count(db, "SELECT COUNT(*) FROM reports WHERE idempotency_key LIKE 'k-%'").await, n as i64);
    assert_eq!(count(db, "SELECT COUNT(*) FROM audit_log WHERE action = 'report.create'").await, n as i64);
    let (c1, r1) = group_commit::stats(db);
    assert_eq!(r1 - r0, n as u64, "every request went through the writer");
    assert!(c1 - c0 < n as u64, "requests shared commits: {} commits for {n} requests", c1 - c0);
    let v = vigie_storage::audit::verify(db).await.unwrap();
    assert!(v.broken.is_none(), "audit chain intact");
    // The answer names the report stored under the caller's key.
    for (i, r) in results.iter().enumerate() {
        let r = r.as_ref().unwrap();
        let key: String = run!(&db.read, c => sqlx::query_scalar("SELECT idempotency_key FROM reports WHERE id = $1").bind(r.report_id).fetch_one(c).await.unwrap());
        assert_eq!(key, format!("k-{i}"));
    }
}

/// A database trigger refuses one report (as a constraint would) inside a group of many: that
/// request alone gets the error (the writer stores the group again in halves), the others are stored.
async fn a_failing_request_does_not_fail_its_group(b: support::Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    let db = &app.db;
    match b {
        support::Backend::Sqlite => run!(&db.write, c => { sqlx::query(
            "CREATE TRIGGER refuse_boom BEFORE INSERT ON reports WHEN NEW.text = 'boom' BEGIN SELECT RAISE(ABORT, 'boom refused'); END"
        ).execute(c).await.unwrap(); }),
        support::Backend::Postgres => {
            run!(&db.write, c => { sqlx::query(
                "CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.text = 'boom' THEN RAISE EXCEPTION 'boom refused'; END IF; RETURN NEW; END $$"
            ).execute(c).await.unwrap(); });
            run!(&db.write, c => { sqlx::query("CREATE TRIGGER refuse_boom BEFORE INSERT ON reports FOR EACH ROW EXECUTE FUNCTION refuse_boom()").execute(c).await.unwrap(); });
        }
    }
    let n = 120;
    let inputs = (0..n).map(|i| input(&format!("b-{i}"), if i % 10 == 3 { "boom" } else { "attaque" }, "ML-5-KORO")).collect();
    let results = send_all(db, inputs).await;
    for (i, r) in results.iter().enumerate() {
        if i % 10 == 3 {
            assert!(r.is_err(), "request {i} must fail");
        } else {
            assert!(r.is_ok(), "request {i} must be stored: {:?}", r.as_ref().err());
        }
    }
    assert_eq!(count(db, "SELECT COUNT(*) FROM reports WHERE idempotency_key LIKE 'b-%'").await, (n - n / 10) as i64);
    assert_eq!(count(db, "SELECT COUNT(*) FROM reports WHERE text = 'boom'").await, 0);
    // Nothing of a refused request remains: no audit entry, no orphan alert.
    assert_eq!(count(db, "SELECT COUNT(*) FROM audit_log WHERE action = 'report.create'").await, (n - n / 10) as i64);
    assert_eq!(count(db, "SELECT COUNT(*) FROM alerts a WHERE NOT EXISTS (SELECT 1 FROM reports r WHERE r.alert_id = a.id)").await, 0);
    assert!(vigie_storage::audit::verify(db).await.unwrap().broken.is_none());
}

async fn resends_in_one_group_store_one_report(b: support::Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    let db = &app.db;
    let inputs = (0..50).map(|_| input("same-key", "attaque", "ML-5-MOPTI")).collect();
    let results = send_all(db, inputs).await;
    let ids: HashSet<i64> = results.iter().map(|r| r.as_ref().unwrap().report_id).collect();
    assert_eq!(ids.len(), 1, "one report for one key");
    assert_eq!(results.iter().filter(|r| !r.as_ref().unwrap().duplicate_submission).count(), 1, "only the first is new");
    assert_eq!(count(db, "SELECT COUNT(*) FROM reports WHERE idempotency_key = 'same-key'").await, 1);
}

/// Intake compares a new report with the latest `COMPARED_PER_EVENT` reports of each nearby
/// event: an event bigger than that still takes the next account of its story, a different
/// story still opens its own event, and an event opened after others holding more than 2000
/// rows of the same place and window is still found (the old LIMIT 2000 missed it).
async fn big_and_many_events_still_group_their_reports(b: support::Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    let db = &app.db;
    let one = |key: String, text: String| {
        let db = db.clone();
        async move { reports::intake(&db, input(&key, &text, "ML-5-KORO"), Sender::default(), &Actor::system("test"), vigie_storage::now()).await.unwrap() }
    };
    let inputs = (0..2100).map(|i| input(&format!("crowd-{i}"), &format!("incident {i} signalé {}", "x".repeat(i % 7)), "ML-5-KORO")).collect();
    for r in send_all(db, inputs).await {
        r.expect("stored");
    }
    let story = |i: usize| format!("des hommes armés à moto ont attaqué le marché de Koro, {i} blessés");
    let n = reports::COMPARED_PER_EVENT * 3;
    let mut event = None;
    for i in 0..n {
        let out = one(format!("big-{i}"), story(i)).await;
        assert_eq!(out.new_event, i == 0, "report {i}");
        assert_eq!(*event.get_or_insert(out.alert_id), out.alert_id, "report {i} joins the story's event");
    }
    let other = one("flood".into(), "la crue du fleuve a emporté le pont et vingt maisons".into()).await;
    assert!(other.new_event, "another story is another event");
    assert_eq!(count(db, "SELECT COUNT(*) FROM reports").await, 2100 + n as i64 + 1);
    assert!(vigie_storage::audit::verify(db).await.unwrap().broken.is_none());
}

/// The HTTP path end to end: 64 clients at once, each 2xx is a stored report.
async fn http_reports_under_concurrency(b: support::Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let req = app.post("/api/v1/reports", &app.admin_token).json(&serde_json::json!({
                "category": "armed_attack", "text": format!("attaque {i}"), "occurred_at": Utc::now() - chrono::Duration::minutes(1),
                "area_code": "ML-5-KORO", "idempotency_key": format!("h-{i}"),
            }));
            tokio::spawn(async move { req.send().await.unwrap().status().as_u16() })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), 201);
    }
    assert_eq!(count(&app.db, "SELECT COUNT(*) FROM reports WHERE idempotency_key LIKE 'h-%'").await, 64);
}

/// The writer places a whole group in memory (`reports::store_group`): report n sees the events
/// reports 1…n−1 of the same group opened or joined. The same reports sent all at once (shared
/// commits) and one by one (a commit each) must fall into the same events, and each event must
/// carry the gravest severity of its reports.
async fn a_group_places_its_reports_as_one_by_one(b: support::Backend) {
    let stories = [
        ("armed_attack", "des hommes armés à moto ont attaqué le marché de Koro ce matin"),
        ("abduction", "des hommes armés ont enlevé le commerçant sur la route du marché de Koro"),
        ("natural_hazard_flood", "la crue du fleuve a emporté le pont et vingt maisons du quartier"),
        ("armed_attack", "tirs entendus toute la nuit au nord du village, les familles fuient"),
    ];
    let areas = ["ML-5-KORO", "ML-5-MOPTI"];
    let inputs = |run: &str| -> Vec<ReportInput> {
        (0..48)
            .map(|i| {
                let (category, text) = stories[i % stories.len()];
                let mut r = input(&format!("{run}-{i}"), &format!("{text} ({} témoins)", i % 5), areas[(i / 4) % 2]);
                r.category = Some(category.into());
                r
            })
            .collect()
    };
    // Which reports share an event, as sets of their positions.
    let partition = |outs: &[reports::IntakeOutcome]| -> Vec<Vec<usize>> {
        let mut by_event: std::collections::BTreeMap<i64, Vec<usize>> = Default::default();
        for (i, o) in outs.iter().enumerate() {
            by_event.entry(o.alert_id.expect("grouped")).or_default().push(i);
        }
        let mut parts: Vec<Vec<usize>> = by_event.into_values().collect();
        parts.sort();
        parts
    };

    let Some(one_by_one) = TestApp::spawn(b).await else { return };
    let mut sequential = Vec::new();
    for i in inputs("seq") {
        sequential.push(reports::intake(&one_by_one.db, i, Sender::default(), &Actor::system("test"), vigie_storage::now()).await.unwrap());
    }
    let Some(at_once) = TestApp::spawn(b).await else { return };
    let (c0, r0) = group_commit::stats(&at_once.db);
    let grouped: Vec<reports::IntakeOutcome> = send_all(&at_once.db, inputs("grp")).await.into_iter().map(|r| r.unwrap()).collect();
    let (c1, r1) = group_commit::stats(&at_once.db);
    assert!(c1 - c0 < r1 - r0, "the reports shared commits ({} commits for {} reports)", c1 - c0, r1 - r0);

    let expected = partition(&sequential);
    assert!(expected.len() > 2 && expected.len() < 48, "the stories make a few events, not one nor one each: {expected:?}");
    assert_eq!(partition(&grouped), expected, "same events whether the reports came one by one or together");
    assert_eq!(grouped.iter().filter(|o| o.new_event).count(), expected.len(), "one report opened each event");
    for app in [&one_by_one, &at_once] {
        let weaker = "SELECT COUNT(*) FROM alerts a WHERE a.severity < (SELECT MAX(r.severity) FROM reports r WHERE r.alert_id = a.id)";
        assert_eq!(count(&app.db, weaker).await, 0, "each event has its gravest report's severity");
        assert!(vigie_storage::audit::verify(&app.db).await.unwrap().broken.is_none());
        vigie_storage::counters::snapshot(&app.db).await.unwrap();
    }
    let counts = |db: Db| async move { vigie_storage::counters::snapshot(&db).await.unwrap().iter().map(|r| (r.0, r.1.clone(), r.3.clone(), r.4)).collect::<Vec<_>>() };
    assert_eq!(counts(at_once.db.clone()).await, counts(one_by_one.db.clone()).await, "the same counters");
}

/// The writer remembers open events between groups (`reports::EventCache`); a merge or a split
/// made elsewhere must be seen by the next report, not hidden behind what it remembered.
async fn the_writer_sees_merges_and_splits(b: support::Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    let db = &app.db;
    let actor = Actor::system("test");
    let one = |key: &str, text: &str| {
        let db = db.clone();
        let i = input(key, text, "ML-5-KORO");
        async move { reports::intake(&db, i, Sender::default(), &Actor::system("test"), vigie_storage::now()).await.unwrap() }
    };
    let attack = "des hommes armés à moto ont attaqué le marché de Koro ce matin";
    let flood = "la crue du fleuve a emporté le pont et vingt maisons du quartier";
    let a1 = one("a1", attack).await;
    let a2 = one("a2", attack).await;
    let f1 = one("f1", flood).await;
    assert_eq!(a1.alert_id, a2.alert_id);
    assert_ne!(a1.alert_id, f1.alert_id, "two stories, two events");
    let (attack_event, flood_event) = (a1.alert_id.unwrap(), f1.alert_id.unwrap());

    // Merged: the flood's reports now belong to the attack's event; the next flood report follows them.
    vigie_storage::events::merge(db, attack_event, &[flood_event], &actor, vigie_storage::now()).await.unwrap();
    let f2 = one("f2", flood).await;
    assert_eq!(f2.alert_id, Some(attack_event), "after the merge, the flood story is in the merged event");
    assert!(!f2.new_event);

    // Split back out: the flood reports leave (not the newest report only), and the next flood report joins them.
    let split = vigie_storage::events::split(db, attack_event, &[f1.report_id, f2.report_id], &actor, vigie_storage::now()).await.unwrap();
    let a3 = one("a3", attack).await;
    assert_eq!(a3.alert_id, Some(attack_event));
    let f3 = one("f3", flood).await;
    assert_eq!(f3.alert_id, Some(split.new_event.id), "after the split, the flood story is in the new event");
}

/// Under a flood of reports, one that an auto-raise rule covers is written before the bulk
/// reports already waiting (the writer's urgent lane), so the alert is not behind them.
async fn a_report_that_may_raise_an_alert_goes_ahead_of_bulk_intake(b: support::Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    let db = &app.db;
    let levels = vec![vigie_storage::alerts::LevelSpec { name: "Gendarmerie".into(), phone: Some("+22376000099".into()), ack_minutes: 10 }];
    let area = vigie_domain::area::AreaCode::parse("ML-5").unwrap();
    vigie_storage::alerts::create_rule(db, Some("abduction"), 1, &area, levels, true, &Actor::system("test")).await.unwrap();
    let bulk: Vec<_> = (0..3000)
        .map(|i| {
            let db = db.clone();
            let mut r = input(&format!("bulk-{i}"), &format!("troupeau vu près du puits numéro {i}"), "ML-5-MOPTI");
            r.category = Some("displacement".into());
            tokio::spawn(async move { reports::intake(&db, r, Sender::default(), &Actor::system("test"), vigie_storage::now()).await })
        })
        .collect();
    // Once the writer is busy with the flood, the report that may raise an alert arrives.
    while count(db, "SELECT COUNT(*) FROM reports WHERE idempotency_key LIKE 'bulk-%'").await == 0 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let mut urgent = input("urgent", "un commerçant enlevé sur la route de Koro", "ML-5-KORO");
    urgent.category = Some("abduction".into());
    let out = reports::intake(db, urgent, Sender::default(), &Actor::system("test"), vigie_storage::now()).await.unwrap();
    for t in bulk {
        t.await.unwrap().unwrap();
    }
    let after: i64 = run!(&db.read, c => sqlx::query_scalar("SELECT COUNT(*) FROM reports WHERE idempotency_key LIKE 'bulk-%' AND id > $1").bind(out.report_id).fetch_one(c).await.unwrap());
    assert!(after > 1500, "the urgent report was written before most of the bulk already waiting: only {after} of 3000 after it");
}

/// OpenRosa submissions go through the writer with the report each becomes: submission, report
/// and link share the group's commit; a resent instanceID (even in the same group) stores nothing
/// more; a survey stores no report; a refused or invalid report leaves its submission stored with
/// the reason.
async fn submissions_share_the_writers_commit_with_their_reports(b: support::Backend) {
    use vigie_storage::forms::{self, Incoming, ReportFrom, Stored};
    let Some(app) = TestApp::spawn(b).await else { return };
    let db = &app.db;
    let xml = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../forms/incident_fr.xml")).unwrap();
    let form = forms::create(db, &xml, "incident", &vigie_domain::area::AreaCode::parse("ML").unwrap(), &Actor::system("test")).await.unwrap();
    let (c0, r0) = group_commit::stats(db);
    // 60 instances, each sent twice at the same moment; by instance: a survey answer, a report, a refusal.
    let n = 120;
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let db = db.clone();
            let form_pk = form.id;
            tokio::spawn(async move {
                let k = i / 2;
                let instance = format!("uuid:s-{k}");
                let report = match k % 3 {
                    0 => ReportFrom::Nothing,
                    1 => {
                        let mut input = input(&instance, &format!("attaque {k}"), ["ML-5-KORO", "ML-5-MOPTI"][k % 2]);
                        if k == 4 {
                            input.occurred_at = Utc::now() + chrono::Duration::days(3); // refused by the intake's validation
                        }
                        ReportFrom::Intake(input, Sender::default())
                    }
                    _ => ReportFrom::Refused("outside the submitter's area".into()),
                };
                let data = serde_json::json!({"k": k});
                let warnings = serde_json::json!([]);
                let doc = format!("<data id='vigie_incident'><meta><instanceID>{instance}</instanceID></meta></data>");
                let incoming = Incoming {
                    form_pk, instance_id: &instance, xml: doc.as_bytes(), data: &data, warnings: &warnings, area: None, submitted_by: None,
                    files: vec![], actor: &Actor::system("test"), now: vigie_storage::now(),
                };
                (k, forms::receive(&db, incoming, report).await)
            })
        })
        .collect();
    let mut new = std::collections::HashMap::new();
    for t in tasks {
        let (k, r) = t.await.unwrap();
        let r = r.expect("stored");
        if let Stored::New(id) = r.stored {
            assert!(new.insert(k, (id, r)).is_none(), "instance {k} stored twice");
        } else {
            assert!(r.report.is_none() && r.intake_error.is_none(), "a resend stores and reports nothing");
        }
    }
    assert_eq!(new.len(), 60, "each instance stored once");
    let (c1, r1) = group_commit::stats(db);
    assert!(r1 - r0 >= 60, "every stored submission went through the writer ({} requests)", r1 - r0);
    assert!(c1 - c0 < 60, "submissions shared commits: {} commits", c1 - c0);
    for (k, (id, r)) in &new {
        let (report_id, intake_error): (Option<i64>, Option<String>) =
            run!(&db.read, c => sqlx::query_as("SELECT report_id, intake_error FROM submissions WHERE id = $1").bind(id).fetch_one(c).await.unwrap());
        assert_eq!(report_id, r.report.as_ref().map(|o| o.report_id), "instance {k}: the link is the report answered");
        assert_eq!(intake_error, r.intake_error, "instance {k}");
        match k % 3 {
            0 => assert!(report_id.is_none() && intake_error.is_none(), "a survey answer makes no report"),
            1 if *k == 4 => assert!(report_id.is_none() && intake_error.is_some(), "an invalid report is refused, its submission kept"),
            1 => {
                let key: String = run!(&db.read, c => sqlx::query_scalar("SELECT idempotency_key FROM reports WHERE id = $1").bind(report_id.unwrap()).fetch_one(c).await.unwrap());
                assert_eq!(key, format!("uuid:s-{k}"));
            }
            _ => assert_eq!(intake_error.as_deref(), Some("outside the submitter's area")),
        }
    }
    assert_eq!(count(db, "SELECT COUNT(*) FROM reports WHERE idempotency_key LIKE 'uuid:s-%'").await, 19);
    assert_eq!(count(db, "SELECT COUNT(*) FROM audit_log WHERE action = 'submission.create'").await, 60);
    assert_eq!(count(db, "SELECT COUNT(*) FROM audit_log WHERE action = 'report.create'").await, 19);
    let v = vigie_storage::audit::verify(db).await.unwrap();
    assert!(v.broken.is_none(), "audit chain intact");
}

/// A report or ODK submission resent months after it was stored is recognised, not stored
/// twice. On PostgreSQL both tables are partitioned by month (migration 0022): the stored rows
/// sit in their month's partition, and the unique keys hold across partitions.
async fn a_resend_is_recognised_whatever_the_month_it_was_stored_in(b: support::Backend) {
    use vigie_storage::forms::{self, Incoming, ReportFrom, Stored};
    let Some(app) = TestApp::spawn(b).await else { return };
    let db = &app.db;
    let now = vigie_storage::now();
    let then = now - chrono::Duration::days(95);
    vigie_storage::partitions::ensure_months(db, then.date_naive(), now.date_naive()).await.unwrap();
    let actor = Actor::system("test");
    let old = |key: &str| ReportInput { occurred_at: then - chrono::Duration::minutes(5), ..input(key, "attaque du marché", "ML-5-MOPTI") };

    // A report through the API's intake, then its resend today.
    let first = reports::intake(db, old("k-old"), Sender::default(), &actor, then).await.unwrap();
    let again = reports::intake(db, input("k-old", "attaque du marché", "ML-5-MOPTI"), Sender::default(), &actor, now).await.unwrap();
    assert_eq!((again.report_id, &again.reference), (first.report_id, &first.reference), "the resend answers the stored report");

    // A submission (with its report), then the same instanceID today.
    let xml = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../forms/incident_fr.xml")).unwrap();
    let form = forms::create(db, &xml, "incident", &vigie_domain::area::AreaCode::parse("ML").unwrap(), &actor).await.unwrap();
    let (data, warnings) = (serde_json::json!({}), serde_json::json!([]));
    let doc = b"<data id='vigie_incident'><meta><instanceID>uuid:old</instanceID></meta></data>";
    let submit = |at, report| {
        let incoming = Incoming {
            form_pk: form.id, instance_id: "uuid:old", xml: doc, data: &data, warnings: &warnings, area: None, submitted_by: None,
            files: vec![], actor: &actor, now: at,
        };
        forms::receive(db, incoming, report)
    };
    let stored = submit(then, ReportFrom::Intake(old("uuid:old"), Sender::default())).await.unwrap();
    let Stored::New(id) = stored.stored else { panic!("first submission stored: {:?}", stored.stored) };
    let resent = submit(now, ReportFrom::Intake(input("uuid:old", "attaque du marché", "ML-5-MOPTI"), Sender::default())).await.unwrap();
    assert!(matches!(resent.stored, Stored::Duplicate(d) if d == id), "{:?}", resent.stored);

    assert_eq!(count(db, "SELECT COUNT(*) FROM reports WHERE idempotency_key IN ('k-old', 'uuid:old')").await, 2);
    assert_eq!(count(db, "SELECT COUNT(*) FROM submissions WHERE instance_id = 'uuid:old'").await, 1);
    if db.backend == vigie_storage::Backend::Postgres {
        // In their month's partition, and a second row with a stored key refused by the database itself.
        let month = then.format("%Y_%m").to_string();
        let part: String = run!(&db.read, c => sqlx::query_scalar("SELECT tableoid::regclass::text FROM reports WHERE id = $1").bind(first.report_id).fetch_one(c).await.unwrap());
        assert_eq!(part, format!("reports_{month}"));
        let part: String = run!(&db.read, c => sqlx::query_scalar("SELECT tableoid::regclass::text FROM submissions WHERE id = $1").bind(id).fetch_one(c).await.unwrap());
        assert_eq!(part, format!("submissions_{month}"));
        let dup = run!(&db.write, c => sqlx::query(
            "INSERT INTO reports (idempotency_key, reference, received_at, occurred_at, category_code, severity, text, reporter_kind, channel, language) \
             VALUES ('k-old', 'NEW1-NEW1', $1, $1, 'armed_attack', 2, 'x', 'focal_point', 'api', 'fr')").bind(now).execute(c).await.map(|_| ()));
        let err = dup.expect_err("a stored idempotency key is refused in another month's partition");
        assert!(err.as_database_error().is_some_and(|e| e.is_unique_violation()), "{err}");
    }
    let v = vigie_storage::audit::verify(db).await.unwrap();
    assert!(v.broken.is_none(), "audit chain intact");
}

/// Inbound SMS go through the writer with the report each becomes: inbox row, report and link
/// in the group's commit; a gateway retry (same id, even in the same group) stores nothing more.
async fn an_sms_and_its_report_are_written_together(b: support::Backend) {
    use vigie_storage::sms::{self, Inbound};
    let Some(app) = TestApp::spawn(b).await else { return };
    let db = &app.db;
    let (c0, _) = group_commit::stats(db);
    // 40 SMS, each delivered twice at once by the gateway; every other one is an alert.
    let tasks: Vec<_> = (0..80usize)
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move {
                let k = i / 2;
                let gateway_id = format!("gw-{k}");
                let text = format!("ALERTE attaque Koro {k}");
                let report = (k % 2 == 0).then(|| {
                    let mut input = input(&format!("sms-{gateway_id}"), &text, "ML-5-KORO");
                    input.channel = Channel::Sms;
                    (input, Sender { user_id: None, phone: Some("+22376000001".into()) }, Actor::system("sms"))
                });
                let inbound = Inbound { gateway_id: Some(&gateway_id), from: "+22376000001", text: &text, kind: if k % 2 == 0 { "alert" } else { "help" }, now: vigie_storage::now() };
                (k, sms::receive(&db, inbound, report).await)
            })
        })
        .collect();
    let mut stored = std::collections::HashMap::new();
    for t in tasks {
        let (k, r) = t.await.unwrap();
        if let Some((inbox_id, report)) = r.expect("stored") {
            assert!(stored.insert(k, (inbox_id, report)).is_none(), "SMS {k} stored twice");
        }
    }
    assert_eq!(stored.len(), 40, "each SMS stored once");
    assert_eq!(count(db, "SELECT COUNT(*) FROM sms_inbox").await, 40);
    let (c1, _) = group_commit::stats(db);
    assert!(c1 - c0 < 40, "SMS shared commits: {} commits", c1 - c0);
    for (k, (inbox_id, report)) in &stored {
        let linked: Option<i64> = run!(&db.read, c => sqlx::query_scalar("SELECT report_id FROM sms_inbox WHERE id = $1").bind(inbox_id).fetch_one(c).await.unwrap());
        assert_eq!(linked, report.as_ref().map(|r| r.report_id), "SMS {k}: the link is the report answered");
        assert_eq!(report.is_some(), k % 2 == 0, "SMS {k}");
    }
    assert_eq!(count(db, "SELECT COUNT(*) FROM reports WHERE channel = 'sms'").await, 20);
    let v = vigie_storage::audit::verify(db).await.unwrap();
    assert!(v.broken.is_none(), "audit chain intact");
}

/// A report placed on a region joins the event its cercle already has (the writer looks below
/// an area that has areas below it); a report on a cercle, which has none below in this tree,
/// joins the region's event from above.
async fn a_report_above_joins_the_event_below_it(b: support::Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    let db = &app.db;
    let send = |key: &'static str, area: &'static str| {
        let db = db.clone();
        async move { reports::intake(&db, input(key, "hommes armés attaque du marché de Koro ce matin", area), Sender::default(), &Actor::system("test"), vigie_storage::now()).await.unwrap() }
    };
    let cercle = send("below-1", "ML-5-KORO").await;
    let region = send("above-1", "ML-5").await;
    assert!(cercle.new_event && !region.new_event, "the region's report joins the cercle's event");
    assert_eq!(region.alert_id, cercle.alert_id);
    let again = send("below-2", "ML-5-KORO").await;
    assert_eq!(again.alert_id, cercle.alert_id, "and the cercle's next report joins it too");
}
