//! The case pages, the public pages and the map endpoints against a real server, on both
//! backends: an anonymous denunciation through the HTML form (CSRF by double submit, the
//! API's rate limit), the receipt code shown once, the follow-up by code, the handler's inbox,
//! assignment, workflow step and question, the transparency page's suppression, and the map's
//! clusters within the reader's area.

use crate::support;

use reqwest::{header, redirect, StatusCode};
use support::{Backend, TestApp, PASSWORD};

both_backends!(a_denunciation_goes_from_the_public_form_to_the_handler_and_back, transparency_shows_only_safe_counts, map_clusters_are_area_scoped_and_bounded);

fn browser() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(redirect::Policy::none()).build().unwrap()
}

fn field_of(html: &str, name: &str) -> String {
    let pat = format!(r#"name="{name}" value=""#);
    let i = html.find(&pat).unwrap_or_else(|| panic!("field {name} in {html}")) + pat.len();
    html[i..].split('"').next().unwrap().to_string()
}

fn location(res: &reqwest::Response) -> String {
    res.headers().get(header::LOCATION).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default()
}

async fn signed_in(app: &TestApp, user: &str) -> (reqwest::Client, String) {
    let c = browser();
    let page = c.get(app.url("/connexion")).send().await.unwrap().text().await.unwrap();
    let csrf = field_of(&page, "csrf");
    let res = c.post(app.url("/connexion")).form(&[("username", user), ("password", PASSWORD), ("csrf", &csrf), ("suite", "/")]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let home = c.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    let csrf = field_of(&home, "csrf");
    (c, csrf)
}

/// The receipt code on the receipt page.
fn receipt_of(html: &str) -> String {
    let i = html.find(r#"id="code-recu">"#).expect("receipt code") + r#"id="code-recu">"#.len();
    html[i..].split('<').next().unwrap().to_string()
}

async fn a_denunciation_goes_from_the_public_form_to_the_handler_and_back(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    let citizen = browser();
    let form = citizen.get(app.url("/denoncer")).send().await.unwrap();
    assert_eq!(form.status(), StatusCode::OK);
    assert_eq!(form.headers()[header::CACHE_CONTROL], "no-store");
    let form = form.text().await.unwrap();
    assert!(form.contains("Koro") && form.contains(r#"href="/transparence""#), "public nav and places");
    let csrf = field_of(&form, "csrf");
    let fields = |csrf: &str, facts: &str| {
        vec![
            ("csrf".to_string(), csrf.to_string()),
            ("zone".into(), "ML-5-KORO".into()),
            ("localite".into(), "Koro".into()),
            ("administration".into(), "Douanes".into()),
            ("faits".into(), facts.to_string()),
            ("nom".into(), "Awa Traoré".into()),
        ]
    };
    // Without the cookie of the form (another browser), refused; nothing is stored.
    let res = browser().post(app.url("/denoncer")).form(&fields(&csrf, "x")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // A missing field comes back on the form with the workflow's label.
    let res = citizen.post(app.url("/denoncer")).form(&fields(&csrf, "  ")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text().await.unwrap();
    assert!(page.contains("Faits dénoncés") && page.contains(r#"aria-invalid="true""#), "{page}");
    let csrf = field_of(&page, "csrf");
    let res = citizen.post(app.url("/denoncer")).form(&fields(&csrf, "Le chef de poste exige <b>5 000 FCFA</b> par camion")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers()[header::CACHE_CONTROL], "no-store");
    let page = res.text().await.unwrap();
    let code = receipt_of(&page);
    assert_eq!(code.replace(' ', "").len(), 28, "{code}");
    assert!(page.contains("ne sera plus jamais affiché"));

    // Follow-up with the code: the public status, no question yet.
    let page = citizen.get(app.url("/suivi")).send().await.unwrap().text().await.unwrap();
    let res = citizen.post(app.url("/suivi")).form(&[("csrf", field_of(&page, "csrf").as_str()), ("code", code.as_str())]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    assert!(page.contains(r#"<strong id="statut">Reçue</strong>"#), "{page}");
    // A wrong code is refused on the form.
    let wrong = format!("{}{}", &code[..code.len() - 1], if code.ends_with('0') { '1' } else { '0' });
    let res = citizen.post(app.url("/suivi")).form(&[("csrf", field_of(&page, "csrf").as_str()), ("code", wrong.as_str())]).send().await.unwrap();
    assert!(res.status().is_client_error());
    assert!(res.text().await.unwrap().contains(r#"id="form-error""#));

    // The supervisor sees it in the inbox, names redacted, and assigns a handler.
    app.user_token("sup", "case_supervisor", "ML").await;
    let handler_token = app.user_token("awa", "case_handler", "ML-5").await;
    let _ = handler_token;
    app.user_token("goundam", "case_handler", "ML-6").await;
    let (sup, sup_csrf) = signed_in(&app, "sup").await;
    let inbox = sup.get(app.url("/dossiers")).send().await.unwrap().text().await.unwrap();
    assert!(inbox.contains("Dénonciation – Douanes") && !inbox.contains("Awa Traoré"), "{inbox}");
    let id = {
        let i = inbox.find(r#"<a href="/dossiers/"#).unwrap() + r#"<a href="/dossiers/"#.len();
        inbox[i..].split('"').next().unwrap().to_string()
    };
    let case = sup.get(app.url(&format!("/dossiers/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(case.contains("[protégé]") && !case.contains("Awa Traoré") && !case.contains("5 000 FCFA"), "not assigned: redacted");
    assert!(case.contains(">awa (awa)<") && !case.contains("goundam"), "only handlers of the case's area are offered");
    let awa_id = vigie_storage::users::id_by_username(&app.db, "awa").await.unwrap().to_string();
    let res = sup.post(app.url(&format!("/dossiers/{id}/affectation"))).form(&[("csrf", sup_csrf.as_str()), ("charge", awa_id.as_str())]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{}", res.text().await.unwrap());

    // The handler reads the identities (escaped), takes a step, asks a question.
    let (awa, awa_csrf) = signed_in(&app, "awa").await;
    let case = awa.get(app.url(&format!("/dossiers/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(case.contains("Awa Traoré") && case.contains("&lt;b&gt;5 000 FCFA&lt;&#x2f;b&gt;"), "assigned: decrypted and escaped");
    assert!(!case.contains(r#"action="/dossiers/"#.to_string().as_str()) || case.contains(r#"name="vers" value="credibility_check""#));
    assert!(!case.contains(r#"value="outcome_published""#), "a supervisor's step is not offered to a handler");
    assert!(!case.contains(r#"action="/dossiers/1/affectation""#) || !case.contains("Affecter un chargé"));
    // A step whose fields are missing comes back with the fields named.
    let res = awa.post(app.url(&format!("/dossiers/{id}/etape"))).form(&[("csrf", awa_csrf.as_str()), ("vers", "not_credible")]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("Motif de clôture"));
    let res = awa.post(app.url(&format!("/dossiers/{id}/etape"))).form(&[("csrf", awa_csrf.as_str()), ("vers", "credibility_check")]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // An illegal step (not from this state) is refused with the workflow's words.
    let res = awa.post(app.url(&format!("/dossiers/{id}/etape"))).form(&[("csrf", awa_csrf.as_str()), ("vers", "follow_up")]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let res = awa.post(app.url(&format!("/dossiers/{id}/questions"))).form(&[("csrf", awa_csrf.as_str()), ("question", "Quel jour était-ce ?")]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // Without the session's token, nothing moves.
    let res = awa.post(app.url(&format!("/dossiers/{id}/questions"))).form(&[("question", "x")]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // The citizen reads the question and answers it.
    let page = citizen.get(app.url("/suivi")).send().await.unwrap().text().await.unwrap();
    let page = citizen.post(app.url("/suivi")).form(&[("csrf", field_of(&page, "csrf").as_str()), ("code", code.as_str())]).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Quel jour était-ce ?") && page.contains("Vérification de crédibilité"), "{page}");
    let res = citizen.post(app.url("/suivi/reponse")).form(&[("csrf", field_of(&page, "csrf").as_str()), ("code", code.as_str()), ("reponse", "Le lundi 2 mars")]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("Votre message a été transmis."));

    // The handler sees the answer; a handler of another région does not see the case at all.
    let case = awa.get(app.url(&format!("/dossiers/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(case.contains("Le lundi 2 mars") && case.contains("Vérification de crédibilité"));
    let (goundam, _) = signed_in(&app, "goundam").await;
    assert!(!goundam.get(app.url("/dossiers")).send().await.unwrap().text().await.unwrap().contains("Dénonciation – Douanes"));
    assert_eq!(goundam.get(app.url(&format!("/dossiers/{id}"))).send().await.unwrap().status(), StatusCode::FORBIDDEN);
}

async fn transparency_shows_only_safe_counts(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    // Published outcomes: 7 and 6 in Mopti, 2 in Koro (a small count).
    let sup_id = {
        app.user_token("sup", "case_supervisor", "ML").await;
        vigie_storage::users::id_by_username(&app.db, "sup").await.unwrap()
    };
    let principal = vigie_storage::users::principal(&app.db, sup_id).await.unwrap().unwrap();
    let actor = vigie_storage::audit::Actor::user(sup_id, "sup");
    let plan = [("ML-5-MOPTI", "Douanes", "Sanction", 7), ("ML-5-MOPTI", "Douanes", "Poursuites", 6), ("ML-5-KORO", "Douanes", "Sanction", 2)];
    for (area, adm, outcome, n) in plan {
        for _ in 0..n {
            let mut f = serde_json::Map::new();
            for (k, v) in [("locality", "x"), ("administration", adm), ("facts", "faits")] {
                f.insert(k.into(), v.into());
            }
            let new = vigie_storage::cases::NewCase {
                workflow: "denunciation".into(),
                area: vigie_domain::area::AreaCode::parse(area).unwrap(),
                desk_org_id: None,
                title: "Dénonciation".into(),
                fields: f,
                report_id: None,
            };
            let o = vigie_storage::cases::create(&app.db, new, None, &actor, app.now()).await.unwrap();
            let path = vigie_storage::areas::path_of(&app.db, &vigie_domain::area::AreaCode::parse(area).unwrap(), "a").await.unwrap();
            let who = vigie_storage::cases::Mover { actor: &actor, user_id: sup_id, rights: vigie_domain::cases::Actor::for_area(&principal, &path) };
            for (to, fields) in [
                ("credibility_check", vec![]),
                ("transmitted_pef", vec![("credibility_assessment", "ok"), ("transmission_ref", "R1")]),
                ("follow_up", vec![]),
                ("outcome_published", vec![("outcome", outcome), ("outcome_summary", "Résumé")]),
            ] {
                let m: serde_json::Map<String, serde_json::Value> = fields.into_iter().map(|(k, v)| (k.to_string(), v.into())).collect();
                vigie_storage::cases::transition(&app.db, o.id, to, m, &who, app.now()).await.unwrap();
            }
            vigie_storage::cases::publish(&app.db, o.id, None, &who, app.now()).await.unwrap();
        }
    }
    let res = browser().get(app.url("/transparence")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    assert!(page.contains("Koro (ML-5-KORO)") && page.contains(r#"<td class="num sup"><strong>&lt;5</strong></td>"#), "Koro's total is small: {page}");
    assert!(page.contains(">masqué<"), "complements are hidden");
    assert!(!page.contains(">2<"), "the small count itself never appears");
    // The grand total is 15 and shown; the région figure comes from the published totals only.
    assert!(page.contains("<strong>15</strong>"), "{page}");
    let geo: serde_json::Value = browser().get(app.url("/transparence/regions.geojson")).send().await.unwrap().json().await.unwrap();
    let mopti = geo["features"].as_array().unwrap().iter().find(|f| f["properties"]["code"] == "ML-5");
    // The test areas carry no boundary: no feature, but no error either.
    assert!(mopti.is_none() || mopti.unwrap()["properties"]["label"].as_str().unwrap().contains('≥'));
    let en = browser().get(app.url("/transparence")).header(header::ACCEPT_LANGUAGE, "en").send().await.unwrap().text().await.unwrap();
    assert!(en.contains("Transparency") && en.contains(">hidden<"));
    // Column headings in the page's language: the case type from its workflow; the handler's
    // own outcome text ("Sanction") as written.
    assert!(page.contains("Dénonciation de corruption<br>"), "{page}");
    assert!(en.contains("Corruption denunciation<br>") && !en.contains("Dénonciation de corruption"), "{en}");
    assert!(en.contains(r#"<span class="muted">Sanction</span>"#), "{en}");
}

async fn map_clusters_are_area_scoped_and_bounded(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    let token = app.admin_token.clone();
    // Reports with points in Koro (Mopti) and Goundam (Tombouctou).
    for (i, (area, lat, lon, cat)) in [("ML-5-KORO", 14.07, -3.08, "armed_attack"), ("ML-5-KORO", 14.08, -3.07, "armed_attack"), ("ML-6-GOUNDAM", 16.41, -3.67, "abduction")].iter().enumerate() {
        let body = serde_json::json!({"category": cat, "text": format!("Signalement {i}"), "occurred_at": app.now().to_rfc3339(), "area_code": area,
            "lat": lat, "lon": lon, "idempotency_key": format!("map-{i}")});
        let res = app.post("/api/v1/reports", &token).json(&body).send().await.unwrap();
        assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    }
    app.user_token("ana", "analyst", "ML-5").await;
    let (ana, _) = signed_in(&app, "ana").await;
    let all: serde_json::Value = ana.get(app.url("/carte/signalements.json?bbox=-13,9,5,26&z=5&jours=0")).send().await.unwrap().json().await.unwrap();
    assert_eq!(all["total"], 2, "only Mopti's reports: {all}");
    let c = &all["clusters"][0];
    assert_eq!((c["count"].as_i64(), c["category"].as_str()), (Some(2), Some("armed_attack")));
    // Zoomed in far enough, the two reports part and each links to itself.
    let near: serde_json::Value = ana.get(app.url("/carte/signalements.json?bbox=-3.2,14,-3,14.2&z=14&jours=0")).send().await.unwrap().json().await.unwrap();
    assert_eq!(near["clusters"].as_array().unwrap().len(), 2, "{near}");
    assert!(near["clusters"][0]["id"].as_i64().is_some());
    // Outside the box: nothing. A bad box: an error, as an HTML page.
    let none: serde_json::Value = ana.get(app.url("/carte/signalements.json?bbox=0,0,1,1&z=8&jours=0")).send().await.unwrap().json().await.unwrap();
    assert_eq!(none["total"], 0);
    assert_eq!(ana.get(app.url("/carte/signalements.json?bbox=5,1,0,2&z=3")).send().await.unwrap().status(), StatusCode::BAD_REQUEST);
    // Category filter.
    let theft: serde_json::Value = browser_admin(&app).await.get(app.url("/carte/signalements.json?bbox=-13,9,5,26&z=5&jours=0&categorie=abduction")).send().await.unwrap().json().await.unwrap();
    assert_eq!(theft["total"], 1);
    // The map page and its table of régions; the dashboard's weekly chart counts the reports.
    let page = ana.get(app.url("/carte")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(r#"id="par-region""#) && page.contains("Mopti") && !page.contains("Tombouctou"), "{page}");
    let home = ana.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(home.contains(r#"id="chart-weekly""#) && home.contains("Signalements reçus 2,"), "{home}");
    // Without a session: to the sign-in page.
    assert!(location(&browser().get(app.url("/carte/signalements.json?bbox=-13,9,5,26&z=5")).send().await.unwrap()).starts_with("/connexion?suite="));
}

async fn browser_admin(app: &TestApp) -> reqwest::Client {
    app.user_token("nat", "admin", "ML").await;
    signed_in(app, "nat").await.0
}
