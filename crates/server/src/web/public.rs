//! Pages anyone may use without an account, with the same rules as `/api/v1/public`:
//!
//! - `GET/POST /denoncer`: the anonymous denunciation form. On success the answer itself is
//!   the receipt page (the code is shown this once, never put in a URL, never cached).
//! - `GET/POST /suivi`: enter the receipt code → public status and the handlers' questions;
//!   `POST /suivi/reponse` answers them. The code travels in form bodies only.
//! - `GET /transparence`: published outcomes by locality and administration through the
//!   domain's small-count suppression, and a map of the régions computed only from what the
//!   table publishes; `GET /transparence/regions.geojson` feeds that map.
//!
//! CSRF without a session: a random token in a hidden field and in a `SameSite=Strict`,
//! `HttpOnly` cookie (double submit), as the sign-in form does. The submission rate limit,
//! the receipt lockout and their audit entries are the API's own functions
//! (`api::public::{denounce, holder_case}`).

use super::i18n::{self, t};
use super::reports::{field_errors, FieldError};
use super::{form_fields, form_get, html, lang_of, WebError, WebResult};
use crate::api::public::{denounce, holder_case, Denunciation, Source};
use crate::auth::same_secret;
use crate::error::ApiError;
use crate::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use minijinja::{context, Value};
use serde::Serialize;
use std::collections::BTreeMap;
use vigie_domain::area::{AreaCode, AreaLevel, AreaPath};
use vigie_domain::cases::{suppress, MinCount, Published, PublishedTable};
use vigie_domain::Lang;
use vigie_storage::areas::{self, AreaFilter};
use vigie_storage::cases;

const FORM_COOKIE: &str = "vigie_formulaire";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/denoncer", get(denounce_form).post(denounce_post))
        .route("/suivi", get(follow_form).post(follow_post))
        .route("/suivi/reponse", axum::routing::post(answer_post))
        // The evidence limit plus room for the other fields and the multipart framing.
        .route("/suivi/piece", axum::routing::post(evidence_post).layer(axum::extract::DefaultBodyLimit::max(cases::MAX_EVIDENCE_BYTES as usize + 16 * 1024)))
        .route("/transparence", get(transparency))
        .route("/transparence/regions.geojson", get(transparency_geojson))
}

fn random_token() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut b = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// What the layout needs on a page without a session.
fn public_ctx(lang: Lang, path: &str, csrf: &str, ctx: Value) -> Value {
    let base = context! { lang => lang.code(), path, csrf, user => Value::from(()), nav => Value::from(()) };
    context! { ..ctx, ..base }
}

/// A public form page: a fresh token in the page and in its cookie; never stored by caches
/// (a receipt code or a thread may be on it).
fn form_page(s: &AppState, lang: Lang, status: StatusCode, path: &str, template: &str, ctx: Value) -> WebResult {
    let token = random_token();
    let mut res = html(status, template, public_ctx(lang, path, &token, ctx))?;
    let cookie = format!(
        "{FORM_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=7200{}",
        if s.config.secure_cookies { "; Secure" } else { "" }
    );
    let h = res.headers_mut();
    h.append(header::SET_COOKIE, HeaderValue::from_str(&cookie).map_err(|_| vigie_domain::Msg::Internal)?);
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// The posted fields, after the double-submit check.
async fn checked_form(s: &AppState, req: Request) -> Result<(HeaderMap, Vec<(String, String)>), Response> {
    let headers = req.headers().clone();
    let fields = form_fields(req, s).await?;
    let cookie = crate::auth::cookie(&headers, FORM_COOKIE).unwrap_or("");
    if cookie.is_empty() || !same_secret(form_get(&fields, "csrf"), cookie) {
        return Err(WebError(vigie_domain::Msg::CsrfMissing.into()).into_response());
    }
    Ok((headers, fields))
}

// ---- Denunciation ----

#[derive(Serialize, Default)]
struct DenunciationInput {
    area: String,
    locality: String,
    administration: String,
    facts: String,
    officials: String,
    name: String,
    phone: String,
}

/// Cercles and communes, grouped by région, for the place picker (public: names only).
async fn place_choices(s: &AppState) -> Result<Vec<Value>, WebError> {
    let roots = areas::root_paths(&s.db).await?;
    let all = areas::list(&s.db, &AreaFilter::default(), &roots, 1, 2000).await?.items;
    let mut regions: BTreeMap<String, (String, Vec<Value>)> = BTreeMap::new();
    for a in all.iter().filter(|a| a.level == AreaLevel::Region.as_str()) {
        regions.insert(a.path.clone(), (a.name.clone(), Vec::new()));
    }
    let mut places: Vec<&areas::Area> = all.iter().filter(|a| a.level == "cercle" || a.level == "commune").collect();
    places.sort_by_key(|a| a.name.to_lowercase());
    for a in places {
        let region = a.path.split('/').take(2).collect::<Vec<_>>().join("/");
        if let Some((_, v)) = regions.get_mut(&region) {
            v.push(context! { code => a.code, name => a.name, level => a.level });
        }
    }
    let mut out: Vec<(String, Vec<Value>)> = regions.into_values().filter(|(_, v)| !v.is_empty()).collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out.into_iter().map(|(name, places)| context! { name, places }).collect())
}

async fn render_denounce(s: &AppState, lang: Lang, status: StatusCode, input: DenunciationInput, errors: Vec<FieldError>) -> WebResult {
    let regions = place_choices(s).await?;
    let error_fields: Vec<String> = errors.iter().map(|e| e.field.clone()).collect();
    form_page(s, lang, status, "/denoncer", "public_denounce.html", context! { regions, input, errors, error_fields })
}

async fn denounce_form(State(s): State<AppState>, headers: HeaderMap) -> WebResult {
    render_denounce(&s, lang_of(&headers), StatusCode::OK, DenunciationInput::default(), Vec::new()).await
}

/// Errors the person can act on stay on the form; the others become error pages.
fn shown_on_form(e: &ApiError) -> bool {
    e.status.is_client_error() && e.status != StatusCode::FORBIDDEN && e.status != StatusCode::PAYLOAD_TOO_LARGE
}

/// Which form field an API field name belongs to (for `aria-invalid`).
fn form_field(api_field: &str) -> &str {
    match api_field {
        "area_code" => "area",
        "fields" | "fields.facts" => "facts",
        "fields.locality" => "locality",
        "fields.administration" => "administration",
        "fields.alleged_officials" => "officials",
        "fields.reporter_name" => "name",
        "fields.reporter_phone" => "phone",
        f => f,
    }
}

async fn denounce_post(State(s): State<AppState>, src: Source, req: Request) -> Result<Response, Response> {
    let (headers, fields) = checked_form(&s, req).await?;
    let lang = lang_of(&headers);
    let get = |k: &str| form_get(&fields, k).to_string();
    let input = DenunciationInput {
        area: get("zone").trim().into(),
        locality: get("localite"),
        administration: get("administration"),
        facts: get("faits"),
        officials: get("agents"),
        name: get("nom"),
        phone: get("telephone"),
    };
    let opt = |v: &str| Some(v.to_string()).filter(|v| !v.trim().is_empty());
    let body = Denunciation {
        area_code: input.area.clone(),
        locality: input.locality.clone(),
        administration: input.administration.clone(),
        facts: input.facts.clone(),
        alleged_officials: opt(&input.officials),
        reporter_name: opt(&input.name),
        reporter_phone: opt(&input.phone),
    };
    match denounce(&s, &src, body).await {
        Ok(receipt) => {
            form_page(&s, lang, StatusCode::CREATED, "/denoncer", "public_receipt.html", context! { receipt }).map_err(IntoResponse::into_response)
        }
        Err(e) if shown_on_form(&e) => {
            let mut errors = field_errors(&e, lang);
            for er in &mut errors {
                er.field = form_field(&er.field).to_string();
            }
            render_denounce(&s, lang, e.status, input, errors).await.map_err(IntoResponse::into_response)
        }
        Err(e) => Err(WebError(e).into_response()),
    }
}

// ---- Follow-up with the receipt code ----

async fn follow_form(State(s): State<AppState>, headers: HeaderMap) -> WebResult {
    form_page(&s, lang_of(&headers), StatusCode::OK, "/suivi", "public_follow.html", context! { errors => Vec::<FieldError>::new(), view => Value::from(()), code => "" })
}

/// The status page for a code, or the code form with the reason it was refused.
/// What the follow-up page says after an action on it.
#[derive(Default)]
struct FollowExtras {
    answered: bool,
    answer: String,
    answer_errors: Vec<FieldError>,
    evidence_added: bool,
    evidence_errors: Vec<FieldError>,
    status: Option<StatusCode>,
}

async fn follow_view(s: &AppState, src: &Source, lang: Lang, code: &str, x: FollowExtras) -> WebResult {
    match holder_case(s, src, code).await {
        Ok(id) => {
            let v = cases::holder_view(&s.db, id).await?;
            let messages: Vec<Value> =
                v.messages.iter().map(|m| context! { to_holder => m.direction == "to_holder", body => m.body, at => m.at }).collect();
            let waiting = v.messages.last().is_some_and(|m| m.direction == "to_holder");
            let view = context! {
                case_type => if lang == Lang::Fr { &v.case_type.fr } else { &v.case_type.en },
                status => if lang == Lang::Fr { &v.status.fr } else { &v.status.en },
                closed => v.closed, opened_at => v.opened_at, outcome => v.published_outcome, messages, waiting,
            };
            let status = x.status.unwrap_or(if x.answer_errors.is_empty() { StatusCode::OK } else { StatusCode::BAD_REQUEST });
            let ctx = context! {
                view, code, errors => Vec::<FieldError>::new(), answered => x.answered, answer => x.answer, answer_errors => x.answer_errors,
                evidence_added => x.evidence_added, evidence_errors => x.evidence_errors, max_kb => cases::MAX_EVIDENCE_BYTES / 1024,
            };
            form_page(s, lang, status, "/suivi", "public_follow.html", ctx)
        }
        Err(e) if shown_on_form(&e) => {
            form_page(s, lang, e.status, "/suivi", "public_follow.html", context! { view => Value::from(()), code, errors => field_errors(&e, lang) })
        }
        Err(e) => Err(e.into()),
    }
}

async fn follow_post(State(s): State<AppState>, src: Source, req: Request) -> Result<Response, Response> {
    let (headers, fields) = checked_form(&s, req).await?;
    let code = form_get(&fields, "code").trim().to_string();
    follow_view(&s, &src, lang_of(&headers), &code, FollowExtras::default()).await.map_err(IntoResponse::into_response)
}

async fn answer_post(State(s): State<AppState>, src: Source, req: Request) -> Result<Response, Response> {
    let (headers, fields) = checked_form(&s, req).await?;
    let lang = lang_of(&headers);
    let code = form_get(&fields, "code").trim().to_string();
    let body = form_get(&fields, "reponse").to_string();
    let result = async {
        let id = holder_case(&s, &src, &code).await?;
        cases::holder_answer(&s.db, id, &body, s.now()).await.map_err(ApiError::from)
    }
    .await;
    let page = match result {
        Ok(_) => follow_view(&s, &src, lang, &code, FollowExtras { answered: true, ..Default::default() }).await,
        Err(e) if e.status == StatusCode::BAD_REQUEST => {
            follow_view(&s, &src, lang, &code, FollowExtras { answer: body.clone(), answer_errors: field_errors(&e, lang), ..Default::default() }).await
        }
        Err(e) if shown_on_form(&e) => {
            form_page(&s, lang, e.status, "/suivi", "public_follow.html", context! { view => Value::from(()), code, errors => field_errors(&e, lang) })
        }
        Err(e) => Err(e.into()),
    };
    page.map_err(IntoResponse::into_response)
}

/// `multipart/form-data`: `csrf`, `code`, `fichier`. The receipt holder adds a photo or voice
/// note through the API's own path (`add_holder_evidence`: size limit, type from the bytes,
/// sealed at rest); a refused file is named on the page and nothing is stored.
async fn evidence_post(State(s): State<AppState>, src: Source, req: Request) -> Result<Response, Response> {
    use axum::extract::FromRequest;
    use crate::api::events::multipart_error;
    let headers = req.headers().clone();
    let lang = lang_of(&headers);
    let mut multipart = axum::extract::Multipart::from_request(req, &s)
        .await
        .map_err(|_| WebError(ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, vigie_domain::Msg::UnsupportedMediaType)).into_response())?;
    let (mut csrf, mut code, mut file) = (String::new(), String::new(), None);
    let read = async {
        while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
            match field.name() {
                Some("csrf") => csrf = field.text().await.map_err(multipart_error)?,
                Some("code") => code = field.text().await.map_err(multipart_error)?.trim().to_string(),
                Some("fichier") => {
                    let name = field.file_name().unwrap_or("").to_string();
                    let ct = field.content_type().unwrap_or("").to_string();
                    file = Some((name, ct, field.bytes().await.map_err(multipart_error)?));
                }
                _ => {}
            }
        }
        Ok::<_, ApiError>(())
    }
    .await;
    // The double-submit token first, before the code or the file are looked at.
    let cookie = crate::auth::cookie(&headers, FORM_COOKIE).unwrap_or("");
    if cookie.is_empty() || !same_secret(&csrf, cookie) {
        return Err(WebError(vigie_domain::Msg::CsrfMissing.into()).into_response());
    }
    let result = async {
        let id = holder_case(&s, &src, &code).await?;
        // A body cut at the limit is a file too large: said so, audited, nothing stored.
        if let Err(e) = read {
            if e.status == StatusCode::PAYLOAD_TOO_LARGE {
                cases::audit_refusal(&s.db, "evidence", "too_large").await?;
                let max = cases::MAX_EVIDENCE_BYTES as usize;
                return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, vigie_domain::Msg::BodyTooLarge { max_bytes: max }).field("fichier"));
            }
            return Err(e);
        }
        let (name, ct, bytes) = file.filter(|f| !f.2.is_empty()).ok_or_else(|| ApiError::bad_request("fichier", vigie_domain::Msg::Required))?;
        crate::api::public::add_holder_evidence(&s, id, &name, &ct, &bytes, "fichier").await
    }
    .await;
    let page = match result {
        Ok(_) => follow_view(&s, &src, lang, &code, FollowExtras { evidence_added: true, ..Default::default() }).await,
        Err(e) if e.status == StatusCode::BAD_REQUEST || e.status == StatusCode::PAYLOAD_TOO_LARGE || e.status == StatusCode::UNPROCESSABLE_ENTITY => {
            let x = FollowExtras { evidence_errors: field_errors(&e, lang), status: Some(e.status), ..Default::default() };
            follow_view(&s, &src, lang, &code, x).await
        }
        Err(e) if shown_on_form(&e) => {
            form_page(&s, lang, e.status, "/suivi", "public_follow.html", context! { view => Value::from(()), code, errors => field_errors(&e, lang) })
        }
        Err(e) => Err(e.into()),
    };
    page.map_err(IntoResponse::into_response)
}

// ---- Transparency ----

/// The table of the API's `/public/transparency`, from the same function and threshold.
/// A column of the published table in the page's language. The table is keyed by the French
/// labels (one grouping whatever the reader's language); the workflow gives the English label of
/// the case type, and of the state when the outcome is a state's label. A handler's own outcome
/// text stays as written.
fn column_label<'a>(case_type: &'a str, outcome: &'a str, lang: Lang) -> (&'a str, &'a str) {
    let Some(def) = cases::workflows().iter().find(|w| w.label().fr == case_type) else {
        return (case_type, outcome);
    };
    let outcome = def.states().iter().find(|st| st.label.fr == outcome).map_or(outcome, |st| st.label.get(lang));
    (def.label().get(lang), outcome)
}

async fn published_table(s: &AppState) -> Result<PublishedTable, WebError> {
    Ok(suppress(&cases::published_counts(&s.db).await?, MinCount::default()))
}

/// The area code a row's locality ends with: `"Koro (ML-5-KORO)"` → `ML-5-KORO`.
fn locality_code(locality: &str) -> Option<AreaCode> {
    let inner = locality.rsplit_once('(')?.1.strip_suffix(')')?;
    AreaCode::parse(inner).ok()
}

/// A région's figure, worked out from the published row totals only (never from the raw
/// counts: a new total could undo the suppression). Exact when every row of the région is
/// shown; otherwise a lower bound ("<k" counts for 1, hidden for k).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct RegionFigure {
    pub known: u64,
    pub small: u64,
    pub hidden: u64,
}

impl RegionFigure {
    fn add(&mut self, p: Published) {
        match p {
            Published::Count(n) => self.known += n,
            Published::Small => self.small += 1,
            Published::Hidden => self.hidden += 1,
        }
    }
    pub fn lower_bound(&self, k: u64) -> u64 {
        self.known + self.small + self.hidden * k
    }
    pub fn exact(&self) -> bool {
        self.small == 0 && self.hidden == 0
    }
    /// "12", "<5" (one small row and nothing else), or "≥ 7".
    pub fn text(&self, k: MinCount, lang: Lang) -> String {
        if self.exact() {
            i18n::number(self.known as f64, 0, lang)
        } else if self.known == 0 && self.hidden == 0 && self.small == 1 {
            Published::Small.text(k, lang)
        } else {
            format!("≥\u{a0}{}", i18n::number(self.lower_bound(k.get()) as f64, 0, lang))
        }
    }
}

/// Shades of the map, lightest first; 0 has its own.
const SHADES: [&str; 5] = ["#f4f1ea", "#c9e0d5", "#8fbfa9", "#4f957a", "#0b4f3c"];

/// The values of shade `i` (1..=4) for a maximum `max`, as [`shade`] assigns them; None if empty.
pub(crate) fn shade_bounds(i: u64, max: u64) -> Option<(u64, u64)> {
    let lo = (max * (i - 1)).div_ceil(4) + 1;
    let hi = if i == 4 { max } else { (max * i).div_ceil(4) };
    (lo <= hi).then_some((lo, hi))
}

fn shade(value: u64, max: u64) -> usize {
    if value == 0 || max == 0 {
        return 0;
    }
    // Four classes of equal width over 1..=max.
    1 + (((value - 1) * 4) / max).min(3) as usize
}

struct RegionRow {
    code: String,
    name: String,
    figure: RegionFigure,
}

async fn region_figures(s: &AppState, table: &PublishedTable) -> Result<Vec<RegionRow>, WebError> {
    let roots = areas::root_paths(&s.db).await?;
    let f = AreaFilter { level: Some(AreaLevel::Region), ..Default::default() };
    let regions = areas::list(&s.db, &f, &roots, 1, 200).await?.items;
    let mut out: Vec<RegionRow> = regions.iter().map(|r| RegionRow { code: r.code.clone(), name: r.name.clone(), figure: RegionFigure::default() }).collect();
    if table.withheld {
        return Ok(out);
    }
    for (i, (locality, _)) in table.rows.iter().enumerate() {
        let Some(code) = locality_code(locality) else { continue };
        let Ok(path) = areas::path_of(&s.db, &code, "locality").await else { continue };
        if let Some(pos) = regions.iter().position(|r| AreaPath(r.path.clone()).contains(&path)) {
            out[pos].figure.add(table.row_totals[i]);
        }
    }
    Ok(out)
}

async fn transparency(State(s): State<AppState>, headers: HeaderMap) -> WebResult {
    let lang = lang_of(&headers);
    let k = MinCount::default();
    let table = published_table(&s).await?;
    let txt = |p: &Published| context! { text => p.text(k, lang), suppressed => p.is_suppressed() };
    let rows: Vec<Value> = if table.withheld {
        Vec::new()
    } else {
        table
            .rows
            .iter()
            .zip(&table.cells)
            .zip(&table.row_totals)
            .map(|(((locality, administration), cells), total)| {
                context! { locality, administration, cells => cells.iter().map(txt).collect::<Vec<_>>(), total => txt(total) }
            })
            .collect()
    };
    let columns: Vec<Value> = if table.withheld {
        Vec::new()
    } else {
        table
            .cols
            .iter()
            .map(|(case_type, outcome)| {
                let (case_type, outcome) = column_label(case_type, outcome, lang);
                context! { case_type, outcome }
            })
            .collect()
    };
    let col_totals: Vec<Value> = if table.withheld { Vec::new() } else { table.col_totals.iter().map(txt).collect() };
    let regions = region_figures(&s, &table).await?;
    let max = regions.iter().map(|r| r.figure.lower_bound(k.get())).max().unwrap_or(0);
    let region_rows: Vec<Value> = regions
        .iter()
        .map(|r| context! { code => r.code, name => r.name, text => r.figure.text(k, lang), exact => r.figure.exact(), shade => shade(r.figure.lower_bound(k.get()), max) })
        .collect();
    let legend: Vec<Value> = (0..SHADES.len())
        .filter_map(|i| {
            let label = if i == 0 {
                "0".to_string()
            } else {
                let (lo, hi) = shade_bounds(i as u64, max)?;
                if lo == hi { i18n::number(lo as f64, 0, lang) } else { format!("{} – {}", i18n::number(lo as f64, 0, lang), i18n::number(hi as f64, 0, lang)) }
            };
            Some(context! { shade => i, label })
        })
        .filter(|_| max > 0)
        .collect();
    let mut res = html(
        StatusCode::OK,
        "public_transparency.html",
        public_ctx(
            lang,
            "/transparence",
            "",
            context! {
                k => k.get(), withheld => table.withheld, rows, columns, col_totals, grand_total => txt(&table.grand_total),
                note => table.note(lang), regions => region_rows, legend,
            },
        ),
    )?;
    // The same page for everyone in one language: revalidated, since its language follows
    // the cookie and Accept-Language.
    language_varies(&mut res);
    Ok(res)
}

/// Région boundaries with the figure of each (as on the page) and its shade.
async fn transparency_geojson(State(s): State<AppState>, headers: HeaderMap) -> WebResult {
    let lang = lang_of(&headers);
    let k = MinCount::default();
    let table = published_table(&s).await?;
    let figures = region_figures(&s, &table).await?;
    let max = figures.iter().map(|r| r.figure.lower_bound(k.get())).max().unwrap_or(0);
    let roots = areas::root_paths(&s.db).await?;
    let f = AreaFilter { level: Some(AreaLevel::Region), with_geometry: true, ..Default::default() };
    let regions = areas::list(&s.db, &f, &roots, 1, 200).await?.items;
    let label = t("transparency.cases", lang);
    let features: Vec<serde_json::Value> = regions
        .into_iter()
        .filter_map(|a| {
            let fig = figures.iter().find(|r| r.code == a.code)?;
            let geometry = a.geometry?;
            Some(serde_json::json!({
                "type": "Feature",
                "properties": {
                    "code": a.code, "name": a.name,
                    "label": format!("{} — {}{}{}", a.name, label, super::i18n::t("p.colon", lang), fig.figure.text(k, lang)),
                    "fill": SHADES[shade(fig.figure.lower_bound(k.get()), max)],
                },
                "geometry": geometry,
            }))
        })
        .collect();
    let mut res = serde_json::json!({"type": "FeatureCollection", "features": features}).to_string().into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/geo+json"));
    language_varies(&mut res);
    Ok(res)
}

fn language_varies(res: &mut Response) {
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, no-cache"));
    h.insert(header::VARY, HeaderValue::from_static("Accept-Language, Cookie"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locality_codes_are_read_from_the_label() {
        assert_eq!(locality_code("Koro (ML-5-KORO)").unwrap().as_str(), "ML-5-KORO");
        assert_eq!(locality_code("Ségou (ML-4) (ML-4-SEGOU)").unwrap().as_str(), "ML-4-SEGOU");
        assert!(locality_code("Koro").is_none());
    }

    #[test]
    fn region_figures_never_claim_more_than_the_table_shows() {
        let k = MinCount::default();
        let mut f = RegionFigure::default();
        f.add(Published::Count(7));
        assert_eq!(f.text(k, Lang::Fr), "7");
        f.add(Published::Small);
        assert!(!f.exact());
        assert_eq!(f.lower_bound(5), 8);
        assert_eq!(f.text(k, Lang::Fr), "≥\u{a0}8");
        f.add(Published::Hidden);
        assert_eq!(f.lower_bound(5), 13);
        let mut lone = RegionFigure::default();
        lone.add(Published::Small);
        assert_eq!(lone.text(k, Lang::Fr), "<5");
        assert_eq!(RegionFigure::default().text(k, Lang::En), "0");
    }

    #[test]
    fn legend_bounds_match_the_shades() {
        for max in 1..40u64 {
            for v in 1..=max {
                let (lo, hi) = shade_bounds(shade(v, max) as u64, max).unwrap();
                assert!(lo <= v && v <= hi, "{v} of {max}");
            }
        }
    }

    #[test]
    fn shades_split_the_range() {
        assert_eq!(shade(0, 10), 0);
        assert_eq!(shade(1, 10), 1);
        assert_eq!(shade(10, 10), 4);
        assert_eq!(shade(6, 10), 3);
        assert_eq!(shade(3, 0), 0);
    }
}
