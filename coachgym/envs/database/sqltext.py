"""SQL as text: a small lexer for the two jobs the env needs before a statement reaches a server.

1. `statements` splits agent SQL on top-level semicolons (ignoring those inside strings, quoted
   names and comments), so the env can enforce "one statement per action" with a clear message
   on every backend instead of each driver's own error (or silent acceptance).
2. `from_mysql` rewrites MySQL-flavoured SQL (DBBench's gold SQL and the SQL models learn from it)
   for SQLite or PostgreSQL: backtick names, backslash escapes in strings, MySQL's double-quoted
   strings, (for PostgreSQL) the exact case of known table and column names and LIKE as the
   case-insensitive match it is under MySQL's default collation (ILIKE), and (for SQLite) a column
   compared with a number read as a number; it refuses, as MySQL does, what MySQL cannot parse.
`block` does both for one action's SQL.

It only rewrites tokens; it never executes, evaluates or interprets the SQL's meaning.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

_TOKEN_TEMPLATE = r"""
    (?P<space>\s+)
  | (?P<comment>--[^\n]*{hash}|/\*.*?(?:\*/|\Z))
  | (?P<single>'(?:[^'{bs}]{esc}|'')*(?:'|\Z))
  | (?P<double>"(?:[^"{bs}]{esc}|"")*(?:"|\Z))
  | (?P<backtick>`(?:[^`]|``)*(?:`|\Z))
  | (?P<word>[A-Za-z0-9_$\u0080-\uffff]+)
  | (?P<semi>;)
  | (?P<other>.)
"""
_TOKEN = re.compile(_TOKEN_TEMPLATE.format(bs="\\\\", esc="|\\\\.", hash="|\\#[^\\n]*"), re.VERBOSE | re.DOTALL)
# Standard SQL: a backslash inside a string is an ordinary character and # starts no comment.
_TOKEN_PLAIN = re.compile(_TOKEN_TEMPLATE.format(bs="", esc="", hash=""), re.VERBOSE | re.DOTALL)

_MYSQL_ESCAPES = {"0": "\0", "b": "\b", "n": "\n", "r": "\r", "t": "\t", "Z": "\x1a"}
_RESERVED = frozenset(
    "ADD ALL ALTER AND AS ASC BETWEEN BY CASE CREATE CROSS DEFAULT DELETE DESC DISTINCT DROP ELSE END "
    "EXISTS FALSE FROM GROUP HAVING IN INNER INSERT INTO IS JOIN KEY LEFT LIKE LIMIT NOT NULL OFFSET ON "
    "OR ORDER OUTER PRIMARY RIGHT SELECT SET TABLE THEN TRUE UNION UPDATE VALUES WHEN WHERE WITH".split()
)
# Reserved in MySQL 8.0 and MariaDB 10.11 but not in SQLite or PostgreSQL, and plausible as a
# column name: a bare one is a syntax error on MySQL, so the adapter refuses it too.
_MYSQL_ONLY_RESERVED = frozenset(
    "CHANGE CONDITION DIV INTERVAL KEYS LEADING LINES LOAD LOCK LONG MATCH MOD OPTION PURGE RANGE READ RELEASE "
    "RENAME REPEAT REPLACE REQUIRE RETURN SCHEMA SEPARATOR SHOW SPATIAL STARTING TRIGGER UNDO UNLOCK USAGE "
    "WRITE".split()
)
_TABLE_BEFORE_PARENTHESIS = frozenset({"INTO", "TABLE"})
# Operators as the token texts read them left to right (`<=` is `<` then `=`).
_COMPARISON = frozenset({"=", "<>", "!=", "<", "<=", ">", ">="})
_CLAUSES = frozenset({"SELECT", "FROM", "WHERE", "SET", "ON", "HAVING", "WHEN", "VALUES", "BY"})
SQLITE_NUMBER = "mysql_num"  # the SQLite function (backends/sqlite.py) doing MySQL's text-to-number reading
# Where MySQL expects a table name; a string there is a syntax error (SQLite would read it as the name).
_TABLE_POSITIONS = frozenset({"FROM", "JOIN", "INTO", "UPDATE", "TABLE"})
_NUMBER = re.compile(r"\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|0[xX][0-9a-fA-F]+")


class MySQLSyntaxError(ValueError):
    """The statement is not valid MySQL, so the adapter must not run it elsewhere."""


def tokens(sql: str, mysql: bool) -> Iterator[tuple[str, str]]:
    """(kind, text) pairs covering `sql` exactly."""
    pattern = _TOKEN if mysql else _TOKEN_PLAIN
    for match in pattern.finditer(sql):
        yield match.lastgroup or "other", match.group()


def statements(sql: str, mysql: bool) -> list[str]:
    """The non-empty statements in `sql`, each without its trailing semicolon."""
    found: list[str] = []
    current: list[str] = []
    meaningful = False
    for kind, text in tokens(sql, mysql):
        if kind == "semi":
            if meaningful:
                found.append("".join(current).strip())
            current, meaningful = [], False
            continue
        current.append(text)
        meaningful = meaningful or kind not in ("space", "comment")
    if meaningful:
        found.append("".join(current).strip())
    return found


def block(sql: str, target: str, names: dict[str, str], mysql_dialect: bool) -> list[str]:
    """The statements of one action's SQL for backend `target`, each adapted from MySQL when the
    task is written for MySQL (`mysql_dialect`) and the target is not MySQL itself."""
    found = statements(sql, mysql=mysql_dialect or target == "mysql")
    if mysql_dialect and target != "mysql":
        found = [from_mysql(statement, target, names) for statement in found]
    return found


def mysql_string_value(literal: str) -> str:
    """The value of a MySQL string literal ('...' or "..."), with MySQL's escapes applied."""
    quote, body = literal[0], literal[1:-1] if len(literal) > 1 and literal.endswith(literal[0]) else literal[1:]
    out: list[str] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char == "\\" and index + 1 < len(body):
            nxt = body[index + 1]
            # \% and \_ keep their backslash (they are LIKE escapes), as in MySQL.
            out.append(_MYSQL_ESCAPES.get(nxt, "\\" + nxt if nxt in "%_" else nxt))
            index += 2
            continue
        if char == quote and body[index + 1 : index + 2] == quote:
            index += 1
        out.append(char)
        index += 1
    return "".join(out)


def sql_string(value: str) -> str:
    """A standard SQL string literal (quotes doubled, no backslash escapes)."""
    return "'" + value.replace("'", "''") + "'"


def from_mysql(sql: str, target: str, names: dict[str, str] | None = None) -> str:
    """Rewrite MySQL-flavoured `sql` for `target` ("sqlite" or "postgres").

    `names` maps lower-cased known table/column names to their exact spelling. PostgreSQL folds
    bare names to lower case and reads double quotes as names, so there every known name is
    quoted with its exact case and a double-quoted text that is not a known name becomes the
    string it is in MySQL. A double-quoted text is always a string, as in MySQL (ANSI_QUOTES off).
    Raises `MySQLSyntaxError` for a known name that MySQL reserves but the target does not
    (`MIN(Release)`), which MySQL refuses.
    """
    names = names or {}
    parts = list(tokens(sql, mysql=True))
    out: list[str] = []
    for index, (kind, text) in enumerate(parts):
        if kind in ("single", "double") and _previous_word(parts, index) in _TABLE_POSITIONS:
            raise MySQLSyntaxError(f"Error: syntax error near {text[:60]}: a quoted string is no table name in MySQL; "
                                   "quote names with backticks.")
        if kind == "other" and text == "[":
            raise MySQLSyntaxError("Error: syntax error near '[': MySQL has no [bracketed] names; quote names "
                                   "with backticks.")
        if target == "sqlite" and kind in ("word", "backtick") and _compared_with_number(parts, index, names):
            out.append(f"{SQLITE_NUMBER}({_identifier(_name_of(kind, text))})")  # MySQL compares numbers here
        elif kind == "single":
            out.append(sql_string(mysql_string_value(text)))
        elif kind == "backtick":
            name = _name_of(kind, text)
            out.append(_identifier(names.get(name.lower(), name) if target == "postgres" else name))
        elif kind == "double":  # a string in MySQL (ANSI_QUOTES is off), even when it spells a name
            out.append(sql_string(mysql_string_value(text)))
        elif kind == "word" and target == "postgres" and text.upper() == "LIKE":
            out.append("ILIKE")  # MySQL's default collation makes LIKE case-insensitive
        elif kind == "word" and text.upper() in _MYSQL_ONLY_RESERVED and text.lower() in names:
            raise MySQLSyntaxError(f"Error: syntax error near '{text}': {text.upper()} is a reserved word in MySQL; "
                                   f"quote the name as `{text}`.")
        elif kind == "word" and _names_a_column(parts, index, names, target):
            out.append(_identifier(names.get(text.lower(), text)))
        elif kind == "comment" and text.startswith("#"):
            out.append("--" + text[1:])
        else:
            out.append(text)
    return "".join(out)


def _name_of(kind: str, text: str) -> str:
    if kind != "backtick":
        return text
    return text[1:-1].replace("``", "`") if text.endswith("`") and len(text) > 1 else text[1:]


def _meaningful(parts: list[tuple[str, str]], start: int, step: int) -> Iterator[str]:
    """Token texts from `start` towards `step` (+1 or -1), spaces and comments skipped."""
    index = start
    while 0 <= index < len(parts):
        if parts[index][0] not in ("space", "comment"):
            yield parts[index][1]
        index += step


def _compared_with_number(parts: list[tuple[str, str]], index: int, names: dict[str, str]) -> bool:
    """Whether the known column at `index` is compared with a number literal (`Points > 20`,
    `20 <= Points`, `Year = -1`), where MySQL converts the text to a number and SQLite would not."""
    if _name_of(*parts[index]).lower() not in names or _clause(parts, index) == "SET":  # SET x = 1 assigns
        return False
    for step in (1, -1):
        seen = list(itertools.islice(_meaningful(parts, index + step, step), 4))
        operator = "".join(itertools.takewhile(lambda t: t in ("<", ">", "=", "!"), seen))
        rest = seen[len(operator):]
        if step == 1 and rest[:1] in (["-"], ["+"]):
            rest = rest[1:]
        if (operator if step == 1 else operator[::-1]) in _COMPARISON and rest and _NUMBER.fullmatch(rest[0]):
            return True
    return False


def _clause(parts: list[tuple[str, str]], index: int) -> str:
    """The clause keyword the token at `index` belongs to (SET, WHERE, ...), upper-cased."""
    return next((t.upper() for k, t in reversed(parts[:index]) if k == "word" and t.upper() in _CLAUSES), "")


def _names_a_column(parts: list[tuple[str, str]], index: int, names: dict[str, str], target: str) -> bool:
    """Whether the bare word at `index` must be quoted to keep meaning a table or column."""
    text = parts[index][1]
    if _NUMBER.fullmatch(text) or text.upper() in _RESERVED:
        return False
    if text[0].isdigit():
        return True  # MySQL allows bare names such as 1952_results; the others do not
    if target != "postgres" or text.lower() not in names:
        return False
    following = next((t for k, t in parts[index + 1 :] if k not in ("space", "comment")), "")
    if following != "(":
        return True
    # COUNT(...) is a function even when a column is called Count, but in `INSERT INTO Medalists (...)`
    # and `CREATE TABLE t (...)` the word before the parenthesis is the table.
    return _previous_word(parts, index) in _TABLE_BEFORE_PARENTHESIS


def _previous_word(parts: list[tuple[str, str]], index: int) -> str:
    """The token before `index` (spaces and comments skipped), upper-cased."""
    return next((t for k, t in reversed(parts[:index]) if k not in ("space", "comment")), "").upper()


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
