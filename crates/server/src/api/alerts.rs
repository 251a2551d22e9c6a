//! `/api/v1/alerts`: events and their lifecycle, escalation rules, and the early-warning indicators.

use super::reports::{list_scope, require_record};
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
use vigie_domain::area::AreaCode;
use vigie_domain::early_warning::alert::AlertCommand;
use vigie_domain::early_warning::indicators::Period;
use vigie_domain::Msg;
use vigie_storage::alerts::{self, AlertFilter, AlertView, LevelSpec, RuleView};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_alerts))
        .routes(routes!(get_alert))
        .routes(routes!(alert_command))
        .routes(routes!(list_rules, create_rule))
        .routes(routes!(set_auto_raise))
        .routes(routes!(early_warning_indicators))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertQuery {
    /// reported, verified, alerted, acknowledged, responded, closed, false_alarm, cancelled
    state: Option<String>,
    category: Option<String>,
    needs_attention: Option<bool>,
    page: Option<i64>,
    per_page: Option<i64>,
}

/// Events and alerts within the caller's area, newest first.
#[utoipa::path(get, path = "/api/v1/alerts", tag = "early-warning", params(AlertQuery),
    responses((status = 200, body = PageOf<AlertView>), (status = 403, body = crate::error::Problem)))]
async fn list_alerts(State(s): State<AppState>, auth: Auth, ApiQuery(q): ApiQuery<AlertQuery>) -> Result<Json<PageOf<AlertView>>, ApiError> {
    let (scope, global) = list_scope(&auth)?;
    let (page, per) = Paging { page: q.page, per_page: q.per_page }.get()?;
    let f = AlertFilter { state: q.state, category: q.category, needs_attention: q.needs_attention };
    Ok(Json(alerts::list(&s.db, &scope, global, &f, page, per).await?.into()))
}

/// One alert with its whole lifecycle.
#[utoipa::path(get, path = "/api/v1/alerts/{id}", tag = "early-warning", params(("id" = i64, Path)),
    responses((status = 200, body = AlertView), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
async fn get_alert(State(s): State<AppState>, auth: Auth, Path(id): Path<i64>) -> Result<Json<AlertView>, ApiError> {
    auth.require(Permission::ReportsRead, Target::AnyArea)?;
    let a = alerts::get(&s.db, id).await?;
    require_record(&auth, Permission::ReportsRead, a.area_path.as_deref())?;
    Ok(Json(a))
}

/// Move an alert on: `{"command":"verify"}`, `{"command":"raise"}`, `{"command":"acknowledge","level":0}`,
/// `{"command":"respond","actions":[{"action":"patrol_deployed"}]}` (or `mediation`, `evacuation`, `{"action":"other","description":"…"}`), `{"command":"close","outcome":"violence_prevented"}`,
/// `{"command":"mark_false_alarm"}`, `{"command":"cancel","reason":"…"}`. An illegal step is refused and changes nothing.
#[utoipa::path(post, path = "/api/v1/alerts/{id}/commands", tag = "early-warning", params(("id" = i64, Path)),
    request_body(content = Object, description = "An alert command"),
    responses((status = 200, body = AlertView), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
async fn alert_command(State(s): State<AppState>, auth: Auth, Path(id): Path<i64>, ApiJson(cmd): ApiJson<AlertCommand>) -> Result<Json<AlertView>, ApiError> {
    let perm = command_permission(&cmd);
    auth.require(perm, Target::AnyArea)?;
    // An event merged into another: the command goes to the one that took its alert.
    let id = vigie_storage::events::survivor(&s.db, id).await?;
    let a = alerts::get(&s.db, id).await?;
    require_record(&auth, perm, a.area_path.as_deref())?;
    Ok(Json(alerts::command(&s.db, id, cmd, &auth.actor(), s.now()).await?))
}

/// The permission a command needs (over the alert's area).
pub(crate) fn command_permission(cmd: &AlertCommand) -> Permission {
    match cmd {
        AlertCommand::Verify => Permission::ReportsVerify,
        AlertCommand::Raise | AlertCommand::MarkFalseAlarm | AlertCommand::Cancel { .. } => Permission::AlertsRaise,
        AlertCommand::Acknowledge { .. } | AlertCommand::Respond { .. } | AlertCommand::Close { .. } => Permission::AlertsRespond,
    }
}

/// Escalation rules within the caller's area.
#[utoipa::path(get, path = "/api/v1/escalation-rules", tag = "early-warning",
    responses((status = 200, body = Vec<RuleView>), (status = 403, body = crate::error::Problem)))]
async fn list_rules(State(s): State<AppState>, auth: Auth) -> Result<Json<Vec<RuleView>>, ApiError> {
    let scope = auth.scope(Permission::AlertsRaise)?;
    let rules = alerts::list_rules(&s.db).await?;
    Ok(Json(rules.into_iter().filter(|(_, p)| scope.iter().any(|sc| sc.contains(p) || p.contains(sc))).map(|(r, _)| r).collect()))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleBody {
    /// None: every category.
    category_code: Option<String>,
    /// 1 low … 4 critical
    min_severity: i32,
    area_code: String,
    /// Responders in the order they are alerted, each with an acknowledgement deadline.
    levels: Vec<LevelSpec>,
    /// Raise the alert as soon as a registered focal point or committee reports it (an analyst
    /// verifies afterwards). Default false.
    #[serde(default)]
    auto_raise: bool,
}

/// Define who is alerted, in which order and how fast, for alerts of a category, severity and area.
#[utoipa::path(post, path = "/api/v1/escalation-rules", tag = "early-warning", request_body = RuleBody,
    responses((status = 201, body = RuleView), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
async fn create_rule(State(s): State<AppState>, auth: Auth, ApiJson(b): ApiJson<RuleBody>) -> Result<(StatusCode, Json<RuleView>), ApiError> {
    auth.require(Permission::AlertsRaise, Target::AnyArea)?;
    let area = AreaCode::parse(&b.area_code).map_err(|m| ApiError::bad_request("area_code", m))?;
    auth.require_in(Permission::AlertsRaise, &vigie_storage::areas::path_of(&s.db, &area, "area_code").await?)?;
    let r = alerts::create_rule(&s.db, b.category_code.as_deref(), b.min_severity, &area, b.levels, b.auto_raise, &auth.actor()).await?;
    Ok((StatusCode::CREATED, Json(r)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AutoRaiseBody {
    auto_raise: bool,
}

/// Turn automatic raising on or off for an escalation rule: its alerts are then raised as soon
/// as a registered focal point or committee reports them (audited).
#[utoipa::path(put, path = "/api/v1/escalation-rules/{id}/auto-raise", tag = "early-warning", request_body = AutoRaiseBody,
    params(("id" = i64, Path, description = "Escalation rule")),
    responses((status = 200, body = RuleView), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
async fn set_auto_raise(State(s): State<AppState>, auth: Auth, Path(id): Path<i64>, ApiJson(b): ApiJson<AutoRaiseBody>) -> Result<Json<RuleView>, ApiError> {
    auth.require(Permission::AlertsRaise, Target::AnyArea)?;
    let (_, path) = alerts::get_rule(&s.db, id).await?;
    auth.require_in(Permission::AlertsRaise, &path)?;
    let (r, _) = alerts::set_auto_raise(&s.db, id, b.auto_raise, &auth.actor()).await?;
    Ok(Json(r))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IndicatorQuery {
    /// Area code (default: the whole tree, for those who see it).
    area: Option<String>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct EwIndicators {
    area: String,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    /// Counts and medians behind every figure, so each is auditable.
    #[schema(value_type = Object)]
    indicators: serde_json::Value,
}

/// Early-warning indicators for an area and period: number of alerts, median report→alert and
/// alert→response times, acknowledgement within deadline, and the share of interventions after
/// an early warning in which violence was prevented or stopped (MINUSMA's indicator).
#[utoipa::path(get, path = "/api/v1/indicators/early-warning", tag = "early-warning", params(IndicatorQuery),
    responses((status = 200, body = EwIndicators), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
async fn early_warning_indicators(State(s): State<AppState>, auth: Auth, ApiQuery(q): ApiQuery<IndicatorQuery>) -> Result<Json<EwIndicators>, ApiError> {
    let area = match &q.area {
        Some(c) => {
            let code = AreaCode::parse(c).map_err(|m| ApiError::bad_request("area", m))?;
            vigie_storage::areas::path_of(&s.db, &code, "area").await?
        }
        None => vigie_storage::areas::root_paths(&s.db).await?.into_iter().next().ok_or(Msg::NotFound)?,
    };
    auth.require_in(Permission::ReportsRead, &area)?;
    let period = Period::new(q.from, q.to).map_err(|m| ApiError::bad_request("to", Msg::from(m)))?;
    let ind = alerts::indicators(&s.db, &area, period, s.now()).await?;
    Ok(Json(EwIndicators {
        area: area.0.rsplit('/').next().unwrap_or_default().to_string(),
        from: q.from,
        to: q.to,
        indicators: serde_json::to_value(&ind).map_err(|_| ApiError::from(Msg::Internal))?,
    }))
}
