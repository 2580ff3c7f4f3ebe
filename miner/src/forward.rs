//! The miner's work on an admitted request: the name task of R1 and the image task of both
//! generations (spec miner-protocol.md 2.10, 3.3, 3.8).

use std::time::Instant;

use rand::SeedableRng;

use miid_protocol::synapse::{MinerOutput, RequestView, SeedVariations, Variations};

use crate::engine::TextEngine;
use crate::images::ImagePipeline;

/// Turns a request into the miner's outputs. Implementations must return by `deadline` with
/// whatever they finished (spec 3.9).
#[async_trait::async_trait]
pub trait Forward: Send + Sync {
    async fn forward(&self, request: &RequestView, deadline: Instant) -> MinerOutput;
}

/// The default forward: a text engine for R1's names, and (until an image pipeline is
/// configured) no image submissions.
pub struct Forwarder {
    engine: Box<dyn TextEngine>,
    /// A model asked to complete the query parse when the parser is unsure, within `model_budget`.
    model: Option<std::sync::Arc<dyn crate::llm::LanguageModel>>,
    model_budget: std::time::Duration,
    images: Option<std::sync::Arc<ImagePipeline>>,
}

impl Forwarder {
    pub fn new(engine: Box<dyn TextEngine>) -> Self {
        Forwarder { engine, model: None, model_budget: std::time::Duration::ZERO, images: None }
    }

    /// Asks `model` about queries the parser is unsure of, for at most `budget` per request
    /// (less when the request's deadline is nearer).
    pub fn with_model(
        mut self,
        model: std::sync::Arc<dyn crate::llm::LanguageModel>,
        budget: std::time::Duration,
    ) -> Self {
        self.model = Some(model);
        self.model_budget = budget;
        self
    }

    /// Answers image requests with `pipeline` (without one they get `s3_submissions: []`).
    pub fn with_images(mut self, pipeline: std::sync::Arc<ImagePipeline>) -> Self {
        self.images = Some(pipeline);
        self
    }

    /// The R1 name task: one entry per seed in request order, the UAV form for the seed the
    /// query names (the reference miner never sends UAVs; we do — quirk Q13). Seeds are skipped
    /// once the deadline has passed, like the reference's 15 % time budget.
    pub fn name_task(&self, request: &RequestView, deadline: Instant) -> Variations {
        let spec = crate::query::parse(request.query_template.as_deref().unwrap_or(""));
        self.name_task_with(request, &spec, deadline)
    }

    /// [`Forwarder::name_task`] with the query already understood.
    pub fn name_task_with(
        &self,
        request: &RequestView,
        spec: &crate::query::QuerySpec,
        deadline: Instant,
    ) -> Variations {
        tracing::debug!(?spec, "query understood");
        let uav_seed = spec.uav_seed.clone();
        let mut rng = rand::rngs::StdRng::from_os_rng();
        let mut out = Variations::new();
        for seed in request.seeds() {
            if Instant::now() >= deadline {
                tracing::warn!(seed = %seed.name, "deadline reached; remaining seeds left out");
                break;
            }
            if out.contains_key(&seed.name) {
                continue;
            }
            let rows = self.engine.variations(&seed, spec, &mut rng);
            let entry = if uav_seed.as_deref() == Some(seed.name.as_str()) {
                SeedVariations::WithUav { variations: rows, uav: self.engine.uav(&seed, &mut rng) }
            } else {
                SeedVariations::Plain(rows)
            };
            out.insert(seed.name.clone(), entry);
        }
        out
    }
}

#[async_trait::async_trait]
impl Forward for Forwarder {
    async fn forward(&self, request: &RequestView, deadline: Instant) -> MinerOutput {
        let variations = match &request.identity {
            None => None,
            Some(_) => {
                let template = request.query_template.as_deref().unwrap_or("");
                // The model gets half the time left at most: the rows must still be made.
                let left = deadline.saturating_duration_since(Instant::now()) / 2;
                let spec = crate::llm::understand(template, self.model.as_deref(), self.model_budget.min(left)).await;
                Some(self.name_task_with(request, &spec, deadline))
            }
        };
        let mut s3_submissions = Vec::new();
        if let Some(img) = &request.image_request {
            match &self.images {
                Some(pipeline) => {
                    let deadline = tokio::time::Instant::from_std(deadline);
                    let (subs, outcomes) = pipeline.run(img, request.generation(), deadline).await;
                    tracing::info!(
                        requested = img.variation_requests.len(),
                        submitted = subs.len(),
                        outcomes = %serde_json::to_string(&outcomes).unwrap_or_default(),
                        "image request answered"
                    );
                    s3_submissions = subs;
                }
                None => tracing::info!(
                    variations = img.variation_requests.len(),
                    target_round = img.target_drand_round,
                    "image request left unanswered: no image pipeline configured (--images.editor, S3, drand)"
                ),
            }
        }
        MinerOutput { variations, s3_submissions }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::SimpleEngine;
    use std::time::Duration;

    fn request() -> RequestView {
        serde_json::from_value(serde_json::json!({
            "identity": [["John Smith", "1990-05-14", "Springfield, United States"], ["Maria Garcia", "1985-02-01", "Spain"], ["Иван Петров", "1970-07-07", "Russia"]],
            "query_template": "Generate 7 variations of the name {name}. [UAV REQUIREMENTS - Phase 3]: For the seed \"Maria Garcia\" ONLY, use this structure: ..."
        }))
        .unwrap()
    }

    #[tokio::test]
    async fn one_entry_per_seed_in_order_with_the_uav_seed() {
        let f = Forwarder::new(Box::new(SimpleEngine));
        let out = f.forward(&request(), Instant::now() + Duration::from_secs(10)).await;
        let v = out.variations.unwrap();
        assert_eq!(v.keys().collect::<Vec<_>>(), ["John Smith", "Maria Garcia", "Иван Петров"]);
        assert!(v["John Smith"].uav().is_none());
        let uav = v["Maria Garcia"].uav().unwrap();
        assert!(uav.address.ends_with("Spain"));
        for (seed, entry) in &v {
            assert_eq!(entry.rows().len(), 7, "{seed}");
            for row in entry.rows() {
                assert_eq!(row.len(), 3);
                assert_ne!(&row[0], seed);
            }
        }
        assert!(out.s3_submissions.is_empty());
    }

    #[tokio::test]
    async fn r2_requests_get_no_variations_key() {
        let f = Forwarder::new(Box::new(SimpleEngine));
        let r2: RequestView = serde_json::from_value(serde_json::json!({"image_request": null})).unwrap();
        assert!(f.forward(&r2, Instant::now() + Duration::from_secs(1)).await.variations.is_none());
    }

    struct Counts(&'static str, Duration);

    #[async_trait::async_trait]
    impl crate::llm::LanguageModel for Counts {
        fn name(&self) -> String {
            "counts".into()
        }
        async fn complete(&self, _: &str, _: u32) -> Result<String, crate::llm::LlmError> {
            tokio::time::sleep(self.1).await;
            Ok(self.0.into())
        }
    }

    fn vague() -> RequestView {
        serde_json::from_value(serde_json::json!({
            "identity": [["John Smith", "1990-05-14", "United States"]],
            "query_template": "Write some alternative spellings of {name}, most close in sound."
        }))
        .unwrap()
    }

    #[tokio::test]
    async fn an_unclear_query_is_completed_by_the_model_within_its_budget() {
        let model = std::sync::Arc::new(Counts("{\"variation_count\": 7}", Duration::ZERO));
        let f = Forwarder::new(Box::new(SimpleEngine)).with_model(model, Duration::from_secs(5));
        let v = f.forward(&vague(), Instant::now() + Duration::from_secs(10)).await.variations.unwrap();
        assert_eq!(v["John Smith"].rows().len(), 7);
        // A model slower than its budget: the rules parse (default count) answers, on time.
        let slow = std::sync::Arc::new(Counts("{\"variation_count\": 7}", Duration::from_secs(30)));
        let f = Forwarder::new(Box::new(SimpleEngine)).with_model(slow, Duration::from_millis(100));
        let started = Instant::now();
        let v = f.forward(&vague(), Instant::now() + Duration::from_secs(10)).await.variations.unwrap();
        assert_eq!(v["John Smith"].rows().len(), crate::query::DEFAULT_COUNT as usize);
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn past_deadline_leaves_seeds_out() {
        let f = Forwarder::new(Box::new(SimpleEngine));
        assert!(f.name_task(&request(), Instant::now() - Duration::from_millis(1)).is_empty());
    }
}
