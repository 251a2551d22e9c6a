//! Protected cases for handlers and supervisors: the inbox of the reader's desk
//! `GET /dossiers` and one case `GET /dossiers/{id}` with its timeline, the workflow steps the
//! reader may take (`POST …/etape`), the thread with the receipt holder (`POST …/questions`),
//! the assignment of a handler (`POST …/affectation`, supervisors) and the publication of the
//! outcome (`POST …/publication`).
//!
//! Access is exactly the API's (`api::cases::{load_for, lister, rights, require_supervisor}`):
//! area, desk and exclusions; identities, messages and evidence are decrypted by storage only
//! for a handler assigned to the case, and each reading is audited there.

use super::reports::{field_errors, non_empty, parse_id, AreaNames, FieldError};
use super::{FormPost, Page, WebResult};
use crate::api::cases::{lister, load_for, require_supervisor, rights};
use crate::error::ApiError;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::Router;
use minijinja::{context, Value};
use serde::Deserialize;
use serde_json::Map;
use std::collections::HashMap;
use vigie_domain::access::{authorize, Permission, Target};
use vigie_domain::cases::{overdue_days, WorkflowDef, REDACTED};
use vigie_domain::Lang;
use vigie_storage::cases::{self, CaseFilter, CaseView, Mover};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/dossiers", get(inbox))
        .route("/dossiers/{id}", get(detail))
        .route("/dossiers/{id}/etape", post(step))
        .route("/dossiers/{id}/questions", post(ask))
        .route("/dossiers/{id}/affectation", post(assign))
        .route("/dossiers/{id}/publication", post(publish))
        .route("/dossiers/{id}/exclusion", post(exclude))
        .route("/dossiers/{id}/orientation", post(refer))
}

const PER_PAGE: i64 = 25;

fn state_label(def: Option<&WorkflowDef>, state: &str, lang: Lang) -> String {
    def.and_then(|d| d.state(state)).map(|s| s.label.get(lang).to_string()).unwrap_or_else(|| state.to_string())
}

fn workflow_label(key: &str, lang: Lang) -> String {
    cases::workflow(key).map(|d| d.label().get(lang).to_string()).unwrap_or_else(|| key.to_string())
}

async fn user_names(s: &AppState, ids: impl IntoIterator<Item = i64>) -> HashMap<i64, String> {
    let mut out = HashMap::new();
    for id in ids {
        if let std::collections::hash_map::Entry::Vacant(e) = out.entry(id) {
            let n = vigie_storage::users::get(&s.db, id).await.map(|u| u.display_name).unwrap_or_else(|_| format!("#{id}"));
            e.insert(n);
        }
    }
    out
}

// ---- Inbox ----

#[derive(Deserialize, Default)]
pub struct InboxQuery {
    circuit: Option<String>,
    retard: Option<String>,
    tous: Option<String>,
    page: Option<i64>,
}

async fn inbox(State(s): State<AppState>, page: Page, Query(q): Query<InboxQuery>) -> WebResult {
    let scope = page.auth.scope(Permission::CasesRead)?;
    let lang = page.lang;
    let workflow = non_empty(&q.circuit).filter(|w| cases::workflow(w).is_some());
    let overdue = q.retard.is_some();
    let all = q.tous.is_some();
    let f = CaseFilter { workflow: workflow.clone(), state: None, overdue, open_only: !all };
    let who = lister(&s, &page.auth).await?;
    let current = q.page.unwrap_or(1).clamp(1, 1_000_000);
    let now = s.now();
    let p = cases::list(&s.db, &scope, &who, &f, current, PER_PAGE, now).await?;
    let mut names = AreaNames::default();
    let me = page.auth.principal.user_id;
    let mut items = Vec::new();
    for c in &p.items {
        let def = cases::workflow(&c.workflow);
        items.push(context! {
            id => c.id, title => c.title, workflow => workflow_label(&c.workflow, lang), state => state_label(def, &c.state, lang),
            area => names.name(&s, Some(&c.area_code)).await.unwrap_or_else(|| c.area_code.clone()), opened_at => c.opened_at,
            deadline => c.deadline, overdue => c.overdue, late_days => overdue_days(c.deadline, now), closed => c.closed_at.is_some(),
            mine => c.assigned_user_ids.contains(&me), assigned => !c.assigned_user_ids.is_empty(), desk => c.desk_org_id.is_some(),
        });
    }
    let desk = match who.org_id {
        Some(o) => vigie_storage::orgs::get(&s.db, o).await.ok().map(|(o, _)| o.name),
        None => None,
    };
    let workflows: Vec<Value> = cases::workflows().iter().map(|w| context! { key => w.key(), label => w.label().get(lang) }).collect();
    let mut query = form_urlencoded::Serializer::new(String::new());
    if let Some(w) = &workflow {
        query.append_pair("circuit", w);
    }
    if overdue {
        query.append_pair("retard", "1");
    }
    if all {
        query.append_pair("tous", "1");
    }
    let query = query.finish();
    page.render(
        "cases.html",
        context! {
            items, total => p.total, current, pages => ((p.total + PER_PAGE - 1) / PER_PAGE).max(1), query, filtered => !query.is_empty(),
            workflows, desk, all_desks => who.all_desks, f => context! { circuit => workflow, retard => overdue, tous => all },
        },
    )
}

// ---- One case ----

#[derive(Deserialize, Default)]
pub struct DetailQuery {
    fait: Option<String>,
}

#[derive(Default)]
struct Extras {
    status: Option<StatusCode>,
    /// Errors of one form, by its name (`etape:<state>`, `question`, `affectation`, `publication`).
    form: String,
    errors: Vec<FieldError>,
    values: HashMap<String, String>,
    done: Option<String>,
}

/// The fields of a case in the workflow's order, with labels; identity values stay "[protégé]"
/// unless storage decrypted them for this reader.
fn field_rows(def: &WorkflowDef, v: &CaseView, lang: Lang) -> Vec<Value> {
    def.fields()
        .iter()
        .filter_map(|f| {
            let raw = v.fields.get(&f.key)?;
            let text = match raw {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Array(a) => a.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>().join(", "),
                serde_json::Value::Null => return None,
                other => other.to_string(),
            };
            Some(context! { key => f.key, label => f.label.get(lang), text, identity => f.identity, redacted => text == REDACTED })
        })
        .collect()
}

async fn render_detail(s: &AppState, page: &Page, id: i64, x: Extras) -> WebResult {
    let h = load_for(s, &page.auth, id, Permission::CasesRead).await?;
    let lang = page.lang;
    let now = s.now();
    let me = page.auth.principal.user_id;
    let v = cases::view(&s.db, id, &page.auth.actor(), now).await?;
    let def = cases::workflow(&v.workflow).ok_or(vigie_domain::Msg::NotFound)?;
    let can_handle = load_for(s, &page.auth, id, Permission::CasesHandle).await.is_ok();
    let supervisor = can_handle && require_supervisor(&page.auth, &h.area_path).is_ok();
    let rel = cases::relation(&s.db, id, me).await?;
    let actor = rights(&page.auth, &h.area_path);

    let history = cases::history(&s.db, id).await?;
    let ids: Vec<i64> = history.iter().filter_map(|t| t.actor_id).chain(v.assigned_user_ids.iter().copied()).collect();
    let people = user_names(s, ids).await;
    let timeline: Vec<Value> = history
        .iter()
        .map(|t| {
            context! {
                from => t.from_state.as_deref().map(|f| state_label(Some(def), f, lang)), to => state_label(Some(def), &t.to_state, lang),
                at => t.at, deadline => t.deadline, by => t.actor_id.and_then(|a| people.get(&a).cloned()),
            }
        })
        .collect();

    // The steps this reader may take, each with the fields its target state requires.
    let steps: Vec<Value> = if can_handle && v.closed_at.is_none() {
        def.exits_for(&v.state, &actor)
            .filter_map(|t| def.state(&t.to))
            .map(|st| {
                let form = format!("etape:{}", st.key);
                let fields: Vec<Value> = st
                    .required_fields
                    .iter()
                    .filter_map(|k| def.field(k))
                    .map(|f| {
                        let current = x.values.get(&f.key).cloned().filter(|_| x.form == form).or_else(|| {
                            v.fields.get(&f.key).and_then(|v| v.as_str()).filter(|s| *s != REDACTED).map(str::to_string)
                        });
                        context! { key => f.key, label => f.label.get(lang), value => current.unwrap_or_default(), identity => f.identity, long => f.key.contains("summary") || f.key.contains("assessment") || f.key.contains("justification") }
                    })
                    .collect();
                let errors = if x.form == form { x.errors.clone() } else { Vec::new() };
                context! { to => st.key, label => st.label.get(lang), terminal => st.terminal, fields, errors }
            })
            .collect()
    } else {
        Vec::new()
    };

    let messages: Option<Vec<Value>> = if rel.may_reveal() {
        Some(
            cases::messages(&s.db, id, &page.auth.actor())
                .await?
                .into_iter()
                .map(|m| context! { to_holder => m.direction == "to_holder", body => m.body, at => m.at })
                .collect(),
        )
    } else {
        None
    };

    // Handlers a supervisor may assign: `cases.handle` over the case's area, the case's desk,
    // not excluded (storage checks all three again).
    let mut candidates = Vec::new();
    // Handlers a supervisor may exclude (conflict of interest): anyone handling cases of this
    // area who is not excluded yet, assigned or not, at any desk (a referral may bring them in).
    let mut excludable = Vec::new();
    let mut desks = Vec::new();
    if supervisor {
        let roots = vigie_storage::areas::root_paths(&s.db).await?;
        for u in vigie_storage::users::list(&s.db, &roots, 1, 500).await?.items {
            if u.disabled {
                continue;
            }
            let Some(p) = vigie_storage::users::principal(&s.db, u.id).await? else { continue };
            let handles = authorize(&p, Permission::CasesHandle, Target::InArea(&h.area_path)).is_ok();
            if !handles || u.id == me || cases::relation(&s.db, id, u.id).await?.excluded {
                continue;
            }
            excludable.push(context! { id => u.id, name => u.display_name, username => u.username });
            let same_desk = h.desk_org_id.is_none_or(|d| u.org_id == Some(d));
            if same_desk && !v.assigned_user_ids.contains(&u.id) {
                candidates.push(context! { id => u.id, name => u.display_name, username => u.username });
            }
        }
        // Desks a case may be referred to: the organisations in Vigie other than its own.
        for o in vigie_storage::orgs::list(&s.db, &roots, None, 1, 500).await?.items {
            if Some(o.id) != h.desk_org_id {
                desks.push(context! { id => o.id, name => o.name });
            }
        }
    }
    let can_publish = can_handle && v.publishable && v.published_at.is_none() && def.transitions().iter().any(|t| t.to == v.state && actor.may(t));
    let evidence = if rel.may_reveal() { cases::evidence_list(&s.db, id).await? } else { Vec::new() };
    let evidence: Vec<Value> = evidence.into_iter().map(|(eid, ctype, size)| context! { id => eid, content_type => ctype, size }).collect();
    let area_name = AreaNames::default().name(s, Some(&v.area_code)).await;
    let desk = match v.desk_org_id {
        Some(o) => vigie_storage::orgs::get(&s.db, o).await.ok().map(|(o, _)| o.name),
        None => None,
    };
    let assigned: Vec<String> = v.assigned_user_ids.iter().map(|u| people.get(u).cloned().unwrap_or_else(|| format!("#{u}"))).collect();
    let form_errors = |name: &str| if x.form == name { x.errors.clone() } else { Vec::new() };
    let case = context! {
        id => v.id, title => v.title, workflow => def.label().get(lang), state => state_label(Some(def), &v.state, lang), state_code => v.state,
        area_code => v.area_code, area_name, desk, referred_to => v.referred_to, opened_at => v.opened_at, updated_at => v.updated_at,
        closed_at => v.closed_at, deadline => v.deadline, overdue => v.overdue, late_days => overdue_days(v.deadline, now),
        published_outcome => v.published_outcome, published_at => v.published_at, report_id => v.report_id,
        identity_visible => v.identity_visible, fields => field_rows(def, &v, lang), assigned, mine => v.assigned_user_ids.contains(&me),
    };
    page.render_status(
        x.status.unwrap_or(StatusCode::OK),
        "case.html",
        context! {
            c => case, timeline, steps, messages, can_handle, supervisor, candidates, can_publish, evidence, excludable, desks,
            exclude_errors => form_errors("exclusion"), refer_errors => form_errors("orientation"),
            exclude_reason => x.values.get("motif").cloned().filter(|_| x.form == "exclusion").unwrap_or_default(),
            refer_institution => x.values.get("institution").cloned().filter(|_| x.form == "orientation").unwrap_or_default(),
            question => x.values.get("question").cloned().filter(|_| x.form == "question").unwrap_or_default(),
            question_errors => form_errors("question"), assign_errors => form_errors("affectation"), publish_errors => form_errors("publication"),
            done => x.done,
        },
    )
}

async fn detail(State(s): State<AppState>, page: Page, Path(id): Path<String>, Query(q): Query<DetailQuery>) -> WebResult {
    let id = parse_id(&id)?;
    // The notice's key, only for the actions this page knows.
    let done = q.fait.filter(|f| ["etape", "question", "affectation", "publication", "exclusion", "orientation"].contains(&f.as_str())).map(|f| format!("cases.done.{f}"));
    render_detail(&s, &page, id, Extras { done, ..Default::default() }).await
}

/// After an action: back to the case; a mistake the person can fix is shown on the form.
async fn after(s: &AppState, page: &Page, id: i64, form: &str, values: HashMap<String, String>, result: Result<(), ApiError>, anchor: &str) -> WebResult {
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/dossiers/{id}?fait={}#{anchor}", form.split(':').next().unwrap_or(form))).into_response()),
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND && !(e.status == StatusCode::FORBIDDEN && e.field.is_none()) => {
            let x = Extras { status: Some(e.status), form: form.to_string(), errors: field_errors(&e, page.lang), values, done: None };
            render_detail(s, page, id, x).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn step(State(s): State<AppState>, Path(id): Path<String>, form: FormPost) -> WebResult {
    let id = parse_id(&id)?;
    let page = &form.page;
    let to = form.get("vers").trim().to_string();
    let mut values = HashMap::new();
    let mut fields = Map::new();
    for (k, v) in &form.fields {
        if let Some(key) = k.strip_prefix("champ.") {
            values.insert(key.to_string(), v.clone());
            if !v.trim().is_empty() {
                fields.insert(key.to_string(), serde_json::Value::String(v.trim().to_string()));
            }
        }
    }
    let result = async {
        // The same checks as POST /api/v1/cases/{id}/transitions.
        let h = load_for(&s, &page.auth, id, Permission::CasesHandle).await?;
        let actor = page.auth.actor();
        let who = Mover { actor: &actor, user_id: page.auth.principal.user_id, rights: rights(&page.auth, &h.area_path) };
        cases::transition(&s.db, id, &to, fields, &who, s.now()).await.map(|_| ()).map_err(ApiError::from)
    }
    .await;
    after(&s, page, id, &format!("etape:{to}"), values, result, "etapes").await
}

async fn ask(State(s): State<AppState>, Path(id): Path<String>, form: FormPost) -> WebResult {
    let id = parse_id(&id)?;
    let page = &form.page;
    let body = form.get("question").to_string();
    let result = async {
        load_for(&s, &page.auth, id, Permission::CasesHandle).await?;
        cases::ask(&s.db, id, &body, &page.auth.actor(), s.now()).await.map(|_| ()).map_err(ApiError::from)
    }
    .await;
    after(&s, page, id, "question", HashMap::from([("question".to_string(), body.clone())]), result, "fil").await
}

async fn assign(State(s): State<AppState>, Path(id): Path<String>, form: FormPost) -> WebResult {
    let id = parse_id(&id)?;
    let page = &form.page;
    let user = form.get("charge").trim().parse::<i64>().ok();
    let result = async {
        let h = load_for(&s, &page.auth, id, Permission::CasesHandle).await?;
        require_supervisor(&page.auth, &h.area_path)?;
        let user = user.ok_or_else(|| ApiError::bad_request("user_id", vigie_domain::Msg::Required))?;
        cases::assign(&s.db, id, user, &page.auth.actor(), s.now()).await.map_err(ApiError::from)
    }
    .await;
    after(&s, page, id, "affectation", HashMap::new(), result, "affectation").await
}

async fn publish(State(s): State<AppState>, Path(id): Path<String>, form: FormPost) -> WebResult {
    let id = parse_id(&id)?;
    let page = &form.page;
    let summary = form.get("resume").trim().to_string();
    let result = async {
        let h = load_for(&s, &page.auth, id, Permission::CasesHandle).await?;
        let actor = page.auth.actor();
        let who = Mover { actor: &actor, user_id: page.auth.principal.user_id, rights: rights(&page.auth, &h.area_path) };
        let summary = Some(summary.as_str()).filter(|t| !t.is_empty());
        cases::publish(&s.db, id, summary, &who, s.now()).await.map(|_| ()).map_err(ApiError::from)
    }
    .await;
    after(&s, page, id, "publication", HashMap::new(), result, "publication").await
}

/// A supervisor excludes a handler from the case (conflict of interest), with a reason; the
/// same checks and storage call as `POST /api/v1/cases/{id}/exclusions` (audited there).
async fn exclude(State(s): State<AppState>, Path(id): Path<String>, form: FormPost) -> WebResult {
    let id = parse_id(&id)?;
    let page = &form.page;
    let reason = form.get("motif").to_string();
    let user = form.get("charge").trim().parse::<i64>().ok();
    let result = async {
        let h = load_for(&s, &page.auth, id, Permission::CasesHandle).await?;
        require_supervisor(&page.auth, &h.area_path)?;
        let user = user.ok_or_else(|| ApiError::bad_request("user_id", vigie_domain::Msg::Required))?;
        cases::exclude(&s.db, id, user, &reason, &page.auth.actor(), s.now()).await.map_err(ApiError::from)
    }
    .await;
    after(&s, page, id, "exclusion", HashMap::from([("motif".to_string(), reason.clone())]), result, "exclusion").await
}

/// A supervisor refers the case to another desk in Vigie or to an outside institution; the
/// same checks and storage call as `POST /api/v1/cases/{id}/referral` (audited there).
async fn refer(State(s): State<AppState>, Path(id): Path<String>, form: FormPost) -> WebResult {
    let id = parse_id(&id)?;
    let page = &form.page;
    let institution = form.get("institution").trim().to_string();
    let desk = form.get("bureau").trim().to_string();
    let result = async {
        let h = load_for(&s, &page.auth, id, Permission::CasesHandle).await?;
        require_supervisor(&page.auth, &h.area_path)?;
        let desk = match desk.as_str() {
            "" => None,
            d => Some(d.parse::<i64>().map_err(|_| ApiError::bad_request("desk_org_id", vigie_domain::Msg::UnknownOrganisation))?),
        };
        let institution = Some(institution.as_str()).filter(|t| !t.is_empty());
        cases::refer(&s.db, id, desk, institution, &page.auth.actor(), s.now()).await.map_err(ApiError::from)
    }
    .await;
    after(&s, page, id, "orientation", HashMap::from([("institution".to_string(), institution.clone())]), result, "orientation").await
}
