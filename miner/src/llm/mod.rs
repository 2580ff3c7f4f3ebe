//! Language-model backends behind one trait, and what the miner asks them.
//!
//! The rules engine answers every query on its own; a model is a second opinion when the query
//! parser is unsure ([`crate::query::QuerySpec::confidence`] below
//! [`crate::query::LOW_CONFIDENCE`], typically an LLM-written template in words the parser does
//! not know). Every call runs under a time budget: when the model is slow or down, the miner
//! answers with the rules parse rather than late (degrade, never miss).
//!
//! Backends: [`openai::OpenAiClient`] (any OpenAI-compatible chat-completions server: vLLM,
//! llama.cpp's server, Ollama's `/v1`, hosted APIs) and [`local::LocalModel`] (quantized GGUF
//! llama-family models on candle, in process).

pub mod commands;
pub mod local;
pub mod openai;

use std::time::Duration;

use serde_json::Value;

use crate::query::QuerySpec;

/// Why a completion failed.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("model call timed out after {0:?}")]
    Timeout(Duration),
    #[error("transport error: {0}")]
    Transport(String),
    #[error("the server answered {status}: {body}")]
    Status { status: u16, body: String },
    #[error("unexpected answer: {0}")]
    Malformed(String),
}

/// A text-completion backend.
#[async_trait::async_trait]
pub trait LanguageModel: Send + Sync {
    /// A short name for logs (`openai:<model>`).
    fn name(&self) -> String;
    /// The model's reply to one user message, at most `max_tokens` tokens, greedy decoding.
    async fn complete(&self, prompt: &str, max_tokens: u32) -> Result<String, LlmError>;
}

/// The prompt that asks a model for the query labels as JSON.
pub fn labels_prompt(template: &str) -> String {
    let rules: Vec<String> = miid_scoring::rules::selectable_rules()
        .iter()
        .map(|id| format!("- {id}: {}", miid_scoring::rules::description(id)))
        .collect();
    format!(
        "Read the instruction below and extract what it asks for. Answer with one JSON object only, no prose:\n\
{{\"variation_count\": <integer>, \"phonetic_similarity\": {{\"Light\": <fraction>, \"Medium\": <fraction>, \"Far\": <fraction>}}, \
\"orthographic_similarity\": {{...same keys...}}, \"rule_percentage\": <number 0-100>, \"rules\": [<rule ids from the list>]}}\n\
Leave out levels that are not mentioned. Fractions are between 0 and 1 (30% is 0.3).\n\
Rule ids:\n{}\n\nInstruction:\n{template}\n\nJSON:",
        rules.join("\n")
    )
}

/// The first JSON object in a model's reply (models like to wrap it in prose or a code fence).
pub fn first_json_object(reply: &str) -> Option<Value> {
    let bytes = reply.as_bytes();
    let mut start = 0;
    while let Some(open) = reply[start..].find('{').map(|i| i + start) {
        let mut depth = 0i32;
        let mut in_string = false;
        let mut escaped = false;
        for (i, &b) in bytes.iter().enumerate().skip(open) {
            match b {
                _ if escaped => escaped = false,
                b'\\' if in_string => escaped = true,
                b'"' => in_string = !in_string,
                b'{' if !in_string => depth += 1,
                b'}' if !in_string => {
                    depth -= 1;
                    if depth == 0 {
                        if let Ok(v) = serde_json::from_str::<Value>(&reply[open..=i]) {
                            return Some(v);
                        }
                        break;
                    }
                }
                _ => {}
            }
        }
        start = open + 1;
    }
    None
}

fn targets_from(v: &Value) -> Option<miid_scoring::part_score::Targets> {
    let obj = v.as_object()?;
    let mut t = miid_scoring::part_score::Targets::new();
    for level in ["Light", "Medium", "Far"] {
        let x = obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(level)).and_then(|(_, v)| v.as_f64());
        if let Some(x) = x {
            let x = if x > 1.0 { x / 100.0 } else { x };
            if x > 0.0 {
                t.insert(level.to_owned(), x);
            }
        }
    }
    let sum: f64 = t.values().sum();
    (!t.is_empty() && (sum - 1.0).abs() < 0.05).then_some(t)
}

/// Fills what the rules parse could not read with the model's answer, where the answer is
/// valid (known rule ids, fractions summing to 1, a count in 1..=100). Returns how many fields
/// were taken from the model.
pub fn merge_labels(spec: &mut QuerySpec, answer: &Value) -> usize {
    let mut taken = 0;
    if !spec.found.count
        && let Some(n) = answer.get("variation_count").and_then(Value::as_u64).filter(|n| (1..=100).contains(n))
    {
        spec.variation_count = n as u32;
        spec.found.count = true;
        taken += 1;
    }
    if !spec.found.phonetic
        && let Some(t) = answer.get("phonetic_similarity").and_then(targets_from)
    {
        spec.phonetic = t;
        spec.found.phonetic = true;
        taken += 1;
    }
    if !spec.found.orthographic
        && let Some(t) = answer.get("orthographic_similarity").and_then(targets_from)
    {
        spec.orthographic = t;
        spec.found.orthographic = true;
        taken += 1;
    }
    if !spec.found.rule_percentage
        && let Some(p) = answer.get("rule_percentage").and_then(Value::as_f64).filter(|p| (0.0..=100.0).contains(p))
    {
        spec.rule_percentage = p;
        spec.found.rule_percentage = true;
        taken += 1;
    }
    if !spec.found.rules
        && let Some(list) = answer.get("rules").and_then(Value::as_array)
    {
        let known = miid_scoring::rules::selectable_rules();
        let rules: Vec<String> =
            list.iter().filter_map(Value::as_str).filter(|r| known.contains(r)).map(str::to_owned).collect();
        if !rules.is_empty() {
            spec.rules = rules;
            spec.found.rules = true;
            taken += 1;
        }
    }
    taken
}

/// The query labels: the rules parse, completed by `model` when the parse is unsure and the
/// model answers within `budget`. Never fails: a slow or broken model leaves the rules parse.
pub async fn understand(template: &str, model: Option<&dyn LanguageModel>, budget: Duration) -> QuerySpec {
    let mut spec = crate::query::parse(template);
    let Some(model) = model else { return spec };
    if spec.confidence >= crate::query::LOW_CONFIDENCE || budget.is_zero() {
        return spec;
    }
    let prompt = labels_prompt(crate::query::name_section(template));
    match tokio::time::timeout(budget, model.complete(&prompt, 256)).await {
        Err(_) => tracing::warn!(model = %model.name(), ?budget, "model too slow for the query; using the rules parse"),
        Ok(Err(e)) => tracing::warn!(model = %model.name(), error = %e, "model failed; using the rules parse"),
        Ok(Ok(reply)) => match first_json_object(&reply) {
            Some(answer) => {
                let taken = merge_labels(&mut spec, &answer);
                tracing::info!(model = %model.name(), taken, "model completed the query parse");
                if taken > 0 {
                    spec.notes.push(format!("{taken} field(s) from {}", model.name()));
                }
            }
            None => tracing::warn!(model = %model.name(), "model answered without JSON; using the rules parse"),
        },
    }
    spec
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Canned(&'static str, Duration);

    #[async_trait::async_trait]
    impl LanguageModel for Canned {
        fn name(&self) -> String {
            "canned".into()
        }
        async fn complete(&self, _: &str, _: u32) -> Result<String, LlmError> {
            tokio::time::sleep(self.1).await;
            Ok(self.0.to_owned())
        }
    }

    const VAGUE: &str = "Write some alternative spellings of {name}; keep most of them close in sound, a few looser. Also a handful with the given name reduced to its first letter.";

    #[test]
    fn json_is_found_in_prose_and_fences() {
        let v = first_json_object("Sure! ```json\n{\"a\": {\"b\": \"}\"}}\n``` done").unwrap();
        assert_eq!(v["a"]["b"], "}");
        assert!(first_json_object("no json {here").is_none());
        assert_eq!(first_json_object("{bad} {\"ok\": 1}").unwrap()["ok"], 1);
    }

    #[tokio::test]
    async fn a_model_fills_what_the_parser_missed() {
        let reply = "Here you go: {\"variation_count\": 9, \"phonetic_similarity\": {\"Light\": 0.7, \"Medium\": 0.3}, \"orthographic_similarity\": {\"Medium\": 1.0}, \"rule_percentage\": 20, \"rules\": [\"initial_only_first_name\", \"made_up\"]}";
        let before = crate::query::parse(VAGUE);
        assert!(before.confidence < crate::query::LOW_CONFIDENCE);
        let spec = understand(VAGUE, Some(&Canned(reply, Duration::ZERO)), Duration::from_secs(5)).await;
        assert_eq!(spec.variation_count, 9);
        assert_eq!(spec.phonetic, crate::query::targets(&[("Light", 0.7), ("Medium", 0.3)]));
        assert_eq!(spec.rules, ["initial_only_first_name"]);
        assert_eq!(spec.rule_percentage, 20.0);
    }

    #[tokio::test]
    async fn a_slow_or_silly_model_leaves_the_rules_parse() {
        let baseline = crate::query::parse(VAGUE);
        let slow = Canned("{\"variation_count\": 9}", Duration::from_secs(30));
        let spec = understand(VAGUE, Some(&slow), Duration::from_millis(50)).await;
        assert_eq!(spec.variation_count, baseline.variation_count);
        let silly = Canned("{\"variation_count\": 5000, \"phonetic_similarity\": {\"Light\": 3}}", Duration::ZERO);
        let spec = understand(VAGUE, Some(&silly), Duration::from_secs(1)).await;
        assert_eq!(spec.variation_count, baseline.variation_count);
        assert_eq!(spec.phonetic, baseline.phonetic);
    }

    #[tokio::test]
    async fn a_confident_parse_does_not_call_the_model() {
        let t = "Generate 8 variations of {name}, ensuring phonetic similarity: 100% Medium, and orthographic similarity: 100% Far, and also include 20% of variations that follow: Additionally, generate variations that: Remove all spaces.";
        let wrong = Canned("{\"variation_count\": 3}", Duration::ZERO);
        assert_eq!(understand(t, Some(&wrong), Duration::from_secs(1)).await.variation_count, 8);
    }
}
