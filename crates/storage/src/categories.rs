//! The category taxonomy, editable by admins; seeded from the domain's default list.

use crate::audit::{self, Actor};
use crate::{run, run_tx, Db, StoreError, StoreResult};
use vigie_domain::early_warning::taxonomy::{default_categories, Category, CategoryCode, CategoryFamily, Severity, Taxonomy};
use vigie_domain::{Invalid, Msg};

#[derive(sqlx::FromRow)]
struct Row {
    code: String,
    label_fr: String,
    label_en: String,
    family: String,
    default_severity: i32,
    protected: bool,
    keywords: String,
}

fn family_str(f: CategoryFamily) -> String {
    serde_json::to_value(f).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

impl Row {
    fn into_category(self) -> Option<Category> {
        Some(Category {
            code: CategoryCode::parse(&self.code).ok()?,
            label_fr: self.label_fr,
            label_en: self.label_en,
            family: serde_json::from_value(serde_json::Value::String(self.family)).ok()?,
            default_severity: Severity::from_level(self.default_severity as u8).ok()?,
            protected: self.protected,
            keywords: serde_json::from_str(&self.keywords).unwrap_or_default(),
        })
    }
}

/// Inserts the default categories that are missing (never overwrites an admin's edits).
pub(crate) async fn ensure_defaults(db: &Db) -> StoreResult<()> {
    let mut tx = db.begin().await?;
    for c in default_categories() {
        run_tx!(&mut tx, t => {
            sqlx::query("INSERT INTO categories (code, label_fr, label_en, family, default_severity, protected, keywords) VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT (code) DO NOTHING")
                .bind(c.code.as_str()).bind(&c.label_fr).bind(&c.label_en).bind(family_str(c.family))
                .bind(c.default_severity.level() as i32).bind(c.protected).bind(serde_json::to_string(&c.keywords).unwrap())
                .execute(&mut **t).await?;
        });
    }
    tx.commit().await?;
    db.memo.forget_all(); // accounts, grants, roles or categories changed: see crate::memo
    Ok(())
}

pub async fn list(db: &Db) -> StoreResult<Vec<Category>> {
    let rows: Vec<Row> = run!(&db.read, c => sqlx::query_as("SELECT code, label_fr, label_en, family, default_severity, protected, keywords FROM categories WHERE active ORDER BY code").fetch_all(c).await?);
    Ok(rows.into_iter().filter_map(Row::into_category).collect())
}

/// The taxonomy as it stands in the database.
pub async fn taxonomy(db: &Db) -> StoreResult<Taxonomy> {
    if let Some(t) = db.memo.taxonomy.get(&db.memo, &()) {
        return Ok(t);
    }
    let generation = db.memo.generation();
    let t = Taxonomy::new(list(db).await?).map_err(|m| StoreError::Invalid(Invalid::new("categories", Msg::from(m))))?;
    db.memo.taxonomy.put(generation, (), t.clone());
    Ok(t)
}

/// Creates or replaces a category, refusing an edit that would make the taxonomy invalid.
pub async fn save(db: &Db, c: Category, actor: &Actor) -> StoreResult<()> {
    let mut all = list(db).await?;
    all.retain(|x| x.code != c.code);
    all.push(c.clone());
    Taxonomy::new(all).map_err(|m| StoreError::Invalid(Invalid::new("category", Msg::from(m))))?;
    let mut tx = db.begin().await?;
    run_tx!(&mut tx, t => {
        sqlx::query("INSERT INTO categories (code, label_fr, label_en, family, default_severity, protected, keywords) VALUES ($1,$2,$3,$4,$5,$6,$7) \
                     ON CONFLICT (code) DO UPDATE SET label_fr = excluded.label_fr, label_en = excluded.label_en, family = excluded.family, \
                     default_severity = excluded.default_severity, protected = excluded.protected, keywords = excluded.keywords, active = TRUE")
            .bind(c.code.as_str()).bind(&c.label_fr).bind(&c.label_en).bind(family_str(c.family))
            .bind(c.default_severity.level() as i32).bind(c.protected).bind(serde_json::to_string(&c.keywords).unwrap())
            .execute(&mut **t).await?;
    });
    audit::append(&mut tx, actor, "category.save", "category", c.code.as_str(), serde_json::json!({"label_fr": c.label_fr, "protected": c.protected})).await?;
    tx.commit().await?;
    db.memo.forget_all(); // accounts, grants, roles or categories changed: see crate::memo
    Ok(())
}
