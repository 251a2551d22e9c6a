//! The PROSMED budget (seed 002) and the MINUSMA 2020/21 variance table (seed 004), read from
//! copies in `testdata/` at test time; every figure asserted here is recomputed from them.

use super::money::{Currency, Dec, Money, NumberStyle, Ratio, RoundingMode};
use super::table::*;
use super::variance::*;
use crate::framework::Code;
use crate::Lang;
use std::collections::BTreeMap;

const BUDGET: &str = include_str!("testdata/prosmed_budget.csv");
const ACTIVITY_LINES: &str = include_str!("testdata/prosmed_activity_lines.csv");
const MINUSMA: &str = include_str!("testdata/minusma_financial_by_category.csv");

fn usd(n: i64) -> Money {
    Money::from_major(n, Currency::USD).unwrap()
}
fn pct(n: i128, d: i128) -> Ratio {
    Ratio::new(n, d).unwrap()
}
/// PROSMED's labels: "GMS (8%)", "Levy (1%)", whole dollars, half up.
fn prosmed_rules() -> CostRules {
    CostRules {
        management: ManagementRule::Entered,
        indirect: IndirectRates { default_rate: pct(8, 100), by_agency: BTreeMap::new(), by_year: BTreeMap::new() },
        levy: Some(pct(1, 100)),
        rounding: RoundingMode::HalfUp,
        decimals: 0,
    }
}
fn table() -> BudgetTable {
    parse_budget(BUDGET.as_bytes(), Currency::USD, RowSumPolicy::Error).unwrap().0
}
fn printed(t: &BudgetTable, kind: RowKind, c: Column) -> Money {
    t.rows.iter().find(|r| r.kind == kind).unwrap().get(c)
}

#[test]
fn prosmed_only_the_grand_total_row_does_not_add_up() {
    let (t, warnings) = parse_budget(BUDGET.as_bytes(), Currency::USD, RowSumPolicy::Error).unwrap();
    assert_eq!(t.rows.len(), 27);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let grand_line = t.rows.iter().find(|r| r.kind == RowKind::GrandTotal).unwrap().line;
    assert_eq!(warnings[0].line, grand_line);
    assert_eq!(
        warnings[0].msg.text(Lang::En),
        "The years add up to 31\u{a0}999\u{a0}999; the printed total is 32\u{a0}000\u{a0}000."
    );
    assert_eq!(printed(&t, RowKind::GrandTotal, Column::Total), usd(32_000_000));
}

#[test]
fn prosmed_reconciliation_reports_the_documents_own_gaps() {
    let t = table();
    let rec = reconcile(&t, &prosmed_rules()).unwrap();
    // Result subtotals and the project total are reproduced exactly, every year and in total.
    for row in ["R1", "R2", "R3", "R4", "PROJECT_TOTAL"] {
        let bad: Vec<_> = rec.checks.iter().filter(|c| c.row == row && !c.matches()).collect();
        assert!(bad.is_empty(), "{row}: {bad:?}");
    }
    let component_gaps: Vec<(&str, Column, i64)> = rec
        .gaps()
        .filter(|c| matches!(c.basis, Basis::Components | Basis::YearsOfRow))
        .map(|c| (c.row.as_str(), c.column, c.gap().minor() / 100))
        .collect();
    assert_eq!(
        component_gaps,
        vec![
            ("GRAND_TOTAL", Column::Total, -1), // its years sum to 31 999 999
            ("GRAND_TOTAL", Column::Year(2021), 1), // 7 081 673 + 176 169 + 29 703 = 7 287 545
            ("ACTIVITIES_TOTAL", Column::Year(2025), 1), // R1..R4 = 1 978 945, printed 1 978 944
            ("ACTIVITIES_TOTAL", Column::Total, 1),
        ]
    );
    // The 32 000 000 is reached from the printed subtotals: 29 763 971 + 2 011 385 + 224 644.
    let g = rec.checks.iter().find(|c| c.row == "GRAND_TOTAL" && c.column == Column::Total && c.basis == Basis::Components).unwrap();
    assert_eq!((g.computed, g.printed), (usd(32_000_000), usd(32_000_000)));
    assert_eq!(printed(&t, RowKind::Management, Column::Total), usd(4_305_108));
    let mgmt_share = printed(&t, RowKind::Management, Column::Total).percent_of(&printed(&t, RowKind::ProjectTotal, Column::Total)).unwrap();
    assert_eq!(mgmt_share.round(2, RoundingMode::HalfUp).unwrap().value, Dec::parse("14.46", NumberStyle::English).unwrap());
}

#[test]
fn prosmed_gms_is_8_percent_and_levy_1_percent_only_in_2023_2025() {
    let rec = reconcile(&table(), &prosmed_rules()).unwrap();
    let rate_gaps: Vec<(&str, Column)> = rec.gaps().filter(|c| matches!(c.basis, Basis::Rate { .. })).map(|c| (c.row.as_str(), c.column)).collect();
    assert_eq!(
        rate_gaps,
        vec![("GMS", Column::Year(2021)), ("LEVY", Column::Year(2021)), ("GMS", Column::Year(2022)), ("LEVY", Column::Year(2022))]
    );
    let eff = |row: &str, y: i32| match &rec.find(row, Column::Year(y), true).unwrap().basis {
        Basis::Rate { effective, .. } => effective.unwrap().to_percent().unwrap().round(3, RoundingMode::HalfUp).unwrap().value.to_string(),
        _ => unreachable!(),
    };
    assert_eq!(eff("GMS", 2021), "2.488");
    assert_eq!(eff("GMS", 2022), "8.279");
    assert_eq!(eff("GMS", 2023), "8");
    assert_eq!(eff("LEVY", 2021), "0.409");
    let gms21 = rec.find("GMS", Column::Year(2021), true).unwrap();
    assert_eq!((gms21.printed, gms21.computed), (usd(176_169), usd(566_534)));
    assert_eq!(gms21.message().text(Lang::Fr), "GMS 2021 : taux effectif 2,488 %, taux configuré 8 %.");
    // If configuration records the rates actually agreed for 2021-2022 there is nothing to report for
    // those years except rounding: the rules are data, not code.
    let mut r = prosmed_rules();
    r.indirect.by_year.insert(2021, pct(176_169, 7_081_673));
    r.indirect.by_year.insert(2022, pct(611_231, 7_382_486));
    let rec2 = reconcile(&table(), &r).unwrap();
    assert!(rec2.gaps().filter(|c| c.row == "GMS").next().is_none());
}

#[test]
fn prosmed_computed_from_lines_and_rules() {
    let t = table();
    let c = compute(&t, &prosmed_rules()).unwrap();
    for res in ["R1", "R2", "R3", "R4"] {
        let code = Code::parse(res).unwrap();
        let printed_row = t.rows.iter().find(|r| r.kind == RowKind::ResultSubtotal && r.result.as_ref() == Some(&code)).unwrap();
        for y in 2021..=2025 {
            assert_eq!(c.by_result[&code][&Column::Year(y)], printed_row.year(y), "{res} {y}");
        }
        assert_eq!(c.by_result[&code][&Column::Total], printed_row.printed_total);
    }
    // 2023-2025 follow the rules: GMS, levy and grand total as printed.
    for y in 2023..=2025 {
        let col = Column::Year(y);
        assert_eq!(c.indirect[&col], printed(&t, RowKind::Indirect, col), "GMS {y}");
        assert_eq!(c.levy[&col], printed(&t, RowKind::Levy, col), "levy {y}");
        if y < 2025 {
            assert_eq!(c.grand_total[&col], printed(&t, RowKind::GrandTotal, col), "grand {y}");
        }
    }
    // 2025: the activities total is 1 USD above the printed one (the document's rounding).
    assert_eq!(c.activities[&Column::Year(2025)], usd(1_978_945));
    assert_eq!(c.indirect[&Column::Year(2021)], usd(566_534));
    // Rounding residuals are kept: 8 % of 6 830 477 = 546 438,16 → 546 438.
    assert_eq!(c.rounding[&2023].0, pct(-16, 100));
}

#[test]
fn prosmed_activity_lines_against_output_subtotals() {
    // Strictly, two P3.3 lines are refused: their printed totals are 1 USD below their years.
    let errs = parse_budget(ACTIVITY_LINES.as_bytes(), Currency::USD, RowSumPolicy::Error).unwrap_err();
    let lines: Vec<usize> = errs.iter().map(|e| e.line).collect();
    let expected: Vec<usize> = ACTIVITY_LINES
        .lines()
        .enumerate()
        .filter(|(_, l)| l.starts_with("P3.3,4537,") || l.starts_with("P3.3,4539,"))
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(lines, expected);
    // Transcribed as printed (warnings), the lines add up to every output subtotal but P3.3.
    let (lines_t, warnings) = parse_budget(ACTIVITY_LINES.as_bytes(), Currency::USD, RowSumPolicy::Warn).unwrap();
    assert_eq!(lines_t.rows.len(), 92);
    assert_eq!(warnings.len(), 2);
    let by_output = totals_by_output(&lines_t).unwrap();
    let t = table();
    let mut diffs = Vec::new();
    for out in t.rows.iter().filter(|r| r.kind == RowKind::Line) {
        let code = out.output.clone().unwrap();
        for y in 2021..=2025 {
            let d = by_output[&code][&Column::Year(y)].checked_sub(&out.year(y)).unwrap();
            if !d.is_zero() {
                diffs.push((code.to_string(), y, d.minor() / 100));
            }
        }
    }
    assert_eq!(diffs, vec![("P3.3".to_string(), 2021, 1), ("P3.3".to_string(), 2022, 1)]);
}

fn minusma_report() -> (VarianceReport, Vec<PrintedVarianceRow>) {
    let rows = parse_printed(MINUSMA.as_bytes(), Currency::USD).unwrap();
    let inputs = inputs_from_printed(&rows).unwrap();
    (VarianceReport::build(&inputs, Currency::USD, &[], RoundingMode::HalfUp).unwrap(), rows)
}

#[test]
fn minusma_variance_report_reproduces_the_table() {
    let (r, printed) = minusma_report();
    assert_eq!(printed.len(), 29);
    assert_eq!(r.sections.len(), 3);
    let issues = verify_printed(&r, &printed, 1, RoundingMode::HalfUp);
    assert!(issues.is_empty(), "{issues:?}");
    let k = |s: &str| Money::parse(s, Currency::USD, NumberStyle::French, 3).unwrap();
    assert_eq!(r.gross.apportionment, k("1 183 384,7"));
    assert_eq!(r.gross.expenditure, k("1 103 359,2"));
    assert_eq!(r.gross.variance, k("80 025,5"));
    assert_eq!(r.net.variance, k("81 136,3"));
    assert_eq!(r.sections[1].subtotal.variance, k("(9 444,2)"));
    let shown = |row: &VarianceRow| row.percent_display(1, RoundingMode::HalfUp).unwrap().format(Lang::Fr, 1);
    assert_eq!(shown(&r.gross), "6,8");
    assert_eq!(shown(&r.net), "7,0");
    assert_eq!(shown(&r.sections[0].subtotal), "0,7");
    assert_eq!(shown(&r.sections[1].subtotal), "-4,8");
    assert_eq!(shown(&r.sections[2].subtotal), "17,5");
    assert_eq!(r.sections[2].lines[0].percent, None, "civilian electoral observers: nil");
    let util = r.utilisation().unwrap().round(1, RoundingMode::HalfUp).unwrap().value;
    assert_eq!(util.format(Lang::Fr, 1), "93,2");
}

#[test]
fn minusma_a_wrong_printed_figure_is_located() {
    // Alter the printed variance of Contingents (5 379,3 → 5 379,4) and its percentage.
    let altered = MINUSMA.replace("432221.6,426842.3,5379.3,1.2", "432221.6,426842.3,5379.4,1.3");
    assert_ne!(altered, MINUSMA);
    let rows = parse_printed(altered.as_bytes(), Currency::USD).unwrap();
    let (r, _) = minusma_report();
    let issues = verify_printed(&r, &rows, 1, RoundingMode::HalfUp);
    let line = altered.lines().position(|l| l.contains("5379.4")).unwrap() + 1;
    let got: Vec<(usize, &str)> = issues.iter().map(|i| (i.line, i.field.as_str())).collect();
    assert_eq!(got, vec![(line, "variance"), (line, "variance_pct")]);
}
