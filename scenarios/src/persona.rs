//! Miner personas: honest and adversarial behaviours layered on the miner library.
//!
//! Two layers, because cheats live at two levels:
//!
//! - **Answer layer** ([`PersonaForward`], a [`Forward`]): what the miner answers. The real
//!   [`miid_miner::Axon`] still does admission, signatures, rate limits and the wire format, so
//!   an adversarial answer reaches the validator exactly as a real miner's would. Honest answers
//!   come from the miner's own engine ([`SimpleEngine`]) with a seeded generator, so a run is
//!   reproducible from the scenario seed.
//! - **Wire layer** ([`WireLayer`], an axum middleware around the axon's router): what happens to
//!   the HTTP answer after the axon built it — held back (slow / delay fault), cut (drop fault) or
//!   corrupted (malformed JSON). Faults toggle it at run time.
//!
//! The forged-signature persona is the third kind: its axon holds a key other than the one the
//! metagraph registers for its uid (see [`crate::stack`]).
//!
//! Image personas (duplicate of the seed image, wrong drand round, S3 unreachable then back) plug
//! in through [`ImageBehaviour`] ([`crate::images`]: the miner's own image pipeline for honest
//! images, stand-ins where the image itself is the cheat). The LLM-backed honest persona reads
//! the query through the miner's [`miid_miner::llm::understand`] with a [`LanguageModel`]
//! ([`crate::llm`]: the miner's OpenAI client against a fake server on loopback).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use parking_lot::Mutex;
use rand::SeedableRng;
use sha2::{Digest, Sha256};
use tokio::sync::Notify;

use miid_miner::Forward;
use miid_miner::engine::{SimpleEngine, TextEngine};
use miid_miner::llm::LanguageModel;
use miid_miner::query::QuerySpec;
use miid_protocol::synapse::{ImageRequest, MinerOutput, RequestView, S3Submission, SeedVariations, Variations};

use crate::spec::PersonaKind;

/// A fingerprint of an R1 request (its seeds and template): the key under which answers are
/// shared between personas, and part of every honest generator's seed.
pub fn fingerprint(request: &RequestView) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(serde_json::to_vec(&request.identity).unwrap_or_default());
    h.update(request.query_template.as_deref().unwrap_or("").as_bytes());
    h.finalize().into()
}

/// A 64-bit seed from the scenario seed and any labels.
pub fn derive_seed(seed: u64, parts: &[&[u8]]) -> u64 {
    let mut h = Sha256::new();
    h.update(seed.to_le_bytes());
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    let d = h.finalize();
    u64::from_le_bytes(d[..8].try_into().expect("8 bytes"))
}

/// Answers the miners gave, so a copycat can read another miner's answer to the same request.
#[derive(Default)]
pub struct Board {
    answers: Mutex<HashMap<(u16, [u8; 32]), Variations>>,
    latest: Mutex<HashMap<u16, Variations>>,
    posted: Notify,
}

impl Board {
    pub fn post(&self, uid: u16, fp: [u8; 32], v: &Variations) {
        self.answers.lock().insert((uid, fp), v.clone());
        self.latest.lock().insert(uid, v.clone());
        self.posted.notify_waiters();
    }

    /// `uid`'s answer to request `fp`, waiting until `deadline`; then its latest answer to any
    /// request (a stale copy), else nothing.
    pub async fn wait_for(&self, uid: u16, fp: [u8; 32], deadline: Instant) -> Option<Variations> {
        loop {
            let notified = self.posted.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(v) = self.answers.lock().get(&(uid, fp)) {
                return Some(v.clone());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || tokio::time::timeout(left, notified).await.is_err() {
                return self.latest.lock().get(&uid).cloned();
            }
        }
    }
}

/// The image side of a persona (R2): what it submits for an image request. Without one a persona
/// answers R2 with no submissions. [`crate::images::PipelineImages`] runs the miner's image
/// pipeline; [`crate::images::SubmittedImages`] submits the cheats' stand-in images.
#[async_trait::async_trait]
pub trait ImageBehaviour: Send + Sync {
    async fn submissions(&self, request: &ImageRequest, deadline: Instant) -> Vec<S3Submission>;
}

/// What a persona needs to know about its place in the scenario.
#[derive(Clone)]
pub struct PersonaConfig {
    pub kind: PersonaKind,
    pub uid: u16,
    /// The scenario seed.
    pub seed: u64,
    /// Group index (colluding rings share one generator per group).
    pub group: usize,
    /// lazy: rows per seed.
    pub variations: Option<usize>,
    /// copycat: the uid it copies.
    pub copy_uid: Option<u16>,
    /// special-chars: share of names made symbol-heavy.
    pub ratio: f64,
    /// slow: seconds past the request's timeout.
    pub extra_delay: f64,
}

/// The answer layer of every persona.
pub struct PersonaForward {
    pub config: PersonaConfig,
    board: Arc<Board>,
    engine: SimpleEngine,
    images: Option<Arc<dyn ImageBehaviour>>,
    /// honest-llm: the model that completes the query parse when the parser is unsure.
    model: Option<Arc<dyn LanguageModel>>,
}

/// The most an honest-llm persona lets the model take (the miner's own budget flag defaults
/// to a few seconds too); it never takes more than half the time left.
pub const MODEL_BUDGET: Duration = Duration::from_secs(5);

impl PersonaForward {
    pub fn new(config: PersonaConfig, board: Arc<Board>) -> Self {
        PersonaForward { config, board, engine: SimpleEngine, images: None, model: None }
    }

    /// Plugs a language model in (honest-llm's query understanding).
    pub fn with_model(mut self, model: Arc<dyn LanguageModel>) -> Self {
        self.model = Some(model);
        self
    }

    /// Plugs an image behaviour in (R2 submissions).
    pub fn with_images(mut self, images: Arc<dyn ImageBehaviour>) -> Self {
        self.images = Some(images);
        self
    }

    /// The default engine's answer with a generator seeded by `rng_seed`: one entry per seed in
    /// request order, the UAV form for the seed the query names (as `Forwarder::name_task`).
    fn honest(&self, request: &RequestView, rng_seed: u64, count: usize) -> Variations {
        let spec = miid_miner::query::parse(request.query_template.as_deref().unwrap_or(""));
        self.honest_with(request, spec, rng_seed, count)
    }

    /// [`Self::honest`] with the query already understood.
    fn honest_with(&self, request: &RequestView, mut spec: QuerySpec, rng_seed: u64, count: usize) -> Variations {
        let mut rng = rand::rngs::StdRng::seed_from_u64(rng_seed);
        spec.variation_count = count as u32;
        let uav_seed = request.uav_seed();
        let mut out = Variations::new();
        for seed in request.seeds() {
            if out.contains_key(&seed.name) {
                continue;
            }
            let rows = self.engine.variations(&seed, &spec, &mut rng);
            let entry = if uav_seed.as_deref() == Some(seed.name.as_str()) {
                SeedVariations::WithUav { variations: rows, uav: self.engine.uav(&seed, &mut rng) }
            } else {
                SeedVariations::Plain(rows)
            };
            out.insert(seed.name.clone(), entry);
        }
        out
    }

    async fn name_task(&self, request: &RequestView, deadline: Instant) -> Variations {
        let c = &self.config;
        let fp = fingerprint(request);
        let count = miid_miner::query::parse(request.query_template.as_deref().unwrap_or("")).variation_count as usize;
        let own_seed = derive_seed(c.seed, &[b"honest", &c.uid.to_le_bytes(), &fp]);
        match c.kind {
            PersonaKind::Lazy => self.honest(request, own_seed, c.variations.unwrap_or(2).min(count)),
            PersonaKind::ColludingRing => {
                let ring_seed = derive_seed(c.seed, &[b"ring", &(c.group as u64).to_le_bytes(), &fp]);
                self.honest(request, ring_seed, count)
            }
            PersonaKind::Copycat => {
                let target = c.copy_uid.expect("validated: copycats name a target");
                self.board.wait_for(target, fp, deadline).await.unwrap_or_default()
            }
            PersonaKind::SpecialChars => {
                let mut v = self.honest(request, own_seed, count);
                for entry in v.values_mut() {
                    let rows = match entry {
                        SeedVariations::Plain(rows) => rows,
                        SeedVariations::WithUav { variations, .. } => variations,
                    };
                    let n = (rows.len() as f64 * c.ratio).ceil() as usize;
                    for row in rows.iter_mut().take(n) {
                        row[0] = symbol_heavy(&row[0]);
                    }
                }
                v
            }
            PersonaKind::WrongUavSeed => misplace_uav(self.honest(request, own_seed, count)),
            PersonaKind::HonestLlm => {
                // As the miner's Forwarder: the model gets half the time left at most.
                let template = request.query_template.as_deref().unwrap_or("");
                let budget = MODEL_BUDGET.min(deadline.saturating_duration_since(Instant::now()) / 2);
                let spec = miid_miner::llm::understand(template, self.model.as_deref(), budget).await;
                let count = spec.variation_count as usize;
                self.honest_with(request, spec, own_seed, count)
            }
            _ => self.honest(request, own_seed, count),
        }
    }
}

/// `John Smith` → `J0hn $m!th#%&`-style: more than two characters the detector counts as
/// special (spec cheat-detection.md 4.1), with the name still recognisable.
pub fn symbol_heavy(name: &str) -> String {
    let mapped: String = name
        .chars()
        .map(|c| match c {
            'a' | 'A' => '@',
            's' | 'S' => '$',
            'i' | 'I' => '!',
            other => other,
        })
        .collect();
    format!("{mapped}#%&")
}

/// Moves the UAV from the seed the query named to another seed (the first other one); with a
/// single seed the UAV is left out.
pub fn misplace_uav(mut v: Variations) -> Variations {
    let Some(named) = v.iter().position(|(_, e)| e.uav().is_some()) else { return v };
    let (_, entry) = v.get_index_mut(named).expect("index from position");
    let (rows, uav) = match entry.clone() {
        SeedVariations::WithUav { variations, uav } => (variations, uav),
        SeedVariations::Plain(_) => unreachable!("position found a UAV"),
    };
    *entry = SeedVariations::Plain(rows);
    if let Some(other) = (0..v.len()).find(|i| *i != named) {
        let (_, e) = v.get_index_mut(other).expect("index in range");
        *e = SeedVariations::WithUav { variations: e.rows().to_vec(), uav };
    }
    v
}

#[async_trait::async_trait]
impl Forward for PersonaForward {
    async fn forward(&self, request: &RequestView, deadline: Instant) -> MinerOutput {
        let started = Instant::now();
        let variations = match request.identity.is_some() {
            true => {
                let v = self.name_task(request, deadline).await;
                self.board.post(self.config.uid, fingerprint(request), &v);
                Some(v)
            }
            false => None,
        };
        let s3_submissions = match (&request.image_request, &self.images) {
            (Some(img), Some(images)) => images.submissions(img, deadline).await,
            _ => Vec::new(),
        };
        if self.config.kind == PersonaKind::Slow {
            // Past the validator's own timeout: the answer is built, but nobody waits for it.
            let until = started + Duration::from_secs_f64(request.timeout + self.config.extra_delay);
            tokio::time::sleep_until(until.into()).await;
        }
        MinerOutput { variations, s3_submissions }
    }
}

/// The wire layer's switches, shared with the fault injector.
#[derive(Debug, Default)]
pub struct WireLayer {
    delay_ms: AtomicU64,
    drop: AtomicBool,
    malformed: AtomicBool,
    /// Answers cut or corrupted so far.
    pub tampered: AtomicU64,
    /// Requests whose handling panicked (in the axon or the persona); answered 500.
    pub panics: AtomicU64,
    /// The last panic's message.
    pub last_panic: Mutex<Option<String>>,
}

impl WireLayer {
    pub fn set_delay(&self, secs: f64) {
        self.delay_ms.store((secs * 1000.0).round() as u64, Ordering::Relaxed);
    }
    pub fn set_drop(&self, on: bool) {
        self.drop.store(on, Ordering::Relaxed);
    }
    pub fn set_malformed(&self, on: bool) {
        self.malformed.store(on, Ordering::Relaxed);
    }
    /// Back to plain answers (the malformed persona's own setting stays).
    pub fn heal(&self) {
        self.set_delay(0.0);
        self.set_drop(false);
    }
}

/// The middleware: runs the axon, then applies the layer's switches to its answer.
pub async fn wire_layer(State(layer): State<Arc<WireLayer>>, req: Request, next: Next) -> Response {
    use futures::FutureExt as _;
    // A panic inside the axon or a persona would only kill this connection's task, silently; it
    // is caught here and counted so the `no-crash` assertion sees it.
    let resp = match std::panic::AssertUnwindSafe(next.run(req)).catch_unwind().await {
        Ok(resp) => resp,
        Err(panic) => {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "non-string panic payload".to_owned());
            tracing::error!(panic = %msg, "request handling panicked");
            layer.panics.fetch_add(1, Ordering::Relaxed);
            *layer.last_panic.lock() = Some(msg.clone());
            // What a Python axon answers when its forward raises.
            let body = serde_json::json!({"message": format!("Internal Server Error: {msg}")}).to_string();
            let mut resp = (StatusCode::INTERNAL_SERVER_ERROR, body).into_response();
            resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            return resp;
        }
    };
    let delay = layer.delay_ms.load(Ordering::Relaxed);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    if layer.drop.load(Ordering::Relaxed) {
        layer.tampered.fetch_add(1, Ordering::Relaxed);
        // Headers go out, then the connection dies mid-body: the answer is lost on the wire.
        let stream = futures::stream::once(async {
            Err::<Bytes, std::io::Error>(std::io::Error::other("response dropped by a scenario fault"))
        });
        let mut cut = (StatusCode::OK, Body::from_stream(stream)).into_response();
        cut.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        return cut;
    }
    if layer.malformed.load(Ordering::Relaxed) && resp.status() == StatusCode::OK {
        layer.tampered.fetch_add(1, Ordering::Relaxed);
        let (mut parts, body) = resp.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
        // Truncated JSON: the closing half of the object never comes.
        let cut = bytes.slice(..bytes.len() / 2);
        parts.headers.remove(header::CONTENT_LENGTH);
        return Response::from_parts(parts, Body::from(cut));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use miid_scoring::cheat::special_char_count;

    fn request() -> RequestView {
        serde_json::from_value(serde_json::json!({
            "timeout": 10.0,
            "identity": [["John Smith", "1990-05-14", "United States"], ["Maria Garcia", "1985-02-01", "Spain"]],
            "query_template": "Generate 6 variations of the name {name}. [UAV REQUIREMENTS - Phase 3]: For the seed \"Maria Garcia\" ONLY, use this structure"
        }))
        .unwrap()
    }

    fn persona(kind: PersonaKind, uid: u16, group: usize) -> PersonaConfig {
        PersonaConfig { kind, uid, seed: 7, group, variations: None, copy_uid: None, ratio: 1.0, extra_delay: 0.0 }
    }

    async fn answer(f: &PersonaForward) -> Variations {
        f.forward(&request(), Instant::now() + Duration::from_secs(2)).await.variations.unwrap()
    }

    #[tokio::test]
    async fn honest_answers_are_reproducible_per_seed_and_differ_between_miners() {
        let board = Arc::new(Board::default());
        let a = answer(&PersonaForward::new(persona(PersonaKind::Honest, 1, 0), board.clone())).await;
        let a2 = answer(&PersonaForward::new(persona(PersonaKind::Honest, 1, 0), board.clone())).await;
        let b = answer(&PersonaForward::new(persona(PersonaKind::Honest, 2, 0), board)).await;
        assert_eq!(a, a2);
        assert_ne!(a, b);
        assert_eq!(a["John Smith"].rows().len(), 6);
        assert!(a["Maria Garcia"].uav().is_some());
    }

    #[tokio::test]
    async fn ring_members_answer_identically_and_lazy_answers_little() {
        let board = Arc::new(Board::default());
        let r1 = answer(&PersonaForward::new(persona(PersonaKind::ColludingRing, 3, 1), board.clone())).await;
        let r2 = answer(&PersonaForward::new(persona(PersonaKind::ColludingRing, 4, 1), board.clone())).await;
        assert_eq!(r1, r2);
        let mut lazy = persona(PersonaKind::Lazy, 5, 2);
        lazy.variations = Some(2);
        let l = answer(&PersonaForward::new(lazy, board)).await;
        assert!(l.values().all(|e| e.rows().len() == 2));
    }

    #[tokio::test]
    async fn copycat_returns_the_targets_answer_to_the_same_request() {
        let board = Arc::new(Board::default());
        let mut cc = persona(PersonaKind::Copycat, 2, 1);
        cc.copy_uid = Some(1);
        let copycat = PersonaForward::new(cc, board.clone());
        let honest = PersonaForward::new(persona(PersonaKind::Honest, 1, 0), board);
        // The copycat asks first and waits for the honest miner's answer.
        let (c, h) = tokio::join!(answer(&copycat), async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            answer(&honest).await
        });
        assert_eq!(c, h);
    }

    #[tokio::test]
    async fn copycat_without_a_target_answer_sends_nothing() {
        let mut cc = persona(PersonaKind::Copycat, 2, 1);
        cc.copy_uid = Some(1);
        let f = PersonaForward::new(cc, Arc::new(Board::default()));
        let out = f.forward(&request(), Instant::now() + Duration::from_millis(20)).await;
        assert!(out.variations.unwrap().is_empty());
    }

    #[tokio::test]
    async fn special_chars_and_wrong_uav_seed() {
        let board = Arc::new(Board::default());
        let s = answer(&PersonaForward::new(persona(PersonaKind::SpecialChars, 1, 0), board.clone())).await;
        for e in s.values() {
            for row in e.rows() {
                assert!(special_char_count(&row[0]) > 2, "{}", row[0]);
            }
        }
        let w = answer(&PersonaForward::new(persona(PersonaKind::WrongUavSeed, 1, 0), board)).await;
        assert!(w["Maria Garcia"].uav().is_none());
        assert!(w["John Smith"].uav().is_some());
    }

    #[tokio::test]
    async fn a_panicking_handler_is_caught_and_counted() {
        let layer = Arc::new(WireLayer::default());
        let app = axum::Router::new()
            .route("/", axum::routing::get(|| async { if true { panic!("persona bug") } else { "never" } }))
            .layer(axum::middleware::from_fn_with_state(layer.clone(), wire_layer));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let status = reqwest::get(format!("http://{addr}/")).await.unwrap().status();
        assert_eq!(status, 500);
        assert_eq!(layer.panics.load(Ordering::Relaxed), 1);
        assert_eq!(layer.last_panic.lock().as_deref(), Some("persona bug"));
    }

    #[tokio::test]
    async fn slow_answers_after_the_request_timeout() {
        let mut slow = persona(PersonaKind::Slow, 1, 0);
        slow.extra_delay = 0.2;
        let f = PersonaForward::new(slow, Arc::new(Board::default()));
        let mut req = request();
        req.timeout = 0.1;
        let t = Instant::now();
        f.forward(&req, Instant::now() + Duration::from_secs(1)).await;
        assert!(t.elapsed() >= Duration::from_millis(300));
    }
}
