//! ODK forms (`/admin/formulaires`): every version with its state (draft, open, closed) and
//! submission count; upload an XForm (as a draft), publish, close, download the XForm; the
//! exports are the API's (`/api/v1/forms/{id}/export.csv|xlsx`, same session), which leave out
//! protected submissions for readers without `cases.read` there.
//!
//! The server does not read XLSForm spreadsheets: the page says so and takes the XForm that
//! pyxform makes from one (`scripts/pyxform.sh form.xlsx form.xml`), as `POST /api/v1/forms` does.
//! The checks are the API's: `forms.manage` over the form's area.

use super::report_actions::multipart_page;
use super::reports::{area_choices, field_errors, parse_id, FieldError};
use super::{FormPost, Page, WebError, WebResult};
use crate::api::events::multipart_error;
use crate::auth::same_secret;
use crate::error::ApiError;
use crate::AppState;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::Router;
use minijinja::{context, Value};
use serde::{Deserialize, Serialize};
use vigie_domain::access::{Permission, Target};
use vigie_domain::area::AreaCode;
use vigie_domain::Msg;
use vigie_storage::forms::{self, FormView};

/// An XForm is a few kilobytes to a few hundred (long choice lists); 5 MB is generous.
const MAX_XFORM_BYTES: usize = 5 * 1024 * 1024;

/// The error field of a spreadsheet sent where an XForm is expected (its sentence is this page's).
const XLSFORM_FIELD: &str = "xform.xlsx";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/formulaires",
            get(list)
                .post(upload)
                .layer(DefaultBodyLimit::max(MAX_XFORM_BYTES + 64 * 1024)),
        )
        .route("/admin/formulaires/{id}/etat", post(set_state))
        .route("/admin/formulaires/{id}/form.xml", get(download))
}

#[derive(Deserialize)]
pub struct ListQuery {
    ok: Option<String>,
}

#[derive(Serialize, Default)]
struct UploadInput {
    purpose: String,
    area: String,
}

async fn render_list(
    s: &AppState,
    page: &Page,
    status: StatusCode,
    done: Option<String>,
    input: UploadInput,
    errors: Vec<FieldError>,
) -> WebResult {
    let scope = page.auth.scope(Permission::FormsManage)?;
    let t = |key: String| super::i18n::t(&key, page.lang).to_string();
    let rows: Vec<_> = forms::list_managed(&s.db, &scope)
        .await?
        .into_iter()
        .map(|(f, _)| context! { state_label => t(format!("forms.state.{}", f.state)), purpose_label => t(format!("forms.purpose.{}", f.purpose)), ..Value::from_serialize(&f) })
        .collect();
    let areas = area_choices(s, page, Permission::FormsManage).await?;
    let error_fields: Vec<String> = errors.iter().map(|e| e.field.clone()).collect();
    page.render_status(
        status,
        "forms.html",
        context! { forms => rows, areas, done, input, errors, error_fields },
    )
}

async fn list(State(s): State<AppState>, page: Page, Query(q): Query<ListQuery>) -> WebResult {
    page.auth
        .require(Permission::FormsManage, Target::AnyArea)?;
    let done =
        q.ok.filter(|v| ["televerse", "publie", "ferme"].contains(&v.as_str()))
            .map(|v| format!("forms.done.{v}"));
    render_list(
        &s,
        &page,
        StatusCode::OK,
        done,
        UploadInput {
            purpose: "incident".into(),
            ..Default::default()
        },
        vec![],
    )
    .await
}

/// The form version, if the reader manages it (`forms.manage` over its area); else refused.
async fn managed(s: &AppState, page: &Page, id: i64) -> Result<FormView, WebError> {
    // Refused before the look-up: without the permission, not even whether the form exists.
    page.auth
        .require(Permission::FormsManage, Target::AnyArea)?;
    let f = forms::get(&s.db, id).await?;
    let code = AreaCode::parse(&f.area_code).map_err(|m| ApiError::bad_request("area_code", m))?;
    page.auth.require_in(
        Permission::FormsManage,
        &vigie_storage::areas::path_of(&s.db, &code, "area_code").await?,
    )?;
    Ok(f)
}

/// `multipart/form-data`: `csrf`, `but` (incident or survey), `zone`, `fichier` (the XForm).
async fn upload(State(s): State<AppState>, req: Request) -> WebResult {
    let (parts, body) = req.into_parts();
    let page = multipart_page(&parts, &s).await?;
    let mut multipart = Multipart::from_request(Request::from_parts(parts, body), &s)
        .await
        .map_err(|_| {
            WebError(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Msg::UnsupportedMediaType,
            ))
        })?;
    let (mut csrf, mut input, mut file) = (String::new(), UploadInput::default(), None);
    let read = async {
        while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
            match field.name() {
                Some("csrf") => csrf = field.text().await.map_err(multipart_error)?,
                Some("but") => {
                    input.purpose = field
                        .text()
                        .await
                        .map_err(multipart_error)?
                        .trim()
                        .to_string()
                }
                Some("zone") => {
                    input.area = field
                        .text()
                        .await
                        .map_err(multipart_error)?
                        .trim()
                        .to_string()
                }
                Some("fichier") => file = Some(field.bytes().await.map_err(multipart_error)?),
                _ => {}
            }
        }
        Ok::<_, ApiError>(())
    }
    .await;
    // The token is checked before anything else is looked at, even a failed read.
    if !same_secret(&csrf, &page.csrf) {
        return Err(WebError(Msg::CsrfMissing.into()));
    }
    page.auth
        .require(Permission::FormsManage, Target::AnyArea)?;
    let result = async {
        read?;
        let area =
            AreaCode::parse(&input.area).map_err(|m| ApiError::bad_request("area_code", m))?;
        page.auth.require_in(
            Permission::FormsManage,
            &vigie_storage::areas::path_of(&s.db, &area, "area_code").await?,
        )?;
        let xml = file
            .filter(|b| !b.is_empty())
            .ok_or_else(|| ApiError::bad_request("xform", Msg::Required))?;
        // A spreadsheet (a ZIP: XLSX starts with "PK") is named as such, not as bad XML.
        if xml.starts_with(b"PK") {
            return Err(ApiError::bad_request(XLSFORM_FIELD, Msg::Required));
        }
        forms::create_as(
            &s.db,
            &xml,
            &input.purpose,
            &area,
            false,
            &page.auth.actor(),
        )
        .await
        .map_err(ApiError::from)
    }
    .await;
    match result {
        Ok(_) => Ok(Redirect::to("/admin/formulaires?ok=televerse").into_response()),
        Err(e) if e.status == StatusCode::BAD_REQUEST || e.status == StatusCode::CONFLICT => {
            let status = if e.status == StatusCode::CONFLICT {
                e.status
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let mut errors = field_errors(&e, page.lang);
            for fe in errors.iter_mut().filter(|fe| fe.field == XLSFORM_FIELD) {
                fe.message = super::i18n::t("forms.xlsx_refused", page.lang).to_string();
            }
            render_list(&s, &page, status, None, input, errors).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `ouvrir=1` publishes the version (phones get it), `ouvrir=0` closes it.
async fn set_state(State(s): State<AppState>, Path(id): Path<String>, form: FormPost) -> WebResult {
    let f = managed(&s, &form.page, parse_id(&id)?).await?;
    let open = match form.get("ouvrir") {
        "1" => true,
        "0" => false,
        _ => return Err(ApiError::bad_request("ouvrir", Msg::Required).into()),
    };
    forms::set_open(&s.db, f.id, open, &form.page.auth.actor()).await?;
    Ok(Redirect::to(if open {
        "/admin/formulaires?ok=publie"
    } else {
        "/admin/formulaires?ok=ferme"
    })
    .into_response())
}

/// The XForm exactly as stored (what phones download), as a file.
async fn download(State(s): State<AppState>, page: Page, Path(id): Path<String>) -> WebResult {
    let f = managed(&s, &page, parse_id(&id)?).await?;
    let (_, xml) = forms::xml_of(&s.db, &f.form_id, Some(&f.version)).await?;
    let name: String = format!("{}-{}.xml", f.form_id, f.version)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c))
        .collect();
    Ok((
        [
            (header::CONTENT_TYPE, "text/xml; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        xml,
    )
        .into_response())
}
