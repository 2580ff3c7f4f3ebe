use clap::Parser;
use miid_miner::cli::{Cli, Command};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        // Colours only on a terminal: journald, docker logs and tests get plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Wallet(cmd)) => miid_miner::cli::wallet_command(cmd),
        Some(Command::Tlock(cmd)) => miid_miner::cli::tlock_command(cmd).await,
        Some(Command::Doctor(args)) => miid_miner::doctor::doctor_command(*args).await,
        Some(Command::Bench(args)) => miid_miner::bench::run(args),
        Some(Command::Models(cmd)) => miid_miner::llm::commands::run(cmd).await,
        None => miid_miner::cli::run(cli.run).await,
    }
}
