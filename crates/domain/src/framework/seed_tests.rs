//! The PROSMED results framework and risk log (seed 002), read from copies in `testdata/`.

use super::actuals::*;
use super::import::*;
use super::risk::*;
use super::*;
use crate::area::AreaCode;
use crate::budget::money::Ratio;
use std::collections::HashMap;

const RESULTS: &str = include_str!("testdata/prosmed_results.csv");
const INDICATORS: &str = include_str!("testdata/prosmed_indicators.csv");
const RISKS: &str = include_str!("testdata/prosmed_risks.csv");

fn period() -> ProgrammePeriod {
    ProgrammePeriod::new(2021, 2025).unwrap()
}
fn prosmed() -> Framework {
    import_framework(RESULTS.as_bytes(), INDICATORS.as_bytes(), period()).unwrap()
}
fn code(s: &str) -> Code {
    Code::parse(s).unwrap()
}

#[test]
fn prosmed_framework_imports_whole() {
    let f = prosmed();
    assert_eq!((f.results.len(), f.outputs.len(), f.indicators.len()), (4, 14, 53));
    let outcome = f.indicators.iter().filter(|i| i.output.is_none()).count();
    assert_eq!(outcome, 12);
    assert_eq!(f.indicators.iter().filter(|i| i.cumulative == Cumulative::Yes).count(), 40);
    assert_eq!(f.indicators.iter().filter(|i| i.unit == Unit::Text).count(), 6);
    // Every output has at least one indicator, every result at least one outcome indicator.
    for o in &f.outputs {
        assert!(f.indicators_of_output(&o.code).count() >= 2, "{}", o.code);
    }
    for r in &f.results {
        assert!(f.outcome_indicators(&r.code).count() >= 2, "{}", r.code);
    }
    let i121 = f.indicator(&code("1.2.1")).unwrap();
    assert_eq!(i121.aggregation, Aggregation::Cumulative);
    assert_eq!(i121.target(2025), Some(&Target::Value { value: Dec::from_int(276), note: None }));
    let i21 = f.indicator(&code("2.1")).unwrap();
    match &i21.baseline {
        Baseline::Values { parts, note } => {
            assert_eq!(parts.len(), 2);
            assert_eq!(parts[1].label.as_deref(), Some("gendarmerie"));
            assert_eq!(note.as_deref(), Some("Donnée nationale 11/2020"));
        }
        b => panic!("{b:?}"),
    }
    assert_eq!(f.indicator(&code("1.3.2")).unwrap().baseline, Baseline::ToBeEstablished);
    assert!(matches!(f.indicator(&code("2.5.2")).unwrap().target(2023), Some(Target::Value { note: Some(_), .. })));
    assert!(f.indicator(&code("3.2.2")).is_some(), "the second printed 3.2.1");
    assert_eq!(f.indicator(&code("2.1.3")).unwrap().disaggregations, vec![Disaggregation::Sex, Disaggregation::Other("direction générale".into())]);
}

#[test]
fn prosmed_with_a_shorter_period_flags_every_2025_target() {
    let short = ProgrammePeriod::new(2021, 2024).unwrap();
    let (file, errs) = import_framework(RESULTS.as_bytes(), INDICATORS.as_bytes(), short).unwrap_err();
    assert_eq!(file, FrameworkFile::Indicators);
    // 53 indicators, all with a 2025 target except 1.3.1 ("/" in 2025).
    assert_eq!(errs.len(), 52);
    assert!(errs.iter().all(|e| e.field == "target_2025" && e.msg == FrameworkMsg::TargetOutsidePeriod { year: 2025, first: 2021, last: 2024 }));
}

#[test]
fn prosmed_corrupted_copy_is_refused_with_lines() {
    // Typing error in a number cell and a duplicated code: nothing imported, both lines named.
    let bad = INDICATORS.replacen(",0,,58,69,138,207,276,", ",0,,58,soixante-neuf,138,207,276,", 1).replacen("R1,P1.2,1.2.2,", "R1,P1.2,1.2.1,", 1);
    let (_, errs) = import_framework(RESULTS.as_bytes(), bad.as_bytes(), period()).unwrap_err();
    let line_of = |needle: &str| bad.lines().position(|l| l.contains(needle)).unwrap() + 1;
    let got: Vec<(usize, &str)> = errs.iter().map(|e| (e.line, e.field.as_str())).collect();
    assert_eq!(got, vec![(line_of("soixante-neuf"), "target_2022"), (line_of("Nbre d’acteurs formels et informels intervenant"), "indicator_code")]);
}

#[test]
fn prosmed_progress_of_communes_covered() {
    // 1.2.1: communes whose conflict mechanisms are strengthened (cumulative; 58 in 2021, 69 in 2022).
    let f = prosmed();
    let ind = f.indicator(&code("1.2.1")).unwrap();
    let a = |s: &str| AreaCode::parse(s).unwrap();
    let parents: HashMap<AreaCode, AreaCode> =
        [("ML-5-BANDIAGARA", "ML-5"), ("ML-5-KORO", "ML-5"), ("ML-4-SAN", "ML-4"), ("ML-5", "ML"), ("ML-4", "ML")].iter().map(|(c, p)| (a(c), a(p))).collect();
    let act = |area: &str, per: &str, v: i64| Actual { indicator: ind.code.clone(), period: Period::parse(per).unwrap(), area: a(area), disaggregation: None, value: Dec::from_int(v) };
    let actuals = vec![act("ML-5-BANDIAGARA", "2021", 20), act("ML-5-KORO", "2021", 16), act("ML-4-SAN", "2021", 12), act("ML-5-KORO", "2022-S1", 9), act("ML-4-SAN", "2022-S2", 5)];
    let v21 = indicator_values(ind, &actuals, 2021, period(), &parents, &Slice::Total).unwrap();
    let v22 = indicator_values(ind, &actuals, 2022, period(), &parents, &Slice::Total).unwrap();
    assert_eq!(v21[&a("ML")].value, Ratio::from_int(48));
    assert_eq!(v22[&a("ML")].value, Ratio::from_int(62));
    assert_eq!(v22[&a("ML-5")].value, Ratio::from_int(45));
    let opts = ProgressOptions { thresholds: Thresholds::new(Ratio::new(9, 10).unwrap(), Ratio::new(6, 10).unwrap()).unwrap(), change_reading: ChangeReading::Unspecified, basis: ProgressBasis::FromBaseline };
    let p21 = progress(ind, 2021, Some(v21[&a("ML")].value), &opts);
    assert_eq!((p21.achieved, p21.status), (Some(Ratio::new(48, 58).unwrap()), Status::Amber));
    let p22 = progress(ind, 2022, Some(v22[&a("ML")].value), &opts);
    assert_eq!((p22.achieved, p22.status), (Some(Ratio::new(62, 69).unwrap()), Status::Amber)); // 89.9 %: just under green
    // Outcome 1.1 (+5 % in 2022 on 78,97 %) cannot be judged until the reading is decided.
    let o = f.indicator(&code("1.1")).unwrap();
    assert_eq!(progress(o, 2022, Some(Ratio::from_int(83)), &opts).status, Status::Ambiguous);
    let pts = ProgressOptions { change_reading: ChangeReading::PercentagePoints, ..opts };
    assert_eq!(progress(o, 2022, Some(Ratio::from_int(84)), &pts).status, Status::Green);
    assert_eq!(progress(o, 2023, Some(Ratio::from_int(84)), &pts).status, Status::NoTarget);
}

#[test]
fn prosmed_risk_log_and_heat_map() {
    let risks = parse_risks(RISKS.as_bytes()).unwrap();
    assert_eq!(risks.len(), 9);
    assert!(risks.iter().all(|r| r.owner.is_none() && r.status == RiskStatus::Open && !r.mitigation.is_empty()));
    assert_eq!(risks.iter().map(|r| r.mitigation.len()).sum::<usize>(), 3 + 4 + 3 + 3 + 5 + 2 + 2 + 2 + 4);
    let hm = heat_map(&risks, false);
    // Elevée/Fort (4,4): risks 1 and 3; Moyenne/Fort (3,4): 2, 4, 5, 6; Moyenne/Limitée (3,2): 7, 8; Faible/Limitée (2,2): 9.
    assert_eq!(hm.cells[3][3], vec![1, 3]);
    assert_eq!(hm.cells[2][3], vec![2, 4, 5, 6]);
    assert_eq!(hm.cells[2][1], vec![7, 8]);
    assert_eq!(hm.cells[1][1], vec![9]);
    assert_eq!(hm.total(), 9);
    let bands = RiskBands::default();
    let levels: Vec<RiskLevel> = risks.iter().map(|r| bands.level(r.score())).collect();
    assert_eq!(levels.iter().filter(|l| **l == RiskLevel::Critical).count(), 2);
    assert_eq!(levels.iter().filter(|l| **l == RiskLevel::High).count(), 4);
}
