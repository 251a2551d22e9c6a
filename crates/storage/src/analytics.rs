//! The dashboard's analytical reads, built to stay within 200 ms at ten million reports:
//! counts by area × month × category come from the pre-aggregated `report_counts`
//! ([`crate::counters`]); the latest reports come from an index without counting the whole
//! table; indicators read one period of alerts. Each has its "raw" twin that scans the
//! reports, used by the tests (same answer) and by the benchmark (before/after).
//! All read `db.replica`: with `--db-read` they may lag the primary by a few seconds.

use crate::{bind_args, run, scope_sql, Arg, Db, StoreResult};
use chrono::{DateTime, Datelike, TimeZone, Utc};
use serde::Serialize;
use vigie_domain::area::AreaPath;
use vigie_domain::early_warning::alert::Alert;
use vigie_domain::early_warning::indicators::{compute, Indicators, Period};

/// Reports of one area (at the requested level), month and category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AreaMonthCount {
    /// Area path ('' for reports not yet placed in an area).
    pub area_path: String,
    /// `YYYY-MM` of reception (UTC).
    pub month: String,
    pub category_code: String,
    pub reports: i64,
    pub verified: i64,
}

fn depth_of(p: &AreaPath) -> i32 {
    p.0.matches('/').count() as i32
}

/// Report counts by area at `depth` (0 = country, 1 = region…) × month × category, within
/// `scope`, for months `from..=to` (`YYYY-MM`). A scope deeper than `depth` is counted at its
/// own level (a cercle's analyst sees their cercle, not the whole region).
pub async fn counts_by_area(db: &Db, scope: &[AreaPath], see_unplaced: bool, depth: i32, from: &str, to: &str) -> StoreResult<Vec<AreaMonthCount>> {
    month_bounds(from, to)?;
    let mut args = vec![Arg::Text(from.into()), Arg::Text(to.into())];
    let mut parts = Vec::new();
    for p in scope {
        // scope_sql numbers its placeholders after the arguments already in `args`.
        let inner_sql = scope_sql("area_path", std::slice::from_ref(p), &mut args);
        parts.push(format!("(depth = {} AND {inner_sql})", depth.max(depth_of(p))));
    }
    if see_unplaced {
        parts.push("depth = -1".into());
    }
    if parts.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT area_path, month, category_code, CAST(SUM(reports) AS BIGINT) AS reports, CAST(SUM(verified) AS BIGINT) AS verified FROM report_counts \
         WHERE month >= $1 AND month <= $2 AND ({}) GROUP BY area_path, month, category_code HAVING SUM(reports) <> 0 \
         ORDER BY area_path, month, category_code",
        parts.join(" OR ")
    );
    Ok(run!(&db.replica, c => bind_args!(sqlx::query_as::<_, AreaMonthCount>(&sql), &args).fetch_all(c).await?))
}

/// The same counts computed from the reports themselves (the slow way; tests and benchmark).
pub async fn counts_by_area_raw(db: &Db, scope: &[AreaPath], see_unplaced: bool, depth: i32, from: &str, to: &str) -> StoreResult<Vec<AreaMonthCount>> {
    let (start, end) = month_bounds(from, to)?;
    let mut out = Vec::new();
    let month = match db.backend {
        crate::Backend::Sqlite => "substr(r.received_at, 1, 7)",
        crate::Backend::Postgres => "to_char(r.received_at AT TIME ZONE 'UTC', 'YYYY-MM')",
    };
    for p in scope {
        let d = depth.max(depth_of(p));
        let mut args = Vec::new();
        let in_scope = scope_sql("a.path", std::slice::from_ref(p), &mut args);
        let n = args.len();
        let sql = format!(
            "SELECT a.path AS area_path, {month} AS month, r.category_code, COUNT(*) AS reports, \
             CAST(SUM(CASE WHEN r.verification = 'verified' THEN 1 ELSE 0 END) AS BIGINT) AS verified \
             FROM reports r JOIN areas a ON r.area_path = a.path OR (r.area_path >= a.path || '/' AND r.area_path < a.path || '0') \
             WHERE {in_scope} AND length(a.path) - length(replace(a.path, '/', '')) = {d} AND r.received_at >= ${} AND r.received_at < ${} \
             GROUP BY 1, 2, 3",
            n + 1,
            n + 2
        );
        let rows: Vec<AreaMonthCount> = run!(&db.replica, c => bind_args!(sqlx::query_as::<_, AreaMonthCount>(&sql), &args).bind(start).bind(end).fetch_all(c).await?);
        out.extend(rows);
    }
    if see_unplaced {
        let sql = format!(
            "SELECT '' AS area_path, {month} AS month, r.category_code, COUNT(*) AS reports, \
             CAST(SUM(CASE WHEN r.verification = 'verified' THEN 1 ELSE 0 END) AS BIGINT) AS verified \
             FROM reports r WHERE r.area_path IS NULL AND r.received_at >= $1 AND r.received_at < $2 GROUP BY 1, 2, 3"
        );
        let rows: Vec<AreaMonthCount> = run!(&db.replica, c => sqlx::query_as::<_, AreaMonthCount>(&sql).bind(start).bind(end).fetch_all(c).await?);
        out.extend(rows);
    }
    // Several scope paths may hold the same area (nested grants): sum them as the counters do.
    let mut merged: std::collections::BTreeMap<(String, String, String), (i64, i64)> = Default::default();
    for r in out {
        let e = merged.entry((r.area_path, r.month, r.category_code)).or_default();
        e.0 += r.reports;
        e.1 += r.verified;
    }
    Ok(merged
        .into_iter()
        .filter(|(_, v)| v.0 != 0)
        .map(|((area_path, month, category_code), (reports, verified))| AreaMonthCount { area_path, month, category_code, reports, verified })
        .collect())
}

/// `[first instant of from, first instant after to)` for `YYYY-MM` months.
pub fn month_bounds(from: &str, to: &str) -> StoreResult<(DateTime<Utc>, DateTime<Utc>)> {
    let parse = |m: &str, field: &str| -> StoreResult<(i32, u32)> {
        let bad = || crate::StoreError::from(vigie_domain::Invalid::new(field, vigie_domain::Msg::InvalidPeriod));
        let (y, mo) = m.split_once('-').ok_or_else(bad)?;
        let (y, mo): (i32, u32) = (y.parse().map_err(|_| bad())?, mo.parse().map_err(|_| bad())?);
        if !(1..=12).contains(&mo) || !(1970..=9999).contains(&y) || m.len() != 7 {
            return Err(bad());
        }
        Ok((y, mo))
    };
    let (fy, fm) = parse(from, "from")?;
    let (ty, tm) = parse(to, "to")?;
    let start = Utc.with_ymd_and_hms(fy, fm, 1, 0, 0, 0).single().expect("valid month");
    let (ny, nm) = if tm == 12 { (ty + 1, 1) } else { (ty, tm + 1) };
    let end = Utc.with_ymd_and_hms(ny, nm, 1, 0, 0, 0).single().expect("valid month");
    if end <= start {
        return Err(vigie_domain::Invalid::new("to", vigie_domain::Msg::InvalidPeriod).into());
    }
    Ok((start, end))
}

/// The `n` latest reports in scope, newest first, without counting the whole table (the
/// dashboard shows five; `reports::list` also counts every match, which costs seconds at 10 M).
pub async fn latest_reports(db: &Db, scope: &[AreaPath], see_unplaced: bool, n: i64) -> StoreResult<Vec<crate::reports::ReportView>> {
    let mut args = Vec::new();
    let placed = scope_sql("area_path", scope, &mut args);
    let wher = if see_unplaced { format!("({placed} OR area_path IS NULL)") } else { placed };
    // Protected reports (routed to protected cases) never appear in the open feed.
    let wher = format!("{wher} AND NOT {}", crate::reports::PROTECTED_SQL);
    let sql = format!("SELECT {} FROM reports WHERE {wher} ORDER BY received_at DESC, id DESC LIMIT {}", crate::reports::VIEW_COLS, n.clamp(1, 500));
    let rows: Vec<crate::reports::ReportView> = run!(&db.replica, c => bind_args!(sqlx::query_as(&sql), &args).fetch_all(c).await?);
    // A report filed protected and since moved out of protection keeps its text sealed.
    rows.into_iter().map(|r| crate::reports::opened(db, r)).collect()
}

/// Reports received since `since` in scope (the dashboard's "today"): an index range scan.
pub async fn reports_since(db: &Db, scope: &[AreaPath], see_unplaced: bool, since: DateTime<Utc>) -> StoreResult<i64> {
    let mut args = Vec::new();
    let placed = scope_sql("area_path", scope, &mut args);
    let wher = if see_unplaced { format!("({placed} OR area_path IS NULL)") } else { placed };
    let sql = format!("SELECT COUNT(*) FROM reports WHERE received_at >= ${} AND {wher}", args.len() + 1);
    Ok(run!(&db.replica, c => bind_args!(sqlx::query_scalar(&sql), &args).bind(since).fetch_one(c).await?))
}

/// The early-warning indicators of every area at `depth` for every month of `[from, to)` that
/// has alerts: the full recompute, aggregated in SQL from the alerts' fact columns.
pub async fn indicator_rollup(db: &Db, depth: i32, from: DateTime<Utc>, to: DateTime<Utc>, as_of: DateTime<Utc>) -> StoreResult<Vec<Indicators>> {
    crate::alert_facts::rollup(db, depth, from, to, as_of).await
}

/// The same rollup computed by the domain from the alert documents (one pass, month by month,
/// in reception order): the tests' reference and the benchmark's "before".
pub async fn indicator_rollup_raw(db: &Db, depth: i32, from: DateTime<Utc>, to: DateTime<Utc>, as_of: DateTime<Utc>) -> StoreResult<Vec<Indicators>> {
    use futures_util::TryStreamExt;
    let areas: Vec<String> = run!(&db.replica, c => sqlx::query_scalar("SELECT path FROM areas ORDER BY path").fetch_all(c).await?);
    let areas: Vec<AreaPath> = areas.into_iter().map(AreaPath).filter(|p| depth_of(p) == depth).collect();
    let mut out = Vec::new();
    let mut month_alerts: Vec<Alert> = Vec::new();
    let mut month_start: Option<DateTime<Utc>> = None;
    let flush = |start: DateTime<Utc>, alerts: &mut Vec<Alert>, out: &mut Vec<Indicators>| {
        let period = Period { start, end: next_month(start) };
        for a in &areas {
            out.push(compute(alerts, a, period, as_of));
        }
        alerts.clear();
    };
    run!(&db.replica, c => {
        let mut rows = sqlx::query_as::<_, (DateTime<Utc>, String)>("SELECT reported_at, doc FROM alerts WHERE reported_at >= $1 AND reported_at < $2 AND merged_into IS NULL ORDER BY reported_at")
            .bind(from).bind(to).fetch(c);
        while let Some((reported_at, doc)) = rows.try_next().await? {
            let m = month_floor(reported_at);
            if month_start != Some(m) {
                if let Some(s) = month_start {
                    flush(s, &mut month_alerts, &mut out);
                }
                month_start = Some(m);
            }
            if let Ok(a) = serde_json::from_str::<Alert>(&doc) {
                month_alerts.push(a);
            }
        }
    });
    if let Some(s) = month_start {
        flush(s, &mut month_alerts, &mut out);
    }
    Ok(out)
}

fn month_floor(t: DateTime<Utc>) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(t.year(), t.month(), 1, 0, 0, 0).single().expect("valid month")
}

fn next_month(t: DateTime<Utc>) -> DateTime<Utc> {
    let (y, m) = if t.month() == 12 { (t.year() + 1, 1) } else { (t.year(), t.month() + 1) };
    Utc.with_ymd_and_hms(y, m, 1, 0, 0, 0).single().expect("valid month")
}

#[cfg(test)]
mod tests {
    #[test]
    fn month_bounds_cover_whole_months() {
        let (s, e) = super::month_bounds("2025-11", "2025-12").unwrap();
        assert_eq!(s.to_rfc3339(), "2025-11-01T00:00:00+00:00");
        assert_eq!(e.to_rfc3339(), "2026-01-01T00:00:00+00:00");
        assert!(super::month_bounds("2025-13", "2025-12").is_err());
        assert!(super::month_bounds("2025-12", "2025-11").is_err());
    }
}

/// Streams every report in scope (optionally received in `[from, to)`), oldest first, in
/// batches of 1,000 into `sink`; stops early when the receiver goes away (client left). Memory
/// stays one batch per side of a bounded channel, whatever the number of reports.
pub async fn stream_reports(
    db: Db,
    scope: Vec<AreaPath>,
    see_unplaced: bool,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    sink: tokio::sync::mpsc::Sender<StoreResult<Vec<crate::reports::ReportView>>>,
) {
    use futures_util::TryStreamExt;
    let mut args = Vec::new();
    let placed = scope_sql("area_path", &scope, &mut args);
    let mut wher = if see_unplaced { format!("({placed} OR area_path IS NULL)") } else { placed };
    // Protected reports (routed to protected cases) are never in the open export.
    wher = format!("{wher} AND NOT {}", crate::reports::PROTECTED_SQL);
    let n = args.len();
    if from.is_some() {
        wher.push_str(&format!(" AND received_at >= ${}", n + 1));
    }
    if to.is_some() {
        wher.push_str(&format!(" AND received_at < ${}", n + 1 + from.is_some() as usize));
    }
    let sql = format!("SELECT {} FROM reports WHERE {wher} ORDER BY received_at, id", crate::reports::VIEW_COLS);
    let result: StoreResult<()> = async {
        run!(&db.replica, c => {
            let mut q = bind_args!(sqlx::query_as::<_, crate::reports::ReportView>(&sql), &args);
            if let Some(t) = from { q = q.bind(t); }
            if let Some(t) = to { q = q.bind(t); }
            let mut rows = q.fetch(c);
            let mut batch = Vec::with_capacity(1000);
            while let Some(r) = rows.try_next().await? {
                batch.push(crate::reports::opened(&db, r)?);
                if batch.len() == 1000 && sink.send(Ok(std::mem::take(&mut batch))).await.is_err() {
                    return Ok(());
                }
            }
            if !batch.is_empty() {
                let _ = sink.send(Ok(batch)).await;
            }
        });
        Ok(())
    }
    .await;
    if let Err(e) = result {
        let _ = sink.send(Err(e)).await;
    }
}
