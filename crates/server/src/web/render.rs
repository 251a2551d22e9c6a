//! Templates (minijinja, compiled into the binary from `crates/server/templates/`), with HTML
//! auto-escaping on for every `.html` template: whatever people typed is text, never markup.
//! Templates get `t("key")` (the catalogue in `i18n`), `asset("path")`, and the filters
//! `num`, `date`, `datetime`, `level` (an area level's name), `label` (a "français / English" label in the page's language).

use super::i18n;
use minijinja::{Environment, State, Value};
use std::sync::OnceLock;
use vigie_domain::Lang;

/// Every template, by name. Adding a page: add its file here.
pub(crate) const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/base.html")),
    ("pager.html", include_str!("../../templates/pager.html")),
    ("login.html", include_str!("../../templates/login.html")),
    ("error.html", include_str!("../../templates/error.html")),
    ("home.html", include_str!("../../templates/home.html")),
    ("areas.html", include_str!("../../templates/areas.html")),
    ("area.html", include_str!("../../templates/area.html")),
    ("users.html", include_str!("../../templates/users.html")),
    ("user_new.html", include_str!("../../templates/user_new.html")),
    ("roles.html", include_str!("../../templates/roles.html")),
    ("audit.html", include_str!("../../templates/audit.html")),
    ("report_new.html", include_str!("../../templates/report_new.html")),
    ("report_receipt.html", include_str!("../../templates/report_receipt.html")),
    ("reports.html", include_str!("../../templates/reports.html")),
    ("report.html", include_str!("../../templates/report.html")),
    ("alerts.html", include_str!("../../templates/alerts.html")),
    ("alert.html", include_str!("../../templates/alert.html")),
    ("governance_committees.html", include_str!("../../templates/governance_committees.html")),
    ("governance_committee.html", include_str!("../../templates/governance_committee.html")),
    ("governance_meeting.html", include_str!("../../templates/governance_meeting.html")),
    ("governance_directory.html", include_str!("../../templates/governance_directory.html")),
    ("cases.html", include_str!("../../templates/cases.html")),
    ("case.html", include_str!("../../templates/case.html")),
    ("map.html", include_str!("../../templates/map.html")),
    ("chart.html", include_str!("../../templates/chart.html")),
    ("public_denounce.html", include_str!("../../templates/public_denounce.html")),
    ("public_receipt.html", include_str!("../../templates/public_receipt.html")),
    ("public_follow.html", include_str!("../../templates/public_follow.html")),
    ("public_transparency.html", include_str!("../../templates/public_transparency.html")),
    ("escalation_rules.html", include_str!("../../templates/escalation_rules.html")),
    ("escalation_rule_form.html", include_str!("../../templates/escalation_rule_form.html")),
    ("categories.html", include_str!("../../templates/categories.html")),
    ("category_form.html", include_str!("../../templates/category_form.html")),
    ("forms.html", include_str!("../../templates/forms.html")),
    ("programmes.html", include_str!("../../templates/programmes.html")),
    ("programme.html", include_str!("../../templates/programme.html")),
    ("results_nav.html", include_str!("../../templates/results_nav.html")),
    ("light.html", include_str!("../../templates/light.html")),
    ("indicator_rows.html", include_str!("../../templates/indicator_rows.html")),
    ("indicator_chart.html", include_str!("../../templates/indicator_chart.html")),
    ("indicator.html", include_str!("../../templates/indicator.html")),
    ("budget.html", include_str!("../../templates/budget.html")),
    ("risks.html", include_str!("../../templates/risks.html")),
    ("returns.html", include_str!("../../templates/returns.html")),
];

fn lang_of(state: &State) -> Lang {
    match state.lookup("lang").as_ref().and_then(Value::as_str) {
        Some("en") => Lang::En,
        _ => Lang::Fr,
    }
}

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        // `.html` templates are auto-escaped by minijinja's default; say so anyway, for all.
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        for (name, src) in TEMPLATES {
            env.add_template(name, src).unwrap_or_else(|e| panic!("template {name}: {e:#}"));
        }
        env.add_function("t", |state: &State, key: &str| i18n::t(key, lang_of(state)).to_string());
        env.add_function("asset", |path: &str| Value::from_safe_string(super::assets::url(path)));
        env.add_filter("num", |state: &State, v: Value, decimals: Option<usize>| {
            let n = f64::try_from(v).unwrap_or(0.0);
            i18n::number(n, decimals.unwrap_or(0), lang_of(state))
        });
        env.add_filter("date", |state: &State, v: &str| i18n::date(v, lang_of(state)));
        env.add_filter("datetime", |state: &State, v: &str| i18n::datetime(v, lang_of(state)));
        env.add_filter("level", |state: &State, v: &str, plural: Option<bool>| {
            let key = format!("level.{v}{}", if plural.unwrap_or(false) { ".pl" } else { "" });
            if i18n::has(&key) { i18n::t(&key, lang_of(state)).to_string() } else { v.to_string() }
        });
        env.add_filter("label", |state: &State, v: &str| pick_label(v, lang_of(state)).to_string());
        env
    })
}

/// Built-in role labels read "Français / English": the half in the page's language.
pub fn pick_label(label: &str, lang: Lang) -> &str {
    match label.split_once(" / ") {
        Some((fr, en)) => match lang {
            Lang::Fr => fr.trim(),
            Lang::En => en.trim(),
        },
        None => label,
    }
}

pub fn render(name: &str, ctx: Value) -> Result<String, minijinja::Error> {
    env().get_template(name)?.render(ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles_and_every_key_exists() {
        let _ = env();
        for (name, src) in TEMPLATES {
            let mut rest = *src;
            while let Some(i) = rest.find("t(\"") {
                let after = &rest[i + 3..];
                let end = after.find('"').expect("closing quote");
                let key = &after[..end];
                // `t(` itself, not the end of another name such as `asset(`.
                let own = !rest[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_');
                assert!(!own || i18n::has(key), "{name}: key {key:?} is not in web/i18n.rs");
                rest = &after[end..];
            }
        }
    }

    #[test]
    fn labels_follow_the_language() {
        assert_eq!(pick_label("Analyste / Analyst", Lang::En), "Analyst");
        assert_eq!(pick_label("Analyste / Analyst", Lang::Fr), "Analyste");
        assert_eq!(pick_label("Observateur", Lang::En), "Observateur");
    }
}
