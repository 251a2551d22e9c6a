//! Signing in and out with HTML forms, and the FR/EN switch.
//!
//! - `GET /connexion`, `POST /connexion`: the sign-in form. Before there is a session, the form's
//!   CSRF token is a random value also set in a short-lived cookie (double submit), so another
//!   site cannot sign a browser into an account of its choosing.
//! - `POST /deconnexion`: ends the session (hidden CSRF field, like every form).
//! - `GET /langue/{fr|en}?retour=/chemin`: sets the `lang` cookie and goes back.

use super::{form_fields, form_get, html, lang_of, local_path, FormPost, WebResult, LANG_COOKIE};
use crate::auth::{same_secret, session_auth, session_cookie};
use crate::AppState;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use minijinja::{context, Value};
use serde::Deserialize;
use vigie_domain::{Lang, Msg};
use vigie_storage::auth::Login;

const LOGIN_CSRF_COOKIE: &str = "vigie_login";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/connexion", get(login_form).post(login))
        .route("/deconnexion", post(logout))
        .route("/langue/{code}", get(switch_lang))
}

#[derive(Deserialize)]
pub struct LoginQuery {
    suite: Option<String>,
    fin: Option<String>,
}

fn random_token() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut b = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

fn login_csrf_cookie(value: &str, max_age: i64, secure: bool) -> String {
    format!("{LOGIN_CSRF_COOKIE}={value}; Path=/connexion; HttpOnly; SameSite=Strict; Max-Age={max_age}{}", if secure { "; Secure" } else { "" })
}

struct LoginView<'a> {
    lang: Lang,
    suite: &'a str,
    username: &'a str,
    error: Option<Msg>,
    notice: Option<&'static str>,
    ask_totp: bool,
}

/// The form, with a fresh CSRF token in a hidden field and in its cookie.
fn login_page(s: &AppState, status: StatusCode, v: LoginView<'_>) -> WebResult {
    let token = random_token();
    let ctx = context! {
        lang => v.lang.code(),
        path => "/connexion",
        user => Value::from(()),
        nav => Value::from(()),
        csrf => token,
        suite => v.suite,
        username => v.username,
        error => v.error.map(|m| m.text(v.lang)),
        notice => v.notice,
        ask_totp => v.ask_totp,
    };
    let mut res = html(status, "login.html", ctx)?;
    let cookie = login_csrf_cookie(&token, 3600, s.config.secure_cookies);
    res.headers_mut().append(header::SET_COOKIE, HeaderValue::from_str(&cookie).map_err(|_| Msg::Internal)?);
    Ok(res)
}

async fn login_form(State(s): State<AppState>, headers: HeaderMap, Query(q): Query<LoginQuery>) -> WebResult {
    let suite = local_path(q.suite.as_deref());
    if session_auth(&s, &headers).await.is_ok() {
        return Ok(Redirect::to(&suite).into_response());
    }
    let notice = q.fin.is_some().then_some("login.signed_out");
    login_page(&s, StatusCode::OK, LoginView { lang: lang_of(&headers), suite: &suite, username: "", error: None, notice, ask_totp: false })
}

async fn login(State(s): State<AppState>, req: Request) -> Result<Response, Response> {
    let headers = req.headers().clone();
    let lang = lang_of(&headers);
    let ip = crate::limits::client_ip(req.extensions()).map(|i| i.to_string()).unwrap_or_default();
    let fields = form_fields(req, &s).await?;
    let suite = local_path(Some(form_get(&fields, "suite")));
    let username = form_get(&fields, "username").trim().to_string();
    let password = form_get(&fields, "password");
    let totp = form_get(&fields, "totp").trim();
    let fail = |status, msg: Msg, ask_totp: bool| {
        login_page(&s, status, LoginView { lang, suite: &suite, username: &username, error: Some(msg), notice: None, ask_totp }).into_response()
    };
    let sent_csrf = form_get(&fields, "csrf");
    let cookie_csrf = crate::auth::cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or("");
    if cookie_csrf.is_empty() || !same_secret(sent_csrf, cookie_csrf) {
        return Err(fail(StatusCode::FORBIDDEN, Msg::CsrfMissing, false));
    }
    // Password guessing from one address, across accounts (the same budget as the API's sign-in).
    if !s.config.limits.login_per_ip.allow(&ip) {
        return Err(fail(StatusCode::TOO_MANY_REQUESTS, Msg::RateLimited, false));
    }
    let user_id = match vigie_storage::auth::check_password(&s.db, &username, password).await.map_err(|e| super::WebError(e.into()).into_response())? {
        Login::Ok { user_id, totp_secret } => {
            if let Some(secret) = totp_secret {
                if !crate::api::session::totp_ok(&secret, &username.to_lowercase(), totp) {
                    if !totp.is_empty() {
                        vigie_storage::auth::record_failure(&s.db, user_id).await.map_err(|e| super::WebError(e.into()).into_response())?;
                    }
                    return Err(fail(StatusCode::UNAUTHORIZED, Msg::InvalidTotp, true));
                }
            }
            user_id
        }
        Login::Bad => return Err(fail(StatusCode::UNAUTHORIZED, Msg::BadCredentials, !totp.is_empty())),
        Login::Locked { minutes } => return Err(fail(StatusCode::TOO_MANY_REQUESTS, Msg::AccountLocked { minutes }, false)),
    };
    let sess = vigie_storage::auth::create_session(&s.db, user_id, s.config.session_ttl).await.map_err(|e| super::WebError(e.into()).into_response())?;
    // Exactly the cookie the API's sign-in sets.
    let cookie = session_cookie(&sess.cookie, s.config.session_ttl.num_seconds(), s.config.secure_cookies);
    let mut res = Redirect::to(&suite).into_response();
    let h = res.headers_mut();
    h.append(header::SET_COOKIE, HeaderValue::from_str(&cookie).map_err(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())?);
    h.append(header::SET_COOKIE, HeaderValue::from_str(&login_csrf_cookie("", 0, s.config.secure_cookies)).unwrap());
    Ok(res)
}

/// `FormPost` has checked the session and its CSRF field.
async fn logout(State(s): State<AppState>, headers: HeaderMap, _form: FormPost) -> WebResult {
    if let Some(c) = crate::auth::session_cookie_from(&headers) {
        vigie_storage::auth::delete_session(&s.db, &c).await?;
    }
    let mut res = Redirect::to("/connexion?fin=1").into_response();
    res.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&session_cookie("", 0, s.config.secure_cookies)).unwrap());
    Ok(res)
}

#[derive(Deserialize)]
pub struct LangQuery {
    retour: Option<String>,
}

/// A plain link, so it works without JavaScript and before signing in. Only sets a preference.
async fn switch_lang(State(s): State<AppState>, Path(code): Path<String>, Query(q): Query<LangQuery>) -> Response {
    let lang = Lang::parse(&code);
    let cookie = format!(
        "{LANG_COOKIE}={}; Path=/; SameSite=Lax; Max-Age=31536000{}",
        lang.code(),
        if s.config.secure_cookies { "; Secure" } else { "" }
    );
    let mut res = Redirect::to(&local_path(q.retour.as_deref())).into_response();
    res.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).unwrap());
    res
}
