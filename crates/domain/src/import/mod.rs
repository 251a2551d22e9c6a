//! Parsers for imported files. Each returns validated records or every error with its line;
//! storage then applies the records in one transaction, so a bad file changes nothing.

pub mod areas;

/// Reads CSV bytes (UTF-8, optional BOM, `,` or `;` separated as French spreadsheets write it)
/// into rows of strings keyed by the lowercased header, each with its 1-based line number.
pub fn csv_rows(bytes: &[u8]) -> Result<(Vec<String>, Vec<(usize, Vec<String>)>), crate::LineError> {
    use crate::{LineError, Msg};
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let first_line = bytes.split(|b| *b == b'\n').next().unwrap_or(b"");
    let delimiter = if first_line.iter().filter(|b| **b == b';').count() > first_line.iter().filter(|b| **b == b',').count() {
        b';'
    } else {
        b','
    };
    let mut rdr = csv::ReaderBuilder::new().delimiter(delimiter).flexible(true).from_reader(bytes);
    let header = rdr.byte_headers().map_err(|e| LineError { line: 1, field: String::new(), msg: Msg::InvalidCsv { reason: e.to_string() } })?;
    let mut names = Vec::new();
    for h in header.iter() {
        let h = std::str::from_utf8(h).map_err(|_| LineError { line: 1, field: String::new(), msg: Msg::InvalidUtf8 })?;
        names.push(h.trim().to_lowercase());
    }
    let mut rows = Vec::new();
    for rec in rdr.byte_records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map(|p| p.line() as usize).unwrap_or(0);
            LineError { line, field: String::new(), msg: Msg::InvalidCsv { reason: e.to_string() } }
        })?;
        let line = rec.position().map(|p| p.line() as usize).unwrap_or(0);
        if rec.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
            continue;
        }
        let mut fields = Vec::with_capacity(rec.len());
        for (i, f) in rec.iter().enumerate() {
            let s = std::str::from_utf8(f).map_err(|_| LineError {
                line,
                field: names.get(i).cloned().unwrap_or_default(),
                msg: Msg::InvalidUtf8,
            })?;
            fields.push(s.to_string());
        }
        rows.push((line, fields));
    }
    Ok((names, rows))
}
