"""AgentBench DBBench's table checksum, computed in Python from a table's rows.

DBBench scores INSERT/UPDATE tasks by a checksum of the final table, computed on MySQL as

    MD5 of GROUP_CONCAT(rowhash ORDER BY rowhash), where
    rowhash = first 5 hex digits of MD5(CONCAT_WS(',', every column in declared order))

and stored in the task files as the text of the driver's result, `[('<hex>',)]`. This module
reproduces that value exactly from rows fetched by any backend, so the stored `answer_md5`
verifies on SQLite and PostgreSQL too, without MySQL's functions. MySQL semantics kept:
CONCAT_WS skips NULLs; GROUP_CONCAT joins with "," and is cut to `group_concat_max_len`
(1024 bytes by default, the setting DBBench's hashes were made with); an empty table gives NULL.
It must stay a pure function of the rows: no database access here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

from coachgym.envs.database.schema import plain

GROUP_CONCAT_MAX_LEN = 1024


def mysql_text(value: Any) -> str:
    """How MySQL's CONCAT_WS renders a column value as text (exact for DBBench's TEXT columns)."""
    value = plain(value)
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def row_hash(row: Sequence[Any]) -> str:
    joined = ",".join(mysql_text(v) for v in row if v is not None)
    return hashlib.md5(joined.encode("utf-8")).hexdigest()[:5]


def table_md5(rows: Iterable[Sequence[Any]]) -> str | None:
    """MD5(GROUP_CONCAT(rowhash ORDER BY rowhash)) for one table; None for an empty table."""
    hashes = sorted(row_hash(row) for row in rows)
    if not hashes:
        return None
    joined = ",".join(hashes).encode("utf-8")[:GROUP_CONCAT_MAX_LEN]
    return hashlib.md5(joined).hexdigest()


def agentbench_md5(rows: Iterable[Sequence[Any]]) -> str:
    """The checksum as DBBench stores it in `answer_md5`: the repr of MySQL's result set."""
    return repr([(table_md5(rows),)])
