//! Where an indicator's actual values come from: typed in by M&E officers, or computed from
//! Vigie's own records (alerts, cases, statistical returns, …) by a named *computer*.
//!
//! The computers themselves read the database and live in `vigie_storage::indicator_sources`,
//! each registered under a key such as `early_warning.prevented_share`; here is only the
//! description stored with the indicator, so adding a computer (committee meetings held, say)
//! needs no change to this type.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum IndicatorSource {
    /// Values entered by people (API, web form, import).
    #[default]
    Manual,
    /// Values computed from records; `computer` names a registered computer and `params` are
    /// its settings (`{"workflow":"denunciation","state":"closed"}`).
    Computed {
        computer: String,
        #[serde(default)]
        params: serde_json::Map<String, serde_json::Value>,
    },
}

impl IndicatorSource {
    pub fn is_computed(&self) -> bool {
        matches!(self, IndicatorSource::Computed { .. })
    }
    /// A text parameter of a computed source.
    pub fn param(&self, name: &str) -> Option<&str> {
        match self {
            IndicatorSource::Computed { params, .. } => params.get(name).and_then(|v| v.as_str()),
            IndicatorSource::Manual => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_as_tagged_json() {
        let s: IndicatorSource = serde_json::from_str(r#"{"kind":"computed","computer":"cases.count","params":{"state":"closed"}}"#).unwrap();
        assert_eq!(s.param("state"), Some("closed"));
        assert!(s.is_computed());
        assert_eq!(serde_json::to_string(&IndicatorSource::Manual).unwrap(), r#"{"kind":"manual"}"#);
    }
}
