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

/// Largest entry read (decompressed): an import file is small, a zip bomb is not.
const MAX_SHEET_XML: u64 = 64 << 20;
/// Largest rectangle of cells a sheet may span. calamine allocates the whole rectangle between
/// its first and last cell: a two-cell file with cells at A1 and ZZZ999999 would take gigabytes.
const MAX_CELLS: u64 = 4_000_000;
/// Excel's own limits (XFD1048576); longer references also overflow calamine's arithmetic.
const MAX_ROW: u64 = 1_048_576;
const MAX_COL: u64 = 16_384;

fn too_big(what: String) -> Msg {
    Msg::InvalidCsv {
        reason: format!("xlsx: {what}"),
    }
}

/// A cell or row reference (`B7`, `7`) as 1-based (row, column); column 0 when absent. `None`
/// when the value is not a reference at all (then calamine decides).
fn cell_ref(v: &[u8]) -> Option<(u64, u64)> {
    let letters = v.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    let digits = v[letters..].iter().take_while(|b| b.is_ascii_digit()).count();
    // calamine accumulates the letters, then the digits, before it looks at what follows: a long
    // prefix overflows it even when the rest is not a reference ("HSensibi  0", found by fuzzing).
    if letters > 3 || digits > 7 {
        return Some((u64::MAX, u64::MAX));
    }
    if digits == 0 || letters + digits != v.len() {
        return None;
    }
    let col = v[..letters].iter().fold(0u64, |c, b| c * 26 + u64::from(b.to_ascii_uppercase() - b'A') + 1);
    let row = v[letters..].iter().fold(0u64, |r, b| r * 10 + u64::from(b - b'0'));
    Some((row, col))
}

/// The values of every attribute called `name` in `xml`, found the way calamine finds them: the
/// name follows a space or, with no space, the closing quote of the attribute before it
/// (`t="n"r="A1"`). No XML parser: a broken document must be checked too. A stray match inside
/// some other value only makes the check stricter.
fn attr_values<'a>(xml: &'a [u8], name: &'a [u8]) -> impl Iterator<Item = &'a [u8]> + 'a {
    let mut at = 1;
    std::iter::from_fn(move || {
        while at < xml.len() {
            let k = at + xml[at..].windows(name.len()).position(|w| w == name)?;
            at = k + name.len();
            let before = xml[k - 1];
            if !(before.is_ascii_whitespace() || before == b'"' || before == b'\'') {
                continue;
            }
            let mut p = at;
            let skip_space = |p: &mut usize| {
                while xml.get(*p).is_some_and(u8::is_ascii_whitespace) {
                    *p += 1;
                }
            };
            skip_space(&mut p);
            if xml.get(p) != Some(&b'=') {
                continue;
            }
            p += 1;
            skip_space(&mut p);
            let Some(&quote) = xml.get(p).filter(|q| **q == b'"' || **q == b'\'') else {
                continue;
            };
            let len = xml[p + 1..].iter().position(|b| *b == quote).unwrap_or(xml.len() - p - 1);
            at = p + 1 + len;
            return Some(&xml[p + 1..p + 1 + len]);
        }
        None
    })
}

/// Checks, before calamine reads anything, that every entry that could be a sheet is of a sane
/// size, that its cell and range references stay inside Excel's grid, that its ranges run
/// forwards and that its cells span at most [`MAX_CELLS`] cells. Found by fuzzing
/// (`fuzz/fuzz_targets/xlsx_rows.rs`): a reference such as `AAAAAAAAA1` overflowed calamine's
/// column arithmetic, a range such as `B2:A1` its subtraction, and far-apart cells made it
/// allocate without bound.
fn check_extent(bytes: &[u8]) -> Result<(), Msg> {
    use std::io::Read;
    let Ok(mut zip) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return Ok(());
    }; // calamine reports it
    for i in 0..zip.len() {
        let Ok(file) = zip.by_index(i) else { continue };
        let Ok(name) = file.name().map(|n| n.to_string()) else {
            continue;
        };
        // Every entry, not only `xl/worksheets/*.xml`: calamine opens whatever entry the
        // workbook's relationships name, in any case and with any extension (`sheet1.xmL`, found
        // by fuzzing risks_import; `/Donnees/feuille`). Resolving those names the way calamine
        // does would tie us to its internals; checking all entries is sound. The other parts'
        // ` r="…"` stay inside the limits: calcChain names the sheets' own cells, and a theme's
        // percentages (`r="50000"`) read as one column of rows.
        let mut xml = Vec::new();
        // A corrupt entry (bad checksum) fails only at its end, after calamine has parsed what
        // came before: check the bytes read so far all the same.
        let _ = file.take(MAX_SHEET_XML + 1).read_to_end(&mut xml);
        if xml.len() as u64 > MAX_SHEET_XML {
            return Err(too_big(format!(
                "{name} is larger than {} MiB",
                MAX_SHEET_XML >> 20
            )));
        }
        let outside = |v: &[u8]| {
            too_big(format!(
                "{name}: cell reference {} outside the sheet (max XFD1048576)",
                String::from_utf8_lossy(&v[..v.len().min(20)])
            ))
        };
        let in_grid = |(row, col): (u64, u64)| (1..=MAX_ROW).contains(&row) && col <= MAX_COL;
        // Cells and rows: `r="B7"`, `r="7"`. Their rectangle is what calamine allocates.
        let (mut rows, mut cols) = ((u64::MAX, 0u64), (u64::MAX, 0u64));
        for v in attr_values(&xml, b"r") {
            let Some((row, col)) = cell_ref(v) else { continue };
            if !in_grid((row, col)) {
                return Err(outside(v));
            }
            rows = (rows.0.min(row), rows.1.max(row));
            if col > 0 {
                cols = (cols.0.min(col), cols.1.max(col));
            }
        }
        // Ranges: `ref="A1:M14"` (a sheet's dimension, merged cells, links, tables, shared
        // formulas). calamine parses each end like a cell, then subtracts the start from the end.
        for v in attr_values(&xml, b"ref") {
            let ends: Vec<_> = v.split(|b| *b == b':').map(|e| (e, cell_ref(e))).collect();
            if let Some((e, _)) = ends.iter().find(|(_, at)| at.is_some_and(|at| !in_grid(at))) {
                return Err(outside(e));
            }
            if let [(_, Some(start)), (_, Some(end))] = ends[..] {
                if end.0 < start.0 || end.1 < start.1 {
                    return Err(too_big(format!(
                        "{name}: range {} runs backwards",
                        String::from_utf8_lossy(v)
                    )));
                }
            }
        }
        let span = |(lo, hi): (u64, u64)| if lo > hi { 1 } else { hi - lo + 1 };
        if span(rows).saturating_mul(span(cols)) > MAX_CELLS {
            return Err(too_big(format!(
                "{name} spans {} rows × {} columns, more than {MAX_CELLS} cells",
                span(rows),
                span(cols)
            )));
        }
    }
    Ok(())
}

fn open(bytes: &[u8]) -> Result<Xlsx<Cursor<&[u8]>>, Msg> {
    check_extent(bytes)?;
    Xlsx::new(Cursor::new(bytes)).map_err(|e| Msg::InvalidCsv {
        reason: format!("xlsx: {e}"),
    })
}

/// Names of the sheets, in workbook order.
pub fn sheet_names(bytes: &[u8]) -> Result<Vec<String>, Msg> {
    let wb = open(bytes)?;
    Ok(wb.sheet_names().to_vec())
}

/// The sheet named `sheet` (case-insensitive), or the first one, as CSV bytes. Numbers keep
/// their exact text where the cell holds one (no float formatting: 7900 stays "7900", 0.5 "0.5").
pub fn sheet_to_csv(bytes: &[u8], sheet: Option<&str>) -> Result<Vec<u8>, Msg> {
    let mut wb = open(bytes)?;
    let names = wb.sheet_names().to_vec();
    let name = match sheet {
        Some(s) => names
            .iter()
            .find(|n| n.eq_ignore_ascii_case(s))
            .cloned()
            .ok_or_else(|| Msg::InvalidCsv {
                reason: format!("xlsx: no sheet \"{s}\""),
            })?,
        None => names.first().cloned().ok_or_else(|| Msg::InvalidCsv {
            reason: "xlsx: no sheet".into(),
        })?,
    };
    let range = wb.worksheet_range(&name).map_err(|e| Msg::InvalidCsv {
        reason: format!("xlsx: {e}"),
    })?;
    let mut w = csv::Writer::from_writer(Vec::new());
    // Rows before the range's first row (empty top rows) still count as lines.
    let (first_row, first_col) = range.start().unwrap_or((0, 0));
    let width = range.width() + first_col as usize;
    for _ in 0..first_row {
        w.write_record(std::iter::repeat("").take(width.max(1)))
            .map_err(|e| Msg::InvalidCsv {
                reason: e.to_string(),
            })?;
    }
    for row in range.rows() {
        let mut cells: Vec<String> = vec![String::new(); first_col as usize];
        cells.extend(row.iter().map(|c| cell_text(c, Dates::Serial)));
        w.write_record(&cells).map_err(|e| Msg::InvalidCsv {
            reason: e.to_string(),
        })?;
    }
    w.into_inner().map_err(|e| Msg::InvalidCsv {
        reason: e.to_string(),
    })
}

/// How a date cell reads: the Excel serial number (the budget importers' convention) or an ISO
/// day (people's registers: a mandate end, a birth date).
#[derive(Clone, Copy, PartialEq)]
enum Dates {
    Serial,
    IsoDay,
}

/// An Excel serial date (days since 1899-12-30) as `YYYY-MM-DD`.
fn excel_date(serial: f64) -> String {
    let base = chrono::NaiveDate::from_ymd_opt(1899, 12, 30).expect("valid date");
    // Out-of-range serials (a hostile or broken file) keep their number rather than panic.
    let days = if serial.is_finite() && serial.abs() < 1e7 {
        Some(serial.floor() as i64)
    } else {
        None
    };
    days.and_then(|d| base.checked_add_signed(chrono::Duration::try_days(d)?))
        .map(|d| d.to_string())
        .unwrap_or_else(|| serial.to_string())
}

fn cell_text(d: &Data, dates: Dates) -> String {
    match d {
        Data::Empty => String::new(),
        Data::DateTime(dt) if dates == Dates::IsoDay => excel_date(dt.as_f64()),
        Data::Error(_) if dates == Dates::IsoDay => String::new(),
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

/// The rows of the first sheet, header first (trimmed, lower-case), then each non-blank row with
/// its spreadsheet row number; dates as ISO days. The reader of `vigie import committees|directory`.
pub fn first_sheet_rows(bytes: &[u8]) -> Result<crate::governance::import::Rows, Msg> {
    let bad = |e: &dyn std::fmt::Display| Msg::InvalidCsv {
        reason: format!("xlsx: {e}"),
    };
    let mut book = open(bytes)?;
    let range = book
        .worksheet_range_at(0)
        .ok_or_else(|| bad(&"no sheet"))?
        .map_err(|e| bad(&e))?;
    let first_row = range.start().map(|(r, _)| r as usize).unwrap_or(0);
    let mut rows = range.rows().enumerate();
    let Some((_, header)) = rows.next() else {
        return Ok((Vec::new(), Vec::new()));
    };
    let names = header
        .iter()
        .map(|c| cell_text(c, Dates::IsoDay).trim().to_lowercase())
        .collect();
    let mut out = Vec::new();
    for (i, r) in rows {
        let cells: Vec<String> = r.iter().map(|c| cell_text(c, Dates::IsoDay)).collect();
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        out.push((first_row + i + 1, cells));
    }
    Ok((names, out))
}

/// CSV bytes of `bytes` whatever it is: XLSX (the named or first sheet) or CSV as given.
pub fn as_csv(bytes: &[u8], sheet: Option<&str>) -> Result<Vec<u8>, Msg> {
    if is_xlsx(bytes) {
        sheet_to_csv(bytes, sheet)
    } else {
        Ok(bytes.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excel_dates_read_as_iso_days_and_absurd_serials_do_not_panic() {
        assert_eq!(excel_date(45658.0), "2025-01-01");
        assert_eq!(excel_date(45658.75), "2025-01-01");
        // A date cell holding 1e300 used to panic in chrono (`Duration::days` out of range).
        assert_eq!(excel_date(1e300), 1e300f64.to_string());
        assert_eq!(excel_date(-1e18), "-1000000000000000000");
        assert_eq!(excel_date(-693593.0), "0001-01-01");
        assert_eq!(excel_date(f64::NAN), "NaN");
        assert_eq!(excel_date(f64::INFINITY), "inf");
    }

    #[test]
    fn bytes_that_are_not_a_workbook_are_a_message_not_a_panic() {
        for bytes in [
            &b""[..],
            b"PK\x03\x04",
            b"PK\x03\x04\x00\x00garbage",
            b"a,b\n1,2\n",
        ] {
            assert!(first_sheet_rows(bytes).is_err());
            assert!(sheet_to_csv(bytes, None).is_err());
        }
        assert_eq!(as_csv(b"a,b\n", None).unwrap(), b"a,b\n");
    }
}

#[cfg(test)]
mod fuzz_regressions {
    use super::*;

    const COLUMN_OVERFLOW: &[u8] = include_bytes!("testdata/fuzz_crash_column_overflow.xlsx");
    const LETTER_PREFIX_OVERFLOW: &[u8] = include_bytes!("testdata/fuzz_crash_letter_prefix.xlsx");
    const FAR_APART: &[u8] = include_bytes!("testdata/far_apart_cells.xlsx");
    const SMALL: &[u8] = include_bytes!("testdata/small.xlsx");

    #[test]
    fn a_column_reference_past_excel_is_refused_before_calamine_overflows() {
        // fuzz/artifacts/*/crash-531dc3f8…: `attempt to multiply with overflow` inside calamine.
        for r in [
            sheet_names(COLUMN_OVERFLOW).map(|_| ()),
            sheet_to_csv(COLUMN_OVERFLOW, None).map(|_| ()),
            first_sheet_rows(COLUMN_OVERFLOW).map(|_| ()),
        ] {
            let Err(Msg::InvalidCsv { reason }) = r else {
                panic!("accepted: {r:?}")
            };
            assert!(reason.contains("outside the sheet"), "{reason}");
        }
    }

    #[test]
    fn a_sheet_whose_extension_is_not_lower_case_is_checked_too() {
        // fuzz/corpus/risks_import/crash-13698ece…: `xl/worksheets/sheet1.xmL` escaped the
        // checks and calamine overflowed on one of its references.
        const SHEET_NAME_CASE: &[u8] = include_bytes!("testdata/fuzz_crash_sheet_name_case.xlsx");
        let _ = sheet_to_csv(SHEET_NAME_CASE, Some("risks"));
        let _ = sheet_to_csv(SHEET_NAME_CASE, None);
        let _ = first_sheet_rows(SHEET_NAME_CASE);
        let _ = sheet_names(SHEET_NAME_CASE);
    }

    #[test]
    fn a_long_letter_prefix_in_a_broken_reference_is_refused() {
        // fuzz/artifacts/xlsx_rows/crash-fdac89f5…: `r="HSensibi      0"` overflowed calamine too.
        assert!(sheet_to_csv(LETTER_PREFIX_OVERFLOW, None).is_err());
        assert!(first_sheet_rows(LETTER_PREFIX_OVERFLOW).is_err());
    }

    #[test]
    fn cells_far_apart_are_refused_instead_of_allocating_the_rectangle() {
        // Two cells, A1 and XFD900000: calamine would allocate 14.7 billion cells.
        let Err(Msg::InvalidCsv { reason }) = sheet_to_csv(FAR_APART, None) else {
            panic!("accepted")
        };
        assert!(reason.contains("900000 rows × 16384 columns"), "{reason}");
    }

    #[test]
    fn a_sheet_stored_outside_the_worksheets_folder_is_checked_too() {
        // The workbook's relationships may send calamine to any entry of the zip: here the far
        // apart cells live in `donnees/FEUILLE` (target `/Donnees/feuille`, no extension, other
        // case). Only `xl/worksheets/*.xml` used to be checked, so calamine got the rectangle.
        const OUTSIDE: &[u8] = include_bytes!("testdata/far_apart_sheet_outside_worksheets.xlsx");
        for r in [
            sheet_to_csv(OUTSIDE, None).map(|_| ()),
            first_sheet_rows(OUTSIDE).map(|_| ()),
        ] {
            let Err(Msg::InvalidCsv { reason }) = r else {
                panic!("accepted: {r:?}")
            };
            assert!(
                reason.contains("donnees/FEUILLE spans 900000 rows × 16384 columns"),
                "{reason}"
            );
        }
    }

    /// Every way to reach it must be refused with a clear error, never a panic.
    fn refused(file: &[u8]) -> String {
        let mut reasons = Vec::new();
        for r in [sheet_to_csv(file, None).map(|_| ()), first_sheet_rows(file).map(|_| ())] {
            let Err(Msg::InvalidCsv { reason }) = r else {
                panic!("accepted: {r:?}")
            };
            reasons.push(reason);
        }
        reasons.dedup();
        assert_eq!(reasons.len(), 1, "{reasons:?}");
        reasons.remove(0)
    }

    #[test]
    fn a_range_reference_past_excel_is_refused_before_calamine_overflows() {
        // fuzz/artifacts/xlsx_rows/crash-222613cf… (7 December, afternoon):
        // `<dimension ref="A1:aheetView workbookViewId=…">` overflowed calamine's column
        // arithmetic; only the `r="…"` of cells and rows used to be checked, not `ref="…"`.
        const FOUND: &[u8] = include_bytes!("testdata/fuzz_crash_dimension_overflow.xlsx");
        assert!(refused(FOUND).contains("outside the sheet"));
        // The same in a clean workbook: `<dimension ref="A1:AAAAAAAAA2"/>`.
        const LONG: &[u8] = include_bytes!("testdata/dimension_long_column.xlsx");
        let reason = refused(LONG);
        assert!(reason.contains("xl/worksheets/sheet1.xml: cell reference AAAAAAAAA2 outside the sheet"), "{reason}");
    }

    #[test]
    fn a_range_that_runs_backwards_is_refused() {
        // calamine subtracts the start from the end of `<dimension ref="B2:A1"/>`: an underflow.
        const BACKWARDS: &[u8] = include_bytes!("testdata/dimension_backwards.xlsx");
        let reason = refused(BACKWARDS);
        assert!(reason.contains("xl/worksheets/sheet1.xml: range B2:A1 runs backwards"), "{reason}");
    }

    #[test]
    fn a_reference_written_right_after_a_quote_is_checked_too() {
        // `<c t="n"r="AAAAAAAAA2">`: no space before `r`, which calamine reads all the same.
        const AFTER_QUOTE: &[u8] = include_bytes!("testdata/reference_after_a_quote.xlsx");
        assert!(refused(AFTER_QUOTE).contains("cell reference AAAAAAAAA2 outside the sheet"));
    }

    #[test]
    fn a_normal_workbook_still_reads() {
        assert_eq!(sheet_names(SMALL).unwrap(), vec!["risks".to_string()]);
        assert_eq!(
            String::from_utf8(sheet_to_csv(SMALL, Some("risks")).unwrap()).unwrap(),
            "n,risk_fr\n1,Retard\n"
        );
        let (names, rows) = first_sheet_rows(SMALL).unwrap();
        assert_eq!(names, vec!["n", "risk_fr"]);
        assert_eq!(rows, vec![(2, vec!["1".to_string(), "Retard".to_string()])]);
    }

    #[test]
    fn a_workbook_with_ranges_everywhere_still_reads() {
        // Written by openpyxl 3.1 (testdata/spreadsheet_features.xlsx): a dimension, merged
        // cells, a frozen pane, a link, a table with its filter, a formula, conditional
        // formatting: `ref="…"` in the sheet and the table, `r="50000"` in the theme.
        const FEATURES: &[u8] = include_bytes!("testdata/spreadsheet_features.xlsx");
        let (names, rows) = first_sheet_rows(FEATURES).unwrap();
        assert_eq!(names, vec!["n", "risk_fr", "level", "", "registre des risques"]); // headers are lower-cased
        assert_eq!(rows[0], (2, ["1", "Retard", "3", "", ""].map(String::from).to_vec()));
        assert_eq!(rows[1].1[1], "Insécurité");
        let csv = String::from_utf8(sheet_to_csv(FEATURES, Some("RISKS")).unwrap()).unwrap();
        assert!(csv.starts_with("n,risk_fr,level,,Registre des risques"), "{csv}");
        assert!(csv.contains(",,,,source"), "{csv}");
    }

    #[test]
    fn cell_references_parse_and_absurd_ones_are_out_of_bounds() {
        assert_eq!(cell_ref(b"A1"), Some((1, 1)));
        assert_eq!(cell_ref(b"xfd1048576"), Some((1_048_576, 16_384)));
        assert_eq!(cell_ref(b"7"), Some((7, 0)));
        assert_eq!(cell_ref(b"AAAAAAAAAAAAA1"), Some((u64::MAX, u64::MAX)));
        assert_eq!(cell_ref(b"A1:B2"), None);
        assert_eq!(cell_ref(b"HSensibi      0"), Some((u64::MAX, u64::MAX)));
        assert_eq!(cell_ref(b"A123456789x"), Some((u64::MAX, u64::MAX)));
    }
}
