//! A filled form as ODK Collect posts it (`xml_submission_file`), checked against its form and
//! read into typed values. Collect already enforced types, choices and constraints, so a
//! mismatch means a changed form, a bug or tampering: in a required field it refuses the
//! submission; elsewhere the raw text is kept and a warning raised, so nothing a person typed
//! offline is lost. Elements the form does not know are kept too, with a warning.

use super::xform::{Field, FieldKind, Required, XForm};
use super::xml::{self, Element, Limits};
use super::{OpenRosaInvalid, OpenRosaMsg};
use crate::area::valid_lat_lon;
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GeoPoint {
    pub lat: f64,
    pub lon: f64,
    pub alt: Option<f64>,
    /// Accuracy in metres, as the phone estimated it.
    pub acc: Option<f64>,
}

impl GeoPoint {
    /// `"lat lon [alt [acc]]"`, as Collect writes it.
    pub fn parse(raw: &str) -> Result<GeoPoint, OpenRosaMsg> {
        let mismatch = || OpenRosaMsg::TypeMismatch { expected: "geopoint".into(), given: raw.trim().into() };
        let nums: Vec<f64> = raw.split_whitespace().map(|n| n.parse::<f64>().map_err(|_| mismatch())).collect::<Result<_, _>>()?;
        if !(2..=4).contains(&nums.len()) || nums.iter().any(|n| !n.is_finite()) {
            return Err(mismatch());
        }
        if !valid_lat_lon(nums[0], nums[1]) || nums.get(3).is_some_and(|a| *a < 0.0) {
            return Err(OpenRosaMsg::GeopointOutOfRange { given: raw.trim().into() });
        }
        Ok(GeoPoint { lat: nums[0], lon: nums[1], alt: nums.get(2).copied(), acc: nums.get(3).copied() })
    }
}

/// A value as the form's type reads it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "value")]
pub enum Value {
    /// Present but blank: skipped, or not relevant.
    Empty,
    Text(String),
    Int(i64),
    Decimal(f64),
    Date(NaiveDate),
    /// As sent (`14:30:00.000+00:00`), checked.
    Time(String),
    DateTime(DateTime<FixedOffset>),
    Boolean(bool),
    Geopoint(GeoPoint),
    /// A geotrace or geoshape.
    Geopoints(Vec<GeoPoint>),
    Choice(String),
    Choices(Vec<String>),
    /// The file name of a photo, recording…: the file is another part of the request.
    Attachment(String),
    Group(Record),
    Repeat(Vec<Record>),
    /// Did not read as its type in a field that is not required: kept as sent, with a warning.
    Unparsed(String),
}

impl Value {
    /// The value as ODK Central's CSV export writes it.
    pub fn to_cell(&self) -> String {
        match self {
            Value::Empty | Value::Group(_) | Value::Repeat(_) => String::new(),
            Value::Text(s) | Value::Time(s) | Value::Choice(s) | Value::Attachment(s) | Value::Unparsed(s) => s.clone(),
            Value::Int(n) => n.to_string(),
            Value::Decimal(x) => x.to_string(),
            Value::Date(d) => d.format("%Y-%m-%d").to_string(),
            Value::DateTime(t) => t.to_rfc3339_opts(chrono::SecondsFormat::Millis, false),
            Value::Boolean(b) => b.to_string(),
            Value::Geopoint(p) => geopoint_text(p),
            Value::Geopoints(ps) => ps.iter().map(geopoint_text).collect::<Vec<_>>().join(";"),
            Value::Choices(cs) => cs.join(" "),
        }
    }
}

fn geopoint_text(p: &GeoPoint) -> String {
    let mut s = format!("{} {}", p.lat, p.lon);
    for x in [p.alt, p.acc].into_iter().flatten() {
        s.push_str(&format!(" {x}"));
    }
    s
}

/// One element of the submission.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    pub name: String,
    pub path: String,
    pub value: Value,
    /// False for an element the form does not have.
    pub known: bool,
}

/// The children of the root, of a group, or of one occurrence of a repeat, in the order sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Record {
    pub entries: Vec<Entry>,
}

impl Record {
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.entries.iter().find(|e| e.name == name).map(|e| &e.value)
    }
    /// The value at a path relative to this record: `lieu/commune`.
    pub fn at(&self, rel: &str) -> Option<&Value> {
        let (first, rest) = match rel.split_once('/') {
            Some((a, b)) => (a, Some(b)),
            None => (rel, None),
        };
        match (self.get(first)?, rest) {
            (v, None) => Some(v),
            (Value::Group(r), Some(rest)) => r.at(rest),
            _ => None,
        }
    }
}

/// A photo or recording the submission names; the server expects a part of that name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttachmentRef {
    pub path: String,
    pub file_name: String,
}

/// A checked submission.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Submission {
    pub form_id: String,
    pub version: Option<String>,
    /// `uuid:…`: the idempotency key. A resent submission has the same one.
    pub instance_id: String,
    /// Set when this submission edits an earlier one (Collect's "edit finalized form").
    pub deprecated_id: Option<String>,
    pub instance_name: Option<String>,
    pub data: Record,
    pub attachments: Vec<AttachmentRef>,
    /// Kept, but someone should look: unknown elements, unparsed optional values.
    pub warnings: Vec<OpenRosaInvalid>,
}

struct Reading {
    errors: Vec<OpenRosaInvalid>,
    warnings: Vec<OpenRosaInvalid>,
    attachments: Vec<AttachmentRef>,
}

impl Submission {
    /// Parses with the default limits.
    pub fn parse(xml: &[u8], form: &XForm) -> Result<Submission, Vec<OpenRosaInvalid>> {
        Submission::parse_with(xml, form, &Limits::default())
    }

    /// Checks the document against `form` and returns every problem at once.
    pub fn parse_with(xml: &[u8], form: &XForm, limits: &Limits) -> Result<Submission, Vec<OpenRosaInvalid>> {
        let doc = |m| vec![OpenRosaInvalid::doc(m)];
        let root = xml::parse(xml, limits).map_err(doc)?;
        // The form id first: a submission to another form says so, whatever its root.
        let found_id = root.attr("id").map(str::trim).unwrap_or("").to_string();
        if found_id != form.form_id {
            return Err(doc(OpenRosaMsg::WrongFormId { expected: form.form_id.clone(), found: found_id }));
        }
        if root.name() != form.root {
            return Err(doc(OpenRosaMsg::WrongRoot { expected: form.root.clone(), found: root.name().into() }));
        }
        let version = root.attr("version").map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
        if version != form.version {
            return Err(doc(OpenRosaMsg::WrongVersion {
                expected: form.version.clone().unwrap_or_default(),
                found: version.unwrap_or_default(),
            }));
        }
        if root.attr("encrypted").is_some_and(|e| e.trim() == "yes") || root.child("base64EncryptedKey").is_some() {
            return Err(doc(OpenRosaMsg::EncryptedNotSupported));
        }

        let meta = root.child("meta");
        let meta_text = |name: &str| meta.and_then(|m| m.child(name)).map(|e| e.text.trim().to_string()).filter(|t| !t.is_empty());
        let instance_id = meta_text("instanceID");
        let mut r = Reading { errors: Vec::new(), warnings: Vec::new(), attachments: Vec::new() };
        match &instance_id {
            None => r.errors.push(OpenRosaInvalid::new(format!("/{}/meta/instanceID", form.root), OpenRosaMsg::MissingInstanceId)),
            Some(id) if id.len() > 128 || !id.bytes().all(|b| b.is_ascii_graphic()) => {
                r.errors.push(OpenRosaInvalid::new(format!("/{}/meta/instanceID", form.root), OpenRosaMsg::InvalidInstanceId))
            }
            Some(_) => {}
        }
        let data = r.record(&root, &form.fields, &format!("/{}", form.root));
        if !r.errors.is_empty() {
            return Err(r.errors);
        }
        Ok(Submission {
            form_id: found_id,
            version,
            instance_id: instance_id.unwrap_or_default(),
            deprecated_id: meta_text("deprecatedID"),
            instance_name: meta_text("instanceName"),
            data,
            attachments: r.attachments,
            warnings: r.warnings,
        })
    }

    /// The form id and version a submission claims, to pick the form (and the version of it)
    /// to parse it against. Same safety checks as `parse`.
    pub fn identify(xml: &[u8]) -> Result<(String, Option<String>), OpenRosaInvalid> {
        let root = xml::parse(xml, &Limits::default()).map_err(OpenRosaInvalid::doc)?;
        let id = root.attr("id").map(str::trim).filter(|i| !i.is_empty()).ok_or(OpenRosaInvalid::doc(OpenRosaMsg::MissingFormId))?;
        let version = root.attr("version").map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
        Ok((id.to_string(), version))
    }

    /// The value at an absolute path (`/data/lieu/commune`), outside repeats.
    pub fn value(&self, path: &str) -> Option<&Value> {
        let rest = path.trim_start_matches('/').split_once('/')?.1;
        self.data.at(rest)
    }
}

impl Reading {
    fn record(&mut self, parent: &Element, fields: &[Field], path: &str) -> Record {
        let mut rec = Record::default();
        for e in &parent.children {
            let name = e.name();
            let p = format!("{path}/{name}");
            let field = fields.iter().find(|f| f.name == name);
            match field {
                Some(f) if f.kind == FieldKind::Repeat => {
                    let item = self.record(e, &f.children, &p);
                    match rec.entries.iter_mut().find(|x| x.name == name) {
                        Some(Entry { value: Value::Repeat(items), .. }) => items.push(item),
                        _ => rec.entries.push(Entry { name: name.into(), path: p, value: Value::Repeat(vec![item]), known: true }),
                    }
                    continue;
                }
                _ if rec.entries.iter().any(|x| x.name == name) => {
                    let msg = OpenRosaMsg::DuplicateField { name: name.into() };
                    if field.is_some() {
                        self.errors.push(OpenRosaInvalid::new(p, msg));
                    } else {
                        self.warnings.push(OpenRosaInvalid::new(p, msg));
                    }
                    continue;
                }
                Some(f) if f.kind == FieldKind::Group => {
                    let value = Value::Group(self.record(e, &f.children, &p));
                    rec.entries.push(Entry { name: name.into(), path: p, value, known: true });
                }
                Some(f) => {
                    let value = self.leaf(e, f, &p);
                    rec.entries.push(Entry { name: name.into(), path: p, value, known: true });
                }
                None => {
                    self.warnings.push(OpenRosaInvalid::new(p.clone(), OpenRosaMsg::UnknownElement { name: name.into() }));
                    let value = if e.children.is_empty() {
                        if e.text.trim().is_empty() { Value::Empty } else { Value::Text(e.text.clone()) }
                    } else {
                        Value::Group(self.unknown(e, &p))
                    };
                    rec.entries.push(Entry { name: name.into(), path: p, value, known: false });
                }
            }
        }
        rec
    }

    /// Below an unknown element everything is unknown: kept, one warning for the top.
    fn unknown(&mut self, e: &Element, path: &str) -> Record {
        let entries = e
            .children
            .iter()
            .map(|c| {
                let p = format!("{path}/{}", c.name());
                let value = if c.children.is_empty() { Value::Text(c.text.clone()) } else { Value::Group(self.unknown(c, &p)) };
                Entry { name: c.name().into(), path: p, value, known: false }
            })
            .collect();
        Record { entries }
    }

    fn leaf(&mut self, e: &Element, f: &Field, path: &str) -> Value {
        let raw = e.text.as_str();
        let given = raw.trim();
        if !e.children.is_empty() {
            return self.mismatch(f, path, raw, OpenRosaMsg::TypeMismatch { expected: f.kind.xform_type().into(), given: e.name().into() });
        }
        if given.is_empty() {
            if f.required == Required::Yes && f.relevant.is_none() && !f.readonly {
                self.warnings.push(OpenRosaInvalid::new(path, OpenRosaMsg::RequiredEmpty));
            }
            return Value::Empty;
        }
        match read_value(f, raw) {
            Ok(v) => {
                if let Value::Attachment(name) = &v {
                    self.attachments.push(AttachmentRef { path: path.into(), file_name: name.clone() });
                }
                v
            }
            Err(msg) => self.mismatch(f, path, raw, msg),
        }
    }

    fn mismatch(&mut self, f: &Field, path: &str, raw: &str, msg: OpenRosaMsg) -> Value {
        if f.required == Required::Yes {
            self.errors.push(OpenRosaInvalid::new(path, msg));
        } else {
            self.warnings.push(OpenRosaInvalid::new(path, msg));
        }
        Value::Unparsed(raw.to_string())
    }
}

fn read_value(f: &Field, raw: &str) -> Result<Value, OpenRosaMsg> {
    let given = raw.trim();
    let mismatch = || OpenRosaMsg::TypeMismatch { expected: f.kind.xform_type().into(), given: given.into() };
    Ok(match &f.kind {
        FieldKind::String | FieldKind::Barcode | FieldKind::Other(_) | FieldKind::Group | FieldKind::Repeat => Value::Text(raw.to_string()),
        FieldKind::Int => Value::Int(given.parse().map_err(|_| mismatch())?),
        FieldKind::Decimal => {
            let x: f64 = given.parse().map_err(|_| mismatch())?;
            if !x.is_finite() {
                return Err(mismatch());
            }
            Value::Decimal(x)
        }
        FieldKind::Date => Value::Date(NaiveDate::parse_from_str(given, "%Y-%m-%d").map_err(|_| mismatch())?),
        FieldKind::Time => {
            // `14:30:00.000+00:00`: a time, then an optional offset.
            let t = given.split(['+', 'Z']).next().unwrap_or("");
            let t = t.rsplit_once('-').map_or(t, |(a, _)| a);
            NaiveTime::parse_from_str(t, "%H:%M:%S%.f").or_else(|_| NaiveTime::parse_from_str(t, "%H:%M")).map_err(|_| mismatch())?;
            Value::Time(given.to_string())
        }
        FieldKind::DateTime => Value::DateTime(parse_datetime(given).ok_or_else(mismatch)?),
        FieldKind::Boolean => Value::Boolean(match given {
            "true" | "1" => true,
            "false" | "0" => false,
            _ => return Err(mismatch()),
        }),
        FieldKind::Geopoint => Value::Geopoint(GeoPoint::parse(given)?),
        FieldKind::Geotrace | FieldKind::Geoshape => Value::Geopoints(
            given.split(';').filter(|p| !p.trim().is_empty()).map(GeoPoint::parse).collect::<Result<_, _>>()?,
        ),
        FieldKind::SelectOne => {
            if !f.allows_choice(given) {
                return Err(OpenRosaMsg::UnknownChoice { value: given.into() });
            }
            Value::Choice(given.to_string())
        }
        FieldKind::SelectMultiple => {
            let values: Vec<String> = given.split_whitespace().map(str::to_string).collect();
            if let Some(bad) = values.iter().find(|v| !f.allows_choice(v)) {
                return Err(OpenRosaMsg::UnknownChoice { value: bad.clone() });
            }
            Value::Choices(values)
        }
        FieldKind::Binary => {
            if !plain_file_name(given) {
                return Err(OpenRosaMsg::InvalidAttachmentName { name: given.into() });
            }
            Value::Attachment(given.to_string())
        }
    })
}

/// Collect writes `2024-03-10T09:15:00.000+00:00`; other clients drop the milliseconds or
/// write `Z` or `+0000`. A time without offset is read as UTC.
fn parse_datetime(s: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(s)
        .or_else(|_| DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .ok()
        .or_else(|| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").ok().map(|n| n.and_utc().fixed_offset()))
}

/// A name the server may use as is: no folder, nothing hidden, nothing odd.
fn plain_file_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name != "."
        && name != ".."
        && !name.starts_with('.')
        && !name.chars().any(|c| c == '/' || c == '\\' || c == ':' || c.is_control())
}

/// A table of an export: the submissions' main table, or one per repeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Table {
    /// `vigie_perception` for the main table, `vigie_perception-membres` for a repeat.
    pub name: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn to_csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        // Writing to memory cannot fail.
        w.write_record(&self.columns).expect("in memory");
        for r in &self.rows {
            w.write_record(r).expect("in memory");
        }
        String::from_utf8(w.into_inner().expect("in memory")).expect("UTF-8 in, UTF-8 out")
    }
}

/// Flattens submissions the way ODK Central's CSV export does: one column per field of the
/// form (groups joined with `-`, a geopoint in four columns), `KEY` = instanceID; each repeat
/// in its own table whose rows carry `PARENT_KEY` and a `KEY` like `uuid:…/membres[2]`.
/// Elements the form does not have are left out.
pub fn export_tables(form: &XForm, submissions: &[Submission]) -> Vec<Table> {
    let mut tables = Vec::new();
    let mut main = Table { name: form.form_id.clone(), columns: Vec::new(), rows: Vec::new() };
    columns(&form.fields, "", &mut main.columns, &mut |f| tables_for(form, f, &mut tables));
    main.columns.push("KEY".into());
    let mut repeat_rows: Vec<(String, Vec<String>)> = Vec::new();
    for s in submissions {
        let mut row = Vec::new();
        cells(&form.fields, Some(&s.data), &s.instance_id, &mut row, &mut repeat_rows);
        row.push(s.instance_id.clone());
        main.rows.push(row);
    }
    for (path, row) in repeat_rows {
        if let Some(t) = tables.iter_mut().find(|(p, _)| *p == path) {
            t.1.rows.push(row);
        }
    }
    let mut out = vec![main];
    out.extend(tables.into_iter().map(|(_, t)| t));
    out
}

fn tables_for(form: &XForm, repeat: &Field, tables: &mut Vec<(String, Table)>) {
    let rel = repeat.path.splitn(3, '/').nth(2).unwrap_or(&repeat.name).replace('/', "-");
    let mut t = Table { name: format!("{}-{rel}", form.form_id), columns: Vec::new(), rows: Vec::new() };
    let mut nested = Vec::new();
    columns(&repeat.children, "", &mut t.columns, &mut |f| nested.push(f.clone()));
    t.columns.push("PARENT_KEY".into());
    t.columns.push("KEY".into());
    tables.push((repeat.path.clone(), t));
    for n in &nested {
        tables_for(form, n, tables);
    }
}

fn columns(fields: &[Field], prefix: &str, out: &mut Vec<String>, on_repeat: &mut dyn FnMut(&Field)) {
    for f in fields {
        let name = format!("{prefix}{}", f.name);
        match f.kind {
            FieldKind::Group => columns(&f.children, &format!("{name}-"), out, on_repeat),
            FieldKind::Repeat => on_repeat(f),
            FieldKind::Geopoint => {
                for part in ["Latitude", "Longitude", "Altitude", "Accuracy"] {
                    out.push(format!("{name}-{part}"));
                }
            }
            _ => out.push(name),
        }
    }
}

fn cells(fields: &[Field], rec: Option<&Record>, key: &str, row: &mut Vec<String>, repeats: &mut Vec<(String, Vec<String>)>) {
    for f in fields {
        let v = rec.and_then(|r| r.get(&f.name));
        match f.kind {
            FieldKind::Group => {
                let sub = match v {
                    Some(Value::Group(r)) => Some(r),
                    _ => None,
                };
                cells(&f.children, sub, key, row, repeats);
            }
            FieldKind::Repeat => {
                if let Some(Value::Repeat(items)) = v {
                    for (i, item) in items.iter().enumerate() {
                        let item_key = format!("{key}/{}[{}]", f.name, i + 1);
                        let mut r = Vec::new();
                        let mut nested = Vec::new();
                        cells(&f.children, Some(item), &item_key, &mut r, &mut nested);
                        r.push(key.to_string());
                        r.push(item_key);
                        repeats.push((f.path.clone(), r));
                        repeats.extend(nested);
                    }
                }
            }
            FieldKind::Geopoint => match v {
                Some(Value::Geopoint(p)) => {
                    let opt = |x: Option<f64>| x.map(|x| x.to_string()).unwrap_or_default();
                    row.extend([p.lat.to_string(), p.lon.to_string(), opt(p.alt), opt(p.acc)]);
                }
                Some(other) => row.extend([other.to_cell(), String::new(), String::new(), String::new()]),
                None => row.extend(vec![String::new(); 4]),
            },
            _ => row.push(v.map(Value::to_cell).unwrap_or_default()),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::openrosa::xform::tests::{incident, perception, INCIDENT_XML};

    /// As ODK Collect sends it: namespaces declared on the root, id and version attributes,
    /// `meta` in the default namespace (pyxform), values on one line.
    pub(crate) const INCIDENT_SUBMISSION: &str = r#"<?xml version='1.0' ?><data id="vigie_incident" version="2026052101" xmlns:h="http://www.w3.org/1999/xhtml" xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms" xmlns:odk="http://www.opendatakit.org/xforms"><debut>2026-05-21T07:58:12.331+00:00</debut><fin>2026-05-21T08:04:40.102+00:00</fin><categorie>armed_attack</categorie><description>Des hommes armés à moto ont attaqué le marché de Sofara vers 6 h. Deux blessés &amp; des boutiques pillées.</description><date_evenement>2026-05-21T06:00:00.000+00:00</date_evenement><lieu><commune>ML-5-MOPTI-MOPTI</commune><lieu_dit>Marché de Sofara</lieu_dit><position>14.0106 -4.2453 281.5 4.9</position></lieu><photo>1779350680123.jpg</photo><message_vocal/><type_rapporteur>focal_point</type_rapporteur><meta><instanceID>uuid:6f1b7f5e-3f1c-4d2a-9b8e-0c4a1d2e3f40</instanceID><instanceName>armed_attack – 2026-05-21T06:00:00.000+00:00</instanceName></meta></data>"#;

    pub(crate) fn perception_submission(uuid: &str, commune: &str, police: &str, concerns: &str, members: &[(&str, &str)]) -> String {
        let members: String = members
            .iter()
            .map(|(s, a)| format!("<membres><sexe_membre>{s}</sexe_membre><age_membre>{a}</age_membre></membres>"))
            .collect();
        format!(
            r#"<?xml version='1.0' ?>
<data xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms" id="vigie_perception" version="2026052101">
  <debut>2026-05-20T10:02:00.000+00:00</debut>
  <fin>2026-05-20T10:19:30.000+00:00</fin>
  <date_entretien>2026-05-20</date_entretien>
  <sexe>femme</sexe>
  <tranche_age>25_34</tranche_age>
  <commune>{commune}</commune>
  <confiance>
    <confiance_police>{police}</confiance_police>
    <confiance_gendarmerie>assez</confiance_gendarmerie>
    <confiance_justice>nsp</confiance_justice>
  </confiance>
  <sentiment_securite>plutot_en_insecurite</sentiment_securite>
  <incident_signale>non</incident_signale>
  <preoccupations>{concerns}</preoccupations>
  <distance_poste_km>12.5</distance_poste_km>
  <nb_membres>{}</nb_membres>
  {members}
  <commentaire/>
  <meta><instanceID>{uuid}</instanceID></meta>
</data>"#,
            members.matches("<membres>").count()
        )
    }

    fn errors(xml: &str, form: &XForm) -> Vec<OpenRosaMsg> {
        Submission::parse(xml.as_bytes(), form).unwrap_err().into_iter().map(|e| e.msg).collect()
    }

    #[test]
    fn reads_a_collect_incident_submission() {
        let s = Submission::parse(INCIDENT_SUBMISSION.as_bytes(), &incident()).unwrap();
        assert_eq!(s.instance_id, "uuid:6f1b7f5e-3f1c-4d2a-9b8e-0c4a1d2e3f40");
        assert_eq!(s.version.as_deref(), Some("2026052101"));
        assert!(s.instance_name.as_deref().unwrap().starts_with("armed_attack"));
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);
        assert_eq!(s.value("/data/categorie"), Some(&Value::Choice("armed_attack".into())));
        assert!(matches!(s.value("/data/description"), Some(Value::Text(t)) if t.contains("Deux blessés & des")));
        match s.value("/data/date_evenement") {
            Some(Value::DateTime(t)) => assert_eq!(t.to_rfc3339(), "2026-05-21T06:00:00+00:00"),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            s.value("/data/lieu/position"),
            Some(&Value::Geopoint(GeoPoint { lat: 14.0106, lon: -4.2453, alt: Some(281.5), acc: Some(4.9) }))
        );
        assert_eq!(s.value("/data/lieu/commune"), Some(&Value::Choice("ML-5-MOPTI-MOPTI".into())));
        assert_eq!(s.value("/data/message_vocal"), Some(&Value::Empty));
        assert_eq!(s.attachments, vec![AttachmentRef { path: "/data/photo".into(), file_name: "1779350680123.jpg".into() }]);
    }

    #[test]
    fn identifies_the_form_before_parsing() {
        assert_eq!(Submission::identify(INCIDENT_SUBMISSION.as_bytes()), Ok(("vigie_incident".into(), Some("2026052101".into()))));
        assert_eq!(Submission::identify(b"<data/>").unwrap_err().msg, OpenRosaMsg::MissingFormId);
        assert_eq!(Submission::identify(b"<!DOCTYPE x><data id='a'/>").unwrap_err().msg, OpenRosaMsg::DtdForbidden);
    }

    #[test]
    fn reads_orx_meta_and_pretty_printed_submissions() {
        let xml = INCIDENT_SUBMISSION
            .replace("<meta><instanceID>", "\n  <orx:meta>\n    <orx:instanceID>")
            .replace("</instanceID>", "</orx:instanceID>\n    <orx:deprecatedID>uuid:0001</orx:deprecatedID>")
            .replace("<instanceName>", "<orx:instanceName>")
            .replace("</instanceName></meta>", "</orx:instanceName>\n  </orx:meta>\n");
        let s = Submission::parse(xml.as_bytes(), &incident()).unwrap();
        assert_eq!(s.instance_id, "uuid:6f1b7f5e-3f1c-4d2a-9b8e-0c4a1d2e3f40");
        assert_eq!(s.deprecated_id.as_deref(), Some("uuid:0001"));
    }

    #[test]
    fn reads_repeats_and_select_multiple() {
        let xml = perception_submission("uuid:p1", "ML-BKO-C4", "peu", "banditisme  vol_betail", &[("femme", "0_14"), ("homme", "50_plus")]);
        let s = Submission::parse(xml.as_bytes(), &perception()).unwrap();
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);
        assert_eq!(s.value("/data/preoccupations"), Some(&Value::Choices(vec!["banditisme".into(), "vol_betail".into()])));
        assert_eq!(s.value("/data/nb_membres"), Some(&Value::Int(2)));
        assert_eq!(s.value("/data/distance_poste_km"), Some(&Value::Decimal(12.5)));
        assert_eq!(s.value("/data/date_entretien"), Some(&Value::Date(NaiveDate::from_ymd_opt(2026, 5, 20).unwrap())));
        assert_eq!(s.value("/data/confiance/confiance_police"), Some(&Value::Choice("peu".into())));
        match s.value("/data/membres") {
            Some(Value::Repeat(items)) => {
                assert_eq!(items.len(), 2);
                assert_eq!(items[1].get("age_membre"), Some(&Value::Choice("50_plus".into())));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn refuses_bad_documents() {
        let form = incident();
        // Malformed: an unclosed element.
        assert!(matches!(errors(&INCIDENT_SUBMISSION.replace("</categorie>", ""), &form)[..], [OpenRosaMsg::MalformedXml { .. }]));
        let bomb = format!(
            "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">]>{}",
            INCIDENT_SUBMISSION.replace("armed_attack</categorie>", "&lol1;</categorie>").trim_start_matches("<?xml version='1.0' ?>")
        );
        assert_eq!(errors(&bomb, &form), vec![OpenRosaMsg::DtdForbidden]);
        assert_eq!(
            errors(&INCIDENT_SUBMISSION.replace("id=\"vigie_incident\"", "id=\"vigie_perception\""), &form),
            vec![OpenRosaMsg::WrongFormId { expected: "vigie_incident".into(), found: "vigie_perception".into() }]
        );
        assert_eq!(
            errors(&INCIDENT_SUBMISSION.replace("version=\"2026052101\"", "version=\"2026010101\""), &form),
            vec![OpenRosaMsg::WrongVersion { expected: "2026052101".into(), found: "2026010101".into() }]
        );
        assert_eq!(
            errors(&INCIDENT_SUBMISSION.replace("<data ", "<donnees ").replace("</data>", "</donnees>"), &form),
            vec![OpenRosaMsg::WrongRoot { expected: "data".into(), found: "donnees".into() }]
        );
        let no_id = INCIDENT_SUBMISSION.replace("uuid:6f1b7f5e-3f1c-4d2a-9b8e-0c4a1d2e3f40", "");
        assert_eq!(errors(&no_id, &form), vec![OpenRosaMsg::MissingInstanceId]);
        let encrypted = INCIDENT_SUBMISSION.replace("<data ", "<data encrypted=\"yes\" ");
        assert_eq!(errors(&encrypted, &form), vec![OpenRosaMsg::EncryptedNotSupported]);
    }

    #[test]
    fn refuses_duplicates_and_mismatches_in_required_fields() {
        let form = incident();
        let dup = INCIDENT_SUBMISSION.replace("<categorie>armed_attack</categorie>", "<categorie>armed_attack</categorie><categorie>abduction</categorie>");
        assert_eq!(errors(&dup, &form), vec![OpenRosaMsg::DuplicateField { name: "categorie".into() }]);
        let bad_date = INCIDENT_SUBMISSION.replace("2026-05-21T06:00:00.000+00:00</date", "hier matin</date");
        let e = Submission::parse(bad_date.as_bytes(), &form).unwrap_err();
        assert_eq!(e[0].path, "/data/date_evenement");
        assert_eq!(e[0].msg, OpenRosaMsg::TypeMismatch { expected: "dateTime".into(), given: "hier matin".into() });
        let bad_cat = INCIDENT_SUBMISSION.replace(">armed_attack<", ">pillage<");
        assert_eq!(errors(&bad_cat, &form), vec![OpenRosaMsg::UnknownChoice { value: "pillage".into() }]);
        // Every problem at once.
        let both = bad_cat.replace("2026-05-21T06:00:00.000+00:00</date", "hier</date");
        assert_eq!(errors(&both, &form).len(), 2);
    }

    #[test]
    fn geopoint_out_of_range_is_kept_when_optional_and_refused_when_required() {
        let xml = INCIDENT_SUBMISSION.replace("14.0106 -4.2453 281.5 4.9", "-4.2453 194.0106 0 5");
        let s = Submission::parse(xml.as_bytes(), &incident()).unwrap();
        assert_eq!(s.value("/data/lieu/position"), Some(&Value::Unparsed("-4.2453 194.0106 0 5".into())));
        assert_eq!(s.warnings, vec![OpenRosaInvalid::new("/data/lieu/position", OpenRosaMsg::GeopointOutOfRange { given: "-4.2453 194.0106 0 5".into() })]);
        let strict = XForm::parse(INCIDENT_XML.replace(r#"type="geopoint"/>"#, r#"type="geopoint" required="true()"/>"#).as_bytes()).unwrap();
        assert_eq!(errors(&xml, &strict), vec![OpenRosaMsg::GeopointOutOfRange { given: "-4.2453 194.0106 0 5".into() }]);
        assert!(GeoPoint::parse("14.5").is_err());
        assert!(GeoPoint::parse("14.5 -4 NaN").is_err());
        assert!(GeoPoint::parse("14.5 -4 0 -3").is_err(), "negative accuracy");
    }

    #[test]
    fn unknown_choice_in_select_multiple_is_refused() {
        let xml = perception_submission("uuid:p2", "ML-BKO-C4", "peu", "banditisme sorcellerie", &[]);
        let e = Submission::parse(xml.as_bytes(), &perception()).unwrap_err();
        assert_eq!(e, vec![OpenRosaInvalid::new("/data/preoccupations", OpenRosaMsg::UnknownChoice { value: "sorcellerie".into() })]);
    }

    #[test]
    fn unknown_elements_are_kept_with_a_warning() {
        let xml = INCIDENT_SUBMISSION.replace("<meta>", "<ancien_champ>x</ancien_champ><extra><a>1</a><a>2</a></extra><meta>");
        let s = Submission::parse(xml.as_bytes(), &incident()).unwrap();
        assert_eq!(s.data.get("ancien_champ"), Some(&Value::Text("x".into())));
        assert!(matches!(s.data.get("extra"), Some(Value::Group(r)) if r.entries.len() == 2));
        let names: Vec<&str> = s.warnings.iter().map(|w| w.path.as_str()).collect();
        assert_eq!(names, ["/data/ancien_champ", "/data/extra"]);
        assert!(s.data.entries.iter().find(|e| e.name == "extra").is_some_and(|e| !e.known));
    }

    #[test]
    fn attachment_names_must_be_plain() {
        let form = incident();
        for bad in ["../../etc/passwd", "dossier/photo.jpg", "C:\\photo.jpg", ".htaccess"] {
            let xml = INCIDENT_SUBMISSION.replace("1779350680123.jpg", bad);
            let s = Submission::parse(xml.as_bytes(), &form).unwrap();
            assert!(s.attachments.is_empty(), "{bad}");
            assert_eq!(s.warnings[0].msg, OpenRosaMsg::InvalidAttachmentName { name: bad.into() });
        }
    }

    #[test]
    fn reads_the_other_types() {
        let f = |kind: FieldKind| Field { kind, ..incident().field("/data/description").unwrap().clone() };
        assert_eq!(read_value(&f(FieldKind::Boolean), "1"), Ok(Value::Boolean(true)));
        assert!(read_value(&f(FieldKind::Boolean), "oui").is_err());
        assert_eq!(read_value(&f(FieldKind::Time), "14:30:00.000+00:00"), Ok(Value::Time("14:30:00.000+00:00".into())));
        assert!(read_value(&f(FieldKind::Time), "25:99").is_err());
        assert!(read_value(&f(FieldKind::Int), "12.5").is_err());
        assert!(read_value(&f(FieldKind::Decimal), "inf").is_err());
        assert!(matches!(read_value(&f(FieldKind::Geoshape), "14 -4 0 0;14.1 -4 0 0;14 -4 0 0"), Ok(Value::Geopoints(p)) if p.len() == 3));
        for dt in ["2026-05-21T06:00:00Z", "2026-05-21T06:00:00.000+0000", "2026-05-21T06:00:00"] {
            assert!(matches!(read_value(&f(FieldKind::DateTime), dt), Ok(Value::DateTime(_))), "{dt}");
        }
    }

    #[test]
    fn exports_like_central() {
        let form = perception();
        let subs: Vec<Submission> = [
            perception_submission("uuid:a", "ML-BKO-C4", "peu", "banditisme", &[("femme", "0_14"), ("homme", "25_49")]),
            perception_submission("uuid:b", "ML-7-GAO-GAO", "assez", "aucune", &[]),
        ]
        .iter()
        .map(|x| Submission::parse(x.as_bytes(), &form).unwrap())
        .collect();
        let tables = export_tables(&form, &subs);
        assert_eq!(tables.len(), 2);
        let main = &tables[0];
        assert_eq!(main.name, "vigie_perception");
        assert!(main.columns.contains(&"confiance-confiance_police".to_string()));
        assert_eq!(main.columns.last().map(String::as_str), Some("KEY"));
        assert!(!main.columns.iter().any(|c| c.starts_with("membres")));
        let col = |t: &Table, r: usize, c: &str| t.rows[r][t.columns.iter().position(|x| x == c).unwrap()].clone();
        assert_eq!(col(main, 1, "commune"), "ML-7-GAO-GAO");
        assert_eq!(col(main, 0, "meta-instanceID"), "uuid:a");
        let rep = &tables[1];
        assert_eq!(rep.name, "vigie_perception-membres");
        assert_eq!(rep.columns, ["sexe_membre", "age_membre", "PARENT_KEY", "KEY"]);
        assert_eq!(rep.rows, vec![vec!["femme", "0_14", "uuid:a", "uuid:a/membres[1]"], vec!["homme", "25_49", "uuid:a", "uuid:a/membres[2]"]]);
        let csv = rep.to_csv();
        assert!(csv.starts_with("sexe_membre,age_membre,PARENT_KEY,KEY\nfemme,0_14,uuid:a,uuid:a/membres[1]\n"), "{csv}");

        let inc = incident();
        let s = Submission::parse(INCIDENT_SUBMISSION.as_bytes(), &inc).unwrap();
        let t = &export_tables(&inc, &[s])[0];
        assert_eq!(col(t, 0, "lieu-position-Latitude"), "14.0106");
        assert_eq!(col(t, 0, "lieu-position-Accuracy"), "4.9");
        assert_eq!(col(t, 0, "date_evenement"), "2026-05-21T06:00:00.000+00:00");
    }
}
