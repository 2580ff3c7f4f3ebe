//! The reference validator's geocoders over HTTP: implementations of
//! [`miid_scoring::address::Geocoder`] that ask a Nominatim and a Photon server, exactly as the
//! reference does (spec `kav-scoring.md` 7.6–7.7), so `validator-sim score` can grade addresses
//! against the public services or a local `nominatim-mock`.
//!
//! # What goes on the wire, and why
//!
//! - **Nominatim** (7.6): `GET {base}/search?q={address}&format=json`, header
//!   `User-Agent: openstreet address` (Q42: a constant), 5 s timeout. The query string is
//!   encoded the way Python's `requests` encodes `params={"q": addr, "format": "json"}`
//!   (`urllib.parse.quote_plus`: space → `+`, everything but `A–Z a–z 0–9 _ . - ~` percent-encoded
//!   as UTF-8), so a server log sees byte-for-byte the reference's request line.
//! - The HTTP status is **not** checked (7.6, Q37): the body is parsed as JSON whatever the status.
//!   So a `429`/`5xx` with the public front end's HTML page is a JSON decode error →
//!   [`NominatimAnswer::ApiError`]; an error *object* in JSON comes back as a
//!   [`NominatimAnswer::Body`] which the scorer in turn maps to `API_ERROR` (field access fails in
//!   the reference). A timeout (connect or read) → [`NominatimAnswer::Timeout`]; any other
//!   transport error → `ApiError`. The reference's third case, a `ValueError` mentioning "codec"
//!   and "encode" → `TIMEOUT`, cannot happen here: Rust strings are valid UTF-8 (a lone surrogate
//!   cannot reach us — JSON input with one is rejected when the round is parsed) and the header is
//!   a constant.
//! - **Photon** (7.7): `GET {base}/api/?q={address}`, 5 s timeout; non-2xx, transport and decode
//!   errors → [`PhotonAnswer::Error`] (scored 0.0), timeout → [`PhotonAnswer::Timeout`], a 2xx
//!   body → [`PhotonAnswer::from_body`] (non-empty `features` → found). The spec names no
//!   User-Agent for Photon; we send the same constant as for Nominatim (an assumption: the
//!   reference's `requests` default would be `python-requests/x.y`).
//!
//! Timeouts: `requests`' `timeout=5` is a connect timeout plus a *per-read* timeout; reqwest's
//! blocking client offers a connect timeout and a *total* timeout, both set to 5 s here. They
//! differ only for a body that keeps trickling in for more than 5 s, which a geocoder's small
//! JSON answer does not do.
//!
//! # Rate limiting
//!
//! Nominatim's public instance allows one request per second per client, and the reference paces
//! itself accordingly (1 s between calls, 2 s more after an error, 7.9 step 5; 1 s between
//! Photon calls). A [`RateLimiter`] does this pacing: it reserves *slots* at least `interval`
//! apart (so callers on several threads are spaced too) and pushes the next slot back by
//! `error_backoff` after an error or timeout. Clients share one process-wide limiter per service
//! by default ([`RateLimiter::nominatim_public`], [`RateLimiter::photon_public`]), however many
//! clients are built; a local mock can run with [`RateLimiter::off`].
//!
//! # Why `reqwest::blocking`
//!
//! The [`Geocoder`] trait is synchronous (scoring is a pure function that calls it in the
//! middle of a round), so the clients block. `reqwest::blocking` runs its own runtime on a
//! private thread and parks the caller, which keeps this module independent of whatever runtime
//! (if any) the caller has: it works from plain threads and from inside a tokio
//! `spawn_blocking` task. Like every blocking client it must **not** be built, called or
//! dropped directly on an async task (reqwest panics when it detects a runtime on the current
//! thread); run the scoring in `tokio::task::spawn_blocking` instead, as `validator-sim score`
//! does. Blocking on a runtime `Handle` was the alternative, but `Handle::block_on` cannot drive
//! a current-thread runtime's I/O and would deadlock there.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use miid_scoring::address::{Geocoder, NominatimAnswer, PhotonAnswer};

/// The public Nominatim instance (7.6).
pub const NOMINATIM_URL: &str = "https://nominatim.openstreetmap.org";
/// The public Photon instance (7.7); the client appends `/api/`.
pub const PHOTON_URL: &str = "https://photon.komoot.io";
/// The reference's constant User-Agent (7.6, Q42).
pub const USER_AGENT: &str = "openstreet address";
/// The reference's request timeout, Nominatim and Photon (15: "HTTP timeouts").
pub const TIMEOUT: Duration = Duration::from_secs(5);
/// The public instances' usage policy: at most one request per second.
pub const PUBLIC_INTERVAL: Duration = Duration::from_secs(1);
/// The reference's extra sleep after a failed Nominatim call (`min(2^f, 10)` s with `f`
/// effectively 1, 7.9 step 5).
pub const ERROR_BACKOFF: Duration = Duration::from_secs(2);

/// Errors building a client (bad base URL, TLS backend failure).
#[derive(Debug, thiserror::Error)]
pub enum GeocoderError {
    #[error("invalid {service} base URL {url:?}: {why}")]
    BadUrl { service: &'static str, url: String, why: String },
    #[error("cannot build the {service} HTTP client: {source}")]
    Client {
        service: &'static str,
        #[source]
        source: reqwest::Error,
    },
}

// ---------------------------------------------------------------------------------------------
// Rate limiter
// ---------------------------------------------------------------------------------------------

/// Spaces requests at least `interval` apart, process-wide for whoever shares it (an `Arc`),
/// and adds `error_backoff` before the request that follows an error.
///
/// Each [`RateLimiter::acquire`] reserves the next free slot under a lock and then sleeps until
/// it outside the lock, so concurrent callers queue up in slot order instead of racing.
#[derive(Debug)]
pub struct RateLimiter {
    interval: Duration,
    error_backoff: Duration,
    /// The earliest instant the next request may start (`None`: immediately).
    next: Mutex<Option<Instant>>,
}

impl RateLimiter {
    /// A limiter with this spacing and post-error back-off.
    pub fn new(interval: Duration, error_backoff: Duration) -> Arc<Self> {
        Arc::new(RateLimiter { interval, error_backoff, next: Mutex::new(None) })
    }

    /// No pacing at all (a local mock).
    pub fn off() -> Arc<Self> {
        Self::new(Duration::ZERO, Duration::ZERO)
    }

    /// The process-wide limiter for the public Nominatim: 1 request/s, 2 s more after an error.
    pub fn nominatim_public() -> Arc<Self> {
        static L: OnceLock<Arc<RateLimiter>> = OnceLock::new();
        L.get_or_init(|| RateLimiter::new(PUBLIC_INTERVAL, ERROR_BACKOFF)).clone()
    }

    /// The process-wide limiter for the public Photon: 1 request/s (the reference's sleep).
    pub fn photon_public() -> Arc<Self> {
        static L: OnceLock<Arc<RateLimiter>> = OnceLock::new();
        L.get_or_init(|| RateLimiter::new(PUBLIC_INTERVAL, Duration::ZERO)).clone()
    }

    pub fn interval(&self) -> Duration {
        self.interval
    }

    pub fn is_off(&self) -> bool {
        self.interval.is_zero() && self.error_backoff.is_zero()
    }

    /// Waits for the next slot and returns how long it waited.
    pub fn acquire(&self) -> Duration {
        if self.is_off() {
            return Duration::ZERO;
        }
        let now = Instant::now();
        let start = {
            let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
            let start = next.map_or(now, |n| n.max(now));
            *next = Some(start + self.interval);
            start
        };
        let wait = start.saturating_duration_since(now);
        if !wait.is_zero() {
            std::thread::sleep(wait);
        }
        wait
    }

    /// Pushes the next slot back by `error_backoff` (called after an error or a timeout).
    pub fn back_off(&self) {
        if self.error_backoff.is_zero() {
            return;
        }
        let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
        let base = next.map_or_else(Instant::now, |n| n.max(Instant::now()));
        *next = Some(base + self.error_backoff);
    }
}

// ---------------------------------------------------------------------------------------------
// Query encoding
// ---------------------------------------------------------------------------------------------

/// Python's `urllib.parse.quote_plus(s)` (what `requests` does to `params` values): UTF-8 bytes,
/// `A–Z a–z 0–9 _ . - ~` kept, space → `+`, everything else `%XX` (upper-case hex).
pub fn quote_plus(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `base` without trailing slashes, checked to be an absolute http(s) URL.
fn normalise_base(service: &'static str, base: &str) -> Result<String, GeocoderError> {
    let trimmed = base.trim().trim_end_matches('/');
    let bad = |why: &str| GeocoderError::BadUrl { service, url: base.to_string(), why: why.to_string() };
    let parsed = url::Url::parse(trimmed).map_err(|e| bad(&e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(bad("the scheme must be http or https"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(bad("give the base URL only, without a query or fragment"));
    }
    Ok(trimmed.to_string())
}

fn build_client(service: &'static str, timeout: Duration) -> Result<reqwest::blocking::Client, GeocoderError> {
    reqwest::blocking::Client::builder()
        .user_agent(USER_AGENT)
        .timeout(timeout)
        .connect_timeout(timeout)
        .build()
        .map_err(|source| GeocoderError::Client { service, source })
}

// ---------------------------------------------------------------------------------------------
// Nominatim
// ---------------------------------------------------------------------------------------------

/// A Nominatim search client (7.6). Cheap to clone; clones share the connection pool and the
/// rate limiter.
#[derive(Debug, Clone)]
pub struct NominatimClient {
    base: String,
    client: reqwest::blocking::Client,
    limiter: Arc<RateLimiter>,
    timeout: Duration,
}

impl NominatimClient {
    /// A client for the Nominatim at `base_url` (e.g. [`NOMINATIM_URL`] or a mock's
    /// `http://127.0.0.1:PORT`), 5 s timeout, the process-wide public rate limiter.
    pub fn new(base_url: &str) -> Result<Self, GeocoderError> {
        Self::with_options(base_url, TIMEOUT, RateLimiter::nominatim_public())
    }

    /// A client with a chosen timeout and limiter (tests, local mocks).
    pub fn with_options(base_url: &str, timeout: Duration, limiter: Arc<RateLimiter>) -> Result<Self, GeocoderError> {
        Ok(NominatimClient {
            base: normalise_base("Nominatim", base_url)?,
            client: build_client("Nominatim", timeout)?,
            limiter,
            timeout,
        })
    }

    /// The exact URL the reference requests for `address`.
    pub fn search_url(&self, address: &str) -> String {
        format!("{}/search?q={}&format=json", self.base, quote_plus(address))
    }

    pub fn limiter(&self) -> &Arc<RateLimiter> {
        &self.limiter
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// One search, paced by the limiter, classified as 7.6 "Errors" says.
    pub fn search(&self, address: &str) -> NominatimAnswer {
        self.limiter.acquire();
        let answer = self.fetch(address);
        if !matches!(answer, NominatimAnswer::Body(_)) {
            self.limiter.back_off();
        }
        answer
    }

    fn fetch(&self, address: &str) -> NominatimAnswer {
        let classify = |e: reqwest::Error| {
            if e.is_timeout() {
                NominatimAnswer::Timeout
            } else {
                tracing::debug!(error = %e, "nominatim request failed");
                NominatimAnswer::ApiError
            }
        };
        let response = match self.client.get(self.search_url(address)).send() {
            Ok(r) => r,
            Err(e) => return classify(e),
        };
        // The status is deliberately not checked (7.6): the body decides.
        let status = response.status();
        let bytes = match response.bytes() {
            Ok(b) => b,
            Err(e) => return classify(e),
        };
        match serde_json::from_slice(&bytes) {
            Ok(body) => NominatimAnswer::Body(body),
            Err(e) => {
                tracing::debug!(%status, error = %e, "nominatim answered a body that is not JSON");
                NominatimAnswer::ApiError
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Photon
// ---------------------------------------------------------------------------------------------

/// A Photon search client (7.7), the fallback when all three sampled addresses errored.
#[derive(Debug, Clone)]
pub struct PhotonClient {
    base: String,
    client: reqwest::blocking::Client,
    limiter: Arc<RateLimiter>,
}

impl PhotonClient {
    /// A client for the Photon at `base_url` (e.g. [`PHOTON_URL`]), 5 s timeout, the
    /// process-wide public limiter.
    pub fn new(base_url: &str) -> Result<Self, GeocoderError> {
        Self::with_options(base_url, TIMEOUT, RateLimiter::photon_public())
    }

    pub fn with_options(base_url: &str, timeout: Duration, limiter: Arc<RateLimiter>) -> Result<Self, GeocoderError> {
        Ok(PhotonClient {
            base: normalise_base("Photon", base_url)?,
            client: build_client("Photon", timeout)?,
            limiter,
        })
    }

    /// The exact URL requested for `address`.
    pub fn search_url(&self, address: &str) -> String {
        format!("{}/api/?q={}", self.base, quote_plus(address))
    }

    /// One search: found / empty / timeout / error (7.7).
    pub fn search(&self, address: &str) -> PhotonAnswer {
        self.limiter.acquire();
        let answer = self.fetch(address);
        if matches!(answer, PhotonAnswer::Timeout | PhotonAnswer::Error) {
            self.limiter.back_off();
        }
        answer
    }

    fn fetch(&self, address: &str) -> PhotonAnswer {
        let classify = |e: reqwest::Error| if e.is_timeout() { PhotonAnswer::Timeout } else { PhotonAnswer::Error };
        let response = match self.client.get(self.search_url(address)).send() {
            Ok(r) => r,
            Err(e) => return classify(e),
        };
        if !response.status().is_success() {
            return PhotonAnswer::Error;
        }
        match response.bytes() {
            Err(e) => classify(e),
            Ok(b) => match serde_json::from_slice::<serde_json::Value>(&b) {
                Ok(body) => PhotonAnswer::from_body(&body),
                Err(_) => PhotonAnswer::Error,
            },
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The Geocoder
// ---------------------------------------------------------------------------------------------

/// Nominatim plus the Photon fallback, as one [`Geocoder`]. Records how many calls of each kind
/// it made (for the `score` report).
#[derive(Debug, Clone)]
pub struct HttpGeocoder {
    pub nominatim: NominatimClient,
    pub photon: PhotonClient,
    pub nominatim_calls: usize,
    pub photon_calls: usize,
}

impl HttpGeocoder {
    pub fn new(nominatim: NominatimClient, photon: PhotonClient) -> Self {
        HttpGeocoder { nominatim, photon, nominatim_calls: 0, photon_calls: 0 }
    }

    /// Both services at the given base URLs, 5 s timeouts; `rate_limit` selects the
    /// process-wide public limiters (1 request/s) or none (local mocks).
    pub fn from_urls(nominatim_url: &str, photon_url: &str, rate_limit: bool) -> Result<Self, GeocoderError> {
        let (nl, pl) = if rate_limit {
            (RateLimiter::nominatim_public(), RateLimiter::photon_public())
        } else {
            (RateLimiter::off(), RateLimiter::off())
        };
        Ok(HttpGeocoder::new(
            NominatimClient::with_options(nominatim_url, TIMEOUT, nl)?,
            PhotonClient::with_options(photon_url, TIMEOUT, pl)?,
        ))
    }
}

impl Geocoder for HttpGeocoder {
    fn nominatim(&mut self, address: &str) -> NominatimAnswer {
        self.nominatim_calls += 1;
        self.nominatim.search(address)
    }

    fn photon(&mut self, address: &str) -> PhotonAnswer {
        self.photon_calls += 1;
        self.photon.search(address)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_plus_matches_python() {
        // urllib.parse.quote_plus("12 Main St, Berlin, Deutschland ~*ü/&=+")
        assert_eq!(
            quote_plus("12 Main St, Berlin, Deutschland ~*ü/&=+"),
            "12+Main+St%2C+Berlin%2C+Deutschland+~%2A%C3%BC%2F%26%3D%2B"
        );
    }

    #[test]
    fn base_urls_are_checked_and_trimmed() {
        let c = NominatimClient::with_options("http://127.0.0.1:9/", TIMEOUT, RateLimiter::off()).unwrap();
        assert_eq!(c.search_url("a b"), "http://127.0.0.1:9/search?q=a+b&format=json");
        let p = PhotonClient::with_options("https://photon.komoot.io", TIMEOUT, RateLimiter::off()).unwrap();
        assert_eq!(p.search_url("x,y"), "https://photon.komoot.io/api/?q=x%2Cy");
        assert!(NominatimClient::new("ftp://x").is_err());
        assert!(NominatimClient::new("not a url").is_err());
        assert!(NominatimClient::new("http://x/search?q=1").is_err());
    }

    #[test]
    fn limiter_reserves_spaced_slots() {
        let l = RateLimiter::new(Duration::from_millis(30), Duration::from_millis(50));
        let t0 = Instant::now();
        l.acquire();
        l.acquire();
        l.back_off();
        l.acquire();
        // Slots at 0, 30 ms, then 60 ms + 50 ms back-off: cannot be earlier, only later.
        assert!(t0.elapsed() >= Duration::from_millis(110), "{:?}", t0.elapsed());
        assert_eq!(RateLimiter::off().acquire(), Duration::ZERO);
    }
}
