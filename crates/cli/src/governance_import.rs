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

/// An Excel serial date (days since 1899-12-30) as `YYYY-MM-DD`.
fn excel_date(serial: f64) -> String {
    let base = chrono::NaiveDate::from_ymd_opt(1899, 12, 30).expect("valid date");
    base.checked_add_signed(chrono::Duration::days(serial.floor() as i64)).map(|d| d.to_string()).unwrap_or_else(|| serial.to_string())
}

fn cell_text(c: &calamine::Data) -> String {
    use calamine::Data;
    match c {
        Data::Empty | Data::Error(_) => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        // Whole numbers typed in a cell (a count, a phone number) come as floats: no ".0".
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => if *b { "oui".into() } else { "non".into() },
        Data::DateTime(d) => excel_date(d.as_f64()),
    }
}

/// The rows of the first sheet of an XLSX workbook, with their row numbers.
pub fn xlsx_rows(bytes: &[u8]) -> anyhow::Result<Rows> {
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> = calamine::Xlsx::new(std::io::Cursor::new(bytes)).context("XLSX")?;
    let range = book.worksheet_range_at(0).context("XLSX: no sheet")?.context("XLSX")?;
    let first_row = range.start().map(|(r, _)| r as usize).unwrap_or(0);
    let mut rows = range.rows().enumerate();
    let Some((_, header)) = rows.next() else { return Ok((Vec::new(), Vec::new())) };
    let names = header.iter().map(|c| cell_text(c).trim().to_lowercase()).collect();
    let mut out = Vec::new();
    for (i, r) in rows {
        let cells: Vec<String> = r.iter().map(cell_text).collect();
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        out.push((first_row + i + 1, cells));
    }
    Ok((names, out))
}

fn read_rows(path: &str) -> anyhow::Result<Result<Rows, LineError>> {
    let bytes = std::fs::read(path).with_context(|| path.to_string())?;
    let lower = path.to_lowercase();
    if lower.ends_with(".xlsx") {
        Ok(Ok(xlsx_rows(&bytes)?))
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
