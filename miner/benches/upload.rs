//! Upload throughput of 1 MiB objects (about one timelocked R2 image) to an in-process s3-mock
//! over loopback: the mainnet path (anonymous PUT into a public-write bucket) and SigV4
//! (presigned PUT into a private bucket). One PUT per iteration, no retries involved.
//!
//! `cargo bench -p miid-miner --bench upload`

use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use miid_miner::upload::{UploadConfig, Uploader};

const AK: &str = "AKIDBENCH";
const SK: &str = "bench-secret";
const PUBLIC: &str = "yanez-miid-sn54";
const PRIVATE: &str = "bench-private";
const SIZE: usize = 1 << 20;

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let data = tempfile::tempdir().unwrap();
    let queue = tempfile::tempdir().unwrap();
    let server = rt.block_on(async {
        s3_mock::bind(
            "127.0.0.1:0",
            s3_mock::Config {
                data_dir: data.path().to_path_buf(),
                access_key: AK.into(),
                secret_key: SK.into(),
                public_write: vec![PUBLIC.into()],
                buckets: vec![PRIVATE.into()],
                domain: None,
            },
        )
        .await
        .unwrap()
    });
    let endpoint = server.endpoint();
    let anonymous = Uploader::new(UploadConfig {
        endpoint: Some(endpoint.clone()),
        path_style: true,
        queue_dir: Some(queue.path().to_path_buf()),
        ..UploadConfig::default()
    })
    .unwrap();
    let signed = Uploader::new(UploadConfig {
        queue_dir: Some(queue.path().to_path_buf()),
        ..UploadConfig::private(&endpoint, PRIVATE, AK, SK)
    })
    .unwrap();
    let body = Bytes::from((0..SIZE).map(|i| (i * 31 % 251) as u8).collect::<Vec<u8>>());
    let n = AtomicU64::new(0);

    let mut group = c.benchmark_group("upload_1MiB");
    group.throughput(Throughput::Bytes(SIZE as u64));
    group.sample_size(30);
    for (name, up) in [("anonymous_put", &anonymous), ("sigv4_put", &signed)] {
        group.bench_function(name, |b| {
            b.iter(|| {
                // A fresh key per PUT, as the miner uploads; 64 keys are reused to bound disk use.
                let i = n.fetch_add(1, Ordering::Relaxed) % 64;
                let key = format!("submissions/bench/5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty/0123456789abcdef/seed/pose_edit_{i}.png.tlock");
                rt.block_on(up.put_once(&key, body.clone())).unwrap();
            })
        });
    }
    group.finish();
    rt.block_on(server.shutdown());
}

criterion_group!(benches, bench);
criterion_main!(benches);
