"""from_parts composition from locally saved tiny checkpoints, freeze presets and PEFT LoRA."""

from __future__ import annotations

import pytest
import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoConfig, AutoModel, AutoModelForCausalLM, AutoTokenizer
from vlm_messages import user_turn

from coachgym.vision import (CrossAttnVLMConfig, CrossAttnVLMForConditionalGeneration, CrossAttnVLMImageProcessor,
                             CrossAttnVLMProcessor, tiny_vlm)
from coachgym.vision.parts import freeze
from coachgym.vision.tiny import tiny_text_config, tiny_vision_config
from coachgym.vision.tokenizer import byte_level_tokenizer


@pytest.fixture(scope="module")
def part_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("parts")
    torch.manual_seed(3)
    tokenizer = byte_level_tokenizer()
    lm = AutoModelForCausalLM.from_config(AutoConfig.for_model(**tiny_text_config(len(tokenizer))))
    lm.save_pretrained(root / "lm")
    tokenizer.save_pretrained(root / "lm")
    for name, size in (("vision", 28), ("high_res", 56)):
        AutoModel.from_config(AutoConfig.for_model(**tiny_vision_config(size))).save_pretrained(root / name)
    return {"lm": str(root / "lm"), "vision": str(root / "vision"), "high_res_vision": str(root / "high_res")}


def test_from_parts_loads_every_part_and_starts_as_the_lm(part_dirs, screenshots):
    model = CrossAttnVLMForConditionalGeneration.from_parts(**part_dirs, cross_attn_hidden_size=32,
                                                            cross_attn_num_heads=4).eval()
    lm = AutoModelForCausalLM.from_pretrained(part_dirs["lm"]).eval()
    vision = AutoModel.from_pretrained(part_dirs["vision"])
    assert torch.equal(model.lm_head.weight, lm.lm_head.weight)
    assert torch.equal(model.model.vision_tower.embeddings.patch_embedding.weight,
                       vision.embeddings.patch_embedding.weight)
    assert model.config.high_res_vision_config.image_size == 56
    ids = torch.tensor([[2, 40, 41, 42, 43]])
    high_res = torch.randn(1, 3, 56, 56)
    with torch.no_grad():  # zero gates: the composed model is exactly the pretrained LM on text
        ours = model(input_ids=ids).logits
        torch.testing.assert_close(ours, lm(input_ids=ids).logits)
    assert model.config.image_token_id == 4


def test_from_parts_runs_an_encoder_at_another_size_by_resizing_its_position_embeddings(part_dirs, screenshots):
    # the 56-px high-res checkpoint fed 112 px (like a 384-px SigLIP fed 1120 px)
    model = CrossAttnVLMForConditionalGeneration.from_parts(**part_dirs, high_res_image_size=112, image_size=28,
                                                            cross_attn_hidden_size=32, cross_attn_num_heads=4,
                                                            cross_attn_gate_init=0.5).eval()
    assert model.config.high_res_vision_config.image_size == 112
    source = AutoModel.from_pretrained(part_dirs["high_res_vision"])
    table = model.model.high_res_vision_tower.embeddings.position_embedding.weight
    old = source.embeddings.position_embedding.weight
    assert table.shape == (64, old.shape[1])  # an 8x8 grid from the 4x4 one
    nearest = old.reshape(4, 4, -1).repeat_interleave(2, 0).repeat_interleave(2, 1).reshape(64, -1)
    assert torch.corrcoef(torch.stack([table.flatten(), nearest.flatten()]))[0, 1] > 0.8  # the same layout, smoothed
    processor = CrossAttnVLMProcessor.for_config(model.config, AutoTokenizer.from_pretrained(part_dirs["lm"]))
    batch = processor(text=[processor.render(user_turn("tap ok", True), add_generation_prompt=True)],
                      images=[screenshots[0]])
    assert batch["high_res_pixel_values"].shape[-1] == 112
    with torch.no_grad():
        assert torch.isfinite(model(**batch).logits).all()
    with pytest.raises(ValueError, match="not a multiple of the encoder's 14-px patches"):
        CrossAttnVLMForConditionalGeneration.from_parts(**part_dirs, high_res_image_size=100,
                                                        cross_attn_hidden_size=32, cross_attn_num_heads=4)


def test_a_processor_for_another_size_is_told_how_to_fix_it(part_dirs, screenshots):
    model = CrossAttnVLMForConditionalGeneration.from_parts(**part_dirs, cross_attn_hidden_size=32,
                                                            cross_attn_num_heads=4)
    wrong = CrossAttnVLMProcessor(CrossAttnVLMImageProcessor(image_size=28, high_res_image_size=112),
                                  AutoTokenizer.from_pretrained(part_dirs["lm"]), image_seq_length=4)
    batch = wrong(text=[wrong.render(user_turn("tap ok", True), add_generation_prompt=True)], images=[screenshots[0]])
    with pytest.raises(ValueError, match="encoder takes 56 px.*for_config"):
        model(**batch)


def test_cross_attention_wider_than_the_lm_is_refused():
    with pytest.raises(ValueError, match="cross_attn_hidden_size 1024 exceeds the LM's hidden size 896"):
        CrossAttnVLMConfig(text_config=tiny_text_config(300, hidden_size=896), vision_config=tiny_vision_config(28),
                           high_res_vision_config=tiny_vision_config(56), cross_attn_hidden_size=1024)


def test_freeze_presets_follow_the_cogagent_schedule():
    model, _ = tiny_vlm()
    first = freeze(model, "high_res")
    assert set(first) == {"cross_attn", "high_res"}
    assert not model.lm_head.weight.requires_grad
    assert not model.model.vision_tower.embeddings.patch_embedding.weight.requires_grad
    later = freeze(model, "all_but_low_res")
    assert set(later) == {"cross_attn", "high_res", "projector", "language_model"}
    assert sum(freeze(model, "all").values()) == sum(p.numel() for p in model.parameters())
    with pytest.raises(ValueError, match="Unknown freeze preset"):
        freeze(model, "everything")


def test_lora_adapters_train_and_generate(screenshots):
    model, processor = tiny_vlm(seed=4, cross_attn_gate_init=0.5)
    lora = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], lora_dropout=0.0)
    peft_model = get_peft_model(model, lora)
    trainable = [n for n, p in peft_model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n for n in trainable)
    assert any(".cross_attn.q_proj.lora_" in n for n in trainable)
    text = processor.render(user_turn("tap send", True) + [{"role": "assistant", "content": "tap(500, 900)"}])
    batch = processor(text=[text], images=[screenshots[0]])
    optimizer = torch.optim.AdamW([p for p in peft_model.parameters() if p.requires_grad], lr=1e-2)
    peft_model.train()
    losses = []
    for _ in range(8):
        loss = peft_model(**batch, labels=batch["input_ids"]).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    prompt = processor(text=[processor.render(user_turn("tap send", True), add_generation_prompt=True)],
                       images=[screenshots[0]])
    with torch.no_grad():
        out = peft_model.eval().generate(**prompt, max_new_tokens=4, do_sample=False)
    assert out.shape[1] == prompt["input_ids"].shape[1] + 4
