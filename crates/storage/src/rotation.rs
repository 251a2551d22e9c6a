//! Key rotation: every value sealed with the keyring is opened and sealed again under the
//! newest key, in ONE transaction with its audit entry. The caller writes the new keyring (new key
//! in front, every older key kept) to the key file BEFORE calling [`reseal_all`]: whatever
//! happens, each stored value opens with a key of the file. Older keys stay in the file: the
//! oldest one keys the blind indexes and sub-keys (so phone look-ups and receipt codes survive
//! rotation), and a value some other module seals and this list misses still opens.

use crate::audit::{self, Actor};
use crate::crypto::Keyring;
use crate::{run_tx, Db, StoreError, StoreResult};

/// A column holding `v1.<key id>.<…>` values sealed by the keyring, and the context each was
/// sealed with (the context binds a value to its row, so it must be rebuilt exactly).
struct SealedColumn {
    table: &'static str,
    column: &'static str,
    /// SQL expression giving the text from which the context is made (the row id, the receipt hash…).
    context_key: &'static str,
    context: fn(&str) -> String,
}

/// Every keyring-sealed column of Vigie. A module that seals a new column adds it here
/// (`tests::every_sealed_column_is_listed` checks the migrations' `-- sealed` comments).
const SEALED: &[SealedColumn] = &[
    SealedColumn { table: "users", column: "totp_secret", context_key: "id", context: |id| format!("users.totp_secret:{id}") },
    SealedColumn { table: "users", column: "phone_sealed", context_key: "id", context: |id| format!("users.phone:{id}") },
    SealedColumn { table: "reports", column: "reporter_contact", context_key: "id", context: |_| "reports.reporter_contact".into() },
    SealedColumn { table: "sms_outbox", column: "to_sealed", context_key: "id", context: |_| "sms_outbox.phone".into() },
    SealedColumn { table: "sms_inbox", column: "from_sealed", context_key: "id", context: |_| "sms_inbox.phone".into() },
    SealedColumn { table: "webhooks", column: "secret", context_key: "id", context: |id| format!("webhooks.secret:{id}") },
    // Per-case data keys (envelope encryption): re-wrapping them is enough, the case data stays.
    SealedColumn { table: "cases", column: "data_key", context_key: "receipt_hash", context: |rh| format!("cases.data_key:{rh}") },
];

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Rotation {
    /// Values sealed again under the new key, per `table.column`.
    pub resealed: std::collections::BTreeMap<String, u64>,
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
            "SELECT id AS row_id, CAST({key} AS TEXT) AS ctx, {c} AS sealed FROM {t} WHERE {c} IS NOT NULL AND {c} <> '' ORDER BY row_id",
            key = col.context_key,
            c = col.column,
            t = col.table
        );
        let rows: Vec<(i64, String, String)> = run_tx!(&mut tx, c => sqlx::query_as(&select).fetch_all(&mut **c).await?);
        let mut n = 0u64;
        for (id, key, sealed) in rows {
            if sealed.starts_with(&current) {
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
    audit::append(&mut tx, actor, "keys.rotate", "keyring", keys.current_id(), serde_json::json!({"resealed": out.resealed})).await?;
    tx.commit().await?;
    Ok(out)
}

/// Counts values NOT sealed under the newest key (0 after a complete rotation).
pub async fn stale_count(db: &Db, keys: &Keyring) -> StoreResult<u64> {
    let current = format!("v1.{}.%", keys.current_id());
    let mut n = 0u64;
    for col in SEALED {
        let q = format!("SELECT COUNT(*) FROM {t} WHERE {c} IS NOT NULL AND {c} <> '' AND {c} NOT LIKE $1", t = col.table, c = col.column);
        let k: i64 = crate::run!(&db.write, c => sqlx::query_scalar(&q).bind(&current).fetch_one(c).await?);
        n += k as u64;
    }
    Ok(n)
}

/// Opens every sealed value with `keys` (a check after rotation, or of a key file against a
/// database); returns how many opened, or the first that did not.
pub async fn open_all(db: &Db, keys: &Keyring) -> StoreResult<u64> {
    let mut n = 0u64;
    for col in SEALED {
        let select = format!("SELECT id AS row_id, CAST({key} AS TEXT) AS ctx, {c} AS sealed FROM {t} WHERE {c} IS NOT NULL AND {c} <> ''", key = col.context_key, c = col.column, t = col.table);
        let rows: Vec<(i64, String, String)> = crate::run!(&db.write, c => sqlx::query_as(&select).fetch_all(c).await?);
        for (id, key, sealed) in rows {
            keys.open(&sealed, &(col.context)(&key)).map_err(|e| StoreError::Other(format!("{}.{} id {id}: {e}", col.table, col.column)))?;
            n += 1;
        }
    }
    Ok(n)
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
            for line in text.lines() {
                let Some((def, comment)) = line.split_once("--") else { continue };
                let col = def.split_whitespace().next().unwrap_or("");
                // Data-key-sealed BLOBs (cases' identities, messages, evidence) are covered by re-wrapping the data key.
                if comment.trim_start().starts_with("sealed") && !def.contains("BLOB") && !super::SEALED.iter().any(|s| s.column == col) {
                    missing.push(line.trim().to_string());
                }
            }
        }
        assert!(missing.is_empty(), "sealed columns missing from rotation::SEALED: {missing:?}");
    }
}
