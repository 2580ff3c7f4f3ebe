//! The `IdentitySynapse` family as it travels (spec miner-protocol.md section 2).
//!
//! Two request generations share one route:
//! - **R1** (2026-03): `identity` and `query_template` (both required), `variations` in the
//!   answer (plain rows or the UAV form), and an image request of one to three variations;
//! - **R2** (2026-08, mainnet now): only `image_request` (five variations, screen-replay
//!   fields) and `s3_submissions` in the answer.
//!
//! A miner answers both by echoing the received JSON object and adding its outputs
//! ([`answer_body`], section 2.10), so unknown fields survive. The typed [`IdentitySynapse`] is
//! the validator's strict reading of an answer (section 2.9: a wrong type or a missing required
//! key loses the whole answer). Maps are order-preserving throughout: the order of seed names in
//! `variations` is scoring data (kav-scoring.md Q2).

use indexmap::IndexMap;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::IDENTITY_SYNAPSE_NAME;

/// The request generation a validator speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Generation {
    /// 2026-03: names, DOBs, addresses, one UAV, and images.
    R1,
    /// 2026-08, what mainnet runs now: five image variations.
    #[default]
    R2,
}

impl std::str::FromStr for Generation {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "r1" => Ok(Generation::R1),
            "r2" => Ok(Generation::R2),
            other => Err(format!("unknown request generation {other:?} (expected r1 or r2)")),
        }
    }
}

/// `dendrite` / `axon` objects (section 2.1). Every key is optional and nullable; nulls are
/// serialised, as pydantic does.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TerminalInfo {
    #[serde(default)]
    pub status_code: Option<i64>,
    #[serde(default)]
    pub status_message: Option<String>,
    #[serde(default)]
    pub process_time: Option<f64>,
    #[serde(default)]
    pub ip: Option<String>,
    #[serde(default)]
    pub port: Option<i64>,
    #[serde(default)]
    pub version: Option<u64>,
    #[serde(default)]
    pub nonce: Option<u64>,
    #[serde(default)]
    pub uuid: Option<String>,
    #[serde(default)]
    pub hotkey: Option<String>,
    #[serde(default)]
    pub signature: Option<String>,
}

/// One requested face-image variation (section 2.5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariationRequest {
    #[serde(rename = "type")]
    pub kind: String,
    pub intensity: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub detail: String,
}

/// The image task (section 2.4). The three R2-only keys are `None` when absent (R1 form) and
/// `Some(None)` when sent as null, so both forms serialise exactly as their validators send them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageRequest {
    pub base_image: String,
    pub image_filename: String,
    #[serde(default)]
    pub variation_requests: Vec<VariationRequest>,
    pub target_drand_round: u64,
    pub reveal_timestamp: i64,
    #[serde(default)]
    pub challenge_id: Option<String>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub daily_seed_image: Option<Option<String>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub daily_seed_filename: Option<Option<String>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub real_screen_replay_instructions: Option<Option<String>>,
}

/// Metadata of a real screen-replay capture (section 2.7); all keys required.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScreenReplayUav {
    pub seed_image: String,
    pub date: String,
    pub camera_used: String,
    pub device_photographed: String,
    pub moire_pixel_grid: bool,
    pub screen_glare_hotspots: bool,
    pub perspective_keystone_distortion: bool,
    pub gamma_contrast_shift: bool,
    pub edge_crop_cues: bool,
}

/// A reference to one uploaded, timelock-encrypted image (section 2.6). Every key is always
/// serialised (the R2-only ones as null), which both generations accept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct S3Submission {
    pub s3_key: String,
    pub image_hash: String,
    pub signature: String,
    pub variation_type: String,
    pub path_signature: String,
    #[serde(default)]
    pub s3_key_angle2: Option<String>,
    #[serde(default)]
    pub image_hash_angle2: Option<String>,
    #[serde(default)]
    pub signature_angle2: Option<String>,
    #[serde(default)]
    pub screen_replay_uav: Option<ScreenReplayUav>,
}

/// The "unknown attack vector" address a miner offers for the validator's chosen seed
/// (section 2.8). All four keys are required; the coordinates may be null.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Uav {
    pub address: String,
    pub label: String,
    #[serde(deserialize_with = "nullable")]
    pub latitude: Option<f64>,
    #[serde(deserialize_with = "nullable")]
    pub longitude: Option<f64>,
}

/// One seed's answer: rows of `[name, dob, address]`, or the UAV form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SeedVariations {
    Plain(Vec<Vec<String>>),
    WithUav { variations: Vec<Vec<String>>, uav: Uav },
}

impl SeedVariations {
    pub fn rows(&self) -> &[Vec<String>] {
        match self {
            SeedVariations::Plain(rows) => rows,
            SeedVariations::WithUav { variations, .. } => variations,
        }
    }

    pub fn uav(&self) -> Option<&Uav> {
        match self {
            SeedVariations::Plain(_) => None,
            SeedVariations::WithUav { uav, .. } => Some(uav),
        }
    }
}

/// `variations`: seed name -> answer, in the miner's own key order.
pub type Variations = IndexMap<String, SeedVariations>;

/// The typed synapse: the union of R1 and R2 fields, as a validator reads an answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdentitySynapse {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default = "default_timeout")]
    pub timeout: f64,
    #[serde(default)]
    pub total_size: Option<i64>,
    #[serde(default)]
    pub header_size: Option<i64>,
    #[serde(default)]
    pub dendrite: Option<TerminalInfo>,
    #[serde(default)]
    pub axon: Option<TerminalInfo>,
    #[serde(default)]
    pub computed_body_hash: Option<String>,
    #[serde(default)]
    pub identity: Option<Vec<Vec<String>>>,
    #[serde(default)]
    pub query_template: Option<String>,
    #[serde(default)]
    pub variations: Option<Variations>,
    #[serde(default)]
    pub image_request: Option<ImageRequest>,
    #[serde(default)]
    pub s3_submissions: Option<Vec<S3Submission>>,
    #[serde(default)]
    pub process_time: Option<f64>,
}

fn default_timeout() -> f64 {
    120.0
}

/// Deserialises a field that must be present but may be null.
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    Option::<T>::deserialize(d)
}

/// Deserialises a present field (null included) as `Some(..)`; `#[serde(default)]` gives `None`
/// when the key is absent.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// What a validator's strict parse of a 200 answer found wrong (the answer then counts as 422).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("Failed to parse response: {0}")]
pub struct ParseError(pub String);

impl IdentitySynapse {
    /// An empty request synapse of the given generation (the validator fills it in).
    pub fn new(generation: Generation, timeout: f64) -> Self {
        IdentitySynapse {
            name: Some(IDENTITY_SYNAPSE_NAME.to_owned()),
            timeout,
            total_size: Some(0),
            header_size: Some(0),
            dendrite: Some(TerminalInfo::default()),
            axon: Some(TerminalInfo::default()),
            computed_body_hash: Some(String::new()),
            identity: matches!(generation, Generation::R1).then(Vec::new),
            query_template: matches!(generation, Generation::R1).then(String::new),
            variations: matches!(generation, Generation::R1).then(IndexMap::new),
            image_request: None,
            s3_submissions: None,
            process_time: None,
        }
    }

    /// The generation a request belongs to: R1 when it carries the name task.
    pub fn generation(&self) -> Generation {
        if self.identity.is_some() || self.query_template.is_some() { Generation::R1 } else { Generation::R2 }
    }

    /// Parses an answer the way the reference validator's pydantic model does for `generation`:
    /// strict types, unknown keys ignored, R1's `identity` and `query_template` required.
    pub fn parse_answer(generation: Generation, body: &[u8]) -> Result<Self, ParseError> {
        let value: Value = serde_json::from_slice(body).map_err(|e| ParseError(e.to_string()))?;
        if !value.is_object() {
            return Err(ParseError("body is not a JSON object".into()));
        }
        let mut synapse: IdentitySynapse = serde_json::from_value(value).map_err(|e| ParseError(e.to_string()))?;
        match generation {
            Generation::R1 => {
                if synapse.identity.is_none() {
                    return Err(ParseError("identity: Field required".into()));
                }
                if synapse.query_template.is_none() {
                    return Err(ParseError("query_template: Field required".into()));
                }
            }
            Generation::R2 => {
                // The R2 class has no name-task fields; whatever the miner sent there is ignored.
                synapse.identity = None;
                synapse.query_template = None;
                synapse.variations = None;
            }
        }
        synapse.name = Some(IDENTITY_SYNAPSE_NAME.to_owned());
        Ok(synapse)
    }

    /// The JSON object in the key order the generation's Python class serialises.
    pub fn to_body(&self, generation: Generation) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("name".into(), v(&self.name));
        m.insert("timeout".into(), v(&self.timeout));
        m.insert("total_size".into(), v(&self.total_size));
        m.insert("header_size".into(), v(&self.header_size));
        m.insert("dendrite".into(), v(&self.dendrite));
        m.insert("axon".into(), v(&self.axon));
        m.insert("computed_body_hash".into(), v(&self.computed_body_hash));
        match generation {
            Generation::R1 => {
                m.insert("identity".into(), v(&self.identity.clone().unwrap_or_default()));
                m.insert("query_template".into(), v(&self.query_template.clone().unwrap_or_default()));
                m.insert("variations".into(), v(&self.variations));
                m.insert("process_time".into(), v(&self.process_time));
                m.insert("image_request".into(), v(&self.image_request));
                m.insert("s3_submissions".into(), v(&self.s3_submissions));
            }
            Generation::R2 => {
                m.insert("image_request".into(), v(&self.image_request));
                m.insert("s3_submissions".into(), v(&self.s3_submissions));
                m.insert("process_time".into(), v(&self.process_time));
            }
        }
        m
    }
}

fn v<T: Serialize>(x: &T) -> Value {
    serde_json::to_value(x).expect("wire types serialise")
}

/// What a miner adds to the echoed request (section 2.10).
#[derive(Debug, Clone, Default)]
pub struct MinerOutput {
    /// R1 only: the name task's answer (`{}` when nothing was produced).
    pub variations: Option<Variations>,
    /// Always sent, `[]` when no image was produced.
    pub s3_submissions: Vec<S3Submission>,
}

/// Builds the 200 answer: the received object with every key kept, the axon status filled
/// in, `s3_submissions` set, and `variations` set only when the request had `identity`.
pub fn answer_body(mut request: Map<String, Value>, output: MinerOutput, process_time: f64) -> Map<String, Value> {
    let axon = request.entry("axon").or_insert_with(|| Value::Object(Map::new()));
    if !axon.is_object() {
        *axon = Value::Object(Map::new());
    }
    let axon = axon.as_object_mut().expect("just made an object");
    axon.insert("status_code".into(), Value::from(200));
    axon.insert("status_message".into(), Value::from("Success"));
    axon.insert("process_time".into(), Value::from(process_time));
    if request.contains_key("identity") {
        let variations = output.variations.unwrap_or_default();
        request.insert("variations".into(), serde_json::to_value(variations).expect("variations serialise"));
    }
    request
        .insert("s3_submissions".into(), serde_json::to_value(output.s3_submissions).expect("submissions serialise"));
    request
}

/// The miner's typed reading of a request body. Unknown keys are ignored and never cause a
/// rejection; a present key of the wrong type is a schema error (500, as bittensor answers).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RequestView {
    #[serde(default = "default_timeout")]
    pub timeout: f64,
    #[serde(default)]
    pub identity: Option<Vec<Vec<Value>>>,
    #[serde(default)]
    pub query_template: Option<String>,
    #[serde(default)]
    pub image_request: Option<ImageRequest>,
}

impl RequestView {
    pub fn generation(&self) -> Generation {
        if self.identity.is_some() || self.query_template.is_some() { Generation::R1 } else { Generation::R2 }
    }

    /// The seeds as `(name, dob, address)`; missing or non-string parts read as `Unknown`, as
    /// the reference miner does.
    pub fn seeds(&self) -> Vec<Seed> {
        self.identity
            .iter()
            .flatten()
            .map(|row| {
                let part = |i: usize| row.get(i).and_then(Value::as_str).unwrap_or("Unknown").to_owned();
                Seed { name: part(0), dob: part(1), address: part(2) }
            })
            .collect()
    }

    /// The seed the validator chose for a UAV: the name after `For the seed "` (section 3.8).
    pub fn uav_seed(&self) -> Option<String> {
        let t = self.query_template.as_deref()?;
        let start = t.find("For the seed \"")? + "For the seed \"".len();
        let len = t[start..].find('"')?;
        Some(t[start..start + len].to_owned())
    }
}

/// One R1 seed identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seed {
    pub name: String,
    pub dob: String,
    pub address: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r1_answer() -> Value {
        serde_json::json!({
            "name": "IdentitySynapse", "timeout": 1200.0,
            "identity": [["John Smith", "1990-01-01", "Springfield, USA"], ["Maria Garcia", "1985-05-05", "Spain"]],
            "query_template": "q {name}",
            "variations": {
                "Maria Garcia": [["Marya Garcia", "1985-05-05", "Calle Mayor 3, Madrid, Spain"]],
                "John Smith": {
                    "variations": [["Jon Smith", "1990-01-01", "12 Main St, Springfield, USA"]],
                    "uav": {"address": "12 Main Str, Springfield, USA", "label": "Common typo", "latitude": 39.78, "longitude": null}
                }
            },
            "s3_submissions": []
        })
    }

    #[test]
    fn r1_answer_keeps_miner_key_order_and_uav_form() {
        let body = serde_json::to_vec(&r1_answer()).unwrap();
        let s = IdentitySynapse::parse_answer(Generation::R1, &body).unwrap();
        let vars = s.variations.unwrap();
        assert_eq!(vars.keys().collect::<Vec<_>>(), ["Maria Garcia", "John Smith"]);
        let uav = vars["John Smith"].uav().unwrap();
        assert_eq!(uav.label, "Common typo");
        assert_eq!(uav.longitude, None);
        assert_eq!(vars["Maria Garcia"].rows()[0][0], "Marya Garcia");
    }

    #[test]
    fn strict_parse_loses_the_whole_answer_on_schema_errors() {
        let mut a = r1_answer();
        a["variations"]["Maria Garcia"][0][1] = Value::Null;
        assert!(IdentitySynapse::parse_answer(Generation::R1, &serde_json::to_vec(&a).unwrap()).is_err());

        let mut a = r1_answer();
        a["variations"]["John Smith"]["uav"].as_object_mut().unwrap().remove("latitude");
        assert!(IdentitySynapse::parse_answer(Generation::R1, &serde_json::to_vec(&a).unwrap()).is_err());

        let mut a = r1_answer();
        a.as_object_mut().unwrap().remove("identity");
        assert!(IdentitySynapse::parse_answer(Generation::R1, &serde_json::to_vec(&a).unwrap()).is_err());
        // ... but an R2 validator does not care about identity
        assert!(IdentitySynapse::parse_answer(Generation::R2, &serde_json::to_vec(&a).unwrap()).is_ok());

        let mut a = r1_answer();
        a["s3_submissions"] = serde_json::json!([{"s3_key": "k"}]);
        assert!(IdentitySynapse::parse_answer(Generation::R2, &serde_json::to_vec(&a).unwrap()).is_err());

        assert!(IdentitySynapse::parse_answer(Generation::R2, b"[1,2]").is_err());
        assert!(IdentitySynapse::parse_answer(Generation::R2, b"{oops").is_err());
    }

    #[test]
    fn request_bodies_have_each_generations_key_order() {
        let r2 = IdentitySynapse::new(Generation::R2, 1200.0).to_body(Generation::R2);
        assert_eq!(
            r2.keys().collect::<Vec<_>>(),
            [
                "name",
                "timeout",
                "total_size",
                "header_size",
                "dendrite",
                "axon",
                "computed_body_hash",
                "image_request",
                "s3_submissions",
                "process_time"
            ]
        );
        let r1 = IdentitySynapse::new(Generation::R1, 1200.0).to_body(Generation::R1);
        assert_eq!(
            r1.keys().collect::<Vec<_>>(),
            [
                "name",
                "timeout",
                "total_size",
                "header_size",
                "dendrite",
                "axon",
                "computed_body_hash",
                "identity",
                "query_template",
                "variations",
                "process_time",
                "image_request",
                "s3_submissions"
            ]
        );
        assert_eq!(r1["variations"], serde_json::json!({}));
        assert_eq!(r2["dendrite"]["nonce"], Value::Null);
    }

    #[test]
    fn image_request_r2_fields_absent_or_null_round_trip() {
        let r2 = serde_json::json!({"base_image": "AA==", "image_filename": "a.png", "variation_requests": [],
            "target_drand_round": 5, "reveal_timestamp": 7, "challenge_id": null,
            "daily_seed_image": null, "daily_seed_filename": null, "real_screen_replay_instructions": "x"});
        let req: ImageRequest = serde_json::from_value(r2.clone()).unwrap();
        assert_eq!(req.daily_seed_image, Some(None));
        assert_eq!(serde_json::to_value(&req).unwrap(), r2);
        let mut r1 = r2.clone();
        for k in ["daily_seed_image", "daily_seed_filename", "real_screen_replay_instructions"] {
            r1.as_object_mut().unwrap().remove(k);
        }
        let req: ImageRequest = serde_json::from_value(r1.clone()).unwrap();
        assert_eq!(serde_json::to_value(&req).unwrap(), r1);
    }

    #[test]
    fn answers_echo_the_request_and_add_outputs() {
        let request = serde_json::json!({"name": "IdentitySynapse", "zzz_unknown": {"kept": true},
            "identity": [["A B", "1990-01-01", "X"]], "query_template": "t", "axon": {"hotkey": "5F"}});
        let out = answer_body(request.as_object().unwrap().clone(), MinerOutput::default(), 0.25);
        assert_eq!(out["zzz_unknown"]["kept"], true);
        assert_eq!(out["axon"]["status_code"], 200);
        assert_eq!(out["axon"]["hotkey"], "5F");
        assert_eq!(out["variations"], serde_json::json!({}));
        assert_eq!(out["s3_submissions"], serde_json::json!([]));
        let r2 = answer_body(Map::new(), MinerOutput::default(), 0.1);
        assert!(!r2.contains_key("variations"));
    }

    #[test]
    fn request_view_reads_seeds_and_uav_seed() {
        let body = serde_json::json!({"identity": [["John Smith", "1990-01-01"], ["Ann", 5, "Peru"]],
            "query_template": "... For the seed \"John Smith\" ONLY, use this structure: ..."});
        let view: RequestView = serde_json::from_value(body).unwrap();
        assert_eq!(view.generation(), Generation::R1);
        let seeds = view.seeds();
        assert_eq!(seeds[0].address, "Unknown");
        assert_eq!(seeds[1].dob, "Unknown");
        assert_eq!(view.uav_seed().as_deref(), Some("John Smith"));
    }
}
