//! XLSX workbooks read as the CSV the importers already understand: row n of the sheet becomes
//! line n of the CSV, so the line numbers in error messages are the spreadsheet's row numbers.
//! Pure: bytes in, bytes out (calamine reads the zip in memory).

use crate::Msg;
use calamine::{Data, Reader, Xlsx};
use std::io::Cursor;

/// An XLSX (zip) file starts with the local file header signature.
pub fn is_xlsx(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

/// Names of the sheets, in workbook order.
pub fn sheet_names(bytes: &[u8]) -> Result<Vec<String>, Msg> {
    let wb: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|e| Msg::InvalidCsv { reason: format!("xlsx: {e}") })?;
    Ok(wb.sheet_names().to_vec())
}

/// The sheet named `sheet` (case-insensitive), or the first one, as CSV bytes. Numbers keep
/// their exact text where the cell holds one (no float formatting: 7900 stays "7900", 0.5 "0.5").
pub fn sheet_to_csv(bytes: &[u8], sheet: Option<&str>) -> Result<Vec<u8>, Msg> {
    let mut wb: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|e| Msg::InvalidCsv { reason: format!("xlsx: {e}") })?;
    let names = wb.sheet_names().to_vec();
    let name = match sheet {
        Some(s) => names.iter().find(|n| n.eq_ignore_ascii_case(s)).cloned().ok_or_else(|| Msg::InvalidCsv { reason: format!("xlsx: no sheet \"{s}\"") })?,
        None => names.first().cloned().ok_or_else(|| Msg::InvalidCsv { reason: "xlsx: no sheet".into() })?,
    };
    let range = wb.worksheet_range(&name).map_err(|e| Msg::InvalidCsv { reason: format!("xlsx: {e}") })?;
    let mut w = csv::Writer::from_writer(Vec::new());
    // Rows before the range's first row (empty top rows) still count as lines.
    let (first_row, first_col) = range.start().unwrap_or((0, 0));
    let width = range.width() + first_col as usize;
    for _ in 0..first_row {
        w.write_record(std::iter::repeat("").take(width.max(1))).map_err(|e| Msg::InvalidCsv { reason: e.to_string() })?;
    }
    for row in range.rows() {
        let mut cells: Vec<String> = vec![String::new(); first_col as usize];
        cells.extend(row.iter().map(cell_text));
        w.write_record(&cells).map_err(|e| Msg::InvalidCsv { reason: e.to_string() })?;
    }
    w.into_inner().map_err(|e| Msg::InvalidCsv { reason: e.to_string() })
}

fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        // Shortest text that reads back to the same float: 7900.0 → "7900", 0.08 → "0.08".
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => format!("{f}"),
        Data::Bool(b) => (if *b { "oui" } else { "non" }).to_string(),
        Data::DateTime(dt) => dt.as_f64().to_string(),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// CSV bytes of `bytes` whatever it is: XLSX (the named or first sheet) or CSV as given.
pub fn as_csv(bytes: &[u8], sheet: Option<&str>) -> Result<Vec<u8>, Msg> {
    if is_xlsx(bytes) {
        sheet_to_csv(bytes, sheet)
    } else {
        Ok(bytes.to_vec())
    }
}
