"""CrossAttnVLM: a CogAgent-style vision-language model as a first-class transformers model.

`CrossAttnVLMModel` (the trunk TRL and PEFT see as `model.model`) runs the low-res encoder, splices
its projected patch tokens into the LM sequence at the image placeholder tokens, runs the high-res
encoder once per image and lets every cross-attention layer of the LM read it. The LM is any
Llama-family decoder built with `AutoModel.from_config`; its decoder layers are re-hosted in
`CrossAttnDecoderLayer`s that keep the original parameter names. `...ForConditionalGeneration`
adds the LM head, the loss and generation glue. This module must not do image or text
preprocessing (see `processing_crossattn_vlm`) or load pretrained parts (see `parts`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from transformers import AutoModel, GenerationMixin, PreTrainedModel
from transformers.activations import ACT2FN
from transformers.cache_utils import Cache, DynamicCache, EncoderDecoderCache
from transformers.modeling_outputs import BaseModelOutputWithPast, CausalLMOutputWithPast

# Relative imports: `save_pretrained` ships this file and its relative imports as remote code (see
# `coachgym.vision.__init__`), and they must load where coachgym is not installed.
from .cache_names import CACHE_FIELD, cache_argument, incoming_cache
from .configuration_crossattn_vlm import CrossAttnVLMConfig
from .cross_attention import CrossAttnDecoderLayer
from .parts import compose_from_parts


class LowResProjector(nn.Module):
    """Two-layer MLP mapping low-res patch features into the LM embedding space (LLaVA-style)."""

    def __init__(self, config: CrossAttnVLMConfig):
        super().__init__()
        vision_dim, text_dim = config.vision_config.hidden_size, config.text_config.hidden_size
        self.linear_1 = nn.Linear(vision_dim, text_dim)
        self.act = ACT2FN[config.projector_hidden_act]
        self.linear_2 = nn.Linear(text_dim, text_dim)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.linear_2(self.act(self.linear_1(features)))


@dataclass
class CrossAttnVLMModelOutput(BaseModelOutputWithPast):
    """Trunk output; its cache is an `EncoderDecoderCache` (self-attn, high-res cross-attn K/V)."""


class CrossAttnVLMPreTrainedModel(PreTrainedModel):
    config: CrossAttnVLMConfig
    config_class = CrossAttnVLMConfig
    base_model_prefix = "model"
    input_modalities = ("image", "text")
    supports_gradient_checkpointing = True
    _no_split_modules = ["CrossAttnDecoderLayer", "SiglipEncoderLayer", "CLIPEncoderLayer"]
    _skip_keys_device_placement = ["past_key_values"]
    _supports_sdpa = True
    _supports_attention_backend = True


def with_cross_attention_half(cache: Cache | None, new_image: bool, text_config: Any) -> EncoderDecoderCache:
    """The model's cache: the LM's self-attention cache plus the high-res K/V of every cross-attention layer.

    generate() hands over a plain cache for the LM, which gets a cross-attention half here. A new
    image starts a fresh cross half (a new object, so no cache internals are touched), replacing
    whatever K/V an earlier prefill left behind.
    """
    if isinstance(cache, EncoderDecoderCache):
        if not new_image:
            return cache
        cache = cache.self_attention_cache
    return EncoderDecoderCache(cache if cache is not None else DynamicCache(config=text_config), DynamicCache())


class CrossAttnVLMModel(CrossAttnVLMPreTrainedModel):
    def __init__(self, config: CrossAttnVLMConfig):
        super().__init__(config)
        self.vision_tower = AutoModel.from_config(config.vision_config)
        self.multi_modal_projector = LowResProjector(config)
        self.high_res_vision_tower = AutoModel.from_config(config.high_res_vision_config)
        high_res_dim = config.high_res_vision_config.hidden_size
        self.high_res_norm = nn.RMSNorm(high_res_dim, eps=getattr(config.text_config, "rms_norm_eps", 1e-6))
        language_model = AutoModel.from_config(config.text_config)
        language_model.layers = nn.ModuleList(
            CrossAttnDecoderLayer(layer, config, idx) for idx, layer in enumerate(language_model.layers)
        )
        self.language_model = language_model
        self._lm_cache_argument = cache_argument(language_model)
        self.post_init()

    def get_input_embeddings(self) -> nn.Module:
        return self.language_model.get_input_embeddings()

    def set_input_embeddings(self, value: nn.Module) -> None:
        self.language_model.set_input_embeddings(value)

    @staticmethod
    def _check_size(pixels: torch.Tensor, vision_config: Any, what: str) -> None:
        """A clear error instead of the encoder's shape error when the processor's size is not the encoder's."""
        if tuple(pixels.shape[-2:]) != (vision_config.image_size,) * 2:
            raise ValueError(
                f"{what} images are {tuple(pixels.shape[-2:])} px but the encoder takes {vision_config.image_size} px; "
                "build the processor with CrossAttnVLMProcessor.for_config(model.config, tokenizer), or compose "
                "the model with from_parts(..., image_size=/high_res_image_size=) to resize the encoder."
            )

    def get_image_features(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """Projected low-res tokens `[images, image_seq_length, text_hidden]`."""
        self._check_size(pixel_values, self.config.vision_config, "Low-res")
        features = self.vision_tower(pixel_values=pixel_values.to(self.dtype)).last_hidden_state
        return self.multi_modal_projector(self._standardized(features))

    def get_high_res_features(self, high_res_pixel_values: torch.Tensor) -> torch.Tensor:
        """Normalised high-res patch features `[images, patches, high_res_hidden]`."""
        self._check_size(high_res_pixel_values, self.config.high_res_vision_config, "High-res")
        features = self.high_res_vision_tower(pixel_values=high_res_pixel_values.to(self.dtype)).last_hidden_state
        return self.high_res_norm(self._standardized(features))

    def _standardized(self, features: torch.Tensor) -> torch.Tensor:
        """`features` `[images, patches, hidden]` standardized over each image's patches, if configured."""
        if not self.config.standardize_patch_features:
            return features
        mean, var = features.mean(dim=1, keepdim=True), features.var(dim=1, correction=0, keepdim=True)
        return (features - mean) * torch.rsqrt(var + 1e-5)

    def _image_token_mask(self, input_ids: torch.Tensor | None, inputs_embeds: torch.Tensor) -> torch.Tensor:
        if input_ids is not None:
            return input_ids == self.config.image_token_id
        image_embed = self.get_input_embeddings()(
            torch.tensor(self.config.image_token_id, device=inputs_embeds.device)
        )
        return (inputs_embeds == image_embed).all(-1)

    def _samples_with_image(self, image_mask: torch.Tensor, num_images: int) -> torch.Tensor:
        """Which batch rows own an image; images arrive in row order, one per row that has placeholders."""
        has_image = image_mask.any(-1)
        if int(has_image.sum()) != num_images:
            raise ValueError(
                f"Got {num_images} images but {int(has_image.sum())} samples contain image placeholder tokens; "
                "build inputs with CrossAttnVLMProcessor (one image per sample, placeholders expanded)."
            )
        return has_image

    def _splice_low_res(
        self, inputs_embeds: torch.Tensor, image_mask: torch.Tensor, pixel_values: torch.Tensor
    ) -> torch.Tensor:
        features = self.get_image_features(pixel_values)
        if int(image_mask.sum()) != features.shape[0] * features.shape[1]:
            raise ValueError(
                f"{int(image_mask.sum())} image placeholder tokens for {features.shape[0]} images of "
                f"{features.shape[1]} tokens each; was the prompt truncated through an image?"
            )
        mask = image_mask.unsqueeze(-1).expand_as(inputs_embeds)
        return inputs_embeds.masked_scatter(mask, features.to(inputs_embeds.dtype))

    def _high_res_per_row(self, high_res_pixel_values: torch.Tensor, has_image: torch.Tensor) -> torch.Tensor:
        """High-res features per batch row; rows without an image get zeros, which the block ignores."""
        features = self.get_high_res_features(high_res_pixel_values)
        if bool(has_image.all()):
            return features
        rows = features.new_zeros((has_image.shape[0], *features.shape[1:]))
        return rows.index_put((has_image.nonzero().squeeze(-1),), features)

    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        pixel_values: torch.Tensor | None = None,
        high_res_pixel_values: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.LongTensor | None = None,
        cache: Cache | None = None,
        inputs_embeds: torch.Tensor | None = None,
        use_cache: bool | None = None,
        past_key_values: Cache | None = None,
        **kwargs: Any,
    ) -> CrossAttnVLMModelOutput:
        """`cache` may come as `past_key_values` too (the name transformers releases before `cache` use)."""
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("Pass exactly one of input_ids or inputs_embeds.")
        if inputs_embeds is None:
            inputs_embeds = self.get_input_embeddings()(input_ids)
        use_cache = use_cache if use_cache is not None else self.config.text_config.use_cache

        image_mask = None
        if pixel_values is not None or high_res_pixel_values is not None:
            image_mask = self._image_token_mask(input_ids, inputs_embeds)
        if pixel_values is not None:
            self._samples_with_image(image_mask, pixel_values.shape[0])
            inputs_embeds = self._splice_low_res(inputs_embeds, image_mask, pixel_values)

        high_res_features = None
        if high_res_pixel_values is not None:
            has_image = self._samples_with_image(image_mask, high_res_pixel_values.shape[0])
            high_res_features = self._high_res_per_row(high_res_pixel_values, has_image)
        cache = incoming_cache(cache, past_key_values)
        if use_cache:
            cache = with_cross_attention_half(cache, high_res_features is not None, self.config.text_config)

        # The LM gets only its own self-attention cache, under the name its forward declares; the
        # cross-attention inputs travel under this model's own names through to every layer.
        lm_cache = {self._lm_cache_argument: cache.self_attention_cache} if use_cache else {}
        outputs = self.language_model(
            inputs_embeds=inputs_embeds,
            attention_mask=attention_mask,
            position_ids=position_ids,
            use_cache=use_cache,
            high_res_features=high_res_features,
            cross_attention_cache=cache.cross_attention_cache if use_cache else None,
            **lm_cache,
            **kwargs,
        )
        return CrossAttnVLMModelOutput(
            last_hidden_state=outputs.last_hidden_state,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
            **{CACHE_FIELD: cache if use_cache else None},
        )


class CrossAttnVLMForConditionalGeneration(CrossAttnVLMPreTrainedModel, GenerationMixin):
    _tied_weights_keys = {"lm_head.weight": "model.language_model.embed_tokens.weight"}

    def __init__(self, config: CrossAttnVLMConfig):
        super().__init__(config)
        self.model = CrossAttnVLMModel(config)
        self.lm_head = nn.Linear(config.text_config.hidden_size, config.text_config.vocab_size, bias=False)
        self.post_init()

    def get_input_embeddings(self) -> nn.Module:
        return self.model.get_input_embeddings()

    def set_input_embeddings(self, value: nn.Module) -> None:
        self.model.set_input_embeddings(value)

    def get_output_embeddings(self) -> nn.Module:
        return self.lm_head

    def set_output_embeddings(self, new_embeddings: nn.Module) -> None:
        self.lm_head = new_embeddings

    @classmethod
    def from_parts(cls, lm: str, vision: str, high_res_vision: str, **kwargs: Any) -> CrossAttnVLMForConditionalGeneration:
        """Compose pretrained LM / low-res / high-res checkpoints (hub ids or local paths); see `parts`.
        `image_size=` / `high_res_image_size=` run an encoder at another size (position embeddings resized)."""
        return compose_from_parts(cls, lm=lm, vision=vision, high_res_vision=high_res_vision, **kwargs)

    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        pixel_values: torch.Tensor | None = None,
        high_res_pixel_values: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.LongTensor | None = None,
        cache: Cache | None = None,
        inputs_embeds: torch.Tensor | None = None,
        labels: torch.LongTensor | None = None,
        use_cache: bool | None = None,
        logits_to_keep: int | torch.Tensor = 0,
        past_key_values: Cache | None = None,
        **kwargs: Any,
    ) -> CausalLMOutputWithPast:
        """`cache` may come as `past_key_values` too (the name transformers releases before `cache` use)."""
        outputs = self.model(
            input_ids=input_ids,
            pixel_values=pixel_values,
            high_res_pixel_values=high_res_pixel_values,
            attention_mask=attention_mask,
            position_ids=position_ids,
            cache=incoming_cache(cache, past_key_values),
            inputs_embeds=inputs_embeds,
            use_cache=use_cache,
            **kwargs,
        )
        hidden_states = outputs.last_hidden_state
        keep = slice(-logits_to_keep, None) if isinstance(logits_to_keep, int) else logits_to_keep
        logits = self.lm_head(hidden_states[:, keep, :])
        loss = None
        if labels is not None:
            loss = self.loss_function(
                logits=logits, labels=labels, vocab_size=self.config.text_config.vocab_size, **kwargs
            )
        return CausalLMOutputWithPast(
            loss=loss,
            logits=logits,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
            **{CACHE_FIELD: getattr(outputs, CACHE_FIELD)},
        )

    def prepare_inputs_for_generation(
        self,
        input_ids: torch.LongTensor,
        pixel_values: torch.Tensor | None = None,
        high_res_pixel_values: torch.Tensor | None = None,
        is_first_iteration: bool | None = False,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Images are encoded at prefill only; with a cache, later steps read the cached high-res K/V."""
        model_inputs = super().prepare_inputs_for_generation(input_ids, is_first_iteration=is_first_iteration, **kwargs)
        if is_first_iteration or not kwargs.get("use_cache", True):
            model_inputs["pixel_values"] = pixel_values
            model_inputs["high_res_pixel_values"] = high_res_pixel_values
        return model_inputs


__all__ = [
    "CrossAttnVLMForConditionalGeneration",
    "CrossAttnVLMModel",
    "CrossAttnVLMPreTrainedModel",
    "with_cross_attention_half",
]
