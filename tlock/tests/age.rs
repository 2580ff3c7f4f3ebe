//! drand's standard tlock (age) format against real quicknet signatures.

mod common;

use common::*;
use miid_tlock::{ChainKey, Error, Format, chain_hash_of, decrypt, detect, encrypt, round_of};

const BIN: Format = Format::Age { armor: false };
const ARMOR: Format = Format::Age { armor: true };

#[test]
fn round_trip_on_quicknet_binary_and_armored() {
    let mut rng = rand::rng();
    for (round, s) in [(123u64, R123_SIG), (1000, R1000_SIG)] {
        for n in [0usize, 1, 100, 65_536, 65_537, 200_000] {
            let pt: Vec<u8> = (0..n).map(|i| (i * 13 + 1) as u8).collect();
            for format in [BIN, ARMOR] {
                let ct = encrypt(format, &quicknet(), round, &pt, &mut rng).unwrap();
                match format {
                    BIN => assert!(ct.starts_with(b"age-encryption.org/v1\n")),
                    _ => assert!(ct.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----")),
                }
                assert_eq!(detect(&ct).unwrap(), format);
                assert_eq!(round_of(&ct).unwrap(), (format, round));
                assert_eq!(chain_hash_of(&ct).unwrap(), Some(quicknet().chain_hash));
                assert_eq!(decrypt(&ct, &quicknet(), &sig(s)).unwrap(), pt, "{format} round {round} n {n}");
            }
        }
    }
}

#[test]
fn stanza_names_round_and_chain() {
    let ct = encrypt(BIN, &quicknet(), 123, b"x", &mut rand::rng()).unwrap();
    let text = String::from_utf8_lossy(&ct);
    assert!(text.contains("-> tlock 123 52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971\n"), "{text}");
}

#[test]
fn armored_input_with_leading_whitespace() {
    let ct = encrypt(ARMOR, &quicknet(), 123, b"spaced", &mut rand::rng()).unwrap();
    let spaced = [b"\n  \r\n".as_slice(), &ct].concat();
    assert_eq!(round_of(&spaced).unwrap(), (ARMOR, 123));
    assert_eq!(decrypt(&spaced, &quicknet(), &sig(R123_SIG)).unwrap(), b"spaced");
}

#[test]
fn wrong_signature_and_wrong_chain() {
    for format in [BIN, ARMOR] {
        let ct = encrypt(format, &quicknet(), 123, b"secret", &mut rand::rng()).unwrap();
        assert_eq!(decrypt(&ct, &quicknet(), &sig(R1000_SIG)), Err(Error::WrongSignature { round: 123 }));
        let other = ChainKey { chain_hash: [7; 32], ..quicknet() };
        assert!(matches!(decrypt(&ct, &other, &sig(R123_SIG)), Err(Error::ChainMismatch { .. })));
    }
}

#[test]
fn tampered_binary_files_are_rejected() {
    let pt: Vec<u8> = (0..150_000u32).map(|i| (i % 251) as u8).collect();
    let ct = encrypt(BIN, &quicknet(), 123, &pt, &mut rand::rng()).unwrap();
    let header_end = ct.windows(4).position(|w| w == b"\n---").unwrap() + 1;
    let mac_line_end = header_end + ct[header_end..].iter().position(|b| *b == b'\n').unwrap();
    let len = ct.len();
    let positions = [
        0,                 // magic
        25,                // stanza line ("-> tlock ...")
        header_end - 30,   // stanza body / grease
        header_end + 10,   // header MAC
        mac_line_end + 3,  // payload nonce
        mac_line_end + 40, // first STREAM chunk
        len / 2,           // middle chunk
        len - 20,          // last chunk
        len - 1,           // last chunk's tag
    ];
    for (pos, bad) in flipped(&ct, &positions) {
        let r = decrypt(&bad, &quicknet(), &sig(R123_SIG));
        assert!(r.is_err(), "flipping byte {pos} went unnoticed");
    }
    // Truncating to a chunk boundary must not yield a shorter plaintext (STREAM's last-chunk flag).
    for cut in [len - 1, mac_line_end + 1 + 16 + 65_536 + 16, len - 17] {
        assert!(decrypt(&ct[..cut], &quicknet(), &sig(R123_SIG)).is_err(), "cut at {cut}");
    }
    assert_eq!(decrypt(&ct, &quicknet(), &sig(R123_SIG)).unwrap(), pt);
}

#[test]
fn tampered_armored_files_are_rejected() {
    let ct = encrypt(ARMOR, &quicknet(), 123, &vec![0x5a; 5000], &mut rand::rng()).unwrap();
    let lines: Vec<usize> = ct.iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(i, _)| i).collect();
    // Middle of the 2nd, 5th and a late line: whole base64 quanta, so every flip changes bytes.
    let positions = [lines[1] + 20, lines[4] + 33, lines[lines.len() - 3] + 12];
    for (pos, bad) in flipped(&ct, &positions) {
        assert!(decrypt(&bad, &quicknet(), &sig(R123_SIG)).is_err(), "flipping byte {pos} went unnoticed");
    }
    // Missing end marker.
    let cut = ct.len() - 40;
    assert!(decrypt(&ct[..cut], &quicknet(), &sig(R123_SIG)).is_err());
}

#[test]
fn formats_do_not_cross() {
    // An age file is never read as an envelope and vice versa (spec 4.6: incompatible both ways).
    let age = encrypt(BIN, &quicknet(), 1000, b"a", &mut rand::rng()).unwrap();
    let env = encrypt(Format::Mainnet, &quicknet(), 1000, b"a", &mut rand::rng()).unwrap();
    assert_eq!(detect(&age).unwrap(), BIN);
    assert_eq!(detect(&env).unwrap(), Format::Mainnet);
    // Not-tlock age content: an age file header with no tlock stanza.
    let bogus = b"age-encryption.org/v1\n-> X25519 abc\nAAAA\n--- AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
    let r = round_of(bogus);
    assert!(matches!(r, Err(Error::Malformed { .. })), "{r:?}");
    // Cut inside the payload nonce: still structural.
    let r = round_of(&bogus[..bogus.len() - 30]);
    assert!(matches!(r, Err(Error::Malformed { .. })), "{r:?}");
}
