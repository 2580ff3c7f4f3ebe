//! The mainnet (bittensor-drand envelope) format against real quicknet data: the spec's known
//! answer, ciphertexts made by PyPI bittensor-drand 2.0.0, and our own round trips.

mod common;

use common::*;
use miid_tlock::{Error, Format, INNER_OVERHEAD, decrypt, detect, encrypt, round_of};

/// Spec miner-protocol.md Appendix A.5.
const A5_ENVELOPE: &str = concat!(
    "d904a05e538ad6ade2396caca6b9f8b7660aedf662699bf4b4aa6a9d6117346976b321e4e3bec59a1cf3b5582cca0371",
    "60c401e0cc96f428d05c08b3a388bf928f0032e830d5c00acd57d8675548b99f6a422d90c5fa6b78ddda017bf873d6d4",
    "2620200000000000000012e0af8748e576eedf2462b2e9f2bfcef6aa1cc2b99eeb9953dc1cf71d0a6728200000000000",
    "0000ec7a7fe41f18ab078947d997fdbd269e631628d6c2962d6682598180a3dd740e6e00000000000000520000000000",
    "000036e3fe2bf5e802a469b4afddb811aae4ea727bb6930520484432a85230be6ddbcd3d65018ab7f98e11596fe66d62",
    "83b0659b1dcf153c5f9c23491c72e823d2b5e959d2ad6e2b748f5de57ae71623742815a40c000000000000005beb3a54",
    "db97baa821b114f108000000000000004145535f47434d5fe803000000000000",
);
const A5_PLAINTEXT: &str = "89504e470d0a1a0a46414b45494d414745425954455389504e470d0a1a0a46414b45494d414745425954455389504e470d0a1a0a46414b45494d4147454259544553";

#[test]
fn appendix_a5_known_answer() {
    let ct = hex::decode(A5_ENVELOPE).unwrap();
    assert_eq!(ct.len(), 320);
    assert_eq!(round_of(&ct).unwrap(), (Format::Mainnet, 1000));
    let pt = decrypt(&ct, &quicknet(), &sig(R1000_SIG)).unwrap();
    assert_eq!(hex::encode(&pt), A5_PLAINTEXT);
    assert_eq!(pt.len(), 66);
    // Round 123's signature is a valid quicknet signature, of the wrong round.
    assert_eq!(decrypt(&ct, &quicknet(), &sig(R123_SIG)), Err(Error::WrongSignature { round: 1000 }));
}

#[test]
fn bittensor_drand_fixtures_decrypt() {
    for (name, round, s) in
        [("bd-r1000-small", 1000, R1000_SIG), ("bd-r123-small", 123, R123_SIG), ("bd-r1000-20k", 1000, R1000_SIG)]
    {
        let ct = fixture(&format!("{name}.bin"));
        let expected = fixture(&format!("{name}.plain"));
        assert_eq!(round_of(&ct).unwrap(), (Format::Mainnet, round), "{name}");
        assert_eq!(decrypt(&ct, &quicknet(), &sig(s)).unwrap(), expected, "{name}");
        // Sizes as spec A.6: inner = 244 + n, envelope = inner + compact prefix + 8.
        let prefix = if expected.len() + INNER_OVERHEAD < 1 << 14 { 2 } else { 4 };
        assert_eq!(ct.len(), expected.len() + INNER_OVERHEAD + prefix + 8, "{name}");
    }
    // And the ciphertext our code made that bittensor_drand opened (README, "converse").
    let ours = fixture("ours-r1000.bin");
    assert_eq!(decrypt(&ours, &quicknet(), &sig(R1000_SIG)).unwrap(), fixture("ours-r1000.plain"));
    let ours = fixture("ours-r123-20k.bin");
    assert_eq!(decrypt(&ours, &quicknet(), &sig(R123_SIG)).unwrap(), fixture("ours-r123-20k.plain"));
    // The age twin bittensor_drand refused is a valid age file for round 1000.
    let age = fixture("ours-r1000.age");
    assert_eq!(decrypt(&age, &quicknet(), &sig(R1000_SIG)).unwrap(), fixture("ours-r1000.plain"));
}

#[test]
fn round_trip_on_quicknet() {
    let mut rng = rand::rng();
    for (round, s) in [(1000u64, R1000_SIG), (123, R123_SIG)] {
        for n in [0usize, 1, 66, 16_139, 16_140, 100_000] {
            let pt: Vec<u8> = (0..n).map(|i| (i * 31 + 7) as u8).collect();
            let ct = encrypt(Format::Mainnet, &quicknet(), round, &pt, &mut rng).unwrap();
            // Exactly the requested round in the trailer (quirk Q9), AES_GCM_ before it.
            assert_eq!(&ct[ct.len() - 8..], &round.to_le_bytes());
            assert_eq!(&ct[ct.len() - 16..ct.len() - 8], b"AES_GCM_");
            let prefix = if n + INNER_OVERHEAD < 1 << 14 { 2 } else { 4 };
            assert_eq!(ct.len(), n + INNER_OVERHEAD + prefix + 8);
            assert_eq!(detect(&ct).unwrap(), Format::Mainnet);
            assert_eq!(decrypt(&ct, &quicknet(), &sig(s)).unwrap(), pt, "round {round}, n {n}");
        }
    }
    // Two encryptions of the same plaintext differ (fresh key, σ and nonce).
    let a = encrypt(Format::Mainnet, &quicknet(), 1000, b"same", &mut rng).unwrap();
    let b = encrypt(Format::Mainnet, &quicknet(), 1000, b"same", &mut rng).unwrap();
    assert_ne!(a, b);
}

#[test]
fn wrong_signature_is_named() {
    let ct = encrypt(Format::Mainnet, &quicknet(), 1000, b"secret", &mut rand::rng()).unwrap();
    assert_eq!(decrypt(&ct, &quicknet(), &sig(R123_SIG)), Err(Error::WrongSignature { round: 1000 }));
    assert_eq!(decrypt(&ct, &quicknet(), &[0u8; 48]), Err(Error::InvalidSignature));
}

#[test]
fn tampered_envelopes_are_rejected() {
    let pt = b"\x89PNG\r\n\x1a\nFAKEIMAGEBYTES-tamper-test-payload".to_vec();
    let ct = encrypt(Format::Mainnet, &quicknet(), 1000, &pt, &mut rand::rng()).unwrap();
    let n = pt.len();
    let p = 2; // compact prefix length for this size
    let len = ct.len();
    let positions = [
        0,               // compact length
        p + 5,           // U
        p + 95,          // U, last byte
        p + 100,         // V length prefix
        p + 110,         // V
        p + 140,         // W length prefix
        p + 160,         // W
        p + 180,         // body length
        p + 186,         // AES ciphertext length
        p + 192,         // AES ciphertext, first byte
        p + 192 + n,     // GCM tag
        p + 208 + n + 3, // nonce length
        p + 216 + n + 5, // nonce
        p + 228 + n,     // cipher-suite length
        p + 236 + n + 2, // "AES_GCM_"
        len - 8,         // reveal round
        len - 1,         // reveal round, high byte
    ];
    for (pos, bad) in flipped(&ct, &positions) {
        let r = decrypt(&bad, &quicknet(), &sig(R1000_SIG));
        assert!(r.is_err(), "flipping byte {pos} went unnoticed");
        let e = r.unwrap_err();
        assert!(
            matches!(
                e,
                Error::Malformed { .. } | Error::Tampered { .. } | Error::WrongSignature { .. } | Error::UnknownFormat
            ),
            "byte {pos}: {e}"
        );
    }
    // Body and nonce alterations are reported as authentication failures.
    for pos in [p + 192, p + 192 + n, p + 216 + n + 5, p + 110, p + 160] {
        let mut bad = ct.clone();
        bad[pos] ^= 0x80;
        assert!(matches!(decrypt(&bad, &quicknet(), &sig(R1000_SIG)), Err(Error::Tampered { .. })), "byte {pos}");
    }
    // A round altered to one whose signature we hold: the signature checks, the IBE does not open.
    let mut moved = ct.clone();
    moved[len - 8..].copy_from_slice(&123u64.to_le_bytes());
    assert_eq!(round_of(&moved).unwrap(), (Format::Mainnet, 123));
    assert!(matches!(decrypt(&moved, &quicknet(), &sig(R123_SIG)), Err(Error::Tampered { .. })));
    // Truncation and extension.
    assert!(decrypt(&ct[..len - 1], &quicknet(), &sig(R1000_SIG)).is_err());
    assert!(decrypt(&[ct.as_slice(), b"x"].concat(), &quicknet(), &sig(R1000_SIG)).is_err());
    // Untouched, it still opens.
    assert_eq!(decrypt(&ct, &quicknet(), &sig(R1000_SIG)).unwrap(), pt);
}

#[test]
fn raw_inner_ciphertext_is_not_an_envelope() {
    // What PyPI `timelock` produced (no envelope): bittensor_drand refuses it, so do we.
    let ct = encrypt(Format::Mainnet, &quicknet(), 1000, b"abc", &mut rand::rng()).unwrap();
    let inner = &ct[2..ct.len() - 8];
    assert!(round_of(inner).is_err());
    assert!(decrypt(inner, &quicknet(), &sig(R1000_SIG)).is_err());
}
