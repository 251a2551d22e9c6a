//! Time partitions on PostgreSQL (issue 11 scale-out): the audit log, reports and ODK
//! submissions are split by month (migrations 0014 and 0022). The months ahead are created at every start-up and by a periodic job, so
//! a write never waits on DDL at a month's turn; rows of a month with no partition go to the
//! default partition and are kept. SQLite keeps one table: nothing to do there.

use crate::{Db, Pool, StoreResult};
use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};

/// The partitioned tables (by month).
pub const TABLES: &[&str] = &["audit_log", "reports", "submissions"];

/// How many months ahead of `now` must exist.
pub const MONTHS_AHEAD: u32 = 3;

/// Creates the partitions of this month and the next [`MONTHS_AHEAD`] months that are missing;
/// returns how many were made. Safe with several nodes (an advisory lock in the SQL function).
pub async fn ensure_ahead(db: &Db, now: DateTime<Utc>) -> StoreResult<i32> {
    let first = NaiveDate::from_ymd_opt(now.year(), now.month(), 1).expect("first of a month");
    ensure_months(db, first, first + Months::new(MONTHS_AHEAD)).await
}

/// Creates the missing monthly partitions of every partitioned table from `first`'s month to
/// `last`'s; returns how many were made. For data written with past dates (the benchmark's
/// generator): rows of a month without a partition would otherwise sit in the default one.
pub async fn ensure_months(db: &Db, first: NaiveDate, last: NaiveDate) -> StoreResult<i32> {
    let Pool::Postgres(p) = &db.write else {
        return Ok(0);
    };
    let mut made = 0;
    for table in TABLES {
        let n: i32 = sqlx::query_scalar("SELECT vigie_ensure_month_partitions($1, $2, $3)")
            .bind(table)
            .bind(first)
            .bind(last)
            .fetch_one(p)
            .await?;
        made += n;
    }
    Ok(made)
}

/// One partition and its size, for operators and tests.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Partition {
    pub table: String,
    pub partition: String,
    /// `FOR VALUES FROM (…) TO (…)` or `DEFAULT`.
    pub bounds: String,
    pub rows: i64,
}

/// The partitions of every partitioned table, with exact row counts (PostgreSQL; none on SQLite).
pub async fn list(db: &Db) -> StoreResult<Vec<Partition>> {
    let Pool::Postgres(p) = &db.write else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for table in TABLES {
        let parts: Vec<(String, String)> = sqlx::query_as(
            "SELECT c.relname::text, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
             WHERE i.inhparent = $1::regclass ORDER BY c.relname",
        )
        .bind(table)
        .fetch_all(p)
        .await?;
        for (partition, bounds) in parts {
            let rows: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM \"{partition}\""))
                .fetch_one(p)
                .await?;
            out.push(Partition {
                table: table.to_string(),
                partition,
                bounds,
                rows,
            });
        }
    }
    Ok(out)
}
