"""`ServerTeacher` against a real OpenAI-compatible server (`coachgym serve-model`'s app, run by
uvicorn on a local port): a batch scored in one request, with the local teacher's scores, and
refusal on a foreign tokenizer."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
import uvicorn

from coachgym.agents.hf import HFModel
from coachgym.agents.serve import ModelServer
from coachgym.training.teacher import HFTeacher, ServerTeacher, TokenizerMismatch
from coachgym.training.tiny import build_model, build_tokenizer, save_tiny
from tests.conftest import free_port


@pytest.fixture(scope="module")
def serve():
    servers = []

    def start(path) -> str:
        model_server = ModelServer(HFModel(str(path)), "teacher")
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(model_server.app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        servers.append((server, thread, model_server))
        url = f"http://127.0.0.1:{port}/v1"
        for _ in range(100):
            try:
                httpx.get(url + "/models", timeout=1)
                return url
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("model server did not start")

    yield start
    for server, thread, model_server in servers:
        server.should_exit = True
        thread.join(timeout=10)
        model_server.stop()


def test_train_server_teacher_scores_like_the_local_teacher(serve, teacher_path, tokenizer):
    teacher = ServerTeacher(serve(teacher_path), "teacher", tokenizer)
    ids = tokenizer.apply_chat_template([{"role": "user", "content": "Range 1..8."},
                                         {"role": "assistant", "content": "Action: guess(4)"}], tokenize=True)
    ids = list(ids["input_ids"]) if hasattr(ids, "keys") else list(ids)
    batch = [ids, ids[:-3], ids[2:]]
    requests = []
    teacher.client.event_hooks["request"].append(requests.append)
    served = teacher.score(batch)
    local = HFTeacher(teacher_path, tokenizer).score(batch)
    assert len(requests) == 1  # the whole batch in one request
    assert [len(values) for values in served] == [len(s) for s in batch] and all(v[0] == 0.0 for v in served)
    for one, other in zip(served, local):
        assert one == pytest.approx(other, abs=1e-4)


def test_train_server_teacher_with_another_tokenizer_is_refused(serve, tmp_path, tokenizer):
    other = build_tokenizer(["unrelated words only"] * 5, vocab_size=300)
    url = serve(save_tiny(build_model(other, hidden_size=16, layers=1), other, tmp_path / "other"))
    with pytest.raises(TokenizerMismatch, match="tokenizes differently"):
        ServerTeacher(url, "teacher", tokenizer)
