//! `/api/v1/categories`: the report taxonomy (editable by those who hold `taxonomy.write`).

use crate::auth::Auth;
use crate::error::{ApiError, ApiJson};
use crate::AppState;
use axum::extract::{Path, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};
use vigie_domain::access::{Permission, Target};
use vigie_domain::early_warning::taxonomy::{Category, CategoryCode, Severity};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_categories)).routes(routes!(put_category))
}

#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct CategoryView {
    code: String,
    label_fr: String,
    label_en: String,
    /// violence, conflict, threat, protection, hazard, information, other…
    family: String,
    /// 1 low … 4 critical
    default_severity: u8,
    /// Reports of this category go to the protected-cases workflow, not the open feed.
    protected: bool,
    /// Words recognised in SMS.
    keywords: Vec<String>,
}

fn view(c: &Category) -> CategoryView {
    CategoryView {
        code: c.code.as_str().into(),
        label_fr: c.label_fr.clone(),
        label_en: c.label_en.clone(),
        family: serde_json::to_value(c.family).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default(),
        default_severity: c.default_severity.level(),
        protected: c.protected,
        keywords: c.keywords.clone(),
    }
}

/// Every active category.
#[utoipa::path(get, path = "/api/v1/categories", tag = "early-warning", responses((status = 200, body = Vec<CategoryView>)))]
async fn list_categories(State(s): State<AppState>, _auth: Auth) -> Result<Json<Vec<CategoryView>>, ApiError> {
    Ok(Json(vigie_storage::categories::list(&s.db).await?.iter().map(view).collect()))
}

/// The category a `PUT /api/v1/categories/{code}` body describes, checked.
pub(crate) fn category_of(code: &str, b: CategoryView) -> Result<Category, ApiError> {
    let bad = |f: &str, m| ApiError::bad_request(f, vigie_domain::Msg::from(m));
    Ok(Category {
        code: CategoryCode::parse(code).map_err(|m| bad("code", m))?,
        label_fr: b.label_fr,
        label_en: b.label_en,
        family: serde_json::from_value(serde_json::Value::String(b.family)).map_err(|_| ApiError::bad_request("family", vigie_domain::Msg::InvalidName))?,
        default_severity: Severity::from_level(b.default_severity).map_err(|m| bad("default_severity", m))?,
        protected: b.protected,
        keywords: b.keywords,
    })
}

/// Create or change a category.
#[utoipa::path(put, path = "/api/v1/categories/{code}", tag = "early-warning", params(("code" = String, Path)), request_body = CategoryView,
    responses((status = 200, body = CategoryView), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
async fn put_category(State(s): State<AppState>, auth: Auth, Path(code): Path<String>, ApiJson(b): ApiJson<CategoryView>) -> Result<Json<CategoryView>, ApiError> {
    auth.require(Permission::TaxonomyWrite, Target::Global)?;
    let c = category_of(&code, b)?;
    vigie_storage::categories::save(&s.db, c.clone(), &auth.actor()).await?;
    Ok(Json(view(&c)))
}
