//! Events merged and split by an analyst. An event is an `alerts` row with the reports that
//! point to it; clustering at intake groups reports, and these two functions let a person
//! correct it. Both run in one transaction with their audit entries, and check that no report
//! is lost: the reports counted before are all found after, or nothing is written.
//!
//! - Merge: the reports of the other events move to the target. If one of the events already
//!   carries a raised alert, that lifecycle (timestamps, escalation, actions, next escalation
//!   check) becomes the target's: the alert follows its reports. Two raised alerts are not
//!   merged (one must be closed or cancelled first). The absorbed rows stay, marked
//!   `merged_into`, so their history can be read and commands sent to them are forwarded.
//! - Split: chosen reports leave the event for a new one, which starts at `reported` (at
//!   `verified` if one of them was verified); the first event keeps its alert.

use crate::alerts::{self, AlertView};
use crate::audit::{self, Actor};
use crate::{run, run_tx, Db, StoreError, StoreResult, Tx};
use chrono::{DateTime, Utc};
use serde::Serialize;
use vigie_domain::area::AreaPath;
use vigie_domain::early_warning::alert::{Alert, AlertCommand, AlertState};
use vigie_domain::early_warning::dedup::{self, Event, ReportSignal};
use vigie_domain::early_warning::taxonomy::{CategoryCode, Severity};
use vigie_domain::early_warning::EwMsg;
use vigie_domain::{Invalid, Msg};

/// At most this many events merged at once (a form mistake should not move the whole feed).
pub const MAX_MERGE: usize = 50;

fn invalid(field: &str, m: EwMsg) -> StoreError {
    Invalid::new(field, Msg::from(m)).into()
}

/// The event that now holds `id`'s reports: `id` itself unless it was merged (followed to the end).
pub async fn survivor(db: &Db, id: i64) -> StoreResult<i64> {
    let mut id = id;
    for _ in 0..=MAX_MERGE {
        let next: Option<Option<i64>> = run!(&db.write, c => sqlx::query_scalar("SELECT merged_into FROM alerts WHERE id = $1").bind(id).fetch_optional(c).await?);
        match next.ok_or(StoreError::NotFound)? {
            Some(n) => id = n,
            None => return Ok(id),
        }
    }
    Err(StoreError::Other(format!("event {id}: merge chain too long")))
}

#[derive(sqlx::FromRow)]
struct EventRow {
    id: i64,
    wake_at: Option<DateTime<Utc>>,
    needs_attention: bool,
    merged_into: Option<i64>,
    doc: String,
}

impl EventRow {
    fn alert(&self) -> StoreResult<Alert> {
        let mut a: Alert = serde_json::from_str(&self.doc).map_err(|e| StoreError::Other(format!("alert {}: {e}", self.id)))?;
        a.id = self.id;
        Ok(a)
    }
}

/// `FOR UPDATE` on PostgreSQL, so that two analysts merging at once queue instead of racing
/// (SQLite has one writer: its transactions are serialised already).
pub(crate) fn lock_clause(tx: &Tx) -> &'static str {
    if matches!(tx, Tx::Postgres(_)) {
        " FOR UPDATE"
    } else {
        ""
    }
}

async fn load_row(tx: &mut Tx, id: i64, field: &str) -> StoreResult<EventRow> {
    let sql = format!("SELECT id, wake_at, needs_attention, merged_into, doc FROM alerts WHERE id = $1{}", lock_clause(tx));
    let r: Option<EventRow> = run_tx!(tx, c => sqlx::query_as(&sql).bind(id).fetch_optional(&mut **c).await?);
    let r = r.ok_or_else(|| Invalid::new(field, Msg::NotFound))?;
    if let Some(into) = r.merged_into {
        return Err(invalid(field, EwMsg::EventMerged { into }));
    }
    Ok(r)
}

async fn report_count(tx: &mut Tx, id: i64) -> StoreResult<i64> {
    Ok(run_tx!(tx, c => sqlx::query_scalar("SELECT COUNT(*) FROM reports WHERE alert_id = $1").bind(id).fetch_one(&mut **c).await?))
}

/// How far an event got: the lifecycle kept by a merge is the one that went furthest.
fn progress(a: &Alert) -> u8 {
    match a.state {
        AlertState::Reported => 0,
        AlertState::Verified => 1,
        _ => 2,
    }
}

/// The area paths of events, for the caller's access check before any change.
pub async fn area_paths(db: &Db, ids: &[i64]) -> StoreResult<Vec<(i64, Option<AreaPath>)>> {
    let mut out = Vec::new();
    for id in ids {
        let p: Option<Option<String>> = run!(&db.read, c => sqlx::query_scalar("SELECT area_path FROM alerts WHERE id = $1").bind(*id).fetch_optional(c).await?);
        let p = p.ok_or_else(|| Invalid::new("other_event_ids", Msg::NotFound))?;
        out.push((*id, p.filter(|p| !p.is_empty()).map(AreaPath)));
    }
    Ok(out)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MergeOutcome {
    /// The merged event, with all the reports.
    pub event: AlertView,
    pub absorbed: Vec<i64>,
    pub reports_moved: i64,
    /// The event whose lifecycle the merged event carries on (itself, or an absorbed event
    /// whose alert was further on).
    pub lifecycle_from: i64,
}

/// Merges `others` into `target` (see the module's notes).
pub async fn merge(db: &Db, target: i64, others: &[i64], actor: &Actor, now: DateTime<Utc>) -> StoreResult<MergeOutcome> {
    if others.is_empty() {
        return Err(Invalid::new("other_event_ids", Msg::Required).into());
    }
    if others.len() > MAX_MERGE {
        return Err(Invalid::new("other_event_ids", Msg::TooLong { max: MAX_MERGE }).into());
    }
    let mut others: Vec<i64> = others.to_vec();
    others.sort_unstable();
    others.dedup();
    if others.contains(&target) {
        return Err(invalid("other_event_ids", EwMsg::MergeSameEvent));
    }
    let mut tx = db.begin().await?;
    let t = load_row(&mut tx, target, "id").await?;
    let mut rows = vec![t];
    for o in &others {
        rows.push(load_row(&mut tx, *o, "other_event_ids").await?);
    }
    let mut lifecycles = Vec::new();
    for r in &rows {
        let a = r.alert()?;
        if a.state.is_terminal() {
            return Err(invalid(if r.id == target { "id" } else { "other_event_ids" }, EwMsg::EventFinished { event_id: r.id }));
        }
        lifecycles.push(a);
    }
    let raised: Vec<i64> = lifecycles.iter().filter(|a| a.alerted_at.is_some()).map(|a| a.id).collect();
    if raised.len() > 1 {
        return Err(invalid("other_event_ids", EwMsg::MergeTwoRaisedAlerts { first: raised[0], second: raised[1] }));
    }
    // The lifecycle that went furthest (the target's on a tie).
    let lead = (0..rows.len()).max_by_key(|i| (progress(&lifecycles[*i]), *i == 0)).unwrap_or(0);
    let mut before = 0;
    for r in &rows {
        before += report_count(&mut tx, r.id).await?;
    }

    let mut merged = lifecycles[lead].clone();
    let target_alert = lifecycles[0].clone();
    merged.id = target;
    merged.event_id = target_alert.event_id;
    merged.category = target_alert.category.clone();
    merged.area = target_alert.area.clone();
    merged.severity = lifecycles.iter().map(|a| a.severity).max().unwrap_or(merged.severity);
    merged.reported_at = lifecycles.iter().map(|a| a.reported_at).min().unwrap_or(merged.reported_at);
    let (wake, attention) = (rows[lead].wake_at, rows[lead].needs_attention);
    alerts::save_doc(&mut tx, &merged, wake, attention, now).await?;
    run_tx!(&mut tx, c => { sqlx::query("UPDATE alerts SET reported_at = $2 WHERE id = $1").bind(target).bind(merged.reported_at).execute(&mut **c).await?; });

    let mut moved = 0;
    for o in &others {
        let n = run_tx!(&mut tx, c => sqlx::query("UPDATE reports SET alert_id = $1 WHERE alert_id = $2").bind(target).bind(*o).execute(&mut **c).await?.rows_affected());
        moved += n as i64;
        // Its notifications and earlier merges now belong to the target; it stops escalating.
        run_tx!(&mut tx, c => { sqlx::query("UPDATE sms_outbox SET alert_id = $1 WHERE alert_id = $2").bind(target).bind(*o).execute(&mut **c).await?; });
        run_tx!(&mut tx, c => { sqlx::query("UPDATE alerts SET merged_into = $1 WHERE merged_into = $2").bind(target).bind(*o).execute(&mut **c).await?; });
        run_tx!(&mut tx, c => { sqlx::query("UPDATE alerts SET merged_into = $1, wake_at = NULL, needs_attention = $3, updated_at = $4 WHERE id = $2")
            .bind(target).bind(*o).bind(false).bind(now).execute(&mut **c).await?; });
        audit::append(&mut tx, actor, "event.merged_into", "alert", &o.to_string(), serde_json::json!({"into": target, "reports": n})).await?;
    }
    let after = report_count(&mut tx, target).await?;
    if after != before {
        return Err(StoreError::Other(format!("merge of {others:?} into {target}: {before} reports before, {after} after")));
    }
    audit::append(&mut tx, actor, "event.merge", "alert", &target.to_string(), serde_json::json!({
        "absorbed": others, "reports_moved": moved, "lifecycle_from": rows[lead].id,
        "replaced_state": if lead == 0 { None } else { Some(target_alert.state.as_str()) },
    })).await?;
    tx.commit().await?;
    Ok(MergeOutcome { event: alerts::get(db, target).await?, absorbed: others, reports_moved: moved, lifecycle_from: rows[lead].id })
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SplitOutcome {
    /// The event the reports left (it keeps its alert).
    pub event: AlertView,
    /// The new event holding the reports split off.
    pub new_event: AlertView,
}

#[derive(sqlx::FromRow)]
struct ReportRow {
    id: i64,
    category_code: String,
    severity: i32,
    text: String,
    area_code: Option<String>,
    area_path: Option<String>,
    lat: Option<f64>,
    lon: Option<f64>,
    occurred_at: DateTime<Utc>,
    received_at: DateTime<Utc>,
    verification: String,
}

/// Takes `report_ids` out of `event` into a new event (see the module's notes).
pub async fn split(db: &Db, event: i64, report_ids: &[i64], actor: &Actor, now: DateTime<Utc>) -> StoreResult<SplitOutcome> {
    let taxonomy = crate::categories::taxonomy(db).await?;
    let mut tx = db.begin().await?;
    let row = load_row(&mut tx, event, "id").await?;
    let original = row.alert()?;
    if original.state.is_terminal() {
        return Err(invalid("id", EwMsg::EventFinished { event_id: event }));
    }
    let reports: Vec<ReportRow> = run_tx!(&mut tx, c => sqlx::query_as(
        "SELECT id, category_code, severity, text, area_code, area_path, lat, lon, occurred_at, received_at, verification FROM reports WHERE alert_id = $1 ORDER BY id"
    ).bind(event).fetch_all(&mut **c).await?);
    let before = reports.len();
    // The domain decides what may be split (every id in the event, at least one left behind).
    let mut ev = Event { id: event, reports: Vec::new() };
    for r in &reports {
        let category = CategoryCode::parse(&r.category_code).map_err(|m| StoreError::Other(format!("report {}: {m:?}", r.id)))?;
        ev.reports.push(ReportSignal {
            report_id: r.id,
            family: taxonomy.family(&category),
            category,
            area: r.area_path.clone().map(AreaPath),
            point: r.lat.zip(r.lon),
            occurred_at: r.occurred_at,
            text: String::new(),
        });
    }
    let mut ids = report_ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let taken = dedup::split(&mut ev, &ids, 0).map_err(|m| invalid("report_ids", m))?;
    let taken: Vec<&ReportRow> = reports.iter().filter(|r| taken.reports.iter().any(|t| t.report_id == r.id)).collect();
    let first = taken[0];

    let severity = taken.iter().filter_map(|r| Severity::from_level(r.severity.clamp(0, 255) as u8).ok()).max().unwrap_or(original.severity);
    let category = CategoryCode::parse(&first.category_code).map_err(|m| StoreError::Other(format!("{m:?}")))?;
    let reported_at = taken.iter().map(|r| r.received_at).min().unwrap_or(now);
    let path = first.area_path.clone().unwrap_or_default();
    // A sealed text (a report of a category made protected since) stays out of the title, which is in clear.
    let title: String = if db.keys()?.is_sealed(&first.text) { String::new() } else { first.text.chars().take(120).collect() };
    let title = if title.trim().is_empty() { category.as_str().to_string() } else { title };
    let new_id: i64 = run_tx!(&mut tx, c => sqlx::query_scalar(
        "INSERT INTO alerts (category_code, severity, area_code, area_path, state, title, reported_at, doc, updated_at) VALUES ($1,$2,$3,$4,'reported',$5,$6,'{}',$7) RETURNING id"
    ).bind(category.as_str()).bind(severity.level() as i32).bind(&first.area_code).bind(&first.area_path).bind(&title).bind(reported_at).bind(now)
     .fetch_one(&mut **c).await?);
    let mut fresh = Alert::new(new_id, category, severity, AreaPath(path), reported_at);
    // A report already verified keeps the new event verified, as verifying it would have.
    let verified = taken.iter().any(|r| r.verification == "verified");
    if verified {
        fresh.apply(AlertCommand::Verify, actor.id, now.max(reported_at)).map_err(|m| invalid("report_ids", m))?;
    }
    alerts::save_doc(&mut tx, &fresh, None, false, now).await?;
    for r in &taken {
        run_tx!(&mut tx, c => { sqlx::query("UPDATE reports SET alert_id = $1 WHERE id = $2 AND alert_id = $3").bind(new_id).bind(r.id).bind(event).execute(&mut **c).await?; });
    }
    // The event changed (the intake writer's cache of its reports keys on updated_at).
    run_tx!(&mut tx, c => { sqlx::query("UPDATE alerts SET updated_at = $2 WHERE id = $1").bind(event).bind(now).execute(&mut **c).await?; });
    let (left, moved) = (report_count(&mut tx, event).await?, report_count(&mut tx, new_id).await?);
    if (left + moved) as usize != before || moved as usize != taken.len() || left == 0 {
        return Err(StoreError::Other(format!("split of event {event}: {before} reports before, {left} + {moved} after")));
    }
    let moved_ids: Vec<i64> = taken.iter().map(|r| r.id).collect();
    audit::append(&mut tx, actor, "event.split", "alert", &event.to_string(), serde_json::json!({"new_event": new_id, "reports": moved_ids})).await?;
    audit::append(&mut tx, actor, "event.split_from", "alert", &new_id.to_string(), serde_json::json!({"from": event, "reports": moved_ids, "verified": verified})).await?;
    tx.commit().await?;
    Ok(SplitOutcome { event: alerts::get(db, event).await?, new_event: alerts::get(db, new_id).await? })
}
