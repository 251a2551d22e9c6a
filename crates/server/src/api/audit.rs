//! `/api/v1/audit`: reading and checking the audit chain (global audit readers only: the log spans every area).

use super::{ApiQuery, Paging};
use crate::auth::Auth;
use crate::error::ApiError;
use crate::AppState;
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};
use vigie_domain::access::{Permission, Target};
use vigie_storage::audit::{self, AuditFilter};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit)).routes(routes!(verify_audit))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    entity: Option<String>,
    entity_id: Option<String>,
    actor: Option<String>,
    page: Option<i64>,
    per_page: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditEntryView {
    seq: i64,
    at: String,
    actor: String,
    action: String,
    entity: String,
    entity_id: String,
    #[schema(value_type = Object)]
    detail: serde_json::Value,
    hash: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    items: Vec<AuditEntryView>,
    total: i64,
    page: i64,
    per_page: i64,
}

/// Audit entries, newest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = AuditPage), (status = 403, body = crate::error::Problem)))]
async fn list_audit(State(s): State<AppState>, auth: Auth, ApiQuery(q): ApiQuery<AuditQuery>) -> Result<Json<AuditPage>, ApiError> {
    auth.require(Permission::AuditRead, Target::Global)?;
    let (page, per) = Paging { page: q.page, per_page: q.per_page }.get()?;
    let p = audit::list(&s.db, &AuditFilter { entity: q.entity, entity_id: q.entity_id, actor: q.actor }, page, per).await?;
    Ok(Json(AuditPage {
        items: p
            .items
            .into_iter()
            .map(|e| AuditEntryView {
                seq: e.seq,
                at: e.at,
                actor: e.actor,
                action: e.action,
                entity: e.entity,
                entity_id: e.entity_id,
                detail: serde_json::from_str(&e.detail).unwrap_or(serde_json::Value::Null),
                hash: e.hash,
            })
            .collect(),
        total: p.total,
        page: p.page,
        per_page: p.per_page,
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditVerification {
    ok: bool,
    entries: i64,
    last_hash: String,
    /// Where the chain breaks, if it does.
    #[schema(value_type = Option<Object>)]
    broken: Option<serde_json::Value>,
}

/// Re-hash the whole chain and say whether it is intact.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit", responses((status = 200, body = AuditVerification), (status = 403, body = crate::error::Problem)))]
async fn verify_audit(State(s): State<AppState>, auth: Auth) -> Result<Json<AuditVerification>, ApiError> {
    auth.require(Permission::AuditRead, Target::Global)?;
    let v = audit::verify(&s.db).await?;
    Ok(Json(AuditVerification { ok: v.broken.is_none(), entries: v.entries, last_hash: v.last_hash, broken: v.broken.map(|b| serde_json::to_value(b).unwrap_or_default()) }))
}
