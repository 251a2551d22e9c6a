//! `GET /`: the dashboard, scoped to the reader's area. For now: their grants and the areas
//! within their scope; the early-warning, case and framework blocks are headings that say
//! "coming soon" (no invented figures) until those modules have data to show.

use super::{Page, WebResult};
use crate::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::Router;
use minijinja::context;
use serde::Serialize;
use vigie_domain::access::Permission;
use vigie_domain::area::{AreaCode, AreaLevel};
use vigie_storage::areas::{self, AreaFilter};

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(home))
}

#[derive(Serialize)]
struct GrantRow {
    role: String,
    role_label: String,
    area_code: String,
    area_name: String,
    area_level: String,
}

#[derive(Serialize)]
struct LevelCount {
    level: &'static str,
    count: i64,
}

async fn home(State(s): State<AppState>, page: Page) -> WebResult {
    let user = vigie_storage::users::get(&s.db, page.auth.principal.user_id).await?;
    let roles = vigie_storage::roles::list(&s.db).await?;
    let mut grants = Vec::new();
    for g in &user.grants {
        let area = match AreaCode::parse(&g.area_code) {
            Ok(code) => areas::get(&s.db, &code, false).await.ok(),
            Err(_) => None,
        };
        grants.push(GrantRow {
            role: g.role.clone(),
            role_label: roles.iter().find(|r| r.name == g.role).map(|r| r.label.clone()).unwrap_or_else(|| g.role.clone()),
            area_code: g.area_code.clone(),
            area_name: area.as_ref().map(|a| a.name.clone()).unwrap_or_default(),
            area_level: area.map(|a| a.level).unwrap_or_default(),
        });
    }
    let mut counts = Vec::new();
    let mut prosmed = 0;
    if page.can(Permission::AreasRead) {
        let scope = page.auth.scope(Permission::AreasRead)?;
        for level in AreaLevel::ALL {
            let f = AreaFilter { level: Some(level), ..Default::default() };
            let count = areas::list(&s.db, &f, &scope, 1, 1).await?.total;
            if count > 0 {
                counts.push(LevelCount { level: level.as_str(), count });
            }
        }
        prosmed = areas::list(&s.db, &AreaFilter { tag: Some("prosmed".into()), ..Default::default() }, &scope, 1, 1).await?.total;
    }
    use Permission::*;
    let soon = context! {
        alerts => page.can(AlertsRaise) || page.can(AlertsRespond),
        reports => page.can(ReportsRead) || page.can(ReportsCreate),
        cases => page.can(CasesRead),
        framework => page.can(FrameworkRead),
    };
    page.render("home.html", context! { grants, counts, prosmed, soon, areas => page.can(AreasRead) })
}
