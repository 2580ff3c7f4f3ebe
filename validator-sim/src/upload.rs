//! Signing and uploading the results record (spec validator-round.md 14.2).
//!
//! A reference validator signs `Hotkey: <Keypair (address=SS58)> \n timestamp: … \n
//! query_template: … \n query_labels: <labels as a Python dict>` in the Yanez signed-message
//! format (miner-protocol.md Appendix B), adds it as `signature`, and POSTs the record to
//! `<server>/upload_data/<hotkey>`. A 200 reply may carry the next round's reputation snapshot
//! (`rep_cache`, `rep_snapshot_version`); on success the pending reward allocations are cleared,
//! on failure they accumulate and go out with the next record (V15).

use serde_json::Value;

use miid_protocol::Hotkey;

use crate::state::Reputation;

pub use miid_protocol::pyfmt::py_repr;

/// The message a reference validator signs for its record.
pub fn record_message(hotkey_ss58: &str, timestamp: &str, template: &str, labels: &Value) -> String {
    format!(
        "Hotkey: <Keypair (address={hotkey_ss58})> \n timestamp: {timestamp} \n query_template: {template} \n query_labels: {}",
        py_repr(labels)
    )
}

/// The Yanez signed-message text (Appendix B), dated `now` in UTC.
pub fn signed_text(hotkey: &Hotkey, message: &str, now: chrono::DateTime<chrono::Utc>) -> String {
    let first = format!("<Bytes>On {} UTC {message}</Bytes>", now.format("%Y-%m-%d %H:%M:%S%.6f"));
    let sig = hex_lower(&hotkey.sign(first.as_bytes()));
    format!("{first}\n\tSigned by: {}\n\tSignature: {sig}", hotkey.ss58())
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Splits a signed-message text into the signed line, the SS58 address and the signature bytes.
pub fn parse_signed_text(text: &str) -> Option<(String, String, Vec<u8>)> {
    let (first, rest) = text.split_once("\n\tSigned by: ")?;
    let (ss58, sig) = rest.split_once("\n\tSignature: ")?;
    let sig: Option<Vec<u8>> =
        (0..sig.len()).step_by(2).map(|i| sig.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok())).collect();
    Some((first.to_owned(), ss58.to_owned(), sig?))
}

/// Signs `record` (adds `signature`) and POSTs it to `{base}/upload_data/{hotkey}`. Returns the
/// reputation snapshot of a 200 reply (if it has one); any other outcome is an error.
pub async fn upload(
    http: &reqwest::Client,
    base: &str,
    hotkey: &Hotkey,
    record: &mut Value,
) -> Result<Option<Reputation>, String> {
    let message = record_message(
        hotkey.ss58(),
        record["timestamp"].as_str().unwrap_or_default(),
        record["query_template"].as_str().unwrap_or_default(),
        &record["query_labels"],
    );
    record["signature"] = Value::String(signed_text(hotkey, &message, chrono::Utc::now()));
    let url = format!("{}/upload_data/{}", base.trim_end_matches('/'), hotkey.ss58());
    let resp = http.post(&url).json(record).send().await.map_err(|e| format!("POST {url}: {e}"))?;
    let status = resp.status();
    if status != reqwest::StatusCode::OK {
        return Err(format!("POST {url}: HTTP {status}"));
    }
    let reply: Value = resp.json().await.unwrap_or(Value::Null);
    if reply.get("rep_cache").is_some() {
        crate::runner::parse_reputation(&reply.to_string()).map(Some).map_err(|e| format!("reply rep_cache: {e}"))
    } else {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn python_reprs() {
        let labels = json!({"variation_count": 8, "phonetic_similarity": {"Light": 0.1, "Medium": 0.3, "Far": 0.6},
                            "rule_based": {"selected_rules": ["a"], "d": {"a": "Add a title prefix (Mr., Dr., etc.)"},
                                           "x": "it's", "n": null, "b": true}});
        assert_eq!(
            py_repr(&labels),
            "{'variation_count': 8, 'phonetic_similarity': {'Light': 0.1, 'Medium': 0.3, 'Far': 0.6}, \
             'rule_based': {'selected_rules': ['a'], 'd': {'a': 'Add a title prefix (Mr., Dr., etc.)'}, \
             'x': \"it's\", 'n': None, 'b': True}}"
        );
        assert_eq!(py_repr(&json!(1.0)), "1.0");
    }

    #[test]
    fn signed_text_verifies() {
        let k = Hotkey::from_uri("//Alice").unwrap();
        let t = signed_text(&k, "hello", chrono::Utc::now());
        let (line, ss58, sig) = parse_signed_text(&t).unwrap();
        assert!(line.starts_with("<Bytes>On ") && line.ends_with(" UTC hello</Bytes>"), "{line}");
        assert_eq!(ss58, k.ss58());
        assert!(k.public().verify(line.as_bytes(), &sig));
        assert!(!k.public().verify(b"other", &sig));
    }
}
