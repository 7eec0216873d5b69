"""Regression tests for issue #16: the database env's evaluators trust nothing the agent made.

Each test replays an attack from the issue the way an agent would (SQL actions through the env,
on every backend it applies to), then asserts that it was refused and that nothing on the host
changed: no file written or read, no time or memory spent past the limits, no server process or
folder left behind after the process is killed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from coachgym.envs.database import DatabaseEnv
from coachgym.envs.database.backends import QueryError
from coachgym.envs.database.servers import missing_reason
from tests.conftest import in_ci
from tests.database.conftest import backend, make_env  # noqa: F401 - fixtures

CHANGE_TASK = "database-bookstore-12-0"  # "Mark order 3 as 'cancelled'", scored from the table `orders`
SOLVE = "UPDATE orders SET status = 'cancelled' WHERE id = 3"
RENAME = {"sqlite": "ALTER TABLE orders RENAME TO orders_real", "mariadb": "RENAME TABLE orders TO orders_real",
          "postgres": "ALTER TABLE orders RENAME TO orders_real"}
WORLD_READABLE = 0o644
REPO = Path(__file__).resolve().parents[2]
CHILD_ENV = {**os.environ, "PYTHONPATH": str(REPO)}  # children import this checkout's coachgym


def sql(statement: str) -> str:
    return f"```sql\n{statement}\n```"


def act(env: DatabaseEnv, *statements: str) -> list[str]:
    """Run each statement as one action; the observations' texts."""
    return [env.step(sql(statement))[0]["text"] for statement in statements]


def finish(env: DatabaseEnv) -> tuple[dict, float]:
    """End the episode; its evaluation and how long the final step took."""
    start = time.monotonic()
    _, reward, terminated, _, info = env.step("answer([])")
    assert terminated
    return info["evaluation"] | {"reward": reward}, time.monotonic() - start


@pytest.fixture
def host_file() -> Iterator[Path]:
    """A path in /tmp (reachable by the server's own account, unlike pytest's tmp_path) for marker
    and secret files; removed afterwards."""
    path = Path(f"/tmp/coachgym-security-{uuid.uuid4().hex}")
    yield path
    path.unlink(missing_ok=True)


# Views that show the right rows (so only the refusal stops them scoring) but run the agent's
# code as whoever reads them: write a host file through the server (PostgreSQL), read one into
# the evaluation detail (MariaDB), recurse for a long time (SQLite), or sleep (both servers).
def planted_views(kind: str, marker: Path, secret: Path) -> dict[str, list[str]]:
    if kind == "sqlite":
        return {"recursive view that takes ~40 s": [  # finite, so that a regression fails instead of hanging
            "CREATE VIEW orders AS SELECT * FROM orders_real WHERE (WITH RECURSIVE r(n) AS "
            "(SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 50000000) SELECT count(*) FROM r) > 0"]}
    if kind == "mariadb":
        return {
            "invoker view reading a host file": [
                "CREATE SQL SECURITY INVOKER VIEW orders AS SELECT * FROM orders_real "
                f"UNION ALL SELECT 0, 0, LOAD_FILE('{secret}'), 'x'"],
            "sleeping view": ["CREATE VIEW orders AS SELECT * FROM orders_real WHERE SLEEP(0.1) = 0"],
        }
    return {
        "view calling a function that runs a host program": [
            "CREATE FUNCTION trojan() RETURNS boolean LANGUAGE plpgsql AS "
            f"'BEGIN COPY (SELECT 1) TO PROGRAM ''id > {marker}''; RETURN true; END'",
            "CREATE VIEW orders AS SELECT * FROM orders_real WHERE trojan()"],
        "sleeping view": ["CREATE VIEW orders AS SELECT * FROM orders_real WHERE pg_sleep(0.1) IS NOT NULL"],
    }


def test_evaluation_refuses_a_view_planted_in_place_of_the_scored_table(make_env, backend, host_file):
    kind = backend[0]
    marker, secret = host_file, host_file.with_suffix(".secret")
    token = uuid.uuid4().hex
    secret.write_text(token)
    secret.chmod(WORLD_READABLE)
    try:
        for name, statements in planted_views(kind, marker, secret).items():
            env = make_env(task=CHANGE_TASK, limits={"statement_timeout_s": 3})
            env.reset(seed=0)
            texts = act(env, SOLVE, RENAME[kind], *statements)
            assert all(not t.startswith("Error") for t in texts), (name, texts)
            evaluation, seconds = finish(env)
            assert evaluation["reward"] == 0.0 and "view" in evaluation["detail"], (name, evaluation)
            assert token not in evaluation["detail"] and not marker.exists(), name
            assert seconds < 2.5, (name, seconds)  # the sleeping views sleep 8 s over 80 rows
    finally:
        secret.unlink(missing_ok=True)


def test_postgres_row_level_security_is_refused(postgres_url, host_file):
    env = DatabaseEnv(task=CHANGE_TASK, backend="postgres", server_url=postgres_url)
    try:
        env.reset(seed=0)
        texts = act(env, SOLVE,
                    "CREATE FUNCTION trojan() RETURNS boolean LANGUAGE plpgsql AS "
                    f"'BEGIN COPY (SELECT 1) TO PROGRAM ''id > {host_file}''; RETURN true; END'",
                    "ALTER TABLE orders ENABLE ROW LEVEL SECURITY",
                    "CREATE POLICY everyone ON orders USING (trojan())")
        assert all(not t.startswith("Error") for t in texts), texts
        evaluation, _ = finish(env)
        assert evaluation["reward"] == 0.0 and "row-level security" in evaluation["detail"]
        assert not host_file.exists()
    finally:
        env.close()


def test_evaluation_is_not_blocked_by_a_lock_the_agent_left(mariadb_url):
    env = DatabaseEnv(task=CHANGE_TASK, backend="mariadb", server_url=mariadb_url, limits={"statement_timeout_s": 3})
    try:
        env.reset(seed=0)
        assert act(env, SOLVE, "LOCK TABLES orders WRITE") == ["[]", "[]"]
        evaluation, seconds = finish(env)
        assert evaluation["reward"] == 1.0 and seconds < 2.5, evaluation
    finally:
        env.close()


# Actions whose last text the server reads as two statements while the env's lexer sees one
# (SQLite's lexing has no such gap; its driver refuses two statements like the others).
SMUGGLED = {
    "postgres": [r"SELECT $q$ ' $q$; DROP TABLE books; -- '"],
    "mariadb": ["SET SESSION sql_mode = 'NO_BACKSLASH_ESCAPES'", r"SELECT '\'; DROP TABLE books; -- '"],
    "sqlite": [],
}


def test_one_statement_per_action_is_enforced_by_the_server(make_env, backend):
    env = make_env(task=CHANGE_TASK)
    env.reset(seed=0)
    texts = act(env, *SMUGGLED[backend[0]])
    assert not texts or texts[-1].startswith("Error"), texts
    with pytest.raises(QueryError):  # also when the text reaches the backend directly
        env.unwrapped.db.execute("SELECT 1; DROP TABLE books")
    assert act(env, "SELECT COUNT(*) FROM books") == ["[(40,)]"]


# 1000 rows of 100,000 characters each: 100 MB if fetched whole.
HUGE_RESULT = {
    "sqlite": "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 1000) "
              "SELECT n, hex(zeroblob(50000)) FROM r",
    "mariadb": "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 1000) "
               "SELECT n, REPEAT('x', 100000) FROM r",
    "postgres": "SELECT n, repeat('x', 100000) FROM generate_series(1, 1000) AS n",
}


def test_results_are_cut_at_the_byte_limit_within_the_time_limit(make_env, backend):
    cap = 10_000
    env = make_env(task=CHANGE_TASK, limits={"max_result_bytes": cap, "statement_timeout_s": 3},
                   observation_chars=1_000_000)
    env.reset(seed=0)
    start = time.monotonic()
    text = act(env, HUGE_RESULT[backend[0]])[0]
    assert time.monotonic() - start < 2.5
    assert "result size limit" in text and len(text) < 2 * cap, text[-300:]
    assert act(env, "SELECT COUNT(*) FROM books") == ["[(40,)]"]  # the connection still works


def test_sqlite_attached_and_temporary_databases_stay_within_the_size_cap(make_env, backend):
    if backend[0] != "sqlite":
        pytest.skip("SQLite only")
    env = make_env(task=CHANGE_TASK, limits={"max_db_mb": 1})
    env.reset(seed=0)
    three_mb = ("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3000) "
                "SELECT randomblob(1000) FROM r")
    attach, temp, main = act(env, "ATTACH DATABASE ':memory:' AS scratch", f"CREATE TEMP TABLE big AS {three_mb}",
                             f"CREATE TABLE big AS {three_mb}")
    assert "not allowed" in attach
    assert "full" in temp and "full" in main, (temp, main)


def _processes_using(path: Path) -> list[str]:
    """Command lines of live processes that name `path` (a server started in that folder)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (cmdline.parent / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue  # exited while we looked
        if str(path) in text and state != "Z":
            found.append(text)
    return found


def _wait_gone(path: Path, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while (path.exists() or _processes_using(path)) and time.monotonic() < deadline:
        time.sleep(0.1)


@pytest.mark.parametrize("kind", ["postgres", "mariadb"])
def test_sigterm_to_the_servers_module_leaves_no_server_and_no_folder(kind):
    reason = missing_reason(kind)
    if reason:
        if in_ci():
            pytest.fail(reason)
        pytest.skip(reason)
    cli = subprocess.Popen([sys.executable, "-m", "coachgym.envs.database.servers", kind], stdout=subprocess.PIPE,
                           text=True, env=CHILD_ENV)
    try:
        url = cli.stdout.readline().strip()
        root = Path(url.split("socket=" if kind == "mariadb" else "host=")[1]).parent
        assert root.exists() and _processes_using(root)
        cli.send_signal(signal.SIGTERM)
        cli.wait(timeout=60)
    finally:
        if cli.poll() is None:
            cli.kill()
    _wait_gone(root)
    assert not root.exists() and not _processes_using(root)


def test_sigterm_to_an_env_process_removes_its_sqlite_folder():
    script = ("from coachgym.envs.database import DatabaseEnv\nimport time\n"
              f"env = DatabaseEnv(task={CHANGE_TASK!r})\nenv.reset(seed=0)\n"
              "print(env.unwrapped.db.folder, flush=True)\ntime.sleep(60)\n")
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=CHILD_ENV)
    try:
        folder = Path(child.stdout.readline().strip())
        assert folder.name.startswith("episode-") and folder.exists()
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=30) == -signal.SIGTERM  # it still dies of the signal
    finally:
        if child.poll() is None:
            child.kill()
    assert not folder.parent.exists()
