//! Who is told about an alert, in what order, and when to move up. A rule gives, for a category,
//! a minimum severity and an area subtree, the ordered responder levels (e.g. the commune's
//! crisis committee, then the sous-préfet, then the préfet and the gendarmerie, then the mission)
//! with the time each has to acknowledge. `next_escalation` is pure: a scheduler calls it with
//! its own clock, carries out the plan, records it on the alert and sleeps until `wake_at`.
//! Nothing is dropped in silence: a responder without a phone is skipped *and* flagged.

use super::alert::{Alert, AlertState, EscalationEntry, EscalationKind};
use super::report::ReporterKind;
use super::taxonomy::{CategoryCode, Severity};
use super::EwMsg;
use crate::area::AreaPath;
use crate::phone::Phone;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponderLevel {
    /// Who, as people say it: "Sous-préfet de Sofara", "Brigade de gendarmerie de Djenné".
    pub name: String,
    pub phone: Option<Phone>,
    pub ack_deadline: Duration,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EscalationRule {
    /// `None`: any category.
    pub category: Option<CategoryCode>,
    pub min_severity: Severity,
    /// Alerts in this subtree.
    pub area: AreaPath,
    pub levels: Vec<ResponderLevel>,
    /// Raise the alert as soon as a trusted source reports it, without waiting for an analyst
    /// (who still verifies afterwards): for threats where minutes count, such as an imminent
    /// armed attack. On the rule rather than the category, because the rule already says which
    /// category, from which severity and where — and who is told.
    #[serde(default)]
    pub auto_raise: bool,
}

impl EscalationRule {
    /// At least one level; every deadline positive and at most a week; names present.
    pub fn new(category: Option<CategoryCode>, min_severity: Severity, area: AreaPath, levels: Vec<ResponderLevel>) -> Result<Self, EwMsg> {
        if levels.is_empty() {
            return Err(EwMsg::RuleNeedsLevels);
        }
        for l in &levels {
            if l.name.trim().is_empty() {
                return Err(EwMsg::ResponderNameRequired);
            }
            if l.ack_deadline <= Duration::zero() || l.ack_deadline > Duration::days(7) {
                return Err(EwMsg::InvalidDeadline);
            }
        }
        Ok(EscalationRule { category, min_severity, area, levels, auto_raise: false })
    }

    pub fn with_auto_raise(mut self, auto_raise: bool) -> Self {
        self.auto_raise = auto_raise;
        self
    }

    pub fn applies_to(&self, alert: &Alert) -> bool {
        (self.category.is_none() || self.category.as_ref() == Some(&alert.category))
            && alert.severity >= self.min_severity
            && self.area.contains(&alert.area)
    }
}

/// The rule for an alert: among those that apply, the most specific (deepest area, then a
/// named category over "any", then the highest minimum severity); the first listed on a tie.
pub fn matching_rule<'a>(alert: &Alert, rules: &'a [EscalationRule]) -> Option<&'a EscalationRule> {
    let mut best: Option<(&EscalationRule, (usize, bool, Severity))> = None;
    for r in rules.iter().filter(|r| r.applies_to(alert)) {
        let key = (r.area.0.split('/').count(), r.category.is_some(), r.min_severity);
        let better = match &best {
            Some((_, k)) => key > *k,
            None => true,
        };
        if better {
            best = Some((r, key));
        }
    }
    best.map(|(r, _)| r)
}

/// Whether a report from `reporter` into `alert` raises it with no person in the loop: the
/// rule that governs the alert says so, and the source is trusted (a registered focal point or
/// committee; an anonymous message is verified by an analyst first, or anyone could send the
/// gendarmerie out with one SMS).
pub fn raises_automatically(alert: &Alert, rules: &[EscalationRule], reporter: ReporterKind) -> bool {
    reporter != ReporterKind::Anonymous
        && matches!(alert.state, AlertState::Reported | AlertState::Verified)
        && matching_rule(alert, rules).is_some_and(|r| r.auto_raise)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "attention", rename_all = "snake_case")]
pub enum Attention {
    /// No rule covers this alert's category, severity and area: nobody would be told.
    NoRule,
    /// This level has no phone on file and was skipped.
    NoPhone { level: usize, name: String },
    /// Every level was tried and none acknowledged.
    Exhausted { since: DateTime<Utc> },
}

impl Attention {
    pub fn msg(&self) -> EwMsg {
        match self {
            Attention::NoRule => EwMsg::NoEscalationRule,
            Attention::NoPhone { name, .. } => EwMsg::ResponderHasNoPhone { name: name.clone() },
            Attention::Exhausted { .. } => EwMsg::EscalationExhausted,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notify {
    pub level: usize,
    pub name: String,
    pub phone: Phone,
    pub deadline: DateTime<Utc>,
    /// Set when this notification follows a level that let its deadline pass.
    pub after_missed: Option<usize>,
}

/// What to do now, and when to look again.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EscalationPlan {
    /// Levels to record as skipped (no phone), in order.
    pub skip: Vec<usize>,
    pub notify: Option<Notify>,
    /// To show on the alert and send to the duty analyst: never empty when nobody is notified
    /// and the alert still waits.
    pub attention: Vec<Attention>,
    /// Call `next_escalation` again at this time; `None` when only a person can move things.
    pub wake_at: Option<DateTime<Utc>>,
}

impl EscalationPlan {
    /// The entries to record on the alert once the plan is carried out (the notification only
    /// once the message has actually gone).
    pub fn entries(&self, now: DateTime<Utc>) -> Vec<EscalationEntry> {
        let mut v: Vec<EscalationEntry> =
            self.skip.iter().map(|l| EscalationEntry { level: *l, at: now, kind: EscalationKind::SkippedNoPhone }).collect();
        if let Some(n) = &self.notify {
            v.push(EscalationEntry { level: n.level, at: now, kind: EscalationKind::Notified { deadline: n.deadline } });
        }
        v
    }
}

/// The next escalation step for `alert` at `now`.
pub fn next_escalation(alert: &Alert, rules: &[EscalationRule], now: DateTime<Utc>) -> EscalationPlan {
    let mut plan = EscalationPlan::default();
    if alert.state != AlertState::Alerted {
        return plan;
    }
    let Some(rule) = matching_rule(alert, rules) else {
        plan.attention.push(Attention::NoRule);
        return plan;
    };
    let (start, after_missed, last_deadline) = match alert.escalation.last() {
        None => (0, None, None),
        Some(EscalationEntry { level, kind: EscalationKind::Notified { deadline }, .. }) => {
            if now < *deadline {
                plan.wake_at = Some(*deadline);
                return plan;
            }
            (level + 1, Some(*level), Some(*deadline))
        }
        Some(EscalationEntry { level, at, kind: EscalationKind::SkippedNoPhone }) => (level + 1, None, Some(*at)),
    };
    for (i, lvl) in rule.levels.iter().enumerate().skip(start) {
        match &lvl.phone {
            None => {
                plan.skip.push(i);
                plan.attention.push(Attention::NoPhone { level: i, name: lvl.name.clone() });
            }
            Some(phone) => {
                let deadline = now + lvl.ack_deadline;
                plan.notify =
                    Some(Notify { level: i, name: lvl.name.clone(), phone: phone.clone(), deadline, after_missed });
                plan.wake_at = Some(deadline);
                return plan;
            }
        }
    }
    plan.attention.push(Attention::Exhausted { since: last_deadline.unwrap_or(now) });
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::early_warning::alert::AlertCommand;

    fn t(min: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2024-03-10T06:00:00Z").unwrap().with_timezone(&Utc) + Duration::minutes(min)
    }
    fn lvl(name: &str, phone: Option<&str>, minutes: i64) -> ResponderLevel {
        ResponderLevel { name: name.into(), phone: phone.map(|p| Phone::parse(p).unwrap()), ack_deadline: Duration::minutes(minutes) }
    }
    fn rule(cat: Option<&str>, sev: Severity, area: &str, levels: Vec<ResponderLevel>) -> EscalationRule {
        EscalationRule::new(cat.map(|c| CategoryCode::parse(c).unwrap()), sev, AreaPath(area.into()), levels).unwrap()
    }
    fn rules() -> Vec<EscalationRule> {
        vec![
            rule(None, Severity::Moderate, "ML", vec![lvl("Cellule nationale", Some("+223 20 22 00 00"), 120)]),
            rule(
                None,
                Severity::High,
                "ML/ML-5",
                vec![
                    lvl("Comité communal de Sofara", Some("76 12 34 56"), 30),
                    lvl("Sous-préfet de Sofara", None, 30),
                    lvl("Préfet de Djenné", Some("0022366123456"), 60),
                ],
            ),
        ]
    }
    fn raised(area: &str, sev: Severity) -> Alert {
        let mut a = Alert::new(1, CategoryCode::parse("armed_attack").unwrap(), sev, AreaPath(area.into()), t(0));
        a.apply(AlertCommand::Verify, None, t(0)).unwrap();
        a.apply(AlertCommand::Raise, None, t(0)).unwrap();
        a
    }
    fn carry_out(a: &mut Alert, p: &EscalationPlan, now: DateTime<Utc>) {
        for e in p.entries(now) {
            a.record_escalation(e).unwrap();
        }
    }

    #[test]
    fn only_the_governing_rule_and_a_trusted_source_raise_automatically() {
        let fresh = |area: &str, sev| Alert::new(1, CategoryCode::parse("armed_attack").unwrap(), sev, AreaPath(area.into()), t(0));
        let mut rs = rules();
        // Mopti's rule (the most specific for Mopti) auto-raises; the national one does not.
        rs[1] = rs[1].clone().with_auto_raise(true);
        let mopti = fresh("ML/ML-5/ML-5-KORO", Severity::High);
        assert!(raises_automatically(&mopti, &rs, ReporterKind::FocalPoint));
        assert!(raises_automatically(&mopti, &rs, ReporterKind::Committee));
        assert!(!raises_automatically(&mopti, &rs, ReporterKind::Anonymous), "anonymous reports are verified first");
        assert!(!raises_automatically(&fresh("ML/ML-5", Severity::Moderate), &rs, ReporterKind::FocalPoint), "below Mopti's threshold: national rule");
        assert!(!raises_automatically(&fresh("ML/ML-6", Severity::Critical), &rs, ReporterKind::FocalPoint));
        assert!(!raises_automatically(&raised("ML/ML-5", Severity::High), &rs, ReporterKind::FocalPoint), "already raised");
        assert!(!raises_automatically(&mopti, &rules(), ReporterKind::FocalPoint));
    }

    #[test]
    fn rules_are_checked() {
        let area = AreaPath("ML".into());
        assert_eq!(EscalationRule::new(None, Severity::Low, area.clone(), vec![]), Err(EwMsg::RuleNeedsLevels));
        assert_eq!(EscalationRule::new(None, Severity::Low, area.clone(), vec![lvl("x", None, 0)]), Err(EwMsg::InvalidDeadline));
        assert_eq!(EscalationRule::new(None, Severity::Low, area, vec![lvl(" ", None, 5)]), Err(EwMsg::ResponderNameRequired));
    }

    #[test]
    fn the_most_specific_rule_applies() {
        let mut rs = rules();
        let mopti = raised("ML/ML-5/ML0502", Severity::High);
        assert_eq!(matching_rule(&mopti, &rs).unwrap().area.0, "ML/ML-5");
        // Moderate severity is below the Mopti rule's minimum: the national rule applies.
        let moderate = raised("ML/ML-5/ML0502", Severity::Moderate);
        assert_eq!(matching_rule(&moderate, &rs).unwrap().area.0, "ML");
        // ML-50 is not inside ML-5.
        assert_eq!(matching_rule(&raised("ML/ML-50", Severity::High), &rs).unwrap().area.0, "ML");
        // A category-specific rule at the same depth beats the generic one.
        rs.push(rule(Some("armed_attack"), Severity::High, "ML/ML-5", vec![lvl("Force", Some("70000000"), 10)]));
        assert_eq!(matching_rule(&mopti, &rs).unwrap().levels[0].name, "Force");
        assert!(matching_rule(&raised("ML/ML-5", Severity::Low), &rs).is_none());
    }

    #[test]
    fn escalates_level_by_level_skipping_unreachable_responders() {
        let rs = rules();
        let mut a = raised("ML/ML-5/ML0502", Severity::High);

        let p = next_escalation(&a, &rs, t(1));
        let n = p.notify.clone().unwrap();
        assert_eq!((n.level, n.phone.as_str(), n.deadline, n.after_missed), (0, "+22376123456", t(31), None));
        assert_eq!(p.wake_at, Some(t(31)));
        assert!(p.attention.is_empty() && p.skip.is_empty());
        carry_out(&mut a, &p, t(1));

        // Before the deadline: nothing to do, wake at the deadline.
        let p = next_escalation(&a, &rs, t(20));
        assert_eq!(p, EscalationPlan { wake_at: Some(t(31)), ..Default::default() });

        // Deadline passed: level 1 has no phone, so it is skipped and flagged, and level 2 told.
        let p = next_escalation(&a, &rs, t(31));
        assert_eq!(p.skip, vec![1]);
        assert_eq!(p.attention, vec![Attention::NoPhone { level: 1, name: "Sous-préfet de Sofara".into() }]);
        let n = p.notify.clone().unwrap();
        assert_eq!((n.level, n.deadline, n.after_missed), (2, t(91), Some(0)));
        carry_out(&mut a, &p, t(31));
        assert_eq!(a.escalation.len(), 3);

        // Last level misses its deadline: exhausted, needs a person, no more wake-ups.
        let p = next_escalation(&a, &rs, t(95));
        assert_eq!(p.notify, None);
        assert_eq!(p.attention, vec![Attention::Exhausted { since: t(91) }]);
        assert_eq!(p.wake_at, None);
    }

    #[test]
    fn nothing_happens_outside_the_alerted_state_and_no_rule_is_flagged() {
        let rs = rules();
        let mut a = raised("ML/ML-5", Severity::High);
        a.apply(AlertCommand::Acknowledge { level: Some(0) }, None, t(5)).unwrap();
        assert_eq!(next_escalation(&a, &rs, t(500)), EscalationPlan::default());
        let low = raised("ML/ML-5", Severity::Low);
        let p = next_escalation(&low, &rs, t(1));
        assert_eq!(p.attention, vec![Attention::NoRule]);
        assert!(p.notify.is_none());
        let mut fresh = Alert::new(2, CategoryCode::parse("armed_attack").unwrap(), Severity::High, AreaPath("ML/ML-5".into()), t(0));
        assert_eq!(next_escalation(&fresh, &rs, t(1)), EscalationPlan::default());
        fresh.apply(AlertCommand::Verify, None, t(1)).unwrap();
        assert_eq!(next_escalation(&fresh, &rs, t(2)), EscalationPlan::default());
    }

    #[test]
    fn no_reachable_level_at_all_is_flagged_at_once() {
        let rs = vec![rule(None, Severity::Low, "ML", vec![lvl("A", None, 10), lvl("B", None, 10)])];
        let a = raised("ML/ML-5", Severity::High);
        let p = next_escalation(&a, &rs, t(1));
        assert_eq!(p.skip, vec![0, 1]);
        assert_eq!(p.attention.len(), 3);
        assert_eq!(p.attention[2], Attention::Exhausted { since: t(1) });
        assert!(p.attention.iter().all(|x| !x.msg().text(crate::Lang::Fr).is_empty()));
    }

    /// A scheduler with a fake clock drives an alert until someone acknowledges.
    #[test]
    fn a_scheduler_with_an_injected_clock_can_drive_it() {
        let rs = rules();
        let mut a = raised("ML/ML-5/ML0502", Severity::High);
        let mut clock = t(0);
        let mut notified = Vec::new();
        for _ in 0..10 {
            let plan = next_escalation(&a, &rs, clock);
            if let Some(n) = &plan.notify {
                notified.push((n.level, clock));
            }
            carry_out(&mut a, &plan, clock);
            if notified.len() == 2 {
                // The préfet answers 10 minutes after being told.
                clock += Duration::minutes(10);
                a.apply(AlertCommand::Acknowledge { level: Some(2) }, None, clock).unwrap();
            }
            match plan.wake_at {
                Some(w) if a.state == AlertState::Alerted => clock = w,
                _ => break,
            }
        }
        assert_eq!(notified, vec![(0, t(0)), (2, t(30))]);
        assert_eq!(a.state, AlertState::Acknowledged);
        assert_eq!(a.acknowledged_at, Some(t(40)));
    }
}
