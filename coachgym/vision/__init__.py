"""CrossAttnVLM: a CogAgent-style VLM (low-res tokens in the LM, high-res read by cross-attention)."""

from transformers import AutoConfig, AutoImageProcessor, AutoModel, AutoModelForImageTextToText, AutoProcessor

from coachgym.vision.configuration_crossattn_vlm import CrossAttnVLMConfig
from coachgym.vision.coordinates import to_model_coords, to_pixels
from coachgym.vision.image_processing_crossattn_vlm import CrossAttnVLMImageProcessor
from coachgym.vision.modeling_crossattn_vlm import CrossAttnVLMForConditionalGeneration, CrossAttnVLMModel
from coachgym.vision.processing_crossattn_vlm import CrossAttnVLMProcessor
from coachgym.vision.tiny import tiny_vlm

# Registering makes saved checkpoints loadable through the Auto classes (AutoConfig, AutoModel,
# AutoModelForImageTextToText, AutoImageProcessor, AutoProcessor) and lets AutoTokenizer read
# their config.json.
AutoConfig.register(CrossAttnVLMConfig.model_type, CrossAttnVLMConfig, exist_ok=True)
AutoModel.register(CrossAttnVLMConfig, CrossAttnVLMModel, exist_ok=True)
AutoModelForImageTextToText.register(CrossAttnVLMConfig, CrossAttnVLMForConditionalGeneration, exist_ok=True)
AutoImageProcessor.register(CrossAttnVLMConfig, CrossAttnVLMImageProcessor, exist_ok=True)
AutoProcessor.register(CrossAttnVLMConfig, CrossAttnVLMProcessor, exist_ok=True)

# And for processes that never import coachgym: `save_pretrained` then writes `auto_map` into
# config.json, processor_config.json (with the image processor) and tokenizer_config.json and
# copies the defining modules (and their relative imports) next to the weights, so `Auto*.from_pretrained(path, trust_remote_code=True)`
# loads the same classes from the checkpoint folder alone.
CrossAttnVLMConfig.register_for_auto_class()
CrossAttnVLMForConditionalGeneration.register_for_auto_class("AutoModelForImageTextToText")
CrossAttnVLMImageProcessor.register_for_auto_class("AutoImageProcessor")
CrossAttnVLMProcessor.register_for_auto_class("AutoProcessor")

__all__ = [
    "CrossAttnVLMConfig",
    "CrossAttnVLMForConditionalGeneration",
    "CrossAttnVLMImageProcessor",
    "CrossAttnVLMModel",
    "CrossAttnVLMProcessor",
    "tiny_vlm",
    "to_model_coords",
    "to_pixels",
]
