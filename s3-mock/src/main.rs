//! `s3-mock --listen ADDR --data-dir DIR --access-key K --secret-key S [--public-write BUCKET]...
//! [--bucket BUCKET]... [--domain DOMAIN]`
//!
//! Prints the bound address (`IP:PORT`) on the first line of stdout, then serves S3 (SigV4,
//! path-style, and virtual-hosted-style under `--domain`) until SIGINT or SIGTERM. Logs go to stderr (`RUST_LOG`; the default `info,s3s::ops=off`
//! hides s3s's ERROR line per refused request — 403/404 answers are normal traffic for a mock;
//! internal storage errors still log under `s3_mock::store`).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::Parser;

#[derive(Debug, Parser)]
#[command(version, about = "S3-compatible server (SigV4, path-style or virtual-hosted) over a directory")]
struct Cli {
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: String,
    /// Root directory: DIR/BUCKET/KEY. Created if missing.
    #[arg(long)]
    data_dir: PathBuf,
    /// Access key accepted in SigV4 signatures.
    #[arg(long, env = "S3_MOCK_ACCESS_KEY")]
    access_key: String,
    /// Secret key for it.
    #[arg(long, env = "S3_MOCK_SECRET_KEY", hide_env_values = true)]
    secret_key: String,
    /// Bucket that also accepts anonymous PutObject (created at start). Repeatable.
    #[arg(long = "public-write", value_name = "BUCKET")]
    public_write: Vec<String>,
    /// Extra bucket to create at start (signed access only). Repeatable.
    #[arg(long = "bucket", value_name = "BUCKET")]
    buckets: Vec<String>,
    /// Base domain for virtual-hosted-style requests (`Host: BUCKET.DOMAIN:PORT`), e.g.
    /// `s3.local`; path-style requests keep working.
    #[arg(long, value_name = "DOMAIN")]
    domain: Option<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,s3s::ops=off".into()),
        )
        .init();

    let config = s3_mock::Config {
        data_dir: cli.data_dir,
        access_key: cli.access_key,
        secret_key: cli.secret_key,
        public_write: cli.public_write,
        buckets: cli.buckets,
        domain: cli.domain,
    };
    let service = s3_mock::build_service(&config)?;
    let listener = tokio::net::TcpListener::bind(&cli.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", cli.listen))?;
    let addr = listener.local_addr()?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{addr}")?;
        out.flush()?;
    }
    tracing::info!(%addr, data_dir = %config.data_dir.display(), public_write = ?config.public_write, domain = ?config.domain, "s3-mock listening");

    s3_mock::serve(listener, service, shutdown_signal()).await;
    tracing::info!("s3-mock stopped");
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
