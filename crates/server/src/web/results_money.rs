//! Money, risk and returns pages of a programme: budget execution in the programme-document
//! layout and the variance layout `GET /programmes/{code}/budget`, the risk register with its
//! heat map and the dated review form `GET /programmes/{code}/risques`,
//! `POST /programmes/{code}/risques/revue`, and statistical returns `GET /retours`.
//!
//! Figures come from the API's own functions (`budget_view`, `execution`, `variance`,
//! `risk_register`, `returns::status`) and access from `programme_for` / `scope`, as the API.

use super::results::{enc, figure};
use super::{FormPost, Page, WebResult};
use crate::api::results::{
    budget_view, execution, execution_rows, programme_for, review_checked, risk_register, variance,
    variance_rows, ReviewBody,
};
use crate::error::ApiError;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::Router;
use minijinja::{context, Value};
use serde::Deserialize;
use std::collections::HashMap;
use vigie_domain::access::Permission;
use vigie_domain::budget::money::RoundingMode;
use vigie_domain::Lang;
use vigie_storage::returns;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/programmes/{code}/budget", get(budget_page))
        .route("/programmes/{code}/risques", get(risks_page))
        .route("/programmes/{code}/risques/revue", post(review))
        .route("/retours", get(returns_page))
}

fn programme_ctx(p: &vigie_storage::results::Programme) -> Value {
    context! { code => p.code, name => p.name, currency => p.currency, first_year => p.first_year, last_year => p.last_year }
}

/// Amount cells of a row: "1 234 567" in the reader's convention.
fn money(raw: &str, lang: Lang) -> String {
    figure(raw, lang)
}

async fn budget_page(State(s): State<AppState>, page: Page, Path(code): Path<String>) -> WebResult {
    let p = programme_for(&s, &page.auth, &code, Permission::FrameworkRead).await?;
    let lang = page.lang;
    let bv = serde_json::to_value(budget_view(&s, &p).await?)
        .map_err(|_| vigie_domain::Msg::Internal)?;
    let report = execution(&s, &p).await?;
    let columns: Vec<String> = report
        .years
        .iter()
        .map(|y| y.to_string())
        .chain(["total".to_string()])
        .collect();
    let rows: Vec<Value> = execution_rows(&report)
        .into_iter()
        .map(|r| {
            let r = serde_json::to_value(&r).unwrap_or_default();
            let cell = |c: &str, k: &str| r["cells"][c][k].as_str().map(|v| money(v, lang));
            let years: Vec<Value> = columns.iter().map(|c| context! { budget => cell(c, "budget"), spent => cell(c, "spent") }).collect();
            let kind = r["kind"].as_str().unwrap_or("line").to_string();
            context! {
                code => r["code"].as_str(), label => r["label"].as_str(), kind, years,
                spent => cell("total", "spent"), balance => cell("total", "balance"),
                utilisation => r["cells"]["total"]["utilisation_pct"].as_str().map(|v| figure(v, lang)),
            }
        })
        .collect();
    let grand_total = bv["computed"]["grand_total"]["total"]
        .as_str()
        .map(|v| money(v, lang));
    // The document's own grand total comes first: it is what was signed; Vigie's recomputation
    // from the lines and the configured rates is shown beside it, with the gaps listed below.
    let printed_total = bv["rows"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["kind"] == "grand_total"))
        .and_then(|r| r["printed_total"].as_str())
        .map(|v| money(v, lang));
    let gaps: Vec<Value> = bv["gaps"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|g| {
                    context! {
                        line => g["line"].as_u64(), row => g["row"].as_str(), column => g["column"].as_str(),
                        printed => g["printed"].as_str().map(|v| money(v, lang)), computed => g["computed"].as_str().map(|v| money(v, lang)),
                        gap => g["gap"].as_str().map(|v| money(v, lang)), message => g[if lang == Lang::Fr { "message_fr" } else { "message_en" }].as_str(),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    // The variance layout exists only for programmes given apportionment and expenditure.
    let variance = match variance(&s, &p).await {
        Ok(rep) => {
            let util = rep
                .utilisation()
                .and_then(|u| u.round(1, RoundingMode::HalfUp).ok())
                .map(|r| r.value.format(lang, 1));
            let rows: Vec<Value> = variance_rows(&rep)
                .into_iter()
                .map(|r| {
                    let r = serde_json::to_value(&r).unwrap_or_default();
                    context! {
                        kind => r["kind"].as_str(), label => r[if lang == Lang::Fr { "label_fr" } else { "label_en" }].as_str(),
                        apportionment => r["apportionment"].as_str().map(|v| money(v, lang)), expenditure => r["expenditure"].as_str().map(|v| money(v, lang)),
                        variance => r["variance"].as_str().map(|v| money(v, lang)), pct => r["variance_pct"].as_str().map(|v| figure(v, lang)),
                    }
                })
                .collect();
            Some(context! { rows, utilisation => util })
        }
        Err(e) if e.status == StatusCode::NOT_FOUND => None,
        Err(e) => return Err(e.into()),
    };
    page.render(
        "budget.html",
        context! {
            p => programme_ctx(&p), code_q => enc(&p.code), columns, rows, grand_total, printed_total, gaps, variance,
            year => super::results::default_year(&s, &page, &p).await?,
        },
    )
}

#[derive(Default)]
struct ReviewForm {
    status: Option<StatusCode>,
    errors: Vec<super::reports::FieldError>,
    values: HashMap<String, String>,
    done: bool,
}

#[derive(Deserialize, Default)]
pub struct RisksQuery {
    fait: Option<String>,
}

async fn render_risks(s: &AppState, page: &Page, code: &str, x: ReviewForm) -> WebResult {
    let p = programme_for(s, &page.auth, code, Permission::FrameworkRead).await?;
    let lang = page.lang;
    let reg = serde_json::to_value(risk_register(s, &p).await?)
        .map_err(|_| vigie_domain::Msg::Internal)?;
    let bands = vigie_domain::framework::risk::RiskBands::default();
    let level_of = |score: u8| {
        serde_json::to_value(bands.level(score))
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    };
    // Rows from likelihood 5 (top) to 1, columns impact 1 to 5, as risk matrices are drawn.
    let heat: Vec<Value> = (1..=5u8)
        .rev()
        .map(|l| {
            let cells: Vec<Value> = (1..=5u8)
                .map(|i| {
                    let numbers: Vec<u64> = reg["heat_map"][(l - 1) as usize][(i - 1) as usize].as_array().map(|a| a.iter().filter_map(|n| n.as_u64()).collect()).unwrap_or_default();
                    context! { impact => i, count => numbers.len(), numbers, level => level_of(l * i) }
                })
                .collect();
            context! { likelihood => l, cells }
        })
        .collect();
    let risks: Vec<Value> = reg["risks"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| {
                    let last = r["risk"]["reviews"].as_array().and_then(|v| v.iter().filter_map(|x| x["date"].as_str()).max().map(str::to_string));
                    context! {
                        number => r["risk"]["number"].as_u64(), description => r["risk"]["description"].as_str(), category => r["risk"]["category"].as_str(),
                        owner => r["risk"]["owner"].as_str(), status => r["current"]["status"].as_str(), likelihood => r["current"]["likelihood"].as_u64(),
                        impact => r["current"]["impact"].as_u64(), score => r["score"].as_u64(), level => r["level"].as_str(), last_review => last,
                        mitigation => r["risk"]["mitigation"].as_array().map(|m| m.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>().join(" ; ")),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let can_review = programme_for(s, &page.auth, code, Permission::FrameworkWrite)
        .await
        .is_ok();
    let val = |k: &str| x.values.get(k).cloned().unwrap_or_default();
    let form = context! {
        risque => val("risque"), date => if x.values.is_empty() { s.now().date_naive().to_string() } else { val("date") },
        probabilite => val("probabilite"), impact => val("impact"), statut => val("statut"), note => val("note"),
    };
    let bad: Vec<String> = x.errors.iter().map(|e| e.field.clone()).collect();
    let _ = lang;
    page.render_status(
        x.status.unwrap_or(StatusCode::OK),
        "risks.html",
        context! { p => programme_ctx(&p), heat, risks, can_review, form, errors => x.errors, bad, done => x.done, today => s.now().date_naive().to_string() },
    )
}

async fn risks_page(
    State(s): State<AppState>,
    page: Page,
    Path(code): Path<String>,
    Query(q): Query<RisksQuery>,
) -> WebResult {
    render_risks(
        &s,
        &page,
        &code,
        ReviewForm {
            done: q.fait.is_some(),
            ..Default::default()
        },
    )
    .await
}

fn review_field(api_field: &str) -> &'static str {
    match api_field {
        "date" => "date",
        "likelihood" => "probabilite",
        "impact" => "impact",
        "status" => "statut",
        _ => "risque",
    }
}

async fn review(State(s): State<AppState>, Path(code): Path<String>, form: FormPost) -> WebResult {
    let page = &form.page;
    let keep: HashMap<String, String> =
        ["risque", "date", "probabilite", "impact", "statut", "note"]
            .iter()
            .map(|k| (k.to_string(), form.get(k).to_string()))
            .collect();
    let p = programme_for(&s, &page.auth, &code, Permission::FrameworkWrite).await?;
    let result = async {
        let number = form
            .get("risque")
            .trim()
            .parse::<u32>()
            .map_err(|_| ApiError::bad_request("risk", vigie_domain::Msg::Required))?;
        let body = ReviewBody {
            date: form.get("date").trim().to_string(),
            likelihood: form.get("probabilite").to_string(),
            impact: form.get("impact").to_string(),
            status: form.get("statut").to_string(),
            note: Some(form.get("note").to_string()),
        };
        review_checked(&s, &page.auth, &p, number, body).await
    }
    .await;
    match result {
        Ok(()) => Ok(Redirect::to(&format!(
            "/programmes/{}/risques?fait=1#revue",
            enc(&p.code)
        ))
        .into_response()),
        Err(e) if e.status.is_client_error() && e.status != StatusCode::FORBIDDEN => {
            let field = e.field.as_deref().map(review_field).unwrap_or("risque");
            let errors = vec![super::reports::FieldError {
                field: field.into(),
                message: e.msg.text(page.lang),
            }];
            let status = if e.status == StatusCode::NOT_FOUND {
                StatusCode::BAD_REQUEST
            } else {
                e.status
            };
            render_risks(
                &s,
                page,
                &code,
                ReviewForm {
                    status: Some(status),
                    errors,
                    values: keep,
                    done: false,
                },
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
pub struct ReturnsQuery {
    periode: Option<String>,
}

async fn returns_page(
    State(s): State<AppState>,
    page: Page,
    Query(q): Query<ReturnsQuery>,
) -> WebResult {
    let scope = page.auth.scope(Permission::FrameworkRead)?;
    let period = q
        .periode
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty());
    let rows = returns::status(&s.db, &scope, period, s.now()).await?;
    let count = |st: &str| rows.iter().filter(|r| r.status == st).count();
    let counts = context! { on_time => count("on_time"), late => count("late"), overdue => count("overdue"), pending => count("pending") };
    let total = rows.len();
    let reported = count("on_time") + count("late");
    let items: Vec<Value> = rows
        .into_iter()
        .map(|r| {
            context! {
                dataset => r.dataset, name => r.name, org_name => r.org_name, area_code => r.area_code, period => r.period,
                due => r.due.to_string(), status => r.status, submitted_at => r.submitted_at.map(|t| t.to_rfc3339()),
            }
        })
        .collect();
    page.render(
        "returns.html",
        context! {
            items, counts, total, reported, periode => period,
            completeness => (total > 0).then(|| super::i18n::number(reported as f64 * 100.0 / total as f64, 0, page.lang)),
        },
    )
}
