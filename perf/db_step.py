"""Database env overhead: per-episode setup and per-query step, against raw driver calls.

For each backend, in one process and interleaved so machine load hits both sides alike:
- setup: `env.reset()` on a built-in task (fresh database + restricted user + tables) versus the
  raw driver doing the same table creation and inserts into a fresh database it already owns;
- step: `env.step("```sql ...```")` (parse, one-statement check, watchdog, fetch, render) versus
  `cursor.execute` + `fetchall` of the same query on the env's own agent connection.
Prints medians and ratios. Usage: python perf/db_step.py [sqlite mariadb postgres] [--repeats N]
Server backends start a throwaway local server (see coachgym.envs.database.servers).
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from coachgym.envs.database import DatabaseEnv
from coachgym.envs.database.schema import create_table_sql, insert_sql
from coachgym.envs.database.servers import start_server
from coachgym.envs.database.worlds import world_tables

TASK = "database-bookstore-05-0"
QUERY = ("SELECT customers.name, COUNT(*) FROM customers JOIN orders ON orders.customer_id = customers.id "
         "GROUP BY customers.id, customers.name ORDER BY COUNT(*) DESC, customers.id LIMIT 5")


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def raw_setup(env: DatabaseEnv, scratch: Path, counter: list[int]) -> Callable[[], None]:
    """The same world built with the bare driver, without isolation, users or limits."""
    tables = world_tables("bookstore")
    kind = env.backend_kind

    def build() -> None:
        counter[0] += 1
        if kind == "sqlite":
            conn = sqlite3.connect(scratch / f"raw-{counter[0]}.db", isolation_level=None)
            conn.execute("PRAGMA synchronous = OFF")
            conn.execute("PRAGMA journal_mode = MEMORY")
            conn.execute("BEGIN")
            for table in tables:
                conn.execute(create_table_sql("sqlite", table))
                conn.executemany(insert_sql("sqlite", table), table.rows)
            conn.execute("COMMIT")
            conn.close()
            return
        admin = env.db._admin_conn()  # the env's admin connection: a raw driver connection
        name = f"raw_{counter[0]}"
        with env.db._admin_lock, admin.cursor() as cursor:
            if kind == "mysql":
                cursor.execute(f"CREATE DATABASE {name}")
                cursor.execute(f"USE {name}")
            else:
                cursor.execute(f"CREATE SCHEMA {name}")
                cursor.execute(f"SET search_path = {name}")
            for table in tables:
                cursor.execute(create_table_sql(kind, table))
                cursor.executemany(insert_sql(kind, table), table.rows)
            cursor.execute(f"DROP SCHEMA {name} CASCADE" if kind == "postgres" else f"DROP DATABASE {name}")
    return build


def measure(backend: str, url: str | None, repeats: int) -> None:
    env = DatabaseEnv(backend=backend, server_url=url, task=TASK)
    scratch = Path(tempfile.mkdtemp(prefix="coachgym-perf-"))
    build_raw, counter = None, [0]
    env_setup, base_setup, env_step, base_step = [], [], [], []
    try:
        env.reset(seed=0)
        build_raw = raw_setup(env, scratch, counter)
        for _ in range(repeats):
            env_setup.append(timed(lambda: env.reset(seed=0)))
            base_setup.append(timed(build_raw))
            agent = env.db._conn if backend == "sqlite" else env.db._agent
            for _ in range(5):
                env_step.append(timed(lambda: env.step(f"```sql\n{QUERY}\n```")))
                cursor = agent.cursor()
                base_step.append(timed(lambda: (cursor.execute(QUERY), cursor.fetchall())))
                cursor.close()
    finally:
        env.close()
        for path in scratch.glob("*"):
            path.unlink()
        scratch.rmdir()
    for label, ours, base in (("episode setup", env_setup, base_setup), ("query step", env_step, base_step)):
        a, b = statistics.median(ours), statistics.median(base)
        print(f"{backend:8s} {label:13s}: env {a * 1000:8.2f} ms | raw driver {b * 1000:8.2f} ms | "
              f"ratio {a / b:5.2f}x | overhead {(a - b) * 1000:7.2f} ms  (n={len(ours)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("backends", nargs="*", default=["sqlite", "mariadb", "postgres"])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    for backend in args.backends:
        if backend == "sqlite":
            measure("sqlite", None, args.repeats)
            continue
        with start_server(backend) as server:
            measure(backend, server.url, args.repeats)


if __name__ == "__main__":
    main()
