//! ODK and OpenRosa, pure parts: reading the XForms that pyxform makes from Vigie's XLSForms,
//! checking the submissions ODK Collect posts against them, writing the OpenRosa documents the
//! app asks for (form list, manifest, responses), and turning submissions into Vigie records and
//! export tables. Focal points without network fill forms offline; what they send days later
//! must be read exactly, and nothing in it may reach the parser's worst paths (entities, depth).
//!
//! Flow for the server: at upload, `XForm::parse(bytes)` (keep the bytes: they are what the
//! phone downloads, and their MD5 is the form's hash) → `form_list`/`manifest` for
//! `GET /formList` and the manifest → at `POST /submission`, `Submission::parse(xml, &form)` on
//! the `xml_submission_file` part, checking the other parts' names against
//! `submission.attachments` → `mapping::incident_report` or `mapping::tally` →
//! `response(Nature::SubmitSuccess, …)`.

pub mod mapping;
pub mod submission;
pub mod xform;
pub mod xml_out;
mod xml;

pub use mapping::{incident_report, tally, ChoiceCounts, IncidentFields, IncidentReport, QuestionTally};
pub use submission::{export_tables, AttachmentRef, Entry, GeoPoint, Record, Submission, Table, Value};
pub use xform::{Choice, Field, FieldKind, Label, Required, XForm};
pub use xml::Limits;
pub use xml_out::{form_list, manifest, md5_hash, response, FormListEntry, MediaFileEntry, Nature};

use crate::Lang;
use serde::Serialize;

/// Something wrong (or worth a look) at a place in a form or a submission. `path` is the XPath
/// of the node (`/data/lieu/position`), empty for the document as a whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpenRosaInvalid {
    pub path: String,
    pub msg: OpenRosaMsg,
}

impl OpenRosaInvalid {
    pub fn new(path: impl Into<String>, msg: OpenRosaMsg) -> Self {
        OpenRosaInvalid { path: path.into(), msg }
    }
    /// For the document as a whole.
    pub fn doc(msg: OpenRosaMsg) -> Self {
        OpenRosaInvalid { path: String::new(), msg }
    }
}

impl From<OpenRosaInvalid> for crate::Invalid {
    fn from(e: OpenRosaInvalid) -> crate::Invalid {
        crate::Invalid::new(e.path, e.msg.into())
    }
}

/// Every message of the ODK flow a person can read, French first. An admin reads the form
/// errors when uploading a form; a focal point may read submission errors in Collect, which
/// shows the OpenRosa response's message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "key", content = "args", rename_all = "snake_case")]
pub enum OpenRosaMsg {
    // Any XML document
    TooLarge { max_bytes: usize },
    TooDeep { max: usize },
    TooManyElements { max: usize },
    NotUtf8,
    UnsupportedEncoding { encoding: String },
    DtdForbidden,
    UnknownEntity { name: String },
    MalformedXml { line: usize, reason: String },
    // Forms
    NotAnXForm { missing: String },
    MissingFormId,
    InvalidFormId { given: String },
    // Submissions
    WrongRoot { expected: String, found: String },
    WrongFormId { expected: String, found: String },
    WrongVersion { expected: String, found: String },
    EncryptedNotSupported,
    MissingInstanceId,
    InvalidInstanceId,
    DuplicateField { name: String },
    UnknownElement { name: String },
    TypeMismatch { expected: String, given: String },
    GeopointOutOfRange { given: String },
    UnknownChoice { value: String },
    InvalidAttachmentName { name: String },
    RequiredEmpty,
    // Mapping
    MissingField { name: String },
    NoEventDate,
}

impl OpenRosaMsg {
    pub fn text(&self, lang: Lang) -> String {
        use OpenRosaMsg::*;
        let fr = lang == Lang::Fr;
        let pick = |f: String, e: String| if fr { f } else { e };
        let s = |f: &str, e: &str| if fr { f.to_string() } else { e.to_string() };
        match self {
            TooLarge { max_bytes } => pick(
                format!("Document XML trop volumineux : {max_bytes} octets au plus."),
                format!("XML document too large: at most {max_bytes} bytes."),
            ),
            TooDeep { max } => pick(
                format!("Document XML trop imbriqué : {max} niveaux au plus."),
                format!("XML document nested too deep: at most {max} levels."),
            ),
            TooManyElements { max } => pick(
                format!("Document XML trop long : {max} éléments au plus."),
                format!("XML document too long: at most {max} elements."),
            ),
            NotUtf8 => s("Le document XML n'est pas en UTF-8.", "The XML document is not UTF-8."),
            UnsupportedEncoding { encoding } => pick(
                format!("Encodage « {encoding} » non pris en charge : UTF-8 attendu."),
                format!("Encoding \"{encoding}\" not supported: UTF-8 expected."),
            ),
            DtdForbidden => s(
                "Les déclarations DOCTYPE et ENTITY sont refusées.",
                "DOCTYPE and ENTITY declarations are refused.",
            ),
            UnknownEntity { name } => pick(
                format!("Entité XML inconnue : « &{name}; »."),
                format!("Unknown XML entity: \"&{name};\"."),
            ),
            MalformedXml { line, reason } => pick(
                format!("XML mal formé, ligne {line} : {reason}"),
                format!("Malformed XML, line {line}: {reason}"),
            ),
            NotAnXForm { missing } => pick(
                format!("Ce n'est pas un formulaire XForm : « {missing} » manque."),
                format!("Not an XForm: \"{missing}\" is missing."),
            ),
            MissingFormId => s(
                "Le formulaire n'a pas d'identifiant (attribut id de la racine de l'instance, form_id dans le XLSForm).",
                "The form has no id (id attribute of the instance root, form_id in the XLSForm).",
            ),
            InvalidFormId { given } => pick(
                format!("Identifiant de formulaire invalide : « {given} » (lettres, chiffres, « _ », « - », « . », 64 au plus)."),
                format!("Invalid form id: \"{given}\" (letters, digits, \"_\", \"-\", \".\", at most 64)."),
            ),
            WrongRoot { expected, found } => pick(
                format!("Soumission inattendue : racine « {found} » au lieu de « {expected} »."),
                format!("Unexpected submission: root \"{found}\" instead of \"{expected}\"."),
            ),
            WrongFormId { expected, found } => pick(
                format!("Cette soumission est pour le formulaire « {found} », pas « {expected} »."),
                format!("This submission is for form \"{found}\", not \"{expected}\"."),
            ),
            WrongVersion { expected, found } => pick(
                format!("Version de formulaire « {found} » au lieu de « {expected} » : mettez le formulaire à jour sur le téléphone."),
                format!("Form version \"{found}\" instead of \"{expected}\": update the form on the phone."),
            ),
            EncryptedNotSupported => s(
                "Les soumissions chiffrées ne sont pas encore prises en charge.",
                "Encrypted submissions are not supported yet.",
            ),
            MissingInstanceId => s(
                "Identifiant de soumission (meta/instanceID) manquant.",
                "Submission id (meta/instanceID) missing.",
            ),
            InvalidInstanceId => s(
                "Identifiant de soumission invalide : 1 à 128 caractères ASCII visibles.",
                "Invalid submission id: 1 to 128 visible ASCII characters.",
            ),
            DuplicateField { name } => pick(
                format!("Le champ « {name} » apparaît deux fois."),
                format!("Field \"{name}\" appears twice."),
            ),
            UnknownElement { name } => pick(
                format!("Élément « {name} » absent du formulaire : conservé tel quel."),
                format!("Element \"{name}\" is not in the form: kept as is."),
            ),
            TypeMismatch { expected, given } => pick(
                format!("Valeur « {given} » invalide : {} attendu.", type_words(expected, Lang::Fr)),
                format!("Invalid value \"{given}\": {} expected.", type_words(expected, Lang::En)),
            ),
            GeopointOutOfRange { given } => pick(
                format!("Position « {given} » invalide : latitude entre -90 et 90, longitude entre -180 et 180."),
                format!("Invalid position \"{given}\": latitude between -90 and 90, longitude between -180 and 180."),
            ),
            UnknownChoice { value } => pick(
                format!("Choix « {value} » absent de la liste du formulaire."),
                format!("Choice \"{value}\" is not in the form's list."),
            ),
            InvalidAttachmentName { name } => pick(
                format!("Nom de fichier joint invalide : « {name} » (un nom simple, sans dossier)."),
                format!("Invalid attachment name: \"{name}\" (a plain name, no folder)."),
            ),
            RequiredEmpty => s(
                "Champ obligatoire vide (peut-être non pertinent).",
                "Required field is empty (perhaps not relevant).",
            ),
            MissingField { name } => pick(
                format!("Le formulaire n'a pas de champ « {name} »."),
                format!("The form has no field \"{name}\"."),
            ),
            NoEventDate => s(
                "Ni date des faits ni heure de fin dans la soumission.",
                "Neither an event date nor an end time in the submission.",
            ),
        }
    }
}

/// The XForm type names, as a person says them.
fn type_words(xform_type: &str, lang: Lang) -> &'static str {
    let fr = lang == Lang::Fr;
    match (xform_type, fr) {
        ("int", true) => "un nombre entier",
        ("int", false) => "a whole number",
        ("decimal", true) => "un nombre",
        ("decimal", false) => "a number",
        ("date", true) => "une date (AAAA-MM-JJ)",
        ("date", false) => "a date (YYYY-MM-DD)",
        ("dateTime", true) => "une date et heure",
        ("dateTime", false) => "a date and time",
        ("time", true) => "une heure",
        ("time", false) => "a time",
        ("boolean", true) => "vrai ou faux",
        ("boolean", false) => "true or false",
        ("geopoint", true) => "une position « latitude longitude »",
        ("geopoint", false) => "a \"latitude longitude\" position",
        ("geotrace" | "geoshape", true) => "une suite de positions",
        ("geotrace" | "geoshape", false) => "a list of positions",
        ("select", true) => "des choix séparés par des espaces",
        ("select", false) => "choices separated by spaces",
        (_, true) => "une valeur simple",
        (_, false) => "a plain value",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Msg;

    #[test]
    fn messages_travel_as_msg_in_both_languages() {
        let m = OpenRosaMsg::WrongFormId { expected: "vigie_incident".into(), found: "autre".into() };
        assert_eq!(Msg::from(m.clone()).text(Lang::Fr), m.text(Lang::Fr));
        assert!(m.text(Lang::Fr).contains("formulaire"));
        assert!(m.text(Lang::En).contains("form"));
        let t = OpenRosaMsg::TypeMismatch { expected: "int".into(), given: "douze".into() };
        assert!(t.text(Lang::Fr).contains("nombre entier"), "{}", t.text(Lang::Fr));
        assert!(t.text(Lang::En).contains("whole number"));
        assert_eq!(
            serde_json::to_value(Msg::from(OpenRosaMsg::DtdForbidden)).unwrap(),
            serde_json::json!({"key": "open_rosa", "args": {"key": "dtd_forbidden"}})
        );
    }
}
