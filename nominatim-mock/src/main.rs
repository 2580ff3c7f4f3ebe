//! `nominatim-mock --listen ADDR [fault and precision flags]`
//!
//! Prints the bound address (`IP:PORT`) on the first line of stdout, then serves the
//! Nominatim-compatible API until SIGINT or SIGTERM. Logs go to stderr (`RUST_LOG`, default
//! `info`).

use std::io::Write;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use nominatim_mock::{Config, Faults, StreetPrecision, parse_schedule};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Precision {
    /// Street addresses are answered with their city (place_rank 16): the mock has no streets.
    City,
    /// Street addresses get an invented house (place_rank 30) with a --house-bbox-m box.
    House,
}

#[derive(Debug, Parser)]
#[command(version, about = "Nominatim-compatible /search and /reverse over an embedded GeoNames gazetteer")]
struct Cli {
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: String,
    /// How street addresses are answered.
    #[arg(long, value_enum, default_value = "city")]
    street_precision: Precision,
    /// Side of a synthesized house's bounding box, metres (8 → 64 m², validator score 1.0).
    #[arg(long, default_value_t = 8.0)]
    house_bbox_m: f64,
    /// Probability (0..1) of answering 429 Too Many Requests.
    #[arg(long, default_value_t = 0.0)]
    rate_limit_probability: f64,
    /// Probability (0..1) of answering --server-error-status.
    #[arg(long, default_value_t = 0.0)]
    server_error_probability: f64,
    /// Status used for random server errors.
    #[arg(long, default_value_t = 503)]
    server_error_status: u16,
    /// Per-request actions in arrival order, e.g. "ok,429,503,sleep:6000" (wins over the
    /// probabilities while it lasts).
    #[arg(long, value_name = "ACTIONS")]
    fault_schedule: Option<String>,
    /// Start the schedule over when it runs out.
    #[arg(long)]
    repeat_schedule: bool,
    /// Latency added to every geocoding answer, milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Plus up to this many random milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_jitter_ms: u64,
    /// Refuse (403) requests without a User-Agent, as Nominatim's usage policy does.
    #[arg(long)]
    require_user_agent: bool,
    /// Refuse (403) User-Agents containing this text (case-insensitive). Repeatable.
    #[arg(long = "block-user-agent", value_name = "TEXT")]
    block_user_agents: Vec<String>,
    /// Seed for fault probabilities and jitter.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();

    for (name, p) in [("rate-limit", cli.rate_limit_probability), ("server-error", cli.server_error_probability)] {
        anyhow::ensure!((0.0..=1.0).contains(&p), "--{name}-probability must be within 0..1, got {p}");
    }
    anyhow::ensure!(
        (500..=599).contains(&cli.server_error_status),
        "--server-error-status must be a 5xx, got {}",
        cli.server_error_status
    );
    let config = Config {
        faults: Faults {
            rate_limit_probability: cli.rate_limit_probability,
            server_error_probability: cli.server_error_probability,
            server_error_status: cli.server_error_status,
            schedule: match cli.fault_schedule.as_deref() {
                Some(s) => parse_schedule(s).map_err(|e| anyhow::anyhow!("--fault-schedule: {e}"))?,
                None => Vec::new(),
            },
            repeat_schedule: cli.repeat_schedule,
            latency: Duration::from_millis(cli.latency_ms),
            latency_jitter: Duration::from_millis(cli.latency_jitter_ms),
            require_user_agent: cli.require_user_agent,
            blocked_user_agents: cli.block_user_agents,
        },
        street_precision: match cli.street_precision {
            Precision::City => StreetPrecision::City,
            Precision::House => StreetPrecision::SynthesizeHouse { bbox_side_m: cli.house_bbox_m },
        },
        seed: cli.seed,
    };
    // Parse the gazetteer before announcing the address, so the first request is not slow.
    let cities = nominatim_mock::Gazetteer::global().cities().len();

    let listener = tokio::net::TcpListener::bind(&cli.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", cli.listen))?;
    let addr = listener.local_addr()?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{addr}")?;
        out.flush()?;
    }
    tracing::info!(%addr, cities, precision = ?config.street_precision, faults = ?config.faults, "nominatim-mock listening");
    let app = nominatim_mock::router(config);
    nominatim_mock::serve(listener, app, shutdown_signal()).await?;
    tracing::info!("nominatim-mock stopped");
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {},
                    _ = term.recv() => {},
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
