//! Statistical returns: periodic data sets an institution sends (police crime figures, court
//! statistics, prison registers), their submissions, and completeness and timeliness — who
//! has not reported this period.

use crate::audit::{self, Actor};
use crate::{run, run_tx, Db, StoreError, StoreResult};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use vigie_domain::area::AreaPath;
use vigie_domain::budget::money::{Dec, NumberStyle};
use vigie_domain::framework::{Code, FrameworkMsg};
use vigie_domain::{Invalid, Msg};

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReturnField {
    pub code: String,
    pub label: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDataset {
    pub code: String,
    pub name: String,
    pub org_id: i64,
    /// monthly or quarterly
    pub periodicity: String,
    /// Days after the end of the period for a return to count as on time.
    pub due_days: i64,
    pub fields: Vec<ReturnField>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct Dataset {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub org_id: i64,
    pub area_code: String,
    pub periodicity: String,
    pub due_days: i64,
    #[sqlx(skip)]
    pub fields: Vec<ReturnField>,
    #[serde(skip)]
    pub fields_json: String,
    #[serde(skip)]
    pub area_path: String,
}

const COLS: &str = "id, code, name, org_id, area_code, periodicity, due_days, fields AS fields_json, area_path";

pub async fn create_dataset(db: &Db, d: &NewDataset, actor: &Actor) -> StoreResult<Dataset> {
    let code = Code::parse(&d.code).map_err(|m| Invalid::new("code", Msg::from(m)))?;
    let name = vigie_domain::framework::parse_text(&d.name).map_err(|m| Invalid::new("name", Msg::from(m)))?;
    if !["monthly", "quarterly"].contains(&d.periodicity.as_str()) {
        return Err(Invalid::new("periodicity", Msg::InvalidPeriod).into());
    }
    if !(0..=365).contains(&d.due_days) {
        return Err(Invalid::new("due_days", Msg::InvalidPeriod).into());
    }
    if d.fields.is_empty() || d.fields.iter().any(|f| Code::parse(&f.code).is_err()) {
        return Err(Invalid::new("fields", Msg::Required).into());
    }
    let org: Option<(String, String)> = run!(&db.write, c => sqlx::query_as("SELECT o.area_code, a.path FROM organisations o JOIN areas a ON a.code = o.area_code WHERE o.id = $1").bind(d.org_id).fetch_optional(c).await?);
    let (area_code, area_path) = org.ok_or_else(|| Invalid::new("org_id", Msg::NotFound))?;
    let mut tx = db.begin().await?;
    let id: i64 = run_tx!(&mut tx, c => sqlx::query_scalar(
        "INSERT INTO return_datasets (code, name, org_id, area_code, area_path, periodicity, due_days, fields, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) RETURNING id"
    ).bind(code.as_str()).bind(&name).bind(d.org_id).bind(&area_code).bind(&area_path).bind(&d.periodicity).bind(d.due_days).bind(serde_json::to_string(&d.fields).unwrap()).bind(crate::now()).fetch_one(&mut **c).await?);
    audit::append(&mut tx, actor, "returns.dataset.create", "return_dataset", &id.to_string(), serde_json::json!({"code": code.as_str(), "org_id": d.org_id, "periodicity": d.periodicity})).await?;
    tx.commit().await?;
    dataset(db, code.as_str()).await
}

fn finish(mut d: Dataset) -> Dataset {
    d.fields = serde_json::from_str(&d.fields_json).unwrap_or_default();
    d
}

pub async fn dataset(db: &Db, code: &str) -> StoreResult<Dataset> {
    let d: Option<Dataset> = run!(&db.write, c => sqlx::query_as(&format!("SELECT {COLS} FROM return_datasets WHERE code = $1")).bind(code.trim().to_uppercase()).fetch_optional(c).await?);
    d.map(finish).ok_or(StoreError::NotFound)
}

pub async fn datasets(db: &Db, scope: &[AreaPath]) -> StoreResult<Vec<Dataset>> {
    let all: Vec<Dataset> = run!(&db.read, c => sqlx::query_as(&format!("SELECT {COLS} FROM return_datasets ORDER BY code")).fetch_all(c).await?);
    Ok(all.into_iter().map(finish).filter(|d| scope.iter().any(|s| s.contains(&AreaPath(d.area_path.clone())))).collect())
}

/// First day of the period and first day after it: `2026-03` (monthly), `2026-Q1` (quarterly).
pub fn period_bounds(periodicity: &str, period: &str) -> Result<(NaiveDate, NaiveDate), Msg> {
    let bad = || Msg::InvalidPeriod;
    let (y, rest) = period.trim().split_once('-').ok_or_else(bad)?;
    let year: i32 = y.parse().map_err(|_| bad())?;
    let (m0, len) = match periodicity {
        "monthly" => (rest.parse::<u32>().ok().filter(|m| (1..=12).contains(m)).ok_or_else(bad)?, 1),
        "quarterly" => {
            let q = rest.strip_prefix('Q').or_else(|| rest.strip_prefix('T')).and_then(|q| q.parse::<u32>().ok()).filter(|q| (1..=4).contains(q)).ok_or_else(bad)?;
            ((q - 1) * 3 + 1, 3)
        }
        _ => return Err(bad()),
    };
    let start = NaiveDate::from_ymd_opt(year, m0, 1).ok_or_else(bad)?;
    let end_m = m0 + len;
    let end = if end_m > 12 { NaiveDate::from_ymd_opt(year + 1, end_m - 12, 1) } else { NaiveDate::from_ymd_opt(year, end_m, 1) }.ok_or_else(bad)?;
    Ok((start, end))
}

fn canonical_period(periodicity: &str, period: &str) -> Result<String, Msg> {
    let (start, _) = period_bounds(periodicity, period)?;
    Ok(match periodicity {
        "monthly" => start.format("%Y-%m").to_string(),
        _ => format!("{}-Q{}", start.format("%Y"), (chrono::Datelike::month(&start) - 1) / 3 + 1),
    })
}

/// Records (or replaces) an institution's return for a period. Every value must be a number
/// for a field of the data set; the period must have started.
pub async fn submit(db: &Db, ds: &Dataset, period: &str, values: &serde_json::Map<String, serde_json::Value>, actor: &Actor, now: DateTime<Utc>) -> StoreResult<()> {
    let period = canonical_period(&ds.periodicity, period).map_err(|m| Invalid::new("period", m))?;
    let (start, _) = period_bounds(&ds.periodicity, &period).map_err(|m| Invalid::new("period", m))?;
    if start > now.date_naive() {
        return Err(Invalid::new("period", Msg::InvalidPeriod).into());
    }
    let mut errors = Vec::new();
    let mut data = serde_json::Map::new();
    for (k, v) in values {
        if !ds.fields.iter().any(|f| f.code.eq_ignore_ascii_case(k)) {
            errors.push(Invalid::new(k.clone(), Msg::NotFound));
            continue;
        }
        let raw = match v {
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        match Dec::parse(&raw, NumberStyle::Auto) {
            Ok(d) if !d.is_negative() => {
                data.insert(k.to_uppercase(), serde_json::Value::String(d.to_string()));
            }
            _ => errors.push(Invalid::new(k.clone(), Msg::from(FrameworkMsg::NotANumber { text: raw }))),
        }
    }
    if !errors.is_empty() {
        return Err(StoreError::InvalidMany(errors));
    }
    let mut tx = db.begin().await?;
    run_tx!(&mut tx, c => { sqlx::query(
        "INSERT INTO return_submissions (dataset_id, period, data, submitted_by, submitted_at) VALUES ($1,$2,$3,$4,$5) ON CONFLICT (dataset_id, period) DO UPDATE SET data = excluded.data, submitted_by = excluded.submitted_by, submitted_at = excluded.submitted_at"
    ).bind(ds.id).bind(&period).bind(serde_json::to_string(&data).unwrap()).bind(actor.id).bind(now).execute(&mut **c).await?; });
    audit::append(&mut tx, actor, "returns.submit", "return_dataset", &ds.id.to_string(), serde_json::json!({"period": period, "fields": data.len()})).await?;
    tx.commit().await
}

/// Where one data set stands for one period.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReturnStatus {
    pub dataset: String,
    pub name: String,
    pub org_id: i64,
    pub org_name: String,
    pub area_code: String,
    pub period: String,
    pub due: NaiveDate,
    /// on_time, late, overdue (due date passed, nothing received), pending (not due yet)
    pub status: String,
    pub submitted_at: Option<DateTime<Utc>>,
}

/// Completeness and timeliness for `period_of(date)` of every data set in scope: the last
/// complete period of each periodicity before `at` unless `period` is given.
pub async fn status(db: &Db, scope: &[AreaPath], period: Option<&str>, at: DateTime<Utc>) -> StoreResult<Vec<ReturnStatus>> {
    let mut out = Vec::new();
    for ds in datasets(db, scope).await? {
        let p = match period {
            Some(p) => match canonical_period(&ds.periodicity, p) {
                Ok(p) => p,
                Err(_) => continue, // a monthly period does not apply to a quarterly data set
            },
            None => {
                let d = at.date_naive();
                let prev = d - chrono::Duration::days(chrono::Datelike::day(&d) as i64); // last day of previous month
                match ds.periodicity.as_str() {
                    "monthly" => prev.format("%Y-%m").to_string(),
                    _ => {
                        let q = (chrono::Datelike::month(&d) - 1) / 3; // current quarter index 0..3
                        if q == 0 { format!("{}-Q4", chrono::Datelike::year(&d) - 1) } else { format!("{}-Q{}", chrono::Datelike::year(&d), q) }
                    }
                }
            }
        };
        let (_, end) = period_bounds(&ds.periodicity, &p).map_err(|m| StoreError::Invalid(Invalid::new("period", m)))?;
        let due = end + chrono::Duration::days(ds.due_days);
        let due_at = Utc.from_utc_datetime(&due.and_hms_opt(0, 0, 0).unwrap());
        let sub: Option<DateTime<Utc>> = run!(&db.read, c => sqlx::query_scalar("SELECT submitted_at FROM return_submissions WHERE dataset_id = $1 AND period = $2").bind(ds.id).bind(&p).fetch_optional(c).await?);
        let org_name: String = run!(&db.read, c => sqlx::query_scalar("SELECT name FROM organisations WHERE id = $1").bind(ds.org_id).fetch_one(c).await?);
        let status = match sub {
            Some(s) if s < due_at => "on_time",
            Some(_) => "late",
            None if at >= due_at => "overdue",
            None => "pending",
        };
        out.push(ReturnStatus { dataset: ds.code.clone(), name: ds.name.clone(), org_id: ds.org_id, org_name, area_code: ds.area_code.clone(), period: p, due, status: status.into(), submitted_at: sub });
    }
    Ok(out)
}
