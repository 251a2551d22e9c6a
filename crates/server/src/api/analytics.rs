//! `/api/v1/analytics/…` and the report exports: figures that stay fast at millions of reports
//! (read from the pre-aggregated counters, see `vigie_storage::counters`), and exports that
//! stream — the first byte leaves at once and memory stays flat, however many reports.

use super::reports::list_scope;
use super::ApiQuery;
use crate::auth::Auth;
use crate::error::ApiError;
use crate::AppState;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};
use vigie_domain::area::AreaLevel;
use vigie_domain::Msg;
use vigie_storage::analytics::{self, AreaMonthCount};
use vigie_storage::reports::ReportView;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(report_counts)).routes(routes!(export_csv)).routes(routes!(export_xlsx))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CountsQuery {
    /// Level to count by: country, region (default), cercle, commune.
    level: Option<String>,
    /// First month, `YYYY-MM` (default: 11 months before `to`).
    from: Option<String>,
    /// Last month, `YYYY-MM` (default: this month).
    to: Option<String>,
}

/// Reports by area × month × category within the caller's area (up to the minute: the
/// counters change in the same transaction as the report; read from the replica with `--db-read`).
#[utoipa::path(get, path = "/api/v1/analytics/report-counts", tag = "analytics", params(CountsQuery),
    responses((status = 200, body = Vec<AreaMonthCount>), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
async fn report_counts(State(s): State<AppState>, auth: Auth, ApiQuery(q): ApiQuery<CountsQuery>) -> Result<Json<Vec<AreaMonthCount>>, ApiError> {
    let (scope, global) = list_scope(&auth)?;
    let level = match q.level.as_deref() {
        None => AreaLevel::Region,
        Some(l) => AreaLevel::parse(l).map_err(|m| ApiError::bad_request("level", m))?,
    };
    let depth = AreaLevel::ALL.iter().position(|l| *l == level).unwrap_or(1) as i32;
    let now = s.now();
    let to = q.to.unwrap_or_else(|| now.format("%Y-%m").to_string());
    let from = match q.from {
        Some(f) => f,
        None => {
            let (start, _) = analytics::month_bounds(&to, &to).map_err(|_| ApiError::bad_request("to", Msg::InvalidPeriod))?;
            (start - chrono::Duration::days(320)).format("%Y-%m").to_string()
        }
    };
    Ok(Json(analytics::counts_by_area(&s.db, &scope, global, depth, &from, &to).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// Received at or after (RFC 3339).
    from: Option<DateTime<Utc>>,
    /// Received before (RFC 3339).
    to: Option<DateTime<Utc>>,
}

const COLUMNS: [&str; 14] =
    ["id", "reference", "received_at", "occurred_at", "category", "severity", "area_code", "place_name", "channel", "language", "verification", "grade", "alert_id", "text"];

fn cells(r: &ReportView) -> [String; 14] {
    [
        r.id.to_string(),
        r.reference.clone(),
        r.received_at.to_rfc3339(),
        r.occurred_at.to_rfc3339(),
        r.category_code.clone(),
        r.severity.to_string(),
        r.area_code.clone().unwrap_or_default(),
        r.place_name.clone().unwrap_or_default(),
        r.channel.clone(),
        r.language.clone(),
        r.verification.clone(),
        r.grade.clone().unwrap_or_default(),
        r.alert_id.map(|a| a.to_string()).unwrap_or_default(),
        r.text.clone(),
    ]
}

/// A spreadsheet must not run what a reporter typed: text that a spreadsheet would read as a
/// formula gets a leading apostrophe.
fn defuse(v: String) -> String {
    if v.starts_with(['=', '+', '-', '@', '\t', '\r']) && v.parse::<f64>().is_err() {
        format!("'{v}")
    } else {
        v
    }
}

/// Starts the database side of an export: batches of reports through a small bounded channel.
fn report_batches(s: &AppState, auth: &Auth, q: ExportQuery) -> Result<tokio::sync::mpsc::Receiver<vigie_storage::StoreResult<Vec<ReportView>>>, ApiError> {
    let (scope, global) = list_scope(auth)?;
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    tokio::spawn(analytics::stream_reports(s.db.clone(), scope, global, q.from, q.to, tx));
    Ok(rx)
}

type Batches = tokio::sync::mpsc::Receiver<vigie_storage::StoreResult<Vec<ReportView>>>;

/// A response body: `head`, then each batch as `encode` turns it into bytes, then `finish()`.
/// A database error mid-way cuts the body (the client sees a truncated download, never a
/// complete-looking partial file).
fn streamed<E, T>(rx: Batches, head: Vec<u8>, encode: E, finish: T) -> Body
where
    E: FnMut(Vec<ReportView>) -> Vec<u8> + Send + 'static,
    T: FnOnce() -> Vec<u8> + Send + 'static,
{
    let state = (rx, encode, Some(head), Some(finish));
    let s = futures_util::stream::unfold(state, |(mut rx, mut encode, mut head, mut finish)| async move {
        if let Some(h) = head.take() {
            return Some((Ok(Bytes::from(h)), (rx, encode, head, finish)));
        }
        match rx.recv().await {
            Some(Ok(batch)) => {
                let b = encode(batch);
                Some((Ok(Bytes::from(b)), (rx, encode, head, finish)))
            }
            Some(Err(e)) => {
                tracing::error!(error = %e, "report export");
                Some((Err(std::io::Error::other("export failed")), (rx, encode, head, None)))
            }
            None => finish.take().map(|f| (Ok::<Bytes, std::io::Error>(Bytes::from(f())), (rx, encode, head, finish))),
        }
    });
    Body::from_stream(s)
}

/// Reports within the caller's area as CSV (UTF-8, header row), oldest first, streamed.
#[utoipa::path(get, path = "/api/v1/reports/export.csv", tag = "early-warning", params(ExportQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = crate::error::Problem)))]
async fn export_csv(State(s): State<AppState>, auth: Auth, ApiQuery(q): ApiQuery<ExportQuery>) -> Result<Response, ApiError> {
    let rx = report_batches(&s, &auth, q)?;
    let line = |cells: Vec<String>| -> Vec<u8> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let _ = w.write_record(cells);
        w.into_inner().unwrap_or_default()
    };
    let head = line(COLUMNS.iter().map(|c| c.to_string()).collect());
    let body = streamed(
        rx,
        head,
        move |batch| {
            let mut w = csv::Writer::from_writer(Vec::with_capacity(batch.len() * 200));
            for r in &batch {
                let _ = w.write_record(cells(r).map(defuse));
            }
            w.into_inner().unwrap_or_default()
        },
        Vec::new,
    );
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8"), (header::CONTENT_DISPOSITION, "attachment; filename=\"reports.csv\"")], body).into_response())
}

/// Reports within the caller's area as an XLSX workbook (one sheet), streamed: the workbook is
/// zipped on the fly, row by row, so it starts at once and never sits whole in memory.
#[utoipa::path(get, path = "/api/v1/reports/export.xlsx", tag = "early-warning", params(ExportQuery),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>), (status = 403, body = crate::error::Problem)))]
async fn export_xlsx(State(s): State<AppState>, auth: Auth, ApiQuery(q): ApiQuery<ExportQuery>) -> Result<Response, ApiError> {
    let rx = report_batches(&s, &auth, q)?;
    let book = std::sync::Arc::new(std::sync::Mutex::new(crate::xlsx_stream::SheetStream::new()));
    let mut head = book.lock().unwrap().start();
    let header_row: Vec<String> = COLUMNS.iter().map(|c| c.to_string()).collect();
    head.extend(book.lock().unwrap().row(&header_row));
    let (b1, b2) = (book.clone(), book);
    let body = streamed(
        rx,
        head,
        move |batch| {
            let mut out = Vec::new();
            let mut b = b1.lock().unwrap();
            for r in &batch {
                out.extend(b.row(&cells(r)));
            }
            out
        },
        move || b2.lock().unwrap().finish(),
    );
    Ok((
        [(header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (header::CONTENT_DISPOSITION, "attachment; filename=\"reports.xlsx\"")],
        body,
    )
        .into_response())
}
