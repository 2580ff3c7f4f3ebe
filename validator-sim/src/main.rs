use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use miid_chain::SnapshotChain;
use miid_protocol::synapse::Generation;
use miid_protocol::{Scheme, wallet};
use miid_validator::{Dendrite, QuerySpec, RoundConfig, query_round, round};

#[derive(Debug, Parser)]
#[command(
    name = "validator-sim",
    version,
    about = "A simulated MIID (subnet 54) validator: queries miners as mainnet validators do"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Send one signed query to every serving miner of a metagraph and print what each answered.
    Query(QueryArgs),
    /// Replay every reference vector file (*.jsonl) in DIR through the scorer: one line per file
    /// `FILE: N passed, M failed`, then a total line; exit 1 on any failure.
    Vectors {
        dir: PathBuf,
        /// Print every failure, not only the first five per file.
        #[arg(long)]
        verbose: bool,
    },
    /// Timelock decryption.
    #[command(subcommand)]
    Tlock(TlockCommand),
    /// Score one round as the reference validator would and print, per miner, the reward and
    /// why (completeness, names, DOB, address, cheat penalties, rank cap, reputation).
    Score(ScoreArgs),
    /// Measure scoring throughput: every round of rounds.jsonl, then a synthetic 64-miner round.
    Bench {
        /// A rounds.jsonl file, or a directory holding one (default: the reference vectors).
        path: Option<PathBuf>,
        /// Seconds to spend on each of the two measurements.
        #[arg(long, default_value_t = 5.0)]
        seconds: f64,
        /// Miners in the synthetic round.
        #[arg(long, default_value_t = 64)]
        miners: usize,
    },
}

#[derive(Debug, Args)]
struct ScoreArgs {
    /// The round: one JSON object shaped like a rounds.jsonl line (its reference outputs, if
    /// any, are ignored).
    #[arg(long)]
    round: PathBuf,
    /// Print the full JSON report instead of the table.
    #[arg(long)]
    json: bool,
    /// Geocode over HTTP with this Nominatim (instead of the round's scripted `geocoder`;
    /// the public instance when the round has no script and neither URL is given).
    #[arg(long)]
    nominatim: Option<String>,
    /// Photon base URL for the fallback (the client asks `{URL}/api/`).
    #[arg(long)]
    photon: Option<String>,
    /// Do not pace geocoder requests to 1/s (only for local mocks: the public instances ban
    /// clients that go faster).
    #[arg(long)]
    no_rate_limit: bool,
}

#[derive(Debug, Subcommand)]
enum TlockCommand {
    /// Decrypt stdin (mainnet envelope or age, recognised from the bytes): wait for its round
    /// on the beacon at URL, verify the round's signature against the chain key, write the
    /// plaintext to stdout.
    Decrypt {
        /// Base URL of a drand HTTP API (a drand-mock, or a public relay with the chain hash).
        #[arg(long)]
        beacon: String,
        /// Longest wait for the round, in seconds.
        #[arg(long, default_value_t = 3600.0)]
        timeout: f64,
    },
}

#[derive(Debug, Args)]
struct QueryArgs {
    /// Metagraph snapshot file (DESIGN.md format) listing the miners and this validator.
    #[arg(long)]
    metagraph: PathBuf,
    #[arg(long = "wallet.name", default_value = "default")]
    wallet_name: String,
    #[arg(long = "wallet.hotkey", default_value = "default")]
    wallet_hotkey: String,
    #[arg(long = "wallet.path", default_value = "~/.bittensor/wallets")]
    wallet_path: PathBuf,
    /// Request generation: r1 (names, DOB, addresses, UAV) or r2 (five image variations, mainnet now).
    #[arg(long, default_value = "r2")]
    generation: Generation,
    /// Signed-request scheme: v10 (mainnet validators today), btauth (bittensor v11), epistula
    /// (Epistula v2) or epistula-simple (X-Epistula-* headers).
    #[arg(long, default_value = "v10")]
    transport: Scheme,
    /// Seconds each miner has to answer.
    #[arg(long, default_value_t = 1200.0)]
    timeout: f64,
    /// R1: seed identities per query.
    #[arg(long, default_value_t = 5)]
    seeds: usize,
    /// R1: variations asked per seed.
    #[arg(long, default_value_t = 8)]
    variations: usize,
    /// This validator's external IP, as sent in bt_header_dendrite_ip.
    #[arg(long, default_value = "127.0.0.1")]
    external_ip: String,
    /// Write the per-miner results (JSON array) to this file.
    #[arg(long)]
    out: Option<PathBuf>,
    /// R1: also score the answers as the reference validator would, geocoding addresses with
    /// the Nominatim at this URL (e.g. a local nominatim-mock; the public instance is
    /// https://nominatim.openstreetmap.org at 1 request/s).
    #[arg(long)]
    nominatim: Option<String>,
    /// Photon fallback for --nominatim.
    #[arg(long, default_value = "https://photon.komoot.io")]
    photon: String,
    /// Do not space geocoder requests 1 s apart (only for a local geocoder).
    #[arg(long)]
    no_rate_limit: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Vectors { dir, verbose } => {
            let reports = miid_validator::vectors::replay_dir(&dir)
                .with_context(|| format!("cannot list vector files in {}", dir.display()))?;
            if reports.is_empty() {
                anyhow::bail!("no *.jsonl vector files in {}", dir.display());
            }
            let (mut passed, mut failed) = (0, 0);
            for r in &reports {
                println!("{}: {} passed, {} failed", r.file, r.passed, r.failed);
                let shown = if verbose { r.failures.len() } else { 5 };
                for (i, why) in r.failures.iter().take(shown) {
                    eprintln!("  {} case {i}: {why}", r.file);
                }
                if r.failures.len() > shown {
                    eprintln!("  {} ... {} more (--verbose shows all)", r.file, r.failures.len() - shown);
                }
                passed += r.passed;
                failed += r.failed;
            }
            println!("total: {passed} passed, {failed} failed");
            if failed > 0 {
                std::process::exit(1);
            }
        }
        Command::Tlock(TlockCommand::Decrypt { beacon, timeout }) => {
            use std::io::{Read, Write};
            let mut ct = Vec::new();
            std::io::stdin().read_to_end(&mut ct).context("reading the ciphertext from stdin")?;
            let (format, round) = miid_tlock::round_of(&ct)?;
            tracing::info!(?format, round, "waiting for the round's signature");
            let client = miid_tlock::client::Client::connect(&beacon, None)
                .await
                .with_context(|| format!("cannot read the chain info of the drand beacon at {beacon}"))?;
            let plaintext = client.decrypt(&ct, std::time::Duration::from_secs_f64(timeout)).await?;
            let mut out = std::io::stdout().lock();
            out.write_all(&plaintext)?;
            out.flush()?;
        }
        Command::Score(a) => {
            // Scoring may geocode with blocking HTTP clients: off the async worker threads.
            let report = tokio::task::spawn_blocking(move || score_command(&a)).await??;
            print!("{report}");
        }
        Command::Bench { path, seconds, miners } => {
            let lines = tokio::task::spawn_blocking(move || bench_command(path, seconds, miners)).await??;
            for l in lines {
                println!("{l}");
            }
        }
        Command::Query(a) => {
            let hotkey = wallet::load_hotkey(&a.wallet_path, &a.wallet_name, &a.wallet_hotkey)?;
            let chain = SnapshotChain::from_file(&a.metagraph)?;
            let dendrite = Arc::new(Dendrite::new(hotkey, &a.external_ip, a.transport));
            let config = RoundConfig { generation: a.generation, timeout: a.timeout, ..RoundConfig::default() };
            let spec = QuerySpec { seeds: a.seeds, variations: a.variations, ..QuerySpec::default() };
            let r = query_round(&chain, dendrite, &config, &spec).await?;
            print!("{}", round::table(&r.results, r.uav_seed.as_deref()));
            if let (Some(url), Some(spec)) = (a.nominatim.clone(), r.round_spec()) {
                let (photon, rate_limit) = (a.photon.clone(), !a.no_rate_limit);
                // The HTTP geocoders block: score off the async runtime.
                let table = tokio::task::spawn_blocking(move || -> anyhow::Result<String> {
                    let mut geocoder = miid_validator::geocoder::HttpGeocoder::from_urls(&url, &photon, rate_limit)?;
                    let scored = miid_validator::score::score(
                        &spec,
                        Some(&mut geocoder),
                        miid_scoring::rng::KeyedSeedSource::random(),
                    )?;
                    Ok(miid_validator::score::table(&spec, &scored))
                })
                .await??;
                println!("\nWhat the reference validator would pay (KAV, then reputation stage):");
                print!("{table}");
            }
            if let Some(out) = &a.out {
                std::fs::write(out, serde_json::to_string_pretty(&r.results)?)
                    .with_context(|| format!("cannot write {}", out.display()))?;
            }
        }
    }
    Ok(())
}

/// `validator-sim score`: the table or the JSON report, as text.
fn score_command(a: &ScoreArgs) -> anyhow::Result<String> {
    use miid_validator::geocoder::{HttpGeocoder, NOMINATIM_URL, PHOTON_URL};
    use miid_validator::score::{self, RoundSpec};
    let spec = RoundSpec::from_file(&a.round)?;
    let live_wanted = a.nominatim.is_some() || a.photon.is_some() || spec.geocoder.is_none();
    let mut live = if live_wanted {
        let n = a.nominatim.as_deref().unwrap_or(NOMINATIM_URL);
        let p = a.photon.as_deref().unwrap_or(PHOTON_URL);
        tracing::info!(nominatim = n, photon = p, rate_limited = !a.no_rate_limit, "geocoding over HTTP");
        Some(HttpGeocoder::from_urls(n, p, !a.no_rate_limit)?)
    } else {
        None
    };
    let scored = score::score(
        &spec,
        live.as_mut().map(|g| g as &mut dyn miid_scoring::address::Geocoder),
        miid_scoring::rng::KeyedSeedSource::random(),
    )?;
    if a.json {
        for w in score::warnings(&scored) {
            tracing::warn!("{w}");
        }
        Ok(format!("{}\n", serde_json::to_string_pretty(&score::report_json(&spec, &scored))?))
    } else {
        Ok(score::table(&spec, &scored))
    }
}

/// `validator-sim bench`: one line for the vector rounds, one for the synthetic round.
fn bench_command(path: Option<PathBuf>, seconds: f64, miners: usize) -> anyhow::Result<Vec<String>> {
    use miid_validator::score::{bench_rounds, default_vectors_dir, load_rounds, synthetic_round};
    if !(seconds.is_finite() && seconds > 0.0) {
        anyhow::bail!("--seconds must be a positive number, got {seconds}");
    }
    let budget = std::time::Duration::from_secs_f64(seconds);
    let path = path.unwrap_or_else(default_vectors_dir);
    let (file, rounds) = load_rounds(&path)?;
    let label = format!("{} ({} rounds)", file.display(), rounds.len());
    let vectors = bench_rounds(&label, &rounds, budget)?;
    let synthetic = bench_rounds(&format!("synthetic {miners}-miner round"), &[synthetic_round(miners)], budget)?;
    Ok(vec![vectors.to_string(), synthetic.to_string()])
}
