//! The UAV (spec validator-round.md 7; miner-protocol.md): for the one seed the query names, an
//! address in the seed's country that looks legitimate but may fail geocoding, with a label
//! saying why and coordinates of the place it is meant to be.
//!
//! UAVs are never scored, only collected (kav-scoring.md 1.2), so the miner sends an honest,
//! plausible one: a real city, a street suffix written the way people write it locally, and
//! the city's coordinates.

use rand::Rng;
use rand::seq::IndexedRandom;

use miid_protocol::synapse::Uav;

use crate::address::city_and_country;

/// Approximate coordinates of the cities the default address source prefers.
const COORDS: &[(&str, f64, f64)] = &[
    ("Springfield", 39.80, -89.64),
    ("Denver", 39.74, -104.99),
    ("Austin", 30.27, -97.74),
    ("Portland", 45.52, -122.68),
    ("London", 51.51, -0.13),
    ("Manchester", 53.48, -2.24),
    ("Leeds", 53.80, -1.55),
    ("Bristol", 51.45, -2.59),
    ("Toronto", 43.65, -79.38),
    ("Calgary", 51.05, -114.07),
    ("Ottawa", 45.42, -75.70),
    ("Halifax", 44.65, -63.58),
    ("Sydney", -33.87, 151.21),
    ("Melbourne", -37.81, 144.96),
    ("Perth", -31.95, 115.86),
    ("Adelaide", -34.93, 138.60),
    ("Berlin", 52.52, 13.40),
    ("Hamburg", 53.55, 9.99),
    ("Munich", 48.14, 11.58),
    ("Cologne", 50.94, 6.96),
    ("Paris", 48.86, 2.35),
    ("Lyon", 45.76, 4.84),
    ("Marseille", 43.30, 5.37),
    ("Toulouse", 43.60, 1.44),
    ("Madrid", 40.42, -3.70),
    ("Barcelona", 41.39, 2.17),
    ("Valencia", 39.47, -0.38),
    ("Seville", 37.39, -5.98),
    ("Rome", 41.90, 12.50),
    ("Milan", 45.46, 9.19),
    ("Naples", 40.85, 14.27),
    ("Turin", 45.07, 7.69),
    ("Lisbon", 38.72, -9.14),
    ("Porto", 41.15, -8.61),
    ("Amsterdam", 52.37, 4.90),
    ("Rotterdam", 51.92, 4.48),
    ("Moscow", 55.76, 37.62),
    ("Kazan", 55.79, 49.12),
    ("Kyiv", 50.45, 30.52),
    ("Lviv", 49.84, 24.03),
    ("Odesa", 46.48, 30.72),
    ("Kharkiv", 49.99, 36.23),
    ("Warsaw", 52.23, 21.01),
    ("Krakow", 50.06, 19.94),
    ("Istanbul", 41.01, 28.98),
    ("Ankara", 39.93, 32.86),
    ("Tehran", 35.69, 51.39),
    ("Isfahan", 32.65, 51.67),
    ("Baghdad", 33.31, 44.37),
    ("Basra", 30.51, 47.78),
    ("Damascus", 33.51, 36.29),
    ("Aleppo", 36.20, 37.13),
    ("Cairo", 30.04, 31.24),
    ("Alexandria", 31.20, 29.92),
    ("Giza", 30.01, 31.21),
    ("Luxor", 25.69, 32.64),
    ("Riyadh", 24.71, 46.68),
    ("Jeddah", 21.49, 39.19),
    ("Dubai", 25.20, 55.27),
    ("Abu Dhabi", 24.45, 54.38),
    ("Karachi", 24.86, 67.01),
    ("Lahore", 31.55, 74.34),
    ("Islamabad", 33.68, 73.05),
    ("Mumbai", 19.08, 72.88),
    ("Delhi", 28.70, 77.10),
    ("Bangalore", 12.97, 77.59),
    ("Chennai", 13.08, 80.27),
    ("Beijing", 39.90, 116.41),
    ("Shanghai", 31.23, 121.47),
    ("Guangzhou", 23.13, 113.26),
    ("Chengdu", 30.57, 104.07),
    ("Tokyo", 35.68, 139.69),
    ("Osaka", 34.69, 135.50),
    ("Nagoya", 35.18, 136.91),
    ("Sapporo", 43.06, 141.35),
    ("Seoul", 37.57, 126.98),
    ("Busan", 35.18, 129.08),
    ("Pyongyang", 39.04, 125.76),
    ("Hanoi", 21.03, 105.85),
    ("Jakarta", -6.21, 106.85),
    ("Manila", 14.60, 120.98),
    ("Sao Paulo", -23.55, -46.63),
    ("Rio de Janeiro", -22.91, -43.17),
    ("Mexico City", 19.43, -99.13),
    ("Guadalajara", 20.66, -103.35),
    ("Buenos Aires", -34.60, -58.38),
    ("Bogota", 4.71, -74.07),
    ("Caracas", 10.48, -66.90),
    ("Havana", 23.11, -82.37),
    ("Lagos", 6.52, 3.38),
    ("Abuja", 9.08, 7.40),
    ("Nairobi", -1.29, 36.82),
    ("Johannesburg", -26.20, 28.05),
    ("Cape Town", -33.92, 18.42),
    ("Addis Ababa", 9.03, 38.74),
    ("Casablanca", 33.57, -7.59),
    ("Rabat", 34.02, -6.83),
    ("Kabul", 34.56, 69.21),
    ("Minsk", 53.90, 27.56),
    ("Yangon", 16.87, 96.20),
    ("Khartoum", 15.50, 32.56),
    ("Mogadishu", 2.05, 45.32),
    ("Tripoli", 32.89, 13.19),
    ("Sanaa", 15.37, 44.19),
    ("Beirut", 33.89, 35.50),
    ("Tel Aviv", 32.09, 34.78),
    ("Jerusalem", 31.77, 35.21),
    ("Athens", 37.98, 23.73),
    ("Stockholm", 59.33, 18.07),
    ("Oslo", 59.91, 10.75),
];

/// Street spellings a geocoder may not resolve, with the label that explains each.
const VARIANTS: &[(&str, &str)] = &[
    ("Str", "Common typo: street suffix shortened to 'Str'"),
    ("Av", "Local abbreviation: 'Av' for Avenue"),
    ("Rd.", "Local abbreviation: 'Rd.' for Road"),
    ("Stret", "Common typo: 'Stret' for Street"),
];

const STREETS: &[&str] = &["Main", "Oak", "Park", "Station", "Church", "Market", "Garden", "River", "Hill", "Mill"];

/// The UAV for a seed whose address is `seed_address`.
pub fn uav_for(seed_address: &str, rng: &mut dyn rand::RngCore) -> Uav {
    let (city, country) = city_and_country(seed_address, rng);
    let number = rng.random_range(10..999);
    let street = STREETS.choose(rng).expect("streets");
    let (suffix, label) = VARIANTS.choose(rng).expect("variants");
    let coords = COORDS.iter().find(|(c, _, _)| c.eq_ignore_ascii_case(&city));
    Uav {
        address: format!("{number} {street} {suffix}, {city}, {country}"),
        label: (*label).to_owned(),
        latitude: coords.map(|c| c.1),
        longitude: coords.map(|c| c.2),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn uav_is_in_the_country_with_a_label_and_coordinates() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        for country in ["Germany", "Japan", "Egypt", "United Kingdom"] {
            let u = uav_for(country, &mut rng);
            assert!(u.address.ends_with(&format!(", {country}")), "{u:?}");
            assert!(!u.label.is_empty());
            let (lat, lon) = (u.latitude.unwrap(), u.longitude.unwrap());
            assert!((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon));
        }
        // The validator's acceptance rule (kav-scoring 1.2) takes it.
        let u = uav_for("Spain", &mut rng);
        let v = serde_json::json!({"S": {"variations": [], "uav": u}});
        let n = miid_scoring::normalise(Some(&v), Some("S"));
        assert_eq!(n.accepted_uavs.len(), 1);
        assert!(n.accepted_uavs[0].has_coordinates);
    }
}
