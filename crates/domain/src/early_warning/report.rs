//! Reports (signalements) from focal points, committees and anonymous people, by web, API, SMS
//! or ODK. Validation refuses only what is certainly wrong (a point outside Mali, a date in the
//! future); anything merely incomplete is accepted and flagged, because a report turned away at
//! the gate from a village with one bar of signal is usually lost for good.

use super::taxonomy::{CategoryCode, CategoryFamily, Severity, Taxonomy};
use super::{EwInvalid, EwMsg};
use crate::area::{parse_name, valid_lat_lon, AreaCode};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReporterKind {
    FocalPoint,
    Committee,
    Anonymous,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Web,
    Api,
    Sms,
    Odk,
}

/// A latitude/longitude rectangle. Coarse on purpose: it catches swapped or mistyped
/// coordinates, not border precision (the rectangle around Mali overlaps its neighbours).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BoundingBox {
    pub min_lat: f64,
    pub max_lat: f64,
    pub min_lon: f64,
    pub max_lon: f64,
}

impl BoundingBox {
    pub fn contains(&self, lat: f64, lon: f64) -> bool {
        (self.min_lat..=self.max_lat).contains(&lat) && (self.min_lon..=self.max_lon).contains(&lon)
    }
}

/// Mali spans about 10.16°N–25.00°N and 12.24°W–4.27°E; a tenth of a degree of margin.
pub const MALI_BBOX: BoundingBox = BoundingBox { min_lat: 10.05, max_lat: 25.1, min_lon: -12.35, max_lon: 4.35 };

/// Limits applied to incoming reports. The defaults suit Mali.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportPolicy {
    pub bbox: BoundingBox,
    /// How far in the future `occurred_at` may be: phone clocks drift.
    pub clock_skew: Duration,
    pub max_text_chars: usize,
}

impl Default for ReportPolicy {
    fn default() -> Self {
        ReportPolicy { bbox: MALI_BBOX, clock_skew: Duration::minutes(15), max_text_chars: 5000 }
    }
}

/// Where it happened, as given. Any combination may be present (an ODK form sends a GPS point
/// and a commune); none at all is accepted and flagged.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LocationInput {
    pub area: Option<String>,
    /// Latitude, longitude.
    pub point: Option<(f64, f64)>,
    pub place_name: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Location {
    pub area: Option<AreaCode>,
    pub point: Option<(f64, f64)>,
    /// Free text as written; resolved to an area by `places::match_place` and a person.
    pub place_name: Option<String>,
}

impl Location {
    pub fn is_empty(&self) -> bool {
        self.area.is_none() && self.point.is_none() && self.place_name.is_none()
    }
}

/// A language tag's primary subtag: `fr`, `en`, `bm` (Bambara), `ff` (Fulfulde), `ses`
/// (Songhay), `tmh` (Tamasheq)… `und` when unknown, as BCP 47 says.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ReportLanguage(String);

impl ReportLanguage {
    pub fn parse(raw: &str) -> Result<Self, EwMsg> {
        let primary = raw.trim().split(['-', '_']).next().unwrap_or("").to_ascii_lowercase();
        if primary.is_empty() {
            return Ok(ReportLanguage("und".into()));
        }
        if (2..=3).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_lowercase()) {
            Ok(ReportLanguage(primary))
        } else {
            Err(EwMsg::InvalidLanguage)
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl TryFrom<String> for ReportLanguage {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        ReportLanguage::parse(&s).map_err(|m| m.text(crate::Lang::En))
    }
}
impl From<ReportLanguage> for String {
    fn from(l: ReportLanguage) -> String {
        l.0
    }
}

/// The sender's key for one submission (SMS gateway message id, ODK `instanceID`, a UUID from
/// the web form): a retried submission with the same key is the same report, stored once.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub const MAX_LEN: usize = 128;
    pub fn parse(raw: &str) -> Result<Self, EwMsg> {
        let k = raw.trim();
        if !k.is_empty() && k.len() <= Self::MAX_LEN && k.bytes().all(|b| b.is_ascii_graphic()) {
            Ok(IdempotencyKey(k.to_string()))
        } else {
            Err(EwMsg::InvalidIdempotencyKey)
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl TryFrom<String> for IdempotencyKey {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        IdempotencyKey::parse(&s).map_err(|m| m.text(crate::Lang::En))
    }
}
impl From<IdempotencyKey> for String {
    fn from(k: IdempotencyKey) -> String {
        k.0
    }
}

/// A report as submitted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportInput {
    pub category: Option<String>,
    /// Verbatim, usually French; may be empty when a category is given (SMS keyword reports).
    pub text: String,
    pub occurred_at: DateTime<Utc>,
    pub location: LocationInput,
    pub reporter: ReporterKind,
    pub channel: Channel,
    pub language: String,
    pub idempotency_key: String,
}

/// Something a person must look at, attached to an accepted report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "flag", rename_all = "snake_case")]
pub enum ReportFlag {
    /// No area, point or place name: kept, but cannot be mapped or routed by area until completed.
    NeedsLocation,
    /// Only a place name: to be matched against the gazetteer and confirmed.
    PlaceNameToResolve,
    /// The sender's category is not in the list: filed as "other", with what was sent kept.
    UnknownCategory { given: String },
    /// No category at all: filed as "other" for triage.
    NoCategory,
    /// The category routes to the protected-cases workflow.
    ProtectedCase,
}

impl ReportFlag {
    pub fn msg(&self) -> EwMsg {
        match self {
            ReportFlag::NeedsLocation => EwMsg::NeedsLocation,
            ReportFlag::PlaceNameToResolve => EwMsg::PlaceNameToResolve,
            ReportFlag::UnknownCategory { given } => EwMsg::UnknownCategoryFiledAsOther { given: given.clone() },
            ReportFlag::NoCategory => EwMsg::NoCategoryFiledAsOther,
            ReportFlag::ProtectedCase => EwMsg::RoutedToProtectedCases,
        }
    }
}

/// A validated report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub category: CategoryCode,
    /// What the sender wrote as category when it was not used as is.
    pub category_given: Option<String>,
    pub family: CategoryFamily,
    /// The category's default severity; an analyst may change it when verifying.
    pub severity: Severity,
    pub protected: bool,
    pub text: String,
    pub occurred_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub location: Location,
    pub reporter: ReporterKind,
    pub channel: Channel,
    pub language: ReportLanguage,
    pub idempotency_key: IdempotencyKey,
    pub flags: Vec<ReportFlag>,
}

impl ReportInput {
    /// Validates against `now` (the server's clock at receipt) and the category list.
    /// Returns every problem at once, so an SMS reply or a form can list them all.
    pub fn validate(&self, now: DateTime<Utc>, taxonomy: &Taxonomy, policy: &ReportPolicy) -> Result<Report, Vec<EwInvalid>> {
        let mut errors = Vec::new();
        let mut flags = Vec::new();

        // Category: unknown or missing → "other", never a refusal.
        let given = self.category.as_deref().map(str::trim).filter(|s| !s.is_empty());
        let known = given.and_then(|g| CategoryCode::parse(g).ok()).and_then(|c| taxonomy.get(&c));
        let category = match (given, known) {
            (_, Some(c)) => c,
            (Some(g), None) => {
                flags.push(ReportFlag::UnknownCategory { given: g.to_string() });
                taxonomy.other()
            }
            (None, None) => {
                flags.push(ReportFlag::NoCategory);
                taxonomy.other()
            }
        };

        // Text: verbatim. NUL cannot be stored in PostgreSQL text, so it becomes U+FFFD.
        let text = self.text.replace('\0', "\u{FFFD}");
        if text.trim().is_empty() && known.is_none() {
            errors.push(EwInvalid::new("text", EwMsg::TextOrCategoryRequired));
        }
        if text.chars().count() > policy.max_text_chars {
            errors.push(EwInvalid::new("text", EwMsg::TextTooLong { max: policy.max_text_chars }));
        }

        if self.occurred_at > now + policy.clock_skew {
            errors.push(EwInvalid::new("occurred_at", EwMsg::OccurredInFuture));
        }

        let mut location = Location::default();
        if let Some(raw) = self.location.area.as_deref().filter(|s| !s.trim().is_empty()) {
            match AreaCode::parse(raw) {
                Ok(code) => location.area = Some(code),
                Err(_) => errors.push(EwInvalid::new("location.area", EwMsg::InvalidAreaCode { given: raw.trim().to_string() })),
            }
        }
        if let Some((lat, lon)) = self.location.point {
            if !valid_lat_lon(lat, lon) {
                errors.push(EwInvalid::new("location.point", EwMsg::InvalidCoordinates));
            } else if !policy.bbox.contains(lat, lon) {
                let swapped = policy.bbox.contains(lon, lat);
                errors.push(EwInvalid::new("location.point", EwMsg::OutsideCountry { looks_swapped: swapped }));
            } else {
                location.point = Some((lat, lon));
            }
        }
        if let Some(name) = self.location.place_name.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            match parse_name(name) {
                Ok(name) => location.place_name = Some(name),
                Err(_) => errors.push(EwInvalid::new("location.place_name", EwMsg::InvalidPlaceName)),
            }
        }
        if location.is_empty() && errors.iter().all(|e| !e.field.starts_with("location")) {
            flags.push(ReportFlag::NeedsLocation);
        } else if location.area.is_none() && location.point.is_none() && location.place_name.is_some() {
            flags.push(ReportFlag::PlaceNameToResolve);
        }
        if category.protected {
            flags.push(ReportFlag::ProtectedCase);
        }

        let language = ReportLanguage::parse(&self.language).map_err(|m| errors.push(EwInvalid::new("language", m))).ok();
        let key = IdempotencyKey::parse(&self.idempotency_key)
            .map_err(|m| errors.push(EwInvalid::new("idempotency_key", m)))
            .ok();

        match (language, key) {
            (Some(language), Some(idempotency_key)) if errors.is_empty() => Ok(Report {
                category: category.code.clone(),
                category_given: if known.is_some() { None } else { given.map(str::to_string) },
                family: category.family,
                severity: category.default_severity,
                protected: category.protected,
                text,
                occurred_at: self.occurred_at,
                received_at: now,
                location,
                reporter: self.reporter,
                channel: self.channel,
                language,
                idempotency_key,
                flags,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2024-03-10T12:00:00Z").unwrap().with_timezone(&Utc)
    }

    fn input() -> ReportInput {
        ReportInput {
            category: Some("armed_attack".into()),
            text: "Des hommes armés à moto ont attaqué le marché de Sofara ce matin.".into(),
            occurred_at: now() - Duration::hours(3),
            location: LocationInput { area: Some("ml0501".into()), point: Some((14.01, -4.24)), place_name: None },
            reporter: ReporterKind::FocalPoint,
            channel: Channel::Web,
            language: "fr-ML".into(),
            idempotency_key: "uuid:5b1c2d".into(),
        }
    }

    fn check(i: &ReportInput) -> Result<Report, Vec<EwInvalid>> {
        i.validate(now(), &Taxonomy::default(), &ReportPolicy::default())
    }

    fn fields(r: Result<Report, Vec<EwInvalid>>) -> Vec<String> {
        r.unwrap_err().into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_complete_report_is_accepted_without_flags() {
        let r = check(&input()).unwrap();
        assert_eq!(r.category.as_str(), "armed_attack");
        assert_eq!(r.family, CategoryFamily::ArmedViolence);
        assert_eq!(r.severity, Severity::Critical);
        assert_eq!(r.location.area.as_ref().unwrap().as_str(), "ML0501");
        assert_eq!(r.language.as_str(), "fr");
        assert_eq!(r.received_at, now());
        assert!(r.flags.is_empty(), "{:?}", r.flags);
    }

    #[test]
    fn no_location_is_accepted_and_flagged() {
        let mut i = input();
        i.location = LocationInput::default();
        let r = check(&i).unwrap();
        assert_eq!(r.flags, vec![ReportFlag::NeedsLocation]);
        i.location.place_name = Some("  Sofara ".into());
        let r = check(&i).unwrap();
        assert_eq!(r.flags, vec![ReportFlag::PlaceNameToResolve]);
        assert_eq!(r.location.place_name.as_deref(), Some("Sofara"));
    }

    #[test]
    fn point_outside_mali_is_refused_and_swaps_are_spotted() {
        let mut i = input();
        i.location.point = Some((48.85, 2.35)); // Paris
        let e = check(&i).unwrap_err();
        assert_eq!(e, vec![EwInvalid::new("location.point", EwMsg::OutsideCountry { looks_swapped: false })]);
        i.location.point = Some((-4.24, 14.01)); // longitude, latitude
        let e = check(&i).unwrap_err();
        assert_eq!(e[0].msg, EwMsg::OutsideCountry { looks_swapped: true });
        i.location.point = Some((f64::NAN, 1.0));
        assert_eq!(check(&i).unwrap_err()[0].msg, EwMsg::InvalidCoordinates);
        // Kidal, Taoudéni and Kadiolo corners are inside.
        for p in [(18.44, 1.41), (22.68, -3.98), (10.56, -5.76)] {
            i.location.point = Some(p);
            assert!(check(&i).is_ok(), "{p:?}");
        }
    }

    #[test]
    fn future_dates_beyond_skew_are_refused() {
        let mut i = input();
        i.occurred_at = now() + Duration::minutes(10);
        assert!(check(&i).is_ok(), "within clock skew");
        i.occurred_at = now() + Duration::minutes(16);
        assert_eq!(fields(check(&i)), vec!["occurred_at"]);
    }

    #[test]
    fn unknown_or_missing_category_is_filed_as_other() {
        let mut i = input();
        i.category = Some("ATK".into());
        let r = check(&i).unwrap();
        assert_eq!(r.category.as_str(), "other");
        assert_eq!(r.category_given.as_deref(), Some("ATK"));
        assert_eq!(r.flags, vec![ReportFlag::UnknownCategory { given: "ATK".into() }]);
        assert!(r.flags[0].msg().text(crate::Lang::Fr).contains("ATK"));
        i.category = Some("attaque armée!".into()); // not even a valid code
        assert_eq!(check(&i).unwrap().category.as_str(), "other");
        i.category = None;
        let r = check(&i).unwrap();
        assert_eq!(r.flags, vec![ReportFlag::NoCategory]);
        assert_eq!(r.category_given, None);
    }

    #[test]
    fn empty_text_needs_a_known_category() {
        let mut i = input();
        i.text = "   ".into();
        assert!(check(&i).is_ok());
        i.category = None;
        assert_eq!(fields(check(&i)), vec!["text"]);
        i.category = Some("unknown_code".into());
        assert_eq!(fields(check(&i)), vec!["text"]);
    }

    #[test]
    fn protected_categories_are_flagged() {
        let mut i = input();
        i.category = Some("security_forces_abuse".into());
        let r = check(&i).unwrap();
        assert!(r.protected);
        assert_eq!(r.flags, vec![ReportFlag::ProtectedCase]);
    }

    #[test]
    fn all_errors_are_reported_together() {
        let mut i = input();
        i.location.area = Some("ML/05".into());
        i.language = "français".into();
        i.idempotency_key = "".into();
        i.text = "x".repeat(5001);
        let f = fields(check(&i));
        assert_eq!(f, vec!["text", "location.area", "language", "idempotency_key"]);
    }

    #[test]
    fn text_is_kept_verbatim_except_nul() {
        let mut i = input();
        i.text = "  Attaque\nà  Sofara\0 ".into();
        assert_eq!(check(&i).unwrap().text, "  Attaque\nà  Sofara\u{FFFD} ");
    }

    #[test]
    fn languages_and_keys() {
        assert_eq!(ReportLanguage::parse("").unwrap().as_str(), "und");
        assert_eq!(ReportLanguage::parse("BM").unwrap().as_str(), "bm");
        assert_eq!(ReportLanguage::parse("ses").unwrap().as_str(), "ses");
        assert!(ReportLanguage::parse("fren").is_err());
        assert!(IdempotencyKey::parse("a b").is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(129)).is_err());
        assert!(IdempotencyKey::parse("uuid:0f8e-11").is_ok());
    }
}
