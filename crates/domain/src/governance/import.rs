//! `vigie import committees FILE` and `vigie import directory FILE` (CSV or XLSX; the caller
//! turns either into rows of text with their line numbers). Every error comes back with its
//! line; storage then applies all rows in one transaction, or none.
//!
//! Committees, one row per member (a committee without members: one row, member columns
//! empty): `committee,kind,area,established_on,member_name,member_role,member_institution,member_sex,member_age_group`.
//!
//! Directory, one row per person: `full_name,sex,age_group,organisation,area,expertise,languages,
//! phone,email,consent_on,consent_method,visibility_name,visibility_organisation,visibility_phone,
//! visibility_email,published` (expertise and languages separated by `;`; published: oui/non, yes/no, 1/0).

use super::directory::{EntryInput, EntryText};
use super::{parse_date, parse_member, CommitteeInput, CommitteeKind, GovMsg};
use crate::area::{parse_name, AreaCode};
use crate::{LineError, Msg};
use chrono::NaiveDate;

/// Rows of text keyed by lowercased header names, each with its 1-based line in the file.
pub type Rows = (Vec<String>, Vec<(usize, Vec<String>)>);

fn err(line: usize, field: &str, msg: impl Into<Msg>) -> LineError {
    LineError { line, field: field.to_string(), msg: msg.into() }
}

fn column(names: &[String], wanted: &[&str]) -> Option<usize> {
    names.iter().position(|n| wanted.contains(&n.trim()))
}

fn require(names: &[String], wanted: &[&str], errors: &mut Vec<LineError>) -> Option<usize> {
    let c = column(names, wanted);
    if c.is_none() {
        errors.push(err(1, wanted[0], GovMsg::MissingColumn { name: wanted[0].to_string() }));
    }
    c
}

fn cell(row: &[String], col: Option<usize>) -> &str {
    col.and_then(|c| row.get(c)).map(|s| s.trim()).unwrap_or("")
}

/// A committee read from a file: the line of its first row, and the line of each member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitteeRow {
    pub line: usize,
    pub committee: CommitteeInput,
    pub member_lines: Vec<usize>,
}

pub fn parse_committees((names, rows): &Rows, today: NaiveDate) -> Result<Vec<CommitteeRow>, Vec<LineError>> {
    let mut errors = Vec::new();
    let c_name = require(names, &["committee", "comite", "comité", "name", "nom"], &mut errors);
    let c_kind = require(names, &["kind", "type"], &mut errors);
    let c_area = require(names, &["area", "area_code", "zone"], &mut errors);
    let c_est = require(names, &["established_on", "date_creation", "created_on"], &mut errors);
    if !errors.is_empty() {
        return Err(errors);
    }
    let m_name = column(names, &["member_name", "membre"]);
    let m_role = column(names, &["member_role", "role", "rôle"]);
    let m_inst = column(names, &["member_institution", "institution"]);
    let m_sex = column(names, &["member_sex", "sex", "sexe"]);
    let m_age = column(names, &["member_age_group", "age_group", "tranche_age"]);
    let mut out: Vec<CommitteeRow> = Vec::new();
    // Members already seen per committee: (folded name, line).
    let mut seen: Vec<Vec<(String, usize)>> = Vec::new();
    for (line, row) in rows {
        let line = *line;
        let before = errors.len();
        let name = parse_name(cell(row, c_name)).map_err(|m| errors.push(err(line, "committee", m))).ok();
        let kind = CommitteeKind::parse(cell(row, c_kind)).map_err(|m| errors.push(err(line, "kind", m))).ok();
        let area = AreaCode::parse(cell(row, c_area)).map_err(|m| errors.push(err(line, "area", m))).ok();
        let est = parse_date(cell(row, c_est)).map_err(|m| errors.push(err(line, "established_on", m))).ok();
        if est.is_some_and(|e| e > today) {
            errors.push(err(line, "established_on", GovMsg::EstablishedInFuture));
        }
        let member = if cell(row, m_name).is_empty() {
            None
        } else {
            match parse_member("member_", cell(row, m_name), cell(row, m_role), cell(row, m_inst), cell(row, m_sex), cell(row, m_age)) {
                Ok(m) => Some(m),
                Err(es) => {
                    errors.extend(es.into_iter().map(|i| LineError { line, field: i.field, msg: i.msg }));
                    None
                }
            }
        };
        if errors.len() > before {
            continue;
        }
        let (name, kind, area, est) = (name.unwrap(), kind.unwrap(), area.unwrap(), est.unwrap());
        let key = (crate::text::fold(&name), area.clone());
        let idx = match out.iter().position(|c| (crate::text::fold(&c.committee.name), c.committee.area.clone()) == key) {
            Some(i) => {
                let c = &out[i].committee;
                if c.kind != kind || c.established_on != est {
                    errors.push(err(line, "committee", GovMsg::MixedCommitteeRows { name: name.clone(), first_line: out[i].line }));
                    continue;
                }
                i
            }
            None => {
                out.push(CommitteeRow { line, committee: CommitteeInput { name, kind, area, established_on: est, members: Vec::new() }, member_lines: Vec::new() });
                seen.push(Vec::new());
                out.len() - 1
            }
        };
        if let Some(m) = member {
            let k = m.key();
            if let Some((_, first_line)) = seen[idx].iter().find(|(s, _)| *s == k) {
                errors.push(err(line, "member_name", GovMsg::DuplicateMemberLine { name: m.name.clone(), first_line: *first_line }));
                continue;
            }
            seen[idx].push((k, line));
            out[idx].committee.members.push(m);
            out[idx].member_lines.push(line);
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn parse_yes_no(raw: &str) -> Result<bool, GovMsg> {
    match crate::text::fold(raw).as_str() {
        "" | "non" | "no" | "0" | "false" | "faux" | "n" => Ok(false),
        "oui" | "yes" | "1" | "true" | "vrai" | "o" | "y" => Ok(true),
        _ => Err(GovMsg::InvalidYesNo { text: raw.trim().to_string() }),
    }
}

pub fn parse_directory((names, rows): &Rows, today: NaiveDate) -> Result<Vec<(usize, EntryInput)>, Vec<LineError>> {
    let mut errors = Vec::new();
    let c_name = require(names, &["full_name", "nom", "name"], &mut errors);
    let c_sex = require(names, &["sex", "sexe"], &mut errors);
    let c_age = require(names, &["age_group", "tranche_age"], &mut errors);
    let c_area = require(names, &["area", "area_code", "zone"], &mut errors);
    let c_exp = require(names, &["expertise"], &mut errors);
    if !errors.is_empty() {
        return Err(errors);
    }
    let col = |w: &[&str]| column(names, w);
    let (c_org, c_lang, c_phone, c_email) = (col(&["organisation", "organization"]), col(&["languages", "langues"]), col(&["phone", "telephone", "téléphone"]), col(&["email", "courriel"]));
    let (c_con, c_how) = (col(&["consent_on", "consentement_le"]), col(&["consent_method", "consentement_mode"]));
    let (v_name, v_org, v_phone, v_email) = (col(&["visibility_name"]), col(&["visibility_organisation"]), col(&["visibility_phone"]), col(&["visibility_email"]));
    let c_pub = col(&["published", "publie", "publié"]);
    let mut out = Vec::new();
    for (line, row) in rows {
        let line = *line;
        let published = match parse_yes_no(cell(row, c_pub)) {
            Ok(p) => p,
            Err(m) => {
                errors.push(err(line, "published", m));
                continue;
            }
        };
        let t = EntryText {
            full_name: cell(row, c_name).into(),
            sex: cell(row, c_sex).into(),
            age_group: cell(row, c_age).into(),
            organisation: cell(row, c_org).into(),
            area_code: cell(row, c_area).into(),
            expertise: cell(row, c_exp).into(),
            languages: cell(row, c_lang).into(),
            phone: cell(row, c_phone).into(),
            email: cell(row, c_email).into(),
            consent_on: cell(row, c_con).into(),
            consent_method: cell(row, c_how).into(),
            visibility_name: cell(row, v_name).into(),
            visibility_organisation: cell(row, v_org).into(),
            visibility_phone: cell(row, v_phone).into(),
            visibility_email: cell(row, v_email).into(),
            published,
        };
        match t.parse(today) {
            Ok(e) => out.push((line, e)),
            Err(es) => errors.extend(es.into_iter().map(|i| LineError { line, field: if i.field == "area_code" { "area".into() } else { i.field }, msg: i.msg })),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::csv_rows;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    #[test]
    fn committees_group_members_and_name_the_line_of_a_duplicate() {
        let csv = "committee;kind;area;established_on;member_name;member_role;member_institution;member_sex;member_age_group\n\
Comité communal de sécurité de Koro;security_committee;ML-5-KORO;2025-03-01;Awa Diarra;présidente;Mairie;F;adult\n\
Comité communal de sécurité de Koro;security_committee;ML-5-KORO;2025-03-01;Issa Guindo;membre;Jeunesse;H;jeune\n\
Commission foncière de Bankass;land_commission;ML-5-BANKASS;2024-06-10;;;;;\n\
Comité communal de sécurité de Koro;security_committee;ML-5-KORO;2025-03-01;AWA DIARRA;membre;;F;adult\n";
        let rows = csv_rows(csv.as_bytes()).unwrap();
        let errs = parse_committees(&rows, today()).unwrap_err();
        assert_eq!(errs.len(), 1);
        assert_eq!((errs[0].line, errs[0].field.as_str()), (5, "member_name"));
        assert_eq!(errs[0].msg, Msg::from(GovMsg::DuplicateMemberLine { name: "AWA DIARRA".into(), first_line: 2 }));
        let good = csv.lines().take(4).collect::<Vec<_>>().join("\n");
        let cs = parse_committees(&csv_rows(good.as_bytes()).unwrap(), today()).unwrap();
        assert_eq!(cs.len(), 2);
        assert_eq!(cs[0].committee.members.len(), 2);
        assert_eq!(cs[0].member_lines, vec![2, 3]);
        assert!(cs[1].committee.members.is_empty());
    }

    #[test]
    fn committee_rows_report_every_bad_cell() {
        let csv = "committee,kind,area,established_on,member_name,member_role,member_sex,member_age_group\nCSC,club,ML-5,2026-13-01,Ali,membre,X,adult\n";
        let errs = parse_committees(&csv_rows(csv.as_bytes()).unwrap(), today()).unwrap_err();
        let fields: Vec<(usize, &str)> = errs.iter().map(|e| (e.line, e.field.as_str())).collect();
        assert_eq!(fields, vec![(2, "kind"), (2, "established_on"), (2, "member_sex")]);
        let missing = parse_committees(&csv_rows(b"committee,area\nX,ML\n").unwrap(), today()).unwrap_err();
        assert_eq!(missing.len(), 2);
        assert_eq!(missing[0].line, 1);
    }

    #[test]
    fn directory_rows_need_consent_to_be_published() {
        let csv = "full_name,sex,age_group,organisation,area,expertise,languages,phone,email,consent_on,consent_method,visibility_name,visibility_phone,published\n\
Fatoumata Maïga,F,youth,AFK,ML-5-KORO,mediation;gender,dogon;fulfulde,76123456,,2026-10-02,written,public,partners,oui\n\
Oumar Cissé,M,adult,,ML-5,human_rights,,,,,,,,oui\n\
Mariam Touré,F,elder,,ML-5,mediation,,7612,,2026-01-01,oral,,,non\n";
        let errs = parse_directory(&csv_rows(csv.as_bytes()).unwrap(), today()).unwrap_err();
        let got: Vec<(usize, &str)> = errs.iter().map(|e| (e.line, e.field.as_str())).collect();
        assert_eq!(got, vec![(3, "consent_on"), (4, "phone")]);
        let ok: String = csv.lines().take(2).collect::<Vec<_>>().join("\n");
        let es = parse_directory(&csv_rows(ok.as_bytes()).unwrap(), today()).unwrap();
        assert_eq!(es[0].0, 2);
        assert!(es[0].1.published);
    }
}
