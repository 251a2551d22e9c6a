//! Actual values: what was achieved, per indicator × period × area (× disaggregation), rolled
//! up over time by the indicator's [`Aggregation`] and up the area tree, then compared with the
//! target for a traffic-light status whose thresholds the caller sets.
//!
//! Area roll-up: `Average` means an unweighted mean of the reporting areas; percentages are
//! always averaged (adding percentages of different areas means nothing); everything else adds up.
//! A value entered both for an area and for one of its sub-areas is refused (double counting).

use super::{Aggregation, Baseline, Code, Disaggregation, FrameworkMsg, Indicator, ProgrammePeriod, Target, Unit};
use crate::area::AreaCode;
use crate::budget::money::{Dec, MoneyError, Ratio};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

/// A reporting period inside a year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Period {
    Year { year: i32 },
    Semester { year: i32, n: u8 },
    Quarter { year: i32, n: u8 },
    Month { year: i32, n: u8 },
}

impl Period {
    /// `2022`, `2022-S1`, `2022-Q3`, `2022-07` (also `2022-T3` for French "trimestre").
    pub fn parse(raw: &str) -> Result<Period, FrameworkMsg> {
        let t = raw.trim().to_uppercase();
        let bad = || FrameworkMsg::InvalidYear { text: raw.trim().to_string() };
        let (y, rest) = match t.split_once('-') {
            Some((y, r)) => (y, Some(r)),
            None => (t.as_str(), None),
        };
        let year: i32 = y.parse().map_err(|_| bad())?;
        if !(1900..=2200).contains(&year) {
            return Err(bad());
        }
        let num = |s: &str, max: u8| s.parse::<u8>().ok().filter(|n| (1..=max).contains(n)).ok_or_else(bad);
        Ok(match rest {
            None => Period::Year { year },
            Some(r) if r.starts_with('S') => Period::Semester { year, n: num(&r[1..], 2)? },
            Some(r) if r.starts_with('Q') || r.starts_with('T') => Period::Quarter { year, n: num(&r[1..], 4)? },
            Some(r) => Period::Month { year, n: num(r, 12)? },
        })
    }
    pub fn year(&self) -> i32 {
        match *self {
            Period::Year { year } | Period::Semester { year, .. } | Period::Quarter { year, .. } | Period::Month { year, .. } => year,
        }
    }
    /// First and last month as `year * 12 + month - 1`, to order and compare periods.
    fn months(&self) -> (i32, i32) {
        let (y, first, len) = match *self {
            Period::Year { year } => (year, 1, 12),
            Period::Semester { year, n } => (year, (n as i32 - 1) * 6 + 1, 6),
            Period::Quarter { year, n } => (year, (n as i32 - 1) * 3 + 1, 3),
            Period::Month { year, n } => (year, n as i32, 1),
        };
        let start = y * 12 + first - 1;
        (start, start + len - 1)
    }
    pub fn overlaps(&self, o: &Period) -> bool {
        let (a, b) = self.months();
        let (c, d) = o.months();
        a <= d && c <= b
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::Year { year } => write!(f, "{year}"),
            Period::Semester { year, n } => write!(f, "{year}-S{n}"),
            Period::Quarter { year, n } => write!(f, "{year}-Q{n}"),
            Period::Month { year, n } => write!(f, "{year}-{n:02}"),
        }
    }
}

/// One reported value. For yes/no indicators 1 means yes and 0 no.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actual {
    pub indicator: Code,
    pub period: Period,
    pub area: AreaCode,
    /// `None` for the total; `Some((Sex, "F"))` for the women's part.
    pub disaggregation: Option<(Disaggregation, String)>,
    pub value: Dec,
}

/// Which values to aggregate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Slice {
    /// Totals. Where an area and period has no total but has values split along one dimension,
    /// those are added up (counts only; a percentage is never rebuilt from its parts).
    Total,
    Category(Disaggregation, String),
}

/// A value over a time window with how it was obtained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimeValue {
    pub value: Ratio,
    /// Number of reported values used.
    pub values_used: usize,
    /// The latest period used.
    pub as_of: Period,
}

fn m(e: MoneyError) -> FrameworkMsg {
    FrameworkMsg::Money(e)
}

/// Aggregates one area's values for `year` by `rule`. `Sum` and `Average` use the periods of
/// that year; `Last` and `Cumulative` look back to the programme start (a 2022 survey still
/// stands in 2023; communes covered in 2021 still count in 2023). Overlapping periods used
/// together (the year 2022 and its first quarter) are refused as double counting.
pub fn over_time(
    values: &[(Period, Dec)],
    rule: Aggregation,
    year: i32,
    programme: ProgrammePeriod,
) -> Result<Option<TimeValue>, FrameworkMsg> {
    let mut used: Vec<&(Period, Dec)> = values
        .iter()
        .filter(|(p, _)| match rule {
            Aggregation::Sum | Aggregation::Average => p.year() == year,
            Aggregation::Last | Aggregation::Cumulative => p.year() <= year && p.year() >= programme.first().min(year),
        })
        .collect();
    if used.is_empty() {
        return Ok(None);
    }
    used.sort_by_key(|(p, _)| p.months());
    if rule != Aggregation::Last {
        for w in used.windows(2) {
            if w[0].0.overlaps(&w[1].0) {
                return Err(FrameworkMsg::OverlappingPeriods { first: w[0].0.to_string(), second: w[1].0.to_string() });
            }
        }
    }
    let as_of = used.last().expect("not empty").0;
    let value = match rule {
        Aggregation::Sum | Aggregation::Cumulative => {
            used.iter().try_fold(Ratio::from_int(0), |acc, (_, v)| acc.checked_add(&v.to_ratio())).map_err(m)?
        }
        Aggregation::Average => {
            let sum = used.iter().try_fold(Ratio::from_int(0), |acc, (_, v)| acc.checked_add(&v.to_ratio())).map_err(m)?;
            sum.checked_div(&Ratio::from_int(used.len() as i64)).map_err(m)?
        }
        Aggregation::Last => {
            // The latest-ending period wins; two values ending the same month are ambiguous.
            let end = as_of.months().1;
            let last: Vec<_> = used.iter().filter(|(p, _)| p.months().1 == end).collect();
            if last.len() > 1 {
                return Err(FrameworkMsg::OverlappingPeriods { first: last[0].0.to_string(), second: last[1].0.to_string() });
            }
            last[0].1.to_ratio()
        }
    };
    Ok(Some(TimeValue { value, values_used: used.len(), as_of }))
}

/// A rolled-up value for an area and how many reporting areas it covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AreaValue {
    pub value: Ratio,
    pub reporting_areas: usize,
}

/// How areas combine for this indicator (see the module comment).
pub fn area_rule(unit: Unit, rule: Aggregation) -> Aggregation {
    if unit == Unit::Percent || rule == Aggregation::Average {
        Aggregation::Average
    } else {
        Aggregation::Sum
    }
}

/// Rolls per-area values up the tree given by `parents` (child → parent; roots have none).
/// Returns a value for every area that reports or has a reporting descendant.
pub fn roll_up_areas(
    values: &BTreeMap<AreaCode, Ratio>,
    parents: &HashMap<AreaCode, AreaCode>,
    area_rule: Aggregation,
) -> Result<BTreeMap<AreaCode, AreaValue>, FrameworkMsg> {
    let mut sums: BTreeMap<AreaCode, (Ratio, usize)> = BTreeMap::new();
    for (area, v) in values {
        // The chain from the area to its root, checked for loops before anything is added.
        let mut chain = vec![area.clone()];
        let mut seen = HashSet::from([area.clone()]);
        while let Some(p) = parents.get(chain.last().expect("not empty")) {
            if !seen.insert(p.clone()) {
                return Err(FrameworkMsg::AreaCycle { area: p.to_string() });
            }
            chain.push(p.clone());
        }
        if let Some(a) = chain[1..].iter().find(|a| values.contains_key(*a)) {
            return Err(FrameworkMsg::ValueAtTwoLevels { area: a.to_string(), descendant: area.to_string() });
        }
        for a in chain {
            let e = sums.entry(a).or_insert((Ratio::from_int(0), 0));
            e.0 = e.0.checked_add(v).map_err(m)?;
            e.1 += 1;
        }
    }
    sums.into_iter()
        .map(|(a, (sum, n))| {
            let value = match area_rule {
                Aggregation::Average => sum.checked_div(&Ratio::from_int(n as i64)).map_err(m)?,
                _ => sum,
            };
            Ok((a, AreaValue { value, reporting_areas: n }))
        })
        .collect()
}

/// The indicator's value for `year` in every area (reporting areas and their ancestors).
pub fn indicator_values(
    indicator: &Indicator,
    actuals: &[Actual],
    year: i32,
    programme: ProgrammePeriod,
    parents: &HashMap<AreaCode, AreaCode>,
    slice: &Slice,
) -> Result<BTreeMap<AreaCode, AreaValue>, FrameworkMsg> {
    if indicator.unit == Unit::Text {
        return Err(FrameworkMsg::NotAggregable);
    }
    // (area, period) → chosen value for the slice.
    let mut cells: BTreeMap<(AreaCode, Period), (Option<Dec>, BTreeMap<Disaggregation, Vec<Dec>>)> = BTreeMap::new();
    for a in actuals.iter().filter(|a| a.indicator == indicator.code) {
        let cell = cells.entry((a.area.clone(), a.period)).or_default();
        match (&a.disaggregation, slice) {
            (None, Slice::Total) => {
                if cell.0.is_some() {
                    return Err(FrameworkMsg::OverlappingPeriods { first: a.period.to_string(), second: a.period.to_string() });
                }
                cell.0 = Some(a.value);
            }
            (Some((d, _)), Slice::Total) => cell.1.entry(d.clone()).or_default().push(a.value),
            (Some((d, c)), Slice::Category(sd, sc)) if d == sd && c.eq_ignore_ascii_case(sc) => {
                if cell.0.is_some() {
                    return Err(FrameworkMsg::OverlappingPeriods { first: a.period.to_string(), second: a.period.to_string() });
                }
                cell.0 = Some(a.value);
            }
            _ => {}
        }
    }
    let mut per_area: BTreeMap<AreaCode, Vec<(Period, Dec)>> = BTreeMap::new();
    for ((area, period), (total, parts)) in cells {
        let v = match total {
            Some(v) => Some(v),
            // Only counts are rebuilt from one dimension's parts.
            None if indicator.unit == Unit::Number && parts.len() == 1 => {
                let p = parts.values().next().expect("one dimension");
                Some(p.iter().try_fold(Dec::ZERO, |acc, x| acc.checked_add(x)).ok_or(FrameworkMsg::Money(MoneyError::Overflow))?)
            }
            None => None,
        };
        if let Some(v) = v {
            per_area.entry(area).or_default().push((period, v));
        }
    }
    let mut by_area = BTreeMap::new();
    for (area, vals) in per_area {
        if let Some(tv) = over_time(&vals, indicator.aggregation, year, programme)? {
            by_area.insert(area, tv.value);
        }
    }
    roll_up_areas(&by_area, parents, area_rule(indicator.unit, indicator.aggregation))
}

/// How to read a target written as a change in % ("+5% dans les zones ciblées").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeReading {
    /// 78.97 % + 5 → 83.97 %.
    PercentagePoints,
    /// 78.97 % × 1.05 → 82.92 %.
    Relative,
    /// Not decided: no status is computed, the report says why.
    Unspecified,
}

/// Compare with the baseline (share of the planned change achieved) or with the target alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProgressBasis {
    FromBaseline,
    AgainstTarget,
}

/// Traffic-light thresholds as fractions of the target achieved (green ≥ `green`, amber ≥ `amber`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thresholds {
    green: Ratio,
    amber: Ratio,
}

impl Thresholds {
    pub fn new(green: Ratio, amber: Ratio) -> Result<Thresholds, FrameworkMsg> {
        if amber > green || amber < Ratio::from_int(0) {
            return Err(FrameworkMsg::InvalidRate { text: format!("{}/{} < {}/{}", green.num(), green.den(), amber.num(), amber.den()) });
        }
        Ok(Thresholds { green, amber })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressOptions {
    pub thresholds: Thresholds,
    pub change_reading: ChangeReading,
    pub basis: ProgressBasis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Green,
    Amber,
    Red,
    /// No target that year ("/" or nothing).
    NoTarget,
    /// No value reported.
    NoData,
    /// A change target with no single baseline figure to apply it to.
    NoBaseline,
    /// A "%" change target while the reading (points or relative) is not decided.
    Ambiguous,
    /// Milestone (text) indicators are assessed by a person, not computed.
    NotMeasurable,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Progress {
    /// The target as a level, once a change has been applied to the baseline.
    pub target: Option<Ratio>,
    pub actual: Option<Ratio>,
    /// Share of the target (or of the planned change) achieved; 1 = 100 %.
    pub achieved: Option<Ratio>,
    pub status: Status,
}

/// Resolves the target of `year` into a level.
pub fn target_level(indicator: &Indicator, year: i32, reading: ChangeReading) -> Result<Option<Ratio>, Status> {
    match indicator.target(year) {
        None | Some(Target::NoTarget) => Err(Status::NoTarget),
        Some(Target::Milestone(_)) => Err(Status::NotMeasurable),
        Some(Target::YesNo(b)) => Ok(Some(Ratio::from_int(*b as i64))),
        Some(Target::Value { value, .. }) => Ok(Some(value.to_ratio())),
        Some(Target::Change { delta, percent_sign, .. }) => {
            let Some(base) = indicator.baseline.single_value() else { return Err(Status::NoBaseline) };
            let (b, d) = (base.to_ratio(), delta.to_ratio());
            let level = match (percent_sign, indicator.unit, reading) {
                // A "%" on a count can only be relative; on a percentage it needs the caller's reading.
                (false, _, _) => b.checked_add(&d),
                (true, Unit::Percent, ChangeReading::PercentagePoints) => b.checked_add(&d),
                (true, _, ChangeReading::Relative) | (true, Unit::Number, _) => {
                    b.checked_mul(&Ratio::from_int(100).checked_add(&d).and_then(|x| x.checked_div(&Ratio::from_int(100))).map_err(|_| Status::Ambiguous)?)
                }
                (true, _, _) => return Err(Status::Ambiguous),
            };
            level.map(Some).map_err(|_| Status::Ambiguous)
        }
    }
}

/// Progress of `actual` (as computed by [`indicator_values`]) against the target of `year`.
pub fn progress(indicator: &Indicator, year: i32, actual: Option<Ratio>, opts: &ProgressOptions) -> Progress {
    if indicator.unit == Unit::Text {
        return Progress { target: None, actual, achieved: None, status: Status::NotMeasurable };
    }
    let target = match target_level(indicator, year, opts.change_reading) {
        Ok(t) => t,
        Err(status) => return Progress { target: None, actual, achieved: None, status },
    };
    let Some(t) = target else { return Progress { target, actual, achieved: None, status: Status::NoTarget } };
    let Some(a) = actual else { return Progress { target, actual, achieved: None, status: Status::NoData } };
    let one = Ratio::from_int(1);
    let baseline = match (&indicator.baseline, opts.basis) {
        (Baseline::Values { .. }, ProgressBasis::FromBaseline) => indicator.baseline.single_value().map(|d| d.to_ratio()),
        _ => None,
    };
    let b = baseline.unwrap_or(Ratio::from_int(0));
    // Direction: a target below the baseline (less pre-trial detention) is met by going down.
    let decreasing = t < b;
    let met = if decreasing { a <= t } else { a >= t };
    let achieved = if indicator.unit == Unit::YesNo || t == b {
        Some(if met { one } else { Ratio::from_int(0) })
    } else {
        a.checked_sub(&b).and_then(|x| x.checked_div(&t.checked_sub(&b)?)).ok()
    };
    let status = match achieved {
        Some(f) if f >= opts.thresholds.green => Status::Green,
        Some(f) if f >= opts.thresholds.amber => Status::Amber,
        Some(_) => Status::Red,
        None => Status::NoData,
    };
    Progress { target, actual: Some(a), achieved, status }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::budget::money::NumberStyle;
    use crate::framework::{parse_baseline, parse_target, Cumulative};

    fn d(s: &str) -> Dec {
        Dec::parse(s, NumberStyle::Auto).unwrap()
    }
    fn r(n: i64, den: i64) -> Ratio {
        Ratio::new(n as i128, den as i128).unwrap()
    }
    fn area(s: &str) -> AreaCode {
        AreaCode::parse(s).unwrap()
    }
    fn p(s: &str) -> Period {
        Period::parse(s).unwrap()
    }
    fn prog() -> ProgrammePeriod {
        ProgrammePeriod::new(2021, 2025).unwrap()
    }
    fn indicator(unit: Unit, rule: Aggregation, baseline: &str, targets: &[(i32, &str)]) -> Indicator {
        Indicator {
            code: Code::parse("1.2.1").unwrap(),
            result: Code::parse("R1").unwrap(),
            output: Some(Code::parse("P1.2").unwrap()),
            label: "test".into(),
            unit,
            baseline: parse_baseline(baseline, unit).unwrap(),
            baseline_year: None,
            baseline_as_written: baseline.into(),
            targets: targets.iter().filter_map(|(y, t)| parse_target(t, unit).unwrap().map(|t| (*y, t))).collect(),
            cumulative: Cumulative::Yes,
            aggregation: rule,
            means_of_verification: vec![],
            responsible: None,
            disaggregations: vec![],
            line: 2,
        }
    }
    fn opts(reading: ChangeReading) -> ProgressOptions {
        ProgressOptions { thresholds: Thresholds::new(r(9, 10), r(6, 10)).unwrap(), change_reading: reading, basis: ProgressBasis::FromBaseline }
    }

    #[test]
    fn periods() {
        assert_eq!(p("2022-q3"), Period::Quarter { year: 2022, n: 3 });
        assert_eq!(p("2022-T3"), Period::Quarter { year: 2022, n: 3 });
        assert_eq!(p("2022-07").to_string(), "2022-07");
        assert!(p("2022").overlaps(&p("2022-S2")));
        assert!(!p("2022-S1").overlaps(&p("2022-07")));
        assert!(Period::parse("2022-Q5").is_err());
        assert!(Period::parse("2022-13").is_err());
        assert!(Period::parse("vingt").is_err());
    }

    #[test]
    fn time_rules() {
        let v = vec![(p("2021"), d("58")), (p("2022-S1"), d("5")), (p("2022-S2"), d("6")), (p("2023-Q1"), d("69"))];
        let tv = |rule, y| over_time(&v, rule, y, prog()).unwrap().map(|t| t.value);
        assert_eq!(tv(Aggregation::Sum, 2022), Some(r(11, 1)));
        assert_eq!(tv(Aggregation::Average, 2022), Some(r(11, 2)));
        assert_eq!(tv(Aggregation::Cumulative, 2022), Some(r(69, 1)));
        assert_eq!(tv(Aggregation::Cumulative, 2023), Some(r(138, 1)));
        assert_eq!(tv(Aggregation::Last, 2022), Some(r(6, 1)));
        // A survey of 2022 still stands in 2024 under "last value"; a sum has nothing for 2024.
        assert_eq!(tv(Aggregation::Last, 2024), Some(r(69, 1)));
        assert_eq!(tv(Aggregation::Sum, 2024), None);
        let dup = vec![(p("2022"), d("10")), (p("2022-Q1"), d("3"))];
        assert!(matches!(over_time(&dup, Aggregation::Sum, 2022, prog()), Err(FrameworkMsg::OverlappingPeriods { .. })));
    }

    #[test]
    fn area_roll_up_sums_or_averages_and_refuses_double_counting() {
        let parents: HashMap<AreaCode, AreaCode> = [("ML-5", "ML"), ("ML0501", "ML-5"), ("ML0502", "ML-5"), ("ML-6", "ML")]
            .iter()
            .map(|(c, p)| (area(c), area(p)))
            .collect();
        let vals: BTreeMap<AreaCode, Ratio> = [("ML0501", 10), ("ML0502", 20), ("ML-6", 60)].iter().map(|(a, v)| (area(a), r(*v, 1))).collect();
        let sum = roll_up_areas(&vals, &parents, Aggregation::Sum).unwrap();
        assert_eq!(sum[&area("ML-5")], AreaValue { value: r(30, 1), reporting_areas: 2 });
        assert_eq!(sum[&area("ML")], AreaValue { value: r(90, 1), reporting_areas: 3 });
        let avg = roll_up_areas(&vals, &parents, Aggregation::Average).unwrap();
        assert_eq!(avg[&area("ML")].value, r(30, 1));
        assert_eq!(avg[&area("ML-5")].value, r(15, 1));
        let mut twice = vals.clone();
        twice.insert(area("ML-5"), r(1, 1));
        assert!(matches!(roll_up_areas(&twice, &parents, Aggregation::Sum), Err(FrameworkMsg::ValueAtTwoLevels { .. })));
        let mut cyclic = parents.clone();
        cyclic.insert(area("ML"), area("ML0501"));
        assert!(matches!(roll_up_areas(&vals, &cyclic, Aggregation::Sum), Err(FrameworkMsg::AreaCycle { .. })));
    }

    #[test]
    fn indicator_values_by_slice() {
        let ind = indicator(Unit::Number, Aggregation::Cumulative, "0", &[(2022, "69")]);
        let parents: HashMap<AreaCode, AreaCode> = [(area("ML0501"), area("ML-5")), (area("ML0502"), area("ML-5"))].into();
        let a = |ar: &str, per: &str, dis: Option<&str>, v: &str| Actual {
            indicator: ind.code.clone(),
            period: p(per),
            area: area(ar),
            disaggregation: dis.map(|c| (Disaggregation::Sex, c.to_string())),
            value: d(v),
        };
        let acts = vec![
            a("ML0501", "2021", None, "30"),
            a("ML0501", "2022", Some("F"), "10"),
            a("ML0501", "2022", Some("M"), "15"),
            a("ML0502", "2022", None, "5"),
        ];
        let total = indicator_values(&ind, &acts, 2022, prog(), &parents, &Slice::Total).unwrap();
        // 30 (2021) + 10 + 15 (2022, rebuilt from sex) + 5 = 60 cumulative in ML-5.
        assert_eq!(total[&area("ML-5")].value, r(60, 1));
        let women = indicator_values(&ind, &acts, 2022, prog(), &parents, &Slice::Category(Disaggregation::Sex, "f".into())).unwrap();
        assert_eq!(women[&area("ML-5")].value, r(10, 1));
        let pr = progress(&ind, 2022, Some(total[&area("ML-5")].value.clone()), &opts(ChangeReading::Unspecified));
        assert_eq!(pr.achieved, Some(r(60, 69)));
        assert_eq!(pr.status, Status::Amber);
    }

    #[test]
    fn progress_and_traffic_lights() {
        let o = opts(ChangeReading::Unspecified);
        let ind = indicator(Unit::Number, Aggregation::Cumulative, "0", &[(2021, "58"), (2022, "69"), (2023, "/")]);
        assert_eq!(progress(&ind, 2021, Some(r(58, 1)), &o).status, Status::Green);
        assert_eq!(progress(&ind, 2021, Some(r(53, 1)), &o).status, Status::Green); // 91 %
        assert_eq!(progress(&ind, 2021, Some(r(40, 1)), &o).status, Status::Amber); // 69 %
        assert_eq!(progress(&ind, 2021, Some(r(20, 1)), &o).status, Status::Red);
        assert_eq!(progress(&ind, 2021, None, &o).status, Status::NoData);
        assert_eq!(progress(&ind, 2023, Some(r(1, 1)), &o).status, Status::NoTarget);
        assert_eq!(progress(&ind, 2024, Some(r(1, 1)), &o).status, Status::NoTarget);
        // Thresholds are the caller's: with green at 50 %, 40/58 is green.
        let lax = ProgressOptions { thresholds: Thresholds::new(r(1, 2), r(1, 4)).unwrap(), ..o };
        assert_eq!(progress(&ind, 2021, Some(r(40, 1)), &lax).status, Status::Green);
        assert!(Thresholds::new(r(1, 2), r(3, 4)).is_err());
    }

    #[test]
    fn change_targets_need_a_reading() {
        // PROSMED 3.1: 66,43 % think the police corrupt; target −10 % by 2025.
        let ind = indicator(Unit::Percent, Aggregation::Last, "66,43% (Donnée nationale 11/2020)", &[(2025, "-10% dans les zones ciblées")]);
        assert_eq!(progress(&ind, 2025, Some(r(60, 1)), &opts(ChangeReading::Unspecified)).status, Status::Ambiguous);
        let pts = progress(&ind, 2025, Some(r(5643, 100)), &opts(ChangeReading::PercentagePoints));
        assert_eq!(pts.target, Some(r(5643, 100)));
        assert_eq!(pts.status, Status::Green);
        let rel = progress(&ind, 2025, Some(r(62, 1)), &opts(ChangeReading::Relative));
        // 66.43 × 0.9 = 59.787; achieved (62 − 66.43)/(59.787 − 66.43) = 66.7 % → amber.
        assert_eq!(rel.target, Some(r(59787, 1000)));
        assert_eq!(rel.status, Status::Amber);
        // Going the wrong way is red.
        assert_eq!(progress(&ind, 2025, Some(r(70, 1)), &opts(ChangeReading::PercentagePoints)).status, Status::Red);
        let tbd = indicator(Unit::Percent, Aggregation::Last, "Baseline à établir", &[(2022, "+5%")]);
        assert_eq!(progress(&tbd, 2022, Some(r(1, 1)), &opts(ChangeReading::PercentagePoints)).status, Status::NoBaseline);
        let text = indicator(Unit::Text, Aggregation::Last, "0", &[(2022, "Plan d'action 2022")]);
        assert_eq!(progress(&text, 2022, None, &opts(ChangeReading::Unspecified)).status, Status::NotMeasurable);
        let yn = indicator(Unit::YesNo, Aggregation::Last, "non", &[(2022, "oui")]);
        assert_eq!(progress(&yn, 2022, Some(r(1, 1)), &opts(ChangeReading::Unspecified)).status, Status::Green);
        assert_eq!(progress(&yn, 2022, Some(r(0, 1)), &opts(ChangeReading::Unspecified)).status, Status::Red);
    }
}
