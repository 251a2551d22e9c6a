//! Risk register: each risk with its category, likelihood and impact on a 1–5 scale, mitigation
//! measures, optional owner, status and dated reviews; and the heat map of current assessments.
//!
//! Documents write likelihood and impact in words. The mapping onto the 1–5 scale (that of the
//! UNDP enterprise risk management policy: likelihood 1 "not likely" … 5 "expected"; impact
//! 1 "negligible" … 5 "extreme") is:
//!
//! | likelihood (FR / EN)                          | | impact (FR / EN)                                  | |
//! |-----------------------------------------------|---|--------------------------------------------------|---|
//! | très faible, rare / very low, rare            | 1 | négligeable / negligible                          | 1 |
//! | faible / low, unlikely                        | 2 | limité(e), faible, mineur / minor, low, limited   | 2 |
//! | moyenne, possible / medium, moderate, possible| 3 | moyen(ne), modéré(e) / moderate, medium           | 3 |
//! | élevée, forte, probable / high, likely        | 4 | fort(e), élevé(e), majeur / major, high, extensive| 4 |
//! | très élevée, certaine / very high, expected   | 5 | très fort, critique, extrême / extreme, critical  | 5 |
//!
//! PROSMED (2021) uses three likelihood words (Faible, Moyenne, Elevée → 2, 3, 4) and two impact
//! words (Limitée, Fort → 2, 4): the middle of the scale, leaving 1 and 5 for later reviews.

use super::msg::{FrameworkMsg, Issue, Table};
use crate::area::parse_name;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use crate::text::fold;
use std::collections::HashMap;

/// Likelihood, 1 (not likely) to 5 (expected).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Likelihood(u8);

impl Likelihood {
    pub fn new(n: u8) -> Option<Likelihood> {
        (1..=5).contains(&n).then_some(Likelihood(n))
    }
    pub fn parse(raw: &str) -> Result<Likelihood, FrameworkMsg> {
        let t = fold(raw);
        let n = match t.as_str() {
            "1" | "tres faible" | "rare" | "very low" => 1,
            "2" | "faible" | "low" | "unlikely" | "peu probable" => 2,
            "3" | "moyenne" | "moyen" | "possible" | "medium" | "moderate" => 3,
            "4" | "elevee" | "eleve" | "haute" | "forte" | "probable" | "high" | "likely" => 4,
            "5" | "tres elevee" | "tres eleve" | "certaine" | "certain" | "very high" | "expected" | "almost certain" => 5,
            _ => return Err(FrameworkMsg::InvalidLikelihood { text: raw.trim().to_string() }),
        };
        Ok(Likelihood(n))
    }
    pub fn value(&self) -> u8 {
        self.0
    }
}

/// Impact, 1 (negligible) to 5 (extreme).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Impact(u8);

impl Impact {
    pub fn new(n: u8) -> Option<Impact> {
        (1..=5).contains(&n).then_some(Impact(n))
    }
    pub fn parse(raw: &str) -> Result<Impact, FrameworkMsg> {
        let t = fold(raw);
        let n = match t.as_str() {
            "1" | "negligeable" | "negligible" | "tres faible" => 1,
            "2" | "limitee" | "limite" | "faible" | "mineur" | "mineure" | "minor" | "low" | "limited" => 2,
            "3" | "moyen" | "moyenne" | "modere" | "moderee" | "moderate" | "medium" | "intermediate" => 3,
            "4" | "fort" | "forte" | "eleve" | "elevee" | "majeur" | "majeure" | "major" | "high" | "extensive" => 4,
            "5" | "tres fort" | "tres forte" | "critique" | "extreme" | "critical" => 5,
            _ => return Err(FrameworkMsg::InvalidImpact { text: raw.trim().to_string() }),
        };
        Ok(Impact(n))
    }
    pub fn value(&self) -> u8 {
        self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskStatus {
    Open,
    /// Watched, mitigation in place.
    Monitored,
    /// The risk happened; it is now an issue to manage.
    Occurred,
    Closed,
}

impl RiskStatus {
    pub fn parse(raw: &str) -> Result<RiskStatus, FrameworkMsg> {
        match fold(raw).as_str() {
            "" | "open" | "ouvert" | "actif" | "active" => Ok(RiskStatus::Open),
            "monitored" | "suivi" | "sous surveillance" => Ok(RiskStatus::Monitored),
            "occurred" | "survenu" | "materialise" | "realise" => Ok(RiskStatus::Occurred),
            "closed" | "clos" | "ferme" => Ok(RiskStatus::Closed),
            _ => Err(FrameworkMsg::InvalidRiskStatus { text: raw.trim().to_string() }),
        }
    }
}

/// A dated reassessment (PROSMED promises one every six months).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskReview {
    pub date: NaiveDate,
    pub likelihood: Likelihood,
    pub impact: Impact,
    pub status: RiskStatus,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Risk {
    pub number: u32,
    pub description: String,
    /// As written ("Sécuritaire et politique"); categories are not a closed list in PRODOCs.
    pub category: String,
    pub likelihood: Likelihood,
    pub impact: Impact,
    pub likelihood_as_written: String,
    pub impact_as_written: String,
    pub mitigation: Vec<String>,
    /// PROSMED's matrix has no owner column: `None`, not a placeholder string.
    pub owner: Option<String>,
    pub status: RiskStatus,
    pub reviews: Vec<RiskReview>,
    pub line: usize,
}

impl Risk {
    /// The assessment that stands: the latest review, else the initial one.
    pub fn current(&self) -> (Likelihood, Impact, RiskStatus) {
        match self.reviews.iter().max_by_key(|r| r.date) {
            Some(r) => (r.likelihood, r.impact, r.status),
            None => (self.likelihood, self.impact, self.status),
        }
    }
    /// Likelihood × impact, 1 to 25.
    pub fn score(&self) -> u8 {
        let (l, i, _) = self.current();
        l.0 * i.0
    }
}

/// Score bands (inclusive lower bounds), from configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskBands {
    pub medium_from: u8,
    pub high_from: u8,
    pub critical_from: u8,
}

impl Default for RiskBands {
    /// 1–4 low, 5–9 medium, 10–15 high, 16–25 critical.
    fn default() -> Self {
        RiskBands { medium_from: 5, high_from: 10, critical_from: 16 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskLevel {
    Low,
    Medium,
    High,
    Critical,
}

impl RiskBands {
    pub fn level(&self, score: u8) -> RiskLevel {
        if score >= self.critical_from {
            RiskLevel::Critical
        } else if score >= self.high_from {
            RiskLevel::High
        } else if score >= self.medium_from {
            RiskLevel::Medium
        } else {
            RiskLevel::Low
        }
    }
}

/// Counts of risks per (likelihood, impact) cell: `cells[l-1][i-1]`, with the risk numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeatMap {
    pub cells: [[Vec<u32>; 5]; 5],
}

impl HeatMap {
    pub fn count(&self, l: u8, i: u8) -> usize {
        self.cells[(l - 1) as usize][(i - 1) as usize].len()
    }
    pub fn total(&self) -> usize {
        self.cells.iter().flatten().map(Vec::len).sum()
    }
}

/// Places every risk by its current assessment; closed risks are left out unless asked for.
pub fn heat_map(risks: &[Risk], include_closed: bool) -> HeatMap {
    let mut cells: [[Vec<u32>; 5]; 5] = Default::default();
    for r in risks {
        let (l, i, s) = r.current();
        if s == RiskStatus::Closed && !include_closed {
            continue;
        }
        cells[(l.0 - 1) as usize][(i.0 - 1) as usize].push(r.number);
    }
    HeatMap { cells }
}

fn placeholder(s: &str) -> bool {
    // Punctuation matters here ("(not given)", "-", "n/a"), so lower case only, not `fold`.
    let f = s.trim().to_lowercase();
    f.is_empty() || f.starts_with("(not given") || f.starts_with("(non ") || f == "-" || f == "n/a"
}

/// Reads a risk log: `n,risk_fr|risk,category,probability|likelihood,impact,mitigation_fr|mitigation`
/// and optionally `owner`, `status`. Mitigation measures are separated by ` | `.
pub fn parse_risks(bytes: &[u8]) -> Result<Vec<Risk>, Vec<Issue>> {
    let t = Table::read(bytes, &["n", "category", "impact"])?;
    let pick = |a: &str, b: &str| if t.col(a).is_some() { a.to_string() } else { b.to_string() };
    let (desc_col, lik_col, mit_col) = (pick("risk_fr", "risk"), pick("probability", "likelihood"), pick("mitigation_fr", "mitigation"));
    let mut errors = Vec::new();
    for c in [&desc_col, &lik_col] {
        if t.col(c).is_none() {
            errors.push(Issue::error(1, c, FrameworkMsg::MissingColumn { name: c.clone() }));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut out = Vec::new();
    let mut seen: HashMap<u32, usize> = HashMap::new();
    for (line, row) in &t.rows {
        let line = *line;
        let before = errors.len();
        let n_raw = t.get(row, "n");
        let number = match n_raw.parse::<u32>() {
            Ok(n) => match seen.insert(n, line) {
                Some(first) => {
                    errors.push(Issue::error(line, "n", FrameworkMsg::DuplicateCode { code: n.to_string(), first_line: first }));
                    None
                }
                None => Some(n),
            },
            Err(_) => {
                errors.push(Issue::error(line, "n", FrameworkMsg::NotANumber { text: n_raw.to_string() }));
                None
            }
        };
        let description = super::parse_text(t.get(row, &desc_col)).map_err(|m| errors.push(Issue::error(line, &desc_col, m))).ok();
        let category = parse_name(t.get(row, "category")).map_err(|m| errors.push(Issue::error(line, "category", FrameworkMsg::Common(m)))).ok();
        let likelihood = Likelihood::parse(t.get(row, &lik_col)).map_err(|m| errors.push(Issue::error(line, &lik_col, m))).ok();
        let impact = Impact::parse(t.get(row, "impact")).map_err(|m| errors.push(Issue::error(line, "impact", m))).ok();
        let status = RiskStatus::parse(t.get(row, "status")).map_err(|m| errors.push(Issue::error(line, "status", m))).ok();
        let mitigation: Vec<String> =
            t.get(row, &mit_col).split(" | ").map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect();
        let owner_raw = t.get(row, "owner");
        let owner = (!placeholder(owner_raw)).then(|| owner_raw.to_string());
        if errors.len() > before {
            continue;
        }
        if let (Some(number), Some(description), Some(category), Some(likelihood), Some(impact), Some(status)) =
            (number, description, category, likelihood, impact, status)
        {
            out.push(Risk {
                number,
                description,
                category,
                likelihood,
                impact,
                likelihood_as_written: t.get(row, &lik_col).to_string(),
                impact_as_written: t.get(row, "impact").to_string(),
                mitigation,
                owner,
                status,
                reviews: Vec::new(),
                line,
            });
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

pub fn parse_date(raw: &str) -> Result<NaiveDate, FrameworkMsg> {
    let t = raw.trim();
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(t, "%d/%m/%Y"))
        .map_err(|_| FrameworkMsg::InvalidDate { text: t.to_string() })
}

/// Reads reviews `n,date,likelihood,impact[,status][,note]` and attaches them to `risks`.
pub fn apply_reviews(risks: &mut [Risk], bytes: &[u8]) -> Result<(), Vec<Issue>> {
    let t = Table::read(bytes, &["n", "date", "likelihood", "impact"])?;
    let mut errors = Vec::new();
    let mut pending = Vec::new();
    for (line, row) in &t.rows {
        let line = *line;
        let before = errors.len();
        let n_raw = t.get(row, "n");
        let idx = match n_raw.parse::<u32>().ok().and_then(|n| risks.iter().position(|r| r.number == n)) {
            Some(i) => Some(i),
            None => {
                errors.push(Issue::error(line, "n", FrameworkMsg::UnknownRisk { text: n_raw.to_string() }));
                None
            }
        };
        let date = parse_date(t.get(row, "date")).map_err(|m| errors.push(Issue::error(line, "date", m))).ok();
        let l = Likelihood::parse(t.get(row, "likelihood")).map_err(|m| errors.push(Issue::error(line, "likelihood", m))).ok();
        let i = Impact::parse(t.get(row, "impact")).map_err(|m| errors.push(Issue::error(line, "impact", m))).ok();
        let s = RiskStatus::parse(t.get(row, "status")).map_err(|m| errors.push(Issue::error(line, "status", m))).ok();
        let note = Some(t.get(row, "note")).filter(|s| !s.is_empty()).map(str::to_string);
        if errors.len() == before {
            if let (Some(idx), Some(date), Some(likelihood), Some(impact), Some(status)) = (idx, date, l, i, s) {
                pending.push((idx, RiskReview { date, likelihood, impact, status, note }));
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    for (idx, r) in pending {
        risks[idx].reviews.push(r);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_from_words() {
        assert_eq!(Likelihood::parse("Elevée").unwrap().value(), 4);
        assert_eq!(Likelihood::parse("Élevée").unwrap().value(), 4);
        assert_eq!(Likelihood::parse("Moyenne").unwrap().value(), 3);
        assert_eq!(Likelihood::parse("Faible").unwrap().value(), 2);
        assert_eq!(Likelihood::parse("5").unwrap().value(), 5);
        assert!(Likelihood::parse("6").is_err());
        assert!(Likelihood::parse("souvent").is_err());
        assert_eq!(Impact::parse("Fort").unwrap().value(), 4);
        assert_eq!(Impact::parse("Limitée").unwrap().value(), 2);
        assert!(Impact::parse("0").is_err());
        assert!(Likelihood::new(0).is_none() && Impact::new(6).is_none());
    }

    #[test]
    fn reviews_change_the_current_assessment_and_the_heat_map() {
        let csv = "n,risk,category,likelihood,impact,mitigation,owner\n1,Insécurité,Sécuritaire,Elevée,Fort,A | B,\n2,Covid,Opérationnelle,Moyenne,Limitée,C,Chef de projet\n";
        let mut risks = parse_risks(csv.as_bytes()).unwrap();
        assert_eq!(risks[0].mitigation, vec!["A".to_string(), "B".to_string()]);
        assert_eq!(risks[0].owner, None);
        assert_eq!(risks[1].owner.as_deref(), Some("Chef de projet"));
        assert_eq!(risks[0].score(), 16);
        let hm = heat_map(&risks, false);
        assert_eq!((hm.count(4, 4), hm.count(3, 2), hm.total()), (1, 1, 2));
        let reviews = "n,date,likelihood,impact,status,note\n2,2022-06-30,1,1,closed,fin de la pandémie\n1,2021-12-31,5,5,open,\n1,30/06/2022,3,4,monitored,\n";
        apply_reviews(&mut risks, reviews.as_bytes()).unwrap();
        assert_eq!(risks[0].current(), (Likelihood(3), Impact(4), RiskStatus::Monitored));
        let hm = heat_map(&risks, false);
        assert_eq!((hm.count(3, 4), hm.count(4, 4), hm.total()), (1, 0, 1));
        assert_eq!(heat_map(&risks, true).total(), 2);
        let bands = RiskBands::default();
        assert_eq!(bands.level(risks[0].score()), RiskLevel::High);
        assert_eq!(bands.level(16), RiskLevel::Critical);
        assert_eq!(bands.level(4), RiskLevel::Low);
    }

    #[test]
    fn bad_rows_are_all_reported() {
        let csv = "n,risk,category,likelihood,impact\n1,A,Politique,Souvent,Fort\n1,B,Politique,Faible,Fort\nx,C,Politique,Faible,Immense\n";
        let errs = parse_risks(csv.as_bytes()).unwrap_err();
        let got: Vec<(usize, &str)> = errs.iter().map(|e| (e.line, e.field.as_str())).collect();
        assert_eq!(got, vec![(2, "likelihood"), (3, "n"), (4, "n"), (4, "impact")]);
        let mut risks = parse_risks(b"n,risk,category,likelihood,impact\n1,A,P,Faible,Fort\n").unwrap();
        assert!(apply_reviews(&mut risks, b"n,date,likelihood,impact\n9,2022-01-01,1,1\n1,31/02/2022,1,1\n").is_err());
        assert!(risks[0].reviews.is_empty(), "all or nothing");
    }
}
