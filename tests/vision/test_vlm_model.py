"""CrossAttnVLM forward, cached generation, save/load and the Auto-class wiring."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForImageTextToText, AutoProcessor
from transformers.cache_utils import EncoderDecoderCache
from vlm_messages import user_turn

from coachgym.vision import CrossAttnVLMForConditionalGeneration, CrossAttnVLMProcessor, tiny_vlm
from coachgym.vision.cache_names import CACHE_FIELD


def _batch(processor, screenshots, with_images: list[bool]):
    texts = [
        processor.render(user_turn("click the OK button" + " please" * i, img), add_generation_prompt=True)
        for i, img in enumerate(with_images)
    ]
    images = [shot if img else None for shot, img in zip(screenshots, with_images)]
    return processor(text=texts, images=images)


@pytest.mark.parametrize("with_images", [[True, True], [False, False], [True, False]], ids=["images", "text", "mixed"])
def test_cached_generation_matches_full_recompute(active_vlm, screenshots, with_images):
    model, processor = active_vlm
    batch = _batch(processor, screenshots, with_images)
    assert (batch["attention_mask"] == 0).any(), "the batch must contain left padding"
    with torch.no_grad():
        cached = model.generate(**batch, max_new_tokens=8, do_sample=False)
        full = model.generate(**batch, max_new_tokens=8, do_sample=False, use_cache=False)
    assert cached.shape == full.shape
    assert torch.equal(cached, full)


def test_high_res_is_encoded_once_per_generate_and_cached(active_vlm, screenshots):
    model, processor = active_vlm
    batch = _batch(processor, screenshots, [True, True])
    calls = []
    hook = model.model.high_res_vision_tower.register_forward_hook(lambda *_: calls.append(1))
    try:
        with torch.no_grad():
            out = model.generate(**batch, max_new_tokens=6, do_sample=False, return_dict_in_generate=True)
            cached_calls = len(calls)
            model.generate(**batch, max_new_tokens=6, do_sample=False, use_cache=False)
    finally:
        hook.remove()
    assert cached_calls == 1
    assert len(calls) - cached_calls == 6  # uncached re-encodes at every step
    cache = getattr(out, CACHE_FIELD)
    assert isinstance(cache, EncoderDecoderCache)
    patches = (processor.image_processor.high_res_image_size // 14) ** 2
    assert cache.cross_attention_cache.layers[0].keys.shape[2] == patches


@pytest.mark.parametrize("name", ["cache", "past_key_values"])
def test_a_forward_step_on_the_returned_cache_matches_the_full_forward(active_vlm, screenshots, name):
    """A caller's own decode loop may pass the cache under the current or the older keyword."""
    model, processor = active_vlm
    batch = _batch(processor, screenshots, [True, False])
    step = torch.tensor([[7], [9]])
    mask = torch.cat([batch["attention_mask"], torch.ones_like(step)], 1)
    with torch.no_grad():
        prefill = model(**batch, use_cache=True)
        cached = model(input_ids=step, attention_mask=mask, use_cache=True,
                       **{name: getattr(prefill, CACHE_FIELD)}).logits[:, -1]
        full = model(**dict(batch, input_ids=torch.cat([batch["input_ids"], step], 1), attention_mask=mask)).logits
    torch.testing.assert_close(cached, full[:, -1], rtol=1e-5, atol=1e-5)


def test_high_res_branch_changes_logits_and_image_less_rows_ignore_it(active_vlm, screenshots):
    model, processor = active_vlm
    batch = _batch(processor, screenshots, [True, False])
    with torch.no_grad():
        full = model(**batch).logits
        without_high_res = model(**{k: v for k, v in batch.items() if k != "high_res_pixel_values"}).logits
        other = dict(batch, high_res_pixel_values=torch.randn_like(batch["high_res_pixel_values"]))
        changed = model(**other).logits
    assert not torch.allclose(full[0], without_high_res[0])
    assert not torch.allclose(full[0], changed[0])
    torch.testing.assert_close(full[1], without_high_res[1], rtol=0, atol=1e-6)


def test_save_and_from_pretrained_round_trip_gives_identical_logits(active_vlm, screenshots, tmp_path):
    model, processor = active_vlm
    model.save_pretrained(tmp_path)
    processor.save_pretrained(tmp_path)
    loaded = CrossAttnVLMForConditionalGeneration.from_pretrained(tmp_path).eval()
    loaded_processor = CrossAttnVLMProcessor.from_pretrained(tmp_path)
    batch = _batch(processor, screenshots, [True, False])
    batch2 = _batch(loaded_processor, screenshots, [True, False])
    assert all(torch.equal(batch[k], batch2[k]) for k in batch)
    with torch.no_grad():
        assert torch.equal(model(**batch).logits, loaded(**batch2).logits)
    auto_model = AutoModelForImageTextToText.from_pretrained(tmp_path)
    assert isinstance(auto_model, CrossAttnVLMForConditionalGeneration)
    assert isinstance(AutoProcessor.from_pretrained(tmp_path), CrossAttnVLMProcessor)


def test_every_attention_runs_fused_sdpa_also_after_reload(active_vlm, screenshots, tmp_path, monkeypatch):
    """The cost goal rests on fused attention: no part may fall back to eager score matrices."""
    model, processor = active_vlm
    model.save_pretrained(tmp_path)
    loaded = CrossAttnVLMForConditionalGeneration.from_pretrained(tmp_path).eval()
    fused = torch.nn.functional.scaled_dot_product_attention
    key_lengths = []

    def counting(query, key, *args, **kwargs):
        key_lengths.append(key.shape[-2])
        return fused(query, key, *args, **kwargs)

    monkeypatch.setattr(torch.nn.functional, "scaled_dot_product_attention", counting)
    with torch.no_grad():
        loaded(**_batch(processor, screenshots, [True, True]))
    config = loaded.config
    patches = (processor.image_processor.high_res_image_size // 14) ** 2
    high_res_calls = config.high_res_vision_config.num_hidden_layers + len(config.cross_attn_layers)
    assert key_lengths.count(patches) == high_res_calls
    assert len(key_lengths) == high_res_calls + config.vision_config.num_hidden_layers + (
        config.text_config.num_hidden_layers
    )


def test_llama_decoder_and_partial_cross_attention_layers(screenshots):
    model, processor = tiny_vlm(seed=1, text_model_type="llama", num_layers=3, cross_attn_layers=[1],
                                cross_attn_gate=False)
    layers = model.model.language_model.layers
    assert [layer.cross_attn is not None for layer in layers] == [False, True, False]
    batch = _batch(processor, screenshots, [True, True])
    with torch.no_grad():
        cached = model.eval().generate(**batch, max_new_tokens=8, do_sample=False)
        full = model.generate(**batch, max_new_tokens=8, do_sample=False, use_cache=False)
    assert torch.equal(cached, full)


def test_loss_and_gradient_checkpointing_reach_the_high_res_encoder(screenshots):
    model, processor = tiny_vlm(seed=2, cross_attn_gate_init=0.5)
    batch = _batch(processor, screenshots, [True, True])
    labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)

    def grads(checkpointing: bool) -> dict[str, torch.Tensor]:
        model.zero_grad()
        if checkpointing:
            model.activation_checkpointing_enable()
        else:
            model.activation_checkpointing_disable()
        model.train()
        loss = model(**batch, labels=labels, use_cache=False).loss
        loss.backward()
        return {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}

    plain, checkpointed = grads(False), grads(True)
    patch = "model.high_res_vision_tower.embeddings.patch_embedding.weight"
    assert patch in checkpointed and checkpointed[patch].abs().sum() > 0
    assert plain.keys() == checkpointed.keys()
    for name in plain:
        torch.testing.assert_close(plain[name], checkpointed[name], rtol=1e-4, atol=1e-6)


def test_placeholder_image_mismatch_is_a_clear_error(active_vlm, screenshots):
    model, processor = active_vlm
    batch = _batch(processor, screenshots, [True, False])
    two_images = torch.cat([batch["pixel_values"]] * 2)
    with pytest.raises(ValueError, match="2 images but 1 samples"):
        model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], pixel_values=two_images)


def test_generate_returns_token_logprobs_matching_a_forward_pass(active_vlm, screenshots):
    model, processor = active_vlm
    batch = _batch(processor, screenshots, [True, False])
    with torch.no_grad():
        out = model.generate(**batch, max_new_tokens=5, do_sample=False, return_dict_in_generate=True,
                             output_scores=True)
        logprobs = model.compute_transition_scores(out.sequences, out.scores, normalize_logits=True)
        mask = torch.cat([batch["attention_mask"], torch.ones_like(logprobs, dtype=torch.long)], 1)
        logits = model(input_ids=out.sequences, attention_mask=mask, pixel_values=batch["pixel_values"],
                       high_res_pixel_values=batch["high_res_pixel_values"]).logits
    prompt_len = batch["input_ids"].shape[1]
    new = out.sequences[:, prompt_len:]
    reference = torch.log_softmax(logits[:, prompt_len - 1:-1], -1).gather(-1, new.unsqueeze(-1)).squeeze(-1)
    torch.testing.assert_close(logprobs, reference, rtol=1e-4, atol=1e-4)


def test_standardized_patch_features_have_zero_mean_and_unit_variance_over_each_image(screenshots, tmp_path):
    """Both encoders' features are standardized over the image's patches when the config asks (and
    left as they are when it does not); the flag survives a save/load round trip."""
    model, processor = tiny_vlm(seed=0, standardize_patch_features=True)
    model.save_pretrained(tmp_path)
    loaded = CrossAttnVLMForConditionalGeneration.from_pretrained(tmp_path).eval()
    assert loaded.config.standardize_patch_features
    batch = processor.image_processor(screenshots)
    with torch.no_grad():
        raw = loaded.model.vision_tower(pixel_values=batch["pixel_values"]).last_hidden_state
        standardized = loaded.model._standardized(raw)
        high_res_on = loaded.model.get_high_res_features(batch["high_res_pixel_values"])
        loaded.config.standardize_patch_features = False
        high_res_off = loaded.model.get_high_res_features(batch["high_res_pixel_values"])
        assert torch.equal(loaded.model._standardized(raw), raw)
    width = raw.shape[-1]
    assert not torch.allclose(raw.mean(1), torch.zeros(2, width), atol=1e-2)
    assert torch.allclose(standardized.mean(1), torch.zeros(2, width), atol=1e-5)
    assert torch.allclose(standardized.var(1, correction=0), torch.ones(2, width), atol=1e-2)
    assert not torch.allclose(high_res_on, high_res_off, atol=1e-2)
