//! Actors of local security governance: committees and mechanisms attached to an area (communal
//! security committees, conflict prevention and management committees, land commissions,
//! community protection / early-warning mechanisms, civil-society platforms, the municipal
//! police pilot), their members, meetings, decisions and local security plans; and the
//! directory of resource persons ([`directory`]). What they feed: [`indicators`].
//!
//! A committee's status is never typed in: it is derived from evidence, the meetings it held
//! in the last quarter ([`committee_status`]); a decision's follow-up is derived from its due
//! date and the date it was carried out ([`follow_up`]).

macro_rules! code_enum {
    ($(#[$m:meta])* $name:ident, $err:ident, { $($variant:ident = $code:literal : $fr:literal / $en:literal [$($alias:literal),*],)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant,)* }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code,)* }
            }
            pub fn label(self, lang: crate::Lang) -> &'static str {
                match (self, lang) { $(($name::$variant, crate::Lang::Fr) => $fr, ($name::$variant, crate::Lang::En) => $en,)* }
            }
            /// The code, or the French or English word, any case, accents ignored.
            pub fn parse(raw: &str) -> Result<$name, GovMsg> {
                let f = crate::text::fold(raw).replace(' ', "_");
                $(if f == $code || f == crate::text::fold($fr).replace(' ', "_") || f == crate::text::fold($en).replace(' ', "_") $(|| f == $alias)* {
                    return Ok($name::$variant);
                })*
                Err(GovMsg::$err { text: raw.trim().to_string() })
            }
        }
    };
}

pub mod directory;
pub mod import;
pub mod indicators;
pub mod msg;

use crate::area::{parse_name, AreaCode};
use crate::{Invalid, Msg};
use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};

pub use msg::GovMsg;

fn inv(field: impl Into<String>, m: GovMsg) -> Invalid {
    Invalid::new(field, Msg::from(m))
}

code_enum!(
    /// The kinds of bodies the programme documents name.
    CommitteeKind, UnknownCommitteeKind, {
    SecurityCommittee = "security_committee" : "Comité communal de sécurité" / "Communal security committee" ["csc", "ccs", "comite_de_securite"],
    ConflictPrevention = "conflict_prevention" : "Comité de prévention et de gestion des conflits" / "Conflict prevention and management committee" ["cpgc", "prevention_des_conflits"],
    LandCommission = "land_commission" : "Commission foncière" / "Land commission" ["cofo", "commission_fonciere_cofo"],
    CommunityProtection = "community_protection" : "Mécanisme communautaire de protection / d'alerte précoce" / "Community protection / early-warning mechanism" ["alerte_precoce", "early_warning"],
    CsoPlatform = "cso_platform" : "Plateforme de la société civile" / "Civil-society platform" ["osc", "cso"],
    MunicipalPolice = "municipal_police" : "Police municipale (projet pilote)" / "Municipal police pilot" ["police_municipale"],
    Other = "other" : "Autre mécanisme" / "Other mechanism" ["autre"],
});

code_enum!(
    /// As people declare it; for the participation indicators.
    Sex, UnknownSex, {
    Female = "f" : "Femme" / "Woman" ["female", "femme", "w", "femmes", "women", "feminin"],
    Male = "m" : "Homme" / "Man" ["h", "male", "homme", "hommes", "men", "masculin"],
});

code_enum!(
    /// Youth follows the African Youth Charter (15–35), as the Malian youth policy does.
    AgeGroup, UnknownAgeGroup, {
    Youth = "youth" : "Jeune (moins de 35 ans)" / "Youth (under 35)" ["jeune", "jeunes", "j"],
    Adult = "adult" : "Adulte (35-59 ans)" / "Adult (35-59)" ["adulte", "adultes", "a"],
    Elder = "elder" : "Aîné (60 ans et plus)" / "Elder (60 and over)" ["aine", "aines", "ancien", "e"],
});

code_enum!(
    /// How a decision of a local security plan's action stands, as reported by the committee.
    ActionStatus, UnknownActionStatus, {
    Planned = "planned" : "Prévue" / "Planned" ["prevu", "a_faire"],
    InProgress = "in_progress" : "En cours" / "In progress" ["encours"],
    Done = "done" : "Réalisée" / "Done" ["fait", "realise", "termine"],
    Cancelled = "cancelled" : "Annulée" / "Cancelled" ["annule", "abandonnee"],
});

/// Derived from meetings, never typed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommitteeStatus {
    /// Set up less than a quarter ago and not yet met: too young to judge.
    SetUp,
    /// Met at least once in the last quarter.
    Functional,
    /// Older than a quarter, and no meeting in the last quarter.
    Dormant,
}

impl CommitteeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CommitteeStatus::SetUp => "set_up",
            CommitteeStatus::Functional => "functional",
            CommitteeStatus::Dormant => "dormant",
        }
    }
    pub fn parse(s: &str) -> Option<CommitteeStatus> {
        [CommitteeStatus::SetUp, CommitteeStatus::Functional, CommitteeStatus::Dormant].into_iter().find(|c| c.as_str() == s)
    }
    pub fn label(self, lang: crate::Lang) -> &'static str {
        match (self, lang) {
            (CommitteeStatus::SetUp, crate::Lang::Fr) => "Mis en place",
            (CommitteeStatus::SetUp, crate::Lang::En) => "Set up",
            (CommitteeStatus::Functional, crate::Lang::Fr) => "Fonctionnel",
            (CommitteeStatus::Functional, crate::Lang::En) => "Functional",
            (CommitteeStatus::Dormant, crate::Lang::Fr) => "En veille",
            (CommitteeStatus::Dormant, crate::Lang::En) => "Dormant",
        }
    }
}

/// The first day of the quarter (three calendar months) that ends on `today`, inclusive.
pub fn quarter_start(today: NaiveDate) -> NaiveDate {
    today.checked_sub_months(Months::new(3)).unwrap_or(today).succ_opt().unwrap_or(today)
}

/// Functional if it met at least once in the three months up to `today`; otherwise set up if it
/// was created within those three months, dormant if older. Meetings after `today` are ignored.
pub fn committee_status(established_on: NaiveDate, meetings: &[NaiveDate], today: NaiveDate) -> CommitteeStatus {
    let from = quarter_start(today);
    if meetings.iter().any(|d| *d >= from && *d <= today) {
        CommitteeStatus::Functional
    } else if established_on >= from {
        CommitteeStatus::SetUp
    } else {
        CommitteeStatus::Dormant
    }
}

/// Where a meeting's decision stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FollowUp {
    Done,
    InProgress,
    Late,
}

impl FollowUp {
    pub fn as_str(self) -> &'static str {
        match self {
            FollowUp::Done => "done",
            FollowUp::InProgress => "in_progress",
            FollowUp::Late => "late",
        }
    }
    pub fn label(self, lang: crate::Lang) -> &'static str {
        match (self, lang) {
            (FollowUp::Done, crate::Lang::Fr) => "Exécutée",
            (FollowUp::Done, crate::Lang::En) => "Done",
            (FollowUp::InProgress, crate::Lang::Fr) => "En cours",
            (FollowUp::InProgress, crate::Lang::En) => "In progress",
            (FollowUp::Late, crate::Lang::Fr) => "En retard",
            (FollowUp::Late, crate::Lang::En) => "Late",
        }
    }
}

/// Done once carried out; otherwise in progress until its due date, late the day after.
pub fn follow_up(due_on: NaiveDate, done_on: Option<NaiveDate>, today: NaiveDate) -> FollowUp {
    match done_on {
        Some(d) if d <= today => FollowUp::Done,
        _ if today > due_on => FollowUp::Late,
        _ => FollowUp::InProgress,
    }
}

/// Reads `2026-03-14` or `14/03/2026`.
pub fn parse_date(raw: &str) -> Result<NaiveDate, GovMsg> {
    let t = raw.trim();
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(t, "%d/%m/%Y"))
        .map_err(|_| GovMsg::InvalidDate { text: t.to_string() })
}

/// A short free text (role, institution, agenda line, responsible party): trimmed, bounded.
pub fn parse_text(raw: &str, max: usize) -> Result<String, Msg> {
    let t = crate::text::squeeze(raw);
    if t.is_empty() {
        return Err(Msg::Required);
    }
    if t.chars().count() > max {
        return Err(Msg::TooLong { max });
    }
    Ok(t)
}

/// Optional text: empty is `None`.
pub fn parse_opt_text(raw: &str, max: usize) -> Result<Option<String>, Msg> {
    if raw.trim().is_empty() {
        Ok(None)
    } else {
        parse_text(raw, max).map(Some)
    }
}

/// A committee member, as entered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub name: String,
    /// President, secretary, member…
    pub role: String,
    /// Town hall, gendarmerie, women's association, youth council, traditional chiefdom…
    pub institution: Option<String>,
    pub sex: Sex,
    pub age_group: AgeGroup,
}

impl Member {
    /// The name as compared for duplicates: case, accents and punctuation ignored.
    pub fn key(&self) -> String {
        crate::text::fold(&self.name)
    }
}

/// A member from raw strings; errors name `prefix.field`.
pub fn parse_member(prefix: &str, name: &str, role: &str, institution: &str, sex: &str, age_group: &str) -> Result<Member, Vec<Invalid>> {
    let mut errs = Vec::new();
    let name = parse_name(name).map_err(|m| errs.push(Invalid::new(format!("{prefix}name"), m))).ok();
    let role = parse_text(role, 100).map_err(|m| errs.push(Invalid::new(format!("{prefix}role"), m))).ok();
    let institution = parse_opt_text(institution, 200).map_err(|m| errs.push(Invalid::new(format!("{prefix}institution"), m))).ok();
    let sex = Sex::parse(sex).map_err(|m| errs.push(inv(format!("{prefix}sex"), m))).ok();
    let age = AgeGroup::parse(age_group).map_err(|m| errs.push(inv(format!("{prefix}age_group"), m))).ok();
    match (name, role, institution, sex, age) {
        (Some(name), Some(role), Some(institution), Some(sex), Some(age_group)) if errs.is_empty() => Ok(Member { name, role, institution, sex, age_group }),
        _ => Err(errs),
    }
}

/// Refuses a member listed twice (same name, accents and case aside), naming the second one.
pub fn check_members(members: &[Member], field: &str) -> Result<(), Invalid> {
    check_new_members(&[], members, field)
}

/// Same, for members added to those a committee already has.
pub fn check_new_members(existing: &[String], new: &[Member], field: &str) -> Result<(), Invalid> {
    let mut seen: Vec<String> = existing.iter().map(|n| crate::text::fold(n)).collect();
    let base = seen.len();
    for (i, m) in new.iter().enumerate() {
        let k = m.key();
        if let Some(first) = seen.iter().position(|s| *s == k) {
            let first = if first < base { 0 } else { first - base + 1 };
            return Err(inv(format!("{field}[{i}].name"), GovMsg::DuplicateMember { name: m.name.clone(), first }));
        }
        seen.push(k);
    }
    Ok(())
}

/// A new committee, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitteeInput {
    pub name: String,
    pub kind: CommitteeKind,
    pub area: AreaCode,
    pub established_on: NaiveDate,
    pub members: Vec<Member>,
}

impl CommitteeInput {
    pub fn validate(&self, today: NaiveDate) -> Result<(), Invalid> {
        parse_name(&self.name).map_err(|m| Invalid::new("name", m))?;
        if self.established_on > today {
            return Err(inv("established_on", GovMsg::EstablishedInFuture));
        }
        check_members(&self.members, "members")
    }
}

/// One cell of a meeting's attendance sheet: how many people of this sex and age group came.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttendanceCell {
    pub sex: Sex,
    pub age_group: AgeGroup,
    pub count: u32,
}

pub const MAX_ATTENDEES_PER_CELL: u32 = 10_000;

/// A decision or recommendation of a meeting, with who carries it out and by when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionInput {
    pub text: String,
    pub responsible: String,
    pub due_on: NaiveDate,
}

/// A meeting held, as entered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeetingInput {
    pub held_on: NaiveDate,
    pub agenda: String,
    /// Minutes, as typed or summarised (the attachment itself is not kept here).
    pub minutes: Option<String>,
    pub attendance: Vec<AttendanceCell>,
    pub decisions: Vec<DecisionInput>,
    /// Early-warning events and alerts this meeting's report deals with.
    pub alert_ids: Vec<i64>,
}

impl MeetingInput {
    /// A meeting can only be recorded once held, after the committee existed, with somebody
    /// present; decisions fall due on or after the meeting.
    pub fn validate(&self, established_on: NaiveDate, today: NaiveDate) -> Result<(), Vec<Invalid>> {
        let mut errs = Vec::new();
        if self.held_on < established_on {
            errs.push(inv("held_on", GovMsg::MeetingBeforeCommittee { established_on: established_on.to_string() }));
        }
        if self.held_on > today {
            errs.push(inv("held_on", GovMsg::MeetingInFuture));
        }
        if let Err(m) = parse_text(&self.agenda, 4000) {
            errs.push(Invalid::new("agenda", m));
        }
        if self.minutes.as_ref().is_some_and(|m| m.chars().count() > 20_000) {
            errs.push(Invalid::new("minutes", Msg::TooLong { max: 20_000 }));
        }
        let mut cells = std::collections::BTreeSet::new();
        for (i, c) in self.attendance.iter().enumerate() {
            if !cells.insert((c.sex, c.age_group)) {
                errs.push(inv(format!("attendance[{i}]"), GovMsg::DuplicateAttendanceCell));
            }
            if c.count > MAX_ATTENDEES_PER_CELL {
                errs.push(inv(format!("attendance[{i}].count"), GovMsg::InvalidCount { text: c.count.to_string() }));
            }
        }
        if self.attendance.iter().map(|c| c.count as u64).sum::<u64>() == 0 {
            errs.push(inv("attendance", GovMsg::NoAttendees));
        }
        for (i, d) in self.decisions.iter().enumerate() {
            if let Err(m) = parse_text(&d.text, 2000) {
                errs.push(Invalid::new(format!("decisions[{i}].text"), m));
            }
            if let Err(m) = parse_text(&d.responsible, 200) {
                errs.push(Invalid::new(format!("decisions[{i}].responsible"), m));
            }
            if d.due_on < self.held_on {
                errs.push(inv(format!("decisions[{i}].due_on"), GovMsg::DueBeforeMeeting));
            }
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs)
        }
    }
}

/// A decision's execution date must not precede its meeting, nor lie in the future.
pub fn check_done_on(done_on: NaiveDate, held_on: NaiveDate, today: NaiveDate) -> Result<(), Invalid> {
    if done_on < held_on {
        return Err(inv("done_on", GovMsg::DoneBeforeMeeting));
    }
    if done_on > today {
        return Err(inv("done_on", GovMsg::InvalidDate { text: done_on.to_string() }));
    }
    Ok(())
}

/// One action of a local security plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanAction {
    pub action: String,
    pub responsible: String,
    pub deadline: NaiveDate,
    pub status: ActionStatus,
}

/// A committee's local security plan over a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanInput {
    pub title: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub actions: Vec<PlanAction>,
}

impl PlanInput {
    pub fn validate(&self) -> Result<(), Vec<Invalid>> {
        let mut errs = Vec::new();
        if let Err(m) = parse_text(&self.title, 200) {
            errs.push(Invalid::new("title", m));
        }
        if self.ends_on < self.starts_on {
            errs.push(inv("ends_on", GovMsg::InvalidPlanPeriod));
        }
        for (i, a) in self.actions.iter().enumerate() {
            if let Err(m) = parse_text(&a.action, 1000) {
                errs.push(Invalid::new(format!("actions[{i}].action"), m));
            }
            if let Err(m) = parse_text(&a.responsible, 200) {
                errs.push(Invalid::new(format!("actions[{i}].responsible"), m));
            }
            if a.deadline < self.starts_on || a.deadline > self.ends_on {
                errs.push(inv(format!("actions[{i}].deadline"), GovMsg::DeadlineOutsidePlan));
            }
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs)
        }
    }
}

/// An action past its deadline and neither done nor cancelled.
pub fn action_late(a: &PlanAction, today: NaiveDate) -> bool {
    matches!(a.status, ActionStatus::Planned | ActionStatus::InProgress) && today > a.deadline
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn member(name: &str, sex: Sex, age: AgeGroup) -> Member {
        Member { name: name.into(), role: "membre".into(), institution: None, sex, age_group: age }
    }

    #[test]
    fn status_comes_from_meetings_of_the_last_quarter() {
        let today = d("2026-11-23");
        assert_eq!(quarter_start(today), d("2026-08-24"));
        // Set up in January, met in September: functional.
        assert_eq!(committee_status(d("2026-01-10"), &[d("2026-09-01")], today), CommitteeStatus::Functional);
        // Last met on 23 August, one day before the quarter: dormant.
        assert_eq!(committee_status(d("2026-01-10"), &[d("2026-08-23")], today), CommitteeStatus::Dormant);
        assert_eq!(committee_status(d("2026-01-10"), &[d("2026-08-24")], today), CommitteeStatus::Functional);
        // Created last month, not met yet: set up.
        assert_eq!(committee_status(d("2026-10-30"), &[], today), CommitteeStatus::SetUp);
        // A meeting dated after today does not count.
        assert_eq!(committee_status(d("2026-01-10"), &[d("2026-12-01")], today), CommitteeStatus::Dormant);
    }

    #[test]
    fn follow_up_is_computed_from_dates() {
        let due = d("2026-10-31");
        assert_eq!(follow_up(due, None, d("2026-10-31")), FollowUp::InProgress);
        assert_eq!(follow_up(due, None, d("2026-11-01")), FollowUp::Late);
        assert_eq!(follow_up(due, Some(d("2026-11-05")), d("2026-11-23")), FollowUp::Done);
        assert_eq!(follow_up(due, Some(d("2026-10-02")), d("2026-10-20")), FollowUp::Done);
    }

    #[test]
    fn a_member_listed_twice_is_refused_with_accents_and_case_aside() {
        let ms = vec![
            member("Aminata Traoré", Sex::Female, AgeGroup::Youth),
            member("Moussa Diallo", Sex::Male, AgeGroup::Adult),
            member("AMINATA  TRAORE", Sex::Female, AgeGroup::Youth),
        ];
        let e = check_members(&ms, "members").unwrap_err();
        assert_eq!(e.field, "members[2].name");
        assert_eq!(e.msg, Msg::from(GovMsg::DuplicateMember { name: "AMINATA  TRAORE".into(), first: 1 }));
        assert!(e.msg.text(crate::Lang::Fr).contains("deux fois"));
        assert!(e.msg.text(crate::Lang::En).contains("twice"));
        assert!(check_new_members(&["Moussa Diallo".into()], &ms[1..2], "members").is_err());
        assert!(check_members(&ms[..2], "members").is_ok());
    }

    #[test]
    fn meetings_are_checked_against_the_committee_and_the_calendar() {
        let m = MeetingInput {
            held_on: d("2025-12-31"),
            agenda: "Sécurité du marché".into(),
            minutes: None,
            attendance: vec![AttendanceCell { sex: Sex::Female, age_group: AgeGroup::Youth, count: 0 }],
            decisions: vec![DecisionInput { text: "Patrouille".into(), responsible: "Maire".into(), due_on: d("2025-12-01") }],
            alert_ids: vec![],
        };
        let errs = m.validate(d("2026-01-10"), d("2026-11-23")).unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["held_on", "attendance", "decisions[0].due_on"]);
        assert!(matches!(&errs[0].msg, Msg::Governance(g) if matches!(**g, GovMsg::MeetingBeforeCommittee { .. })));
        let ok = MeetingInput { held_on: d("2026-02-01"), attendance: vec![AttendanceCell { count: 3, ..m.attendance[0] }], decisions: vec![], ..m.clone() };
        assert!(ok.validate(d("2026-01-10"), d("2026-11-23")).is_ok());
        let future = MeetingInput { held_on: d("2026-12-01"), ..ok };
        assert_eq!(future.validate(d("2026-01-10"), d("2026-11-23")).unwrap_err()[0].msg, Msg::from(GovMsg::MeetingInFuture));
    }

    #[test]
    fn codes_are_read_in_either_language() {
        assert_eq!(Sex::parse("F").unwrap(), Sex::Female);
        assert_eq!(Sex::parse("homme").unwrap(), Sex::Male);
        assert_eq!(AgeGroup::parse("Jeune").unwrap(), AgeGroup::Youth);
        assert_eq!(CommitteeKind::parse("Commission foncière").unwrap(), CommitteeKind::LandCommission);
        assert_eq!(CommitteeKind::parse("land_commission").unwrap(), CommitteeKind::LandCommission);
        assert!(CommitteeKind::parse("club de foot").is_err());
        assert_eq!(ActionStatus::parse("en cours").unwrap(), ActionStatus::InProgress);
        assert_eq!(parse_date("14/03/2026").unwrap(), d("2026-03-14"));
        assert!(parse_date("2026-02-30").is_err());
    }

    #[test]
    fn plans_keep_deadlines_inside_their_period() {
        let p = PlanInput {
            title: "Plan local de sécurité 2026".into(),
            starts_on: d("2026-01-01"),
            ends_on: d("2026-12-31"),
            actions: vec![
                PlanAction { action: "Éclairage du marché".into(), responsible: "Mairie".into(), deadline: d("2026-06-30"), status: ActionStatus::InProgress },
                PlanAction { action: "Forum".into(), responsible: "CSC".into(), deadline: d("2027-01-15"), status: ActionStatus::Planned },
            ],
        };
        let e = p.validate().unwrap_err();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].field, "actions[1].deadline");
        assert!(action_late(&p.actions[0], d("2026-07-01")));
        assert!(!action_late(&PlanAction { status: ActionStatus::Done, ..p.actions[0].clone() }, d("2026-07-01")));
    }
}
