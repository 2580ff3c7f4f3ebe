//! `miner doctor`: pre-flight checks an operator runs before (or beside) the miner. Each check
//! prints ✓ or ✗ (or `-` when it does not apply) with what was found, and for every ✗ what to do.
//! Exit status 1 when any check fails, so it can gate a deploy script or a systemd
//! `ExecStartPre=`.
//!
//! Checks: configuration, wallet file, axon port (free and reachable on loopback, or already
//! served by a miner whose `/health` answers), model files, S3 (a HEAD of the bucket, signed when
//! keys are configured), the drand beacon (chain info and latest round), clock skew (local time
//! vs the beacon's round schedule and the HTTP `Date` header), and the chain (registration and
//! the published axon) through a metagraph snapshot or subtensor.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::Args;
use rusty_s3::S3Action;

use miid_chain::{Chain, Metagraph, Network, SnapshotChain, Subtensor};

use crate::cli::RunArgs;
use crate::upload::UploadConfig;

/// drand's mainnet quicknet chain, the beacon MIID validators decrypt with.
pub const QUICKNET_URL: &str = "https://api.drand.sh/52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971";

/// Clock skew at or above this fails the check: submissions are encrypted to a future round and
/// validators open them at the round's time, so a clock off by a few rounds misses the window.
pub const MAX_SKEW_SECS: i64 = 5;

#[derive(Debug, Clone, Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// Model files the image pipeline loads (repeat the flag for each file).
    #[arg(long = "model.path")]
    pub models: Vec<PathBuf>,
    /// Seconds each network check may take.
    #[arg(long = "doctor.timeout_secs", default_value_t = 10)]
    pub check_timeout_secs: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    Fail,
    Skip,
}

/// One line of the checklist.
#[derive(Debug, Clone)]
pub struct Check {
    pub name: &'static str,
    pub outcome: Outcome,
    pub detail: String,
    /// What to do about a failure.
    pub fix: Option<String>,
}

impl Check {
    fn pass(name: &'static str, detail: impl Into<String>) -> Self {
        Check { name, outcome: Outcome::Pass, detail: detail.into(), fix: None }
    }
    fn fail(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Check { name, outcome: Outcome::Fail, detail: detail.into(), fix: Some(fix.into()) }
    }
    fn skip(name: &'static str, detail: impl Into<String>) -> Self {
        Check { name, outcome: Outcome::Skip, detail: detail.into(), fix: None }
    }
}

/// Runs every check (independent ones do not stop at a failure).
pub async fn run_checks(args: &DoctorArgs) -> Vec<Check> {
    let timeout = Duration::from_secs(args.check_timeout_secs.max(1));
    let mut checks = vec![check_config(&args.run), check_wallet(&args.run)];
    checks.push(check_port(&args.run, timeout).await);
    // The image task's own model flags count too: the doctor checks what the miner will load.
    let images = &args.run.images;
    let models: Vec<PathBuf> =
        args.models.iter().chain(images.identity_model.iter()).chain(images.diffusion_model.iter()).cloned().collect();
    checks.push(check_models(&models));
    checks.push(check_s3(&args.run.images.s3, timeout).await);
    // The beacon the image task locks to (`--drand.beacon`), quicknet when none is given.
    let drand_url = args.run.images.drand_beacon.as_deref().unwrap_or(QUICKNET_URL);
    let (drand, clock) = check_drand_and_clock(drand_url, timeout).await;
    checks.push(drand);
    checks.push(clock);
    checks.push(check_chain(&args.run, timeout).await);
    checks
}

/// The checklist as printed.
pub fn render(checks: &[Check]) -> String {
    let mut out = String::from("miner doctor: MIID miner pre-flight checks\n");
    for c in checks {
        let mark = match c.outcome {
            Outcome::Pass => "✓",
            Outcome::Fail => "✗",
            Outcome::Skip => "-",
        };
        let _ = writeln!(out, "{mark} {:<13} {}", c.name, c.detail);
        if let Some(fix) = &c.fix {
            let _ = writeln!(out, "    fix: {fix}");
        }
    }
    let failed = checks.iter().filter(|c| c.outcome == Outcome::Fail).count();
    let passed = checks.iter().filter(|c| c.outcome == Outcome::Pass).count();
    let _ = writeln!(out, "{passed} passed, {failed} failed");
    out
}

/// `miner doctor`: prints the checklist; an error (exit 1) when a check failed.
pub async fn doctor_command(args: DoctorArgs) -> anyhow::Result<()> {
    let checks = run_checks(&args).await;
    print!("{}", render(&checks));
    let failed = checks.iter().filter(|c| c.outcome == Outcome::Fail).count();
    if failed > 0 {
        anyhow::bail!("{failed} check(s) failed");
    }
    Ok(())
}

fn check_config(run: &RunArgs) -> Check {
    const NAME: &str = "configuration";
    if let Err(e) = run.admission() {
        return Check::fail(NAME, format!("{e:#}"), "fix the --blacklist.* flags");
    }
    let target = match &run.metagraph {
        Some(p) => format!("metagraph snapshot {}", p.display()),
        None => match run.network.parse::<Network>() {
            Ok(n) => n.to_string(),
            Err(e) => {
                return Check::fail(NAME, e.to_string(), "use --subtensor.network finney|test|local|ws(s)://HOST:PORT");
            }
        },
    };
    if run.metagraph.is_none()
        && run.external_ip.is_none()
        && run.axon_ip.parse().is_ok_and(|ip: std::net::IpAddr| ip.is_unspecified())
    {
        return Check::fail(
            NAME,
            format!(
                "netuid {} on {target}, but no --axon.external_ip: validators would not know where to reach you",
                run.netuid
            ),
            "pass --axon.external_ip with this machine's public IP (e.g. `curl -4 ifconfig.me`)",
        );
    }
    if let Some(ip) = &run.external_ip
        && ip.parse::<std::net::IpAddr>().is_err()
    {
        return Check::fail(
            NAME,
            format!("--axon.external_ip {ip:?} is not an IP address"),
            "give an IPv4 or IPv6 address",
        );
    }
    let mode = run.admission().map(|a| format!("{:?}", a.mode).to_lowercase()).unwrap_or_default();
    Check::pass(NAME, format!("netuid {} on {target}; admission {mode}", run.netuid))
}

fn check_wallet(run: &RunArgs) -> Check {
    const NAME: &str = "wallet";
    let w = &run.wallet;
    let file = miid_protocol::wallet::hotkey_file(&w.path, &w.name, &w.hotkey);
    match crate::cli::load_hotkey(w) {
        Ok(key) => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                if let Ok(meta) = std::fs::metadata(&file)
                    && meta.permissions().mode() & 0o077 != 0
                {
                    return Check::fail(
                        NAME,
                        format!("hotkey {} in {} is readable by other users", key.ss58(), file.display()),
                        format!("chmod 600 {}", file.display()),
                    );
                }
            }
            Check::pass(NAME, format!("hotkey {} ({})", key.ss58(), file.display()))
        }
        Err(e) => Check::fail(
            NAME,
            format!("{e:#}"),
            format!(
                "create it with `btcli wallet new_hotkey --wallet.name {} --wallet.hotkey {}` (or `miner wallet new-hotkey`), \
                 or point --wallet.path/--wallet.name/--wallet.hotkey at the existing one",
                w.name, w.hotkey
            ),
        ),
    }
}

async fn check_port(run: &RunArgs, timeout: Duration) -> Check {
    const NAME: &str = "axon port";
    let port = run.axon_port;
    match tokio::net::TcpListener::bind((run.axon_ip.as_str(), port)).await {
        Ok(listener) => {
            let bound = listener.local_addr().map(|a| a.port()).unwrap_or(port);
            let accept = tokio::spawn(async move { listener.accept().await.is_ok() });
            let dial = tokio::time::timeout(timeout, tokio::net::TcpStream::connect(("127.0.0.1", bound))).await;
            let accepted = tokio::time::timeout(timeout, accept).await.is_ok_and(|r| r.unwrap_or(false));
            if matches!(dial, Ok(Ok(_))) && accepted {
                Check::pass(
                    NAME,
                    format!(
                        "{}:{bound} is free and reachable on loopback (open it in your firewall for validators)",
                        run.axon_ip
                    ),
                )
            } else {
                Check::fail(
                    NAME,
                    format!("{}:{bound} binds but a loopback connection does not arrive", run.axon_ip),
                    "listen on 0.0.0.0 or 127.0.0.1 (--axon.ip), and check local firewall rules",
                )
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            let url = format!("http://127.0.0.1:{port}/health");
            let health = async {
                let resp = reqwest::Client::new().get(&url).timeout(timeout).send().await.ok()?;
                resp.json::<serde_json::Value>().await.ok()
            }
            .await;
            match health.as_ref().and_then(|h| h["hotkey"].as_str()) {
                Some(hk) => Check::pass(
                    NAME,
                    format!(
                        "{port} is served by a running miner (hotkey {hk}, status {})",
                        health.as_ref().unwrap()["status"]
                    ),
                ),
                None => Check::fail(
                    NAME,
                    format!("port {port} is in use by another program"),
                    format!("stop it (`ss -ltnp 'sport = :{port}'` shows which) or choose another --axon.port"),
                ),
            }
        }
        Err(e) => Check::fail(
            NAME,
            format!("cannot listen on {}:{port}: {e}", run.axon_ip),
            "choose another --axon.ip/--axon.port",
        ),
    }
}

fn check_models(models: &[PathBuf]) -> Check {
    const NAME: &str = "model files";
    if models.is_empty() {
        return Check::skip(NAME, "none given (--model.path, --images.identity_model, --images.diffusion_model)");
    }
    let mut found = Vec::new();
    for p in models {
        match std::fs::File::open(p).and_then(|f| f.metadata()) {
            Ok(m) if m.is_file() && m.len() > 0 => found.push(format!("{} ({} bytes)", p.display(), m.len())),
            // --images.diffusion_model is a diffusers folder (vae/, unet/, text_encoder/, tokenizer/).
            Ok(m) if m.is_dir() => found.push(format!("{} (folder)", p.display())),
            Ok(m) if m.is_file() => {
                return Check::fail(NAME, format!("{} is empty", p.display()), "download the model again");
            }
            Ok(_) => {
                return Check::fail(
                    NAME,
                    format!("{} is not a file", p.display()),
                    "give the path of the weights file",
                );
            }
            Err(e) => {
                return Check::fail(
                    NAME,
                    format!("{}: {e}", p.display()),
                    "download the model files (see README \"Run on mainnet\") and check the path and permissions",
                );
            }
        }
    }
    Check::pass(NAME, found.join(", "))
}

async fn check_s3(cfg: &UploadConfig, timeout: Duration) -> Check {
    const NAME: &str = "S3";
    if !cfg.enabled {
        return Check::skip(NAME, "uploads disabled (--s3.enabled false / MIID_USE_S3=false)");
    }
    let endpoint = cfg.endpoint_url();
    let bucket = match url::Url::parse(&endpoint).map_err(|e| e.to_string()).and_then(|u| {
        let style = if cfg.path_style { rusty_s3::UrlStyle::Path } else { rusty_s3::UrlStyle::VirtualHost };
        rusty_s3::Bucket::new(u, style, cfg.bucket.clone(), cfg.region.clone()).map_err(|e| e.to_string())
    }) {
        Ok(b) => b,
        Err(e) => return Check::fail(NAME, format!("endpoint {endpoint}: {e}"), "fix --s3.endpoint / --s3.bucket"),
    };
    let creds = match (&cfg.access_key, &cfg.secret_key) {
        (Some(a), Some(s)) => Some(rusty_s3::Credentials::new(a.clone(), s.clone())),
        (Some(_), None) => {
            return Check::fail(NAME, "an access key without a secret key", "set --s3.secret_key (MIID_S3_SECRET_KEY)");
        }
        _ => None,
    };
    let url = bucket.head_bucket(creds.as_ref()).sign(Duration::from_secs(300));
    let where_ = format!("bucket {} at {endpoint}", cfg.bucket);
    match reqwest::Client::new().head(url).timeout(timeout).send().await {
        Err(e) => Check::fail(NAME, format!("{where_}: {e}"), "check --s3.endpoint and the network path to it"),
        Ok(r) => {
            let s = r.status().as_u16();
            match (s, creds.is_some()) {
                (200..=299, true) => Check::pass(NAME, format!("{where_}: credentials accepted (HEAD {s})")),
                (200..=299, false) => Check::pass(NAME, format!("{where_}: reachable (HEAD {s}, anonymous)")),
                (404, _) => Check::fail(
                    NAME,
                    format!("{where_}: no such bucket (HEAD 404)"),
                    "create the bucket or fix --s3.bucket",
                ),
                (401 | 403, true) => Check::fail(
                    NAME,
                    format!("{where_}: credentials refused (HEAD {s})"),
                    "check --s3.access_key/--s3.secret_key (MIID_S3_ACCESS_KEY/MIID_S3_SECRET_KEY), the region and the bucket policy",
                ),
                // The subnet's bucket takes anonymous PUTs of submission keys but refuses to be
                // listed: an S3 answer at all means the endpoint is there.
                (401 | 403, false) => {
                    Check::pass(NAME, format!("{where_}: reachable (HEAD {s}; anonymous: uploads are PUT-only)"))
                }
                _ => Check::fail(NAME, format!("{where_}: HEAD answered {s}"), "check the endpoint is an S3 service"),
            }
        }
    }
}

async fn check_drand_and_clock(url: &str, timeout: Duration) -> (Check, Check) {
    const DRAND: &str = "drand";
    const CLOCK: &str = "clock";
    let client = match tokio::time::timeout(timeout, miid_tlock::client::Client::connect(url, None)).await {
        Ok(Ok(c)) => c.with_request_timeout(timeout),
        Ok(Err(e)) => {
            return (
                Check::fail(
                    DRAND,
                    format!("{url}: {e}"),
                    "check --drand.beacon (MIID_DRAND_BEACON) and outbound HTTPS",
                ),
                Check::skip(CLOCK, "needs the drand beacon"),
            );
        }
        Err(_) => {
            return (
                Check::fail(
                    DRAND,
                    format!("{url}: no answer within {} s", timeout.as_secs()),
                    "check --drand.url and outbound HTTPS",
                ),
                Check::skip(CLOCK, "needs the drand beacon"),
            );
        }
    };
    let info = client.info().clone();
    let latest = match client.latest().await {
        Ok(b) => b,
        Err(e) => {
            return (
                Check::fail(
                    DRAND,
                    format!("{url}: chain info read, but the latest beacon failed: {e}"),
                    "try again; if it persists use another drand relay",
                ),
                Check::skip(CLOCK, "needs the drand beacon"),
            );
        }
    };
    let drand = Check::pass(
        DRAND,
        format!(
            "{url}: chain {}…, {}, period {} s, latest round {} (signature verified)",
            &hex::encode(info.hash)[..12],
            info.scheme_id,
            info.period,
            latest.round
        ),
    );
    let now = unix_now();
    let expected = info.round_at(now);
    let skew_rounds = latest.round as i64 - expected as i64;
    let skew_secs = skew_rounds * i64::from(info.period);
    let date_skew = http_date_skew(url, timeout).await;
    let mut detail = format!("local time vs beacon schedule: {skew_rounds:+} round(s) (≈{skew_secs:+} s)");
    if let Some(d) = date_skew {
        let _ = write!(detail, "; vs the beacon's HTTP Date: {d:+} s");
    }
    let worst = skew_secs.abs().max(date_skew.map_or(0, i64::abs));
    let clock = if worst >= MAX_SKEW_SECS.max(2 * i64::from(info.period)) {
        Check::fail(CLOCK, detail, "synchronise the clock: `timedatectl set-ntp true` (systemd-timesyncd) or chrony")
    } else {
        Check::pass(CLOCK, detail)
    };
    (drand, clock)
}

/// Seconds the beacon server's `Date` header is ahead of local time (1 s resolution).
async fn http_date_skew(url: &str, timeout: Duration) -> Option<i64> {
    let info = format!("{}/info", url.trim_end_matches('/'));
    let resp = reqwest::Client::new().get(info).timeout(timeout).send().await.ok()?;
    let date = resp.headers().get(reqwest::header::DATE)?.to_str().ok()?;
    let server = httpdate::parse_http_date(date).ok()?;
    let server = server.duration_since(UNIX_EPOCH).ok()?.as_secs() as i64;
    Some(server - unix_now())
}

async fn check_chain(run: &RunArgs, timeout: Duration) -> Check {
    const NAME: &str = "chain";
    let hotkey = crate::cli::load_hotkey(&run.wallet).ok();
    let (m, source): (Metagraph, String) = match &run.metagraph {
        Some(p) => match SnapshotChain::from_file(p) {
            Ok(c) => match c.metagraph().await {
                Ok(m) => (m, format!("snapshot {}", p.display())),
                Err(e) => return Check::fail(NAME, e.to_string(), "fix the snapshot file (format in DESIGN.md)"),
            },
            Err(e) => return Check::fail(NAME, e.to_string(), "fix the --metagraph path or the file's format"),
        },
        None => {
            let Ok(network) = run.network.parse::<Network>() else {
                return Check::skip(NAME, "no valid --subtensor.network");
            };
            let retry = miid_chain::Retry { attempts: 2, timeout, ..run.chain.retry() };
            let chain = match Subtensor::connect(network.clone(), run.netuid, retry).await {
                Ok(c) => c,
                Err(e) => {
                    return Check::fail(
                        NAME,
                        e.to_string(),
                        "check --subtensor.network and outbound access to the node (wss port 443 for finney)",
                    );
                }
            };
            match chain.metagraph().await {
                Ok(m) => (m, network.to_string()),
                Err(e) => return Check::fail(NAME, e.to_string(), format!("check that netuid {} exists", run.netuid)),
            }
        }
    };
    let Some(hotkey) = hotkey else {
        return Check::skip(
            NAME,
            format!("{source}: block {}, {} neurons (no wallet to look up)", m.block, m.neurons.len()),
        );
    };
    match m.by_hotkey(hotkey.ss58()) {
        Some(n) => {
            let published = if n.axon.is_serving() {
                format!("axon published at {}:{}", n.axon.ip, n.axon.port)
            } else {
                "no axon published yet (the miner publishes it at start)".to_owned()
            };
            Check::pass(NAME, format!("{source}: block {}, uid {} on netuid {}; {published}", m.block, n.uid, m.netuid))
        }
        None => {
            let register = format!(
                "btcli subnets register --netuid {} --wallet.name {} --wallet.hotkey {} --network {}",
                m.netuid,
                run.wallet.name,
                run.wallet.hotkey,
                if run.metagraph.is_some() { "finney" } else { run.network.as_str() }
            );
            let fix = match &run.metagraph {
                Some(p) => format!("add the hotkey to {} (on mainnet, register it: `{register}`)", p.display()),
                None => format!("register it (the coldkey pays the fee): `{register}`"),
            };
            Check::fail(
                NAME,
                format!("{source}: hotkey {} is not registered on netuid {}", hotkey.ss58(), m.netuid),
                fix,
            )
        }
    }
}

fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}
