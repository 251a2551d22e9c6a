//! Who is calling: an API token (`Authorization: Bearer vgt_…`) or a browser session
//! (cookie + CSRF token on every unsafe request). The result is a `Principal`, and
//! handlers ask `vigie_domain::access::authorize` about it; they never decide access alone.

use crate::error::ApiError;
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts, Method};
use vigie_domain::access::{authorize, Permission, Principal, Target};
use vigie_domain::area::AreaPath;
use vigie_domain::Msg;
use vigie_storage::audit::Actor;
use vigie_storage::auth::{Credential, SessionState};

pub const SESSION_COOKIE: &str = "vigie_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Auth {
    pub principal: Principal,
    pub via_session: bool,
}

impl Auth {
    pub fn actor(&self) -> Actor {
        Actor::user(self.principal.user_id, &self.principal.username)
    }
    pub fn require(&self, perm: Permission, target: Target<'_>) -> Result<(), ApiError> {
        authorize(&self.principal, perm, target).map_err(ApiError::from)
    }
    pub fn require_in(&self, perm: Permission, area: &AreaPath) -> Result<(), ApiError> {
        self.require(perm, Target::InArea(area))
    }
    /// Area subtrees for a list query; refuses if the permission is held nowhere.
    pub fn scope(&self, perm: Permission) -> Result<Vec<AreaPath>, ApiError> {
        self.require(perm, Target::AnyArea)?;
        Ok(self.principal.scope(perm))
    }
}

pub(crate) fn cookie<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Compares secrets in constant time.
pub fn same_secret(a: &str, b: &str) -> bool {
    use sha2::{Digest, Sha256};
    // Hash first so lengths don't leak either.
    let (ha, hb) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    ha.iter().zip(hb.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn principal_of(state: &AppState, user_id: i64) -> Result<Principal, ApiError> {
    vigie_storage::users::principal(&state.db, user_id).await?.ok_or_else(|| Msg::TokenExpired.into())
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(auth) = parts.headers.get(header::AUTHORIZATION) {
            let token = auth.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")).map(str::trim).ok_or(Msg::NotAuthenticated)?;
            return match vigie_storage::auth::token_user(&state.db, token).await? {
                Credential::Valid { user_id } => Ok(Auth { principal: principal_of(state, user_id).await?, via_session: false }),
                Credential::Expired => Err(Msg::TokenExpired.into()),
                Credential::Unknown => Err(Msg::NotAuthenticated.into()),
            };
        }
        let (auth, csrf) = session_auth(state, &parts.headers).await?;
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !safe {
            let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
            if !same_secret(sent, &csrf) {
                return Err(Msg::CsrfMissing.into());
            }
        }
        Ok(auth)
    }
}

/// The browser session named by the request's cookie, with its CSRF token (which the caller
/// must check on unsafe requests: a header for the API, a hidden form field for web pages).
pub async fn session_auth(state: &AppState, headers: &axum::http::HeaderMap) -> Result<(Auth, String), ApiError> {
    let Some(cookie) = cookie(headers, SESSION_COOKIE) else {
        return Err(Msg::NotAuthenticated.into());
    };
    match vigie_storage::auth::session(&state.db, cookie).await? {
        SessionState::Valid { user_id, csrf } => Ok((Auth { principal: principal_of(state, user_id).await?, via_session: true }, csrf)),
        SessionState::Expired => Err(Msg::TokenExpired.into()),
        SessionState::Unknown => Err(Msg::NotAuthenticated.into()),
    }
}

pub fn session_cookie(value: &str, max_age_secs: i64, secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{}",
        if secure { "; Secure" } else { "" }
    )
}

pub fn session_cookie_from(headers: &axum::http::HeaderMap) -> Option<String> {
    cookie(headers, SESSION_COOKIE).map(str::to_string)
}
