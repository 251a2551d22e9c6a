//! Vigie's HTTP server. Each surface has its room: `api/` (JSON under /api/v1), `ops`
//! (health, readiness, metrics). Handlers only translate HTTP to storage and domain calls;
//! access is decided by `vigie_domain::access::authorize` through [`auth::Auth`].

pub mod api;
pub mod auth;
pub mod error;
pub mod limits;
pub mod listen;
pub mod ops;
pub mod openrosa;
pub mod sms;
pub mod workers;
#[doc(hidden)]
pub mod fuzz;
pub mod web;
// Streaming XLSX exports (issue 11).
pub mod xlsx_stream;

use axum::Router;
use std::sync::Arc;
use std::time::Duration;
use vigie_storage::Db;

/// Settings the server needs at run time (the CLI fills them from flags, environment, vigie.toml).
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Largest accepted request body for JSON and imports.
    pub body_limit: usize,
    pub session_ttl: chrono::Duration,
    /// Mark cookies `Secure` (behind TLS). Off only for plain-HTTP loopback use.
    pub secure_cookies: bool,
    pub request_timeout: Duration,
    /// The SMS gateway (Kannel's sendsms interface); none = outbound SMS wait in the queue.
    pub sms_gateway: Option<SmsGateway>,
    /// Shared secret that the gateway puts in the inbound and DLR URLs (`key=`); none = those
    /// endpoints are closed.
    pub sms_inbound_key: Option<String>,
    /// How the gateway reaches this server (for delivery-report callbacks), e.g. http://127.0.0.1:8080
    pub public_url: Option<String>,
    /// In-memory rate limits (shared by every clone of this config, i.e. by the whole server).
    pub limits: Arc<limits::Limits>,
    /// How long a worker holds a job it took (renewed before each send); a node that dies
    /// frees its jobs after this. Keep it well above the 10 s send timeout.
    pub job_lease: chrono::Duration,
}

#[derive(Debug, Clone)]
pub struct SmsGateway {
    /// e.g. http://127.0.0.1:13013/cgi-bin/sendsms
    pub sendsms_url: String,
    pub username: String,
    pub password: String,
    /// Sender id shown on phones.
    pub from: String,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            body_limit: 2 * 1024 * 1024,
            session_ttl: chrono::Duration::hours(8),
            secure_cookies: false,
            request_timeout: Duration::from_secs(30),
            sms_gateway: None,
            sms_inbound_key: None,
            public_url: None,
            limits: Arc::new(limits::Limits::default()),
            job_lease: chrono::Duration::seconds(60),
        }
    }
}

/// Where "now" comes from: the system clock in production, a hand-set one in tests
/// (escalation deadlines are tested by moving the clock, not by sleeping).
pub type Clock = Arc<dyn Fn() -> chrono::DateTime<chrono::Utc> + Send + Sync>;

pub fn system_clock() -> Clock {
    Arc::new(vigie_storage::now)
}

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<ServerConfig>,
    pub clock: Clock,
}

impl AppState {
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        (self.clock)()
    }
}

/// The whole application as a router (tests spawn it on a random port).
pub fn app(db: Db, config: ServerConfig, clock: Clock) -> Router {
    let state = AppState { db, config: Arc::new(config), clock };
    let (api, openapi) = api::router().split_for_parts();
    let openapi = Arc::new(api::problems::document(&openapi));
    Router::new()
        .merge(api)
        .route(
            "/api/v1/openapi.json",
            axum::routing::get(move || {
                let doc = openapi.clone();
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
        .merge(ops::router())
        .merge(sms::router())
        .merge(openrosa::router())
        .merge(web::router())
        .fallback(|| async { error::ApiError::from(vigie_domain::Msg::NotFound) })
        .layer(axum::middleware::from_fn(api::problems::plain_rejections_as_problems))
        .layer(axum::middleware::from_fn(ops::track_metrics))
        .layer(axum::extract::DefaultBodyLimit::max(state.config.body_limit))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, state.config.request_timeout))
        .layer(axum::middleware::from_fn_with_state(state.config.body_limit, error::localize_problems))
        .layer(axum::middleware::from_fn(security_headers))
        .with_state(state)
}

/// Headers every response carries: no sniffing, no framing, strict CSP, no referrer leak.
async fn security_headers(req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    use axum::http::{header, HeaderValue};
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
    );
    res
}

/// Serves until `shutdown` resolves, then drains in-flight requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    db: Db,
    config: ServerConfig,
    clock: Clock,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    listen::serve(listener, app(db, config, clock), shutdown).await
}
