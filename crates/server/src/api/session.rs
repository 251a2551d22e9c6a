//! Sign-in and the caller's own account: `/api/v1/auth/*`, `/api/v1/me`.

use crate::auth::{session_cookie, session_cookie_from, Auth};
use crate::error::{ApiError, ApiJson};
use crate::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use totp_rs::{Algorithm, Secret, TOTP};
use utoipa_axum::{router::OpenApiRouter, routes};
use vigie_domain::Msg;
use vigie_storage::auth::Login;
use vigie_storage::users::User;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(totp_setup))
        .routes(routes!(totp_enable, totp_disable))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    username: String,
    password: String,
    /// Six-digit code, for accounts with two-factor sign-in.
    totp: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LoginReply {
    user: User,
    /// Send back in the `X-CSRF-Token` header on every POST/PUT/PATCH/DELETE made with the session cookie.
    csrf_token: String,
    expires_at: chrono::DateTime<chrono::Utc>,
}

fn totp_for(secret_b32: &str, username: &str) -> Option<TOTP> {
    let bytes = Secret::Encoded(secret_b32.to_string()).to_bytes().ok()?;
    TOTP::new(Algorithm::SHA1, 6, 1, 30, bytes, Some("Vigie".into()), username.to_string()).ok()
}

pub(crate) fn totp_ok(secret_b32: &str, username: &str, code: &str) -> bool {
    totp_for(secret_b32, username).is_some_and(|t| t.check_current(code.trim()).unwrap_or(false))
}

/// Sign in with a username and password (and a one-time code when two-factor is on).
/// Sets an HttpOnly, SameSite=Strict session cookie. Five failures lock the account for 15 minutes.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "session", request_body = LoginBody, security(()),
    responses((status = 200, body = LoginReply), (status = 401, body = crate::error::Problem), (status = 429, body = crate::error::Problem)))]
async fn login(State(s): State<AppState>, ip: crate::limits::ClientIp, ApiJson(b): ApiJson<LoginBody>) -> Result<Response, ApiError> {
    // Password guessing from one address, across accounts (the lockout is per account).
    if !s.config.limits.login_per_ip.allow(&ip.key()) {
        return Err(Msg::RateLimited.into());
    }
    let user_id = match vigie_storage::auth::check_password(&s.db, &b.username, &b.password).await? {
        Login::Ok { user_id, totp_secret } => {
            if let Some(secret) = totp_secret {
                let code = b.totp.as_deref().unwrap_or("");
                if !totp_ok(&secret, &b.username, code) {
                    vigie_storage::auth::record_failure(&s.db, user_id).await?;
                    return Err(ApiError::from(Msg::InvalidTotp).field("totp"));
                }
            }
            user_id
        }
        Login::Bad => return Err(Msg::BadCredentials.into()),
        Login::Locked { minutes } => return Err(Msg::AccountLocked { minutes }.into()),
    };
    let sess = vigie_storage::auth::create_session(&s.db, user_id, s.config.session_ttl).await?;
    let user = vigie_storage::users::get(&s.db, user_id).await?;
    let cookie = session_cookie(&sess.cookie, s.config.session_ttl.num_seconds(), s.config.secure_cookies);
    let mut res = Json(LoginReply { user, csrf_token: sess.csrf, expires_at: sess.expires_at }).into_response();
    res.headers_mut().insert(header::SET_COOKIE, cookie.parse().map_err(|_| ApiError::from(Msg::Internal))?);
    Ok(res)
}

/// End the session.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "session", responses((status = 204), (status = 401, body = crate::error::Problem)))]
async fn logout(State(s): State<AppState>, _auth: Auth, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(c) = session_cookie_from(&headers) {
        vigie_storage::auth::delete_session(&s.db, &c).await?;
    }
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut().insert(header::SET_COOKIE, session_cookie("", 0, s.config.secure_cookies).parse().unwrap());
    Ok(res)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Me {
    user: User,
    /// Permission → area codes where the caller holds it.
    permissions: std::collections::BTreeMap<String, Vec<String>>,
}

/// The caller's account and effective permissions.
#[utoipa::path(get, path = "/api/v1/me", tag = "session", responses((status = 200, body = Me), (status = 401, body = crate::error::Problem)))]
async fn me(State(s): State<AppState>, auth: Auth) -> Result<Json<Me>, ApiError> {
    let user = vigie_storage::users::get(&s.db, auth.principal.user_id).await?;
    let mut permissions = std::collections::BTreeMap::new();
    for p in vigie_domain::access::Permission::ALL {
        let scope = auth.principal.scope(*p);
        if !scope.is_empty() {
            permissions.insert(p.name().to_string(), scope.iter().map(|a| a.0.rsplit('/').next().unwrap_or("").to_string()).collect());
        }
    }
    Ok(Json(Me { user, permissions }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TotpSetup {
    /// Base32 secret to enter in an authenticator app.
    secret: String,
    /// `otpauth://` URL (for a QR code).
    url: String,
}

/// A fresh two-factor secret (not active until confirmed with `PUT /api/v1/me/totp`).
#[utoipa::path(post, path = "/api/v1/me/totp/setup", tag = "session", responses((status = 200, body = TotpSetup)))]
async fn totp_setup(auth: Auth) -> Result<Json<TotpSetup>, ApiError> {
    let secret = Secret::generate_secret().to_encoded().to_string();
    let t = totp_for(&secret, &auth.principal.username).ok_or(Msg::Internal)?;
    Ok(Json(TotpSetup { url: t.get_url(), secret }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpEnable {
    secret: String,
    code: String,
}

/// Turn two-factor sign-in on, proving the authenticator works with a current code.
#[utoipa::path(put, path = "/api/v1/me/totp", tag = "session", request_body = TotpEnable,
    responses((status = 204), (status = 400, body = crate::error::Problem)))]
async fn totp_enable(State(s): State<AppState>, auth: Auth, ApiJson(b): ApiJson<TotpEnable>) -> Result<StatusCode, ApiError> {
    if !totp_ok(&b.secret, &auth.principal.username, &b.code) {
        return Err(ApiError::bad_request("code", Msg::InvalidTotp));
    }
    vigie_storage::auth::set_totp_secret(&s.db, auth.principal.user_id, Some(&b.secret), &auth.actor()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpDisable {
    code: String,
}

/// Turn two-factor sign-in off (needs a current code).
#[utoipa::path(delete, path = "/api/v1/me/totp", tag = "session", request_body = TotpDisable,
    responses((status = 204), (status = 400, body = crate::error::Problem)))]
async fn totp_disable(State(s): State<AppState>, auth: Auth, ApiJson(b): ApiJson<TotpDisable>) -> Result<StatusCode, ApiError> {
    let user = vigie_storage::users::get(&s.db, auth.principal.user_id).await?;
    let secret: Option<String> = if user.totp_enabled { vigie_storage::auth::totp_secret(&s.db, user.id).await? } else { None };
    match secret {
        Some(sec) if totp_ok(&sec, &user.username, &b.code) => {
            vigie_storage::auth::set_totp_secret(&s.db, user.id, None, &auth.actor()).await?;
            Ok(StatusCode::NO_CONTENT)
        }
        _ => Err(ApiError::bad_request("code", Msg::InvalidTotp)),
    }
}
