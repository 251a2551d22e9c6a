//! Aggregates for maps and charts, computed in SQL so that 100 000 reports never leave the
//! database one by one: reports grouped on a grid whose cell follows the map's zoom level
//! ([`clusters`]), counts rolled up by area for choropleths ([`counts_by_area`]) and daily
//! counts for time-series charts ([`daily_counts`]). Every function takes the reader's scope
//! (area subtrees) exactly as `reports::list` does. All read `db.replica` (may lag with `--db-read`).

use crate::{bind_args, run, scope_sql, Arg, Backend, Db, StoreResult};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use vigie_domain::area::AreaPath;

/// A rectangle of the map, in degrees (west, south, east, north).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BBox {
    pub west: f64,
    pub south: f64,
    pub east: f64,
    pub north: f64,
}

impl BBox {
    /// `w,s,e,n` as the map sends it; None when malformed, inverted or not finite.
    pub fn parse(raw: &str) -> Option<BBox> {
        let v: Vec<f64> = raw.split(',').map(|s| s.trim().parse::<f64>()).collect::<Result<_, _>>().ok()?;
        let [west, south, east, north] = v.as_slice() else { return None };
        let b = BBox { west: west.clamp(-180.0, 180.0), south: south.clamp(-90.0, 90.0), east: east.clamp(-180.0, 180.0), north: north.clamp(-90.0, 90.0) };
        (v.iter().all(|x| x.is_finite()) && b.west < b.east && b.south < b.north).then_some(b)
    }
}

/// Grid cell size in degrees for a zoom level: about 64 screen pixels (Web Mercator tiles of
/// 256 px), so a screen holds at most a few hundred clusters whatever the number of reports.
pub fn cell_degrees(zoom: u8) -> f64 {
    64.0 * 360.0 / (256.0 * f64::from(1u32 << zoom.min(20)))
}

/// What the map may filter on.
#[derive(Debug, Clone, Default)]
pub struct MapFilter {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub category: Option<String>,
    pub min_severity: Option<i32>,
}

/// One cluster: reports of one grid cell. `id` is set when the cell holds a single report.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Cluster {
    pub lat: f64,
    pub lon: f64,
    pub count: i64,
    /// Highest severity in the cell (1–5).
    pub severity: i32,
    /// The most frequent category in the cell.
    pub category: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
}

/// Where a report is: its own point, else the main town of its area (looked up only for
/// reports without a point).
const POSITIONED: &str = "SELECT r.id, r.category_code, r.severity, \
                          COALESCE(r.lat, (SELECT a.lat FROM areas a WHERE a.code = r.area_code)) AS lat, \
                          COALESCE(r.lon, (SELECT a.lon FROM areas a WHERE a.code = r.area_code)) AS lon FROM reports r";

/// The WHERE clause shared by the aggregates: scope, filters, then the time bounds (bound as
/// timestamps after the text arguments, as `reports::list` does).
fn conditions(scope: &[AreaPath], see_unplaced: bool, f: &MapFilter, args: &mut Vec<Arg>) -> (String, Vec<DateTime<Utc>>) {
    // A reader who sees unplaced reports sees the whole tree: no condition to test per row.
    let mut conds = vec![if see_unplaced { "1 = 1".to_string() } else { scope_sql("r.area_path", scope, args) }];
    if let Some(c) = &f.category {
        args.push(Arg::Text(c.clone()));
        conds.push(format!("r.category_code = ${}", args.len()));
    }
    if let Some(s) = f.min_severity {
        args.push(Arg::Int(i64::from(s)));
        conds.push(format!("r.severity >= ${}", args.len()));
    }
    let mut times = Vec::new();
    for (op, t) in [(">=", f.from), ("<", f.to)] {
        if let Some(t) = t {
            times.push(t);
            conds.push(format!("r.occurred_at {op} ${}", args.len() + times.len()));
        }
    }
    (conds.join(" AND "), times)
}

/// Reports inside `bbox` grouped on the grid of `zoom`, at most `limit` cells (the densest).
pub async fn clusters(db: &Db, scope: &[AreaPath], see_unplaced: bool, f: &MapFilter, bbox: BBox, zoom: u8, limit: usize) -> StoreResult<Vec<Cluster>> {
    let cell = cell_degrees(zoom);
    let mut args = Vec::new();
    let (wher, times) = conditions(scope, see_unplaced, f, &mut args);
    // Cells are counted from (-180, -90) so every index is positive; floats are formatted
    // into the SQL, never user text (they are finite f64 by construction).
    let (cx, cy) = match db.backend {
        Backend::Postgres => (format!("CAST(floor((lon + 180.0) / {cell}) AS BIGINT)"), format!("CAST(floor((lat + 90.0) / {cell}) AS BIGINT)")),
        // SQLite's CAST truncates toward zero: the same as floor for positive values.
        Backend::Sqlite => (format!("CAST((lon + 180.0) / {cell} AS INTEGER)"), format!("CAST((lat + 90.0) / {cell} AS INTEGER)")),
    };
    let BBox { west, south, east, north } = bbox;
    let sql = format!(
        "SELECT {cx} AS cx, {cy} AS cy, category_code, COUNT(*) AS n, SUM(lat) AS slat, SUM(lon) AS slon, MAX(severity) AS sev, MIN(id) AS first_id \
         FROM ({POSITIONED} WHERE {wher}) p \
         WHERE lat IS NOT NULL AND lon IS NOT NULL AND lat >= {south} AND lat <= {north} AND lon >= {west} AND lon <= {east} \
         GROUP BY 1, 2, 3"
    );
    let rows: Vec<CellRow> = run!(&db.replica, c => {
        let mut q = bind_args!(sqlx::query_as(&sql), &args);
        for t in &times { q = q.bind(*t); }
        q.fetch_all(c).await?
    });
    Ok(merge_cells(rows, limit))
}

/// One (cell, category) group: cell x, cell y, category, count, sum of lat, sum of lon,
/// highest severity, smallest id.
type CellRow = (i64, i64, String, i64, f64, f64, i32, i64);

/// Cells from (cell, category) groups: sums, the highest severity, the dominant category.
fn merge_cells(rows: Vec<CellRow>, limit: usize) -> Vec<Cluster> {
    struct Acc {
        n: i64,
        slat: f64,
        slon: f64,
        sev: i32,
        top: (i64, String),
        first: i64,
    }
    let mut cells: BTreeMap<(i64, i64), Acc> = BTreeMap::new();
    for (cx, cy, cat, n, slat, slon, sev, first) in rows {
        let a = cells.entry((cx, cy)).or_insert(Acc { n: 0, slat: 0.0, slon: 0.0, sev: 0, top: (0, String::new()), first });
        a.n += n;
        a.slat += slat;
        a.slon += slon;
        a.sev = a.sev.max(sev);
        a.first = a.first.min(first);
        if n > a.top.0 || (n == a.top.0 && cat < a.top.1) {
            a.top = (n, cat);
        }
    }
    let mut out: Vec<Cluster> = cells
        .into_values()
        .map(|a| Cluster {
            lat: round5(a.slat / a.n as f64),
            lon: round5(a.slon / a.n as f64),
            count: a.n,
            severity: a.sev,
            category: a.top.1,
            id: (a.n == 1).then_some(a.first),
        })
        .collect();
    if out.len() > limit {
        out.sort_by_key(|c| std::cmp::Reverse(c.count));
        out.truncate(limit);
    }
    out
}

/// Five decimals (about a metre): enough for a map, and a smaller payload.
fn round5(v: f64) -> f64 {
    (v * 1e5).round() / 1e5
}

/// Report counts by area path (placed reports only), for rolling up to any level.
pub async fn report_counts_by_path(db: &Db, scope: &[AreaPath], f: &MapFilter) -> StoreResult<Vec<(String, i64)>> {
    let mut args = Vec::new();
    let (wher, times) = conditions(scope, false, f, &mut args);
    let sql = format!("SELECT r.area_path, COUNT(*) FROM reports r WHERE {wher} AND r.area_path IS NOT NULL GROUP BY r.area_path");
    Ok(run!(&db.replica, c => {
        let mut q = bind_args!(sqlx::query_as(&sql), &args);
        for t in &times { q = q.bind(*t); }
        q.fetch_all(c).await?
    }))
}

/// Open alerts (events not closed) by area path.
pub async fn open_alert_counts_by_path(db: &Db, scope: &[AreaPath]) -> StoreResult<Vec<(String, i64)>> {
    let mut args = Vec::new();
    let wher = scope_sql("area_path", scope, &mut args);
    let sql = format!("SELECT area_path, COUNT(*) FROM alerts WHERE {wher} AND closed_at IS NULL AND area_path IS NOT NULL GROUP BY area_path");
    Ok(run!(&db.replica, c => bind_args!(sqlx::query_as(&sql), &args).fetch_all(c).await?))
}

/// Adds up counts by path into the given areas (each counts its whole subtree).
pub fn roll_up(counts: &[(String, i64)], areas: &[AreaPath]) -> Vec<i64> {
    areas.iter().map(|a| counts.iter().filter(|(p, _)| a.contains(&AreaPath(p.clone()))).map(|(_, n)| n).sum()).collect()
}

/// Reports received and alerts raised per day in `[from, to)`, within scope.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Daily {
    pub reports: BTreeMap<NaiveDate, i64>,
    pub alerts_raised: BTreeMap<NaiveDate, i64>,
}

pub async fn daily_counts(db: &Db, scope: &[AreaPath], see_unplaced: bool, from: DateTime<Utc>, to: DateTime<Utc>) -> StoreResult<Daily> {
    let day = |col: &str| match db.backend {
        Backend::Postgres => format!("to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM-DD')"),
        Backend::Sqlite => format!("substr({col}, 1, 10)"),
    };
    let mut out = Daily::default();
    for (table, col, target) in [("reports", "received_at", &mut out.reports), ("alerts", "alerted_at", &mut out.alerts_raised)] {
        let mut args = Vec::new();
        let placed = scope_sql("area_path", scope, &mut args);
        let scope_cond = if see_unplaced { format!("({placed} OR area_path IS NULL)") } else { placed };
        let n = args.len();
        let sql = format!("SELECT {d}, COUNT(*) FROM {table} WHERE {scope_cond} AND {col} >= ${} AND {col} < ${} GROUP BY 1", n + 1, n + 2, d = day(col));
        let rows: Vec<(String, i64)> = run!(&db.replica, c => bind_args!(sqlx::query_as(&sql), &args).bind(from).bind(to).fetch_all(c).await?);
        for (d, k) in rows {
            if let Ok(d) = NaiveDate::parse_from_str(&d, "%Y-%m-%d") {
                *target.entry(d).or_default() += k;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bbox_is_checked() {
        assert_eq!(BBox::parse("-12.5,10,4.5,25.1"), Some(BBox { west: -12.5, south: 10.0, east: 4.5, north: 25.1 }));
        assert_eq!(BBox::parse("4.5,10,-12.5,25"), None);
        assert_eq!(BBox::parse("1,2,3"), None);
        assert_eq!(BBox::parse("NaN,1,2,3"), None);
        assert_eq!(BBox::parse("a,b,c,d"), None);
        assert_eq!(BBox::parse("-500,-100,500,100").unwrap().west, -180.0);
    }

    #[test]
    fn cells_halve_with_each_zoom() {
        assert_eq!(cell_degrees(0), 90.0);
        assert!((cell_degrees(6) - 1.40625).abs() < 1e-9);
        assert_eq!(cell_degrees(7) * 2.0, cell_degrees(6));
    }

    #[test]
    fn cells_merge_categories_and_keep_the_densest() {
        let rows = vec![
            (1, 1, "armed_attack".to_string(), 3, 3.0, 6.0, 4, 10),
            (1, 1, "theft".to_string(), 5, 5.0, 10.0, 2, 7),
            (2, 1, "theft".to_string(), 1, 2.0, 3.0, 2, 42),
        ];
        let out = merge_cells(rows.clone(), 10);
        assert_eq!(out.len(), 2);
        let big = out.iter().find(|c| c.count == 8).unwrap();
        assert_eq!((big.severity, big.category.as_str(), big.id, big.lat, big.lon), (4, "theft", None, 1.0, 2.0));
        let one = out.iter().find(|c| c.count == 1).unwrap();
        assert_eq!(one.id, Some(42));
        assert_eq!(merge_cells(rows, 1).len(), 1);
    }

    #[test]
    fn counts_roll_up_to_subtrees() {
        let counts = vec![("ML/ML-5".to_string(), 2), ("ML/ML-5/ML-5-KORO".to_string(), 3), ("ML/ML-50".to_string(), 7)];
        assert_eq!(roll_up(&counts, &[AreaPath("ML/ML-5".into()), AreaPath("ML/ML-50".into()), AreaPath("ML".into())]), vec![5, 7, 12]);
    }
}
