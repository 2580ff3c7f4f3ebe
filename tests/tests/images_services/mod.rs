//! The services every face-image path test stands on, in process on loopback: a drand-mock on a
//! manual clock (so a test reveals a round by setting the time) and an s3-mock whose `PUBLIC`
//! bucket takes anonymous PUTs, as the subnet's submission bucket does.

use std::sync::Arc;
use std::time::Duration;

use drand_mock::{BeaconKey, Clock, DrandMock, ManualClock, MockConfig, RunningMock};
use miid_tlock::client::Client;

pub const PUBLIC: &str = "yanez-miid-sn54";
pub const GENESIS: u64 = 1_700_000_001;

pub struct Services {
    pub drand: RunningMock,
    pub s3: s3_mock::S3Mock,
    /// Sets the beacon's time: `manual.set(t)` reveals every round up to `t`.
    pub manual: ManualClock,
    /// A verifying client of the beacon (its chain key is what ciphertexts are locked to).
    pub client: Arc<Client>,
    /// The s3-mock data directory (removed when dropped: keep it bound while S3 is used).
    pub data: tempfile::TempDir,
}

/// Starts both services at round 11 (`GENESIS + 30`, period 3 s), with a beacon key derived from
/// `ikm` and S3 credentials `access_key`/`secret_key`.
pub async fn start(ikm: &[u8], access_key: &str, secret_key: &str) -> Services {
    let (clock, manual) = Clock::manual(GENESIS + 30);
    let drand = DrandMock::new(MockConfig {
        key: Some(BeaconKey::from_ikm(ikm)),
        period: 3,
        genesis: Some(GENESIS),
        clock,
        next_round_wait: Some(Duration::from_millis(100)),
        ..Default::default()
    })
    .unwrap()
    .spawn("127.0.0.1:0")
    .await
    .unwrap();
    let data = tempfile::tempdir().unwrap();
    let s3 = s3_mock::bind(
        "127.0.0.1:0",
        s3_mock::Config {
            data_dir: data.path().to_path_buf(),
            access_key: access_key.into(),
            secret_key: secret_key.into(),
            public_write: vec![PUBLIC.into()],
            buckets: vec![],
            domain: None,
        },
    )
    .await
    .unwrap();
    let client =
        Arc::new(Client::connect(&drand.url(), None).await.unwrap().with_poll_interval(Duration::from_millis(25)));
    Services { drand, s3, manual, client, data }
}
