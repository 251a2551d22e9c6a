//! Secrets and encryption, proved on the real binary, on SQLite and PostgreSQL:
//! - a full run (password sign-in, API token, SMS with the gateway key, a denunciation naming
//!   people, an alert whose SMS goes to an unreachable gateway, a webhook) logged at debug level
//!   leaves no password, token, key, phone number or protected name in the logs;
//! - the raw database (SQLite file and WAL bytes, or `pg_dump`) names nobody;
//! - `vigie key rotate` seals every value again under a new key, in one audited transaction;
//! - `vigie backup` taken while writes go on restores to a consistent snapshot.

use crate::support;

use reqwest::StatusCode;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Output, Stdio};
use support::{fresh_db, Backend, TestDb};

const BIN: &str = env!("CARGO_BIN_EXE_vigie");
const PASSWORD: &str = "Tamani-Sirakoro-7741-mot";
const SMS_KEY: &str = "smskey-Q8ZvN3pLx";
const GATEWAY_PASSWORD: &str = "gwpass-K2mR9tWq";
const FOCAL_PHONE: &str = "+22376123456";
const CITIZEN_PHONE: &str = "+22365987412";
const STRANGER_PHONE: &str = "+22366554433";
const CITIZEN_NAME: &str = "Aminata Dembélé";
const OFFICIAL_NAME: &str = "Commissaire Ibrahim Zerbo";
const FACTS: &str = "Le chef de poste de Zorokoro exige cinq mille francs";
const QUESTION: &str = "Avez-vous vu Sekou Sidibe-Q2 ?";
const ANSWER: &str = "Oui Ramata Sow-R2 etait la";
const PROTECTED_TEXT: &str = "Le sergent Modibo Keita-P2 a battu un passant";
const LEGACY_SMS: &str = "Message ancien de Hawa Traore-L9";

both_backends!(secrets_stay_out_of_logs_and_raw_dumps, key_rotation_reseals_every_value, backup_during_writes_is_a_consistent_snapshot);

struct Env {
    db: TestDb,
    key_file: std::path::PathBuf,
}

impl Env {
    async fn new(b: Backend) -> Option<Env> {
        let db = fresh_db(b).await?;
        let key_file = db.dir().join("vigie.key");
        Some(Env { db, key_file })
    }
    fn cmd(&self) -> Command {
        let mut c = Command::new(BIN);
        c.arg("--db").arg(&self.db.url).arg("--key-file").arg(&self.key_file).env("LANG", "en_GB.UTF-8").env_remove("VIGIE_LOG");
        c
    }
    fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut c = self.cmd();
        c.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        if let Some(s) = stdin {
            child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
        }
        drop(child.stdin.take());
        let o = child.wait_with_output().unwrap();
        assert!(o.status.success(), "vigie {args:?}: {}", String::from_utf8_lossy(&o.stderr));
        o
    }
    fn setup(&self) -> String {
        let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/demo/areas.csv");
        self.run(&["import", "areas", demo], None);
        let o = self.run(&["user", "add", "chef", "--role", "admin", "--area", "ML", "--password-stdin", "--token"], Some(PASSWORD));
        self.run(&["user", "add", "relais", "--role", "reporter", "--area", "ML-5", "--phone", FOCAL_PHONE, "--password-stdin"], Some(PASSWORD));
        String::from_utf8_lossy(&o.stdout).lines().last().unwrap().trim().to_string()
    }
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

fn serve(env: &Env, log: &std::path::Path) -> Server {
    // A port nothing listens on: outbound SMS and webhooks fail, and their errors get logged.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let mut child = env
        .cmd()
        .args(["serve", "--addr", "127.0.0.1:0"])
        .env("VIGIE_LOG", "debug")
        .env("VIGIE_SMS_KEY", SMS_KEY)
        .env("VIGIE_SMS_SENDSMS_URL", format!("http://{dead}/cgi-bin/sendsms"))
        .env("VIGIE_SMS_USER", "kannel")
        .env("VIGIE_SMS_PASSWORD", GATEWAY_PASSWORD)
        .env("VIGIE_PUBLIC_URL", "http://127.0.0.1:9")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().expect("server printed nothing").unwrap();
    let base = first.split_whitespace().find(|w| w.starts_with("http://")).expect(&first).trim_end_matches('/').to_string();
    std::thread::spawn(move || for _ in lines {});
    Server { child, base }
}

fn digits(phone: &str) -> String {
    phone.chars().filter(|c| c.is_ascii_digit()).collect::<String>()[3..].to_string()
}

/// Needles that must never appear, with what each one is.
fn assert_absent(haystack: &[u8], needles: &[(&str, String)], place: &str) {
    let text = String::from_utf8_lossy(haystack);
    for (what, needle) in needles {
        assert!(!needle.is_empty());
        assert!(!text.contains(needle.as_str()), "{what} ({needle}) found in {place}");
    }
}

async fn secrets_stay_out_of_logs_and_raw_dumps(b: Backend) {
    let Some(env) = Env::new(b).await else { return };
    let token = env.setup();
    // An SMS an older version stored in clear (before texts were sealed): `vigie serve` seals it at start-up.
    let keys = vigie_storage::crypto::Keyring::parse(&std::fs::read_to_string(&env.key_file).unwrap()).unwrap();
    let db = vigie_storage::Db::connect(&env.db.url).await.unwrap();
    vigie_storage::run!(&db.write, c => { sqlx::query("INSERT INTO sms_inbox (gateway_id, from_sealed, from_index, text, kind, received_at) VALUES ('legacy-1', $1, $2, $3, 'unparsed', $4)")
        .bind(keys.seal(STRANGER_PHONE.as_bytes(), "sms_inbox.phone")).bind(keys.blind_index("phone", STRANGER_PHONE)).bind(LEGACY_SMS).bind(chrono::Utc::now()).execute(c).await.unwrap(); });
    db.close().await;
    let log = env.db.dir().join("server.log");
    let srv = serve(&env, &log);
    let http = reqwest::Client::new();
    let url = |p: &str| format!("{}{p}", srv.base);

    let res = http.post(url("/api/v1/auth/login")).json(&json!({"username": "chef", "password": PASSWORD})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = http.post(url("/api/v1/auth/login")).json(&json!({"username": "chef", "password": format!("{PASSWORD}x")})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(http.get(url("/api/v1/me")).bearer_auth(&token).send().await.unwrap().status(), StatusCode::OK);
    for (n, from) in [FOCAL_PHONE, STRANGER_PHONE].into_iter().enumerate() {
        let res = http
            .get(url("/sms/kannel/inbound"))
            .query(&[("from", from), ("text", "ALERTE attaque Koro hommes armes au marche"), ("id", &format!("k{n}")), ("key", SMS_KEY)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
    }
    let res = http
        .post(url("/api/v1/public/denunciations"))
        .json(&json!({"area_code": "ML-5-KORO", "locality": "Zorokoro", "administration": "Douanes", "facts": FACTS,
            "alleged_officials": OFFICIAL_NAME, "reporter_name": CITIZEN_NAME, "reporter_phone": CITIZEN_PHONE}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let receipt = res.json::<Value>().await.unwrap()["receipt"].as_str().unwrap().to_string();
    let res = http.post(url("/api/v1/public/receipt/status")).json(&json!({"code": receipt})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let hook: Value = http
        .post(url("/api/v1/webhooks"))
        .bearer_auth(&token)
        .json(&json!({"url": "http://127.0.0.1:9/hook", "events": ["alert.raised"], "area_code": "ML"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let hook_secret = hook["secret"].as_str().unwrap_or_default().to_string();
    let rule = json!({"min_severity": 1, "area_code": "ML-5", "levels": [{"name": "Brigade de Koro", "phone": "+22376000001", "ack_minutes": 30}]});
    assert_eq!(http.post(url("/api/v1/escalation-rules")).bearer_auth(&token).json(&rule).send().await.unwrap().status(), StatusCode::CREATED);
    let rep: Value = http
        .post(url("/api/v1/reports"))
        .bearer_auth(&token)
        .json(&json!({"category": "armed_attack", "text": "Hommes armés au marché", "occurred_at": "2026-11-20T06:40:00Z", "area_code": "ML-5-KORO", "idempotency_key": "s-1"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let alert = rep["alert_id"].as_i64().expect("alert");
    // The stranger's SMS report: an analyst's question goes out by SMS, the answer comes back by SMS.
    let reports: Value = http.get(url("/api/v1/reports?q=attaque")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    let by_sms = reports["items"].as_array().unwrap().iter().find(|r| r["reporter_kind"] == "anonymous").expect("the stranger's report")["id"].as_i64().unwrap();
    let res = http.post(url(&format!("/api/v1/reports/{by_sms}/messages"))).bearer_auth(&token).json(&json!({"body": QUESTION})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap());
    let res = http.get(url("/sms/kannel/inbound")).query(&[("from", STRANGER_PHONE), ("text", ANSWER), ("id", "k9"), ("key", SMS_KEY)]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // A protected report (abuse by security forces): its text is sealed.
    let res = http
        .post(url("/api/v1/reports"))
        .bearer_auth(&token)
        .json(&json!({"category": "security_forces_abuse", "text": PROTECTED_TEXT, "occurred_at": "2026-11-20T06:40:00Z", "area_code": "ML-5-KORO", "idempotency_key": "s-2"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let protected = res.json::<Value>().await.unwrap()["report_id"].as_i64().unwrap();
    // The authorised user reads them all.
    let thread = http.get(url(&format!("/api/v1/reports/{by_sms}/messages"))).bearer_auth(&token).send().await.unwrap().text().await.unwrap();
    assert!(thread.contains(QUESTION) && thread.contains(ANSWER), "{thread}");
    let shown: Value = http.get(url(&format!("/api/v1/reports/{protected}"))).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(shown["text"], PROTECTED_TEXT);
    let res = http.post(url(&format!("/api/v1/alerts/{alert}/commands"))).bearer_auth(&token).json(&json!({"command": "raise"})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
    // Let the workers try the dead gateway and the dead webhook (they log their errors).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.contains("sms worker") || text.contains("gateway") || std::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    drop(srv);

    let logged = std::fs::read(&log).unwrap();
    let text = String::from_utf8_lossy(&logged);
    assert!(text.matches("DEBUG").count() > 20, "the server did not log at debug level:\n{text}");
    let mut needles = vec![
        ("the password", PASSWORD.to_string()),
        ("the API token", token.clone()),
        ("the SMS gateway key", SMS_KEY.to_string()),
        ("the gateway password", GATEWAY_PASSWORD.to_string()),
        ("the focal point's phone", digits(FOCAL_PHONE)),
        ("the citizen's phone", digits(CITIZEN_PHONE)),
        ("a stranger's phone", digits(STRANGER_PHONE)),
        ("the responder's phone", "76000001".to_string()),
        ("the citizen's name", "Dembélé".to_string()),
        ("the official's name", "Zerbo".to_string()),
        ("the receipt code", receipt.replace(' ', "")[..12].to_string()),
        ("the receipt code", receipt[..14].to_string()),
    ];
    if !hook_secret.is_empty() {
        needles.push(("the webhook secret", hook_secret.clone()));
    }
    assert_absent(&logged, &needles, "the server log");

    // The raw database: no identity, no secret in clear (the responder's duty phone is in the
    // escalation rule by design, so it is not a needle here).
    let raw = match b {
        Backend::Sqlite => {
            let path = env.db.url.trim_start_matches("sqlite:").to_string();
            let mut bytes = std::fs::read(&path).unwrap();
            bytes.extend(std::fs::read(format!("{path}-wal")).unwrap_or_default());
            bytes
        }
        Backend::Postgres => {
            let bin = std::env::var("VIGIE_TEST_PG_BIN").map(|d| format!("{d}/pg_dump")).unwrap_or_else(|_| "pg_dump".into());
            let o = Command::new(bin).args(["--data-only", "--inserts"]).arg(&env.db.url).output().expect("pg_dump");
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            o.stdout
        }
    };
    assert!(String::from_utf8_lossy(&raw).contains("Hommes arm"), "the dump is readable text (the report is there)");
    let in_db: Vec<(&str, String)> = needles.into_iter().filter(|(w, _)| *w != "the responder's phone").collect();
    let mut in_db = in_db;
    in_db.push(("the facts of the denunciation", "Zorokoro exige".to_string()));
    in_db.push(("the analyst's question", "Sidibe-Q2".to_string()));
    in_db.push(("the reporter's SMS answer", "Sow-R2".to_string()));
    in_db.push(("a protected report's text", "Keita-P2".to_string()));
    in_db.push(("an SMS stored in clear by an older version", "Traore-L9".to_string()));
    assert_absent(&raw, &in_db, "the raw database");
    // The old SMS was sealed at start-up, and opens.
    let db = vigie_storage::Db::connect(&env.db.url).await.unwrap();
    let text: String = vigie_storage::run!(&db.read, c => sqlx::query_scalar("SELECT text FROM sms_inbox WHERE gateway_id = 'legacy-1'").fetch_one(c).await.unwrap());
    assert_eq!(keys.open_string(&text, "sms_inbox.text").unwrap(), LEGACY_SMS);
    db.close().await;
}

async fn key_rotation_reseals_every_value(b: Backend) {
    let Some(env) = Env::new(b).await else { return };
    let token = env.setup();
    let log = env.db.dir().join("server.log");
    let srv = serve(&env, &log);
    let http = reqwest::Client::new();
    let url = |p: &str| format!("{}{p}", srv.base);
    let res = http
        .post(url("/api/v1/public/denunciations"))
        .json(&json!({"area_code": "ML-5-KORO", "locality": "Zorokoro", "administration": "Douanes", "facts": FACTS, "reporter_name": CITIZEN_NAME}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let receipt = res.json::<Value>().await.unwrap()["receipt"].as_str().unwrap().to_string();
    let res = http
        .get(url("/sms/kannel/inbound"))
        .query(&[("from", STRANGER_PHONE), ("text", "ALERTE attaque Koro hommes armes"), ("id", "r1"), ("key", SMS_KEY)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let hook = http.post(url("/api/v1/webhooks")).bearer_auth(&token).json(&json!({"url": "http://127.0.0.1:9/hook", "events": ["alert.raised"], "area_code": "ML"})).send().await.unwrap();
    assert_eq!(hook.status(), StatusCode::CREATED);
    // A directory entry's contacts are sealed too (they were missed by rotation once).
    let entry = json!({"full_name": "Rokia Touré", "sex": "F", "age_group": "adult", "area_code": "ML-7", "expertise": "gender",
                       "phone": "+22376000001", "email": "rokia@example.org"});
    let res = http.post(url("/api/v1/directory")).bearer_auth(&token).json(&entry).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap());
    drop(srv);

    let old_text = std::fs::read_to_string(&env.key_file).unwrap();
    let old = vigie_storage::crypto::Keyring::parse(&old_text).unwrap();
    let db = vigie_storage::Db::connect(&env.db.url).await.unwrap().with_keys(old.clone());
    let before = vigie_storage::rotation::stale_count(&db, &old.rotated()).await.unwrap();
    assert!(before >= 6, "sealed values to rotate: {before}");
    db.close().await;

    let o = env.run(&["key", "rotate"], None);
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(out.contains(&format!("{before} value(s) re-sealed")), "{out}");

    // The file: the new key first, the old one kept.
    let new_text = std::fs::read_to_string(&env.key_file).unwrap();
    let new = vigie_storage::crypto::Keyring::parse(&new_text).unwrap();
    assert_ne!(new.current_id(), old.current_id());
    assert!(new_text.contains(old_text.lines().find(|l| !l.starts_with('#')).unwrap()), "the old key stays in the file");
    let db = vigie_storage::Db::connect(&env.db.url).await.unwrap().with_keys(new.clone());
    assert_eq!(vigie_storage::rotation::stale_count(&db, &new).await.unwrap(), 0);
    // Everything opens with the NEW key alone (so nothing was left under the old one)…
    let new_only = vigie_storage::crypto::Keyring::parse(new_text.lines().filter(|l| !l.starts_with('#')).next().unwrap()).unwrap();
    assert_eq!(vigie_storage::rotation::open_all(&db, &new_only).await.unwrap(), before);
    // …and not with the old key alone.
    assert!(vigie_storage::rotation::open_all(&db, &old).await.is_err());
    let audit = vigie_storage::audit::list(&db, &Default::default(), 1, 500).await.unwrap();
    assert!(serde_json::to_string(&audit.items).unwrap().contains("keys.rotate"), "the rotation is in the audit log");
    db.close().await;

    // The server runs on with the rotated file: the receipt holder still reads their case
    // (receipt codes are keyed by a sub-key that rotation keeps), the case opens for the handler.
    let srv = serve(&env, &log);
    let res = http.post(format!("{}/api/v1/public/receipt/status", srv.base)).json(&json!({"code": receipt})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
    let sup = env.run(&["user", "add", "sup", "--role", "case_supervisor", "--area", "ML", "--token"], None);
    let sup = String::from_utf8_lossy(&sup.stdout).lines().last().unwrap().trim().to_string();
    let cases: Value = http.get(format!("{}/api/v1/cases", srv.base)).bearer_auth(&sup).send().await.unwrap().json().await.unwrap();
    let id = cases["items"][0]["id"].as_i64().expect("the case");
    let me: Value = http.get(format!("{}/api/v1/me", srv.base)).bearer_auth(&sup).send().await.unwrap().json().await.unwrap();
    let res = http.post(format!("{}/api/v1/cases/{id}/assignments", srv.base)).bearer_auth(&sup).json(&json!({"user_id": me["user"]["id"]})).send().await.unwrap();
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    let case: Value = http.get(format!("{}/api/v1/cases/{id}", srv.base)).bearer_auth(&sup).send().await.unwrap().json().await.unwrap();
    assert!(case.to_string().contains("Zorokoro exige"), "the case's sealed facts open after rotation: {case}");
    drop(srv);
    // A second rotation works the same way.
    let o = env.run(&["key", "rotate"], None);
    assert!(String::from_utf8_lossy(&o.stdout).contains("re-sealed"));
    assert_eq!(vigie_storage::crypto::Keyring::parse(&std::fs::read_to_string(&env.key_file).unwrap()).unwrap().current_id().len(), 8);
}

async fn backup_during_writes_is_a_consistent_snapshot(b: Backend) {
    let Some(env) = Env::new(b).await else { return };
    env.run(&["import", "areas", concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/demo/areas.csv")], None);
    // Quiet database: exports before and after a round trip are byte-identical.
    let export = |e: &Env| (e.run(&["export", "areas"], None).stdout, e.run(&["export", "areas", "--format", "geojson"], None).stdout);
    let before = export(&env);
    let quiet = env.db.dir().join("quiet.bak");
    env.run(&["backup", quiet.to_str().unwrap()], None);
    let target = Env { db: fresh_db(b).await.unwrap(), key_file: env.key_file.clone() };
    env_restore(&target, &quiet);
    assert!(export(&target) == before, "exports differ after restore");

    // Now a writer adds areas W0001, W0002, … one transaction each while the backup runs. A
    // consistent snapshot holds exactly W0001..Wk for some k, and its audit chain verifies.
    let db = vigie_storage::Db::connect(&env.db.url).await.unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop2 = stop.clone();
    let writer = tokio::spawn(async move {
        let actor = vigie_storage::audit::Actor::system("test");
        let mut n = 0u32;
        while !stop2.load(std::sync::atomic::Ordering::SeqCst) && n < 5000 {
            n += 1;
            let input = vigie_domain::area::AreaInput {
                code: vigie_domain::area::AreaCode::parse(&format!("ML-5-W{n:04}")).unwrap(),
                parent: Some(vigie_domain::area::AreaCode::parse("ML-5").unwrap()),
                level: vigie_domain::area::AreaLevel::Cercle,
                name: format!("W{n:04}"),
                tags: vec![],
                point: None,
                geometry: None,
            };
            // SQLite: the backup command is a second process that briefly writes (its start-up
            // checks the built-in roles), and a deferred transaction then gets SQLITE_BUSY: retry
            // the same area, as a client would; it is stored once or not at all.
            loop {
                let attempt = async {
                    let mut tx = db.begin().await?;
                    vigie_storage::areas::upsert(&mut tx, &input, &actor).await?;
                    tx.commit().await
                };
                match attempt.await {
                    Ok(()) => break,
                    Err(e) if e.to_string().contains("locked") || e.to_string().contains("busy") => {
                        tokio::time::sleep(std::time::Duration::from_millis(5)).await
                    }
                    Err(e) => panic!("{e}"),
                }
            }
        }
        n
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let live = env.db.dir().join("live.bak");
    let out = env.cmd().args(["backup", live.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let written = writer.await.unwrap();

    let copy = Env { db: fresh_db(b).await.unwrap(), key_file: env.key_file.clone() };
    env_restore(&copy, &live);
    let csv = String::from_utf8(copy.run(&["export", "areas"], None).stdout).unwrap();
    let mut ws: Vec<u32> = csv.lines().filter_map(|l| l.strip_prefix("ML-5-W")).map(|l| l[..4].parse().unwrap()).collect();
    ws.sort();
    let k = ws.len() as u32;
    assert!(k > 0 && k < written, "the backup fell during the writes (got {k} of {written})");
    assert_eq!(ws, (1..=k).collect::<Vec<_>>(), "the snapshot holds a gap: not consistent");
    let v = copy.cmd().args(["audit", "verify"]).output().unwrap();
    assert!(v.status.success(), "audit chain of the snapshot: {}", String::from_utf8_lossy(&v.stderr));
}

fn env_restore(target: &Env, file: &std::path::Path) {
    target.run(&["restore", file.to_str().unwrap()], None);
}
