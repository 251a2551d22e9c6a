//! Photos and voice notes attached to reports by the API or the web form. The type is decided
//! by the file's first bytes (`vigie_domain::early_warning::attachment`), never by the header
//! alone; sizes are bounded; names are sanitised. The bytes are sealed at rest (a voice or a
//! face identifies a witness), under a key derived from the keyring and bound to the report.
//! Who may read them is decided by the caller with the report's own rule
//! (`vigie_domain::early_warning::visibility::check_report`).

use crate::audit::{self, Actor};
use crate::crypto::{open_with, seal_with};
use crate::{run, run_tx, Db, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use serde::Serialize;
use vigie_domain::early_warning::attachment::{check_attachment, AttachmentInput, AttachmentPolicy, MediaType};
use vigie_domain::{Invalid, Msg};

/// The policy for uploads: 5 MB a photo, 10 MB a voice note, 5 files a report.
pub fn policy() -> AttachmentPolicy {
    AttachmentPolicy::default()
}

/// The largest single file any upload may carry (the request limit of the upload routes).
pub fn max_file_bytes() -> u64 {
    let p = policy();
    p.max_image_bytes.max(p.max_audio_bytes)
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AttachmentView {
    pub id: i64,
    pub report_id: i64,
    /// Sanitised name, extension forced to the checked type's.
    pub file_name: String,
    /// The checked type (from the bytes), e.g. `image/jpeg`, `audio/amr`.
    pub content_type: String,
    pub size: i64,
    /// SHA-256 of the bytes as uploaded, hex.
    pub sha256: String,
    pub created_at: DateTime<Utc>,
    pub uploaded_by: Option<i64>,
}

// `size` is INTEGER (4 bytes on PostgreSQL) in migration 0002; read as 8.
const COLS: &str = "id, report_id, file_name, content_type, CAST(size AS BIGINT) AS size, sha256, created_at, uploaded_by";

fn seal_context(report_id: i64, sha256: &str) -> String {
    format!("attachments.bytes:{report_id}:{sha256}")
}

/// Checks and stores one file for a report, with its audit entry, in one transaction.
pub async fn add(db: &Db, report_id: i64, file_name: &str, declared_type: &str, bytes: &[u8], actor: &Actor, now: DateTime<Utc>) -> StoreResult<AttachmentView> {
    use sha2::{Digest, Sha256};
    let keys = db.keys()?;
    let mut tx = db.begin().await?;
    // The report row is locked while its files are counted, so two uploads cannot both be the fifth.
    let sql = format!("SELECT id FROM reports WHERE id = $1{}", crate::events::lock_clause(&tx));
    let exists: Option<i64> = run_tx!(&mut tx, c => sqlx::query_scalar(&sql).bind(report_id).fetch_optional(&mut **c).await?);
    exists.ok_or(StoreError::NotFound)?;
    let count: i64 = run_tx!(&mut tx, c => sqlx::query_scalar("SELECT COUNT(*) FROM attachments WHERE report_id = $1").bind(report_id).fetch_one(&mut **c).await?);
    let head = &bytes[..bytes.len().min(MediaType::HEAD_LEN.max(64))];
    let checked = check_attachment(&policy(), &AttachmentInput { declared_type, file_name, size: bytes.len() as u64, head }, count as usize)
        .map_err(|m| Invalid::new("file", Msg::from(m)))?;
    let digest = hex::encode(Sha256::digest(bytes));
    let sealed = seal_with(&keys.subkey("attachments"), bytes, &seal_context(report_id, &digest));
    let mime = checked.media.mime();
    let id: i64 = run_tx!(&mut tx, c => sqlx::query_scalar(
        "INSERT INTO attachments (report_id, file_name, content_type, size, sha256, bytes, created_at, uploaded_by) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) RETURNING id"
    ).bind(report_id).bind(&checked.file_name).bind(mime).bind(bytes.len() as i64).bind(&digest).bind(&sealed).bind(now).bind(actor.id)
    .fetch_one(&mut **c).await?);
    audit::append(&mut tx, actor, "report.attach", "report", &report_id.to_string(), serde_json::json!({
        "attachment": id, "content_type": mime, "size": bytes.len(), "sha256": digest, "type_inferred": checked.type_inferred,
    })).await?;
    tx.commit().await?;
    Ok(AttachmentView { id, report_id, file_name: checked.file_name, content_type: mime.into(), size: bytes.len() as i64, sha256: digest, created_at: now, uploaded_by: actor.id })
}

/// A report's attachments, without their bytes.
pub async fn list(db: &Db, report_id: i64) -> StoreResult<Vec<AttachmentView>> {
    Ok(run!(&db.read, c => sqlx::query_as(&format!("SELECT {COLS} FROM attachments WHERE report_id = $1 ORDER BY id")).bind(report_id).fetch_all(c).await?))
}

/// One attachment of a report with its bytes, opened and checked against their digest.
pub async fn get(db: &Db, report_id: i64, id: i64) -> StoreResult<(AttachmentView, Vec<u8>)> {
    use sha2::{Digest, Sha256};
    let v: Option<AttachmentView> = run!(&db.read, c => sqlx::query_as(&format!("SELECT {COLS} FROM attachments WHERE id = $1 AND report_id = $2"))
        .bind(id).bind(report_id).fetch_optional(c).await?);
    let v = v.ok_or(StoreError::NotFound)?;
    let sealed: Vec<u8> = run!(&db.read, c => sqlx::query_scalar("SELECT bytes FROM attachments WHERE id = $1").bind(id).fetch_one(c).await?);
    let bytes = open_with(&db.keys()?.subkey("attachments"), &sealed, &seal_context(report_id, &v.sha256)).map_err(|e| StoreError::Other(format!("attachment {id}: {e}")))?;
    if hex::encode(Sha256::digest(&bytes)) != v.sha256 {
        return Err(StoreError::Other(format!("attachment {id}: digest mismatch")));
    }
    Ok((v, bytes))
}
