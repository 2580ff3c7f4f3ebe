//! Building the request a validator sends (spec validator-round.md; miner-protocol.md 3.4).
//!
//! R1: seed identities from several scripts, the reference's default query template, and the
//! UAV block naming one seed. R2: an image request of the five catalogue variations with their
//! description texts, the drand target of the round arithmetic and a challenge id.

use rand::Rng;
use rand::seq::{IndexedRandom, SliceRandom};

use miid_protocol::drand::{R2_REVEAL_DELAY_S, Schedule};
use miid_protocol::synapse::{Generation, IdentitySynapse, ImageRequest, VariationRequest};
use miid_scoring::kav;

/// `(name, dob, country, script)` seeds across Latin, Cyrillic, Arabic and CJK names. The
/// script decides which name scorer applies (only `latin` gets the full one, spec Q25).
const SEED_POOL: &[(&str, &str, &str, &str)] = &[
    ("John Smith", "1990-05-14", "United States", "latin"),
    ("Maria Garcia", "1985-02-01", "Spain", "latin"),
    ("Olivia Brown", "1978-11-23", "United Kingdom", "latin"),
    ("Lukas Schneider", "1992-07-09", "Germany", "latin"),
    ("Chloe Martin", "2001-03-30", "France", "latin"),
    ("Giulia Romano", "1969-12-05", "Italy", "latin"),
    ("Иван Петров", "1970-07-07", "Russia", "cyrillic"),
    ("Олена Коваленко", "1988-09-17", "Ukraine", "cyrillic"),
    ("محمد العلي", "1983-04-12", "Syria", "arabic"),
    ("فاطمة حسن", "1995-01-28", "Egypt", "arabic"),
    ("王伟", "1975-08-19", "China", "chinese"),
    ("山田太郎", "1980-10-10", "Japan", "japanese"),
    ("Kim Minjun", "1999-06-21", "South Korea", "latin"),
    ("Ahmed Khan", "1987-02-14", "Pakistan", "latin"),
    ("Priya Sharma", "1993-05-03", "India", "latin"),
    ("Carlos Silva", "1972-09-29", "Brazil", "latin"),
];

/// The reference's default template, with `{name}`/`{address}`/`{dob}` left for the miner.
fn default_template(count: usize) -> String {
    format!(
        "The following name is the seed name to generate variations for: {{name}}. Generate {count} variations of the name {{name}}, \
ensuring phonetic similarity: {{'Medium': 0.5}}, and orthographic similarity: {{'Medium': 0.5}}, and also include 30% of variations \
that follow: Additionally, generate variations that perform these transformations: Replace random vowels with different vowels. \
The following address is the seed country/city to generate address variations for: {{address}}. Generate unique real addresses \
within the specified country/city for each variation.  The following date of birth is the seed DOB to generate variations for: {{dob}}."
    )
}

fn uav_block(seed: &str) -> String {
    format!(
        "\n\n[UAV REQUIREMENTS - Phase 3]:\nFor the seed \"{seed}\" ONLY, use this structure: \
{{\"{seed}\": {{\"variations\": [[name, dob, address], ...], \"uav\": {{\"address\": \"...\", \"label\": \"...\", \"latitude\": ..., \"longitude\": ...}}}}}}. \
The UAV address must be in the seed's country/city and look legitimate but might fail geocoding \
(e.g. \"123 Main Str\" typo, \"456 Oak Av\" abbreviation, \"789 1st St\" missing direction); explain it in \"label\"."
    )
}

/// An R1 request and what the scorer needs to grade the answers to it.
#[derive(Debug, Clone)]
pub struct R1Query {
    pub synapse: IdentitySynapse,
    /// The seed named in the UAV block (labelled High Risk).
    pub uav_seed: String,
    /// The seeds as the scorer reads them (script and label included).
    pub seeds: Vec<kav::Seed>,
    /// The parameters the template asks for, as the scorer reads them.
    pub params: kav::Query,
}

/// An R1 request of `n_seeds` seeds and `count` variations each.
pub fn r1_query(n_seeds: usize, count: usize, timeout: f64, rng: &mut impl Rng) -> R1Query {
    let mut pool: Vec<_> = SEED_POOL.to_vec();
    pool.shuffle(rng);
    let chosen: Vec<_> = pool.into_iter().take(n_seeds.clamp(1, SEED_POOL.len())).collect();
    let uav_seed = chosen.choose(rng).expect("at least one seed").0.to_owned();
    let mut s = IdentitySynapse::new(Generation::R1, timeout);
    s.identity = Some(chosen.iter().map(|(n, d, c, _)| vec![(*n).into(), (*d).into(), (*c).into()]).collect());
    s.query_template = Some(default_template(count) + &uav_block(&uav_seed));
    let seeds = chosen
        .iter()
        .map(|(name, dob, country, script)| kav::Seed {
            name: (*name).into(),
            dob: (*dob).into(),
            address: (*country).into(),
            script: (*script).into(),
            label: if *name == uav_seed { "High Risk" } else { "positive" }.into(),
        })
        .collect();
    // What default_template asks for, in the scorer's terms.
    let params = kav::Query {
        variation_count: count as u32,
        phonetic_similarity: [("Medium".to_owned(), 0.5)].into_iter().collect(),
        orthographic_similarity: [("Medium".to_owned(), 0.5)].into_iter().collect(),
        rule_based: Some(
            serde_json::json!({"selected_rules": ["replace_random_vowel_with_random_vowel"], "rule_percentage": 30}),
        ),
    };
    R1Query { synapse: s, uav_seed, seeds, params }
}

/// A 1×1 PNG (the spec's worked example), the base image when no folder is given.
pub const TINY_PNG_B64: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";

const COMPOSITION: &str = "All images are Professional passport-style portraits, 3:4 aspect ratio, head-and-shoulders composition from chest up. Recommended output resolution: 1015 x 1350 pixels.";
const INTENSITIES: &[&str] = &["light", "medium", "far"];

fn component(kind: &str, intensity: &str) -> (&'static str, &'static str) {
    let table: &[(&str, &str, [&str; 3])] = &[
        (
            "pose_edit",
            "Change head pose (yaw/pitch/roll) while keeping identity",
            [
                "±15° rotation (slight head tilt or turn)",
                "±30° rotation (clear head turn, profile partially visible)",
                ">±45° rotation (near-profile view, significant angle change)",
            ],
        ),
        (
            "lighting_edit",
            "Modify illumination direction, intensity, or color temperature",
            [
                "Subtle brightness or contrast change, soft shadows",
                "Clear directional light source, noticeable shadows, moderate intensity shift",
                "Strong shadows, dramatic contrast, unusual color temperature (warm/cool cast)",
            ],
        ),
        (
            "expression_edit",
            "Change facial expression while preserving identity",
            [
                "Neutral to slight smile, minor brow movement, relaxed to attentive",
                "Neutral to smile, serious, or mildly surprised expression",
                "Laughing, surprised, concerned, or other pronounced expression",
            ],
        ),
    ];
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
        let (s, uav) = (q.synapse, q.uav_seed);
        assert_eq!(q.seeds.iter().filter(|seed| seed.label == "High Risk").count(), 1);
        assert!(
            miid_scoring::rules::rule_info("replace_random_vowel_with_random_vowel").is_some(),
            "the template's rule is a real rule"
        );
        let ids = s.identity.unwrap();
        assert_eq!(ids.len(), 5);
        assert!(ids.iter().any(|r| r[0] == uav));
        let t = s.query_template.unwrap();
        assert!(t.contains("{name}") && t.contains("Generate 8 variations"));
        assert!(t.contains(&format!("For the seed \"{uav}\" ONLY")));
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
