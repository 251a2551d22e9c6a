//! `vigie import framework|budget|expenditure|risks`: results frameworks, budgets, expenditure
//! (records or an apportionment/expenditure table) and risk logs from CSV or XLSX, into a
//! programme (created on first import with `--name --period --currency --area`). All or nothing,
//! errors numbered by line.

use clap::{Arg, ArgAction, ArgMatches, Command};
use std::process::ExitCode;
use vigie_domain::budget::money::Ratio;
use vigie_domain::Lang;
use vigie_storage::audit::Actor;
use vigie_storage::results::{self, NewProgramme};
use vigie_storage::{results_import, Db, StoreError};

fn t(lang: Lang, fr: &'static str, en: &'static str) -> &'static str {
    if lang == Lang::Fr {
        fr
    } else {
        en
    }
}

/// The four import subcommands, to add under `import`.
pub fn subcommands(lang: Lang) -> Vec<Command> {
    let common = |c: Command| {
        c.arg(Arg::new("programme").long("programme").required(true).value_name("CODE").help(t(lang, "Code du programme (ex. PROSMED)", "Programme code (e.g. PROSMED)")))
            .arg(Arg::new("name").long("name").value_name(t(lang, "NOM", "NAME")).help(t(lang, "Crée le programme s'il n'existe pas : son nom", "Create the programme if missing: its name")))
            .arg(Arg::new("period").long("period").value_name("2021-2025").help(t(lang, "Années du programme (à la création)", "Programme years (on creation)")))
            .arg(Arg::new("currency").long("currency").default_value("USD").help(t(lang, "Devise du programme (à la création)", "Programme currency (on creation)")))
            .arg(Arg::new("area").long("area").default_value("ML").help(t(lang, "Zone du programme (à la création)", "Programme area (on creation)")))
    };
    vec![
        common(Command::new("framework").about(t(lang, "Importe un cadre de résultats (résultats + indicateurs, CSV, ou un classeur XLSX à deux feuilles)", "Import a results framework (results + indicators CSV, or one XLSX workbook with two sheets)")))
            .arg(Arg::new("file").required(true).value_name(t(lang, "RÉSULTATS", "RESULTS")))
            .arg(Arg::new("indicators").value_name(t(lang, "INDICATEURS", "INDICATORS"))),
        common(Command::new("budget").about(t(lang, "Importe un budget (lignes par produit × année, sous-totaux, GMS, prélèvement)", "Import a budget (lines by output × year, subtotals, GMS, levy)")))
            .arg(Arg::new("file").required(true).value_name(t(lang, "FICHIER", "FILE")))
            .arg(Arg::new("as-printed").long("as-printed").action(ArgAction::SetTrue).help(t(lang, "Document signé transcrit tel quel : une ligne dont les années ne font pas le total est un avertissement", "Signed document as printed: a row whose years do not add up is a warning")))
            .arg(Arg::new("gms-rate").long("gms-rate").value_name("%").help(t(lang, "Taux des coûts indirects (GMS) en %, enregistré dans la configuration du programme", "Indirect cost (GMS) rate in %, stored in the programme's configuration")))
            .arg(Arg::new("levy-rate").long("levy-rate").value_name("%").help(t(lang, "Taux du prélèvement en %", "Levy rate in %"))),
        common(Command::new("expenditure").about(t(lang, "Importe des dépenses (ou un tableau crédits/dépenses par catégorie)", "Import expenditure (or an apportionment/expenditure table by class)")))
            .arg(Arg::new("file").required(true).value_name(t(lang, "FICHIER", "FILE"))),
        common(Command::new("risks").about(t(lang, "Importe un registre des risques", "Import a risk log"))).arg(Arg::new("file").required(true).value_name(t(lang, "FICHIER", "FILE"))),
    ]
}

fn pct(raw: &str) -> anyhow::Result<Ratio> {
    let d = vigie_domain::budget::Dec::parse(raw.trim().trim_end_matches('%'), vigie_domain::budget::NumberStyle::Auto).map_err(|_| anyhow::anyhow!("{raw}"))?;
    Ok(d.to_ratio().checked_div(&Ratio::from_int(100)).map_err(|_| anyhow::anyhow!("{raw}"))?)
}

/// Runs `vigie import <kind>`; `None` if `kind` is not one of ours.
pub async fn run(lang: Lang, kind: &str, a: &ArgMatches, db: &Db) -> anyhow::Result<ExitCode> {
    let actor = Actor::system("cli-import");
    let say = |fr: String, en: String| if lang == Lang::Fr { fr } else { en };
    let code = a.get_one::<String>("programme").unwrap();
    let prog = match results::programme(db, code).await {
        Ok(p) => p,
        Err(StoreError::NotFound) => {
            let (Some(name), Some(period)) = (a.get_one::<String>("name"), a.get_one::<String>("period")) else {
                anyhow::bail!(say(format!("Programme {code} inconnu : donnez --name et --period pour le créer."), format!("Unknown programme {code}: give --name and --period to create it.")));
            };
            let (f, l) = period.split_once('-').ok_or_else(|| anyhow::anyhow!("--period 2021-2025"))?;
            let np = NewProgramme {
                code: code.clone(),
                name: name.clone(),
                first_year: f.trim().parse()?,
                last_year: l.trim().parse()?,
                currency: a.get_one::<String>("currency").unwrap().clone(),
                area_code: a.get_one::<String>("area").unwrap().clone(),
                iati_identifier: None,
                reporting_org: None,
            };
            results::create_programme(db, &np, &actor).await?
        }
        Err(e) => return Err(e.into()),
    };
    let path = a.get_one::<String>("file").unwrap();
    let bytes = std::fs::read(path).map_err(|e| anyhow::anyhow!("{path}: {e}"))?;
    let outcome = match kind {
        "framework" => {
            let ind = a.get_one::<String>("indicators").map(std::fs::read).transpose()?;
            results_import::framework(db, &prog, &bytes, ind.as_deref(), &actor).await
        }
        "budget" => {
            if a.get_one::<String>("gms-rate").is_some() || a.get_one::<String>("levy-rate").is_some() {
                let mut rules = prog.cost_rules.clone();
                if let Some(g) = a.get_one::<String>("gms-rate") {
                    rules.indirect.default_rate = pct(g)?;
                }
                if let Some(l) = a.get_one::<String>("levy-rate") {
                    rules.levy = Some(pct(l)?);
                }
                results::set_cost_rules(db, &prog, &rules, &actor).await?;
            }
            results_import::budget(db, &prog, &bytes, a.get_flag("as-printed"), &actor).await
        }
        "expenditure" => results_import::expenditure(db, &prog, &bytes, &actor).await,
        _ => results_import::risk_log(db, &prog, &bytes, &actor).await,
    };
    match outcome {
        Ok(o) => {
            for w in &o.warnings {
                eprintln!("{path}:{} [{}]: {} {}", w.line, w.field, say("avertissement :".into(), "warning:".into()), w.msg.text(lang));
            }
            println!("{}", say(format!("{} : {} enregistrement(s) importé(s) dans {}.", o.kind, o.records, prog.code), format!("{}: {} record(s) imported into {}.", o.kind, o.records, prog.code)));
            Ok(ExitCode::SUCCESS)
        }
        Err(StoreError::Lines(errors)) => {
            for e in &errors {
                let field = if e.field.is_empty() { String::new() } else { format!(" [{}]", e.field) };
                eprintln!("{path}:{}{field}: {}", e.line, e.msg.text(lang));
            }
            eprintln!("{}", say("Rien n'a été importé.".into(), "Nothing was imported.".into()));
            Ok(ExitCode::from(1))
        }
        Err(StoreError::Invalid(i)) => {
            eprintln!("{path} [{}]: {}", i.field, i.msg.text(lang));
            eprintln!("{}", say("Rien n'a été importé.".into(), "Nothing was imported.".into()));
            Ok(ExitCode::from(1))
        }
        Err(e) => Err(e.into()),
    }
}
