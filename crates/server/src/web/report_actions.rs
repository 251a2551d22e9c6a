//! Analyst tools on the report page, as plain forms (no JavaScript, CSRF-checked):
//! - `POST /evenements/{id}/fusion` (`autres`: event numbers) merges events into the report's event;
//! - `POST /evenements/{id}/separation` (`signalement`, repeatable) splits reports off into a new event;
//! - `POST /signalements/{id}/pieces` (multipart: `csrf`, `fichier`) attaches a photo or voice note;
//! - `GET /signalements/{id}/pieces/{piece}` downloads it (only for readers of the report).
//!
//! Access is decided exactly as in the API (`api::events::{require_events, require_attach}`,
//! `api::reports::require_report`); the forms come back with their errors on the report page.

use super::reports::{field_errors, fixable, parse_id, render_detail, DetailExtras, FieldError};
use super::{lang_of, FormPost, Page, WebError, WebResult};
use crate::api::events::{attachment_error, event_error, file_response, multipart_error, require_attach, require_events};
use crate::api::reports::require_report;
use crate::auth::{same_secret, session_auth};
use crate::error::ApiError;
use crate::AppState;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Request, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::Router;
use minijinja::{context, Value};
use vigie_domain::access::Permission;
use vigie_domain::Msg;
use vigie_storage::{attachments, events, reports};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/evenements/{id}/fusion", post(merge))
        .route("/evenements/{id}/separation", post(split))
        .route(
            "/signalements/{id}/pieces",
            post(upload).layer(DefaultBodyLimit::max(attachments::max_file_bytes() as usize + 64 * 1024)),
        )
        .route("/signalements/{id}/pieces/{piece}", get(download))
}

/// Words of these sections (looked up after the main catalogue by `i18n::t`).
pub(super) const WORDS: &[(&str, &str, &str)] = &[
    ("ew.attachments", "Pièces jointes", "Attachments"),
    ("ew.no_attachments", "Aucune pièce jointe.", "No attachments."),
    ("ew.attach", "Joindre une photo ou un enregistrement", "Attach a photo or a recording"),
    ("ew.attach_hint", "Photo JPEG, PNG ou WebP (5 Mo au plus) ; son OGG, MP3, M4A ou AMR (10 Mo au plus) ; 5 fichiers par signalement. Le type est vérifié sur le contenu du fichier.", "JPEG, PNG or WebP photo (5 MB at most); OGG, MP3, M4A or AMR audio (10 MB at most); 5 files per report. The type is checked on the file's content."),
    ("ew.attach_submit", "Envoyer le fichier", "Upload the file"),
    ("ew.attached_ok", "Fichier joint.", "File attached."),
    ("ew.grouping", "Regroupement en événements", "Grouping into events"),
    ("ew.grouping_intro", "Ce signalement fait partie de l'événement n° {event}, qui compte {count} signalement(s).", "This report belongs to event no. {event}, which holds {count} report(s)."),
    ("ew.merge", "Fusionner d'autres événements dans celui-ci", "Merge other events into this one"),
    ("ew.merge_field", "Numéros des événements à fusionner (séparés par des virgules)", "Numbers of the events to merge (comma-separated)"),
    ("ew.merge_hint", "Leurs signalements rejoignent cet événement ; aucun n'est perdu. Si l'un d'eux a une alerte en cours, elle suit.", "Their reports join this event; none is lost. If one of them has an alert under way, it follows."),
    ("ew.merge_submit", "Fusionner", "Merge"),
    ("ew.merged_ok", "Événements fusionnés.", "Events merged."),
    ("ew.split", "Séparer ce signalement", "Split this report off"),
    ("ew.split_hint", "Il forme un nouvel événement ; l'alerte éventuelle reste sur l'événement actuel.", "It becomes a new event; any alert stays with the current event."),
    ("ew.split_submit", "Séparer dans un nouvel événement", "Split into a new event"),
    ("ew.split_ok", "Signalement séparé : nouvel événement créé.", "Report split off: new event created."),
    ("ew.merged_into", "Cet événement a été fusionné dans l'événement", "This event was merged into event"),
    ("ew.split_choose", "Séparer les signalements cochés dans un nouvel événement", "Split the ticked reports into a new event"),
    ("ew.protected", "Catégorie protégée : visible seulement des personnes habilitées aux dossiers protégés.", "Protected category: visible only to people cleared for protected cases."),
];

/// What the report page shows of these tools for `r` and this reader.
pub(super) async fn detail_context(s: &AppState, page: &Page, r: &reports::ReportView, event_errors: &[FieldError], attach_errors: &[FieldError]) -> Result<Value, WebError> {
    let files: Vec<Value> = attachments::list(&s.db, r.id)
        .await?
        .into_iter()
        .map(|a| context! { id => a.id, name => a.file_name, content_type => a.content_type, size_kb => (a.size + 1023) / 1024, at => a.created_at })
        .collect();
    let can_attach = require_attach(s, &page.auth, r.id).await.is_ok();
    let event = match r.alert_id {
        Some(a) => {
            let ev = vigie_storage::alerts::get(&s.db, a).await?;
            let can_edit = require_events(s, &page.auth, &[a]).await.is_ok() && ev.merged_into.is_none();
            Some(context! { id => a, count => ev.report_ids.len(), can_edit, can_split => can_edit && ev.report_ids.len() > 1 })
        }
        None => None,
    };
    Ok(context! { files, can_attach, event, protected => r.protected, event_errors, attach_errors })
}

/// What the event (alert) page shows of these tools: where a merged event went, and the
/// merge and split forms for those who may use them.
pub(super) async fn event_context(s: &AppState, page: &Page, a: &vigie_storage::alerts::AlertView) -> Value {
    let can_edit = a.merged_into.is_none() && !a.report_ids.is_empty() && require_events(s, &page.auth, &[a.id]).await.is_ok();
    context! { merged_into => a.merged_into, can_edit, can_split => can_edit && a.report_ids.len() > 1 }
}

/// Where a form goes back to: the report it was sent from (`retour`), or none (the event page).
fn back_to(form: &FormPost) -> Result<Option<i64>, WebError> {
    match form.get("retour").trim() {
        "" => Ok(None),
        v => parse_id(v).map(Some),
    }
}

async fn merge(State(s): State<AppState>, Path(id): Path<String>, form: FormPost) -> WebResult {
    let id = parse_id(&id)?;
    let back = back_to(&form)?;
    let page = &form.page;
    let result = async {
        let mut others = Vec::new();
        for part in form.get("autres").split([',', ';', ' ']).map(|p| p.trim().trim_start_matches(['n', '°', '#'])).filter(|p| !p.is_empty()) {
            others.push(part.parse::<i64>().map_err(|_| ApiError::bad_request("other_event_ids", Msg::InvalidName))?);
        }
        if others.is_empty() {
            return Err(ApiError::bad_request("other_event_ids", Msg::Required));
        }
        let mut ids = vec![id];
        ids.extend(others.iter().take(events::MAX_MERGE + 1));
        require_events(&s, &page.auth, &ids).await?;
        events::merge(&s.db, id, &others, &page.auth.actor(), s.now()).await.map_err(event_error)
    }
    .await;
    match (result, back) {
        (Ok(_), Some(back)) => Ok(Redirect::to(&format!("/signalements/{back}?fait=fusion#evenement")).into_response()),
        (Ok(_), None) => Ok(Redirect::to(&format!("/alertes/{id}#h-reports")).into_response()),
        (Err(e), Some(back)) if fixable(&e) => {
            render_detail(&s, page, back, DetailExtras::tools_errors(e.status, field_errors(&e, page.lang), Vec::new())).await
        }
        (Err(e), _) => Err(e.into()),
    }
}

async fn split(State(s): State<AppState>, Path(id): Path<String>, form: FormPost) -> WebResult {
    let id = parse_id(&id)?;
    let back = back_to(&form)?;
    let page = &form.page;
    let result = async {
        let ids: Vec<i64> = form.all("signalement").iter().filter_map(|v| v.trim().parse().ok()).collect();
        require_events(&s, &page.auth, &[id]).await?;
        events::split(&s.db, id, &ids, &page.auth.actor(), s.now()).await.map_err(event_error)
    }
    .await;
    match (result, back) {
        (Ok(_), Some(back)) => Ok(Redirect::to(&format!("/signalements/{back}?fait=separation#evenement")).into_response()),
        (Ok(out), None) => Ok(Redirect::to(&format!("/alertes/{}#h-reports", out.new_event.id)).into_response()),
        (Err(e), Some(back)) if fixable(&e) => {
            render_detail(&s, page, back, DetailExtras::tools_errors(e.status, field_errors(&e, page.lang), Vec::new())).await
        }
        (Err(e), _) => Err(e.into()),
    }
}

/// The signed-in reader of a multipart form (whose CSRF field is checked once it is read).
pub(super) async fn multipart_page(parts: &axum::http::request::Parts, s: &AppState) -> Result<Page, WebError> {
    let (auth, csrf) = session_auth(s, &parts.headers).await?;
    let display_name = vigie_storage::users::get(&s.db, auth.principal.user_id).await.map(|u| u.display_name).unwrap_or_else(|_| auth.principal.username.clone());
    let path = parts.uri.path().to_string();
    Ok(Page { auth, csrf, lang: lang_of(&parts.headers), path, display_name })
}

async fn upload(State(s): State<AppState>, Path(id): Path<String>, req: Request) -> WebResult {
    let id = parse_id(&id)?;
    let (parts, body) = req.into_parts();
    let page = multipart_page(&parts, &s).await?;
    let mut multipart = Multipart::from_request(Request::from_parts(parts, body), &s)
        .await
        .map_err(|_| WebError(ApiError::new(axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE, Msg::UnsupportedMediaType)))?;
    let mut csrf = String::new();
    let mut file: Option<(String, String, axum::body::Bytes)> = None;
    let read = async {
        while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
            match field.name() {
                Some("csrf") => csrf = field.text().await.map_err(multipart_error)?,
                Some("fichier") => {
                    let name = field.file_name().unwrap_or("").to_string();
                    let ct = field.content_type().unwrap_or("").to_string();
                    file = Some((name, ct, field.bytes().await.map_err(multipart_error)?));
                }
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
    let result = async {
        read?;
        require_attach(&s, &page.auth, id).await?;
        let (name, ct, bytes) = file.filter(|f| !f.2.is_empty()).ok_or_else(|| ApiError::bad_request("file", Msg::Required))?;
        attachments::add(&s.db, id, &name, &ct, &bytes, &page.auth.actor(), s.now()).await.map_err(attachment_error)
    }
    .await;
    match result {
        Ok(_) => {
            // A focal point who may not read reports goes back to the form.
            let to = if readable(&s, &page, id).await { format!("/signalements/{id}?fait=piece#pieces") } else { "/signalements/nouveau".to_string() };
            Ok(Redirect::to(&to).into_response())
        }
        Err(e) if e.status.is_client_error() && e.status != axum::http::StatusCode::FORBIDDEN && e.status != axum::http::StatusCode::NOT_FOUND && readable(&s, &page, id).await => {
            render_detail(&s, &page, id, DetailExtras::tools_errors(e.status, Vec::new(), field_errors(&e, page.lang))).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn readable(s: &AppState, page: &Page, id: i64) -> bool {
    reports::get(&s.db, id).await.ok().is_some_and(|r| require_report(&page.auth, Permission::ReportsRead, &r).is_ok())
}

async fn download(State(s): State<AppState>, page: Page, Path((id, piece)): Path<(String, String)>) -> WebResult {
    let (id, piece) = (parse_id(&id)?, parse_id(&piece)?);
    let r = reports::get(&s.db, id).await?;
    require_report(&page.auth, Permission::ReportsRead, &r)?;
    let (v, bytes) = attachments::get(&s.db, id, piece).await?;
    Ok(file_response(&v, bytes))
}

#[cfg(test)]
mod tests {
    #[test]
    fn words_are_unique_translated_and_new() {
        let mut seen = std::collections::HashSet::new();
        for (k, fr, en) in super::WORDS {
            assert!(seen.insert(*k), "duplicate key {k}");
            assert!(!fr.is_empty() && !en.is_empty() && fr != en, "{k}");
            assert!(k.starts_with("ew."), "{k}: keep this module's words under ew.");
        }
    }
}
