//! Administrative areas: Mali's org-unit tree (country → région → cercle → commune → village),
//! as DHIS2 models it. Access is granted on a subtree, so every area carries its path from the root.

use crate::{error::Invalid, i18n::Msg};
use serde::{Deserialize, Serialize};
use std::fmt;

/// An area code: `ML`, `ML-5`, `ML0501`, `ML-BKO-C1`. Capital ASCII letters, digits, hyphens.
/// No `/`, `%` or `_`, so a code is safe inside a path and inside a SQL range or LIKE pattern.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AreaCode(String);

impl AreaCode {
    pub const MAX_LEN: usize = 32;

    pub fn parse(raw: &str) -> Result<Self, Msg> {
        let code = raw.trim().to_ascii_uppercase();
        let ok = !code.is_empty()
            && code.len() <= Self::MAX_LEN
            && code.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
            && !code.starts_with('-')
            && !code.ends_with('-');
        if ok {
            Ok(AreaCode(code))
        } else {
            Err(Msg::InvalidAreaCode)
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for AreaCode {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        AreaCode::parse(&s).map_err(|m| m.text(crate::Lang::En))
    }
}
impl From<AreaCode> for String {
    fn from(c: AreaCode) -> String {
        c.0
    }
}
impl fmt::Display for AreaCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AreaLevel {
    Country,
    Region,
    Cercle,
    Commune,
    Village,
}

impl AreaLevel {
    pub const ALL: [AreaLevel; 5] = [
        AreaLevel::Country,
        AreaLevel::Region,
        AreaLevel::Cercle,
        AreaLevel::Commune,
        AreaLevel::Village,
    ];
    pub fn parse(raw: &str) -> Result<Self, Msg> {
        match crate::text::fold(raw).as_str() {
            "country" | "pays" => Ok(AreaLevel::Country),
            "region" => Ok(AreaLevel::Region),
            "cercle" | "district" => Ok(AreaLevel::Cercle),
            "commune" => Ok(AreaLevel::Commune),
            "village" | "quartier" | "fraction" => Ok(AreaLevel::Village),
            _ => Err(Msg::InvalidAreaLevel),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            AreaLevel::Country => "country",
            AreaLevel::Region => "region",
            AreaLevel::Cercle => "cercle",
            AreaLevel::Commune => "commune",
            AreaLevel::Village => "village",
        }
    }
    /// 0 for the country, 4 for a village.
    pub fn depth(self) -> i32 {
        self as i32
    }
}

/// The path of an area from the root: `ML/ML-5/ML0501`. A subtree is every path equal to
/// this one or starting with it followed by `/`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AreaPath(pub String);

impl AreaPath {
    pub fn root(code: &AreaCode) -> Self {
        AreaPath(code.as_str().to_string())
    }
    pub fn child(&self, code: &AreaCode) -> Self {
        AreaPath(format!("{}/{}", self.0, code.as_str()))
    }
    /// True when `other` is this area or inside it.
    pub fn contains(&self, other: &AreaPath) -> bool {
        other.0 == self.0
            || (other.0.len() > self.0.len()
                && other.0.starts_with(&self.0)
                && other.0.as_bytes()[self.0.len()] == b'/')
    }
    /// Bounds of the strict descendants in byte order: every descendant path p has lo <= p < hi.
    /// ('/' is 0x2F and '0' is 0x30, the next byte.)
    pub fn descendant_range(&self) -> (String, String) {
        (format!("{}/", self.0), format!("{}0", self.0))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A geometry as GeoJSON (Point, Polygon or MultiPolygon), kept as validated JSON text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Geometry(pub serde_json::Value);

impl Geometry {
    pub fn parse(v: serde_json::Value) -> Result<Self, Msg> {
        fn pos_ok(p: &serde_json::Value) -> bool {
            match p.as_array() {
                Some(a) if a.len() >= 2 => match (a[0].as_f64(), a[1].as_f64()) {
                    (Some(lon), Some(lat)) => valid_lat_lon(lat, lon),
                    _ => false,
                },
                _ => false,
            }
        }
        fn ring_ok(r: &serde_json::Value) -> bool {
            r.as_array().is_some_and(|ps| ps.len() >= 4 && ps.iter().all(pos_ok))
        }
        fn polygon_ok(p: &serde_json::Value) -> bool {
            p.as_array().is_some_and(|rs| !rs.is_empty() && rs.iter().all(ring_ok))
        }
        let coords = v.get("coordinates");
        let ok = match (v.get("type").and_then(|t| t.as_str()), coords) {
            (Some("Point"), Some(c)) => pos_ok(c),
            (Some("Polygon"), Some(c)) => polygon_ok(c),
            (Some("MultiPolygon"), Some(c)) => {
                c.as_array().is_some_and(|ps| !ps.is_empty() && ps.iter().all(polygon_ok))
            }
            _ => false,
        };
        if ok {
            Ok(Geometry(v))
        } else {
            Err(Msg::InvalidGeometry)
        }
    }
}

impl Geometry {
    /// Whether the point lies inside this Polygon/MultiPolygon (holes excluded). Ray casting
    /// in lon/lat degrees: right for administrative boundaries, which are small next to the earth.
    pub fn contains(&self, lat: f64, lon: f64) -> bool {
        fn ring_contains(ring: &serde_json::Value, lat: f64, lon: f64) -> bool {
            let pts: Vec<(f64, f64)> = ring
                .as_array()
                .map(|a| a.iter().filter_map(|p| Some((p.get(0)?.as_f64()?, p.get(1)?.as_f64()?))).collect())
                .unwrap_or_default();
            let mut inside = false;
            let mut j = pts.len().wrapping_sub(1);
            for i in 0..pts.len() {
                let (xi, yi) = pts[i];
                let (xj, yj) = pts[j];
                if (yi > lat) != (yj > lat) && lon < (xj - xi) * (lat - yi) / (yj - yi) + xi {
                    inside = !inside;
                }
                j = i;
            }
            inside
        }
        fn polygon_contains(rings: &serde_json::Value, lat: f64, lon: f64) -> bool {
            let rings = rings.as_array().map(|r| r.as_slice()).unwrap_or(&[]);
            match rings.split_first() {
                Some((outer, holes)) => ring_contains(outer, lat, lon) && !holes.iter().any(|h| ring_contains(h, lat, lon)),
                None => false,
            }
        }
        let c = &self.0["coordinates"];
        match self.0["type"].as_str() {
            Some("Polygon") => polygon_contains(c, lat, lon),
            Some("MultiPolygon") => c.as_array().is_some_and(|ps| ps.iter().any(|p| polygon_contains(p, lat, lon))),
            _ => false,
        }
    }
}

pub fn valid_lat_lon(lat: f64, lon: f64) -> bool {
    lat.is_finite() && lon.is_finite() && (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon)
}

/// A tag such as "zone PROSMED": letters (any script), digits, spaces, hyphens; normalised to trimmed lowercase.
pub fn parse_tag(raw: &str) -> Result<String, Msg> {
    let t = raw.trim().to_lowercase();
    let ok = !t.is_empty()
        && t.chars().count() <= 64
        && t.chars().all(|c| c.is_alphanumeric() || c == ' ' || c == '-' || c == '_');
    if ok {
        Ok(t)
    } else {
        Err(Msg::InvalidTag)
    }
}

/// A person- or place-facing name: 1..=200 chars, no control characters.
pub fn parse_name(raw: &str) -> Result<String, Msg> {
    let n = raw.trim();
    if n.is_empty() {
        return Err(Msg::Required);
    }
    if n.chars().count() > 200 || n.chars().any(char::is_control) {
        return Err(Msg::InvalidName);
    }
    Ok(n.to_string())
}

/// An area as entered (by import or API), before it is placed in the tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AreaInput {
    pub code: AreaCode,
    pub parent: Option<AreaCode>,
    pub level: AreaLevel,
    pub name: String,
    pub tags: Vec<String>,
    /// Representative point (chef-lieu), latitude then longitude.
    pub point: Option<(f64, f64)>,
    pub geometry: Option<Geometry>,
}

impl AreaInput {
    /// Checks what can be checked without the rest of the tree.
    pub fn validate(&self) -> Result<(), Invalid> {
        match (self.level, &self.parent) {
            (AreaLevel::Country, Some(_)) => {
                return Err(Invalid::new("parent", Msg::ParentLevelMismatch { parent: self.parent.as_ref().unwrap().to_string() }))
            }
            (l, None) if l != AreaLevel::Country => return Err(Invalid::new("parent", Msg::Required)),
            _ => {}
        }
        if self.parent.as_ref() == Some(&self.code) {
            return Err(Invalid::new("parent", Msg::AreaCycle));
        }
        parse_name(&self.name).map_err(|m| Invalid::new("name", m))?;
        if let Some((lat, lon)) = self.point {
            if !valid_lat_lon(lat, lon) {
                return Err(Invalid::new("lat", Msg::InvalidCoordinate));
            }
        }
        Ok(())
    }
}

/// Rule for placing a child under a parent: the parent must be of a higher level. Usually the
/// next one up, but not always: Bamako's six communes sit directly under the District.
pub fn check_parent_level(child: AreaLevel, parent_code: &AreaCode, parent_level: AreaLevel) -> Result<(), Msg> {
    if parent_level.depth() < child.depth() {
        Ok(())
    } else {
        Err(Msg::ParentLevelMismatch { parent: parent_code.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_normalised_and_checked() {
        assert_eq!(AreaCode::parse(" ml-5 ").unwrap().as_str(), "ML-5");
        assert!(AreaCode::parse("ML/5").is_err());
        assert!(AreaCode::parse("ML_5").is_err());
        assert!(AreaCode::parse("ML%").is_err());
        assert!(AreaCode::parse("").is_err());
        assert!(AreaCode::parse("-ML").is_err());
        assert!(AreaCode::parse(&"A".repeat(33)).is_err());
    }

    #[test]
    fn subtree_containment_respects_segment_boundaries() {
        let ml5 = AreaPath("ML/ML-5".into());
        assert!(ml5.contains(&AreaPath("ML/ML-5".into())));
        assert!(ml5.contains(&AreaPath("ML/ML-5/ML0501".into())));
        // ML-50 is not inside ML-5 even though the string starts the same.
        assert!(!ml5.contains(&AreaPath("ML/ML-50".into())));
        assert!(!ml5.contains(&AreaPath("ML".into())));
        let (lo, hi) = ml5.descendant_range();
        for inside in ["ML/ML-5/A", "ML/ML-5/ZZZ/Y"] {
            assert!(lo.as_str() <= inside && inside < hi.as_str());
        }
        for outside in ["ML/ML-50", "ML/ML-5", "ML/ML-6/X"] {
            assert!(!(lo.as_str() <= outside && outside < hi.as_str()), "{outside}");
        }
    }

    #[test]
    fn levels_chain() {
        assert_eq!(AreaLevel::parse("Région").unwrap(), AreaLevel::Region);
        assert!(check_parent_level(AreaLevel::Cercle, &AreaCode::parse("ML-5").unwrap(), AreaLevel::Region).is_ok());
        // District of Bamako: communes right under a region-level area.
        assert!(check_parent_level(AreaLevel::Commune, &AreaCode::parse("ML-BKO").unwrap(), AreaLevel::Region).is_ok());
        assert!(check_parent_level(AreaLevel::Region, &AreaCode::parse("ML-5-MOPTI").unwrap(), AreaLevel::Cercle).is_err());
        assert!(check_parent_level(AreaLevel::Cercle, &AreaCode::parse("ML-5-KORO").unwrap(), AreaLevel::Cercle).is_err());
    }

    #[test]
    fn point_in_polygon_with_hole() {
        let g = Geometry::parse(serde_json::json!({"type":"Polygon","coordinates":[
            [[0.0,0.0],[10.0,0.0],[10.0,10.0],[0.0,10.0],[0.0,0.0]],
            [[4.0,4.0],[6.0,4.0],[6.0,6.0],[4.0,6.0],[4.0,4.0]]]})).unwrap();
        assert!(g.contains(2.0, 2.0));
        assert!(!g.contains(5.0, 5.0), "inside the hole");
        assert!(!g.contains(11.0, 2.0));
        let m = Geometry::parse(serde_json::json!({"type":"MultiPolygon","coordinates":[
            [[[0.0,0.0],[1.0,0.0],[1.0,1.0],[0.0,0.0]]], [[[20.0,20.0],[21.0,20.0],[21.0,21.0],[20.0,20.0]]]]})).unwrap();
        assert!(m.contains(20.2, 20.8) && !m.contains(10.0, 10.0));
        assert!(!Geometry::parse(serde_json::json!({"type":"Point","coordinates":[1.0,1.0]})).unwrap().contains(1.0, 1.0));
    }

    #[test]
    fn geometry_checks_coordinates() {
        let ok = serde_json::json!({"type":"Point","coordinates":[-4.2, 14.5]});
        assert!(Geometry::parse(ok).is_ok());
        let bad = serde_json::json!({"type":"Point","coordinates":[-4.2, 104.5]});
        assert!(Geometry::parse(bad).is_err());
        let poly = serde_json::json!({"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]});
        assert!(Geometry::parse(poly).is_ok());
        let line = serde_json::json!({"type":"LineString","coordinates":[[0,0],[1,0]]});
        assert!(Geometry::parse(line).is_err());
    }
}
