"""Attacks on `coachgym serve-model` (issue #16), each refused without the server paying for it:
no key needed, uploads read before the key was checked, decompression bombs, malformed parts."""

from __future__ import annotations

import base64
import io
import os

import httpx
import openai
import pytest
from PIL import Image

CHAT = [{"role": "user", "content": "hi"}]


@pytest.fixture(scope="module")
def model_server(serve, tiny_model_path):
    """Started as a user would, without --api-key: the server must make a key and print it."""
    environ = {k: v for k, v in os.environ.items() if k != "COACHGYM_MODEL_KEY"}
    served = serve("serve-model", tiny_model_path, "--name", "tiny", "--max-body-mb", "2", ready="/v1/models",
                   environ=environ)
    served.key = served.printed(r"API key: (\S+)")
    return served


@pytest.fixture(scope="module")
def client(model_server):
    return openai.OpenAI(base_url=model_server.url + "/v1", api_key=model_server.key, max_retries=0)


def bomb(side: int = 12000) -> str:
    """A PNG of `side` x `side` pixels that is a few kB on the wire and 3 * side**2 bytes as RGB."""
    buffer = io.BytesIO()
    Image.new("1", (side, side)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def test_security_model_server_needs_a_key_by_default(model_server, client):
    refused = httpx.get(model_server.url + "/v1/models")
    assert refused.status_code == 401 and "Authorization: Bearer" in refused.json()["error"]["message"]
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=model_server.url + "/v1", api_key="guessed", max_retries=0).models.list()
    assert [model.id for model in client.models.list()] == ["tiny"]


def test_security_model_server_large_uploads_are_refused_before_they_are_read(model_server, upload):
    chat = model_server.url + "/v1/chat/completions"
    before = model_server.peak_rss_mb()
    refused = httpx.post(chat, content=upload(50), timeout=60)
    assert refused.status_code == 401
    assert model_server.peak_rss_mb() - before < 20, "the server buffered an upload before checking the key"
    too_large = httpx.post(chat, content=upload(50), headers={"Authorization": f"Bearer {model_server.key}"},
                           timeout=60)
    assert too_large.status_code == 413 and "limit of 2,097,152 bytes" in too_large.json()["error"]["message"]
    assert model_server.peak_rss_mb() - before < 20, "the server buffered an upload over its limit"


def test_security_model_server_refuses_decompression_bombs_before_decoding(model_server, client):
    image = bomb()
    assert len(image) < 200_000
    before = model_server.peak_rss_mb()
    content = [{"type": "image_url", "image_url": {"url": image}}, {"type": "image_url", "image_url": {"url": image}},
               {"type": "text", "text": "describe"}]
    with pytest.raises(openai.BadRequestError, match="pixels"):
        client.chat.completions.create(model="tiny", messages=[{"role": "user", "content": content}], max_tokens=1)
    assert model_server.peak_rss_mb() - before < 50, "the server decoded the images"


@pytest.mark.parametrize("content, named", [
    ([{"type": "text"}], "text: Field required"),
    ([{"type": "video", "video": "x"}], "'video'"),
    ([{"type": "image_url"}], "image_url: Field required"),
    ([{"type": "image_url", "image_url": {"url": "data:image/png;base64,!!"}}], "Could not decode"),
    ([{"type": "image_url", "image_url": {"url": "http://169.254.169.254/latest"}}], "fetches nothing"),
    (None, "content must be a string or a list of parts"),
])
def test_security_model_server_malformed_parts_are_400s(model_server, client, content, named):
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model="tiny", messages=[{"role": "user", "content": content}], max_tokens=1)
    assert named in refused.value.message
    assert client.chat.completions.create(model="tiny", messages=CHAT, max_tokens=1).choices[0].message is not None
