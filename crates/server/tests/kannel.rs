//! The SMS channel for real: a Kannel gateway (bearerbox + smsbox + fakesmsc, started by
//! scripts/kannel.sh on loopback) talking to Vigie. An SMS in → a report in Vigie → a reply out,
//! observed at fakesmsc; an analyst's question out and the reporter's answer in; a responder's
//! alert out with its delivery report; Kannel down → the message waits in the queue.

use crate::support;

use chrono::{Duration, Utc};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::process::Command;
use support::{Backend, TestApp};

both_backends!(sms_round_trip_through_kannel, auto_raised_alert_sms_to_sms_through_kannel);

struct Kannel {
    env: HashMap<String, String>,
}

impl Kannel {
    fn script() -> String {
        format!("{}/../../scripts/kannel.sh", env!("CARGO_MANIFEST_DIR"))
    }
    fn start(vigie_port: u16, key: &str) -> Kannel {
        let out = Command::new("bash").arg(Self::script()).arg("start").env("VIGIE_PORT", vigie_port.to_string()).env("VIGIE_SMS_KEY", key).output().unwrap();
        assert!(out.status.success(), "kannel start: {}", String::from_utf8_lossy(&out.stderr));
        let mut env = HashMap::new();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            for part in line.trim_start_matches("export ").split(' ') {
                if let Some((k, v)) = part.split_once('=') {
                    env.insert(k.to_string(), v.trim_matches('\'').to_string());
                }
            }
        }
        Kannel { env }
    }
    fn dir(&self) -> &str {
        &self.env["KANNEL_DIR"]
    }
    fn inject(&self, from: &str, text: &str) {
        let out = Command::new("bash").arg(Self::script()).args(["inject", self.dir(), from, text]).output().unwrap();
        assert!(out.status.success(), "inject: {}", String::from_utf8_lossy(&out.stderr));
    }
    fn received(&self) -> Vec<Value> {
        let out = Command::new("bash").arg(Self::script()).args(["received", self.dir()]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
    }
    /// Waits (bounded) until fakesmsc got a message to `to` satisfying `pred`.
    async fn wait_for(&self, to: &str, pred: impl Fn(&str) -> bool) -> String {
        for _ in 0..100 {
            if let Some(m) = self.received().into_iter().find(|m| m["to"].as_str().is_some_and(|t| t.ends_with(&to[to.len() - 8..])) && pred(m["text"].as_str().unwrap_or(""))) {
                return m["text"].as_str().unwrap().to_string();
            }
            tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        }
        panic!("no SMS to {to} at fakesmsc; got {:?}", self.received());
    }
    fn gateway(&self) -> vigie_server::SmsGateway {
        vigie_server::SmsGateway {
            sendsms_url: self.env["KANNEL_SENDSMS_URL"].clone(),
            username: self.env["KANNEL_SENDSMS_USER"].clone(),
            password: self.env["KANNEL_SENDSMS_PASSWORD"].clone(),
            from: "Vigie".into(),
        }
    }
    fn stop(&self) {
        let _ = Command::new("bash").arg(Self::script()).args(["stop", self.dir()]).output();
    }
}

impl Drop for Kannel {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn sms_round_trip_through_kannel(b: Backend) {
    let key = "test-inbound-key-0123456789";
    let cfg = vigie_server::ServerConfig { sms_inbound_key: Some(key.into()), ..Default::default() };
    let Some(app) = TestApp::spawn_with(b, cfg).await else { return };
    let port: u16 = app.base.rsplit(':').next().unwrap().parse().unwrap();
    let kannel = Kannel::start(port, key);
    let mut config = (*app.state.config).clone();
    config.sms_gateway = Some(kannel.gateway());
    config.public_url = Some(app.base.clone());
    let state = vigie_server::AppState { config: std::sync::Arc::new(config), ..app.state.clone() };
    let http = reqwest::Client::new();

    // 1. A focal point's SMS becomes a report, and the reply with its reference reaches the phone.
    let phone = "+22376123456";
    app.user_token("relais.koro", "reporter", "ML-5-KORO").await;
    let uid = vigie_storage::users::id_by_username(&app.db, "relais.koro").await.unwrap();
    let res = app.http.patch(app.url(&format!("/api/v1/users/{uid}"))).bearer_auth(&app.admin_token).json(&json!({"phone": "76 12 34 56"})).send().await.unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    kannel.inject(phone, "ALERTE attaque Koro des hommes armes ont tire au marche");
    let reply = kannel.wait_for(phone, |t| t.contains("Vigie")).await;
    let list: Value = app.get("/api/v1/reports", &app.admin_token).send().await.unwrap().json().await.unwrap();
    assert_eq!(list["total"], 1, "{list}");
    let r = &list["items"][0];
    assert_eq!(r["channel"], "sms");
    assert_eq!(r["reporter_kind"], "focal_point", "recognised by number");
    assert_eq!(r["category_code"], "armed_attack");
    assert_eq!(r["area_code"], "ML-5-KORO");
    assert!(reply.contains(r["reference"].as_str().unwrap()), "reply {reply:?} quotes the reference");
    // The number is sealed in the database.
    let raw: Vec<String> = vigie_storage::run!(&app.db.read, c => sqlx::query_scalar("SELECT from_sealed FROM sms_inbox").fetch_all(c).await.unwrap());
    assert!(raw.iter().all(|v| !v.contains("76123456")));

    // 2. Garbage is kept as a raw report and answered helpfully; nothing is dropped.
    kannel.inject("+22376999999", "bonjour ?? xx");
    let reply = kannel.wait_for("+22376999999", |_| true).await;
    assert!(reply.contains("ALERTE"), "{reply}");
    let list: Value = app.get("/api/v1/reports?unplaced=true", &app.admin_token).send().await.unwrap().json().await.unwrap();
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["reporter_kind"], "anonymous", "unknown numbers are anonymous");

    // 3. The analyst asks a question; it leaves by SMS; the answer threads under the report.
    let report_id = r["id"].as_i64().unwrap();
    let asked: Value = app.post(&format!("/api/v1/reports/{report_id}/messages"), &app.admin_token).json(&json!({"body": "Combien de blessés ?"})).send().await.unwrap().json().await.unwrap();
    assert_eq!(asked["by_sms"], true);
    assert_eq!(vigie_server::workers::run_sms_once(&state, state.config.sms_gateway.as_ref().unwrap(), &http, "w").await.unwrap(), 1);
    kannel.wait_for(phone, |t| t.contains("blessés") || t.contains("blesses")).await;
    kannel.inject(phone, "trois blesses evacues vers Mopti");
    for _ in 0..100 {
        let thread: Value = app.get(&format!("/api/v1/reports/{report_id}/messages"), &app.admin_token).send().await.unwrap().json().await.unwrap();
        if thread.as_array().unwrap().iter().any(|m| m["direction"] == "from_reporter" && m["body"].as_str().unwrap().contains("trois")) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let thread: Value = app.get(&format!("/api/v1/reports/{report_id}/messages"), &app.admin_token).send().await.unwrap().json().await.unwrap();
    assert!(thread.as_array().unwrap().iter().any(|m| m["direction"] == "from_reporter"), "{thread}");

    // 4. A responder's alert SMS leaves through Kannel and its delivery report comes back.
    app.post("/api/v1/escalation-rules", &app.admin_token).json(&json!({"category_code": "armed_attack", "min_severity": 1, "area_code": "ML-5",
        "levels": [{"name": "Gendarmerie de Koro", "phone": "+22365000001", "ack_minutes": 30}]})).send().await.unwrap();
    let alert = r["alert_id"].as_i64().unwrap();
    let res = app.post(&format!("/api/v1/alerts/{alert}/commands"), &app.admin_token).json(&json!({"command": "raise"})).send().await.unwrap();
    assert_eq!(res.status(), 200, "critical alerts can be raised before verification");
    assert_eq!(vigie_server::workers::run_sms_once(&state, state.config.sms_gateway.as_ref().unwrap(), &http, "w").await.unwrap(), 1);
    let text = kannel.wait_for("+22365000001", |t| t.contains("ALERTE")).await;
    assert!(text.contains(&format!("Vigie {alert}")), "{text}");
    let mut dlr = None;
    for _ in 0..60 {
        let o = vigie_storage::sms::outbox_for_alert(&app.db, alert).await.unwrap();
        if o[0].dlr_status.is_some() {
            dlr = o[0].dlr_status;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    }
    assert!(dlr.is_some(), "a delivery report was recorded");

    // 5. The SUIVI command answers the sender about their own report only.
    kannel.inject(phone, &format!("SUIVI {}", r["reference"].as_str().unwrap()));
    kannel.wait_for(phone, |t| t.contains("transmise") || t.contains("intervenants")).await;

    // 6. Kannel down: the message waits in the queue and is not lost.
    kannel.stop();
    app.post(&format!("/api/v1/reports/{report_id}/messages"), &app.admin_token).json(&json!({"body": "Merci"})).send().await.unwrap();
    vigie_server::workers::run_sms_once(&state, state.config.sms_gateway.as_ref().unwrap(), &http, "w").await.unwrap();
    let queued: i64 = vigie_storage::run!(&app.db.read, c => sqlx::query_scalar("SELECT COUNT(*) FROM sms_outbox WHERE status = 'queued' AND last_error LIKE 'gateway unreachable%'").fetch_one(c).await.unwrap());
    assert_eq!(queued, 1);
    let _ = (Utc::now(), Duration::zero());
}

/// Issue 11.2 end to end with the real workers: a focal point's SMS of a category whose
/// escalation rule auto-raises goes into fakesmsc, and the responder's alert SMS comes out of
/// Kannel with no person and no test code in between (wake-ups, not polls, move it along).
async fn auto_raised_alert_sms_to_sms_through_kannel(b: Backend) {
    let key = "test-inbound-key-auto-raise-01";
    let cfg = vigie_server::ServerConfig { sms_inbound_key: Some(key.into()), ..Default::default() };
    let Some(app) = TestApp::spawn_with(b, cfg).await else { return };
    let port: u16 = app.base.rsplit(':').next().unwrap().parse().unwrap();
    let kannel = Kannel::start(port, key);
    let mut config = (*app.state.config).clone();
    config.sms_gateway = Some(kannel.gateway());
    vigie_server::workers::spawn(vigie_server::AppState { config: std::sync::Arc::new(config), ..app.state.clone() });

    let res = app.post("/api/v1/escalation-rules", &app.admin_token).json(&json!({"category_code": "armed_attack", "min_severity": 3, "area_code": "ML-5", "auto_raise": true,
        "levels": [{"name": "Gendarmerie de Koro", "phone": "+22365000009", "ack_minutes": 30}]})).send().await.unwrap();
    assert_eq!(res.status(), 201);
    app.user_token("relais.koro", "reporter", "ML-5-KORO").await;
    let uid = vigie_storage::users::id_by_username(&app.db, "relais.koro").await.unwrap();
    let res = app.http.patch(app.url(&format!("/api/v1/users/{uid}"))).bearer_auth(&app.admin_token).json(&json!({"phone": "76 55 44 33"})).send().await.unwrap();
    assert_eq!(res.status(), 200);

    // An unknown number's SMS of the same category is not raised automatically.
    kannel.inject("+22376000111", "ALERTE attaque Mopti coups de feu entendus vers le port");
    kannel.wait_for("+22376000111", |t| t.contains("Vigie")).await;

    kannel.inject("+22376554433", "ALERTE attaque Koro des hommes armes encerclent le marche");
    let text = kannel.wait_for("+22365000009", |t| t.contains("ALERTE Vigie")).await;
    let alerted: Value = app.get("/api/v1/alerts?state=alerted", &app.admin_token).send().await.unwrap().json().await.unwrap();
    assert_eq!(alerted["total"], 1, "{alerted}");
    let a = &alerted["items"][0];
    assert!(text.contains(&format!("Vigie {}", a["id"])), "{text}");
    assert_eq!(a["lifecycle"]["raised_automatically"], true);
    let msgs = kannel.received();
    assert_eq!(msgs.iter().filter(|m| m["to"].as_str().is_some_and(|t| t.ends_with("65000009"))).count(), 1, "one responder SMS: {msgs:?}");
    let reported: Value = app.get("/api/v1/alerts?state=reported", &app.admin_token).send().await.unwrap().json().await.unwrap();
    assert_eq!(reported["total"], 1, "the anonymous report's event waits for an analyst: {reported}");
}
