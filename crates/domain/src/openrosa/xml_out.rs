//! The OpenRosa documents Collect reads: the form list, a form's media manifest, and the
//! response to a submission (Collect shows its message to the person who sent it). Shapes as in
//! the OpenRosa Form List and Form Submission APIs, and as ODK Central writes them. Escaping is
//! quick-xml's: names, titles and messages come from people.

use md5::{Digest, Md5};
use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::Writer;
use serde::Serialize;

/// `md5:<hex>` of a file's bytes: Collect compares it with its copy to decide whether to
/// download the form or a media file again.
pub fn md5_hash(bytes: &[u8]) -> String {
    format!("md5:{}", hex::encode(Md5::digest(bytes)))
}

/// One form in the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FormListEntry {
    pub form_id: String,
    pub name: String,
    pub version: Option<String>,
    /// `md5_hash` of the XForm bytes as served.
    pub hash: String,
    pub download_url: String,
    /// Only when the form has media files: Collect then fetches the manifest.
    pub manifest_url: Option<String>,
}

/// One media file of a form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MediaFileEntry {
    pub file_name: String,
    pub hash: String,
    pub download_url: String,
}

/// The `nature` of a response message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Nature {
    SubmitSuccess,
    Error,
}

impl Nature {
    fn as_str(self) -> &'static str {
        match self {
            Nature::SubmitSuccess => "submit_success",
            Nature::Error => "error",
        }
    }
}

type W = Writer<Vec<u8>>;

fn start() -> W {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None))).expect("in memory");
    w
}

fn finish(w: W) -> String {
    String::from_utf8(w.into_inner()).expect("written from str")
}

fn text_element(w: &mut W, name: &str, text: &str) {
    w.create_element(name).write_text_content(BytesText::new(text)).expect("in memory");
}

/// `GET /formList`: `<xforms xmlns="http://openrosa.org/xforms/xformsList">`.
pub fn form_list(forms: &[FormListEntry]) -> String {
    let mut w = start();
    w.create_element("xforms")
        .with_attribute(("xmlns", "http://openrosa.org/xforms/xformsList"))
        .write_inner_content(|w| {
            for f in forms {
                w.create_element("xform").write_inner_content(|w| {
                    text_element(w, "formID", &f.form_id);
                    text_element(w, "name", &f.name);
                    text_element(w, "version", f.version.as_deref().unwrap_or(""));
                    text_element(w, "hash", &f.hash);
                    text_element(w, "downloadUrl", &f.download_url);
                    if let Some(m) = &f.manifest_url {
                        text_element(w, "manifestUrl", m);
                    }
                    Ok(())
                })?;
            }
            Ok(())
        })
        .expect("in memory");
    finish(w)
}

/// A form's manifest: `<manifest xmlns="http://openrosa.org/xforms/xformsManifest">`.
pub fn manifest(files: &[MediaFileEntry]) -> String {
    let mut w = start();
    w.create_element("manifest")
        .with_attribute(("xmlns", "http://openrosa.org/xforms/xformsManifest"))
        .write_inner_content(|w| {
            for f in files {
                w.create_element("mediaFile").write_inner_content(|w| {
                    text_element(w, "filename", &f.file_name);
                    text_element(w, "hash", &f.hash);
                    text_element(w, "downloadUrl", &f.download_url);
                    Ok(())
                })?;
            }
            Ok(())
        })
        .expect("in memory");
    finish(w)
}

/// The body of a submission response (201 on success, 4xx with `Nature::Error`).
pub fn response(nature: Nature, message: &str) -> String {
    let mut w = start();
    w.create_element("OpenRosaResponse")
        .with_attribute(("xmlns", "http://openrosa.org/http/response"))
        .write_inner_content(|w| {
            w.create_element("message")
                .with_attribute(("nature", nature.as_str()))
                .write_text_content(BytesText::new(message))?;
            Ok(())
        })
        .expect("in memory");
    finish(w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openrosa::xform::tests::INCIDENT_XML;
    use crate::openrosa::xml::{parse, Limits};

    #[test]
    fn md5_is_the_usual_one() {
        assert_eq!(md5_hash(b""), "md5:d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(md5_hash(b"The quick brown fox jumps over the lazy dog"), "md5:9e107d9d372bb6826bd81d3542a419d6");
    }

    #[test]
    fn form_list_has_the_openrosa_shape_and_escapes() {
        let xml = form_list(&[
            FormListEntry {
                form_id: "vigie_incident".into(),
                name: "Vigie – Signalement d'incident <test> & co".into(),
                version: Some("2026052101".into()),
                hash: md5_hash(INCIDENT_XML.as_bytes()),
                download_url: "https://vigie.example/odk/forms/vigie_incident.xml?a=1&b=2".into(),
                manifest_url: None,
            },
            FormListEntry {
                form_id: "vigie_perception".into(),
                name: "Perception".into(),
                version: None,
                hash: "md5:00".into(),
                download_url: "https://vigie.example/odk/forms/vigie_perception.xml".into(),
                manifest_url: Some("https://vigie.example/odk/forms/vigie_perception/manifest".into()),
            },
        ]);
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"), "{xml}");
        assert!(xml.contains("<xforms xmlns=\"http://openrosa.org/xforms/xformsList\">"), "{xml}");
        assert!(xml.contains("&lt;test&gt; &amp; co"), "{xml}");
        assert!(xml.contains("vigie_incident.xml?a=1&amp;b=2"), "{xml}");
        // Read back with our own reader: well-formed, and the values survive.
        let root = parse(xml.as_bytes(), &Limits::default()).unwrap();
        let forms: Vec<_> = root.children_named("xform").collect();
        assert_eq!(forms.len(), 2);
        assert_eq!(forms[0].child("name").unwrap().text, "Vigie – Signalement d'incident <test> & co");
        assert_eq!(forms[0].child("hash").unwrap().text, md5_hash(INCIDENT_XML.as_bytes()));
        assert!(forms[0].child("manifestUrl").is_none());
        assert_eq!(forms[1].child("version").unwrap().text, "");
        assert!(forms[1].child("manifestUrl").is_some());
    }

    #[test]
    fn manifest_and_response() {
        let m = manifest(&[MediaFileEntry { file_name: "communes.csv".into(), hash: md5_hash(b"a,b"), download_url: "https://v/odk/m/communes.csv".into() }]);
        let root = parse(m.as_bytes(), &Limits::default()).unwrap();
        assert_eq!(root.attr("xmlns"), Some("http://openrosa.org/xforms/xformsManifest"));
        let f = root.child("mediaFile").unwrap();
        assert_eq!(f.child("filename").unwrap().text, "communes.csv");
        assert_eq!(f.child("hash").unwrap().text, md5_hash(b"a,b"));

        let r = response(Nature::SubmitSuccess, "Merci ! Signalement reçu (réf. A-12 < B).");
        let root = parse(r.as_bytes(), &Limits::default()).unwrap();
        assert_eq!(root.qname, "OpenRosaResponse");
        assert_eq!(root.attr("xmlns"), Some("http://openrosa.org/http/response"));
        let msg = root.child("message").unwrap();
        assert_eq!(msg.attr("nature"), Some("submit_success"));
        assert_eq!(msg.text, "Merci ! Signalement reçu (réf. A-12 < B).");
        assert!(response(Nature::Error, "x").contains("nature=\"error\""));
    }
}
