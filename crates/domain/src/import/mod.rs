//! Parsers for imported files. Each returns validated records or every error with its line;
//! storage then applies the records in one transaction, so a bad file changes nothing.

pub mod areas;
pub mod xlsx;

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
    let (mut counted_to, mut counted_line) = (0usize, 1usize);
    for rec in rdr.byte_records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map(|p| line_at(bytes, p.byte() as usize)).unwrap_or(0);
            LineError { line, field: String::new(), msg: Msg::InvalidCsv { reason: e.to_string() } }
        })?;
        // The csv crate does not count blank lines in `Position::line`, so count newlines ourselves.
        let line = match rec.position() {
            Some(p) => {
                // A record's position may point at the blank lines skipped before it.
                let mut at = (p.byte() as usize).min(bytes.len());
                while at < bytes.len() && (bytes[at] == b'\n' || bytes[at] == b'\r') {
                    at += 1;
                }
                counted_line += bytes[counted_to..at].iter().filter(|b| **b == b'\n').count();
                counted_to = at;
                counted_line
            }
            None => 0,
        };
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

/// 1-based line of a byte offset.
fn line_at(bytes: &[u8], at: usize) -> usize {
    1 + bytes[..at.min(bytes.len())].iter().filter(|b| **b == b'\n').count()
}

#[cfg(test)]
mod tests {
    #[test]
    fn line_numbers_count_blank_lines_and_quoted_newlines() {
        let (_, rows) = super::csv_rows(b"a,b\n1,2\n\n3,\"x\ny\"\n4,5\n").unwrap();
        let lines: Vec<usize> = rows.iter().map(|r| r.0).collect();
        assert_eq!(lines, vec![2, 4, 6]);
    }
}
