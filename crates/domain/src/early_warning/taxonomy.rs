//! What a report is about: the category list, its families and default severities.
//! Categories are data (an administrator may add some), but the defaults ship with Vigie so a
//! fresh install can take reports on day one.

use super::EwMsg;
use crate::Lang;
use serde::{Deserialize, Serialize};
use std::fmt;

/// How grave a situation is. Ordered: `Low < Moderate < High < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low = 1,
    Moderate = 2,
    High = 3,
    Critical = 4,
}

impl Severity {
    pub const ALL: [Severity; 4] = [Severity::Low, Severity::Moderate, Severity::High, Severity::Critical];
    pub fn from_level(n: u8) -> Result<Self, EwMsg> {
        match n {
            1 => Ok(Severity::Low),
            2 => Ok(Severity::Moderate),
            3 => Ok(Severity::High),
            4 => Ok(Severity::Critical),
            _ => Err(EwMsg::InvalidSeverity),
        }
    }
    pub fn level(self) -> u8 {
        self as u8
    }
    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Severity::Low, Lang::Fr) => "faible",
            (Severity::Low, Lang::En) => "low",
            (Severity::Moderate, Lang::Fr) => "modérée",
            (Severity::Moderate, Lang::En) => "moderate",
            (Severity::High, Lang::Fr) => "élevée",
            (Severity::High, Lang::En) => "high",
            (Severity::Critical, Lang::Fr) => "critique",
            (Severity::Critical, Lang::En) => "critical",
        }
    }
}

/// A category code: `armed_attack`, `natural_hazard_flood`. Lowercase ASCII letters, digits and
/// underscores, starting with a letter, 2..=48 long: safe in URLs, SMS keywords and SQL.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CategoryCode(String);

impl CategoryCode {
    pub fn parse(raw: &str) -> Result<Self, EwMsg> {
        let c = raw.trim().to_ascii_lowercase();
        let ok = (2..=48).contains(&c.len())
            && c.as_bytes()[0].is_ascii_lowercase()
            && c.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if ok {
            Ok(CategoryCode(c))
        } else {
            Err(EwMsg::InvalidCategoryCode)
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The catch-all category every list must have.
    pub fn other() -> Self {
        CategoryCode(OTHER.to_string())
    }
}

impl TryFrom<String> for CategoryCode {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        CategoryCode::parse(&s).map_err(|m| m.text(Lang::En))
    }
}
impl From<CategoryCode> for String {
    fn from(c: CategoryCode) -> String {
        c.0
    }
}
impl fmt::Display for CategoryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub const OTHER: &str = "other";

/// Coarse grouping used by deduplication: two people may file one attack as "armed attack" and
/// "abduction", but never as "flood".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CategoryFamily {
    /// Attacks, abductions, explosive devices: physical violence by armed actors.
    ArmedViolence,
    /// Intercommunal, land, water or pasture disputes.
    CommunityConflict,
    Threat,
    GenderBasedViolence,
    SmallArms,
    Displacement,
    NaturalHazard,
    /// Rumours and hate speech: information, not yet events.
    Information,
    SecurityForcesAbuse,
    Other,
}

impl CategoryFamily {
    /// Same family, or either side is "other" (not yet triaged, so not excluded).
    pub fn compatible(self, other: CategoryFamily) -> bool {
        self == other || self == CategoryFamily::Other || other == CategoryFamily::Other
    }
}

/// One category of the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    pub code: CategoryCode,
    pub label_fr: String,
    pub label_en: String,
    pub family: CategoryFamily,
    pub default_severity: Severity,
    /// Reports of this category go to the protected-cases workflow (restricted readers, no
    /// public dashboard), not to the open early-warning feed.
    pub protected: bool,
}

impl Category {
    pub fn label(&self, lang: Lang) -> &str {
        match lang {
            Lang::Fr => &self.label_fr,
            Lang::En => &self.label_en,
        }
    }
}

/// A checked category list: unique codes, non-empty labels, and an `other` entry so that no
/// report ever lacks a category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Taxonomy {
    categories: Vec<Category>,
}

impl Taxonomy {
    pub fn new(categories: Vec<Category>) -> Result<Self, EwMsg> {
        let mut seen = std::collections::BTreeSet::new();
        for c in &categories {
            if !seen.insert(c.code.clone()) {
                return Err(EwMsg::DuplicateCategory { code: c.code.to_string() });
            }
            if c.label_fr.trim().is_empty() || c.label_en.trim().is_empty() {
                return Err(EwMsg::CategoryLabelMissing { code: c.code.to_string() });
            }
        }
        if !seen.contains(&CategoryCode::other()) {
            return Err(EwMsg::OtherCategoryMissing);
        }
        Ok(Taxonomy { categories })
    }
    pub fn get(&self, code: &CategoryCode) -> Option<&Category> {
        self.categories.iter().find(|c| &c.code == code)
    }
    pub fn other(&self) -> &Category {
        self.get(&CategoryCode::other()).expect("checked by Taxonomy::new")
    }
    pub fn all(&self) -> &[Category] {
        &self.categories
    }
    /// The family of a code; unknown codes are `Other`.
    pub fn family(&self, code: &CategoryCode) -> CategoryFamily {
        self.get(code).map_or(CategoryFamily::Other, |c| c.family)
    }
}

impl Default for Taxonomy {
    fn default() -> Self {
        Taxonomy::new(default_categories()).expect("the default list is valid")
    }
}

/// The categories Vigie ships with, drawn from the PGPSP and MINUSMA documents: armed attacks
/// on civilians, intercommunal tensions "largely tied to land", small-arms proliferation,
/// explosive devices, natural hazards (the civil-protection risk maps), rumours and hate speech,
/// and abuses by security forces (which go to protected cases, like gender-based violence:
/// survivors and witnesses must not appear in an open feed).
pub fn default_categories() -> Vec<Category> {
    use CategoryFamily as F;
    use Severity as S;
    let c = |code: &str, fr: &str, en: &str, family, sev, protected| Category {
        code: CategoryCode::parse(code).expect("static code"),
        label_fr: fr.into(),
        label_en: en.into(),
        family,
        default_severity: sev,
        protected,
    };
    vec![
        c("armed_attack", "Attaque armée", "Armed attack", F::ArmedViolence, S::Critical, false),
        c("intercommunal_conflict", "Conflit intercommunautaire ou foncier", "Intercommunal or land conflict", F::CommunityConflict, S::High, false),
        c("threat_intimidation", "Menace ou intimidation", "Threat or intimidation", F::Threat, S::Moderate, false),
        c("gender_based_violence", "Violence basée sur le genre", "Gender-based violence", F::GenderBasedViolence, S::High, true),
        c("abduction", "Enlèvement", "Abduction", F::ArmedViolence, S::Critical, false),
        c("explosive_device", "Engin explosif", "Explosive device", F::ArmedViolence, S::Critical, false),
        c("small_arms", "Circulation ou collecte d'armes légères", "Small arms circulation or collection", F::SmallArms, S::Moderate, false),
        c("displacement", "Déplacement de population", "Population displacement", F::Displacement, S::High, false),
        c("natural_hazard_flood", "Inondation", "Flood", F::NaturalHazard, S::High, false),
        c("natural_hazard_drought", "Sécheresse", "Drought", F::NaturalHazard, S::Moderate, false),
        c("natural_hazard_fire", "Incendie", "Fire", F::NaturalHazard, S::High, false),
        c("rumour_hate_speech", "Rumeur ou discours de haine", "Rumour or hate speech", F::Information, S::Moderate, false),
        c("security_forces_abuse", "Abus des forces de sécurité", "Abuse by security forces", F::SecurityForcesAbuse, S::High, true),
        c(OTHER, "Autre", "Other", F::Other, S::Low, false),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_checked() {
        assert_eq!(CategoryCode::parse(" Armed_Attack ").unwrap().as_str(), "armed_attack");
        for bad in ["", "a", "1abc", "armed-attack", "armed attack", "é", &"a".repeat(49)] {
            assert!(CategoryCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn default_list_is_complete_and_routes_protected_cases() {
        let t = Taxonomy::default();
        assert_eq!(t.all().len(), 14);
        let sfa = t.get(&CategoryCode::parse("security_forces_abuse").unwrap()).unwrap();
        assert!(sfa.protected);
        assert_eq!(sfa.label(Lang::Fr), "Abus des forces de sécurité");
        let attack = t.get(&CategoryCode::parse("armed_attack").unwrap()).unwrap();
        assert!(!attack.protected);
        assert_eq!(attack.default_severity, Severity::Critical);
        assert_eq!(t.other().code.as_str(), "other");
        assert_eq!(t.family(&CategoryCode::parse("nonexistent").unwrap()), CategoryFamily::Other);
    }

    #[test]
    fn list_must_have_other_and_unique_codes() {
        let mut cats = default_categories();
        cats.retain(|c| c.code.as_str() != OTHER);
        assert_eq!(Taxonomy::new(cats), Err(EwMsg::OtherCategoryMissing));
        let mut cats = default_categories();
        cats.push(cats[0].clone());
        assert_eq!(Taxonomy::new(cats), Err(EwMsg::DuplicateCategory { code: "armed_attack".into() }));
        let mut cats = default_categories();
        cats[1].label_en = " ".into();
        assert!(matches!(Taxonomy::new(cats), Err(EwMsg::CategoryLabelMissing { .. })));
    }

    #[test]
    fn severity_orders_and_round_trips() {
        assert!(Severity::Low < Severity::Critical);
        for s in Severity::ALL {
            assert_eq!(Severity::from_level(s.level()).unwrap(), s);
        }
        assert!(Severity::from_level(0).is_err());
        assert!(Severity::from_level(5).is_err());
        assert_eq!(Severity::High.label(Lang::Fr), "élevée");
    }

    #[test]
    fn families_are_compatible_with_other() {
        assert!(CategoryFamily::ArmedViolence.compatible(CategoryFamily::ArmedViolence));
        assert!(CategoryFamily::ArmedViolence.compatible(CategoryFamily::Other));
        assert!(!CategoryFamily::ArmedViolence.compatible(CategoryFamily::NaturalHazard));
    }
}
