//! Vigie's storage: one API over two backends. SQLite (one file, WAL, one writer
//! connection) is the embedded default; PostgreSQL is the scale-out backend. Each
//! aggregate has its module with its queries; SQL is written once with `$n`
//! placeholders, which both backends accept, and runs through [`run!`] / [`run_tx!`].

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::time::Duration;

pub mod alerts;
pub mod areas;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod cases;
pub mod categories;
pub mod crypto;
pub mod forms;
pub mod jobs;
pub mod orgs;
pub mod reports;
pub mod roles;
pub mod sms;
pub mod webhooks;
pub mod users;
// Alerts raised on intake, and workers woken when work is queued (issue 11.2).
pub mod auto_raise;
pub mod wakeup;
// Early warning: analyst tools (merge/split) and report attachments.
pub mod attachments;
pub mod events;
pub mod governance;
pub mod directory;
pub mod group_commit;
pub mod memo;
pub mod rotation;
pub mod overview;
// Analytics at scale (issue 11): pre-aggregated counters and the dashboard queries.
pub mod alert_facts;
pub mod analytics;
pub mod counters;
// Results, money and risk (issue 7)
pub mod budget;
pub mod indicator_sources;
pub mod results;
pub mod results_import;
pub mod returns;
pub mod risks;
// Scale-out on PostgreSQL (issue 11): monthly partitions of the large tables.
pub mod partitions;

mod error;
pub use error::{StoreError, StoreResult};

/// A connection pool of one backend.
#[derive(Clone, Debug)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// An open write transaction. Everything a request changes, with its audit entries, goes in one.
pub enum Tx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// Runs the same code against whichever backend `pool` is; `c` is the backend's pool.
#[macro_export]
macro_rules! run {
    ($pool:expr, $c:ident => $body:expr) => {
        match $pool {
            $crate::Pool::Sqlite($c) => $body,
            $crate::Pool::Postgres($c) => $body,
        }
    };
}

/// Same as [`run!`] for a transaction; `c` is `&mut Transaction<_>`: use `&mut **c` as executor.
#[macro_export]
macro_rules! run_tx {
    ($tx:expr, $c:ident => $body:expr) => {
        match $tx {
            $crate::Tx::Sqlite($c) => $body,
            $crate::Tx::Postgres($c) => $body,
        }
    };
}

/// A value to bind, for queries whose text is built at run time (filters, scopes).
#[derive(Debug, Clone)]
pub enum Arg {
    Text(String),
    Int(i64),
}

/// Binds dynamic arguments on a query of either backend.
#[macro_export]
macro_rules! bind_args {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args {
            q = match a {
                $crate::Arg::Text(s) => q.bind(s.clone()),
                $crate::Arg::Int(i) => q.bind(*i),
            };
        }
        q
    }};
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The database: a write pool and a read pool. On SQLite the writer is one connection
/// (SQLite takes one writer at a time; queuing in the pool beats busy-retry loops).
/// `read` always sees every committed write (it is the primary on PostgreSQL): sessions,
/// pages shown after a POST, API answers. `replica` is for reads that may lag a few seconds
/// (dashboards, analytics, map, exports) and points at a streaming replica with `--db-read`.
#[derive(Clone, Debug)]
pub struct Db {
    pub write: Pool,
    pub read: Pool,
    pub replica: Pool,
    pub backend: Backend,
    /// Keys for fields encrypted at rest; kept outside the database (see [`crypto`]).
    keys: Option<std::sync::Arc<crypto::Keyring>>,
    /// The report-intake writer, started on first use (see [`group_commit`]).
    intake_writer: std::sync::Arc<std::sync::OnceLock<group_commit::Handle>>,
    /// What requests read over and over, remembered for a second (see [`memo`]).
    pub memo: std::sync::Arc<memo::Memo>,
}

impl Db {
    /// Opens `sqlite:PATH` (created if missing) or `postgres://…`, without migrating.
    pub async fn connect(url: &str) -> StoreResult<Db> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await?;
            let p = Pool::Postgres(pool);
            Ok(Db { write: p.clone(), read: p.clone(), replica: p, backend: Backend::Postgres, keys: None, intake_writer: Default::default(), memo: Default::default() })
        } else {
            let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
            let opts = SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // FULL: a commit is on disk before it is acknowledged.
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            let write = SqlitePoolOptions::new().max_connections(1).connect_with(opts.clone()).await?;
            let read = SqlitePoolOptions::new().max_connections(8).connect_with(opts.read_only(true)).await?;
            Ok(Db { write: Pool::Sqlite(write), read: Pool::Sqlite(read.clone()), replica: Pool::Sqlite(read), backend: Backend::Sqlite, keys: None, intake_writer: Default::default(), memo: Default::default() })
        }
    }

    /// Routes the reads that may lag (dashboards, analytics, map, exports) to another server,
    /// a PostgreSQL streaming replica; everything else stays on the primary.
    pub async fn with_read_replica(mut self, url: &str) -> StoreResult<Db> {
        let opts = PgConnectOptions::from_str(url)?;
        let pool = PgPoolOptions::new().max_connections(16).acquire_timeout(Duration::from_secs(10)).connect_with(opts).await?;
        let in_recovery: bool = sqlx::query_scalar("SELECT pg_is_in_recovery()").fetch_one(&pool).await?;
        if !in_recovery {
            tracing::warn!("--db-read points at a server that is not a replica (pg_is_in_recovery() is false)");
        }
        self.replica = Pool::Postgres(pool);
        Ok(self)
    }

    pub fn with_keys(mut self, keys: crypto::Keyring) -> Db {
        self.keys = Some(std::sync::Arc::new(keys));
        self
    }

    /// The keyring; an error if none was configured (sensitive fields are never stored in clear).
    pub fn keys(&self) -> StoreResult<&crypto::Keyring> {
        self.keys.as_deref().ok_or_else(|| StoreError::Other("no encryption key configured (VIGIE_KEY_FILE)".into()))
    }

    pub async fn connect_and_migrate(url: &str) -> StoreResult<Db> {
        let db = Db::connect(url).await?;
        db.migrate().await?;
        Ok(db)
    }

    /// Applies the versioned migrations of this backend (idempotent), then the built-in roles.
    pub async fn migrate(&self) -> StoreResult<()> {
        match &self.write {
            Pool::Sqlite(p) => sqlx::migrate!("./migrations/sqlite").run(p).await?,
            Pool::Postgres(p) => sqlx::migrate!("./migrations/postgres").run(p).await?,
        }
        partitions::ensure_ahead(self, now()).await?;
        roles::ensure_builtin(self).await?;
        alert_facts::backfill(self).await?;
        categories::ensure_defaults(self).await
    }

    /// A write transaction. On SQLite it takes the write lock at `BEGIN IMMEDIATE`, where the busy
    /// timeout applies: another process writing the same file (`vigie import`, `vigie key
    /// rotate` while the server runs) makes it wait, where a deferred transaction could fail with
    /// SQLITE_BUSY on its first write, half-way through the work.
    pub async fn begin(&self) -> StoreResult<Tx> {
        Ok(match &self.write {
            Pool::Sqlite(p) => Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Pool::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    /// Readiness: can we read from the database now?
    pub async fn ping(&self) -> StoreResult<()> {
        run!(&self.read, c => { sqlx::query("SELECT 1").execute(c).await?; });
        Ok(())
    }

    pub async fn close(&self) {
        for p in [&self.write, &self.read, &self.replica] {
            run!(p, c => c.close().await);
        }
    }
}

impl Tx {
    pub async fn commit(self) -> StoreResult<()> {
        run_tx!(self, c => c.commit().await?);
        Ok(())
    }
}

/// `($1,$2,…),($k,…)…`: the VALUES list of a multi-row INSERT of `rows` rows of `cols`
/// parameters each (both backends number parameters the same way).
pub fn placeholders(rows: usize, cols: usize) -> String {
    let mut s = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        s.push_str(if r == 0 { "(" } else { ",(" });
        for c in 0..cols {
            if c > 0 {
                s.push(',');
            }
            s.push('$');
            s.push_str(&(r * cols + c + 1).to_string());
        }
        s.push(')');
    }
    s
}

/// Now, as stored: UTC with microseconds (both backends keep microseconds).
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::{SubsecRound, Utc};
    Utc::now().trunc_subsecs(6)
}

/// A page of results and the total count behind it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// Builds `(path = $a OR (path >= $b AND path < $c)) OR …` restricting `column` to area subtrees.
/// An empty scope matches nothing.
pub fn scope_sql(column: &str, scope: &[vigie_domain::area::AreaPath], args: &mut Vec<Arg>) -> String {
    if scope.is_empty() {
        return "1 = 0".into();
    }
    let mut parts = Vec::new();
    for p in scope {
        let (lo, hi) = p.descendant_range();
        args.push(Arg::Text(p.0.clone()));
        let a = args.len();
        args.push(Arg::Text(lo));
        args.push(Arg::Text(hi));
        parts.push(format!("({column} = ${a} OR ({column} >= ${} AND {column} < ${}))", a + 1, a + 2));
    }
    format!("({})", parts.join(" OR "))
}
