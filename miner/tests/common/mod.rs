//! Helpers shared by the tests that run the `miner` binary.

use std::process::Command;

pub const MINER: &str = env!("CARGO_BIN_EXE_miner");

/// Creates wallet `m`, hotkey `hk` under `dir` with `miner wallet new-hotkey`, as an operator
/// would, and returns its SS58 address (the command's first line).
pub fn new_hotkey(dir: &std::path::Path) -> String {
    let out = Command::new(MINER)
        .args([
            "wallet",
            "new-hotkey",
            "--wallet.path",
            dir.to_str().unwrap(),
            "--wallet.name",
            "m",
            "--wallet.hotkey",
            "hk",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().next().unwrap().to_owned()
}
