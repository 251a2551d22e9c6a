//! Outbound webhooks: other systems (a mission dashboard, RapidPro, DHIS2) subscribe to
//! report and alert events in an area. Deliveries are jobs, signed with HMAC-SHA256.

use crate::audit::{self, Actor};
use crate::{jobs, run, run_tx, Db, StoreError, StoreResult, Tx};
use vigie_domain::area::{AreaCode, AreaPath};
use vigie_domain::{Invalid, Msg};

pub const QUEUE: &str = "webhook";
pub const EVENTS: &[&str] = &["report.created", "alert.raised", "alert.acknowledged", "alert.responded", "alert.closed", "alert.escalated"];

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Webhook {
    pub id: i64,
    pub url: String,
    pub events: Vec<String>,
    pub area_code: String,
    pub active: bool,
}

fn secret_context(id: i64) -> String {
    format!("webhooks.secret:{id}")
}

/// A webhook's URL (http or https, at most 500 bytes, no spaces) and events (known ones).
pub fn check(url: &str, events: &[String]) -> Result<(), Invalid> {
    let ok_url = (url.starts_with("https://") || url.starts_with("http://")) && url.len() <= 500 && !url.contains(char::is_whitespace);
    if !ok_url {
        return Err(Invalid::new("url", Msg::InvalidName));
    }
    for e in events {
        if !EVENTS.contains(&e.as_str()) {
            return Err(Invalid::new("events", Msg::UnknownPermission { name: e.clone() }));
        }
    }
    Ok(())
}

/// Registers a webhook; returns it with its signing secret (shown once).
pub async fn create(db: &Db, url: &str, events: &[String], area: &AreaCode, actor: &Actor) -> StoreResult<(Webhook, String)> {
    check(url, events)?;
    crate::areas::path_of(db, area, "area_code").await?;
    let secret = crate::auth::random_secret("whsec_");
    let mut tx = db.begin().await?;
    let id: i64 = run_tx!(&mut tx, c => sqlx::query_scalar("INSERT INTO webhooks (url, secret, events, area_code, created_at) VALUES ($1,'',$2,$3,$4) RETURNING id")
        .bind(url).bind(serde_json::to_string(events).unwrap()).bind(area.as_str()).bind(crate::now()).fetch_one(&mut **c).await?);
    let sealed = db.keys()?.seal(secret.as_bytes(), &secret_context(id));
    run_tx!(&mut tx, c => { sqlx::query("UPDATE webhooks SET secret = $2 WHERE id = $1").bind(id).bind(sealed).execute(&mut **c).await?; });
    audit::append(&mut tx, actor, "webhook.create", "webhook", &id.to_string(), serde_json::json!({"url": url, "events": events, "area": area})).await?;
    tx.commit().await?;
    Ok((Webhook { id, url: url.into(), events: events.to_vec(), area_code: area.to_string(), active: true }, secret))
}

pub async fn list(db: &Db) -> StoreResult<Vec<Webhook>> {
    let rows: Vec<(i64, String, String, String, bool)> = run!(&db.read, c => sqlx::query_as("SELECT id, url, events, area_code, active FROM webhooks ORDER BY id").fetch_all(c).await?);
    Ok(rows.into_iter().map(|(id, url, ev, area_code, active)| Webhook { id, url, events: serde_json::from_str(&ev).unwrap_or_default(), area_code, active }).collect())
}

/// Queues a delivery to every active webhook that wants `event` for an area containing `area`.
pub async fn fan_out(tx: &mut Tx, event: &str, area: Option<&AreaPath>, payload: serde_json::Value) -> StoreResult<usize> {
    let hooks = active(tx).await?;
    let jobs = deliveries(&hooks, event, area, payload);
    jobs::enqueue_many(tx, QUEUE, &jobs).await?;
    Ok(jobs.len())
}

/// The active webhooks as `(id, events JSON, area path)`: read once for a group of intakes.
pub(crate) async fn active(tx: &mut Tx) -> StoreResult<Vec<(i64, String, String)>> {
    Ok(run_tx!(tx, c => sqlx::query_as(
        "SELECT w.id, w.events, a.path FROM webhooks w JOIN areas a ON a.code = w.area_code WHERE w.active"
    ).fetch_all(&mut **c).await?))
}

/// The delivery jobs (payload, no dedup key) of `event` to the webhooks among `hooks` (read
/// with [`active`]) that want it for an area containing `area`.
pub(crate) fn deliveries(hooks: &[(i64, String, String)], event: &str, area: Option<&AreaPath>, payload: serde_json::Value) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    for (id, events, path) in hooks {
        let wants = serde_json::from_str::<Vec<String>>(events).unwrap_or_default().iter().any(|e| e == event);
        let inside = area.is_none_or(|a| AreaPath(path.clone()).contains(a));
        if wants && inside {
            let body = serde_json::json!({"event": event, "data": payload, "sent_at": crate::now()});
            out.push((serde_json::json!({"webhook_id": id, "body": body}).to_string(), None));
        }
    }
    out
}

/// The URL and the opened signing secret of a webhook, for the delivery worker.
pub async fn target(db: &Db, id: i64) -> StoreResult<(String, String, bool)> {
    let r: Option<(String, String, bool)> = run!(&db.write, c => sqlx::query_as("SELECT url, secret, active FROM webhooks WHERE id = $1").bind(id).fetch_optional(c).await?);
    let (url, sealed, active) = r.ok_or(StoreError::NotFound)?;
    let secret = db.keys()?.open_string(&sealed, &secret_context(id)).map_err(|e| StoreError::Other(e.to_string()))?;
    Ok((url, secret, active))
}
