"""DatabaseEnv end to end: gymnasium contract, action formats, observations, limits, commits."""

from __future__ import annotations

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

import coachgym  # noqa: F401 - registers the gym ids
from coachgym.envs.core import Task
from coachgym.envs.database import DatabaseEnv
from coachgym.envs.database.backends import BackendUnavailable, make_backend

COUNT_TASK = "database-bookstore-00-0"  # How many books by Sami Garcia? -> 6
CHANGE_TASK = "database-bookstore-12-0"  # Mark order 3 as 'cancelled'.
ENDLESS = "SELECT COUNT(*) FROM books a, books b, books c, books d, books e, books f"  # 40^6 rows


def sql(text: str) -> str:
    return f"Action: Operation\n```sql\n{text}\n```"


def test_gymnasium_make_and_check_env():
    env = gym.make("coachgym/Database-v0", backend="sqlite")
    check_env(env.unwrapped)
    env.close()


def test_agentbench_format_solves_a_question(make_env):
    env = make_env(task=COUNT_TASK)
    obs, _ = env.reset(seed=0)
    assert "books (id int, title text" in obs["text"] and "Sami Garcia" in obs["goal"]
    obs, reward, terminated, _, info = env.step(sql(
        "SELECT COUNT(*) FROM books JOIN authors ON authors.id = books.author_id WHERE authors.name = 'Sami Garcia';"))
    assert obs["text"] == "[(6,)]" and not terminated and "action_error" not in info
    obs, reward, terminated, _, info = env.step("The count is 6.\nAction: Answer\nFinal Answer: [\"6\"]")
    assert terminated and reward == 1.0 and info["success"] and info["outcome"] == "completed"


def test_wrong_answer_and_no_change_fail(make_env):
    env = make_env(task=COUNT_TASK)
    env.reset(seed=0)
    assert env.step("answer([7])")[4]["success"] is False
    env = make_env(task=CHANGE_TASK)
    env.reset(seed=0)
    _, reward, _, _, info = env.step("answer([])")
    assert reward == 0.0 and "missing" in info["evaluation"]["detail"]


def test_change_is_scored_from_the_table_and_every_statement_commits(make_env):
    env = make_env(task=CHANGE_TASK)
    env.reset(seed=0)
    env.step(sql("BEGIN"))
    env.step("```sql\nUPDATE orders SET status = 'cancelled' WHERE id = 3\n```")
    _, reward, _, _, info = env.step("answer([])")
    assert reward == 1.0, info["evaluation"]


def test_errors_are_observations_and_bad_actions_are_explained(make_env):
    env = make_env(task=COUNT_TASK)
    env.reset(seed=0)
    obs, _, terminated, _, info = env.step(sql("SELECT * FROM no_such_table"))
    assert obs["text"].startswith("Error") and "no_such_table" in obs["text"] and "action_error" not in info
    obs, _, _, _, info = env.step(sql("SELECT 1; SELECT 2"))
    assert "one statement per action" in info["action_error"]
    obs, _, _, _, info = env.step("Action: Operation\nno code block here")
    assert "```sql" in info["action_error"]
    _, _, terminated, _, info = env.step("I am not sure what to do")
    assert terminated and info["outcome"] == "invalid_format" and not info["success"]


def test_opening_observation_shows_no_row_counts_unless_asked():
    # As in AgentBench: a row count would answer counting questions such as DBBench standard-023.
    for show, expected in ((False, "- books (id int, title text, author_id int, genre text, price decimal, "
                                   "published date, stock int)\n"),
                           (True, "published date, stock int) -- 40 rows\n")):
        env = DatabaseEnv(task=COUNT_TASK, backend="sqlite", show_row_counts=show)
        try:
            text = env.reset(seed=0)[0]["text"]
        finally:
            env.close()
        assert expected in text and ("rows" in text) == show, text


def test_long_results_are_truncated_like_agentbench(make_env):
    env = make_env(task=COUNT_TASK)
    env.reset(seed=0)
    obs = env.step(sql("SELECT title, genre FROM books ORDER BY id"))[0]
    assert obs["text"].endswith("[TRUNCATED]") and len(obs["text"]) == 800 + len("[TRUNCATED]")


def test_row_limit(make_env):
    env = make_env(task=COUNT_TASK, limits={"max_rows": 3})
    env.reset(seed=0)
    text = env.step(sql("SELECT id FROM books ORDER BY id"))[0]["text"]
    assert text.startswith("[(1,), (2,), (3,)]") and "only the first 3 rows" in text


def test_statement_timeout_cancels_runaway_queries(make_env, backend):
    env = make_env(task=COUNT_TASK, limits={"statement_timeout_s": 1})
    env.reset(seed=0)
    if backend[0] != "sqlite":  # the agent lifting its own session limit must not help
        env.step(sql("SET statement_timeout = 0" if backend[0] == "postgres" else "SET max_statement_time = 0"))
    obs, _, terminated, _, _ = env.step(sql(ENDLESS))
    assert "statement time limit" in obs["text"] and not terminated
    assert env.step(sql("SELECT COUNT(*) FROM authors"))[0]["text"] == "[(12,)]"  # the connection still works


def test_inline_task_round_trip(make_env):
    task = Task(id="inline", env="database", goal="Name the capital of Norway.",
                setup={"tables": [{"name": "capitals", "columns": [{"name": "country"}, {"name": "city"}],
                                   "rows": [["Norway", "Oslo"], ["Kenya", "Nairobi"]]}]},
                evaluator={"kind": "answer", "expected": ["Oslo"]})
    env = make_env(task=task)
    env.reset(seed=0)
    assert env.step(sql("SELECT city FROM capitals WHERE country = 'Norway'"))[0]["text"] == "[('Oslo',)]"
    assert env.step('answer(["Oslo"])')[4]["success"]


def test_missing_server_settings_give_one_clear_error(monkeypatch):
    monkeypatch.delenv("COACHGYM_MYSQL_URL", raising=False)
    with pytest.raises(BackendUnavailable, match="COACHGYM_MYSQL_URL"):
        DatabaseEnv(backend="mariadb")
    backend = make_backend("postgres", "postgresql://nobody@/coachgym?host=/nonexistent-socket-dir")
    with pytest.raises(BackendUnavailable, match="Cannot connect to the PostgreSQL server.*servers postgres"):
        backend.version()
