"""Settings of the shell sandbox, one pydantic model whose field docs are the documentation.

This module only describes limits and choices; it must not start processes or touch the
filesystem (the backends do that).
"""

from __future__ import annotations

import os
from typing import Literal

from pydantic import BaseModel, Field


class SandboxConfig(BaseModel):
    """How each episode's sandbox is built and bounded."""

    backend: Literal["bwrap", "docker"] = Field(
        default="bwrap", description="`bwrap` (bubblewrap, no daemon needed) or `docker` (needs a Docker engine)."
    )
    timeout_s: float = Field(
        default=30.0, gt=0, description="Wall-clock limit of one agent command (AgentBench's default is 30 s)."
    )
    max_output_chars: int = Field(
        default=800, ge=40, description="Command output longer than this is cut, as AgentBench does at 800."
    )
    max_processes: int = Field(
        default=256, ge=16, description="Processes/threads the sandbox may hold at once (a fork bomb stops here)."
    )
    max_memory_mb: int = Field(
        default=2048, ge=64,
        description="Memory the whole sandbox may hold: its processes together (a watchdog stops them past it; "
        "docker: `--memory`), and the address space of any one of them.",
    )
    max_disk_mb: int = Field(
        default=1024, ge=16,
        description="Bytes the sandbox may write in all: its writable layer (every file it creates or changes, "
        "/tmp and /dev/shm included) is a tmpfs of this size (bwrap backend).",
    )
    max_cpu_s: int = Field(default=120, ge=1, description="CPU seconds any one sandbox process may use.")
    max_file_mb: int = Field(default=512, ge=1, description="Largest file a sandbox process may write.")
    base: Literal["auto", "rootfs", "host"] = Field(
        default="auto",
        description="Base filesystem: `rootfs` (minimal Debian built by `python -m coachgym.envs.shell.rootfs "
        "build`), `host` (the host's own /usr, /etc, ... read-only, private folders hidden), or `auto` "
        "(rootfs when built, else host). See docs/shell.md.",
    )
    rootfs: str = Field(
        default_factory=lambda: os.environ.get("COACHGYM_SHELL_ROOTFS", "/var/cache/coachgym/rootfs"),
        description="Where the `rootfs` base lives (env var COACHGYM_SHELL_ROOTFS overrides the default).",
    )
    cwd: str = Field(default="/", description="Working directory of the shell (AgentBench containers start in /).")
    hostname: str = "sandbox"
    docker_image: str = Field(default="ubuntu:22.04", description="Image for the docker backend.")
    state_dir: str = Field(
        default="/dev/shm/coachgym-shell",
        description="Host folder (ideally tmpfs) that holds each sandbox's writable layer while it lives.",
    )
