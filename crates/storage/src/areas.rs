//! Areas: the org-unit tree. Paths are kept materialised (`ML/ML-5/ML-5-MOPTI`) so that a
//! subtree is one index range scan on both backends.

use crate::audit::{self, Actor};
use crate::{bind_args, run, run_tx, scope_sql, Arg, Db, Page, StoreError, StoreResult, Tx};
use serde::Serialize;
use vigie_domain::area::{check_parent_level, AreaCode, AreaInput, AreaLevel, AreaPath};
use vigie_domain::import::areas::AreaRow;
use vigie_domain::{Invalid, LineError, Msg};

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Area {
    pub code: String,
    pub parent: Option<String>,
    pub level: String,
    pub name: String,
    pub path: String,
    pub tags: Vec<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// GeoJSON geometry, only when asked for (`?geometry=true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub geometry: Option<serde_json::Value>,
}

#[derive(sqlx::FromRow)]
struct Row {
    code: String,
    parent_code: Option<String>,
    level: String,
    name: String,
    path: String,
    lat: Option<f64>,
    lon: Option<f64>,
    geometry: Option<String>,
    tags: Option<String>,
}

impl Row {
    fn into_area(self, with_geometry: bool) -> Area {
        let mut tags: Vec<String> = self
            .tags
            .map(|t| t.split('\u{1f}').filter(|s| !s.is_empty()).map(str::to_string).collect())
            .unwrap_or_default();
        tags.sort();
        Area {
            code: self.code,
            parent: self.parent_code,
            level: self.level,
            name: self.name,
            path: self.path,
            tags,
            lat: self.lat,
            lon: self.lon,
            geometry: if with_geometry { self.geometry.and_then(|g| serde_json::from_str(&g).ok()) } else { None },
        }
    }
}

/// Tags are folded in with the unit separator (no tag contains it); both backends have an aggregate for it.
fn select(db_is_pg: bool) -> String {
    let agg = if db_is_pg { "string_agg(t.tag, chr(31))" } else { "group_concat(t.tag, char(31))" };
    format!(
        "SELECT a.code, a.parent_code, a.level, a.name, a.path, a.lat, a.lon, a.geometry, {agg} AS tags \
         FROM areas a LEFT JOIN area_tags t ON t.area_code = a.code"
    )
}

#[derive(Debug, Clone, Default)]
pub struct AreaFilter {
    pub level: Option<AreaLevel>,
    pub parent: Option<AreaCode>,
    pub tag: Option<String>,
    /// Case-insensitive substring of the name or code.
    pub q: Option<String>,
    pub with_geometry: bool,
}

pub async fn list(db: &Db, f: &AreaFilter, scope: &[AreaPath], page: i64, per_page: i64) -> StoreResult<Page<Area>> {
    let mut args = Vec::new();
    let mut conds = vec![scope_sql("a.path", scope, &mut args)];
    if let Some(l) = f.level {
        args.push(Arg::Text(l.as_str().into()));
        conds.push(format!("a.level = ${}", args.len()));
    }
    if let Some(p) = &f.parent {
        args.push(Arg::Text(p.to_string()));
        conds.push(format!("a.parent_code = ${}", args.len()));
    }
    if let Some(t) = &f.tag {
        args.push(Arg::Text(t.trim().to_lowercase()));
        conds.push(format!("a.code IN (SELECT area_code FROM area_tags WHERE tag = ${})", args.len()));
    }
    if let Some(q) = &f.q {
        args.push(Arg::Text(format!("%{}%", q.to_lowercase().replace(['%', '_'], ""))));
        conds.push(format!("(lower(a.name) LIKE ${n} OR lower(a.code) LIKE ${n})", n = args.len()));
    }
    let wher = conds.join(" AND ");
    let is_pg = db.backend == crate::Backend::Postgres;
    let count_sql = format!("SELECT COUNT(*) FROM areas a WHERE {wher}");
    let total: i64 = run!(&db.read, c => bind_args!(sqlx::query_scalar(&count_sql), &args).fetch_one(c).await?);
    let sql = format!(
        "{} WHERE {wher} GROUP BY a.code, a.parent_code, a.level, a.name, a.path, a.lat, a.lon, a.geometry ORDER BY a.path LIMIT {per_page} OFFSET {}",
        select(is_pg),
        (page - 1) * per_page
    );
    let rows: Vec<Row> = run!(&db.read, c => bind_args!(sqlx::query_as(&sql), &args).fetch_all(c).await?);
    Ok(Page { items: rows.into_iter().map(|r| r.into_area(f.with_geometry)).collect(), total, page, per_page })
}

pub async fn get(db: &Db, code: &AreaCode, with_geometry: bool) -> StoreResult<Area> {
    let sql = format!("{} WHERE a.code = $1 GROUP BY a.code, a.parent_code, a.level, a.name, a.path, a.lat, a.lon, a.geometry", select(db.backend == crate::Backend::Postgres));
    let row: Option<Row> = run!(&db.read, c => sqlx::query_as(&sql).bind(code.as_str()).fetch_optional(c).await?);
    row.map(|r| r.into_area(with_geometry)).ok_or(StoreError::NotFound)
}

/// The path of an area, or `UnknownArea` as a validation error on `field`.
pub async fn path_of(db: &Db, code: &AreaCode, field: &str) -> StoreResult<AreaPath> {
    if let Some(p) = db.memo.area_paths.get(&db.memo, &code.as_str().to_string()) {
        return Ok(AreaPath(p));
    }
    let generation = db.memo.generation();
    let p: Option<String> = run!(&db.read, c => sqlx::query_scalar("SELECT path FROM areas WHERE code = $1").bind(code.as_str()).fetch_optional(c).await?);
    if let Some(p) = &p {
        db.memo.area_paths.put(generation, code.as_str().to_string(), p.clone());
    }
    p.map(AreaPath).ok_or_else(|| Invalid::new(field, Msg::UnknownArea { code: code.to_string() }).into())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Created,
    Updated,
    Unchanged,
}

/// Creates or updates one area inside `tx`, with its audit entry. Re-applying the same input
/// changes nothing and writes no audit entry (imports are idempotent).
pub async fn upsert(tx: &mut Tx, a: &AreaInput, actor: &Actor) -> StoreResult<Outcome> {
    a.validate()?;
    let path = match &a.parent {
        None => AreaPath::root(&a.code),
        Some(parent) => {
            let p: Option<(String, String)> = run_tx!(tx, c => {
                sqlx::query_as("SELECT path, level FROM areas WHERE code = $1").bind(parent.as_str()).fetch_optional(&mut **c).await?
            });
            let (ppath, plevel) = p.ok_or_else(|| Invalid::new("parent", Msg::AreaParentMissing { code: parent.to_string() }))?;
            let plevel = AreaLevel::parse(&plevel).map_err(|m| Invalid::new("parent", m))?;
            check_parent_level(a.level, parent, plevel).map_err(|m| Invalid::new("parent", m))?;
            let ppath = AreaPath(ppath);
            // Moving an area under its own descendant would cut it off the tree.
            if ppath.0.split('/').any(|seg| seg == a.code.as_str()) {
                return Err(Invalid::new("parent", Msg::AreaCycle).into());
            }
            ppath.child(&a.code)
        }
    };
    let geometry = a.geometry.as_ref().map(|g| g.0.to_string());
    let (lat, lon) = a.point.map(|(la, lo)| (Some(la), Some(lo))).unwrap_or((None, None));
    let mut tags = a.tags.clone();
    tags.sort();
    tags.dedup();

    #[derive(sqlx::FromRow)]
    struct Existing {
        parent_code: Option<String>,
        level: String,
        name: String,
        path: String,
        lat: Option<f64>,
        lon: Option<f64>,
        geometry: Option<String>,
    }
    let existing: Option<Existing> = run_tx!(tx, c => {
        sqlx::query_as("SELECT parent_code, level, name, path, lat, lon, geometry FROM areas WHERE code = $1")
            .bind(a.code.as_str()).fetch_optional(&mut **c).await?
    });
    let old_tags: Vec<String> = run_tx!(tx, c => {
        sqlx::query_scalar("SELECT tag FROM area_tags WHERE area_code = $1 ORDER BY tag").bind(a.code.as_str()).fetch_all(&mut **c).await?
    });
    let now = crate::now();
    let outcome = match existing {
        None => {
            run_tx!(tx, c => {
                sqlx::query("INSERT INTO areas (code, parent_code, level, depth, name, path, lat, lon, geometry, created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$10)")
                    .bind(a.code.as_str()).bind(a.parent.as_ref().map(|p| p.as_str())).bind(a.level.as_str())
                    .bind(a.level.depth()).bind(&a.name).bind(path.as_str()).bind(lat).bind(lon).bind(&geometry).bind(now)
                    .execute(&mut **c).await?;
            });
            Outcome::Created
        }
        Some(e) => {
            let same = e.parent_code.as_deref() == a.parent.as_ref().map(|p| p.as_str())
                && e.level == a.level.as_str()
                && e.name == a.name
                && e.lat == lat
                && e.lon == lon
                && e.geometry == geometry
                && old_tags == tags;
            if same {
                return Ok(Outcome::Unchanged);
            }
            if e.level != a.level.as_str() {
                let has_children: Option<String> = run_tx!(tx, c => {
                    sqlx::query_scalar("SELECT code FROM areas WHERE parent_code = $1 LIMIT 1").bind(a.code.as_str()).fetch_optional(&mut **c).await?
                });
                if has_children.is_some() {
                    return Err(Invalid::new("level", Msg::ParentLevelMismatch { parent: a.code.to_string() }).into());
                }
            }
            run_tx!(tx, c => {
                sqlx::query("UPDATE areas SET parent_code=$2, level=$3, depth=$4, name=$5, path=$6, lat=$7, lon=$8, geometry=$9, updated_at=$10 WHERE code=$1")
                    .bind(a.code.as_str()).bind(a.parent.as_ref().map(|p| p.as_str())).bind(a.level.as_str())
                    .bind(a.level.depth()).bind(&a.name).bind(path.as_str()).bind(lat).bind(lon).bind(&geometry).bind(now)
                    .execute(&mut **c).await?;
            });
            if e.path != path.0 {
                // The area moved: carry its descendants along.
                let old = AreaPath(e.path.clone());
                let (lo, hi) = old.descendant_range();
                run_tx!(tx, c => {
                    sqlx::query("UPDATE areas SET path = $1 || substr(path, CAST($2 AS INTEGER)) WHERE path >= $3 AND path < $4")
                        .bind(path.as_str()).bind(old.0.len() as i64 + 1).bind(lo).bind(hi)
                        .execute(&mut **c).await?;
                });
            }
            Outcome::Updated
        }
    };
    run_tx!(tx, c => {
        sqlx::query("DELETE FROM area_tags WHERE area_code = $1").bind(a.code.as_str()).execute(&mut **c).await?;
        for t in &tags {
            sqlx::query("INSERT INTO area_tags (area_code, tag) VALUES ($1, $2)").bind(a.code.as_str()).bind(t).execute(&mut **c).await?;
        }
    });
    let action = if outcome == Outcome::Created { "area.create" } else { "area.update" };
    audit::append(
        tx,
        actor,
        action,
        "area",
        a.code.as_str(),
        serde_json::json!({"name": a.name, "level": a.level.as_str(), "parent": a.parent, "tags": tags}),
    )
    .await?;
    Ok(outcome)
}

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct ImportSummary {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// Applies parsed rows in one transaction: all of them, or none if any row fails.
pub async fn import(db: &Db, rows: &[AreaRow], actor: &Actor) -> StoreResult<ImportSummary> {
    let mut tx = db.begin().await?;
    let mut summary = ImportSummary::default();
    let mut errors = Vec::new();
    for r in rows {
        match upsert(&mut tx, &r.area, actor).await {
            Ok(Outcome::Created) => summary.created += 1,
            Ok(Outcome::Updated) => summary.updated += 1,
            Ok(Outcome::Unchanged) => summary.unchanged += 1,
            Err(StoreError::Invalid(Invalid { field, msg })) => errors.push(LineError { line: r.line, field, msg }),
            Err(e) => return Err(e),
        }
    }
    if !errors.is_empty() {
        return Err(StoreError::Lines(errors)); // tx dropped: rolled back
    }
    tx.commit().await?;
    db.memo.forget_all(); // an area may have moved in the tree
    Ok(summary)
}

/// Every area's descendants (paths), by the area's path, remembered ≤ 1 s (crate::memo;
/// forgotten at once when this process changes areas). A commune usually has none.
pub async fn descendants(db: &Db) -> StoreResult<std::sync::Arc<std::collections::HashMap<String, Vec<String>>>> {
    if let Some(d) = db.memo.descendants.get(&db.memo, &()) {
        return Ok(d);
    }
    let generation = db.memo.generation();
    let paths: Vec<String> = run!(&db.read, c => sqlx::query_scalar("SELECT path FROM areas ORDER BY path").fetch_all(c).await?);
    let known: std::collections::HashSet<&str> = paths.iter().map(String::as_str).collect();
    let mut below: std::collections::HashMap<String, Vec<String>> = std::collections::HashMap::new();
    for path in &paths {
        for (i, ch) in path.char_indices() {
            if ch == '/' && known.contains(&path[..i]) {
                below.entry(path[..i].to_string()).or_default().push(path.clone());
            }
        }
    }
    let below = std::sync::Arc::new(below);
    db.memo.descendants.put(generation, (), below.clone());
    Ok(below)
}

/// Paths of the tree's roots (areas without a parent): the scope of someone who sees everything.
pub async fn root_paths(db: &Db) -> StoreResult<Vec<AreaPath>> {
    let v: Vec<String> = run!(&db.read, c => sqlx::query_scalar("SELECT path FROM areas WHERE parent_code IS NULL ORDER BY path").fetch_all(c).await?);
    Ok(v.into_iter().map(AreaPath).collect())
}

/// The deepest area whose boundary holds the point, if any area has a boundary there.
pub async fn containing_point(db: &Db, lat: f64, lon: f64) -> StoreResult<Option<(AreaCode, AreaPath)>> {
    let rows: Vec<(String, String, String)> = run!(&db.read, c => sqlx::query_as(
        "SELECT code, path, geometry FROM areas WHERE geometry IS NOT NULL ORDER BY depth DESC"
    ).fetch_all(c).await?);
    for (code, path, geometry) in rows {
        let Ok(value) = serde_json::from_str::<serde_json::Value>(&geometry) else { continue };
        let Ok(g) = vigie_domain::area::Geometry::parse(value) else { continue };
        if g.contains(lat, lon) {
            if let Ok(code) = AreaCode::parse(&code) {
                return Ok(Some((code, AreaPath(path))));
            }
        }
    }
    Ok(None)
}
