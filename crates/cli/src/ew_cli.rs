//! `vigie reports list|show` and `vigie alerts list|show|ack`: the early-warning feed for an
//! administrator on the server itself (no network, no browser). The command line acts on the
//! whole tree, except that reports of protected categories are shown only with `--protected`
//! (the same rule as the web and API: they belong to the protected-cases workflow).
//! Acknowledging an alert is done in the name of a named account (`--by`), which must hold
//! `alerts.respond` over the alert's area; the step is audited like any other.

use anyhow::{bail, Context};
use clap::{Arg, ArgAction, ArgMatches, Command};
use std::process::ExitCode;
use vigie_domain::access::{authorize, Permission, Target};
use vigie_domain::area::{AreaCode, AreaPath};
use vigie_domain::early_warning::alert::{AlertCommand, AlertState};
use vigie_domain::early_warning::visibility::ReportScope;
use vigie_domain::Lang;
use vigie_storage::alerts::{self, AlertFilter};
use vigie_storage::audit::Actor;
use vigie_storage::reports::{self, ReportFilter};
use vigie_storage::{Db, StoreError};

fn t(lang: Lang, fr: &'static str, en: &'static str) -> &'static str {
    if lang == Lang::Fr {
        fr
    } else {
        en
    }
}

fn common_list_args(cmd: Command, lang: Lang) -> Command {
    cmd.arg(Arg::new("area").long("area").value_name("CODE").help(t(lang, "Seulement cette zone et ses sous-zones (ex. ML-5)", "Only this area and those below it (e.g. ML-5)")))
        .arg(Arg::new("category").long("category").value_name(t(lang, "CATÉGORIE", "CATEGORY")).help(t(lang, "Code de catégorie (ex. armed_attack)", "Category code (e.g. armed_attack)")))
        .arg(Arg::new("limit").long("limit").value_name("N").default_value("50").value_parser(clap::value_parser!(i64).range(1..=500)).help(t(lang, "Nombre de lignes au plus (1 à 500)", "At most this many lines (1 to 500)")))
        .arg(Arg::new("json").long("json").action(ArgAction::SetTrue).help(t(lang, "Sortie JSON (pour les scripts)", "JSON output (for scripts)")))
}

fn protected_arg(lang: Lang) -> Arg {
    Arg::new("protected").long("protected").action(ArgAction::SetTrue).help(t(
        lang,
        "Inclut les signalements des catégories protégées (abus des forces de sécurité…) ; la consultation est journalisée",
        "Include reports of protected categories (abuse by security forces…); the reading is audited",
    ))
}

/// `vigie reports …`
pub fn reports_command(lang: Lang) -> Command {
    Command::new("reports")
        .about(t(lang, "Consulte les signalements (alerte précoce)", "Read field reports (early warning)"))
        .subcommand_required(true)
        .subcommand(
            common_list_args(Command::new("list").about(t(lang, "Liste les signalements, du plus récent au plus ancien", "List reports, newest first")), lang)
                .arg(Arg::new("status").long("status").value_parser(["pending", "verified", "unverifiable", "false"]).help(t(lang, "Statut de vérification", "Verification status")))
                .arg(Arg::new("unplaced").long("unplaced").action(ArgAction::SetTrue).help(t(lang, "Seulement les signalements sans lieu", "Only reports without a place")))
                .arg(protected_arg(lang)),
        )
        .subcommand(
            Command::new("show")
                .about(t(lang, "Affiche un signalement, ses échanges et ses pièces jointes", "Show a report, its follow-up and its attachments"))
                .arg(Arg::new("id").required(true).value_parser(clap::value_parser!(i64)).value_name("ID"))
                .arg(Arg::new("json").long("json").action(ArgAction::SetTrue).help(t(lang, "Sortie JSON (pour les scripts)", "JSON output (for scripts)")))
                .arg(protected_arg(lang)),
        )
}

/// `vigie alerts …`
pub fn alerts_command(lang: Lang) -> Command {
    Command::new("alerts")
        .about(t(lang, "Consulte les alertes et accuse réception", "Read alerts and acknowledge them"))
        .subcommand_required(true)
        .subcommand(
            common_list_args(Command::new("list").about(t(lang, "Liste les événements et alertes, du plus récent au plus ancien", "List events and alerts, newest first")), lang)
                .arg(Arg::new("state").long("state").value_parser(["reported", "verified", "alerted", "acknowledged", "responded", "closed", "false_alarm", "cancelled"]).help(t(lang, "État", "State")))
                .arg(Arg::new("attention").long("attention").action(ArgAction::SetTrue).help(t(lang, "Seulement celles qui demandent une intervention humaine", "Only those that need a person's attention"))),
        )
        .subcommand(
            Command::new("show")
                .about(t(lang, "Affiche une alerte : étapes, escalade, actions, issue", "Show an alert: steps, escalation, actions, outcome"))
                .arg(Arg::new("id").required(true).value_parser(clap::value_parser!(i64)).value_name("ID"))
                .arg(Arg::new("json").long("json").action(ArgAction::SetTrue).help(t(lang, "Sortie JSON (pour les scripts)", "JSON output (for scripts)"))),
        )
        .subcommand(
            Command::new("ack")
                .about(t(lang, "Enregistre l'accusé de réception d'une alerte lancée", "Record the acknowledgement of a raised alert"))
                .arg(Arg::new("id").required(true).value_parser(clap::value_parser!(i64)).value_name("ID"))
                .arg(Arg::new("by").long("by").required(true).value_name(t(lang, "IDENTIFIANT", "USERNAME")).help(t(lang, "Compte au nom duquel l'accusé est enregistré (droit alerts.respond sur la zone)", "Account the acknowledgement is recorded for (needs alerts.respond over the area)")))
                .arg(Arg::new("level").long("level").value_parser(clap::value_parser!(usize)).value_name("N").help(t(lang, "Niveau d'escalade qui a répondu (0 = premier)", "Escalation level that answered (0 = first)"))),
        )
        .subcommand(crate::rules_cli::rules_command(lang))
}

async fn area_scope(db: &Db, m: &ArgMatches, lang: Lang) -> anyhow::Result<(Vec<AreaPath>, bool)> {
    match m.get_one::<String>("area") {
        Some(code) => {
            let code = AreaCode::parse(code).map_err(|e| anyhow::anyhow!(e.text(lang)))?;
            let path = vigie_storage::areas::path_of(db, &code, "area").await.map_err(|e| store_err(e, lang))?;
            Ok((vec![path], false))
        }
        None => Ok((vigie_storage::areas::root_paths(db).await?, true)),
    }
}

fn store_err(e: StoreError, lang: Lang) -> anyhow::Error {
    match e {
        StoreError::Invalid(i) => anyhow::anyhow!("{}: {}", i.field, i.msg.text(lang)),
        StoreError::NotFound => anyhow::anyhow!(t(lang, "introuvable", "not found")),
        e => e.into(),
    }
}

fn excerpt(s: &str, n: usize) -> String {
    let one_line: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > n {
        format!("{}…", one_line.chars().take(n).collect::<String>())
    } else {
        one_line
    }
}

/// The command line's reading of protected reports leaves a trace, like a handler's would.
async fn audit_protected_read(db: &Db, ids: &[i64]) -> anyhow::Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut tx = db.begin().await?;
    vigie_storage::audit::append(&mut tx, &Actor::system("cli"), "report.read_protected", "report", &ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(","), serde_json::json!({"count": ids.len()})).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn reports(lang: Lang, db: &Db, m: &ArgMatches) -> anyhow::Result<ExitCode> {
    match m.subcommand() {
        Some(("list", l)) => {
            let (areas, unplaced) = area_scope(db, l, lang).await?;
            let with_protected = l.get_flag("protected");
            let scope = ReportScope {
                protected_areas: if with_protected { areas.clone() } else { Vec::new() },
                protected_unplaced: with_protected && unplaced,
                areas,
                unplaced,
            };
            let f = ReportFilter {
                category: l.get_one::<String>("category").cloned(),
                verification: l.get_one::<String>("status").cloned(),
                unplaced: l.get_flag("unplaced"),
                ..Default::default()
            };
            let page = reports::list_visible(db, &scope, &f, 1, *l.get_one::<i64>("limit").unwrap()).await?;
            audit_protected_read(db, &page.items.iter().filter(|r| r.protected).map(|r| r.id).collect::<Vec<_>>()).await?;
            if l.get_flag("json") {
                println!("{}", serde_json::to_string_pretty(&serde_json::json!({"total": page.total, "items": page.items}))?);
                return Ok(ExitCode::SUCCESS);
            }
            println!("{}", t(lang, "N°\tRéférence\tReçu (UTC)\tCatégorie\tZone\tVérification\tÉvénement\tTexte", "No.\tReference\tReceived (UTC)\tCategory\tArea\tVerification\tEvent\tText"));
            for r in &page.items {
                println!(
                    "{}\t{}\t{}\t{}{}\t{}\t{}\t{}\t{}",
                    r.id,
                    r.reference,
                    r.received_at.format("%Y-%m-%d %H:%M"),
                    r.category_code,
                    if r.protected { t(lang, " [protégé]", " [protected]") } else { "" },
                    r.area_code.as_deref().unwrap_or(t(lang, "(sans lieu)", "(no place)")),
                    r.verification,
                    r.alert_id.map(|a| a.to_string()).unwrap_or_else(|| "-".into()),
                    excerpt(&r.text, 60)
                );
            }
            println!("{}", if lang == Lang::Fr { format!("{} affiché(s) sur {}.", page.items.len(), page.total) } else { format!("{} shown of {}.", page.items.len(), page.total) });
            Ok(ExitCode::SUCCESS)
        }
        Some(("show", s)) => {
            let id = *s.get_one::<i64>("id").unwrap();
            let r = match reports::get(db, id).await {
                Ok(r) => r,
                Err(StoreError::NotFound) => {
                    eprintln!("{}", if lang == Lang::Fr { format!("Signalement {id} introuvable.") } else { format!("Report {id} not found.") });
                    return Ok(ExitCode::from(1));
                }
                Err(e) => return Err(e.into()),
            };
            if r.protected && !s.get_flag("protected") {
                eprintln!("{}", t(lang, "Signalement d'une catégorie protégée : ajoutez --protected pour l'afficher (consultation journalisée).", "Report of a protected category: add --protected to show it (the reading is audited)."));
                return Ok(ExitCode::from(1));
            }
            if r.protected {
                audit_protected_read(db, &[id]).await?;
            }
            let thread = reports::thread(db, id).await?;
            let files = vigie_storage::attachments::list(db, id).await?;
            if s.get_flag("json") {
                println!("{}", serde_json::to_string_pretty(&serde_json::json!({"report": r, "thread": thread, "attachments": files}))?);
                return Ok(ExitCode::SUCCESS);
            }
            let line = |fr: &'static str, en: &'static str, v: String| println!("{:<22} {v}", format!("{}:", t(lang, fr, en)));
            line("Signalement", "Report", format!("{} ({})", r.id, r.reference));
            line("Catégorie", "Category", format!("{}{}", r.category_code, if r.protected { t(lang, " [protégé]", " [protected]") } else { "" }));
            line("Gravité", "Severity", r.severity.to_string());
            line("Survenu (UTC)", "Occurred (UTC)", r.occurred_at.format("%Y-%m-%d %H:%M").to_string());
            line("Reçu (UTC)", "Received (UTC)", r.received_at.format("%Y-%m-%d %H:%M").to_string());
            line("Zone", "Area", r.area_code.clone().unwrap_or_else(|| t(lang, "(sans lieu)", "(no place)").into()));
            if let Some(p) = &r.place_name {
                line("Lieu", "Place", p.clone());
            }
            line("Canal, langue", "Channel, language", format!("{}, {}", r.channel, r.language));
            line("Vérification", "Verification", format!("{}{}", r.verification, r.grade.as_deref().map(|g| format!(" ({g})")).unwrap_or_default()));
            line("Événement", "Event", r.alert_id.map(|a| a.to_string()).unwrap_or_else(|| "-".into()));
            line("Indicateurs", "Flags", r.flags.clone());
            println!("\n{}", r.text);
            if !thread.is_empty() {
                println!("\n{}", t(lang, "Échanges :", "Follow-up:"));
                for m in &thread {
                    let who = if m.direction == "to_reporter" { t(lang, "→ auteur", "→ reporter") } else { t(lang, "← auteur", "← reporter") };
                    println!("  {} {who} : {}", m.at.format("%Y-%m-%d %H:%M"), m.body);
                }
            }
            if !files.is_empty() {
                println!("\n{}", t(lang, "Pièces jointes :", "Attachments:"));
                for f in &files {
                    println!("  {}\t{}\t{}\t{} o/B\tsha256 {}", f.id, f.file_name, f.content_type, f.size, f.sha256);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        _ => bail!("subcommand required"),
    }
}

pub async fn alerts(lang: Lang, db: &Db, m: &ArgMatches) -> anyhow::Result<ExitCode> {
    match m.subcommand() {
        Some(("rules", r)) => crate::rules_cli::run(lang, db, r).await,
        Some(("list", l)) => {
            let (areas, unplaced) = area_scope(db, l, lang).await?;
            let f = AlertFilter { state: l.get_one::<String>("state").cloned(), category: l.get_one::<String>("category").cloned(), needs_attention: l.get_flag("attention").then_some(true) };
            let page = alerts::list(db, &areas, unplaced, &f, 1, *l.get_one::<i64>("limit").unwrap()).await?;
            if l.get_flag("json") {
                println!("{}", serde_json::to_string_pretty(&serde_json::json!({"total": page.total, "items": page.items}))?);
                return Ok(ExitCode::SUCCESS);
            }
            println!("{}", t(lang, "N°\tÉtat\tGravité\tCatégorie\tZone\tSignalé (UTC)\tÀ traiter\tTitre", "No.\tState\tSeverity\tCategory\tArea\tReported (UTC)\tAttention\tTitle"));
            for a in &page.items {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    a.id,
                    a.state,
                    a.severity,
                    a.category_code,
                    a.area_code.as_deref().unwrap_or("-"),
                    a.lifecycle.reported_at.format("%Y-%m-%d %H:%M"),
                    if a.needs_attention { t(lang, "OUI", "YES") } else { "" },
                    excerpt(&a.title, 60)
                );
            }
            println!("{}", if lang == Lang::Fr { format!("{} affichée(s) sur {}.", page.items.len(), page.total) } else { format!("{} shown of {}.", page.items.len(), page.total) });
            Ok(ExitCode::SUCCESS)
        }
        Some(("show", s)) => {
            let id = *s.get_one::<i64>("id").unwrap();
            let a = match alerts::get(db, id).await {
                Ok(a) => a,
                Err(StoreError::NotFound) => {
                    eprintln!("{}", if lang == Lang::Fr { format!("Alerte {id} introuvable.") } else { format!("Alert {id} not found.") });
                    return Ok(ExitCode::from(1));
                }
                Err(e) => return Err(e.into()),
            };
            if s.get_flag("json") {
                println!("{}", serde_json::to_string_pretty(&a)?);
                return Ok(ExitCode::SUCCESS);
            }
            let state = AlertState::parse(&a.state).map(|st| st.label(lang).to_string()).unwrap_or(a.state.clone());
            let line = |fr: &'static str, en: &'static str, v: String| println!("{:<22} {v}", format!("{}:", t(lang, fr, en)));
            line("Alerte", "Alert", format!("{} — {}", a.id, excerpt(&a.title, 80)));
            if let Some(into) = a.merged_into {
                line("Fusionnée dans", "Merged into", into.to_string());
            }
            line("État", "State", state);
            line("Catégorie", "Category", a.category_code.clone());
            line("Gravité", "Severity", a.severity.to_string());
            line("Zone", "Area", a.area_code.clone().unwrap_or_else(|| "-".into()));
            line("Signalements", "Reports", a.report_ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", "));
            if a.needs_attention {
                line("À traiter", "Attention", t(lang, "OUI — une personne doit intervenir", "YES — a person must step in").into());
            }
            let lc = &a.lifecycle;
            let steps = [
                (t(lang, "signalée", "reported"), Some(lc.reported_at)),
                (t(lang, "vérifiée", "verified"), lc.verified_at),
                (t(lang, "alertée", "alerted"), lc.alerted_at),
                (t(lang, "reçue", "acknowledged"), lc.acknowledged_at),
                (t(lang, "traitée", "responded"), lc.responded_at),
                (t(lang, "close", "closed"), lc.closed_at),
            ];
            println!("\n{}", t(lang, "Étapes (UTC) :", "Steps (UTC):"));
            for (name, at) in steps {
                println!("  {:<14} {}", name, at.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_else(|| "-".into()));
            }
            if !lc.escalation.is_empty() {
                println!("\n{}", t(lang, "Escalade :", "Escalation:"));
                for e in &lc.escalation {
                    println!("  {} {}", e.at.format("%Y-%m-%d %H:%M"), serde_json::to_string(e).unwrap_or_default());
                }
            }
            if let Some(o) = lc.outcome {
                line("Issue", "Outcome", serde_json::to_value(o).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default());
            }
            if let Some(w) = a.wake_at {
                line("Prochaine escalade", "Next escalation", w.format("%Y-%m-%d %H:%M UTC").to_string());
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(("ack", s)) => {
            let id = *s.get_one::<i64>("id").unwrap();
            let by = s.get_one::<String>("by").unwrap();
            let uid = vigie_storage::users::id_by_username(db, by).await.map_err(|e| store_err(e, lang)).with_context(|| by.clone())?;
            let principal = vigie_storage::users::principal(db, uid).await?.ok_or_else(|| anyhow::anyhow!(t(lang, "compte désactivé", "account disabled")))?;
            let id = vigie_storage::events::survivor(db, id).await.map_err(|e| store_err(e, lang))?;
            let a = alerts::get(db, id).await?;
            let target = a.area_path.clone().filter(|p| !p.is_empty()).map(AreaPath);
            let allowed = match &target {
                Some(p) => authorize(&principal, Permission::AlertsRespond, Target::InArea(p)),
                None => authorize(&principal, Permission::AlertsRespond, Target::Global),
            };
            if let Err(d) = allowed {
                eprintln!("{by}: {}", d.msg().text(lang));
                return Ok(ExitCode::from(1));
            }
            let actor = Actor::user(uid, &format!("{by} (cli)"));
            let level = s.get_one::<usize>("level").copied();
            match alerts::command(db, id, AlertCommand::Acknowledge { level }, &actor, vigie_storage::now()).await {
                Ok(a) => {
                    println!("{}", if lang == Lang::Fr { format!("Alerte {} : réception accusée par {by}.", a.id) } else { format!("Alert {}: acknowledged by {by}.", a.id) });
                    Ok(ExitCode::SUCCESS)
                }
                Err(StoreError::Invalid(i)) => {
                    eprintln!("{}", i.msg.text(lang));
                    Ok(ExitCode::from(1))
                }
                Err(e) => Err(e.into()),
            }
        }
        _ => bail!("subcommand required"),
    }
}
