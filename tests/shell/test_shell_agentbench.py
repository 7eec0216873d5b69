"""AgentBench OS import, and its reference solutions run through the env by ShellExpert."""

from __future__ import annotations

import pytest

from coachgym.envs.shell import ShellEnv
from coachgym.envs.shell.agentbench import DATA_DIR, agentbench_os_suite
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
