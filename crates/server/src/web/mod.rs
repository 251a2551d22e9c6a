//! The web application: server-rendered HTML pages that work without JavaScript, light enough
//! for a 2G connection. One module per group of pages; each has a `router()` merged below.
//!
//! - Who is signed in: [`Page`] (the browser session of `crate::auth`, nothing copied). Pages
//!   without a session redirect to `/connexion`. Access is decided by `Auth::require`/`scope`,
//!   that is `vigie_domain::access::authorize`, as in the API.
//! - Forms: every POST goes through [`FormPost`], which refuses a request whose hidden `csrf`
//!   field does not match the session's token (a cookie alone is never enough).
//! - Words: `i18n` (one table, French and English); language from the `lang` cookie set by the
//!   FR/EN switch, then `Accept-Language`, then French.
//! - Errors: handlers return [`WebError`]; the router's layer renders it as an HTML page in the
//!   reader's language (the API's errors stay RFC 7807 documents).
//!
//! Adding a page: a handler `async fn x(State(s): State<AppState>, page: Page) -> WebResult`
//! (or `form: FormPost` for a POST) that checks access with `page.auth.require…`/`scope`, then
//! `page.render("x.html", context! { … })`; the route in its module's `router()`; the template
//! `templates/x.html` (`{% extends "base.html" %}`) listed in `render::TEMPLATES`; its words in
//! `i18n.rs` (the template test fails on a missing key); a menu entry in `base.html` if needed.

pub mod admin;
pub mod alerts;
pub mod areas;
pub mod assets;
pub mod home;
pub mod i18n;
pub mod render;
pub mod reports;
pub mod report_actions;
pub mod session;
pub mod governance;
// Cases, public pages, map and charts.
pub mod cases;
pub mod chart;
pub mod i18n_cases_map;
pub mod i18n_auto_raise;
pub mod map;
pub mod public;
// Administration of issue 8: escalation rules, categories, ODK forms.
pub mod categories;
pub mod escalation;
pub mod forms;
pub mod i18n_admin;
// Results frameworks, budget execution, risks, statistical returns.
pub mod i18n_results;
pub mod results;
pub mod results_money;

use crate::auth::{session_auth, same_secret, Auth};
use crate::error::ApiError;
use crate::AppState;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{header, request::Parts, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Router;
use minijinja::{context, Value};
use vigie_domain::access::Permission;
use vigie_domain::{Lang, Msg};

pub const LANG_COOKIE: &str = "lang";

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(session::router())
        .merge(home::router())
        .merge(areas::router())
        .merge(admin::router())
        .merge(reports::router())
        .merge(alerts::router())
        .merge(report_actions::router())
        .merge(governance::router())
        .merge(cases::router())
        .merge(map::router())
        .merge(public::router())
        .merge(escalation::router())
        .merge(categories::router())
        .merge(forms::router())
        .merge(results::router())
        .route("/static/{version}/{*path}", axum::routing::get(assets::serve))
        .layer(axum::middleware::from_fn(render_errors))
        .layer(tower_http::compression::CompressionLayer::new())
}

/// The reader's language: the `lang` cookie, then `Accept-Language`, then French.
pub fn lang_of(headers: &HeaderMap) -> Lang {
    if let Some(v) = crate::auth::cookie(headers, LANG_COOKIE) {
        return Lang::parse(v);
    }
    headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).map(Lang::parse).unwrap_or_default()
}

/// A local path to go back to after signing in or switching language (never another site).
pub fn local_path(raw: Option<&str>) -> String {
    match raw {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') && !p.chars().any(char::is_control) => p.to_string(),
        _ => "/".to_string(),
    }
}

/// A signed-in person viewing a page: their rights, the session's CSRF token for the forms
/// of the page, their language, and where they are (for the language switch).
pub struct Page {
    pub auth: Auth,
    pub csrf: String,
    pub lang: Lang,
    pub path: String,
    pub display_name: String,
}

impl Page {
    async fn load(parts: &Parts, state: &AppState) -> Result<Page, Response> {
        let lang = lang_of(&parts.headers);
        let path = parts.uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into());
        match session_auth(state, &parts.headers).await {
            Ok((auth, csrf)) => {
                let display_name = vigie_storage::users::get(&state.db, auth.principal.user_id)
                    .await
                    .map(|u| u.display_name)
                    .unwrap_or_else(|_| auth.principal.username.clone());
                Ok(Page { auth, csrf, lang, path, display_name })
            }
            Err(e) if e.status == StatusCode::UNAUTHORIZED => {
                let target = if parts.method == Method::GET { path } else { "/".into() };
                let q = form_urlencoded::Serializer::new(String::new()).append_pair("suite", &target).finish();
                Err(Redirect::to(&format!("/connexion?{q}")).into_response())
            }
            Err(e) => Err(WebError(e).into_response()),
        }
    }

    /// True if the permission is held over some area (to show a menu entry; the page itself checks again).
    pub fn can(&self, perm: Permission) -> bool {
        self.auth.principal.has_anywhere(perm)
    }

    /// What every page's layout needs.
    fn base(&self) -> Value {
        use Permission::*;
        let global_audit = self.auth.require(AuditRead, vigie_domain::access::Target::Global).is_ok();
        context! {
            lang => self.lang.code(),
            path => self.path,
            csrf => self.csrf,
            user => context! { username => self.auth.principal.username, name => self.display_name },
            nav => context! {
                areas => self.can(AreasRead),
                reports => self.can(ReportsRead),
                report_new => self.can(ReportsCreate) && !self.can(ReportsRead),
                alerts => self.can(ReportsRead),
                users => self.can(UsersRead),
                roles => self.can(UsersRead),
                audit => global_audit,
                committees => self.can(CommitteesRead),
                directory => true,
                cases => self.can(CasesRead),
                map => self.can(ReportsRead),
                escalation => self.can(AlertsRaise),
                categories => self.can(TaxonomyWrite),
                forms => self.can(FormsManage),
                programmes => self.can(FrameworkRead),
            },
        }
    }

    /// Renders a page template; `ctx` is merged over the layout's values.
    pub fn render(&self, template: &str, ctx: Value) -> Result<Response, WebError> {
        self.render_status(StatusCode::OK, template, ctx)
    }

    pub fn render_status(&self, status: StatusCode, template: &str, ctx: Value) -> Result<Response, WebError> {
        let base = self.base();
        html(status, template, context! { ..ctx, ..base })
    }
}

/// An HTML response; pages that depend on the session must not be stored by shared caches.
pub fn html(status: StatusCode, template: &str, ctx: Value) -> Result<Response, WebError> {
    let body = render::render(template, ctx).map_err(|e| {
        tracing::error!(error = %format!("{e:#}"), template, "template error");
        WebError(Msg::Internal.into())
    })?;
    let mut res = (status, Html(body)).into_response();
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    Ok(res)
}

impl FromRequestParts<AppState> for Page {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        if !matches!(parts.method, Method::GET | Method::HEAD) {
            // Unsafe requests must prove they come from our own form: see FormPost.
            return Err(WebError(Msg::CsrfMissing.into()).into_response());
        }
        Page::load(parts, state).await
    }
}

/// A POSTed HTML form from a signed-in person, after its hidden `csrf` field was checked
/// against the session's token. Fields keep their order; a name may repeat (checkboxes).
pub struct FormPost {
    pub page: Page,
    pub fields: Vec<(String, String)>,
}

impl FormPost {
    pub fn get(&self, name: &str) -> &str {
        form_get(&self.fields, name)
    }
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.fields.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect()
    }
}

pub fn form_get<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("")
}

/// Reads an `application/x-www-form-urlencoded` body (within the server's body limit).
pub async fn form_fields(req: Request, state: &AppState) -> Result<Vec<(String, String)>, Response> {
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(WebError(ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, Msg::UnsupportedMediaType)).into_response());
    }
    let bytes = axum::body::to_bytes(req.into_body(), state.config.body_limit)
        .await
        .map_err(|_| WebError(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, Msg::BodyTooLarge { max_bytes: state.config.body_limit })).into_response())?;
    Ok(form_urlencoded::parse(&bytes).into_owned().collect())
}

impl FromRequest<AppState> for FormPost {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (parts, body) = req.into_parts();
        let page = Page::load(&parts, state).await?;
        let fields = form_fields(Request::from_parts(parts, body), state).await?;
        if !same_secret(form_get(&fields, "csrf"), &page.csrf) {
            return Err(WebError(Msg::CsrfMissing.into()).into_response());
        }
        Ok(FormPost { page, fields })
    }
}

/// An error shown as an HTML page (in the reader's language, by [`render_errors`]).
#[derive(Debug)]
pub struct WebError(pub ApiError);

impl From<ApiError> for WebError {
    fn from(e: ApiError) -> Self {
        WebError(e)
    }
}
impl From<Msg> for WebError {
    fn from(m: Msg) -> Self {
        WebError(m.into())
    }
}
impl From<vigie_storage::StoreError> for WebError {
    fn from(e: vigie_storage::StoreError) -> Self {
        WebError(e.into())
    }
}
impl From<vigie_domain::access::Denied> for WebError {
    fn from(d: vigie_domain::access::Denied) -> Self {
        WebError(d.into())
    }
}

#[derive(Clone)]
struct PendingPage(ApiError);

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let mut res = self.0.status.into_response();
        res.extensions_mut().insert(PendingPage(self.0));
        res
    }
}

pub type WebResult = Result<Response, WebError>;

/// Renders pending [`WebError`]s as an HTML page in the language of the request.
async fn render_errors(req: Request, next: axum::middleware::Next) -> Response {
    let lang = lang_of(req.headers());
    let path = req.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_default();
    let mut res = next.run(req).await;
    let Some(PendingPage(e)) = res.extensions_mut().remove::<PendingPage>() else { return res };
    let ctx = context! {
        lang => lang.code(),
        path => path,
        user => Value::from(()),
        csrf => "",
        nav => Value::from(()),
        status => e.status.as_u16(),
        message => e.msg.text(lang),
    };
    match html(e.status, "error.html", ctx) {
        Ok(r) => r,
        Err(_) => (e.status, e.msg.text(lang)).into_response(),
    }
}
