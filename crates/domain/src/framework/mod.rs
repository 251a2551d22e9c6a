//! Results frameworks: programme → result → output → indicator, as UN programme documents
//! (PRODOC) print them, with baselines, yearly targets, means of verification; then actual
//! values, their roll-up over areas and time, progress against targets, and the risk register.
//!
//! Targets are kept as the document states them: a value, a change from the baseline
//! ("+5% dans les zones ciblées"), a milestone text, or "/" (no target that year). Nothing
//! here guesses what the document leaves open; the caller says it (see [`actuals::ChangeReading`]).

pub mod actuals;
pub mod import;
pub mod msg;
pub mod risk;
pub mod source;
#[cfg(test)]
mod seed_tests;

use crate::budget::money::{Dec, MoneyError, NumberStyle};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

pub use msg::{FrameworkMsg, Issue, Severity};

/// A code in a results framework: `R1`, `P2.3`, `1.2.3`. Letters, digits, dots and hyphens,
/// upper-cased; a trailing dot as printed ("1.2.2.") is dropped.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Code(String);

impl Code {
    pub const MAX_LEN: usize = 32;
    pub fn parse(raw: &str) -> Result<Code, FrameworkMsg> {
        let c = raw.trim().trim_end_matches('.').to_uppercase();
        let ok = !c.is_empty()
            && c.len() <= Self::MAX_LEN
            && c.chars().all(|ch| ch.is_ascii_uppercase() || ch.is_ascii_digit() || ch == '.' || ch == '-')
            && !c.starts_with(['.', '-']);
        if ok {
            Ok(Code(c))
        } else {
            Err(FrameworkMsg::InvalidCode { text: raw.trim().to_string() })
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl TryFrom<String> for Code {
    type Error = String;
    fn try_from(s: String) -> Result<Code, String> {
        Code::parse(&s).map_err(|m| m.text(crate::Lang::En))
    }
}
impl From<Code> for String {
    fn from(c: Code) -> String {
        c.0
    }
}
impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The years a programme runs, inclusive (PROSMED: 2021-2025).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgrammePeriod {
    first: i32,
    last: i32,
}

impl ProgrammePeriod {
    pub fn new(first: i32, last: i32) -> Result<ProgrammePeriod, FrameworkMsg> {
        if first > last || !(1900..=2200).contains(&first) || !(1900..=2200).contains(&last) {
            return Err(FrameworkMsg::InvalidProgrammePeriod);
        }
        Ok(ProgrammePeriod { first, last })
    }
    pub fn first(&self) -> i32 {
        self.first
    }
    pub fn last(&self) -> i32 {
        self.last
    }
    pub fn contains(&self, year: i32) -> bool {
        (self.first..=self.last).contains(&year)
    }
    pub fn years(&self) -> impl Iterator<Item = i32> {
        self.first..=self.last
    }
}

/// What an indicator measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Number,
    Percent,
    YesNo,
    Text,
}

impl Unit {
    pub fn parse(raw: &str) -> Result<Unit, FrameworkMsg> {
        match raw.trim().to_lowercase().as_str() {
            "number" | "nombre" | "nbre" | "count" => Ok(Unit::Number),
            "percent" | "pourcentage" | "%" => Ok(Unit::Percent),
            "yes_no" | "yes/no" | "yesno" | "oui/non" | "oui_non" | "boolean" => Ok(Unit::YesNo),
            "text" | "texte" | "milestone" | "jalon" => Ok(Unit::Text),
            _ => Err(FrameworkMsg::InvalidUnit { text: raw.trim().to_string() }),
        }
    }
}

/// Whether targets are running totals since the start. PRODOCs print "(Indicateur cumulatif)"
/// when they are and usually say nothing otherwise, hence `Unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cumulative {
    Yes,
    No,
    Unknown,
}

impl Cumulative {
    pub fn parse(raw: &str) -> Result<Cumulative, FrameworkMsg> {
        match raw.trim().to_lowercase().as_str() {
            "yes" | "oui" | "true" | "1" | "cumulatif" | "cumulative" => Ok(Cumulative::Yes),
            "no" | "non" | "false" | "0" => Ok(Cumulative::No),
            "unknown" | "inconnu" | "" | "?" => Ok(Cumulative::Unknown),
            _ => Err(FrameworkMsg::InvalidCumulative { text: raw.trim().to_string() }),
        }
    }
}

/// How values combine over time (and, by consequence, over areas; see [`actuals`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    /// Values are counts for their period; a year is the sum of its periods (meetings held).
    Sum,
    /// The mean of the values reported in the window (a rate measured several times).
    Average,
    /// The latest value stands (a stock or a survey result: "% who trust the police").
    Last,
    /// Values are new achievements; the value at a date is the sum since the programme start
    /// (communes covered so far), compared with cumulative targets.
    Cumulative,
}

impl Aggregation {
    pub fn parse(raw: &str) -> Result<Aggregation, FrameworkMsg> {
        match raw.trim().to_lowercase().as_str() {
            "sum" | "somme" => Ok(Aggregation::Sum),
            "average" | "mean" | "moyenne" => Ok(Aggregation::Average),
            "last" | "last_value" | "dernière" | "derniere" | "dernière valeur" => Ok(Aggregation::Last),
            "cumulative" | "cumul" | "cumulatif" => Ok(Aggregation::Cumulative),
            _ => Err(FrameworkMsg::InvalidAggregation { text: raw.trim().to_string() }),
        }
    }
    /// The rule when the file does not state one: cumulative indicators cumulate, rates and
    /// yes/no keep their last value, other counts add up per period.
    pub fn default_for(unit: Unit, cumulative: Cumulative) -> Aggregation {
        match (unit, cumulative) {
            (Unit::Percent | Unit::YesNo | Unit::Text, _) => Aggregation::Last,
            (Unit::Number, Cumulative::Yes) => Aggregation::Cumulative,
            (Unit::Number, _) => Aggregation::Sum,
        }
    }
}

/// A dimension along which values are reported.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Disaggregation {
    Sex,
    AgeGroup,
    Area,
    Other(String),
}

impl Disaggregation {
    pub fn parse(raw: &str) -> Result<Disaggregation, FrameworkMsg> {
        let t = raw.trim().to_lowercase();
        Ok(match t.as_str() {
            "sex" | "sexe" | "genre" | "f/m" => Disaggregation::Sex,
            "age" | "âge" | "age_group" | "tranche d'âge" | "groupe d'âge" => Disaggregation::AgeGroup,
            "area" | "zone" | "région" | "region" | "cercle" | "commune" | "localité" => Disaggregation::Area,
            _ => match t.strip_prefix("other:").or_else(|| t.strip_prefix("autre:")) {
                Some(name) if !name.trim().is_empty() => Disaggregation::Other(name.trim().to_string()),
                _ => return Err(FrameworkMsg::InvalidDisaggregation { text: raw.trim().to_string() }),
            },
        })
    }

    /// Reads the dimensions a French label announces: "(désagrégé par sexe et fonction …)",
    /// "(avec désagrégation des dossiers auditionnés par sexe)", "(F/M)".
    pub fn infer_from_label(label: &str) -> Vec<Disaggregation> {
        let l = label.to_lowercase();
        let mut out: Vec<Disaggregation> = Vec::new();
        if l.contains("(f/m)") {
            out.push(Disaggregation::Sex);
        }
        if let Some(i) = l.find("désagrég") {
            if let Some(j) = l[i..].find(" par ") {
                let rest = &l[i + j + 5..];
                let end = rest.find(['(', ')']).unwrap_or(rest.len());
                for part in rest[..end].split([',', '/']).flat_map(|p| p.split(" et ")) {
                    let p = part.trim();
                    if p.is_empty() {
                        continue;
                    }
                    let d = match Disaggregation::parse(p) {
                        Ok(d) => d,
                        Err(_) => Disaggregation::Other(p.to_string()),
                    };
                    if !out.contains(&d) {
                        out.push(d);
                    }
                }
            }
        }
        out
    }
}

/// One figure of a baseline: "59,49% (police)" is 59.49 labelled "police".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaselinePart {
    pub value: Dec,
    pub label: Option<String>,
}

/// The situation before the programme, as the document gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
// Adjacent tagging: variants holding a plain string or bool cannot be internally tagged.
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Baseline {
    /// One figure, or several labelled ones ("59,49% (police) ; 88,01% (gendarmerie)").
    Values { parts: Vec<BaselinePart>, note: Option<String> },
    /// "Baseline à établir avant le démarrage des activités".
    ToBeEstablished,
    YesNo(bool),
    /// For milestone (text) indicators.
    Text(String),
    /// Nothing written.
    Missing,
}

impl Baseline {
    /// The single figure when there is exactly one (progress needs one).
    pub fn single_value(&self) -> Option<Dec> {
        match self {
            Baseline::Values { parts, .. } if parts.len() == 1 => Some(parts[0].value),
            _ => None,
        }
    }
}

/// A target for one year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Target {
    /// "/" in the table: explicitly no target that year.
    NoTarget,
    /// An absolute level, possibly with a note: "6 (20% dossiers de femmes victimes/témoins)".
    Value { value: Dec, note: Option<String> },
    /// A change from the baseline: "+5% dans les zones ciblées". Whether "%" means percentage
    /// points or a relative change is not said by PROSMED; see [`actuals::ChangeReading`].
    Change { delta: Dec, percent_sign: bool, note: Option<String> },
    YesNo(bool),
    /// A milestone for a text indicator: "Plan d'action 2022".
    Milestone(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultNode {
    pub code: Code,
    pub title: String,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputNode {
    pub code: Code,
    pub result: Code,
    pub title: String,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Indicator {
    pub code: Code,
    pub result: Code,
    /// `None` for an outcome (result-level) indicator.
    pub output: Option<Code>,
    pub label: String,
    pub unit: Unit,
    pub baseline: Baseline,
    pub baseline_year: Option<i32>,
    pub baseline_as_written: String,
    /// Only years with a cell; a "/" cell is kept as [`Target::NoTarget`].
    pub targets: BTreeMap<i32, Target>,
    pub cumulative: Cumulative,
    pub aggregation: Aggregation,
    pub means_of_verification: Vec<String>,
    pub responsible: Option<String>,
    pub disaggregations: Vec<Disaggregation>,
    pub line: usize,
}

impl Indicator {
    pub fn target(&self, year: i32) -> Option<&Target> {
        self.targets.get(&year)
    }
    /// The last year with a real target on or before `year` (for cumulative indicators that
    /// skip years, such as surveys in 2022 and 2025).
    pub fn latest_target_by(&self, year: i32) -> Option<(i32, &Target)> {
        self.targets
            .range(..=year)
            .rev()
            .find(|(_, t)| !matches!(t, Target::NoTarget))
            .map(|(y, t)| (*y, t))
    }
}

/// A whole imported framework.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Framework {
    pub period: ProgrammePeriod,
    pub results: Vec<ResultNode>,
    pub outputs: Vec<OutputNode>,
    pub indicators: Vec<Indicator>,
}

impl Framework {
    pub fn indicator(&self, code: &Code) -> Option<&Indicator> {
        self.indicators.iter().find(|i| &i.code == code)
    }
    pub fn outputs_of<'a>(&'a self, result: &'a Code) -> impl Iterator<Item = &'a OutputNode> + 'a {
        self.outputs.iter().filter(move |o| &o.result == result)
    }
    pub fn indicators_of_output<'a>(&'a self, output: &'a Code) -> impl Iterator<Item = &'a Indicator> + 'a {
        self.indicators.iter().filter(move |i| i.output.as_ref() == Some(output))
    }
    /// Outcome indicators of a result (those not attached to an output).
    pub fn outcome_indicators<'a>(&'a self, result: &'a Code) -> impl Iterator<Item = &'a Indicator> + 'a {
        self.indicators.iter().filter(move |i| &i.result == result && i.output.is_none())
    }
}

// ---------- cell readers shared by the importers ----------

/// A title, label or statement: programme documents write long ones (PROSMED's result 2 runs
/// past 200 characters), so up to 2 000 characters, without control characters.
pub fn parse_text(raw: &str) -> Result<String, FrameworkMsg> {
    let t = raw.trim();
    if t.is_empty() {
        return Err(FrameworkMsg::Common(crate::Msg::Required));
    }
    if t.chars().count() > 2000 || t.chars().any(char::is_control) {
        return Err(FrameworkMsg::Common(crate::Msg::TooLong { max: 2000 }));
    }
    Ok(t.to_string())
}

/// Splits "78,97% (Donnée nationale 11/2020)" into the number text, whether a `%` followed,
/// and the rest. The number part is what comes before any letter or parenthesis.
pub(crate) fn split_number(cell: &str) -> (&str, bool, &str) {
    let t = cell.trim();
    let end = t
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_digit() || matches!(c, ' ' | ',' | '.' | '+' | '-' | '−' | '\u{a0}' | '\u{202f}')))
        .map(|(i, _)| i)
        .unwrap_or(t.len());
    let num = t[..end].trim();
    let rest = &t[end..];
    match rest.trim_start().strip_prefix('%') {
        Some(r) => (num, true, r.trim()),
        None => (num, false, rest.trim()),
    }
}

/// "(Mopti)" → "Mopti"; anything not wholly in parentheses is returned as is.
pub(crate) fn strip_parens(s: &str) -> String {
    let t = s.trim();
    match t.strip_prefix('(').and_then(|x| x.strip_suffix(')')) {
        Some(inner) if !inner.contains(')') => inner.trim().to_string(),
        _ => t.to_string(),
    }
}

pub(crate) fn parse_dec(text: &str) -> Result<Dec, FrameworkMsg> {
    Dec::parse(text, NumberStyle::Auto).map_err(|e| match e {
        MoneyError::NotANumber { .. } => FrameworkMsg::NotANumber { text: text.to_string() },
        e => FrameworkMsg::Money(e),
    })
}

fn hundred() -> Dec {
    Dec::from_int(100)
}

/// A measured value in a cell of an indicator of `unit`: "1000", "15%", "6 (note)".
/// A `%` is only accepted for percentages, and a percentage cannot exceed 100.
pub(crate) fn parse_measure(cell: &str, unit: Unit) -> Result<(Dec, Option<String>), FrameworkMsg> {
    let (num, pct, rest) = split_number(cell);
    let not_a_number = || FrameworkMsg::NotANumber { text: cell.trim().to_string() };
    if num.is_empty() || num.starts_with(['+', '-', '−']) && unit != Unit::Number {
        return Err(not_a_number());
    }
    if (pct && unit != Unit::Percent) || (!rest.is_empty() && !rest.starts_with('(')) {
        return Err(not_a_number());
    }
    let v = parse_dec(num).map_err(|m| match m {
        FrameworkMsg::NotANumber { .. } => not_a_number(),
        m => m,
    })?;
    if unit == Unit::Percent && v > hundred() {
        return Err(FrameworkMsg::PercentAbove100 { text: cell.trim().to_string() });
    }
    let note = (!rest.is_empty()).then(|| strip_parens(rest));
    Ok((v, note))
}

pub(crate) fn parse_yes_no(cell: &str) -> Result<bool, FrameworkMsg> {
    match cell.trim().to_lowercase().as_str() {
        "oui" | "yes" | "o" | "y" | "1" | "true" | "vrai" => Ok(true),
        "non" | "no" | "n" | "0" | "false" | "faux" => Ok(false),
        _ => Err(FrameworkMsg::InvalidYesNo { text: cell.trim().to_string() }),
    }
}

/// Reads a target cell for an indicator of `unit`.
pub fn parse_target(cell: &str, unit: Unit) -> Result<Option<Target>, FrameworkMsg> {
    let t = cell.trim();
    if t.is_empty() {
        return Ok(None);
    }
    if t == "/" || t == "-" || t == "–" {
        return Ok(Some(Target::NoTarget));
    }
    match unit {
        Unit::Text => Ok(Some(Target::Milestone(t.to_string()))),
        Unit::YesNo => parse_yes_no(t).map(|b| Some(Target::YesNo(b))),
        Unit::Number | Unit::Percent => {
            if t.starts_with(['+', '-', '−']) {
                // A change from the baseline; the words after it ("dans les zones ciblées") are its scope.
                let (num, pct, rest) = split_number(t);
                if pct && unit != Unit::Percent {
                    return Err(FrameworkMsg::NotANumber { text: t.to_string() });
                }
                let delta = parse_dec(num).map_err(|_| FrameworkMsg::NotANumber { text: t.to_string() })?;
                if unit == Unit::Percent && (delta > hundred() || delta < hundred().neg()) {
                    return Err(FrameworkMsg::PercentAbove100 { text: t.to_string() });
                }
                let note = (!rest.is_empty()).then(|| strip_parens(rest));
                return Ok(Some(Target::Change { delta, percent_sign: pct, note }));
            }
            let (value, note) = parse_measure(t, unit)?;
            Ok(Some(Target::Value { value, note }))
        }
    }
}

/// Reads a baseline cell. Recognises "à établir" / "à déterminer" / "TBD" as not yet known.
pub fn parse_baseline(cell: &str, unit: Unit) -> Result<Baseline, FrameworkMsg> {
    let t = cell.trim();
    if t.is_empty() {
        return Ok(Baseline::Missing);
    }
    let lower = t.to_lowercase();
    let pending = ["à établir", "a etablir", "à déterminer", "a determiner", "to be determined", "to be established"];
    if pending.iter().any(|k| lower.contains(k)) || ["tbd", "nd", "n/d"].contains(&lower.as_str()) {
        return Ok(Baseline::ToBeEstablished);
    }
    match unit {
        Unit::Text => Ok(Baseline::Text(t.to_string())),
        Unit::YesNo => parse_yes_no(t).map(Baseline::YesNo),
        Unit::Number | Unit::Percent => {
            let pieces: Vec<&str> = t.split(';').map(str::trim).filter(|p| !p.is_empty()).collect();
            let many = pieces.len() > 1;
            let mut parts = Vec::new();
            let mut note = None;
            for p in pieces {
                let (num, pct, rest) = split_number(p);
                // Reuse the measure rules (percent ≤ 100, no stray text) on "number[%]".
                let (value, _) = parse_measure(&format!("{num}{}", if pct { "%" } else { "" }), unit)?;
                if !rest.is_empty() && !rest.starts_with('(') {
                    return Err(FrameworkMsg::NotANumber { text: t.to_string() });
                }
                // "(police) (Donnée nationale 11/2020)": with several figures the first
                // parenthesis labels the figure and any further one is a note on the whole.
                let groups: Vec<String> = rest
                    .split(')')
                    .map(|g| g.trim().trim_start_matches('(').trim().to_string())
                    .filter(|g| !g.is_empty())
                    .collect();
                let (label, extra) = if many {
                    (groups.first().cloned(), groups.get(1..).map(|g| g.join("; ")).filter(|s| !s.is_empty()))
                } else {
                    (None, (!groups.is_empty()).then(|| groups.join("; ")))
                };
                if extra.is_some() {
                    note = extra;
                }
                parts.push(BaselinePart { value, label });
            }
            Ok(Baseline::Values { parts, note })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Dec {
        Dec::parse(s, NumberStyle::Auto).unwrap()
    }

    #[test]
    fn codes() {
        assert_eq!(Code::parse(" p2.3 ").unwrap().as_str(), "P2.3");
        assert_eq!(Code::parse("1.2.2.").unwrap().as_str(), "1.2.2");
        assert!(Code::parse("1 2").is_err());
        assert!(Code::parse(".1").is_err());
        assert!(Code::parse("").is_err());
    }

    #[test]
    fn targets_as_printed() {
        assert_eq!(parse_target("/", Unit::Percent).unwrap(), Some(Target::NoTarget));
        assert_eq!(parse_target("", Unit::Number).unwrap(), None);
        assert_eq!(
            parse_target("+5% dans les zones ciblées", Unit::Percent).unwrap(),
            Some(Target::Change { delta: d("5"), percent_sign: true, note: Some("dans les zones ciblées".into()) })
        );
        assert_eq!(
            parse_target("-10% dans les zones ciblées", Unit::Percent).unwrap(),
            Some(Target::Change { delta: d("-10"), percent_sign: true, note: Some("dans les zones ciblées".into()) })
        );
        assert_eq!(
            parse_target("6 (20% dossiers de femmes victimes/témoins)", Unit::Number).unwrap(),
            Some(Target::Value { value: d("6"), note: Some("20% dossiers de femmes victimes/témoins".into()) })
        );
        assert_eq!(parse_target("60 000", Unit::Number).unwrap(), Some(Target::Value { value: d("60000"), note: None }));
        assert_eq!(parse_target("45%", Unit::Percent).unwrap(), Some(Target::Value { value: d("45"), note: None }));
        assert_eq!(parse_target("Plan d’action 2022", Unit::Text).unwrap(), Some(Target::Milestone("Plan d’action 2022".into())));
        assert_eq!(parse_target("oui", Unit::YesNo).unwrap(), Some(Target::YesNo(true)));
    }

    #[test]
    fn bad_targets() {
        assert!(matches!(parse_target("1 par cercle ciblé", Unit::Number), Err(FrameworkMsg::NotANumber { .. })));
        assert!(matches!(parse_target("beaucoup", Unit::Number), Err(FrameworkMsg::NotANumber { .. })));
        assert!(matches!(parse_target("120%", Unit::Percent), Err(FrameworkMsg::PercentAbove100 { .. })));
        assert!(matches!(parse_target("100,5", Unit::Percent), Err(FrameworkMsg::PercentAbove100 { .. })));
        assert!(parse_target("100%", Unit::Percent).is_ok());
        assert!(matches!(parse_target("15%", Unit::Number), Err(FrameworkMsg::NotANumber { .. })));
        assert!(matches!(parse_target("peut-être", Unit::YesNo), Err(FrameworkMsg::InvalidYesNo { .. })));
    }

    #[test]
    fn baselines_as_printed() {
        assert_eq!(
            parse_baseline("78,97% (Donnée nationale 11/2020)", Unit::Percent).unwrap(),
            Baseline::Values {
                parts: vec![BaselinePart { value: d("78.97"), label: None }],
                note: Some("Donnée nationale 11/2020".into())
            }
        );
        assert_eq!(
            parse_baseline("59,49% (police) ; 88,01% (gendarmerie) (Donnée nationale 11/2020)", Unit::Percent).unwrap(),
            Baseline::Values {
                parts: vec![
                    BaselinePart { value: d("59.49"), label: Some("police".into()) },
                    BaselinePart { value: d("88.01"), label: Some("gendarmerie".into()) }
                ],
                note: Some("Donnée nationale 11/2020".into())
            }
        );
        assert_eq!(parse_baseline("Baseline à établir avant le démarrage des activités", Unit::Number).unwrap(), Baseline::ToBeEstablished);
        assert_eq!(parse_baseline("1 (Mopti)", Unit::Number).unwrap().single_value(), Some(d("1")));
        assert_eq!(parse_baseline("0", Unit::Text).unwrap(), Baseline::Text("0".into()));
        assert!(matches!(parse_baseline("environ cent", Unit::Number), Err(FrameworkMsg::NotANumber { .. })));
        assert!(matches!(parse_baseline("140%", Unit::Percent), Err(FrameworkMsg::PercentAbove100 { .. })));
    }

    #[test]
    fn disaggregations_read_from_french_labels() {
        use Disaggregation::*;
        assert_eq!(Disaggregation::infer_from_label("Nbre de personnels de sécurité formés (désagrégé par sexe et Direction Générale)"), vec![Sex, Other("direction générale".into())]);
        assert_eq!(Disaggregation::infer_from_label("Nbre de personnels de justice formés (désagrégés par sexe et fonction (Juridictions/EPES)"), vec![Sex, Other("fonction".into())]);
        assert_eq!(Disaggregation::infer_from_label("Nbre d’auditions publiques organisées par la CVJR (avec désagrégation des dossiers auditionnés par sexe)"), vec![Sex]);
        assert_eq!(Disaggregation::infer_from_label("% des populations (F/M) qui considèrent"), vec![Sex]);
        assert!(Disaggregation::infer_from_label("Nbre de réunions du comité").is_empty());
        assert_eq!(Disaggregation::parse("autre:juridiction").unwrap(), Other("juridiction".into()));
        assert!(Disaggregation::parse("couleur").is_err());
    }

    #[test]
    fn default_aggregation() {
        assert_eq!(Aggregation::default_for(Unit::Number, Cumulative::Yes), Aggregation::Cumulative);
        assert_eq!(Aggregation::default_for(Unit::Number, Cumulative::Unknown), Aggregation::Sum);
        assert_eq!(Aggregation::default_for(Unit::Percent, Cumulative::Yes), Aggregation::Last);
        assert!(ProgrammePeriod::new(2025, 2021).is_err());
    }
}
