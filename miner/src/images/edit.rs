//! What an editor is asked to do for one `VariationRequest`.

use image::RgbImage;

use miid_protocol::synapse::VariationRequest;

/// One edit component of a (possibly combined, `a+b`) variation type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EditKind {
    Pose,
    Lighting,
    Expression,
    Background,
}

impl EditKind {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.trim() {
            "pose_edit" => EditKind::Pose,
            "lighting_edit" => EditKind::Lighting,
            "expression_edit" => EditKind::Expression,
            "background_edit" => EditKind::Background,
            _ => return None,
        })
    }
}

/// Requested strength of one component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Intensity {
    Light,
    Medium,
    Far,
}

impl Intensity {
    /// `light`/`medium`/`far`; anything else is `medium`, as the reference normalises (3.5).
    pub fn parse(s: &str) -> Self {
        match s.trim() {
            "light" => Intensity::Light,
            "far" => Intensity::Far,
            _ => Intensity::Medium,
        }
    }

    /// The reference's img2img strength for this intensity (3.5).
    pub fn strength(self) -> f32 {
        match self {
            Intensity::Light => 0.35,
            Intensity::Medium => 0.55,
            Intensity::Far => 0.75,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Intensity::Light => "light",
            Intensity::Medium => "medium",
            Intensity::Far => "far",
        }
    }
}

/// A parsed request entry.
#[derive(Debug, Clone, PartialEq)]
pub struct EditSpec {
    /// The request's `type`, verbatim (reported as `variation_type`).
    pub variation_type: String,
    /// Components in the order they appear in `type`, each with its own intensity: `a+b` with
    /// intensity `light+far` gives (a, light), (b, far) — a per-component reading the reference
    /// does not do (it collapses combined intensities to medium, quirk Q10).
    pub components: Vec<(EditKind, Intensity)>,
    /// The reference prompt (3.5), for generative editors.
    pub prompt: String,
    /// Scale on every component's effect, 1.0 on the first try; lowered when an edit fails the
    /// identity gate.
    pub strength_scale: f32,
    /// Seed for any randomness, fixed per request entry so a retry is reproducible.
    pub seed: u64,
}

/// Why a request entry cannot be edited.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error(
        "unsupported variation type {0:?} (expected pose_edit, lighting_edit, expression_edit, background_edit or a '+' combination)"
    )]
    UnsupportedType(String),
    #[error("editor failed: {0}")]
    Failed(String),
}

impl EditSpec {
    /// Parses `type`/`intensity` (`+`-joined for combinations; a missing component intensity
    /// repeats the last one) and builds the reference prompt.
    pub fn from_request(req: &VariationRequest, seed: u64) -> Result<Self, EditError> {
        let kinds: Vec<&str> = req.kind.split('+').collect();
        let intensities: Vec<&str> = req.intensity.split('+').collect();
        let mut components = Vec::new();
        for (i, k) in kinds.iter().enumerate() {
            let kind = EditKind::parse(k).ok_or_else(|| EditError::UnsupportedType(req.kind.clone()))?;
            let intensity =
                intensities.get(i).or(intensities.last()).map(|s| Intensity::parse(s)).unwrap_or(Intensity::Medium);
            components.push((kind, intensity));
        }
        Ok(EditSpec { variation_type: req.kind.clone(), components, prompt: prompt(req), strength_scale: 1.0, seed })
    }

    /// The strongest component intensity (the one a single-strength editor should use).
    pub fn max_intensity(&self) -> Intensity {
        self.components.iter().map(|(_, i)| *i).max().unwrap_or(Intensity::Medium)
    }
}

/// The reference generation prompt (spec 3.5).
pub fn prompt(req: &VariationRequest) -> String {
    let parts: Vec<&str> = [req.description.trim(), req.detail.trim()].into_iter().filter(|s| !s.is_empty()).collect();
    if parts.is_empty() {
        format!(
            "Same person, same identity, {} variation ({} intensity). Preserve face identity.",
            req.kind,
            Intensity::parse(&req.intensity).as_str()
        )
    } else {
        format!("Same person, same identity, {}. Preserve face identity.", parts.join(", "))
    }
}

/// Produces one variation of a seed portrait.
pub trait ImageEditor: Send + Sync {
    /// Name for logs and reports (e.g. `classical`).
    fn name(&self) -> &str;
    fn edit(&self, seed: &RgbImage, spec: &EditSpec) -> Result<RgbImage, EditError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vr(kind: &str, intensity: &str, d: &str, t: &str) -> VariationRequest {
        serde_json::from_value(serde_json::json!({"type": kind, "intensity": intensity, "description": d, "detail": t}))
            .unwrap()
    }

    #[test]
    fn combined_types_keep_per_component_intensities() {
        let s = EditSpec::from_request(&vr("lighting_edit+pose_edit", "light+far", "", ""), 1).unwrap();
        assert_eq!(s.components, vec![(EditKind::Lighting, Intensity::Light), (EditKind::Pose, Intensity::Far)]);
        assert_eq!(s.max_intensity(), Intensity::Far);
        let s = EditSpec::from_request(&vr("background_edit", "standard", "", ""), 1).unwrap();
        assert_eq!(s.components, vec![(EditKind::Background, Intensity::Medium)]);
        assert!(EditSpec::from_request(&vr("screen_replay", "standard", "", ""), 1).is_err());
    }

    #[test]
    fn reference_prompt() {
        assert_eq!(
            prompt(&vr("pose_edit", "light", " Change head pose ", "±15° rotation")),
            "Same person, same identity, Change head pose, ±15° rotation. Preserve face identity."
        );
        assert_eq!(
            prompt(&vr("pose_edit", "light+far", "", " ")),
            "Same person, same identity, pose_edit variation (medium intensity). Preserve face identity."
        );
    }
}
