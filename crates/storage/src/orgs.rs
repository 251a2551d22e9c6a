//! Organisations: the institutions people work for (ministries, police and gendarmerie units,
//! CNDH, courts, NGOs, UN agencies, local security committees).

use crate::audit::{self, Actor};
use crate::{bind_args, run, run_tx, scope_sql, Arg, Db, Page, StoreError, StoreResult};
use serde::Serialize;
use vigie_domain::area::{AreaCode, AreaPath};
use vigie_domain::{Invalid, Msg};

pub const KINDS: &[&str] = &[
    "ministry", "police", "gendarmerie", "national_guard", "armed_forces", "prefecture", "municipality",
    "cndh", "inspection", "court", "prison", "ngo", "cso", "un_agency", "un_mission", "security_committee", "other",
];

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Organisation {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub area_code: String,
}

pub async fn create(db: &Db, name: &str, kind: &str, area: &AreaCode, actor: &Actor) -> StoreResult<Organisation> {
    let name = vigie_domain::area::parse_name(name).map_err(|m| Invalid::new("name", m))?;
    if !KINDS.contains(&kind) {
        return Err(Invalid::new("kind", Msg::InvalidOrgKind).into());
    }
    crate::areas::path_of(db, area, "area_code").await?;
    let mut tx = db.begin().await?;
    let id: i64 = run_tx!(&mut tx, c => {
        sqlx::query_scalar("INSERT INTO organisations (name, kind, area_code, created_at) VALUES ($1,$2,$3,$4) RETURNING id")
            .bind(&name).bind(kind).bind(area.as_str()).bind(crate::now()).fetch_one(&mut **c).await?
    });
    audit::append(&mut tx, actor, "organisation.create", "organisation", &id.to_string(), serde_json::json!({"name": name, "kind": kind, "area": area})).await?;
    tx.commit().await?;
    Ok(Organisation { id, name, kind: kind.into(), area_code: area.to_string() })
}

pub async fn get(db: &Db, id: i64) -> StoreResult<(Organisation, AreaPath)> {
    #[derive(sqlx::FromRow)]
    struct OrgRow {
        id: i64,
        name: String,
        kind: String,
        area_code: String,
        path: String,
    }
    let r: Option<OrgRow> = run!(&db.read, c => sqlx::query_as("SELECT o.id, o.name, o.kind, o.area_code, a.path FROM organisations o JOIN areas a ON a.code = o.area_code WHERE o.id = $1").bind(id).fetch_optional(c).await?);
    let r = r.ok_or(StoreError::NotFound)?;
    Ok((Organisation { id: r.id, name: r.name, kind: r.kind, area_code: r.area_code }, AreaPath(r.path)))
}

pub async fn list(db: &Db, scope: &[AreaPath], kind: Option<&str>, page: i64, per_page: i64) -> StoreResult<Page<Organisation>> {
    let mut args = Vec::new();
    let mut conds = vec![scope_sql("a.path", scope, &mut args)];
    if let Some(k) = kind {
        args.push(Arg::Text(k.into()));
        conds.push(format!("o.kind = ${}", args.len()));
    }
    let wher = conds.join(" AND ");
    let from = "FROM organisations o JOIN areas a ON a.code = o.area_code";
    let count_sql = format!("SELECT COUNT(*) {from} WHERE {wher}");
    let total: i64 = run!(&db.read, c => bind_args!(sqlx::query_scalar(&count_sql), &args).fetch_one(c).await?);
    let sql = format!("SELECT o.id, o.name, o.kind, o.area_code {from} WHERE {wher} ORDER BY o.name LIMIT {per_page} OFFSET {}", (page - 1) * per_page);
    let items: Vec<Organisation> = run!(&db.read, c => bind_args!(sqlx::query_as(&sql), &args).fetch_all(c).await?);
    Ok(Page { items, total, page, per_page })
}
