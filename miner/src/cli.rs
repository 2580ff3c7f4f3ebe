//! The `miner` command line. Flags follow the Bittensor CLI (`--wallet.name`, `--axon.port`,
//! ...) so an operator's existing scripts and habits carry over.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};

use miid_chain::{Admission, AdmissionMode, Chain, SnapshotChain};
use miid_protocol::wallet;

use crate::engine::SimpleEngine;
use crate::{Axon, AxonConfig, Forwarder};

#[derive(Debug, Parser)]
#[command(
    name = "miner",
    version,
    about = "MIID (Bittensor subnet 54) miner: answers IdentitySynapse requests from validators",
    long_about = "MIID (Bittensor subnet 54) miner.\n\nWith no subcommand, runs the axon in the foreground until SIGINT/SIGTERM. \
Started with only a wallet and --metagraph it answers R1 name/DOB/address queries with its default engine; \
image requests need S3, drand and model weights, and without them are answered with no submissions (logged at start)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Hotkey files in the bittensor-wallet format.
    #[command(subcommand)]
    Wallet(WalletCommand),
    /// Timelock encryption to a drand round.
    #[command(subcommand)]
    Tlock(TlockCommand),
    /// Pre-flight checks (config, wallet, port, models, S3, drand, clock, chain): a ✓/✗ checklist.
    Doctor(Box<crate::doctor::DoctorArgs>),
    /// Score the default engine's answers on the reference rounds (offline) and time them.
    Bench(crate::bench::BenchArgs),
    /// Language models: download weights (explicit only), try one on query templates.
    #[command(subcommand)]
    Models(crate::llm::commands::ModelsCommand),
}

#[derive(Debug, Subcommand)]
pub enum TlockCommand {
    /// Encrypt stdin to round R of the beacon at URL; the ciphertext goes to stdout.
    Encrypt {
        /// The drand round whose signature will open the ciphertext.
        #[arg(long)]
        round: u64,
        /// Base URL of a drand HTTP API (its /info gives the chain's public key), e.g.
        /// `https://api.drand.sh/52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971`, or a drand-mock.
        #[arg(long)]
        beacon: String,
        /// mainnet: the bittensor_drand envelope MIID validators decrypt; age: drand's tlock
        /// format, ASCII-armored as drand's tools write it.
        #[arg(long, value_enum, default_value = "mainnet")]
        format: TlockFormat,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum TlockFormat {
    Mainnet,
    Age,
}

/// Runs a tlock subcommand.
pub async fn tlock_command(cmd: TlockCommand) -> anyhow::Result<()> {
    use std::io::{Read, Write};
    match cmd {
        TlockCommand::Encrypt { round, beacon, format } => {
            let client = miid_tlock::client::Client::connect(&beacon, None)
                .await
                .with_context(|| format!("cannot read the chain info of the drand beacon at {beacon}"))?;
            let mut plaintext = Vec::new();
            std::io::stdin().read_to_end(&mut plaintext).context("reading plaintext from stdin")?;
            let format = match format {
                TlockFormat::Mainnet => miid_tlock::Format::Mainnet,
                TlockFormat::Age => miid_tlock::Format::Age { armor: true },
            };
            let ct = miid_tlock::encrypt(format, &client.chain_key(), round, &plaintext, &mut rand::rng())?;
            let mut out = std::io::stdout().lock();
            out.write_all(&ct)?;
            out.flush()?;
        }
    }
    Ok(())
}

#[derive(Debug, Subcommand)]
pub enum WalletCommand {
    /// Print the hotkey's SS58 address (first line) and where it was read from.
    Show(WalletArgs),
    /// Create a new unencrypted hotkey in the bittensor-wallet file format.
    NewHotkey {
        #[command(flatten)]
        wallet: WalletArgs,
        /// Replace an existing hotkey file.
        #[arg(long)]
        overwrite: bool,
    },
}

#[derive(Debug, Clone, Args)]
pub struct WalletArgs {
    /// Wallet (coldkey) name.
    #[arg(long = "wallet.name", default_value = "default", env = "BT_WALLET_NAME")]
    pub name: String,
    /// Hotkey name inside the wallet.
    #[arg(long = "wallet.hotkey", default_value = "default", env = "BT_WALLET_HOTKEY")]
    pub hotkey: String,
    /// Directory holding wallets.
    #[arg(long = "wallet.path", default_value = "~/.bittensor/wallets", env = "BT_WALLET_PATH")]
    pub path: PathBuf,
}

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub wallet: WalletArgs,
    /// Subnet uid.
    #[arg(long, default_value_t = 54)]
    pub netuid: u16,
    /// Chain endpoint: finney, test, local, or a ws(s):// URL. Ignored with --metagraph.
    #[arg(long = "subtensor.network", default_value = "finney")]
    pub network: String,
    /// Run against a metagraph snapshot file instead of a chain (local runs, testnets).
    #[arg(long)]
    pub metagraph: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long = "axon.ip", default_value = "0.0.0.0")]
    pub axon_ip: String,
    /// Port to listen on (0 picks a free one; the chosen address is printed).
    #[arg(long = "axon.port", default_value_t = 8091)]
    pub axon_port: u16,
    /// IP announced to validators (default: the listen address, or 127.0.0.1 when listening on all interfaces).
    #[arg(long = "axon.external_ip")]
    pub external_ip: Option<String>,
    /// Port announced to validators (default: the bound port).
    #[arg(long = "axon.external_port")]
    pub external_port: Option<u16>,
    /// Largest accepted request body in bytes.
    #[arg(long = "axon.max_body_bytes", default_value_t = 64 * 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Requests accepted per caller hotkey per minute (0 = unlimited).
    #[arg(long = "axon.rate_limit", default_value_t = 30)]
    pub rate_limit: usize,
    /// Requests worked on at once; the others wait, highest stake first.
    #[arg(long = "axon.work_slots", default_value_t = 2)]
    pub work_slots: usize,
    /// Who may query: `whitelist` (the reference's validator list; default on a chain) or
    /// `open` (registered + validator permit + min stake; default with --metagraph).
    #[arg(long = "blacklist.mode")]
    pub blacklist_mode: Option<AdmissionMode>,
    /// Comma-separated validator hotkeys replacing the default whitelist.
    #[arg(long = "blacklist.whitelist", value_delimiter = ',')]
    pub whitelist: Option<Vec<String>>,
    /// Minimum caller stake in TAO.
    #[arg(long = "blacklist.min_stake", default_value_t = 0.0)]
    pub min_stake: f64,
    /// Whitelist mode: also require the caller to hold a validator permit.
    #[arg(long = "blacklist.force_validator_permit")]
    pub force_validator_permit: bool,
    /// Whitelist mode: also require the caller to be registered on the subnet.
    #[arg(long = "blacklist.require_registered")]
    pub require_registered: bool,
    #[command(flatten)]
    pub chain: crate::node::ChainArgs,
    /// OpenAI-compatible endpoint (`http://HOST:PORT/v1`) asked about query templates the
    /// parser is unsure of. Without it the rules parse alone answers.
    #[arg(long = "llm.url")]
    pub llm_url: Option<String>,
    /// Model name sent to --llm.url.
    #[arg(long = "llm.model", default_value = "default")]
    pub llm_model: String,
    /// Bearer token for --llm.url.
    #[arg(long = "llm.api_key", env = "MIID_LLM_API_KEY", hide_env_values = true)]
    pub llm_api_key: Option<String>,
    /// A Nominatim-compatible geocoder (`https://nominatim.openstreetmap.org`, or a local one)
    /// that confirms addresses before they are sent (one request per second, cached on disk).
    #[arg(long = "nominatim.url")]
    pub nominatim_url: Option<String>,
    /// The geocoder cache file for --nominatim.url.
    #[arg(long = "nominatim.cache", default_value = "miner-geocoder-cache.json")]
    pub nominatim_cache: PathBuf,
    /// A local GGUF model (llama family, byte-level BPE) asked instead of --llm.url.
    #[arg(long = "llm.gguf")]
    pub llm_gguf: Option<PathBuf>,
    /// Most time the model may take per request, in seconds (the answer never waits longer).
    #[arg(long = "llm.budget_s", default_value_t = 20.0)]
    pub llm_budget_s: f64,
    /// Face-image task: editor, identity gate, drand beacon, S3.
    #[command(flatten)]
    pub images: crate::images::ImageArgs,
}

impl RunArgs {
    /// The admission policy these flags describe.
    pub fn admission(&self) -> anyhow::Result<Admission> {
        let mode = self.blacklist_mode.unwrap_or(if self.metagraph.is_some() {
            AdmissionMode::Open
        } else {
            AdmissionMode::Whitelist
        });
        let mut a = match mode {
            AdmissionMode::Open => Admission::open(self.min_stake),
            AdmissionMode::Whitelist => Admission {
                require_permit: self.force_validator_permit,
                require_registered: self.require_registered,
                min_stake: self.min_stake,
                ..Admission::default()
            },
        };
        if let Some(list) = &self.whitelist {
            for k in list {
                miid_protocol::PublicKey::from_ss58(k).with_context(|| format!("--blacklist.whitelist entry {k:?}"))?;
            }
            a.whitelist = list.iter().cloned().collect();
        }
        Ok(a)
    }
}

/// Loads the hotkey named by the wallet flags.
pub fn load_hotkey(w: &WalletArgs) -> anyhow::Result<miid_protocol::Hotkey> {
    Ok(wallet::load_hotkey(&w.path, &w.name, &w.hotkey)?)
}

/// Runs a wallet subcommand.
pub fn wallet_command(cmd: WalletCommand) -> anyhow::Result<()> {
    match cmd {
        WalletCommand::Show(w) => {
            let key = load_hotkey(&w)?;
            println!("{}", key.ss58());
            println!("hotkey file: {}", wallet::hotkey_file(&w.path, &w.name, &w.hotkey).display());
        }
        WalletCommand::NewHotkey { wallet: w, overwrite } => {
            let new = wallet::create_hotkey(&w.path, &w.name, &w.hotkey, overwrite)?;
            println!("{}", new.hotkey.ss58());
            println!("hotkey file: {}", new.path.display());
            eprintln!("mnemonic (write it down; it recreates this hotkey): {}", new.phrase);
        }
    }
    Ok(())
}

/// Runs the miner until SIGINT/SIGTERM.
pub async fn run(args: RunArgs) -> anyhow::Result<()> {
    let hotkey = load_hotkey(&args.wallet)?;
    tracing::info!(hotkey = hotkey.ss58(), "wallet loaded");
    let chain: Arc<dyn Chain> = match &args.metagraph {
        Some(path) => Arc::new(SnapshotChain::from_file(path)?),
        None => crate::node::connect(&args).await?,
    };
    let metagraph = chain.metagraph().await?;
    if metagraph.netuid != args.netuid {
        tracing::warn!(
            snapshot = metagraph.netuid,
            flag = args.netuid,
            "metagraph netuid differs from --netuid; using the snapshot's"
        );
    }
    let Some(me) = metagraph.by_hotkey(hotkey.ss58()) else {
        bail!(crate::node::not_registered(&args, hotkey.ss58(), metagraph.netuid));
    };
    tracing::info!(uid = me.uid, netuid = metagraph.netuid, "registered");
    let admission = args.admission()?;
    tracing::info!(mode = ?admission.mode, whitelist = admission.whitelist.len(), min_stake = admission.min_stake, "admission");

    let listener = tokio::net::TcpListener::bind((args.axon_ip.as_str(), args.axon_port))
        .await
        .with_context(|| format!("cannot listen on {}:{}", args.axon_ip, args.axon_port))?;
    let local = listener.local_addr()?;
    let external_ip = crate::node::external_ip(&args, local)?;
    let external_port = args.external_port.unwrap_or(local.port());
    chain.serve_axon(&hotkey, &external_ip, external_port).await?;

    let config = AxonConfig {
        max_body_bytes: args.max_body_bytes,
        rate_limit: args.rate_limit,
        rate_window: Duration::from_secs(60),
        work_slots: args.work_slots,
        external_ip,
        external_port,
        ..AxonConfig::default()
    };
    let engine: Box<dyn crate::engine::TextEngine> = match &args.nominatim_url {
        Some(url) => {
            tracing::info!(url, cache = %args.nominatim_cache.display(), "addresses confirmed by a geocoder");
            let ua = format!("miid-miner/{}", env!("CARGO_PKG_VERSION"));
            let source = crate::nominatim::NominatimAddresses::new(url, &ua, Some(args.nominatim_cache.clone()));
            Box::new(crate::engine::RulesEngine::new(Box::new(source)))
        }
        None => {
            tracing::info!("text engine: rule-based default (names, DOBs, addresses, UAV)");
            Box::new(SimpleEngine)
        }
    };
    let mut forwarder = Forwarder::new(engine);
    if let Some(path) = &args.llm_gguf {
        let model = crate::llm::local::LocalModel::load(path, crate::llm::local::default_device())
            .with_context(|| format!("--llm.gguf {}", path.display()))?;
        let budget = Duration::from_secs_f64(args.llm_budget_s.max(0.0));
        tracing::info!(model = %path.display(), ?budget, "local LLM fallback for unclear query templates");
        forwarder = forwarder.with_model(Arc::new(model), budget);
    } else if let Some(url) = &args.llm_url {
        let budget = Duration::from_secs_f64(args.llm_budget_s.max(0.0));
        let client = crate::llm::openai::OpenAiClient::new(url, &args.llm_model, args.llm_api_key.clone(), budget);
        tracing::info!(url, model = %args.llm_model, ?budget, "LLM fallback for unclear query templates");
        forwarder = forwarder.with_model(Arc::new(client), budget);
    }
    match args.images.build(&hotkey).await? {
        Ok(pipeline) => {
            tracing::info!("{}", pipeline.describe());
            forwarder = forwarder.with_images(Arc::new(pipeline));
        }
        Err(missing) => tracing::warn!(
            "images: {missing}; image requests are answered with s3_submissions: [] (configure --images.editor, --s3.*, --drand.beacon)"
        ),
    }

    let axon = Axon::new(hotkey, admission, chain, Arc::new(forwarder), config);
    println!("axon listening on {local} as {}", axon.hotkey().ss58());
    axon.serve(listener, shutdown_signal()).await?;
    tracing::info!("miner stopped");
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutdown signal received");
}
