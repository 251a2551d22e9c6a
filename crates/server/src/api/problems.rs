//! The error answers of the OpenAPI document, made true for every operation: any operation may
//! answer a problem document (RFC 7807, `application/problem+json`) for a malformed request,
//! a missing or expired credential, a refusal, an unknown record, a body too large or of the wrong
//! type, invalid fields or a rate limit. Handlers document the answers they mean; this adds the
//! ones every handler can give through the shared extractors and layers, and states the media
//! type the server really sends (schemathesis checks both against live answers).

use serde_json::{json, Value};

const COMMON: &[(&str, &str)] = &[
    ("400", "Requête invalide / Bad request"),
    ("401", "Non authentifié ou jeton expiré / Not authenticated or token expired"),
    ("403", "Refusé (rôle, zone, CSRF) / Forbidden (role, area, CSRF)"),
    ("404", "Introuvable / Not found"),
    ("408", "Délai dépassé / Request timeout"),
    ("409", "Conflit / Conflict"),
    ("413", "Corps trop grand / Body too large"),
    ("415", "Type de contenu non pris en charge / Unsupported media type"),
    ("422", "Champs invalides / Invalid fields"),
    ("429", "Trop de tentatives / Too many attempts"),
];

/// Rewrites the generated document (as JSON): problem responses as `application/problem+json`,
/// and the common error answers added where an operation does not list them.
pub fn document(doc: &utoipa::openapi::OpenApi) -> Value {
    let mut v = serde_json::to_value(doc).expect("the OpenAPI document serialises");
    let Some(paths) = v.get_mut("paths").and_then(Value::as_object_mut) else { return v };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else { continue };
        for (method, op) in item.iter_mut() {
            if !matches!(method.as_str(), "get" | "post" | "put" | "patch" | "delete" | "head") {
                continue;
            }
            let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else { continue };
            for r in responses.values_mut() {
                let Some(content) = r.get_mut("content").and_then(Value::as_object_mut) else { continue };
                let is_problem = content
                    .get("application/json")
                    .and_then(|c| c.pointer("/schema/$ref"))
                    .and_then(Value::as_str)
                    .is_some_and(|s| s.ends_with("/Problem") || s.ends_with("/LineProblem"));
                if is_problem {
                    let c = content.remove("application/json").expect("checked");
                    content.insert("application/problem+json".into(), c);
                }
            }
            for (status, text) in COMMON {
                responses.entry(status.to_string()).or_insert_with(|| {
                    json!({"description": text, "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}})
                });
            }
        }
    }
    v
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_operation_documents_problems_with_their_media_type() {
        let (_, doc) = super::super::router().split_for_parts();
        let v = super::document(&doc);
        let text = v.to_string();
        assert!(!text.contains(r##""application/json":{"schema":{"$ref":"#/components/schemas/Problem"}}"##));
        for (path, item) in v["paths"].as_object().unwrap() {
            for (m, op) in item.as_object().unwrap() {
                assert!(op["responses"]["401"]["content"]["application/problem+json"].is_object(), "{m} {path}");
            }
        }
    }
}

/// axum's own rejections (a path parameter that is not a number, a missing body…) answer in
/// plain text; under `/api/` they become problem documents like every other error, as the
/// document says.
pub async fn plain_rejections_as_problems(req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    use axum::http::header::CONTENT_TYPE;
    use axum::response::IntoResponse;
    let api = req.uri().path().starts_with("/api/");
    let res = next.run(req).await;
    let plain = res.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/plain"));
    if !api || !plain || !res.status().is_client_error() {
        return res;
    }
    let status = res.status();
    let body = axum::body::to_bytes(res.into_body(), 4096).await.unwrap_or_default();
    let reason = String::from_utf8_lossy(&body).chars().take(300).collect::<String>();
    crate::error::ApiError::new(status, vigie_domain::Msg::InvalidJson { reason }).into_response()
}
