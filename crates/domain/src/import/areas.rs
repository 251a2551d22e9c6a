//! `vigie import areas FILE.csv|FILE.geojson`.
//!
//! CSV columns: `code,parent,level,name[,tags][,lat,lon]` (tags separated by `;` or `|`).
//! GeoJSON: a FeatureCollection whose features carry `code`, `parent`, `level`, `name`,
//! optional `tags` (array or string) in `properties`; a Point geometry becomes the
//! representative point, a Polygon/MultiPolygon the boundary.
//! Rows come back ordered parents-first, so they can be applied one by one.

use crate::area::{parse_name, parse_tag, AreaCode, AreaInput, AreaLevel, Geometry};
use crate::{Invalid, LineError, Msg};
use std::collections::{HashMap, HashSet};

/// One imported area with where it came from (CSV line or GeoJSON feature number).
#[derive(Debug, Clone, PartialEq)]
pub struct AreaRow {
    pub line: usize,
    pub area: AreaInput,
}

pub enum Format {
    Csv,
    GeoJson,
}

impl Format {
    pub fn from_file_name(name: &str) -> Option<Format> {
        let lower = name.to_lowercase();
        if lower.ends_with(".csv") {
            Some(Format::Csv)
        } else if lower.ends_with(".geojson") || lower.ends_with(".json") {
            Some(Format::GeoJson)
        } else {
            None
        }
    }
}

pub fn parse(format: Format, bytes: &[u8]) -> Result<Vec<AreaRow>, Vec<LineError>> {
    let rows = match format {
        Format::Csv => parse_csv(bytes)?,
        Format::GeoJson => parse_geojson(bytes)?,
    };
    order_parents_first(rows)
}

fn err(line: usize, field: &str, msg: Msg) -> LineError {
    LineError { line, field: field.to_string(), msg }
}

fn split_tags(raw: &str, line: usize, errors: &mut Vec<LineError>) -> Vec<String> {
    raw.split([';', '|'])
        .filter(|t| !t.trim().is_empty())
        .filter_map(|t| parse_tag(t).map_err(|m| errors.push(err(line, "tags", m))).ok())
        .collect()
}

fn build(
    line: usize,
    code: &str,
    parent: &str,
    level: &str,
    name: &str,
    tags: Vec<String>,
    point: Option<(f64, f64)>,
    geometry: Option<Geometry>,
    errors: &mut Vec<LineError>,
) -> Option<AreaRow> {
    let before = errors.len();
    let code = AreaCode::parse(code).map_err(|m| errors.push(err(line, "code", m))).ok();
    let parent = if parent.trim().is_empty() {
        None
    } else {
        AreaCode::parse(parent).map_err(|m| errors.push(err(line, "parent", m))).ok()
    };
    let level = AreaLevel::parse(level).map_err(|m| errors.push(err(line, "level", m))).ok();
    let name = parse_name(name).map_err(|m| errors.push(err(line, "name", m))).ok();
    if errors.len() > before {
        return None;
    }
    let area = AreaInput { code: code?, parent, level: level?, name: name?, tags, point, geometry };
    match area.validate() {
        Ok(()) => Some(AreaRow { line, area }),
        Err(Invalid { field, msg }) => {
            errors.push(err(line, &field, msg));
            None
        }
    }
}

fn parse_csv(bytes: &[u8]) -> Result<Vec<AreaRow>, Vec<LineError>> {
    let (header, rows) = super::csv_rows(bytes).map_err(|e| vec![e])?;
    let col = |name: &str| header.iter().position(|h| h == name);
    let mut errors = Vec::new();
    let (code_i, parent_i, level_i, name_i) = (col("code"), col("parent"), col("level"), col("name"));
    for (name, idx) in [("code", code_i), ("parent", parent_i), ("level", level_i), ("name", name_i)] {
        if idx.is_none() {
            errors.push(err(1, name, Msg::Required));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let (tags_i, lat_i, lon_i) = (col("tags"), col("lat"), col("lon"));
    fn get(fields: &[String], i: Option<usize>) -> &str {
        i.and_then(|i| fields.get(i)).map(|s| s.as_str()).unwrap_or("")
    }
    let mut out = Vec::new();
    for (line, fields) in rows {
        let tags = split_tags(get(&fields, tags_i), line, &mut errors);
        let (lat, lon) = (get(&fields, lat_i).trim(), get(&fields, lon_i).trim());
        let point = match (lat.is_empty(), lon.is_empty()) {
            (true, true) => None,
            _ => match (lat.replace(',', ".").parse::<f64>(), lon.replace(',', ".").parse::<f64>()) {
                (Ok(la), Ok(lo)) => Some((la, lo)),
                _ => {
                    errors.push(err(line, "lat", Msg::InvalidCoordinate));
                    continue;
                }
            },
        };
        if let Some(row) = build(
            line,
            get(&fields, code_i),
            get(&fields, parent_i),
            get(&fields, level_i),
            get(&fields, name_i),
            tags,
            point,
            None,
            &mut errors,
        ) {
            out.push(row);
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn parse_geojson(bytes: &[u8]) -> Result<Vec<AreaRow>, Vec<LineError>> {
    let text = std::str::from_utf8(bytes).map_err(|_| vec![err(1, "", Msg::InvalidUtf8)])?;
    let doc: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| vec![err(e.line(), "", Msg::InvalidJson { reason: e.to_string() })])?;
    let features = match doc.get("features").and_then(|f| f.as_array()) {
        Some(f) if doc.get("type").and_then(|t| t.as_str()) == Some("FeatureCollection") => f,
        _ => return Err(vec![err(1, "features", Msg::InvalidJson { reason: "FeatureCollection expected".into() })]),
    };
    let mut errors = Vec::new();
    let mut out = Vec::new();
    for (i, f) in features.iter().enumerate() {
        let n = i + 1; // feature number stands in for a line
        let props = f.get("properties").cloned().unwrap_or_default();
        let s = |k: &str| props.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
        let tags = match props.get("tags") {
            Some(serde_json::Value::Array(a)) => {
                split_tags(&a.iter().filter_map(|t| t.as_str()).collect::<Vec<_>>().join(";"), n, &mut errors)
            }
            Some(serde_json::Value::String(t)) => split_tags(t, n, &mut errors),
            _ => Vec::new(),
        };
        let (mut point, mut geometry) = (None, None);
        match f.get("geometry") {
            None | Some(serde_json::Value::Null) => {}
            Some(g) => match Geometry::parse(g.clone()) {
                Ok(geom) if g.get("type").and_then(|t| t.as_str()) == Some("Point") => {
                    let c = &geom.0["coordinates"];
                    point = Some((c[1].as_f64().unwrap_or(0.0), c[0].as_f64().unwrap_or(0.0)));
                }
                Ok(geom) => geometry = Some(geom),
                Err(m) => {
                    errors.push(err(n, "geometry", m));
                    continue;
                }
            },
        }
        if let Some(row) = build(n, &s("code"), &s("parent"), &s("level"), &s("name"), tags, point, geometry, &mut errors) {
            out.push(row);
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Rejects duplicates and cycles within the file, and orders rows so that a parent defined
/// in the file comes before its children. Parents not in the file must already exist (checked by storage).
fn order_parents_first(rows: Vec<AreaRow>) -> Result<Vec<AreaRow>, Vec<LineError>> {
    let mut errors = Vec::new();
    let mut first_line: HashMap<AreaCode, usize> = HashMap::new();
    for r in &rows {
        if let Some(l) = first_line.get(&r.area.code) {
            errors.push(err(r.line, "code", Msg::DuplicateInFile { code: r.area.code.to_string(), first_line: *l }));
        } else {
            first_line.insert(r.area.code.clone(), r.line);
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let by_code: HashMap<AreaCode, &AreaRow> = rows.iter().map(|r| (r.area.code.clone(), r)).collect();
    let mut placed: HashSet<AreaCode> = HashSet::new();
    let mut out: Vec<AreaRow> = Vec::with_capacity(rows.len());
    for r in &rows {
        // Walk up to the first ancestor not in the file (or already placed), then place downwards.
        let mut chain = vec![r];
        let mut seen = HashSet::from([r.area.code.clone()]);
        let mut cur = r;
        while let Some(p) = cur.area.parent.as_ref() {
            if placed.contains(p) {
                break;
            }
            match by_code.get(p) {
                Some(parent_row) => {
                    if !seen.insert(p.clone()) {
                        errors.push(err(r.line, "parent", Msg::AreaCycle));
                        chain.clear();
                        break;
                    }
                    chain.push(parent_row);
                    cur = parent_row;
                }
                None => break,
            }
        }
        for row in chain.into_iter().rev() {
            if placed.insert(row.area.code.clone()) {
                out.push(row.clone());
            }
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        errors.sort_by_key(|e| e.line);
        errors.dedup();
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_parents_first_and_french_separators() {
        let csv = "\u{feff}code;parent;level;name;tags;lat;lon\nML0501;ML-5;cercle;Mopti;prosmed;14,49;-4,19\nML-5;ML;region;Mopti;;;\n";
        let rows = parse(Format::Csv, csv.as_bytes()).unwrap();
        assert_eq!(rows[0].area.code.as_str(), "ML-5");
        assert_eq!(rows[1].area.code.as_str(), "ML0501");
        assert_eq!(rows[1].area.point, Some((14.49, -4.19)));
        assert_eq!(rows[1].area.tags, vec!["prosmed".to_string()]);
        assert_eq!(rows[1].line, 2);
    }

    #[test]
    fn every_bad_row_reported_with_its_line() {
        let csv = "code,parent,level,name\nML-5,ML,region,Mopti\nML 6,ML,region,Tombouctou\nML-7,ML,province,Gao\nML-5,ML,region,Encore\nML-8,,region,Kidal\n";
        let errs = parse(Format::Csv, csv.as_bytes()).unwrap_err();
        let lines: Vec<(usize, &str)> = errs.iter().map(|e| (e.line, e.field.as_str())).collect();
        assert_eq!(lines, vec![(3, "code"), (4, "level"), (6, "parent")]);
        // Duplicates are found once the rows themselves are valid.
        let csv = "code,parent,level,name\nML-5,ML,region,Mopti\nML-5,ML,region,Encore\n";
        let errs = parse(Format::Csv, csv.as_bytes()).unwrap_err();
        assert_eq!(errs[0].line, 3);
        assert!(matches!(errs[0].msg, Msg::DuplicateInFile { first_line: 2, .. }));
    }

    #[test]
    fn invalid_utf8_names_its_line() {
        let mut bytes = b"code,parent,level,name\nML-4,ML,region,S".to_vec();
        bytes.push(0xE9); // Latin-1 é
        bytes.extend_from_slice(b"gou\n");
        let errs = parse(Format::Csv, &bytes).unwrap_err();
        assert_eq!((errs[0].line, errs[0].msg.clone()), (2, Msg::InvalidUtf8));
    }

    #[test]
    fn cycles_are_rejected() {
        let csv = "code,parent,level,name\nA1,B1,commune,A\nB1,A1,cercle,B\n";
        assert!(parse(Format::Csv, csv.as_bytes()).is_err());
    }

    #[test]
    fn geojson_features() {
        let g = r#"{"type":"FeatureCollection","features":[
          {"type":"Feature","properties":{"code":"ML-5","parent":"ML","level":"region","name":"Mopti","tags":["zone PROSMED"]},
           "geometry":{"type":"Polygon","coordinates":[[[-4,14],[-3,14],[-3,15],[-4,14]]]}},
          {"type":"Feature","properties":{"code":"ML","level":"country","name":"Mali"},"geometry":{"type":"Point","coordinates":[-8,12.6]}}]}"#;
        let rows = parse(Format::GeoJson, g.as_bytes()).unwrap();
        assert_eq!(rows[0].area.code.as_str(), "ML");
        assert_eq!(rows[0].area.point, Some((12.6, -8.0)));
        assert!(rows[1].area.geometry.is_some());
        assert_eq!(rows[1].area.tags, vec!["zone prosmed".to_string()]);
        assert!(parse(Format::GeoJson, b"{\"type\":\"Feature\"}").is_err());
        assert!(parse(Format::GeoJson, b"not json").is_err());
    }
}
