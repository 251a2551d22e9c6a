//! A one-sheet XLSX workbook written as a stream: a ZIP whose entries carry their sizes in
//! trailing data descriptors (so nothing needs seeking back), the sheet deflated on the fly.
//! Memory stays the deflater's window whatever the number of rows. Cells are inline strings:
//! what a reporter typed is never read as a formula. The sheet's entry is always ZIP64 (64-bit
//! sizes): its size is not known when its header leaves, and 10 M reports make a sheet of
//! more than 4 GiB (a 32-bit one was a corrupt file there, found by the 10 M benchmark).

use flate2::write::DeflateEncoder;
use flate2::Compression;
use std::io::Write;

struct Entry {
    name: &'static str,
    offset: u64,
    crc: u32,
    compressed: u64,
    size: u64,
    zip64: bool,
}

const ZIP64_EXTRA: u16 = 0x0001;
const MAX32: u64 = 0xFFFF_FFFF;

pub struct SheetStream {
    written: u64,
    entries: Vec<Entry>,
    sheet: Option<(DeflateEncoder<Vec<u8>>, crc32fast::Hasher, u64, u64)>,
}

const FLAGS: u16 = 0x0008 | 0x0800; // sizes in a data descriptor; UTF-8 names
const DOS_DATE: u16 = (46 << 9) | (1 << 5) | 1; // 2026-01-01

fn le16(v: &mut Vec<u8>, x: u16) {
    v.extend_from_slice(&x.to_le_bytes());
}
fn le32(v: &mut Vec<u8>, x: u32) {
    v.extend_from_slice(&x.to_le_bytes());
}
fn le64(v: &mut Vec<u8>, x: u64) {
    v.extend_from_slice(&x.to_le_bytes());
}

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#;
const RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
const WORKBOOK: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Signalements" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
const WORKBOOK_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#;
const SHEET_START: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#;
const SHEET_END: &str = "</sheetData></worksheet>";

/// Text as XML character data; characters XML 1.0 forbids are dropped.
fn escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
}

impl Default for SheetStream {
    fn default() -> Self {
        Self::new()
    }
}

impl SheetStream {
    pub fn new() -> Self {
        SheetStream { written: 0, entries: Vec::new(), sheet: None }
    }

    /// A ZIP64 entry's header carries a ZIP64 extra field (sizes to come in its descriptor, in
    /// 8 bytes each, APPNOTE 4.3.9).
    fn local_header(&mut self, name: &'static str, zip64: bool, out: &mut Vec<u8>) {
        self.entries.push(Entry { name, offset: self.written, crc: 0, compressed: 0, size: 0, zip64 });
        let mut h = Vec::with_capacity(50 + name.len());
        le32(&mut h, 0x0403_4b50);
        le16(&mut h, if zip64 { 45 } else { 20 });
        le16(&mut h, FLAGS);
        le16(&mut h, 8);
        le16(&mut h, 0);
        le16(&mut h, DOS_DATE);
        le32(&mut h, 0);
        le32(&mut h, if zip64 { MAX32 as u32 } else { 0 });
        le32(&mut h, if zip64 { MAX32 as u32 } else { 0 });
        le16(&mut h, name.len() as u16);
        le16(&mut h, if zip64 { 20 } else { 0 });
        h.extend_from_slice(name.as_bytes());
        if zip64 {
            le16(&mut h, ZIP64_EXTRA);
            le16(&mut h, 16);
            le64(&mut h, 0);
            le64(&mut h, 0);
        }
        self.emit(h, out);
    }

    fn emit(&mut self, bytes: Vec<u8>, out: &mut Vec<u8>) {
        self.written += bytes.len() as u64;
        out.extend(bytes);
    }

    fn descriptor(&mut self, crc: u32, compressed: u64, size: u64, out: &mut Vec<u8>) {
        let e = self.entries.last_mut().expect("an entry is open");
        (e.crc, e.compressed, e.size) = (crc, compressed, size);
        let zip64 = e.zip64;
        let mut d = Vec::with_capacity(24);
        le32(&mut d, 0x0807_4b50);
        le32(&mut d, crc);
        if zip64 {
            le64(&mut d, compressed);
            le64(&mut d, size);
        } else {
            le32(&mut d, compressed as u32);
            le32(&mut d, size as u32);
        }
        self.emit(d, out);
    }

    fn whole_entry(&mut self, name: &'static str, text: &str, out: &mut Vec<u8>) {
        self.local_header(name, false, out);
        let mut enc = DeflateEncoder::new(Vec::new(), Compression::fast());
        let _ = enc.write_all(text.as_bytes());
        let data = enc.finish().unwrap_or_default();
        let (crc, clen) = (crc32fast::hash(text.as_bytes()), data.len() as u64);
        self.emit(data, out);
        self.descriptor(crc, clen, text.len() as u64, out);
    }

    /// The package parts and the start of the sheet.
    pub fn start(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        self.whole_entry("[Content_Types].xml", CONTENT_TYPES, &mut out);
        self.whole_entry("_rels/.rels", RELS, &mut out);
        self.whole_entry("xl/workbook.xml", WORKBOOK, &mut out);
        self.whole_entry("xl/_rels/workbook.xml.rels", WORKBOOK_RELS, &mut out);
        self.local_header("xl/worksheets/sheet1.xml", true, &mut out);
        self.sheet = Some((DeflateEncoder::new(Vec::new(), Compression::fast()), crc32fast::Hasher::new(), 0, 0));
        out.extend(self.sheet_bytes(SHEET_START.as_bytes()));
        out
    }

    fn sheet_bytes(&mut self, xml: &[u8]) -> Vec<u8> {
        let Some((enc, crc, size, compressed)) = self.sheet.as_mut() else { return Vec::new() };
        crc.update(xml);
        *size += xml.len() as u64;
        let _ = enc.write_all(xml);
        let chunk = std::mem::take(enc.get_mut());
        *compressed += chunk.len() as u64;
        self.written += chunk.len() as u64;
        chunk
    }

    /// One row of text cells; returns the compressed bytes ready so far (often none).
    pub fn row<S: AsRef<str>>(&mut self, cells: &[S]) -> Vec<u8> {
        let mut xml = String::from("<row>");
        for c in cells {
            xml.push_str("<c t=\"inlineStr\"><is><t xml:space=\"preserve\">");
            escape(c.as_ref(), &mut xml);
            xml.push_str("</t></is></c>");
        }
        xml.push_str("</row>");
        self.sheet_bytes(xml.as_bytes())
    }

    /// The end of the sheet, its descriptor, the central directory.
    pub fn finish(&mut self) -> Vec<u8> {
        let mut out = self.sheet_bytes(SHEET_END.as_bytes());
        if let Some((enc, crc, size, compressed)) = self.sheet.take() {
            let rest = enc.finish().unwrap_or_default();
            let compressed = compressed + rest.len() as u64;
            self.emit(rest, &mut out);
            self.descriptor(crc.finalize(), compressed, size, &mut out);
        }
        let cd_start = self.written;
        let mut cd = Vec::new();
        for e in &self.entries {
            // A ZIP64 entry's sizes (and its offset past 4 GiB) go in its ZIP64 extra field.
            let far = e.offset >= MAX32;
            let version = if e.zip64 || far { 45 } else { 20 };
            let mut extra = Vec::new();
            if e.zip64 || far {
                le16(&mut extra, ZIP64_EXTRA);
                le16(&mut extra, if e.zip64 { 16 } else { 0 } + if far { 8 } else { 0 });
                if e.zip64 {
                    le64(&mut extra, e.size);
                    le64(&mut extra, e.compressed);
                }
                if far {
                    le64(&mut extra, e.offset);
                }
            }
            le32(&mut cd, 0x0201_4b50);
            le16(&mut cd, version);
            le16(&mut cd, version);
            le16(&mut cd, FLAGS);
            le16(&mut cd, 8);
            le16(&mut cd, 0);
            le16(&mut cd, DOS_DATE);
            le32(&mut cd, e.crc);
            le32(&mut cd, if e.zip64 { MAX32 as u32 } else { e.compressed as u32 });
            le32(&mut cd, if e.zip64 { MAX32 as u32 } else { e.size as u32 });
            le16(&mut cd, e.name.len() as u16);
            le16(&mut cd, extra.len() as u16);
            le16(&mut cd, 0);
            le16(&mut cd, 0);
            le16(&mut cd, 0);
            le32(&mut cd, 0);
            le32(&mut cd, if far { MAX32 as u32 } else { e.offset as u32 });
            cd.extend_from_slice(e.name.as_bytes());
            cd.extend_from_slice(&extra);
        }
        let cd_len = cd.len() as u64;
        let n = self.entries.len() as u64;
        if cd_start >= MAX32 {
            // ZIP64 end of central directory record, and its locator.
            let record = cd_start + cd_len;
            le32(&mut cd, 0x0606_4b50);
            le64(&mut cd, 44);
            le16(&mut cd, 45);
            le16(&mut cd, 45);
            le32(&mut cd, 0);
            le32(&mut cd, 0);
            le64(&mut cd, n);
            le64(&mut cd, n);
            le64(&mut cd, cd_len);
            le64(&mut cd, cd_start);
            le32(&mut cd, 0x0706_4b50);
            le32(&mut cd, 0);
            le64(&mut cd, record);
            le32(&mut cd, 1);
        }
        le32(&mut cd, 0x0605_4b50);
        le16(&mut cd, 0);
        le16(&mut cd, 0);
        le16(&mut cd, n as u16);
        le16(&mut cd, n as u16);
        le32(&mut cd, cd_len as u32);
        le32(&mut cd, cd_start.min(MAX32) as u32);
        le16(&mut cd, 0);
        self.emit(cd, &mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_streamed_workbook_is_a_well_formed_zip() {
        let mut s = SheetStream::new();
        let mut bytes = s.start();
        bytes.extend(s.row(&["id", "texte"]));
        bytes.extend(s.row(&["1", "=1+1 <b> & \u{1} é"]));
        bytes.extend(s.finish());
        assert_eq!(&bytes[..4], b"PK\x03\x04");
        let eocd = bytes.len() - 22;
        assert_eq!(&bytes[eocd..eocd + 4], &0x0605_4b50u32.to_le_bytes());
        assert_eq!(u16::from_le_bytes([bytes[eocd + 10], bytes[eocd + 11]]), 5);
        // The sheet inflates back to the rows, escaped.
        let e = s.entries.last().unwrap();
        let start = e.offset as usize + 30 + e.name.len() + 20; // + the ZIP64 extra field
        let mut xml = String::new();
        std::io::Read::read_to_string(&mut flate2::read::DeflateDecoder::new(&bytes[start..start + e.compressed as usize]), &mut xml).unwrap();
        assert_eq!(crc32fast::hash(xml.as_bytes()), e.crc);
        assert!(xml.contains("<t xml:space=\"preserve\">=1+1 &lt;b&gt; &amp;  é</t>"), "{xml}");
        assert!(xml.ends_with("</sheetData></worksheet>"));
    }

    /// The ZIP64 sheet entry reads back through calamine (the zip crate underneath), cell by cell.
    #[test]
    fn a_reader_opens_the_zip64_sheet() {
        use calamine::Reader;
        let mut s = SheetStream::new();
        let mut bytes = s.start();
        for i in 0..500 {
            bytes.extend(s.row(&[i.to_string(), format!("signalement n° {i} <é>")]));
        }
        bytes.extend(s.finish());
        let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes)).expect("a valid XLSX");
        let sheet = book.worksheet_range("Signalements").expect("the sheet");
        assert_eq!(sheet.height(), 500);
        assert_eq!(sheet.get((499, 1)).map(|c| c.to_string()), Some("signalement n° 499 <é>".to_string()));
    }
}
