//! `/api/v1/areas`: the administrative tree.

use super::{ApiQuery, PageOf, Paging};
use crate::auth::Auth;
use crate::error::{ApiError, ApiJson};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::Json;
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};
use vigie_domain::access::Permission;
use vigie_domain::area::{AreaCode, AreaInput, AreaLevel, Geometry};
use vigie_domain::import::areas::{self as import, Format};
use vigie_domain::Msg;
use vigie_storage::areas::{self, Area, AreaFilter, ImportSummary};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_areas)).routes(routes!(get_area, put_area)).routes(routes!(import_areas))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AreaQuery {
    /// country, region, cercle, commune or village
    level: Option<String>,
    /// Only the children of this area.
    parent: Option<String>,
    /// Only areas with this tag (e.g. `prosmed`).
    tag: Option<String>,
    /// Part of the name or code.
    q: Option<String>,
    /// Include GeoJSON geometry.
    geometry: Option<bool>,
    page: Option<i64>,
    per_page: Option<i64>,
}

/// List the areas within the caller's scope.
#[utoipa::path(get, path = "/api/v1/areas", tag = "areas", params(AreaQuery),
    responses((status = 200, body = PageOf<Area>), (status = 400, body = crate::error::Problem), (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
async fn list_areas(State(s): State<AppState>, auth: Auth, ApiQuery(q): ApiQuery<AreaQuery>) -> Result<Json<PageOf<Area>>, ApiError> {
    let scope = auth.scope(Permission::AreasRead)?;
    let (page, per_page) = Paging { page: q.page, per_page: q.per_page }.get()?;
    let filter = AreaFilter {
        level: q.level.as_deref().map(AreaLevel::parse).transpose().map_err(|m| ApiError::bad_request("level", m))?,
        parent: q.parent.as_deref().map(AreaCode::parse).transpose().map_err(|m| ApiError::bad_request("parent", m))?,
        tag: q.tag,
        q: q.q,
        with_geometry: q.geometry.unwrap_or(false),
    };
    Ok(Json(areas::list(&s.db, &filter, &scope, page, per_page).await?.into()))
}

fn parse_code(raw: &str) -> Result<AreaCode, ApiError> {
    AreaCode::parse(raw).map_err(|m| ApiError::bad_request("code", m))
}

/// One area.
#[utoipa::path(get, path = "/api/v1/areas/{code}", tag = "areas", params(("code" = String, Path, description = "Area code, e.g. ML-5")),
    responses((status = 200, body = Area), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
async fn get_area(State(s): State<AppState>, auth: Auth, Path(code): Path<String>) -> Result<Json<Area>, ApiError> {
    auth.require(Permission::AreasRead, vigie_domain::access::Target::AnyArea)?;
    let area = areas::get(&s.db, &parse_code(&code)?, true).await?;
    auth.require_in(Permission::AreasRead, &vigie_domain::area::AreaPath(area.path.clone()))?;
    Ok(Json(area))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AreaBody {
    parent: Option<String>,
    level: String,
    name: String,
    #[serde(default)]
    tags: Vec<String>,
    lat: Option<f64>,
    lon: Option<f64>,
    #[schema(value_type = Option<Object>)]
    geometry: Option<serde_json::Value>,
}

/// Create or update an area. The caller needs `areas.write` over the parent (and over the area, if it exists).
#[utoipa::path(put, path = "/api/v1/areas/{code}", tag = "areas", params(("code" = String, Path)), request_body = AreaBody,
    responses((status = 200, body = Area), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
async fn put_area(State(s): State<AppState>, auth: Auth, Path(code): Path<String>, ApiJson(b): ApiJson<AreaBody>) -> Result<Json<Area>, ApiError> {
    auth.require(Permission::AreasWrite, vigie_domain::access::Target::AnyArea)?;
    let code = parse_code(&code)?;
    let parent = b.parent.as_deref().filter(|p| !p.is_empty()).map(AreaCode::parse).transpose().map_err(|m| ApiError::bad_request("parent", m))?;
    // Writing at the root (the country) needs a grant at the root.
    match &parent {
        Some(p) => auth.require_in(Permission::AreasWrite, &areas::path_of(&s.db, p, "parent").await?)?,
        None => auth.require(Permission::AreasWrite, vigie_domain::access::Target::Global)?,
    }
    if let Ok(existing) = areas::get(&s.db, &code, false).await {
        auth.require_in(Permission::AreasWrite, &vigie_domain::area::AreaPath(existing.path))?;
    }
    let point = match (b.lat, b.lon) {
        (None, None) => None,
        (Some(la), Some(lo)) => Some((la, lo)),
        _ => return Err(ApiError::bad_request("lat", Msg::InvalidCoordinate)),
    };
    let input = AreaInput {
        code: code.clone(),
        parent,
        level: AreaLevel::parse(&b.level).map_err(|m| ApiError::bad_request("level", m))?,
        name: b.name,
        tags: b.tags.iter().map(|t| vigie_domain::area::parse_tag(t)).collect::<Result<_, _>>().map_err(|m| ApiError::bad_request("tags", m))?,
        point,
        geometry: b.geometry.map(Geometry::parse).transpose().map_err(|m| ApiError::bad_request("geometry", m))?,
    };
    let mut tx = s.db.begin().await?;
    areas::upsert(&mut tx, &input, &auth.actor()).await?;
    tx.commit().await?;
    s.db.memo.forget_all(); // the area may have moved in the tree
    Ok(Json(areas::get(&s.db, &code, true).await?))
}

/// Import areas from CSV (`text/csv`) or GeoJSON (`application/geo+json`). All rows or none;
/// errors come back with their line numbers. Needs `areas.write` over the whole tree.
#[utoipa::path(post, path = "/api/v1/areas/import", tag = "areas",
    request_body(content = String, content_type = "text/csv", description = "code,parent,level,name,tags,lat,lon"),
    responses((status = 200, body = ImportSummary), (status = 422, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
async fn import_areas(State(s): State<AppState>, auth: Auth, headers: HeaderMap, body: Bytes) -> Result<Json<ImportSummary>, ApiError> {
    auth.require(Permission::AreasWrite, vigie_domain::access::Target::Global)?;
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let format = if ct.starts_with("text/csv") {
        Format::Csv
    } else if ct.starts_with("application/geo+json") || ct.starts_with("application/json") {
        Format::GeoJson
    } else {
        return Err(Msg::UnsupportedMediaType.into());
    };
    let rows = import::parse(format, &body).map_err(|lines| ApiError::from(vigie_storage::StoreError::Lines(lines)))?;
    Ok(Json(areas::import(&s.db, &rows, &auth.actor()).await?))
}
