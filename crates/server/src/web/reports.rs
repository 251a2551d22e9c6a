//! Field reports (signalements): the intake form `GET/POST /signalements/nouveau` and its receipt
//! `GET /signalements/recu/{key}`, the list `GET /signalements`, one report `GET /signalements/{id}`
//! with its verification (`POST …/verification`) and questions to the reporter (`POST …/questions`).
//! Access is decided as in the API: `api::reports::{require_record, list_scope}`, `Auth::require`.

use super::{FormPost, Page, WebError, WebResult};
use crate::api::reports::{list_scope, require_record};
use crate::error::ApiError;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use minijinja::{context, Value};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use vigie_domain::access::{Permission, Target};
use vigie_domain::area::{AreaCode, AreaPath};
use vigie_domain::early_warning::grading::{InformationCredibility, SourceReliability, VerificationStatus};
use vigie_domain::early_warning::report::{Channel, LocationInput, ReportFlag, ReportInput, ReporterKind};
use vigie_domain::early_warning::taxonomy::Severity;
use vigie_domain::{Lang, Msg};
use vigie_storage::areas::{self, AreaFilter};
use vigie_storage::reports::{self, ReportFilter, ReportView, Sender};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/signalements", get(list))
        .route("/signalements/nouveau", get(new_form).post(create))
        .route("/signalements/recu/{key}", get(receipt))
        .route("/signalements/{id}", get(detail))
        .route("/signalements/{id}/verification", post(verify))
        .route("/signalements/{id}/questions", post(ask))
}

const PER_PAGE: i64 = 25;

// ---- Shared with the alert pages and the dashboard ----

/// A record id from the URL; anything else is "not found", as an HTML page.
pub(super) fn parse_id(raw: &str) -> Result<i64, WebError> {
    raw.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(|| WebError(Msg::NotFound.into()))
}

pub(super) fn non_empty(v: &Option<String>) -> Option<String> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

/// Category codes and their labels in the reader's language, "other" last.
pub(super) async fn categories(s: &AppState, lang: Lang) -> Result<Vec<(String, String)>, WebError> {
    let mut v: Vec<(String, String)> =
        vigie_storage::categories::list(&s.db).await?.into_iter().map(|c| (c.code.as_str().to_string(), c.label(lang).to_string())).collect();
    v.sort_by(|a, b| (a.0 == "other", a.1.to_lowercase()).cmp(&(b.0 == "other", b.1.to_lowercase())));
    Ok(v)
}

pub(super) fn label_of(list: &[(String, String)], code: &str) -> String {
    list.iter().find(|(c, _)| c == code).map(|(_, l)| l.clone()).unwrap_or_else(|| code.to_string())
}

pub(super) fn severity_label(level: i32, lang: Lang) -> String {
    Severity::from_level(level.clamp(0, 255) as u8).map(|s| s.label(lang).to_string()).unwrap_or_else(|_| level.to_string())
}

pub(super) fn verification_label(status: &str, lang: Lang) -> String {
    serde_json::from_value::<VerificationStatus>(serde_json::Value::String(status.into()))
        .map(|v| v.label(lang).to_string())
        .unwrap_or_else(|_| status.to_string())
}

/// The flags of a report (a JSON array), as sentences in the reader's language.
pub(super) fn flag_texts(flags: &[ReportFlag], lang: Lang) -> Vec<String> {
    flags.iter().map(|f| Msg::from(f.msg()).text(lang)).collect()
}

pub(super) fn flags_of(json: &str) -> Vec<ReportFlag> {
    serde_json::from_str(json).unwrap_or_default()
}

/// Area names by code, looked up once per page.
#[derive(Default)]
pub(super) struct AreaNames(HashMap<String, Option<String>>);

impl AreaNames {
    pub async fn name(&mut self, s: &AppState, code: Option<&str>) -> Option<String> {
        let code = code?;
        if let Some(n) = self.0.get(code) {
            return n.clone();
        }
        let name = match AreaCode::parse(code) {
            Ok(c) => areas::get(&s.db, &c, false).await.ok().map(|a| a.name),
            Err(_) => None,
        };
        self.0.insert(code.to_string(), name.clone());
        name
    }
}

/// Form errors as (field, sentence) pairs in the reader's language.
#[derive(Serialize, Clone)]
pub(super) struct FieldError {
    pub field: String,
    pub message: String,
}

pub(super) fn field_errors(e: &ApiError, lang: Lang) -> Vec<FieldError> {
    if e.fields.is_empty() {
        vec![FieldError { field: e.field.clone().unwrap_or_default(), message: e.msg.text(lang) }]
    } else {
        e.fields.iter().map(|i| FieldError { field: i.field.clone(), message: i.msg.text(lang) }).collect()
    }
}

/// Errors a person can fix on the form come back on the page; the others become error pages.
pub(super) fn fixable(e: &ApiError) -> bool {
    e.status == StatusCode::BAD_REQUEST || e.status == StatusCode::CONFLICT
}

/// Areas offered in a select: those within the scope of `perm`, down to the communes.
pub(super) async fn area_choices(s: &AppState, page: &Page, perm: Permission) -> Result<Vec<areas::Area>, WebError> {
    let scope = page.auth.scope(perm)?;
    let mut all = areas::list(&s.db, &AreaFilter::default(), &scope, 1, 1000).await?.items;
    all.retain(|a| a.level != "village");
    all.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(all)
}

/// `2026-05-01T14:30` (the datetime-local field) or `01/05/2026 14:30`, read as Mali's time (UTC).
fn parse_when(raw: &str) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    for f in ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M", "%d/%m/%Y %Hh%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(raw, f) {
            return Some(t.and_utc());
        }
    }
    for f in ["%Y-%m-%d", "%d/%m/%Y"] {
        if let Ok(d) = NaiveDate::parse_from_str(raw, f) {
            return d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
        }
    }
    None
}

fn parse_day(raw: &str) -> Option<NaiveDate> {
    ["%Y-%m-%d", "%d/%m/%Y"].iter().find_map(|f| NaiveDate::parse_from_str(raw.trim(), f).ok())
}

// ---- Intake ----

#[derive(Serialize, Default)]
struct IntakeForm {
    key: String,
    category: String,
    text: String,
    occurred_at: String,
    area: String,
    place: String,
}

async fn render_form(s: &AppState, page: &Page, status: StatusCode, input: IntakeForm, errors: Vec<FieldError>) -> WebResult {
    let categories = categories(s, page.lang).await?;
    let areas = area_choices(s, page, Permission::ReportsCreate).await?;
    let error_fields: Vec<String> = errors.iter().map(|e| e.field.clone()).collect();
    page.render_status(status, "report_new.html", context! { categories, areas, input, errors, error_fields })
}

async fn new_form(State(s): State<AppState>, page: Page) -> WebResult {
    page.auth.require(Permission::ReportsCreate, Target::AnyArea)?;
    let input = IntakeForm {
        // A double click sends this key twice: the second submission stores nothing new.
        key: vigie_storage::auth::random_secret("web-"),
        occurred_at: s.now().format("%Y-%m-%dT%H:%M").to_string(),
        ..Default::default()
    };
    render_form(&s, &page, StatusCode::OK, input, Vec::new()).await
}

async fn create(State(s): State<AppState>, form: FormPost) -> WebResult {
    let page = &form.page;
    page.auth.require(Permission::ReportsCreate, Target::AnyArea)?;
    let mut input = IntakeForm {
        key: form.get("cle").trim().to_string(),
        category: form.get("categorie").trim().to_string(),
        text: form.get("texte").to_string(),
        occurred_at: form.get("survenu").trim().to_string(),
        area: form.get("zone").trim().to_string(),
        place: form.get("lieu").trim().to_string(),
    };
    if input.key.is_empty() {
        input.key = vigie_storage::auth::random_secret("web-");
    }
    let Some(occurred_at) = parse_when(&input.occurred_at) else {
        let e = FieldError { field: "occurred_at".into(), message: super::i18n::t("reports.bad_date", page.lang).to_string() };
        return render_form(&s, page, StatusCode::BAD_REQUEST, input, vec![e]).await;
    };
    let result = async {
        // The same checks as POST /api/v1/reports.
        if !input.area.is_empty() {
            let code = AreaCode::parse(&input.area).map_err(|m| ApiError::bad_request("location.area", m))?;
            page.auth.require_in(Permission::ReportsCreate, &areas::path_of(&s.db, &code, "location.area").await?)?;
        }
        let report = ReportInput {
            category: Some(input.category.clone()).filter(|c| !c.is_empty()),
            text: input.text.clone(),
            occurred_at,
            location: LocationInput {
                area: Some(input.area.clone()).filter(|a| !a.is_empty()),
                point: None,
                place_name: Some(input.place.clone()).filter(|p| !p.is_empty()),
            },
            reporter: ReporterKind::FocalPoint,
            channel: Channel::Web,
            language: page.lang.code().into(),
            idempotency_key: input.key.clone(),
        };
        let sender = Sender { user_id: Some(page.auth.principal.user_id), phone: None };
        reports::intake(&s.db, report, sender, &page.auth.actor(), s.now()).await.map_err(ApiError::from)
    }
    .await;
    match result {
        Ok(_) => {
            let key: String = form_urlencoded::byte_serialize(input.key.as_bytes()).collect();
            Ok(Redirect::to(&format!("/signalements/recu/{key}")).into_response())
        }
        Err(e) if fixable(&e) => render_form(&s, page, e.status, input, field_errors(&e, page.lang)).await,
        Err(e) => Err(e.into()),
    }
}

/// The receipt: reference and flags, for the account that sent the report.
async fn receipt(State(s): State<AppState>, page: Page, Path(key): Path<String>) -> WebResult {
    page.auth.require(Permission::ReportsCreate, Target::AnyArea)?;
    let out = reports::receipt(&s.db, &key, page.auth.principal.user_id).await?.ok_or(Msg::NotFound)?;
    let report = reports::get(&s.db, out.report_id).await?;
    let can_read = require_record(&page.auth, Permission::ReportsRead, report.area_path.as_deref()).is_ok();
    let area_name = AreaNames::default().name(&s, out.area_code.as_deref()).await;
    page.render(
        "report_receipt.html",
        context! {
            reference => out.reference, report_id => out.report_id, alert_id => out.alert_id, can_read,
            area_code => out.area_code, area_name, flags => flag_texts(&out.flags, page.lang),
            protected => out.flags.contains(&ReportFlag::ProtectedCase),
        },
    )
}

// ---- List ----

#[derive(Deserialize, Default)]
pub struct ListQuery {
    zone: Option<String>,
    categorie: Option<String>,
    etat: Option<String>,
    du: Option<String>,
    au: Option<String>,
    q: Option<String>,
    page: Option<i64>,
}

#[derive(Serialize)]
struct Row {
    id: i64,
    reference: String,
    received_at: DateTime<Utc>,
    occurred_at: DateTime<Utc>,
    category: String,
    severity: String,
    excerpt: String,
    area_code: Option<String>,
    area_name: Option<String>,
    verification: String,
    verification_code: String,
    alert_id: Option<i64>,
    flags: usize,
}

pub(super) async fn rows(s: &AppState, lang: Lang, items: Vec<ReportView>, cats: &[(String, String)]) -> Vec<Value> {
    let mut names = AreaNames::default();
    let mut out = Vec::new();
    for r in items {
        let excerpt: String = r.text.chars().take(140).collect();
        let excerpt = if r.text.chars().count() > 140 { format!("{excerpt}…") } else { excerpt };
        out.push(Value::from_serialize(Row {
            id: r.id,
            area_name: names.name(s, r.area_code.as_deref()).await,
            category: label_of(cats, &r.category_code),
            severity: severity_label(r.severity, lang),
            verification: verification_label(&r.verification, lang),
            flags: flags_of(&r.flags).len(),
            reference: r.reference,
            received_at: r.received_at,
            occurred_at: r.occurred_at,
            excerpt,
            area_code: r.area_code,
            verification_code: r.verification,
            alert_id: r.alert_id,
        }));
    }
    out
}

pub(super) const STATUSES: [&str; 4] = ["pending", "verified", "unverifiable", "false"];

async fn list(State(s): State<AppState>, page: Page, Query(q): Query<ListQuery>) -> WebResult {
    let (mut scope, mut global) = list_scope(&page.auth)?;
    let zone = non_empty(&q.zone);
    if let Some(code) = &zone {
        // Narrowing to one area: it must be within the reader's own.
        let code = AreaCode::parse(code).map_err(|m| ApiError::bad_request("zone", m))?;
        let path = areas::path_of(&s.db, &code, "zone").await?;
        page.auth.require_in(Permission::ReportsRead, &path)?;
        scope = vec![path];
        global = false;
    }
    let category = non_empty(&q.categorie);
    let status = non_empty(&q.etat).filter(|e| STATUSES.contains(&e.as_str()));
    let from_day = non_empty(&q.du).and_then(|d| parse_day(&d));
    let to_day = non_empty(&q.au).and_then(|d| parse_day(&d));
    let text = non_empty(&q.q);
    let f = ReportFilter {
        category: category.clone(),
        from: from_day.and_then(|d| d.and_hms_opt(0, 0, 0)).map(|t| t.and_utc()),
        // The whole last day.
        to: to_day.and_then(|d| d.succ_opt()).and_then(|d| d.and_hms_opt(0, 0, 0)).map(|t| t.and_utc()),
        verification: status.clone(),
        q: text.clone(),
        unplaced: false,
    };
    let current = q.page.unwrap_or(1).clamp(1, 1_000_000);
    let protected_scope = page.auth.principal.scope(Permission::CasesRead);
    let p = reports::list_guarded(&s.db, &scope, global, &protected_scope, &f, current, PER_PAGE).await?;
    let cats = categories(&s, page.lang).await?;
    let items = rows(&s, page.lang, p.items, &cats).await;
    let from_s = from_day.map(|d| d.to_string());
    let to_s = to_day.map(|d| d.to_string());
    // Keeps the filters in the paging links.
    let query = {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [("zone", &zone), ("categorie", &category), ("etat", &status), ("du", &from_s), ("au", &to_s), ("q", &text)] {
            if let Some(v) = v {
                query.append_pair(k, v);
            }
        }
        query.finish()
    };
    let statuses: Vec<Value> = STATUSES.iter().map(|st| context! { code => st, label => verification_label(st, page.lang) }).collect();
    let areas = area_choices(&s, &page, Permission::ReportsRead).await?;
    page.render(
        "reports.html",
        context! {
            items, total => p.total, current, pages => ((p.total + PER_PAGE - 1) / PER_PAGE).max(1),
            filtered => !query.is_empty(), query, categories => cats, statuses, areas,
            f => context! { zone, categorie => category, etat => status, du => from_s, au => to_s, q => text },
            can_create => page.can(Permission::ReportsCreate),
        },
    )
}

// ---- One report ----

#[derive(Deserialize, Default)]
pub struct DetailQuery {
    fait: Option<String>,
}

#[derive(Serialize, Default)]
struct VerifyInput {
    status: String,
    source: String,
    info: String,
    severity: String,
}

#[derive(Default)]
struct DetailExtras {
    status: Option<StatusCode>,
    verify_input: Option<VerifyInput>,
    verify_errors: Vec<FieldError>,
    question: String,
    question_errors: Vec<FieldError>,
    done: Option<String>,
}

async fn render_detail(s: &AppState, page: &Page, id: i64, x: DetailExtras) -> WebResult {
    page.auth.require(Permission::ReportsRead, Target::AnyArea)?;
    let r = reports::get(&s.db, id).await?;
    require_record(&page.auth, Permission::ReportsRead, r.area_path.as_deref())?;
    crate::api::reports::require_protected(s, &page.auth, id, r.area_path.as_deref()).await?;
    let can_verify = require_record(&page.auth, Permission::ReportsVerify, r.area_path.as_deref()).is_ok();
    let lang = page.lang;
    let cats = categories(s, lang).await?;
    let mut names = AreaNames::default();
    let area_name = names.name(s, r.area_code.as_deref()).await;
    let alert = match r.alert_id {
        Some(a) => vigie_storage::alerts::get(&s.db, a).await.ok().map(|a| {
            let state = vigie_domain::early_warning::alert::AlertState::parse(&a.state).map(|st| st.label(lang)).unwrap_or("");
            context! { id => a.id, state => state, reports => a.report_ids.len(), needs_attention => a.needs_attention }
        }),
        None => None,
    };
    let mut authors: HashMap<i64, String> = HashMap::new();
    let mut thread = Vec::new();
    for m in reports::thread(&s.db, id).await? {
        let author = match m.author_id {
            Some(uid) => {
                if !authors.contains_key(&uid) {
                    let n = vigie_storage::users::get(&s.db, uid).await.map(|u| u.display_name).unwrap_or_else(|_| format!("#{uid}"));
                    authors.insert(uid, n);
                }
                authors.get(&uid).cloned()
            }
            None => None,
        };
        thread.push(context! { to_reporter => m.direction == "to_reporter", body => m.body, at => m.at, author });
    }
    let grade = r.grade.as_deref().and_then(|g| vigie_domain::early_warning::grading::AdmiraltyGrade::parse(g).ok()).map(|g| g.label(lang));
    let verify_input = x.verify_input.unwrap_or_else(|| {
        let grade = r.grade.clone().unwrap_or_default();
        let mut g = grade.chars();
        VerifyInput {
            status: r.verification.clone(),
            source: g.next().map(String::from).unwrap_or_default(),
            info: g.next().map(String::from).unwrap_or_default(),
            severity: r.severity.to_string(),
        }
    });
    let statuses: Vec<Value> = STATUSES.iter().map(|st| context! { code => st, label => verification_label(st, lang) }).collect();
    let sources: Vec<Value> = SourceReliability::ALL.iter().map(|v| context! { code => v.letter().to_string(), label => v.label(lang) }).collect();
    let infos: Vec<Value> = InformationCredibility::ALL.iter().map(|v| context! { code => v.digit().to_string(), label => v.label(lang) }).collect();
    let severities: Vec<Value> = Severity::ALL.iter().map(|v| context! { code => v.level().to_string(), label => v.label(lang) }).collect();
    let by_sms = r.channel == "sms";
    let view = context! {
        id => r.id, reference => r.reference, text => r.text, received_at => r.received_at, occurred_at => r.occurred_at,
        category => label_of(&cats, &r.category_code), category_code => r.category_code,
        severity => severity_label(r.severity, lang), area_code => r.area_code, area_name,
        place_name => r.place_name, lat => r.lat, lon => r.lon, channel => r.channel, language => r.language,
        reporter_kind => r.reporter_kind, verification => verification_label(&r.verification, lang), verification_code => r.verification,
        grade, flags => flag_texts(&flags_of(&r.flags), lang),
    };
    page.render_status(
        x.status.unwrap_or(StatusCode::OK),
        "report.html",
        context! {
            r => view, alert, thread, can_verify, by_sms, statuses, sources, infos, severities,
            verify => verify_input, verify_errors => x.verify_errors,
            question => x.question, question_errors => x.question_errors, done => x.done,
        },
    )
}

async fn detail(State(s): State<AppState>, page: Page, Path(id): Path<String>, Query(q): Query<DetailQuery>) -> WebResult {
    let id = parse_id(&id)?;
    let done = q.fait.filter(|f| ["verification", "question"].contains(&f.as_str()));
    render_detail(&s, &page, id, DetailExtras { done, ..Default::default() }).await
}

async fn verify(State(s): State<AppState>, Path(id): Path<String>, form: FormPost) -> WebResult {
    let id = parse_id(&id)?;
    let page = &form.page;
    let input = VerifyInput {
        status: form.get("statut").trim().to_string(),
        source: form.get("source").trim().to_string(),
        info: form.get("credibilite").trim().to_string(),
        severity: form.get("gravite").trim().to_string(),
    };
    let result = async {
        // The same checks as POST /api/v1/reports/{id}/verification.
        page.auth.require(Permission::ReportsVerify, Target::AnyArea)?;
        let r = reports::get(&s.db, id).await?;
        require_record(&page.auth, Permission::ReportsVerify, r.area_path.as_deref())?;
        let grade = format!("{}{}", input.source, input.info);
        let severity = match input.severity.as_str() {
            "" => None,
            v => Some(v.parse::<u8>().map_err(|_| ApiError::bad_request("severity", vigie_domain::early_warning::EwMsg::InvalidSeverity.into()))?),
        };
        reports::verify(&s.db, id, &input.status, Some(grade.as_str()).filter(|g| !g.is_empty()), severity, &page.auth.actor(), s.now())
            .await
            .map_err(ApiError::from)
    }
    .await;
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/signalements/{id}?fait=verification#verification")).into_response()),
        Err(e) if fixable(&e) => {
            let x = DetailExtras { status: Some(e.status), verify_errors: field_errors(&e, page.lang), verify_input: Some(input), ..Default::default() };
            render_detail(&s, page, id, x).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn ask(State(s): State<AppState>, Path(id): Path<String>, form: FormPost) -> WebResult {
    let id = parse_id(&id)?;
    let page = &form.page;
    let body = form.get("question").to_string();
    let result = async {
        // The same checks as POST /api/v1/reports/{id}/messages.
        page.auth.require(Permission::ReportsVerify, Target::AnyArea)?;
        let r = reports::get(&s.db, id).await?;
        require_record(&page.auth, Permission::ReportsVerify, r.area_path.as_deref())?;
        reports::ask_reporter(&s.db, id, &body, &page.auth.actor(), s.now()).await.map_err(ApiError::from)
    }
    .await;
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/signalements/{id}?fait=question#fil")).into_response()),
        Err(e) if fixable(&e) => {
            let x = DetailExtras { status: Some(e.status), question_errors: field_errors(&e, page.lang), question: body, ..Default::default() };
            render_detail(&s, page, id, x).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The reader's scope for `reports.read` as area paths (for the dashboard).
pub(super) fn read_scope(page: &Page) -> Option<(Vec<AreaPath>, bool)> {
    list_scope(&page.auth).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_typed_in_the_form_are_read() {
        let t = parse_when("2026-05-01T14:30").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-05-01T14:30:00+00:00");
        assert_eq!(parse_when("01/05/2026 14:30"), Some(t));
        assert_eq!(parse_when("01/05/2026").unwrap().to_rfc3339(), "2026-05-01T00:00:00+00:00");
        assert_eq!(parse_when("hier"), None);
        assert_eq!(parse_day("2026-05-01"), parse_day("01/05/2026"));
    }
}
