//! Protected cases end to end, on both backends: a citizen's denunciation from submission to a
//! published outcome through the receipt code; each shipped workflow walked with the right
//! roles and deadlines (clock moved, not slept); what a database dump contains (no name);
//! receipt holders confined to their case, forged codes locked out; desks, areas and
//! exclusions; evidence and free text.

use crate::support;

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{Backend, TestApp};
use vigie_domain::area::AreaCode;
use vigie_storage::audit::Actor;

both_backends!(
    a_denunciation_goes_from_receipt_to_published_outcome,
    every_shipped_workflow_walks_end_to_end,
    a_database_dump_holds_no_identity,
    early_warning_texts_and_files_are_sealed_in_a_dump,
    receipt_holders_see_only_their_case_and_forgeries_lock_out,
    desks_areas_and_exclusions_are_enforced,
    evidence_and_free_text_are_handled_safely,
);

/// An organisation (a desk).
async fn desk(app: &TestApp, name: &str, kind: &str, area: &str) -> i64 {
    vigie_storage::orgs::create(&app.db, name, kind, &AreaCode::parse(area).unwrap(), &Actor::system("test")).await.unwrap().id
}

/// An account with one grant, working at `org`: (token, user id).
async fn person(app: &TestApp, username: &str, role: &str, area: &str, org: Option<i64>) -> (String, i64) {
    let token = app.user_token(username, role, area).await;
    let id = vigie_storage::users::id_by_username(&app.db, username).await.unwrap();
    vigie_storage::run!(&app.db.write, c => { sqlx::query("UPDATE users SET org_id = $1 WHERE id = $2").bind(org).bind(id).execute(c).await.unwrap(); });
    (token, id)
}

async fn ok(res: reqwest::Response, want: StatusCode) -> Value {
    let status = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(status, want, "{text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

async fn step(app: &TestApp, token: &str, id: i64, to: &str, fields: Value) -> Value {
    ok(app.post(&format!("/api/v1/cases/{id}/transitions"), token).json(&json!({"to": to, "fields": fields})).send().await.unwrap(), StatusCode::OK).await
}

async fn step_status(app: &TestApp, token: &str, id: i64, to: &str, fields: Value) -> (StatusCode, Value) {
    let res = app.post(&format!("/api/v1/cases/{id}/transitions"), token).json(&json!({"to": to, "fields": fields})).send().await.unwrap();
    (res.status(), res.json().await.unwrap_or(Value::Null))
}

fn public(app: &TestApp, path: &str) -> reqwest::RequestBuilder {
    app.http.post(app.url(path))
}

async fn audit_actions(app: &TestApp, entity: &str, id: &str) -> Vec<String> {
    let log: Value = app.get(&format!("/api/v1/audit?entity={entity}&entity_id={id}&per_page=500"), &app.admin_token).send().await.unwrap().json().await.unwrap();
    log["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_string()).collect()
}

const SCRIPT: &str = "<script>alert('x')</script> & \"guillemets\" \\ </textarea>";

async fn a_denunciation_goes_from_receipt_to_published_outcome(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    let ngo = desk(&app, "Coalition anti-corruption Mopti", "ngo", "ML-5").await;
    let (sup, _) = person(&app, "chef.bureau", "case_supervisor", "ML-5", Some(ngo)).await;
    let (handler, handler_id) = person(&app, "awa.handler", "case_handler", "ML-5", Some(ngo)).await;

    // A citizen denounces, anonymously, from a browser.
    let facts = format!("Le chef de poste de Koro exige 5 000 FCFA par camion. {SCRIPT}");
    let r = ok(public(&app, "/api/v1/public/denunciations").json(&json!({
        "area_code": "ML-5-KORO", "locality": "Koro", "administration": "Douanes", "facts": facts,
        "reporter_name": "Oumou Sangaré-Témoin"
    })).send().await.unwrap(), StatusCode::CREATED).await;
    let code = r["receipt"].as_str().unwrap().to_string();
    assert_eq!(code.len(), 28 + 6, "7 groups of 4: {code}");
    assert!(code.split(' ').all(|g| g.len() == 4 && g.bytes().all(|c| c.is_ascii_digit())));

    // The desk sees it in its triage queue, identities redacted.
    let list = ok(app.get("/api/v1/cases?workflow=denunciation", &sup).send().await.unwrap(), StatusCode::OK).await;
    assert_eq!(list["total"], 1);
    let c = &list["items"][0];
    let id = c["id"].as_i64().unwrap();
    assert_eq!(c["state"], "received");
    assert_eq!(c["fields"]["facts"], "[protégé]");
    assert_eq!(c["fields"]["reporter_name"], "[protégé]");
    assert_eq!(c["fields"]["administration"], "Douanes");
    assert_eq!(c["identity_visible"], false);
    assert!(c["deadline"].is_string());

    // The supervisor assigns a handler, who reads the facts verbatim.
    ok(app.post(&format!("/api/v1/cases/{id}/assignments"), &sup).json(&json!({"user_id": handler_id})).send().await.unwrap(), StatusCode::NO_CONTENT).await;
    let res = app.get(&format!("/api/v1/cases/{id}"), &handler).send().await.unwrap();
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    let full = ok(res, StatusCode::OK).await;
    assert_eq!(full["identity_visible"], true);
    assert_eq!(full["fields"]["facts"], facts.as_str(), "stored verbatim");
    assert_eq!(full["fields"]["reporter_name"], "Oumou Sangaré-Témoin");

    // A question, read and answered through the receipt.
    ok(app.post(&format!("/api/v1/cases/{id}/messages"), &handler).json(&json!({"body": "Quel jour les faits ont-ils eu lieu ?"})).send().await.unwrap(), StatusCode::CREATED).await;
    let st = ok(public(&app, "/api/v1/public/receipt/status").json(&json!({"code": code})).send().await.unwrap(), StatusCode::OK).await;
    assert_eq!(st["status"]["fr"], "Reçue");
    assert_eq!(st["messages"][0]["direction"], "to_holder");
    assert_eq!(st["messages"][0]["body"], "Quel jour les faits ont-ils eu lieu ?");
    assert!(st.get("fields").is_none() && st.get("id").is_none(), "the holder sees nothing else: {st}");
    ok(public(&app, "/api/v1/public/receipt/answer").json(&json!({"code": code, "body": "Le lundi 2 mars, au poste de Koro."})).send().await.unwrap(), StatusCode::CREATED).await;
    let thread = ok(app.get(&format!("/api/v1/cases/{id}/messages"), &handler).send().await.unwrap(), StatusCode::OK).await;
    assert_eq!(thread[1]["direction"], "from_holder");
    assert_eq!(thread[1]["body"], "Le lundi 2 mars, au poste de Koro.");

    // Overdue after the 7 days of "received".
    app.advance(Duration::days(8));
    let overdue = ok(app.get("/api/v1/cases?overdue=true", &sup).send().await.unwrap(), StatusCode::OK).await;
    assert_eq!(overdue["total"], 1);
    assert_eq!(overdue["items"][0]["overdue"], true);

    // Credibility check, transmission, follow-up; only a supervisor publishes.
    step(&app, &handler, id, "credibility_check", json!({})).await;
    let (s, p) = step_status(&app, &handler, id, "transmitted_inspection", json!({})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    let c = step(&app, &handler, id, "transmitted_inspection", json!({"credibility_assessment": "Faits précis et recoupés", "transmission_ref": "CAC/2026/114"})).await;
    assert_eq!(c["overdue"], false);
    step(&app, &handler, id, "follow_up", json!({})).await;
    let outcome = json!({"outcome": "Sanction disciplinaire", "outcome_summary": "Le chef de poste a été relevé de ses fonctions."});
    let (s, _) = step_status(&app, &handler, id, "outcome_published", outcome.clone()).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "a handler may not publish");
    let res = app.post(&format!("/api/v1/cases/{id}/publication"), &sup).json(&json!({})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT, "not in a publishable state yet");
    let c = step(&app, &sup, id, "outcome_published", outcome.clone()).await;
    assert_eq!((c["publishable"].clone(), c["closed_at"].is_string()), (json!(true), true));
    let (s, _) = step_status(&app, &sup, id, "follow_up", json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT, "closed");
    let res = app.post(&format!("/api/v1/cases/{id}/publication"), &handler).json(&json!({})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "publishing takes the supervisor's step");
    let c = ok(app.post(&format!("/api/v1/cases/{id}/publication"), &sup).json(&json!({})).send().await.unwrap(), StatusCode::OK).await;
    assert_eq!(c["published_outcome"], "Le chef de poste a été relevé de ses fonctions.");
    let st = ok(public(&app, "/api/v1/public/receipt/status").json(&json!({"code": code})).send().await.unwrap(), StatusCode::OK).await;
    assert_eq!((st["status"]["fr"].clone(), st["closed"].clone()), (json!("Suite publiée"), json!(true)));
    assert_eq!(st["published_outcome"], "Le chef de poste a été relevé de ses fonctions.");

    // One published case: the transparency page shows no count below 5.
    let t = ok(app.http.get(app.url("/api/v1/public/transparency")).send().await.unwrap(), StatusCode::OK).await;
    assert_eq!(t["grand_total"], "<5", "{t}");
    assert!(!t.to_string().contains("\"1\""), "{t}");
    // Four more similar cases, published: now the count of 5 shows.
    for i in 0..4 {
        let o = ok(app.post("/api/v1/cases", &sup).json(&json!({"workflow": "denunciation", "area_code": "ML-5-KORO", "desk_org_id": ngo,
            "title": format!("Dénonciation douanes {i}"), "fields": {"locality": "Koro", "administration": "Douanes", "facts": "racket au poste"}})).send().await.unwrap(), StatusCode::CREATED).await;
        let cid = o["id"].as_i64().unwrap();
        assert!(o["receipt"].is_string());
        step(&app, &sup, cid, "credibility_check", json!({})).await;
        step(&app, &sup, cid, "transmitted_pef", json!({"credibility_assessment": "ok", "transmission_ref": format!("PEF/{i}")})).await;
        step(&app, &sup, cid, "follow_up", json!({})).await;
        step(&app, &sup, cid, "outcome_published", json!({"outcome": "Sanction  disciplinaire", "outcome_summary": "Agent sanctionné."})).await;
        if i < 3 {
            ok(app.post(&format!("/api/v1/cases/{cid}/publication"), &sup).json(&json!({})).send().await.unwrap(), StatusCode::OK).await;
            let t = ok(app.http.get(app.url("/api/v1/public/transparency")).send().await.unwrap(), StatusCode::OK).await;
            assert_eq!(t["grand_total"], "<5", "{i}: {t}");
        } else {
            ok(app.post(&format!("/api/v1/cases/{cid}/publication"), &sup).json(&json!({"summary": "Agent sanctionné."})).send().await.unwrap(), StatusCode::OK).await;
        }
    }
    let t = ok(app.http.get(app.url("/api/v1/public/transparency?lang=en")).send().await.unwrap(), StatusCode::OK).await;
    assert_eq!(t["grand_total"], "5", "{t}");
    assert_eq!(t["cells"], json!([["5"]]));
    assert_eq!(t["rows"][0], json!({"locality": "Koro (ML-5-KORO)", "administration": "Douanes"}));
    assert_eq!(t["columns"][0]["outcome"], "Sanction disciplinaire");
    assert!(!t.to_string().contains("relevé"), "outcome texts are not on the counts page");

    // Every step and every reading of identities is in the audit log.
    let actions = audit_actions(&app, "case", &id.to_string()).await;
    for a in ["case.open", "case.assign", "case.identity_read", "case.ask", "case.holder_read", "case.answer", "case.messages_read", "case.transition", "case.publish"] {
        assert!(actions.iter().any(|x| x == a), "{a} not audited: {actions:?}");
    }
    assert!(vigie_storage::audit::verify(&app.db).await.unwrap().broken.is_none());
}

async fn every_shipped_workflow_walks_end_to_end(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    let cndh = desk(&app, "CNDH antenne de Mopti", "cndh", "ML-5").await;
    let (sup, sup_id) = person(&app, "commissaire", "case_supervisor", "ML-5", Some(cndh)).await;
    let (h, h_id) = person(&app, "charge.cndh", "case_handler", "ML-5", Some(cndh)).await;
    let analyst = app.user_token("analyste", "analyst", "ML-5").await;

    // Violation, from an early-warning report of abuse by security forces.
    let rep = ok(app.post("/api/v1/reports", &analyst).json(&json!({"category": "security_forces_abuse", "text": "Arrestation arbitraire de trois bergers au marché",
        "occurred_at": Utc::now() - Duration::hours(5), "area_code": "ML-5-KORO", "place_name": "Dinangourou"})).send().await.unwrap(), StatusCode::CREATED).await;
    assert!(rep["alert_id"].is_null());
    let rid = rep["report_id"].as_i64().unwrap();
    let res = app.post(&format!("/api/v1/reports/{rid}/case"), &analyst).json(&json!({})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "an analyst does not open cases");
    let o = ok(app.post(&format!("/api/v1/reports/{rid}/case"), &h).json(&json!({"desk_org_id": cndh})).send().await.unwrap(), StatusCode::CREATED).await;
    let v = o["id"].as_i64().unwrap();
    assert_eq!(o["state"], "intake");
    let res = app.post(&format!("/api/v1/reports/{rid}/case"), &h).json(&json!({})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT, "one case per report");
    let c = ok(app.get(&format!("/api/v1/cases/{v}"), &h).send().await.unwrap(), StatusCode::OK).await;
    assert_eq!((c["report_id"].as_i64(), c["fields"]["location"].clone(), c["fields"]["narrative"].clone()), (Some(rid), json!("Dinangourou"), json!("[protégé]")));
    // Three days in intake, then overdue.
    app.advance(Duration::days(4));
    let l = ok(app.get("/api/v1/cases?overdue=true&workflow=violation", &h).send().await.unwrap(), StatusCode::OK).await;
    assert_eq!(l["total"], 1);
    // Identity fields are written by assigned handlers only.
    let (s, _) = step_status(&app, &h, v, "documentation", json!({"victims": ["Hamadoun Diallo"]})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    ok(app.post(&format!("/api/v1/cases/{v}/assignments"), &sup).json(&json!({"user_id": h_id})).send().await.unwrap(), StatusCode::NO_CONTENT).await;
    let (s, p) = step_status(&app, &h, v, "qualification", json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT, "no such step from intake: {p}");
    let c = step(&app, &h, v, "documentation", json!({"victims": ["Hamadoun Diallo", "Boubacar Cissé"], "witnesses": "Un commerçant"})).await;
    assert_eq!(c["fields"]["narrative"], "Arrestation arbitraire de trois bergers au marché");
    assert_eq!(c["overdue"], false);
    step(&app, &h, v, "qualification", json!({"violation_type": "arbitrary_detention", "alleged_perpetrator_unit": "Brigade de gendarmerie de Koro"})).await;
    let (s, _) = step_status(&app, &h, v, "referral", json!({"competent_authority": "Procureur", "referral_ref": "CNDH/2026/9"})).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "referral is the commissioner's decision");
    step(&app, &sup, v, "referral", json!({"competent_authority": "Procureur de Mopti", "referral_ref": "CNDH/2026/9"})).await;
    ok(app.post(&format!("/api/v1/cases/{v}/referral"), &h).json(&json!({"institution": "Tribunal militaire"})).send().await.unwrap(), StatusCode::FORBIDDEN).await;
    ok(app.post(&format!("/api/v1/cases/{v}/referral"), &sup).json(&json!({"institution": "Tribunal militaire de Mopti"})).send().await.unwrap(), StatusCode::NO_CONTENT).await;
    step(&app, &h, v, "follow_up", json!({})).await;
    let c = step(&app, &sup, v, "closed", json!({"outcome": "poursuites engagées", "closure_reason": "Saisine effective"})).await;
    assert_eq!((c["state"].clone(), c["referred_to"].clone()), (json!("closed"), json!("Tribunal militaire de Mopti")));
    let hist = ok(app.get(&format!("/api/v1/cases/{v}/history"), &h).send().await.unwrap(), StatusCode::OK).await;
    let states: Vec<&str> = hist.as_array().unwrap().iter().map(|t| t["to_state"].as_str().unwrap()).collect();
    assert_eq!(states, ["intake", "documentation", "qualification", "referral", "follow_up", "closed"]);

    // Inspection mission.
    let o = ok(app.post("/api/v1/cases", &sup).json(&json!({"workflow": "inspection_mission", "area_code": "ML-5-MOPTI", "desk_org_id": cndh, "title": "Inspection du commissariat",
        "fields": {"inspected_unit": "Commissariat du 1er arrondissement", "mission_order_ref": "OM-2026-031", "planned_start": "2026-04-01"}})).send().await.unwrap(), StatusCode::CREATED).await;
    let m = o["id"].as_i64().unwrap();
    ok(app.post(&format!("/api/v1/cases/{m}/assignments"), &sup).json(&json!({"user_id": h_id})).send().await.unwrap(), StatusCode::NO_CONTENT).await;
    ok(app.post(&format!("/api/v1/cases/{m}/assignments"), &sup).json(&json!({"user_id": sup_id})).send().await.unwrap(), StatusCode::NO_CONTENT).await;
    step(&app, &h, m, "in_progress", json!({"inspectors": ["Inspecteur A. Maïga"]})).await;
    step(&app, &h, m, "findings", json!({"findings_summary": "Registres de garde à vue incomplets"})).await;
    let (s, _) = step_status(&app, &h, m, "recommendations", json!({"recommendations": "Tenir les registres"})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    step(&app, &sup, m, "recommendations", json!({"recommendations": "Tenir les registres"})).await;
    step(&app, &sup, m, "implementation_follow_up", json!({})).await;
    app.advance(Duration::days(181));
    let l = ok(app.get("/api/v1/cases?overdue=true&workflow=inspection_mission", &sup).send().await.unwrap(), StatusCode::OK).await;
    assert_eq!(l["total"], 1, "180 days of follow-up passed");
    let (s, _) = step_status(&app, &sup, m, "closed", json!({})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let c = step(&app, &sup, m, "closed", json!({"implementation_status": "Appliquées", "closure_report_ref": "RC-2026-02"})).await;
    assert_eq!(c["state"], "closed");

    // Civil-society monitoring finding.
    let (osc, osc_id) = person(&app, "observateur", "case_handler", "ML-5-KORO", Some(cndh)).await;
    let res = app.post("/api/v1/cases", &osc).json(&json!({"workflow": "monitoring_finding", "area_code": "ML-5-KORO", "title": "Constat au poste", "fields": {"observed_unit": "Poste de police"}})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "the initial state's fields are required");
    let o = ok(app.post("/api/v1/cases", &osc).json(&json!({"workflow": "monitoring_finding", "area_code": "ML-5-KORO", "desk_org_id": cndh, "title": "Constat au poste de Koro",
        "fields": {"observed_unit": "Poste de police de Koro", "location": "Koro", "observation_date": "2026-02-10", "observation": "Détenus sans registre", "observer_name": "Fatoumata Guindo"}})).send().await.unwrap(), StatusCode::CREATED).await;
    let f = o["id"].as_i64().unwrap();
    let (s, _) = step_status(&app, &osc, f, "validated", json!({"validation_note": "ok"})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    step(&app, &sup, f, "validated", json!({"validation_note": "Constat recoupé"})).await;
    ok(app.post(&format!("/api/v1/cases/{f}/assignments"), &sup).json(&json!({"user_id": osc_id})).send().await.unwrap(), StatusCode::NO_CONTENT).await;
    step(&app, &osc, f, "shared_with_institution", json!({"institution_contact": "Commissaire K."})).await;
    step(&app, &osc, f, "institution_response", json!({"response_summary": "Registre ouvert"})).await;
    let c = step(&app, &osc, f, "closed", json!({"closure_note": "Réponse satisfaisante"})).await;
    assert_eq!(c["state"], "closed");
    let l = ok(app.get("/api/v1/cases?open=true", &sup).send().await.unwrap(), StatusCode::OK).await;
    assert_eq!(l["total"], 0, "{l}");
}

/// Every value of every column of every table, as lowercase hex (text and blobs alike).
async fn dump_hex(app: &TestApp) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    match &app.db.write {
        vigie_storage::Pool::Sqlite(p) => {
            let tables: Vec<String> = sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'").fetch_all(p).await.unwrap();
            for t in tables {
                let cols: Vec<(i64, String, String, i64, Option<String>, i64)> = sqlx::query_as(&format!("PRAGMA table_info(\"{t}\")")).fetch_all(p).await.unwrap();
                for (_, col, ..) in cols {
                    let vals: Vec<Option<String>> = sqlx::query_scalar(&format!("SELECT lower(hex(\"{col}\")) FROM \"{t}\"")).fetch_all(p).await.unwrap();
                    out.extend(vals.into_iter().flatten().map(|v| (t.clone(), col.clone(), v)));
                }
            }
        }
        vigie_storage::Pool::Postgres(p) => {
            let cols: Vec<(String, String, String)> = sqlx::query_as("SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns WHERE table_schema = 'public'").fetch_all(p).await.unwrap();
            for (t, col, ty) in cols {
                let expr = if ty == "bytea" { format!("encode(\"{col}\", 'hex')") } else { format!("encode(convert_to(\"{col}\"::text, 'UTF8'), 'hex')") };
                let vals: Vec<Option<String>> = sqlx::query_scalar(&format!("SELECT {expr} FROM \"{t}\"")).fetch_all(p).await.unwrap();
                out.extend(vals.into_iter().flatten().map(|v| (t.clone(), col.clone(), v)));
            }
        }
    }
    out
}

const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F', 0, 1];

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

async fn a_database_dump_holds_no_identity(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    const NAME: &str = "Zeinabou Walet Mohamedoune";
    let cndh = desk(&app, "CNDH", "cndh", "ML-5").await;
    let (sup, sup_id) = person(&app, "commissaire", "case_supervisor", "ML-5", Some(cndh)).await;
    // A violation with the victim's name in every identity field, a message and evidence.
    let o = ok(app.post("/api/v1/cases", &sup).json(&json!({"workflow": "violation", "area_code": "ML-5-KORO", "desk_org_id": cndh, "title": "Plainte 2026-17",
        "fields": {"location": "Koro", "victims": [NAME], "complainant_name": NAME, "complainant_phone": "+223 76 12 34 56", "narrative": format!("{NAME} a été frappée")}})).send().await.unwrap(), StatusCode::CREATED).await;
    let id = o["id"].as_i64().unwrap();
    let code = o["receipt"].as_str().unwrap().to_string();
    ok(app.post(&format!("/api/v1/cases/{id}/assignments"), &sup).json(&json!({"user_id": sup_id})).send().await.unwrap(), StatusCode::NO_CONTENT).await;
    ok(app.post(&format!("/api/v1/cases/{id}/messages"), &sup).json(&json!({"body": format!("{NAME}, pouvez-vous préciser ?")})).send().await.unwrap(), StatusCode::CREATED).await;
    ok(public(&app, "/api/v1/public/receipt/answer").json(&json!({"code": code, "body": format!("Oui, je suis {NAME}")})).send().await.unwrap(), StatusCode::CREATED).await;
    let mut photo = JPEG.to_vec();
    photo.extend_from_slice(NAME.as_bytes());
    ok(public(&app, "/api/v1/public/receipt/evidence").json(&json!({"code": code, "file_name": "Zeinabou Walet Mohamedoune.jpg", "content_type": "image/jpeg", "content_base64": b64(&photo)})).send().await.unwrap(), StatusCode::CREATED).await;
    // A citizen's denunciation, with a failed receipt lookup from the same address.
    ok(public(&app, "/api/v1/public/denunciations").json(&json!({"area_code": "ML-5-KORO", "locality": "Koro", "administration": "Mairie", "facts": format!("{NAME} a payé un pot-de-vin"), "reporter_name": NAME})).send().await.unwrap(), StatusCode::CREATED).await;
    let forged = vigie_domain::cases::ReceiptCode::generate(&[7u8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47]).unwrap();
    ok(public(&app, "/api/v1/public/receipt/status").json(&json!({"code": forged.grouped()})).send().await.unwrap(), StatusCode::NOT_FOUND).await;
    // The handler reads it all back.
    let c = ok(app.get(&format!("/api/v1/cases/{id}"), &sup).send().await.unwrap(), StatusCode::OK).await;
    assert_eq!(c["fields"]["victims"], json!([NAME]));

    let hex_of = |s: &str| hex::encode(s.as_bytes());
    let needles = [("name", hex_of(NAME)), ("surname", hex_of("Mohamedoune")), ("surname, lowercase", hex_of("mohamedoune")), ("phone", hex_of("76 12 34 56")), ("client address", hex_of("127.0.0.1"))];
    let dump = dump_hex(&app).await;
    assert!(dump.iter().any(|(t, ..)| t == "case_evidence"), "the dump covers the cases tables");
    for (what, needle) in &needles {
        for (t, col, v) in &dump {
            assert!(!v.contains(needle.as_str()), "{what} found in clear in {t}.{col}");
        }
    }
    // SQLite: the files themselves, WAL included.
    if b == Backend::Sqlite {
        for f in ["vigie.db", "vigie.db-wal"] {
            if let Ok(bytes) = std::fs::read(app.tdb.dir().join(f)) {
                for n in [NAME, "Mohamedoune", "mohamedoune", "127.0.0.1"] {
                    assert!(!bytes.windows(n.len()).any(|w| w == n.as_bytes()), "{n} in {f}");
                }
            }
        }
    }
    // The lockout state is keyed by a blind index only.
    let idx: Vec<String> = vigie_storage::run!(&app.db.read, c => sqlx::query_scalar("SELECT source_index FROM receipt_failures").fetch_all(c).await.unwrap());
    assert!(!idx.is_empty() && idx.iter().all(|i| i.len() == 64 && i.bytes().all(|c| c.is_ascii_hexdigit())), "{idx:?}");
    // Without the key file, the wrapped data keys open nothing.
    let other = vigie_storage::crypto::Keyring::generate();
    let wrapped: String = vigie_storage::run!(&app.db.read, c => sqlx::query_scalar("SELECT data_key FROM cases WHERE id = $1").bind(id).fetch_one(c).await.unwrap());
    assert!(other.open(&wrapped, "x").is_err());
}

/// Issue 10: the early-warning channels' sensitive texts and files (an SMS answer, the analyst's
/// question and its SMS, a protected report's text, an attachment, an OpenRosa submission and
/// its photo) are not in a dump, while an authorised user reads them all back; rows an older
/// version stored in clear are read as they are, then sealed by `rotation::seal_clear`.
async fn early_warning_texts_and_files_are_sealed_in_a_dump(b: Backend) {
    const SMS_KEY: &str = "cle-sms-test";
    let cfg = vigie_server::ServerConfig { sms_inbound_key: Some(SMS_KEY.into()), ..Default::default() };
    let Some(app) = TestApp::spawn_with(b, cfg).await else { return };
    let admin = app.admin_token.clone();
    const PHONE: &str = "+22365987412";
    const QUESTION: &str = "Qui est Fousseyni Traore-Q7 ?";
    const ANSWER: &str = "Oui je connais Tidiane Sangare-S4 du village";
    const PROTECTED: &str = "Le lieutenant Bakary Kone-P3 a frappe un detenu";
    const PHOTO: &str = "Visage de Kadiatou Diarra-A9";
    const ODK_TEXT: &str = "Des militaires ont arrete Oumar Cisse-O5";
    const ODK_FILE: &str = "Photo de Oumar Cisse-F2";
    let sms = |text: &str, id: &str| {
        app.http.get(app.url("/sms/kannel/inbound")).query(&[("from", PHONE), ("text", text), ("id", id), ("key", SMS_KEY)]).send()
    };
    // An SMS report (not protected: its text stays in clear, searchable), a question, the answer.
    assert_eq!(sms("ALERTE attaque Koro hommes armes au marche", "g1").await.unwrap().status(), StatusCode::OK);
    let list = ok(app.get("/api/v1/reports?q=attaque", &admin).send().await.unwrap(), StatusCode::OK).await;
    assert_eq!(list["total"], 1, "clear text is searched: {list}");
    let sms_report = list["items"][0]["id"].as_i64().unwrap();
    let asked = ok(app.post(&format!("/api/v1/reports/{sms_report}/messages"), &admin).json(&json!({"body": QUESTION})).send().await.unwrap(), StatusCode::CREATED).await;
    assert_eq!(asked["by_sms"], true, "{asked}");
    assert_eq!(sms(ANSWER, "g2").await.unwrap().status(), StatusCode::OK);
    // A protected report with a photo.
    let rep = ok(app.post("/api/v1/reports", &admin).json(&json!({"category": "security_forces_abuse", "text": PROTECTED, "occurred_at": Utc::now() - Duration::hours(1), "area_code": "ML-5-KORO"})).send().await.unwrap(), StatusCode::CREATED).await;
    let protected = rep["report_id"].as_i64().unwrap();
    assert!(rep["alert_id"].is_null(), "protected reports are not grouped: {rep}");
    let mut photo = JPEG.to_vec();
    photo.extend_from_slice(PHOTO.as_bytes());
    let form = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(photo.clone()).file_name("p.jpg").mime_str("image/jpeg").unwrap());
    let att = ok(app.post(&format!("/api/v1/reports/{protected}/attachments"), &admin).multipart(form).send().await.unwrap(), StatusCode::CREATED).await;
    // An ODK submission naming someone, with a photo (a protected category: its report is sealed too).
    let areas = std::fs::read(format!("{}/../../data/demo/areas.csv", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let rows = vigie_domain::import::areas::parse(vigie_domain::import::areas::Format::Csv, &areas).unwrap();
    vigie_storage::areas::import(&app.db, &rows, &Actor::system("test")).await.unwrap();
    let xform = std::fs::read(format!("{}/../../forms/incident_fr.xml", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let f = ok(app.post("/api/v1/forms?purpose=incident&area_code=ML", &admin).header("content-type", "text/xml").body(xform).send().await.unwrap(), StatusCode::CREATED).await;
    let odk_xml = |uuid: &str, text: &str| {
        format!(r#"<?xml version='1.0' ?><data id="vigie_incident" version="2026052101" xmlns:h="http://www.w3.org/1999/xhtml" xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms" xmlns:odk="http://www.opendatakit.org/xforms"><debut>2026-05-21T07:58:12.331+00:00</debut><fin>2026-05-21T08:04:40.102+00:00</fin><categorie>security_forces_abuse</categorie><description>{text}</description><date_evenement>2026-05-21T06:00:00.000+00:00</date_evenement><lieu><commune>ML-5-MOPTI-MOPTI</commune><lieu_dit>Marché</lieu_dit><position>14.49 -4.19 281.5 4.9</position></lieu><photo>1.jpg</photo><message_vocal/><type_rapporteur>focal_point</type_rapporteur><meta><instanceID>{uuid}</instanceID></meta></data>"#)
    };
    let mut odk_photo = JPEG.to_vec();
    odk_photo.extend_from_slice(ODK_FILE.as_bytes());
    let multipart = reqwest::multipart::Form::new()
        .part("xml_submission_file", reqwest::multipart::Part::bytes(odk_xml("uuid:sealed-1", ODK_TEXT).into_bytes()).file_name("submission.xml").mime_str("text/xml").unwrap())
        .part("1.jpg", reqwest::multipart::Part::bytes(odk_photo.clone()).file_name("1.jpg").mime_str("image/jpeg").unwrap());
    let res = app.http.post(app.url(&format!("/key/{admin}/submission"))).multipart(multipart).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap());
    let submission: i64 = vigie_storage::run!(&app.db.read, c => sqlx::query_scalar("SELECT id FROM submissions WHERE instance_id = 'uuid:sealed-1'").fetch_one(c).await.unwrap());

    // Everything reads back for an authorised user.
    let reads_back = |extra: Vec<(String, String)>| {
        let app = &app;
        let admin = admin.clone();
        let photo = photo.clone();
        let odk_photo = odk_photo.clone();
        let (fid, att_id) = (f["id"].as_i64().unwrap(), att["id"].as_i64().unwrap());
        async move {
            let thread = ok(app.get(&format!("/api/v1/reports/{sms_report}/messages"), &admin).send().await.unwrap(), StatusCode::OK).await.to_string();
            assert!(thread.contains(QUESTION) && thread.contains(ANSWER), "{thread}");
            let outbox: i64 = vigie_storage::run!(&app.db.read, c => sqlx::query_scalar("SELECT id FROM sms_outbox WHERE purpose = 'follow_up'").fetch_one(c).await.unwrap());
            assert!(vigie_storage::sms::outgoing(&app.db, outbox).await.unwrap().text.contains(QUESTION), "the SMS worker reads the text");
            let r = ok(app.get(&format!("/api/v1/reports/{protected}"), &admin).send().await.unwrap(), StatusCode::OK).await;
            let all = ok(app.get("/api/v1/reports?per_page=100", &admin).send().await.unwrap(), StatusCode::OK).await.to_string();
            let dl = app.get(&format!("/api/v1/reports/{protected}/attachments/{att_id}"), &admin).send().await.unwrap().bytes().await.unwrap();
            assert_eq!(dl.to_vec(), photo);
            let csv = app.get(&format!("/api/v1/forms/{fid}/export.csv"), &admin).send().await.unwrap().text().await.unwrap();
            assert!(csv.contains(ODK_TEXT), "{csv}");
            assert_eq!(vigie_storage::forms::submission_file(&app.db, submission, "1.jpg").await.unwrap().1, odk_photo);
            let odk_report = all.contains(ODK_TEXT);
            for (what, text) in extra {
                assert!(r.to_string().contains(&text) || all.contains(&text) || thread.contains(&text) || csv.contains(&text), "{what} not read back");
            }
            (r["text"].as_str().unwrap().to_string(), odk_report)
        }
    };
    let (text, odk_report) = reads_back(vec![]).await;
    assert_eq!(text, PROTECTED);
    assert!(odk_report, "the ODK report's text is listed");
    // Search does not look into sealed texts (a documented limit): the protected report is not found by its words.
    assert_eq!(ok(app.get("/api/v1/reports?q=Kone-P3", &admin).send().await.unwrap(), StatusCode::OK).await["total"], 0);

    let hex_of = |s: &str| hex::encode(s.as_bytes());
    let needles = [("the SMS answer", "Sangare-S4"), ("the question", "Traore-Q7"), ("the protected text", "Kone-P3"), ("the photo", "Diarra-A9"), ("the ODK text", "Cisse-O5"), ("the ODK photo", "Cisse-F2")];
    let assert_sealed = |dump: &[(String, String, String)], needles: &[(&str, &str)]| {
        assert!(dump.iter().any(|(_, _, v)| v.contains(&hex_of("attaque Koro"))), "the dump reads text: a non-protected report's text is in clear by design");
        for (what, needle) in needles {
            for (t, col, v) in dump {
                assert!(!v.contains(&hex_of(needle)), "{what} found in clear in {t}.{col}");
            }
        }
    };
    let dump = dump_hex(&app).await;
    for t in ["sms_inbox", "sms_outbox", "report_messages", "submissions", "submission_attachments", "attachments"] {
        assert!(dump.iter().any(|(table, ..)| table == t), "the dump covers {t}");
    }
    assert_sealed(&dump, &needles);
    if b == Backend::Sqlite {
        for f in ["vigie.db", "vigie.db-wal"] {
            if let Ok(bytes) = std::fs::read(app.tdb.dir().join(f)) {
                for (what, n) in needles {
                    assert!(!bytes.windows(n.len()).any(|w| w == n.as_bytes()), "{what} in {f}");
                }
            }
        }
    }

    // Rows written in clear by an older version: read as they are, then sealed by the start-up pass.
    let keys = app.db.keys().unwrap().clone();
    let (l_sms, l_answer, l_text, l_odk, l_file) = ("Ancien SMS de Mariam Coulibaly-L1", "Ancienne reponse de Mariam Coulibaly-L2", "Ancien texte protege Ibrahim Maiga-L3", "Ancienne soumission Awa Keita-L4", "Ancienne photo Awa Keita-L5");
    let now = Utc::now();
    vigie_storage::run!(&app.db.write, c => {
        sqlx::query("INSERT INTO sms_inbox (gateway_id, from_sealed, from_index, text, kind, received_at) VALUES ('old-1', $1, $2, $3, 'unparsed', $4)")
            .bind(keys.seal(PHONE.as_bytes(), "sms_inbox.phone")).bind(keys.blind_index("phone", PHONE)).bind(l_sms).bind(now).execute(c).await.unwrap();
        sqlx::query("INSERT INTO report_messages (report_id, direction, body, at) VALUES ($1, 'from_reporter', $2, $3)").bind(sms_report).bind(l_answer).bind(now).execute(c).await.unwrap();
        sqlx::query("UPDATE reports SET text = $2 WHERE id = $1").bind(protected).bind(l_text).execute(c).await.unwrap();
        let old: i64 = sqlx::query_scalar("INSERT INTO submissions (form_pk, instance_id, xml, data, warnings, area_code, received_at) VALUES ($1, 'uuid:old-1', $2, '{}', '[]', 'ML-5-MOPTI-MOPTI', $3) RETURNING id")
            .bind(f["id"].as_i64().unwrap()).bind(odk_xml("uuid:old-1", l_odk).into_bytes()).bind(now).fetch_one(c).await.unwrap();
        use sha2::Digest;
        sqlx::query("INSERT INTO submission_attachments (submission_id, file_name, content_type, size, sha256, bytes) VALUES ($1, '1.jpg', 'image/jpeg', $2, $3, $4)")
            .bind(old).bind(l_file.len() as i64).bind(hex::encode(sha2::Sha256::digest(l_file.as_bytes()))).bind(l_file.as_bytes()).execute(c).await.unwrap();
    });
    let old_submission: i64 = vigie_storage::run!(&app.db.read, c => sqlx::query_scalar("SELECT id FROM submissions WHERE instance_id = 'uuid:old-1'").fetch_one(c).await.unwrap());
    let legacy = vec![("the old answer".to_string(), l_answer.to_string()), ("the old submission".to_string(), l_odk.to_string())];
    let (text, _) = reads_back(legacy.clone()).await;
    assert_eq!(text, l_text);
    assert_eq!(vigie_storage::forms::submission_file(&app.db, old_submission, "1.jpg").await.unwrap().1, l_file.as_bytes());
    let stale = vigie_storage::rotation::stale_count(&app.db, &keys).await.unwrap();
    assert_eq!(stale, 4, "four values wait in clear");
    let legacy_needles = [("an old SMS", "Coulibaly-L1"), ("an old answer", "Coulibaly-L2"), ("an old protected text", "Maiga-L3"), ("an old submission", "Keita-L4"), ("an old file", "Keita-L5")];
    let dump = dump_hex(&app).await;
    assert!(dump.iter().any(|(_, _, v)| v.contains(&hex_of("Coulibaly-L1"))), "the old rows are in clear before the pass");

    let done = vigie_storage::rotation::seal_clear(&app.db, &Actor::system("test")).await.unwrap();
    let done: Vec<(String, u64)> = done.into_iter().filter(|(_, n)| *n > 0).collect();
    assert_eq!(done, [("report_messages.body".to_string(), 1), ("reports.text".to_string(), 1), ("sms_inbox.text".to_string(), 1), ("submissions".to_string(), 1)]);
    assert!(vigie_storage::rotation::seal_clear(&app.db, &Actor::system("test")).await.unwrap().values().all(|n| *n == 0), "idempotent");
    assert_eq!(vigie_storage::rotation::stale_count(&app.db, &keys).await.unwrap(), 0);
    assert!(audit_actions(&app, "keyring", keys.current_id()).await.contains(&"keys.seal_clear".to_string()));
    let (text, _) = reads_back(legacy).await;
    assert_eq!(text, l_text);
    assert_eq!(vigie_storage::forms::submission_file(&app.db, old_submission, "1.jpg").await.unwrap().1, l_file.as_bytes());
    let sms_text: String = vigie_storage::run!(&app.db.read, c => sqlx::query_scalar("SELECT text FROM sms_inbox WHERE gateway_id = 'old-1'").fetch_one(c).await.unwrap());
    assert_eq!(keys.open_string(&sms_text, "sms_inbox.text").unwrap(), l_sms);
    let dump = dump_hex(&app).await;
    assert_sealed(&dump, &needles);
    assert_sealed(&dump, &legacy_needles);
    // SQLite: the clear text is gone from the files too (secure_delete, then the log emptied).
    if b == Backend::Sqlite {
        for f in ["vigie.db", "vigie.db-wal"] {
            if let Ok(bytes) = std::fs::read(app.tdb.dir().join(f)) {
                for (what, n) in legacy_needles {
                    assert!(!bytes.windows(n.len()).any(|w| w == n.as_bytes()), "{what} in {f}");
                }
            }
        }
    }
    // A rotation re-seals them all under the new key.
    let rotated = keys.rotated();
    let db = app.db.clone().with_keys(rotated.clone());
    let r = vigie_storage::rotation::reseal_all(&db, &rotated, &Actor::system("test")).await.unwrap();
    for col in ["sms_inbox.text", "sms_outbox.text", "report_messages.body", "reports.text", "submissions.data"] {
        assert!(r.resealed[col] > 0, "{col}: {:?}", r.resealed);
    }
    assert_eq!(vigie_storage::rotation::stale_count(&db, &rotated).await.unwrap(), 0);
    let newest_only = vigie_storage::crypto::Keyring::parse(rotated.to_file_text().lines().find(|l| !l.starts_with('#')).unwrap()).unwrap();
    vigie_storage::rotation::open_all(&db, &newest_only).await.unwrap();
}

async fn receipt_holders_see_only_their_case_and_forgeries_lock_out(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    let (sup, sup_id) = person(&app, "chef", "case_supervisor", "ML-5", None).await;
    let submit = |admin: &'static str| json!({"area_code": "ML-5-KORO", "locality": "Koro", "administration": admin, "facts": "faits"});
    let a = ok(public(&app, "/api/v1/public/denunciations").json(&submit("Douanes")).send().await.unwrap(), StatusCode::CREATED).await["receipt"].as_str().unwrap().to_string();
    let bcode = ok(public(&app, "/api/v1/public/denunciations").json(&submit("Impôts")).send().await.unwrap(), StatusCode::CREATED).await["receipt"].as_str().unwrap().to_string();
    assert_ne!(a, bcode);
    let list = ok(app.get("/api/v1/cases", &sup).send().await.unwrap(), StatusCode::OK).await;
    let case_a = list["items"].as_array().unwrap().iter().find(|c| c["fields"]["administration"] == "Douanes").unwrap()["id"].as_i64().unwrap();
    ok(app.post(&format!("/api/v1/cases/{case_a}/assignments"), &sup).json(&json!({"user_id": sup_id})).send().await.unwrap(), StatusCode::NO_CONTENT).await;
    ok(app.post(&format!("/api/v1/cases/{case_a}/messages"), &sup).json(&json!({"body": "Question pour A seulement"})).send().await.unwrap(), StatusCode::CREATED).await;
    let sa = ok(public(&app, "/api/v1/public/receipt/status").json(&json!({"code": a})).send().await.unwrap(), StatusCode::OK).await;
    let sb = ok(public(&app, "/api/v1/public/receipt/status").json(&json!({"code": bcode.replace(' ', "-")})).send().await.unwrap(), StatusCode::OK).await;
    assert_eq!(sa["messages"].as_array().unwrap().len(), 1);
    assert_eq!(sb["messages"].as_array().unwrap().len(), 0, "B sees nothing of A: {sb}");
    let mut keys: Vec<&String> = sa.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["case_type", "closed", "messages", "opened_at", "published_outcome", "status"]);
    // The code travels in the body only.
    let res = app.http.get(app.url(&format!("/api/v1/public/receipt/status?code={}", a.replace(' ', "")))).send().await.unwrap();
    assert_ne!(res.status(), StatusCode::OK);

    let refused_before = audit_actions(&app, "receipt", "-").await.len();
    // A typo is caught by the check digit and does not count against the holder.
    let mut typo: Vec<char> = a.chars().collect();
    typo[0] = if typo[0] == '1' { '2' } else { '1' };
    let typo: String = typo.into_iter().collect();
    for _ in 0..6 {
        let p = ok(public(&app, "/api/v1/public/receipt/status").json(&json!({"code": typo})).send().await.unwrap(), StatusCode::BAD_REQUEST).await;
        assert_eq!(p["field"], "code");
    }
    // Forged, well-formed codes: four refusals, then the source is locked out, even for a good code.
    for i in 0..5u8 {
        let mut random: Vec<u8> = (0..64u8).map(|x| x.wrapping_mul(31).wrapping_add(i * 17 + 3)).collect();
        random[0] = i;
        let forged = vigie_domain::cases::ReceiptCode::generate(&random).unwrap().grouped();
        let res = public(&app, "/api/v1/public/receipt/answer").json(&json!({"code": forged, "body": "spam"})).send().await.unwrap();
        let want = if i < 4 { StatusCode::NOT_FOUND } else { StatusCode::TOO_MANY_REQUESTS };
        assert_eq!(res.status(), want, "attempt {i}");
    }
    let res = public(&app, "/api/v1/public/receipt/status").json(&json!({"code": a})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let p: Value = res.json().await.unwrap();
    assert!(p["detail"].as_str().unwrap().contains("min"), "{p}");
    let refused = audit_actions(&app, "receipt", "-").await;
    assert!(refused.len() - refused_before >= 12, "every refusal is audited: {refused:?}");
    assert!(refused.iter().all(|a| a == "receipt.refused"));
    // An hour later the holder gets in again.
    app.advance(Duration::minutes(61));
    ok(public(&app, "/api/v1/public/receipt/status").json(&json!({"code": a})).send().await.unwrap(), StatusCode::OK).await;
    // Submissions are rate-limited per source too.
    let mut last = StatusCode::CREATED;
    for _ in 0..11 {
        last = public(&app, "/api/v1/public/denunciations").json(&submit("Police")).send().await.unwrap().status();
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    // Unknown fields in a public form are refused, not silently dropped.
    app.advance(Duration::minutes(61));
    let res = public(&app, "/api/v1/public/denunciations").json(&json!({"area_code": "ML-5", "locality": "x", "administration": "y", "facts": "z", "ip": "1.2.3.4"})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

async fn desks_areas_and_exclusions_are_enforced(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    let ngo = desk(&app, "Bureau anti-corruption", "ngo", "ML-5").await;
    let cndh = desk(&app, "CNDH", "cndh", "ML-5").await;
    let (sup, _) = person(&app, "chef", "case_supervisor", "ML-5", Some(ngo)).await;
    let (mine, mine_id) = person(&app, "awa", "case_handler", "ML-5", Some(ngo)).await;
    let (colleague, colleague_id) = person(&app, "moussa", "case_handler", "ML-5", Some(ngo)).await;
    let (other_desk, other_id) = person(&app, "cndh.agent", "case_handler", "ML-5", Some(cndh)).await;
    let (elsewhere, _) = person(&app, "tombouctou", "case_handler", "ML-6", Some(ngo)).await;
    let (sup_elsewhere, _) = person(&app, "chef.tombouctou", "case_supervisor", "ML-6", Some(ngo)).await;
    let viewer = app.user_token("lecteur", "viewer", "ML").await;
    let o = ok(app.post("/api/v1/cases", &sup).json(&json!({"workflow": "denunciation", "area_code": "ML-5-KORO", "desk_org_id": ngo, "title": "Douanes de Koro",
        "fields": {"locality": "Koro", "administration": "Douanes", "facts": "Racket", "reporter_name": "Kadiatou Témoin"}})).send().await.unwrap(), StatusCode::CREATED).await;
    let id = o["id"].as_i64().unwrap();
    let res = app.post("/api/v1/cases", &mine).json(&json!({"workflow": "denunciation", "area_code": "ML-5", "desk_org_id": cndh, "title": "t", "fields": {"locality": "a", "administration": "b", "facts": "c"}})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "no filing for another desk");

    for (who, t) in [("other desk", &other_desk), ("other area", &elsewhere), ("no cases right", &viewer)] {
        assert_eq!(app.get(&format!("/api/v1/cases/{id}"), t).send().await.unwrap().status(), StatusCode::FORBIDDEN, "{who}");
        let (s, _) = step_status(&app, t, id, "credibility_check", json!({})).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{who}");
    }
    let l = ok(app.get("/api/v1/cases", &other_desk).send().await.unwrap(), StatusCode::OK).await;
    assert_eq!(l["total"], 0, "another desk's cases are not listed");
    assert_eq!(app.get("/api/v1/cases", &viewer).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    // The admin at the root sees every desk, redacted.
    let c = ok(app.get(&format!("/api/v1/cases/{id}"), &app.admin_token).send().await.unwrap(), StatusCode::OK).await;
    assert_eq!(c["fields"]["reporter_name"], "[protégé]");
    // Same desk, not assigned: redacted.
    let c = ok(app.get(&format!("/api/v1/cases/{id}"), &colleague).send().await.unwrap(), StatusCode::OK).await;
    assert_eq!((c["identity_visible"].clone(), c["fields"]["reporter_name"].clone()), (json!(false), json!("[protégé]")));
    // Only a supervisor of the area assigns, and only handlers of the desk.
    ok(app.post(&format!("/api/v1/cases/{id}/assignments"), &mine).json(&json!({"user_id": mine_id})).send().await.unwrap(), StatusCode::FORBIDDEN).await;
    ok(app.post(&format!("/api/v1/cases/{id}/assignments"), &sup_elsewhere).json(&json!({"user_id": mine_id})).send().await.unwrap(), StatusCode::FORBIDDEN).await;
    let p = ok(app.post(&format!("/api/v1/cases/{id}/assignments"), &sup).json(&json!({"user_id": other_id})).send().await.unwrap(), StatusCode::FORBIDDEN).await;
    assert_eq!(p["field"], "user_id");
    ok(app.post(&format!("/api/v1/cases/{id}/assignments"), &sup).json(&json!({"user_id": mine_id})).send().await.unwrap(), StatusCode::NO_CONTENT).await;
    ok(app.post(&format!("/api/v1/cases/{id}/assignments"), &sup).json(&json!({"user_id": colleague_id})).send().await.unwrap(), StatusCode::NO_CONTENT).await;
    let c = ok(app.get(&format!("/api/v1/cases/{id}"), &colleague).send().await.unwrap(), StatusCode::OK).await;
    assert_eq!(c["fields"]["reporter_name"], "Kadiatou Témoin");
    // The colleague turns out to be related to the customs post: excluded, and refused from then on.
    ok(app.post(&format!("/api/v1/cases/{id}/exclusions"), &sup).json(&json!({"user_id": colleague_id, "reason": "Frère du chef de poste"})).send().await.unwrap(), StatusCode::NO_CONTENT).await;
    assert_eq!(app.get(&format!("/api/v1/cases/{id}"), &colleague).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(app.get(&format!("/api/v1/cases/{id}/messages"), &colleague).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    let (s, _) = step_status(&app, &colleague, id, "credibility_check", json!({})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let l = ok(app.get("/api/v1/cases", &colleague).send().await.unwrap(), StatusCode::OK).await;
    assert_eq!(l["total"], 0);
    ok(app.post(&format!("/api/v1/cases/{id}/assignments"), &sup).json(&json!({"user_id": colleague_id})).send().await.unwrap(), StatusCode::FORBIDDEN).await;
    let c = ok(app.get(&format!("/api/v1/cases/{id}"), &mine).send().await.unwrap(), StatusCode::OK).await;
    assert_eq!(c["assigned_user_ids"], json!([mine_id]));
    // Exports redact identities, even for an assigned handler.
    let res = app.get("/api/v1/cases/export.csv", &mine).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let csv = res.text().await.unwrap();
    assert!(csv.contains("Douanes de Koro") && csv.contains("[protégé]"), "{csv}");
    assert!(!csv.contains("Kadiatou") && !csv.contains("Racket"), "{csv}");
    // Referred to another desk: the old desk's assignments end.
    ok(app.post(&format!("/api/v1/cases/{id}/referral"), &sup).json(&json!({"desk_org_id": cndh})).send().await.unwrap(), StatusCode::NO_CONTENT).await;
    assert_eq!(app.get(&format!("/api/v1/cases/{id}"), &mine).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    let c = ok(app.get(&format!("/api/v1/cases/{id}"), &other_desk).send().await.unwrap(), StatusCode::OK).await;
    assert_eq!((c["identity_visible"].clone(), c["assigned_user_ids"].clone()), (json!(false), json!([])));
    // The OpenAPI document describes the routes.
    let doc: Value = app.http.get(app.url("/api/v1/openapi.json")).send().await.unwrap().json().await.unwrap();
    for p in ["/api/v1/cases", "/api/v1/cases/{id}/transitions", "/api/v1/public/denunciations", "/api/v1/public/receipt/status", "/api/v1/public/transparency", "/api/v1/reports/{id}/case"] {
        assert!(doc["paths"].get(p).is_some(), "{p} undocumented");
    }
}

async fn evidence_and_free_text_are_handled_safely(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    let (sup, sup_id) = person(&app, "chef", "case_supervisor", "ML-5", None).await;
    let r = ok(public(&app, "/api/v1/public/denunciations").json(&json!({"area_code": "ML-5-KORO", "locality": SCRIPT, "administration": "Douanes", "facts": SCRIPT})).send().await.unwrap(), StatusCode::CREATED).await;
    let code = r["receipt"].as_str().unwrap().to_string();
    let l = ok(app.get("/api/v1/cases", &sup).send().await.unwrap(), StatusCode::OK).await;
    let id = l["items"][0]["id"].as_i64().unwrap();
    assert_eq!(l["items"][0]["fields"]["locality"], SCRIPT, "kept verbatim, returned as JSON data");
    ok(app.post(&format!("/api/v1/cases/{id}/assignments"), &sup).json(&json!({"user_id": sup_id})).send().await.unwrap(), StatusCode::NO_CONTENT).await;
    ok(public(&app, "/api/v1/public/receipt/answer").json(&json!({"code": code, "body": SCRIPT})).send().await.unwrap(), StatusCode::CREATED).await;
    let res = app.get(&format!("/api/v1/cases/{id}/messages"), &sup).send().await.unwrap();
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    let raw = res.text().await.unwrap();
    assert!(raw.contains(r#"\"guillemets\""#), "JSON-escaped: {raw}");
    let thread: Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(thread[0]["body"], SCRIPT);

    let evidence = |name: &str, ty: &str, bytes: &[u8]| json!({"code": code, "file_name": name, "content_type": ty, "content_base64": b64(bytes)});
    let mut big = JPEG.to_vec();
    big.resize(1024 * 1024 + 1, 0);
    let p = ok(public(&app, "/api/v1/public/receipt/evidence").json(&evidence("photo.jpg", "image/jpeg", &big)).send().await.unwrap(), StatusCode::PAYLOAD_TOO_LARGE).await;
    assert_eq!(p["field"], "content_base64");
    for name in ["../../etc/passwd.jpg", "..\\..\\boot.jpg", ".htaccess", "photo\u{0}.jpg", "a/b.jpg", "con<1>.jpg"] {
        let p = ok(public(&app, "/api/v1/public/receipt/evidence").json(&evidence(name, "image/jpeg", JPEG)).send().await.unwrap(), StatusCode::BAD_REQUEST).await;
        assert_eq!(p["field"], "file_name", "{name}");
    }
    let p = ok(public(&app, "/api/v1/public/receipt/evidence").json(&evidence("shell.jpg", "image/jpeg", b"<?php system($_GET['c']); ?>")).send().await.unwrap(), StatusCode::BAD_REQUEST).await;
    assert_eq!(p["field"], "content", "{p}");
    let e = ok(public(&app, "/api/v1/public/receipt/evidence").json(&evidence("Photo marché Koro.php.jpeg", "image/jpeg", JPEG)).send().await.unwrap(), StatusCode::CREATED).await;
    assert_eq!(e["file_name"], "photo_marche_koro_php.jpg");
    let eid = e["id"].as_i64().unwrap();
    let res = app.get(&format!("/api/v1/cases/{id}/evidence/{eid}"), &sup).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    assert!(res.headers()["content-disposition"].to_str().unwrap().starts_with("attachment;"));
    assert_eq!(res.bytes().await.unwrap().as_ref(), JPEG);
    let (other, _) = person(&app, "collegue", "case_handler", "ML-5", None).await;
    assert_eq!(app.get(&format!("/api/v1/cases/{id}/evidence/{eid}"), &other).send().await.unwrap().status(), StatusCode::FORBIDDEN, "not assigned");
    let refused = audit_actions(&app, "evidence", "-").await;
    assert!(refused.len() >= 8, "{refused:?}");
}
