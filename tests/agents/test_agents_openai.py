"""OpenAIAgent and the official `openai` SDK against a real OpenAI-compatible HTTP server
(coachgym's model server on 127.0.0.1 serving the tiny HF model), not a mock: tokens, log-probs
and their alternatives, streaming, images, batching, 429s, 404s, capped lengths, dead servers."""

from __future__ import annotations

import json
import re
import threading
from collections import defaultdict

import httpx
import numpy as np
import openai
import pytest

from coachgym.agents.base import AgentServerError
from coachgym.agents.chat import ChatRequest, SamplingParams
from coachgym.agents.openai import OpenAIAgent, to_openai_messages
from coachgym.agents.registry import make_agent
from coachgym.agents.serve import ModelServer
from coachgym.agents.serve_api import CompletionBody, to_chat_request
from coachgym.envs.registry import make
from coachgym.envs.server import ThreadedServer
from coachgym.trajectories.rollout import run_episode

LIMIT = 12  # the server's cap on max_tokens
CHAT = [{"role": "user", "content": "Say something."}]


@pytest.fixture(scope="module")
def model_server(tiny_hf_model):
    server = ModelServer(tiny_hf_model, "tiny", batch_wait_s=0.05, max_tokens=LIMIT)
    http = ThreadedServer(server.app)
    yield server, http.url + "/v1"
    http.stop()
    server.stop()


@pytest.fixture(scope="module")
def sdk(model_server):
    return openai.OpenAI(base_url=model_server[1], api_key="unused", max_retries=0)


def test_agents_openai_episode_has_exact_token_ids_and_logprobs(model_server, tiny_hf_model):
    server, url = model_server
    agent = make_agent(f"openai:tiny@{url}?temperature=0&max_new_tokens=6")
    trajectory = run_episode(make("guess"), agent, "guess-003", seed=0)
    assert trajectory.agent.startswith("openai:tiny@") and trajectory.model == "tiny" and trajectory.steps
    assert trajectory.usage["completion_tokens"] == sum(len(s.token_ids) for s in trajectory.steps)
    # the served tokens and log-probs are exactly what the local model produces for the same chat
    first = trajectory.steps[0]
    request = ChatRequest(messages=[{"role": "system", "content": trajectory.system_prompt},
                                    {"role": "user", "content": first.observation}],
                          sampling=SamplingParams(temperature=0, max_new_tokens=6))
    local = tiny_hf_model.complete([request])[0]
    assert first.token_ids == local.token_ids and first.action == local.text
    assert first.logprobs == pytest.approx(local.logprobs, abs=1e-5)


def test_agents_openai_concurrent_clients_are_batched(model_server):
    server, url = model_server
    before = len(server.batch_sizes)
    results: list = []

    def one(index: int) -> None:
        agent = OpenAIAgent("tiny", base_url=url, max_new_tokens=4)
        request = ChatRequest(messages=[{"role": "user", "content": f"hello {index}"}], sampling=agent.sampling)
        results.append(agent.complete([request])[0])

    threads = [threading.Thread(target=one, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4 and all(r.token_ids and len(r.token_ids) == len(r.logprobs) for r in results)
    assert max(server.batch_sizes[before:]) > 1, "concurrent requests should share a generate call"


def test_agents_openai_images_travel_losslessly():
    screenshot = np.random.default_rng(0).integers(0, 256, (24, 32, 3), dtype=np.uint8)
    messages = [{"role": "user", "content": [{"type": "image", "step": 3}, {"type": "text", "text": "click it"}]}]
    body = CompletionBody(model="m", messages=to_openai_messages(messages, {3: screenshot}))
    request = to_chat_request(body)
    assert request.messages[0]["content"][1] == {"type": "text", "text": "click it"}
    np.testing.assert_array_equal(request.images[request.messages[0]["content"][0]["step"]], screenshot)


def test_agents_openai_rate_limit_is_retried_with_backoff(tiny_hf_model):
    server = ModelServer(tiny_hf_model, "tiny", rate_limit_per_s=1)
    http = ThreadedServer(server.app)
    try:
        agent = OpenAIAgent("tiny", base_url=http.url + "/v1", max_new_tokens=2, max_retries=4)
        request = ChatRequest(messages=[{"role": "user", "content": "hi"}], sampling=agent.sampling)
        outputs = agent.complete([request, request])
        assert len(outputs) == 2 and server.rate_limited >= 1
        impatient = OpenAIAgent("tiny", base_url=http.url + "/v1", max_new_tokens=2, max_retries=0)
        with pytest.raises(AgentServerError, match="429"):
            impatient.complete([request, request])
    finally:
        http.stop()
        server.stop()


def test_agents_openai_dead_server_is_one_clear_error():
    agent = OpenAIAgent("tiny", base_url="http://127.0.0.1:9/v1", max_retries=1, timeout_s=2)
    agent.name = "openai:tiny"
    trajectory = run_episode(make("guess"), agent, "guess-000", seed=0)
    assert trajectory.outcome.value == "agent_error"
    assert re.match(r"AgentServerError: Cannot reach .*127.0.0.1:9.*coachgym serve-model", trajectory.metadata["error"])
    with pytest.raises(AgentServerError, match="Cannot reach .*127.0.0.1:9.*coachgym serve-model"):
        run_episode(make("guess"), agent, "guess-000", seed=0, raise_agent_errors=True)


def test_agents_openai_server_scores_token_ids_like_vllm(model_server, tiny_hf_model):
    """Teachers for on-policy distillation: /tokenize and prompt_logprobs on /v1/completions."""
    import httpx
    import torch

    _, url = model_server
    root = url.removesuffix("/v1")
    text = "Thought: guess(42)<|im_end|>"
    tokens = httpx.post(root + "/tokenize", json={"model": "tiny", "prompt": text, "add_special_tokens": False}).json()
    assert tokens["tokens"] == tiny_hf_model.tokenizer(text, add_special_tokens=False).input_ids
    ids = tokens["tokens"]
    body = {"model": "tiny", "prompt": ids, "max_tokens": 1, "temperature": 0.0, "prompt_logprobs": 0}
    choice = httpx.post(url + "/completions", json=body).json()["choices"][0]
    assert choice["prompt_logprobs"][0] is None and len(choice["prompt_logprobs"]) == len(ids)
    with torch.no_grad():
        logits = tiny_hf_model.model(torch.tensor([ids])).logits[0].float()
    expected = [torch.log_softmax(logits[i], -1)[ids[i + 1]].item() for i in range(len(ids) - 1)]
    served = [entry[str(token)]["logprob"] for token, entry in zip(ids[1:], choice["prompt_logprobs"][1:])]
    assert served == pytest.approx(expected, abs=1e-5)
    refused = httpx.post(url + "/completions", json=body | {"max_tokens": 5})
    assert refused.status_code == 400 and "chat/completions" in refused.json()["error"]["message"]


def test_agents_openai_sdk_stream_yields_the_completions_text(sdk):
    options = {"model": "tiny", "messages": CHAT, "temperature": 1.0, "seed": 5, "max_tokens": 10}
    whole = sdk.chat.completions.create(**options)
    chunks = list(sdk.chat.completions.create(**options, stream=True, stream_options={"include_usage": True}))
    assert {chunk.object for chunk in chunks} == {"chat.completion.chunk"}
    pieces = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(pieces) > 1 and "".join(pieces) == whole.choices[0].message.content
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == [
        whole.choices[0].finish_reason]
    assert chunks[-1].usage.completion_tokens == whole.usage.completion_tokens


def test_agents_openai_stream_is_server_sent_events_ending_with_done(model_server):
    body = {"model": "tiny", "messages": CHAT, "max_tokens": 3, "stream": True}
    with httpx.stream("POST", model_server[1] + "/chat/completions", json=body) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        events = [line for line in response.iter_lines() if line]
    assert events[-1] == "data: [DONE]" and all(event.startswith("data: ") for event in events)
    chunks = [json.loads(event.removeprefix("data: ")) for event in events[:-1]]
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant" and chunks[-1]["choices"][0]["finish_reason"]


def test_agents_openai_streamed_tokens_are_the_sampled_tokens(tiny_hf_model):
    requests = [ChatRequest(messages=[{"role": "user", "content": f"hi {i}"}],
                            sampling=SamplingParams(temperature=1.0, seed=i, max_new_tokens=6)) for i in range(3)]
    seen = defaultdict(list)
    outputs = tiny_hf_model.complete(requests, on_token=lambda index, token: seen[index].append(token))
    assert [seen[i] for i in range(3)] == [output.token_ids for output in outputs]


def test_agents_openai_sdk_top_logprobs_are_the_models_likeliest_tokens(sdk, tiny_hf_model):
    response = sdk.chat.completions.create(model="tiny", messages=CHAT, temperature=0, max_tokens=4, logprobs=True,
                                           top_logprobs=3, extra_body={"return_tokens_as_token_ids": True})
    content = response.choices[0].logprobs.content
    ids = [int(entry.token.removeprefix("token_id:")) for entry in content]
    probe = ChatRequest(messages=CHAT, sampling=SamplingParams(max_new_tokens=1))
    prompt_ids = tiny_hf_model.complete([probe])[0].prompt_token_ids
    expected = tiny_hf_model.next_token_logprobs(prompt_ids + ids)[len(prompt_ids) - 1:-1]  # one forward pass
    assert len(content) == len(expected) == 4
    for entry, distribution in zip(content, expected):
        values, likeliest = distribution.topk(3)
        assert [int(a.token.removeprefix("token_id:")) for a in entry.top_logprobs] == likeliest.tolist()
        assert [a.logprob for a in entry.top_logprobs] == pytest.approx(values.tolist(), abs=1e-4)
        assert entry.logprob == pytest.approx(entry.top_logprobs[0].logprob)  # greedy took the likeliest


def test_agents_openai_sdk_streamed_logprobs_match_the_whole_response(sdk):
    options = {"model": "tiny", "messages": CHAT, "temperature": 0, "max_tokens": 5, "logprobs": True,
               "top_logprobs": 2}
    whole = sdk.chat.completions.create(**options).choices[0].logprobs.content
    chunks = list(sdk.chat.completions.create(**options, stream=True))
    streamed = [entry for c in chunks if c.choices and c.choices[0].logprobs for entry in c.choices[0].logprobs.content]
    assert [(e.token, e.logprob, len(e.top_logprobs)) for e in streamed] == [
        (e.token, e.logprob, 2) for e in whole]


def test_agents_openai_sdk_unknown_model_is_a_404_in_openais_shape(sdk, model_server):
    with pytest.raises(openai.NotFoundError) as refused:
        sdk.chat.completions.create(model="gpt-nope", messages=CHAT)
    assert refused.value.code == "model_not_found" and "'tiny'" in refused.value.message
    body = httpx.post(model_server[1] + "/chat/completions", json={"model": "gpt-nope", "messages": CHAT}).json()
    assert set(body) == {"error"} and body["error"]["param"] == "model" and body["error"]["type"]


def test_agents_openai_sdk_max_tokens_is_capped_by_the_server(sdk):
    response = sdk.chat.completions.create(model="tiny", messages=CHAT, temperature=0, max_tokens=10_000)
    assert response.usage.completion_tokens == LIMIT and response.choices[0].finish_reason == "length"
