//! An in-process local testnet: miners with real axons on loopback, one validator hotkey, the
//! metagraph that ties them together, and (optionally) the mocks — nominatim-mock, drand-mock,
//! s3-mock — each on its own loopback port.
//!
//! Everything that a fault can stop is a [`Server`]: a task serving one listener. Stopping drops
//! the listener (the port refuses connections); restarting binds the same port again and serves
//! the same state (the same axon, the same beacon key and clock, the same S3 data directory), as
//! a restarted process would.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use miid_chain::{Admission, AxonEndpoint, Metagraph, Neuron, SnapshotChain};
use miid_miner::engine::SimpleEngine;
use miid_miner::{Axon, AxonConfig, Forward, Forwarder};
use miid_protocol::Hotkey;

use crate::persona::{WireLayer, wire_layer};

/// Binds `127.0.0.1:port` (0 = any) with `SO_REUSEADDR`, so a restarted server gets its old
/// port back while the previous connections linger in TIME_WAIT.
pub async fn bind_loopback(port: u16) -> std::io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(SocketAddr::from(([127, 0, 0, 1], port)))?;
    socket.listen(1024)
}

/// How a task serving a port ended.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum TaskEnd {
    /// Still serving.
    Running,
    /// Stopped on request (shutdown or a fault).
    Stopped,
    /// Ended on its own: an I/O error or a panic.
    Crashed { detail: String },
}

/// One task serving one port.
pub struct Server {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), String>>>,
    /// Crashes seen so far (a crash is recorded when the server is stopped or checked).
    pub crashes: Vec<String>,
}

impl Server {
    /// Serves `router` on `listener` (with the peer address, which axons read).
    pub fn spawn_router(listener: TcpListener, router: Router) -> std::io::Result<Self> {
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let app = router.into_make_service_with_connect_info::<SocketAddr>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
                .map_err(|e| e.to_string())
        });
        Ok(Server { addr, stop: Some(stop), task: Some(task), crashes: Vec::new() })
    }

    /// Wraps a task that serves until `stop` fires.
    pub fn from_task(addr: SocketAddr, stop: oneshot::Sender<()>, task: JoinHandle<Result<(), String>>) -> Self {
        Server { addr, stop: Some(stop), task: Some(task), crashes: Vec::new() }
    }

    pub fn is_up(&self) -> bool {
        self.task.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Has the task ended without being asked to? Records it.
    pub async fn check(&mut self) -> TaskEnd {
        match &self.task {
            None => TaskEnd::Stopped,
            Some(t) if !t.is_finished() => TaskEnd::Running,
            Some(_) => {
                let t = self.task.take().expect("checked above");
                let detail = match t.await {
                    Ok(Ok(())) => "the server task ended on its own".to_owned(),
                    Ok(Err(e)) => e,
                    Err(e) => format!("the server task panicked: {e}"),
                };
                self.crashes.push(detail.clone());
                TaskEnd::Crashed { detail }
            }
        }
    }

    /// Stops serving and waits for the task (bounded: open keep-alive connections of clients
    /// are not waited for longer than a few seconds).
    pub async fn stop(&mut self) {
        if let TaskEnd::Crashed { .. } = self.check().await {
            return;
        }
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take() {
            match tokio::time::timeout(std::time::Duration::from_secs(3), &mut task).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(e))) => self.crashes.push(e),
                Ok(Err(e)) => self.crashes.push(format!("the server task panicked: {e}")),
                Err(_) => task.abort(),
            }
        }
    }
}

/// What one miner runs.
#[derive(Clone)]
pub struct MinerSetup {
    pub forward: Arc<dyn Forward>,
    pub layer: Arc<WireLayer>,
    /// The key the axon holds, when it is not the registered one (forged-signature persona).
    pub serving_key: Option<Hotkey>,
}

/// How to build a stack.
#[derive(Clone)]
pub struct StackConfig {
    /// Miners with the default forward, when `setups` is empty.
    pub miners: usize,
    /// One entry per miner (uid = index + 1); overrides `miners`.
    pub setups: Vec<MinerSetup>,
    /// The validator's stake (TAO); it always holds a permit.
    pub validator_stake: f64,
    /// Axon settings of every miner (ports are chosen by the OS).
    pub axon: AxonConfig,
    /// Admission of every miner (default: open — registered + permit).
    pub admission: Admission,
    /// The forward of every miner without a setup (default: the rule-based engine).
    pub forward: Option<Arc<dyn Forward>>,
}

impl Default for StackConfig {
    fn default() -> Self {
        StackConfig {
            miners: 2,
            setups: Vec::new(),
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
    /// The registered hotkey (what the metagraph lists).
    pub hotkey: Hotkey,
    pub port: u16,
    pub axon: Arc<Axon>,
    pub layer: Arc<WireLayer>,
    pub server: Server,
}

impl RunningMiner {
    fn router(&self) -> Router {
        self.axon.router().layer(axum::middleware::from_fn_with_state(self.layer.clone(), wire_layer))
    }

    /// Stops the miner's server: its port refuses connections.
    pub async fn kill(&mut self) {
        self.server.stop().await;
        tracing::info!(uid = self.uid, port = self.port, "miner killed");
    }

    /// Serves the same axon on the same port again.
    pub async fn restart(&mut self) -> std::io::Result<()> {
        if self.server.is_up() {
            return Ok(());
        }
        let listener = bind_loopback(self.port).await?;
        let crashes = std::mem::take(&mut self.server.crashes);
        self.server = Server::spawn_router(listener, self.router())?;
        self.server.crashes = crashes;
        tracing::info!(uid = self.uid, port = self.port, "miner restarted");
        Ok(())
    }
}

/// The running stack.
pub struct LocalStack {
    pub validator: Hotkey,
    pub chain: Arc<SnapshotChain>,
    pub metagraph: Metagraph,
    pub miners: Vec<RunningMiner>,
}

impl LocalStack {
    /// Starts the miners (hotkeys `//Miner1`, `//Miner2`, ...) with validator `//Validator` as
    /// uid 0.
    pub async fn start(config: StackConfig) -> anyhow::Result<Self> {
        let validator = Hotkey::from_uri("//Validator")?;
        let default_forward =
            config.forward.clone().unwrap_or_else(|| Arc::new(Forwarder::new(Box::new(SimpleEngine))));
        let setups: Vec<MinerSetup> = if config.setups.is_empty() {
            (0..config.miners)
                .map(|_| MinerSetup { forward: default_forward.clone(), layer: Arc::default(), serving_key: None })
                .collect()
        } else {
            config.setups.clone()
        };
        let mut listeners = Vec::new();
        let mut neurons = vec![Neuron {
            uid: 0,
            hotkey: validator.ss58().to_owned(),
            coldkey: validator.ss58().to_owned(),
            stake: config.validator_stake,
            validator_permit: true,
            axon: AxonEndpoint { ip: "0.0.0.0".into(), port: 0 },
        }];
        for (i, setup) in setups.into_iter().enumerate() {
            let uid = i as u16 + 1;
            let hotkey = Hotkey::from_uri(&format!("//Miner{uid}"))?;
            let listener = bind_loopback(0).await?;
            let port = listener.local_addr()?.port();
            neurons.push(Neuron {
                uid,
                hotkey: hotkey.ss58().to_owned(),
                coldkey: hotkey.ss58().to_owned(),
                stake: 0.0,
                validator_permit: false,
                axon: AxonEndpoint { ip: "127.0.0.1".into(), port },
            });
            listeners.push((uid, hotkey, listener, port, setup));
        }
        let metagraph = Metagraph::new(54, 1, neurons).map_err(anyhow::Error::msg)?;
        let chain = Arc::new(SnapshotChain::from_metagraph(metagraph.clone()));
        let mut miners = Vec::new();
        for (uid, hotkey, listener, port, setup) in listeners {
            let axon_cfg = AxonConfig { external_ip: "127.0.0.1".into(), external_port: port, ..config.axon.clone() };
            let key = setup.serving_key.clone().unwrap_or_else(|| hotkey.clone());
            let axon = Axon::new(key, config.admission.clone(), chain.clone(), setup.forward.clone(), axon_cfg);
            let layer = setup.layer.clone();
            let router = axon.router().layer(axum::middleware::from_fn_with_state(layer.clone(), wire_layer));
            let server = Server::spawn_router(listener, router)?;
            miners.push(RunningMiner { uid, hotkey, port, axon, layer, server });
        }
        tracing::info!(miners = miners.len(), "local stack up");
        Ok(LocalStack { validator, chain, metagraph, miners })
    }

    pub fn miner_mut(&mut self, uid: u16) -> Option<&mut RunningMiner> {
        self.miners.iter_mut().find(|m| m.uid == uid)
    }

    /// Stops every miner and waits for their servers to finish.
    pub async fn shutdown(mut self) {
        for m in &mut self.miners {
            m.server.stop().await;
        }
    }
}

/// The local services a scenario may start. Each keeps what a restart must preserve.
pub struct Services {
    pub nominatim: Option<NominatimService>,
    pub drand: Option<DrandService>,
    pub s3: Option<S3Service>,
    /// The fake OpenAI-compatible model server, started when an honest-llm persona needs it.
    pub llm: Option<crate::llm::FakeChatServer>,
}

/// nominatim-mock on loopback.
pub struct NominatimService {
    pub config: nominatim_mock::Config,
    pub addr: SocketAddr,
    running: Option<nominatim_mock::RunningMock>,
    pub crashes: Vec<String>,
}

impl NominatimService {
    pub async fn start() -> std::io::Result<Self> {
        // Street addresses are answered at house precision, so honest answers can score fully.
        let config = nominatim_mock::Config {
            street_precision: nominatim_mock::StreetPrecision::SynthesizeHouse { bbox_side_m: 8.0 },
            ..Default::default()
        };
        let listener = bind_loopback(0).await?;
        let addr = listener.local_addr()?;
        let running = nominatim_mock::spawn_on(listener, config.clone()).await?;
        Ok(NominatimService { config, addr, running: Some(running), crashes: Vec::new() })
    }
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
    pub fn is_up(&self) -> bool {
        self.running.is_some()
    }
    pub async fn stop(&mut self) {
        if let Some(r) = self.running.take()
            && let Err(e) = r.stop().await
        {
            self.crashes.push(e.to_string());
        }
    }
    pub async fn restart(&mut self) -> std::io::Result<()> {
        if self.running.is_none() {
            let listener = bind_loopback(self.addr.port()).await?;
            self.running = Some(nominatim_mock::spawn_on(listener, self.config.clone()).await?);
        }
        Ok(())
    }
}

/// drand-mock on loopback: the same beacon (key, genesis, clock) across restarts.
pub struct DrandService {
    pub mock: Arc<drand_mock::DrandMock>,
    pub manual: Option<drand_mock::ManualClock>,
    pub server: Server,
}

impl DrandService {
    pub async fn start(period: u64, fast_forward: bool) -> anyhow::Result<Self> {
        let (clock, manual) = if fast_forward {
            let (c, m) = drand_mock::Clock::manual(
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs(),
            );
            (c, Some(m))
        } else {
            (drand_mock::Clock::System, None)
        };
        let mock =
            Arc::new(drand_mock::DrandMock::new(drand_mock::MockConfig { period, clock, ..Default::default() })?);
        let listener = bind_loopback(0).await?;
        let server = Server::spawn_router(listener, mock.router())?;
        Ok(DrandService { mock, manual, server })
    }
    pub fn url(&self) -> String {
        format!("http://{}", self.server.addr)
    }
    pub async fn restart(&mut self) -> std::io::Result<()> {
        if !self.server.is_up() {
            let crashes = std::mem::take(&mut self.server.crashes);
            self.server = Server::spawn_router(bind_loopback(self.server.addr.port()).await?, self.mock.router())?;
            self.server.crashes = crashes;
        }
        Ok(())
    }
    /// Moves a manual clock forward by `n` beacon rounds; returns the current round.
    pub fn advance_rounds(&self, n: u64) -> u64 {
        if let Some(m) = &self.manual {
            let target = self.mock.current_round().saturating_add(n);
            m.set(self.mock.schedule().time_of(target.max(1)));
        }
        self.mock.current_round()
    }
}

/// s3-mock on loopback with a public-write bucket; the data directory survives restarts.
pub struct S3Service {
    pub config: s3_mock::Config,
    pub addr: SocketAddr,
    running: Option<s3_mock::S3Mock>,
    _dir: Option<tempfile::TempDir>,
}

/// The bucket miners submit to, as on mainnet (anonymous PUT).
pub const SUBMISSION_BUCKET: &str = "yanez-miid-sn54";

impl S3Service {
    pub async fn start(data_dir: Option<PathBuf>) -> anyhow::Result<Self> {
        let (dir, tmp) = match data_dir {
            Some(d) => (d, None),
            None => {
                let t = tempfile::tempdir()?;
                (t.path().to_owned(), Some(t))
            }
        };
        let config = s3_mock::Config {
            data_dir: dir,
            access_key: "miid-local".into(),
            secret_key: "miid-local-secret".into(),
            public_write: vec![SUBMISSION_BUCKET.into()],
            ..Default::default()
        };
        let listener = bind_loopback(0).await?;
        let addr = listener.local_addr()?;
        let running = s3_mock::start(listener, config.clone()).await?;
        Ok(S3Service { config, addr, running: Some(running), _dir: tmp })
    }
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }
    pub fn is_up(&self) -> bool {
        self.running.is_some()
    }
    pub async fn stop(&mut self) {
        if let Some(r) = self.running.take() {
            r.shutdown().await;
        }
    }
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        if self.running.is_none() {
            let listener = bind_loopback(self.addr.port()).await?;
            self.running = Some(s3_mock::start(listener, self.config.clone()).await?);
        }
        Ok(())
    }
}
