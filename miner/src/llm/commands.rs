//! `miner models ...`: fetch model weights (explicit only: nothing downloads by itself) and try
//! a model on query templates next to the rules parser.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;

use super::LanguageModel;
use super::local::{LocalModel, default_device};

#[derive(Debug, clap::Subcommand)]
pub enum ModelsCommand {
    /// Download one file of a Hugging Face Hub model repository (resumable, with a progress
    /// bar) and print its local path.
    Download {
        /// Repository id, e.g. `HuggingFaceTB/SmolLM2-360M-Instruct-GGUF`.
        #[arg(long)]
        repo: String,
        /// File in the repository, e.g. `smollm2-360m-instruct-q8_0.gguf`.
        #[arg(long)]
        file: String,
        /// Cache directory (default: the Hugging Face cache, `$HF_HOME/hub`).
        #[arg(long)]
        cache_dir: Option<PathBuf>,
        /// Hub endpoint (a mirror).
        #[arg(long)]
        endpoint: Option<String>,
    },
    /// Run a local GGUF model on query templates and compare with the rules parser: what the
    /// model adds and what it costs.
    Check {
        /// The GGUF file.
        #[arg(long)]
        gguf: PathBuf,
        /// A template file to try (default: three built-in ones: the reference's fallback
        /// text, an LLM-written text with validation hints, and a vague LLM-written text).
        #[arg(long)]
        template: Option<PathBuf>,
        /// Most time one model call may take, in seconds.
        #[arg(long, default_value_t = 120.0)]
        budget_s: f64,
    },
}

const BUILTIN: &[(&str, &str)] = &[
    (
        "template fallback (spec 6.9)",
        "The following name is the seed name to generate variations for: {name}. Generate 8 variations of the name {name}, ensuring phonetic similarity: 10% Light, 30% Medium, 60% Far, and orthographic similarity: 10% Light, 50% Medium, 40% Far, and also include 14% of variations that follow: Additionally, generate variations that perform these transformations: Replace random consonants with different consonants, and Use first name initial with last name.",
    ),
    (
        "LLM-written with hints (spec 6.6)",
        "Create ten variations of {name} that sound alike (Light 30%) and look alike. 25% per rule: swap vowels.\n[VALIDATION HINTS]: Exact number of variations: 12.; Phonetic similarity: 30% Light, 40% Medium.; Orthographic similarity: 20% Light.; Apply these rule-based transformations: Replace random vowels with different vowels; Delete a random letter.",
    ),
    (
        "vague LLM-written",
        "Write a dozen alternative spellings of {name}; keep about half of them close in sound and the rest looser. For roughly a fifth, reduce the given name to its first letter.",
    ),
];

fn show(spec: &crate::query::QuerySpec) -> String {
    format!(
        "count {} phonetic {:?} orthographic {:?} rules {:?} rule% {} (confidence {:.2})",
        spec.variation_count, spec.phonetic, spec.orthographic, spec.rules, spec.rule_percentage, spec.confidence
    )
}

/// Runs a models subcommand.
pub async fn run(cmd: ModelsCommand) -> anyhow::Result<()> {
    match cmd {
        ModelsCommand::Download { repo, file, cache_dir, endpoint } => {
            let mut b = hf_hub::api::tokio::ApiBuilder::from_env().with_progress(true);
            if let Some(dir) = cache_dir {
                b = b.with_cache_dir(dir);
            }
            if let Some(e) = endpoint {
                b = b.with_endpoint(e);
            }
            let api = b.build().context("Hugging Face Hub client")?;
            let path =
                api.model(repo.clone()).get(&file).await.with_context(|| format!("downloading {repo}/{file}"))?;
            println!("{}", path.display());
        }
        ModelsCommand::Check { gguf, template, budget_s } => {
            let started = Instant::now();
            let model =
                LocalModel::load(&gguf, default_device()).with_context(|| format!("loading {}", gguf.display()))?;
            println!("model {} loaded in {:.0} ms", model.name(), started.elapsed().as_secs_f64() * 1e3);
            let templates: Vec<(String, String)> = match template {
                Some(p) => vec![(
                    p.display().to_string(),
                    std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))?,
                )],
                None => BUILTIN.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect(),
            };
            let budget = Duration::from_secs_f64(budget_s.max(0.0));
            for (label, text) in templates {
                println!("\n== {label}");
                let t = Instant::now();
                let rules = crate::query::parse(&text);
                println!("rules parse ({:.2} ms): {}", t.elapsed().as_secs_f64() * 1e3, show(&rules));
                let t = Instant::now();
                let prompt = super::labels_prompt(crate::query::name_section(&text));
                let reply = tokio::time::timeout(budget, model.complete(&prompt, 160)).await;
                let took = t.elapsed();
                match reply {
                    Err(_) => println!("model: no answer within {budget:?}"),
                    Ok(Err(e)) => println!("model failed after {:.0} ms: {e}", took.as_secs_f64() * 1e3),
                    Ok(Ok(reply)) => {
                        println!(
                            "model answer ({:.0} ms): {}",
                            took.as_secs_f64() * 1e3,
                            reply.trim().replace('\n', " ")
                        );
                        let mut merged = rules.clone();
                        let taken =
                            super::first_json_object(&reply).map_or(0, |v| super::merge_labels(&mut merged, &v));
                        if rules.confidence >= crate::query::LOW_CONFIDENCE {
                            println!("-> the miner would not ask the model here (the rules parse is confident)");
                        } else {
                            println!("-> fields the model filled: {taken}; merged: {}", show(&merged));
                        }
                    }
                }
            }
        }
    }
    Ok(())
}
