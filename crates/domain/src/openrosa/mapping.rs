//! From submissions to Vigie records: an incident form becomes an early-warning `ReportInput`
//! (then validated like any other channel's), and perception surveys become per-question
//! counts, by area, for the M&E officer's indicators.

use super::submission::{Record, Submission, Value};
use super::xform::{Choice, Field, FieldKind, Label, XForm};
use super::{OpenRosaInvalid, OpenRosaMsg};
use crate::area::AreaCode;
use crate::early_warning::report::{Channel, LocationInput, ReportInput, ReporterKind};
use chrono::Utc;
use serde::Serialize;
use std::collections::BTreeMap;

/// Which fields of an incident form say what. Names, not paths, so a field can move into a
/// group without breaking the mapping. The defaults are `forms/incident_fr.xlsx`'s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentFields {
    pub category: String,
    pub description: String,
    pub occurred_at: String,
    /// A select whose values are area codes (or `other_area`), or a text read as a place name.
    pub area: String,
    pub place_name: String,
    pub point: String,
    pub reporter: String,
    /// Used for `occurred_at` when the event date is empty: when the form was finished.
    pub end: String,
    /// The area choice meaning "not in the list": the place name says where.
    pub other_area: String,
    /// The language the form was filled in (Collect does not say which).
    pub language: String,
}

impl Default for IncidentFields {
    fn default() -> Self {
        IncidentFields {
            category: "categorie".into(),
            description: "description".into(),
            occurred_at: "date_evenement".into(),
            area: "commune".into(),
            place_name: "lieu_dit".into(),
            point: "position".into(),
            reporter: "type_rapporteur".into(),
            end: "fin".into(),
            other_area: "autre".into(),
            language: "fr".into(),
        }
    }
}

/// A report to hand to early-warning intake, and the files to attach to it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncidentReport {
    pub input: ReportInput,
    /// File names from the submission's binary fields (photo, voice message).
    pub attachments: Vec<String>,
}

fn value_at<'a>(form: &XForm, sub: &'a Submission, name: &str) -> Option<&'a Value> {
    let f = form.find(name)?;
    sub.value(&f.path).filter(|v| !matches!(v, Value::Empty))
}

fn as_text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Group(_) | Value::Repeat(_) | Value::Empty => None,
        v => Some(v.to_cell()).filter(|s| !s.trim().is_empty()),
    }
}

/// Maps a checked incident submission onto a `ReportInput` with channel ODK and the
/// instanceID as idempotency key. Checks only what the mapping needs (the fields exist, a date
/// is there); `ReportInput::validate` does the rest, as for every channel.
pub fn incident_report(form: &XForm, sub: &Submission, fields: &IncidentFields) -> Result<IncidentReport, Vec<OpenRosaInvalid>> {
    let mut errors = Vec::new();
    for name in [&fields.category, &fields.description, &fields.occurred_at] {
        if form.find(name).is_none() {
            errors.push(OpenRosaInvalid::doc(OpenRosaMsg::MissingField { name: name.clone() }));
        }
    }
    let occurred_at = [&fields.occurred_at, &fields.end].into_iter().find_map(|n| match value_at(form, sub, n) {
        Some(Value::DateTime(t)) => Some(t.with_timezone(&Utc)),
        Some(Value::Date(d)) => Some(d.and_hms_opt(0, 0, 0).expect("midnight").and_utc()),
        _ => None,
    });
    if occurred_at.is_none() && errors.is_empty() {
        errors.push(OpenRosaInvalid::doc(OpenRosaMsg::NoEventDate));
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    let mut location = LocationInput::default();
    let area_field = form.find(&fields.area);
    let area_raw = as_text(value_at(form, sub, &fields.area));
    match (area_field.map(|f| &f.kind), area_raw) {
        (Some(k), Some(a)) if k.is_select() && a != fields.other_area && AreaCode::parse(&a).is_ok() => location.area = Some(a),
        (Some(k), Some(_)) if k.is_select() => {}
        (_, Some(a)) => location.place_name = Some(a),
        _ => {}
    }
    if let Some(p) = as_text(value_at(form, sub, &fields.place_name)) {
        location.place_name = Some(match location.place_name.take() {
            Some(first) => format!("{first}, {p}"),
            None => p,
        });
    }
    if let Some(Value::Geopoint(p)) = value_at(form, sub, &fields.point) {
        location.point = Some((p.lat, p.lon));
    }
    // Unknown or missing: anonymous, the kind that exposes no one.
    let reporter = match as_text(value_at(form, sub, &fields.reporter)).as_deref() {
        Some("focal_point") => ReporterKind::FocalPoint,
        Some("committee") => ReporterKind::Committee,
        _ => ReporterKind::Anonymous,
    };
    Ok(IncidentReport {
        input: ReportInput {
            category: as_text(value_at(form, sub, &fields.category)),
            text: as_text(value_at(form, sub, &fields.description)).unwrap_or_default(),
            occurred_at: occurred_at.expect("checked above"),
            location,
            reporter,
            channel: Channel::Odk,
            language: fields.language.clone(),
            idempotency_key: sub.instance_id.clone(),
        },
        attachments: sub.attachments.iter().map(|a| a.file_name.clone()).collect(),
    })
}

/// Answers to one question: how many chose each choice (aligned with the question's
/// `choices`), how many answered, and how many left it empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ChoiceCounts {
    pub counts: Vec<u64>,
    pub answered: u64,
    pub unanswered: u64,
    /// Values not in the list (a newer form version, choices from a file).
    pub other: u64,
}

/// One select question of a survey, counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuestionTally {
    pub path: String,
    pub name: String,
    pub label: Label,
    pub multiple: bool,
    /// Counted per occurrence of the repeat (per household member), not per respondent.
    pub in_repeat: bool,
    pub choices: Vec<Choice>,
    pub total: ChoiceCounts,
    /// By the value of the area field, when one is given and answered.
    pub by_area: BTreeMap<String, ChoiceCounts>,
}

impl ChoiceCounts {
    fn add(&mut self, q: &Field, v: Option<&Value>) {
        if self.counts.len() < q.choices.len() {
            self.counts.resize(q.choices.len(), 0);
        }
        let values: Vec<&str> = match v {
            Some(Value::Choice(c)) => vec![c.as_str()],
            Some(Value::Choices(cs)) if !cs.is_empty() => cs.iter().map(String::as_str).collect(),
            Some(Value::Unparsed(s)) => s.split_whitespace().collect(),
            _ => vec![],
        };
        if values.is_empty() {
            self.unanswered += 1;
            return;
        }
        self.answered += 1;
        for v in values {
            match q.choices.iter().position(|c| c.value == v) {
                Some(i) => self.counts[i] += 1,
                None => self.other += 1,
            }
        }
    }
}

/// Counts every select question of `form` over `subs`; by area when `area_field` names a field
/// outside repeats (`commune` in `forms/perception_fr.xlsx`). A percentage is then
/// `counts[i] / answered`: for a select_multiple the counts add up to more than `answered`.
pub fn tally(form: &XForm, subs: &[Submission], area_field: Option<&str>) -> Vec<QuestionTally> {
    let area_path = area_field.and_then(|n| form.find(n)).map(|f| f.path.clone());
    let mut out: Vec<(QuestionTally, &Field, Option<String>)> = Vec::new();
    fn collect<'a>(fs: &'a [Field], repeat: Option<&'a Field>, out: &mut Vec<(&'a Field, Option<&'a Field>)>) {
        for f in fs {
            match f.kind {
                FieldKind::Group => collect(&f.children, repeat, out),
                FieldKind::Repeat => collect(&f.children, Some(f), out),
                FieldKind::SelectOne | FieldKind::SelectMultiple => out.push((f, repeat)),
                _ => {}
            }
        }
    }
    let mut questions = Vec::new();
    collect(&form.fields, None, &mut questions);
    for (q, repeat) in &questions {
        let tally = QuestionTally {
            path: q.path.clone(),
            name: q.name.clone(),
            label: q.label.clone(),
            multiple: q.kind == FieldKind::SelectMultiple,
            in_repeat: repeat.is_some(),
            choices: q.choices.clone(),
            total: ChoiceCounts { counts: vec![0; q.choices.len()], ..Default::default() },
            by_area: BTreeMap::new(),
        };
        out.push((tally, q, repeat.map(|r| r.path.clone())));
    }
    for s in subs {
        let area = area_path.as_deref().and_then(|p| as_text(s.value(p)));
        for (t, q, repeat) in out.iter_mut() {
            let values: Vec<Option<&Value>> = match repeat {
                None => vec![s.value(&q.path)],
                Some(rp) => {
                    let rel = q.path.strip_prefix(rp.as_str()).unwrap_or("").trim_start_matches('/');
                    match s.value(rp) {
                        Some(Value::Repeat(items)) => items.iter().map(|r: &Record| r.at(rel)).collect(),
                        _ => vec![],
                    }
                }
            };
            for v in values {
                t.total.add(q, v);
                if let Some(a) = &area {
                    t.by_area.entry(a.clone()).or_default().add(q, v);
                }
            }
        }
    }
    out.into_iter().map(|(t, _, _)| t).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::early_warning::report::ReportPolicy;
    use crate::early_warning::taxonomy::Taxonomy;
    use crate::openrosa::submission::tests::{perception_submission, INCIDENT_SUBMISSION};
    use crate::openrosa::xform::tests::{incident, perception};
    use crate::Lang;
    use chrono::DateTime;

    fn sub(xml: &str, form: &XForm) -> Submission {
        Submission::parse(xml.as_bytes(), form).unwrap()
    }

    #[test]
    fn an_incident_becomes_a_valid_report() {
        let form = incident();
        let s = sub(INCIDENT_SUBMISSION, &form);
        let r = incident_report(&form, &s, &IncidentFields::default()).unwrap();
        let i = &r.input;
        assert_eq!(i.category.as_deref(), Some("armed_attack"));
        assert!(i.text.starts_with("Des hommes armés"));
        assert_eq!(i.occurred_at.to_rfc3339(), "2026-05-21T06:00:00+00:00");
        assert_eq!(i.location.area.as_deref(), Some("ML-5-MOPTI-MOPTI"));
        assert_eq!(i.location.point, Some((14.0106, -4.2453)));
        assert_eq!(i.location.place_name.as_deref(), Some("Marché de Sofara"));
        assert_eq!(i.reporter, ReporterKind::FocalPoint);
        assert_eq!(i.channel, Channel::Odk);
        assert_eq!(i.idempotency_key, "uuid:6f1b7f5e-3f1c-4d2a-9b8e-0c4a1d2e3f40");
        assert_eq!(r.attachments, vec!["1779350680123.jpg"]);

        let now = DateTime::parse_from_rfc3339("2026-05-21T09:00:00Z").unwrap().with_timezone(&Utc);
        let report = i.validate(now, &Taxonomy::default(), &ReportPolicy::default()).unwrap();
        assert_eq!(report.location.area.unwrap().as_str(), "ML-5-MOPTI-MOPTI");
        assert!(report.flags.is_empty(), "{:?}", report.flags);
    }

    #[test]
    fn other_commune_gives_a_place_name_and_missing_date_falls_back_to_end() {
        let form = incident();
        let xml = INCIDENT_SUBMISSION
            .replace("<commune>ML-5-MOPTI-MOPTI</commune>", "<commune>autre</commune>")
            .replace("<position>14.0106 -4.2453 281.5 4.9</position>", "<position/>")
            .replace("<type_rapporteur>focal_point</type_rapporteur>", "<type_rapporteur/>");
        let s = sub(&xml, &form);
        let i = incident_report(&form, &s, &IncidentFields::default()).unwrap().input;
        assert_eq!((i.location.area.as_deref(), i.location.point), (None, None));
        assert_eq!(i.location.place_name.as_deref(), Some("Marché de Sofara"));
        assert_eq!(i.reporter, ReporterKind::Anonymous);

        // date_evenement is required, so an empty one is only a warning at parse time.
        let xml = INCIDENT_SUBMISSION.replace("<date_evenement>2026-05-21T06:00:00.000+00:00</date_evenement>", "<date_evenement/>");
        let s = sub(&xml, &form);
        assert_eq!(s.warnings, vec![OpenRosaInvalid::new("/data/date_evenement", OpenRosaMsg::RequiredEmpty)]);
        let i = incident_report(&form, &s, &IncidentFields::default()).unwrap().input;
        assert_eq!(i.occurred_at.to_rfc3339(), "2026-05-21T08:04:40.102+00:00");
        let xml = xml.replace("<fin>2026-05-21T08:04:40.102+00:00</fin>", "<fin/>");
        let e = incident_report(&form, &sub(&xml, &form), &IncidentFields::default()).unwrap_err();
        assert_eq!(e[0].msg, OpenRosaMsg::NoEventDate);
        assert!(e[0].msg.text(Lang::Fr).contains("date"));
    }

    #[test]
    fn a_form_without_the_fields_is_not_an_incident_form() {
        let form = perception();
        let s = sub(&perception_submission("uuid:x", "ML-BKO-C1", "peu", "aucune", &[]), &form);
        let e = incident_report(&form, &s, &IncidentFields::default()).unwrap_err();
        let missing: Vec<_> = e.iter().map(|x| x.msg.clone()).collect();
        assert_eq!(
            missing,
            ["categorie", "description", "date_evenement"].map(|n| OpenRosaMsg::MissingField { name: n.into() })
        );
    }

    #[test]
    fn perception_answers_are_counted_by_area() {
        let form = perception();
        let subs: Vec<Submission> = [
            perception_submission("uuid:1", "ML-BKO-C4", "peu", "banditisme vol_betail", &[("femme", "0_14"), ("homme", "25_49")]),
            perception_submission("uuid:2", "ML-BKO-C4", "pas_du_tout", "banditisme", &[("femme", "15_24")]),
            perception_submission("uuid:3", "ML-7-GAO-GAO", "peu", "attaques_armees engins_explosifs", &[]),
        ]
        .iter()
        .map(|x| sub(x, &form))
        .collect();
        let tallies = tally(&form, &subs, Some("commune"));
        let q = |name: &str| tallies.iter().find(|t| t.name == name).unwrap();
        let count = |t: &QuestionTally, c: &ChoiceCounts, v: &str| c.counts[t.choices.iter().position(|x| x.value == v).unwrap()];

        let police = q("confiance_police");
        assert_eq!(police.label.get(Lang::Fr), Some("Faites-vous confiance à la police ?"));
        assert_eq!((police.total.answered, count(police, &police.total, "peu"), count(police, &police.total, "pas_du_tout")), (3, 2, 1));
        let bko = &police.by_area["ML-BKO-C4"];
        assert_eq!((bko.answered, count(police, bko, "peu")), (2, 1));
        assert_eq!(police.by_area["ML-7-GAO-GAO"].answered, 1);

        let pre = q("preoccupations");
        assert!(pre.multiple);
        assert_eq!(count(pre, &pre.total, "banditisme"), 2);
        assert_eq!(pre.total.answered, 3);
        assert_eq!(pre.total.counts.iter().sum::<u64>(), 5);

        let age = q("age_membre");
        assert!(age.in_repeat);
        assert_eq!(age.total.answered, 3, "one per household member");
        assert_eq!(count(age, &age.by_area["ML-BKO-C4"], "15_24"), 1);

        let commentless = tally(&form, &subs, None);
        assert!(commentless.iter().all(|t| t.by_area.is_empty()));
        assert_eq!(commentless.len(), tallies.len());
        assert!(!tallies.iter().any(|t| t.name == "commentaire" || t.name == "nb_membres"));
    }
}
