//! Starting the miner on a live chain: connecting to subtensor with retries, keeping the
//! metagraph synced for the blacklist, what address to publish, and the operator-facing
//! messages when something is missing (an unregistered hotkey names the `btcli` command).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;

use miid_chain::{Chain, Network, Retry, Subtensor, SyncedChain};

use crate::cli::RunArgs;

/// Subtensor's block time; `--metagraph.sync_blocks` counts in blocks like the Python SDK's
/// `epoch_length`-style settings.
pub const BLOCK_TIME: Duration = Duration::from_secs(12);

/// Flags for the chain connection (ignored with `--metagraph`).
#[derive(Debug, Clone, Args)]
pub struct ChainArgs {
    /// Connection attempts before giving up (at start and after a disconnect).
    #[arg(long = "subtensor.retries", default_value_t = 5)]
    pub retries: u32,
    /// First wait between attempts in milliseconds; it doubles each time.
    #[arg(long = "subtensor.backoff_ms", default_value_t = 1000)]
    pub backoff_ms: u64,
    /// Longest wait between attempts in milliseconds.
    #[arg(long = "subtensor.backoff_max_ms", default_value_t = 30_000)]
    pub backoff_max_ms: u64,
    /// How long one connection attempt may take, in seconds.
    #[arg(long = "subtensor.timeout_secs", default_value_t = 30)]
    pub timeout_secs: u64,
    /// Re-read the metagraph (for the blacklist and stake priority) every this many blocks (12 s each).
    #[arg(long = "metagraph.sync_blocks", default_value_t = 25)]
    pub sync_blocks: u64,
}

impl ChainArgs {
    pub fn retry(&self) -> Retry {
        Retry {
            attempts: self.retries.max(1),
            initial: Duration::from_millis(self.backoff_ms),
            max: Duration::from_millis(self.backoff_max_ms.max(self.backoff_ms)),
            timeout: Duration::from_secs(self.timeout_secs.max(1)),
        }
    }

    pub fn sync_every(&self) -> Duration {
        BLOCK_TIME * self.sync_blocks.max(1) as u32
    }
}

/// Connects to `--subtensor.network` (with the retry flags) and starts the metagraph sync.
pub async fn connect(args: &RunArgs) -> anyhow::Result<Arc<dyn Chain>> {
    let network: Network = args.network.parse()?;
    let retry = args.chain.retry();
    tracing::info!(network = %network, netuid = args.netuid, attempts = retry.attempts, "connecting to subtensor");
    let subtensor = Subtensor::connect(network.clone(), args.netuid, retry).await?;
    let synced = SyncedChain::start(Arc::new(subtensor), args.chain.sync_every(), retry)
        .await
        .with_context(|| format!("reading the metagraph of netuid {} from {network}", args.netuid))?;
    let status = synced.status();
    tracing::info!(
        block = status.block,
        neurons = status.neurons,
        every_blocks = args.chain.sync_blocks,
        "metagraph synced"
    );
    Ok(synced)
}

/// What to tell an operator whose hotkey is not in the metagraph.
pub fn not_registered(args: &RunArgs, hotkey: &str, netuid: u16) -> String {
    match &args.metagraph {
        Some(path) => format!(
            "hotkey {hotkey} is not registered in {} (netuid {netuid}); register it or add it to the snapshot",
            path.display()
        ),
        None => {
            let network = &args.network;
            format!(
                "hotkey {hotkey} is not registered on netuid {netuid} ({network}). Register it first (the coldkey pays the \
                 registration fee), then start the miner again:\n  btcli subnets register --netuid {netuid} --wallet.name {} \
                 --wallet.hotkey {} --network {network}",
                args.wallet.name, args.wallet.hotkey
            )
        }
    }
}

/// The IP to publish with `serve_axon` and echo in the axon headers.
///
/// With `--metagraph` (local runs) it defaults to the listen address, or 127.0.0.1 when listening
/// on all interfaces. On a chain validators dial what we publish, so a wildcard or loopback
/// address would make the miner unreachable: the operator must name the public IP.
pub fn external_ip(args: &RunArgs, local: SocketAddr) -> anyhow::Result<String> {
    if let Some(ip) = &args.external_ip {
        ip.parse::<std::net::IpAddr>()
            .with_context(|| format!("--axon.external_ip {ip:?} is not an IPv4 or IPv6 address"))?;
        return Ok(ip.clone());
    }
    if args.metagraph.is_some() {
        return Ok(if local.ip().is_unspecified() { "127.0.0.1".to_owned() } else { local.ip().to_string() });
    }
    if local.ip().is_unspecified() {
        bail!(
            "on a chain the miner publishes its address for validators: pass --axon.external_ip with this machine's \
             public IP (e.g. the output of `curl -4 ifconfig.me`), and open --axon.port {} in the firewall",
            local.port()
        );
    }
    if local.ip().is_loopback() && args.network != "local" && !args.network.starts_with("ws://127.") {
        tracing::warn!(ip = %local.ip(), "publishing a loopback address: validators elsewhere cannot reach it");
    }
    Ok(local.ip().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn args(extra: &[&str]) -> RunArgs {
        let mut v = vec!["miner"];
        v.extend_from_slice(extra);
        crate::cli::Cli::parse_from(v).run
    }

    #[test]
    fn unregistered_on_a_chain_names_the_btcli_command() {
        let a = args(&["--wallet.name", "cold", "--wallet.hotkey", "hot", "--netuid", "54"]);
        let msg = not_registered(&a, "5Abc", 54);
        assert!(
            msg.contains("btcli subnets register --netuid 54 --wallet.name cold --wallet.hotkey hot --network finney"),
            "{msg}"
        );
    }

    #[test]
    fn a_chain_needs_a_public_ip_when_listening_everywhere() {
        let any: SocketAddr = "0.0.0.0:8091".parse().unwrap();
        let err = external_ip(&args(&[]), any).unwrap_err().to_string();
        assert!(err.contains("--axon.external_ip"), "{err}");
        assert_eq!(external_ip(&args(&["--axon.external_ip", "203.0.113.9"]), any).unwrap(), "203.0.113.9");
        assert!(external_ip(&args(&["--axon.external_ip", "my.host"]), any).is_err());
        assert_eq!(external_ip(&args(&["--metagraph", "m.json"]), any).unwrap(), "127.0.0.1");
    }

    #[test]
    fn retry_flags_make_the_backoff() {
        let a = args(&["--subtensor.retries", "3", "--subtensor.backoff_ms", "50", "--metagraph.sync_blocks", "2"]);
        let r = a.chain.retry();
        assert_eq!(
            (r.attempts, r.initial, r.delay_before(2)),
            (3, Duration::from_millis(50), Duration::from_millis(100))
        );
        assert_eq!(a.chain.sync_every(), Duration::from_secs(24));
    }
}
