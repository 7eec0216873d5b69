"""Envs over HTTP: a FastAPI env server and `RemoteEnv`, a client that behaves like the local env.

`coachgym serve-env` runs `EnvServer`: every client session gets its own env instance, created,
reset, stepped and closed through token-authenticated JSON calls; the token and the body size
are checked before a request body is read (`coachgym.envs.gate`). Each session's env lives on
its own thread (Playwright's sync API must stay on the thread that started it). Clients send a
heartbeat while they hold a session; a session not heard from for `lease_s` seconds (its client
died or lost the network) is closed and its env freed. Screenshots travel as lossless PNG, so a
remote episode's observations are identical to a local one's.

The server runs envs only by registered name; it never executes code sent by a client. A client
chooses tasks, seeds and the few bounded options `coachgym.envs.remote_options` lists per env;
options that reach into the host (a suite file, the sandbox's filesystem, a database URL) stay
the operator's.
"""

from __future__ import annotations

import base64
import io
import os
import secrets
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import gymnasium as gym
import httpx
import numpy as np
from fastapi import FastAPI, HTTPException
from PIL import Image
from pydantic import BaseModel, Field

from coachgym.envs.core import MAX_TEXT_CHARS, AgentEnv, ResetOptions, Task
from coachgym.envs.gate import install_gate
from coachgym.envs.remote_options import RefusedOptions, remote_kwargs
from coachgym.envs.spaces import UnicodeText

TOKEN_ENV_VAR = "COACHGYM_ENV_TOKEN"
DEFAULT_MAX_BODY_BYTES = 4 * 2**20  # the longest action (MAX_TEXT_CHARS), JSON-escaped, fits


# --------------------------------------------------------------------------- wire format
def encode_observation(observation: dict[str, Any]) -> dict[str, Any]:
    encoded = dict(observation)
    if "screenshot" in encoded:
        buffer = io.BytesIO()
        Image.fromarray(np.asarray(encoded["screenshot"], dtype=np.uint8)).save(buffer, format="PNG", compress_level=1)
        encoded["screenshot"] = base64.b64encode(buffer.getvalue()).decode("ascii")
    return encoded


def decode_observation(encoded: dict[str, Any]) -> dict[str, Any]:
    observation = dict(encoded)
    if "screenshot" in observation:
        image = Image.open(io.BytesIO(base64.b64decode(observation["screenshot"])))
        observation["screenshot"] = np.asarray(image.convert("RGB"), dtype=np.uint8)
    return observation


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


# --------------------------------------------------------------------------- server
class CreateBody(BaseModel):
    env: str
    kwargs: dict[str, Any] = {}


class ResetBody(BaseModel):
    seed: int | None = Field(default=None, ge=0)
    options: ResetOptions | None = None


class StepBody(BaseModel):
    action: str


class _Session:
    def __init__(self, env: gym.Env, thread: ThreadPoolExecutor):
        self.env, self.thread = env, thread
        self.last_seen = time.monotonic()

    def call(self, function, *args):
        self.last_seen = time.monotonic()
        return self.thread.submit(function, *args).result()


class EnvServer:
    """Per-session env instances behind a bearer token. `app` is the FastAPI application."""

    def __init__(self, token: str, lease_s: float = 60.0, max_sessions: int = 32, envs: list[str] | None = None,
                 max_body_bytes: int = DEFAULT_MAX_BODY_BYTES):
        from coachgym.envs.registry import ENVS, register_all

        if not token:
            raise ValueError("EnvServer needs a token; `coachgym serve-env` makes one when none is given.")
        register_all()
        self.token, self.lease_s, self.max_sessions, self.max_body_bytes = token, lease_s, max_sessions, max_body_bytes
        self.envs = envs or list(ENVS)
        if unknown := sorted(set(self.envs) - set(ENVS)):
            raise ValueError(f"Unknown envs {', '.join(unknown)}; known envs: {', '.join(ENVS)}.")
        self.sessions: dict[str, _Session] = {}
        self.closed = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.app = self._build_app()
        threading.Thread(target=self._reap_forever, daemon=True, name="env-server-reaper").start()

    def _session(self, session_id: str) -> _Session:
        session = self.sessions.get(session_id)
        if session is None:
            raise HTTPException(404, f"No session {session_id!r} (closed, or expired after {self.lease_s:.0f}s "
                                     "without a heartbeat); create a new one.")
        return session

    def _build_app(self) -> FastAPI:
        app = FastAPI(title="coachgym env server")
        install_gate(app, self.token, self.max_body_bytes, "Missing or wrong token: send 'Authorization: Bearer "
                     f"<token>' (the token `coachgym serve-env` printed, or ${TOKEN_ENV_VAR}).")

        @app.get("/v1/envs")
        def list_envs() -> dict[str, Any]:
            return {"envs": self.envs, "sessions": len(self.sessions)}

        @app.post("/v1/sessions")
        def create(body: CreateBody) -> dict[str, Any]:
            return self.create(body.env, body.kwargs)

        @app.post("/v1/sessions/{session_id}/reset")
        def reset(session_id: str, body: ResetBody) -> dict[str, Any]:
            session = self._session(session_id)
            base = session.env.unwrapped
            options = body.options.model_dump(exclude_none=True) if body.options else None
            if options and options["task_id"] not in {task.id for task in base.suite.tasks}:
                raise HTTPException(404, f"No task {options['task_id']!r} in this session's suite "
                                         f"{base.suite.name!r}; pick one of its task ids.")
            observation, info = session.call(lambda: session.env.reset(seed=body.seed, options=options))
            return {"observation": encode_observation(observation), "info": _jsonable(info),
                    "task": base.task.model_dump(mode="json"), "prompt_info": base.prompt_info()}

        @app.post("/v1/sessions/{session_id}/step")
        def step(session_id: str, body: StepBody) -> dict[str, Any]:
            session = self._session(session_id)
            try:
                observation, reward, terminated, truncated, info = session.call(session.env.step, body.action)
            except (RuntimeError, gym.error.ResetNeeded) as error:  # stepping a finished or un-reset episode
                raise HTTPException(409, str(error)) from None
            return {"observation": encode_observation(observation), "reward": reward, "terminated": terminated,
                    "truncated": truncated, "info": _jsonable(info)}

        @app.post("/v1/sessions/{session_id}/heartbeat")
        def heartbeat(session_id: str) -> dict[str, Any]:
            self._session(session_id).last_seen = time.monotonic()
            return {"ok": True}

        @app.delete("/v1/sessions/{session_id}")
        def close(session_id: str) -> dict[str, Any]:
            return {"closed": self.close_session(session_id)}

        return app

    def create(self, name: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        from coachgym.envs.registry import ENVS, make

        if name not in self.envs:
            raise HTTPException(404, f"Unknown env {name!r}; this server runs: {', '.join(self.envs)}.")
        try:
            kwargs = remote_kwargs(name, list(ENVS[name].suites), kwargs)
        except RefusedOptions as error:
            raise HTTPException(400, str(error)) from None
        with self._lock:
            if len(self.sessions) >= self.max_sessions:
                raise HTTPException(503, f"The server already runs {self.max_sessions} sessions; close one or "
                                         "start the server with a larger --max-sessions.")
            thread = ThreadPoolExecutor(1, thread_name_prefix=f"env-{name}")
            try:
                env = thread.submit(make, name, **kwargs).result()
            except Exception as error:  # noqa: BLE001 - reported to the client with the reason
                thread.shutdown(wait=False)
                raise HTTPException(400, f"Could not create env {name!r}: {type(error).__name__}: {error}") from None
            session_id = uuid.uuid4().hex
            self.sessions[session_id] = _Session(env, thread)
        base = env.unwrapped
        return {"session": session_id, "name": base.name, "lease_s": self.lease_s,
                "screenshot_shape": list(base.screenshot_shape) if base.screenshot_shape else None,
                "prompt_info": base.prompt_info()}

    def close_session(self, session_id: str) -> bool:
        with self._lock:
            session = self.sessions.pop(session_id, None)
        if session is None:
            return False
        try:
            session.thread.submit(session.env.close).result(timeout=60)
        finally:
            session.thread.shutdown(wait=False)
            self.closed += 1
        return True

    def _reap_forever(self) -> None:
        while not self._stop.wait(min(self.lease_s / 4, 5.0)):
            now = time.monotonic()
            for session_id, session in list(self.sessions.items()):
                if now - session.last_seen > self.lease_s:
                    self.close_session(session_id)

    def shutdown(self) -> None:
        self._stop.set()
        for session_id in list(self.sessions):
            self.close_session(session_id)


class ThreadedServer:
    """Runs an ASGI app with uvicorn on a background thread (tests, the human page, model servers)."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0):
        import uvicorn

        self.server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False))
        self.thread = threading.Thread(target=self.server.run, daemon=True, name="uvicorn")
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"Could not start an HTTP server on {host}:{port} (is the port in use?).")
            time.sleep(0.02)
        bound = self.server.servers[0].sockets[0].getsockname()
        self.url = f"http://{bound[0]}:{bound[1]}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def new_token() -> str:
    return secrets.token_urlsafe(24)


# --------------------------------------------------------------------------- client
class RemoteEnv(gym.Env[dict, str]):
    """An env running on an `EnvServer`, with the local env's API and observations.

    It exposes what the rollout loop reads from a local `AgentEnv` (`name`, `task`,
    `prompt_info()`, `invalid_actions`, `steps`), keeps its session alive with a heartbeat
    thread, and closes it on `close()`.
    """

    metadata = {"render_modes": []}

    def __init__(self, url: str, env: str, token: str | None = None, timeout_s: float = 300.0, **env_kwargs: Any):
        from coachgym.envs.registry import env_class

        token = token or os.environ.get(TOKEN_ENV_VAR)
        if not token:
            raise ValueError(f"RemoteEnv needs the server's token: pass token=... or set ${TOKEN_ENV_VAR}.")
        self.url = url.rstrip("/")
        self.client = httpx.Client(base_url=self.url, timeout=timeout_s, headers={"Authorization": f"Bearer {token}"})
        created = self._call("post", "/v1/sessions", {"env": env, "kwargs": env_kwargs})
        self.session, self.name, self._prompt_info = created["session"], created["name"], created["prompt_info"]
        self.actions = env_class(env).actions
        shape = created["screenshot_shape"]
        self.screenshot_shape = tuple(shape) if shape else None
        self.observation_space = AgentEnv._observation_space(self)  # the same space the local env declares
        self.action_space = UnicodeText(MAX_TEXT_CHARS)
        self.task: Task | None = None
        self.invalid_actions = self.steps = 0
        self._closed = threading.Event()
        self._heartbeat = threading.Thread(target=self._beat, args=(created["lease_s"] / 3,), daemon=True)
        self._heartbeat.start()

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            response = self.client.request(method, path, json=body)
        except httpx.TransportError as error:
            raise ConnectionError(f"Env server {self.url} unreachable ({type(error).__name__}: {error}); start it with "
                                  "`coachgym serve-env` or check the URL.") from None
        if response.status_code != 200:
            detail = response.json().get("detail") if response.headers.get("content-type", "").startswith(
                "application/json") else response.text
            raise RuntimeError(f"Env server {self.url} refused {method.upper()} {path}: {response.status_code} {detail}")
        return response.json()

    def _beat(self, every: float) -> None:
        while not self._closed.wait(every):
            try:
                self.client.post(f"/v1/sessions/{self.session}/heartbeat")
            except httpx.HTTPError:
                pass  # a missed beat is retried; the lease tolerates a few

    def prompt_info(self) -> dict[str, str]:
        return self._prompt_info

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[dict, dict]:
        super().reset(seed=seed)
        reply = self._call("post", f"/v1/sessions/{self.session}/reset", {"seed": seed, "options": options})
        self.task = Task.model_validate(reply["task"])
        self._prompt_info = reply["prompt_info"]
        self._track(reply["info"])
        return decode_observation(reply["observation"]), reply["info"]

    def step(self, action: str) -> tuple[dict, float, bool, bool, dict]:
        reply = self._call("post", f"/v1/sessions/{self.session}/step", {"action": action})
        self._track(reply["info"])
        return (decode_observation(reply["observation"]), float(reply["reward"]), reply["terminated"],
                reply["truncated"], reply["info"])

    def _track(self, info: dict[str, Any]) -> None:
        self.invalid_actions, self.steps = info.get("invalid_actions", 0), info.get("steps", 0)

    def close(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        try:
            self.client.delete(f"/v1/sessions/{self.session}")
        except httpx.HTTPError:
            pass  # the server frees the env when the lease runs out
        self.client.close()
