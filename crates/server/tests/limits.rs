//! Resource limits and sign-in hardening: slow clients (slowloris) are cut off and do not starve
//! others, sign-in attempts are limited per address, an SMS flood from one number stops being
//! answered, session cookies carry their flags, and sessions expire.

use crate::support;

use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use support::{Backend, TestApp};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use vigie_server::limits::{Budget, Limiter, Limits};

both_backends!(
    sign_in_is_limited_per_address,
    an_sms_flood_from_one_number_is_not_answered,
    an_sms_no_report_could_hold_is_still_stored,
    session_cookies_and_expiry
);

#[test]
fn the_production_header_timeout_is_short() {
    assert!(vigie_server::listen::HEADER_READ_TIMEOUT <= Duration::from_secs(15));
}

/// 200 clients trickle a request head one byte at a time. The server keeps answering a normal
/// client quickly, and cuts every slow one off once the header timeout has passed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_cut_off_and_do_not_starve_others() {
    let Some(tdb) = support::fresh_db(Backend::Sqlite).await else { return };
    let db = vigie_storage::Db::connect_and_migrate(&tdb.url).await.unwrap().with_keys(vigie_storage::crypto::Keyring::generate());
    let app = vigie_server::app(db, vigie_server::ServerConfig::default(), vigie_server::system_clock());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let timeout = Duration::from_millis(1500);
    // Fewer slots than slow clients: the limit must not let them lock everyone out for long either.
    tokio::spawn(vigie_server::listen::serve_with(listener, app, timeout, 150, std::future::pending()));

    let started = Instant::now();
    let mut slow = Vec::new();
    for _ in 0..200 {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
        slow.push(tokio::spawn(async move {
            // One header byte every 200 ms, for ever; returns when the server closes on us.
            let t0 = Instant::now();
            loop {
                if s.write_all(b"X").await.is_err() {
                    return t0.elapsed();
                }
                let mut buf = [0u8; 256];
                match tokio::time::timeout(Duration::from_millis(200), s.read(&mut buf)).await {
                    Ok(Ok(0)) | Ok(Err(_)) => return t0.elapsed(),
                    Ok(Ok(_)) => return t0.elapsed(), // an error answer (408) then close
                    Err(_) => {}
                }
                if t0.elapsed() > Duration::from_secs(20) {
                    return t0.elapsed();
                }
            }
        }));
    }
    // A normal client, meanwhile: answered, within the header timeout plus a margin.
    let http = reqwest::Client::new();
    let mut worst = Duration::ZERO;
    for _ in 0..5 {
        let t = Instant::now();
        let res = http.get(format!("http://{addr}/healthz")).timeout(Duration::from_secs(10)).send().await.expect("served while slow clients hold connections");
        assert_eq!(res.status(), StatusCode::OK);
        worst = worst.max(t.elapsed());
    }
    assert!(worst < timeout * 3, "a normal request waited {worst:?}");
    let mut longest = Duration::ZERO;
    for h in slow {
        longest = longest.max(h.await.unwrap());
    }
    assert!(longest < Duration::from_secs(10), "a slow client held its connection {longest:?} (timeout {timeout:?})");
    assert!(started.elapsed() < Duration::from_secs(30));
}

async fn sign_in_is_limited_per_address(b: Backend) {
    let limits = Limits { login_per_ip: Limiter::new(Budget { max: 6, window: Duration::from_secs(300) }) };
    let cfg = vigie_server::ServerConfig { limits: std::sync::Arc::new(limits), ..Default::default() };
    let Some(app) = TestApp::spawn_with(b, cfg).await else { return };
    app.user_token("awa", "viewer", "ML").await;
    // Guessing across many accounts from one address (the per-account lockout never triggers).
    for i in 0..6 {
        let res = app.http.post(app.url("/api/v1/auth/login")).json(&json!({"username": format!("user{i}"), "password": "devine devine"})).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = app.http.post(app.url("/api/v1/auth/login")).json(&json!({"username": "awa", "password": support::PASSWORD})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "even the right password waits once the address spent its budget");
    assert_eq!(res.json::<Value>().await.unwrap()["type"], "urn:vigie:problem:rate_limited");
    // The web form shares the budget.
    let res = app.http.post(app.url("/connexion")).form(&[("username", "awa"), ("password", support::PASSWORD), ("csrf", "x")]).send().await.unwrap();
    assert!(res.status() == StatusCode::TOO_MANY_REQUESTS || res.status() == StatusCode::FORBIDDEN, "{}", res.status());
}

async fn an_sms_flood_from_one_number_is_not_answered(b: Backend) {
    let key = "flood-key-0123456789";
    let cfg = vigie_server::ServerConfig { sms_inbound_key: Some(key.into()), ..Default::default() };
    let Some(app) = TestApp::spawn_with(b, cfg).await else { return };
    let send = |from: &'static str, n: usize| {
        let http = app.http.clone();
        let url = app.url("/sms/kannel/inbound");
        async move {
            let res = http.get(url).query(&[("from", from), ("text", "AIDE"), ("id", &format!("{from}-{n}")), ("key", key)]).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK, "Kannel must not retry a flood");
            res.text().await.unwrap()
        }
    };
    let limit = vigie_server::sms::FLOOD_LIMIT as usize;
    for n in 0..limit {
        assert!(!send("+22376111111", n).await.is_empty(), "message {n} is answered");
    }
    for n in limit..limit + 5 {
        assert_eq!(send("+22376111111", n).await, "", "message {n} of a flood gets no reply (no SMS cost, no amplification)");
    }
    assert!(!send("+22376222222", 0).await.is_empty(), "another number is still answered");
    // Nothing is thrown away: every flood message is stored.
    let stored: i64 = vigie_storage::run!(&app.db.read, c => sqlx::query_scalar("SELECT COUNT(*) FROM sms_inbox").fetch_one(c).await.unwrap());
    assert_eq!(stored as usize, limit + 6);
}

/// An SMS that a report cannot hold as it is (a text longer than a report's, a gateway id that
/// is no idempotency key) got no report and a 503, and every retry of Kannel met the same refusal.
/// It is now acknowledged, kept whole in the inbox, and reported cut. Kannel hands an SMS over in
/// a GET query string, so the HTTP layer bounds what the SMS grammar can ever be given: a request
/// line over 64 KiB is refused (414) before any handler runs. That bound is why the sms_parse
/// fuzz target's `-max_len=65536` covers every input this endpoint can deliver.
async fn an_sms_no_report_could_hold_is_still_stored(b: Backend) {
    let key = "long-sms-key-0123456789";
    let cfg = vigie_server::ServerConfig { sms_inbound_key: Some(key.into()), ..Default::default() };
    let Some(app) = TestApp::spawn_with(b, cfg).await else { return };
    let stored = || async { vigie_storage::run!(&app.db.read, c => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM sms_inbox").fetch_one(c).await.unwrap()) };

    // 60,000 characters (far more than a report holds): stored whole, answered, reported cut.
    let long = format!("INFO {}", "a".repeat(60_000));
    let res = app.http.get(app.url("/sms/kannel/inbound")).query(&[("from", "+22376333333"), ("text", &long), ("id", "long-1"), ("key", key)]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "acknowledged, or Kannel would retry it for ever");
    assert!(!res.text().await.unwrap().is_empty(), "a long SMS is answered");
    assert_eq!(stored().await, 1, "and stored");
    let sealed: String = vigie_storage::run!(&app.db.read, c => sqlx::query_scalar("SELECT text FROM sms_inbox").fetch_one(c).await.unwrap());
    assert_eq!(app.db.keys().unwrap().open_string(&sealed, "sms_inbox.text").unwrap(), long, "the inbox keeps the whole SMS");
    let reports: Value = app.get("/api/v1/reports", &app.admin_token).send().await.unwrap().json().await.unwrap();
    assert_eq!(reports["total"], 1, "{reports}");
    let text = reports["items"][0]["text"].as_str().unwrap();
    assert_eq!(text.chars().count(), vigie_domain::early_warning::report::ReportPolicy::default().max_text_chars);
    assert!(text.starts_with("INFO aaa") && text.ends_with(" […]"), "{}", &text[..20]);

    // A gateway id that cannot be an idempotency key: hashed, not refused; a retry is one report.
    let odd_id = "id ".repeat(100);
    for _ in 0..2 {
        let res = app.http.get(app.url("/sms/kannel/inbound")).query(&[("from", "+22376333333"), ("text", "INFO pont coupé"), ("id", &odd_id), ("key", key)]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    assert_eq!(stored().await, 2, "the retry is recognised");
    let reports: Value = app.get("/api/v1/reports", &app.admin_token).send().await.unwrap().json().await.unwrap();
    assert_eq!(reports["total"], 2, "one report for the SMS and its retry");

    // Over 64 KiB the request line itself is refused. (reqwest will not even build such a URL,
    // so the request is written by hand.)
    let addr = app.url("").trim_start_matches("http://").trim_end_matches('/').to_string();
    let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let line = format!("GET /sms/kannel/inbound?from=%2B22376333333&id=too-long-1&key={key}&text={} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(66_000));
    tcp.write_all(line.as_bytes()).await.unwrap();
    let mut head = vec![0u8; 12];
    tcp.read_exact(&mut head).await.unwrap();
    assert_eq!(String::from_utf8_lossy(&head), "HTTP/1.1 414", "the HTTP layer refuses it whole");
    assert_eq!(stored().await, 2, "nothing half-written");
}

async fn session_cookies_and_expiry(b: Backend) {
    let cfg = vigie_server::ServerConfig { secure_cookies: true, session_ttl: chrono::Duration::seconds(2), ..Default::default() };
    let Some(app) = TestApp::spawn_with(b, cfg).await else { return };
    app.user_token("awa", "viewer", "ML").await;
    let c = reqwest::Client::new();
    let res = c.post(app.url("/api/v1/auth/login")).json(&json!({"username": "awa", "password": support::PASSWORD})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = res.headers().get("set-cookie").unwrap().to_str().unwrap().to_string();
    for flag in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/", "Max-Age=2"] {
        assert!(cookie.contains(flag), "{flag} missing from {cookie}");
    }
    let session = cookie.split(';').next().unwrap().to_string();
    let me = c.get(app.url("/api/v1/me")).header("cookie", &session).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(2300)).await;
    let me = c.get(app.url("/api/v1/me")).header("cookie", &session).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED, "the session expired server-side, whatever the browser keeps");
    assert_eq!(me.json::<Value>().await.unwrap()["type"], "urn:vigie:problem:token_expired");
}
