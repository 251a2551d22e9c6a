//! `/api/v1/webhooks`: signed notifications to other systems (RapidPro, DHIS2, a mission dashboard).

use crate::auth::Auth;
use crate::error::{ApiError, ApiJson};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};
use vigie_domain::access::{Permission, Target};
use vigie_domain::area::AreaCode;
use vigie_storage::webhooks::{self, Webhook};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_webhooks, create_webhook))
}

/// Registered webhooks.
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "integrations", responses((status = 200, body = Vec<Webhook>), (status = 403, body = crate::error::Problem)))]
async fn list_webhooks(State(s): State<AppState>, auth: Auth) -> Result<Json<Vec<Webhook>>, ApiError> {
    auth.require(Permission::IntegrationsManage, Target::Global)?;
    Ok(Json(webhooks::list(&s.db).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookBody {
    url: String,
    /// report.created, alert.raised, alert.acknowledged, alert.responded, alert.closed, alert.escalated
    events: Vec<String>,
    /// Only events in this area's subtree.
    area_code: String,
}

impl WebhookBody {
    /// The checks that need no database: the area code, the URL and the events.
    pub(crate) fn check(&self) -> Result<AreaCode, ApiError> {
        let area = AreaCode::parse(&self.area_code).map_err(|m| ApiError::bad_request("area_code", m))?;
        webhooks::check(&self.url, &self.events)?;
        Ok(area)
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct NewWebhook {
    webhook: Webhook,
    /// Shown once. Each delivery carries `X-Vigie-Signature: sha256=<hex HMAC-SHA256 of the body>`.
    secret: String,
}

/// Subscribe a URL to events; deliveries are queued, retried with backoff, and signed.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "integrations", request_body = WebhookBody,
    responses((status = 201, body = NewWebhook), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
async fn create_webhook(State(s): State<AppState>, auth: Auth, ApiJson(b): ApiJson<WebhookBody>) -> Result<(StatusCode, Json<NewWebhook>), ApiError> {
    auth.require(Permission::IntegrationsManage, Target::Global)?;
    let area = b.check()?;
    let (webhook, secret) = webhooks::create(&s.db, &b.url, &b.events, &area, &auth.actor()).await?;
    Ok((StatusCode::CREATED, Json(NewWebhook { webhook, secret })))
}
