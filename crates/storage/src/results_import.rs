//! Imports of results frameworks, budgets, expenditure and risk logs from CSV or XLSX bytes,
//! shared by the API and the `vigie import` command: parse everything first (every error with
//! its line, nothing written), then write in one transaction.

use crate::audit::Actor;
use crate::results::{refused, Programme};
use crate::{budget, results, risks, Db, StoreError, StoreResult};
use serde::Serialize;
use vigie_domain::budget::execution::parse_expenditures;
use vigie_domain::budget::table::{parse_budget, RowSumPolicy};
use vigie_domain::budget::variance;
use vigie_domain::framework::import::{parse_indicators, parse_results};
use vigie_domain::framework::msg::{Issue, Severity};
use vigie_domain::framework::risk::parse_risks;
use vigie_domain::framework::{Framework, FrameworkMsg};
use vigie_domain::import::xlsx;
use vigie_domain::{Invalid, LineError, Msg};

/// What an import did, with the warnings it showed (rows kept as written but worth a look).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportOutcome {
    /// framework, budget, expenditure, variance, risks
    pub kind: String,
    pub records: usize,
    #[schema(value_type = Vec<Object>)]
    pub warnings: Vec<LineError>,
}

fn csv_of(bytes: &[u8], sheet: Option<&str>) -> StoreResult<Vec<u8>> {
    xlsx::as_csv(bytes, sheet).map_err(|m| StoreError::Lines(vec![LineError { line: 1, field: String::new(), msg: m }]))
}

fn warnings_of(issues: Vec<Issue>) -> Vec<LineError> {
    results::issues_to_lines(issues.into_iter().filter(|i| i.severity == Severity::Warning).collect())
}

/// `results` and `indicators` files, or one XLSX workbook with sheets `results` and `indicators`.
pub async fn framework(db: &Db, prog: &Programme, results_file: &[u8], indicators_file: Option<&[u8]>, actor: &Actor) -> StoreResult<ImportOutcome> {
    let (r, i) = match indicators_file {
        Some(ind) => (csv_of(results_file, Some("results")).or_else(|_| csv_of(results_file, None))?, csv_of(ind, Some("indicators")).or_else(|_| csv_of(ind, None))?),
        None if xlsx::is_xlsx(results_file) => (csv_of(results_file, Some("results"))?, csv_of(results_file, Some("indicators"))?),
        None => return Err(Invalid::new("indicators", Msg::Required).into()),
    };
    let (res, outs) = parse_results(&r).map_err(refused)?;
    let inds = parse_indicators(&i, prog.period(), &res, &outs).map_err(refused)?;
    let fw = Framework { period: prog.period(), results: res, outputs: outs, indicators: inds };
    let n = results::import_framework(db, prog, &fw, actor).await?;
    Ok(ImportOutcome { kind: "framework".into(), records: n.indicators, warnings: Vec::new() })
}

/// A budget table. `as_printed`: a signed document transcribed as it is (a row whose years do
/// not add up to its total is a warning); otherwise such a row is an error.
pub async fn budget(db: &Db, prog: &Programme, file: &[u8], as_printed: bool, actor: &Actor) -> StoreResult<ImportOutcome> {
    let csv = csv_of(file, Some("budget")).or_else(|_| csv_of(file, None))?;
    let policy = if as_printed { RowSumPolicy::Warn } else { RowSumPolicy::Error };
    let (table, warnings) = parse_budget(&csv, prog.currency(), policy).map_err(refused)?;
    let n = budget::import_budget(db, prog, &table, actor).await?;
    Ok(ImportOutcome { kind: "budget".into(), records: n, warnings: warnings_of(warnings) })
}

/// Expenditure records (`year,output_code,amount,currency,rate,…`) or, recognised by its
/// `apportionment_kusd` column, an apportionment/expenditure table in the peacekeeping layout,
/// whose printed subtotals, totals and percentages are checked (differences are warnings).
pub async fn expenditure(db: &Db, prog: &Programme, file: &[u8], actor: &Actor) -> StoreResult<ImportOutcome> {
    let csv = csv_of(file, None)?;
    if variance::is_printed_table(&csv) {
        let (inputs, checks) = variance::import_printed(&csv, prog.currency()).map_err(refused)?;
        let n = budget::import_variance(db, prog, &inputs, actor).await?;
        return Ok(ImportOutcome { kind: "variance".into(), records: n, warnings: warnings_of(checks) });
    }
    let items = parse_expenditures(&csv, prog.currency(), prog.period()).map_err(refused)?;
    let n = budget::record_expenditures(db, prog, &items, actor).await?;
    Ok(ImportOutcome { kind: "expenditure".into(), records: n, warnings: Vec::new() })
}

/// A risk log (`n,risk_fr,category,probability,impact,mitigation_fr[,owner][,status]`).
pub async fn risk_log(db: &Db, prog: &Programme, file: &[u8], actor: &Actor) -> StoreResult<ImportOutcome> {
    let csv = csv_of(file, Some("risks")).or_else(|_| csv_of(file, None))?;
    let list = parse_risks(&csv).map_err(refused)?;
    if list.is_empty() {
        return Err(refused(vec![Issue::error(2, "n", FrameworkMsg::Common(Msg::Required))]));
    }
    let n = risks::import(db, prog, &list, actor).await?;
    Ok(ImportOutcome { kind: "risks".into(), records: n, warnings: Vec::new() })
}
