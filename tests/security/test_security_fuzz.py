"""Fuzzing every env with hostile action text: nothing escapes `step()`, nothing outruns its deadline.

Each env gets at least 1,000 actions, a mix of random characters, structured garbage built from the
env's own action names (unclosed calls, wrong types, huge and deeply nested arguments, NUL bytes,
JSON bombs) and sampled well-formed actions. The assertions are the contract of `AgentEnv.step`:
no exception, no `env_error` (garbage is the agent's fault, never the env's), every invalid action
explained in the observation and `info`, and every step back within the env's deadline.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import numpy as np
import pytest

from coachgym.envs.core import AgentEnv

ACTIONS_PER_ENV = 1_000
ALPHABET = list("abcxyz(){}[]<>'\"`,.:;=\\/\n\t #$%&*!?-+_0123456789éж中🙂\x00\x7f")
FRAGMENTS = ["```", "```bash\n", "Action:", "Thought:", "((", "))", "[[", "]]", "{", "}", "\\", "'", '"', "\x00",
             "$(", "`", "; DROP TABLE x; --", "%s", "{0}", "\u202e", "\ud7ff", "\r\n", "null", "NaN", "-1e309"]


def garbage(rng: np.random.Generator, names: list[str]) -> str:
    """One hostile action: which shape is drawn at random, so every run covers every shape."""
    name = str(rng.choice(names))
    shape = int(rng.integers(12))
    if shape == 0:  # random characters
        return "".join(rng.choice(ALPHABET, size=int(rng.integers(0, 120))).tolist())
    if shape == 1:  # fragments of real syntax
        return "".join(rng.choice(FRAGMENTS, size=int(rng.integers(1, 12))).tolist())
    if shape == 2:  # an unclosed or overclosed call
        return f"{name}(" + "".join(rng.choice(ALPHABET, size=int(rng.integers(0, 30))).tolist())
    if shape == 3:  # wrong argument types
        value = str(rng.choice(["None", "[]", "{}", "1e400", "-0", "True", "'x'*9", "lambda: 1", "__import__('os')"]))
        return f"{name}({value}, {value})"
    if shape == 4:  # deep nesting, as text and as JSON
        depth = int(rng.integers(100, 5_000))
        return f'{{"action_type": "{name}", "x": ' + "[" * depth + "]" * depth + "}"
    if shape == 5:
        depth = int(rng.integers(100, 5_000))
        return f"{name}(" + "(" * depth + "1" + ")" * depth + ")"
    if shape == 6:  # huge arguments
        return f"{name}('" + "A" * int(rng.integers(1_000, 30_000)) + "')"
    if shape == 7:  # JSON with hostile values
        values: list = [1e308, -1, 2**70, "", None, [1, 2], {"a": 1}, "\x00", "9" * 400]
        value = values[int(rng.integers(len(values)))]
        return json.dumps({"action_type": name, "x": value, "y": value, "text": value, "index": value})
    if shape == 8:  # several actions in one message
        return f"{name}(1)\n{name}(2)\n```bash\nls\n```"
    if shape == 9:  # a fenced block in the wrong language, or never closed
        return "```" + str(rng.choice(["python", "sql", "", "bash"])) + "\n" + "x" * int(rng.integers(0, 50))
    if shape == 10:  # control and bidi characters around a real name
        return f"\x1b[2J{name}\u202e(\x00)"
    return f"Action: {name} " + "".join(rng.choice(FRAGMENTS, size=3).tolist())


def fuzz(env: AgentEnv, deadline_s: float, seed: int = 0) -> dict[str, int]:
    """Play `ACTIONS_PER_ENV` actions (90% garbage, 10% sampled valid ones), resetting when an episode ends.

    Envs are built with a huge `max_invalid_actions` so the garbage lands in long episodes rather
    than in a reset every three actions (resets are tested elsewhere and cost most of the time).
    """
    rng = np.random.default_rng(seed)
    names = list(env.actions.specs) + ["action_type", "click", "bash", "sql"]
    tasks = env.suite.ids()
    counts = {"invalid": 0, "valid": 0, "episodes": 1}
    env.reset(seed=seed, options={"task_id": tasks[0]})
    for index in range(ACTIONS_PER_ENV):
        text = env.actions.sample(rng) if rng.random() < 0.1 else garbage(rng, names)
        started = time.monotonic()
        obs, _, terminated, truncated, info = env.step(text)
        elapsed = time.monotonic() - started
        assert elapsed < deadline_s, f"step {index} took {elapsed:.1f} s (deadline {deadline_s} s): {text[:200]!r}"
        assert "env_error" not in info, f"garbage broke the env at step {index}: {info['env_error']} <- {text[:200]!r}"
        assert isinstance(obs["text"], str)
        if "action_error" in info:
            counts["invalid"] += 1
            assert info["action_error"].strip() and obs["text"].startswith("Invalid action:"), info
        else:
            counts["valid"] += 1
        if terminated or truncated:
            assert info["outcome"] != "env_error", info
            env.reset(seed=seed + index, options={"task_id": tasks[index % len(tasks)]})
            counts["episodes"] += 1
    assert counts["invalid"] > ACTIONS_PER_ENV // 2, counts  # the garbage really was garbage
    return counts


@pytest.fixture
def closing() -> Iterator[list[AgentEnv]]:
    made: list[AgentEnv] = []
    yield made
    for env in made:
        env.close()


def test_fuzz_phone(closing):
    from coachgym.envs.phone import PhoneEnv

    closing.append(env := PhoneEnv(suite="phone", max_steps=100, max_invalid_actions=10**6))
    fuzz(env, deadline_s=5)


def test_fuzz_shell(closing):
    from coachgym.envs.shell import ShellEnv

    closing.append(env := ShellEnv(suite="shell", max_steps=100, max_invalid_actions=10**6, timeout_s=3))
    fuzz(env, deadline_s=3 + 10)


@pytest.mark.parametrize("backend", ["sqlite", "mariadb", "postgres"])
def test_fuzz_database(backend, closing, request):
    from coachgym.envs.database import DatabaseEnv

    url = None if backend == "sqlite" else request.getfixturevalue(f"{backend}_url")
    closing.append(env := DatabaseEnv(suite="database", backend=backend, server_url=url, max_steps=100,
                                      max_invalid_actions=10**6))
    fuzz(env, deadline_s=env.limits.statement_timeout_s + 5)


def test_fuzz_browser(closing):
    from coachgym.envs.browser import BrowserEnv

    closing.append(env := BrowserEnv(suite="browser", max_steps=100, max_invalid_actions=10**6, viewport_width=800, viewport_height=600))
    fuzz(env, deadline_s=30)
