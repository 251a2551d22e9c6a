//! Scale-out on PostgreSQL (issue 11): two stateless `vigie serve` nodes against one database,
//! behind a tiny round-robin in the test. A session opened on node A works on node B (cookie
//! and CSRF token live in the database); concurrent load at both raises alerts whose SMS go to
//! a loopback gateway and whose webhooks go to a loopback receiver; node B is killed with
//! SIGKILL once mid-way and restarted; escalations then run on both nodes at once. Every
//! notification must arrive exactly once. The one window where a duplicate is possible (the
//! gateway acknowledged, the node died before writing "sent") is reported precisely, and
//! tolerated only if the evidence says that is what happened.
//!
//! PostgreSQL only: SQLite is the single-node backend (one file, one writer). Without
//! VIGIE_TEST_PG_URL the test says so loudly and stops; with VIGIE_TEST_REQUIRE_PG=1 it fails.

use crate::support;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{fresh_db, Backend};

const BIN: &str = env!("CARGO_BIN_EXE_vigie");
const SMS_KEY: &str = "cle-passerelle-test";
/// Short enough for the test to see a dead node's jobs taken over, above the 10 s send timeout.
const LEASE_SECONDS: u64 = 15;

/// What the loopback gateway and webhook receiver saw, in arrival order.
#[derive(Default)]
struct Deliveries {
    /// (sms_outbox id from the DLR URL, phone, text, when)
    sms: Vec<(i64, String, String, Instant)>,
    /// (X-Vigie-Delivery job id, event, data.id, when)
    hooks: Vec<(i64, String, i64, Instant)>,
}

/// Kannel's sendsms and a webhook endpoint, on a random loopback port.
async fn receivers(seen: Arc<Mutex<Deliveries>>) -> String {
    use axum::extract::{Query, State};
    use axum::routing::{get, post};
    let app = axum::Router::new()
        .route(
            "/cgi-bin/sendsms",
            get(
                |State(seen): State<Arc<Mutex<Deliveries>>>,
                 Query(q): Query<HashMap<String, String>>| async move {
                    let dlr = q.get("dlr-url").cloned().unwrap_or_default();
                    let out = dlr
                        .split(['?', '&'])
                        .find_map(|kv| kv.strip_prefix("out="))
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(-1);
                    seen.lock().unwrap().sms.push((
                        out,
                        q.get("to").cloned().unwrap_or_default(),
                        q.get("text").cloned().unwrap_or_default(),
                        Instant::now(),
                    ));
                    "0: Accepted for delivery"
                },
            ),
        )
        .route(
            "/hook",
            post(
                |State(seen): State<Arc<Mutex<Deliveries>>>,
                 headers: axum::http::HeaderMap,
                 body: String| async move {
                    let job: i64 = headers
                        .get("x-vigie-delivery")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(-1);
                    let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
                    let event = v["event"].as_str().unwrap_or("").to_string();
                    seen.lock().unwrap().hooks.push((
                        job,
                        event,
                        v["data"]["id"].as_i64().unwrap_or(-1),
                        Instant::now(),
                    ));
                    "ok"
                },
            ),
        )
        .with_state(seen);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

/// One `vigie serve` process; killed when dropped.
struct Node {
    child: Child,
    base: String,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_node(db: &str, key: &str, gateway: &str) -> Node {
    let mut child = Command::new(BIN)
        .args(["--db", db, "serve", "--addr", "127.0.0.1:0"])
        .env("VIGIE_KEY_FILE", key)
        .env("VIGIE_LOG", "error")
        .env(
            "VIGIE_SMS_SENDSMS_URL",
            format!("{gateway}/cgi-bin/sendsms"),
        )
        .env("VIGIE_SMS_KEY", SMS_KEY)
        .env("VIGIE_JOB_LEASE_SECONDS", LEASE_SECONDS.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let base = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .trim_end_matches('/')
        .to_string();
    std::thread::spawn(move || for _ in lines {});
    Node { child, base }
}

/// The tiny load balancer: each request goes to the next node; a node that refuses the
/// connection (dead) is skipped for that request.
#[derive(Clone)]
struct RoundRobin {
    nodes: Arc<Mutex<Vec<String>>>,
    next: Arc<AtomicUsize>,
    http: reqwest::Client,
}

impl RoundRobin {
    async fn send(
        &self,
        build: impl Fn(&reqwest::Client, &str) -> reqwest::RequestBuilder,
    ) -> Option<reqwest::Response> {
        let nodes = self.nodes.lock().unwrap().clone();
        for _ in 0..nodes.len() {
            let base = &nodes[self.next.fetch_add(1, Ordering::SeqCst) % nodes.len()];
            match build(&self.http, base).send().await {
                Ok(r) => return Some(r),
                Err(e) if e.is_connect() => continue,
                Err(_) => return None, // sent, answer lost: not acknowledged
            }
        }
        None
    }
}

/// `name=value` of every Set-Cookie of a response, joined as a Cookie header.
fn cookies_of(res: &reqwest::Response) -> String {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_string))
        .collect::<Vec<_>>()
        .join("; ")
}

fn csrf_of(html: &str) -> String {
    let i =
        html.find(r#"name="csrf" value=""#).expect("csrf field") + r#"name="csrf" value=""#.len();
    html[i..].split('"').next().unwrap().to_string()
}

/// Words of random letters: no two reports share enough trigrams to be grouped into one event
/// (each report then opens its own alert).
fn distinct_text(seed: u64) -> String {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut words = Vec::new();
    for _ in 0..6 {
        let word: String = (0..6)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (b'a' + (x % 26) as u8) as char
            })
            .collect();
        words.push(word);
    }
    words.join(" ")
}

/// Counters of the load phases.
#[derive(Default)]
struct Load {
    reports: AtomicUsize,
    /// (report id, alert id) of acknowledged reports.
    acked: Mutex<Vec<(i64, i64)>>,
    /// Alerts whose raise was acknowledged (2xx).
    raised: Mutex<HashSet<i64>>,
}

/// Drives `workers` concurrent focal points for `secs` through the round-robin: report, then
/// verify and raise its alert. Returns reports acknowledged per second.
async fn drive(
    rr: &RoundRobin,
    token: &str,
    load: &Arc<Load>,
    phase: &str,
    workers: usize,
    secs: f64,
    during: impl std::future::Future<Output = ()>,
) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let before = load.reports.load(Ordering::SeqCst);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..workers {
        let (rr, token, load, stop, phase) = (
            rr.clone(),
            token.to_string(),
            load.clone(),
            stop.clone(),
            phase.to_string(),
        );
        tasks.push(tokio::spawn(async move {
            let areas = ["ML-5-KORO", "ML-5-MOPTI", "ML-4-SEGOU", "ML-7-GAO", "ML-1-DIEMA", "ML-6-GOUNDAM"];
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                i += 1;
                let key = format!("{phase}-{w}-{i}");
                let body = serde_json::json!({"category": "armed_attack", "text": distinct_text(phase.bytes().fold(0u64, |h, b| h.wrapping_mul(31) + b as u64) << 40 | (w as u64) << 32 | i as u64), "occurred_at": chrono::Utc::now(), "area_code": areas[(w + i) % areas.len()], "idempotency_key": key});
                let Some(res) = rr.send(|c, b| c.post(format!("{b}/api/v1/reports")).bearer_auth(&token).json(&body)).await else { continue };
                if !res.status().is_success() {
                    continue;
                }
                let v: serde_json::Value = res.json().await.unwrap_or_default();
                let (Some(report), Some(alert)) = (v["report_id"].as_i64(), v["alert_id"].as_i64()) else { continue };
                load.reports.fetch_add(1, Ordering::SeqCst);
                load.acked.lock().unwrap().push((report, alert));
                if v["new_event"].as_bool() != Some(true) {
                    continue;
                }
                for command in ["verify", "raise"] {
                    let cmd = serde_json::json!({"command": command});
                    match rr.send(|c, b| c.post(format!("{b}/api/v1/alerts/{alert}/commands")).bearer_auth(&token).json(&cmd)).await {
                        Some(r) if r.status().is_success() => {
                            if command == "raise" {
                                load.raised.lock().unwrap().insert(alert);
                            }
                        }
                        _ => break,
                    }
                }
            }
        }));
    }
    let deadline = tokio::time::sleep(Duration::from_secs_f64(secs));
    tokio::join!(deadline, during);
    stop.store(true, Ordering::SeqCst);
    for t in tasks {
        t.await.unwrap();
    }
    (load.reports.load(Ordering::SeqCst) - before) as f64 / started.elapsed().as_secs_f64()
}

async fn count(db: &vigie_storage::Db, sql: &str) -> i64 {
    vigie_storage::run!(&db.write, c => sqlx::query_scalar::<_, i64>(sql).fetch_one(c).await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_share_sessions_and_send_each_notification_once() {
    let Some(tdb) = fresh_db(Backend::Postgres).await else {
        return;
    };
    let key = tdb.dir().join("vigie.key").display().to_string();
    let run = |args: &[&str], stdin: Option<&str>| {
        let mut child = Command::new(BIN)
            .arg("--db")
            .arg(&tdb.url)
            .args(args)
            .env("VIGIE_KEY_FILE", &key)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(s) = stdin {
            child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
        }
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    run(
        &[
            "import",
            "areas",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/demo/areas.csv"),
        ],
        None,
    );
    let password = "fleuve niger 2026 scale";
    let out = run(
        &[
            "user",
            "add",
            "chef",
            "--role",
            "admin",
            "--area",
            "ML",
            "--token",
            "--password-stdin",
        ],
        Some(password),
    );
    let token = out.lines().last().unwrap().trim().to_string();

    let seen: Arc<Mutex<Deliveries>> = Arc::default();
    let receiver = receivers(seen.clone()).await;
    let node_a = start_node(&tdb.url, &key, &receiver);
    let mut node_b = start_node(&tdb.url, &key, &receiver);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    // Who to warn, and a second level one minute later if nobody acknowledges (both nodes run escalations).
    let rule = serde_json::json!({"min_severity": 1, "area_code": "ML", "levels": [
        {"name": "Brigade", "phone": "76 00 00 01", "ack_minutes": 1}, {"name": "Préfet", "phone": "66 00 00 02", "ack_minutes": 600}]});
    let res = http
        .post(format!("{}/api/v1/escalation-rules", node_a.base))
        .bearer_auth(&token)
        .json(&rule)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    let hook = serde_json::json!({"url": format!("{receiver}/hook"), "events": ["report.created", "alert.raised", "alert.escalated"], "area_code": "ML"});
    let res = http
        .post(format!("{}/api/v1/webhooks", node_b.base))
        .bearer_auth(&token)
        .json(&hook)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());

    // A session opened on node A is honoured by node B, CSRF included; and B still refuses a form without it.
    let page = http
        .get(format!("{}/connexion", node_a.base))
        .send()
        .await
        .unwrap();
    let login_cookie = cookies_of(&page);
    let login_csrf = csrf_of(&page.text().await.unwrap());
    let res = http
        .post(format!("{}/connexion", node_a.base))
        .header("cookie", &login_cookie)
        .form(&[
            ("username", "chef"),
            ("password", password),
            ("csrf", &login_csrf),
            ("suite", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "sign-in on node A");
    let session = cookies_of(&res)
        .split("; ")
        .filter(|c| !c.ends_with('='))
        .collect::<Vec<_>>()
        .join("; ");
    assert!(!session.is_empty(), "a session cookie");
    let home = http
        .get(format!("{}/signalements/nouveau", node_b.base))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(home.status(), 200, "node B knows node A's session");
    let csrf = csrf_of(&home.text().await.unwrap());
    let form = [
        ("categorie", "displacement"),
        ("texte", "Familles déplacées vers Sévaré (formulaire)"),
        ("survenu", "2026-12-01T08:00"),
        ("zone", "ML-5-MOPTI"),
        ("lieu", ""),
        ("cle", "web-scaleout-1"),
    ];
    let res = http
        .post(format!("{}/signalements/nouveau", node_b.base))
        .header("cookie", &session)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        403,
        "node B refuses a form without the session's CSRF token"
    );
    let mut with_csrf = form.to_vec();
    with_csrf.push(("csrf", &csrf));
    let res = http
        .post(format!("{}/signalements/nouveau", node_b.base))
        .header("cookie", &session)
        .form(&with_csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        303,
        "node B accepts node A's session with its CSRF token"
    );
    // Read-your-writes across nodes: the page after the POST, asked of node A, shows the report.
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let after = http
        .get(format!("{}{location}", node_a.base))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 200, "{location} on node A");
    let store = vigie_storage::Db::connect(&tdb.url).await.unwrap();
    let reference: String = vigie_storage::run!(&store.write, c => sqlx::query_scalar("SELECT reference FROM reports WHERE idempotency_key LIKE '%web-scaleout-1'").fetch_one(c).await.unwrap());
    assert!(
        after.text().await.unwrap().contains(&reference),
        "node A shows the receipt of what node B just stored"
    );

    // Load: one node, then two, then two with node B killed (SIGKILL) and restarted.
    let load = Arc::new(Load::default());
    let http_load = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .pool_max_idle_per_host(4)
        .build()
        .unwrap();
    let rr = RoundRobin {
        nodes: Arc::new(Mutex::new(vec![node_a.base.clone()])),
        next: Arc::default(),
        http: http_load,
    };
    let one = drive(&rr, &token, &load, "one", 8, 6.0, async {}).await;
    *rr.nodes.lock().unwrap() = vec![node_a.base.clone(), node_b.base.clone()];
    let two = drive(&rr, &token, &load, "two", 8, 6.0, async {}).await;
    let key_b = key.clone();
    let url_b = tdb.url.clone();
    let killed_at: Arc<Mutex<Option<Instant>>> = Arc::default();
    let killed_at2 = killed_at.clone();
    let rr2 = rr.clone();
    let node_a_base = node_a.base.clone();
    let receiver2 = receiver.clone();
    let chaos = async move {
        tokio::time::sleep(Duration::from_millis(2500)).await;
        node_b.child.kill().unwrap(); // SIGKILL
        node_b.child.wait().unwrap();
        *killed_at2.lock().unwrap() = Some(Instant::now());
        tokio::time::sleep(Duration::from_millis(2000)).await;
        let b = tokio::task::spawn_blocking(move || start_node(&url_b, &key_b, &receiver2))
            .await
            .unwrap();
        *rr2.nodes.lock().unwrap() = vec![node_a_base, b.base.clone()];
        b
    };
    let (node_b_tx, node_b_rx) = tokio::sync::oneshot::channel();
    let with_kill = drive(&rr, &token, &load, "kill", 8, 8.0, async move {
        let _ = node_b_tx.send(chaos.await);
    })
    .await;
    let _node_b2 = node_b_rx.await.unwrap();
    let killed_at = killed_at.lock().unwrap().expect("node B was killed");
    let raised: HashSet<i64> = load.raised.lock().unwrap().clone();
    let acked = load.acked.lock().unwrap().clone();
    assert!(
        raised.len() >= 10,
        "the load raised alerts ({} of {} reports)",
        raised.len(),
        acked.len()
    );

    // Wait until every raised alert has escalated to its second level (≥ 1 minute after its
    // raise) and every queued notification has gone out.
    let waited = Instant::now();
    loop {
        let pending = count(
            &store,
            "SELECT COUNT(*) FROM jobs WHERE done_at IS NULL AND failed_at IS NULL",
        )
        .await;
        let escalated = count(
            &store,
            // The texts are sealed: an escalated alert is one with its second notification queued.
            "SELECT COUNT(*) FROM (SELECT alert_id FROM sms_outbox WHERE purpose = 'alert' GROUP BY alert_id HAVING COUNT(*) >= 2) e",
        )
        .await;
        if pending == 0 && escalated as usize >= raised.len() {
            break;
        }
        assert!(
            waited.elapsed() < Duration::from_secs(240),
            "{pending} jobs still pending, {escalated} of {} alerts escalated",
            raised.len()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;

    // The database's view: two SMS per raised alert (level 0, then the escalation), all sent.
    let per_alert: Vec<(i64, i64)> = vigie_storage::run!(&store.write, c => sqlx::query_as("SELECT alert_id, COUNT(*) FROM sms_outbox WHERE purpose = 'alert' GROUP BY alert_id").fetch_all(c).await.unwrap());
    let per_alert: BTreeMap<i64, i64> = per_alert.into_iter().collect();
    for a in &raised {
        assert_eq!(
            per_alert.get(a),
            Some(&2),
            "alert {a}: one SMS per level, the escalation queued once although both nodes run it"
        );
    }
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM sms_outbox WHERE status <> 'sent'"
        )
        .await,
        0,
        "every SMS sent"
    );
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM jobs WHERE failed_at IS NOT NULL"
        )
        .await,
        0,
        "no job given up"
    );
    let outbox: HashSet<i64> = vigie_storage::run!(&store.write, c => sqlx::query_scalar::<_, i64>("SELECT id FROM sms_outbox").fetch_all(c).await.unwrap()).into_iter().collect();
    let webhook_jobs: HashSet<i64> = vigie_storage::run!(&store.write, c => sqlx::query_scalar::<_, i64>("SELECT id FROM jobs WHERE queue = 'webhook'").fetch_all(c).await.unwrap()).into_iter().collect();

    // The receivers' view: each SMS and each webhook delivery arrived, and once.
    let seen = seen.lock().unwrap();
    let lease = Duration::from_secs(LEASE_SECONDS);
    let mut report = Vec::new();
    let mut unexplained = Vec::new();
    for (what, ids, expected) in [
        (
            "sms",
            seen.sms
                .iter()
                .map(|(id, _, _, t)| (*id, *t))
                .collect::<Vec<_>>(),
            &outbox,
        ),
        (
            "webhook",
            seen.hooks
                .iter()
                .map(|(id, _, _, t)| (*id, *t))
                .collect::<Vec<_>>(),
            &webhook_jobs,
        ),
    ] {
        let mut times: BTreeMap<i64, Vec<Instant>> = BTreeMap::new();
        for (id, t) in ids {
            times.entry(id).or_default().push(t);
        }
        let got: HashSet<i64> = times.keys().copied().collect();
        let lost: Vec<&i64> = expected.difference(&got).collect();
        assert!(
            lost.is_empty(),
            "{what}: {} never delivered, e.g. {:?}",
            lost.len(),
            &lost[..lost.len().min(5)]
        );
        let stray: Vec<&i64> = got.difference(expected).collect();
        assert!(
            stray.is_empty(),
            "{what}: deliveries of unknown ids {stray:?}"
        );
        for (id, t) in times.iter().filter(|(_, t)| t.len() > 1) {
            // Explained only as: first accepted before the kill, resent after the dead node's lease ran out.
            let in_window = t.len() == 2
                && t[0] <= killed_at
                && t[1] >= killed_at
                && t[1].duration_since(t[0]) + Duration::from_secs(2) >= lease;
            let line = format!(
                "{what} {id}: delivered {} times, {:?} apart, first {:?} before the SIGKILL",
                t.len(),
                t[1].duration_since(t[0]),
                killed_at.saturating_duration_since(t[0])
            );
            if in_window {
                report.push(line);
            } else {
                unexplained.push(line);
            }
        }
    }
    assert!(
        unexplained.is_empty(),
        "duplicates not explained by the kill: {unexplained:#?}"
    );
    // The killed node sends one SMS and one webhook at a time: at most one of each in its window.
    assert!(
        report.iter().filter(|l| l.starts_with("sms")).count() <= 1
            && report.iter().filter(|l| l.starts_with("webhook")).count() <= 1,
        "{report:#?}"
    );
    // Every acknowledged report and raise has its webhook.
    let events: HashSet<(String, i64)> = seen
        .hooks
        .iter()
        .map(|(_, e, id, _)| (e.clone(), *id))
        .collect();
    for (report_id, _) in &acked {
        assert!(
            events.contains(&("report.created".to_string(), *report_id)),
            "report {report_id} has its report.created webhook"
        );
    }
    for a in &raised {
        assert!(
            events.contains(&("alert.raised".to_string(), *a))
                && events.contains(&("alert.escalated".to_string(), *a)),
            "alert {a}: raised and escalated webhooks"
        );
    }
    eprintln!(
        "scale-out: {} reports acknowledged ({:.1}/s on one node, {:.1}/s on two, {:.1}/s with node B killed and restarted), {} alerts raised and escalated, {} SMS and {} webhooks delivered; duplicates in the ack-to-database window of the killed node: {}",
        acked.len(),
        one,
        two,
        with_kill,
        raised.len(),
        seen.sms.len(),
        seen.hooks.len(),
        if report.is_empty() { "none".to_string() } else { format!("{report:?}") }
    );
}

/// Runs a PostgreSQL program as the cluster's owner (`postgres` when the tests run as root,
/// as scripts/pg-test-cluster.sh does).
fn pg_command(program: &str, args: &[String]) -> std::process::Output {
    let root = String::from_utf8_lossy(&Command::new("id").arg("-u").output().unwrap().stdout)
        .trim()
        == "0";
    let mut c = if root {
        Command::new("runuser")
    } else {
        Command::new(program)
    };
    if root {
        c.args(["-u", "postgres", "--", program]);
    }
    let out = c.args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A private primary (scripts/pg-test-cluster.sh) and a streaming replica made from it with
/// `pg_basebackup -R` on a second loopback port; both removed on drop.
struct PrimaryAndReplica {
    primary_admin: String,
    replica_port: u16,
    dir: String,
    bin: String,
}

impl Drop for PrimaryAndReplica {
    fn drop(&mut self) {
        let _ = Command::new("runuser")
            .args([
                "-u",
                "postgres",
                "--",
                &format!("{}/pg_ctl", self.bin),
                "-D",
                &format!("{}/replica", self.dir),
                "-m",
                "immediate",
                "stop",
            ])
            .output();
        let _ = Command::new(&format!("{}/pg_ctl", self.bin))
            .args([
                "-D",
                &format!("{}/replica", self.dir),
                "-m",
                "immediate",
                "stop",
            ])
            .output();
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../scripts/pg-test-cluster.sh"
        );
        let _ = Command::new("bash")
            .arg(script)
            .arg("stop")
            .arg(&self.dir)
            .status();
    }
}

fn primary_and_replica() -> PrimaryAndReplica {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scripts/pg-test-cluster.sh"
    );
    let out = Command::new("bash")
        .arg(script)
        .arg("start")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let env: HashMap<String, String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            l.strip_prefix("export ")?
                .split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect();
    let cluster = PrimaryAndReplica {
        primary_admin: env["VIGIE_TEST_PG_URL"].clone(),
        replica_port: free_port(),
        dir: env["VIGIE_TEST_PG_DIR"].clone(),
        bin: env["VIGIE_TEST_PG_BIN"].clone(),
    };
    let primary_port = cluster
        .primary_admin
        .rsplit(':')
        .next()
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_string();
    // initdb's pg_hba.conf already lets 127.0.0.1 connect for replication (trust).
    let replica_dir = format!("{}/replica", cluster.dir);
    pg_command(
        &format!("{}/pg_basebackup", cluster.bin),
        &[
            "-h".into(),
            "127.0.0.1".into(),
            "-p".into(),
            primary_port,
            "-U".into(),
            "postgres".into(),
            "-D".into(),
            replica_dir.clone(),
            "-R".into(),
            "-X".into(),
            "stream".into(),
        ],
    );
    // A hot standby needs at least the primary's max_connections (400 in pg-test-cluster.sh).
    let opts = format!(
        "-p {} -k {} -c listen_addresses=127.0.0.1 -c hot_standby=on -c max_connections=400",
        cluster.replica_port, cluster.dir
    );
    pg_command(
        &format!("{}/pg_ctl", cluster.bin),
        &[
            "-D".into(),
            replica_dir.clone(),
            "-l".into(),
            format!("{}/replica.log", cluster.dir),
            "-w".into(),
            "-t".into(),
            "60".into(),
            "-o".into(),
            opts,
            "start".into(),
        ],
    );
    cluster
}

/// Posts one report and returns its id; it must be acknowledged (201).
async fn post_report(http: &reqwest::Client, base: &str, token: &str, key: &str) -> i64 {
    let body = serde_json::json!({"category": "displacement", "text": format!("déplacement {key}"), "occurred_at": chrono::Utc::now(), "area_code": "ML-5-KORO", "idempotency_key": key});
    let res = http
        .post(format!("{base}/api/v1/reports"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        201,
        "{}",
        res.text().await.unwrap_or_default()
    );
    res.json::<serde_json::Value>().await.unwrap()["report_id"]
        .as_i64()
        .unwrap()
}

async fn dashboard_total(http: &reqwest::Client, base: &str, token: &str) -> i64 {
    let res = http
        .get(format!(
            "{base}/api/v1/analytics/report-counts?level=country"
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let rows: Vec<serde_json::Value> = res.json().await.unwrap();
    rows.iter().map(|r| r["reports"].as_i64().unwrap()).sum()
}

/// `--db-read` sends dashboard reads to a streaming replica while writes and read-your-writes
/// paths stay on the primary. Proof: with replay paused on the replica, a new report is
/// answered (201), readable at once through the API and the receipt page, and absent from the
/// dashboard counts until replay resumes. Also measures the replica's lag under write load.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dashboard_reads_go_to_the_replica_and_writes_are_read_back_at_once() {
    if support::pg_admin_url().is_none() {
        return;
    }
    let cluster = primary_and_replica();
    let primary = vigie_storage::Db::connect(&cluster.primary_admin)
        .await
        .unwrap();
    vigie_storage::run!(&primary.write, c => { sqlx::query("CREATE DATABASE vigie").execute(c).await.unwrap(); });
    let db_url = format!(
        "{}/vigie",
        &cluster.primary_admin[..cluster.primary_admin.rfind('/').unwrap()]
    );
    let replica_url = format!(
        "postgres://postgres@127.0.0.1:{}/vigie",
        cluster.replica_port
    );
    let tmp = tempfile::tempdir().unwrap();
    let key = tmp.path().join("vigie.key").display().to_string();
    let run = |args: &[&str]| {
        let out = Command::new(BIN)
            .arg("--db")
            .arg(&db_url)
            .args(args)
            .env("VIGIE_KEY_FILE", &key)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    run(&[
        "import",
        "areas",
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/demo/areas.csv"),
    ]);
    let token = run(&[
        "user", "add", "analyste", "--role", "analyst", "--area", "ML", "--token",
    ])
    .lines()
    .last()
    .unwrap()
    .trim()
    .to_string();
    // Wait for the replica to have the database before pointing Vigie at it.
    let deadline = Instant::now() + Duration::from_secs(30);
    let replica = loop {
        if let Ok(r) = vigie_storage::Db::connect(&replica_url).await {
            break r;
        }
        assert!(
            Instant::now() < deadline,
            "replica never showed the new database"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let mut child = Command::new(BIN)
        .args([
            "--db",
            &db_url,
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--db-read",
            &replica_url,
        ])
        .env("VIGIE_KEY_FILE", &key)
        .env("VIGIE_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base = lines
        .next()
        .unwrap()
        .unwrap()
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .trim_end_matches('/')
        .to_string();
    std::thread::spawn(move || for _ in lines {});
    struct Kill(Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _server = Kill(child);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    post_report(&http, &base, &token, "replica-1").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while dashboard_total(&http, &base, &token).await != 1 {
        assert!(Instant::now() < deadline, "the replica never caught up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Replay paused: the replica stands still while the primary moves on.
    let replica_admin = vigie_storage::Db::connect(&format!(
        "postgres://postgres@127.0.0.1:{}/postgres",
        cluster.replica_port
    ))
    .await
    .unwrap();
    vigie_storage::run!(&replica_admin.write, c => { sqlx::query("SELECT pg_wal_replay_pause()").execute(c).await.unwrap(); });
    let new_id = post_report(&http, &base, &token, "replica-2").await;
    // Read-your-writes paths answer from the primary at once…
    let res = http
        .get(format!("{base}/api/v1/reports/{new_id}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        200,
        "the report just written is readable through the API at once"
    );
    let again = http.post(format!("{base}/api/v1/reports")).bearer_auth(&token).json(&serde_json::json!({"category": "displacement", "text": "déplacement replica-2", "occurred_at": chrono::Utc::now(), "area_code": "ML-5-KORO", "idempotency_key": "replica-2"})).send().await.unwrap();
    assert!(
        again.status().is_success(),
        "a resend is recognised (idempotency read on the primary)"
    );
    assert_eq!(
        again.json::<serde_json::Value>().await.unwrap()["report_id"].as_i64(),
        Some(new_id)
    );
    // …while the dashboard, read from the replica, does not see it yet (it would, were it reading the primary).
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        dashboard_total(&http, &base, &token).await,
        1,
        "dashboard counts come from the (paused) replica"
    );
    let vigie_primary = vigie_storage::Db::connect(&db_url).await.unwrap();
    let on_primary: i64 = vigie_storage::run!(&vigie_primary.write, c => sqlx::query_scalar("SELECT COUNT(*) FROM reports").fetch_one(c).await.unwrap());
    let on_replica: i64 = vigie_storage::run!(&replica.write, c => sqlx::query_scalar("SELECT COUNT(*) FROM reports").fetch_one(c).await.unwrap());
    assert_eq!(
        (on_primary, on_replica),
        (2, 1),
        "the primary has the new report, the paused replica not yet"
    );
    vigie_primary.close().await;
    vigie_storage::run!(&replica_admin.write, c => { sqlx::query("SELECT pg_wal_replay_resume()").execute(c).await.unwrap(); });
    let resumed = Instant::now();
    while dashboard_total(&http, &base, &token).await != 2 {
        assert!(
            resumed.elapsed() < Duration::from_secs(30),
            "the replica never caught up after resume"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let catch_up = resumed.elapsed();

    // Lag under write load: 8 writers for 5 s, the replica's replay position sampled every 50 ms.
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for w in 0..8 {
        let (stop, sent, http, base, token) = (
            stop.clone(),
            sent.clone(),
            http.clone(),
            base.clone(),
            token.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                i += 1;
                post_report(&http, &base, &token, &format!("lag-{w}-{i}")).await;
                sent.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }
    let started = Instant::now();
    let (mut max_bytes, mut samples, mut sum_bytes) = (0i64, 0i64, 0i64);
    while started.elapsed() < Duration::from_secs(5) {
        let lsn: String = vigie_storage::run!(&primary.write, c => sqlx::query_scalar("SELECT pg_current_wal_lsn()::text").fetch_one(c).await.unwrap());
        let behind: i64 = vigie_storage::run!(&replica.write, c => sqlx::query_scalar("SELECT pg_wal_lsn_diff($1::pg_lsn, pg_last_wal_replay_lsn())::bigint").bind(&lsn).fetch_one(c).await.unwrap());
        max_bytes = max_bytes.max(behind);
        sum_bytes += behind.max(0);
        samples += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.store(true, Ordering::SeqCst);
    for t in tasks {
        t.await.unwrap();
    }
    let written = sent.load(Ordering::SeqCst) as f64 / started.elapsed().as_secs_f64();
    // Time for the dashboard to show the last report after the load stops.
    let expected = 2 + sent.load(Ordering::SeqCst) as i64;
    let stopped = Instant::now();
    while dashboard_total(&http, &base, &token).await != expected {
        assert!(
            stopped.elapsed() < Duration::from_secs(30),
            "replica behind after the load"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!(
        "replica: catch-up after a paused replay {catch_up:?}; under {written:.0} reports/s: replay lag mean {} bytes, max {max_bytes} bytes ({samples} samples); dashboard complete {:?} after the last write",
        sum_bytes / samples.max(1),
        stopped.elapsed()
    );
    replica.close().await;
    replica_admin.close().await;
    primary.close().await;
}

/// The audit log (and reports and submissions) are partitioned by month on PostgreSQL: the
/// months ahead exist after start-up,
/// the upkeep job adds later ones once (several nodes may run it), entries land in their
/// month, and the hash chain reads across partitions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_log_is_partitioned_by_month_ahead_of_time() {
    use chrono::{Datelike, Months};
    let Some(tdb) = fresh_db(Backend::Postgres).await else {
        return;
    };
    let db = vigie_storage::Db::connect_and_migrate(&tdb.url)
        .await
        .unwrap();
    let now = chrono::Utc::now();
    let month = |m: u32| {
        (now.date_naive().with_day(1).unwrap() + Months::new(m))
            .format("audit_log_%Y_%m")
            .to_string()
    };
    let names = |parts: &[vigie_storage::partitions::Partition]| {
        parts
            .iter()
            .map(|p| p.partition.clone())
            .collect::<HashSet<_>>()
    };
    let parts = vigie_storage::partitions::list(&db).await.unwrap();
    for m in 0..=vigie_storage::partitions::MONTHS_AHEAD {
        assert!(
            names(&parts).contains(&month(m)),
            "{} made at start-up: {parts:?}",
            month(m)
        );
    }
    for table in vigie_storage::partitions::TABLES {
        assert!(
            parts
                .iter()
                .any(|p| p.partition == format!("{table}_default") && p.bounds == "DEFAULT"),
            "{table}: {parts:?}"
        );
        let this_month = month(0).replace("audit_log", table);
        assert!(
            parts.iter().any(|p| p.partition == this_month),
            "{this_month}: {parts:?}"
        );
    }

    // Entries of this month go to this month's partition, not the default one.
    let out = Command::new(BIN)
        .arg("--db")
        .arg(&tdb.url)
        .args([
            "import",
            "areas",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/demo/areas.csv"),
        ])
        .env("VIGIE_KEY_FILE", tdb.dir().join("k"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let parts = vigie_storage::partitions::list(&db).await.unwrap();
    let rows_in = |name: &str| {
        parts
            .iter()
            .find(|p| p.partition == name)
            .map(|p| p.rows)
            .unwrap()
    };
    assert!(rows_in(&month(0)) > 0, "{parts:?}");
    assert_eq!(rows_in("audit_log_default"), 0);

    // The upkeep job, a year on, run by two nodes at once: each month made once.
    let later = now + chrono::Duration::days(400);
    let (a, b) = tokio::join!(
        vigie_storage::partitions::ensure_ahead(&db, later),
        vigie_storage::partitions::ensure_ahead(&db, later)
    );
    let made = a.unwrap() + b.unwrap();
    let parts = vigie_storage::partitions::list(&db).await.unwrap();
    let expected_new = (0..=vigie_storage::partitions::MONTHS_AHEAD)
        .map(|m| {
            (later.date_naive().with_day(1).unwrap() + Months::new(m))
                .format("audit_log_%Y_%m")
                .to_string()
        })
        .filter(|n| !(0..=vigie_storage::partitions::MONTHS_AHEAD).any(|m| &month(m) == n))
        .count() as i32;
    // The same months for each partitioned table (audit log, reports, submissions).
    let tables = vigie_storage::partitions::TABLES.len() as i32;
    assert_eq!(made, expected_new * tables, "{parts:?}");
    assert_eq!(
        vigie_storage::partitions::ensure_ahead(&db, later)
            .await
            .unwrap(),
        0,
        "nothing twice"
    );
    let v = vigie_storage::audit::verify(&db).await.unwrap();
    assert!(v.broken.is_none() && v.entries > 0, "{v:?}");
    db.close().await;
}

/// Upgrading a PostgreSQL database written before migration 0022 moves its reports and
/// submissions into their months' partitions: nothing lost, ids and keys kept, the id sequences
/// carry on, and the resend of a stored key is still recognised.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_and_submissions_of_an_older_version_move_into_month_partitions() {
    let Some(tdb) = fresh_db(Backend::Postgres).await else {
        return;
    };
    // The schema as the previous version left it (migrations up to 0021).
    let dir = std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../storage/migrations/postgres"
    ));
    let mut old = sqlx::migrate::Migrator::new(dir).await.unwrap();
    old.migrations = std::borrow::Cow::Owned(
        old.migrations
            .iter()
            .filter(|m| m.version < 22)
            .cloned()
            .collect(),
    );
    let pool = sqlx::PgPool::connect(&tdb.url).await.unwrap();
    old.run(&pool).await.unwrap();
    // 40 reports over three years, each with its ODK submission (the previous version's rows).
    for sql in [
        "INSERT INTO categories (code, label_fr, label_en, family, default_severity, protected) VALUES ('old_cat', 'x', 'x', 'x', 2, FALSE)",
        "INSERT INTO areas (code, level, depth, name, path, created_at, updated_at) VALUES ('ML', 'country', 0, 'Mali', 'ML', now(), now())",
        "INSERT INTO forms (form_id, title, purpose, xml, md5, area_code, created_at) VALUES ('f', 'f', 'incident', ''::bytea, '', 'ML', now())",
    ] {
        sqlx::query(sql).execute(&pool).await.unwrap();
    }
    for i in 0..40i64 {
        let at = chrono::Utc::now() - chrono::Duration::days(i * 28);
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO reports (idempotency_key, reference, received_at, occurred_at, category_code, severity, text, reporter_kind, channel, language) \
             VALUES ($1, $2, $3, $3, 'old_cat', 2, 'x', 'focal_point', 'api', 'fr') RETURNING id",
        )
        .bind(format!("old-{i}"))
        .bind(format!("OLD{i:05}"))
        .bind(at)
        .fetch_one(&pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO submissions (form_pk, instance_id, xml, data, report_id, received_at) \
             SELECT id, $1, ''::bytea, '{}', $2, $3 FROM forms",
        )
        .bind(format!("uuid:old-{i}"))
        .bind(id)
        .bind(at)
        .execute(&pool)
        .await
        .unwrap();
    }
    let before: Vec<(i64, String, String)> =
        sqlx::query_as("SELECT id, idempotency_key, reference FROM reports ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap();
    pool.close().await;

    let db = vigie_storage::Db::connect_and_migrate(&tdb.url)
        .await
        .unwrap();
    let vigie_storage::Pool::Postgres(p) = &db.write else {
        unreachable!()
    };
    let after: Vec<(i64, String, String)> =
        sqlx::query_as("SELECT id, idempotency_key, reference FROM reports ORDER BY id")
            .fetch_all(p)
            .await
            .unwrap();
    assert_eq!(after, before, "every report kept, same id and keys");
    let keys: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM report_keys")
        .fetch_one(p)
        .await
        .unwrap();
    assert_eq!(keys, 40);
    let in_default: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM reports_default")
        .fetch_one(p)
        .await
        .unwrap();
    assert_eq!(in_default, 0, "each report in its month's partition");
    let months: i64 = sqlx::query_scalar(
        "SELECT COUNT(DISTINCT tableoid) FROM reports",
    )
    .fetch_one(p)
    .await
    .unwrap();
    assert!(months >= 36, "{months} partitions hold the 40 reports");
    // New ids carry on after the old ones; a stored key is still taken.
    let next: i64 = sqlx::query_scalar(
        "INSERT INTO reports (idempotency_key, reference, received_at, occurred_at, category_code, severity, text, reporter_kind, channel, language) \
         VALUES ('new-1', 'NEW00001', now(), now(), 'old_cat', 2, 'x', 'focal_point', 'api', 'fr') RETURNING id",
    )
    .fetch_one(p)
    .await
    .unwrap();
    assert!(next > before.last().unwrap().0);
    let dup = sqlx::query(
        "INSERT INTO reports (idempotency_key, reference, received_at, occurred_at, category_code, severity, text, reporter_kind, channel, language) \
         VALUES ('old-39', 'NEW00002', now(), now(), 'old_cat', 2, 'x', 'focal_point', 'api', 'fr')",
    )
    .execute(p)
    .await
    .expect_err("a key stored three years ago is still taken");
    assert!(dup.as_database_error().is_some_and(|e| e.is_unique_violation()), "{dup}");
    // Submissions: kept with their links, in their months; a resent instanceID stores nothing.
    let (subs, linked, in_default): (i64, i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), COUNT(*) FILTER (WHERE report_id IN (SELECT id FROM report_keys)), \
         (SELECT COUNT(*) FROM submissions_default) FROM submissions",
    )
    .fetch_one(p)
    .await
    .unwrap();
    assert_eq!((subs, linked, in_default), (40, 40, 0));
    let resent: Option<i64> = sqlx::query_scalar(
        "INSERT INTO submissions (form_pk, instance_id, xml, data, received_at) \
         SELECT id, 'uuid:old-39', ''::bytea, '{}', now() FROM forms ON CONFLICT DO NOTHING RETURNING id",
    )
    .fetch_optional(p)
    .await
    .unwrap();
    assert_eq!(resent, None, "a resend of a submission stored three years ago");
    db.close().await;
}
