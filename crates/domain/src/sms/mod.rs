//! The SMS channel, pure parts: phone numbers, the French command grammar, the replies, and
//! what a text costs on the air. Focal points often have only a basic phone and one bar of
//! signal; an SMS must be understood however it is typed, and answered in one message.
//!
//! Flow for the server: `Phone::parse(sender)` (see [`crate::phone`]) → `parse(text, &taxonomy, &gazetteer)` →
//! store the command (the raw text always) → `reply_*` → `SmsMsg::sms(lang)` → send.

pub mod command;
pub mod gsm;

pub use command::{parse, AlertReport, CategoryMatch, PlaceMatch, RefCode, SmsCommand};
pub use crate::early_warning::places::Gazetteer;
pub use gsm::{fit_text, fits_gsm7, SmsEncoding, SmsSize};
pub use crate::phone::Phone;
pub use crate::early_warning::taxonomy::{Category, CategoryCode, Taxonomy};

use crate::Lang;
use chrono::NaiveDate;
use serde::Serialize;

/// How sure the parser is of a part of the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchKind {
    /// Where the grammar puts it, spelled right (ignoring case and accents).
    Exact,
    /// Where the grammar puts it, with one typo forgiven: a person should confirm.
    OneTypo,
    /// Found in the free text, not where the grammar puts it: a person should confirm.
    InText,
}

/// Where an alert or a case stands, as told to the person who reported it. The alert and
/// case state machines map their states onto these; nothing more is revealed by SMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SmsStatus {
    Received,
    UnderReview,
    Escalated,
    Responding,
    Resolved,
    Closed,
    NotRetained,
}

impl SmsStatus {
    fn label(self, lang: Lang) -> &'static str {
        use SmsStatus::*;
        match (self, lang) {
            (Received, Lang::Fr) => "reçue, en attente",
            (Received, Lang::En) => "received, waiting",
            (UnderReview, Lang::Fr) => "en vérification",
            (UnderReview, Lang::En) => "being verified",
            (Escalated, Lang::Fr) => "transmise aux intervenants",
            (Escalated, Lang::En) => "passed to responders",
            (Responding, Lang::Fr) => "intervention en cours",
            (Responding, Lang::En) => "response under way",
            (Resolved, Lang::Fr) => "résolue",
            (Resolved, Lang::En) => "resolved",
            (Closed, Lang::Fr) => "clôturée",
            (Closed, Lang::En) => "closed",
            (NotRetained, Lang::Fr) => "non retenue",
            (NotRetained, Lang::En) => "not retained",
        }
    }
}

/// A name in both languages (a category label).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Label {
    pub fr: String,
    pub en: String,
}

impl Label {
    fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Fr => &self.fr,
            Lang::En => &self.en,
        }
    }
}

/// Every text of the SMS channel a person reads: replies sent by SMS, and errors shown in
/// the admin screens (reference codes). French first, English second.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "key", content = "args", rename_all = "snake_case")]
pub enum SmsMsg {
    InvalidRefCode,
    // SMS replies
    ReplyHelp,
    ReplyAlertTypes {
        keywords: String,
    },
    ReplyAlertReceived {
        reference: String,
        category: Label,
        place: Option<String>,
    },
    ReplyAlertNoCategory {
        reference: String,
        keywords: String,
    },
    ReplyInfoReceived {
        reference: String,
    },
    ReplyInfoEmpty,
    ReplyFollowUp {
        reference: String,
        status: SmsStatus,
        since: Option<NaiveDate>,
    },
    /// Unknown code, or a code that belongs to someone else: the same words, so SUIVI
    /// cannot be used to learn whether a protected case exists.
    ReplyFollowUpUnknown {
        written: String,
    },
    ReplyFollowUpNoCode,
    ReplyStopped,
    ReplyNotUnderstood,
    /// The sender is not a registered focal point: the message is kept and checked by a person.
    ReplyUnknownSender,
}

/// Keeps what a sender typed short in a reply, so an echo cannot blow the SMS up.
fn clip(s: &str, max: usize) -> String {
    clip_marked(s, max, "…")
}

/// `s` cut to at most `max` characters, `mark` ending it when something was cut.
pub fn clip_marked(s: &str, max: usize, mark: &str) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut c: String = s.chars().take(max - mark.chars().count()).collect();
        c.push_str(mark);
        c
    }
}

impl SmsMsg {
    pub fn text(&self, lang: Lang) -> String {
        use SmsMsg::*;
        let fr = lang == Lang::Fr;
        match self {
            InvalidRefCode => if fr {
                "Référence invalide : 8 caractères, par exemple AB12-CD34."
            } else {
                "Invalid reference: 8 characters, for example AB12-CD34."
            }
            .into(),
            ReplyHelp => if fr {
                "Vigie: ALERTE type lieu détails (ex: ALERTE ATTAQUE Koro 10 hommes armés). INFO message. SUIVI réf. STOP. Envoyez ALERTE seul pour la liste des types."
            } else {
                "Vigie: ALERT type place details (e.g. ALERT ATTAQUE Koro 10 armed men). INFO message. SUIVI ref. STOP. Send ALERT alone for the list of types."
            }
            .into(),
            ReplyAlertTypes { keywords } => if fr {
                format!("Vigie: types: {keywords}. Ex: ALERTE ATTAQUE Koro détails")
            } else {
                format!("Vigie: types: {keywords}. E.g. ALERT ATTAQUE Koro details")
            },
            ReplyAlertReceived { reference, category, place } => {
                let cat = clip(category.get(lang), 40);
                match (place, fr) {
                    (Some(p), true) => format!("Vigie: alerte {cat} à {} reçue. Réf {reference}. Merci. Pour suivre: SUIVI {reference}", clip(p, 30)),
                    (Some(p), false) => format!("Vigie: alert {cat} in {} received. Ref {reference}. Thank you. To follow: SUIVI {reference}", clip(p, 30)),
                    (None, true) => format!("Vigie: alerte {cat} reçue, lieu non reconnu: précisez-le par INFO {reference} lieu. Réf {reference}."),
                    (None, false) => format!("Vigie: alert {cat} received, place not recognised: send INFO {reference} place. Ref {reference}."),
                }
            }
            ReplyAlertNoCategory { reference, keywords } => if fr {
                format!("Vigie: alerte reçue (réf {reference}), type non reconnu. Types: {keywords}")
            } else {
                format!("Vigie: alert received (ref {reference}), type not recognised. Types: {keywords}")
            },
            ReplyInfoReceived { reference } => if fr {
                format!("Vigie: information reçue, merci. Réf {reference}.")
            } else {
                format!("Vigie: information received, thank you. Ref {reference}.")
            },
            ReplyInfoEmpty => if fr {
                "Vigie: message vide. Envoyez INFO suivi de votre message."
            } else {
                "Vigie: empty message. Send INFO followed by your message."
            }
            .into(),
            ReplyFollowUp { reference, status, since } => {
                let date = since.map(|d| d.format(" (%d/%m)").to_string()).unwrap_or_default();
                if fr {
                    format!("Vigie: réf {reference}: {}{date}.", status.label(lang))
                } else {
                    format!("Vigie: ref {reference}: {}{date}.", status.label(lang))
                }
            }
            ReplyFollowUpUnknown { written } => if fr {
                format!("Vigie: réf {} inconnue pour ce numéro. Vérifiez le code, ex: SUIVI AB12-CD34", clip(written, 20))
            } else {
                format!("Vigie: ref {} unknown for this number. Check the code, e.g. SUIVI AB12-CD34", clip(written, 20))
            },
            ReplyFollowUpNoCode => if fr {
                "Vigie: envoyez SUIVI suivi de la référence reçue, ex: SUIVI AB12-CD34"
            } else {
                "Vigie: send SUIVI followed by the reference you received, e.g. SUIVI AB12-CD34"
            }
            .into(),
            ReplyStopped => if fr {
                "Vigie: vous ne recevrez plus de messages. Vous pouvez toujours envoyer une ALERTE."
            } else {
                "Vigie: you will receive no more messages. You can still send an ALERT."
            }
            .into(),
            ReplyNotUnderstood => if fr {
                "Vigie: message reçu mais non compris. Format: ALERTE type lieu détails. AIDE pour l'aide."
            } else {
                "Vigie: message received but not understood. Format: ALERT type place details. HELP for help."
            }
            .into(),
            ReplyUnknownSender => if fr {
                "Vigie: message reçu. Ce numéro n'est pas enregistré; il sera vérifié avant traitement."
            } else {
                "Vigie: message received. This number is not registered; it will be checked first."
            }
            .into(),
        }
    }

    /// The text ready to send: folded to GSM-7 look-alikes when that saves room (`ç`→`c`),
    /// with its size, so the gateway can be told the coding (see `SmsEncoding::kannel_coding`).
    pub fn sms(&self, lang: Lang) -> OutgoingSms {
        OutgoingSms::new(&self.text(lang))
    }
}

/// A text about to be sent, with what it will cost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutgoingSms {
    pub text: String,
    pub size: SmsSize,
}

impl OutgoingSms {
    pub fn new(text: &str) -> OutgoingSms {
        let text = fit_text(text);
        let size = SmsSize::of(&text);
        OutgoingSms { text, size }
    }
}

/// The reply to an alert once it is stored under `reference`.
pub fn reply_alert(report: &AlertReport, reference: &RefCode, taxonomy: &Taxonomy) -> SmsMsg {
    if report.is_empty() {
        return SmsMsg::ReplyAlertTypes { keywords: taxonomy.hint() };
    }
    match report.category.as_ref().and_then(|c| taxonomy.get(&c.code)) {
        Some(def) => SmsMsg::ReplyAlertReceived {
            reference: reference.to_string(),
            category: Label { fr: def.label_fr.clone(), en: def.label_en.clone() },
            place: report.place.as_ref().map(|p| p.name.clone()),
        },
        None => SmsMsg::ReplyAlertNoCategory { reference: reference.to_string(), keywords: taxonomy.hint() },
    }
}

/// The reply to a follow-up request, given what the caller found for this code *and this
/// sender* (`None` when nothing, or when it belongs to someone else).
pub fn reply_follow_up(written: &str, found: Option<(&RefCode, SmsStatus, Option<NaiveDate>)>) -> SmsMsg {
    match found {
        Some((r, status, since)) => SmsMsg::ReplyFollowUp { reference: r.to_string(), status, since },
        None if written.is_empty() => SmsMsg::ReplyFollowUpNoCode,
        None => SmsMsg::ReplyFollowUpUnknown { written: written.to_string() },
    }
}

/// The reply to an INFO once stored under `reference` (`None` when the text was empty and
/// nothing was stored).
pub fn reply_info(reference: Option<&RefCode>) -> SmsMsg {
    match reference {
        Some(r) => SmsMsg::ReplyInfoReceived { reference: r.to_string() },
        None => SmsMsg::ReplyInfoEmpty,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::area::AreaCode;

    fn every_reply() -> Vec<SmsMsg> {
        let t = Taxonomy::default();
        let r = "AB12-CD34".to_string();
        let long_label = Label {
            fr: "Conflit intercommunautaire ou foncier".into(),
            en: "Intercommunal or land conflict".into(),
        };
        vec![
            SmsMsg::ReplyHelp,
            SmsMsg::ReplyAlertTypes { keywords: t.hint() },
            SmsMsg::ReplyAlertReceived {
                reference: r.clone(),
                category: long_label.clone(),
                place: Some("Nioro du Sahel".into()),
            },
            SmsMsg::ReplyAlertReceived { reference: r.clone(), category: long_label, place: None },
            SmsMsg::ReplyAlertNoCategory { reference: r.clone(), keywords: t.hint() },
            SmsMsg::ReplyInfoReceived { reference: r.clone() },
            SmsMsg::ReplyInfoEmpty,
            SmsMsg::ReplyFollowUp {
                reference: r.clone(),
                status: SmsStatus::Escalated,
                since: NaiveDate::from_ymd_opt(2025, 5, 12),
            },
            SmsMsg::ReplyFollowUp { reference: r.clone(), status: SmsStatus::Closed, since: None },
            SmsMsg::ReplyFollowUpUnknown { written: "X".repeat(200) },
            SmsMsg::ReplyFollowUpNoCode,
            SmsMsg::ReplyStopped,
            SmsMsg::ReplyNotUnderstood,
            SmsMsg::ReplyUnknownSender,
        ]
    }

    #[test]
    fn every_reply_is_one_gsm7_sms_in_both_languages() {
        for m in every_reply() {
            for lang in [Lang::Fr, Lang::En] {
                let out = m.sms(lang);
                assert_eq!(out.size.encoding, SmsEncoding::Gsm7, "{m:?} {lang:?}: {}", out.text);
                assert!(out.size.units <= 160, "{m:?} {lang:?}: {} septets: {}", out.size.units, out.text);
                assert!(out.size.is_single());
            }
        }
    }

    #[test]
    fn french_keeps_the_accents_gsm7_has() {
        let r = RefCode::parse("AB12CD34").unwrap();
        let t = Taxonomy::default();
        let places = Gazetteer::new(
            vec![crate::early_warning::PlaceEntry {
                area: AreaCode::parse("ML0402").unwrap(),
                path: crate::area::AreaPath("ML/ML-4/ML0402".into()),
                name: "Ségou".into(),
            }],
            &[],
        );
        let SmsCommand::Alert(a) = parse("alerte enlèvement segou deux commerçants", &t, &places) else {
            panic!()
        };
        let out = reply_alert(&a, &r, &t).sms(Lang::Fr);
        // é, è, à are GSM-7 and stay; ç is not (only Ç is) and becomes c: one 160-septet SMS.
        assert_eq!(
            out.text,
            "Vigie: alerte Enlèvement à Ségou recue. Réf AB12-CD34. Merci. Pour suivre: SUIVI AB12-CD34"
        );
        assert_eq!(out.size.encoding, SmsEncoding::Gsm7);
        let status =
            SmsMsg::ReplyFollowUp { reference: r.to_string(), status: SmsStatus::Closed, since: None };
        assert_eq!(status.text(Lang::Fr), "Vigie: réf AB12-CD34: clôturée.");
        assert_eq!(status.sms(Lang::Fr).text, "Vigie: réf AB12-CD34: cloturée.", "ô is not GSM-7, é is");
        assert_eq!(status.text(Lang::En), "Vigie: ref AB12-CD34: closed.");
    }

    #[test]
    fn reply_builders_follow_the_outcome() {
        let r = RefCode::parse("AB12CD34").unwrap();
        let t = Taxonomy::default();
        let g = Gazetteer::default();
        let alert = |s: &str| match parse(s, &t, &g) {
            SmsCommand::Alert(a) => a,
            o => panic!("{o:?}"),
        };
        assert_eq!(reply_alert(&alert("ALERTE"), &r, &t), SmsMsg::ReplyAlertTypes { keywords: t.hint() });
        assert_eq!(
            reply_alert(&alert("ALERTE vol de bétail"), &r, &t),
            SmsMsg::ReplyAlertNoCategory { reference: "AB12-CD34".into(), keywords: t.hint() }
        );
        let m = reply_alert(&alert("ALERTE VBG Koro"), &r, &t);
        assert!(matches!(&m, SmsMsg::ReplyAlertReceived { place: None, .. }), "{m:?}");
        assert!(m.text(Lang::Fr).contains("lieu non reconnu"));
        assert!(m.text(Lang::Fr).contains("Violence basée sur le genre"));
        assert!(m.text(Lang::En).contains("Gender-based violence"));
        assert_eq!(reply_follow_up("", None), SmsMsg::ReplyFollowUpNoCode);
        assert_eq!(reply_follow_up("ZZ", None), SmsMsg::ReplyFollowUpUnknown { written: "ZZ".into() });
        assert_eq!(
            reply_follow_up("AB12-CD34", Some((&r, SmsStatus::Responding, None))).text(Lang::Fr),
            "Vigie: réf AB12-CD34: intervention en cours."
        );
        assert_eq!(reply_info(None), SmsMsg::ReplyInfoEmpty);
        assert_eq!(
            reply_info(Some(&r)).text(Lang::En),
            "Vigie: information received, thank you. Ref AB12-CD34."
        );
    }

    #[test]
    fn every_message_has_both_languages() {
        let others = vec![
            SmsMsg::InvalidRefCode,
        ];
        for m in others.into_iter().chain(every_reply()) {
            let (fr, en) = (m.text(Lang::Fr), m.text(Lang::En));
            assert!(!fr.is_empty() && !en.is_empty(), "{m:?}");
            assert_ne!(fr, en, "{m:?} is not translated");
        }
    }
}
