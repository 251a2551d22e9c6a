//! The one indicator interface for values Vigie computes from its own records. An indicator
//! whose source is `{"kind":"computed","computer":KEY,"params":{…}}` gets its actual values
//! from the computer registered under KEY, in the same shape as typed-in values (so roll-up,
//! targets and traffic lights work the same).
//!
//! To add a computer (committee meetings held, survey results…): write an
//! `async fn(&Db, &Params, &Request) -> StoreResult<Vec<Actual>>`, and add one line to
//! [`REGISTRY`] with its key, the params it requires and a FR/EN description. Nothing else changes.

use crate::results::Programme;
use crate::{run, Db, StoreError, StoreResult};
use chrono::{TimeZone, Utc};
use serde_json::{Map, Value};
use std::future::Future;
use std::pin::Pin;
use vigie_domain::area::{AreaCode, AreaPath};
use vigie_domain::budget::money::{Dec, NumberStyle, Ratio, RoundingMode};
use vigie_domain::framework::actuals::{Actual, Period};
use vigie_domain::framework::source::IndicatorSource;
use vigie_domain::framework::Indicator;
use vigie_domain::Msg;

/// What a computer is asked: the indicator's values for `year` in the subtree of `area`.
pub struct Request<'a> {
    pub programme: &'a Programme,
    pub indicator: &'a Indicator,
    pub year: i32,
    pub area: AreaCode,
    pub area_path: AreaPath,
}

pub type Params = Map<String, Value>;
type Fut<'a> = Pin<Box<dyn Future<Output = StoreResult<Vec<Actual>>> + Send + 'a>>;
pub type ComputeFn = for<'a> fn(&'a Db, &'a Params, &'a Request<'a>) -> Fut<'a>;

pub struct Computer {
    pub key: &'static str,
    pub required_params: &'static [&'static str],
    pub description_fr: &'static str,
    pub description_en: &'static str,
    pub compute: ComputeFn,
}

/// Every computer Vigie knows. Add yours at the end.
pub static REGISTRY: &[Computer] = &[
    Computer {
        key: "early_warning.prevented_share",
        required_params: &[],
        description_fr: "% des interventions après alerte précoce où la violence a été évitée ou arrêtée (MINUSMA)",
        description_en: "% of interventions after an early warning in which violence was prevented or stopped (MINUSMA)",
        compute: |db, p, r| Box::pin(prevented_share(db, p, r)),
    },
    Computer {
        key: "early_warning.alerts_raised",
        required_params: &[],
        description_fr: "Nombre d'alertes lancées dans l'année",
        description_en: "Number of alerts raised in the year",
        compute: |db, p, r| Box::pin(alerts_raised(db, p, r)),
    },
    Computer {
        key: "cases.count",
        required_params: &[],
        description_fr: "Nombre de dossiers ouverts dans l'année (params : workflow, state)",
        description_en: "Number of cases opened in the year (params: workflow, state)",
        compute: |db, p, r| Box::pin(cases_count(db, p, r)),
    },
    Computer {
        key: "returns.sum",
        required_params: &["dataset", "field"],
        description_fr: "Somme d'un champ des retours statistiques de l'année (params : dataset, field)",
        description_en: "Sum of a field of the year's statistical returns (params: dataset, field)",
        compute: |db, p, r| Box::pin(returns_sum(db, p, r)),
    },
    Computer {
        key: "committees.functional",
        required_params: &[],
        description_fr: "Nombre de comités fonctionnels (réunis au dernier trimestre) à la fin de l'année",
        description_en: "Number of functional committees (met in the last quarter) at the end of the year",
        compute: |db, p, r| Box::pin(committees(db, p, r, CommitteeFigure::Functional)),
    },
    Computer {
        key: "committees.women_share",
        required_params: &["among"],
        description_fr: "% de femmes parmi les membres ou les participants aux réunions (params : among = members | attendees)",
        description_en: "% of women among committee members or meeting attendees (params: among = members | attendees)",
        compute: |db, p, r| Box::pin(committees(db, p, r, CommitteeFigure::Women)),
    },
    Computer {
        key: "committees.youth_share",
        required_params: &["among"],
        description_fr: "% de jeunes parmi les membres ou les participants aux réunions (params : among = members | attendees)",
        description_en: "% of youth among committee members or meeting attendees (params: among = members | attendees)",
        compute: |db, p, r| Box::pin(committees(db, p, r, CommitteeFigure::Youth)),
    },
    Computer {
        key: "committees.decisions_on_time",
        required_params: &[],
        description_fr: "% des décisions de comité dues dans l'année mises en œuvre à temps",
        description_en: "% of committee decisions due in the year implemented on time",
        compute: |db, p, r| Box::pin(committees(db, p, r, CommitteeFigure::DecisionsOnTime)),
    },
];

pub fn computer(key: &str) -> Option<&'static Computer> {
    REGISTRY.iter().find(|c| c.key == key)
}

/// Checks that a source names a known computer with its required params.
pub fn check(source: &IndicatorSource) -> Result<(), Msg> {
    match source {
        IndicatorSource::Manual => Ok(()),
        IndicatorSource::Computed { computer: key, params } => {
            let c = computer(key).ok_or(Msg::NotFound)?;
            if c.required_params.iter().any(|p| !params.get(*p).is_some_and(|v| v.as_str().is_some_and(|s| !s.is_empty()))) {
                return Err(Msg::Required);
            }
            Ok(())
        }
    }
}

/// Values of a computed indicator (an empty list for a manual one).
pub async fn compute(db: &Db, source: &IndicatorSource, req: &Request<'_>) -> StoreResult<Vec<Actual>> {
    match source {
        IndicatorSource::Manual => Ok(Vec::new()),
        IndicatorSource::Computed { computer: key, params } => {
            let c = computer(key).ok_or_else(|| StoreError::Other(format!("unknown indicator computer {key}")))?;
            (c.compute)(db, params, req).await
        }
    }
}

fn year_bounds(year: i32) -> (chrono::DateTime<Utc>, chrono::DateTime<Utc>) {
    (Utc.with_ymd_and_hms(year, 1, 1, 0, 0, 0).unwrap(), Utc.with_ymd_and_hms(year + 1, 1, 1, 0, 0, 0).unwrap())
}

fn one(req: &Request<'_>, value: Dec) -> Vec<Actual> {
    vec![Actual { indicator: req.indicator.code.clone(), period: Period::Year { year: req.year }, area: req.area.clone(), disaggregation: None, value }]
}

async fn prevented_share(db: &Db, _p: &Params, req: &Request<'_>) -> StoreResult<Vec<Actual>> {
    let (from, to) = year_bounds(req.year);
    let period = vigie_domain::early_warning::indicators::Period::new(from, to).map_err(|e| StoreError::Other(format!("{e:?}")))?;
    let ind = crate::alerts::indicators(db, &req.area_path, period, crate::now()).await?;
    let i = &ind.interventions;
    let good = (i.prevented + i.stopped) as i128;
    let known = good + i.not_prevented as i128;
    if known == 0 {
        return Ok(Vec::new());
    }
    let pct = Ratio::new(good * 100, known).and_then(|r| r.round(2, RoundingMode::HalfUp)).map_err(|e| StoreError::Other(format!("{e:?}")))?;
    Ok(one(req, pct.value))
}

async fn alerts_raised(db: &Db, _p: &Params, req: &Request<'_>) -> StoreResult<Vec<Actual>> {
    let (from, to) = year_bounds(req.year);
    let period = vigie_domain::early_warning::indicators::Period::new(from, to).map_err(|e| StoreError::Other(format!("{e:?}")))?;
    let ind = crate::alerts::indicators(db, &req.area_path, period, crate::now()).await?;
    Ok(one(req, Dec::from_int(ind.alerts_raised as i64)))
}

async fn cases_count(db: &Db, p: &Params, req: &Request<'_>) -> StoreResult<Vec<Actual>> {
    let (from, to) = year_bounds(req.year);
    let (lo, hi) = req.area_path.descendant_range();
    let workflow = p.get("workflow").and_then(Value::as_str).unwrap_or("");
    let state = p.get("state").and_then(Value::as_str).unwrap_or("");
    // Timestamps are stored as text on SQLite and timestamptz on PostgreSQL: bind each its way.
    let n: i64 = match &db.read {
        crate::Pool::Sqlite(c) => sqlx::query_scalar(
            "SELECT COUNT(*) FROM cases WHERE (area_path = $1 OR (area_path >= $2 AND area_path < $3)) AND ($4 = '' OR workflow = $4) AND ($5 = '' OR state = $5) AND opened_at >= $6 AND opened_at < $7",
        )
        .bind(&req.area_path.0).bind(&lo).bind(&hi).bind(workflow).bind(state).bind(from).bind(to).fetch_one(c).await?,
        crate::Pool::Postgres(c) => sqlx::query_scalar(
            "SELECT COUNT(*) FROM cases WHERE (area_path = $1 OR (area_path >= $2 AND area_path < $3)) AND ($4 = '' OR workflow = $4) AND ($5 = '' OR state = $5) AND opened_at >= $6 AND opened_at < $7",
        )
        .bind(&req.area_path.0).bind(&lo).bind(&hi).bind(workflow).bind(state).bind(from).bind(to).fetch_one(c).await?,
    };
    Ok(one(req, Dec::from_int(n)))
}

async fn returns_sum(db: &Db, p: &Params, req: &Request<'_>) -> StoreResult<Vec<Actual>> {
    let dataset = p.get("dataset").and_then(Value::as_str).unwrap_or("");
    let field = p.get("field").and_then(Value::as_str).unwrap_or("");
    let (lo, hi) = req.area_path.descendant_range();
    let rows: Vec<(String, String)> = run!(&db.read, c => sqlx::query_as(
        "SELECT s.period, s.data FROM return_submissions s JOIN return_datasets d ON d.id = s.dataset_id WHERE d.code = $1 AND (d.area_path = $2 OR (d.area_path >= $3 AND d.area_path < $4))"
    ).bind(dataset).bind(&req.area_path.0).bind(lo).bind(hi).fetch_all(c).await?);
    let mut total = Dec::ZERO;
    let mut any = false;
    for (period, data) in rows {
        if !period.starts_with(&format!("{}-", req.year)) {
            continue;
        }
        let data: Map<String, Value> = serde_json::from_str(&data).unwrap_or_default();
        if let Some(v) = data.get(field).and_then(Value::as_str) {
            let d = Dec::parse(v, NumberStyle::English).map_err(|_| StoreError::Other(format!("stored return value {v}")))?;
            total = total.checked_add(&d).ok_or_else(|| StoreError::Other("overflow".into()))?;
            any = true;
        }
    }
    Ok(if any { one(req, total) } else { Vec::new() })
}

#[derive(Clone, Copy)]
enum CommitteeFigure {
    Functional,
    Women,
    Youth,
    DecisionsOnTime,
}

/// Committee figures (issue 9) for the year, from `governance::indicators`: the same numbers
/// the committee pages and `/api/v1/indicators/governance` show.
async fn committees(db: &Db, p: &Params, req: &Request<'_>, figure: CommitteeFigure) -> StoreResult<Vec<Actual>> {
    use chrono::NaiveDate;
    let (from, to) = (NaiveDate::from_ymd_opt(req.year, 1, 1).unwrap(), NaiveDate::from_ymd_opt(req.year, 12, 31).unwrap());
    let period = crate::governance::DayPeriod::new(from, to).map_err(|e| StoreError::Other(format!("{e:?}")))?;
    let today = crate::now().date_naive();
    if today < from {
        return Ok(Vec::new());
    }
    let g = crate::governance::indicators(db, &req.area_path, period, today.min(to)).await?;
    let members = p.get("among").and_then(Value::as_str) != Some("attendees");
    let ratio = match figure {
        CommitteeFigure::Functional => return Ok(one(req, Dec::from_int(g.functional_committees as i64))),
        CommitteeFigure::Women if members => &g.women_among_members,
        CommitteeFigure::Women => &g.women_among_attendees,
        CommitteeFigure::Youth if members => &g.youth_among_members,
        CommitteeFigure::Youth => &g.youth_among_attendees,
        CommitteeFigure::DecisionsOnTime => &g.decisions_on_time,
    };
    if ratio.denominator == 0 {
        return Ok(Vec::new());
    }
    let pct = Ratio::new(ratio.numerator as i128 * 100, ratio.denominator as i128)
        .and_then(|r| r.round(2, RoundingMode::HalfUp))
        .map_err(|e| StoreError::Other(format!("{e:?}")))?;
    Ok(one(req, pct.value))
}
