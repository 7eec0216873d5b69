"""The optional Docker backend: the same `Sandbox` interface on a Docker engine.

For users who have a Docker daemon (e.g. to run the exact AgentBench images). One container per
episode (`--network none`, `--pids-limit`, `--memory`), the same shell-session protocol over
`docker exec -i`, and `docker commit` for evaluator snapshots. When no engine is reachable,
`check_available` raises `SandboxUnavailable` with one clear message; nothing else here runs.
Differences from bwrap: a timed-out command's direct children are killed (not every process it
started), and setup costs a container start (about a second instead of milliseconds).
"""

from __future__ import annotations

import shutil
import subprocess

from coachgym.envs.shell.config import SandboxConfig
from coachgym.envs.shell.sandbox import Sandbox, SandboxUnavailable
from coachgym.envs.shell.session import SessionDied, ShellSession, bootstrap

_ENGINE_TIMEOUT_S = 15


def _docker(*args: str, timeout: float = _ENGINE_TIMEOUT_S) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)


def check_available() -> None:
    """Raise `SandboxUnavailable` unless the docker CLI exists and an engine answers."""
    if shutil.which("docker") is None:
        raise SandboxUnavailable("Docker backend unavailable: the `docker` command is not installed. "
                                 "Install Docker, or use the default SandboxConfig(backend='bwrap').")
    try:
        probe = _docker("version", "--format", "{{.Server.Version}}")
    except subprocess.TimeoutExpired:
        raise SandboxUnavailable("Docker backend unavailable: the Docker engine did not answer within "
                                 f"{_ENGINE_TIMEOUT_S} s. Start it, or use backend='bwrap'.") from None
    if probe.returncode != 0 or not probe.stdout.strip():
        reason = (probe.stderr or probe.stdout).strip().splitlines()
        raise SandboxUnavailable("Docker backend unavailable: no Docker engine is running or reachable "
                                 f"({reason[-1] if reason else 'no server version'}). Start the Docker daemon "
                                 "(or set DOCKER_HOST), or use the default backend='bwrap'.")


class DockerSandbox(Sandbox):
    def __init__(self, config: SandboxConfig, image: str | None = None, owns_image: bool = False):
        super().__init__(config)
        self.image = image or config.docker_image
        self.owns_image = owns_image
        self.container: str | None = None
        self.process: subprocess.Popen | None = None

    def start(self) -> DockerSandbox:
        check_available()
        cfg = self.config
        created = _docker("run", "-d", "--rm", "--network", "none", "--pids-limit", str(cfg.max_processes),
                          "--memory", f"{cfg.max_memory_mb}m", "--hostname", cfg.hostname, "--workdir", cfg.cwd,
                          "--label", "created_by=coachgym", self.image, "sleep", "infinity", timeout=300)
        if created.returncode != 0:
            raise SandboxUnavailable(f"docker run {self.image} failed: {created.stderr.strip()[-400:]}")
        self.container = created.stdout.strip()
        self._open_session()
        return self

    def _open_session(self) -> None:
        self.process = subprocess.Popen(["docker", "exec", "-i", self.container, "bash", "--noprofile", "--norc"],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.session = ShellSession(self.process, self._stop_children)
        try:
            self.session.wait_ready(bootstrap(self.config, nproc_limit=None), timeout=60)
        except SessionDied as error:
            raise SandboxUnavailable(f"The container's shell did not start: {error}") from None

    def _stop_children(self, mark: int) -> None:
        pid = str(self.session.shell_pid if self.session else 0)
        _docker("exec", self.container, "sh", "-c", f"kill -USR1 {pid}; pkill -KILL -P {pid}")

    def _restart_session(self) -> None:
        self._close_session()
        self._open_session()

    def _close_session(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def snapshot(self) -> DockerSandbox:
        committed = _docker("commit", self.container, timeout=300)
        if committed.returncode != 0:
            raise RuntimeError(f"docker commit failed: {committed.stderr.strip()[-400:]}")
        self.close()
        return DockerSandbox(self.config, image=committed.stdout.strip(), owns_image=True).start()

    def close(self) -> None:
        self._close_session()
        if self.container is not None:
            _docker("rm", "-f", self.container)
            self.container = None
        if self.owns_image:
            _docker("rmi", "-f", self.image)
            self.owns_image = False
