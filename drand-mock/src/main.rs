//! `drand-mock`: a local drand beacon (quicknet's scheme) on drand's HTTP API v1.
//!
//! Stdout carries only what scripts need, one value a line, flushed before serving:
//! line 1 the base URL (`http://IP:PORT`, the bound address, so `--listen 127.0.0.1:0` works),
//! line 2 the chain hash (hex), line 3 the public key (hex). Logs go to stderr.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use drand_mock::{BeaconKey, Clock, DrandMock, ManualClock, MockConfig};

#[derive(Parser, Debug)]
#[command(
    name = "drand-mock",
    version,
    about = "A local drand beacon (bls-unchained-g1-rfc9380) serving drand's HTTP API v1"
)]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(clap::Args, Debug)]
struct ServeArgs {
    /// Address to listen on (port 0 picks a free one; the bound URL is printed on line 1).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: String,
    /// Seconds between rounds.
    #[arg(long, default_value_t = 3)]
    period: u64,
    /// Unix time of round 1 [default: start time rounded down to the period].
    #[arg(long)]
    genesis: Option<u64>,
    /// Secret key file (64 hex chars = 32-byte big-endian scalar; `#` lines ignored)
    /// [default: a key generated at start from OS randomness].
    #[arg(long)]
    key: Option<PathBuf>,
    /// Save the generated key to this file (only without --key), to serve the same chain again.
    #[arg(long, conflicts_with = "key")]
    write_key: Option<PathBuf>,
    /// Run on a clock that only moves through `POST /admin/advance?secs=N|rounds=N`
    /// (starts at the current time).
    #[arg(long)]
    manual_clock: bool,
    /// Beacon ID for metadata.beaconID and the chain hash.
    #[arg(long, default_value = drand_mock::DEFAULT_BEACON_ID)]
    beacon_id: String,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Generate a key file and print its public key (hex).
    Keygen {
        /// Where to write the key file.
        #[arg(long)]
        out: PathBuf,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    match cli.cmd {
        Some(Cmd::Keygen { out }) => {
            let key = BeaconKey::generate()?;
            key.save(&out)?;
            println!("{}", hex::encode(key.public_key()));
            Ok(())
        }
        None => serve(cli.serve).await,
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let key = match &args.key {
        Some(path) => BeaconKey::load(path)?,
        None => {
            let key = BeaconKey::generate()?;
            if let Some(path) = &args.write_key {
                key.save(path)?;
            }
            key
        }
    };
    let clock = if args.manual_clock { Clock::Manual(ManualClock::starting_now()) } else { Clock::System };
    let mock = DrandMock::new(MockConfig {
        key: Some(key),
        period: args.period,
        genesis: args.genesis,
        clock,
        beacon_id: Some(args.beacon_id),
        ..Default::default()
    })?;
    let running = mock.spawn(&args.listen).await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", running.url())?;
        writeln!(out, "{}", running.chain_hash_hex())?;
        writeln!(out, "{}", hex::encode(running.mock().public_key()))?;
        out.flush()?;
    }
    let s = running.mock().schedule();
    tracing::info!(
        genesis = s.genesis,
        period = s.period,
        round = running.mock().current_round(),
        manual_clock = args.manual_clock,
        "beacon up"
    );
    shutdown_signal().await.context("waiting for a shutdown signal")?;
    tracing::info!("shutting down");
    running.shutdown().await;
    Ok(())
}

async fn shutdown_signal() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r,
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}
