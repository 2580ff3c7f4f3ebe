//! The dendrite: sends a signed `IdentitySynapse` to a miner's axon over HTTP and reads the
//! answer exactly as bittensor 10.5.0's dendrite does (spec miner-protocol.md 1.7).
//!
//! Every outcome becomes a status code and message, never an error: a refused connection is
//! 503, a timeout 408, an answer that does not parse into the synapse 422 (the whole answer is
//! lost, as on mainnet), and a refusal carries the miner's code and message.

use std::time::{Duration, Instant};

use reqwest::header::{CONTENT_TYPE, HeaderMap};
use serde::Serialize;

use miid_protocol::pyfmt::py_float;
use miid_protocol::synapse::{Generation, IdentitySynapse};
use miid_protocol::v10::{AxonTarget, DendriteSigner, header as h};
use miid_protocol::{Hotkey, Scheme, btauth, epistula};

/// The outcome of one call.
#[derive(Debug, Clone, Serialize)]
pub struct DendriteResponse {
    pub status_code: i64,
    pub status_message: String,
    /// Seconds the dendrite waited, as bittensor sets `dendrite.process_time`.
    pub process_time: f64,
    /// The parsed answer (only for status 200).
    #[serde(skip)]
    pub synapse: Option<IdentitySynapse>,
}

/// A validator's HTTP client: one hotkey, one process UUID, one connection pool.
#[derive(Debug, Clone)]
pub struct Dendrite {
    signer: DendriteSigner,
    client: reqwest::Client,
    transport: Scheme,
    max_response_bytes: usize,
}

/// Answers larger than this are refused (422) without being read to the end: a miner must not
/// be able to make the validator buffer an unbounded body. Real answers are a few hundred KiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 16 << 20;

impl Dendrite {
    pub fn new(hotkey: Hotkey, external_ip: &str, transport: Scheme) -> Self {
        let client = reqwest::Client::builder()
            .pool_idle_timeout(Duration::from_secs(90))
            .user_agent(concat!("miid-validator-sim/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("a plain HTTP client always builds");
        Dendrite {
            signer: DendriteSigner::new(hotkey, external_ip),
            client,
            transport,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        }
    }

    /// Sets the largest answer body read (default [`DEFAULT_MAX_RESPONSE_BYTES`]).
    pub fn with_max_response_bytes(mut self, n: usize) -> Self {
        self.max_response_bytes = n;
        self
    }

    pub fn hotkey(&self) -> &Hotkey {
        &self.signer.hotkey
    }

    pub fn transport(&self) -> Scheme {
        self.transport
    }

    /// Sends `synapse` to `target` and waits at most `timeout` seconds in all.
    pub async fn call(
        &self,
        target: &AxonTarget,
        synapse: &IdentitySynapse,
        generation: Generation,
        timeout: f64,
    ) -> DendriteResponse {
        let start = Instant::now();
        let nonce = miid_protocol::now_ns();
        let signed = self.signer.sign(synapse, generation, target, timeout, nonce);
        let headers: Vec<(String, String)> = match self.transport {
            Scheme::V10 => signed.headers,
            Scheme::BtAuth => {
                let mut hs = btauth::sign(
                    &self.signer.hotkey,
                    "POST",
                    miid_protocol::IDENTITY_SYNAPSE_ROUTE,
                    &signed.body,
                    Some(&target.hotkey),
                    nonce,
                );
                hs.push((h::TIMEOUT.into(), py_float(timeout)));
                hs
            }
            Scheme::Epistula => {
                let uuid = uuid::Uuid::new_v4().to_string();
                let mut hs = epistula::sign_v2(
                    &self.signer.hotkey,
                    &signed.body,
                    Some(&target.hotkey),
                    nonce / 1_000_000,
                    &uuid,
                );
                hs.push((h::TIMEOUT.into(), py_float(timeout)));
                hs
            }
            Scheme::EpistulaSimple => {
                let mut hs = epistula::sign_simple(&self.signer.hotkey, &signed.body, nonce);
                hs.push((h::TIMEOUT.into(), py_float(timeout)));
                hs
            }
        };
        let mut req = self
            .client
            .post(&signed.url)
            .timeout(Duration::from_secs_f64(timeout))
            .header(CONTENT_TYPE, "application/json")
            .body(signed.body);
        for (k, v) in &headers {
            req = req.header(k, v);
        }
        let limit = self.max_response_bytes;
        let outcome = async {
            let mut resp = req.send().await?;
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            if resp.content_length().is_some_and(|n| n > limit as u64) {
                return Ok((status, headers, None));
            }
            let mut body = Vec::new();
            while let Some(chunk) = resp.chunk().await? {
                if body.len() + chunk.len() > limit {
                    return Ok((status, headers, None));
                }
                body.extend_from_slice(&chunk);
            }
            Ok::<_, reqwest::Error>((status, headers, Some(body)))
        }
        .await;
        let elapsed = start.elapsed().as_secs_f64();
        match outcome {
            Ok((_, _, None)) => DendriteResponse {
                status_code: 422,
                status_message: format!("Failed to parse response: body larger than {limit} bytes"),
                process_time: elapsed,
                synapse: None,
            },
            Ok((status, headers, Some(body))) => read_answer(status, &headers, &body, generation, elapsed),
            Err(e) if e.is_timeout() => DendriteResponse {
                status_code: 408,
                status_message: format!("Request timeout after {} seconds", py_float(timeout)),
                process_time: elapsed,
                synapse: None,
            },
            Err(e) if e.is_connect() => DendriteResponse {
                status_code: 503,
                status_message: format!("Service unavailable at {}:{}/IdentitySynapse", target.ip, target.port),
                process_time: elapsed,
                synapse: None,
            },
            Err(e) => DendriteResponse {
                status_code: 422,
                status_message: format!("Failed to parse response: {e}"),
                process_time: elapsed,
                synapse: None,
            },
        }
    }
}

/// Reads an HTTP answer the way bittensor's dendrite does.
pub fn read_answer(
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
    generation: Generation,
    elapsed: f64,
) -> DendriteResponse {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let is_json = header(CONTENT_TYPE.as_str()).is_some_and(|c| c.starts_with("application/json"));
    let (mut code, mut message, synapse) = if !is_json {
        (422, "Failed to parse response: content type is not application/json".to_owned(), None)
    } else if status == 200 {
        match IdentitySynapse::parse_answer(generation, body) {
            Ok(s) => (200, "Success".to_owned(), Some(s)),
            Err(e) => (422, e.to_string(), None),
        }
    } else {
        let message = serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_owned))
            .unwrap_or_default();
        (status as i64, message, None)
    };
    // bittensor merges the axon's status headers over what the body said.
    if code != 422 {
        if let Some(c) = header(h::AXON_STATUS_CODE).and_then(|c| c.parse().ok()) {
            code = c;
        }
        if let Some(m) = header(h::AXON_STATUS_MESSAGE) {
            message = m;
        }
    }
    DendriteResponse {
        status_code: code,
        status_message: message,
        process_time: elapsed,
        synapse: if code == 200 { synapse } else { None },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json_headers() -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(CONTENT_TYPE, "application/json".parse().unwrap());
        h
    }

    #[test]
    fn refusals_keep_the_miners_code_and_message() {
        let r = read_answer(
            403,
            &json_headers(),
            br#"{"message": "Forbidden. Key is blacklisted: Unrecognized hotkey."}"#,
            Generation::R2,
            0.1,
        );
        assert_eq!(
            (r.status_code, r.status_message.as_str()),
            (403, "Forbidden. Key is blacklisted: Unrecognized hotkey.")
        );
    }

    #[test]
    fn unparseable_answers_are_422() {
        let r = read_answer(200, &json_headers(), br#"{"s3_submissions": [{"s3_key": 1}]}"#, Generation::R2, 0.1);
        assert_eq!(r.status_code, 422);
        assert!(r.synapse.is_none());
        let r = read_answer(200, &HeaderMap::new(), b"{}", Generation::R2, 0.1);
        assert_eq!(r.status_code, 422);
        let r = read_answer(200, &json_headers(), br#"{"variations": {}}"#, Generation::R1, 0.1);
        assert_eq!(r.status_code, 422, "R1 answers must echo identity");
    }

    #[test]
    fn good_answers_parse() {
        let r = read_answer(200, &json_headers(), br#"{"s3_submissions": []}"#, Generation::R2, 0.1);
        assert_eq!(r.status_code, 200);
        assert_eq!(r.synapse.unwrap().s3_submissions, Some(vec![]));
    }
}
