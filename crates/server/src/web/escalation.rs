//! Escalation rules (`/admin/escalade`): who is alerted, in what order and how fast, for the
//! alerts of an area, category and minimum severity. List with filters, create, edit, disable
//! and enable again. The checks are those of `/api/v1/escalation-rules`: `alerts.raise` over
//! the rule's area; the storage calls are the API's (`vigie_storage::alerts`), audited there.

use super::reports::{
    area_choices, categories, field_errors, fixable, label_of, parse_id, severity_label, AreaNames,
    FieldError,
};
use super::{FormPost, Page, WebResult};
use crate::error::ApiError;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::Router;
use minijinja::{context, Value};
use serde::{Deserialize, Serialize};
use vigie_domain::access::{Permission, Target};
use vigie_domain::area::{AreaCode, AreaPath};
use vigie_domain::Msg;
use vigie_storage::alerts::{self, LevelSpec, RuleView};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/escalade", get(list))
        .route("/admin/escalade/nouvelle", get(new_form).post(create))
        .route("/admin/escalade/{id}", get(edit_form).post(update))
        .route("/admin/escalade/{id}/etat", post(set_state))
}

/// Responder rows on the form (a chain rarely has more: commune, cercle, region, mission).
const LEVEL_ROWS: usize = 5;

#[derive(Deserialize, Default)]
pub struct ListQuery {
    zone: Option<String>,
    categorie: Option<String>,
    /// Text, not a number: the form's "all" choice sends it empty.
    gravite: Option<String>,
    ok: Option<String>,
}

/// The rules this reader may manage: those whose area is within or above their scope (as the API lists them).
async fn rules_in_scope(
    s: &AppState,
    page: &Page,
) -> Result<Vec<(RuleView, AreaPath)>, super::WebError> {
    let scope = page.auth.scope(Permission::AlertsRaise)?;
    Ok(alerts::list_rules(&s.db)
        .await?
        .into_iter()
        .filter(|(_, p)| scope.iter().any(|sc| sc.contains(p) || p.contains(sc)))
        .collect())
}

async fn list(State(s): State<AppState>, page: Page, Query(q): Query<ListQuery>) -> WebResult {
    page.auth
        .require(Permission::AlertsRaise, Target::AnyArea)?;
    let cats = categories(&s, page.lang).await?;
    let zone = super::reports::non_empty(&q.zone);
    // The zone filter keeps the rules that apply there: over the chosen area or an ancestor.
    let zone_path = match zone.as_deref().map(AreaCode::parse) {
        Some(Ok(c)) => vigie_storage::areas::path_of(&s.db, &c, "zone").await.ok(),
        _ => None,
    };
    let category = super::reports::non_empty(&q.categorie);
    let gravite = q.gravite.as_deref().and_then(|g| g.trim().parse::<i32>().ok());
    let mut names = AreaNames::default();
    let mut rows = Vec::new();
    for (r, path) in rules_in_scope(&s, &page).await? {
        if zone_path.as_ref().is_some_and(|z| !path.contains(z)) {
            continue;
        }
        if category
            .as_deref()
            .is_some_and(|c| r.category_code.as_deref() != Some(c))
        {
            continue;
        }
        if gravite.is_some_and(|g| r.min_severity != g) {
            continue;
        }
        // Only rules over areas the reader may change get edit buttons (a national rule is
        // listed to a regional analyst, as it applies to their alerts, but not theirs to edit).
        let editable = page.auth.require_in(Permission::AlertsRaise, &path).is_ok();
        rows.push(context! {
            id => r.id,
            area => names.name(&s, Some(&r.area_code)).await.unwrap_or_else(|| r.area_code.clone()),
            area_code => r.area_code,
            category => r.category_code.as_deref().map(|c| label_of(&cats, c)),
            severity => severity_label(r.min_severity, page.lang),
            levels => r.levels.iter().map(level_value).collect::<Vec<_>>(),
            disabled => r.disabled,
            auto_raise => r.auto_raise,
            editable,
        });
    }
    let areas = area_choices(&s, &page, Permission::AlertsRaise).await?;
    let severities = severity_choices(page.lang);
    let done =
        q.ok.as_deref()
            .filter(|v| ["cree", "modifiee", "desactivee", "activee"].contains(v))
            .map(|v| format!("escalation.done.{v}"));
    page.render(
        "escalation_rules.html",
        context! { rules => rows, areas, categories => cats, severities, f => context! { zone, categorie => category, gravite }, done },
    )
}

fn level_value(l: &LevelSpec) -> Value {
    context! { name => l.name, phone => l.phone, minutes => l.ack_minutes, hours => l.ack_minutes / 60, rest => l.ack_minutes % 60 }
}

fn severity_choices(lang: vigie_domain::Lang) -> Vec<(i32, String)> {
    (1..=4).map(|n| (n, severity_label(n, lang))).collect()
}

#[derive(Serialize, Default, Clone)]
struct LevelInput {
    name: String,
    phone: String,
    minutes: String,
}

#[derive(Serialize, Default)]
struct RuleInput {
    category: String,
    severity: String,
    area: String,
    levels: Vec<LevelInput>,
}

impl RuleInput {
    fn of(r: &RuleView) -> RuleInput {
        let mut levels: Vec<LevelInput> = r
            .levels
            .iter()
            .map(|l| LevelInput {
                name: l.name.clone(),
                phone: l.phone.clone().unwrap_or_default(),
                minutes: l.ack_minutes.to_string(),
            })
            .collect();
        levels.resize(LEVEL_ROWS.max(levels.len()), LevelInput::default());
        RuleInput {
            category: r.category_code.clone().unwrap_or_default(),
            severity: r.min_severity.to_string(),
            area: r.area_code.clone(),
            levels,
        }
    }

    fn from_form(form: &FormPost) -> RuleInput {
        let (names, phones, minutes) = (
            form.all("niveau_nom"),
            form.all("niveau_tel"),
            form.all("niveau_minutes"),
        );
        let rows = names
            .len()
            .max(phones.len())
            .max(minutes.len())
            .clamp(LEVEL_ROWS, 20);
        let at = |v: &[&str], i: usize| v.get(i).map(|s| s.trim().to_string()).unwrap_or_default();
        RuleInput {
            category: form.get("categorie").trim().to_string(),
            severity: form.get("gravite").trim().to_string(),
            area: form.get("zone").trim().to_string(),
            levels: (0..rows)
                .map(|i| LevelInput {
                    name: at(&names, i),
                    phone: at(&phones, i),
                    minutes: at(&minutes, i),
                })
                .collect(),
        }
    }

    /// The API's body from the form: empty rows are skipped; a row's errors name its number
    /// as the storage does (`levels[0].phone`), counted over the rows kept.
    fn parse(&self) -> Result<(Option<String>, i32, AreaCode, Vec<LevelSpec>), ApiError> {
        let severity = self
            .severity
            .parse::<i32>()
            .map_err(|_| ApiError::bad_request("min_severity", Msg::Required))?;
        let area =
            AreaCode::parse(&self.area).map_err(|m| ApiError::bad_request("area_code", m))?;
        let mut levels = Vec::new();
        for l in self
            .levels
            .iter()
            .filter(|l| !(l.name.is_empty() && l.phone.is_empty() && l.minutes.is_empty()))
        {
            let field = format!("levels[{}]", levels.len());
            if l.name.is_empty() {
                return Err(ApiError::bad_request(
                    &format!("{field}.name"),
                    Msg::Required,
                ));
            }
            let ack_minutes = l.minutes.parse::<i64>().map_err(|_| {
                ApiError::bad_request(&format!("{field}.ack_minutes"), Msg::InvalidPeriod)
            })?;
            levels.push(LevelSpec {
                name: l.name.clone(),
                phone: (!l.phone.is_empty()).then(|| l.phone.clone()),
                ack_minutes,
            });
        }
        let category = (!self.category.is_empty()).then(|| self.category.clone());
        Ok((category, severity, area, levels))
    }
}

async fn render_form(
    s: &AppState,
    page: &Page,
    status: StatusCode,
    id: Option<i64>,
    input: RuleInput,
    errors: Vec<FieldError>,
) -> WebResult {
    let areas = area_choices(s, page, Permission::AlertsRaise).await?;
    let cats = categories(s, page.lang).await?;
    let error_fields: Vec<String> = errors.iter().map(|e| e.field.clone()).collect();
    page.render_status(
        status,
        "escalation_rule_form.html",
        context! { id, input, areas, categories => cats, severities => severity_choices(page.lang), errors, error_fields },
    )
}

async fn new_form(State(s): State<AppState>, page: Page) -> WebResult {
    page.auth
        .require(Permission::AlertsRaise, Target::AnyArea)?;
    let input = RuleInput {
        severity: "3".into(),
        levels: vec![LevelInput::default(); LEVEL_ROWS],
        ..Default::default()
    };
    render_form(&s, &page, StatusCode::OK, None, input, vec![]).await
}

/// The rule, if the reader may change it (`alerts.raise` over its area); else refused.
async fn own_rule(s: &AppState, page: &Page, id: i64) -> Result<RuleView, super::WebError> {
    // Refused before the look-up: without the permission, not even whether the rule exists.
    page.auth
        .require(Permission::AlertsRaise, Target::AnyArea)?;
    let (r, path) = alerts::get_rule(&s.db, id).await?;
    page.auth.require_in(Permission::AlertsRaise, &path)?;
    Ok(r)
}

async fn edit_form(State(s): State<AppState>, page: Page, Path(id): Path<String>) -> WebResult {
    let r = own_rule(&s, &page, parse_id(&id)?).await?;
    render_form(
        &s,
        &page,
        StatusCode::OK,
        Some(r.id),
        RuleInput::of(&r),
        vec![],
    )
    .await
}

/// Checks the form and the reader's right over the area it names, then saves through `save`.
async fn save_rule(s: &AppState, form: &FormPost, id: Option<i64>) -> WebResult {
    let page = &form.page;
    let input = RuleInput::from_form(form);
    let result = async {
        let (category, severity, area, levels) = input.parse()?;
        let path = vigie_storage::areas::path_of(&s.db, &area, "area_code").await?;
        page.auth.require_in(Permission::AlertsRaise, &path)?;
        match id {
            None => alerts::create_rule(
                &s.db,
                category.as_deref(),
                severity,
                &area,
                levels,
                // Automatic raising is switched per rule from the API or `vigie alerts rules`.
                false,
                &page.auth.actor(),
            )
            .await
            .map_err(ApiError::from),
            Some(id) => alerts::update_rule(
                &s.db,
                id,
                category.as_deref(),
                severity,
                &area,
                levels,
                &page.auth.actor(),
            )
            .await
            .map_err(ApiError::from),
        }
    }
    .await;
    match result {
        Ok(_) => Ok(Redirect::to(if id.is_some() {
            "/admin/escalade?ok=modifiee"
        } else {
            "/admin/escalade?ok=cree"
        })
        .into_response()),
        Err(e) if fixable(&e) => {
            let status = if e.status == StatusCode::CONFLICT {
                e.status
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            render_form(s, page, status, id, input, field_errors(&e, page.lang)).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn create(State(s): State<AppState>, form: FormPost) -> WebResult {
    form.page
        .auth
        .require(Permission::AlertsRaise, Target::AnyArea)?;
    save_rule(&s, &form, None).await
}

async fn update(State(s): State<AppState>, Path(id): Path<String>, form: FormPost) -> WebResult {
    let r = own_rule(&s, &form.page, parse_id(&id)?).await?;
    save_rule(&s, &form, Some(r.id)).await
}

/// `desactiver=1` disables the rule, `desactiver=0` enables it again.
async fn set_state(State(s): State<AppState>, Path(id): Path<String>, form: FormPost) -> WebResult {
    let r = own_rule(&s, &form.page, parse_id(&id)?).await?;
    let disable = match form.get("desactiver") {
        "1" => true,
        "0" => false,
        _ => return Err(ApiError::bad_request("desactiver", Msg::Required).into()),
    };
    alerts::set_rule_disabled(&s.db, r.id, disable, &form.page.auth.actor()).await?;
    Ok(Redirect::to(if disable {
        "/admin/escalade?ok=desactivee"
    } else {
        "/admin/escalade?ok=activee"
    })
    .into_response())
}
