//! ODK forms and submissions. A form's XForm is kept byte for byte (phones download it and
//! compare its hash); a submission is stored whole, once per instanceID, before anything is
//! derived from it, so a submission that cannot become a report is still kept.
//!
//! A submission is sealed at rest (a focal point's answers, photos, voice notes): its XML and
//! files as report attachments are, under the keyring's "submissions" sub-key and bound to the
//! submission; its parsed data with the keyring. `submissions.sealed` tells these rows from
//! those stored in clear by older versions, which [`crate::rotation::seal_clear`] seals at start-up.

use crate::audit::{self, Actor};
use crate::crypto::{open_with, seal_with, Keyring};
use crate::{run, run_tx, Db, StoreError, StoreResult, Tx};
use chrono::{DateTime, Utc};
use serde::Serialize;
use vigie_domain::area::{AreaCode, AreaPath};
use vigie_domain::openrosa::xform::XForm;
use vigie_domain::openrosa::xml_out::md5_hash;
use vigie_domain::{Invalid, Msg};

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct FormView {
    pub id: i64,
    pub form_id: String,
    pub version: String,
    pub title: String,
    pub purpose: String,
    pub md5: String,
    pub area_code: String,
    /// Offered to phones (the same as `state == "open"`).
    pub open: bool,
    /// draft (uploaded, not yet offered), open, or closed (no longer offered; submissions kept).
    pub state: String,
    /// Submissions received for this version.
    pub submissions: i64,
}

const COLS: &str = "id, form_id, version, title, purpose, md5, area_code, open, \
    CASE WHEN open THEN 'open' WHEN closed_at IS NULL THEN 'draft' ELSE 'closed' END AS state, \
    (SELECT COUNT(*) FROM submissions s WHERE s.form_pk = forms.id) AS submissions";

/// Stores a new form (or a new version of one), open to phones at once. The XForm is parsed
/// first: a form the submission parser could not read is refused at the door.
pub async fn create(db: &Db, xml: &[u8], purpose: &str, area: &AreaCode, actor: &Actor) -> StoreResult<FormView> {
    create_as(db, xml, purpose, area, true, actor).await
}

/// Stores a new form as a draft (`open == false`) or open; see [`create`].
pub async fn create_as(db: &Db, xml: &[u8], purpose: &str, area: &AreaCode, open: bool, actor: &Actor) -> StoreResult<FormView> {
    let form = XForm::parse(xml).map_err(|e| Invalid::new(format!("xform{}", if e.path.is_empty() { String::new() } else { format!(":{}", e.path) }), Msg::from(e.msg)))?;
    if !["incident", "survey"].contains(&purpose) {
        return Err(Invalid::new("purpose", Msg::InvalidName).into());
    }
    crate::areas::path_of(db, area, "area_code").await?;
    let md5 = md5_hash(xml);
    let mut tx = db.begin().await?;
    let id: i64 = run_tx!(&mut tx, c => sqlx::query_scalar(
        "INSERT INTO forms (form_id, version, title, purpose, xml, md5, area_code, created_at, open) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) RETURNING id"
    ).bind(&form.form_id).bind(form.version.clone().unwrap_or_default()).bind(&form.title).bind(purpose).bind(xml).bind(&md5).bind(area.as_str()).bind(crate::now()).bind(open)
     .fetch_one(&mut **c).await)?;
    audit::append(&mut tx, actor, "form.create", "form", &id.to_string(), serde_json::json!({"form_id": form.form_id, "version": form.version, "purpose": purpose, "open": open})).await?;
    tx.commit().await?;
    db.memo.forget_all(); // a closed form takes no more submissions (see for_submission)
    get(db, id).await
}

pub async fn get(db: &Db, id: i64) -> StoreResult<FormView> {
    let r: Option<FormView> = run!(&db.write, c => sqlx::query_as(&format!("SELECT {COLS} FROM forms WHERE id = $1")).bind(id).fetch_optional(c).await?);
    r.ok_or(StoreError::NotFound)
}

/// The newest open version of each form whose area is within `scope` or above it (a national
/// form is offered to a focal point of Koro).
pub async fn list_for(db: &Db, scope: &[AreaPath]) -> StoreResult<Vec<(FormView, AreaPath)>> {
    let rows: Vec<(i64, String)> = run!(&db.read, c => sqlx::query_as(
        "SELECT f.id, a.path FROM forms f JOIN areas a ON a.code = f.area_code WHERE f.open ORDER BY f.form_id, f.id DESC"
    ).fetch_all(c).await?);
    let mut out: Vec<(FormView, AreaPath)> = Vec::new();
    for (id, path) in rows {
        let path = AreaPath(path);
        if !scope.iter().any(|s| s.contains(&path) || path.contains(s)) {
            continue;
        }
        let f = get(db, id).await?;
        if out.iter().any(|(o, _)| o.form_id == f.form_id) {
            continue; // an older version
        }
        out.push((f, path));
    }
    Ok(out)
}

/// Every version of every form, any state, whose area lies within `scope` (what a form
/// manager of that scope may publish, close and export), newest first.
pub async fn list_managed(db: &Db, scope: &[AreaPath]) -> StoreResult<Vec<(FormView, AreaPath)>> {
    let rows: Vec<(i64, String)> = run!(&db.read, c => sqlx::query_as(
        "SELECT f.id, a.path FROM forms f JOIN areas a ON a.code = f.area_code ORDER BY f.form_id, f.id DESC"
    ).fetch_all(c).await?);
    let mut out = Vec::new();
    for (id, path) in rows {
        let path = AreaPath(path);
        if scope.iter().any(|s| s.contains(&path)) {
            out.push((get(db, id).await?, path));
        }
    }
    Ok(out)
}

/// Publishes a form version (phones get it) or closes it (no longer offered; its submissions
/// stay). Publishing a version leaves older open versions as they are: phones get the newest.
pub async fn set_open(db: &Db, id: i64, open: bool, actor: &Actor) -> StoreResult<FormView> {
    let before = get(db, id).await?;
    let mut tx = db.begin().await?;
    run_tx!(&mut tx, c => { sqlx::query("UPDATE forms SET open = $2, closed_at = $3 WHERE id = $1")
        .bind(id).bind(open).bind((!open).then(crate::now)).execute(&mut **c).await?; });
    let action = if open { "form.publish" } else { "form.close" };
    audit::append(&mut tx, actor, action, "form", &id.to_string(), serde_json::json!({"form_id": before.form_id, "version": before.version, "was": before.state})).await?;
    tx.commit().await?;
    db.memo.forget_all(); // a closed form takes no more submissions (see for_submission)
    get(db, id).await
}

/// The form version an OpenRosa submission names, with its XForm parsed. Every submission asks
/// for it, so it is remembered ≤ 1 s ([`crate::memo`]; forgotten at once when this process
/// publishes or closes a form) and read on the read pool, never behind the intake writer.
pub async fn for_submission(db: &Db, form_id: &str, version: &str) -> StoreResult<(FormView, std::sync::Arc<XForm>)> {
    let key = (form_id.to_string(), version.to_string());
    if let Some(f) = db.memo.submission_forms.get(&db.memo, &key) {
        return Ok(f);
    }
    let generation = db.memo.generation();
    let view: Option<FormView> =
        run!(&db.read, c => sqlx::query_as(&format!("SELECT {COLS} FROM forms WHERE form_id = $1 AND version = $2")).bind(form_id).bind(version).fetch_optional(c).await?);
    let view = view.ok_or(StoreError::NotFound)?;
    let xml: Vec<u8> = run!(&db.read, c => sqlx::query_scalar("SELECT xml FROM forms WHERE id = $1").bind(view.id).fetch_one(c).await?);
    let form = XForm::parse(&xml).map_err(|_| StoreError::Other(format!("form {form_id} {version}: stored XForm unreadable")))?;
    let found = (view, std::sync::Arc::new(form));
    db.memo.submission_forms.put(generation, key, found.clone());
    Ok(found)
}

/// The XForm bytes of the newest open version of `form_id` (or of that exact version).
pub async fn xml_of(db: &Db, form_id: &str, version: Option<&str>) -> StoreResult<(FormView, Vec<u8>)> {
    let id: Option<i64> = match version {
        Some(v) => run!(&db.read, c => sqlx::query_scalar("SELECT id FROM forms WHERE form_id = $1 AND version = $2").bind(form_id).bind(v).fetch_optional(c).await?),
        None => run!(&db.read, c => sqlx::query_scalar("SELECT id FROM forms WHERE form_id = $1 AND open ORDER BY id DESC LIMIT 1").bind(form_id).fetch_optional(c).await?),
    };
    let id = id.ok_or(StoreError::NotFound)?;
    let xml: Vec<u8> = run!(&db.read, c => sqlx::query_scalar("SELECT xml FROM forms WHERE id = $1").bind(id).fetch_one(c).await?);
    Ok((get(db, id).await?, xml))
}

pub(crate) const SUBKEY: &str = "submissions";

pub(crate) fn xml_context(instance_id: &str) -> String {
    format!("submissions.xml:{instance_id}")
}

pub(crate) fn data_context(instance_id: &str) -> String {
    format!("submissions.data:{instance_id}")
}

pub(crate) fn file_context(submission_id: i64, sha256: &str) -> String {
    format!("submission_attachments.bytes:{submission_id}:{sha256}")
}

/// A submission's XML as stored (sealed, or clear in a row from before sealing), opened.
fn open_xml(keys: &Keyring, id: i64, instance_id: &str, stored: Vec<u8>, sealed: bool) -> StoreResult<Vec<u8>> {
    if !sealed {
        return Ok(stored);
    }
    open_with(&keys.subkey(SUBKEY), &stored, &xml_context(instance_id)).map_err(|e| StoreError::Other(format!("submission {id}: {e}")))
}

pub struct NewAttachment {
    pub file_name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    New(i64),
    /// This instanceID was received before: nothing stored again.
    Duplicate(i64),
}

/// A submission received over OpenRosa, parsed and checked, as the handler hands it over.
pub struct Incoming<'a> {
    pub form_pk: i64,
    pub instance_id: &'a str,
    pub xml: &'a [u8],
    pub data: &'a serde_json::Value,
    pub warnings: &'a serde_json::Value,
    pub area: Option<&'a str>,
    pub submitted_by: Option<i64>,
    pub files: Vec<NewAttachment>,
    pub actor: &'a Actor,
    pub now: DateTime<Utc>,
}

/// What an incident form's submission becomes besides itself.
pub enum ReportFrom {
    /// A survey: the submission only.
    Nothing,
    /// A report through the same intake as every channel.
    Intake(vigie_domain::early_warning::report::ReportInput, crate::reports::Sender),
    /// It cannot become a report (e.g. outside the submitter's area): kept with the reason.
    Refused(String),
}

/// What was stored for one submission.
#[derive(Debug)]
pub struct Received {
    pub stored: Stored,
    /// The report it became (none for a survey, a resend or a refusal).
    pub report: Option<crate::reports::IntakeOutcome>,
    /// Why it did not become a report, kept on the submission for an analyst.
    pub intake_error: Option<String>,
}

/// A submission sealed and ready for the intake writer (see [`crate::group_commit`]).
pub(crate) struct Pending {
    form_pk: i64,
    instance_id: String,
    sealed_xml: Vec<u8>,
    sealed_data: String,
    warnings: String,
    area: Option<String>,
    submitted_by: Option<i64>,
    /// Sealed by the writer: their context names the submission's id.
    files: Vec<NewAttachment>,
    intake_error: Option<String>,
    actor: Actor,
    now: DateTime<Utc>,
}

impl Pending {
    pub(crate) fn intake_error(&self) -> Option<&str> {
        self.intake_error.as_deref()
    }
}

/// Stores a submission once per instanceID, with its files and the report it becomes, in the
/// intake writer's commit group: the submission, its report and the link between them share
/// one commit (and its fsync) with every other intake waiting, instead of three commits of their
/// own. A resent instanceID stores nothing, not even a report. A report the intake refuses
/// (validation) leaves the submission stored with the reason.
pub async fn receive(db: &Db, incoming: Incoming<'_>, report: ReportFrom) -> StoreResult<Received> {
    // Fast path for resends, on the read pool; the writer checks again inside its transaction.
    let existing: Option<i64> =
        run!(&db.read, c => sqlx::query_scalar("SELECT id FROM submission_keys WHERE instance_id = $1").bind(incoming.instance_id).fetch_optional(c).await?);
    if let Some(id) = existing {
        return Ok(Received { stored: Stored::Duplicate(id), report: None, intake_error: None });
    }
    let (intake, intake_error) = match report {
        ReportFrom::Nothing => (None, None),
        ReportFrom::Refused(why) => (None, Some(why)),
        ReportFrom::Intake(input, sender) => match crate::reports::prepare(db, input, sender, incoming.actor, incoming.now).await {
            Ok(p) => (Some(p), None),
            Err(e) => (None, Some(e.to_string())),
        },
    };
    let keys = db.keys()?;
    let pending = Pending {
        form_pk: incoming.form_pk,
        instance_id: incoming.instance_id.to_string(),
        sealed_xml: seal_with(&keys.subkey(SUBKEY), incoming.xml, &xml_context(incoming.instance_id)),
        sealed_data: keys.seal(incoming.data.to_string().as_bytes(), &data_context(incoming.instance_id)),
        warnings: incoming.warnings.to_string(),
        area: incoming.area.map(str::to_string),
        submitted_by: incoming.submitted_by,
        files: incoming.files,
        intake_error,
        actor: incoming.actor.clone(),
        now: incoming.now,
    };
    crate::group_commit::submit_submission(db, pending, intake).await
}

/// Writes the submissions of a commit group inside its transaction, in order; a resent
/// instanceID (stored before, or earlier in the group) is answered `Duplicate` and stores nothing.
/// No conflict target: on PostgreSQL `submissions` is partitioned and `instance_id` is unique in
/// `submission_keys`, whose trigger skips a resent row (migration 0022).
pub(crate) async fn insert_pending(tx: &mut Tx, db: &Db, group: &[&Pending]) -> StoreResult<Vec<Stored>> {
    let mut out = Vec::with_capacity(group.len());
    let mut created = Vec::new();
    for p in group {
        let inserted: Option<i64> = run_tx!(&mut *tx, c => sqlx::query_scalar(
            "INSERT INTO submissions (form_pk, instance_id, xml, data, warnings, area_code, submitted_by, received_at, intake_error, sealed) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,TRUE) ON CONFLICT DO NOTHING RETURNING id"
        ).bind(p.form_pk).bind(&p.instance_id).bind(&p.sealed_xml).bind(&p.sealed_data).bind(&p.warnings).bind(&p.area)
            .bind(p.submitted_by).bind(p.now).bind(&p.intake_error).fetch_optional(&mut **c).await?);
        let Some(id) = inserted else {
            let id: i64 = run_tx!(&mut *tx, c => sqlx::query_scalar("SELECT id FROM submission_keys WHERE instance_id = $1").bind(&p.instance_id).fetch_one(&mut **c).await?);
            out.push(Stored::Duplicate(id));
            continue;
        };
        if !p.files.is_empty() {
            let subkey = db.keys()?.subkey(SUBKEY);
            for f in &p.files {
                use sha2::Digest;
                let sha = hex::encode(sha2::Sha256::digest(&f.bytes));
                let sealed = seal_with(&subkey, &f.bytes, &file_context(id, &sha));
                run_tx!(&mut *tx, c => { sqlx::query("INSERT INTO submission_attachments (submission_id, file_name, content_type, size, sha256, bytes) VALUES ($1,$2,$3,$4,$5,$6)")
                    .bind(id).bind(&f.file_name).bind(&f.content_type).bind(f.bytes.len() as i64).bind(sha).bind(&sealed).execute(&mut **c).await?; });
            }
        }
        created.push((id, *p));
        out.push(Stored::New(id));
    }
    let entries: Vec<audit::NewEntry> = created.iter().map(|(id, p)| audit::NewEntry {
        actor: &p.actor, action: "submission.create", entity: "submission", entity_id: id.to_string(),
        detail: serde_json::json!({"form": p.form_pk, "instance_id": p.instance_id, "files": p.files.len()}),
    }).collect();
    audit::append_many(tx, &entries).await?;
    Ok(out)
}

/// Records the report a submission became (in the writer's transaction, after both are written).
pub(crate) async fn link_report(tx: &mut Tx, submission_id: i64, report_id: i64) -> StoreResult<()> {
    run_tx!(&mut *tx, c => { sqlx::query("UPDATE submissions SET report_id = $2 WHERE id = $1").bind(submission_id).bind(report_id).execute(&mut **c).await?; });
    Ok(())
}

/// Seals the submissions stored in clear by older versions (XML, data, files), in the
/// caller's transaction; returns how many (see [`crate::rotation::seal_clear`]).
pub(crate) async fn seal_clear_submissions(tx: &mut Tx, keys: &Keyring) -> StoreResult<u64> {
    let subkey = keys.subkey(SUBKEY);
    let ids: Vec<i64> = run_tx!(&mut *tx, c => sqlx::query_scalar("SELECT id FROM submissions WHERE NOT sealed ORDER BY id").fetch_all(&mut **c).await?);
    // One at a time: files may be megabytes each.
    for &id in &ids {
        let (instance, xml, data): (String, Vec<u8>, String) =
            run_tx!(&mut *tx, c => sqlx::query_as("SELECT instance_id, xml, data FROM submissions WHERE id = $1").bind(id).fetch_one(&mut **c).await?);
        let xml = seal_with(&subkey, &xml, &xml_context(&instance));
        let data = keys.seal(data.as_bytes(), &data_context(&instance));
        run_tx!(&mut *tx, c => { sqlx::query("UPDATE submissions SET xml = $2, data = $3, sealed = TRUE WHERE id = $1").bind(id).bind(&xml).bind(&data).execute(&mut **c).await?; });
        let files: Vec<i64> = run_tx!(&mut *tx, c => sqlx::query_scalar("SELECT id FROM submission_attachments WHERE submission_id = $1 ORDER BY id").bind(id).fetch_all(&mut **c).await?);
        for file in files {
            let (sha, bytes): (String, Vec<u8>) = run_tx!(&mut *tx, c => sqlx::query_as("SELECT sha256, bytes FROM submission_attachments WHERE id = $1").bind(file).fetch_one(&mut **c).await?);
            let sealed = seal_with(&subkey, &bytes, &file_context(id, &sha));
            run_tx!(&mut *tx, c => { sqlx::query("UPDATE submission_attachments SET bytes = $2 WHERE id = $1").bind(file).bind(&sealed).execute(&mut **c).await?; });
        }
    }
    Ok(ids.len() as u64)
}

/// The raw XML of every submission of a form, oldest first (for export and tallies).
pub async fn submission_xml(db: &Db, form_pk: i64) -> StoreResult<Vec<Vec<u8>>> {
    let rows: Vec<(i64, String, Vec<u8>, bool)> = run!(&db.read, c => sqlx::query_as("SELECT id, instance_id, xml, sealed FROM submissions WHERE form_pk = $1 ORDER BY id").bind(form_pk).fetch_all(c).await?);
    let keys = db.keys()?;
    rows.into_iter().map(|(id, instance, xml, sealed)| open_xml(keys, id, &instance, xml, sealed)).collect()
}

/// A file sent with a submission, opened and checked against its digest.
pub async fn submission_file(db: &Db, submission_id: i64, file_name: &str) -> StoreResult<(String, Vec<u8>)> {
    use sha2::Digest;
    let r: Option<(String, String, Vec<u8>, bool)> = run!(&db.read, c => sqlx::query_as(
        "SELECT f.content_type, f.sha256, f.bytes, s.sealed FROM submission_attachments f JOIN submissions s ON s.id = f.submission_id WHERE f.submission_id = $1 AND f.file_name = $2"
    ).bind(submission_id).bind(file_name).fetch_optional(c).await?);
    let (content_type, sha, stored, sealed) = r.ok_or(StoreError::NotFound)?;
    let bytes = if sealed {
        open_with(&db.keys()?.subkey(SUBKEY), &stored, &file_context(submission_id, &sha)).map_err(|e| StoreError::Other(format!("submission {submission_id} file: {e}")))?
    } else {
        stored
    };
    if hex::encode(sha2::Sha256::digest(&bytes)) != sha {
        return Err(StoreError::Other(format!("submission {submission_id} file: digest mismatch")));
    }
    Ok((content_type, bytes))
}

/// A submission with what decides who may see it: the area it is placed in (its own, else its
/// report's) and whether the report it became is protected.
#[derive(Debug, Clone)]
pub struct SubmissionAccess {
    pub id: i64,
    pub xml: Vec<u8>,
    pub area_path: Option<AreaPath>,
    pub report_protected: bool,
}

/// Every submission of a form with its access facts, oldest first.
pub async fn submissions_with_access(db: &Db, form_pk: i64) -> StoreResult<Vec<SubmissionAccess>> {
    // `flags` and `category_code` are the report's: submissions and areas have no such columns.
    let sql = format!(
        "SELECT s.id, s.instance_id, s.xml, s.sealed, COALESCE(a.path, r.area_path) AS area_path, \
         CASE WHEN r.id IS NULL THEN FALSE ELSE {} END AS protected \
         FROM submissions s LEFT JOIN areas a ON a.code = s.area_code LEFT JOIN reports r ON r.id = s.report_id \
         WHERE s.form_pk = $1 ORDER BY s.id",
        crate::reports::PROTECTED_SQL
    );
    // id, instance id, XML as stored, sealed, area path, report protected.
    type Row = (i64, String, Vec<u8>, bool, Option<String>, bool);
    let rows: Vec<Row> = run!(&db.read, c => sqlx::query_as(&sql).bind(form_pk).fetch_all(c).await?);
    let keys = db.keys()?;
    rows.into_iter()
        .map(|(id, instance, xml, sealed, path, report_protected)| {
            Ok(SubmissionAccess { id, xml: open_xml(keys, id, &instance, xml, sealed)?, area_path: path.filter(|p| !p.is_empty()).map(AreaPath), report_protected })
        })
        .collect()
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct SubmissionView {
    pub id: i64,
    pub instance_id: String,
    pub area_code: Option<String>,
    pub report_id: Option<i64>,
    pub intake_error: Option<String>,
    pub received_at: DateTime<Utc>,
}

pub async fn submissions(db: &Db, form_pk: i64) -> StoreResult<Vec<SubmissionView>> {
    Ok(run!(&db.read, c => sqlx::query_as("SELECT id, instance_id, area_code, report_id, intake_error, received_at FROM submissions WHERE form_pk = $1 ORDER BY id").bind(form_pk).fetch_all(c).await?))
}
