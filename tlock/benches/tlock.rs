//! Encrypt and decrypt a 1 MiB payload in each format (quicknet key, round 1000, the real
//! round-1000 signature). Throughput is reported per plaintext byte.
//!
//! `cargo bench -p miid-tlock -- --warm-up-time 1 --measurement-time 3`

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use miid_tlock::{ChainKey, Format, decrypt, encrypt};

const R1000_SIG: &str =
    "b44679b9a59af2ec876b1a6b1ad52ea9b1615fc3982b19576350f93447cb1125e342b73a8dd2bacbe47e4b6b63ed5e39";
const MIB: usize = 1 << 20;

fn formats() -> [(&'static str, Format); 3] {
    [
        ("mainnet", Format::Mainnet),
        ("age-binary", Format::Age { armor: false }),
        ("age-armored", Format::Age { armor: true }),
    ]
}

fn bench(c: &mut Criterion) {
    let chain = ChainKey::quicknet();
    let sig: [u8; 48] = hex::decode(R1000_SIG).unwrap().try_into().unwrap();
    let payload: Vec<u8> = (0..MIB).map(|i| (i * 131 + 17) as u8).collect();
    let mut rng = rand::rng();

    let mut g = c.benchmark_group("encrypt_1MiB");
    g.throughput(Throughput::Bytes(MIB as u64));
    g.sample_size(20);
    for (name, format) in formats() {
        g.bench_with_input(BenchmarkId::from_parameter(name), &format, |b, &format| {
            b.iter(|| encrypt(format, &chain, 1000, &payload, &mut rng).unwrap())
        });
    }
    g.finish();

    let mut g = c.benchmark_group("decrypt_1MiB");
    g.throughput(Throughput::Bytes(MIB as u64));
    g.sample_size(20);
    for (name, format) in formats() {
        let ct = encrypt(format, &chain, 1000, &payload, &mut rng).unwrap();
        g.bench_with_input(BenchmarkId::from_parameter(name), &ct, |b, ct| {
            b.iter(|| {
                let pt = decrypt(ct, &chain, &sig).unwrap();
                assert_eq!(pt.len(), MIB);
                pt
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
