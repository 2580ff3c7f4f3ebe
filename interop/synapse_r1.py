"""IdentitySynapse as R1 (2026-03, bittensor==10.0.0) validators define it.

Spec: /work/shared/spec/miner-protocol.md section 2.3 (synapse), 2.4/2.6 (R1 forms of ImageRequest
and S3Submission) and 2.8 (`variations`, plain and UAV forms). `identity` and `query_template` are
required, so a 200 answer that does not echo them fails to parse (the dendrite reports 422).

`variations` is typed strictly (each value is a list of string rows, or the UAV object with all
four `uav` keys present) so that a null/number inside a row, or a missing UAV key, fails the parse
the way the spec says a validator's parse fails. The R1-only class name is still `IdentitySynapse`.
"""
from typing import Dict, List, Optional, Union

import bittensor as bt
from pydantic import BaseModel, StrictStr


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


class S3Submission(BaseModel):
    s3_key: str
    image_hash: str
    signature: str
    variation_type: str
    path_signature: str


class UAV(BaseModel):
    address: str
    label: str
    latitude: Optional[float]
    longitude: Optional[float]


class SeedWithUAV(BaseModel):
    variations: List[List[StrictStr]]
    uav: UAV


class IdentitySynapse(bt.Synapse):
    identity: List[List[str]]
    query_template: str
    variations: Optional[Dict[str, Union[List[List[StrictStr]], SeedWithUAV]]] = None
    process_time: Optional[float] = None
    image_request: Optional[ImageRequest] = None
    s3_submissions: Optional[List[S3Submission]] = None

    def deserialize(self):
        return self.variations
