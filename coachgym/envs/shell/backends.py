"""The backend choice: `open_sandbox` starts the sandbox kind the config names.

The backends (`bwrap`, `docker`) implement `sandbox.Sandbox`; this module sits above them so the
interface never imports its implementations. It must not hold any backend's logic.
"""

from __future__ import annotations

from coachgym.envs.shell.bwrap import BwrapSandbox
from coachgym.envs.shell.config import SandboxConfig
from coachgym.envs.shell.docker import DockerSandbox
from coachgym.envs.shell.sandbox import Sandbox


def open_sandbox(config: SandboxConfig) -> Sandbox:
    """A started sandbox of the configured backend."""
    backend = DockerSandbox if config.backend == "docker" else BwrapSandbox
    return backend(config).start()
