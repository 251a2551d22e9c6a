//! The early-warning and cases computers of `indicator_sources::REGISTRY`, one by one, on both
//! backends: each returns the value its definition says for known records (in the subtree of
//! the area asked, for the year asked), and the value moves when a record is added. Called
//! through `indicator_sources::compute`, the function the results framework uses.
//! (`returns.sum` is checked in results.rs, `committees.*` in governance.rs.)

use crate::support;

use chrono::{Datelike, Duration, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{Backend, TestApp};
use vigie_domain::area::AreaCode;
use vigie_domain::framework::source::IndicatorSource;
use vigie_domain::framework::Indicator;
use vigie_storage::audit::Actor;
use vigie_storage::indicator_sources::{compute, Request};
use vigie_storage::results::{self, NewProgramme, Programme};

both_backends!(
    early_warning_computers_count_alerts_and_outcomes,
    cases_count_follows_area_workflow_state_and_year
);

async fn programme(app: &TestApp) -> Programme {
    let year = Utc::now().year();
    let p = NewProgramme {
        code: "CALC".into(),
        name: "Calculs".into(),
        first_year: year - 1,
        last_year: year + 1,
        currency: "USD".into(),
        area_code: "ML".into(),
        iati_identifier: None,
        reporting_org: None,
    };
    results::create_programme(&app.db, &p, &Actor::system("test"))
        .await
        .unwrap()
}

fn indicator(unit: &str) -> Indicator {
    serde_json::from_value(json!({
        "code": "1.1", "result": "R1", "output": null, "label": "Calculé", "unit": unit,
        "baseline": {"kind": "missing"}, "baseline_year": null, "baseline_as_written": "", "targets": {},
        "cumulative": "no", "aggregation": "sum", "means_of_verification": [], "responsible": null, "disaggregations": [], "line": 0}))
    .unwrap()
}

/// The computed values (as text) of `computer` with `params` for `year` in `area`.
async fn values(
    app: &TestApp,
    p: &Programme,
    ind: &Indicator,
    computer: &str,
    params: Value,
    year: i32,
    area: &str,
) -> Vec<String> {
    let code = AreaCode::parse(area).unwrap();
    let path = vigie_storage::areas::path_of(&app.db, &code, "area")
        .await
        .unwrap();
    let source = IndicatorSource::Computed {
        computer: computer.into(),
        params: params.as_object().unwrap().clone(),
    };
    let req = Request {
        programme: p,
        indicator: ind,
        year,
        area: code.clone(),
        area_path: path,
    };
    let out = compute(&app.db, &source, &req).await.unwrap();
    for a in &out {
        assert_eq!(
            (a.area.as_str(), a.period.year()),
            (area, year),
            "a value for the area and year asked"
        );
    }
    // Compared as numbers: "50.00" and "50" are the same figure.
    out.iter()
        .map(|a| a.value.to_string().parse::<f64>().unwrap().to_string())
        .collect()
}

async fn command(app: &TestApp, token: &str, alert: i64, cmd: Value) {
    app.advance(Duration::seconds(30));
    let res = app
        .post(&format!("/api/v1/alerts/{alert}/commands"), token)
        .json(&cmd)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{cmd}: {}",
        res.text().await.unwrap()
    );
}

/// One event in `area`, raised, then closed with `outcome` (or left as it is).
async fn alert_with(app: &TestApp, token: &str, area: &str, text: &str, outcome: Option<&str>) {
    let body = json!({"category": "abduction", "text": text, "occurred_at": Utc::now() - Duration::minutes(30), "area_code": area});
    let res = app
        .post("/api/v1/reports", token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "{}",
        res.text().await.unwrap()
    );
    let id = res.json::<Value>().await.unwrap()["alert_id"]
        .as_i64()
        .unwrap();
    command(app, token, id, json!({"command": "verify"})).await;
    command(app, token, id, json!({"command": "raise"})).await;
    if let Some(o) = outcome {
        command(app, token, id, json!({"command": "acknowledge"})).await;
        command(
            app,
            token,
            id,
            json!({"command": "respond", "actions": [{"action": "mediation"}]}),
        )
        .await;
        command(app, token, id, json!({"command": "close", "outcome": o})).await;
    }
}

async fn early_warning_computers_count_alerts_and_outcomes(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    let p = programme(&app).await;
    let (count, share) = (indicator("number"), indicator("percent"));
    let year = Utc::now().year();
    let t = app.user_token("analyste", "analyst", "ML").await;
    // Before any record: 0 alerts raised; no intervention with a known outcome, so no share (not 0 %).
    assert_eq!(
        values(
            &app,
            &p,
            &count,
            "early_warning.alerts_raised",
            json!({}),
            year,
            "ML-5"
        )
        .await,
        vec!["0"]
    );
    assert!(values(
        &app,
        &p,
        &share,
        "early_warning.prevented_share",
        json!({}),
        year,
        "ML-5"
    )
    .await
    .is_empty());

    alert_with(
        &app,
        &t,
        "ML-5-KORO",
        "enlèvement sur la piste du nord vers Dinangourou",
        Some("violence_prevented"),
    )
    .await;
    alert_with(
        &app,
        &t,
        "ML-5-MOPTI",
        "enlèvement au sud du fleuve près de Sévaré",
        Some("violence_not_prevented"),
    )
    .await;
    alert_with(
        &app,
        &t,
        "ML-5-KORO",
        "enlèvement à l'est du marché de Koro",
        Some("unknown"),
    )
    .await;
    alert_with(
        &app,
        &t,
        "ML-6-GOUNDAM",
        "enlèvement à l'ouest de Goundam",
        Some("violence_stopped"),
    )
    .await;
    // Mopti: 3 raised; of the 2 interventions with a known outcome, 1 prevented: 50 %.
    assert_eq!(
        values(
            &app,
            &p,
            &count,
            "early_warning.alerts_raised",
            json!({}),
            year,
            "ML-5"
        )
        .await,
        vec!["3"]
    );
    assert_eq!(
        values(
            &app,
            &p,
            &share,
            "early_warning.prevented_share",
            json!({}),
            year,
            "ML-5"
        )
        .await,
        vec!["50"]
    );
    // Mali: 4 raised; prevented or stopped in 2 of 3.
    assert_eq!(
        values(
            &app,
            &p,
            &count,
            "early_warning.alerts_raised",
            json!({}),
            year,
            "ML"
        )
        .await,
        vec!["4"]
    );
    assert_eq!(
        values(
            &app,
            &p,
            &share,
            "early_warning.prevented_share",
            json!({}),
            year,
            "ML"
        )
        .await,
        vec!["66.67"]
    );
    // Koro alone: its unknown outcome is left out of the share, not counted as a failure.
    assert_eq!(
        values(
            &app,
            &p,
            &share,
            "early_warning.prevented_share",
            json!({}),
            year,
            "ML-5-KORO"
        )
        .await,
        vec!["100"]
    );
    // Another year has nothing.
    assert_eq!(
        values(
            &app,
            &p,
            &count,
            "early_warning.alerts_raised",
            json!({}),
            year - 1,
            "ML"
        )
        .await,
        vec!["0"]
    );

    // One more alert stopped in Mopti: the figures move.
    alert_with(
        &app,
        &t,
        "ML-5-MOPTI",
        "enlèvement au centre de Mopti, quartier Komoguel",
        Some("violence_stopped"),
    )
    .await;
    assert_eq!(
        values(
            &app,
            &p,
            &count,
            "early_warning.alerts_raised",
            json!({}),
            year,
            "ML-5"
        )
        .await,
        vec!["4"]
    );
    assert_eq!(
        values(
            &app,
            &p,
            &share,
            "early_warning.prevented_share",
            json!({}),
            year,
            "ML-5"
        )
        .await,
        vec!["66.67"]
    );
}

async fn open_case(app: &TestApp, area: &str, title: &str) -> Value {
    let body = json!({"workflow": "denunciation", "area_code": area, "title": title, "fields": {"locality": "X", "administration": "Douanes", "facts": "racket au poste"}});
    let res = app
        .post("/api/v1/cases", &app.admin_token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "{}",
        res.text().await.unwrap()
    );
    res.json().await.unwrap()
}

async fn cases_count_follows_area_workflow_state_and_year(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    let p = programme(&app).await;
    let n = indicator("number");
    let year = Utc::now().year();
    let count = |params: Value, area: &'static str| {
        let (app, p, n) = (&app, &p, &n);
        async move { values(app, p, n, "cases.count", params, year, area).await }
    };
    assert_eq!(count(json!({}), "ML").await, vec!["0"]);
    open_case(&app, "ML-5-KORO", "Racket au poste de Koro").await;
    open_case(&app, "ML-5-MOPTI", "Racket à la douane de Mopti").await;
    let c = open_case(&app, "ML-6-GOUNDAM", "Racket à Goundam").await;
    let id = c["id"]
        .as_i64()
        .or_else(|| c["case_id"].as_i64())
        .expect("case id");
    let state: String = vigie_storage::run!(&app.db.read, x => sqlx::query_scalar("SELECT state FROM cases WHERE id = $1").bind(id).fetch_one(x).await.unwrap());
    assert_eq!(
        count(json!({}), "ML-5").await,
        vec!["2"],
        "Mopti's subtree only"
    );
    assert_eq!(count(json!({}), "ML").await, vec!["3"]);
    assert_eq!(count(json!({}), "ML-6-GOUNDAM").await, vec!["1"]);
    assert_eq!(
        count(json!({"workflow": "denunciation"}), "ML").await,
        vec!["3"]
    );
    assert_eq!(
        count(json!({"workflow": "no_such_workflow"}), "ML").await,
        vec!["0"]
    );
    assert_eq!(
        count(json!({"state": state}), "ML").await,
        vec!["3"],
        "all in their opening state"
    );
    assert_eq!(
        count(json!({"state": "closed_elsewhere"}), "ML").await,
        vec!["0"]
    );
    assert_eq!(
        values(&app, &p, &n, "cases.count", json!({}), year - 1, "ML").await,
        vec!["0"],
        "opened this year, not last"
    );
    open_case(&app, "ML-5-KORO", "Second racket à Koro").await;
    assert_eq!(
        count(json!({}), "ML-5").await,
        vec!["3"],
        "a new case is counted"
    );
}
