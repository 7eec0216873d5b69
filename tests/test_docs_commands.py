"""Every command in the README's and docs' ```bash blocks runs as written.

A newcomer copies these blocks. Each command is either run here, verbatim, by bash in a scratch
folder (blocks of one page share the folder, in page order, because later commands read what
earlier ones wrote), or named in `RUN_ELSEWHERE` with the CI file that runs it; a command in
neither fails the test, so a new doc command cannot go untested. Servers and interactive commands
(`LONG_RUNNING`) are started, checked to answer, and stopped at the end of their page.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import stop, wait_until_answers

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

#: Commands CI runs itself, with the file that runs them (checked to contain the command).
RUN_ELSEWHERE = {
    "bash scripts/setup.sh": ".ci/run",
    "python3 -m pytest -q": ".ci/run",
    "python3 -m pytest -q -m slow": ".ci/run",
    "coachgym quickstart": ".ci/run",
    "coachgym quickstart --small": "tests/conftest.py",
}

#: Commands that keep running: the URL that must answer once each is up.
LONG_RUNNING = {
    "coachgym serve-model": "http://127.0.0.1:8000/v1/models",
    "coachgym serve-env": "http://127.0.0.1:8100/health",
    "coachgym play --env phone": "http://127.0.0.1:8765/",
}

#: What a page's commands assume the reader already has, made in its scratch folder first.
PREREQUISITES = {
    "agents.md": "make_checkpoint",
    "benchmarks.md": "link_quickstart",
    "quickstart.md": "link_quickstart",
}


def doc_commands(page: Path) -> list[str]:
    """The commands of `page`'s ```bash blocks, comments stripped, continuation lines joined."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", page.read_text(encoding="utf-8"), re.S):
        for line in block.replace("\\\n", " ").splitlines():
            command = _strip_comment(line).strip()
            if command:
                commands.append(command)
    return commands


def _strip_comment(line: str) -> str:
    """`line` without a trailing `# comment` (a `#` inside quotes or a word is kept)."""
    quote = None
    for index, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1].isspace()):
            return line[:index]
    return line


#: What a person types into an interactive command (it then reads end of input and must finish cleanly).
TYPED = {"coachgym play --env shell": "```bash\necho hello\n```\n\n"}


def _long_running(command: str) -> str | None:
    return next((prefix for prefix in LONG_RUNNING if prefix in command), None)


def test_every_doc_command_is_run_somewhere():
    """Each command is run by `test_doc_page_runs_as_written` or by the CI file named for it."""
    for command, runner in RUN_ELSEWHERE.items():
        text = (ROOT / runner).read_text(encoding="utf-8")
        words = command.split()
        assert command in text or all(f'"{w}"' in text for w in words[1:]), f"{runner} does not run {command!r}"
    commands = [c for page in PAGES for c in doc_commands(page)]
    assert len(commands) > 15, commands  # the extraction found the blocks


def make_checkpoint(folder: Path) -> None:
    """The `./my-checkpoint` docs/agents.md serves: a tiny random causal LM, as a user's fine-tune would be."""
    from coachgym.agents.tiny import build_tiny_chat_model

    build_tiny_chat_model(folder / "my-checkpoint")


def link_quickstart(folder: Path, quickstart_small: tuple[Path, str]) -> None:
    """docs/benchmarks.md evaluates the quickstart's teacher; the quickstart run is shared with its own test."""
    (folder / "runs").mkdir(exist_ok=True)
    (folder / "runs" / "quickstart").symlink_to(quickstart_small[0])


@pytest.mark.slow
@pytest.mark.parametrize("page", [p for p in PAGES if doc_commands(p)], ids=lambda p: p.name)
def test_doc_page_runs_as_written(page: Path, tmp_path: Path, request: pytest.FixtureRequest):
    (tmp_path / "perf").symlink_to(ROOT / "perf")  # the pages' commands run from a clone's root
    prerequisite = PREREQUISITES.get(page.name)
    if prerequisite == "make_checkpoint":
        make_checkpoint(tmp_path)
    elif prerequisite == "link_quickstart":
        link_quickstart(tmp_path, request.getfixturevalue("quickstart_small"))
    env = os.environ | {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
                        "BROWSER": "true", "COACHGYM_ENV_TOKEN": "secret"}
    servers: list[subprocess.Popen] = []
    try:
        for command in doc_commands(page):
            if command in RUN_ELSEWHERE:
                continue
            if (prefix := _long_running(command)) is not None:
                process = subprocess.Popen(["bash", "-c", command], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                                           stderr=subprocess.STDOUT, text=True, start_new_session=True)
                servers.append(process)
                wait_until_answers(process, LONG_RUNNING[prefix], ready=lambda status: status < 500)
                continue
            done = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True,
                                  timeout=600, input=TYPED.get(command, ""))
            output = done.stdout + done.stderr
            assert done.returncode == 0, f"{page.name}: {command!r} exited {done.returncode}:\n{output[-3000:]}"
            assert "Traceback" not in output and "agent_error" not in output, f"{command!r}:\n{output[-3000:]}"
    finally:
        for process in servers:
            stop(process, signal.SIGTERM, group=True)
