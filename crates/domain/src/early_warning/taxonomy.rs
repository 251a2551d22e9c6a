//! What a report is about: the category list, its families and default severities, and the
//! words people use for each in an SMS. Categories are data (an administrator may add some, or
//! new synonyms in a local language), but the defaults ship with Vigie so a fresh install can
//! take reports on day one, by web, ODK or SMS.

use super::EwMsg;
use crate::text::{tokens, within_one_edit};
use crate::Lang;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
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
/// underscores, starting with a letter, 2..=40 long: safe in URLs, SMS keywords and SQL.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CategoryCode(String);

impl CategoryCode {
    pub const MAX_LEN: usize = 40;
    pub fn parse(raw: &str) -> Result<Self, EwMsg> {
        let c = raw.trim().to_ascii_lowercase();
        let ok = (2..=Self::MAX_LEN).contains(&c.len())
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
    /// The words people use for it in an SMS (`attaque`, `hommes armés`, `VBG`), matched
    /// without case or accents. The first is the one help replies list, so it should be short
    /// and need no accent.
    #[serde(default)]
    pub keywords: Vec<String>,
}

impl Category {
    pub fn label(&self, lang: Lang) -> &str {
        match lang {
            Lang::Fr => &self.label_fr,
            Lang::En => &self.label_en,
        }
    }
}

/// A keyword as the SMS parser compares it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Keyword {
    category: usize,
    /// Folded words.
    words: Vec<String>,
    /// Letters without spaces, for the one-typo tolerance.
    joined: String,
}

/// A checked category list: unique codes, non-empty labels, an `other` entry so that no
/// report ever lacks a category, and keywords indexed for the SMS parser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Taxonomy {
    categories: Vec<Category>,
    #[serde(skip)]
    keywords: Vec<Keyword>,
    #[serde(skip)]
    max_words: usize,
}

impl Taxonomy {
    /// Checks the list: not empty, no duplicate code, both labels, at least one keyword per
    /// category, no keyword naming two categories (the SMS parser would have to guess), and
    /// an `other` category.
    pub fn new(categories: Vec<Category>) -> Result<Self, EwMsg> {
        if categories.is_empty() {
            return Err(EwMsg::TaxonomyEmpty);
        }
        let mut seen = std::collections::BTreeSet::new();
        let mut keywords = Vec::new();
        let mut owner: HashMap<String, usize> = HashMap::new();
        for (i, c) in categories.iter().enumerate() {
            if !seen.insert(c.code.clone()) {
                return Err(EwMsg::DuplicateCategory { code: c.code.to_string() });
            }
            if c.label_fr.trim().is_empty() || c.label_en.trim().is_empty() {
                return Err(EwMsg::CategoryLabelMissing { code: c.code.to_string() });
            }
            let mut any = false;
            for k in &c.keywords {
                let words: Vec<String> = tokens(k, 16).into_iter().map(|t| t.folded).collect();
                if words.is_empty() {
                    continue;
                }
                any = true;
                let key = words.join(" ");
                match owner.get(&key) {
                    Some(&j) if j != i => {
                        return Err(EwMsg::KeywordInTwoCategories {
                            keyword: key,
                            first: categories[j].code.to_string(),
                            second: c.code.to_string(),
                        })
                    }
                    Some(_) => continue,
                    None => {
                        owner.insert(key, i);
                    }
                }
                let joined = words.concat();
                keywords.push(Keyword { category: i, words, joined });
            }
            if !any {
                return Err(EwMsg::CategoryWithoutKeyword { code: c.code.to_string() });
            }
        }
        if !seen.contains(&CategoryCode::other()) {
            return Err(EwMsg::OtherCategoryMissing);
        }
        let max_words = keywords.iter().map(|k| k.words.len()).max().unwrap_or(1);
        Ok(Taxonomy { categories, keywords, max_words })
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

    /// What an SMS help reply lists: the first keyword of each category, upper case. A
    /// sub-category (same family, and the same code up to its last `_`, as
    /// `natural_hazard_drought` after `natural_hazard_flood`) is not listed again: one SMS
    /// must hold the whole list, and its other keywords work all the same.
    pub fn hint(&self) -> String {
        let stem = |c: &Category| c.code.as_str().rsplit_once('_').map_or(c.code.as_str(), |(s, _)| s).to_string();
        let mut out: Vec<String> = Vec::new();
        let mut prev: Option<&Category> = None;
        for c in &self.categories {
            let sub = prev.is_some_and(|p| p.family == c.family && stem(p) == stem(c));
            prev = Some(c);
            if sub {
                continue;
            }
            if let Some(k) = c.keywords.iter().find(|k| !k.trim().is_empty()) {
                out.push(k.trim().to_uppercase());
            }
        }
        out.join(" ")
    }

    /// The longest keyword starting at `words[0]` (folded words): exact first, then with one
    /// typo on keywords of 5 letters or more. Returns the category index, how many words
    /// matched, and whether exactly.
    pub(crate) fn match_at(&self, words: &[&str]) -> Option<(usize, usize, bool)> {
        let mut best: Option<(usize, usize, bool)> = None;
        // `words[..n].concat()` for each n, built once per call rather than once per keyword
        // (the SMS parser calls this at each of up to 60 words, with some 150 keywords).
        // With its length in characters: keywords two or more characters longer or shorter
        // cannot be one typo away, and are skipped before the comparison.
        let mut joined: Vec<Option<(String, usize)>> = vec![None; words.len().min(self.max_words) + 1];
        for exact in [true, false] {
            for k in &self.keywords {
                let n = k.words.len();
                if n > words.len() || best.is_some_and(|(_, m, _)| m >= n) {
                    continue;
                }
                let hit = if exact {
                    k.words.iter().zip(words).all(|(a, b)| a == b)
                } else {
                    let letters = k.joined.chars().count();
                    letters >= 5 && {
                        let (w, w_letters) = joined[n].get_or_insert_with(|| {
                            let w = words[..n].concat();
                            let c = w.chars().count();
                            (w, c)
                        });
                        letters.abs_diff(*w_letters) <= 1 && within_one_edit(&k.joined, w)
                    }
                };
                if hit {
                    best = Some((k.category, n, exact));
                }
            }
            if best.is_some() {
                break;
            }
        }
        best
    }

    /// The most words a keyword has.
    pub(crate) fn max_words(&self) -> usize {
        self.max_words
    }
    /// The code of the category at `i` (as returned by `match_at`).
    pub(crate) fn code(&self, i: usize) -> &CategoryCode {
        &self.categories[i].code
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
/// survivors and witnesses must not appear in an open feed). Each comes with the words focal
/// points use for it in an SMS (with and without accents; matching ignores them anyway).
pub fn default_categories() -> Vec<Category> {
    use CategoryFamily as F;
    use Severity as S;
    let c = |code: &str, fr: &str, en: &str, family, sev, protected, keywords: &[&str]| Category {
        code: CategoryCode::parse(code).expect("static code"),
        label_fr: fr.into(),
        label_en: en.into(),
        family,
        default_severity: sev,
        protected,
        keywords: keywords.iter().map(|k| k.to_string()).collect(),
    };
    vec![
        c("armed_attack", "Attaque armée", "Armed attack", F::ArmedViolence, S::Critical, false, &[
            "attaque", "attaque armée", "attaques", "attack", "armed attack", "hommes armés", "individus armés",
            "tirs", "coups de feu", "fusillade", "embuscade", "assaut", "raid",
        ]),
        c("intercommunal_conflict", "Conflit intercommunautaire ou foncier", "Intercommunal or land conflict", F::CommunityConflict, S::High, false, &[
            "conflit", "conflit intercommunautaire", "conflit communautaire", "conflit foncier", "foncier",
            "litige foncier", "intercommunautaire", "affrontement", "affrontements", "conflict", "land conflict",
        ]),
        c("threat_intimidation", "Menace ou intimidation", "Threat or intimidation", F::Threat, S::Moderate, false, &[
            "menace", "menaces", "intimidation", "intimidations", "threat",
        ]),
        c("gender_based_violence", "Violence basée sur le genre", "Gender-based violence", F::GenderBasedViolence, S::High, true, &[
            "vbg", "violence basée sur le genre", "violences basées sur le genre", "viol", "violence sexuelle",
            "violences sexuelles", "mariage forcé", "gbv",
        ]),
        c("abduction", "Enlèvement", "Abduction", F::ArmedViolence, S::Critical, false, &[
            "enlevement", "enlèvement", "enlèvements", "enlevé", "kidnapping", "rapt", "otage", "otages",
            "séquestration", "abduction",
        ]),
        c("explosive_device", "Engin explosif", "Explosive device", F::ArmedViolence, S::Critical, false, &[
            "explosif", "engin explosif", "engin explosif improvisé", "eei", "ied", "mine", "mines", "bombe",
            "explosion", "explosive",
        ]),
        c("small_arms", "Circulation ou collecte d'armes légères", "Small arms circulation or collection", F::SmallArms, S::Moderate, false, &[
            "armes", "armes légères", "arme légère", "arme", "alpc", "armes à feu", "arme à feu", "trafic d'armes",
            "circulation d'armes", "small arms",
        ]),
        c("displacement", "Déplacement de population", "Population displacement", F::Displacement, S::High, false, &[
            "deplacement", "déplacement", "déplacements", "déplacés", "pdi", "idp", "réfugiés", "fuite", "displacement",
        ]),
        // A storm (`tempête`) brings the floods of the rainy season: filed with floods.
        c("natural_hazard_flood", "Inondation", "Flood", F::NaturalHazard, S::High, false, &[
            "inondation", "inondations", "tempête", "flood",
        ]),
        c("natural_hazard_drought", "Sécheresse", "Drought", F::NaturalHazard, S::Moderate, false, &[
            "secheresse", "sécheresse", "drought",
        ]),
        c("natural_hazard_fire", "Incendie", "Fire", F::NaturalHazard, S::High, false, &[
            "incendie", "feu de brousse", "feux de brousse",
        ]),
        c("rumour_hate_speech", "Rumeur ou discours de haine", "Rumour or hate speech", F::Information, S::Moderate, false, &[
            "rumeur", "rumeurs", "discours de haine", "haine", "désinformation", "fausse nouvelle",
            "fausses nouvelles", "fake news", "incitation", "rumour", "rumor", "hate speech",
        ]),
        c("security_forces_abuse", "Abus des forces de sécurité", "Abuse by security forces", F::SecurityForcesAbuse, S::High, true, &[
            "fds", "abus fds", "abus des fds", "abus des forces de sécurité", "forces de sécurité", "abus", "bavure",
            "bavures", "exaction", "exactions",
        ]),
        c(OTHER, "Autre", "Other", F::Other, S::Low, false, &["autre", "autres", "divers", "other"]),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_checked() {
        assert_eq!(CategoryCode::parse(" Armed_Attack ").unwrap().as_str(), "armed_attack");
        assert!(CategoryCode::parse(&"a".repeat(40)).is_ok());
        for bad in ["", "a", "1abc", "armed-attack", "armed attack", "Armed Attack", "é", &"a".repeat(41), &"a".repeat(49)] {
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

    // Keyword matching, as the SMS parser uses it.

    fn words(s: &str) -> Vec<String> {
        tokens(s, 50).into_iter().map(|t| t.folded).collect()
    }
    fn find<'a>(t: &'a Taxonomy, s: &str) -> Option<(&'a str, usize, bool)> {
        let w = words(s);
        let r: Vec<&str> = w.iter().map(String::as_str).collect();
        t.match_at(&r).map(|(i, n, e)| (t.code(i).as_str(), n, e))
    }

    #[test]
    fn keywords_match_longest_first() {
        let t = Taxonomy::default();
        assert_eq!(find(&t, "ATTAQUE koro"), Some(("armed_attack", 1, true)));
        assert_eq!(find(&t, "attaque armee nioro"), Some(("armed_attack", 2, true)));
        assert_eq!(find(&t, "Feu de brousse à Kita"), Some(("natural_hazard_fire", 3, true)));
        assert_eq!(find(&t, "abus des forces de securite"), Some(("security_forces_abuse", 5, true)));
        assert_eq!(find(&t, "EEI sur la route"), Some(("explosive_device", 1, true)));
        assert_eq!(find(&t, "engin explosif"), Some(("explosive_device", 2, true)));
        assert_eq!(find(&t, "armes légères"), Some(("small_arms", 2, true)));
        assert_eq!(find(&t, "hommes armés"), Some(("armed_attack", 2, true)), "not small arms");
        assert_eq!(find(&t, "VBG"), Some(("gender_based_violence", 1, true)));
        assert_eq!(find(&t, "Enlèvement"), Some(("abduction", 1, true)));
        assert_eq!(find(&t, "discours de haine"), Some(("rumour_hate_speech", 3, true)));
        assert_eq!(find(&t, "secheresse"), Some(("natural_hazard_drought", 1, true)));
        assert_eq!(find(&t, "inondations"), Some(("natural_hazard_flood", 1, true)));
        assert_eq!(find(&t, "menace"), Some(("threat_intimidation", 1, true)));
        assert_eq!(find(&t, "autre"), Some(("other", 1, true)));
        assert_eq!(find(&t, "bonjour"), None);
    }

    #[test]
    fn one_typo_on_long_keywords_only() {
        let t = Taxonomy::default();
        assert_eq!(find(&t, "attaqe"), Some(("armed_attack", 1, false)));
        assert_eq!(find(&t, "enlevment"), Some(("abduction", 1, false)));
        assert_eq!(find(&t, "inondasion"), Some(("natural_hazard_flood", 1, false)));
        assert_eq!(find(&t, "vgb"), None, "short keywords must be exact");
        assert_eq!(find(&t, "attaquuue"), None, "two edits");
    }

    #[test]
    fn hint_lists_first_keywords() {
        let h = Taxonomy::default().hint();
        assert!(h.starts_with("ATTAQUE CONFLIT MENACE VBG ENLEVEMENT EXPLOSIF ARMES"), "{h}");
        assert!(h.ends_with("FDS AUTRE"), "{h}");
        // Drought and fire are sub-categories of the flood heading: one entry for the three.
        assert!(h.contains("DEPLACEMENT INONDATION RUMEUR"), "{h}");
    }

    #[test]
    fn admin_errors_are_caught() {
        let c = |s: &str| CategoryCode::parse(s).unwrap();
        let def = |code: &str, k: &[&str]| Category {
            code: c(code),
            label_fr: code.into(),
            label_en: code.into(),
            family: CategoryFamily::Other,
            default_severity: Severity::Low,
            protected: false,
            keywords: k.iter().map(|s| s.to_string()).collect(),
        };
        assert_eq!(Taxonomy::new(vec![]).unwrap_err(), EwMsg::TaxonomyEmpty);
        assert_eq!(
            Taxonomy::new(vec![def("aa", &["vol"]), def("bb", &["VÔL"])]).unwrap_err(),
            EwMsg::KeywordInTwoCategories { keyword: "vol".into(), first: "aa".into(), second: "bb".into() }
        );
        assert_eq!(
            Taxonomy::new(vec![def("aa", &[" ", "!!"])]).unwrap_err(),
            EwMsg::CategoryWithoutKeyword { code: "aa".into() }
        );
        assert_eq!(
            Taxonomy::new(vec![def("aa", &["x"]), def("aa", &["y"])]).unwrap_err(),
            EwMsg::DuplicateCategory { code: "aa".into() }
        );
        assert_eq!(CategoryCode::parse("Armed Attack"), Err(EwMsg::InvalidCategoryCode));
        // A Bambara synonym added by an admin works like any other.
        let t = Taxonomy::new(vec![def("armed_attack", &["attaque", "binkani"]), def(OTHER, &["autre"])]).unwrap();
        assert_eq!(find(&t, "Binkani Koro"), Some(("armed_attack", 1, true)));
    }
}
