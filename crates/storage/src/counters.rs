//! Pre-aggregated report counts (`report_counts`), kept exact in the write transaction.
//!
//! Every change to a report that the dashboards count — a new report, a verification — calls
//! [`on_report_written`] once, inside the same transaction, with what the report looked like
//! before and after. The function adds the difference to one row per level of the report's
//! area ancestry (country, region, cercle, commune…), month of reception and category. Reads
//! ([`crate::analytics`]) then sum a few thousand rows instead of scanning millions of reports.
//! [`rebuild`] recomputes the table from the reports (bulk loads, and the tests' recount).

use crate::{run, run_tx, Db, StoreResult, Tx};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// What the counters know of a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counted {
    /// The report's area path; None when no area holds it yet.
    pub area_path: Option<String>,
    pub received_at: DateTime<Utc>,
    pub category: String,
    pub verified: bool,
}

/// The month a report is counted in: its reception month, UTC (as `YYYY-MM`).
pub fn month_of(t: DateTime<Utc>) -> String {
    t.format("%Y-%m").to_string()
}

/// The path and every ancestor path, with its depth (0 = root); unplaced = ('' , -1).
fn ancestry(path: Option<&str>) -> Vec<(i32, String)> {
    match path {
        None | Some("") => vec![(-1, String::new())],
        Some(p) => {
            let mut out = Vec::new();
            for (i, _) in p.match_indices('/') {
                out.push((out.len() as i32, p[..i].to_string()));
            }
            out.push((out.len() as i32, p.to_string()));
            out
        }
    }
}

type Key = (i32, String, String, String);

fn add(d: &mut BTreeMap<Key, (i64, i64)>, r: &Counted, sign: i64) {
    let month = month_of(r.received_at);
    for (depth, path) in ancestry(r.area_path.as_deref()) {
        let e = d.entry((depth, path, month.clone(), r.category.clone())).or_default();
        e.0 += sign;
        e.1 += sign * r.verified as i64;
    }
}

fn deltas(before: Option<&Counted>, after: Option<&Counted>) -> BTreeMap<Key, (i64, i64)> {
    let mut d: BTreeMap<Key, (i64, i64)> = BTreeMap::new();
    for (r, sign) in [(before, -1i64), (after, 1i64)] {
        if let Some(r) = r {
            add(&mut d, r, sign);
        }
    }
    d.retain(|_, v| *v != (0, 0));
    d
}

/// Applies a report's change to the counters inside `tx`: `before` = None for a new report.
/// Rows are touched in key order, so concurrent writers never deadlock on them.
pub async fn on_report_written(tx: &mut Tx, before: Option<&Counted>, after: Option<&Counted>) -> StoreResult<()> {
    upsert(tx, deltas(before, after)).await
}

/// [`on_report_written`] for many new reports at once (a commit group): one upsert per
/// thousand counter rows instead of one per report.
pub async fn on_reports_created(tx: &mut Tx, reports: &[Counted]) -> StoreResult<()> {
    let mut d: BTreeMap<Key, (i64, i64)> = BTreeMap::new();
    for r in reports {
        add(&mut d, r, 1);
    }
    upsert(tx, d).await
}

/// Rows per upsert statement (6 parameters each, far below both backends' limits).
const ROWS_PER_UPSERT: usize = 1000;

async fn upsert(tx: &mut Tx, d: BTreeMap<Key, (i64, i64)>) -> StoreResult<()> {
    let rows: Vec<(Key, (i64, i64))> = d.into_iter().collect();
    for chunk in rows.chunks(ROWS_PER_UPSERT) {
        let sql = format!(
            "INSERT INTO report_counts (depth, area_path, month, category_code, reports, verified) VALUES {} \
             ON CONFLICT (depth, area_path, month, category_code) DO UPDATE \
             SET reports = report_counts.reports + excluded.reports, verified = report_counts.verified + excluded.verified",
            crate::placeholders(chunk.len(), 6)
        );
        run_tx!(&mut *tx, c => {
            let mut q = sqlx::query(&sql);
            for ((depth, path, month, cat), (n, v)) in chunk {
                q = q.bind(*depth).bind(path.as_str()).bind(month.as_str()).bind(cat.as_str()).bind(*n).bind(*v);
            }
            q.execute(&mut **c).await?;
        });
    }
    Ok(())
}

/// A report as the counters see it, read inside `tx` (locked on PostgreSQL until commit, so
/// two verifications of one report cannot both count their change from the same old state).
pub async fn read(tx: &mut Tx, report_id: i64) -> StoreResult<Option<Counted>> {
    let lock = if matches!(tx, Tx::Postgres(_)) { " FOR UPDATE" } else { "" };
    let sql = format!("SELECT area_path, received_at, category_code, verification FROM reports WHERE id = $1{lock}");
    let row: Option<(Option<String>, DateTime<Utc>, String, String)> =
        run_tx!(tx, c => sqlx::query_as(&sql).bind(report_id).fetch_optional(&mut **c).await?);
    Ok(row.map(|(area_path, received_at, category, v)| Counted { area_path, received_at, category, verified: v == "verified" }))
}

/// Recomputes every counter from the reports, in one transaction (after a bulk load; also the
/// recount the tests compare the incremental counters with).
pub async fn rebuild(db: &Db) -> StoreResult<()> {
    let month = |col: &str| match db.backend {
        crate::Backend::Sqlite => format!("substr({col}, 1, 7)"),
        crate::Backend::Postgres => format!("to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM')"),
    };
    let placed = format!(
        "INSERT INTO report_counts (depth, area_path, month, category_code, reports, verified) \
         SELECT length(a.path) - length(replace(a.path, '/', '')), a.path, {}, r.category_code, \
                COUNT(*), SUM(CASE WHEN r.verification = 'verified' THEN 1 ELSE 0 END) \
         FROM reports r JOIN areas a ON r.area_path = a.path OR (r.area_path >= a.path || '/' AND r.area_path < a.path || '0') \
         GROUP BY 1, 2, 3, 4",
        month("r.received_at")
    );
    let unplaced = format!(
        "INSERT INTO report_counts (depth, area_path, month, category_code, reports, verified) \
         SELECT -1, '', {}, category_code, COUNT(*), SUM(CASE WHEN verification = 'verified' THEN 1 ELSE 0 END) \
         FROM reports WHERE area_path IS NULL GROUP BY 3, 4",
        month("received_at")
    );
    let mut tx = db.begin().await?;
    for sql in ["DELETE FROM report_counts", placed.as_str(), unplaced.as_str()] {
        run_tx!(&mut tx, c => { sqlx::query(sql).execute(&mut **c).await?; });
    }
    tx.commit().await
}

/// Every counter row, sorted (for comparisons in tests and checks).
pub async fn snapshot(db: &Db) -> StoreResult<Vec<(i32, String, String, String, i64, i64)>> {
    Ok(run!(&db.write, c => sqlx::query_as(
        "SELECT depth, area_path, month, category_code, reports, verified FROM report_counts WHERE reports <> 0 OR verified <> 0 \
         ORDER BY depth, area_path, month, category_code"
    ).fetch_all(c).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ancestry_lists_every_level() {
        assert_eq!(ancestry(Some("ML/ML-5/ML-5-KORO")), vec![(0, "ML".into()), (1, "ML/ML-5".into()), (2, "ML/ML-5/ML-5-KORO".into())]);
        assert_eq!(ancestry(None), vec![(-1, String::new())]);
    }

    #[test]
    fn verification_moves_only_the_verified_count() {
        let t = "2026-03-04T05:06:07Z".parse().unwrap();
        let before = Counted { area_path: Some("ML/ML-5".into()), received_at: t, category: "armed_attack".into(), verified: false };
        let after = Counted { verified: true, ..before.clone() };
        let d = deltas(Some(&before), Some(&after));
        assert_eq!(d.len(), 2);
        assert!(d.values().all(|v| *v == (0, 1)));
        assert!(deltas(Some(&before), Some(&before)).is_empty());
        let new = deltas(None, Some(&before));
        assert_eq!(new[&(1, "ML/ML-5".into(), "2026-03".into(), "armed_attack".into())], (1, 0));
    }
}
