//! The web pages against a real server and database: sign-in form, CSRF on every form,
//! redirects to the sign-in page, escaping of hostile text, the language switch.

mod support;

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
);

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
    assert!(home.contains("Tableau de bord") && home.contains("Alertes ouvertes") && home.contains("Bientôt disponible"));
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
    for path in ["/", "/zones", "/zones/ML-5", "/carte/zones.geojson", "/admin/utilisateurs", "/admin/utilisateurs/nouveau", "/admin/roles", "/admin/journal", "/admin/journal/verifier"] {
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
    let res = c.get(app.url("/langue/en?retour=%2Fzones")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/zones");
    let cookie = res.headers()[header::SET_COOKIE].to_str().unwrap().to_string();
    assert!(cookie.starts_with("lang=en;"), "{cookie}");
    let en = c.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(en.contains(r#"<html lang="en">"#) && en.contains("Dashboard") && en.contains("Open alerts") && en.contains("Coming soon."));
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
