//! The status codes and messages a Python bittensor 10.x axon answers with
//! (spec miner-protocol.md 1.4 and 1.6.2), so a validator's logs read the same whichever
//! miner it talks to. Error bodies are `{"message": "..."}`.

/// A refusal or failure on the axon pipeline: the HTTP status and bittensor's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {message}")]
pub struct AxonError {
    pub status: u16,
    pub message: String,
}

/// The synapses a bittensor axon lists in its 404 message (the built-in echo route plus ours).
pub const AVAILABLE_SYNAPSES: &str = "['Synapse', 'IdentitySynapse']";

impl AxonError {
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        AxonError { status, message: message.into() }
    }

    /// 404: the first path segment names no registered synapse.
    pub fn unknown_synapse(route: &str) -> Self {
        Self::new(404, format!("Synapse name '{route}' not found. Available synapses {AVAILABLE_SYNAPSES}"))
    }

    /// 400: the headers do not parse into the synapse (e.g. a non-numeric `timeout`).
    pub fn bad_headers(detail: &str) -> Self {
        Self::new(
            400,
            format!(
                "Improperly formatted request. Could not parse headers {detail} into synapse of type IdentitySynapse."
            ),
        )
    }

    /// 403: refused by the blacklist (admission).
    pub fn blacklisted(reason: &str) -> Self {
        Self::new(403, format!("Forbidden. Key is blacklisted: {reason}."))
    }

    /// 401: authentication failed.
    pub fn not_verified(reason: impl std::fmt::Display) -> Self {
        Self::new(401, format!("Not Verified with error: {reason}"))
    }

    /// 503: the priority stage refused the request (bittensor's `PriorityException`); we use it
    /// for per-hotkey rate limits.
    pub fn priority_rejected(reason: impl std::fmt::Display) -> Self {
        Self::new(503, reason.to_string())
    }

    /// 408: the request could not be started before its own timeout.
    pub fn timed_out(timeout_s: f64) -> Self {
        Self::new(408, format!("Response timeout after: {}s", crate::pyfmt::py_float(timeout_s)))
    }

    /// 500 with a fresh error id, as bittensor hides internal errors (invalid JSON included).
    pub fn internal() -> Self {
        Self::new(500, format!("Internal Server Error #{}", uuid::Uuid::new_v4()))
    }

    /// 413: the body exceeds the configured limit. Bittensor has no limit (its server reads any
    /// size); refusing early is our deviation, with the standard HTTP status.
    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(413, format!("Payload Too Large: request body exceeds the {limit}-byte limit"))
    }

    /// The JSON error body.
    pub fn body(&self) -> String {
        serde_json::json!({ "message": self.message }).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_match_bittensor() {
        assert_eq!(
            AxonError::blacklisted("Unrecognized hotkey").message,
            "Forbidden. Key is blacklisted: Unrecognized hotkey."
        );
        assert_eq!(
            AxonError::unknown_synapse("Foo").message,
            "Synapse name 'Foo' not found. Available synapses ['Synapse', 'IdentitySynapse']"
        );
        assert_eq!(AxonError::not_verified("Missing Nonce").message, "Not Verified with error: Missing Nonce");
        assert_eq!(AxonError::timed_out(12.0).message, "Response timeout after: 12.0s");
        let internal = AxonError::internal();
        assert_eq!(internal.status, 500);
        assert!(internal.message.starts_with("Internal Server Error #"));
        assert_eq!(AxonError::blacklisted("x").body(), r#"{"message":"Forbidden. Key is blacklisted: x."}"#);
    }
}
