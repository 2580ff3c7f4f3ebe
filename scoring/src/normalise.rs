//! Response normalisation and UAV acceptance (spec kav-scoring.md 1.2), reproduced from the
//! reference on raw JSON, because the reference runs it on the miner's raw dict: a seed's rows
//! are kept as whatever JSON the miner sent (later stages grade malformed rows), and the miner's
//! key order is kept (DOBs and addresses are graded by position, Q2).
//!
//! Rules, per seed entry of an object-valued `variations`, in the miner's order:
//! - a list: the seed's rows;
//! - an object with a `variations` key: its value is the rows (null = no rows); without that
//!   key the seed is dropped (it later counts as missing);
//! - an object whose `uav` is truthy: rejected if a UAV seed exists and this is another seed;
//!   otherwise accepted when it is an object with non-empty `address` and `label`
//!   (coordinates optional: they only set `has_coordinates`);
//! - anything else: ignored.
//!
//! A `variations` that is not an object normalises to an empty map. UAVs are never scored;
//! accepted ones are collected for the MIID server and reputation.

use indexmap::IndexMap;
use serde::Serialize;
use serde_json::Value;

/// A UAV the validator keeps.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AcceptedUav {
    pub seed: String,
    pub address: String,
    pub label: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub has_coordinates: bool,
}

/// A normalised response: seed name -> rows (raw JSON rows, miner order), plus UAV outcomes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Normalised {
    pub rows: IndexMap<String, Vec<Value>>,
    pub accepted_uavs: Vec<AcceptedUav>,
    /// Seeds whose UAV was rejected because they are not the validator's UAV seed.
    pub rejected_uavs: Vec<String>,
}

fn non_empty_str(v: Option<&Value>) -> Option<String> {
    match v {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// Normalises one miner's `variations` (`None` when the field was missing or null: nothing to
/// score) for a round whose UAV seed is `uav_seed`.
pub fn normalise(variations: Option<&Value>, uav_seed: Option<&str>) -> Normalised {
    let mut out = Normalised::default();
    let Some(Value::Object(map)) = variations else {
        return out;
    };
    for (seed, value) in map {
        match value {
            Value::Array(rows) => {
                out.rows.insert(seed.clone(), rows.clone());
            }
            Value::Object(obj) => {
                match obj.get("variations") {
                    Some(Value::Array(rows)) => {
                        out.rows.insert(seed.clone(), rows.clone());
                    }
                    Some(Value::Null) => {
                        out.rows.insert(seed.clone(), Vec::new());
                    }
                    // Any other value type is stored as-is by the reference and graded as
                    // malformed later; a non-list has no rows to grade.
                    Some(_) => {
                        out.rows.insert(seed.clone(), Vec::new());
                    }
                    None => {}
                }
                let Some(uav) = obj.get("uav").filter(|u| crate::pyvalue::truthy(u)) else { continue };
                if uav_seed.is_some_and(|s| s != seed) {
                    out.rejected_uavs.push(seed.clone());
                    continue;
                }
                let Value::Object(u) = uav else { continue };
                let (Some(address), Some(label)) = (non_empty_str(u.get("address")), non_empty_str(u.get("label")))
                else {
                    continue;
                };
                let latitude = u.get("latitude").and_then(Value::as_f64);
                let longitude = u.get("longitude").and_then(Value::as_f64);
                out.accepted_uavs.push(AcceptedUav {
                    seed: seed.clone(),
                    address,
                    label,
                    latitude,
                    longitude,
                    has_coordinates: latitude.is_some() && longitude.is_some(),
                });
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lists_objects_and_key_order() {
        let v = json!({
            "B": [["b1", "1990-01-01", "X"]],
            "A": {"variations": [["a1", "1990-01-01", "Y"]], "uav": {"address": "1 Main Str, X", "label": "typo", "latitude": 1.0, "longitude": null}},
            "C": {"uav": {"address": "x", "label": "y"}},
            "D": {"variations": null},
            "E": "ignored",
            "F": 5
        });
        let n = normalise(Some(&v), Some("A"));
        assert_eq!(n.rows.keys().collect::<Vec<_>>(), ["B", "A", "D"], "C has no variations key: dropped");
        assert!(n.rows["D"].is_empty());
        assert_eq!(n.accepted_uavs.len(), 1);
        assert_eq!(n.accepted_uavs[0].seed, "A");
        assert!(!n.accepted_uavs[0].has_coordinates);
        assert_eq!(n.rejected_uavs, vec!["C".to_owned()]);
    }

    #[test]
    fn uav_needs_address_and_label() {
        for uav in [
            json!({"address": "", "label": "x"}),
            json!({"address": "a", "label": ""}),
            json!({"address": "a"}),
            json!(["a", "b"]),
        ] {
            let v = json!({"S": {"variations": [], "uav": uav}});
            assert!(normalise(Some(&v), Some("S")).accepted_uavs.is_empty(), "{uav}");
        }
        let v =
            json!({"S": {"variations": [], "uav": {"address": "a", "label": "b", "latitude": 2, "longitude": 3.5}}});
        let n = normalise(Some(&v), None);
        assert!(n.accepted_uavs[0].has_coordinates, "without a UAV seed any seed's UAV may be accepted");
        let falsy = json!({"S": {"variations": [], "uav": {}}});
        let n = normalise(Some(&falsy), Some("T"));
        assert!(n.rejected_uavs.is_empty(), "an empty uav is falsy: neither accepted nor rejected");
    }

    #[test]
    fn non_objects_normalise_to_nothing() {
        assert!(normalise(None, None).rows.is_empty());
        assert!(normalise(Some(&json!([1, 2])), None).rows.is_empty());
        assert!(normalise(Some(&Value::Null), None).rows.is_empty());
    }
}
