//! Indicators of the early-warning mechanism, computed from alert records for an area subtree
//! and a period. Every share comes with the counts it is made of, so a figure in a report to
//! donors can be checked alert by alert.
//!
//! Population: the alerts whose area is in the subtree and whose first report was *received*
//! in the period `[start, end)`. Counting by reception time keeps an alert in one period for
//! good, however long its response takes.

use super::alert::{Alert, AlertState, EscalationKind, Outcome};
use super::EwMsg;
use crate::area::AreaPath;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// A half-open interval `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Period {
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Self, EwMsg> {
        if start < end {
            Ok(Period { start, end })
        } else {
            Err(EwMsg::InvalidPeriod)
        }
    }
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.start <= t && t < self.end
    }
}

/// Acknowledgement within the deadline of the *first* level notified, i.e. without needing
/// escalation. Alerts whose answer is not yet known are left out of the share, and counted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AckCounts {
    /// within + late + not_acknowledged: the denominator.
    pub eligible: usize,
    pub within: usize,
    pub late: usize,
    /// Deadline passed with no acknowledgement (including alerts later cancelled).
    pub not_acknowledged: usize,
    /// Excluded: deadline not yet passed at `as_of`, or alert withdrawn before its deadline.
    pub undetermined: usize,
    /// Excluded: raised but no level was ever notified (no rule, no phone). A failure of the
    /// set-up, shown apart because there is no deadline to measure against.
    pub never_notified: usize,
    /// within / eligible.
    pub share: Option<f64>,
}

/// MINUSMA's indicator: "percentage of interventions after an early warning in which violence
/// was prevented or stopped".
///
/// An intervention is an alert that reached `responded`. The share's denominator is the
/// interventions whose outcome is *known and relevant*: prevented + stopped + not prevented.
/// Left out, and counted: false alarms (there was no violence to prevent, so they can be neither
/// successes nor failures; counting them as successes would reward crying wolf), outcomes
/// recorded as unknown (cannot be judged), and interventions not yet closed. Because leaving
/// unknowns out can flatter the figure, `share_if_unknown_failed` gives the lower bound that
/// counts every unknown as a failure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InterventionCounts {
    pub interventions: usize,
    pub awaiting_outcome: usize,
    pub prevented: usize,
    pub stopped: usize,
    pub not_prevented: usize,
    pub false_alarm: usize,
    pub unknown: usize,
    /// (prevented + stopped) / (prevented + stopped + not_prevented).
    pub share: Option<f64>,
    /// (prevented + stopped) / (prevented + stopped + not_prevented + unknown).
    pub share_if_unknown_failed: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Indicators {
    pub area: AreaPath,
    pub period: Period,
    pub as_of: DateTime<Utc>,
    /// Alert records in the population (raised or not).
    pub records: usize,
    /// Records that reached `alerted`: the "number of alerts".
    pub alerts_raised: usize,
    /// Closed as false alarm before or after a response.
    pub false_alarms: usize,
    /// Median of alerted_at − reported_at over the alerts raised.
    pub median_report_to_alert: Option<Duration>,
    /// Median of responded_at − alerted_at over the alerts responded to (`responded` of them).
    pub median_alert_to_response: Option<Duration>,
    pub responded: usize,
    pub ack: AckCounts,
    pub interventions: InterventionCounts,
}

/// Median of durations, to the second; for an even count, the mean of the two middle values
/// (rounded down to the second).
pub fn median(mut v: Vec<Duration>) -> Option<Duration> {
    if v.is_empty() {
        return None;
    }
    v.sort();
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        Duration::seconds((v[n / 2 - 1].num_seconds() + v[n / 2].num_seconds()).div_euclid(2))
    })
}

fn ratio(num: usize, den: usize) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

/// Indicators for the alerts of `area`'s subtree first reported in `period`, as known at `as_of`.
pub fn compute(alerts: &[Alert], area: &AreaPath, period: Period, as_of: DateTime<Utc>) -> Indicators {
    let pop: Vec<&Alert> = alerts.iter().filter(|a| area.contains(&a.area) && period.contains(a.reported_at)).collect();

    let raised: Vec<&Alert> = pop.iter().copied().filter(|a| a.alerted_at.is_some()).collect();
    let median_report_to_alert = median(raised.iter().map(|a| a.alerted_at.unwrap() - a.reported_at).collect());
    let responses: Vec<Duration> =
        raised.iter().filter_map(|a| a.responded_at.map(|r| r - a.alerted_at.unwrap())).collect();
    let responded = responses.len();
    let median_alert_to_response = median(responses);

    let mut ack = AckCounts { eligible: 0, within: 0, late: 0, not_acknowledged: 0, undetermined: 0, never_notified: 0, share: None };
    for a in &raised {
        let first_deadline = a.escalation.iter().find_map(|e| match e.kind {
            EscalationKind::Notified { deadline } => Some(deadline),
            EscalationKind::SkippedNoPhone => None,
        });
        let Some(deadline) = first_deadline else {
            ack.never_notified += 1;
            continue;
        };
        match a.acknowledged_at {
            Some(t) if t <= deadline => ack.within += 1,
            Some(_) => ack.late += 1,
            None => {
                let withdrawn_in_time = a.closed_at.is_some_and(|c| c <= deadline);
                if as_of <= deadline || withdrawn_in_time {
                    ack.undetermined += 1;
                } else {
                    ack.not_acknowledged += 1;
                }
            }
        }
    }
    ack.eligible = ack.within + ack.late + ack.not_acknowledged;
    ack.share = ratio(ack.within, ack.eligible);

    let mut iv = InterventionCounts {
        interventions: 0,
        awaiting_outcome: 0,
        prevented: 0,
        stopped: 0,
        not_prevented: 0,
        false_alarm: 0,
        unknown: 0,
        share: None,
        share_if_unknown_failed: None,
    };
    for a in pop.iter().filter(|a| a.responded_at.is_some()) {
        iv.interventions += 1;
        match (a.state, a.outcome) {
            (AlertState::Closed, Some(Outcome::ViolencePrevented)) => iv.prevented += 1,
            (AlertState::Closed, Some(Outcome::ViolenceStopped)) => iv.stopped += 1,
            (AlertState::Closed, Some(Outcome::ViolenceNotPrevented)) => iv.not_prevented += 1,
            (AlertState::Closed, Some(Outcome::FalseAlarm)) => iv.false_alarm += 1,
            (AlertState::Closed, Some(Outcome::Unknown)) => iv.unknown += 1,
            _ => iv.awaiting_outcome += 1,
        }
    }
    let success = iv.prevented + iv.stopped;
    iv.share = ratio(success, success + iv.not_prevented);
    iv.share_if_unknown_failed = ratio(success, success + iv.not_prevented + iv.unknown);

    let false_alarms = pop.iter().filter(|a| a.state == AlertState::FalseAlarm || a.outcome == Some(Outcome::FalseAlarm)).count();

    Indicators {
        area: area.clone(),
        period,
        as_of,
        records: pop.len(),
        alerts_raised: raised.len(),
        false_alarms,
        median_report_to_alert,
        median_alert_to_response,
        responded,
        ack,
        interventions: iv,
    }
}

/// The same indicators for several areas (e.g. each région), one row per area.
pub fn compute_by_area(alerts: &[Alert], areas: &[AreaPath], period: Period, as_of: DateTime<Utc>) -> Vec<Indicators> {
    areas.iter().map(|a| compute(alerts, a, period, as_of)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::early_warning::alert::{AlertCommand, EscalationEntry, ResponseAction};
    use crate::early_warning::taxonomy::{CategoryCode, Severity};

    /// Minutes from 2024-03-01T00:00Z.
    fn m(min: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2024-03-01T00:00:00Z").unwrap().with_timezone(&Utc) + Duration::minutes(min)
    }

    enum End {
        Close(Outcome),
        FalseAlarm,
        Cancel,
    }

    /// Builds an alert through the real state machine. Times in minutes; `notes` are
    /// (notified at, deadline) pairs.
    #[allow(clippy::too_many_arguments)]
    fn build(
        id: i64,
        area: &str,
        reported: i64,
        verified: Option<i64>,
        alerted: Option<i64>,
        notes: &[(i64, i64)],
        ack: Option<i64>,
        responded: Option<i64>,
        end: Option<(i64, End)>,
    ) -> Alert {
        let sev = if verified.is_none() { Severity::Critical } else { Severity::High };
        let mut a = Alert::new(id, CategoryCode::parse("armed_attack").unwrap(), sev, AreaPath(area.into()), m(reported));
        if let Some(t) = verified {
            a.apply(AlertCommand::Verify, None, m(t)).unwrap();
        }
        if let Some(t) = alerted {
            a.apply(AlertCommand::Raise, None, m(t)).unwrap();
        }
        for (i, (at, dl)) in notes.iter().enumerate() {
            a.record_escalation(EscalationEntry { level: i, at: m(*at), kind: EscalationKind::Notified { deadline: m(*dl) } }).unwrap();
        }
        if let Some(t) = ack {
            a.apply(AlertCommand::Acknowledge { level: None }, None, m(t)).unwrap();
        }
        if let Some(t) = responded {
            a.apply(AlertCommand::Respond { actions: vec![ResponseAction::PatrolDeployed] }, None, m(t)).unwrap();
        }
        match end {
            Some((t, End::Close(o))) => a.apply(AlertCommand::Close { outcome: o }, None, m(t)).map(|_| ()).unwrap(),
            Some((t, End::FalseAlarm)) => a.apply(AlertCommand::MarkFalseAlarm, None, m(t)).map(|_| ()).unwrap(),
            Some((t, End::Cancel)) => a.apply(AlertCommand::Cancel { reason: "retiré".into() }, None, m(t)).map(|_| ()).unwrap(),
            None => {}
        }
        a
    }

    const MOPTI: &str = "ML/ML-5/ML0502";

    fn sample() -> Vec<Alert> {
        use Outcome::*;
        vec![
            build(1, MOPTI, 0, Some(10), Some(20), &[(20, 50)], Some(40), Some(80), Some((500, End::Close(ViolencePrevented)))),
            build(2, MOPTI, 100, Some(130), Some(160), &[(160, 190), (190, 250)], Some(200), Some(260), Some((600, End::Close(ViolenceStopped)))),
            build(3, MOPTI, 300, None, Some(305), &[(305, 335)], Some(320), Some(345), Some((700, End::Close(ViolenceNotPrevented)))),
            build(4, MOPTI, 400, Some(420), Some(440), &[(440, 470)], Some(450), Some(500), Some((800, End::Close(Unknown)))),
            build(5, MOPTI, 600, Some(610), Some(700), &[(700, 730)], Some(720), Some(760), Some((900, End::Close(FalseAlarm)))),
            build(6, MOPTI, 800, Some(805), Some(810), &[(810, 840)], None, None, Some((900, End::Cancel))),
            build(7, MOPTI, 1000, Some(1010), None, &[], None, None, Some((1020, End::FalseAlarm))),
            build(8, MOPTI, 1100, Some(1105), Some(1120), &[(1120, 1150)], Some(1130), Some(1200), None),
            build(9, "ML/ML-6", 50, Some(60), Some(70), &[(70, 100)], Some(80), Some(90), Some((95, End::Close(ViolencePrevented)))),
            build(10, MOPTI, -1440, Some(-1430), Some(-1420), &[(-1420, -1390)], Some(-1400), Some(-1300), Some((-1200, End::Close(ViolenceNotPrevented)))),
            build(11, MOPTI, 44600, Some(44610), Some(44630), &[(44630, 44690)], None, None, None),
            build(12, MOPTI, 1400, Some(1405), Some(1410), &[], None, None, None),
        ]
    }

    /// Hand computation, period = March 2024 (44,640 minutes), area = ML/ML-5, as of 1 April 00:00:
    ///
    /// * #9 is in ML-6 and #10 was reported in February: out. Records: #1–8, #11, #12 = 10.
    /// * Raised: all but #7 = 9. Report→alert (min): 20, 60, 5, 40, 100, 10, 20, 30, 10;
    ///   sorted 5 10 10 20 **20** 30 40 60 100 → median 20 min.
    /// * Responded: #1 60, #2 100, #3 40, #4 60, #5 60, #8 80; sorted 40 60 **60 60** 80 100
    ///   → median (60+60)/2 = 60 min, over 6.
    /// * Acknowledgement vs first deadline: #1 40≤50 within; #2 200>190 late; #3 320≤335 within;
    ///   #4 450≤470 within; #5 720≤730 within; #6 none, deadline 840 passed, cancelled at 900 →
    ///   not acknowledged; #8 1130≤1150 within; #11 deadline 44690 after as_of 44640 →
    ///   undetermined; #12 never notified. Eligible 5+1+1 = 7, share 5/7 ≈ 0.714.
    /// * Interventions (responded): #1 prevented, #2 stopped, #3 not prevented, #4 unknown,
    ///   #5 false alarm, #8 still open → 6 interventions, 1 awaiting.
    ///   MINUSMA share = (1+1)/(1+1+1) = 2/3; if unknown failed = 2/4 = 0.5.
    /// * False alarms: #5 (after response) and #7 (before) = 2.
    #[test]
    fn hand_computed_example() {
        let period = Period::new(m(0), m(31 * 24 * 60)).unwrap();
        let i = compute(&sample(), &AreaPath("ML/ML-5".into()), period, m(31 * 24 * 60));
        assert_eq!(i.records, 10);
        assert_eq!(i.alerts_raised, 9);
        assert_eq!(i.false_alarms, 2);
        assert_eq!(i.median_report_to_alert, Some(Duration::minutes(20)));
        assert_eq!(i.median_alert_to_response, Some(Duration::minutes(60)));
        assert_eq!(i.responded, 6);
        assert_eq!(
            i.ack,
            AckCounts { eligible: 7, within: 5, late: 1, not_acknowledged: 1, undetermined: 1, never_notified: 1, share: Some(5.0 / 7.0) }
        );
        assert_eq!(
            i.interventions,
            InterventionCounts {
                interventions: 6,
                awaiting_outcome: 1,
                prevented: 1,
                stopped: 1,
                not_prevented: 1,
                false_alarm: 1,
                unknown: 1,
                share: Some(2.0 / 3.0),
                share_if_unknown_failed: Some(0.5),
            }
        );
    }

    #[test]
    fn later_as_of_settles_pending_acknowledgements() {
        // A day later, #11's deadline has passed unanswered: it now counts against.
        let period = Period::new(m(0), m(31 * 24 * 60)).unwrap();
        let i = compute(&sample(), &AreaPath("ML/ML-5".into()), period, m(32 * 24 * 60));
        assert_eq!((i.ack.eligible, i.ack.not_acknowledged, i.ack.undetermined), (8, 2, 0));
        assert_eq!(i.ack.share, Some(5.0 / 8.0));
    }

    #[test]
    fn by_area_and_empty_sets() {
        let period = Period::new(m(0), m(31 * 24 * 60)).unwrap();
        let rows = compute_by_area(&sample(), &[AreaPath("ML/ML-6".into()), AreaPath("ML/ML-7".into())], period, m(50_000));
        assert_eq!(rows[0].records, 1);
        assert_eq!(rows[0].interventions.share, Some(1.0));
        assert_eq!(rows[0].median_alert_to_response, Some(Duration::minutes(20)));
        let empty = &rows[1];
        assert_eq!((empty.records, empty.alerts_raised), (0, 0));
        assert_eq!(empty.median_report_to_alert, None);
        assert_eq!(empty.ack.share, None);
        assert_eq!(empty.interventions.share, None);
    }

    #[test]
    fn period_is_half_open_and_checked() {
        let p = Period::new(m(0), m(10)).unwrap();
        assert!(p.contains(m(0)) && p.contains(m(9)) && !p.contains(m(10)));
        assert_eq!(Period::new(m(10), m(10)), Err(EwMsg::InvalidPeriod));
    }

    #[test]
    fn medians() {
        let d = |v: &[i64]| median(v.iter().map(|s| Duration::seconds(*s)).collect());
        assert_eq!(d(&[]), None);
        assert_eq!(d(&[7]), Some(Duration::seconds(7)));
        assert_eq!(d(&[9, 1, 5]), Some(Duration::seconds(5)));
        assert_eq!(d(&[4, 1, 2, 3]), Some(Duration::seconds(2))); // (2+3)/2 rounded down
    }
}
