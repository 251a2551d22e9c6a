//! Committees and mechanisms of local security governance, their members, meetings (with
//! attendance by sex and age group, decisions and their follow-up, links to early-warning
//! alerts) and local security plans. Status and follow-up are never stored: they are derived
//! from dates by `vigie_domain::governance` each time they are read, so they cannot go stale.
//!
//! Every write carries its audit entry in the same transaction.
//!
//! Indicator hook (for the results framework): [`functional_committees_by_area`],
//! [`participation`] and [`decisions_on_time`] each take an area subtree and a period and
//! return the counts behind the figure; [`indicators`] bundles the three.

use crate::audit::{self, Actor};
use crate::{bind_args, run, run_tx, scope_sql, Arg, Db, Page, StoreError, StoreResult, Tx};
use chrono::NaiveDate;
use serde::Serialize;
use vigie_domain::area::AreaPath;
use vigie_domain::governance::import::CommitteeRow;
use vigie_domain::governance::indicators::{self as ind, AreaCommittees, CommitteeFacts, Participation, Ratio};
use vigie_domain::governance::{
    check_done_on, check_new_members, committee_status, follow_up, action_late, ActionStatus, AgeGroup, AttendanceCell, CommitteeInput,
    CommitteeKind, CommitteeStatus, GovMsg, MeetingInput, Member, PlanAction, PlanInput, Sex,
};
use vigie_domain::{Invalid, LineError, Msg};

fn gov(field: &str, m: GovMsg) -> StoreError {
    Invalid::new(field, Msg::from(m)).into()
}

fn many(errs: Vec<Invalid>) -> StoreError {
    StoreError::InvalidMany(errs)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MemberView {
    pub id: i64,
    pub name: String,
    pub role: String,
    pub institution: Option<String>,
    /// `f` or `m`
    pub sex: String,
    /// `youth`, `adult` or `elder`
    pub age_group: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CommitteeView {
    pub id: i64,
    pub name: String,
    /// security_committee, conflict_prevention, land_commission, community_protection, cso_platform, municipal_police, other
    pub kind: String,
    pub area_code: String,
    #[serde(skip)]
    pub area_path: String,
    pub established_on: NaiveDate,
    /// Derived: `functional` (met in the last quarter), `set_up` (younger than a quarter, not met yet) or `dormant`.
    pub status: String,
    pub last_meeting_on: Option<NaiveDate>,
    pub meetings_last_quarter: i64,
    pub members: Vec<MemberView>,
}

#[derive(sqlx::FromRow)]
struct CommitteeRowDb {
    id: i64,
    name: String,
    kind: String,
    area_code: String,
    area_path: String,
    established_on: NaiveDate,
}

const C_COLS: &str = "id, name, kind, area_code, area_path, established_on";

async fn meeting_dates(db: &Db, committee_id: i64) -> StoreResult<Vec<NaiveDate>> {
    Ok(run!(&db.read, c => sqlx::query_scalar("SELECT held_on FROM gov_meetings WHERE committee_id = $1 ORDER BY held_on").bind(committee_id).fetch_all(c).await?))
}

async fn members_of(db: &Db, committee_id: i64) -> StoreResult<Vec<MemberView>> {
    let rows: Vec<(i64, String, String, Option<String>, String, String)> = run!(&db.read, c => sqlx::query_as(
        "SELECT id, name, role, institution, sex, age_group FROM gov_members WHERE committee_id = $1 ORDER BY id"
    ).bind(committee_id).fetch_all(c).await?);
    Ok(rows.into_iter().map(|(id, name, role, institution, sex, age_group)| MemberView { id, name, role, institution, sex, age_group }).collect())
}

fn view(r: CommitteeRowDb, dates: &[NaiveDate], members: Vec<MemberView>, today: NaiveDate) -> CommitteeView {
    let from = vigie_domain::governance::quarter_start(today);
    CommitteeView {
        status: committee_status(r.established_on, dates, today).as_str().to_string(),
        last_meeting_on: dates.iter().filter(|d| **d <= today).max().copied(),
        meetings_last_quarter: dates.iter().filter(|d| **d >= from && **d <= today).count() as i64,
        id: r.id,
        name: r.name,
        kind: r.kind,
        area_code: r.area_code,
        area_path: r.area_path,
        established_on: r.established_on,
        members,
    }
}

async fn insert_committee(tx: &mut Tx, c: &CommitteeInput, path: &AreaPath, actor: &Actor) -> StoreResult<i64> {
    let now = crate::now();
    let key = vigie_domain::text::fold(&c.name);
    let exists: Option<i64> = run_tx!(tx, x => sqlx::query_scalar("SELECT id FROM gov_committees WHERE area_code = $1 AND name_key = $2").bind(c.area.as_str()).bind(&key).fetch_optional(&mut **x).await?);
    if exists.is_some() {
        return Err(gov("name", GovMsg::DuplicateCommittee { name: c.name.clone(), first_line: 0 }));
    }
    let id: i64 = run_tx!(tx, x => sqlx::query_scalar(
        "INSERT INTO gov_committees (name, name_key, kind, area_code, area_path, established_on, created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$7) RETURNING id"
    ).bind(&c.name).bind(&key).bind(c.kind.as_str()).bind(c.area.as_str()).bind(&path.0).bind(c.established_on).bind(now).fetch_one(&mut **x).await?);
    insert_members(tx, id, &c.members).await?;
    audit::append(tx, actor, "committee.create", "committee", &id.to_string(), serde_json::json!({
        "name": c.name, "kind": c.kind.as_str(), "area": c.area, "established_on": c.established_on, "members": c.members.len(),
    })).await?;
    Ok(id)
}

async fn insert_members(tx: &mut Tx, committee_id: i64, members: &[Member]) -> StoreResult<()> {
    for m in members {
        run_tx!(tx, x => { sqlx::query("INSERT INTO gov_members (committee_id, name, name_key, role, institution, sex, age_group) VALUES ($1,$2,$3,$4,$5,$6,$7)")
            .bind(committee_id).bind(&m.name).bind(m.key()).bind(&m.role).bind(&m.institution).bind(m.sex.as_str()).bind(m.age_group.as_str())
            .execute(&mut **x).await?; });
    }
    Ok(())
}

/// Creates a committee with its members (refusing a member listed twice).
pub async fn create_committee(db: &Db, c: &CommitteeInput, actor: &Actor, today: NaiveDate) -> StoreResult<i64> {
    c.validate(today)?;
    let path = crate::areas::path_of(db, &c.area, "area_code").await?;
    let mut tx = db.begin().await?;
    let id = insert_committee(&mut tx, c, &path, actor).await?;
    tx.commit().await?;
    Ok(id)
}

/// A committee's area path (for access checks before anything else is read).
pub async fn committee_area(db: &Db, id: i64) -> StoreResult<AreaPath> {
    let p: Option<String> = run!(&db.read, c => sqlx::query_scalar("SELECT area_path FROM gov_committees WHERE id = $1").bind(id).fetch_optional(c).await?);
    p.map(AreaPath).ok_or(StoreError::NotFound)
}

pub async fn get_committee(db: &Db, id: i64, today: NaiveDate) -> StoreResult<CommitteeView> {
    let r: Option<CommitteeRowDb> = run!(&db.read, c => sqlx::query_as(&format!("SELECT {C_COLS} FROM gov_committees WHERE id = $1")).bind(id).fetch_optional(c).await?);
    let r = r.ok_or(StoreError::NotFound)?;
    let dates = meeting_dates(db, id).await?;
    let members = members_of(db, id).await?;
    Ok(view(r, &dates, members, today))
}

#[derive(Debug, Clone, Default)]
pub struct CommitteeFilter {
    pub kind: Option<CommitteeKind>,
    pub status: Option<CommitteeStatus>,
    /// Restrict to this subtree (within the caller's scope).
    pub area: Option<AreaPath>,
}

/// Committees within `scope` (and the filter), by area then name; members left out (see [`get_committee`]).
pub async fn list_committees(db: &Db, scope: &[AreaPath], f: &CommitteeFilter, today: NaiveDate, page: i64, per_page: i64) -> StoreResult<Page<CommitteeView>> {
    let mut args = Vec::new();
    let mut conds = vec![scope_sql("area_path", scope, &mut args)];
    if let Some(a) = &f.area {
        conds.push(scope_sql("area_path", std::slice::from_ref(a), &mut args));
    }
    if let Some(k) = f.kind {
        args.push(Arg::Text(k.as_str().into()));
        conds.push(format!("kind = ${}", args.len()));
    }
    let sql = format!("SELECT {C_COLS} FROM gov_committees WHERE {} ORDER BY area_path, name, id", conds.join(" AND "));
    let rows: Vec<CommitteeRowDb> = run!(&db.read, c => bind_args!(sqlx::query_as(&sql), &args).fetch_all(c).await?);
    // Meeting dates of every listed committee at once (lists are a commune's or a region's worth).
    let dsql = format!("SELECT m.committee_id, m.held_on FROM gov_meetings m JOIN gov_committees c ON c.id = m.committee_id WHERE {}", conds.join(" AND ").replace("area_path", "c.area_path").replace("kind =", "c.kind ="));
    let dates: Vec<(i64, NaiveDate)> = run!(&db.read, c => bind_args!(sqlx::query_as(&dsql), &args).fetch_all(c).await?);
    let mut all: Vec<CommitteeView> = rows
        .into_iter()
        .map(|r| {
            let ds: Vec<NaiveDate> = dates.iter().filter(|(id, _)| *id == r.id).map(|(_, d)| *d).collect();
            view(r, &ds, Vec::new(), today)
        })
        .filter(|v| f.status.map_or(true, |s| v.status == s.as_str()))
        .collect();
    let total = all.len() as i64;
    let items: Vec<CommitteeView> = all.drain(..).skip(((page - 1) * per_page) as usize).take(per_page as usize).collect();
    Ok(Page { items, total, page, per_page })
}

/// Adds members to a committee; a name already there (or twice in the list) is refused.
pub async fn add_members(db: &Db, committee_id: i64, members: &[Member], actor: &Actor) -> StoreResult<()> {
    let existing: Vec<String> = run!(&db.read, c => sqlx::query_scalar("SELECT name FROM gov_members WHERE committee_id = $1 ORDER BY id").bind(committee_id).fetch_all(c).await?);
    check_new_members(&existing, members, "members")?;
    let mut tx = db.begin().await?;
    insert_members(&mut tx, committee_id, members).await?;
    audit::append(&mut tx, actor, "committee.members_add", "committee", &committee_id.to_string(), serde_json::json!({"added": members.iter().map(|m| &m.name).collect::<Vec<_>>()})).await?;
    tx.commit().await
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DecisionView {
    pub id: i64,
    pub meeting_id: i64,
    pub text: String,
    pub responsible: String,
    pub due_on: NaiveDate,
    pub done_on: Option<NaiveDate>,
    /// Derived from the dates: `done`, `in_progress` or `late`.
    pub follow_up: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AttendanceView {
    pub sex: String,
    pub age_group: String,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MeetingView {
    pub id: i64,
    pub committee_id: i64,
    pub held_on: NaiveDate,
    pub agenda: String,
    pub minutes: Option<String>,
    pub attendance: Vec<AttendanceView>,
    pub attendees: i64,
    pub women: i64,
    pub youth: i64,
    pub decisions: Vec<DecisionView>,
    /// Early-warning events and alerts this meeting dealt with.
    pub alert_ids: Vec<i64>,
}

/// Records a meeting with its attendance, decisions and linked alerts, after checking it against
/// the committee (not before it existed) and the calendar (not in the future). Each linked
/// alert must exist and lie in the committee's area (or the committee in the alert's).
pub async fn record_meeting(db: &Db, committee_id: i64, m: &MeetingInput, actor: &Actor, today: NaiveDate) -> StoreResult<i64> {
    let (est, cpath): (NaiveDate, String) = run!(&db.read, c => sqlx::query_as("SELECT established_on, area_path FROM gov_committees WHERE id = $1").bind(committee_id).fetch_optional(c).await?).ok_or(StoreError::NotFound)?;
    m.validate(est, today).map_err(many)?;
    let cpath = AreaPath(cpath);
    let mut ids = m.alert_ids.clone();
    ids.sort_unstable();
    ids.dedup();
    for (i, id) in ids.iter().enumerate() {
        let p: Option<Option<String>> = run!(&db.read, c => sqlx::query_scalar("SELECT area_path FROM alerts WHERE id = $1").bind(id).fetch_optional(c).await?);
        match p {
            None => return Err(gov(&format!("alert_ids[{i}]"), GovMsg::UnknownAlert { id: *id })),
            Some(p) => {
                let ap = AreaPath(p.unwrap_or_default());
                if ap.0.is_empty() || !(cpath.contains(&ap) || ap.contains(&cpath)) {
                    return Err(gov(&format!("alert_ids[{i}]"), GovMsg::AlertOutsideArea { id: *id }));
                }
            }
        }
    }
    let mut tx = db.begin().await?;
    let id: i64 = run_tx!(&mut tx, c => sqlx::query_scalar(
        "INSERT INTO gov_meetings (committee_id, held_on, agenda, minutes, created_at, created_by) VALUES ($1,$2,$3,$4,$5,$6) RETURNING id"
    ).bind(committee_id).bind(m.held_on).bind(vigie_domain::text::squeeze(&m.agenda)).bind(m.minutes.as_deref().map(str::trim).filter(|s| !s.is_empty()))
     .bind(crate::now()).bind(actor.id).fetch_one(&mut **c).await?);
    for a in m.attendance.iter().filter(|a| a.count > 0) {
        run_tx!(&mut tx, c => { sqlx::query("INSERT INTO gov_attendance (meeting_id, sex, age_group, count) VALUES ($1,$2,$3,$4)")
            .bind(id).bind(a.sex.as_str()).bind(a.age_group.as_str()).bind(a.count as i64).execute(&mut **c).await?; });
    }
    for d in &m.decisions {
        run_tx!(&mut tx, c => { sqlx::query("INSERT INTO gov_decisions (meeting_id, text, responsible, due_on) VALUES ($1,$2,$3,$4)")
            .bind(id).bind(vigie_domain::text::squeeze(&d.text)).bind(vigie_domain::text::squeeze(&d.responsible)).bind(d.due_on).execute(&mut **c).await?; });
    }
    for a in &ids {
        run_tx!(&mut tx, c => { sqlx::query("INSERT INTO gov_meeting_alerts (meeting_id, alert_id) VALUES ($1,$2)").bind(id).bind(a).execute(&mut **c).await?; });
    }
    audit::append(&mut tx, actor, "meeting.record", "committee", &committee_id.to_string(), serde_json::json!({
        "meeting": id, "held_on": m.held_on, "attendees": m.attendance.iter().map(|a| a.count as u64).sum::<u64>(), "decisions": m.decisions.len(), "alerts": ids,
    })).await?;
    tx.commit().await?;
    Ok(id)
}

fn decision_view(id: i64, meeting_id: i64, text: String, responsible: String, due_on: NaiveDate, done_on: Option<NaiveDate>, today: NaiveDate) -> DecisionView {
    DecisionView { follow_up: follow_up(due_on, done_on, today).as_str().to_string(), id, meeting_id, text, responsible, due_on, done_on }
}

type DecisionRow = (i64, i64, String, String, NaiveDate, Option<NaiveDate>);

/// A committee's meetings, newest first, each with attendance, decisions (and their follow-up) and alerts.
pub async fn meetings(db: &Db, committee_id: i64, today: NaiveDate) -> StoreResult<Vec<MeetingView>> {
    let rows: Vec<(i64, NaiveDate, String, Option<String>)> = run!(&db.read, c => sqlx::query_as(
        "SELECT id, held_on, agenda, minutes FROM gov_meetings WHERE committee_id = $1 ORDER BY held_on DESC, id DESC"
    ).bind(committee_id).fetch_all(c).await?);
    let att: Vec<(i64, String, String, i64)> = run!(&db.read, c => sqlx::query_as(
        "SELECT a.meeting_id, a.sex, a.age_group, a.count FROM gov_attendance a JOIN gov_meetings m ON m.id = a.meeting_id WHERE m.committee_id = $1 ORDER BY a.sex, a.age_group"
    ).bind(committee_id).fetch_all(c).await?);
    let decs: Vec<DecisionRow> = run!(&db.read, c => sqlx::query_as(
        "SELECT d.id, d.meeting_id, d.text, d.responsible, d.due_on, d.done_on FROM gov_decisions d JOIN gov_meetings m ON m.id = d.meeting_id WHERE m.committee_id = $1 ORDER BY d.id"
    ).bind(committee_id).fetch_all(c).await?);
    let links: Vec<(i64, i64)> = run!(&db.read, c => sqlx::query_as(
        "SELECT l.meeting_id, l.alert_id FROM gov_meeting_alerts l JOIN gov_meetings m ON m.id = l.meeting_id WHERE m.committee_id = $1 ORDER BY l.alert_id"
    ).bind(committee_id).fetch_all(c).await?);
    Ok(rows
        .into_iter()
        .map(|(id, held_on, agenda, minutes)| {
            let attendance: Vec<AttendanceView> =
                att.iter().filter(|a| a.0 == id).map(|a| AttendanceView { sex: a.1.clone(), age_group: a.2.clone(), count: a.3 }).collect();
            MeetingView {
                attendees: attendance.iter().map(|a| a.count).sum(),
                women: attendance.iter().filter(|a| a.sex == Sex::Female.as_str()).map(|a| a.count).sum(),
                youth: attendance.iter().filter(|a| a.age_group == AgeGroup::Youth.as_str()).map(|a| a.count).sum(),
                attendance,
                decisions: decs.iter().filter(|d| d.1 == id).cloned().map(|d| decision_view(d.0, d.1, d.2, d.3, d.4, d.5, today)).collect(),
                alert_ids: links.iter().filter(|l| l.0 == id).map(|l| l.1).collect(),
                id,
                committee_id,
                held_on,
                agenda,
                minutes,
            }
        })
        .collect())
}

/// The committee (and its area) a decision belongs to.
pub async fn decision_committee(db: &Db, decision_id: i64) -> StoreResult<(i64, AreaPath)> {
    let r: Option<(i64, String)> = run!(&db.read, c => sqlx::query_as(
        "SELECT c.id, c.area_path FROM gov_decisions d JOIN gov_meetings m ON m.id = d.meeting_id JOIN gov_committees c ON c.id = m.committee_id WHERE d.id = $1"
    ).bind(decision_id).fetch_optional(c).await?);
    r.map(|(id, p)| (id, AreaPath(p))).ok_or(StoreError::NotFound)
}

/// Records that a decision was carried out on `done_on` (or, with `None`, that it was not after all).
pub async fn set_decision_done(db: &Db, decision_id: i64, done_on: Option<NaiveDate>, actor: &Actor, today: NaiveDate) -> StoreResult<DecisionView> {
    let held_on: NaiveDate = run!(&db.read, c => sqlx::query_scalar("SELECT m.held_on FROM gov_decisions d JOIN gov_meetings m ON m.id = d.meeting_id WHERE d.id = $1").bind(decision_id).fetch_optional(c).await?).ok_or(StoreError::NotFound)?;
    if let Some(d) = done_on {
        check_done_on(d, held_on, today)?;
    }
    let mut tx = db.begin().await?;
    run_tx!(&mut tx, c => { sqlx::query("UPDATE gov_decisions SET done_on = $2 WHERE id = $1").bind(decision_id).bind(done_on).execute(&mut **c).await?; });
    audit::append(&mut tx, actor, "decision.follow_up", "decision", &decision_id.to_string(), serde_json::json!({"done_on": done_on})).await?;
    tx.commit().await?;
    let d: DecisionRow = run!(&db.read, c => sqlx::query_as("SELECT id, meeting_id, text, responsible, due_on, done_on FROM gov_decisions WHERE id = $1").bind(decision_id).fetch_one(c).await?);
    Ok(decision_view(d.0, d.1, d.2, d.3, d.4, d.5, today))
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ActionView {
    pub id: i64,
    pub action: String,
    pub responsible: String,
    pub deadline: NaiveDate,
    /// planned, in_progress, done, cancelled
    pub status: String,
    /// Past its deadline and neither done nor cancelled.
    pub late: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlanView {
    pub id: i64,
    pub committee_id: i64,
    pub title: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub actions: Vec<ActionView>,
}

pub async fn create_plan(db: &Db, committee_id: i64, p: &PlanInput, actor: &Actor) -> StoreResult<i64> {
    p.validate().map_err(many)?;
    committee_area(db, committee_id).await?;
    let mut tx = db.begin().await?;
    let id: i64 = run_tx!(&mut tx, c => sqlx::query_scalar("INSERT INTO gov_plans (committee_id, title, starts_on, ends_on, created_at) VALUES ($1,$2,$3,$4,$5) RETURNING id")
        .bind(committee_id).bind(vigie_domain::text::squeeze(&p.title)).bind(p.starts_on).bind(p.ends_on).bind(crate::now()).fetch_one(&mut **c).await?);
    for a in &p.actions {
        run_tx!(&mut tx, c => { sqlx::query("INSERT INTO gov_plan_actions (plan_id, action, responsible, deadline, status) VALUES ($1,$2,$3,$4,$5)")
            .bind(id).bind(vigie_domain::text::squeeze(&a.action)).bind(vigie_domain::text::squeeze(&a.responsible)).bind(a.deadline).bind(a.status.as_str()).execute(&mut **c).await?; });
    }
    audit::append(&mut tx, actor, "plan.create", "committee", &committee_id.to_string(), serde_json::json!({"plan": id, "title": p.title, "actions": p.actions.len()})).await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn plans(db: &Db, committee_id: i64, today: NaiveDate) -> StoreResult<Vec<PlanView>> {
    let ps: Vec<(i64, String, NaiveDate, NaiveDate)> = run!(&db.read, c => sqlx::query_as("SELECT id, title, starts_on, ends_on FROM gov_plans WHERE committee_id = $1 ORDER BY starts_on DESC, id DESC").bind(committee_id).fetch_all(c).await?);
    let acts: Vec<(i64, i64, String, String, NaiveDate, String)> = run!(&db.read, c => sqlx::query_as(
        "SELECT a.id, a.plan_id, a.action, a.responsible, a.deadline, a.status FROM gov_plan_actions a JOIN gov_plans p ON p.id = a.plan_id WHERE p.committee_id = $1 ORDER BY a.deadline, a.id"
    ).bind(committee_id).fetch_all(c).await?);
    Ok(ps
        .into_iter()
        .map(|(id, title, starts_on, ends_on)| PlanView {
            actions: acts
                .iter()
                .filter(|a| a.1 == id)
                .map(|a| {
                    let status = ActionStatus::parse(&a.5).unwrap_or(ActionStatus::Planned);
                    let late = action_late(&PlanAction { action: String::new(), responsible: String::new(), deadline: a.4, status }, today);
                    ActionView { id: a.0, action: a.2.clone(), responsible: a.3.clone(), deadline: a.4, status: a.5.clone(), late }
                })
                .collect(),
            id,
            committee_id,
            title,
            starts_on,
            ends_on,
        })
        .collect())
}

/// The committee (and its area) a plan action belongs to.
pub async fn action_committee(db: &Db, action_id: i64) -> StoreResult<(i64, AreaPath)> {
    let r: Option<(i64, String)> = run!(&db.read, c => sqlx::query_as(
        "SELECT c.id, c.area_path FROM gov_plan_actions a JOIN gov_plans p ON p.id = a.plan_id JOIN gov_committees c ON c.id = p.committee_id WHERE a.id = $1"
    ).bind(action_id).fetch_optional(c).await?);
    r.map(|(id, p)| (id, AreaPath(p))).ok_or(StoreError::NotFound)
}

pub async fn set_action_status(db: &Db, action_id: i64, status: ActionStatus, actor: &Actor) -> StoreResult<()> {
    let mut tx = db.begin().await?;
    let n = run_tx!(&mut tx, c => sqlx::query("UPDATE gov_plan_actions SET status = $2 WHERE id = $1").bind(action_id).bind(status.as_str()).execute(&mut **c).await?.rows_affected());
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    audit::append(&mut tx, actor, "plan_action.status", "plan_action", &action_id.to_string(), serde_json::json!({"status": status.as_str()})).await?;
    tx.commit().await
}

/// Applies an imported file: every committee with its members, or nothing (errors by line).
pub async fn import_committees(db: &Db, rows: &[CommitteeRow], actor: &Actor) -> StoreResult<usize> {
    let mut errors = Vec::new();
    let mut paths = Vec::new();
    for r in rows {
        match crate::areas::path_of(db, &r.committee.area, "area").await {
            Ok(p) => paths.push(p),
            Err(StoreError::Invalid(i)) => {
                errors.push(LineError { line: r.line, field: i.field, msg: i.msg });
                paths.push(AreaPath(String::new()));
            }
            Err(e) => return Err(e),
        }
    }
    if !errors.is_empty() {
        return Err(StoreError::Lines(errors));
    }
    let mut tx = db.begin().await?;
    for (r, p) in rows.iter().zip(&paths) {
        match insert_committee(&mut tx, &r.committee, p, actor).await {
            Ok(_) => {}
            Err(StoreError::Invalid(i)) => {
                let msg = match i.msg {
                    Msg::Governance(g) if matches!(*g, GovMsg::DuplicateCommittee { .. }) => Msg::from(GovMsg::DuplicateCommittee { name: r.committee.name.clone(), first_line: r.line }),
                    m => m,
                };
                errors.push(LineError { line: r.line, field: "committee".into(), msg });
            }
            Err(e) => return Err(e),
        }
    }
    if !errors.is_empty() {
        return Err(StoreError::Lines(errors)); // rolled back
    }
    tx.commit().await?;
    Ok(rows.len())
}

// ---------------------------------------------------------------------------------------------
// Indicators (the hook for the results framework's indicator interface).

/// A period of days, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DayPeriod {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl DayPeriod {
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<DayPeriod, Invalid> {
        if to < from {
            return Err(Invalid::new("to", Msg::InvalidPeriod));
        }
        Ok(DayPeriod { from, to })
    }
    /// The day figures are judged on: the period's end, or today if the period is not over.
    pub fn as_of(&self, today: NaiveDate) -> NaiveDate {
        self.to.min(today)
    }
}

fn subtree(area: &AreaPath, col: &str, args: &mut Vec<Arg>) -> String {
    scope_sql(col, std::slice::from_ref(area), args)
}

/// Number of functional committees (and set up, dormant, total) in `area`'s subtree, by the
/// committee's own area, as of the end of the period (or today if it is not over): a committee
/// is functional if it met in the quarter up to that day.
pub async fn functional_committees_by_area(db: &Db, area: &AreaPath, period: DayPeriod, today: NaiveDate) -> StoreResult<Vec<AreaCommittees>> {
    let mut args = Vec::new();
    let w = subtree(area, "area_path", &mut args);
    let sql = format!("SELECT id, area_code, established_on FROM gov_committees WHERE {w}");
    let cs: Vec<(i64, String, NaiveDate)> = run!(&db.read, c => bind_args!(sqlx::query_as(&sql), &args).fetch_all(c).await?);
    let w2 = w.replace("area_path", "c.area_path");
    let sql = format!("SELECT m.committee_id, m.held_on FROM gov_meetings m JOIN gov_committees c ON c.id = m.committee_id WHERE {w2}");
    let ms: Vec<(i64, NaiveDate)> = run!(&db.read, c => bind_args!(sqlx::query_as(&sql), &args).fetch_all(c).await?);
    let facts: Vec<CommitteeFacts> = cs
        .into_iter()
        .map(|(id, area, established_on)| CommitteeFacts { area, established_on, meetings: ms.iter().filter(|m| m.0 == id).map(|m| m.1).collect() })
        .collect();
    Ok(ind::committees_by_area(&facts, period.as_of(today)))
}

/// Women and youth among the members of committees of `area` set up by the end of the period,
/// and among attendees of their meetings held in the period.
pub async fn participation(db: &Db, area: &AreaPath, period: DayPeriod) -> StoreResult<(Participation, Participation)> {
    let mut args = Vec::new();
    let w = subtree(area, "c.area_path", &mut args);
    let n = args.len();
    let sql = format!("SELECT m.sex, m.age_group FROM gov_members m JOIN gov_committees c ON c.id = m.committee_id WHERE {w} AND c.established_on <= ${}", n + 1);
    let ms: Vec<(String, String)> = run!(&db.read, c => bind_args!(sqlx::query_as(&sql), &args).bind(period.to).fetch_all(c).await?);
    let members: Vec<(Sex, AgeGroup)> = ms.iter().filter_map(|(s, a)| Some((Sex::parse(s).ok()?, AgeGroup::parse(a).ok()?))).collect();
    let sql = format!(
        "SELECT a.sex, a.age_group, a.count FROM gov_attendance a JOIN gov_meetings m ON m.id = a.meeting_id JOIN gov_committees c ON c.id = m.committee_id \
         WHERE {w} AND m.held_on >= ${} AND m.held_on <= ${}", n + 1, n + 2
    );
    let at: Vec<(String, String, i64)> = run!(&db.read, c => bind_args!(sqlx::query_as(&sql), &args).bind(period.from).bind(period.to).fetch_all(c).await?);
    let cells: Vec<AttendanceCell> = at
        .iter()
        .filter_map(|(s, a, n)| Some(AttendanceCell { sex: Sex::parse(s).ok()?, age_group: AgeGroup::parse(a).ok()?, count: u32::try_from(*n).ok()? }))
        .collect();
    Ok((ind::member_participation(&members), ind::attendance_participation(&cells)))
}

/// Decisions of committees of `area` falling due in the period, implemented on time, judged as
/// of the end of the period (or today): see `vigie_domain::governance::indicators::decisions_on_time`.
pub async fn decisions_on_time(db: &Db, area: &AreaPath, period: DayPeriod, today: NaiveDate) -> StoreResult<Ratio> {
    let mut args = Vec::new();
    let w = subtree(area, "c.area_path", &mut args);
    let n = args.len();
    let sql = format!(
        "SELECT d.due_on, d.done_on FROM gov_decisions d JOIN gov_meetings m ON m.id = d.meeting_id JOIN gov_committees c ON c.id = m.committee_id \
         WHERE {w} AND d.due_on >= ${} AND d.due_on <= ${}", n + 1, n + 2
    );
    let ds: Vec<(NaiveDate, Option<NaiveDate>)> = run!(&db.read, c => bind_args!(sqlx::query_as(&sql), &args).bind(period.from).bind(period.to).fetch_all(c).await?);
    Ok(ind::decisions_on_time(&ds, period.as_of(today)))
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RatioView {
    pub numerator: u64,
    pub denominator: u64,
    /// numerator / denominator, none if nothing was counted.
    pub share: Option<f64>,
}

impl From<Ratio> for RatioView {
    fn from(r: Ratio) -> Self {
        RatioView { numerator: r.numerator, denominator: r.denominator, share: r.share() }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AreaCommitteesView {
    pub area: String,
    pub functional: u64,
    pub set_up: u64,
    pub dormant: u64,
    pub total: u64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GovernanceIndicators {
    pub period: DayPeriod,
    pub as_of: NaiveDate,
    pub functional_committees: u64,
    pub committees_by_area: Vec<AreaCommitteesView>,
    pub women_among_members: RatioView,
    pub youth_among_members: RatioView,
    pub women_among_attendees: RatioView,
    pub youth_among_attendees: RatioView,
    pub decisions_on_time: RatioView,
}

/// The three governance indicators for an area subtree and a period, with their counts.
pub async fn indicators(db: &Db, area: &AreaPath, period: DayPeriod, today: NaiveDate) -> StoreResult<GovernanceIndicators> {
    let by_area = functional_committees_by_area(db, area, period, today).await?;
    let (members, attendees) = participation(db, area, period).await?;
    let on_time = decisions_on_time(db, area, period, today).await?;
    Ok(GovernanceIndicators {
        period,
        as_of: period.as_of(today),
        functional_committees: by_area.iter().map(|a| a.functional).sum(),
        committees_by_area: by_area
            .into_iter()
            .map(|a| AreaCommitteesView { area: a.area, functional: a.functional, set_up: a.set_up, dormant: a.dormant, total: a.total })
            .collect(),
        women_among_members: members.women.into(),
        youth_among_members: members.youth.into(),
        women_among_attendees: attendees.women.into(),
        youth_among_attendees: attendees.youth.into(),
        decisions_on_time: on_time.into(),
    })
}
