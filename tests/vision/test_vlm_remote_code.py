"""A saved CrossAttnVLM checkpoint loads and generates in a process that cannot import coachgym."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import torch
from vlm_messages import user_turn

# Runs in a fresh interpreter: coachgym is blocked before anything is imported, so every class must
# come from the checkpoint folder's remote code through `auto_map`.
FRESH_PROCESS = """
import sys
sys.modules["coachgym"] = None  # coachgym is installed site-wide (editable); make it unimportable
import numpy as np, torch
from transformers import AutoConfig, AutoImageProcessor, AutoModelForImageTextToText, AutoProcessor

path, out = sys.argv[1], sys.argv[2]
try:
    import coachgym
    raise SystemExit("coachgym must not be importable here")
except ImportError:
    pass
config = AutoConfig.from_pretrained(path, trust_remote_code=True)
model = AutoModelForImageTextToText.from_pretrained(path, trust_remote_code=True).eval()
processor = AutoProcessor.from_pretrained(path, trust_remote_code=True)
image_processor = AutoImageProcessor.from_pretrained(path, trust_remote_code=True)
screenshot = np.load(path + "/screenshot.npy")
pixels = image_processor(screenshot)
prompt = processor.render(
    [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "click the OK button"}]}],
    add_generation_prompt=True,
)
batch = processor(text=[prompt], images=[screenshot])
with torch.no_grad():
    logits = model(**batch).logits
    generated = model.generate(**batch, max_new_tokens=6, do_sample=False)
classes = [type(config).__module__, type(model).__module__, type(processor).__module__,
           type(image_processor).__module__]
torch.save({"input_ids": batch["input_ids"], "logits": logits, "generated": generated, "classes": classes,
            "high_res_pixel_values": pixels["high_res_pixel_values"]}, out)
"""


def test_checkpoint_loads_through_auto_classes_without_coachgym(active_vlm, screenshots, tmp_path):
    model, processor = active_vlm
    checkpoint = tmp_path / "checkpoint"
    model.save_pretrained(checkpoint)
    processor.save_pretrained(checkpoint)
    np.save(checkpoint / "screenshot.npy", screenshots[0])
    assert "AutoModelForImageTextToText" in json.loads((checkpoint / "config.json").read_text())["auto_map"]
    assert "AutoProcessor" in json.loads((checkpoint / "processor_config.json").read_text())["auto_map"]

    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.update(HF_HUB_OFFLINE="1", HF_MODULES_CACHE=str(tmp_path / "modules"))
    out = tmp_path / "fresh.pt"
    run = subprocess.run(
        [sys.executable, "-I", "-c", FRESH_PROCESS, str(checkpoint), str(out)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    fresh = torch.load(out)
    assert all(module.startswith("transformers_modules.") for module in fresh["classes"]), fresh["classes"]

    batch = processor(text=[processor.render(user_turn("click the OK button", True),
                                             add_generation_prompt=True)], images=[screenshots[0]])
    assert torch.equal(batch["input_ids"], fresh["input_ids"])
    assert torch.equal(batch["high_res_pixel_values"], fresh["high_res_pixel_values"])
    with torch.no_grad():
        assert torch.equal(model(**batch).logits, fresh["logits"])
        assert torch.equal(model.generate(**batch, max_new_tokens=6, do_sample=False), fresh["generated"])
