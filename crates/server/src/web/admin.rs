//! Administration: accounts (`/admin/utilisateurs`, `/admin/utilisateurs/nouveau`), roles
//! (`/admin/roles`), and the audit log (`/admin/journal`, `/admin/journal/verifier`).
//! The checks are those of the API (`api::users::require_grant`, `Auth::require`).

use super::{FormPost, Page, WebResult};
use crate::api::users::require_grant;
use crate::error::ApiError;
use crate::AppState;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use axum::Router;
use minijinja::{context, Value};
use serde::{Deserialize, Serialize};
use vigie_domain::access::{Permission, Target};
use vigie_domain::area::{AreaCode, AreaLevel};
use vigie_domain::{Lang, Msg};
use vigie_storage::areas::{self, AreaFilter};
use vigie_storage::audit::{self, AuditFilter};
use vigie_storage::users::{self, NewUser};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/utilisateurs", get(users_list))
        .route("/admin/utilisateurs/nouveau", get(user_form).post(user_create))
        .route("/admin/roles", get(roles_list).post(role_create))
        .route("/admin/journal", get(audit_list))
        .route("/admin/journal/verifier", get(audit_verify))
}

const PER_PAGE: i64 = 50;
/// Grant rows on the new-account form.
const GRANT_ROWS: usize = 3;

#[derive(Deserialize)]
pub struct UsersQuery {
    page: Option<i64>,
    cree: Option<String>,
}

async fn users_list(State(s): State<AppState>, page: Page, Query(q): Query<UsersQuery>) -> WebResult {
    let scope = page.auth.scope(Permission::UsersRead)?;
    let current = q.page.unwrap_or(1).clamp(1, 1_000_000);
    let p = users::list(&s.db, &scope, current, PER_PAGE).await?;
    // Only name an account that exists (the parameter is a plain query string).
    let created = match q.cree.as_deref() {
        Some(name) if users::id_by_username(&s.db, name).await.is_ok() => Some(name.to_lowercase()),
        _ => None,
    };
    page.render(
        "users.html",
        context! {
            users => p.items, total => p.total, current, pages => ((p.total + PER_PAGE - 1) / PER_PAGE).max(1), query => "",
            created, can_write => page.can(Permission::UsersWrite),
        },
    )
}

#[derive(Serialize, Default, Clone)]
struct GrantInput {
    role: String,
    area: String,
}

#[derive(Serialize, Default)]
struct UserInput {
    username: String,
    display_name: String,
    locale: String,
    grants: Vec<GrantInput>,
}

/// Roles and areas (down to the cercles) the form offers, within the reader's `users.write` scope.
async fn form_choices(s: &AppState, page: &Page) -> Result<(Vec<vigie_storage::roles::Role>, Vec<areas::Area>), ApiError> {
    let scope = page.auth.scope(Permission::UsersWrite)?;
    let roles = vigie_storage::roles::list(&s.db).await?;
    let mut all = Vec::new();
    for level in [AreaLevel::Country, AreaLevel::Region, AreaLevel::Cercle] {
        all.extend(areas::list(&s.db, &AreaFilter { level: Some(level), ..Default::default() }, &scope, 1, 500).await?.items);
    }
    all.sort_by(|a, b| a.path.cmp(&b.path));
    Ok((roles, all))
}

async fn render_user_form(s: &AppState, page: &Page, status: StatusCode, input: UserInput, error: Option<ApiError>) -> WebResult {
    let (roles, areas) = form_choices(s, page).await?;
    let error = error.map(|e| context! { message => e.msg.text(page.lang), field => e.field });
    page.render_status(status, "user_new.html", context! { roles, areas, input, error })
}

async fn user_form(State(s): State<AppState>, page: Page) -> WebResult {
    page.auth.require(Permission::UsersWrite, Target::AnyArea)?;
    let input = UserInput { locale: page.lang.code().into(), grants: vec![GrantInput::default(); GRANT_ROWS], ..Default::default() };
    render_user_form(&s, &page, StatusCode::OK, input, None).await
}

async fn user_create(State(s): State<AppState>, form: FormPost) -> WebResult {
    let page = &form.page;
    page.auth.require(Permission::UsersWrite, Target::AnyArea)?;
    let roles = form.all("role");
    let areas = form.all("area");
    let input = UserInput {
        username: form.get("username").trim().to_string(),
        display_name: form.get("display_name").trim().to_string(),
        locale: form.get("locale").to_string(),
        grants: (0..GRANT_ROWS)
            .map(|i| GrantInput { role: roles.get(i).unwrap_or(&"").to_string(), area: areas.get(i).unwrap_or(&"").to_string() })
            .collect(),
    };
    let result = async {
        let mut grants = Vec::new();
        for (i, g) in input.grants.iter().enumerate() {
            match (g.role.is_empty(), g.area.is_empty()) {
                (true, true) => continue,
                (false, false) => {}
                (true, false) => return Err(ApiError::bad_request(&format!("role[{}]", i + 1), Msg::Required)),
                (false, true) => return Err(ApiError::bad_request(&format!("area[{}]", i + 1), Msg::Required)),
            }
            let area = AreaCode::parse(&g.area).map_err(|m| ApiError::bad_request(&format!("area[{}]", i + 1), m))?;
            grants.push((g.role.clone(), area));
        }
        // Same rules as POST /api/v1/users.
        if grants.is_empty() {
            page.auth.require(Permission::UsersWrite, Target::Global)?;
        }
        for (role, area) in &grants {
            require_grant(&s, &page.auth, role, area).await?;
        }
        let password = form.get("password");
        users::create(
            &s.db,
            NewUser {
                username: &input.username,
                display_name: &input.display_name,
                password: (!password.is_empty()).then_some(password),
                org_id: None,
                locale: Lang::parse(&input.locale),
                grants,
            },
            &page.auth.actor(),
        )
        .await
        .map_err(ApiError::from)
    }
    .await;
    match result {
        Ok(user) => {
            let q = form_urlencoded::Serializer::new(String::new()).append_pair("cree", &user.username).finish();
            Ok(Redirect::to(&format!("/admin/utilisateurs?{q}")).into_response())
        }
        Err(e) if e.status == StatusCode::INTERNAL_SERVER_ERROR || e.status == StatusCode::SERVICE_UNAVAILABLE => Err(e.into()),
        Err(e) => render_user_form(&s, page, e.status, input, Some(e)).await,
    }
}

#[derive(Deserialize)]
pub struct RolesQuery {
    cree: Option<String>,
}

#[derive(Serialize, Default)]
struct RoleInput {
    name: String,
    label: String,
    permissions: Vec<String>,
}

async fn render_roles(s: &AppState, page: &Page, status: StatusCode, created: Option<String>, input: RoleInput, error: Option<ApiError>) -> WebResult {
    page.auth.require(Permission::UsersRead, Target::AnyArea)?;
    let roles: Vec<Value> = vigie_storage::roles::list(&s.db)
        .await?
        .into_iter()
        .map(|r| {
            let described: Vec<&str> = r.permissions.iter().filter_map(|p| Permission::parse(p).ok()).map(|p| p.describe(page.lang)).collect();
            context! { name => r.name, label => r.label, builtin => r.builtin, permissions => described }
        })
        .collect();
    let permissions: Vec<Value> = Permission::ALL.iter().map(|p| context! { name => p.name(), text => p.describe(page.lang) }).collect();
    let can_write = page.auth.require(Permission::RolesWrite, Target::Global).is_ok();
    let error = error.map(|e| context! { message => e.msg.text(page.lang), field => e.field });
    page.render_status(status, "roles.html", context! { roles, permissions, can_write, created, input, error })
}

async fn roles_list(State(s): State<AppState>, page: Page, Query(q): Query<RolesQuery>) -> WebResult {
    let created = match q.cree {
        Some(n) if vigie_storage::roles::get(&s.db, &n).await.is_ok() => Some(n),
        _ => None,
    };
    render_roles(&s, &page, StatusCode::OK, created, RoleInput::default(), None).await
}

async fn role_create(State(s): State<AppState>, form: FormPost) -> WebResult {
    let page = &form.page;
    page.auth.require(Permission::RolesWrite, Target::Global)?;
    let input = RoleInput {
        name: form.get("name").trim().to_string(),
        label: form.get("label").trim().to_string(),
        permissions: form.all("permission").into_iter().map(str::to_string).collect(),
    };
    match vigie_storage::roles::save(&s.db, &input.name, &input.label, &input.permissions, true, &page.auth.actor()).await.map_err(ApiError::from) {
        Ok(role) => {
            let q = form_urlencoded::Serializer::new(String::new()).append_pair("cree", &role.name).finish();
            Ok(Redirect::to(&format!("/admin/roles?{q}")).into_response())
        }
        Err(e) if e.status.is_server_error() => Err(e.into()),
        Err(e) => render_roles(&s, page, e.status, None, input, Some(e)).await,
    }
}

#[derive(Deserialize)]
pub struct AuditQuery {
    page: Option<i64>,
    objet: Option<String>,
    auteur: Option<String>,
}

async fn render_audit(s: &AppState, page: &Page, q: AuditQuery, verification: Option<Value>) -> WebResult {
    page.auth.require(Permission::AuditRead, Target::Global)?;
    let current = q.page.unwrap_or(1).clamp(1, 1_000_000);
    let clean = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let filter = AuditFilter { entity: clean(q.objet), entity_id: None, actor: clean(q.auteur) };
    let p = audit::list(&s.db, &filter, current, PER_PAGE).await?;
    let mut query = form_urlencoded::Serializer::new(String::new());
    if let Some(e) = &filter.entity {
        query.append_pair("objet", e);
    }
    if let Some(a) = &filter.actor {
        query.append_pair("auteur", a);
    }
    let entries: Vec<Value> = p
        .items
        .iter()
        .map(|e| {
            context! {
                seq => e.seq, at => e.at, actor => e.actor, action => e.action, entity => e.entity,
                entity_id => e.entity_id, detail => e.detail, hash => e.hash.get(..12).unwrap_or(&e.hash),
            }
        })
        .collect();
    page.render(
        "audit.html",
        context! {
            entries, total => p.total, current, pages => ((p.total + PER_PAGE - 1) / PER_PAGE).max(1), query => query.finish(),
            f => context! { objet => filter.entity, auteur => filter.actor }, verification,
        },
    )
}

async fn audit_list(State(s): State<AppState>, page: Page, Query(q): Query<AuditQuery>) -> WebResult {
    render_audit(&s, &page, q, None).await
}

/// Re-hashes the whole chain (read-only, hence a GET form) and shows the result above the log.
async fn audit_verify(State(s): State<AppState>, page: Page, Query(q): Query<AuditQuery>) -> WebResult {
    page.auth.require(Permission::AuditRead, Target::Global)?;
    let v = audit::verify(&s.db).await?;
    let verification = context! {
        ok => v.broken.is_none(),
        entries => v.entries,
        last_hash => v.last_hash,
        broken => v.broken.map(|b| serde_json::to_string(&b).unwrap_or_default()),
    };
    render_audit(&s, &page, q, Some(verification)).await
}
