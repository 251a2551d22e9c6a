//! The map of reports: `GET /carte` (the page, with a table of the same figures for readers
//! without JavaScript), `GET /carte/signalements.json` (reports grouped on a grid that follows
//! the zoom level, only inside the visible rectangle: the browser never receives 100 000
//! points) and `GET /carte/indicateur.geojson` (a choropleth of an indicator by région).
//! Everything is within the reader's `reports.read` scope (`api::reports::list_scope`).

use super::reports::{categories, non_empty, severity_label};
use super::{Page, WebResult};
use crate::api::reports::list_scope;
use crate::error::ApiError;
use crate::AppState;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Duration, Utc};
use minijinja::{context, Value};
use serde::Deserialize;
use vigie_domain::area::{AreaLevel, AreaPath};
use vigie_domain::early_warning::taxonomy::Severity;
use vigie_domain::{Lang, Msg};
use vigie_storage::areas::{self, AreaFilter};
use vigie_storage::overview::{self, BBox, MapFilter};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/carte", get(page))
        .route("/carte/signalements.json", get(clusters))
        .route("/carte/indicateur.geojson", get(indicator))
}

/// At most this many clusters in one answer (a 1280×900 screen holds about 300 cells).
const MAX_CLUSTERS: usize = 2000;
/// Periods offered, in days (0: everything).
const PERIODS: [i64; 5] = [7, 30, 90, 365, 0];
const INDICATORS: [&str; 2] = ["signalements", "alertes"];
/// Shades of the choropleth, lightest first (0 has its own), as on the transparency page:
/// greens, so the severity colours of the circles stand out on them.
const SHADES: [&str; 5] = ["#f4f1ea", "#c9e0d5", "#8fbfa9", "#4f957a", "#0b4f3c"];

#[derive(Deserialize, Default)]
pub struct MapQuery {
    jours: Option<i64>,
    categorie: Option<String>,
    gravite: Option<i32>,
    indicateur: Option<String>,
    bbox: Option<String>,
    z: Option<u8>,
}

struct Filters {
    days: i64,
    category: Option<String>,
    severity: Option<i32>,
    indicator: &'static str,
}

fn filters(q: &MapQuery) -> Filters {
    Filters {
        days: q.jours.filter(|d| PERIODS.contains(d)).unwrap_or(90),
        category: non_empty(&q.categorie),
        severity: q.gravite.filter(|g| (1..=5).contains(g)),
        indicator: INDICATORS.iter().find(|i| Some(**i) == q.indicateur.as_deref()).copied().unwrap_or("signalements"),
    }
}

fn map_filter(f: &Filters, now: DateTime<Utc>) -> MapFilter {
    MapFilter {
        from: (f.days > 0).then(|| now - Duration::days(f.days)),
        to: None,
        category: f.category.clone(),
        min_severity: f.severity,
    }
}

fn shade(value: i64, max: i64) -> usize {
    if value <= 0 || max <= 0 {
        return 0;
    }
    1 + (((value - 1) * 4) / max).min(3) as usize
}

struct RegionValue {
    code: String,
    name: String,
    value: i64,
}

/// The indicator by région, rolled up from counts by area path, within scope.
async fn region_values(s: &AppState, scope: &[AreaPath], f: &Filters, now: DateTime<Utc>) -> Result<Vec<RegionValue>, super::WebError> {
    let rf = AreaFilter { level: Some(AreaLevel::Region), ..Default::default() };
    // Régions the reader sees, or the région holding a narrower scope (a cercle's analyst
    // sees their cercle's figure on its région).
    let roots = areas::root_paths(&s.db).await?;
    let regions: Vec<areas::Area> = areas::list(&s.db, &rf, &roots, 1, 200)
        .await?
        .items
        .into_iter()
        .filter(|r| scope.iter().any(|p| p.contains(&AreaPath(r.path.clone())) || AreaPath(r.path.clone()).contains(p)))
        .collect();
    let counts = match f.indicator {
        "alertes" => overview::open_alert_counts_by_path(&s.db, scope).await?,
        _ => overview::report_counts_by_path(&s.db, scope, &map_filter(f, now)).await?,
    };
    let paths: Vec<AreaPath> = regions.iter().map(|r| AreaPath(r.path.clone())).collect();
    let values = overview::roll_up(&counts, &paths);
    Ok(regions.into_iter().zip(values).map(|(r, value)| RegionValue { code: r.code, name: r.name, value }).collect())
}

fn indicator_label(ind: &str, lang: Lang) -> &'static str {
    super::i18n::t(if ind == "alertes" { "map.ind.alerts" } else { "map.ind.reports" }, lang)
}

async fn page(State(s): State<AppState>, page: Page, Query(q): Query<MapQuery>) -> WebResult {
    let (scope, _) = list_scope(&page.auth)?;
    let lang = page.lang;
    let f = filters(&q);
    let now = s.now();
    let regions = region_values(&s, &scope, &f, now).await?;
    let max = regions.iter().map(|r| r.value).max().unwrap_or(0);
    let region_rows: Vec<Value> =
        regions.iter().map(|r| context! { code => r.code, name => r.name, value => r.value, shade => shade(r.value, max) }).collect();
    let legend: Vec<Value> = if max > 0 {
        (1..SHADES.len())
            .filter_map(|i| {
                let (lo, hi) = super::public::shade_bounds(i as u64, max as u64)?;
                let n = |v: u64| super::i18n::number(v as f64, 0, lang);
                Some(context! { shade => i, label => if lo == hi { n(lo) } else { format!("{} – {}", n(lo), n(hi)) } })
            })
            .collect()
    } else {
        Vec::new()
    };
    let cats = categories(&s, lang).await?;
    let severities: Vec<Value> = Severity::ALL.iter().map(|v| context! { code => v.level(), label => v.label(lang) }).collect();
    let periods: Vec<Value> = PERIODS.iter().map(|d| context! { days => d, label => super::i18n::t(&format!("map.period.{d}"), lang) }).collect();
    let indicators: Vec<Value> = INDICATORS.iter().map(|i| context! { code => i, label => indicator_label(i, lang) }).collect();
    let mut qs = form_urlencoded::Serializer::new(String::new());
    qs.append_pair("jours", &f.days.to_string());
    if let Some(c) = &f.category {
        qs.append_pair("categorie", c);
    }
    if let Some(g) = f.severity {
        qs.append_pair("gravite", &g.to_string());
    }
    let data_query = qs.finish();
    let labels: Vec<Value> = cats.iter().map(|(code, label)| context! { code, label }).collect();
    page.render(
        "map.html",
        context! {
            regions => region_rows, legend, categories => cats, severities, periods, indicators, data_query, labels,
            indicator_label => indicator_label(f.indicator, lang),
            f => context! { jours => f.days, categorie => f.category, gravite => f.severity, indicateur => f.indicator },
            severity_names => (1..=5).map(|l| severity_label(l, lang)).collect::<Vec<_>>(),
        },
    )
}

fn json_response(body: String, cache: &'static str) -> axum::response::Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    res
}

/// `{"z":6,"cell":1.40625,"total":1234,"clusters":[{"lat","lon","count","severity","category","id"?}]}`
async fn clusters(State(s): State<AppState>, page: Page, Query(q): Query<MapQuery>) -> WebResult {
    let (scope, global) = list_scope(&page.auth)?;
    let bbox = q.bbox.as_deref().and_then(BBox::parse).ok_or_else(|| ApiError::bad_request("bbox", Msg::InvalidCoordinate))?;
    let zoom = q.z.unwrap_or(6).min(18);
    let f = filters(&q);
    let out = overview::clusters(&s.db, &scope, global, &map_filter(&f, s.now()), bbox, zoom, MAX_CLUSTERS).await?;
    let total: i64 = out.iter().map(|c| c.count).sum();
    let body = serde_json::json!({ "z": zoom, "cell": overview::cell_degrees(zoom), "total": total, "clusters": out }).to_string();
    // Private: the figures depend on who asks. A short cache helps panning back and forth.
    Ok(json_response(body, "private, max-age=30"))
}

/// Région boundaries with the indicator's value and shade.
async fn indicator(State(s): State<AppState>, page: Page, Query(q): Query<MapQuery>) -> WebResult {
    let (scope, _) = list_scope(&page.auth)?;
    let lang = page.lang;
    let f = filters(&q);
    let values = region_values(&s, &scope, &f, s.now()).await?;
    let max = values.iter().map(|r| r.value).max().unwrap_or(0);
    let roots = areas::root_paths(&s.db).await?;
    let rf = AreaFilter { level: Some(AreaLevel::Region), with_geometry: true, ..Default::default() };
    let label = indicator_label(f.indicator, lang);
    let features: Vec<serde_json::Value> = areas::list(&s.db, &rf, &roots, 1, 200)
        .await?
        .items
        .into_iter()
        .filter_map(|a| {
            let v = values.iter().find(|r| r.code == a.code)?;
            Some(serde_json::json!({
                "type": "Feature",
                "properties": {
                    "code": a.code, "name": a.name, "value": v.value, "fill": SHADES[shade(v.value, max)],
                    "label": format!("{} — {}{}{}", a.name, label, super::i18n::t("p.colon", lang), super::i18n::number(v.value as f64, 0, lang)),
                },
                "geometry": a.geometry?,
            }))
        })
        .collect();
    let body = serde_json::json!({"type": "FeatureCollection", "features": features}).to_string();
    let mut res = json_response(body, "private, max-age=60");
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/geo+json"));
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_filters_fall_back_to_defaults() {
        let q = MapQuery { jours: Some(12), gravite: Some(9), indicateur: Some("x".into()), categorie: Some(" ".into()), ..Default::default() };
        let f = filters(&q);
        assert_eq!((f.days, f.severity, f.indicator, f.category), (90, None, "signalements", None));
        let q = MapQuery { jours: Some(0), gravite: Some(4), indicateur: Some("alertes".into()), ..Default::default() };
        let f = filters(&q);
        assert_eq!((f.days, f.severity, f.indicator), (0, Some(4), "alertes"));
        assert!(map_filter(&f, Utc::now()).from.is_none());
    }
}
