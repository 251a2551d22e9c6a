//! The audit log is a hash chain: each entry commits to the previous one, so editing,
//! deleting or reordering any stored row breaks every hash after it.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The hash that the first entry points back to.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An audit entry as stored. `at` is RFC 3339 UTC with microseconds, as written at insertion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: String,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

/// Hash of an entry's content and its predecessor. Each field is length-prefixed so that
/// moving bytes between fields changes the hash.
pub fn entry_hash(
    seq: i64,
    at: &str,
    actor_id: Option<i64>,
    actor: &str,
    action: &str,
    entity: &str,
    entity_id: &str,
    detail: &str,
    prev_hash: &str,
) -> String {
    let mut h = Sha256::new();
    let actor_id = actor_id.map(|i| i.to_string()).unwrap_or_default();
    let seq = seq.to_string();
    for part in [seq.as_str(), at, actor_id.as_str(), actor, action, entity, entity_id, detail, prev_hash] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

impl AuditEntry {
    pub fn computed_hash(&self) -> String {
        entry_hash(
            self.seq,
            &self.at,
            self.actor_id,
            &self.actor,
            &self.action,
            &self.entity,
            &self.entity_id,
            &self.detail,
            &self.prev_hash,
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum ChainBreak {
    /// The stored hash does not match the entry's content.
    Altered { seq: i64 },
    /// The entry does not point at the hash of the entry before it.
    Unlinked { seq: i64 },
    /// A sequence number is missing (a row was deleted).
    Gap { after: i64, next: i64 },
}

impl ChainBreak {
    /// The last entry known good: everything up to it is intact.
    pub fn last_good(&self) -> i64 {
        match *self {
            ChainBreak::Altered { seq } | ChainBreak::Unlinked { seq } => seq - 1,
            ChainBreak::Gap { after, .. } => after,
        }
    }
    pub fn describe(&self, lang: crate::Lang) -> String {
        let fr = lang == crate::Lang::Fr;
        match *self {
            ChainBreak::Altered { seq } if fr => format!("l'entrée {seq} a été modifiée"),
            ChainBreak::Altered { seq } => format!("entry {seq} was altered"),
            ChainBreak::Unlinked { seq } if fr => format!("l'entrée {seq} ne suit plus la précédente (réécrite ou réordonnée)"),
            ChainBreak::Unlinked { seq } => format!("entry {seq} no longer follows the previous one (rewritten or reordered)"),
            ChainBreak::Gap { after, next } if fr => format!("entrées supprimées entre {after} et {next}"),
            ChainBreak::Gap { after, next } => format!("entries deleted between {after} and {next}"),
        }
    }
}

/// Checks a run of entries in sequence order. `prev` is the hash before the first entry
/// (GENESIS when starting from the beginning) and `prev_seq` its sequence number (0 at the start).
/// Returns the last hash and sequence number, to continue with the next page.
pub fn verify_chain<'a>(
    entries: impl IntoIterator<Item = &'a AuditEntry>,
    mut prev: String,
    mut prev_seq: i64,
) -> Result<(String, i64), ChainBreak> {
    for e in entries {
        if e.seq != prev_seq + 1 {
            return Err(ChainBreak::Gap { after: prev_seq, next: e.seq });
        }
        if e.prev_hash != prev {
            return Err(ChainBreak::Unlinked { seq: e.seq });
        }
        if e.computed_hash() != e.hash {
            return Err(ChainBreak::Altered { seq: e.seq });
        }
        prev = e.hash.clone();
        prev_seq = e.seq;
    }
    Ok((prev, prev_seq))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditEntry> {
        let mut prev = GENESIS.to_string();
        (1..=n)
            .map(|seq| {
                let mut e = AuditEntry {
                    seq,
                    at: format!("2026-11-23T08:00:0{seq}.000000Z"),
                    actor_id: Some(1),
                    actor: "admin".into(),
                    action: "area.create".into(),
                    entity: "area".into(),
                    entity_id: format!("ML-{seq}"),
                    detail: "{}".into(),
                    prev_hash: prev.clone(),
                    hash: String::new(),
                };
                e.hash = e.computed_hash();
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    #[test]
    fn intact_chain_verifies() {
        let c = chain(5);
        assert_eq!(verify_chain(&c, GENESIS.into(), 0).unwrap().1, 5);
    }

    #[test]
    fn any_edit_is_detected() {
        let mut c = chain(5);
        c[2].entity_id = "ML-9".into();
        assert_eq!(verify_chain(&c, GENESIS.into(), 0), Err(ChainBreak::Altered { seq: 3 }));

        let mut c = chain(5);
        // Rewriting an entry *and* its hash still breaks the link of the next one.
        c[2].actor = "mallory".into();
        c[2].hash = c[2].computed_hash();
        assert_eq!(verify_chain(&c, GENESIS.into(), 0), Err(ChainBreak::Unlinked { seq: 4 }));

        let mut c = chain(5);
        c.remove(1);
        assert_eq!(verify_chain(&c, GENESIS.into(), 0), Err(ChainBreak::Gap { after: 1, next: 3 }));
    }

    #[test]
    fn fields_are_not_ambiguous() {
        assert_ne!(
            entry_hash(1, "t", None, "ab", "c", "e", "i", "d", GENESIS),
            entry_hash(1, "t", None, "a", "bc", "e", "i", "d", GENESIS)
        );
    }
}
