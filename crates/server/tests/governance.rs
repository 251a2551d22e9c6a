//! Local security governance end to end, on both backends: committees and their derived status,
//! meetings and decision follow-up, bad input refused with clear FR/EN errors and nothing
//! half-written, area scope, the directory's consent rules (withdrawal removes an entry from
//! every public output), and the indicators against a hand-computed example.

use crate::support;

use chrono::{Duration, NaiveDate};
use reqwest::{redirect, StatusCode};
use serde_json::{json, Value};
use support::{Backend, TestApp, PASSWORD};
use vigie_domain::area::{AreaCode, AreaInput, AreaLevel, AreaPath};
use vigie_storage::audit::Actor;

both_backends!(
    committee_status_meetings_and_follow_up,
    bad_committee_input_is_refused_and_nothing_is_half_written,
    committees_and_directory_are_area_scoped,
    directory_consent_and_withdrawal_reach_every_public_output,
    indicators_match_a_hand_computed_example,
    meetings_link_alerts_and_the_web_form_works_without_js,
    committee_figures_feed_the_results_framework,
);

fn today(app: &TestApp) -> NaiveDate {
    app.now().date_naive()
}

fn day(app: &TestApp, offset: i64) -> String {
    (today(app) + Duration::days(offset)).to_string()
}

async fn add_gao(app: &TestApp) {
    let mut tx = app.db.begin().await.unwrap();
    let input = AreaInput { code: AreaCode::parse("ML-7").unwrap(), parent: Some(AreaCode::parse("ML").unwrap()), level: AreaLevel::Region, name: "Gao".into(), tags: vec![], point: None, geometry: None };
    vigie_storage::areas::upsert(&mut tx, &input, &Actor::system("test")).await.unwrap();
    tx.commit().await.unwrap();
}

fn member(name: &str, sex: &str, age: &str) -> Value {
    json!({"name": name, "role": "membre", "institution": "Mairie", "sex": sex, "age_group": age})
}

async fn committee(app: &TestApp, token: &str, name: &str, area: &str, established: &str, members: Vec<Value>) -> i64 {
    let res = app.post("/api/v1/committees", token).json(&json!({"name": name, "kind": "security_committee", "area_code": area, "established_on": established, "members": members})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap());
    res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

fn attendance(fy: u32, fa: u32, my: u32, ma: u32) -> Value {
    json!([{"sex": "F", "age_group": "youth", "count": fy}, {"sex": "F", "age_group": "adult", "count": fa},
           {"sex": "M", "age_group": "youth", "count": my}, {"sex": "M", "age_group": "adult", "count": ma}])
}

async fn meeting(app: &TestApp, token: &str, committee: i64, body: Value) -> reqwest::Response {
    app.post(&format!("/api/v1/committees/{committee}/meetings"), token).json(&body).send().await.unwrap()
}

async fn detail(app: &TestApp, token: &str, id: i64) -> Value {
    let res = app.get(&format!("/api/v1/committees/{id}"), token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

async fn committee_status_meetings_and_follow_up(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    let me = app.user_token("suivi.mopti", "me_officer", "ML-5").await;
    let koro = committee(&app, &me, "Comité communal de sécurité de Koro", "ML-5-KORO", &day(&app, -400),
        vec![member("Awa Togo", "F", "adult"), member("Issa Dolo", "M", "youth")]).await;
    let young = committee(&app, &me, "Comité de Mopti", "ML-5-MOPTI", &day(&app, -10), vec![]).await;
    // Old and never met: dormant; created ten days ago: set up.
    assert_eq!(detail(&app, &me, koro).await["committee"]["status"], "dormant");
    assert_eq!(detail(&app, &me, young).await["committee"]["status"], "set_up");

    // A meeting 100 days ago is outside the last quarter: still dormant.
    let res = meeting(&app, &me, koro, json!({"held_on": day(&app, -100), "agenda": "Foires", "attendance": attendance(1, 1, 1, 1)})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(detail(&app, &me, koro).await["committee"]["status"], "dormant");
    // One 20 days ago makes it functional, with decisions in each follow-up state.
    let res = meeting(&app, &me, koro, json!({"held_on": day(&app, -20), "agenda": "Suivi des alertes", "attendance": attendance(4, 3, 6, 7),
        "decisions": [
            {"text": "Rencontre intercommunautaire", "responsible": "Maire", "due_on": day(&app, -1)},
            {"text": "Éclairage du marché", "responsible": "Mairie", "due_on": day(&app, 30)},
            {"text": "Patrouilles de foire", "responsible": "Gendarmerie", "due_on": day(&app, -5)}]})).await;
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap());
    let d = detail(&app, &me, koro).await;
    assert_eq!(d["committee"]["status"], "functional");
    assert_eq!(d["committee"]["meetings_last_quarter"], 1);
    assert_eq!(d["committee"]["last_meeting_on"], day(&app, -20));
    let m = &d["meetings"][0];
    assert_eq!((m["attendees"].as_i64(), m["women"].as_i64(), m["youth"].as_i64()), (Some(20), Some(7), Some(10)));
    let fu: Vec<&str> = m["decisions"].as_array().unwrap().iter().map(|d| d["follow_up"].as_str().unwrap()).collect();
    assert_eq!(fu, vec!["late", "in_progress", "late"]);
    let late_id = m["decisions"][2]["id"].as_i64().unwrap();

    // Carried out yesterday: done. Before the meeting, or in the future: refused.
    let res = app.post(&format!("/api/v1/decisions/{late_id}/follow-up"), &me).json(&json!({"done_on": day(&app, -25)})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let p: Value = res.json().await.unwrap();
    assert_eq!(p["field"], "done_on");
    assert!(p["detail"].as_str().unwrap().contains("avant la réunion"), "{p}");
    let res = app.post(&format!("/api/v1/decisions/{late_id}/follow-up"), &me).json(&json!({"done_on": day(&app, 3)})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let before = app.audit_count().await;
    let res = app.post(&format!("/api/v1/decisions/{late_id}/follow-up"), &me).json(&json!({"done_on": day(&app, -1)})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["follow_up"], "done");
    assert_eq!(app.audit_count().await, before + 1, "one audit entry per write");
    // Status and follow-up move with time, without any write: 100 days on, nothing in the quarter.
    app.advance(Duration::days(100));
    let d = detail(&app, &me, koro).await;
    assert_eq!(d["committee"]["status"], "dormant");
    assert_eq!(d["meetings"][0]["decisions"][1]["follow_up"], "late");

    // A local security plan with its actions; a deadline outside the plan is refused.
    let bad = json!({"title": "Plan 2026", "starts_on": day(&app, -30), "ends_on": day(&app, 300), "actions": [{"action": "Forum", "responsible": "CSC", "deadline": day(&app, 400)}]});
    let res = app.post(&format!("/api/v1/committees/{koro}/plans"), &me).json(&bad).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(res.json::<Value>().await.unwrap()["field"], "actions[0].deadline");
    let plan = json!({"title": "Plan 2026", "starts_on": day(&app, -30), "ends_on": day(&app, 300), "actions": [
        {"action": "Former les relais", "responsible": "CSC", "deadline": day(&app, -2), "status": "en cours"},
        {"action": "Éclairage", "responsible": "Mairie", "deadline": day(&app, 60)}]});
    let res = app.post(&format!("/api/v1/committees/{koro}/plans"), &me).json(&plan).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let p = &detail(&app, &me, koro).await["plans"][0];
    assert_eq!(p["actions"][0]["status"], "in_progress");
    assert_eq!(p["actions"][0]["late"], true);
    assert_eq!(p["actions"][1]["late"], false);
    let aid = p["actions"][0]["id"].as_i64().unwrap();
    let res = app.post(&format!("/api/v1/plan-actions/{aid}/status"), &me).json(&json!({"status": "done"})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(detail(&app, &me, koro).await["plans"][0]["actions"][0]["late"], false);

    // The list filters on the derived status.
    let l: Value = app.get("/api/v1/committees?status=set_up", &me).send().await.unwrap().json().await.unwrap();
    assert_eq!(l["total"], 0, "the Mopti committee is 110 days old now: dormant");
    let l: Value = app.get("/api/v1/committees?status=dormant", &me).send().await.unwrap().json().await.unwrap();
    assert_eq!(l["total"], 2);
}

async fn bad_committee_input_is_refused_and_nothing_is_half_written(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    let me = app.user_token("suivi.mopti", "me_officer", "ML-5").await;
    let base = app.audit_count().await;
    // A member listed twice, in French and in English.
    let body = json!({"name": "CSC de Koro", "kind": "security_committee", "area_code": "ML-5-KORO", "established_on": "2025-01-10",
        "members": [member("Awa Togo", "F", "adult"), member("Issa Dolo", "M", "youth"), member("AWA  TOGO", "F", "adult")]});
    let res = app.post("/api/v1/committees", &me).json(&body).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let p: Value = res.json().await.unwrap();
    assert_eq!(p["field"], "members[2].name");
    assert!(p["detail"].as_str().unwrap().contains("figure deux fois"), "{p}");
    let res = app.post("/api/v1/committees?lang=en", &me).json(&body).send().await.unwrap();
    assert!(res.json::<Value>().await.unwrap()["detail"].as_str().unwrap().contains("listed twice"));
    // Several bad fields at once, each named.
    let res = app.post("/api/v1/committees", &me).json(&json!({"name": "X", "kind": "club", "area_code": "ML-5-KORO", "established_on": "31/02/2025",
        "members": [member("Ali", "X", "adult")]})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let p: Value = res.json().await.unwrap();
    let fields: Vec<&str> = p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, vec!["kind", "established_on", "members[0].sex"]);
    assert_eq!(app.audit_count().await, base, "nothing written");

    let id = committee(&app, &me, "CSC de Koro", "ML-5-KORO", "2025-01-10", vec![member("Awa Togo", "F", "adult")]).await;
    // The same name again in the same area: a conflict.
    let res = app.post("/api/v1/committees", &me).json(&json!({"name": "csc de koro", "kind": "other", "area_code": "ML-5-KORO", "established_on": "2025-01-10"})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    // A member already there.
    let res = app.post(&format!("/api/v1/committees/{id}/members"), &me).json(&json!({"members": [member("Awa Togo", "F", "adult")]})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(res.json::<Value>().await.unwrap()["field"], "members[0].name");

    let after_create = app.audit_count().await;
    // A meeting dated before the committee existed.
    let res = meeting(&app, &me, id, json!({"held_on": "2024-12-31", "agenda": "Ordre du jour", "attendance": attendance(1, 0, 0, 2)})).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let p: Value = res.json().await.unwrap();
    assert_eq!(p["field"], "held_on");
    assert!(p["detail"].as_str().unwrap().contains("avant la création du comité (2025-01-10)"), "{p}");
    // In the future, nobody present, a decision due before the meeting, an unknown alert.
    let res = meeting(&app, &me, id, json!({"held_on": day(&app, 2), "agenda": "x", "attendance": attendance(0, 0, 0, 0)})).await;
    let fields: Vec<String> = res.json::<Value>().await.unwrap()["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_string()).collect();
    assert_eq!(fields, vec!["held_on", "attendance"]);
    let res = meeting(&app, &me, id, json!({"held_on": day(&app, -3), "agenda": "x", "attendance": attendance(1, 0, 0, 0),
        "decisions": [{"text": "y", "responsible": "z", "due_on": day(&app, -4)}]})).await;
    assert_eq!(res.json::<Value>().await.unwrap()["field"], "decisions[0].due_on");
    let res = meeting(&app, &me, id, json!({"held_on": day(&app, -3), "agenda": "x", "attendance": attendance(1, 0, 0, 0), "alert_ids": [999]})).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.json::<Value>().await.unwrap()["detail"].as_str().unwrap().contains("999"));
    assert_eq!(app.audit_count().await, after_create);
    assert_eq!(detail(&app, &me, id).await["meetings"].as_array().unwrap().len(), 0, "no meeting half-written");
}

async fn committees_and_directory_are_area_scoped(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    add_gao(&app).await;
    let mopti = app.user_token("suivi.mopti", "me_officer", "ML-5").await;
    let gao_token = app.user_token("suivi.gao", "me_officer", "ML-7").await;
    let analyst = app.user_token("analyste.mopti", "analyst", "ML-5").await;
    let gao = committee(&app, &gao_token, "Comité de Gao", "ML-7", "2025-01-01", vec![]).await;
    let koro = committee(&app, &mopti, "Comité de Koro", "ML-5-KORO", "2025-01-01", vec![]).await;
    // Mopti cannot read or write a Gao committee, nor create one there.
    assert_eq!(app.get(&format!("/api/v1/committees/{gao}"), &mopti).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(meeting(&app, &mopti, gao, json!({"held_on": day(&app, -1), "agenda": "x", "attendance": attendance(1, 1, 1, 1)})).await.status(), StatusCode::FORBIDDEN);
    let res = app.post("/api/v1/committees", &mopti).json(&json!({"name": "Intrus", "kind": "other", "area_code": "ML-7", "established_on": "2025-01-01"})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let l: Value = app.get("/api/v1/committees", &mopti).send().await.unwrap().json().await.unwrap();
    let ids: Vec<i64> = l["items"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![koro]);
    // An analyst reads committees but does not write them.
    assert_eq!(app.get(&format!("/api/v1/committees/{koro}"), &analyst).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(meeting(&app, &analyst, koro, json!({"held_on": day(&app, -1), "agenda": "x", "attendance": attendance(1, 1, 1, 1)})).await.status(), StatusCode::FORBIDDEN);
    // Indicators of Gao are not Mopti's to read.
    let res = app.get(&format!("/api/v1/indicators/governance?area=ML-7&from={}&to={}", day(&app, -90), day(&app, 0)), &mopti).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Directory: a Mopti manager cannot record or manage a Gao entry.
    let entry = json!({"full_name": "Rokia Touré", "sex": "F", "age_group": "adult", "area_code": "ML-7", "expertise": "gender"});
    assert_eq!(app.post("/api/v1/directory", &mopti).json(&entry).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    let res = app.post("/api/v1/directory", &gao_token).json(&entry).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let eid = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let res = app.post(&format!("/api/v1/directory/{eid}/withdrawal"), &mopti).json(&json!({})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let l: Value = app.get("/api/v1/directory?manage=true", &mopti).send().await.unwrap().json().await.unwrap();
    assert_eq!(l["total"], 0);
}

async fn entry(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.post("/api/v1/directory", token).json(&body).send().await.unwrap()
}

async fn public_names(app: &TestApp, query: &str) -> Vec<String> {
    let res = app.http.get(app.url(&format!("/api/v1/public/directory{query}"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let v: Value = res.json().await.unwrap();
    v["items"].as_array().unwrap().iter().map(|e| e["full_name"].as_str().unwrap_or("?").to_string()).collect()
}

async fn directory_consent_and_withdrawal_reach_every_public_output(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    let manager = app.user_token("suivi.mopti", "me_officer", "ML-5").await;
    let partner = app.user_token("lecteur", "viewer", "ML").await;
    // No publication without consent; bad contact details named.
    let fatou = json!({"full_name": "Fatoumata Maïga", "sex": "F", "age_group": "youth", "organisation": "Femmes de Koro", "area_code": "ML-5-KORO",
        "expertise": "mediation; gender", "languages": "Dogon, fulfulde", "phone": "76 12 34 56", "email": "fatou@example.ml",
        "visibility_name": "public", "visibility_organisation": "public", "visibility_phone": "partners", "visibility_email": "hidden", "published": true});
    let res = entry(&app, &manager, fatou.clone()).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let p: Value = res.json().await.unwrap();
    assert_eq!(p["field"], "consent_on");
    assert!(p["detail"].as_str().unwrap().contains("consentement explicite"), "{p}");
    let mut bad = fatou.clone();
    bad["phone"] = json!("76 12 34");
    bad["email"] = json!("fatou@@example");
    bad["consent_on"] = json!(day(&app, -3));
    bad["consent_method"] = json!("written");
    let res = app.post("/api/v1/directory?lang=en", &manager).json(&bad).send().await.unwrap();
    let p: Value = res.json().await.unwrap();
    let errs: Vec<(String, String)> = p["errors"].as_array().unwrap().iter().map(|e| (e["field"].as_str().unwrap().into(), e["detail"].as_str().unwrap().into())).collect();
    assert_eq!(errs[0].0, "phone");
    assert!(errs[0].1.contains("Malian number has 8"), "{errs:?}");
    assert_eq!(errs[1].0, "email");
    assert!(errs[1].1.contains("Invalid email"));

    let mut good = fatou.clone();
    good["consent_on"] = json!(day(&app, -3));
    good["consent_method"] = json!("written");
    let res = entry(&app, &manager, good).await;
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap());
    let fid = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    // Recorded without consent (not published): never public until consent.
    let res = entry(&app, &manager, json!({"full_name": "Oumar Cissé", "sex": "M", "age_group": "adult", "area_code": "ML-5", "expertise": "human_rights",
        "phone": "66 44 55 66", "visibility_name": "public", "visibility_phone": "public"})).await;
    let oid = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();

    // The contact is sealed at rest.
    let sealed: Option<String> = vigie_storage::run!(&app.db.read, c => sqlx::query_scalar("SELECT phone_sealed FROM gov_directory WHERE id = $1").bind(fid).fetch_one(c).await.unwrap());
    let sealed = sealed.unwrap();
    assert!(!sealed.contains("76123456") && !sealed.contains("22376"), "{sealed}");

    // Public: listed entries only, public fields only.
    assert_eq!(public_names(&app, "").await, vec!["Fatoumata Maïga"]);
    let v: Value = app.http.get(app.url("/api/v1/public/directory")).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["items"][0]["organisation"], "Femmes de Koro");
    assert!(v["items"][0]["phone"].is_null() && v["items"][0]["email"].is_null() && v["items"][0].get("management").is_none());
    let csv = app.http.get(app.url("/api/v1/public/directory/export.csv")).send().await.unwrap().text().await.unwrap();
    assert!(csv.contains("Fatoumata Maïga") && !csv.contains("+22376123456") && !csv.contains("Oumar"), "{csv}");
    // Partners: partner fields too, never hidden ones.
    let v: Value = app.get("/api/v1/directory", &partner).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["total"], 1);
    assert_eq!(v["items"][0]["phone"], "+22376123456");
    assert!(v["items"][0]["email"].is_null());
    let csv = app.get("/api/v1/directory/export.csv", &partner).send().await.unwrap().text().await.unwrap();
    assert!(csv.contains("+22376123456") && !csv.contains("fatou@example.ml"));
    // A manager may open hidden details; that is logged.
    let before = app.audit_count().await;
    let v: Value = app.get(&format!("/api/v1/directory/{fid}?reveal=true"), &manager).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["email"], "fatou@example.ml");
    assert_eq!(v["management"]["listed"], true);
    assert_eq!(app.audit_count().await, before + 1);
    let log = vigie_storage::audit::list(&app.db, &Default::default(), 1, 1).await.unwrap();
    assert_eq!(log.items[0].action, "directory.contact_read");

    // Search criteria: expertise, area subtree, language, sex, age group.
    assert_eq!(public_names(&app, "?expertise=gender&area=ML-5&language=dogon&sex=f&age_group=youth").await.len(), 1);
    assert!(public_names(&app, "?expertise=human_rights").await.is_empty());
    assert!(public_names(&app, "?area=ML-6").await.is_empty());
    assert!(public_names(&app, "?language=bambara").await.is_empty());
    assert!(public_names(&app, "?sex=m").await.is_empty());
    let res = app.http.get(app.url("/api/v1/public/directory?expertise=magie")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    // Publishing Oumar needs consent; once recorded, he is listed.
    let res = app.post(&format!("/api/v1/directory/{oid}/publication"), &manager).json(&json!({"published": true})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = app.post(&format!("/api/v1/directory/{oid}/consent"), &manager).json(&json!({"consent_on": day(&app, 0), "consent_method": "oral", "publish": true})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(public_names(&app, "").await.len(), 2);

    // The web page shows the public entry to anyone.
    let page = app.http.get(app.url("/annuaire")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Fatoumata Maïga") && !page.contains("+22376123456"));

    // Fatoumata withdraws consent: gone from every public output, contacts erased.
    let res = app.post(&format!("/api/v1/directory/{fid}/withdrawal"), &manager).json(&json!({})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
    assert_eq!(public_names(&app, "").await, vec!["Oumar Cissé"]);
    let csv = app.http.get(app.url("/api/v1/public/directory/export.csv")).send().await.unwrap().text().await.unwrap();
    assert!(!csv.contains("Fatoumata"), "{csv}");
    let csv = app.get("/api/v1/directory/export.csv", &partner).send().await.unwrap().text().await.unwrap();
    assert!(!csv.contains("Fatoumata"), "{csv}");
    let v: Value = app.get("/api/v1/directory", &partner).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["total"], 1);
    assert_eq!(app.get(&format!("/api/v1/directory/{fid}"), &partner).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    let page = app.http.get(app.url("/annuaire")).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains("Fatoumata"));
    let (phone, email): (Option<String>, Option<String>) = vigie_storage::run!(&app.db.read, c => sqlx::query_as("SELECT phone_sealed, email_sealed FROM gov_directory WHERE id = $1").bind(fid).fetch_one(c).await.unwrap());
    assert!(phone.is_none() && email.is_none(), "contact details erased");
    let res = app.post(&format!("/api/v1/directory/{fid}/publication"), &manager).json(&json!({"published": true})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.json::<Value>().await.unwrap()["detail"].as_str().unwrap().contains("retiré son consentement"));
    // Managers still see that she asked not to be listed.
    let v: Value = app.get("/api/v1/directory?manage=true", &manager).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["total"], 2);
}

async fn indicators_match_a_hand_computed_example(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    let me = app.user_token("suivi.mopti", "me_officer", "ML-5").await;
    // K (Koro): 2 women (1 young), 3 men (1 young); met 30 days ago.
    let k = committee(&app, &me, "K", "ML-5-KORO", &day(&app, -400), vec![
        member("A", "F", "youth"), member("B", "F", "adult"), member("C", "M", "youth"), member("D", "M", "adult"), member("E", "M", "elder")]).await;
    let res = meeting(&app, &me, k, json!({"held_on": day(&app, -30), "agenda": "k1", "attendance": attendance(12, 3, 10, 15), "decisions": [
        {"text": "d1", "responsible": "r", "due_on": day(&app, -20)},
        {"text": "d2", "responsible": "r", "due_on": day(&app, -10)},
        {"text": "d3", "responsible": "r", "due_on": day(&app, -5)},
        {"text": "d4", "responsible": "r", "due_on": day(&app, 30)}]})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    // M (Mopti): 1 woman, 1 man; met 200 days ago only (dormant; attendance outside the period).
    let m = committee(&app, &me, "M", "ML-5-MOPTI", &day(&app, -400), vec![member("F", "F", "adult"), member("G", "M", "elder")]).await;
    let res = meeting(&app, &me, m, json!({"held_on": day(&app, -200), "agenda": "m1", "attendance": attendance(0, 5, 0, 5), "decisions": [
        {"text": "m1", "responsible": "r", "due_on": day(&app, -150)}]})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    // N (Koro): created ten days ago, no members, no meeting.
    committee(&app, &me, "N", "ML-5-KORO", &day(&app, -10), vec![]).await;
    // Follow-up: d1 done early, d2 done late, d3 not done, m1 done early.
    let dk = &detail(&app, &me, k).await["meetings"][0]["decisions"];
    let dm = &detail(&app, &me, m).await["meetings"][0]["decisions"];
    for (id, done) in [(dk[0]["id"].as_i64().unwrap(), -25), (dk[1]["id"].as_i64().unwrap(), -5), (dm[0]["id"].as_i64().unwrap(), -160)] {
        let res = app.post(&format!("/api/v1/decisions/{id}/follow-up"), &me).json(&json!({"done_on": day(&app, done)})).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }

    let url = format!("/api/v1/indicators/governance?area=ML-5&from={}&to={}", day(&app, -180), day(&app, 0));
    let res = app.get(&url, &me).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["functional_committees"], 1);
    assert_eq!(v["committees_by_area"], json!([
        {"area": "ML-5-KORO", "functional": 1, "set_up": 1, "dormant": 0, "total": 2},
        {"area": "ML-5-MOPTI", "functional": 0, "set_up": 0, "dormant": 1, "total": 1}]));
    // Members: women 3/7, youth 2/7. Attendees in the period: women 15/40, youth 22/40.
    assert_eq!((v["women_among_members"]["numerator"].as_u64(), v["women_among_members"]["denominator"].as_u64()), (Some(3), Some(7)));
    assert_eq!((v["youth_among_members"]["numerator"].as_u64(), v["youth_among_members"]["denominator"].as_u64()), (Some(2), Some(7)));
    assert_eq!(v["women_among_attendees"]["share"].as_f64(), Some(15.0 / 40.0));
    assert_eq!(v["youth_among_attendees"]["share"].as_f64(), Some(22.0 / 40.0));
    // Decisions due in the period and judged: d1 (on time), d2 (late), d3 (late), m1 (on time); d4 not due.
    assert_eq!(v["decisions_on_time"], json!({"numerator": 2, "denominator": 4, "share": 0.5}));

    // The storage hook gives the same figures (what the results framework will call).
    let period = vigie_storage::governance::DayPeriod::new(today(&app) - Duration::days(180), today(&app)).unwrap();
    let area = AreaPath("ML/ML-5".into());
    let r = vigie_storage::governance::decisions_on_time(&app.db, &area, period, today(&app)).await.unwrap();
    assert_eq!((r.numerator, r.denominator), (2, 4));
    let by = vigie_storage::governance::functional_committees_by_area(&app.db, &AreaPath("ML/ML-5/ML-5-KORO".into()), period, today(&app)).await.unwrap();
    assert_eq!((by.len(), by[0].functional, by[0].total), (1, 1, 2));
    // Elsewhere: nothing counted, no share.
    let v: Value = app.get(&format!("/api/v1/indicators/governance?area=ML-6&from={}&to={}", day(&app, -180), day(&app, 0)), &app.admin_token).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["functional_committees"], 0);
    assert!(v["decisions_on_time"]["share"].is_null());
    // A period ending before today is judged as of its end: 40 days ago, K had not met yet in its quarter.
    let v: Value = app.get(&format!("/api/v1/indicators/governance?area=ML-5&from={}&to={}", day(&app, -300), day(&app, -40)), &me).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["functional_committees"], 0);
    let res = app.get(&format!("/api/v1/indicators/governance?area=ML-5&from={}&to={}", day(&app, 0), day(&app, -1)), &me).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

async fn meetings_link_alerts_and_the_web_form_works_without_js(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    let me = app.user_token("suivi.mopti", "me_officer", "ML-5").await;
    let koro = committee(&app, &me, "Comité de Koro", "ML-5-KORO", &day(&app, -400), vec![member("Awa Togo", "F", "adult")]).await;
    let report = |area: &str| json!({"category": "armed_attack", "text": "Hommes armés au marché", "occurred_at": app.now() - Duration::hours(1), "area_code": area});
    let r: Value = app.post("/api/v1/reports", &app.admin_token).json(&report("ML-5-KORO")).send().await.unwrap().json().await.unwrap();
    let here = r["alert_id"].as_i64().unwrap();
    let r: Value = app.post("/api/v1/reports", &app.admin_token).json(&report("ML-6-GOUNDAM")).send().await.unwrap().json().await.unwrap();
    let elsewhere = r["alert_id"].as_i64().unwrap();
    // An alert of Tombouctou is outside the committee's area (and the officer's).
    let res = meeting(&app, &me, koro, json!({"held_on": day(&app, -1), "agenda": "x", "attendance": attendance(1, 1, 1, 1), "alert_ids": [elsewhere]})).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = meeting(&app, &me, koro, json!({"held_on": day(&app, -1), "agenda": "Attaque du marché", "attendance": attendance(1, 1, 1, 1), "alert_ids": [here]})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(detail(&app, &me, koro).await["meetings"][0]["alert_ids"], json!([here]));

    // The web form: sign in, read the CSRF token, post without JavaScript.
    let c = reqwest::Client::builder().cookie_store(true).redirect(redirect::Policy::none()).build().unwrap();
    let csrf_of = |html: &str| {
        let i = html.find(r#"name="csrf" value=""#).expect("csrf field") + r#"name="csrf" value=""#.len();
        html[i..].split('"').next().unwrap().to_string()
    };
    let login = c.get(app.url("/connexion")).send().await.unwrap().text().await.unwrap();
    let res = c.post(app.url("/connexion")).form(&[("username", "suivi.mopti"), ("password", PASSWORD), ("csrf", &csrf_of(&login)), ("suite", "/")]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let list = c.get(app.url("/comites")).send().await.unwrap().text().await.unwrap();
    assert!(list.contains("Comité de Koro") && list.contains("Fonctionnel"), "{list}");
    let form = c.get(app.url(&format!("/comites/{koro}/reunion"))).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_of(&form);
    // Without the CSRF token: refused, nothing written.
    let res = c.post(app.url(&format!("/comites/{koro}/reunion"))).form(&[("date", day(&app, -2).as_str()), ("ordre_du_jour", "x"), ("femmes_jeunes", "2")]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // A meeting dated before the committee: the form comes back with the error, in French.
    let res = c.post(app.url(&format!("/comites/{koro}/reunion"))).form(&[("csrf", csrf.as_str()), ("date", "2020-01-01"), ("ordre_du_jour", "Foire"), ("femmes_jeunes", "2")]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let page = res.text().await.unwrap();
    assert!(page.contains("avant la création du comité") && page.contains("Foire"), "{page}");
    let due = day(&app, 10);
    let res = c.post(app.url(&format!("/comites/{koro}/reunion"))).form(&[("csrf", csrf.as_str()), ("date", day(&app, -2).as_str()), ("ordre_du_jour", "Forum des jeunes"),
        ("femmes_jeunes", "6"), ("hommes_adultes", "4"), ("decision_1", "Organiser un forum"), ("responsable_1", "Conseil de la jeunesse"), ("echeance_1", due.as_str()), ("alertes", &here.to_string())]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{}", res.text().await.unwrap());
    let page = c.get(app.url(&format!("/comites/{koro}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Forum des jeunes") && page.contains("Organiser un forum") && page.contains("En cours"), "{page}");
    let d = detail(&app, &me, koro).await;
    let m = d["meetings"].as_array().unwrap().iter().find(|m| m["agenda"] == "Forum des jeunes").expect("the web meeting");
    assert_eq!((m["attendees"].as_i64(), m["women"].as_i64(), m["youth"].as_i64()), (Some(10), Some(6), Some(6)));
    assert_eq!(m["alert_ids"], json!([here]));
    assert_eq!(m["decisions"][0]["due_on"], due);
}

/// The results framework reads committee figures through its one indicator interface
/// (`indicator_sources::REGISTRY`): a programme indicator computed by `committees.functional`
/// and one by `committees.women_share` show the figures the committee records give.
async fn committee_figures_feed_the_results_framework(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    let me = app.user_token("suivi.koro", "me_officer", "ML-5").await;
    let id = committee(&app, &me, "CSC de Koro", "ML-5-KORO", &day(&app, -400),
        vec![member("Awa Togo", "F", "adult"), member("Fanta Diallo", "F", "youth"), member("Ali Guindo", "M", "adult")]).await;
    let res = meeting(&app, &me, id, json!({"held_on": day(&app, -10), "agenda": "Sécurité du marché", "attendance": attendance(1, 1, 1, 1)})).await;
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap());
    // A dormant committee elsewhere in Mopti: it counts among the committees, not the functional ones.
    committee(&app, &me, "Commission foncière de Mopti", "ML-5-MOPTI", &day(&app, -400), vec![member("Boubacar Cissé", "M", "elder")]).await;

    let year = vigie_storage::now().date_naive().format("%Y").to_string().parse::<i32>().unwrap();
    let admin = &app.admin_token;
    let r = app.post("/api/v1/programmes", admin).json(&json!({"code": "GOUV", "name": "Gouvernance locale", "first_year": year - 1, "last_year": year + 1, "currency": "USD", "area_code": "ML"})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap());
    let results = "level,code,title_fr,parent_code\nresult,R1,Comités fonctionnels,\n";
    let inds = format!("result_code,output_code,indicator_code,label_fr,unit,baseline,baseline_year,target_{year},cumulative,means_of_verification\nR1,,1.1,Comités fonctionnels,number,0,,1,no,Registre\nR1,,1.2,Femmes parmi les membres,percent,0,,50,no,Registre\n");
    let body = serde_json::to_vec(&json!({"results": results, "indicators": inds})).unwrap();
    let r = app.post("/api/v1/programmes/GOUV/import/framework", admin).header("content-type", "application/json").body(body).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    for (code, label, unit, computer, params) in [
        ("1.1", "Comités fonctionnels", "number", "committees.functional", json!({})),
        ("1.2", "Femmes parmi les membres", "percent", "committees.women_share", json!({"among": "members"})),
    ] {
        let ind = json!({"indicator": {
            "code": code, "result": "R1", "output": null, "label": label, "unit": unit,
            "baseline": {"kind": "missing"}, "baseline_year": null, "baseline_as_written": "", "targets": {},
            "cumulative": "no", "aggregation": "sum", "means_of_verification": [], "responsible": null, "disaggregations": [], "line": 0},
            "source": {"kind": "computed", "computer": computer, "params": params}});
        let r = app.put(&format!("/api/v1/programmes/GOUV/indicators/{code}"), admin).json(&ind).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    }
    let r = app.get(&format!("/api/v1/programmes/GOUV/progress?year={year}&area=ML-5"), admin).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let p: Value = r.json().await.unwrap();
    let actual = |code: &str| p.as_array().unwrap().iter().find(|i| i["code"] == code).unwrap()["actual"].as_str().map(str::to_string);
    assert_eq!(actual("1.1").as_deref(), Some("1"), "{p}");
    // Women among current members of Mopti's committees: 2 of 4.
    assert_eq!(actual("1.2").and_then(|v| v.parse::<f64>().ok()), Some(50.0), "{p}");
}
