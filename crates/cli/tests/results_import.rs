//! `vigie import framework|budget|risks` end to end on both backends, from the seed tables in
//! `../shared/data/prosmed`: the PROSMED programme imports with the document's warnings shown,
//! and a budget with text in a number cell is refused with its line and imports nothing.

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

fn seed(rel: &str) -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/prosmed").join(rel).display().to_string()
}

both_backends!(prosmed_imports_from_the_command_line_all_or_nothing);

async fn count(url: &str, table: &str) -> i64 {
    let db = vigie_storage::Db::connect(url).await.unwrap();
    let n: i64 = vigie_storage::run!(&db.read, c => sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(c).await.unwrap());
    db.close().await;
    n
}

async fn prosmed_imports_from_the_command_line_all_or_nothing(b: Backend) {
    let Some(db) = fresh_db(b).await else { return };
    let dir = db.dir();
    let key = dir.join("vigie.key").display().to_string();
    let areas = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/demo/areas.csv");
    let o = vigie(&db.url, &key, &["import", "areas", areas]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = vigie(&db.url, &key, &["import", "framework", &seed("results.csv"), &seed("indicators.csv"), "--programme", "PROSMED", "--name", "PROSMED", "--period", "2021-2025"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("53 enregistrement(s)"), "{}", text(&o.stdout));

    // Text in a number cell (line 3, 2021): refused with its line, nothing imported.
    let original = std::fs::read_to_string(seed("budget.csv")).unwrap();
    let bad: Vec<String> = original.lines().enumerate().map(|(i, l)| if i == 2 { l.replacen(",864929,", ",huit cent mille,", 1) } else { l.to_string() }).collect();
    assert_ne!(bad.join("\n"), original.trim_end(), "the seed line to spoil is there");
    let bad_file = dir.join("budget.csv");
    std::fs::write(&bad_file, bad.join("\n") + "\n").unwrap();
    let o = vigie(&db.url, &key, &["import", "budget", bad_file.to_str().unwrap(), "--programme", "PROSMED", "--gms-rate", "8", "--levy-rate", "1"]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(err.contains("budget.csv:3 [y2021]") && err.contains("huit cent mille") && err.contains("Rien n'a été importé"), "{err}");
    assert_eq!(count(&db.url, "budget_lines").await, 0);

    // The real table: imported, the document's own gaps shown as warnings with their lines.
    let o = vigie(&db.url, &key, &["import", "budget", &seed("budget.csv"), "--programme", "PROSMED", "--gms-rate", "8", "--levy-rate", "1"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(err.contains("budget.csv:28 [total]") && err.contains("budget.csv:25 [row_type]"), "{err}");
    assert_eq!(count(&db.url, "budget_lines").await, 27);
    let o = vigie(&db.url, &key, &["import", "risks", &seed("risks.csv"), "--programme", "PROSMED"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(count(&db.url, "risks").await, 9);
}
