//! Text folding, tokens and string distances, shared by every module that compares what people
//! type: SMS commands and keywords, place matching, deduplication, risk-register words, area levels.
//! Reports arrive by SMS from basic phones (no accents), by web forms (accents), typed by people
//! who write the same place three ways: comparisons happen on folded text, never on raw text.

/// Folds one lowercase character to ASCII. Covers French, the Latin letters of Bambara,
/// Fulfulde and Songhay orthographies (ɛ, ɔ, ɲ, ŋ, ɓ, ɗ, ƴ), and common European accents.
/// `None` means "keep the character as is" (digits, other scripts).
fn fold_char(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'æ' => "ae",
        'ç' | 'ć' | 'č' | 'ĉ' => "c",
        'ď' | 'đ' | 'ɗ' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' | 'ɛ' | 'ə' => "e",
        'ğ' | 'ĝ' => "g",
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'į' | 'ı' => "i",
        'ł' => "l",
        'ñ' | 'ń' | 'ň' => "n",
        'ɲ' => "ny",
        'ŋ' => "ng",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' | 'ɔ' => "o",
        'œ' => "oe",
        'ř' => "r",
        'š' | 'ś' | 'ş' | 'ș' => "s",
        'ß' => "ss",
        'ť' | 'ţ' | 'ț' => "t",
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' | 'ų' => "u",
        'ý' | 'ÿ' | 'ƴ' => "y",
        'ž' | 'ź' | 'ż' => "z",
        'ɓ' => "b",
        _ => return None,
    })
}

/// True for characters that join a word without separating it: apostrophes, so that
/// "N'Tillit" and "Ntillit" fold alike.
fn is_joiner(c: char) -> bool {
    matches!(c, '\'' | '’' | '‘' | '`' | 'ʼ' | '´')
}

/// Lowercase, accents and Bambara letters to ASCII, apostrophes removed, every other
/// non-alphanumeric run (punctuation, hyphens, spaces, newlines) to a single space, trimmed.
/// "Ségou" → "segou"; "GOURMA-RHAROUS" → "gourma rharous"; "N'Tillit" → "ntillit".
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.chars().flat_map(char::to_lowercase) {
        // Combining marks (decomposed input, "e" + U+0301) vanish.
        if ('\u{0300}'..='\u{036F}').contains(&c) || is_joiner(c) {
            continue;
        }
        let piece: Option<&str> = fold_char(c);
        let is_word = piece.is_some() || c.is_alphanumeric();
        if !is_word {
            pending_space = true;
            continue;
        }
        if pending_space && !out.is_empty() {
            out.push(' ');
        }
        pending_space = false;
        match piece {
            Some(p) => out.push_str(p),
            None => out.push(c),
        }
    }
    out
}

/// Optimal string alignment distance (Levenshtein plus adjacent transposition), on chars.
/// "augelhok" → "aguelhok" is 1: a swapped pair is one slip of the thumb, not two.
pub fn osa_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let (n, m) = (a.len(), b.len());
    if n == 0 {
        return m;
    }
    if m == 0 {
        return n;
    }
    let mut d = vec![vec![0usize; m + 1]; n + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=n {
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[n][m]
}

/// A rough phonetic key for Malian place names as French, English and local spellings render
/// them: "dj"→"j", "ou"→"u", "c/q/ck"→"k", "ph"→"f", "y"→"i", doubled letters single, no spaces,
/// final mute "e" dropped. "Djenné" and "Jenne" share "jen"; "Tombouctou" → "tombuktu".
pub fn phonetic_key(folded: &str) -> String {
    let s: String = folded.chars().filter(|c| !c.is_whitespace()).collect();
    let mut s = s
        .replace("dj", "j")
        .replace("ou", "u")
        .replace("ck", "k")
        .replace("qu", "k")
        .replace("ph", "f")
        .replace("kh", "k")
        .replace("gh", "g");
    s = s.chars().map(|c| match c {
        'c' | 'q' => 'k',
        'y' => 'i',
        'w' => 'u',
        other => other,
    }).collect();
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if out.ends_with(c) {
            continue;
        }
        out.push(c);
    }
    if out.len() > 3 && out.ends_with('e') {
        out.pop();
    }
    out
}

/// Character trigrams of folded text, with each word padded by a space on both sides so that
/// short words still count. Used for Jaccard similarity of free text.
pub fn trigrams(folded: &str) -> std::collections::BTreeSet<String> {
    let mut set = std::collections::BTreeSet::new();
    for word in folded.split(' ').filter(|w| !w.is_empty()) {
        let padded: Vec<char> = format!(" {word} ").chars().collect();
        for w in padded.windows(3) {
            set.insert(w.iter().collect());
        }
    }
    set
}

/// |A ∩ B| / |A ∪ B|; 0 when both are empty (nothing to compare is not similarity).
pub fn jaccard<T: Ord>(a: &std::collections::BTreeSet<T>, b: &std::collections::BTreeSet<T>) -> f64 {
    let inter = a.intersection(b).count();
    let union = a.len() + b.len() - inter;
    if union == 0 {
        0.0
    } else {
        inter as f64 / union as f64
    }
}

/// A folded text as deduplication compares it: its length in characters and its trigram set,
/// each trigram packed losslessly into a `u64` (3 × 21 bits), sorted. Same similarity as
/// [`jaccard`] over [`trigrams`], without a heap string per trigram: intake compares a new
/// report with many others inside the single writer, so this is on its critical path.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TextPrint {
    pub chars: usize,
    keys: Vec<u64>,
}

impl TextPrint {
    /// `folded` is the output of [`fold`].
    pub fn of_folded(folded: &str) -> TextPrint {
        let mut keys = Vec::with_capacity(folded.len() + 2);
        for word in folded.split(' ').filter(|w| !w.is_empty()) {
            // The windows of " word " (padded as in `trigrams`).
            let (mut before, mut last): (Option<char>, char) = (None, ' ');
            for c in word.chars().chain(std::iter::once(' ')) {
                if let Some(a) = before {
                    keys.push((a as u64) << 42 | (last as u64) << 21 | c as u64);
                }
                (before, last) = (Some(last), c);
            }
        }
        keys.sort_unstable();
        keys.dedup();
        TextPrint { chars: folded.chars().count(), keys }
    }

    /// |A ∩ B| / |A ∪ B| of the trigram sets; 0 when both are empty.
    pub fn jaccard(&self, other: &TextPrint) -> f64 {
        let (a, b) = (&self.keys, &other.keys);
        let (mut i, mut j, mut inter) = (0, 0, 0usize);
        while i < a.len() && j < b.len() {
            match a[i].cmp(&b[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    inter += 1;
                    i += 1;
                    j += 1;
                }
            }
        }
        let union = a.len() + b.len() - inter;
        if union == 0 {
            0.0
        } else {
            inter as f64 / union as f64
        }
    }
}

/// A word of the message: where it is in the original text, and its folded form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub start: usize,
    pub end: usize,
    pub folded: String,
}

/// Words are runs of letters and digits; everything else (spaces, punctuation, emoji) separates.
/// At most `max` tokens are read, so a 2000-character garbage message costs little.
pub fn tokens(s: &str, max: usize) -> Vec<Token> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    for (i, c) in s.char_indices() {
        if c.is_alphanumeric() {
            start.get_or_insert(i);
        } else if let Some(st) = start.take() {
            out.push(Token { start: st, end: i, folded: fold(&s[st..i]) });
            if out.len() >= max {
                return out;
            }
        }
    }
    if let Some(st) = start {
        out.push(Token { start: st, end: s.len(), folded: fold(&s[st..]) });
    }
    out
}

/// True when `a` and `b` differ by at most one insertion, deletion, substitution or swap of
/// two neighbouring letters: `osa_distance(a, b) <= 1`, in linear time; compares characters, not bytes.
pub fn within_one_edit(a: &str, b: &str) -> bool {
    // Folded words are nearly always ASCII, where bytes are characters: no copy needed.
    if a.is_ascii() && b.is_ascii() {
        return one_edit(a.as_bytes(), b.as_bytes());
    }
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    one_edit(&a, &b)
}

fn one_edit<T: PartialEq>(a: &[T], b: &[T]) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if long.len() - short.len() > 1 {
        return false;
    }
    let prefix = short.iter().zip(long.iter()).take_while(|(x, y)| x == y).count();
    if prefix == short.len() {
        return true; // equal, or one extra character at the end
    }
    if short.len() == long.len() {
        let (s, l) = (&short[prefix + 1..], &long[prefix + 1..]);
        // substitution at `prefix`, or swap of `prefix` and `prefix + 1`
        s == l
            || (prefix + 1 < short.len()
                && short[prefix] == long[prefix + 1]
                && short[prefix + 1] == long[prefix]
                && short[prefix + 2..] == long[prefix + 2..])
    } else {
        short[prefix..] == long[prefix + 1..]
    }
}

/// Collapses runs of white space to one space and trims; the text otherwise stays as written.
pub fn squeeze(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_accents_case_and_punctuation() {
        assert_eq!(fold("Ségou"), "segou");
        assert_eq!(fold("SEGOU"), "segou");
        assert_eq!(fold("  ségou!! "), "segou");
        assert_eq!(fold("Gourma-Rharous"), "gourma rharous");
        assert_eq!(fold("N'Tillit"), "ntillit");
        assert_eq!(fold("N’Tillit"), "ntillit");
        assert_eq!(fold("Djenné"), "djenne");
        // Decomposed é (e + combining acute) folds like the precomposed one.
        assert_eq!(fold("Se\u{301}gou"), "segou");
        assert_eq!(fold("ÉLÈVE, œuvre"), "eleve oeuvre");
        // Bambara orthography.
        assert_eq!(fold("Ɲɛnɛ Kɔrɔ"), "nyene koro");
        assert_eq!(fold("Tombouctou\n(région)"), "tombouctou region");
        assert_eq!(fold("...!"), "");
    }

    #[test]
    fn distances() {
        assert_eq!(osa_distance("segou", "segou"), 0);
        assert_eq!(osa_distance("djenne", "djene"), 1);
        assert_eq!(osa_distance("augelhok", "aguelhok"), 1);
        assert_eq!(osa_distance("diema", "djema"), 1);
        assert_eq!(osa_distance("", "abc"), 3);
        assert_eq!(osa_distance("kidal", "gao"), 4); // k→g, -i, -d, a, l→o
        assert_eq!(osa_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn phonetic_keys_join_spelling_traditions() {
        assert_eq!(phonetic_key("djenne"), phonetic_key("jenne"));
        assert_eq!(phonetic_key("tombouctou"), "tombuktu");
        assert_eq!(phonetic_key("timbuktu"), "timbuktu");
        assert_ne!(phonetic_key("kidal"), phonetic_key("gao"));
    }

    #[test]
    fn trigram_jaccard() {
        let a = trigrams(&fold("attaque armée à Sofara"));
        let b = trigrams(&fold("Attaque armee a sofara"));
        assert!((jaccard(&a, &b) - 1.0).abs() < 1e-9);
        let c = trigrams(&fold("inondation à Mopti"));
        assert!(jaccard(&a, &c) < 0.2);
        assert_eq!(jaccard(&trigrams(""), &trigrams("")), 0.0);
    }

    #[test]
    fn text_print_gives_the_same_similarity_as_trigram_sets() {
        let texts = [
            "attaque armée à Sofara",
            "Attaque armee a sofara",
            "inondation à Mopti",
            "hommes armés à moto vus près du marché (12 personnes)",
            "hommes armés à moto près du marché (3 personnes)",
            "a",
            "",
            "ŋɔ ɛ ɲ  x y",
            "aa aa aaa",
        ];
        for x in texts {
            for y in texts {
                let (fx, fy) = (fold(x), fold(y));
                let want = jaccard(&trigrams(&fx), &trigrams(&fy));
                let got = TextPrint::of_folded(&fx).jaccard(&TextPrint::of_folded(&fy));
                assert!((want - got).abs() < 1e-12, "{x:?} vs {y:?}: {want} != {got}");
            }
            assert_eq!(TextPrint::of_folded(&fold(x)).chars, fold(x).chars().count());
        }
    }

    #[test]
    fn folding() {
        assert_eq!(fold("Ségou"), "segou");
        assert_eq!(fold("ENLÈVEMENT"), "enlevement");
        assert_eq!(fold("Ménaka Œuvre"), "menaka oeuvre");
        assert_eq!(fold("Ɲɛgɛ"), "nyege");
    }

    #[test]
    fn tokenising_keeps_positions() {
        let s = "ALERTE:attaque,  Nioro-du-Sahel!! 🙂 l'école";
        let t = tokens(s, 100);
        let words: Vec<&str> = t.iter().map(|t| t.folded.as_str()).collect();
        assert_eq!(words, ["alerte", "attaque", "nioro", "du", "sahel", "l", "ecole"]);
        assert_eq!(&s[t[2].start..t[4].end], "Nioro-du-Sahel");
        assert_eq!(tokens(s, 2).len(), 2);
        assert!(tokens("  ,;!? ", 10).is_empty());
    }

    #[test]
    fn one_edit() {
        assert!(within_one_edit("bandiagara", "bandiagara"));
        assert!(within_one_edit("bandiagara", "bandiagra")); // deletion
        assert!(within_one_edit("bandiagara", "bandiagaraa")); // insertion at end
        assert!(within_one_edit("tombouctou", "tombouctoo")); // substitution
        assert!(within_one_edit("gao", "goa")); // swap
        assert!(within_one_edit("douentza", "duoentza")); // swap
        assert!(!within_one_edit("douentza", "duoentaz")); // two swaps
        assert!(!within_one_edit("kidal", "kidalxx"));
        assert!(!within_one_edit("mopti", "motpi2"));
        assert!(!within_one_edit("segou", "sikasso"));
        assert!(within_one_edit("ségou", "sgou"), "works on characters, not bytes");
        // The linear check is the OSA distance bounded at one.
        for (a, b) in [("gao", "goa"), ("douentza", "duoentaz"), ("kidal", "kidalxx"), ("segou", "sgou"), ("ab", "ba"), ("", "a"), ("ségou", "segou"), ("ségou", "sgéou"), ("é", "ab"), ("éa", "aé")] {
            assert_eq!(within_one_edit(a, b), osa_distance(a, b) <= 1, "{a} {b}");
        }
    }

    #[test]
    fn squeezing() {
        assert_eq!(squeeze("  des   hommes\tarmés \n "), "des hommes armés");
    }
}
