//! Building the request a validator sends (spec validator-round.md; miner-protocol.md 3.4).
//!
//! R1 ([`build_r1`]): the reference's query generator — seed identities ([`crate::seeds`]), query
//! parameters and template ([`crate::template`]), UAV block and image request ([`crate::image`]),
//! in the reference's order of draws. R2: an image request of the five catalogue variations with their
//! description texts, the drand target of the round arithmetic and a challenge id.

use std::path::PathBuf;

use rand::Rng;
use rand::seq::IndexedRandom;
use serde::{Deserialize, Serialize};

use miid_protocol::drand::{R1_REVEAL_DELAY_S, R2_REVEAL_DELAY_S, Schedule};
use miid_protocol::synapse::{Generation, IdentitySynapse, ImageRequest, VariationRequest};
use miid_scoring::kav;
use miid_scoring::rng::PyRandom;

use crate::image;
use crate::seeds::{self, Faker, Identity};
use crate::template::{self, QueryLabels, TemplateWriter};

/// Which of the reference's template forms a round uses (6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum TemplateMode {
    /// The template fallback (6.2): what a reference validator sends when its LLM is down.
    #[default]
    Fallback,
    /// LLM-written text (6.3) from the offline [`template::CannedWriter`], statically validated,
    /// with hints appended (6.5/6.6).
    Llm,
    /// `neuron.use_default_query`: always ends in the exception fallback (6.4, V3).
    DefaultQuery,
}

/// How to generate an R1 query.
#[derive(Debug, Clone)]
pub struct R1Options {
    /// `seed_names.sample_size` (reference 15).
    pub sample_size: usize,
    /// Overrides the drawn variation count (the draw is still made, keeping the draw order).
    pub variation_count: Option<u32>,
    pub mode: TemplateMode,
    /// Base images; `None` or a failing folder → no image request (9.1).
    pub image_dir: Option<PathBuf>,
    pub schedule: Schedule,
    /// Reference 4320 s (V13).
    pub reveal_delay_s: u64,
    /// "Today" for dates of birth.
    pub today: chrono::NaiveDate,
    /// Unix seconds (challenge id, drand target).
    pub now: u64,
}

impl Default for R1Options {
    fn default() -> Self {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        R1Options {
            sample_size: 15,
            variation_count: None,
            mode: TemplateMode::Fallback,
            image_dir: None,
            schedule: Schedule::default(),
            reveal_delay_s: R1_REVEAL_DELAY_S,
            today: chrono::Utc::now().date_naive(),
            now,
        }
    }
}

/// How the template was produced (the results record's `query_generation`/`query_validation`).
#[derive(Debug, Clone, Serialize)]
pub struct GenerationInfo {
    pub mode: TemplateMode,
    pub model_used: Option<String>,
    pub decision: String,
    pub static_issues: Vec<String>,
    pub final_issues: Vec<String>,
    pub template_has_hints: bool,
    pub generation_time: f64,
}

/// An R1 request and what the scorer needs to grade the answers to it.
#[derive(Debug, Clone)]
pub struct R1Query {
    pub synapse: IdentitySynapse,
    /// The seed named in the UAV block (a High Risk seed); none in the exception fallback.
    pub uav_seed: Option<String>,
    /// The identities in seed (send) order, `UAV` flag set.
    pub identities: Vec<Identity>,
    /// The seeds as the scorer reads them (script and label included).
    pub seeds: Vec<kav::Seed>,
    /// The parameters the template asks for, as the scorer reads them.
    pub params: kav::Query,
    pub labels: QueryLabels,
    /// The template before the UAV and image blocks (for `formatted_queries`, 14.1).
    pub base_template: String,
    pub generation: GenerationInfo,
}

/// Builds an R1 request as the reference does (sections 4–9), drawing from `global` in the
/// reference's order; `faker` supplies the Faker-generated names; `writer` is the LLM backend for
/// [`TemplateMode::Llm`]. `image_cycle` is the persistent `global_index` (9.2).
pub fn build_r1<R: Rng>(
    opts: &R1Options,
    validator_ss58: &str,
    global: &mut PyRandom,
    faker_rng: &mut R,
    writer: Option<&mut dyn TemplateWriter>,
    image_cycle: &mut u64,
    timeout: f64,
) -> R1Query {
    let started = std::time::Instant::now();
    let mut faker = Faker { rng: faker_rng, today: opts.today };
    let (mut vc, mut phon, mut orth, mut p) = template::draw_params(global);
    if let Some(v) = opts.variation_count {
        vc = v;
    }
    let (identities, labels, base, info) = match opts.mode {
        TemplateMode::DefaultQuery => {
            // 6.4: the drawn values are overwritten, then the crash sends the round into the
            // exception fallback (15 variations, fresh rules, Latin negatives only).
            (vc, phon, orth, p) = (10, vec![("Medium".into(), 0.5)], vec![("Medium".into(), 0.5)], 30);
            let _ = (vc, &phon, &orth, p);
            let labels = QueryLabels {
                variation_count: opts.variation_count.unwrap_or(15),
                phonetic: vec![("Medium".into(), 0.5)],
                orthographic: vec![("Medium".into(), 0.5)],
                rule_percentage: 30,
                selected_rules: template::draw_rules(global),
            };
            let base = template::exception_core(&labels) + &template::address_dob_suffix(true);
            let ids = seeds::fallback(opts.sample_size, global, &mut faker);
            let info = GenerationInfo {
                mode: opts.mode,
                model_used: None,
                decision: "Used fallback query generation due to an exception.".into(),
                static_issues: vec![],
                final_issues: vec![],
                template_has_hints: false,
                generation_time: 0.0,
            };
            (ids, labels, base, info)
        }
        TemplateMode::Fallback | TemplateMode::Llm => {
            let labels = QueryLabels {
                variation_count: vc,
                phonetic: phon,
                orthographic: orth,
                rule_percentage: p,
                selected_rules: template::draw_rules(global),
            };
            let (core, info) = write_core(opts.mode, &labels, writer);
            let base = core + &template::address_dob_suffix(false);
            let ids = seeds::generate(opts.sample_size, global, &mut faker);
            (ids, labels, base, info)
        }
    };
    let mut identities = identities;
    let uav_seed = seeds::choose_uav(&mut identities, global);
    let mut template = base.clone();
    if let Some(seed) = &uav_seed {
        template.push_str(&template::uav_block(seed));
    }
    let image = opts.image_dir.as_deref().and_then(|dir| {
        image::build(
            global,
            image::ImageParams {
                dir,
                global_index: image_cycle,
                now: opts.now,
                schedule: opts.schedule,
                reveal_delay_s: opts.reveal_delay_s,
                validator_ss58,
            },
        )
    });
    let image_request = image.map(|(req, block)| {
        template.push_str(&block);
        req
    });
    let mut s = IdentitySynapse::new(Generation::R1, timeout);
    s.identity = Some(identities.iter().map(|i| vec![i.name.clone(), i.dob.clone(), i.address.clone()]).collect());
    s.query_template = Some(template);
    s.image_request = image_request;
    let info = GenerationInfo { generation_time: started.elapsed().as_secs_f64(), ..info };
    R1Query {
        synapse: s,
        uav_seed,
        seeds: identities.iter().map(Identity::to_seed).collect(),
        params: labels.to_query(),
        identities,
        labels,
        base_template: base,
        generation: info,
    }
}

/// The template core and how it was obtained (6.2, 6.3, 6.5, 6.6).
fn write_core(
    mode: TemplateMode,
    labels: &QueryLabels,
    writer: Option<&mut dyn TemplateWriter>,
) -> (String, GenerationInfo) {
    let fallback = |decision: &str| {
        (
            template::fallback_core(labels),
            GenerationInfo {
                mode,
                model_used: None,
                decision: decision.into(),
                static_issues: vec![],
                final_issues: vec![],
                template_has_hints: false,
                generation_time: 0.0,
            },
        )
    };
    let Some(writer) = writer.filter(|_| mode == TemplateMode::Llm) else {
        return fallback("Fell back to simple template after all LLM generation attempts failed.");
    };
    match writer.write(&template::generation_prompt(labels), labels) {
        Err(e) => {
            tracing::warn!(error = %e, "query writer failed; template fallback");
            fallback("Fell back to simple template after all LLM generation attempts failed.")
        }
        Ok(reply) => {
            let reply = reply.trim().to_owned();
            let v = template::static_validate(&reply, labels);
            // No judge backend: a judge that cannot be reached adds no issues (lenient mode, 6.7).
            let hinted = template::append_hints(&reply, &v.issues);
            let decision = if v.valid {
                "Used template from this attempt."
            } else {
                "Proceeded with invalid template from this attempt after adding hints."
            };
            let has_hints = hinted != reply;
            (
                hinted,
                GenerationInfo {
                    mode,
                    model_used: Some(writer.model()),
                    decision: decision.into(),
                    static_issues: v.issues.clone(),
                    final_issues: v.issues,
                    template_has_hints: has_hints,
                    generation_time: 0.0,
                },
            )
        }
    }
}

/// An R1 request of `n_seeds` seeds and `count` variations each, drawn as the reference does
/// (template fallback, no image request) from a generator seeded by `rng`.
pub fn r1_query(n_seeds: usize, count: usize, timeout: f64, rng: &mut impl Rng) -> R1Query {
    let mut global = PyRandom::new(rng.random::<u64>() as u128);
    let opts = R1Options { sample_size: n_seeds, variation_count: Some(count as u32), ..R1Options::default() };
    let mut cycle = 0;
    build_r1(&opts, "", &mut global, rng, None, &mut cycle, timeout)
}

/// A 1×1 PNG (the spec's worked example), the base image when no folder is given.
pub const TINY_PNG_B64: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";

const COMPOSITION: &str = "All images are Professional passport-style portraits, 3:4 aspect ratio, head-and-shoulders composition from chest up. Recommended output resolution: 1015 x 1350 pixels.";
const INTENSITIES: &[&str] = &["light", "medium", "far"];

/// The R1 catalogue's description and per-intensity detail of one component (the same texts
/// as the image request's catalogue, spec 9.2).
fn component(kind: &str, intensity: &str) -> (&'static str, &'static str) {
    let table = crate::image::CATALOGUE;
    let i = INTENSITIES.iter().position(|x| *x == intensity).unwrap_or(1);
    let (_, d, details) = table.iter().find(|(k, _, _)| *k == kind).expect("known component");
    (d, details[i])
}

fn background(indoor: bool, rng: &mut impl Rng) -> VariationRequest {
    let intensity = *INTENSITIES.choose(rng).expect("intensities");
    let (env, details) = if indoor {
        (
            "Indoor background change",
            [
                "Same indoor context; wall color shift, bokeh/blur, or subtle texture change",
                "Switch to another plausible indoor environment (e.g. office to cafe, bedroom to lobby); still fully indoors",
                "Move to a clearly different indoor setting with distinct interior design and scene depth (e.g., office, lobby, studio, gallery), while keeping the background fully indoors with no outdoor elements",
            ],
        )
    } else {
        (
            "Outdoor background change",
            [
                "Same outdoor context with subtle changes (e.g. slight depth-of-field shift, mild scene texture variation, or small lighting-direction change)",
                "Switch to a different plausible outdoor environment (e.g. street to park, plaza to waterfront) while keeping the subject unchanged",
                "Move to a clearly different outdoor setting with distinct scene composition and depth (e.g., urban street, beach promenade, mountain overlook, garden path)",
            ],
        )
    };
    // Accessory weights of R2 (spec 3.4).
    let accessories: &[(&str, &str, u32)] = &[
        (
            "Add religious head covering",
            "Religious head covering (hijab, turban, kippah, taqiyah, etc.) appropriate to subject",
            65,
        ),
        (
            "Add brim hat (not baseball)",
            "Brim hat such as fedora, wide-brim hat, sun hat, or similar (not baseball cap)",
            10,
        ),
        ("Add knit or winter hat", "Knit hat, beanie, or winter hat", 10),
        ("Add bandana", "Bandana worn on head", 5),
        ("Add baseball cap", "Baseball cap or similar sports cap", 5),
        (
            "Add headphones",
            "over-ear headphones in black with a matte plastic frame, matte finish, standard fit, and padded headband",
            5,
        ),
    ];
    let (acc_desc, acc_detail, _) = *accessories.choose_weighted(rng, |a| a.2).expect("weights are positive");
    let i = INTENSITIES.iter().position(|x| *x == intensity).expect("known");
    VariationRequest {
        kind: "background_edit".into(),
        intensity: intensity.into(),
        description: format!("Change the background while keeping the subject unchanged. {env}. {acc_desc}"),
        detail: format!("{}. Additionally, include: {acc_detail}. {COMPOSITION}", details[i]),
    }
}

fn combined(a: &str, b: &str, rng: &mut impl Rng) -> VariationRequest {
    let (ia, ib) = (*INTENSITIES.choose(rng).expect("i"), *INTENSITIES.choose(rng).expect("i"));
    let (da, ta) = component(a, ia);
    let (db, tb) = component(b, ib);
    VariationRequest {
        kind: format!("{a}+{b}"),
        intensity: format!("{ia}+{ib}"),
        description: format!(
            "Combined variation \u{2014} apply all of the following while preserving identity: {a} ({ia}): {da}; {b} ({ib}): {db}"
        ),
        detail: format!("{a} ({ia}): {ta} AND {b} ({ib}): {tb}. {COMPOSITION}"),
    }
}

/// An R2 request for `validator_ss58`, created at `now` (Unix seconds).
pub fn r2_query(
    base_image_b64: &str,
    image_filename: &str,
    validator_ss58: &str,
    now: u64,
    schedule: Schedule,
    timeout: f64,
    rng: &mut impl Rng,
) -> IdentitySynapse {
    let (round, reveal) = schedule.target(now, R2_REVEAL_DELAY_S);
    let variation_requests = vec![
        background(true, rng),
        background(false, rng),
        combined("lighting_edit", "expression_edit", rng),
        combined("lighting_edit", "pose_edit", rng),
        combined("pose_edit", "expression_edit", rng),
    ];
    let mut s = IdentitySynapse::new(Generation::R2, timeout);
    s.image_request = Some(ImageRequest {
        base_image: base_image_b64.to_owned(),
        image_filename: image_filename.to_owned(),
        variation_requests,
        target_drand_round: round,
        reveal_timestamp: reveal as i64,
        challenge_id: Some(format!("challenge_{now}_{}", &validator_ss58[..8.min(validator_ss58.len())])),
        daily_seed_image: Some(None),
        daily_seed_filename: Some(None),
        real_screen_replay_instructions: Some(None),
    });
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn r1_names_the_uav_seed_among_the_seeds() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let q = r1_query(5, 8, 60.0, &mut rng);
        let uav = q.uav_seed.clone().expect("a High Risk seed");
        assert_eq!(q.seeds.iter().filter(|s| s.name == uav && s.label == "High Risk").count(), 1);
        let ids = q.synapse.identity.unwrap();
        assert_eq!(ids.len(), 5);
        assert!(ids.iter().any(|r| r[0] == uav));
        let t = q.synapse.query_template.unwrap();
        assert!(t.contains("{name}") && t.contains("Generate 8 variations of the name {name}"));
        assert!(t.contains(&format!("For the seed \"{uav}\" ONLY")));
    }

    /// A base-image folder made for the tests (small generated PNGs named as the reference names
    /// its portraits), so the suite does not depend on fixtures outside the repository.
    fn base_images() -> &'static std::path::Path {
        static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
        DIR.get_or_init(|| {
            let d = tempfile::tempdir().unwrap();
            for (i, name) in
                ["0a1b2c3d4e5f_f_doc.png", "1a2b3c4d5e6f_m_doc.png", "2a3b4c5d6e7f_f_doc.png"].iter().enumerate()
            {
                let img = ::image::RgbImage::from_fn(16, 16, |x, y| {
                    ::image::Rgb([(x * 16) as u8, (y * 16) as u8, (i * 80) as u8])
                });
                img.save(d.path().join(name)).unwrap();
            }
            d
        })
        .path()
    }

    fn opts(seed: u64, mode: TemplateMode, images: bool) -> R1Options {
        R1Options {
            mode,
            image_dir: images.then(|| base_images().to_path_buf()),
            today: chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
            now: 1_767_225_600 + seed,
            ..R1Options::default()
        }
    }

    fn build(seed: u64, mode: TemplateMode, images: bool) -> R1Query {
        let mut global = PyRandom::new(seed as u128);
        let mut faker = rand::rngs::StdRng::seed_from_u64(seed);
        let mut writer = template::CannedWriter::new(seed);
        let mut cycle = seed * 2;
        build_r1(
            &opts(seed, mode, images),
            "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY",
            &mut global,
            &mut faker,
            Some(&mut writer),
            &mut cycle,
            1650.0,
        )
    }

    /// Table-driven over many seeds and every template form: the sent template passes the
    /// validator's own static checks (6.6) once hints are counted, carries the suffixes and
    /// blocks in the reference's order, and the labels follow the reference's ranges.
    #[test]
    fn generated_queries_pass_the_reference_checks() {
        for mode in [TemplateMode::Fallback, TemplateMode::Llm, TemplateMode::DefaultQuery] {
            let mut hinted = 0;
            for seed in 0..60 {
                let q = build(seed, mode, seed % 3 != 0);
                let t = q.synapse.query_template.as_deref().unwrap();
                let l = &q.labels;
                assert!(t.starts_with(q.base_template.as_str()));
                let v = template::static_validate(&q.base_template, l);
                assert!(v.valid, "{mode:?} seed {seed}: {t}");
                match mode {
                    TemplateMode::Fallback => {
                        assert!((6..=15).contains(&l.variation_count) && (10..=60).contains(&l.rule_percentage));
                        assert!(v.issues.is_empty(), "seed {seed}: {:?}", v.issues);
                        assert!(q.base_template.starts_with("The following name is the seed name"));
                    }
                    TemplateMode::Llm => {
                        // Whatever the writer missed is spelled out in the hints line.
                        let core_issues = &q.generation.static_issues;
                        if !core_issues.is_empty() {
                            hinted += 1;
                            let hints = format!("\n[VALIDATION HINTS]: {}", core_issues.join("; "));
                            assert!(q.base_template.contains(&hints), "seed {seed}");
                        }
                    }
                    TemplateMode::DefaultQuery => {
                        assert_eq!((l.variation_count, l.rule_percentage), (15, 30));
                        assert!(t.contains("ensuring phonetic similarity: {'Medium': 0.5}"));
                        assert!(!t.contains("For year+month"));
                        assert!(q.uav_seed.is_none() && !t.contains("[UAV REQUIREMENTS"));
                        assert!(q.identities.iter().all(|i| i.label == seeds::Label::Negative));
                    }
                }
                assert!((1..=3).contains(&l.selected_rules.len()));
                let ids = q.synapse.identity.as_ref().unwrap();
                assert_eq!(ids.len(), 15);
                for placeholder in ["{name}", "{address}", "{dob}", "[ADDITIONAL CONTEXT]:"] {
                    assert!(t.contains(placeholder), "{placeholder}");
                }
                let uav_at = t.find("[UAV REQUIREMENTS - Phase 3]:");
                let img_at = t.find("[IMAGE VARIATION REQUIREMENTS]");
                if let Some(seed_name) = &q.uav_seed {
                    assert!(t.contains(&format!("For the seed \"{seed_name}\" ONLY")));
                    let flagged = q.identities.iter().find(|i| i.uav).unwrap();
                    assert_eq!((&flagged.name, flagged.label), (seed_name, seeds::Label::HighRisk));
                }
                match (&q.synapse.image_request, img_at) {
                    (Some(img), Some(at)) => {
                        assert!(uav_at.is_none_or(|u| u < at), "UAV block before the image block");
                        assert!(t.ends_with("intensity level.\n"));
                        assert!((1..=3).contains(&img.variation_requests.len()));
                        assert_eq!(img.reveal_timestamp as u64, Schedule::default().time_of(img.target_drand_round));
                        assert!(img.challenge_id.as_deref().unwrap().starts_with("challenge_"));
                    }
                    (None, None) => assert_eq!(seed % 3, 0),
                    other => panic!("image request and block disagree: {:?}", other.1),
                }
                // The scorer's view agrees with what was sent.
                assert_eq!(q.params.variation_count, l.variation_count);
                for (row, seed) in ids.iter().zip(&q.seeds) {
                    assert_eq!((&row[0], &row[1], &row[2]), (&seed.name, &seed.dob, &seed.address));
                }
            }
            if mode == TemplateMode::Llm {
                assert!(hinted > 0, "the LLM-style writer sometimes misses requirements");
            }
        }
    }

    #[test]
    fn same_seed_same_query() {
        let (a, b) = (build(9, TemplateMode::Fallback, true), build(9, TemplateMode::Fallback, true));
        assert_eq!(a.synapse, b.synapse);
    }

    #[test]
    fn r2_has_the_five_catalogue_entries_and_round_arithmetic() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(2);
        let s = r2_query(
            TINY_PNG_B64,
            "a1b2c3d4e5f6_m_doc.png",
            "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY",
            1_754_000_000,
            Schedule::default(),
            1200.0,
            &mut rng,
        );
        let img = s.image_request.unwrap();
        let kinds: Vec<_> = img.variation_requests.iter().map(|v| v.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "background_edit",
                "background_edit",
                "lighting_edit+expression_edit",
                "lighting_edit+pose_edit",
                "pose_edit+expression_edit"
            ]
        );
        assert!(img.variation_requests[0].description.contains("Indoor"));
        assert!(img.variation_requests[1].description.contains("Outdoor"));
        assert!(img.variation_requests.iter().all(|v| v.detail.ends_with(COMPOSITION)));
        assert_eq!((img.target_drand_round, img.reveal_timestamp), (20_399_678, 1_754_002_398));
        assert_eq!(img.challenge_id.as_deref(), Some("challenge_1754000000_5GrwvaEF"));
    }
}
