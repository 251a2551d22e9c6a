//! `/api/v1/events/{id}/merge|split`: an analyst corrects the grouping of reports into events,
//! and `/api/v1/reports/{id}/attachments`: photos and voice notes of a report.
//! An event is an alert record (`/api/v1/alerts/{id}`); ids are shared.

use super::reports::require_report;
use crate::auth::Auth;
use crate::error::{ApiError, ApiJson};
use crate::AppState;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};
use vigie_domain::access::{Permission, Target};
use vigie_domain::early_warning::EwMsg;
use vigie_domain::Msg;
use vigie_storage::attachments::{self, AttachmentView};
use vigie_storage::events::{self, MergeOutcome, SplitOutcome};
use vigie_storage::{reports, StoreError};

pub fn router() -> OpenApiRouter<AppState> {
    let uploads = OpenApiRouter::new()
        .routes(routes!(list_attachments, upload_attachment))
        // One file of the largest kind, and the multipart envelope around it.
        .layer(DefaultBodyLimit::max(attachments::max_file_bytes() as usize + 64 * 1024));
    OpenApiRouter::new().routes(routes!(merge_events)).routes(routes!(split_event)).routes(routes!(download_attachment)).merge(uploads)
}

/// Merge and split refusals that depend on the events' state are conflicts.
pub(crate) fn event_error(e: StoreError) -> ApiError {
    let mut err = ApiError::from(e);
    if let Msg::Ew(m) = &err.msg {
        if matches!(**m, EwMsg::MergeTwoRaisedAlerts { .. } | EwMsg::EventFinished { .. } | EwMsg::EventMerged { .. }) {
            err.status = StatusCode::CONFLICT;
        }
    }
    err
}

/// The caller must be able to verify reports over the area of every event touched.
pub(crate) async fn require_events(s: &AppState, auth: &Auth, ids: &[i64]) -> Result<(), ApiError> {
    auth.require(Permission::ReportsVerify, Target::AnyArea)?;
    for (_, path) in events::area_paths(&s.db, ids).await? {
        match path {
            Some(p) => auth.require_in(Permission::ReportsVerify, &p)?,
            None => auth.require(Permission::ReportsVerify, Target::Global)?,
        }
    }
    Ok(())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeBody {
    /// Events whose reports move into this one (at most 50).
    other_event_ids: Vec<i64>,
}

/// Merge other events into this one: their reports move here, none is dropped; if one of them
/// carries a raised alert, its lifecycle (escalation, deadlines, actions) comes along. Two raised
/// alerts are not merged (409), nor finished events. The absorbed events keep their history,
/// marked `merged_into`, and commands sent to them are forwarded here.
#[utoipa::path(post, path = "/api/v1/events/{id}/merge", tag = "early-warning", params(("id" = i64, Path)), request_body = MergeBody,
    responses((status = 200, body = MergeOutcome), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem)))]
async fn merge_events(State(s): State<AppState>, auth: Auth, Path(id): Path<i64>, ApiJson(b): ApiJson<MergeBody>) -> Result<Json<MergeOutcome>, ApiError> {
    let mut ids = vec![id];
    ids.extend(b.other_event_ids.iter().take(events::MAX_MERGE + 1));
    require_events(&s, &auth, &ids).await?;
    Ok(Json(events::merge(&s.db, id, &b.other_event_ids, &auth.actor(), s.now()).await.map_err(event_error)?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SplitBody {
    /// Reports of this event that belong to another event; at least one must stay.
    report_ids: Vec<i64>,
}

/// Split reports off this event into a new one (`reported`, or `verified` if one of them was);
/// this event keeps its alert.
#[utoipa::path(post, path = "/api/v1/events/{id}/split", tag = "early-warning", params(("id" = i64, Path)), request_body = SplitBody,
    responses((status = 201, body = SplitOutcome), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem)))]
async fn split_event(State(s): State<AppState>, auth: Auth, Path(id): Path<i64>, ApiJson(b): ApiJson<SplitBody>) -> Result<(StatusCode, Json<SplitOutcome>), ApiError> {
    require_events(&s, &auth, &[id]).await?;
    let out = events::split(&s.db, id, &b.report_ids, &auth.actor(), s.now()).await.map_err(event_error)?;
    Ok((StatusCode::CREATED, Json(out)))
}

// ---- Attachments ----

/// May the caller attach files to this report? Analysts over its area, and the account that
/// sent it (a focal point adding the photo they could not send with the form).
pub(crate) async fn require_attach(s: &AppState, auth: &Auth, id: i64) -> Result<(), ApiError> {
    // Refused before the look-up: without either permission, not even whether the report
    // exists; a focal point (own reports only) gets the same 403 for a missing one.
    auth.require(Permission::ReportsVerify, Target::AnyArea).or_else(|_| auth.require(Permission::ReportsCreate, Target::AnyArea))?;
    let r = match reports::get(&s.db, id).await {
        Ok(r) => r,
        Err(StoreError::NotFound) => {
            auth.require(Permission::ReportsVerify, Target::AnyArea)?;
            return Err(StoreError::NotFound.into());
        }
        Err(e) => return Err(e.into()),
    };
    if require_report(auth, Permission::ReportsVerify, &r).is_ok() {
        return Ok(());
    }
    let own = reports::sender_user(&s.db, id).await? == Some(auth.principal.user_id);
    match r.area() {
        Some(p) if own => auth.require_in(Permission::ReportsCreate, &p),
        None if own => auth.require(Permission::ReportsCreate, Target::AnyArea),
        _ => require_report(auth, Permission::ReportsVerify, &r),
    }
}

/// A refused upload: too large is 413, a type we do not take or that the bytes contradict is 415.
pub(crate) fn attachment_error(e: StoreError) -> ApiError {
    let mut err = ApiError::from(e);
    if let Msg::Ew(m) = &err.msg {
        err.status = match **m {
            EwMsg::AttachmentTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            EwMsg::UnsupportedAttachmentType { .. } | EwMsg::AttachmentContentMismatch { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            EwMsg::TooManyAttachments { .. } => StatusCode::CONFLICT,
            _ => err.status,
        };
    }
    err
}

/// A multipart read that failed: over the size limit, or broken.
pub(crate) fn multipart_error(e: axum::extract::multipart::MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, EwMsg::AttachmentTooLarge { max_bytes: attachments::max_file_bytes() }.into()).field("file")
    } else {
        ApiError::new(StatusCode::BAD_REQUEST, Msg::InvalidJson { reason: e.body_text() }).field("file")
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct UploadForm {
    /// The photo (JPEG, PNG, WebP, 5 MB) or voice note (OGG/Opus, MP3, M4A, AMR, 10 MB). The type
    /// is read from the file's first bytes; a declared type that disagrees is refused.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// Attach a photo or voice note to a report (multipart, field `file`; at most 5 per report).
#[utoipa::path(post, path = "/api/v1/reports/{id}/attachments", tag = "early-warning", params(("id" = i64, Path)),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, body = AttachmentView), (status = 403, body = crate::error::Problem), (status = 409, body = crate::error::Problem),
        (status = 413, body = crate::error::Problem), (status = 415, body = crate::error::Problem)))]
async fn upload_attachment(State(s): State<AppState>, auth: Auth, Path(id): Path<i64>, mut multipart: Multipart) -> Result<(StatusCode, Json<AttachmentView>), ApiError> {
    require_attach(&s, &auth, id).await?;
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().unwrap_or("").to_string();
        let declared = field.content_type().unwrap_or("").to_string();
        let bytes = field.bytes().await.map_err(multipart_error)?;
        let v = attachments::add(&s.db, id, &name, &declared, &bytes, &auth.actor(), s.now()).await.map_err(attachment_error)?;
        return Ok((StatusCode::CREATED, Json(v)));
    }
    Err(ApiError::bad_request("file", Msg::Required))
}

/// A report's attachments (without their bytes).
#[utoipa::path(get, path = "/api/v1/reports/{id}/attachments", tag = "early-warning", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<AttachmentView>), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
async fn list_attachments(State(s): State<AppState>, auth: Auth, Path(id): Path<i64>) -> Result<Json<Vec<AttachmentView>>, ApiError> {
    auth.require(Permission::ReportsRead, Target::AnyArea)?;
    let r = reports::get(&s.db, id).await?;
    require_report(&auth, Permission::ReportsRead, &r)?;
    Ok(Json(attachments::list(&s.db, id).await?))
}

/// The file itself, to those who may read the report; always as a download, never inline.
pub(crate) fn file_response(v: &AttachmentView, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, v.content_type.clone()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{}\"", v.file_name)),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
            (header::HeaderName::from_static("x-content-sha256"), v.sha256.clone()),
        ],
        bytes,
    )
        .into_response()
}

/// Download one attachment (only for those who may read the report).
#[utoipa::path(get, path = "/api/v1/reports/{id}/attachments/{attachment_id}", tag = "early-warning", params(("id" = i64, Path), ("attachment_id" = i64, Path)),
    responses((status = 200, description = "The file, with its checked type"), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
async fn download_attachment(State(s): State<AppState>, auth: Auth, Path((id, attachment_id)): Path<(i64, i64)>) -> Result<Response, ApiError> {
    auth.require(Permission::ReportsRead, Target::AnyArea)?;
    let r = reports::get(&s.db, id).await?;
    require_report(&auth, Permission::ReportsRead, &r)?;
    let (v, bytes) = attachments::get(&s.db, id, attachment_id).await?;
    Ok(file_response(&v, bytes))
}
