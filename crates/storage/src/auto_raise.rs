//! Alerts raised on intake. When the escalation rule that governs an event says `auto_raise`
//! and the report comes from a trusted source, the alert is raised — and the first responder
//! SMS queued — without waiting for an analyst, who verifies afterwards.
//!
//! Durable in two steps: the intake transaction queues an `alert_raise` job next to the report
//! (so a process that dies right after the commit raises it on restart), and a worker carries
//! the job out in its own transaction. The raise is idempotent (an alert already raised stays
//! as it is), so a job run twice after a lost lease sends one SMS per escalation step, not two.

use crate::audit::Actor;
use crate::{alerts, run, run_tx, wakeup, Db, StoreResult, Tx};
use chrono::{DateTime, Utc};
use vigie_domain::early_warning::escalation::raises_automatically;
use vigie_domain::early_warning::report::{Report, ReporterKind};
use vigie_domain::{Invalid, Msg};

pub const QUEUE: &str = "alert_raise";

/// In the intake transaction, once the report is written: queues a raise job if an auto-raise
/// rule may cover it (same category or any, severity reached, trusted source). One statement;
/// the worker decides with the full rule matching (area, most specific rule).
pub(crate) async fn enqueue_if_armed(tx: &mut Tx, report_id: i64, alert_id: Option<i64>, report: &Report) -> StoreResult<()> {
    let Some(alert_id) = alert_id else { return Ok(()) };
    if report.reporter == ReporterKind::Anonymous {
        return Ok(());
    }
    let payload = serde_json::json!({"alert_id": alert_id, "report_id": report_id}).to_string();
    let queued = run_tx!(&mut *tx, c => sqlx::query(
        "INSERT INTO jobs (queue, payload, dedup_key, run_at, created_at) SELECT $1, $2, $3, $4, $4 \
         WHERE EXISTS (SELECT 1 FROM escalation_rules WHERE auto_raise AND disabled_at IS NULL AND (category_code IS NULL OR category_code = $5) AND min_severity <= $6)"
    ).bind(QUEUE).bind(payload).bind(format!("{QUEUE}:{report_id}")).bind(crate::now()).bind(report.category.as_str()).bind(report.severity.level() as i32)
     .execute(&mut **c).await?.rows_affected());
    if queued > 0 {
        wakeup::on_enqueue(tx, QUEUE).await?;
    }
    Ok(())
}

/// Carries out one raise job. Returns whether the alert was raised now (false: no auto-raise
/// rule governs it, the source is not trusted, or it was raised or closed already).
pub async fn raise(db: &Db, alert_id: i64, report_id: i64, now: DateTime<Utc>) -> StoreResult<bool> {
    let alert_id = crate::events::survivor(db, alert_id).await?;
    let rules = alerts::rules(db).await?;
    let kind: Option<String> = run!(&db.write, c => sqlx::query_scalar("SELECT reporter_kind FROM reports WHERE id = $1").bind(report_id).fetch_optional(c).await?);
    let reporter: ReporterKind = kind.and_then(|k| serde_json::from_value(serde_json::Value::String(k)).ok()).unwrap_or(ReporterKind::Anonymous);
    let mut tx = db.begin().await?;
    let mut a = alerts::load_tx(&mut tx, alert_id).await?;
    if !raises_automatically(&a, &rules, reporter) {
        return Ok(false);
    }
    let before = a.state;
    a.auto_raise(now).map_err(|m| Invalid::new("auto_raise", Msg::from(m)))?;
    let details = serde_json::json!({"from": before.as_str(), "report": report_id, "automatic": true});
    alerts::after_transition(&mut tx, db, &mut a, &rules, "alert.auto_raise", &Actor::system("auto_raise"), details, now).await?;
    tx.commit().await?;
    Ok(true)
}
