"""Tables as data: the one description every backend turns into DDL and rows.

A task's world is a list of `Table`s (name, typed columns, rows). Each backend maps the portable
column types to its own DDL through `column_ddl`, so the same task builds the same world on
SQLite, MariaDB and PostgreSQL. `plain` turns whatever a driver returns (Decimal, date,
timedelta, bytes) into JSON-able Python values, so observations, answers and evaluators compare
like with like across backends. This module must not talk to a database.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel

ColumnType = Literal["int", "decimal", "float", "text", "date"]
Backend = Literal["sqlite", "mysql", "postgres"]

_DDL: dict[str, dict[str, str]] = {
    "sqlite": {"int": "INTEGER", "decimal": "NUMERIC", "float": "REAL", "text": "TEXT", "date": "TEXT"},
    "mysql": {"int": "BIGINT", "decimal": "DECIMAL(14,2)", "float": "DOUBLE", "text": "TEXT", "date": "DATE"},
    "postgres": {"int": "BIGINT", "decimal": "NUMERIC(14,2)", "float": "DOUBLE PRECISION", "text": "TEXT",
                 "date": "DATE"},
}

# Applied to every text column of a MySQL-dialect task (DBBench) on SQLite, so comparisons follow
# MySQL's default case- and accent-insensitive, trailing-space-padded collation.
MYSQL_COLLATION = "mysql_ci"


class Column(BaseModel):
    name: str
    type: ColumnType = "text"
    primary_key: bool = False


class Table(BaseModel):
    """One table of a task's world; `rows` hold plain JSON values in column order."""

    name: str
    columns: list[Column]
    rows: list[list[Any]] = []

    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def quote(backend: Backend, name: str) -> str:
    """Quote an identifier for `backend` (names may hold spaces, quotes and punctuation)."""
    if backend == "mysql":
        return "`" + name.replace("`", "``") + "`"
    return '"' + name.replace('"', '""') + '"'


def column_ddl(backend: Backend, column: Column, mysql_dialect: bool = False) -> str:
    ddl = f"{quote(backend, column.name)} {_DDL[backend][column.type]}"
    if backend == "sqlite" and mysql_dialect and column.type == "text":
        ddl += f" COLLATE {MYSQL_COLLATION}"
    if column.primary_key:
        ddl += " PRIMARY KEY"
    return ddl


def create_table_sql(backend: Backend, table: Table, mysql_dialect: bool = False) -> str:
    columns = ", ".join(column_ddl(backend, c, mysql_dialect) for c in table.columns)
    return f"CREATE TABLE {quote(backend, table.name)} ({columns})"


def insert_sql(backend: Backend, table: Table) -> str:
    """A parameterised INSERT for one row (placeholders in the driver's style)."""
    names = ", ".join(quote(backend, c) for c in table.column_names())
    text = f"INSERT INTO {quote(backend, table.name)} ({names}) VALUES "
    if backend == "sqlite":
        return text + f"({', '.join(['?'] * len(table.columns))})"
    # pymysql and psycopg read % as a placeholder marker, also inside quoted names such as `Share (%)`.
    return text.replace("%", "%%") + f"({', '.join(['%s'] * len(table.columns))})"


def plain(value: Any) -> Any:
    """A driver value as a JSON-able Python value that reads the same on every backend."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            return str(value)
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        seconds = int(value.total_seconds())
        sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
        return f"{sign}{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", errors="replace")
    return str(value)


def plain_row(row: Any) -> tuple:
    return tuple(plain(v) for v in row)
