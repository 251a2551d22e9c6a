//! Every message of local security governance (committees, meetings, plans, the directory of
//! resource persons) a person can read, French first, English second. Kept apart from the
//! main catalogue; it travels as `Msg::Governance`.

use crate::Lang;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "key", content = "args", rename_all = "snake_case")]
pub enum GovMsg {
    UnknownCommitteeKind { text: String },
    UnknownSex { text: String },
    UnknownAgeGroup { text: String },
    UnknownExpertise { text: String },
    UnknownVisibility { text: String },
    UnknownConsentMethod { text: String },
    UnknownActionStatus { text: String },
    InvalidLanguage { text: String },
    InvalidDate { text: String },
    InvalidCount { text: String },
    InvalidYesNo { text: String },
    InvalidEmail,
    DuplicateMember { name: String, first: usize },
    DuplicateMemberLine { name: String, first_line: usize },
    DuplicateAttendanceCell,
    NoAttendees,
    MeetingBeforeCommittee { established_on: String },
    MeetingInFuture,
    EstablishedInFuture,
    DueBeforeMeeting,
    DoneBeforeMeeting,
    DeadlineOutsidePlan,
    InvalidPlanPeriod,
    NoExpertise,
    ConsentRequired,
    ConsentInFuture,
    ConsentWithdrawn,
    NoContactAfterWithdrawal,
    UnknownAlert { id: i64 },
    AlertOutsideArea { id: i64 },
    DuplicateCommittee { name: String, first_line: usize },
    MixedCommitteeRows { name: String, first_line: usize },
    MissingColumn { name: String },
}

impl GovMsg {
    pub fn text(&self, lang: Lang) -> String {
        use GovMsg::*;
        let fr = lang == Lang::Fr;
        let pick = |f: String, e: String| if fr { f } else { e };
        let s = |f: &str, e: &str| if fr { f.to_string() } else { e.to_string() };
        match self {
            UnknownCommitteeKind { text } => pick(
                format!("Type de comité inconnu « {text} » : security_committee, conflict_prevention, land_commission, community_protection, cso_platform, municipal_police ou other."),
                format!("Unknown committee type \"{text}\": security_committee, conflict_prevention, land_commission, community_protection, cso_platform, municipal_police or other."),
            ),
            UnknownSex { text } => pick(format!("Sexe inconnu « {text} » : F ou H."), format!("Unknown sex \"{text}\": F or M.")),
            UnknownAgeGroup { text } => pick(
                format!("Tranche d'âge inconnue « {text} » : youth (jeune, moins de 35 ans), adult (adulte) ou elder (aîné, 60 ans et plus)."),
                format!("Unknown age group \"{text}\": youth (under 35), adult or elder (60 and over)."),
            ),
            UnknownExpertise { text } => pick(
                format!("Expertise inconnue « {text} » : mediation, gender, human_rights, security_sector ou languages."),
                format!("Unknown expertise \"{text}\": mediation, gender, human_rights, security_sector or languages."),
            ),
            UnknownVisibility { text } => pick(
                format!("Visibilité inconnue « {text} » : public, partners ou hidden."),
                format!("Unknown visibility \"{text}\": public, partners or hidden."),
            ),
            UnknownConsentMethod { text } => pick(
                format!("Mode de consentement inconnu « {text} » : written (écrit signé), oral (oral devant témoin), sms ou form (formulaire)."),
                format!("Unknown consent method \"{text}\": written, oral (before a witness), sms or form."),
            ),
            UnknownActionStatus { text } => pick(
                format!("État d'action inconnu « {text} » : planned, in_progress, done ou cancelled."),
                format!("Unknown action status \"{text}\": planned, in_progress, done or cancelled."),
            ),
            InvalidLanguage { text } => pick(
                format!("Langue invalide « {text} » : un nom de langue en lettres (bambara, fulfulde, songhay…)."),
                format!("Invalid language \"{text}\": a language name in letters (bambara, fulfulde, songhay…)."),
            ),
            InvalidDate { text } => pick(
                format!("Date invalide « {text} » : AAAA-MM-JJ ou JJ/MM/AAAA."),
                format!("Invalid date \"{text}\": YYYY-MM-DD or DD/MM/YYYY."),
            ),
            InvalidCount { text } => pick(
                format!("Effectif invalide « {text} » : un nombre entier de 0 à 10 000."),
                format!("Invalid count \"{text}\": a whole number from 0 to 10,000."),
            ),
            InvalidYesNo { text } => pick(format!("« {text} » : oui ou non attendu."), format!("\"{text}\": yes or no expected.")),
            InvalidEmail => s("Adresse électronique invalide (exemple : nom@domaine.ml).", "Invalid email address (example: name@domain.ml)."),
            DuplicateMember { name, first } => pick(
                format!("« {name} » figure deux fois parmi les membres (déjà en position {first})."),
                format!("\"{name}\" is listed twice among the members (already at position {first})."),
            ),
            DuplicateMemberLine { name, first_line } => pick(
                format!("« {name} » figure deux fois parmi les membres de ce comité (déjà à la ligne {first_line})."),
                format!("\"{name}\" is listed twice among this committee's members (already on line {first_line})."),
            ),
            DuplicateAttendanceCell => s(
                "Participation : le même croisement sexe × tranche d'âge est donné deux fois.",
                "Attendance: the same sex × age group cell is given twice.",
            ),
            NoAttendees => s("Une réunion compte au moins un participant.", "A meeting has at least one attendee."),
            MeetingBeforeCommittee { established_on } => pick(
                format!("La réunion est datée d'avant la création du comité ({established_on})."),
                format!("The meeting is dated before the committee was set up ({established_on})."),
            ),
            MeetingInFuture => s("Une réunion tenue ne peut pas être datée dans le futur.", "A meeting held cannot be dated in the future."),
            EstablishedInFuture => s("La date de création du comité est dans le futur.", "The committee's set-up date is in the future."),
            DueBeforeMeeting => s("L'échéance d'une décision précède la réunion qui l'a prise.", "A decision's due date is before the meeting that took it."),
            DoneBeforeMeeting => s("Une décision ne peut pas être exécutée avant la réunion qui l'a prise.", "A decision cannot be carried out before the meeting that took it."),
            DeadlineOutsidePlan => s("L'échéance de l'action est hors de la période du plan.", "The action's deadline is outside the plan's period."),
            InvalidPlanPeriod => s("Période du plan invalide : la fin précède le début.", "Invalid plan period: the end is before the start."),
            NoExpertise => s("Indiquez au moins un domaine d'expertise.", "Give at least one area of expertise."),
            ConsentRequired => s(
                "Publication impossible sans consentement explicite enregistré (date et mode).",
                "Cannot publish without explicit recorded consent (date and method).",
            ),
            ConsentInFuture => s("La date du consentement est dans le futur.", "The consent date is in the future."),
            ConsentWithdrawn => s(
                "Cette personne a retiré son consentement : la fiche ne peut plus être publiée ni modifiée.",
                "This person withdrew their consent: the entry can no longer be published or edited.",
            ),
            NoContactAfterWithdrawal => s("Le consentement a été retiré.", "Consent was withdrawn."),
            UnknownAlert { id } => pick(format!("Alerte n° {id} inconnue."), format!("Unknown alert no. {id}.")),
            AlertOutsideArea { id } => pick(
                format!("L'alerte n° {id} est hors de la zone du comité ou de la vôtre."),
                format!("Alert no. {id} is outside the committee's area or yours."),
            ),
            DuplicateCommittee { name, first_line } => pick(
                format!("Le comité « {name} » existe déjà dans cette zone (ligne {first_line} ou en base)."),
                format!("Committee \"{name}\" already exists in this area (line {first_line} or in the database)."),
            ),
            MixedCommitteeRows { name, first_line } => pick(
                format!("Le comité « {name} » a un autre type ou une autre date de création qu'à la ligne {first_line}."),
                format!("Committee \"{name}\" has another type or set-up date than on line {first_line}."),
            ),
            MissingColumn { name } => pick(format!("Colonne « {name} » absente."), format!("Column \"{name}\" is missing.")),
        }
    }
}
