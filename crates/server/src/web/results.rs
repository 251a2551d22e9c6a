//! Results frameworks for programme managers and M&E officers: the programmes the reader may
//! see `GET /programmes`, a programme's framework with each indicator's progress and a small
//! chart `GET /programmes/{code}`, one indicator with its values by area and period and the
//! entry form `GET|POST /programmes/{code}/indicateurs/{ind}`.
//!
//! Access is exactly the API's: `api::results::programme_for` (framework.read/write over the
//! programme's area), `progress_area` for the area shown, `record_checked` for the values
//! entered (each area within the caller's framework.write grants). Budget, risks and returns
//! pages are in `results_money`.

use super::reports::AreaNames;
use super::{FormPost, Page, WebError, WebResult};
use crate::api::results::{programme_for, progress_area, record_checked, ProgressQuery};
use crate::error::ApiError;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use axum::Router;
use chrono::Datelike;
use minijinja::{context, Value};
use serde::Deserialize;
use std::collections::HashMap;
use vigie_domain::access::Permission;
use vigie_domain::area::AreaCode;
use vigie_domain::framework::{Baseline, Indicator, Target};
use vigie_domain::Lang;
use vigie_storage::results::{self, ActualInput, IndicatorProgress, Programme};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/programmes", get(list))
        .route("/programmes/{code}", get(framework_page))
        .route(
            "/programmes/{code}/indicateurs/{ind}",
            get(indicator_page).post(enter_value),
        )
        .merge(super::results_money::router())
}

/// Programmes whose area the reader may read (as `GET /api/v1/programmes`).
pub(super) async fn readable_programmes(
    s: &AppState,
    page: &Page,
) -> Result<Vec<Programme>, WebError> {
    let scope = page.auth.scope(Permission::FrameworkRead)?;
    Ok(results::programmes(&s.db)
        .await?
        .into_iter()
        .filter(|p| scope.iter().any(|sc| sc.contains(&p.path())))
        .collect())
}

/// The year shown by default: the latest year with an entered value, else this year kept
/// within the programme's years.
pub(super) async fn default_year(
    s: &AppState,
    page: &Page,
    p: &Programme,
) -> Result<i32, WebError> {
    let scope = page.auth.scope(Permission::FrameworkRead)?;
    let latest = results::actuals(&s.db, p, &scope)
        .await?
        .iter()
        .filter_map(|a| a.period.get(..4)?.parse::<i32>().ok())
        .max();
    let this_year = s.now().year();
    Ok(latest
        .unwrap_or(this_year)
        .clamp(p.first_year as i32, p.last_year as i32))
}

/// Counts of indicators per traffic light for the home page card.
pub(super) async fn light_counts(s: &AppState, page: &Page) -> Result<Vec<Value>, WebError> {
    let mut out = Vec::new();
    for p in readable_programmes(s, page).await? {
        let year = default_year(s, page, &p).await?;
        let area = AreaCode::parse(&p.area_code).map_err(|m| WebError(m.into()))?;
        let q = ProgressQuery {
            year,
            area: None,
            reading: None,
            green: None,
            amber: None,
        };
        let rows = results::progress_report(&s.db, &p, year, &area, &q.options()?).await?;
        let count = |st: &str| rows.iter().filter(|r| r.status == st).count();
        let other = rows.len() - count("green") - count("amber") - count("red");
        out.push(context! { code => p.code, name => p.name, year, green => count("green"), amber => count("amber"), red => count("red"), other });
    }
    Ok(out)
}

async fn list(State(s): State<AppState>, page: Page) -> WebResult {
    let items: Vec<Value> = readable_programmes(&s, &page)
        .await?
        .into_iter()
        .map(|p| context! { code => p.code, name => p.name, first_year => p.first_year, last_year => p.last_year, currency => p.currency, area_code => p.area_code })
        .collect();
    page.render(
        "programmes.html",
        context! { items, can_write => page.can(Permission::FrameworkWrite) },
    )
}

/// `?annee=2022&zone=ML-5&lecture=points`: the year, area and reading of "+5 %" targets shown.
#[derive(Deserialize, Default)]
pub struct ViewQuery {
    annee: Option<String>,
    zone: Option<String>,
    lecture: Option<String>,
    /// Set after a value was recorded (the notice).
    fait: Option<String>,
}

/// The year, area and options a framework or indicator page shows, checked like the API's progress.
struct View {
    year: i32,
    area: AreaCode,
    reading: Option<String>,
    query: ProgressQuery,
}

async fn view_of(
    s: &AppState,
    page: &Page,
    p: &Programme,
    q: &ViewQuery,
) -> Result<View, WebError> {
    let year = match q.annee.as_deref().map(str::trim).filter(|y| !y.is_empty()) {
        Some(y) => y
            .parse::<i32>()
            .ok()
            .filter(|y| (p.first_year as i32..=p.last_year as i32).contains(y))
            .ok_or_else(|| ApiError::bad_request("annee", vigie_domain::Msg::InvalidPeriod))?,
        None => default_year(s, page, p).await?,
    };
    let zone = q.zone.as_deref().map(str::trim).filter(|z| !z.is_empty());
    let area = progress_area(s, &page.auth, p, zone).await?;
    let reading = q
        .lecture
        .clone()
        .filter(|r| r == "points" || r == "relative");
    let query = ProgressQuery {
        year,
        area: Some(area.to_string()),
        reading: reading.clone(),
        green: None,
        amber: None,
    };
    Ok(View {
        year,
        area,
        reading,
        query,
    })
}

/// Progress of every indicator in every programme year (for the charts), by indicator code.
async fn progress_by_year(
    s: &AppState,
    p: &Programme,
    v: &View,
) -> Result<Vec<(i32, Vec<IndicatorProgress>)>, WebError> {
    let opts = v.query.options()?;
    let mut out = Vec::new();
    for y in p.first_year as i32..=p.last_year as i32 {
        out.push((
            y,
            results::progress_report(&s.db, p, y, &v.area, &opts).await?,
        ));
    }
    Ok(out)
}

/// An exact decimal ("1234.5") in the reader's convention ("1 234,5").
pub(super) fn figure(raw: &str, lang: Lang) -> String {
    match vigie_domain::budget::Dec::parse(raw, vigie_domain::budget::NumberStyle::English) {
        Ok(d) => d.format(lang, 0),
        Err(_) => raw.to_string(),
    }
}

fn baseline_text(b: &Baseline, lang: Lang) -> String {
    match b {
        Baseline::Values { parts, note } => {
            let mut t = parts
                .iter()
                .map(|p| match &p.label {
                    Some(l) => format!("{} ({l})", p.value.format(lang, 0)),
                    None => p.value.format(lang, 0),
                })
                .collect::<Vec<_>>()
                .join(" ; ");
            if let Some(n) = note {
                t.push_str(&format!(" — {n}"));
            }
            t
        }
        Baseline::ToBeEstablished => super::i18n::t("res.baseline_tbd", lang).to_string(),
        Baseline::YesNo(y) => {
            super::i18n::t(if *y { "res.yes" } else { "res.no" }, lang).to_string()
        }
        Baseline::Text(t) => t.clone(),
        Baseline::Missing => "—".into(),
    }
}

fn target_text(t: &Target, lang: Lang) -> String {
    match t {
        Target::NoTarget => "/".into(),
        Target::Value { value, note } => match note {
            Some(n) => format!("{} ({n})", value.format(lang, 0)),
            None => value.format(lang, 0),
        },
        Target::Change {
            delta,
            percent_sign,
            note,
        } => {
            let sign = if delta.is_negative() { "" } else { "+" };
            let pct = if *percent_sign { "\u{a0}%" } else { "" };
            let mut s = format!("{sign}{}{pct}", delta.format(lang, 0));
            if let Some(n) = note {
                s.push_str(&format!(" ({n})"));
            }
            s
        }
        Target::YesNo(y) => super::i18n::t(if *y { "res.yes" } else { "res.no" }, lang).to_string(),
        Target::Milestone(m) => m.clone(),
    }
}

/// The indicator's figures for the template; `series` is its progress year by year.
fn indicator_ctx(
    ind: &Indicator,
    computed: Option<String>,
    series: &[(i32, &IndicatorProgress)],
    year: i32,
    lang: Lang,
) -> Value {
    let now = series.iter().find(|(y, _)| *y == year).map(|(_, p)| *p);
    let latest = series
        .iter()
        .rev()
        .find(|(y, p)| *y <= year && p.actual.is_some())
        .map(
            |(y, p)| context! { year => y, value => p.actual.as_deref().map(|a| figure(a, lang)) },
        );
    let points: Vec<(i32, Option<f64>, Option<f64>)> = series
        .iter()
        .map(|(y, p)| {
            (
                *y,
                p.target.as_deref().and_then(|t| t.parse().ok()),
                p.actual.as_deref().and_then(|a| a.parse().ok()),
            )
        })
        .collect();
    let targets: Vec<Value> = ind
        .targets
        .iter()
        .map(|(y, t)| context! { year => y, text => target_text(t, lang) })
        .collect();
    context! {
        code => ind.code.as_str(), label => ind.label, unit => super::i18n::t(&format!("res.unit.{}", unit_key(ind)), lang),
        baseline => baseline_text(&ind.baseline, lang), baseline_year => ind.baseline_year, targets,
        target => now.and_then(|p| p.target.as_deref().map(|t| figure(t, lang))),
        actual => now.and_then(|p| p.actual.as_deref().map(|a| figure(a, lang))),
        achieved => now.and_then(|p| p.achieved_pct.as_deref().map(|a| figure(a, lang))),
        status => now.map(|p| p.status.clone()).unwrap_or_else(|| "no_data".into()),
        problem => now.and_then(|p| p.problem.clone()),
        latest, computed, chart => super::chart::yearly(&points, lang),
        verification => ind.means_of_verification, responsible => ind.responsible,
        aggregation => super::i18n::t(&format!("res.agg.{}", serde_json::to_value(ind.aggregation).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()), lang),
    }
}

fn unit_key(ind: &Indicator) -> String {
    serde_json::to_value(ind.unit)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The computer's description when the indicator reads Vigie's records.
fn computer_of(v: &results::IndicatorView, lang: Lang) -> Option<String> {
    match &v.source {
        vigie_domain::framework::source::IndicatorSource::Computed { computer, .. } => Some(
            vigie_storage::indicator_sources::REGISTRY
                .iter()
                .find(|c| c.key == computer)
                .map(|c| {
                    if lang == Lang::Fr {
                        c.description_fr
                    } else {
                        c.description_en
                    }
                    .to_string()
                })
                .unwrap_or_else(|| computer.clone()),
        ),
        _ => None,
    }
}

/// Areas offered in the area filter: the programme's area and its sub-areas down to cercles,
/// within the reader's scope.
async fn area_choices(
    s: &AppState,
    page: &Page,
    p: &Programme,
    perm: Permission,
) -> Result<Vec<Value>, WebError> {
    let all = super::reports::area_choices(s, page, perm).await?;
    let root = p.path();
    Ok(all
        .into_iter()
        .filter(|a| {
            root.contains(&vigie_domain::area::AreaPath(a.path.clone())) && a.level != "commune"
        })
        .map(|a| context! { code => a.code, name => a.name, level => a.level })
        .collect())
}

fn programme_ctx(p: &Programme) -> Value {
    context! { code => p.code, name => p.name, first_year => p.first_year, last_year => p.last_year, currency => p.currency, area_code => p.area_code }
}

fn view_ctx(v: &View, p: &Programme) -> Value {
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.append_pair("annee", &v.year.to_string());
    if v.area.as_str() != p.area_code {
        q.append_pair("zone", v.area.as_str());
    }
    if let Some(r) = &v.reading {
        q.append_pair("lecture", r);
    }
    let years: Vec<i32> = (p.first_year as i32..=p.last_year as i32).collect();
    context! { year => v.year, area => v.area.as_str(), reading => v.reading, query => q.finish(), years }
}

async fn framework_page(
    State(s): State<AppState>,
    page: Page,
    Path(code): Path<String>,
    Query(q): Query<ViewQuery>,
) -> WebResult {
    let p = programme_for(&s, &page.auth, &code, Permission::FrameworkRead).await?;
    let v = view_of(&s, &page, &p, &q).await?;
    let lang = page.lang;
    let (fw, views) = results::framework(&s.db, &p).await?;
    let by_year = progress_by_year(&s, &p, &v).await?;
    let series_of = |code: &str| -> Vec<(i32, &IndicatorProgress)> {
        by_year
            .iter()
            .filter_map(|(y, rows)| rows.iter().find(|r| r.code == code).map(|r| (*y, r)))
            .collect()
    };
    let view_of_ind: HashMap<&str, &results::IndicatorView> = views
        .iter()
        .map(|v| (v.indicator.code.as_str(), v))
        .collect();
    let ind_ctx = |ind: &Indicator| {
        let computed = view_of_ind
            .get(ind.code.as_str())
            .and_then(|v| computer_of(v, lang));
        indicator_ctx(ind, computed, &series_of(ind.code.as_str()), v.year, lang)
    };
    let mut counts: HashMap<String, usize> = HashMap::new();
    if let Some((_, rows)) = by_year.iter().find(|(y, _)| *y == v.year) {
        for r in rows {
            *counts.entry(r.status.clone()).or_default() += 1;
        }
    }
    let results_tree: Vec<Value> = fw
        .results
        .iter()
        .map(|r| {
            let outcome: Vec<Value> = fw.outcome_indicators(&r.code).map(&ind_ctx).collect();
            let outputs: Vec<Value> = fw
                .outputs_of(&r.code)
                .map(|o| context! { code => o.code.as_str(), title => o.title, indicators => fw.indicators_of_output(&o.code).map(&ind_ctx).collect::<Vec<_>>() })
                .collect();
            context! { code => r.code.as_str(), title => r.title, indicators => outcome, outputs }
        })
        .collect();
    let lights = context! {
        green => counts.get("green").copied().unwrap_or(0), amber => counts.get("amber").copied().unwrap_or(0), red => counts.get("red").copied().unwrap_or(0),
        other => counts.iter().filter(|(k, _)| !["green", "amber", "red"].contains(&k.as_str())).map(|(_, n)| n).sum::<usize>(),
    };
    page.render(
        "programme.html",
        context! {
            p => programme_ctx(&p), v => view_ctx(&v, &p), results => results_tree, lights,
            areas => area_choices(&s, &page, &p, Permission::FrameworkRead).await?,
        },
    )
}

// ---- One indicator, its values, the entry form ----

#[derive(Default)]
struct Entry {
    status: Option<StatusCode>,
    errors: Vec<super::reports::FieldError>,
    values: HashMap<String, String>,
    done: bool,
}

/// The form's field for a field named in a storage error.
fn form_field(api_field: &str) -> &'static str {
    match api_field {
        "period" => "periode",
        "area_code" => "zone",
        "disaggregation" => "ventilation",
        "value" => "valeur",
        _ => "indicateur",
    }
}

fn entry_errors(e: &ApiError, lang: Lang) -> Vec<super::reports::FieldError> {
    if !e.lines.is_empty() {
        return e
            .lines
            .iter()
            .map(|l| super::reports::FieldError {
                field: form_field(&l.field).into(),
                message: l.msg.text(lang),
            })
            .collect();
    }
    let field =
        e.field
            .as_deref()
            .map(form_field)
            .unwrap_or(if e.status == StatusCode::FORBIDDEN {
                "zone"
            } else {
                ""
            });
    vec![super::reports::FieldError {
        field: field.into(),
        message: e.msg.text(lang),
    }]
}

async fn render_indicator(
    s: &AppState,
    page: &Page,
    code: &str,
    ind_code: &str,
    q: &ViewQuery,
    x: Entry,
) -> WebResult {
    let p = programme_for(s, &page.auth, code, Permission::FrameworkRead).await?;
    let v = view_of(s, page, &p, q).await?;
    let lang = page.lang;
    let (_, views) = results::framework(&s.db, &p).await?;
    let wanted = ind_code.trim().to_uppercase();
    let iv = views
        .iter()
        .find(|v| v.indicator.code.as_str() == wanted)
        .ok_or(vigie_domain::Msg::NotFound)?;
    let by_year = progress_by_year(s, &p, &v).await?;
    let series: Vec<(i32, &IndicatorProgress)> = by_year
        .iter()
        .filter_map(|(y, rows)| {
            rows.iter()
                .find(|r| r.code == iv.indicator.code.as_str())
                .map(|r| (*y, r))
        })
        .collect();
    let computed = computer_of(iv, lang);
    let years: Vec<Value> = series
        .iter()
        .map(|(y, r)| {
            context! {
                year => y, target => r.target.as_deref().map(|t| figure(t, lang)), actual => r.actual.as_deref().map(|a| figure(a, lang)),
                achieved => r.achieved_pct.as_deref().map(|a| figure(a, lang)), status => r.status, problem => r.problem,
            }
        })
        .collect();
    // Entered values of this indicator within the reader's scope, by period and area.
    let scope = page.auth.scope(Permission::FrameworkRead)?;
    let mut names = AreaNames::default();
    let mut values = Vec::new();
    for a in results::actuals(&s.db, &p, &scope)
        .await?
        .into_iter()
        .filter(|a| a.indicator_code == iv.indicator.code.as_str())
    {
        let area_name = names.name(s, Some(&a.area_code)).await;
        values.push(context! { period => a.period, area_code => a.area_code, area_name, slice => a.slice, value => figure(&a.value, lang), note => a.note });
    }
    let may_enter = !iv.source.is_computed()
        && page
            .auth
            .scope(Permission::FrameworkWrite)
            .is_ok_and(|sc| !sc.is_empty());
    let entry_areas = if may_enter {
        area_choices(s, page, &p, Permission::FrameworkWrite).await?
    } else {
        Vec::new()
    };
    let val = |k: &str| x.values.get(k).cloned().unwrap_or_default();
    let form = context! {
        periode => if x.values.is_empty() { v.year.to_string() } else { val("periode") }, zone => val("zone"),
        ventilation => val("ventilation"), valeur => val("valeur"), note => val("note"),
    };
    let bad: Vec<String> = x.errors.iter().map(|e| e.field.clone()).collect();
    page.render_status(
        x.status.unwrap_or(StatusCode::OK),
        "indicator.html",
        context! {
            p => programme_ctx(&p), v => view_ctx(&v, &p), i => indicator_ctx(&iv.indicator, computed, &series, v.year, lang),
            years, values, may_enter, entry_areas, form, errors => x.errors, bad, done => x.done,
            disaggregations => iv.indicator.disaggregations.iter().map(|d| serde_json::to_value(d).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()).collect::<Vec<_>>(),
        },
    )
}

async fn indicator_page(
    State(s): State<AppState>,
    page: Page,
    Path((code, ind)): Path<(String, String)>,
    Query(q): Query<ViewQuery>,
) -> WebResult {
    render_indicator(
        &s,
        &page,
        &code,
        &ind,
        &q,
        Entry {
            done: q.fait.is_some(),
            ..Default::default()
        },
    )
    .await
}

async fn enter_value(
    State(s): State<AppState>,
    Path((code, ind)): Path<(String, String)>,
    form: FormPost,
) -> WebResult {
    let page = &form.page;
    let keep: HashMap<String, String> = ["periode", "zone", "ventilation", "valeur", "note"]
        .iter()
        .map(|k| (k.to_string(), form.get(k).to_string()))
        .collect();
    let note = form.get("note").trim();
    let input = ActualInput {
        indicator_code: ind.clone(),
        period: form.get("periode").trim().to_string(),
        area_code: form.get("zone").trim().to_string(),
        disaggregation: Some(form.get("ventilation").trim().to_string()).filter(|d| !d.is_empty()),
        value: serde_json::Value::String(form.get("valeur").trim().to_string()),
        note: Some(note.to_string()).filter(|n| !n.is_empty()),
    };
    // Reading the programme first: a reader without access gets the API's refusal, not a form.
    programme_for(&s, &page.auth, &code, Permission::FrameworkRead).await?;
    let year = input.period.get(..4).map(str::to_string);
    match record_checked(&s, &page.auth, &code, vec![input]).await {
        Ok(_) => {
            let mut q = form_urlencoded::Serializer::new(String::new());
            if let Some(y) = year {
                q.append_pair("annee", &y);
            }
            q.append_pair("fait", "1");
            Ok(Redirect::to(&format!(
                "/programmes/{}/indicateurs/{}?{}#saisie",
                enc(&code),
                enc(&ind),
                q.finish()
            ))
            .into_response())
        }
        // Mistakes and areas outside the caller's grants come back on the form, input kept.
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
            let x = Entry {
                status: Some(e.status),
                errors: entry_errors(&e, page.lang),
                values: keep,
                done: false,
            };
            render_indicator(&s, page, &code, &ind, &ViewQuery::default(), x).await
        }
        Err(e) => Err(e.into()),
    }
}

pub(super) fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
