//! `/api/v1/public`: what anyone may do without an account. A citizen submits a denunciation
//! and gets a receipt code once; with that code (sent in the JSON body, never in a URL, where
//! proxies and browser histories would keep it) they read the public status and the handlers'
//! questions, answer them and add evidence. Nothing else: no field of the case, no handler.
//!
//! Protection of the sources: the client address is used only as a keyed blind index (for the
//! lockout after repeated failed codes and the submission rate limit), stored only in that
//! form and forgotten after a day; neither the address nor the user agent of a submitter is
//! stored or logged. Every refusal is audit-logged, with its reason only.
//!
//! And the transparency page: counts of published outcomes, through the domain's small-count
//! suppression, so that no count below k = 5 is ever shown.

use crate::error::{request_lang, ApiError, ApiJson};
use crate::AppState;
use axum::extract::{FromRequestParts, State};
use axum::http::{request::Parts, HeaderMap, StatusCode, Uri};
use axum::Json;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa_axum::{router::OpenApiRouter, routes};
use vigie_domain::area::AreaCode;
use vigie_domain::cases::{suppress, LockoutDecision, LockoutPolicy, MinCount, ReceiptCode};
use vigie_domain::Msg;
use vigie_storage::audit::Actor;
use vigie_storage::cases::{self, EvidenceView, HolderView, NewCase, PURPOSE_RECEIPT, PURPOSE_SUBMISSION};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(submit_denunciation))
        .routes(routes!(receipt_status))
        .routes(routes!(receipt_answer))
        .routes(routes!(receipt_evidence))
        .routes(routes!(transparency))
}

/// Lockout after failed receipt codes: the domain's default (5 failures in an hour lock the
/// source for an hour).
fn receipt_policy() -> LockoutPolicy {
    LockoutPolicy::default()
}

/// Public submissions: at most 10 an hour from one source.
fn submission_policy() -> LockoutPolicy {
    LockoutPolicy::new(10, 60, 60).expect("valid policy")
}

/// Where a public request comes from, as a blind index only.
pub struct Source(Option<std::net::SocketAddr>);

impl<S: Send + Sync> FromRequestParts<S> for Source {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Ok(Source(parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0)))
    }
}

impl Source {
    fn index(&self, s: &AppState) -> Result<String, ApiError> {
        // The port is left out: it changes with every connection.
        let ip = self.0.map(|a| a.ip().to_string()).unwrap_or_else(|| "unknown".into());
        Ok(cases::source_index(&s.db, &ip)?)
    }
}

fn locked(minutes: i64) -> ApiError {
    ApiError::from(Msg::from(vigie_domain::cases::CaseMsg::ReceiptLocked { minutes }))
}

/// The case a receipt code opens, or a refusal (locked out, malformed, unknown), audit-logged.
/// Only unknown codes count as failures: a typo is caught by the check digit and costs the
/// holder nothing, while it gives a guesser nothing either.
pub(crate) async fn holder_case(s: &AppState, src: &Source, code: &str) -> Result<i64, ApiError> {
    let now = s.now();
    let index = src.index(s)?;
    let policy = receipt_policy();
    if let LockoutDecision::Refuse { minutes, .. } = cases::lockout(&s.db, &index, PURPOSE_RECEIPT, &policy, now).await? {
        cases::audit_refusal(&s.db, "receipt", "locked_out").await?;
        return Err(locked(minutes));
    }
    let code = match ReceiptCode::parse(code) {
        Ok(c) => c,
        Err(m) => {
            cases::audit_refusal(&s.db, "receipt", "malformed").await?;
            return Err(ApiError::from(Msg::from(m)).field("code"));
        }
    };
    match cases::by_receipt(&s.db, &code).await? {
        Some(id) => Ok(id),
        None => {
            let after = cases::record_failure(&s.db, &index, PURPOSE_RECEIPT, &policy, now).await?;
            cases::audit_refusal(&s.db, "receipt", "unknown_code").await?;
            match after {
                LockoutDecision::Refuse { minutes, .. } => Err(locked(minutes)),
                LockoutDecision::Allow => Err(ApiError::from(Msg::from(vigie_domain::cases::CaseMsg::ReceiptUnknown)).field("code")),
            }
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Denunciation {
    /// Where it happened: the area code (cercle or commune) the form's picker gives.
    pub(crate) area_code: String,
    /// The locality in the citizen's words.
    pub(crate) locality: String,
    /// The administration concerned (customs, police, town hall…).
    pub(crate) administration: String,
    /// What happened. Kept verbatim, encrypted.
    pub(crate) facts: String,
    /// Officials implicated. Encrypted.
    pub(crate) alleged_officials: Option<String>,
    /// Optional: the citizen may stay anonymous. Encrypted.
    pub(crate) reporter_name: Option<String>,
    /// Optional. Encrypted.
    pub(crate) reporter_phone: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Receipt {
    /// 28 digits in groups of 4. Shown only now: Vigie cannot find it again.
    receipt: String,
    notice_fr: String,
    notice_en: String,
}

/// Submit a corruption denunciation, anonymously if you wish. The answer holds your receipt
/// code, shown once: keep it to follow your denunciation. No address or browser detail of
/// yours is stored.
#[utoipa::path(post, path = "/api/v1/public/denunciations", tag = "public", security(()), request_body = Denunciation,
    responses((status = 201, body = Receipt), (status = 400, body = crate::error::Problem), (status = 422, body = crate::error::Problem), (status = 429, body = crate::error::Problem)))]
async fn submit_denunciation(State(s): State<AppState>, src: Source, ApiJson(b): ApiJson<Denunciation>) -> Result<(StatusCode, Json<Receipt>), ApiError> {
    let receipt = denounce(&s, &src, b).await?;
    Ok((
        StatusCode::CREATED,
        Json(Receipt {
            receipt,
            notice_fr: "Notez ce code maintenant : il ne sera plus jamais affiché. Il permet de suivre votre dénonciation et de répondre aux questions.".into(),
            notice_en: "Write this code down now: it will never be shown again. It lets you follow your denunciation and answer questions.".into(),
        }),
    ))
}

/// Opens the denunciation case under the submission rate limit; returns the receipt code.
/// Shared by the API and the web form, so both follow the same rules.
pub(crate) async fn denounce(s: &AppState, src: &Source, b: Denunciation) -> Result<String, ApiError> {
    let now = s.now();
    let index = src.index(s)?;
    let policy = submission_policy();
    if let LockoutDecision::Refuse { .. } = cases::lockout(&s.db, &index, PURPOSE_SUBMISSION, &policy, now).await? {
        cases::audit_refusal(&s.db, "denunciation", "rate_limited").await?;
        return Err(Msg::RateLimited.into());
    }
    let area = match AreaCode::parse(&b.area_code) {
        Ok(a) => a,
        Err(m) => {
            cases::audit_refusal(&s.db, "denunciation", "invalid").await?;
            return Err(ApiError::bad_request("area_code", m));
        }
    };
    let administration = b.administration.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut fields = Map::new();
    for (k, v) in [
        ("locality", Some(b.locality)),
        ("administration", Some(administration.clone())),
        ("facts", Some(b.facts)),
        ("alleged_officials", b.alleged_officials),
        ("reporter_name", b.reporter_name),
        ("reporter_phone", b.reporter_phone),
    ] {
        if let Some(v) = v.filter(|v| !v.trim().is_empty()) {
            fields.insert(k.into(), Value::String(v));
        }
    }
    let title: String = format!("Dénonciation – {administration}").chars().take(200).collect();
    let new = NewCase { workflow: "denunciation".into(), area, desk_org_id: None, title, fields, report_id: None };
    let opened = match cases::create(&s.db, new, None, &Actor::system("public_intake"), now).await {
        Ok(o) => o,
        Err(e) => {
            cases::audit_refusal(&s.db, "denunciation", "invalid").await?;
            return Err(e.into());
        }
    };
    cases::record_failure(&s.db, &index, PURPOSE_SUBMISSION, &policy, now).await?;
    Ok(opened.receipt)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiptBody {
    /// The receipt code (spaces and dashes ignored).
    code: String,
}

/// The public status of the case a receipt code opens, and the handlers' questions and your
/// answers. Repeated unknown codes lock the source out for a while.
#[utoipa::path(post, path = "/api/v1/public/receipt/status", tag = "public", security(()), request_body = ReceiptBody,
    responses((status = 200, body = HolderView), (status = 400, body = crate::error::Problem), (status = 404, body = crate::error::Problem), (status = 429, body = crate::error::Problem)))]
async fn receipt_status(State(s): State<AppState>, src: Source, ApiJson(b): ApiJson<ReceiptBody>) -> Result<Json<HolderView>, ApiError> {
    let id = holder_case(&s, &src, &b.code).await?;
    Ok(Json(cases::holder_view(&s.db, id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerBody {
    code: String,
    body: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AnswerCreated {
    id: i64,
}

/// Answer the handlers (or tell them more).
#[utoipa::path(post, path = "/api/v1/public/receipt/answer", tag = "public", security(()), request_body = AnswerBody,
    responses((status = 201, body = AnswerCreated), (status = 400, body = crate::error::Problem), (status = 404, body = crate::error::Problem), (status = 429, body = crate::error::Problem)))]
async fn receipt_answer(State(s): State<AppState>, src: Source, ApiJson(b): ApiJson<AnswerBody>) -> Result<(StatusCode, Json<AnswerCreated>), ApiError> {
    let id = holder_case(&s, &src, &b.code).await?;
    let mid = cases::holder_answer(&s.db, id, &b.body, s.now()).await?;
    Ok((StatusCode::CREATED, Json(AnswerCreated { id: mid })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvidenceBody {
    code: String,
    /// The file's name: a bare name (no path, no leading dot); stored sanitised.
    file_name: String,
    /// image/jpeg, image/png, image/webp, audio/ogg, audio/mpeg, audio/mp4, audio/amr; checked
    /// against the bytes.
    content_type: String,
    /// The file, base64 (at most 1 MiB once decoded).
    content_base64: String,
}

/// Add a piece of evidence (photo, voice note) to your case. Encrypted at rest.
#[utoipa::path(post, path = "/api/v1/public/receipt/evidence", tag = "public", security(()), request_body = EvidenceBody,
    responses((status = 201, body = EvidenceView), (status = 400, body = crate::error::Problem), (status = 413, body = crate::error::Problem), (status = 429, body = crate::error::Problem)))]
async fn receipt_evidence(State(s): State<AppState>, src: Source, ApiJson(b): ApiJson<EvidenceBody>) -> Result<(StatusCode, Json<EvidenceView>), ApiError> {
    let id = holder_case(&s, &src, &b.code).await?;
    let max = cases::MAX_EVIDENCE_BYTES as usize;
    // Refuse before decoding anything large.
    if b.content_base64.len() > max.div_ceil(3) * 4 + 4 {
        cases::audit_refusal(&s.db, "evidence", "too_large").await?;
        return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, Msg::BodyTooLarge { max_bytes: max }).field("content_base64"));
    }
    let bytes = base64::engine::general_purpose::STANDARD.decode(b.content_base64.trim()).map_err(|e| ApiError::bad_request("content_base64", Msg::InvalidJson { reason: e.to_string() }))?;
    let e = add_holder_evidence(&s, id, &b.file_name, &b.content_type, &bytes, "content_base64").await?;
    Ok((StatusCode::CREATED, Json(e)))
}

/// Adds the receipt holder's file to case `id` (type sniffed from its bytes, sealed at rest by
/// `cases::add_evidence`); a refusal stores nothing and is audit-logged with its reason only.
/// Shared by the API and the follow-up page; `field` names the file in the caller's terms.
pub(crate) async fn add_holder_evidence(s: &AppState, id: i64, file_name: &str, content_type: &str, bytes: &[u8], field: &str) -> Result<EvidenceView, ApiError> {
    let max = cases::MAX_EVIDENCE_BYTES as usize;
    if bytes.len() > max {
        cases::audit_refusal(&s.db, "evidence", "too_large").await?;
        return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, Msg::BodyTooLarge { max_bytes: max }).field(field));
    }
    match cases::add_evidence(&s.db, id, file_name, content_type, bytes, &Actor::system("receipt_holder"), s.now()).await {
        Ok(e) => Ok(e),
        Err(e) => {
            cases::audit_refusal(&s.db, "evidence", "invalid").await?;
            Err(e.into())
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TransparencyRow {
    locality: String,
    administration: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TransparencyColumn {
    case_type: String,
    outcome: String,
}

/// Published outcomes, as counts that cannot single anyone out.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Transparency {
    /// No count below k is shown.
    k: u64,
    /// True when no safe table could be made: nothing is shown.
    withheld: bool,
    rows: Vec<TransparencyRow>,
    columns: Vec<TransparencyColumn>,
    /// Numbers, "<k" (1 to k-1) or "hidden" (withheld so a small count cannot be derived).
    cells: Vec<Vec<String>>,
    row_totals: Vec<String>,
    column_totals: Vec<String>,
    grand_total: String,
    note: String,
}

/// The transparency page: published outcomes by locality, administration, case type and
/// outcome. Counts below 5 show as "<5", and further counts are hidden so they cannot be
/// worked out from the totals.
#[utoipa::path(get, path = "/api/v1/public/transparency", tag = "public", security(()),
    responses((status = 200, body = Transparency)))]
async fn transparency(State(s): State<AppState>, headers: HeaderMap, uri: Uri) -> Result<Json<Transparency>, ApiError> {
    let lang = request_lang(&headers, uri.query());
    let k = MinCount::default();
    let mut table = suppress(&cases::published_counts(&s.db).await?, k);
    if table.withheld {
        // Not even the row and column labels: they would say where cases exist.
        table.rows.clear();
        table.cols.clear();
        table.cells.clear();
        table.row_totals.clear();
        table.col_totals.clear();
    }
    let txt = |p: &vigie_domain::cases::Published| p.text(k, lang);
    Ok(Json(Transparency {
        k: k.get(),
        withheld: table.withheld,
        rows: table.rows.iter().map(|(l, a)| TransparencyRow { locality: l.clone(), administration: a.clone() }).collect(),
        columns: table.cols.iter().map(|(c, o)| TransparencyColumn { case_type: c.clone(), outcome: o.clone() }).collect(),
        cells: table.cells.iter().map(|r| r.iter().map(&txt).collect()).collect(),
        row_totals: table.row_totals.iter().map(&txt).collect(),
        column_totals: table.col_totals.iter().map(&txt).collect(),
        grand_total: txt(&table.grand_total),
        note: table.note(lang),
    }))
}
