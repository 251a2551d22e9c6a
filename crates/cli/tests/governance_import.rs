//! `vigie import committees` and `vigie import directory`, CSV and XLSX, on both backends:
//! errors come with the file's line (the sheet's row for XLSX), and a file with one bad line
//! imports nothing.

use crate::support;

use std::process::{Command, Output};
use support::{fresh_db, Backend};

const BIN: &str = env!("CARGO_BIN_EXE_vigie");

fn vigie(db: &str, key: &str, args: &[&str]) -> Output {
    Command::new(BIN).arg("--db").arg(db).args(args).env("LANG", "fr_FR.UTF-8").env("VIGIE_KEY_FILE", key).output().expect("run vigie")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_string()
}

both_backends!(committee_and_directory_imports_are_all_or_nothing_with_line_numbers);

async fn count(url: &str, table: &str) -> i64 {
    let db = vigie_storage::Db::connect(url).await.unwrap();
    let n: i64 = vigie_storage::run!(&db.read, c => sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(c).await.unwrap());
    db.close().await;
    n
}

async fn committee_and_directory_imports_are_all_or_nothing_with_line_numbers(b: Backend) {
    let Some(db) = fresh_db(b).await else { return };
    let dir = db.dir();
    let key = dir.join("vigie.key").display().to_string();
    let areas = dir.join("zones.csv");
    std::fs::write(&areas, "code,parent,level,name\nML,,country,Mali\nML-5,ML,region,Mopti\nML-5-KORO,ML-5,cercle,Koro\n").unwrap();
    let o = vigie(&db.url, &key, &["import", "areas", areas.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));

    // Line 4 lists Awa Togo a second time in the same committee: nothing is imported.
    let bad = dir.join("comites.csv");
    let header = "committee;kind;area;established_on;member_name;member_role;member_institution;member_sex;member_age_group\n";
    let rows = "Comité communal de sécurité de Koro;security_committee;ML-5-KORO;2025-03-01;Awa Togo;présidente;Mairie;F;adult\n\
Comité communal de sécurité de Koro;security_committee;ML-5-KORO;2025-03-01;Issa Dolo;secrétaire;Jeunesse;H;jeune\n";
    std::fs::write(&bad, format!("{header}{rows}Comité communal de sécurité de Koro;security_committee;ML-5-KORO;2025-03-01;awa togo;membre;;F;adult\n")).unwrap();
    let o = vigie(&db.url, &key, &["import", "committees", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(err.contains("comites.csv:4 [member_name]") && err.contains("déjà à la ligne 2") && err.contains("Aucun comité importé"), "{err}");
    assert_eq!(count(&db.url, "gov_committees").await, 0);
    // An unknown area is refused with its line too.
    std::fs::write(&bad, format!("{header}{rows}Commission foncière de Gao;land_commission;ML-7;2024-06-10;;;;;\n")).unwrap();
    let o = vigie(&db.url, &key, &["import", "committees", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("comites.csv:4 [area]"), "{}", text(&o.stderr));
    assert_eq!(count(&db.url, "gov_committees").await, 0);
    // The good file.
    std::fs::write(&bad, format!("{header}{rows}")).unwrap();
    let o = vigie(&db.url, &key, &["import", "committees", bad.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("1 comité(s) importé(s)"));
    assert_eq!((count(&db.url, "gov_committees").await, count(&db.url, "gov_members").await), (1, 2));
    // Importing it again: the committee exists, nothing changes.
    let o = vigie(&db.url, &key, &["import", "committees", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("comites.csv:2 [committee]"), "{}", text(&o.stderr));
    assert_eq!(count(&db.url, "gov_members").await, 2);

    // Directory, as an XLSX workbook: row 3 asks to publish without consent.
    let xlsx = dir.join("annuaire.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let cells = [
        ["full_name", "sex", "age_group", "area", "expertise", "languages", "phone", "consent_on", "consent_method", "visibility_name", "published"],
        ["Fatoumata Maïga", "F", "jeune", "ML-5-KORO", "mediation; gender", "dogon", "76 12 34 56", "2026-01-05", "written", "public", "oui"],
        ["Oumar Cissé", "M", "adult", "ML-5", "human_rights", "", "", "", "", "public", "oui"],
    ];
    for (r, row) in cells.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            sheet.write_string(r as u32, c as u16, *v).unwrap();
        }
    }
    book.save(&xlsx).unwrap();
    let o = vigie(&db.url, &key, &["import", "directory", xlsx.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(err.contains("annuaire.xlsx:3 [consent_on]") && err.contains("consentement"), "{err}");
    assert_eq!(count(&db.url, "gov_directory").await, 0);
    // Without the bad row it imports, and the phone is sealed.
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (r, row) in cells[..2].iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            sheet.write_string(r as u32, c as u16, *v).unwrap();
        }
    }
    book.save(&xlsx).unwrap();
    let o = vigie(&db.url, &key, &["import", "directory", xlsx.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(count(&db.url, "gov_directory").await, 1);
    let db2 = vigie_storage::Db::connect(&db.url).await.unwrap();
    let sealed: Option<String> = vigie_storage::run!(&db2.read, c => sqlx::query_scalar("SELECT phone_sealed FROM gov_directory").fetch_one(c).await.unwrap());
    assert!(sealed.is_some_and(|s| s.starts_with("v1.") && !s.contains("76123456")));
}
