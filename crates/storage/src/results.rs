//! Programmes and their results framework (results → outputs → indicators with baselines and
//! yearly targets), actual values per indicator × period × area (× disaggregation), and
//! progress against targets. Imports are all or nothing, in one transaction with their audit entry.

use crate::audit::{self, Actor};
use crate::{indicator_sources, run, run_tx, Db, StoreError, StoreResult};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use vigie_domain::area::{AreaCode, AreaPath};
use vigie_domain::budget::money::{Currency, Dec, NumberStyle, Ratio, RoundingMode};
use vigie_domain::budget::table::{CostRules, IndirectRates, ManagementRule};
use vigie_domain::framework::actuals::{indicator_values, progress, Actual, Period, ProgressOptions, Slice, Status};
use vigie_domain::framework::msg::Issue;
use vigie_domain::framework::source::IndicatorSource;
use vigie_domain::framework::{Code, Disaggregation, Framework, FrameworkMsg, Indicator, OutputNode, ProgrammePeriod, ResultNode, Unit};
use vigie_domain::{Invalid, LineError, Msg};

/// Import findings as line errors (the storage error of an import).
pub fn issues_to_lines(issues: Vec<Issue>) -> Vec<LineError> {
    issues.into_iter().map(|i| LineError { line: i.line, field: i.field, msg: Msg::from(i.msg) }).collect()
}

/// A refused import: every error with its line; nothing was written.
pub fn refused(issues: Vec<Issue>) -> StoreError {
    StoreError::Lines(issues_to_lines(issues))
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Programme {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub first_year: i64,
    pub last_year: i64,
    pub currency: String,
    pub area_code: String,
    /// Rates of the computed budget lines (GMS per agency and year, levy, management), as data.
    #[schema(value_type = Object)]
    pub cost_rules: CostRules,
    pub iati_identifier: Option<String>,
    pub reporting_org: Option<String>,
    #[serde(skip)]
    pub area_path: String,
}

impl Programme {
    pub fn period(&self) -> ProgrammePeriod {
        ProgrammePeriod::new(self.first_year as i32, self.last_year as i32).expect("checked at creation")
    }
    pub fn currency(&self) -> Currency {
        Currency::parse(&self.currency).expect("checked at creation")
    }
    pub fn path(&self) -> AreaPath {
        AreaPath(self.area_path.clone())
    }
}

/// Until configured, a budget has entered management costs and no indirect cost or levy:
/// rates are data ([`set_cost_rules`]), never assumed.
pub fn no_rules() -> CostRules {
    CostRules {
        management: ManagementRule::Entered,
        indirect: IndirectRates { default_rate: Ratio::from_int(0), by_agency: BTreeMap::new(), by_year: BTreeMap::new() },
        levy: None,
        rounding: RoundingMode::HalfUp,
        decimals: 0,
    }
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProgramme {
    pub code: String,
    pub name: String,
    pub first_year: i32,
    pub last_year: i32,
    /// ISO 4217 (USD, EUR, XOF…)
    pub currency: String,
    pub area_code: String,
    pub iati_identifier: Option<String>,
    pub reporting_org: Option<String>,
}

#[derive(sqlx::FromRow)]
struct ProgRow {
    id: i64,
    code: String,
    name: String,
    first_year: i64,
    last_year: i64,
    currency: String,
    area_code: String,
    cost_rules: String,
    iati_identifier: Option<String>,
    reporting_org: Option<String>,
    path: String,
}

impl ProgRow {
    fn into_programme(self) -> StoreResult<Programme> {
        let cost_rules = serde_json::from_str(&self.cost_rules).map_err(|e| StoreError::Other(format!("cost rules: {e}")))?;
        Ok(Programme {
            id: self.id,
            code: self.code,
            name: self.name,
            first_year: self.first_year,
            last_year: self.last_year,
            currency: self.currency,
            area_code: self.area_code,
            cost_rules,
            iati_identifier: self.iati_identifier,
            reporting_org: self.reporting_org,
            area_path: self.path,
        })
    }
}

const PROG_SELECT: &str = "SELECT p.id, p.code, p.name, p.first_year, p.last_year, p.currency, p.area_code, p.cost_rules, p.iati_identifier, p.reporting_org, a.path FROM programmes p JOIN areas a ON a.code = p.area_code";

pub async fn create_programme(db: &Db, p: &NewProgramme, actor: &Actor) -> StoreResult<Programme> {
    let code = Code::parse(&p.code).map_err(|m| Invalid::new("code", Msg::from(m)))?;
    let name = vigie_domain::framework::parse_text(&p.name).map_err(|m| Invalid::new("name", Msg::from(m)))?;
    ProgrammePeriod::new(p.first_year, p.last_year).map_err(|m| Invalid::new("last_year", Msg::from(m)))?;
    let currency = Currency::parse(&p.currency).map_err(|e| Invalid::new("currency", Msg::from(FrameworkMsg::Money(e))))?;
    let area = AreaCode::parse(&p.area_code).map_err(|m| Invalid::new("area_code", m))?;
    crate::areas::path_of(db, &area, "area_code").await?;
    let now = crate::now();
    let mut tx = db.begin().await?;
    let id: i64 = run_tx!(&mut tx, c => sqlx::query_scalar(
        "INSERT INTO programmes (code, name, first_year, last_year, currency, area_code, cost_rules, iati_identifier, reporting_org, created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$10) RETURNING id"
    ).bind(code.as_str()).bind(&name).bind(p.first_year as i64).bind(p.last_year as i64).bind(currency.code()).bind(area.as_str())
     .bind(serde_json::to_string(&no_rules()).unwrap()).bind(&p.iati_identifier).bind(&p.reporting_org).bind(now).fetch_one(&mut **c).await?);
    audit::append(&mut tx, actor, "programme.create", "programme", &id.to_string(), serde_json::json!({"code": code.as_str(), "period": [p.first_year, p.last_year], "currency": currency.code()})).await?;
    tx.commit().await?;
    programme(db, code.as_str()).await
}

pub async fn programme(db: &Db, code: &str) -> StoreResult<Programme> {
    let code = code.trim().to_uppercase();
    let r: Option<ProgRow> = run!(&db.write, c => sqlx::query_as(&format!("{PROG_SELECT} WHERE p.code = $1")).bind(&code).fetch_optional(c).await?);
    r.ok_or(StoreError::NotFound)?.into_programme()
}

pub async fn programmes(db: &Db) -> StoreResult<Vec<Programme>> {
    let rows: Vec<ProgRow> = run!(&db.read, c => sqlx::query_as(&format!("{PROG_SELECT} ORDER BY p.code")).fetch_all(c).await?);
    rows.into_iter().map(ProgRow::into_programme).collect()
}

/// Records the rates of the computed lines (from configuration or the programme document).
pub async fn set_cost_rules(db: &Db, prog: &Programme, rules: &CostRules, actor: &Actor) -> StoreResult<()> {
    let check = |r: &Ratio, field: &str| -> Result<(), Invalid> {
        if r.num() < 0 || r > &Ratio::from_int(1) {
            return Err(Invalid::new(field, Msg::from(FrameworkMsg::InvalidRate { text: format!("{}/{}", r.num(), r.den()) })));
        }
        Ok(())
    };
    check(&rules.indirect.default_rate, "indirect.default_rate")?;
    for r in rules.indirect.by_agency.values().chain(rules.indirect.by_year.values()) {
        check(r, "indirect")?;
    }
    if let Some(l) = &rules.levy {
        check(l, "levy")?;
    }
    let mut tx = db.begin().await?;
    run_tx!(&mut tx, c => { sqlx::query("UPDATE programmes SET cost_rules = $2, updated_at = $3 WHERE id = $1")
        .bind(prog.id).bind(serde_json::to_string(rules).unwrap()).bind(crate::now()).execute(&mut **c).await?; });
    audit::append(&mut tx, actor, "programme.cost_rules", "programme", &prog.id.to_string(), serde_json::to_value(rules).unwrap_or_default()).await?;
    tx.commit().await
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FrameworkImport {
    pub results: usize,
    pub outputs: usize,
    pub indicators: usize,
    pub created: usize,
    pub updated: usize,
}

/// Writes a parsed framework: results, outputs and indicators are created or updated by code
/// (actual values already entered stay attached). One transaction, one audit entry.
pub async fn import_framework(db: &Db, prog: &Programme, fw: &Framework, actor: &Actor) -> StoreResult<FrameworkImport> {
    if fw.period != prog.period() {
        return Err(Invalid::new("period", Msg::from(FrameworkMsg::InvalidProgrammePeriod)).into());
    }
    let now = crate::now();
    let mut tx = db.begin().await?;
    let (mut created, mut updated) = (0, 0);
    for (i, r) in fw.results.iter().enumerate() {
        run_tx!(&mut tx, c => { sqlx::query("INSERT INTO fw_results (programme_id, code, title, position) VALUES ($1,$2,$3,$4) ON CONFLICT (programme_id, code) DO UPDATE SET title = excluded.title, position = excluded.position")
            .bind(prog.id).bind(r.code.as_str()).bind(&r.title).bind(i as i64).execute(&mut **c).await?; });
    }
    for (i, o) in fw.outputs.iter().enumerate() {
        run_tx!(&mut tx, c => { sqlx::query("INSERT INTO fw_outputs (programme_id, code, result_code, title, position) VALUES ($1,$2,$3,$4,$5) ON CONFLICT (programme_id, code) DO UPDATE SET result_code = excluded.result_code, title = excluded.title, position = excluded.position")
            .bind(prog.id).bind(o.code.as_str()).bind(o.result.as_str()).bind(&o.title).bind(i as i64).execute(&mut **c).await?; });
    }
    for (i, ind) in fw.indicators.iter().enumerate() {
        let existed = save_indicator(&mut tx, prog.id, ind, None, i as i64, now).await?;
        if existed {
            updated += 1;
        } else {
            created += 1;
        }
    }
    audit::append(&mut tx, actor, "framework.import", "programme", &prog.id.to_string(), serde_json::json!({"results": fw.results.len(), "outputs": fw.outputs.len(), "indicators": fw.indicators.len(), "created": created, "updated": updated})).await?;
    tx.commit().await?;
    Ok(FrameworkImport { results: fw.results.len(), outputs: fw.outputs.len(), indicators: fw.indicators.len(), created, updated })
}

fn enum_text<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

/// Inserts or updates one indicator; returns whether it existed. `source: None` keeps the stored one.
async fn save_indicator(tx: &mut crate::Tx, programme_id: i64, ind: &Indicator, source: Option<&IndicatorSource>, position: i64, now: chrono::DateTime<chrono::Utc>) -> StoreResult<bool> {
    let existing: Option<(i64, String)> = run_tx!(tx, c => sqlx::query_as("SELECT id, source FROM fw_indicators WHERE programme_id = $1 AND code = $2").bind(programme_id).bind(ind.code.as_str()).fetch_optional(&mut **c).await?);
    let doc = serde_json::to_string(ind).unwrap();
    let src = match (source, &existing) {
        (Some(s), _) => serde_json::to_string(s).unwrap(),
        (None, Some((_, s))) => s.clone(),
        (None, None) => serde_json::to_string(&IndicatorSource::Manual).unwrap(),
    };
    match existing {
        Some((id, _)) => {
            run_tx!(tx, c => { sqlx::query("UPDATE fw_indicators SET result_code = $2, output_code = $3, label = $4, unit = $5, aggregation = $6, cumulative = $7, responsible = $8, source = $9, doc = $10, updated_at = $11 WHERE id = $1")
                .bind(id).bind(ind.result.as_str()).bind(ind.output.as_ref().map(|o| o.to_string())).bind(&ind.label).bind(enum_text(&ind.unit)).bind(enum_text(&ind.aggregation))
                .bind(enum_text(&ind.cumulative)).bind(&ind.responsible).bind(&src).bind(&doc).bind(now).execute(&mut **c).await?; });
            Ok(true)
        }
        None => {
            run_tx!(tx, c => { sqlx::query("INSERT INTO fw_indicators (programme_id, code, result_code, output_code, label, unit, aggregation, cumulative, responsible, source, doc, position, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)")
                .bind(programme_id).bind(ind.code.as_str()).bind(ind.result.as_str()).bind(ind.output.as_ref().map(|o| o.to_string())).bind(&ind.label).bind(enum_text(&ind.unit)).bind(enum_text(&ind.aggregation))
                .bind(enum_text(&ind.cumulative)).bind(&ind.responsible).bind(&src).bind(&doc).bind(position).bind(now).execute(&mut **c).await?; });
            Ok(false)
        }
    }
}

/// An indicator as stored, with where its values come from.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IndicatorView {
    pub id: i64,
    #[schema(value_type = Object)]
    pub indicator: Indicator,
    #[schema(value_type = Object)]
    pub source: IndicatorSource,
}

/// The whole framework of a programme, in import order, and its indicators with their sources.
pub async fn framework(db: &Db, prog: &Programme) -> StoreResult<(Framework, Vec<IndicatorView>)> {
    let results: Vec<(String, String)> = run!(&db.read, c => sqlx::query_as("SELECT code, title FROM fw_results WHERE programme_id = $1 ORDER BY position, id").bind(prog.id).fetch_all(c).await?);
    let outputs: Vec<(String, String, String)> = run!(&db.read, c => sqlx::query_as("SELECT code, result_code, title FROM fw_outputs WHERE programme_id = $1 ORDER BY position, id").bind(prog.id).fetch_all(c).await?);
    let inds: Vec<(i64, String, String)> = run!(&db.read, c => sqlx::query_as("SELECT id, doc, source FROM fw_indicators WHERE programme_id = $1 ORDER BY position, id").bind(prog.id).fetch_all(c).await?);
    let code = |s: &str| Code::parse(s).map_err(|_| StoreError::Other(format!("stored code {s}")));
    let mut views = Vec::new();
    for (id, doc, source) in inds {
        let indicator: Indicator = serde_json::from_str(&doc).map_err(|e| StoreError::Other(format!("indicator {id}: {e}")))?;
        let source: IndicatorSource = serde_json::from_str(&source).unwrap_or_default();
        views.push(IndicatorView { id, indicator, source });
    }
    let fw = Framework {
        period: prog.period(),
        results: results.iter().map(|(c, t)| Ok(ResultNode { code: code(c)?, title: t.clone(), line: 0 })).collect::<StoreResult<_>>()?,
        outputs: outputs.iter().map(|(c, r, t)| Ok(OutputNode { code: code(c)?, result: code(r)?, title: t.clone(), line: 0 })).collect::<StoreResult<_>>()?,
        indicators: views.iter().map(|v| v.indicator.clone()).collect(),
    };
    Ok((fw, views))
}

/// Creates or replaces one indicator (API edit), checked like an imported one.
pub async fn put_indicator(db: &Db, prog: &Programme, ind: &Indicator, source: Option<&IndicatorSource>, actor: &Actor) -> StoreResult<IndicatorView> {
    let (fw, _) = framework(db, prog).await?;
    if !fw.results.iter().any(|r| r.code == ind.result) {
        return Err(Invalid::new("result", Msg::from(FrameworkMsg::UnknownResult { code: ind.result.to_string() })).into());
    }
    if let Some(o) = &ind.output {
        match fw.outputs.iter().find(|x| &x.code == o) {
            None => return Err(Invalid::new("output", Msg::from(FrameworkMsg::UnknownOutput { code: o.to_string() })).into()),
            Some(x) if x.result != ind.result => {
                return Err(Invalid::new("output", Msg::from(FrameworkMsg::OutputOfOtherResult { output: o.to_string(), result: x.result.to_string() })).into())
            }
            _ => {}
        }
    }
    if let Some(y) = ind.targets.keys().find(|y| !prog.period().contains(**y)) {
        return Err(Invalid::new("targets", Msg::from(FrameworkMsg::TargetOutsidePeriod { year: *y, first: prog.period().first(), last: prog.period().last() })).into());
    }
    for t in ind.targets.values() {
        if let vigie_domain::framework::Target::Value { value, .. } = t {
            if ind.unit == Unit::Percent && *value > Dec::from_int(100) {
                return Err(Invalid::new("targets", Msg::from(FrameworkMsg::PercentAbove100 { text: value.to_string() })).into());
            }
        }
    }
    if let Some(s) = source {
        indicator_sources::check(s).map_err(|m| Invalid::new("source", m))?;
    }
    let pos = fw.indicators.iter().position(|i| i.code == ind.code).unwrap_or(fw.indicators.len()) as i64;
    let mut tx = db.begin().await?;
    let existed = save_indicator(&mut tx, prog.id, ind, source, pos, crate::now()).await?;
    audit::append(&mut tx, actor, if existed { "indicator.update" } else { "indicator.create" }, "indicator", &format!("{}/{}", prog.code, ind.code), serde_json::json!({"source": source})).await?;
    tx.commit().await?;
    let (_, views) = framework(db, prog).await?;
    views.into_iter().find(|v| v.indicator.code == ind.code).ok_or(StoreError::NotFound)
}

// ---------- actual values ----------

/// `sex=F`, `age_group=15-24`, `area=ML-5`, `other:fonction=juge`; '' for the total.
pub fn slice_key(d: &Option<(Disaggregation, String)>) -> String {
    match d {
        None => String::new(),
        Some((dim, cat)) => {
            let dim = match dim {
                Disaggregation::Sex => "sex".to_string(),
                Disaggregation::AgeGroup => "age_group".to_string(),
                Disaggregation::Area => "area".to_string(),
                Disaggregation::Other(n) => format!("other:{n}"),
            };
            format!("{dim}={cat}")
        }
    }
}

pub fn parse_slice(s: &str) -> Result<Option<(Disaggregation, String)>, FrameworkMsg> {
    if s.trim().is_empty() {
        return Ok(None);
    }
    let (dim, cat) = s.split_once('=').ok_or(FrameworkMsg::InvalidDisaggregation { text: s.to_string() })?;
    if cat.trim().is_empty() {
        return Err(FrameworkMsg::InvalidDisaggregation { text: s.to_string() });
    }
    Ok(Some((Disaggregation::parse(dim)?, cat.trim().to_string())))
}

/// One value to record.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActualInput {
    pub indicator_code: String,
    /// 2022, 2022-S1, 2022-Q3, 2022-07
    pub period: String,
    pub area_code: String,
    /// '' or absent for the total; `sex=F`, `age_group=15-24`, `other:fonction=juge`
    #[serde(default)]
    pub disaggregation: Option<String>,
    /// Exact decimal as text or number ("12", "45,5"); yes/no as 1/0 or oui/non.
    pub value: serde_json::Value,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct ActualView {
    pub indicator_code: String,
    pub period: String,
    pub area_code: String,
    pub slice: String,
    pub value: String,
    pub note: Option<String>,
    #[serde(skip)]
    pub area_path: String,
}

/// Records values (create or replace, by indicator × period × area × slice). Every value is
/// checked first: unknown indicator, computed indicator, year outside the programme, percent
/// above 100, text in a number; any error refuses them all. `may_write` decides, per area
/// path, whether the caller may enter values there (area-scoped permission).
pub async fn record_actuals(
    db: &Db,
    prog: &Programme,
    inputs: &[(usize, ActualInput)],
    may_write: &(dyn Fn(&AreaPath) -> bool + Send + Sync),
    actor: &Actor,
) -> StoreResult<usize> {
    let (_, views) = framework(db, prog).await?;
    let by_code: HashMap<&str, &IndicatorView> = views.iter().map(|v| (v.indicator.code.as_str(), v)).collect();
    let mut errors: Vec<Issue> = Vec::new();
    let mut ok = Vec::new();
    for (line, a) in inputs {
        let line = *line;
        let before = errors.len();
        let code = a.indicator_code.trim().trim_end_matches('.').to_uppercase();
        let view = by_code.get(code.as_str()).copied();
        match view {
            None => errors.push(Issue::error(line, "indicator_code", FrameworkMsg::UnknownIndicator { code: a.indicator_code.clone() })),
            Some(v) if v.source.is_computed() => errors.push(Issue::error(line, "indicator_code", FrameworkMsg::Common(Msg::Conflict))),
            _ => {}
        }
        let period = Period::parse(&a.period).map_err(|m| errors.push(Issue::error(line, "period", m))).ok();
        if let Some(p) = period {
            if !prog.period().contains(p.year()) {
                errors.push(Issue::error(line, "period", FrameworkMsg::TargetOutsidePeriod { year: p.year(), first: prog.period().first(), last: prog.period().last() }));
            }
        }
        let slice = parse_slice(a.disaggregation.as_deref().unwrap_or("")).map_err(|m| errors.push(Issue::error(line, "disaggregation", m))).ok();
        let raw = match &a.value {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::Bool(b) => (if *b { "1" } else { "0" }).to_string(),
            other => other.to_string(),
        };
        let value = view.and_then(|v| match parse_value(&raw, v.indicator.unit) {
            Ok(d) => Some(d),
            Err(m) => {
                errors.push(Issue::error(line, "value", m));
                None
            }
        });
        let area = match AreaCode::parse(&a.area_code) {
            Ok(c) => match crate::areas::path_of(db, &c, "area_code").await {
                Ok(p) => {
                    if !may_write(&p) {
                        errors.push(Issue::error(line, "area_code", FrameworkMsg::Common(Msg::OutsideArea)));
                    }
                    Some((c, p))
                }
                Err(_) => {
                    errors.push(Issue::error(line, "area_code", FrameworkMsg::Common(Msg::NotFound)));
                    None
                }
            },
            Err(m) => {
                errors.push(Issue::error(line, "area_code", FrameworkMsg::Common(m)));
                None
            }
        };
        if errors.len() == before {
            if let (Some(v), Some(p), Some(s), Some(val), Some((ac, ap))) = (view, period, slice, value, area) {
                ok.push((v.id, p, ac, ap, s, val, a.note.clone()));
            }
        }
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        return Err(refused(errors));
    }
    let now = crate::now();
    let mut tx = db.begin().await?;
    for (id, p, ac, ap, s, val, note) in &ok {
        run_tx!(&mut tx, c => { sqlx::query(
            "INSERT INTO fw_actuals (indicator_id, period, year, area_code, area_path, slice, value, note, entered_by, entered_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) \
             ON CONFLICT (indicator_id, period, area_code, slice) DO UPDATE SET value = excluded.value, note = excluded.note, entered_by = excluded.entered_by, entered_at = excluded.entered_at"
        ).bind(id).bind(p.to_string()).bind(p.year() as i64).bind(ac.as_str()).bind(&ap.0).bind(slice_key(s)).bind(val.to_string()).bind(note).bind(actor.id).bind(now).execute(&mut **c).await?; });
    }
    audit::append(&mut tx, actor, "actuals.record", "programme", &prog.id.to_string(), serde_json::json!({"values": ok.len()})).await?;
    tx.commit().await?;
    Ok(ok.len())
}

/// A measured value for an indicator of `unit`: percent ≤ 100, yes/no as 1/0.
pub fn parse_value(raw: &str, unit: Unit) -> Result<Dec, FrameworkMsg> {
    let t = raw.trim();
    match unit {
        Unit::Text => Err(FrameworkMsg::NotAggregable),
        Unit::YesNo => match t.to_lowercase().as_str() {
            "1" | "oui" | "yes" | "true" => Ok(Dec::from_int(1)),
            "0" | "non" | "no" | "false" => Ok(Dec::ZERO),
            _ => Err(FrameworkMsg::InvalidYesNo { text: t.to_string() }),
        },
        Unit::Number | Unit::Percent => {
            let v = Dec::parse(t.trim_end_matches('%').trim(), NumberStyle::Auto).map_err(|_| FrameworkMsg::NotANumber { text: t.to_string() })?;
            if unit == Unit::Percent && (v > Dec::from_int(100) || v.is_negative()) {
                return Err(FrameworkMsg::PercentAbove100 { text: t.to_string() });
            }
            Ok(v)
        }
    }
}

/// Entered values of a programme within `scope`.
pub async fn actuals(db: &Db, prog: &Programme, scope: &[AreaPath]) -> StoreResult<Vec<ActualView>> {
    let rows: Vec<ActualView> = run!(&db.read, c => sqlx::query_as(
        "SELECT i.code AS indicator_code, a.period, a.area_code, a.slice, a.value, a.note, a.area_path FROM fw_actuals a JOIN fw_indicators i ON i.id = a.indicator_id WHERE i.programme_id = $1 ORDER BY i.position, a.period, a.area_path, a.slice"
    ).bind(prog.id).fetch_all(c).await?);
    Ok(rows.into_iter().filter(|r| scope.iter().any(|s| s.contains(&AreaPath(r.area_path.clone())))).collect())
}

/// Entered values of one indicator within the subtree of `area`, as the domain reads them.
async fn manual_actuals(db: &Db, indicator_id: i64, code: &Code, area: &AreaPath) -> StoreResult<Vec<Actual>> {
    let (lo, hi) = area.descendant_range();
    let rows: Vec<(String, String, String, String)> = run!(&db.read, c => sqlx::query_as(
        "SELECT period, area_code, slice, value FROM fw_actuals WHERE indicator_id = $1 AND (area_path = $2 OR (area_path >= $3 AND area_path < $4))"
    ).bind(indicator_id).bind(&area.0).bind(lo).bind(hi).fetch_all(c).await?);
    let mut out = Vec::new();
    for (p, a, s, v) in rows {
        let bad = |w: &str| StoreError::Other(format!("stored actual {w}"));
        out.push(Actual {
            indicator: code.clone(),
            period: Period::parse(&p).map_err(|_| bad("period"))?,
            area: AreaCode::parse(&a).map_err(|_| bad("area"))?,
            disaggregation: parse_slice(&s).map_err(|_| bad("slice"))?,
            value: Dec::parse(&v, NumberStyle::English).map_err(|_| bad("value"))?,
        });
    }
    Ok(out)
}

/// child → parent for every area (the tree the roll-up follows).
pub async fn area_parents(db: &Db) -> StoreResult<HashMap<AreaCode, AreaCode>> {
    let rows: Vec<(String, Option<String>)> = run!(&db.read, c => sqlx::query_as("SELECT code, parent_code FROM areas").fetch_all(c).await?);
    Ok(rows
        .into_iter()
        .filter_map(|(c, p)| Some((AreaCode::parse(&c).ok()?, AreaCode::parse(&p?).ok()?)))
        .collect())
}

/// Progress of one indicator in one area and year, ready to show.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IndicatorProgress {
    pub code: String,
    pub label: String,
    pub result: String,
    pub output: Option<String>,
    pub unit: String,
    pub source: String,
    /// The target level for the year (a change applied to the baseline), exact, 2 decimals.
    pub target: Option<String>,
    pub actual: Option<String>,
    /// Share of the target achieved, in %, 1 decimal.
    pub achieved_pct: Option<String>,
    /// green, amber, red, no_target, no_data, no_baseline, ambiguous, not_measurable, error
    pub status: String,
    /// Why there is no figure (roll-up refused, computer failed), in French and English.
    pub problem: Option<String>,
    #[serde(skip)]
    pub achieved: Option<Ratio>,
}

fn ratio_text(r: &Ratio, decimals: u32) -> String {
    r.round(decimals, RoundingMode::HalfUp).map(|x| x.value.to_string()).unwrap_or_default()
}

/// Actual values of every indicator for `year` in `area` (its subtree rolled up), against targets.
pub async fn progress_report(db: &Db, prog: &Programme, year: i32, area: &AreaCode, opts: &ProgressOptions) -> StoreResult<Vec<IndicatorProgress>> {
    let path = crate::areas::path_of(db, area, "area").await?;
    let (_, views) = framework(db, prog).await?;
    let parents = area_parents(db).await?;
    let mut out = Vec::new();
    for v in &views {
        let ind = &v.indicator;
        let values = match &v.source {
            IndicatorSource::Manual => manual_actuals(db, v.id, &ind.code, &path).await.map_err(|e| e.to_string()),
            s => indicator_sources::compute(db, s, &indicator_sources::Request { programme: prog, indicator: ind, year, area: area.clone(), area_path: path.clone() })
                .await
                .map_err(|e| e.to_string()),
        };
        let mut problem = None;
        let actual = match values {
            Ok(vals) if ind.unit != Unit::Text => match indicator_values(ind, &vals, year, prog.period(), &parents, &Slice::Total) {
                Ok(m) => m.get(area).map(|v| v.value),
                Err(m) => {
                    problem = Some(format!("{} / {}", m.text(vigie_domain::Lang::Fr), m.text(vigie_domain::Lang::En)));
                    None
                }
            },
            Ok(_) => None,
            Err(e) => {
                problem = Some(e);
                None
            }
        };
        let p = progress(ind, year, actual, opts);
        let status = if problem.is_some() { "error".to_string() } else { enum_text(&p.status) };
        out.push(IndicatorProgress {
            code: ind.code.to_string(),
            label: ind.label.clone(),
            result: ind.result.to_string(),
            output: ind.output.as_ref().map(|o| o.to_string()),
            unit: enum_text(&ind.unit),
            source: match &v.source {
                IndicatorSource::Manual => "manual".into(),
                IndicatorSource::Computed { computer, .. } => computer.clone(),
            },
            target: p.target.as_ref().map(|t| ratio_text(t, 2)),
            actual: p.actual.as_ref().map(|a| ratio_text(a, 2)),
            achieved_pct: p.achieved.and_then(|a| a.to_percent().ok()).map(|x| ratio_text(&x, 1)),
            status,
            problem,
            achieved: p.achieved,
        });
        let _ = Status::NoData;
    }
    Ok(out)
}
