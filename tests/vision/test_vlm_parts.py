"""from_parts composition from locally saved tiny checkpoints, freeze presets and PEFT LoRA."""

from __future__ import annotations

import pytest
import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoConfig, AutoModel, AutoModelForCausalLM
from vlm_messages import user_turn

from coachgym.vision import CrossAttnVLMForConditionalGeneration, tiny_vlm
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
