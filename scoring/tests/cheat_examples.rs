//! Cheat detection (spec `cheat-detection.md`): the worked examples of section 14, the helper
//! examples of sections 3 and 14.4, and a replay of the cheat stage on every round of the
//! reference vectors (`per_miner` penalties and `ranking_info.initial_reward`).

mod common;

use indexmap::IndexMap;
use miid_scoring::cheat::{
    self, CheatPenalties, address_word_set, normalize_variation, remove_disallowed_unicode, run_cheat_stage,
};
use serde_json::{Value, json};

type Map = IndexMap<String, Vec<Value>>;

/// A miner's map: seed -> rows `[name, dob, address]`.
fn miner(entries: &[(&str, &[(&str, &str)])]) -> Map {
    entries
        .iter()
        .map(|(seed, rows)| {
            (seed.to_string(), rows.iter().map(|(name, addr)| json!([name, "1990-01-01", addr])).collect())
        })
        .collect()
}

fn seeds(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

#[test]
fn helpers_of_sections_3_and_14_4() {
    assert_eq!(normalize_variation("José-Müller 3rd"), "josmllererd");
    assert_eq!(normalize_variation("J0hn $mith"), "johnsmith");
    assert_eq!(normalize_variation("Ива́н"), "");
    assert_eq!(normalize_variation("Kate O'Neil"), "cateoneil");
    let mut sig = IndexMap::new();
    sig.insert("john smith".to_string(), vec!["jon smith", "Jhon Smyth"]);
    assert_eq!(cheat::signature(&sig), "9623336a11df7941");
    assert_eq!(cheat::signature(&IndexMap::<String, Vec<&str>>::new()), "0000000000001505");
    assert_eq!(remove_disallowed_unicode("Jöhn£ Smith² 3rd, ok", true), "Jöhn Smith 3rd, ok");
    assert_eq!(remove_disallowed_unicode("ʰJohn ꞎ x₁", false), "John  x");
    let words = |s: &str| address_word_set(s).into_iter().collect::<Vec<_>>();
    assert_eq!(
        words("Apartment 5, 12 Tverskaya Street, Moscow 125009, Russia"),
        ["apartment", "moscow", "russia", "tverskaya"]
    );
    assert_eq!(
        words("Apartment 5,12 Tverskaya Street,Moscow 125009,Russia"),
        ["apartment", "russia", "streetmoscow", "tverskaya"]
    );
    assert_eq!(words("Apt. 7, 44 Baker Street, London NW1, United Kingdom"), ["baker", "kingdom", "london", "united"]);
    assert_eq!(words("ул. Тверская 12, Москва, Россия"), ["moskva", "rossiia", "tverskaia"]);
    assert_eq!(words("北京市朝阳区建国路88号, 北京, China"), ["Jian", "Jing", "Yang", "Zhao", "china"]);
    assert!(words("1 A Road, X, Y").is_empty());
    assert_eq!(cheat::special_char_count("j@hn $m!th#"), 4);
    assert_eq!(cheat::special_char_count("j%n sm^th&"), 3);
    assert_eq!(cheat::special_char_count("o'brien-smith jr."), 0);
}

#[test]
fn example_14_1_mixed_round() {
    let a = miner(&[
        (
            "john smith",
            &[
                ("jon smith", "10 Downing Street, London SW1A 2AA, United Kingdom"),
                ("john smyth", "221 Baker Street, Marylebone NW1 6XE, England"),
                ("jhon smith", "5 Deansgate, Manchester M3 2BW, Britain"),
                ("johnny smith", "12 Princes Street, Edinburgh EH2 2AN, Scotland"),
            ],
        ),
        (
            "maria garcia",
            &[
                ("mariah garcia", "Calle Mayor 5, Madrid 28013, Spain"),
                ("maria garsia", "Passeig de Gracia 92, Barcelona 08008, Catalonia"),
                ("marya garcia", "Avenida Constitucion 3, Sevilla 41004, Andalusia"),
            ],
        ),
    ]);
    let b = miner(&[
        (
            "john smith",
            &[
                ("jon smith", "8 Rue de Rivoli, Paris 75001, France"),
                ("john smyth", "14 Quai Perrache, Lyon 69002, Rhone"),
                ("jhon smith", "3 Canebiere, Marseille 13001, Provence"),
                ("johnny smith", "Via Roma 10, Torino 10121, Piemonte"),
            ],
        ),
        (
            "maria garcia",
            &[
                ("mariah garcia", "Via Toledo 256, Napoli 80134, Italia"),
                ("maria garsia", "Piazza Duomo 1, Milano 20122, Lombardia"),
                ("marya garcia", "Via Nazionale 40, Roma 00184, Lazio"),
            ],
        ),
    ]);
    let c = miner(&[
        (
            "john smith",
            &[
                ("jon smith", "1 Main Street, Austin, Texas"),
                ("john smyth", "2 Main Street, Austin, Texas"),
                ("jhon smith", "3 Main Street, Austin, Texas"),
                ("jonathan smith", "4 Elm Street, Dallas, Texas"),
            ],
        ),
        (
            "maria garcia",
            &[
                ("mariah garcia", "Rua Augusta 100, Sao Paulo 01304, Brasil"),
                ("maria garsia", "Avenida Atlantica 1702, Copacabana 22021, Janeiro"),
                ("mariya garcia", "Rua Chile 20, Salvador 40020, Bahia"),
            ],
        ),
    ]);
    let d = miner(&[(
        "john smith",
        &[
            ("j@hn $m!th#", "Kenyatta Avenue 1, Nairobi 00100, Kenya"),
            ("j%n sm^th&", "Moi Avenue 20, Mombasa 80100, Coast"),
            ("john smith", "Oginga Odinga Street 4, Kisumu 40100, Nyanza"),
        ],
    )]);
    let e = Map::new();
    let rewards = [0.8, 0.8, 0.62, 0.3, 0.0];
    let stage = run_cheat_stage(
        &[&a, &b, &c, &d, &e],
        &rewards,
        &seeds(&["john smith", "maria garcia"]),
        &[0.0, 0.0, 0.0, 0.0, 1.0],
    );
    assert!(stage.error.is_none());
    let p = &stage.penalties;
    for i in [0, 1] {
        assert_eq!((p[i].collusion, p[i].duplication, p[i].signature_copy), (0.0, 1.0, 0.8), "miner {i}");
        assert_eq!((p[i].special_chars, p[i].address_duplication), (0.0, 0.0), "miner {i}");
        assert_eq!(stage.applied[i].post_total_penalty, Some(1.0));
        assert_eq!(stage.rewards[i], 0.0);
    }
    assert_eq!((p[2].collusion, p[2].duplication, p[2].signature_copy, p[2].special_chars), (0.0, 0.0, 0.0, 0.0));
    assert!(close(p[2].address_duplication, 0.2 * 2.0 / 7.0), "{}", p[2].address_duplication);
    assert!((stage.rewards[2] - 0.5846).abs() < 5e-5, "{}", stage.rewards[2]);
    assert!(close(p[3].special_chars, (2.0 / 3.0 - 0.5) / 0.5));
    assert!(close(stage.rewards[3], 0.2));
    assert_eq!((p[3].collusion, p[3].duplication, p[3].signature_copy, p[3].address_duplication), (0.0, 0.0, 0.0, 0.0));
    assert_eq!(p[4], CheatPenalties::default());
    assert_eq!(stage.rewards[4], 0.0);
    assert_eq!(stage.applied[4].post_total_penalty, None);
    // Special-character metrics: A–C 0 of 7, D 2 of 3, E nothing.
    for q in &p[..3] {
        assert_eq!((q.special_chars_ratio, q.special_char_variations_count, q.total_variations_count), (0.0, 0, 7));
    }
    assert_eq!((p[3].special_char_variations_count, p[3].total_variations_count), (2, 3));
    assert!(close(p[3].special_chars_ratio, 2.0 / 3.0));
    assert_eq!((p[4].special_chars_ratio, p[4].total_variations_count), (0.0, 0));
    // overall_total_penalty combines with the completeness penalty.
    assert!(close(stage.applied[3].overall_total_penalty.unwrap(), 1.0 / 3.0));
}

#[test]
fn example_14_2_collusion() {
    let variations = ["jon smith", "john smyth", "jhon smith", "johnny smith", "jonathan smith", "john smit"];
    let addresses = [
        "10 Downing Street, London SW1A 2AA, United Kingdom",
        "8 Rue de Rivoli, Paris 75001, France",
        "Via Roma 10, Torino 10121, Piemonte",
        "Calle Mayor 5, Madrid 28013, Spain",
        "Kenyatta Avenue 1, Nairobi 00100, Kenya",
        "Rua Augusta 100, Sao Paulo 01304, Brasil",
    ];
    let miners: Vec<Map> = (0..6).map(|i| miner(&[("john smith", &[(variations[i], addresses[i])])])).collect();
    let stage = run_cheat_stage(&miners, &[0.5; 6], &seeds(&["john smith"]), &[0.0; 6]);
    for (i, p) in stage.penalties.iter().enumerate() {
        assert_eq!(p.collusion, 0.75, "miner {i}");
        assert_eq!((p.duplication, p.signature_copy, p.special_chars, p.address_duplication), (0.0, 0.0, 0.0, 0.0));
        assert_eq!(stage.rewards[i], 0.125);
    }
    // Five members, or a score of 0.95, are not collusion.
    let stage = run_cheat_stage(&miners[..5], &[0.5; 5], &seeds(&["john smith"]), &[0.0; 5]);
    assert!(stage.penalties.iter().all(|p| p.collusion == 0.0));
    let stage = run_cheat_stage(&miners, &[0.95; 6], &seeds(&["john smith"]), &[0.0; 6]);
    assert!(stage.penalties.iter().all(|p| p.collusion == 0.0));
}

#[test]
fn example_14_3_near_bucket() {
    let words = ["alpha", "bravo", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "lima", "mike"];
    let rows = |extra: &str| -> Vec<String> {
        let mut v: Vec<String> = words[..9].iter().map(|w| format!("john smith {w}")).collect();
        v.push(format!("john smith {extra}"));
        v
    };
    let build = |names: &[String]| -> Map {
        let mut m = Map::new();
        m.insert("john smith".into(), names.iter().map(|n| json!([n, "1990-01-01", ""])).collect());
        m
    };
    let (m1, m2) = (build(&rows(words[9])), build(&rows(words[10])));
    let stage = run_cheat_stage(&[&m1, &m2], &[0.61234, 0.61229], &seeds(&["john smith"]), &[0.0, 0.0]);
    for p in &stage.penalties {
        assert!((p.duplication - 0.5).abs() < 1e-12, "{}", p.duplication);
        assert_eq!((p.collusion, p.signature_copy, p.special_chars, p.address_duplication), (0.0, 0.0, 0.0, 0.0));
    }
    // Jaccard branch: (9/11 − 0.7)/0.3 ≈ 0.394 < 0.5.
    assert!(((9.0 / 11.0 - 0.7) / 0.3) < stage.penalties[0].duplication);
    // Different buckets: the all-pairs check (> 0.95 / > 0.90) does not fire.
    let stage = run_cheat_stage(&[&m1, &m2], &[0.7, 0.3], &seeds(&["john smith"]), &[0.0, 0.0]);
    assert!(stage.penalties.iter().all(|p| p.sum() == 0.0));
    assert_eq!(stage.rewards, vec![0.7, 0.3]);
}

#[test]
fn degenerate_sets_and_non_latin_seeds() {
    // C4: both name sets {""} (all non-Latin) have Jaccard 1 -> 0.5 each, whatever the reward.
    let a = miner(&[("john smith", &[("Иван", "")])]);
    let b = miner(&[("john smith", &[("Пётр", "")])]);
    let stage = run_cheat_stage(&[&a, &b], &[0.0, 0.0], &seeds(&["john smith"]), &[0.0, 0.0]);
    assert!(stage.penalties.iter().all(|p| p.duplication == 0.5));
    // C1: a seed keyed by its original script is invisible when the processed name is the
    // transliteration: identical copies are not compared.
    let a = miner(&[("Иван Петров", &[("ivan petrov", "")])]);
    let stage = run_cheat_stage(&[&a, &a], &[0.7, 0.7], &seeds(&["Ivan Petrov"]), &[0.0, 0.0]);
    assert!(stage.penalties.iter().all(|p| p.sum() == 0.0));
    assert!(stage.penalties.iter().all(|p| p.total_variations_count == 1), "whole-response checks still see it");
}

#[test]
fn cross_miner_addresses() {
    let a = miner(&[("john smith", &[("jon smith", "12 Baker Street, London NW1, United Kingdom")])]);
    let b = miner(&[("john smith", &[("jhonny smit", "99 Baker Street, London W1, United Kingdom")])]);
    let stage = run_cheat_stage(&[&a, &b], &[0.7, 0.3], &seeds(&["john smith"]), &[0.0, 0.0]);
    for p in &stage.penalties {
        assert!(close(p.address_duplication, 0.6), "jaccard 1 -> min(0.6, 0.8)");
    }
}

/// The base reward of 8.6 rebuilt from the recorded per-miner metrics.
fn base_reward(m: &Value) -> f64 {
    let completeness = m["completeness_multiplier"].as_f64().unwrap();
    if completeness == 0.0 {
        return 0.0;
    }
    let avg = m["average_quality"].as_f64().unwrap();
    let identity = 0.2 * avg + 0.1 * m["dob_score"].as_f64().unwrap() + 0.7 * m["address_score"].as_f64().unwrap();
    identity * completeness
}

#[test]
fn cheat_stage_matches_reference_rounds() {
    let rounds = common::cases("rounds.jsonl");
    let mut checked = 0;
    for (r, round) in rounds.iter().enumerate() {
        let uav_seed = round["uav_seed"].as_str();
        // Processed seed names: Latin seeds unchanged, non-Latin ones replaced by a name no miner
        // keys (the transliteration; no response in these rounds has a non-seed key).
        let processed: Vec<String> = round["seeds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                let name = s["name"].as_str().unwrap();
                if s["script"] == "latin" { name.to_owned() } else { format!("\u{1}translit:{name}") }
            })
            .collect();
        let responses: Vec<Map> = round["responses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| miid_scoring::normalise((!v.is_null()).then_some(v), uav_seed).rows)
            .collect();
        let per_miner = round["per_miner"].as_array().unwrap();
        let base: Vec<f64> = per_miner.iter().map(base_reward).collect();
        let total_penalty: Vec<f64> =
            per_miner.iter().map(|m| m["penalties"]["total_penalty"].as_f64().unwrap()).collect();
        let stage = run_cheat_stage(&responses, &base, &processed, &total_penalty);
        assert!(stage.error.is_none(), "round {r}");
        for (i, m) in per_miner.iter().enumerate() {
            let pen = &m["penalties"];
            let got = &stage.penalties[i];
            let ctx = format!("round {r} miner {i}");
            assert!(close(pen["special_chars_ratio"].as_f64().unwrap(), got.special_chars_ratio), "{ctx}");
            assert_eq!(
                pen["special_char_variations_count"].as_u64().unwrap() as usize,
                got.special_char_variations_count,
                "{ctx}"
            );
            assert_eq!(pen["total_variations_count"].as_u64().unwrap() as usize, got.total_variations_count, "{ctx}");
            let slots: Vec<(&str, f64)> = got.nonzero_slots();
            for key in ["collusion", "duplication", "signature_copy", "special_chars", "post_address_duplication"] {
                let want = pen.get(key).and_then(Value::as_f64);
                let have = slots.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
                match (want, have) {
                    (None, None) => {}
                    (Some(w), Some(h)) => assert!(close(w, h), "{ctx} {key}: want {w} got {h}"),
                    _ => panic!("{ctx} {key}: want {want:?} got {have:?}\n{got:?}"),
                }
            }
            let applied = &stage.applied[i];
            for (key, have) in [
                ("post_total_penalty", applied.post_total_penalty),
                ("overall_total_penalty", applied.overall_total_penalty),
            ] {
                let want = pen.get(key).and_then(Value::as_f64);
                match (want, have) {
                    (None, None) => {}
                    (Some(w), Some(h)) => assert!(close(w, h), "{ctx} {key}: want {w} got {h}"),
                    _ => panic!("{ctx} {key}: want {want:?} got {have:?}"),
                }
            }
            let want = m["ranking_info"]["initial_reward"].as_f64().unwrap();
            assert!((want - stage.rewards[i]).abs() <= 1e-9, "{ctx}: reward want {want} got {}", stage.rewards[i]);
            checked += 1;
        }
    }
    assert_eq!(rounds.len(), 20);
    eprintln!("cheat stage: {checked} miners over {} rounds match", rounds.len());
}
