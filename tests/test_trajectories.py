"""Trajectory store, conversion and viewer, on real episodes of the guess env."""

import gymnasium as gym
import numpy as np
import pytest
from datasets import load_from_disk

import coachgym  # noqa: F401
from coachgym.agents import make_agent
from coachgym.agents.scripted import ScriptedAgent
from coachgym.envs.core import Outcome
from coachgym.trajectories import (
    Trajectory,
    TrajectoryFilter,
    TrajectoryStore,
    from_agentinstruct,
    to_agentinstruct,
    to_dataset,
)
from coachgym.trajectories.rollout import run_episode
from coachgym.trajectories.stats import summarize
from coachgym.trajectories.viewer import episode_file, write_view


@pytest.fixture(scope="module")
def episodes():
    env = gym.make("coachgym/Guess-v0")
    runs = [run_episode(env, make_agent(agent), f"guess-00{i}", seed=i) for agent in ("scripted", "random")
            for i in range(4)]
    env.close()
    return runs


def test_rollout_records_what_the_agent_saw_and_did(episodes):
    expert = episodes[0]
    assert expert.success and expert.outcome.value == "completed" and expert.reward == 1.0
    assert expert.steps[0].observation.startswith("Task: Find the secret number")
    assert "Action: guess(" in expert.steps[0].action
    assert expert.system_prompt and "guess(number: int)" in expert.system_prompt
    assert "Correct!" in expert.final_observation
    assert not any(t.success for t in episodes[4:])


class FailingAgent(ScriptedAgent):
    """The expert, except that one of its methods has a bug."""

    def __init__(self, failing: str):
        super().__init__()
        setattr(self, failing, self._fail)

    def _fail(self, *args):
        raise ZeroDivisionError("division by zero")


@pytest.mark.parametrize("failing", ["reseed", "start_episode", "act"])
def test_agent_faults_end_the_episode_as_agent_error_and_training_can_raise_them(failing):
    env = gym.make("coachgym/Guess-v0")
    trajectory = run_episode(env, FailingAgent(failing), "guess-000", seed=0)
    assert trajectory.outcome is Outcome.AGENT_ERROR and not trajectory.success
    assert "ZeroDivisionError: division by zero" in trajectory.metadata["error"]
    assert "in _fail" in trajectory.metadata["traceback"]
    with pytest.raises(ZeroDivisionError):
        run_episode(env, FailingAgent(failing), "guess-000", seed=0, raise_agent_errors=True)
    assert run_episode(env, make_agent("scripted"), "guess-000", seed=0).success  # the env is fine
    env.close()


def test_records_stored_before_agent_error_existed_still_load():
    old = '{"task_id": "guess-000", "env": "guess", "agent": "x", "outcome": "env_error", "metadata": {"error": "e"}}'
    assert Trajectory.model_validate_json(old).outcome is Outcome.ENV_ERROR


def test_store_appends_and_reports_a_torn_last_line(tmp_path, episodes):
    store = TrajectoryStore(tmp_path)
    for trajectory in episodes[:3]:
        store.append(trajectory)
    with open(store.path, "ab") as handle:  # a kill in the middle of a write
        handle.write(episodes[3].model_dump_json().encode()[:50])
    loaded, report = store.load()
    assert [t.id for t in loaded] == [t.id for t in episodes[:3]]
    assert len(report.problems) == 1 and "truncated last line" in report.problems[0]
    store.append(episodes[4])  # appending after a torn line still yields readable lines
    loaded, _ = store.load()
    assert [t.id for t in loaded][-1] == episodes[4].id and len(loaded) == 4
    assert store.finished_keys() == {t.key for t in loaded}


def test_collect_resume_removes_images_of_an_episode_killed_in_flight(tmp_path):
    from coachgym.trajectories.collect import CollectConfig, collect
    from coachgym.training.tasks import small_guess_suite

    suite_path = tmp_path / "suite.json"
    small_guess_suite(highs=(8,), screen=56).save(suite_path)
    config = CollectConfig(env="guess", suite=str(suite_path), agent="scripted", out=tmp_path / "store",
                           tasks=["small-guess-8-3"])
    collect(config, progress=False)
    store = TrajectoryStore(tmp_path / "store")
    kept = {folder.name for folder in (store.folder / "images").iterdir()}
    assert kept == {t.id for t in store.read()}
    store.save_image("killed-mid-episode", 0, np.zeros((4, 4, 3), np.uint8))  # what a kill leaves behind
    collect(config.model_copy(update={"tasks": ["small-guess-8-5"]}), progress=False)
    left = {folder.name for folder in (store.folder / "images").iterdir()}
    assert "killed-mid-episode" not in left and kept < left and left == {t.id for t in store.read()}


def test_collect_resume_plays_errored_episodes_again(tmp_path):
    from coachgym.envs.core import Outcome
    from coachgym.trajectories.collect import CollectConfig, collect

    store = TrajectoryStore(tmp_path / "store")
    failed = Trajectory(task_id="guess-001", env="guess", agent="scripted", seed=0, outcome=Outcome.AGENT_ERROR)
    store.append(failed)  # a run whose model server was down
    summary = collect(CollectConfig(env="guess", agent="scripted", out=store.folder, tasks=["guess-001", "guess-002"]),
                      progress=False)
    assert summary.collected == 2 and summary.skipped == 0
    records = [(t.task_id, t.outcome) for t in store.read()]
    assert records[0] == ("guess-001", Outcome.AGENT_ERROR) and len(records) == 3
    assert sorted(records[1:]) == [("guess-001", Outcome.COMPLETED), ("guess-002", Outcome.COMPLETED)]


def test_store_saves_images_beside_the_jsonl(tmp_path):
    store = TrajectoryStore(tmp_path)
    pixels = np.random.default_rng(0).integers(0, 255, (20, 10, 3), dtype=np.uint8)
    relative = store.save_image("abc", 3, pixels)
    from PIL import Image

    assert np.array_equal(np.asarray(Image.open(tmp_path / relative)), pixels)


def test_agentinstruct_round_trip_keeps_every_field_the_format_carries(episodes):
    for trajectory in episodes:
        row = to_agentinstruct(trajectory)
        assert [t["from"] for t in row["conversations"][:3]] == ["system", "human", "gpt"]
        back = from_agentinstruct(row, env=trajectory.env, agent=trajectory.agent)
        assert to_agentinstruct(back) == row
        assert back.system_prompt == trajectory.system_prompt
        assert [(s.observation, s.action, s.train) for s in back.steps] == [
            (s.observation, s.action, s.train) for s in trajectory.steps
        ]
        assert back.final_observation == trajectory.final_observation


def test_agentinstruct_rows_from_the_wild_round_trip():
    row = {"id": "os_0", "conversations": [
        {"from": "human", "loss": False, "value": "instructions"},
        {"from": "gpt", "loss": False, "value": "OK."},
        {"from": "human", "loss": False, "value": "task: count files"},
        {"from": "gpt", "loss": True, "value": "Act: bash\n```bash\nls | wc -l\n```"},
    ]}
    trajectory = from_agentinstruct(row, env="shell")
    assert [s.train for s in trajectory.steps] == [False, True]
    assert to_agentinstruct(trajectory) == row
    with pytest.raises(ValueError, match="expected a gpt turn"):
        from_agentinstruct({"id": "x", "conversations": [{"from": "human", "value": "a"},
                                                         {"from": "human", "value": "b"}]})


def test_dataset_export_loads_back(tmp_path, episodes):
    dataset = to_dataset(episodes)
    dataset.save_to_disk(str(tmp_path / "ds"))
    loaded = load_from_disk(str(tmp_path / "ds"))
    assert loaded.num_rows == len(episodes)
    assert loaded[0]["messages"][0]["role"] == "system" and loaded[0]["conversations"][1]["from"] == "human"
    assert sorted(set(loaded["agent"])) == ["random", "scripted"]


def test_filters_and_stats(episodes):
    winners = list(TrajectoryFilter(success=True).apply(episodes))
    assert winners and all(t.agent == "scripted" for t in winners)
    assert list(TrajectoryFilter(min_steps=1000).apply(episodes)) == []
    rows = {row.agent: row for row in summarize(episodes)}
    assert rows["scripted"].success_rate == 1.0 and rows["random"].success_rate == 0.0
    assert sum(rows["random"].outcomes.values()) == 4


def test_viewer_writes_an_index_and_a_page_per_episode_and_escapes_text(tmp_path, episodes):
    hostile = episodes[0].model_copy(update={"task_id": "<script>alert(1)</script>"})
    index = write_view([hostile, *episodes[1:]], tmp_path, tmp_path / "view")
    page = index.read_text()
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert page.count("<tr data-task=") == len(episodes)
    assert all((index.parent / episode_file(e.id)).is_file() for e in episodes)


def test_trajectory_json_round_trip(episodes):
    assert Trajectory.model_validate_json(episodes[0].model_dump_json()) == episodes[0]
