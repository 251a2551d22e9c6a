//! `/api/v1/reports`: field reports (signalements), their verification and the follow-up thread.

use super::{ApiQuery, PageOf, Paging};
use crate::auth::Auth;
use crate::error::{ApiError, ApiJson};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};
use vigie_domain::access::{Permission, Target};
use vigie_domain::area::AreaPath;
use vigie_domain::early_warning::report::{Channel, LocationInput, ReportInput, ReporterKind};
use vigie_domain::early_warning::visibility::ReportScope;
use vigie_domain::Msg;
use vigie_storage::reports::{self, IntakeOutcome, ReportFilter, ReportView, Sender, ThreadMessage};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_reports, create_report))
        .routes(routes!(get_report))
        .routes(routes!(verify_report))
        .routes(routes!(list_messages, ask_reporter))
}

/// Where a record lives, for access checks: unplaced records need a grant over the whole tree.
pub(crate) fn require_record(auth: &Auth, perm: Permission, area_path: Option<&str>) -> Result<(), ApiError> {
    match area_path {
        Some(p) if !p.is_empty() => auth.require_in(perm, &AreaPath(p.to_string())),
        _ => auth.require(perm, Target::Global),
    }
}

/// May the caller do `perm` on this report? Its area, and `cases.read` there too if its
/// category is protected: the one rule, `vigie_domain::early_warning::visibility::check_report`.
pub(crate) fn require_report(auth: &Auth, perm: Permission, r: &ReportView) -> Result<(), ApiError> {
    vigie_domain::early_warning::visibility::check_report(&auth.principal, perm, r.protected, r.area().as_ref()).map_err(ApiError::from)
}

/// What a list of reports shows this caller (`reports.read`), protected categories included
/// only where they hold `cases.read`.
pub(crate) fn report_scope(auth: &Auth) -> Result<ReportScope, ApiError> {
    ReportScope::of(&auth.principal, Permission::ReportsRead).map_err(ApiError::from)
}

/// The areas a list of reports or alerts covers for this caller (`reports.read`), and whether
/// it includes records not yet placed in an area (only for those who see the whole tree).
pub(crate) fn list_scope(auth: &Auth) -> Result<(Vec<AreaPath>, bool), ApiError> {
    let scope = auth.scope(Permission::ReportsRead)?;
    let global = auth.require(Permission::ReportsRead, Target::Global).is_ok();
    Ok((scope, global))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReport {
    /// Category code (see `/api/v1/categories`); unknown or missing → filed as "other" and flagged.
    category: Option<String>,
    /// What happened, in the reporter's words (kept verbatim).
    #[serde(default)]
    text: String,
    occurred_at: DateTime<Utc>,
    area_code: Option<String>,
    lat: Option<f64>,
    lon: Option<f64>,
    place_name: Option<String>,
    /// focal_point (default), committee or anonymous
    reporter_kind: Option<String>,
    /// BCP 47 primary tag: fr (default), en, bm, ff, ses, tmh…
    language: Option<String>,
    /// Resending with the same key stores nothing new and returns the first answer.
    idempotency_key: Option<String>,
}

impl NewReport {
    /// The area named, parsed (the handler then checks the caller may report there).
    pub(crate) fn area(&self) -> Result<Option<vigie_domain::area::AreaCode>, ApiError> {
        self.area_code.as_deref().map(vigie_domain::area::AreaCode::parse).transpose().map_err(|m| ApiError::bad_request("area_code", m))
    }

    /// The report as intake takes it (intake then validates it against the taxonomy);
    /// `header_key` is the `Idempotency-Key` header, used when the body has no key.
    pub(crate) fn into_input(self, channel: Channel, header_key: Option<String>) -> Result<ReportInput, ApiError> {
        let point = match (self.lat, self.lon) {
            (None, None) => None,
            (Some(la), Some(lo)) => Some((la, lo)),
            _ => return Err(ApiError::bad_request("lat", Msg::InvalidCoordinate)),
        };
        let reporter = match self.reporter_kind.as_deref().unwrap_or("focal_point") {
            "focal_point" => ReporterKind::FocalPoint,
            "committee" => ReporterKind::Committee,
            "anonymous" => ReporterKind::Anonymous,
            _ => return Err(ApiError::bad_request("reporter_kind", Msg::InvalidName)),
        };
        let key = self.idempotency_key.or(header_key).unwrap_or_else(|| format!("api-{}", vigie_storage::auth::random_secret("")));
        Ok(ReportInput {
            category: self.category,
            text: self.text,
            occurred_at: self.occurred_at,
            location: LocationInput { area: self.area_code, point, place_name: self.place_name },
            reporter,
            channel,
            language: self.language.unwrap_or_else(|| "fr".into()),
            idempotency_key: key,
        })
    }
}

/// Submit a report. Idempotent on `idempotency_key` (or the `Idempotency-Key` header).
#[utoipa::path(post, path = "/api/v1/reports", tag = "early-warning", request_body = NewReport,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = IntakeOutcome), (status = 200, description = "Already received (same idempotency key)", body = IntakeOutcome),
        (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
async fn create_report(State(s): State<AppState>, auth: Auth, headers: axum::http::HeaderMap, ApiJson(b): ApiJson<NewReport>) -> Result<(StatusCode, Json<IntakeOutcome>), ApiError> {
    auth.require(Permission::ReportsCreate, Target::AnyArea)?;
    if let Some(code) = b.area()? {
        auth.require_in(Permission::ReportsCreate, &vigie_storage::areas::path_of(&s.db, &code, "area_code").await?)?;
    }
    let header_key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_string);
    let input = b.into_input(if auth.via_session { Channel::Web } else { Channel::Api }, header_key)?;
    let out = reports::intake(&s.db, input, Sender { user_id: Some(auth.principal.user_id), phone: None }, &auth.actor(), s.now()).await?;
    let status = if out.duplicate_submission { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, Json(out)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    category: Option<String>,
    /// pending, verified, unverifiable, false
    verification: Option<String>,
    /// Received at or after (RFC 3339).
    from: Option<DateTime<Utc>>,
    /// Received before (RFC 3339).
    to: Option<DateTime<Utc>>,
    /// Words in the text.
    q: Option<String>,
    /// Only reports not yet placed in an area.
    unplaced: Option<bool>,
    page: Option<i64>,
    per_page: Option<i64>,
}

/// Reports within the caller's area, newest first.
#[utoipa::path(get, path = "/api/v1/reports", tag = "early-warning", params(ReportQuery),
    responses((status = 200, body = PageOf<ReportView>), (status = 403, body = crate::error::Problem)))]
async fn list_reports(State(s): State<AppState>, auth: Auth, ApiQuery(q): ApiQuery<ReportQuery>) -> Result<Json<PageOf<ReportView>>, ApiError> {
    let scope = report_scope(&auth)?;
    let (page, per) = Paging { page: q.page, per_page: q.per_page }.get()?;
    let f = ReportFilter { category: q.category, from: q.from, to: q.to, verification: q.verification, q: q.q, unplaced: q.unplaced.unwrap_or(false), ..Default::default() };
    Ok(Json(reports::list_visible(&s.db, &scope, &f, page, per).await?.into()))
}

/// One report.
#[utoipa::path(get, path = "/api/v1/reports/{id}", tag = "early-warning", params(("id" = i64, Path)),
    responses((status = 200, body = ReportView), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
async fn get_report(State(s): State<AppState>, auth: Auth, Path(id): Path<i64>) -> Result<Json<ReportView>, ApiError> {
    auth.require(Permission::ReportsRead, Target::AnyArea)?;
    let r = reports::get(&s.db, id).await?;
    require_report(&auth, Permission::ReportsRead, &r)?;
    Ok(Json(r))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerificationBody {
    /// verified, unverifiable, false or pending
    status: String,
    /// Admiralty code: source reliability A–F and information credibility 1–6, e.g. "B2".
    grade: Option<String>,
    /// 1 low … 4 critical (default: the category's).
    severity: Option<u8>,
}

/// Record an analyst's verdict on a report (verifying a report verifies its event).
#[utoipa::path(post, path = "/api/v1/reports/{id}/verification", tag = "early-warning", params(("id" = i64, Path)), request_body = VerificationBody,
    responses((status = 200, body = ReportView), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
async fn verify_report(State(s): State<AppState>, auth: Auth, Path(id): Path<i64>, ApiJson(b): ApiJson<VerificationBody>) -> Result<Json<ReportView>, ApiError> {
    auth.require(Permission::ReportsVerify, Target::AnyArea)?;
    let r = reports::get(&s.db, id).await?;
    require_report(&auth, Permission::ReportsVerify, &r)?;
    Ok(Json(reports::verify(&s.db, id, &b.status, b.grade.as_deref(), b.severity, &auth.actor(), s.now()).await?))
}

/// The follow-up thread with the reporter.
#[utoipa::path(get, path = "/api/v1/reports/{id}/messages", tag = "early-warning", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<ThreadMessage>), (status = 403, body = crate::error::Problem)))]
async fn list_messages(State(s): State<AppState>, auth: Auth, Path(id): Path<i64>) -> Result<Json<Vec<ThreadMessage>>, ApiError> {
    auth.require(Permission::ReportsRead, Target::AnyArea)?;
    let r = reports::get(&s.db, id).await?;
    require_report(&auth, Permission::ReportsRead, &r)?;
    Ok(Json(reports::thread(&s.db, id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Question {
    body: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Asked {
    /// True when the question went by SMS (the analyst never sees the number).
    by_sms: bool,
}

/// Ask the reporter a question; SMS reporters get it by SMS and their answer threads back here.
#[utoipa::path(post, path = "/api/v1/reports/{id}/messages", tag = "early-warning", params(("id" = i64, Path)), request_body = Question,
    responses((status = 201, body = Asked), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
async fn ask_reporter(State(s): State<AppState>, auth: Auth, Path(id): Path<i64>, ApiJson(b): ApiJson<Question>) -> Result<(StatusCode, Json<Asked>), ApiError> {
    auth.require(Permission::ReportsVerify, Target::AnyArea)?;
    let r = reports::get(&s.db, id).await?;
    require_report(&auth, Permission::ReportsVerify, &r)?;
    let by_sms = reports::ask_reporter(&s.db, id, &b.body, &auth.actor(), s.now()).await?;
    Ok((StatusCode::CREATED, Json(Asked { by_sms })))
}

