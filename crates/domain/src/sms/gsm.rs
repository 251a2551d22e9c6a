//! How an SMS text travels: GSM-7 (160 characters, 153 per part when concatenated) or UCS-2
//! (70, 67 per part) as soon as one character is outside GSM 03.38. A single `ç` or `ê` halves
//! the room and can double the cost, so replies are sized, and if needed folded, before sending.

use serde::Serialize;

/// GSM 03.38 default alphabet (one septet each). Index = septet value; 0x1B is the escape.
const BASIC: [char; 128] = [
    '@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å', //
    'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', '\u{1B}', 'Æ', 'æ', 'ß', 'É', //
    ' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/', //
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?', //
    '¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', //
    'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§', //
    '¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', //
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à', //
];

/// Extension table: escape + one septet, so two septets each.
const EXTENSION: [char; 10] = ['\u{0C}', '^', '{', '}', '\\', '[', '~', ']', '|', '€'];

/// Septets a character takes in GSM-7: 1, 2 (extension table) or `None` (not representable).
pub fn gsm7_septets_of(c: char) -> Option<usize> {
    if c != '\u{1B}' && BASIC.contains(&c) {
        Some(1)
    } else if EXTENSION.contains(&c) {
        Some(2)
    } else {
        None
    }
}

/// Septets the whole text takes in GSM-7, or `None` when one character needs UCS-2.
pub fn gsm7_septets(text: &str) -> Option<usize> {
    text.chars().map(gsm7_septets_of).sum()
}

pub fn fits_gsm7(text: &str) -> bool {
    gsm7_septets(text).is_some()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SmsEncoding {
    Gsm7,
    Ucs2,
}

impl SmsEncoding {
    pub fn of(text: &str) -> SmsEncoding {
        if fits_gsm7(text) {
            SmsEncoding::Gsm7
        } else {
            SmsEncoding::Ucs2
        }
    }
    /// Room in a message sent alone.
    pub fn single_capacity(self) -> usize {
        match self {
            SmsEncoding::Gsm7 => 160,
            SmsEncoding::Ucs2 => 70,
        }
    }
    /// Room in each part of a concatenated message (the rest goes to the 6-byte UDH).
    pub fn part_capacity(self) -> usize {
        match self {
            SmsEncoding::Gsm7 => 153,
            SmsEncoding::Ucs2 => 67,
        }
    }
    /// Kannel's `coding` parameter for sendsms / `X-Kannel-Coding`: 0 = 7-bit, 2 = UCS-2.
    pub fn kannel_coding(self) -> u8 {
        match self {
            SmsEncoding::Gsm7 => 0,
            SmsEncoding::Ucs2 => 2,
        }
    }
}

/// What a text costs on the air.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SmsSize {
    pub encoding: SmsEncoding,
    /// Septets (GSM-7) or UTF-16 code units (UCS-2).
    pub units: usize,
    /// Messages the operator bills; 1 for an empty text.
    pub segments: usize,
}

impl SmsSize {
    pub fn of(text: &str) -> SmsSize {
        let encoding = SmsEncoding::of(text);
        // Unit widths: an extension character (2 septets) or a surrogate pair (2 code units)
        // must not be split across two parts, so parts are filled greedily, not divided.
        let widths: Vec<usize> = match encoding {
            SmsEncoding::Gsm7 => text.chars().filter_map(gsm7_septets_of).collect(),
            SmsEncoding::Ucs2 => text.chars().map(char::len_utf16).collect(),
        };
        let units: usize = widths.iter().sum();
        let segments = if units <= encoding.single_capacity() {
            1
        } else {
            let cap = encoding.part_capacity();
            let (mut parts, mut used) = (1, 0);
            for w in widths {
                if used + w > cap {
                    parts += 1;
                    used = 0;
                }
                used += w;
            }
            parts
        };
        SmsSize { encoding, units, segments }
    }
    pub fn is_single(&self) -> bool {
        self.segments == 1
    }
}

/// The GSM-7 look-alike of a character outside GSM-7 that French and Malian texts commonly hold
/// (`ç`→`c`, `ê`→`e`, `’`→`'`, `œ`→`oe`); `None` when there is none (emoji, N'Ko, Arabic…).
fn gsm7_lookalike(c: char) -> Option<&'static str> {
    Some(match c {
        'á' | 'â' | 'ã' => "a",
        'À' | 'Á' | 'Â' | 'Ã' => "A",
        'ç' => "c",
        'ê' | 'ë' => "e",
        'È' | 'Ê' | 'Ë' => "E",
        'í' | 'î' | 'ï' => "i",
        'Ì' | 'Í' | 'Î' | 'Ï' => "I",
        'ó' | 'ô' | 'õ' => "o",
        'Ò' | 'Ó' | 'Ô' | 'Õ' => "O",
        'ú' | 'û' => "u",
        'Ù' | 'Ú' | 'Û' => "U",
        'ý' | 'ÿ' => "y",
        'Ý' | 'Ÿ' => "Y",
        'œ' => "oe",
        'Œ' => "OE",
        'ɛ' => "e",
        'Ɛ' => "E",
        'ɔ' => "o",
        'Ɔ' => "O",
        'ɲ' => "ny",
        'Ɲ' => "NY",
        'ŋ' => "ng",
        'Ŋ' => "NG",
        '‘' | '’' | 'ʼ' | '´' | '`' => "'",
        '“' | '”' | '«' | '»' => "\"",
        '–' | '—' | '‑' => "-",
        '…' => "...",
        '\u{A0}' | '\u{202F}' | '\t' => " ",
        _ => return None,
    })
}

/// The text to send: as written when it fits GSM-7; otherwise folded to GSM-7 look-alikes
/// when that is possible for every character (one 160-character SMS rather than 70);
/// otherwise as written, in UCS-2. Names in other scripts are never mangled.
pub fn fit_text(text: &str) -> String {
    if fits_gsm7(text) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if gsm7_septets_of(c).is_some() {
            out.push(c);
        } else if let Some(s) = gsm7_lookalike(c) {
            out.push_str(s);
        } else {
            return text.to_string();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_french_gsm_letters_fit() {
        assert_eq!(gsm7_septets("Alerte reçue"), None, "ç is not GSM-7 (only Ç is)");
        assert_eq!(gsm7_septets("Alerte enregistrée à Ségou, où?"), Some(31));
        assert_eq!(gsm7_septets("5€ [x]"), Some(9), "€ [ ] take two septets each");
        assert_eq!(gsm7_septets("\u{1B}"), None, "a bare escape is not text");
        assert!(!fits_gsm7("bientôt"));
        assert!(!fits_gsm7("🙂"));
    }

    #[test]
    fn gsm7_segments() {
        assert_eq!(SmsSize::of("").segments, 1);
        assert_eq!(SmsSize::of(&"a".repeat(160)).segments, 1);
        assert_eq!(SmsSize::of(&"a".repeat(161)).segments, 2);
        assert_eq!(SmsSize::of(&"a".repeat(306)).segments, 2);
        assert_eq!(SmsSize::of(&"a".repeat(307)).segments, 3);
        let s = SmsSize::of(&"€".repeat(80));
        assert_eq!((s.encoding, s.units, s.segments), (SmsEncoding::Gsm7, 160, 1));
        // 152 plain + one € (2 septets) cannot share part 1: escape pairs are never split.
        let t = format!("{}€{}", "a".repeat(152), "a".repeat(10));
        assert_eq!(SmsSize::of(&t).units, 164);
        assert_eq!(SmsSize::of(&t).segments, 2);
        let u = format!("{}€{}", "a".repeat(152), "a".repeat(152));
        assert_eq!(SmsSize::of(&u).units, 306);
        assert_eq!(
            SmsSize::of(&u).segments,
            3,
            "306 septets would fit in 2 parts only if the pair were split"
        );
    }

    #[test]
    fn ucs2_segments() {
        let s = SmsSize::of(&"ê".repeat(70));
        assert_eq!((s.encoding, s.segments), (SmsEncoding::Ucs2, 1));
        assert_eq!(SmsSize::of(&"ê".repeat(71)).segments, 2);
        assert_eq!(SmsSize::of(&"ê".repeat(134)).segments, 2);
        assert_eq!(SmsSize::of(&"ê".repeat(135)).segments, 3);
        let emoji = SmsSize::of("🙂🙂");
        assert_eq!((emoji.units, emoji.segments), (4, 1), "an emoji is a surrogate pair");
        // 66 units + an emoji: the pair moves whole to part 2.
        let t = format!("{}🙂{}", "ê".repeat(66), "ê".repeat(3));
        assert_eq!(SmsSize::of(&t).units, 71);
        assert_eq!(SmsSize::of(&t).segments, 2);
        assert_eq!(SmsEncoding::Ucs2.kannel_coding(), 2);
    }

    #[test]
    fn fit_folds_only_when_all_characters_have_a_lookalike() {
        assert_eq!(fit_text("Alerte reçue, à bientôt"), "Alerte recue, à bientot");
        assert_eq!(fit_text("déjà là"), "déjà là", "already GSM-7: untouched");
        assert_eq!(fit_text("l’œuvre «ici»"), "l'oeuvre \"ici\"");
        assert_eq!(fit_text("reçu 🙂"), "reçu 🙂", "an emoji forces UCS-2: keep the original");
        let long = format!("Reçu. {}", "a".repeat(100));
        assert_eq!(SmsSize::of(&long).segments, 2);
        assert_eq!(SmsSize::of(&fit_text(&long)).segments, 1);
    }
}
