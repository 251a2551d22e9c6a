//! Group commit for report intake. One writer task per process takes the intake requests
//! that arrive while the previous commit is on its way to disk, stores each one in its own
//! savepoint inside one transaction, commits once (one fsync for the whole group), and only
//! then answers each caller. A 2xx still means "on disk"; a request that fails (bad area,
//! constraint) is rolled back to its savepoint and answered with its own error, without
//! touching the others.
//!
//! Why: with `synchronous=FULL` (SQLite) or `synchronous_commit=on` (PostgreSQL) the cost of
//! a report is the fsync of its commit. Sharing it among every request that is waiting turns
//! a few hundred durable commits per second into tens of thousands of durable reports.

use crate::reports::{self, IntakeOutcome, Prepared};
use crate::{run_tx, Db, StoreError, StoreResult, Tx};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// At most this many requests share one commit (bounds the transaction and the reply delay).
pub const MAX_GROUP: usize = 1024;
/// Requests waiting for the writer; callers wait (backpressure) when it is full.
const QUEUE: usize = 16 * 1024;

pub(crate) struct Job {
    prepared: Prepared,
    reply: oneshot::Sender<StoreResult<IntakeOutcome>>,
}

/// The way to the writer task, shared by every clone of a [`Db`].
#[derive(Debug, Clone)]
pub struct Handle {
    queue: mpsc::Sender<Job>,
    stats: Arc<Stats>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("intake job")
    }
}

/// Counters since start: how many commits carried how many requests.
#[derive(Debug, Default)]
pub struct Stats {
    pub commits: AtomicU64,
    pub requests: AtomicU64,
}

/// Commits and requests so far, as `(commits, requests)`; requests / commits is the mean group size.
pub fn stats(db: &Db) -> (u64, u64) {
    match db.intake_writer.get() {
        Some(h) => (h.stats.commits.load(Ordering::Relaxed), h.stats.requests.load(Ordering::Relaxed)),
        None => (0, 0),
    }
}

/// Hands one prepared report to the writer and waits until it is committed (or refused).
pub(crate) async fn submit(db: &Db, prepared: Prepared) -> StoreResult<IntakeOutcome> {
    let handle = db.intake_writer.get_or_init(|| start(db));
    let (reply, answer) = oneshot::channel();
    handle.queue.send(Job { prepared, reply }).await.map_err(|_| StoreError::Other("intake writer stopped".into()))?;
    answer.await.map_err(|_| StoreError::Other("intake writer stopped before answering".into()))?
}

fn start(db: &Db) -> Handle {
    let (queue, jobs) = mpsc::channel(QUEUE);
    let stats = Arc::new(Stats::default());
    // The task gets a Db without the writer cell: when the last user clone is dropped, the
    // queue closes and the task ends instead of keeping itself alive.
    let mut own = db.clone();
    own.intake_writer = Default::default();
    tokio::spawn(writer(own, jobs, stats.clone()));
    Handle { queue, stats }
}

async fn writer(db: Db, mut jobs: mpsc::Receiver<Job>, stats: Arc<Stats>) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    // `recv_many` waits for one request, then takes every one already waiting: no timer, so a
    // lone request is committed at once and a crowd shares the commit that follows.
    while jobs.recv_many(&mut group, MAX_GROUP).await > 0 {
        let n = group.len() as u64;
        commit_group(&db, std::mem::take(&mut group)).await;
        stats.commits.fetch_add(1, Ordering::Relaxed);
        stats.requests.fetch_add(n, Ordering::Relaxed);
        metrics::counter!("vigie_intake_commits_total").increment(1);
        metrics::counter!("vigie_intake_reports_total").increment(n);
    }
}

async fn savepoint(tx: &mut Tx, sql: &'static str) -> Result<(), sqlx::Error> {
    run_tx!(tx, c => sqlx::query(sql).execute(&mut **c).await.map(|_| ()))
}

async fn commit_group(db: &Db, group: Vec<Job>) {
    let mut tx = match db.begin().await {
        Ok(tx) => tx,
        Err(e) => return fail_all(group, &e),
    };
    let ctx = match reports::GroupContext::load(db, &mut tx).await {
        Ok(c) => c,
        Err(e) => return fail_all(group, &e),
    };
    let mut done: Vec<(oneshot::Sender<StoreResult<IntakeOutcome>>, StoreResult<IntakeOutcome>)> = Vec::with_capacity(group.len());
    let mut jobs = group.into_iter();
    while let Some(job) = jobs.next() {
        if let Err(e) = savepoint(&mut tx, "SAVEPOINT intake").await {
            let e = StoreError::from(e);
            let rest: Vec<Job> = std::iter::once(job).chain(jobs).collect();
            fail_all(rest, &e);
            return fail_done(done, &e);
        }
        let result = reports::store_prepared(&mut tx, &ctx, &job.prepared).await;
        let closed = match &result {
            Ok(_) => savepoint(&mut tx, "RELEASE SAVEPOINT intake").await,
            Err(_) => savepoint(&mut tx, "ROLLBACK TO SAVEPOINT intake").await.and(savepoint(&mut tx, "RELEASE SAVEPOINT intake").await),
        };
        if let Err(e) = closed {
            let e = StoreError::from(e);
            let _ = job.reply.send(Err(StoreError::Other(e.to_string())));
            fail_all(jobs.collect(), &e);
            return fail_done(done, &e);
        }
        // Same key stored by another node at the same moment (PostgreSQL): answer as it did.
        let result = match result {
            Err(StoreError::Conflict(c)) => match reports::by_idempotency_key_tx(&mut tx, job.prepared.key()).await {
                Ok(Some(existing)) => Ok(existing),
                _ => Err(StoreError::Conflict(c)),
            },
            r => r,
        };
        done.push((job.reply, result));
    }
    match tx.commit().await {
        Ok(()) => {
            for (reply, result) in done {
                let _ = reply.send(result);
            }
        }
        Err(e) => fail_done(done, &e),
    }
}

/// Nothing of the group was stored: every caller gets the error (a stored-looking answer
/// would be a lie after a failed commit).
fn fail_all(group: Vec<Job>, e: &StoreError) {
    for job in group {
        let _ = job.reply.send(Err(StoreError::Other(e.to_string())));
    }
}

fn fail_done(done: Vec<(oneshot::Sender<StoreResult<IntakeOutcome>>, StoreResult<IntakeOutcome>)>, e: &StoreError) {
    for (reply, result) in done {
        let _ = reply.send(match result {
            Err(own) => Err(own),
            Ok(_) => Err(StoreError::Other(e.to_string())),
        });
    }
}
