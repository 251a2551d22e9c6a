//! The OpenRosa surface, so ODK Collect and Enketo work unchanged: `GET /formList`, form
//! download, `HEAD`/`POST /submission` (multipart: `xml_submission_file` + media), idempotent on
//! the instanceID; the same under `/key/<token>/…` for app-user tokens (one QR code configures a
//! phone), like ODK Central. Accounts sign in with HTTP Basic (serve Vigie behind TLS).

use crate::auth::Auth;
use crate::error::ApiError;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use serde::Deserialize;
use vigie_domain::access::{Permission, Principal, Target};
use vigie_domain::area::AreaCode;
use vigie_domain::early_warning::attachment::{check_attachment, AttachmentInput, AttachmentPolicy};
use vigie_domain::openrosa::mapping::{incident_report, tally, IncidentFields, QuestionTally};
use vigie_domain::openrosa::submission::{export_tables, Submission};
use vigie_domain::openrosa::xform::XForm;
use vigie_domain::openrosa::xml_out::{form_list, response, FormListEntry, Nature};
use vigie_domain::Msg;
use vigie_storage::audit::Actor;
use vigie_storage::StoreError;
use vigie_storage::auth::{Credential, Login};
use vigie_storage::forms::{self, FormView, NewAttachment, Stored, SubmissionView};

/// A submission with its photos and recordings.
pub const SUBMISSION_LIMIT: usize = 30 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/formList", get(form_list_basic))
        .route("/key/{token}/formList", get(form_list_token))
        .route("/forms/{form_id}/form.xml", get(download_basic))
        .route("/key/{token}/forms/{form_id}/form.xml", get(download_token))
        .route("/submission", axum::routing::head(head_submission).post(submit_basic))
        .route("/key/{token}/submission", axum::routing::head(head_submission).post(submit_token))
        .layer(DefaultBodyLimit::max(SUBMISSION_LIMIT))
}

fn openrosa(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert("x-openrosa-version", HeaderValue::from_static("1.0"));
    h.insert("x-openrosa-accept-content-length", HeaderValue::from_str(&SUBMISSION_LIMIT.to_string()).unwrap());
    h.insert(header::DATE, HeaderValue::from_str(&chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S GMT").to_string()).unwrap());
    res
}

fn xml(status: StatusCode, body: String) -> Response {
    openrosa((status, [(header::CONTENT_TYPE, "text/xml; charset=utf-8")], body).into_response())
}

fn error(status: StatusCode, message: &str) -> Response {
    xml(status, response(Nature::Error, message))
}

fn unauthorized() -> Response {
    let mut r = error(StatusCode::UNAUTHORIZED, "Authentification requise / Authentication required");
    r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"Vigie\", charset=\"UTF-8\""));
    r
}

/// The caller: the account of a `/key/<token>/` URL, or HTTP Basic credentials.
async fn principal(s: &AppState, headers: &HeaderMap, token: Option<&str>) -> Result<Principal, Response> {
    let user_id = match token {
        Some(t) => match vigie_storage::auth::token_user(&s.db, t).await {
            Ok(Credential::Valid { user_id }) => user_id,
            Ok(_) => return Err(error(StatusCode::FORBIDDEN, "Jeton invalide ou expiré / Invalid or expired token")),
            Err(_) => return Err(error(StatusCode::SERVICE_UNAVAILABLE, "Indisponible / Unavailable")),
        },
        None => {
            let basic = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Basic "))
                .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b.trim()).ok())
                .and_then(|b| String::from_utf8(b).ok());
            let Some((user, pass)) = basic.as_deref().and_then(|b| b.split_once(':')) else { return Err(unauthorized()) };
            match vigie_storage::auth::check_password(&s.db, user, pass).await {
                // Two-factor accounts use app-user tokens on phones.
                Ok(Login::Ok { user_id, totp_secret: None }) => user_id,
                Ok(Login::Locked { .. }) => return Err(error(StatusCode::TOO_MANY_REQUESTS, "Compte bloqué / Account locked")),
                Ok(_) => return Err(unauthorized()),
                Err(_) => return Err(error(StatusCode::SERVICE_UNAVAILABLE, "Indisponible / Unavailable")),
            }
        }
    };
    match vigie_storage::users::principal(&s.db, user_id).await {
        Ok(Some(p)) => Ok(p),
        _ => Err(unauthorized()),
    }
}

fn base_url(s: &AppState, headers: &HeaderMap, token: Option<&str>) -> String {
    let base = s.config.public_url.clone().unwrap_or_else(|| {
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("localhost");
        let proto = headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).unwrap_or("http");
        format!("{proto}://{host}")
    });
    match token {
        Some(t) => format!("{base}/key/{t}"),
        None => base,
    }
}

async fn list(s: &AppState, headers: &HeaderMap, token: Option<&str>) -> Response {
    let p = match principal(s, headers, token).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let scope = p.scope(Permission::ReportsCreate);
    let forms = match forms::list_for(&s.db, &scope).await {
        Ok(f) => f,
        Err(_) => return error(StatusCode::SERVICE_UNAVAILABLE, "Indisponible / Unavailable"),
    };
    let base = base_url(s, headers, token);
    let entries: Vec<FormListEntry> = forms
        .into_iter()
        .map(|(f, _)| FormListEntry {
            download_url: format!("{base}/forms/{}/form.xml", f.form_id),
            form_id: f.form_id,
            name: f.title,
            version: Some(f.version).filter(|v| !v.is_empty()),
            hash: f.md5,
            manifest_url: None,
        })
        .collect();
    xml(StatusCode::OK, form_list(&entries))
}

async fn form_list_basic(State(s): State<AppState>, headers: HeaderMap) -> Response {
    list(&s, &headers, None).await
}
async fn form_list_token(State(s): State<AppState>, headers: HeaderMap, Path(token): Path<String>) -> Response {
    list(&s, &headers, Some(&token)).await
}

async fn download(s: &AppState, headers: &HeaderMap, token: Option<&str>, form_id: &str) -> Response {
    let p = match principal(s, headers, token).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let scope = p.scope(Permission::ReportsCreate);
    match forms::list_for(&s.db, &scope).await {
        Ok(list) if list.iter().any(|(f, _)| f.form_id == form_id) => {}
        _ => return error(StatusCode::NOT_FOUND, "Formulaire introuvable / Form not found"),
    }
    match forms::xml_of(&s.db, form_id, None).await {
        Ok((_, bytes)) => openrosa((StatusCode::OK, [(header::CONTENT_TYPE, "text/xml; charset=utf-8")], bytes).into_response()),
        Err(_) => error(StatusCode::NOT_FOUND, "Formulaire introuvable / Form not found"),
    }
}

async fn download_basic(State(s): State<AppState>, headers: HeaderMap, Path(form_id): Path<String>) -> Response {
    download(&s, &headers, None, &form_id).await
}
async fn download_token(State(s): State<AppState>, headers: HeaderMap, Path((token, form_id)): Path<(String, String)>) -> Response {
    download(&s, &headers, Some(&token), &form_id).await
}

/// Collect asks first (HEAD) how large a submission may be.
async fn head_submission() -> Response {
    openrosa(StatusCode::NO_CONTENT.into_response())
}

async fn submit_basic(State(s): State<AppState>, headers: HeaderMap, multipart: Multipart) -> Response {
    submit(&s, &headers, None, multipart).await
}
async fn submit_token(State(s): State<AppState>, headers: HeaderMap, Path(token): Path<String>, multipart: Multipart) -> Response {
    submit(&s, &headers, Some(&token), multipart).await
}

async fn submit(s: &AppState, headers: &HeaderMap, token: Option<&str>, mut multipart: Multipart) -> Response {
    let p = match principal(s, headers, token).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    if !p.has_anywhere(Permission::ReportsCreate) {
        return error(StatusCode::FORBIDDEN, "Ce compte ne peut pas soumettre / This account cannot submit");
    }
    // Read every part: the XML and the media files.
    let mut xml_doc: Option<Bytes> = None;
    let mut files: Vec<(String, String, Bytes)> = Vec::new();
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or("").to_string();
                let file_name = field.file_name().unwrap_or("").to_string();
                let ct = field.content_type().unwrap_or("application/octet-stream").to_string();
                match field.bytes().await {
                    Ok(b) if name == "xml_submission_file" => xml_doc = Some(b),
                    Ok(b) => files.push((if file_name.is_empty() { name } else { file_name }, ct, b)),
                    Err(e) => return error(e.status(), &format!("Envoi incomplet / Incomplete upload: {}", e.body_text())),
                }
            }
            Ok(None) => break,
            Err(e) => return error(e.status(), &format!("Envoi illisible / Unreadable upload: {}", e.body_text())),
        }
    }
    let Some(doc) = xml_doc else { return error(StatusCode::BAD_REQUEST, "xml_submission_file manquant / missing") };
    let (form_id, version) = match Submission::identify(&doc) {
        Ok(v) => v,
        Err(e) => return error(StatusCode::BAD_REQUEST, &format!("{} / {}", e.msg.text(vigie_domain::Lang::Fr), e.msg.text(vigie_domain::Lang::En))),
    };
    let (form_view, form) = match forms::for_submission(&s.db, &form_id, version.as_deref().unwrap_or("")).await {
        Ok(f) => f,
        Err(StoreError::NotFound) => return error(StatusCode::NOT_FOUND, &format!("Formulaire inconnu / Unknown form: {form_id}")),
        Err(e) => {
            tracing::error!(error = %e, "form of a submission");
            return error(StatusCode::SERVICE_UNAVAILABLE, "Non enregistré, réessayez / Not stored, try again");
        }
    };
    // A draft or closed version takes no submission (as ODK Central): nothing is stored.
    if !form_view.open {
        return error(StatusCode::CONFLICT, &format!("Formulaire fermé aux envois / Form not accepting submissions: {form_id}"));
    }
    let sub = match Submission::parse(&doc, &form) {
        Ok(sub) => sub,
        Err(errs) => {
            let text: Vec<String> = errs.iter().take(10).map(|e| format!("{}: {}", e.path, e.msg.text(vigie_domain::Lang::Fr))).collect();
            return error(StatusCode::BAD_REQUEST, &text.join("; "));
        }
    };
    // Media: each named by the submission, each checked (type by its first bytes, size).
    let policy = AttachmentPolicy::default();
    let mut stored_files = Vec::new();
    for (name, ct, bytes) in files {
        if !sub.attachments.iter().any(|a| a.file_name == name) {
            continue; // not referenced by the form: ignored, as Collect may resend extras
        }
        let input = AttachmentInput { declared_type: &ct, file_name: &name, size: bytes.len() as u64, head: &bytes[..bytes.len().min(64)] };
        match check_attachment(&policy, &input, stored_files.len()) {
            Ok(c) => stored_files.push(NewAttachment { file_name: name, content_type: c.media.mime().to_string(), bytes: bytes.to_vec() }),
            Err(m) => {
                let status = if matches!(m, vigie_domain::early_warning::EwMsg::AttachmentTooLarge { .. }) { StatusCode::PAYLOAD_TOO_LARGE } else { StatusCode::UNPROCESSABLE_ENTITY };
                return error(status, &format!("{name}: {}", Msg::from(m).text(vigie_domain::Lang::Fr)));
            }
        }
    }
    let actor = Actor::user(p.user_id, &p.username);
    let data = serde_json::to_value(&sub.data).unwrap_or_default();
    let warnings = serde_json::to_value(&sub.warnings).unwrap_or_default();
    let area = form.find("commune").and_then(|f| sub.value(&f.path)).map(|v| v.to_cell()).filter(|c| AreaCode::parse(c).is_ok());
    // An incident form becomes a report through the same intake as every channel. If it
    // cannot (outside the user's area, a future date), the submission is stored and flagged.
    let report = if form_view.purpose != "incident" {
        forms::ReportFrom::Nothing
    } else {
        match incident_report(&form, &sub, &IncidentFields::default()) {
            Ok(ir) => {
                let allowed = match &ir.input.location.area {
                    Some(code) => match AreaCode::parse(code) {
                        Ok(c) => match vigie_storage::areas::path_of(&s.db, &c, "commune").await {
                            Ok(path) => vigie_domain::access::authorize(&p, Permission::ReportsCreate, Target::InArea(&path)).is_ok(),
                            Err(_) => true,
                        },
                        Err(_) => true,
                    },
                    None => true,
                };
                if allowed {
                    forms::ReportFrom::Intake(ir.input, vigie_storage::reports::Sender { user_id: Some(p.user_id), phone: None })
                } else {
                    forms::ReportFrom::Refused("outside the submitter's area".to_string())
                }
            }
            Err(errs) => forms::ReportFrom::Refused(errs.iter().map(|e| format!("{}: {}", e.path, e.msg.text(vigie_domain::Lang::En))).collect::<Vec<_>>().join("; ")),
        }
    };
    let incoming = forms::Incoming {
        form_pk: form_view.id,
        instance_id: &sub.instance_id,
        xml: &doc,
        data: &data,
        warnings: &warnings,
        area: area.as_deref(),
        submitted_by: Some(p.user_id),
        files: stored_files,
        actor: &actor,
        now: s.now(),
    };
    match forms::receive(&s.db, incoming, report).await {
        Ok(forms::Received { stored: Stored::Duplicate(_), .. }) => {
            return xml(StatusCode::ACCEPTED, response(Nature::SubmitSuccess, "Déjà reçu / Already received"))
        }
        Ok(_) => {}
        Err(e) => {
            tracing::error!(error = %e, "submission not stored");
            return error(StatusCode::SERVICE_UNAVAILABLE, "Non enregistré, réessayez / Not stored, try again");
        }
    }
    xml(StatusCode::CREATED, response(Nature::SubmitSuccess, "Merci, formulaire reçu / Thank you, form received"))
}

// ---- Management API ----

pub fn api_router() -> utoipa_axum::router::OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(list_forms, upload_form))
        .routes(routes!(form_submissions))
        .routes(routes!(form_export))
        .routes(routes!(form_export_xlsx))
        .routes(routes!(form_tally))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// incident (submissions become reports) or survey (stored for analysis)
    purpose: String,
    /// Area the form is for (phones in this subtree get it).
    area_code: String,
}

/// Publish an XForm (as produced by pyxform from an XLSForm: `scripts/pyxform.sh form.xlsx form.xml`).
#[utoipa::path(post, path = "/api/v1/forms", tag = "forms", params(UploadQuery),
    request_body(content = String, content_type = "text/xml", description = "The XForm"),
    responses((status = 201, body = FormView), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem), (status = 409, body = crate::error::Problem)))]
async fn upload_form(State(s): State<AppState>, auth: Auth, Query(q): Query<UploadQuery>, body: Bytes) -> Result<(StatusCode, Json<FormView>), ApiError> {
    let area = AreaCode::parse(&q.area_code).map_err(|m| ApiError::bad_request("area_code", m))?;
    auth.require_in(Permission::FormsManage, &vigie_storage::areas::path_of(&s.db, &area, "area_code").await?)?;
    Ok((StatusCode::CREATED, Json(forms::create(&s.db, &body, &q.purpose, &area, &auth.actor()).await?)))
}

/// Forms offered in the caller's area.
#[utoipa::path(get, path = "/api/v1/forms", tag = "forms", responses((status = 200, body = Vec<FormView>), (status = 403, body = crate::error::Problem)))]
async fn list_forms(State(s): State<AppState>, auth: Auth) -> Result<Json<Vec<FormView>>, ApiError> {
    let scope = auth.scope(Permission::FormsManage)?;
    Ok(Json(forms::list_for(&s.db, &scope).await?.into_iter().map(|(f, _)| f).collect()))
}

async fn managed_form(s: &AppState, auth: &Auth, id: i64) -> Result<(FormView, XForm), ApiError> {
    // Refused before the look-up: without the permission, not even whether the form exists.
    auth.require(Permission::FormsManage, Target::AnyArea)?;
    let f = forms::get(&s.db, id).await?;
    let path = vigie_storage::areas::path_of(&s.db, &AreaCode::parse(&f.area_code).map_err(|m| ApiError::bad_request("area_code", m))?, "area_code").await?;
    auth.require_in(Permission::FormsManage, &path)?;
    let (_, bytes) = forms::xml_of(&s.db, &f.form_id, Some(&f.version)).await?;
    let form = XForm::parse(&bytes).map_err(|_| ApiError::from(Msg::Internal))?;
    Ok((f, form))
}

/// The submissions of a form this caller may read, parsed, with their ids. A submission is
/// protected when the report it became is, or when its category answer names a protected
/// category (also when no report was made); then it needs `cases.read` over its area, as a
/// protected report does (`visibility::check_report`).
pub(crate) async fn visible_submissions(s: &AppState, auth: &Auth, f: &FormView, form: &XForm) -> Result<Vec<(i64, Submission)>, ApiError> {
    let protected_codes: Vec<String> = vigie_storage::categories::list(&s.db).await?.into_iter().filter(|c| c.protected).map(|c| c.code.as_str().to_string()).collect();
    let category_field = form.find(&IncidentFields::default().category).map(|q| q.path.clone());
    let mut out = Vec::new();
    for row in forms::submissions_with_access(&s.db, f.id).await? {
        let Ok(sub) = Submission::parse(&row.xml, form) else { continue };
        let answered = category_field.as_ref().and_then(|p| sub.value(p)).map(|v| v.to_cell());
        let protected = row.report_protected || answered.is_some_and(|c| protected_codes.iter().any(|p| p.eq_ignore_ascii_case(c.trim())));
        if !protected || vigie_domain::early_warning::visibility::check_report(&auth.principal, Permission::CasesRead, true, row.area_path.as_ref()).is_ok() {
            out.push((row.id, sub));
        }
    }
    Ok(out)
}

async fn parsed_submissions(s: &AppState, auth: &Auth, f: &FormView, form: &XForm) -> Result<Vec<Submission>, ApiError> {
    Ok(visible_submissions(s, auth, f, form).await?.into_iter().map(|(_, sub)| sub).collect())
}

/// Submissions received for a form, with the report each became (or why not).
#[utoipa::path(get, path = "/api/v1/forms/{id}/submissions", tag = "forms", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<SubmissionView>), (status = 403, body = crate::error::Problem)))]
async fn form_submissions(State(s): State<AppState>, auth: Auth, Path(id): Path<i64>) -> Result<Json<Vec<SubmissionView>>, ApiError> {
    let (f, form) = managed_form(&s, &auth, id).await?;
    let visible: std::collections::HashSet<i64> = visible_submissions(&s, &auth, &f, &form).await?.into_iter().map(|(id, _)| id).collect();
    Ok(Json(forms::submissions(&s.db, id).await?.into_iter().filter(|v| visible.contains(&v.id)).collect()))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// Which table: the main one (default) or a repeat's name.
    table: Option<String>,
}

/// Submissions as CSV in ODK Central's layout (one table per repeat, joined by KEY/PARENT_KEY).
#[utoipa::path(get, path = "/api/v1/forms/{id}/export.csv", tag = "forms", params(("id" = i64, Path), ExportQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = crate::error::Problem)))]
async fn form_export(State(s): State<AppState>, auth: Auth, Path(id): Path<i64>, Query(q): Query<ExportQuery>) -> Result<Response, ApiError> {
    let (f, form) = managed_form(&s, &auth, id).await?;
    let subs = parsed_submissions(&s, &auth, &f, &form).await?;
    let tables = export_tables(&form, &subs);
    let t = match &q.table {
        None => tables.first(),
        Some(name) => tables.iter().find(|t| &t.name == name),
    }
    .ok_or(Msg::NotFound)?;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], t.to_csv()).into_response())
}

/// Submissions as an XLSX workbook: one sheet per table (main, then each repeat).
#[utoipa::path(get, path = "/api/v1/forms/{id}/export.xlsx", tag = "forms", params(("id" = i64, Path)),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>), (status = 403, body = crate::error::Problem)))]
async fn form_export_xlsx(State(s): State<AppState>, auth: Auth, Path(id): Path<i64>) -> Result<Response, ApiError> {
    let (f, form) = managed_form(&s, &auth, id).await?;
    let subs = parsed_submissions(&s, &auth, &f, &form).await?;
    let mut book = rust_xlsxwriter::Workbook::new();
    let xlsx_err = |e: rust_xlsxwriter::XlsxError| {
        tracing::error!(error = %e, "xlsx export");
        ApiError::from(Msg::Internal)
    };
    for (n, t) in export_tables(&form, &subs).iter().enumerate() {
        let sheet = book.add_worksheet();
        // Sheet names: at most 31 characters, unique.
        let name: String = format!("{n}-{}", t.name).chars().filter(|c| !"[]:*?/\\".contains(*c)).take(31).collect();
        sheet.set_name(&name).map_err(xlsx_err)?;
        for (c, col) in t.columns.iter().enumerate() {
            sheet.write_string(0, c as u16, col).map_err(xlsx_err)?;
        }
        for (r, row) in t.rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                // Strings only: a value starting with "=" is text, never a formula.
                sheet.write_string(r as u32 + 1, c as u16, v).map_err(xlsx_err)?;
            }
        }
    }
    let bytes = book.save_to_buffer().map_err(xlsx_err)?;
    Ok((
        [(header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (header::CONTENT_DISPOSITION, "attachment; filename=\"submissions.xlsx\"")],
        bytes,
    )
        .into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TallyQuery {
    /// Field holding the area (default `commune`).
    by: Option<String>,
}

/// Per-question counts of a survey, overall and by area.
#[utoipa::path(get, path = "/api/v1/forms/{id}/tally", tag = "forms", params(("id" = i64, Path), TallyQuery),
    responses((status = 200, body = Vec<Object>), (status = 403, body = crate::error::Problem)))]
async fn form_tally(State(s): State<AppState>, auth: Auth, Path(id): Path<i64>, Query(q): Query<TallyQuery>) -> Result<Json<Vec<QuestionTally>>, ApiError> {
    let (f, form) = managed_form(&s, &auth, id).await?;
    let subs = parsed_submissions(&s, &auth, &f, &form).await?;
    Ok(Json(tally(&form, &subs, Some(q.by.as_deref().unwrap_or("commune")))))
}

