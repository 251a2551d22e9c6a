//! Demo data for local security governance: committees in Koro, Bankass and Ansongo with their
//! members, meetings (one committee functional, one dormant, one just set up), decisions in each
//! follow-up state, a local security plan, and resource persons of the directory (one without
//! consent yet, so unpublished). Idempotent: nothing is added if the committees are there.

use chrono::{Duration, NaiveDate};
use vigie_domain::area::AreaCode;
use vigie_domain::governance::directory::{Consent, ConsentMethod, Email, EntryInput, Expertise, FieldVisibility, Visibility};
use vigie_domain::governance::{
    ActionStatus, AgeGroup, AttendanceCell, CommitteeInput, CommitteeKind, DecisionInput, MeetingInput, Member, PlanAction, PlanInput, Sex,
};
use vigie_domain::phone::Phone;
use vigie_storage::audit::Actor;
use vigie_storage::Db;

fn m(name: &str, role: &str, institution: &str, sex: Sex, age_group: AgeGroup) -> Member {
    Member { name: name.into(), role: role.into(), institution: Some(institution.into()), sex, age_group }
}

fn cells(fy: u32, fa: u32, my: u32, ma: u32) -> Vec<AttendanceCell> {
    vec![
        AttendanceCell { sex: Sex::Female, age_group: AgeGroup::Youth, count: fy },
        AttendanceCell { sex: Sex::Female, age_group: AgeGroup::Adult, count: fa },
        AttendanceCell { sex: Sex::Male, age_group: AgeGroup::Youth, count: my },
        AttendanceCell { sex: Sex::Male, age_group: AgeGroup::Adult, count: ma },
    ]
}

pub async fn load(db: &Db, today: NaiveDate) -> anyhow::Result<()> {
    let existing = vigie_storage::governance::list_committees(db, &vigie_storage::areas::root_paths(db).await?, &Default::default(), today, 1, 1).await?;
    if existing.total > 0 {
        return Ok(());
    }
    let actor = Actor::system("demo");
    let days = |n: i64| today - Duration::days(n);
    let area = |c: &str| AreaCode::parse(c).expect("demo area code");
    use AgeGroup::{Adult, Elder, Youth};
    use Sex::{Female, Male};

    // Koro: a communal security committee that meets, with decisions in every state.
    let koro = vigie_storage::governance::create_committee(db, &CommitteeInput {
        name: "Comité communal de sécurité de Koro".into(),
        kind: CommitteeKind::SecurityCommittee,
        area: area("ML-5-KORO"),
        established_on: days(420),
        members: vec![
            m("Amadou Guindo", "Président (maire)", "Mairie de Koro", Male, Elder),
            m("Awa Togo", "Vice-présidente", "Coordination des femmes de Koro", Female, Adult),
            m("Issa Dolo", "Secrétaire", "Conseil communal de la jeunesse", Male, Youth),
            m("Mariam Ongoïba", "Membre", "Association des jeunes femmes", Female, Youth),
            m("Capitaine Sidibé", "Membre", "Brigade de gendarmerie", Male, Adult),
        ],
    }, &actor, today).await?;
    vigie_storage::governance::record_meeting(db, koro, &MeetingInput {
        held_on: days(120),
        agenda: "Sécurité des foires hebdomadaires ; transhumance".into(),
        minutes: Some("Le comité demande des patrouilles les jours de foire et un couloir de passage des troupeaux.".into()),
        attendance: cells(3, 4, 5, 9),
        decisions: vec![DecisionInput { text: "Patrouilles conjointes les jours de foire".into(), responsible: "Brigade de gendarmerie".into(), due_on: days(90) }],
        alert_ids: vec![],
    }, &actor, today).await?;
    let recent = vigie_storage::governance::record_meeting(db, koro, &MeetingInput {
        held_on: days(20),
        agenda: "Suivi des alertes du mois ; plan local de sécurité".into(),
        minutes: None,
        attendance: cells(4, 3, 6, 7),
        decisions: vec![
            DecisionInput { text: "Rencontre intercommunautaire à Dinangourou".into(), responsible: "Maire de Koro".into(), due_on: days(5) },
            DecisionInput { text: "Éclairage solaire du marché".into(), responsible: "Mairie de Koro".into(), due_on: today + Duration::days(40) },
        ],
        alert_ids: vec![],
    }, &actor, today).await?;
    let first: Vec<_> = vigie_storage::governance::meetings(db, koro, today).await?;
    for mt in &first {
        for d in &mt.decisions {
            if mt.id != recent {
                // The fair patrols were carried out, a week late.
                vigie_storage::governance::set_decision_done(db, d.id, Some(d.due_on + Duration::days(7)), &actor, today).await?;
            }
        }
    }
    vigie_storage::governance::create_plan(db, koro, &PlanInput {
        title: "Plan local de sécurité de Koro".into(),
        starts_on: days(60),
        ends_on: today + Duration::days(300),
        actions: vec![
            PlanAction { action: "Former 20 relais communautaires à l'alerte précoce".into(), responsible: "Comité communal de sécurité".into(), deadline: days(10), status: ActionStatus::InProgress },
            PlanAction { action: "Installer l'éclairage du marché".into(), responsible: "Mairie de Koro".into(), deadline: today + Duration::days(90), status: ActionStatus::Planned },
        ],
    }, &actor).await?;

    // Bankass: a land commission that has not met for months (dormant).
    let bankass = vigie_storage::governance::create_committee(db, &CommitteeInput {
        name: "Commission foncière de Bankass".into(),
        kind: CommitteeKind::LandCommission,
        area: area("ML-5-BANKASS"),
        established_on: days(700),
        members: vec![
            m("Boureima Tembely", "Président", "Chefferie traditionnelle", Male, Elder),
            m("Fatoumata Kassogué", "Membre", "Coopérative des maraîchères", Female, Adult),
        ],
    }, &actor, today).await?;
    vigie_storage::governance::record_meeting(db, bankass, &MeetingInput {
        held_on: days(200),
        agenda: "Litige de champs entre Ségué et Baye".into(),
        minutes: None,
        attendance: cells(0, 2, 1, 8),
        decisions: vec![DecisionInput { text: "Bornage des champs contestés".into(), responsible: "Service des domaines".into(), due_on: days(150) }],
        alert_ids: vec![],
    }, &actor, today).await?;

    // Ansongo: a community protection mechanism set up last month.
    vigie_storage::governance::create_committee(db, &CommitteeInput {
        name: "Mécanisme communautaire d'alerte d'Ansongo".into(),
        kind: CommitteeKind::CommunityProtection,
        area: area("ML-7-ANSONGO"),
        established_on: days(30),
        members: vec![
            m("Aïssata Maïga", "Coordinatrice", "Plateforme des femmes d'Ansongo", Female, Youth),
            m("Moussa Ag Alhassane", "Membre", "Notabilité", Male, Elder),
        ],
    }, &actor, today).await?;

    // The directory: consented entries with the visibility each person chose, one awaiting consent.
    let entries = [
        ("Fatoumata Maïga", Female, Youth, "Association des femmes de Koro", "ML-5-KORO", vec![Expertise::Mediation, Expertise::Gender], vec!["dogon", "fulfulde", "francais"], Some("76 11 22 33"), Some("fatoumata.maiga@example.ml"), true, [Visibility::Public, Visibility::Public, Visibility::Partners, Visibility::Hidden]),
        ("Oumar Cissé", Male, Adult, "Barreau du Mali", "ML-5", vec![Expertise::HumanRights], vec!["fulfulde", "bambara", "francais"], Some("66 44 55 66"), None, true, [Visibility::Public, Visibility::Public, Visibility::Hidden, Visibility::Hidden]),
        ("Rokia Touré", Female, Adult, "Réseau des femmes pour la paix", "ML-7", vec![Expertise::SecuritySector, Expertise::Gender], vec!["songhay", "tamasheq", "francais"], None, Some("rokia.toure@example.ml"), true, [Visibility::Partners, Visibility::Public, Visibility::Hidden, Visibility::Partners]),
        ("Hamadoun Dicko", Male, Youth, "Conseil régional de la jeunesse", "ML-5-BANKASS", vec![Expertise::Mediation, Expertise::Languages], vec!["fulfulde", "dogon"], Some("70 99 88 77"), None, false, [Visibility::Public, Visibility::Public, Visibility::Partners, Visibility::Hidden]),
    ];
    for (name, sex, age, org, area_code, expertise, languages, phone, email, consented, vis) in entries {
        let e = EntryInput {
            full_name: name.into(),
            sex,
            age_group: age,
            organisation: Some(org.into()),
            area: area(area_code),
            expertise,
            languages: languages.into_iter().map(String::from).collect(),
            phone: phone.map(|p| Phone::parse(p).expect("demo phone")),
            email: email.map(|e| Email::parse(e).expect("demo email")),
            consent: consented.then(|| Consent { given_on: days(45), method: ConsentMethod::Written }),
            visibility: FieldVisibility { name: vis[0], organisation: vis[1], phone: vis[2], email: vis[3] },
            published: consented,
        };
        vigie_storage::directory::create(db, &e, &actor).await?;
    }
    Ok(())
}
