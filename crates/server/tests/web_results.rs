//! The results pages against a real server, on both backends, with the PROSMED seed tables
//! (framework, budget as printed, risk log): who may see the programmes, framework, budget
//! execution, risk register and returns (403 for roles or areas that may not); the actual
//! entry form stores a value, moves the indicator's traffic light, and refuses bad values with
//! the field's message and the input kept; the risk review form; CSRF.

use crate::support;

use reqwest::{header, StatusCode};
use support::{browser, signed_in, Backend, TestApp, PASSWORD};
use vigie_domain::area::AreaCode;
use vigie_storage::audit::Actor;
use vigie_storage::results::{self, NewProgramme};

both_backends!(
    results_pages_are_scoped_like_the_api,
    actual_entry_stores_and_refuses_with_messages,
    risk_review_and_returns
);

fn testdata(rel: &str) -> Vec<u8> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../domain/src")
        .join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// PROSMED as the demo loads it: framework, budget (GMS 8 %, levy 1 %), risk log.
async fn prosmed(app: &TestApp) {
    let actor = Actor::system("test");
    let p = results::create_programme(
        &app.db,
        &NewProgramme {
            code: "PROSMED".into(),
            name: "Programme PROSMED".into(),
            first_year: 2021,
            last_year: 2025,
            currency: "USD".into(),
            area_code: "ML".into(),
            iati_identifier: None,
            reporting_org: None,
        },
        &actor,
    )
    .await
    .unwrap();
    let mut rules = p.cost_rules.clone();
    rules.indirect.default_rate = vigie_domain::budget::Ratio::new(8, 100).unwrap();
    rules.levy = Some(vigie_domain::budget::Ratio::new(1, 100).unwrap());
    results::set_cost_rules(&app.db, &p, &rules, &actor)
        .await
        .unwrap();
    let p = results::programme(&app.db, "PROSMED").await.unwrap();
    use vigie_storage::results_import as imp;
    imp::framework(
        &app.db,
        &p,
        &testdata("framework/testdata/prosmed_results.csv"),
        Some(&testdata("framework/testdata/prosmed_indicators.csv")),
        &actor,
    )
    .await
    .unwrap();
    imp::budget(
        &app.db,
        &p,
        &testdata("budget/testdata/prosmed_budget.csv"),
        false,
        &actor,
    )
    .await
    .unwrap();
    imp::risk_log(
        &app.db,
        &p,
        &testdata("framework/testdata/prosmed_risks.csv"),
        &actor,
    )
    .await
    .unwrap();
}

/// An account with several grants (`(role, area)`), for readers whose rights differ by area.
async fn account(app: &TestApp, username: &str, grants: &[(&str, &str)]) {
    vigie_storage::users::create(
        &app.db,
        vigie_storage::users::NewUser {
            username,
            display_name: username,
            password: Some(PASSWORD),
            org_id: None,
            locale: vigie_domain::Lang::Fr,
            grants: grants
                .iter()
                .map(|(r, a)| (r.to_string(), AreaCode::parse(a).unwrap()))
                .collect(),
        },
        &Actor::system("test"),
    )
    .await
    .unwrap();
}

async fn page(c: &reqwest::Client, app: &TestApp, path: &str) -> (StatusCode, String) {
    let r = c.get(app.url(path)).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

/// The traffic light shown in an indicator's block of the framework page.
fn light_of(html: &str, code: &str) -> String {
    let start = html
        .find(&format!(r#"id="ind-{code}""#))
        .unwrap_or_else(|| panic!("indicator {code}"));
    let block = &html[start..];
    let i = block.find(r#"class="light l-"#).unwrap() + r#"class="light l-"#.len();
    block[i..].split('"').next().unwrap().to_string()
}

const PAGES: [&str; 6] = [
    "/programmes",
    "/programmes/PROSMED",
    "/programmes/PROSMED/indicateurs/1.2.1",
    "/programmes/PROSMED/budget",
    "/programmes/PROSMED/risques",
    "/retours",
];

async fn results_pages_are_scoped_like_the_api(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    prosmed(&app).await;
    app.user_token("suivi", "me_officer", "ML").await;
    app.user_token("lecteur", "viewer", "ML").await;
    app.user_token("suivi.mopti", "me_officer", "ML-5").await;
    app.user_token("cndh", "case_handler", "ML").await;

    let (me, _) = signed_in(&app, "suivi").await;
    let home = page(&me, &app, "/").await.1;
    assert!(
        home.contains(r#"id="progres-indicateurs""#) && home.contains(r#"href="/programmes""#),
        "home card and nav"
    );
    for path in PAGES {
        let (st, html) = page(&me, &app, path).await;
        assert_eq!(st, StatusCode::OK, "{path}: {html}");
    }
    let (_, fw) = page(&me, &app, "/programmes/PROSMED").await;
    // Results → outputs → indicators, with baseline, targets, unit, verification, status in words.
    assert!(
        fw.contains(r#"id="h-R1""#)
            && fw.contains(r#"id="h-P1.2""#)
            && fw.contains(r#"id="ind-1.2.1""#),
        "tree"
    );
    assert!(
        fw.contains("37,37") && fw.contains("Rapports DNAPES") && fw.contains("Pas de valeur"),
        "baseline in French, verification, status words"
    );
    assert!(
        fw.contains("<svg") || !fw.contains("class=\"bar\""),
        "charts are inline SVG"
    );
    assert!(!fw.contains("<script"), "no script");
    let (_, budget) = page(&me, &app, "/programmes/PROSMED/budget").await;
    // The PRODOC's grand total as printed, in French, with Vigie's recomputation beside it.
    assert!(
        budget.contains("id=\"grand-total-printed\">32\u{a0}000\u{a0}000 USD") && budget.contains("id=\"grand-total\">"),
        "grand total: {}",
        &budget[budget.find("grand-total").unwrap_or(0)..][..200]
    );
    assert!(
        budget.contains(r#"id="ecarts""#) && budget.contains("report.csv?year="),
        "rounding gaps shown as warnings; export links"
    );
    let (_, risks) = page(&me, &app, "/programmes/PROSMED/risques").await;
    assert!(
        risks.contains(r#"id="heat""#)
            && risks.contains(r##"href="#risque-1""##)
            && risks.contains(r#"action="/programmes/PROSMED/risques/revue""#)
    );
    let (_, ind) = page(&me, &app, "/programmes/PROSMED/indicateurs/1.2.1").await;
    assert!(
        ind.contains(r#"name="valeur""#) && ind.contains(r#"name="csrf""#),
        "the M&E officer gets the entry form"
    );

    // English switch: the same page in English, numbers in English.
    let res = me
        .get(app.url("/langue/en?retour=/programmes/PROSMED/budget"))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection());
    let (_, en) = page(&me, &app, "/programmes/PROSMED/budget").await;
    assert!(
        en.contains("Budget execution") && en.contains("32,000,000 USD"),
        "English"
    );

    // A viewer reads everything but gets no form.
    let (viewer, _) = signed_in(&app, "lecteur").await;
    for path in PAGES {
        assert_eq!(page(&viewer, &app, path).await.0, StatusCode::OK, "{path}");
    }
    assert!(
        !page(&viewer, &app, "/programmes/PROSMED/indicateurs/1.2.1")
            .await
            .1
            .contains(r#"name="valeur""#)
    );
    assert!(!page(&viewer, &app, "/programmes/PROSMED/risques")
        .await
        .1
        .contains("risques/revue"));

    // A regional officer may not read a national programme (as the API), and the list is empty.
    let (mopti, _) = signed_in(&app, "suivi.mopti").await;
    assert!(!page(&mopti, &app, "/programmes")
        .await
        .1
        .contains("/programmes/PROSMED\""));
    for path in &PAGES[1..5] {
        assert_eq!(
            page(&mopti, &app, path).await.0,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    let api = app
        .get(
            "/api/v1/programmes/PROSMED",
            &app.user_token("api.mopti", "me_officer", "ML-5").await,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::FORBIDDEN, "same rule as the API");

    // A case handler has no framework right at all.
    let (cndh, _) = signed_in(&app, "cndh").await;
    for path in PAGES {
        assert_eq!(
            page(&cndh, &app, path).await.0,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    assert!(
        !page(&cndh, &app, "/")
            .await
            .1
            .contains(r#"href="/programmes""#),
        "no menu entry"
    );

    // Signed out: to the sign-in page.
    let res = browser()
        .get(app.url("/programmes/PROSMED"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(res.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .starts_with("/connexion"));
}

async fn actual_entry_stores_and_refuses_with_messages(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    prosmed(&app).await;
    app.user_token("suivi", "me_officer", "ML").await;
    // Reads the whole programme, enters values for Mopti only.
    account(
        &app,
        "suivi.mopti",
        &[("viewer", "ML"), ("me_officer", "ML-5")],
    )
    .await;
    app.user_token("lecteur", "viewer", "ML").await;
    let (me, csrf) = signed_in(&app, "suivi").await;
    let url = app.url("/programmes/PROSMED/indicateurs/1.2.1");
    let post = |c: &reqwest::Client, fields: Vec<(&'static str, String)>| {
        c.post(url.clone()).form(&fields).send()
    };
    let entry = |csrf: &str, period: &str, zone: &str, value: &str| {
        vec![
            ("csrf", csrf.to_string()),
            ("periode", period.to_string()),
            ("zone", zone.to_string()),
            ("valeur", value.to_string()),
            ("note", "rapport ERAR".to_string()),
        ]
    };

    assert_eq!(
        light_of(
            &page(&me, &app, "/programmes/PROSMED?annee=2021").await.1,
            "1.2.1"
        ),
        "no_data"
    );
    // 30 communes in Koro against a 2021 target of 58: red.
    let res = post(&me, entry(&csrf, "2021", "ML-5-KORO", "30"))
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "{}",
        res.text().await.unwrap()
    );
    assert!(res.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .contains("fait=1"));
    assert_eq!(
        light_of(
            &page(&me, &app, "/programmes/PROSMED?annee=2021").await.1,
            "1.2.1"
        ),
        "red"
    );
    // 25 more in Mopti: the national figure rolls up to 55 of 58 (94,8 %): green.
    let res = post(&me, entry(&csrf, "2021", "ML-5-MOPTI", "25"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let fw = page(&me, &app, "/programmes/PROSMED?annee=2021").await.1;
    assert_eq!(light_of(&fw, "1.2.1"), "green");
    assert!(fw.contains("94,8 %"), "share achieved in French");
    let ind = page(
        &me,
        &app,
        "/programmes/PROSMED/indicateurs/1.2.1?annee=2021&fait=1",
    )
    .await
    .1;
    assert!(
        ind.contains(r#"id="form-done""#) && ind.contains("rapport ERAR") && ind.contains("Koro"),
        "values by area and period"
    );

    // Bad values come back on the form with the field's message, input kept, nothing stored.
    let before = results::actuals(
        &app.db,
        &results::programme(&app.db, "PROSMED").await.unwrap(),
        &[vigie_domain::area::AreaPath("ML".into())],
    )
    .await
    .unwrap()
    .len();
    let res = me
        .post(app.url("/programmes/PROSMED/indicateurs/1.2"))
        .form(&entry(&csrf, "2022", "ML-5-KORO", "140"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(
        html.contains(r#"id="form-error""#)
            && html.contains("140")
            && html.contains(r#"name="valeur" value="140""#),
        "{html}"
    );
    assert!(html.contains(r#"id="valeur" name="valeur" value="140" required inputmode="decimal" aria-invalid="true""#), "the field is marked");
    let res = post(&me, entry(&csrf, "2030", "ML-5-KORO", "3"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("2030")
            && html.contains("2021")
            && html.contains(r#"name="periode" value="2030""#),
        "year outside the programme: {html}"
    );
    let res = post(&me, entry(&csrf, "2022", "ML-5-KORO", "douze"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("douze"));

    // An area outside the caller's grants: refused (403) on the form, with the message, input kept.
    let (mopti, mopti_csrf) = signed_in(&app, "suivi.mopti").await;
    let res = post(&mopti, entry(&mopti_csrf, "2022", "ML-6-GOUNDAM", "4"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let html = res.text().await.unwrap();
    assert!(
        html.contains(r#"id="form-error""#)
            && html.contains(r#"name="valeur" value="4""#)
            && html.contains(r#"value="ML-6-GOUNDAM" selected"#),
        "{html}"
    );
    let res = post(&mopti, entry(&mopti_csrf, "2022", "ML-5-KORO", "4"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "within their grants");

    // No CSRF token, or a reader without framework.write: refused, nothing stored.
    let res = me
        .post(url.clone())
        .form(&[("periode", "2023"), ("zone", "ML-5-KORO"), ("valeur", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let (viewer, viewer_csrf) = signed_in(&app, "lecteur").await;
    let res = post(&viewer, entry(&viewer_csrf, "2023", "ML-5-KORO", "1"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let after = results::actuals(
        &app.db,
        &results::programme(&app.db, "PROSMED").await.unwrap(),
        &[vigie_domain::area::AreaPath("ML".into())],
    )
    .await
    .unwrap();
    assert_eq!(after.len(), before + 1, "only Mopti's 2022 value was added");
    assert!(!after.iter().any(|a| a.period == "2023" || a.value == "140"));
}

async fn risk_review_and_returns(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    prosmed(&app).await;
    app.user_token("suivi", "me_officer", "ML").await;
    let (me, csrf) = signed_in(&app, "suivi").await;
    let url = app.url("/programmes/PROSMED/risques/revue");
    let today = app.now().date_naive();
    let review = |date: String, csrf: &str| {
        vec![
            ("csrf", csrf.to_string()),
            ("risque", "1".into()),
            ("date", date),
            ("probabilite", "5".into()),
            ("impact", "5".into()),
            ("statut", "monitored".into()),
            ("note", "Revue semestrielle".into()),
        ]
    };
    // A date in the future is refused with the message, input kept.
    let res = me
        .post(url.clone())
        .form(&review(
            (today + chrono::Duration::days(3)).to_string(),
            &csrf,
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let html = res.text().await.unwrap();
    assert!(
        html.contains(r#"id="form-error""#) && html.contains("Revue semestrielle"),
        "{html}"
    );
    // Without the token: refused.
    let res = me
        .post(url.clone())
        .form(&review(today.to_string(), ""))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = me
        .post(url.clone())
        .form(&review(today.to_string(), &csrf))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = page(&me, &app, "/programmes/PROSMED/risques?fait=1")
        .await
        .1;
    // Risk 1 now sits alone in the critical corner, with its review date in French.
    let cell = &html[html.find(r#"id="cell-5-5""#).unwrap()..];
    assert!(
        cell[..cell.find("</td>").unwrap()].contains(r##"href="#risque-1""##),
        "{cell}"
    );
    let row = &html[html.find(r#"id="risque-1""#).unwrap_or(0)..];
    // minijinja escapes "/" as "&#x2f;" (the browser shows "/").
    let row = row[..row.find("</tr>").unwrap_or(row.len())].replace("&#x2f;", "/");
    assert!(row.contains(&today.format("%d/%m/%Y").to_string()), "the review date shows on risk 1: {row}");
    assert!(html.contains(r#"id="form-done""#), "the confirmation shows");

    // Returns: a data set whose last month nobody sent is overdue, named with its institution.
    let org: serde_json::Value = app
        .post("/api/v1/organisations", &app.admin_token)
        .json(&serde_json::json!({"name": "Commissariat de Koro", "kind": "police", "area_code": "ML-5-KORO"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let r = app
        .post("/api/v1/returns/datasets", &app.admin_token)
        .json(&serde_json::json!({"code": "POLICE-MENS", "name": "Statistiques criminelles", "org_id": org["id"], "periodicity": "monthly", "due_days": 10, "fields": [{"code": "PLAINTES", "label": "Plaintes"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    let html = page(&me, &app, "/retours").await.1;
    let row = &html[html
        .find("Commissariat de Koro")
        .expect("institution listed")..];
    let row = &row[..row.find("</tr>").unwrap()];
    // The last complete month is due 10 days after its end: overdue, unless today is before that.
    let expect = if chrono::Datelike::day(&today) > 10 {
        "ret-overdue"
    } else {
        "ret-pending"
    };
    assert!(row.contains(expect), "{row}");
}
