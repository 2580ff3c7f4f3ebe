//! The mock over real HTTP on loopback, driven with reqwest the way the validator's geocoder
//! client drives the public Nominatim.

use std::time::{Duration, Instant};

use nominatim_mock::{Config, FaultAction, Faults, RunningMock, StreetPrecision, spawn};
use serde_json::Value;

const UA: &str = "openstreet address"; // what the validator sends

async fn start(config: Config) -> (RunningMock, reqwest::Client) {
    let mock = spawn(config).await.expect("spawn mock");
    let client = reqwest::Client::builder().user_agent(UA).timeout(Duration::from_secs(30)).build().unwrap();
    (mock, client)
}

async fn get(client: &reqwest::Client, mock: &RunningMock, path: &str, query: &[(&str, &str)]) -> (u16, String) {
    let resp = client.get(format!("{}{path}", mock.base_url())).query(query).send().await.expect("request");
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap())
}

async fn search(client: &reqwest::Client, mock: &RunningMock, q: &str, extra: &[(&str, &str)]) -> Vec<Value> {
    let mut query = vec![("q", q), ("format", "json")];
    query.extend_from_slice(extra);
    let (status, body) = get(client, mock, "/search", &query).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str::<Vec<Value>>(&body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

fn num(v: &Value) -> f64 {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}")).parse().unwrap_or_else(|_| panic!("not numeric: {v}"))
}

#[tokio::test]
async fn known_city_has_country_code_and_string_coordinates() {
    let (mock, client) = start(Config::default()).await;
    let places = search(&client, &mock, "Berlin, Germany", &[("addressdetails", "1")]).await;
    let top = &places[0];
    assert_eq!(top["name"], "Berlin");
    assert_eq!(top["class"], "place");
    assert_eq!(top["type"], "city");
    assert_eq!(top["place_rank"], 16);
    assert_eq!(top["address"]["country_code"], "de");
    assert_eq!(top["address"]["country"], "Germany");
    let (lat, lon) = (num(&top["lat"]), num(&top["lon"]));
    assert!((lat - 52.52).abs() < 0.1 && (lon - 13.40).abs() < 0.1, "{lat},{lon}");
    let bbox: Vec<f64> = top["boundingbox"].as_array().unwrap().iter().map(num).collect();
    assert_eq!(bbox.len(), 4);
    assert!(bbox[0] < lat && lat < bbox[1] && bbox[2] < lon && lon < bbox[3], "{bbox:?}");
    for key in ["place_id", "licence", "osm_type", "osm_id", "importance", "addresstype", "display_name"] {
        assert!(top.get(key).is_some(), "missing {key}");
    }
    // Case and accents do not matter; jsonv2 says "category".
    let (status, body) = get(&client, &mock, "/search", &[("q", "zürich, SWITZERLAND"), ("format", "jsonv2")]).await;
    assert_eq!(status, 200);
    let v: Vec<Value> = serde_json::from_str(&body).unwrap();
    assert_eq!(v[0]["name"], "Zurich");
    assert_eq!(v[0]["category"], "place");
    assert!(v[0].get("class").is_none());
}

#[tokio::test]
async fn same_city_name_in_two_countries_follows_the_country_part() {
    let (mock, client) = start(Config::default()).await;
    let cc = |places: &[Value]| -> Vec<String> {
        places.iter().map(|p| p["address"]["country_code"].as_str().unwrap().to_string()).collect()
    };
    let au = search(&client, &mock, "Springfield, Australia", &[("addressdetails", "1")]).await;
    assert!(!au.is_empty() && cc(&au).iter().all(|c| c == "au"), "{au:?}");
    let us = search(&client, &mock, "12 Main Street, Springfield, United States", &[("addressdetails", "1")]).await;
    assert!(us.len() > 1 && cc(&us).iter().all(|c| c == "us"), "{us:?}");
    // A state named in the query picks that Springfield first.
    let il = search(&client, &mock, "Springfield, Illinois, USA", &[("addressdetails", "1")]).await;
    assert_eq!(il[0]["address"]["state"], "Illinois");
    // Without a country, both countries' Springfields are candidates.
    let any = search(&client, &mock, "Springfield", &[("addressdetails", "1"), ("limit", "40")]).await;
    let ccs = cc(&any);
    assert!(ccs.contains(&"au".to_string()) && ccs.contains(&"us".to_string()), "{ccs:?}");
    // countrycodes restricts.
    let only_au = search(&client, &mock, "Springfield", &[("addressdetails", "1"), ("countrycodes", "au")]).await;
    assert!(!only_au.is_empty() && cc(&only_au).iter().all(|c| c == "au"));
}

#[tokio::test]
async fn unknown_places_give_an_empty_array() {
    let (mock, client) = start(Config::default()).await;
    assert!(search(&client, &mock, "Qwzxv Plorkton, Zzyzxq", &[]).await.is_empty());
    assert!(search(&client, &mock, "Nowherevillezzz, Germany", &[]).await.is_empty());
    // A real city in another country does not count.
    assert!(search(&client, &mock, "Berlin, Japan", &[]).await.is_empty());
}

#[tokio::test]
async fn country_only_query_gives_the_country() {
    let (mock, client) = start(Config::default()).await;
    let places = search(&client, &mock, "Spain", &[("addressdetails", "1")]).await;
    assert_eq!(places.len(), 1);
    let p = &places[0];
    assert_eq!(p["type"], "country");
    assert_eq!(p["place_rank"], 4);
    assert_eq!(p["address"]["country_code"], "es");
    let (lat, lon) = (num(&p["lat"]), num(&p["lon"]));
    assert!((27.0..44.0).contains(&lat) && (-19.0..5.0).contains(&lon), "{lat},{lon}");
    // Structured parameters too.
    let (status, body) =
        get(&client, &mock, "/search", &[("city", "Lagos"), ("country", "Nigeria"), ("format", "json")]).await;
    assert_eq!(status, 200);
    let v: Vec<Value> = serde_json::from_str(&body).unwrap();
    assert_eq!(v[0]["name"], "Lagos");
    assert!(v[0]["display_name"].as_str().unwrap().ends_with("Nigeria"));
}

#[tokio::test]
async fn reverse_of_a_known_coordinate() {
    let (mock, client) = start(Config::default()).await;
    let (status, body) =
        get(&client, &mock, "/reverse", &[("lat", "48.8566"), ("lon", "2.3522"), ("format", "json")]).await;
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["address"]["country_code"], "fr", "{v}");
    assert_eq!(v["name"], "Paris", "{v}");
    num(&v["lat"]);
    // Mid-Pacific: nothing.
    let (status, body) = get(&client, &mock, "/reverse", &[("lat", "-40"), ("lon", "-130"), ("format", "json")]).await;
    assert_eq!(status, 200);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap(), serde_json::json!({"error": "Unable to geocode"}));
    // Bad numbers: Nominatim's 400 error object.
    let (status, _) = get(&client, &mock, "/reverse", &[("lat", "north"), ("lon", "2")]).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn limit_is_respected() {
    let (mock, client) = start(Config::default()).await;
    let all = search(&client, &mock, "Springfield, United States", &[("limit", "40")]).await;
    assert!(all.len() > 3, "{}", all.len());
    assert_eq!(search(&client, &mock, "Springfield, United States", &[("limit", "3")]).await.len(), 3);
    assert_eq!(search(&client, &mock, "Springfield, United States", &[("limit", "1")]).await.len(), 1);
    assert!(search(&client, &mock, "Springfield, United States", &[]).await.len() <= 10);
}

#[tokio::test]
async fn fault_schedule_produces_429_and_503() {
    let faults = Faults {
        schedule: vec![FaultAction::Status(429), FaultAction::Status(503), FaultAction::Pass],
        ..Faults::default()
    };
    let (mock, client) = start(Config { faults, ..Config::default() }).await;
    let q = [("q", "Berlin, Germany"), ("format", "json")];
    let (s1, b1) = get(&client, &mock, "/search", &q).await;
    let (s2, _) = get(&client, &mock, "/search", &q).await;
    let (s3, b3) = get(&client, &mock, "/search", &q).await;
    assert_eq!((s1, s2, s3), (429, 503, 200));
    assert!(serde_json::from_str::<Value>(&b1).is_err(), "error bodies are HTML, not JSON");
    assert!(serde_json::from_str::<Vec<Value>>(&b3).is_ok());
    // /status is never faulted and not counted.
    assert_eq!(get(&client, &mock, "/status", &[]).await, (200, "OK".to_string()));
    assert_eq!(mock.mock.requests(), 3);
    assert_eq!(mock.mock.injected_faults(), 2);

    // Probabilities, changed while running: always 429, then always 503.
    mock.mock.set_faults(Faults { rate_limit_probability: 1.0, ..Faults::default() });
    assert_eq!(get(&client, &mock, "/search", &q).await.0, 429);
    mock.mock.set_faults(Faults { server_error_probability: 1.0, ..Faults::default() });
    assert_eq!(get(&client, &mock, "/reverse", &[("lat", "1"), ("lon", "1")]).await.0, 503);
}

#[tokio::test]
async fn random_faults_are_reproducible_per_seed() {
    let faults = Faults { rate_limit_probability: 0.3, server_error_probability: 0.2, ..Faults::default() };
    let mut runs = Vec::new();
    for _ in 0..2 {
        let (mock, client) = start(Config { faults: faults.clone(), seed: 42, ..Config::default() }).await;
        let mut codes = Vec::new();
        for _ in 0..40 {
            codes.push(get(&client, &mock, "/search", &[("q", "Spain")]).await.0);
        }
        runs.push(codes);
    }
    assert_eq!(runs[0], runs[1]);
    assert!(runs[0].contains(&429) && runs[0].contains(&503) && runs[0].contains(&200), "{:?}", runs[0]);
}

#[tokio::test]
async fn latency_and_user_agent_policy() {
    let faults = Faults { latency: Duration::from_millis(300), require_user_agent: true, ..Faults::default() };
    let (mock, client) = start(Config { faults, ..Config::default() }).await;
    let t = Instant::now();
    assert_eq!(get(&client, &mock, "/search", &[("q", "Spain")]).await.0, 200);
    assert!(t.elapsed() >= Duration::from_millis(300));
    // reqwest sends no User-Agent unless told to.
    let bare = reqwest::Client::new();
    let status = bare.get(format!("{}/search?q=Spain", mock.base_url())).send().await.unwrap().status();
    assert_eq!(status.as_u16(), 403);
}

#[tokio::test]
async fn street_addresses_answer_at_city_precision_or_as_a_synthesized_house() {
    let addr = "Apartment 5, 12 Tverskaya Street, Moscow 125009, Russia";
    let (mock, client) = start(Config::default()).await;
    let city = search(&client, &mock, addr, &[]).await;
    assert_eq!(city[0]["type"], "city");
    assert_eq!(city[0]["place_rank"], 16);
    assert_eq!(city[0]["name"], "Moscow");

    let config =
        Config { street_precision: StreetPrecision::SynthesizeHouse { bbox_side_m: 8.0 }, ..Config::default() };
    let (mock, client) = start(config).await;
    let house = search(&client, &mock, addr, &[("addressdetails", "1")]).await;
    assert_eq!(house.len(), 1);
    let h = &house[0];
    assert_eq!(h["type"], "house");
    assert_eq!(h["place_rank"], 30);
    assert_eq!(h["name"], "");
    assert_eq!(h["address"]["house_number"], "12");
    assert_eq!(h["address"]["postcode"], "125009");
    // The validator's checks: digit runs of display_name equal the query's; box area ~64 m².
    let digits = |s: &str| -> std::collections::BTreeSet<String> {
        s.split(|c: char| !c.is_ascii_digit()).filter(|t| !t.is_empty()).map(String::from).collect()
    };
    assert_eq!(digits(h["display_name"].as_str().unwrap()), digits(addr));
    let b: Vec<f64> = h["boundingbox"].as_array().unwrap().iter().map(num).collect();
    let lat_c = (b[0] + b[1]) / 2.0;
    let area = (b[1] - b[0]).abs() * 111_000.0 * (b[3] - b[2]).abs() * 111_000.0 * lat_c.to_radians().cos();
    assert!((55.0..75.0).contains(&area), "{area}");
    // A city-only query is still the city.
    assert_eq!(search(&client, &mock, "Moscow, Russia", &[]).await[0]["type"], "city");
}

#[tokio::test]
async fn bad_format_is_a_400_error_object() {
    let (mock, client) = start(Config::default()).await;
    let (status, body) = get(&client, &mock, "/search", &[("q", "Spain"), ("format", "xml")]).await;
    assert_eq!(status, 400);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["error"]["code"], 400);
    mock.stop().await.unwrap();
}
