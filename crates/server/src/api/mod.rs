//! The JSON API under `/api/v1`, one module per resource. The OpenAPI document is built
//! from the same route list, so a route cannot exist without its documentation.

pub mod alerts;
pub mod analytics;
pub mod areas;
pub mod audit;
pub mod cases;
pub mod categories;
pub mod orgs;
pub mod problems;
pub mod public;
pub mod reports;
pub mod roles;
pub mod session;
pub mod users;
pub mod webhooks;
// Early warning: event merge/split and report attachments.
pub mod events;
pub mod governance;
pub mod directory;
// Results, money and risk (issue 7)
pub mod results;
pub mod results_export;

use crate::AppState;
use serde::Deserialize;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Vigie API",
        description = "Gouvernance partagée de la sécurité et de la paix — Shared governance of security and peace. \
Errors are RFC 7807 problem documents in French (default) or English (`Accept-Language: en` or `?lang=en`).",
        license(name = "AGPL-3.0-or-later")
    ),
    modifiers(&Security),
    security(("bearer" = []), ("session" = [])),
    components(schemas(crate::error::Problem, crate::error::LineProblem))
)]
struct ApiDoc;

struct Security;
impl Modify for Security {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let c = api.components.get_or_insert_with(Default::default);
        c.add_security_scheme("bearer", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()));
        c.add_security_scheme("session", SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(crate::auth::SESSION_COOKIE))));
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(session::router())
        .merge(areas::router())
        .merge(orgs::router())
        .merge(users::router())
        .merge(roles::router())
        .merge(audit::router())
        .merge(reports::router())
        .merge(alerts::router())
        .merge(categories::router())
        .merge(webhooks::router())
        .merge(crate::openrosa::api_router())
        .merge(cases::router())
        .merge(public::router())
        .merge(events::router())
        .merge(governance::router())
        .merge(directory::router())
        .merge(analytics::router())
        .merge(results::router())
}

/// `?page=&per_page=` on every list.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Paging {
    /// 1-based page number (default 1).
    pub page: Option<i64>,
    /// Items per page, 1 to 500 (default 50).
    pub per_page: Option<i64>,
}

impl Paging {
    pub fn get(self) -> Result<(i64, i64), crate::error::ApiError> {
        let page = self.page.unwrap_or(1);
        let per = self.per_page.unwrap_or(50);
        if page < 1 || page > 1_000_000 {
            return Err(crate::error::ApiError::bad_request("page", vigie_domain::Msg::InvalidPeriod));
        }
        if !(1..=500).contains(&per) {
            return Err(crate::error::ApiError::bad_request("per_page", vigie_domain::Msg::TooLong { max: 500 }));
        }
        Ok((page, per))
    }
}

/// A page of results, as every list endpoint returns it.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct PageOf<T: utoipa::ToSchema> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

impl<T: utoipa::ToSchema> From<vigie_storage::Page<T>> for PageOf<T> {
    fn from(p: vigie_storage::Page<T>) -> Self {
        PageOf { items: p.items, total: p.total, page: p.page, per_page: p.per_page }
    }
}

/// Query-string extractor whose rejections are problems.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequestParts<S> for ApiQuery<T> {
    type Rejection = crate::error::ApiError;
    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            Err(e) => Err(crate::error::ApiError::new(axum::http::StatusCode::BAD_REQUEST, vigie_domain::Msg::InvalidJson { reason: e.body_text() })),
        }
    }
}
