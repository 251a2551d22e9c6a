//! `/api/v1/committees`, `/api/v1/decisions`, `/api/v1/plan-actions` and
//! `/api/v1/indicators/governance`: committees and mechanisms of local security governance,
//! their members, meetings, decisions (with follow-up), local security plans, and the
//! indicators they feed. Reads need `committees.read`, writes `committees.write`, over the
//! committee's area; linking a meeting to an alert also needs `reports.read` over the alert.

use super::{ApiQuery, PageOf, Paging};
use crate::auth::Auth;
use crate::error::{ApiError, ApiJson};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};
use vigie_domain::access::Permission;
use vigie_domain::area::{AreaCode, AreaPath};
use vigie_domain::governance::{
    parse_date, parse_member, ActionStatus, AgeGroup, AttendanceCell, CommitteeInput, CommitteeKind, CommitteeStatus, DecisionInput, GovMsg,
    MeetingInput, Member, PlanAction, PlanInput, Sex,
};
use vigie_domain::{Invalid, Msg};
use vigie_storage::governance::{self as gov, CommitteeFilter, CommitteeView, DayPeriod, DecisionView, GovernanceIndicators, MeetingView, PlanView};
use vigie_storage::StoreError;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_committees, create_committee))
        .routes(routes!(get_committee))
        .routes(routes!(add_members))
        .routes(routes!(list_meetings, record_meeting))
        .routes(routes!(decision_follow_up))
        .routes(routes!(create_plan))
        .routes(routes!(action_status))
        .routes(routes!(governance_indicators))
}

pub(crate) fn today(s: &AppState) -> NaiveDate {
    s.now().date_naive()
}

fn gov_err(field: &str, m: GovMsg) -> Invalid {
    Invalid::new(field, Msg::from(m))
}

/// Collects every invalid field of a body into one problem.
pub(crate) fn invalid(errs: Vec<Invalid>) -> ApiError {
    ApiError::from(StoreError::InvalidMany(errs))
}

pub(crate) fn date_field(raw: &str, field: &str, errs: &mut Vec<Invalid>) -> Option<NaiveDate> {
    parse_date(raw).map_err(|m| errs.push(gov_err(field, m))).ok()
}

/// An area given by code, as a path, refused if unknown.
pub(crate) async fn area_path(s: &AppState, code: &str, field: &str) -> Result<AreaPath, ApiError> {
    let code = AreaCode::parse(code).map_err(|m| ApiError::bad_request(field, m))?;
    Ok(vigie_storage::areas::path_of(&s.db, &code, field).await?)
}

async fn committee_in_scope(s: &AppState, auth: &Auth, id: i64, perm: Permission) -> Result<AreaPath, ApiError> {
    auth.require(perm, vigie_domain::access::Target::AnyArea)?;
    let p = gov::committee_area(&s.db, id).await?;
    auth.require_in(perm, &p)?;
    Ok(p)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CommitteeQuery {
    /// Area code: this subtree only (within yours).
    area: Option<String>,
    /// security_committee, conflict_prevention, land_commission, community_protection, cso_platform, municipal_police, other
    kind: Option<String>,
    /// functional, set_up, dormant (derived from meetings)
    status: Option<String>,
    page: Option<i64>,
    per_page: Option<i64>,
}

/// Committees and mechanisms within the caller's area, each with its derived status.
#[utoipa::path(get, path = "/api/v1/committees", tag = "governance", params(CommitteeQuery),
    responses((status = 200, body = PageOf<CommitteeView>), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
async fn list_committees(State(s): State<AppState>, auth: Auth, ApiQuery(q): ApiQuery<CommitteeQuery>) -> Result<Json<PageOf<CommitteeView>>, ApiError> {
    let scope = auth.scope(Permission::CommitteesRead)?;
    let (page, per) = Paging { page: q.page, per_page: q.per_page }.get()?;
    let kind = q.kind.as_deref().filter(|k| !k.is_empty()).map(CommitteeKind::parse).transpose().map_err(|m| ApiError::bad_request("kind", m.into()))?;
    let status = match q.status.as_deref().filter(|k| !k.is_empty()) {
        Some(st) => Some(CommitteeStatus::parse(st).ok_or_else(|| ApiError::bad_request("status", Msg::InvalidJson { reason: "functional, set_up or dormant".into() }))?),
        None => None,
    };
    let area = match q.area.as_deref().filter(|a| !a.is_empty()) {
        Some(a) => Some(area_path(&s, a, "area").await?),
        None => None,
    };
    let f = CommitteeFilter { kind, status, area };
    Ok(Json(gov::list_committees(&s.db, &scope, &f, today(&s), page, per).await?.into()))
}

#[derive(Deserialize, Serialize, utoipa::ToSchema, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct MemberBody {
    pub name: String,
    /// Président(e), secrétaire, membre…
    pub role: String,
    #[serde(default)]
    pub institution: String,
    /// F or M (femme / homme)
    pub sex: String,
    /// youth (under 35), adult, elder (60+)
    pub age_group: String,
}

pub(crate) fn members_of(body: &[MemberBody], errs: &mut Vec<Invalid>) -> Vec<Member> {
    let mut out = Vec::new();
    for (i, m) in body.iter().enumerate() {
        match parse_member(&format!("members[{i}]."), &m.name, &m.role, &m.institution, &m.sex, &m.age_group) {
            Ok(m) => out.push(m),
            Err(es) => errs.extend(es),
        }
    }
    out
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCommittee {
    name: String,
    /// security_committee, conflict_prevention, land_commission, community_protection, cso_platform, municipal_police, other
    kind: String,
    area_code: String,
    /// YYYY-MM-DD (or DD/MM/YYYY)
    established_on: String,
    #[serde(default)]
    members: Vec<MemberBody>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Created {
    pub id: i64,
}

/// Create a committee or mechanism with its members. A member listed twice is refused.
#[utoipa::path(post, path = "/api/v1/committees", tag = "governance", request_body = NewCommittee,
    responses((status = 201, body = Created), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem), (status = 409, body = crate::error::Problem)))]
async fn create_committee(State(s): State<AppState>, auth: Auth, ApiJson(b): ApiJson<NewCommittee>) -> Result<(StatusCode, Json<Created>), ApiError> {
    auth.require(Permission::CommitteesWrite, vigie_domain::access::Target::AnyArea)?;
    let path = area_path(&s, &b.area_code, "area_code").await?;
    auth.require_in(Permission::CommitteesWrite, &path)?;
    let mut errs = Vec::new();
    let kind = CommitteeKind::parse(&b.kind).map_err(|m| errs.push(gov_err("kind", m))).ok();
    let est = date_field(&b.established_on, "established_on", &mut errs);
    let members = members_of(&b.members, &mut errs);
    let (Some(kind), Some(established_on), true) = (kind, est, errs.is_empty()) else { return Err(invalid(errs)) };
    let area = AreaCode::parse(&b.area_code).map_err(|m| ApiError::bad_request("area_code", m))?;
    let input = CommitteeInput { name: b.name, kind, area, established_on, members };
    let id = gov::create_committee(&s.db, &input, &auth.actor(), today(&s)).await.map_err(conflict_as_invalid)?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// A committee that exists already in the area comes back as a conflict naming the field.
fn conflict_as_invalid(e: StoreError) -> ApiError {
    match e {
        StoreError::Invalid(i) if matches!(&i.msg, Msg::Governance(g) if matches!(**g, GovMsg::DuplicateCommittee { .. })) => {
            let mut e = ApiError::from(i);
            e.status = StatusCode::CONFLICT;
            e
        }
        e => e.into(),
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CommitteeDetail {
    pub committee: CommitteeView,
    pub meetings: Vec<MeetingView>,
    pub plans: Vec<PlanView>,
}

/// A committee with its members, derived status, meetings (decisions and follow-up) and plans.
#[utoipa::path(get, path = "/api/v1/committees/{id}", tag = "governance", params(("id" = i64, Path)),
    responses((status = 200, body = CommitteeDetail), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
async fn get_committee(State(s): State<AppState>, auth: Auth, Path(id): Path<i64>) -> Result<Json<CommitteeDetail>, ApiError> {
    committee_in_scope(&s, &auth, id, Permission::CommitteesRead).await?;
    let t = today(&s);
    Ok(Json(CommitteeDetail {
        committee: gov::get_committee(&s.db, id, t).await?,
        meetings: gov::meetings(&s.db, id, t).await?,
        plans: gov::plans(&s.db, id, t).await?,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MembersBody {
    members: Vec<MemberBody>,
}

/// Add members to a committee; a name already among its members is refused.
#[utoipa::path(post, path = "/api/v1/committees/{id}/members", tag = "governance", params(("id" = i64, Path)), request_body = MembersBody,
    responses((status = 204), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
async fn add_members(State(s): State<AppState>, auth: Auth, Path(id): Path<i64>, ApiJson(b): ApiJson<MembersBody>) -> Result<StatusCode, ApiError> {
    committee_in_scope(&s, &auth, id, Permission::CommitteesWrite).await?;
    let mut errs = Vec::new();
    let members = members_of(&b.members, &mut errs);
    if !errs.is_empty() {
        return Err(invalid(errs));
    }
    gov::add_members(&s.db, id, &members, &auth.actor()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A committee's meetings, newest first.
#[utoipa::path(get, path = "/api/v1/committees/{id}/meetings", tag = "governance", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<MeetingView>), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
async fn list_meetings(State(s): State<AppState>, auth: Auth, Path(id): Path<i64>) -> Result<Json<Vec<MeetingView>>, ApiError> {
    committee_in_scope(&s, &auth, id, Permission::CommitteesRead).await?;
    Ok(Json(gov::meetings(&s.db, id, today(&s)).await?))
}

#[derive(Deserialize, Serialize, utoipa::ToSchema, Clone)]
#[serde(deny_unknown_fields)]
pub struct AttendanceBody {
    /// F or M
    pub sex: String,
    /// youth, adult, elder
    pub age_group: String,
    pub count: u32,
}

#[derive(Deserialize, Serialize, utoipa::ToSchema, Clone)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    pub text: String,
    pub responsible: String,
    /// YYYY-MM-DD
    pub due_on: String,
}

#[derive(Deserialize, Serialize, utoipa::ToSchema, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct MeetingBody {
    /// YYYY-MM-DD
    pub held_on: String,
    pub agenda: String,
    #[serde(default)]
    pub minutes: Option<String>,
    /// Attendees by sex and age group.
    pub attendance: Vec<AttendanceBody>,
    #[serde(default)]
    pub decisions: Vec<DecisionBody>,
    /// Early-warning events / alerts this meeting's report deals with.
    #[serde(default)]
    pub alert_ids: Vec<i64>,
}

impl MeetingBody {
    pub(crate) fn parse(&self) -> Result<MeetingInput, Vec<Invalid>> {
        let mut errs = Vec::new();
        let held_on = date_field(&self.held_on, "held_on", &mut errs);
        let mut attendance = Vec::new();
        for (i, a) in self.attendance.iter().enumerate() {
            let sex = Sex::parse(&a.sex).map_err(|m| errs.push(gov_err(&format!("attendance[{i}].sex"), m))).ok();
            let age = AgeGroup::parse(&a.age_group).map_err(|m| errs.push(gov_err(&format!("attendance[{i}].age_group"), m))).ok();
            if let (Some(sex), Some(age_group)) = (sex, age) {
                attendance.push(AttendanceCell { sex, age_group, count: a.count });
            }
        }
        let mut decisions = Vec::new();
        for (i, d) in self.decisions.iter().enumerate() {
            if let Some(due_on) = date_field(&d.due_on, &format!("decisions[{i}].due_on"), &mut errs) {
                decisions.push(DecisionInput { text: d.text.clone(), responsible: d.responsible.clone(), due_on });
            }
        }
        match held_on {
            Some(held_on) if errs.is_empty() => Ok(MeetingInput {
                held_on,
                agenda: self.agenda.clone(),
                minutes: self.minutes.clone(),
                attendance,
                decisions,
                alert_ids: self.alert_ids.clone(),
            }),
            _ => Err(errs),
        }
    }
}

/// Checks the caller may read each alert linked to a meeting (`reports.read` over its area).
pub(crate) async fn require_alerts(s: &AppState, auth: &Auth, ids: &[i64]) -> Result<(), ApiError> {
    for (i, id) in ids.iter().enumerate() {
        match vigie_storage::alerts::get(&s.db, *id).await {
            Ok(a) => super::reports::require_record(auth, Permission::ReportsRead, a.area_path.as_deref())
                .map_err(|_| ApiError::from(gov_err(&format!("alert_ids[{i}]"), GovMsg::AlertOutsideArea { id: *id })))?,
            Err(StoreError::NotFound) => return Err(gov_err(&format!("alert_ids[{i}]"), GovMsg::UnknownAlert { id: *id }).into()),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Record a meeting held: attendance by sex and age group, agenda, decisions (responsible party,
/// due date), minutes, and the early-warning alerts its report deals with. Refused if dated
/// before the committee existed or in the future.
#[utoipa::path(post, path = "/api/v1/committees/{id}/meetings", tag = "governance", params(("id" = i64, Path)), request_body = MeetingBody,
    responses((status = 201, body = Created), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
async fn record_meeting(State(s): State<AppState>, auth: Auth, Path(id): Path<i64>, ApiJson(b): ApiJson<MeetingBody>) -> Result<(StatusCode, Json<Created>), ApiError> {
    committee_in_scope(&s, &auth, id, Permission::CommitteesWrite).await?;
    let m = b.parse().map_err(invalid)?;
    require_alerts(&s, &auth, &m.alert_ids).await?;
    let mid = gov::record_meeting(&s.db, id, &m, &auth.actor(), today(&s)).await?;
    Ok((StatusCode::CREATED, Json(Created { id: mid })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowUpBody {
    /// Date the decision was carried out (YYYY-MM-DD); null: not carried out.
    done_on: Option<String>,
}

/// Follow-up of a decision: the date it was carried out. Its status (done, in progress, late)
/// is then derived from the dates.
#[utoipa::path(post, path = "/api/v1/decisions/{id}/follow-up", tag = "governance", params(("id" = i64, Path)), request_body = FollowUpBody,
    responses((status = 200, body = DecisionView), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
async fn decision_follow_up(State(s): State<AppState>, auth: Auth, Path(id): Path<i64>, ApiJson(b): ApiJson<FollowUpBody>) -> Result<Json<DecisionView>, ApiError> {
    auth.require(Permission::CommitteesWrite, vigie_domain::access::Target::AnyArea)?;
    let (_, path) = gov::decision_committee(&s.db, id).await?;
    auth.require_in(Permission::CommitteesWrite, &path)?;
    let done_on = match b.done_on.as_deref().filter(|d| !d.trim().is_empty()) {
        Some(d) => Some(parse_date(d).map_err(|m| ApiError::from(gov_err("done_on", m)))?),
        None => None,
    };
    Ok(Json(gov::set_decision_done(&s.db, id, done_on, &auth.actor(), today(&s)).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionBody {
    action: String,
    responsible: String,
    /// YYYY-MM-DD
    deadline: String,
    /// planned (default), in_progress, done, cancelled
    #[serde(default)]
    status: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanBody {
    title: String,
    starts_on: String,
    ends_on: String,
    actions: Vec<ActionBody>,
}

/// A committee's local security plan: actions, responsible parties, deadlines and status.
#[utoipa::path(post, path = "/api/v1/committees/{id}/plans", tag = "governance", params(("id" = i64, Path)), request_body = PlanBody,
    responses((status = 201, body = Created), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
async fn create_plan(State(s): State<AppState>, auth: Auth, Path(id): Path<i64>, ApiJson(b): ApiJson<PlanBody>) -> Result<(StatusCode, Json<Created>), ApiError> {
    committee_in_scope(&s, &auth, id, Permission::CommitteesWrite).await?;
    let mut errs = Vec::new();
    let starts_on = date_field(&b.starts_on, "starts_on", &mut errs);
    let ends_on = date_field(&b.ends_on, "ends_on", &mut errs);
    let mut actions = Vec::new();
    for (i, a) in b.actions.iter().enumerate() {
        let deadline = date_field(&a.deadline, &format!("actions[{i}].deadline"), &mut errs);
        let status = match a.status.as_deref().filter(|s| !s.is_empty()) {
            Some(st) => ActionStatus::parse(st).map_err(|m| errs.push(gov_err(&format!("actions[{i}].status"), m))).ok(),
            None => Some(ActionStatus::Planned),
        };
        if let (Some(deadline), Some(status)) = (deadline, status) {
            actions.push(PlanAction { action: a.action.clone(), responsible: a.responsible.clone(), deadline, status });
        }
    }
    let (Some(starts_on), Some(ends_on), true) = (starts_on, ends_on, errs.is_empty()) else { return Err(invalid(errs)) };
    let pid = gov::create_plan(&s.db, id, &PlanInput { title: b.title, starts_on, ends_on, actions }, &auth.actor()).await?;
    Ok((StatusCode::CREATED, Json(Created { id: pid })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusBody {
    /// planned, in_progress, done, cancelled
    status: String,
}

/// Update the status of a local security plan's action.
#[utoipa::path(post, path = "/api/v1/plan-actions/{id}/status", tag = "governance", params(("id" = i64, Path)), request_body = StatusBody,
    responses((status = 204), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
async fn action_status(State(s): State<AppState>, auth: Auth, Path(id): Path<i64>, ApiJson(b): ApiJson<StatusBody>) -> Result<StatusCode, ApiError> {
    auth.require(Permission::CommitteesWrite, vigie_domain::access::Target::AnyArea)?;
    let (_, path) = gov::action_committee(&s.db, id).await?;
    auth.require_in(Permission::CommitteesWrite, &path)?;
    let status = ActionStatus::parse(&b.status).map_err(|m| ApiError::from(gov_err("status", m)))?;
    gov::set_action_status(&s.db, id, status, &auth.actor()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GovIndicatorQuery {
    /// Area code (default: the whole tree, for those who see it).
    area: Option<String>,
    /// YYYY-MM-DD, first day included
    from: String,
    /// YYYY-MM-DD, last day included
    to: String,
}

/// Governance indicators for an area and period: functional committees by area (met in the
/// quarter up to the period's end), women and youth among members and attendees, decisions
/// implemented on time; each with its counts.
#[utoipa::path(get, path = "/api/v1/indicators/governance", tag = "governance", params(GovIndicatorQuery),
    responses((status = 200, body = GovernanceIndicators), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
async fn governance_indicators(State(s): State<AppState>, auth: Auth, ApiQuery(q): ApiQuery<GovIndicatorQuery>) -> Result<Json<GovernanceIndicators>, ApiError> {
    let area = match q.area.as_deref().filter(|a| !a.is_empty()) {
        Some(c) => area_path(&s, c, "area").await?,
        None => vigie_storage::areas::root_paths(&s.db).await?.into_iter().next().ok_or(Msg::NotFound)?,
    };
    auth.require_in(Permission::CommitteesRead, &area)?;
    let mut errs = Vec::new();
    let from = date_field(&q.from, "from", &mut errs);
    let to = date_field(&q.to, "to", &mut errs);
    let (Some(from), Some(to), true) = (from, to, errs.is_empty()) else { return Err(invalid(errs)) };
    let period = DayPeriod::new(from, to)?;
    Ok(Json(gov::indicators(&s.db, &area, period, today(&s)).await?))
}
