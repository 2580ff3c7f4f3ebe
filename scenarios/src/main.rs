use anyhow::bail;
use clap::{Parser, Subcommand};

use miid_scenarios::{Scenario, report_dir, run, write_report};

#[derive(Debug, Parser)]
#[command(name = "scenarios", version, about = "Run local MIID testnets: miners and a validator-sim on loopback")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a scenario and write target/scenarios/NAME/report.json; exit 1 when no miner answered.
    Run {
        /// Built-in scenario: smoke (= smoke-r1), smoke-r2, smoke-btauth, smoke-epistula.
        #[arg(default_value = "smoke")]
        name: String,
        /// Number of miners (overrides the scenario's).
        #[arg(long)]
        miners: Option<usize>,
    },
    /// List the built-in scenarios.
    List,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::List => {
            for name in Scenario::BUILTIN {
                println!("{name}");
            }
        }
        Command::Run { name, miners } => {
            let Some(mut scenario) = Scenario::builtin(&name) else {
                bail!("unknown scenario {name:?}; built-in scenarios: {}", Scenario::BUILTIN.join(", "));
            };
            if let Some(n) = miners {
                scenario.miners = n;
            }
            let (report, table) = run(&scenario).await?;
            println!(
                "scenario {} ({:?}, transport {}): {} of {} miners answered",
                scenario.name, scenario.generation, scenario.transport, report.answered, scenario.miners
            );
            print!("{table}");
            let path = write_report(&report_dir(&scenario.name), &report)?;
            println!("report: {}", path.display());
            if report.answered != scenario.miners {
                std::process::exit(1);
            }
        }
    }
    Ok(())
}
