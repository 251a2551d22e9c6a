//! The French SMS grammar: `ALERTE <catégorie> <lieu> <texte>`, `INFO <texte>`,
//! `SUIVI <réf>`, `AIDE`, `STOP`. Phones mangle case, accents, spacing and punctuation, and
//! people abbreviate, so the parser forgives all of that; and since every message may be the
//! only warning of an attack, none is ever rejected: what is not understood is `Unparsed`,
//! kept whole for a person to read.

use crate::area::AreaCode;
use crate::early_warning::places::{Gazetteer, NameAt};
use crate::early_warning::taxonomy::{CategoryCode, Taxonomy};
use crate::text::{squeeze, tokens, within_one_edit, Token};
use super::{MatchKind, SmsMsg};
use crate::Lang;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Words read from a message; a concatenated SMS rarely holds more than 250.
const MAX_TOKENS: usize = 400;
/// Words searched for a category or a place inside the free text.
const SCAN_TOKENS: usize = 60;
const MAX_WRITTEN_CODE: usize = 40;

/// The reference of an alert or a case as people read it over the phone: 8 Crockford base-32
/// symbols shown `AB12-CD34` (no I, L, O, U: nothing to confuse with 1, 0 or V). 40 random
/// bits: guessing someone else's code is hopeless, and SUIVI also checks the sender.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RefCode(String);

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

impl RefCode {
    /// From 5 random bytes supplied by the caller (the domain has no random source).
    pub fn from_bytes(b: [u8; 5]) -> RefCode {
        let mut n = b.iter().fold(0u64, |acc, &x| (acc << 8) | x as u64);
        let mut s = [0u8; 8];
        for i in (0..8).rev() {
            s[i] = CROCKFORD[(n & 31) as usize];
            n >>= 5;
        }
        RefCode(String::from_utf8(s.to_vec()).expect("ASCII"))
    }

    /// Reads `ab12-cd34`, `AB12 CD34`, `AB12CD34`; `O` is read as 0 and `I`/`L` as 1, as
    /// Crockford prescribes, since people copy codes by hand.
    pub fn parse(raw: &str) -> Result<RefCode, SmsMsg> {
        let mut s = String::with_capacity(8);
        for c in raw.trim().chars() {
            let c = match c.to_ascii_uppercase() {
                '-' | ' ' | '.' => continue,
                'O' => '0',
                'I' | 'L' => '1',
                c if c.is_ascii() && CROCKFORD.contains(&(c as u8)) => c,
                _ => return Err(SmsMsg::InvalidRefCode),
            };
            s.push(c);
        }
        if s.len() == 8 {
            Ok(RefCode(s))
        } else {
            Err(SmsMsg::InvalidRefCode)
        }
    }
    /// The 8 symbols without the hyphen, as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl fmt::Display for RefCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", &self.0[..4], &self.0[4..])
    }
}
impl TryFrom<String> for RefCode {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        RefCode::parse(&s).map_err(|m| m.text(Lang::En))
    }
}
impl From<RefCode> for String {
    fn from(c: RefCode) -> String {
        c.0
    }
}

/// A category found in a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CategoryMatch {
    pub code: CategoryCode,
    /// The words as the sender wrote them.
    pub written: String,
    pub how: MatchKind,
}

/// A place found in a message. Several areas can share a name (villages often do): all are
/// given, and the caller picks, e.g. the one inside the reporter's area.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlaceMatch {
    pub areas: Vec<AreaCode>,
    /// The name as the gazetteer spells it.
    pub name: String,
    /// The words as the sender wrote them.
    pub written: String,
    pub how: MatchKind,
}

impl PlaceMatch {
    fn new(found: NameAt, written: String, how: MatchKind) -> PlaceMatch {
        PlaceMatch { areas: found.areas, name: found.name, written, how }
    }
}

/// What an `ALERTE` message said, part by part; each part may be missing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertReport {
    pub category: Option<CategoryMatch>,
    pub place: Option<PlaceMatch>,
    /// The rest of the message as written (spaces squeezed): what happened, how many, when.
    pub details: String,
    /// True when the message had no `ALERTE` keyword but began with a category (`attaque Koro…`).
    pub implicit: bool,
    pub lang: Lang,
}

impl AlertReport {
    /// `ALERTE` and nothing else: the sender wants to know the categories.
    pub fn is_empty(&self) -> bool {
        self.category.is_none() && self.place.is_none() && !self.details.chars().any(char::is_alphanumeric)
    }
    /// Category and place both read without guessing: no one needs to check them.
    pub fn fully_understood(&self) -> bool {
        self.category.as_ref().is_some_and(|c| c.how == MatchKind::Exact)
            && self.place.as_ref().is_some_and(|p| p.how == MatchKind::Exact && p.areas.len() == 1)
    }
}

/// A message, understood.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SmsCommand {
    Alert(AlertReport),
    Info {
        text: String,
        lang: Lang,
    },
    /// `SUIVI <réf>`. `reference` is `None` when the code is missing or malformed; `written`
    /// keeps what was typed (upper case, at most 40 characters) so other code formats can be looked up.
    FollowUp {
        reference: Option<RefCode>,
        written: String,
        lang: Lang,
    },
    Help {
        lang: Lang,
    },
    Stop {
        lang: Lang,
    },
    /// Anything else, kept exactly as received.
    Unparsed {
        raw: String,
    },
}

impl SmsCommand {
    /// The language to answer in: English when the sender used an English keyword.
    pub fn lang(&self) -> Lang {
        match self {
            SmsCommand::Alert(a) => a.lang,
            SmsCommand::Info { lang, .. }
            | SmsCommand::FollowUp { lang, .. }
            | SmsCommand::Help { lang }
            | SmsCommand::Stop { lang } => *lang,
            SmsCommand::Unparsed { .. } => Lang::Fr,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Keyword {
    Alert(Lang),
    Info,
    FollowUp(Lang),
    Help(Lang),
    Stop,
}

fn keyword(word: &str) -> Option<Keyword> {
    use Keyword::*;
    let exact = match word {
        "alerte" | "alertes" | "al" | "alrt" | "alerter" => Some(Alert(Lang::Fr)),
        "alert" => Some(Alert(Lang::En)),
        "info" | "infos" | "information" | "informations" | "inf" => Some(Info),
        "suivi" | "suivre" | "statut" | "suiv" => Some(FollowUp(Lang::Fr)),
        "status" | "track" => Some(FollowUp(Lang::En)),
        "aide" | "aid" | "menu" => Some(Help(Lang::Fr)),
        "help" => Some(Help(Lang::En)),
        "stop" | "arret" | "arreter" | "desabonner" | "unsubscribe" => Some(Stop),
        _ => None,
    };
    if exact.is_some() || word.chars().count() < 5 {
        return exact;
    }
    // One typo on the longer keywords (`alrte`, `suivii`, `statu`).
    [
        ("alerte", Alert(Lang::Fr)),
        ("suivre", FollowUp(Lang::Fr)),
        ("statut", FollowUp(Lang::Fr)),
        ("information", Info),
    ]
    .into_iter()
    .find(|(k, _)| within_one_edit(k, word))
    .map(|(_, kw)| kw)
}

/// Separators people put between a keyword and what follows (`ALERTE: …`, `INFO - …`).
fn rest_after(raw: &str, byte: usize) -> String {
    let rest = raw[byte..].trim_start_matches(|c: char| {
        c.is_whitespace()
            || matches!(c, ':' | ';' | ',' | '.' | '-' | '–' | '—' | '/' | '|' | '*' | '#' | '>')
    });
    squeeze(rest)
}

/// Reads one SMS. Never fails: see `SmsCommand::Unparsed`.
pub fn parse(raw: &str, taxonomy: &Taxonomy, places: &Gazetteer) -> SmsCommand {
    let toks = tokens(raw, MAX_TOKENS);
    let unparsed = || SmsCommand::Unparsed { raw: raw.to_string() };
    let Some(first) = toks.first() else {
        // No word at all: `?` asks for help; empty, blank, emoji-only are kept for a person.
        let t = raw.trim();
        return if !t.is_empty() && t.chars().all(|c| c == '?' || c == '¿' || c.is_whitespace()) {
            SmsCommand::Help { lang: Lang::Fr }
        } else {
            unparsed()
        };
    };
    // A short "STOP" or "AIDE" is a command; "aide, on nous attaque à Koro" is a cry for help
    // and must reach a person, not get the help text back.
    let short = toks.len() <= 3;
    match keyword(&first.folded) {
        Some(Keyword::Alert(lang)) => {
            SmsCommand::Alert(alert(raw, &toks[1..], first.end, taxonomy, places, false, lang))
        }
        Some(Keyword::Info) => SmsCommand::Info { text: rest_after(raw, first.end), lang: Lang::Fr },
        Some(Keyword::FollowUp(lang)) => {
            let written: String = rest_after(raw, first.end)
                .chars()
                .filter(|c| !c.is_whitespace())
                .take(MAX_WRITTEN_CODE)
                .collect::<String>()
                .to_uppercase();
            let reference = RefCode::parse(&written).ok();
            SmsCommand::FollowUp { reference, written, lang }
        }
        Some(Keyword::Help(lang)) if short => SmsCommand::Help { lang },
        Some(Keyword::Stop) if short => SmsCommand::Stop { lang: Lang::Fr },
        Some(_) => unparsed(),
        None => {
            let words: Vec<&str> =
                toks.iter().take(taxonomy.max_words()).map(|t| t.folded.as_str()).collect();
            match taxonomy.match_at(&words) {
                Some((_, _, true)) => {
                    SmsCommand::Alert(alert(raw, &toks, 0, taxonomy, places, true, Lang::Fr))
                }
                _ => unparsed(),
            }
        }
    }
}

/// Little words between the category and the place: `attaque à Koro`, `menace au village de X`.
/// Words that change the meaning (`près de`, `vers`, `sur la route de`) are not skipped: then
/// the place is found in the free text, which keeps them.
const FILLERS: [&str; 10] = ["a", "au", "aux", "de", "du", "dans", "en", "village", "quartier", "localite"];
/// Words after which a place name in the free text is taken as the place (`… ce matin à Koro`).
const PLACE_CUES: [&str; 7] = ["a", "au", "aux", "dans", "vers", "pres", "sur"];

fn alert(
    raw: &str,
    toks: &[Token],
    keyword_end: usize,
    taxonomy: &Taxonomy,
    places: &Gazetteer,
    implicit: bool,
    lang: Lang,
) -> AlertReport {
    let words: Vec<&str> = toks.iter().map(|t| t.folded.as_str()).collect();
    let span = |from: usize, n: usize| squeeze(&raw[toks[from].start..toks[from + n - 1].end]);
    let cat_at = |pos: usize| {
        taxonomy.match_at(&words[pos..]).map(|(i, n, exact)| {
            let how = if exact { MatchKind::Exact } else { MatchKind::OneTypo };
            (CategoryMatch { code: taxonomy.code(i).clone(), written: span(pos, n), how }, n)
        })
    };
    let place_at = |pos: usize| -> Option<(PlaceMatch, usize)> {
        // The name itself, or after up to two little words (`à`, `au village de`).
        for skip in 0..=2 {
            let p = pos + skip;
            if p >= words.len() || (skip > 0 && !FILLERS.contains(&words[p - 1])) {
                return None;
            }
            if let Some(found) = places.name_at(&words[p..]) {
                let how = if found.exact { MatchKind::Exact } else { MatchKind::OneTypo };
                let n = found.words;
                return Some((PlaceMatch::new(found, span(p, n), how), skip + n));
            }
        }
        None
    };

    let mut pos = 0;
    let (mut category, mut place) = (None, None);
    if let Some((c, n)) = cat_at(0) {
        category = Some(c);
        pos = n;
        if let Some((p, n)) = place_at(pos) {
            place = Some(p);
            pos += n;
        }
    } else if let Some((p, n)) = place_at(0) {
        // `ALERTE Koro attaque …`: place first.
        place = Some(p);
        pos = n;
        if let Some((c, n)) = cat_at(pos) {
            category = Some(c);
            pos += n;
        }
    }
    let details_from = if pos == 0 { keyword_end } else { toks[pos - 1].end };
    let details = rest_after(raw, details_from);

    // Not where the grammar puts them: look in the free text, exact words only.
    let scan_end = words.len().min(pos + SCAN_TOKENS);
    if category.is_none() {
        category = (pos..scan_end).find_map(|i| {
            taxonomy.match_at(&words[i..]).filter(|m| m.2).map(|(c, n, _)| CategoryMatch {
                code: taxonomy.code(c).clone(),
                written: span(i, n),
                how: MatchKind::InText,
            })
        });
    }
    if place.is_none() {
        place = (pos..scan_end).filter(|&i| PLACE_CUES.contains(&words[i])).find_map(|i| {
            // `à Koro`, `près de Koro`, `vers le village de Koro`
            let mut at = i + 1;
            while at < words.len()
                && at <= i + 3
                && matches!(words[at], "de" | "du" | "la" | "le" | "l" | "village")
            {
                at += 1;
            }
            places.name_at(&words[at.min(words.len())..]).filter(|m| m.exact).map(|found| {
                let n = found.words;
                PlaceMatch::new(found, span(at, n), MatchKind::InText)
            })
        });
    }
    AlertReport { category, place, details, implicit, lang }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::area::AreaPath;
    use crate::early_warning::places::{PlaceEntry, DEFAULT_ALIASES};

    fn places() -> Gazetteer {
        let e = |code: &str, path: &str, name: &str| PlaceEntry {
            area: AreaCode::parse(code).unwrap(),
            path: AreaPath(path.into()),
            name: name.into(),
        };
        Gazetteer::new(
            vec![
                e("ML-5", "ML/ML-5", "Mopti"),
                e("ML0503", "ML/ML-5/ML0503", "Koro"),
                e("ML0502", "ML/ML-5/ML0502", "Bandiagara"),
                e("ML0201", "ML/ML-1/ML0201", "Nioro du Sahel"),
                e("ML-BKO-C5", "ML/ML-BKO/ML-BKO-C5", "Commune V"),
                e("ML0402", "ML/ML-4/ML0402", "Ségou"),
                e("ML0701", "ML/ML-7/ML0701", "Diré"),
            ],
            DEFAULT_ALIASES,
        )
    }
    fn p(raw: &str) -> SmsCommand {
        parse(raw, &Taxonomy::default(), &places())
    }
    fn alert_of(raw: &str) -> AlertReport {
        match p(raw) {
            SmsCommand::Alert(a) => a,
            other => panic!("{raw:?} gave {other:?}"),
        }
    }
    fn summary(a: &AlertReport) -> (Option<&str>, Option<&str>, &str) {
        (
            a.category.as_ref().map(|c| c.code.as_str()),
            a.place.as_ref().map(|p| p.name.as_str()),
            a.details.as_str(),
        )
    }

    #[test]
    fn messy_real_alerts() {
        let a = alert_of("alerte  ATTAQUE koro des hommes armés...");
        assert_eq!(summary(&a), (Some("armed_attack"), Some("Koro"), "des hommes armés..."));
        assert!(a.fully_understood());
        assert_eq!(a.place.as_ref().unwrap().areas, vec![AreaCode::parse("ML0503").unwrap()]);

        let a = alert_of("Alerte attaque armee Nioro du sahel 3 morts ce matin");
        assert_eq!(summary(&a), (Some("armed_attack"), Some("Nioro du Sahel"), "3 morts ce matin"));
        assert_eq!(a.category.as_ref().unwrap().written, "attaque armee");
        assert_eq!(a.place.as_ref().unwrap().written, "Nioro du sahel");

        let a = alert_of("AL:VBG,Commune 5 - une femme agressée au marché");
        assert_eq!(summary(&a), (Some("gender_based_violence"), Some("Commune V"), "une femme agressée au marché"));

        let a = alert_of("ALERT kidnapping Bandiagra two traders taken");
        assert_eq!(summary(&a), (Some("abduction"), Some("Bandiagara"), "two traders taken"));
        assert_eq!(a.place.as_ref().unwrap().how, MatchKind::OneTypo);
        assert_eq!(a.lang, Lang::En);
        assert!(!a.fully_understood());

        let a = alert_of("alrte enlevment à Ségou");
        assert_eq!(summary(&a), (Some("abduction"), Some("Ségou"), ""));
        assert_eq!(a.category.as_ref().unwrap().how, MatchKind::OneTypo);
    }

    #[test]
    fn order_and_missing_parts() {
        let a = alert_of("ALERTE koro attaque hier soir");
        assert_eq!(summary(&a), (Some("armed_attack"), Some("Koro"), "hier soir"));

        let a = alert_of("alerte feu de brousse près de Mopti");
        assert_eq!(summary(&a), (Some("natural_hazard_fire"), Some("Mopti"), "près de Mopti"));
        assert_eq!(a.place.as_ref().unwrap().how, MatchKind::InText);

        // Unknown category: nothing lost, the words stay in the details.
        let a = alert_of("ALERTE vol de bétail à Koro");
        assert_eq!(summary(&a), (None, Some("Koro"), "vol de bétail à Koro"));

        // Category only in the sentence.
        let a = alert_of("Alerte: il y a une attaque au marché de Koro");
        assert_eq!(summary(&a), (Some("armed_attack"), None, "il y a une attaque au marché de Koro"));
        assert_eq!(a.category.as_ref().unwrap().how, MatchKind::InText);

        // A common word that is also a place name (Diré / dire) is not taken from free text
        // without a cue, and "commune" alone is no commune.
        let a = alert_of("ALERTE menace ils veulent dire que la commune va payer");
        assert_eq!(summary(&a).1, None);

        let a = alert_of("ALERTE");
        assert!(a.is_empty());
        assert!(alert_of("alerte !!!").is_empty());
    }

    #[test]
    fn implicit_alert_starts_with_a_category() {
        let a = alert_of("Attaque à Koro ce matin");
        assert!(a.implicit);
        assert_eq!(summary(&a), (Some("armed_attack"), Some("Koro"), "ce matin"));
        // A typo is not enough to turn a random message into an alert.
        assert!(matches!(p("attaqe koro"), SmsCommand::Unparsed { .. }));
    }

    #[test]
    fn other_commands() {
        assert_eq!(
            p("INFO: la route de Koro est coupée"),
            SmsCommand::Info { text: "la route de Koro est coupée".into(), lang: Lang::Fr }
        );
        assert_eq!(p("info"), SmsCommand::Info { text: "".into(), lang: Lang::Fr });
        assert_eq!(
            p("suivi AB12-CD34"),
            SmsCommand::FollowUp {
                reference: Some(RefCode::parse("AB12CD34").unwrap()),
                written: "AB12-CD34".into(),
                lang: Lang::Fr
            }
        );
        assert_eq!(
            p("Statut ab12 cd34"),
            SmsCommand::FollowUp {
                reference: Some(RefCode::parse("AB12CD34").unwrap()),
                written: "AB12CD34".into(),
                lang: Lang::Fr
            }
        );
        assert_eq!(
            p("SUIVRE CAS-2024-17"),
            SmsCommand::FollowUp { reference: None, written: "CAS-2024-17".into(), lang: Lang::Fr }
        );
        assert_eq!(p("suivi"), SmsCommand::FollowUp { reference: None, written: "".into(), lang: Lang::Fr });
        assert_eq!(p("aide"), SmsCommand::Help { lang: Lang::Fr });
        assert_eq!(p("AIDE!"), SmsCommand::Help { lang: Lang::Fr });
        assert_eq!(p("help"), SmsCommand::Help { lang: Lang::En });
        assert_eq!(p(" ? "), SmsCommand::Help { lang: Lang::Fr });
        assert_eq!(p("STOP"), SmsCommand::Stop { lang: Lang::Fr });
        assert_eq!(p("stop merci"), SmsCommand::Stop { lang: Lang::Fr });
        // Long "aide…"/"stop…" messages are for a person.
        let cry = "aide on nous attaque à Koro venez vite";
        assert_eq!(p(cry), SmsCommand::Unparsed { raw: cry.into() });
        let s = "stop aux violences contre les femmes";
        assert_eq!(p(s), SmsCommand::Unparsed { raw: s.into() });
    }

    #[test]
    fn nothing_is_dropped() {
        for raw in ["", "   ", "\n\t", "🙂🙂", "bonjour", "…", "12345"] {
            assert_eq!(p(raw), SmsCommand::Unparsed { raw: raw.into() }, "{raw:?}");
        }
        let garbage: String =
            (0..2000).map(|i| ['x', '#', ' ', 'é', '7', '🙂', 'q'][i * 7 % 11 % 7]).collect();
        assert_eq!(garbage.chars().count(), 2000);
        assert_eq!(p(&garbage), SmsCommand::Unparsed { raw: garbage.clone() });
        // A very long alert keeps all of its text.
        let long = format!("ALERTE attaque Koro {}", "des hommes armés ".repeat(120));
        let a = alert_of(&long);
        assert_eq!(a.details, squeeze(&"des hommes armés ".repeat(120)));
        let emoji = alert_of("ALERTE 🔥 inondation 🌊 Mopti 😢 maisons détruites");
        assert_eq!(summary(&emoji), (Some("natural_hazard_flood"), Some("Mopti"), "😢 maisons détruites"));
    }

    #[test]
    fn ref_codes() {
        let c = RefCode::from_bytes([0, 0, 0, 0, 0]);
        assert_eq!(c.to_string(), "0000-0000");
        let c = RefCode::from_bytes([0xff; 5]);
        assert_eq!(c.to_string(), "ZZZZ-ZZZZ");
        let c = RefCode::from_bytes([0x12, 0x34, 0x56, 0x78, 0x9a]);
        assert_eq!(RefCode::parse(&c.to_string()).unwrap(), c);
        assert_eq!(c.as_str().len(), 8);
        assert_eq!(RefCode::parse("ab12-cd34").unwrap().to_string(), "AB12-CD34");
        assert_eq!(RefCode::parse("OOIL-0000").unwrap().as_str(), "00110000");
        assert_eq!(RefCode::parse("AB12-CD3U"), Err(SmsMsg::InvalidRefCode));
        assert_eq!(RefCode::parse("AB12-CD3"), Err(SmsMsg::InvalidRefCode));
        assert_eq!(RefCode::parse("AB12-CD345"), Err(SmsMsg::InvalidRefCode));
    }
}
