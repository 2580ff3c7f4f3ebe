//! Shared test data: drand quicknet's real round signatures.
#![allow(dead_code)]

use miid_tlock::ChainKey;

/// quicknet round 123, from drand-verify 0.6.2's doc test (api3.drand.sh/52db9ba7…/public/123).
pub const R123_SIG: &str =
    "b75c69d0b72a5d906e854e808ba7e2accb1542ac355ae486d591aa9d43765482e26cd02df835d3546d23c4b13e0dfc92";
/// quicknet round 1000 (spec miner-protocol.md 4.6 / A.5).
pub const R1000_SIG: &str =
    "b44679b9a59af2ec876b1a6b1ad52ea9b1615fc3982b19576350f93447cb1125e342b73a8dd2bacbe47e4b6b63ed5e39";

pub fn sig(hex_sig: &str) -> [u8; 48] {
    hex::decode(hex_sig).unwrap().try_into().unwrap()
}

pub fn quicknet() -> ChainKey {
    ChainKey::quicknet()
}

pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)).unwrap()
}

/// Flips one bit at each of `positions` (one at a time) and returns the altered copies.
pub fn flipped(ct: &[u8], positions: &[usize]) -> Vec<(usize, Vec<u8>)> {
    positions
        .iter()
        .map(|&p| {
            let mut c = ct.to_vec();
            c[p] ^= 0x01;
            (p, c)
        })
        .collect()
}
