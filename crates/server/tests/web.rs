//! The web pages against a real server and database: sign-in form, CSRF on every form,
//! redirects to the sign-in page, escaping of hostile text, the language switch.

use crate::support;

use reqwest::{header, redirect, StatusCode};
use support::{Backend, TestApp, PASSWORD};
use vigie_domain::area::{AreaCode, AreaInput, AreaLevel};

both_backends!(
    the_login_form_sets_the_session_cookie,
    bad_credentials_and_lockout_are_shown_in_the_page,
    a_post_without_the_csrf_field_is_refused,
    pages_need_a_session,
    hostile_area_names_are_escaped,
    the_language_switch_and_accept_language,
    users_and_roles_are_created_with_forms,
    static_files_are_cached_and_compressed,
    a_report_goes_from_the_form_to_a_closed_alert,
    hostile_report_text_is_escaped,
    report_and_alert_pages_are_area_scoped,
);

/// Text as the templates write it (minijinja's HTML escaping, `/` included).
fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#x27;").replace('/', "&#x2f;")
}

/// The value of a named hidden field of a page.
fn field_of(html: &str, name: &str) -> String {
    let pat = format!(r#"name="{name}" value=""#);
    let i = html.find(&pat).unwrap_or_else(|| panic!("field {name}")) + pat.len();
    html[i..].split('"').next().unwrap().to_string()
}

/// A browser-like client: keeps cookies, does not follow redirects (we check them).
fn browser() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(redirect::Policy::none()).build().unwrap()
}

/// The value of the first hidden `csrf` field of a page.
fn csrf_of(html: &str) -> String {
    let i = html.find(r#"name="csrf" value=""#).expect("csrf field") + r#"name="csrf" value=""#.len();
    html[i..].split('"').next().unwrap().to_string()
}

fn location(res: &reqwest::Response) -> String {
    res.headers().get(header::LOCATION).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default()
}

async fn sign_in_form(app: &TestApp, c: &reqwest::Client, user: &str, password: &str) -> reqwest::Response {
    let page = c.get(app.url("/connexion")).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_of(&page);
    c.post(app.url("/connexion")).form(&[("username", user), ("password", password), ("csrf", &csrf), ("suite", "/")]).send().await.unwrap()
}

/// Signs in and returns the client and the session's CSRF token (read from the dashboard).
async fn signed_in(app: &TestApp, user: &str) -> (reqwest::Client, String) {
    let c = browser();
    let res = sign_in_form(app, &c, user, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{}", res.text().await.unwrap());
    let home = c.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_of(&home);
    (c, csrf)
}

async fn the_login_form_sets_the_session_cookie(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    let c = browser();
    let res = c.get(app.url("/connexion")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    let csp = res.headers()[header::CONTENT_SECURITY_POLICY].to_str().unwrap().to_string();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
    let page = res.text().await.unwrap();
    assert!(page.contains(r#"<html lang="fr">"#) && page.contains("Connexion"));
    assert!(!page.contains("<script>") && !page.contains("style="), "no inline script or style");
    let csrf = csrf_of(&page);

    let res = c
        .post(app.url("/connexion"))
        .form(&[("username", "admin"), ("password", PASSWORD), ("csrf", &csrf), ("suite", "/zones")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/zones");
    let cookies: Vec<String> = res.headers().get_all(header::SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_string()).collect();
    let session = cookies.iter().find(|c| c.starts_with("vigie_session=")).expect("session cookie");
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Strict") && session.contains("Path=/"), "{session}");
    let home = c.get(app.url("/")).send().await.unwrap();
    assert_eq!(home.status(), StatusCode::OK);
    let home = home.text().await.unwrap();
    assert!(home.contains("Tableau de bord") && home.contains("Alertes ouvertes") && home.contains("Progrès des indicateurs"));
    // The session is the API's session too.
    assert_eq!(c.get(app.url("/api/v1/me")).send().await.unwrap().status(), StatusCode::OK);
    // Signed in, the form sends you on.
    let res = c.get(app.url("/connexion")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    // A sign-in POST without the form's token (or with another browser's) is refused.
    let other = browser();
    let res = other.post(app.url("/connexion")).form(&[("username", "admin"), ("password", PASSWORD), ("csrf", &csrf)]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.text().await.unwrap().contains("Jeton anti-CSRF absent ou invalide."));
    // The `suite` target is always a local path.
    let page = other.get(app.url("/connexion")).send().await.unwrap().text().await.unwrap();
    let res = other
        .post(app.url("/connexion"))
        .form(&[("username", "admin"), ("password", PASSWORD), ("csrf", &csrf_of(&page)), ("suite", "//evil.example/")])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&res), "/");
}

async fn bad_credentials_and_lockout_are_shown_in_the_page(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    let c = browser();
    let res = sign_in_form(&app, &c, "admin", "not the password").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let page = res.text().await.unwrap();
    assert!(page.contains("Identifiant ou mot de passe incorrect."), "{page}");
    assert!(page.contains(r#"value="admin""#), "the username is kept");
    for _ in 0..4 {
        sign_in_form(&app, &c, "admin", "not the password").await;
    }
    let res = sign_in_form(&app, &c, "admin", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.text().await.unwrap().contains("compte bloqué"));
    // In English for an English reader.
    let en = reqwest::Client::builder().cookie_store(true).redirect(redirect::Policy::none()).default_headers({
        let mut h = header::HeaderMap::new();
        h.insert(header::ACCEPT_LANGUAGE, "en-GB,en;q=0.9".parse().unwrap());
        h
    });
    let en = en.build().unwrap();
    let res = sign_in_form(&app, &en, "nobody", "whatever").await;
    assert!(res.text().await.unwrap().contains("Wrong username or password."));
}

async fn a_post_without_the_csrf_field_is_refused(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    let (c, csrf) = signed_in(&app, "admin").await;
    // The cookie alone: refused, in an HTML page, and the session still works.
    let res = c.post(app.url("/deconnexion")).form(&[("x", "1")]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.headers()[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    assert!(res.text().await.unwrap().contains("Jeton anti-CSRF absent ou invalide."));
    let res = c.post(app.url("/admin/roles")).form(&[("name", "pirate"), ("label", "Pirate"), ("permission", "audit.read"), ("csrf", "forged")]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(vigie_storage::roles::get(&app.db, "pirate").await.is_err(), "nothing was created");
    // The API's header does not stand in for the form field either.
    let res = c.post(app.url("/deconnexion")).header("x-csrf-token", &csrf).form(&[("x", "1")]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(c.get(app.url("/")).send().await.unwrap().status(), StatusCode::OK);

    // With the field: signed out, and pages send you to the sign-in form again.
    let res = c.post(app.url("/deconnexion")).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(location(&res).starts_with("/connexion"));
    let res = c.get(app.url("/")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(location(&res).starts_with("/connexion"));
}

async fn pages_need_a_session(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    let c = browser();
    for path in ["/", "/zones", "/zones/ML-5", "/carte/zones.geojson", "/admin/utilisateurs", "/admin/utilisateurs/nouveau", "/admin/roles", "/admin/journal", "/admin/journal/verifier", "/signalements", "/signalements/nouveau", "/signalements/1", "/alertes", "/alertes/1"] {
        let res = c.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{path}");
        let to = location(&res);
        assert!(to.starts_with("/connexion?suite="), "{path} → {to}");
    }
    // A token is for the API, not for pages.
    let res = c.get(app.url("/zones")).bearer_auth(&app.admin_token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // A community focal point sees the home page, not the administration.
    app.user_token("relais.koro", "reporter", "ML-5-KORO").await;
    let (c, _) = signed_in(&app, "relais.koro").await;
    let home = c.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(!home.contains("/admin/journal"), "no menu entry for what one may not see");
    for path in ["/admin/utilisateurs", "/admin/journal", "/admin/roles"] {
        let res = c.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
        assert!(res.text().await.unwrap().contains("Votre rôle ne permet pas cette action."));
    }
    // A Mopti analyst does not open Tombouctou.
    app.user_token("analyste.mopti", "analyst", "ML-5").await;
    let (c, _) = signed_in(&app, "analyste.mopti").await;
    let res = c.get(app.url("/zones/ML-6")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.text().await.unwrap().contains("hors de votre zone"));
    let zones = c.get(app.url("/zones")).send().await.unwrap().text().await.unwrap();
    assert!(zones.contains("/zones/ML-5-KORO") && !zones.contains("/zones/ML-6"));
    let res = c.get(app.url("/zones/ML-99")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(res.text().await.unwrap().contains("Introuvable."), "an HTML page, not a problem document");
}

async fn hostile_area_names_are_escaped(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    let hostile = "<script>alert(1)</script>";
    let mut tx = app.db.begin().await.unwrap();
    let input = AreaInput {
        code: AreaCode::parse("ML-6-EVIL").unwrap(),
        parent: Some(AreaCode::parse("ML-6").unwrap()),
        level: AreaLevel::Cercle,
        name: hostile.into(),
        tags: vec!["prosmed".into()],
        point: Some((16.0, -3.0)),
        geometry: None,
    };
    vigie_storage::areas::upsert(&mut tx, &input, &vigie_storage::audit::Actor::system("test")).await.unwrap();
    tx.commit().await.unwrap();
    let (c, _) = signed_in(&app, "admin").await;
    for path in ["/zones", "/zones?etiquette=prosmed", "/zones/ML-6-EVIL", "/zones/ML-6", "/admin/journal"] {
        let page = c.get(app.url(path)).send().await.unwrap().text().await.unwrap();
        assert!(!page.contains("<script>alert(1)"), "{path} lets markup through");
        assert!(page.contains("&lt;script&gt;alert(1)"), "{path} shows the name as text");
    }
    // The map's data is JSON: the name is a string there, which map.js sets as text.
    let geo: serde_json::Value = c.get(app.url("/carte/zones.geojson?zone=ML-6")).send().await.unwrap().json().await.unwrap();
    assert!(geo["features"].as_array().unwrap().iter().any(|f| f["properties"]["name"] == hostile));
}

async fn the_language_switch_and_accept_language(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    let (c, _) = signed_in(&app, "admin").await;
    let fr = c.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(fr.contains(r#"<html lang="fr">"#) && fr.contains("Tableau de bord"));
    assert!(fr.contains("Gravité : "), "French puts a space before the colon");
    let body = serde_json::json!({"category": "armed_attack", "text": "Signalement", "occurred_at": app.now().to_rfc3339(),
        "area_code": "ML-5-KORO", "idempotency_key": "lang-1"});
    assert!(app.post("/api/v1/reports", &app.admin_token).json(&body).send().await.unwrap().status().is_success());
    let alertes = c.get(app.url("/alertes")).send().await.unwrap().text().await.unwrap();
    assert!(alertes.contains(r#"<th scope="col">N°</th>"#), "{alertes}");
    let res = c.get(app.url("/langue/en?retour=%2Fzones")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/zones");
    let cookie = res.headers()[header::SET_COOKIE].to_str().unwrap().to_string();
    assert!(cookie.starts_with("lang=en;"), "{cookie}");
    let en = c.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(en.contains(r#"<html lang="en">"#) && en.contains("Dashboard") && en.contains("Open alerts") && en.contains("Indicator progress"));
    // English punctuation in English pages: "Severity: critical", not "Severity : critical".
    assert!(en.contains("Severity: ") && !en.contains(" : ") && !en.contains(" ; "), "French punctuation in the English page");
    let alerts = c.get(app.url("/alertes")).send().await.unwrap().text().await.unwrap();
    assert!(alerts.contains(r#"<th scope="col">No.</th>"#) && !alerts.contains("N°"), "{alerts}");
    // The cookie wins over Accept-Language; without it, Accept-Language decides.
    let en2 = c.get(app.url("/")).header(header::ACCEPT_LANGUAGE, "fr").send().await.unwrap().text().await.unwrap();
    assert!(en2.contains("Dashboard"));
    c.get(app.url("/langue/fr?retour=/")).send().await.unwrap();
    assert!(c.get(app.url("/")).send().await.unwrap().text().await.unwrap().contains("Tableau de bord"));
    let anon = browser();
    let page = anon.get(app.url("/connexion")).header(header::ACCEPT_LANGUAGE, "en-US,en;q=0.8").send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Sign in") && page.contains(r#"lang="en""#));
    // Never a redirect to another site.
    let res = anon.get(app.url("/langue/en?retour=//evil.example/x")).send().await.unwrap();
    assert_eq!(location(&res), "/");
    let res = anon.get(app.url("/langue/en?retour=https://evil.example/")).send().await.unwrap();
    assert_eq!(location(&res), "/");
}

async fn users_and_roles_are_created_with_forms(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    let (c, csrf) = signed_in(&app, "admin").await;
    let form = c.get(app.url("/admin/utilisateurs/nouveau")).send().await.unwrap().text().await.unwrap();
    assert!(form.contains(r#"<option value="ML-5-KORO""#));
    // A weak password: the form comes back with the message and the values typed.
    let res = c
        .post(app.url("/admin/utilisateurs/nouveau"))
        .form(&[("csrf", csrf.as_str()), ("username", "awa.koro"), ("display_name", "Awa <b>Koro</b>"), ("password", "123"), ("locale", "fr"), ("role", "reporter"), ("area", "ML-5-KORO"), ("role", ""), ("area", ""), ("role", ""), ("area", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let page = res.text().await.unwrap();
    assert!(page.contains("Mot de passe trop court") && page.contains("Awa &lt;b&gt;Koro"), "{page}");
    let res = c
        .post(app.url("/admin/utilisateurs/nouveau"))
        .form(&[("csrf", csrf.as_str()), ("username", "awa.koro"), ("display_name", "Awa Koro"), ("password", "karité et mil 2026"), ("locale", "fr"), ("role", "reporter"), ("area", "ML-5-KORO"), ("role", ""), ("area", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/admin/utilisateurs?cree=awa.koro");
    let id = vigie_storage::users::id_by_username(&app.db, "awa.koro").await.unwrap();
    let u = vigie_storage::users::get(&app.db, id).await.unwrap();
    assert_eq!((u.grants[0].role.as_str(), u.grants[0].area_code.as_str()), ("reporter", "ML-5-KORO"));
    let list = c.get(app.url("/admin/utilisateurs?cree=awa.koro")).send().await.unwrap().text().await.unwrap();
    assert!(list.contains("Compte créé") && list.contains("Awa Koro"));
    // A regional admin cannot hand out rights outside their région.
    app.user_token("admin.mopti", "admin", "ML-5").await;
    let (m, mcsrf) = signed_in(&app, "admin.mopti").await;
    let res = m
        .post(app.url("/admin/utilisateurs/nouveau"))
        .form(&[("csrf", mcsrf.as_str()), ("username", "x.goundam"), ("display_name", "X"), ("password", "karité et mil 2026"), ("role", "viewer"), ("area", "ML-6-GOUNDAM")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(vigie_storage::users::id_by_username(&app.db, "x.goundam").await.is_err());

    let res = c
        .post(app.url("/admin/roles"))
        .form(&[("csrf", csrf.as_str()), ("name", "observateur_cls"), ("label", "Observateur CLS / LSC observer"), ("permission", "areas.read"), ("permission", "reports.read")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let role = vigie_storage::roles::get(&app.db, "observateur_cls").await.unwrap();
    assert_eq!(role.permissions, vec!["areas.read", "reports.read"]);
    let audit = c.get(app.url("/admin/journal/verifier")).send().await.unwrap().text().await.unwrap();
    assert!(audit.contains("Chaîne intacte.") && audit.contains("role.create"), "{audit}");
}

async fn static_files_are_cached_and_compressed(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    let page = browser().get(app.url("/connexion")).send().await.unwrap().text().await.unwrap();
    let i = page.find("/static/").unwrap();
    let css = page[i..].split('"').next().unwrap().to_string();
    assert!(css.ends_with("/app.css"), "{css}");
    let res = browser().get(app.url(&css)).header(header::ACCEPT_ENCODING, "gzip").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::CACHE_CONTROL], "public, max-age=31536000, immutable");
    assert_eq!(res.headers()[header::CONTENT_ENCODING], "gzip");
    assert!(res.headers()[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/css"));
    let leaflet = css.replace("app.css", "vendor/leaflet/leaflet.js");
    assert_eq!(browser().get(app.url(&leaflet)).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(browser().get(app.url(&css.replace("app.css", "nope.js"))).send().await.unwrap().status(), StatusCode::NOT_FOUND);
}

fn ew_text(m: vigie_domain::early_warning::EwMsg) -> String {
    esc(&vigie_domain::Msg::from(m).text(vigie_domain::Lang::Fr))
}

/// Submits the intake form (as a person would: the form's hidden key and CSRF field).
async fn submit_report(app: &TestApp, c: &reqwest::Client, fields: &[(&str, &str)]) -> (reqwest::Response, String) {
    let form = c.get(app.url("/signalements/nouveau")).send().await.unwrap().text().await.unwrap();
    let (csrf, key) = (csrf_of(&form), field_of(&form, "cle"));
    let mut body: Vec<(&str, &str)> = vec![("csrf", &csrf), ("cle", &key)];
    body.extend_from_slice(fields);
    (c.post(app.url("/signalements/nouveau")).form(&body).send().await.unwrap(), key)
}

async fn command(app: &TestApp, c: &reqwest::Client, csrf: &str, alert: i64, fields: &[(&str, &str)]) -> reqwest::Response {
    let mut body: Vec<(&str, &str)> = vec![("csrf", csrf)];
    body.extend_from_slice(fields);
    c.post(app.url(&format!("/alertes/{alert}/commande"))).form(&body).send().await.unwrap()
}

async fn a_report_goes_from_the_form_to_a_closed_alert(b: Backend) {
    use vigie_domain::early_warning::alert::AlertState as S;
    use vigie_domain::early_warning::EwMsg;
    let Some(app) = TestApp::spawn(b).await else { return };
    app.user_token("analyste.mopti", "analyst", "ML-5").await;
    app.user_token("gendarmerie.mopti", "responder", "ML-5").await;
    let admin = vigie_storage::audit::Actor::system("test");
    let levels = vec![vigie_storage::alerts::LevelSpec { name: "Brigade de Koro".into(), phone: Some("76 00 00 01".into()), ack_minutes: 30 }];
    vigie_storage::alerts::create_rule(&app.db, None, 3, &AreaCode::parse("ML-5").unwrap(), levels, false, &admin).await.unwrap();
    let (c, csrf) = signed_in(&app, "analyste.mopti").await;

    // The form offers the areas of the analyst's reports.create scope, categories in French.
    let form = c.get(app.url("/signalements/nouveau")).send().await.unwrap().text().await.unwrap();
    assert!(form.contains(r#"<option value="ML-5-KORO""#) && !form.contains(r#"value="ML-6""#), "areas in scope only");
    assert!(form.contains("Attaque armée") && form.contains(r#"name="cle" value="web-"#));

    // A date in the future: the form comes back with the domain's message.
    let later = (app.now() + chrono::Duration::days(2)).format("%Y-%m-%dT%H:%M").to_string();
    let (res, _) = submit_report(&app, &c, &[("categorie", "armed_attack"), ("texte", "x"), ("survenu", &later), ("zone", "ML-5-KORO")]).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains(&ew_text(EwMsg::OccurredInFuture)));

    // Submitted twice with the same key (a double click): one report.
    let when = (app.now() - chrono::Duration::minutes(30)).format("%d/%m/%Y %H:%M").to_string();
    let text = "Des hommes armés à moto ont encerclé le village de Dinangourou ce matin";
    let (res, key) = submit_report(&app, &c, &[("categorie", "armed_attack"), ("texte", text), ("survenu", &when), ("zone", "ML-5-KORO")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let receipt_url = location(&res);
    assert!(receipt_url.starts_with("/signalements/recu/web-"), "{receipt_url}");
    let again = c.post(app.url("/signalements/nouveau")).form(&[("csrf", csrf.as_str()), ("cle", &key), ("categorie", "armed_attack"), ("texte", text), ("survenu", &when), ("zone", "ML-5-KORO")]).send().await.unwrap();
    assert_eq!(location(&again), receipt_url);
    let all = vigie_storage::reports::list(&app.db, &[vigie_domain::area::AreaPath("ML".into())], true, &Default::default(), 1, 10).await.unwrap();
    assert_eq!(all.total, 1, "a double click stores one report");
    let report = &all.items[0];
    assert_eq!(report.channel, "web");
    let alert = report.alert_id.unwrap();
    let receipt = c.get(app.url(&receipt_url)).send().await.unwrap().text().await.unwrap();
    assert!(receipt.contains(&report.reference) && receipt.contains(&format!("/signalements/{}", report.id)), "{receipt}");
    // Another account does not see someone else's receipt.
    app.user_token("analyste2", "analyst", "ML-5").await;
    let (other, _) = signed_in(&app, "analyste2").await;
    assert_eq!(other.get(app.url(&receipt_url)).send().await.unwrap().status(), StatusCode::NOT_FOUND);

    // Without a place: kept, and the receipt says what is missing.
    let (res, _) = submit_report(&app, &c, &[("categorie", "displacement"), ("texte", "familles arrivées à pied"), ("survenu", &when)]).await;
    let receipt = c.get(app.url(&location(&res))).send().await.unwrap().text().await.unwrap();
    assert!(receipt.contains(&ew_text(EwMsg::NeedsLocation)), "{receipt}");

    // The list: French dates, filters.
    let list = c.get(app.url("/signalements")).send().await.unwrap().text().await.unwrap();
    assert!(list.contains(&format!("/signalements/{}", report.id)) && list.contains(&esc(&app.now().format("%d/%m/%Y").to_string())));
    let list = c.get(app.url("/signalements?categorie=displacement")).send().await.unwrap().text().await.unwrap();
    assert!(!list.contains(&report.reference));
    let list = c.get(app.url("/signalements?zone=ML-5-KORO&q=DINANGOUROU&etat=pending")).send().await.unwrap().text().await.unwrap();
    assert!(list.contains(&report.reference) && list.contains("1 résultat"), "{list}");
    let list = c.get(app.url("/signalements?du=2020-01-01&au=2020-01-31")).send().await.unwrap().text().await.unwrap();
    assert!(!list.contains(&report.reference));

    // Verification: "verified" needs a grade; then verifying the report verifies the event.
    let url = format!("/signalements/{}/verification", report.id);
    let res = c.post(app.url(&url)).form(&[("csrf", csrf.as_str()), ("statut", "verified"), ("source", ""), ("credibilite", ""), ("gravite", "4")]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains(&ew_text(EwMsg::VerifiedNeedsGrade)));
    let res = c.post(app.url(&url)).form(&[("csrf", csrf.as_str()), ("statut", "verified"), ("source", "B"), ("credibilite", "2"), ("gravite", "4")]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = c.get(app.url(&location(&res))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Vérification enregistrée.") && page.contains("B2 (Habituellement fiable"), "{page}");
    assert_eq!(vigie_storage::alerts::get(&app.db, alert).await.unwrap().state, "verified");
    // A question to the reporter lands in the thread.
    let res = c.post(app.url(&format!("/signalements/{}/questions", report.id))).form(&[("csrf", csrf.as_str()), ("question", "Combien de motos ?")]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = c.get(app.url(&format!("/signalements/{}", report.id))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Combien de motos ?"));

    // An illegal step is refused with the domain's message, in French, and changes nothing.
    let res = command(&app, &c, &csrf, alert, &[("commande", "close"), ("issue", "violence_prevented")]).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains(&ew_text(EwMsg::IllegalTransition { from: S::Verified, to: S::Closed })));
    let page = c.get(app.url(&format!("/alertes/{alert}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(r#"name="commande" value="raise""#) && !page.contains(r#"name="commande" value="close""#));
    app.advance(chrono::Duration::minutes(1));
    let res = command(&app, &c, &csrf, alert, &[("commande", "raise")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), format!("/alertes/{alert}?fait=alerted#etat"));
    let page = c.get(app.url(&format!("/alertes/{alert}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Brigade de Koro") && page.contains("délai jusqu"), "the escalation entry names the level");

    // The responder acknowledges, responds, closes with an outcome; may not raise or cancel.
    let (g, gcsrf) = signed_in(&app, "gendarmerie.mopti").await;
    let page = g.get(app.url(&format!("/alertes/{alert}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(r#"value="acknowledge""#) && !page.contains(r#"value="cancel""#));
    let steps: [&[(&str, &str)]; 3] = [
        &[("commande", "acknowledge"), ("niveau", "0")],
        &[("commande", "respond"), ("action", "patrol_deployed"), ("autre", "")],
        &[("commande", "close"), ("issue", "violence_prevented")],
    ];
    for fields in steps {
        app.advance(chrono::Duration::minutes(5));
        let res = command(&app, &g, &gcsrf, alert, fields).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{fields:?}: {}", res.text().await.unwrap());
    }
    assert_eq!(command(&app, &g, &gcsrf, alert, &[("commande", "cancel"), ("motif", "x")]).await.status(), StatusCode::FORBIDDEN);
    let a = vigie_storage::alerts::get(&app.db, alert).await.unwrap();
    assert_eq!(a.state, "closed");
    assert!(a.lifecycle.acknowledged_at.is_some() && a.lifecycle.responded_at.is_some() && a.lifecycle.closed_at.is_some());
    let page = g.get(app.url(&format!("/alertes/{alert}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Violence évitée") && page.contains("Patrouille déployée") && !page.contains("Actions possibles"), "{page}");
    assert_eq!(page.matches("<time datetime=").count(), 6, "every step has its time");
    // Lists: by state; nothing needs attention.
    let list = g.get(app.url("/alertes?etat=closed")).send().await.unwrap().text().await.unwrap();
    assert!(list.contains(&format!(r#"href="/alertes/{alert}""#)));
    let list = g.get(app.url("/alertes?attention=1")).send().await.unwrap().text().await.unwrap();
    assert!(!list.contains(&format!(r#"href="/alertes/{alert}""#)));

    // The dashboard: real figures from the indicators.
    let home = g.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    let figure = |id: &str| {
        let rest = &home[home.find(&format!(r#"id="{id}""#)).unwrap()..];
        rest[..rest.find("</div>").unwrap()].to_string()
    };
    let minusma = figure("ind-minusma");
    assert!(minusma.contains("100,0") && minusma.contains("1 / 1"), "{minusma}");
    assert!(figure("ind-ack").contains("1 / 1"), "{}", figure("ind-ack"));
    assert!(figure("ind-raised").contains("<dd>1</dd>"), "{}", figure("ind-raised"));
    assert!(home.contains("Signalements reçus aujourd") && !home.contains("progres-indicateurs"), "a responder has no framework block");

    // Cookie-only POSTs are refused on these forms too.
    let res = c.post(app.url("/signalements/nouveau")).form(&[("cle", "web-forged"), ("texte", "x"), ("survenu", &when)]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = c.post(app.url(&format!("/alertes/{alert}/commande"))).form(&[("commande", "cancel"), ("motif", "x")]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let all = vigie_storage::reports::list(&app.db, &[vigie_domain::area::AreaPath("ML".into())], true, &Default::default(), 1, 10).await.unwrap();
    assert_eq!(all.total, 2);
}

async fn hostile_report_text_is_escaped(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    let (c, _) = signed_in(&app, "admin").await;
    let hostile = "<script>alert(1)</script>";
    let when = app.now().format("%Y-%m-%dT%H:%M").to_string();
    let (res, _) = submit_report(&app, &c, &[("categorie", "threat_intimidation"), ("texte", hostile), ("survenu", &when), ("zone", "ML-5-KORO"), ("lieu", "")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let r = &vigie_storage::reports::list(&app.db, &[vigie_domain::area::AreaPath("ML".into())], true, &Default::default(), 1, 1).await.unwrap().items[0];
    assert_eq!(r.text, hostile, "stored verbatim");
    for path in ["/signalements".to_string(), format!("/signalements/{}", r.id), format!("/alertes/{}", r.alert_id.unwrap()), "/alertes".into()] {
        let page = c.get(app.url(&path)).send().await.unwrap().text().await.unwrap();
        assert!(!page.contains("<script>alert(1)"), "{path} lets markup through");
        assert!(page.contains("&lt;script&gt;alert(1)"), "{path} shows the text as text");
    }
}

async fn report_and_alert_pages_are_area_scoped(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    app.user_token("relais.koro", "reporter", "ML-5-KORO").await;
    app.user_token("analyste.tombouctou", "analyst", "ML-6").await;
    // A community focal point reports from Koro; the form offers Koro only.
    let (r, _) = signed_in(&app, "relais.koro").await;
    let form = r.get(app.url("/signalements/nouveau")).send().await.unwrap().text().await.unwrap();
    assert!(form.contains(r#"value="ML-5-KORO""#) && !form.contains(r#"value="ML-5-MOPTI""#));
    let when = app.now().format("%Y-%m-%dT%H:%M").to_string();
    let (res, _) = submit_report(&app, &r, &[("categorie", "intercommunal_conflict"), ("texte", "tension entre éleveurs et cultivateurs"), ("survenu", &when), ("zone", "ML-5-MOPTI")]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "not outside their area");
    let (res, _) = submit_report(&app, &r, &[("categorie", "intercommunal_conflict"), ("texte", "tension entre éleveurs et cultivateurs"), ("survenu", &when), ("zone", "ML-5-KORO")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let receipt = r.get(app.url(&location(&res))).send().await.unwrap().text().await.unwrap();
    assert!(receipt.contains("Signalement reçu") && !receipt.contains("Ouvrir le signalement"), "a reporter cannot read reports");
    assert_eq!(r.get(app.url("/signalements")).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    let report = &vigie_storage::reports::list(&app.db, &[vigie_domain::area::AreaPath("ML".into())], true, &Default::default(), 1, 1).await.unwrap().items[0];
    let alert = report.alert_id.unwrap();

    // A Tombouctou analyst: 403 on the Koro report and its alert, and they are not listed.
    let (t, tcsrf) = signed_in(&app, "analyste.tombouctou").await;
    for path in [format!("/signalements/{}", report.id), format!("/alertes/{alert}"), "/signalements?zone=ML-5-KORO".into()] {
        let res = t.get(app.url(&path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
        assert!(res.text().await.unwrap().contains("hors de votre zone"));
    }
    let res = t.post(app.url(&format!("/signalements/{}/verification", report.id))).form(&[("csrf", tcsrf.as_str()), ("statut", "false"), ("source", "F"), ("credibilite", "6")]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(command(&app, &t, &tcsrf, alert, &[("commande", "verify")]).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(vigie_storage::reports::get(&app.db, report.id).await.unwrap().verification, "pending");
    for path in ["/signalements", "/alertes", "/"] {
        let page = t.get(app.url(path)).send().await.unwrap().text().await.unwrap();
        assert!(!page.contains(&report.reference) && !page.contains(&format!("/alertes/{alert}\"")), "{path}");
    }
    // Unknown or malformed ids are "not found" pages.
    for path in ["/signalements/999999", "/signalements/abc", "/alertes/0"] {
        assert_eq!(t.get(app.url(path)).send().await.unwrap().status(), StatusCode::NOT_FOUND, "{path}");
    }
}
