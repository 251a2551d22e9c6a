//! `/api/v1/organisations`: institutions.

use super::{ApiQuery, PageOf, Paging};
use crate::auth::Auth;
use crate::error::{ApiError, ApiJson};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};
use vigie_domain::access::Permission;
use vigie_domain::area::AreaCode;
use vigie_storage::orgs::{self, Organisation};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_orgs, create_org)).routes(routes!(get_org))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrgQuery {
    kind: Option<String>,
    page: Option<i64>,
    per_page: Option<i64>,
}

/// Institutions located within the caller's scope.
#[utoipa::path(get, path = "/api/v1/organisations", tag = "organisations", params(OrgQuery),
    responses((status = 200, body = PageOf<Organisation>), (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
async fn list_orgs(State(s): State<AppState>, auth: Auth, ApiQuery(q): ApiQuery<OrgQuery>) -> Result<Json<PageOf<Organisation>>, ApiError> {
    let scope = auth.scope(Permission::OrgsRead)?;
    let (page, per) = Paging { page: q.page, per_page: q.per_page }.get()?;
    Ok(Json(orgs::list(&s.db, &scope, q.kind.as_deref(), page, per).await?.into()))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgBody {
    name: String,
    /// ministry, police, gendarmerie, national_guard, armed_forces, prefecture, municipality, cndh, inspection,
    /// court, prison, ngo, cso, un_agency, un_mission, security_committee, other
    kind: String,
    area_code: String,
}

/// Register an institution in an area of the caller's scope.
#[utoipa::path(post, path = "/api/v1/organisations", tag = "organisations", request_body = OrgBody,
    responses((status = 201, body = Organisation), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
async fn create_org(State(s): State<AppState>, auth: Auth, ApiJson(b): ApiJson<OrgBody>) -> Result<(StatusCode, Json<Organisation>), ApiError> {
    auth.require(Permission::OrgsWrite, vigie_domain::access::Target::AnyArea)?;
    let area = AreaCode::parse(&b.area_code).map_err(|m| ApiError::bad_request("area_code", m))?;
    auth.require_in(Permission::OrgsWrite, &vigie_storage::areas::path_of(&s.db, &area, "area_code").await?)?;
    Ok((StatusCode::CREATED, Json(orgs::create(&s.db, &b.name, &b.kind, &area, &auth.actor()).await?)))
}

/// One institution.
#[utoipa::path(get, path = "/api/v1/organisations/{id}", tag = "organisations", params(("id" = i64, Path)),
    responses((status = 200, body = Organisation), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
async fn get_org(State(s): State<AppState>, auth: Auth, Path(id): Path<i64>) -> Result<Json<Organisation>, ApiError> {
    auth.require(Permission::OrgsRead, vigie_domain::access::Target::AnyArea)?;
    let (org, path) = orgs::get(&s.db, id).await?;
    auth.require_in(Permission::OrgsRead, &path)?;
    Ok(Json(org))
}
