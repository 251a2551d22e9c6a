//! Budgets (lines by output × year × agency × funding source, as the programme document prints
//! them, with its subtotals and computed lines kept to be checked), expenditure records, and
//! apportionment/expenditure tables in the peacekeeping layout. Amounts in integer minor units.

use crate::audit::{self, Actor};
use crate::results::{refused, Programme};
use crate::{run, run_tx, Db, StoreError, StoreResult};
use std::collections::BTreeMap;
use vigie_domain::budget::execution::Expenditure;
use vigie_domain::budget::money::{Currency, Dec, Money, NumberStyle};
use vigie_domain::budget::table::{BudgetRow, BudgetTable, RowKind};
use vigie_domain::budget::variance::{InputKind, VarianceInput};
use vigie_domain::framework::msg::Issue;
use vigie_domain::framework::{Code, FrameworkMsg};
use vigie_domain::Msg;

fn kind_text(k: RowKind) -> String {
    serde_json::to_value(k).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

fn same_currency(prog: &Programme, c: Currency) -> StoreResult<()> {
    if c != prog.currency() {
        return Err(refused(vec![Issue::error(1, "currency", FrameworkMsg::Money(vigie_domain::budget::MoneyError::CurrencyMismatch { left: prog.currency.clone(), right: c.to_string() }))]));
    }
    Ok(())
}

/// Replaces the programme's budget with `table` (a budget is one document: a new version
/// replaces the old one whole). Output and result codes must exist in the framework if it has one.
pub async fn import_budget(db: &Db, prog: &Programme, table: &BudgetTable, actor: &Actor) -> StoreResult<usize> {
    same_currency(prog, table.currency)?;
    let mut errors = Vec::new();
    for y in &table.years {
        if !prog.period().contains(*y) {
            errors.push(Issue::error(1, &format!("y{y}"), FrameworkMsg::TargetOutsidePeriod { year: *y, first: prog.period().first(), last: prog.period().last() }));
        }
    }
    let outputs: Vec<String> = run!(&db.read, c => sqlx::query_scalar("SELECT code FROM fw_outputs WHERE programme_id = $1").bind(prog.id).fetch_all(c).await?);
    if !outputs.is_empty() {
        for r in table.rows.iter().filter(|r| r.kind == RowKind::Line) {
            if let Some(o) = &r.output {
                if !outputs.iter().any(|x| x == o.as_str()) {
                    errors.push(Issue::error(r.line, "output_code", FrameworkMsg::UnknownOutput { code: o.to_string() }));
                }
            }
        }
    }
    if !errors.is_empty() {
        return Err(refused(errors));
    }
    let mut tx = db.begin().await?;
    run_tx!(&mut tx, c => { sqlx::query("DELETE FROM budget_amounts WHERE line_id IN (SELECT id FROM budget_lines WHERE programme_id = $1)").bind(prog.id).execute(&mut **c).await?; });
    run_tx!(&mut tx, c => { sqlx::query("DELETE FROM budget_lines WHERE programme_id = $1").bind(prog.id).execute(&mut **c).await?; });
    for (i, r) in table.rows.iter().enumerate() {
        let id: i64 = run_tx!(&mut tx, c => sqlx::query_scalar(
            "INSERT INTO budget_lines (programme_id, position, source_line, kind, output_code, result_code, label, agencies, funding_source, printed_total) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) RETURNING id"
        ).bind(prog.id).bind(i as i64).bind(r.line as i64).bind(kind_text(r.kind)).bind(r.output.as_ref().map(|c| c.to_string())).bind(r.result.as_ref().map(|c| c.to_string()))
         .bind(&r.label).bind(serde_json::to_string(&r.agencies).unwrap()).bind(&r.funding_source).bind(r.printed_total.minor()).fetch_one(&mut **c).await?);
        for (y, m) in &r.years {
            run_tx!(&mut tx, c => { sqlx::query("INSERT INTO budget_amounts (line_id, year, amount) VALUES ($1,$2,$3)").bind(id).bind(*y as i64).bind(m.minor()).execute(&mut **c).await?; });
        }
    }
    let total = table.rows.iter().find(|r| r.kind == RowKind::GrandTotal).map(|r| r.printed_total.to_string());
    audit::append(&mut tx, actor, "budget.import", "programme", &prog.id.to_string(), serde_json::json!({"rows": table.rows.len(), "years": table.years, "printed_grand_total": total})).await?;
    tx.commit().await?;
    Ok(table.rows.len())
}

#[derive(sqlx::FromRow)]
struct LineRow {
    id: i64,
    source_line: i64,
    kind: String,
    output_code: Option<String>,
    result_code: Option<String>,
    label: String,
    agencies: String,
    funding_source: Option<String>,
    printed_total: i64,
}

/// The stored budget as the domain's table (empty if none was imported).
pub async fn budget_table(db: &Db, prog: &Programme) -> StoreResult<BudgetTable> {
    let cur = prog.currency();
    let lines: Vec<LineRow> = run!(&db.read, c => sqlx::query_as("SELECT id, source_line, kind, output_code, result_code, label, agencies, funding_source, printed_total FROM budget_lines WHERE programme_id = $1 ORDER BY position").bind(prog.id).fetch_all(c).await?);
    let amounts: Vec<(i64, i64, i64)> = run!(&db.read, c => sqlx::query_as("SELECT a.line_id, a.year, a.amount FROM budget_amounts a JOIN budget_lines l ON l.id = a.line_id WHERE l.programme_id = $1").bind(prog.id).fetch_all(c).await?);
    let mut years: Vec<i32> = amounts.iter().map(|a| a.1 as i32).collect();
    years.sort();
    years.dedup();
    let bad = |w: &str| StoreError::Other(format!("stored budget {w}"));
    let mut rows = Vec::new();
    for l in lines {
        let mut ys = BTreeMap::new();
        for (_, y, m) in amounts.iter().filter(|a| a.0 == l.id) {
            ys.insert(*y as i32, Money::from_minor(*m, cur));
        }
        rows.push(BudgetRow {
            line: l.source_line as usize,
            kind: RowKind::parse(&l.kind).map_err(|_| bad("kind"))?,
            output: l.output_code.as_deref().map(Code::parse).transpose().map_err(|_| bad("output"))?,
            result: l.result_code.as_deref().map(Code::parse).transpose().map_err(|_| bad("result"))?,
            label: l.label,
            agencies: serde_json::from_str(&l.agencies).unwrap_or_default(),
            funding_source: l.funding_source,
            years: ys,
            printed_total: Money::from_minor(l.printed_total, cur),
        });
    }
    Ok(BudgetTable { currency: cur, years, rows })
}

/// Records expenditures (parsed and converted by the domain). Output codes must be in the
/// budget or the framework. All or nothing, one audit entry.
pub async fn record_expenditures(db: &Db, prog: &Programme, items: &[Expenditure], actor: &Actor) -> StoreResult<usize> {
    let known: Vec<String> = run!(&db.read, c => sqlx::query_scalar(
        "SELECT code FROM fw_outputs WHERE programme_id = $1 UNION SELECT output_code FROM budget_lines WHERE programme_id = $1 AND output_code IS NOT NULL"
    ).bind(prog.id).fetch_all(c).await?);
    let mut errors = Vec::new();
    for e in items {
        if e.converted.currency() != prog.currency() {
            errors.push(Issue::error(e.line, "rate", FrameworkMsg::MissingExchangeRate { from: e.amount.currency().to_string(), to: prog.currency.clone() }));
        }
        if !prog.period().contains(e.year) {
            errors.push(Issue::error(e.line, "year", FrameworkMsg::TargetOutsidePeriod { year: e.year, first: prog.period().first(), last: prog.period().last() }));
        }
        if let Some(o) = &e.output {
            if !known.iter().any(|k| k == o.as_str()) {
                errors.push(Issue::error(e.line, "output_code", FrameworkMsg::UnknownOutput { code: o.to_string() }));
            }
        }
    }
    if !errors.is_empty() {
        return Err(refused(errors));
    }
    let now = crate::now();
    let mut tx = db.begin().await?;
    for e in items {
        run_tx!(&mut tx, c => { sqlx::query(
            "INSERT INTO expenditures (programme_id, output_code, year, spent_on, agency, funding_source, description, amount, currency, rate, amount_programme, entered_by, entered_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)"
        ).bind(prog.id).bind(e.output.as_ref().map(|o| o.to_string())).bind(e.year as i64).bind(e.spent_on.map(|d| d.to_string())).bind(&e.agency).bind(&e.funding_source)
         .bind(&e.description).bind(e.amount.minor()).bind(e.amount.currency().code()).bind(e.rate.map(|r| r.to_string())).bind(e.converted.minor()).bind(actor.id).bind(now).execute(&mut **c).await?; });
    }
    let total = Money::sum(prog.currency(), items.iter().map(|e| &e.converted)).map(|m| m.to_string()).unwrap_or_default();
    audit::append(&mut tx, actor, "expenditure.record", "programme", &prog.id.to_string(), serde_json::json!({"records": items.len(), "total": total})).await?;
    tx.commit().await?;
    Ok(items.len())
}

#[derive(sqlx::FromRow)]
struct ExpRow {
    id: i64,
    output_code: Option<String>,
    year: i64,
    spent_on: Option<String>,
    agency: Option<String>,
    funding_source: Option<String>,
    description: String,
    amount: i64,
    currency: String,
    rate: Option<String>,
    amount_programme: i64,
}

/// Stored expenditures, as the domain reads them (line = record id).
pub async fn expenditures(db: &Db, prog: &Programme) -> StoreResult<Vec<Expenditure>> {
    let rows: Vec<ExpRow> = run!(&db.read, c => sqlx::query_as("SELECT id, output_code, year, spent_on, agency, funding_source, description, amount, currency, rate, amount_programme FROM expenditures WHERE programme_id = $1 ORDER BY year, id").bind(prog.id).fetch_all(c).await?);
    let bad = |w: &str| StoreError::Other(format!("stored expenditure {w}"));
    rows.into_iter()
        .map(|r| {
            let cur = Currency::parse(&r.currency).map_err(|_| bad("currency"))?;
            Ok(Expenditure {
                line: r.id as usize,
                output: r.output_code.as_deref().map(Code::parse).transpose().map_err(|_| bad("output"))?,
                year: r.year as i32,
                spent_on: r.spent_on.as_deref().and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()),
                agency: r.agency,
                funding_source: r.funding_source,
                description: r.description,
                amount: Money::from_minor(r.amount, cur),
                rate: r.rate.as_deref().map(|x| Dec::parse(x, NumberStyle::English)).transpose().map_err(|_| bad("rate"))?,
                converted: Money::from_minor(r.amount_programme, prog.currency()),
            })
        })
        .collect()
}

/// Replaces the apportionment/expenditure lines (peacekeeping layout) of a programme.
pub async fn import_variance(db: &Db, prog: &Programme, inputs: &[VarianceInput], actor: &Actor) -> StoreResult<usize> {
    for i in inputs {
        if i.apportionment.currency() != prog.currency() || i.expenditure.currency() != prog.currency() {
            return Err(refused(vec![Issue::error(i.line, "expenditure", FrameworkMsg::MissingExchangeRate { from: i.expenditure.currency().to_string(), to: prog.currency.clone() })]));
        }
    }
    let mut tx = db.begin().await?;
    run_tx!(&mut tx, c => { sqlx::query("DELETE FROM variance_lines WHERE programme_id = $1").bind(prog.id).execute(&mut **c).await?; });
    for (pos, i) in inputs.iter().enumerate() {
        let kind = match i.kind {
            InputKind::Class => "class",
            InputKind::StaffAssessment => "staff_assessment",
            InputKind::InKind => "in_kind",
        };
        run_tx!(&mut tx, c => { sqlx::query(
            "INSERT INTO variance_lines (programme_id, position, source_line, section, label_fr, label_en, kind, apportionment, expenditure) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)"
        ).bind(prog.id).bind(pos as i64).bind(i.line as i64).bind(&i.section).bind(&i.label_fr).bind(&i.label_en).bind(kind).bind(i.apportionment.minor()).bind(i.expenditure.minor()).execute(&mut **c).await?; });
    }
    audit::append(&mut tx, actor, "variance.import", "programme", &prog.id.to_string(), serde_json::json!({"lines": inputs.len()})).await?;
    tx.commit().await?;
    Ok(inputs.len())
}

pub async fn variance_inputs(db: &Db, prog: &Programme) -> StoreResult<Vec<VarianceInput>> {
    let rows: Vec<(i64, Option<String>, String, String, String, i64, i64)> = run!(&db.read, c => sqlx::query_as(
        "SELECT source_line, section, label_fr, label_en, kind, apportionment, expenditure FROM variance_lines WHERE programme_id = $1 ORDER BY position"
    ).bind(prog.id).fetch_all(c).await?);
    let cur = prog.currency();
    Ok(rows
        .into_iter()
        .map(|(line, section, fr, en, kind, a, e)| VarianceInput {
            section,
            label_fr: fr,
            label_en: en,
            kind: match kind.as_str() {
                "staff_assessment" => InputKind::StaffAssessment,
                "in_kind" => InputKind::InKind,
                _ => InputKind::Class,
            },
            apportionment: Money::from_minor(a, cur),
            expenditure: Money::from_minor(e, cur),
            line: line as usize,
        })
        .collect())
}

pub fn not_found_if_empty<T>(v: Vec<T>) -> StoreResult<Vec<T>> {
    if v.is_empty() {
        Err(StoreError::Invalid(vigie_domain::Invalid::new("programme", Msg::NotFound)))
    } else {
        Ok(v)
    }
}
