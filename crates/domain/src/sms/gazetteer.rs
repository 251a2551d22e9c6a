//! Place names an SMS can name: the areas of the tree (régions, cercles, communes, villages),
//! matched without case or accents, with or without spaces and hyphens (`Nioro du Sahel`,
//! `nioro-du-sahel`, `NIORODUSAHEL`), one typo forgiven on names of 5 letters or more, and
//! Roman or Arabic numerals alike (`Commune V` = `commune 5`).

use crate::text::{tokens, within_one_edit};
use crate::area::AreaCode;
use serde::Serialize;
use std::collections::HashMap;

#[derive(Debug, Clone)]
struct Entry {
    code: AreaCode,
    name: String,
    joined: String,
    letters: usize,
}

/// The area names the parser knows, indexed once (Mali has some 12 000 villages).
#[derive(Debug, Clone, Default)]
pub struct Gazetteer {
    entries: Vec<Entry>,
    exact: HashMap<String, Vec<usize>>,
    /// Entries by length of their joined form, for the typo search.
    by_len: HashMap<usize, Vec<usize>>,
    max_words: usize,
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
    pub how: super::MatchKind,
}

/// Words as compared: numerals 1–12 in Roman form become digits.
fn canon(word: &str) -> &str {
    const ROMAN: [(&str, &str); 12] = [
        ("i", "1"),
        ("ii", "2"),
        ("iii", "3"),
        ("iv", "4"),
        ("v", "5"),
        ("vi", "6"),
        ("vii", "7"),
        ("viii", "8"),
        ("ix", "9"),
        ("x", "10"),
        ("xi", "11"),
        ("xii", "12"),
    ];
    ROMAN.iter().find(|(r, _)| *r == word).map_or(word, |(_, d)| d)
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

pub(crate) fn joined(words: &[&str]) -> String {
    words.iter().map(|w| canon(w)).collect()
}

impl Gazetteer {
    pub fn new<I, S>(areas: I) -> Gazetteer
    where
        I: IntoIterator<Item = (AreaCode, S)>,
        S: Into<String>,
    {
        let mut g = Gazetteer::default();
        for (code, name) in areas {
            let name: String = name.into();
            let words: Vec<String> = tokens(&name, 16).into_iter().map(|t| t.folded).collect();
            if words.is_empty() {
                continue;
            }
            let refs: Vec<&str> = words.iter().map(String::as_str).collect();
            let j = joined(&refs);
            let letters = j.chars().count();
            let i = g.entries.len();
            g.max_words = g.max_words.max(words.len());
            g.exact.entry(j.clone()).or_default().push(i);
            g.by_len.entry(letters).or_default().push(i);
            g.entries.push(Entry { code, name, joined: j, letters });
        }
        g
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The best name starting at `words[0]`: an exact match on the most words, else a match
    /// with one typo on the most words (names of 5+ letters). Returns the entries and word count.
    pub(crate) fn match_at(&self, words: &[&str]) -> Option<(Vec<usize>, usize, bool)> {
        let most = self.max_words.min(words.len());
        for n in (1..=most).rev() {
            if let Some(hits) = self.exact.get(&joined(&words[..n])) {
                return Some((hits.clone(), n, true));
            }
        }
        for n in (1..=most).rev() {
            let w = joined(&words[..n]);
            let len = w.chars().count();
            if len < 5 {
                continue;
            }
            let mut hits = Vec::new();
            for l in [len - 1, len, len + 1] {
                for &i in self.by_len.get(&l).into_iter().flatten() {
                    let e = &self.entries[i];
                    // A typo never changes a number: `commune` is not `Commune V` (`commune5`).
                    if e.letters >= 5 && digits(&e.joined) == digits(&w) && within_one_edit(&e.joined, &w) {
                        hits.push(i);
                    }
                }
            }
            if !hits.is_empty() {
                // Several different names one typo away: keep only the best spelled? They
                // are equally far; give them all and let the caller or a person decide.
                hits.sort_unstable();
                return Some((hits, n, false));
            }
        }
        None
    }

    pub(crate) fn build_match(&self, hits: &[usize], written: &str, how: super::MatchKind) -> PlaceMatch {
        let mut areas: Vec<AreaCode> = hits.iter().map(|&i| self.entries[i].code.clone()).collect();
        areas.dedup();
        PlaceMatch { areas, name: self.entries[hits[0]].name.clone(), written: written.to_string(), how }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn demo() -> Gazetteer {
        let a = |c: &str| AreaCode::parse(c).unwrap();
        Gazetteer::new([
            (a("ML-5"), "Mopti"),
            (a("ML-4"), "Ségou"),
            (a("ML0503"), "Koro"),
            (a("ML0502"), "Bandiagara"),
            (a("ML0201"), "Nioro du Sahel"),
            (a("ML-BKO-C5"), "Commune V"),
            (a("ML-BKO-C1"), "Commune I"),
            (a("ML0604"), "Tombouctou"),
            (a("ML0801"), "Tin-Essako"),
            (a("ML050301"), "Dinangourou"),
        ])
    }

    fn find(g: &Gazetteer, s: &str) -> Option<(String, usize, bool)> {
        let w: Vec<String> = tokens(s, 50).into_iter().map(|t| t.folded).collect();
        let r: Vec<&str> = w.iter().map(String::as_str).collect();
        g.match_at(&r).map(|(h, n, e)| (g.build_match(&h, "", super::super::MatchKind::Exact).name, n, e))
    }

    #[test]
    fn names_without_case_accents_or_spaces() {
        let g = demo();
        assert_eq!(find(&g, "koro des hommes"), Some(("Koro".into(), 1, true)));
        assert_eq!(find(&g, "SEGOU"), Some(("Ségou".into(), 1, true)));
        assert_eq!(find(&g, "Nioro du sahel ce matin"), Some(("Nioro du Sahel".into(), 3, true)));
        assert_eq!(find(&g, "nioro-du-sahel"), Some(("Nioro du Sahel".into(), 3, true)));
        assert_eq!(find(&g, "NIORODUSAHEL"), Some(("Nioro du Sahel".into(), 1, true)));
        assert_eq!(find(&g, "tin essako"), Some(("Tin-Essako".into(), 2, true)));
        assert_eq!(find(&g, "Commune V"), Some(("Commune V".into(), 2, true)));
        assert_eq!(find(&g, "commune 5 marché"), Some(("Commune V".into(), 2, true)));
        assert_eq!(find(&g, "commune 1"), Some(("Commune I".into(), 2, true)));
        assert_eq!(find(&g, "commune"), None);
    }

    #[test]
    fn one_typo_from_five_letters() {
        let g = demo();
        assert_eq!(find(&g, "Bandiagra"), Some(("Bandiagara".into(), 1, false)));
        assert_eq!(find(&g, "tombouctuo"), Some(("Tombouctou".into(), 1, false)));
        assert_eq!(find(&g, "Nioro du sahell"), Some(("Nioro du Sahel".into(), 3, false)));
        assert_eq!(find(&g, "Mpoti"), Some(("Mopti".into(), 1, false)));
        assert_eq!(find(&g, "Kora"), None, "4 letters: exact only");
        assert_eq!(find(&g, "Bandiagaraaa"), None, "two edits");
    }

    #[test]
    fn homonyms_are_all_returned() {
        let a = |c: &str| AreaCode::parse(c).unwrap();
        let g = Gazetteer::new([(a("ML01"), "Kalana"), (a("ML02"), "Kalana"), (a("ML03"), "Kati")]);
        let w = ["kalana"];
        let (hits, n, exact) = g.match_at(&w).unwrap();
        assert!(exact);
        let m = g.build_match(&hits, "Kalana", super::super::MatchKind::Exact);
        assert_eq!((m.areas, n), (vec![a("ML01"), a("ML02")], 1));
    }
}
