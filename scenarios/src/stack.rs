//! An in-process local testnet: miners with real axons on loopback, one validator hotkey, and
//! the metagraph that ties them together.

use std::sync::Arc;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use miid_chain::{Admission, AxonEndpoint, Metagraph, Neuron, SnapshotChain};
use miid_miner::engine::SimpleEngine;
use miid_miner::{Axon, AxonConfig, Forward, Forwarder};
use miid_protocol::Hotkey;

/// How to build a stack.
#[derive(Clone)]
pub struct StackConfig {
    pub miners: usize,
    /// The validator's stake (TAO); it always holds a permit.
    pub validator_stake: f64,
    /// Axon settings of every miner (ports are chosen by the OS).
    pub axon: AxonConfig,
    /// Admission of every miner (default: open — registered + permit).
    pub admission: Admission,
    /// The forward of every miner (default: the rule-based engine).
    pub forward: Option<Arc<dyn Forward>>,
}

impl Default for StackConfig {
    fn default() -> Self {
        StackConfig {
            miners: 2,
            validator_stake: 1000.0,
            axon: AxonConfig::default(),
            admission: Admission::open(0.0),
            forward: None,
        }
    }
}

/// A running miner.
pub struct RunningMiner {
    pub uid: u16,
    pub hotkey: Hotkey,
    pub port: u16,
    pub axon: Arc<Axon>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

/// The running stack.
pub struct LocalStack {
    pub validator: Hotkey,
    pub chain: Arc<SnapshotChain>,
    pub metagraph: Metagraph,
    pub miners: Vec<RunningMiner>,
}

impl LocalStack {
    /// Starts `config.miners` miners (hotkeys `//Miner1`, `//Miner2`, ...) with validator
    /// `//Validator` as uid 0.
    pub async fn start(config: StackConfig) -> anyhow::Result<Self> {
        let validator = Hotkey::from_uri("//Validator")?;
        let mut listeners = Vec::new();
        let mut neurons = vec![Neuron {
            uid: 0,
            hotkey: validator.ss58().to_owned(),
            coldkey: validator.ss58().to_owned(),
            stake: config.validator_stake,
            validator_permit: true,
            axon: AxonEndpoint { ip: "0.0.0.0".into(), port: 0 },
        }];
        for i in 1..=config.miners {
            let hotkey = Hotkey::from_uri(&format!("//Miner{i}"))?;
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let port = listener.local_addr()?.port();
            neurons.push(Neuron {
                uid: i as u16,
                hotkey: hotkey.ss58().to_owned(),
                coldkey: hotkey.ss58().to_owned(),
                stake: 0.0,
                validator_permit: false,
                axon: AxonEndpoint { ip: "127.0.0.1".into(), port },
            });
            listeners.push((i as u16, hotkey, listener, port));
        }
        let metagraph = Metagraph::new(54, 1, neurons).map_err(anyhow::Error::msg)?;
        let chain = Arc::new(SnapshotChain::from_metagraph(metagraph.clone()));
        let forward = config.forward.clone().unwrap_or_else(|| Arc::new(Forwarder::new(Box::new(SimpleEngine))));
        let mut miners = Vec::new();
        for (uid, hotkey, listener, port) in listeners {
            let axon_cfg = AxonConfig { external_ip: "127.0.0.1".into(), external_port: port, ..config.axon.clone() };
            let axon = Axon::new(hotkey.clone(), config.admission.clone(), chain.clone(), forward.clone(), axon_cfg);
            let (stop, stopped) = oneshot::channel::<()>();
            let task = tokio::spawn(axon.clone().serve(listener, async {
                let _ = stopped.await;
            }));
            miners.push(RunningMiner { uid, hotkey, port, axon, stop: Some(stop), task });
        }
        tracing::info!(miners = miners.len(), "local stack up");
        Ok(LocalStack { validator, chain, metagraph, miners })
    }

    /// Stops every miner and waits for their servers to finish.
    pub async fn shutdown(mut self) {
        for m in &mut self.miners {
            if let Some(stop) = m.stop.take() {
                let _ = stop.send(());
            }
        }
        for m in self.miners {
            let _ = m.task.await;
        }
    }
}
