//! The reference validator's random numbers (spec Appendix A, Q1 and Q5).
//!
//! The reference draws its phonetic weights (3.1), its name-part weights (5.1) and its address
//! sample (7.9) from CPython's **process-global** `random` module, after re-seeding it with
//! `hash(s) % 10000`. Two halves are needed to reproduce that:
//!
//! - [`SeedSource`]: where `hash(s)` comes from. CPython's `str` hash is SipHash keyed with a
//!   random per-process key, so the reference's seeds cannot be reproduced (Q1, a forced
//!   deviation). Production uses [`KeyedSeedSource`] (SipHash-1-3 with a fresh random key per
//!   validator start, giving the same cross-restart variability); the reference vectors ship the
//!   integers the reference actually used, which [`TableSeedSource`] replays.
//! - [`PyRandom`]: everything after the integer seed, bit-exact with CPython's `random.Random`:
//!   `seed(int)` (MT19937 `init_by_array` over the integer's 32-bit words), `random()`
//!   (`genrand_res53`), `getrandbits`, `_randbelow`, `uniform`, `randrange`, `randint`,
//!   `choice`, `sample` (including CPython's switch between the pool and the set algorithm) and
//!   `shuffle`. The MT19937 core is the `rand_mt` crate, whose `new_with_key` is the 2002
//!   reference `init_by_array` that CPython also uses; the Python-level methods are ported from
//!   CPython 3.11 `Lib/random.py` / `Modules/_randommodule.c`.
//!
//! There is no global state here: the caller owns one [`PyRandom`] and threads it through the
//! scorers in the reference's call order, which is what makes the address sample depend on the
//! last phonetic call (Q5).

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

use std::sync::OnceLock;

use rand_mt::Mt;
use siphasher::sip::SipHasher13;

/// The modulus of the reference's `hash(s) % 10000` seeding (3.1 step 1, 5.1 step 1).
pub const SEED_MODULUS: i64 = 10_000;

/// Where the reference's `hash(s)` comes from (spec 3.1 step 1, Q1).
///
/// [`SeedSource::hash`] plays CPython's `hash(str)`: a signed 64-bit integer. The seed actually fed
/// to the generator is [`SeedSource::seed`], Python's `hash(s) % 10000`, which is the
/// non-negative (Euclidean) remainder, so it lies in `0..10000`.
pub trait SeedSource {
    /// The 64-bit string hash `H(s)`.
    fn hash(&self, s: &str) -> i64;

    /// `H(s) mod 10000`, non-negative as in Python.
    fn seed(&self, s: &str) -> u32 {
        // rem_euclid by 10_000 is in 0..10_000, so the cast is lossless.
        self.hash(s).rem_euclid(SEED_MODULUS) as u32
    }
}

impl<T: SeedSource + ?Sized> SeedSource for &T {
    fn hash(&self, s: &str) -> i64 {
        (**self).hash(s)
    }
}

impl<T: SeedSource + ?Sized> SeedSource for Box<T> {
    fn hash(&self, s: &str) -> i64 {
        (**self).hash(s)
    }
}

/// Production seed source: SipHash-1-3 (CPython's string hash since 3.11) of the string's UTF-8
/// bytes under a 128-bit key.
///
/// CPython hashes its internal code-unit representation rather than UTF-8; with a secret key
/// that difference is unobservable. A random key per validator start reproduces the
/// reference's cross-restart variability (Q1); a fixed key gives reproducible runs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct KeyedSeedSource {
    k0: u64,
    k1: u64,
}

impl KeyedSeedSource {
    /// A seed source with a fixed key (reproducible runs and tests).
    pub fn with_key(k0: u64, k1: u64) -> Self {
        Self { k0, k1 }
    }

    /// A seed source with a fresh random key, like a freshly started reference validator.
    ///
    /// The key material comes from the standard library's randomly keyed `RandomState`
    /// (seeded from the operating system), so this crate needs no entropy source of its own.
    pub fn random() -> Self {
        let state = std::collections::hash_map::RandomState::new();
        Self { k0: state.hash_one(0x6b61_765f_6b30_u64), k1: state.hash_one(0x6b61_765f_6b31_u64) }
    }
}

impl std::fmt::Debug for KeyedSeedSource {
    /// The key is a secret (it is what makes the weights unpredictable to miners): not printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyedSeedSource").finish_non_exhaustive()
    }
}

impl SeedSource for KeyedSeedSource {
    fn hash(&self, s: &str) -> i64 {
        let mut h = SipHasher13::new_with_keys(self.k0, self.k1);
        h.write(s.as_bytes());
        // Same bits reinterpreted as Py_hash_t; CPython never returns -1 (reserved for errors).
        match h.finish() as i64 {
            -1 => -2,
            v => v,
        }
    }
}

/// Test seed source: the `hash_seeds` table of the reference vectors (vectors/README.md), which
/// maps every string the reference hashed during a case to the integer it got.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableSeedSource {
    table: HashMap<String, i64>,
}

impl TableSeedSource {
    /// A table from (string, hash) pairs.
    pub fn new(entries: impl IntoIterator<Item = (String, i64)>) -> Self {
        Self { table: entries.into_iter().collect() }
    }

    /// Reads a vector case's `hash_seeds` object (`{"string": integer, ...}`).
    pub fn from_json(value: &serde_json::Value) -> Result<Self, String> {
        let obj = value.as_object().ok_or("hash_seeds is not a JSON object")?;
        obj.iter()
            .map(|(k, v)| {
                v.as_i64().map(|h| (k.clone(), h)).ok_or_else(|| format!("hash_seeds[{k:?}] is not a 64-bit integer"))
            })
            .collect::<Result<HashMap<_, _>, _>>()
            .map(|table| Self { table })
    }

    /// Adds or replaces one entry.
    pub fn insert(&mut self, s: impl Into<String>, hash: i64) {
        self.table.insert(s.into(), hash);
    }

    /// The recorded hash of `s`, if the table has it.
    pub fn get(&self, s: &str) -> Option<i64> {
        self.table.get(s).copied()
    }
}

impl SeedSource for TableSeedSource {
    /// # Panics
    /// If `s` is not in the table. The table lists exactly the strings the reference hashed, so
    /// a miss means the caller hashed a different string than the reference did: a bug to
    /// surface, not to paper over with an invented seed.
    fn hash(&self, s: &str) -> i64 {
        self.get(s).unwrap_or_else(|| panic!("string {s:?} is not in the hash_seeds table"))
    }
}

/// CPython's `random.Random`, bit for bit (spec Appendix A).
///
/// Constructed from or re-seeded with a non-negative integer exactly as `random.seed(n)`;
/// negative integers use `|n|` as CPython does ([`PyRandom::seed_signed`]).
#[derive(Clone)]
pub struct PyRandom {
    inner: Inner,
}

/// The generator state. Re-seeding with one of the 10,000 cached seeds does not copy an MT19937
/// state: it records the seed and serves the first [`PREFIX`] outputs from a per-seed cache
/// (the reference re-seeds before nearly every handful of draws). The full state is only built
/// ("materialised") when more outputs are asked for.
#[derive(Clone)]
enum Inner {
    /// A materialised MT19937 state; `drawn` counts the outputs taken since it was seeded.
    Live { mt: Box<Mt>, drawn: u32 },
    /// `random.seed(seed)` with `seed < CACHED`, followed by `pos` outputs.
    Pending { seed: u16, pos: u32 },
}

/// Seeds below this have cached states and output prefixes.
const CACHED: usize = 10_000;
/// How many leading outputs of each cached seed are served without building its state.
const PREFIX: usize = 32;

/// The MT19937 state after `random.seed(seed)`, `seed < CACHED`, built once per process.
fn cached_state(seed: usize) -> &'static Mt {
    static STATES: OnceLock<Box<[OnceLock<Mt>]>> = OnceLock::new();
    let states = STATES.get_or_init(|| (0..CACHED).map(|_| OnceLock::new()).collect());
    states[seed].get_or_init(|| Mt::new_with_key(key_words(seed as u128)))
}

/// The first [`PREFIX`] outputs after `random.seed(seed)`, `seed < CACHED`.
fn cached_prefix(seed: usize) -> &'static [u32; PREFIX] {
    static PREFIXES: OnceLock<Box<[OnceLock<[u32; PREFIX]>]>> = OnceLock::new();
    let prefixes = PREFIXES.get_or_init(|| (0..CACHED).map(|_| OnceLock::new()).collect());
    prefixes[seed].get_or_init(|| {
        let mut mt = cached_state(seed).clone();
        std::array::from_fn(|_| mt.next_u32())
    })
}

impl std::fmt::Debug for PyRandom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PyRandom").finish_non_exhaustive()
    }
}

impl PyRandom {
    /// `random.Random(n)` for a non-negative integer `n`.
    ///
    /// The reference re-seeds from `hash(s) % 10000` before nearly every draw, and building the
    /// MT19937 state (`init_by_array`) costs far more than the draws; the states of those 10,000
    /// seeds are therefore built once per process and copied.
    pub fn new(seed: u128) -> Self {
        if seed < CACHED as u128 {
            // Lossless: seed < 10,000.
            return Self { inner: Inner::Pending { seed: seed as u16, pos: 0 } };
        }
        Self::from_mt(Mt::new_with_key(key_words(seed)))
    }

    fn from_mt(mt: Mt) -> Self {
        Self { inner: Inner::Live { mt: Box::new(mt), drawn: 0 } }
    }

    /// The seed, when the generator was just seeded with a cached seed and nothing has been
    /// drawn since (lets pure functions of such a state be cached per seed).
    pub(crate) fn fresh_cached_seed(&self) -> Option<u16> {
        match self.inner {
            Inner::Pending { seed, pos: 0 } => Some(seed),
            _ => None,
        }
    }

    /// Outputs drawn since the last seeding.
    pub(crate) fn drawn(&self) -> u32 {
        match self.inner {
            Inner::Pending { pos, .. } => pos,
            Inner::Live { drawn, .. } => drawn,
        }
    }

    /// Skips `n` outputs of a freshly seeded cached generator (see
    /// [`PyRandom::fresh_cached_seed`]) without building its state.
    pub(crate) fn skip_fresh(&mut self, n: u32) {
        match &mut self.inner {
            Inner::Pending { pos, .. } => *pos += n,
            Inner::Live { .. } => {
                for _ in 0..n {
                    self.next_u32();
                }
            }
        }
    }

    /// Builds the full state of a pending generator.
    #[cold]
    fn materialise(&mut self) -> &mut Mt {
        if let Inner::Pending { seed, pos } = self.inner {
            let mut mt = cached_state(usize::from(seed)).clone();
            for _ in 0..pos {
                mt.next_u32();
            }
            self.inner = Inner::Live { mt: Box::new(mt), drawn: pos };
        }
        match &mut self.inner {
            Inner::Live { mt, .. } => mt,
            Inner::Pending { .. } => unreachable!(),
        }
    }

    /// `random.Random(n)` with `n` given as its 32-bit words, least significant first (CPython
    /// strips high zero words; an all-zero or empty key is the key `[0]`). For keys of at most
    /// 624 words (integers below 2^19968), which covers every use here: `rand_mt` runs exactly
    /// 624 key-mixing steps where the reference runs `max(624, len)`.
    pub fn from_key_words(words: &[u32]) -> Self {
        let len = words.iter().rposition(|&w| w != 0).map_or(1, |i| i + 1);
        let key: Vec<u32> = if words.is_empty() { vec![0] } else { words[..len].to_vec() };
        assert!(key.len() <= 624, "keys longer than 624 words are not supported");
        Self::from_mt(Mt::new_with_key(key))
    }

    /// The generator after `random.seed(n)` where the reference seeds from a string:
    /// `random.seed(hash(s) % 10000)` (3.1, 5.1).
    pub fn from_string_seed(seeds: &(impl SeedSource + ?Sized), s: &str) -> Self {
        Self::new(u128::from(seeds.seed(s)))
    }

    /// `random.seed(n)` for a non-negative integer.
    pub fn seed(&mut self, seed: u128) {
        *self = Self::new(seed);
    }

    /// `random.seed(n)` for any integer: CPython seeds with `abs(n)`.
    pub fn seed_signed(&mut self, seed: i128) {
        self.seed(seed.unsigned_abs());
    }

    /// `random.seed(hash(s) % 10000)`: the reference's re-seed from a string (3.1 step 2, 5.1
    /// step 1).
    pub fn seed_from_string(&mut self, seeds: &(impl SeedSource + ?Sized), s: &str) {
        self.seed(u128::from(seeds.seed(s)));
    }

    /// The next tempered 32-bit MT19937 output (`genrand_uint32`).
    #[inline]
    pub fn next_u32(&mut self) -> u32 {
        match &mut self.inner {
            Inner::Pending { seed, pos } if (*pos as usize) < PREFIX => {
                let out = cached_prefix(usize::from(*seed))[*pos as usize];
                *pos += 1;
                out
            }
            Inner::Live { mt, drawn } => {
                *drawn = drawn.wrapping_add(1);
                mt.next_u32()
            }
            Inner::Pending { .. } => {
                let out = self.materialise().next_u32();
                if let Inner::Live { drawn, .. } = &mut self.inner {
                    *drawn = drawn.wrapping_add(1);
                }
                out
            }
        }
    }

    /// `random()`: a double in [0, 1) from two words, `(a·2^26 + b) / 2^53` with `a = w1 >> 5`,
    /// `b = w2 >> 6` (`genrand_res53`).
    pub fn random(&mut self) -> f64 {
        let a = self.next_u32() >> 5;
        let b = self.next_u32() >> 6;
        (f64::from(a) * 67_108_864.0 + f64::from(b)) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// `uniform(a, b)` = `a + (b - a) * random()`, with `b - a` rounded to a double first
    /// (5.1 relies on `1.2 - 0.8` being 0.3999999999999999).
    pub fn uniform(&mut self, a: f64, b: f64) -> f64 {
        a + (b - a) * self.random()
    }

    /// `getrandbits(k)` for `0 <= k <= 64`. Up to 32 bits take the top bits of one word; wider
    /// requests fill 32-bit words least significant first, the last word keeping its top bits,
    /// as CPython does.
    pub fn getrandbits(&mut self, k: u32) -> u64 {
        assert!(k <= 64, "getrandbits supports at most 64 bits here");
        match k {
            0 => 0,
            1..=32 => u64::from(self.next_u32() >> (32 - k)),
            _ => {
                let low = u64::from(self.next_u32());
                let high = u64::from(self.next_u32() >> (64 - k));
                low | (high << 32)
            }
        }
    }

    /// `_randbelow(n)`: a uniform integer in `0..n` by rejection on `getrandbits(bit_length(n))`.
    /// `randbelow(1)` still consumes at least one word (it retries until the one bit is 0);
    /// `randbelow(0)` returns 0 and consumes nothing.
    pub fn randbelow(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        let k = u64::BITS - n.leading_zeros();
        loop {
            let r = self.getrandbits(k);
            if r < n {
                return r;
            }
        }
    }

    /// `randrange(start, stop)` (step 1): `start + _randbelow(stop - start)`.
    ///
    /// # Panics
    /// If the range is empty (`ValueError` in CPython).
    pub fn randrange(&mut self, start: i64, stop: i64) -> i64 {
        assert!(start < stop, "empty range for randrange({start}, {stop})");
        let width = stop.abs_diff(start);
        start.wrapping_add_unsigned(self.randbelow(width))
    }

    /// `randint(a, b)` = `randrange(a, b + 1)`, both ends included.
    pub fn randint(&mut self, a: i64, b: i64) -> i64 {
        assert!(a <= b, "empty range for randint({a}, {b})");
        let width = b.abs_diff(a).checked_add(1).expect("randint range wider than 2^64");
        a.wrapping_add_unsigned(self.randbelow(width))
    }

    /// `choice(seq)` = `seq[_randbelow(len(seq))]`.
    ///
    /// # Panics
    /// If `seq` is empty (`IndexError` in CPython).
    pub fn choice<'a, T>(&mut self, seq: &'a [T]) -> &'a T {
        assert!(!seq.is_empty(), "cannot choose from an empty sequence");
        &seq[self.randbelow(seq.len() as u64) as usize]
    }

    /// `shuffle(x)`: Fisher-Yates from the end, `j = _randbelow(i + 1)` for `i = len-1 .. 1`.
    pub fn shuffle<T>(&mut self, x: &mut [T]) {
        for i in (1..x.len()).rev() {
            let j = self.randbelow(i as u64 + 1) as usize;
            x.swap(i, j);
        }
    }

    /// `sample(population, k)`: `k` distinct positions of `population`, in selection order,
    /// returned as indices (see [`PyRandom::sample`] for the elements).
    ///
    /// CPython picks one of two algorithms, and they consume the generator differently
    /// (Appendix A): with `setsize = 21`, plus `4^ceil(log4(3k))` when `k > 5`,
    /// - `n <= setsize`: pool method, `j = _randbelow(n - i)`, take `pool[j]`, then
    ///   `pool[j] = pool[n - i - 1]`;
    /// - otherwise: set method, `j = _randbelow(n)` redrawn while already selected.
    ///
    /// # Panics
    /// If `k > n` (`ValueError` in CPython).
    pub fn sample_indices(&mut self, n: usize, k: usize) -> Vec<usize> {
        assert!(k <= n, "sample larger than population ({k} > {n})");
        let mut setsize = 21usize;
        if k > 5 {
            // Python: 4 ** _ceil(_log(k * 3, 4)); math.log(x, b) is log(x) / log(b).
            let exp = ((k as f64 * 3.0).ln() / 4f64.ln()).ceil() as u32;
            setsize += 4usize.pow(exp);
        }
        let mut result = Vec::with_capacity(k);
        if n <= setsize {
            let mut pool: Vec<usize> = (0..n).collect();
            for i in 0..k {
                let j = self.randbelow((n - i) as u64) as usize;
                result.push(pool[j]);
                pool[j] = pool[n - i - 1];
            }
        } else {
            let mut selected = std::collections::HashSet::with_capacity(k);
            for _ in 0..k {
                let mut j = self.randbelow(n as u64) as usize;
                while selected.contains(&j) {
                    j = self.randbelow(n as u64) as usize;
                }
                selected.insert(j);
                result.push(j);
            }
        }
        result
    }

    /// `sample(population, k)`: `k` distinct elements in selection order (CPython's algorithm,
    /// see [`PyRandom::sample_indices`]).
    pub fn sample<T: Clone>(&mut self, population: &[T], k: usize) -> Vec<T> {
        self.sample_indices(population.len(), k).into_iter().map(|i| population[i].clone()).collect()
    }
}

/// The key `random.seed(n)` hands to `init_by_array`: `|n|` as 32-bit words, least significant
/// first, high zero words dropped, `[0]` for zero.
fn key_words(mut n: u128) -> Vec<u32> {
    let mut words = Vec::with_capacity(4);
    loop {
        words.push(n as u32);
        n >>= 32;
        if n == 0 {
            return words;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_words_match_cpython() {
        assert_eq!(key_words(0), vec![0]);
        assert_eq!(key_words(9999), vec![9999]);
        assert_eq!(key_words(1 << 32), vec![0, 1]);
        assert_eq!(key_words((1 << 64) + 5), vec![5, 0, 1]);
    }

    #[test]
    fn from_key_words_matches_new() {
        let mut a = PyRandom::new((1 << 64) + 5);
        let mut b = PyRandom::from_key_words(&[5, 0, 1, 0]);
        let mut c = PyRandom::from_key_words(&[]);
        let mut d = PyRandom::new(0);
        for _ in 0..5 {
            assert_eq!(a.next_u32(), b.next_u32());
            assert_eq!(c.next_u32(), d.next_u32());
        }
    }

    #[test]
    fn appendix_a_seed_zero() {
        let mut r = PyRandom::new(0);
        assert_eq!([r.next_u32(), r.next_u32(), r.next_u32()], [3626764237, 1654615998, 3255389356]);
        assert_eq!(PyRandom::new(0).random(), 0.8444218515250481);
    }

    #[test]
    fn keyed_source_is_deterministic_per_key_and_in_range() {
        let a = KeyedSeedSource::with_key(1, 2);
        let b = KeyedSeedSource::with_key(1, 3);
        assert_eq!(a.hash("john smith"), a.hash("john smith"));
        assert_ne!(a.hash("john smith"), b.hash("john smith"));
        for s in ["", "a", "john", "иван", "李"] {
            assert!(a.seed(s) < 10_000);
        }
        assert!(!format!("{a:?}").contains('1'), "the key must not be printed");
        // Two random sources almost surely differ (128-bit keys).
        let (r1, r2) = (KeyedSeedSource::random(), KeyedSeedSource::random());
        assert!((0..8).any(|i| r1.hash(&i.to_string()) != r2.hash(&i.to_string())));
    }

    #[test]
    fn seed_is_the_euclidean_remainder() {
        let t = TableSeedSource::new([("neg".to_string(), -1i64), ("big".to_string(), 1_152_892_536_086_211_743)]);
        assert_eq!(t.seed("neg"), 9999);
        assert_eq!(t.seed("big"), 1743);
        let json = serde_json::json!({"a": 323762603863021411i64});
        assert_eq!(TableSeedSource::from_json(&json).unwrap().seed("a"), 1411);
        assert!(TableSeedSource::from_json(&serde_json::json!({"a": "x"})).is_err());
    }

    #[test]
    #[should_panic(expected = "not in the hash_seeds table")]
    fn table_miss_panics() {
        TableSeedSource::default().hash("missing");
    }

    #[test]
    fn randbelow_zero_and_one() {
        let mut r = PyRandom::new(5);
        let mut s = r.clone();
        assert_eq!(r.randbelow(0), 0);
        assert_eq!(r.next_u32(), s.next_u32(), "randbelow(0) consumes nothing");
        assert_eq!(r.randbelow(1), 0);
    }
}
