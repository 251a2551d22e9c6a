//! Results, money and risk against the seed tables in `../shared/data` (PROSMED PRODOC,
//! MINUSMA 2020/21 performance report), through the API, on SQLite and PostgreSQL.

use crate::support;

use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{Backend, TestApp};

fn seed(rel: &str) -> Vec<u8> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data").join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("seed {}: {e}", p.display()))
}

async fn programme_in(app: &TestApp, code: &str, area: &str) {
    let body = json!({"code": code, "name": format!("Programme {code}"), "first_year": 2021, "last_year": 2025, "currency": "USD", "area_code": area});
    let r = app.post("/api/v1/programmes", &app.admin_token).json(&body).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap());
}

async fn programme(app: &TestApp, code: &str, first: i32, last: i32) {
    let r = app
        .post("/api/v1/programmes", &app.admin_token)
        .json(&json!({"code": code, "name": format!("Programme {code}"), "first_year": first, "last_year": last, "currency": "USD", "area_code": "ML"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap());
}

async fn import(app: &TestApp, code: &str, kind: &str, body: Vec<u8>, ct: &str) -> (StatusCode, Value) {
    let r = app.post(&format!("/api/v1/programmes/{code}/import/{kind}"), &app.admin_token).header("content-type", ct).body(body).send().await.unwrap();
    let s = r.status();
    (s, r.json().await.unwrap())
}

async fn get(app: &TestApp, path: &str) -> Value {
    let r = app.get(path, &app.admin_token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    r.json().await.unwrap()
}

async fn prosmed_rates(app: &TestApp) {
    // "GMS (8%)" and "Levy (1%)" as the PRODOC labels them: configuration, not code.
    let rules = json!({"management":{"kind":"entered"},"indirect":{"default_rate":{"num":8,"den":100},"by_agency":{},"by_year":{}},"levy":{"num":1,"den":100},"rounding":"half_up","decimals":0});
    let r = app.put("/api/v1/programmes/PROSMED/cost-rules", &app.admin_token).json(&rules).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
}

async fn prosmed_budget_reproduces_the_document(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    programme(&app, "PROSMED", 2021, 2025).await;
    prosmed_rates(&app).await;
    let (s, out) = import(&app, "PROSMED", "budget", seed("prosmed/budget.csv"), "text/csv").await;
    assert_eq!(s, StatusCode::OK, "{out}");
    assert_eq!(out["records"], 27);
    // Warnings shown, not hidden: PROJECT_TOTAL typed "total" (line 26) and GRAND_TOTAL's years (line 28).
    let warns: Vec<(i64, String)> = out["warnings"].as_array().unwrap().iter().map(|w| (w["line"].as_i64().unwrap(), w["field"].as_str().unwrap().to_string())).collect();
    assert_eq!(warns, vec![(25, "row_type".to_string()), (28, "total".to_string())]);

    let v = get(&app, "/api/v1/programmes/PROSMED/budget").await;
    let printed = |code: &str| -> String {
        v["rows"].as_array().unwrap().iter().find(|r| r["output"] == code || r["label"].as_str().unwrap().contains(code) || r["result"] == code && r["kind"] == "result_subtotal").unwrap()["printed_total"].as_str().unwrap().to_string()
    };
    let c = &v["computed"];
    // Result subtotals recomputed from the output lines equal the printed ones (l.3838, 4224…).
    for (res, total) in [("R1", "3904123")] {
        assert_eq!(c["by_result"][res]["total"], total);
        assert_eq!(printed(res), total);
    }
    for res in ["R2", "R3", "R4"] {
        let row = v["rows"].as_array().unwrap().iter().find(|r| r["kind"] == "result_subtotal" && r["result"] == res).unwrap();
        assert_eq!(c["by_result"][res]["total"], row["printed_total"], "{res}");
        for y in 2021..=2025 {
            assert_eq!(c["by_result"][res][y.to_string()], row["years"][y.to_string()], "{res} {y}");
        }
    }
    assert_eq!(c["management"]["total"], "4305108");
    // Lines + management give 1 more than the printed 29 763 971: the 2025 activities gap (+1) carries.
    assert_eq!(c["project"]["total"], "29763972");
    let row_total = |kind: &str| v["rows"].as_array().unwrap().iter().find(|r| r["kind"] == kind).unwrap()["printed_total"].as_str().unwrap().to_string();
    assert_eq!(row_total("indirect"), "2011385");
    assert_eq!(row_total("levy"), "224644");
    assert_eq!(row_total("grand_total"), "32000000");
    // 8 % and 1 % hold from 2023: computed equals printed there.
    for y in ["2023", "2024", "2025"] {
        let ind = v["rows"].as_array().unwrap().iter().find(|r| r["kind"] == "indirect").unwrap();
        assert_eq!(c["indirect"][y], ind["years"][y], "GMS {y}");
    }
    // The document's own gaps, each reported where it arises.
    let gaps: Vec<(String, String, String, String)> = v["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["row"].as_str().unwrap().into(), g["column"].as_str().unwrap().into(), g["gap"].as_str().unwrap().into(), g["basis"].as_str().unwrap().into()))
        .collect();
    let has = |row: &str, col: &str, gap: &str, basis: &str| gaps.contains(&(row.into(), col.into(), gap.into(), basis.into()));
    assert!(has("GRAND_TOTAL", "total", "-1", "years_of_row"), "{gaps:?}");
    assert!(has("GRAND_TOTAL", "2021", "1", "components"), "{gaps:?}");
    assert!(has("ACTIVITIES_TOTAL", "2025", "1", "components"), "{gaps:?}");
    assert!(has("ACTIVITIES_TOTAL", "total", "1", "components"), "{gaps:?}");
    let rate_gaps: Vec<(&str, &str)> = gaps.iter().filter(|g| g.3 == "rate").map(|g| (g.0.as_str(), g.1.as_str())).collect();
    assert_eq!(rate_gaps, vec![("GMS", "2021"), ("LEVY", "2021"), ("GMS", "2022"), ("LEVY", "2022")]);
    let gms21 = v["gaps"].as_array().unwrap().iter().find(|g| g["row"] == "GMS" && g["column"] == "2021").unwrap();
    assert_eq!(gms21["message_fr"], "GMS 2021 : taux effectif 2,488 %, taux configuré 8 %.");
    assert_eq!(gaps.len(), 8, "{gaps:?}");

    // Execution in the PRODOC layout, with an expenditure in FCFA at an explicit rate.
    let exp = "year,output_code,amount,currency,rate,date,description\n2021,P1.1,3950,USD,,2021-06-30,Atelier MRN\n2021,P1.1,1968000,XOF,0.0020,2021-09-15,Transport\n";
    let (s, out) = import(&app, "PROSMED", "expenditure", exp.as_bytes().to_vec(), "text/csv").await;
    assert_eq!(s, StatusCode::OK, "{out}");
    let e = get(&app, "/api/v1/programmes/PROSMED/budget/execution").await;
    let row = e.as_array().unwrap().iter().find(|r| r["code"] == "P1.1").unwrap();
    // 3 950 + 1 968 000 × 0,002 = 7 886 of 7 900 budgeted in 2021: 99,8 %.
    assert_eq!(row["cells"]["2021"]["spent"], "7886");
    assert_eq!(row["cells"]["2021"]["utilisation_pct"], "99.8");
    let r1 = e.as_array().unwrap().iter().find(|r| r["code"] == "R1" && r["kind"] == "result_subtotal").unwrap();
    assert_eq!(r1["cells"]["total"]["budget"], "3904123");
    let grand = e.as_array().unwrap().iter().find(|r| r["code"] == "GRAND_TOTAL").unwrap();
    // 8 % GMS then 1 % levy on 7 886: 631 and 85 → 8 602.
    assert_eq!(grand["cells"]["2021"]["spent"], "8602");
}

async fn minusma_variance_reproduces_the_report(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    programme(&app, "MINUSMA-2020", 2020, 2021).await;
    let (s, out) = import(&app, "MINUSMA-2020", "expenditure", seed("minusma/financial_by_category.csv"), "text/csv").await;
    assert_eq!(s, StatusCode::OK, "{out}");
    assert_eq!(out["kind"], "variance");
    // Every printed subtotal, total and percentage is reproduced: no warning.
    assert_eq!(out["warnings"], json!([]), "{out}");
    let v = get(&app, "/api/v1/programmes/MINUSMA-2020/variance").await;
    let row = |kind: &str| v["rows"].as_array().unwrap().iter().find(|r| r["kind"] == kind).unwrap().clone();
    let four = |r: &Value| (r["apportionment"].as_str().unwrap().to_string(), r["expenditure"].as_str().unwrap().to_string(), r["variance"].as_str().unwrap().to_string(), r["variance_pct"].as_str().unwrap().to_string());
    let t = |a: &str, b: &str, c: &str, d: &str| (a.to_string(), b.to_string(), c.to_string(), d.to_string());
    // Amounts are thousands of USD in the report; Vigie holds them in USD, exact to the cent.
    assert_eq!(four(&row("gross")), t("1183384700", "1103359200", "80025500", "6.8"));
    assert_eq!(four(&row("net")), t("1166019400", "1084883100", "81136300", "7"));
    assert_eq!(v["utilisation_pct"], "93.2");
    let obs = v["rows"].as_array().unwrap().iter().find(|r| r["label_en"] == "Military observers").unwrap();
    assert_eq!(four(obs), t("2165600", "1321200", "844400", "39"));
}

async fn prosmed_framework_every_indicator_with_its_targets(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    programme(&app, "PROSMED", 2021, 2025).await;
    let results = String::from_utf8(seed("prosmed/results.csv")).unwrap();
    let indicators = String::from_utf8(seed("prosmed/indicators.csv")).unwrap();
    let body = serde_json::to_vec(&json!({"results": results, "indicators": indicators})).unwrap();
    let (s, out) = import(&app, "PROSMED", "framework", body, "application/json").await;
    assert_eq!(s, StatusCode::OK, "{out}");
    let f = get(&app, "/api/v1/programmes/PROSMED/framework").await;
    assert_eq!(f["framework"]["results"].as_array().unwrap().len(), 4);
    assert_eq!(f["framework"]["outputs"].as_array().unwrap().len(), 14);
    let inds = f["framework"]["indicators"].as_array().unwrap();
    // Every indicator of the file, and every numeric yearly target as printed in it.
    let mut rdr = csv::Reader::from_reader(indicators.as_bytes());
    let head = rdr.headers().unwrap().clone();
    let mut rows = 0;
    let mut numeric_targets = 0;
    for rec in rdr.records() {
        let rec = rec.unwrap();
        rows += 1;
        let code = &rec[head.iter().position(|h| h == "indicator_code").unwrap()];
        let ind = inds.iter().find(|i| i["code"] == code.trim_end_matches('.')).unwrap_or_else(|| panic!("indicator {code} missing"));
        for y in 2021..=2025 {
            let cell = rec[head.iter().position(|h| h == format!("target_{y}")).unwrap()].trim().to_string();
            let compact: String = cell.chars().filter(|c| !c.is_whitespace()).collect();
            if !compact.is_empty() && compact.chars().all(|c| c.is_ascii_digit()) {
                numeric_targets += 1;
                let t = &ind["targets"][y.to_string()];
                assert_eq!(t["kind"], "value", "{code} {y}");
                assert_eq!((t["value"]["value"]["mantissa"].as_i64(), t["value"]["value"]["scale"].as_i64()), (Some(compact.parse::<i64>().unwrap()), Some(0)), "{code} {y}");
            }
        }
    }
    assert_eq!(rows, 53);
    assert_eq!(inds.len(), 53);
    assert!(numeric_targets > 150, "{numeric_targets}");
    assert_eq!(inds.iter().filter(|i| i["cumulative"] == "yes").count(), 40);
    let i11 = inds.iter().find(|i| i["code"] == "1.1").unwrap();
    assert_eq!(i11["targets"]["2021"]["kind"], "no_target");
    assert_eq!(i11["targets"]["2022"]["kind"], "change");

    // Actual values, area-scoped: an M&E officer of Tombouctou cannot enter Koro's.
    let tombouctou = app.user_token("suivi.tbk", "me_officer", "ML-6").await;
    let koro = json!([{"indicator_code": "1.2.1", "period": "2022", "area_code": "ML-5-KORO", "value": "40"}]);
    let r = app.post("/api/v1/programmes/PROSMED/actuals", &tombouctou).json(&koro).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "a value outside the caller's areas is an access refusal");
    let mopti = app.user_token("suivi.mopti", "me_officer", "ML-5").await;
    // A programme of another region takes no values for Koro, even from Koro's own officer.
    programme_in(&app, "GOUNDAM-ONLY", "ML-6-GOUNDAM").await;
    let r = app.post("/api/v1/programmes/GOUNDAM-ONLY/actuals", &mopti).json(&koro).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let errs: Value = r.json().await.unwrap();
    assert!(errs["errors"].as_array().unwrap().iter().any(|e| e["line"] == 1 && e["field"] == "area_code"), "{errs}");
    let vals = json!([
        {"indicator_code": "1.2.1", "period": "2021", "area_code": "ML-5-KORO", "value": "30"},
        {"indicator_code": "1.2.1", "period": "2022", "area_code": "ML-5-MOPTI", "value": "25"},
        {"indicator_code": "1.2.1", "period": "2022", "area_code": "ML-5-KORO", "value": 10}
    ]);
    let r = app.post("/api/v1/programmes/PROSMED/actuals", &mopti).json(&vals).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    // Cumulative indicator: 30 + 25 + 10 = 65 by 2022 against 69: 94,2 % → green (≥ 90 %).
    let p = get(&app, "/api/v1/programmes/PROSMED/progress?year=2022&area=ML-5").await;
    let x = p.as_array().unwrap().iter().find(|i| i["code"] == "1.2.1").unwrap();
    assert_eq!((x["actual"].as_str(), x["target"].as_str(), x["achieved_pct"].as_str(), x["status"].as_str()), (Some("65"), Some("69"), Some("94.2"), Some("green")));
    let y = p.as_array().unwrap().iter().find(|i| i["code"] == "1.1").unwrap();
    assert_eq!(y["status"], "ambiguous", "+5 % without a stated reading is not guessed");

    // Exports: CSV, XLSX, HTML, DHIS2, HXL.
    let csv_text = app.get("/api/v1/programmes/PROSMED/report.csv?year=2022&area=ML-5", &app.admin_token).send().await.unwrap().text().await.unwrap();
    assert!(csv_text.lines().any(|l| l.starts_with("1.2.1,") && l.contains(",69,65,94.2,green,")), "{csv_text}");
    let xlsx = app.get("/api/v1/programmes/PROSMED/report.xlsx?year=2022", &app.admin_token).send().await.unwrap().bytes().await.unwrap();
    assert!(xlsx.starts_with(b"PK"));
    let html = app.get("/api/v1/programmes/PROSMED/report.html?year=2022&area=ML-5", &app.admin_token).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("<td>1.2.1</td>") && html.contains("94,2"), "{html}");
    let d = get(&app, "/api/v1/programmes/PROSMED/dhis2/dataValueSets.json?year=2022").await;
    assert_eq!(d["dataValues"].as_array().unwrap().len(), 2);
    assert!(d["dataValues"].as_array().unwrap().iter().any(|v| v["orgUnit"] == "ML-5-KORO" && v["period"] == "2022" && v["value"] == "10" && v["dataElement"] == "PROSMED_1.2.1"));
    let hxl = app.get("/api/v1/programmes/PROSMED/public.hxl.csv?year=2022&area=ML-5", &app.admin_token).send().await.unwrap().text().await.unwrap();
    assert_eq!(hxl.lines().nth(1).unwrap(), "#activity+code,#adm1+code,#date+year,#indicator+code,#indicator+name,#targeted+num,#reached+num,#status");
}

async fn iati_export_is_valid_against_the_2_03_schema(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    programme(&app, "PROSMED", 2021, 2025).await;
    prosmed_rates(&app).await;
    let body = serde_json::to_vec(&json!({"results": String::from_utf8(seed("prosmed/results.csv")).unwrap(), "indicators": String::from_utf8(seed("prosmed/indicators.csv")).unwrap()})).unwrap();
    assert_eq!(import(&app, "PROSMED", "framework", body, "application/json").await.0, StatusCode::OK);
    assert_eq!(import(&app, "PROSMED", "budget", seed("prosmed/budget.csv"), "text/csv").await.0, StatusCode::OK);
    let exp = "year,output_code,amount,date,description\n2021,P1.1,3950,2021-06-30,Atelier <MRN> & partenaires\n";
    assert_eq!(import(&app, "PROSMED", "expenditure", exp.as_bytes().to_vec(), "text/csv").await.0, StatusCode::OK);
    let r = app.post("/api/v1/programmes/PROSMED/actuals", &app.admin_token).json(&json!([{"indicator_code": "1.2.1", "period": "2021", "area_code": "ML-5-KORO", "value": "30"}])).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let xml = app.get("/api/v1/programmes/PROSMED/iati.xml", &app.admin_token).send().await.unwrap().text().await.unwrap();
    assert!(xml.contains("<budget type=\"1\" status=\"2\"><period-start iso-date=\"2025-01-01\"/>"));
    assert!(xml.contains("<actual value=\"30\"/>"));
    assert!(xml.contains("Atelier &lt;MRN&gt; &amp; partenaires"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("activity.xml");
    std::fs::write(&file, &xml).unwrap();
    let xsd = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/iati-2.03/iati-activities-schema.xsd");
    let out = std::process::Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(&xsd)
        .arg(&file)
        .output()
        .expect("xmllint (Debian libxml2-utils) is needed: scripts/ensure-xmllint.sh installs it");
    assert!(out.status.success(), "IATI 2.03 schema: {}", String::from_utf8_lossy(&out.stderr));
    // The check can fail: an activity without its required reporting-org is rejected.
    let broken = xml.replacen("<reporting-org", "<reporting-orgX", 1).replacen("</reporting-org>", "</reporting-orgX>", 1);
    std::fs::write(&file, broken).unwrap();
    let out = std::process::Command::new("xmllint").args(["--noout", "--schema"]).arg(&xsd).arg(&file).output().unwrap();
    assert!(!out.status.success());
}

async fn bad_input_is_refused_with_line_numbers_and_nothing_imported(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    programme(&app, "TEST", 2021, 2023).await;
    let audit_before = app.audit_count().await;
    let results = "level,code,title_fr,parent_code\nresult,R1,Résultat un,\noutput,P1.1,Produit un,R1\n";
    let inds = "result_code,output_code,indicator_code,label_fr,unit,baseline,baseline_year,target_2021,target_2022,target_2023,target_2024,cumulative,means_of_verification\n\
        R1,P1.1,1.1.1,Bon,number,0,,1,2,3,,yes,R\n\
        R1,P1.1,1.1.2,Hors période,number,0,,1,2,3,4,yes,R\n\
        R1,P1.1,1.1.3,Pourcent,percent,0,,10%,140%,30%,,yes,R\n\
        R1,P1.1,1.1.4,Texte,number,0,,1,beaucoup,3,,yes,R\n\
        R1,P1.1,1.1.1,Doublon,number,0,,1,2,3,,yes,R\n";
    let body = serde_json::to_vec(&json!({"results": results, "indicators": inds})).unwrap();
    let (s, p) = import(&app, "TEST", "framework", body, "application/json").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    let lines: Vec<(i64, &str)> = p["errors"].as_array().unwrap().iter().map(|e| (e["line"].as_i64().unwrap(), e["field"].as_str().unwrap())).collect();
    assert_eq!(lines, vec![(3, "target_2024"), (4, "target_2022"), (5, "target_2022"), (6, "indicator_code")]);
    let details: Vec<&str> = p["errors"].as_array().unwrap().iter().map(|e| e["detail"].as_str().unwrap()).collect();
    assert!(details[0].contains("hors de la période du programme (2021-2023)"), "{details:?}");
    assert!(details[1].contains("Pourcentage au-delà de 100"));
    assert!(details[2].contains("Texte dans une cellule numérique"));

    let budget = "output_code,row_type,result_code,y2021,y2022,y2023,total\nP1.1,output,R1,100,200,300,601\nP1.2,output,R1,10,dix,0,10\n";
    let (s, p) = import(&app, "TEST", "budget", budget.as_bytes().to_vec(), "text/csv").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let lines: Vec<(i64, &str)> = p["errors"].as_array().unwrap().iter().map(|e| (e["line"].as_i64().unwrap(), e["field"].as_str().unwrap())).collect();
    assert_eq!(lines, vec![(2, "total"), (3, "y2022")]);

    let exp = "year,output_code,amount,currency,rate\n2021,,100,USD,\n2022,,65000,XOF,\n";
    let r = app.post("/api/v1/programmes/TEST/import/expenditure", &app.admin_token).header("accept-language", "en").body(exp).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["errors"][0]["line"], 3);
    assert_eq!(p["errors"][0]["detail"], "Expenditure in XOF with no exchange rate to USD.");

    // Nothing half-imported: no indicator, no budget line, no expenditure, no audit entry.
    let f = get(&app, "/api/v1/programmes/TEST/framework").await;
    assert_eq!(f["framework"]["indicators"], json!([]));
    assert_eq!(f["framework"]["results"], json!([]));
    let bv = get(&app, "/api/v1/programmes/TEST/budget").await;
    assert_eq!(bv["rows"], json!([]));
    let e = get(&app, "/api/v1/programmes/TEST/budget/execution").await;
    assert!(e.as_array().unwrap().iter().all(|r| r["cells"]["total"]["spent"] == "0"));
    assert_eq!(app.audit_count().await, audit_before);

    // A viewer reads but cannot write.
    let viewer = app.user_token("lecteur", "viewer", "ML").await;
    assert_eq!(app.get("/api/v1/programmes/TEST/framework", &viewer).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(app.post("/api/v1/programmes/TEST/import/risks", &viewer).body("n\n").send().await.unwrap().status(), StatusCode::FORBIDDEN);
    let reporter = app.user_token("relais", "reporter", "ML-5-KORO").await;
    assert_eq!(app.get("/api/v1/programmes/TEST/framework", &reporter).send().await.unwrap().status(), StatusCode::FORBIDDEN);
}

async fn risks_heat_map_returns_and_computed_indicators(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else { return };
    programme(&app, "PROSMED", 2021, 2025).await;
    // The PROSMED risk log, as an XLSX workbook: row numbers are the error lines.
    let csv_text = String::from_utf8(seed("prosmed/risks.csv")).unwrap();
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("risks").unwrap();
    let mut rdr = csv::ReaderBuilder::new().has_headers(false).from_reader(csv_text.as_bytes());
    for (r, rec) in rdr.records().enumerate() {
        for (c, v) in rec.unwrap().iter().enumerate() {
            sheet.write_string(r as u32, c as u16, v).unwrap();
        }
    }
    let (s, out) = import(&app, "PROSMED", "risks", book.save_to_buffer().unwrap(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet").await;
    assert_eq!(s, StatusCode::OK, "{out}");
    assert_eq!(out["records"], 9);
    let reg = get(&app, "/api/v1/programmes/PROSMED/risks").await;
    // Elevée/Moyenne/Faible → 4/3/2; Fort/Limitée → 4/2 (see the mapping in the domain).
    let counts = &reg["counts"];
    assert_eq!(counts[3][3], 2); // risks 1 and 3
    assert_eq!(counts[2][3], 4); // 2, 4, 5, 6
    assert_eq!(counts[2][1], 2); // 7, 8
    assert_eq!(counts[1][1], 1); // 9
    let r = app.post("/api/v1/programmes/PROSMED/risks/1/reviews", &app.admin_token).json(&json!({"date": "2022-06-30", "likelihood": "moyenne", "impact": "fort", "status": "monitored", "note": "cartographie à jour"})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let reg = get(&app, "/api/v1/programmes/PROSMED/risks").await;
    assert_eq!(reg["counts"][3][3], 1);
    assert_eq!(reg["counts"][2][3], 5);
    assert_eq!(reg["heat_map"][3][3], json!([3]));
    let bad = app.post("/api/v1/programmes/PROSMED/risks/1/reviews", &app.admin_token).json(&json!({"date": "2099-01-01", "likelihood": "2", "impact": "2", "status": "open"})).send().await.unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);

    // Statistical returns: who has not reported this period.
    let org = |name: &str| json!({"name": name, "kind": "police", "area_code": "ML-5-MOPTI"});
    let mut orgs = Vec::new();
    for n in ["Commissariat de Mopti", "Tribunal de Mopti"] {
        let r = app.post("/api/v1/organisations", &app.admin_token).json(&org(n)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        orgs.push(r.json::<Value>().await.unwrap()["id"].as_i64().unwrap());
    }
    for (code, org_id) in [("CRIMES-MOPTI", orgs[0]), ("COURT-MOPTI", orgs[1])] {
        let r = app
            .post("/api/v1/returns/datasets", &app.admin_token)
            .json(&json!({"code": code, "name": code, "org_id": org_id, "periodicity": "monthly", "due_days": 10, "fields": [{"code": "RECORDED", "label": "Infractions enregistrées"}]}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap());
    }
    let r = app.post("/api/v1/returns/datasets/CRIMES-MOPTI/submissions", &app.admin_token).json(&json!({"period": "2022-03", "values": {"RECORDED": 14}})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = app.post("/api/v1/returns/datasets/CRIMES-MOPTI/submissions", &app.admin_token).json(&json!({"period": "2022-04", "values": {"RECORDED": "six"}})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let st = get(&app, "/api/v1/returns/status?period=2022-03").await;
    let status_of = |c: &str| st.as_array().unwrap().iter().find(|x| x["dataset"] == c).unwrap()["status"].as_str().unwrap().to_string();
    assert_eq!(status_of("CRIMES-MOPTI"), "late"); // submitted now, long after 2022-04-10
    assert_eq!(status_of("COURT-MOPTI"), "overdue");

    // A computed indicator: its actual value is the sum of the returns, through the one interface.
    let ind = json!({"indicator": {
        "code": "9.9", "result": "R9", "output": null, "label": "Infractions enregistrées (retours de police)", "unit": "number",
        "baseline": {"kind": "missing"}, "baseline_year": null, "baseline_as_written": "", "targets": {"2022": {"kind": "value", "value": {"value": {"mantissa": 10, "scale": 0}, "note": null}}},
        "cumulative": "no", "aggregation": "sum", "means_of_verification": [], "responsible": null, "disaggregations": [], "line": 0},
        "source": {"kind": "computed", "computer": "returns.sum", "params": {"dataset": "CRIMES-MOPTI", "field": "RECORDED"}}});
    let r = app.put("/api/v1/programmes/PROSMED/indicators/9.9", &app.admin_token).json(&ind).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "unknown result R9 refused");
    let results = "level,code,title_fr,parent_code\nresult,R9,Statistiques,\n";
    let inds = "result_code,output_code,indicator_code,label_fr,unit,baseline,baseline_year,target_2022,cumulative,means_of_verification\nR9,,9.1,Autre,number,0,,1,no,R\n";
    let body = serde_json::to_vec(&json!({"results": results, "indicators": inds})).unwrap();
    assert_eq!(import(&app, "PROSMED", "framework", body, "application/json").await.0, StatusCode::OK);
    let r = app.put("/api/v1/programmes/PROSMED/indicators/9.9", &app.admin_token).json(&ind).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let p = get(&app, "/api/v1/programmes/PROSMED/progress?year=2022&area=ML-5").await;
    let x = p.as_array().unwrap().iter().find(|i| i["code"] == "9.9").unwrap();
    assert_eq!((x["actual"].as_str(), x["status"].as_str(), x["source"].as_str()), (Some("14"), Some("green"), Some("returns.sum")));
    // Typed-in values are refused for a computed indicator.
    let r = app.post("/api/v1/programmes/PROSMED/actuals", &app.admin_token).json(&json!([{"indicator_code": "9.9", "period": "2022", "area_code": "ML-5", "value": "3"}])).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let comps = get(&app, "/api/v1/indicator-computers").await;
    assert!(comps.as_array().unwrap().iter().any(|c| c["key"] == "early_warning.prevented_share"));
}

both_backends!(
    prosmed_budget_reproduces_the_document,
    minusma_variance_reproduces_the_report,
    prosmed_framework_every_indicator_with_its_targets,
    iati_export_is_valid_against_the_2_03_schema,
    bad_input_is_refused_with_line_numbers_and_nothing_imported,
    risks_heat_map_returns_and_computed_indicators,
);
