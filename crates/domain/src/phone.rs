//! Phone numbers in E.164 (`+22376123456`). Focal points write Malian numbers every way
//! there is (`76 12 34 56`, `0022376123456`, `+223 76-12-34-56`); they all become one key,
//! so a sender is recognised whatever the SMSC or the form put in front of the number.
//! One type for every number in Vigie: SMS senders, responders on an escalation list.

use crate::i18n::Msg;
use serde::{Deserialize, Serialize};
use std::fmt;

pub const MALI_COUNTRY_CODE: &str = "223";
/// Malian subscriber numbers (closed numbering plan, no trunk 0; none begins with 0 or 1).
pub const MALI_NATIONAL_DIGITS: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

impl Phone {
    /// Reads a number written with spaces, dots, hyphens, slashes or brackets, a `+` or `00`
    /// international prefix, or none (then it is Malian: 8 digits, or 11 starting with 223).
    pub fn parse(raw: &str) -> Result<Phone, Msg> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(Msg::PhoneEmpty);
        }
        let mut plus = false;
        let mut digits = String::with_capacity(s.len());
        for c in s.chars() {
            match c {
                '0'..='9' => digits.push(c),
                // `+` only before the first digit: `(+223) 76…` is fine, `76+12…` is not.
                '+' if !plus && digits.is_empty() => plus = true,
                ' ' | '.' | '-' | '/' | '(' | ')' | '\u{A0}' => {}
                _ => return Err(Msg::PhoneBadCharacter),
            }
        }
        if digits.is_empty() {
            return Err(Msg::PhoneEmpty);
        }
        let international = if plus { Some(digits.as_str()) } else { digits.strip_prefix("00") };
        match international {
            Some(intl) => Self::international(intl),
            None if digits.len() == MALI_NATIONAL_DIGITS => Self::mali(&digits),
            None if digits.len() == MALI_NATIONAL_DIGITS + 3 && digits.starts_with(MALI_COUNTRY_CODE) => {
                Self::mali(&digits[3..])
            }
            None => Err(Msg::PhoneNeedsCountryCode { digits: digits.len() }),
        }
    }

    fn international(d: &str) -> Result<Phone, Msg> {
        if let Some(national) = d.strip_prefix(MALI_COUNTRY_CODE) {
            return Self::mali(national);
        }
        if d.starts_with('0') {
            return Err(Msg::PhoneBadCountryCode);
        }
        if !(8..=15).contains(&d.len()) {
            return Err(Msg::PhoneLength { digits: d.len() });
        }
        Ok(Phone(format!("+{d}")))
    }

    fn mali(national: &str) -> Result<Phone, Msg> {
        if national.len() != MALI_NATIONAL_DIGITS || national.starts_with(['0', '1']) {
            return Err(Msg::PhoneMaliLength { digits: national.len() });
        }
        Ok(Phone(format!("+{MALI_COUNTRY_CODE}{national}")))
    }

    /// E.164 with the `+`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// E.164 digits without `+`, as some SMSCs and Kannel's `to` want them.
    pub fn digits(&self) -> &str {
        &self.0[1..]
    }
    pub fn is_mali(&self) -> bool {
        self.0.len() == 1 + 3 + MALI_NATIONAL_DIGITS && self.0[1..].starts_with(MALI_COUNTRY_CODE)
    }
    /// `76 12 34 56` for a Malian number (as people write it), E.164 otherwise.
    pub fn display_national(&self) -> String {
        if self.is_mali() {
            let n = &self.0[4..];
            format!("{} {} {} {}", &n[0..2], &n[2..4], &n[4..6], &n[6..8])
        } else {
            self.0.clone()
        }
    }
    /// For logs and screens shown to people without the right to see reporters:
    /// `+223 •• •• 34 56`. Focal points are at risk; their numbers are not for every eye.
    pub fn masked(&self) -> String {
        let d = self.digits();
        let keep = 4.min(d.len());
        if self.is_mali() {
            format!("+223 •• •• {} {}", &d[7..9], &d[9..11])
        } else {
            format!("+{}{}", "•".repeat(d.len() - keep), &d[d.len() - keep..])
        }
    }
}

impl TryFrom<String> for Phone {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Phone::parse(&s).map_err(|m| m.text(crate::Lang::En))
    }
}
impl From<Phone> for String {
    fn from(p: Phone) -> String {
        p.0
    }
}
impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malian_numbers_every_way_they_are_written() {
        for raw in [
            "76 12 34 56",
            "76123456",
            "0022376123456",
            "+223 76-12-34-56",
            "22376123456",
            "+22376123456",
            " (+223) 76.12.34.56 ",
            "00 223 76 12 34 56",
        ] {
            let p = Phone::parse(raw).unwrap_or_else(|e| panic!("{raw}: {e:?}"));
            assert_eq!(p.as_str(), "+22376123456", "{raw}");
            assert!(p.is_mali());
        }
        let p = Phone::parse("76123456").unwrap();
        assert_eq!(p.digits(), "22376123456");
        assert_eq!(p.display_national(), "76 12 34 56");
        assert_eq!(p.masked(), "+223 •• •• 34 56");
    }

    #[test]
    fn other_countries_need_their_prefix() {
        assert_eq!(Phone::parse("+33 6 12 34 56 78").unwrap().as_str(), "+33612345678");
        assert_eq!(Phone::parse("0033612345678").unwrap().as_str(), "+33612345678");
        assert_eq!(Phone::parse("+226 70 12 34 56").unwrap().as_str(), "+22670123456");
        assert!(!Phone::parse("+22670123456").unwrap().is_mali());
        assert_eq!(Phone::parse("+22670123456").unwrap().masked(), "+•••••••3456");
        assert_eq!(Phone::parse("0612345678"), Err(Msg::PhoneNeedsCountryCode { digits: 10 }));
    }

    #[test]
    fn clear_errors() {
        assert_eq!(Phone::parse(""), Err(Msg::PhoneEmpty));
        assert_eq!(Phone::parse("  + "), Err(Msg::PhoneEmpty));
        assert_eq!(Phone::parse("76 12 34 5"), Err(Msg::PhoneNeedsCountryCode { digits: 7 }));
        assert_eq!(Phone::parse("+223 76 12 34 5"), Err(Msg::PhoneMaliLength { digits: 7 }));
        assert_eq!(Phone::parse("+223 76 12 34 567"), Err(Msg::PhoneMaliLength { digits: 9 }));
        assert_eq!(
            Phone::parse("06123456"),
            Err(Msg::PhoneMaliLength { digits: 8 }),
            "no trunk 0 in Mali"
        );
        assert_eq!(Phone::parse("12345678"), Err(Msg::PhoneMaliLength { digits: 8 }), "no number begins with 1");
        assert_eq!(Phone::parse("+223 12 34 56 78"), Err(Msg::PhoneMaliLength { digits: 8 }));
        assert_eq!(Phone::parse("+1234567"), Err(Msg::PhoneLength { digits: 7 }));
        assert_eq!(Phone::parse("+1234567890123456"), Err(Msg::PhoneLength { digits: 16 }));
        assert_eq!(Phone::parse("+0123456789"), Err(Msg::PhoneBadCountryCode));
        assert_eq!(Phone::parse("Orange"), Err(Msg::PhoneBadCharacter));
        assert_eq!(Phone::parse("76+123456"), Err(Msg::PhoneBadCharacter));
        assert_eq!(Phone::parse("++22376123456"), Err(Msg::PhoneBadCharacter));
        assert_eq!(Phone::parse("76 12 34 56 ext 2"), Err(Msg::PhoneBadCharacter));
    }

    /// The cases of the former `early_warning::escalation::PhoneNumber`.
    #[test]
    fn responder_numbers() {
        assert_eq!(Phone::parse("76 12 34 56").unwrap().as_str(), "+22376123456");
        assert_eq!(Phone::parse("00223 66-12-34-56").unwrap().as_str(), "+22366123456");
        assert_eq!(Phone::parse("+33 6 12 34 56 78").unwrap().as_str(), "+33612345678");
        assert_eq!(Phone::parse("+223 20 22 00 00").unwrap().as_str(), "+22320220000");
        for bad in ["", "12345678", "0612345678", "7612345", "+0123456789", "76 12 34 5x", "+1234567890123456"] {
            assert!(Phone::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn serde_goes_through_the_parser() {
        let p: Phone = serde_json::from_str("\"76 12 34 56\"").unwrap();
        assert_eq!(serde_json::to_string(&p).unwrap(), "\"+22376123456\"");
        assert!(serde_json::from_str::<Phone>("\"12\"").is_err());
    }
}
