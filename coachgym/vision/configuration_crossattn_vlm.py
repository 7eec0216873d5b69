"""Configuration of the CogAgent-style cross-attention vision-language model.

The config composes three ordinary Hugging Face configs (a decoder LM, a low-resolution vision
encoder and a smaller high-resolution vision encoder) and adds only what the composition needs:
the cross-attention width/heads, which LM layers read the high-res image, the optional tanh gate
and the image placeholder token. It must not hold weights or processing logic.
"""

from __future__ import annotations

from huggingface_hub.dataclasses import strict
from transformers import AutoConfig, PreTrainedConfig
from transformers.configuration_utils import SubConfigSpec

#: Vision encoders whose output token count we know how to derive from the config alone.
#: CLIP prepends a class token; SigLIP does not.
_CLASS_TOKEN_ENCODERS = {"clip_vision_model": 1, "siglip_vision_model": 0}


def vision_token_count(vision_config: PreTrainedConfig) -> int:
    """Number of tokens a ViT encoder emits for one image, as the processor must reserve for it."""
    model_type = getattr(vision_config, "model_type", "")
    if model_type not in _CLASS_TOKEN_ENCODERS:
        raise ValueError(
            f"Unsupported vision encoder '{model_type}'; use a CLIP or SigLIP vision config "
            f"({', '.join(sorted(_CLASS_TOKEN_ENCODERS))})."
        )
    patches = (vision_config.image_size // vision_config.patch_size) ** 2
    return patches + _CLASS_TOKEN_ENCODERS[model_type]


@strict
class CrossAttnVLMConfig(PreTrainedConfig):
    r"""
    Args:
        text_config: any Hugging Face decoder LM config whose layers have `input_layernorm`, `self_attn`,
            `post_attention_layernorm` and `mlp` (Llama, Qwen2, Qwen3, Mistral, ...).
        vision_config: low-resolution encoder (CLIP/SigLIP vision, 224-448 px); its patch tokens are
            projected and spliced into the LM sequence at the image placeholder tokens.
        high_res_vision_config: smaller CLIP/SigLIP vision encoder (up to 1120 px) read only through
            cross-attention.
        cross_attn_hidden_size: inner width of every cross-attention block (CogAgent: 1024 against a 4096-wide
            LM); at most the LM's hidden size, since the branch is meant to be a narrow side path.
        cross_attn_num_heads: heads of the cross-attention (CogAgent: 32, i.e. head dim 32).
        cross_attn_layers: LM layer indices that get a cross-attention block; `None` means all.
        cross_attn_gate: multiply each block's output by `tanh(gate)` (Flamingo/Mllama style).
        cross_attn_gate_init: initial gate value; 0 keeps a pretrained LM's outputs unchanged at start.
        image_token_id: id of the placeholder token the processor repeats `image_seq_length` times.
        projector_hidden_act: activation of the 2-layer low-res projector.
        standardize_patch_features: standardize each feature over an image's patches (less the image's
            mean, over its spread), in both encoders, before the LM reads them. An encoder trained from
            scratch starts out mapping every patch of a screen to nearly the same vector (the background
            dominates each patch), so attention cannot tell the patches apart and "where is the Notes
            icon?" is never learned (perf/grounding_probe.py, `query`); standardizing leaves only what
            differs across the screen. Pretrained encoders already separate patches: keep it off there.
    """

    model_type = "coachgym_crossattn_vlm"
    sub_configs_defaults = {
        "text_config": SubConfigSpec(config_class=AutoConfig, model_type="qwen2"),
        "vision_config": SubConfigSpec(config_class=AutoConfig, model_type="siglip_vision_model"),
        "high_res_vision_config": SubConfigSpec(
            config_class=AutoConfig,
            model_type="siglip_vision_model",
            init_kwargs={"image_size": 1120, "patch_size": 14, "hidden_size": 256, "intermediate_size": 1024,
                         "num_hidden_layers": 8, "num_attention_heads": 4},
        ),
    }

    text_config: dict | PreTrainedConfig | None = None
    vision_config: dict | PreTrainedConfig | None = None
    high_res_vision_config: dict | PreTrainedConfig | None = None
    cross_attn_hidden_size: int = 1024
    cross_attn_num_heads: int = 32
    cross_attn_layers: list[int] | None = None
    cross_attn_gate: bool = True
    cross_attn_gate_init: float = 0.0
    image_token_id: int = 0
    projector_hidden_act: str = "gelu"
    standardize_patch_features: bool = False
    tie_word_embeddings: bool = False

    def __post_init__(self, **kwargs):
        super().__post_init__(**kwargs)
        num_layers = self.text_config.num_hidden_layers
        if self.cross_attn_layers is None:
            self.cross_attn_layers = list(range(num_layers))
        bad = [i for i in self.cross_attn_layers if not 0 <= i < num_layers]
        if bad:
            raise ValueError(f"cross_attn_layers {bad} outside the LM's {num_layers} layers")
        if self.cross_attn_hidden_size > self.text_config.hidden_size:
            raise ValueError(
                f"cross_attn_hidden_size {self.cross_attn_hidden_size} exceeds the LM's hidden size "
                f"{self.text_config.hidden_size}; the high-res branch should be narrower than the LM "
                f"(CogAgent: 1024 for 4096), e.g. {self.text_config.hidden_size // 2}."
            )
        if self.cross_attn_hidden_size % self.cross_attn_num_heads:
            raise ValueError(
                f"cross_attn_hidden_size {self.cross_attn_hidden_size} is not divisible by "
                f"cross_attn_num_heads {self.cross_attn_num_heads}"
            )

    @property
    def image_seq_length(self) -> int:
        """Placeholder tokens per image: the low-res encoder's output length."""
        return vision_token_count(self.vision_config)


__all__ = ["CrossAttnVLMConfig", "vision_token_count"]
