//! `/api/v1/roles` and `/api/v1/permissions`: what roles exist and what they allow.

use crate::auth::Auth;
use crate::error::{ApiError, ApiJson};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};
use vigie_domain::access::{Permission, Target};
use vigie_storage::roles::{self, Role};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_roles, create_role)).routes(routes!(update_role)).routes(routes!(list_permissions))
}

/// All roles (needs `users.read` somewhere, to assign them).
#[utoipa::path(get, path = "/api/v1/roles", tag = "roles", responses((status = 200, body = Vec<Role>), (status = 403, body = crate::error::Problem)))]
async fn list_roles(State(s): State<AppState>, auth: Auth) -> Result<Json<Vec<Role>>, ApiError> {
    auth.require(Permission::UsersRead, Target::AnyArea)?;
    Ok(Json(roles::list(&s.db).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleBody {
    name: String,
    label: String,
    permissions: Vec<String>,
}

/// Define a new role (needs `roles.write` over the whole tree).
#[utoipa::path(post, path = "/api/v1/roles", tag = "roles", request_body = RoleBody,
    responses((status = 201, body = Role), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem), (status = 409, body = crate::error::Problem)))]
async fn create_role(State(s): State<AppState>, auth: Auth, ApiJson(b): ApiJson<RoleBody>) -> Result<(StatusCode, Json<Role>), ApiError> {
    auth.require(Permission::RolesWrite, Target::Global)?;
    Ok((StatusCode::CREATED, Json(roles::save(&s.db, &b.name, &b.label, &b.permissions, true, &auth.actor()).await?)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleUpdate {
    label: String,
    permissions: Vec<String>,
}

/// Change a custom role (built-in roles are read-only).
#[utoipa::path(put, path = "/api/v1/roles/{name}", tag = "roles", params(("name" = String, Path)), request_body = RoleUpdate,
    responses((status = 200, body = Role), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
async fn update_role(State(s): State<AppState>, auth: Auth, Path(name): Path<String>, ApiJson(b): ApiJson<RoleUpdate>) -> Result<Json<Role>, ApiError> {
    auth.require(Permission::RolesWrite, Target::Global)?;
    Ok(Json(roles::save(&s.db, &name, &b.label, &b.permissions, false, &auth.actor()).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PermissionInfo {
    name: &'static str,
    fr: &'static str,
    en: &'static str,
}

/// Every permission a role can hold.
#[utoipa::path(get, path = "/api/v1/permissions", tag = "roles", responses((status = 200, body = Vec<PermissionInfo>)))]
async fn list_permissions(_auth: Auth) -> Json<Vec<PermissionInfo>> {
    use vigie_domain::Lang;
    Json(Permission::ALL.iter().map(|p| PermissionInfo { name: p.name(), fr: p.describe(Lang::Fr), en: p.describe(Lang::En) }).collect())
}
