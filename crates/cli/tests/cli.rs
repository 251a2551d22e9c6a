//! The `vigie` binary end to end, as an operator uses it, on SQLite and PostgreSQL.

use crate::support;

use reqwest::StatusCode;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use support::{fresh_db, Backend};

const BIN: &str = env!("CARGO_BIN_EXE_vigie");

fn vigie(db: &str, args: &[&str]) -> Output {
    Command::new(BIN).arg("--db").arg(db).args(args).env("LANG", "fr_FR.UTF-8").env("VIGIE_KEY_FILE", key_file(db)).output().expect("run vigie")
}

/// One key file per test database, beside it in the test's temp dir.
fn key_file(db: &str) -> String {
    let dir = std::env::temp_dir().join("vigie-test-keys");
    std::fs::create_dir_all(&dir).unwrap();
    let name: String = db.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    dir.join(format!("{}.key", &name[name.len().saturating_sub(80)..])).display().to_string()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// `vigie user add … --token` prints the token alone on the last line.
fn token(db: &str, name: &str, role: &str, area: &str) -> String {
    let o = vigie(db, &["user", "add", name, "--role", role, "--area", area, "--token"]);
    assert!(o.status.success(), "{}", stderr(&o));
    stdout(&o).lines().last().unwrap().trim().to_string()
}

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(db: &str, extra: &[&str]) -> Server {
    let mut child = Command::new(BIN)
        .args(["--db", db, "serve", "--addr", "127.0.0.1:0"])
        .args(extra)
        .env("LANG", "en_GB.UTF-8")
        .env("VIGIE_KEY_FILE", key_file(db))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().expect("server printed nothing").unwrap();
    let base = first.split_whitespace().find(|w| w.starts_with("http://")).expect(&first).trim_end_matches('/').to_string();
    std::thread::spawn(move || for _ in lines {});
    Server { child, base }
}

#[test]
fn help_speaks_french_and_english() {
    let fr = Command::new(BIN).arg("--help").env("LANG", "fr_ML.UTF-8").output().unwrap();
    assert!(stdout(&fr).contains("Démarre le serveur web"), "{}", stdout(&fr));
    let en = Command::new(BIN).args(["--help", "--lang", "en"]).env("LANG", "fr_ML.UTF-8").output().unwrap();
    assert!(stdout(&en).contains("Start the web server"), "{}", stdout(&en));
    let sub = Command::new(BIN).args(["user", "add", "--help"]).env("LANG", "en_US.UTF-8").output().unwrap();
    assert!(stdout(&sub).contains("Also create an API token, shown once"));
}

both_backends!(demo_server_answers_as_the_readme_says, audit_verify_fails_after_a_row_is_edited, area_import_reports_lines_and_imports_nothing_on_error, backup_and_restore_round_trip);

async fn demo_server_answers_as_the_readme_says(b: Backend) {
    let Some(db) = fresh_db(b).await else { return };
    let srv = serve(&db.url, &["--demo"]);
    let http = reqwest::Client::new();
    assert_eq!(http.get(format!("{}/healthz", srv.base)).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(http.get(format!("{}/readyz", srv.base)).send().await.unwrap().status(), StatusCode::OK);
    let doc: Value = http.get(format!("{}/api/v1/openapi.json", srv.base)).send().await.unwrap().json().await.unwrap();
    assert!(doc["paths"]["/api/v1/areas"].is_object());

    let admin = token(&db.url, "ops", "admin", "ML");
    let regions: Value = http.get(format!("{}/api/v1/areas?level=region&per_page=100", srv.base)).bearer_auth(&admin).send().await.unwrap().json().await.unwrap();
    let codes: Vec<&str> = regions["items"].as_array().unwrap().iter().map(|a| a["code"].as_str().unwrap()).collect();
    for c in ["ML-1", "ML-2", "ML-3", "ML-4", "ML-5", "ML-6", "ML-7", "ML-8", "ML-9", "ML-10", "ML-BKO"] {
        assert!(codes.contains(&c), "{c} missing from {codes:?}");
    }
    let mopti: Value = http.get(format!("{}/api/v1/areas/ML-5", srv.base)).bearer_auth(&admin).send().await.unwrap().json().await.unwrap();
    assert_eq!(mopti["name"], "Mopti");
    assert!(mopti["geometry"]["type"].is_string(), "demo régions carry boundaries");
    let prosmed: Value = http.get(format!("{}/api/v1/areas?tag=prosmed&per_page=100", srv.base)).bearer_auth(&admin).send().await.unwrap().json().await.unwrap();
    assert_eq!(prosmed["total"], 21, "the 21 PROSMED target cercles");

    // 401 without a token, 403 outside one's area.
    assert_eq!(http.get(format!("{}/api/v1/areas?level=region", srv.base)).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let mopti_analyst = token(&db.url, "analyste.test", "analyst", "ML-5");
    let res = http.get(format!("{}/api/v1/areas/ML-6", srv.base)).bearer_auth(&mopti_analyst).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // The demo accounts sign in with the printed password.
    let res = http.post(format!("{}/api/v1/auth/login", srv.base)).json(&serde_json::json!({"username": "admin", "password": "demo-vigie-2026"})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    drop(srv);
    // Loading the demo again changes nothing.
    let before = vigie_storage::audit::verify(&vigie_storage::Db::connect(&db.url).await.unwrap()).await.unwrap().entries;
    let srv = serve(&db.url, &["--demo"]);
    drop(srv);
    let after = vigie_storage::audit::verify(&vigie_storage::Db::connect(&db.url).await.unwrap()).await.unwrap();
    assert_eq!(after.entries, before);
    assert!(after.broken.is_none());
}

async fn audit_verify_fails_after_a_row_is_edited(b: Backend) {
    let Some(db) = fresh_db(b).await else { return };
    let csv = db.dir().join("areas.csv");
    std::fs::write(&csv, "code,parent,level,name\nML,,country,Mali\nML-5,ML,region,Mopti\nML-6,ML,region,Tombouctou\n").unwrap();
    assert!(vigie(&db.url, &["import", "areas", csv.to_str().unwrap()]).status.success());
    token(&db.url, "admin", "admin", "ML");
    let ok = vigie(&db.url, &["audit", "verify"]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(stdout(&ok).contains("Journal intact : 5 entrées"), "{}", stdout(&ok));

    let pool = vigie_storage::Db::connect(&db.url).await.unwrap();
    let drop = match b {
        Backend::Sqlite => "DROP TRIGGER audit_log_no_update",
        Backend::Postgres => "DROP TRIGGER audit_log_no_change ON audit_log",
    };
    vigie_storage::run!(&pool.write, c => {
        sqlx::query(drop).execute(c).await.unwrap();
        sqlx::query("UPDATE audit_log SET detail = '{\"name\":\"Gao\"}' WHERE seq = 2").execute(c).await.unwrap();
    });
    pool.close().await;
    let bad = vigie(&db.url, &["--lang", "en", "audit", "verify"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).contains("LOG TAMPERED: entry 2 was altered (intact up to entry 1)"), "{}", stderr(&bad));
}

async fn area_import_reports_lines_and_imports_nothing_on_error(b: Backend) {
    let Some(db) = fresh_db(b).await else { return };
    let bad = db.dir().join("bad.csv");
    std::fs::write(&bad, "code;parent;level;name\nML;;country;Mali\nML-5;ML;region;Mopti\nML 6;ML;region;Tombouctou\nML-7;ML;province;Gao\n").unwrap();
    let o = vigie(&db.url, &["import", "areas", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("bad.csv:4 [code]") && err.contains("bad.csv:5 [level]") && err.contains("Aucune zone importée"), "{err}");
    let export = vigie(&db.url, &["export", "areas"]);
    assert_eq!(stdout(&export), "code,parent,level,name,tags,lat,lon\n", "nothing half-imported");

    // A parent that exists neither in the file nor in the database: caught by storage, still all-or-nothing.
    let orphan = db.dir().join("orphan.csv");
    std::fs::write(&orphan, "code,parent,level,name\nML,,country,Mali\nML-5-KORO,ML-5,cercle,Koro\n").unwrap();
    let o = vigie(&db.url, &["--lang", "en", "import", "areas", orphan.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("orphan.csv:3 [parent]: Parent \"ML-5\" not found"), "{}", stderr(&o));
    assert_eq!(stdout(&vigie(&db.url, &["export", "areas"])).lines().count(), 1);

    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/demo/areas.csv");
    let o = vigie(&db.url, &["import", "areas", demo]);
    assert!(o.status.success(), "{}", stderr(&o));
    let created: usize = stdout(&o).split_whitespace().next().unwrap().parse().unwrap();
    assert!(created > 30);
    let o = vigie(&db.url, &["--lang", "en", "import", "areas", demo]);
    assert!(stdout(&o).starts_with(&format!("0 created, 0 updated, {created} unchanged")), "{}", stdout(&o));
    // Export is re-importable: a round trip changes nothing.
    let exported = db.dir().join("export.csv");
    assert!(vigie(&db.url, &["export", "areas", "--out", exported.to_str().unwrap()]).status.success());
    let o = vigie(&db.url, &["--lang", "en", "import", "areas", exported.to_str().unwrap()]);
    assert!(stdout(&o).starts_with(&format!("0 created, 0 updated, {created} unchanged")), "{}", stdout(&o));
}

async fn backup_and_restore_round_trip(b: Backend) {
    let Some(db) = fresh_db(b).await else { return };
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/demo/areas.csv");
    assert!(vigie(&db.url, &["import", "areas", demo]).status.success());
    token(&db.url, "admin", "admin", "ML");
    let before_csv = stdout(&vigie(&db.url, &["export", "areas"]));
    let before_geo = stdout(&vigie(&db.url, &["export", "areas", "--format", "geojson"]));
    let file = db.dir().join("backup.bin");
    let o = vigie(&db.url, &["backup", file.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Refuses to overwrite.
    assert!(!vigie(&db.url, &["backup", file.to_str().unwrap()]).status.success());

    let target = fresh_db(b).await.unwrap();
    let o = vigie(&target.url, &["restore", file.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&vigie(&target.url, &["export", "areas"])), before_csv);
    assert_eq!(stdout(&vigie(&target.url, &["export", "areas", "--format", "geojson"])), before_geo);
    let v = vigie(&target.url, &["audit", "verify"]);
    assert!(v.status.success(), "{}", stderr(&v));
}
