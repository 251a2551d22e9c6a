//! Roles: named sets of permissions. Built-in roles are written at every migration;
//! admins define their own (fixed roles are a known complaint about ODK Central).

use crate::audit::{self, Actor};
use crate::{run, run_tx, Db, StoreError, StoreResult};
use serde::Serialize;
use std::collections::BTreeSet;
use vigie_domain::access::{builtin_roles, parse_role_name, Permission};
use vigie_domain::{Invalid, Msg};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Role {
    pub name: String,
    pub label: String,
    pub permissions: Vec<String>,
    pub builtin: bool,
}

#[derive(sqlx::FromRow)]
struct Row {
    name: String,
    label: String,
    permissions: String,
    builtin: bool,
}

impl From<Row> for Role {
    fn from(r: Row) -> Role {
        Role { name: r.name, label: r.label, permissions: serde_json::from_str(&r.permissions).unwrap_or_default(), builtin: r.builtin }
    }
}

fn perms_json(perms: &BTreeSet<Permission>) -> String {
    serde_json::to_string(&perms.iter().map(|p| p.name()).collect::<Vec<_>>()).unwrap()
}

pub fn parse_permissions(names: &[String]) -> Result<BTreeSet<Permission>, Invalid> {
    names.iter().map(|n| Permission::parse(n).map_err(|m| Invalid::new("permissions", m))).collect()
}

pub(crate) async fn ensure_builtin(db: &Db) -> StoreResult<()> {
    let mut tx = db.begin().await?;
    for (name, label, perms) in builtin_roles() {
        let perms = perms_json(&perms.into_iter().collect());
        run_tx!(&mut tx, c => {
            sqlx::query("INSERT INTO roles (name, label, permissions, builtin) VALUES ($1,$2,$3,TRUE) \
                         ON CONFLICT (name) DO UPDATE SET label = excluded.label, permissions = excluded.permissions, builtin = TRUE")
                .bind(name).bind(label).bind(perms).execute(&mut **c).await?;
        });
    }
    tx.commit().await?;
    db.memo.forget_all(); // accounts, grants, roles or categories changed: see crate::memo
    Ok(())
}

pub async fn list(db: &Db) -> StoreResult<Vec<Role>> {
    let rows: Vec<Row> = run!(&db.read, c => sqlx::query_as("SELECT name, label, permissions, builtin FROM roles ORDER BY builtin DESC, name").fetch_all(c).await?);
    Ok(rows.into_iter().map(Into::into).collect())
}

pub async fn get(db: &Db, name: &str) -> StoreResult<Role> {
    let row: Option<Row> = run!(&db.write, c => sqlx::query_as("SELECT name, label, permissions, builtin FROM roles WHERE name = $1").bind(name).fetch_optional(c).await?);
    row.map(Into::into).ok_or(StoreError::NotFound)
}

/// Creates a role, or replaces the permissions of a custom one.
pub async fn save(db: &Db, name: &str, label: &str, permissions: &[String], create: bool, actor: &Actor) -> StoreResult<Role> {
    let name = parse_role_name(name).map_err(|m| Invalid::new("name", m))?;
    let label = vigie_domain::area::parse_name(label).map_err(|m| Invalid::new("label", m))?;
    let perms = parse_permissions(permissions)?;
    let mut tx = db.begin().await?;
    let existing: Option<bool> = run_tx!(&mut tx, c => sqlx::query_scalar("SELECT builtin FROM roles WHERE name = $1").bind(&name).fetch_optional(&mut **c).await?);
    match (existing, create) {
        (Some(_), true) => return Err(Invalid::new("name", Msg::RoleExists { name }).into()),
        (None, false) => return Err(StoreError::NotFound),
        (Some(true), false) => return Err(Invalid::new("name", Msg::BuiltinRoleReadOnly).into()),
        _ => {}
    }
    let pj = perms_json(&perms);
    run_tx!(&mut tx, c => {
        sqlx::query("INSERT INTO roles (name, label, permissions, builtin) VALUES ($1,$2,$3,FALSE) \
                     ON CONFLICT (name) DO UPDATE SET label = excluded.label, permissions = excluded.permissions")
            .bind(&name).bind(&label).bind(&pj).execute(&mut **c).await?;
    });
    audit::append(&mut tx, actor, if create { "role.create" } else { "role.update" }, "role", &name, serde_json::json!({"permissions": perms.iter().map(|p| p.name()).collect::<Vec<_>>()})).await?;
    tx.commit().await?;
    db.memo.forget_all();
    Ok(Role { name, label, permissions: perms.iter().map(|p| p.name().to_string()).collect(), builtin: false })
}
