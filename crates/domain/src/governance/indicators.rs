//! What committees and meetings feed into the results framework: the number of functional
//! committees by area, the share of women and of youth among members and among attendees,
//! and the share of decisions implemented on time. Every share carries its numerator and
//! denominator, so a figure can be checked by hand; an empty denominator gives no share.

use super::{committee_status, AgeGroup, AttendanceCell, CommitteeStatus, Sex};
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Ratio {
    pub numerator: u64,
    pub denominator: u64,
}

impl Ratio {
    /// Between 0 and 1; none when nothing was counted.
    pub fn share(&self) -> Option<f64> {
        (self.denominator > 0).then(|| self.numerator as f64 / self.denominator as f64)
    }
}

/// Committees of one area by derived status.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct AreaCommittees {
    pub area: String,
    pub functional: u64,
    pub set_up: u64,
    pub dormant: u64,
    pub total: u64,
}

/// What a committee's status is derived from, and the area it is counted under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitteeFacts {
    pub area: String,
    pub established_on: NaiveDate,
    pub meetings: Vec<NaiveDate>,
}

/// Committees by area as of `as_of` (committees created after it are not counted yet).
pub fn committees_by_area(committees: &[CommitteeFacts], as_of: NaiveDate) -> Vec<AreaCommittees> {
    let mut by: BTreeMap<&str, AreaCommittees> = BTreeMap::new();
    for c in committees.iter().filter(|c| c.established_on <= as_of) {
        let row = by.entry(&c.area).or_insert_with(|| AreaCommittees { area: c.area.clone(), ..Default::default() });
        row.total += 1;
        match committee_status(c.established_on, &c.meetings, as_of) {
            CommitteeStatus::Functional => row.functional += 1,
            CommitteeStatus::SetUp => row.set_up += 1,
            CommitteeStatus::Dormant => row.dormant += 1,
        }
    }
    by.into_values().collect()
}

/// Women and youth among a group of people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Participation {
    pub women: Ratio,
    pub youth: Ratio,
}

/// Among members (one per person).
pub fn member_participation(members: &[(Sex, AgeGroup)]) -> Participation {
    let n = members.len() as u64;
    Participation {
        women: Ratio { numerator: members.iter().filter(|m| m.0 == Sex::Female).count() as u64, denominator: n },
        youth: Ratio { numerator: members.iter().filter(|m| m.1 == AgeGroup::Youth).count() as u64, denominator: n },
    }
}

/// Among attendees of meetings (a person attending two meetings counts twice: participation,
/// not headcount).
pub fn attendance_participation(cells: &[AttendanceCell]) -> Participation {
    let total: u64 = cells.iter().map(|c| c.count as u64).sum();
    let sum = |f: &dyn Fn(&AttendanceCell) -> bool| cells.iter().filter(|c| f(c)).map(|c| c.count as u64).sum::<u64>();
    Participation {
        women: Ratio { numerator: sum(&|c| c.sex == Sex::Female), denominator: total },
        youth: Ratio { numerator: sum(&|c| c.age_group == AgeGroup::Youth), denominator: total },
    }
}

/// Decisions implemented on time, as of `as_of`. A decision is counted once it can be judged:
/// carried out (by `as_of`), or past its due date without being carried out. It is on time if
/// carried out on or before its due date. Decisions still in progress before their due date
/// are not counted either way.
pub fn decisions_on_time(decisions: &[(NaiveDate, Option<NaiveDate>)], as_of: NaiveDate) -> Ratio {
    let mut r = Ratio::default();
    for (due, done) in decisions {
        let done = done.filter(|d| *d <= as_of);
        match done {
            Some(d) => {
                r.denominator += 1;
                if d <= *due {
                    r.numerator += 1;
                }
            }
            None if *due < as_of => r.denominator += 1,
            None => {}
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn functional_committees_are_counted_by_area() {
        let as_of = d("2026-11-23");
        let cs = vec![
            CommitteeFacts { area: "ML-5-KORO".into(), established_on: d("2025-03-01"), meetings: vec![d("2026-10-01")] },
            CommitteeFacts { area: "ML-5-KORO".into(), established_on: d("2025-03-01"), meetings: vec![d("2026-05-01")] },
            CommitteeFacts { area: "ML-5-KORO".into(), established_on: d("2026-11-01"), meetings: vec![] },
            CommitteeFacts { area: "ML-7".into(), established_on: d("2024-01-01"), meetings: vec![d("2026-11-20"), d("2026-09-01")] },
            CommitteeFacts { area: "ML-7".into(), established_on: d("2027-01-01"), meetings: vec![] },
        ];
        let r = committees_by_area(&cs, as_of);
        assert_eq!(r, vec![
            AreaCommittees { area: "ML-5-KORO".into(), functional: 1, set_up: 1, dormant: 1, total: 3 },
            AreaCommittees { area: "ML-7".into(), functional: 1, set_up: 0, dormant: 0, total: 1 },
        ]);
    }

    #[test]
    fn women_and_youth_shares_by_hand() {
        // 5 members: 2 women (one young), 3 men (one young) → women 2/5, youth 2/5.
        let ms = [
            (Sex::Female, AgeGroup::Youth),
            (Sex::Female, AgeGroup::Adult),
            (Sex::Male, AgeGroup::Youth),
            (Sex::Male, AgeGroup::Elder),
            (Sex::Male, AgeGroup::Adult),
        ];
        let p = member_participation(&ms);
        assert_eq!(p.women, Ratio { numerator: 2, denominator: 5 });
        assert_eq!(p.youth.share(), Some(0.4));
        // 12 young women, 3 adult women, 10 young men, 15 adult men → women 15/40, youth 22/40.
        let cells = [
            AttendanceCell { sex: Sex::Female, age_group: AgeGroup::Youth, count: 12 },
            AttendanceCell { sex: Sex::Female, age_group: AgeGroup::Adult, count: 3 },
            AttendanceCell { sex: Sex::Male, age_group: AgeGroup::Youth, count: 10 },
            AttendanceCell { sex: Sex::Male, age_group: AgeGroup::Adult, count: 15 },
        ];
        let a = attendance_participation(&cells);
        assert_eq!(a.women, Ratio { numerator: 15, denominator: 40 });
        assert_eq!(a.youth, Ratio { numerator: 22, denominator: 40 });
        assert_eq!(member_participation(&[]).women.share(), None);
    }

    #[test]
    fn decisions_on_time_by_hand() {
        let as_of = d("2026-11-23");
        let ds = [
            (d("2026-10-31"), Some(d("2026-10-20"))), // on time
            (d("2026-10-31"), Some(d("2026-10-31"))), // on time (the due day itself)
            (d("2026-10-31"), Some(d("2026-11-10"))), // done late
            (d("2026-11-01"), None),                  // late, not done
            (d("2026-12-15"), None),                  // in progress: not counted
            (d("2026-12-15"), Some(d("2026-11-02"))), // done early: counted, on time
            (d("2026-10-31"), Some(d("2026-12-01"))), // done after as_of: late as of as_of
        ];
        let r = decisions_on_time(&ds, as_of);
        assert_eq!(r, Ratio { numerator: 3, denominator: 6 });
        assert_eq!(r.share(), Some(0.5));
    }
}
