//! Every message of the cases engine a person can read, French first, English second.
//! Kept apart from the main catalogue ([`crate::Msg`]) so this module ships on its own.

use super::workflow::Label;
use crate::Lang;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "key", content = "args", rename_all = "snake_case")]
pub enum CaseMsg {
    // Workflow definitions (shown to the admin who writes one).
    InvalidKey { key: String },
    EmptyLabel { key: String },
    NoStates,
    NoInitialState { initial: String },
    NoTerminalState,
    DuplicateState { state: String },
    DuplicateField { field: String },
    DuplicateTransition { from: String, to: String },
    SelfTransition { state: String },
    UnknownStateInTransition { state: String },
    UnknownRequiredField { state: String, field: String },
    TransitionWithoutActors { from: String, to: String },
    UnknownPermission { name: String },
    InvalidRoleName { name: String },
    UnreachableState { state: String },
    TerminalWithExits { state: String },
    TerminalWithDeadline { state: String },
    InvalidDeadline { state: String, max: u32 },
    DeadEnd { state: String },
    CannotFinish { state: String },
    InvalidWorkflowJson { reason: String },
    // Moving a case.
    UnknownState { state: String },
    CaseClosed { state: Label },
    IllegalTransition { from: Label, to: Label },
    TransitionForbidden { to: Label },
    MissingFields { fields: Vec<Label> },
    // Receipt codes (shown to reporters, often read aloud by a focal point).
    ReceiptMalformed { digits: usize },
    ReceiptTypo,
    ReceiptUnknown,
    ReceiptLocked { minutes: i64 },
    WeakRandomness { min_bytes: usize },
    ReceiptKeyTooShort { min_bytes: usize },
    // Public transparency table.
    SmallCount { k: u64 },
    HiddenCount,
    SuppressionNote { k: u64 },
}

impl CaseMsg {
    pub fn text(&self, lang: Lang) -> String {
        use CaseMsg::*;
        let fr = lang == Lang::Fr;
        let pick = |f: String, e: String| if fr { f } else { e };
        let list = |ls: &[Label]| ls.iter().map(|l| l.get(lang).to_string()).collect::<Vec<_>>().join(", ");
        match self {
            InvalidKey { key } => pick(
                format!("Clé invalide « {key} » : minuscules, chiffres et soulignés, 2 à 48, commençant par une lettre."),
                format!("Invalid key \"{key}\": lowercase letters, digits and underscores, 2 to 48, starting with a letter."),
            ),
            EmptyLabel { key } => pick(
                format!("« {key} » : libellés français et anglais obligatoires (200 caractères au plus)."),
                format!("\"{key}\": French and English labels are required (at most 200 characters)."),
            ),
            NoStates => pick("Le circuit n'a aucun état.".into(), "The workflow has no states.".into()),
            NoInitialState { initial } => pick(
                format!("État initial « {initial} » absent de la liste des états."),
                format!("Initial state \"{initial}\" is not among the states."),
            ),
            NoTerminalState => pick(
                "Aucun état de clôture : les dossiers ne pourraient jamais être clos.".into(),
                "No closing state: cases could never be closed.".into(),
            ),
            DuplicateState { state } => pick(format!("État « {state} » en double."), format!("Duplicate state \"{state}\".")),
            DuplicateField { field } => pick(format!("Champ « {field} » en double."), format!("Duplicate field \"{field}\".")),
            DuplicateTransition { from, to } => pick(
                format!("Transition « {from} » → « {to} » en double."),
                format!("Duplicate transition \"{from}\" → \"{to}\"."),
            ),
            SelfTransition { state } => pick(
                format!("Transition de « {state} » vers lui-même."),
                format!("Transition from \"{state}\" to itself."),
            ),
            UnknownStateInTransition { state } => pick(
                format!("Transition vers ou depuis un état inconnu : « {state} »."),
                format!("Transition to or from an unknown state: \"{state}\"."),
            ),
            UnknownRequiredField { state, field } => pick(
                format!("L'état « {state} » exige le champ « {field} », qui n'est pas déclaré."),
                format!("State \"{state}\" requires field \"{field}\", which is not declared."),
            ),
            TransitionWithoutActors { from, to } => pick(
                format!("Personne n'est autorisé à faire « {from} » → « {to} »."),
                format!("Nobody is allowed to take \"{from}\" → \"{to}\"."),
            ),
            UnknownPermission { name } => pick(
                format!("Permission inconnue : « {name} »."),
                format!("Unknown permission: \"{name}\"."),
            ),
            InvalidRoleName { name } => pick(
                format!("Nom de rôle invalide : « {name} »."),
                format!("Invalid role name: \"{name}\"."),
            ),
            UnreachableState { state } => pick(
                format!("L'état « {state} » ne peut être atteint depuis l'état initial."),
                format!("State \"{state}\" cannot be reached from the initial state."),
            ),
            TerminalWithExits { state } => pick(
                format!("L'état de clôture « {state} » a des transitions sortantes."),
                format!("Closing state \"{state}\" has outgoing transitions."),
            ),
            TerminalWithDeadline { state } => pick(
                format!("L'état de clôture « {state} » ne peut pas avoir de délai."),
                format!("Closing state \"{state}\" cannot have a deadline."),
            ),
            InvalidDeadline { state, max } => pick(
                format!("Délai invalide pour « {state} » : de 1 à {max} jours."),
                format!("Invalid deadline for \"{state}\": 1 to {max} days."),
            ),
            DeadEnd { state } => pick(
                format!("L'état « {state} » n'est pas un état de clôture mais n'a aucune sortie."),
                format!("State \"{state}\" is not a closing state but has no way out."),
            ),
            CannotFinish { state } => pick(
                format!("Depuis l'état « {state} », aucun état de clôture n'est atteignable."),
                format!("From state \"{state}\", no closing state can be reached."),
            ),
            InvalidWorkflowJson { reason } => pick(
                format!("Définition de circuit illisible : {reason}"),
                format!("Unreadable workflow definition: {reason}"),
            ),
            UnknownState { state } => pick(format!("État inconnu : « {state} »."), format!("Unknown state: \"{state}\".")),
            CaseClosed { state } => pick(
                format!("Ce dossier est clos (« {} ») et ne peut plus changer d'état.", state.fr),
                format!("This case is closed (\"{}\") and can no longer change state.", state.en),
            ),
            IllegalTransition { from, to } => pick(
                format!("Passage impossible de « {} » à « {} ».", from.fr, to.fr),
                format!("A case cannot go from \"{}\" to \"{}\".", from.en, to.en),
            ),
            TransitionForbidden { to } => pick(
                format!("Votre rôle ne permet pas de passer ce dossier à « {} ».", to.fr),
                format!("Your role does not allow moving this case to \"{}\".", to.en),
            ),
            MissingFields { fields } => pick(
                format!("Champs à remplir d'abord : {}.", list(fields)),
                format!("Fill in these fields first: {}.", list(fields)),
            ),
            ReceiptMalformed { digits } => pick(
                format!("Le code de suivi compte {digits} chiffres ; vérifiez-le."),
                format!("The receipt code has {digits} digits; please check it."),
            ),
            ReceiptTypo => pick(
                "Ce code de suivi contient une erreur de frappe ; relisez-le chiffre par chiffre.".into(),
                "This receipt code contains a typing error; read it again digit by digit.".into(),
            ),
            ReceiptUnknown => pick("Code de suivi inconnu.".into(), "Unknown receipt code.".into()),
            ReceiptLocked { minutes } => pick(
                format!("Trop d'essais : réessayez dans {minutes} min."),
                format!("Too many attempts: try again in {minutes} min."),
            ),
            WeakRandomness { min_bytes } => pick(
                format!("Aléa insuffisant : {min_bytes} octets aléatoires au moins."),
                format!("Not enough randomness: at least {min_bytes} random bytes."),
            ),
            ReceiptKeyTooShort { min_bytes } => pick(
                format!("Clé de code de suivi trop courte : {min_bytes} octets au moins."),
                format!("Receipt key too short: at least {min_bytes} bytes."),
            ),
            SmallCount { k } => format!("<{k}"),
            HiddenCount => pick("masqué".into(), "hidden".into()),
            SuppressionNote { k } => pick(
                format!(
                    "« <{k} » : moins de {k} dossiers. « masqué » : caché pour qu'une petite valeur ne puisse pas être retrouvée à partir des totaux."
                ),
                format!(
                    "\"<{k}\": fewer than {k} cases. \"hidden\": withheld so that a small value cannot be worked out from the totals."
                ),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<CaseMsg> {
        use CaseMsg::*;
        let s = || "x".to_string();
        let l = || Label::new("étiquette", "label");
        vec![
            InvalidKey { key: s() },
            EmptyLabel { key: s() },
            NoStates,
            NoInitialState { initial: s() },
            NoTerminalState,
            DuplicateState { state: s() },
            DuplicateField { field: s() },
            DuplicateTransition { from: s(), to: s() },
            SelfTransition { state: s() },
            UnknownStateInTransition { state: s() },
            UnknownRequiredField { state: s(), field: s() },
            TransitionWithoutActors { from: s(), to: s() },
            UnknownPermission { name: s() },
            InvalidRoleName { name: s() },
            UnreachableState { state: s() },
            TerminalWithExits { state: s() },
            TerminalWithDeadline { state: s() },
            InvalidDeadline { state: s(), max: 1 },
            DeadEnd { state: s() },
            CannotFinish { state: s() },
            InvalidWorkflowJson { reason: s() },
            UnknownState { state: s() },
            CaseClosed { state: l() },
            IllegalTransition { from: l(), to: l() },
            TransitionForbidden { to: l() },
            MissingFields { fields: vec![l()] },
            ReceiptMalformed { digits: 28 },
            ReceiptTypo,
            ReceiptUnknown,
            ReceiptLocked { minutes: 30 },
            WeakRandomness { min_bytes: 32 },
            ReceiptKeyTooShort { min_bytes: 32 },
            SmallCount { k: 5 },
            HiddenCount,
            SuppressionNote { k: 5 },
        ]
    }

    #[test]
    fn every_message_is_translated() {
        for m in all() {
            let (fr, en) = (m.text(Lang::Fr), m.text(Lang::En));
            assert!(!fr.trim().is_empty() && !en.trim().is_empty(), "{m:?}");
            // Symbols such as "<5" are the same in both languages; sentences are not.
            if !matches!(m, CaseMsg::SmallCount { .. }) {
                assert_ne!(fr, en, "{m:?}");
            }
        }
        let m = CaseMsg::MissingFields { fields: vec![Label::new("Victimes", "Victims"), Label::new("Lieu", "Place")] };
        assert_eq!(m.text(Lang::En), "Fill in these fields first: Victims, Place.");
        assert_eq!(m.text(Lang::Fr), "Champs à remplir d'abord : Victimes, Lieu.");
    }
}
