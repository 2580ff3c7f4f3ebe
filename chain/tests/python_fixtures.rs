//! What `Subtensor` encodes and decodes, against bytes the Python Bittensor SDK produced for the
//! same arguments (fixtures made by `tests/fixtures/make_fixtures.sh`; see make_fixtures.py for
//! what comes from the SDK).
#![cfg(feature = "subtensor")]

use miid_chain::subtensor::{AxonParams, WeightsCall, bundled_metadata, decode_neurons_lite, weights_for_emit};
use serde_json::Value;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)).unwrap()
}

fn calls() -> Value {
    serde_json::from_slice(&fixture("calls.json")).unwrap()
}

#[test]
fn serve_axon_call_data_matches_the_sdk() {
    let c = calls();
    assert_eq!(
        c["version_as_int"].as_u64().unwrap(),
        miid_chain::subtensor::sdk_version_as_int() as u64,
        "the SDK version the fixtures were made with differs from the one our axon announces"
    );
    let m = bundled_metadata();
    let cases = c["serve_axon"].as_array().unwrap();
    assert!(cases.len() >= 3);
    for case in cases {
        let p = AxonParams::new(case["ip"].as_str().unwrap(), case["port"].as_u64().unwrap() as u16).unwrap();
        let args = &case["sdk_args"];
        assert_eq!(p.ip.to_string(), args["ip"].as_str().unwrap(), "ip_to_int of {}", case["ip"]);
        assert_eq!(p.ip_type as u64, args["ip_type"].as_u64().unwrap());
        assert_eq!(p.protocol as u64, args["protocol"].as_u64().unwrap());
        let ours = p.call_data(&m, case["netuid"].as_u64().unwrap() as u16).unwrap();
        assert_eq!(hex::encode(ours), case["call_data"].as_str().unwrap(), "serve_axon {}", case["ip"]);
    }
}

#[test]
fn set_weights_call_data_matches_the_sdk() {
    let c = calls();
    let m = bundled_metadata();
    for case in c["set_mechanism_weights"].as_array().unwrap() {
        let uids: Vec<u16> = serde_json::from_value(case["uids"].clone()).unwrap();
        let weights: Vec<f64> = serde_json::from_value(case["weights"].clone()).unwrap();
        let (dests, vals) = weights_for_emit(&uids, &weights).unwrap();
        assert_eq!(dests, serde_json::from_value::<Vec<u16>>(case["sdk_dests"].clone()).unwrap(), "{weights:?}");
        assert_eq!(vals, serde_json::from_value::<Vec<u16>>(case["sdk_weights"].clone()).unwrap(), "{weights:?}");
        let call = WeightsCall {
            netuid: case["netuid"].as_u64().unwrap() as u16,
            dests,
            weights: vals,
            version_key: case["version_key"].as_u64().unwrap(),
        };
        assert_eq!(hex::encode(call.call_data(&m).unwrap()), case["call_data"].as_str().unwrap(), "{weights:?}");
    }
}

#[test]
fn get_neurons_lite_response_decodes_to_the_known_neurons() {
    let m = bundled_metadata();
    let neurons = decode_neurons_lite(&m, &fixture("neurons_lite.scale")).unwrap();
    let expected: Vec<miid_chain::Neuron> = serde_json::from_slice(&fixture("neurons_lite.json")).unwrap();
    assert_eq!(neurons.len(), 4);
    assert_eq!(neurons, expected);
    // A truncated response is an error, not a shorter metagraph.
    let bytes = fixture("neurons_lite.scale");
    assert!(decode_neurons_lite(&m, &bytes[..bytes.len() - 3]).is_err());
    let mut extra = bytes.clone();
    extra.push(0);
    assert!(decode_neurons_lite(&m, &extra).unwrap_err().to_string().contains("left after decoding"));
}
