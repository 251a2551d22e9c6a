//! `GET /`: the dashboard, scoped to the reader's area: their grants, the areas within their
//! scope, open alerts by severity and overdue acknowledgements, reports received today and the
//! latest ones, and the early-warning indicators of the last 90 days (every share with its
//! counts), open and overdue cases of the reader's desk, and the indicator progress of the
//! reader's programmes (counts by traffic light).

use super::{Page, WebResult};
use crate::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::Router;
use minijinja::context;
use serde::Serialize;
use vigie_domain::access::Permission;
use vigie_domain::area::{AreaCode, AreaLevel};
use vigie_domain::early_warning::indicators::{Indicators, Period};
use vigie_domain::Lang;
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
    let early_warning = match super::reports::read_scope(&page) {
        Some((scope, global)) => Some(early_warning(&s, &page, &scope, global).await?),
        None => None,
    };
    let cases = if page.can(CasesRead) { Some(case_counts(&s, &page).await?) } else { None };
    let lights = if page.can(FrameworkRead) { Some(super::results::light_counts(&s, &page).await?) } else { None };
    page.render(
        "home.html",
        context! { grants, counts, prosmed, cases, lights, areas => page.can(AreasRead), ew => early_warning, can_report => page.can(ReportsCreate) },
    )
}

/// Open and overdue cases of the reader's desk, as the inbox counts them.
async fn case_counts(s: &AppState, page: &Page) -> Result<minijinja::Value, super::WebError> {
    let scope = page.auth.scope(Permission::CasesRead)?;
    let who = crate::api::cases::lister(s, &page.auth).await?;
    let now = s.now();
    let count = |overdue: bool| vigie_storage::cases::CaseFilter { overdue, open_only: true, ..Default::default() };
    let open = vigie_storage::cases::list(&s.db, &scope, &who, &count(false), 1, 1, now).await?.total;
    let overdue = vigie_storage::cases::list(&s.db, &scope, &who, &count(true), 1, 1, now).await?.total;
    Ok(context! { open, overdue })
}

/// "2 h 05 min", "3 j 4 h" ("3 d 4 h"), "45 min", "30 s".
fn duration(d: chrono::Duration, lang: Lang) -> String {
    let secs = d.num_seconds().max(0);
    let (days, hours, mins) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    let day = if lang == Lang::Fr { "j" } else { "d" };
    if days > 0 {
        format!("{days} {day} {hours} h")
    } else if hours > 0 {
        format!("{hours} h {mins:02} min")
    } else if mins > 0 {
        format!("{mins} min")
    } else {
        format!("{secs} s")
    }
}

fn percent(share: Option<f64>, lang: Lang) -> Option<String> {
    share.map(|v| format!("{}\u{a0}%", super::i18n::number(v * 100.0, 1, lang)))
}

fn indicator_view(ind: &Indicators, area_code: &str, area_name: Option<String>, lang: Lang) -> minijinja::Value {
    let iv = &ind.interventions;
    let known = iv.prevented + iv.stopped + iv.not_prevented;
    context! {
        area_code, area_name,
        records => ind.records,
        alerts_raised => ind.alerts_raised,
        false_alarms => ind.false_alarms,
        median_report_to_alert => ind.median_report_to_alert.map(|d| duration(d, lang)),
        median_alert_to_response => ind.median_alert_to_response.map(|d| duration(d, lang)),
        responded => ind.responded,
        ack => context! {
            share => percent(ind.ack.share, lang), within => ind.ack.within, eligible => ind.ack.eligible, late => ind.ack.late,
            not_acknowledged => ind.ack.not_acknowledged, undetermined => ind.ack.undetermined, never_notified => ind.ack.never_notified,
        },
        minusma => context! {
            share => percent(iv.share, lang), lower => percent(iv.share_if_unknown_failed, lang),
            success => iv.prevented + iv.stopped, known, prevented => iv.prevented, stopped => iv.stopped, not_prevented => iv.not_prevented,
            false_alarm => iv.false_alarm, unknown => iv.unknown, awaiting => iv.awaiting_outcome, interventions => iv.interventions,
        },
    }
}

/// The early-warning blocks, within the reader's `reports.read` scope.
async fn early_warning(s: &AppState, page: &Page, scope: &[vigie_domain::area::AreaPath], global: bool) -> Result<minijinja::Value, super::WebError> {
    let now = s.now();
    let lang = page.lang;
    let counts = vigie_storage::alerts::open_counts(&s.db, scope, global, now).await?;
    let open: i64 = counts.iter().map(|c| c.open).sum();
    let overdue: i64 = counts.iter().map(|c| c.overdue).sum();
    let by_severity: Vec<minijinja::Value> = vigie_domain::early_warning::taxonomy::Severity::ALL
        .iter()
        .rev()
        .map(|sev| {
            let n = counts.iter().find(|c| c.severity == sev.level() as i32).map_or(0, |c| c.open);
            context! { level => sev.level(), label => sev.label(lang), count => n }
        })
        .collect();
    let today = now.date_naive().and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    // Index range scans: neither counts the whole table (seconds at 10 M reports).
    let reports_today = vigie_storage::analytics::reports_since(&s.db, scope, global, today.unwrap_or(now)).await?;
    let latest = vigie_storage::analytics::latest_reports(&s.db, scope, global, 5).await?;
    let cats = super::reports::categories(s, lang).await?;
    let latest = super::reports::rows(s, lang, latest, &cats).await;
    let period = Period { start: now - chrono::Duration::days(90), end: now + chrono::Duration::seconds(1) };
    let mut indicators = Vec::new();
    for path in scope {
        let ind = vigie_storage::alerts::indicators(&s.db, path, period, now).await?;
        let code = path.0.rsplit('/').next().unwrap_or_default().to_string();
        let name = match AreaCode::parse(&code) {
            Ok(c) => areas::get(&s.db, &c, false).await.ok().map(|a| a.name),
            Err(_) => None,
        };
        indicators.push(indicator_view(&ind, &code, name, lang));
    }
    // Reports and alerts per week, drawn as SVG on the server.
    let weeks = 12;
    let daily = vigie_storage::overview::daily_counts(&s.db, scope, global, now - chrono::Duration::days(7 * weeks), now + chrono::Duration::seconds(1)).await?;
    let chart = super::chart::weekly(&daily.reports, &daily.alerts_raised, now.date_naive(), weeks, lang);
    Ok(context! { open, overdue, by_severity, reports_today, latest, indicators, since => period.start, chart })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(chrono::Duration::minutes(125), Lang::Fr), "2 h 05 min");
        assert_eq!(duration(chrono::Duration::minutes(45), Lang::En), "45 min");
        assert_eq!(duration(chrono::Duration::hours(76), Lang::En), "3 d 4 h");
        assert_eq!(percent(Some(2.0 / 3.0), Lang::Fr).unwrap(), "66,7\u{a0}%");
    }
}
