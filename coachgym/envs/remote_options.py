"""What a remote client may choose when it creates an env on `coachgym serve-env`.

Env constructors take options that reach into the host: a suite *file* path, the shell sandbox's
base filesystem (`rootfs`, `base`), a database `server_url`, browser timeouts and resource limits.
Those are the operator's to set, not an HTTP client's. So the env server hands a constructor only
the options declared here, per env: the task suite (by registered name, never a path), the task,
the split, the episode budget, and bounded display settings. Anything else is refused with the
list of what may be set. This module must not create envs.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class RemoteOptions(BaseModel):
    """Options every env takes from a remote client."""

    model_config = ConfigDict(extra="forbid")

    suite: str | None = Field(default=None, description="A suite registered for this env (`coachgym envs list`); "
                                                        "never a file, which would be read on the server.")
    task: str | None = Field(default=None, max_length=200,
                             description="A task id of the suite; every episode plays it.")
    split: str | None = Field(default=None, max_length=64, description="Keep only the suite's tasks of this split.")
    max_steps: int | None = Field(default=None, ge=1, le=500, description="Step budget of an episode.")
    max_invalid_actions: int | None = Field(default=None, ge=1, le=50,
                                            description="Consecutive invalid actions that end an episode.")


class GuessOptions(RemoteOptions):
    screen: int | None = Field(default=None, ge=16, le=1024, description="Side of the screenshot, in pixels.")


class PhoneOptions(RemoteOptions):
    screenshot_height: int | None = Field(default=None, ge=200, le=4800, description="Screenshot height, in pixels.")
    coordinates: Literal["pixels", "normalized"] | None = None
    action_dialect: Literal["native", "androidworld"] | None = Field(
        default=None, description="androidworld: exactly AndroidWorld's JSON actions, in device pixels.")


class BrowserOptions(RemoteOptions):
    viewport_width: int | None = Field(default=None, ge=64, le=4096, description="CSS pixels.")
    viewport_height: int | None = Field(default=None, ge=64, le=4096, description="CSS pixels.")
    set_of_marks: bool | None = Field(default=None, description="Draw element ids on the screenshot.")


class DatabaseOptions(RemoteOptions):
    backend: Literal["sqlite", "mariadb", "mysql", "postgres"] | None = Field(
        default=None, description="A server backend uses the server the operator configured, never one a client names.")
    observation_chars: int | None = Field(default=None, ge=100, le=100_000, description="Longest query result shown.")


REMOTE_OPTIONS: dict[str, type[RemoteOptions]] = {
    "guess": GuessOptions, "shell": RemoteOptions, "database": DatabaseOptions, "browser": BrowserOptions,
    "phone": PhoneOptions,
}


class RefusedOptions(ValueError):
    """A client asked for an option it may not set, or gave one a value out of bounds."""


def remote_kwargs(env: str, suites: list[str], kwargs: dict[str, Any]) -> dict[str, Any]:
    """The constructor keywords for `make(env, ...)` from what a client sent; `suites` are the
    env's registered suite names. Raises `RefusedOptions` naming what may be set instead."""
    schema = REMOTE_OPTIONS.get(env, RemoteOptions)
    refused = sorted(set(kwargs) - set(schema.model_fields))
    if refused:
        raise RefusedOptions(f"A remote client may not set {', '.join(refused)} on env {env!r}; it may set: "
                             f"{', '.join(schema.model_fields)} (see docs/agents.md, 'Env server'). Other options "
                             "are the server operator's.")
    try:
        options = schema.model_validate(kwargs)
    except ValueError as error:
        raise RefusedOptions(f"Invalid options for env {env!r}: {error}") from None
    if options.suite is not None and options.suite not in suites:
        raise RefusedOptions(f"Unknown suite {options.suite!r} for env {env!r}; this server offers: "
                             f"{', '.join(suites)}.")
    return options.model_dump(exclude_none=True)
