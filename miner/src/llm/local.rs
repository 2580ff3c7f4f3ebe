//! Local inference with quantized GGUF llama-family models on candle (CPU by default; the
//! `cuda` feature moves it to a GPU).
//!
//! The tokenizer is built from the GGUF file itself (`tokenizer.ggml.tokens` and `.merges`, the
//! GPT-2 byte-level BPE that SmolLM2, Llama 3 and Qwen use), so one file is all a model needs.
//! Decoding is greedy. Inference is CPU-bound, so [`LocalModel::complete`] runs it on the
//! blocking pool and the async caller's time budget still applies.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use candle_core::quantized::gguf_file;
use candle_core::{Device, Tensor};
use candle_transformers::models::quantized_llama::ModelWeights;
use tokenizers::models::bpe::BPE;
use tokenizers::{AddedToken, Tokenizer};

use super::{LanguageModel, LlmError};

/// A loaded GGUF model and its tokenizer.
pub struct LocalModel {
    path: PathBuf,
    inner: Arc<Mutex<Loaded>>,
}

struct Loaded {
    weights: ModelWeights,
    tokenizer: Tokenizer,
    eos: Vec<u32>,
    chatml: bool,
    device: Device,
}

fn err(e: impl std::fmt::Display) -> LlmError {
    LlmError::Malformed(e.to_string())
}

/// The device inference runs on: the first CUDA GPU when built with `cuda` and one is present,
/// else the CPU.
pub fn default_device() -> Device {
    #[cfg(feature = "cuda")]
    if let Ok(d) = Device::new_cuda(0) {
        return d;
    }
    Device::Cpu
}

fn md_strings(content: &gguf_file::Content, key: &str) -> Result<Vec<String>, LlmError> {
    let v = content.metadata.get(key).ok_or_else(|| err(format!("GGUF has no {key}")))?;
    let arr = v.to_vec().map_err(err)?;
    arr.iter().map(|x| x.to_string().map(|s| s.to_owned()).map_err(err)).collect()
}

fn md_u32(content: &gguf_file::Content, key: &str) -> Option<u32> {
    content.metadata.get(key).and_then(|v| v.to_u32().ok())
}

/// The GGUF's byte-level BPE tokenizer (`tokenizer.ggml.model` = `gpt2`).
pub fn tokenizer_from_gguf(content: &gguf_file::Content) -> Result<Tokenizer, LlmError> {
    let model = content.metadata.get("tokenizer.ggml.model").and_then(|v| v.to_string().ok()).cloned();
    if model.as_deref() != Some("gpt2") {
        return Err(err(format!(
            "tokenizer.ggml.model is {model:?}; only byte-level BPE (gpt2: SmolLM2, Llama 3, Qwen) is supported"
        )));
    }
    let tokens = md_strings(content, "tokenizer.ggml.tokens")?;
    let merges: Vec<(String, String)> = md_strings(content, "tokenizer.ggml.merges")?
        .into_iter()
        .filter_map(|m| m.split_once(' ').map(|(a, b)| (a.to_owned(), b.to_owned())))
        .collect();
    let vocab: tokenizers::models::bpe::Vocab = tokens.iter().enumerate().map(|(i, t)| (t.clone(), i as u32)).collect();
    let bpe = BPE::builder().vocab_and_merges(vocab, merges).build().map_err(err)?;
    let mut tokenizer = Tokenizer::new(bpe);
    tokenizer.with_pre_tokenizer(Some(tokenizers::pre_tokenizers::byte_level::ByteLevel::new(false, true, true)));
    tokenizer.with_decoder(Some(tokenizers::decoders::byte_level::ByteLevel::default()));
    // Control tokens (`<|im_start|>`, `<|endoftext|>`) must stay whole.
    let specials: Vec<AddedToken> = tokens
        .iter()
        .filter(|t| t.starts_with("<|") && t.ends_with("|>"))
        .map(|t| AddedToken::from(t.clone(), true))
        .collect();
    tokenizer.add_special_tokens(specials).map_err(err)?;
    Ok(tokenizer)
}

impl LocalModel {
    /// Loads a GGUF file (weights and tokenizer) onto `device`.
    pub fn load(path: &Path, device: Device) -> Result<Self, LlmError> {
        let mut file = std::fs::File::open(path).map_err(|e| err(format!("{}: {e}", path.display())))?;
        let content = gguf_file::Content::read(&mut file).map_err(|e| err(format!("{}: {e}", path.display())))?;
        let tokenizer = tokenizer_from_gguf(&content)?;
        let mut eos: Vec<u32> = md_u32(&content, "tokenizer.ggml.eos_token_id").into_iter().collect();
        for t in ["<|im_end|>", "<|endoftext|>", "<|eot_id|>"] {
            if let Some(id) = tokenizer.token_to_id(t) {
                eos.push(id);
            }
        }
        let chatml = tokenizer.token_to_id("<|im_start|>").is_some();
        let weights = ModelWeights::from_gguf(content, &mut file, &device).map_err(err)?;
        Ok(LocalModel {
            path: path.to_owned(),
            inner: Arc::new(Mutex::new(Loaded { weights, tokenizer, eos, chatml, device })),
        })
    }

    /// Greedy generation of at most `max_tokens` tokens; returns the text and the token count.
    pub fn generate(&self, prompt: &str, max_tokens: u32) -> Result<(String, usize), LlmError> {
        let mut guard = self.inner.lock().map_err(|_| err("model lock poisoned"))?;
        let m = &mut *guard;
        let text = if m.chatml {
            format!("<|im_start|>user\n{prompt}<|im_end|>\n<|im_start|>assistant\n")
        } else {
            prompt.to_owned()
        };
        let ids = m.tokenizer.encode(text, false).map_err(err)?.get_ids().to_vec();
        if ids.is_empty() {
            return Ok((String::new(), 0));
        }
        // A fresh KV cache per call: the weights keep theirs between forward passes at
        // increasing positions, and position 0 restarts it.
        let mut out: Vec<u32> = Vec::new();
        let mut input = ids.clone();
        let mut pos = 0;
        for _ in 0..max_tokens {
            let x = Tensor::new(input.as_slice(), &m.device).and_then(|t| t.unsqueeze(0)).map_err(err)?;
            let logits = m.weights.forward(&x, pos).map_err(err)?;
            let next = logits.squeeze(0).and_then(|l| l.argmax(0)).and_then(|t| t.to_scalar::<u32>()).map_err(err)?;
            pos += input.len();
            if m.eos.contains(&next) {
                break;
            }
            out.push(next);
            input = vec![next];
        }
        let text = m.tokenizer.decode(&out, true).map_err(err)?;
        Ok((text, out.len()))
    }
}

#[async_trait::async_trait]
impl LanguageModel for LocalModel {
    fn name(&self) -> String {
        format!("local:{}", self.path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default())
    }

    async fn complete(&self, prompt: &str, max_tokens: u32) -> Result<String, LlmError> {
        let me = LocalModel { path: self.path.clone(), inner: self.inner.clone() };
        let prompt = prompt.to_owned();
        tokio::task::spawn_blocking(move || me.generate(&prompt, max_tokens).map(|(t, _)| t))
            .await
            .map_err(|e| err(format!("inference task failed: {e}")))?
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use candle_core::quantized::gguf_file::Value as G;
    use candle_core::quantized::{GgmlDType, QTensor};

    /// GPT-2's byte → printable character map (the byte-level BPE alphabet).
    fn byte_chars() -> Vec<char> {
        let printable: Vec<u32> = ('!' as u32..='~' as u32).chain(0xA1..=0xAC).chain(0xAE..=0xFF).collect();
        let mut extra = 0;
        let mut map = vec!['\0'; 256];
        for b in 0..256u32 {
            if printable.contains(&b) {
                map[b as usize] = char::from_u32(b).unwrap();
            } else {
                map[b as usize] = char::from_u32(256 + extra).unwrap();
                extra += 1;
            }
        }
        map
    }

    /// Writes a tiny random-weight llama (2 layers, width 64, GQA 4/2) with a byte-level BPE
    /// vocabulary to `path`, Q8_0 matmuls as in real quantized files.
    pub(crate) fn write_tiny_gguf(path: &Path) {
        let chars = byte_chars();
        let mut tokens: Vec<String> = chars.iter().map(|c| c.to_string()).collect();
        let merges = ["h e", "l l", "Ġ w", "o r", "he ll", "Ġw or"];
        for m in merges {
            tokens.push(m.replace(' ', ""));
        }
        for s in ["<|endoftext|>", "<|im_start|>", "<|im_end|>"] {
            tokens.push(s.to_owned());
        }
        let vocab = tokens.len();
        let dev = Device::Cpu;
        let (dim, hidden, heads, kv_heads, layers) = (64usize, 128usize, 4u32, 2u32, 2u32);
        let head_dim = dim / heads as usize;
        let q = |shape: (usize, usize), dtype: GgmlDType| {
            let t = Tensor::randn(0f32, 0.2, shape, &dev).unwrap();
            QTensor::quantize(&t, dtype).unwrap()
        };
        let ones = |n: usize| {
            QTensor::quantize(&Tensor::ones(n, candle_core::DType::F32, &dev).unwrap(), GgmlDType::F32).unwrap()
        };
        let mut named: Vec<(String, QTensor)> = vec![
            ("token_embd.weight".into(), q((vocab, dim), GgmlDType::F32)),
            ("output_norm.weight".into(), ones(dim)),
            ("output.weight".into(), q((vocab, dim), GgmlDType::F32)),
        ];
        for l in 0..layers {
            let p = format!("blk.{l}");
            named.push((format!("{p}.attn_q.weight"), q((dim, dim), GgmlDType::Q8_0)));
            named.push((format!("{p}.attn_k.weight"), q((head_dim * kv_heads as usize, dim), GgmlDType::Q8_0)));
            named.push((format!("{p}.attn_v.weight"), q((head_dim * kv_heads as usize, dim), GgmlDType::Q8_0)));
            named.push((format!("{p}.attn_output.weight"), q((dim, dim), GgmlDType::Q8_0)));
            named.push((format!("{p}.ffn_gate.weight"), q((hidden, dim), GgmlDType::Q8_0)));
            named.push((format!("{p}.ffn_up.weight"), q((hidden, dim), GgmlDType::Q8_0)));
            named.push((format!("{p}.ffn_down.weight"), q((dim, hidden), GgmlDType::Q8_0)));
            named.push((format!("{p}.attn_norm.weight"), ones(dim)));
            named.push((format!("{p}.ffn_norm.weight"), ones(dim)));
        }
        let s = |x: &str| G::String(x.to_owned());
        let metadata: Vec<(&str, G)> = vec![
            ("general.architecture", s("llama")),
            ("llama.attention.head_count", G::U32(heads)),
            ("llama.attention.head_count_kv", G::U32(kv_heads)),
            ("llama.block_count", G::U32(layers)),
            ("llama.embedding_length", G::U32(dim as u32)),
            ("llama.feed_forward_length", G::U32(hidden as u32)),
            ("llama.context_length", G::U32(256)),
            ("llama.rope.dimension_count", G::U32(head_dim as u32)),
            ("llama.attention.layer_norm_rms_epsilon", G::F32(1e-5)),
            ("tokenizer.ggml.model", s("gpt2")),
            ("tokenizer.ggml.tokens", G::Array(tokens.iter().map(|t| s(t)).collect())),
            ("tokenizer.ggml.merges", G::Array(merges.iter().map(|m| s(m)).collect())),
            ("tokenizer.ggml.eos_token_id", G::U32(vocab as u32 - 1)),
        ];
        let md: Vec<(&str, &G)> = metadata.iter().map(|(k, v)| (*k, v)).collect();
        let ts: Vec<(&str, &QTensor)> = named.iter().map(|(k, v)| (k.as_str(), v)).collect();
        let mut f = std::fs::File::create(path).unwrap();
        gguf_file::write(&mut f, &md, &ts).unwrap();
    }

    #[test]
    fn a_tiny_gguf_loads_and_generates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tiny.gguf");
        write_tiny_gguf(&path);
        let model = LocalModel::load(&path, Device::Cpu).unwrap();
        {
            let m = model.inner.lock().unwrap();
            assert!(m.chatml);
            let enc = m.tokenizer.encode("hello world", false).unwrap();
            // The merges apply: "hell" and "Ġwor" are single tokens.
            assert!(enc.get_tokens().iter().any(|t| t == "hell"), "{:?}", enc.get_tokens());
            assert!(enc.get_tokens().iter().any(|t| t == "Ġwor"), "{:?}", enc.get_tokens());
            assert_eq!(m.tokenizer.decode(enc.get_ids(), false).unwrap(), "hello world");
            let special = m.tokenizer.encode("<|im_start|>user", false).unwrap();
            assert_eq!(special.get_tokens()[0], "<|im_start|>");
        }
        let (text, n) = model.generate("hello world", 5).unwrap();
        assert!(n <= 5);
        // Greedy decoding is deterministic.
        assert_eq!(model.generate("hello world", 5).unwrap(), (text, n));
    }

    #[tokio::test]
    async fn the_async_trait_runs_inference_off_the_runtime() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tiny.gguf");
        write_tiny_gguf(&path);
        let model = LocalModel::load(&path, Device::Cpu).unwrap();
        assert!(model.name().ends_with("tiny.gguf"));
        let direct = model.generate("Generate 8 variations", 4).unwrap().0;
        assert_eq!(model.complete("Generate 8 variations", 4).await.unwrap(), direct);
    }

    #[test]
    fn bad_files_get_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let missing = LocalModel::load(&dir.path().join("nope.gguf"), Device::Cpu).err().unwrap();
        assert!(missing.to_string().contains("nope.gguf"));
        let junk = dir.path().join("junk.gguf");
        std::fs::write(&junk, b"definitely not gguf").unwrap();
        assert!(LocalModel::load(&junk, Device::Cpu).is_err());
    }
}
