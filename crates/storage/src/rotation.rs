//! Key rotation: every value sealed with the keyring is opened and sealed again under the
//! newest key, in ONE transaction with its audit entry. The caller writes the new keyring (new key
//! in front, every older key kept) to the key file BEFORE calling [`reseal_all`]: whatever
//! happens, each stored value opens with a key of the file. Older keys stay in the file: the
//! oldest one keys the blind indexes and sub-keys (so phone look-ups and receipt codes survive
//! rotation), and a value some other module seals and this list misses still opens.
//!
//! Some columns were sealed after they had held clear text (SMS texts, reporter threads,
//! protected reports' text, OpenRosa submissions: migration 0020). A migration cannot encrypt,
//! so [`seal_clear`] seals the rows older versions wrote in clear: `vigie serve` and `vigie
//! migrate` run it at start-up, and a rotation does it in its transaction. Until then those
//! rows are read as they are (see [`Keyring::is_sealed`]).

use crate::audit::{self, Actor};
use crate::crypto::Keyring;
use crate::{run_tx, Db, StoreError, StoreResult, Tx};

/// A column holding `v1.<key id>.<…>` values sealed by the keyring, and the context each was
/// sealed with (the context binds a value to its row, so it must be rebuilt exactly).
struct SealedColumn {
    table: &'static str,
    column: &'static str,
    /// SQL expression giving the text from which the context is made (the row id, the receipt hash…).
    context_key: &'static str,
    context: fn(&str) -> String,
    clear: Clear,
}

/// Whether, and how, a sealed column may hold values in clear.
#[derive(Clone, Copy)]
enum Clear {
    /// Sealed from its creation: every value is sealed.
    Never,
    /// Sealed after it held clear text: a value is sealed or not by its form
    /// ([`Keyring::is_sealed`]). [`seal_clear`] seals the clear ones in rows matching this SQL
    /// condition (`reports.text`: only protected reports', the others stay in clear).
    ByForm(&'static str),
    /// Sealed in the rows whose flag column (this SQL) is true; [`seal_clear`] seals the other
    /// rows as a whole (a submission: its XML, data and files; see [`crate::forms`]).
    ByFlag(&'static str),
}

/// Every keyring-sealed column of Vigie. A module that seals a new column adds it here
/// (`tests::every_sealed_column_is_listed` checks the migrations' `-- sealed` comments).
const SEALED: &[SealedColumn] = &[
    SealedColumn { table: "users", column: "totp_secret", context_key: "id", context: |id| format!("users.totp_secret:{id}"), clear: Clear::Never },
    SealedColumn { table: "users", column: "phone_sealed", context_key: "id", context: |id| format!("users.phone:{id}"), clear: Clear::Never },
    SealedColumn { table: "reports", column: "reporter_contact", context_key: "id", context: |_| "reports.reporter_contact".into(), clear: Clear::Never },
    SealedColumn { table: "sms_outbox", column: "to_sealed", context_key: "id", context: |_| "sms_outbox.phone".into(), clear: Clear::Never },
    SealedColumn { table: "sms_inbox", column: "from_sealed", context_key: "id", context: |_| "sms_inbox.phone".into(), clear: Clear::Never },
    SealedColumn { table: "webhooks", column: "secret", context_key: "id", context: |id| format!("webhooks.secret:{id}"), clear: Clear::Never },
    // Per-case data keys (envelope encryption): re-wrapping them is enough, the case data stays.
    SealedColumn { table: "cases", column: "data_key", context_key: "receipt_hash", context: |rh| format!("cases.data_key:{rh}"), clear: Clear::Never },
    // Sealed since migration 0020.
    SealedColumn { table: "sms_outbox", column: "text", context_key: "id", context: |_| "sms_outbox.text".into(), clear: Clear::ByForm("1 = 1") },
    SealedColumn { table: "sms_inbox", column: "text", context_key: "id", context: |_| "sms_inbox.text".into(), clear: Clear::ByForm("1 = 1") },
    SealedColumn { table: "report_messages", column: "body", context_key: "report_id", context: |r| format!("report_messages.body:{r}"), clear: Clear::ByForm("1 = 1") },
    SealedColumn { table: "reports", column: "text", context_key: "reference", context: crate::reports::text_context, clear: Clear::ByForm(crate::reports::PROTECTED_SQL) },
    SealedColumn { table: "submissions", column: "data", context_key: "instance_id", context: crate::forms::data_context, clear: Clear::ByFlag("sealed") },
    // The directory's contacts (migration 0007), sealed by `crate::directory`.
    SealedColumn { table: "gov_directory", column: "phone_sealed", context_key: "id", context: |id| format!("gov_directory.phone:{id}"), clear: Clear::Never },
    SealedColumn { table: "gov_directory", column: "email_sealed", context_key: "id", context: |id| format!("gov_directory.email:{id}"), clear: Clear::Never },
];

/// SQL: `column` holds a value sealed under one of `ids` (by its prefix; ids are alphanumeric).
fn sealed_under<'a>(column: &str, ids: impl Iterator<Item = &'a str>) -> String {
    let any: Vec<String> = ids.map(|id| format!("{column} LIKE 'v1.{id}.%'")).collect();
    format!("({})", any.join(" OR "))
}

/// SQL: the rows of `col` holding a sealed value (to open or re-seal).
fn sealed_rows(col: &SealedColumn, keys: &Keyring) -> String {
    let c = col.column;
    match col.clear {
        Clear::Never => format!("{c} IS NOT NULL AND {c} <> ''"),
        Clear::ByForm(_) => sealed_under(c, keys.ids()),
        Clear::ByFlag(flag) => format!("{flag} AND {c} IS NOT NULL AND {c} <> ''"),
    }
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Rotation {
    /// Values sealed again under the new key, per `table.column`.
    pub resealed: std::collections::BTreeMap<String, u64>,
    /// Values found in clear and sealed (rows from before their column was sealed), per `table.column`.
    pub sealed_from_clear: std::collections::BTreeMap<String, u64>,
    pub new_key_id: String,
}

impl Rotation {
    pub fn total(&self) -> u64 {
        self.resealed.values().sum()
    }
}

/// Seals again, under `keys`' newest key, every value sealed with an older key. All or nothing.
pub async fn reseal_all(db: &Db, keys: &Keyring, actor: &Actor) -> StoreResult<Rotation> {
    let current = format!("v1.{}.", keys.current_id());
    let mut out = Rotation { new_key_id: keys.current_id().to_string(), ..Default::default() };
    let mut tx = db.begin().await?;
    for col in SEALED {
        let select = format!(
            "SELECT id AS row_id, CAST({key} AS TEXT) AS ctx, {c} AS sealed FROM {t} WHERE {w} ORDER BY row_id",
            key = col.context_key,
            c = col.column,
            t = col.table,
            w = sealed_rows(col, keys),
        );
        let rows: Vec<(i64, String, String)> = run_tx!(&mut tx, c => sqlx::query_as(&select).fetch_all(&mut **c).await?);
        let mut n = 0u64;
        for (id, key, sealed) in rows {
            if sealed.starts_with(&current) || (matches!(col.clear, Clear::ByForm(_)) && !keys.is_sealed(&sealed)) {
                continue;
            }
            let ctx = (col.context)(&key);
            let plain = keys
                .open(&sealed, &ctx)
                .map_err(|e| StoreError::Other(format!("{}.{} id {id}: {e}", col.table, col.column)))?;
            let again = keys.seal(&plain, &ctx);
            let update = format!("UPDATE {t} SET {c} = $1 WHERE id = $2", t = col.table, c = col.column);
            run_tx!(&mut tx, c => { sqlx::query(&update).bind(&again).bind(id).execute(&mut **c).await?; });
            n += 1;
        }
        out.resealed.insert(format!("{}.{}", col.table, col.column), n);
    }
    out.sealed_from_clear = seal_clear_in(&mut tx, keys).await?.0;
    audit::append(&mut tx, actor, "keys.rotate", "keyring", keys.current_id(), serde_json::json!({"resealed": out.resealed, "sealed_from_clear": out.sealed_from_clear})).await?;
    tx.commit().await?;
    scrub_sqlite(db).await?;
    Ok(out)
}

/// Counts values NOT sealed under the newest key (0 after a complete rotation): sealed under an
/// older key, or still in clear where [`seal_clear`] would seal them.
pub async fn stale_count(db: &Db, keys: &Keyring) -> StoreResult<u64> {
    let current = format!("v1.{}.%", keys.current_id());
    let mut n = 0u64;
    for col in SEALED {
        let (t, c) = (col.table, col.column);
        let q = format!("SELECT COUNT(*) FROM {t} WHERE {} AND {c} NOT LIKE $1", sealed_rows(col, keys));
        let k: i64 = crate::run!(&db.write, c => sqlx::query_scalar(&q).bind(&current).fetch_one(c).await?);
        n += k as u64;
        let clear = match col.clear {
            Clear::Never => continue,
            Clear::ByForm(cond) => format!("SELECT COUNT(*) FROM {t} WHERE {c} <> '' AND NOT {} AND ({cond})", sealed_under(c, keys.ids())),
            Clear::ByFlag(flag) => format!("SELECT COUNT(*) FROM {t} WHERE NOT {flag}"),
        };
        let k: i64 = crate::run!(&db.write, c => sqlx::query_scalar(&clear).fetch_one(c).await?);
        n += k as u64;
    }
    Ok(n)
}

/// Opens every sealed value with `keys` (a check after rotation, or of a key file against a
/// database); returns how many opened, or the first that did not.
pub async fn open_all(db: &Db, keys: &Keyring) -> StoreResult<u64> {
    let mut n = 0u64;
    for col in SEALED {
        let select = format!("SELECT id AS row_id, CAST({key} AS TEXT) AS ctx, {c} AS sealed FROM {t} WHERE {w}", key = col.context_key, c = col.column, t = col.table, w = sealed_rows(col, keys));
        let rows: Vec<(i64, String, String)> = crate::run!(&db.write, c => sqlx::query_as(&select).fetch_all(c).await?);
        for (id, key, sealed) in rows {
            if matches!(col.clear, Clear::ByForm(_)) && !keys.is_sealed(&sealed) {
                continue;
            }
            keys.open(&sealed, &(col.context)(&key)).map_err(|e| StoreError::Other(format!("{}.{} id {id}: {e}", col.table, col.column)))?;
            n += 1;
        }
    }
    Ok(n)
}

/// Seals what older versions stored in clear in columns sealed since (see the module's notes),
/// in one transaction with its audit entry; returns how many values, per `table.column`
/// (nothing written when there is nothing to seal). Idempotent: run at every start-up.
pub async fn seal_clear(db: &Db, actor: &Actor) -> StoreResult<std::collections::BTreeMap<String, u64>> {
    let keys = db.keys()?;
    let mut tx = db.begin().await?;
    let (done, moved) = seal_clear_in(&mut tx, keys).await?;
    if done.values().any(|n| *n > 0) {
        audit::append(&mut tx, actor, "keys.seal_clear", "keyring", keys.current_id(), serde_json::json!({"sealed_from_clear": done})).await?;
        tx.commit().await?;
        scrub_sqlite(db).await?;
    } else if moved {
        tx.commit().await?;
        end_secure_delete(db).await?;
    } else {
        drop(tx);
        end_secure_delete(db).await?;
    }
    Ok(done)
}

/// SQLite rewrites a row where it lies, but the bytes it replaced can survive in the page's free
/// space and in the write-ahead log: [`seal_clear_in`] turns `secure_delete` on (freed space is
/// zeroed), and this, once committed, copies the log into the file and empties it, so the clear
/// text is gone from the SQLite files. (PostgreSQL keeps old row versions in its data files
/// until a VACUUM; `pg_dump` never shows them. See docs/security.md.)
async fn scrub_sqlite(db: &Db) -> StoreResult<()> {
    if let crate::Pool::Sqlite(p) = &db.write {
        let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)").fetch_one(p).await?;
        if busy != 0 {
            tracing::warn!("sealed values in clear, but a reader kept the write-ahead log from being emptied: the old text stays in it until the next checkpoint");
        }
    }
    end_secure_delete(db).await
}

async fn end_secure_delete(db: &Db) -> StoreResult<()> {
    if let crate::Pool::Sqlite(p) = &db.write {
        sqlx::query("PRAGMA secure_delete = OFF").execute(p).await?;
    }
    Ok(())
}

/// How far behind the last row a column's scan mark stays (see `sealed_scan_marks`).
const MARK_MARGIN: i64 = 10_000;

/// Seals what is in clear; returns the counts, and whether a scan mark moved (to be committed).
async fn seal_clear_in(tx: &mut Tx, keys: &Keyring) -> StoreResult<(std::collections::BTreeMap<String, u64>, bool)> {
    let mut out = std::collections::BTreeMap::new();
    let mut moved = false;
    if let Tx::Sqlite(c) = &mut *tx {
        // Zero the space the clear values leave (see `scrub_sqlite`); the callers turn it off.
        sqlx::query("PRAGMA secure_delete = ON").execute(&mut **c).await?;
    }
    for col in SEALED {
        let (t, c) = (col.table, col.column);
        match col.clear {
            Clear::Never => {}
            Clear::ByForm(cond) => {
                // Values that start like a sealed one but are not (clear text that happens to
                // begin with `v1.<key id>.`) are not picked: they stay as they are, read as clear.
                // Only rows after this column's mark (rows before it were looked at already).
                let name = format!("{t}.{c}");
                let mark: i64 = run_tx!(&mut *tx, x => sqlx::query_scalar::<_, i64>("SELECT last_id FROM sealed_scan_marks WHERE column_name = $1")
                    .bind(&name).fetch_optional(&mut **x).await?).unwrap_or(0);
                let last: i64 = run_tx!(&mut *tx, x => sqlx::query_scalar::<_, Option<i64>>(&format!("SELECT MAX(id) FROM {t}")).fetch_one(&mut **x).await?).unwrap_or(0);
                let select = format!(
                    "SELECT id AS row_id, CAST({key} AS TEXT) AS ctx, {c} AS v FROM {t} WHERE id > $1 AND {c} IS NOT NULL AND {c} <> '' AND NOT {s} AND ({cond}) ORDER BY row_id",
                    key = col.context_key,
                    s = sealed_under(c, keys.ids()),
                );
                let rows: Vec<(i64, String, String)> = run_tx!(&mut *tx, x => sqlx::query_as(&select).bind(mark).fetch_all(&mut **x).await?);
                // The next mark stays MARK_MARGIN ids behind the last row: on PostgreSQL a row
                // of a lower id may still be committing (ids are taken before commit).
                let next = (last - MARK_MARGIN).max(mark);
                if next > mark {
                    run_tx!(&mut *tx, x => { sqlx::query("INSERT INTO sealed_scan_marks (column_name, last_id) VALUES ($1, $2) \
                        ON CONFLICT (column_name) DO UPDATE SET last_id = excluded.last_id").bind(&name).bind(next).execute(&mut **x).await?; });
                    moved = true;
                }
                let update = format!("UPDATE {t} SET {c} = $1 WHERE id = $2");
                for (id, key, clear) in &rows {
                    let sealed = keys.seal(clear.as_bytes(), &(col.context)(key));
                    run_tx!(&mut *tx, x => { sqlx::query(&update).bind(&sealed).bind(id).execute(&mut **x).await?; });
                }
                out.insert(format!("{t}.{c}"), rows.len() as u64);
            }
            Clear::ByFlag(_) => {
                // Whole submissions: XML, data and files.
                out.insert(t.to_string(), crate::forms::seal_clear_submissions(tx, keys).await?);
            }
        }
    }
    Ok((out, moved))
}

#[cfg(test)]
mod tests {
    /// Every migration column commented `-- sealed` (keyring-sealed text) is in [`super::SEALED`].
    #[test]
    fn every_sealed_column_is_listed() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite");
        let mut missing = Vec::new();
        for f in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(f.unwrap().path()).unwrap();
            let mut table = "";
            for line in text.lines() {
                if let Some(t) = line.trim_start().strip_prefix("CREATE TABLE ") {
                    table = t.split_whitespace().next().unwrap_or("");
                }
                // A column named `…_sealed` is sealed whatever its comment says.
                let col = line.split_whitespace().next().unwrap_or("");
                if col.ends_with("_sealed") && !super::SEALED.iter().any(|s| s.table == table && s.column == col) {
                    missing.push(format!("{table}.{col}"));
                }
                let Some((def, comment)) = line.split_once("--").filter(|(def, _)| !def.trim().is_empty()) else { continue };
                let col = def.split_whitespace().next().unwrap_or("");
                // Data-key-sealed BLOBs (cases' identities, messages, evidence) are covered by re-wrapping the data key.
                if comment.trim_start().starts_with("sealed") && !def.contains("BLOB") && !super::SEALED.iter().any(|s| s.column == col) {
                    missing.push(line.trim().to_string());
                }
            }
        }
        // Columns sealed after they were created are named in their migration's comments.
        for f in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(f.unwrap().path()).unwrap();
            for line in text.lines() {
                let Some(named) = line.trim_start().strip_prefix("-- sealed column:") else { continue };
                let name = named.split_whitespace().next().unwrap_or("");
                if !super::SEALED.iter().any(|s| format!("{}.{}", s.table, s.column) == name) {
                    missing.push(name.to_string());
                }
            }
        }
        assert!(missing.is_empty(), "sealed columns missing from rotation::SEALED: {missing:?}");
    }
}
