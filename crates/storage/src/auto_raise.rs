//! Alerts raised on intake. When the escalation rule that governs an event says `auto_raise`
//! and the report comes from a trusted source, the alert is raised — and the first responder
//! SMS queued — without waiting for an analyst, who verifies afterwards.
//!
//! Durable in two steps: the intake transaction queues an `alert_raise` job next to the report
//! (so a process that dies right after the commit raises it on restart), and a worker carries
//! the job out in its own transaction. The raise is idempotent (an alert already raised stays
//! as it is), so a job run twice after a lost lease sends one SMS per escalation step, not two.

use crate::audit::Actor;
use crate::{alerts, run, Db, StoreResult};
use chrono::{DateTime, Utc};
use vigie_domain::early_warning::escalation::raises_automatically;
use vigie_domain::early_warning::report::{Report, ReporterKind};
use vigie_domain::{Invalid, Msg};

pub const QUEUE: &str = "alert_raise";

/// The enabled auto-raise rules as `(category or any, minimum severity)`.
pub(crate) const ARMED_RULES: &str = "SELECT category_code, min_severity FROM escalation_rules WHERE auto_raise AND disabled_at IS NULL";

/// [`ARMED_RULES`], remembered briefly
/// (see [`crate::memo`]).
pub(crate) async fn armed_rules(db: &Db) -> StoreResult<Vec<(Option<String>, i32)>> {
    if let Some(r) = db.memo.auto_raise.get(&db.memo, &()) {
        return Ok(r);
    }
    let generation = db.memo.generation();
    let r: Vec<(Option<String>, i32)> = run!(&db.read, c => sqlx::query_as(ARMED_RULES).fetch_all(c).await?);
    db.memo.auto_raise.put(generation, (), r.clone());
    Ok(r)
}

/// Whether an auto-raise rule may cover this report: a trusted source, its category (or any)
/// and a severity reached. The worker decides with the full rule matching (area, most specific
/// rule); this cheap check queues the raise job and sends the intake ahead of bulk reports.
pub(crate) fn may_raise(rules: &[(Option<String>, i32)], report: &Report) -> bool {
    let (category, severity) = (report.category.as_str(), report.severity.level() as i32);
    report.reporter != ReporterKind::Anonymous && rules.iter().any(|(c, min)| c.as_deref().is_none_or(|c| c == category) && *min <= severity)
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
