//! The administration pages of issue 8 against a real server, on both backends: escalation
//! rules, categories, ODK forms (upload of the pyxform-made XForm, publish, close, download),
//! the protected-submission rule of form exports, the supervisors' exclusion and referral
//! forms, and evidence added from the public follow-up page.
//! Each form: rendered, refused without its CSRF field, refused to the wrong role or area,
//! and a mistake comes back on the form with the field marked and nothing stored.

use crate::support;

use reqwest::multipart::{Form, Part};
use reqwest::{header, StatusCode};
use support::{browser, field_of, signed_in, Backend, TestApp};
use vigie_storage::audit::{self, AuditFilter};

both_backends!(
    escalation_rules_are_listed_created_edited_and_disabled,
    categories_are_created_and_edited_in_both_languages,
    forms_are_uploaded_as_drafts_published_closed_and_downloaded,
    protected_submissions_stay_out_of_form_exports,
    supervisors_exclude_handlers_and_refer_cases,
    the_reporter_adds_evidence_on_the_follow_up_page,
);

fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get(header::LOCATION)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// The demo tree (communes included), as the OpenRosa tests load it: the shipped form's
/// commune list names its communes.
async fn with_demo_areas(app: &TestApp) {
    let bytes = std::fs::read(repo("data/demo/areas.csv")).unwrap();
    let rows = vigie_domain::import::areas::parse(vigie_domain::import::areas::Format::Csv, &bytes).unwrap();
    vigie_storage::areas::import(&app.db, &rows, &vigie_storage::audit::Actor::system("test")).await.unwrap();
}

fn repo(path: &str) -> String {
    format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR"))
}

async fn audit_actions(app: &TestApp, entity: &str) -> Vec<String> {
    let f = AuditFilter {
        entity: Some(entity.into()),
        entity_id: None,
        actor: None,
    };
    audit::list(&app.db, &f, 1, 100)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|e| e.action)
        .collect()
}

/// The fields of the escalation form, levels as repeated fields.
fn rule_fields(csrf: &str, area: &str, levels: &[(&str, &str, &str)]) -> Vec<(String, String)> {
    let mut f = vec![
        ("csrf".to_string(), csrf.to_string()),
        ("zone".into(), area.into()),
        ("categorie".into(), "".into()),
        ("gravite".into(), "3".into()),
    ];
    for (name, phone, minutes) in levels {
        f.push(("niveau_nom".into(), name.to_string()));
        f.push(("niveau_tel".into(), phone.to_string()));
        f.push(("niveau_minutes".into(), minutes.to_string()));
    }
    // An empty row, as the form sends it: skipped.
    f.extend([
        ("niveau_nom".into(), String::new()),
        ("niveau_tel".into(), String::new()),
        ("niveau_minutes".into(), String::new()),
    ]);
    f
}

async fn escalation_rules_are_listed_created_edited_and_disabled(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    app.user_token("ana.koro", "analyst", "ML-5-KORO").await;
    app.user_token("lecteur", "viewer", "ML").await;
    let (admin, csrf) = signed_in(&app, "admin").await;
    let page = admin
        .get(app.url("/admin/escalade/nouvelle"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    assert!(
        page.contains("Nouvelle règle d")
            && page.contains(r#"name="niveau_nom""#)
            && page.contains("Koro"),
        "{page}"
    );

    // Without the session's token: refused, nothing stored.
    let mut no_csrf = rule_fields(
        &csrf,
        "ML-5-KORO",
        &[("Sous-préfet de Koro", "+22376000001", "30")],
    );
    no_csrf.remove(0);
    assert_eq!(
        admin
            .post(app.url("/admin/escalade/nouvelle"))
            .form(&no_csrf)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    // A bad phone on the second level: back on the form, that field marked, the typing kept.
    let bad = rule_fields(
        &csrf,
        "ML-5-KORO",
        &[
            ("Sous-préfet de Koro", "+22376000001", "30"),
            ("Préfet <b>de Mopti</b>", "12", "60"),
        ],
    );
    let res = admin
        .post(app.url("/admin/escalade/nouvelle"))
        .form(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text().await.unwrap();
    assert!(
        page.contains(r#"id="form-error""#) && page.contains("levels[1].phone"),
        "{page}"
    );
    assert!(page.contains(r#"id="niveau-tel-1" name="niveau_tel" value="12" type="tel" inputmode="tel" maxlength="20" aria-invalid="true""#), "{page}");
    assert!(
        page.contains("Préfet &lt;b&gt;de Mopti&lt;&#x2f;b&gt;") && !page.contains("<b>de Mopti"),
        "escaped"
    );
    // A deadline over a week, and no level at all: refused too.
    let res = admin
        .post(app.url("/admin/escalade/nouvelle"))
        .form(&rule_fields(
            &csrf,
            "ML-5-KORO",
            &[("Gendarmerie", "", "20000")],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = admin
        .post(app.url("/admin/escalade/nouvelle"))
        .form(&rule_fields(&csrf, "ML-5-KORO", &[]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        vigie_storage::alerts::list_rules(&app.db)
            .await
            .unwrap()
            .is_empty(),
        "nothing stored on error"
    );

    // A good one.
    let good = rule_fields(
        &csrf,
        "ML-5-KORO",
        &[
            ("Sous-préfet de Koro", "+22376000001", "30"),
            ("Brigade de gendarmerie de Koro", "", "90"),
        ],
    );
    let res = admin
        .post(app.url("/admin/escalade/nouvelle"))
        .form(&good)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "{}",
        res.text().await.unwrap()
    );
    assert_eq!(location(&res), "/admin/escalade?ok=cree");
    let rules = vigie_storage::alerts::list_rules(&app.db).await.unwrap();
    assert_eq!(rules.len(), 1);
    let id = rules[0].0.id;
    let list = admin
        .get(app.url("/admin/escalade?ok=cree"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        list.contains("Règle créée.")
            && list.contains("Sous-préfet de Koro")
            && list.contains("sans téléphone (sauté)")
            && list.contains("1 h 30 min"),
        "{list}"
    );
    // Filters: another area's rules are not listed for Tombouctou; a category filter leaves out an "any" rule.
    assert!(!admin
        .get(app.url("/admin/escalade?zone=ML-6"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
        .contains("Sous-préfet de Koro"));
    assert!(admin
        .get(app.url("/admin/escalade?zone=ML-5-KORO&gravite=3"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
        .contains("Sous-préfet de Koro"));
    assert!(!admin
        .get(app.url("/admin/escalade?categorie=armed_attack"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
        .contains("Sous-préfet de Koro"));

    // The filter form as sent with every "all" choice.
    let all = admin.get(app.url("/admin/escalade?zone=&categorie=&gravite=")).send().await.unwrap();
    assert_eq!(all.status(), StatusCode::OK);
    assert!(all.text().await.unwrap().contains("Sous-préfet de Koro"));
    // Edit: the form holds the rule; the change is saved and audited with the old version.
    let page = admin
        .get(app.url(&format!("/admin/escalade/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(r#"value="Sous-préfet de Koro""#)
            && page.contains(r#"<option value="ML-5-KORO" selected>"#),
        "{page}"
    );
    let edited = rule_fields(
        &csrf,
        "ML-5-KORO",
        &[("Sous-préfet de Koro", "+22376000001", "15")],
    );
    let res = admin
        .post(app.url(&format!("/admin/escalade/{id}")))
        .form(&edited)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (r, _) = vigie_storage::alerts::get_rule(&app.db, id).await.unwrap();
    assert_eq!((r.levels.len(), r.levels[0].ack_minutes), (1, 15));

    // An analyst of Koro may change the Koro rule, not create one for the whole region;
    // a viewer sees no page at all.
    let (ana, ana_csrf) = signed_in(&app, "ana.koro").await;
    assert_eq!(
        ana.get(app.url("/admin/escalade"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let res = ana
        .post(app.url("/admin/escalade/nouvelle"))
        .form(&rule_fields(&ana_csrf, "ML-5", &[("Gouverneur", "", "30")]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let (viewer, viewer_csrf) = signed_in(&app, "lecteur").await;
    assert_eq!(
        viewer
            .get(app.url("/admin/escalade"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    let res = viewer
        .post(app.url(&format!("/admin/escalade/{id}/etat")))
        .form(&[("csrf", viewer_csrf.as_str()), ("desactiver", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(
        !viewer
            .get(app.url("/"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
            .contains(r#"href="/admin/escalade""#),
        "no menu entry"
    );

    // Disable: listed as such, no longer used to escalate; enable again.
    let res = ana
        .post(app.url(&format!("/admin/escalade/{id}/etat")))
        .form(&[("csrf", ana_csrf.as_str()), ("desactiver", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(
        vigie_storage::alerts::rules(&app.db)
            .await
            .unwrap()
            .is_empty(),
        "a disabled rule escalates nothing"
    );
    let list = admin
        .get(app.url("/admin/escalade"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        list.contains("Désactivée") && list.contains("Réactiver"),
        "{list}"
    );
    let res = admin
        .post(app.url(&format!("/admin/escalade/{id}/etat")))
        .form(&[("csrf", csrf.as_str()), ("desactiver", "0")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        vigie_storage::alerts::rules(&app.db).await.unwrap().len(),
        1
    );
    let actions = audit_actions(&app, "escalation_rule").await;
    for a in [
        "escalation_rule.create",
        "escalation_rule.update",
        "escalation_rule.disable",
        "escalation_rule.enable",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }
    // The API lists the same rule, with its state.
    let api: serde_json::Value = app
        .get("/api/v1/escalation-rules", &app.admin_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(api[0]["disabled"], false);
}

async fn categories_are_created_and_edited_in_both_languages(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    app.user_token("ana", "analyst", "ML").await;
    let (admin, csrf) = signed_in(&app, "admin").await;
    let list = admin
        .get(app.url("/admin/categories"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        list.contains("Violence basée sur le genre") && list.contains("oui (dossiers protégés)"),
        "{list}"
    );
    admin.get(app.url("/langue/en")).send().await.unwrap();
    let en = admin
        .get(app.url("/admin/categories"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        en.contains("Report categories") && en.contains("Gender-based violence"),
        "English labels"
    );
    admin.get(app.url("/langue/fr")).send().await.unwrap();

    let form = |code: &str, fr: &str, keywords: &str| {
        vec![
            ("csrf", csrf.clone()),
            ("code", code.to_string()),
            ("label_fr", fr.to_string()),
            ("label_en", "Cattle theft".to_string()),
            ("famille", "community_conflict".to_string()),
            ("gravite", "2".to_string()),
            ("mots_cles", keywords.to_string()),
        ]
    };
    // A bad code, a missing label, a keyword another category has: each named, nothing stored.
    let before = vigie_storage::categories::list(&app.db)
        .await
        .unwrap()
        .len();
    let res = admin
        .post(app.url("/admin/categories/nouvelle"))
        .form(&form("Vol Bétail", "Vol de bétail", "betail"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains(r#"id="code" name="code" value="vol bétail""#));
    let res = admin
        .post(app.url("/admin/categories/nouvelle"))
        .form(&form("vol_betail", "", "betail"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("label_fr"));
    let res = admin
        .post(app.url("/admin/categories/nouvelle"))
        .form(&form("vol_betail", "Vol de bétail", "betail\nvbg"))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_client_error(), "{}", res.status());
    assert!(res.text().await.unwrap().contains(r#"id="form-error""#));
    let res = admin
        .post(app.url("/admin/categories/nouvelle"))
        .form(&form("armed_attack", "Attaque", "zzz"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::CONFLICT,
        "creating never overwrites"
    );
    assert_eq!(
        vigie_storage::categories::list(&app.db)
            .await
            .unwrap()
            .len(),
        before
    );
    // Without the token; by an analyst (no taxonomy.write): refused.
    let mut no_csrf = form("vol_betail", "Vol de bétail", "betail");
    no_csrf.remove(0);
    assert_eq!(
        admin
            .post(app.url("/admin/categories/nouvelle"))
            .form(&no_csrf)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    let (ana, ana_csrf) = signed_in(&app, "ana").await;
    assert_eq!(
        ana.get(app.url("/admin/categories"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    let mut by_ana = form("vol_betail", "Vol de bétail", "betail");
    by_ana[0].1 = ana_csrf;
    assert_eq!(
        ana.post(app.url("/admin/categories/nouvelle"))
            .form(&by_ana)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );

    // Created, then edited: protected, keywords one per line; the SMS taxonomy reads them.
    let res = admin
        .post(app.url("/admin/categories/nouvelle"))
        .form(&form(
            "vol_betail",
            "Vol de <i>bétail</i>",
            "betail, vol de betail",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "{}",
        res.text().await.unwrap()
    );
    let list = admin
        .get(app.url(&location(&res)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        list.contains("Catégorie enregistrée")
            && list.contains("Vol de &lt;i&gt;bétail&lt;&#x2f;i&gt;")
            && list.contains(r#"<span class="tag">vol de betail</span>"#),
        "{list}"
    );
    let page = admin
        .get(app.url("/admin/categories/vol_betail"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("betail\nvol de betail</textarea>") && !page.contains(r#"id="code""#),
        "{page}"
    );
    let mut edit = form("ignored", "Vol de bétail", "betail\nabigeat");
    edit.push(("protegee", "1".to_string()));
    let res = admin
        .post(app.url("/admin/categories/vol_betail"))
        .form(&edit)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let t = vigie_storage::categories::taxonomy(&app.db).await.unwrap();
    let c = t
        .get(&vigie_domain::early_warning::taxonomy::CategoryCode::parse("vol_betail").unwrap())
        .unwrap();
    assert!(
        c.protected && c.keywords == vec!["betail".to_string(), "abigeat".to_string()],
        "{c:?}"
    );
    assert!(
        audit_actions(&app, "category")
            .await
            .iter()
            .filter(|a| *a == "category.save")
            .count()
            >= 2
    );
    assert_eq!(
        admin
            .get(app.url("/admin/categories/nexistepas"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
}

fn xform_upload(csrf: &str, bytes: Vec<u8>, file_name: &str, area: &str) -> Form {
    Form::new()
        .text("csrf", csrf.to_string())
        .text("but", "incident")
        .text("zone", area.to_string())
        .part(
            "fichier",
            Part::bytes(bytes)
                .file_name(file_name.to_string())
                .mime_str("text/xml")
                .unwrap(),
        )
}

async fn forms_are_uploaded_as_drafts_published_closed_and_downloaded(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    app.user_token("me.goundam", "me_officer", "ML-6-GOUNDAM")
        .await;
    let (admin, csrf) = signed_in(&app, "admin").await;
    let page = admin
        .get(app.url("/admin/formulaires"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("ne lit pas les fichiers XLSForm")
            && page.contains(r#"enctype="multipart/form-data""#),
        "{page}"
    );
    let xml = std::fs::read(repo("forms/incident_fr.xml")).unwrap();

    // The spreadsheet itself is named as such; bad XML is named too; nothing stored.
    let xlsx = std::fs::read(repo("forms/incident_fr.xlsx")).unwrap();
    let res = admin
        .post(app.url("/admin/formulaires"))
        .multipart(xform_upload(&csrf, xlsx, "incident_fr.xlsx", "ML"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("tableur XLSForm"));
    let res = admin
        .post(app.url("/admin/formulaires"))
        .multipart(xform_upload(
            &csrf,
            b"<h:html><oops".to_vec(),
            "x.xml",
            "ML",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains(r#"id="form-error""#));
    // Without the token.
    let res = admin
        .post(app.url("/admin/formulaires"))
        .multipart(xform_upload("faux", xml.clone(), "f.xml", "ML"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // An M&E officer of Goundam may not put a form on the whole country.
    let (me, me_csrf) = signed_in(&app, "me.goundam").await;
    let res = me
        .post(app.url("/admin/formulaires"))
        .multipart(xform_upload(&me_csrf, xml.clone(), "f.xml", "ML"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(
        vigie_storage::forms::list_managed(&app.db, &[vigie_domain::area::AreaPath("ML".into())])
            .await
            .unwrap()
            .is_empty(),
        "nothing stored"
    );

    // Uploaded: a draft, not offered to phones.
    let res = admin
        .post(app.url("/admin/formulaires"))
        .multipart(xform_upload(&csrf, xml.clone(), "incident_fr.xml", "ML-5"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "{}",
        res.text().await.unwrap()
    );
    let list = admin
        .get(app.url("/admin/formulaires?ok=televerse"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        list.contains("<code>vigie_incident</code>") && list.contains("<strong>brouillon</strong>"),
        "{list}"
    );
    let id =
        vigie_storage::forms::list_managed(&app.db, &[vigie_domain::area::AreaPath("ML".into())])
            .await
            .unwrap()[0]
            .0
            .id;
    let phone_token = app.user_token("relais", "reporter", "ML-5").await;
    let form_list = reqwest::Client::new()
        .get(app.url(&format!("/key/{phone_token}/formList")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !form_list.contains("vigie_incident"),
        "a draft is not offered: {form_list}"
    );
    // The Goundam officer neither sees it nor may publish it.
    assert!(!me
        .get(app.url("/admin/formulaires"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
        .contains("vigie_incident"));
    let res = me
        .post(app.url(&format!("/admin/formulaires/{id}/etat")))
        .form(&[("csrf", me_csrf.as_str()), ("ouvrir", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        me.get(app.url(&format!("/admin/formulaires/{id}/form.xml")))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );

    // Published: offered; the download is the stored XForm byte for byte.
    let res = admin
        .post(app.url(&format!("/admin/formulaires/{id}/etat")))
        .form(&[("csrf", csrf.as_str()), ("ouvrir", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let form_list = reqwest::Client::new()
        .get(app.url(&format!("/key/{phone_token}/formList")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        form_list.contains("<formID>vigie_incident</formID>"),
        "{form_list}"
    );
    let dl = admin
        .get(app.url(&format!("/admin/formulaires/{id}/form.xml")))
        .send()
        .await
        .unwrap();
    assert_eq!(dl.status(), StatusCode::OK);
    assert!(dl.headers()[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .starts_with("attachment; filename=\"vigie_incident-"));
    assert_eq!(dl.bytes().await.unwrap().to_vec(), xml);
    // Closed: no longer offered, and a submission to it is refused and not stored.
    let res = admin
        .post(app.url(&format!("/admin/formulaires/{id}/etat")))
        .form(&[("csrf", csrf.as_str()), ("ouvrir", "0")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let list = admin
        .get(app.url("/admin/formulaires"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        list.contains("<strong>fermé</strong>") && list.contains("Publier"),
        "{list}"
    );
    let sub = submission("uuid:ferme", "armed_attack");
    let res = reqwest::Client::new()
        .post(app.url(&format!("/key/{phone_token}/submission")))
        .multipart(collect_form(sub))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(vigie_storage::forms::submissions(&app.db, id)
        .await
        .unwrap()
        .is_empty());
    let actions = audit_actions(&app, "form").await;
    for a in ["form.create", "form.publish", "form.close"] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }
}

/// An incident submission of the shipped form, in Mopti (a commune of the test tree's cercle).
fn submission(uuid: &str, category: &str) -> String {
    format!(
        r#"<?xml version='1.0' ?><data id="vigie_incident" version="2026052101" xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms"><debut>2026-05-21T07:58:12.331+00:00</debut><fin>2026-05-21T08:04:40.102+00:00</fin><categorie>{category}</categorie><description>Faits signalés par le relais ({uuid})</description><date_evenement>2026-05-21T06:00:00.000+00:00</date_evenement><lieu><commune>ML-5-MOPTI-MOPTI</commune><lieu_dit>Marché</lieu_dit><position/></lieu><photo/><message_vocal/><type_rapporteur>focal_point</type_rapporteur><meta><instanceID>{uuid}</instanceID></meta></data>"#
    )
}

fn collect_form(xml: String) -> Form {
    Form::new().part(
        "xml_submission_file",
        Part::bytes(xml.into_bytes())
            .file_name("submission.xml")
            .mime_str("text/xml")
            .unwrap(),
    )
}

async fn protected_submissions_stay_out_of_form_exports(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    with_demo_areas(&app).await;
    let xml = std::fs::read(repo("forms/incident_fr.xml")).unwrap();
    let res = app
        .post(
            "/api/v1/forms?purpose=incident&area_code=ML",
            &app.admin_token,
        )
        .header("content-type", "text/xml")
        .body(xml)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "{}",
        res.text().await.unwrap()
    );
    let form: serde_json::Value = res.json().await.unwrap();
    assert_eq!(form["state"], "open");
    let phone = app.user_token("relais", "reporter", "ML-5").await;
    for (uuid, cat) in [
        ("uuid:ouvert", "armed_attack"),
        ("uuid:protege", "gender_based_violence"),
    ] {
        let res = reqwest::Client::new()
            .post(app.url(&format!("/key/{phone}/submission")))
            .multipart(collect_form(submission(uuid, cat)))
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            StatusCode::CREATED,
            "{}",
            res.text().await.unwrap()
        );
    }
    // An M&E officer manages forms but may not read protected cases; a supervisor of cases
    // who also manages forms may.
    let me = app.user_token("suivi.eval", "me_officer", "ML").await;
    let id = form["id"].as_i64().unwrap();
    let csv = |token: String| {
        let app = &app;
        async move {
            app.get(&format!("/api/v1/forms/{id}/export.csv"), &token)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let mine = csv(me.clone()).await;
    assert_eq!(mine.lines().count(), 2, "header + the open one:\n{mine}");
    assert!(
        mine.contains("uuid:ouvert")
            && !mine.contains("uuid:protege")
            && !mine.contains("gender_based_violence"),
        "{mine}"
    );
    let all = csv(app.admin_token.clone()).await;
    assert!(
        all.contains("uuid:ouvert") && all.contains("uuid:protege"),
        "{all}"
    );
    // The same rule for the list of submissions, the workbook and the tallies.
    let subs: serde_json::Value = app
        .get(&format!("/api/v1/forms/{id}/submissions"), &me)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(subs.as_array().unwrap().len(), 1, "{subs}");
    let subs: serde_json::Value = app
        .get(&format!("/api/v1/forms/{id}/submissions"), &app.admin_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(subs.as_array().unwrap().len(), 2);
    let tally = app
        .get(&format!("/api/v1/forms/{id}/tally"), &me)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // The category question counts one answer (armed attack), not the protected one.
    assert!(tally.contains(r#""total":{"counts":[1,0,0,0,0,0,0,0,0,0,0,0,0,0],"answered":1"#), "{tally}");
    // The page shows the count of every submission (a number, not their content).
    let (web, _) = signed_in(&app, "suivi.eval").await;
    let page = web
        .get(app.url("/admin/formulaires"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!(r#"href="/api/v1/forms/{id}/export.csv""#)),
        "{page}"
    );
}

/// A denunciation through the public form; returns the citizen's client and receipt code.
async fn denounce(app: &TestApp) -> (reqwest::Client, String) {
    let citizen = browser();
    let form = citizen
        .get(app.url("/denoncer"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = field_of(&form, "csrf");
    let res = citizen
        .post(app.url("/denoncer"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("zone", "ML-5-KORO"),
            ("localite", "Koro"),
            ("administration", "Douanes"),
            ("faits", "Le chef de poste exige 5 000 FCFA par camion"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let page = res.text().await.unwrap();
    let i = page.find(r#"id="code-recu">"#).expect("receipt code") + r#"id="code-recu">"#.len();
    (citizen, page[i..].split('<').next().unwrap().to_string())
}

async fn only_case(app: &TestApp) -> i64 {
    vigie_storage::run!(&app.db.read, c => sqlx::query_scalar::<_, i64>("SELECT id FROM cases").fetch_one(c).await.unwrap())
}

async fn supervisors_exclude_handlers_and_refer_cases(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    denounce(&app).await;
    app.user_token("sup", "case_supervisor", "ML").await;
    app.user_token("awa", "case_handler", "ML-5").await;
    app.user_token("ibrahim", "case_handler", "ML-5").await;
    let cndh = vigie_storage::orgs::create(
        &app.db,
        "CNDH",
        "cndh",
        &vigie_domain::area::AreaCode::parse("ML").unwrap(),
        &vigie_storage::audit::Actor::system("test"),
    )
    .await
    .unwrap();
    let id = only_case(&app).await;
    let awa = vigie_storage::users::id_by_username(&app.db, "awa")
        .await
        .unwrap();

    // A handler sees neither form, and may not post them.
    let (h, h_csrf) = signed_in(&app, "ibrahim").await;
    let page = h
        .get(app.url(&format!("/dossiers/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !page.contains(r#"id="exclusion""#) && !page.contains(r#"id="orientation""#),
        "{page}"
    );
    let res = h
        .post(app.url(&format!("/dossiers/{id}/exclusion")))
        .form(&[
            ("csrf", h_csrf.as_str()),
            ("charge", awa.to_string().as_str()),
            ("motif", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = h
        .post(app.url(&format!("/dossiers/{id}/orientation")))
        .form(&[("csrf", h_csrf.as_str()), ("institution", "Tribunal")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    let (sup, csrf) = signed_in(&app, "sup").await;
    let page = sup
        .get(app.url(&format!("/dossiers/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(r#"id="exclusion""#)
            && page.contains(
                r#"action="/dossiers/{id}/orientation""#.replace("{id}", &id.to_string()).as_str()
            ),
        "{page}"
    );
    assert!(
        page.contains(r#"<option value=""#.to_string().as_str()) && page.contains(">CNDH</option>"),
        "{page}"
    );
    // Without a reason: on the form, nothing stored. Without the token: refused.
    let res = sup
        .post(app.url(&format!("/dossiers/{id}/exclusion")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("charge", awa.to_string().as_str()),
            ("motif", "  "),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains(
        r#"id="motif" name="motif" rows="2" maxlength="500" required aria-invalid="true""#
    ));
    let res = sup
        .post(app.url(&format!("/dossiers/{id}/exclusion")))
        .form(&[
            ("charge", awa.to_string().as_str()),
            ("motif", "Parent du mis en cause"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(
        !vigie_storage::cases::relation(&app.db, id, awa)
            .await
            .unwrap()
            .excluded
    );
    // Excluded: Awa can no longer be assigned nor open the case.
    let res = sup
        .post(app.url(&format!("/dossiers/{id}/exclusion")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("charge", awa.to_string().as_str()),
            ("motif", "Parent du mis en cause"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "{}",
        res.text().await.unwrap()
    );
    assert!(
        vigie_storage::cases::relation(&app.db, id, awa)
            .await
            .unwrap()
            .excluded
    );
    let page = sup
        .get(app.url(&location(&res)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Chargé exclu du dossier.") && !page.contains(">awa (awa)<"),
        "{page}"
    );
    let (awa_c, _) = signed_in(&app, "awa").await;
    assert_eq!(
        awa_c
            .get(app.url(&format!("/dossiers/{id}")))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );

    // Referral: an unknown desk is named; a desk and an institution are recorded and audited.
    let res = sup
        .post(app.url(&format!("/dossiers/{id}/orientation")))
        .form(&[("csrf", csrf.as_str()), ("bureau", "999999")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = sup
        .post(app.url(&format!("/dossiers/{id}/orientation")))
        .form(&[("csrf", csrf.as_str()), ("bureau", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = sup
        .post(app.url(&format!("/dossiers/{id}/orientation")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("bureau", cndh.id.to_string().as_str()),
            ("institution", "Tribunal <b>de Mopti</b>"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "{}",
        res.text().await.unwrap()
    );
    let page = sup
        .get(app.url(&location(&res)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Dossier orienté.")
            && page.contains("Tribunal &lt;b&gt;de Mopti&lt;&#x2f;b&gt;")
            && page.contains("CNDH"),
        "{page}"
    );
    let actions = audit_actions(&app, "case").await;
    assert!(
        actions.iter().any(|a| a == "case.exclude") && actions.iter().any(|a| a == "case.refer"),
        "{actions:?}"
    );
}

const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, b'I', b'H', b'D', b'R', 0, 0, 0,
    1, 0, 0, 0, 1, 8, 6, 0, 0, 0,
];

fn evidence_form(csrf: &str, code: &str, bytes: Vec<u8>, name: &str, mime: &str) -> Form {
    Form::new()
        .text("csrf", csrf.to_string())
        .text("code", code.to_string())
        .part(
            "fichier",
            Part::bytes(bytes)
                .file_name(name.to_string())
                .mime_str(mime)
                .unwrap(),
        )
}

async fn the_reporter_adds_evidence_on_the_follow_up_page(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    let (citizen, code) = denounce(&app).await;
    let id = only_case(&app).await;
    let count = || async {
        vigie_storage::cases::evidence_list(&app.db, id)
            .await
            .unwrap()
            .len()
    };
    let page = citizen
        .get(app.url("/suivi"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let page = citizen
        .post(app.url("/suivi"))
        .form(&[
            ("csrf", field_of(&page, "csrf").as_str()),
            ("code", code.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(r#"action="/suivi/piece" enctype="multipart/form-data""#)
            && page.contains("1 024 Kio")
            || page.contains("1\u{202f}024 Kio"),
        "{page}"
    );
    let csrf = field_of(&page, "csrf");

    // Another browser (no form cookie): refused before anything is read.
    let res = browser()
        .post(app.url("/suivi/piece"))
        .multipart(evidence_form(
            &csrf,
            &code,
            PNG.to_vec(),
            "photo.png",
            "image/png",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // A program disguised as a photo: named, nothing stored.
    let res = citizen
        .post(app.url("/suivi/piece"))
        .multipart(evidence_form(
            &csrf,
            &code,
            b"MZ\x90\x00 not an image".to_vec(),
            "photo.jpg",
            "image/jpeg",
        ))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_client_error(), "{}", res.status());
    let page = res.text().await.unwrap();
    assert!(page.contains(r#"id="h-piece""#) && page.contains(r#"type="file" required accept="image/jpeg,image/png,image/webp,audio/*" aria-describedby="fichier-hint" aria-invalid="true""#), "{page}");
    assert_eq!(count().await, 0);
    // Too large (over 1 MiB): named, nothing stored.
    let csrf = field_of(&page, "csrf");
    let mut big = PNG.to_vec();
    big.resize(1024 * 1024 + 10, 0);
    let res = citizen
        .post(app.url("/suivi/piece"))
        .multipart(evidence_form(&csrf, &code, big, "grande.png", "image/png"))
        .send()
        .await;
    // The server may answer before reading the whole body; either way nothing is stored.
    if let Ok(res) = res {
        assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let page = res.text().await.unwrap();
        assert!(
            page.contains("trop") || page.contains("volumineux") || page.contains("octets"),
            "{page}"
        );
    }
    assert_eq!(count().await, 0);
    // A wrong code: refused on the form, nothing stored.
    let page = citizen
        .get(app.url("/suivi"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = field_of(&page, "csrf");
    let wrong = format!(
        "{}{}",
        &code[..code.len() - 1],
        if code.ends_with('0') { '1' } else { '0' }
    );
    let res = citizen
        .post(app.url("/suivi/piece"))
        .multipart(evidence_form(
            &csrf,
            &wrong,
            PNG.to_vec(),
            "photo.png",
            "image/png",
        ))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_client_error());
    assert_eq!(count().await, 0);
    // Each page the citizen gets carries a fresh token (and cookie).
    let csrf = field_of(&res.text().await.unwrap(), "csrf");
    // A real photo: added, sealed (the stored bytes are not the photo's).
    let res = citizen
        .post(app.url("/suivi/piece"))
        .multipart(evidence_form(
            &csrf,
            &code,
            PNG.to_vec(),
            "photo.png",
            "image/png",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("Votre pièce a été ajoutée au dossier."));
    assert_eq!(count().await, 1);
    let stored: Vec<u8> = vigie_storage::run!(&app.db.read, c => sqlx::query_scalar("SELECT bytes FROM case_evidence").fetch_one(c).await.unwrap());
    assert!(!stored.windows(4).any(|w| w == b"IHDR"), "sealed at rest");
}
