//! Text folding for matching what people type on a phone keypad: no case, no accents,
//! punctuation as a separator, one typo forgiven on longer words.

/// Lower case without diacritics, for comparison only (never shown or stored).
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        fold_char(c, &mut out);
    }
    out
}

fn fold_char(c: char, out: &mut String) {
    let r = match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => "a",
        'ç' | 'Ç' => "c",
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' | 'ɛ' | 'Ɛ' => "e",
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => "i",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' | 'ɔ' | 'Ɔ' => {
            "o"
        }
        'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => "u",
        'ý' | 'ÿ' | 'Ý' | 'Ÿ' => "y",
        'ñ' | 'Ñ' => "n",
        'ɲ' | 'Ɲ' => "ny",
        'ŋ' | 'Ŋ' => "ng",
        'œ' | 'Œ' => "oe",
        'æ' | 'Æ' => "ae",
        'ß' => "ss",
        _ => {
            out.extend(c.to_lowercase());
            return;
        }
    };
    out.push_str(r);
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
/// two neighbouring letters (Damerau). Linear time; compares characters, not bytes.
pub fn within_one_edit(a: &str, b: &str) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let (short, long) = if a.len() <= b.len() { (&a, &b) } else { (&b, &a) };
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
    }

    #[test]
    fn squeezing() {
        assert_eq!(squeeze("  des   hommes\tarmés \n "), "des hommes armés");
    }
}
