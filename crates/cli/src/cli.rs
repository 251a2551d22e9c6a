//! The command line, described in French or English (`--lang`, `VIGIE_LANG`, then `LANG`).

use clap::{Arg, ArgAction, Command};
use vigie_domain::Lang;

/// Picks the help language before clap parses anything.
pub fn lang_from_env_and_args() -> Lang {
    let args: Vec<String> = std::env::args().collect();
    for (i, a) in args.iter().enumerate() {
        if let Some(v) = a.strip_prefix("--lang=") {
            return Lang::parse(v);
        }
        if a == "--lang" {
            if let Some(v) = args.get(i + 1) {
                return Lang::parse(v);
            }
        }
    }
    for var in ["VIGIE_LANG", "LC_ALL", "LANG"] {
        if let Ok(v) = std::env::var(var) {
            if !v.is_empty() && v != "C" && v != "C.UTF-8" && v != "POSIX" {
                return Lang::parse(&v);
            }
        }
    }
    Lang::Fr
}

fn t(lang: Lang, fr: &'static str, en: &'static str) -> &'static str {
    if lang == Lang::Fr {
        fr
    } else {
        en
    }
}

pub fn command(lang: Lang) -> Command {
    let db = Arg::new("db")
        .long("db")
        .env("VIGIE_DB")
        .global(true)
        .value_name("URL")
        .help(t(lang, "Base de données : sqlite:FICHIER (défaut vigie.db) ou postgres://…", "Database: sqlite:FILE (default vigie.db) or postgres://…"));
    Command::new("vigie")
        .version(env!("CARGO_PKG_VERSION"))
        .about(t(
            lang,
            "Vigie — gouvernance partagée de la sécurité et de la paix : signalements, alertes précoces, dossiers protégés, suivi des résultats.",
            "Vigie — shared governance of security and peace: field reports, early warning, protected cases, results tracking.",
        ))
        .disable_help_subcommand(true)
        .subcommand_required(true)
        .arg_required_else_help(true)
        .help_template(if lang == Lang::Fr {
            "{before-help}{name} {version}\n{about}\n\nUsage : {usage}\n\n{all-args}{after-help}"
        } else {
            "{before-help}{name} {version}\n{about}\n\nUsage: {usage}\n\n{all-args}{after-help}"
        })
        .next_help_heading(t(lang, "Options", "Options"))
        .arg(db)
        .arg(
            Arg::new("lang")
                .long("lang")
                .global(true)
                .value_name("fr|en")
                .help(t(lang, "Langue des messages (fr ou en)", "Language of messages (fr or en)")),
        )
        .arg(
            Arg::new("key-file")
                .long("key-file")
                .env("VIGIE_KEY_FILE")
                .global(true)
                .value_name("FILE")
                .help(t(lang, "Fichier des clés de chiffrement, hors de la base (défaut ./vigie.key, créé s'il manque)", "Encryption key file, kept outside the database (default ./vigie.key, created if missing)")),
        )
        .arg(
            Arg::new("config")
                .long("config")
                .env("VIGIE_CONFIG")
                .global(true)
                .value_name("FILE")
                .help(t(lang, "Fichier de configuration (défaut : ./vigie.toml s'il existe)", "Configuration file (default: ./vigie.toml if present)")),
        )
        .subcommand(
            Command::new("serve")
                .about(t(lang, "Démarre le serveur web et l'API", "Start the web server and API"))
                .arg(Arg::new("addr").long("addr").env("VIGIE_ADDR").value_name("HOST:PORT").help(t(lang, "Adresse d'écoute (défaut 127.0.0.1:8080)", "Listen address (default 127.0.0.1:8080)")))
                .arg(Arg::new("db-read").long("db-read").env("VIGIE_DB_READ").value_name("URL").help(t(lang, "Réplique PostgreSQL pour les lectures (tableaux de bord)", "PostgreSQL replica for reads (dashboards)")))
                .arg(Arg::new("demo").long("demo").action(ArgAction::SetTrue).help(t(lang, "Charge les données de démonstration (zones du Mali, comptes de démo)", "Load demo data (Mali's areas, demo accounts)")))
                .arg(Arg::new("secure-cookies").long("secure-cookies").env("VIGIE_SECURE_COOKIES").action(ArgAction::SetTrue).help(t(lang, "Cookies « Secure » (derrière HTTPS)", "Secure cookies (behind HTTPS)"))),
        )
        .subcommand(Command::new("migrate").about(t(lang, "Applique les migrations de la base", "Apply database migrations")))
        .subcommand(
            Command::new("user")
                .about(t(lang, "Gère les comptes", "Manage accounts"))
                .subcommand_required(true)
                .subcommand(
                    Command::new("add")
                        .about(t(lang, "Crée un compte (ou ajoute un rôle à un compte existant)", "Create an account (or add a role to an existing one)"))
                        .arg(Arg::new("name").required(true).value_name(t(lang, "IDENTIFIANT", "USERNAME")))
                        .arg(Arg::new("role").long("role").required(true).value_name(t(lang, "RÔLE", "ROLE")).help(t(lang, "admin, analyst, responder, case_handler, me_officer, viewer, reporter ou un rôle défini", "admin, analyst, responder, case_handler, me_officer, viewer, reporter or a defined role")))
                        .arg(Arg::new("area").long("area").required(true).value_name("CODE").help(t(lang, "Zone couverte par le rôle (ex. ML, ML-5)", "Area the role covers (e.g. ML, ML-5)")))
                        .arg(Arg::new("display-name").long("display-name").value_name(t(lang, "NOM", "NAME")).help(t(lang, "Nom affiché", "Display name")))
                        .arg(Arg::new("phone").long("phone").value_name(t(lang, "TÉLÉPHONE", "PHONE")).help(t(lang, "Téléphone du point focal (ses SMS seront reconnus)", "Focal point's phone (their SMS will be recognised)")))
                        .arg(Arg::new("token").long("token").action(ArgAction::SetTrue).help(t(lang, "Crée aussi un jeton d'API, affiché une seule fois", "Also create an API token, shown once")))
                        .arg(Arg::new("password-stdin").long("password-stdin").action(ArgAction::SetTrue).help(t(lang, "Lit le mot de passe sur l'entrée standard (sinon il est généré et affiché une fois)", "Read the password from standard input (otherwise one is generated and shown once)"))),
                ),
        )
        .subcommand(
            Command::new("import")
                .about(t(lang, "Importe des données (tout ou rien, erreurs numérotées par ligne)", "Import data (all or nothing, errors numbered by line)"))
                .subcommand_required(true)
                .subcommand(
                    Command::new("areas")
                        .about(t(lang, "Importe des zones depuis un CSV ou un GeoJSON", "Import areas from CSV or GeoJSON"))
                        .arg(Arg::new("file").required(true).value_name(t(lang, "FICHIER", "FILE"))),
                )
                .subcommand(
                    Command::new("committees")
                        .about(t(lang, "Importe des comités et leurs membres (CSV ou XLSX, une ligne par membre)", "Import committees and their members (CSV or XLSX, one row per member)"))
                        .arg(Arg::new("file").required(true).value_name(t(lang, "FICHIER", "FILE"))),
                )
                .subcommand(
                    Command::new("directory")
                        .about(t(lang, "Importe des personnes ressources dans l'annuaire (CSV ou XLSX)", "Import resource persons into the directory (CSV or XLSX)"))
                        .arg(Arg::new("file").required(true).value_name(t(lang, "FICHIER", "FILE"))),
                )
                .subcommands(crate::results_cmd::subcommands(lang)),
        )
        .subcommand(
            Command::new("export")
                .about(t(lang, "Exporte des données", "Export data"))
                .subcommand_required(true)
                .subcommand(
                    Command::new("areas")
                        .about(t(lang, "Exporte les zones (CSV réimportable ou GeoJSON)", "Export areas (re-importable CSV or GeoJSON)"))
                        .arg(Arg::new("format").long("format").value_parser(["csv", "geojson"]).default_value("csv").help(t(lang, "Format de sortie", "Output format")))
                        .arg(Arg::new("out").long("out").value_name(t(lang, "FICHIER", "FILE")).help(t(lang, "Fichier de sortie (défaut : sortie standard)", "Output file (default: standard output)"))),
                ),
        )
        .subcommand(
            Command::new("backup")
                .about(t(lang, "Sauvegarde à chaud (SQLite : copie en ligne ; PostgreSQL : pg_dump)", "Online backup (SQLite: online copy; PostgreSQL: pg_dump)"))
                .arg(Arg::new("file").required(true).value_name(t(lang, "FICHIER", "FILE"))),
        )
        .subcommand(
            Command::new("restore")
                .about(t(lang, "Restaure une sauvegarde dans une base vide", "Restore a backup into an empty database"))
                .arg(Arg::new("file").required(true).value_name(t(lang, "FICHIER", "FILE"))),
        )
        .subcommand(
            Command::new("audit")
                .about(t(lang, "Journal d'audit", "Audit log"))
                .subcommand_required(true)
                .subcommand(Command::new("verify").about(t(lang, "Vérifie la chaîne de hachage du journal ; code 1 si elle est rompue", "Check the log's hash chain; exit code 1 if broken"))),
        )
        // Early warning.
        .subcommand(crate::ew_cli::reports_command(lang))
        .subcommand(crate::ew_cli::alerts_command(lang))
        .subcommand(crate::keys::command(lang))
        // Benchmarks (issue 11): synthetic data and timed queries.
        .subcommand(crate::bench_generate::command(lang))
}

#[cfg(test)]
mod tests {
    #[test]
    fn command_is_well_formed_in_both_languages() {
        super::command(vigie_domain::Lang::Fr).debug_assert();
        super::command(vigie_domain::Lang::En).debug_assert();
    }
}
