//! An [`AddressSource`] that keeps only addresses a Nominatim-compatible geocoder resolves the
//! way the validator scores them (kav-scoring.md 7.6, via the scoring crate's
//! `score_nominatim_answer`): candidates from the default generator, each looked up once,
//! rate-limited (Nominatim's usage policy: one request per second) and cached on disk, so a
//! restarted miner does not ask again.
//!
//! The trait is synchronous (the engine runs inside a request), so each lookup runs on a short
//! helper thread with its own small runtime: safe from inside or outside any async runtime.
//! Addresses the geocoder does not confirm are dropped; [`crate::address::checked_addresses`]
//! tops the rows up from the default source, so answers never go short.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use miid_scoring::address::{NominatimAnswer, NominatimCheck, score_nominatim_answer};

use crate::address::{AddressSource, addresses_in, check};

/// A Nominatim-compatible `/search` endpoint, rate-limited and cached.
pub struct NominatimAddresses {
    base_url: String,
    user_agent: String,
    min_interval: Duration,
    /// New lookups per `addresses` call at most (the rest comes from the cache or the default).
    max_lookups: usize,
    cache_path: Option<PathBuf>,
    cache: Mutex<BTreeMap<String, f64>>,
    last_call: Mutex<Option<Instant>>,
}

impl NominatimAddresses {
    /// `base_url` without `/search`; `cache_path` a JSON file (created when missing).
    pub fn new(base_url: &str, user_agent: &str, cache_path: Option<PathBuf>) -> Self {
        let cache = cache_path
            .as_ref()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default();
        NominatimAddresses {
            base_url: base_url.trim_end_matches('/').to_owned(),
            user_agent: user_agent.to_owned(),
            min_interval: Duration::from_secs(1),
            max_lookups: 8,
            cache_path,
            cache: Mutex::new(cache),
            last_call: Mutex::new(None),
        }
    }

    /// Requests at most one per `interval` (1 s by default).
    pub fn with_min_interval(mut self, interval: Duration) -> Self {
        self.min_interval = interval;
        self
    }

    /// New lookups per call at most.
    pub fn with_max_lookups(mut self, n: usize) -> Self {
        self.max_lookups = n;
        self
    }

    fn cached(&self, address: &str) -> Option<f64> {
        self.cache.lock().ok()?.get(address).copied()
    }

    fn remember(&self, address: &str, score: f64) {
        let Ok(mut cache) = self.cache.lock() else { return };
        cache.insert(address.to_owned(), score);
        if let Some(p) = &self.cache_path
            && let Ok(json) = serde_json::to_string(&*cache)
        {
            let tmp = p.with_extension("tmp");
            if std::fs::write(&tmp, json).and_then(|()| std::fs::rename(&tmp, p)).is_err() {
                tracing::warn!(path = %p.display(), "cannot write the geocoder cache");
            }
        }
    }

    /// The validator's score for `address` from one geocoder call; `None` on a transport error
    /// or timeout (not cached: the next request may succeed).
    fn lookup(&self, address: &str) -> Option<f64> {
        {
            let mut last = self.last_call.lock().ok()?;
            if let Some(t) = *last {
                let wait = self.min_interval.saturating_sub(t.elapsed());
                std::thread::sleep(wait);
            }
            *last = Some(Instant::now());
        }
        let url = format!("{}/search", self.base_url);
        let (ua, q) = (self.user_agent.clone(), address.to_owned());
        let answer = std::thread::scope(|s| {
            s.spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
                rt.block_on(async move {
                    let client =
                        reqwest::Client::builder().user_agent(ua).timeout(Duration::from_secs(10)).build().ok()?;
                    let resp = client.get(&url).query(&[("q", q.as_str()), ("format", "json")]).send().await;
                    match resp {
                        Ok(r) => match r.json::<serde_json::Value>().await {
                            Ok(body) => Some(NominatimAnswer::Body(body)),
                            Err(_) => Some(NominatimAnswer::ApiError),
                        },
                        Err(e) if e.is_timeout() => Some(NominatimAnswer::Timeout),
                        Err(_) => Some(NominatimAnswer::ApiError),
                    }
                })
            })
            .join()
            .ok()
            .flatten()
        })?;
        match score_nominatim_answer(address, &answer) {
            NominatimCheck::Scored(s) => {
                self.remember(address, s.score);
                Some(s.score)
            }
            NominatimCheck::Timeout | NominatimCheck::ApiError => {
                tracing::debug!(address, "geocoder error; address not confirmed");
                None
            }
        }
    }
}

impl AddressSource for NominatimAddresses {
    fn addresses(&self, seed_address: &str, n: usize, rng: &mut dyn rand::RngCore) -> Vec<String> {
        let mut out = Vec::new();
        let mut lookups = 0;
        for candidate in addresses_in(seed_address, n * 3, rng) {
            if out.len() >= n {
                break;
            }
            if !check(&candidate, seed_address).passed() {
                continue;
            }
            let score = match self.cached(&candidate) {
                Some(s) => Some(s),
                None if lookups < self.max_lookups => {
                    lookups += 1;
                    self.lookup(&candidate)
                }
                None => None,
            };
            if score.is_some_and(|s| s > 0.0) {
                out.push(candidate);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn confirmed_addresses_come_from_the_geocoder_and_the_cache() {
        let running = nominatim_mock::spawn(nominatim_mock::Config {
            street_precision: nominatim_mock::StreetPrecision::SynthesizeHouse { bbox_side_m: 8.0 },
            ..nominatim_mock::Config::default()
        })
        .await
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("geocoder-cache.json");
        let url = running.base_url();
        let mock = running.mock.clone();
        let cache2 = cache.clone();
        let (first, took) = tokio::task::spawn_blocking(move || {
            let src = NominatimAddresses::new(&url, "miid-miner-test", Some(cache2))
                .with_min_interval(Duration::from_millis(50))
                .with_max_lookups(6);
            let mut rng = rand::rngs::StdRng::seed_from_u64(4);
            let started = Instant::now();
            let got = src.addresses("Germany", 4, &mut rng);
            (got, started.elapsed())
        })
        .await
        .unwrap();
        assert!(!first.is_empty() && first.len() <= 4, "{first:?}");
        assert!(first.iter().all(|a| check(a, "Germany").passed()));
        let asked = mock.requests();
        assert!(asked >= first.len() as u64 && asked <= 6, "{asked}");
        // The rate limit spaced the calls.
        assert!(took >= Duration::from_millis(50) * (asked as u32 - 1), "{took:?} for {asked} calls");
        assert!(std::fs::read_to_string(&cache).unwrap().contains(&first[0]));

        // A new instance on the same cache answers the same seed without asking again.
        let url = running.base_url();
        let again = tokio::task::spawn_blocking(move || {
            let src = NominatimAddresses::new(&url, "miid-miner-test", Some(cache)).with_max_lookups(0);
            let mut rng = rand::rngs::StdRng::seed_from_u64(4);
            src.addresses("Germany", 4, &mut rng)
        })
        .await
        .unwrap();
        assert_eq!(again, first);
        assert_eq!(mock.requests(), asked);
    }

    #[test]
    fn a_dead_geocoder_confirms_nothing_and_the_rows_are_still_full() {
        let src = NominatimAddresses::new("http://127.0.0.1:9", "t", None).with_min_interval(Duration::ZERO);
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        assert!(src.addresses("Spain", 3, &mut rng).is_empty());
        let rows = crate::address::checked_addresses(&src, "Spain", 3, &mut rng);
        assert_eq!(rows.len(), 3);
    }
}
