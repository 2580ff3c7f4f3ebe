//! Nominatim-shaped JSON for the hits the gazetteer resolves.
//!
//! Field names, order and types follow Nominatim's `format=json` / `format=jsonv2` output
//! (<https://nominatim.org/release-docs/latest/api/Output/>): `lat`, `lon` and every
//! `boundingbox` entry are *strings* with 7 decimals, `place_id`/`osm_id`/`place_rank` are
//! numbers, `jsonv2` says `category` where `json` says `class`. Clients written against the
//! real service (the validator reads `place_rank`, `name`, `display_name`, `boundingbox`)
//! therefore parse the mock's answers with no special casing.

use serde_json::{Map, Value, json};

use crate::gazetteer::{Gazetteer, Hit, StreetPart, normalize};

/// The `licence` field. The shape is Nominatim's; the data is GeoNames', so the notice is too.
pub const LICENCE: &str =
    "Data © GeoNames (https://www.geonames.org/), CC-BY 4.0; served by nominatim-mock (not OpenStreetMap data)";

/// Nominatim's output formats that the mock speaks (no XML/GeoJSON: no client here uses them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    JsonV2,
}

impl Format {
    pub fn parse(s: Option<&str>) -> Result<Format, String> {
        match s.map(str::trim) {
            None | Some("") | Some("jsonv2") => Ok(Format::JsonV2),
            Some("json") => Ok(Format::Json),
            Some(other) => Err(format!(
                "Parameter 'format' must be one of: json, jsonv2 (nominatim-mock does not serve '{other}')"
            )),
        }
    }
}

/// How precise answers for street addresses are; see the crate docs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StreetPrecision {
    /// The mock has no streets: a street address whose city is known is answered with the
    /// city (`class` `place`, `type` `city`, `place_rank` 16, 0.32° box), exactly what real
    /// Nominatim returns when it only matches the city part. The validator then filters the
    /// place out (`place_rank` < 20), so addresses score 0.
    City,
    /// Invent a house for street addresses whose city is known: `class` `place`, `type`
    /// `house`, `place_rank` 30, `name` "", a `display_name` that repeats the query's
    /// non-country parts verbatim (so its digit runs equal the query's), near the city, with a
    /// square bounding box of `bbox_side_m` metres. Lets scenarios exercise the validator's
    /// area scoring (side 8 m → 64 m² → score 1.0; 30 m → 0.9; 90 m → 0.8; 300 m → 0.7).
    SynthesizeHouse { bbox_side_m: f64 },
}

/// One answer, format-independent.
#[derive(Debug, Clone)]
pub struct Place {
    pub place_id: u64,
    pub osm_type: &'static str,
    pub osm_id: u64,
    pub lat: f64,
    pub lon: f64,
    pub class: &'static str,
    pub kind: &'static str,
    pub place_rank: u8,
    pub importance: f64,
    pub addresstype: &'static str,
    pub name: String,
    pub display_name: String,
    /// Ordered (key, value) address details, Nominatim's keys.
    pub address: Vec<(&'static str, String)>,
    /// south, north, west, east
    pub bbox: [f64; 4],
}

/// Nominatim's radius for a `place=city` node without an area: ±0.16° (the London example in
/// Nominatim's docs has exactly this box).
const CITY_HALF_DEG: f64 = 0.16;

impl Place {
    pub(crate) fn from_hit(g: &Gazetteer, hit: &Hit, precision: StreetPrecision) -> Option<Place> {
        match hit {
            Hit::City { idx, street: Some(street) } => match precision {
                StreetPrecision::City => Some(Place::city(g, *idx)),
                StreetPrecision::SynthesizeHouse { bbox_side_m } => Some(Place::house(g, *idx, street, bbox_side_m)),
            },
            Hit::City { idx, street: None } => Some(Place::city(g, *idx)),
            Hit::State { country, admin1 } => Place::state(g, *country, admin1),
            Hit::Country { country } => Place::country(g, *country),
        }
    }

    pub(crate) fn city(g: &Gazetteer, idx: u32) -> Place {
        let c = &g.cities()[idx as usize];
        let country = g.country_index_of_cc(c.cc).map(|ci| g.country(ci));
        let country_name = country.map_or(c.cc, |k| k.name);
        let mut display = vec![c.name.to_string()];
        let mut address = vec![("city", c.name.to_string())];
        if !c.admin2.is_empty() && c.admin2 != c.name {
            display.push(c.admin2.to_string());
            address.push(("county", c.admin2.to_string()));
        }
        if !c.admin1.is_empty() {
            if c.admin1 != c.name {
                display.push(c.admin1.to_string());
            }
            address.push(("state", c.admin1.to_string()));
        }
        display.push(country_name.to_string());
        address.push(("country", country_name.to_string()));
        address.push(("country_code", c.cc.to_ascii_lowercase()));
        let capital_like = c.name == c.admin1 || c.name == c.admin2;
        Place {
            place_id: 1_000_000 + idx as u64,
            osm_type: "node",
            osm_id: 100_000_000 + idx as u64,
            lat: c.lat,
            lon: c.lon,
            class: "place",
            kind: "city",
            place_rank: 16,
            importance: if capital_like { 0.6 } else { 0.5 },
            addresstype: "city",
            name: c.name.to_string(),
            display_name: display.join(", "),
            address,
            bbox: [c.lat - CITY_HALF_DEG, c.lat + CITY_HALF_DEG, c.lon - CITY_HALF_DEG, c.lon + CITY_HALF_DEG],
        }
    }

    fn house(g: &Gazetteer, idx: u32, street: &StreetPart, side_m: f64) -> Place {
        let city = Place::city(g, idx);
        let c = &g.cities()[idx as usize];
        let h = fnv1a(normalize(&street.parts_without_country.join(",")).as_bytes());
        // A stable point within about ±1 km of the city centre, different per street.
        let dlat = ((h & 0xffff) as f64 / 65535.0 - 0.5) * 0.02;
        let dlon = (((h >> 16) & 0xffff) as f64 / 65535.0 - 0.5) * 0.02;
        let (lat, lon) = (c.lat + dlat, c.lon + dlon);
        let half_lat = side_m.max(0.0) / 2.0 / 111_000.0;
        let half_lon = half_lat / lat.to_radians().cos().max(1e-6);

        // display_name: the query's own words (so the digit runs match what was asked), then the
        // state unless already there or holding digits, then the country.
        let mut display: Vec<String> = street.parts_without_country.iter().map(|s| s.trim().to_string()).collect();
        let mentioned = normalize(&display.join(" "));
        if !c.admin1.is_empty()
            && !c.admin1.chars().any(|ch| ch.is_ascii_digit())
            && !format!(" {mentioned} ").contains(&format!(" {} ", normalize(c.admin1)))
        {
            display.push(c.admin1.to_string());
        }
        let country_name =
            city.address.iter().find(|(k, _)| *k == "country").map(|(_, v)| v.clone()).unwrap_or_default();
        display.push(country_name.clone());

        let (house_number, road) = split_house_number(&street.street);
        let mut address = Vec::new();
        if let Some(n) = house_number {
            address.push(("house_number", n));
        }
        if !road.is_empty() {
            address.push(("road", road));
        }
        address.extend(city.address.iter().filter(|(k, _)| matches!(*k, "city" | "county" | "state")).cloned());
        if let Some(p) = &street.postcode {
            address.push(("postcode", p.clone()));
        }
        address.push(("country", country_name));
        address.push(("country_code", c.cc.to_ascii_lowercase()));

        Place {
            place_id: 500_000_000 + (h % 100_000_000),
            osm_type: "way",
            osm_id: 900_000_000 + (h % 100_000_000),
            lat,
            lon,
            class: "place",
            kind: "house",
            place_rank: 30,
            importance: 0.00001,
            addresstype: "place",
            name: String::new(),
            display_name: display.join(", "),
            address,
            bbox: [lat - half_lat, lat + half_lat, lon - half_lon, lon + half_lon],
        }
    }

    pub(crate) fn state(g: &Gazetteer, ci: usize, admin1: &str) -> Option<Place> {
        let geo = g.state_geo(ci, admin1)?;
        let country = g.country(ci);
        let h = fnv1a(format!("{}/{}", country.alpha2, admin1).as_bytes());
        Some(Place {
            place_id: 200_000 + (h % 700_000),
            osm_type: "relation",
            osm_id: 1_000_000 + (h % 9_000_000),
            lat: geo.lat,
            lon: geo.lon,
            class: "boundary",
            kind: "administrative",
            place_rank: 8,
            importance: 0.7,
            addresstype: "state",
            name: admin1.to_string(),
            display_name: format!("{admin1}, {}", country.name),
            address: vec![
                ("state", admin1.to_string()),
                ("country", country.name.to_string()),
                ("country_code", country.alpha2.to_ascii_lowercase()),
            ],
            bbox: geo.bbox,
        })
    }

    pub(crate) fn country(g: &Gazetteer, ci: usize) -> Option<Place> {
        let geo = g.country_geo(ci)?;
        let country = g.country(ci);
        Some(Place {
            place_id: 100_000 + ci as u64,
            osm_type: "relation",
            osm_id: 50_000 + ci as u64,
            lat: geo.lat,
            lon: geo.lon,
            class: "place",
            kind: "country",
            place_rank: 4,
            importance: 0.85,
            addresstype: "country",
            name: country.name.to_string(),
            display_name: country.name.to_string(),
            address: vec![("country", country.name.to_string()), ("country_code", country.alpha2.to_ascii_lowercase())],
            bbox: geo.bbox,
        })
    }

    /// Nominatim's JSON for this place. `address` only when `addressdetails` (Nominatim's
    /// default: off for `/search`, on for `/reverse`).
    pub fn to_json(&self, format: Format, addressdetails: bool) -> Value {
        let mut m = Map::new();
        m.insert("place_id".into(), json!(self.place_id));
        m.insert("licence".into(), json!(LICENCE));
        m.insert("osm_type".into(), json!(self.osm_type));
        m.insert("osm_id".into(), json!(self.osm_id));
        m.insert("lat".into(), json!(coord(self.lat)));
        m.insert("lon".into(), json!(coord(self.lon)));
        let class_key = match format {
            Format::Json => "class",
            Format::JsonV2 => "category",
        };
        m.insert(class_key.into(), json!(self.class));
        m.insert("type".into(), json!(self.kind));
        m.insert("place_rank".into(), json!(self.place_rank));
        m.insert("importance".into(), json!(self.importance));
        m.insert("addresstype".into(), json!(self.addresstype));
        m.insert("name".into(), json!(self.name));
        m.insert("display_name".into(), json!(self.display_name));
        if addressdetails {
            let addr: Map<String, Value> = self.address.iter().map(|(k, v)| ((*k).to_string(), json!(v))).collect();
            m.insert("address".into(), Value::Object(addr));
        }
        m.insert("boundingbox".into(), json!(self.bbox.map(coord)));
        Value::Object(m)
    }
}

fn coord(x: f64) -> String {
    format!("{x:.7}")
}

/// "12 Main Street" → ("12", "Main Street"); "Main Street 12" → ("12", "Main Street");
/// "Apartment 5, 12 Tverskaya Street" → ("12", "Tverskaya Street"): the last comma part holding
/// a numbered word is the street line.
fn split_house_number(street: &str) -> (Option<String>, String) {
    let line = street
        .split(',')
        .map(str::trim)
        .rev()
        .find(|p| p.split_whitespace().any(|w| w.chars().any(|c| c.is_ascii_digit())))
        .unwrap_or_else(|| street.split(',').next_back().unwrap_or("").trim());
    let words: Vec<&str> = line.split_whitespace().collect();
    let pos = words.iter().position(|w| w.chars().any(|c| c.is_ascii_digit()));
    match pos {
        Some(i) => {
            let rest: Vec<&str> = words.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, w)| *w).collect();
            (Some(words[i].trim_matches(|c: char| !c.is_alphanumeric()).to_string()), rest.join(" "))
        }
        None => (None, line.to_string()),
    }
}

/// FNV-1a, 64-bit: a stable hash (std's `DefaultHasher` may change between Rust releases, and
/// synthesized ids and points must not).
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in bytes {
        h ^= *b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn house_numbers_split_off_the_street_line() {
        assert_eq!(split_house_number("12 Main Street"), (Some("12".into()), "Main Street".into()));
        assert_eq!(split_house_number("Hauptstraße 5"), (Some("5".into()), "Hauptstraße".into()));
        assert_eq!(
            split_house_number("Apartment 5, 12 Tverskaya Street"),
            (Some("12".into()), "Tverskaya Street".into())
        );
        assert_eq!(split_house_number("Main Street"), (None, "Main Street".into()));
    }

    #[test]
    fn json_uses_class_and_jsonv2_category_with_string_coordinates() {
        let g = Gazetteer::global();
        let idx = g.cities().iter().position(|c| c.name == "Berlin" && c.cc == "DE").unwrap() as u32;
        let p = Place::city(g, idx);
        let v1 = p.to_json(Format::Json, false);
        assert_eq!(v1["class"], "place");
        assert!(v1.get("category").is_none() && v1.get("address").is_none());
        assert!(v1["lat"].as_str().unwrap().parse::<f64>().is_ok());
        let v2 = p.to_json(Format::JsonV2, true);
        assert_eq!(v2["category"], "place");
        assert_eq!(v2["address"]["country_code"], "de");
        assert_eq!(v2["display_name"], "Berlin, Germany");
        assert_eq!(v2["boundingbox"].as_array().unwrap().len(), 4);
    }
}
