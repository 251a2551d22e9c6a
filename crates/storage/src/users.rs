//! People: accounts, their grants (role × area subtree), and the principal a request acts as.

use crate::audit::{self, Actor};
use crate::{bind_args, run, run_tx, scope_sql, Db, Page, StoreError, StoreResult};
use serde::Serialize;
use vigie_domain::access::{Grant, Principal};
use vigie_domain::area::{AreaCode, AreaPath};
use vigie_domain::{Invalid, Lang, Msg};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub org_id: Option<i64>,
    pub locale: String,
    pub disabled: bool,
    pub totp_enabled: bool,
    pub grants: Vec<GrantView>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct GrantView {
    pub role: String,
    pub area_code: String,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    username: String,
    display_name: String,
    org_id: Option<i64>,
    locale: String,
    disabled: bool,
    totp_secret: Option<String>,
}

pub fn parse_username(raw: &str) -> Result<String, Invalid> {
    let u = raw.trim().to_lowercase();
    let ok = (3..=64).contains(&u.len()) && u.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok {
        Ok(u)
    } else {
        Err(Invalid::new("username", Msg::InvalidUsername))
    }
}

pub struct NewUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub password: Option<&'a str>,
    pub org_id: Option<i64>,
    pub locale: Lang,
    pub grants: Vec<(String, AreaCode)>,
}

/// Creates an account with its first grants, checking the password policy.
pub async fn create(db: &Db, new: NewUser<'_>, actor: &Actor) -> StoreResult<User> {
    let username = parse_username(new.username)?;
    let display = vigie_domain::area::parse_name(new.display_name).map_err(|m| Invalid::new("display_name", m))?;
    let hash = match new.password {
        Some(p) => {
            vigie_domain::password::check(&username, p).map_err(|m| Invalid::new("password", m))?;
            Some(crate::auth::hash_password(p)?)
        }
        None => None,
    };
    if let Some(org) = new.org_id {
        crate::orgs::get(db, org).await.map_err(|e| match e {
            StoreError::NotFound => Invalid::new("org_id", Msg::UnknownOrganisation).into(),
            e => e,
        })?;
    }
    for (role, area) in &new.grants {
        check_grant(db, role, area).await?;
    }
    let mut tx = db.begin().await?;
    let id: i64 = run_tx!(&mut tx, c => {
        sqlx::query_scalar("INSERT INTO users (username, display_name, password_hash, org_id, locale, created_at) VALUES ($1,$2,$3,$4,$5,$6) RETURNING id")
            .bind(&username).bind(&display).bind(&hash).bind(new.org_id).bind(new.locale.code()).bind(crate::now())
            .fetch_one(&mut **c).await
    }).map_err(|e| match StoreError::from(e) {
        StoreError::Conflict(_) => StoreError::Invalid(Invalid::new("username", Msg::UsernameTaken)),
        e => e,
    })?;
    for (role, area) in &new.grants {
        run_tx!(&mut tx, c => {
            sqlx::query("INSERT INTO grants (user_id, role_name, area_code) VALUES ($1,$2,$3)").bind(id).bind(role).bind(area.as_str()).execute(&mut **c).await?;
        });
    }
    audit::append(&mut tx, actor, "user.create", "user", &id.to_string(), serde_json::json!({
        "username": username, "grants": new.grants.iter().map(|(r, a)| format!("{r}@{a}")).collect::<Vec<_>>()
    })).await?;
    tx.commit().await?;
    db.memo.forget_all();
    get(db, id).await
}

async fn check_grant(db: &Db, role: &str, area: &AreaCode) -> StoreResult<AreaPath> {
    crate::roles::get(db, role).await.map_err(|e| match e {
        StoreError::NotFound => Invalid::new("role", Msg::UnknownRole { name: role.into() }).into(),
        e => e,
    })?;
    crate::areas::path_of(db, area, "area_code").await
}

pub async fn add_grant(db: &Db, user_id: i64, role: &str, area: &AreaCode, actor: &Actor) -> StoreResult<()> {
    check_grant(db, role, area).await?;
    let mut tx = db.begin().await?;
    run_tx!(&mut tx, c => {
        sqlx::query("INSERT INTO grants (user_id, role_name, area_code) VALUES ($1,$2,$3) ON CONFLICT DO NOTHING")
            .bind(user_id).bind(role).bind(area.as_str()).execute(&mut **c).await?;
    });
    audit::append(&mut tx, actor, "grant.add", "user", &user_id.to_string(), serde_json::json!({"role": role, "area": area})).await?;
    tx.commit().await?;
    db.memo.forget_all(); // accounts, grants, roles or categories changed: see crate::memo
    Ok(())
}

pub async fn remove_grant(db: &Db, user_id: i64, role: &str, area: &AreaCode, actor: &Actor) -> StoreResult<()> {
    let mut tx = db.begin().await?;
    let n = run_tx!(&mut tx, c => {
        sqlx::query("DELETE FROM grants WHERE user_id = $1 AND role_name = $2 AND area_code = $3")
            .bind(user_id).bind(role).bind(area.as_str()).execute(&mut **c).await?.rows_affected()
    });
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    audit::append(&mut tx, actor, "grant.remove", "user", &user_id.to_string(), serde_json::json!({"role": role, "area": area})).await?;
    tx.commit().await?;
    db.memo.forget_all(); // accounts, grants, roles or categories changed: see crate::memo
    Ok(())
}

pub async fn get(db: &Db, id: i64) -> StoreResult<User> {
    // Read from the writer: callers read back what they just wrote.
    let row: Option<Row> = run!(&db.write, c => sqlx::query_as("SELECT id, username, display_name, org_id, locale, disabled, totp_secret FROM users WHERE id = $1").bind(id).fetch_optional(c).await?);
    let row = row.ok_or(StoreError::NotFound)?;
    let grants: Vec<GrantView> = run!(&db.write, c => sqlx::query_as("SELECT role_name AS role, area_code FROM grants WHERE user_id = $1 ORDER BY role_name, area_code").bind(id).fetch_all(c).await?);
    Ok(User {
        id: row.id,
        username: row.username,
        display_name: row.display_name,
        org_id: row.org_id,
        locale: row.locale,
        disabled: row.disabled,
        totp_enabled: row.totp_secret.is_some(),
        grants,
    })
}

pub async fn id_by_username(db: &Db, username: &str) -> StoreResult<i64> {
    let id: Option<i64> = run!(&db.write, c => sqlx::query_scalar("SELECT id FROM users WHERE username = $1").bind(username.trim().to_lowercase()).fetch_optional(c).await?);
    id.ok_or(StoreError::NotFound)
}

/// Paths of the areas a user's grants cover (to decide whether an admin may see or manage them).
pub async fn grant_paths(db: &Db, user_id: i64) -> StoreResult<Vec<AreaPath>> {
    let v: Vec<String> = run!(&db.read, c => sqlx::query_scalar("SELECT a.path FROM grants g JOIN areas a ON a.code = g.area_code WHERE g.user_id = $1").bind(user_id).fetch_all(c).await?);
    Ok(v.into_iter().map(AreaPath).collect())
}

/// Users with at least one grant inside `scope`.
pub async fn list(db: &Db, scope: &[AreaPath], page: i64, per_page: i64) -> StoreResult<Page<User>> {
    let mut args = Vec::new();
    let cond = scope_sql("a.path", scope, &mut args);
    let inner = format!("SELECT g.user_id FROM grants g JOIN areas a ON a.code = g.area_code WHERE {cond}");
    let count_sql = format!("SELECT COUNT(*) FROM users WHERE id IN ({inner})");
    let total: i64 = run!(&db.read, c => bind_args!(sqlx::query_scalar(&count_sql), &args).fetch_one(c).await?);
    let sql = format!("SELECT id FROM users WHERE id IN ({inner}) ORDER BY username LIMIT {per_page} OFFSET {}", (page - 1) * per_page);
    let ids: Vec<i64> = run!(&db.read, c => bind_args!(sqlx::query_scalar(&sql), &args).fetch_all(c).await?);
    let mut items = Vec::with_capacity(ids.len());
    for id in ids {
        items.push(get(db, id).await?);
    }
    Ok(Page { items, total, page, per_page })
}

/// Everything needed to decide what a user may do. None if the account is disabled or gone.
pub async fn principal(db: &Db, user_id: i64) -> StoreResult<Option<Principal>> {
    if let Some(p) = db.memo.principals.get(&db.memo, &user_id) {
        return Ok(Some(p));
    }
    let generation = db.memo.generation();
    let p = principal_read(db, user_id).await?;
    if let Some(p) = &p {
        db.memo.principals.put(generation, user_id, p.clone());
    }
    Ok(p)
}

async fn principal_read(db: &Db, user_id: i64) -> StoreResult<Option<Principal>> {
    #[derive(sqlx::FromRow)]
    struct G {
        role_name: String,
        permissions: String,
        path: String,
    }
    let user: Option<(String, bool)> = run!(&db.read, c => sqlx::query_as("SELECT username, disabled FROM users WHERE id = $1").bind(user_id).fetch_optional(c).await?);
    let Some((username, false)) = user else { return Ok(None) };
    let rows: Vec<G> = run!(&db.read, c => sqlx::query_as(
        "SELECT g.role_name, r.permissions, a.path FROM grants g JOIN roles r ON r.name = g.role_name JOIN areas a ON a.code = g.area_code WHERE g.user_id = $1"
    ).bind(user_id).fetch_all(c).await?);
    let grants = rows
        .into_iter()
        .map(|g| Grant {
            role: g.role_name,
            permissions: serde_json::from_str::<Vec<String>>(&g.permissions)
                .unwrap_or_default()
                .iter()
                .filter_map(|p| vigie_domain::access::Permission::parse(p).ok())
                .collect(),
            area: AreaPath(g.path),
        })
        .collect();
    Ok(Some(Principal { user_id, username, grants }))
}

pub async fn set_disabled(db: &Db, user_id: i64, disabled: bool, actor: &Actor) -> StoreResult<()> {
    let mut tx = db.begin().await?;
    let n = run_tx!(&mut tx, c => sqlx::query("UPDATE users SET disabled = $2 WHERE id = $1").bind(user_id).bind(disabled).execute(&mut **c).await?.rows_affected());
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    if disabled {
        run_tx!(&mut tx, c => { sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut **c).await?; });
    }
    audit::append(&mut tx, actor, if disabled { "user.disable" } else { "user.enable" }, "user", &user_id.to_string(), serde_json::json!({})).await?;
    tx.commit().await?;
    db.memo.forget_all(); // accounts, grants, roles or categories changed: see crate::memo
    Ok(())
}

/// Sets (or clears) an account's phone number: sealed at rest, found again by its blind index.
pub async fn set_phone(db: &Db, user_id: i64, phone: Option<&vigie_domain::phone::Phone>, actor: &Actor) -> StoreResult<()> {
    let keys = db.keys()?;
    let (sealed, index) = match phone {
        Some(p) => (Some(keys.seal(p.as_str().as_bytes(), &format!("users.phone:{user_id}"))), Some(keys.blind_index("phone", p.as_str()))),
        None => (None, None),
    };
    let mut tx = db.begin().await?;
    let n = run_tx!(&mut tx, c => sqlx::query("UPDATE users SET phone_sealed = $2, phone_index = $3 WHERE id = $1").bind(user_id).bind(sealed).bind(index).execute(&mut **c).await.map(|r| r.rows_affected()))
        .map_err(|e| match StoreError::from(e) {
            StoreError::Conflict(_) => StoreError::Invalid(Invalid::new("phone", Msg::Conflict)),
            e => e,
        })?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    audit::append(&mut tx, actor, "user.phone", "user", &user_id.to_string(), serde_json::json!({"set": phone.is_some()})).await?;
    tx.commit().await?;
    db.memo.forget_all(); // accounts, grants, roles or categories changed: see crate::memo
    Ok(())
}

/// The enabled account registered with this phone number (a focal point), if any.
pub async fn by_phone(db: &Db, phone: &str) -> StoreResult<Option<i64>> {
    let index = db.keys()?.blind_index("phone", phone);
    Ok(run!(&db.read, c => sqlx::query_scalar("SELECT id FROM users WHERE phone_index = $1 AND NOT disabled").bind(index).fetch_optional(c).await?))
}
