//! Signed request verification + JSON parse for a typical 15-seed R1 query: what the axon does
//! per request before any work. Baseline in the same run: the JSON parse alone.
//!
//! `cargo bench -p miid-protocol --bench verify_parse` (criterion reports elements/s =
//! requests/s).

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use http::{HeaderMap, HeaderName};
use serde_json::{Map, Value};

use miid_protocol::synapse::{Generation, RequestView};
use miid_protocol::v10::{AxonTarget, DendriteSigner, NonceTracker, V10Headers};
use miid_protocol::{Authenticator, Hotkey, IdentitySynapse, btauth, epistula};

fn fifteen_seed_request() -> IdentitySynapse {
    let mut s = IdentitySynapse::new(Generation::R1, 1200.0);
    s.identity = Some(
        (0..15)
            .map(|i| {
                vec![
                    format!("Firstname{i} Lastname{i}"),
                    format!("19{:02}-0{}-1{}", 50 + i, 1 + i % 9, i % 9),
                    "United States".into(),
                ]
            })
            .collect(),
    );
    s.query_template = Some(
        "The following name is the seed name to generate variations for: {name}. Generate 15 variations of the name {name}, \
ensuring phonetic similarity: 10% Light, 30% Medium, 60% Far, and orthographic similarity: 10% Light, 50% Medium, 40% Far. \
[UAV REQUIREMENTS - Phase 3]: For the seed \"Firstname3 Lastname3\" ONLY, use this structure: ..."
            .repeat(3),
    );
    s
}

fn to_map(headers: &[(String, String)]) -> HeaderMap {
    let mut m = HeaderMap::new();
    for (k, v) in headers {
        m.insert(HeaderName::from_bytes(k.to_ascii_lowercase().as_bytes()).unwrap(), v.parse().unwrap());
    }
    m
}

fn parse_body(body: &[u8]) -> RequestView {
    let map: Map<String, Value> = serde_json::from_slice(body).unwrap();
    serde_json::from_value(Value::Object(map)).unwrap()
}

fn bench(c: &mut Criterion) {
    let validator = Hotkey::from_uri("//Validator").unwrap();
    let miner = Hotkey::from_uri("//Miner1").unwrap();
    let target = AxonTarget { ip: "127.0.0.1".into(), port: 8091, hotkey: miner.ss58().into() };
    let signer = DendriteSigner::new(validator.clone(), "127.0.0.1");
    let now = miid_protocol::now_ns();
    let req = signer.sign(&fifteen_seed_request(), Generation::R1, &target, 1200.0, now);
    let headers = to_map(&req.headers);
    let body = req.body.clone();

    let mut g = c.benchmark_group("verify_parse_15_seeds");
    g.throughput(Throughput::Elements(1));
    g.bench_function("baseline_json_parse_only", |b| b.iter(|| parse_body(&body)));
    g.bench_function("v10_verify_and_parse", |b| {
        b.iter_batched(
            NonceTracker::new,
            |nonces| {
                let h = V10Headers::parse(&headers).unwrap();
                miid_protocol::v10::verify(&h, miner.ss58(), &nonces, now).unwrap();
                parse_body(&body)
            },
            BatchSize::SmallInput,
        )
    });
    let bt_headers = to_map(&btauth::sign(&validator, "POST", "/IdentitySynapse", &body, Some(miner.ss58()), now));
    let v2_headers = to_map(&epistula::sign_v2(
        &validator,
        &body,
        Some(miner.ss58()),
        now / 1_000_000,
        "5f0c3a9e-2b1d-4c8e-9a7f-1e2d3c4b5a69",
    ));
    let simple_headers = to_map(&epistula::sign_simple(&validator, &body, now));
    // The path the axon takes (inspect, verify headers, verify body) for every scheme but v10,
    // whose whole check is above; a fresh verifier per request so the replay store never fires.
    let schemes = [
        ("btauth_verify_and_parse", &bt_headers),
        ("epistula_v2_verify_and_parse", &v2_headers),
        ("epistula_simple_verify_and_parse", &simple_headers),
    ];
    for (name, headers) in schemes {
        g.bench_function(name, |b| {
            b.iter_batched(
                || Authenticator::new(miner.ss58()),
                |auth| {
                    let claim = auth.inspect(headers).unwrap();
                    auth.verify_headers(&claim, now).unwrap();
                    auth.verify_body(&claim, "POST", "/IdentitySynapse", &body).unwrap();
                    parse_body(&body)
                },
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
