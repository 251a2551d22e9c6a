//! Local security governance pages: `GET /comites` (committees of the reader's area, with their
//! derived status), `GET /comites/{id}` (members, meetings, decisions and their follow-up,
//! plans), `GET|POST /comites/{id}/reunion` (the meeting form: plain HTML, CSRF field, works
//! without JavaScript) and `GET /annuaire` (the directory search: anyone sees consented public
//! fields; signed-in partners also see fields meant for partners). Access as in the API
//! (`api::governance`, `api::directory`); the words are in [`WORDS`].

use super::reports::{field_errors, fixable};
use super::{html, lang_of, FormPost, Page, WebResult};
use crate::api::directory::SearchQuery;
use crate::api::governance::{require_alerts, today, AttendanceBody, DecisionBody, MeetingBody};
use crate::auth::session_auth;
use crate::error::ApiError;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use axum::Router;
use minijinja::{context, Value};
use serde::Deserialize;
use vigie_domain::access::{Permission, Target};
use vigie_domain::governance::directory::{Audience, Expertise};
use vigie_domain::governance::{AgeGroup, CommitteeKind, CommitteeStatus, FollowUp, Sex};
use vigie_domain::{Lang, Msg};
use vigie_storage::directory as dir;
use vigie_storage::governance::{self as gov, CommitteeFilter};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/comites", get(list))
        .route("/comites/{id}", get(detail))
        .route("/comites/{id}/reunion", get(meeting_form).post(meeting_post))
        .route("/annuaire", get(directory))
}

/// (key, français, English): the words of these pages, looked up by `web::i18n::t`.
pub const WORDS: &[(&str, &str, &str)] = &[
    ("nav.committees", "Comités", "Committees"),
    ("nav.directory", "Annuaire", "Directory"),
    ("gov.title", "Comités et mécanismes locaux", "Local committees and mechanisms"),
    ("gov.intro", "Le statut se déduit des réunions : fonctionnel s'il s'est réuni au cours des trois derniers mois.", "Status is derived from meetings: functional if it met in the last three months."),
    ("gov.name", "Nom", "Name"),
    ("gov.kind", "Type", "Type"),
    ("gov.area", "Zone", "Area"),
    ("gov.status", "Statut", "Status"),
    ("gov.established", "Créé le", "Set up on"),
    ("gov.last_meeting", "Dernière réunion", "Last meeting"),
    ("gov.meetings_quarter", "Réunions (3 mois)", "Meetings (3 months)"),
    ("gov.none", "Aucun comité dans votre zone.", "No committee in your area."),
    ("gov.members", "Membres", "Members"),
    ("gov.member_role", "Fonction", "Role"),
    ("gov.institution", "Institution", "Institution"),
    ("gov.sex", "Sexe", "Sex"),
    ("gov.age_group", "Tranche d'âge", "Age group"),
    ("gov.no_members", "Aucun membre enregistré.", "No member recorded."),
    ("gov.meetings", "Réunions", "Meetings"),
    ("gov.no_meetings", "Aucune réunion enregistrée.", "No meeting recorded."),
    ("gov.new_meeting", "Enregistrer une réunion", "Record a meeting"),
    ("gov.held_on", "Date de la réunion", "Meeting date"),
    ("gov.agenda", "Ordre du jour", "Agenda"),
    ("gov.minutes", "Compte rendu", "Minutes"),
    ("gov.attendance", "Participants", "Attendees"),
    ("gov.attendance_hint", "Nombre de personnes présentes, par sexe et tranche d'âge (jeunes : moins de 35 ans).", "Number of people present, by sex and age group (youth: under 35)."),
    ("gov.women", "Femmes", "Women"),
    ("gov.men", "Hommes", "Men"),
    ("gov.youth", "Jeunes", "Youth"),
    ("gov.adults", "Adultes", "Adults"),
    ("gov.elders", "Aînés", "Elders"),
    ("gov.total", "Total", "Total"),
    ("gov.decisions", "Décisions et recommandations", "Decisions and recommendations"),
    ("gov.decision", "Décision", "Decision"),
    ("gov.responsible", "Responsable", "Responsible"),
    ("gov.due_on", "Échéance", "Due date"),
    ("gov.done_on", "Exécutée le", "Done on"),
    ("gov.follow_up", "Suivi", "Follow-up"),
    ("gov.decisions_hint", "Laissez vides les lignes inutiles.", "Leave unused rows empty."),
    ("gov.alerts", "Alertes liées (numéros)", "Linked alerts (numbers)"),
    ("gov.alerts_hint", "Numéros d'alertes d'alerte précoce traitées par la réunion, séparés par des virgules.", "Numbers of early-warning alerts the meeting dealt with, separated by commas."),
    ("gov.save", "Enregistrer", "Save"),
    ("gov.saved", "Réunion enregistrée.", "Meeting recorded."),
    ("gov.plans", "Plans locaux de sécurité", "Local security plans"),
    ("gov.action", "Action", "Action"),
    ("gov.deadline", "Délai", "Deadline"),
    ("gov.late", "en retard", "late"),
    ("dir.title", "Annuaire des personnes ressources", "Directory of resource persons"),
    ("dir.intro", "Médiatrices et médiateurs, expertes et experts, leaders femmes et jeunes que les institutions peuvent solliciter. Seules les personnes ayant donné leur consentement y figurent, avec les seuls champs qu'elles ont choisi de rendre visibles.", "Mediators, experts, women and youth leaders institutions can call on. Only people who gave their consent are listed, with only the fields they chose to show."),
    ("dir.partner_view", "Vous voyez aussi les champs réservés aux partenaires.", "You also see the fields reserved for partners."),
    ("dir.expertise", "Expertise", "Expertise"),
    ("dir.language", "Langue", "Language"),
    ("dir.organisation", "Organisation", "Organisation"),
    ("dir.phone", "Téléphone", "Phone"),
    ("dir.email", "Courriel", "Email"),
    ("dir.not_shown", "non communiqué", "not shown"),
    ("dir.none", "Aucune personne ne correspond à ces critères.", "Nobody matches these criteria."),
    ("dir.search", "Rechercher", "Search"),
    ("dir.export", "Télécharger (CSV)", "Download (CSV)"),
    ("dir.results", "résultat(s)", "result(s)"),
];

const PER_PAGE: i64 = 50;

fn kind_label(code: &str, lang: Lang) -> String {
    CommitteeKind::parse(code).map(|k| k.label(lang).to_string()).unwrap_or_else(|_| code.to_string())
}
fn status_label(code: &str, lang: Lang) -> String {
    CommitteeStatus::parse(code).map(|s| s.label(lang).to_string()).unwrap_or_else(|| code.to_string())
}
fn sex_label(code: &str, lang: Lang) -> String {
    Sex::parse(code).map(|s| s.label(lang).to_string()).unwrap_or_else(|_| code.to_string())
}
fn age_label(code: &str, lang: Lang) -> String {
    AgeGroup::parse(code).map(|s| s.label(lang).to_string()).unwrap_or_else(|_| code.to_string())
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    statut: Option<String>,
    page: Option<i64>,
}

async fn list(State(s): State<AppState>, page: Page, Query(q): Query<ListQuery>) -> WebResult {
    let scope = page.auth.scope(Permission::CommitteesRead)?;
    let status = q.statut.as_deref().and_then(CommitteeStatus::parse);
    let current = q.page.unwrap_or(1).clamp(1, 1_000_000);
    let p = gov::list_committees(&s.db, &scope, &CommitteeFilter { status, ..Default::default() }, today(&s), current, PER_PAGE).await?;
    let lang = page.lang;
    let items: Vec<Value> = p
        .items
        .iter()
        .map(|c| {
            context! {
                id => c.id, name => c.name, kind => kind_label(&c.kind, lang), area_code => c.area_code,
                status => status_label(&c.status, lang), status_code => c.status, established_on => c.established_on.to_string(),
                last_meeting_on => c.last_meeting_on.map(|d| d.to_string()), meetings_last_quarter => c.meetings_last_quarter,
            }
        })
        .collect();
    let statuses: Vec<Value> = [CommitteeStatus::Functional, CommitteeStatus::SetUp, CommitteeStatus::Dormant]
        .iter()
        .map(|st| context! { code => st.as_str(), label => st.label(lang) })
        .collect();
    let query = status.map(|st| format!("statut={}", st.as_str())).unwrap_or_default();
    page.render(
        "governance_committees.html",
        context! { items, total => p.total, current, pages => ((p.total + PER_PAGE - 1) / PER_PAGE).max(1), statuses,
                   f => context! { statut => status.map(|s| s.as_str()) }, query, filtered => status.is_some() },
    )
}

async fn committee_context(s: &AppState, page: &Page, id: i64) -> Result<Value, super::WebError> {
    page.auth.require(Permission::CommitteesRead, Target::AnyArea)?;
    let path = gov::committee_area(&s.db, id).await?;
    page.auth.require_in(Permission::CommitteesRead, &path)?;
    let t = today(s);
    let lang = page.lang;
    let c = gov::get_committee(&s.db, id, t).await?;
    let members: Vec<Value> = c
        .members
        .iter()
        .map(|m| context! { name => m.name, role => m.role, institution => m.institution, sex => sex_label(&m.sex, lang), age_group => age_label(&m.age_group, lang) })
        .collect();
    let meetings: Vec<Value> = gov::meetings(&s.db, id, t)
        .await?
        .into_iter()
        .map(|m| {
            let decisions: Vec<Value> = m
                .decisions
                .iter()
                .map(|d| {
                    let fu = match d.follow_up.as_str() {
                        "done" => FollowUp::Done,
                        "late" => FollowUp::Late,
                        _ => FollowUp::InProgress,
                    };
                    context! { text => d.text, responsible => d.responsible, due_on => d.due_on.to_string(), done_on => d.done_on.map(|x| x.to_string()),
                               follow_up => fu.label(lang), follow_up_code => d.follow_up }
                })
                .collect();
            context! { id => m.id, held_on => m.held_on.to_string(), agenda => m.agenda, minutes => m.minutes, attendees => m.attendees,
                       women => m.women, youth => m.youth, decisions, alert_ids => m.alert_ids }
        })
        .collect();
    let plans: Vec<Value> = gov::plans(&s.db, id, t)
        .await?
        .into_iter()
        .map(|p| {
            let actions: Vec<Value> = p
                .actions
                .iter()
                .map(|a| {
                    let st = vigie_domain::governance::ActionStatus::parse(&a.status).map(|x| x.label(lang).to_string()).unwrap_or_else(|_| a.status.clone());
                    context! { action => a.action, responsible => a.responsible, deadline => a.deadline.to_string(), status => st, late => a.late }
                })
                .collect();
            context! { title => p.title, starts_on => p.starts_on.to_string(), ends_on => p.ends_on.to_string(), actions }
        })
        .collect();
    Ok(context! {
        c => context! { id => c.id, name => c.name, kind => kind_label(&c.kind, lang), area_code => c.area_code, status => status_label(&c.status, lang),
                        status_code => c.status, established_on => c.established_on.to_string(), last_meeting_on => c.last_meeting_on.map(|d| d.to_string()),
                        meetings_last_quarter => c.meetings_last_quarter },
        members, meetings, plans,
        can_write => page.auth.require_in(Permission::CommitteesWrite, &path).is_ok(),
    })
}

#[derive(Deserialize, Default)]
pub struct DetailQuery {
    ok: Option<String>,
}

async fn detail(State(s): State<AppState>, page: Page, Path(id): Path<i64>, Query(q): Query<DetailQuery>) -> WebResult {
    let ctx = committee_context(&s, &page, id).await?;
    page.render("governance_committee.html", context! { ..ctx, ..context! { saved => q.ok.is_some() } })
}

/// The attendance grid of the form: (field name, sex, age group).
const CELLS: &[(&str, Sex, AgeGroup)] = &[
    ("femmes_jeunes", Sex::Female, AgeGroup::Youth),
    ("femmes_adultes", Sex::Female, AgeGroup::Adult),
    ("femmes_ainees", Sex::Female, AgeGroup::Elder),
    ("hommes_jeunes", Sex::Male, AgeGroup::Youth),
    ("hommes_adultes", Sex::Male, AgeGroup::Adult),
    ("hommes_aines", Sex::Male, AgeGroup::Elder),
];
const DECISION_ROWS: usize = 3;

async fn render_form(s: &AppState, page: &Page, id: i64, fields: &[(String, String)], errors: Vec<super::reports::FieldError>, status: StatusCode) -> WebResult {
    let path = gov::committee_area(&s.db, id).await?;
    page.auth.require_in(Permission::CommitteesWrite, &path)?;
    let c = gov::get_committee(&s.db, id, today(s)).await?;
    let get = |n: &str| super::form_get(fields, n).to_string();
    let cells: Vec<Value> = CELLS.iter().map(|(n, _, _)| context! { name => n, value => get(n) }).collect();
    let decisions: Vec<Value> = (1..=DECISION_ROWS)
        .map(|i| context! { i, text => get(&format!("decision_{i}")), responsible => get(&format!("responsable_{i}")), due_on => get(&format!("echeance_{i}")) })
        .collect();
    let error_fields: Vec<String> = errors.iter().map(|e| e.field.clone()).collect();
    page.render_status(
        status,
        "governance_meeting.html",
        context! {
            c => context! { id => c.id, name => c.name, established_on => c.established_on.to_string() },
            input => context! { held_on => get("date"), agenda => get("ordre_du_jour"), minutes => get("compte_rendu"), alerts => get("alertes") },
            cells, decisions, errors, error_fields, today => today(s).to_string(),
        },
    )
}

async fn meeting_form(State(s): State<AppState>, page: Page, Path(id): Path<i64>) -> WebResult {
    page.auth.require(Permission::CommitteesWrite, Target::AnyArea)?;
    render_form(&s, &page, id, &[], Vec::new(), StatusCode::OK).await
}

/// Reads the form into the API's meeting body, so both surfaces validate the same way.
fn meeting_body(form: &FormPost) -> Result<MeetingBody, ApiError> {
    let mut attendance = Vec::new();
    for (name, sex, age) in CELLS {
        let raw = form.get(name).trim();
        if raw.is_empty() {
            continue;
        }
        let count: u32 = raw.parse().map_err(|_| {
            ApiError::bad_request(&format!("attendance.{name}"), Msg::from(vigie_domain::governance::GovMsg::InvalidCount { text: raw.to_string() }))
        })?;
        attendance.push(AttendanceBody { sex: sex.as_str().into(), age_group: age.as_str().into(), count });
    }
    let mut decisions = Vec::new();
    for i in 1..=DECISION_ROWS {
        let (text, resp, due) = (form.get(&format!("decision_{i}")), form.get(&format!("responsable_{i}")), form.get(&format!("echeance_{i}")));
        if text.trim().is_empty() && resp.trim().is_empty() && due.trim().is_empty() {
            continue;
        }
        decisions.push(DecisionBody { text: text.into(), responsible: resp.into(), due_on: due.into() });
    }
    let mut alert_ids = Vec::new();
    for part in form.get("alertes").split([',', ';', ' ']).map(str::trim).filter(|p| !p.is_empty()) {
        let id: i64 = part.trim_start_matches(['n', '°', '#']).parse().map_err(|_| ApiError::bad_request("alert_ids", Msg::from(vigie_domain::governance::GovMsg::UnknownAlert { id: 0 })))?;
        alert_ids.push(id);
    }
    let minutes = Some(form.get("compte_rendu").to_string()).filter(|m| !m.trim().is_empty());
    Ok(MeetingBody { held_on: form.get("date").into(), agenda: form.get("ordre_du_jour").into(), minutes, attendance, decisions, alert_ids })
}

async fn meeting_post(State(s): State<AppState>, Path(id): Path<i64>, form: FormPost) -> WebResult {
    let page = &form.page;
    page.auth.require(Permission::CommitteesWrite, Target::AnyArea)?;
    let path = gov::committee_area(&s.db, id).await?;
    page.auth.require_in(Permission::CommitteesWrite, &path)?;
    let result: Result<i64, ApiError> = async {
        let body = meeting_body(&form)?;
        let m = body.parse().map_err(crate::api::governance::invalid)?;
        require_alerts(&s, &page.auth, &m.alert_ids).await?;
        Ok(gov::record_meeting(&s.db, id, &m, &page.auth.actor(), today(&s)).await?)
    }
    .await;
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/comites/{id}?ok=1")).into_response()),
        Err(e) if fixable(&e) => render_form(&s, page, id, &form.fields, field_errors(&e, page.lang), StatusCode::BAD_REQUEST).await,
        Err(e) => Err(e.into()),
    }
}

/// The directory search: public without a session; partners (signed in, `directory.read`)
/// also see partner fields within their area.
async fn directory(State(s): State<AppState>, headers: HeaderMap, uri: Uri, Query(q): Query<SearchQuery>) -> WebResult {
    let lang = lang_of(&headers);
    let path = uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/annuaire".into());
    let page = match session_auth(&s, &headers).await {
        Ok((auth, csrf)) => {
            let display_name = vigie_storage::users::get(&s.db, auth.principal.user_id).await.map(|u| u.display_name).unwrap_or_else(|_| auth.principal.username.clone());
            Some(Page { auth, csrf, lang, path: path.clone(), display_name })
        }
        Err(_) => None,
    };
    let partner_scope = page.as_ref().filter(|p| p.can(Permission::DirectoryRead)).map(|p| p.auth.principal.scope(Permission::DirectoryRead));
    let (audience, scope) = match &partner_scope {
        Some(sc) => (Audience::Partner, Some(sc.as_slice())),
        None => (Audience::Public, None),
    };
    let current = q.page.unwrap_or(1).clamp(1, 1_000_000);
    let (items, total, errors) = match q.search(&s).await {
        Ok(search) => {
            let p = dir::search(&s.db, &search, audience, scope, current, PER_PAGE).await?;
            let items: Vec<Value> = p
                .items
                .iter()
                .map(|e| {
                    let expertise: Vec<String> = e.expertise.iter().map(|x| Expertise::parse(x).map(|x| x.label(lang).to_string()).unwrap_or_else(|_| x.clone())).collect();
                    context! { id => e.id, full_name => e.full_name, organisation => e.organisation, area_code => e.area_code, sex => sex_label(&e.sex, lang),
                               age_group => age_label(&e.age_group, lang), expertise, languages => e.languages, phone => e.phone, email => e.email }
                })
                .collect();
            (items, p.total, Vec::new())
        }
        Err(e) => (Vec::new(), 0, field_errors(&e, lang)),
    };
    let roots = vigie_storage::areas::root_paths(&s.db).await?;
    let mut areas = vigie_storage::areas::list(&s.db, &Default::default(), &roots, 1, 1000).await?.items;
    areas.retain(|a| matches!(a.level.as_str(), "country" | "region" | "cercle"));
    areas.sort_by(|a, b| a.path.cmp(&b.path));
    let areas: Vec<Value> = areas.iter().map(|a| context! { code => a.code, name => a.name, level => a.level }).collect();
    let expertises: Vec<Value> = Expertise::ALL.iter().map(|x| context! { code => x.as_str(), label => x.label(lang) }).collect();
    let sexes: Vec<Value> = Sex::ALL.iter().map(|x| context! { code => x.as_str(), label => x.label(lang) }).collect();
    let ages: Vec<Value> = AgeGroup::ALL.iter().map(|x| context! { code => x.as_str(), label => x.label(lang) }).collect();
    let query = uri.query().unwrap_or("").to_string();
    let ctx = context! {
        items, total, errors, areas, expertises, sexes, ages, partner => audience == Audience::Partner, query,
        f => context! { expertise => q.expertise, area => q.area, language => q.language, sex => q.sex, age_group => q.age_group },
    };
    match page {
        Some(p) => p.render("governance_directory.html", ctx),
        None => html(
            StatusCode::OK,
            "governance_directory.html",
            context! { ..ctx, ..context! { lang => lang.code(), path, csrf => "", user => Value::from(()), nav => Value::from(()) } },
        ),
    }
}
