"""IdentitySynapse as R2 (current, bittensor==10.5.0) validators define it.

Spec: /work/shared/spec/miner-protocol.md section 2.2 (synapse), 2.4 (ImageRequest), 2.5
(VariationRequest), 2.6 (S3Submission), 2.7 (ScreenReplayUAV). The class name is the HTTP route,
so R1 and R2 live in separate modules that both define `IdentitySynapse`.
"""
from typing import List, Optional

import bittensor as bt
from pydantic import BaseModel


class VariationRequest(BaseModel):
    type: str
    intensity: str
    description: str = ""
    detail: str = ""


class ImageRequest(BaseModel):
    base_image: str
    image_filename: str
    variation_requests: List[VariationRequest] = []
    target_drand_round: int
    reveal_timestamp: int
    challenge_id: Optional[str] = None
    daily_seed_image: Optional[str] = None
    daily_seed_filename: Optional[str] = None
    real_screen_replay_instructions: Optional[str] = None


class ScreenReplayUAV(BaseModel):
    seed_image: str
    date: str
    camera_used: str
    device_photographed: str
    moire_pixel_grid: bool
    screen_glare_hotspots: bool
    perspective_keystone_distortion: bool
    gamma_contrast_shift: bool
    edge_crop_cues: bool


class S3Submission(BaseModel):
    s3_key: str
    image_hash: str
    signature: str
    variation_type: str
    path_signature: str
    s3_key_angle2: Optional[str] = None
    image_hash_angle2: Optional[str] = None
    signature_angle2: Optional[str] = None
    screen_replay_uav: Optional[ScreenReplayUAV] = None


class IdentitySynapse(bt.Synapse):
    image_request: Optional[ImageRequest] = None
    s3_submissions: Optional[List[S3Submission]] = None
    process_time: Optional[float] = None

    def deserialize(self) -> Optional[List[S3Submission]]:
        return self.s3_submissions
