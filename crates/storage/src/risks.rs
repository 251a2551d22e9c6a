//! Risk register of a programme: risks (created or updated by number) and their dated reviews.

use crate::audit::{self, Actor};
use crate::results::Programme;
use crate::{run, run_tx, Db, StoreError, StoreResult};
use vigie_domain::framework::risk::{Impact, Likelihood, Risk, RiskReview, RiskStatus};
use vigie_domain::{Invalid, Msg};

fn status_text(s: RiskStatus) -> String {
    serde_json::to_value(s).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}
fn status_of(s: &str) -> RiskStatus {
    serde_json::from_value(serde_json::Value::String(s.to_string())).unwrap_or(RiskStatus::Open)
}

/// Creates or updates risks by number (a re-imported log updates its risks and keeps their reviews).
pub async fn import(db: &Db, prog: &Programme, risks: &[Risk], actor: &Actor) -> StoreResult<usize> {
    let now = crate::now();
    let mut tx = db.begin().await?;
    for r in risks {
        run_tx!(&mut tx, c => { sqlx::query(
            "INSERT INTO risks (programme_id, number, description, category, likelihood, impact, likelihood_as_written, impact_as_written, mitigation, owner, status, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12) \
             ON CONFLICT (programme_id, number) DO UPDATE SET description = excluded.description, category = excluded.category, likelihood = excluded.likelihood, impact = excluded.impact, \
             likelihood_as_written = excluded.likelihood_as_written, impact_as_written = excluded.impact_as_written, mitigation = excluded.mitigation, owner = excluded.owner, status = excluded.status, updated_at = excluded.updated_at"
        ).bind(prog.id).bind(r.number as i64).bind(&r.description).bind(&r.category).bind(r.likelihood.value() as i64).bind(r.impact.value() as i64)
         .bind(&r.likelihood_as_written).bind(&r.impact_as_written).bind(serde_json::to_string(&r.mitigation).unwrap()).bind(&r.owner).bind(status_text(r.status)).bind(now).execute(&mut **c).await?; });
        for rev in &r.reviews {
            let id: i64 = run_tx!(&mut tx, c => sqlx::query_scalar("SELECT id FROM risks WHERE programme_id = $1 AND number = $2").bind(prog.id).bind(r.number as i64).fetch_one(&mut **c).await?);
            insert_review(&mut tx, id, rev, actor, now).await?;
        }
    }
    audit::append(&mut tx, actor, "risks.import", "programme", &prog.id.to_string(), serde_json::json!({"risks": risks.len()})).await?;
    tx.commit().await?;
    Ok(risks.len())
}

async fn insert_review(tx: &mut crate::Tx, risk_id: i64, rev: &RiskReview, actor: &Actor, now: chrono::DateTime<chrono::Utc>) -> StoreResult<()> {
    run_tx!(tx, c => { sqlx::query("INSERT INTO risk_reviews (risk_id, reviewed_on, likelihood, impact, status, note, reviewed_by, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)")
        .bind(risk_id).bind(rev.date.to_string()).bind(rev.likelihood.value() as i64).bind(rev.impact.value() as i64).bind(status_text(rev.status)).bind(&rev.note).bind(actor.id).bind(now).execute(&mut **c).await?; });
    Ok(())
}

/// Adds a dated review to risk `number`.
pub async fn review(db: &Db, prog: &Programme, number: u32, rev: &RiskReview, actor: &Actor) -> StoreResult<()> {
    let id: Option<i64> = run!(&db.write, c => sqlx::query_scalar("SELECT id FROM risks WHERE programme_id = $1 AND number = $2").bind(prog.id).bind(number as i64).fetch_optional(c).await?);
    let id = id.ok_or(StoreError::NotFound)?;
    let mut tx = db.begin().await?;
    insert_review(&mut tx, id, rev, actor, crate::now()).await?;
    audit::append(&mut tx, actor, "risk.review", "risk", &format!("{}/{}", prog.code, number), serde_json::to_value(rev).unwrap_or_default()).await?;
    tx.commit().await
}

#[derive(sqlx::FromRow)]
struct RiskRow {
    id: i64,
    number: i64,
    description: String,
    category: String,
    likelihood: i64,
    impact: i64,
    likelihood_as_written: String,
    impact_as_written: String,
    mitigation: String,
    owner: Option<String>,
    status: String,
}

/// The register with every risk's reviews, by number.
pub async fn list(db: &Db, prog: &Programme) -> StoreResult<Vec<Risk>> {
    let rows: Vec<RiskRow> = run!(&db.read, c => sqlx::query_as("SELECT id, number, description, category, likelihood, impact, likelihood_as_written, impact_as_written, mitigation, owner, status FROM risks WHERE programme_id = $1 ORDER BY number").bind(prog.id).fetch_all(c).await?);
    let reviews: Vec<(i64, String, i64, i64, String, Option<String>)> = run!(&db.read, c => sqlx::query_as(
        "SELECT r.risk_id, r.reviewed_on, r.likelihood, r.impact, r.status, r.note FROM risk_reviews r JOIN risks k ON k.id = r.risk_id WHERE k.programme_id = $1 ORDER BY r.reviewed_on, r.id"
    ).bind(prog.id).fetch_all(c).await?);
    let scale = |n: i64| n.clamp(1, 5) as u8;
    Ok(rows
        .into_iter()
        .map(|r| Risk {
            number: r.number as u32,
            description: r.description,
            category: r.category,
            likelihood: Likelihood::new(scale(r.likelihood)).expect("1..=5"),
            impact: Impact::new(scale(r.impact)).expect("1..=5"),
            likelihood_as_written: r.likelihood_as_written,
            impact_as_written: r.impact_as_written,
            mitigation: serde_json::from_str(&r.mitigation).unwrap_or_default(),
            owner: r.owner,
            status: status_of(&r.status),
            reviews: reviews
                .iter()
                .filter(|v| v.0 == r.id)
                .filter_map(|v| {
                    Some(RiskReview {
                        date: chrono::NaiveDate::parse_from_str(&v.1, "%Y-%m-%d").ok()?,
                        likelihood: Likelihood::new(scale(v.2))?,
                        impact: Impact::new(scale(v.3))?,
                        status: status_of(&v.4),
                        note: v.5.clone(),
                    })
                })
                .collect(),
            line: 0,
        })
        .collect())
}

/// Checks a review's date is not in the future (a review records what was assessed).
pub fn check_review_date(rev: &RiskReview, today: chrono::NaiveDate) -> Result<(), Invalid> {
    if rev.date > today {
        return Err(Invalid::new("date", Msg::from(vigie_domain::framework::FrameworkMsg::InvalidDate { text: rev.date.to_string() })));
    }
    Ok(())
}
