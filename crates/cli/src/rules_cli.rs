//! `vigie alerts rules list|auto-raise`: escalation rules on the server itself, and turning
//! automatic raising on or off for one of them, in the name of an account (`--by`) that holds
//! `alerts.raise` over the rule's area; the change is audited like the same call to the API.

use anyhow::Context;
use clap::{Arg, ArgAction, ArgMatches, Command};
use std::process::ExitCode;
use vigie_domain::access::{authorize, Permission, Target};
use vigie_domain::Lang;
use vigie_storage::alerts;
use vigie_storage::audit::Actor;
use vigie_storage::{Db, StoreError};

fn t(lang: Lang, fr: &'static str, en: &'static str) -> &'static str {
    if lang == Lang::Fr {
        fr
    } else {
        en
    }
}

/// `vigie alerts rules …`
pub fn rules_command(lang: Lang) -> Command {
    Command::new("rules")
        .about(t(lang, "Règles d'escalade : liste, lancement automatique", "Escalation rules: list, automatic raising"))
        .subcommand_required(true)
        .subcommand(
            Command::new("list")
                .about(t(lang, "Liste les règles d'escalade", "List the escalation rules"))
                .arg(Arg::new("json").long("json").action(ArgAction::SetTrue).help(t(lang, "Sortie JSON (pour les scripts)", "JSON output (for scripts)"))),
        )
        .subcommand(
            Command::new("auto-raise")
                .about(t(
                    lang,
                    "Active ou désactive le lancement automatique des alertes d'une règle (signalement d'un point focal ou d'un comité)",
                    "Turn automatic raising on or off for a rule's alerts (reports from a focal point or committee)",
                ))
                .arg(Arg::new("id").required(true).value_parser(clap::value_parser!(i64)).value_name("ID"))
                .arg(Arg::new("state").required(true).value_parser(["on", "off"]).value_name("on|off"))
                .arg(Arg::new("by").long("by").required(true).value_name(t(lang, "IDENTIFIANT", "USERNAME")).help(t(lang, "Compte au nom duquel le changement est fait (droit alerts.raise sur la zone)", "Account the change is made for (needs alerts.raise over the area)"))),
        )
}

pub async fn run(lang: Lang, db: &Db, m: &ArgMatches) -> anyhow::Result<ExitCode> {
    match m.subcommand() {
        Some(("list", l)) => {
            let rules: Vec<alerts::RuleView> = alerts::list_rules(db).await?.into_iter().map(|(r, _)| r).collect();
            if l.get_flag("json") {
                println!("{}", serde_json::to_string_pretty(&rules)?);
                return Ok(ExitCode::SUCCESS);
            }
            for r in rules {
                let auto = if r.auto_raise { t(lang, "lancement automatique", "auto-raise") } else { "" };
                let levels: Vec<&str> = r.levels.iter().map(|l| l.name.as_str()).collect();
                println!("{:>5}  {:<12} {:<22} >= {}  {:<22} {}", r.id, r.area_code, r.category_code.as_deref().unwrap_or("*"), r.min_severity, auto, levels.join(" → "));
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(("auto-raise", s)) => {
            let id = *s.get_one::<i64>("id").unwrap();
            let on = s.get_one::<String>("state").map(String::as_str) == Some("on");
            let by = s.get_one::<String>("by").unwrap();
            let uid = vigie_storage::users::id_by_username(db, by).await.map_err(|e| not_found(e, lang)).with_context(|| by.clone())?;
            let principal = vigie_storage::users::principal(db, uid).await?.ok_or_else(|| anyhow::anyhow!(t(lang, "compte désactivé", "account disabled")))?;
            let (_, path) = alerts::get_rule(db, id).await.map_err(|e| not_found(e, lang)).with_context(|| format!("rule {id}"))?;
            if let Err(d) = authorize(&principal, Permission::AlertsRaise, Target::InArea(&path)) {
                eprintln!("{by}: {}", d.msg().text(lang));
                return Ok(ExitCode::from(1));
            }
            alerts::set_auto_raise(db, id, on, &Actor::user(uid, &format!("{by} (cli)"))).await?;
            println!(
                "{}",
                match (lang, on) {
                    (Lang::Fr, true) => format!("Règle {id} : lancement automatique activé."),
                    (Lang::Fr, false) => format!("Règle {id} : lancement automatique désactivé."),
                    (_, true) => format!("Rule {id}: automatic raising on."),
                    (_, false) => format!("Rule {id}: automatic raising off."),
                }
            );
            Ok(ExitCode::SUCCESS)
        }
        _ => anyhow::bail!("subcommand required"),
    }
}

fn not_found(e: StoreError, lang: Lang) -> anyhow::Error {
    match e {
        StoreError::NotFound => anyhow::anyhow!(t(lang, "introuvable", "not found")),
        e => e.into(),
    }
}
