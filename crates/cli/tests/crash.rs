//! Crash safety: a server under load is killed with SIGKILL at seeded random moments, 20 times,
//! and restarted; every report whose submission was acknowledged (2xx) must be there exactly
//! once, and everything stored must be whole (its audit entry written with it, the chain intact).
//! Then the PostgreSQL server itself is killed under load (a private cluster) and brought back.
//! Queued outbound SMS get the same treatment: each is delivered to the gateway at least once,
//! and never again once the gateway's acknowledgement is recorded.

#[path = "../../server/tests/support/mod.rs"]
mod support;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use support::{fresh_db, Backend};

const BIN: &str = env!("CARGO_BIN_EXE_vigie");

fn key_file(dir: &std::path::Path) -> String {
    dir.join("vigie.key").display().to_string()
}

fn start(db: &str, key: &str) -> (Child, String) {
    let mut child = Command::new(BIN)
        .args(["--db", db, "serve", "--addr", "127.0.0.1:0"])
        .env("VIGIE_KEY_FILE", key)
        .env("VIGIE_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let base = first.split_whitespace().find(|w| w.starts_with("http://")).unwrap().trim_end_matches('/').to_string();
    std::thread::spawn(move || for _ in lines {});
    (child, base)
}

/// A small deterministic generator, so a failing run can be replayed.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

macro_rules! both {
    ($($name:ident),*) => {$(
        mod $name {
            use super::support::Backend;
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() { super::$name(Backend::Sqlite).await }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() { super::$name(Backend::Postgres).await }
        }
    )*};
}

both!(acknowledged_reports_survive_kill_9, queued_sms_are_sent_once_across_kill_9, a_cli_import_while_the_server_writes);

async fn acknowledged_reports_survive_kill_9(b: Backend) {
    let Some(db) = fresh_db(b).await else { return };
    let key = key_file(db.dir());
    let areas = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/demo/areas.csv");
    let run = |args: &[&str]| Command::new(BIN).arg("--db").arg(&db.url).args(args).env("VIGIE_KEY_FILE", &key).output().unwrap();
    assert!(run(&["import", "areas", areas]).status.success());
    let out = run(&["user", "add", "relais", "--role", "analyst", "--area", "ML", "--token"]);
    let token = String::from_utf8_lossy(&out.stdout).lines().last().unwrap().trim().to_string();

    let seed = std::env::var("VIGIE_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(20261123u64);
    let mut rng = Lcg(seed);
    let acked: Arc<Mutex<HashSet<String>>> = Arc::default();
    let sent = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let http = reqwest::Client::builder().timeout(std::time::Duration::from_secs(5)).pool_max_idle_per_host(0).build().unwrap();
    let areas_pool = ["ML-5-KORO", "ML-5-MOPTI", "ML-4-SEGOU", "ML-7-GAO", "ML-1-DIEMA"];
    for round in 0..20 {
        let (mut child, base) = start(&db.url, &key);
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut tasks = Vec::new();
        for w in 0..8 {
            let (http, base, token, acked, stop, sent) = (http.clone(), base.clone(), token.clone(), acked.clone(), stop.clone(), sent.clone());
            let area = areas_pool[w % areas_pool.len()];
            tasks.push(tokio::spawn(async move {
                let mut i = 0;
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    let k = format!("crash-{round}-{w}-{i}");
                    i += 1;
                    sent.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let body = serde_json::json!({"category": "displacement", "text": format!("déplacement {k}"), "occurred_at": chrono::Utc::now(), "area_code": area, "idempotency_key": k});
                    match http.post(format!("{base}/api/v1/reports")).bearer_auth(&token).json(&body).send().await {
                        Ok(r) if r.status().is_success() => {
                            acked.lock().unwrap().insert(k);
                        }
                        Ok(_) | Err(_) => {
                            if stop.load(std::sync::atomic::Ordering::SeqCst) {
                                break;
                            }
                            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                        }
                    }
                }
            }));
        }
        tokio::time::sleep(std::time::Duration::from_millis(80 + rng.next(400))).await;
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        for t in tasks {
            t.await.unwrap();
        }
    }
    // Restart once more (recovery runs), then check.
    let (mut child, _base) = start(&db.url, &key);
    child.kill().unwrap();
    child.wait().unwrap();
    let store = vigie_storage::Db::connect(&db.url).await.unwrap();
    let rows: Vec<(String, i64)> = vigie_storage::run!(&store.read, c => sqlx::query_as("SELECT idempotency_key, COUNT(*) FROM reports GROUP BY idempotency_key").fetch_all(c).await.unwrap());
    let stored: HashSet<String> = rows.iter().map(|(k, _)| k.clone()).collect();
    assert!(rows.iter().all(|(_, n)| *n == 1), "a report stored twice");
    let acked = acked.lock().unwrap().clone();
    let lost: Vec<&String> = acked.iter().filter(|k| !stored.contains(*k)).collect();
    assert!(lost.is_empty(), "{} acknowledged reports lost, e.g. {:?}", lost.len(), &lost[..lost.len().min(5)]);
    assert!(acked.len() >= 20, "the load really ran ({} acknowledged of {} sent)", acked.len(), sent.load(std::sync::atomic::Ordering::SeqCst));
    // Whatever was stored is whole: one audit entry per report, and the chain verifies.
    let audited: i64 = vigie_storage::run!(&store.read, c => sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'report.create'").fetch_one(c).await.unwrap());
    assert_eq!(audited as usize, stored.len());
    let v = vigie_storage::audit::verify(&store).await.unwrap();
    assert!(v.broken.is_none(), "{:?}", v.broken);
    eprintln!("crash test ({b:?}, seed {seed}): 20 kills, {} acknowledged, {} stored, {} sent", acked.len(), stored.len(), sent.load(std::sync::atomic::Ordering::SeqCst));
}

/// The database server itself dies (SIGKILL of the PostgreSQL postmaster, in a private cluster
/// started for this test) while reports come in, and comes back: Vigie keeps running, refuses
/// what it cannot store (never acknowledges it), reconnects, and every acknowledged report is
/// there exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_reports_survive_a_postgres_kill_9() {
    if support::pg_admin_url().is_none() {
        return;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/pg-test-cluster.sh");
    let out = Command::new("bash").arg(script).arg("start").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let env: std::collections::HashMap<String, String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("export ")?.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())))
        .collect();
    let (admin_url, dir, bin) = (env["VIGIE_TEST_PG_URL"].clone(), env["VIGIE_TEST_PG_DIR"].clone(), env["VIGIE_TEST_PG_BIN"].clone());
    struct Cluster(String);
    impl Drop for Cluster {
        fn drop(&mut self) {
            let _ = Command::new("bash").arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/pg-test-cluster.sh")).args(["stop", &self.0]).output();
        }
    }
    let _cluster = Cluster(dir.clone());
    let port = admin_url.rsplit(':').next().unwrap().split('/').next().unwrap().to_string();
    let url = format!("{}/vigie_crash", &admin_url[..admin_url.rfind('/').unwrap()]);
    let admin = vigie_storage::Db::connect(&admin_url).await.unwrap();
    vigie_storage::run!(&admin.write, c => { sqlx::query("CREATE DATABASE vigie_crash").execute(c).await.unwrap(); });
    admin.close().await;

    let tmp = tempfile::tempdir().unwrap();
    let key = key_file(tmp.path());
    let run = |args: &[&str]| Command::new(BIN).arg("--db").arg(&url).args(args).env("VIGIE_KEY_FILE", &key).output().unwrap();
    assert!(run(&["import", "areas", concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/demo/areas.csv")]).status.success());
    let out = run(&["user", "add", "relais", "--role", "analyst", "--area", "ML", "--token"]);
    let token = String::from_utf8_lossy(&out.stdout).lines().last().unwrap().trim().to_string();
    let (mut child, base) = start(&url, &key);

    let acked: Arc<Mutex<HashSet<String>>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let http = reqwest::Client::builder().timeout(std::time::Duration::from_secs(5)).build().unwrap();
    let mut tasks = Vec::new();
    for w in 0..4 {
        let (http, base, token, acked, stop) = (http.clone(), base.clone(), token.clone(), acked.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let k = format!("pgkill-{w}-{i}");
                i += 1;
                let body = serde_json::json!({"category": "displacement", "text": format!("déplacement {k}"), "occurred_at": chrono::Utc::now(), "area_code": "ML-5-KORO", "idempotency_key": k});
                if let Ok(r) = http.post(format!("{base}/api/v1/reports")).bearer_auth(&token).json(&body).send().await {
                    if r.status().is_success() {
                        acked.lock().unwrap().insert(k);
                    }
                }
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let before_kill = acked.lock().unwrap().len();
    // SIGKILL the postmaster (its pid is the first line of postmaster.pid).
    let pid = std::fs::read_to_string(format!("{dir}/data/postmaster.pid")).unwrap().lines().next().unwrap().trim().to_string();
    // The whole server dies at once, as in a power cut: the postmaster and its backends (a
    // backend left alive keeps the shared memory attached and the new postmaster refuses to start).
    let children = String::from_utf8_lossy(&Command::new("pgrep").args(["-P", &pid]).output().unwrap().stdout).to_string();
    let mut victims: Vec<&str> = children.split_whitespace().collect();
    victims.insert(0, &pid);
    assert!(Command::new("kill").arg("-9").args(&victims).status().unwrap().success());
    let gone = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while victims.iter().any(|p| std::path::Path::new(&format!("/proc/{p}")).exists()) && std::time::Instant::now() < gone {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    // Back up (crash recovery replays the WAL), same port and socket directory.
    let opts = format!("-p {port} -k {dir} -c listen_addresses=127.0.0.1");
    // As root the cluster runs as `postgres` (see scripts/pg-test-cluster.sh).
    let root = String::from_utf8_lossy(&Command::new("id").arg("-u").output().unwrap().stdout).trim() == "0";
    let pg_args = [format!("{bin}/pg_ctl"), "-D".into(), format!("{dir}/data"), "-l".into(), format!("{dir}/server.log"), "-w".into(), "-t".into(), "60".into(), "-o".into(), opts, "start".into()];
    let mut pg_ctl = if root { Command::new("runuser") } else { Command::new(&pg_args[0]) };
    if root {
        pg_ctl.args(["-u", "postgres", "--"]).args(&pg_args);
    } else {
        pg_ctl.args(&pg_args[1..]);
    }
    let st = pg_ctl.output().unwrap();
    assert!(st.status.success(), "pg_ctl start: {}", String::from_utf8_lossy(&st.stderr));
    // Vigie serves again without a restart: new reports are acknowledged.
    let after_restart = acked.lock().unwrap().len();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while acked.lock().unwrap().len() < after_restart + 20 {
        assert!(std::time::Instant::now() < deadline, "Vigie did not recover after PostgreSQL came back");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    for t in tasks {
        t.await.unwrap();
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let store = vigie_storage::Db::connect(&url).await.unwrap();
    let rows: Vec<(String, i64)> = vigie_storage::run!(&store.read, c => sqlx::query_as("SELECT idempotency_key, COUNT(*) FROM reports GROUP BY idempotency_key").fetch_all(c).await.unwrap());
    assert!(rows.iter().all(|(_, n)| *n == 1), "a report stored twice");
    let stored: HashSet<String> = rows.into_iter().map(|(k, _)| k).collect();
    let acked = acked.lock().unwrap().clone();
    let lost: Vec<&String> = acked.iter().filter(|k| !stored.contains(*k)).collect();
    assert!(lost.is_empty(), "{} acknowledged reports lost after the PostgreSQL kill, e.g. {:?}", lost.len(), &lost[..lost.len().min(5)]);
    assert!(before_kill >= 5, "the load ran before the kill ({before_kill})");
    let v = vigie_storage::audit::verify(&store).await.unwrap();
    assert!(v.broken.is_none(), "{:?}", v.broken);
    store.close().await;
    eprintln!("postgres kill test: {before_kill} acknowledged before the kill, {} in all, {} stored, 0 lost", acked.len(), stored.len());
}

/// One request that reached the SMS gateway: the outbox id (from the delivery-report URL Vigie
/// passes with every message), whether the database already said "sent" when it arrived (a
/// send after the recorded acknowledgement: must never happen), and how long after the gateway's
/// answer the database recorded the message as sent (the window in which a kill duplicates).
struct Delivery {
    outbox_id: i64,
    already_sent: bool,
    ack_to_record_ms: Option<f64>,
}

/// The gateway on loopback, answering like Kannel's sendsms (`202`, "0: Accepted for
/// delivery"), after a short seeded delay (a real gateway takes a few milliseconds, and the
/// kills should land while requests are in flight). It is the receiver, not a stand-in for Vigie.
async fn sms_gateway(
    listener: tokio::net::TcpListener,
    store: Arc<vigie_storage::Db>,
    log: Arc<Mutex<Vec<Delivery>>>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    loop {
        let Ok((mut sock, _)) = listener.accept().await else {
            return;
        };
        let (store, log) = (store.clone(), log.clone());
        tokio::spawn(async move {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                match sock.read(&mut chunk).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            let head = String::from_utf8_lossy(&buf).to_string();
            let target = head.split_whitespace().nth(1).unwrap_or("/").to_string();
            let url = reqwest::Url::parse(&format!("http://gateway{target}")).unwrap();
            let dlr = url
                .query_pairs()
                .find(|(k, _)| k == "dlr-url")
                .map(|(_, v)| v.to_string())
                .expect("Vigie passes a dlr-url");
            let outbox_id: i64 = reqwest::Url::parse(&dlr)
                .unwrap()
                .query_pairs()
                .find(|(k, _)| k == "out")
                .unwrap()
                .1
                .parse()
                .unwrap();
            let status = || async {
                let s: String = vigie_storage::run!(&store.read, c => sqlx::query_scalar("SELECT status FROM sms_outbox WHERE id = $1").bind(outbox_id).fetch_one(c).await.unwrap());
                s
            };
            let already_sent = status().await == "sent";
            tokio::time::sleep(std::time::Duration::from_millis(
                2 + (outbox_id as u64 * 7919) % 9,
            ))
            .await;
            let body = "0: Accepted for delivery";
            let answer = format!("HTTP/1.1 202 Accepted\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
            let answered =
                sock.write_all(answer.as_bytes()).await.is_ok() && sock.shutdown().await.is_ok();
            let t0 = std::time::Instant::now();
            let mut ack_to_record_ms = None;
            while answered && t0.elapsed() < std::time::Duration::from_secs(2) {
                if status().await == "sent" {
                    ack_to_record_ms = Some(t0.elapsed().as_secs_f64() * 1000.0);
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_micros(500)).await;
            }
            log.lock().unwrap().push(Delivery {
                outbox_id,
                already_sent,
                ack_to_record_ms,
            });
        });
    }
}

fn start_with_gateway(db: &str, key: &str, gateway: &str) -> Child {
    let mut child = Command::new(BIN)
        .args(["--db", db, "serve", "--addr", "127.0.0.1:0"])
        .env("VIGIE_KEY_FILE", key)
        .env("VIGIE_LOG", "error")
        .env("VIGIE_SMS_SENDSMS_URL", gateway)
        .env("VIGIE_SMS_USER", "vigie")
        .env("VIGIE_SMS_PASSWORD", "crash-test")
        .env("VIGIE_SMS_KEY", "crash-dlr-key")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until it listens (the workers start just before), then drain its output.
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    lines.next().unwrap().unwrap();
    std::thread::spawn(move || for _ in lines {});
    child
}

/// Outbound SMS under SIGKILL: messages are queued while the server sends them to the gateway,
/// and the server is killed at 20 seeded random moments. At the end every queued message reached
/// the gateway at least once, none was sent after the database recorded the gateway's
/// acknowledgement, and the duplicates (kills between the gateway's answer and that record, or
/// with the request in flight) are counted and reported with the width of that window.
async fn queued_sms_are_sent_once_across_kill_9(b: Backend) {
    let Some(db) = fresh_db(b).await else { return };
    let key = key_file(db.dir());
    let keys = vigie_storage::crypto::Keyring::load_or_create(std::path::Path::new(&key)).unwrap();
    assert!(Command::new(BIN)
        .args(["--db", &db.url, "migrate"])
        .env("VIGIE_KEY_FILE", &key)
        .status()
        .unwrap()
        .success());
    let store = Arc::new(
        vigie_storage::Db::connect(&db.url)
            .await
            .unwrap()
            .with_keys(keys),
    );

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gateway = format!("http://{}/cgi-bin/sendsms", listener.local_addr().unwrap());
    let log: Arc<Mutex<Vec<Delivery>>> = Arc::default();
    tokio::spawn(sms_gateway(listener, store.clone(), log.clone()));

    let seed = std::env::var("VIGIE_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20261123u64);
    let mut rng = Lcg(seed);
    let queued: Arc<Mutex<Vec<i64>>> = Arc::default();
    let phone = vigie_domain::phone::Phone::parse("+22376000001").unwrap();
    let kills = 20;
    for round in 0..kills {
        let mut child = start_with_gateway(&db.url, &key, &gateway);
        // Messages keep arriving while the server runs (from this process: on SQLite a second
        // writer on the same file, as an alert raised by `vigie` on the command line would be).
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let producer = {
            let (store, queued, stop, phone) =
                (store.clone(), queued.clone(), stop.clone(), phone.clone());
            tokio::spawn(async move {
                let mut i = 0;
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    let mut tx = store.begin().await.unwrap();
                    let id = vigie_storage::sms::queue(
                        &mut tx,
                        &store,
                        &phone,
                        &format!("Vigie : message {round}-{i}"),
                        "crash_test",
                        None,
                    )
                    .await
                    .unwrap();
                    tx.commit().await.unwrap();
                    queued.lock().unwrap().push(id);
                    i += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(8)).await;
                }
            })
        };
        tokio::time::sleep(std::time::Duration::from_millis(80 + rng.next(400))).await;
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        producer.await.unwrap();
    }
    // A last start drains the queue: jobs a killed process had claimed come back when their
    // lease (60 s) runs out.
    let mut child = start_with_gateway(&db.url, &key, &gateway);
    let queued = queued.lock().unwrap().clone();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(240);
    loop {
        let left: i64 = vigie_storage::run!(&store.read, c => sqlx::query_scalar("SELECT COUNT(*) FROM sms_outbox WHERE status <> 'sent'").fetch_one(c).await.unwrap());
        if left == 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{left} messages still unsent after the final restart"
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    // Let the gateway's last records settle, then stop.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    child.kill().unwrap();
    child.wait().unwrap();

    let log = log.lock().unwrap();
    let mut times: std::collections::HashMap<i64, usize> = Default::default();
    for d in log.iter() {
        *times.entry(d.outbox_id).or_default() += 1;
    }
    let missing: Vec<&i64> = queued.iter().filter(|id| !times.contains_key(id)).collect();
    assert!(
        missing.is_empty(),
        "{} queued messages never reached the gateway, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    let after_record: Vec<i64> = log
        .iter()
        .filter(|d| d.already_sent)
        .map(|d| d.outbox_id)
        .collect();
    assert!(
        after_record.is_empty(),
        "sent again after the acknowledgement was recorded: {after_record:?}"
    );
    let stored: i64 = vigie_storage::run!(&store.read, c => sqlx::query_scalar("SELECT COUNT(*) FROM sms_outbox").fetch_one(c).await.unwrap());
    assert_eq!(
        stored as usize,
        queued.len(),
        "every committed message is in the outbox"
    );
    assert!(
        queued.len() >= 100,
        "the load really ran ({} queued)",
        queued.len()
    );
    let duplicated = times.values().filter(|n| **n > 1).count();
    let extra: usize = times.values().map(|n| n - 1).sum();
    let mut windows: Vec<f64> = log.iter().filter_map(|d| d.ack_to_record_ms).collect();
    windows.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let pct = |p: f64| {
        windows
            .get(((windows.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or(f64::NAN)
    };
    eprintln!(
        "outbound crash test ({b:?}, seed {seed}): {kills} kills, {} queued, {} deliveries, {} sent twice or more ({extra} extra), 0 after a recorded ack; gateway answer → recorded sent: median {:.1} ms, p99 {:.1} ms, max {:.1} ms over {} sends",
        queued.len(),
        log.len(),
        duplicated,
        pct(0.5),
        pct(0.99),
        pct(1.0),
        windows.len()
    );
    store.close().await;
}

/// Two writers on one database: `vigie import areas` (one transaction that reads then writes
/// every row) runs again and again while the server stores reports. On SQLite a transaction that
/// began deferred could fail with SQLITE_BUSY half-way (its read snapshot went stale); with
/// `BEGIN IMMEDIATE` each side waits for the other. Nothing fails, nothing is lost.
async fn a_cli_import_while_the_server_writes(b: Backend) {
    let Some(db) = fresh_db(b).await else { return };
    let key = key_file(db.dir());
    let areas = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/demo/areas.csv"
    ))
    .unwrap();
    let csv = db.dir().join("zones.csv");
    std::fs::write(&csv, &areas).unwrap();
    let run = |args: &[&str]| {
        Command::new(BIN)
            .arg("--db")
            .arg(&db.url)
            .args(args)
            .env("VIGIE_KEY_FILE", &key)
            .output()
            .unwrap()
    };
    assert!(run(&["import", "areas", csv.to_str().unwrap()])
        .status
        .success());
    let out = run(&[
        "user", "add", "relais", "--role", "analyst", "--area", "ML", "--token",
    ]);
    let token = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_string();
    let (mut child, base) = start(&db.url, &key);

    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let refused: Arc<Mutex<Vec<String>>> = Arc::default();
    let acked = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap();
    let mut tasks = Vec::new();
    for w in 0..4 {
        let (http, base, token, stop, refused, acked) = (
            http.clone(),
            base.clone(),
            token.clone(),
            stop.clone(),
            refused.clone(),
            acked.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let k = format!("writer-{w}-{i}");
                i += 1;
                let body = serde_json::json!({"category": "displacement", "text": format!("déplacement {k}"), "occurred_at": chrono::Utc::now(), "area_code": "ML-5-KORO", "idempotency_key": k});
                let r = http.post(format!("{base}/api/v1/reports")).bearer_auth(&token).json(&body).send().await.unwrap();
                if r.status().is_success() {
                    acked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                } else {
                    let why = format!("{k}: {} {}", r.status(), r.text().await.unwrap_or_default());
                    refused.lock().unwrap().push(why);
                }
            }
        }));
    }
    // Each import renames every area, so every row of its transaction reads then writes.
    let imports = 8;
    for round in 0..imports {
        let renamed: String = areas
            .lines()
            .enumerate()
            .map(|(i, l)| {
                // The name is the fourth column (no quoted fields in this file).
                let mut f: Vec<String> = l.split(',').map(str::to_string).collect();
                if i > 0 {
                    f[3] = format!("{} ({round})", f[3]);
                }
                format!("{}\n", f.join(","))
            })
            .collect();
        std::fs::write(&csv, renamed).unwrap();
        let o = run(&["import", "areas", csv.to_str().unwrap()]);
        assert!(
            o.status.success(),
            "import {round} failed while the server wrote: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    for t in tasks {
        t.await.unwrap();
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let refused = refused.lock().unwrap();
    assert!(
        refused.is_empty(),
        "{} reports refused while the import ran, e.g. {:?}",
        refused.len(),
        &refused[..refused.len().min(3)]
    );
    let acked = acked.load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        acked >= 20,
        "the server really wrote during the imports ({acked})"
    );
    let store = vigie_storage::Db::connect(&db.url).await.unwrap();
    let stored: i64 = vigie_storage::run!(&store.read, c => sqlx::query_scalar("SELECT COUNT(*) FROM reports").fetch_one(c).await.unwrap());
    assert_eq!(stored as usize, acked);
    let renamed: i64 = vigie_storage::run!(&store.read, c => sqlx::query_scalar("SELECT COUNT(*) FROM areas WHERE name LIKE $1").bind(format!("% ({})", imports - 1)).fetch_one(c).await.unwrap());
    assert!(renamed > 0, "the last import was applied");
    store.close().await;
    eprintln!("second writer ({b:?}): {imports} imports while the server stored {acked} reports, 0 refused");
}
