"""Throwaway local MariaDB and PostgreSQL servers for tests, CI and quick experiments.

`start_server("mariadb" | "postgres")` initialises a data directory under a new temporary
folder, starts the server listening on a unix socket in that folder only (no TCP port, so
nothing outside this machine, and no port clashes between parallel runs), waits until it accepts
connections and returns a `LocalServer` whose `url` the database env takes as `server_url`.
`stop()` (or leaving the `with` block) shuts it down and deletes the folder.

Running as root: MariaDB is started with `--user=root`. PostgreSQL refuses to run as root, so its
folders are handed to an unprivileged account (`postgres` when the Debian package created it,
else `nobody`; override with $COACHGYM_PG_USER) and the server process runs as that user
(`subprocess.Popen(user=...)`); the parent folder is made traversable (0711) so it can reach
them. Binaries come from $PATH, /usr/sbin and Debian's /usr/lib/postgresql/<version>/bin
(override with $COACHGYM_MARIADB_BIN / $COACHGYM_PG_BIN). This module never touches a server it
did not start.

Command line: `python -m coachgym.envs.database.servers mariadb` prints the URL and keeps the
server up until Ctrl-C.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

START_TIMEOUT_S = 60.0


class ServerUnavailable(RuntimeError):
    """A server binary is missing or the server did not start; the message says what to do."""


def _which(name: str, extra_dirs: list[str]) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for folder in extra_dirs:
        candidate = Path(folder) / name
        if candidate.exists():
            return str(candidate)
    return None


def mariadb_binaries() -> tuple[str, str] | None:
    """(server, install-db script), or None when MariaDB/MySQL is not installed."""
    folders = [os.environ["COACHGYM_MARIADB_BIN"]] if os.environ.get("COACHGYM_MARIADB_BIN") else []
    folders += ["/usr/sbin", "/usr/bin", "/usr/local/bin"]
    server = _which("mariadbd", folders) or _which("mysqld", folders)
    install = _which("mariadb-install-db", folders) or _which("mysql_install_db", folders)
    return (server, install) if server and install else None


def postgres_bindir() -> Path | None:
    """The folder holding initdb and postgres, preferring Debian's newest versioned folder."""
    candidates = [os.environ["COACHGYM_PG_BIN"]] if os.environ.get("COACHGYM_PG_BIN") else []
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True)
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(str(Path(initdb).resolve().parent))
    for folder in candidates:
        if (Path(folder) / "initdb").exists() and (Path(folder) / "postgres").exists():
            return Path(folder)
    return None


def missing_reason(kind: str) -> str | None:
    """Why a local server of `kind` cannot be started here, or None when it can."""
    if kind == "mariadb" and mariadb_binaries() is None:
        return ("MariaDB is not installed (no mariadbd/mysqld and mariadb-install-db found); install the Debian "
                "package `mariadb-server` or set COACHGYM_MARIADB_BIN to the folder holding them")
    if kind == "postgres" and postgres_bindir() is None:
        return ("PostgreSQL is not installed (no initdb/postgres found); install the Debian package `postgresql` "
                "or set COACHGYM_PG_BIN to the folder holding them")
    return None


class LocalServer:
    """A running throwaway server: `url` for the env, `stop()` to remove it."""

    def __init__(self, kind: str, root: Path, process: subprocess.Popen, url: str, log: Path):
        self.kind, self.root, self.process, self.url, self.log = kind, root, process, url, log

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT if self.kind == "postgres" else signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> LocalServer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def _run(command: list[str], log: Path, **kwargs: Any) -> None:
    """Run an initialisation command; on failure remove the server's folder and say why."""
    with log.open("ab") as out:
        result = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, timeout=120, **kwargs)
    if result.returncode != 0:
        message = f"`{' '.join(command[:2])} ...` failed (exit {result.returncode}):\n{_tail(log)}"
        shutil.rmtree(log.parent, ignore_errors=True)
        raise ServerUnavailable(message)


def _tail(log: Path, lines: int = 15) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _wait_ready(server: LocalServer, probe: Any) -> LocalServer:
    deadline = time.monotonic() + START_TIMEOUT_S
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            break
        try:
            probe()
            return server
        except Exception as error:  # noqa: BLE001 - not up yet; retry until the deadline
            last_error = error
            time.sleep(0.1)
    server.stop()
    raise ServerUnavailable(f"The {server.kind} server did not start ({last_error}); its log ends with:\n"
                            f"{_tail(server.log)}")


def start_mariadb() -> LocalServer:
    binaries = mariadb_binaries()
    if binaries is None:
        raise ServerUnavailable(missing_reason("mariadb") or "")
    server_bin, install_bin = binaries
    root = Path(tempfile.mkdtemp(prefix="coachgym-mariadb-"))
    data, socket, log = root / "data", root / "mysqld.sock", root / "server.log"
    as_root = ["--user=root"] if os.geteuid() == 0 else []
    install = [install_bin, "--no-defaults", f"--datadir={data}", "--auth-root-authentication-method=normal",
               "--skip-test-db", "--skip-name-resolve", *as_root]
    try:
        _run(install, log)
    except ServerUnavailable:  # bootstrap can fail transiently on a starved machine: retry once, cleanly
        root.mkdir()
        _run(install, log)
    process = subprocess.Popen(
        [server_bin, "--no-defaults", f"--datadir={data}", f"--socket={socket}", "--skip-networking",
         f"--pid-file={root / 'mysqld.pid'}", f"--log-error={log}", "--character-set-server=utf8mb4",
         "--collation-server=utf8mb4_general_ci", "--innodb-buffer-pool-size=32M", "--skip-log-bin",
         "--innodb-flush-log-at-trx-commit=0", "--innodb-file-per-table=0", "--innodb-flush-method=nosync",
         "--innodb-doublewrite=0", "--skip-name-resolve", "--max-connections=200", *as_root],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    server = LocalServer("mariadb", root, process, f"mysql://root@localhost/?socket={socket}", log)

    def probe() -> None:
        import pymysql

        pymysql.connect(unix_socket=str(socket), user="root", connect_timeout=2).close()

    return _wait_ready(server, probe)


def _postgres_account() -> pwd.struct_passwd | None:
    """The unprivileged account PostgreSQL runs as when we are root (None: run as ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in filter(None, [os.environ.get("COACHGYM_PG_USER"), "postgres", "nobody"]):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise ServerUnavailable("PostgreSQL refuses to run as root and no unprivileged account was found; create one "
                            "(e.g. `useradd --system postgres`) or set COACHGYM_PG_USER.")


def start_postgres() -> LocalServer:
    bindir = postgres_bindir()
    if bindir is None:
        raise ServerUnavailable(missing_reason("postgres") or "")
    account = _postgres_account()
    root = Path(tempfile.mkdtemp(prefix="coachgym-postgres-"))
    data, sockets, log = root / "data", root / "sockets", root / "server.log"
    data.mkdir(mode=0o700)
    sockets.mkdir()
    log.touch()
    as_user: dict[str, Any] = {}
    if account is not None:
        root.chmod(0o711)
        for path in (data, sockets, log):
            os.chown(path, account.pw_uid, account.pw_gid)
        as_user = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": [],
                   "env": {**os.environ, "HOME": str(root)}}
    _run([str(bindir / "initdb"), "-D", str(data), "-U", "coachgym", "-E", "UTF8", "--locale=C", "--auth=trust",
          "--no-sync"], log, **as_user)
    process = subprocess.Popen(
        [str(bindir / "postgres"), "-D", str(data), "-k", str(sockets), "-c", "listen_addresses=",
         "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
         "-c", "shared_buffers=32MB", "-c", "max_connections=100", "-c", "logging_collector=off"],
        stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True, **as_user,
    )
    server = LocalServer("postgres", root, process, f"postgresql://coachgym@/coachgym?host={sockets}", log)

    def probe() -> None:
        import psycopg

        psycopg.connect(host=str(sockets), dbname="postgres", user="coachgym", connect_timeout=2).close()

    return _wait_ready(server, probe)


def start_server(kind: str) -> LocalServer:
    """Start a throwaway `mariadb` (also `mysql`) or `postgres` server."""
    kind = {"mysql": "mariadb", "postgresql": "postgres"}.get(kind, kind)
    if kind == "mariadb":
        return start_mariadb()
    if kind == "postgres":
        return start_postgres()
    raise ValueError(f"Unknown server kind {kind!r}; use mariadb or postgres.")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m coachgym.envs.database.servers mariadb|postgres", file=sys.stderr)
        return 2
    try:
        server = start_server(argv[0])
    except (ServerUnavailable, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(server.url, flush=True)
    try:
        server.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
