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
use vigie_domain::early_warning::visibility::ReportScope;
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
/// Validation, placement and sealing run here, in the caller's task (in parallel); the
/// writes go through the group-commit writer, and the answer comes once they are on disk.
pub async fn intake(db: &Db, input: ReportInput, sender: Sender, actor: &Actor, now: DateTime<Utc>) -> StoreResult<IntakeOutcome> {
    // Fast path for resends, on the read pool; the writer checks again inside its transaction.
    if let Some(existing) = by_idempotency_key(db, &input.idempotency_key).await? {
        return Ok(existing);
    }
    let prepared = prepare(db, input, sender, actor, now).await?;
    crate::group_commit::submit(db, prepared).await
}

/// A report validated, placed and sealed, ready to be written.
pub(crate) struct Prepared {
    report: Report,
    area_path: Option<AreaPath>,
    reference: String,
    /// The text as stored: sealed for a protected report (see [`stored_text`]), else as given.
    text: String,
    contact: Option<String>,
    contact_index: Option<String>,
    user_id: Option<i64>,
    actor: Actor,
    now: DateTime<Utc>,
}

impl Prepared {
    pub(crate) fn key(&self) -> &str {
        self.report.idempotency_key.as_str()
    }
}

async fn prepare(db: &Db, input: ReportInput, sender: Sender, actor: &Actor, now: DateTime<Utc>) -> StoreResult<Prepared> {
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

    let keys = db.keys()?;
    let (contact, contact_index) = match &sender.phone {
        Some(p) => (Some(keys.seal(p.as_bytes(), "reports.reporter_contact")), Some(keys.blind_index("phone", p))),
        None => (None, None),
    };
    let reference = new_reference();
    let text = stored_text(keys, &report, &reference);
    Ok(Prepared { report, area_path, reference, text, contact, contact_index, user_id: sender.user_id, actor: actor.clone(), now })
}

/// What every report of one commit group shares: read once per group.
pub(crate) struct GroupContext {
    taxonomy: vigie_domain::early_warning::taxonomy::Taxonomy,
    webhooks: Vec<(i64, String, String)>,
}

impl GroupContext {
    pub(crate) async fn load(db: &Db, tx: &mut Tx) -> StoreResult<GroupContext> {
        Ok(GroupContext { taxonomy: crate::categories::taxonomy(db).await?, webhooks: webhooks::active(tx).await? })
    }
}

/// Writes one prepared report inside the group's transaction (its own savepoint): grouped
/// into an event, stored with its audit entry and webhook deliveries.
pub(crate) async fn store_prepared(tx: &mut Tx, ctx: &GroupContext, p: &Prepared) -> StoreResult<IntakeOutcome> {
    // A resend (same idempotency key, also within the same group) fails the INSERT below on
    // the unique key: the group-commit writer rolls this savepoint back and answers with the
    // stored report. Checking first would cost every report one more query.
    let (report, area_path, now) = (&p.report, &p.area_path, p.now);
    // Group with recent open events, unless the report belongs to a protected workflow.
    let decision = if report.protected { None } else { Some(group(tx, ctx, report, area_path.clone()).await?) };
    let (alert_id, new_event, event_severity) = match decision {
        None => (None, false, i32::MAX),
        Some((ClusterDecision::Existing { event_id, .. }, severity)) => (Some(event_id), false, severity),
        Some((ClusterDecision::New { .. }, _)) => (Some(alerts::open_for_report(tx, report, area_path.as_ref(), now).await?), true, i32::MAX),
    };
    let report_id: i64 = run_tx!(&mut *tx, c => sqlx::query_scalar(
        "INSERT INTO reports (idempotency_key, reference, alert_id, received_at, occurred_at, category_code, category_given, severity, text, \
         area_code, area_path, lat, lon, place_name, reporter_kind, reporter_user_id, reporter_contact, reporter_index, channel, language, flags) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21) RETURNING id"
    )
    .bind(report.idempotency_key.as_str()).bind(&p.reference).bind(alert_id).bind(now).bind(report.occurred_at)
    .bind(report.category.as_str()).bind(&report.category_given).bind(report.severity.level() as i32).bind(&p.text)
    .bind(report.location.area.as_ref().map(|a| a.as_str().to_string())).bind(area_path.as_ref().map(|p| p.0.clone()))
    .bind(report.location.point.map(|p| p.0)).bind(report.location.point.map(|p| p.1)).bind(&report.location.place_name)
    .bind(enum_str(&report.reporter)).bind(p.user_id).bind(&p.contact).bind(&p.contact_index)
    .bind(enum_str(&report.channel)).bind(report.language.as_str()).bind(serde_json::to_string(&report.flags).unwrap())
    .fetch_one(&mut **c).await)?;
    crate::counters::on_report_written(tx, None, Some(&crate::counters::Counted {
        area_path: area_path.as_ref().map(|p| p.0.clone()), received_at: now, category: report.category.as_str().to_string(), verified: false,
    })).await?;
    audit::append(tx, &p.actor, "report.create", "report", &report_id.to_string(), serde_json::json!({
        "category": report.category.as_str(), "channel": enum_str(&report.channel), "area": report.location.area, "alert": alert_id, "flags": report.flags,
    })).await?;
    webhooks::fan_out_to(tx, &ctx.webhooks, "report.created", area_path.as_ref(), serde_json::json!({
        "id": report_id, "category": report.category.as_str(), "area": report.location.area, "alert_id": alert_id,
        "channel": enum_str(&report.channel), "received_at": now, "occurred_at": report.occurred_at,
    })).await?;
    // Only a graver report changes its event (a new event already has this severity).
    if let (Some(a), true) = (alert_id, report.severity.level() as i32 > event_severity) {
        alerts::touch_after_report(tx, a, report.severity, now).await?;
    }
    // In the same transaction: the raise survives a crash right after the commit.
    crate::auto_raise::enqueue_if_armed(tx, report_id, alert_id, report).await?;
    Ok(IntakeOutcome {
        report_id,
        reference: p.reference.clone(),
        alert_id,
        duplicate_submission: false,
        new_event,
        flags: report.flags.clone(),
        area_code: report.location.area.as_ref().map(|a| a.to_string()),
    })
}

fn enum_str<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

/// What `reports.text` holds. A protected report's text (a denunciation, a violation: never
/// grouped into an event) is sealed, bound to the report's reference, so a dump does not show
/// it. Other reports keep their text in clear: analysts search it (`q`) and the intake writer
/// compares it with recent reports to group them into events, both in SQL.
fn stored_text(keys: &crate::crypto::Keyring, report: &Report, reference: &str) -> String {
    if report.protected {
        keys.seal(report.text.as_bytes(), &text_context(reference))
    } else {
        report.text.clone()
    }
}

pub(crate) fn text_context(reference: &str) -> String {
    format!("reports.text:{reference}")
}

/// Opens `reports.text` as read from the database (sealed or clear, see [`stored_text`]).
pub(crate) fn open_text(db: &Db, reference: &str, stored: &str) -> StoreResult<String> {
    db.keys()?.open_text(stored, &text_context(reference)).map_err(|e| StoreError::Other(format!("report {reference}: text: {e}")))
}

/// A view as read from the database, its text opened.
pub(crate) fn opened(db: &Db, mut v: ReportView) -> StoreResult<ReportView> {
    v.text = open_text(db, &v.reference, &v.text)?;
    Ok(v)
}

/// A random 8-character code (Crockford base 32) shown as `AB12-CD34`.
fn new_reference() -> String {
    let mut b = [0u8; 5];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut b);
    vigie_domain::sms::RefCode::from_bytes(b).to_string()
}

type KeyRow = (i64, String, Option<i64>, String, Option<String>);
const BY_KEY: &str = "SELECT id, reference, alert_id, flags, area_code FROM reports WHERE idempotency_key = $1";

fn resent((report_id, reference, alert_id, flags, area_code): KeyRow) -> IntakeOutcome {
    IntakeOutcome {
        report_id,
        reference,
        alert_id,
        duplicate_submission: true,
        new_event: false,
        flags: serde_json::from_str(&flags).unwrap_or_default(),
        area_code,
    }
}

async fn by_idempotency_key(db: &Db, key: &str) -> StoreResult<Option<IntakeOutcome>> {
    let r: Option<KeyRow> = run!(&db.read, c => sqlx::query_as(BY_KEY).bind(key.trim()).fetch_optional(c).await?);
    Ok(r.map(resent))
}

pub(crate) async fn by_idempotency_key_tx(tx: &mut Tx, key: &str) -> StoreResult<Option<IntakeOutcome>> {
    let r: Option<KeyRow> = run_tx!(tx, c => sqlx::query_as(BY_KEY).bind(key.trim()).fetch_optional(&mut **c).await?);
    Ok(r.map(resent))
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

/// How many of an event's reports (its latest, among those near in place and time) a new
/// report is compared with. An event's reports tell the same story, so its latest few stand
/// for it; comparing with all of them made each intake cost grow with the size of the events
/// (a busy area's open events held thousands of reports, read and compared in the single
/// writer). Before this cap, a LIMIT of 2000 rows silently dropped the newest events instead.
pub const COMPARED_PER_EVENT: usize = 8;

/// Recent open events near in time, with their reports, as the domain's clustering wants them.
/// Also returns the chosen event's severity (for an existing event).
async fn group(tx: &mut Tx, ctx: &GroupContext, report: &Report, area: Option<AreaPath>) -> StoreResult<(ClusterDecision, i32)> {
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
        alert_severity: i32,
    }
    // One SELECT per place condition, so each can use the (area_path, occurred_at) index;
    // $1 and $2 are the time window, shared by all.
    let mut args = Vec::new();
    let select = "SELECT r.id, r.alert_id, r.category_code, r.area_path, r.lat, r.lon, r.occurred_at, r.text, a.severity AS alert_severity \
                  FROM reports r JOIN alerts a ON a.id = r.alert_id WHERE a.closed_at IS NULL AND r.occurred_at >= $1 AND r.occurred_at <= $2 AND ";
    let candidates = candidate_places(report, area.as_ref(), &cfg, &mut args)
        .iter()
        .map(|place| format!("{select}{place}"))
        .collect::<Vec<_>>()
        .join(" UNION ");
    // Only the latest reports of each event are compared (see COMPARED_PER_EVENT), sorted by
    // event then report so the rows fold into events below.
    let sql = format!(
        "SELECT id, alert_id, category_code, area_path, lat, lon, occurred_at, text, alert_severity FROM \
         (SELECT u.*, ROW_NUMBER() OVER (PARTITION BY u.alert_id ORDER BY u.id DESC) AS latest FROM ({candidates}) u) ranked \
         WHERE latest <= {COMPARED_PER_EVENT} ORDER BY alert_id, id"
    );
    let rows: Vec<SignalRow> = run_tx!(tx, c => bind_args!(sqlx::query_as(&sql).bind(since).bind(until), &args).fetch_all(&mut **c).await?);
    let taxonomy = &ctx.taxonomy;
    let mut events: Vec<Event> = Vec::new();
    let mut severities: Vec<(i64, i32)> = Vec::new();
    for r in rows {
        if severities.last().is_none_or(|(id, _)| *id != r.alert_id) {
            severities.push((r.alert_id, r.alert_severity));
        }
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
    let decision = cluster(&me, &events, &Adjacency::default(), &cfg);
    let severity = match &decision {
        ClusterDecision::Existing { event_id, .. } => severities.iter().find(|(id, _)| id == event_id).map_or(0, |(_, s)| *s),
        ClusterDecision::New { .. } => i32::MAX,
    };
    Ok((decision, severity))
}

/// The reports that can possibly match `report` by place, as SQL on `r` (a superset of what
/// the domain's `relate` accepts with the default, empty adjacency): unplaced ones, the same
/// area, its ancestors and descendants, and points within the radius (by bounding box).
/// Without it every intake compared itself with every open report of the last two days.
/// If area adjacency is ever passed to `cluster`, neighbours must be added here.
fn candidate_places(report: &Report, area: Option<&AreaPath>, cfg: &DedupConfig, args: &mut Vec<Arg>) -> Vec<String> {
    let Some(path) = area else { return vec!["1 = 1".into()] };
    // Placeholders $1 and $2 are taken by the time window.
    let next = |args: &mut Vec<Arg>, v: String| {
        args.push(Arg::Text(v));
        format!("${}", args.len() + 2)
    };
    let mut same_or_above = Vec::new();
    for (i, ch) in path.0.char_indices() {
        if ch == '/' {
            same_or_above.push(next(args, path.0[..i].to_string()));
        }
    }
    same_or_above.push(next(args, path.0.clone()));
    let (lo, hi) = path.descendant_range();
    let (lo, hi) = (next(args, lo), next(args, hi));
    let mut places = vec![
        "r.area_path IS NULL".to_string(),
        format!("r.area_path IN ({})", same_or_above.join(", ")),
        format!("r.area_path >= {lo} AND r.area_path < {hi}"),
    ];
    if let Some((lat, lon)) = report.location.point {
        // Validated, finite coordinates, written as decimal literals (Rust never prints exponents).
        let dlat = cfg.radius_km / 110.0 + 0.01;
        let dlon = cfg.radius_km / (110.0 * lat.to_radians().cos().abs().max(0.01)) + 0.01;
        places.push(format!("r.lat BETWEEN {} AND {} AND r.lon BETWEEN {} AND {}", lat - dlat, lat + dlat, lon - dlon, lon + dlon));
    }
    places
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
    /// A category routed to the protected-cases workflow: readers also need `cases.read`
    /// (see `vigie_domain::early_warning::visibility`).
    pub protected: bool,
    #[serde(skip)]
    pub area_path: Option<String>,
}

impl ReportView {
    /// The report's place on the tree, for access checks.
    pub fn area(&self) -> Option<AreaPath> {
        self.area_path.clone().filter(|p| !p.is_empty()).map(AreaPath)
    }
}

/// Is a report protected? Flagged so at intake, or filed in a category marked protected
/// since (an admin tightening a category hides its older reports too).
macro_rules! protected_sql {
    () => {
        "(flags LIKE '%\"protected_case\"%' OR category_code IN (SELECT code FROM categories WHERE protected))"
    };
}
pub(crate) const PROTECTED_SQL: &str = protected_sql!();

pub(crate) const VIEW_COLS: &str = concat!(
    "id, reference, alert_id, received_at, occurred_at, category_code, severity, text, area_code, lat, lon, place_name, ",
    "reporter_kind, channel, language, flags, verification, grade, area_path, ",
    protected_sql!(),
    " AS protected"
);

pub async fn get(db: &Db, id: i64) -> StoreResult<ReportView> {
    let r: Option<ReportView> = run!(&db.read, c => sqlx::query_as(&format!("SELECT {VIEW_COLS} FROM reports WHERE id = $1")).bind(id).fetch_optional(c).await?);
    opened(db, r.ok_or(StoreError::NotFound)?)
}

/// The account that sent a report (web, API, ODK), if any.
pub async fn sender_user(db: &Db, id: i64) -> StoreResult<Option<i64>> {
    let r: Option<Option<i64>> = run!(&db.read, c => sqlx::query_scalar("SELECT reporter_user_id FROM reports WHERE id = $1").bind(id).fetch_optional(c).await?);
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
    /// Where protected reports may be listed too (`cases.read`); by default nowhere, so a
    /// caller that forgets is safe. Set from `ReportScope` by [`list_visible`].
    pub protected_areas: Vec<AreaPath>,
    pub protected_unplaced: bool,
}

/// Reports `scope` shows (the one visibility rule, `vigie_domain::early_warning::visibility`).
pub async fn list_visible(db: &Db, scope: &ReportScope, f: &ReportFilter, page: i64, per_page: i64) -> StoreResult<Page<ReportView>> {
    let f = ReportFilter { protected_areas: scope.protected_areas.clone(), protected_unplaced: scope.protected_unplaced, ..f.clone() };
    list(db, &scope.areas, scope.unplaced, &f, page, per_page).await
}

/// Reports inside `scope`; unplaced ones only for callers whose scope is the whole tree;
/// protected ones only inside `f.protected_areas`.
pub async fn list(db: &Db, scope: &[AreaPath], see_unplaced: bool, f: &ReportFilter, page: i64, per_page: i64) -> StoreResult<Page<ReportView>> {
    let mut args = Vec::new();
    let placed = scope_sql("area_path", scope, &mut args);
    let mut conds = vec![if see_unplaced { format!("({placed} OR area_path IS NULL)") } else { placed }];
    let protected_placed = scope_sql("area_path", &f.protected_areas, &mut args);
    let protected_ok = if f.protected_unplaced { format!("({protected_placed} OR area_path IS NULL)") } else { protected_placed };
    conds.push(format!("(NOT {PROTECTED_SQL} OR {protected_ok})"));
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
        // A sealed text (a protected report's) is not searched: its ciphertext could only match by chance.
        conds.push(format!("lower(text) LIKE ${} AND text NOT LIKE 'v1.%'", args.len()));
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
    let items = items.into_iter().map(|v| opened(db, v)).collect::<StoreResult<_>>()?;
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

/// Messages with the reporter are sealed, bound to their report (older clear rows are sealed
/// at start-up, see [`crate::rotation::seal_clear`], and read either way meanwhile).
pub(crate) fn message_context(report_id: i64) -> String {
    format!("report_messages.body:{report_id}")
}

pub async fn thread(db: &Db, report_id: i64) -> StoreResult<Vec<ThreadMessage>> {
    let rows: Vec<ThreadMessage> = run!(&db.read, c => sqlx::query_as("SELECT id, direction, body, author_id, at FROM report_messages WHERE report_id = $1 ORDER BY at, id").bind(report_id).fetch_all(c).await?);
    let keys = db.keys()?;
    rows.into_iter()
        .map(|mut m| {
            m.body = keys.open_text(&m.body, &message_context(report_id)).map_err(|e| StoreError::Other(format!("report message {}: {e}", m.id)))?;
            Ok(m)
        })
        .collect()
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
    let sealed = db.keys()?.seal(body.as_bytes(), &message_context(report_id));
    let mut tx = db.begin().await?;
    run_tx!(&mut tx, c => { sqlx::query("INSERT INTO report_messages (report_id, direction, body, author_id, at) VALUES ($1,'to_reporter',$2,$3,$4)")
        .bind(report_id).bind(&sealed).bind(actor.id).bind(now).execute(&mut **c).await?; });
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
pub async fn record_answer(tx: &mut Tx, db: &Db, report_id: i64, body: &str, now: DateTime<Utc>) -> StoreResult<()> {
    let sealed = db.keys()?.seal(body.as_bytes(), &message_context(report_id));
    run_tx!(tx, c => { sqlx::query("INSERT INTO report_messages (report_id, direction, body, at) VALUES ($1,'from_reporter',$2,$3)")
        .bind(report_id).bind(&sealed).bind(now).execute(&mut **c).await?; });
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

