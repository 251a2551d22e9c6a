//! Which case fields identify a person (reporter, victim, witness, accused official): storage
//! encrypts them at rest and exports replace them with "[protégé]" unless the export is
//! explicitly allowed to carry them. Deny by default: a field the policy does not know about
//! is treated as identifying, so a field added to a form without updating its workflow
//! cannot leak.

use super::workflow::WorkflowDef;
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// What an export shows instead of a protected value. The same in both languages, so tools
/// reading exports can recognise it.
pub const REDACTED: &str = "[protégé]";

/// Field keys that always identify someone, whatever a workflow says about them.
pub const ALWAYS_IDENTITY: &[&str] = &[
    "reporter_name",
    "reporter_phone",
    "reporter_email",
    "reporter_address",
    "complainant_name",
    "complainant_phone",
    "victims",
    "victim_names",
    "witnesses",
    "witness_names",
    "observer_name",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityPolicy {
    identity: BTreeSet<String>,
    plain: BTreeSet<String>,
}

impl IdentityPolicy {
    /// The policy of one workflow: its fields marked `identity`, plus [`ALWAYS_IDENTITY`].
    pub fn for_workflow(def: &WorkflowDef) -> IdentityPolicy {
        let mut identity: BTreeSet<String> = ALWAYS_IDENTITY.iter().map(|s| s.to_string()).collect();
        let mut plain = BTreeSet::new();
        for f in def.fields() {
            if f.identity {
                identity.insert(f.key.clone());
            } else if !identity.contains(&f.key) {
                plain.insert(f.key.clone());
            }
        }
        IdentityPolicy { identity, plain }
    }

    /// Must storage encrypt this field? True for identity fields and for unknown ones.
    pub fn must_encrypt(&self, field: &str) -> bool {
        !self.plain.contains(field)
    }

    /// The declared identity fields (for the storage schema and the data-protection register).
    pub fn identity_fields(&self) -> impl Iterator<Item = &str> {
        self.identity.iter().map(String::as_str)
    }

    /// Splits a case's fields into what may be stored in clear and what must be encrypted.
    pub fn split(&self, fields: &Map<String, Value>) -> (Map<String, Value>, Map<String, Value>) {
        let mut clear = Map::new();
        let mut secret = Map::new();
        for (k, v) in fields {
            if self.must_encrypt(k) {
                secret.insert(k.clone(), v.clone());
            } else {
                clear.insert(k.clone(), v.clone());
            }
        }
        (clear, secret)
    }

    /// A copy of `fields` for an export: every protected field, known or not, is replaced by
    /// [`REDACTED`] unless named in `allowed` (an export for the competent authority, say,
    /// decided and audited by the server). Empty values stay empty: "[protégé]" over nothing
    /// would claim a witness exists.
    pub fn redact(&self, fields: &Map<String, Value>, allowed: &BTreeSet<String>) -> Map<String, Value> {
        fields
            .iter()
            .map(|(k, v)| {
                let empty = matches!(v, Value::Null) || v.as_str().is_some_and(|s| s.trim().is_empty());
                let keep = !self.must_encrypt(k) || allowed.contains(k) || empty;
                (k.clone(), if keep { v.clone() } else { Value::String(REDACTED.to_string()) })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cases::builtin::{denunciation, violation};
    use serde_json::json;

    #[test]
    fn violation_identity_fields() {
        let p = IdentityPolicy::for_workflow(&violation());
        for f in ["victims", "witnesses", "complainant_name", "complainant_phone", "alleged_perpetrators", "narrative"] {
            assert!(p.must_encrypt(f), "{f}");
        }
        for f in ["violation_type", "location", "event_date", "alleged_perpetrator_unit"] {
            assert!(!p.must_encrypt(f), "{f}");
        }
        // Unknown fields are protected.
        assert!(p.must_encrypt("nom_du_temoin"));
    }

    #[test]
    fn export_redacts_identity_unless_allowed() {
        let p = IdentityPolicy::for_workflow(&denunciation());
        let case = json!({
            "reporter_name": "Aminata Traoré",
            "reporter_phone": "+223 76 00 00 00",
            "locality": "Mopti",
            "administration": "Douanes",
            "facts": "Le chef de poste exige 5 000 FCFA par camion.",
            "alleged_officials": ["Adjudant X"],
            "witness_phone": "+223 66 00 00 00",
            "evidence": null,
            "outcome": ""
        });
        let case = case.as_object().unwrap();
        let out = p.redact(case, &BTreeSet::new());
        assert_eq!(out["reporter_name"], REDACTED);
        assert_eq!(out["reporter_phone"], REDACTED);
        assert_eq!(out["facts"], REDACTED);
        assert_eq!(out["alleged_officials"], REDACTED);
        assert_eq!(out["witness_phone"], REDACTED, "undeclared field must not leak");
        assert_eq!(out["locality"], "Mopti");
        assert_eq!(out["administration"], "Douanes");
        assert_eq!(out["evidence"], Value::Null);
        assert_eq!(out["outcome"], "");
        let serialised = serde_json::to_string(&out).unwrap();
        assert!(!serialised.contains("Aminata") && !serialised.contains("76 00"));

        let allowed = BTreeSet::from(["facts".to_string()]);
        let out = p.redact(case, &allowed);
        assert_eq!(out["facts"], case["facts"]);
        assert_eq!(out["reporter_name"], REDACTED);
    }

    #[test]
    fn split_puts_identity_in_the_encrypted_part() {
        let p = IdentityPolicy::for_workflow(&violation());
        let case = json!({"victims": ["A", "B"], "location": "Boni", "violation_type": "arbitrary_detention", "extra": 1});
        let (clear, secret) = p.split(case.as_object().unwrap());
        assert_eq!(clear.keys().collect::<Vec<_>>(), ["location", "violation_type"]);
        assert_eq!(secret.keys().collect::<Vec<_>>(), ["extra", "victims"]);
        assert!(p.identity_fields().any(|f| f == "witnesses"));
    }
}
