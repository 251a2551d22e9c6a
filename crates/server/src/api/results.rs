//! `/api/v1/programmes`: results frameworks, actual values and progress, budgets, expenditure
//! and variance reports, risk register; `/api/v1/returns`: statistical returns. Reading needs
//! `framework.read` over the programme's area, writing `framework.write`; actual values are
//! checked area by area.

use super::ApiQuery;
use crate::auth::Auth;
use crate::error::{ApiError, ApiJson};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa_axum::{router::OpenApiRouter, routes};
use vigie_domain::access::{Permission, Target};
use vigie_domain::area::{AreaCode, AreaPath};
use vigie_domain::budget::execution::{execution_report, ExecutionReport};
use vigie_domain::budget::money::{Money, Ratio, RoundingMode};
use vigie_domain::budget::table::{reconcile, Basis, Column, CostRules};
use vigie_domain::budget::variance::{VarianceReport, VarianceRow};
use vigie_domain::framework::actuals::{ChangeReading, ProgressBasis, ProgressOptions, Thresholds};
use vigie_domain::framework::risk::{heat_map, Impact, Likelihood, RiskBands, RiskReview, RiskStatus};
use vigie_domain::framework::source::IndicatorSource;
use vigie_domain::framework::Indicator;
use vigie_domain::{Lang, Msg};
use vigie_storage::results::{self, ActualInput, ActualView, IndicatorProgress, IndicatorView, NewProgramme, Programme};
use vigie_storage::results_import::{self, ImportOutcome};
use vigie_storage::{budget, returns, risks};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_programmes, create_programme))
        .routes(routes!(get_programme))
        .routes(routes!(put_cost_rules))
        .routes(routes!(import_file))
        .routes(routes!(get_framework))
        .routes(routes!(put_indicator))
        .routes(routes!(list_actuals, post_actuals))
        .routes(routes!(get_progress))
        .routes(routes!(get_budget))
        .routes(routes!(get_execution))
        .routes(routes!(get_variance))
        .routes(routes!(list_risks))
        .routes(routes!(post_review))
        .routes(routes!(list_computers))
        .routes(routes!(list_datasets, create_dataset))
        .routes(routes!(submit_return))
        .routes(routes!(return_status))
        .merge(super::results_export::router())
}

/// The programme, if the caller holds `perm` over its area.
pub(crate) async fn programme_for(s: &AppState, auth: &Auth, code: &str, perm: Permission) -> Result<Programme, ApiError> {
    auth.require(perm, Target::AnyArea)?;
    let p = results::programme(&s.db, code).await?;
    auth.require_in(perm, &p.path())?;
    Ok(p)
}

/// Programmes whose area the caller can read.
#[utoipa::path(get, path = "/api/v1/programmes", tag = "results",
    responses((status = 200, body = Vec<Programme>), (status = 403, body = crate::error::Problem)))]
async fn list_programmes(State(s): State<AppState>, auth: Auth) -> Result<Json<Vec<Programme>>, ApiError> {
    let scope = auth.scope(Permission::FrameworkRead)?;
    Ok(Json(results::programmes(&s.db).await?.into_iter().filter(|p| scope.iter().any(|sc| sc.contains(&p.path()))).collect()))
}

/// Create a programme (code, years, currency, area).
#[utoipa::path(post, path = "/api/v1/programmes", tag = "results", request_body = NewProgramme,
    responses((status = 201, body = Programme), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
async fn create_programme(State(s): State<AppState>, auth: Auth, ApiJson(b): ApiJson<NewProgramme>) -> Result<(StatusCode, Json<Programme>), ApiError> {
    auth.require(Permission::FrameworkWrite, Target::AnyArea)?;
    let area = AreaCode::parse(&b.area_code).map_err(|m| ApiError::bad_request("area_code", m))?;
    auth.require_in(Permission::FrameworkWrite, &vigie_storage::areas::path_of(&s.db, &area, "area_code").await?)?;
    Ok((StatusCode::CREATED, Json(results::create_programme(&s.db, &b, &auth.actor()).await?)))
}

#[utoipa::path(get, path = "/api/v1/programmes/{code}", tag = "results", params(("code" = String, Path)),
    responses((status = 200, body = Programme), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
async fn get_programme(State(s): State<AppState>, auth: Auth, Path(code): Path<String>) -> Result<Json<Programme>, ApiError> {
    Ok(Json(programme_for(&s, &auth, &code, Permission::FrameworkRead).await?))
}

/// Rates of the computed budget lines: `{"management":{"kind":"entered"},"indirect":{"default_rate":{"num":8,"den":100},"by_agency":{},"by_year":{}},"levy":{"num":1,"den":100},"rounding":"half_up","decimals":0}`.
#[utoipa::path(put, path = "/api/v1/programmes/{code}/cost-rules", tag = "results", params(("code" = String, Path)),
    request_body(content = Object), responses((status = 204), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
async fn put_cost_rules(State(s): State<AppState>, auth: Auth, Path(code): Path<String>, ApiJson(rules): ApiJson<CostRules>) -> Result<StatusCode, ApiError> {
    let p = programme_for(&s, &auth, &code, Permission::FrameworkWrite).await?;
    results::set_cost_rules(&s.db, &p, &rules, &auth.actor()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// budget: accept rows whose years do not add up to their total (warnings), as printed in a signed document.
    as_printed: Option<bool>,
}

#[derive(Deserialize)]
struct FrameworkFiles {
    results: String,
    indicators: String,
}

/// Import a file, all or nothing, with line-numbered errors: `framework` (an XLSX workbook with
/// sheets `results` and `indicators`, or JSON `{"results":"<csv>","indicators":"<csv>"}`),
/// `budget`, `expenditure` (records, or an apportionment/expenditure table), `risks` (CSV or XLSX).
#[utoipa::path(post, path = "/api/v1/programmes/{code}/import/{kind}", tag = "results", params(("code" = String, Path), ("kind" = String, Path), ImportQuery),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportOutcome), (status = 422, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
async fn import_file(State(s): State<AppState>, auth: Auth, Path((code, kind)): Path<(String, String)>, ApiQuery(q): ApiQuery<ImportQuery>, headers: HeaderMap, body: Bytes) -> Result<Json<ImportOutcome>, ApiError> {
    let p = programme_for(&s, &auth, &code, Permission::FrameworkWrite).await?;
    let actor = auth.actor();
    let json = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("application/json"));
    let out = match kind.as_str() {
        "framework" if json => {
            let f: FrameworkFiles = serde_json::from_slice(&body).map_err(|e| ApiError::bad_request("body", Msg::InvalidJson { reason: e.to_string() }))?;
            results_import::framework(&s.db, &p, f.results.as_bytes(), Some(f.indicators.as_bytes()), &actor).await?
        }
        "framework" => results_import::framework(&s.db, &p, &body, None, &actor).await?,
        "budget" => results_import::budget(&s.db, &p, &body, q.as_printed.unwrap_or(false), &actor).await?,
        "expenditure" => results_import::expenditure(&s.db, &p, &body, &actor).await?,
        "risks" => results_import::risk_log(&s.db, &p, &body, &actor).await?,
        _ => return Err(Msg::NotFound.into()),
    };
    Ok(Json(out))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct FrameworkView {
    #[schema(value_type = Object)]
    framework: vigie_domain::framework::Framework,
    indicators: Vec<IndicatorView>,
}

/// The results framework: results, outputs, indicators with baselines, targets per year, sources.
#[utoipa::path(get, path = "/api/v1/programmes/{code}/framework", tag = "results", params(("code" = String, Path)),
    responses((status = 200, body = FrameworkView), (status = 403, body = crate::error::Problem)))]
async fn get_framework(State(s): State<AppState>, auth: Auth, Path(code): Path<String>) -> Result<Json<FrameworkView>, ApiError> {
    let p = programme_for(&s, &auth, &code, Permission::FrameworkRead).await?;
    let (framework, indicators) = results::framework(&s.db, &p).await?;
    Ok(Json(FrameworkView { framework, indicators }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IndicatorBody {
    #[schema(value_type = Object)]
    indicator: Indicator,
    /// `{"kind":"manual"}` or `{"kind":"computed","computer":"early_warning.prevented_share","params":{}}`; absent: unchanged.
    #[schema(value_type = Option<Object>)]
    source: Option<IndicatorSource>,
}

/// Create or edit an indicator (same checks as an import: targets in the programme years, percent ≤ 100).
#[utoipa::path(put, path = "/api/v1/programmes/{code}/indicators/{indicator}", tag = "results", params(("code" = String, Path), ("indicator" = String, Path)),
    request_body = IndicatorBody, responses((status = 200, body = IndicatorView), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
async fn put_indicator(State(s): State<AppState>, auth: Auth, Path((code, ind)): Path<(String, String)>, ApiJson(b): ApiJson<IndicatorBody>) -> Result<Json<IndicatorView>, ApiError> {
    let p = programme_for(&s, &auth, &code, Permission::FrameworkWrite).await?;
    if !b.indicator.code.as_str().eq_ignore_ascii_case(ind.trim()) {
        return Err(ApiError::bad_request("indicator.code", Msg::Conflict));
    }
    Ok(Json(results::put_indicator(&s.db, &p, &b.indicator, b.source.as_ref(), &auth.actor()).await?))
}

/// Actual values within the caller's areas.
#[utoipa::path(get, path = "/api/v1/programmes/{code}/actuals", tag = "results", params(("code" = String, Path)),
    responses((status = 200, body = Vec<ActualView>), (status = 403, body = crate::error::Problem)))]
async fn list_actuals(State(s): State<AppState>, auth: Auth, Path(code): Path<String>) -> Result<Json<Vec<ActualView>>, ApiError> {
    let p = programme_for(&s, &auth, &code, Permission::FrameworkRead).await?;
    let scope = auth.scope(Permission::FrameworkRead)?;
    Ok(Json(results::actuals(&s.db, &p, &scope).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Recorded {
    recorded: usize,
}

/// Record actual values (a list; item n is "line" n+1 in errors). Each area must be within the
/// caller's `framework.write` grants; all values or none.
#[utoipa::path(post, path = "/api/v1/programmes/{code}/actuals", tag = "results", params(("code" = String, Path)),
    request_body = Vec<ActualInput>, responses((status = 200, body = Recorded), (status = 422, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
async fn post_actuals(State(s): State<AppState>, auth: Auth, Path(code): Path<String>, ApiJson(items): ApiJson<Vec<ActualInput>>) -> Result<Json<Recorded>, ApiError> {
    Ok(Json(Recorded { recorded: record_checked(&s, &auth, &code, items).await? }))
}

/// Records actual values with every check of `POST …/actuals` (shared by the web entry form).
pub(crate) async fn record_checked(s: &AppState, auth: &Auth, code: &str, items: Vec<ActualInput>) -> Result<usize, ApiError> {
    // Area officers enter their areas' values for a national programme: checked value by value below.
    auth.require(Permission::FrameworkWrite, Target::AnyArea)?;
    let p = results::programme(&s.db, code).await?;
    let lines: Vec<(usize, ActualInput)> = items.into_iter().enumerate().map(|(i, a)| (i + 1, a)).collect();
    // A value for an area outside the caller's grants is an access refusal (403, nothing
    // recorded), like everywhere else; unknown or malformed areas stay line errors (422).
    for (_, a) in &lines {
        if let Ok(c) = AreaCode::parse(&a.area_code) {
            if let Ok(path) = vigie_storage::areas::path_of(&s.db, &c, "area_code").await {
                auth.require_in(Permission::FrameworkWrite, &path)?;
            }
        }
    }
    let principal = auth.principal.clone();
    let programme_area = p.path();
    // Values belong to the programme's own area: none for a place the programme does not cover.
    let may = move |path: &AreaPath| {
        programme_area.contains(path) && vigie_domain::access::authorize(&principal, Permission::FrameworkWrite, Target::InArea(path)).is_ok()
    };
    Ok(results::record_actuals(&s.db, &p, &lines, &may, &auth.actor()).await?)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProgressQuery {
    pub year: i32,
    /// Area code (default: the programme's area).
    pub area: Option<String>,
    /// How to read "+5 %" targets on percentages: points, relative (default: unspecified → status "ambiguous").
    pub reading: Option<String>,
    /// Green from this % of the target achieved (default 90), amber from (default 60).
    pub green: Option<i64>,
    pub amber: Option<i64>,
}

impl ProgressQuery {
    pub fn options(&self) -> Result<ProgressOptions, ApiError> {
        let pct = |v: i64| Ratio::new(v as i128, 100).map_err(|_| ApiError::bad_request("green", Msg::InvalidPeriod));
        let thresholds = Thresholds::new(pct(self.green.unwrap_or(90))?, pct(self.amber.unwrap_or(60))?).map_err(|m| ApiError::bad_request("amber", Msg::from(m)))?;
        let change_reading = match self.reading.as_deref() {
            None | Some("") | Some("unspecified") => ChangeReading::Unspecified,
            Some("points") => ChangeReading::PercentagePoints,
            Some("relative") => ChangeReading::Relative,
            Some(_) => return Err(ApiError::bad_request("reading", Msg::InvalidPeriod)),
        };
        Ok(ProgressOptions { thresholds, change_reading, basis: ProgressBasis::FromBaseline })
    }
}

/// The area a progress or export request is about, checked against the caller's grants.
pub(crate) async fn progress_area(s: &AppState, auth: &Auth, p: &Programme, area: Option<&str>) -> Result<AreaCode, ApiError> {
    let code = AreaCode::parse(area.unwrap_or(&p.area_code)).map_err(|m| ApiError::bad_request("area", m))?;
    let path = vigie_storage::areas::path_of(&s.db, &code, "area").await?;
    auth.require_in(Permission::FrameworkRead, &path)?;
    Ok(code)
}

/// Progress of every indicator for a year in an area (its sub-areas rolled up by each
/// indicator's rule; computed indicators read from Vigie's records), with a traffic light.
#[utoipa::path(get, path = "/api/v1/programmes/{code}/progress", tag = "results", params(("code" = String, Path), ProgressQuery),
    responses((status = 200, body = Vec<IndicatorProgress>), (status = 403, body = crate::error::Problem)))]
async fn get_progress(State(s): State<AppState>, auth: Auth, Path(code): Path<String>, ApiQuery(q): ApiQuery<ProgressQuery>) -> Result<Json<Vec<IndicatorProgress>>, ApiError> {
    let p = programme_for(&s, &auth, &code, Permission::FrameworkRead).await?;
    let area = progress_area(&s, &auth, &p, q.area.as_deref()).await?;
    Ok(Json(results::progress_report(&s.db, &p, q.year, &area, &q.options()?).await?))
}

/// An amount as exact decimal text in the programme currency ("7081673", "1183384.7").
pub(crate) fn amt(m: &Money) -> String {
    m.to_dec().to_string()
}

pub(crate) fn col_name(c: &Column) -> String {
    match c {
        Column::Year(y) => y.to_string(),
        Column::Total => "total".into(),
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct GapView {
    row: String,
    line: usize,
    column: String,
    printed: String,
    computed: String,
    /// computed − printed
    gap: String,
    /// years_of_row, components, rate
    basis: String,
    message_fr: String,
    message_en: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct BudgetView {
    currency: String,
    years: Vec<i32>,
    /// Rows as imported: code, kind, years, printed total.
    #[schema(value_type = Vec<Object>)]
    rows: Vec<serde_json::Value>,
    /// Vigie's arithmetic from the entered lines and the configured rates, per column.
    #[schema(value_type = Object)]
    computed: serde_json::Value,
    /// Every printed figure that differs from its computation (the document's own gaps).
    gaps: Vec<GapView>,
    checks: usize,
}

pub(crate) fn money_map(m: &BTreeMap<Column, Money>) -> serde_json::Value {
    serde_json::Value::Object(m.iter().map(|(c, v)| (col_name(c), serde_json::Value::String(amt(v)))).collect())
}

/// The budget as imported, Vigie's computation of subtotals, management, GMS, levy and grand
/// total, and the reconciliation: every printed figure that its own arithmetic or the
/// configured rates do not reproduce, with the gap.
#[utoipa::path(get, path = "/api/v1/programmes/{code}/budget", tag = "results", params(("code" = String, Path)),
    responses((status = 200, body = BudgetView), (status = 403, body = crate::error::Problem)))]
async fn get_budget(State(s): State<AppState>, auth: Auth, Path(code): Path<String>) -> Result<Json<BudgetView>, ApiError> {
    let p = programme_for(&s, &auth, &code, Permission::FrameworkRead).await?;
    Ok(Json(budget_view(&s, &p).await?))
}

pub(crate) async fn budget_view(s: &AppState, p: &Programme) -> Result<BudgetView, ApiError> {
    let t = budget::budget_table(&s.db, p).await?;
    let internal = |_| ApiError::from(Msg::Internal);
    let c = vigie_domain::budget::table::compute(&t, &p.cost_rules).map_err(internal)?;
    let rec = reconcile(&t, &p.cost_rules).map_err(internal)?;
    let rows = t
        .rows
        .iter()
        .map(|r| {
            serde_json::json!({
                "line": r.line, "kind": r.kind, "output": r.output, "result": r.result, "label": r.label, "agencies": r.agencies,
                "funding_source": r.funding_source, "years": r.years.iter().map(|(y, m)| (y.to_string(), amt(m))).collect::<BTreeMap<_, _>>(),
                "printed_total": amt(&r.printed_total),
            })
        })
        .collect();
    let computed = serde_json::json!({
        "by_result": c.by_result.iter().map(|(k, v)| (k.to_string(), money_map(v))).collect::<serde_json::Map<_, _>>(),
        "activities": money_map(&c.activities), "management": money_map(&c.management), "project": money_map(&c.project),
        "indirect": money_map(&c.indirect), "levy": money_map(&c.levy), "grand_total": money_map(&c.grand_total),
    });
    let gaps = rec
        .gaps()
        .map(|g| GapView {
            row: g.row.clone(),
            line: g.line,
            column: col_name(&g.column),
            printed: amt(&g.printed),
            computed: amt(&g.computed),
            gap: amt(&g.gap()),
            basis: match g.basis {
                Basis::YearsOfRow => "years_of_row",
                Basis::Components => "components",
                Basis::Rate { .. } => "rate",
            }
            .into(),
            message_fr: g.message().text(Lang::Fr),
            message_en: g.message().text(Lang::En),
        })
        .collect();
    Ok(BudgetView { currency: p.currency.clone(), years: t.years.clone(), rows, computed, gaps, checks: rec.checks.len() })
}

pub(crate) async fn execution(s: &AppState, p: &Programme) -> Result<ExecutionReport, ApiError> {
    let t = budget::budget_table(&s.db, p).await?;
    let spent = budget::expenditures(&s.db, p).await?;
    execution_report(&t, &p.cost_rules, &spent).map_err(|e| ApiError::from(Msg::from(vigie_domain::framework::FrameworkMsg::Money(e))))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ExecutionCell {
    budget: String,
    spent: String,
    balance: String,
    /// spent / budget in %, 1 decimal; absent when nothing was budgeted.
    utilisation_pct: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ExecutionRowView {
    code: String,
    label: String,
    /// line, technical_support, result_subtotal, activities_total, management, project_total, indirect, levy, grand_total
    kind: String,
    result: Option<String>,
    cells: BTreeMap<String, ExecutionCell>,
}

pub(crate) fn execution_rows(r: &ExecutionReport) -> Vec<ExecutionRowView> {
    r.rows
        .iter()
        .map(|row| ExecutionRowView {
            code: row.code.clone(),
            label: row.label.clone(),
            kind: serde_json::to_value(row.kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default(),
            result: row.result.as_ref().map(|c| c.to_string()),
            cells: row
                .cells
                .iter()
                .map(|(c, e)| (col_name(c), ExecutionCell { budget: amt(&e.budget), spent: amt(&e.spent), balance: amt(&e.balance), utilisation_pct: e.utilisation_pct(1).map(|d| d.to_string()) }))
                .collect(),
        })
        .collect()
}

/// Budget execution in the programme-document layout: budget, expenditure, balance and
/// utilisation by output × year, subtotals per result, management, GMS, levy, grand total.
#[utoipa::path(get, path = "/api/v1/programmes/{code}/budget/execution", tag = "results", params(("code" = String, Path)),
    responses((status = 200, body = Vec<ExecutionRowView>), (status = 403, body = crate::error::Problem)))]
async fn get_execution(State(s): State<AppState>, auth: Auth, Path(code): Path<String>) -> Result<Json<Vec<ExecutionRowView>>, ApiError> {
    let p = programme_for(&s, &auth, &code, Permission::FrameworkRead).await?;
    Ok(Json(execution_rows(&execution(&s, &p).await?)))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct VarianceRowView {
    /// line, subtotal, gross, staff_assessment, net, in_kind, total
    kind: String,
    section: Option<String>,
    label_fr: String,
    label_en: String,
    apportionment: String,
    expenditure: String,
    variance: String,
    /// variance / apportionment in %, 1 decimal, half up (as UN tables print it)
    variance_pct: Option<String>,
}

fn vrow(kind: &str, section: Option<&str>, r: &VarianceRow) -> VarianceRowView {
    VarianceRowView {
        kind: kind.into(),
        section: section.map(str::to_string),
        label_fr: r.label_fr.clone(),
        label_en: r.label_en.clone(),
        apportionment: amt(&r.apportionment),
        expenditure: amt(&r.expenditure),
        variance: amt(&r.variance),
        variance_pct: r.percent_display(1, RoundingMode::HalfUp).map(|d| d.to_string()),
    }
}

pub(crate) fn variance_rows(rep: &VarianceReport) -> Vec<VarianceRowView> {
    let mut out = Vec::new();
    for s in &rep.sections {
        for l in &s.lines {
            out.push(vrow("line", Some(&s.name), l));
        }
        out.push(vrow("subtotal", Some(&s.name), &s.subtotal));
    }
    out.push(vrow("gross", None, &rep.gross));
    if let Some(sa) = &rep.staff_assessment {
        out.push(vrow("staff_assessment", None, sa));
    }
    out.push(vrow("net", None, &rep.net));
    if let Some(ik) = &rep.in_kind {
        out.push(vrow("in_kind", None, ik));
    }
    out.push(vrow("total", None, &rep.total));
    out
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct VarianceView {
    currency: String,
    rows: Vec<VarianceRowView>,
    /// total expenditure / total apportionment in %, 1 decimal
    utilisation_pct: Option<String>,
}

pub(crate) async fn variance(s: &AppState, p: &Programme) -> Result<VarianceReport, ApiError> {
    let inputs = budget::variance_inputs(&s.db, p).await?;
    if inputs.is_empty() {
        return Err(Msg::NotFound.into());
    }
    VarianceReport::build(&inputs, p.currency(), &[], RoundingMode::HalfUp).map_err(|e| ApiError::from(vigie_storage::StoreError::Lines(results::issues_to_lines(e))))
}

/// Apportionment, expenditure, variance amount and % by class of expenditure, with section
/// subtotals, gross, net and total requirements (peacekeeping performance report layout).
#[utoipa::path(get, path = "/api/v1/programmes/{code}/variance", tag = "results", params(("code" = String, Path)),
    responses((status = 200, body = VarianceView), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
async fn get_variance(State(s): State<AppState>, auth: Auth, Path(code): Path<String>) -> Result<Json<VarianceView>, ApiError> {
    let p = programme_for(&s, &auth, &code, Permission::FrameworkRead).await?;
    let rep = variance(&s, &p).await?;
    let util = rep.utilisation().and_then(|u| u.round(1, RoundingMode::HalfUp).ok()).map(|r| r.value.to_string());
    Ok(Json(VarianceView { currency: p.currency.clone(), rows: variance_rows(&rep), utilisation_pct: util }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RiskRegister {
    #[schema(value_type = Vec<Object>)]
    risks: Vec<serde_json::Value>,
    /// `heat_map[l-1][i-1]`: numbers of the open risks whose current likelihood is l and impact i.
    heat_map: Vec<Vec<Vec<u32>>>,
    /// Counts per cell, same layout.
    counts: Vec<Vec<usize>>,
}

/// The risk register with current assessments, score, level and reviews; and the heat map.
#[utoipa::path(get, path = "/api/v1/programmes/{code}/risks", tag = "results", params(("code" = String, Path)),
    responses((status = 200, body = RiskRegister), (status = 403, body = crate::error::Problem)))]
async fn list_risks(State(s): State<AppState>, auth: Auth, Path(code): Path<String>) -> Result<Json<RiskRegister>, ApiError> {
    let p = programme_for(&s, &auth, &code, Permission::FrameworkRead).await?;
    Ok(Json(risk_register(&s, &p).await?))
}

pub(crate) async fn risk_register(s: &AppState, p: &Programme) -> Result<RiskRegister, ApiError> {
    let list = risks::list(&s.db, p).await?;
    let bands = RiskBands::default();
    let hm = heat_map(&list, false);
    let risks = list
        .iter()
        .map(|r| {
            let (l, i, st) = r.current();
            serde_json::json!({"risk": r, "current": {"likelihood": l.value(), "impact": i.value(), "status": st}, "score": r.score(), "level": bands.level(r.score())})
        })
        .collect();
    Ok(RiskRegister {
        risks,
        heat_map: hm.cells.iter().map(|row| row.to_vec()).collect(),
        counts: (1..=5u8).map(|l| (1..=5u8).map(|i| hm.count(l, i)).collect()).collect(),
    })
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    /// YYYY-MM-DD, not in the future
    pub date: String,
    /// 1–5 or words (faible, moyenne, élevée…)
    pub likelihood: String,
    pub impact: String,
    /// open, monitored, occurred, closed
    pub status: String,
    pub note: Option<String>,
}

/// Record a dated review of a risk.
#[utoipa::path(post, path = "/api/v1/programmes/{code}/risks/{number}/reviews", tag = "results", params(("code" = String, Path), ("number" = u32, Path)),
    request_body = ReviewBody, responses((status = 204), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
async fn post_review(State(s): State<AppState>, auth: Auth, Path((code, number)): Path<(String, u32)>, ApiJson(b): ApiJson<ReviewBody>) -> Result<StatusCode, ApiError> {
    let p = programme_for(&s, &auth, &code, Permission::FrameworkWrite).await?;
    review_checked(&s, &auth, &p, number, b).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The review a `POST …/reviews` body describes, checked (dated `today` at the latest).
pub(crate) fn review_of(b: ReviewBody, today: chrono::NaiveDate) -> Result<RiskReview, ApiError> {
    let bad = |f: &str, m: vigie_domain::framework::FrameworkMsg| ApiError::bad_request(f, Msg::from(m));
    let rev = RiskReview {
        date: vigie_domain::framework::risk::parse_date(&b.date).map_err(|m| bad("date", m))?,
        likelihood: Likelihood::parse(&b.likelihood).map_err(|m| bad("likelihood", m))?,
        impact: Impact::parse(&b.impact).map_err(|m| bad("impact", m))?,
        status: RiskStatus::parse(&b.status).map_err(|m| bad("status", m))?,
        note: b.note.filter(|n| !n.trim().is_empty()),
    };
    risks::check_review_date(&rev, today)?;
    Ok(rev)
}

/// A dated risk review with the checks of `POST …/reviews` (shared by the web review form);
/// the caller already holds `framework.write` over the programme (see [`programme_for`]).
pub(crate) async fn review_checked(s: &AppState, auth: &Auth, p: &Programme, number: u32, b: ReviewBody) -> Result<(), ApiError> {
    let rev = review_of(b, s.now().date_naive())?;
    risks::review(&s.db, p, number, &rev, &auth.actor()).await?;
    Ok(())
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ComputerView {
    key: String,
    required_params: Vec<String>,
    description_fr: String,
    description_en: String,
}

/// The computers an indicator can take its values from (Vigie's own records).
#[utoipa::path(get, path = "/api/v1/indicator-computers", tag = "results",
    responses((status = 200, body = Vec<ComputerView>), (status = 403, body = crate::error::Problem)))]
async fn list_computers(auth: Auth) -> Result<Json<Vec<ComputerView>>, ApiError> {
    auth.require(Permission::FrameworkRead, Target::AnyArea)?;
    Ok(Json(
        vigie_storage::indicator_sources::REGISTRY
            .iter()
            .map(|c| ComputerView { key: c.key.into(), required_params: c.required_params.iter().map(|s| s.to_string()).collect(), description_fr: c.description_fr.into(), description_en: c.description_en.into() })
            .collect(),
    ))
}

/// Statistical return data sets within the caller's areas.
#[utoipa::path(get, path = "/api/v1/returns/datasets", tag = "returns",
    responses((status = 200, body = Vec<returns::Dataset>), (status = 403, body = crate::error::Problem)))]
async fn list_datasets(State(s): State<AppState>, auth: Auth) -> Result<Json<Vec<returns::Dataset>>, ApiError> {
    let scope = auth.scope(Permission::FrameworkRead)?;
    Ok(Json(returns::datasets(&s.db, &scope).await?))
}

/// Define a periodic data set an institution reports (monthly or quarterly, fields, due days).
#[utoipa::path(post, path = "/api/v1/returns/datasets", tag = "returns", request_body = returns::NewDataset,
    responses((status = 201, body = returns::Dataset), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
async fn create_dataset(State(s): State<AppState>, auth: Auth, ApiJson(b): ApiJson<returns::NewDataset>) -> Result<(StatusCode, Json<returns::Dataset>), ApiError> {
    auth.require(Permission::FrameworkWrite, Target::AnyArea)?;
    let (_, org_path) = vigie_storage::orgs::get(&s.db, b.org_id).await?;
    auth.require_in(Permission::FrameworkWrite, &org_path)?;
    Ok((StatusCode::CREATED, Json(returns::create_dataset(&s.db, &b, &auth.actor()).await?)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnBody {
    /// 2026-03 (monthly) or 2026-Q1 (quarterly)
    period: String,
    /// field code → number
    #[schema(value_type = Object)]
    values: serde_json::Map<String, serde_json::Value>,
}

/// An institution's return for a period (replaces an earlier one for the same period).
#[utoipa::path(post, path = "/api/v1/returns/datasets/{code}/submissions", tag = "returns", params(("code" = String, Path)),
    request_body = ReturnBody, responses((status = 204), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
async fn submit_return(State(s): State<AppState>, auth: Auth, Path(code): Path<String>, ApiJson(b): ApiJson<ReturnBody>) -> Result<StatusCode, ApiError> {
    auth.require(Permission::FrameworkWrite, Target::AnyArea)?;
    let ds = returns::dataset(&s.db, &code).await?;
    auth.require_in(Permission::FrameworkWrite, &AreaPath(ds.area_path.clone()))?;
    returns::submit(&s.db, &ds, &b.period, &b.values, &auth.actor(), s.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatusQuery {
    /// 2026-03 or 2026-Q1 (default: the last complete period of each data set)
    period: Option<String>,
}

/// Completeness and timeliness: for each data set, on time, late, overdue (who has not reported) or pending.
#[utoipa::path(get, path = "/api/v1/returns/status", tag = "returns", params(StatusQuery),
    responses((status = 200, body = Vec<returns::ReturnStatus>), (status = 403, body = crate::error::Problem)))]
async fn return_status(State(s): State<AppState>, auth: Auth, ApiQuery(q): ApiQuery<StatusQuery>) -> Result<Json<Vec<returns::ReturnStatus>>, ApiError> {
    let scope = auth.scope(Permission::FrameworkRead)?;
    Ok(Json(returns::status(&s.db, &scope, q.period.as_deref(), s.now()).await?))
}
