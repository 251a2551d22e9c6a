//! Incident categories an SMS can name, each with the words people use for it. Admins edit
//! this list (new synonyms, local languages), so it is data handed to the parser, not code.

use crate::text::tokens;
use super::SmsMsg;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;

/// `armed_attack`, `gbv`… lower-case ASCII letters, digits and `_`, up to 40.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CategoryCode(String);

impl CategoryCode {
    pub fn parse(raw: &str) -> Result<Self, SmsMsg> {
        let c = raw.trim().to_ascii_lowercase();
        let ok = !c.is_empty()
            && c.len() <= 40
            && c.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if ok {
            Ok(CategoryCode(c))
        } else {
            Err(SmsMsg::InvalidCategoryCode)
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl TryFrom<String> for CategoryCode {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        CategoryCode::parse(&s).map_err(|m| m.text(crate::Lang::En))
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

/// One category as an admin defines it. The first keyword is the one shown in help replies,
/// so it should be short and need no accent (`ATTAQUE`, `VBG`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryDef {
    pub code: CategoryCode,
    pub label_fr: String,
    pub label_en: String,
    pub keywords: Vec<String>,
}

#[derive(Debug, Clone)]
struct Keyword {
    category: usize,
    words: Vec<String>,
    /// Letters without spaces, for the one-typo tolerance.
    joined: String,
}

/// The categories, checked and indexed for the parser.
#[derive(Debug, Clone)]
pub struct Taxonomy {
    defs: Vec<CategoryDef>,
    keywords: Vec<Keyword>,
    max_words: usize,
}

/// A category found in a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CategoryMatch {
    pub code: CategoryCode,
    /// The words as the sender wrote them.
    pub written: String,
    pub how: super::MatchKind,
}

impl Taxonomy {
    /// Checks the list: at least one category, no duplicate code, every category has a keyword,
    /// and no keyword names two categories (the parser would have to guess).
    pub fn new(defs: Vec<CategoryDef>) -> Result<Taxonomy, SmsMsg> {
        if defs.is_empty() {
            return Err(SmsMsg::TaxonomyEmpty);
        }
        let mut keywords = Vec::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut codes = std::collections::HashSet::new();
        for (i, d) in defs.iter().enumerate() {
            if !codes.insert(d.code.clone()) {
                return Err(SmsMsg::DuplicateCategory { code: d.code.to_string() });
            }
            let mut any = false;
            for k in &d.keywords {
                let words: Vec<String> = tokens(k, 16).into_iter().map(|t| t.folded).collect();
                if words.is_empty() {
                    continue;
                }
                any = true;
                let key = words.join(" ");
                match seen.get(&key) {
                    Some(&j) if j != i => {
                        return Err(SmsMsg::KeywordInTwoCategories {
                            keyword: key,
                            first: defs[j].code.to_string(),
                            second: d.code.to_string(),
                        })
                    }
                    Some(_) => continue,
                    None => {
                        seen.insert(key, i);
                    }
                }
                let joined = words.concat();
                keywords.push(Keyword { category: i, words, joined });
            }
            if !any {
                return Err(SmsMsg::CategoryWithoutKeyword { code: d.code.to_string() });
            }
        }
        let max_words = keywords.iter().map(|k| k.words.len()).max().unwrap_or(1);
        Ok(Taxonomy { defs, keywords, max_words })
    }

    pub fn categories(&self) -> &[CategoryDef] {
        &self.defs
    }
    pub fn get(&self, code: &CategoryCode) -> Option<&CategoryDef> {
        self.defs.iter().find(|d| &d.code == code)
    }

    /// The first keyword of each category, upper case: what a help reply lists.
    pub fn hint(&self) -> String {
        self.defs
            .iter()
            .filter_map(|d| d.keywords.iter().find(|k| !k.trim().is_empty()))
            .map(|k| k.trim().to_uppercase())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The longest keyword starting at `words[0]`: exact first, then with one typo on
    /// keywords of 5 letters or more. Returns the category index and how many words matched.
    pub(crate) fn match_at(&self, words: &[&str]) -> Option<(usize, usize, bool)> {
        let mut best: Option<(usize, usize, bool)> = None;
        for exact in [true, false] {
            for k in &self.keywords {
                let n = k.words.len();
                if n > words.len() || best.is_some_and(|(_, m, _)| m >= n) {
                    continue;
                }
                let hit = if exact {
                    k.words.iter().zip(words).all(|(a, b)| a == b)
                } else {
                    k.joined.chars().count() >= 5
                        && crate::text::within_one_edit(&k.joined, &words[..n].concat())
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

    pub(crate) fn max_words(&self) -> usize {
        self.max_words
    }
    pub(crate) fn code(&self, i: usize) -> &CategoryCode {
        &self.defs[i].code
    }

    /// The French list Vigie ships with: Mali's early-warning categories and the words focal
    /// points use for them (with and without accents; the parser ignores accents anyway).
    pub fn default_fr() -> Taxonomy {
        let d = |code: &str, fr: &str, en: &str, kws: &[&str]| CategoryDef {
            code: CategoryCode::parse(code).expect("valid built-in code"),
            label_fr: fr.to_string(),
            label_en: en.to_string(),
            keywords: kws.iter().map(|s| s.to_string()).collect(),
        };
        Taxonomy::new(vec![
            d(
                "armed_attack",
                "Attaque armée",
                "Armed attack",
                &[
                    "attaque",
                    "attaque armée",
                    "attaques",
                    "attack",
                    "armed attack",
                    "hommes armés",
                    "individus armés",
                    "tirs",
                    "coups de feu",
                    "fusillade",
                    "embuscade",
                    "assaut",
                    "raid",
                ],
            ),
            d(
                "intercommunal_conflict",
                "Conflit intercommunautaire ou foncier",
                "Intercommunal or land conflict",
                &[
                    "conflit",
                    "conflit intercommunautaire",
                    "conflit communautaire",
                    "conflit foncier",
                    "foncier",
                    "litige foncier",
                    "intercommunautaire",
                    "affrontement",
                    "affrontements",
                    "conflict",
                    "land conflict",
                ],
            ),
            d(
                "threat",
                "Menace ou intimidation",
                "Threat or intimidation",
                &["menace", "menaces", "intimidation", "intimidations", "threat"],
            ),
            d(
                "gbv",
                "Violence basée sur le genre",
                "Gender-based violence",
                &[
                    "vbg",
                    "violence basée sur le genre",
                    "violences basées sur le genre",
                    "viol",
                    "violence sexuelle",
                    "violences sexuelles",
                    "mariage forcé",
                    "gbv",
                ],
            ),
            d(
                "abduction",
                "Enlèvement",
                "Abduction",
                &[
                    "enlevement",
                    "enlèvement",
                    "enlèvements",
                    "enlevé",
                    "kidnapping",
                    "rapt",
                    "otage",
                    "otages",
                    "séquestration",
                    "abduction",
                ],
            ),
            d(
                "explosive_device",
                "Engin explosif",
                "Explosive device",
                &[
                    "explosif",
                    "engin explosif",
                    "engin explosif improvisé",
                    "eei",
                    "ied",
                    "mine",
                    "mines",
                    "bombe",
                    "explosion",
                    "explosive",
                ],
            ),
            d(
                "small_arms",
                "Armes légères",
                "Small arms",
                &[
                    "armes",
                    "armes légères",
                    "arme légère",
                    "arme",
                    "alpc",
                    "armes à feu",
                    "arme à feu",
                    "trafic d'armes",
                    "circulation d'armes",
                    "small arms",
                ],
            ),
            d(
                "displacement",
                "Déplacement de population",
                "Displacement",
                &[
                    "deplacement",
                    "déplacement",
                    "déplacements",
                    "déplacés",
                    "pdi",
                    "idp",
                    "réfugiés",
                    "fuite",
                    "displacement",
                ],
            ),
            d(
                "natural_hazard",
                "Catastrophe naturelle",
                "Natural hazard",
                &[
                    "inondation",
                    "inondations",
                    "sécheresse",
                    "feu de brousse",
                    "feux de brousse",
                    "incendie",
                    "tempête",
                    "flood",
                    "drought",
                ],
            ),
            d(
                "rumour_hate_speech",
                "Rumeur ou discours de haine",
                "Rumour or hate speech",
                &[
                    "rumeur",
                    "rumeurs",
                    "discours de haine",
                    "haine",
                    "désinformation",
                    "fausse nouvelle",
                    "fausses nouvelles",
                    "fake news",
                    "incitation",
                    "rumour",
                    "rumor",
                    "hate speech",
                ],
            ),
            d(
                "security_forces_abuse",
                "Abus des forces de sécurité",
                "Abuse by security forces",
                &[
                    "fds",
                    "abus fds",
                    "abus des fds",
                    "abus des forces de sécurité",
                    "forces de sécurité",
                    "abus",
                    "bavure",
                    "bavures",
                    "exaction",
                    "exactions",
                ],
            ),
            d("other", "Autre", "Other", &["autre", "autres", "divers", "other"]),
        ])
        .expect("the built-in taxonomy is valid")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        tokens(s, 50).into_iter().map(|t| t.folded).collect()
    }
    fn find<'a>(t: &'a Taxonomy, s: &str) -> Option<(&'a str, usize, bool)> {
        let w = words(s);
        let r: Vec<&str> = w.iter().map(String::as_str).collect();
        t.match_at(&r).map(|(i, n, e)| (t.code(i).as_str(), n, e))
    }

    #[test]
    fn default_list_is_valid_and_matches_longest_first() {
        let t = Taxonomy::default_fr();
        assert_eq!(t.categories().len(), 12);
        assert_eq!(find(&t, "ATTAQUE koro"), Some(("armed_attack", 1, true)));
        assert_eq!(find(&t, "attaque armee nioro"), Some(("armed_attack", 2, true)));
        assert_eq!(find(&t, "Feu de brousse à Kita"), Some(("natural_hazard", 3, true)));
        assert_eq!(find(&t, "abus des forces de securite"), Some(("security_forces_abuse", 5, true)));
        assert_eq!(find(&t, "EEI sur la route"), Some(("explosive_device", 1, true)));
        assert_eq!(find(&t, "engin explosif"), Some(("explosive_device", 2, true)));
        assert_eq!(find(&t, "armes légères"), Some(("small_arms", 2, true)));
        assert_eq!(find(&t, "hommes armés"), Some(("armed_attack", 2, true)), "not small arms");
        assert_eq!(find(&t, "VBG"), Some(("gbv", 1, true)));
        assert_eq!(find(&t, "Enlèvement"), Some(("abduction", 1, true)));
        assert_eq!(find(&t, "discours de haine"), Some(("rumour_hate_speech", 3, true)));
        assert_eq!(find(&t, "secheresse"), Some(("natural_hazard", 1, true)));
        assert_eq!(find(&t, "autre"), Some(("other", 1, true)));
        assert_eq!(find(&t, "bonjour"), None);
    }

    #[test]
    fn one_typo_on_long_keywords_only() {
        let t = Taxonomy::default_fr();
        assert_eq!(find(&t, "attaqe"), Some(("armed_attack", 1, false)));
        assert_eq!(find(&t, "enlevment"), Some(("abduction", 1, false)));
        assert_eq!(find(&t, "inondasion"), Some(("natural_hazard", 1, false)));
        assert_eq!(find(&t, "vgb"), None, "short keywords must be exact");
        assert_eq!(find(&t, "attaquuue"), None, "two edits");
    }

    #[test]
    fn hint_lists_first_keywords() {
        let h = Taxonomy::default_fr().hint();
        assert!(h.starts_with("ATTAQUE CONFLIT MENACE VBG ENLEVEMENT EXPLOSIF ARMES"), "{h}");
        assert!(h.ends_with("FDS AUTRE"), "{h}");
    }

    #[test]
    fn admin_errors_are_caught() {
        let c = |s: &str| CategoryCode::parse(s).unwrap();
        let def = |code: &str, k: &[&str]| CategoryDef {
            code: c(code),
            label_fr: code.into(),
            label_en: code.into(),
            keywords: k.iter().map(|s| s.to_string()).collect(),
        };
        assert_eq!(Taxonomy::new(vec![]).unwrap_err(), SmsMsg::TaxonomyEmpty);
        assert_eq!(
            Taxonomy::new(vec![def("a", &["vol"]), def("b", &["VÔL"])]).unwrap_err(),
            SmsMsg::KeywordInTwoCategories { keyword: "vol".into(), first: "a".into(), second: "b".into() }
        );
        assert_eq!(
            Taxonomy::new(vec![def("a", &[" ", "!!"])]).unwrap_err(),
            SmsMsg::CategoryWithoutKeyword { code: "a".into() }
        );
        assert_eq!(
            Taxonomy::new(vec![def("a", &["x"]), def("a", &["y"])]).unwrap_err(),
            SmsMsg::DuplicateCategory { code: "a".into() }
        );
        assert_eq!(CategoryCode::parse("Armed Attack"), Err(SmsMsg::InvalidCategoryCode));
        // A Bambara synonym added by an admin works like any other.
        let t = Taxonomy::new(vec![def("armed_attack", &["attaque", "binkani"])]).unwrap();
        assert_eq!(find(&t, "Binkani Koro"), Some(("armed_attack", 1, true)));
    }
}
