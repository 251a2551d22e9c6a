//! What each command does. They all open the database the same way and speak the user's language.

use crate::config::{self, redact};
use anyhow::{bail, Context};
use clap::ArgMatches;
use std::io::Read;
use std::process::ExitCode;
use vigie_domain::area::AreaCode;
use vigie_domain::import::areas::{self as area_import, Format};
use vigie_domain::Lang;
use vigie_storage::audit::Actor;
use vigie_storage::{Db, StoreError};

fn say(lang: Lang, fr: &str, en: &str) -> String {
    if lang == Lang::Fr {
        fr.to_string()
    } else {
        en.to_string()
    }
}

/// Prints the line-numbered errors of an import, in the user's language.
fn print_line_errors(lang: Lang, file: &str, errors: &[vigie_domain::LineError]) {
    for e in errors {
        let field = if e.field.is_empty() { String::new() } else { format!(" [{}]", e.field) };
        eprintln!("{file}:{}{field}: {}", e.line, e.msg.text(lang));
    }
}

/// Seals what an older version stored in clear in columns sealed since (SMS texts, reporter
/// threads, protected reports' text, OpenRosa submissions): a migration cannot encrypt, so
/// `serve` and `migrate` do it once the key is loaded. Says what it did, when it did anything.
async fn seal_clear(lang: Lang, db: &Db) -> anyhow::Result<()> {
    let done = vigie_storage::rotation::seal_clear(db, &Actor::system("startup")).await?;
    let done: Vec<String> = done.into_iter().filter(|(_, n)| *n > 0).map(|(c, n)| format!("{c}: {n}")).collect();
    if !done.is_empty() {
        eprintln!("{}", say(lang, &format!("Valeurs en clair scellées : {}", done.join(", ")), &format!("Values in clear sealed: {}", done.join(", "))));
    }
    Ok(())
}

pub async fn run(lang: Lang, m: ArgMatches) -> anyhow::Result<ExitCode> {
    let file = config::load_file(&m)?;
    let demo = matches!(m.subcommand(), Some(("serve", s)) if s.get_flag("demo"));
    let default_db = if demo { "sqlite:vigie-demo.db" } else { "sqlite:vigie.db" };
    let db_url = config::pick(&m, "db", file.db.clone(), default_db);
    init_logging();
    let key_file = std::path::PathBuf::from(config::pick(&m, "key-file", file.key_file.clone(), "vigie.key"));
    let open = || async {
        let existed = key_file.exists();
        let keys = vigie_storage::crypto::Keyring::load_or_create(&key_file)?;
        if !existed {
            eprintln!("{}", say(lang, &format!("Clé de chiffrement créée : {} — sauvegardez-la à part de la base.", key_file.display()), &format!("Encryption key created: {} — back it up apart from the database.", key_file.display())));
        }
        let db = Db::connect_and_migrate(&db_url).await.with_context(|| say(lang, &format!("ouverture de {}", redact(&db_url)), &format!("opening {}", redact(&db_url))))?;
        Ok::<_, anyhow::Error>(db.with_keys(keys))
    };
    match m.subcommand() {
        Some(("serve", s)) => {
            let mut db = open().await?;
            seal_clear(lang, &db).await?;
            let read = s.get_one::<String>("db-read").cloned().or(file.db_read.clone());
            if let Some(r) = read {
                db = db.with_read_replica(&r).await?;
            }
            let addr = config::pick(s, "addr", file.addr.clone(), "127.0.0.1:8080");
            let mut cfg = vigie_server::ServerConfig { secure_cookies: s.get_flag("secure-cookies") || file.secure_cookies.unwrap_or(false), ..Default::default() };
            if let Some(h) = file.session_hours {
                cfg.session_ttl = chrono::Duration::hours(h);
            }
            if let Some(b) = file.body_limit_bytes {
                cfg.body_limit = b;
            }
            let demo_login = if demo { Some(crate::demo::load(&db).await?) } else { None };
            let listener = tokio::net::TcpListener::bind(&addr).await.with_context(|| addr.clone())?;
            let local = listener.local_addr()?;
            println!("{}", say(lang, &format!("Vigie écoute sur http://{local}/ (base : {})", redact(&db_url)), &format!("Vigie listening on http://{local}/ (database: {})", redact(&db_url))));
            if let Some(login) = demo_login {
                println!("{}", say(lang, &format!("Démo : identifiant « {} », mot de passe « {} »", login.0, login.1), &format!("Demo: username \"{}\", password \"{}\"", login.0, login.1)));
            }
            cfg.public_url = Some(std::env::var("VIGIE_PUBLIC_URL").unwrap_or_else(|_| format!("http://{local}")));
            cfg.sms_inbound_key = std::env::var("VIGIE_SMS_KEY").ok().filter(|k| !k.is_empty());
            if let Ok(url) = std::env::var("VIGIE_SMS_SENDSMS_URL") {
                cfg.sms_gateway = Some(vigie_server::SmsGateway {
                    sendsms_url: url,
                    username: std::env::var("VIGIE_SMS_USER").unwrap_or_default(),
                    password: std::env::var("VIGIE_SMS_PASSWORD").unwrap_or_default(),
                    from: std::env::var("VIGIE_SMS_FROM").unwrap_or_else(|_| "Vigie".into()),
                });
            }
            if let Some(secs) = std::env::var("VIGIE_JOB_LEASE_SECONDS").ok().and_then(|v| v.parse::<i64>().ok()).filter(|s| *s >= 1) {
                cfg.job_lease = chrono::Duration::seconds(secs);
            }
            let clock = vigie_server::system_clock();
            vigie_server::workers::spawn(vigie_server::AppState { db: db.clone(), config: std::sync::Arc::new(cfg.clone()), clock: clock.clone() });
            vigie_server::serve(listener, db.clone(), cfg, clock, shutdown_signal()).await?;
            db.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Some(("migrate", _)) => {
            let db = open().await?;
            seal_clear(lang, &db).await?;
            db.close().await;
            println!("{}", say(lang, "Migrations appliquées.", "Migrations applied."));
            Ok(ExitCode::SUCCESS)
        }
        Some(("user", u)) => match u.subcommand() {
            Some(("add", a)) => user_add(lang, &open().await?, a).await,
            _ => unreachable!("subcommand required"),
        },
        Some(("import", i)) => match i.subcommand() {
            Some(("areas", a)) => {
                let path = a.get_one::<String>("file").unwrap();
                let format = Format::from_file_name(path).with_context(|| say(lang, "extension attendue : .csv, .geojson ou .json", "expected extension: .csv, .geojson or .json"))?;
                let bytes = std::fs::read(path).with_context(|| path.clone())?;
                let rows = match area_import::parse(format, &bytes) {
                    Ok(r) => r,
                    Err(errors) => {
                        print_line_errors(lang, path, &errors);
                        eprintln!("{}", say(lang, "Aucune zone importée.", "No area imported."));
                        return Ok(ExitCode::from(1));
                    }
                };
                let db = open().await?;
                match vigie_storage::areas::import(&db, &rows, &Actor::system("cli-import")).await {
                    Ok(s) => {
                        println!("{}", say(lang, &format!("{} créée(s), {} modifiée(s), {} inchangée(s).", s.created, s.updated, s.unchanged), &format!("{} created, {} updated, {} unchanged.", s.created, s.updated, s.unchanged)));
                        Ok(ExitCode::SUCCESS)
                    }
                    Err(StoreError::Lines(errors)) => {
                        print_line_errors(lang, path, &errors);
                        eprintln!("{}", say(lang, "Aucune zone importée.", "No area imported."));
                        Ok(ExitCode::from(1))
                    }
                    Err(e) => Err(e.into()),
                }
            }
            Some(("committees", a)) => crate::governance_import::run(lang, &open().await?, crate::governance_import::What::Committees, a.get_one::<String>("file").unwrap()).await,
            Some(("directory", a)) => crate::governance_import::run(lang, &open().await?, crate::governance_import::What::Directory, a.get_one::<String>("file").unwrap()).await,
            Some((kind @ ("framework" | "budget" | "expenditure" | "risks"), a)) => crate::results_cmd::run(lang, kind, a, &open().await?).await,
            _ => unreachable!("subcommand required"),
        },
        Some(("export", e)) => match e.subcommand() {
            Some(("areas", a)) => {
                let db = open().await?;
                let text = export_areas(&db, a.get_one::<String>("format").map(|s| s.as_str()) == Some("geojson")).await?;
                match a.get_one::<String>("out") {
                    Some(out) => std::fs::write(out, text).with_context(|| out.clone())?,
                    None => print!("{text}"),
                }
                Ok(ExitCode::SUCCESS)
            }
            _ => unreachable!("subcommand required"),
        },
        Some(("backup", b)) => {
            let file = std::path::PathBuf::from(b.get_one::<String>("file").unwrap());
            let db = open().await?;
            vigie_storage::backup::backup(&db, &db_url, &file).await?;
            println!("{}", say(lang, &format!("Sauvegarde écrite : {}", file.display()), &format!("Backup written: {}", file.display())));
            Ok(ExitCode::SUCCESS)
        }
        Some(("restore", r)) => {
            let file = std::path::PathBuf::from(r.get_one::<String>("file").unwrap());
            vigie_storage::backup::restore(&db_url, &file).await?;
            // Bring the restored database up to this version's schema.
            open().await?.close().await;
            println!("{}", say(lang, &format!("Restauré dans {}", redact(&db_url)), &format!("Restored into {}", redact(&db_url))));
            Ok(ExitCode::SUCCESS)
        }
        Some(("audit", a)) => match a.subcommand() {
            Some(("verify", _)) => {
                let v = vigie_storage::audit::verify(&open().await?).await?;
                match v.broken {
                    None => {
                        println!("{}", say(lang, &format!("Journal intact : {} entrées, dernière empreinte {}", v.entries, v.last_hash), &format!("Log intact: {} entries, last hash {}", v.entries, v.last_hash)));
                        Ok(ExitCode::SUCCESS)
                    }
                    Some(b) => {
                        eprintln!("{}", say(lang, &format!("JOURNAL ALTÉRÉ : {} (intact jusqu'à l'entrée {}).", b.describe(lang), v.entries), &format!("LOG TAMPERED: {} (intact up to entry {}).", b.describe(lang), v.entries)));
                        Ok(ExitCode::from(1))
                    }
                }
            }
            _ => unreachable!("subcommand required"),
        },
        Some(("reports", r)) => crate::ew_cli::reports(lang, &open().await?, r).await,
        Some(("alerts", r)) => crate::ew_cli::alerts(lang, &open().await?, r).await,
        Some(("key", k)) => crate::keys::run(lang, &db_url, &key_file, k).await,
        Some(("bench", b)) => crate::bench_generate::run(lang, &open().await?, b).await,
        _ => bail!("unknown command"),
    }
}

async fn user_add(lang: Lang, db: &Db, a: &ArgMatches) -> anyhow::Result<ExitCode> {
    let name = a.get_one::<String>("name").unwrap();
    let role = a.get_one::<String>("role").unwrap();
    let area = AreaCode::parse(a.get_one::<String>("area").unwrap()).map_err(|m| anyhow::anyhow!(m.text(lang)))?;
    let actor = Actor::system("cli");
    let result = async {
        let id = match vigie_storage::users::id_by_username(db, name).await {
            Ok(id) => {
                vigie_storage::users::add_grant(db, id, role, &area, &actor).await?;
                println!("{}", say(lang, &format!("Compte existant « {name} » : rôle {role} sur {area} ajouté."), &format!("Existing account \"{name}\": role {role} over {area} added.")));
                id
            }
            Err(StoreError::NotFound) => {
                let (password, shown) = if a.get_flag("password-stdin") {
                    let mut p = String::new();
                    std::io::stdin().read_to_string(&mut p).map_err(|e| StoreError::Other(e.to_string()))?;
                    (Some(p.trim_end_matches(['\n', '\r']).to_string()), false)
                } else if a.get_flag("token") {
                    (None, false)
                } else {
                    (Some(vigie_storage::auth::random_secret("")[..20].to_string()), true)
                };
                let display = a.get_one::<String>("display-name").cloned().unwrap_or_else(|| name.clone());
                let u = vigie_storage::users::create(
                    db,
                    vigie_storage::users::NewUser { username: name, display_name: &display, password: password.as_deref(), org_id: None, locale: lang, grants: vec![(role.clone(), area.clone())] },
                    &actor,
                )
                .await?;
                println!("{}", say(lang, &format!("Compte « {} » créé (id {}), rôle {role} sur {area}.", u.username, u.id), &format!("Account \"{}\" created (id {}), role {role} over {area}.", u.username, u.id)));
                if let (true, Some(p)) = (shown, &password) {
                    println!("{}", say(lang, &format!("Mot de passe (affiché une seule fois) : {p}"), &format!("Password (shown once): {p}")));
                }
                u.id
            }
            Err(e) => return Err(e),
        };
        if let Some(p) = a.get_one::<String>("phone") {
            let phone = vigie_domain::phone::Phone::parse(p).map_err(|m| StoreError::Invalid(vigie_domain::Invalid::new("phone", m)))?;
            vigie_storage::users::set_phone(db, id, Some(&phone), &actor).await?;
        }
        if a.get_flag("token") {
            let exp = vigie_storage::now() + chrono::Duration::days(365);
            let token = vigie_storage::auth::create_token(db, id, "cli", Some(exp), &actor).await?;
            println!("{}", say(lang, "Jeton d'API (affiché une seule fois) :", "API token (shown once):"));
            println!("{token}");
        }
        Ok::<_, StoreError>(())
    }
    .await;
    match result {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(StoreError::Invalid(i)) => {
            eprintln!("{}: {}", i.field, i.msg.text(lang));
            Ok(ExitCode::from(1))
        }
        Err(e) => Err(e.into()),
    }
}

/// All areas, parents first, in the import format (so export → import is a round trip).
async fn export_areas(db: &Db, geojson: bool) -> anyhow::Result<String> {
    let mut all = Vec::new();
    let mut page = 1;
    loop {
        let p = vigie_storage::areas::list(db, &vigie_storage::areas::AreaFilter { with_geometry: geojson, ..Default::default() }, &roots(db).await?, page, 500).await?;
        let n = p.items.len();
        all.extend(p.items);
        if n < 500 {
            break;
        }
        page += 1;
    }
    if geojson {
        let features: Vec<serde_json::Value> = all
            .iter()
            .map(|a| {
                let geometry = a.geometry.clone().or_else(|| a.lat.zip(a.lon).map(|(la, lo)| serde_json::json!({"type": "Point", "coordinates": [lo, la]})));
                serde_json::json!({"type": "Feature", "properties": {"code": a.code, "parent": a.parent, "level": a.level, "name": a.name, "tags": a.tags}, "geometry": geometry})
            })
            .collect();
        return Ok(serde_json::to_string_pretty(&serde_json::json!({"type": "FeatureCollection", "features": features}))? + "\n");
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["code", "parent", "level", "name", "tags", "lat", "lon"])?;
    for a in &all {
        w.write_record([
            a.code.clone(),
            a.parent.clone().unwrap_or_default(),
            a.level.clone(),
            a.name.clone(),
            a.tags.join(";"),
            a.lat.map(|v| v.to_string()).unwrap_or_default(),
            a.lon.map(|v| v.to_string()).unwrap_or_default(),
        ])?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

/// The root areas (the CLI acts with full rights on the whole tree).
async fn roots(db: &Db) -> anyhow::Result<Vec<vigie_domain::area::AreaPath>> {
    Ok(vigie_storage::areas::root_paths(db).await?)
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("VIGIE_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let json = std::env::var("VIGIE_LOG_FORMAT").is_ok_and(|v| v == "json");
    let b = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = if json { b.json().try_init() } else { b.try_init() };
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
