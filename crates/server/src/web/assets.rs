//! Static files under `/static/<version>/…`, compiled into the binary (no npm, no CDN at run time).
//! `<version>` is a hash of all of them, so they can be cached for a year: a new build changes
//! every URL. Gzip is applied by the web router's compression layer.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::OnceLock;

/// (path under /static/<version>/, content type, bytes)
const FILES: &[(&str, &str, &[u8])] = &[
    ("app.css", "text/css; charset=utf-8", include_bytes!("../../assets/app.css")),
    ("results.css", "text/css; charset=utf-8", include_bytes!("../../assets/results.css")),
    ("map.js", "text/javascript; charset=utf-8", include_bytes!("../../assets/map.js")),
    ("vendor/leaflet/leaflet.js", "text/javascript; charset=utf-8", include_bytes!("../../assets/vendor/leaflet/leaflet.js")),
    ("vendor/leaflet/leaflet.css", "text/css; charset=utf-8", include_bytes!("../../assets/vendor/leaflet/leaflet.css")),
    ("vendor/leaflet/images/layers.png", "image/png", include_bytes!("../../assets/vendor/leaflet/images/layers.png")),
    ("vendor/leaflet/images/layers-2x.png", "image/png", include_bytes!("../../assets/vendor/leaflet/images/layers-2x.png")),
    ("vendor/leaflet/images/marker-icon.png", "image/png", include_bytes!("../../assets/vendor/leaflet/images/marker-icon.png")),
    ("vendor/leaflet/images/marker-icon-2x.png", "image/png", include_bytes!("../../assets/vendor/leaflet/images/marker-icon-2x.png")),
    ("vendor/leaflet/images/marker-shadow.png", "image/png", include_bytes!("../../assets/vendor/leaflet/images/marker-shadow.png")),
    ("reports-map.js", "text/javascript; charset=utf-8", include_bytes!("../../assets/reports-map.js")),
    ("choropleth.js", "text/javascript; charset=utf-8", include_bytes!("../../assets/choropleth.js")),
];

/// Short hash of every static file.
pub fn version() -> &'static str {
    static V: OnceLock<String> = OnceLock::new();
    V.get_or_init(|| {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for (p, _, b) in FILES {
            h.update(p.as_bytes());
            h.update(b);
        }
        hex::encode(&h.finalize()[..6])
    })
}

/// The URL of a static file, for templates: `asset("app.css")`.
pub fn url(path: &str) -> String {
    format!("/static/{}/{path}", version())
}

pub async fn serve(Path((v, path)): Path<(String, String)>) -> Response {
    let Some((_, ctype, bytes)) = FILES.iter().find(|(p, _, _)| *p == path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    // An old version's URL still gets today's file, but must not be cached for long.
    let cache = if v == version() { "public, max-age=31536000, immutable" } else { "no-cache" };
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    res
}
