//! Several people report the same attack: one event, many reports. This module decides whether
//! a new report joins an existing event, with a score and the reasons an analyst can check.
//! It only decides: the report itself is always kept, whatever the answer.

use crate::text::{fold, TextPrint};
use super::report::Report;
use super::taxonomy::{CategoryCode, CategoryFamily};
use super::EwMsg;
use crate::area::{AreaCode, AreaPath};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// What deduplication needs to know of a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportSignal {
    pub report_id: i64,
    pub category: CategoryCode,
    pub family: CategoryFamily,
    /// Path of the report's area, when it has one.
    pub area: Option<AreaPath>,
    pub point: Option<(f64, f64)>,
    pub occurred_at: DateTime<Utc>,
    pub text: String,
}

impl ReportSignal {
    /// `area` is the path storage found for `report.location.area` (or for a matched place name).
    pub fn from_report(report_id: i64, report: &Report, area: Option<AreaPath>) -> Self {
        ReportSignal {
            report_id,
            category: report.category.clone(),
            family: report.family,
            area,
            point: report.location.point,
            occurred_at: report.occurred_at,
            text: report.text.clone(),
        }
    }
}

/// An event and the reports grouped in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: i64,
    pub reports: Vec<ReportSignal>,
}

/// Which areas border which: the caller knows (from geometry or by hand), the domain does not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Adjacency {
    pairs: BTreeSet<(AreaCode, AreaCode)>,
}

impl Adjacency {
    pub fn new(pairs: impl IntoIterator<Item = (AreaCode, AreaCode)>) -> Self {
        let pairs = pairs.into_iter().map(|(a, b)| if a <= b { (a, b) } else { (b, a) }).collect();
        Adjacency { pairs }
    }
    /// Neighbours by the last segment (the area's own code) of each path.
    pub fn are_neighbours(&self, a: &AreaPath, b: &AreaPath) -> bool {
        let last = |p: &AreaPath| AreaCode::parse(p.0.rsplit('/').next().unwrap_or("")).ok();
        match (last(a), last(b)) {
            (Some(x), Some(y)) => {
                let key = if x <= y { (x, y) } else { (y, x) };
                self.pairs.contains(&key)
            }
            _ => false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DedupConfig {
    /// Reports further apart in time than this are different events.
    pub window: Duration,
    /// Trigram Jaccard similarity at or above which two texts tell the same story.
    pub text_threshold: f64,
    /// Required instead when one side has no location at all: text is then the only evidence.
    pub text_threshold_no_location: f64,
    /// Two GPS points closer than this are the same place.
    pub radius_km: f64,
    /// Folded texts shorter than this ("attaque", a keyword SMS) are not compared.
    pub min_comparable_chars: usize,
}

impl Default for DedupConfig {
    fn default() -> Self {
        DedupConfig {
            window: Duration::hours(48),
            text_threshold: 0.3,
            text_threshold_no_location: 0.5,
            radius_km: 10.0,
            min_comparable_chars: 12,
        }
    }
}

/// Why a report was found to belong (or nearly) to an event. Integers so the reasons can be
/// compared and stored exactly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum MatchReason {
    SameArea,
    /// One area contains the other (a village and its commune).
    NestedArea,
    NeighbourArea,
    NearPoint { metres: u32 },
    /// One side has no location: only text and time speak.
    LocationUnknown,
    CloseInTime { minutes: i64 },
    SimilarText { percent: u8 },
    /// Similarity was measured and found too low.
    DifferentText { percent: u8 },
    /// Too little text on one side to compare.
    TextNotComparable,
    SameCategory,
    SameFamily,
    /// One side is "other" (not yet triaged).
    UntriagedCategory,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum ClusterDecision {
    /// The report belongs to this event. `also_matching` lists other events it fits too:
    /// perhaps they should be merged.
    Existing { event_id: i64, score: f64, reasons: Vec<MatchReason>, also_matching: Vec<(i64, f64)> },
    /// A new event. `near_misses` are events close in place, time and category whose text
    /// differed: shown to the analyst, who may merge by hand.
    New { near_misses: Vec<(i64, Vec<MatchReason>)> },
}

enum Place {
    Same,
    Nested,
    Neighbour,
    Near(f64),
    Unknown,
}

/// Great-circle distance in km between two (lat, lon) points.
pub fn haversine_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lat1, lon1, lat2, lon2) = (a.0.to_radians(), a.1.to_radians(), b.0.to_radians(), b.1.to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * 6371.0 * h.sqrt().asin()
}

fn relate(a: &ReportSignal, b: &ReportSignal, adj: &Adjacency, cfg: &DedupConfig) -> Option<Place> {
    if let (Some(p), Some(q)) = (a.point, b.point) {
        let d = haversine_km(p, q);
        if d <= cfg.radius_km {
            return Some(Place::Near(d));
        }
    }
    if let (Some(x), Some(y)) = (&a.area, &b.area) {
        return if x == y {
            Some(Place::Same)
        } else if x.contains(y) || y.contains(x) {
            Some(Place::Nested)
        } else if adj.are_neighbours(x, y) {
            Some(Place::Neighbour)
        } else {
            None
        };
    }
    let located = |s: &ReportSignal| s.area.is_some() || s.point.is_some();
    if located(a) && located(b) {
        // Both located but not comparably (one by area, one by point) or points far apart.
        if a.point.is_some() && b.point.is_some() {
            return None;
        }
    }
    Some(Place::Unknown)
}

/// Compares a new report with one report of an event. `None` when a gate fails (family,
/// time window, place); otherwise whether the pair matches, its score and the reasons.
/// `new_print` is the new report's [`TextPrint`], computed once for all comparisons.
fn compare(new: &ReportSignal, new_print: &TextPrint, old: &ReportSignal, adj: &Adjacency, cfg: &DedupConfig) -> Option<(bool, f64, Vec<MatchReason>)> {
    let mut reasons = Vec::new();
    if !new.family.compatible(old.family) {
        return None;
    }
    if new.category == old.category {
        reasons.push(MatchReason::SameCategory);
    } else if new.family == old.family {
        reasons.push(MatchReason::SameFamily);
    } else {
        reasons.push(MatchReason::UntriagedCategory);
    }

    let dt = (new.occurred_at - old.occurred_at).abs();
    if dt > cfg.window {
        return None;
    }
    let time_score = 1.0 - dt.num_seconds() as f64 / cfg.window.num_seconds().max(1) as f64;
    reasons.push(MatchReason::CloseInTime { minutes: dt.num_minutes() });

    let place = relate(new, old, adj, cfg)?;
    let loc_score = match place {
        Place::Same => {
            reasons.push(MatchReason::SameArea);
            1.0
        }
        Place::Near(km) => {
            reasons.push(MatchReason::NearPoint { metres: (km * 1000.0).round() as u32 });
            1.0 - 0.3 * km / cfg.radius_km
        }
        Place::Nested => {
            reasons.push(MatchReason::NestedArea);
            0.8
        }
        Place::Neighbour => {
            reasons.push(MatchReason::NeighbourArea);
            0.6
        }
        Place::Unknown => {
            reasons.push(MatchReason::LocationUnknown);
            0.3
        }
    };

    let old_print = TextPrint::of_folded(&fold(&old.text));
    let comparable = new_print.chars >= cfg.min_comparable_chars && old_print.chars >= cfg.min_comparable_chars;
    let (matches, text_score) = if comparable {
        let sim = new_print.jaccard(&old_print);
        let percent = (sim * 100.0).round() as u8;
        let needed = if matches!(place, Place::Unknown) { cfg.text_threshold_no_location } else { cfg.text_threshold };
        if sim >= needed {
            reasons.push(MatchReason::SimilarText { percent });
            (true, sim)
        } else {
            reasons.push(MatchReason::DifferentText { percent });
            (false, sim)
        }
    } else {
        reasons.push(MatchReason::TextNotComparable);
        // Without text, only the strongest place evidence and the very same category will do.
        let strong_place = matches!(place, Place::Same | Place::Nested | Place::Near(_));
        (strong_place && new.category == old.category, 0.5)
    };
    let score = (0.4 * text_score.min(1.0) + 0.35 * loc_score + 0.25 * time_score).clamp(0.0, 1.0);
    Some((matches, score, reasons))
}

/// Decides where a new report goes. An event's score is that of its best-matching report.
/// `events` is any collection of references to events (`&[Event]`, or a chosen few).
pub fn cluster<'a>(new: &ReportSignal, events: impl IntoIterator<Item = &'a Event>, adjacency: &Adjacency, cfg: &DedupConfig) -> ClusterDecision {
    let new_print = TextPrint::of_folded(&fold(&new.text));
    let mut matched: Vec<(i64, f64, Vec<MatchReason>)> = Vec::new();
    let mut near: Vec<(i64, f64, Vec<MatchReason>)> = Vec::new();
    for ev in events {
        let mut best_match: Option<(f64, Vec<MatchReason>)> = None;
        let mut best_near: Option<(f64, Vec<MatchReason>)> = None;
        for old in ev.reports.iter().filter(|r| r.report_id != new.report_id) {
            if let Some((ok, score, reasons)) = compare(new, &new_print, old, adjacency, cfg) {
                let slot = if ok { &mut best_match } else { &mut best_near };
                if !slot.as_ref().is_some_and(|(s, _)| score <= *s) {
                    *slot = Some((score, reasons));
                }
            }
        }
        if let Some((s, r)) = best_match {
            matched.push((ev.id, s, r));
        } else if let Some((s, r)) = best_near {
            near.push((ev.id, s, r));
        }
    }
    let by_score = |a: &(i64, f64, Vec<MatchReason>), b: &(i64, f64, Vec<MatchReason>)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
    matched.sort_by(by_score);
    near.sort_by(by_score);
    let mut it = matched.into_iter();
    match it.next() {
        Some((event_id, score, reasons)) => {
            ClusterDecision::Existing { event_id, score, reasons, also_matching: it.map(|(id, s, _)| (id, s)).collect() }
        }
        None => ClusterDecision::New { near_misses: near.into_iter().map(|(id, _, r)| (id, r)).collect() },
    }
}

/// Moves every report of `from` into `into`. A report already in `into` is kept once.
/// Returns how many reports were moved.
pub fn merge(into: &mut Event, from: Event) -> Result<usize, EwMsg> {
    if into.id == from.id {
        return Err(EwMsg::MergeSameEvent);
    }
    let mut moved = 0;
    for r in from.reports {
        if !into.reports.iter().any(|x| x.report_id == r.report_id) {
            into.reports.push(r);
            moved += 1;
        }
    }
    Ok(moved)
}

/// Takes the reports `ids` out of `event` into a new event `new_id`. Every id must be in the
/// event, and at least one report must stay: an event is never left empty, a report never lost.
pub fn split(event: &mut Event, ids: &[i64], new_id: i64) -> Result<Event, EwMsg> {
    if ids.is_empty() {
        return Err(EwMsg::NothingToSplit);
    }
    if let Some(missing) = ids.iter().find(|id| !event.reports.iter().any(|r| r.report_id == **id)) {
        return Err(EwMsg::ReportNotInEvent { report_id: *missing });
    }
    if event.reports.iter().all(|r| ids.contains(&r.report_id)) {
        return Err(EwMsg::SplitWouldEmptyEvent);
    }
    let (taken, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut event.reports).into_iter().partition(|r| ids.contains(&r.report_id));
    event.reports = kept;
    Ok(Event { id: new_id, reports: taken })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::{jaccard, trigrams};

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2024-03-10T06:00:00Z").unwrap().with_timezone(&Utc)
    }
    fn sig(id: i64, cat: &str, area: Option<&str>, hours: i64, text: &str) -> ReportSignal {
        let tax = super::super::Taxonomy::default();
        let code = CategoryCode::parse(cat).unwrap();
        ReportSignal {
            report_id: id,
            family: tax.family(&code),
            category: code,
            area: area.map(|a| AreaPath(a.into())),
            point: None,
            occurred_at: t0() + Duration::hours(hours),
            text: text.into(),
        }
    }
    const SOFARA: &str = "ML/ML-5/ML0502/ML050207";
    const ATTACK_1: &str = "Des hommes armés à moto ont attaqué le marché de Sofara ce matin, plusieurs blessés.";
    const ATTACK_2: &str = "Attaque du marché de Sofara par des hommes armés à moto ce matin";
    /// Same story, fewer shared words: trigram similarity with ATTACK_1 about 0.40.
    const ATTACK_3: &str = "Ce matin des bandits à moto ont tiré au marché de Sofara";

    fn event(id: i64, reports: Vec<ReportSignal>) -> Event {
        Event { id, reports }
    }
    fn cfg() -> DedupConfig {
        DedupConfig::default()
    }

    #[test]
    fn second_account_of_the_same_attack_joins_the_event() {
        let ev = event(7, vec![sig(1, "armed_attack", Some(SOFARA), 0, ATTACK_1)]);
        let new = sig(2, "armed_attack", Some(SOFARA), 5, ATTACK_2);
        match cluster(&new, &[ev], &Adjacency::default(), &cfg()) {
            ClusterDecision::Existing { event_id, score, reasons, also_matching } => {
                assert_eq!(event_id, 7);
                assert!(score > 0.5 && score <= 1.0, "{score}");
                assert!(reasons.contains(&MatchReason::SameArea));
                assert!(reasons.contains(&MatchReason::SameCategory));
                assert!(reasons.contains(&MatchReason::CloseInTime { minutes: 300 }));
                assert!(reasons.iter().any(|r| matches!(r, MatchReason::SimilarText { percent } if *percent >= 30)), "{reasons:?}");
                assert!(also_matching.is_empty());
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn gates_family_time_and_place() {
        let ev = || vec![event(7, vec![sig(1, "armed_attack", Some(SOFARA), 0, ATTACK_1)])];
        let adj = Adjacency::default();
        // A flood at the same place and time is another event.
        let flood = sig(2, "natural_hazard_flood", Some(SOFARA), 1, ATTACK_2);
        assert_eq!(cluster(&flood, &ev(), &adj, &cfg()), ClusterDecision::New { near_misses: vec![] });
        // Same story three days later: another event.
        let late = sig(3, "armed_attack", Some(SOFARA), 72, ATTACK_2);
        assert_eq!(cluster(&late, &ev(), &adj, &cfg()), ClusterDecision::New { near_misses: vec![] });
        // Another cercle, not declared adjacent.
        let far = sig(4, "armed_attack", Some("ML/ML-6/ML0601"), 1, ATTACK_2);
        assert_eq!(cluster(&far, &ev(), &adj, &cfg()), ClusterDecision::New { near_misses: vec![] });
        // An abduction report is in the same family: compatible.
        let abduction = sig(5, "abduction", Some(SOFARA), 2, ATTACK_2);
        assert!(matches!(cluster(&abduction, &ev(), &adj, &cfg()), ClusterDecision::Existing { event_id: 7, .. }));
        // Untriaged "other" is never excluded by category.
        let other = sig(6, "other", Some(SOFARA), 2, ATTACK_2);
        match cluster(&other, &ev(), &adj, &cfg()) {
            ClusterDecision::Existing { reasons, .. } => assert!(reasons.contains(&MatchReason::UntriagedCategory)),
            d => panic!("{d:?}"),
        }
    }

    #[test]
    fn window_is_configurable() {
        let ev = vec![event(7, vec![sig(1, "armed_attack", Some(SOFARA), 0, ATTACK_1)])];
        let new = sig(2, "armed_attack", Some(SOFARA), 30, ATTACK_2);
        assert!(matches!(cluster(&new, &ev, &Adjacency::default(), &cfg()), ClusterDecision::Existing { .. }));
        let short = DedupConfig { window: Duration::hours(24), ..cfg() };
        assert!(matches!(cluster(&new, &ev, &Adjacency::default(), &short), ClusterDecision::New { .. }));
    }

    #[test]
    fn different_story_same_place_is_a_near_miss() {
        let ev = vec![event(7, vec![sig(1, "armed_attack", Some(SOFARA), 0, ATTACK_1)])];
        let new = sig(2, "armed_attack", Some(SOFARA), 3, "Tirs entendus la nuit vers la route de Mopti, un véhicule incendié");
        match cluster(&new, &ev, &Adjacency::default(), &cfg()) {
            ClusterDecision::New { near_misses } => {
                assert_eq!(near_misses.len(), 1);
                assert_eq!(near_misses[0].0, 7);
                assert!(near_misses[0].1.iter().any(|r| matches!(r, MatchReason::DifferentText { percent } if *percent < 30)));
            }
            d => panic!("{d:?}"),
        }
    }

    #[test]
    fn neighbours_count_only_when_declared_and_nesting_counts() {
        let village = "ML/ML-5/ML0502/ML050207/ML05020701";
        let neighbour = "ML/ML-5/ML0502/ML050208";
        let ev = vec![event(7, vec![sig(1, "armed_attack", Some(SOFARA), 0, ATTACK_1)])];
        let nested = sig(2, "armed_attack", Some(village), 1, ATTACK_2);
        match cluster(&nested, &ev, &Adjacency::default(), &cfg()) {
            ClusterDecision::Existing { reasons, .. } => assert!(reasons.contains(&MatchReason::NestedArea)),
            d => panic!("{d:?}"),
        }
        let next = sig(3, "armed_attack", Some(neighbour), 1, ATTACK_2);
        assert!(matches!(cluster(&next, &ev, &Adjacency::default(), &cfg()), ClusterDecision::New { .. }));
        let adj = Adjacency::new([(AreaCode::parse("ML050208").unwrap(), AreaCode::parse("ML050207").unwrap())]);
        match cluster(&next, &ev, &adj, &cfg()) {
            ClusterDecision::Existing { reasons, .. } => assert!(reasons.contains(&MatchReason::NeighbourArea)),
            d => panic!("{d:?}"),
        }
    }

    #[test]
    fn keyword_reports_need_same_category_and_place() {
        let ev = vec![event(7, vec![sig(1, "armed_attack", Some(SOFARA), 0, ATTACK_1)])];
        let sms = sig(2, "armed_attack", Some(SOFARA), 1, "");
        match cluster(&sms, &ev, &Adjacency::default(), &cfg()) {
            ClusterDecision::Existing { reasons, .. } => assert!(reasons.contains(&MatchReason::TextNotComparable)),
            d => panic!("{d:?}"),
        }
        let other_cat = sig(3, "explosive_device", Some(SOFARA), 1, "");
        assert!(matches!(cluster(&other_cat, &ev, &Adjacency::default(), &cfg()), ClusterDecision::New { .. }));
    }

    #[test]
    fn unlocated_report_needs_stronger_text() {
        let ev = vec![event(7, vec![sig(1, "armed_attack", Some(SOFARA), 0, ATTACK_1)])];
        let same_words = sig(2, "armed_attack", None, 2, ATTACK_1);
        match cluster(&same_words, &ev, &Adjacency::default(), &cfg()) {
            ClusterDecision::Existing { reasons, .. } => assert!(reasons.contains(&MatchReason::LocationUnknown)),
            d => panic!("{d:?}"),
        }
        // Similar enough with a location, not without one.
        let loc = sig(3, "armed_attack", Some(SOFARA), 2, ATTACK_3);
        let unloc = sig(3, "armed_attack", None, 2, ATTACK_3);
        let sim = jaccard(&trigrams(&fold(ATTACK_1)), &trigrams(&fold(ATTACK_3)));
        assert!(sim >= cfg().text_threshold && sim < cfg().text_threshold_no_location, "{sim}");
        assert!(matches!(cluster(&loc, &ev, &Adjacency::default(), &cfg()), ClusterDecision::Existing { .. }));
        assert!(matches!(cluster(&unloc, &ev, &Adjacency::default(), &cfg()), ClusterDecision::New { .. }));
    }

    #[test]
    fn gps_points_within_radius_are_the_same_place() {
        let mut a = sig(1, "armed_attack", None, 0, ATTACK_1);
        a.point = Some((14.010, -4.240));
        let mut b = sig(2, "armed_attack", None, 1, ATTACK_2);
        b.point = Some((14.030, -4.250)); // about 2.5 km north
        let ev = vec![event(7, vec![a])];
        match cluster(&b, &ev, &Adjacency::default(), &cfg()) {
            ClusterDecision::Existing { reasons, .. } => {
                let m = reasons.iter().find_map(|r| if let MatchReason::NearPoint { metres } = r { Some(*metres) } else { None });
                assert!((2000..3000).contains(&m.unwrap()), "{m:?}");
            }
            d => panic!("{d:?}"),
        }
        b.point = Some((14.5, -4.25)); // about 55 km away
        assert!(matches!(cluster(&b, &ev, &Adjacency::default(), &cfg()), ClusterDecision::New { .. }));
    }

    #[test]
    fn best_event_wins_and_rivals_are_listed() {
        let strong = event(7, vec![sig(1, "armed_attack", Some(SOFARA), 0, ATTACK_1)]);
        let weaker = event(8, vec![sig(3, "armed_attack", Some("ML/ML-5/ML0502"), 20, ATTACK_2)]);
        let new = sig(2, "armed_attack", Some(SOFARA), 1, ATTACK_1);
        match cluster(&new, &[weaker, strong], &Adjacency::default(), &cfg()) {
            ClusterDecision::Existing { event_id, score, also_matching, .. } => {
                assert_eq!(event_id, 7);
                assert_eq!(also_matching.len(), 1);
                assert_eq!(also_matching[0].0, 8);
                assert!(also_matching[0].1 < score);
            }
            d => panic!("{d:?}"),
        }
    }

    #[test]
    fn haversine_is_right() {
        // Bamako to Mopti: about 460 km as the crow flies.
        let d = haversine_km((12.6392, -8.0029), (14.4843, -4.1830));
        assert!((450.0..470.0).contains(&d), "{d}");
        assert_eq!(haversine_km((14.0, -4.0), (14.0, -4.0)), 0.0);
    }

    #[test]
    fn merge_and_split_never_lose_reports() {
        let mut a = event(1, vec![sig(1, "armed_attack", None, 0, "a"), sig(2, "armed_attack", None, 0, "b")]);
        let b = event(2, vec![sig(2, "armed_attack", None, 0, "b"), sig(3, "armed_attack", None, 0, "c")]);
        assert_eq!(merge(&mut a, b), Ok(1));
        let ids = |e: &Event| e.reports.iter().map(|r| r.report_id).collect::<Vec<_>>();
        assert_eq!(ids(&a), vec![1, 2, 3]);
        assert_eq!(merge(&mut a.clone(), a.clone()), Err(EwMsg::MergeSameEvent));

        let c = split(&mut a, &[3, 1], 9).unwrap();
        assert_eq!((ids(&a), ids(&c), c.id), (vec![2], vec![1, 3], 9));
        assert_eq!(split(&mut a, &[2], 10), Err(EwMsg::SplitWouldEmptyEvent));
        assert_eq!(split(&mut a, &[5], 10), Err(EwMsg::ReportNotInEvent { report_id: 5 }));
        assert_eq!(split(&mut a, &[], 10), Err(EwMsg::NothingToSplit));
        assert_eq!(ids(&a), vec![2], "failed splits change nothing");
    }
}
