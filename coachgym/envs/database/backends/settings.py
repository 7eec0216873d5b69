"""Connection settings for a database server, read from one URL.

`mysql://user:password@host:3306/` or `postgresql://user:password@host:5432/database`; a unix
socket is given as `?socket=/path/to/mysqld.sock` (MySQL) or `?host=/socket/dir` (PostgreSQL).
The user is the *admin* account the env uses to create one database/schema and one restricted
user per episode (MySQL: CREATE, DROP, CREATE USER and GRANT OPTION; PostgreSQL: CREATEROLE and
CREATE on the database); agent SQL never runs as this user.
"""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

from pydantic import BaseModel


class ServerSettings(BaseModel):
    scheme: str
    host: str | None = None
    port: int | None = None
    socket: str | None = None
    user: str
    password: str = ""
    database: str | None = None

    @classmethod
    def from_url(cls, url: str) -> ServerSettings:
        parts = urlsplit(url)
        scheme = parts.scheme.split("+")[0].lower()
        if scheme not in ("mysql", "mariadb", "postgres", "postgresql"):
            raise ValueError(f"Unsupported database URL scheme {parts.scheme!r} in {cls.redact(url)}; "
                             f"use mysql://... or postgresql://...")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        socket = query.get("socket") or (query.get("host") if (query.get("host") or "").startswith("/") else None)
        return cls(
            scheme="mysql" if scheme in ("mysql", "mariadb") else "postgres",
            host=parts.hostname,
            port=parts.port,
            socket=socket,
            user=unquote(parts.username or ("root" if scheme in ("mysql", "mariadb") else "postgres")),
            password=unquote(parts.password or ""),
            database=unquote(parts.path.lstrip("/")) or None,
        )

    @staticmethod
    def redact(url: str) -> str:
        parts = urlsplit(url)
        if parts.password:
            return url.replace(f":{parts.password}@", ":***@")
        return url

    @staticmethod
    def example(kind: str) -> str:
        if kind == "mysql":
            return "mysql://admin:secret@127.0.0.1:3306/"
        return "postgresql://admin:secret@127.0.0.1:5432/coachgym"

    def where(self) -> str:
        """Where the server is, for error messages (never includes the password)."""
        return self.socket or f"{self.host or 'localhost'}:{self.port or ''}"
