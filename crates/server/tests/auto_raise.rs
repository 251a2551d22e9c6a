//! Auto-raised alerts (issue 11.2): a report of a category governed by an auto-raise escalation
//! rule, from a trusted source, raises its alert and queues exactly one responder SMS per
//! escalation step — also when the process stops between the intake commit and the raise —
//! while other categories and anonymous reports wait for an analyst. And the wake-ups: a
//! committed job wakes its worker at once (PostgreSQL: through LISTEN/NOTIFY), a rolled-back
//! one does not.

use crate::support;

use serde_json::{json, Value};
use std::time::Duration as StdDuration;
use support::{Backend, TestApp};
use vigie_server::workers::run_auto_raise_once;

both_backends!(auto_raise_rule_raises_once_per_report_and_escalates, raise_survives_a_restart_after_intake, committed_jobs_wake_their_worker);

async fn rule(app: &TestApp, category: &str, auto_raise: bool) -> Value {
    let res = app
        .post("/api/v1/escalation-rules", &app.admin_token)
        .json(&json!({"category_code": category, "min_severity": 3, "area_code": "ML-5", "auto_raise": auto_raise, "levels": [
            {"name": "Gendarmerie de Koro", "phone": "+22365000001", "ack_minutes": 30},
            {"name": "Préfet de Koro", "phone": "+22365000002", "ack_minutes": 60}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

async fn report(app: &TestApp, category: &str, text: &str, kind: &str, key: &str) -> Value {
    let res = app
        .post("/api/v1/reports", &app.admin_token)
        .json(&json!({"category": category, "text": text, "occurred_at": app.now(), "area_code": "ML-5-KORO", "reporter_kind": kind, "idempotency_key": key}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

async fn alert(app: &TestApp, id: i64) -> Value {
    app.get(&format!("/api/v1/alerts/{id}"), &app.admin_token).send().await.unwrap().json().await.unwrap()
}

async fn sms_count(app: &TestApp, alert: i64) -> usize {
    vigie_storage::sms::outbox_for_alert(&app.db, alert).await.unwrap().len()
}

async fn jobs_of(app: &TestApp, queue: &str) -> i64 {
    vigie_storage::run!(&app.db.read, c => sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE queue = $1").bind(queue).fetch_one(c).await.unwrap())
}

async fn auto_raise_rule_raises_once_per_report_and_escalates(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    let r = rule(&app, "armed_attack", false).await;
    // Off: nothing is queued, the event waits at `reported` for an analyst.
    let off = report(&app, "armed_attack", "Hommes armés aperçus à Dinangourou", "focal_point", "k-off").await;
    assert_eq!(jobs_of(&app, "alert_raise").await, 0);
    assert_eq!(alert(&app, off["alert_id"].as_i64().unwrap()).await["state"], "reported");

    // Turned on through the API (audited).
    let audits = app.audit_count().await;
    let res = app.put(&format!("/api/v1/escalation-rules/{}/auto-raise", r["id"]), &app.admin_token).json(&json!({"auto_raise": true})).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["auto_raise"], true);
    assert_eq!(app.audit_count().await, audits + 1);

    let rep = report(&app, "armed_attack", "Attaque imminente du marché de Koro, des hommes armés à moto", "focal_point", "k-on").await;
    let id = rep["alert_id"].as_i64().unwrap();
    assert_ne!(id, off["alert_id"].as_i64().unwrap(), "another event");
    assert_eq!(alert(&app, id).await["state"], "reported", "raised by the worker, after the intake commit");
    assert_eq!(run_auto_raise_once(&app.state, "w").await.unwrap(), 1);
    let a = alert(&app, id).await;
    assert_eq!(a["state"], "alerted", "{a}");
    assert_eq!(a["lifecycle"]["raised_automatically"], true);
    assert_eq!(a["lifecycle"]["alerted_unverified"], true);
    assert_eq!(a["lifecycle"]["history"][0]["by_user"], Value::Null);
    assert_eq!(sms_count(&app, id).await, 1, "one SMS for the first level");

    // The same event again (another trusted report): nothing more is raised or sent.
    let again = report(&app, "armed_attack", "attaque imminente du marché de Koro, hommes armés à moto", "committee", "k-on-2").await;
    assert_eq!(again["alert_id"].as_i64(), Some(id), "grouped into the same event: {again}");
    assert_eq!(run_auto_raise_once(&app.state, "w").await.unwrap(), 1);
    assert_eq!(run_auto_raise_once(&app.state, "w").await.unwrap(), 0);
    assert_eq!(sms_count(&app, id).await, 1);

    // The escalation goes on as for a person's raise: one more SMS per missed deadline.
    app.advance(chrono::Duration::minutes(31));
    assert_eq!(vigie_storage::alerts::escalate_due(&app.db, app.now()).await.unwrap(), 1);
    assert_eq!(vigie_storage::alerts::escalate_due(&app.db, app.now()).await.unwrap(), 0);
    assert_eq!(sms_count(&app, id).await, 2);

    // Another category (no auto-raise rule) and an anonymous report of the armed category wait.
    let other = report(&app, "displacement", "Des familles déplacées arrivent de Madougou", "focal_point", "k-other").await;
    let anon = report(&app, "armed_attack", "Coups de feu entendus vers Yoro ce soir", "anonymous", "k-anon").await;
    assert_eq!(run_auto_raise_once(&app.state, "w").await.unwrap(), 0, "nothing queued for them");
    for x in [&other, &anon] {
        let id = x["alert_id"].as_i64().unwrap();
        assert_eq!(alert(&app, id).await["state"], "reported");
        assert_eq!(sms_count(&app, id).await, 0);
    }
    let alerted: Value = app.get("/api/v1/alerts?state=alerted", &app.admin_token).send().await.unwrap().json().await.unwrap();
    assert_eq!(alerted["total"], 1, "exactly one alert raised: {alerted}");

    // The alert page says it was raised automatically, and the audit log who did it.
    let c = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let login = c.get(app.url("/connexion")).send().await.unwrap().text().await.unwrap();
    let i = login.find(r#"name="csrf" value=""#).expect("csrf field") + r#"name="csrf" value=""#.len();
    let csrf = login[i..].split('"').next().unwrap().to_string();
    c.post(app.url("/connexion")).form(&[("username", "admin"), ("password", support::PASSWORD), ("csrf", &csrf), ("suite", "/")]).send().await.unwrap();
    let page = c.get(app.url(&format!("/alertes/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(r#"id="lancement-auto""#) && page.contains("Lancée automatiquement"), "timeline shows the automatic raise");
    // The rules page says which rule raises by itself.
    let rules = c.get(app.url("/admin/escalade")).send().await.unwrap().text().await.unwrap();
    let row = &rules[rules.find(&format!(r#"id="regle-{}""#, r["id"])).expect("rule listed")..];
    assert!(row[..row.find("</tr>").unwrap()].contains("lancement automatique"), "the rule is marked as raising by itself");
    let log: Value = app.get(&format!("/api/v1/audit?entity=alert&entity_id={id}"), &app.admin_token).send().await.unwrap().json().await.unwrap();
    assert!(log.to_string().contains("alert.auto_raise") && log.to_string().contains("system:auto_raise"), "{log}");
}

async fn raise_survives_a_restart_after_intake(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    rule(&app, "armed_attack", true).await;
    let rep = report(&app, "armed_attack", "Attaque imminente signalée au marché de Koro", "focal_point", "k-restart").await;
    let id = rep["alert_id"].as_i64().unwrap();
    // The process "dies" after the intake commit: nothing ran in it. A new one, with its own
    // connections and no memory of the old one, finds the job in the database.
    assert_eq!(jobs_of(&app, "alert_raise").await, 1);
    let keys = app.db.keys().unwrap().clone();
    let fresh = vigie_storage::Db::connect(&app.tdb.url).await.unwrap().with_keys(keys);
    let state = vigie_server::AppState { db: fresh.clone(), ..app.state.clone() };
    assert_eq!(run_auto_raise_once(&state, "other-node").await.unwrap(), 1);
    assert_eq!(run_auto_raise_once(&state, "other-node").await.unwrap(), 0);
    assert_eq!(alert(&app, id).await["state"], "alerted");
    assert_eq!(sms_count(&app, id).await, 1);
    // A lost lease (the worker died after the raise, before marking the job done) runs the job
    // again: still one alert, one SMS.
    vigie_storage::run!(&fresh.write, c => { sqlx::query("UPDATE jobs SET done_at = NULL, locked_until = NULL WHERE queue = 'alert_raise'").execute(c).await.unwrap(); });
    assert_eq!(run_auto_raise_once(&state, "third-node").await.unwrap(), 1);
    assert_eq!(sms_count(&app, id).await, 1);
    let sms_jobs: i64 = jobs_of(&app, "sms").await;
    assert_eq!(sms_jobs, 1);
    fresh.close().await;
}

async fn committed_jobs_wake_their_worker(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    vigie_storage::wakeup::listen(&app.db);
    let queue = format!("wake_test_{b:?}");
    // Give the listener time to LISTEN (it wakes every queue once when it starts).
    tokio::time::sleep(StdDuration::from_millis(300)).await;
    let _ = vigie_storage::wakeup::wait(&queue, StdDuration::from_millis(1)).await;

    let waiter = {
        let q = queue.clone();
        tokio::spawn(async move {
            let t = std::time::Instant::now();
            let woken = vigie_storage::wakeup::wait(&q, StdDuration::from_secs(30)).await;
            (woken, t.elapsed())
        })
    };
    tokio::time::sleep(StdDuration::from_millis(100)).await;
    let mut tx = app.db.begin().await.unwrap();
    vigie_storage::jobs::enqueue(&mut tx, &queue, &json!({}), None, vigie_storage::now()).await.unwrap();
    tx.commit().await.unwrap();
    let (woken, took) = waiter.await.unwrap();
    assert!(woken, "woken, not timed out ({took:?})");
    assert!(took < StdDuration::from_secs(10), "{took:?}");
    let claimed = vigie_storage::jobs::claim(&app.db, &queue, "w", 10, chrono::Duration::seconds(60), vigie_storage::now()).await.unwrap();
    assert_eq!(claimed.len(), 1);

    if b == Backend::Postgres {
        // NOTIFY is transactional: a rolled-back enqueue wakes nobody.
        let mut tx = app.db.begin().await.unwrap();
        vigie_storage::jobs::enqueue(&mut tx, &queue, &json!({}), None, vigie_storage::now()).await.unwrap();
        drop(tx);
        assert!(!vigie_storage::wakeup::wait(&queue, StdDuration::from_millis(700)).await, "no wake-up for a rollback");
    }
}
