//! Every error leaves as RFC 7807 `application/problem+json`, in the caller's language.
//! Handlers return [`ApiError`] (a status, a message key, the field at fault); the
//! [`localize_problems`] middleware renders it in French or English from the request.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use vigie_domain::{Invalid, Lang, LineError, Msg};
use vigie_storage::StoreError;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub msg: Msg,
    pub field: Option<String>,
    /// Line-numbered errors of an import.
    pub lines: Vec<LineError>,
    /// Several invalid fields of one request.
    pub fields: Vec<Invalid>,
}

impl ApiError {
    pub fn new(status: StatusCode, msg: Msg) -> Self {
        ApiError { status, msg, field: None, lines: Vec::new(), fields: Vec::new() }
    }
    pub fn field(mut self, f: impl Into<String>) -> Self {
        self.field = Some(f.into());
        self
    }
    pub fn bad_request(field: &str, msg: Msg) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, msg).field(field)
    }
}

impl From<Msg> for ApiError {
    fn from(msg: Msg) -> Self {
        let status = match &msg {
            Msg::NotFound => StatusCode::NOT_FOUND,
            Msg::NotAuthenticated | Msg::TokenExpired | Msg::BadCredentials | Msg::InvalidTotp => StatusCode::UNAUTHORIZED,
            Msg::AccountLocked { .. } | Msg::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Msg::Forbidden | Msg::OutsideArea | Msg::CsrfMissing => StatusCode::FORBIDDEN,
            Msg::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Msg::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Msg::Conflict | Msg::UsernameTaken | Msg::RoleExists { .. } => StatusCode::CONFLICT,
            Msg::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Msg::DatabaseUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Msg::Case(m) => case_status(m),
            _ => StatusCode::BAD_REQUEST,
        };
        ApiError::new(status, msg)
    }
}

/// The statuses of the cases engine: a move the workflow does not allow is a conflict with the
/// case's state, a missing field is unprocessable, a role that may not take the step is refused.
fn case_status(m: &vigie_domain::cases::CaseMsg) -> StatusCode {
    use vigie_domain::cases::CaseMsg::*;
    match m {
        CaseClosed { .. } | IllegalTransition { .. } => StatusCode::CONFLICT,
        TransitionForbidden { .. } => StatusCode::FORBIDDEN,
        MissingFields { .. } | UnknownState { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        ReceiptUnknown => StatusCode::NOT_FOUND,
        ReceiptLocked { .. } => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::BAD_REQUEST,
    }
}

impl From<Invalid> for ApiError {
    fn from(i: Invalid) -> Self {
        let mut e = ApiError::from(i.msg);
        if e.status.is_server_error() {
            e.status = StatusCode::BAD_REQUEST;
        }
        e.field(i.field)
    }
}

impl From<vigie_domain::access::Denied> for ApiError {
    fn from(d: vigie_domain::access::Denied) -> Self {
        ApiError::from(d.msg())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Msg::NotFound.into(),
            StoreError::Conflict(_) => Msg::Conflict.into(),
            StoreError::Invalid(i) => i.into(),
            StoreError::Lines(lines) => ApiError { status: StatusCode::UNPROCESSABLE_ENTITY, msg: Msg::InvalidCsv { reason: format!("{} error(s)", lines.len()) }, field: None, lines, fields: Vec::new() },
            StoreError::InvalidMany(mut fields) if !fields.is_empty() => {
                let first = fields.remove(0);
                let mut e = ApiError::from(first.clone());
                e.fields = std::iter::once(first).chain(fields).collect();
                e
            }
            e => {
                tracing::error!(error = %e, "storage error");
                Msg::Internal.into()
            }
        }
    }
}

/// Rendered by the middleware, which knows the language of the request.
#[derive(Debug, Clone)]
struct PendingProblem(ApiError);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut res = self.status.into_response();
        res.extensions_mut().insert(PendingProblem(self));
        res
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// `urn:vigie:problem:<key>`
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<LineProblem>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LineProblem {
    /// For imports: the line in the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    pub field: String,
    pub detail: String,
}

pub(crate) fn render(e: &ApiError, lang: Lang) -> Response {
    let key = serde_json::to_value(&e.msg).ok().and_then(|v| v.get("key").and_then(|k| k.as_str()).map(str::to_string)).unwrap_or_default();
    let title = e.status.canonical_reason().unwrap_or("Error").to_string();
    let p = Problem {
        kind: format!("urn:vigie:problem:{key}"),
        title,
        status: e.status.as_u16(),
        detail: e.msg.text(lang),
        field: e.field.clone(),
        errors: e
            .lines
            .iter()
            .map(|l| LineProblem { line: Some(l.line), field: l.field.clone(), detail: l.msg.text(lang) })
            .chain(e.fields.iter().map(|f| LineProblem { line: None, field: f.field.clone(), detail: f.msg.text(lang) }))
            .collect(),
    };
    let mut res = (e.status, axum::Json(p)).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, "application/problem+json".parse().unwrap());
    res.headers_mut().insert(header::CONTENT_LANGUAGE, lang.code().parse().unwrap());
    res
}

/// The language of a request: `?lang=`, then `Accept-Language`, then French.
pub fn request_lang(headers: &HeaderMap, query: Option<&str>) -> Lang {
    if let Some(q) = query {
        for pair in q.split('&') {
            if let Some(v) = pair.strip_prefix("lang=") {
                return Lang::parse(v);
            }
        }
    }
    headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).map(Lang::parse).unwrap_or_default()
}

pub async fn localize_problems(State(body_limit): State<usize>, req: Request, next: Next) -> Response {
    let lang = request_lang(req.headers(), req.uri().query());
    let mut res = next.run(req).await;
    if let Some(PendingProblem(mut e)) = res.extensions_mut().remove::<PendingProblem>() {
        if let Msg::BodyTooLarge { max_bytes: 0 } = e.msg {
            e.msg = Msg::BodyTooLarge { max_bytes: body_limit };
        }
        return render(&e, lang);
    }
    let status = res.status();
    let is_problem = res.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    // Web pages render their own errors as HTML in the reader's language (see `web`), and the
    // OpenRosa and SMS surfaces answer in the formats their clients expect (XML, plain text).
    let own_format = res.headers().get(header::CONTENT_TYPE).is_some_and(|v| {
        let v = v.as_bytes();
        v.starts_with(b"text/html") || v.starts_with(b"text/xml")
    });
    if (status.is_client_error() || status.is_server_error()) && !is_problem && !own_format {
        // Errors raised by axum or tower layers themselves (body limit, timeout, bad method).
        let msg = match status {
            StatusCode::PAYLOAD_TOO_LARGE => Msg::BodyTooLarge { max_bytes: body_limit },
            StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED => Msg::NotFound,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Msg::UnsupportedMediaType,
            StatusCode::REQUEST_TIMEOUT => Msg::Internal,
            s if s.is_server_error() => Msg::Internal,
            _ => return res,
        };
        return render(&ApiError::new(status, msg), lang);
    }
    res
}

/// JSON body extractor whose rejections are problems with the field at fault.
pub struct ApiJson<T>(pub T);

impl<S, T> axum::extract::FromRequest<S> for ApiJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        axum::Json::<T>::from_request(req, state).await.map(|axum::Json(v)| ApiJson(v)).map_err(json_rejection)
    }
}

/// What [`ApiJson`] does with a body once its content type was checked and its bytes read:
/// the entry point of the `api_body` fuzz target (see [`crate::fuzz`]).
pub fn decode_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    axum::Json::<T>::from_bytes(bytes).map(|axum::Json(v)| v).map_err(json_rejection)
}

fn json_rejection(e: axum::extract::rejection::JsonRejection) -> ApiError {
    use axum::extract::rejection::JsonRejection;
    match e {
        JsonRejection::MissingJsonContentType(_) => Msg::UnsupportedMediaType.into(),
        JsonRejection::JsonDataError(e) => {
            let (field, reason) = json_error_field(&e.body_text());
            let mut err = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, Msg::InvalidJson { reason });
            err.field = field;
            err
        }
        JsonRejection::JsonSyntaxError(e) => ApiError::new(StatusCode::BAD_REQUEST, Msg::InvalidJson { reason: e.body_text() }),
        JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, Msg::BodyTooLarge { max_bytes: 0 }),
        e => ApiError::new(e.status(), Msg::InvalidJson { reason: e.body_text() }),
    }
}

/// Splits axum's "…target type: grants[0].role: invalid type…" into the field path and the reason;
/// for unknown or missing fields, the field is the one named in backquotes.
fn json_error_field(text: &str) -> (Option<String>, String) {
    let detail = text.split_once("target type: ").map(|(_, d)| d).unwrap_or(text);
    if let Some((f, reason)) = detail.split_once(": ") {
        if !f.contains(' ') && f != "." {
            return (Some(f.to_string()), reason.to_string());
        }
    }
    let named = ["unknown field `", "missing field `"]
        .iter()
        .find_map(|p| detail.split_once(p).and_then(|(_, rest)| rest.split_once('`')).map(|(f, _)| f.to_string()));
    (named, detail.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn json_errors_name_their_field() {
        let (f, r) = super::json_error_field("Failed to deserialize the JSON body into the target type: grants[0].role: invalid type: integer `5`, expected a string at line 1 column 10");
        assert_eq!(f.as_deref(), Some("grants[0].role"));
        assert!(r.starts_with("invalid type"));
        let (f, _) = super::json_error_field("Failed to deserialize the JSON body into the target type: unknown field `admin`, expected one of `name`, `kind` at line 1 column 9");
        assert_eq!(f.as_deref(), Some("admin"));
        let (f, _) = super::json_error_field("Failed to deserialize the JSON body into the target type: missing field `kind` at line 1 column 9");
        assert_eq!(f.as_deref(), Some("kind"));
    }
}
