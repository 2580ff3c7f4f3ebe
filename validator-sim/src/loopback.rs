//! Stand-in miners on loopback for load figures and crash tests: each answers every R1 query at
//! once with a well-formed answer (one row set per seed, the UAV seed in object form), without
//! checking signatures. They measure the validator, not a miner: the real miner lives in the
//! `miid-miner` crate, which this crate must not depend on.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::post;
use serde_json::{Value, json};

use miid_chain::{AxonEndpoint, Metagraph, Neuron};
use miid_protocol::Hotkey;

/// How a stand-in miner behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// A well-formed answer at once.
    Instant,
    /// Never answers (the validator times out).
    Silent,
    /// A 200 answer that is not JSON.
    Garbage,
    /// A 200 JSON answer of `n` bytes (over the dendrite's limit).
    Oversize(usize),
}

/// The answer of an instant miner to an R1 request body.
pub fn answer(request: &Value) -> Value {
    let mut out = request.clone();
    let template = request.get("query_template").and_then(Value::as_str).unwrap_or("");
    let uav_seed = template.split("For the seed \"").nth(1).and_then(|rest| rest.split('"').next()).map(str::to_owned);
    let mut variations = serde_json::Map::new();
    for row in request.get("identity").and_then(Value::as_array).into_iter().flatten() {
        let name = row.get(0).and_then(Value::as_str).unwrap_or("");
        let dob = row.get(1).and_then(Value::as_str).unwrap_or("");
        let country = row.get(2).and_then(Value::as_str).unwrap_or("");
        let rows: Vec<Value> = (0..8)
            .map(|i| {
                let mut chars: Vec<char> = name.chars().collect();
                if !chars.is_empty() {
                    let at = (i * 3) % chars.len();
                    if chars[at] != ' ' {
                        chars[at] = ['a', 'e', 'i', 'o', 'u', 'y', 'n', 'r'][i % 8];
                    }
                }
                json!([
                    chars.into_iter().collect::<String>(),
                    dob,
                    format!("{} Main Street, Capital, {country}", 10 + i)
                ])
            })
            .collect();
        let entry = if uav_seed.as_deref() == Some(name) {
            json!({"variations": rows, "uav": {"address": format!("12 Mian Str, {country}"), "label": "Common typo",
                    "latitude": null, "longitude": null}})
        } else {
            Value::Array(rows)
        };
        variations.insert(name.to_owned(), entry);
    }
    out["variations"] = Value::Object(variations);
    out["s3_submissions"] = json!([]);
    out
}

async fn handle(behaviour: Behaviour, _headers: HeaderMap, body: Bytes) -> axum::response::Response {
    match behaviour {
        Behaviour::Instant => {
            let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], answer(&request).to_string()).into_response()
        }
        Behaviour::Silent => {
            std::future::pending::<()>().await;
            StatusCode::OK.into_response()
        }
        Behaviour::Garbage => {
            (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], "<html>not json".to_owned()).into_response()
        }
        Behaviour::Oversize(n) => {
            let mut s = String::with_capacity(n + 32);
            s.push_str("{\"pad\": \"");
            s.extend(std::iter::repeat_n('x', n));
            s.push_str("\"}");
            (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], s).into_response()
        }
    }
}

/// Serves one stand-in miner on a fresh loopback port (the task ends when aborted).
pub async fn serve(behaviour: Behaviour) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app =
        Router::new().route("/IdentitySynapse", post(move |h: HeaderMap, body: Bytes| handle(behaviour, h, body)));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((addr, task))
}

/// Running stand-in miners and the metagraph listing them (uid 0 is the validator, no axon).
pub struct Miners {
    pub metagraph: Metagraph,
    pub addrs: Vec<SocketAddr>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Miners {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Starts one miner per entry of `behaviours` (uids 1..) on loopback, hotkeys `//LoopMinerN`.
pub async fn spawn(validator: &Hotkey, behaviours: &[Behaviour]) -> std::io::Result<Miners> {
    let mut neurons = vec![Neuron {
        uid: 0,
        hotkey: validator.ss58().to_owned(),
        coldkey: validator.ss58().to_owned(),
        stake: 1000.0,
        validator_permit: true,
        axon: AxonEndpoint { ip: "0.0.0.0".into(), port: 0 },
    }];
    let (mut addrs, mut tasks) = (Vec::new(), Vec::new());
    for (i, b) in behaviours.iter().enumerate() {
        let uid = i as u16 + 1;
        let hotkey = Hotkey::from_uri(&format!("//LoopMiner{uid}")).map_err(std::io::Error::other)?;
        let (addr, task) = serve(*b).await?;
        tasks.push(task);
        neurons.push(Neuron {
            uid,
            hotkey: hotkey.ss58().to_owned(),
            coldkey: hotkey.ss58().to_owned(),
            stake: 0.0,
            validator_permit: false,
            axon: AxonEndpoint { ip: "127.0.0.1".into(), port: addr.port() },
        });
        addrs.push(addr);
    }
    let metagraph = Metagraph::new(54, 1, neurons).map_err(std::io::Error::other)?;
    Ok(Miners { metagraph, addrs, tasks })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_every_seed_and_the_uav_seed_in_object_form() {
        let req = json!({"identity": [["john smith", "1990-1-1", "Spain"], ["ann lee", "1980-2-2", "Peru"]],
                         "query_template": "x For the seed \"ann lee\" ONLY y"});
        let a = answer(&req);
        assert_eq!(a["variations"]["john smith"].as_array().unwrap().len(), 8);
        assert_eq!(a["variations"]["ann lee"]["uav"]["label"], "Common typo");
        assert_eq!(a["identity"], req["identity"], "the request is echoed");
    }
}
