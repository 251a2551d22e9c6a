//! Reports (signalements) from every channel land here through one function, [`intake`]:
//! validated, placed on the area tree, grouped into an event (an alert in its first state),
//! stored with its audit entry and webhook deliveries in one transaction. Nothing is dropped:
//! a report that cannot be placed or classified is kept with a flag for an analyst.

use crate::audit::{self, Actor};
use crate::{alerts, bind_args, run, run_tx, scope_sql, webhooks, Arg, Db, Page, StoreError, StoreResult, Tx};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use vigie_domain::area::{AreaCode, AreaPath};
use vigie_domain::early_warning::dedup::{cluster, Adjacency, ClusterDecision, DedupConfig, Event, ReportSignal};
use vigie_domain::early_warning::places::{match_place, Gazetteer, MatchOptions, PlaceEntry, PlaceVerdict, DEFAULT_ALIASES};
use vigie_domain::early_warning::report::{Report, ReportFlag, ReportInput, ReportPolicy};
use vigie_domain::early_warning::EwInvalid;
use vigie_domain::{Invalid, Msg};

/// Who sent a report, beyond its kind: the account (web/API/ODK) or the phone (SMS), sealed.
#[derive(Debug, Clone, Default)]
pub struct Sender {
    pub user_id: Option<i64>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IntakeOutcome {
    pub report_id: i64,
    /// Short code the reporter can quote to follow up (e.g. by SMS: `SUIVI AB12-CD34`).
    pub reference: String,
    /// The event (alert) the report was grouped into; none for protected categories.
    pub alert_id: Option<i64>,
    /// True when this idempotency key was seen before: nothing new was stored.
    pub duplicate_submission: bool,
    pub new_event: bool,
    #[schema(value_type = Vec<Object>)]
    pub flags: Vec<ReportFlag>,
    pub area_code: Option<String>,
}

fn ew_invalid(errors: Vec<EwInvalid>) -> StoreError {
    StoreError::InvalidMany(errors.into_iter().map(|e| Invalid::new(e.field, Msg::from(e.msg))).collect())
}

/// Takes one report from any channel. Idempotent on `input.idempotency_key`.
pub async fn intake(db: &Db, input: ReportInput, sender: Sender, actor: &Actor, now: DateTime<Utc>) -> StoreResult<IntakeOutcome> {
    if let Some(existing) = by_idempotency_key(db, &input.idempotency_key).await? {
        return Ok(existing);
    }
    let taxonomy = crate::categories::taxonomy(db).await?;
    let mut report = input.validate(now, &taxonomy, &ReportPolicy::default()).map_err(ew_invalid)?;

    // Place it on the tree: the area given, else the deepest area whose boundary holds the
    // point, else a confident match of the place name.
    let mut area_path: Option<AreaPath> = None;
    if let Some(code) = &report.location.area {
        area_path = Some(crate::areas::path_of(db, code, "location.area").await?);
    } else if let Some((lat, lon)) = report.location.point {
        if let Some((code, path)) = crate::areas::containing_point(db, lat, lon).await? {
            report.location.area = Some(code);
            area_path = Some(path);
        }
    } else if let Some(name) = &report.location.place_name {
        if let Some((code, path)) = resolve_place(db, name).await? {
            report.location.area = Some(code);
            area_path = Some(path);
            report.flags.retain(|f| *f != ReportFlag::PlaceNameToResolve);
        }
    }

    let reference = new_reference();
    let keys = db.keys()?;
    let (contact, contact_index) = match &sender.phone {
        Some(p) => (Some(keys.seal(p.as_bytes(), "reports.reporter_contact")), Some(keys.blind_index("phone", p))),
        None => (None, None),
    };
    let protected = report.protected;
    // Group with recent open events, unless the report belongs to a protected workflow.
    let decision = if protected { None } else { Some(group(db, &report, area_path.clone(), now).await?) };

    let mut tx = db.begin().await?;
    let (alert_id, new_event) = match decision {
        None => (None, false),
        Some(ClusterDecision::Existing { event_id, .. }) => (Some(event_id), false),
        Some(ClusterDecision::New { .. }) => (Some(alerts::open_for_report(&mut tx, &report, area_path.as_ref(), now).await?), true),
    };
    let inserted: Result<i64, sqlx::Error> = run_tx!(&mut tx, c => sqlx::query_scalar(
        "INSERT INTO reports (idempotency_key, reference, alert_id, received_at, occurred_at, category_code, category_given, severity, text, \
         area_code, area_path, lat, lon, place_name, reporter_kind, reporter_user_id, reporter_contact, reporter_index, channel, language, flags) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21) RETURNING id"
    )
    .bind(report.idempotency_key.as_str()).bind(&reference).bind(alert_id).bind(now).bind(report.occurred_at)
    .bind(report.category.as_str()).bind(&report.category_given).bind(report.severity.level() as i32).bind(&report.text)
    .bind(report.location.area.as_ref().map(|a| a.as_str().to_string())).bind(area_path.as_ref().map(|p| p.0.clone()))
    .bind(report.location.point.map(|p| p.0)).bind(report.location.point.map(|p| p.1)).bind(&report.location.place_name)
    .bind(enum_str(&report.reporter)).bind(sender.user_id).bind(&contact).bind(&contact_index)
    .bind(enum_str(&report.channel)).bind(report.language.as_str()).bind(serde_json::to_string(&report.flags).unwrap())
    .fetch_one(&mut **c).await);
    let report_id = match inserted.map_err(StoreError::from) {
        Ok(id) => id,
        // Same key sent twice at once: the other request stored it; answer as it did.
        Err(StoreError::Conflict(_)) => {
            drop(tx);
            return by_idempotency_key(db, &input.idempotency_key).await?.ok_or(StoreError::NotFound);
        }
        Err(e) => return Err(e),
    };
    crate::counters::on_report_written(&mut tx, None, Some(&crate::counters::Counted {
        area_path: area_path.as_ref().map(|p| p.0.clone()), received_at: now, category: report.category.as_str().to_string(), verified: false,
    })).await?;
    audit::append(&mut tx, actor, "report.create", "report", &report_id.to_string(), serde_json::json!({
        "category": report.category.as_str(), "channel": enum_str(&report.channel), "area": report.location.area, "alert": alert_id, "flags": report.flags,
    })).await?;
    webhooks::fan_out(&mut tx, "report.created", area_path.as_ref(), serde_json::json!({
        "id": report_id, "category": report.category.as_str(), "area": report.location.area, "alert_id": alert_id,
        "channel": enum_str(&report.channel), "received_at": now, "occurred_at": report.occurred_at,
    })).await?;
    if let Some(a) = alert_id {
        alerts::touch_after_report(&mut tx, a, report.severity, now).await?;
    }
    tx.commit().await?;
    Ok(IntakeOutcome {
        report_id,
        reference,
        alert_id,
        duplicate_submission: false,
        new_event,
        flags: report.flags,
        area_code: report.location.area.map(|a| a.to_string()),
    })
}

fn enum_str<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

/// A random 8-character code (Crockford base 32) shown as `AB12-CD34`.
fn new_reference() -> String {
    let mut b = [0u8; 5];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut b);
    vigie_domain::sms::RefCode::from_bytes(b).to_string()
}

async fn by_idempotency_key(db: &Db, key: &str) -> StoreResult<Option<IntakeOutcome>> {
    let r: Option<(i64, String, Option<i64>, String, Option<String>)> = run!(&db.write, c => sqlx::query_as(
        "SELECT id, reference, alert_id, flags, area_code FROM reports WHERE idempotency_key = $1"
    ).bind(key.trim()).fetch_optional(c).await?);
    Ok(r.map(|(report_id, reference, alert_id, flags, area_code)| IntakeOutcome {
        report_id,
        reference,
        alert_id,
        duplicate_submission: true,
        new_event: false,
        flags: serde_json::from_str(&flags).unwrap_or_default(),
        area_code,
    }))
}

/// What the web form showed its sender after submitting: the outcome for this idempotency key,
/// only to the account that sent it (the key alone is not enough).
pub async fn receipt(db: &Db, key: &str, user_id: i64) -> StoreResult<Option<IntakeOutcome>> {
    let r: Option<(i64, String, Option<i64>, String, Option<String>)> = run!(&db.write, c => sqlx::query_as(
        "SELECT id, reference, alert_id, flags, area_code FROM reports WHERE idempotency_key = $1 AND reporter_user_id = $2"
    ).bind(key.trim()).bind(user_id).fetch_optional(c).await?);
    Ok(r.map(|(report_id, reference, alert_id, flags, area_code)| IntakeOutcome {
        report_id,
        reference,
        alert_id,
        duplicate_submission: false,
        new_event: false,
        flags: serde_json::from_str(&flags).unwrap_or_default(),
        area_code,
    }))
}

/// All area names as a gazetteer (built per call: a few thousand rows at most).
pub async fn gazetteer(db: &Db) -> StoreResult<Gazetteer> {
    let rows: Vec<(String, String, String)> = run!(&db.read, c => sqlx::query_as("SELECT code, path, name FROM areas").fetch_all(c).await?);
    let entries = rows
        .into_iter()
        .filter_map(|(code, path, name)| Some(PlaceEntry { area: AreaCode::parse(&code).ok()?, path: AreaPath(path), name }))
        .collect();
    Ok(Gazetteer::new(entries, DEFAULT_ALIASES))
}

async fn resolve_place(db: &Db, name: &str) -> StoreResult<Option<(AreaCode, AreaPath)>> {
    let g = gazetteer(db).await?;
    let m = match_place(name, &g, None, &MatchOptions::default());
    let code = match m.verdict {
        PlaceVerdict::Match(c) => c,
        // Nested homonyms (region, cercle and commune of the same name): the outermost is safe.
        PlaceVerdict::Nested(v) if !v.is_empty() => v[0].clone(),
        _ => return Ok(None),
    };
    let path = crate::areas::path_of(db, &code, "location.place_name").await?;
    Ok(Some((code, path)))
}

/// Recent open events near in time, with their reports, as the domain's clustering wants them.
async fn group(db: &Db, report: &Report, area: Option<AreaPath>, _now: DateTime<Utc>) -> StoreResult<ClusterDecision> {
    let cfg = DedupConfig::default();
    let since = report.occurred_at - cfg.window - Duration::hours(1);
    let until = report.occurred_at + cfg.window + Duration::hours(1);
    #[derive(sqlx::FromRow)]
    struct SignalRow {
        id: i64,
        alert_id: i64,
        category_code: String,
        area_path: Option<String>,
        lat: Option<f64>,
        lon: Option<f64>,
        occurred_at: DateTime<Utc>,
        text: String,
    }
    let rows: Vec<SignalRow> = run!(&db.write, c => sqlx::query_as(
        "SELECT r.id, r.alert_id, r.category_code, r.area_path, r.lat, r.lon, r.occurred_at, r.text FROM reports r JOIN alerts a ON a.id = r.alert_id \
         WHERE a.closed_at IS NULL AND r.occurred_at >= $1 AND r.occurred_at <= $2 ORDER BY r.alert_id, r.id LIMIT 2000"
    ).bind(since).bind(until).fetch_all(c).await?);
    let taxonomy = crate::categories::taxonomy(db).await?;
    let mut events: Vec<Event> = Vec::new();
    for r in rows {
        let Ok(category) = vigie_domain::early_warning::taxonomy::CategoryCode::parse(&r.category_code) else { continue };
        let signal = ReportSignal {
            report_id: r.id,
            family: taxonomy.family(&category),
            category,
            area: r.area_path.map(AreaPath),
            point: r.lat.zip(r.lon),
            occurred_at: r.occurred_at,
            text: r.text,
        };
        match events.last_mut() {
            Some(e) if e.id == r.alert_id => e.reports.push(signal),
            _ => events.push(Event { id: r.alert_id, reports: vec![signal] }),
        }
    }
    let me = ReportSignal::from_report(0, report, area);
    Ok(cluster(&me, &events, &Adjacency::default(), &cfg))
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ReportView {
    pub id: i64,
    pub reference: String,
    pub alert_id: Option<i64>,
    pub received_at: DateTime<Utc>,
    pub occurred_at: DateTime<Utc>,
    pub category_code: String,
    pub severity: i32,
    pub text: String,
    pub area_code: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub place_name: Option<String>,
    pub reporter_kind: String,
    pub channel: String,
    pub language: String,
    /// JSON array of flags.
    pub flags: String,
    pub verification: String,
    pub grade: Option<String>,
    #[serde(skip)]
    pub area_path: Option<String>,
}

pub(crate) const VIEW_COLS: &str = "id, reference, alert_id, received_at, occurred_at, category_code, severity, text, area_code, lat, lon, place_name, \
                         reporter_kind, channel, language, flags, verification, grade, area_path";

pub async fn get(db: &Db, id: i64) -> StoreResult<ReportView> {
    let r: Option<ReportView> = run!(&db.read, c => sqlx::query_as(&format!("SELECT {VIEW_COLS} FROM reports WHERE id = $1")).bind(id).fetch_optional(c).await?);
    r.ok_or(StoreError::NotFound)
}

#[derive(Debug, Clone, Default)]
pub struct ReportFilter {
    pub category: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub verification: Option<String>,
    pub q: Option<String>,
    /// Reports no area holds yet (they are visible only to those who see the whole tree).
    pub unplaced: bool,
}

/// Reports inside `scope`; unplaced ones only for callers whose scope is the whole tree.
pub async fn list(db: &Db, scope: &[AreaPath], see_unplaced: bool, f: &ReportFilter, page: i64, per_page: i64) -> StoreResult<Page<ReportView>> {
    let mut args = Vec::new();
    let placed = scope_sql("area_path", scope, &mut args);
    let mut conds = vec![if see_unplaced { format!("({placed} OR area_path IS NULL)") } else { placed }];
    if f.unplaced {
        conds.push("area_path IS NULL".into());
    }
    if let Some(c) = &f.category {
        args.push(Arg::Text(c.clone()));
        conds.push(format!("category_code = ${}", args.len()));
    }
    if let Some(v) = &f.verification {
        args.push(Arg::Text(v.clone()));
        conds.push(format!("verification = ${}", args.len()));
    }
    if let Some(q) = &f.q {
        args.push(Arg::Text(format!("%{}%", q.to_lowercase().replace(['%', '_'], ""))));
        conds.push(format!("lower(text) LIKE ${}", args.len()));
    }
    let mut times = Vec::new();
    if let Some(t) = f.from {
        times.push((">=", t));
    }
    if let Some(t) = f.to {
        times.push(("<", t));
    }
    let wher = conds.join(" AND ");
    // Time bounds are bound as timestamps (typed per backend), after the text arguments.
    let time_conds: String = times.iter().enumerate().map(|(i, (op, _))| format!(" AND received_at {op} ${}", args.len() + 1 + i)).collect();
    let count_sql = format!("SELECT COUNT(*) FROM reports WHERE {wher}{time_conds}");
    let sql = format!("SELECT {VIEW_COLS} FROM reports WHERE {wher}{time_conds} ORDER BY received_at DESC, id DESC LIMIT {per_page} OFFSET {}", (page - 1) * per_page);
    let total: i64 = run!(&db.read, c => {
        let mut q = bind_args!(sqlx::query_scalar(&count_sql), &args);
        for (_, t) in &times { q = q.bind(*t); }
        q.fetch_one(c).await?
    });
    let items: Vec<ReportView> = run!(&db.read, c => {
        let mut q = bind_args!(sqlx::query_as(&sql), &args);
        for (_, t) in &times { q = q.bind(*t); }
        q.fetch_all(c).await?
    });
    Ok(Page { items, total, page, per_page })
}

/// An analyst's verdict on a report: status, Admiralty grade and severity. Verifying a report
/// of an event still in its first state verifies the event.
pub async fn verify(db: &Db, id: i64, status: &str, grade: Option<&str>, severity: Option<u8>, actor: &Actor, now: DateTime<Utc>) -> StoreResult<ReportView> {
    use vigie_domain::early_warning::grading::{AdmiraltyGrade, Verification, VerificationStatus};
    use vigie_domain::early_warning::taxonomy::Severity;
    let status_v: VerificationStatus = serde_json::from_value(serde_json::Value::String(status.into()))
        .map_err(|_| Invalid::new("status", Msg::InvalidName))?;
    let grade_v = grade.map(|g| AdmiraltyGrade::parse(g).map_err(|m| Invalid::new("grade", Msg::from(m)))).transpose()?;
    let report = get(db, id).await?;
    let severity = match severity {
        Some(s) => Severity::from_level(s).map_err(|m| Invalid::new("severity", Msg::from(m)))?,
        None => Severity::from_level(report.severity as u8).map_err(|m| Invalid::new("severity", Msg::from(m)))?,
    };
    Verification::new(status_v, grade_v, severity, actor.id.unwrap_or(0), now).map_err(|m| Invalid::new("grade", Msg::from(m)))?;
    let mut tx = db.begin().await?;
    let before = crate::counters::read(&mut tx, id).await?;
    run_tx!(&mut tx, c => { sqlx::query("UPDATE reports SET verification = $2, grade = $3, verified_by = $4, verified_at = $5, severity = $6 WHERE id = $1")
        .bind(id).bind(status).bind(grade_v.map(|g| g.to_string())).bind(actor.id).bind(now).bind(severity.level() as i32).execute(&mut **c).await?; });
    let after = before.clone().map(|b| crate::counters::Counted { verified: status == "verified", ..b });
    crate::counters::on_report_written(&mut tx, before.as_ref(), after.as_ref()).await?;
    audit::append(&mut tx, actor, "report.verify", "report", &id.to_string(), serde_json::json!({"status": status, "grade": grade, "severity": severity.level()})).await?;
    if let Some(alert_id) = report.alert_id {
        alerts::touch_after_report(&mut tx, alert_id, severity, now).await?;
    }
    if let (Some(alert_id), "verified") = (report.alert_id, status) {
        alerts::verify_if_first_state(&mut tx, alert_id, actor, now).await?;
    }
    tx.commit().await?;
    get(db, id).await
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ThreadMessage {
    pub id: i64,
    pub direction: String,
    pub body: String,
    pub author_id: Option<i64>,
    pub at: DateTime<Utc>,
}

pub async fn thread(db: &Db, report_id: i64) -> StoreResult<Vec<ThreadMessage>> {
    Ok(run!(&db.read, c => sqlx::query_as("SELECT id, direction, body, author_id, at FROM report_messages WHERE report_id = $1 ORDER BY at, id").bind(report_id).fetch_all(c).await?))
}

/// An analyst asks the reporter a question. By SMS when the report came by SMS: the analyst
/// never sees the number, only the thread.
pub async fn ask_reporter(db: &Db, report_id: i64, body: &str, actor: &Actor, now: DateTime<Utc>) -> StoreResult<bool> {
    let body = body.trim();
    if body.is_empty() || body.chars().count() > 600 {
        return Err(Invalid::new("body", Msg::TooLong { max: 600 }).into());
    }
    let contact: Option<Option<String>> = run!(&db.write, c => sqlx::query_scalar("SELECT reporter_contact FROM reports WHERE id = $1").bind(report_id).fetch_optional(c).await?);
    let contact = contact.ok_or(StoreError::NotFound)?;
    let reference: String = run!(&db.write, c => sqlx::query_scalar("SELECT reference FROM reports WHERE id = $1").bind(report_id).fetch_one(c).await?);
    let mut tx = db.begin().await?;
    run_tx!(&mut tx, c => { sqlx::query("INSERT INTO report_messages (report_id, direction, body, author_id, at) VALUES ($1,'to_reporter',$2,$3,$4)")
        .bind(report_id).bind(body).bind(actor.id).bind(now).execute(&mut **c).await?; });
    let by_sms = match contact {
        Some(sealed) => {
            let phone = db.keys()?.open_string(&sealed, "reports.reporter_contact").map_err(|e| StoreError::Other(e.to_string()))?;
            let phone = vigie_domain::phone::Phone::parse(&phone).map_err(|m| Invalid::new("phone", Msg::from(m)))?;
            let text = format!("Vigie {reference} : {body} (répondez par SMS)");
            crate::sms::queue(&mut tx, db, &phone, &text, "follow_up", None).await?;
            true
        }
        None => false,
    };
    audit::append(&mut tx, actor, "report.ask", "report", &report_id.to_string(), serde_json::json!({"by_sms": by_sms})).await?;
    tx.commit().await?;
    Ok(by_sms)
}

/// A reporter's answer (an SMS from the number of a report that has an open question, or
/// the web follow-up page), threaded under the report.
pub async fn record_answer(tx: &mut Tx, report_id: i64, body: &str, now: DateTime<Utc>) -> StoreResult<()> {
    run_tx!(tx, c => { sqlx::query("INSERT INTO report_messages (report_id, direction, body, at) VALUES ($1,'from_reporter',$2,$3)")
        .bind(report_id).bind(body).bind(now).execute(&mut **c).await?; });
    audit::append(tx, &Actor::system("reporter"), "report.answer", "report", &report_id.to_string(), serde_json::json!({})).await?;
    Ok(())
}

/// The latest report from this phone that has a question waiting (within 14 days).
pub async fn open_question_for_phone(db: &Db, phone: &str, now: DateTime<Utc>) -> StoreResult<Option<i64>> {
    let index = db.keys()?.blind_index("phone", phone);
    Ok(run!(&db.write, c => sqlx::query_scalar(
        "SELECT r.id FROM reports r JOIN report_messages m ON m.report_id = r.id AND m.direction = 'to_reporter' \
         WHERE r.reporter_index = $1 AND m.at >= $2 ORDER BY m.at DESC LIMIT 1"
    ).bind(index).bind(now - Duration::days(14)).fetch_optional(c).await?))
}

/// A report by its reference, only if `phone` sent it (so a code alone reveals nothing).
pub async fn by_reference_for_phone(db: &Db, reference: &str, phone: &str) -> StoreResult<Option<(i64, Option<i64>)>> {
    let index = db.keys()?.blind_index("phone", phone);
    Ok(run!(&db.read, c => sqlx::query_as("SELECT id, alert_id FROM reports WHERE reference = $1 AND reporter_index = $2")
        .bind(reference).bind(index).fetch_optional(c).await?))
}

