//! The append-only, hash-chained audit log. Entries are written in the same transaction
//! as the change they record, so there is never a change without its entry.

use crate::{bind_args, run, run_tx, Arg, Db, Page, StoreResult, Tx};
use vigie_domain::audit::{verify_chain, AuditEntry, ChainBreak, GENESIS};

/// Who acted: a user, or the system itself (imports from the CLI, scheduled jobs).
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: Option<i64>,
    pub label: String,
}

impl Actor {
    pub fn system(what: &str) -> Actor {
        Actor { id: None, label: format!("system:{what}") }
    }
    pub fn user(id: i64, username: &str) -> Actor {
        Actor { id: Some(id), label: username.to_string() }
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    seq: i64,
    at: String,
    actor_id: Option<i64>,
    actor: String,
    action: String,
    entity: String,
    entity_id: String,
    detail: String,
    prev_hash: String,
    hash: String,
}

impl From<Row> for AuditEntry {
    fn from(r: Row) -> Self {
        AuditEntry {
            seq: r.seq,
            at: r.at,
            actor_id: r.actor_id,
            actor: r.actor,
            action: r.action,
            entity: r.entity,
            entity_id: r.entity_id,
            detail: r.detail,
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

const COLUMNS: &str = "seq, at, actor_id, actor, action, entity, entity_id, detail, prev_hash, hash";

/// Appends one entry inside `tx`. On PostgreSQL a transaction-scoped advisory lock
/// serialises appenders (several app nodes may write); SQLite has one writer already.
pub async fn append(
    tx: &mut Tx,
    actor: &Actor,
    action: &str,
    entity: &str,
    entity_id: &str,
    detail: serde_json::Value,
) -> StoreResult<i64> {
    let seqs = append_many(tx, &[NewEntry { actor, action, entity, entity_id: entity_id.to_string(), detail }]).await?;
    Ok(seqs[0])
}

/// One entry to append with [`append_many`].
pub struct NewEntry<'a> {
    pub actor: &'a Actor,
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: String,
    pub detail: serde_json::Value,
}

/// Rows per INSERT (10 parameters each; small for the reason given at `reports::REPORTS_PER_INSERT`).
const ROWS_PER_INSERT: usize = 200;

/// Appends entries in order inside `tx`, the chain computed in memory from the head read once:
/// a commit group of intakes costs one read and one INSERT per 200 entries instead of two
/// statements per entry. Returns their sequence numbers.
pub async fn append_many(tx: &mut Tx, entries: &[NewEntry<'_>]) -> StoreResult<Vec<i64>> {
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let at = crate::now().format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
    if let Tx::Postgres(c) = tx {
        sqlx::query("SELECT pg_advisory_xact_lock(7452010)").execute(&mut **c).await?;
    }
    let last: Option<(i64, String)> = run_tx!(&mut *tx, c => {
        sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetch_optional(&mut **c).await?
    });
    let (mut seq, mut prev_hash) = last.unwrap_or((0, GENESIS.to_string()));
    let mut rows = Vec::with_capacity(entries.len());
    for e in entries {
        seq += 1;
        let detail = e.detail.to_string();
        let hash = vigie_domain::audit::entry_hash(seq, &at, e.actor.id, &e.actor.label, e.action, e.entity, &e.entity_id, &detail, &prev_hash);
        rows.push((seq, e, detail, std::mem::replace(&mut prev_hash, hash.clone()), hash));
    }
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let sql = format!("INSERT INTO audit_log ({COLUMNS}) VALUES {}", crate::placeholders(chunk.len(), 10));
        run_tx!(&mut *tx, c => {
            let mut q = sqlx::query(&sql);
            for (seq, e, detail, prev, hash) in chunk {
                q = q.bind(*seq).bind(&at).bind(e.actor.id).bind(&e.actor.label).bind(e.action).bind(e.entity)
                    .bind(&e.entity_id).bind(detail).bind(prev).bind(hash);
            }
            q.execute(&mut **c).await?;
        });
    }
    Ok(rows.iter().map(|r| r.0).collect())
}

#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub actor: Option<String>,
}

pub async fn list(db: &Db, f: &AuditFilter, page: i64, per_page: i64) -> StoreResult<Page<AuditEntry>> {
    let mut args = Vec::new();
    let mut conds = vec!["1 = 1".to_string()];
    for (col, v) in [("entity", &f.entity), ("entity_id", &f.entity_id), ("actor", &f.actor)] {
        if let Some(v) = v {
            args.push(Arg::Text(v.clone()));
            conds.push(format!("{col} = ${}", args.len()));
        }
    }
    let wher = conds.join(" AND ");
    let count_sql = format!("SELECT COUNT(*) FROM audit_log WHERE {wher}");
    let total: i64 = run!(&db.read, c => bind_args!(sqlx::query_scalar(&count_sql), &args).fetch_one(c).await?);
    let sql = format!(
        "SELECT {COLUMNS} FROM audit_log WHERE {wher} ORDER BY seq DESC LIMIT {} OFFSET {}",
        per_page,
        (page - 1) * per_page
    );
    let rows: Vec<Row> = run!(&db.read, c => bind_args!(sqlx::query_as(&sql), &args).fetch_all(c).await?);
    Ok(Page { items: rows.into_iter().map(Into::into).collect(), total, page, per_page })
}

/// Result of checking the whole chain.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Verification {
    pub entries: i64,
    pub last_hash: String,
    pub broken: Option<ChainBreak>,
}

/// Re-hashes the whole log from the first entry, page by page (constant memory).
pub async fn verify(db: &Db) -> StoreResult<Verification> {
    let (mut prev, mut prev_seq) = (GENESIS.to_string(), 0i64);
    loop {
        let rows: Vec<Row> = run!(&db.read, c => {
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 2000"))
                .bind(prev_seq).fetch_all(c).await?
        });
        if rows.is_empty() {
            return Ok(Verification { entries: prev_seq, last_hash: prev, broken: None });
        }
        let entries: Vec<AuditEntry> = rows.into_iter().map(Into::into).collect();
        match verify_chain(&entries, prev.clone(), prev_seq) {
            Ok((h, s)) => {
                prev = h;
                prev_seq = s;
            }
            Err(b) => return Ok(Verification { entries: b.last_good(), last_hash: prev, broken: Some(b) }),
        }
    }
}
