"""Where envs and task suites are found by name.

Entries are import paths, resolved only when used, so `coachgym envs list` works even when an
env's system dependency (Chromium, bubblewrap, a database server) is missing on this machine:
that env is listed as unavailable with the reason instead of breaking every other env.
"""

from __future__ import annotations

import importlib
from functools import lru_cache
from pathlib import Path
from typing import Any

import gymnasium as gym
from pydantic import BaseModel

from coachgym.envs.tasks import TaskSuite


class EnvEntry(BaseModel):
    name: str
    gym_id: str
    entry_point: str
    suites: dict[str, str]
    expert: str
    summary: str


ENVS: dict[str, EnvEntry] = {
    entry.name: entry
    for entry in [
        EnvEntry(
            name="guess",
            gym_id="coachgym/Guess-v0",
            entry_point="coachgym.envs.guess:GuessEnv",
            suites={"guess": "coachgym.envs.guess:builtin_suite",
                    "small-guess": "coachgym.training.tasks:small_guess_suite"},
            expert="coachgym.envs.guess:GuessExpert",
            summary="Number-guessing game; proves the core without system dependencies.",
        ),
        EnvEntry(
            name="shell",
            gym_id="coachgym/Shell-v0",
            entry_point="coachgym.envs.shell:ShellEnv",
            suites={
                "shell": "coachgym.envs.shell.tasks:builtin_suite",
                "agentbench-os": "coachgym.envs.shell.agentbench:agentbench_os_suite",
            },
            expert="coachgym.envs.shell.expert:ShellExpert",
            summary="bash in a bubblewrap sandbox; AgentBench OS-interaction compatible.",
        ),
        EnvEntry(
            name="database",
            gym_id="coachgym/Database-v0",
            entry_point="coachgym.envs.database:DatabaseEnv",
            suites={
                "database": "coachgym.envs.database.tasks:builtin_suite",
                "dbbench": "coachgym.envs.database.dbbench:dbbench_suite",
            },
            expert="coachgym.envs.database.expert:DatabaseExpert",
            summary="SQL over SQLite, MariaDB or PostgreSQL; AgentBench DBBench compatible.",
        ),
        EnvEntry(
            name="browser",
            gym_id="coachgym/Browser-v0",
            entry_point="coachgym.envs.browser:BrowserEnv",
            suites={
                "browser": "coachgym.envs.browser.tasks:builtin_suite",
                "miniwob": "coachgym.envs.browser.miniwob:miniwob_suite",
                "miniwob-gui": "coachgym.envs.browser.gui_tasks:miniwob_gui_suite",
            },
            expert="coachgym.envs.browser.expert:BrowserExpert",
            summary="Chromium through Playwright: built-in web apps and MiniWoB++.",
        ),
        EnvEntry(
            name="phone",
            gym_id="coachgym/Phone-v0",
            entry_point="coachgym.envs.phone:PhoneEnv",
            suites={"phone": "coachgym.envs.phone.suite:builtin_suite",
                    "phone-gui": "coachgym.envs.phone.gui_tasks:gui_suite"},
            expert="coachgym.envs.phone.expert:PhoneExpert",
            summary="Simulated phone screen with touch-driven apps (AndroidWorld action space).",
        ),
    ]
}


def _resolve(path: str) -> Any:
    module, _, attr = path.partition(":")
    return getattr(importlib.import_module(module), attr)


def env_entry(name: str) -> EnvEntry:
    if name not in ENVS:
        raise KeyError(f"Unknown env {name!r}; known envs: {', '.join(ENVS)}.")
    return ENVS[name]


def suite_names() -> dict[str, str]:
    """Every suite name mapped to the env that runs it."""
    return {suite: entry.name for entry in ENVS.values() for suite in entry.suites}


@lru_cache(maxsize=None)
def _load_named_suite(name: str) -> TaskSuite:
    for entry in ENVS.values():
        if name in entry.suites:
            return _resolve(entry.suites[name])()
    raise KeyError(f"Unknown suite {name!r}; known suites: {', '.join(suite_names())}.")


def load_suite(name_or_path: str) -> TaskSuite:
    """A suite by registered name, or from a JSON/YAML file path."""
    if Path(name_or_path).suffix in (".json", ".yaml", ".yml"):
        return TaskSuite.load(name_or_path)
    return _load_named_suite(name_or_path)


def env_class(env_name: str) -> type:
    return _resolve(env_entry(env_name).entry_point)


def expert_class(env_name: str) -> type:
    """The scripted-expert class for an env (see `coachgym.envs.core.Expert`)."""
    return _resolve(env_entry(env_name).expert)


def availability(name: str) -> str | None:
    """None when the env can be imported here, else the reason it cannot."""
    try:
        _resolve(env_entry(name).entry_point)
    except Exception as error:  # noqa: BLE001 - any import failure makes the env unavailable
        return f"{type(error).__name__}: {error}"
    return None


def make(name: str, **kwargs: Any) -> gym.Env:
    """`gymnasium.make` by short env name (`shell`) or full id (`coachgym/Shell-v0`)."""
    gym_id = env_entry(name).gym_id if name in ENVS else name
    return gym.make(gym_id, **kwargs)


def register_all() -> None:
    for entry in ENVS.values():
        if entry.gym_id not in gym.registry:
            gym.register(id=entry.gym_id, entry_point=entry.entry_point, disable_env_checker=True)
