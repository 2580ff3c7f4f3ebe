//! The HTTP geocoders against local servers: `nominatim-mock` (answers, faults, latency) and a
//! small axum stub that records the raw request (exact query string and User-Agent) and plays
//! Photon. Loopback only.
//!
//! The clients are blocking (see `geocoder.rs`), so every call runs inside
//! `tokio::task::spawn_blocking`, which is also what this tests: the mock is served by the test's
//! own runtime while the blocking client waits on another thread.
//!
//! Timing assertions are one-sided lower bounds (a rate limiter can only make calls *later*), so
//! a slow machine cannot make them fail.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use miid_scoring::address::{Geocoder, NominatimAnswer, NominatimCheck, PhotonAnswer, score_nominatim_answer};
use miid_validator::geocoder::{
    HttpGeocoder, NominatimClient, PhotonClient, RateLimiter, TIMEOUT, USER_AGENT, quote_plus,
};
use nominatim_mock::{Config, FaultAction, Faults, RunningMock, StreetPrecision};

/// Runs blocking client code off the runtime's worker thread.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.expect("blocking task panicked")
}

async fn mock(faults: Faults) -> RunningMock {
    nominatim_mock::spawn(Config {
        faults,
        street_precision: StreetPrecision::SynthesizeHouse { bbox_side_m: 8.0 },
        seed: 1,
    })
    .await
    .expect("mock starts")
}

/// Must be called on a blocking thread (reqwest's blocking client panics on an async one).
fn client(base: &str, timeout: Duration, limiter: Arc<RateLimiter>) -> NominatimClient {
    NominatimClient::with_options(base, timeout, limiter).expect("client")
}

const HOUSE: &str = "12 Unter den Linden, Mitte District, Berlin, Germany";

#[tokio::test]
async fn found_address_is_a_body_the_scorer_accepts() {
    let m = mock(Faults::default()).await;
    let base = m.base_url();
    let answer =
        blocking(move || NominatimClient::with_options(&base, TIMEOUT, RateLimiter::off()).unwrap().search(HOUSE))
            .await;
    let NominatimAnswer::Body(Value::Array(places)) = &answer else { panic!("{answer:?}") };
    assert!(!places.is_empty());
    match score_nominatim_answer(HOUSE, &answer) {
        NominatimCheck::Scored(s) => assert_eq!(s.score, 1.0, "8 m box → 64 m² → 1.0"),
        other => panic!("{other:?}"),
    }
    assert_eq!(m.mock.requests(), 1);
}

#[tokio::test]
async fn unknown_address_is_an_empty_list() {
    let m = mock(Faults::default()).await;
    let base = m.base_url();
    let answer =
        blocking(move || client(&base, TIMEOUT, RateLimiter::off()).search("Qwxzzy Vrrmpt, Nowhereland")).await;
    assert_eq!(answer, NominatimAnswer::Body(json!([])));
    match score_nominatim_answer("Qwxzzy Vrrmpt, Nowhereland", &answer) {
        NominatimCheck::Scored(s) => assert_eq!(s.score, 0.0),
        other => panic!("{other:?}"),
    }
}

/// 429 and 5xx come with the front end's HTML page: the reference does not check the status,
/// fails to decode JSON, and reports API_ERROR.
#[tokio::test]
async fn rate_limit_and_server_errors_are_api_errors() {
    let schedule =
        vec![FaultAction::Status(429), FaultAction::Status(503), FaultAction::Status(502), FaultAction::Pass];
    let m = mock(Faults { schedule, ..Faults::default() }).await;
    let base = m.base_url();
    let answers = blocking(move || {
        let c = client(&base, TIMEOUT, RateLimiter::off());
        (0..4).map(|_| c.search(HOUSE)).collect::<Vec<_>>()
    })
    .await;
    assert_eq!(answers[..3], [NominatimAnswer::ApiError, NominatimAnswer::ApiError, NominatimAnswer::ApiError]);
    assert!(matches!(answers[3], NominatimAnswer::Body(_)));
    assert_eq!(m.mock.injected_faults(), 3);
}

#[tokio::test]
async fn latency_beyond_the_timeout_is_a_timeout() {
    let m = mock(Faults { schedule: vec![FaultAction::Delay(Duration::from_millis(3000))], ..Faults::default() }).await;
    let base = m.base_url();
    let (first, second) = blocking(move || {
        let c = client(&base, Duration::from_millis(1000), RateLimiter::off());
        (c.search(HOUSE), c.search(HOUSE))
    })
    .await;
    assert_eq!(first, NominatimAnswer::Timeout);
    assert!(matches!(second, NominatimAnswer::Body(_)), "the schedule delays only the first request");
    assert_eq!(TIMEOUT, Duration::from_secs(5), "the reference's timeout");
}

#[tokio::test]
async fn refused_connection_is_an_api_error() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}");
    let (n, p) = blocking(move || {
        let n = NominatimClient::with_options(&url, TIMEOUT, RateLimiter::off()).unwrap().search(HOUSE);
        let p = PhotonClient::with_options(&url, TIMEOUT, RateLimiter::off()).unwrap().search(HOUSE);
        (n, p)
    })
    .await;
    assert_eq!(n, NominatimAnswer::ApiError);
    assert_eq!(p, PhotonAnswer::Error);
}

/// N calls through one limiter take at least (N-1)·interval, and the mock saw exactly N;
/// two clients sharing the limiter are spaced together; an error adds the back-off.
#[tokio::test]
async fn rate_limiter_spaces_requests_across_clients() {
    let m = mock(Faults::default()).await;
    let interval = Duration::from_millis(150);
    let limiter = RateLimiter::new(interval, Duration::ZERO);
    let base = m.base_url();
    let elapsed = blocking(move || {
        let (a, b) = (client(&base, TIMEOUT, limiter.clone()), client(&base, TIMEOUT, limiter));
        let t0 = Instant::now();
        for i in 0..6 {
            let c = if i % 2 == 0 { &a } else { &b };
            assert!(matches!(c.search(HOUSE), NominatimAnswer::Body(_)));
        }
        t0.elapsed()
    })
    .await;
    assert_eq!(m.mock.requests(), 6);
    assert!(elapsed >= interval * 5, "6 calls in {elapsed:?}, want ≥ {:?}", interval * 5);

    // Threads sharing the limiter queue up too.
    let limiter = RateLimiter::new(interval, Duration::ZERO);
    let base = m.base_url();
    let elapsed = blocking(move || {
        let t0 = Instant::now();
        std::thread::scope(|s| {
            for _ in 0..4 {
                let c = client(&base, TIMEOUT, limiter.clone());
                s.spawn(move || c.search(HOUSE));
            }
        });
        t0.elapsed()
    })
    .await;
    assert_eq!(m.mock.requests(), 10);
    assert!(elapsed >= interval * 3, "4 threaded calls in {elapsed:?}");
}

#[tokio::test]
async fn an_error_pushes_the_next_request_back() {
    let m = mock(Faults { schedule: vec![FaultAction::Status(429)], ..Faults::default() }).await;
    let (interval, backoff) = (Duration::from_millis(100), Duration::from_millis(300));
    let base = m.base_url();
    let (answers, elapsed) = blocking(move || {
        let c = client(&base, TIMEOUT, RateLimiter::new(interval, backoff));
        let t0 = Instant::now();
        let answers = (c.search(HOUSE), c.search(HOUSE));
        (answers, t0.elapsed())
    })
    .await;
    assert_eq!(answers.0, NominatimAnswer::ApiError);
    assert!(matches!(answers.1, NominatimAnswer::Body(_)));
    assert!(elapsed >= interval + backoff, "{elapsed:?}");
}

// ---------------------------------------------------------------------------------------------
// A recording stub: exact wire format, and Photon
// ---------------------------------------------------------------------------------------------

/// (request URI, User-Agent) per request.
type Entry = (String, Option<String>);

#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<Entry>>>);

impl Log {
    fn record(&self, uri: &Uri, headers: &HeaderMap) {
        let ua = headers.get("user-agent").and_then(|v| v.to_str().ok()).map(str::to_string);
        self.0.lock().unwrap().push((uri.to_string(), ua));
    }
    fn entries(&self) -> Vec<Entry> {
        self.0.lock().unwrap().clone()
    }
}

/// Photon: the address decides the answer.
async fn photon(State(log): State<Log>, uri: Uri, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    log.record(&uri, &headers);
    let q = q.unwrap_or_default();
    let found = json!({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": "x"}}]});
    if q.contains("found") {
        axum::Json(found).into_response()
    } else if q.contains("empty") {
        axum::Json(json!({"type": "FeatureCollection", "features": []})).into_response()
    } else if q.contains("slow") {
        tokio::time::sleep(Duration::from_millis(3000)).await;
        axum::Json(found).into_response()
    } else if q.contains("broken") {
        (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(found)).into_response()
    } else {
        (StatusCode::OK, "<html>not json</html>").into_response()
    }
}

async fn nominatim_stub(State(log): State<Log>, uri: Uri, headers: HeaderMap) -> Response {
    log.record(&uri, &headers);
    // An error object with a 200, as a misbehaving server might send: a Body for the client,
    // which the scorer maps to API_ERROR.
    axum::Json(json!({"error": {"code": 400, "message": "nope"}})).into_response()
}

async fn stub() -> (String, Log) {
    let log = Log::default();
    let app = Router::new().route("/api/", get(photon)).route("/search", get(nominatim_stub)).with_state(log.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), log)
}

#[tokio::test]
async fn nominatim_request_is_byte_for_byte_the_reference() {
    let (base, log) = stub().await;
    let addr = "12 Rue de l'Église, Paris 75001, France";
    let answer = blocking(move || {
        NominatimClient::with_options(&format!("{base}/"), TIMEOUT, RateLimiter::off()).unwrap().search(addr)
    })
    .await;
    assert!(matches!(&answer, NominatimAnswer::Body(Value::Object(_))));
    assert!(matches!(score_nominatim_answer(addr, &answer), NominatimCheck::ApiError));
    let entries = log.entries();
    assert_eq!(entries.len(), 1);
    // requests.get(url, params={"q": addr, "format": "json"}, headers={"User-Agent": ...})
    assert_eq!(entries[0].0, "/search?q=12+Rue+de+l%27%C3%89glise%2C+Paris+75001%2C+France&format=json");
    assert_eq!(entries[0].0, format!("/search?q={}&format=json", quote_plus(addr)));
    assert_eq!(entries[0].1.as_deref(), Some(USER_AGENT));
    assert_eq!(USER_AGENT, "openstreet address");
}

#[tokio::test]
async fn photon_found_empty_timeout_and_errors() {
    let (base, log) = stub().await;
    let answers = blocking(move || {
        let c = PhotonClient::with_options(&base, Duration::from_millis(1000), RateLimiter::off()).unwrap();
        ["1 found st, x, y", "empty", "slow", "broken", "html"].map(|a| c.search(a))
    })
    .await;
    assert_eq!(
        answers,
        [PhotonAnswer::Found, PhotonAnswer::Empty, PhotonAnswer::Timeout, PhotonAnswer::Error, PhotonAnswer::Error]
    );
    let entries = log.entries();
    assert_eq!(entries[0].0, "/api/?q=1+found+st%2C+x%2C+y");
    assert_eq!(entries.len(), 5);
}

/// The trait object, as `score_round` uses it, from inside `spawn_blocking`: Nominatim from the
/// mock, Photon from the stub, and the client is built and dropped on the blocking thread.
#[tokio::test]
async fn http_geocoder_through_the_trait() {
    let m = mock(Faults::default()).await;
    let (photon_base, _log) = stub().await;
    let base = m.base_url();
    let (n, p, calls) = blocking(move || {
        let mut g = HttpGeocoder::from_urls(&base, &photon_base, false).unwrap();
        let geocoder: &mut dyn Geocoder = &mut g;
        let n = geocoder.nominatim(HOUSE);
        let p = geocoder.photon("found");
        (n, p, (g.nominatim_calls, g.photon_calls))
    })
    .await;
    assert!(matches!(n, NominatimAnswer::Body(_)));
    assert_eq!(p, PhotonAnswer::Found);
    assert_eq!(calls, (1, 1));
}
