//! Writes the "converse" fixture: a ciphertext made by this crate for quicknet round 1000, which
//! PyPI bittensor-drand then decrypted (tests/fixtures/README.md records how and the result).
//! Run on purpose only (it overwrites committed fixtures):
//! `cargo run -p miid-tlock --example write_converse_fixture`, then re-run check_converse.py.

use miid_tlock::{ChainKey, Format, encrypt};

fn main() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let pt = b"\x89PNG\r\n\x1a\nmiid-tlock (Rust, timelock 0.3.0 + envelope adapter) for quicknet round 1000".to_vec();
    let ct = encrypt(Format::Mainnet, &ChainKey::quicknet(), 1000, &pt, &mut rand::rng()).unwrap();
    std::fs::write(dir.join("ours-r1000.bin"), &ct).unwrap();
    std::fs::write(dir.join("ours-r1000.plain"), &pt).unwrap();
    // A 20 000-byte payload to round 123: the 4-byte SCALE compact form image ciphertexts use.
    let big: Vec<u8> = (0..20_000u32).map(|i| (i * 7 + 3) as u8).collect();
    let ct = encrypt(Format::Mainnet, &ChainKey::quicknet(), 123, &big, &mut rand::rng()).unwrap();
    std::fs::write(dir.join("ours-r123-20k.bin"), &ct).unwrap();
    std::fs::write(dir.join("ours-r123-20k.plain"), &big).unwrap();
    // The same plaintext in the age format, which bittensor_drand is expected to refuse (spec 4.6).
    let age = encrypt(Format::Age { armor: false }, &ChainKey::quicknet(), 1000, &pt, &mut rand::rng()).unwrap();
    std::fs::write(dir.join("ours-r1000.age"), &age).unwrap();
}
