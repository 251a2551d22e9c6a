//! Backups: SQLite's online copy (`VACUUM INTO`, consistent while writers go on) and
//! `pg_dump`/`pg_restore` for PostgreSQL.

use crate::{Db, Pool, StoreError, StoreResult};
use std::path::Path;

pub async fn backup(db: &Db, url: &str, file: &Path) -> StoreResult<()> {
    if file.exists() {
        return Err(StoreError::Other(format!("{} exists already; refusing to overwrite", file.display())));
    }
    match &db.write {
        Pool::Sqlite(p) => {
            sqlx::query("VACUUM INTO $1").bind(file.to_string_lossy().to_string()).execute(p).await?;
            Ok(())
        }
        Pool::Postgres(_) => {
            let out = tokio::process::Command::new("pg_dump")
                .args(["--format=custom", "--no-owner", "--file"])
                .arg(file)
                .arg(url)
                .output()
                .await
                .map_err(|e| StoreError::Other(format!("pg_dump: {e}")))?;
            if !out.status.success() {
                return Err(StoreError::Other(format!("pg_dump failed: {}", String::from_utf8_lossy(&out.stderr))));
            }
            Ok(())
        }
    }
}

/// Restores into the database at `url`, which must be empty (a new SQLite path or an empty PostgreSQL database).
pub async fn restore(url: &str, file: &Path) -> StoreResult<()> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let out = tokio::process::Command::new("pg_restore")
            .args(["--no-owner", "--exit-on-error", "--single-transaction", "--dbname"])
            .arg(url)
            .arg(file)
            .output()
            .await
            .map_err(|e| StoreError::Other(format!("pg_restore: {e}")))?;
        if !out.status.success() {
            return Err(StoreError::Other(format!("pg_restore failed: {}", String::from_utf8_lossy(&out.stderr))));
        }
        Ok(())
    } else {
        let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
        if Path::new(path).exists() {
            return Err(StoreError::Other(format!("{path} exists already; restore into a new file")));
        }
        // Check the copy is a sound SQLite database before putting it in place.
        let probe = Db::connect(&format!("sqlite:{}", file.display())).await?;
        let ok: String = crate::run!(&probe.read, c => sqlx::query_scalar("PRAGMA integrity_check").fetch_one(c).await?);
        probe.close().await;
        if ok != "ok" {
            return Err(StoreError::Other(format!("backup file failed integrity check: {ok}")));
        }
        std::fs::copy(file, path).map_err(|e| StoreError::Other(format!("copy: {e}")))?;
        Ok(())
    }
}
