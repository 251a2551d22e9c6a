//! Demo protected cases, so the case inbox and the public transparency page show something
//! real: a case supervisor account (`superviseur.cndh`), and denunciations walked through their
//! workflow with the same storage functions as the API, most of them up to a published
//! outcome. The counts are chosen so the transparency page shows shown counts, "<5" cells and
//! the counts hidden to protect them. Skipped when any case exists already.

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use vigie_domain::area::{AreaCode, AreaPath};
use vigie_domain::Lang;
use vigie_storage::audit::Actor;
use vigie_storage::cases::{self, CaseFilter, Lister, Mover, NewCase};
use vigie_storage::{Db, StoreError};

pub const SUPERVISOR: &str = "superviseur.cndh";

/// (cercle, locality, administration, outcome, how many published)
const PUBLISHED: &[(&str, &str, &str, &str, usize)] = &[
    ("ML-5-MOPTI", "Mopti", "Douanes", "Sanction disciplinaire", 5),
    ("ML-5-MOPTI", "Mopti", "Douanes", "Poursuites judiciaires", 2),
    ("ML-5-MOPTI", "Mopti", "Police", "Sanction disciplinaire", 6),
    ("ML-5-MOPTI", "Mopti", "Police", "Poursuites judiciaires", 5),
    ("ML-5-KORO", "Koro", "Gendarmerie", "Sanction disciplinaire", 2),
    ("ML-4-SEGOU", "Ségou", "Mairie", "Sanction disciplinaire", 7),
    ("ML-4-SEGOU", "Ségou", "Mairie", "Poursuites judiciaires", 6),
];

fn fields(pairs: &[(&str, &str)]) -> Map<String, Value> {
    pairs.iter().map(|(k, v)| (k.to_string(), Value::String(v.to_string()))).collect()
}

pub async fn load(db: &Db, password: &str, now: DateTime<Utc>) -> anyhow::Result<()> {
    let supervisor = match vigie_storage::users::id_by_username(db, SUPERVISOR).await {
        Ok(id) => id,
        Err(StoreError::NotFound) => {
            let new = vigie_storage::users::NewUser {
                username: SUPERVISOR,
                display_name: "Superviseure des dossiers — CNDH",
                password: Some(password),
                org_id: None,
                locale: Lang::Fr,
                grants: vec![("case_supervisor".to_string(), AreaCode::parse("ML").unwrap())],
            };
            vigie_storage::users::create(db, new, &Actor::system("demo")).await?.id
        }
        Err(e) => return Err(e.into()),
    };
    let roots = vigie_storage::areas::root_paths(db).await?;
    let everyone = Lister { user_id: supervisor, org_id: None, all_desks: true };
    if cases::list(db, &roots, &everyone, &CaseFilter::default(), 1, 1, now).await?.total > 0 {
        return Ok(());
    }
    let principal = vigie_storage::users::principal(db, supervisor).await?.context("demo supervisor")?;
    let actor = Actor::user(supervisor, SUPERVISOR);
    let intake = Actor::system("public_intake");
    let mut n = 0;
    for (area, locality, administration, outcome, count) in PUBLISHED {
        for _ in 0..*count {
            n += 1;
            let facts = format!("Le chef de poste exige de l'argent pour chaque passage (cas de démonstration n° {n}).");
            let new = NewCase {
                workflow: "denunciation".into(),
                area: AreaCode::parse(area).unwrap(),
                desk_org_id: None,
                title: format!("Dénonciation – {administration}"),
                fields: fields(&[("locality", locality), ("administration", administration), ("facts", &facts)]),
                report_id: None,
            };
            let opened = cases::create(db, new, None, &intake, now).await?;
            let path = vigie_storage::areas::path_of(db, &AreaCode::parse(area).unwrap(), "area").await?;
            let who = Mover { actor: &actor, user_id: supervisor, rights: vigie_domain::cases::Actor::for_area(&principal, &AreaPath(path.0.clone())) };
            let reference = format!("CAC/2026/{n:03}");
            let steps: [(&str, Map<String, Value>); 4] = [
                ("credibility_check", Map::new()),
                ("transmitted_inspection", fields(&[("credibility_assessment", "Faits recoupés par deux témoignages"), ("transmission_ref", &reference)])),
                ("follow_up", Map::new()),
                ("outcome_published", fields(&[("outcome", outcome), ("outcome_summary", &format!("{outcome} prononcée à l'encontre de l'agent mis en cause."))])),
            ];
            for (to, f) in steps {
                cases::transition(db, opened.id, to, f, &who, now).await?;
            }
            cases::publish(db, opened.id, None, &who, now).await?;
        }
    }
    // Two received denunciations waiting in the inbox.
    for (area, locality, administration) in [("ML-5-KORO", "Koro", "Gendarmerie"), ("ML-7-GAO", "Gao", "Douanes")] {
        let new = NewCase {
            workflow: "denunciation".into(),
            area: AreaCode::parse(area).unwrap(),
            desk_org_id: None,
            title: format!("Dénonciation – {administration}"),
            fields: fields(&[("locality", locality), ("administration", administration), ("facts", "Des frais non prévus sont exigés au poste de contrôle.")]),
            report_id: None,
        };
        cases::create(db, new, None, &intake, now).await?;
    }
    Ok(())
}
