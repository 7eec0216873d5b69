"""The agent's connection cannot reach host files or raise its privileges, on every backend.

Each attempt must fail safely: the statement is refused (or returns NULL instead of file
contents), the observation says so, nothing is written on the host, and the episode goes on.
"""

from __future__ import annotations

from pathlib import Path

import pytest

TASK = "database-bookstore-00-0"

ATTEMPTS = {
    "sqlite": [
        ("ATTACH DATABASE '/tmp/coachgym-escape.db' AS outside", "not allowed"),
        ("ATTACH DATABASE 'file:/tmp/coachgym-escape.db' AS outside", "not allowed"),
        ("ATTACH DATABASE '../../coachgym-escape.db' AS outside", "not allowed"),
        ("ATTACH DATABASE 'relative.db' AS outside", "not allowed"),  # relative to the cwd, not the episode
        ("VACUUM INTO '/tmp/coachgym-escape.db'", "not allowed"),
        ("SELECT load_extension('/usr/lib/x86_64-linux-gnu/libc.so.6')", "disabled"),
        ("PRAGMA max_page_count = 1000000000", "not allowed"),
        ("PRAGMA writable_schema = ON", "not allowed"),
    ],
    "mariadb": [
        ("SELECT 'x' INTO OUTFILE '/tmp/coachgym-escape.db'", "Access denied"),
        ("LOAD DATA INFILE '/etc/passwd' INTO TABLE authors", "Access denied"),
        ("GRANT ALL PRIVILEGES ON *.* TO CURRENT_USER", "Access denied"),
        ("CREATE USER 'intruder'@'%'", "Access denied"),
        ("SET GLOBAL max_connections = 1", "Access denied"),
        ("SELECT * FROM mysql.user", "denied"),
        ("INSTALL SONAME 'ha_connect'", "denied"),
    ],
    "postgres": [
        ("COPY authors FROM PROGRAM 'touch /tmp/coachgym-escape.db'", "must be superuser"),
        ("COPY authors TO '/tmp/coachgym-escape.db'", "must be superuser"),
        ("SELECT pg_read_file('/etc/passwd')", "permission denied"),
        ("SELECT lo_import('/etc/passwd')", "permission denied"),
        ("ALTER ROLE CURRENT_USER SUPERUSER", "must be superuser"),
        ("SET ROLE coachgym", "permission denied"),
        ("CREATE DATABASE intruder", "permission denied"),
        ("CREATE EXTENSION dblink", ""),
    ],
}


def test_host_access_and_privilege_escalation_fail_safely(make_env, backend):
    escape = Path("/tmp/coachgym-escape.db")
    escape.unlink(missing_ok=True)
    env = make_env(task=TASK)
    env.reset(seed=0)
    for statement, reason in ATTEMPTS[backend[0]]:
        obs, _, terminated, _, info = env.step(f"```sql\n{statement}\n```")
        assert obs["text"].startswith("Error") and reason in obs["text"], (statement, obs["text"])
        assert not terminated and "env_error" not in info
    assert not escape.exists()
    assert env.step("```sql\nSELECT COUNT(*) FROM authors\n```")[0]["text"] == "[(12,)]"


def test_mariadb_load_file_reads_nothing(make_env, backend):
    if backend[0] != "mariadb":
        pytest.skip("LOAD_FILE is MariaDB/MySQL only")
    env = make_env(task=TASK)
    env.reset(seed=0)
    assert env.step("```sql\nSELECT LOAD_FILE('/etc/passwd')\n```")[0]["text"] == "[(None,)]"
    shown = env.step("```sql\nSHOW DATABASES\n```")[0]["text"]
    assert "mysql" not in shown.replace("information_schema", "")
