//! Early warning end to end: a report becomes an event, is verified, raised, escalated when a
//! responder misses the deadline (clock moved, not slept), acknowledged, responded to and
//! closed with an outcome; then the indicators, checked against a hand computation.

use crate::support;

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{Backend, TestApp};

both_backends!(
    a_report_goes_through_every_state_to_an_outcome,
    reports_are_grouped_deduplicated_and_never_lost,
    bad_reports_get_clear_errors,
    indicators_match_a_hand_computed_example,
    reports_and_alerts_are_area_scoped,
    webhooks_are_signed_and_retried,
);

fn report(cat: &str, area: &str, text: &str, minutes_ago: i64) -> Value {
    json!({"category": cat, "text": text, "occurred_at": Utc::now() - Duration::minutes(minutes_ago), "area_code": area})
}

async fn outbox(app: &TestApp, alert: i64) -> Vec<(String, String)> {
    let rows: Vec<(String, String)> = vigie_storage::run!(&app.db.read, c => sqlx::query_as("SELECT to_sealed, text FROM sms_outbox WHERE alert_id = $1 ORDER BY id").bind(alert).fetch_all(c).await.unwrap());
    let keys = app.db.keys().unwrap();
    rows.into_iter().map(|(to, text)| (keys.open_string(&to, "sms_outbox.phone").unwrap(), keys.open_string(&text, "sms_outbox.text").unwrap())).collect()
}

async fn a_report_goes_through_every_state_to_an_outcome(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    let analyst = app.user_token("analyste.mopti", "analyst", "ML-5").await;
    let responder = app.user_token("gendarmerie.koro", "responder", "ML-5-KORO").await;
    // Who is alerted for attacks in the Mopti region, in what order, how fast.
    let rule = json!({"category_code": null, "min_severity": 3, "area_code": "ML-5", "levels": [
        {"name": "Brigade de gendarmerie de Koro", "phone": "76 00 00 01", "ack_minutes": 30},
        {"name": "Préfet de Koro", "phone": null, "ack_minutes": 30},
        {"name": "Poste de commandement de la mission", "phone": "+223 66 00 00 03", "ack_minutes": 60}]});
    let res = app.post("/api/v1/escalation-rules", &analyst).json(&rule).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap());

    let res = app.post("/api/v1/reports", &analyst).json(&report("armed_attack", "ML-5-KORO", "Des hommes armés à moto ont encerclé le village de Dinangourou ce matin", 30)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let r: Value = res.json().await.unwrap();
    let alert = r["alert_id"].as_i64().unwrap();
    assert_eq!(r["new_event"], true);
    assert_eq!(r["reference"].as_str().unwrap().len(), 9, "AB12-CD34");
    let a: Value = app.get(&format!("/api/v1/alerts/{alert}"), &analyst).send().await.unwrap().json().await.unwrap();
    assert_eq!(a["state"], "reported");

    // A responder may not raise; the analyst verifies the report, which verifies the event.
    let res = app.post(&format!("/api/v1/alerts/{alert}/commands"), &responder).json(&json!({"command": "raise"})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app.post(&format!("/api/v1/reports/{}/verification", r["report_id"]), &analyst).json(&json!({"status": "verified", "grade": "B2"})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
    let a: Value = app.get(&format!("/api/v1/alerts/{alert}"), &analyst).send().await.unwrap().json().await.unwrap();
    assert_eq!(a["state"], "verified");

    // Raise: the first level is notified by SMS at once.
    app.advance(Duration::minutes(1));
    let res = app.post(&format!("/api/v1/alerts/{alert}/commands"), &analyst).json(&json!({"command": "raise"})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
    let sms = outbox(&app, alert).await;
    assert_eq!(sms.len(), 1);
    assert_eq!(sms[0].0, "+22376000001");
    assert!(sms[0].1.starts_with(&format!("ALERTE Vigie {alert}")), "{}", sms[0].1);

    // Nothing happens before the deadline…
    app.advance(Duration::minutes(29));
    assert_eq!(vigie_storage::alerts::escalate_due(&app.db, app.now()).await.unwrap(), 0);
    // …then the prefect (no phone) is skipped and flagged, and the mission is alerted.
    app.advance(Duration::minutes(2));
    assert_eq!(vigie_storage::alerts::escalate_due(&app.db, app.now()).await.unwrap(), 1);
    let sms = outbox(&app, alert).await;
    assert_eq!(sms.len(), 2);
    assert_eq!(sms[1].0, "+22366000003");
    assert!(sms[1].1.starts_with("ESCALADE"));
    let a: Value = app.get(&format!("/api/v1/alerts/{alert}"), &analyst).send().await.unwrap().json().await.unwrap();
    assert_eq!(a["needs_attention"], true, "a level without a phone is flagged");
    let kinds: Vec<&str> = a["lifecycle"]["escalation"].as_array().unwrap().iter().map(|e| e["kind"]["kind"].as_str().or(e["kind"].as_str()).unwrap_or("?")).collect();
    assert_eq!(kinds.len(), 3, "{a}");

    // The responder acknowledges, responds, closes with an outcome.
    app.advance(Duration::minutes(5));
    for (cmd, state) in [
        (json!({"command": "acknowledge", "level": 2}), "acknowledged"),
        (json!({"command": "respond", "actions": [{"action": "patrol_deployed"}]}), "responded"),
        (json!({"command": "close", "outcome": "violence_prevented"}), "closed"),
    ] {
        app.advance(Duration::minutes(20));
        let res = app.post(&format!("/api/v1/alerts/{alert}/commands"), &responder).json(&cmd).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{cmd}: {}", res.text().await.unwrap());
        assert_eq!(res.json::<Value>().await.unwrap()["state"], state);
    }
    // A closed alert takes no more commands; escalation stopped.
    let res = app.post(&format!("/api/v1/alerts/{alert}/commands"), &analyst).json(&json!({"command": "cancel", "reason": "x"})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    app.advance(Duration::hours(3));
    assert_eq!(vigie_storage::alerts::escalate_due(&app.db, app.now()).await.unwrap(), 0);
    let a: Value = app.get(&format!("/api/v1/alerts/{alert}"), &analyst).send().await.unwrap().json().await.unwrap();
    for step in ["reported_at", "verified_at", "alerted_at", "acknowledged_at", "responded_at", "closed_at"] {
        assert!(a["lifecycle"][step].is_string(), "{step} missing: {a}");
    }
    assert_eq!(a["lifecycle"]["outcome"], "violence_prevented");
    // Every step is in the audit log.
    let log: Value = app.get(&format!("/api/v1/audit?entity=alert&entity_id={alert}&per_page=100"), &app.admin_token).send().await.unwrap().json().await.unwrap();
    let actions: Vec<&str> = log["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for a in ["alert.verify", "alert.alerted", "alert.notify", "alert.acknowledged", "alert.responded", "alert.closed"] {
        assert!(actions.contains(&a), "{a} not audited: {actions:?}");
    }
    let ind: Value = app.get(&format!("/api/v1/indicators/early-warning?area=ML-5&from={}&to={}", (Utc::now() - Duration::days(1)).to_rfc3339(), (Utc::now() + Duration::days(1)).to_rfc3339()).replace('+', "%2B"), &analyst).send().await.unwrap().json().await.unwrap();
    assert_eq!(ind["indicators"]["alerts_raised"], 1, "{ind}");
}

async fn reports_are_grouped_deduplicated_and_never_lost(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    let t = app.user_token("analyste", "analyst", "ML").await;
    let mut first = report("armed_attack", "ML-5-KORO", "Attaque armée contre le marché de Koro, plusieurs blessés", 60);
    first["idempotency_key"] = json!("odk-uuid-0001");
    let a: Value = app.post("/api/v1/reports", &t).json(&first).send().await.unwrap().json().await.unwrap();
    // The same submission again (a phone retrying): stored once, same answer.
    let res = app.post("/api/v1/reports", &t).json(&first).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let again: Value = res.json().await.unwrap();
    assert_eq!((again["report_id"].clone(), again["duplicate_submission"].clone()), (a["report_id"].clone(), json!(true)));
    // Another witness of the same attack: same event.
    let b2: Value = app.post("/api/v1/reports", &t).json(&report("armed_attack", "ML-5-KORO", "attaque du marché de Koro par des hommes armés, des blessés", 50)).send().await.unwrap().json().await.unwrap();
    assert_eq!(b2["alert_id"], a["alert_id"], "{b2}");
    assert_eq!(b2["new_event"], false);
    // Elsewhere: a new event.
    let c: Value = app.post("/api/v1/reports", &t).json(&report("armed_attack", "ML-6-GOUNDAM", "Attaque armée contre le marché, plusieurs blessés", 55)).send().await.unwrap().json().await.unwrap();
    assert_ne!(c["alert_id"], a["alert_id"]);
    let ev: Value = app.get(&format!("/api/v1/alerts/{}", a["alert_id"]), &t).send().await.unwrap().json().await.unwrap();
    assert_eq!(ev["report_ids"].as_array().unwrap().len(), 2);
    // Abuse by security forces goes to the protected workflow, not the open event feed.
    let p: Value = app.post("/api/v1/reports", &t).json(&report("security_forces_abuse", "ML-5-KORO", "arrestation arbitraire", 10)).send().await.unwrap().json().await.unwrap();
    assert!(p["alert_id"].is_null());
    assert!(p["flags"].as_array().unwrap().iter().any(|f| f["flag"] == "protected_case"), "{p}");
    // Unknown category and no location: kept, flagged.
    let res = app.post("/api/v1/reports", &t).json(&json!({"category": "bétail volé", "text": "vol de bétail", "occurred_at": Utc::now()})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let u: Value = res.json().await.unwrap();
    let flags: Vec<&str> = u["flags"].as_array().unwrap().iter().map(|f| f["flag"].as_str().unwrap()).collect();
    assert!(flags.contains(&"needs_location") && flags.contains(&"unknown_category"), "{flags:?}");
    let list: Value = app.get("/api/v1/reports?unplaced=true", &t).send().await.unwrap().json().await.unwrap();
    assert_eq!(list["total"], 1);
    // A place name is matched to the area tree.
    let n: Value = app.post("/api/v1/reports", &t).json(&json!({"category": "displacement", "text": "familles arrivées", "occurred_at": Utc::now(), "place_name": "goundam"})).send().await.unwrap().json().await.unwrap();
    assert_eq!(n["area_code"], "ML-6-GOUNDAM", "{n}");
    // Full-text search and filters.
    let list: Value = app.get("/api/v1/reports?q=MARCH&category=armed_attack", &t).send().await.unwrap().json().await.unwrap();
    assert_eq!(list["total"], 3);
}

async fn bad_reports_get_clear_errors(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    let t = app.user_token("analyste", "analyst", "ML").await;
    let before = app.audit_count().await;
    let cases = [
        (json!({"category": "armed_attack", "text": "x", "occurred_at": Utc::now() + Duration::days(2), "area_code": "ML-5"}), StatusCode::BAD_REQUEST, "occurred_at"),
        (json!({"category": "armed_attack", "text": "x", "occurred_at": Utc::now(), "lat": 48.85, "lon": 2.35}), StatusCode::BAD_REQUEST, "location.point"),
        (json!({"category": "armed_attack", "text": "x", "occurred_at": Utc::now(), "area_code": "ML-99"}), StatusCode::BAD_REQUEST, "area_code"),
        (json!({"category": "armed_attack", "text": "x", "occurred_at": "hier"}), StatusCode::UNPROCESSABLE_ENTITY, "occurred_at"),
        (json!({"category": "armed_attack", "text": "x", "occurred_at": Utc::now(), "lat": 14.0}), StatusCode::BAD_REQUEST, "lat"),
    ];
    for (body, status, field) in cases {
        let res = app.post("/api/v1/reports", &t).json(&body).send().await.unwrap();
        assert_eq!(res.status(), status, "{body}");
        let p: Value = res.json().await.unwrap();
        assert!(p["field"].as_str().unwrap_or("").starts_with(field), "{body} → {p}");
    }
    assert_eq!(app.audit_count().await, before, "nothing stored");
    let list: Value = app.get("/api/v1/reports", &t).send().await.unwrap().json().await.unwrap();
    assert_eq!(list["total"], 0);
    // An illegal lifecycle step is refused and changes nothing.
    let r: Value = app.post("/api/v1/reports", &t).json(&report("threat_intimidation", "ML-5", "menaces", 5)).send().await.unwrap().json().await.unwrap();
    let res = app.post(&format!("/api/v1/alerts/{}/commands", r["alert_id"]), &t).json(&json!({"command": "raise"})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST, "a moderate alert is verified before it is raised");
    let res = app.post(&format!("/api/v1/alerts/{}/commands", r["alert_id"]), &t).json(&json!({"command": "close", "outcome": "violence_prevented"})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // Raising an alert nobody is configured to receive: raised, and flagged for attention.
    app.post(&format!("/api/v1/alerts/{}/commands", r["alert_id"]), &t).json(&json!({"command": "verify"})).send().await.unwrap();
    let a: Value = app.post(&format!("/api/v1/alerts/{}/commands", r["alert_id"]), &t).json(&json!({"command": "raise"})).send().await.unwrap().json().await.unwrap();
    assert_eq!((a["state"].clone(), a["needs_attention"].clone()), (json!("alerted"), json!(true)));
}

/// Hand computation. Four alerts in Mopti, all raised:
///   A1 closed "violence_prevented", A2 "violence_stopped", A3 "violence_not_prevented", A4 "false_alarm".
///   Interventions with a known outcome (denominator) = A1, A2, A3 = 3; prevented or stopped = 2.
///   MINUSMA indicator = 2 / 3 = 66.7 %.
async fn indicators_match_a_hand_computed_example(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    let t = app.user_token("analyste", "analyst", "ML-5").await;
    let outcomes = ["violence_prevented", "violence_stopped", "violence_not_prevented", "false_alarm"];
    let places = ["ML-5-KORO", "ML-5-MOPTI", "ML-5", "ML-5-KORO"];
    for (i, (outcome, place)) in outcomes.iter().zip(places).enumerate() {
        let r: Value = app.post("/api/v1/reports", &t).json(&report("abduction", place, &format!("enlèvement numéro {i} de commerçants sur la route {}", ["nord", "sud", "est", "ouest"][i]), 600 - i as i64 * 100)).send().await.unwrap().json().await.unwrap();
        let id = r["alert_id"].as_i64().unwrap();
        let cmds: Vec<Value> = if *outcome == "false_alarm" {
            vec![json!({"command": "verify"}), json!({"command": "raise"}), json!({"command": "mark_false_alarm"})]
        } else {
            vec![json!({"command": "verify"}), json!({"command": "raise"}), json!({"command": "acknowledge"}), json!({"command": "respond", "actions": [{"action": "mediation"}]}), json!({"command": "close", "outcome": outcome})]
        };
        for c in cmds {
            app.advance(Duration::minutes(1));
            let res = app.post(&format!("/api/v1/alerts/{id}/commands"), &t).json(&c).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{c}: {}", res.text().await.unwrap());
        }
    }
    let from = (Utc::now() - Duration::days(2)).to_rfc3339().replace('+', "%2B");
    let to = (Utc::now() + Duration::days(2)).to_rfc3339().replace('+', "%2B");
    let ind: Value = app.get(&format!("/api/v1/indicators/early-warning?area=ML-5&from={from}&to={to}"), &t).send().await.unwrap().json().await.unwrap();
    let i = &ind["indicators"];
    assert_eq!(i["alerts_raised"], 4, "{ind}");
    assert_eq!(i["false_alarms"], 1, "{ind}");
    let inter = &i["interventions"];
    assert_eq!(inter["prevented"].as_u64().unwrap() + inter["stopped"].as_u64().unwrap(), 2, "{inter}");
    assert_eq!(inter["not_prevented"], 1, "{inter}");
    // A Tombouctou area shows none of it.
    let ind: Value = app.get(&format!("/api/v1/indicators/early-warning?area=ML-6&from={from}&to={to}"), &app.admin_token).send().await.unwrap().json().await.unwrap();
    assert_eq!(ind["indicators"]["alerts_raised"], 0);
}

async fn reports_and_alerts_are_area_scoped(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    let mopti = app.user_token("analyste.mopti", "analyst", "ML-5").await;
    let tombouctou = app.user_token("analyste.tombouctou", "analyst", "ML-6").await;
    let reporter = app.user_token("relais.koro", "reporter", "ML-5-KORO").await;
    let r: Value = app.post("/api/v1/reports", &reporter).json(&report("displacement", "ML-5-KORO", "des familles fuient", 5)).send().await.unwrap().json().await.unwrap();
    // A focal point reports only in their area, and cannot read reports.
    let res = app.post("/api/v1/reports", &reporter).json(&report("displacement", "ML-6-GOUNDAM", "x", 5)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.get("/api/v1/reports", &reporter).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(app.get(&format!("/api/v1/reports/{}", r["report_id"]), &mopti).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(app.get(&format!("/api/v1/reports/{}", r["report_id"]), &tombouctou).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(app.get(&format!("/api/v1/alerts/{}", r["alert_id"]), &tombouctou).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    let res = app.post(&format!("/api/v1/alerts/{}/commands", r["alert_id"]), &tombouctou).json(&json!({"command": "verify"})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let l: Value = app.get("/api/v1/reports", &tombouctou).send().await.unwrap().json().await.unwrap();
    assert_eq!(l["total"], 0);
    let l: Value = app.get("/api/v1/alerts", &mopti).send().await.unwrap().json().await.unwrap();
    assert_eq!(l["total"], 1);
    // Unplaced reports are seen only by those who see the whole tree.
    app.post("/api/v1/reports", &app.admin_token).json(&json!({"text": "sans lieu", "category": "other", "occurred_at": Utc::now()})).send().await.unwrap();
    let l: Value = app.get("/api/v1/reports", &mopti).send().await.unwrap().json().await.unwrap();
    assert_eq!(l["total"], 1);
    let l: Value = app.get("/api/v1/reports", &app.admin_token).send().await.unwrap().json().await.unwrap();
    assert_eq!(l["total"], 2);
}

async fn webhooks_are_signed_and_retried(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    // A subscriber on loopback that fails the first delivery, then records them.
    let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(String, String)>::new()));
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (r2, c2) = (received.clone(), calls.clone());
    let hook = axum::Router::new().route("/hook", axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
        let (r, c) = (r2.clone(), c2.clone());
        async move {
            if c.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                return axum::http::StatusCode::SERVICE_UNAVAILABLE;
            }
            r.lock().unwrap().push((headers["x-vigie-signature"].to_str().unwrap().to_string(), body));
            axum::http::StatusCode::OK
        }
    }));
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, hook).await.unwrap() });
    let res = app.post("/api/v1/webhooks", &app.admin_token).json(&json!({"url": url, "events": ["report.created"], "area_code": "ML-5"})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let secret = res.json::<Value>().await.unwrap()["secret"].as_str().unwrap().to_string();
    let t = app.user_token("analyste", "analyst", "ML").await;
    app.post("/api/v1/reports", &t).json(&report("displacement", "ML-5-KORO", "déplacés", 5)).send().await.unwrap();
    app.post("/api/v1/reports", &t).json(&report("displacement", "ML-6-GOUNDAM", "hors zone du webhook", 5)).send().await.unwrap();
    let client = reqwest::Client::new();
    assert_eq!(vigie_server::workers::run_webhooks_once(&app.state, &client, "w1").await.unwrap(), 1);
    assert!(received.lock().unwrap().is_empty(), "first delivery failed");
    // Retried after its backoff.
    assert_eq!(vigie_server::workers::run_webhooks_once(&app.state, &client, "w1").await.unwrap(), 0);
    app.advance(Duration::seconds(11));
    assert_eq!(vigie_server::workers::run_webhooks_once(&app.state, &client, "w1").await.unwrap(), 1);
    let got = received.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "only the Mopti report");
    let (sig, body) = &got[0];
    assert_eq!(sig, &vigie_server::workers::signature(&secret, body.as_bytes()));
    let v: Value = serde_json::from_str(body).unwrap();
    assert_eq!(v["event"], "report.created");
    assert_eq!(v["data"]["area"], "ML-5-KORO");
}
