//! A form as the server needs it: its id and version (to file submissions), its title (for the
//! form list), and the tree of fields with types, labels and choices (to check submissions,
//! export them and tally surveys). Read from the XForm pyxform makes; the XForm bytes stay the
//! source of truth, this is a view of them.

use super::xml::{self, Element, Limits};
use super::{OpenRosaInvalid, OpenRosaMsg};
use crate::Lang;
use serde::Serialize;
use std::collections::HashMap;

/// What a node of the instance holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "type")]
pub enum FieldKind {
    String,
    Int,
    Decimal,
    Date,
    Time,
    DateTime,
    Boolean,
    Geopoint,
    Geotrace,
    Geoshape,
    /// `select_one`: one choice value.
    SelectOne,
    /// `select_multiple`: choice values separated by spaces.
    SelectMultiple,
    /// A photo, recording, video or file: the instance holds the file name, the file comes as
    /// another part of the submission.
    Binary,
    Barcode,
    /// A bind type this module does not know; the value is kept as text.
    Other(String),
    Group,
    /// A node that repeats: each occurrence in a submission is one record.
    Repeat,
}

impl FieldKind {
    fn from_bind_type(t: &str) -> FieldKind {
        match xml::local(t) {
            "string" | "" => FieldKind::String,
            "int" | "integer" => FieldKind::Int,
            "decimal" => FieldKind::Decimal,
            "date" => FieldKind::Date,
            "time" => FieldKind::Time,
            "dateTime" => FieldKind::DateTime,
            "boolean" => FieldKind::Boolean,
            "geopoint" => FieldKind::Geopoint,
            "geotrace" => FieldKind::Geotrace,
            "geoshape" => FieldKind::Geoshape,
            "select1" => FieldKind::SelectOne,
            "select" => FieldKind::SelectMultiple,
            "binary" => FieldKind::Binary,
            "barcode" => FieldKind::Barcode,
            other => FieldKind::Other(other.to_string()),
        }
    }
    /// The XForm type name, as messages use it.
    pub fn xform_type(&self) -> &str {
        match self {
            FieldKind::String => "string",
            FieldKind::Int => "int",
            FieldKind::Decimal => "decimal",
            FieldKind::Date => "date",
            FieldKind::Time => "time",
            FieldKind::DateTime => "dateTime",
            FieldKind::Boolean => "boolean",
            FieldKind::Geopoint => "geopoint",
            FieldKind::Geotrace => "geotrace",
            FieldKind::Geoshape => "geoshape",
            FieldKind::SelectOne => "select1",
            FieldKind::SelectMultiple => "select",
            FieldKind::Binary => "binary",
            FieldKind::Barcode => "barcode",
            FieldKind::Other(t) => t,
            FieldKind::Group => "group",
            FieldKind::Repeat => "repeat",
        }
    }
    pub fn is_select(&self) -> bool {
        matches!(self, FieldKind::SelectOne | FieldKind::SelectMultiple)
    }
}

/// Whether a field must be answered. `If` keeps the XPath as written: the server does not
/// evaluate XPath, Collect did when the form was filled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "required", content = "expr")]
pub enum Required {
    No,
    Yes,
    If(String),
}

/// A text in French and English when the form has translations, else the form's only text in
/// `default`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Label {
    pub fr: Option<String>,
    pub en: Option<String>,
    pub default: Option<String>,
}

impl Label {
    /// The text in `lang`, else the default, else the other language.
    pub fn get(&self, lang: Lang) -> Option<&str> {
        let (want, other) = match lang {
            Lang::Fr => (&self.fr, &self.en),
            Lang::En => (&self.en, &self.fr),
        };
        want.as_deref().or(self.default.as_deref()).or(other.as_deref())
    }
    pub fn is_empty(&self) -> bool {
        self.fr.is_none() && self.en.is_none() && self.default.is_none()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Choice {
    pub value: String,
    pub label: Label,
}

/// A node of the primary instance, with what the binds and the body say about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Field {
    pub name: String,
    /// Absolute path: `/data/lieu/commune`.
    pub path: String,
    pub kind: FieldKind,
    pub required: Required,
    pub relevant: Option<String>,
    pub constraint: Option<String>,
    pub calculate: Option<String>,
    pub readonly: bool,
    pub label: Label,
    pub hint: Label,
    pub choices: Vec<Choice>,
    /// The choices come from a file or from answers (`select_one_from_file`, choices from a
    /// repeat): `choices` is then empty and values cannot be checked.
    pub dynamic_choices: bool,
    /// `image/*`, `audio/*`… for uploads.
    pub media_type: Option<String>,
    pub children: Vec<Field>,
}

impl Field {
    fn new(name: &str, path: String, kind: FieldKind) -> Self {
        Field {
            name: name.to_string(),
            path,
            kind,
            required: Required::No,
            relevant: None,
            constraint: None,
            calculate: None,
            readonly: false,
            label: Label::default(),
            hint: Label::default(),
            choices: Vec::new(),
            dynamic_choices: false,
            media_type: None,
            children: Vec::new(),
        }
    }
    pub fn child(&self, name: &str) -> Option<&Field> {
        self.children.iter().find(|c| c.name == name)
    }
    pub fn choice(&self, value: &str) -> Option<&Choice> {
        self.choices.iter().find(|c| c.value == value)
    }
    /// Whether `value` is allowed: in the list, or the list is not known here.
    pub fn allows_choice(&self, value: &str) -> bool {
        self.dynamic_choices || self.choices.is_empty() || self.choice(value).is_some()
    }
}

/// A parsed XForm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct XForm {
    /// The `id` attribute of the instance root (`form_id` in the XLSForm).
    pub form_id: String,
    pub version: Option<String>,
    pub title: String,
    /// The instance root's name (`data` for pyxform): every path starts with it.
    pub root: String,
    /// The itext languages as the form names them: `Français (fr)`, `English (en)`.
    pub languages: Vec<String>,
    /// The children of the instance root.
    pub fields: Vec<Field>,
    /// Path of `meta/instanceID`, when the form declares it (pyxform always does).
    pub instance_id_path: Option<String>,
    /// Files the form refers to (`jr://images/logo.png` → `logo.png`, external choice lists):
    /// the manifest must offer them.
    pub media_files: Vec<String>,
}

/// Form ids go into URLs and file names: letters, digits, `_`, `-`, `.`.
fn valid_form_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// Lang of an itext translation: the code in parentheses (`Français (fr)`), else the name.
fn translation_lang(name: &str) -> Option<Lang> {
    let code = match (name.rfind('('), name.rfind(')')) {
        (Some(a), Some(b)) if a < b => name[a + 1..b].trim().to_ascii_lowercase(),
        _ => crate::text::fold(name),
    };
    let primary = code.split(['-', '_', ' ']).next().unwrap_or("");
    match primary {
        "fr" | "fra" | "fre" | "francais" | "french" => Some(Lang::Fr),
        "en" | "eng" | "english" | "anglais" => Some(Lang::En),
        _ => None,
    }
}

struct Itext {
    /// (lang, is default) per translation, and id → text.
    translations: Vec<(Option<Lang>, bool, HashMap<String, String>)>,
}

impl Itext {
    fn read(model: &Element) -> (Itext, Vec<String>) {
        let mut translations = Vec::new();
        let mut names = Vec::new();
        if let Some(itext) = model.child("itext") {
            for (i, t) in itext.children_named("translation").enumerate() {
                let name = t.attr("lang").unwrap_or("").to_string();
                let is_default = t.attr("default").is_some_and(|d| d.trim() == "true()") || i == 0;
                let mut texts = HashMap::new();
                for text in t.children_named("text") {
                    let Some(id) = text.attr("id") else { continue };
                    // A text may also have image/audio forms; the plain value is the label.
                    if let Some(v) = text.children_named("value").find(|v| v.attr("form").is_none()) {
                        texts.insert(id.to_string(), v.deep_text().trim().to_string());
                    }
                }
                translations.push((translation_lang(&name), is_default, texts));
                names.push(name);
            }
            // Only one default: the declared one wins over "the first".
            if translations.iter().filter(|t| t.1).count() > 1 {
                if let Some(first) = translations.first_mut() {
                    first.1 = false;
                }
            }
        }
        (Itext { translations }, names)
    }

    fn label(&self, id: &str) -> Label {
        let mut l = Label::default();
        for (lang, is_default, texts) in &self.translations {
            let Some(t) = texts.get(id).filter(|t| !t.is_empty()) else { continue };
            match lang {
                Some(Lang::Fr) if l.fr.is_none() => l.fr = Some(t.clone()),
                Some(Lang::En) if l.en.is_none() => l.en = Some(t.clone()),
                _ => {}
            }
            if *is_default {
                l.default = Some(t.clone());
            }
        }
        l
    }
}

/// `jr:itext('/data/x:label')` → `/data/x:label`; `jr:itext(itextId)` → `itextId` (unquoted:
/// a path relative to the item).
fn itext_ref(r: &str) -> Option<(&str, bool)> {
    let inner = r.trim().strip_prefix("jr:itext(")?.strip_suffix(')')?.trim();
    match inner.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
        Some(lit) => Some((lit, true)),
        None => match inner.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
            Some(lit) => Some((lit, true)),
            None => Some((inner, false)),
        },
    }
}

/// A `<label>` or `<hint>` element: an itext reference or plain text.
fn read_label(e: Option<&Element>, itext: &Itext) -> Label {
    let Some(e) = e else { return Label::default() };
    if let Some((id, true)) = e.attr("ref").and_then(itext_ref) {
        return itext.label(id);
    }
    let t = e.deep_text().trim().to_string();
    Label { default: (!t.is_empty()).then_some(t), ..Label::default() }
}

/// What the body says about one path.
#[derive(Default)]
struct Control {
    tag: String,
    label: Label,
    hint: Label,
    choices: Vec<Choice>,
    dynamic_choices: bool,
    media_type: Option<String>,
    repeat: bool,
}

fn resolve(reference: &str, context: &str) -> String {
    let r = reference.trim();
    if r.starts_with('/') || context.is_empty() {
        r.to_string()
    } else {
        format!("{}/{}", context.trim_end_matches('/'), r.trim_start_matches("./"))
    }
}

fn read_body(body: &Element, context: &str, itext: &Itext, instances: &HashMap<String, &Element>, out: &mut HashMap<String, Control>) {
    for e in &body.children {
        let tag = e.name();
        match tag {
            "group" | "repeat" => {
                let path = e.attr("ref").or(e.attr("nodeset")).map(|r| resolve(r, context));
                if let Some(path) = &path {
                    let c = out.entry(path.clone()).or_default();
                    if tag == "repeat" {
                        c.repeat = true;
                    }
                    let label = read_label(e.child("label"), itext);
                    if !label.is_empty() {
                        c.label = label;
                    }
                    if c.tag.is_empty() {
                        c.tag = tag.to_string();
                    }
                }
                read_body(e, path.as_deref().unwrap_or(context), itext, instances, out);
            }
            "input" | "select1" | "select" | "upload" | "trigger" | "range" | "rank" | "textarea" | "secret" => {
                let Some(r) = e.attr("ref") else { continue };
                let path = resolve(r, context);
                let mut c = Control {
                    tag: tag.to_string(),
                    label: read_label(e.child("label"), itext),
                    hint: read_label(e.child("hint"), itext),
                    media_type: e.attr("mediatype").map(str::to_string),
                    ..Control::default()
                };
                for item in e.children_named("item") {
                    let value = item.child("value").map(|v| v.deep_text().trim().to_string()).unwrap_or_default();
                    c.choices.push(Choice { value, label: read_label(item.child("label"), itext) });
                }
                if let Some(set) = e.child("itemset") {
                    match read_itemset(set, itext, instances) {
                        Some(choices) => c.choices = choices,
                        None => c.dynamic_choices = true,
                    }
                }
                out.insert(path, c);
            }
            _ => {}
        }
    }
}

/// Choices from `<itemset nodeset="instance('list')/root/item">`, when the secondary instance
/// is inline. `None` when they come from a file or from the answers.
fn read_itemset(set: &Element, itext: &Itext, instances: &HashMap<String, &Element>) -> Option<Vec<Choice>> {
    let nodeset = set.attr("nodeset")?;
    let rest = nodeset.trim().strip_prefix("instance(")?;
    let quote = rest.chars().next()?;
    let rest = &rest[quote.len_utf8()..];
    let end = rest.find(quote)?;
    let id = &rest[..end];
    let path = rest[end + 1..].trim_start_matches(')');
    let instance = instances.get(id)?;
    if instance.attr("src").is_some() {
        return None;
    }
    // The last step names the items; a predicate (choice filter) is evaluated by Collect.
    let last_step = path.split('[').next()?.rsplit('/').next()?.trim();
    let value_ref = set.child("value").and_then(|v| v.attr("ref")).unwrap_or("name");
    let label_ref = set.child("label").and_then(|l| l.attr("ref")).unwrap_or("label");
    let root = instance.children.first()?;
    let items = root.descendants().into_iter().filter(|e| e.name() == last_step);
    let choices = items
        .map(|item| {
            let field = |name: &str| item.child(name).map(|c| c.deep_text().trim().to_string());
            let label = match itext_ref(label_ref) {
                Some((lit, true)) => itext.label(lit),
                Some((rel, false)) => field(rel).map(|id| itext.label(&id)).unwrap_or_default(),
                None => Label { default: field(label_ref), ..Label::default() },
            };
            Choice { value: field(value_ref).unwrap_or_default(), label }
        })
        .collect();
    Some(choices)
}

/// The file names behind `jr://images/…`, `jr://audio/…`, `jr://file-csv/…` in the form.
fn media_files(root: &Element) -> Vec<String> {
    const SCHEMES: [&str; 6] = ["jr://images/", "jr://audio/", "jr://video/", "jr://file/", "jr://file-csv/", "jr://file-geojson/"];
    let mut out: Vec<String> = Vec::new();
    let mut see = |s: &str| {
        for scheme in SCHEMES {
            if let Some(rest) = s.trim().strip_prefix(scheme) {
                let name = rest.to_string();
                if !name.is_empty() && !out.contains(&name) {
                    out.push(name);
                }
            }
        }
    };
    for e in root.descendants() {
        see(&e.text);
        for (_, v) in &e.attrs {
            see(v);
        }
    }
    out
}

impl XForm {
    /// Parses an XForm with the default limits.
    pub fn parse(bytes: &[u8]) -> Result<XForm, OpenRosaInvalid> {
        XForm::parse_with(bytes, &Limits::default())
    }

    pub fn parse_with(bytes: &[u8], limits: &Limits) -> Result<XForm, OpenRosaInvalid> {
        let html = xml::parse(bytes, limits).map_err(OpenRosaInvalid::doc)?;
        let missing = |what: &str| OpenRosaInvalid::doc(OpenRosaMsg::NotAnXForm { missing: what.into() });
        if html.name() != "html" {
            return Err(missing("h:html"));
        }
        let head = html.child("head").ok_or_else(|| missing("h:head"))?;
        let model = head.child("model").ok_or_else(|| missing("model"))?;
        let body = html.child("body").ok_or_else(|| missing("h:body"))?;
        let mut instances = model.children_named("instance");
        let primary = instances.next().ok_or_else(|| missing("instance"))?;
        let root = primary.children.first().ok_or_else(|| missing("instance root"))?;
        let secondary: HashMap<String, &Element> =
            instances.filter_map(|i| i.attr("id").map(|id| (id.to_string(), i))).collect();

        let form_id = root.attr("id").map(str::trim).unwrap_or("");
        if form_id.is_empty() {
            return Err(OpenRosaInvalid::doc(OpenRosaMsg::MissingFormId));
        }
        if !valid_form_id(form_id) {
            return Err(OpenRosaInvalid::doc(OpenRosaMsg::InvalidFormId { given: form_id.into() }));
        }
        let version = root.attr("version").map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
        let title = head.child("title").map(|t| t.deep_text().trim().to_string()).filter(|t| !t.is_empty());

        let (itext, languages) = Itext::read(model);
        let binds: HashMap<String, &Element> = model
            .children_named("bind")
            .filter_map(|b| b.attr("nodeset").map(|n| (n.trim().to_string(), b)))
            .collect();
        let root_path = format!("/{}", root.name());
        let mut controls = HashMap::new();
        read_body(body, &root_path, &itext, &secondary, &mut controls);

        let fields = build_fields(root, &root_path, &binds, &controls);
        let instance_id_path = fields
            .iter()
            .find(|f| f.name == "meta")
            .and_then(|m| m.child("instanceID"))
            .map(|f| f.path.clone());

        Ok(XForm {
            form_id: form_id.to_string(),
            version,
            title: title.unwrap_or_else(|| form_id.to_string()),
            root: root.name().to_string(),
            languages,
            fields,
            instance_id_path,
            media_files: media_files(&html),
        })
    }

    /// The field at an absolute path.
    pub fn field(&self, path: &str) -> Option<&Field> {
        let mut steps = path.trim_start_matches('/').split('/');
        if steps.next()? != self.root {
            return None;
        }
        let mut level = &self.fields;
        let mut found = None;
        for step in steps {
            let f = level.iter().find(|f| f.name == step)?;
            level = &f.children;
            found = Some(f);
        }
        found
    }

    /// The first field with this name, depth first: XLSForm names are unique in practice, so
    /// code that maps a form can name fields without their groups.
    pub fn find(&self, name: &str) -> Option<&Field> {
        fn walk<'a>(fs: &'a [Field], name: &str) -> Option<&'a Field> {
            fs.iter().find_map(|f| if f.name == name { Some(f) } else { walk(&f.children, name) })
        }
        walk(&self.fields, name)
    }

    /// Every field, depth first.
    pub fn all_fields(&self) -> Vec<&Field> {
        fn walk<'a>(fs: &'a [Field], out: &mut Vec<&'a Field>) {
            for f in fs {
                out.push(f);
                walk(&f.children, out);
            }
        }
        let mut out = Vec::new();
        walk(&self.fields, &mut out);
        out
    }
}

fn build_fields(parent: &Element, parent_path: &str, binds: &HashMap<String, &Element>, controls: &HashMap<String, Control>) -> Vec<Field> {
    let mut fields: Vec<Field> = Vec::new();
    for e in &parent.children {
        let name = e.name();
        // A repeat appears twice in pyxform's instance (the jr:template and a first copy).
        if fields.iter().any(|f| f.name == name) {
            continue;
        }
        let path = format!("{parent_path}/{name}");
        let control = controls.get(&path);
        let bind = binds.get(&path);
        let is_repeat = control.is_some_and(|c| c.repeat) || e.attr("template").is_some();
        let kind = if is_repeat {
            FieldKind::Repeat
        } else if !e.children.is_empty() {
            FieldKind::Group
        } else {
            match control.map(|c| c.tag.as_str()) {
                Some("select1") => FieldKind::SelectOne,
                Some("select") => FieldKind::SelectMultiple,
                Some("upload") => FieldKind::Binary,
                _ => FieldKind::from_bind_type(bind.and_then(|b| b.attr("type")).unwrap_or("string")),
            }
        };
        let mut f = Field::new(name, path.clone(), kind);
        if let Some(b) = bind {
            let attr = |n: &str| b.attr(n).map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
            f.required = match attr("required").as_deref() {
                None | Some("false()") => Required::No,
                Some("true()") => Required::Yes,
                Some(expr) => Required::If(expr.to_string()),
            };
            f.relevant = attr("relevant");
            f.constraint = attr("constraint");
            f.calculate = attr("calculate");
            f.readonly = attr("readonly").as_deref() == Some("true()");
        }
        if let Some(c) = control {
            f.label = c.label.clone();
            f.hint = c.hint.clone();
            f.choices = c.choices.clone();
            f.dynamic_choices = c.dynamic_choices;
            f.media_type = c.media_type.clone();
        }
        if matches!(f.kind, FieldKind::Group | FieldKind::Repeat) {
            f.children = build_fields(e, &path, binds, controls);
        }
        fields.push(f);
    }
    fields
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::early_warning::taxonomy::default_categories;

    pub(crate) const INCIDENT_XML: &str = include_str!("../../../../forms/incident_fr.xml");
    pub(crate) const PERCEPTION_XML: &str = include_str!("../../../../forms/perception_fr.xml");

    pub(crate) fn incident() -> XForm {
        XForm::parse(INCIDENT_XML.as_bytes()).unwrap()
    }
    pub(crate) fn perception() -> XForm {
        XForm::parse(PERCEPTION_XML.as_bytes()).unwrap()
    }

    #[test]
    fn reads_the_incident_form() {
        let f = incident();
        assert_eq!(f.form_id, "vigie_incident");
        assert_eq!(f.version.as_deref(), Some("2026052101"));
        assert_eq!(f.title, "Vigie – Signalement d'incident");
        assert_eq!(f.root, "data");
        assert_eq!(f.languages, vec!["Français (fr)", "English (en)"]);
        assert_eq!(f.instance_id_path.as_deref(), Some("/data/meta/instanceID"));
        let names: Vec<&str> = f.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            ["debut", "fin", "categorie", "description", "date_evenement", "lieu", "photo", "message_vocal", "type_rapporteur", "meta"]
        );

        let cat = f.field("/data/categorie").unwrap();
        assert_eq!(cat.kind, FieldKind::SelectOne);
        assert_eq!(cat.required, Required::Yes);
        assert_eq!(cat.label.get(Lang::Fr), Some("Que s'est-il passé ?"));
        assert_eq!(cat.label.get(Lang::En), Some("What happened?"));
        assert_eq!(cat.choice("armed_attack").unwrap().label.en.as_deref(), Some("Armed attack"));

        assert_eq!(f.field("/data/debut").unwrap().kind, FieldKind::DateTime);
        let date = f.field("/data/date_evenement").unwrap();
        assert_eq!(date.kind, FieldKind::DateTime);
        assert_eq!(date.constraint.as_deref(), Some(". <= now()"));

        let lieu = f.field("/data/lieu").unwrap();
        assert_eq!(lieu.kind, FieldKind::Group);
        assert_eq!(lieu.label.get(Lang::Fr), Some("Lieu"));
        let lieu_dit = f.field("/data/lieu/lieu_dit").unwrap();
        assert_eq!(lieu_dit.required, Required::If("/data/lieu/commune  = 'autre'".into()));
        let pos = f.find("position").unwrap();
        assert_eq!((pos.kind.clone(), pos.path.as_str()), (FieldKind::Geopoint, "/data/lieu/position"));
        assert_eq!(pos.hint.get(Lang::En), Some("Only if it does not put you at risk."));
        assert_eq!(pos.required, Required::No);
        let commune = f.find("commune").unwrap();
        assert!(commune.choice("ML-5-MOPTI-MOPTI").is_some() && commune.choice("autre").is_some());

        let photo = f.field("/data/photo").unwrap();
        assert_eq!((photo.kind.clone(), photo.media_type.as_deref()), (FieldKind::Binary, Some("image/*")));
        assert_eq!(f.field("/data/message_vocal").unwrap().media_type.as_deref(), Some("audio/*"));
        let id = f.field("/data/meta/instanceID").unwrap();
        assert!(id.readonly);
        assert!(f.field("/data/meta/instanceName").unwrap().calculate.is_some());
        assert!(f.media_files.is_empty());
    }

    #[test]
    fn incident_categories_are_the_taxonomy() {
        let f = incident();
        let form: Vec<(String, Option<String>, Option<String>)> = f
            .find("categorie")
            .unwrap()
            .choices
            .iter()
            .map(|c| (c.value.clone(), c.label.fr.clone(), c.label.en.clone()))
            .collect();
        let taxonomy: Vec<(String, Option<String>, Option<String>)> = default_categories()
            .into_iter()
            .map(|c| (c.code.as_str().to_string(), Some(c.label_fr), Some(c.label_en)))
            .collect();
        assert_eq!(form, taxonomy, "forms/build_forms.py must follow early_warning::taxonomy");
    }

    #[test]
    fn reads_the_perception_form_with_its_repeat() {
        let f = perception();
        assert_eq!(f.form_id, "vigie_perception");
        assert_eq!(f.field("/data/date_entretien").unwrap().kind, FieldKind::Date);
        assert_eq!(f.field("/data/nb_membres").unwrap().kind, FieldKind::Int);
        assert_eq!(f.field("/data/distance_poste_km").unwrap().kind, FieldKind::Decimal);
        let pre = f.field("/data/preoccupations").unwrap();
        assert_eq!(pre.kind, FieldKind::SelectMultiple);
        assert_eq!(pre.choices.len(), 9);
        assert_eq!(pre.choice("vbg").unwrap().label.get(Lang::Fr), Some("Violences basées sur le genre"));
        let police = f.field("/data/confiance/confiance_police").unwrap();
        assert_eq!(police.choices.iter().map(|c| c.value.as_str()).collect::<Vec<_>>(), ["pas_du_tout", "peu", "assez", "tout_a_fait", "nsp"]);
        let membres = f.field("/data/membres").unwrap();
        assert_eq!(membres.kind, FieldKind::Repeat);
        assert_eq!(membres.label.get(Lang::Fr), Some("Membre du ménage"));
        assert_eq!(membres.children.len(), 2, "the template and the first copy make one field");
        assert_eq!(f.field("/data/membres/age_membre").unwrap().choices.len(), 4);
        assert_eq!(f.fields.iter().filter(|x| x.name == "membres").count(), 1);
    }

    #[test]
    fn reads_forms_without_translations_and_with_inline_items() {
        let xml = r#"<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml" xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms">
  <h:head><h:title>Ancien</h:title>
    <model>
      <instance><enquete id="old.form-1">
        <q/><img/><town/><orx:meta><orx:instanceID/></orx:meta>
      </enquete></instance>
      <instance id="towns" src="jr://file-csv/towns.csv"/>
      <bind nodeset="/enquete/q" type="select1" required="true()"/>
      <bind nodeset="/enquete/img" type="binary"/>
      <bind nodeset="/enquete/town" type="string"/>
    </model>
  </h:head>
  <h:body>
    <select1 ref="q"><label>Question</label>
      <item><label>Oui</label><value>1</value></item>
      <item><label>Non</label><value>2</value></item>
    </select1>
    <input ref="/enquete/img"><label><output value="/enquete/q"/> Image</label></input>
    <select1 ref="/enquete/town"><itemset nodeset="instance('towns')/root/item"><value ref="name"/><label ref="label"/></itemset></select1>
    <trigger ref="/enquete/missing"/>
  </h:body>
</h:html>"#;
        let f = XForm::parse(xml.as_bytes()).unwrap();
        assert_eq!((f.form_id.as_str(), f.version.as_deref(), f.root.as_str()), ("old.form-1", None, "enquete"));
        let q = f.field("/enquete/q").unwrap();
        assert_eq!(q.kind, FieldKind::SelectOne);
        assert_eq!(q.label.get(Lang::En), Some("Question"), "the only label serves every language");
        assert_eq!(q.choices[1].value, "2");
        assert_eq!(q.choices[1].label.default.as_deref(), Some("Non"));
        assert_eq!(f.field("/enquete/img").unwrap().kind, FieldKind::Binary);
        let town = f.field("/enquete/town").unwrap();
        assert!(town.dynamic_choices && town.allows_choice("anything"));
        assert_eq!(f.instance_id_path.as_deref(), Some("/enquete/meta/instanceID"));
        assert_eq!(f.media_files, vec!["towns.csv"]);
    }

    #[test]
    fn refuses_what_is_not_a_usable_xform() {
        let err = |xml: &str| XForm::parse(xml.as_bytes()).unwrap_err().msg;
        assert_eq!(err("<data id='x'/>"), OpenRosaMsg::NotAnXForm { missing: "h:html".into() });
        assert_eq!(err("<h:html xmlns:h='h'><h:head><model/></h:head><h:body/></h:html>"), OpenRosaMsg::NotAnXForm { missing: "instance".into() });
        let no_id = "<h:html xmlns:h='h'><h:head><model><instance><data/></instance></model></h:head><h:body/></h:html>";
        assert_eq!(err(no_id), OpenRosaMsg::MissingFormId);
        let bad_id = no_id.replace("<data/>", "<data id='../etc'/>");
        assert_eq!(err(&bad_id), OpenRosaMsg::InvalidFormId { given: "../etc".into() });
        assert_eq!(err("<!DOCTYPE h:html><h:html/>"), OpenRosaMsg::DtdForbidden);
    }

    #[test]
    fn translation_names_give_languages() {
        assert_eq!(translation_lang("Français (fr)"), Some(Lang::Fr));
        assert_eq!(translation_lang("English (en)"), Some(Lang::En));
        assert_eq!(translation_lang("French"), Some(Lang::Fr));
        assert_eq!(translation_lang("english"), Some(Lang::En));
        assert_eq!(translation_lang("Bamanankan (bm)"), None);
    }
}
