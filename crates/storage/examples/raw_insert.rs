//! Baseline (a) of the ingest benchmark: the raw storage limit. The same rows the intake writes
//! for a report (the `reports` row and its hash-chained audit entry), inserted in-process into a
//! fresh database of the same backend, written the way the intake writer writes a group (one
//! multi-row INSERT, audit chain computed in memory), with the same durability settings (`Db::connect`:
//! SQLite WAL + synchronous=FULL; PostgreSQL defaults, synchronous_commit on) and the same
//! number of reports per commit as the server's group commit achieved (`--batch`).
//! No HTTP, no JSON, no validation, no grouping into events: what is left is SQL and fsync.
//!
//!   cargo run --release -p vigie-storage --example raw_insert -- --db sqlite:/tmp/x.db --rows 50000 --batch 64
//!
//! Prints one JSON line: {"rows":…, "batch":…, "seconds":…, "rows_per_s":…}.

use vigie_storage::audit::{self, Actor};
use vigie_storage::{run_tx, Db};

fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned()).unwrap_or_else(|| default.to_string())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = arg("--db", "");
    if url.is_empty() {
        return Err("--db URL is required (a fresh database)".into());
    }
    let rows: usize = arg("--rows", "20000").parse()?;
    let batch: usize = arg("--batch", "1").parse::<f64>()?.round().max(1.0) as usize;
    let db = Db::connect_and_migrate(&url).await?;
    let actor = Actor::user(1, "bench");
    let areas = ["ML/ML-5/ML-5-KORO", "ML/ML-5/ML-5-MOPTI", "ML/ML-4/ML-4-SEGOU", "ML/ML-7/ML-7-GAO"];
    let start = std::time::Instant::now();
    let mut done = 0;
    while done < rows {
        // The way the intake writer stores a commit group: one multi-row INSERT of the reports,
        // then their audit entries chained in memory and inserted together.
        let n = batch.min(rows - done);
        let mut tx = db.begin().await?;
        let now = vigie_storage::now();
        let mut ids: Vec<i64> = Vec::with_capacity(n);
        for chunk_start in (0..n).step_by(100) {
            let m = 100.min(n - chunk_start);
            let sql = format!(
                "INSERT INTO reports (idempotency_key, reference, alert_id, received_at, occurred_at, category_code, category_given, severity, text, \
                 area_code, area_path, lat, lon, place_name, reporter_kind, reporter_user_id, reporter_contact, reporter_index, channel, language, flags) \
                 VALUES {} RETURNING id",
                vigie_storage::placeholders(m, 21)
            );
            let mut got: Vec<i64> = run_tx!(&mut tx, c => {
                let mut q = sqlx::query_scalar(&sql);
                for k in 0..m {
                    let i = done + chunk_start + k;
                    q = q.bind(format!("raw-{i}")).bind(format!("R{i:07}")).bind(None::<i64>).bind(now).bind(now - chrono::Duration::minutes(5))
                        .bind("armed_attack").bind(None::<String>).bind(4).bind(format!("Attaque armée signalée, rapport de test {i}"))
                        .bind(None::<String>).bind(areas[i % areas.len()]).bind(None::<f64>).bind(None::<f64>).bind(None::<String>)
                        .bind("focal_point").bind(None::<i64>).bind(None::<String>).bind(None::<String>).bind("api").bind("fr").bind("[]");
                }
                q.fetch_all(&mut **c).await?
            });
            got.sort_unstable();
            ids.extend(got);
        }
        let entries: Vec<audit::NewEntry> = ids.iter().map(|id| audit::NewEntry {
            actor: &actor, action: "report.create", entity: "report", entity_id: id.to_string(),
            detail: serde_json::json!({"category": "armed_attack", "channel": "api"}),
        }).collect();
        audit::append_many(&mut tx, &entries).await?;
        tx.commit().await?;
        done += n;
    }
    let secs = start.elapsed().as_secs_f64();
    println!("{}", serde_json::json!({"rows": rows, "batch": batch, "seconds": secs, "rows_per_s": rows as f64 / secs}));
    db.close().await;
    Ok(())
}
