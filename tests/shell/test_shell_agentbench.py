"""AgentBench OS import, and its reference solutions run through the env by ShellExpert."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from coachgym.envs.core import Task, TaskSuite
from coachgym.envs.shell import ShellEnv
from coachgym.envs.shell.agentbench import DATA_DIR, agentbench_os_suite, import_agentbench_os
from coachgym.envs.shell.expert import ShellExpert

# One task per kind: match+start (background writer), match+example, null checker with
# integer/string/size matching, state checkers (file, permission via runuser, PATH in .bashrc,
# a user-written command), random init (seeded), process counting, dev and every test group.
REPRESENTATIVE = [
    "os-dev-00000", "os-dev-00003", "os-dev-00023", "os-std-1-stock-00002", "os-std-2-environment-00004",
    "os-std-3-ac-00001", "os-std-4-Q47-00000", "os-std-4-Q49-00000", "os-std-5-new-00002", "os-std-6-new-00002",
    "os-std-7-bootstrap-00000", "os-std-7-bootstrap-00020", "os-std-7-bootstrap-00076",
]

def play(env: ShellEnv, task_id: str) -> dict:
    observation, _ = env.reset(seed=0, options={"task_id": task_id})
    expert = ShellExpert(env.task)
    while True:
        observation, _, terminated, truncated, info = env.step(expert.act(observation))
        if terminated or truncated:
            return info


def test_suite_matches_agentbench_counts_and_is_self_contained():
    suite = agentbench_os_suite()
    assert len(suite.split("dev").tasks) == 26 and len(suite.split("test").tasks) == 144
    assert len(set(suite.ids())) == 170
    assert (DATA_DIR / "LICENSE").is_file() and (DATA_DIR / "NOTICE").is_file()
    for task in suite.tasks:
        assert task.env == "shell" and task.goal
        for script in task.setup["init"] + [c for c in task.evaluator.get("check", []) if c]:
            assert script["language"] in ("bash", "python") and script["code"].strip()


def test_conversion_follows_agentbench_loader_rules():
    suite = agentbench_os_suite()
    listed = suite.get("os-std-2-environment-00004")  # init: [file, inline string]
    assert listed.setup["init"][1] == {"language": "bash", "code": "echo '' > ~/.bashrc"}
    assert "echo-love" in listed.setup["init"][0]["code"]  # the file's content, inlined
    single = suite.get("os-dev-00003")  # check: {"file": ...}, not a list
    assert len(single.evaluator["check"]) == 1 and "calc" in single.evaluator["check"][0]["code"]
    null = suite.get("os-std-7-bootstrap-00000")
    assert null.evaluator["check"][0] is None and null.evaluator["check"][1]["language"] == "python"
    assert suite.get("os-dev-00000").evaluator["match"] == {"answer": "1", "strip": True}
    assert suite.get("os-std-4-Q47-00000").setup["start"].startswith("mkdir /home/user2")


def write_checkout(root: Path, tasks: dict[str, list[dict]], scripts: dict[str, str]) -> Path:
    """A small AgentBench checkout: task files and script files under data/os_interaction."""
    base = root / "data" / "os_interaction"
    for relative, items in tasks.items():
        (base / relative).parent.mkdir(parents=True, exist_ok=True)
        (base / relative).write_text(json.dumps(items), encoding="utf-8")
    for relative, text in scripts.items():
        (base / "scripts" / relative).parent.mkdir(parents=True, exist_ok=True)
        (base / "scripts" / relative).write_text(text, encoding="utf-8")
    return root


def question(file: str) -> dict:
    return {"description": "How many?", "evaluation": {"check": [None, {"language": "python", "file": file}],
                                                       "example": "echo 3"}}


def test_import_of_a_newer_layout_maps_splits_and_resolves_checkers(tmp_path):
    checkout = write_checkout(tmp_path, {
        "data/dev.json": [question("check/integer-match.py")],
        "data/1/mine.json": [{"description": "Count", "evaluation": {"check": {"file": "check/theirs.sh"}}}],
        "train_0317/training.json": [question("check/containing.py"), question("check/in.py")],
        "data/6-backup.json": [question("check/integer-match.py")],
    }, {"dev/check/integer-match.py": "print('local copy')", "2/check/theirs.sh": "exit 0"})
    suite = import_agentbench_os(checkout)
    assert [(t.id, t.split) for t in suite.tasks] == [
        ("os-dev-00000", "dev"), ("os-std-1-mine-00000", "test"),
        ("os-training-00000", "train"), ("os-training-00001", "train")]
    assert suite.get("os-dev-00000").evaluator["check"][1]["code"] == "print('local copy')"  # the checkout's first
    assert suite.get("os-std-1-mine-00000").evaluator["check"][0]["code"] == "exit 0"  # another group's folder
    bundled = (DATA_DIR / "scripts" / "7" / "check" / "containing.py").read_text(encoding="utf-8")
    assert suite.get("os-training-00000").evaluator["check"][1]["code"] == bundled
    # Pointing at the os_interaction folder itself, and forcing a split by an upstream name, work too.
    forced = import_agentbench_os(checkout / "data" / "os_interaction", split="validation")
    assert {t.split for t in forced.tasks} == {"dev"} and forced.ids() == suite.ids()


def test_import_names_the_task_and_file_of_a_missing_script(tmp_path):
    checkout = write_checkout(tmp_path, {"train/tasks.json": [question("check/nowhere.py")]}, {})
    with pytest.raises(FileNotFoundError, match=r"os-tasks-00000 .*'check/nowhere.py'"):
        import_agentbench_os(checkout)


def test_import_refuses_an_unknown_split_name_listing_the_mapping(tmp_path):
    checkout = write_checkout(tmp_path, {"extra/misc.json": [question("check/in.py")]}, {})
    with pytest.raises(ValueError, match=r"misc.json.*training->train.*eval->test"):
        import_agentbench_os(checkout)
    assert import_agentbench_os(checkout, split="testing").tasks[0].split == "test"


def test_cli_imports_a_checkout_into_a_loadable_suite(tmp_path):
    checkout = write_checkout(tmp_path / "ab", {"train_0317/training.json": [question("check/integer-match.py")]}, {})
    out = tmp_path / "suite.json"
    result = subprocess.run([sys.executable, "-m", "coachgym.cli", "tasks", "import-agentbench-os", str(checkout),
                             "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "1 tasks (train 1)" in result.stdout
    assert TaskSuite.load(out).get("os-training-00000").split == "train"


@pytest.fixture(scope="module")
def agentbench_env():
    env = ShellEnv(suite=agentbench_os_suite())
    yield env
    env.close()


@pytest.mark.parametrize("task_id", REPRESENTATIVE)
def test_reference_solution_passes(agentbench_env, task_id):
    info = play(agentbench_env, task_id)
    assert info["success"], info["evaluation"]


def test_wrong_answer_to_a_null_checker_task_fails(agentbench_env):
    agentbench_env.reset(seed=0, options={"task_id": "os-std-7-bootstrap-00002"})
    _, reward, _, _, info = agentbench_env.step("Act: answer(123456)")
    assert reward == 0.0 and not info["success"]


@pytest.mark.slow
def test_reference_solutions_pass_on_95_percent_of_dev_and_test():
    """On the rootfs base (the host base sees a big, live filesystem; see docs/shell.md)."""
    suite = agentbench_os_suite()
    env = ShellEnv(suite=suite, base="rootfs")
    try:
        results = {task_id: play(env, task_id) for task_id in suite.ids()}
    finally:
        env.close()
    failures = {task_id: info["evaluation"]["detail"] for task_id, info in results.items() if not info["success"]}
    rate = 1 - len(failures) / len(suite.tasks)
    assert rate >= 0.95, failures


def fixture_task(task_id: str, init: list[str], evaluator: dict) -> Task:
    return Task(id=task_id, env="shell", goal="fixture", setup={"init": [{"language": "bash", "code": c} for c in init]},
                evaluator=evaluator, split="test")


FAILING_INIT = fixture_task("failing-init", ["echo made > /root/first; echo broken >&2; exit 3", "touch /root/second"],
                            {"match": {"answer": "ok", "strip": True}})


def test_failed_init_is_reported_in_observation_and_info():
    env = ShellEnv(task=FAILING_INIT)
    try:
        observation, info = env.reset(seed=0)
        assert "init script 0 exited 3: broken" in info["init_error"]
        assert "init script 0 exited 3" in observation["text"]
        observation, *_ = env.step("Act: bash\n\n```bash\nls /root\n```")
        assert "second" in observation["text"]  # coachgym runs the remaining inits and lets the episode go on
    finally:
        env.close()


def test_failed_init_aborts_the_sample_under_the_agentbench_protocol():
    env = ShellEnv(task=FAILING_INIT, protocol="agentbench-v0.2")
    try:
        observation, info = env.reset(seed=0)
        assert "exited 3" in info["init_error"] and "aborted" in observation["text"]
        _, reward, terminated, _, info = env.step("Act: answer(ok)")  # the right answer does not count
        assert terminated and reward == 0.0 and info["outcome"] == "env_error"
        assert "setup failed" in info["env_error"] and "exited 3" in info["init_error"]
    finally:
        env.close()


def test_reference_answer_comes_from_the_agents_world_even_with_random_inits():
    """The init draws `$RANDOM` in a subshell and shuffles: no second sandbox could rebuild it."""
    task = fixture_task("random-pipeline", ["mkdir -p /data; seq 1 $( (echo $((RANDOM % 100 + 50))) ) | shuf > /data/n"],
                        {"check": [None, {"language": "bash", "code": '[ "$(echo $1)" = "$(echo $2)" ]'}],
                         "example": {"language": "bash", "code": "wc -l < /data/n"}})
    env = ShellEnv(task=task)
    try:
        for seed in range(3):
            env.reset(seed=seed)
            observation, *_ = env.step("Act: bash\n\n```bash\nwc -l < /data/n\n```")
            count = observation["text"].split()[-1]
            _, reward, *_ = env.step(f"Act: answer({count})")
            assert reward == 1.0, count
        env.reset(seed=0)
        _, reward, *_ = env.step("Act: answer(49)")  # below the smallest possible count
        assert reward == 0.0
    finally:
        env.close()


def test_the_reference_run_leaves_the_session_environment_as_it_was():
    """AgentBench's Q30 tasks: the example sources a ~/.bashrc that appends to PATH. Run before the agent acts,
    it must not leave those entries in the session, or the agent's own run of it counts them twice."""
    task = fixture_task("path-count", ["echo 'export PATH=$PATH:/var/k:/var/l' > ~/.bashrc"],
                        {"check": [None, {"language": "bash", "code": '[ "$(echo $1)" = "$(echo $2)" ]'}],
                         "example": {"language": "bash",
                                     "code": "export EXTRA=1; source ~/.bashrc; echo $PATH | tr ':' '\\n' | wc -l"}})
    env = ShellEnv(task=task)
    try:
        env.reset(seed=0)
        observation, *_ = env.step("Act: bash\n\n```bash\necho \"$PATH|${EXTRA-unset}\"\n```")
        assert "/var/k" not in observation["text"] and "|unset" in observation["text"]
        observation, *_ = env.step("Act: bash\n\n```bash\nsource ~/.bashrc; echo $PATH | tr ':' '\\n' | wc -l\n```")
        _, reward, *_ = env.step(f"Act: answer({observation['text'].split()[-1]})")
        assert reward == 1.0
    finally:
        env.close()


@pytest.mark.parametrize("tamper", ["rm /data/docs/*", "ls() { echo x; }; wc() { echo 0; }"])
def test_the_agent_cannot_move_the_expected_answer(tamper):
    """By default the example runs before the agent acts, so deleting what it counts or shadowing its
    tools in the session does not make a wrong answer right; under agentbench-v0.2 (run at the end,
    as AgentBench does) deleting does, which docs/benchmarks.md states."""
    task = fixture_task("count-docs", ["mkdir -p /data/docs; touch /data/docs/a /data/docs/b /data/docs/c"],
                        {"check": [None, {"language": "bash", "code": '[ "$(echo $1)" = "$(echo $2)" ]'}],
                         "example": {"language": "bash", "code": "cd /data/docs; n=$(ls | wc -l); echo $n"}})
    rewards = {}
    for protocol in ("coachgym", "agentbench-v0.2"):
        env = ShellEnv(task=task, protocol=protocol)
        try:
            env.reset(seed=0)
            observation, *_ = env.step('Act: bash\n\n```bash\necho "[$n] $(pwd)"\n```')
            assert observation["text"].split()[-2:] == ["[]", "/"]  # the example left nothing in the session
            env.step(f"Act: bash\n\n```bash\n{tamper}\n```")
            _, rewards[protocol], *_ = env.step("Act: answer(0)")
        finally:
            env.close()
    assert rewards["coachgym"] == 0.0
    if tamper.startswith("rm"):
        assert rewards["agentbench-v0.2"] == 1.0  # faithful to AgentBench, and forgeable there


def test_eval_protocol_reaches_only_envs_that_take_one():
    from pydantic import ValidationError

    from coachgym.benchmarks.runner import EvalConfig
    from coachgym.benchmarks.workers import env_options

    assert env_options("shell", "agentbench-v0.2") == {"protocol": "agentbench-v0.2"}
    assert env_options("guess", "agentbench-v0.2") == {} and env_options("shell", "coachgym") == {}
    assert EvalConfig(out=Path("x"), protocol="agentbench-v0.2").protocol == "agentbench-v0.2"
    with pytest.raises(ValidationError):
        EvalConfig(out=Path("x"), protocol="agentbench-v9")
    with pytest.raises(ValueError, match="agentbench-v0.2"):
        ShellEnv(task=FAILING_INIT, protocol="agentbench-v9")
