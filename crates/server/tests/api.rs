//! The JSON API against a real server and a real database, on SQLite and PostgreSQL.

use crate::support;

use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{Backend, TestApp, PASSWORD};

async fn app(b: Backend) -> Option<TestApp> {
    TestApp::spawn(b).await
}

both_backends!(
    areas_are_listed_by_level_and_scoped_to_the_callers_area,
    unauthenticated_and_expired_callers_are_refused,
    errors_are_problems_in_french_or_english_and_change_nothing,
    area_import_is_all_or_nothing_and_idempotent,
    areas_can_be_created_moved_and_rejected,
    admins_grant_only_within_their_area_and_their_own_rights,
    custom_roles_can_be_defined_but_builtin_ones_not_changed,
    sessions_need_csrf_and_lock_out_after_failures,
    audit_chain_records_changes_and_detects_tampering,
    organisations_are_area_scoped,
    openapi_documents_every_route,
    two_factor_sign_in_with_a_sealed_secret,
);

async fn areas_are_listed_by_level_and_scoped_to_the_callers_area(b: Backend) {
    let Some(app) = app(b).await else { return };
    let r: Value = app.get("/api/v1/areas?level=region", &app.admin_token).send().await.unwrap().json().await.unwrap();
    let codes: Vec<&str> = r["items"].as_array().unwrap().iter().map(|a| a["code"].as_str().unwrap()).collect();
    assert_eq!(codes, vec!["ML/ML-5", "ML/ML-6"].iter().map(|p| p.rsplit('/').next().unwrap()).collect::<Vec<_>>());
    assert_eq!(r["total"], 2);

    let mopti = app.user_token("analyste.mopti", "analyst", "ML-5").await;
    let r: Value = app.get("/api/v1/areas", &mopti).send().await.unwrap().json().await.unwrap();
    let codes: Vec<&str> = r["items"].as_array().unwrap().iter().map(|a| a["code"].as_str().unwrap()).collect();
    assert_eq!(codes, vec!["ML-5", "ML-5-KORO", "ML-5-MOPTI"], "a Mopti analyst sees Mopti's subtree only");

    let res = app.get("/api/v1/areas/ML-6", &mopti).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let p: Value = res.json().await.unwrap();
    assert_eq!(p["type"], "urn:vigie:problem:outside_area");
    assert_eq!(app.get("/api/v1/areas/ML-6-GOUNDAM", &mopti).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(app.get("/api/v1/areas/ML-5-KORO", &mopti).send().await.unwrap().status(), StatusCode::OK);

    // Filters: by tag, by parent, by name; pagination.
    let r: Value = app.get("/api/v1/areas?tag=prosmed", &app.admin_token).send().await.unwrap().json().await.unwrap();
    assert_eq!(r["total"], 2);
    let r: Value = app.get("/api/v1/areas?parent=ML-5&q=kor", &app.admin_token).send().await.unwrap().json().await.unwrap();
    assert_eq!(r["items"][0]["code"], "ML-5-KORO");
    assert_eq!(r["total"], 1);
    let r: Value = app.get("/api/v1/areas?per_page=2&page=2", &app.admin_token).send().await.unwrap().json().await.unwrap();
    assert_eq!(r["items"].as_array().unwrap().len(), 2);
    assert_eq!(r["total"], 6);
    let res = app.get("/api/v1/areas?level=province", &app.admin_token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(res.json::<Value>().await.unwrap()["field"], "level");
    // A reporter cannot list users, roles or the audit log.
    let reporter = app.user_token("relais.koro", "reporter", "ML-5-KORO").await;
    for path in ["/api/v1/users", "/api/v1/roles", "/api/v1/audit"] {
        assert_eq!(app.get(path, &reporter).send().await.unwrap().status(), StatusCode::FORBIDDEN, "{path}");
    }
}

async fn unauthenticated_and_expired_callers_are_refused(b: Backend) {
    let Some(app) = app(b).await else { return };
    let res = app.http.get(app.url("/api/v1/areas")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    assert_eq!(app.get("/api/v1/areas", "vgt_forged").send().await.unwrap().status(), StatusCode::UNAUTHORIZED);

    let uid = vigie_storage::users::id_by_username(&app.db, "admin").await.unwrap();
    let past = vigie_storage::now() - chrono::Duration::minutes(1);
    let expired = vigie_storage::auth::create_token(&app.db, uid, "old", Some(past), &vigie_storage::audit::Actor::system("t")).await.unwrap();
    let res = app.get("/api/v1/areas", &expired).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(res.json::<Value>().await.unwrap()["type"], "urn:vigie:problem:token_expired");

    // A disabled account's token stops working at once.
    let t = app.user_token("parti", "viewer", "ML").await;
    assert_eq!(app.get("/api/v1/areas", &t).send().await.unwrap().status(), StatusCode::OK);
    let id = vigie_storage::users::id_by_username(&app.db, "parti").await.unwrap();
    let res = app.http.patch(app.url(&format!("/api/v1/users/{id}"))).bearer_auth(&app.admin_token).json(&json!({"disabled": true})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(app.get("/api/v1/areas", &t).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
}

async fn errors_are_problems_in_french_or_english_and_change_nothing(b: Backend) {
    let Some(app) = app(b).await else { return };
    let before = app.audit_count().await;
    // Malformed JSON.
    let res = app.post("/api/v1/organisations", &app.admin_token).header("content-type", "application/json").body("{\"name\": ").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(res.headers()["content-language"], "fr");
    let p: Value = res.json().await.unwrap();
    assert!(p["detail"].as_str().unwrap().starts_with("JSON invalide"), "{p}");
    // Same in English.
    let res = app.post("/api/v1/organisations", &app.admin_token).header("content-type", "application/json").header("accept-language", "en-GB,en;q=0.8").body("{").send().await.unwrap();
    let p: Value = res.json().await.unwrap();
    assert!(p["detail"].as_str().unwrap().starts_with("Invalid JSON"), "{p}");
    // Wrong type names the field.
    let res = app.post("/api/v1/organisations", &app.admin_token).json(&json!({"name": 5, "kind": "police", "area_code": "ML-5"})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.json::<Value>().await.unwrap()["field"], "name");
    // Unknown area code.
    let res = app.post("/api/v1/organisations?lang=en", &app.admin_token).json(&json!({"name": "Police", "kind": "police", "area_code": "ML-99"})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let p: Value = res.json().await.unwrap();
    assert_eq!(p["field"], "area_code");
    assert_eq!(p["detail"], "Unknown area: \"ML-99\".");
    // Unknown field.
    let res = app.post("/api/v1/organisations", &app.admin_token).json(&json!({"name": "P", "kind": "police", "area_code": "ML-5", "admin": true})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Oversized body.
    let big = "x".repeat(3 * 1024 * 1024);
    // (its own connection: the server answers 413 before reading the body, then closes it)
    let res = reqwest::Client::new().post(app.url("/api/v1/organisations")).bearer_auth(&app.admin_token).header("content-type", "application/json").body(format!("{{\"name\":\"{big}\"}}")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let p: Value = res.json().await.unwrap();
    assert!(p["detail"].as_str().unwrap().contains("2097152"), "{p}");
    // Wrong content type.
    let res = app.post("/api/v1/organisations", &app.admin_token).body("name=x").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // Unknown route.
    let res = app.get("/api/v1/nothing-here", &app.admin_token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(res.headers()["content-type"], "application/problem+json");

    assert_eq!(app.audit_count().await, before, "no failed request may write anything");
    let orgs: Value = app.get("/api/v1/organisations", &app.admin_token).send().await.unwrap().json().await.unwrap();
    assert_eq!(orgs["total"], 0);
}

async fn area_import_is_all_or_nothing_and_idempotent(b: Backend) {
    let Some(app) = app(b).await else { return };
    let before = app.audit_count().await;
    let bad = "code,parent,level,name,tags\nML-5-BANKASS,ML-5,cercle,Bankass,prosmed\nML-5-DJENNE,ML-55,cercle,Djenné,\nML-7,ML,province,Gao,\n";
    let res = app.post("/api/v1/areas/import", &app.admin_token).header("content-type", "text/csv").body(bad).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let p: Value = res.json().await.unwrap();
    let lines: Vec<(i64, &str)> = p["errors"].as_array().unwrap().iter().map(|e| (e["line"].as_i64().unwrap(), e["field"].as_str().unwrap())).collect();
    assert_eq!(lines, vec![(4, "level")], "parse errors come first: {p}");
    let bad = "code,parent,level,name,tags\nML-5-BANKASS,ML-5,cercle,Bankass,prosmed\nML-5-DJENNE,ML-55,cercle,Djenné,\n";
    let res = app.post("/api/v1/areas/import", &app.admin_token).header("content-type", "text/csv").body(bad).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let p: Value = res.json().await.unwrap();
    assert_eq!(p["errors"][0]["line"], 3);
    assert!(p["errors"][0]["detail"].as_str().unwrap().contains("ML-55"));
    assert_eq!(app.get("/api/v1/areas/ML-5-BANKASS", &app.admin_token).send().await.unwrap().status(), StatusCode::NOT_FOUND, "nothing half-imported");
    assert_eq!(app.audit_count().await, before);

    let good = "code,parent,level,name,tags,lat,lon\nML-5-BANKASS,ML-5,cercle,Bankass,prosmed,14.08,-3.52\nML-5-BANKASS-C1,ML-5-BANKASS,commune,Bankass commune,,\n";
    let r: Value = app.post("/api/v1/areas/import", &app.admin_token).header("content-type", "text/csv").body(good).send().await.unwrap().json().await.unwrap();
    assert_eq!(r, json!({"created": 2, "updated": 0, "unchanged": 0}));
    let r: Value = app.post("/api/v1/areas/import", &app.admin_token).header("content-type", "text/csv").body(good).send().await.unwrap().json().await.unwrap();
    assert_eq!(r, json!({"created": 0, "updated": 0, "unchanged": 2}), "re-import is a no-op");
    let a: Value = app.get("/api/v1/areas/ML-5-BANKASS-C1", &app.admin_token).send().await.unwrap().json().await.unwrap();
    assert_eq!(a["path"], "ML/ML-5/ML-5-BANKASS/ML-5-BANKASS-C1");
    // GeoJSON with a polygon.
    let g = json!({"type": "FeatureCollection", "features": [{"type": "Feature",
        "properties": {"code": "ML-6-GOUNDAM", "parent": "ML-6", "level": "cercle", "name": "Goundam", "tags": ["prosmed"]},
        "geometry": {"type": "Polygon", "coordinates": [[[-4.0, 16.0], [-3.0, 16.0], [-3.0, 17.0], [-4.0, 16.0]]]}}]});
    let r: Value = app.post("/api/v1/areas/import", &app.admin_token).header("content-type", "application/geo+json").body(g.to_string()).send().await.unwrap().json().await.unwrap();
    assert_eq!(r["updated"], 1);
    let a: Value = app.get("/api/v1/areas/ML-6-GOUNDAM", &app.admin_token).send().await.unwrap().json().await.unwrap();
    assert_eq!(a["geometry"]["type"], "Polygon");
    // Invalid UTF-8 (a Latin-1 file) names its line.
    let mut latin1 = b"code,parent,level,name\nML-6-DIRE,ML-6,cercle,Dir".to_vec();
    latin1.push(0xE9);
    let res = app.post("/api/v1/areas/import", &app.admin_token).header("content-type", "text/csv").body(latin1).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.json::<Value>().await.unwrap()["errors"][0]["line"], 2);
    // Only a root-level admin may import.
    let admin5 = app.user_token("admin.mopti", "admin", "ML-5").await;
    let res = app.post("/api/v1/areas/import", &admin5).header("content-type", "text/csv").body(good).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

async fn areas_can_be_created_moved_and_rejected(b: Backend) {
    let Some(app) = app(b).await else { return };
    let admin5 = app.user_token("admin.mopti", "admin", "ML-5").await;
    let body = json!({"parent": "ML-5-KORO", "level": "commune", "name": "Dinangourou", "tags": ["prosmed"], "lat": 14.4, "lon": -2.3});
    let res = app.put("/api/v1/areas/ML-5-KORO-DIN", &admin5).json(&body).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // Outside their area: refused, nothing written.
    let res = app.put("/api/v1/areas/ML-6-X", &admin5).json(&json!({"parent": "ML-6", "level": "cercle", "name": "X"})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.get("/api/v1/areas/ML-6-X", &app.admin_token).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    // Level mismatch and cycles.
    let res = app.put("/api/v1/areas/ML-5-Y", &app.admin_token).json(&json!({"parent": "ML-5-KORO-DIN", "level": "cercle", "name": "Y"})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(res.json::<Value>().await.unwrap()["field"], "parent");
    let res = app.put("/api/v1/areas/ML-5", &app.admin_token).json(&json!({"parent": "ML-5-KORO", "level": "region", "name": "Mopti"})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // Out-of-range coordinates.
    let res = app.put("/api/v1/areas/ML-5-Z", &app.admin_token).json(&json!({"parent": "ML-5", "level": "cercle", "name": "Z", "lat": 95.0, "lon": 0.0})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // Moving Koro (with its commune) under Tombouctou carries the subtree along.
    let res = app.put("/api/v1/areas/ML-5-KORO", &app.admin_token).json(&json!({"parent": "ML-6", "level": "cercle", "name": "Koro"})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let a: Value = app.get("/api/v1/areas/ML-5-KORO-DIN", &app.admin_token).send().await.unwrap().json().await.unwrap();
    assert_eq!(a["path"], "ML/ML-6/ML-5-KORO/ML-5-KORO-DIN");
    // …and out of the Mopti admin's reach.
    assert_eq!(app.get("/api/v1/areas/ML-5-KORO-DIN", &admin5).send().await.unwrap().status(), StatusCode::FORBIDDEN);
}

async fn admins_grant_only_within_their_area_and_their_own_rights(b: Backend) {
    let Some(app) = app(b).await else { return };
    let admin5 = app.user_token("admin.mopti", "admin", "ML-5").await;
    let new = |name: &str, role: &str, area: &str| json!({"username": name, "display_name": "Awa Traoré", "password": PASSWORD, "grants": [{"role": role, "area_code": area}]});
    let res = app.post("/api/v1/users", &admin5).json(&new("awa", "analyst", "ML-5-KORO")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let awa: Value = res.json().await.unwrap();
    let res = app.post("/api/v1/users", &admin5).json(&new("ali", "analyst", "ML-6")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "no grants outside one's area");
    let res = app.post("/api/v1/users", &admin5).json(&new("ali", "admin", "ML")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "no root admin made by a regional admin");
    // Someone with users.write but without case rights cannot hand out case rights.
    let hr: Value = app.post("/api/v1/roles", &app.admin_token).json(&json!({"name": "rh", "label": "Ressources humaines", "permissions": ["users.read", "users.write", "areas.read"]})).send().await.unwrap().json().await.unwrap();
    assert_eq!(hr["name"], "rh");
    let rh = app.user_token("rh.mopti", "rh", "ML-5").await;
    let res = app.post("/api/v1/users", &rh).json(&new("bintou", "case_handler", "ML-5")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(res.json::<Value>().await.unwrap()["type"], "urn:vigie:problem:forbidden");
    // Weak password, taken username, unknown role.
    let mut weak = new("moussa", "viewer", "ML-5");
    weak["password"] = json!("motdepasse1");
    let res = app.post("/api/v1/users", &admin5).json(&weak).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(res.json::<Value>().await.unwrap()["field"], "password");
    let res = app.post("/api/v1/users", &admin5).json(&new("awa", "viewer", "ML-5")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let res = app.post("/api/v1/users", &admin5).json(&new("moussa", "chef", "ML-5")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // The regional admin sees Awa but not the root admin; a token made for Awa acts as Awa.
    let list: Value = app.get("/api/v1/users", &admin5).send().await.unwrap().json().await.unwrap();
    let names: Vec<&str> = list["items"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
    assert!(names.contains(&"awa") && !names.contains(&"admin"), "{names:?}");
    let root_id = vigie_storage::users::id_by_username(&app.db, "admin").await.unwrap();
    assert_eq!(app.get(&format!("/api/v1/users/{root_id}"), &admin5).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    let res = app.post(&format!("/api/v1/users/{}/tokens", awa["id"]), &admin5).json(&json!({"name": "téléphone", "expires_in_days": 30})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let tok: Value = res.json().await.unwrap();
    let me: Value = app.get("/api/v1/me", tok["token"].as_str().unwrap()).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["user"]["username"], "awa");
    assert_eq!(me["permissions"]["reports.verify"], json!(["ML-5-KORO"]));
    // Extra grant then removal.
    let res = app.post(&format!("/api/v1/users/{}/grants", awa["id"]), &admin5).json(&json!({"role": "viewer", "area_code": "ML-5"})).send().await.unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["grants"].as_array().unwrap().len(), 2);
    let res = app.http.delete(app.url(&format!("/api/v1/users/{}/grants", awa["id"]))).bearer_auth(&admin5).json(&json!({"role": "viewer", "area_code": "ML-5"})).send().await.unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["grants"].as_array().unwrap().len(), 1);
}

async fn custom_roles_can_be_defined_but_builtin_ones_not_changed(b: Backend) {
    let Some(app) = app(b).await else { return };
    let roles: Value = app.get("/api/v1/roles", &app.admin_token).send().await.unwrap().json().await.unwrap();
    let names: Vec<&str> = roles.as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    for r in ["admin", "analyst", "responder", "case_handler", "me_officer", "viewer", "reporter"] {
        assert!(names.contains(&r), "{r} missing");
    }
    let res = app.put("/api/v1/roles/analyst", &app.admin_token).json(&json!({"label": "x", "permissions": []})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = app.post("/api/v1/roles", &app.admin_token).json(&json!({"name": "journaliste", "label": "Journaliste d'investigation", "permissions": ["cases.read", "fly"]})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = app.post("/api/v1/roles", &app.admin_token).json(&json!({"name": "journaliste", "label": "Journaliste d'investigation", "permissions": ["cases.read", "areas.read"]})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = app.post("/api/v1/roles", &app.admin_token).json(&json!({"name": "journaliste", "label": "J", "permissions": []})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let res = app.put("/api/v1/roles/journaliste", &app.admin_token).json(&json!({"label": "Journaliste", "permissions": ["areas.read"]})).send().await.unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["permissions"], json!(["areas.read"]));
    // A regional admin cannot define roles (roles apply everywhere).
    let admin5 = app.user_token("admin.mopti", "admin", "ML-5").await;
    let res = app.post("/api/v1/roles", &admin5).json(&json!({"name": "x_role", "label": "X", "permissions": []})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let perms: Value = app.get("/api/v1/permissions", &admin5).send().await.unwrap().json().await.unwrap();
    assert!(perms.as_array().unwrap().iter().any(|p| p["name"] == "reports.verify"));
}

async fn sessions_need_csrf_and_lock_out_after_failures(b: Backend) {
    let Some(app) = app(b).await else { return };
    app.user_token("fatou", "admin", "ML").await;
    let res = app.http.post(app.url("/api/v1/auth/login")).json(&json!({"username": "fatou", "password": "wrong password"})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = app.http.post(app.url("/api/v1/auth/login")).json(&json!({"username": "Fatou", "password": PASSWORD})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    let login: Value = res.json().await.unwrap();
    let csrf = login["csrf_token"].as_str().unwrap();
    // The cookie alone reads…
    assert_eq!(app.http.get(app.url("/api/v1/me")).send().await.unwrap().status(), StatusCode::OK);
    // …but does not write without the CSRF token.
    let body = json!({"name": "Police de Koro", "kind": "police", "area_code": "ML-5-KORO"});
    let res = app.http.post(app.url("/api/v1/organisations")).json(&body).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(res.json::<Value>().await.unwrap()["type"], "urn:vigie:problem:csrf_missing");
    let res = app.http.post(app.url("/api/v1/organisations")).header("x-csrf-token", "guess").json(&body).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app.http.post(app.url("/api/v1/organisations")).header("x-csrf-token", csrf).json(&body).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    // Logout ends the session.
    let res = app.http.post(app.url("/api/v1/auth/logout")).header("x-csrf-token", csrf).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.http.get(app.url("/api/v1/me")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    // Five wrong passwords lock the account, even for the right password.
    for _ in 0..5 {
        let res = app.http.post(app.url("/api/v1/auth/login")).json(&json!({"username": "fatou", "password": "not the password"})).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = app.http.post(app.url("/api/v1/auth/login")).json(&json!({"username": "fatou", "password": PASSWORD})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(res.json::<Value>().await.unwrap()["type"], "urn:vigie:problem:account_locked");
    // Unknown users get the same answer as wrong passwords.
    let res = app.http.post(app.url("/api/v1/auth/login")).json(&json!({"username": "personne", "password": PASSWORD})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(res.json::<Value>().await.unwrap()["type"], "urn:vigie:problem:bad_credentials");
}

async fn audit_chain_records_changes_and_detects_tampering(b: Backend) {
    let Some(app) = app(b).await else { return };
    app.post("/api/v1/organisations", &app.admin_token).json(&json!({"name": "CNDH", "kind": "cndh", "area_code": "ML"})).send().await.unwrap();
    let log: Value = app.get("/api/v1/audit?entity=organisation", &app.admin_token).send().await.unwrap().json().await.unwrap();
    assert_eq!(log["items"][0]["action"], "organisation.create");
    assert_eq!(log["items"][0]["actor"], "admin");
    let v: Value = app.get("/api/v1/audit/verify", &app.admin_token).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["ok"], true, "{v}");
    assert!(v["entries"].as_i64().unwrap() >= 8);
    // The table refuses updates…
    let upd = "UPDATE audit_log SET actor = 'mallory' WHERE seq = 3";
    let refused = vigie_storage::run!(&app.db.write, c => sqlx::query(upd).execute(c).await.map(|_| ()));
    assert!(refused.is_err(), "append-only trigger");
    // …and if someone with database access removes the guard, verification catches it.
    let drop = match b {
        Backend::Sqlite => "DROP TRIGGER audit_log_no_update",
        Backend::Postgres => "DROP TRIGGER audit_log_no_change ON audit_log",
    };
    vigie_storage::run!(&app.db.write, c => { sqlx::query(drop).execute(c).await.unwrap(); sqlx::query(upd).execute(c).await.unwrap(); });
    let v: Value = app.get("/api/v1/audit/verify", &app.admin_token).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["broken"], json!({"Altered": {"seq": 3}}));
    // Only root-level auditors read the log.
    let admin5 = app.user_token("admin.mopti", "admin", "ML-5").await;
    assert_eq!(app.get("/api/v1/audit", &admin5).send().await.unwrap().status(), StatusCode::FORBIDDEN);
}

async fn organisations_are_area_scoped(b: Backend) {
    let Some(app) = app(b).await else { return };
    let mk = |name: &str, area: &str| json!({"name": name, "kind": "gendarmerie", "area_code": area});
    let g5: Value = app.post("/api/v1/organisations", &app.admin_token).json(&mk("Gendarmerie de Koro", "ML-5-KORO")).send().await.unwrap().json().await.unwrap();
    let g6: Value = app.post("/api/v1/organisations", &app.admin_token).json(&mk("Gendarmerie de Goundam", "ML-6-GOUNDAM")).send().await.unwrap().json().await.unwrap();
    let res = app.post("/api/v1/organisations", &app.admin_token).json(&mk("Gendarmerie de Koro", "ML-5-KORO")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let res = app.post("/api/v1/organisations", &app.admin_token).json(&json!({"name": "X", "kind": "militia", "area_code": "ML-5"})).send().await.unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["field"], "kind");
    let viewer5 = app.user_token("lecteur.mopti", "viewer", "ML-5").await;
    let list: Value = app.get("/api/v1/organisations", &viewer5).send().await.unwrap().json().await.unwrap();
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["name"], "Gendarmerie de Koro");
    assert_eq!(app.get(&format!("/api/v1/organisations/{}", g5["id"]), &viewer5).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(app.get(&format!("/api/v1/organisations/{}", g6["id"]), &viewer5).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    let res = app.post("/api/v1/organisations", &viewer5).json(&mk("Y", "ML-5")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

async fn openapi_documents_every_route(b: Backend) {
    let Some(app) = app(b).await else { return };
    let doc: Value = app.http.get(app.url("/api/v1/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for (path, methods) in [
        ("/api/v1/areas", &["get"][..]),
        ("/api/v1/areas/{code}", &["get", "put"]),
        ("/api/v1/areas/import", &["post"]),
        ("/api/v1/organisations", &["get", "post"]),
        ("/api/v1/users", &["get", "post"]),
        ("/api/v1/users/{id}", &["get", "patch"]),
        ("/api/v1/users/{id}/grants", &["post", "delete"]),
        ("/api/v1/users/{id}/tokens", &["post"]),
        ("/api/v1/roles", &["get", "post"]),
        ("/api/v1/roles/{name}", &["put"]),
        ("/api/v1/audit", &["get"]),
        ("/api/v1/audit/verify", &["get"]),
        ("/api/v1/auth/login", &["post"]),
        ("/api/v1/me", &["get"]),
        ("/api/v1/reports", &["get", "post"]),
        ("/api/v1/reports/{id}", &["get"]),
        ("/api/v1/reports/{id}/verification", &["post"]),
        ("/api/v1/reports/{id}/messages", &["get", "post"]),
        ("/api/v1/alerts", &["get"]),
        ("/api/v1/alerts/{id}", &["get"]),
        ("/api/v1/alerts/{id}/commands", &["post"]),
        ("/api/v1/escalation-rules", &["get", "post"]),
        ("/api/v1/indicators/early-warning", &["get"]),
        ("/api/v1/categories", &["get"]),
        ("/api/v1/categories/{code}", &["put"]),
        ("/api/v1/webhooks", &["get", "post"]),
        ("/api/v1/forms", &["get", "post"]),
        ("/api/v1/forms/{id}/submissions", &["get"]),
        ("/api/v1/forms/{id}/export.csv", &["get"]),
        ("/api/v1/forms/{id}/export.xlsx", &["get"]),
        ("/api/v1/forms/{id}/tally", &["get"]),
    ] {
        for m in methods {
            assert!(paths.get(path).and_then(|p| p.get(*m)).is_some(), "{m} {path} undocumented");
        }
    }
    // Ops endpoints.
    assert_eq!(app.http.get(app.url("/healthz")).send().await.unwrap().text().await.unwrap(), "ok");
    assert_eq!(app.http.get(app.url("/readyz")).send().await.unwrap().status(), StatusCode::OK);
    let m = app.http.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(m.contains("vigie_http_requests_total"), "{m}");
}

async fn two_factor_sign_in_with_a_sealed_secret(b: Backend) {
    let Some(app) = app(b).await else { return };
    let t = app.user_token("kadia", "analyst", "ML-5").await;
    let setup: Value = app.post("/api/v1/me/totp/setup", &t).send().await.unwrap().json().await.unwrap();
    let secret = setup["secret"].as_str().unwrap().to_string();
    assert!(setup["url"].as_str().unwrap().starts_with("otpauth://totp/"));
    let totp = totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, totp_rs::Secret::Encoded(secret.clone()).to_bytes().unwrap(), Some("Vigie".into()), "kadia".into()).unwrap();
    let res = app.put("/api/v1/me/totp", &t).json(&json!({"secret": secret, "code": "000000"})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST, "a wrong code does not turn 2FA on");
    let res = app.put("/api/v1/me/totp", &t).json(&json!({"secret": secret, "code": totp.generate_current().unwrap()})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    // The secret is sealed in the database.
    let raw: Option<String> = vigie_storage::run!(&app.db.read, c => sqlx::query_scalar("SELECT totp_secret FROM users WHERE username = 'kadia'").fetch_one(c).await.unwrap());
    let raw = raw.unwrap();
    assert!(raw.starts_with("v1.") && !raw.contains(&secret), "{raw}");
    let login = |code: Option<String>| app.http.post(app.url("/api/v1/auth/login")).json(&json!({"username": "kadia", "password": PASSWORD, "totp": code})).send();
    let res = login(None).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(res.json::<Value>().await.unwrap()["field"], "totp");
    assert_eq!(login(Some(totp.generate_current().unwrap())).await.unwrap().status(), StatusCode::OK);
}
