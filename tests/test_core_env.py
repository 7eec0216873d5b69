"""AgentEnv contract, exercised through the built-in guess env and a deliberately broken env."""

import json

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import coachgym  # noqa: F401 - registers envs
from coachgym.envs.core import AgentEnv, Evaluation, Outcome, StepResult, Task, TaskSuite
from coachgym.envs.guess import GUESS_ACTIONS, builtin_suite
from coachgym.envs.vector import make_vec


def test_gymnasium_make_and_check_env():
    env = gym.make("coachgym/Guess-v0")
    check_env(env.unwrapped, skip_render_check=False)
    env.close()


def test_reset_by_task_id_and_by_seed_is_deterministic():
    env = gym.make("coachgym/Guess-v0")
    obs, info = env.reset(seed=0, options={"task_id": "guess-005"})
    assert info["task_id"] == "guess-005" and obs["goal"] == builtin_suite().get("guess-005").goal
    assert env.reset(seed=3)[1]["task_id"] == env.reset(seed=3)[1]["task_id"]


def test_reset_rejects_an_unknown_option_instead_of_running_another_task():
    env = gym.make("coachgym/Guess-v0")
    with pytest.raises(ValueError, match="Unknown reset options \\['task'\\]"):
        env.reset(seed=0, options={"task": builtin_suite().get("guess-005").model_dump()})


def test_a_refused_reset_leaves_the_episode_sequence_as_it_was():
    refused, plain = gym.make("coachgym/Guess-v0"), gym.make("coachgym/Guess-v0")
    refused.reset(seed=4)
    plain.reset(seed=4)
    with pytest.raises(ValueError, match="Unknown reset options"):
        refused.reset(seed=9, options={"reward": 1})
    picks = [(refused.reset()[1]["task_id"], plain.reset()[1]["task_id"]) for _ in range(5)]
    assert all(a == b for a, b in picks), picks


def test_correct_play_completes_with_reward_from_state():
    env = gym.make("coachgym/Guess-v0", task="guess-000")
    env.reset(seed=0)
    secret = env.unwrapped.secret
    obs, reward, terminated, truncated, info = env.step(f"Action: guess({secret})")
    assert terminated and not truncated and reward == 1.0
    assert info["outcome"] == "completed" and info["success"] is True


def test_step_budget_truncates_with_task_limit_outcome():
    env = gym.make("coachgym/Guess-v0", task="guess-000", max_steps=3)
    env.reset(seed=0)
    wrong = 1 if env.unwrapped.secret != 1 else 2
    results = [env.step(f"guess({wrong})") for _ in range(3)]
    assert [r[3] for r in results] == [False, False, True]
    assert results[-1][4]["outcome"] == "task_limit_reached" and results[-1][1] == 0.0
    with pytest.raises(RuntimeError, match="reset"):
        env.step("guess(1)")


@pytest.mark.parametrize("bad", ["", "blah", "guess(", "guess(1,2)", "x" * 300_000, "🙂" * 50, "guess(one)"])
def test_malformed_actions_explain_count_and_end_as_invalid_format(bad):
    env = gym.make("coachgym/Guess-v0", task="guess-000", max_invalid_actions=3)
    env.reset(seed=0)
    for attempt in range(1, 4):
        obs, reward, terminated, truncated, info = env.step(bad)
        assert "Invalid action" in obs["text"] and info["action_error"]
        assert info["invalid_actions"] == attempt
    assert terminated and info["outcome"] == "invalid_format" and info["success"] is False


def test_invalid_action_is_distinguished_from_invalid_format():
    env = gym.make("coachgym/Guess-v0", task="guess-000", max_invalid_actions=1)
    env.reset(seed=0)
    _, _, terminated, _, info = env.step("guess(5000)")  # well-formed, impossible in this world
    assert terminated and info["outcome"] == "invalid_action" and "outside the range" in info["action_error"]


def test_random_fuzz_never_raises():
    env = gym.make("coachgym/Guess-v0")
    rng = np.random.default_rng(1)
    outcomes = set()
    for episode in range(30):
        env.reset(seed=episode)
        done = False
        while not done:
            text = env.unwrapped.action_space.sample() if rng.random() < 0.8 else GUESS_ACTIONS.sample(rng)
            _, _, terminated, truncated, info = env.step(text)
            done = terminated or truncated
        outcomes.add(info["outcome"])
    assert "invalid_format" in outcomes


class _BrokenEnv(AgentEnv):
    name = "guess"
    actions = GUESS_ACTIONS

    def _setup(self, task, seed):
        return "ready"

    def _execute(self, action):
        if action.name == "give_up":
            return StepResult(text="bye", done=True)
        raise OSError("disk on fire")

    def _evaluate(self):
        return Evaluation(reward=1.0, success=True)


def test_env_fault_ends_episode_as_env_error_and_next_reset_works():
    env = _BrokenEnv()
    env.reset(seed=0)
    obs, reward, terminated, _, info = env.step("guess(3)")
    assert terminated and info["outcome"] == Outcome.ENV_ERROR.value and "disk on fire" in obs["text"]
    assert reward == 0.0 and info["success"] is False
    env.reset(seed=1)
    assert env.step("give_up()")[4]["outcome"] == "completed"


def test_vector_env_autoresets_in_the_same_step():
    venv = make_vec("guess", num_envs=2, mode="sync", max_steps=2)
    venv.reset(seed=[0, 1])
    venv.step(("guess(1)", "give_up()"))
    obs, _, terminated, truncated, info = venv.step(("guess(1)", "guess(2)"))
    assert truncated[0] or terminated[0]
    assert "final_obs" in info and info["_final_obs"][0]
    assert obs["step"][0] == 0  # already the next episode's first observation
    venv.close()


def test_task_suite_round_trips_through_json_and_yaml(tmp_path):
    suite = TaskSuite(name="mini", env="guess", tasks=[Task(id="a", env="guess", goal="g", setup={"low": 1, "high": 3,
                                                                                                 "secret": 2})])
    for name in ("s.json", "s.yaml"):
        suite.save(tmp_path / name)
        assert TaskSuite.load(tmp_path / name) == suite
    env = gym.make("coachgym/Guess-v0", suite=str(tmp_path / "s.yaml"))
    assert env.reset(seed=0)[1]["task_id"] == "a"


def test_corrupt_suite_file_gives_a_clear_error(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="not a valid task-suite file"):
        TaskSuite.load(bad)
    assert json.loads('{"a": 1}')  # sanity: json module itself fine
