//! Expenditure records and the budget execution report in the PRODOC layout: budget,
//! expenditure, balance and utilisation by output × year, subtotals per result, then
//! management costs, project total, indirect costs (GMS), levy and grand total computed from
//! the lines and the configured rates, with the rounding residuals shown.

use super::money::{Currency, Dec, ExchangeRate, Money, MoneyError, NumberStyle, Ratio, RoundingMode};
use super::table::{compute, BudgetTable, Column, ComputedBudget, CostRules, RowKind};
use crate::framework::msg::{FrameworkMsg, Issue, Table};
use crate::framework::risk::parse_date;
use crate::framework::{Code, ProgrammePeriod};
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::BTreeMap;

/// One expenditure as entered: in its own currency, with the rate to the programme currency
/// when it differs (an expenditure in FCFA without a rate is refused, never guessed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Expenditure {
    pub line: usize,
    pub output: Option<Code>,
    pub year: i32,
    pub spent_on: Option<NaiveDate>,
    pub agency: Option<String>,
    pub funding_source: Option<String>,
    pub description: String,
    pub amount: Money,
    pub rate: Option<Dec>,
    /// In the programme currency (converted half-even to the minor unit).
    pub converted: Money,
}

/// Reads `year,output_code,amount,currency` and optionally `date`, `agency`, `funding_source`,
/// `description`, `rate` (1 unit of `currency` in programme currency). The year must be in the
/// programme period; a date, if any, must fall in that year.
pub fn parse_expenditures(bytes: &[u8], programme_currency: Currency, period: ProgrammePeriod) -> Result<Vec<Expenditure>, Vec<Issue>> {
    let t = Table::read(bytes, &["year", "amount"])?;
    let mut errors = Vec::new();
    let mut out = Vec::new();
    for (line, row) in &t.rows {
        let line = *line;
        let before = errors.len();
        let year_raw = t.get(row, "year");
        let year = match year_raw.parse::<i32>() {
            Ok(y) if period.contains(y) => Some(y),
            Ok(y) => {
                errors.push(Issue::error(line, "year", FrameworkMsg::TargetOutsidePeriod { year: y, first: period.first(), last: period.last() }));
                None
            }
            Err(_) => {
                errors.push(Issue::error(line, "year", FrameworkMsg::InvalidYear { text: year_raw.to_string() }));
                None
            }
        };
        let output = match t.get(row, "output_code") {
            "" => None,
            c => Code::parse(c).map_err(|m| errors.push(Issue::error(line, "output_code", m))).ok(),
        };
        let currency = match t.get(row, "currency") {
            "" => Some(programme_currency),
            c => Currency::parse(c).map_err(|e| errors.push(Issue::error(line, "currency", FrameworkMsg::Money(e)))).ok(),
        };
        let amount = currency.and_then(|cur| {
            Money::parse(t.get(row, "amount"), cur, NumberStyle::Auto, 0)
                .map_err(|e| {
                    let m = match e {
                        MoneyError::NotANumber { text } => FrameworkMsg::NotANumber { text },
                        e => FrameworkMsg::Money(e),
                    };
                    errors.push(Issue::error(line, "amount", m))
                })
                .ok()
        });
        let rate = match t.get(row, "rate") {
            "" => None,
            r => match Dec::parse(r, NumberStyle::Auto) {
                Ok(d) if !d.is_zero() && !d.is_negative() => Some(d),
                _ => {
                    errors.push(Issue::error(line, "rate", FrameworkMsg::InvalidRate { text: r.to_string() }));
                    None
                }
            },
        };
        let spent_on = match t.get(row, "date") {
            "" => None,
            d => match parse_date(d) {
                Ok(date) if year.is_some_and(|y| chrono::Datelike::year(&date) != y) => {
                    errors.push(Issue::error(line, "date", FrameworkMsg::InvalidDate { text: d.to_string() }));
                    None
                }
                Ok(date) => Some(date),
                Err(m) => {
                    errors.push(Issue::error(line, "date", m));
                    None
                }
            },
        };
        let converted = match (amount, rate) {
            (Some(a), _) if a.currency() == programme_currency => Some(a),
            (Some(a), Some(r)) => ExchangeRate::new(a.currency(), programme_currency, r)
                .and_then(|x| a.convert(&x, RoundingMode::HalfEven))
                .map(|r| r.value)
                .map_err(|e| errors.push(Issue::error(line, "rate", FrameworkMsg::Money(e))))
                .ok(),
            (Some(a), None) => {
                errors.push(Issue::error(line, "rate", FrameworkMsg::MissingExchangeRate { from: a.currency().to_string(), to: programme_currency.to_string() }));
                None
            }
            (None, _) => None,
        };
        if errors.len() > before {
            continue;
        }
        let (Some(year), Some(amount), Some(converted)) = (year, amount, converted) else { continue };
        let text = |c: &str| Some(t.get(row, c)).filter(|s| !s.is_empty()).map(str::to_string);
        out.push(Expenditure {
            line,
            output,
            year,
            spent_on,
            agency: text("agency"),
            funding_source: text("funding_source"),
            description: text("description").unwrap_or_default(),
            amount,
            rate: if amount.currency() == programme_currency { None } else { rate },
            converted,
        });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Budget against expenditure for one cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Execution {
    pub budget: Money,
    pub spent: Money,
    /// budget − spent (negative: overspent).
    pub balance: Money,
    /// spent / budget, exact; `None` when nothing was budgeted.
    pub utilisation: Option<Ratio>,
}

impl Execution {
    pub fn new(budget: Money, spent: Money) -> Result<Execution, MoneyError> {
        let utilisation = if budget.is_zero() { None } else { Some(spent.ratio_of(&budget)?) };
        Ok(Execution { budget, spent, balance: budget.checked_sub(&spent)?, utilisation })
    }
    /// Utilisation in %, rounded half up to `decimals`.
    pub fn utilisation_pct(&self, decimals: u32) -> Option<Dec> {
        self.utilisation.and_then(|u| u.to_percent().ok()).and_then(|p| p.round(decimals, RoundingMode::HalfUp).ok()).map(|r| r.value)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExecutionRow {
    /// `P1.1`, `R1-AT`, `R1` (subtotal), `MGMT`, `PROJECT_TOTAL`, `GMS`, `LEVY`, `GRAND_TOTAL`.
    pub code: String,
    pub label: String,
    pub kind: RowKind,
    pub result: Option<Code>,
    pub cells: BTreeMap<Column, Execution>,
}

/// The PRODOC-layout execution report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExecutionReport {
    pub currency: Currency,
    pub years: Vec<i32>,
    pub rows: Vec<ExecutionRow>,
    pub computed: ComputedBudget,
}

/// Builds the report from the budget's entered lines (outputs, technical support, management),
/// the configured rules and the expenditures. Spending on an output counts against it; spending
/// with no output counts against management; indirect costs and levy are spent in proportion
/// to the same rules applied to what was spent.
pub fn execution_report(table: &BudgetTable, rules: &CostRules, spent: &[Expenditure]) -> Result<ExecutionReport, MoneyError> {
    let cur = table.currency;
    let zero = Money::zero(cur);
    let computed = compute(table, rules)?;
    let mut cols: Vec<Column> = table.years.iter().map(|y| Column::Year(*y)).collect();
    cols.push(Column::Total);
    // Expenditure by (row code, column).
    let mut spent_by: BTreeMap<(String, Column), Money> = BTreeMap::new();
    let mut add = |k: String, y: i32, m: Money| -> Result<(), MoneyError> {
        for c in [Column::Year(y), Column::Total] {
            let e = spent_by.entry((k.clone(), c)).or_insert(zero);
            *e = e.checked_add(&m)?;
        }
        Ok(())
    };
    for e in spent {
        let key = e.output.as_ref().map(|o| o.to_string()).unwrap_or_else(|| "MGMT".into());
        add(key, e.year, e.converted)?;
    }
    let get = |k: &str, c: Column| spent_by.get(&(k.to_string(), c)).copied().unwrap_or(zero);
    let mut rows = Vec::new();
    let mut results: Vec<Code> = Vec::new();
    for r in &table.rows {
        if let Some(res) = &r.result {
            if matches!(r.kind, RowKind::Line | RowKind::TechnicalSupport) && !results.contains(res) {
                results.push(res.clone());
            }
        }
    }
    let line_code = |r: &super::table::BudgetRow| match r.kind {
        RowKind::TechnicalSupport => format!("{}-AT", r.result.as_ref().map(|c| c.as_str()).unwrap_or("")),
        _ => r.output.as_ref().map(|c| c.to_string()).unwrap_or_default(),
    };
    // Years of a line: the entered years; its total column is their sum (never the printed total).
    let cell_of = |r: &super::table::BudgetRow, c: Column| -> Money {
        match c {
            Column::Year(y) => r.year(y),
            Column::Total => r.years_sum().unwrap_or(zero),
        }
    };
    let mut spent_total: BTreeMap<Column, Money> = BTreeMap::new();
    for res in &results {
        let lines: Vec<_> = table.rows.iter().filter(|r| matches!(r.kind, RowKind::Line | RowKind::TechnicalSupport) && r.result.as_ref() == Some(res)).collect();
        let mut sub_spent: BTreeMap<Column, Money> = BTreeMap::new();
        for r in &lines {
            let code = line_code(r);
            let mut cells = BTreeMap::new();
            for &c in &cols {
                let s = get(&code, c);
                let acc = sub_spent.entry(c).or_insert(zero);
                *acc = acc.checked_add(&s)?;
                cells.insert(c, Execution::new(cell_of(r, c), s)?);
            }
            rows.push(ExecutionRow { code, label: r.label.clone(), kind: r.kind, result: Some(res.clone()), cells });
        }
        let mut cells = BTreeMap::new();
        for &c in &cols {
            let b = computed.by_result.get(res).and_then(|m| m.get(&c)).copied().unwrap_or(zero);
            let s = sub_spent.get(&c).copied().unwrap_or(zero);
            let acc = spent_total.entry(c).or_insert(zero);
            *acc = acc.checked_add(&s)?;
            cells.insert(c, Execution::new(b, s)?);
        }
        rows.push(ExecutionRow { code: res.to_string(), label: res.to_string(), kind: RowKind::ResultSubtotal, result: Some(res.clone()), cells });
    }
    // Spending on outputs that are not in the budget still counts in the totals.
    for ((k, c), m) in &spent_by {
        let known = k == "MGMT" || rows.iter().any(|r| &r.code == k);
        if !known {
            let acc = spent_total.entry(*c).or_insert(zero);
            *acc = acc.checked_add(m)?;
        }
    }
    let mut activities_spent = BTreeMap::new();
    let mut project_spent = BTreeMap::new();
    let mut cells_act = BTreeMap::new();
    let mut cells_mgmt = BTreeMap::new();
    let mut cells_proj = BTreeMap::new();
    for &c in &cols {
        let a = spent_total.get(&c).copied().unwrap_or(zero);
        let m = get("MGMT", c);
        activities_spent.insert(c, a);
        project_spent.insert(c, a.checked_add(&m)?);
        cells_act.insert(c, Execution::new(computed.activities.get(&c).copied().unwrap_or(zero), a)?);
        cells_mgmt.insert(c, Execution::new(computed.management.get(&c).copied().unwrap_or(zero), m)?);
        cells_proj.insert(c, Execution::new(computed.project.get(&c).copied().unwrap_or(zero), a.checked_add(&m)?)?);
    }
    rows.push(ExecutionRow { code: "ACTIVITIES_TOTAL".into(), label: "Total des activités / Activities total".into(), kind: RowKind::ActivitiesTotal, result: None, cells: cells_act });
    rows.push(ExecutionRow { code: "MGMT".into(), label: "Coûts de gestion / Management costs".into(), kind: RowKind::Management, result: None, cells: cells_mgmt });
    rows.push(ExecutionRow { code: "PROJECT_TOTAL".into(), label: "Total du projet / Project total".into(), kind: RowKind::ProjectTotal, result: None, cells: cells_proj });
    // Indirect costs and levy charged on what was spent, by the same configured rates, per year.
    let mut ind_spent = BTreeMap::new();
    let mut levy_spent = BTreeMap::new();
    let (mut ind_total, mut levy_total) = (zero, zero);
    for &y in &table.years {
        let p = project_spent.get(&Column::Year(y)).copied().unwrap_or(zero);
        let rate = rules.indirect.by_year.get(&y).copied().unwrap_or(rules.indirect.default_rate);
        let ind = Money::from_ratio_rounded_to(&p.to_ratio().checked_mul(&rate)?, cur, rules.decimals, rules.rounding)?.value;
        let lev = match &rules.levy {
            Some(l) => Money::from_ratio_rounded_to(&p.checked_add(&ind)?.to_ratio().checked_mul(l)?, cur, rules.decimals, rules.rounding)?.value,
            None => zero,
        };
        ind_total = ind_total.checked_add(&ind)?;
        levy_total = levy_total.checked_add(&lev)?;
        ind_spent.insert(Column::Year(y), ind);
        levy_spent.insert(Column::Year(y), lev);
    }
    ind_spent.insert(Column::Total, ind_total);
    levy_spent.insert(Column::Total, levy_total);
    let mut cells_ind = BTreeMap::new();
    let mut cells_levy = BTreeMap::new();
    let mut cells_grand = BTreeMap::new();
    for &c in &cols {
        cells_ind.insert(c, Execution::new(computed.indirect.get(&c).copied().unwrap_or(zero), ind_spent.get(&c).copied().unwrap_or(zero))?);
        cells_levy.insert(c, Execution::new(computed.levy.get(&c).copied().unwrap_or(zero), levy_spent[&c])?);
        let g = project_spent[&c].checked_add(&ind_spent[&c])?.checked_add(&levy_spent[&c])?;
        cells_grand.insert(c, Execution::new(computed.grand_total.get(&c).copied().unwrap_or(zero), g)?);
    }
    rows.push(ExecutionRow { code: "GMS".into(), label: "Coûts indirects (GMS) / Indirect support costs".into(), kind: RowKind::Indirect, result: None, cells: cells_ind });
    rows.push(ExecutionRow { code: "LEVY".into(), label: "Prélèvement / Levy".into(), kind: RowKind::Levy, result: None, cells: cells_levy });
    rows.push(ExecutionRow { code: "GRAND_TOTAL".into(), label: "Total général / Grand total".into(), kind: RowKind::GrandTotal, result: None, cells: cells_grand });
    Ok(ExecutionReport { currency: cur, years: table.years.clone(), rows, computed })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::budget::table::{parse_budget, IndirectRates, ManagementRule, RowSumPolicy};

    fn rules() -> CostRules {
        CostRules {
            management: ManagementRule::Entered,
            indirect: IndirectRates { default_rate: Ratio::new(8, 100).unwrap(), by_agency: BTreeMap::new(), by_year: BTreeMap::new() },
            levy: Some(Ratio::new(1, 100).unwrap()),
            rounding: RoundingMode::HalfUp,
            decimals: 0,
        }
    }

    #[test]
    fn expenditure_needs_a_rate_in_another_currency() {
        let p = ProgrammePeriod::new(2021, 2022).unwrap();
        let csv = "year,output_code,amount,currency,rate,date\n2021,P1.1,1000,USD,,2021-03-01\n2021,P1.1,655957,XOF,,\n2023,P1.1,1,USD,,\n2021,P1.1,abc,USD,,\n2022,P1.1,10,USD,,2021-01-01\n";
        let errs = parse_expenditures(csv.as_bytes(), Currency::USD, p).unwrap_err();
        let got: Vec<(usize, &str)> = errs.iter().map(|e| (e.line, e.field.as_str())).collect();
        assert_eq!(got, vec![(3, "rate"), (4, "year"), (5, "amount"), (6, "date")]);
        assert_eq!(errs[0].msg, FrameworkMsg::MissingExchangeRate { from: "XOF".into(), to: "USD".into() });
        let ok = "year,output_code,amount,currency,rate\n2021,P1.1,655957,XOF,0.0016\n";
        let e = parse_expenditures(ok.as_bytes(), Currency::USD, p).unwrap();
        assert_eq!(e[0].converted.minor(), 104_953); // 655 957 × 0,0016 = 1 049,5312 → 1 049,53
    }

    #[test]
    fn execution_by_output_with_result_subtotals() {
        let b = "output_code,row_type,result_code,y2021,y2022,total\nP1.1,output,R1,100,200,300\nR1-AT,technical_support,R1,10,10,20\nMGMT,management,,40,40,80\n";
        let (t, _) = parse_budget(b.as_bytes(), Currency::USD, RowSumPolicy::Error).unwrap();
        let p = ProgrammePeriod::new(2021, 2022).unwrap();
        let spent = parse_expenditures(b"year,output_code,amount\n2021,P1.1,50\n2021,,20\n".as_ref(), Currency::USD, p).unwrap();
        let r = execution_report(&t, &rules(), &spent).unwrap();
        let row = |c: &str| r.rows.iter().find(|x| x.code == c).unwrap();
        let usd = |n| Money::from_major(n, Currency::USD).unwrap();
        assert_eq!(row("P1.1").cells[&Column::Year(2021)].utilisation_pct(1), Some(Dec::from_int(50)));
        assert_eq!(row("R1").cells[&Column::Total].budget, usd(320));
        assert_eq!(row("R1").cells[&Column::Total].spent, usd(50));
        assert_eq!(row("PROJECT_TOTAL").cells[&Column::Year(2021)].spent, usd(70));
        // GMS 8 % of 70 = 5.6 → 6; levy 1 % of 76 = 0.76 → 1.
        assert_eq!(row("GMS").cells[&Column::Year(2021)].spent, usd(6));
        assert_eq!(row("GRAND_TOTAL").cells[&Column::Year(2021)].spent, usd(77));
        assert_eq!(row("GRAND_TOTAL").cells[&Column::Year(2022)].utilisation_pct(1), Some(Dec::ZERO));
    }
}
