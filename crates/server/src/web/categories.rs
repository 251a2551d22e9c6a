//! The report taxonomy (`/admin/categories`): list, create, and edit labels (French and
//! English), family, default severity, the protected flag and the SMS keywords. Only for
//! holders of `taxonomy.write` over the whole tree, as `PUT /api/v1/categories/{code}`; saved
//! through the same `vigie_storage::categories::save`, which checks the whole taxonomy (no
//! keyword claimed by two categories) and writes the audit entry.

use super::reports::{field_errors, fixable, severity_label, FieldError};
use super::{FormPost, Page, WebResult};
use crate::error::ApiError;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use axum::Router;
use minijinja::context;
use serde::{Deserialize, Serialize};
use vigie_domain::access::{Permission, Target};
use vigie_domain::early_warning::taxonomy::{Category, CategoryCode, CategoryFamily, Severity};
use vigie_domain::{Lang, Msg};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/categories", get(list))
        .route("/admin/categories/nouvelle", get(new_form).post(create))
        .route("/admin/categories/{code}", get(edit_form).post(update))
}

/// The families, as stored (serde names), each with its label key `family.<name>`.
const FAMILIES: &[&str] = &[
    "armed_violence",
    "community_conflict",
    "threat",
    "gender_based_violence",
    "small_arms",
    "displacement",
    "natural_hazard",
    "information",
    "security_forces_abuse",
    "other",
];

fn family_name(f: CategoryFamily) -> String {
    serde_json::to_value(f)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn require_admin(page: &Page) -> Result<(), super::WebError> {
    Ok(page
        .auth
        .require(Permission::TaxonomyWrite, Target::Global)?)
}

#[derive(Deserialize)]
pub struct ListQuery {
    ok: Option<String>,
}

async fn list(State(s): State<AppState>, page: Page, Query(q): Query<ListQuery>) -> WebResult {
    require_admin(&page)?;
    let rows: Vec<_> = vigie_storage::categories::list(&s.db)
        .await?
        .into_iter()
        .map(|c| {
            context! {
                code => c.code.as_str(), label => c.label(page.lang), other_label => c.label(other(page.lang)),
                family => super::i18n::t(&format!("family.{}", family_name(c.family)), page.lang), severity => severity_label(c.default_severity.level() as i32, page.lang),
                protected => c.protected, keywords => c.keywords,
            }
        })
        .collect();
    // Only name a category that exists (the parameter is a plain query string).
    let saved = match q.ok {
        Some(code) => CategoryCode::parse(&code).ok().filter(|c| {
            rows.iter().any(|r| {
                r.get_attr("code")
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .as_deref()
                    == Some(c.as_str())
            })
        }),
        None => None,
    };
    page.render(
        "categories.html",
        context! { categories => rows, saved => saved.map(|c| c.as_str().to_string()) },
    )
}

fn other(lang: Lang) -> Lang {
    match lang {
        Lang::Fr => Lang::En,
        Lang::En => Lang::Fr,
    }
}

#[derive(Serialize, Default)]
struct CategoryInput {
    code: String,
    label_fr: String,
    label_en: String,
    family: String,
    severity: String,
    protected: bool,
    /// One keyword per line, as typed.
    keywords: String,
}

impl CategoryInput {
    fn of(c: &Category) -> CategoryInput {
        CategoryInput {
            code: c.code.as_str().into(),
            label_fr: c.label_fr.clone(),
            label_en: c.label_en.clone(),
            family: family_name(c.family),
            severity: c.default_severity.level().to_string(),
            protected: c.protected,
            keywords: c.keywords.join("\n"),
        }
    }

    fn from_form(form: &FormPost, code: Option<&str>) -> CategoryInput {
        CategoryInput {
            code: code.unwrap_or(form.get("code")).trim().to_lowercase(),
            label_fr: form.get("label_fr").trim().to_string(),
            label_en: form.get("label_en").trim().to_string(),
            family: form.get("famille").to_string(),
            severity: form.get("gravite").to_string(),
            protected: form.get("protegee") == "1",
            keywords: form.get("mots_cles").to_string(),
        }
    }

    /// The domain's category; each refusal names the field of the form.
    fn parse(&self) -> Result<Category, ApiError> {
        let bad = |f: &str, m: Msg| ApiError::bad_request(f, m);
        let code = CategoryCode::parse(&self.code).map_err(|m| bad("code", Msg::from(m)))?;
        if self.label_fr.is_empty() {
            return Err(bad("label_fr", Msg::Required));
        }
        if self.label_en.is_empty() {
            return Err(bad("label_en", Msg::Required));
        }
        let family = serde_json::from_value(serde_json::Value::String(self.family.clone()))
            .map_err(|_| bad("family", Msg::Required))?;
        let level = self
            .severity
            .parse::<u8>()
            .map_err(|_| bad("default_severity", Msg::Required))?;
        let default_severity =
            Severity::from_level(level).map_err(|m| bad("default_severity", Msg::from(m)))?;
        // One per line (commas too, as people list them); blanks dropped, order kept.
        let mut keywords: Vec<String> = Vec::new();
        for k in self
            .keywords
            .split(['\n', ','])
            .map(str::trim)
            .filter(|k| !k.is_empty())
        {
            if !keywords.iter().any(|x| x.eq_ignore_ascii_case(k)) {
                keywords.push(k.to_string());
            }
        }
        Ok(Category {
            code,
            label_fr: self.label_fr.clone(),
            label_en: self.label_en.clone(),
            family,
            default_severity,
            protected: self.protected,
            keywords,
        })
    }
}

async fn render_form(
    page: &Page,
    status: StatusCode,
    editing: bool,
    input: CategoryInput,
    errors: Vec<FieldError>,
) -> WebResult {
    let families: Vec<_> = FAMILIES
        .iter()
        .map(|f| {
            (
                f.to_string(),
                super::i18n::t(&format!("family.{f}"), page.lang).to_string(),
            )
        })
        .collect();
    let severities: Vec<_> = (1..=4)
        .map(|n| (n.to_string(), severity_label(n, page.lang)))
        .collect();
    let error_fields: Vec<String> = errors.iter().map(|e| e.field.clone()).collect();
    page.render_status(
        status,
        "category_form.html",
        context! { editing, input, families, severities, errors, error_fields },
    )
}

async fn new_form(page: Page) -> WebResult {
    require_admin(&page)?;
    render_form(
        &page,
        StatusCode::OK,
        false,
        CategoryInput {
            family: "other".into(),
            severity: "2".into(),
            ..Default::default()
        },
        vec![],
    )
    .await
}

async fn edit_form(State(s): State<AppState>, page: Page, Path(code): Path<String>) -> WebResult {
    require_admin(&page)?;
    let c = vigie_storage::categories::list(&s.db)
        .await?
        .into_iter()
        .find(|c| c.code.as_str() == code)
        .ok_or(Msg::NotFound)?;
    render_form(&page, StatusCode::OK, true, CategoryInput::of(&c), vec![]).await
}

async fn save(s: &AppState, form: &FormPost, code: Option<&str>) -> WebResult {
    let page = &form.page;
    require_admin(page)?;
    let input = CategoryInput::from_form(form, code);
    let result = async {
        let c = input.parse()?;
        // A new code must be new: creating never overwrites a category by accident.
        if code.is_none()
            && vigie_storage::categories::list(&s.db)
                .await?
                .iter()
                .any(|x| x.code == c.code)
        {
            return Err(ApiError::new(StatusCode::CONFLICT, Msg::Conflict).field("code"));
        }
        vigie_storage::categories::save(&s.db, c.clone(), &page.auth.actor()).await?;
        Ok(c)
    }
    .await;
    match result {
        Ok(c) => {
            let q = form_urlencoded::Serializer::new(String::new())
                .append_pair("ok", c.code.as_str())
                .finish();
            Ok(Redirect::to(&format!("/admin/categories?{q}")).into_response())
        }
        Err(e) if fixable(&e) => {
            let status = if e.status == StatusCode::CONFLICT {
                e.status
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            render_form(
                page,
                status,
                code.is_some(),
                input,
                field_errors(&e, page.lang),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

async fn create(State(s): State<AppState>, form: FormPost) -> WebResult {
    save(&s, &form, None).await
}

async fn update(State(s): State<AppState>, Path(code): Path<String>, form: FormPost) -> WebResult {
    require_admin(&form.page)?;
    // Only an existing category is edited here; its code is the URL's, never the form's.
    let existing = vigie_storage::categories::list(&s.db)
        .await?
        .into_iter()
        .find(|c| c.code.as_str() == code)
        .ok_or(Msg::NotFound)?;
    save(&s, &form, Some(existing.code.as_str())).await
}
