use std::io::Write as _;

use clap::{Parser, Subcommand};

use miid_scenarios::{load, report_dir, run_scenario, spec, terminal_table, write_reports};

#[derive(Debug, Parser)]
#[command(
    name = "scenarios",
    version,
    about = "Run local MIID testnets: miners, mocks and a validator-sim on loopback"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a scenario (a built-in name or a TOML file) and write
    /// target/scenarios/NAME/report.json and report.html; exit 1 when an assertion fails.
    Run {
        /// Built-in scenario name (see `list`) or path to a scenario TOML file.
        #[arg(default_value = "smoke")]
        scenario: String,
        /// Override the scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Override the scenario's number of rounds.
        #[arg(long)]
        rounds: Option<u32>,
        /// Write the reports here instead of target/scenarios/NAME/.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// List the built-in scenarios.
    List,
    /// Check a scenario file without running it.
    Check { scenario: String },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::List => {
            for (name, _) in spec::BUILTIN {
                let note = match load(name) {
                    Ok(s) => s.description.lines().next().unwrap_or("").to_owned(),
                    Err(e) => format!("(not runnable yet: {e})"),
                };
                println!("{name:<16} {note}");
            }
        }
        Command::Check { scenario } => {
            let s = load(&scenario)?;
            println!(
                "{}: ok ({} miners, {} rounds, {} faults, {} assertions)",
                s.name,
                s.labels().len(),
                s.rounds,
                s.faults.len(),
                s.assertions.len()
            );
        }
        Command::Run { scenario, seed, rounds, out } => {
            let mut s = load(&scenario)?;
            if let Some(seed) = seed {
                s.seed = seed;
            }
            if let Some(r) = rounds {
                s.rounds = r;
            }
            let report = run_scenario(&s, &mut |line| {
                println!("{line}");
                let _ = std::io::stdout().flush();
            })
            .await?;
            print!("{}", terminal_table(&report));
            let dir = out.unwrap_or_else(|| report_dir(&s.name));
            let (json, html) = write_reports(&dir, &report)?;
            println!("report: {}\nreport: {}", json.display(), html.display());
            if !report.passed {
                std::process::exit(1);
            }
        }
    }
    Ok(())
}
