//! `/api/v1/users`: accounts, grants and API tokens. Admins manage only people whose
//! grants lie within their own area, and never hand out more than they hold.

use super::{ApiQuery, PageOf, Paging};
use crate::auth::Auth;
use crate::error::{ApiError, ApiJson};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};
use vigie_domain::access::{authorize, authorize_grant, Permission, Target};
use vigie_domain::area::AreaCode;
use vigie_domain::{Lang, Msg};
use vigie_storage::users::{self, NewUser, User};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, patch_user))
        .routes(routes!(add_grant, remove_grant))
        .routes(routes!(create_token))
}

/// Checks `perm` over every area the user's grants cover (all of them: acting on an
/// account acts on everything it can reach). Accounts without grants need a root grant.
async fn require_over_user(s: &AppState, auth: &Auth, perm: Permission, user_id: i64) -> Result<(), ApiError> {
    let paths = users::grant_paths(&s.db, user_id).await?;
    if paths.is_empty() {
        return auth.require(perm, Target::Global);
    }
    for p in &paths {
        auth.require_in(perm, p)?;
    }
    Ok(())
}

pub(crate) async fn require_grant(s: &AppState, auth: &Auth, role: &str, area: &AreaCode) -> Result<(), ApiError> {
    let role_def = vigie_storage::roles::get(&s.db, role).await.map_err(|_| ApiError::bad_request("role", Msg::UnknownRole { name: role.into() }))?;
    let perms = vigie_storage::roles::parse_permissions(&role_def.permissions)?;
    let path = vigie_storage::areas::path_of(&s.db, area, "area_code").await?;
    authorize_grant(&auth.principal, &perms, &path).map_err(ApiError::from)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    page: Option<i64>,
    per_page: Option<i64>,
}

/// Accounts with a grant inside the caller's scope.
#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(UserQuery),
    responses((status = 200, body = PageOf<User>), (status = 403, body = crate::error::Problem)))]
async fn list_users(State(s): State<AppState>, auth: Auth, ApiQuery(q): ApiQuery<UserQuery>) -> Result<Json<PageOf<User>>, ApiError> {
    let scope = auth.scope(Permission::UsersRead)?;
    let (page, per) = Paging { page: q.page, per_page: q.per_page }.get()?;
    Ok(Json(users::list(&s.db, &scope, page, per).await?.into()))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantBody {
    role: String,
    area_code: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserBody {
    username: String,
    display_name: String,
    /// At least 10 characters, not a common password. Omit for a token-only account.
    password: Option<String>,
    org_id: Option<i64>,
    /// fr or en
    locale: Option<String>,
    #[serde(default)]
    grants: Vec<GrantBody>,
}

fn parse_grants(gs: &[GrantBody]) -> Result<Vec<(String, AreaCode)>, ApiError> {
    gs.iter()
        .enumerate()
        .map(|(i, g)| Ok((g.role.clone(), AreaCode::parse(&g.area_code).map_err(|m| ApiError::bad_request(&format!("grants[{i}].area_code"), m))?)))
        .collect()
}

/// Create an account with its grants.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewUserBody,
    responses((status = 201, body = User), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem), (status = 409, body = crate::error::Problem)))]
async fn create_user(State(s): State<AppState>, auth: Auth, ApiJson(b): ApiJson<NewUserBody>) -> Result<(StatusCode, Json<User>), ApiError> {
    auth.require(Permission::UsersWrite, Target::AnyArea)?;
    let grants = parse_grants(&b.grants)?;
    if grants.is_empty() {
        auth.require(Permission::UsersWrite, Target::Global)?;
    }
    for (role, area) in &grants {
        require_grant(&s, &auth, role, area).await?;
    }
    let user = users::create(
        &s.db,
        NewUser {
            username: &b.username,
            display_name: &b.display_name,
            password: b.password.as_deref(),
            org_id: b.org_id,
            locale: b.locale.as_deref().map(Lang::parse).unwrap_or_default(),
            grants,
        },
        &auth.actor(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// One account (yours, or one within your area).
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", params(("id" = i64, Path)),
    responses((status = 200, body = User), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
async fn get_user(State(s): State<AppState>, auth: Auth, Path(id): Path<i64>) -> Result<Json<User>, ApiError> {
    if id != auth.principal.user_id {
        auth.require(Permission::UsersRead, Target::AnyArea)?;
        let user = users::get(&s.db, id).await?;
        let paths = users::grant_paths(&s.db, id).await?;
        let visible = if paths.is_empty() {
            authorize(&auth.principal, Permission::UsersRead, Target::Global).is_ok()
        } else {
            paths.iter().any(|p| authorize(&auth.principal, Permission::UsersRead, Target::InArea(p)).is_ok())
        };
        if !visible {
            return Err(Msg::OutsideArea.into());
        }
        return Ok(Json(user));
    }
    Ok(Json(users::get(&s.db, id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    disabled: Option<bool>,
    password: Option<String>,
    /// A focal point's phone (E.164 or Malian format): their SMS are then recognised. Empty clears it.
    phone: Option<String>,
}

/// Disable or re-enable an account, or set its password. Disabling ends its sessions.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", params(("id" = i64, Path)), request_body = UserPatch,
    responses((status = 200, body = User), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
async fn patch_user(State(s): State<AppState>, auth: Auth, Path(id): Path<i64>, ApiJson(b): ApiJson<UserPatch>) -> Result<Json<User>, ApiError> {
    let own_password_only = id == auth.principal.user_id && b.disabled.is_none() && b.phone.is_none();
    // Refused before the look-up: without the permission, not even whether the account exists.
    if !own_password_only {
        auth.require(Permission::UsersWrite, Target::AnyArea)?;
    }
    users::get(&s.db, id).await?;
    if !own_password_only {
        require_over_user(&s, &auth, Permission::UsersWrite, id).await?;
    }
    if let Some(p) = &b.password {
        vigie_storage::auth::set_password(&s.db, id, p, &auth.actor()).await?;
    }
    if let Some(p) = &b.phone {
        let phone = if p.trim().is_empty() { None } else { Some(vigie_domain::phone::Phone::parse(p).map_err(|m| ApiError::bad_request("phone", m))?) };
        users::set_phone(&s.db, id, phone.as_ref(), &auth.actor()).await?;
    }
    if let Some(d) = b.disabled {
        users::set_disabled(&s.db, id, d, &auth.actor()).await?;
    }
    Ok(Json(users::get(&s.db, id).await?))
}

/// Give an account a role over an area.
#[utoipa::path(post, path = "/api/v1/users/{id}/grants", tag = "users", params(("id" = i64, Path)), request_body = GrantBody,
    responses((status = 200, body = User), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
async fn add_grant(State(s): State<AppState>, auth: Auth, Path(id): Path<i64>, ApiJson(g): ApiJson<GrantBody>) -> Result<Json<User>, ApiError> {
    auth.require(Permission::UsersWrite, Target::AnyArea)?;
    users::get(&s.db, id).await?;
    let area = AreaCode::parse(&g.area_code).map_err(|m| ApiError::bad_request("area_code", m))?;
    require_grant(&s, &auth, &g.role, &area).await?;
    users::add_grant(&s.db, id, &g.role, &area, &auth.actor()).await?;
    Ok(Json(users::get(&s.db, id).await?))
}

/// Take a role over an area away from an account.
#[utoipa::path(delete, path = "/api/v1/users/{id}/grants", tag = "users", params(("id" = i64, Path)), request_body = GrantBody,
    responses((status = 200, body = User), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
async fn remove_grant(State(s): State<AppState>, auth: Auth, Path(id): Path<i64>, ApiJson(g): ApiJson<GrantBody>) -> Result<Json<User>, ApiError> {
    let area = AreaCode::parse(&g.area_code).map_err(|m| ApiError::bad_request("area_code", m))?;
    require_grant(&s, &auth, &g.role, &area).await?;
    users::remove_grant(&s.db, id, &g.role, &area, &auth.actor()).await?;
    Ok(Json(users::get(&s.db, id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    name: String,
    /// Days until the token stops working (default 90, at most 730).
    expires_in_days: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct NewToken {
    /// Shown once; only its hash is kept.
    token: String,
    expires_at: chrono::DateTime<chrono::Utc>,
}

/// Make an API token for an account (your own, or one you may fully manage).
#[utoipa::path(post, path = "/api/v1/users/{id}/tokens", tag = "users", params(("id" = i64, Path)), request_body = TokenBody,
    responses((status = 201, body = NewToken), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
async fn create_token(State(s): State<AppState>, auth: Auth, Path(id): Path<i64>, ApiJson(b): ApiJson<TokenBody>) -> Result<(StatusCode, Json<NewToken>), ApiError> {
    if id != auth.principal.user_id {
        auth.require(Permission::UsersWrite, Target::AnyArea)?;
    }
    users::get(&s.db, id).await?;
    if id != auth.principal.user_id {
        require_over_user(&s, &auth, Permission::UsersWrite, id).await?;
    }
    let name = vigie_domain::area::parse_name(&b.name).map_err(|m| ApiError::bad_request("name", m))?;
    let days = b.expires_in_days.unwrap_or(90);
    if !(1..=730).contains(&days) {
        return Err(ApiError::bad_request("expires_in_days", Msg::InvalidPeriod));
    }
    let expires_at = vigie_storage::now() + chrono::Duration::days(days);
    let token = vigie_storage::auth::create_token(&s.db, id, &name, Some(expires_at), &auth.actor()).await?;
    Ok((StatusCode::CREATED, Json(NewToken { token, expires_at })))
}

