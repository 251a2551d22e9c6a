//! Credentials: argon2id passwords with lockout, API tokens and browser sessions.
//! Only hashes of tokens and session ids are stored; the secrets are shown once.

use crate::audit::{self, Actor};
use crate::{run, run_tx, Db, StoreError, StoreResult};
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};

pub const MAX_FAILED_LOGINS: i32 = 5;
pub const LOCKOUT_MINUTES: i64 = 15;

pub fn hash_password(password: &str) -> StoreResult<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Other(format!("argon2: {e}")))
}

fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// A random secret, URL-safe, with a prefix that says what it is (and lets secret scanners find leaks).
pub fn random_secret(prefix: &str) -> String {
    let mut b = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut b);
    format!("{prefix}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b))
}

pub fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

#[derive(Debug, PartialEq, Eq)]
pub enum Login {
    Ok { user_id: i64, totp_secret: Option<String> },
    Bad,
    Locked { minutes: i64 },
}

/// Checks a username and password, counting failures and locking the account after too many.
/// Unknown users cost the same argon2 work, so timing does not reveal which names exist.
pub async fn check_password(db: &Db, username: &str, password: &str) -> StoreResult<Login> {
    #[derive(sqlx::FromRow)]
    struct LoginRow {
        id: i64,
        password_hash: Option<String>,
        disabled: bool,
        totp_secret: Option<String>,
        failed_logins: i32,
        locked_until: Option<DateTime<Utc>>,
    }
    let name = username.trim().to_lowercase();
    let r: Option<LoginRow> = run!(&db.write, c => sqlx::query_as(
        "SELECT id, password_hash, disabled, totp_secret, failed_logins, locked_until FROM users WHERE username = $1"
    ).bind(&name).fetch_optional(c).await?);
    const DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2lbsJ6Bi5/2VgS7cmjPZ8hYJHlCgHKD6s6xS7Tc8Dqs";
    let Some(r) = r else {
        verify_password(password, DUMMY);
        return Ok(Login::Bad);
    };
    let now = crate::now();
    if let Some(until) = r.locked_until.filter(|u| *u > now) {
        return Ok(Login::Locked { minutes: (until - now).num_minutes() + 1 });
    }
    let ok = verify_password(password, r.password_hash.as_deref().unwrap_or(DUMMY)) && r.password_hash.is_some() && !r.disabled;
    if ok {
        if r.failed_logins > 0 {
            run!(&db.write, c => { sqlx::query("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1").bind(r.id).execute(c).await?; });
        }
        let totp_secret = match r.totp_secret {
            Some(sealed) => Some(db.keys()?.open_string(&sealed, &totp_context(r.id)).map_err(|e| StoreError::Other(e.to_string()))?),
            None => None,
        };
        Ok(Login::Ok { user_id: r.id, totp_secret })
    } else {
        record_failure(db, r.id).await?;
        Ok(Login::Bad)
    }
}

/// Counts a failed sign-in (bad password or bad one-time code); locks after MAX_FAILED_LOGINS.
pub async fn record_failure(db: &Db, user_id: i64) -> StoreResult<()> {
    let mut tx = db.begin().await?;
    let failed: i32 = run_tx!(&mut tx, c => sqlx::query_scalar("UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1 RETURNING failed_logins").bind(user_id).fetch_one(&mut **c).await?);
    if failed >= MAX_FAILED_LOGINS {
        let until = crate::now() + Duration::minutes(LOCKOUT_MINUTES);
        run_tx!(&mut tx, c => { sqlx::query("UPDATE users SET failed_logins = 0, locked_until = $2 WHERE id = $1").bind(user_id).bind(until).execute(&mut **c).await?; });
        audit::append(&mut tx, &Actor::system("auth"), "user.lockout", "user", &user_id.to_string(), serde_json::json!({"minutes": LOCKOUT_MINUTES})).await?;
    }
    tx.commit().await
}

pub async fn set_password(db: &Db, user_id: i64, password: &str, actor: &Actor) -> StoreResult<()> {
    let u = crate::users::get(db, user_id).await?;
    vigie_domain::password::check(&u.username, password).map_err(|m| vigie_domain::Invalid::new("password", m))?;
    let h = hash_password(password)?;
    let mut tx = db.begin().await?;
    run_tx!(&mut tx, c => { sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1").bind(user_id).bind(h).execute(&mut **c).await?; });
    run_tx!(&mut tx, c => { sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut **c).await?; });
    audit::append(&mut tx, actor, "user.password", "user", &user_id.to_string(), serde_json::json!({})).await?;
    tx.commit().await
}

fn totp_context(user_id: i64) -> String {
    format!("users.totp_secret:{user_id}")
}

/// Stores (sealed) or clears a user's two-factor secret.
pub async fn set_totp_secret(db: &Db, user_id: i64, secret: Option<&str>, actor: &Actor) -> StoreResult<()> {
    let sealed = match secret {
        Some(s) => Some(db.keys()?.seal(s.as_bytes(), &totp_context(user_id))),
        None => None,
    };
    let mut tx = db.begin().await?;
    run_tx!(&mut tx, c => { sqlx::query("UPDATE users SET totp_secret = $2 WHERE id = $1").bind(user_id).bind(sealed).execute(&mut **c).await?; });
    audit::append(&mut tx, actor, if secret.is_some() { "user.totp_enable" } else { "user.totp_disable" }, "user", &user_id.to_string(), serde_json::json!({})).await?;
    tx.commit().await
}

/// Makes an API token for a user; returns the token, which is never stored in clear.
pub async fn create_token(db: &Db, user_id: i64, name: &str, expires_at: Option<DateTime<Utc>>, actor: &Actor) -> StoreResult<String> {
    let token = random_secret("vgt_");
    let mut tx = db.begin().await?;
    let id: i64 = run_tx!(&mut tx, c => sqlx::query_scalar(
        "INSERT INTO api_tokens (user_id, name, token_hash, created_at, expires_at) VALUES ($1,$2,$3,$4,$5) RETURNING id"
    ).bind(user_id).bind(name).bind(sha256_hex(&token)).bind(crate::now()).bind(expires_at).fetch_one(&mut **c).await?);
    audit::append(&mut tx, actor, "token.create", "user", &user_id.to_string(), serde_json::json!({"token_id": id, "name": name, "expires_at": expires_at})).await?;
    tx.commit().await?;
    Ok(token)
}

#[derive(Debug, PartialEq, Eq)]
pub enum Credential {
    Valid { user_id: i64 },
    Expired,
    Unknown,
}

pub async fn token_user(db: &Db, token: &str) -> StoreResult<Credential> {
    let hash = sha256_hex(token);
    let r = match db.memo.tokens.get(&db.memo, &hash) {
        Some((user_id, expires_at)) => Some((user_id, expires_at, None)),
        None => {
            let generation = db.memo.generation();
            let r: Option<(i64, Option<DateTime<Utc>>, Option<DateTime<Utc>>)> = run!(&db.read, c => sqlx::query_as(
                "SELECT user_id, expires_at, revoked_at FROM api_tokens WHERE token_hash = $1"
            ).bind(&hash).fetch_optional(c).await?);
            if let Some((user_id, expires_at, None)) = r {
                db.memo.tokens.put(generation, hash, (user_id, expires_at));
            }
            r
        }
    };
    Ok(match r {
        None => Credential::Unknown,
        Some((_, _, Some(_))) => Credential::Expired,
        Some((_, Some(exp), None)) if exp <= crate::now() => Credential::Expired,
        Some((user_id, _, None)) => Credential::Valid { user_id },
    })
}

pub async fn revoke_tokens(db: &Db, user_id: i64, actor: &Actor) -> StoreResult<u64> {
    let mut tx = db.begin().await?;
    let n = run_tx!(&mut tx, c => sqlx::query("UPDATE api_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL").bind(user_id).bind(crate::now()).execute(&mut **c).await?.rows_affected());
    audit::append(&mut tx, actor, "token.revoke_all", "user", &user_id.to_string(), serde_json::json!({"count": n})).await?;
    tx.commit().await?;
    db.memo.forget_all();
    Ok(n)
}

pub struct NewSession {
    pub cookie: String,
    pub csrf: String,
    pub expires_at: DateTime<Utc>,
}

pub async fn create_session(db: &Db, user_id: i64, ttl: Duration) -> StoreResult<NewSession> {
    let cookie = random_secret("");
    let csrf = random_secret("");
    let now = crate::now();
    let expires_at = now + ttl;
    let mut tx = db.begin().await?;
    run_tx!(&mut tx, c => { sqlx::query("INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1,$2,$3,$4,$5)")
        .bind(sha256_hex(&cookie)).bind(user_id).bind(&csrf).bind(now).bind(expires_at).execute(&mut **c).await?; });
    audit::append(&mut tx, &Actor { id: Some(user_id), label: format!("user:{user_id}") }, "session.create", "user", &user_id.to_string(), serde_json::json!({})).await?;
    tx.commit().await?;
    Ok(NewSession { cookie, csrf, expires_at })
}

pub enum SessionState {
    Valid { user_id: i64, csrf: String },
    Expired,
    Unknown,
}

pub async fn session(db: &Db, cookie: &str) -> StoreResult<SessionState> {
    let r: Option<(i64, String, DateTime<Utc>)> = run!(&db.read, c => sqlx::query_as(
        "SELECT user_id, csrf_token, expires_at FROM sessions WHERE id_hash = $1"
    ).bind(sha256_hex(cookie)).fetch_optional(c).await?);
    Ok(match r {
        None => SessionState::Unknown,
        Some((_, _, exp)) if exp <= crate::now() => SessionState::Expired,
        Some((user_id, csrf, _)) => SessionState::Valid { user_id, csrf },
    })
}

pub async fn delete_session(db: &Db, cookie: &str) -> StoreResult<()> {
    run!(&db.write, c => { sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(sha256_hex(cookie)).execute(c).await?; });
    Ok(())
}

pub async fn totp_secret(db: &Db, user_id: i64) -> StoreResult<Option<String>> {
    let s: Option<Option<String>> = run!(&db.write, c => sqlx::query_scalar("SELECT totp_secret FROM users WHERE id = $1").bind(user_id).fetch_optional(c).await?);
    match s.flatten() {
        Some(sealed) => Ok(Some(db.keys()?.open_string(&sealed, &totp_context(user_id)).map_err(|e| StoreError::Other(e.to_string()))?)),
        None => Ok(None),
    }
}
