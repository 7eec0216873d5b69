"""CrossAttnVLM: a CogAgent-style VLM (low-res tokens in the LM, high-res read by cross-attention)."""

from transformers import AutoConfig, AutoModel, AutoModelForImageTextToText, AutoProcessor

from coachgym.vision.configuration_crossattn_vlm import CrossAttnVLMConfig
from coachgym.vision.coordinates import to_model_coords, to_pixels
from coachgym.vision.modeling_crossattn_vlm import CrossAttnVLMForConditionalGeneration, CrossAttnVLMModel
from coachgym.vision.processing_crossattn_vlm import CrossAttnVLMProcessor
from coachgym.vision.tiny import tiny_vlm

# Registering makes saved checkpoints loadable through the Auto classes (AutoConfig, AutoModel,
# AutoModelForImageTextToText, AutoProcessor) and lets AutoTokenizer read their config.json.
AutoConfig.register(CrossAttnVLMConfig.model_type, CrossAttnVLMConfig, exist_ok=True)
AutoModel.register(CrossAttnVLMConfig, CrossAttnVLMModel, exist_ok=True)
AutoModelForImageTextToText.register(CrossAttnVLMConfig, CrossAttnVLMForConditionalGeneration, exist_ok=True)
AutoProcessor.register(CrossAttnVLMConfig, CrossAttnVLMProcessor, exist_ok=True)

__all__ = [
    "CrossAttnVLMConfig",
    "CrossAttnVLMForConditionalGeneration",
    "CrossAttnVLMModel",
    "CrossAttnVLMProcessor",
    "tiny_vlm",
    "to_model_coords",
    "to_pixels",
]
