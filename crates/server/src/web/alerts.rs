//! Alerts: `GET /alertes` (filter by state, "needs attention"), `GET /alertes/{id}` (the timeline
//! of every step, the escalation, the reports grouped in it, the actions this reader may take
//! now) and `POST /alertes/{id}/commande` (one small form per action). Access as in the API:
//! `api::alerts::command_permission`, `api::reports::{require_record, list_scope}`; which step is
//! legal is the domain's `Alert::apply` (tried on a copy), never decided here.

use super::reports::{categories, field_errors, fixable, label_of, parse_id, rows, severity_label, AreaNames, FieldError};
use super::{FormPost, Page, WebResult};
use crate::api::alerts::command_permission;
use crate::api::reports::{list_scope, require_record};
use crate::error::ApiError;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use minijinja::{context, Value};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use vigie_domain::access::{Permission, Target};
use vigie_domain::early_warning::alert::{AlertCommand, AlertState, EscalationKind, Outcome, ResponseAction};
use vigie_domain::early_warning::escalation::{matching_rule, next_escalation};
use vigie_domain::{Lang, Msg};
use vigie_storage::alerts::{self, AlertFilter, AlertView};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/alertes", get(list))
        .route("/alertes/{id}", get(detail))
        .route("/alertes/{id}/commande", post(command))
}

const PER_PAGE: i64 = 25;

pub(super) fn state_label(state: &str, lang: Lang) -> String {
    AlertState::parse(state).map(|s| s.label(lang).to_string()).unwrap_or_else(|| state.to_string())
}

/// Waiting for an acknowledgement past the current level's deadline, or flagged for a person.
pub(super) fn overdue(a: &AlertView, now: DateTime<Utc>) -> bool {
    a.state == "alerted" && (a.needs_attention || a.wake_at.is_some_and(|w| w <= now))
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    etat: Option<String>,
    attention: Option<String>,
    page: Option<i64>,
}

#[derive(Serialize)]
struct Row {
    id: i64,
    title: String,
    category: String,
    severity: String,
    severity_level: i32,
    state: String,
    state_code: String,
    area_code: Option<String>,
    area_name: Option<String>,
    reported_at: DateTime<Utc>,
    needs_attention: bool,
    overdue: bool,
}

pub(super) async fn alert_rows(s: &AppState, lang: Lang, items: Vec<AlertView>) -> Result<Vec<Value>, super::WebError> {
    let cats = categories(s, lang).await?;
    let now = s.now();
    let mut names = AreaNames::default();
    let mut out = Vec::new();
    for a in items {
        out.push(Value::from_serialize(Row {
            overdue: overdue(&a, now),
            area_name: names.name(s, a.area_code.as_deref()).await,
            category: label_of(&cats, &a.category_code),
            severity: severity_label(a.severity, lang),
            severity_level: a.severity,
            state: state_label(&a.state, lang),
            reported_at: a.lifecycle.reported_at,
            id: a.id,
            title: a.title,
            state_code: a.state,
            area_code: a.area_code,
            needs_attention: a.needs_attention,
        }));
    }
    Ok(out)
}

async fn list(State(s): State<AppState>, page: Page, Query(q): Query<ListQuery>) -> WebResult {
    let (scope, global) = list_scope(&page.auth)?;
    let state = q.etat.filter(|e| AlertState::parse(e).is_some());
    let attention = q.attention.as_deref() == Some("1");
    let f = AlertFilter { state: state.clone(), category: None, needs_attention: attention.then_some(true) };
    let current = q.page.unwrap_or(1).clamp(1, 1_000_000);
    let p = alerts::list(&s.db, &scope, global, &f, current, PER_PAGE).await?;
    let items = alert_rows(&s, page.lang, p.items).await?;
    let query = {
        let mut query = form_urlencoded::Serializer::new(String::new());
        if let Some(st) = &state {
            query.append_pair("etat", st);
        }
        if attention {
            query.append_pair("attention", "1");
        }
        query.finish()
    };
    let states: Vec<Value> = AlertState::ALL.iter().map(|st| context! { code => st.as_str(), label => st.label(page.lang) }).collect();
    page.render(
        "alerts.html",
        context! {
            items, total => p.total, current, pages => ((p.total + PER_PAGE - 1) / PER_PAGE).max(1),
            filtered => !query.is_empty(), query, states, f => context! { etat => state, attention },
        },
    )
}

/// Commands offered on the page, each with stand-in details to ask the domain whether the step
/// is legal from the current state (the real details come from the form).
fn candidates() -> Vec<(&'static str, AlertCommand)> {
    vec![
        ("verify", AlertCommand::Verify),
        ("raise", AlertCommand::Raise),
        ("acknowledge", AlertCommand::Acknowledge { level: None }),
        ("respond", AlertCommand::Respond { actions: vec![ResponseAction::Mediation] }),
        ("close", AlertCommand::Close { outcome: Outcome::Unknown }),
        ("false_alarm", AlertCommand::MarkFalseAlarm),
        ("cancel", AlertCommand::Cancel { reason: "-".into() }),
    ]
}

const ACTIONS: [(&str, ResponseAction); 3] =
    [("patrol_deployed", ResponseAction::PatrolDeployed), ("mediation", ResponseAction::Mediation), ("evacuation", ResponseAction::Evacuation)];
const OUTCOMES: [Outcome; 5] = [Outcome::ViolencePrevented, Outcome::ViolenceStopped, Outcome::ViolenceNotPrevented, Outcome::FalseAlarm, Outcome::Unknown];

fn outcome_code(o: Outcome) -> String {
    serde_json::to_value(o).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

#[derive(Serialize, Default)]
struct CommandInput {
    command: String,
    level: String,
    actions: Vec<String>,
    other: String,
    outcome: String,
    reason: String,
}

async fn render_detail(s: &AppState, page: &Page, id: i64, status: StatusCode, input: CommandInput, errors: Vec<FieldError>, done: Option<String>) -> WebResult {
    page.auth.require(Permission::ReportsRead, Target::AnyArea)?;
    let a = alerts::get(&s.db, id).await?;
    require_record(&page.auth, Permission::ReportsRead, a.area_path.as_deref())?;
    let lang = page.lang;
    let now = s.now();
    let l = &a.lifecycle;
    let cats = categories(s, lang).await?;

    // Users named in the history.
    let mut people: HashMap<i64, String> = HashMap::new();
    for t in &l.history {
        if let Some(uid) = t.by_user {
            if !people.contains_key(&uid) {
                let n = vigie_storage::users::get(&s.db, uid).await.map(|u| u.display_name).unwrap_or_else(|_| format!("#{uid}"));
                people.insert(uid, n);
            }
        }
    }
    let by_of = |to: AlertState| l.history.iter().rev().find(|t| t.to == to).and_then(|t| t.by_user).and_then(|u| people.get(&u).cloned());

    // The main steps, in order, with their time (empty when not reached).
    let step = |code: &str, st: AlertState, at: Option<DateTime<Utc>>| {
        context! { code, label => st.label(lang), at, by => by_of(st), done => at.is_some() }
    };
    let mut steps = vec![
        context! { code => "reported", label => AlertState::Reported.label(lang), at => Some(l.reported_at), by => Option::<String>::None, done => true },
        step("verified", AlertState::Verified, l.verified_at),
        step("alerted", AlertState::Alerted, l.alerted_at),
        step("acknowledged", AlertState::Acknowledged, l.acknowledged_at),
        step("responded", AlertState::Responded, l.responded_at),
    ];
    let end = match l.state {
        AlertState::FalseAlarm | AlertState::Cancelled => l.state,
        _ => AlertState::Closed,
    };
    steps.push(step(end.as_str(), end, l.closed_at));

    // Escalation: who was told, when, until when; levels skipped. Names from the rule that applies.
    let rules = alerts::rules(&s.db).await?;
    let rule = matching_rule(l, &rules);
    let level_name = |i: usize| rule.and_then(|r| r.levels.get(i)).map(|lv| lv.name.clone()).unwrap_or_else(|| format!("{} {}", super::i18n::t("alerts.level", lang), i + 1));
    let escalation: Vec<Value> = l
        .escalation
        .iter()
        .map(|e| match &e.kind {
            EscalationKind::Notified { deadline } => context! {
                level => e.level + 1, name => level_name(e.level), at => e.at, deadline, skipped => false,
                // The escalation moved past this level: its deadline went by unanswered.
                missed => l.escalation.iter().any(|x| x.level > e.level),
            },
            EscalationKind::SkippedNoPhone => context! { level => e.level + 1, name => level_name(e.level), at => e.at, skipped => true },
        })
        .collect();
    let attention: Vec<String> = next_escalation(l, &rules, now).attention.iter().map(|m| Msg::from(m.msg()).text(lang)).collect();
    let notified: Vec<Value> = l
        .escalation
        .iter()
        .filter(|e| matches!(e.kind, EscalationKind::Notified { .. }))
        .map(|e| context! { level => e.level, name => level_name(e.level) })
        .collect();

    // Reports grouped in the event, those the reader may see.
    let mut reports = Vec::new();
    for rid in a.report_ids.iter().take(100) {
        if let Ok(r) = vigie_storage::reports::get(&s.db, *rid).await {
            if crate::api::reports::require_report(&page.auth, Permission::ReportsRead, &r).is_ok() {
                reports.push(r);
            }
        }
    }
    let reports = rows(s, lang, reports, &cats).await;
    let tools = super::report_actions::event_context(s, page, &a).await;

    // What this reader may do now: the permission over this area, and a step the domain allows.
    let allowed: Vec<&str> = candidates()
        .into_iter()
        .filter(|(_, cmd)| require_record(&page.auth, command_permission(cmd), a.area_path.as_deref()).is_ok() && l.clone().apply(cmd.clone(), None, now).is_ok())
        .map(|(name, _)| name)
        .collect();
    let actions: Vec<Value> = ACTIONS.iter().map(|(code, act)| context! { code, label => act.label(lang) }).collect();
    let outcomes: Vec<Value> = OUTCOMES.iter().map(|o| context! { code => outcome_code(*o), label => o.label(lang) }).collect();
    let mut names = AreaNames::default();
    let view = context! {
        id => a.id, title => a.title, state => state_label(&a.state, lang), state_code => a.state,
        category => label_of(&cats, &a.category_code), severity => severity_label(a.severity, lang),
        area_code => a.area_code, area_name => names.name(s, a.area_code.as_deref()).await,
        needs_attention => a.needs_attention, overdue => overdue(&a, now), wake_at => a.wake_at,
        alerted_unverified => l.alerted_unverified, raised_automatically => l.raised_automatically,
        done_actions => l.actions.iter().map(|x| x.label(lang)).collect::<Vec<_>>(),
        outcome => l.outcome.map(|o| o.label(lang)), cancel_reason => l.cancel_reason.clone(),
        history => l.history.iter().map(|t| context! {
            from => t.from.label(lang), to => t.to.label(lang), at => t.at, by => t.by_user.and_then(|u| people.get(&u).cloned()),
        }).collect::<Vec<_>>(),
    };
    page.render_status(
        status,
        "alert.html",
        context! {
            a => view, steps, escalation, attention, notified, reports, allowed, actions, outcomes,
            input, errors, done => done.map(|d| state_label(&d, lang)), tools,
        },
    )
}

#[derive(Deserialize, Default)]
pub struct DetailQuery {
    fait: Option<String>,
}

async fn detail(State(s): State<AppState>, page: Page, Path(id): Path<String>, Query(q): Query<DetailQuery>) -> WebResult {
    let id = parse_id(&id)?;
    let done = q.fait.filter(|f| AlertState::parse(f).is_some());
    render_detail(&s, &page, id, StatusCode::OK, CommandInput::default(), Vec::new(), done).await
}

/// The command a form asks for, with its details.
fn read_command(input: &CommandInput) -> Result<AlertCommand, ApiError> {
    Ok(match input.command.as_str() {
        "verify" => AlertCommand::Verify,
        "raise" => AlertCommand::Raise,
        "acknowledge" => AlertCommand::Acknowledge { level: input.level.parse::<usize>().ok() },
        "respond" => {
            let mut actions: Vec<ResponseAction> =
                ACTIONS.iter().filter(|(code, _)| input.actions.iter().any(|a| a == code)).map(|(_, act)| act.clone()).collect();
            if !input.other.trim().is_empty() {
                actions.push(ResponseAction::Other { description: input.other.trim().to_string() });
            }
            AlertCommand::Respond { actions }
        }
        "close" => {
            let outcome = OUTCOMES.iter().find(|o| outcome_code(**o) == input.outcome).ok_or_else(|| ApiError::bad_request("outcome", Msg::Required))?;
            AlertCommand::Close { outcome: *outcome }
        }
        "false_alarm" => AlertCommand::MarkFalseAlarm,
        "cancel" => AlertCommand::Cancel { reason: input.reason.clone() },
        _ => return Err(ApiError::bad_request("command", Msg::Required)),
    })
}

async fn command(State(s): State<AppState>, Path(id): Path<String>, form: FormPost) -> WebResult {
    let id = parse_id(&id)?;
    let page = &form.page;
    let input = CommandInput {
        command: form.get("commande").to_string(),
        level: form.get("niveau").to_string(),
        actions: form.all("action").into_iter().map(str::to_string).collect(),
        other: form.get("autre").to_string(),
        outcome: form.get("issue").to_string(),
        reason: form.get("motif").to_string(),
    };
    let result = async {
        let cmd = read_command(&input)?;
        // The same checks as POST /api/v1/alerts/{id}/commands.
        let perm = command_permission(&cmd);
        page.auth.require(perm, Target::AnyArea)?;
        let id = vigie_storage::events::survivor(&s.db, id).await?;
        let a = alerts::get(&s.db, id).await?;
        require_record(&page.auth, perm, a.area_path.as_deref())?;
        alerts::command(&s.db, id, cmd, &page.auth.actor(), s.now()).await.map_err(ApiError::from)
    }
    .await;
    match result {
        Ok(a) => Ok(Redirect::to(&format!("/alertes/{id}?fait={}#etat", a.state)).into_response()),
        Err(e) if fixable(&e) => {
            let errors = field_errors(&e, page.lang);
            render_detail(&s, page, id, e.status, input, errors, None).await
        }
        Err(e) => Err(e.into()),
    }
}
