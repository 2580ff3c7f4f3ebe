//! An OpenAI-compatible chat-completions client (`POST {base}/chat/completions`).
//!
//! Works with any server speaking that API (vLLM, llama.cpp's server, Ollama's `/v1`, hosted
//! services). Greedy decoding (`temperature: 0`), one user message, the first choice's text.

use std::time::Duration;

use serde_json::{Value, json};

use super::{LanguageModel, LlmError};

/// A chat-completions endpoint and model.
#[derive(Debug, Clone)]
pub struct OpenAiClient {
    http: reqwest::Client,
    base_url: String,
    model: String,
    api_key: Option<String>,
    timeout: Duration,
}

impl OpenAiClient {
    /// `base_url` up to and including the API version (`http://127.0.0.1:8000/v1`).
    pub fn new(base_url: &str, model: &str, api_key: Option<String>, timeout: Duration) -> Self {
        OpenAiClient {
            http: reqwest::Client::new(),
            base_url: base_url.trim_end_matches('/').to_owned(),
            model: model.to_owned(),
            api_key,
            timeout,
        }
    }
}

#[async_trait::async_trait]
impl LanguageModel for OpenAiClient {
    fn name(&self) -> String {
        format!("openai:{}", self.model)
    }

    async fn complete(&self, prompt: &str, max_tokens: u32) -> Result<String, LlmError> {
        let body = json!({
            "model": self.model,
            "messages": [{"role": "user", "content": prompt}],
            "max_tokens": max_tokens,
            "temperature": 0,
        });
        let mut req = self.http.post(format!("{}/chat/completions", self.base_url)).timeout(self.timeout).json(&body);
        if let Some(key) = &self.api_key {
            req = req.bearer_auth(key);
        }
        let resp = req.send().await.map_err(|e| {
            if e.is_timeout() { LlmError::Timeout(self.timeout) } else { LlmError::Transport(e.to_string()) }
        })?;
        let status = resp.status();
        let text = resp.text().await.map_err(|e| LlmError::Transport(e.to_string()))?;
        if !status.is_success() {
            return Err(LlmError::Status { status: status.as_u16(), body: text.chars().take(300).collect() });
        }
        let v: Value = serde_json::from_str(&text).map_err(|e| LlmError::Malformed(format!("not JSON: {e}")))?;
        v.pointer("/choices/0/message/content")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| LlmError::Malformed("no choices[0].message.content".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::post;
    use std::sync::{Arc, Mutex};

    /// What the fake server saw: the Authorization header and the JSON body of each request.
    type Seen = Arc<Mutex<Vec<(Option<String>, Value)>>>;

    /// A fake chat-completions server on loopback: records requests, answers per `mode`.
    async fn fake(mode: &'static str) -> (String, Seen) {
        let seen: Seen = Arc::default();
        let log = seen.clone();
        let app = axum::Router::new().route(
            "/v1/chat/completions",
            post(move |headers: axum::http::HeaderMap, axum::Json(body): axum::Json<Value>| {
                let log = log.clone();
                async move {
                    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned);
                    log.lock().unwrap().push((auth, body.clone()));
                    match mode {
                        "ok" => {
                            let prompt = body["messages"][0]["content"].as_str().unwrap_or("").to_owned();
                            (
                                axum::http::StatusCode::OK,
                                axum::Json(json!({"choices": [{"message": {"role": "assistant", "content": format!("echo: {prompt}")}}]})),
                            )
                        }
                        "slow" => {
                            tokio::time::sleep(Duration::from_secs(10)).await;
                            (axum::http::StatusCode::OK, axum::Json(json!({})))
                        }
                        "empty" => (axum::http::StatusCode::OK, axum::Json(json!({"choices": []}))),
                        _ => (axum::http::StatusCode::SERVICE_UNAVAILABLE, axum::Json(json!({"error": "overloaded"}))),
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (format!("http://{addr}/v1"), seen)
    }

    #[tokio::test]
    async fn completes_through_an_openai_compatible_server() {
        let (url, seen) = fake("ok").await;
        let c = OpenAiClient::new(&url, "tiny", Some("sk-test".into()), Duration::from_secs(5));
        assert_eq!(c.complete("hello", 12).await.unwrap(), "echo: hello");
        let (auth, body) = seen.lock().unwrap()[0].clone();
        assert_eq!(auth.as_deref(), Some("Bearer sk-test"));
        assert_eq!(body["model"], "tiny");
        assert_eq!(body["max_tokens"], 12);
        assert_eq!(body["temperature"], 0);
    }

    #[tokio::test]
    async fn errors_are_told_apart() {
        let (url, _) = fake("down").await;
        let c = OpenAiClient::new(&url, "m", None, Duration::from_secs(5));
        assert!(matches!(c.complete("x", 1).await, Err(LlmError::Status { status: 503, .. })));
        let (url, _) = fake("empty").await;
        let c = OpenAiClient::new(&url, "m", None, Duration::from_secs(5));
        assert!(matches!(c.complete("x", 1).await, Err(LlmError::Malformed(_))));
        let (url, _) = fake("slow").await;
        let c = OpenAiClient::new(&url, "m", None, Duration::from_millis(100));
        assert!(matches!(c.complete("x", 1).await, Err(LlmError::Timeout(_))));
        // Nothing listens on port 9 of loopback.
        let c = OpenAiClient::new("http://127.0.0.1:9/v1", "m", None, Duration::from_secs(2));
        assert!(matches!(c.complete("x", 1).await, Err(LlmError::Transport(_))));
    }
}
