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
use vigie_domain::early_warning::taxonomy::Severity;
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
    pub(crate) fn report(&self) -> &Report {
        &self.report
    }
}

pub(crate) async fn prepare(db: &Db, input: ReportInput, sender: Sender, actor: &Actor, now: DateTime<Utc>) -> StoreResult<Prepared> {
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

/// What every report of one commit group shares: read once per group, inside its transaction.
pub(crate) struct GroupContext {
    taxonomy: vigie_domain::early_warning::taxonomy::Taxonomy,
    /// Area path → the paths of the areas below it (a commune usually has none).
    descendants: std::sync::Arc<std::collections::HashMap<String, Vec<String>>>,
    webhooks: Vec<(i64, String, String)>,
    /// Enabled auto-raise rules as `(category or any, minimum severity)`.
    auto_raise: Vec<(Option<String>, i32)>,
}

impl GroupContext {
    pub(crate) async fn load(db: &Db, tx: &mut Tx) -> StoreResult<GroupContext> {
        let auto_raise = run_tx!(&mut *tx, c => sqlx::query_as(crate::auto_raise::ARMED_RULES).fetch_all(&mut **c).await?);
        Ok(GroupContext { taxonomy: crate::categories::taxonomy(db).await?, descendants: crate::areas::descendants(db).await?, webhooks: webhooks::active(tx).await?, auto_raise })
    }
}

/// Where one report of a group goes, decided before anything is written.
enum Placement {
    /// Its idempotency key is stored already (or taken earlier in this group): answer as then.
    Resent(IntakeOutcome),
    SameKeyAs(usize),
    /// Written now, into this event (none for protected reports); `opens` if it opened it.
    Fresh { event: Option<EventRef>, opens: bool },
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum EventRef {
    Stored(i64),
    /// The k-th event opened by this group (its alert is inserted with the group).
    Opened(usize),
}

/// Writes a commit group of prepared reports inside `tx`, in order, as if one after the other:
/// report n is grouped with the events that reports 1…n−1 joined or opened. Resends (a key
/// already stored, or twice in the group) are answered as the first time. Costs a handful of
/// statements for the whole group (grouping read, multi-row INSERTs of reports, audit entries,
/// counters and jobs) plus two per new event; an error fails the whole group (the writer then
/// retries it in halves, so one bad report gets its own error and the others are stored).
pub(crate) async fn store_group(tx: &mut Tx, ctx: &GroupContext, cache: &EventCache, group: &[&Prepared]) -> StoreResult<(Vec<IntakeOutcome>, CacheUpdate)> {
    // Resends: one read for the whole group.
    let stored = by_idempotency_keys_tx(tx, group.iter().map(|p| p.key())).await?;
    let mut first_of_key: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    let fresh: Vec<usize> = (0..group.len())
        .filter(|&i| !stored.contains_key(group[i].key().trim()) && *first_of_key.entry(group[i].key()).or_insert(i) == i)
        .collect();

    // Grouping, in memory, over the open events read once for the group.
    let mut pool = EventPool::load(tx, ctx, cache, fresh.iter().map(|&i| group[i]).filter(|p| !p.report.protected)).await?;
    let mut placements: Vec<Placement> = Vec::with_capacity(group.len());
    let mut opened: Vec<usize> = Vec::new(); // index in `group` of the report that opened each new event
    for (i, p) in group.iter().enumerate() {
        if let Some(done) = stored.get(p.key().trim()) {
            placements.push(Placement::Resent(done.clone()));
        } else if first_of_key[p.key()] != i {
            placements.push(Placement::SameKeyAs(first_of_key[p.key()]));
        } else if p.report.protected {
            placements.push(Placement::Fresh { event: None, opens: false });
        } else {
            let before = opened.len();
            let event = pool.place(i, p, &mut opened);
            placements.push(Placement::Fresh { event: Some(event), opens: opened.len() > before });
        }
    }

    // New events first (their alert ids go into the reports), then the reports.
    let mut opened_ids = Vec::with_capacity(opened.len());
    for &i in &opened {
        let p = group[i];
        opened_ids.push(alerts::open_for_report(tx, &p.report, p.area_path.as_ref(), p.now).await?);
    }
    let alert_of = |e: &Option<EventRef>| match e {
        None => None,
        Some(EventRef::Stored(id)) => Some(*id),
        Some(EventRef::Opened(k)) => Some(opened_ids[*k]),
    };
    let to_write: Vec<(&Prepared, Option<i64>)> =
        placements.iter().zip(group).filter_map(|(pl, p)| match pl { Placement::Fresh { event, .. } => Some((*p, alert_of(event))), _ => None }).collect();
    let ids = insert_reports(tx, &to_write).await?;

    // Everything that follows a stored report, batched.
    let counted: Vec<crate::counters::Counted> = to_write.iter().map(|(p, _)| crate::counters::Counted {
        area_path: p.area_path.as_ref().map(|a| a.0.clone()), received_at: p.now, category: p.report.category.as_str().to_string(), verified: false,
    }).collect();
    crate::counters::on_reports_created(tx, &counted).await?;
    let entries: Vec<audit::NewEntry> = to_write.iter().zip(&ids).map(|((p, alert_id), id)| audit::NewEntry {
        actor: &p.actor, action: "report.create", entity: "report", entity_id: id.to_string(),
        detail: serde_json::json!({
            "category": p.report.category.as_str(), "channel": enum_str(&p.report.channel), "area": p.report.location.area, "alert": alert_id, "flags": p.report.flags,
        }),
    }).collect();
    audit::append_many(tx, &entries).await?;
    let mut deliveries = Vec::new();
    let mut raises = Vec::new();
    for ((p, alert_id), id) in to_write.iter().zip(&ids) {
        let r = &p.report;
        deliveries.extend(webhooks::deliveries(&ctx.webhooks, "report.created", p.area_path.as_ref(), serde_json::json!({
            "id": id, "category": r.category.as_str(), "area": r.location.area, "alert_id": alert_id,
            "channel": enum_str(&r.channel), "received_at": p.now, "occurred_at": r.occurred_at,
        })));
        // Queued in the same transaction: the raise survives a crash right after the commit.
        if let (Some(alert_id), true) = (alert_id, crate::auto_raise::may_raise(&ctx.auto_raise, r)) {
            let payload = serde_json::json!({"alert_id": alert_id, "report_id": id}).to_string();
            raises.push((payload, Some(format!("{}:{id}", crate::auto_raise::QUEUE))));
        }
    }
    crate::jobs::enqueue_many(tx, webhooks::QUEUE, &deliveries).await?;
    crate::jobs::enqueue_many(tx, crate::auto_raise::QUEUE, &raises).await?;
    // A graver report raises its event's severity (a new event already has its opener's).
    for &(event, (severity, now)) in &pool.graver {
        let id = match event { EventRef::Stored(id) => id, EventRef::Opened(k) => opened_ids[k] };
        alerts::touch_after_report(tx, id, severity, now).await?;
    }

    // The answers, in the group's order.
    let mut written = to_write.iter().zip(&ids);
    let mut out: Vec<IntakeOutcome> = Vec::with_capacity(group.len());
    for (pl, p) in placements.iter().zip(group) {
        let o = match pl {
            Placement::Resent(o) => o.clone(),
            Placement::SameKeyAs(j) => IntakeOutcome { duplicate_submission: true, new_event: false, ..out[*j].clone() },
            Placement::Fresh { event, opens } => {
                let (_, id) = written.next().expect("one id per written report");
                IntakeOutcome {
                    report_id: *id,
                    reference: p.reference.clone(),
                    alert_id: alert_of(event),
                    duplicate_submission: false,
                    new_event: *opens,
                    flags: p.report.flags.clone(),
                    area_code: p.report.location.area.as_ref().map(|a| a.to_string()),
                }
            }
        };
        out.push(o);
    }
    let stand_in: std::collections::HashMap<i64, i64> = placements.iter().enumerate()
        .filter(|(_, pl)| matches!(pl, Placement::Fresh { event: Some(_), .. }))
        .map(|(i, _)| (-1 - i as i64, out[i].report_id))
        .collect();
    Ok((out, pool.into_update(&stand_in)))
}

/// Reports per INSERT statement (21 parameters each). Kept small: sqlx names every parameter
/// when binding, which SQLite answers by a linear scan, so a statement's cost grows with the
/// square of its parameters (3 % of the server's time at 400 rows, measured with perf).
const REPORTS_PER_INSERT: usize = 100;

/// Inserts the reports in order; returns their ids in the same order.
async fn insert_reports(tx: &mut Tx, rows: &[(&Prepared, Option<i64>)]) -> StoreResult<Vec<i64>> {
    let mut ids = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(REPORTS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO reports (idempotency_key, reference, alert_id, received_at, occurred_at, category_code, category_given, severity, text, \
             area_code, area_path, lat, lon, place_name, reporter_kind, reporter_user_id, reporter_contact, reporter_index, channel, language, flags) \
             VALUES {} RETURNING id",
            crate::placeholders(chunk.len(), 21)
        );
        let mut got: Vec<i64> = run_tx!(&mut *tx, c => {
            let mut q = sqlx::query_scalar(&sql);
            for (p, alert_id) in chunk {
                let (report, area_path) = (&p.report, &p.area_path);
                q = q.bind(report.idempotency_key.as_str()).bind(&p.reference).bind(*alert_id).bind(p.now).bind(report.occurred_at)
                    .bind(report.category.as_str()).bind(&report.category_given).bind(report.severity.level() as i32).bind(&p.text)
                    .bind(report.location.area.as_ref().map(|a| a.as_str().to_string())).bind(area_path.as_ref().map(|p| p.0.clone()))
                    .bind(report.location.point.map(|p| p.0)).bind(report.location.point.map(|p| p.1)).bind(&report.location.place_name)
                    .bind(enum_str(&report.reporter)).bind(p.user_id).bind(&p.contact).bind(&p.contact_index)
                    .bind(enum_str(&report.channel)).bind(report.language.as_str()).bind(serde_json::to_string(&report.flags).unwrap());
            }
            q.fetch_all(&mut **c).await?
        });
        // One statement numbers its rows in VALUES order on both backends (SQLite's rowid and a
        // PostgreSQL sequence both count up row by row), but RETURNING's order is not promised.
        got.sort_unstable();
        if got.len() != chunk.len() {
            return Err(StoreError::Other(format!("{} reports written, {} ids returned", chunk.len(), got.len())));
        }
        ids.extend(got);
    }
    Ok(ids)
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

/// A protected report's text as intake stores it (sealed), for writers outside intake (the
/// benchmark's generator), so their rows look like intake's.
pub fn sealed_text(db: &Db, reference: &str, text: &str) -> StoreResult<String> {
    Ok(db.keys()?.seal(text.as_bytes(), &text_context(reference)))
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

/// Look-ups by key go through `report_keys` first (PostgreSQL: the unpartitioned table of unique
/// keys; SQLite: a view of `reports`), then read the report by `(id, received_at)`, which
/// PostgreSQL prunes to the one month that holds it. Two steps, because the key is usually new:
/// the first, cheap to plan, then answers alone (a join would be planned over every month).
const KEY_OF: &str = "SELECT id, received_at FROM report_keys WHERE idempotency_key = $1";
const BY_ID_AT: &str = "SELECT id, reference, alert_id, flags, area_code FROM reports WHERE id = $1 AND received_at = $2";

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

pub(crate) async fn by_idempotency_key(db: &Db, key: &str) -> StoreResult<Option<IntakeOutcome>> {
    let Some((id, at)): Option<(i64, DateTime<Utc>)> = run!(&db.read, c => sqlx::query_as(KEY_OF).bind(key.trim()).fetch_optional(c).await?) else {
        return Ok(None);
    };
    let r: Option<KeyRow> = run!(&db.read, c => sqlx::query_as(BY_ID_AT).bind(id).bind(at).fetch_optional(c).await?);
    Ok(r.map(resent))
}

/// The stored outcome of each of these idempotency keys that is stored already (by trimmed key).
async fn by_idempotency_keys_tx<'a>(tx: &mut Tx, keys: impl Iterator<Item = &'a str>) -> StoreResult<std::collections::HashMap<String, IntakeOutcome>> {
    let keys: Vec<&str> = keys.map(str::trim).collect();
    let mut stored: Vec<(i64, DateTime<Utc>, String)> = Vec::new();
    for chunk in keys.chunks(500) {
        let sql = format!(
            "SELECT id, received_at, idempotency_key FROM report_keys WHERE idempotency_key IN ({})",
            (1..=chunk.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(",")
        );
        let rows: Vec<(i64, DateTime<Utc>, String)> = run_tx!(&mut *tx, c => {
            let mut q = sqlx::query_as(&sql);
            for k in chunk {
                q = q.bind(*k);
            }
            q.fetch_all(&mut **c).await?
        });
        stored.extend(rows);
    }
    // Resends are few: one pruned read each.
    let mut found = std::collections::HashMap::new();
    for (id, at, key) in stored {
        let row: KeyRow = run_tx!(&mut *tx, c => sqlx::query_as(BY_ID_AT).bind(id).bind(at).fetch_one(&mut **c).await?);
        found.insert(key, resent(row));
    }
    Ok(found)
}

/// What the web form showed its sender after submitting: the outcome for this idempotency key,
/// only to the account that sent it (the key alone is not enough).
pub async fn receipt(db: &Db, key: &str, user_id: i64) -> StoreResult<Option<IntakeOutcome>> {
    let r: Option<(i64, String, Option<i64>, String, Option<String>)> = run!(&db.write, c => sqlx::query_as(
        "SELECT r.id, r.reference, r.alert_id, r.flags, r.area_code FROM report_keys k JOIN reports r ON r.id = k.id AND r.received_at = k.received_at \
         WHERE k.idempotency_key = $1 AND r.reporter_user_id = $2"
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
pub async fn gazetteer(db: &Db) -> StoreResult<std::sync::Arc<Gazetteer>> {
    // Every SMS and every report named by place reads it: remembered ≤ 1 s (crate::memo),
    // forgotten at once when this process changes areas.
    if let Some(g) = db.memo.gazetteer.get(&db.memo, &()) {
        return Ok(g);
    }
    let generation = db.memo.generation();
    let rows: Vec<(String, String, String)> = run!(&db.read, c => sqlx::query_as("SELECT code, path, name FROM areas").fetch_all(c).await?);
    let entries = rows
        .into_iter()
        .filter_map(|(code, path, name)| Some(PlaceEntry { area: AreaCode::parse(&code).ok()?, path: AreaPath(path), name }))
        .collect();
    let g = std::sync::Arc::new(Gazetteer::new(entries, DEFAULT_ALIASES));
    db.memo.gazetteer.put(generation, (), g.clone());
    Ok(g)
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

/// The open events a commit group's reports may join, read once for the group, and the events
/// its reports open or join as they are placed one by one.
struct EventPool {
    events: Vec<Event>,
    /// Event position in `events` by event (a new one is `Opened`).
    by_ref: std::collections::HashMap<EventRef, usize>,
    refs: Vec<EventRef>,
    severity: Vec<i32>,
    /// Events by the area paths of their reports ("" for unplaced reports): the in-memory
    /// form of [`candidate_places`], so a report is compared only with events near it.
    by_area: std::collections::BTreeMap<String, std::collections::BTreeSet<usize>>,
    /// Events holding at least one report with a point.
    with_point: std::collections::BTreeSet<usize>,
    /// Events a graver report joined: the severity to raise them to, and when.
    graver: Vec<(EventRef, (Severity, DateTime<Utc>))>,
    /// The stored events read for the group, with `updated_at` and newest report as read.
    loaded: Vec<(i64, DateTime<Utc>, i64)>,
}

/// Most distinct place conditions in one grouping query (SQLite caps a compound SELECT at 500 terms).
const PLACES_PER_QUERY: usize = 100;

/// What the intake writer remembers of open events between commit groups: each event's latest
/// reports as the domain compares them, valid while the event's `updated_at` and newest report
/// are the ones seen. Anything else that changes an event (a merge, a split, a verification,
/// another node's intake) changes one of the two, and the event is read again.
#[derive(Default)]
pub(crate) struct EventCache {
    events: std::collections::HashMap<i64, CachedEvent>,
}

struct CachedEvent {
    updated_at: DateTime<Utc>,
    latest: i64,
    reports: Vec<ReportSignal>,
}

/// Most events remembered: past it the cache starts again empty (it only saves reads).
const CACHED_EVENTS: usize = 100_000;

/// What a committed group changes in the [`EventCache`].
pub(crate) struct CacheUpdate {
    keep: Vec<(i64, CachedEvent)>,
    forget: Vec<i64>,
}

impl EventCache {
    /// Applies a group's changes, once its transaction is committed (never before: a group
    /// rolled back must leave no trace here either).
    pub(crate) fn apply(&mut self, u: CacheUpdate) {
        if self.events.len() > CACHED_EVENTS {
            self.events.clear();
        }
        for id in u.forget {
            self.events.remove(&id);
        }
        self.events.extend(u.keep);
    }
}

impl EventPool {
    async fn load<'a>(tx: &mut Tx, ctx: &GroupContext, cache: &EventCache, reports: impl Iterator<Item = &'a Prepared>) -> StoreResult<EventPool> {
        let mut pool = EventPool {
            events: Vec::new(),
            by_ref: Default::default(),
            refs: Vec::new(),
            severity: Vec::new(),
            by_area: Default::default(),
            with_point: Default::default(),
            graver: Vec::new(),
            loaded: Vec::new(),
        };
        let cfg = DedupConfig::default();
        // The group's time windows, merged where they overlap; one read per window (usually one).
        let mut windows: Vec<(DateTime<Utc>, DateTime<Utc>, Vec<&Prepared>)> = Vec::new();
        let mut sorted: Vec<&Prepared> = reports.collect();
        sorted.sort_by_key(|p| p.report.occurred_at);
        for p in sorted {
            // Widened by the clock skew intake accepts, so that `received_at >= since` holds for
            // every stored report with `occurred_at >= since` (received_at ≥ occurred_at − skew):
            // the read below bounds both, which on PostgreSQL prunes it to the recent months.
            let skew = ReportPolicy::default().clock_skew;
            let (since, until) = (p.report.occurred_at - cfg.window - Duration::hours(1) - skew, p.report.occurred_at + cfg.window + Duration::hours(1));
            match windows.last_mut() {
                Some(w) if since <= w.1 => {
                    w.1 = w.1.max(until);
                    w.2.push(p);
                }
                _ => windows.push((since, until, vec![p])),
            }
        }
        // 1. The open events near the group's reports, each with what tells whether it changed.
        let mut near: std::collections::BTreeMap<i64, (i32, DateTime<Utc>, i64)> = Default::default();
        for (since, until, members) in windows {
            let mut places: Vec<(Option<AreaPath>, Option<(u64, u64)>, &Report)> = Vec::new();
            for p in members {
                let key = (p.area_path.clone(), p.report.location.point.map(|(a, b)| (a.to_bits(), b.to_bits())));
                if !places.iter().any(|(a, pt, _)| (a, pt) == (&key.0, &key.1)) {
                    places.push((key.0, key.1, &p.report));
                }
            }
            for chunk in places.chunks(PLACES_PER_QUERY) {
                let mut args = Vec::new();
                let mut conditions: Vec<String> = Vec::new();
                for (area, _, report) in chunk {
                    for c in candidate_places(report, area.as_ref(), &ctx.descendants, &cfg, &mut args) {
                        if !conditions.contains(&c) {
                            conditions.push(c);
                        }
                    }
                }
                // Read from the (place, time, event) index alone.
                let select = "SELECT r.alert_id FROM reports r WHERE r.occurred_at >= $1 AND r.occurred_at <= $2 AND r.received_at >= $1 AND ";
                let candidates = conditions.iter().map(|c| format!("{select}{c}")).collect::<Vec<_>>().join(" UNION ");
                let sql = format!(
                    "SELECT e.id, e.severity, e.updated_at, (SELECT MAX(r2.id) FROM reports r2 WHERE r2.alert_id = e.id) AS latest \
                     FROM alerts e WHERE e.closed_at IS NULL AND e.id IN ({candidates})"
                );
                let rows: Vec<(i64, i32, DateTime<Utc>, Option<i64>)> =
                    run_tx!(&mut *tx, c => bind_args!(sqlx::query_as(&sql).bind(since).bind(until), &args).fetch_all(&mut **c).await?);
                for (id, severity, updated_at, latest) in rows {
                    if let Some(latest) = latest {
                        near.insert(id, (severity, updated_at, latest));
                    }
                }
            }
        }
        // 2. The latest reports of the events not remembered as they are now.
        let stale: Vec<i64> = near.iter()
            .filter(|(id, (_, updated_at, latest))| cache.events.get(id).is_none_or(|c| c.updated_at != *updated_at || c.latest != *latest))
            .map(|(id, _)| *id)
            .collect();
        let mut read: std::collections::HashMap<i64, Vec<ReportSignal>> = Default::default();
        for chunk in stale.chunks(500) {
            let sql = format!(
                "SELECT r.id, r.alert_id, r.category_code, r.area_path, r.lat, r.lon, r.occurred_at, r.text FROM reports r \
                 WHERE r.alert_id IN ({}) AND r.id >= COALESCE((SELECT r3.id FROM reports r3 WHERE r3.alert_id = r.alert_id ORDER BY r3.id DESC LIMIT 1 OFFSET {}), 0) \
                 ORDER BY r.alert_id, r.id",
                chunk.iter().map(|id| id.to_string()).collect::<Vec<_>>().join(","),
                COMPARED_PER_EVENT - 1
            );
            let rows: Vec<SignalRow> = run_tx!(&mut *tx, c => sqlx::query_as(&sql).fetch_all(&mut **c).await?);
            for r in rows {
                let alert_id = r.alert_id;
                if let Some(s) = r.signal(&ctx.taxonomy) {
                    read.entry(alert_id).or_default().push(s);
                }
            }
        }
        for (id, (severity, updated_at, latest)) in near {
            let reports = match read.remove(&id) {
                Some(r) => r,
                None if stale.contains(&id) => Vec::new(),
                None => cache.events[&id].reports.clone(),
            };
            pool.loaded.push((id, updated_at, latest));
            pool.add_event(EventRef::Stored(id), severity, reports);
        }
        Ok(pool)
    }

    /// What the group leaves in the cache once committed: events it only read or joined are
    /// remembered with their reports (group reports under their real ids); events it opened or
    /// made graver changed `updated_at` in a way only the database knows, so they are forgotten.
    fn into_update(self, stand_in: &std::collections::HashMap<i64, i64>) -> CacheUpdate {
        let mut u = CacheUpdate { keep: Vec::new(), forget: Vec::new() };
        let graver: Vec<EventRef> = self.graver.iter().map(|(r, _)| *r).collect();
        for (id, updated_at, _) in self.loaded {
            let at = self.by_ref[&EventRef::Stored(id)];
            if graver.contains(&EventRef::Stored(id)) {
                u.forget.push(id);
                continue;
            }
            let mut reports = self.events[at].reports.clone();
            for r in &mut reports {
                if r.report_id < 0 {
                    r.report_id = stand_in[&r.report_id];
                }
            }
            let latest = reports.iter().map(|r| r.report_id).max().unwrap_or(0);
            u.keep.push((id, CachedEvent { updated_at, latest, reports }));
        }
        u
    }

    fn add_event(&mut self, r: EventRef, severity: i32, reports: Vec<ReportSignal>) -> usize {
        let at = self.events.len();
        let id = match r {
            EventRef::Stored(id) => id,
            // After every stored event, in opening order: the domain breaks ties by id, older first.
            EventRef::Opened(k) => i64::MAX / 2 + k as i64,
        };
        self.events.push(Event { id, reports: Vec::new() });
        self.by_ref.insert(r, at);
        self.refs.push(r);
        self.severity.push(severity);
        for s in reports {
            self.add_signal(at, s);
        }
        at
    }

    fn add_signal(&mut self, at: usize, s: ReportSignal) {
        self.by_area.entry(s.area.as_ref().map(|a| a.0.clone()).unwrap_or_default()).or_default().insert(at);
        if s.point.is_some() {
            self.with_point.insert(at);
        }
        let reports = &mut self.events[at].reports;
        reports.push(s);
        if reports.len() > COMPARED_PER_EVENT {
            reports.remove(0);
        }
    }

    /// The events that may hold a report near `area`/`point` (same, ancestor, descendant,
    /// unplaced; any event with a point when the report has one: the domain measures the distance).
    fn near(&self, area: Option<&AreaPath>, point: bool) -> Vec<usize> {
        let Some(path) = area else { return (0..self.events.len()).collect() };
        let mut out = std::collections::BTreeSet::new();
        let mut take = |k: &str| {
            if let Some(set) = self.by_area.get(k) {
                out.extend(set.iter().copied());
            }
        };
        take("");
        for (i, ch) in path.0.char_indices() {
            if ch == '/' {
                take(&path.0[..i]);
            }
        }
        take(&path.0);
        let (lo, hi) = path.descendant_range();
        for (_, set) in self.by_area.range(lo..hi) {
            out.extend(set.iter().copied());
        }
        if point {
            out.extend(self.with_point.iter().copied());
        }
        out.into_iter().collect()
    }

    /// Places report `i` of the group (`p`): joins the best event near it or opens a new one.
    fn place(&mut self, i: usize, p: &Prepared, opened: &mut Vec<usize>) -> EventRef {
        let cfg = DedupConfig::default();
        // Report ids of this group are not known yet: a negative stand-in, unique in the group.
        let me = ReportSignal::from_report(-1 - i as i64, &p.report, p.area_path.clone());
        let near = self.near(p.area_path.as_ref(), p.report.location.point.is_some());
        let decision = cluster(&me, near.iter().map(|&at| &self.events[at]), &Adjacency::default(), &cfg);
        let severity = p.report.severity.level() as i32;
        match decision {
            ClusterDecision::Existing { event_id, .. } => {
                let at = self.events.iter().position(|e| e.id == event_id).expect("the domain picks one of the events it was given");
                self.add_signal(at, me);
                if severity > self.severity[at] {
                    self.severity[at] = severity;
                    let r = self.refs[at];
                    match self.graver.iter_mut().find(|(e, _)| *e == r) {
                        Some(g) => g.1 = (p.report.severity, p.now),
                        None => self.graver.push((r, (p.report.severity, p.now))),
                    }
                }
                self.refs[at]
            }
            ClusterDecision::New { .. } => {
                let r = EventRef::Opened(opened.len());
                opened.push(i);
                self.add_event(r, severity, vec![me]);
                r
            }
        }
    }
}

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

impl SignalRow {
    fn signal(self, taxonomy: &vigie_domain::early_warning::taxonomy::Taxonomy) -> Option<ReportSignal> {
        let category = vigie_domain::early_warning::taxonomy::CategoryCode::parse(&self.category_code).ok()?;
        Some(ReportSignal {
            report_id: self.id,
            family: taxonomy.family(&category),
            category,
            area: self.area_path.map(AreaPath),
            point: self.lat.zip(self.lon),
            occurred_at: self.occurred_at,
            text: self.text,
        })
    }
}

/// The reports that can possibly match `report` by place, as SQL on `r` (a superset of what
/// the domain's `relate` accepts with the default, empty adjacency): unplaced ones, the same
/// area, its ancestors and descendants, and points within the radius (by bounding box).
/// Without it every intake compared itself with every open report of the last two days.
/// If area adjacency is ever passed to `cluster`, neighbours must be added here.
/// Most areas below a place named one by one in the grouping read (beyond it, a range).
const DESCENDANTS_BY_NAME: usize = 128;

fn candidate_places(report: &Report, area: Option<&AreaPath>, descendants: &std::collections::HashMap<String, Vec<String>>, cfg: &DedupConfig, args: &mut Vec<Arg>) -> Vec<String> {
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
    let mut places = vec!["r.area_path IS NULL".to_string(), format!("r.area_path IN ({})", same_or_above.join(", "))];
    // The areas below it, named one by one: a range `path/ ≤ area_path < path0` makes the SQLite
    // sqlx bundles skip-scan the (place, time, event) index over every distinct place (measured
    // at 1 M reports: 6.5 ms per place, most of a report's cost), even for a commune with nothing
    // below. A region or the country (many areas below) keeps the range.
    match descendants.get(&path.0) {
        None => {}
        Some(below) if below.len() <= DESCENDANTS_BY_NAME => {
            let names: Vec<String> = below.iter().map(|d| next(args, d.clone())).collect();
            places.push(format!("r.area_path IN ({})", names.join(", ")));
        }
        Some(_) => {
            let (lo, hi) = path.descendant_range();
            let (lo, hi) = (next(args, lo), next(args, hi));
            places.push(format!("r.area_path >= {lo} AND r.area_path < {hi}"));
        }
    }
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
    Ok(run!(&db.read, c => sqlx::query_as(
        "SELECT r.id, r.alert_id FROM report_keys k JOIN reports r ON r.id = k.id AND r.received_at = k.received_at \
         WHERE k.reference = $1 AND r.reporter_index = $2")
        .bind(reference).bind(index).fetch_optional(c).await?))
}

