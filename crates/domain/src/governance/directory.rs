//! The directory of resource persons (mediators, experts, women and youth leaders) that
//! institutions can call on. Nothing is published without the person's explicit consent,
//! recorded with its date and how it was given; each field's visibility is the person's
//! choice; consent can be withdrawn, and the entry then leaves every public view and export.
//!
//! Who sees what is decided here, once ([`visible_fields`]): the public sees public fields
//! of consented, published entries; partners (signed-in institutions) also see fields meant
//! for partners; the directory's managers see everything, to keep it up to date.

use super::{inv, AgeGroup, GovMsg, Sex};
use crate::area::{parse_name, AreaCode};
use crate::phone::Phone;
use crate::Invalid;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

code_enum!(
    /// What a resource person can be called on for.
    Expertise, UnknownExpertise, {
    Mediation = "mediation" : "Médiation" / "Mediation" ["mediateur", "mediatrice"],
    Gender = "gender" : "Genre" / "Gender" ["genre_et_inclusion"],
    HumanRights = "human_rights" : "Droits humains" / "Human rights" ["droits_de_l_homme", "droits_de_lhomme", "dh"],
    SecuritySector = "security_sector" : "Secteur de la sécurité" / "Security sector" ["rss", "ssr", "securite"],
    Languages = "languages" : "Langues (interprétariat)" / "Languages (interpreting)" ["langues", "interpretariat", "interpreting"],
});

code_enum!(
    /// Who may see one field of an entry, as the person chose.
    Visibility, UnknownVisibility, {
    Public = "public" : "Public" / "Public" ["tous"],
    Partners = "partners" : "Partenaires seulement" / "Partners only" ["partenaires", "partner"],
    Hidden = "hidden" : "Masqué" / "Hidden" ["masque", "cache", "prive"],
});

code_enum!(
    /// How consent was given.
    ConsentMethod, UnknownConsentMethod, {
    Written = "written" : "Formulaire écrit signé" / "Signed written form" ["ecrit", "signe"],
    Oral = "oral" : "Oral, devant témoin" / "Oral, before a witness" ["verbal"],
    Sms = "sms" : "Par SMS" / "By SMS" [],
    Form = "form" : "Formulaire en ligne" / "Online form" ["formulaire", "en_ligne"],
});

/// The person's explicit consent to be listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    pub given_on: NaiveDate,
    pub method: ConsentMethod,
}

/// Each field's visibility, chosen by the person. By default contacts stay hidden and the
/// name and organisation are for partners only: more is shown only when the person says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldVisibility {
    pub name: Visibility,
    pub organisation: Visibility,
    pub phone: Visibility,
    pub email: Visibility,
}

impl Default for FieldVisibility {
    fn default() -> Self {
        FieldVisibility { name: Visibility::Partners, organisation: Visibility::Partners, phone: Visibility::Hidden, email: Visibility::Hidden }
    }
}

/// Who is looking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Audience {
    /// Anyone, without an account.
    Public,
    /// A signed-in institution holding `directory.read`.
    Partner,
    /// A manager of the directory (`directory.write` over the entry's area).
    Manager,
}

/// Whether `audience` may see a field of visibility `v`.
pub fn may_see(v: Visibility, audience: Audience) -> bool {
    match audience {
        Audience::Manager => true,
        Audience::Partner => v != Visibility::Hidden,
        Audience::Public => v == Visibility::Public,
    }
}

/// What a non-manager may see of an entry at all: published, consented, not withdrawn.
pub fn is_listed(published: bool, consent: Option<&Consent>, withdrawn_on: Option<NaiveDate>) -> bool {
    published && consent.is_some() && withdrawn_on.is_none()
}

/// Which of the four optional fields `audience` sees (name, organisation, phone, email).
pub fn visible_fields(v: &FieldVisibility, audience: Audience) -> [bool; 4] {
    [may_see(v.name, audience), may_see(v.organisation, audience), may_see(v.phone, audience), may_see(v.email, audience)]
}

/// A plausible email address: one `@`, a local part, a dotted domain, no spaces; 254 at most.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Email, GovMsg> {
        let e = raw.trim();
        let Some((local, domain)) = e.split_once('@') else { return Err(GovMsg::InvalidEmail) };
        let ok = e.len() <= 254
            && !local.is_empty()
            && local.len() <= 64
            && !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with(['.', '-'])
            && !domain.ends_with(['.', '-'])
            && !domain.contains("..")
            && domain.chars().all(|c| c.is_alphanumeric() || c == '.' || c == '-')
            && local.chars().all(|c| !c.is_whitespace() && !c.is_control() && !"<>()[],;:\"\\".contains(c));
        if ok {
            Ok(Email(format!("{local}@{}", domain.to_lowercase())))
        } else {
            Err(GovMsg::InvalidEmail)
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A language a person works in, as a lowercase word ("bambara", "fulfulde", "tamasheq").
pub fn parse_language(raw: &str) -> Result<String, GovMsg> {
    let f = crate::text::fold(raw);
    let ok = (2..=40).contains(&f.chars().count()) && f.chars().all(|c| c.is_alphabetic() || c == ' ');
    if ok {
        Ok(f)
    } else {
        Err(GovMsg::InvalidLanguage { text: raw.trim().to_string() })
    }
}

/// A directory entry, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryInput {
    pub full_name: String,
    pub sex: Sex,
    pub age_group: AgeGroup,
    pub organisation: Option<String>,
    pub area: AreaCode,
    pub expertise: Vec<Expertise>,
    pub languages: Vec<String>,
    pub phone: Option<Phone>,
    pub email: Option<Email>,
    pub consent: Option<Consent>,
    pub visibility: FieldVisibility,
    /// Listed in the directory (only possible with consent).
    pub published: bool,
}

/// The raw text of an entry, as typed in a form, a JSON body or a spreadsheet row.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryText {
    pub full_name: String,
    pub sex: String,
    pub age_group: String,
    #[serde(default)]
    pub organisation: String,
    pub area_code: String,
    /// Codes separated by `;`, `,` or `|`.
    pub expertise: String,
    #[serde(default)]
    pub languages: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub email: String,
    /// Date consent was given (empty: none yet).
    #[serde(default)]
    pub consent_on: String,
    #[serde(default)]
    pub consent_method: String,
    #[serde(default)]
    pub visibility_name: String,
    #[serde(default)]
    pub visibility_organisation: String,
    #[serde(default)]
    pub visibility_phone: String,
    #[serde(default)]
    pub visibility_email: String,
    #[serde(default)]
    pub published: bool,
}

fn split_list(raw: &str) -> impl Iterator<Item = &str> {
    raw.split([';', ',', '|']).map(str::trim).filter(|s| !s.is_empty())
}

impl EntryText {
    /// Every problem at once, each naming its field.
    pub fn parse(&self, today: NaiveDate) -> Result<EntryInput, Vec<Invalid>> {
        let mut errs: Vec<Invalid> = Vec::new();
        let full_name = parse_name(&self.full_name).map_err(|m| errs.push(Invalid::new("full_name", m))).ok();
        let sex = Sex::parse(&self.sex).map_err(|m| errs.push(inv("sex", m))).ok();
        let age_group = AgeGroup::parse(&self.age_group).map_err(|m| errs.push(inv("age_group", m))).ok();
        let organisation = super::parse_opt_text(&self.organisation, 200).map_err(|m| errs.push(Invalid::new("organisation", m))).ok().flatten();
        let area = AreaCode::parse(&self.area_code).map_err(|m| errs.push(Invalid::new("area_code", m))).ok();
        let mut expertise = Vec::new();
        for x in split_list(&self.expertise) {
            match Expertise::parse(x) {
                Ok(e) if !expertise.contains(&e) => expertise.push(e),
                Ok(_) => {}
                Err(m) => errs.push(inv("expertise", m)),
            }
        }
        if expertise.is_empty() && !errs.iter().any(|e| e.field == "expertise") {
            errs.push(inv("expertise", GovMsg::NoExpertise));
        }
        let mut languages = Vec::new();
        for l in split_list(&self.languages) {
            match parse_language(l) {
                Ok(l) if !languages.contains(&l) => languages.push(l),
                Ok(_) => {}
                Err(m) => errs.push(inv("languages", m)),
            }
        }
        let phone = if self.phone.trim().is_empty() { None } else { Phone::parse(&self.phone).map_err(|m| errs.push(Invalid::new("phone", m))).ok() };
        let email = if self.email.trim().is_empty() { None } else { Email::parse(&self.email).map_err(|m| errs.push(inv("email", m))).ok() };
        let consent = match (self.consent_on.trim(), self.consent_method.trim()) {
            ("", "") => None,
            (on, how) => {
                let on = super::parse_date(on).map_err(|m| errs.push(inv("consent_on", m))).ok();
                if on.is_some_and(|d| d > today) {
                    errs.push(inv("consent_on", GovMsg::ConsentInFuture));
                }
                let how = ConsentMethod::parse(how).map_err(|m| errs.push(inv("consent_method", m))).ok();
                on.zip(how).map(|(given_on, method)| Consent { given_on, method })
            }
        };
        let defaults = FieldVisibility::default();
        let mut vis = |raw: &str, field: &str, default: Visibility| {
            if raw.trim().is_empty() {
                default
            } else {
                Visibility::parse(raw).unwrap_or_else(|m| {
                    errs.push(inv(field, m));
                    default
                })
            }
        };
        let visibility = FieldVisibility {
            name: vis(&self.visibility_name, "visibility_name", defaults.name),
            organisation: vis(&self.visibility_organisation, "visibility_organisation", defaults.organisation),
            phone: vis(&self.visibility_phone, "visibility_phone", defaults.phone),
            email: vis(&self.visibility_email, "visibility_email", defaults.email),
        };
        if self.published && consent.is_none() && !errs.iter().any(|e| e.field.starts_with("consent")) {
            errs.push(inv("consent_on", GovMsg::ConsentRequired));
        }
        if !errs.is_empty() {
            return Err(errs);
        }
        Ok(EntryInput {
            full_name: full_name.unwrap(),
            sex: sex.unwrap(),
            age_group: age_group.unwrap(),
            organisation,
            area: area.unwrap(),
            expertise,
            languages,
            phone,
            email,
            consent,
            visibility,
            published: self.published,
        })
    }
}

/// Publishing an entry needs recorded consent that was not withdrawn.
pub fn check_publishable(consent: Option<&Consent>, withdrawn_on: Option<NaiveDate>) -> Result<(), Invalid> {
    if withdrawn_on.is_some() {
        return Err(inv("published", GovMsg::ConsentWithdrawn));
    }
    if consent.is_none() {
        return Err(inv("consent_on", GovMsg::ConsentRequired));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Msg;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    fn text() -> EntryText {
        EntryText {
            full_name: "Fatoumata Maïga".into(),
            sex: "F".into(),
            age_group: "jeune".into(),
            organisation: "Association des femmes de Koro".into(),
            area_code: "ML-5-KORO".into(),
            expertise: "mediation; gender".into(),
            languages: "Dogon, Fulfulde, français".into(),
            phone: "76 12 34 56".into(),
            email: "fatoumata@example.ml".into(),
            consent_on: "2026-10-02".into(),
            consent_method: "written".into(),
            visibility_name: "public".into(),
            visibility_organisation: "public".into(),
            visibility_phone: "partners".into(),
            visibility_email: "hidden".into(),
            published: true,
        }
    }

    #[test]
    fn a_full_entry_parses() {
        let e = text().parse(today()).unwrap();
        assert_eq!(e.expertise, vec![Expertise::Mediation, Expertise::Gender]);
        assert_eq!(e.languages, vec!["dogon", "fulfulde", "francais"]);
        assert_eq!(e.phone.unwrap().as_str(), "+22376123456");
        assert_eq!(e.visibility.email, Visibility::Hidden);
    }

    #[test]
    fn no_publication_without_consent() {
        let t = EntryText { consent_on: "".into(), consent_method: "".into(), ..text() };
        let errs = t.parse(today()).unwrap_err();
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].msg, Msg::from(GovMsg::ConsentRequired));
        assert!(errs[0].msg.text(crate::Lang::Fr).contains("consentement"));
        // Kept unpublished, it may be recorded (the person is still being asked).
        assert!(EntryText { published: false, ..t }.parse(today()).is_ok());
        assert!(check_publishable(None, None).is_err());
        let c = Consent { given_on: today(), method: ConsentMethod::Oral };
        assert!(check_publishable(Some(&c), Some(today())).is_err());
        assert!(check_publishable(Some(&c), None).is_ok());
    }

    #[test]
    fn contact_details_in_a_bad_format_are_refused_with_their_field() {
        let t = EntryText { phone: "76 12 34".into(), email: "fatoumata at example".into(), ..text() };
        let errs = t.parse(today()).unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["phone", "email"]);
        assert_eq!(errs[0].msg, Msg::PhoneNeedsCountryCode { digits: 6 });
        assert!(Email::parse("a@b").is_err());
        assert!(Email::parse("a b@c.ml").is_err());
        assert_eq!(Email::parse(" Awa@Mairie-Koro.ML ").unwrap().as_str(), "Awa@mairie-koro.ml");
    }

    #[test]
    fn each_audience_sees_only_what_the_person_chose() {
        let v = text().parse(today()).unwrap().visibility;
        assert_eq!(visible_fields(&v, Audience::Public), [true, true, false, false]);
        assert_eq!(visible_fields(&v, Audience::Partner), [true, true, true, false]);
        assert_eq!(visible_fields(&v, Audience::Manager), [true, true, true, true]);
        assert_eq!(visible_fields(&FieldVisibility::default(), Audience::Public), [false, false, false, false]);
        let c = Consent { given_on: today(), method: ConsentMethod::Written };
        assert!(is_listed(true, Some(&c), None));
        assert!(!is_listed(true, Some(&c), Some(today())));
        assert!(!is_listed(true, None, None));
        assert!(!is_listed(false, Some(&c), None));
    }

    #[test]
    fn unknown_codes_are_named() {
        let t = EntryText { expertise: "mediation, sorcellerie".into(), visibility_phone: "amis".into(), consent_method: "télépathie".into(), ..text() };
        let errs = t.parse(today()).unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["expertise", "consent_method", "visibility_phone"]);
        let future = EntryText { consent_on: "2027-01-01".into(), ..text() };
        assert_eq!(future.parse(today()).unwrap_err()[0].msg, Msg::from(GovMsg::ConsentInFuture));
    }
}
