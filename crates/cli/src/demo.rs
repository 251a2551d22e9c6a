//! `vigie serve --demo`: Mali's régions and the PROSMED target cercles (data/demo, see its README
//! for sources), a few institutions and one account per built-in role. Loading twice changes nothing.

use anyhow::Context;
use vigie_domain::area::{AreaCode, Geometry};
use vigie_domain::import::areas::{self as area_import, Format};
use vigie_domain::Lang;
use vigie_storage::audit::Actor;
use vigie_storage::{Db, StoreError};

const AREAS_CSV: &str = include_str!("../../../data/demo/areas.csv");
const REGIONS_GEOJSON: &str = include_str!("../../../data/demo/regions.geojson");
pub const DEMO_PASSWORD: &str = "demo-vigie-2026";

/// One account per built-in role: (username, display name, role, area).
const ACCOUNTS: &[(&str, &str, &str, &str)] = &[
    ("admin", "Administratrice nationale", "admin", "ML"),
    ("analyste.mopti", "Analyste alerte précoce — Mopti", "analyst", "ML-5"),
    ("analyste.gao", "Analyste alerte précoce — Gao", "analyst", "ML-7"),
    ("gendarmerie.mopti", "Gendarmerie — Compagnie de Mopti", "responder", "ML-5"),
    ("cndh", "Commission nationale des droits de l'homme", "case_handler", "ML"),
    ("suivi", "Chargée de suivi-évaluation PROSMED", "me_officer", "ML"),
    ("lecteur", "Partenaire (lecture seule)", "viewer", "ML"),
    ("relais.koro", "Point focal communautaire — Koro", "reporter", "ML-5-KORO"),
];

const ORGS: &[(&str, &str, &str)] = &[
    ("Gendarmerie nationale — Compagnie de Mopti", "gendarmerie", "ML-5-MOPTI"),
    ("Commissariat de police de Mopti", "police", "ML-5-MOPTI"),
    ("Préfecture de Koro", "prefecture", "ML-5-KORO"),
    ("Comité local de sécurité de Koro", "security_committee", "ML-5-KORO"),
    ("Commission nationale des droits de l'homme (CNDH)", "cndh", "ML-BKO"),
    ("Inspection des services de sécurité et de protection civile", "inspection", "ML-BKO"),
    ("PNUD Mali", "un_agency", "ML-BKO"),
    ("ONU Femmes Mali", "un_agency", "ML-BKO"),
];

/// Loads the demo data; returns the (username, password) to print.
pub async fn load(db: &Db) -> anyhow::Result<(String, String)> {
    let mut rows = area_import::parse(Format::Csv, AREAS_CSV.as_bytes()).map_err(|e| anyhow::anyhow!("demo areas: {e:?}"))?;
    let regions: serde_json::Value = serde_json::from_str(REGIONS_GEOJSON).context("demo regions.geojson")?;
    for f in regions["features"].as_array().into_iter().flatten() {
        let code = f["properties"]["code"].as_str().unwrap_or_default();
        if let Some(row) = rows.iter_mut().find(|r| r.area.code.as_str() == code) {
            row.area.geometry = Some(Geometry::parse(f["geometry"].clone()).map_err(|m| anyhow::anyhow!("{code}: {}", m.text(Lang::En)))?);
        }
    }
    let actor = Actor::system("demo");
    vigie_storage::areas::import(db, &rows, &actor).await.map_err(|e| match e {
        StoreError::Lines(lines) => anyhow::anyhow!(
            "demo areas: {}",
            lines.iter().map(|l| format!("line {} [{}]: {}", l.line, l.field, l.msg.text(Lang::En))).collect::<Vec<_>>().join("; ")
        ),
        e => e.into(),
    })?;

    let existing = vigie_storage::orgs::list(db, &vigie_storage::areas::root_paths(db).await?, None, 1, 500).await?;
    for (name, kind, area) in ORGS {
        if !existing.items.iter().any(|o| o.name == *name) {
            vigie_storage::orgs::create(db, name, kind, &AreaCode::parse(area).unwrap(), &actor).await?;
        }
    }
    for (username, display, role, area) in ACCOUNTS {
        match vigie_storage::users::id_by_username(db, username).await {
            Ok(_) => continue,
            Err(StoreError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
        vigie_storage::users::create(
            db,
            vigie_storage::users::NewUser {
                username,
                display_name: display,
                password: Some(DEMO_PASSWORD),
                org_id: None,
                locale: Lang::Fr,
                grants: vec![(role.to_string(), AreaCode::parse(area).unwrap())],
            },
            &actor,
        )
        .await?;
    }
    Ok(("admin".into(), DEMO_PASSWORD.into()))
}
