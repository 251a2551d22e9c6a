//! `/api/v1/cases`: protected cases for handlers. Access is layered: `cases.read` /
//! `cases.handle` over the case's area, the case's desk (a handler of another organisation is
//! refused; holders of `cases.read` over the whole tree see every desk), and per-case
//! exclusions (conflict of interest). Identity fields, messages and evidence are decrypted
//! only for handlers assigned to the case; storage checks it again and audits each reading.

use super::{ApiQuery, PageOf, Paging};
use crate::auth::Auth;
use crate::error::{ApiError, ApiJson};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa_axum::{router::OpenApiRouter, routes};
use vigie_domain::access::{Permission, Target};
use vigie_domain::area::{AreaCode, AreaPath};
use vigie_domain::cases::builtin::SUPERVISOR_ROLE;
use vigie_domain::cases::IdentityPolicy;
use vigie_domain::Msg;
use vigie_storage::cases::{self, CaseFilter, CaseHead, CaseView, EvidenceView, Lister, MessageView, Mover, NewCase, Opened, TransitionView};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_cases, create_case))
        .routes(routes!(export_cases))
        .routes(routes!(list_workflows))
        .routes(routes!(get_case))
        .routes(routes!(case_history))
        .routes(routes!(move_case))
        .routes(routes!(assign_handler))
        .routes(routes!(exclude_handler))
        .routes(routes!(list_messages, ask_holder))
        .routes(routes!(get_evidence))
        .routes(routes!(publish_outcome))
        .routes(routes!(refer_case))
        .routes(routes!(case_from_report))
}

/// The case, if the caller holds `perm` over its area, works at its desk (or sees every desk)
/// and is not excluded from it.
pub(crate) async fn load_for(s: &AppState, auth: &Auth, id: i64, perm: Permission) -> Result<CaseHead, ApiError> {
    auth.require(perm, Target::AnyArea)?;
    let h = cases::head(&s.db, id).await?;
    auth.require_in(perm, &h.area_path)?;
    if let Some(desk) = h.desk_org_id {
        let all_desks = auth.require(Permission::CasesRead, Target::Global).is_ok();
        if !all_desks && cases::user_org(&s.db, auth.principal.user_id).await? != Some(desk) {
            return Err(Msg::Forbidden.into());
        }
    }
    if cases::relation(&s.db, id, auth.principal.user_id).await?.excluded {
        return Err(Msg::Forbidden.into());
    }
    Ok(h)
}

pub(crate) fn rights(auth: &Auth, area: &AreaPath) -> vigie_domain::cases::Actor {
    vigie_domain::cases::Actor::for_area(&auth.principal, area)
}

pub(crate) fn require_supervisor(auth: &Auth, area: &AreaPath) -> Result<(), ApiError> {
    let r = rights(auth, area);
    if r.roles.contains(SUPERVISOR_ROLE) || r.roles.contains("admin") {
        Ok(())
    } else {
        Err(Msg::Forbidden.into())
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CaseQuery {
    /// denunciation, violation, inspection_mission, monitoring_finding
    workflow: Option<String>,
    state: Option<String>,
    /// Only open cases past their state's deadline.
    overdue: Option<bool>,
    /// Only open cases.
    open: Option<bool>,
    page: Option<i64>,
    per_page: Option<i64>,
}

pub(crate) async fn lister(s: &AppState, auth: &Auth) -> Result<Lister, ApiError> {
    Ok(Lister {
        user_id: auth.principal.user_id,
        org_id: cases::user_org(&s.db, auth.principal.user_id).await?,
        all_desks: auth.require(Permission::CasesRead, Target::Global).is_ok(),
    })
}

/// Cases in the caller's areas and desk, newest first; identity fields redacted.
#[utoipa::path(get, path = "/api/v1/cases", tag = "cases", params(CaseQuery),
    responses((status = 200, body = PageOf<CaseView>), (status = 403, body = crate::error::Problem)))]
async fn list_cases(State(s): State<AppState>, auth: Auth, ApiQuery(q): ApiQuery<CaseQuery>) -> Result<Json<PageOf<CaseView>>, ApiError> {
    let scope = auth.scope(Permission::CasesRead)?;
    let (page, per) = Paging { page: q.page, per_page: q.per_page }.get()?;
    let f = CaseFilter { workflow: q.workflow, state: q.state, overdue: q.overdue.unwrap_or(false), open_only: q.open.unwrap_or(false) };
    let who = lister(&s, &auth).await?;
    Ok(Json(cases::list(&s.db, &scope, &who, &f, page, per, s.now()).await?.into()))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCaseBody {
    workflow: String,
    area_code: String,
    /// The desk (organisation id) handling it; none: the area's triage queue.
    desk_org_id: Option<i64>,
    /// A title that names nobody (it is shown in lists and exports).
    title: String,
    /// Field values by key, as the workflow declares them.
    #[serde(default)]
    #[schema(value_type = Object)]
    fields: Map<String, Value>,
}

/// Open a case (a handler taking a complaint in person, planning a mission…). The answer holds
/// the receipt code for the person concerned, shown this once.
#[utoipa::path(post, path = "/api/v1/cases", tag = "cases", request_body = NewCaseBody,
    responses((status = 201, body = Opened), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
async fn create_case(State(s): State<AppState>, auth: Auth, ApiJson(b): ApiJson<NewCaseBody>) -> Result<(StatusCode, Json<Opened>), ApiError> {
    auth.require(Permission::CasesHandle, Target::AnyArea)?;
    let area = AreaCode::parse(&b.area_code).map_err(|m| ApiError::bad_request("area_code", m))?;
    let path = vigie_storage::areas::path_of(&s.db, &area, "area_code").await?;
    auth.require_in(Permission::CasesHandle, &path)?;
    if let Some(desk) = b.desk_org_id {
        let all_desks = auth.require(Permission::CasesRead, Target::Global).is_ok();
        if !all_desks && cases::user_org(&s.db, auth.principal.user_id).await? != Some(desk) {
            return Err(ApiError::from(Msg::Forbidden).field("desk_org_id"));
        }
    }
    let new = NewCase { workflow: b.workflow, area, desk_org_id: b.desk_org_id, title: b.title, fields: b.fields, report_id: None };
    let opened = cases::create(&s.db, new, Some(auth.principal.user_id), &auth.actor(), s.now()).await?;
    Ok((StatusCode::CREATED, Json(opened)))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct WorkflowView {
    key: String,
    /// The whole definition: states (with deadlines, required fields, public flag), fields
    /// (with the identity flag) and transitions (with who may take them).
    #[schema(value_type = Object)]
    definition: Value,
}

/// The case workflows and their rules.
#[utoipa::path(get, path = "/api/v1/case-workflows", tag = "cases",
    responses((status = 200, body = Vec<WorkflowView>), (status = 403, body = crate::error::Problem)))]
async fn list_workflows(auth: Auth) -> Result<Json<Vec<WorkflowView>>, ApiError> {
    auth.require(Permission::CasesRead, Target::AnyArea)?;
    Ok(Json(cases::workflows().iter().map(|w| WorkflowView { key: w.key().into(), definition: serde_json::to_value(w).unwrap_or_default() }).collect()))
}

/// One case. Identity fields are decrypted only for a handler assigned to it (and the reading
/// is audited); everyone else sees "[protégé]".
#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "cases", params(("id" = i64, Path)),
    responses((status = 200, body = CaseView), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
async fn get_case(State(s): State<AppState>, auth: Auth, Path(id): Path<i64>) -> Result<Json<CaseView>, ApiError> {
    load_for(&s, &auth, id, Permission::CasesRead).await?;
    Ok(Json(cases::view(&s.db, id, &auth.actor(), s.now()).await?))
}

/// The states a case went through, with who moved it and the deadlines.
#[utoipa::path(get, path = "/api/v1/cases/{id}/history", tag = "cases", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<TransitionView>), (status = 403, body = crate::error::Problem)))]
async fn case_history(State(s): State<AppState>, auth: Auth, Path(id): Path<i64>) -> Result<Json<Vec<TransitionView>>, ApiError> {
    load_for(&s, &auth, id, Permission::CasesRead).await?;
    Ok(Json(cases::history(&s.db, id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveBody {
    /// The state to enter.
    to: String,
    /// Fields to fill first (the state entered may require some). Identity fields may only be
    /// written by a handler assigned to the case.
    #[serde(default)]
    #[schema(value_type = Object)]
    fields: Map<String, Value>,
}

/// Move a case to another state. The workflow decides: an undeclared move or a closed case
/// is 409, a role that may not take the step 403, missing required fields 422.
#[utoipa::path(post, path = "/api/v1/cases/{id}/transitions", tag = "cases", params(("id" = i64, Path)), request_body = MoveBody,
    responses((status = 200, body = CaseView), (status = 403, body = crate::error::Problem), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
async fn move_case(State(s): State<AppState>, auth: Auth, Path(id): Path<i64>, ApiJson(b): ApiJson<MoveBody>) -> Result<Json<CaseView>, ApiError> {
    let h = load_for(&s, &auth, id, Permission::CasesHandle).await?;
    let actor = auth.actor();
    let who = Mover { actor: &actor, user_id: auth.principal.user_id, rights: rights(&auth, &h.area_path) };
    Ok(Json(cases::transition(&s.db, id, &b.to, b.fields, &who, s.now()).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HandlerBody {
    user_id: i64,
}

/// Assign a handler (who may then read identities). Case supervisors only; the handler must
/// hold `cases.handle` over the case's area, work at its desk and not be excluded.
#[utoipa::path(post, path = "/api/v1/cases/{id}/assignments", tag = "cases", params(("id" = i64, Path)), request_body = HandlerBody,
    responses((status = 204), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
async fn assign_handler(State(s): State<AppState>, auth: Auth, Path(id): Path<i64>, ApiJson(b): ApiJson<HandlerBody>) -> Result<StatusCode, ApiError> {
    let h = load_for(&s, &auth, id, Permission::CasesHandle).await?;
    require_supervisor(&auth, &h.area_path)?;
    cases::assign(&s.db, id, b.user_id, &auth.actor(), s.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExclusionBody {
    user_id: i64,
    /// Why (e.g. the case concerns the handler's own unit).
    reason: String,
}

/// Exclude a handler from a case (conflict of interest). Supervisors only. The handler loses
/// any assignment and is refused the case from then on.
#[utoipa::path(post, path = "/api/v1/cases/{id}/exclusions", tag = "cases", params(("id" = i64, Path)), request_body = ExclusionBody,
    responses((status = 204), (status = 403, body = crate::error::Problem)))]
async fn exclude_handler(State(s): State<AppState>, auth: Auth, Path(id): Path<i64>, ApiJson(b): ApiJson<ExclusionBody>) -> Result<StatusCode, ApiError> {
    let h = load_for(&s, &auth, id, Permission::CasesHandle).await?;
    require_supervisor(&auth, &h.area_path)?;
    cases::exclude(&s.db, id, b.user_id, &b.reason, &auth.actor(), s.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The thread with the receipt holder. Assigned handlers only (answers may name people).
#[utoipa::path(get, path = "/api/v1/cases/{id}/messages", tag = "cases", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<MessageView>), (status = 403, body = crate::error::Problem)))]
async fn list_messages(State(s): State<AppState>, auth: Auth, Path(id): Path<i64>) -> Result<Json<Vec<MessageView>>, ApiError> {
    load_for(&s, &auth, id, Permission::CasesRead).await?;
    Ok(Json(cases::messages(&s.db, id, &auth.actor()).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuestionBody {
    body: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Created {
    id: i64,
}

/// Ask the receipt holder a question; they read it with their code.
#[utoipa::path(post, path = "/api/v1/cases/{id}/messages", tag = "cases", params(("id" = i64, Path)), request_body = QuestionBody,
    responses((status = 201, body = Created), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
async fn ask_holder(State(s): State<AppState>, auth: Auth, Path(id): Path<i64>, ApiJson(b): ApiJson<QuestionBody>) -> Result<(StatusCode, Json<Created>), ApiError> {
    load_for(&s, &auth, id, Permission::CasesHandle).await?;
    let mid = cases::ask(&s.db, id, &b.body, &auth.actor(), s.now()).await?;
    Ok((StatusCode::CREATED, Json(Created { id: mid })))
}

/// Download one piece of evidence. Assigned handlers only; audited. Served as an attachment
/// with the checked type, never rendered inline.
#[utoipa::path(get, path = "/api/v1/cases/{id}/evidence/{evidence_id}", tag = "cases", params(("id" = i64, Path), ("evidence_id" = i64, Path)),
    responses((status = 200, description = "The file"), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
async fn get_evidence(State(s): State<AppState>, auth: Auth, Path((id, evidence_id)): Path<(i64, i64)>) -> Result<Response, ApiError> {
    load_for(&s, &auth, id, Permission::CasesRead).await?;
    let (e, bytes): (EvidenceView, Vec<u8>) = cases::evidence(&s.db, id, evidence_id, &auth.actor()).await?;
    Ok((
        [
            (header::CONTENT_TYPE, e.content_type.clone()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{}\"", e.file_name)),
            (header::CACHE_CONTROL, "no-store".to_string()),
            (header::HeaderName::from_static("x-content-sha256"), e.sha256.clone()),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishBody {
    /// The text published; default: the case's `outcome_summary` (or `outcome`) field. Must
    /// name nobody.
    summary: Option<String>,
}

/// Publish the outcome of a case in a public closing state (e.g. `outcome_published`). Only
/// those allowed to take the workflow step into that state may publish; once only.
#[utoipa::path(post, path = "/api/v1/cases/{id}/publication", tag = "cases", params(("id" = i64, Path)), request_body = PublishBody,
    responses((status = 200, body = CaseView), (status = 403, body = crate::error::Problem), (status = 409, body = crate::error::Problem)))]
async fn publish_outcome(State(s): State<AppState>, auth: Auth, Path(id): Path<i64>, ApiJson(b): ApiJson<PublishBody>) -> Result<Json<CaseView>, ApiError> {
    let h = load_for(&s, &auth, id, Permission::CasesHandle).await?;
    let actor = auth.actor();
    let who = Mover { actor: &actor, user_id: auth.principal.user_id, rights: rights(&auth, &h.area_path) };
    let out = cases::publish(&s.db, id, b.summary.as_deref(), &who, s.now()).await;
    match out {
        Err(vigie_storage::StoreError::Invalid(i)) if i.msg == Msg::Conflict => Err(ApiError::new(StatusCode::CONFLICT, Msg::Conflict).field(i.field)),
        o => Ok(Json(o?)),
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferBody {
    /// Another desk in Vigie (organisation id): its handlers take over, assignments end.
    desk_org_id: Option<i64>,
    /// An institution outside Vigie (e.g. "Tribunal militaire de Mopti").
    institution: Option<String>,
}

/// Refer a case to another desk or institution. Case supervisors only.
#[utoipa::path(post, path = "/api/v1/cases/{id}/referral", tag = "cases", params(("id" = i64, Path)), request_body = ReferBody,
    responses((status = 204), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
async fn refer_case(State(s): State<AppState>, auth: Auth, Path(id): Path<i64>, ApiJson(b): ApiJson<ReferBody>) -> Result<StatusCode, ApiError> {
    let h = load_for(&s, &auth, id, Permission::CasesHandle).await?;
    require_supervisor(&auth, &h.area_path)?;
    cases::refer(&s.db, id, b.desk_org_id, b.institution.as_deref(), &auth.actor(), s.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FromReportBody {
    desk_org_id: Option<i64>,
}

/// Open a violation case from an early-warning report of category `security_forces_abuse`
/// (kept out of the open feed). The report's text becomes the sealed narrative; the report
/// and the case stay linked; a report opens at most one case (409).
#[utoipa::path(post, path = "/api/v1/reports/{id}/case", tag = "cases", params(("id" = i64, Path)), request_body = FromReportBody,
    responses((status = 201, body = Opened), (status = 403, body = crate::error::Problem), (status = 409, body = crate::error::Problem)))]
async fn case_from_report(State(s): State<AppState>, auth: Auth, Path(id): Path<i64>, ApiJson(b): ApiJson<FromReportBody>) -> Result<(StatusCode, Json<Opened>), ApiError> {
    auth.require(Permission::CasesHandle, Target::AnyArea)?;
    let r = vigie_storage::reports::get(&s.db, id).await?;
    super::reports::require_record(&auth, Permission::CasesHandle, r.area_path.as_deref())?;
    if let Some(desk) = b.desk_org_id {
        let all_desks = auth.require(Permission::CasesRead, Target::Global).is_ok();
        if !all_desks && cases::user_org(&s.db, auth.principal.user_id).await? != Some(desk) {
            return Err(ApiError::from(Msg::Forbidden).field("desk_org_id"));
        }
    }
    let out = cases::open_from_report(&s.db, id, b.desk_org_id, Some(auth.principal.user_id), &auth.actor(), s.now()).await;
    match out {
        Err(vigie_storage::StoreError::Invalid(i)) if i.msg == Msg::Conflict => Err(ApiError::new(StatusCode::CONFLICT, Msg::Conflict).field(i.field)),
        o => Ok((StatusCode::CREATED, Json(o?))),
    }
}

/// CSV of the cases in the caller's scope (same filters as the list). Identity fields are
/// always "[protégé]": an export carrying identities is not offered.
#[utoipa::path(get, path = "/api/v1/cases/export.csv", tag = "cases", params(CaseQuery),
    responses((status = 200, description = "text/csv", content_type = "text/csv"), (status = 403, body = crate::error::Problem)))]
async fn export_cases(State(s): State<AppState>, auth: Auth, ApiQuery(q): ApiQuery<CaseQuery>) -> Result<Response, ApiError> {
    let scope = auth.scope(Permission::CasesRead)?;
    let f = CaseFilter { workflow: q.workflow, state: q.state, overdue: q.overdue.unwrap_or(false), open_only: q.open.unwrap_or(false) };
    let who = lister(&s, &auth).await?;
    let mut out = String::from("id,workflow,state,area_code,desk_org_id,title,opened_at,deadline,overdue,closed_at,published_at,fields\n");
    let mut page = 1;
    loop {
        let p = cases::list(&s.db, &scope, &who, &f, page, 500, s.now()).await?;
        for c in &p.items {
            // Belt and braces: the list is redacted already; redact again with the policy.
            let fields = cases::workflow(&c.workflow).map(|d| IdentityPolicy::for_workflow(d).redact(&c.fields, &Default::default())).unwrap_or_default();
            let cols = [
                c.id.to_string(),
                c.workflow.clone(),
                c.state.clone(),
                c.area_code.clone(),
                c.desk_org_id.map(|d| d.to_string()).unwrap_or_default(),
                c.title.clone(),
                c.opened_at.to_rfc3339(),
                c.deadline.map(|d| d.to_rfc3339()).unwrap_or_default(),
                c.overdue.to_string(),
                c.closed_at.map(|d| d.to_rfc3339()).unwrap_or_default(),
                c.published_at.map(|d| d.to_rfc3339()).unwrap_or_default(),
                serde_json::to_string(&fields).unwrap_or_default(),
            ];
            out.push_str(&cols.iter().map(|v| csv_cell(v)).collect::<Vec<_>>().join(","));
            out.push('\n');
        }
        if page * 500 >= p.total {
            break;
        }
        page += 1;
    }
    Ok((
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8"), (header::CONTENT_DISPOSITION, "attachment; filename=\"dossiers.csv\""), (header::CACHE_CONTROL, "no-store")],
        out,
    )
        .into_response())
}

/// One CSV cell: quoted when needed, and a leading `= + - @` defused so a spreadsheet does not
/// run it as a formula.
fn csv_cell(v: &str) -> String {
    let v = if v.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{v}") } else { v.to_string() };
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn csv_cells_are_quoted_and_defused() {
        assert_eq!(super::csv_cell("a,b"), "\"a,b\"");
        assert_eq!(super::csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(super::csv_cell("plain"), "plain");
    }
}
