//! `vigie bench …`: what the benchmarks in `bench/` need from the binary (issue 11).
//!
//! - `generate`: deterministic synthetic reports and alerts over N years across the whole area
//!   tree (the demo tree, widened to ~700 communes like Mali's), bulk-inserted (many rows per
//!   statement, many statements per transaction), then the pre-aggregated counters rebuilt.
//! - `analytics`: times the dashboard's queries in-process, as the server runs them.
//! - `dump`: writes the reports and alert facts as CSV, for the DuckDB baseline (Parquet).
//!
//! The same seed gives the same rows, byte for byte (except the random encryption of nothing:
//! synthetic reports carry no contact).

use anyhow::Context;
use chrono::{DateTime, Duration, TimeZone, Utc};
use clap::{Arg, ArgMatches, Command};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::process::ExitCode;
use std::time::Instant;
use vigie_domain::area::AreaPath;
use vigie_domain::early_warning::alert::{Alert, AlertCommand, AlertState, EscalationEntry, EscalationKind, Outcome, ResponseAction};
use vigie_domain::early_warning::taxonomy::{CategoryCode, Severity};
use vigie_domain::Lang;
use vigie_storage::alert_facts::AlertFacts;
use vigie_storage::audit::Actor;
use vigie_storage::{run, run_tx, Db};

fn t(lang: Lang, fr: &'static str, en: &'static str) -> &'static str {
    if lang == Lang::Fr {
        fr
    } else {
        en
    }
}

pub fn command(lang: Lang) -> Command {
    Command::new("bench")
        .about(t(lang, "Outils des bancs d'essai (bench/) : données synthétiques, requêtes chronométrées", "Benchmark tools (bench/): synthetic data, timed queries"))
        .subcommand_required(true)
        .subcommand(
            Command::new("generate")
                .about(t(lang, "Génère des signalements et alertes synthétiques (déterministes)", "Generate synthetic reports and alerts (deterministic)"))
                .arg(Arg::new("reports").long("reports").value_parser(clap::value_parser!(u64)).default_value("100000").help(t(lang, "Nombre de signalements", "Number of reports")))
                .arg(Arg::new("years").long("years").value_parser(clap::value_parser!(u32)).default_value("5").help(t(lang, "Années couvertes", "Years covered")))
                .arg(Arg::new("seed").long("seed").value_parser(clap::value_parser!(u64)).default_value("42").help(t(lang, "Graine du générateur", "Generator seed")))
                .arg(Arg::new("communes").long("communes").value_parser(clap::value_parser!(usize)).default_value("700").help(t(lang, "Communes de l'arbre (complété si besoin)", "Communes in the tree (added if needed)"))),
        )
        .subcommand(
            Command::new("analytics")
                .about(t(lang, "Chronomètre les requêtes du tableau de bord (JSON sur la sortie)", "Time the dashboard queries (JSON on stdout)"))
                .arg(Arg::new("repeat").long("repeat").value_parser(clap::value_parser!(usize)).default_value("5").help(t(lang, "Répétitions par requête (médiane)", "Repetitions per query (median)")))
                .arg(Arg::new("raw").long("raw").action(clap::ArgAction::SetTrue).help(t(lang, "Chronomètre aussi les requêtes sans pré-agrégats (avant/après)", "Also time the queries without pre-aggregates (before/after)"))),
        )
        .subcommand(
            Command::new("dump")
                .about(t(lang, "Écrit signalements et faits d'alertes en CSV (référence DuckDB)", "Write reports and alert facts as CSV (DuckDB baseline)"))
                .arg(Arg::new("out").long("out").required(true).value_name("DIR")),
        )
}

pub async fn run(lang: Lang, db: &Db, m: &ArgMatches) -> anyhow::Result<ExitCode> {
    match m.subcommand() {
        Some(("generate", g)) => {
            let spec = Spec {
                reports: *g.get_one::<u64>("reports").unwrap(),
                years: *g.get_one::<u32>("years").unwrap(),
                seed: *g.get_one::<u64>("seed").unwrap(),
                communes: *g.get_one::<usize>("communes").unwrap(),
            };
            let started = Instant::now();
            let (reports, alerts) = generate(db, &spec).await?;
            let secs = started.elapsed().as_secs_f64();
            println!(
                "{}",
                serde_json::json!({"reports": reports, "alerts": alerts, "seconds": secs, "rows_per_second": ((reports + alerts) as f64 / secs).round()})
            );
            Ok(ExitCode::SUCCESS)
        }
        Some(("analytics", a)) => {
            let out = time_queries(db, *a.get_one::<usize>("repeat").unwrap(), a.get_flag("raw")).await?;
            println!("{}", serde_json::to_string_pretty(&out)?);
            Ok(ExitCode::SUCCESS)
        }
        Some(("dump", d)) => {
            let dir = std::path::PathBuf::from(d.get_one::<String>("out").unwrap());
            std::fs::create_dir_all(&dir).with_context(|| dir.display().to_string())?;
            let (r, a) = dump(db, &dir).await?;
            eprintln!("{}", if lang == Lang::Fr { format!("{r} signalements, {a} alertes écrits dans {}", dir.display()) } else { format!("{r} reports, {a} alerts written to {}", dir.display()) });
            Ok(ExitCode::SUCCESS)
        }
        _ => anyhow::bail!("unknown bench command"),
    }
}

pub struct Spec {
    pub reports: u64,
    pub years: u32,
    pub seed: u64,
    pub communes: usize,
}

/// The generated history ends here (fixed, so a seed always gives the same data).
pub fn end_of_history() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).single().unwrap()
}

/// Loads the demo tree and widens it to `communes` communes under its cercles.
async fn area_tree(db: &Db, communes: usize) -> anyhow::Result<Vec<(String, String)>> {
    crate::demo::load(db).await?;
    let rows: Vec<(String, String, String)> = run!(&db.write, c => sqlx::query_as("SELECT code, path, level FROM areas ORDER BY path").fetch_all(c).await?);
    let have = rows.iter().filter(|r| r.2 == "commune").count();
    if have < communes {
        let cercles: Vec<&(String, String, String)> = rows.iter().filter(|r| r.2 == "cercle").collect();
        anyhow::ensure!(!cercles.is_empty(), "no cercle to hang communes on");
        let mut csv = String::from("code,parent,level,name,tags,lat,lon\n");
        for i in 0..(communes - have) {
            let parent = &cercles[i % cercles.len()].0;
            csv.push_str(&format!("{parent}-B{i:03},{parent},commune,Commune synthétique {i},bench,,\n"));
        }
        let parsed = vigie_domain::import::areas::parse(vigie_domain::import::areas::Format::Csv, csv.as_bytes())
            .map_err(|e| anyhow::anyhow!("synthetic communes: {e:?}"))?;
        vigie_storage::areas::import(db, &parsed, &Actor::system("bench")).await.map_err(|e| anyhow::anyhow!("synthetic communes: {e:?}"))?;
    }
    let leaves: Vec<(String, String)> = run!(&db.write, c => sqlx::query_as("SELECT code, path FROM areas WHERE level = 'commune' ORDER BY path").fetch_all(c).await?);
    Ok(leaves)
}

struct ReportRow {
    key: String,
    reference: String,
    alert_id: Option<i64>,
    received_at: DateTime<Utc>,
    occurred_at: DateTime<Utc>,
    category: String,
    severity: i32,
    text: String,
    area: Option<(String, String)>,
    verification: &'static str,
    verified_at: Option<DateTime<Utc>>,
}

struct AlertRow {
    id: i64,
    alert: Alert,
    area_code: String,
    title: String,
    wake_at: Option<DateTime<Utc>>,
}

const TEXTS: [&str; 6] = [
    "Hommes armés signalés près du marché",
    "Tension entre éleveurs et agriculteurs au point d'eau",
    "Engin explosif suspect sur la route",
    "Vol de bétail pendant la nuit",
    "Rassemblement inhabituel près de l'école",
    "Menaces contre le chef de village",
];

/// Generates and inserts the rows; returns (reports, alerts).
pub async fn generate(db: &Db, spec: &Spec) -> anyhow::Result<(u64, u64)> {
    let leaves = area_tree(db, spec.communes).await?;
    let cats: Vec<(String, bool)> = run!(&db.write, c => sqlx::query_as("SELECT code, protected FROM categories WHERE active ORDER BY code").fetch_all(c).await?);
    let open_cats: Vec<&String> = cats.iter().filter(|c| !c.1).map(|c| &c.0).collect();
    let protected_cats: Vec<&String> = cats.iter().filter(|c| c.1).map(|c| &c.0).collect();
    anyhow::ensure!(!open_cats.is_empty(), "no category");
    let first_alert: i64 = run!(&db.write, c => sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(id) FROM alerts").fetch_one(c).await?).unwrap_or(0) + 1;
    let first_report: i64 = run!(&db.write, c => sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(id) FROM reports").fetch_one(c).await?).unwrap_or(0) + 1;

    if db.backend == vigie_storage::Backend::Sqlite {
        // A bulk load touches the same index pages again and again: keep 256 MB of them.
        run!(&db.write, c => { sqlx::query("PRAGMA cache_size = -262144").execute(c).await?; });
    }
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let end = end_of_history();
    let start = end - Duration::days(365 * spec.years as i64);
    let span = (end - start).num_seconds();
    // On PostgreSQL, reports are partitioned by month: make the months of the history first.
    vigie_storage::partitions::ensure_months(db, start.date_naive(), end.date_naive()).await?;
    let mut reports: Vec<ReportRow> = Vec::with_capacity(20_000);
    let mut alerts: Vec<AlertRow> = Vec::with_capacity(12_000);
    let (mut n_reports, mut n_alerts) = (0u64, 0u64);
    let mut next_alert = first_alert;
    while n_reports < spec.reports {
        // Reports arrive in time order over the period; each opens an event or joins it.
        let at = start + Duration::seconds(span * n_reports as i64 / spec.reports as i64 + rng.gen_range(0..60));
        let (code, path) = leaves[rng.gen_range(0..leaves.len())].clone();
        let roll: f64 = rng.gen();
        if roll < 0.04 && !protected_cats.is_empty() {
            // Protected workflows (abuse by security forces, GBV): no event, never in the open feed.
            let cat = protected_cats[rng.gen_range(0..protected_cats.len())].clone();
            let mut row = report_row(spec.seed, n_reports + first_report as u64, None, at, &mut rng, cat, 3, Some((code, path)), false);
            row.text = vigie_storage::reports::sealed_text(db, &row.reference, &row.text)?; // as intake stores it
            reports.push(row);
            n_reports += 1;
        } else {
            let cat = open_cats[rng.gen_range(0..open_cats.len())].clone();
            let severity = Severity::from_level(rng.gen_range(1..=4)).unwrap();
            let area = if roll > 0.99 { None } else { Some((code.clone(), path.clone())) };
            let alert = lifecycle(next_alert, &cat, severity, area.as_ref().map(|a| a.1.clone()).unwrap_or_default(), at, end, &mut rng);
            let verified = alert.verified_at.is_some();
            let k = 1 + (rng.gen::<f64>() < 0.4) as u64 + (rng.gen::<f64>() < 0.2) as u64;
            for j in 0..k.min(spec.reports - n_reports) {
                let received = at + Duration::seconds(j as i64 * rng.gen_range(60..6 * 3600));
                let received = received.min(end - Duration::seconds(1));
                let row = report_row(spec.seed, n_reports + first_report as u64, Some(next_alert), received, &mut rng, cat.clone(), severity.level() as i32, area.clone(), verified && j == 0);
                reports.push(ReportRow { verified_at: if verified && j == 0 { alert.verified_at } else { None }, ..row });
                n_reports += 1;
            }
            let title = format!("{} ({})", TEXTS[(next_alert as usize) % TEXTS.len()], cat);
            let wake_at = (alert.state == AlertState::Alerted).then(|| alert.alerted_at.unwrap() + Duration::minutes(30));
            alerts.push(AlertRow { id: next_alert, alert, area_code: area.map(|a| a.0).unwrap_or_default(), title, wake_at });
            next_alert += 1;
            n_alerts += 1;
        }
        if reports.len() >= 20_000 {
            flush(db, &mut alerts, &mut reports).await?;
        }
    }
    flush(db, &mut alerts, &mut reports).await?;
    if db.backend == vigie_storage::Backend::Postgres {
        run!(&db.write, c => {
            sqlx::query("SELECT setval(pg_get_serial_sequence('alerts', 'id'), (SELECT MAX(id) FROM alerts))").execute(c).await?;
            sqlx::query("SELECT setval(pg_get_serial_sequence('reports', 'id'), (SELECT MAX(id) FROM reports))").execute(c).await?;
            sqlx::query("ANALYZE").execute(c).await?;
        });
    } else {
        run!(&db.write, c => { sqlx::query("ANALYZE").execute(c).await?; });
    }
    vigie_storage::counters::rebuild(db).await?;
    let mut tx = db.begin().await?;
    vigie_storage::audit::append(&mut tx, &Actor::system("bench"), "bench.generate", "reports", "", serde_json::json!({"reports": n_reports, "alerts": n_alerts, "seed": spec.seed, "years": spec.years})).await?;
    tx.commit().await?;
    Ok((n_reports, n_alerts))
}

#[allow(clippy::too_many_arguments)]
fn report_row(seed: u64, n: u64, alert_id: Option<i64>, received_at: DateTime<Utc>, rng: &mut StdRng, category: String, severity: i32, area: Option<(String, String)>, verified: bool) -> ReportRow {
    // References must be unique: derive them from the row number rather than drawing them.
    let b = (n ^ (seed << 32)).to_be_bytes();
    ReportRow {
        key: format!("bench-{seed}-{n}"),
        reference: vigie_domain::sms::RefCode::from_bytes([b[3], b[4], b[5], b[6], b[7]]).to_string(),
        alert_id,
        received_at,
        occurred_at: received_at - Duration::minutes(rng.gen_range(0..180)),
        category,
        severity,
        text: TEXTS[rng.gen_range(0..TEXTS.len())].to_string(),
        area,
        verification: if verified { "verified" } else { "pending" },
        verified_at: None,
    }
}

/// An event's life as the domain would have recorded it: verified, raised, acknowledged within
/// or after the deadline, responded to, closed with an outcome — or stopped part-way when recent.
fn lifecycle(id: i64, cat: &str, severity: Severity, path: String, at: DateTime<Utc>, end: DateTime<Utc>, rng: &mut StdRng) -> Alert {
    let mut a = Alert::new(id, CategoryCode::parse(cat).expect("category code"), severity, AreaPath(path), at);
    let mut now = at;
    let step = |a: &mut Alert, cmd: AlertCommand, after: Duration, now: &mut DateTime<Utc>| -> bool {
        let t = *now + after;
        if t >= end {
            return false;
        }
        *now = t;
        a.apply(cmd, Some(1), t).is_ok()
    };
    let r: f64 = rng.gen();
    if r < 0.05 {
        step(&mut a, AlertCommand::MarkFalseAlarm, Duration::minutes(rng.gen_range(10..600)), &mut now);
        return a;
    }
    if r < 0.08 {
        step(&mut a, AlertCommand::Cancel { reason: "doublon".into() }, Duration::minutes(rng.gen_range(10..600)), &mut now);
        return a;
    }
    if !step(&mut a, AlertCommand::Verify, Duration::minutes(rng.gen_range(5..360)), &mut now) || rng.gen::<f64>() < 0.3 {
        return a;
    }
    if !step(&mut a, AlertCommand::Raise, Duration::minutes(rng.gen_range(1..180)), &mut now) {
        return a;
    }
    let deadline = now + Duration::minutes(30);
    let _ = a.record_escalation(EscalationEntry { level: 0, at: now, kind: EscalationKind::Notified { deadline } });
    if rng.gen::<f64>() < 0.1 || !step(&mut a, AlertCommand::Acknowledge { level: Some(0) }, Duration::seconds(rng.gen_range(60..5400)), &mut now) {
        return a;
    }
    if !step(&mut a, AlertCommand::Respond { actions: vec![ResponseAction::PatrolDeployed] }, Duration::minutes(rng.gen_range(10..480)), &mut now) {
        return a;
    }
    let outcome = match rng.gen_range(0..10) {
        0..=3 => Outcome::ViolencePrevented,
        4..=5 => Outcome::ViolenceStopped,
        6..=7 => Outcome::ViolenceNotPrevented,
        8 => Outcome::FalseAlarm,
        _ => Outcome::Unknown,
    };
    step(&mut a, AlertCommand::Close { outcome }, Duration::hours(rng.gen_range(1..72)), &mut now);
    a
}

fn placeholders(rows: usize, cols: usize) -> String {
    let mut s = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        if r > 0 {
            s.push(',');
        }
        s.push('(');
        for c in 0..cols {
            if c > 0 {
                s.push(',');
            }
            s.push_str(&format!("${}", r * cols + c + 1));
        }
        s.push(')');
    }
    s
}

/// Rows per INSERT: SQLite looks bound parameters up by name in a linear list, so a statement
/// costs the square of its parameters (1,000 rows × 24 columns spent 90 % of the time there).
const ROWS_PER_STATEMENT: usize = 100;

/// Writes the buffered alerts then reports: one transaction, [`ROWS_PER_STATEMENT`] rows per statement.
async fn flush(db: &Db, alerts: &mut Vec<AlertRow>, reports: &mut Vec<ReportRow>) -> anyhow::Result<()> {
    let mut tx = db.begin().await?;
    for chunk in alerts.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO alerts (id, category_code, severity, area_code, area_path, state, title, reported_at, alerted_at, closed_at, outcome, needs_attention, wake_at, doc, updated_at, \
             acknowledged_at, responded_at, first_deadline, ack_in_time, withdrawn_in_time, responded, report_to_alert_ns, alert_to_response_ns, facts) VALUES {}",
            placeholders(chunk.len(), 24)
        );
        run_tx!(&mut tx, c => {
            let mut q = sqlx::query(&sql);
            for r in chunk {
                let a = &r.alert;
                let outcome = a.outcome.map(|o| serde_json::to_value(o).unwrap().as_str().unwrap().to_string());
                let path = (!a.area.0.is_empty()).then(|| a.area.0.clone());
                q = q.bind(r.id).bind(a.category.as_str()).bind(a.severity.level() as i32).bind((!r.area_code.is_empty()).then(|| r.area_code.clone()))
                    .bind(path).bind(a.state.as_str()).bind(&r.title).bind(a.reported_at).bind(a.alerted_at).bind(a.closed_at).bind(outcome)
                    .bind(false).bind(r.wake_at).bind(serde_json::to_string(a).unwrap()).bind(a.last_step_at());
                q = vigie_storage::bind_facts!(q, &AlertFacts::of(a)).bind(1);
            }
            q.execute(&mut **c).await?;
        });
    }
    for chunk in reports.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO reports (idempotency_key, reference, alert_id, received_at, occurred_at, category_code, severity, text, area_code, area_path, \
             reporter_kind, channel, language, flags, verification, verified_at) VALUES {}",
            placeholders(chunk.len(), 16)
        );
        run_tx!(&mut tx, c => {
            let mut q = sqlx::query(&sql);
            for r in chunk {
                q = q.bind(&r.key).bind(&r.reference).bind(r.alert_id).bind(r.received_at).bind(r.occurred_at).bind(&r.category).bind(r.severity)
                    .bind(&r.text).bind(r.area.as_ref().map(|a| a.0.clone())).bind(r.area.as_ref().map(|a| a.1.clone()))
                    .bind("focal_point").bind(if r.key.len() % 3 == 0 { "sms" } else { "web" }).bind("fr")
                    .bind(if r.area.is_none() { "[\"place_name_to_resolve\"]" } else { "[]" }).bind(r.verification).bind(r.verified_at);
            }
            q.execute(&mut **c).await?;
        });
    }
    tx.commit().await?;
    alerts.clear();
    reports.clear();
    Ok(())
}

/// Median wall time of `repeat` runs of `f`, in milliseconds.
async fn timed<T, F, Fut>(repeat: usize, mut f: F) -> anyhow::Result<(f64, T)>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = vigie_storage::StoreResult<T>>,
{
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..repeat.max(1) {
        let s = Instant::now();
        last = Some(f().await?);
        times.push(s.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    Ok((times[times.len() / 2], last.unwrap()))
}

/// The dashboard's queries for a national reader (the widest scope, the worst case) and for a
/// regional analyst (Mopti), each the median of `repeat` runs.
async fn time_queries(db: &Db, repeat: usize, raw: bool) -> anyhow::Result<serde_json::Value> {
    use vigie_storage::analytics;
    let national = vec![AreaPath("ML".into())];
    let mopti = vec![AreaPath("ML/ML-5".into())];
    let end = end_of_history();
    let now = end;
    let (from, to) = ("2021-11", "2026-10");
    let mut out = serde_json::Map::new();
    let mut put = |name: &str, ms: f64, rows: usize| {
        out.insert(name.into(), serde_json::json!({"ms": (ms * 100.0).round() / 100.0, "rows": rows}));
    };
    let (ms, r) = timed(repeat, || analytics::counts_by_area(db, &national, true, 1, from, to)).await?;
    put("counts_region_month_category_national", ms, r.len());
    let (ms, r) = timed(repeat, || analytics::counts_by_area(db, &mopti, false, 2, from, to)).await?;
    put("counts_cercle_month_category_mopti", ms, r.len());
    if raw {
        let (ms, r) = timed(1, || analytics::counts_by_area_raw(db, &national, true, 1, from, to)).await?;
        put("raw_counts_region_month_category_national", ms, r.len());
        let (ms, r) = timed(1, || analytics::counts_by_area_raw(db, &mopti, false, 2, from, to)).await?;
        put("raw_counts_cercle_month_category_mopti", ms, r.len());
        let no_filter = vigie_storage::reports::ReportFilter::default();
        let (ms, r) = timed(1, || vigie_storage::reports::list(db, &national, true, &no_filter, 1, 5)).await?;
        put("raw_latest_5_with_total_national", ms, r.items.len());
        let period = vigie_domain::early_warning::indicators::Period { start: end - Duration::days(90), end };
        let (ms, ind) = timed(1, || vigie_storage::alerts::indicators_from_documents(db, &national[0], period, now)).await?;
        put("raw_indicators_90d_national_from_documents", ms, ind.records);
        // The document-by-document recompute takes minutes at 10 M: timed up to ~1 M alerts.
        let alerts: i64 = run!(&db.read, c => sqlx::query_scalar("SELECT COUNT(*) FROM alerts").fetch_one(c).await?);
        if alerts <= 1_000_000 {
            let (ms, r) = timed(1, || analytics::indicator_rollup_raw(db, 1, end - Duration::days(365 * 5 + 2), end, now)).await?;
            put("raw_indicator_full_recompute_from_documents", ms, r.len());
        }
    }
    let (ms, r) = timed(repeat, || vigie_storage::alerts::open_counts(db, &national, true, now)).await?;
    put("open_alerts_by_severity_national", ms, r.len());
    let (ms, r) = timed(repeat, || analytics::latest_reports(db, &national, true, 5)).await?;
    put("latest_5_reports_national", ms, r.len());
    let day = end - Duration::days(1);
    let (ms, n) = timed(repeat, || analytics::reports_since(db, &national, true, day)).await?;
    put("reports_last_day_national", ms, n as usize);
    let period = vigie_domain::early_warning::indicators::Period { start: end - Duration::days(90), end };
    let (ms, ind) = timed(repeat, || vigie_storage::alerts::indicators(db, &mopti[0], period, now)).await?;
    put("indicators_90d_mopti", ms, ind.records);
    let (ms, ind) = timed(repeat, || vigie_storage::alerts::indicators(db, &national[0], period, now)).await?;
    put("indicators_90d_national", ms, ind.records);
    let (ms, rollup) = timed(1, || analytics::indicator_rollup(db, 1, end - Duration::days(365 * 5 + 2), end, now)).await?;
    put("indicator_full_recompute_regions_x_months", ms, rollup.len());
    let size = db_size(db).await?;
    out.insert("database_bytes".into(), serde_json::json!(size));
    Ok(serde_json::Value::Object(out))
}

async fn db_size(db: &Db) -> anyhow::Result<i64> {
    Ok(match &db.write {
        vigie_storage::Pool::Postgres(p) => sqlx::query_scalar("SELECT pg_database_size(current_database())").fetch_one(p).await?,
        vigie_storage::Pool::Sqlite(p) => {
            let pages: i64 = sqlx::query_scalar("PRAGMA page_count").fetch_one(p).await?;
            let size: i64 = sqlx::query_scalar("PRAGMA page_size").fetch_one(p).await?;
            pages * size
        }
    })
}

/// Reports and alert facts as CSV (timestamps in RFC 3339 UTC), streamed row by row.
async fn dump(db: &Db, dir: &std::path::Path) -> anyhow::Result<(u64, u64)> {
    use futures_util::TryStreamExt;
    let mut w = csv::Writer::from_path(dir.join("reports.csv"))?;
    w.write_record(["id", "received_at", "category_code", "area_path", "verification", "alert_id"])?;
    let mut nr = 0u64;
    run!(&db.read, c => {
        let mut rows = sqlx::query_as::<_, (i64, DateTime<Utc>, String, Option<String>, String, Option<i64>)>(
            "SELECT id, received_at, category_code, area_path, verification, alert_id FROM reports ORDER BY id").fetch(c);
        while let Some((id, at, cat, path, v, alert)) = rows.try_next().await? {
            w.write_record([id.to_string(), at.to_rfc3339(), cat, path.unwrap_or_default(), v, alert.map(|a| a.to_string()).unwrap_or_default()])?;
            nr += 1;
        }
    });
    w.flush()?;
    let mut w = csv::Writer::from_path(dir.join("alerts.csv"))?;
    w.write_record(["id", "area_path", "state", "outcome", "reported_at", "alerted_at", "acknowledged_at", "responded_at", "closed_at", "first_deadline", "severity"])?;
    let mut na = 0u64;
    let ts = |t: Option<DateTime<Utc>>| t.map(|t| t.to_rfc3339()).unwrap_or_default();
    run!(&db.read, c => {
        let mut rows = sqlx::query_as::<_, (String,)>("SELECT doc FROM alerts ORDER BY id").fetch(c);
        while let Some((doc,)) = rows.try_next().await? {
            let Ok(a) = serde_json::from_str::<Alert>(&doc) else { continue };
            let deadline = a.escalation.iter().find_map(|e| match e.kind { EscalationKind::Notified { deadline } => Some(deadline), _ => None });
            let outcome = a.outcome.map(|o| serde_json::to_value(o).unwrap().as_str().unwrap().to_string()).unwrap_or_default();
            w.write_record([a.id.to_string(), a.area.0.clone(), a.state.as_str().to_string(), outcome, a.reported_at.to_rfc3339(), ts(a.alerted_at),
                ts(a.acknowledged_at), ts(a.responded_at), ts(a.closed_at), ts(deadline), a.severity.level().to_string()])?;
            na += 1;
        }
    });
    w.flush()?;
    Ok((nr, na))
}
