//! drand's HTTP API v1 over a [`DrandMock`].
//!
//! Status codes follow drand's own HTTP server (`drand/drand` `handler/http/server.go`,
//! `DrandHandler.PublicRand` / `LatestRand` / `ChainInfo`) so that client retry logic written
//! against api.drand.sh behaves the same here:
//!
//! | request | answer |
//! |---|---|
//! | `/info`, `/{hash}/info` | 200, chain info JSON |
//! | `/public/latest`, `/public/0` | 200, the current round (drand treats round 0 as "latest") |
//! | `/public/{r}`, r ≤ current | 200, beacon JSON |
//! | `/public/{r}`, r = current + 1 | long-poll: answered 200 as soon as the round is out; 404 if it is not out within the wait limit (drand blocks the same way for the next round) |
//! | `/public/{r}`, r ≥ current + 2 | 404, empty body, `Cache-Control: public, must-revalidate, max-age=<secs until r>` (drand: "request in the future") |
//! | round not a decimal u64 | 400 |
//! | `{hash}` not hex | 400 (drand: "unable to decode chain hash") |
//! | `{hash}` hex but not this chain | 404 |
//! | latest before genesis | 500 (drand's relay fails to fetch any beacon then) |
//!
//! With a manual clock, `POST /admin/advance?secs=N` or `?rounds=N` moves the clock and answers
//! `{"now": t, "round": r}`; without one the admin route answers 404. In-process users call
//! [`RunningMock::advance`] / [`RunningMock::advance_rounds`] instead.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::{Beacon, BeaconKey, ChainInfo, Clock, KeyError, ManualClock, Schedule};

/// How to build a beacon.
#[derive(Debug, Clone)]
pub struct MockConfig {
    /// The signing key; `None` generates one from OS randomness.
    pub key: Option<BeaconKey>,
    /// Seconds between rounds (drand's chain hash stores it as u32).
    pub period: u64,
    /// Unix time of round 1; `None` = the clock's current time rounded down to the period.
    pub genesis: Option<u64>,
    pub clock: Clock,
    /// `None` = [`crate::DEFAULT_BEACON_ID`].
    pub beacon_id: Option<String>,
    /// `None` = [`crate::default_group_hash`].
    pub group_hash: Option<[u8; 32]>,
    /// How long a request for the next round may wait for it (real time). `None` = period + 1 s.
    pub next_round_wait: Option<Duration>,
}

impl Default for MockConfig {
    fn default() -> Self {
        MockConfig {
            key: None,
            period: miid_protocol::drand::QUICKNET_PERIOD,
            genesis: None,
            clock: Clock::System,
            beacon_id: None,
            group_hash: None,
            next_round_wait: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MockError {
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("period must be between 1 and 4294967295 seconds, got {0}")]
    Period(u64),
    #[error("genesis {0} does not fit drand's signed 64-bit genesis time")]
    Genesis(u64),
    #[error("binding {addr}: {source}")]
    Bind { addr: String, source: std::io::Error },
}

/// A beacon: key, chain, schedule and clock. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct DrandMock {
    key: BeaconKey,
    info: ChainInfo,
    hash: [u8; 32],
    hash_hex: String,
    schedule: Schedule,
    clock: Clock,
    next_round_wait: Duration,
}

impl DrandMock {
    pub fn new(config: MockConfig) -> Result<Self, MockError> {
        let period = config.period;
        let period32 = u32::try_from(period).ok().filter(|p| *p > 0).ok_or(MockError::Period(period))?;
        let key = match config.key {
            Some(k) => k,
            None => BeaconKey::generate()?,
        };
        let genesis = config.genesis.unwrap_or_else(|| {
            let now = config.clock.now();
            now - now % period
        });
        let genesis_i64 = i64::try_from(genesis).map_err(|_| MockError::Genesis(genesis))?;
        let mut info = ChainInfo::new(&key.public_key(), period32, genesis_i64);
        if let Some(id) = config.beacon_id {
            info.beacon_id = id;
        }
        if let Some(gh) = config.group_hash {
            info.group_hash = gh;
        }
        let hash = info.hash();
        Ok(DrandMock {
            key,
            hash_hex: hex::encode(hash),
            hash,
            info,
            schedule: Schedule { genesis, period },
            clock: config.clock,
            next_round_wait: config.next_round_wait.unwrap_or(Duration::from_secs(period + 1)),
        })
    }

    pub fn info(&self) -> &ChainInfo {
        &self.info
    }

    pub fn chain_hash(&self) -> [u8; 32] {
        self.hash
    }

    pub fn chain_hash_hex(&self) -> &str {
        &self.hash_hex
    }

    pub fn public_key(&self) -> [u8; 96] {
        self.key.public_key()
    }

    pub fn key(&self) -> &BeaconKey {
        &self.key
    }

    pub fn schedule(&self) -> Schedule {
        self.schedule
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The latest published round (0 before genesis).
    pub fn current_round(&self) -> u64 {
        self.schedule.round_at(self.clock.now())
    }

    /// Round `round` if it has been published, else `None`.
    pub fn published(&self, round: u64) -> Option<Beacon> {
        (round >= 1 && round <= self.current_round()).then(|| self.key.beacon(round))
    }

    /// Any round's beacon regardless of the clock: what a test needs to decrypt ahead of time.
    /// The HTTP API never does this.
    pub fn beacon_unchecked(&self, round: u64) -> Beacon {
        self.key.beacon(round)
    }

    /// The axum router serving drand's HTTP API v1 for this beacon.
    pub fn router(self: &Arc<Self>) -> Router {
        Router::new()
            .route("/info", get(info))
            .route("/public/latest", get(latest))
            .route("/public/{round}", get(public_round))
            .route("/{hash}/info", get(info_h))
            .route("/{hash}/public/latest", get(latest_h))
            .route("/{hash}/public/{round}", get(public_round_h))
            .route("/admin/advance", post(admin_advance))
            .with_state(self.clone())
    }

    /// Binds `addr` and serves until [`RunningMock::shutdown`] (or drop of the handle's sender).
    pub async fn spawn(self, addr: &str) -> Result<RunningMock, MockError> {
        let listener =
            TcpListener::bind(addr).await.map_err(|source| MockError::Bind { addr: addr.to_string(), source })?;
        let local = listener.local_addr().map_err(|source| MockError::Bind { addr: addr.to_string(), source })?;
        let mock = Arc::new(self);
        let app = mock.router();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await;
        });
        tracing::info!(addr = %local, chain_hash = %mock.hash_hex, "drand-mock serving");
        Ok(RunningMock { addr: local, mock, shutdown: Some(tx), task: Some(task) })
    }
}

/// A beacon serving HTTP on a local socket. Dropping it stops the server.
#[derive(Debug)]
pub struct RunningMock {
    addr: SocketAddr,
    mock: Arc<DrandMock>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl RunningMock {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`, the base URL drand clients take.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn mock(&self) -> &Arc<DrandMock> {
        &self.mock
    }

    pub fn chain_hash_hex(&self) -> &str {
        self.mock.chain_hash_hex()
    }

    /// The manual clock, if the beacon runs on one.
    pub fn manual_clock(&self) -> Option<&ManualClock> {
        match self.mock.clock() {
            Clock::Manual(m) => Some(m),
            Clock::System => None,
        }
    }

    /// Fast-forwards a manual clock by `secs`; returns the new current round.
    ///
    /// # Panics
    /// If the beacon runs on the system clock: that is a test bug, not a runtime condition.
    pub fn advance(&self, secs: u64) -> u64 {
        self.manual_clock().expect("advance() needs a beacon built with a manual clock").advance(secs);
        self.mock.current_round()
    }

    /// Fast-forwards a manual clock to the publication time of `current + n`; returns that round.
    pub fn advance_rounds(&self, n: u64) -> u64 {
        let target = self.mock.current_round().saturating_add(n);
        let m = self.manual_clock().expect("advance_rounds() needs a beacon built with a manual clock");
        m.set(self.mock.schedule().time_of(target.max(1)));
        self.mock.current_round()
    }

    /// Stops serving and waits for in-flight requests to finish.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningMock {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

type St = State<Arc<DrandMock>>;

const JSON: HeaderValue = HeaderValue::from_static("application/json");

/// drand sets these on every answer (`withCommonHeaders`).
fn base(status: StatusCode, body: Vec<u8>) -> Response {
    let mut r = (status, body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, JSON);
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    h.insert(header::SERVER, HeaderValue::from_static(concat!("drand-mock/", env!("CARGO_PKG_VERSION"))));
    r
}

fn with_cache(mut r: Response, value: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(value) {
        r.headers_mut().insert(header::CACHE_CONTROL, v);
    }
    r
}

fn error(status: StatusCode, msg: &str) -> Response {
    base(status, msg.as_bytes().to_vec())
}

/// drand's `readChainHash` + `getBeaconHandler`: undecodable → 400, unknown → 404.
/// Returns the refusal, or `None` when `hash` names this chain.
fn hash_rejection(mock: &DrandMock, hash: &str) -> Option<Response> {
    match hex::decode(hash) {
        Err(e) => Some(error(StatusCode::BAD_REQUEST, &format!("unable to decode chain hash {hash}: {e}"))),
        Ok(h) if h == mock.hash => None,
        Ok(_) => Some(error(
            StatusCode::NOT_FOUND,
            &format!("there is no beacon for chain hash [{hash}]; this beacon serves [{}]", mock.hash_hex),
        )),
    }
}

async fn info(State(mock): St) -> Response {
    let body = serde_json::to_vec(&mock.info.to_json()).expect("info serialises");
    with_cache(base(StatusCode::OK, body), "public, max-age=604800, immutable")
}

async fn info_h(state: St, Path(hash): Path<String>) -> Response {
    match hash_rejection(&state.0, &hash) {
        None => info(state).await,
        Some(r) => r,
    }
}

async fn latest(State(mock): St) -> Response {
    let now = mock.clock.now();
    let round = mock.schedule.round_at(now);
    if round == 0 {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "no beacon before genesis");
    }
    let body = serde_json::to_vec(&mock.key.beacon(round)).expect("beacon serialises");
    let next = mock.schedule.time_of(round.saturating_add(1));
    let remaining = next.saturating_sub(now).clamp(1, mock.schedule.period);
    with_cache(base(StatusCode::OK, body), &format!("public, max-age={remaining}"))
}

async fn latest_h(state: St, Path(hash): Path<String>) -> Response {
    match hash_rejection(&state.0, &hash) {
        None => latest(state).await,
        Some(r) => r,
    }
}

/// drand's `readRound`: `strconv.ParseUint(s, 10, 64)`, so no sign, no spaces, decimal only.
fn parse_round(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

async fn public_round(State(mock): St, Path(round): Path<String>) -> Response {
    let Some(round) = parse_round(&round) else {
        return error(StatusCode::BAD_REQUEST, "failed to parse client round");
    };
    if round == 0 {
        return latest(State(mock)).await;
    }
    let current = mock.current_round();
    if round > current.saturating_add(1) {
        let wait = mock.schedule.time_of(round).saturating_sub(mock.clock.now());
        return with_cache(
            base(StatusCode::NOT_FOUND, Vec::new()),
            &format!("public, must-revalidate, max-age={wait}"),
        );
    }
    if round == current + 1 {
        // drand parks a request for the very next round until the round is out.
        let t = mock.schedule.time_of(round);
        if !mock.clock.wait_until(t, mock.next_round_wait).await {
            return with_cache(base(StatusCode::NOT_FOUND, Vec::new()), "must-revalidate, no-cache, max-age=0");
        }
    }
    let body = serde_json::to_vec(&mock.key.beacon(round)).expect("beacon serialises");
    with_cache(base(StatusCode::OK, body), "public, max-age=604800, immutable")
}

async fn public_round_h(state: St, Path((hash, round)): Path<(String, String)>) -> Response {
    match hash_rejection(&state.0, &hash) {
        None => public_round(state, Path(round)).await,
        Some(r) => r,
    }
}

#[derive(Deserialize)]
struct AdvanceQuery {
    secs: Option<u64>,
    rounds: Option<u64>,
}

async fn admin_advance(State(mock): St, Query(q): Query<AdvanceQuery>) -> Response {
    let Clock::Manual(m) = &mock.clock else {
        return error(StatusCode::NOT_FOUND, "admin endpoints need --manual-clock");
    };
    match (q.secs, q.rounds) {
        (Some(s), None) => {
            m.advance(s);
        }
        (None, Some(n)) => {
            let target = mock.current_round().saturating_add(n);
            m.set(mock.schedule.time_of(target.max(1)));
        }
        _ => return error(StatusCode::BAD_REQUEST, "give exactly one of ?secs=N or ?rounds=N"),
    }
    let body = serde_json::json!({ "now": m.now(), "round": mock.current_round() });
    base(StatusCode::OK, serde_json::to_vec(&body).expect("json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_parsing_follows_parseuint() {
        assert_eq!(parse_round("123"), Some(123));
        assert_eq!(parse_round("0"), Some(0));
        assert_eq!(parse_round("18446744073709551615"), Some(u64::MAX));
        for bad in ["", "+1", "-1", "1.0", "abc", " 1", "18446744073709551616", "0x10"] {
            assert_eq!(parse_round(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn genesis_defaults_to_clock_rounded_down() {
        let (clock, _m) = Clock::manual(1_000_001);
        let mock = DrandMock::new(MockConfig { key: Some(BeaconKey::from_ikm(&[1; 32])), clock, ..Default::default() })
            .unwrap();
        assert_eq!(mock.schedule(), Schedule { genesis: 999_999, period: 3 });
        assert_eq!(mock.current_round(), 1);
        assert_eq!(mock.info().genesis_time, 999_999);
    }

    #[test]
    fn bad_period_is_rejected() {
        for p in [0, u64::from(u32::MAX) + 1] {
            let r = DrandMock::new(MockConfig { period: p, ..Default::default() });
            assert!(matches!(r, Err(MockError::Period(_))), "{p}");
        }
    }

    #[test]
    fn published_respects_clock() {
        let (clock, m) = Clock::manual(10_000);
        let mock = DrandMock::new(MockConfig {
            key: Some(BeaconKey::from_ikm(&[2; 32])),
            genesis: Some(10_000),
            clock,
            ..Default::default()
        })
        .unwrap();
        assert!(mock.published(1).is_some());
        assert!(mock.published(2).is_none());
        assert!(mock.published(0).is_none());
        m.advance(3);
        assert_eq!(mock.published(2), Some(mock.beacon_unchecked(2)));
    }
}
