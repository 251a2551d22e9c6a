//! The SMS outbox and inbox. Phone numbers are sealed at rest (a reporter's number is as
//! sensitive as their name) and found again through a blind index; texts are sealed too (an
//! answer to an analyst, a question naming people). Rows written in clear by older versions
//! are sealed at start-up ([`crate::rotation::seal_clear`]) and read either way meanwhile.

use crate::{jobs, run, run_tx, Db, StoreError, StoreResult, Tx};
use chrono::{DateTime, Utc};
use vigie_domain::phone::Phone;
use crate::audit::Actor;
use crate::reports::Sender;
use vigie_domain::early_warning::report::ReportInput;

pub const QUEUE: &str = "sms";

fn phone_context(table: &str) -> String {
    format!("{table}.phone")
}

fn text_context(table: &str) -> String {
    format!("{table}.text")
}

/// Queues an SMS in the caller's transaction (sent by the SMS worker after commit).
pub async fn queue(tx: &mut Tx, db: &Db, to: &Phone, text: &str, purpose: &str, alert_id: Option<i64>) -> StoreResult<i64> {
    let keys = db.keys()?;
    let sealed = keys.seal(to.as_str().as_bytes(), &phone_context("sms_outbox"));
    let index = keys.blind_index("phone", to.as_str());
    let text = keys.seal(text.as_bytes(), &text_context("sms_outbox"));
    let id: i64 = run_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO sms_outbox (to_sealed, to_index, text, purpose, alert_id, created_at) VALUES ($1,$2,$3,$4,$5,$6) RETURNING id"
    ).bind(sealed).bind(index).bind(text).bind(purpose).bind(alert_id).bind(crate::now()).fetch_one(&mut **c).await?);
    jobs::enqueue(tx, QUEUE, &serde_json::json!({"outbox_id": id}), Some(&format!("sms:{id}")), crate::now()).await?;
    Ok(id)
}

pub struct Outgoing {
    pub id: i64,
    pub to: String,
    pub text: String,
    pub status: String,
}

pub async fn outgoing(db: &Db, id: i64) -> StoreResult<Outgoing> {
    let r: Option<(i64, String, String, String)> = run!(&db.write, c => sqlx::query_as("SELECT id, to_sealed, text, status FROM sms_outbox WHERE id = $1").bind(id).fetch_optional(c).await?);
    let (id, sealed, text, status) = r.ok_or(StoreError::NotFound)?;
    let keys = db.keys()?;
    let to = keys.open_string(&sealed, &phone_context("sms_outbox")).map_err(|e| StoreError::Other(e.to_string()))?;
    let text = keys.open_text(&text, &text_context("sms_outbox")).map_err(|e| StoreError::Other(format!("sms_outbox {id}: {e}")))?;
    Ok(Outgoing { id, to, text, status })
}

pub async fn mark_sent(db: &Db, id: i64, now: DateTime<Utc>) -> StoreResult<()> {
    run!(&db.write, c => { sqlx::query("UPDATE sms_outbox SET status = 'sent', sent_at = $2, attempts = attempts + 1 WHERE id = $1 AND status = 'queued'").bind(id).bind(now).execute(c).await?; });
    Ok(())
}

pub async fn mark_attempt_failed(db: &Db, id: i64, error: &str, give_up: bool) -> StoreResult<()> {
    let status = if give_up { "failed" } else { "queued" };
    run!(&db.write, c => { sqlx::query("UPDATE sms_outbox SET status = $2, last_error = $3, attempts = attempts + 1 WHERE id = $1").bind(id).bind(status).bind(error).execute(c).await?; });
    Ok(())
}

/// A delivery report from the gateway (Kannel: 1 delivered, 2 failed, 4 buffered, 8 accepted by the SMSC, 16 rejected).
pub async fn record_dlr(db: &Db, id: i64, status: i32, now: DateTime<Utc>) -> StoreResult<bool> {
    let new_status = match status {
        1 => Some("delivered"),
        2 | 16 => Some("failed"),
        _ => None,
    };
    let n = run!(&db.write, c => sqlx::query("UPDATE sms_outbox SET dlr_status = $2, dlr_at = $3, status = COALESCE($4, status) WHERE id = $1")
        .bind(id).bind(status).bind(now).bind(new_status).execute(c).await?.rows_affected());
    Ok(n == 1)
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct OutboxView {
    pub id: i64,
    pub purpose: String,
    pub alert_id: Option<i64>,
    pub status: String,
    pub attempts: i32,
    pub dlr_status: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

pub async fn outbox_for_alert(db: &Db, alert_id: i64) -> StoreResult<Vec<OutboxView>> {
    Ok(run!(&db.read, c => sqlx::query_as("SELECT id, purpose, alert_id, status, attempts, dlr_status, created_at, sent_at FROM sms_outbox WHERE alert_id = $1 ORDER BY id")
        .bind(alert_id).fetch_all(c).await?))
}

/// An inbound SMS as the gateway handed it over, with how it was understood.
pub struct Inbound<'a> {
    /// The gateway's message id: a retry carries the same one.
    pub gateway_id: Option<&'a str>,
    pub from: &'a str,
    pub text: &'a str,
    pub kind: &'a str,
    pub now: DateTime<Utc>,
}

/// An inbound SMS sealed, ready for the intake writer (see [`crate::group_commit`]).
pub(crate) struct PendingInbox {
    gateway_id: Option<String>,
    from_sealed: String,
    from_index: String,
    text: String,
    kind: String,
    now: DateTime<Utc>,
}

/// What the intake writer stored for an SMS: its inbox row and the report it became.
pub type InboxStored = Option<(i64, Option<crate::reports::IntakeOutcome>)>;

/// Stores an inbound SMS and the report it becomes (an alert, or a message kept for triage) in
/// one commit of the intake writer, shared with every intake waiting; an SMS whose report may
/// raise an alert goes ahead of bulk intake. None: the gateway's id was seen already (a retry),
/// nothing is stored again. A report the intake refuses (validation) leaves the SMS stored,
/// and its error is returned.
pub async fn receive(db: &Db, sms: Inbound<'_>, report: Option<(ReportInput, Sender, Actor)>) -> StoreResult<InboxStored> {
    let keys = db.keys()?;
    let pending = PendingInbox {
        gateway_id: sms.gateway_id.map(str::to_string),
        from_sealed: keys.seal(sms.from.as_bytes(), &phone_context("sms_inbox")),
        from_index: keys.blind_index("phone", sms.from),
        text: keys.seal(sms.text.as_bytes(), &text_context("sms_inbox")),
        kind: sms.kind.to_string(),
        now: sms.now,
    };
    let (intake, refused) = match report {
        None => (None, None),
        Some((input, sender, actor)) => match crate::reports::prepare(db, input, sender, &actor, sms.now).await {
            Ok(p) => (Some(p), None),
            Err(e) => (None, Some(e)),
        },
    };
    let stored = crate::group_commit::submit_inbound(db, pending, intake).await?;
    match refused {
        Some(e) => Err(e),
        None => Ok(stored),
    }
}

/// Writes one inbound SMS in the writer's transaction; None when its gateway id is stored already.
pub(crate) async fn insert_pending(tx: &mut Tx, p: &PendingInbox) -> StoreResult<Option<i64>> {
    Ok(run_tx!(&mut *tx, c => sqlx::query_scalar(
        "INSERT INTO sms_inbox (gateway_id, from_sealed, from_index, text, kind, received_at) VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (gateway_id) DO NOTHING RETURNING id"
    ).bind(&p.gateway_id).bind(&p.from_sealed).bind(&p.from_index).bind(&p.text).bind(&p.kind).bind(p.now).fetch_optional(&mut **c).await?))
}

pub async fn link_inbound_report(tx: &mut Tx, inbox_id: i64, report_id: i64) -> StoreResult<()> {
    run_tx!(tx, c => { sqlx::query("UPDATE sms_inbox SET report_id = $2 WHERE id = $1").bind(inbox_id).bind(report_id).execute(&mut **c).await?; });
    Ok(())
}

/// How many SMS this number sent since `since` (for per-number rate limits).
pub async fn inbound_count_since(db: &Db, from: &str, since: DateTime<Utc>) -> StoreResult<i64> {
    let index = db.keys()?.blind_index("phone", from);
    // On the read pool: not behind the intake writer (a count a moment old is good enough here).
    Ok(run!(&db.read, c => sqlx::query_scalar("SELECT COUNT(*) FROM sms_inbox WHERE from_index = $1 AND received_at >= $2").bind(index).bind(since).fetch_one(c).await?))
}
