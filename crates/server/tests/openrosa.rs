//! ODK/OpenRosa for real: the XForms made by pyxform from the shipped XLSForms, published,
//! listed and downloaded as ODK Collect does, and submissions posted as multipart like Collect
//! posts them — good ones, a duplicate, malformed XML, an unknown form, a bad attachment.

use crate::support;

use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;
use serde_json::Value;
use support::{Backend, TestApp};

both_backends!(collect_lists_downloads_and_submits, survey_submissions_are_tallied_and_exported);

fn repo(path: &str) -> String {
    format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR"))
}

async fn with_demo_areas(app: &TestApp) {
    let bytes = std::fs::read(repo("data/demo/areas.csv")).unwrap();
    let rows = vigie_domain::import::areas::parse(vigie_domain::import::areas::Format::Csv, &bytes).unwrap();
    vigie_storage::areas::import(&app.db, &rows, &vigie_storage::audit::Actor::system("test")).await.unwrap();
}

async fn publish(app: &TestApp, file: &str, purpose: &str) -> Value {
    let xml = std::fs::read(repo(file)).unwrap();
    let res = app.post(&format!("/api/v1/forms?purpose={purpose}&area_code=ML"), &app.admin_token).header("content-type", "text/xml").body(xml).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap());
    res.json().await.unwrap()
}

const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 0xFF, 0xD9];

fn incident(uuid: &str, commune: &str, photo: Option<&str>) -> String {
    let photo = photo.map(|p| format!("<photo>{p}</photo>")).unwrap_or_else(|| "<photo/>".into());
    format!(r#"<?xml version='1.0' ?><data id="vigie_incident" version="2026052101" xmlns:h="http://www.w3.org/1999/xhtml" xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms" xmlns:odk="http://www.opendatakit.org/xforms"><debut>2026-05-21T07:58:12.331+00:00</debut><fin>2026-05-21T08:04:40.102+00:00</fin><categorie>armed_attack</categorie><description>Des hommes armés à moto ont attaqué le marché vers 6 h. Deux blessés &amp; des boutiques pillées.</description><date_evenement>2026-05-21T06:00:00.000+00:00</date_evenement><lieu><commune>{commune}</commune><lieu_dit>Marché</lieu_dit><position>14.49 -4.19 281.5 4.9</position></lieu>{photo}<message_vocal/><type_rapporteur>focal_point</type_rapporteur><meta><instanceID>{uuid}</instanceID></meta></data>"#)
}

/// A multipart body as ODK Collect builds it.
fn collect_form(xml: String, files: &[(&str, &str, &[u8])]) -> Form {
    let mut f = Form::new().part("xml_submission_file", Part::bytes(xml.into_bytes()).file_name("submission.xml").mime_str("text/xml").unwrap());
    for (name, mime, bytes) in files {
        f = f.part(name.to_string(), Part::bytes(bytes.to_vec()).file_name(name.to_string()).mime_str(mime).unwrap());
    }
    f
}

async fn collect_lists_downloads_and_submits(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    with_demo_areas(&app).await;
    let form = publish(&app, "forms/incident_fr.xml", "incident").await;
    assert_eq!(form["form_id"], "vigie_incident");
    // A focal point's phone, configured by one URL with a token (no password on the phone).
    let token = app.user_token("relais.mopti", "reporter", "ML-5").await;
    let http = reqwest::Client::new();
    let list = http.get(app.url(&format!("/key/{token}/formList"))).header("X-OpenRosa-Version", "1.0").send().await.unwrap();
    assert_eq!(list.status(), StatusCode::OK);
    assert_eq!(list.headers()["x-openrosa-version"], "1.0");
    let list = list.text().await.unwrap();
    assert!(list.contains("<formID>vigie_incident</formID>") && list.contains(&format!("md5:{}", form["md5"].as_str().unwrap().trim_start_matches("md5:"))), "{list}");
    let url = list.split("<downloadUrl>").nth(1).unwrap().split("</downloadUrl>").next().unwrap().to_string();
    let dl = http.get(&url).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(dl.as_ref(), std::fs::read(repo("forms/incident_fr.xml")).unwrap().as_slice(), "served byte for byte");
    // No credentials: 401 with a Basic challenge; wrong token: 403.
    let res = http.get(app.url("/formList")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.headers()["www-authenticate"].to_str().unwrap().starts_with("Basic"));
    assert_eq!(http.get(app.url("/key/vgt_nope/formList")).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    // Basic auth works for accounts.
    let res = http.get(app.url("/formList")).basic_auth("relais.mopti", Some(support::PASSWORD)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    let head = http.head(app.url(&format!("/key/{token}/submission"))).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::NO_CONTENT);
    assert!(head.headers().contains_key("x-openrosa-accept-content-length"));

    let sub_url = app.url(&format!("/key/{token}/submission"));
    let uuid = "uuid:6f1b7f5e-3f1c-4d2a-9b8e-0c4a1d2e3f40";
    let res = http.post(&sub_url).header("X-OpenRosa-Version", "1.0").multipart(collect_form(incident(uuid, "ML-5-MOPTI-MOPTI", Some("1779350680123.jpg")), &[("1779350680123.jpg", "image/jpeg", JPEG)])).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let body = res.text().await.unwrap();
    assert!(body.contains("OpenRosaResponse") && body.contains("submit_success"), "{body}");
    // It became a report through the early-warning intake, channel ODK, in the right commune.
    let reports: Value = app.get("/api/v1/reports", &app.admin_token).send().await.unwrap().json().await.unwrap();
    assert_eq!(reports["total"], 1, "{reports}");
    assert_eq!(reports["items"][0]["channel"], "odk");
    assert_eq!(reports["items"][0]["area_code"], "ML-5-MOPTI-MOPTI");
    assert_eq!(reports["items"][0]["category_code"], "armed_attack");
    // Collect resends (no answer seen): accepted, stored once.
    let res = http.post(&sub_url).multipart(collect_form(incident(uuid, "ML-5-MOPTI-MOPTI", Some("1779350680123.jpg")), &[("1779350680123.jpg", "image/jpeg", JPEG)])).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let reports: Value = app.get("/api/v1/reports", &app.admin_token).send().await.unwrap().json().await.unwrap();
    assert_eq!(reports["total"], 1);
    let subs: Value = app.get(&format!("/api/v1/forms/{}/submissions", form["id"]), &app.admin_token).send().await.unwrap().json().await.unwrap();
    assert_eq!(subs.as_array().unwrap().len(), 1);
    let files: i64 = vigie_storage::run!(&app.db.read, c => sqlx::query_scalar("SELECT COUNT(*) FROM submission_attachments").fetch_one(c).await.unwrap());
    assert_eq!(files, 1);

    // Bad input: clear OpenRosa errors, nothing stored.
    let bad = [
        (collect_form("<data id='vigie_incident'><oops>".into(), &[]), StatusCode::BAD_REQUEST),
        (collect_form(incident("uuid:1", "ML-5-MOPTI-MOPTI", None).replace("vigie_incident", "inconnu"), &[]), StatusCode::NOT_FOUND),
        (collect_form(r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><data id="vigie_incident">&lol2;</data>"#.into(), &[]), StatusCode::BAD_REQUEST),
        (collect_form(incident("uuid:2", "ML-5-MOPTI-MOPTI", Some("x.jpg")), &[("x.jpg", "image/jpeg", b"MZ\x90\x00 not a jpeg")]), StatusCode::UNPROCESSABLE_ENTITY),
        (Form::new().text("other", "x"), StatusCode::BAD_REQUEST),
    ];
    for (form_body, status) in bad {
        let res = http.post(&sub_url).multipart(form_body).send().await.unwrap();
        assert_eq!(res.status(), status);
        assert!(res.text().await.unwrap().contains("nature=\"error\""));
    }
    // Too large for the limit announced by HEAD.
    let huge = vec![0xFFu8; vigie_server::openrosa::SUBMISSION_LIMIT + 1024];
    let res = reqwest::Client::new().post(&sub_url).multipart(collect_form(incident("uuid:3", "ML-5-MOPTI-MOPTI", Some("big.jpg")), &[("big.jpg", "image/jpeg", &huge)])).send().await;
    assert!(res.map(|r| r.status().is_client_error()).unwrap_or(true), "oversized upload refused");
    let subs: Value = app.get(&format!("/api/v1/forms/{}/submissions", form["id"]), &app.admin_token).send().await.unwrap().json().await.unwrap();
    assert_eq!(subs.as_array().unwrap().len(), 1, "nothing else stored");
    // Outside the focal point's area: the submission is kept, but no report in Koro's name is made for Ségou.
    let res = http.post(&sub_url).multipart(collect_form(incident("uuid:4", "ML-4-SEGOU-SEGOU", None), &[])).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let subs: Value = app.get(&format!("/api/v1/forms/{}/submissions", form["id"]), &app.admin_token).send().await.unwrap().json().await.unwrap();
    let last = &subs.as_array().unwrap()[1];
    assert!(last["report_id"].is_null() && last["intake_error"].as_str().unwrap().contains("outside"), "{last}");
}

fn perception(uuid: &str, commune: &str, police: &str) -> String {
    format!(r#"<?xml version='1.0' ?>
<data xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms" id="vigie_perception" version="2026052101">
  <debut>2026-05-20T10:02:00.000+00:00</debut><fin>2026-05-20T10:19:30.000+00:00</fin>
  <date_entretien>2026-05-20</date_entretien><sexe>femme</sexe><tranche_age>25_34</tranche_age><commune>{commune}</commune>
  <confiance><confiance_police>{police}</confiance_police><confiance_gendarmerie>assez</confiance_gendarmerie><confiance_justice>nsp</confiance_justice></confiance>
  <sentiment_securite>plutot_en_insecurite</sentiment_securite><incident_signale>non</incident_signale>
  <preoccupations>vol_betail conflits_fonciers</preoccupations><distance_poste_km>12.5</distance_poste_km><nb_membres>1</nb_membres>
  <membres><sexe_membre>homme</sexe_membre><age_membre>moins_15</age_membre></membres>
  <commentaire/><meta><instanceID>{uuid}</instanceID></meta>
</data>"#)
}

async fn survey_submissions_are_tallied_and_exported(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    with_demo_areas(&app).await;
    let form = publish(&app, "forms/perception_fr.xml", "survey").await;
    let token = app.user_token("enqueteur", "reporter", "ML").await;
    let http = reqwest::Client::new();
    for (i, (commune, police)) in [("ML-5-MOPTI-MOPTI", "pas_du_tout"), ("ML-5-MOPTI-MOPTI", "assez"), ("ML-4-SEGOU-SEGOU", "assez")].iter().enumerate() {
        let res = http.post(app.url(&format!("/key/{token}/submission"))).multipart(collect_form(perception(&format!("uuid:p-{i}"), commune, police), &[])).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap());
    }
    // A survey makes no reports.
    let reports: Value = app.get("/api/v1/reports", &app.admin_token).send().await.unwrap().json().await.unwrap();
    assert_eq!(reports["total"], 0);
    let tally: Value = app.get(&format!("/api/v1/forms/{}/tally", form["id"]), &app.admin_token).send().await.unwrap().json().await.unwrap();
    let police = tally.as_array().unwrap().iter().find(|q| q["path"].as_str().unwrap_or("").ends_with("confiance_police")).expect("police question");
    let s = police.to_string();
    assert!(s.contains("assez") && s.contains("pas_du_tout"), "{s}");
    let csv = app.get(&format!("/api/v1/forms/{}/export.csv", form["id"]), &app.admin_token).send().await.unwrap().text().await.unwrap();
    assert_eq!(csv.lines().count(), 4, "header + 3 rows:\n{csv}");
    assert!(csv.lines().next().unwrap().contains("KEY"));
    let xlsx = app.get(&format!("/api/v1/forms/{}/export.xlsx", form["id"]), &app.admin_token).send().await.unwrap();
    assert_eq!(xlsx.status(), StatusCode::OK);
    let bytes = xlsx.bytes().await.unwrap();
    assert!(bytes.starts_with(b"PK") && bytes.len() > 2000, "an XLSX (zip) workbook");
    // A viewer cannot manage forms.
    let viewer = app.user_token("lecteur", "viewer", "ML").await;
    assert_eq!(app.get(&format!("/api/v1/forms/{}/tally", form["id"]), &viewer).send().await.unwrap().status(), StatusCode::FORBIDDEN);
}
