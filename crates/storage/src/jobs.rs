//! The job queue: background work (outbound SMS, webhooks, escalation checks) kept in the
//! database, so it survives restarts and any app node can run it. A worker claims ready jobs
//! with a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so two nodes never take the same
//! job; SQLite has a single writer), then marks each one done, or retries it with backoff.

use crate::{run, run_tx, Db, Pool, StoreResult, Tx};
use chrono::{DateTime, Duration, Utc};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Job {
    pub id: i64,
    pub queue: String,
    pub payload: String,
    pub attempts: i32,
    pub max_attempts: i32,
}

/// Queues a job inside the caller's transaction: it exists if and only if the change that
/// asked for it was committed. A `dedup_key` already queued makes this a no-op.
pub async fn enqueue(tx: &mut Tx, queue: &str, payload: &serde_json::Value, dedup_key: Option<&str>, run_at: DateTime<Utc>) -> StoreResult<()> {
    run_tx!(tx, c => {
        sqlx::query("INSERT INTO jobs (queue, payload, dedup_key, run_at, created_at) VALUES ($1,$2,$3,$4,$5) ON CONFLICT (dedup_key) DO NOTHING")
            .bind(queue).bind(payload.to_string()).bind(dedup_key).bind(run_at).bind(crate::now())
            .execute(&mut **c).await?;
    });
    if run_at <= crate::now() {
        crate::wakeup::on_enqueue(tx, queue).await?;
    }
    Ok(())
}

/// Queues many jobs of one `queue`, ready now, in one statement per 500: `(payload, dedup key)`.
/// A dedup key already queued is skipped, as in [`enqueue`].
pub async fn enqueue_many(tx: &mut Tx, queue: &str, jobs: &[(String, Option<String>)]) -> StoreResult<()> {
    if jobs.is_empty() {
        return Ok(());
    }
    let now = crate::now();
    for chunk in jobs.chunks(500) {
        let sql = format!(
            "INSERT INTO jobs (queue, payload, dedup_key, run_at, created_at) VALUES {} ON CONFLICT (dedup_key) DO NOTHING",
            crate::placeholders(chunk.len(), 5)
        );
        run_tx!(&mut *tx, c => {
            let mut q = sqlx::query(&sql);
            for (payload, key) in chunk {
                q = q.bind(queue).bind(payload).bind(key).bind(now).bind(now);
            }
            q.execute(&mut **c).await?;
        });
    }
    crate::wakeup::on_enqueue(tx, queue).await
}

/// Takes up to `n` ready jobs of `queue` for `worker` until `now + lease`. A job whose lease
/// ran out (its worker died) is ready again: delivery is at least once.
pub async fn claim(db: &Db, queue: &str, worker: &str, n: i64, lease: Duration, now: DateTime<Utc>) -> StoreResult<Vec<Job>> {
    let until = now + lease;
    let pick = "SELECT id FROM jobs WHERE queue = $1 AND done_at IS NULL AND failed_at IS NULL AND run_at <= $2 \
                AND (locked_until IS NULL OR locked_until < $2) ORDER BY run_at, id LIMIT $3";
    let jobs: Vec<Job> = match &db.write {
        Pool::Postgres(p) => {
            sqlx::query_as(&format!(
                "UPDATE jobs SET locked_by = $4, locked_until = $5, attempts = attempts + 1 WHERE id IN ({pick} FOR UPDATE SKIP LOCKED) \
                 RETURNING id, queue, payload, attempts, max_attempts"
            ))
            .bind(queue).bind(now).bind(n).bind(worker).bind(until)
            .fetch_all(p).await?
        }
        Pool::Sqlite(p) => {
            sqlx::query_as(&format!(
                "UPDATE jobs SET locked_by = $4, locked_until = $5, attempts = attempts + 1 WHERE id IN ({pick}) \
                 RETURNING id, queue, payload, attempts, max_attempts"
            ))
            .bind(queue).bind(now).bind(n).bind(worker).bind(until)
            .fetch_all(p).await?
        }
    };
    Ok(jobs)
}

/// Extends this worker's lease on a job just before it acts on it (sends an SMS, posts a
/// webhook); false if the lease ran out and the job may be another worker's now, so the caller
/// must not act. With it, a batch slower than the lease cannot be sent twice by two nodes.
pub async fn renew(db: &Db, id: i64, worker: &str, lease: Duration, now: DateTime<Utc>) -> StoreResult<bool> {
    let n = run!(&db.write, c => sqlx::query("UPDATE jobs SET locked_until = $4 WHERE id = $1 AND locked_by = $2 AND locked_until >= $3 AND done_at IS NULL")
        .bind(id).bind(worker).bind(now).bind(now + lease).execute(c).await?.rows_affected());
    Ok(n == 1)
}

/// Marks a job done, if this worker still holds it.
pub async fn complete(db: &Db, id: i64, worker: &str) -> StoreResult<bool> {
    let n = run!(&db.write, c => sqlx::query("UPDATE jobs SET done_at = $3, locked_until = NULL WHERE id = $1 AND locked_by = $2 AND done_at IS NULL")
        .bind(id).bind(worker).bind(crate::now()).execute(c).await?.rows_affected());
    Ok(n == 1)
}

/// Backoff before attempt `attempts + 1`: 10 s, 20 s, 40 s … capped at 30 minutes.
pub fn backoff(attempts: i32) -> Duration {
    Duration::seconds((10i64 << attempts.clamp(0, 12) as u32).min(3600) / 2)
}

/// Records a failure: retried after a backoff, or given up after `max_attempts` (kept, visible).
pub async fn fail(db: &Db, job: &Job, worker: &str, error: &str, now: DateTime<Utc>) -> StoreResult<()> {
    let error: String = error.chars().take(2000).collect();
    if job.attempts >= job.max_attempts {
        run!(&db.write, c => { sqlx::query("UPDATE jobs SET failed_at = $3, last_error = $4, locked_until = NULL WHERE id = $1 AND locked_by = $2")
            .bind(job.id).bind(worker).bind(now).bind(&error).execute(c).await?; });
    } else {
        run!(&db.write, c => { sqlx::query("UPDATE jobs SET run_at = $3, last_error = $4, locked_until = NULL WHERE id = $1 AND locked_by = $2")
            .bind(job.id).bind(worker).bind(now + backoff(job.attempts)).bind(&error).execute(c).await?; });
    }
    Ok(())
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct QueueStats {
    pub queue: String,
    pub ready: i64,
    pub failed: i64,
    pub done: i64,
}

pub async fn stats(db: &Db) -> StoreResult<Vec<QueueStats>> {
    Ok(run!(&db.read, c => sqlx::query_as(
        "SELECT queue, SUM(CASE WHEN done_at IS NULL AND failed_at IS NULL THEN 1 ELSE 0 END) AS ready, \
         SUM(CASE WHEN failed_at IS NOT NULL THEN 1 ELSE 0 END) AS failed, SUM(CASE WHEN done_at IS NOT NULL THEN 1 ELSE 0 END) AS done \
         FROM jobs GROUP BY queue ORDER BY queue"
    ).fetch_all(c).await?))
}

#[cfg(test)]
mod tests {
    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(super::backoff(1).num_seconds(), 10);
        assert_eq!(super::backoff(2).num_seconds(), 20);
        assert_eq!(super::backoff(3).num_seconds(), 40);
        assert_eq!(super::backoff(20).num_seconds(), 1800);
    }
}
