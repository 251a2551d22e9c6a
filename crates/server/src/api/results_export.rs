//! Exports of a programme: the annual report tables (indicator progress, budget execution) as
//! CSV, XLSX and printable HTML; the IATI 2.03 activity XML (results, indicators, budgets,
//! transactions); DHIS2 `dataValueSets` JSON of actual values; HXL-tagged CSV of public aggregates.

use super::results::{amt, execution, execution_rows, programme_for, progress_area, ProgressQuery};
use super::ApiQuery;
use crate::auth::Auth;
use crate::error::ApiError;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use utoipa_axum::{router::OpenApiRouter, routes};
use vigie_domain::access::Permission;
use vigie_domain::budget::table::Column;
use vigie_domain::framework::{Baseline, Target};
use vigie_domain::Msg;
use vigie_storage::results::{self, IndicatorProgress, Programme};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(report_csv))
        .routes(routes!(report_xlsx))
        .routes(routes!(report_html))
        .routes(routes!(iati_xml))
        .routes(routes!(dhis2_values))
        .routes(routes!(hxl_csv))
}

struct Tables {
    progress: Vec<IndicatorProgress>,
    progress_rows: Vec<Vec<String>>,
    budget_rows: Vec<Vec<String>>,
}

const PROGRESS_HEAD: [&str; 8] = ["code", "indicateur / indicator", "unité / unit", "cible / target", "réalisé / actual", "atteint % / achieved %", "statut / status", "source"];
const BUDGET_HEAD: [&str; 6] = ["code", "libellé / label", "budget", "dépensé / spent", "solde / balance", "utilisation %"];

async fn tables(s: &AppState, auth: &Auth, p: &Programme, q: &ProgressQuery) -> Result<Tables, ApiError> {
    let area = progress_area(s, auth, p, q.area.as_deref()).await?;
    let progress = results::progress_report(&s.db, p, q.year, &area, &q.options()?).await?;
    let progress_rows = progress
        .iter()
        .map(|r| vec![r.code.clone(), r.label.clone(), r.unit.clone(), r.target.clone().unwrap_or_default(), r.actual.clone().unwrap_or_default(), r.achieved_pct.clone().unwrap_or_default(), r.status.clone(), r.source.clone()])
        .collect();
    let exec = execution(s, p).await?;
    let col = Column::Year(q.year);
    let budget_rows = exec
        .rows
        .iter()
        .filter_map(|r| {
            let c = r.cells.get(&col)?;
            Some(vec![r.code.clone(), r.label.clone(), amt(&c.budget), amt(&c.spent), amt(&c.balance), c.utilisation_pct(1).map(|d| d.to_string()).unwrap_or_default()])
        })
        .collect();
    Ok(Tables { progress, progress_rows, budget_rows })
}

fn csv_bytes(head: &[&str], rows: &[Vec<String>]) -> Result<Vec<u8>, ApiError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let err = |_| ApiError::from(Msg::Internal);
    w.write_record(head).map_err(err)?;
    for r in rows {
        // A cell starting with = + - @ is prefixed so spreadsheets never run it as a formula.
        w.write_record(r.iter().map(|c| if c.starts_with(['=', '+', '@']) || (c.starts_with('-') && c.parse::<f64>().is_err()) { format!("'{c}") } else { c.clone() })).map_err(err)?;
    }
    w.into_inner().map_err(|_| Msg::Internal.into())
}

fn attachment(ct: &'static str, name: String, body: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, ct.to_string()), (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\""))], body).into_response()
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CsvQuery {
    /// progress (default) or budget
    table: Option<String>,
}

/// One annual report table as CSV (`table=progress` or `budget`), for `year` and `area`.
#[utoipa::path(get, path = "/api/v1/programmes/{code}/report.csv", tag = "results", params(("code" = String, Path), ProgressQuery, CsvQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = crate::error::Problem)))]
async fn report_csv(State(s): State<AppState>, auth: Auth, Path(code): Path<String>, ApiQuery(q): ApiQuery<ProgressQuery>, ApiQuery(t): ApiQuery<CsvQuery>) -> Result<Response, ApiError> {
    let p = programme_for(&s, &auth, &code, Permission::FrameworkRead).await?;
    let tb = tables(&s, &auth, &p, &q).await?;
    let (name, bytes) = match t.table.as_deref() {
        None | Some("progress") => ("progress", csv_bytes(&PROGRESS_HEAD, &tb.progress_rows)?),
        Some("budget") => ("budget", csv_bytes(&BUDGET_HEAD, &tb.budget_rows)?),
        Some(_) => return Err(ApiError::bad_request("table", Msg::NotFound)),
    };
    Ok(attachment("text/csv; charset=utf-8", format!("{}-{}-{name}.csv", p.code, q.year), bytes))
}

/// The annual report tables as an XLSX workbook (sheets progress and budget).
#[utoipa::path(get, path = "/api/v1/programmes/{code}/report.xlsx", tag = "results", params(("code" = String, Path), ProgressQuery),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>), (status = 403, body = crate::error::Problem)))]
async fn report_xlsx(State(s): State<AppState>, auth: Auth, Path(code): Path<String>, ApiQuery(q): ApiQuery<ProgressQuery>) -> Result<Response, ApiError> {
    let p = programme_for(&s, &auth, &code, Permission::FrameworkRead).await?;
    let tb = tables(&s, &auth, &p, &q).await?;
    let err = |e: rust_xlsxwriter::XlsxError| {
        tracing::error!(error = %e, "xlsx export");
        ApiError::from(Msg::Internal)
    };
    let mut book = rust_xlsxwriter::Workbook::new();
    for (name, head, rows, numeric) in [("progress", &PROGRESS_HEAD[..], &tb.progress_rows, &[3usize, 4, 5][..]), ("budget", &BUDGET_HEAD[..], &tb.budget_rows, &[2usize, 3, 4, 5][..])] {
        let sheet = book.add_worksheet();
        sheet.set_name(name).map_err(err)?;
        for (c, h) in head.iter().enumerate() {
            sheet.write_string(0, c as u16, *h).map_err(err)?;
        }
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                // Figures as numbers (they are exact decimals of at most a few digits after the point), the rest as text.
                match v.parse::<f64>() {
                    Ok(n) if numeric.contains(&c) => sheet.write_number(r as u32 + 1, c as u16, n).map(|_| ()),
                    _ => sheet.write_string(r as u32 + 1, c as u16, v).map(|_| ()),
                }
                .map_err(err)?;
            }
        }
    }
    Ok(attachment("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", format!("{}-{}.xlsx", p.code, q.year), book.save_to_buffer().map_err(err)?))
}

pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// French number format: 1 234 567,89.
pub(crate) fn fr_number(s: &str) -> String {
    match vigie_domain::budget::Dec::parse(s, vigie_domain::budget::NumberStyle::English) {
        Ok(d) => d.format(vigie_domain::Lang::Fr, 0),
        Err(_) => s.to_string(),
    }
}

/// The annual report tables as a printable HTML page (French, figures in French format).
#[utoipa::path(get, path = "/api/v1/programmes/{code}/report.html", tag = "results", params(("code" = String, Path), ProgressQuery),
    responses((status = 200, content_type = "text/html", body = String), (status = 403, body = crate::error::Problem)))]
async fn report_html(State(s): State<AppState>, auth: Auth, Path(code): Path<String>, ApiQuery(q): ApiQuery<ProgressQuery>) -> Result<Response, ApiError> {
    let p = programme_for(&s, &auth, &code, Permission::FrameworkRead).await?;
    let tb = tables(&s, &auth, &p, &q).await?;
    let mut h = format!(
        "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>{code} — rapport annuel {y}</title></head><body><h1>{name} — rapport annuel {y} / annual report {y}</h1>",
        code = esc(&p.code),
        name = esc(&p.name),
        y = q.year
    );
    let table = |h: &mut String, title: &str, head: &[&str], rows: &[Vec<String>], numeric: &[usize]| {
        h.push_str(&format!("<h2>{}</h2><table><thead><tr>", esc(title)));
        for c in head {
            h.push_str(&format!("<th scope=\"col\">{}</th>", esc(c)));
        }
        h.push_str("</tr></thead><tbody>");
        for r in rows {
            h.push_str("<tr>");
            for (i, c) in r.iter().enumerate() {
                let v = if numeric.contains(&i) { fr_number(c) } else { c.clone() };
                h.push_str(&format!("<td>{}</td>", esc(&v)));
            }
            h.push_str("</tr>");
        }
        h.push_str("</tbody></table>");
    };
    table(&mut h, "Progrès des indicateurs / Indicator progress", &PROGRESS_HEAD, &tb.progress_rows, &[3, 4, 5]);
    table(&mut h, &format!("Exécution budgétaire / Budget execution ({})", p.currency), &BUDGET_HEAD, &tb.budget_rows, &[2, 3, 4, 5]);
    h.push_str("</body></html>");
    Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], h).into_response())
}

fn baseline_value(b: &Baseline) -> Option<String> {
    b.single_value().map(|d| d.to_string())
}

fn target_value(t: &Target) -> Option<String> {
    match t {
        Target::Value { value, .. } => Some(value.to_string()),
        Target::YesNo(b) => Some((*b as u8).to_string()),
        Target::Change { delta, percent_sign, .. } => Some(format!("{}{}{}", if delta.is_negative() { "" } else { "+" }, delta, if *percent_sign { "%" } else { "" })),
        Target::NoTarget | Target::Milestone(_) => None,
    }
}

fn narrative(s: &str) -> String {
    format!("<narrative xml:lang=\"fr\">{}</narrative>", esc(s))
}

/// The programme as one IATI 2.03 activity: budgets per year (original, from the budget's
/// grand total computed by Vigie), expenditures as transactions (type 4), and each result with
/// its indicators, baselines, yearly targets and actual values (in the programme's area).
#[utoipa::path(get, path = "/api/v1/programmes/{code}/iati.xml", tag = "results", params(("code" = String, Path)),
    responses((status = 200, content_type = "application/xml", body = String), (status = 403, body = crate::error::Problem)))]
async fn iati_xml(State(s): State<AppState>, auth: Auth, Path(code): Path<String>) -> Result<Response, ApiError> {
    let p = programme_for(&s, &auth, &code, Permission::FrameworkRead).await?;
    let xml = iati_activity(&s, &p).await?;
    Ok(([(header::CONTENT_TYPE, "application/xml; charset=utf-8")], xml).into_response())
}

pub(crate) async fn iati_activity(s: &AppState, p: &Programme) -> Result<String, ApiError> {
    let (fw, _) = results::framework(&s.db, p).await?;
    let table = vigie_storage::budget::budget_table(&s.db, p).await?;
    let computed = vigie_domain::budget::table::compute(&table, &p.cost_rules).map_err(|_| ApiError::from(Msg::Internal))?;
    let spent = vigie_storage::budget::expenditures(&s.db, p).await?;
    let area = vigie_domain::area::AreaCode::parse(&p.area_code).map_err(ApiError::from)?;
    let opts = vigie_domain::framework::actuals::ProgressOptions {
        thresholds: vigie_domain::framework::actuals::Thresholds::new(vigie_domain::budget::Ratio::new(9, 10).unwrap(), vigie_domain::budget::Ratio::new(6, 10).unwrap()).unwrap(),
        change_reading: vigie_domain::framework::actuals::ChangeReading::Unspecified,
        basis: vigie_domain::framework::actuals::ProgressBasis::FromBaseline,
    };
    let mut actuals: std::collections::HashMap<(String, i32), String> = Default::default();
    for y in p.period().years() {
        for r in results::progress_report(&s.db, p, y, &area, &opts).await? {
            if let Some(a) = r.actual {
                actuals.insert((r.code, y), a);
            }
        }
    }
    let now = s.now();
    let org_ref = p.reporting_org.clone().unwrap_or_else(|| "XM-DAC-41114".into());
    let identifier = p.iati_identifier.clone().unwrap_or_else(|| format!("{org_ref}-{}", p.code));
    let cur = &p.currency;
    let (first, last) = (p.period().first(), p.period().last());
    let mut x = String::new();
    x.push_str(&format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<iati-activities version=\"2.03\" generated-datetime=\"{}\">\n", now.format("%Y-%m-%dT%H:%M:%SZ")));
    x.push_str(&format!("<iati-activity last-updated-datetime=\"{}\" xml:lang=\"fr\" default-currency=\"{}\">\n", now.format("%Y-%m-%dT%H:%M:%SZ"), esc(cur)));
    x.push_str(&format!("<iati-identifier>{}</iati-identifier>\n", esc(&identifier)));
    x.push_str(&format!("<reporting-org ref=\"{}\" type=\"40\">{}</reporting-org>\n", esc(&org_ref), narrative(&org_ref)));
    x.push_str(&format!("<title>{}</title>\n", narrative(&p.name)));
    x.push_str(&format!("<description type=\"1\">{}</description>\n", narrative(&p.name)));
    x.push_str(&format!("<participating-org ref=\"{}\" role=\"4\" type=\"40\">{}</participating-org>\n", esc(&org_ref), narrative(&org_ref)));
    x.push_str("<activity-status code=\"2\"/>\n");
    x.push_str(&format!("<activity-date type=\"1\" iso-date=\"{first}-01-01\"/>\n<activity-date type=\"3\" iso-date=\"{last}-12-31\"/>\n"));
    x.push_str("<recipient-country code=\"ML\" percentage=\"100\"/>\n");
    for y in &table.years {
        if let Some(m) = computed.grand_total.get(&Column::Year(*y)) {
            x.push_str(&format!(
                "<budget type=\"1\" status=\"2\"><period-start iso-date=\"{y}-01-01\"/><period-end iso-date=\"{y}-12-31\"/><value currency=\"{}\" value-date=\"{first}-01-01\">{}</value></budget>\n",
                esc(cur),
                amt(m)
            ));
        }
    }
    for e in &spent {
        let date = e.spent_on.map(|d| d.to_string()).unwrap_or_else(|| format!("{}-12-31", e.year));
        x.push_str(&format!(
            "<transaction><transaction-type code=\"4\"/><transaction-date iso-date=\"{date}\"/><value currency=\"{}\" value-date=\"{date}\">{}</value>{}</transaction>\n",
            esc(cur),
            amt(&e.converted),
            if e.description.is_empty() { String::new() } else { format!("<description>{}</description>", narrative(&e.description)) }
        ));
    }
    for r in &fw.results {
        let inds: Vec<_> = fw.indicators.iter().filter(|i| i.result == r.code).collect();
        if inds.is_empty() {
            continue; // IATI requires at least one indicator per result
        }
        x.push_str(&format!("<result type=\"2\" aggregation-status=\"false\"><title>{}</title>\n", narrative(&format!("{} — {}", r.code, r.title))));
        for i in inds {
            let measure = match i.unit {
                vigie_domain::framework::Unit::Number => "1",
                vigie_domain::framework::Unit::Percent => "2",
                vigie_domain::framework::Unit::YesNo | vigie_domain::framework::Unit::Text => "5",
            };
            x.push_str(&format!("<indicator measure=\"{measure}\"><title>{}</title>", narrative(&format!("{} — {}", i.code, i.label))));
            let by = i.baseline_year.unwrap_or(first - 1);
            match baseline_value(&i.baseline) {
                Some(v) => x.push_str(&format!("<baseline year=\"{by}\" value=\"{}\"/>", esc(&v))),
                None if !i.baseline_as_written.is_empty() => x.push_str(&format!("<baseline year=\"{by}\"><comment>{}</comment></baseline>", narrative(&i.baseline_as_written))),
                None => {}
            }
            for (y, t) in &i.targets {
                let tv = target_value(t);
                let av = actuals.get(&(i.code.to_string(), *y));
                if tv.is_none() && av.is_none() {
                    continue;
                }
                x.push_str(&format!("<period><period-start iso-date=\"{y}-01-01\"/><period-end iso-date=\"{y}-12-31\"/>"));
                if let Some(v) = tv {
                    x.push_str(&format!("<target value=\"{}\"/>", esc(&v)));
                }
                if let Some(a) = av {
                    x.push_str(&format!("<actual value=\"{}\"/>", esc(a)));
                }
                x.push_str("</period>");
            }
            x.push_str("</indicator>\n");
        }
        x.push_str("</result>\n");
    }
    x.push_str("</iati-activity>\n</iati-activities>\n");
    Ok(x)
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct YearQuery {
    /// Only this year's values (default: all)
    year: Option<i32>,
}

/// Actual values as a DHIS2 `dataValueSets` document: data element = indicator code, period in
/// DHIS2 form (2022, 2022S1, 2022Q3, 202207), org unit = area code, category option combo = slice.
#[utoipa::path(get, path = "/api/v1/programmes/{code}/dhis2/dataValueSets.json", tag = "results", params(("code" = String, Path), YearQuery),
    responses((status = 200, body = Object), (status = 403, body = crate::error::Problem)))]
async fn dhis2_values(State(s): State<AppState>, auth: Auth, Path(code): Path<String>, ApiQuery(q): ApiQuery<YearQuery>) -> Result<Json<serde_json::Value>, ApiError> {
    let p = programme_for(&s, &auth, &code, Permission::FrameworkRead).await?;
    let scope = auth.scope(Permission::FrameworkRead)?;
    let values: Vec<serde_json::Value> = results::actuals(&s.db, &p, &scope)
        .await?
        .into_iter()
        .filter(|a| q.year.is_none_or(|y| a.period.starts_with(&y.to_string())))
        .map(|a| {
            let mut v = serde_json::json!({
                "dataElement": format!("{}_{}", p.code, a.indicator_code),
                "period": a.period.replace('-', ""),
                "orgUnit": a.area_code,
                "value": a.value,
            });
            if !a.slice.is_empty() {
                v["categoryOptionCombo"] = serde_json::Value::String(a.slice.clone());
            }
            if let Some(n) = a.note {
                v["comment"] = serde_json::Value::String(n);
            }
            v
        })
        .collect();
    Ok(Json(serde_json::json!({ "dataSet": p.code, "dataValues": values })))
}

/// Public aggregates as HXL-tagged CSV: per indicator for a year and area, target, actual and
/// status (rolled-up figures only, no individual records).
#[utoipa::path(get, path = "/api/v1/programmes/{code}/public.hxl.csv", tag = "results", params(("code" = String, Path), ProgressQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = crate::error::Problem)))]
async fn hxl_csv(State(s): State<AppState>, auth: Auth, Path(code): Path<String>, ApiQuery(q): ApiQuery<ProgressQuery>) -> Result<Response, ApiError> {
    let p = programme_for(&s, &auth, &code, Permission::FrameworkRead).await?;
    let tb = tables(&s, &auth, &p, &q).await?;
    let area = q.area.clone().unwrap_or_else(|| p.area_code.clone());
    let mut w = csv::Writer::from_writer(Vec::new());
    let err = |_| ApiError::from(Msg::Internal);
    w.write_record(["Programme", "Zone", "Année", "Code", "Indicateur", "Cible", "Réalisé", "Statut"]).map_err(err)?;
    w.write_record(["#activity+code", "#adm1+code", "#date+year", "#indicator+code", "#indicator+name", "#targeted+num", "#reached+num", "#status"]).map_err(err)?;
    for r in &tb.progress {
        w.write_record([p.code.as_str(), area.as_str(), &q.year.to_string(), &r.code, &r.label, r.target.as_deref().unwrap_or(""), r.actual.as_deref().unwrap_or(""), &r.status]).map_err(err)?;
    }
    let _ = execution_rows;
    Ok(attachment("text/csv; charset=utf-8", format!("{}-{}.hxl.csv", p.code, q.year), w.into_inner().map_err(|_| ApiError::from(Msg::Internal))?))
}
