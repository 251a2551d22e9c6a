//! The life of an alert, from the first report to the outcome, with the time of every step:
//! those timestamps are what the indicators measure and what an inquiry will ask for.
//!
//! ```text
//! reported ─▶ verified ─▶ alerted ─▶ acknowledged ─▶ responded ─▶ closed (with outcome)
//!    │  └──(critical only)──▲   │           │
//!    └────────┴─────────────┴───┴───────────┴──▶ false_alarm | cancelled
//! ```

use super::taxonomy::{CategoryCode, Severity};
use super::EwMsg;
use crate::area::AreaPath;
use crate::Lang;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    Reported,
    Verified,
    Alerted,
    Acknowledged,
    Responded,
    Closed,
    FalseAlarm,
    Cancelled,
}

impl AlertState {
    pub const ALL: [AlertState; 8] = [
        Self::Reported,
        Self::Verified,
        Self::Alerted,
        Self::Acknowledged,
        Self::Responded,
        Self::Closed,
        Self::FalseAlarm,
        Self::Cancelled,
    ];
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Closed | Self::FalseAlarm | Self::Cancelled)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reported => "reported",
            Self::Verified => "verified",
            Self::Alerted => "alerted",
            Self::Acknowledged => "acknowledged",
            Self::Responded => "responded",
            Self::Closed => "closed",
            Self::FalseAlarm => "false_alarm",
            Self::Cancelled => "cancelled",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }
    pub fn label(self, lang: Lang) -> &'static str {
        let (fr, en) = match self {
            Self::Reported => ("signalée", "reported"),
            Self::Verified => ("vérifiée", "verified"),
            Self::Alerted => ("alerte lancée", "alerted"),
            Self::Acknowledged => ("réception confirmée", "acknowledged"),
            Self::Responded => ("intervention en cours", "responded"),
            Self::Closed => ("clôturée", "closed"),
            Self::FalseAlarm => ("fausse alerte", "false alarm"),
            Self::Cancelled => ("annulée", "cancelled"),
        };
        if lang == Lang::Fr { fr } else { en }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ResponseAction {
    PatrolDeployed,
    Mediation,
    Evacuation,
    Other { description: String },
}

impl ResponseAction {
    pub fn label(&self, lang: Lang) -> String {
        let (fr, en) = match self {
            Self::PatrolDeployed => ("Patrouille déployée", "Patrol deployed"),
            Self::Mediation => ("Médiation", "Mediation"),
            Self::Evacuation => ("Évacuation", "Evacuation"),
            Self::Other { description } => return description.clone(),
        };
        if lang == Lang::Fr { fr.into() } else { en.into() }
    }
}

/// What happened after the response. The MINUSMA indicator counts `ViolencePrevented` and
/// `ViolenceStopped` as successes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    ViolencePrevented,
    ViolenceStopped,
    ViolenceNotPrevented,
    /// On arrival there was no threat.
    FalseAlarm,
    Unknown,
}

impl Outcome {
    pub fn label(self, lang: Lang) -> &'static str {
        let (fr, en) = match self {
            Self::ViolencePrevented => ("Violence évitée", "Violence prevented"),
            Self::ViolenceStopped => ("Violence arrêtée", "Violence stopped"),
            Self::ViolenceNotPrevented => ("Violence non évitée", "Violence not prevented"),
            Self::FalseAlarm => ("Fausse alerte", "False alarm"),
            Self::Unknown => ("Inconnu", "Unknown"),
        };
        if lang == Lang::Fr { fr } else { en }
    }
}

/// One step of escalation while the alert waits for an acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscalationEntry {
    /// Index in the matching rule's ordered responder levels.
    pub level: usize,
    pub at: DateTime<Utc>,
    pub kind: EscalationKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EscalationKind {
    /// The level was sent the alert and has until `deadline` to acknowledge.
    Notified { deadline: DateTime<Utc> },
    /// The level could not be reached (no phone on file): moved past, and flagged.
    SkippedNoPhone,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    pub from: AlertState,
    pub to: AlertState,
    pub at: DateTime<Utc>,
    pub by_user: Option<i64>,
}

/// What a person (or the scheduler) asks of an alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum AlertCommand {
    Verify,
    /// Send the alert to responders. From `reported` directly only when critical: an imminent
    /// attack cannot wait for verification, which then goes on in parallel.
    Raise,
    /// `level`: which responder level acknowledged, when known.
    Acknowledge { level: Option<usize> },
    Respond { actions: Vec<ResponseAction> },
    Close { outcome: Outcome },
    MarkFalseAlarm,
    Cancel { reason: String },
}

impl AlertCommand {
    fn target(&self) -> AlertState {
        match self {
            Self::Verify => AlertState::Verified,
            Self::Raise => AlertState::Alerted,
            Self::Acknowledge { .. } => AlertState::Acknowledged,
            Self::Respond { .. } => AlertState::Responded,
            Self::Close { .. } => AlertState::Closed,
            Self::MarkFalseAlarm => AlertState::FalseAlarm,
            Self::Cancel { .. } => AlertState::Cancelled,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub id: i64,
    pub event_id: Option<i64>,
    pub category: CategoryCode,
    pub severity: Severity,
    pub area: AreaPath,
    pub state: AlertState,
    /// When the first report of the event was received.
    pub reported_at: DateTime<Utc>,
    pub verified_at: Option<DateTime<Utc>>,
    pub alerted_at: Option<DateTime<Utc>>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub responded_at: Option<DateTime<Utc>>,
    /// When it reached `closed`, `false_alarm` or `cancelled`.
    pub closed_at: Option<DateTime<Utc>>,
    /// Raised before verification (critical severity).
    pub alerted_unverified: bool,
    pub acknowledged_by_level: Option<usize>,
    pub escalation: Vec<EscalationEntry>,
    pub actions: Vec<ResponseAction>,
    pub outcome: Option<Outcome>,
    pub cancel_reason: Option<String>,
    pub history: Vec<Transition>,
    /// Raised by an auto-raise escalation rule on a trusted report, not by a person.
    #[serde(default)]
    pub raised_automatically: bool,
}

impl Alert {
    pub fn new(id: i64, category: CategoryCode, severity: Severity, area: AreaPath, reported_at: DateTime<Utc>) -> Self {
        Alert {
            id,
            event_id: None,
            category,
            severity,
            area,
            state: AlertState::Reported,
            reported_at,
            verified_at: None,
            alerted_at: None,
            acknowledged_at: None,
            responded_at: None,
            closed_at: None,
            alerted_unverified: false,
            acknowledged_by_level: None,
            escalation: Vec::new(),
            actions: Vec::new(),
            outcome: None,
            cancel_reason: None,
            history: Vec::new(),
            raised_automatically: false,
        }
    }

    /// The time of the latest recorded step: nothing may be recorded before it.
    pub fn last_step_at(&self) -> DateTime<Utc> {
        let mut t = self.reported_at;
        if let Some(h) = self.history.last() {
            t = t.max(h.at);
        }
        if let Some(e) = self.escalation.last() {
            t = t.max(e.at);
        }
        t
    }

    /// Applies a command at `now`. On error nothing changes.
    pub fn apply(&mut self, cmd: AlertCommand, by_user: Option<i64>, now: DateTime<Utc>) -> Result<AlertState, EwMsg> {
        use AlertState as S;
        let from = self.state;
        let to = cmd.target();
        if from.is_terminal() {
            return Err(EwMsg::AlertAlreadyFinished { state: from });
        }
        if now < self.last_step_at() {
            return Err(EwMsg::StepBeforePreviousStep);
        }
        let legal = match (from, to) {
            (S::Reported, S::Verified) => true,
            (S::Verified, S::Alerted) => true,
            (S::Reported, S::Alerted) => {
                if self.severity < Severity::Critical {
                    return Err(EwMsg::VerifyBeforeAlert);
                }
                true
            }
            (S::Alerted, S::Acknowledged) => true,
            (S::Acknowledged, S::Responded) => true,
            (S::Responded, S::Closed) => true,
            (S::Reported | S::Verified | S::Alerted | S::Acknowledged, S::FalseAlarm | S::Cancelled) => true,
            _ => false,
        };
        if !legal {
            return Err(EwMsg::IllegalTransition { from, to });
        }
        match &cmd {
            AlertCommand::Respond { actions } => {
                if actions.is_empty() {
                    return Err(EwMsg::ResponseActionRequired);
                }
                if actions.iter().any(|a| matches!(a, ResponseAction::Other { description } if description.trim().is_empty())) {
                    return Err(EwMsg::ResponseActionRequired);
                }
            }
            AlertCommand::Cancel { reason } if reason.trim().is_empty() => return Err(EwMsg::CancelReasonRequired),
            _ => {}
        }
        match cmd {
            AlertCommand::Verify => self.verified_at = Some(now),
            AlertCommand::Raise => {
                self.alerted_at = Some(now);
                self.alerted_unverified = from == S::Reported;
            }
            AlertCommand::Acknowledge { level } => {
                self.acknowledged_at = Some(now);
                self.acknowledged_by_level = level;
            }
            AlertCommand::Respond { actions } => {
                self.responded_at = Some(now);
                self.actions = actions;
            }
            AlertCommand::Close { outcome } => {
                self.closed_at = Some(now);
                self.outcome = Some(outcome);
            }
            AlertCommand::MarkFalseAlarm => {
                self.closed_at = Some(now);
                self.outcome = Some(Outcome::FalseAlarm);
            }
            AlertCommand::Cancel { reason } => {
                self.closed_at = Some(now);
                self.cancel_reason = Some(reason.trim().to_string());
            }
        }
        self.state = to;
        self.history.push(Transition { from, to, at: now, by_user });
        Ok(to)
    }

    /// Raises the alert on behalf of an auto-raise rule (see
    /// `escalation::raises_automatically`): from `reported` or `verified`, whatever the
    /// severity, because an administrator decided beforehand that this kind of report cannot
    /// wait. Verification goes on afterwards, as for a critical alert raised unverified.
    pub fn auto_raise(&mut self, now: DateTime<Utc>) -> Result<AlertState, EwMsg> {
        let from = self.state;
        if from.is_terminal() {
            return Err(EwMsg::AlertAlreadyFinished { state: from });
        }
        if !matches!(from, AlertState::Reported | AlertState::Verified) {
            return Err(EwMsg::IllegalTransition { from, to: AlertState::Alerted });
        }
        if now < self.last_step_at() {
            return Err(EwMsg::StepBeforePreviousStep);
        }
        self.alerted_at = Some(now);
        self.alerted_unverified = from == AlertState::Reported;
        self.raised_automatically = true;
        self.state = AlertState::Alerted;
        self.history.push(Transition { from, to: AlertState::Alerted, at: now, by_user: None });
        Ok(AlertState::Alerted)
    }

    /// Records what the scheduler did after `escalation::next_escalation`. Only while the alert
    /// waits for an acknowledgement.
    pub fn record_escalation(&mut self, entry: EscalationEntry) -> Result<(), EwMsg> {
        if self.state != AlertState::Alerted {
            return Err(EwMsg::NotAwaitingAcknowledgement);
        }
        if entry.at < self.last_step_at() {
            return Err(EwMsg::StepBeforePreviousStep);
        }
        self.escalation.push(entry);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn t(min: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2024-03-10T06:00:00Z").unwrap().with_timezone(&Utc) + Duration::minutes(min)
    }
    fn alert(sev: Severity) -> Alert {
        Alert::new(1, CategoryCode::parse("armed_attack").unwrap(), sev, AreaPath("ML/ML-5".into()), t(0))
    }

    #[test]
    fn full_lifecycle_records_every_timestamp() {
        let mut a = alert(Severity::High);
        a.apply(AlertCommand::Verify, Some(3), t(10)).unwrap();
        a.apply(AlertCommand::Raise, Some(3), t(15)).unwrap();
        a.apply(AlertCommand::Acknowledge { level: Some(0) }, Some(9), t(40)).unwrap();
        a.apply(AlertCommand::Respond { actions: vec![ResponseAction::PatrolDeployed, ResponseAction::Mediation] }, Some(9), t(90))
            .unwrap();
        a.apply(AlertCommand::Close { outcome: Outcome::ViolencePrevented }, Some(3), t(600)).unwrap();
        assert_eq!(a.state, AlertState::Closed);
        assert_eq!(
            (a.verified_at, a.alerted_at, a.acknowledged_at, a.responded_at, a.closed_at),
            (Some(t(10)), Some(t(15)), Some(t(40)), Some(t(90)), Some(t(600)))
        );
        assert_eq!(a.outcome, Some(Outcome::ViolencePrevented));
        assert!(!a.alerted_unverified);
        assert_eq!(a.history.len(), 5);
        assert_eq!(a.history[2], Transition { from: AlertState::Alerted, to: AlertState::Acknowledged, at: t(40), by_user: Some(9) });
    }

    #[test]
    fn illegal_transitions_are_errors_and_change_nothing() {
        let mut a = alert(Severity::High);
        let before = a.clone();
        assert_eq!(a.apply(AlertCommand::Acknowledge { level: None }, None, t(1)), Err(EwMsg::IllegalTransition {
            from: AlertState::Reported,
            to: AlertState::Acknowledged
        }));
        assert_eq!(a.apply(AlertCommand::Close { outcome: Outcome::Unknown }, None, t(1)), Err(EwMsg::IllegalTransition {
            from: AlertState::Reported,
            to: AlertState::Closed
        }));
        assert_eq!(a.apply(AlertCommand::Raise, None, t(1)), Err(EwMsg::VerifyBeforeAlert));
        assert_eq!(a, before);
        a.apply(AlertCommand::Verify, None, t(1)).unwrap();
        assert!(matches!(a.apply(AlertCommand::Verify, None, t(2)), Err(EwMsg::IllegalTransition { .. })));
        a.apply(AlertCommand::Raise, None, t(2)).unwrap();
        a.apply(AlertCommand::Acknowledge { level: None }, None, t(3)).unwrap();
        a.apply(AlertCommand::Respond { actions: vec![ResponseAction::Evacuation] }, None, t(4)).unwrap();
        // A response is closed with an outcome, not cancelled or called a false alarm.
        assert!(matches!(a.apply(AlertCommand::Cancel { reason: "x".into() }, None, t(5)), Err(EwMsg::IllegalTransition { .. })));
        assert!(matches!(a.apply(AlertCommand::MarkFalseAlarm, None, t(5)), Err(EwMsg::IllegalTransition { .. })));
        a.apply(AlertCommand::Close { outcome: Outcome::FalseAlarm }, None, t(5)).unwrap();
        assert_eq!(a.apply(AlertCommand::Verify, None, t(6)), Err(EwMsg::AlertAlreadyFinished { state: AlertState::Closed }));
    }

    #[test]
    fn every_pair_of_states_is_decided() {
        // Exhaustive: from each reachable state, exactly the documented commands succeed.
        use AlertState as S;
        let cmds = || {
            vec![
                AlertCommand::Verify,
                AlertCommand::Raise,
                AlertCommand::Acknowledge { level: None },
                AlertCommand::Respond { actions: vec![ResponseAction::Mediation] },
                AlertCommand::Close { outcome: Outcome::Unknown },
                AlertCommand::MarkFalseAlarm,
                AlertCommand::Cancel { reason: "doublon".into() },
            ]
        };
        let path = [AlertCommand::Verify, AlertCommand::Raise, AlertCommand::Acknowledge { level: None }, AlertCommand::Respond {
            actions: vec![ResponseAction::Mediation],
        }];
        let expected: [(S, &[S]); 5] = [
            (S::Reported, &[S::Verified, S::FalseAlarm, S::Cancelled]),
            (S::Verified, &[S::Alerted, S::FalseAlarm, S::Cancelled]),
            (S::Alerted, &[S::Acknowledged, S::FalseAlarm, S::Cancelled]),
            (S::Acknowledged, &[S::Responded, S::FalseAlarm, S::Cancelled]),
            (S::Responded, &[S::Closed]),
        ];
        for (depth, (state, allowed)) in expected.iter().enumerate() {
            let mut base = alert(Severity::High);
            for (i, c) in path.iter().take(depth).enumerate() {
                base.apply(c.clone(), None, t(i as i64)).unwrap();
            }
            assert_eq!(base.state, *state);
            let ok: Vec<S> = cmds()
                .into_iter()
                .filter_map(|c| base.clone().apply(c, None, t(100)).ok())
                .collect();
            assert_eq!(ok, allowed.to_vec(), "from {state:?}");
        }
    }

    #[test]
    fn critical_alerts_may_skip_verification() {
        let mut a = alert(Severity::Critical);
        a.apply(AlertCommand::Raise, None, t(2)).unwrap();
        assert!(a.alerted_unverified);
        assert_eq!(a.verified_at, None);
    }

    #[test]
    fn auto_raise_skips_verification_at_any_severity_once() {
        let mut a = alert(Severity::Moderate);
        assert_eq!(a.auto_raise(t(-1)), Err(EwMsg::StepBeforePreviousStep));
        assert_eq!(a.auto_raise(t(1)), Ok(AlertState::Alerted));
        assert!(a.raised_automatically && a.alerted_unverified);
        assert_eq!((a.alerted_at, a.history.len(), a.history[0].by_user), (Some(t(1)), 1, None));
        // A second attempt (a retried job) changes nothing.
        let before = a.clone();
        assert!(matches!(a.auto_raise(t(2)), Err(EwMsg::IllegalTransition { .. })));
        assert_eq!(a, before);
        let mut v = alert(Severity::Low);
        v.apply(AlertCommand::Verify, Some(3), t(1)).unwrap();
        v.auto_raise(t(2)).unwrap();
        assert!(!v.alerted_unverified);
        let mut c = alert(Severity::High);
        c.apply(AlertCommand::Cancel { reason: "doublon".into() }, None, t(1)).unwrap();
        assert_eq!(c.auto_raise(t(2)), Err(EwMsg::AlertAlreadyFinished { state: AlertState::Cancelled }));
    }

    #[test]
    fn time_cannot_go_backwards() {
        let mut a = alert(Severity::High);
        assert_eq!(a.apply(AlertCommand::Verify, None, t(-1)), Err(EwMsg::StepBeforePreviousStep));
        a.apply(AlertCommand::Verify, None, t(10)).unwrap();
        assert_eq!(a.apply(AlertCommand::Raise, None, t(9)), Err(EwMsg::StepBeforePreviousStep));
        a.apply(AlertCommand::Raise, None, t(10)).unwrap(); // same instant is fine
    }

    #[test]
    fn responses_need_actions_and_cancellations_a_reason() {
        let mut a = alert(Severity::High);
        assert_eq!(a.apply(AlertCommand::Cancel { reason: "  ".into() }, None, t(1)), Err(EwMsg::CancelReasonRequired));
        for c in [AlertCommand::Verify, AlertCommand::Raise, AlertCommand::Acknowledge { level: Some(1) }] {
            a.apply(c, None, t(1)).unwrap();
        }
        assert_eq!(a.acknowledged_by_level, Some(1));
        assert_eq!(a.apply(AlertCommand::Respond { actions: vec![] }, None, t(2)), Err(EwMsg::ResponseActionRequired));
        assert_eq!(
            a.apply(AlertCommand::Respond { actions: vec![ResponseAction::Other { description: " ".into() }] }, None, t(2)),
            Err(EwMsg::ResponseActionRequired)
        );
        let mut b = alert(Severity::Low);
        b.apply(AlertCommand::Cancel { reason: " doublon de l'alerte 12 ".into() }, Some(4), t(3)).unwrap();
        assert_eq!((b.state, b.closed_at, b.cancel_reason.as_deref()), (AlertState::Cancelled, Some(t(3)), Some("doublon de l'alerte 12")));
    }

    #[test]
    fn escalation_is_recorded_only_while_waiting() {
        let mut a = alert(Severity::Critical);
        let e = |at| EscalationEntry { level: 0, at, kind: EscalationKind::Notified { deadline: t(30) } };
        assert_eq!(a.record_escalation(e(t(1))), Err(EwMsg::NotAwaitingAcknowledgement));
        a.apply(AlertCommand::Raise, None, t(1)).unwrap();
        a.record_escalation(e(t(1))).unwrap();
        assert_eq!(a.record_escalation(e(t(0))), Err(EwMsg::StepBeforePreviousStep));
        a.apply(AlertCommand::Acknowledge { level: Some(0) }, None, t(5)).unwrap();
        assert_eq!(a.record_escalation(e(t(6))), Err(EwMsg::NotAwaitingAcknowledgement));
    }

    #[test]
    fn alerts_round_trip_through_json() {
        let mut a = alert(Severity::Critical);
        a.apply(AlertCommand::Raise, Some(2), t(1)).unwrap();
        a.record_escalation(EscalationEntry { level: 0, at: t(1), kind: EscalationKind::Notified { deadline: t(31) } }).unwrap();
        a.apply(AlertCommand::Acknowledge { level: Some(0) }, Some(5), t(4)).unwrap();
        a.apply(AlertCommand::Respond { actions: vec![ResponseAction::Other { description: "Dialogue avec les chefs".into() }] }, Some(5), t(9))
            .unwrap();
        let json = serde_json::to_string(&a).unwrap();
        assert!(json.contains("\"state\":\"responded\""), "{json}");
        let back: Alert = serde_json::from_str(&json).unwrap();
        assert_eq!(back, a);
    }

    #[test]
    fn states_round_trip_and_have_labels() {
        for s in AlertState::ALL {
            assert_eq!(AlertState::parse(s.as_str()), Some(s));
            assert_ne!(s.label(Lang::Fr), "");
        }
        assert_eq!(Outcome::ViolenceStopped.label(Lang::Fr), "Violence arrêtée");
        assert_eq!(ResponseAction::PatrolDeployed.label(Lang::En), "Patrol deployed");
    }
}
