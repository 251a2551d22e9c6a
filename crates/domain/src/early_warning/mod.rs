//! Early warning: reports from community focal points, their grading and grouping into events,
//! alerts escalated to responders with deadlines, and the indicators that tell whether the
//! mechanism works (MINUSMA: "percentage of interventions after an early warning in which
//! violence was prevented or stopped"). Pure: every function that needs the time takes `now`.

pub mod alert;
pub mod attachment;
pub mod dedup;
pub mod escalation;
pub mod grading;
pub mod indicators;
pub mod places;
pub mod report;
pub mod taxonomy;
pub mod visibility;

pub use alert::{Alert, AlertCommand, AlertState, EscalationEntry, EscalationKind, Outcome, ResponseAction, Transition};
pub use attachment::{check_attachment, sanitize_file_name, AttachmentInput, AttachmentPolicy, CheckedAttachment, MediaType};
pub use dedup::{cluster, merge, split, Adjacency, ClusterDecision, DedupConfig, Event, MatchReason, ReportSignal};
pub use escalation::{matching_rule, next_escalation, Attention, EscalationPlan, EscalationRule, Notify, ResponderLevel};
pub use grading::{AdmiraltyGrade, InformationCredibility, SourceReliability, Verification, VerificationStatus};
pub use indicators::{compute as compute_indicators, compute_by_area as compute_indicators_by_area, AckCounts, Indicators, InterventionCounts, Period};
pub use places::{match_place, Gazetteer, MatchOptions, NameAt, PlaceCandidate, PlaceEntry, PlaceMatch, PlaceVerdict, DEFAULT_ALIASES};
pub use report::{Channel, Location, LocationInput, Report, ReportFlag, ReportInput, ReportPolicy, ReporterKind};
pub use taxonomy::{default_categories, Category, CategoryCode, CategoryFamily, Severity, Taxonomy};

use crate::Lang;
use serde::Serialize;

/// A field that failed validation, with the message to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EwInvalid {
    pub field: String,
    pub msg: EwMsg,
}

impl EwInvalid {
    pub fn new(field: impl Into<String>, msg: EwMsg) -> Self {
        EwInvalid { field: field.into(), msg }
    }
}

impl From<EwInvalid> for crate::Invalid {
    fn from(e: EwInvalid) -> crate::Invalid {
        crate::Invalid::new(e.field, e.msg.into())
    }
}

/// Every message of the early-warning flow a person can read, French first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "key", content = "args", rename_all = "snake_case")]
pub enum EwMsg {
    // Taxonomy and grading
    InvalidCategoryCode,
    DuplicateCategory { code: String },
    CategoryLabelMissing { code: String },
    OtherCategoryMissing,
    TaxonomyEmpty,
    CategoryWithoutKeyword { code: String },
    KeywordInTwoCategories { keyword: String, first: String, second: String },
    InvalidSeverity,
    InvalidGrade,
    VerifiedNeedsGrade,
    GradeContradictsStatus,
    // Reports
    TextOrCategoryRequired,
    TextTooLong { max: usize },
    OccurredInFuture,
    InvalidAreaCode { given: String },
    InvalidCoordinates,
    OutsideCountry { looks_swapped: bool },
    InvalidPlaceName,
    InvalidLanguage,
    InvalidIdempotencyKey,
    NeedsLocation,
    PlaceNameToResolve,
    UnknownCategoryFiledAsOther { given: String },
    NoCategoryFiledAsOther,
    RoutedToProtectedCases,
    // Attachments
    TooManyAttachments { max: usize },
    EmptyAttachment,
    UnsupportedAttachmentType { declared: String },
    AttachmentContentMismatch { declared: String },
    AttachmentTooLarge { max_bytes: u64 },
    // Events
    MergeSameEvent,
    NothingToSplit,
    ReportNotInEvent { report_id: i64 },
    SplitWouldEmptyEvent,
    /// Both events already carry a raised alert: one must be closed or cancelled first.
    MergeTwoRaisedAlerts { first: i64, second: i64 },
    /// A finished event (closed, false alarm, cancelled) cannot take or give reports.
    EventFinished { event_id: i64 },
    /// The event was merged into another; act on that one.
    EventMerged { into: i64 },
    // Alerts
    IllegalTransition { from: alert::AlertState, to: alert::AlertState },
    AlertAlreadyFinished { state: alert::AlertState },
    VerifyBeforeAlert,
    StepBeforePreviousStep,
    ResponseActionRequired,
    CancelReasonRequired,
    NotAwaitingAcknowledgement,
    // Escalation
    RuleNeedsLevels,
    ResponderNameRequired,
    InvalidDeadline,
    NoEscalationRule,
    ResponderHasNoPhone { name: String },
    EscalationExhausted,
    // Indicators
    InvalidPeriod,
}

impl EwMsg {
    pub fn text(&self, lang: Lang) -> String {
        use EwMsg::*;
        let fr = lang == Lang::Fr;
        let pick = |f: String, e: String| if fr { f } else { e };
        let s = |f: &str, e: &str| if fr { f.to_string() } else { e.to_string() };
        match self {
            InvalidCategoryCode => s(
                "Code de catégorie invalide : lettres minuscules, chiffres et « _ », commençant par une lettre, 2 à 40 caractères.",
                "Invalid category code: lowercase letters, digits and \"_\", starting with a letter, 2 to 40 characters.",
            ),
            DuplicateCategory { code } => pick(
                format!("Catégorie « {code} » en double."),
                format!("Duplicate category \"{code}\"."),
            ),
            CategoryLabelMissing { code } => pick(
                format!("La catégorie « {code} » doit avoir un libellé en français et en anglais."),
                format!("Category \"{code}\" needs a French and an English label."),
            ),
            OtherCategoryMissing => s(
                "La liste doit contenir la catégorie « other » (autre), où vont les signalements non classés.",
                "The list must contain the \"other\" category, where unclassified reports go.",
            ),
            TaxonomyEmpty => s("La liste des catégories est vide.", "The category list is empty."),
            CategoryWithoutKeyword { code } => pick(
                format!("La catégorie « {code} » n'a aucun mot-clé SMS."),
                format!("Category \"{code}\" has no SMS keyword."),
            ),
            KeywordInTwoCategories { keyword, first, second } => pick(
                format!("Le mot-clé « {keyword} » désigne deux catégories : {first} et {second}."),
                format!("Keyword \"{keyword}\" names two categories: {first} and {second}."),
            ),
            InvalidSeverity => s("Gravité invalide : de 1 (faible) à 4 (critique).", "Invalid severity: 1 (low) to 4 (critical)."),
            InvalidGrade => s(
                "Cotation invalide : une lettre A–F (fiabilité de la source) suivie d'un chiffre 1–6 (crédibilité), par ex. B2.",
                "Invalid grade: a letter A–F (source reliability) followed by a digit 1–6 (credibility), e.g. B2.",
            ),
            VerifiedNeedsGrade => s(
                "Un signalement vérifié doit porter une cotation (par ex. B2).",
                "A verified report must carry a grade (e.g. B2).",
            ),
            GradeContradictsStatus => s(
                "La cotation contredit le statut : « vérifié » exige une crédibilité de 1 à 3, « faux » une crédibilité de 3 à 6.",
                "The grade contradicts the status: \"verified\" needs credibility 1 to 3, \"false\" credibility 3 to 6.",
            ),
            TextOrCategoryRequired => s(
                "Décrivez ce qui se passe ou choisissez une catégorie connue.",
                "Describe what is happening or choose a known category.",
            ),
            TextTooLong { max } => pick(
                format!("Texte trop long : {max} caractères au plus."),
                format!("Text too long: at most {max} characters."),
            ),
            OccurredInFuture => s(
                "La date de l'événement est dans le futur : vérifiez la date et l'heure du téléphone.",
                "The event date is in the future: check the phone's date and time.",
            ),
            InvalidAreaCode { given } => pick(
                format!("Code de zone invalide : « {given} »."),
                format!("Invalid area code: \"{given}\"."),
            ),
            InvalidCoordinates => crate::Msg::InvalidCoordinate.text(lang),
            OutsideCountry { looks_swapped } => {
                if *looks_swapped {
                    s(
                        "Position hors du Mali : latitude et longitude semblent inversées.",
                        "Position outside Mali: latitude and longitude look swapped.",
                    )
                } else {
                    s("Position hors du Mali.", "Position outside Mali.")
                }
            }
            InvalidPlaceName => s(
                "Nom de lieu invalide : 200 caractères au plus, sans caractères de contrôle.",
                "Invalid place name: at most 200 characters, no control characters.",
            ),
            InvalidLanguage => s(
                "Langue invalide : code de 2 ou 3 lettres (fr, en, bm, ff…).",
                "Invalid language: a 2- or 3-letter code (fr, en, bm, ff…).",
            ),
            InvalidIdempotencyKey => s(
                "Clé d'idempotence invalide : 1 à 128 caractères ASCII visibles.",
                "Invalid idempotency key: 1 to 128 visible ASCII characters.",
            ),
            NeedsLocation => s(
                "Signalement enregistré sans lieu : à compléter avant de pouvoir l'orienter.",
                "Report saved without a location: to be completed before it can be routed.",
            ),
            PlaceNameToResolve => s(
                "Lieu donné en texte libre : à rattacher à une zone.",
                "Location given as free text: to be matched to an area.",
            ),
            UnknownCategoryFiledAsOther { given } => pick(
                format!("Catégorie « {given} » inconnue : signalement classé « autre », à trier."),
                format!("Unknown category \"{given}\": report filed as \"other\", for triage."),
            ),
            NoCategoryFiledAsOther => s(
                "Aucune catégorie : signalement classé « autre », à trier.",
                "No category: report filed as \"other\", for triage.",
            ),
            RoutedToProtectedCases => s(
                "Catégorie sensible : le signalement est orienté vers les dossiers protégés.",
                "Sensitive category: the report goes to protected cases.",
            ),
            TooManyAttachments { max } => pick(
                format!("Trop de pièces jointes : {max} au plus par signalement."),
                format!("Too many attachments: at most {max} per report."),
            ),
            EmptyAttachment => s("Pièce jointe vide.", "Empty attachment."),
            UnsupportedAttachmentType { declared } => pick(
                format!("Type de fichier non accepté ({declared}) : photos JPEG, PNG, WebP ou sons OGG, MP3, M4A, AMR."),
                format!("File type not accepted ({declared}): JPEG, PNG, WebP photos or OGG, MP3, M4A, AMR audio."),
            ),
            AttachmentContentMismatch { declared } => pick(
                format!("Le contenu du fichier ne correspond pas au type annoncé ({declared})."),
                format!("The file's content does not match its declared type ({declared})."),
            ),
            AttachmentTooLarge { max_bytes } => pick(
                format!("Fichier trop volumineux : {} Mo au plus.", max_bytes / (1024 * 1024)),
                format!("File too large: at most {} MB.", max_bytes / (1024 * 1024)),
            ),
            MergeSameEvent => s("Un événement ne peut pas être fusionné avec lui-même.", "An event cannot be merged with itself."),
            NothingToSplit => s("Choisissez au moins un signalement à séparer.", "Choose at least one report to split off."),
            ReportNotInEvent { report_id } => pick(
                format!("Le signalement {report_id} n'appartient pas à cet événement."),
                format!("Report {report_id} does not belong to this event."),
            ),
            SplitWouldEmptyEvent => s(
                "Au moins un signalement doit rester dans l'événement.",
                "At least one report must stay in the event.",
            ),
            MergeTwoRaisedAlerts { first, second } => pick(
                format!("Les événements {first} et {second} ont chacun une alerte lancée : clôturez ou annulez l'une d'elles avant de fusionner."),
                format!("Events {first} and {second} each have a raised alert: close or cancel one of them before merging."),
            ),
            EventFinished { event_id } => pick(
                format!("L'événement {event_id} est terminé : ses signalements ne peuvent plus être déplacés."),
                format!("Event {event_id} is finished: its reports can no longer be moved."),
            ),
            EventMerged { into } => pick(
                format!("Cet événement a été fusionné dans l'événement {into}."),
                format!("This event was merged into event {into}."),
            ),
            IllegalTransition { from, to } => pick(
                format!("Impossible de passer de « {} » à « {} ».", from.label(lang), to.label(lang)),
                format!("Cannot go from \"{}\" to \"{}\".", from.label(lang), to.label(lang)),
            ),
            AlertAlreadyFinished { state } => pick(
                format!("Cette alerte est terminée ({}) : plus rien ne peut y être enregistré.", state.label(lang)),
                format!("This alert is finished ({}): nothing more can be recorded on it.", state.label(lang)),
            ),
            VerifyBeforeAlert => s(
                "Vérifiez le signalement avant de lancer l'alerte (seules les situations critiques peuvent être alertées d'abord).",
                "Verify the report before raising the alert (only critical situations may be alerted first).",
            ),
            StepBeforePreviousStep => s(
                "Cette étape serait datée d'avant la précédente : vérifiez l'horloge.",
                "This step would be dated before the previous one: check the clock.",
            ),
            ResponseActionRequired => s(
                "Indiquez au moins une action de réponse (patrouille, médiation, évacuation ou autre, décrite).",
                "Give at least one response action (patrol, mediation, evacuation or other, described).",
            ),
            CancelReasonRequired => s("Indiquez le motif de l'annulation.", "Give the reason for cancelling."),
            NotAwaitingAcknowledgement => s(
                "L'alerte n'attend pas d'accusé de réception : pas d'escalade.",
                "The alert is not awaiting acknowledgement: no escalation.",
            ),
            RuleNeedsLevels => s(
                "Une règle d'escalade doit avoir au moins un niveau d'intervenants.",
                "An escalation rule needs at least one responder level.",
            ),
            ResponderNameRequired => s("Chaque niveau doit être nommé.", "Each level needs a name."),
            InvalidDeadline => s(
                "Délai d'accusé de réception invalide : plus de zéro et au plus 7 jours.",
                "Invalid acknowledgement deadline: more than zero and at most 7 days.",
            ),
            NoEscalationRule => s(
                "Aucune règle d'escalade ne couvre cette alerte : personne ne sera prévenu. À traiter.",
                "No escalation rule covers this alert: nobody will be told. Needs attention.",
            ),
            ResponderHasNoPhone { name } => pick(
                format!("« {name} » n'a pas de numéro de téléphone : niveau sauté. À traiter."),
                format!("\"{name}\" has no phone number: level skipped. Needs attention."),
            ),
            EscalationExhausted => s(
                "Aucun niveau n'a accusé réception : tous les intervenants ont été sollicités. À traiter.",
                "No level acknowledged: every responder has been tried. Needs attention.",
            ),
            InvalidPeriod => s("Période invalide : le début doit précéder la fin.", "Invalid period: the start must come before the end."),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_exists_in_both_languages() {
        use alert::AlertState as S;
        let all = [
            EwMsg::InvalidCategoryCode,
            EwMsg::DuplicateCategory { code: "x".into() },
            EwMsg::CategoryLabelMissing { code: "x".into() },
            EwMsg::OtherCategoryMissing,
            EwMsg::TaxonomyEmpty,
            EwMsg::CategoryWithoutKeyword { code: "a".into() },
            EwMsg::KeywordInTwoCategories { keyword: "k".into(), first: "a".into(), second: "b".into() },
            EwMsg::InvalidSeverity,
            EwMsg::InvalidGrade,
            EwMsg::VerifiedNeedsGrade,
            EwMsg::GradeContradictsStatus,
            EwMsg::TextOrCategoryRequired,
            EwMsg::TextTooLong { max: 5 },
            EwMsg::OccurredInFuture,
            EwMsg::InvalidAreaCode { given: "x".into() },
            EwMsg::InvalidCoordinates,
            EwMsg::OutsideCountry { looks_swapped: true },
            EwMsg::OutsideCountry { looks_swapped: false },
            EwMsg::InvalidPlaceName,
            EwMsg::InvalidLanguage,
            EwMsg::InvalidIdempotencyKey,
            EwMsg::NeedsLocation,
            EwMsg::PlaceNameToResolve,
            EwMsg::UnknownCategoryFiledAsOther { given: "ATK".into() },
            EwMsg::NoCategoryFiledAsOther,
            EwMsg::RoutedToProtectedCases,
            EwMsg::TooManyAttachments { max: 5 },
            EwMsg::EmptyAttachment,
            EwMsg::UnsupportedAttachmentType { declared: "x".into() },
            EwMsg::AttachmentContentMismatch { declared: "x".into() },
            EwMsg::AttachmentTooLarge { max_bytes: 5 << 20 },
            EwMsg::MergeSameEvent,
            EwMsg::NothingToSplit,
            EwMsg::ReportNotInEvent { report_id: 3 },
            EwMsg::SplitWouldEmptyEvent,
            EwMsg::MergeTwoRaisedAlerts { first: 1, second: 2 },
            EwMsg::EventFinished { event_id: 1 },
            EwMsg::EventMerged { into: 1 },
            EwMsg::IllegalTransition { from: S::Reported, to: S::Closed },
            EwMsg::AlertAlreadyFinished { state: S::Cancelled },
            EwMsg::VerifyBeforeAlert,
            EwMsg::StepBeforePreviousStep,
            EwMsg::ResponseActionRequired,
            EwMsg::CancelReasonRequired,
            EwMsg::NotAwaitingAcknowledgement,
            EwMsg::RuleNeedsLevels,
            EwMsg::ResponderNameRequired,
            EwMsg::InvalidDeadline,
            EwMsg::NoEscalationRule,
            EwMsg::ResponderHasNoPhone { name: "Préfet".into() },
            EwMsg::EscalationExhausted,
            EwMsg::InvalidPeriod,
        ];
        let mut seen_fr = std::collections::BTreeSet::new();
        for m in &all {
            let (fr, en) = (m.text(Lang::Fr), m.text(Lang::En));
            assert!(!fr.trim().is_empty() && !en.trim().is_empty(), "{m:?}");
            assert_ne!(fr, en, "{m:?}");
            assert!(seen_fr.insert(fr.clone()), "two messages read the same: {fr}");
        }
        assert!(EwMsg::OutsideCountry { looks_swapped: true }.text(Lang::Fr).contains("inversées"));
        assert_eq!(
            EwMsg::IllegalTransition { from: S::Reported, to: S::Closed }.text(Lang::Fr),
            "Impossible de passer de « signalée » à « clôturée »."
        );
        assert_eq!(EwMsg::AttachmentTooLarge { max_bytes: 5 << 20 }.text(Lang::En), "File too large: at most 5 MB.");
        let json = serde_json::to_value(EwMsg::ReportNotInEvent { report_id: 3 }).unwrap();
        assert_eq!(json, serde_json::json!({"key": "report_not_in_event", "args": {"report_id": 3}}));
    }
}
