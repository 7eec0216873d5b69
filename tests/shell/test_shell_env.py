"""ShellEnv end to end: Gymnasium API, action formats, observations, evaluation."""

from __future__ import annotations

import contextlib

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

from coachgym.envs.actions import ActionError
from coachgym.envs.core import Task
from coachgym.envs.registry import register_all
from coachgym.envs.shell import ShellEnv
from coachgym.envs.shell.actions import SHELL_ACTIONS

QUESTION = Task(id="q", env="shell", goal="How many lines does /root/f.txt have?",
                setup={"init": [{"language": "bash", "code": "printf 'a\\nb\\nc\\n' > /root/f.txt"}]},
                evaluator={"match": {"answer": "3", "strip": True}})
CHANGE = Task(id="c", env="shell", goal="Create /root/done.txt containing ok.",
              evaluator={"check": [{"language": "bash", "code": '[ "$(cat /root/done.txt)" = ok ]'}]})


@contextlib.contextmanager
def opened(task: Task, **kwargs):
    """A reset env that is closed (sandbox gone) whatever the test does."""
    env = ShellEnv(task=task, **kwargs)
    try:
        env.reset(seed=0)
        yield env
    finally:
        env.close()


def run(env: ShellEnv, *actions: str) -> tuple[dict, float, bool, dict]:
    observation, reward, terminated, info = None, 0.0, False, {}
    for action in actions:
        observation, reward, terminated, truncated, info = env.step(action)
    return observation, reward, terminated, info


def test_gymnasium_make_and_check_env():
    register_all()
    env = gym.make("coachgym/Shell-v0", task=QUESTION, timeout_s=5)
    try:
        check_env(env.unwrapped, skip_render_check=True)
        observation, info = env.reset(seed=1)
        assert observation["goal"] == QUESTION.goal and info["task_id"] == "q"
    finally:
        env.close()


@pytest.mark.parametrize("answer_action", [
    'answer("3")',
    "Think: three lines.\n\nAct: answer(3)",
    "Thought: done\nAction: answer(3)",
])
def test_question_solved_in_both_formats(answer_action):
    with opened(QUESTION) as env:
        observation, _, _, _ = run(env, "Think: count.\n\nAct: bash\n\n```bash\nwc -l < /root/f.txt\n```")
        assert observation["text"] == "The output of the OS:\n\n3\n"
        _, reward, terminated, info = run(env, answer_action)
        assert terminated and reward == 1.0 and info["success"] and info["outcome"] == "completed"


def test_wrong_answer_fails():
    with opened(QUESTION) as env:
        _, reward, terminated, info = run(env, "Act: answer(4)")
        assert terminated and reward == 0.0 and not info["success"]


def test_change_task_checked_on_final_files_and_claims_do_not_count():
    with opened(CHANGE) as env:
        _, reward, _, info = run(env, "Act: finish")
        assert reward == 0.0 and not info["success"]
        env.reset(seed=0)
        _, reward, _, info = run(env, "```bash\necho ok > /root/done.txt\n```", "Act: finish")
        assert reward == 1.0 and info["success"]


def test_checker_does_not_see_agent_processes_rewriting_files():
    """A background job the agent leaves behind cannot change the files the checker reads."""
    with opened(CHANGE) as env:
        command = "echo ok > /root/done.txt; (sleep 0.5; echo tampered > /root/done.txt) &"
        _, reward, _, info = run(env, f"```bash\n{command}\n```", "Act: finish")
        assert info["success"], info["evaluation"]


def test_output_is_truncated_like_agentbench():
    with opened(QUESTION, max_output_chars=100) as env:
        observation, _, _, _ = run(env, "```bash\nseq 1 1000\n```")
        body = observation["text"].removeprefix("The output of the OS:\n\n")
        assert body.endswith("\n[truncated because the output is too long]")
        assert body.startswith("1\n2\n3\n") and len(body) == 80 + len("\n[truncated because the output is too long]")
        observation, _, _, _ = run(env, "```bash\ntrue\n```")
        assert observation["text"] == "The output of the OS is empty."


@pytest.mark.parametrize("bad", ["", "just chatting", "Act: dance", "Act: bash\nno block here", "answer(", 42])
def test_bad_actions_explain_and_leave_the_world_alone(bad):
    with opened(QUESTION, max_invalid_actions=2) as env:
        observation, reward, terminated, truncated, info = env.step(bad)
        assert "action_error" in info and observation["text"].startswith("Invalid action:")
        assert not terminated and reward == 0.0
        observation, _, _, _, info = env.step("```bash\ncat /root/f.txt | wc -l\n```")
        assert observation["text"].endswith("3\n") and "action_error" not in info


def test_agentbench_dialect_rules():
    parse = SHELL_ACTIONS.parse
    two_blocks = "Think: x\nAct: bash\n```bash\necho a\n```\nand\n```bash\necho b\n```"
    assert parse(two_blocks).args["command"] == "echo a\n\necho b"
    assert parse("Act: answer(f(x) = (1))").args["text"] == "f(x) = (1)"
    assert parse("Act: bash\n```bash\nls\n```\nAct: finish").name == "finish"  # the last Act wins
    assert parse("Act: answer no parens\nAct: finish").name == "finish"
    with pytest.raises(ActionError):
        parse("Act: sing")


def test_step_budget_is_agentbench_round_limit():
    with opened(QUESTION) as env:
        for _ in range(7):
            _, _, terminated, truncated, _ = env.step("```bash\ntrue\n```")
            assert not (terminated or truncated)
        _, _, _, truncated, info = env.step("```bash\ntrue\n```")
        assert truncated and info["outcome"] == "task_limit_reached" and not info["success"]
