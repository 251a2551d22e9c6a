//! `vigie import committees FILE` and `vigie import directory FILE`: CSV (`,` or `;`) or XLSX
//! (first sheet, header on its first row). Line numbers are the file's lines for CSV and the
//! sheet's row numbers for XLSX, as the spreadsheet shows them. All rows or none.

use anyhow::{bail, Context};
use std::process::ExitCode;
use vigie_domain::governance::import::{parse_committees, parse_directory, Rows};
use vigie_domain::{Lang, LineError};
use vigie_storage::audit::Actor;
use vigie_storage::{Db, StoreError};

fn say(lang: Lang, fr: &str, en: &str) -> String {
    if lang == Lang::Fr { fr.to_string() } else { en.to_string() }
}

fn print_line_errors(lang: Lang, file: &str, errors: &[LineError]) {
    for e in errors {
        let field = if e.field.is_empty() { String::new() } else { format!(" [{}]", e.field) };
        eprintln!("{file}:{}{field}: {}", e.line, e.msg.text(lang));
    }
}

fn read_rows(path: &str) -> anyhow::Result<Result<Rows, LineError>> {
    let bytes = std::fs::read(path).with_context(|| path.to_string())?;
    let lower = path.to_lowercase();
    if lower.ends_with(".xlsx") {
        // An unreadable workbook is a line-1 error like an unreadable CSV, not a crash of the command.
        Ok(vigie_domain::import::xlsx::first_sheet_rows(&bytes).map_err(|msg| LineError { line: 1, field: String::new(), msg }))
    } else if lower.ends_with(".csv") {
        Ok(vigie_domain::import::csv_rows(&bytes))
    } else {
        bail!("expected extension: .csv or .xlsx / extension attendue : .csv ou .xlsx")
    }
}

pub enum What {
    Committees,
    Directory,
}

pub async fn run(lang: Lang, db: &Db, what: What, path: &str) -> anyhow::Result<ExitCode> {
    let nothing = || match what {
        What::Committees => say(lang, "Aucun comité importé.", "No committee imported."),
        What::Directory => say(lang, "Aucune fiche importée.", "No entry imported."),
    };
    let rows = match read_rows(path)? {
        Ok(r) => r,
        Err(e) => {
            print_line_errors(lang, path, &[e]);
            eprintln!("{}", nothing());
            return Ok(ExitCode::from(1));
        }
    };
    let today = vigie_storage::now().date_naive();
    let actor = Actor::system("cli-import");
    let result = match what {
        What::Committees => match parse_committees(&rows, today) {
            Ok(cs) => vigie_storage::governance::import_committees(db, &cs, &actor).await,
            Err(e) => Err(StoreError::Lines(e)),
        },
        What::Directory => match parse_directory(&rows, today) {
            Ok(es) => vigie_storage::directory::import(db, &es, &actor).await,
            Err(e) => Err(StoreError::Lines(e)),
        },
    };
    match result {
        Ok(n) => {
            println!("{}", match what {
                What::Committees => say(lang, &format!("{n} comité(s) importé(s)."), &format!("{n} committee(s) imported.")),
                What::Directory => say(lang, &format!("{n} fiche(s) importée(s)."), &format!("{n} entr(y/ies) imported.")),
            });
            Ok(ExitCode::SUCCESS)
        }
        Err(StoreError::Lines(errors)) => {
            print_line_errors(lang, path, &errors);
            eprintln!("{}", nothing());
            Ok(ExitCode::from(1))
        }
        Err(StoreError::InvalidMany(fields)) => {
            print_line_errors(lang, path, &fields.into_iter().map(|i| LineError { line: 0, field: i.field, msg: i.msg }).collect::<Vec<_>>());
            eprintln!("{}", nothing());
            Ok(ExitCode::from(1))
        }
        Err(e) => Err(e.into()),
    }
}
