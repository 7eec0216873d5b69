"""The OS shell environment: bash in a bubblewrap sandbox per episode, AgentBench-OS compatible.

Entry points (see `coachgym.envs.registry`): `ShellEnv`, `tasks.builtin_suite`,
`agentbench.agentbench_os_suite`, `expert.ShellExpert`. Importing this package starts nothing.
"""

from coachgym.envs.shell.backends import open_sandbox
from coachgym.envs.shell.config import SandboxConfig
from coachgym.envs.shell.env import ShellEnv
from coachgym.envs.shell.sandbox import Sandbox, SandboxUnavailable

__all__ = ["Sandbox", "SandboxConfig", "SandboxUnavailable", "ShellEnv", "open_sandbox"]
