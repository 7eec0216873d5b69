"""`protocol="agentbench-v0.2"`: AgentBench v0.2's DBBench rules on every backend, and its answer check.

The block observations were measured with v0.2's driver (mysql-connector-python 8.0.33, C
extension) against MariaDB: several statements give "Commands out of sync", and the change is
gone at the next statement unless the block committed it.
"""

from __future__ import annotations

import ast
import re

import pytest

from coachgym.envs.core import Task
from coachgym.envs.database import DatabaseEnv
from coachgym.envs.database.agentbench import OUT_OF_SYNC, answer_matches
from coachgym.envs.database.evaluate import answers_match
from coachgym.envs.database.expert import DatabaseExpert

V02 = "agentbench-v0.2"
# A DBBench-shaped task: all columns text, the table named in the task text.
TEAMS = Task(id="teams", env="database", goal="How many teams scored more than 20?\nThe name of this table is Teams.",
             evaluator={"kind": "answer", "expected": ["1"]},
             setup={"dialect": "mysql", "dbbench": {"type": "counting"}, "tables": [{
                 "name": "Teams", "columns": [{"name": "Team"}, {"name": "Points"}],
                 "rows": [["Reds", "9"], ["Blues", "21"]]}]})


def operation(sql: str) -> str:
    return f"I look.\nAction: Operation\n```sql\n{sql}\n```"


def is_error(text: str) -> bool:
    """An error as the backend words it under v0.2: MariaDB `1064 (42000): ...`, else `Error...`."""
    return re.match(r"Error|\d+ \(\w{5}\): ", text) is not None


def points(env) -> str:
    return env.step(operation("SELECT Points FROM Teams WHERE Team = 'Reds'"))[0]["text"]


def test_opening_is_the_task_text_alone_in_goal(make_env):
    env = make_env(task=TEAMS, protocol=V02)
    obs, _ = env.reset(seed=0)
    assert obs["text"] == "" and obs["goal"] == TEAMS.goal  # no product line, no columns, no row counts


def test_several_statements_run_then_roll_back_as_v02s_driver_left_them(make_env):
    env = make_env(task=TEAMS, protocol=V02)
    env.reset(seed=0)
    obs, _, terminated, _, info = env.step(operation("UPDATE Teams SET Points = '5' WHERE Team = 'Reds'; SELECT 1"))
    assert obs["text"] == OUT_OF_SYNC and not terminated and "action_error" not in info
    assert points(env) == "[('9',)]"
    assert is_error(env.step(operation("SELEC 1; UPDATE Teams SET Points = '5'"))[0]["text"])  # first fails
    env.step(operation("UPDATE Teams SET Points = '6' WHERE Team = 'Reds'; COMMIT; UPDATE Teams SET Points = '7'"))
    assert points(env) == "[('6',)]"  # what the block committed stays, the rest is rolled back


def test_one_statement_still_commits_and_newlines_are_spaces(make_env):
    env = make_env(task=TEAMS, protocol=V02)
    env.reset(seed=0)
    assert env.step(operation("UPDATE Teams SET Points = '5'\nWHERE Team = 'Reds';"))[0]["text"] == "[]"
    assert points(env) == "[('5',)]"
    # v0.2 joined the lines, so a line comment swallows the rest of the block
    assert is_error(env.step(operation("SELECT Team -- the name\nFROM Teams"))[0]["text"])


def test_an_unreadable_reply_ends_the_episode_as_a_failure(make_env):
    env = make_env(task=TEAMS, protocol=V02)
    env.reset(seed=0)
    _, reward, terminated, _, info = env.step("SELECT COUNT(*) FROM Teams")
    assert terminated and reward == 0 and info["outcome"] == "invalid_format"
    env.reset(seed=0)
    _, _, terminated, _, info = env.step("Action: Operation\n```SELECT 1```")  # no ```sql block
    assert terminated and info["outcome"] == "invalid_format"


def test_fifteen_operations_then_one_reply_for_the_answer(make_env):
    env = make_env(task=TEAMS, protocol=V02)
    env.reset(seed=0)
    for _ in range(15):
        assert env.step(operation("SELECT COUNT(*) FROM Teams WHERE Team = 'Blues'"))[0]["text"] == "[(1,)]"
    _, reward, terminated, _, info = env.step("Action: Answer\nFinal Answer: [\"1\"]")
    assert terminated and reward == 1.0
    env.reset(seed=0)
    for _ in range(15):
        env.step(operation("SELECT 1"))
    obs, _, _, truncated, info = env.step(operation("UPDATE Teams SET Points = '0'"))
    assert truncated and info["outcome"] == "task_limit_reached" and obs["text"].startswith("Not run")


@pytest.mark.parametrize(("answer", "label"), [
    ("[None]", ["0"]), ('["null"]', ["0"]), ('["nan"]', ["0"]),  # main reads these as 0
    ('["1,174"]', ["1174.0"]),  # main drops thousands commas
    ("[('17',)]", ["17"]),  # main reads a pasted row as its cell
    ("[1, 2]", ["1", "2"]),  # several values: main compares numbers, v0.2 a set of exact values
])
def test_v02_check_refuses_what_agentbench_main_accepts(answer, label):
    assert answers_match(ast.literal_eval(answer), label)
    assert not answer_matches(answer, label)


def test_v02_check_accepts_what_v02_accepted():
    assert answer_matches(' ["2011"]', ["2011.0"]) and answer_matches(" [2011]", ["2011"])  # floats, exactly
    assert not answer_matches(' ["0.3333"]', ["0.33"])  # no tolerance
    assert answer_matches(' ["a", "b"]', ["b", "a"]) and answer_matches(" Paris", [" Paris"])  # raw text kept
    assert answer_matches(" 42", ["42"]) and not answer_matches(None, ["42"])
    assert not answer_matches(' "Ann"', ["Ann"]) and answer_matches(' "A"', ["A"])  # a text is listed as its characters


def test_eval_protocol_reaches_the_database_env(tmp_path, monkeypatch):
    """`coachgym eval --protocol agentbench-v0.2` scores DBBench by v0.2's rules: the gold query of
    standard-036 finds no row, answered "None" against the label "none", which only AgentBench
    main's check accepts."""
    from coachgym.benchmarks.runner import EvalConfig, run_eval
    from coachgym.envs.database.dbbench import dbbench_suite

    monkeypatch.setenv("COACHGYM_DB_BACKEND", "sqlite")
    suite = tmp_path / "one.json"
    dbbench_suite().model_copy(update={"tasks": [dbbench_suite().get("dbbench-standard-036")]}).save(suite)
    verdicts = {}
    for protocol in ("coachgym", V02):
        results = run_eval(EvalConfig(suite=str(suite), agent="scripted", out=tmp_path / protocol, protocol=protocol))
        verdicts[protocol] = [episode.success for episode in results.episodes]
    assert verdicts == {"coachgym": [True], V02: [False]}


# What v0.2 showed for `SELECT 1/3` and an unknown column: `str()` of mysql-connector's row list
# and of its error (the reason is the server's own words: MariaDB 11.4 says 'SELECT' where older
# servers said 'field list'). SQLite and PostgreSQL have neither MySQL's decimal division nor its
# error codes (docs/benchmarks.md, "Result format (DBBench)").
V02_TEXT = {
    "mariadb": (r"\[\(Decimal\('0\.3333'\),\)\]", r"1054 \(42S22\): Unknown column 'Nope' in '(field list|SELECT)'"),
    "sqlite": (r"\[\(0,\)\]", "Error: no such column: Nope"),
    "postgres": (r"\[\(0,\)\]", r'Error \(42703\): column "nope" does not exist'),
}


def test_division_and_unknown_column_read_as_v02s_driver_showed_them(make_env, backend):
    division, unknown = V02_TEXT[backend[0]]
    env = make_env(task=TEAMS, protocol=V02)
    env.reset(seed=0)
    assert re.fullmatch(division, env.step(operation("SELECT 1/3"))[0]["text"])
    assert re.fullmatch(unknown, env.step(operation("SELECT Nope FROM Teams"))[0]["text"])
    assert re.fullmatch(unknown, env.step(operation("SELECT Nope FROM Teams; SELECT 1"))[0]["text"])  # a block's first


def test_expert_reads_driver_reprs_back_as_plain_values():
    assert DatabaseExpert._values("[(Decimal('0.3333'), datetime.date(2020, 1, 2))]") == [0.3333, "2020-01-02"]
    assert DatabaseExpert._values("[(__import__('os'),)]") == []  # only the driver's value types are read


def test_expert_scores_a_decimal_answer_on_mariadb(mariadb_url):
    task = TEAMS.model_copy(update={"evaluator": {"kind": "answer", "expected": ["0.3333"]},
                                    "setup": {**TEAMS.setup, "solution_sql": ["SELECT 1/3"]}})
    env, expert = DatabaseEnv(task=task, backend="mariadb", server_url=mariadb_url, protocol=V02), DatabaseExpert(task)
    try:
        obs, _ = env.reset(seed=0)
        obs, *_ = env.step(expert.act(obs))
        assert obs["text"] == "[(Decimal('0.3333'),)]"
        assert env.step(expert.act(obs))[1] == 1.0
    finally:
        env.close()


def test_default_protocol_keeps_plain_values_and_its_own_error_text(make_env, backend):
    env = make_env(task=TEAMS)
    env.reset(seed=0)
    division = env.step(operation("SELECT 1/3"))[0]["text"]
    assert "Decimal" not in division and ast.literal_eval(division)
    assert env.step(operation("SELECT Nope FROM Teams"))[0]["text"].startswith("Error")
