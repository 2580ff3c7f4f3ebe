//! MinIO in a container, for running the same tests against a real S3 implementation where a
//! docker engine exists (feature `minio`, off by default).
//!
//! ```no_run
//! # async fn demo() -> Result<(), s3_mock::minio::MinioError> {
//! match s3_mock::minio::start().await {
//!     Ok(minio) => println!("MinIO at {} ({} / {})", minio.endpoint, minio.access_key, minio.secret_key),
//!     Err(s3_mock::minio::MinioError::NoDocker(why)) => eprintln!("SKIPPED MinIO: no docker engine ({why})"),
//!     Err(e) => return Err(e),
//! }
//! # Ok(()) }
//! ```
//!
//! The container (image `minio/minio`, the tag pinned by `testcontainers-modules` 0.15.0) is
//! removed when the [`MinioHandle`] is dropped. MinIO has no "anonymous PUT" rule out of the box:
//! only signed requests work against it unless a bucket policy is set.

use std::path::Path;

use testcontainers_modules::minio::MinIO;
use testcontainers_modules::testcontainers::runners::AsyncRunner;
use testcontainers_modules::testcontainers::{ContainerAsync, ImageExt, TestcontainersError};

/// The S3 API port inside the container.
const API_PORT: u16 = 9000;
/// Credentials the container is started with (MinIO's root user).
pub const ACCESS_KEY: &str = "s3mockminio";
pub const SECRET_KEY: &str = "s3mockminio-secret-key";

/// A running MinIO container.
pub struct MinioHandle {
    /// `http://HOST:PORT` (path-style, region `us-east-1`).
    pub endpoint: String,
    pub access_key: String,
    pub secret_key: String,
    /// Keeps the container alive; dropping it stops and removes the container.
    pub container: ContainerAsync<MinIO>,
}

impl std::fmt::Debug for MinioHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MinioHandle")
            .field("endpoint", &self.endpoint)
            .field("access_key", &self.access_key)
            .field("container", &self.container.id())
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MinioError {
    /// No docker engine to start the container on (the reason in words).
    #[error("no docker engine ({0})")]
    NoDocker(String),
    /// The engine is there but the container did not start (image pull, port, readiness ...).
    #[error("starting MinIO with testcontainers: {0}")]
    Start(#[from] TestcontainersError),
}

/// Why there is no docker engine to talk to, or `None` if there seems to be one: `DOCKER_HOST`
/// set, or `/var/run/docker.sock` present.
#[must_use]
pub fn docker_missing() -> Option<String> {
    if std::env::var_os("DOCKER_HOST").is_some_and(|v| !v.is_empty()) {
        return None;
    }
    let socket = Path::new("/var/run/docker.sock");
    if socket.exists() {
        return None;
    }
    Some(format!("DOCKER_HOST is not set and {} does not exist", socket.display()))
}

/// Starts MinIO (pulling its image if needed) and waits until its API is up.
///
/// # Errors
/// [`MinioError::NoDocker`] at once when [`docker_missing`] says so, [`MinioError::Start`]
/// when testcontainers fails.
pub async fn start() -> Result<MinioHandle, MinioError> {
    if let Some(why) = docker_missing() {
        return Err(MinioError::NoDocker(why));
    }
    let container = MinIO::default()
        .with_env_var("MINIO_ROOT_USER", ACCESS_KEY)
        .with_env_var("MINIO_ROOT_PASSWORD", SECRET_KEY)
        .start()
        .await?;
    let host = container.get_host().await?;
    let port = container.get_host_port_ipv4(API_PORT).await?;
    Ok(MinioHandle {
        endpoint: format!("http://{host}:{port}"),
        access_key: ACCESS_KEY.to_owned(),
        secret_key: SECRET_KEY.to_owned(),
        container,
    })
}
