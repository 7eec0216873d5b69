"""CrossAttnVLM: a CogAgent-style VLM (low-res tokens in the LM, high-res read by cross-attention)."""

from coachgym.vision.configuration_crossattn_vlm import CrossAttnVLMConfig
from coachgym.vision.coordinates import to_model_coords, to_pixels
from coachgym.vision.modeling_crossattn_vlm import CrossAttnVLMForConditionalGeneration, CrossAttnVLMModel
from coachgym.vision.processing_crossattn_vlm import CrossAttnVLMProcessor
from coachgym.vision.tiny import tiny_vlm

__all__ = [
    "CrossAttnVLMConfig",
    "CrossAttnVLMForConditionalGeneration",
    "CrossAttnVLMModel",
    "CrossAttnVLMProcessor",
    "tiny_vlm",
    "to_model_coords",
    "to_pixels",
]
