//! Protected cases (denunciations, violations, inspections, monitoring findings): storage of
//! the workflows of `vigie_domain::cases`.
//!
//! Confidentiality, in layers:
//! - identity fields (what [`IdentityPolicy`] marks, unknown fields included), message bodies
//!   and evidence are encrypted (XChaCha20-Poly1305) with a fresh random **data key per case**;
//!   that key is stored only wrapped by the keyring, which lives outside the database. A dump
//!   or a backup alone names nobody, and one case's key opens nothing else;
//! - the receipt code is stored as an HMAC whose key is derived from the keyring, so a dump
//!   does not even allow offline guessing;
//! - every decryption for a person (a handler reading identities, messages or evidence, a
//!   receipt holder reading their thread) writes an audit entry in the same transaction, and
//!   is only done for handlers assigned to the case and not excluded from it (checked here
//!   too, not only at the HTTP layer);
//! - failed receipt lookups and public submissions are counted per source under a blind index
//!   of the source (never an address), pruned after a day.
//!
//! The domain decides every state change ([`transition`]); nothing here moves a case otherwise.

use crate::audit::{self, Actor};
use crate::crypto::{new_data_key, open_with, seal_with};
use crate::{bind_args, run, run_tx, scope_sql, Arg, Db, Page, StoreError, StoreResult, Tx};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::sync::OnceLock;
use vigie_domain::area::{AreaCode, AreaPath};
use vigie_domain::cases::{
    builtin_workflows, open_case, provided_fields, CaseError, CaseMsg, CountRow, IdentityPolicy, Label, LockoutDecision, LockoutPolicy,
    LockoutState, ReceiptCode, ReceiptHash, ReceiptKey, WorkflowDef,
};
use vigie_domain::{Invalid, Msg};

/// Longest text value of one field, and of all fields of a case together (JSON).
pub const MAX_FIELD_CHARS: usize = 20_000;
pub const MAX_FIELDS_BYTES: usize = 100_000;
pub const MAX_MESSAGE_CHARS: usize = 4_000;
/// Evidence: at most this many bytes per file (the JSON body carries it in base64, under the
/// server's body limit), and this many files per case.
pub const MAX_EVIDENCE_BYTES: u64 = 1024 * 1024;
pub const MAX_EVIDENCE_PER_CASE: usize = 20;
/// Lockout and rate-limit rows are forgotten this long after their last use.
pub const FAILURE_RETENTION_HOURS: i64 = 24;

/// The workflows cases may follow (the four shipped ones).
pub fn workflows() -> &'static [WorkflowDef] {
    static WF: OnceLock<Vec<WorkflowDef>> = OnceLock::new();
    WF.get_or_init(builtin_workflows)
}

pub fn workflow(key: &str) -> Option<&'static WorkflowDef> {
    workflows().iter().find(|w| w.key() == key)
}

fn workflow_of(key: &str) -> StoreResult<&'static WorkflowDef> {
    workflow(key).ok_or_else(|| StoreError::Other(format!("case of unknown workflow {key}")))
}

fn case_err(def: &WorkflowDef, field: &str, e: CaseError) -> StoreError {
    Invalid::new(field, Msg::from(e.msg(def))).into()
}

fn crypto_err(e: crate::crypto::CryptoError) -> StoreError {
    StoreError::Other(format!("case decryption: {e}"))
}

/// The receipt key: derived from the key file, never stored.
fn receipt_key(db: &Db) -> StoreResult<ReceiptKey> {
    ReceiptKey::new(&db.keys()?.subkey("cases.receipt.v1")).map_err(|m| StoreError::Other(format!("{m:?}")))
}

fn new_receipt() -> StoreResult<ReceiptCode> {
    let mut random = [0u8; 64];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut random);
    ReceiptCode::generate(&random).map_err(|m| StoreError::Other(format!("{m:?}")))
}

// Contexts bind each sealed value to its case (the receipt hash is unique and never changes).
fn ctx_key(rh: &str) -> String {
    format!("cases.data_key:{rh}")
}
fn ctx_identity(rh: &str) -> String {
    format!("cases.identity:{rh}")
}
fn ctx_message(rh: &str) -> String {
    format!("cases.message:{rh}")
}
fn ctx_evidence(rh: &str, part: &str) -> String {
    format!("cases.evidence.{part}:{rh}")
}

/// Checks submitted field values against the workflow: known keys only, plain values, bounded.
fn check_fields(def: &WorkflowDef, fields: &Map<String, Value>) -> StoreResult<()> {
    for (k, v) in fields {
        if def.field(k).is_none() {
            return Err(Invalid::new(format!("fields.{k}"), Msg::InvalidJson { reason: format!("unknown field `{k}` for {}", def.key()) }).into());
        }
        let ok = match v {
            Value::Null | Value::Bool(_) | Value::Number(_) => true,
            Value::String(s) => s.chars().count() <= MAX_FIELD_CHARS,
            Value::Array(a) => a.len() <= 200 && a.iter().all(|x| x.as_str().is_some_and(|s| s.chars().count() <= MAX_FIELD_CHARS)),
            Value::Object(_) => false,
        };
        if !ok {
            return Err(Invalid::new(format!("fields.{k}"), Msg::TooLong { max: MAX_FIELD_CHARS }).into());
        }
    }
    if serde_json::to_string(fields).map_or(0, |s| s.len()) > MAX_FIELDS_BYTES {
        return Err(Invalid::new("fields", Msg::TooLong { max: MAX_FIELDS_BYTES }).into());
    }
    Ok(())
}

fn check_title(title: &str) -> StoreResult<String> {
    let t = title.trim();
    if t.is_empty() {
        return Err(Invalid::new("title", Msg::Required).into());
    }
    if t.chars().count() > 200 || t.chars().any(char::is_control) {
        return Err(Invalid::new("title", Msg::TooLong { max: 200 }).into());
    }
    Ok(t.to_string())
}

pub struct NewCase {
    pub workflow: String,
    pub area: AreaCode,
    pub desk_org_id: Option<i64>,
    /// Non-identifying: shown in lists and exports to every handler in scope.
    pub title: String,
    pub fields: Map<String, Value>,
    pub report_id: Option<i64>,
}

/// A new case and its receipt code, which is shown once and never stored.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Opened {
    pub id: i64,
    /// 28 digits in groups of 4. Shown once: Vigie keeps only a keyed hash of it.
    pub receipt: String,
    pub state: String,
    pub deadline: Option<DateTime<Utc>>,
}

/// Opens a case in its workflow's initial state.
pub async fn create(db: &Db, new: NewCase, created_by: Option<i64>, actor: &Actor, now: DateTime<Utc>) -> StoreResult<Opened> {
    let def = workflow(&new.workflow).ok_or_else(|| Invalid::new("workflow", Msg::InvalidName))?;
    let title = check_title(&new.title)?;
    check_fields(def, &new.fields)?;
    let path = crate::areas::path_of(db, &new.area, "area_code").await?;
    if let Some(org) = new.desk_org_id {
        crate::orgs::get(db, org).await.map_err(|e| match e {
            StoreError::NotFound => Invalid::new("desk_org_id", Msg::UnknownOrganisation).into(),
            e => e,
        })?;
    }
    let provided = provided_fields(&new.fields);
    let opened = open_case(def, &provided, now).map_err(|e| case_err(def, "fields", e))?;
    let (clear, secret) = IdentityPolicy::for_workflow(def).split(&new.fields);
    let identity_keys: Vec<&String> = secret.keys().filter(|k| provided.contains(*k)).collect();

    let keys = db.keys()?;
    let code = new_receipt()?;
    let rh = code.hash(&receipt_key(db)?).to_hex();
    let dk = new_data_key();
    let wrapped = keys.wrap_key(&dk, &ctx_key(&rh));
    let sealed = seal_with(&dk, serde_json::to_string(&secret).unwrap().as_bytes(), &ctx_identity(&rh));

    let mut tx = db.begin().await?;
    let id: i64 = run_tx!(&mut tx, c => sqlx::query_scalar(
        "INSERT INTO cases (workflow, state, desk_org_id, area_code, area_path, title, fields, identity_keys, sealed_fields, data_key, receipt_hash, \
         deadline, opened_at, updated_at, publishable, report_id, created_by) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$13,$14,$15,$16) RETURNING id"
    )
    .bind(def.key()).bind(&opened.to).bind(new.desk_org_id).bind(new.area.as_str()).bind(&path.0).bind(&title)
    .bind(serde_json::to_string(&clear).unwrap()).bind(serde_json::to_string(&identity_keys).unwrap()).bind(&sealed).bind(&wrapped).bind(&rh)
    .bind(opened.deadline).bind(now).bind(opened.public && opened.terminal).bind(new.report_id).bind(created_by)
    .fetch_one(&mut **c).await?);
    run_tx!(&mut tx, c => { sqlx::query("INSERT INTO case_transitions (case_id, from_state, to_state, actor_id, at, deadline) VALUES ($1, NULL, $2, $3, $4, $5)")
        .bind(id).bind(&opened.to).bind(actor.id).bind(now).bind(opened.deadline).execute(&mut **c).await?; });
    audit::append(&mut tx, actor, "case.open", "case", &id.to_string(), serde_json::json!({
        "workflow": def.key(), "state": opened.to, "area": new.area, "desk": new.desk_org_id, "report": new.report_id,
        "fields": new.fields.keys().collect::<Vec<_>>(),
    })).await?;
    tx.commit().await?;
    Ok(Opened { id, receipt: code.grouped(), state: opened.to, deadline: opened.deadline })
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    workflow: String,
    state: String,
    desk_org_id: Option<i64>,
    referred_to: Option<String>,
    area_code: String,
    area_path: String,
    title: String,
    fields: String,
    identity_keys: String,
    sealed_fields: Option<Vec<u8>>,
    data_key: String,
    receipt_hash: String,
    deadline: Option<DateTime<Utc>>,
    opened_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    closed_at: Option<DateTime<Utc>>,
    publishable: bool,
    published_outcome: Option<String>,
    published_at: Option<DateTime<Utc>>,
    report_id: Option<i64>,
}

const COLS: &str = "id, workflow, state, desk_org_id, referred_to, area_code, area_path, title, fields, identity_keys, sealed_fields, data_key, \
                    receipt_hash, deadline, opened_at, updated_at, closed_at, publishable, published_outcome, published_at, report_id";

impl Row {
    fn clear(&self) -> Map<String, Value> {
        serde_json::from_str(&self.fields).unwrap_or_default()
    }
    fn identity_keys(&self) -> BTreeSet<String> {
        serde_json::from_str(&self.identity_keys).unwrap_or_default()
    }
    fn data_key(&self, db: &Db) -> StoreResult<[u8; 32]> {
        db.keys()?.unwrap_key(&self.data_key, &ctx_key(&self.receipt_hash)).map_err(crypto_err)
    }
    fn secret(&self, dk: &[u8; 32]) -> StoreResult<Map<String, Value>> {
        match &self.sealed_fields {
            None => Ok(Map::new()),
            Some(b) => {
                let plain = open_with(dk, b, &ctx_identity(&self.receipt_hash)).map_err(crypto_err)?;
                serde_json::from_slice(&plain).map_err(|e| StoreError::Other(e.to_string()))
            }
        }
    }
    /// The fields with identity values replaced by the redaction mark (present ones only).
    fn redacted_fields(&self, def: &WorkflowDef) -> Map<String, Value> {
        let mut all = self.clear();
        for k in self.identity_keys() {
            all.insert(k, Value::Bool(true));
        }
        IdentityPolicy::for_workflow(def).redact(&all, &BTreeSet::new())
    }
    fn view(self, def: &WorkflowDef, fields: Map<String, Value>, identity_visible: bool, assigned: Vec<i64>, now: DateTime<Utc>) -> CaseView {
        let st = def.state(&self.state);
        CaseView {
            id: self.id,
            workflow: self.workflow,
            state_label: st.map(|s| s.label.clone().into()).unwrap_or_else(|| LabelView { fr: self.state.clone(), en: self.state.clone() }),
            state: self.state,
            desk_org_id: self.desk_org_id,
            referred_to: self.referred_to,
            area_code: self.area_code,
            title: self.title,
            fields,
            identity_visible,
            overdue: self.closed_at.is_none() && vigie_domain::cases::is_overdue(self.deadline, now),
            deadline: self.deadline,
            opened_at: self.opened_at,
            updated_at: self.updated_at,
            closed_at: self.closed_at,
            publishable: self.publishable,
            published_outcome: self.published_outcome,
            published_at: self.published_at,
            report_id: self.report_id,
            assigned_user_ids: assigned,
            area_path: self.area_path,
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LabelView {
    pub fr: String,
    pub en: String,
}

impl From<Label> for LabelView {
    fn from(l: Label) -> Self {
        LabelView { fr: l.fr, en: l.en }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseView {
    pub id: i64,
    pub workflow: String,
    pub state: String,
    pub state_label: LabelView,
    /// The desk (organisation) handling the case; none: the triage queue of the area.
    pub desk_org_id: Option<i64>,
    /// An institution outside Vigie the case was referred to.
    pub referred_to: Option<String>,
    pub area_code: String,
    pub title: String,
    /// The case's fields. Identity fields hold "[protégé]" unless `identity_visible`.
    #[schema(value_type = Object)]
    pub fields: Map<String, Value>,
    /// True only for handlers assigned to the case and not excluded from it.
    pub identity_visible: bool,
    pub deadline: Option<DateTime<Utc>>,
    pub overdue: bool,
    pub opened_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    /// In a public closing state: its outcome may be published.
    pub publishable: bool,
    pub published_outcome: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
    /// The early-warning report the case was opened from.
    pub report_id: Option<i64>,
    pub assigned_user_ids: Vec<i64>,
    #[serde(skip)]
    pub area_path: String,
}

async fn load(db: &Db, id: i64) -> StoreResult<Row> {
    let r: Option<Row> = run!(&db.write, c => sqlx::query_as(&format!("SELECT {COLS} FROM cases WHERE id = $1")).bind(id).fetch_optional(c).await?);
    r.ok_or(StoreError::NotFound)
}

/// What access checks need to know about a case, nothing confidential.
#[derive(Debug, Clone)]
pub struct CaseHead {
    pub id: i64,
    pub workflow: String,
    pub state: String,
    pub area_path: AreaPath,
    pub desk_org_id: Option<i64>,
}

pub async fn head(db: &Db, id: i64) -> StoreResult<CaseHead> {
    let r: Option<(i64, String, String, String, Option<i64>)> = run!(&db.read, c => sqlx::query_as(
        "SELECT id, workflow, state, area_path, desk_org_id FROM cases WHERE id = $1").bind(id).fetch_optional(c).await?);
    let (id, workflow, state, path, desk_org_id) = r.ok_or(StoreError::NotFound)?;
    Ok(CaseHead { id, workflow, state, area_path: AreaPath(path), desk_org_id })
}

/// A user's relation to a case.
#[derive(Debug, Clone, Copy, Default)]
pub struct Relation {
    pub assigned: bool,
    pub excluded: bool,
}

impl Relation {
    /// May this user read the case's identity fields, messages and evidence?
    pub fn may_reveal(self) -> bool {
        self.assigned && !self.excluded
    }
}

pub async fn relation(db: &Db, case_id: i64, user_id: i64) -> StoreResult<Relation> {
    let (a, e): (i64, i64) = run!(&db.write, c => sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM case_assignments WHERE case_id = $1 AND user_id = $2), (SELECT COUNT(*) FROM case_exclusions WHERE case_id = $1 AND user_id = $2)"
    ).bind(case_id).bind(user_id).fetch_one(c).await?);
    Ok(Relation { assigned: a > 0, excluded: e > 0 })
}

pub async fn user_org(db: &Db, user_id: i64) -> StoreResult<Option<i64>> {
    let r: Option<Option<i64>> = run!(&db.read, c => sqlx::query_scalar("SELECT org_id FROM users WHERE id = $1").bind(user_id).fetch_optional(c).await?);
    Ok(r.flatten())
}

async fn assigned_ids(db: &Db, case_id: i64) -> StoreResult<Vec<i64>> {
    Ok(run!(&db.write, c => sqlx::query_scalar("SELECT user_id FROM case_assignments WHERE case_id = $1 ORDER BY user_id").bind(case_id).fetch_all(c).await?))
}

fn forbidden(field: &str) -> StoreError {
    Invalid::new(field, Msg::Forbidden).into()
}

/// One case as `viewer` may see it: identities decrypted (and the reading audited) only for a
/// handler assigned to it and not excluded; redacted for everyone else.
pub async fn view(db: &Db, id: i64, viewer: &Actor, now: DateTime<Utc>) -> StoreResult<CaseView> {
    let row = load(db, id).await?;
    let def = workflow_of(&row.workflow)?;
    let rel = match viewer.id {
        Some(u) => relation(db, id, u).await?,
        None => Relation::default(),
    };
    let assigned = assigned_ids(db, id).await?;
    if !rel.may_reveal() {
        let fields = row.redacted_fields(def);
        return Ok(row.view(def, fields, false, assigned, now));
    }
    let dk = row.data_key(db)?;
    let mut fields = row.clear();
    let secret = row.secret(&dk)?;
    let mut tx = db.begin().await?;
    audit::append(&mut tx, viewer, "case.identity_read", "case", &id.to_string(), serde_json::json!({"fields": secret.keys().collect::<Vec<_>>()})).await?;
    tx.commit().await?;
    fields.extend(secret);
    Ok(row.view(def, fields, true, assigned, now))
}

#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    pub workflow: Option<String>,
    pub state: Option<String>,
    pub overdue: bool,
    pub open_only: bool,
}

/// Who is listing: cases of other desks and cases they are excluded from are left out.
pub struct Lister {
    pub user_id: i64,
    pub org_id: Option<i64>,
    /// Holds `cases.read` over the whole tree: sees every desk.
    pub all_desks: bool,
}

/// Cases in `scope`, newest first, identities always redacted.
pub async fn list(db: &Db, scope: &[AreaPath], who: &Lister, f: &CaseFilter, page: i64, per_page: i64, now: DateTime<Utc>) -> StoreResult<Page<CaseView>> {
    let mut args = Vec::new();
    let mut conds = vec![scope_sql("area_path", scope, &mut args)];
    args.push(Arg::Int(who.user_id));
    conds.push(format!("id NOT IN (SELECT case_id FROM case_exclusions WHERE user_id = ${})", args.len()));
    if !who.all_desks {
        match who.org_id {
            Some(o) => {
                args.push(Arg::Int(o));
                conds.push(format!("(desk_org_id IS NULL OR desk_org_id = ${})", args.len()));
            }
            None => conds.push("desk_org_id IS NULL".into()),
        }
    }
    for (col, v) in [("workflow", &f.workflow), ("state", &f.state)] {
        if let Some(v) = v {
            args.push(Arg::Text(v.clone()));
            conds.push(format!("{col} = ${}", args.len()));
        }
    }
    if f.open_only || f.overdue {
        conds.push("closed_at IS NULL".into());
    }
    let mut time_cond = String::new();
    if f.overdue {
        time_cond = format!(" AND deadline IS NOT NULL AND deadline < ${}", args.len() + 1);
    }
    let wher = conds.join(" AND ");
    let count_sql = format!("SELECT COUNT(*) FROM cases WHERE {wher}{time_cond}");
    let sql = format!("SELECT {COLS} FROM cases WHERE {wher}{time_cond} ORDER BY opened_at DESC, id DESC LIMIT {per_page} OFFSET {}", (page - 1) * per_page);
    let total: i64 = run!(&db.read, c => {
        let mut q = bind_args!(sqlx::query_scalar(&count_sql), &args);
        if f.overdue { q = q.bind(now); }
        q.fetch_one(c).await?
    });
    let rows: Vec<Row> = run!(&db.read, c => {
        let mut q = bind_args!(sqlx::query_as(&sql), &args);
        if f.overdue { q = q.bind(now); }
        q.fetch_all(c).await?
    });
    let mut items = Vec::with_capacity(rows.len());
    for r in rows {
        let def = workflow_of(&r.workflow)?;
        let fields = r.redacted_fields(def);
        let assigned = assigned_ids(db, r.id).await?;
        items.push(r.view(def, fields, false, assigned, now));
    }
    Ok(Page { items, total, page, per_page })
}

/// Who moves a case: the user, and what their grants over the case's area allow.
pub struct Mover<'a> {
    pub actor: &'a Actor,
    pub user_id: i64,
    pub rights: vigie_domain::cases::Actor,
}

/// Moves a case to `to`, first filling `update` (as the domain requires the fields of the
/// state being entered). Identity fields may only be written by an assigned handler.
pub async fn transition(db: &Db, id: i64, to: &str, update: Map<String, Value>, who: &Mover<'_>, now: DateTime<Utc>) -> StoreResult<CaseView> {
    let row = load(db, id).await?;
    let def = workflow_of(&row.workflow)?;
    let rel = relation(db, id, who.user_id).await?;
    if rel.excluded {
        return Err(forbidden("case"));
    }
    check_fields(def, &update)?;
    let policy = IdentityPolicy::for_workflow(def);
    let (clear_up, secret_up) = policy.split(&update);
    let mut clear = row.clear();
    clear.extend(clear_up);
    let mut identity_keys = row.identity_keys();
    let mut sealed = row.sealed_fields.clone();
    let mut decrypted = false;
    if !secret_up.is_empty() {
        if !rel.may_reveal() {
            return Err(forbidden("fields"));
        }
        let dk = row.data_key(db)?;
        let mut secret = row.secret(&dk)?;
        decrypted = true;
        secret.extend(secret_up);
        let present = provided_fields(&secret);
        identity_keys = present.clone();
        sealed = Some(seal_with(&dk, serde_json::to_string(&secret).unwrap().as_bytes(), &ctx_identity(&row.receipt_hash)));
    }
    let mut provided = provided_fields(&clear);
    provided.extend(identity_keys.iter().cloned());
    let out = vigie_domain::cases::transition(def, &row.state, to, &who.rights, &provided, now).map_err(|e| case_err(def, "to", e))?;

    let mut tx = db.begin().await?;
    let n = run_tx!(&mut tx, c => sqlx::query(
        "UPDATE cases SET state = $3, fields = $4, identity_keys = $5, sealed_fields = $6, deadline = $7, updated_at = $8, closed_at = $9, publishable = $10 \
         WHERE id = $1 AND state = $2"
    ).bind(id).bind(&row.state).bind(&out.to).bind(serde_json::to_string(&clear).unwrap()).bind(serde_json::to_string(&identity_keys).unwrap())
    .bind(&sealed).bind(out.deadline).bind(now).bind(if out.terminal { Some(now) } else { None }).bind(out.public && out.terminal)
    .execute(&mut **c).await?.rows_affected());
    if n != 1 {
        // Someone else moved it meanwhile: nothing is changed, the caller reloads.
        return Err(StoreError::Conflict("case state changed meanwhile".into()));
    }
    run_tx!(&mut tx, c => { sqlx::query("INSERT INTO case_transitions (case_id, from_state, to_state, actor_id, at, deadline) VALUES ($1,$2,$3,$4,$5,$6)")
        .bind(id).bind(&row.state).bind(&out.to).bind(who.actor.id).bind(now).bind(out.deadline).execute(&mut **c).await?; });
    if decrypted {
        audit::append(&mut tx, who.actor, "case.identity_update", "case", &id.to_string(), serde_json::json!({"fields": update.keys().filter(|k| policy.must_encrypt(k)).collect::<Vec<_>>()})).await?;
    }
    audit::append(&mut tx, who.actor, "case.transition", "case", &id.to_string(), serde_json::json!({
        "from": row.state, "to": out.to, "deadline": out.deadline, "fields": update.keys().collect::<Vec<_>>(),
    })).await?;
    tx.commit().await?;
    view(db, id, who.actor, now).await
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct TransitionView {
    pub from_state: Option<String>,
    pub to_state: String,
    pub actor_id: Option<i64>,
    pub at: DateTime<Utc>,
    pub deadline: Option<DateTime<Utc>>,
}

pub async fn history(db: &Db, id: i64) -> StoreResult<Vec<TransitionView>> {
    Ok(run!(&db.read, c => sqlx::query_as("SELECT from_state, to_state, actor_id, at, deadline FROM case_transitions WHERE case_id = $1 ORDER BY at, id").bind(id).fetch_all(c).await?))
}

/// Assigns a handler, who then reads the identities. They must hold `cases.handle` over the
/// case's area, belong to its desk (when it has one) and not be excluded from it.
pub async fn assign(db: &Db, id: i64, user_id: i64, actor: &Actor, now: DateTime<Utc>) -> StoreResult<()> {
    let h = head(db, id).await?;
    let p = crate::users::principal(db, user_id).await?.ok_or_else(|| Invalid::new("user_id", Msg::NotFound))?;
    if vigie_domain::access::authorize(&p, vigie_domain::access::Permission::CasesHandle, vigie_domain::access::Target::InArea(&h.area_path)).is_err() {
        return Err(Invalid::new("user_id", Msg::OutsideArea).into());
    }
    if let Some(desk) = h.desk_org_id {
        if user_org(db, user_id).await? != Some(desk) {
            return Err(Invalid::new("user_id", Msg::Forbidden).into());
        }
    }
    if relation(db, id, user_id).await?.excluded {
        return Err(Invalid::new("user_id", Msg::Forbidden).into());
    }
    let mut tx = db.begin().await?;
    run_tx!(&mut tx, c => { sqlx::query("INSERT INTO case_assignments (case_id, user_id, assigned_by, at) VALUES ($1,$2,$3,$4) ON CONFLICT (case_id, user_id) DO NOTHING")
        .bind(id).bind(user_id).bind(actor.id).bind(now).execute(&mut **c).await?; });
    audit::append(&mut tx, actor, "case.assign", "case", &id.to_string(), serde_json::json!({"user": user_id})).await?;
    tx.commit().await
}

/// Keeps a handler away from a case (conflict of interest: it concerns their own unit). Any
/// assignment is withdrawn; the case disappears from their lists and their access is refused.
pub async fn exclude(db: &Db, id: i64, user_id: i64, reason: &str, actor: &Actor, now: DateTime<Utc>) -> StoreResult<()> {
    head(db, id).await?;
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(Invalid::new("reason", Msg::Required).into());
    }
    crate::users::get(db, user_id).await.map_err(|_| Invalid::new("user_id", Msg::NotFound))?;
    let mut tx = db.begin().await?;
    run_tx!(&mut tx, c => { sqlx::query("INSERT INTO case_exclusions (case_id, user_id, reason, excluded_by, at) VALUES ($1,$2,$3,$4,$5) ON CONFLICT (case_id, user_id) DO NOTHING")
        .bind(id).bind(user_id).bind(reason).bind(actor.id).bind(now).execute(&mut **c).await?; });
    run_tx!(&mut tx, c => { sqlx::query("DELETE FROM case_assignments WHERE case_id = $1 AND user_id = $2").bind(id).bind(user_id).execute(&mut **c).await?; });
    audit::append(&mut tx, actor, "case.exclude", "case", &id.to_string(), serde_json::json!({"user": user_id})).await?;
    tx.commit().await
}

fn check_body(body: &str) -> StoreResult<&str> {
    let b = body.trim();
    if b.is_empty() {
        return Err(Invalid::new("body", Msg::Required).into());
    }
    if b.chars().count() > MAX_MESSAGE_CHARS {
        return Err(Invalid::new("body", Msg::TooLong { max: MAX_MESSAGE_CHARS }).into());
    }
    Ok(b)
}

async fn insert_message(tx: &mut Tx, row: &Row, dk: &[u8; 32], direction: &str, body: &str, author: Option<i64>, now: DateTime<Utc>) -> StoreResult<i64> {
    let sealed = seal_with(dk, body.as_bytes(), &ctx_message(&row.receipt_hash));
    Ok(run_tx!(tx, c => sqlx::query_scalar("INSERT INTO case_messages (case_id, direction, body, author_id, at) VALUES ($1,$2,$3,$4,$5) RETURNING id")
        .bind(row.id).bind(direction).bind(&sealed).bind(author).bind(now).fetch_one(&mut **c).await?))
}

/// A handler's question to the receipt holder (who reads it with their code).
pub async fn ask(db: &Db, id: i64, body: &str, actor: &Actor, now: DateTime<Utc>) -> StoreResult<i64> {
    let body = check_body(body)?;
    let row = load(db, id).await?;
    if let Some(u) = actor.id {
        if relation(db, id, u).await?.excluded {
            return Err(forbidden("case"));
        }
    }
    let dk = row.data_key(db)?;
    let mut tx = db.begin().await?;
    let mid = insert_message(&mut tx, &row, &dk, "to_holder", body, actor.id, now).await?;
    audit::append(&mut tx, actor, "case.ask", "case", &id.to_string(), serde_json::json!({"message": mid})).await?;
    tx.commit().await?;
    Ok(mid)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MessageView {
    pub id: i64,
    /// to_holder (a handler's question) or from_holder (the receipt holder's answer)
    pub direction: String,
    pub body: String,
    pub at: DateTime<Utc>,
}

async fn read_messages(db: &Db, row: &Row, dk: &[u8; 32]) -> StoreResult<Vec<MessageView>> {
    let rows: Vec<(i64, String, Vec<u8>, DateTime<Utc>)> = run!(&db.write, c => sqlx::query_as(
        "SELECT id, direction, body, at FROM case_messages WHERE case_id = $1 ORDER BY at, id").bind(row.id).fetch_all(c).await?);
    rows.into_iter()
        .map(|(id, direction, body, at)| {
            let plain = open_with(dk, &body, &ctx_message(&row.receipt_hash)).map_err(crypto_err)?;
            Ok(MessageView { id, direction, body: String::from_utf8_lossy(&plain).into_owned(), at })
        })
        .collect()
}

/// The thread, for a handler assigned to the case (answers may name people).
pub async fn messages(db: &Db, id: i64, viewer: &Actor) -> StoreResult<Vec<MessageView>> {
    let row = load(db, id).await?;
    let uid = viewer.id.ok_or_else(|| forbidden("case"))?;
    if !relation(db, id, uid).await?.may_reveal() {
        return Err(forbidden("case"));
    }
    let dk = row.data_key(db)?;
    let out = read_messages(db, &row, &dk).await?;
    let mut tx = db.begin().await?;
    audit::append(&mut tx, viewer, "case.messages_read", "case", &id.to_string(), serde_json::json!({"count": out.len()})).await?;
    tx.commit().await?;
    Ok(out)
}

/// Publishes the outcome of a case in a public closing state: the workflow step that put it
/// there is the one that allows it, so the publisher must be allowed to take that step.
pub async fn publish(db: &Db, id: i64, summary: Option<&str>, who: &Mover<'_>, now: DateTime<Utc>) -> StoreResult<CaseView> {
    let row = load(db, id).await?;
    let def = workflow_of(&row.workflow)?;
    if relation(db, id, who.user_id).await?.excluded {
        return Err(forbidden("case"));
    }
    if !row.publishable || row.published_at.is_some() {
        return Err(Invalid::new("state", Msg::Conflict).into());
    }
    if !def.transitions().iter().any(|t| t.to == row.state && who.rights.may(t)) {
        let label = def.state(&row.state).map(|s| s.label.clone()).unwrap_or_else(|| Label::new(&row.state, &row.state));
        return Err(Invalid::new("state", Msg::from(CaseMsg::TransitionForbidden { to: label })).into());
    }
    let clear = row.clear();
    let text = summary
        .map(str::to_string)
        .or_else(|| clear.get("outcome_summary").and_then(Value::as_str).map(str::to_string))
        .or_else(|| clear.get("outcome").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_default();
    let text = text.trim();
    if text.is_empty() {
        return Err(Invalid::new("summary", Msg::Required).into());
    }
    if text.chars().count() > 2000 {
        return Err(Invalid::new("summary", Msg::TooLong { max: 2000 }).into());
    }
    let mut tx = db.begin().await?;
    run_tx!(&mut tx, c => { sqlx::query("UPDATE cases SET published_outcome = $2, published_at = $3, updated_at = $3 WHERE id = $1 AND published_at IS NULL")
        .bind(id).bind(text).bind(now).execute(&mut **c).await?; });
    audit::append(&mut tx, who.actor, "case.publish", "case", &id.to_string(), serde_json::json!({"state": row.state})).await?;
    tx.commit().await?;
    view(db, id, who.actor, now).await
}

/// Refers a case to another desk in Vigie (its handlers take over: assignments are withdrawn)
/// and/or records the outside institution it was referred to.
pub async fn refer(db: &Db, id: i64, desk_org_id: Option<i64>, institution: Option<&str>, actor: &Actor, now: DateTime<Utc>) -> StoreResult<()> {
    let h = head(db, id).await?;
    if desk_org_id.is_none() && institution.is_none() {
        return Err(Invalid::new("desk_org_id", Msg::Required).into());
    }
    if let Some(o) = desk_org_id {
        crate::orgs::get(db, o).await.map_err(|_| Invalid::new("desk_org_id", Msg::UnknownOrganisation))?;
    }
    let inst = institution.map(str::trim).filter(|s| !s.is_empty());
    if inst.is_some_and(|s| s.chars().count() > 200 || s.chars().any(char::is_control)) {
        return Err(Invalid::new("institution", Msg::TooLong { max: 200 }).into());
    }
    let mut tx = db.begin().await?;
    if let Some(o) = desk_org_id {
        run_tx!(&mut tx, c => { sqlx::query("UPDATE cases SET desk_org_id = $2, updated_at = $3 WHERE id = $1").bind(id).bind(o).bind(now).execute(&mut **c).await?; });
        run_tx!(&mut tx, c => { sqlx::query("DELETE FROM case_assignments WHERE case_id = $1").bind(id).execute(&mut **c).await?; });
    }
    if let Some(i) = inst {
        run_tx!(&mut tx, c => { sqlx::query("UPDATE cases SET referred_to = $2, updated_at = $3 WHERE id = $1").bind(id).bind(i).bind(now).execute(&mut **c).await?; });
    }
    audit::append(&mut tx, actor, "case.refer", "case", &id.to_string(), serde_json::json!({"from_desk": h.desk_org_id, "to_desk": desk_org_id, "institution": inst})).await?;
    tx.commit().await
}

/// Opens a violation case from an early-warning report of category `security_forces_abuse`
/// (such reports never join the open event feed). The report's text becomes the case's
/// narrative, sealed like every identity field; the two stay linked.
pub async fn open_from_report(db: &Db, report_id: i64, desk_org_id: Option<i64>, created_by: Option<i64>, actor: &Actor, now: DateTime<Utc>) -> StoreResult<Opened> {
    #[derive(sqlx::FromRow)]
    struct ReportRow {
        reference: String,
        category_code: String,
        alert_id: Option<i64>,
        text: String,
        area_code: Option<String>,
        place_name: Option<String>,
        occurred_at: DateTime<Utc>,
    }
    let r: Option<ReportRow> = run!(&db.read, c => sqlx::query_as("SELECT reference, category_code, alert_id, text, area_code, place_name, occurred_at FROM reports WHERE id = $1")
        .bind(report_id).fetch_optional(c).await?);
    let mut r = r.ok_or(StoreError::NotFound)?;
    r.text = crate::reports::open_text(db, &r.reference, &r.text)?;
    if r.category_code != "security_forces_abuse" || r.alert_id.is_some() {
        return Err(Invalid::new("report_id", Msg::Conflict).into());
    }
    let area = r.area_code.ok_or_else(|| Invalid::new("area_code", Msg::Required))?;
    let area = AreaCode::parse(&area).map_err(|m| Invalid::new("area_code", m))?;
    let location = match r.place_name {
        Some(p) if !p.trim().is_empty() => p,
        _ => crate::areas::get(db, &area, false).await?.name,
    };
    let mut fields = Map::new();
    fields.insert("location".into(), Value::String(location));
    fields.insert("event_date".into(), Value::String(r.occurred_at.format("%Y-%m-%d").to_string()));
    if !r.text.trim().is_empty() {
        fields.insert("narrative".into(), Value::String(r.text));
    }
    let new = NewCase {
        workflow: "violation".into(),
        area,
        desk_org_id,
        title: format!("Violation – signalement {}", r.reference),
        fields,
        report_id: Some(report_id),
    };
    create(db, new, created_by, actor, now).await
}

// ---- The receipt holder ----

/// The case a receipt opens, if any. The lookup is one indexed equality on the keyed hash;
/// the match is then confirmed in constant time.
pub async fn by_receipt(db: &Db, code: &ReceiptCode) -> StoreResult<Option<i64>> {
    let key = receipt_key(db)?;
    let h = code.hash(&key);
    let r: Option<(i64, String)> = run!(&db.read, c => sqlx::query_as("SELECT id, receipt_hash FROM cases WHERE receipt_hash = $1").bind(h.to_hex()).fetch_optional(c).await?);
    Ok(r.and_then(|(id, stored)| ReceiptHash::from_hex(&stored).filter(|s| s.verify(code, &key)).map(|_| id)))
}

/// What a receipt holder sees: the case type, the public status, the thread. Nothing else.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HolderView {
    pub case_type: LabelView,
    /// The state's label when the workflow makes it public; "in progress" otherwise.
    pub status: LabelView,
    pub closed: bool,
    pub opened_at: DateTime<Utc>,
    pub published_outcome: Option<String>,
    pub messages: Vec<MessageView>,
}

pub async fn holder_view(db: &Db, id: i64) -> StoreResult<HolderView> {
    let row = load(db, id).await?;
    let def = workflow_of(&row.workflow)?;
    let status = match def.state(&row.state) {
        Some(s) if s.public => s.label.clone().into(),
        _ => LabelView { fr: "En cours de traitement".into(), en: "Being handled".into() },
    };
    let dk = row.data_key(db)?;
    let messages = read_messages(db, &row, &dk).await?;
    let mut tx = db.begin().await?;
    audit::append(&mut tx, &Actor::system("receipt_holder"), "case.holder_read", "case", &id.to_string(), serde_json::json!({"messages": messages.len()})).await?;
    tx.commit().await?;
    Ok(HolderView {
        case_type: def.label().clone().into(),
        status,
        closed: row.closed_at.is_some(),
        opened_at: row.opened_at,
        published_outcome: row.published_outcome,
        messages,
    })
}

/// The receipt holder's answer, threaded under the case.
pub async fn holder_answer(db: &Db, id: i64, body: &str, now: DateTime<Utc>) -> StoreResult<i64> {
    let body = check_body(body)?;
    let row = load(db, id).await?;
    let dk = row.data_key(db)?;
    let mut tx = db.begin().await?;
    let mid = insert_message(&mut tx, &row, &dk, "from_holder", body, None, now).await?;
    audit::append(&mut tx, &Actor::system("receipt_holder"), "case.answer", "case", &id.to_string(), serde_json::json!({"message": mid})).await?;
    tx.commit().await?;
    Ok(mid)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EvidenceView {
    pub id: i64,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
}

/// Refuses names that try to be paths or hide things; the name kept is then sanitised anyway.
fn check_file_name(raw: &str) -> StoreResult<()> {
    let bad = raw.trim().is_empty()
        || raw.chars().count() > 255
        || raw.contains(['/', '\\', '\0'])
        || raw.contains("..")
        || raw.starts_with('.')
        || raw.chars().any(|c| c.is_control() || matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*'));
    if bad {
        return Err(Invalid::new("file_name", Msg::InvalidName).into());
    }
    Ok(())
}

/// Adds a piece of evidence: type checked against the bytes, size bounded, name sanitised,
/// and name, digest and bytes sealed under the case's data key.
pub async fn add_evidence(db: &Db, id: i64, file_name: &str, content_type: &str, bytes: &[u8], actor: &Actor, now: DateTime<Utc>) -> StoreResult<EvidenceView> {
    use sha2::{Digest, Sha256};
    use vigie_domain::early_warning::attachment::{check_attachment, AttachmentInput, AttachmentPolicy};
    check_file_name(file_name)?;
    let row = load(db, id).await?;
    let count: i64 = run!(&db.write, c => sqlx::query_scalar("SELECT COUNT(*) FROM case_evidence WHERE case_id = $1").bind(id).fetch_one(c).await?);
    let policy = AttachmentPolicy { max_image_bytes: MAX_EVIDENCE_BYTES, max_audio_bytes: MAX_EVIDENCE_BYTES, max_per_report: MAX_EVIDENCE_PER_CASE };
    let head = &bytes[..bytes.len().min(64)];
    let checked = check_attachment(&policy, &AttachmentInput { declared_type: content_type, file_name, size: bytes.len() as u64, head }, count as usize)
        .map_err(|m| Invalid::new("content", Msg::from(m)))?;
    let digest = hex::encode(Sha256::digest(bytes));
    let dk = row.data_key(db)?;
    let rh = &row.receipt_hash;
    let sealed_name = seal_with(&dk, checked.file_name.as_bytes(), &ctx_evidence(rh, "name"));
    let sealed_digest = seal_with(&dk, digest.as_bytes(), &ctx_evidence(rh, "sha256"));
    let sealed_bytes = seal_with(&dk, bytes, &ctx_evidence(rh, "bytes"));
    let mime = checked.media.mime();
    let mut tx = db.begin().await?;
    let eid: i64 = run_tx!(&mut tx, c => sqlx::query_scalar(
        "INSERT INTO case_evidence (case_id, file_name, content_type, size, sha256, bytes, from_holder, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) RETURNING id"
    ).bind(id).bind(&sealed_name).bind(mime).bind(bytes.len() as i64).bind(&sealed_digest).bind(&sealed_bytes).bind(actor.id.is_none()).bind(now)
    .fetch_one(&mut **c).await?);
    audit::append(&mut tx, actor, "case.evidence_add", "case", &id.to_string(), serde_json::json!({"evidence": eid, "content_type": mime, "size": bytes.len()})).await?;
    tx.commit().await?;
    Ok(EvidenceView { id: eid, file_name: checked.file_name, content_type: mime.into(), size: bytes.len() as i64, sha256: digest })
}

/// One piece of evidence with its bytes, for an assigned handler (audited).
pub async fn evidence(db: &Db, id: i64, evidence_id: i64, viewer: &Actor) -> StoreResult<(EvidenceView, Vec<u8>)> {
    let row = load(db, id).await?;
    let uid = viewer.id.ok_or_else(|| forbidden("case"))?;
    if !relation(db, id, uid).await?.may_reveal() {
        return Err(forbidden("case"));
    }
    let r: Option<(Vec<u8>, String, i64, Vec<u8>, Vec<u8>)> = run!(&db.read, c => sqlx::query_as(
        "SELECT file_name, content_type, size, sha256, bytes FROM case_evidence WHERE id = $1 AND case_id = $2").bind(evidence_id).bind(id).fetch_optional(c).await?);
    let (name, content_type, size, digest, bytes) = r.ok_or(StoreError::NotFound)?;
    let dk = row.data_key(db)?;
    let rh = &row.receipt_hash;
    let name = String::from_utf8_lossy(&open_with(&dk, &name, &ctx_evidence(rh, "name")).map_err(crypto_err)?).into_owned();
    let sha256 = String::from_utf8_lossy(&open_with(&dk, &digest, &ctx_evidence(rh, "sha256")).map_err(crypto_err)?).into_owned();
    let bytes = open_with(&dk, &bytes, &ctx_evidence(rh, "bytes")).map_err(crypto_err)?;
    let mut tx = db.begin().await?;
    audit::append(&mut tx, viewer, "case.evidence_read", "case", &id.to_string(), serde_json::json!({"evidence": evidence_id})).await?;
    tx.commit().await?;
    Ok((EvidenceView { id: evidence_id, file_name: name, content_type, size, sha256 }, bytes))
}

/// Ids, types and sizes of a case's evidence (nothing sealed).
pub async fn evidence_list(db: &Db, id: i64) -> StoreResult<Vec<(i64, String, i64)>> {
    Ok(run!(&db.read, c => sqlx::query_as("SELECT id, content_type, size FROM case_evidence WHERE case_id = $1 ORDER BY id").bind(id).fetch_all(c).await?))
}

// ---- Lockout and rate limits of the public endpoints ----

/// What a source's failures are counted for.
pub const PURPOSE_RECEIPT: &str = "receipt";
pub const PURPOSE_SUBMISSION: &str = "submission";

/// The only form in which a client address is ever kept: a keyed hash, per purpose.
pub fn source_index(db: &Db, source: &str) -> StoreResult<String> {
    Ok(db.keys()?.blind_index("cases.public_source", source))
}

async fn failure_state(db: &Db, index: &str, purpose: &str) -> StoreResult<LockoutState> {
    let s: Option<String> = run!(&db.write, c => sqlx::query_scalar("SELECT state FROM receipt_failures WHERE source_index = $1 AND purpose = $2")
        .bind(index).bind(purpose).fetch_optional(c).await?);
    Ok(s.and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default())
}

pub async fn lockout(db: &Db, index: &str, purpose: &str, policy: &LockoutPolicy, now: DateTime<Utc>) -> StoreResult<LockoutDecision> {
    Ok(policy.check(&failure_state(db, index, purpose).await?, now))
}

/// Counts one failure (or one submission, for the rate limit) of a source, and forgets
/// sources unseen for a day.
pub async fn record_failure(db: &Db, index: &str, purpose: &str, policy: &LockoutPolicy, now: DateTime<Utc>) -> StoreResult<LockoutDecision> {
    let mut tx = db.begin().await?;
    if let Tx::Postgres(c) = &mut tx {
        // Serialise read-modify-write of the same source across app nodes.
        sqlx::query("SELECT pg_advisory_xact_lock(7452011)").execute(&mut **c).await?;
    }
    let current: Option<String> = run_tx!(&mut tx, c => sqlx::query_scalar("SELECT state FROM receipt_failures WHERE source_index = $1 AND purpose = $2")
        .bind(index).bind(purpose).fetch_optional(&mut **c).await?);
    let state: LockoutState = current.and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default();
    let next = policy.record_failure(&state, now);
    run_tx!(&mut tx, c => { sqlx::query(
        "INSERT INTO receipt_failures (source_index, purpose, state, updated_at) VALUES ($1,$2,$3,$4) \
         ON CONFLICT (source_index, purpose) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at"
    ).bind(index).bind(purpose).bind(serde_json::to_string(&next).unwrap()).bind(now).execute(&mut **c).await?; });
    run_tx!(&mut tx, c => { sqlx::query("DELETE FROM receipt_failures WHERE updated_at < $1").bind(now - Duration::hours(FAILURE_RETENTION_HOURS)).execute(&mut **c).await?; });
    tx.commit().await?;
    Ok(policy.check(&next, now))
}

/// Writes the refusal of a public request to the audit log: the reason only, never the code
/// tried nor anything about the source.
pub async fn audit_refusal(db: &Db, what: &str, reason: &str) -> StoreResult<()> {
    let mut tx = db.begin().await?;
    audit::append(&mut tx, &Actor::system("public"), &format!("{what}.refused"), what, "-", serde_json::json!({"reason": reason})).await?;
    tx.commit().await
}

// ---- Transparency ----

/// Fields that name the administration concerned, per workflow (all non-identifying).
const ADMINISTRATION_FIELDS: &[&str] = &["administration", "alleged_perpetrator_unit", "inspected_unit", "observed_unit"];

/// Published outcomes, one row per case, ready for the domain's `suppress`.
pub async fn published_counts(db: &Db) -> StoreResult<Vec<CountRow>> {
    let rows: Vec<(String, String, String, String, String, Option<String>)> = run!(&db.read, c => sqlx::query_as(
        "SELECT c.workflow, c.state, c.fields, a.name, a.code, o.name FROM cases c JOIN areas a ON a.code = c.area_code \
         LEFT JOIN organisations o ON o.id = c.desk_org_id WHERE c.published_at IS NOT NULL"
    ).fetch_all(c).await?);
    let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = Vec::new();
    for (wf, state, fields, area_name, area_code, desk) in rows {
        let Some(def) = workflow(&wf) else { continue };
        let fields: Map<String, Value> = serde_json::from_str(&fields).unwrap_or_default();
        let administration = ADMINISTRATION_FIELDS
            .iter()
            .find_map(|k| fields.get(*k).and_then(Value::as_str).map(norm).filter(|s| !s.is_empty() && s.chars().count() <= 100))
            .or(desk)
            .unwrap_or_else(|| "—".into());
        let outcome = fields
            .get("outcome")
            .and_then(Value::as_str)
            .map(norm)
            .filter(|s| !s.is_empty() && s.chars().count() <= 100)
            .unwrap_or_else(|| def.state(&state).map(|s| s.label.fr.clone()).unwrap_or(state));
        out.push(CountRow { locality: format!("{area_name} ({area_code})"), administration, case_type: def.label().fr.clone(), outcome, count: 1 });
    }
    Ok(out)
}
