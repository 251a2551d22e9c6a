//! Early warning, the analyst's tools and the limits around them, on both backends:
//! events merged and split (API and web forms) without losing a report, the alert following
//! its reports; attachments checked by their bytes, size-limited, sealed and area-scoped;
//! protected categories hidden from mere `reports.read` holders; the MINUSMA indicator
//! function the results framework reads.

use crate::support;

use chrono::{Duration, Utc};
use reqwest::header;
use reqwest::redirect;
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{Backend, TestApp, PASSWORD};
use vigie_domain::area::AreaPath;
use vigie_domain::early_warning::indicators::Period;

both_backends!(
    merging_moves_every_report_and_the_alert_follows,
    splitting_makes_a_new_event_and_loses_nothing,
    events_are_merged_and_split_with_web_forms,
    attachments_are_sniffed_limited_sealed_and_scoped,
    attachments_through_the_web_form,
    protected_reports_need_cases_read,
    minusma_indicator_by_subtree_and_period,
);

fn report(cat: &str, area: &str, text: &str, minutes_ago: i64) -> Value {
    json!({"category": cat, "text": text, "occurred_at": Utc::now() - Duration::minutes(minutes_ago), "area_code": area})
}

async fn send(app: &TestApp, token: &str, body: Value) -> Value {
    let res = app.post("/api/v1/reports", token).json(&body).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap());
    res.json().await.unwrap()
}

async fn command(app: &TestApp, token: &str, alert: i64, cmd: Value) -> reqwest::Response {
    app.advance(Duration::seconds(30));
    app.post(&format!("/api/v1/alerts/{alert}/commands"), token).json(&cmd).send().await.unwrap()
}

async fn alert(app: &TestApp, token: &str, id: i64) -> Value {
    app.get(&format!("/api/v1/alerts/{id}"), token).send().await.unwrap().json().await.unwrap()
}

async fn audit_actions(app: &TestApp, alert: i64) -> Vec<String> {
    let log: Value = app.get(&format!("/api/v1/audit?entity=alert&entity_id={alert}&per_page=100"), &app.admin_token).send().await.unwrap().json().await.unwrap();
    log["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_string()).collect()
}

async fn report_count(app: &TestApp) -> i64 {
    vigie_storage::run!(&app.db.read, c => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM reports").fetch_one(c).await.unwrap())
}

fn ids(v: &Value) -> Vec<i64> {
    let mut out: Vec<i64> = v.as_array().unwrap().iter().map(|x| x.as_i64().unwrap()).collect();
    out.sort();
    out
}

async fn merging_moves_every_report_and_the_alert_follows(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    let analyst = app.user_token("analyste.mopti", "analyst", "ML-5").await;
    let outsider = app.user_token("analyste.tombouctou", "analyst", "ML-6").await;
    let rule = json!({"category_code": null, "min_severity": 1, "area_code": "ML-5", "levels": [
        {"name": "Brigade de Koro", "phone": "76 00 00 01", "ack_minutes": 30},
        {"name": "Préfet de Koro", "phone": "76 00 00 02", "ack_minutes": 30}]});
    assert_eq!(app.post("/api/v1/escalation-rules", &analyst).json(&rule).send().await.unwrap().status(), StatusCode::CREATED);
    // Three witnesses that clustering kept apart (different places and words).
    let a = send(&app, &analyst, report("armed_attack", "ML-5-KORO", "Des hommes armés ont attaqué le marché de Dinangourou", 90)).await;
    let b2 = send(&app, &analyst, report("armed_attack", "ML-5-MOPTI", "coups de feu entendus vers la foire hebdomadaire", 80)).await;
    let c = send(&app, &analyst, report("threat_intimidation", "ML-5", "menaces contre les commerçants venus de Koro", 70)).await;
    let (e1, e2, e3) = (a["alert_id"].as_i64().unwrap(), b2["alert_id"].as_i64().unwrap(), c["alert_id"].as_i64().unwrap());
    assert!(e1 != e2 && e2 != e3 && e1 != e3, "three events: {a} {b2} {c}");
    // The second event's alert is raised: the first responder is notified.
    assert_eq!(command(&app, &analyst, e2, json!({"command": "verify"})).await.status(), StatusCode::OK);
    assert_eq!(command(&app, &analyst, e2, json!({"command": "raise"})).await.status(), StatusCode::OK);
    let before = report_count(&app).await;

    // Refusals change nothing: another area, the same event, an empty list, unknown ids.
    let res = app.post(&format!("/api/v1/events/{e1}/merge"), &outsider).json(&json!({"other_event_ids": [e2]})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app.post(&format!("/api/v1/events/{e1}/merge"), &analyst).json(&json!({"other_event_ids": [e1]})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let p: Value = res.json().await.unwrap();
    assert_eq!(p["detail"], "Un événement ne peut pas être fusionné avec lui-même.", "{p}");
    assert_eq!(app.post(&format!("/api/v1/events/{e1}/merge"), &analyst).json(&json!({"other_event_ids": []})).send().await.unwrap().status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.post(&format!("/api/v1/events/{e1}/merge"), &analyst).json(&json!({"other_event_ids": [999999]})).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(alert(&app, &analyst, e2).await["merged_into"], Value::Null);

    let res = app.post(&format!("/api/v1/events/{e1}/merge"), &analyst).json(&json!({"other_event_ids": [e2, e3, e3]})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
    let m: Value = res.json().await.unwrap();
    assert_eq!(m["reports_moved"], 2, "{m}");
    assert_eq!(m["lifecycle_from"], e2, "the raised alert's lifecycle is carried on");
    assert_eq!(ids(&m["event"]["report_ids"]), vec![a["report_id"].as_i64().unwrap(), b2["report_id"].as_i64().unwrap(), c["report_id"].as_i64().unwrap()]);
    assert_eq!(m["event"]["state"], "alerted");
    assert!(m["event"]["wake_at"].is_string(), "the escalation clock came along: {m}");
    assert_eq!(report_count(&app).await, before, "no report dropped");
    for gone in [e2, e3] {
        let g = alert(&app, &analyst, gone).await;
        assert_eq!(g["merged_into"], e1);
        assert!(g["report_ids"].as_array().unwrap().is_empty());
    }
    let list: Value = app.get("/api/v1/alerts", &analyst).send().await.unwrap().json().await.unwrap();
    assert_eq!(list["total"], 1, "absorbed events leave the list: {list}");

    // The escalation goes on under the merged event, notifications re-attached to it.
    app.advance(Duration::minutes(31));
    assert_eq!(vigie_storage::alerts::escalate_due(&app.db, app.now()).await.unwrap(), 1);
    let sms: Vec<String> = vigie_storage::run!(&app.db.read, c => sqlx::query_scalar("SELECT text FROM sms_outbox WHERE alert_id = $1 ORDER BY id").bind(e1).fetch_all(c).await.unwrap());
    let sms: Vec<String> = sms.iter().map(|t| app.db.keys().unwrap().open_string(t, "sms_outbox.text").unwrap()).collect();
    assert_eq!(sms.len(), 2, "{sms:?}");
    assert!(sms[1].starts_with("ESCALADE"), "{sms:?}");
    // A responder answering the absorbed alert's number reaches the merged event.
    let res = command(&app, &outsider, e2, json!({"command": "acknowledge", "level": 1})).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "checked over the merged event's area");
    let gendarme = app.user_token("gendarmerie.koro", "responder", "ML-5").await;
    let res = command(&app, &gendarme, e2, json!({"command": "acknowledge", "level": 1})).await;
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
    let acked: Value = res.json().await.unwrap();
    assert_eq!((acked["id"].as_i64(), acked["state"].as_str()), (Some(e1), Some("acknowledged")));

    // A second raised alert cannot be folded into this one; a merged event cannot be merged again.
    let d = send(&app, &analyst, report("abduction", "ML-5-KORO", "enlèvement d'un chef de village sur la route de Bandiagara", 20)).await;
    let e4 = d["alert_id"].as_i64().unwrap();
    command(&app, &analyst, e4, json!({"command": "verify"})).await;
    command(&app, &analyst, e4, json!({"command": "raise"})).await;
    let res = app.post(&format!("/api/v1/events/{e1}/merge"), &analyst).json(&json!({"other_event_ids": [e4]})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let p: Value = res.json().await.unwrap();
    assert!(p["detail"].as_str().unwrap().contains("ont chacun une alerte lancée"), "{p}");
    assert_eq!(alert(&app, &analyst, e4).await["report_ids"].as_array().unwrap().len(), 1, "nothing moved");
    let res = app.post(&format!("/api/v1/events/{e4}/merge"), &analyst).json(&json!({"other_event_ids": [e2]})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);

    // Audited on both sides.
    let log = audit_actions(&app, e1).await;
    assert!(log.contains(&"event.merge".to_string()), "{log:?}");
    assert!(audit_actions(&app, e2).await.contains(&"event.merged_into".to_string()));
    // Counted once in the indicators: e1 (carrying e2's alert) and e4.
    let period = Period::new(Utc::now() - Duration::days(1), Utc::now() + Duration::days(2)).unwrap();
    let ind = vigie_storage::alerts::indicators(&app.db, &AreaPath("ML/ML-5".into()), period, app.now()).await.unwrap();
    assert_eq!((ind.records, ind.alerts_raised), (2, 2), "{ind:?}");
}

async fn splitting_makes_a_new_event_and_loses_nothing(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    let analyst = app.user_token("analyste", "analyst", "ML-5").await;
    let outsider = app.user_token("analyste.tombouctou", "analyst", "ML-6").await;
    let r1 = send(&app, &analyst, report("armed_attack", "ML-5-KORO", "Attaque armée contre le marché de Koro, plusieurs blessés", 60)).await;
    let r2 = send(&app, &analyst, report("armed_attack", "ML-5-KORO", "attaque du marché de Koro par des hommes armés, des blessés", 50)).await;
    let r3 = send(&app, &analyst, report("armed_attack", "ML-5-KORO", "attaque armée au marché de Koro, blessés évacués", 40)).await;
    let ev = r1["alert_id"].as_i64().unwrap();
    assert_eq!((r2["alert_id"].as_i64(), r3["alert_id"].as_i64()), (Some(ev), Some(ev)), "clustered together");
    let (id1, id2, id3) = (r1["report_id"].as_i64().unwrap(), r2["report_id"].as_i64().unwrap(), r3["report_id"].as_i64().unwrap());
    // The analyst verified the third report: its new event starts verified.
    let res = app.post(&format!("/api/v1/reports/{id3}/verification"), &analyst).json(&json!({"status": "verified", "grade": "B2"})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    app.advance(Duration::seconds(10));

    let bad = [
        (json!({"report_ids": []}), StatusCode::BAD_REQUEST, "Choisissez au moins un signalement à séparer."),
        (json!({"report_ids": [id1, id2, id3]}), StatusCode::BAD_REQUEST, "Au moins un signalement doit rester dans l'événement."),
        (json!({"report_ids": [424242]}), StatusCode::BAD_REQUEST, "Le signalement 424242 n'appartient pas à cet événement."),
    ];
    for (body, status, detail) in bad {
        let res = app.post(&format!("/api/v1/events/{ev}/split"), &analyst).json(&body).send().await.unwrap();
        assert_eq!(res.status(), status, "{body}");
        assert_eq!(res.json::<Value>().await.unwrap()["detail"], detail, "{body}");
    }
    assert_eq!(app.post(&format!("/api/v1/events/{ev}/split"), &outsider).json(&json!({"report_ids": [id2]})).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    let res = app.post(&format!("/api/v1/events/{ev}/split"), &analyst).header("accept-language", "en").json(&json!({"report_ids": [id3, 77]})).send().await.unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["detail"], "Report 77 does not belong to this event.");
    assert_eq!(ids(&alert(&app, &analyst, ev).await["report_ids"]), vec![id1, id2, id3], "failed splits change nothing");

    let res = app.post(&format!("/api/v1/events/{ev}/split"), &analyst).json(&json!({"report_ids": [id2, id3]})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap());
    let s: Value = res.json().await.unwrap();
    assert_eq!(ids(&s["event"]["report_ids"]), vec![id1]);
    assert_eq!(ids(&s["new_event"]["report_ids"]), vec![id2, id3]);
    assert_eq!(s["new_event"]["state"], "verified", "{s}");
    assert_eq!(s["new_event"]["area_code"], "ML-5-KORO");
    let new_ev = s["new_event"]["id"].as_i64().unwrap();
    assert_eq!(report_count(&app).await, 3);
    let r: Value = app.get(&format!("/api/v1/reports/{id2}"), &analyst).send().await.unwrap().json().await.unwrap();
    assert_eq!(r["alert_id"], new_ev);
    assert!(audit_actions(&app, ev).await.contains(&"event.split".to_string()));
    assert!(audit_actions(&app, new_ev).await.contains(&"event.split_from".to_string()));
    // Merging back restores one event of three reports.
    let res = app.post(&format!("/api/v1/events/{ev}/merge"), &analyst).json(&json!({"other_event_ids": [new_ev]})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(ids(&res.json::<Value>().await.unwrap()["event"]["report_ids"]), vec![id1, id2, id3]);
    // A finished event gives no reports.
    command(&app, &analyst, ev, json!({"command": "cancel", "reason": "doublon"})).await;
    let res = app.post(&format!("/api/v1/events/{ev}/split"), &analyst).json(&json!({"report_ids": [id2]})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    // Both routes are in the OpenAPI document.
    let doc: Value = app.http.get(app.url("/api/v1/openapi.json")).send().await.unwrap().json().await.unwrap();
    for p in ["/api/v1/events/{id}/merge", "/api/v1/events/{id}/split", "/api/v1/reports/{id}/attachments", "/api/v1/reports/{id}/attachments/{attachment_id}"] {
        assert!(doc["paths"][p].is_object(), "{p} not documented");
    }
}

// ---- Web ----

fn browser() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(redirect::Policy::none()).build().unwrap()
}

fn csrf_of(html: &str) -> String {
    let i = html.find(r#"name="csrf" value=""#).expect("csrf field") + r#"name="csrf" value=""#.len();
    html[i..].split('"').next().unwrap().to_string()
}

fn location(res: &reqwest::Response) -> String {
    res.headers().get(header::LOCATION).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default()
}

async fn signed_in(app: &TestApp, user: &str) -> (reqwest::Client, String) {
    let c = browser();
    let page = c.get(app.url("/connexion")).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_of(&page);
    let res = c.post(app.url("/connexion")).form(&[("username", user), ("password", PASSWORD), ("csrf", &csrf), ("suite", "/")]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let home = c.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_of(&home);
    (c, csrf)
}

async fn events_are_merged_and_split_with_web_forms(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    let analyst = app.user_token("analyste.mopti", "analyst", "ML-5").await;
    let r1 = send(&app, &analyst, report("armed_attack", "ML-5-KORO", "Attaque armée contre le marché de Koro, plusieurs blessés", 60)).await;
    let r2 = send(&app, &analyst, report("armed_attack", "ML-5-KORO", "attaque du marché de Koro par des hommes armés, des blessés", 50)).await;
    let ev = r1["alert_id"].as_i64().unwrap();
    let (id1, id2) = (r1["report_id"].as_i64().unwrap(), r2["report_id"].as_i64().unwrap());
    let (c, csrf) = signed_in(&app, "analyste.mopti").await;
    let page = c.get(app.url(&format!("/signalements/{id2}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(&format!(r#"action="/evenements/{ev}/separation""#)), "split form shown");
    assert!(page.contains(&format!(r#"action="/evenements/{ev}/fusion""#)), "merge form shown");

    // Without the CSRF field: refused, nothing moved.
    let res = c.post(app.url(&format!("/evenements/{ev}/separation"))).form(&[("retour", id2.to_string()), ("signalement", id2.to_string())]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(ids(&alert(&app, &analyst, ev).await["report_ids"]), vec![id1, id2]);

    let res = c.post(app.url(&format!("/evenements/{ev}/separation"))).form(&[("csrf", csrf.clone()), ("retour", id2.to_string()), ("signalement", id2.to_string())]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), format!("/signalements/{id2}?fait=separation#evenement"));
    let moved: Value = app.get(&format!("/api/v1/reports/{id2}"), &analyst).send().await.unwrap().json().await.unwrap();
    let new_ev = moved["alert_id"].as_i64().unwrap();
    assert_ne!(new_ev, ev);
    let page = c.get(app.url(&location(&res))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Signalement séparé : nouvel événement créé."), "{page}");

    // Merge back from the first report's page; a typo comes back as a message on the page.
    let res = c.post(app.url(&format!("/evenements/{ev}/fusion"))).form(&[("csrf", csrf.clone()), ("retour", id1.to_string()), ("autres", format!("{ev}"))]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let html = res.text().await.unwrap();
    assert!(html.contains("Un événement ne peut pas être fusionné avec lui-même."), "{html}");
    let res = c.post(app.url(&format!("/evenements/{ev}/fusion"))).form(&[("csrf", csrf.clone()), ("retour", id1.to_string()), ("autres", format!("n°{new_ev}"))]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{}", res.text().await.unwrap());
    assert_eq!(ids(&alert(&app, &analyst, ev).await["report_ids"]), vec![id1, id2]);
    // The same from the event's own page: tick reports to split, type numbers to merge.
    let page = c.get(app.url(&format!("/alertes/{ev}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(&format!(r#"name="signalement" value="{id1}""#)), "checkbox per report");
    let res = c.post(app.url(&format!("/evenements/{ev}/separation"))).form(&[("csrf", csrf.clone()), ("signalement", id1.to_string())]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let third: Value = app.get(&format!("/api/v1/reports/{id1}"), &analyst).send().await.unwrap().json().await.unwrap();
    let third = third["alert_id"].as_i64().unwrap();
    assert_eq!(location(&res), format!("/alertes/{third}#h-reports"));
    let res = c.post(app.url(&format!("/evenements/{third}/fusion"))).form(&[("csrf", csrf.clone()), ("autres", ev.to_string())]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(ids(&alert(&app, &analyst, third).await["report_ids"]), vec![id1, id2]);
    let page = c.get(app.url(&format!("/alertes/{ev}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(&format!(r#"<a href="/alertes/{third}">n° {third}</a>"#)), "the absorbed event points to the merged one");
    let res = c.post(app.url(&format!("/evenements/{ev}/fusion"))).form(&[("csrf", csrf.clone()), ("autres", third.to_string())]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT, "a merged event takes no more merges");
    let ev = third;
    // Someone outside the area gets neither the forms nor the actions.
    app.user_token("analyste.tombouctou", "analyst", "ML-6").await;
    let (t, tcsrf) = signed_in(&app, "analyste.tombouctou").await;
    let res = t.post(app.url(&format!("/evenements/{ev}/separation"))).form(&[("csrf", tcsrf), ("retour", id2.to_string()), ("signalement", id2.to_string())]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(ids(&alert(&app, &analyst, ev).await["report_ids"]), vec![id1, id2]);
}

// ---- Attachments ----

const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F', 0, 1, 1, 0, 0, 1];
const AMR: &[u8] = b"#!AMR\n\x3c\x48\x77\x44\x1e\x00\x00\x00";
const PHP: &[u8] = b"<?php system($_GET['c']); ?>";

fn jpeg(size: usize) -> Vec<u8> {
    let mut v = JPEG.to_vec();
    v.resize(size, 0x42);
    v
}

fn upload_form(bytes: Vec<u8>, name: &str, mime: &str) -> reqwest::multipart::Form {
    reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()).mime_str(mime).unwrap())
}

async fn upload(app: &TestApp, token: &str, report: i64, bytes: Vec<u8>, name: &str, mime: &str) -> reqwest::Response {
    app.post(&format!("/api/v1/reports/{report}/attachments"), token).multipart(upload_form(bytes, name, mime)).send().await.unwrap()
}

async fn attachments_are_sniffed_limited_sealed_and_scoped(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    let analyst = app.user_token("analyste.mopti", "analyst", "ML-5").await;
    let outsider = app.user_token("analyste.tombouctou", "analyst", "ML-6").await;
    let relay = app.user_token("relais.koro", "reporter", "ML-5-KORO").await;
    let other_relay = app.user_token("relais.mopti", "reporter", "ML-5-MOPTI").await;
    let r = send(&app, &relay, report("displacement", "ML-5-KORO", "des familles arrivent à pied", 30)).await;
    let id = r["report_id"].as_i64().unwrap();
    let audit_before = app.audit_count().await;

    // The bytes decide, not the header: a script named photo.jpg, a PDF, an empty file.
    let res = upload(&app, &analyst, id, PHP.to_vec(), "photo.jpg", "image/jpeg").await;
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let p: Value = res.json().await.unwrap();
    assert_eq!(p["detail"], "Le contenu du fichier ne correspond pas au type annoncé (image/jpeg).", "{p}");
    assert_eq!(upload(&app, &analyst, id, b"%PDF-1.7 ...".to_vec(), "rapport.pdf", "application/pdf").await.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(upload(&app, &analyst, id, PHP.to_vec(), "x", "application/octet-stream").await.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(upload(&app, &analyst, id, Vec::new(), "vide.jpg", "image/jpeg").await.status(), StatusCode::BAD_REQUEST);
    // Over the photo limit (5 MB), and far over any limit (the request is cut short).
    let res = upload(&app, &analyst, id, jpeg(5 * 1024 * 1024 + 1), "grande.jpg", "image/jpeg").await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(res.json::<Value>().await.unwrap()["detail"], "Fichier trop volumineux : 5 Mo au plus.");
    // The server answers 413 as soon as the body passes the limit and stops reading: the client,
    // still writing, gets either that answer or a closed connection (a race on the socket).
    let big = app.post(&format!("/api/v1/reports/{id}/attachments"), &analyst).multipart(upload_form(jpeg(24 * 1024 * 1024), "enorme.jpg", "image/jpeg")).send().await;
    match big {
        Ok(res) => {
            assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
            let p: Value = res.json().await.unwrap();
            assert_eq!(p["detail"], "Fichier trop volumineux : 10 Mo au plus.", "{p}");
        }
        Err(e) => assert!(e.is_request() && !e.is_timeout(), "cut short by the server, not failed otherwise: {e:?}"),
    }
    assert_eq!(app.audit_count().await, audit_before, "nothing stored, nothing logged");

    // A photo from the analyst; a voice note (sent as octet-stream) from the focal point who made the report.
    let res = upload(&app, &analyst, id, jpeg(2048), "../Photo marché Koro.JPG", "image/jpeg").await;
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap());
    let photo: Value = res.json().await.unwrap();
    assert_eq!((photo["file_name"].as_str(), photo["content_type"].as_str(), photo["size"].as_i64()), (Some("photo_marche_koro.jpg"), Some("image/jpeg"), Some(2048)));
    let res = upload(&app, &relay, id, AMR.to_vec(), "voice", "application/octet-stream").await;
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap());
    assert_eq!(res.json::<Value>().await.unwrap()["content_type"], "audio/amr");
    // Another focal point may not attach to it; nobody outside the area either.
    assert_eq!(upload(&app, &other_relay, id, jpeg(100), "a.jpg", "image/jpeg").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(upload(&app, &outsider, id, jpeg(100), "a.jpg", "image/jpeg").await.status(), StatusCode::FORBIDDEN);

    // Downloaded exactly as sent, as a download, by readers of the report only.
    let res = app.get(&format!("/api/v1/reports/{id}/attachments/{}", photo["id"]), &analyst).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::CONTENT_TYPE], "image/jpeg");
    assert!(res.headers()[header::CONTENT_DISPOSITION].to_str().unwrap().starts_with("attachment;"));
    assert_eq!(res.bytes().await.unwrap().to_vec(), jpeg(2048));
    for who in [&outsider, &relay] {
        assert_eq!(app.get(&format!("/api/v1/reports/{id}/attachments/{}", photo["id"]), who).send().await.unwrap().status(), StatusCode::FORBIDDEN);
        assert_eq!(app.get(&format!("/api/v1/reports/{id}/attachments"), who).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    }
    // Another report's id with this attachment's number: not found.
    let other = send(&app, &analyst, report("displacement", "ML-5-MOPTI", "autre", 5)).await;
    assert_eq!(app.get(&format!("/api/v1/reports/{}/attachments/{}", other["report_id"], photo["id"]), &analyst).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    let list: Value = app.get(&format!("/api/v1/reports/{id}/attachments"), &analyst).send().await.unwrap().json().await.unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);

    // Sealed at rest: the stored bytes are not the file.
    let stored: Vec<u8> = vigie_storage::run!(&app.db.read, c => sqlx::query_scalar("SELECT bytes FROM attachments WHERE id = $1").bind(photo["id"].as_i64().unwrap()).fetch_one(c).await.unwrap());
    assert!(!stored.starts_with(&[0xFF, 0xD8, 0xFF]) && stored.len() > 2048, "stored in clear");
    assert!(!stored.windows(64).any(|w| w.iter().all(|b| *b == 0x42)), "plaintext run found in the stored bytes");
    // Five at most per report.
    for i in 0..3 {
        assert_eq!(upload(&app, &analyst, id, jpeg(100), &format!("p{i}.jpg"), "image/jpeg").await.status(), StatusCode::CREATED);
    }
    let res = upload(&app, &analyst, id, jpeg(100), "p6.jpg", "image/jpeg").await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(res.json::<Value>().await.unwrap()["detail"], "Trop de pièces jointes : 5 au plus par signalement.");
    let log: Value = app.get(&format!("/api/v1/audit?entity=report&entity_id={id}&per_page=100"), &app.admin_token).send().await.unwrap().json().await.unwrap();
    let attached = log["items"].as_array().unwrap().iter().filter(|e| e["action"] == "report.attach").count();
    assert_eq!(attached, 5);
}

async fn attachments_through_the_web_form(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    let analyst = app.user_token("analyste.mopti", "analyst", "ML-5").await;
    let r = send(&app, &analyst, report("displacement", "ML-5-KORO", "des familles arrivent", 30)).await;
    let id = r["report_id"].as_i64().unwrap();
    let (c, csrf) = signed_in(&app, "analyste.mopti").await;
    let page = c.get(app.url(&format!("/signalements/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(r#"enctype="multipart/form-data""#) && page.contains(r#"name="fichier""#), "upload form shown");
    let form = |csrf: Option<&str>, bytes: Vec<u8>, mime: &str| {
        let mut f = reqwest::multipart::Form::new();
        if let Some(t) = csrf {
            f = f.text("csrf", t.to_string());
        }
        f.part("fichier", reqwest::multipart::Part::bytes(bytes).file_name("photo.jpg").mime_str(mime).unwrap())
    };
    let res = c.post(app.url(&format!("/signalements/{id}/pieces"))).multipart(form(None, jpeg(500), "image/jpeg")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "no CSRF field");
    let res = c.post(app.url(&format!("/signalements/{id}/pieces"))).multipart(form(Some("forged"), jpeg(500), "image/jpeg")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "wrong CSRF field");
    let res = c.post(app.url(&format!("/signalements/{id}/pieces"))).multipart(form(Some(&csrf), PHP.to_vec(), "image/jpeg")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let html = res.text().await.unwrap();
    assert!(html.contains("Le contenu du fichier ne correspond pas au type annoncé (image&#x2f;jpeg)."), "{html}");
    assert!(vigie_storage::attachments::list(&app.db, id).await.unwrap().is_empty());
    let res = c.post(app.url(&format!("/signalements/{id}/pieces"))).multipart(form(Some(&csrf), jpeg(500), "image/jpeg")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), format!("/signalements/{id}?fait=piece#pieces"));
    let page = c.get(app.url(&location(&res))).send().await.unwrap().text().await.unwrap();
    let files = vigie_storage::attachments::list(&app.db, id).await.unwrap();
    assert_eq!(files.len(), 1);
    let link = format!("/signalements/{id}/pieces/{}", files[0].id);
    assert!(page.contains(&link) && page.contains("Fichier joint."), "{page}");
    let res = c.get(app.url(&link)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.bytes().await.unwrap().to_vec(), jpeg(500));
    app.user_token("analyste.tombouctou", "analyst", "ML-6").await;
    let (t, _) = signed_in(&app, "analyste.tombouctou").await;
    assert_eq!(t.get(app.url(&link)).send().await.unwrap().status(), StatusCode::FORBIDDEN);
}

// ---- Protected categories ----

async fn protected_reports_need_cases_read(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    let analyst = app.user_token("analyste", "analyst", "ML").await;
    // Reads reports everywhere, protected cases in Mopti only.
    let cleared = app.user_token("analyste.habilite", "analyst", "ML").await;
    let uid = vigie_storage::users::id_by_username(&app.db, "analyste.habilite").await.unwrap();
    vigie_storage::users::add_grant(&app.db, uid, "case_handler", &vigie_domain::area::AreaCode::parse("ML-5").unwrap(), &vigie_storage::audit::Actor::system("test")).await.unwrap();
    let open = send(&app, &analyst, report("displacement", "ML-5-KORO", "déplacés à Koro", 30)).await;
    // Sent by another account (a sender may add files to their own report, protected or not).
    let abuse = send(&app, &app.admin_token, report("security_forces_abuse", "ML-5-KORO", "arrestations arbitraires au poste de contrôle", 20)).await;
    let abuse_tbt = send(&app, &app.admin_token, report("security_forces_abuse", "ML-6-GOUNDAM", "passage à tabac signalé", 10)).await;
    assert!(abuse["alert_id"].is_null());
    let (open_id, abuse_id, tbt_id) = (open["report_id"].as_i64().unwrap(), abuse["report_id"].as_i64().unwrap(), abuse_tbt["report_id"].as_i64().unwrap());

    // A mere reports.read holder: the list, the detail, the thread, the files, the search.
    let list: Value = app.get("/api/v1/reports", &analyst).send().await.unwrap().json().await.unwrap();
    let listed: Vec<i64> = list["items"].as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!((list["total"].as_i64(), listed), (Some(1), vec![open_id]), "{list}");
    let list: Value = app.get("/api/v1/reports?category=security_forces_abuse&q=arbitraires", &analyst).send().await.unwrap().json().await.unwrap();
    assert_eq!(list["total"], 0);
    for path in [format!("/api/v1/reports/{abuse_id}"), format!("/api/v1/reports/{abuse_id}/messages"), format!("/api/v1/reports/{abuse_id}/attachments")] {
        assert_eq!(app.get(&path, &analyst).send().await.unwrap().status(), StatusCode::FORBIDDEN, "{path}");
    }
    let res = app.post(&format!("/api/v1/reports/{abuse_id}/verification"), &analyst).json(&json!({"status": "verified", "grade": "A1"})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(upload(&app, &analyst, abuse_id, jpeg(100), "a.jpg", "image/jpeg").await.status(), StatusCode::FORBIDDEN);

    // cases.read over Mopti opens the Koro one, not the Goundam one.
    let list: Value = app.get("/api/v1/reports", &cleared).send().await.unwrap().json().await.unwrap();
    let mut listed: Vec<i64> = list["items"].as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect();
    listed.sort();
    assert_eq!(listed, vec![open_id, abuse_id], "{list}");
    let r: Value = app.get(&format!("/api/v1/reports/{abuse_id}"), &cleared).send().await.unwrap().json().await.unwrap();
    assert_eq!(r["protected"], true);
    assert_eq!(app.get(&format!("/api/v1/reports/{tbt_id}"), &cleared).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    let all: Value = app.get("/api/v1/reports", &app.admin_token).send().await.unwrap().json().await.unwrap();
    assert_eq!(all["total"], 3, "the administrator holds cases.read everywhere");

    // The web pages follow the same rule.
    let (c, _) = signed_in(&app, "analyste").await;
    let page = c.get(app.url("/signalements")).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains(abuse["reference"].as_str().unwrap()) && page.contains(open["reference"].as_str().unwrap()));
    assert_eq!(c.get(app.url(&format!("/signalements/{abuse_id}"))).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    let (h, _) = signed_in(&app, "analyste.habilite").await;
    let page = h.get(app.url(&format!("/signalements/{abuse_id}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Catégorie protégée"), "{page}");

    // A category an administrator marks protected later hides its older reports too.
    let cats: Value = app.get("/api/v1/categories", &app.admin_token).send().await.unwrap().json().await.unwrap();
    let mut displacement = cats.as_array().unwrap().iter().find(|c| c["code"] == "displacement").unwrap().clone();
    displacement["protected"] = json!(true);
    let res = app.put("/api/v1/categories/displacement", &app.admin_token).json(&displacement).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
    assert_eq!(app.get(&format!("/api/v1/reports/{open_id}"), &analyst).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    let list: Value = app.get("/api/v1/reports", &analyst).send().await.unwrap().json().await.unwrap();
    assert_eq!(list["total"], 0);
}

// ---- The MINUSMA indicator for the results framework ----

/// Hand computation, alerts first reported today:
///   Mopti (ML-5): prevented, not prevented, unknown, a false alarm declared before any response
///   (not an intervention at all), one responded to but not closed (awaiting its outcome).
///     numerator = 1; denominator = prevented + stopped + not prevented = 2 → 0.5;
///     lower bound (unknown counted as failure) = 1 / 3.
///   Tombouctou (ML-6): stopped → 1 / 1.
///   Mali (ML): numerator 2, denominator 3 → 0.667; lower bound 2 / 4 = 0.5.
///   Yesterday: nothing → no value.
async fn minusma_indicator_by_subtree_and_period(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    let t = app.user_token("analyste", "analyst", "ML").await;
    let cases = [
        ("ML-5-KORO", Some("violence_prevented")),
        ("ML-5-MOPTI", Some("violence_not_prevented")),
        ("ML-5", Some("unknown")),
        ("ML-5-KORO", Some("false_alarm")),
        ("ML-5-MOPTI", None),
        ("ML-6-GOUNDAM", Some("violence_stopped")),
    ];
    let words = ["nord", "sud", "est", "ouest", "centre", "fleuve"];
    for (i, (area, outcome)) in cases.iter().enumerate() {
        let r = send(&app, &t, report("abduction", area, &format!("enlèvement numéro {i} sur la piste du {}", words[i]), 300 - i as i64 * 40)).await;
        let id = r["alert_id"].as_i64().unwrap();
        let mut cmds = vec![json!({"command": "verify"}), json!({"command": "raise"})];
        match outcome {
            Some("false_alarm") => cmds.push(json!({"command": "mark_false_alarm"})),
            Some(o) => cmds.extend([json!({"command": "acknowledge"}), json!({"command": "respond", "actions": [{"action": "mediation"}]}), json!({"command": "close", "outcome": o})]),
            None => cmds.extend([json!({"command": "acknowledge"}), json!({"command": "respond", "actions": [{"action": "patrol_deployed"}]})]),
        }
        for c in cmds {
            let res = command(&app, &t, id, c.clone()).await;
            assert_eq!(res.status(), StatusCode::OK, "{c}: {}", res.text().await.unwrap());
        }
    }
    let today = Period::new(Utc::now() - Duration::hours(12), Utc::now() + Duration::hours(12)).unwrap();
    let m = |p: &str| AreaPath(p.into());
    let mopti = vigie_storage::alerts::minusma_indicator(&app.db, &m("ML/ML-5"), today, app.now()).await.unwrap();
    assert_eq!((mopti.numerator, mopti.denominator), (1, 2), "{mopti:?}");
    assert_eq!(mopti.value, Some(0.5));
    assert!((mopti.lower_bound.unwrap() - 1.0 / 3.0).abs() < 1e-9);
    assert_eq!((mopti.counts.interventions, mopti.counts.false_alarm, mopti.counts.unknown, mopti.counts.awaiting_outcome), (4, 0, 1, 1), "{mopti:?}");
    let tbt = vigie_storage::alerts::minusma_indicator(&app.db, &m("ML/ML-6"), today, app.now()).await.unwrap();
    assert_eq!((tbt.numerator, tbt.denominator, tbt.value), (1, 1, Some(1.0)));
    let mali = vigie_storage::alerts::minusma_indicator(&app.db, &m("ML"), today, app.now()).await.unwrap();
    assert_eq!((mali.numerator, mali.denominator), (2, 3));
    assert!((mali.value.unwrap() - 2.0 / 3.0).abs() < 1e-9);
    assert_eq!(mali.lower_bound, Some(0.5));
    let koro = vigie_storage::alerts::minusma_indicator(&app.db, &m("ML/ML-5/ML-5-KORO"), today, app.now()).await.unwrap();
    assert_eq!((koro.numerator, koro.denominator, koro.counts.interventions), (1, 1, 1), "{koro:?}");
    let yesterday = Period::new(Utc::now() - Duration::days(2), Utc::now() - Duration::days(1)).unwrap();
    let none = vigie_storage::alerts::minusma_indicator(&app.db, &m("ML"), yesterday, app.now()).await.unwrap();
    assert_eq!((none.numerator, none.denominator, none.value, none.lower_bound), (0, 0, None, None));
}
