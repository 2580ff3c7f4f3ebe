//! IResNet (the ArcFace/AdaFace backbone class) in candle, with insightface's `arcface_torch`
//! parameter names, so a `.safetensors` export of an `iresnet18/34/50/100` checkpoint loads
//! directly.
//!
//! Layout: conv 3 × 3 (64) → BN → PReLU; four stages of `IBasicBlock`s (BN → conv 3 × 3 → BN →
//! PReLU → conv 3 × 3 / s → BN, plus a 1 × 1 / s conv + BN shortcut when the shape changes) with
//! widths 64·(1, 2, 4, 8) and stride 2 at each stage's first block; BN → flatten → linear →
//! BatchNorm1d (`features`). AdaFace's own checkpoints use another naming (`input_layer`,
//! `body.N`, `output_layer`) and BGR input; convert names to load them, and set
//! [`IResNetConfig::bgr`].

use std::path::Path;

use candle_core::{DType, Device, Module, ModuleT, Result as CResult, Tensor};
use candle_nn::{BatchNorm, Conv2d, Conv2dConfig, Linear, VarBuilder, batch_norm, conv2d_no_bias, linear};
use image::RgbImage;

use crate::identity::{EmbedError, FACE_SIZE, FaceEmbedder, face_crop};
use crate::mobilefacenet::{InputRange, image_tensor, l2_normalize};

/// Depths and widths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IResNetConfig {
    /// Blocks per stage: `[2,2,2,2]` (18), `[3,4,6,3]` (34), `[3,4,14,3]` (50), `[3,13,30,3]` (100).
    pub layers: [usize; 4],
    /// Width of the first stage (64 in every published model).
    pub base_width: usize,
    pub embedding: usize,
    pub input_size: usize,
    /// Feed BGR instead of RGB (AdaFace was trained on BGR).
    pub bgr: bool,
}

impl IResNetConfig {
    pub fn iresnet50() -> Self {
        IResNetConfig {
            layers: [3, 4, 14, 3],
            base_width: 64,
            embedding: 512,
            input_size: FACE_SIZE as usize,
            bgr: false,
        }
    }
    pub fn iresnet100() -> Self {
        IResNetConfig { layers: [3, 13, 30, 3], ..Self::iresnet50() }
    }
    /// By name: `iresnet18`, `iresnet34`, `iresnet50`, `iresnet100`.
    pub fn by_name(name: &str) -> Option<Self> {
        let layers = match name {
            "iresnet18" | "r18" => [2, 2, 2, 2],
            "iresnet34" | "r34" => [3, 4, 6, 3],
            "iresnet50" | "r50" | "ir50" => [3, 4, 14, 3],
            "iresnet100" | "r100" | "ir100" => [3, 13, 30, 3],
            _ => return None,
        };
        Some(IResNetConfig { layers, ..Self::iresnet50() })
    }
}

const BN_EPS: f64 = 1e-5;

fn bn(c: usize, vb: VarBuilder) -> CResult<BatchNorm> {
    batch_norm(c, candle_nn::BatchNormConfig { eps: BN_EPS, ..Default::default() }, vb)
}

fn conv3(cin: usize, cout: usize, stride: usize, vb: VarBuilder) -> CResult<Conv2d> {
    conv2d_no_bias(cin, cout, 3, Conv2dConfig { padding: 1, stride, ..Default::default() }, vb)
}

#[derive(Debug, Clone)]
struct PRelu(Tensor);

impl PRelu {
    fn new(c: usize, vb: VarBuilder) -> CResult<Self> {
        Ok(PRelu(vb.get_with_hints(c, "weight", candle_nn::Init::Const(0.25))?.reshape((1, c, 1, 1))?))
    }
    fn forward(&self, x: &Tensor) -> CResult<Tensor> {
        x.relu()? + x.minimum(0f64)?.broadcast_mul(&self.0)?
    }
}

#[derive(Debug, Clone)]
struct BasicBlock {
    bn1: BatchNorm,
    conv1: Conv2d,
    bn2: BatchNorm,
    prelu: PRelu,
    conv2: Conv2d,
    bn3: BatchNorm,
    downsample: Option<(Conv2d, BatchNorm)>,
}

impl BasicBlock {
    fn new(cin: usize, cout: usize, stride: usize, vb: VarBuilder) -> CResult<Self> {
        let downsample = if stride != 1 || cin != cout {
            let c = conv2d_no_bias(cin, cout, 1, Conv2dConfig { stride, ..Default::default() }, vb.pp("downsample.0"))?;
            Some((c, bn(cout, vb.pp("downsample.1"))?))
        } else {
            None
        };
        Ok(BasicBlock {
            bn1: bn(cin, vb.pp("bn1"))?,
            conv1: conv3(cin, cout, 1, vb.pp("conv1"))?,
            bn2: bn(cout, vb.pp("bn2"))?,
            prelu: PRelu::new(cout, vb.pp("prelu"))?,
            conv2: conv3(cout, cout, stride, vb.pp("conv2"))?,
            bn3: bn(cout, vb.pp("bn3"))?,
            downsample,
        })
    }

    fn forward(&self, x: &Tensor) -> CResult<Tensor> {
        let y = self.bn1.forward_t(x, false)?;
        let y = self.bn2.forward_t(&self.conv1.forward(&y)?, false)?;
        let y = self.prelu.forward(&y)?;
        let y = self.bn3.forward_t(&self.conv2.forward(&y)?, false)?;
        let shortcut = match &self.downsample {
            Some((c, b)) => b.forward_t(&c.forward(x)?, false)?,
            None => x.clone(),
        };
        y + shortcut
    }
}

/// The network (inference only: batch norms use their running statistics, dropout is off).
#[derive(Debug, Clone)]
pub struct IResNet {
    config: IResNetConfig,
    conv1: Conv2d,
    bn1: BatchNorm,
    prelu: PRelu,
    blocks: Vec<BasicBlock>,
    bn2: BatchNorm,
    fc: Linear,
    features: BatchNorm,
}

impl IResNet {
    pub fn new(config: &IResNetConfig, vb: VarBuilder) -> CResult<Self> {
        let w = config.base_width;
        let mut blocks = Vec::new();
        let mut cin = w;
        for (i, &n) in config.layers.iter().enumerate() {
            let cout = w << i;
            for b in 0..n {
                let stride = if b == 0 { 2 } else { 1 };
                blocks.push(BasicBlock::new(cin, cout, stride, vb.pp(format!("layer{}.{b}", i + 1)))?);
                cin = cout;
            }
        }
        let map = config.input_size / 16;
        Ok(IResNet {
            config: config.clone(),
            conv1: conv3(3, w, 1, vb.pp("conv1"))?,
            bn1: bn(w, vb.pp("bn1"))?,
            prelu: PRelu::new(w, vb.pp("prelu"))?,
            blocks,
            bn2: bn(cin, vb.pp("bn2"))?,
            fc: linear(cin * map * map, config.embedding, vb.pp("fc"))?,
            features: bn(config.embedding, vb.pp("features"))?,
        })
    }

    /// `x`: `[n, 3, size, size]` in [−1, 1] → `[n, embedding]`, L2-normalised.
    pub fn forward(&self, x: &Tensor) -> CResult<Tensor> {
        let mut y = self.prelu.forward(&self.bn1.forward_t(&self.conv1.forward(x)?, false)?)?;
        for b in &self.blocks {
            y = b.forward(&y)?;
        }
        let y = self.bn2.forward_t(&y, false)?.flatten_from(1)?;
        let y = self.features.forward_t(&self.fc.forward(&y)?, false)?;
        l2_normalize(&y)
    }
}

/// A [`FaceEmbedder`] over [`IResNet`].
pub struct IResNetEmbedder {
    model: IResNet,
    device: Device,
}

impl IResNetEmbedder {
    pub fn new(model: IResNet, device: Device) -> Self {
        IResNetEmbedder { model, device }
    }

    /// Loads weights from a `.safetensors` file with `arcface_torch` names.
    pub fn from_safetensors(path: &Path, config: &IResNetConfig, device: Device) -> Result<Self, EmbedError> {
        let err = |e: candle_core::Error| EmbedError::Model(format!("{}: {e}", path.display()));
        let tensors = candle_core::safetensors::load(path, &device).map_err(err)?;
        let vb = VarBuilder::from_tensors(tensors, DType::F32, &device);
        Ok(IResNetEmbedder { model: IResNet::new(config, vb).map_err(err)?, device })
    }
}

impl FaceEmbedder for IResNetEmbedder {
    fn name(&self) -> &str {
        "iresnet"
    }

    fn embed(&self, img: &RgbImage) -> Result<Vec<f32>, EmbedError> {
        let crop = face_crop(img, self.model.config.input_size as u32)?;
        let run = || -> CResult<Vec<f32>> {
            let x = image_tensor(&crop, self.model.config.bgr, InputRange::Symmetric, &self.device)?;
            self.model.forward(&x)?.squeeze(0)?.to_vec1::<f32>()
        };
        run().map_err(|e| EmbedError::Model(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_nn::VarMap;

    #[test]
    fn tiny_random_iresnet_saves_and_reloads() {
        let cfg = IResNetConfig { layers: [1, 1, 1, 1], base_width: 4, embedding: 8, input_size: 112, bgr: false };
        let varmap = VarMap::new();
        let model = IResNet::new(&cfg, VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu)).unwrap();
        let names: Vec<String> = varmap.data().lock().unwrap().keys().cloned().collect();
        for expected in
            ["layer1.0.downsample.0.weight", "layer4.0.bn3.running_var", "features.weight", "fc.bias", "prelu.weight"]
        {
            assert!(names.iter().any(|n| n == expected), "{expected} missing from {names:?}");
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tiny.safetensors");
        varmap.save(&path).unwrap();
        let img = RgbImage::from_fn(128, 128, |x, y| image::Rgb([(x * 2) as u8, (y * 2) as u8, ((x * y) % 256) as u8]));
        let a = IResNetEmbedder::new(model, Device::Cpu).embed(&img).unwrap();
        let b = IResNetEmbedder::from_safetensors(&path, &cfg, Device::Cpu).unwrap().embed(&img).unwrap();
        assert_eq!(a.len(), 8);
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() < 1e-5);
        }
        let wrong = IResNetConfig { base_width: 8, ..cfg };
        assert!(IResNetEmbedder::from_safetensors(&path, &wrong, Device::Cpu).is_err(), "shape mismatch is an error");
        assert!(IResNetConfig::by_name("iresnet100").is_some() && IResNetConfig::by_name("vgg").is_none());
    }
}
