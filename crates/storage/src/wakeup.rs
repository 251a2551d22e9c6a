//! Waking the job workers as soon as work is queued, instead of letting it wait for their next
//! poll. A queue has a tokio `Notify` in this process; on PostgreSQL, `jobs::enqueue` also runs
//! `pg_notify` inside the enqueuing transaction, which PostgreSQL delivers at commit (and never
//! for a rolled-back one) to every app node listening: [`listen`] turns it into the local
//! wake-up. Workers still poll slowly ([`wait`]'s fallback) for delayed retries and in case a
//! notification is lost (listener reconnecting). Claiming stays `FOR UPDATE SKIP LOCKED`: a
//! wake-up only says "look now", it never hands a job to anyone.
//!
//! On SQLite the in-process wake-up is given when the job is inserted, before the commit: the
//! worker's claim goes through the same single writer connection, so it runs only once the
//! enqueuing transaction has committed (or rolled back, and then it finds nothing).

use crate::{run_tx, Db, Pool, StoreResult, Tx};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::sync::Notify;

/// The PostgreSQL channel; the payload is the queue name.
pub const CHANNEL: &str = "vigie_jobs";

fn registry() -> &'static Mutex<HashMap<String, Arc<Notify>>> {
    static QUEUES: OnceLock<Mutex<HashMap<String, Arc<Notify>>>> = OnceLock::new();
    QUEUES.get_or_init(Default::default)
}

fn notify_of(queue: &str) -> Arc<Notify> {
    registry().lock().unwrap_or_else(|e| e.into_inner()).entry(queue.to_string()).or_default().clone()
}

/// Wakes this process's worker of `queue` (a stored permit if it is busy: never lost).
pub fn wake(queue: &str) {
    notify_of(queue).notify_one();
}

/// Inside the transaction that queued a job of `queue`: wakes the workers once it commits.
pub(crate) async fn on_enqueue(tx: &mut Tx, queue: &str) -> StoreResult<()> {
    match tx {
        Tx::Sqlite(_) => wake(queue),
        Tx::Postgres(_) => {
            run_tx!(tx, c => { sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(queue).execute(&mut **c).await?; });
        }
    }
    Ok(())
}

/// Waits until a job of `queue` may be ready: a wake-up (true), or `fallback` at the latest (false).
pub async fn wait(queue: &str, fallback: Duration) -> bool {
    let n = notify_of(queue);
    tokio::time::timeout(fallback, n.notified()).await.is_ok()
}

/// On PostgreSQL, relays the notifications of [`CHANNEL`] (from any app node) to this process's
/// workers, until the runtime stops; reconnects by itself. Nothing to do on SQLite.
pub fn listen(db: &Db) {
    let Pool::Postgres(pool) = &db.write else { return };
    let pool = pool.clone();
    tokio::spawn(async move {
        loop {
            let mut listener = match sqlx::postgres::PgListener::connect_with(&pool).await {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(error = %e, "job wake-up listener: connect");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            if let Err(e) = listener.listen(CHANNEL).await {
                tracing::warn!(error = %e, "job wake-up listener: LISTEN");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
            // Notifications sent while we were not listening are lost: look at every queue once.
            wake_all();
            loop {
                match listener.try_recv().await {
                    Ok(Some(n)) => wake(n.payload()),
                    // The connection dropped; sqlx reconnects on the next call.
                    Ok(None) => wake_all(),
                    Err(e) => {
                        tracing::warn!(error = %e, "job wake-up listener");
                        break;
                    }
                }
            }
        }
    });
}

fn wake_all() {
    for n in registry().lock().unwrap_or_else(|e| e.into_inner()).values() {
        n.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_wake_up_before_the_wait_is_kept() {
        wake("test-queue-a");
        assert!(wait("test-queue-a", Duration::from_secs(5)).await);
        // The permit was used: the next wait runs to its fallback.
        assert!(!wait("test-queue-a", Duration::from_millis(100)).await);
    }
}
