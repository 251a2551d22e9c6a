//! Analytics at scale (issue 11): the pre-aggregated counters stay equal to a recount after a
//! mix of intakes (new events and reports grouped into existing ones), verifications and
//! re-verifications, unplaced reports; the counts endpoint is area-scoped and fresh at once;
//! report exports stream, area-scoped, as CSV and XLSX.

use crate::support;

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{Backend, TestApp};
use vigie_domain::area::AreaPath;

both_backends!(counters_equal_a_recount_after_a_mix_of_writes, counts_are_scoped_and_fresh, exports_stream_scoped_csv_and_xlsx,);

fn report(cat: &str, area: Option<&str>, text: &str, minutes_ago: i64) -> Value {
    let mut r = json!({"category": cat, "text": text, "occurred_at": Utc::now() - Duration::minutes(minutes_ago)});
    match area {
        Some(a) => r["area_code"] = json!(a),
        None => r["place_name"] = json!("Quelque part près du fleuve"),
    }
    r
}

async fn post_report(app: &TestApp, token: &str, body: &Value) -> Value {
    let res = app.post("/api/v1/reports", token).json(body).send().await.unwrap();
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    res.json().await.unwrap()
}

async fn counters_equal_a_recount_after_a_mix_of_writes(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    let t = &app.admin_token;
    let mut ids = Vec::new();
    // Reports near each other in place, time and words are grouped into one event.
    for (i, (cat, area)) in [("armed_attack", Some("ML-5-KORO")), ("armed_attack", Some("ML-5-KORO")), ("threat_intimidation", Some("ML-5-MOPTI")),
        ("armed_attack", Some("ML-6-GOUNDAM")), ("intercommunal_conflict", Some("ML-6")), ("armed_attack", None), ("threat_intimidation", Some("ML-5-KORO"))]
    .into_iter()
    .enumerate()
    {
        let text = if cat == "armed_attack" { "Hommes armés à moto au marché de Dinangourou".to_string() } else { format!("Incident numéro {i} signalé par le comité") };
        let r = post_report(&app, t, &report(cat, area, &text, 30 + i as i64)).await;
        ids.push(r["report_id"].as_i64().unwrap());
    }
    let grouped: i64 = vigie_storage::run!(&app.db.read, c => sqlx::query_scalar("SELECT COUNT(*) FROM reports WHERE alert_id IN (SELECT alert_id FROM reports GROUP BY alert_id HAVING COUNT(*) > 1)").fetch_one(c).await.unwrap());
    assert!(grouped >= 2, "the test needs reports grouped into one event");
    // Verify, re-verify the other way, verify twice the same way.
    for (id, status) in [(ids[0], "verified"), (ids[1], "verified"), (ids[1], "false"), (ids[3], "verified"), (ids[3], "verified"), (ids[5], "pending")] {
        let res = app.post(&format!("/api/v1/reports/{id}/verification"), t).json(&json!({"status": status, "grade": if status == "false" { "C5" } else { "B2" }})).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
    }
    // Resending a report (same idempotency key) counts nothing twice.
    let again = json!({"category": "threat_intimidation", "text": "Vol de bœufs", "occurred_at": Utc::now(), "area_code": "ML-5-MOPTI", "idempotency_key": "same-1"});
    post_report(&app, t, &again).await;
    post_report(&app, t, &again).await;

    let incremental = vigie_storage::counters::snapshot(&app.db).await.unwrap();
    vigie_storage::counters::rebuild(&app.db).await.unwrap();
    let recount = vigie_storage::counters::snapshot(&app.db).await.unwrap();
    assert_eq!(incremental, recount);
    // And the figures themselves: 8 reports, 7 placed, 2 verified (ids[0], ids[3]), 1 unplaced.
    let month = Utc::now().format("%Y-%m").to_string();
    let national: i64 = recount.iter().filter(|r| r.0 == 0).map(|r| r.4).sum();
    let verified: i64 = recount.iter().filter(|r| r.0 == 0).map(|r| r.5).sum();
    let unplaced: i64 = recount.iter().filter(|r| r.0 == -1).map(|r| r.4).sum();
    assert_eq!((national, verified, unplaced), (7, 2, 1));
    let koro = recount.iter().find(|r| r.1 == "ML/ML-5/ML-5-KORO" && r.3 == "armed_attack" && r.2 == month).unwrap();
    assert_eq!((koro.4, koro.5), (2, 1));

    // The fast query equals the scan of the reports at every level and scope.
    for scope in [vec![AreaPath("ML".into())], vec![AreaPath("ML/ML-5".into())], vec![AreaPath("ML/ML-5".into()), AreaPath("ML/ML-6/ML-6-GOUNDAM".into())]] {
        for depth in 0..3 {
            let global = scope[0].0 == "ML";
            let fast = vigie_storage::analytics::counts_by_area(&app.db, &scope, global, depth, "2000-01", "2099-12").await.unwrap();
            let raw = vigie_storage::analytics::counts_by_area_raw(&app.db, &scope, global, depth, "2000-01", "2099-12").await.unwrap();
            assert_eq!(fast, raw, "scope {scope:?} depth {depth}");
            assert!(!fast.is_empty());
        }
    }
}

async fn counts_are_scoped_and_fresh(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    let mopti = app.user_token("analyste.mopti", "analyst", "ML-5").await;
    post_report(&app, &app.admin_token, &report("threat_intimidation", Some("ML-6-GOUNDAM"), "Vol de bétail", 10)).await;
    let counts = |token: String, q: &'static str| {
        let app = &app;
        async move {
            let res = app.get(&format!("/api/v1/analytics/report-counts{q}"), &token).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            res.json::<Vec<Value>>().await.unwrap()
        }
    };
    assert!(counts(mopti.clone(), "").await.is_empty(), "Tombouctou is outside Mopti's scope");
    let before: i64 = counts(app.admin_token.clone(), "?level=country").await.iter().map(|r| r["reports"].as_i64().unwrap()).sum();
    // Freshness: counted as soon as the report is acknowledged.
    let started = std::time::Instant::now();
    post_report(&app, &mopti, &report("threat_intimidation", Some("ML-5-KORO"), "Vol de bétail à Koro", 5)).await;
    let after: i64 = counts(app.admin_token.clone(), "?level=country").await.iter().map(|r| r["reports"].as_i64().unwrap()).sum();
    assert_eq!(after, before + 1);
    assert!(started.elapsed() < std::time::Duration::from_secs(1), "{:?}", started.elapsed());
    let rows = counts(mopti.clone(), "?level=cercle").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["area_path"], "ML/ML-5/ML-5-KORO");
    let res = app.get("/api/v1/analytics/report-counts?level=planet", &mopti).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = app.get("/api/v1/analytics/report-counts?from=2026-13", &mopti).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

async fn exports_stream_scoped_csv_and_xlsx(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    let mopti = app.user_token("analyste.mopti", "analyst", "ML-5").await;
    let reporter = app.user_token("relais", "reporter", "ML-5").await;
    // More than one batch (1,000 rows) so the stream really flows in several chunks.
    let mut tx = app.db.begin().await.unwrap();
    for i in 0..1500 {
        let area = if i % 3 == 0 { ("ML-6-GOUNDAM", "ML/ML-6/ML-6-GOUNDAM") } else { ("ML-5-KORO", "ML/ML-5/ML-5-KORO") };
        vigie_storage::run_tx!(&mut tx, c => { sqlx::query("INSERT INTO reports (idempotency_key, reference, received_at, occurred_at, category_code, severity, text, area_code, area_path, reporter_kind, channel, language) \
            VALUES ($1,$2,$3,$3,'threat_intimidation',2,$4,$5,$6,'focal_point','web','fr')")
            .bind(format!("k{i}")).bind(format!("R{i}")).bind(Utc::now() - Duration::minutes(i)).bind(if i == 1 { "=HYPERLINK(\"x\")" } else { "Vol, \"bœufs\"" })
            .bind(area.0).bind(area.1).execute(&mut **c).await.unwrap(); });
    }
    tx.commit().await.unwrap();
    let res = app.get("/api/v1/reports/export.csv", &mopti).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let text = res.text().await.unwrap();
    let mut rd = csv::Reader::from_reader(text.as_bytes());
    let rows: Vec<csv::StringRecord> = rd.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 1000, "only Mopti's two thirds");
    assert!(rows.iter().all(|r| r[6] == *"ML-5-KORO"));
    assert!(rows.iter().any(|r| r[13] == *"'=HYPERLINK(\"x\")"), "formulas are defused");
    let from = (Utc::now() - Duration::minutes(100)).to_rfc3339();
    let res = app.get("/api/v1/reports/export.csv", &mopti).query(&[("from", from)]).send().await.unwrap();
    assert_eq!(res.text().await.unwrap().lines().count(), 1 + 66);

    let res = app.get("/api/v1/reports/export.xlsx", &app.admin_token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let bytes = res.bytes().await.unwrap();
    assert_eq!(&bytes[..4], b"PK\x03\x04");
    let eocd = bytes.len() - 22;
    assert_eq!(&bytes[eocd..eocd + 4], b"PK\x05\x06");
    // A reporter may not read reports.
    let res = app.get("/api/v1/reports/export.csv", &reporter).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}
