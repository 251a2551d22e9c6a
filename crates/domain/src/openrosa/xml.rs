//! A small element tree read with quick-xml, for forms and submissions only. Hostile input is
//! expected (a submission comes from any phone holding a token): no DTD is ever read, so no
//! entity can expand (billion laughs, external files); size, depth and element count are capped
//! before anything is built.

use super::OpenRosaMsg;
use quick_xml::events::Event;
use quick_xml::reader::Reader;
use quick_xml::XmlVersion;

/// Caps on a document. The defaults fit a large XLSForm (thousands of choices) and a long
/// survey; a submission's media travel in other parts of the request, not in the XML.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_bytes: usize,
    pub max_depth: usize,
    pub max_elements: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_bytes: 10 * 1024 * 1024, max_depth: 64, max_elements: 200_000 }
    }
}

/// An element: its name as written (`h:head`), attributes as written, child elements, and its
/// own text (CDATA included, entities resolved, comments dropped).
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Element {
    pub qname: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Element>,
    pub text: String,
    /// 1-based line of the start tag, for messages.
    pub line: usize,
}

/// `h:head` → `head`. Forms and submissions are matched on local names: pyxform writes `meta`
/// where older forms write `orx:meta`, and no XForm name means two things in two namespaces.
pub(crate) fn local(qname: &str) -> &str {
    qname.rsplit_once(':').map_or(qname, |(_, l)| l)
}

impl Element {
    pub fn name(&self) -> &str {
        local(&self.qname)
    }
    /// An attribute by local name (`template` finds `jr:template`); a plain name first.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .or_else(|| self.attrs.iter().find(|(k, _)| !k.starts_with("xmlns") && local(k) == name))
            .map(|(_, v)| v.as_str())
    }
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name() == name)
    }
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name() == name)
    }
    /// The text of this element and of all its descendants, in document order.
    pub fn deep_text(&self) -> String {
        fn walk(e: &Element, out: &mut String) {
            out.push_str(&e.text);
            for c in &e.children {
                walk(c, out);
            }
        }
        // Children's text is kept apart from the parent's, so mixed content loses its order;
        // labels with <output/> are the only mixed content in XForms, and keep their words.
        let mut out = String::new();
        walk(self, &mut out);
        out
    }
    /// Every element of the tree, this one first.
    pub fn descendants(&self) -> Vec<&Element> {
        let mut out = vec![self];
        let mut i = 0;
        while i < out.len() {
            let e = out[i];
            out.extend(e.children.iter());
            i += 1;
        }
        out
    }
}

fn line_at(src: &str, pos: u64) -> usize {
    let pos = (pos as usize).min(src.len());
    src.as_bytes()[..pos].iter().filter(|&&b| b == b'\n').count() + 1
}

/// Line numbers of increasing positions, counting each byte once. Counting from the start of
/// the document for every element made parsing quadratic: a 64 KiB form of small elements took
/// milliseconds (found by the `xform_parse` fuzz target running at some 450 exec/s).
struct Lines<'a> {
    src: &'a [u8],
    /// Bytes before `at` are counted: `line` is the line of position `at`.
    at: usize,
    line: usize,
    /// Bytes looked at so far, for the test that each is looked at once.
    scanned: usize,
}

impl<'a> Lines<'a> {
    fn new(src: &'a str) -> Self {
        Lines { src: src.as_bytes(), at: 0, line: 1, scanned: 0 }
    }
    /// The 1-based line of `pos`, as [`line_at`] gives it.
    fn at(&mut self, pos: u64) -> usize {
        let pos = (pos as usize).min(self.src.len());
        if pos < self.at {
            // Not expected (positions only grow), but stay right if it happens.
            self.at = 0;
            self.line = 1;
        }
        self.line += self.src[self.at..pos].iter().filter(|&&b| b == b'\n').count();
        self.scanned += pos - self.at;
        self.at = pos;
        self.line
    }
}

/// Parses a whole document into its root element.
pub(crate) fn parse(bytes: &[u8], limits: &Limits) -> Result<Element, OpenRosaMsg> {
    if bytes.len() > limits.max_bytes {
        return Err(OpenRosaMsg::TooLarge { max_bytes: limits.max_bytes });
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let src = std::str::from_utf8(bytes).map_err(|_| OpenRosaMsg::NotUtf8)?;
    // Refused before the reader runs: whatever a DTD says, we never act on it.
    if contains_ignore_case(src, "<!DOCTYPE") || contains_ignore_case(src, "<!ENTITY") {
        return Err(OpenRosaMsg::DtdForbidden);
    }
    let mut reader = Reader::from_str(src);
    let malformed = |reader: &Reader<&[u8]>, reason: String| OpenRosaMsg::MalformedXml {
        line: line_at(src, reader.error_position()),
        reason,
    };
    let mut lines = Lines::new(src);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut count = 0usize;
    loop {
        let pos = reader.buffer_position();
        let event = reader.read_event().map_err(|e| malformed(&reader, e.to_string()))?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                if root.is_some() {
                    return Err(malformed(&reader, "more than one root element".into()));
                }
                count += 1;
                if count > limits.max_elements {
                    return Err(OpenRosaMsg::TooManyElements { max: limits.max_elements });
                }
                if stack.len() >= limits.max_depth {
                    return Err(OpenRosaMsg::TooDeep { max: limits.max_depth });
                }
                let qname = std::str::from_utf8(e.name().as_ref()).map_err(|_| OpenRosaMsg::NotUtf8)?.to_string();
                let mut attrs = Vec::new();
                for a in e.attributes() {
                    let a = a.map_err(|err| malformed(&reader, err.to_string()))?;
                    let key = std::str::from_utf8(a.key.as_ref()).map_err(|_| OpenRosaMsg::NotUtf8)?.to_string();
                    let value = a.normalized_value(XmlVersion::Implicit1_0).map_err(|err| match err {
                        quick_xml::Error::Escape(quick_xml::escape::EscapeError::UnrecognizedEntity(_, name)) => {
                            OpenRosaMsg::UnknownEntity { name }
                        }
                        err => malformed(&reader, err.to_string()),
                    })?;
                    attrs.push((key, value.into_owned()));
                }
                let el = Element { qname, attrs, line: lines.at(pos), ..Default::default() };
                if matches!(event, Event::Start(_)) {
                    stack.push(el);
                } else {
                    attach(&mut stack, &mut root, el);
                }
            }
            Event::End(_) => {
                // quick-xml checks that end names match their start.
                let el = stack.pop().ok_or_else(|| malformed(&reader, "unexpected end tag".into()))?;
                attach(&mut stack, &mut root, el);
            }
            Event::Text(t) => {
                let t = t.xml10_content().map_err(|e| malformed(&reader, e.to_string()))?;
                push_text(&mut stack, &t).map_err(|r| malformed(&reader, r))?;
            }
            Event::CData(t) => {
                let t = t.xml10_content().map_err(|e| malformed(&reader, e.to_string()))?;
                push_text(&mut stack, &t).map_err(|r| malformed(&reader, r))?;
            }
            Event::GeneralRef(r) => {
                let c = if r.is_char_ref() {
                    match r.resolve_char_ref() {
                        Ok(Some(c)) => c.to_string(),
                        _ => return Err(malformed(&reader, "invalid character reference".into())),
                    }
                } else {
                    let name = r.decode().map_err(|e| malformed(&reader, e.to_string()))?;
                    match quick_xml::escape::resolve_predefined_entity(&name) {
                        Some(s) => s.to_string(),
                        None => return Err(OpenRosaMsg::UnknownEntity { name: name.into_owned() }),
                    }
                };
                push_text(&mut stack, &c).map_err(|r| malformed(&reader, r))?;
            }
            Event::DocType(_) => return Err(OpenRosaMsg::DtdForbidden),
            Event::Decl(d) => {
                if let Some(Ok(enc)) = d.encoding() {
                    let enc = String::from_utf8_lossy(&enc).to_ascii_lowercase();
                    if enc != "utf-8" && enc != "utf8" && enc != "us-ascii" {
                        return Err(OpenRosaMsg::UnsupportedEncoding { encoding: enc });
                    }
                }
            }
            Event::Comment(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(OpenRosaMsg::MalformedXml { line: line_at(src, src.len() as u64), reason: "unclosed element".into() });
    }
    root.ok_or(OpenRosaMsg::MalformedXml { line: 1, reason: "no root element".into() })
}

fn attach(stack: &mut [Element], root: &mut Option<Element>, el: Element) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(el),
        None => *root = Some(el),
    }
}

fn push_text(stack: &mut [Element], t: &str) -> Result<(), String> {
    match stack.last_mut() {
        Some(e) => {
            e.text.push_str(t);
            Ok(())
        }
        None if t.trim().is_empty() => Ok(()),
        None => Err("text outside the root element".into()),
    }
}

fn contains_ignore_case(hay: &str, needle: &str) -> bool {
    hay.as_bytes().windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Element, OpenRosaMsg> {
        parse(s.as_bytes(), &Limits::default())
    }

    #[test]
    fn reads_names_attributes_text_and_entities() {
        let e = p("<?xml version='1.0' encoding='UTF-8'?>\n<h:html xmlns:h='x'><a jr:k=\"1 &amp; 2\">caf&#233; &lt;b&gt;<![CDATA[<raw>]]></a><!-- c --><b/></h:html>")
            .unwrap();
        assert_eq!(e.name(), "html");
        assert_eq!(e.qname, "h:html");
        let a = e.child("a").unwrap();
        assert_eq!(a.attr("k"), Some("1 & 2"));
        assert_eq!(a.text, "café <b><raw>");
        assert_eq!(e.children_named("b").count(), 1);
        assert_eq!(e.child("b").unwrap().line, 2);
    }

    #[test]
    fn refuses_dtds_and_unknown_entities() {
        let bomb = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<data>&lol3;</data>"#;
        assert_eq!(p(bomb), Err(OpenRosaMsg::DtdForbidden));
        assert_eq!(p("<!doctype data SYSTEM 'file:///etc/passwd'><data/>"), Err(OpenRosaMsg::DtdForbidden));
        assert_eq!(p("<data>&xxe;</data>"), Err(OpenRosaMsg::UnknownEntity { name: "xxe".into() }));
        assert_eq!(p("<data a='&xxe;'/>"), Err(OpenRosaMsg::UnknownEntity { name: "xxe".into() }));
    }

    #[test]
    fn refuses_malformed_documents_with_a_line() {
        match p("<data>\n<a>x</b>\n</data>") {
            Err(OpenRosaMsg::MalformedXml { line, .. }) => assert_eq!(line, 2),
            other => panic!("{other:?}"),
        }
        assert!(matches!(p("<data><a>"), Err(OpenRosaMsg::MalformedXml { .. })));
        assert!(matches!(p("<a/><b/>"), Err(OpenRosaMsg::MalformedXml { .. })));
        assert!(matches!(p(""), Err(OpenRosaMsg::MalformedXml { .. })));
        assert!(matches!(p("<a x='1' x='2'/>"), Err(OpenRosaMsg::MalformedXml { .. })));
        assert_eq!(parse(b"<a>\xff</a>", &Limits::default()), Err(OpenRosaMsg::NotUtf8));
        assert_eq!(
            p("<?xml version='1.0' encoding='ISO-8859-1'?><a/>"),
            Err(OpenRosaMsg::UnsupportedEncoding { encoding: "iso-8859-1".into() })
        );
    }

    #[test]
    fn element_lines_count_each_byte_once() {
        // The lines the whole-prefix count gives, with each byte of the document looked at
        // once for all the elements together (counting from the start for each was quadratic).
        let doc = format!("<data>\n{}</data>", "<a>x</a>\n<b\n/>\n".repeat(500));
        let e = p(&doc).unwrap();
        let starts: Vec<usize> = doc.match_indices('<').map(|(i, _)| i).filter(|&i| &doc[i + 1..i + 2] != "/").collect();
        let lines: Vec<usize> = e.children.iter().map(|c| c.line).collect();
        let expected: Vec<usize> = starts[1..].iter().map(|&i| line_at(&doc, i as u64)).collect();
        assert_eq!(lines, expected);
        assert_eq!((lines[0], lines[1], lines[999]), (2, 3, 1500));
        let mut counter = Lines::new(&doc);
        for &i in &starts {
            assert_eq!(counter.at(i as u64), line_at(&doc, i as u64));
        }
        assert!(counter.scanned <= doc.len(), "{} bytes scanned for {}", counter.scanned, doc.len());
    }

    #[test]
    fn caps_size_depth_and_count() {
        let limits = Limits { max_bytes: 100, max_depth: 3, max_elements: 5 };
        assert_eq!(parse(&[b' '; 101], &limits), Err(OpenRosaMsg::TooLarge { max_bytes: 100 }));
        assert_eq!(parse(b"<a><b><c><d/></c></b></a>", &limits), Err(OpenRosaMsg::TooDeep { max: 3 }));
        assert_eq!(parse(b"<a><b/><b/><b/><b/><b/></a>", &limits), Err(OpenRosaMsg::TooManyElements { max: 5 }));
        assert!(parse(b"<a><b><c/></b></a>", &limits).is_ok());
        let deep = "<a>".repeat(10_000);
        assert_eq!(p(&deep), Err(OpenRosaMsg::TooDeep { max: 64 }));
    }
}
