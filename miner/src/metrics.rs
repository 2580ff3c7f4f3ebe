//! Prometheus metrics of the axon (`GET /metrics`, OpenMetrics text): what an operator graphs
//! and alerts on — request volume, refusals by reason, latency, image submissions, errors, and
//! how fresh the metagraph the blacklist uses is.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use miid_chain::SyncStatus;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabel {
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: &'static str,
}

/// The axon's metrics. Counters are lock-free; rendering takes the registry's own lock.
pub struct Metrics {
    registry: Registry,
    requests: Counter,
    responses: Family<StatusLabel, Counter>,
    rejections: Family<ReasonLabel, Counter>,
    latency: Histogram,
    submissions: Counter,
    errors: Family<KindLabel, Counter>,
    metagraph_block: Gauge,
    metagraph_neurons: Gauge,
    metagraph_age: Gauge,
    sync_failures: Gauge,
    sync_failures_seen: AtomicU64,
    started: AtomicU64,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").field("requests", &self.requests.get()).finish()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Latency buckets in seconds: refusals answer in milliseconds, R1 answers in seconds, image
/// requests take up to the validator's timeout (minutes).
const LATENCY_BUCKETS: [f64; 14] = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0];

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("miid_miner");
        let requests = Counter::default();
        let responses = Family::<StatusLabel, Counter>::default();
        let rejections = Family::<ReasonLabel, Counter>::default();
        let latency = Histogram::new(LATENCY_BUCKETS);
        let submissions = Counter::default();
        let errors = Family::<KindLabel, Counter>::default();
        let metagraph_block = Gauge::default();
        let metagraph_neurons = Gauge::default();
        let metagraph_age = Gauge::default();
        let sync_failures = Gauge::default();
        registry.register("requests", "Requests received by the axon", requests.clone());
        registry.register("responses", "Responses sent, by HTTP status", responses.clone());
        registry.register("rejections", "Requests refused, by reason", rejections.clone());
        registry.register("request_duration_seconds", "Time from arrival to response", latency.clone());
        registry.register("s3_submissions", "Image submissions (uploads) included in answers", submissions.clone());
        registry.register(
            "errors",
            "Errors: internal (5xx answers) and chain_sync (failed metagraph syncs)",
            errors.clone(),
        );
        registry.register("metagraph_block", "Block of the metagraph the blacklist uses", metagraph_block.clone());
        registry.register("metagraph_neurons", "Neurons in that metagraph", metagraph_neurons.clone());
        registry.register("metagraph_age_seconds", "Seconds since that metagraph was read", metagraph_age.clone());
        registry.register(
            "metagraph_sync_failures",
            "Failed metagraph syncs since the last success",
            sync_failures.clone(),
        );
        Metrics {
            registry,
            requests,
            responses,
            rejections,
            latency,
            submissions,
            errors,
            metagraph_block,
            metagraph_neurons,
            metagraph_age,
            sync_failures,
            sync_failures_seen: AtomicU64::new(0),
            started: AtomicU64::new(unix_now()),
        }
    }

    /// Records one answered or refused request.
    pub fn observe(&self, status: u16, message: &str, seconds: f64) {
        self.requests.inc();
        self.responses.get_or_create(&StatusLabel { status }).inc();
        self.latency.observe(seconds);
        if status != 200 {
            self.rejections.get_or_create(&ReasonLabel { reason: rejection_reason(status, message) }).inc();
        }
        if status == 500 {
            self.errors.get_or_create(&KindLabel { kind: "internal" }).inc();
        }
    }

    pub fn add_submissions(&self, n: usize) {
        self.submissions.inc_by(n as u64);
    }

    pub fn requests(&self) -> u64 {
        self.requests.get()
    }

    pub fn uptime_secs(&self) -> u64 {
        unix_now().saturating_sub(self.started.load(Ordering::Relaxed))
    }

    /// The OpenMetrics text, with the metagraph gauges set from `sync` (None: a snapshot file).
    pub fn render(&self, sync: Option<&SyncStatus>, block: u64, neurons: usize) -> String {
        let (block, neurons) = sync.map_or((block, neurons), |s| (s.block, s.neurons));
        self.metagraph_block.set(block as i64);
        self.metagraph_neurons.set(neurons as i64);
        if let Some(s) = sync {
            let age = SystemTime::now().duration_since(s.synced_at).unwrap_or_default();
            self.metagraph_age.set(age.as_secs() as i64);
            self.sync_failures.set(s.failures as i64);
            // The counter follows the sync's running total (a success resets `failures`, not the total).
            let seen = self.sync_failures_seen.swap(s.total_failures, Ordering::Relaxed);
            if s.total_failures > seen {
                self.errors.get_or_create(&KindLabel { kind: "chain_sync" }).inc_by(s.total_failures - seen);
            }
        }
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry).expect("writing to a String");
        out
    }
}

/// The refusal reason for a status the axon sent (see axon.rs for which step sends which).
pub fn rejection_reason(status: u16, message: &str) -> &'static str {
    match status {
        400 => "bad_headers",
        401 => "signature",
        403 => "blacklisted",
        404 => "unknown_synapse",
        405 => "method",
        408 => "timeout",
        413 => "body_too_large",
        500 => "bad_body",
        503 if message.starts_with("Rate limit") => "rate_limited",
        503 => "unavailable",
        _ => "other",
    }
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_buckets_show_in_the_text_format() {
        let m = Metrics::new();
        m.observe(200, "Success", 0.003);
        m.observe(403, "Forbidden", 0.0005);
        m.observe(503, "Rate limit exceeded for x", 0.0005);
        m.observe(503, "Service unavailable: metagraph unavailable", 0.0005);
        m.add_submissions(2);
        let text = m.render(None, 7, 3);
        assert!(text.contains("miid_miner_requests_total 4"), "{text}");
        assert!(text.contains(r#"miid_miner_responses_total{status="503"} 2"#), "{text}");
        assert!(text.contains(r#"miid_miner_rejections_total{reason="blacklisted"} 1"#), "{text}");
        assert!(text.contains(r#"miid_miner_rejections_total{reason="rate_limited"} 1"#), "{text}");
        assert!(text.contains(r#"miid_miner_rejections_total{reason="unavailable"} 1"#), "{text}");
        assert!(text.contains(r#"miid_miner_request_duration_seconds_bucket{le="0.001"} 3"#), "{text}");
        assert!(text.contains(r#"miid_miner_request_duration_seconds_bucket{le="0.005"} 4"#), "{text}");
        assert!(text.contains("miid_miner_request_duration_seconds_count 4"), "{text}");
        assert!(text.contains("miid_miner_s3_submissions_total 2"), "{text}");
        assert!(text.contains("miid_miner_metagraph_block 7"), "{text}");
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn sync_failures_count_once_each() {
        let m = Metrics::new();
        let mut s = SyncStatus {
            synced_at: SystemTime::now(),
            block: 9,
            neurons: 2,
            failures: 2,
            total_failures: 2,
            last_error: None,
        };
        m.render(Some(&s), 0, 0);
        let text = m.render(Some(&s), 0, 0);
        assert!(text.contains(r#"miid_miner_errors_total{kind="chain_sync"} 2"#), "{text}");
        assert!(text.contains("miid_miner_metagraph_sync_failures 2"), "{text}");
        s.failures = 0;
        s.total_failures = 3;
        let text = m.render(Some(&s), 0, 0);
        assert!(text.contains(r#"miid_miner_errors_total{kind="chain_sync"} 3"#), "{text}");
        assert!(text.contains("miid_miner_metagraph_block 9"), "{text}");
        assert!(text.contains("miid_miner_metagraph_sync_failures 0"), "{text}");
    }
}
