//! Alerts: one row per event (the reports grouped under it) carrying its lifecycle —
//! reported → verified → alerted → acknowledged → responded → closed — as the domain's
//! `Alert`, with the escalation to responders driven by [`escalate_due`] and an injectable clock.

use crate::audit::{self, Actor};
use crate::{bind_args, run, run_tx, scope_sql, webhooks, Arg, Db, Page, StoreError, StoreResult, Tx};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use vigie_domain::area::{AreaCode, AreaPath};
use vigie_domain::early_warning::alert::{Alert, AlertCommand, AlertState};
use vigie_domain::early_warning::escalation::{next_escalation, EscalationRule, ResponderLevel};
use vigie_domain::early_warning::indicators::{compute, Indicators, Period};
use vigie_domain::early_warning::report::Report;
use vigie_domain::early_warning::taxonomy::{CategoryCode, Severity};
use vigie_domain::{Invalid, Msg};

/// Opens the event for a report that matched no open event (state `reported`).
pub(crate) async fn open_for_report(tx: &mut Tx, report: &Report, area: Option<&AreaPath>, now: DateTime<Utc>) -> StoreResult<i64> {
    let path = area.cloned().unwrap_or(AreaPath(String::new()));
    let mut alert = Alert::new(0, report.category.clone(), report.severity, path, now);
    let title: String = report.text.chars().take(120).collect();
    let title = if title.trim().is_empty() { report.category.as_str().to_string() } else { title };
    let id: i64 = run_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO alerts (category_code, severity, area_code, area_path, state, title, reported_at, doc, updated_at) VALUES ($1,$2,$3,$4,'reported',$5,$6,'{}',$6) RETURNING id"
    ).bind(report.category.as_str()).bind(report.severity.level() as i32).bind(report.location.area.as_ref().map(|a| a.as_str().to_string()))
     .bind(area.map(|p| p.0.clone())).bind(&title).bind(now).fetch_one(&mut **c).await?);
    alert.id = id;
    save_doc(tx, &alert, None, false, now).await?;
    Ok(id)
}

pub(crate) async fn save_doc(tx: &mut Tx, a: &Alert, wake_at: Option<DateTime<Utc>>, needs_attention: bool, now: DateTime<Utc>) -> StoreResult<()> {
    let outcome = a.outcome.map(|o| serde_json::to_value(o).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default());
    // The indicators' narrow columns are written with the document, never apart from it.
    let sql = format!(
        "UPDATE alerts SET severity = $2, state = $3, alerted_at = $4, closed_at = $5, outcome = $6, wake_at = $7, needs_attention = $8, doc = $9, updated_at = $10, {} WHERE id = $1",
        crate::alert_facts::set_sql(11)
    );
    let facts = crate::alert_facts::AlertFacts::of(a);
    run_tx!(tx, c => { crate::bind_facts!(sqlx::query(&sql)
     .bind(a.id).bind(a.severity.level() as i32).bind(a.state.as_str()).bind(a.alerted_at).bind(a.closed_at).bind(outcome)
     .bind(wake_at).bind(needs_attention).bind(serde_json::to_string(a).unwrap()).bind(now), &facts).execute(&mut **c).await?; });
    Ok(())
}

/// Loads an alert to change it: on PostgreSQL the row stays locked until `tx` ends, so two
/// nodes (or two requests) changing one alert take turns and the second sees the first's
/// change (an escalation is never sent twice). SQLite has one writer already.
pub(crate) async fn load_tx(tx: &mut Tx, id: i64) -> StoreResult<Alert> {
    let sql = match tx {
        Tx::Postgres(_) => "SELECT doc FROM alerts WHERE id = $1 FOR UPDATE",
        Tx::Sqlite(_) => "SELECT doc FROM alerts WHERE id = $1",
    };
    let doc: Option<String> = run_tx!(tx, c => sqlx::query_scalar(sql).bind(id).fetch_optional(&mut **c).await?);
    let mut a: Alert = serde_json::from_str(&doc.ok_or(StoreError::NotFound)?).map_err(|e| StoreError::Other(format!("alert {id}: {e}")))?;
    a.id = id;
    Ok(a)
}

/// A new report joined the event: the event takes the highest severity seen.
pub(crate) async fn touch_after_report(tx: &mut Tx, id: i64, severity: Severity, now: DateTime<Utc>) -> StoreResult<()> {
    let mut a = load_tx(tx, id).await?;
    if severity > a.severity && !a.state.is_terminal() {
        a.severity = severity;
        let (wake, attn): (Option<DateTime<Utc>>, bool) = run_tx!(tx, c => sqlx::query_as("SELECT wake_at, needs_attention FROM alerts WHERE id = $1").bind(id).fetch_one(&mut **c).await?);
        save_doc(tx, &a, wake, attn, now).await?;
    }
    Ok(())
}

/// Verifying a report verifies its event if the event is still at `reported`.
pub(crate) async fn verify_if_first_state(tx: &mut Tx, id: i64, actor: &Actor, now: DateTime<Utc>) -> StoreResult<()> {
    let mut a = load_tx(tx, id).await?;
    if a.state == AlertState::Reported && a.apply(AlertCommand::Verify, actor.id, now).is_ok() {
        save_doc(tx, &a, None, false, now).await?;
        audit::append(tx, actor, "alert.verify", "alert", &id.to_string(), serde_json::json!({})).await?;
    }
    Ok(())
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AlertView {
    pub id: i64,
    pub title: String,
    pub category_code: String,
    pub severity: i32,
    pub state: String,
    pub area_code: Option<String>,
    pub needs_attention: bool,
    pub wake_at: Option<DateTime<Utc>>,
    /// The full lifecycle: timestamps of every step, escalation, actions, outcome, history.
    #[schema(value_type = Object)]
    pub lifecycle: Alert,
    pub report_ids: Vec<i64>,
    /// Set when an analyst merged this event into another: its reports and its alert moved
    /// there, and commands sent here go there.
    pub merged_into: Option<i64>,
    #[serde(skip)]
    pub area_path: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    title: String,
    category_code: String,
    severity: i32,
    state: String,
    area_code: Option<String>,
    area_path: Option<String>,
    needs_attention: bool,
    wake_at: Option<DateTime<Utc>>,
    merged_into: Option<i64>,
    doc: String,
}

impl Row {
    fn into_view(self, report_ids: Vec<i64>) -> StoreResult<AlertView> {
        let mut lifecycle: Alert = serde_json::from_str(&self.doc).map_err(|e| StoreError::Other(e.to_string()))?;
        lifecycle.id = self.id;
        Ok(AlertView {
            id: self.id,
            title: self.title,
            category_code: self.category_code,
            severity: self.severity,
            state: self.state,
            area_code: self.area_code,
            needs_attention: self.needs_attention,
            wake_at: self.wake_at,
            lifecycle,
            report_ids,
            merged_into: self.merged_into,
            area_path: self.area_path,
        })
    }
}

const COLS: &str = "id, title, category_code, severity, state, area_code, area_path, needs_attention, wake_at, merged_into, doc";

pub async fn get(db: &Db, id: i64) -> StoreResult<AlertView> {
    let r: Option<Row> = run!(&db.write, c => sqlx::query_as(&format!("SELECT {COLS} FROM alerts WHERE id = $1")).bind(id).fetch_optional(c).await?);
    let ids: Vec<i64> = run!(&db.write, c => sqlx::query_scalar("SELECT id FROM reports WHERE alert_id = $1 ORDER BY id").bind(id).fetch_all(c).await?);
    r.ok_or(StoreError::NotFound)?.into_view(ids)
}

#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    pub state: Option<String>,
    pub category: Option<String>,
    pub needs_attention: Option<bool>,
}

pub async fn list(db: &Db, scope: &[AreaPath], see_unplaced: bool, f: &AlertFilter, page: i64, per_page: i64) -> StoreResult<Page<AlertView>> {
    let mut args = Vec::new();
    let placed = scope_sql("area_path", scope, &mut args);
    // Events merged into another are shown through the one that took them.
    let mut conds = vec![if see_unplaced { format!("({placed} OR area_path IS NULL)") } else { placed }, "merged_into IS NULL".into()];
    if let Some(s) = &f.state {
        args.push(Arg::Text(s.clone()));
        conds.push(format!("state = ${}", args.len()));
    }
    if let Some(c) = &f.category {
        args.push(Arg::Text(c.clone()));
        conds.push(format!("category_code = ${}", args.len()));
    }
    if let Some(n) = f.needs_attention {
        conds.push(if n { "needs_attention".into() } else { "NOT needs_attention".into() });
    }
    let wher = conds.join(" AND ");
    let count_sql = format!("SELECT COUNT(*) FROM alerts WHERE {wher}");
    let sql = format!("SELECT {COLS} FROM alerts WHERE {wher} ORDER BY reported_at DESC, id DESC LIMIT {per_page} OFFSET {}", (page - 1) * per_page);
    let total: i64 = run!(&db.read, c => bind_args!(sqlx::query_scalar(&count_sql), &args).fetch_one(c).await?);
    let rows: Vec<Row> = run!(&db.read, c => bind_args!(sqlx::query_as(&sql), &args).fetch_all(c).await?);
    let mut items = Vec::with_capacity(rows.len());
    for r in rows {
        items.push(r.into_view(Vec::new())?);
    }
    Ok(Page { items, total, page, per_page })
}

/// Open alerts (not closed, false alarm or cancelled) of one severity within a scope, and how
/// many of them wait for an acknowledgement past their deadline or were flagged for a person.
#[derive(Debug, Clone, Serialize)]
pub struct OpenCount {
    pub severity: i32,
    pub open: i64,
    pub overdue: i64,
}

/// Open alerts within `scope` by severity (for the dashboard), as of `now`.
pub async fn open_counts(db: &Db, scope: &[AreaPath], see_unplaced: bool, now: DateTime<Utc>) -> StoreResult<Vec<OpenCount>> {
    let mut args = Vec::new();
    // A reader who sees unplaced alerts sees the whole tree (as in overview.rs): no condition
    // per row, so the covering partial index `alerts_open` (migration 0016) answers alone.
    let wher = if see_unplaced { "1 = 1".to_string() } else { scope_sql("area_path", scope, &mut args) };
    let sql = format!(
        "SELECT severity, COUNT(*), COALESCE(SUM(CASE WHEN state = 'alerted' AND (needs_attention OR (wake_at IS NOT NULL AND wake_at <= ${})) THEN 1 ELSE 0 END), 0) \
         FROM alerts WHERE {wher} AND merged_into IS NULL AND state NOT IN ('closed', 'false_alarm', 'cancelled') GROUP BY severity ORDER BY severity DESC",
        args.len() + 1
    );
    let rows: Vec<(i32, i64, i64)> = run!(&db.read, c => bind_args!(sqlx::query_as(&sql), &args).bind(now).fetch_all(c).await?);
    Ok(rows.into_iter().map(|(severity, open, overdue)| OpenCount { severity, open, overdue }).collect())
}

fn webhook_event(state: AlertState) -> Option<&'static str> {
    match state {
        AlertState::Alerted => Some("alert.raised"),
        AlertState::Acknowledged => Some("alert.acknowledged"),
        AlertState::Responded => Some("alert.responded"),
        AlertState::Closed | AlertState::FalseAlarm | AlertState::Cancelled => Some("alert.closed"),
        _ => None,
    }
}

/// Applies a person's command to an alert. Raising it notifies the first responder level at once.
/// A command sent to an event merged into another goes to the one that took its alert.
pub async fn command(db: &Db, id: i64, cmd: AlertCommand, actor: &Actor, now: DateTime<Utc>) -> StoreResult<AlertView> {
    let id = crate::events::survivor(db, id).await?;
    let rules = rules(db).await?;
    let mut tx = db.begin().await?;
    let mut a = load_tx(&mut tx, id).await?;
    let before = a.state;
    let after = a.apply(cmd.clone(), actor.id, now).map_err(|m| Invalid::new("command", Msg::from(m)))?;
    let action = format!("alert.{}", after.as_str());
    after_transition(&mut tx, db, &mut a, &rules, &action, actor, serde_json::json!({"from": before.as_str(), "command": cmd}), now).await?;
    tx.commit().await?;
    get(db, id).await
}

/// What follows a change of state, in its transaction: a raise notifies the first responder
/// level; then the alert is saved, audited under `action`, and announced to webhooks.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn after_transition(
    tx: &mut Tx,
    db: &Db,
    a: &mut Alert,
    rules: &[EscalationRule],
    action: &str,
    actor: &Actor,
    details: serde_json::Value,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let (id, after) = (a.id, a.state);
    let (mut wake, mut attention) = (None, false);
    if after == AlertState::Alerted {
        (wake, attention) = escalate(tx, db, a, rules, now).await?;
    }
    save_doc(tx, a, wake, attention, now).await?;
    audit::append(tx, actor, action, "alert", &id.to_string(), details).await?;
    if let Some(ev) = webhook_event(after) {
        let path: Option<String> = run_tx!(&mut *tx, c => sqlx::query_scalar("SELECT area_path FROM alerts WHERE id = $1").bind(id).fetch_one(&mut **c).await?);
        webhooks::fan_out(tx, ev, path.map(AreaPath).as_ref(), serde_json::json!({"id": id, "state": after.as_str(), "severity": a.severity.level(), "category": a.category.as_str(), "at": now, "outcome": a.outcome})).await?;
    }
    Ok(())
}

/// Carries out the next escalation step of an alert inside `tx`: queues the notification SMS,
/// records it on the alert, and returns when to look again and whether a person must step in.
async fn escalate(tx: &mut Tx, db: &Db, a: &mut Alert, rules: &[EscalationRule], now: DateTime<Utc>) -> StoreResult<(Option<DateTime<Utc>>, bool)> {
    let plan = next_escalation(a, rules, now);
    if let Some(n) = &plan.notify {
        let text = notification_text(tx, a, n.after_missed.is_some()).await?;
        crate::sms::queue(tx, db, &n.phone, &text, "alert", Some(a.id)).await?;
        audit::append(tx, &Actor::system("escalation"), "alert.notify", "alert", &a.id.to_string(), serde_json::json!({"level": n.level, "responder": n.name, "deadline": n.deadline})).await?;
        if n.after_missed.is_some() {
            let path: Option<String> = run_tx!(tx, c => sqlx::query_scalar("SELECT area_path FROM alerts WHERE id = $1").bind(a.id).fetch_one(&mut **c).await?);
            webhooks::fan_out(tx, "alert.escalated", path.map(AreaPath).as_ref(), serde_json::json!({"id": a.id, "level": n.level, "responder": n.name})).await?;
        }
    }
    for e in plan.entries(now) {
        a.record_escalation(e).map_err(|m| Invalid::new("escalation", Msg::from(m)))?;
    }
    Ok((plan.wake_at, !plan.attention.is_empty()))
}

/// The responder's SMS, in French (the working language of Mali's administration), one SMS long.
async fn notification_text(tx: &mut Tx, a: &Alert, escalated: bool) -> StoreResult<String> {
    let label: Option<String> = run_tx!(tx, c => sqlx::query_scalar("SELECT label_fr FROM categories WHERE code = $1").bind(a.category.as_str()).fetch_optional(&mut **c).await?);
    let place: Option<String> = run_tx!(tx, c => sqlx::query_scalar("SELECT ar.name FROM alerts al JOIN areas ar ON ar.code = al.area_code WHERE al.id = $1").bind(a.id).fetch_optional(&mut **c).await?);
    let text = format!(
        "{}ALERTE Vigie {} : {} a {}, gravite {}/4. Repondez OK {} pour accuser reception.",
        if escalated { "ESCALADE " } else { "" },
        a.id,
        label.unwrap_or_else(|| a.category.as_str().into()),
        place.unwrap_or_else(|| "lieu a preciser".into()),
        a.severity.level(),
        a.id
    );
    Ok(text.chars().take(160).collect())
}

/// Runs every escalation that is due at `now` (called by the scheduler; tests pass their own clock).
pub async fn escalate_due(db: &Db, now: DateTime<Utc>) -> StoreResult<usize> {
    let due: Vec<i64> = run!(&db.write, c => sqlx::query_scalar("SELECT id FROM alerts WHERE wake_at IS NOT NULL AND wake_at <= $1 AND state = 'alerted' AND merged_into IS NULL ORDER BY wake_at LIMIT 200").bind(now).fetch_all(c).await?);
    if due.is_empty() {
        return Ok(0);
    }
    let rules = rules(db).await?;
    let mut n = 0;
    for id in due {
        let mut tx = db.begin().await?;
        let mut a = load_tx(&mut tx, id).await?;
        // Another node may have run this step while we waited for the row: look again under the lock.
        let still_due: bool = run_tx!(&mut tx, c => sqlx::query_scalar("SELECT wake_at IS NOT NULL AND wake_at <= $2 FROM alerts WHERE id = $1").bind(id).bind(now).fetch_one(&mut **c).await?);
        if a.state != AlertState::Alerted || !still_due {
            continue;
        }
        let (wake, attention) = escalate(&mut tx, db, &mut a, &rules, now).await?;
        save_doc(&mut tx, &a, wake, attention, now).await?;
        tx.commit().await?;
        n += 1;
    }
    Ok(n)
}

// ---- Escalation rules ----

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LevelSpec {
    /// "Brigade de gendarmerie de Djenné", "Préfet de Koro"…
    pub name: String,
    /// E.164 or Malian national format; none = this level is skipped and flagged.
    pub phone: Option<String>,
    pub ack_minutes: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RuleView {
    pub id: i64,
    pub category_code: Option<String>,
    pub min_severity: i32,
    pub area_code: String,
    pub levels: Vec<LevelSpec>,
    /// A disabled rule is kept (and listed) but no longer escalates anything.
    pub disabled: bool,
    /// Alerts governed by this rule are raised as soon as a trusted source (a registered focal
    /// point or committee) reports them; an analyst verifies afterwards.
    pub auto_raise: bool,
}

fn to_domain_levels(levels: &[LevelSpec]) -> Result<Vec<ResponderLevel>, Invalid> {
    levels
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let phone = l
                .phone
                .as_deref()
                .filter(|p| !p.trim().is_empty())
                .map(vigie_domain::phone::Phone::parse)
                .transpose()
                .map_err(|m| Invalid::new(format!("levels[{i}].phone"), Msg::from(m)))?;
            if !(1..=7 * 24 * 60).contains(&l.ack_minutes) {
                return Err(Invalid::new(format!("levels[{i}].ack_minutes"), Msg::InvalidPeriod));
            }
            Ok(ResponderLevel { name: l.name.clone(), phone, ack_deadline: Duration::minutes(l.ack_minutes) })
        })
        .collect()
}

/// A rule as checked by the domain before it is stored: category, severity, area and levels.
async fn checked_rule(db: &Db, category: Option<&str>, min_severity: i32, area: &AreaCode, levels: &[LevelSpec]) -> StoreResult<Option<CategoryCode>> {
    let cat = category.map(|c| CategoryCode::parse(c).map_err(|m| Invalid::new("category_code", Msg::from(m)))).transpose()?;
    let sev = Severity::from_level(min_severity.clamp(0, 255) as u8).map_err(|m| Invalid::new("min_severity", Msg::from(m)))?;
    let path = crate::areas::path_of(db, area, "area_code").await?;
    EscalationRule::new(cat.clone(), sev, path, to_domain_levels(levels)?).map_err(|m| Invalid::new("levels", Msg::from(m)))?;
    Ok(cat)
}

#[allow(clippy::too_many_arguments)]
pub async fn create_rule(db: &Db, category: Option<&str>, min_severity: i32, area: &AreaCode, levels: Vec<LevelSpec>, auto_raise: bool, actor: &Actor) -> StoreResult<RuleView> {
    let cat = checked_rule(db, category, min_severity, area, &levels).await?;
    let mut tx = db.begin().await?;
    let id: i64 = run_tx!(&mut tx, c => sqlx::query_scalar("INSERT INTO escalation_rules (category_code, min_severity, area_code, levels, created_at, auto_raise) VALUES ($1,$2,$3,$4,$5,$6) RETURNING id")
        .bind(cat.as_ref().map(|c| c.as_str().to_string())).bind(min_severity).bind(area.as_str()).bind(serde_json::to_string(&levels).unwrap()).bind(crate::now()).bind(auto_raise)
        .fetch_one(&mut **c).await?);
    audit::append(&mut tx, actor, "escalation_rule.create", "escalation_rule", &id.to_string(), serde_json::json!({"area": area, "category": category, "levels": levels.len(), "auto_raise": auto_raise})).await?;
    tx.commit().await?;
    db.memo.forget_all(); // the auto-raise rules decide which intakes go first (see crate::memo)
    Ok(RuleView { id, category_code: category.map(str::to_string), min_severity, area_code: area.to_string(), levels, disabled: false, auto_raise })
}

/// Turns automatic raising on or off for one rule (audited). The updated rule and its area.
pub async fn set_auto_raise(db: &Db, id: i64, auto_raise: bool, actor: &Actor) -> StoreResult<(RuleView, AreaPath)> {
    let mut tx = db.begin().await?;
    let n = run_tx!(&mut tx, c => sqlx::query("UPDATE escalation_rules SET auto_raise = $2 WHERE id = $1").bind(id).bind(auto_raise).execute(&mut **c).await?.rows_affected());
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    audit::append(&mut tx, actor, "escalation_rule.auto_raise", "escalation_rule", &id.to_string(), serde_json::json!({"auto_raise": auto_raise})).await?;
    tx.commit().await?;
    db.memo.forget_all(); // the auto-raise rules decide which intakes go first (see crate::memo)
    get_rule(db, id).await
}

/// Replaces a rule's category, severity, area and levels (the audit entry keeps the old ones).
pub async fn update_rule(db: &Db, id: i64, category: Option<&str>, min_severity: i32, area: &AreaCode, levels: Vec<LevelSpec>, actor: &Actor) -> StoreResult<RuleView> {
    let before = get_rule(db, id).await?.0;
    let cat = checked_rule(db, category, min_severity, area, &levels).await?;
    let mut tx = db.begin().await?;
    run_tx!(&mut tx, c => { sqlx::query("UPDATE escalation_rules SET category_code = $2, min_severity = $3, area_code = $4, levels = $5, updated_at = $6 WHERE id = $1")
        .bind(id).bind(cat.as_ref().map(|c| c.as_str().to_string())).bind(min_severity).bind(area.as_str()).bind(serde_json::to_string(&levels).unwrap()).bind(crate::now())
        .execute(&mut **c).await?; });
    audit::append(&mut tx, actor, "escalation_rule.update", "escalation_rule", &id.to_string(), serde_json::json!({"before": before, "area": area, "category": category, "levels": levels.len()})).await?;
    tx.commit().await?;
    db.memo.forget_all(); // the auto-raise rules decide which intakes go first (see crate::memo)
    Ok(RuleView { id, category_code: category.map(str::to_string), min_severity, area_code: area.to_string(), levels, disabled: before.disabled, auto_raise: before.auto_raise })
}

/// Disables a rule (alerts it covered fall to the next most specific rule) or enables it again.
pub async fn set_rule_disabled(db: &Db, id: i64, disabled: bool, actor: &Actor) -> StoreResult<RuleView> {
    get_rule(db, id).await?;
    let mut tx = db.begin().await?;
    let now = crate::now();
    run_tx!(&mut tx, c => { sqlx::query("UPDATE escalation_rules SET disabled_at = $2, updated_at = $3 WHERE id = $1")
        .bind(id).bind(disabled.then_some(now)).bind(now).execute(&mut **c).await?; });
    let action = if disabled { "escalation_rule.disable" } else { "escalation_rule.enable" };
    audit::append(&mut tx, actor, action, "escalation_rule", &id.to_string(), serde_json::json!({})).await?;
    tx.commit().await?;
    db.memo.forget_all(); // the auto-raise rules decide which intakes go first (see crate::memo)
    Ok(get_rule(db, id).await?.0)
}

type RuleRow = (i64, Option<String>, i32, String, String, String, bool, bool);
const RULE_SELECT: &str = "SELECT r.id, r.category_code, r.min_severity, r.area_code, r.levels, a.path, r.disabled_at IS NOT NULL, r.auto_raise FROM escalation_rules r JOIN areas a ON a.code = r.area_code";

fn rule_of((id, category_code, min_severity, area_code, levels, path, disabled, auto_raise): RuleRow) -> (RuleView, AreaPath) {
    (RuleView { id, category_code, min_severity, area_code, levels: serde_json::from_str(&levels).unwrap_or_default(), disabled, auto_raise }, AreaPath(path))
}

/// One rule and the path of its area (disabled or not).
pub async fn get_rule(db: &Db, id: i64) -> StoreResult<(RuleView, AreaPath)> {
    let row: Option<RuleRow> = run!(&db.write, c => sqlx::query_as(&format!("{RULE_SELECT} WHERE r.id = $1")).bind(id).fetch_optional(c).await?);
    row.map(rule_of).ok_or(StoreError::NotFound)
}

/// Every rule, disabled ones included (flagged), oldest first.
pub async fn list_rules(db: &Db) -> StoreResult<Vec<(RuleView, AreaPath)>> {
    let rows: Vec<RuleRow> = run!(&db.read, c => sqlx::query_as(&format!("{RULE_SELECT} ORDER BY r.id")).fetch_all(c).await?);
    Ok(rows.into_iter().map(rule_of).collect())
}

/// The escalation rules as the domain reads them (to name the levels of an alert's escalation).
pub async fn rules(db: &Db) -> StoreResult<Vec<EscalationRule>> {
    let mut out = Vec::new();
    for (r, path) in list_rules(db).await?.into_iter().filter(|(r, _)| !r.disabled) {
        let cat = r.category_code.as_deref().and_then(|c| CategoryCode::parse(c).ok());
        let Ok(sev) = Severity::from_level(r.min_severity as u8) else { continue };
        let Ok(levels) = to_domain_levels(&r.levels) else { continue };
        if let Ok(rule) = EscalationRule::new(cat, sev, path, levels) {
            out.push(rule.with_auto_raise(r.auto_raise));
        }
    }
    Ok(out)
}

// ---- Indicators ----

/// Early-warning indicators for an area and period, computed from the alert records of that
/// period only (the domain counts alerts by reception time; older ones never enter the figures).
/// SQL aggregates the alerts' narrow fact columns ([`crate::alert_facts`]).
pub async fn indicators(db: &Db, area: &AreaPath, period: Period, as_of: DateTime<Utc>) -> StoreResult<Indicators> {
    crate::alert_facts::indicators(db, area, period, as_of).await
}

/// The same indicators computed by the domain from every alert document of the period (the
/// slow way: the tests' reference and the benchmark's "before").
pub async fn indicators_from_documents(db: &Db, area: &AreaPath, period: Period, as_of: DateTime<Utc>) -> StoreResult<Indicators> {
    let (lo, hi) = area.descendant_range();
    // May lag a few seconds behind the primary (a replica with --db-read): a dashboard figure.
    let docs: Vec<String> = run!(&db.replica, c => sqlx::query_scalar(
        "SELECT doc FROM alerts WHERE (area_path = $1 OR (area_path >= $2 AND area_path < $3)) AND reported_at >= $4 AND reported_at < $5 AND merged_into IS NULL"
    ).bind(&area.0).bind(lo).bind(hi).bind(period.start).bind(period.end).fetch_all(c).await?);
    let alerts: Vec<Alert> = docs.iter().filter_map(|d| serde_json::from_str(d).ok()).collect();
    Ok(compute(&alerts, area, period, as_of))
}

/// MINUSMA's indicator — "percentage of interventions after an early warning in which
/// violence was prevented or stopped" — for the alerts of `area`'s subtree first reported in
/// `period` (half-open, by reception time), as known at `as_of`. This is the function the
/// results framework's indicator interface reads: it returns the value with the counts it is
/// made of, so a figure in a report to donors can be traced alert by alert.
///
/// `value` = (prevented + stopped) / (prevented + stopped + not prevented); false alarms,
/// unknown outcomes and interventions not yet closed are left out of the denominator and
/// counted in `counts` (see `vigie_domain::early_warning::indicators::InterventionCounts`);
/// `lower_bound` counts unknown outcomes as failures. `None` when nothing can be judged yet.
/// Events merged into another count once, through the event that took them.
pub async fn minusma_indicator(db: &Db, area: &AreaPath, period: Period, as_of: DateTime<Utc>) -> StoreResult<MinusmaIndicator> {
    let counts = indicators(db, area, period, as_of).await?.interventions;
    Ok(MinusmaIndicator {
        numerator: counts.prevented + counts.stopped,
        denominator: counts.prevented + counts.stopped + counts.not_prevented,
        value: counts.share,
        lower_bound: counts.share_if_unknown_failed,
        counts,
    })
}

/// The value of [`minusma_indicator`] and what it is made of.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MinusmaIndicator {
    /// Interventions closed with violence prevented or stopped.
    pub numerator: usize,
    /// Interventions closed with a known, relevant outcome.
    pub denominator: usize,
    /// numerator / denominator, in [0, 1].
    pub value: Option<f64>,
    /// The same share if every unknown outcome were a failure.
    pub lower_bound: Option<f64>,
    pub counts: vigie_domain::early_warning::indicators::InterventionCounts,
}
