//! Demo data for results, money and risk: the PROSMED programme (2021-2025, USD) with its
//! framework, its budget as printed in the PRODOC (GMS 8 %, levy 1 % as configured rates), its
//! risk log, and a few actual values for Mopti cercles. Read from the checked copies of the
//! seed tables kept with the domain tests. Loading twice changes nothing.

use vigie_storage::audit::Actor;
use vigie_storage::results::{self, ActualInput, NewProgramme};
use vigie_storage::{results_import, Db, StoreError};

const RESULTS: &str = include_str!("../../domain/src/framework/testdata/prosmed_results.csv");
const INDICATORS: &str = include_str!("../../domain/src/framework/testdata/prosmed_indicators.csv");
const RISKS: &str = include_str!("../../domain/src/framework/testdata/prosmed_risks.csv");
const BUDGET: &str = include_str!("../../domain/src/budget/testdata/prosmed_budget.csv");

pub async fn load(db: &Db) -> anyhow::Result<()> {
    match results::programme(db, "PROSMED").await {
        Ok(_) => return Ok(()),
        Err(StoreError::NotFound) => {}
        Err(e) => return Err(e.into()),
    }
    let actor = Actor::system("demo");
    let prog = results::create_programme(
        db,
        &NewProgramme {
            code: "PROSMED".into(),
            name: "Programme d'appui à la stabilisation du Centre du Mali (PROSMED)".into(),
            first_year: 2021,
            last_year: 2025,
            currency: "USD".into(),
            area_code: "ML".into(),
            iati_identifier: None,
            reporting_org: None,
        },
        &actor,
    )
    .await?;
    let mut rules = prog.cost_rules.clone();
    rules.indirect.default_rate = vigie_domain::budget::Ratio::new(8, 100).unwrap();
    rules.levy = Some(vigie_domain::budget::Ratio::new(1, 100).unwrap());
    results::set_cost_rules(db, &prog, &rules, &actor).await?;
    let prog = results::programme(db, "PROSMED").await?;
    let fail = |what: &str, e: StoreError| match e {
        StoreError::Lines(l) => anyhow::anyhow!("demo {what}: {}", l.iter().map(|x| format!("{} [{}] {}", x.line, x.field, x.msg.text(vigie_domain::Lang::En))).collect::<Vec<_>>().join("; ")),
        e => anyhow::anyhow!("demo {what}: {e}"),
    };
    results_import::framework(db, &prog, RESULTS.as_bytes(), Some(INDICATORS.as_bytes()), &actor).await.map_err(|e| fail("framework", e))?;
    results_import::budget(db, &prog, BUDGET.as_bytes(), false, &actor).await.map_err(|e| fail("budget", e))?;
    results_import::risk_log(db, &prog, RISKS.as_bytes(), &actor).await.map_err(|e| fail("risks", e))?;
    // A few values entered by the M&E officer (fictitious, for the demo only).
    let values = [("1.2.1", "2021", "ML-5-KORO", "2"), ("1.2.1", "2021", "ML-5-BANKASS", "1"), ("1.2.1", "2022", "ML-5-KORO", "3")];
    let inputs: Vec<(usize, ActualInput)> = values
        .iter()
        .enumerate()
        .map(|(i, (c, p, a, v))| (i + 1, ActualInput { indicator_code: c.to_string(), period: p.to_string(), area_code: a.to_string(), disaggregation: None, value: serde_json::Value::String(v.to_string()), note: Some("démo".into()) }))
        .collect();
    if let Err(e) = results::record_actuals(db, &prog, &inputs, &|_| true, &actor).await {
        tracing::warn!(error = %e, "demo actuals skipped");
    }
    Ok(())
}
