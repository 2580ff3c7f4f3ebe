//! A fake OpenAI-compatible chat-completions server on loopback, for the `honest-llm` persona.
//!
//! The persona's query understanding goes through the miner's [`miid_miner::llm::understand`]
//! with the miner's real [`miid_miner::llm::openai::OpenAiClient`]; only the model is a stand-in,
//! so no weights are needed and a run stays reproducible. The fake is deterministic: it takes the
//! instruction out of the miner's labels prompt (between `Instruction:` and `JSON:`), reads it with
//! the miner's rules parser, and answers the JSON object the prompt asks for with every field the
//! parser found. For fields it did not find it answers what a cautious model would guess: the
//! first integer in the instruction as the count (when there is one) and an even
//! Light/Medium/Far split for the similarity levels. It never invents rules.
//!
//! Every call is counted, so a scenario can tell whether the model was consulted (the miner only
//! asks it when the rules parse is unsure).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use serde_json::{Value, json};

use miid_miner::llm::LanguageModel;
use miid_miner::llm::openai::OpenAiClient;

/// The model name the fake reports and the persona's client asks for.
pub const FAKE_MODEL: &str = "scenario-fake";

/// The running fake server.
pub struct FakeChatServer {
    pub addr: SocketAddr,
    calls: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeChatServer {
    /// Binds 127.0.0.1 on a free port and serves `POST /v1/chat/completions`.
    pub async fn start() -> std::io::Result<Self> {
        let calls = Arc::new(AtomicU64::new(0));
        let app = axum::Router::new().route("/v1/chat/completions", post(complete)).with_state(calls.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "fake chat-completions server stopped");
            }
        });
        Ok(FakeChatServer { addr, calls, task })
    }

    /// The OpenAI-style base URL (`http://127.0.0.1:PORT/v1`).
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The miner's own OpenAI-compatible client, pointed at this server.
    pub fn client(&self, timeout: Duration) -> Arc<dyn LanguageModel> {
        Arc::new(OpenAiClient::new(&self.base_url(), FAKE_MODEL, None, timeout))
    }

    /// Chat completions answered so far.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }
}

impl Drop for FakeChatServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn complete(State(calls): State<Arc<AtomicU64>>, Json(body): Json<Value>) -> (StatusCode, Json<Value>) {
    calls.fetch_add(1, Ordering::Relaxed);
    let Some(prompt) = body.pointer("/messages/0/content").and_then(Value::as_str) else {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": {"message": "messages[0].content is required"}})));
    };
    let content = answer(prompt).to_string();
    let reply = json!({
        "object": "chat.completion",
        "model": FAKE_MODEL,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
    });
    (StatusCode::OK, Json(reply))
}

/// The instruction inside the miner's labels prompt (the whole prompt when the markers are
/// missing).
fn instruction(prompt: &str) -> &str {
    let start = prompt.rfind("Instruction:\n").map_or(0, |i| i + "Instruction:\n".len());
    let rest = &prompt[start..];
    rest.rfind("\n\nJSON:").map_or(rest, |end| &rest[..end]).trim()
}

/// The fake model's labels for a labels prompt.
pub fn answer(prompt: &str) -> Value {
    let text = instruction(prompt);
    let spec = miid_miner::query::parse(text);
    let even = json!({"Light": 0.3, "Medium": 0.4, "Far": 0.3});
    let mut out = serde_json::Map::new();
    let count = if spec.found.count {
        Some(u64::from(spec.variation_count))
    } else {
        text.split(|c: char| !c.is_ascii_digit()).find(|s| !s.is_empty()).and_then(|s| s.parse::<u64>().ok())
    };
    if let Some(n) = count {
        out.insert("variation_count".into(), json!(n));
    }
    let targets = |found: bool, t: &miid_scoring::part_score::Targets| if found { json!(t) } else { even.clone() };
    out.insert("phonetic_similarity".into(), targets(spec.found.phonetic, &spec.phonetic));
    out.insert("orthographic_similarity".into(), targets(spec.found.orthographic, &spec.orthographic));
    if spec.found.rules {
        out.insert("rules".into(), json!(spec.rules));
    }
    if spec.found.rule_percentage {
        out.insert("rule_percentage".into(), json!(spec.rule_percentage));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const VAGUE: &str =
        "Please write 7 alternative spellings of {name}; keep most of them close in sound, a few looser.";

    #[test]
    fn answers_the_labels_prompt_from_its_instruction() {
        let prompt = miid_miner::llm::labels_prompt(VAGUE);
        assert_eq!(instruction(&prompt), VAGUE);
        let a = answer(&prompt);
        assert_eq!(a["variation_count"], 7);
        let sum: f64 = a["phonetic_similarity"].as_object().unwrap().values().map(|v| v.as_f64().unwrap()).sum();
        assert!((sum - 1.0).abs() < 1e-9);
        assert!(a.get("rules").is_none(), "no rules invented: {a}");
    }

    /// The whole path over loopback HTTP: the miner's `understand` with its OpenAI client asks
    /// the fake for a template the rules parser is unsure of, and takes its answer.
    #[tokio::test]
    async fn understand_consults_the_fake_over_http_when_the_parse_is_unsure() {
        let server = FakeChatServer::start().await.unwrap();
        let model = server.client(Duration::from_secs(5));
        let rules_only = miid_miner::query::parse(VAGUE);
        assert!(rules_only.confidence < miid_miner::query::LOW_CONFIDENCE, "{rules_only:?}");
        let spec = miid_miner::llm::understand(VAGUE, Some(&*model), Duration::from_secs(5)).await;
        assert_eq!(server.calls(), 1);
        assert!(spec.found.phonetic && spec.found.orthographic, "{spec:?}");
        assert!(spec.notes.iter().any(|n| n.contains(FAKE_MODEL)), "{:?}", spec.notes);
        // A template the parser reads in full never reaches the model.
        let clear = "Generate 9 variations of the name {name}, ensuring phonetic similarity: 100% Medium, and orthographic similarity: 100% Medium.";
        assert!(miid_miner::query::parse(clear).confidence >= miid_miner::query::LOW_CONFIDENCE);
        let spec = miid_miner::llm::understand(clear, Some(&*model), Duration::from_secs(5)).await;
        assert_eq!((server.calls(), spec.variation_count), (1, 9));
    }

    #[tokio::test]
    async fn a_request_without_messages_is_a_clear_400() {
        let server = FakeChatServer::start().await.unwrap();
        let resp = reqwest::Client::new()
            .post(format!("{}/chat/completions", server.base_url()))
            .json(&json!({"model": FAKE_MODEL}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400);
        assert!(resp.text().await.unwrap().contains("messages[0].content"));
    }
}
