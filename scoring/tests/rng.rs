//! `PyRandom` against CPython's `random.Random` (spec Appendix A).
//!
//! Every expected value below was produced once with CPython 3.11.7 by
//! `python3 gen.py`, where gen.py creates `r = random.Random()` and, for each block, calls
//! `r.seed(...)` followed by the calls named in the test (e.g. `r.seed(42); [r.random() for _ in
//! range(5)]`, `r.seed(11); (r.sample(range(100), 10), r.random())`). Nothing here runs Python.

use miid_scoring::rng::{KeyedSeedSource, PyRandom, SeedSource, TableSeedSource};

fn randoms(seed: u128, n: usize) -> Vec<f64> {
    let mut r = PyRandom::new(seed);
    (0..n).map(|_| r.random()).collect()
}

#[test]
fn seed_zero_words_and_randoms() {
    // r.seed(0); [r.getrandbits(32) for _ in range(3)]
    let mut r = PyRandom::new(0);
    let words: Vec<u64> = (0..3).map(|_| r.getrandbits(32)).collect();
    assert_eq!(words, [3626764237, 1654615998, 3255389356]);
    assert_eq!(randoms(0, 3), [0.8444218515250481, 0.7579544029403025, 0.420571580830845]);
}

#[test]
fn seed_42_randoms() {
    assert_eq!(
        randoms(42, 5),
        [0.6394267984578837, 0.025010755222666936, 0.27502931836911926, 0.22321073814882275, 0.7364712141640124]
    );
}

#[test]
fn large_seeds_use_every_32_bit_word() {
    let cases: [(u128, [f64; 3]); 6] = [
        (u32::MAX as u128, [0.6353574441341173, 0.20319993954407756, 0.6073666030347188]),
        (1 << 32, [0.11299430095636409, 0.41782886486292836, 0.0166763664992291]),
        ((1 << 32) + 5, [0.15727238718789782, 0.2824866316461999, 0.6044540318498407]),
        ((1 << 64) + 123456789, [0.561566378178536, 0.09113605107050549, 0.24667799928276257]),
        ((1 << 100) + 7, [0.41604161323913513, 0.32676498245430574, 0.5566705938449678]),
        (12345678901234567890123, [0.15803717805068784, 0.9863365111874665, 0.13242015726274725]),
    ];
    for (seed, want) in cases {
        assert_eq!(randoms(seed, 3), want, "seed {seed}");
    }
}

#[test]
fn negative_seed_is_abs() {
    // r.seed(-7) and r.seed(7) give the same stream.
    let mut r = PyRandom::new(1);
    r.seed_signed(-7);
    assert_eq!([r.random(), r.random()], [0.32383276483316237, 0.15084917392450192]);
}

#[test]
fn uniform_appendix_a() {
    for (seed, want) in [(0, [1.1377687406100192, 1.103181761176121]), (1, [0.8537456976449606, 1.138973494774893])] {
        let mut r = PyRandom::new(seed);
        assert_eq!([r.uniform(0.8, 1.2), r.uniform(0.8, 1.2)], want, "seed {seed}");
    }
}

#[test]
fn phonetic_weight_draws() {
    // r.seed(s); (r.sample(['soundex','metaphone','nysiis'], 3), [r.random() for _ in range(3)])
    let algos = ["soundex", "metaphone", "nysiis"];
    let cases: [(u128, [&str; 3], [f64; 3]); 5] = [
        (0, ["metaphone", "nysiis", "soundex"], [0.25891675029296335, 0.5112747213686085, 0.4049341374504143]),
        (1, ["soundex", "nysiis", "metaphone"], [0.11791870367106105, 0.7609624449125756, 0.47224524357611664]),
        (18, ["soundex", "nysiis", "metaphone"], [0.33455970316750006, 0.19793960416252043, 0.4895153390481155]),
        (42, ["nysiis", "soundex", "metaphone"], [0.7415504997598329, 0.24489185380347622, 0.1395379285251439]),
        (9999, ["soundex", "nysiis", "metaphone"], [0.13108397864403598, 0.19453397605863076, 0.952757024686675]),
    ];
    for (seed, order, draws) in cases {
        let mut r = PyRandom::new(seed);
        assert_eq!(r.sample(&algos, 3), order, "seed {seed}");
        assert_eq!([r.random(), r.random(), r.random()], draws, "seed {seed}");
    }
}

#[test]
fn sample_pool_and_set_methods() {
    // r.seed(s); (r.sample(range(n), k), r.random())
    #[rustfmt::skip]
    let cases: &[(u128, usize, usize, &[usize], f64)] = &[
        (3, 21, 3, &[7, 18, 17], 0.13042279608514273),
        (3, 22, 3, &[7, 18, 17], 0.13042279608514273),
        (2, 21, 3, &[1, 2, 19], 0.3610574739836072),    // pool method (n <= 21)
        (2, 22, 3, &[1, 2, 11], 0.8354988781294496),    // set method (n > 21)
        (3, 5, 0, &[], 0.23796462709189137),
        (3, 5, 5, &[1, 4, 3, 2, 0], 0.6055995301393269),
        (11, 80, 10, &[57, 71, 59, 79, 65, 24, 23, 75, 60, 73], 0.09412345622921847),
        (11, 85, 10, &[57, 71, 59, 84, 65, 75, 24, 23, 80, 60], 0.6298827202168019), // k=10: setsize 21+64=85
        (11, 86, 10, &[57, 71, 59, 65, 75, 24, 23, 60, 80, 78], 0.7929768725199526),
        (11, 100, 10, &[57, 71, 99, 59, 65, 75, 24, 23, 60, 80], 0.6139588340593641),
        (7, 1000, 6, &[331, 970, 154, 404, 666, 49], 0.07243628666754276),
        (7, 2, 2, &[1, 0], 0.3948234964231735),
        (5, 1_000_000, 3, &[653159, 267853, 777820], 0.35853551175589526),
    ];
    for &(seed, n, k, want, next) in cases {
        let mut r = PyRandom::new(seed);
        assert_eq!(r.sample_indices(n, k), want, "seed {seed} n {n} k {k}");
        assert_eq!(r.random(), next, "generator state after sample, seed {seed} n {n} k {k}");
    }
}

#[test]
#[should_panic(expected = "sample larger than population")]
fn sample_too_large_panics() {
    PyRandom::new(0).sample_indices(2, 3);
}

#[test]
fn randbelow_one_consumes_words() {
    // r.seed(5); ([r.randrange(1) for _ in range(3)], r.random())
    let mut r = PyRandom::new(5);
    assert_eq!([r.randrange(0, 1), r.randrange(0, 1), r.randrange(0, 1)], [0, 0, 0]);
    assert_eq!(r.random(), 0.8403481205226678);
}

#[test]
fn randrange_wider_than_32_bits() {
    // r.seed(5); [r.randrange(2**40) ...x3] + [r.randrange(2**64-1) ...x3] + [r.randrange(3*2**33+1)]
    let mut r = PyRandom::new(5);
    let got: Vec<u64> = [1u64 << 40, 1 << 40, 1 << 40, u64::MAX, u64::MAX, u64::MAX, 3 * (1 << 33) + 1]
        .into_iter()
        .map(|n| r.randbelow(n))
        .collect();
    assert_eq!(
        got,
        [
            561021090885,
            789164966041,
            549512532852,
            956523682424107605,
            2893396244277848635,
            6858376947525423350,
            13943924136
        ]
    );
}

#[test]
fn getrandbits_widths() {
    // r.seed(5); [r.getrandbits(1), r.getrandbits(31), r.getrandbits(33), r.getrandbits(64)]
    let mut r = PyRandom::new(5);
    assert_eq!(
        [r.getrandbits(1), r.getrandbits(31), r.getrandbits(33), r.getrandbits(64)],
        [1, 548563996, 3185950873, 12736496262939004471]
    );
}

#[test]
fn randint_choice_shuffle() {
    // r.seed(9); [r.randint(1,6) for _ in range(10)] + [r.randint(-5,5) for _ in range(5)]
    let mut r = PyRandom::new(9);
    let mut got: Vec<i64> = (0..10).map(|_| r.randint(1, 6)).collect();
    got.extend((0..5).map(|_| r.randint(-5, 5)));
    assert_eq!(got, [4, 5, 3, 3, 2, 2, 6, 1, 3, 5, 2, 4, -4, 0, 3]);

    // r.seed(9); [r.choice("abcdefg") for _ in range(8)]
    let mut r = PyRandom::new(9);
    let letters: Vec<char> = "abcdefg".chars().collect();
    let got: String = (0..8).map(|_| *r.choice(&letters)).collect();
    assert_eq!(got, "deccbbgf");

    // r.seed(9); x=list(range(10)); r.shuffle(x); y=list("ab"); r.shuffle(y); r.random()
    let mut r = PyRandom::new(9);
    let mut x: Vec<u32> = (0..10).collect();
    r.shuffle(&mut x);
    let mut y = ['a', 'b'];
    r.shuffle(&mut y);
    assert_eq!(x, [9, 8, 3, 2, 0, 6, 1, 4, 5, 7]);
    assert_eq!(y, ['b', 'a']);
    assert_eq!(r.random(), 0.3340240087678318);
}

#[test]
fn string_seeding_goes_through_the_seed_source() {
    let table = TableSeedSource::new([("john smith".to_string(), 10_042)]);
    let mut r = PyRandom::new(0);
    r.seed_from_string(&table, "john smith");
    assert_eq!(r.random(), PyRandom::new(42).random());
    assert_eq!(PyRandom::from_string_seed(&table, "john smith").random(), PyRandom::new(42).random());

    let keyed = KeyedSeedSource::with_key(7, 8);
    let dynamic: &dyn SeedSource = &keyed;
    assert_eq!(PyRandom::from_string_seed(dynamic, "x").random(), PyRandom::new(keyed.seed("x").into()).random());
}
