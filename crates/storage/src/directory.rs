//! The directory of resource persons. Phone and email are sealed with the keyring (bound to
//! their row and column), opened only for an audience the person allowed to see them, and
//! erased when consent is withdrawn. The one filter that makes an entry public
//! ([`LISTED`]: published, consent recorded, not withdrawn) is applied by every public read,
//! search and export here, so no public output can forget it. Every write, and every opening
//! of hidden contact details by a manager, is audit-logged in the same transaction.

use crate::audit::{self, Actor};
use crate::{bind_args, run, run_tx, scope_sql, Arg, Db, Page, StoreError, StoreResult};
use chrono::NaiveDate;
use serde::Serialize;
use vigie_domain::area::AreaPath;
use vigie_domain::governance::directory::{
    check_publishable, may_see, Audience, Consent, ConsentMethod, EntryInput, Expertise, FieldVisibility, Visibility,
};
use vigie_domain::governance::{AgeGroup, GovMsg, Sex};
use vigie_domain::{Invalid, LineError, Msg};

/// Entries anyone but a manager may see.
pub const LISTED: &str = "published AND consent_on IS NOT NULL AND withdrawn_on IS NULL";

fn ctx(column: &str, id: i64) -> String {
    format!("gov_directory.{column}:{id}")
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VisibilityView {
    pub name: String,
    pub organisation: String,
    pub phone: String,
    pub email: String,
}

/// What only the directory's managers see: consent, publication, each field's visibility.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Management {
    pub consent_on: Option<NaiveDate>,
    /// written, oral, sms, form
    pub consent_method: Option<String>,
    pub published: bool,
    pub withdrawn_on: Option<NaiveDate>,
    /// Shown to the public and partners now.
    pub listed: bool,
    pub visibility: VisibilityView,
    pub has_phone: bool,
    pub has_email: bool,
}

/// An entry as one audience sees it: a field the person did not open to it is absent (null).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EntryView {
    pub id: i64,
    pub full_name: Option<String>,
    /// `f` or `m`
    pub sex: String,
    /// `youth`, `adult` or `elder`
    pub age_group: String,
    pub organisation: Option<String>,
    pub area_code: String,
    /// mediation, gender, human_rights, security_sector, languages
    pub expertise: Vec<String>,
    pub languages: Vec<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub management: Option<Management>,
    #[serde(skip)]
    pub area_path: String,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    full_name: String,
    sex: String,
    age_group: String,
    organisation: Option<String>,
    area_code: String,
    area_path: String,
    expertise: String,
    languages: String,
    phone_sealed: Option<String>,
    email_sealed: Option<String>,
    vis_name: String,
    vis_organisation: String,
    vis_phone: String,
    vis_email: String,
    consent_on: Option<NaiveDate>,
    consent_method: Option<String>,
    published: bool,
    withdrawn_on: Option<NaiveDate>,
}

const COLS: &str = "id, full_name, sex, age_group, organisation, area_code, area_path, expertise, languages, phone_sealed, email_sealed, \
    vis_name, vis_organisation, vis_phone, vis_email, consent_on, consent_method, published, withdrawn_on";

fn vis(s: &str) -> Visibility {
    Visibility::parse(s).unwrap_or(Visibility::Hidden)
}

impl Row {
    fn listed(&self) -> bool {
        self.published && self.consent_on.is_some() && self.withdrawn_on.is_none()
    }

    /// The entry as `audience` sees it; `reveal` opens hidden contact details (managers only).
    fn view(self, db: &Db, audience: Audience, reveal: bool) -> StoreResult<EntryView> {
        // Managers see every field's value only when they ask to (and that is logged);
        // otherwise they see what partners see, plus the management block.
        let seen_as = if audience == Audience::Manager && !reveal { Audience::Partner } else { audience };
        let open = |sealed: &Option<String>, column: &str, v: Visibility| -> StoreResult<Option<String>> {
            match sealed {
                Some(s) if may_see(v, seen_as) => {
                    Ok(Some(db.keys()?.open_string(s, &ctx(column, self.id)).map_err(|e| StoreError::Other(format!("directory {}: {e}", self.id)))?))
                }
                _ => Ok(None),
            }
        };
        let phone = open(&self.phone_sealed, "phone", vis(&self.vis_phone))?;
        let email = open(&self.email_sealed, "email", vis(&self.vis_email))?;
        let management = (audience == Audience::Manager).then(|| Management {
            consent_on: self.consent_on,
            consent_method: self.consent_method.clone(),
            published: self.published,
            withdrawn_on: self.withdrawn_on,
            listed: self.listed(),
            visibility: VisibilityView { name: self.vis_name.clone(), organisation: self.vis_organisation.clone(), phone: self.vis_phone.clone(), email: self.vis_email.clone() },
            has_phone: self.phone_sealed.is_some(),
            has_email: self.email_sealed.is_some(),
        });
        Ok(EntryView {
            id: self.id,
            full_name: may_see(vis(&self.vis_name), seen_as).then_some(self.full_name),
            sex: self.sex,
            age_group: self.age_group,
            organisation: self.organisation.filter(|_| may_see(vis(&self.vis_organisation), seen_as)),
            area_code: self.area_code,
            expertise: serde_json::from_str(&self.expertise).unwrap_or_default(),
            languages: serde_json::from_str(&self.languages).unwrap_or_default(),
            phone,
            email,
            management,
            area_path: self.area_path,
        })
    }
}

/// Records an entry; it is published only if the input asks for it and consent is recorded.
pub async fn create(db: &Db, e: &EntryInput, actor: &Actor) -> StoreResult<i64> {
    let path = crate::areas::path_of(db, &e.area, "area_code").await?;
    let mut tx = db.begin().await?;
    let id = insert(&mut tx, db, e, &path, actor).await?;
    tx.commit().await?;
    Ok(id)
}

async fn insert(tx: &mut crate::Tx, db: &Db, e: &EntryInput, path: &AreaPath, actor: &Actor) -> StoreResult<i64> {
    if e.published {
        check_publishable(e.consent.as_ref(), None)?;
    }
    let keys = db.keys()?;
    let now = crate::now();
    let expertise: Vec<&str> = e.expertise.iter().map(|x| x.as_str()).collect();
    let id: i64 = run_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO gov_directory (full_name, sex, age_group, organisation, area_code, area_path, expertise, languages, vis_name, vis_organisation, vis_phone, vis_email, \
         consent_on, consent_method, published, created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$16) RETURNING id"
    ).bind(&e.full_name).bind(e.sex.as_str()).bind(e.age_group.as_str()).bind(&e.organisation).bind(e.area.as_str()).bind(&path.0)
     .bind(serde_json::to_string(&expertise).unwrap()).bind(serde_json::to_string(&e.languages).unwrap())
     .bind(e.visibility.name.as_str()).bind(e.visibility.organisation.as_str()).bind(e.visibility.phone.as_str()).bind(e.visibility.email.as_str())
     .bind(e.consent.as_ref().map(|c| c.given_on)).bind(e.consent.as_ref().map(|c| c.method.as_str())).bind(e.published).bind(now)
     .fetch_one(&mut **c).await?);
    // Sealed after the insert: the context names the row, so a value copied elsewhere does not open.
    let phone = e.phone.as_ref().map(|p| keys.seal(p.as_str().as_bytes(), &ctx("phone", id)));
    let email = e.email.as_ref().map(|m| keys.seal(m.as_str().as_bytes(), &ctx("email", id)));
    run_tx!(tx, c => { sqlx::query("UPDATE gov_directory SET phone_sealed = $2, email_sealed = $3 WHERE id = $1").bind(id).bind(phone).bind(email).execute(&mut **c).await?; });
    audit::append(tx, actor, "directory.create", "directory_entry", &id.to_string(), serde_json::json!({
        "area": e.area, "expertise": expertise, "consent": e.consent.as_ref().map(|c| serde_json::json!({"on": c.given_on, "method": c.method.as_str()})),
        "published": e.published, "contact": {"phone": e.phone.is_some(), "email": e.email.is_some()},
    })).await?;
    Ok(id)
}

async fn row(db: &Db, id: i64) -> StoreResult<Row> {
    let r: Option<Row> = run!(&db.write, c => sqlx::query_as(&format!("SELECT {COLS} FROM gov_directory WHERE id = $1")).bind(id).fetch_optional(c).await?);
    r.ok_or(StoreError::NotFound)
}

/// The area of an entry, for access checks.
pub async fn entry_area(db: &Db, id: i64) -> StoreResult<AreaPath> {
    Ok(AreaPath(row(db, id).await?.area_path))
}

/// One entry. The public and partners only get listed entries (others are "not found");
/// a manager asking to `reveal` opens hidden contact details, and that is audit-logged.
pub async fn get(db: &Db, id: i64, audience: Audience, reveal: bool, actor: Option<&Actor>) -> StoreResult<EntryView> {
    let r = row(db, id).await?;
    if audience != Audience::Manager && !r.listed() {
        return Err(StoreError::NotFound);
    }
    let reveal = reveal && audience == Audience::Manager;
    if reveal {
        let actor = actor.ok_or_else(|| StoreError::Other("reveal without an actor".into()))?;
        let mut tx = db.begin().await?;
        audit::append(&mut tx, actor, "directory.contact_read", "directory_entry", &id.to_string(), serde_json::json!({})).await?;
        tx.commit().await?;
    }
    r.view(db, audience, reveal)
}

/// Records the person's consent (date and method) and, if asked, publishes the entry.
pub async fn record_consent(db: &Db, id: i64, consent: &Consent, publish: bool, actor: &Actor, today: NaiveDate) -> StoreResult<EntryView> {
    let r = row(db, id).await?;
    if r.withdrawn_on.is_some() {
        return Err(Invalid::new("consent_on", Msg::from(GovMsg::ConsentWithdrawn)).into());
    }
    if consent.given_on > today {
        return Err(Invalid::new("consent_on", Msg::from(GovMsg::ConsentInFuture)).into());
    }
    let mut tx = db.begin().await?;
    run_tx!(&mut tx, c => { sqlx::query("UPDATE gov_directory SET consent_on = $2, consent_method = $3, published = $4, updated_at = $5 WHERE id = $1")
        .bind(id).bind(consent.given_on).bind(consent.method.as_str()).bind(publish || r.published).bind(crate::now()).execute(&mut **c).await?; });
    audit::append(&mut tx, actor, "directory.consent", "directory_entry", &id.to_string(), serde_json::json!({"on": consent.given_on, "method": consent.method.as_str(), "published": publish || r.published})).await?;
    tx.commit().await?;
    row(db, id).await?.view(db, Audience::Manager, false)
}

/// Publishes or unpublishes an entry; publishing needs consent recorded and not withdrawn.
pub async fn set_published(db: &Db, id: i64, published: bool, actor: &Actor) -> StoreResult<EntryView> {
    let r = row(db, id).await?;
    if published {
        let consent = r.consent_on.zip(r.consent_method.as_deref().and_then(|m| ConsentMethod::parse(m).ok())).map(|(given_on, method)| Consent { given_on, method });
        check_publishable(consent.as_ref(), r.withdrawn_on)?;
    }
    let mut tx = db.begin().await?;
    run_tx!(&mut tx, c => { sqlx::query("UPDATE gov_directory SET published = $2, updated_at = $3 WHERE id = $1").bind(id).bind(published).bind(crate::now()).execute(&mut **c).await?; });
    audit::append(&mut tx, actor, if published { "directory.publish" } else { "directory.unpublish" }, "directory_entry", &id.to_string(), serde_json::json!({})).await?;
    tx.commit().await?;
    row(db, id).await?.view(db, Audience::Manager, false)
}

/// The person withdrew consent: the entry leaves every public view and export at once, its
/// contact details are erased (not merely hidden), and it cannot be published again. The
/// name stays, unpublished, as the record that this person asked not to be listed.
pub async fn withdraw(db: &Db, id: i64, on: NaiveDate, actor: &Actor) -> StoreResult<EntryView> {
    row(db, id).await?;
    let mut tx = db.begin().await?;
    run_tx!(&mut tx, c => { sqlx::query(
        "UPDATE gov_directory SET withdrawn_on = $2, published = FALSE, phone_sealed = NULL, email_sealed = NULL, updated_at = $3 WHERE id = $1"
    ).bind(id).bind(on).bind(crate::now()).execute(&mut **c).await?; });
    audit::append(&mut tx, actor, "directory.withdraw", "directory_entry", &id.to_string(), serde_json::json!({"on": on})).await?;
    tx.commit().await?;
    row(db, id).await?.view(db, Audience::Manager, false)
}

/// Search criteria; all optional.
#[derive(Debug, Clone, Default)]
pub struct Search {
    pub expertise: Option<Expertise>,
    /// An area subtree (the entry's area within it).
    pub area: Option<AreaPath>,
    /// A folded language name (see `vigie_domain::governance::directory::parse_language`).
    pub language: Option<String>,
    pub sex: Option<Sex>,
    pub age_group: Option<AgeGroup>,
}

fn where_clause(s: &Search, audience: Audience, scope: Option<&[AreaPath]>, args: &mut Vec<Arg>) -> String {
    let mut conds: Vec<String> = Vec::new();
    if audience != Audience::Manager {
        conds.push(LISTED.into());
    }
    if let Some(sc) = scope {
        conds.push(scope_sql("area_path", sc, args));
    }
    if let Some(a) = &s.area {
        conds.push(scope_sql("area_path", std::slice::from_ref(a), args));
    }
    if let Some(e) = s.expertise {
        args.push(Arg::Text(format!("%\"{}\"%", e.as_str())));
        conds.push(format!("expertise LIKE ${}", args.len()));
    }
    if let Some(l) = &s.language {
        // Folded names are letters and spaces only, so no LIKE wildcard can slip in.
        args.push(Arg::Text(format!("%\"{l}\"%")));
        conds.push(format!("languages LIKE ${}", args.len()));
    }
    if let Some(x) = s.sex {
        args.push(Arg::Text(x.as_str().into()));
        conds.push(format!("sex = ${}", args.len()));
    }
    if let Some(a) = s.age_group {
        args.push(Arg::Text(a.as_str().into()));
        conds.push(format!("age_group = ${}", args.len()));
    }
    if conds.is_empty() {
        "1 = 1".into()
    } else {
        conds.join(" AND ")
    }
}

/// Searches the directory as `audience` sees it. The public and partners only ever get listed
/// entries; `scope` (the caller's area subtrees) restricts partners and managers.
pub async fn search(db: &Db, s: &Search, audience: Audience, scope: Option<&[AreaPath]>, page: i64, per_page: i64) -> StoreResult<Page<EntryView>> {
    let mut args = Vec::new();
    let w = where_clause(s, audience, scope, &mut args);
    let count_sql = format!("SELECT COUNT(*) FROM gov_directory WHERE {w}");
    let total: i64 = run!(&db.read, c => bind_args!(sqlx::query_scalar(&count_sql), &args).fetch_one(c).await?);
    let sql = format!("SELECT {COLS} FROM gov_directory WHERE {w} ORDER BY area_path, id LIMIT {per_page} OFFSET {}", (page - 1) * per_page);
    let rows: Vec<Row> = run!(&db.read, c => bind_args!(sqlx::query_as(&sql), &args).fetch_all(c).await?);
    let items = rows.into_iter().map(|r| r.view(db, audience, false)).collect::<StoreResult<Vec<_>>>()?;
    Ok(Page { items, total, page, per_page })
}

fn csv_field(s: &str) -> String {
    // A spreadsheet would run a cell starting with = + - @ as a formula.
    let s = if s.starts_with(['=', '+', '-', '@']) && !s[1..].chars().all(|c| c.is_ascii_digit()) { format!("'{s}") } else { s.to_string() };
    if s.contains([',', '"', '\n', '\r', ';']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// The directory as CSV for `audience` (same filter and field rules as [`search`]).
pub async fn export_csv(db: &Db, s: &Search, audience: Audience, scope: Option<&[AreaPath]>) -> StoreResult<String> {
    let mut args = Vec::new();
    let w = where_clause(s, audience, scope, &mut args);
    let sql = format!("SELECT {COLS} FROM gov_directory WHERE {w} ORDER BY area_path, id");
    let rows: Vec<Row> = run!(&db.read, c => bind_args!(sqlx::query_as(&sql), &args).fetch_all(c).await?);
    let mut out = String::from("id,full_name,sex,age_group,organisation,area,expertise,languages,phone,email\n");
    for r in rows {
        let v = r.view(db, audience, false)?;
        let cells = [
            v.id.to_string(),
            v.full_name.unwrap_or_default(),
            v.sex,
            v.age_group,
            v.organisation.unwrap_or_default(),
            v.area_code,
            v.expertise.join(";"),
            v.languages.join(";"),
            v.phone.unwrap_or_default(),
            v.email.unwrap_or_default(),
        ];
        out.push_str(&cells.iter().map(|c| csv_field(c)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    Ok(out)
}

/// Applies an imported file: every entry, or none (errors by line).
pub async fn import(db: &Db, rows: &[(usize, EntryInput)], actor: &Actor) -> StoreResult<usize> {
    let mut errors = Vec::new();
    let mut paths = Vec::new();
    for (line, e) in rows {
        match crate::areas::path_of(db, &e.area, "area").await {
            Ok(p) => paths.push(p),
            Err(StoreError::Invalid(i)) => {
                errors.push(LineError { line: *line, field: i.field, msg: i.msg });
                paths.push(AreaPath(String::new()));
            }
            Err(e) => return Err(e),
        }
    }
    if !errors.is_empty() {
        return Err(StoreError::Lines(errors));
    }
    let mut tx = db.begin().await?;
    for ((line, e), p) in rows.iter().zip(&paths) {
        match insert(&mut tx, db, e, p, actor).await {
            Ok(_) => {}
            Err(StoreError::Invalid(i)) => errors.push(LineError { line: *line, field: i.field, msg: i.msg }),
            Err(e) => return Err(e),
        }
    }
    if !errors.is_empty() {
        return Err(StoreError::Lines(errors));
    }
    tx.commit().await?;
    Ok(rows.len())
}

/// Default visibility, re-exported for forms.
pub fn default_visibility() -> FieldVisibility {
    FieldVisibility::default()
}
