"""`--agentbench-src`: AgentBench v0.2's own prompts, read from a checkout, laid out as v0.2 does.

The checkout here is a fake written for the test: files at v0.2's paths, shaped like v0.2's
(the same variable names, the same `session.inject` calls) but holding placeholder strings, so
the test shows the strings come from the checkout and the turns follow v0.2's order.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from coachgym.agents.agentbench_source import DBBENCH_FILE, OS_FILE, AgentBenchSourceError
from coachgym.agents.base import AgentOutput
from coachgym.agents.chat import ChatAgent, ChatRequest
from coachgym.agents.prompts import agentbench_v02_builders
from coachgym.benchmarks.runner import EvalConfig
from coachgym.envs.core import Task
from coachgym.envs.database.env import DatabaseEnv
from coachgym.envs.shell.env import ShellEnv
from coachgym.training.dpo import preference_pairs
from coachgym.training.vision_sft import step_samples
from coachgym.trajectories.convert import step_messages, to_messages
from coachgym.trajectories.records import Trajectory
from coachgym.trajectories.rollout import run_episode
from coachgym.trajectories.store import TrajectoryStore

V02 = "agentbench-v0.2"
DBBENCH_SOURCE = '''
big_prompt = """PLACEHOLDER DB INSTRUCTION"""

class DBBench(Task):
    async def start_sample(self, index, session):
        session.inject({"role": "user", "content": big_prompt})
        session.inject({"role": "agent", "content": "PLACEHOLDER ACK"})
        session.inject({"role": "user", "content": prompt})
        while rounds < self.max_round:
            session.inject({"role": "user", "content": response})
'''
OS_SOURCE = '''
ONE_SHOT = [
    {"role": "user", "content": "EXAMPLE QUESTION"},
    {"role": "agent", "content": "EXAMPLE ACT 1"},
    {"role": "user", "content": "EXAMPLE OUTPUT"},
    {"role": "agent", "content": "EXAMPLE ANSWER"},
]

class OSInteraction(Task):
    async def _judge(self, session, config, container):
        session.inject({"role": "user", "content": """OS INSTRUCTION|"""})
        if not oneshot:
            session.history[-1].content += "UNUSED LEAD|" + config.description
        else:
            session.history[-1].content += "FIRST LEAD|" + ONE_SHOT[0]["content"]
            for item in ONE_SHOT[1:]:
                session.inject(item)
            session.inject({"role": "user", "content": "NEW LEAD|" + config.description})
        for _ in range(self.round_limit):
            session.inject({"role": "user", "content": ("OUTPUT LEAD|" + result) if result else "EMPTY"})
'''
TEAMS = Task(id="teams", env="database", goal="How many teams are there?\nThe name of this table is Teams.",
             evaluator={"kind": "answer", "expected": ["2"]},
             setup={"dialect": "mysql", "dbbench": {"type": "counting"}, "tables": [{
                 "name": "Teams", "columns": [{"name": "Team"}], "rows": [["Reds"], ["Blues"]]}]})
HELLO = Task(id="hello", env="shell", goal="Print hi.", setup={}, split="test",
             evaluator={"match": {"answer": "hi", "strip": True}})


class Scripted(ChatAgent):
    """A chat agent whose 'model' replies from a script and keeps every request it got."""

    def __init__(self, replies: list[str], prompts):
        super().__init__(prompts=prompts)
        self.replies, self.requests = list(replies), []

    def complete(self, requests: list[ChatRequest]) -> list[AgentOutput]:
        self.requests += requests
        return [AgentOutput(text=self.replies.pop(0)) for _ in requests]


def play(env, agent: Scripted, task_id: str):
    try:
        return run_episode(env, agent, task_id)
    finally:
        env.close()


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    for relative, text in ((DBBENCH_FILE, DBBENCH_SOURCE), (OS_FILE, OS_SOURCE)):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text, encoding="utf-8")
    return tmp_path


def test_dbbench_turns_follow_v02_with_the_checkouts_strings(checkout):
    builders = agentbench_v02_builders(checkout, {"database", "guess"})
    assert set(builders) == {"database"}
    agent = Scripted(["Action: Operation\n```sql\nSELECT COUNT(*) FROM Teams\n```", "Action: Answer\nFinal Answer: [2]"],
                     builders["database"])
    assert play(DatabaseEnv(task=TEAMS, protocol=V02), agent, "teams").success
    assert agent.requests[1].messages == [
        {"role": "user", "content": "PLACEHOLDER DB INSTRUCTION"},
        {"role": "assistant", "content": "PLACEHOLDER ACK"},
        {"role": "user", "content": TEAMS.goal},
        {"role": "assistant", "content": "Action: Operation\n```sql\nSELECT COUNT(*) FROM Teams\n```"},
        {"role": "user", "content": "[(2,)]"},
    ]


def test_os_turns_follow_v02_with_the_checkouts_one_shot(checkout):
    agent = Scripted(["Think: t\n\nAct: answer(hi)"], agentbench_v02_builders(checkout, {"shell"})["shell"])
    assert play(ShellEnv(task=HELLO, protocol=V02), agent, "hello").success
    assert agent.requests[0].messages == [
        {"role": "user", "content": "OS INSTRUCTION|FIRST LEAD|EXAMPLE QUESTION"},
        {"role": "assistant", "content": "EXAMPLE ACT 1"},
        {"role": "user", "content": "EXAMPLE OUTPUT"},
        {"role": "assistant", "content": "EXAMPLE ANSWER"},
        {"role": "user", "content": "NEW LEAD|Print hi."},
    ]


@pytest.mark.parametrize("env", ["database", "shell"])
def test_a_stored_episode_rebuilds_the_chat_the_agent_sent_with_v02_turns(checkout, tmp_path, env):
    builders = agentbench_v02_builders(checkout, {env})
    if env == "database":
        replies = ["Action: Operation\n```sql\nSELECT COUNT(*) FROM Teams\n```", "Action: Answer\nFinal Answer: [2]"]
        agent, played, task_id = Scripted(replies, builders[env]), DatabaseEnv(task=TEAMS, protocol=V02), "teams"
    else:
        replies = ["Think: t\n\nAct: bash\n\n```bash\necho hi\n```", "Think: t\n\nAct: answer(hi)"]
        agent, played, task_id = Scripted(replies, builders[env]), ShellEnv(task=HELLO, protocol=V02), "hello"
    trajectory = play(played, agent, task_id)
    store = TrajectoryStore(tmp_path / "store")
    store.append(trajectory)
    [stored] = list(store)
    assert len(stored.steps) == len(agent.requests) == 2
    for index, request in enumerate(agent.requests):
        assert step_messages(stored, index) == request.messages
    assert to_messages(stored)[: len(agent.requests[-1].messages)] == agent.requests[-1].messages
    last = agent.requests[-1].messages + [{"role": "assistant", "content": replies[-1]}]
    assert json.loads(step_samples(stored, tmp_path / "store")[-1]["conversation"]) == last
    lost = stored.model_copy(deep=True, update={"id": "lost", "success": False})
    lost.steps[-1].action = "a different last action"
    [pair] = preference_pairs([stored, lost])
    assert pair["prompt"] == agent.requests[-1].messages


def test_a_trajectory_stored_before_preambles_rebuilds_as_before():
    old = {"task_id": "t", "env": "shell", "agent": "scripted", "system_prompt": "S",
           "steps": [{"index": 0, "observation": "O", "action": "A"}]}
    assert step_messages(Trajectory.model_validate(old), 0) == [{"role": "system", "content": "S"},
                                                                {"role": "user", "content": "O"}]


def test_a_missing_or_changed_file_is_one_error_naming_it(checkout):
    (checkout / OS_FILE).unlink()
    with pytest.raises(AgentBenchSourceError, match=r"os_interaction/task\.py.*--agentbench-src"):
        agentbench_v02_builders(checkout, {"shell"})
    (checkout / DBBENCH_FILE).write_text("big_prompt = make_prompt()\n", encoding="utf-8")
    with pytest.raises(AgentBenchSourceError, match=r"dbbench/__init__\.py does not hold .*big_prompt"):
        agentbench_v02_builders(checkout, {"database"})


def test_source_is_only_taken_with_the_v02_protocol(tmp_path):
    with pytest.raises(ValueError, match="--protocol agentbench-v0.2"):
        EvalConfig(out=tmp_path, agentbench_src=tmp_path)
