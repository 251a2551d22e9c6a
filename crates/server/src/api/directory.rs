//! `/api/v1/directory` and `/api/v1/public/directory`: the directory of resource persons.
//!
//! - The public search and export (no account) return only listed entries (published,
//!   consented, not withdrawn) and only the fields each person made public.
//! - Partners (`directory.read`) also see the fields meant for partners, within their area.
//! - Managers (`directory.write` over the entry's area) record entries and consent, publish,
//!   record a withdrawal, and may open hidden contact details (`?reveal=true`, audit-logged).

use super::governance::{area_path, date_field, invalid, today};
use super::{ApiQuery, PageOf, Paging};
use crate::auth::Auth;
use crate::error::{ApiError, ApiJson};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};
use vigie_domain::access::{Permission, Target};
use vigie_domain::governance::directory::{parse_language, Audience, Consent, ConsentMethod, EntryText, Expertise};
use vigie_domain::governance::{AgeGroup, GovMsg, Sex};
use vigie_domain::{Invalid, Msg};
use vigie_storage::directory::{self as dir, EntryView, Search};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search_directory, create_entry))
        .routes(routes!(export_directory))
        .routes(routes!(get_entry))
        .routes(routes!(record_consent))
        .routes(routes!(set_publication))
        .routes(routes!(withdraw))
        .routes(routes!(public_search))
        .routes(routes!(public_export))
}

/// Search criteria, shared by the API and the web page.
#[derive(Deserialize, utoipa::IntoParams, Default, Clone)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// mediation, gender, human_rights, security_sector, languages
    pub expertise: Option<String>,
    /// Area code: entries in this subtree.
    pub area: Option<String>,
    /// A language (bambara, fulfulde, songhay, tamasheq…)
    pub language: Option<String>,
    /// F or M
    pub sex: Option<String>,
    /// youth, adult, elder
    pub age_group: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

fn nonempty(o: &Option<String>) -> Option<&str> {
    o.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl SearchQuery {
    pub async fn search(&self, s: &AppState) -> Result<Search, ApiError> {
        let bad = |f: &str, m: GovMsg| ApiError::from(Invalid::new(f, Msg::from(m)));
        Ok(Search {
            expertise: nonempty(&self.expertise).map(Expertise::parse).transpose().map_err(|m| bad("expertise", m))?,
            area: match nonempty(&self.area) {
                Some(a) => Some(area_path(s, a, "area").await?),
                None => None,
            },
            language: nonempty(&self.language).map(parse_language).transpose().map_err(|m| bad("language", m))?,
            sex: nonempty(&self.sex).map(Sex::parse).transpose().map_err(|m| bad("sex", m))?,
            age_group: nonempty(&self.age_group).map(AgeGroup::parse).transpose().map_err(|m| bad("age_group", m))?,
        })
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ManageQuery {
    /// Managers: also list unpublished and withdrawn entries, with consent and visibility.
    manage: Option<bool>,
}

/// Search the directory as a partner (fields meant for partners) or, with `manage=true`, as a
/// manager (every entry of your area, with consent and publication state).
#[utoipa::path(get, path = "/api/v1/directory", tag = "directory", params(SearchQuery, ManageQuery),
    responses((status = 200, body = PageOf<EntryView>), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
async fn search_directory(State(s): State<AppState>, auth: Auth, ApiQuery(q): ApiQuery<SearchQuery>, ApiQuery(m): ApiQuery<ManageQuery>) -> Result<Json<PageOf<EntryView>>, ApiError> {
    let (audience, scope) = if m.manage == Some(true) {
        (Audience::Manager, auth.scope(Permission::DirectoryWrite)?)
    } else {
        (Audience::Partner, auth.scope(Permission::DirectoryRead)?)
    };
    let (page, per) = Paging { page: q.page, per_page: q.per_page }.get()?;
    let search = q.search(&s).await?;
    Ok(Json(dir::search(&s.db, &search, audience, Some(&scope), page, per).await?.into()))
}

/// The directory as CSV for a partner (the same entries and fields as the search).
#[utoipa::path(get, path = "/api/v1/directory/export.csv", tag = "directory", params(SearchQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = crate::error::Problem)))]
async fn export_directory(State(s): State<AppState>, auth: Auth, ApiQuery(q): ApiQuery<SearchQuery>) -> Result<Response, ApiError> {
    let scope = auth.scope(Permission::DirectoryRead)?;
    let search = q.search(&s).await?;
    let csv = dir::export_csv(&s.db, &search, Audience::Partner, Some(&scope)).await?;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv).into_response())
}

/// A directory entry, as typed. Dates YYYY-MM-DD; expertise and languages separated by `;`.
#[derive(Deserialize, Serialize, utoipa::ToSchema, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct EntryBody {
    pub full_name: String,
    /// F or M
    pub sex: String,
    /// youth, adult, elder
    pub age_group: String,
    #[serde(default)]
    pub organisation: String,
    pub area_code: String,
    /// mediation; gender; human_rights; security_sector; languages
    pub expertise: String,
    #[serde(default)]
    pub languages: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub email: String,
    /// Date the person gave explicit consent to be listed (empty: not yet).
    #[serde(default)]
    pub consent_on: String,
    /// written, oral, sms, form
    #[serde(default)]
    pub consent_method: String,
    /// public, partners (default) or hidden
    #[serde(default)]
    pub visibility_name: String,
    /// public, partners (default) or hidden
    #[serde(default)]
    pub visibility_organisation: String,
    /// public, partners or hidden (default)
    #[serde(default)]
    pub visibility_phone: String,
    /// public, partners or hidden (default)
    #[serde(default)]
    pub visibility_email: String,
    /// Publish now (needs consent).
    #[serde(default)]
    pub published: bool,
}

impl From<EntryBody> for EntryText {
    fn from(b: EntryBody) -> EntryText {
        EntryText {
            full_name: b.full_name,
            sex: b.sex,
            age_group: b.age_group,
            organisation: b.organisation,
            area_code: b.area_code,
            expertise: b.expertise,
            languages: b.languages,
            phone: b.phone,
            email: b.email,
            consent_on: b.consent_on,
            consent_method: b.consent_method,
            visibility_name: b.visibility_name,
            visibility_organisation: b.visibility_organisation,
            visibility_phone: b.visibility_phone,
            visibility_email: b.visibility_email,
            published: b.published,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedEntry {
    pub id: i64,
}

/// Record a resource person. Contact details are sealed; the entry is published only with
/// explicit recorded consent.
#[utoipa::path(post, path = "/api/v1/directory", tag = "directory", request_body = EntryBody,
    responses((status = 201, body = CreatedEntry), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
async fn create_entry(State(s): State<AppState>, auth: Auth, ApiJson(b): ApiJson<EntryBody>) -> Result<(StatusCode, Json<CreatedEntry>), ApiError> {
    auth.require(Permission::DirectoryWrite, Target::AnyArea)?;
    let path = area_path(&s, &b.area_code, "area_code").await?;
    auth.require_in(Permission::DirectoryWrite, &path)?;
    let e = EntryText::from(b).parse(today(&s)).map_err(invalid)?;
    let id = dir::create(&s.db, &e, &auth.actor()).await?;
    Ok((StatusCode::CREATED, Json(CreatedEntry { id })))
}

/// Who the caller is to an entry: a manager of its area, a partner in its area, or nobody.
async fn audience_for(s: &AppState, auth: &Auth, id: i64) -> Result<Audience, ApiError> {
    auth.require(Permission::DirectoryRead, Target::AnyArea).or_else(|_| auth.require(Permission::DirectoryWrite, Target::AnyArea))?;
    let p = dir::entry_area(&s.db, id).await?;
    if auth.require_in(Permission::DirectoryWrite, &p).is_ok() {
        return Ok(Audience::Manager);
    }
    auth.require_in(Permission::DirectoryRead, &p)?;
    Ok(Audience::Partner)
}

async fn manager_of(s: &AppState, auth: &Auth, id: i64) -> Result<(), ApiError> {
    auth.require(Permission::DirectoryWrite, Target::AnyArea)?;
    let p = dir::entry_area(&s.db, id).await?;
    auth.require_in(Permission::DirectoryWrite, &p)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RevealQuery {
    /// Managers: open hidden contact details too (audit-logged).
    reveal: Option<bool>,
}

/// One entry, as the caller may see it.
#[utoipa::path(get, path = "/api/v1/directory/{id}", tag = "directory", params(("id" = i64, Path), RevealQuery),
    responses((status = 200, body = EntryView), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
async fn get_entry(State(s): State<AppState>, auth: Auth, Path(id): Path<i64>, ApiQuery(q): ApiQuery<RevealQuery>) -> Result<Json<EntryView>, ApiError> {
    let audience = audience_for(&s, &auth, id).await?;
    Ok(Json(dir::get(&s.db, id, audience, q.reveal == Some(true), Some(&auth.actor())).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentBody {
    /// YYYY-MM-DD
    consent_on: String,
    /// written, oral, sms, form
    consent_method: String,
    /// Publish at once.
    #[serde(default)]
    publish: bool,
}

/// Record the person's explicit consent (date and how it was given), and publish if asked.
#[utoipa::path(post, path = "/api/v1/directory/{id}/consent", tag = "directory", params(("id" = i64, Path)), request_body = ConsentBody,
    responses((status = 200, body = EntryView), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
async fn record_consent(State(s): State<AppState>, auth: Auth, Path(id): Path<i64>, ApiJson(b): ApiJson<ConsentBody>) -> Result<Json<EntryView>, ApiError> {
    manager_of(&s, &auth, id).await?;
    let mut errs = Vec::new();
    let on = date_field(&b.consent_on, "consent_on", &mut errs);
    let method = ConsentMethod::parse(&b.consent_method).map_err(|m| errs.push(Invalid::new("consent_method", Msg::from(m)))).ok();
    let (Some(given_on), Some(method), true) = (on, method, errs.is_empty()) else { return Err(invalid(errs)) };
    Ok(Json(dir::record_consent(&s.db, id, &Consent { given_on, method }, b.publish, &auth.actor(), today(&s)).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublicationBody {
    published: bool,
}

/// Publish or unpublish an entry (publishing needs consent, never after a withdrawal).
#[utoipa::path(post, path = "/api/v1/directory/{id}/publication", tag = "directory", params(("id" = i64, Path)), request_body = PublicationBody,
    responses((status = 200, body = EntryView), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
async fn set_publication(State(s): State<AppState>, auth: Auth, Path(id): Path<i64>, ApiJson(b): ApiJson<PublicationBody>) -> Result<Json<EntryView>, ApiError> {
    manager_of(&s, &auth, id).await?;
    Ok(Json(dir::set_published(&s.db, id, b.published, &auth.actor()).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawalBody {
    /// Date consent was withdrawn (default: today).
    #[serde(default)]
    on: Option<String>,
}

/// The person withdrew consent: the entry leaves every public view and export, and its contact
/// details are erased.
#[utoipa::path(post, path = "/api/v1/directory/{id}/withdrawal", tag = "directory", params(("id" = i64, Path)), request_body = WithdrawalBody,
    responses((status = 200, body = EntryView), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
async fn withdraw(State(s): State<AppState>, auth: Auth, Path(id): Path<i64>, ApiJson(b): ApiJson<WithdrawalBody>) -> Result<Json<EntryView>, ApiError> {
    manager_of(&s, &auth, id).await?;
    let mut errs = Vec::new();
    let on = match b.on.as_deref().filter(|d| !d.trim().is_empty()) {
        Some(d) => date_field(d, "on", &mut errs),
        None => Some(today(&s)),
    };
    let Some(on) = on.filter(|_| errs.is_empty()) else { return Err(invalid(errs)) };
    Ok(Json(dir::withdraw(&s.db, id, on, &auth.actor()).await?))
}

/// Public search (no account): consented, published entries only, and only the fields each
/// person made public.
#[utoipa::path(get, path = "/api/v1/public/directory", tag = "directory", params(SearchQuery), security(()),
    responses((status = 200, body = PageOf<EntryView>), (status = 400, body = crate::error::Problem)))]
async fn public_search(State(s): State<AppState>, ApiQuery(q): ApiQuery<SearchQuery>) -> Result<Json<PageOf<EntryView>>, ApiError> {
    let (page, per) = Paging { page: q.page, per_page: q.per_page }.get()?;
    let search = q.search(&s).await?;
    Ok(Json(dir::search(&s.db, &search, Audience::Public, None, page, per).await?.into()))
}

/// Public export (no account), CSV: the same entries and fields as the public search.
#[utoipa::path(get, path = "/api/v1/public/directory/export.csv", tag = "directory", params(SearchQuery), security(()),
    responses((status = 200, content_type = "text/csv", body = String), (status = 400, body = crate::error::Problem)))]
async fn public_export(State(s): State<AppState>, ApiQuery(q): ApiQuery<SearchQuery>) -> Result<Response, ApiError> {
    let search = q.search(&s).await?;
    let csv = dir::export_csv(&s.db, &search, Audience::Public, None).await?;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv).into_response())
}
