//! Verification grading: the NATO "Admiralty" code, which keeps apart two questions analysts
//! otherwise conflate: how reliable is the source (A–F), and how credible is this piece of
//! information (1–6). A usually reliable focal point can pass on a doubtful rumour: "B4".

use super::{taxonomy::Severity, EwMsg};
use crate::Lang;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Source reliability, A (completely reliable) to F (cannot be judged).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum SourceReliability {
    A,
    B,
    C,
    D,
    E,
    F,
}

impl SourceReliability {
    pub const ALL: [SourceReliability; 6] = [Self::A, Self::B, Self::C, Self::D, Self::E, Self::F];
    pub fn parse(c: char) -> Result<Self, EwMsg> {
        Ok(match c.to_ascii_uppercase() {
            'A' => Self::A,
            'B' => Self::B,
            'C' => Self::C,
            'D' => Self::D,
            'E' => Self::E,
            'F' => Self::F,
            _ => return Err(EwMsg::InvalidGrade),
        })
    }
    pub fn letter(self) -> char {
        (b'A' + self as u8) as char
    }
    pub fn label(self, lang: Lang) -> &'static str {
        let (fr, en) = match self {
            Self::A => ("Entièrement fiable", "Completely reliable"),
            Self::B => ("Habituellement fiable", "Usually reliable"),
            Self::C => ("Assez fiable", "Fairly reliable"),
            Self::D => ("Habituellement peu fiable", "Not usually reliable"),
            Self::E => ("Non fiable", "Unreliable"),
            Self::F => ("Fiabilité impossible à évaluer", "Reliability cannot be judged"),
        };
        if lang == Lang::Fr { fr } else { en }
    }
}

/// Information credibility, 1 (confirmed by other sources) to 6 (truth cannot be judged).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum InformationCredibility {
    Confirmed = 1,
    ProbablyTrue = 2,
    PossiblyTrue = 3,
    Doubtful = 4,
    Improbable = 5,
    CannotBeJudged = 6,
}

impl InformationCredibility {
    pub const ALL: [InformationCredibility; 6] = [
        Self::Confirmed,
        Self::ProbablyTrue,
        Self::PossiblyTrue,
        Self::Doubtful,
        Self::Improbable,
        Self::CannotBeJudged,
    ];
    pub fn parse(c: char) -> Result<Self, EwMsg> {
        Ok(match c {
            '1' => Self::Confirmed,
            '2' => Self::ProbablyTrue,
            '3' => Self::PossiblyTrue,
            '4' => Self::Doubtful,
            '5' => Self::Improbable,
            '6' => Self::CannotBeJudged,
            _ => return Err(EwMsg::InvalidGrade),
        })
    }
    pub fn digit(self) -> u8 {
        self as u8
    }
    pub fn label(self, lang: Lang) -> &'static str {
        let (fr, en) = match self {
            Self::Confirmed => ("Confirmée par d'autres sources", "Confirmed by other sources"),
            Self::ProbablyTrue => ("Probablement vraie", "Probably true"),
            Self::PossiblyTrue => ("Possiblement vraie", "Possibly true"),
            Self::Doubtful => ("Douteuse", "Doubtful"),
            Self::Improbable => ("Improbable", "Improbable"),
            Self::CannotBeJudged => ("Véracité impossible à évaluer", "Truth cannot be judged"),
        };
        if lang == Lang::Fr { fr } else { en }
    }
}

/// A full grade such as "B2".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AdmiraltyGrade {
    pub source: SourceReliability,
    pub info: InformationCredibility,
}

impl AdmiraltyGrade {
    pub fn parse(raw: &str) -> Result<Self, EwMsg> {
        let t: Vec<char> = raw.trim().chars().collect();
        if t.len() != 2 {
            return Err(EwMsg::InvalidGrade);
        }
        Ok(AdmiraltyGrade { source: SourceReliability::parse(t[0])?, info: InformationCredibility::parse(t[1])? })
    }
    pub fn label(self, lang: Lang) -> String {
        format!("{} ({} ; {})", self, self.source.label(lang), self.info.label(lang))
    }
}

impl fmt::Display for AdmiraltyGrade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.source.letter(), self.info.digit())
    }
}
impl TryFrom<String> for AdmiraltyGrade {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        AdmiraltyGrade::parse(&s).map_err(|m| m.text(Lang::En))
    }
}
impl From<AdmiraltyGrade> for String {
    fn from(g: AdmiraltyGrade) -> String {
        g.to_string()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerificationStatus {
    Pending,
    Verified,
    /// Checked as far as possible, neither confirmed nor refuted: still may justify an alert.
    Unverifiable,
    False,
}

impl VerificationStatus {
    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Self::Pending, Lang::Fr) => "en attente",
            (Self::Pending, Lang::En) => "pending",
            (Self::Verified, Lang::Fr) => "vérifié",
            (Self::Verified, Lang::En) => "verified",
            (Self::Unverifiable, Lang::Fr) => "invérifiable",
            (Self::Unverifiable, Lang::En) => "unverifiable",
            (Self::False, Lang::Fr) => "faux",
            (Self::False, Lang::En) => "false",
        }
    }
}

/// An analyst's verdict on a report or event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verification {
    pub status: VerificationStatus,
    pub grade: Option<AdmiraltyGrade>,
    pub severity: Severity,
    pub by_user: i64,
    pub at: DateTime<Utc>,
}

impl Verification {
    /// "Verified" must carry a grade whose credibility is 1–3: calling "doubtful" information
    /// verified would contradict itself, and an ungraded "verified" cannot be audited.
    /// "False" with credibility 1–2 is likewise contradictory.
    pub fn new(
        status: VerificationStatus,
        grade: Option<AdmiraltyGrade>,
        severity: Severity,
        by_user: i64,
        at: DateTime<Utc>,
    ) -> Result<Self, EwMsg> {
        use InformationCredibility as I;
        match (status, grade) {
            (VerificationStatus::Verified, None) => return Err(EwMsg::VerifiedNeedsGrade),
            (VerificationStatus::Verified, Some(g)) if g.info > I::PossiblyTrue => {
                return Err(EwMsg::GradeContradictsStatus)
            }
            (VerificationStatus::False, Some(g)) if g.info <= I::ProbablyTrue => {
                return Err(EwMsg::GradeContradictsStatus)
            }
            _ => {}
        }
        Ok(Verification { status, grade, severity, by_user, at })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grades_parse_and_print() {
        let g = AdmiraltyGrade::parse(" b2 ").unwrap();
        assert_eq!(g.source, SourceReliability::B);
        assert_eq!(g.info, InformationCredibility::ProbablyTrue);
        assert_eq!(g.to_string(), "B2");
        for bad in ["", "B", "G1", "B7", "B0", "2B", "B22"] {
            assert!(AdmiraltyGrade::parse(bad).is_err(), "{bad}");
        }
        for s in SourceReliability::ALL {
            for i in InformationCredibility::ALL {
                let g = AdmiraltyGrade { source: s, info: i };
                assert_eq!(AdmiraltyGrade::parse(&g.to_string()).unwrap(), g);
            }
        }
        assert!(g.label(Lang::Fr).contains("Habituellement fiable"));
        assert!(g.label(Lang::En).contains("Probably true"));
        let json = serde_json::to_string(&g).unwrap();
        assert_eq!(json, "\"B2\"");
        assert_eq!(serde_json::from_str::<AdmiraltyGrade>(&json).unwrap(), g);
    }

    #[test]
    fn verification_status_must_agree_with_grade() {
        let at = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let g = |s: &str| Some(AdmiraltyGrade::parse(s).unwrap());
        use VerificationStatus::*;
        assert!(Verification::new(Verified, g("B2"), Severity::High, 1, at).is_ok());
        assert_eq!(Verification::new(Verified, None, Severity::High, 1, at), Err(EwMsg::VerifiedNeedsGrade));
        assert_eq!(Verification::new(Verified, g("A4"), Severity::High, 1, at), Err(EwMsg::GradeContradictsStatus));
        assert_eq!(Verification::new(False, g("C1"), Severity::Low, 1, at), Err(EwMsg::GradeContradictsStatus));
        assert!(Verification::new(False, g("E5"), Severity::Low, 1, at).is_ok());
        assert!(Verification::new(Unverifiable, g("F6"), Severity::Moderate, 1, at).is_ok());
        assert!(Verification::new(Pending, None, Severity::Moderate, 1, at).is_ok());
    }
}
