//! One translation catalogue for every message a person can read: French first, English second.
//! A message is an enum variant, so a missing translation is a compile error, not a blank.

use crate::early_warning::EwMsg;
use crate::framework::FrameworkMsg;
use crate::openrosa::OpenRosaMsg;
use crate::sms::SmsMsg;
use crate::cases::CaseMsg;
use crate::governance::GovMsg;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Fr,
    En,
}

impl Lang {
    /// Reads `fr`, `en`, `fr_ML.UTF-8`, `en-GB,en;q=0.9`…; anything else is French.
    pub fn parse(tag: &str) -> Lang {
        let first = tag
            .split([',', ';'])
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if first.starts_with("en") {
            Lang::En
        } else {
            Lang::Fr
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }
}

/// Every user-facing message. Parameters are filled in by `Msg::text`. The early-warning, SMS,
/// programme and ODK modules keep their own catalogues (`EwMsg`, `SmsMsg`, `FrameworkMsg`,
/// `OpenRosaMsg`), which travel as `Msg` through `Ew`, `Sms`, `Framework` and `OpenRosa`
/// (`Msg::from(m)` or `m.into()`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "key", content = "args", rename_all = "snake_case")]
pub enum Msg {
    Required,
    TooLong { max: usize },
    InvalidAreaCode,
    InvalidAreaLevel,
    UnknownArea { code: String },
    ParentLevelMismatch { parent: String },
    AreaParentMissing { code: String },
    AreaCycle,
    InvalidCoordinate,
    InvalidGeometry,
    InvalidTag,
    DuplicateInFile { code: String, first_line: usize },
    InvalidCsv { reason: String },
    InvalidUtf8,
    InvalidJson { reason: String },
    UnknownPermission { name: String },
    UnknownRole { name: String },
    RoleExists { name: String },
    BuiltinRoleReadOnly,
    InvalidName,
    InvalidUsername,
    UsernameTaken,
    PasswordTooShort { min: usize },
    PasswordTooWeak,
    InvalidOrgKind,
    UnknownOrganisation,
    InvalidPeriod,
    InvalidTotp,
    // Phone numbers
    PhoneEmpty,
    PhoneBadCharacter,
    PhoneNeedsCountryCode { digits: usize },
    PhoneMaliLength { digits: usize },
    PhoneLength { digits: usize },
    PhoneBadCountryCode,
    // Access
    NotAuthenticated,
    TokenExpired,
    BadCredentials,
    AccountLocked { minutes: i64 },
    Forbidden,
    OutsideArea,
    CsrfMissing,
    // Generic HTTP
    NotFound,
    BodyTooLarge { max_bytes: usize },
    UnsupportedMediaType,
    Conflict,
    RateLimited,
    Internal,
    DatabaseUnavailable,
    // Module catalogues
    // Boxed: they are larger than the rest of `Msg`, which travels in every `Invalid`
    // and `LineError`; and `FrameworkMsg::Common` holds a `Msg`.
    Ew(Box<EwMsg>),
    Sms(Box<SmsMsg>),
    Framework(Box<FrameworkMsg>),
    OpenRosa(Box<OpenRosaMsg>),
    Case(Box<CaseMsg>),
    Governance(Box<GovMsg>),
}

impl From<EwMsg> for Msg {
    fn from(m: EwMsg) -> Msg {
        Msg::Ew(Box::new(m))
    }
}
impl From<SmsMsg> for Msg {
    fn from(m: SmsMsg) -> Msg {
        Msg::Sms(Box::new(m))
    }
}
impl From<OpenRosaMsg> for Msg {
    fn from(m: OpenRosaMsg) -> Msg {
        Msg::OpenRosa(Box::new(m))
    }
}
impl From<CaseMsg> for Msg {
    fn from(m: CaseMsg) -> Msg {
        Msg::Case(Box::new(m))
    }
}
impl From<GovMsg> for Msg {
    fn from(m: GovMsg) -> Msg {
        Msg::Governance(Box::new(m))
    }
}
/// A `FrameworkMsg::Common` comes back as the `Msg` it wraps.
impl From<FrameworkMsg> for Msg {
    fn from(m: FrameworkMsg) -> Msg {
        match m {
            FrameworkMsg::Common(m) => m,
            m => Msg::Framework(Box::new(m)),
        }
    }
}

impl Msg {
    pub fn text(&self, lang: Lang) -> String {
        use Msg::*;
        let fr = lang == Lang::Fr;
        let pick = |f: &str, e: &str| if fr { f.to_string() } else { e.to_string() };
        match self {
            Required => pick("Ce champ est obligatoire.", "This field is required."),
            TooLong { max } => pick(
                &format!("Trop long : {max} caractères au plus."),
                &format!("Too long: at most {max} characters."),
            ),
            InvalidAreaCode => pick(
                "Code de zone invalide : lettres majuscules, chiffres et tirets seulement (32 au plus).",
                "Invalid area code: capital letters, digits and hyphens only (at most 32).",
            ),
            InvalidAreaLevel => pick(
                "Niveau invalide : country, region, cercle, commune ou village.",
                "Invalid level: country, region, cercle, commune or village.",
            ),
            UnknownArea { code } => pick(
                &format!("Zone inconnue : « {code} »."),
                &format!("Unknown area: \"{code}\"."),
            ),
            ParentLevelMismatch { parent } => pick(
                &format!("Le parent « {parent} » n'est pas d'un niveau supérieur."),
                &format!("Parent \"{parent}\" is not of a higher level."),
            ),
            AreaParentMissing { code } => pick(
                &format!("Parent « {code} » introuvable (ni en base ni dans le fichier)."),
                &format!("Parent \"{code}\" not found (neither in the database nor in the file)."),
            ),
            AreaCycle => pick(
                "Une zone ne peut pas être son propre ancêtre.",
                "An area cannot be its own ancestor.",
            ),
            InvalidCoordinate => pick(
                "Coordonnées invalides : latitude entre -90 et 90, longitude entre -180 et 180.",
                "Invalid coordinates: latitude between -90 and 90, longitude between -180 and 180.",
            ),
            InvalidGeometry => pick(
                "Géométrie invalide : Point, Polygon ou MultiPolygon GeoJSON attendu.",
                "Invalid geometry: a GeoJSON Point, Polygon or MultiPolygon is expected.",
            ),
            InvalidTag => pick(
                "Étiquette invalide : lettres, chiffres, espaces, tirets (64 au plus).",
                "Invalid tag: letters, digits, spaces, hyphens (at most 64).",
            ),
            DuplicateInFile { code, first_line } => pick(
                &format!("Code « {code} » en double (déjà à la ligne {first_line})."),
                &format!("Duplicate code \"{code}\" (already on line {first_line})."),
            ),
            InvalidCsv { reason } => pick(
                &format!("CSV illisible : {reason}"),
                &format!("Unreadable CSV: {reason}"),
            ),
            InvalidUtf8 => pick(
                "Le texte n'est pas en UTF-8 valide.",
                "The text is not valid UTF-8.",
            ),
            InvalidJson { reason } => pick(
                &format!("JSON invalide : {reason}"),
                &format!("Invalid JSON: {reason}"),
            ),
            UnknownPermission { name } => pick(
                &format!("Permission inconnue : « {name} »."),
                &format!("Unknown permission: \"{name}\"."),
            ),
            UnknownRole { name } => pick(
                &format!("Rôle inconnu : « {name} »."),
                &format!("Unknown role: \"{name}\"."),
            ),
            RoleExists { name } => pick(
                &format!("Le rôle « {name} » existe déjà."),
                &format!("Role \"{name}\" already exists."),
            ),
            BuiltinRoleReadOnly => pick(
                "Les rôles fournis avec Vigie ne se modifient pas ; créez-en un nouveau.",
                "Built-in roles cannot be changed; create a new one.",
            ),
            InvalidName => pick(
                "Nom invalide : 1 à 200 caractères, sans caractères de contrôle.",
                "Invalid name: 1 to 200 characters, no control characters.",
            ),
            InvalidUsername => pick(
                "Identifiant invalide : 3 à 64 caractères parmi a-z, 0-9, point, tiret, souligné.",
                "Invalid username: 3 to 64 characters among a-z, 0-9, dot, hyphen, underscore.",
            ),
            UsernameTaken => pick("Cet identifiant est déjà pris.", "This username is taken."),
            PasswordTooShort { min } => pick(
                &format!("Mot de passe trop court : {min} caractères au moins."),
                &format!("Password too short: at least {min} characters."),
            ),
            PasswordTooWeak => pick(
                "Mot de passe trop faible : évitez les mots de passe courants et l'identifiant.",
                "Password too weak: avoid common passwords and the username.",
            ),
            InvalidOrgKind => pick("Type d'institution inconnu.", "Unknown institution type."),
            UnknownOrganisation => pick("Institution inconnue.", "Unknown institution."),
            InvalidPeriod => pick("Période invalide.", "Invalid period."),
            InvalidTotp => pick(
                "Code à usage unique invalide.",
                "Invalid one-time code.",
            ),
            PhoneEmpty => pick("Numéro de téléphone manquant.", "Phone number missing."),
            PhoneBadCharacter => pick(
                "Numéro invalide : seuls les chiffres, espaces, tirets, points et un + initial sont permis.",
                "Invalid number: only digits, spaces, hyphens, dots and a leading + are allowed.",
            ),
            PhoneNeedsCountryCode { digits } => pick(
                &format!("Numéro de {digits} chiffres : un numéro malien en a 8 ; pour un autre pays, commencez par + et l'indicatif."),
                &format!("A {digits}-digit number: a Malian number has 8; for another country, start with + and the country code."),
            ),
            PhoneMaliLength { digits } => pick(
                &format!("Numéro malien invalide : 8 chiffres attendus, ne commençant ni par 0 ni par 1 ({digits} reçus)."),
                &format!("Invalid Malian number: 8 digits expected, not starting with 0 or 1 ({digits} given)."),
            ),
            PhoneLength { digits } => pick(
                &format!("Numéro international invalide : 8 à 15 chiffres attendus avec l'indicatif ({digits} reçus)."),
                &format!("Invalid international number: 8 to 15 digits expected with the country code ({digits} given)."),
            ),
            PhoneBadCountryCode => pick("Indicatif de pays invalide.", "Invalid country code."),
            NotAuthenticated => pick(
                "Authentification requise : connectez-vous ou fournissez un jeton d'API.",
                "Authentication required: sign in or provide an API token.",
            ),
            TokenExpired => pick(
                "Jeton ou session expiré : reconnectez-vous.",
                "Token or session expired: sign in again.",
            ),
            BadCredentials => pick(
                "Identifiant ou mot de passe incorrect.",
                "Wrong username or password.",
            ),
            AccountLocked { minutes } => pick(
                &format!("Trop d'essais : compte bloqué pendant {minutes} min."),
                &format!("Too many attempts: account locked for {minutes} min."),
            ),
            Forbidden => pick(
                "Votre rôle ne permet pas cette action.",
                "Your role does not allow this action.",
            ),
            OutsideArea => pick(
                "Cette donnée est hors de votre zone de compétence.",
                "This record is outside your area.",
            ),
            CsrfMissing => pick(
                "Jeton anti-CSRF absent ou invalide.",
                "Missing or invalid CSRF token.",
            ),
            NotFound => pick("Introuvable.", "Not found."),
            BodyTooLarge { max_bytes } => pick(
                &format!("Requête trop volumineuse : {max_bytes} octets au plus."),
                &format!("Request too large: at most {max_bytes} bytes."),
            ),
            UnsupportedMediaType => pick(
                "Type de contenu non pris en charge : envoyez application/json.",
                "Unsupported content type: send application/json.",
            ),
            Conflict => pick(
                "Conflit avec une donnée existante.",
                "Conflict with an existing record.",
            ),
            RateLimited => pick(
                "Trop de requêtes : réessayez plus tard.",
                "Too many requests: try again later.",
            ),
            Internal => pick(
                "Erreur interne ; rien n'a été enregistré. L'incident est journalisé.",
                "Internal error; nothing was saved. The incident is logged.",
            ),
            DatabaseUnavailable => pick(
                "Base de données injoignable.",
                "Database unreachable.",
            ),
            Ew(m) => m.text(lang),
            Sms(m) => m.text(lang),
            Framework(m) => m.text(lang),
            OpenRosa(m) => m.text(lang),
            Case(m) => m.text(lang),
            Governance(m) => m.text(lang),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_language_tags() {
        assert_eq!(Lang::parse("en-GB,en;q=0.9"), Lang::En);
        assert_eq!(Lang::parse("fr_ML.UTF-8"), Lang::Fr);
        assert_eq!(Lang::parse(""), Lang::Fr);
        assert_eq!(Lang::parse("EN"), Lang::En);
    }

    #[test]
    fn messages_differ_by_language() {
        let m = Msg::UnknownArea { code: "ML-99".into() };
        assert!(m.text(Lang::Fr).contains("Zone inconnue"));
        assert!(m.text(Lang::En).contains("Unknown area"));
    }

    #[test]
    fn module_messages_travel_as_msg() {
        let ew = EwMsg::NoEscalationRule;
        assert_eq!(Msg::from(ew.clone()).text(Lang::Fr), ew.text(Lang::Fr));
        let sms = SmsMsg::ReplyHelp;
        assert_eq!(Msg::from(sms.clone()).text(Lang::En), sms.text(Lang::En));
        let fw = FrameworkMsg::MissingColumn { name: "code".into() };
        let m: Msg = fw.clone().into();
        assert_eq!(m, Msg::Framework(Box::new(fw.clone())));
        assert_eq!(m.text(Lang::Fr), fw.text(Lang::Fr));
        assert_eq!(Msg::from(FrameworkMsg::Common(Msg::Required)), Msg::Required);
        let case = CaseMsg::ReceiptUnknown;
        assert_eq!(Msg::from(case.clone()).text(Lang::En), case.text(Lang::En));
        assert_eq!(
            serde_json::to_value(Msg::from(EwMsg::InvalidPeriod)).unwrap(),
            serde_json::json!({"key": "ew", "args": {"key": "invalid_period"}})
        );
    }

    #[test]
    fn phone_messages_have_both_languages() {
        for m in [
            Msg::PhoneEmpty,
            Msg::PhoneBadCharacter,
            Msg::PhoneNeedsCountryCode { digits: 10 },
            Msg::PhoneMaliLength { digits: 7 },
            Msg::PhoneLength { digits: 16 },
            Msg::PhoneBadCountryCode,
        ] {
            let (fr, en) = (m.text(Lang::Fr), m.text(Lang::En));
            assert!(!fr.is_empty() && !en.is_empty(), "{m:?}");
            assert_ne!(fr, en, "{m:?} is not translated");
        }
    }
}
