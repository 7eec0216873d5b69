"""Throwaway local MariaDB and PostgreSQL servers for tests, CI and quick experiments.

`start_server("mariadb" | "postgres")` initialises a data directory under a new temporary
folder, starts the server listening on a unix socket in that folder only (no TCP port, so
nothing outside this machine, and no port clashes between parallel runs), waits until it accepts
connections and returns a `LocalServer` whose `url` the database env takes as `server_url`.
`stop()` (or leaving the `with` block) shuts it down and deletes the folder. The same happens at
interpreter exit and on SIGTERM/SIGHUP (`cleanup.at_exit`), also while the server is still being
set up, so no exit path but SIGKILL leaves a server process or a folder behind. Each server and
its setup commands run in a process group of their own, which `stop()` signals as a whole.

Running as root: MariaDB is started with `--user=root`. PostgreSQL refuses to run as root, so its
folders are handed to an unprivileged account (`postgres` when the Debian package created it,
else `nobody`; override with $COACHGYM_PG_USER) and the server process runs as that user
(`subprocess.Popen(user=...)`); the parent folder is made traversable (0711) so it can reach
them. Binaries come from $PATH, /usr/sbin and Debian's /usr/lib/postgresql/<version>/bin
(override with $COACHGYM_MARIADB_BIN / $COACHGYM_PG_BIN). This module never touches a server it
did not start.

Command line: `python -m coachgym.envs.database.servers mariadb` prints the URL and keeps the
server up until Ctrl-C, SIGTERM or SIGHUP, then removes it.
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

from coachgym.envs.cleanup import at_exit

START_TIMEOUT_S = 60.0
SETUP_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 30.0


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
    """A throwaway server and its folder: `url` for the env once started, `stop()` to remove both.

    `process` is whatever runs in the folder now: a setup command (initdb, mariadb-install-db)
    while starting, then the server.
    """

    def __init__(self, kind: str):
        self.kind = kind
        self.root = Path(tempfile.mkdtemp(prefix=f"coachgym-{kind}-"))
        self.log = self.root / "server.log"
        self.process: subprocess.Popen | None = None
        self.url = ""
        self._remove = at_exit(self._shut_down)

    def stop(self) -> None:
        """Stop the server (or the setup step running) and delete the folder; safe to call twice."""
        self._remove()

    def _shut_down(self) -> None:
        if self.process is not None and self.process.returncode is None:
            # PostgreSQL's fast shutdown is SIGINT; MariaDB (and the setup scripts) stop on SIGTERM.
            _signal_group(self.process, signal.SIGINT if self.kind == "postgres" else signal.SIGTERM)
            if not _reap(self.process, STOP_TIMEOUT_S):
                _signal_group(self.process, signal.SIGKILL)
                _reap(self.process, STOP_TIMEOUT_S)
        shutil.rmtree(self.root, ignore_errors=True)

    def spawn(self, command: list[str], **kwargs: Any) -> subprocess.Popen:
        """Start `command` in a process group of its own, output to the log, as this server's process."""
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                            **kwargs)
        return self.process

    def run(self, command: list[str], **kwargs: Any) -> None:
        """Run a setup command to the end; ServerUnavailable, with the log's end, when it fails."""
        process = self.spawn(command, **kwargs)
        try:
            code = process.wait(timeout=SETUP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            code = process.wait()
        if code != 0:
            raise ServerUnavailable(f"`{' '.join(command[:2])} ...` failed (exit {code}):\n{_tail(self.log)}")

    def __enter__(self) -> LocalServer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:
        pass  # already gone


def _reap(process: subprocess.Popen, timeout: float) -> bool:
    """Wait until `process` has exited; False if it still runs after `timeout` seconds.

    Polls waitpid itself rather than calling `process.wait()`: this runs in a signal handler too,
    which may have interrupted a `wait()` that holds the Popen's lock.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            pid, status = os.waitpid(process.pid, os.WNOHANG)
        except ChildProcessError:
            return True  # already reaped
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def _tail(log: Path, lines: int = 15) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _start(kind: str, setup: Callable[[LocalServer], Callable[[], None]]) -> LocalServer:
    """Make the folder, let `setup` initialise and spawn the server (it returns a readiness probe),
    wait until the probe passes; on any failure or interruption remove everything and re-raise."""
    server = LocalServer(kind)
    try:
        probe = setup(server)
        _wait_ready(server, probe)
    except BaseException:
        server.stop()
        raise
    return server


def _wait_ready(server: LocalServer, probe: Callable[[], None]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if server.process is None or server.process.poll() is not None:
            break
        try:
            probe()
            return
        except Exception as error:  # noqa: BLE001 - not up yet; retry until the deadline
            last_error = error
            time.sleep(0.1)
    raise ServerUnavailable(f"The {server.kind} server did not start ({last_error}); its log ends with:\n"
                            f"{_tail(server.log)}")


def start_mariadb() -> LocalServer:
    binaries = mariadb_binaries()
    if binaries is None:
        raise ServerUnavailable(missing_reason("mariadb") or "")
    server_bin, install_bin = binaries
    return _start("mariadb", lambda server: _setup_mariadb(server, server_bin, install_bin))


def _setup_mariadb(server: LocalServer, server_bin: str, install_bin: str) -> Callable[[], None]:
    root = server.root
    data, socket = root / "data", root / "mysqld.sock"
    as_root = ["--user=root"] if os.geteuid() == 0 else []
    install = [install_bin, "--no-defaults", f"--datadir={data}", "--auth-root-authentication-method=normal",
               "--skip-test-db", "--skip-name-resolve", *as_root]
    try:
        server.run(install)
    except ServerUnavailable:  # bootstrap can fail transiently on a starved machine: retry once, cleanly
        shutil.rmtree(data, ignore_errors=True)
        server.run(install)
    server.spawn(
        [server_bin, "--no-defaults", f"--datadir={data}", f"--socket={socket}", "--skip-networking",
         f"--pid-file={root / 'mysqld.pid'}", f"--log-error={server.log}", "--character-set-server=utf8mb4",
         "--collation-server=utf8mb4_general_ci", "--innodb-buffer-pool-size=32M", "--skip-log-bin",
         "--innodb-flush-log-at-trx-commit=0", "--innodb-file-per-table=0", "--innodb-flush-method=nosync",
         "--innodb-doublewrite=0", "--skip-name-resolve", "--max-connections=200", *as_root],
    )
    server.url = f"mysql://root@localhost/?socket={socket}"

    def probe() -> None:
        import pymysql

        pymysql.connect(unix_socket=str(socket), user="root", connect_timeout=2).close()

    return probe


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
    return _start("postgres", lambda server: _setup_postgres(server, bindir, account))


def _setup_postgres(server: LocalServer, bindir: Path, account: pwd.struct_passwd | None) -> Callable[[], None]:
    root = server.root
    data, sockets, log = root / "data", root / "sockets", server.log
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
    server.run([str(bindir / "initdb"), "-D", str(data), "-U", "coachgym", "-E", "UTF8", "--locale=C",
                "--auth=trust", "--no-sync"], **as_user)
    server.spawn(
        [str(bindir / "postgres"), "-D", str(data), "-k", str(sockets), "-c", "listen_addresses=",
         "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
         "-c", "shared_buffers=32MB", "-c", "max_connections=100", "-c", "logging_collector=off"],
        **as_user,
    )
    server.url = f"postgresql://coachgym@/coachgym?host={sockets}"

    def probe() -> None:
        import psycopg

        psycopg.connect(host=str(sockets), dbname="postgres", user="coachgym", connect_timeout=2).close()

    return probe


def start_server(kind: str) -> LocalServer:
    """Start a throwaway `mariadb` (also `mysql`) or `postgres` server."""
    kind = {"mysql": "mariadb", "postgresql": "postgres"}.get(kind, kind)
    if kind == "mariadb":
        return start_mariadb()
    if kind == "postgres":
        return start_postgres()
    raise ValueError(f"Unknown server kind {kind!r}; use mariadb or postgres.")


_SHARED: dict[str, LocalServer] = {}


def shared_server(kind: str) -> LocalServer:
    """One throwaway server of `kind` per process, started on first use and removed at exit: what
    envs that pick a server backend by default (DBBench on MariaDB) share."""
    if kind not in _SHARED:
        _SHARED[kind] = start_server(kind)
    return _SHARED[kind]


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
    try:  # SIGTERM/SIGHUP stop the server through `cleanup`, Ctrl-C through this `finally`
        assert server.process is not None
        server.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
