//! The areas browser: `GET /zones` (tree by level, filters by level, tag, name; map of the
//! régions), `GET /zones/{code}` (one area, its parents and children, its map), and
//! `GET /carte/zones.geojson` (the boundaries the map draws, within the reader's scope).

use super::{Page, WebError, WebResult};
use crate::error::ApiError;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use minijinja::context;
use serde::{Deserialize, Serialize};
use vigie_domain::access::{Permission, Target};
use vigie_domain::area::{AreaCode, AreaLevel, AreaPath};
use vigie_domain::Msg;
use vigie_storage::areas::{self, Area, AreaFilter};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/zones", get(list))
        .route("/zones/{code}", get(detail))
        .route("/carte/zones.geojson", get(geojson))
}

#[derive(Deserialize)]
pub struct ListQuery {
    niveau: Option<String>,
    etiquette: Option<String>,
    q: Option<String>,
    page: Option<i64>,
}

#[derive(Serialize)]
struct Node {
    area: Area,
    children: Vec<Node>,
}

/// Nests areas (sorted by path) under their parents; those whose parent is not listed are roots.
fn tree(mut list: Vec<Area>) -> Vec<Node> {
    list.sort_by(|a, b| a.path.cmp(&b.path));
    fn insert(nodes: &mut Vec<Node>, a: Area) -> Result<(), Area> {
        for n in nodes.iter_mut().rev() {
            if AreaPath(n.area.path.clone()).contains(&AreaPath(a.path.clone())) {
                return insert(&mut n.children, a).or_else(|a| {
                    n.children.push(Node { area: a, children: Vec::new() });
                    Ok(())
                });
            }
        }
        Err(a)
    }
    let mut roots = Vec::new();
    for a in list {
        if let Err(a) = insert(&mut roots, a) {
            roots.push(Node { area: a, children: Vec::new() });
        }
    }
    roots
}

fn non_empty(v: &Option<String>) -> Option<String> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

const PER_PAGE: i64 = 50;

async fn list(State(s): State<AppState>, page: Page, Query(q): Query<ListQuery>) -> WebResult {
    let scope = page.auth.scope(Permission::AreasRead)?;
    let level = match non_empty(&q.niveau) {
        Some(l) => Some(AreaLevel::parse(&l).map_err(|m| ApiError::bad_request("niveau", m))?),
        None => None,
    };
    let tag = non_empty(&q.etiquette).map(|t| t.to_lowercase());
    let text = non_empty(&q.q);
    let filtered = level.is_some() || tag.is_some() || text.is_some();
    let mut tags: Vec<String> = Vec::new();
    let (nodes, results, total, pages, current) = if filtered {
        let current = q.page.unwrap_or(1).clamp(1, 1_000_000);
        let f = AreaFilter { level, tag: tag.clone(), q: text.clone(), ..Default::default() };
        let p = areas::list(&s.db, &f, &scope, current, PER_PAGE).await?;
        for a in &p.items {
            tags.extend(a.tags.iter().cloned());
        }
        let pages = ((p.total + PER_PAGE - 1) / PER_PAGE).max(1);
        (Vec::new(), p.items, p.total, pages, current)
    } else {
        let mut all = Vec::new();
        for level in [AreaLevel::Country, AreaLevel::Region, AreaLevel::Cercle] {
            let f = AreaFilter { level: Some(level), ..Default::default() };
            all.extend(areas::list(&s.db, &f, &scope, 1, 500).await?.items);
        }
        for a in &all {
            tags.extend(a.tags.iter().cloned());
        }
        let total = all.len() as i64;
        (tree(all), Vec::new(), total, 1, 1)
    };
    tags.push("prosmed".into());
    tags.sort();
    tags.dedup();
    // Keeps the filters in the paging links.
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (k, v) in [("niveau", level.map(|l| l.as_str().to_string())), ("etiquette", tag.clone()), ("q", text.clone())] {
        if let Some(v) = v {
            query.append_pair(k, &v);
        }
    }
    page.render(
        "areas.html",
        context! {
            filtered, nodes, results, total, pages, current, tags,
            levels => AreaLevel::ALL.iter().map(|l| l.as_str()).collect::<Vec<_>>(),
            f => context! { niveau => level.map(|l| l.as_str()), etiquette => tag, q => text },
            query => query.finish(),
            map_src => "/carte/zones.geojson",
        },
    )
}

fn parse_code(raw: &str) -> Result<AreaCode, WebError> {
    AreaCode::parse(raw).map_err(|_| WebError(Msg::NotFound.into()))
}

async fn detail(State(s): State<AppState>, page: Page, Path(code): Path<String>) -> WebResult {
    page.auth.require(Permission::AreasRead, Target::AnyArea)?;
    let code = parse_code(&code)?;
    let area = areas::get(&s.db, &code, false).await?;
    page.auth.require_in(Permission::AreasRead, &AreaPath(area.path.clone()))?;
    // Parents the reader may see are named and linked; others show their code only.
    let mut crumbs = Vec::new();
    let segments: Vec<&str> = area.path.split('/').collect();
    for i in 0..segments.len().saturating_sub(1) {
        let p = AreaPath(segments[..=i].join("/"));
        let visible = page.auth.require_in(Permission::AreasRead, &p).is_ok();
        let name = if visible { areas::get(&s.db, &parse_code(segments[i])?, false).await.ok().map(|a| a.name) } else { None };
        crumbs.push(context! { code => segments[i], name, visible });
    }
    let scope = page.auth.scope(Permission::AreasRead)?;
    let f = AreaFilter { parent: Some(code.clone()), ..Default::default() };
    let children = areas::list(&s.db, &f, &scope, 1, 500).await?;
    let map_src = format!("/carte/zones.geojson?zone={}", area.code);
    page.render("area.html", context! { area, crumbs, children => children.items, children_total => children.total, map_src })
}

#[derive(Deserialize)]
pub struct MapQuery {
    zone: Option<String>,
}

/// Boundaries (or, lacking one, the main town as a point) of the régions in scope, or of one
/// area and its children. Properties: code, name, level, url.
async fn geojson(State(s): State<AppState>, page: Page, Query(q): Query<MapQuery>) -> WebResult {
    let scope = page.auth.scope(Permission::AreasRead)?;
    let mut items = Vec::new();
    match non_empty(&q.zone) {
        Some(code) => {
            let code = parse_code(&code)?;
            let area = areas::get(&s.db, &code, true).await?;
            page.auth.require_in(Permission::AreasRead, &AreaPath(area.path.clone()))?;
            items.push(area);
            let f = AreaFilter { parent: Some(code), with_geometry: true, ..Default::default() };
            items.extend(areas::list(&s.db, &f, &scope, 1, 500).await?.items);
        }
        None => {
            let f = AreaFilter { level: Some(AreaLevel::Region), with_geometry: true, ..Default::default() };
            items.extend(areas::list(&s.db, &f, &scope, 1, 500).await?.items);
        }
    }
    let features: Vec<serde_json::Value> = items
        .into_iter()
        .filter_map(|a| {
            let geometry = a.geometry.clone().or_else(|| match (a.lat, a.lon) {
                (Some(lat), Some(lon)) => Some(serde_json::json!({"type": "Point", "coordinates": [lon, lat]})),
                _ => None,
            })?;
            Some(serde_json::json!({
                "type": "Feature",
                "properties": {"code": a.code, "name": a.name, "level": a.level, "url": format!("/zones/{}", a.code)},
                "geometry": geometry,
            }))
        })
        .collect();
    let body = serde_json::json!({"type": "FeatureCollection", "features": features}).to_string();
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/geo+json"));
    // Boundaries rarely change: a 2G reader should not fetch them on every page.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=600"));
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(code: &str, path: &str) -> Area {
        Area { code: code.into(), parent: None, level: "region".into(), name: code.into(), path: path.into(), tags: vec![], lat: None, lon: None, geometry: None }
    }

    #[test]
    fn tree_nests_by_path() {
        let t = tree(vec![a("ML-5-KORO", "ML/ML-5/ML-5-KORO"), a("ML", "ML"), a("ML-5", "ML/ML-5"), a("ML-6", "ML/ML-6"), a("ML-50", "ML/ML-50")]);
        assert_eq!(t.len(), 1);
        let kids: Vec<&str> = t[0].children.iter().map(|n| n.area.code.as_str()).collect();
        assert_eq!(kids, vec!["ML-5", "ML-50", "ML-6"]);
        assert_eq!(t[0].children[0].children[0].area.code, "ML-5-KORO");
        // Without the country (a regional scope), régions are roots.
        let t = tree(vec![a("ML-5", "ML/ML-5"), a("ML-5-KORO", "ML/ML-5/ML-5-KORO")]);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].children.len(), 1);
    }
}
