//! The four workflows shipped with Vigie, kept as JSON (in `workflows/`) so they double as
//! examples for admins writing their own. Routine steps need `cases.handle`; decisions that
//! expose a case or close it on the merits need the `case_supervisor` role (CNDH commissioner,
//! inspector general, head of the NGO triage desk), which admins create and grant.
//!
//! - *denunciation*: the NGO coalition's corruption desk (PROSMED output 3.3): received →
//!   credibility check → referred to the inspection services or the economic and financial
//!   unit (PEF) → follow-up → outcome published by locality and administration; emblematic
//!   cases can be shared with investigative journalists; not credible → closed.
//! - *violation*: CNDH-style human-rights complaints, HURIDOCS events model: intake →
//!   documentation → qualification by violation type → referral to the competent authority →
//!   follow-up → closed (or inadmissible).
//! - *inspection_mission*: inspection services (ISSPC, ISJ): planned → in progress → findings →
//!   recommendations and sanctions → follow-up of implementation → closed (or cancelled).
//! - *monitoring_finding*: a CSO observes a security or justice unit: observed → validated →
//!   shared with the institution → institution's response → closed (or not validated).

use super::workflow::WorkflowDef;

pub const DENUNCIATION_JSON: &str = include_str!("workflows/denunciation.json");
pub const VIOLATION_JSON: &str = include_str!("workflows/violation.json");
pub const INSPECTION_MISSION_JSON: &str = include_str!("workflows/inspection_mission.json");
pub const MONITORING_FINDING_JSON: &str = include_str!("workflows/monitoring_finding.json");

/// The role named by the shipped workflows for decisions beyond routine handling.
pub const SUPERVISOR_ROLE: &str = "case_supervisor";

fn load(json: &str) -> WorkflowDef {
    // The files are part of the source and are checked by the tests below.
    WorkflowDef::from_json(json).expect("shipped workflow is valid")
}

pub fn denunciation() -> WorkflowDef {
    load(DENUNCIATION_JSON)
}
pub fn violation() -> WorkflowDef {
    load(VIOLATION_JSON)
}
pub fn inspection_mission() -> WorkflowDef {
    load(INSPECTION_MISSION_JSON)
}
pub fn monitoring_finding() -> WorkflowDef {
    load(MONITORING_FINDING_JSON)
}

pub fn builtin_workflows() -> Vec<WorkflowDef> {
    vec![denunciation(), violation(), inspection_mission(), monitoring_finding()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Permission;
    use crate::cases::workflow::{open_case, transition, Actor, CaseError, TransitionOutcome};
    use chrono::{DateTime, Duration, TimeZone, Utc};
    use std::collections::BTreeSet;

    fn handler() -> Actor {
        Actor {
            roles: BTreeSet::from(["case_handler".to_string()]),
            permissions: BTreeSet::from([Permission::CasesRead, Permission::CasesHandle]),
        }
    }
    fn supervisor() -> Actor {
        let mut a = handler();
        a.roles.insert(SUPERVISOR_ROLE.to_string());
        a
    }
    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 5, 8, 30, 0).unwrap()
    }

    /// Walks a case through `steps` (target state, who moves it, fields filled just before),
    /// checking at each step that the move is refused while the step's fields are missing.
    fn walk(def: &WorkflowDef, opening_fields: &[&str], steps: &[(&str, Actor, &[&str])]) -> Vec<TransitionOutcome> {
        let mut fields: BTreeSet<String> = BTreeSet::new();
        assert!(
            def.initial().required_fields.is_empty() || open_case(def, &fields, t0()).is_err(),
            "opening without the initial fields must fail"
        );
        fields.extend(opening_fields.iter().map(|s| s.to_string()));
        let mut now = t0();
        let mut out = vec![open_case(def, &fields, now).unwrap()];
        for (to, actor, new_fields) in steps {
            let from = out.last().unwrap().to.clone();
            now += Duration::days(2);
            if !new_fields.is_empty() {
                let e = transition(def, &from, to, actor, &fields, now).unwrap_err();
                assert!(matches!(e, CaseError::MissingFields { .. }), "{from} -> {to}: {e:?}");
            }
            fields.extend(new_fields.iter().map(|s| s.to_string()));
            let o = transition(def, &from, to, actor, &fields, now).unwrap_or_else(|e| panic!("{from} -> {to}: {e:?}"));
            assert_eq!(o.to, *to);
            let days = def.state(to).unwrap().deadline_days;
            assert_eq!(o.deadline, days.map(|d| now + Duration::days(d.into())));
            out.push(o);
        }
        assert!(out.last().unwrap().terminal, "walk must end closed");
        out
    }

    #[test]
    fn shipped_workflows_are_valid_and_distinct() {
        let all = builtin_workflows();
        let keys: BTreeSet<&str> = all.iter().map(|d| d.key()).collect();
        assert_eq!(keys, BTreeSet::from(["denunciation", "violation", "inspection_mission", "monitoring_finding"]));
        for d in &all {
            // Every shipped workflow protects at least one identity field.
            assert!(d.fields().iter().any(|f| f.identity), "{}", d.key());
        }
    }

    #[test]
    fn denunciation_referred_to_pef_then_published() {
        let d = denunciation();
        let outs = walk(
            &d,
            &["locality", "administration", "facts", "reporter_phone"],
            &[
                ("credibility_check", handler(), &[]),
                ("transmitted_pef", handler(), &["credibility_assessment", "transmission_ref"]),
                ("follow_up", handler(), &[]),
                ("shared_with_journalists", supervisor(), &["journalist_network", "sharing_justification"]),
                ("follow_up", handler(), &[]),
                ("outcome_published", supervisor(), &["outcome", "outcome_summary"]),
            ],
        );
        assert_eq!(outs[0].deadline, Some(t0() + Duration::days(7)));
        assert!(outs.last().unwrap().public);
        // Sharing with journalists is never shown on the public page.
        assert!(!d.state("shared_with_journalists").unwrap().public);
    }

    #[test]
    fn denunciation_found_not_credible() {
        let d = denunciation();
        walk(
            &d,
            &["locality", "administration", "facts"],
            &[
                ("credibility_check", handler(), &[]),
                ("not_credible", handler(), &["credibility_assessment", "closure_reason"]),
            ],
        );
        // Also via the inspection branch, closed without a known outcome.
        walk(
            &d,
            &["locality", "administration", "facts"],
            &[
                ("credibility_check", handler(), &[]),
                ("transmitted_inspection", handler(), &["credibility_assessment", "transmission_ref"]),
                ("follow_up", handler(), &[]),
                ("closed_no_outcome", supervisor(), &["closure_reason"]),
            ],
        );
    }

    #[test]
    fn denunciation_refusals() {
        let d = denunciation();
        let all: BTreeSet<String> = d.fields().iter().map(|f| f.key.clone()).collect();
        // Illegal: straight from received to published.
        assert_eq!(
            transition(&d, "received", "outcome_published", &supervisor(), &all, t0()),
            Err(CaseError::IllegalTransition { from: "received".into(), to: "outcome_published".into() })
        );
        // Wrong role: a handler may not publish; an analyst may not even triage.
        assert!(matches!(
            transition(&d, "follow_up", "outcome_published", &handler(), &all, t0()),
            Err(CaseError::Forbidden { .. })
        ));
        let analyst = Actor {
            roles: BTreeSet::from(["analyst".to_string()]),
            permissions: BTreeSet::from([Permission::ReportsRead, Permission::AlertsRaise]),
        };
        assert!(matches!(
            transition(&d, "received", "credibility_check", &analyst, &all, t0()),
            Err(CaseError::Forbidden { .. })
        ));
        // Closed cases stay closed.
        assert!(matches!(
            transition(&d, "not_credible", "credibility_check", &supervisor(), &all, t0()),
            Err(CaseError::Closed { .. })
        ));
        // Missing field: referral without the letter reference, and the message names it.
        let some: BTreeSet<String> = ["credibility_assessment"].map(String::from).into();
        let e = transition(&d, "credibility_check", "transmitted_inspection", &handler(), &some, t0()).unwrap_err();
        assert_eq!(e, CaseError::MissingFields { state: "transmitted_inspection".into(), fields: vec!["transmission_ref".into()] });
        assert!(e.msg(&d).text(crate::Lang::Fr).contains("Référence du courrier de transmission"));
    }

    #[test]
    fn violation_walked_from_intake_to_closure() {
        let v = violation();
        walk(
            &v,
            &["location", "complainant_phone", "witnesses"],
            &[
                ("documentation", handler(), &["victims", "event_date", "narrative"]),
                ("qualification", handler(), &["violation_type", "alleged_perpetrator_unit"]),
                // Sent back for more documentation, then qualified again.
                ("documentation", handler(), &[]),
                ("qualification", handler(), &[]),
                ("referral", supervisor(), &["competent_authority", "referral_ref"]),
                ("follow_up", handler(), &[]),
                ("closed", supervisor(), &["outcome", "closure_reason"]),
            ],
        );
        walk(&v, &["location"], &[("inadmissible", handler(), &["closure_reason"])]);
        let all: BTreeSet<String> = v.fields().iter().map(|f| f.key.clone()).collect();
        assert!(matches!(
            transition(&v, "qualification", "referral", &handler(), &all, t0()),
            Err(CaseError::Forbidden { .. })
        ));
        assert!(matches!(
            transition(&v, "intake", "referral", &supervisor(), &all, t0()),
            Err(CaseError::IllegalTransition { .. })
        ));
    }

    #[test]
    fn inspection_mission_walked_to_closure() {
        let i = inspection_mission();
        walk(
            &i,
            &["inspected_unit", "mission_order_ref", "planned_start"],
            &[
                ("in_progress", handler(), &["inspectors"]),
                ("findings", handler(), &["findings_summary"]),
                ("recommendations", supervisor(), &["recommendations", "sanctions"]),
                ("implementation_follow_up", supervisor(), &[]),
                ("closed", supervisor(), &["implementation_status", "closure_report_ref"]),
            ],
        );
        walk(&i, &["inspected_unit", "mission_order_ref", "planned_start"], &[("cancelled", supervisor(), &["closure_reason"])]);
    }

    #[test]
    fn monitoring_finding_walked_to_closure() {
        let m = monitoring_finding();
        walk(
            &m,
            &["observed_unit", "location", "observation_date", "observation", "observer_org"],
            &[
                ("validated", supervisor(), &["validation_note"]),
                ("shared_with_institution", handler(), &["institution_contact"]),
                ("institution_response", handler(), &["response_summary"]),
                ("closed", handler(), &["closure_note"]),
            ],
        );
        walk(
            &m,
            &["observed_unit", "location", "observation_date", "observation"],
            &[("rejected", handler(), &["closure_reason"])],
        );
        // A handler alone cannot validate a finding that will be shown to an institution.
        let all: BTreeSet<String> = m.fields().iter().map(|f| f.key.clone()).collect();
        assert!(matches!(transition(&m, "observed", "validated", &handler(), &all, t0()), Err(CaseError::Forbidden { .. })));
    }
}
