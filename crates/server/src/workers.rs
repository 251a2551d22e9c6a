//! Background workers: they take jobs from the database queue (see `vigie_storage::jobs`), so
//! any number of app nodes can run them and a restart loses nothing. Each `run_*_once` does one
//! round and is what tests call; `spawn` loops them.

use crate::{AppState, SmsGateway};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::Duration as StdDuration;
use vigie_storage::{auto_raise, jobs, sms, wakeup, webhooks, StoreResult};

/// A name for this process in job leases (host + pid).
pub fn worker_id() -> String {
    format!("{}:{}", std::env::var("HOSTNAME").unwrap_or_else(|_| "vigie".into()), std::process::id())
}

fn http() -> reqwest::Client {
    reqwest::Client::builder().timeout(StdDuration::from_secs(10)).connect_timeout(StdDuration::from_secs(5)).build().expect("http client")
}

/// How long an idle worker waits for a wake-up before looking anyway (delayed retries, a lost
/// notification): queued work normally starts at once (see `vigie_storage::wakeup`).
const FALLBACK_POLL: StdDuration = StdDuration::from_secs(2);

/// Starts the loops; they stop when the runtime stops.
pub fn spawn(state: AppState) {
    let worker = worker_id();
    let client = http();
    wakeup::listen(&state.db);
    {
        let (s, w) = (state.clone(), worker.clone());
        tokio::spawn(async move {
            loop {
                let n = run_auto_raise_once(&s, &w).await.unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "auto-raise worker");
                    0
                });
                if n == 0 {
                    wakeup::wait(auto_raise::QUEUE, FALLBACK_POLL).await;
                }
            }
        });
    }
    {
        let (s, w, c) = (state.clone(), worker.clone(), client.clone());
        tokio::spawn(async move {
            loop {
                let n = match &s.config.sms_gateway {
                    Some(g) => run_sms_once(&s, g, &c, &w).await.unwrap_or_else(|e| {
                        tracing::warn!(error = %e, "sms worker");
                        0
                    }),
                    None => 0,
                };
                if n == 0 {
                    wakeup::wait(sms::QUEUE, FALLBACK_POLL).await;
                }
            }
        });
    }
    {
        let (s, w, c) = (state.clone(), worker.clone(), client);
        tokio::spawn(async move {
            loop {
                let n = run_webhooks_once(&s, &c, &w).await.unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "webhook worker");
                    0
                });
                if n == 0 {
                    wakeup::wait(webhooks::QUEUE, FALLBACK_POLL).await;
                }
            }
        });
    }
    {
        // Months ahead of the partitioned tables (PostgreSQL); start-up made them too.
        let s = state.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(StdDuration::from_secs(6 * 3600)).await;
                if let Err(e) = vigie_storage::partitions::ensure_ahead(&s.db, s.now()).await {
                    tracing::warn!(error = %e, "partition upkeep");
                }
            }
        });
    }
    tokio::spawn(async move {
        loop {
            if let Err(e) = vigie_storage::alerts::escalate_due(&state.db, state.now()).await {
                tracing::warn!(error = %e, "escalation check");
            }
            tokio::time::sleep(StdDuration::from_secs(5)).await;
        }
    });
}

/// Raises the alerts that intake queued for an auto-raise rule (see `vigie_storage::auto_raise`).
/// Returns how many jobs it took.
pub async fn run_auto_raise_once(s: &AppState, worker: &str) -> StoreResult<usize> {
    let batch = jobs::claim(&s.db, auto_raise::QUEUE, worker, 20, s.config.job_lease, s.now()).await?;
    let n = batch.len();
    for job in batch {
        let p: serde_json::Value = serde_json::from_str(&job.payload).unwrap_or_default();
        let (alert, report) = (p["alert_id"].as_i64().unwrap_or(-1), p["report_id"].as_i64().unwrap_or(-1));
        match auto_raise::raise(&s.db, alert, report, s.now()).await {
            Ok(_) => {
                jobs::complete(&s.db, job.id, worker).await?;
            }
            Err(e) => jobs::fail(&s.db, &job, worker, &e.to_string(), s.now()).await?,
        }
    }
    Ok(n)
}

/// Sends queued SMS through the gateway. Returns how many jobs it took.
pub async fn run_sms_once(s: &AppState, g: &SmsGateway, client: &reqwest::Client, worker: &str) -> StoreResult<usize> {
    let batch = jobs::claim(&s.db, sms::QUEUE, worker, 20, s.config.job_lease, s.now()).await?;
    let n = batch.len();
    for job in batch {
        let outbox_id = serde_json::from_str::<serde_json::Value>(&job.payload).ok().and_then(|p| p["outbox_id"].as_i64()).unwrap_or(-1);
        let msg = match sms::outgoing(&s.db, outbox_id).await {
            Ok(m) => m,
            Err(e) => {
                jobs::fail(&s.db, &job, worker, &e.to_string(), s.now()).await?;
                continue;
            }
        };
        if msg.status != "queued" {
            // Sent already (a lease ran out after the send): never send twice.
            jobs::complete(&s.db, job.id, worker).await?;
            continue;
        }
        if !jobs::renew(&s.db, job.id, worker, s.config.job_lease, s.now()).await? {
            continue; // lease lost while earlier messages of the batch were sent
        }
        let coding = if vigie_domain::sms::SmsEncoding::of(&msg.text).kannel_coding() == 2 { "2" } else { "0" };
        let mut query: Vec<(&str, String)> = vec![
            ("username", g.username.clone()),
            ("password", g.password.clone()),
            ("from", g.from.clone()),
            ("to", msg.to.clone()),
            ("text", msg.text.clone()),
            ("charset", "UTF-8".into()),
            ("coding", coding.into()),
        ];
        if let (Some(base), Some(key)) = (&s.config.public_url, &s.config.sms_inbound_key) {
            query.push(("dlr-mask", "31".into()));
            query.push(("dlr-url", format!("{base}/sms/kannel/dlr?key={key}&out={}&status=%d", msg.id)));
        }
        let res = client.get(&g.sendsms_url).query(&query).send().await;
        match res {
            Ok(r) if r.status().is_success() => {
                sms::mark_sent(&s.db, msg.id, s.now()).await?;
                jobs::complete(&s.db, job.id, worker).await?;
            }
            Ok(r) => {
                let err = format!("gateway answered {}", r.status());
                sms::mark_attempt_failed(&s.db, msg.id, &err, job.attempts >= job.max_attempts).await?;
                jobs::fail(&s.db, &job, worker, &err, s.now()).await?;
            }
            Err(e) => {
                // Gateway down: the message stays queued and is retried with backoff. The URL is
                // dropped from the error: it carries the gateway password and the phone number.
                let err = format!("gateway unreachable: {}", e.without_url());
                sms::mark_attempt_failed(&s.db, msg.id, &err, job.attempts >= job.max_attempts).await?;
                jobs::fail(&s.db, &job, worker, &err, s.now()).await?;
            }
        }
    }
    Ok(n)
}

/// The signature header of a webhook delivery: hex HMAC-SHA256 of the exact body.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

pub async fn run_webhooks_once(s: &AppState, client: &reqwest::Client, worker: &str) -> StoreResult<usize> {
    let batch = jobs::claim(&s.db, webhooks::QUEUE, worker, 20, s.config.job_lease, s.now()).await?;
    let n = batch.len();
    for job in batch {
        let payload: serde_json::Value = serde_json::from_str(&job.payload).unwrap_or_default();
        let id = payload["webhook_id"].as_i64().unwrap_or(-1);
        let body = payload["body"].to_string();
        let (url, secret, active) = match webhooks::target(&s.db, id).await {
            Ok(t) => t,
            Err(e) => {
                jobs::fail(&s.db, &job, worker, &e.to_string(), s.now()).await?;
                continue;
            }
        };
        if !active {
            jobs::complete(&s.db, job.id, worker).await?;
            continue;
        }
        if !jobs::renew(&s.db, job.id, worker, s.config.job_lease, s.now()).await? {
            continue;
        }
        let res = client
            .post(&url)
            .header("content-type", "application/json")
            .header("x-vigie-signature", signature(&secret, body.as_bytes()))
            .header("x-vigie-delivery", job.id.to_string())
            .body(body)
            .send()
            .await;
        match res {
            Ok(r) if r.status().is_success() => {
                jobs::complete(&s.db, job.id, worker).await?;
            }
            Ok(r) => jobs::fail(&s.db, &job, worker, &format!("answered {}", r.status()), s.now()).await?,
            Err(e) => jobs::fail(&s.db, &job, worker, &format!("unreachable: {}", e.without_url()), s.now()).await?,
        }
    }
    Ok(n)
}
