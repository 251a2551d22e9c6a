//! The authorization matrix: EVERY route of the OpenAPI document is called as every builtin
//! role, inside and outside the caller's area, at the root of the tree, unauthenticated, with an
//! expired token and with a revoked token, and the answer is compared with the rule written in
//! [`MATRIX`]. A route of the document without a row fails the test (and so does a row whose
//! route is gone): a new route cannot ship without deciding who may call it.
//!
//! Adding a route = adding ONE line to `MATRIX`:
//! `r("METHOD /api/v1/path/{id}", Rule, Fixture, Body)`.
//! - `Rule`: `Public` (no credential), `SignedIn` (any account), `Anywhere(p)` (permission held
//!   in any area: catalogues and lists cut to the caller's scope), `InArea(p)` (permission over
//!   the area of the record or of the body's `area_code`), `Root(p)` (permission over the whole
//!   tree), `Supervisor` (case supervisor or admin over the case's area), `Assigned` (handlers
//!   assigned to the case only: in this test, the case handlers, assigned by the fixtures).
//! - `Fixture`: what fills `{id}`/`{code}`/`{name}` in the path: a record that lives in
//!   ML-5-KORO ("inside": the callers' grants are on ML-5 Mopti) or in ML-6-GOUNDAM ("outside").
//! - `Body`: `NoBody`, `Json("…")`, `Raw("content-type", "…")` or `File("content-type", "repo/path")`;
//!   `{area}`, `{region}`, `{uniq}`, `{user}` (an account in the same area) are replaced in it
//!   and in the query string. Bodies are valid so a refusal can only come from access control.
//!
//! "Allowed" means the request went past access control: neither 401 nor 403 nor a 5xx (a 404
//! or 409 from the handler is fine). "Denied" means 403 for a signed-in caller and 401 without a
//! valid credential. An outside record must answer 403 (so a missing fixture cannot make the
//! outside check pass by a 404).

use crate::support;

use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use support::{Backend, TestApp};
use vigie_domain::access::{builtin_roles, Permission, Permission::*};

both_backends!(every_route_as_every_role, protected_reports_need_cases_read);

#[derive(Debug, Clone, Copy)]
enum Rule {
    Public,
    SignedIn,
    Anywhere(Permission),
    InArea(Permission),
    Root(Permission),
    Supervisor,
    Assigned,
}
use Rule::*;

/// What a path's parameters name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Fx {
    /// The path has no record in it (the area, if any, comes from the body or query).
    NoRecord,
    Area,
    Org,
    User,
    Report,
    Alert,
    Case,
    Form,
    Role,
    Category,
    /// A committee (with a meeting, a decision and a plan recorded by the fixtures).
    Committee,
    Decision,
    PlanAction,
    DirectoryEntry,
    /// An event of two clustered reports (merge target, split source); `{other_event}` and
    /// `{event_report}` in bodies name a second event of the same area and one of its reports.
    Event,
    /// The report fixture, with `{attachment_id}` one of its attachments.
    Attachment,
    /// A programme (by code) with a framework (`{indicator}`), a risk (`{number}`).
    Programme,
    /// A statistical return data set (by code), of the organisation fixture.
    Dataset,
    /// An escalation rule of the area.
    EscalationRule,
}
use Fx::*;

#[derive(Debug, Clone, Copy)]
enum Body {
    NoBody,
    Json(&'static str),
    Raw(&'static str, &'static str),
    File(&'static str, &'static str),
    /// multipart/form-data, field `file`: (file name, declared type, bytes).
    Upload(&'static str, &'static str, &'static [u8]),
}
use Body::*;

struct Row {
    method: &'static str,
    path: &'static str,
    query: &'static str,
    rule: Rule,
    fx: Fx,
    body: Body,
}

/// `"METHOD /path?query"`, the rule, the fixture for the path parameters, the body.
const fn r(route: &'static str, rule: Rule, fx: Fx, body: Body) -> (&'static str, Rule, Fx, Body) {
    (route, rule, fx, body)
}

const KORO_CSV: &str = "code,parent,level,name,tags,lat,lon\nML-5-KORO,ML-5,cercle,Koro,prosmed,,\n";
const RULE: &str = r#"{"min_severity":3,"area_code":"{area}","levels":[{"name":"Brigade","phone":"76 00 00 01","ack_minutes":30}]}"#;
const REPORT: &str = r#"{"category":"armed_attack","text":"Hommes armés au marché {uniq}","occurred_at":"2026-11-20T06:40:00Z","area_code":"{area}","idempotency_key":"m-{uniq}"}"#;
const CASE: &str = r#"{"workflow":"denunciation","area_code":"{area}","title":"Racket {uniq}","fields":{"locality":"Koro","administration":"Douanes","facts":"racket au poste"}}"#;
const CATEGORY: &str = r#"{"code":"matrix_test","label_fr":"Essai","label_en":"Test","family":"other","default_severity":2,"protected":false,"keywords":[]}"#;
const COMMITTEE: &str = r#"{"name":"Comité {uniq}","kind":"security_committee","area_code":"{area}","established_on":"2025-01-15","members":[{"name":"Awa {uniq}","role":"présidente","sex":"F","age_group":"adult"}]}"#;
const MEETING: &str = r#"{"held_on":"2026-02-10","agenda":"Sécurité du marché","attendance":[{"sex":"F","age_group":"youth","count":4}],"decisions":[{"text":"Patrouille","responsible":"Maire","due_on":"2026-03-01"}]}"#;
const PLAN: &str = r#"{"title":"Plan {uniq}","starts_on":"2026-01-01","ends_on":"2026-12-31","actions":[{"action":"Éclairage","responsible":"Mairie","deadline":"2026-06-30"}]}"#;
const ENTRY: &str = r#"{"full_name":"Mariam {uniq}","sex":"F","age_group":"adult","area_code":"{area}","expertise":"mediation","languages":"fulfulde","phone":"76 00 00 09","consent_on":"2026-01-05","consent_method":"written","published":true}"#;
/// The first bytes of a JPEG file: enough for the type sniffing of attachments.
const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F', 0, 1, 1, 0, 0, 1];
const PROGRAMME: &str = r#"{"code":"P-{uniq}","name":"Programme {uniq}","first_year":2021,"last_year":2023,"currency":"XOF","area_code":"{area}"}"#;
const FRAMEWORK_RESULTS: &str = "level,code,title_fr,parent_code\nresult,R1,Résultat un,\noutput,P1.1,Produit un,R1\n";
const FRAMEWORK_INDICATORS: &str = "result_code,output_code,indicator_code,label_fr,unit,baseline,baseline_year,target_2021,target_2022,target_2023,cumulative,means_of_verification\nR1,P1.1,1.1.1,Médiations,number,0,,1,2,3,yes,Rapports\n";
const RISKS_CSV: &str = "n,risk_fr,category,probability,impact,mitigation_fr,n_mitigation_measures,owner,source_lines\n1,Accès difficile aux zones,Opérationnelle,Elevée,Fort,Équipes locales,1,PNUD,\n";
const COST_RULES: &str = r#"{"management":{"kind":"entered"},"indirect":{"default_rate":{"num":8,"den":100},"by_agency":{},"by_year":{}},"levy":{"num":1,"den":100},"rounding":"half_up","decimals":0}"#;
const INDICATOR: &str = r#"{"indicator":{"code":"1.1.1","result":"R1","output":"P1.1","label":"Médiations","unit":"number","baseline":{"kind":"missing"},"baseline_year":null,"baseline_as_written":"","targets":{"2022":{"kind":"value","value":{"value":{"mantissa":2,"scale":0},"note":null}}},"cumulative":"yes","aggregation":"sum","means_of_verification":[],"responsible":null,"disaggregations":[],"line":0},"source":{"kind":"manual"}}"#;
const DATASET: &str = r#"{"code":"DS-{uniq}","name":"Retours {uniq}","org_id":{org},"periodicity":"monthly","due_days":10,"fields":[{"code":"RECORDED","label":"Infractions enregistrées"}]}"#;
const INDICATORS: &str = "?area={area}&from=2026-01-01T00:00:00Z&to=2027-01-01T00:00:00Z";

/// THE MATRIX. One line per route of the OpenAPI document.
#[rustfmt::skip]
const MATRIX: &[(&str, Rule, Fx, Body)] = &[
    // session
    r("POST /api/v1/auth/login", Public, NoRecord, Json(r#"{"username":"admin","password":"fleuve niger 2026"}"#)),
    r("POST /api/v1/auth/logout", SignedIn, NoRecord, NoBody),
    r("GET /api/v1/me", SignedIn, NoRecord, NoBody),
    r("POST /api/v1/me/totp/setup", SignedIn, NoRecord, NoBody),
    r("PUT /api/v1/me/totp", SignedIn, NoRecord, Json(r#"{"secret":"JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP","code":"000000"}"#)),
    r("DELETE /api/v1/me/totp", SignedIn, NoRecord, Json(r#"{"code":"000000"}"#)),
    // areas
    r("GET /api/v1/areas", Anywhere(AreasRead), NoRecord, NoBody),
    r("GET /api/v1/areas/{code}", InArea(AreasRead), Area, NoBody),
    r("PUT /api/v1/areas/{code}", InArea(AreasWrite), Area, Json(r#"{"parent":"{region}","level":"cercle","name":"Cercle {uniq}","tags":["prosmed"]}"#)),
    r("POST /api/v1/areas/import", Root(AreasWrite), NoRecord, Raw("text/csv", KORO_CSV)),
    // organisations
    r("GET /api/v1/organisations", Anywhere(OrgsRead), NoRecord, NoBody),
    r("POST /api/v1/organisations", InArea(OrgsWrite), NoRecord, Json(r#"{"name":"ONG {uniq}","kind":"ngo","area_code":"{area}"}"#)),
    r("GET /api/v1/organisations/{id}", InArea(OrgsRead), Org, NoBody),
    // users and roles
    r("GET /api/v1/users", Anywhere(UsersRead), NoRecord, NoBody),
    r("POST /api/v1/users", InArea(UsersWrite), NoRecord, Json(r#"{"username":"u{uniq}","display_name":"U","password":"une phrase de passe longue","grants":[{"role":"reporter","area_code":"{area}"}]}"#)),
    r("GET /api/v1/users/{id}", InArea(UsersRead), User, NoBody),
    r("PATCH /api/v1/users/{id}", InArea(UsersWrite), User, Json("{}")),
    r("POST /api/v1/users/{id}/grants", InArea(UsersWrite), User, Json(r#"{"role":"reporter","area_code":"{area}"}"#)),
    r("DELETE /api/v1/users/{id}/grants", InArea(UsersWrite), User, Json(r#"{"role":"viewer","area_code":"{area}"}"#)),
    r("POST /api/v1/users/{id}/tokens", InArea(UsersWrite), User, Json(r#"{"name":"t{uniq}"}"#)),
    r("GET /api/v1/roles", Anywhere(UsersRead), NoRecord, NoBody),
    r("POST /api/v1/roles", Root(RolesWrite), NoRecord, Json(r#"{"name":"role_{uniq}","label":"R","permissions":["areas.read"]}"#)),
    r("PUT /api/v1/roles/{name}", Root(RolesWrite), Role, Json(r#"{"label":"Matrice","permissions":["areas.read"]}"#)),
    r("GET /api/v1/permissions", SignedIn, NoRecord, NoBody),
    r("GET /api/v1/audit", Root(AuditRead), NoRecord, NoBody),
    r("GET /api/v1/audit/verify", Root(AuditRead), NoRecord, NoBody),
    // early warning
    r("GET /api/v1/reports", Anywhere(ReportsRead), NoRecord, NoBody),
    r("POST /api/v1/reports", InArea(ReportsCreate), NoRecord, Json(REPORT)),
    r("GET /api/v1/reports/{id}", InArea(ReportsRead), Report, NoBody),
    r("POST /api/v1/reports/{id}/verification", InArea(ReportsVerify), Report, Json(r#"{"status":"verified","grade":"B2"}"#)),
    r("GET /api/v1/reports/{id}/messages", InArea(ReportsRead), Report, NoBody),
    r("POST /api/v1/reports/{id}/messages", InArea(ReportsVerify), Report, Json(r#"{"body":"Combien étaient-ils ?"}"#)),
    r("GET /api/v1/alerts", Anywhere(ReportsRead), NoRecord, NoBody),
    r("GET /api/v1/alerts/{id}", InArea(ReportsRead), Alert, NoBody),
    r("POST /api/v1/alerts/{id}/commands", InArea(AlertsRaise), Alert, Json(r#"{"command":"cancel","reason":"essai"}"#)),
    r("GET /api/v1/escalation-rules", Anywhere(AlertsRaise), NoRecord, NoBody),
    r("POST /api/v1/escalation-rules", InArea(AlertsRaise), NoRecord, Json(RULE)),
    r("PUT /api/v1/escalation-rules/{id}/auto-raise", InArea(AlertsRaise), EscalationRule, Json(r#"{"auto_raise":true}"#)),
    r("GET /api/v1/indicators/early-warning", InArea(ReportsRead), NoRecord, NoBody),
    r("GET /api/v1/categories", SignedIn, NoRecord, NoBody),
    r("PUT /api/v1/categories/{code}", Root(TaxonomyWrite), Category, Json(CATEGORY)),
    r("GET /api/v1/webhooks", Root(IntegrationsManage), NoRecord, NoBody),
    r("POST /api/v1/webhooks", Root(IntegrationsManage), NoRecord, Json(r#"{"url":"https://example.org/hook","events":["alert.raised"],"area_code":"{area}"}"#)),
    // ODK forms
    r("GET /api/v1/forms", Anywhere(FormsManage), NoRecord, NoBody),
    r("POST /api/v1/forms", InArea(FormsManage), NoRecord, File("text/xml", "forms/incident_fr.xml")),
    r("GET /api/v1/forms/{id}/submissions", InArea(FormsManage), Form, NoBody),
    r("GET /api/v1/forms/{id}/export.csv", InArea(FormsManage), Form, NoBody),
    r("GET /api/v1/forms/{id}/export.xlsx", InArea(FormsManage), Form, NoBody),
    r("GET /api/v1/forms/{id}/tally", InArea(FormsManage), Form, NoBody),
    // protected cases
    r("GET /api/v1/cases", Anywhere(CasesRead), NoRecord, NoBody),
    r("POST /api/v1/cases", InArea(CasesHandle), NoRecord, Json(CASE)),
    r("GET /api/v1/cases/export.csv", Anywhere(CasesRead), NoRecord, NoBody),
    r("GET /api/v1/case-workflows", Anywhere(CasesRead), NoRecord, NoBody),
    r("GET /api/v1/cases/{id}", InArea(CasesRead), Case, NoBody),
    r("GET /api/v1/cases/{id}/history", InArea(CasesRead), Case, NoBody),
    r("POST /api/v1/cases/{id}/transitions", InArea(CasesHandle), Case, Json(r#"{"to":"credibility_check"}"#)),
    r("POST /api/v1/cases/{id}/assignments", Supervisor, Case, Json(r#"{"user_id":{user}}"#)),
    r("POST /api/v1/cases/{id}/exclusions", Supervisor, Case, Json(r#"{"user_id":{user},"reason":"parent de la personne mise en cause"}"#)),
    r("GET /api/v1/cases/{id}/messages", Assigned, Case, NoBody),
    r("POST /api/v1/cases/{id}/messages", InArea(CasesHandle), Case, Json(r#"{"body":"Quel jour ?"}"#)),
    r("GET /api/v1/cases/{id}/evidence/{evidence_id}", Assigned, Case, NoBody),
    // Who publishes is the workflow's decision (tested in cases.rs); access control lets handlers through.
    r("POST /api/v1/cases/{id}/publication", InArea(CasesHandle), Case, Json("{}")),
    r("POST /api/v1/cases/{id}/referral", Supervisor, Case, Json(r#"{"institution":"CNDH"}"#)),
    r("POST /api/v1/reports/{id}/case", InArea(CasesHandle), Report, Json("{}")),
    // public (no account: citizens)
    r("POST /api/v1/public/denunciations", Public, NoRecord, Json(r#"{"area_code":"{area}","locality":"Koro","administration":"Douanes","facts":"Le chef de poste exige 5 000 FCFA"}"#)),
    r("POST /api/v1/public/receipt/status", Public, NoRecord, Json(r#"{"code":"0000 0000 0000 0000 0000 0000 0000"}"#)),
    r("POST /api/v1/public/receipt/answer", Public, NoRecord, Json(r#"{"code":"0000 0000 0000 0000 0000 0000 0000","body":"lundi"}"#)),
    r("POST /api/v1/public/receipt/evidence", Public, NoRecord, Json(r#"{"code":"0000 0000 0000 0000 0000 0000 0000","file_name":"a.jpg","content_type":"image/jpeg","content_base64":"/9j/"}"#)),
    r("GET /api/v1/public/transparency", Public, NoRecord, NoBody),
    // events (merge, split) and report attachments
    r("POST /api/v1/events/{id}/merge", InArea(ReportsVerify), Event, Json(r#"{"other_event_ids":[{other_event}]}"#)),
    r("POST /api/v1/events/{id}/split", InArea(ReportsVerify), Event, Json(r#"{"report_ids":[{event_report}]}"#)),
    r("GET /api/v1/reports/{id}/attachments", InArea(ReportsRead), Attachment, NoBody),
    // Analysts of the area (and the report's own sender, not among the callers here).
    r("POST /api/v1/reports/{id}/attachments", InArea(ReportsVerify), Attachment, Upload("photo.jpg", "image/jpeg", JPEG)),
    r("GET /api/v1/reports/{id}/attachments/{attachment_id}", InArea(ReportsRead), Attachment, NoBody),
    // local security governance
    r("GET /api/v1/committees", Anywhere(CommitteesRead), NoRecord, NoBody),
    r("POST /api/v1/committees", InArea(CommitteesWrite), NoRecord, Json(COMMITTEE)),
    r("GET /api/v1/committees/{id}", InArea(CommitteesRead), Committee, NoBody),
    r("POST /api/v1/committees/{id}/members", InArea(CommitteesWrite), Committee, Json(r#"{"members":[{"name":"Oumar {uniq}","role":"membre","sex":"M","age_group":"youth"}]}"#)),
    r("GET /api/v1/committees/{id}/meetings", InArea(CommitteesRead), Committee, NoBody),
    r("POST /api/v1/committees/{id}/meetings", InArea(CommitteesWrite), Committee, Json(MEETING)),
    r("POST /api/v1/committees/{id}/plans", InArea(CommitteesWrite), Committee, Json(PLAN)),
    r("POST /api/v1/decisions/{id}/follow-up", InArea(CommitteesWrite), Decision, Json(r#"{"done_on":"2026-02-20"}"#)),
    r("POST /api/v1/plan-actions/{id}/status", InArea(CommitteesWrite), PlanAction, Json(r#"{"status":"in_progress"}"#)),
    r("GET /api/v1/indicators/governance", InArea(CommitteesRead), NoRecord, NoBody),
    // directory of resource persons
    r("GET /api/v1/directory", Anywhere(DirectoryRead), NoRecord, NoBody),
    r("POST /api/v1/directory", InArea(DirectoryWrite), NoRecord, Json(ENTRY)),
    r("GET /api/v1/directory/export.csv", Anywhere(DirectoryRead), NoRecord, NoBody),
    r("GET /api/v1/directory/{id}", InArea(DirectoryRead), DirectoryEntry, NoBody),
    r("POST /api/v1/directory/{id}/consent", InArea(DirectoryWrite), DirectoryEntry, Json(r#"{"consent_on":"2026-01-05","consent_method":"oral","publish":true}"#)),
    r("POST /api/v1/directory/{id}/publication", InArea(DirectoryWrite), DirectoryEntry, Json(r#"{"published":true}"#)),
    // Last of the entry's lines: a withdrawal is final (publishing after it is refused, 400).
    r("POST /api/v1/directory/{id}/withdrawal", InArea(DirectoryWrite), DirectoryEntry, Json(r#"{"on":"2026-03-01"}"#)),
    r("GET /api/v1/public/directory", Public, NoRecord, NoBody),
    r("GET /api/v1/public/directory/export.csv", Public, NoRecord, NoBody),
    // analytics
    r("GET /api/v1/analytics/report-counts", Anywhere(ReportsRead), NoRecord, NoBody),
    r("GET /api/v1/reports/export.csv", Anywhere(ReportsRead), NoRecord, NoBody),
    r("GET /api/v1/reports/export.xlsx", Anywhere(ReportsRead), NoRecord, NoBody),
    // results frameworks, budgets, risks
    r("GET /api/v1/indicator-computers", Anywhere(FrameworkRead), NoRecord, NoBody),
    r("GET /api/v1/programmes", Anywhere(FrameworkRead), NoRecord, NoBody),
    r("POST /api/v1/programmes", InArea(FrameworkWrite), NoRecord, Json(PROGRAMME)),
    r("GET /api/v1/programmes/{code}", InArea(FrameworkRead), Programme, NoBody),
    r("PUT /api/v1/programmes/{code}/cost-rules", InArea(FrameworkWrite), Programme, Json(COST_RULES)),
    r("POST /api/v1/programmes/{code}/import/{kind}", InArea(FrameworkWrite), Programme, Raw("text/csv", RISKS_CSV)),
    r("GET /api/v1/programmes/{code}/framework", InArea(FrameworkRead), Programme, NoBody),
    r("PUT /api/v1/programmes/{code}/indicators/{indicator}", InArea(FrameworkWrite), Programme, Json(INDICATOR)),
    r("GET /api/v1/programmes/{code}/actuals", InArea(FrameworkRead), Programme, NoBody),
    r("POST /api/v1/programmes/{code}/actuals", InArea(FrameworkWrite), Programme, Json(r#"[{"indicator_code":"1.1.1","period":"2022","area_code":"{area}","value":"1"}]"#)),
    r("GET /api/v1/programmes/{code}/progress", InArea(FrameworkRead), Programme, NoBody),
    r("GET /api/v1/programmes/{code}/budget", InArea(FrameworkRead), Programme, NoBody),
    r("GET /api/v1/programmes/{code}/budget/execution", InArea(FrameworkRead), Programme, NoBody),
    r("GET /api/v1/programmes/{code}/variance", InArea(FrameworkRead), Programme, NoBody),
    r("GET /api/v1/programmes/{code}/risks", InArea(FrameworkRead), Programme, NoBody),
    r("POST /api/v1/programmes/{code}/risks/{number}/reviews", InArea(FrameworkWrite), Programme, Json(r#"{"date":"2022-06-30","likelihood":"2","impact":"3","status":"monitored"}"#)),
    r("GET /api/v1/programmes/{code}/report.csv", InArea(FrameworkRead), Programme, NoBody),
    r("GET /api/v1/programmes/{code}/report.xlsx", InArea(FrameworkRead), Programme, NoBody),
    r("GET /api/v1/programmes/{code}/report.html", InArea(FrameworkRead), Programme, NoBody),
    r("GET /api/v1/programmes/{code}/iati.xml", InArea(FrameworkRead), Programme, NoBody),
    r("GET /api/v1/programmes/{code}/dhis2/dataValueSets.json", InArea(FrameworkRead), Programme, NoBody),
    r("GET /api/v1/programmes/{code}/public.hxl.csv", InArea(FrameworkRead), Programme, NoBody),
    // statistical returns
    r("GET /api/v1/returns/datasets", Anywhere(FrameworkRead), NoRecord, NoBody),
    r("POST /api/v1/returns/datasets", InArea(FrameworkWrite), NoRecord, Json(DATASET)),
    r("POST /api/v1/returns/datasets/{code}/submissions", InArea(FrameworkWrite), Dataset, Json(r#"{"period":"2022-03","values":{"RECORDED":14}}"#)),
    r("GET /api/v1/returns/status", Anywhere(FrameworkRead), NoRecord, NoBody),
];

/// Query strings some routes need (kept out of the matrix line so the route reads as in the document).
fn query_for(path: &str) -> &'static str {
    match path {
        "/api/v1/indicators/early-warning" => INDICATORS,
        "/api/v1/forms" => "?purpose=incident&area_code={area}",
        "/api/v1/indicators/governance" => "?area={area}&from=2026-01-01&to=2026-12-31",
        "/api/v1/programmes/{code}/progress"
        | "/api/v1/programmes/{code}/report.csv"
        | "/api/v1/programmes/{code}/report.xlsx"
        | "/api/v1/programmes/{code}/report.html"
        | "/api/v1/programmes/{code}/public.hxl.csv"
        | "/api/v1/programmes/{code}/dhis2/dataValueSets.json" => "?year=2022",
        _ => "",
    }
}

fn rows() -> Vec<Row> {
    MATRIX
        .iter()
        .map(|(route, rule, fx, body)| {
            let (method, path) = route.split_once(' ').expect("\"METHOD /path\"");
            Row { method, path, query: query_for(path), rule: *rule, fx: *fx, body: *body }
        })
        .collect()
}

/// Every (METHOD, path) of the OpenAPI document, from the same router the server runs.
fn documented_routes() -> BTreeSet<(String, String)> {
    let (_, doc) = vigie_server::api::router().split_for_parts();
    let doc: Value = serde_json::to_value(&doc).unwrap();
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for m in ["get", "post", "put", "patch", "delete", "head", "options"] {
            if item.get(m).is_some() {
                out.insert((m.to_uppercase(), path.clone()));
            }
        }
    }
    out
}

#[test]
fn matrix_covers_every_documented_route() {
    let documented = documented_routes();
    let in_matrix: BTreeSet<(String, String)> = rows().iter().map(|r| (r.method.to_string(), r.path.to_string())).collect();
    assert_eq!(in_matrix.len(), MATRIX.len(), "a route appears twice in MATRIX");
    let missing: Vec<_> = documented.difference(&in_matrix).collect();
    let stale: Vec<_> = in_matrix.difference(&documented).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "routes without a line in MATRIX (add one in crates/server/tests/authz_matrix.rs): {missing:?}\nlines for routes that no longer exist: {stale:?}"
    );
}

/// Routes under /api/ added with a plain `.route("…")` would escape the OpenAPI document (and so
/// this matrix): only the document itself may be served that way.
#[test]
fn no_api_route_outside_the_document() {
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
    let mut files = vec![std::path::PathBuf::from(src)];
    let mut stray = Vec::new();
    while let Some(p) = files.pop() {
        if p.is_dir() {
            files.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        } else if p.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&p).unwrap();
            for (i, _) in text.match_indices(".route(") {
                let rest = text[i + 7..].trim_start();
                let Some(lit) = rest.strip_prefix('"').and_then(|r| r.split('"').next()) else { continue };
                if lit.starts_with("/api/") && lit != "/api/v1/openapi.json" {
                    stray.push(format!("{}: {lit}", p.display()));
                }
            }
        }
    }
    assert!(stray.is_empty(), "API routes outside utoipa_axum::routes! (undocumented): {stray:?}");
}

/// Records in each area, made as the root admin.
struct Fixtures {
    ids: BTreeMap<Fx, [String; 2]>,
    /// An account of each area (for `{user}` in bodies).
    users: [i64; 2],
    /// Other named records of each side, for `{name}` in paths and bodies (`{other_event}`…).
    named: BTreeMap<&'static str, [String; 2]>,
}

const AREAS: [&str; 2] = ["ML-5-KORO", "ML-6-GOUNDAM"];
const REGIONS: [&str; 2] = ["ML-5", "ML-6"];

async fn created(res: reqwest::Response) -> Value {
    let status = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "fixture: {status} {body}");
    body
}

async fn fixtures(app: &TestApp) -> Fixtures {
    let admin = &app.admin_token;
    let mut ids: BTreeMap<Fx, [String; 2]> = BTreeMap::new();
    let mut per_side = |fx: Fx, side: usize, v: String| ids.entry(fx).or_insert_with(|| [String::new(), String::new()])[side] = v;
    let mut users = [0; 2];
    for (side, area) in AREAS.iter().enumerate() {
        per_side(Area, side, area.to_string());
        let o = created(app.post("/api/v1/organisations", admin).json(&json!({"name": format!("Brigade {area}"), "kind": "gendarmerie", "area_code": area})).send().await.unwrap()).await;
        per_side(Org, side, o["id"].to_string());
        let u = created(app.post("/api/v1/users", admin).json(&json!({"username": format!("relais_{side}"), "display_name": "Relais",
            "password": "une phrase de passe longue", "grants": [{"role": "case_handler", "area_code": area}]})).send().await.unwrap()).await;
        users[side] = u["id"].as_i64().unwrap();
        per_side(User, side, u["id"].to_string());
        let rep = created(app.post("/api/v1/reports", admin).json(&json!({"category": "armed_attack", "text": "Hommes armés au marché",
            "occurred_at": "2026-11-20T06:40:00Z", "area_code": area, "idempotency_key": format!("fx-{side}")})).send().await.unwrap()).await;
        per_side(Report, side, rep["report_id"].to_string());
        assert!(rep["alert_id"].is_i64(), "an armed attack opens an alert: {rep}");
        per_side(Alert, side, rep["alert_id"].to_string());
        let c = created(app.post("/api/v1/cases", admin).json(&json!({"workflow": "denunciation", "area_code": area, "title": "Racket",
            "fields": {"locality": "X", "administration": "Douanes", "facts": "racket au poste"}})).send().await.unwrap()).await;
        per_side(Case, side, c["id"].to_string());
        let form = ["forms/incident_fr.xml", "forms/perception_fr.xml"][side];
        let purpose = ["incident", "survey"][side];
        let xml = std::fs::read(format!("{}/../../{form}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let f = created(app.post(&format!("/api/v1/forms?purpose={purpose}&area_code={area}"), admin).header("content-type", "text/xml").body(xml).send().await.unwrap()).await;
        per_side(Form, side, f["id"].to_string());
        let rule = RULE.replace("{area}", area);
        let rule = created(app.post("/api/v1/escalation-rules", admin).header("content-type", "application/json").body(rule).send().await.unwrap()).await;
        per_side(EscalationRule, side, rule["id"].to_string());
    }
    created(app.post("/api/v1/roles", admin).json(&json!({"name": "matrix_role", "label": "M", "permissions": ["areas.read"]})).send().await.unwrap()).await;
    per_side(Role, 0, "matrix_role".into());
    per_side(Role, 1, "matrix_role".into());
    per_side(Category, 0, "matrix_test".into());
    per_side(Category, 1, "matrix_test".into());
    per_side(NoRecord, 0, String::new());
    per_side(NoRecord, 1, String::new());
    let mut named: BTreeMap<&'static str, [String; 2]> = BTreeMap::new();
    for (side, area) in AREAS.iter().enumerate() {
        let mut name_side = |k: &'static str, v: String| named.entry(k).or_insert_with(|| [String::new(), String::new()])[side] = v;
        // Two clustered reports make the event (so a split can leave one behind); a third one,
        // another day, another kind and other words, makes a second event to merge into it.
        let mut event = Vec::new();
        for (i, text) in ["Menaces contre les commerçants du marché de bétail", "menaces contre des commerçants au marché de bétail"].iter().enumerate() {
            let rep = created(app.post("/api/v1/reports", admin).json(&json!({"category": "threat_intimidation", "text": text,
                "occurred_at": format!("2026-10-01T0{}:00:00Z", 8 + i), "area_code": area, "idempotency_key": format!("ev-{side}-{i}")})).send().await.unwrap()).await;
            event.push(rep);
        }
        let ev = event[0]["alert_id"].as_i64().expect("an event");
        assert_eq!(event[1]["alert_id"].as_i64(), Some(ev), "the two reports make one event: {event:?}");
        ids.entry(Event).or_insert_with(|| [String::new(), String::new()])[side] = ev.to_string();
        name_side("event_report", event[1]["report_id"].to_string());
        let other = created(app.post("/api/v1/reports", admin).json(&json!({"category": "displacement", "text": "Des familles déplacées arrivent à pied",
            "occurred_at": "2026-09-01T10:00:00Z", "area_code": area, "idempotency_key": format!("ev-{side}-other")})).send().await.unwrap()).await;
        let other = other["alert_id"].as_i64().expect("a second event");
        assert_ne!(other, ev, "two events");
        name_side("other_event", other.to_string());
        // An attachment to the report fixture.
        let report = ids[&Report][side].clone();
        let form = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(JPEG).file_name("photo.jpg").mime_str("image/jpeg").unwrap());
        let att = created(app.post(&format!("/api/v1/reports/{report}/attachments"), admin).multipart(form).send().await.unwrap()).await;
        ids.entry(Attachment).or_insert_with(|| [String::new(), String::new()])[side] = report;
        name_side("attachment_id", att["id"].to_string());
        // A committee with a meeting (one decision) and a plan (one action).
        let c = created(app.post("/api/v1/committees", admin).json(&json!({"name": "Comité local de sécurité", "kind": "security_committee", "area_code": area,
            "established_on": "2025-01-15", "members": [{"name": "Awa", "role": "présidente", "sex": "F", "age_group": "adult"}]})).send().await.unwrap()).await;
        let cid = c["id"].to_string();
        ids.entry(Committee).or_insert_with(|| [String::new(), String::new()])[side] = cid.clone();
        let meeting: Value = serde_json::from_str(MEETING).unwrap();
        created(app.post(&format!("/api/v1/committees/{cid}/meetings"), admin).json(&meeting).send().await.unwrap()).await;
        let plan: Value = serde_json::from_str(PLAN).unwrap();
        created(app.post(&format!("/api/v1/committees/{cid}/plans"), admin).json(&plan).send().await.unwrap()).await;
        let detail = created(app.get(&format!("/api/v1/committees/{cid}"), admin).send().await.unwrap()).await;
        ids.entry(Decision).or_insert_with(|| [String::new(), String::new()])[side] = detail["meetings"][0]["decisions"][0]["id"].as_i64().expect("a decision").to_string();
        ids.entry(PlanAction).or_insert_with(|| [String::new(), String::new()])[side] = detail["plans"][0]["actions"][0]["id"].as_i64().expect("a plan action").to_string();
        // A directory entry.
        let mut entry: Value = serde_json::from_str(&ENTRY.replace("{uniq}", "fixture")).unwrap();
        entry["area_code"] = json!(area);
        let e = created(app.post("/api/v1/directory", admin).json(&entry).send().await.unwrap()).await;
        ids.entry(DirectoryEntry).or_insert_with(|| [String::new(), String::new()])[side] = e["id"].to_string();
        // A programme with a framework and a risk; a data set of the side's organisation.
        let code = format!("MATRIX-{side}");
        let mut prog: Value = serde_json::from_str(PROGRAMME).unwrap();
        prog["code"] = json!(code);
        prog["area_code"] = json!(area);
        created(app.post("/api/v1/programmes", admin).json(&prog).send().await.unwrap()).await;
        created(app.post(&format!("/api/v1/programmes/{code}/import/framework"), admin).json(&json!({"results": FRAMEWORK_RESULTS, "indicators": FRAMEWORK_INDICATORS})).send().await.unwrap()).await;
        created(app.post(&format!("/api/v1/programmes/{code}/import/risks"), admin).header("content-type", "text/csv").body(RISKS_CSV).send().await.unwrap()).await;
        ids.entry(Programme).or_insert_with(|| [String::new(), String::new()])[side] = code;
        name_side("indicator", "1.1.1".into());
        name_side("number", "1".into());
        name_side("kind", "risks".into());
        let org = ids[&Org][side].clone();
        let ds: Value = serde_json::from_str(&DATASET.replace("{uniq}", &format!("FX{side}")).replace("{org}", &org)).unwrap();
        let ds = created(app.post("/api/v1/returns/datasets", admin).json(&ds).send().await.unwrap()).await;
        ids.entry(Dataset).or_insert_with(|| [String::new(), String::new()])[side] = ds["code"].as_str().expect("a data set code").to_string();
        name_side("org", org);
    }
    Fixtures { ids, users, named }
}

/// The case handler over Mopti is assigned to the inside case, the one over the whole tree to both.
async fn assign_handlers(app: &TestApp, fx: &Fixtures) {
    for (user, sides) in [("case_handler_mopti", &[0][..]), ("case_handler_ml", &[0, 1])] {
        let uid = vigie_storage::users::id_by_username(&app.db, user).await.unwrap();
        for &side in sides {
            let case = &fx.ids[&Case][side];
            created(app.post(&format!("/api/v1/cases/{case}/assignments"), &app.admin_token).json(&json!({"user_id": uid})).send().await.unwrap()).await;
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Allowed,
    Forbidden,
    Unauthenticated,
}

/// What the matrix says for a caller holding `role` over `grant_area` (ML-5 or the root), on
/// the record of `side` (0 inside ML-5, 1 outside).
fn expected(rule: Rule, role: &str, perms: &BTreeSet<Permission>, at_root: bool, side: usize) -> Expect {
    let reaches = at_root || side == 0;
    // The fixtures assign each case handler to the cases of its area (see `assign_handlers`).
    let assigned = role == "case_handler" && reaches;
    let ok = match rule {
        Public | SignedIn => true,
        Anywhere(p) => perms.contains(&p),
        InArea(p) => perms.contains(&p) && reaches,
        Root(p) => perms.contains(&p) && at_root,
        Supervisor => (role == "admin" || role == "case_supervisor") && reaches,
        Assigned => assigned,
    };
    if ok {
        Expect::Allowed
    } else {
        Expect::Forbidden
    }
}

struct Call<'a> {
    app: &'a TestApp,
    /// Without a cookie jar: a session cookie from the login row must not sign later calls in.
    http: reqwest::Client,
    fx: &'a Fixtures,
    uniq: std::cell::Cell<u64>,
}

impl Call<'_> {
    fn fill(&self, text: &str, side: usize) -> String {
        let n = self.uniq.get() + 1;
        self.uniq.set(n);
        text.replace("{area}", AREAS[side])
            .replace("{region}", REGIONS[side])
            .replace("{uniq}", &n.to_string())
            .replace("{user}", &self.fx.users[side].to_string())
            .replace("{other_event}", &self.fx.named["other_event"][side])
            .replace("{event_report}", &self.fx.named["event_report"][side])
            .replace("{org}", &self.fx.named["org"][side])
    }

    async fn send(&self, row: &Row, side: usize, token: Option<&str>) -> (StatusCode, String) {
        self.send_to(row, side, token, &self.fx.ids[&row.fx][side]).await
    }

    /// The same call on the record `id` (one that does not exist, for the existence check).
    async fn send_to(&self, row: &Row, side: usize, token: Option<&str>, id: &str) -> (StatusCode, String) {
        let path = row.path.replace("{id}", id).replace("{code}", id).replace("{name}", id).replace("{evidence_id}", "1")
            .replace("{attachment_id}", &self.fx.named["attachment_id"][side])
            .replace("{indicator}", &self.fx.named["indicator"][side])
            .replace("{number}", &self.fx.named["number"][side])
            .replace("{kind}", &self.fx.named["kind"][side]);
        let url = self.app.url(&format!("{path}{}", self.fill(row.query, side)));
        let method = reqwest::Method::from_bytes(row.method.as_bytes()).unwrap();
        let mut req = self.http.request(method, url);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req = match row.body {
            NoBody => req,
            Json(b) => req.header("content-type", "application/json").body(self.fill(b, side)),
            Raw(ct, b) => req.header("content-type", ct).body(self.fill(b, side)),
            File(ct, f) => req.header("content-type", ct).body(std::fs::read(format!("{}/../../{f}", env!("CARGO_MANIFEST_DIR"))).unwrap()),
            Upload(name, ct, bytes) => {
                req.multipart(reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(bytes).file_name(name).mime_str(ct).unwrap()))
            }
        };
        let res = req.send().await.unwrap();
        let status = res.status();
        (status, res.text().await.unwrap_or_default())
    }
}

fn verdict(expect: Expect, status: StatusCode) -> bool {
    // A 405 means the documented method is not routed: the document lies.
    if status.is_server_error() || status == StatusCode::METHOD_NOT_ALLOWED {
        return false;
    }
    match expect {
        Expect::Allowed => status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
        Expect::Forbidden => status == StatusCode::FORBIDDEN,
        Expect::Unauthenticated => status == StatusCode::UNAUTHORIZED,
    }
}

async fn every_route_as_every_role(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };

    // Callers: each builtin role over Mopti (ML-5) and over the whole tree (ML); plus tokens that
    // once worked but expired or were revoked.
    let mut callers = Vec::new();
    for (role, _, perms) in builtin_roles() {
        let perms: BTreeSet<Permission> = perms.into_iter().collect();
        for (at_root, area) in [(false, "ML-5"), (true, "ML")] {
            let token = app.user_token(&format!("{role}_{}", if at_root { "ml" } else { "mopti" }), role, area).await;
            callers.push((role, perms.clone(), at_root, token));
        }
    }
    let fx = fixtures(&app).await;
    assign_handlers(&app, &fx).await;
    let call = Call { app: &app, http: reqwest::Client::new(), fx: &fx, uniq: std::cell::Cell::new(0) };
    let actor = vigie_storage::audit::Actor::system("test");
    let expired_user = vigie_storage::users::id_by_username(&app.db, "admin").await.unwrap();
    let expired = vigie_storage::auth::create_token(&app.db, expired_user, "expired", Some(vigie_storage::now() - chrono::Duration::minutes(1)), &actor).await.unwrap();
    let revoked_token = app.user_token("revoked_admin", "admin", "ML").await;
    let revoked_id = vigie_storage::users::id_by_username(&app.db, "revoked_admin").await.unwrap();
    vigie_storage::auth::revoke_tokens(&app.db, revoked_id, &actor).await.unwrap();

    let mut failures = Vec::new();
    let mut calls = 0;
    for row in rows() {
        let sides: &[usize] = if row.fx == NoRecord && !row.body_or_query_has_area() { &[0] } else { &[0, 1] };
        for &side in sides {
            // Without a (valid) credential.
            for (who, token) in [("anonymous", None), ("expired token", Some(expired.as_str())), ("revoked token", Some(revoked_token.as_str()))] {
                let expect = if matches!(row.rule, Public) { Expect::Allowed } else { Expect::Unauthenticated };
                let (status, body) = call.send(&row, side, token).await;
                calls += 1;
                if !verdict(expect, status) {
                    failures.push(format!("{} {} side {side} as {who}: expected {expect:?}, got {status} {body:.200}", row.method, row.path));
                }
            }
            for (role, perms, at_root, token) in &callers {
                let expect = expected(row.rule, role, perms, *at_root, side);
                let (status, body) = call.send(&row, side, Some(token)).await;
                calls += 1;
                if !verdict(expect, status) {
                    let who = format!("{role}@{}", if *at_root { "ML" } else { "ML-5" });
                    failures.push(format!("{} {} side {side} as {who}: expected {expect:?}, got {status} {body:.200}", row.method, row.path));
                }
            }
        }
    }
    // A caller without the permission in any area learns nothing, not even whether a record
    // exists: 403 on an id that does not exist, as on one that does (never 404).
    for row in rows().iter().filter(|r| r.fx.numeric_id()) {
        let p = match row.rule {
            InArea(p) | Root(p) => p,
            _ => continue,
        };
        for (role, perms, at_root, token) in callers.iter().filter(|c| !c.2 && !c.1.contains(&p)) {
            let (status, body) = call.send_to(row, 0, Some(token), "987654").await;
            calls += 1;
            if status != StatusCode::FORBIDDEN {
                failures.push(format!("{} {} on a missing record as {role} (without {p:?}, root={at_root}, {} perms): expected 403, got {status} {body:.200}", row.method, row.path, perms.len()));
            }
        }
    }
    assert!(failures.is_empty(), "{} of {calls} calls broke the matrix:\n{}", failures.len(), failures.join("\n"));
    assert!(calls > 1000, "the matrix ran only {calls} calls");
}

impl Fx {
    /// Records named by a number or code in the path (an unknown one is then easy to make up).
    fn numeric_id(self) -> bool {
        !matches!(self, NoRecord | Area | Role | Category)
    }
}

impl Row {
    /// Whether "inside/outside" applies through the body or query (`{area}`), not the path.
    fn body_or_query_has_area(&self) -> bool {
        let body = match self.body {
            Json(b) | Raw(_, b) => b,
            _ => "",
        };
        body.contains("{area}") || body.contains("{region}") || body.contains("{org}") || self.query.contains("{area}")
    }
}

/// Reports of protected categories (abuse by security forces, gender-based violence) go to
/// protected cases: holding `reports.read` is not enough to see them, in lists or one by one.
async fn protected_reports_need_cases_read(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let body = json!({"category": "security_forces_abuse", "text": "Arrestation arbitraire de trois bergers", "occurred_at": "2026-11-20T06:40:00Z",
        "area_code": "ML-5-KORO", "idempotency_key": "p-1"});
    let rep = created(app.post("/api/v1/reports", &app.admin_token).json(&body).send().await.unwrap()).await;
    let id = rep["report_id"].as_i64().unwrap();
    let open = created(app.post("/api/v1/reports", &app.admin_token).json(&json!({"category": "armed_attack", "text": "Hommes armés",
        "occurred_at": "2026-11-20T06:40:00Z", "area_code": "ML-5-KORO", "idempotency_key": "p-2"})).send().await.unwrap()).await;
    let analyst = app.user_token("analyste", "analyst", "ML-5").await;
    created(app.post("/api/v1/roles", &app.admin_token).json(&json!({"name": "protection", "label": "Protection", "permissions": ["reports.read", "cases.read"]})).send().await.unwrap()).await;
    let protection = app.user_token("protection", "protection", "ML-5").await;
    let protection_elsewhere = app.user_token("protection_gao", "protection", "ML-6").await;
    created(app.post("/api/v1/reports", &app.admin_token).json(&json!({"category": "armed_attack", "text": "x", "occurred_at": "2026-11-20T06:40:00Z",
        "area_code": "ML-6-GOUNDAM", "idempotency_key": "p-3"})).send().await.unwrap()).await;

    let ids_of = |v: Value| v["items"].as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect::<Vec<_>>();
    let seen = ids_of(app.get("/api/v1/reports", &analyst).send().await.unwrap().json().await.unwrap());
    assert!(seen.contains(&open["report_id"].as_i64().unwrap()), "the analyst sees open reports: {seen:?}");
    assert!(!seen.contains(&id), "the analyst must not see the protected report in the list");
    assert_eq!(app.get(&format!("/api/v1/reports/{id}"), &analyst).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(app.get(&format!("/api/v1/reports/{id}/messages"), &analyst).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    let seen = ids_of(app.get("/api/v1/reports", &protection).send().await.unwrap().json().await.unwrap());
    assert!(seen.contains(&id), "cases.read over the area shows it");
    assert_eq!(app.get(&format!("/api/v1/reports/{id}"), &protection).send().await.unwrap().status(), StatusCode::OK);
    let seen = ids_of(app.get("/api/v1/reports", &protection_elsewhere).send().await.unwrap().json().await.unwrap());
    assert!(!seen.contains(&id), "cases.read over another area does not");
    let seen = ids_of(app.get("/api/v1/reports", &app.admin_token).send().await.unwrap().json().await.unwrap());
    assert!(seen.contains(&id));
}
