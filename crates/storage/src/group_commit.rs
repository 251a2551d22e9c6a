//! Group commit for report intake (every channel, and OpenRosa submissions with the report
//! they become). One writer task per process takes the intake requests
//! that arrive while the previous commit is on its way to disk, stores them together in one
//! transaction, commits once (one fsync for the whole group), and only then answers each caller. A 2xx still means "on disk". The group is written with a few
//! multi-row statements ([`reports::store_group`]); a request that fails it (a constraint) makes
//! the writer store the group again in halves, so that request gets its own error without
//! touching the others.
//!
//! Why: with `synchronous=FULL` (SQLite) or `synchronous_commit=on` (PostgreSQL) the cost of
//! a report is the fsync of its commit. Sharing it among every request that is waiting turns
//! a few hundred durable commits per second into tens of thousands of durable reports.

use crate::forms::{self, Pending, Received, Stored};
use crate::reports::{self, IntakeOutcome, Prepared};
use crate::sms::{self, InboxStored, PendingInbox};
use crate::{Db, StoreError, StoreResult};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// At most this many requests share one commit (bounds the transaction and the reply delay).
pub const MAX_GROUP: usize = 1024;
/// Requests waiting for the writer; callers wait (backpressure) when it is full.
const QUEUE: usize = 16 * 1024;

/// One request for the writer.
pub(crate) enum Job {
    Intake { prepared: Prepared, reply: oneshot::Sender<StoreResult<IntakeOutcome>> },
    /// An OpenRosa submission, and the report it becomes (none for a survey or a refusal).
    Submission { pending: Pending, intake: Option<Prepared>, reply: oneshot::Sender<StoreResult<Received>> },
    /// An inbound SMS, and the report it becomes (none for a reply-only message).
    Inbound { pending: PendingInbox, intake: Option<Prepared>, reply: oneshot::Sender<StoreResult<InboxStored>> },
}

impl Job {
    /// The report this job writes, if any.
    fn report(&self) -> Option<&Prepared> {
        match self {
            Job::Intake { prepared, .. } => Some(prepared),
            Job::Submission { intake, .. } | Job::Inbound { intake, .. } => intake.as_ref(),
        }
    }

    fn fail(self, e: StoreError) {
        match self {
            Job::Intake { reply, .. } => drop(reply.send(Err(e))),
            Job::Submission { reply, .. } => drop(reply.send(Err(e))),
            Job::Inbound { reply, .. } => drop(reply.send(Err(e))),
        }
    }
}

/// The way to the writer task, shared by every clone of a [`Db`].
#[derive(Debug, Clone)]
pub struct Handle {
    /// Intakes that may raise an alert by themselves: taken before any bulk intake.
    urgent: mpsc::Sender<Job>,
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
/// One that may raise an alert goes ahead of every bulk intake waiting (see [`hand_over`]): under a
/// flood of reports, the report that raises the alert is not behind thousands of others.
pub(crate) async fn submit(db: &Db, prepared: Prepared) -> StoreResult<IntakeOutcome> {
    let (reply, answer) = oneshot::channel();
    hand_over(db, Job::Intake { prepared, reply }).await?;
    answer.await.map_err(|_| StoreError::Other("intake writer stopped before answering".into()))?
}

/// The same for an OpenRosa submission and the report it becomes, written together.
pub(crate) async fn submit_submission(db: &Db, pending: Pending, intake: Option<Prepared>) -> StoreResult<Received> {
    let (reply, answer) = oneshot::channel();
    hand_over(db, Job::Submission { pending, intake, reply }).await?;
    answer.await.map_err(|_| StoreError::Other("intake writer stopped before answering".into()))?
}

/// The same for an inbound SMS and the report it becomes, written together.
pub(crate) async fn submit_inbound(db: &Db, pending: PendingInbox, intake: Option<Prepared>) -> StoreResult<InboxStored> {
    let (reply, answer) = oneshot::channel();
    hand_over(db, Job::Inbound { pending, intake, reply }).await?;
    answer.await.map_err(|_| StoreError::Other("intake writer stopped before answering".into()))?
}

/// Queues a job; one whose report may raise an alert by itself goes in the urgent lane.
async fn hand_over(db: &Db, job: Job) -> StoreResult<()> {
    let urgent = match job.report() {
        Some(p) => crate::auto_raise::may_raise(&crate::auto_raise::armed_rules(db).await?, p.report()),
        None => false,
    };
    let handle = db.intake_writer.get_or_init(|| start(db));
    let lane = if urgent { &handle.urgent } else { &handle.queue };
    lane.send(job).await.map_err(|_| StoreError::Other("intake writer stopped".into()))
}

fn start(db: &Db) -> Handle {
    let (queue, jobs) = mpsc::channel(QUEUE);
    let (urgent, urgent_jobs) = mpsc::channel(QUEUE);
    let stats = Arc::new(Stats::default());
    // The task gets a Db without the writer cell: when the last user clone is dropped, the
    // queue closes and the task ends instead of keeping itself alive.
    let mut own = db.clone();
    own.intake_writer = Default::default();
    tokio::spawn(writer(own, urgent_jobs, jobs, stats.clone()));
    Handle { urgent, queue, stats }
}

async fn writer(db: Db, mut urgent: mpsc::Receiver<Job>, mut jobs: mpsc::Receiver<Job>, stats: Arc<Stats>) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    let mut cache = reports::EventCache::default();
    loop {
        // Wait for one request (urgent first), then take every one already waiting: urgent
        // ones first, bulk ones after. No timer: a lone request is committed at once and a
        // crowd shares the commit that follows.
        let first = tokio::select! {
            biased;
            Some(job) = urgent.recv() => job,
            Some(job) = jobs.recv() => job,
            else => break,
        };
        group.push(first);
        while group.len() < MAX_GROUP {
            match urgent.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let n = group.len() as u64;
        commit_group(&db, &mut cache, std::mem::take(&mut group)).await;
        stats.commits.fetch_add(1, Ordering::Relaxed);
        stats.requests.fetch_add(n, Ordering::Relaxed);
        metrics::counter!("vigie_intake_commits_total").increment(1);
        metrics::counter!("vigie_intake_reports_total").increment(n);
    }
}

async fn commit_group(db: &Db, cache: &mut reports::EventCache, group: Vec<Job>) {
    let mut tx = match db.begin().await {
        Ok(tx) => tx,
        Err(e) => return fail_all(group, &e),
    };
    match write_group(db, &mut tx, cache, &group).await {
        Ok((answers, remembered)) => match tx.commit().await {
            Ok(()) => {
                cache.apply(remembered);
                for (job, answer) in group.into_iter().zip(answers) {
                    match (job, answer) {
                        (Job::Intake { reply, .. }, Answer::Intake(o)) => drop(reply.send(Ok(o))),
                        (Job::Submission { reply, .. }, Answer::Submission(r)) => drop(reply.send(Ok(r))),
                        (Job::Inbound { reply, .. }, Answer::Inbound(r)) => drop(reply.send(Ok(r))),
                        (job, _) => job.fail(StoreError::Other("intake writer: answer of another kind".into())),
                    }
                }
            }
            // Not retried: after a failed COMMIT nobody knows what is on disk.
            Err(e) => fail_all(group, &e),
        },
        Err(e) => {
            drop(tx); // rolled back: nothing of the group is stored
            if group.len() == 1 {
                match group.into_iter().next().expect("one job") {
                    Job::Intake { prepared, reply } => {
                        let answer = match e {
                            // Same key stored by another node at the same moment (PostgreSQL): answer as it did.
                            StoreError::Conflict(c) => match reports::by_idempotency_key(db, prepared.key()).await {
                                Ok(Some(existing)) => Ok(existing),
                                _ => Err(StoreError::Conflict(c)),
                            },
                            e => Err(e),
                        };
                        let _ = reply.send(answer);
                    }
                    job => job.fail(e),
                }
            } else {
                // One request failed the group: store the halves apart, so it gets its own error
                // and the others are stored (log2(group) extra commits, only when something fails).
                let mut first = group;
                let second = first.split_off(first.len() / 2);
                Box::pin(commit_group(db, cache, first)).await;
                Box::pin(commit_group(db, cache, second)).await;
            }
        }
    }
}

enum Answer {
    Intake(IntakeOutcome),
    Submission(Received),
    Inbound(InboxStored),
}

/// The row a job writes before its report, if any.
enum Row {
    Nothing,
    Submission(Stored),
    /// None: the gateway's id was stored already (a retry).
    Inbox(Option<i64>),
}

/// Writes the whole group inside `tx`: submissions first (a resent instanceID stores nothing,
/// not even its report), then every report at once, then the links between them.
async fn write_group(db: &Db, tx: &mut crate::Tx, cache: &reports::EventCache, group: &[Job]) -> StoreResult<(Vec<Answer>, reports::CacheUpdate)> {
    let ctx = reports::GroupContext::load(db, tx).await?;
    let pending: Vec<&Pending> = group.iter().filter_map(|j| match j { Job::Submission { pending, .. } => Some(pending), _ => None }).collect();
    let mut stored = forms::insert_pending(tx, db, &pending).await?.into_iter();
    // Each job's own row, and its report unless the row was a resend.
    let mut plan: Vec<(Row, Option<&Prepared>)> = Vec::with_capacity(group.len());
    for job in group {
        plan.push(match job {
            Job::Intake { prepared, .. } => (Row::Nothing, Some(prepared)),
            Job::Submission { intake, .. } => {
                let s = stored.next().expect("one outcome per submission");
                (Row::Submission(s), if matches!(s, Stored::New(_)) { intake.as_ref() } else { None })
            }
            Job::Inbound { pending, intake, .. } => {
                let id = sms::insert_pending(tx, pending).await?;
                (Row::Inbox(id), if id.is_some() { intake.as_ref() } else { None })
            }
        });
    }
    let prepared: Vec<&Prepared> = plan.iter().filter_map(|(_, p)| *p).collect();
    let (outcomes, remembered) = reports::store_group(tx, &ctx, cache, &prepared).await?;
    let mut outcomes = outcomes.into_iter();
    let mut answers = Vec::with_capacity(group.len());
    for (job, (row, p)) in group.iter().zip(plan) {
        let report = p.map(|_| outcomes.next().expect("one outcome per report"));
        answers.push(match (job, row) {
            (Job::Submission { pending, .. }, Row::Submission(stored)) => {
                if let (Stored::New(id), Some(r)) = (stored, &report) {
                    forms::link_report(tx, id, r.report_id).await?;
                }
                let intake_error = if matches!(stored, Stored::New(_)) { pending.intake_error().map(str::to_string) } else { None };
                Answer::Submission(Received { stored, report, intake_error })
            }
            (_, Row::Inbox(id)) => {
                if let (Some(id), Some(r)) = (id, &report) {
                    sms::link_inbound_report(tx, id, r.report_id).await?;
                }
                Answer::Inbound(id.map(|id| (id, report)))
            }
            _ => Answer::Intake(report.expect("an intake has its report")),
        });
    }
    Ok((answers, remembered))
}

/// Nothing of the group was stored: every caller gets the error (a stored-looking answer
/// would be a lie after a failed commit).
fn fail_all(group: Vec<Job>, e: &StoreError) {
    for job in group {
        job.fail(StoreError::Other(e.to_string()));
    }
}
