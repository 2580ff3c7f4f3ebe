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
    /// Run the validator loop: rounds of queries, scoring, moving average and weights, with the
    /// state (scores, round journal, pending post-validations, history) kept in --state-dir so
    /// a restarted validator continues where it stopped.
    Run(Box<RunArgs>),
    /// Measure whole rounds per minute (sampling, query, 256 loopback miners answering at once,
    /// scoring, moving average, weights, durable commit).
    BenchRounds {
        #[arg(long, default_value_t = 256)]
        miners: usize,
        /// Seconds to keep running rounds.
        #[arg(long, default_value_t = 30.0)]
        seconds: f64,
        /// Seed identities per round.
        #[arg(long, default_value_t = 15)]
        seeds: usize,
        /// Geocode with this Nominatim (e.g. a local nominatim-mock; unpaced). Without it every
        /// address lookup fails and nobody passes the KAV quality threshold.
        #[arg(long)]
        nominatim: Option<String>,
    },
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

#[derive(Debug, Args)]
struct RunArgs {
    /// Metagraph snapshot file (DESIGN.md format).
    #[arg(long, conflicts_with = "network")]
    metagraph: Option<PathBuf>,
    /// A chain: finney, test, local or a ws(s):// URL.
    #[arg(long = "subtensor.network", id = "network")]
    network: Option<String>,
    /// Connection attempts to the node before giving up (the wait doubles from 1 s, at most 30 s).
    #[arg(long = "subtensor.retries", default_value_t = 5)]
    subtensor_retries: u32,
    #[arg(long, default_value_t = 54)]
    netuid: u16,
    #[arg(long = "wallet.name", default_value = "default")]
    wallet_name: String,
    #[arg(long = "wallet.hotkey", default_value = "default")]
    wallet_hotkey: String,
    #[arg(long = "wallet.path", default_value = "~/.bittensor/wallets")]
    wallet_path: PathBuf,
    /// Durable state: scores, round journal, pending post-validations, history, results records.
    #[arg(long, default_value = "validator-state")]
    state_dir: PathBuf,
    /// Rounds to run in this invocation (forever when absent).
    #[arg(long)]
    rounds: Option<u64>,
    #[arg(long, default_value = "r1")]
    generation: Generation,
    #[arg(long, default_value = "v10")]
    transport: Scheme,
    #[arg(long, default_value = "127.0.0.1")]
    external_ip: String,
    /// Seeds every generator (query draws, names, the scorer's string hash): reproducible runs.
    #[arg(long)]
    seed: Option<u64>,
    /// neuron.sample_size.
    #[arg(long, default_value_t = 250)]
    sample_size: usize,
    /// neuron.batch_size.
    #[arg(long, default_value_t = 150)]
    batch_size: usize,
    /// neuron.timeout: the base of the adaptive timeout (R1) or the timeout (R2), seconds.
    #[arg(long, default_value_t = 360.0)]
    timeout: f64,
    /// Use --timeout as is instead of the adaptive timeout.
    #[arg(long)]
    fixed_timeout: bool,
    #[arg(long, default_value_t = 900.0)]
    max_request_timeout: f64,
    /// Added to the R1 timeout when the query carries an image request.
    #[arg(long, default_value_t = 900.0)]
    image_timeout_extension: f64,
    /// No 3 s / 3 s / 2 s waits around batches (local runs).
    #[arg(long)]
    no_waits: bool,
    /// seed_names.sample_size.
    #[arg(long, default_value_t = 15)]
    seeds: usize,
    /// Fix the variation count instead of drawing 6..15.
    #[arg(long)]
    variation_count: Option<u32>,
    /// Template form: fallback (no LLM), llm (LLM-style text, validated and hinted), default-query.
    #[arg(long, value_enum, default_value = "fallback")]
    template: miid_validator::query::TemplateMode,
    /// Folder of base face images (png/jpg/jpeg); without it R1 rounds carry no image request.
    #[arg(long)]
    images: Option<PathBuf>,
    /// Seconds from the query to the drand reveal of its images.
    #[arg(long, default_value_t = 4320)]
    reveal_delay: u64,
    /// Minimum round duration in seconds (reference 360, then 5 more).
    #[arg(long, default_value_t = 360.0)]
    min_round_secs: f64,
    #[arg(long, default_value_t = 5.0)]
    post_round_sleep: f64,
    #[arg(long, default_value_t = 0.15)]
    alpha: f64,
    #[arg(long, default_value_t = 0.70)]
    burn_fraction: f64,
    /// KAV-only scoring (UAV_grading off).
    #[arg(long)]
    no_uav_grading: bool,
    #[arg(long, default_value_t = 1)]
    min_allowed_weights: usize,
    #[arg(long, default_value_t = 1.0)]
    max_weight_limit: f64,
    /// Reputation snapshot: a JSON file or an http(s) URL, read before every round.
    #[arg(long)]
    reputation: Option<String>,
    /// Geocode addresses with this Nominatim (without one every address scores as unverifiable).
    #[arg(long)]
    nominatim: Option<String>,
    #[arg(long, default_value = "https://photon.komoot.io")]
    photon: String,
    #[arg(long)]
    no_rate_limit: bool,
    /// drand HTTP API: image-request timing and post-validation reveals.
    #[arg(long)]
    beacon: Option<String>,
    /// S3 endpoint holding the submissions (enables post-validation; needs --beacon).
    #[arg(long = "s3.endpoint")]
    s3_endpoint: Option<String>,
    #[arg(long = "s3.bucket", default_value = "yanez-miid-sn54")]
    s3_bucket: String,
    #[arg(long = "s3.access-key", env = "MIID_S3_ACCESS_KEY")]
    s3_access_key: Option<String>,
    #[arg(long = "s3.secret-key", env = "MIID_S3_SECRET_KEY")]
    s3_secret_key: Option<String>,
    /// Longest wait for one round's beacon during post-validation, seconds.
    #[arg(long, default_value_t = 30.0)]
    postval_wait: f64,
    /// After the rounds, keep running due post-validations for up to this many seconds.
    #[arg(long, default_value_t = 0.0)]
    drain_postval: f64,
    /// MIID upload server: each results record is signed and POSTed to URL/upload_data/HOTKEY; a
    /// reply's rep_cache becomes the next round's reputation snapshot.
    #[arg(long)]
    upload: Option<String>,
    /// Reproduce the reference's restart quirk V1: scores restart at zero.
    #[arg(long)]
    reset_scores_on_start: bool,
    /// Answers larger than this are refused (422).
    #[arg(long, default_value_t = miid_validator::dendrite::DEFAULT_MAX_RESPONSE_BYTES)]
    max_response_bytes: usize,
    /// Test hook: abort the process right after this journal phase is committed.
    #[arg(long, value_enum)]
    crash_after: Option<miid_validator::runner::CrashPoint>,
    /// With --crash-after: only in this round.
    #[arg(long)]
    crash_round: Option<u64>,
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
    /// R1: seed identities per query (seed_names.sample_size).
    #[arg(long, default_value_t = 15)]
    seeds: usize,
    /// R1: variations asked per seed (0: drawn 6..15 as the reference does).
    #[arg(long, default_value_t = 0)]
    variations: usize,
    /// R1: template form: fallback (no LLM), llm (LLM-style text, validated and hinted), default-query.
    #[arg(long, value_enum, default_value = "fallback")]
    template: miid_validator::query::TemplateMode,
    /// R1: folder of base face images for the image request.
    #[arg(long)]
    images: Option<PathBuf>,
    /// Seeds the query draws (reproducible queries).
    #[arg(long)]
    seed: Option<u64>,
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
        Command::Run(a) => run_command(*a).await?,
        Command::BenchRounds { miners, seconds, seeds, nominatim } => {
            let line = bench_rounds_command(miners, seconds, seeds, nominatim).await?;
            println!("{line}");
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
            let spec = QuerySpec {
                seeds: a.seeds,
                variations: a.variations,
                mode: a.template,
                image_dir: a.images.clone(),
                seed: a.seed,
                ..QuerySpec::default()
            };
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

/// `validator-sim run`.
async fn run_command(a: RunArgs) -> anyhow::Result<()> {
    use miid_validator::runner::{Validator, ValidatorConfig};
    let chain: Arc<dyn miid_chain::Chain> = match (&a.metagraph, &a.network) {
        (Some(path), _) => Arc::new(SnapshotChain::from_file(path)?),
        (None, Some(network)) => {
            // The same client the miner uses on a chain: metagraph via get_neurons_lite, weights via
            // set_mechanism_weights with the subnet's version key; re-read every 25 blocks (~5 min).
            let network: miid_chain::Network = network.parse()?;
            let retry = miid_chain::Retry { attempts: a.subtensor_retries.max(1), ..miid_chain::Retry::default() };
            tracing::info!(%network, netuid = a.netuid, "connecting to subtensor");
            let subtensor = miid_chain::Subtensor::connect(network.clone(), a.netuid, retry)
                .await
                .with_context(|| format!("--subtensor.network {network}: cannot reach the node"))?;
            miid_chain::SyncedChain::start(Arc::new(subtensor), std::time::Duration::from_secs(300), retry)
                .await
                .with_context(|| format!("reading the metagraph of netuid {} from {network}", a.netuid))?
        }
        (None, None) => anyhow::bail!("give --metagraph FILE or --subtensor.network NETWORK"),
    };
    let hotkey = wallet::load_hotkey(&a.wallet_path, &a.wallet_name, &a.wallet_hotkey)?;
    let dendrite =
        Arc::new(Dendrite::new(hotkey, &a.external_ip, a.transport).with_max_response_bytes(a.max_response_bytes));
    if !(0.0..=1.0).contains(&a.alpha) || !(0.0..=1.0).contains(&a.burn_fraction) {
        anyhow::bail!("--alpha and --burn-fraction must be between 0 and 1");
    }
    let postval = a.s3_endpoint.as_ref().map(|endpoint| {
        let mut f = miid_validator::postval::FetchConfig {
            endpoint: Some(endpoint.clone()),
            bucket: a.s3_bucket.clone(),
            path_style: true,
            ..Default::default()
        };
        f.access_key = a.s3_access_key.clone();
        f.secret_key = a.s3_secret_key.clone();
        f
    });
    let batch = if a.no_waits {
        round::BatchPolicy::immediate(a.batch_size)
    } else {
        round::BatchPolicy { batch_size: a.batch_size, ..Default::default() }
    };
    let config = ValidatorConfig {
        generation: a.generation,
        sample_size: a.sample_size,
        batch,
        timeout: a.timeout,
        adaptive_timeout: !a.fixed_timeout,
        max_request_timeout: a.max_request_timeout,
        image_timeout_extension: a.image_timeout_extension,
        seeds: a.seeds,
        variation_count: a.variation_count,
        template_mode: a.template,
        image_dir: a.images.clone(),
        reveal_delay_s: a.reveal_delay,
        scoring: miid_scoring::round::RoundConfig {
            burn_fraction: a.burn_fraction,
            uav_grading: !a.no_uav_grading,
            ..Default::default()
        },
        alpha: a.alpha,
        min_allowed_weights: a.min_allowed_weights,
        max_weight_limit: a.max_weight_limit,
        min_round_secs: a.min_round_secs,
        post_round_sleep_secs: a.post_round_sleep,
        seed: a.seed,
        reputation_source: a.reputation.clone(),
        geocoder: a.nominatim.clone().map(|n| (n, a.photon.clone(), !a.no_rate_limit)),
        beacon: a.beacon.clone(),
        postval,
        postval_wait: std::time::Duration::from_secs_f64(a.postval_wait.max(0.0)),
        upload: a.upload.clone(),
        reset_scores_on_start: a.reset_scores_on_start,
        crash_after: a.crash_after.map(|p| (p, a.crash_round)),
        ..ValidatorConfig::default()
    };
    let mut v = Validator::open(chain, dendrite, config, &a.state_dir).await?;
    tracing::info!(state_dir = %a.state_dir.display(), completed = v.state().rounds_completed, "validator state loaded");
    let reports = v.run(a.rounds, false).await?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs_f64(a.drain_postval.max(0.0));
    while !v.state().pending_postval.is_empty() && std::time::Instant::now() < deadline {
        v.run_due_postval().await?;
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    for r in &reports {
        println!("{}", serde_json::to_string(r)?);
    }
    Ok(())
}

/// `validator-sim bench-rounds`: whole rounds against instant loopback miners.
async fn bench_rounds_command(
    miners: usize,
    seconds: f64,
    seeds: usize,
    nominatim: Option<String>,
) -> anyhow::Result<String> {
    use miid_validator::loopback::{Behaviour, spawn};
    use miid_validator::runner::{Validator, ValidatorConfig};
    if !(seconds.is_finite() && seconds > 0.0) || miners == 0 {
        anyhow::bail!("--seconds must be positive and --miners at least 1");
    }
    let hotkey = miid_protocol::Hotkey::from_uri("//BenchValidator")?;
    let stand_ins = spawn(&hotkey, &vec![Behaviour::Instant; miners]).await?;
    let chain = Arc::new(SnapshotChain::from_metagraph(stand_ins.metagraph.clone()));
    let dendrite = Arc::new(Dendrite::new(hotkey, "127.0.0.1", Scheme::V10));
    let dir = tempfile::tempdir()?;
    let config = ValidatorConfig {
        sample_size: miners,
        batch: round::BatchPolicy::immediate(150),
        timeout: 30.0,
        adaptive_timeout: false,
        seeds,
        min_round_secs: 0.0,
        post_round_sleep_secs: 0.0,
        seed: Some(1),
        geocoder: nominatim.clone().map(|n| (n, "http://127.0.0.1:9".to_owned(), false)),
        ..ValidatorConfig::default()
    };
    let mut v = Validator::open(chain, dendrite, config, dir.path()).await?;
    let start = std::time::Instant::now();
    let (mut n, mut query, mut score, mut answered) = (0u64, 0.0, 0.0, 0usize);
    while start.elapsed().as_secs_f64() < seconds {
        let r = v.run_round().await?;
        n += 1;
        query += r.query_secs;
        score += r.score_secs;
        answered += r.answered;
    }
    let secs = start.elapsed().as_secs_f64();
    Ok(format!(
        "{miners} loopback miners, {seeds} seeds/round, geocoder {}: {n} rounds in {secs:.1} s = {:.1} rounds/min \
         (per round: query {:.3} s, scoring {:.3} s, rest {:.3} s; {:.1} answers/round)",
        nominatim.as_deref().unwrap_or("none"),
        n as f64 * 60.0 / secs,
        query / n as f64,
        score / n as f64,
        (secs - query - score) / n as f64,
        answered as f64 / n as f64
    ))
}
