//! Variance report in the layout of UN peacekeeping budget performance reports (MINUSMA
//! A/76/564, section III.A): apportionment (1), expenditure (2), variance (3) = (1) − (2) and
//! (4) = (3) / (1) in %, by class of expenditure with section subtotals, then gross
//! requirements, staff assessment income, net requirements, voluntary contributions in kind
//! and total requirements. Overruns are negative (printed in parentheses).

use super::money::{Currency, Dec, ExchangeRate, Money, MoneyError, NumberStyle, Ratio, RoundingMode};
use crate::framework::msg::{FrameworkMsg, Issue, Table};
use crate::Lang;
use serde::Serialize;

/// One class of expenditure as entered. The expenditure may be in another currency only if a
/// rate is given to [`VarianceReport::build`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VarianceInput {
    pub section: Option<String>,
    pub label_fr: String,
    pub label_en: String,
    pub kind: InputKind,
    pub apportionment: Money,
    pub expenditure: Money,
    /// Where it came from, for messages.
    pub line: usize,
}

/// Where an input line goes in the layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InputKind {
    /// A class of expenditure inside a section.
    Class,
    /// Staff assessment income: deducted from gross to give net requirements.
    StaffAssessment,
    /// Voluntary contributions in kind (budgeted): added to gross to give total requirements.
    InKind,
}

/// A computed row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VarianceRow {
    pub label_fr: String,
    pub label_en: String,
    pub apportionment: Money,
    pub expenditure: Money,
    pub variance: Money,
    /// Exact variance / apportionment × 100; `None` when nothing was apportioned.
    pub percent: Option<Ratio>,
}

impl VarianceRow {
    fn new(label_fr: &str, label_en: &str, apportionment: Money, expenditure: Money) -> Result<VarianceRow, MoneyError> {
        let variance = apportionment.checked_sub(&expenditure)?;
        let percent = if apportionment.is_zero() { None } else { Some(variance.percent_of(&apportionment)?) };
        Ok(VarianceRow { label_fr: label_fr.into(), label_en: label_en.into(), apportionment, expenditure, variance, percent })
    }
    /// The percentage as printed: one decimal, half up (UN tables).
    pub fn percent_display(&self, decimals: u32, mode: RoundingMode) -> Option<Dec> {
        self.percent.as_ref().and_then(|p| p.round(decimals, mode).ok()).map(|r| r.value)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Section {
    pub name: String,
    pub lines: Vec<VarianceRow>,
    pub subtotal: VarianceRow,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VarianceReport {
    pub currency: Currency,
    pub sections: Vec<Section>,
    pub gross: VarianceRow,
    pub staff_assessment: Option<VarianceRow>,
    pub net: VarianceRow,
    pub in_kind: Option<VarianceRow>,
    pub total: VarianceRow,
}

fn to_currency(m: Money, currency: Currency, rates: &[ExchangeRate], mode: RoundingMode) -> Result<Money, FrameworkMsg> {
    if m.currency() == currency {
        return Ok(m);
    }
    let rate = rates
        .iter()
        .find(|r| r.from == m.currency() && r.to == currency)
        .ok_or(FrameworkMsg::MissingExchangeRate { from: m.currency().to_string(), to: currency.to_string() })?;
    m.convert(rate, mode).map(|r| r.value).map_err(FrameworkMsg::Money)
}

impl VarianceReport {
    /// Builds the report in `currency`. An amount in another currency needs an explicit rate
    /// in `rates` (converted with `mode`); without one the report is refused.
    pub fn build(inputs: &[VarianceInput], currency: Currency, rates: &[ExchangeRate], mode: RoundingMode) -> Result<VarianceReport, Vec<Issue>> {
        let mut errors = Vec::new();
        let mut converted = Vec::new();
        for i in inputs {
            let a = to_currency(i.apportionment, currency, rates, mode).map_err(|m| errors.push(Issue::error(i.line, "apportionment", m)));
            let e = to_currency(i.expenditure, currency, rates, mode).map_err(|m| errors.push(Issue::error(i.line, "expenditure", m)));
            if let (Ok(a), Ok(e)) = (a, e) {
                converted.push((i, a, e));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Self::assemble(&converted, currency).map_err(|e| vec![Issue::error(0, "", FrameworkMsg::Money(e))])
    }

    fn assemble(rows: &[(&VarianceInput, Money, Money)], currency: Currency) -> Result<VarianceReport, MoneyError> {
        let zero = Money::zero(currency);
        let mut sections: Vec<Section> = Vec::new();
        let (mut sa, mut ik) = (None, None);
        for (i, a, e) in rows {
            match i.kind {
                InputKind::Class => {
                    let name = i.section.clone().unwrap_or_default();
                    let row = VarianceRow::new(&i.label_fr, &i.label_en, *a, *e)?;
                    match sections.iter_mut().find(|s| s.name == name) {
                        Some(s) => s.lines.push(row),
                        None => sections.push(Section { name, lines: vec![row], subtotal: VarianceRow::new("", "", zero, zero)? }),
                    }
                }
                InputKind::StaffAssessment => sa = Some(VarianceRow::new(&i.label_fr, &i.label_en, *a, *e)?),
                InputKind::InKind => ik = Some(VarianceRow::new(&i.label_fr, &i.label_en, *a, *e)?),
            }
        }
        for s in &mut sections {
            let a = Money::sum(currency, s.lines.iter().map(|l| &l.apportionment))?;
            let e = Money::sum(currency, s.lines.iter().map(|l| &l.expenditure))?;
            s.subtotal = VarianceRow::new("Total partiel", "Subtotal", a, e)?;
        }
        let ga = Money::sum(currency, sections.iter().map(|s| &s.subtotal.apportionment))?;
        let ge = Money::sum(currency, sections.iter().map(|s| &s.subtotal.expenditure))?;
        let gross = VarianceRow::new("Montant brut", "Gross requirements", ga, ge)?;
        let (sa_a, sa_e) = sa.as_ref().map(|r| (r.apportionment, r.expenditure)).unwrap_or((zero, zero));
        let net = VarianceRow::new("Montant net", "Net requirements", ga.checked_sub(&sa_a)?, ge.checked_sub(&sa_e)?)?;
        let (ik_a, ik_e) = ik.as_ref().map(|r| (r.apportionment, r.expenditure)).unwrap_or((zero, zero));
        let total = VarianceRow::new("Total", "Total requirements", ga.checked_add(&ik_a)?, ge.checked_add(&ik_e)?)?;
        Ok(VarianceReport { currency, sections, gross, staff_assessment: sa, net, in_kind: ik, total })
    }

    /// Utilisation rate: expenditure / apportionment (MINUSMA: 93,2 %).
    pub fn utilisation(&self) -> Option<Ratio> {
        self.total.expenditure.percent_of(&self.total.apportionment).ok()
    }
}

/// A row of a printed variance table, to check a report against a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrintedVarianceRow {
    pub line: usize,
    pub section: Option<String>,
    pub label_fr: String,
    pub label_en: String,
    pub row_type: String,
    pub apportionment: Money,
    pub expenditure: Money,
    pub variance: Money,
    pub percent: Option<Dec>,
}

/// Reads a table shaped like `minusma/financial_by_category.csv`: `section,category_fr,
/// category_en,row_type,apportionment_kusd,expenditure_kusd,variance_kusd,variance_pct` in
/// thousands (CSV decimal point; empty = nil). `row_type` is line, subtotal or total.
pub fn parse_printed(bytes: &[u8], currency: Currency) -> Result<Vec<PrintedVarianceRow>, Vec<Issue>> {
    let cols = ["category_fr", "row_type", "apportionment_kusd", "expenditure_kusd", "variance_kusd", "variance_pct"];
    let t = Table::read(bytes, &cols)?;
    let mut errors = Vec::new();
    let mut out = Vec::new();
    for (line, row) in &t.rows {
        let line = *line;
        let before = errors.len();
        let mut money = |col: &str| -> Money {
            let raw = t.get(row, col);
            if raw.is_empty() {
                return Money::zero(currency);
            }
            Money::parse(raw, currency, NumberStyle::English, 3).unwrap_or_else(|e| {
                errors.push(Issue::error(line, col, FrameworkMsg::Money(e)));
                Money::zero(currency)
            })
        };
        let (a, e, v) = (money("apportionment_kusd"), money("expenditure_kusd"), money("variance_kusd"));
        let pct_raw = t.get(row, "variance_pct");
        let percent = if pct_raw.is_empty() {
            None
        } else {
            Dec::parse(pct_raw, NumberStyle::English).map_err(|e| errors.push(Issue::error(line, "variance_pct", FrameworkMsg::Money(e)))).ok()
        };
        let row_type = t.get(row, "row_type").to_lowercase();
        if !matches!(row_type.as_str(), "line" | "subtotal" | "total") {
            errors.push(Issue::error(line, "row_type", FrameworkMsg::InvalidRowType { text: row_type.clone() }));
        }
        if errors.len() > before {
            continue;
        }
        out.push(PrintedVarianceRow {
            line,
            section: Some(t.get(row, "section").to_string()).filter(|s| !s.is_empty()),
            label_fr: t.get(row, "category_fr").to_string(),
            label_en: t.get(row, "category_en").to_string(),
            row_type,
            apportionment: a,
            expenditure: e,
            variance: v,
            percent,
        });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// The inputs behind a printed table: its lines (subtotals and totals are recomputed).
/// A section-less line is staff assessment if its label says so, in-kind contributions likewise.
pub fn inputs_from_printed(rows: &[PrintedVarianceRow]) -> Result<Vec<VarianceInput>, Vec<Issue>> {
    let mut errors = Vec::new();
    let mut out = Vec::new();
    for r in rows.iter().filter(|r| r.row_type == "line") {
        let label = format!("{} {}", r.label_fr, r.label_en).to_lowercase();
        let kind = match &r.section {
            Some(_) => InputKind::Class,
            None if label.contains("contributions du personnel") || label.contains("staff assessment") => InputKind::StaffAssessment,
            None if label.contains("en nature") || label.contains("in kind") => InputKind::InKind,
            None => {
                errors.push(Issue::error(r.line, "section", FrameworkMsg::Common(crate::Msg::Required)));
                continue;
            }
        };
        out.push(VarianceInput {
            section: r.section.clone(),
            label_fr: r.label_fr.clone(),
            label_en: r.label_en.clone(),
            kind,
            apportionment: r.apportionment,
            expenditure: r.expenditure,
            line: r.line,
        });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Whether an expenditure file is a printed apportionment/expenditure table (the peacekeeping
/// layout, recognised by its `apportionment_kusd` column) rather than expenditure records.
pub fn is_printed_table(csv: &[u8]) -> bool {
    let header = String::from_utf8_lossy(csv.split(|b| *b == b'\n').find(|l| !l.starts_with(b"#")).unwrap_or(b"")).to_lowercase();
    header.contains("apportionment_kusd")
}

/// A printed table read, rebuilt and checked: the inputs to store and the differences between
/// the printed and the recomputed figures (warnings). The pure half of the expenditure import.
pub fn import_printed(csv: &[u8], currency: Currency) -> Result<(Vec<VarianceInput>, Vec<Issue>), Vec<Issue>> {
    let printed = parse_printed(csv, currency)?;
    let inputs = inputs_from_printed(&printed)?;
    let report = VarianceReport::build(&inputs, currency, &[], RoundingMode::HalfUp)?;
    let checks = verify_printed(&report, &printed, 1, RoundingMode::HalfUp);
    Ok((inputs, checks))
}

/// Compares every printed row with the computed report; each difference is a warning on its line.
pub fn verify_printed(report: &VarianceReport, printed: &[PrintedVarianceRow], pct_decimals: u32, mode: RoundingMode) -> Vec<Issue> {
    let mut issues = Vec::new();
    let mut section_idx = 0usize;
    let mut line_idx = 0usize;
    let fmt = |m: &Money| m.to_dec().format(Lang::Fr, 0);
    for p in printed {
        let computed: Option<&VarianceRow> = match (p.row_type.as_str(), &p.section) {
            ("line", Some(_)) => {
                let s = report.sections.get(section_idx);
                let r = s.and_then(|s| s.lines.get(line_idx));
                line_idx += 1;
                r
            }
            ("subtotal", _) => {
                let r = report.sections.get(section_idx).map(|s| &s.subtotal);
                section_idx += 1;
                line_idx = 0;
                r
            }
            ("line", None) => {
                let l = p.label_fr.to_lowercase();
                if l.contains("contributions du personnel") {
                    report.staff_assessment.as_ref()
                } else {
                    report.in_kind.as_ref()
                }
            }
            _ => {
                let l = p.label_en.to_lowercase();
                Some(if l.contains("gross") {
                    &report.gross
                } else if l.contains("net") {
                    &report.net
                } else {
                    &report.total
                })
            }
        };
        let Some(c) = computed else {
            issues.push(Issue::warning(p.line, "category_fr", FrameworkMsg::Common(crate::Msg::NotFound)));
            continue;
        };
        for (field, printed, computed) in [
            ("apportionment", p.apportionment, c.apportionment),
            ("expenditure", p.expenditure, c.expenditure),
            ("variance", p.variance, c.variance),
        ] {
            if printed != computed {
                issues.push(Issue::warning(
                    p.line,
                    field,
                    FrameworkMsg::PrintedDiffers { what: p.label_fr.clone(), year: String::new(), printed: fmt(&printed), computed: fmt(&computed) },
                ));
            }
        }
        let shown = c.percent_display(pct_decimals, mode);
        if shown != p.percent {
            let s = |d: &Option<Dec>| d.map(|d| d.format(Lang::Fr, pct_decimals)).unwrap_or_else(|| "–".into());
            issues.push(Issue::warning(
                p.line,
                "variance_pct",
                FrameworkMsg::PrintedDiffers { what: p.label_fr.clone(), year: "%".into(), printed: s(&p.percent), computed: s(&shown) },
            ));
        }
    }
    issues
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(n: i64) -> Money {
        Money::from_major(n, Currency::USD).unwrap()
    }
    fn input(section: &str, kind: InputKind, a: Money, e: Money) -> VarianceInput {
        VarianceInput { section: Some(section.to_string()).filter(|s| !s.is_empty()), label_fr: "x".into(), label_en: "x".into(), kind, apportionment: a, expenditure: e, line: 2 }
    }

    #[test]
    fn layout_arithmetic() {
        let ins = vec![
            input("I", InputKind::Class, usd(100), usd(80)),
            input("I", InputKind::Class, usd(50), usd(60)),
            input("II", InputKind::Class, usd(0), usd(5)),
            input("", InputKind::StaffAssessment, usd(10), usd(12)),
        ];
        let r = VarianceReport::build(&ins, Currency::USD, &[], RoundingMode::HalfUp).unwrap();
        assert_eq!(r.sections[0].subtotal.variance, usd(10));
        assert_eq!(r.sections[0].lines[1].variance, usd(-10));
        assert_eq!(r.sections[0].lines[1].percent_display(1, RoundingMode::HalfUp), Some(Dec::from_int(-20)));
        assert_eq!(r.sections[1].lines[0].percent, None, "nothing apportioned: no percentage");
        assert_eq!(r.gross.apportionment, usd(150));
        assert_eq!(r.net.expenditure, usd(133));
        assert_eq!(r.total, VarianceRow::new("Total", "Total requirements", usd(150), usd(145)).unwrap());
    }

    #[test]
    fn other_currency_needs_a_rate() {
        let fcfa = Money::from_major(6_559_570, Currency::XOF).unwrap();
        let ins = vec![input("I", InputKind::Class, usd(20_000), fcfa)];
        let errs = VarianceReport::build(&ins, Currency::USD, &[], RoundingMode::HalfEven).unwrap_err();
        assert_eq!(errs[0].msg, FrameworkMsg::MissingExchangeRate { from: "XOF".into(), to: "USD".into() });
        assert_eq!(errs[0].field, "expenditure");
        let rate = ExchangeRate::new(Currency::XOF, Currency::USD, Dec::parse("0.0016", NumberStyle::English).unwrap()).unwrap();
        let r = VarianceReport::build(&ins, Currency::USD, &[rate], RoundingMode::HalfEven).unwrap();
        assert_eq!(r.total.expenditure.minor(), 1_049_531); // 6 559 570 × 0.0016 = 10 495.312 → 10 495.31
        assert_eq!(r.total.variance.minor(), 2_000_000 - 1_049_531);
    }
}
