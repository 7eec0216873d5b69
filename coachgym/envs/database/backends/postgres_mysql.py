"""MySQL's text-to-number conversion for DBBench tables on PostgreSQL, as SQL objects.

DBBench builds every column as TEXT on MySQL, where `Points > 20`, `Year = 2001`, `SUM(Points)`
and `Points + 1` convert the text to a number (its leading numeric part, else 0, as a double).
PostgreSQL has no such operators and refuses (`operator does not exist: text = integer`).
Keeping the columns TEXT (so stored values, ORDER BY and the MD5 table checksum stay as on
MySQL) and adding the missing operators and aggregates reproduces MySQL's results instead.

Text equality follows MySQL's default collation too: `=` and `<>` between texts ignore case,
accents and trailing spaces (`'Montreal' = 'Montréal'`), through the `unaccent` extension when
the server has it (else case and trailing spaces only). Order (`<`, `ORDER BY`, `MAX`) and
GROUP BY keep PostgreSQL's text rules.

They live in one schema, `mysql_compat`, owned by the admin and readable by every role: MySQL-
dialect episodes put it on their search path before pg_catalog (so its `=`/`<>` for two texts
win over the built-in ones), other episodes never see it. The objects are plain SQL functions
(no SECURITY DEFINER), so they run with the caller's rights; operators for type pairs
PostgreSQL already has are not redefined.
"""

from __future__ import annotations

import hashlib

import psycopg

SCHEMA = "mysql_compat"
_NUM = f"{SCHEMA}.num"
# MySQL reads the longest numeric prefix of a text (after leading spaces); no prefix reads as 0.
_NUM_BODY = (r"SELECT coalesce(substring($1 from '^\s*([-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)')::float8, 0)")
# PostgreSQL reads != as <>, so <> covers both.
_COMPARISONS = {"=": "eq", "<>": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}
_ARITHMETIC = {"+": "add", "-": "sub", "*": "mul", "/": "div"}
# Operand pairs PostgreSQL lacks: text with a number (integers reach numeric by implicit cast).
_PAIRS = {"tn": ("text", "numeric"), "nt": ("numeric", "text")}
_ARITHMETIC_PAIRS = {**_PAIRS, "tt": ("text", "text")}


def _as_double(arg: str, kind: str) -> str:
    return f"{_NUM}({arg})" if kind == "text" else f"{arg}::float8"


def _operator(symbol: str, name: str, left: str, right: str, tag: str) -> list[str]:
    a, b = _as_double("$1", left), _as_double("$2", right)
    if symbol == "/":  # MySQL: division by zero is NULL, and 1/3 is 0.3333, never integer division
        body, returns = f"SELECT {a} / NULLIF({b}, 0)", "float8"
    elif symbol in _ARITHMETIC:
        body, returns = f"SELECT {a} {symbol} {b}", "float8"
    else:
        body, returns = f"SELECT {a} {symbol} {b}", "boolean"
    function = f"{SCHEMA}.{name}_{tag}"
    return [
        f"CREATE OR REPLACE FUNCTION {function}({left}, {right}) RETURNS {returns} LANGUAGE sql IMMUTABLE "
        f"PARALLEL SAFE AS $f${body}$f$",
        f"CREATE OPERATOR {SCHEMA}.{symbol} (LEFTARG = {left}, RIGHTARG = {right}, FUNCTION = {function})",
    ]


def _text_equality(accents: bool) -> list[str]:
    """`=` and `<>` for two texts under MySQL's default collation (case-, accent- and pad-insensitive)."""
    folded = "lower(rtrim({}, ' '))"
    if accents:
        folded = f"lower(rtrim({SCHEMA}.unaccent('{SCHEMA}.unaccent'::regdictionary, {{}}), ' '))"
    ddl = []
    for symbol, name in (("=", "eq"), ("<>", "ne")):
        function = f"{SCHEMA}.{name}_tt"
        ddl += [f"CREATE FUNCTION {function}(text, text) RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE "
                f"AS $f$SELECT {folded.format('$1')} OPERATOR(pg_catalog.{symbol}) {folded.format('$2')}$f$",
                f"CREATE OPERATOR {SCHEMA}.{symbol} (LEFTARG = text, RIGHTARG = text, FUNCTION = {function})"]
    return ddl


def statements(accents: bool = True) -> list[str]:
    """The DDL that (re)builds the schema, in order; `accents`: the `unaccent` extension is available."""
    ddl = [
        f"CREATE SCHEMA {SCHEMA}",
        f"GRANT USAGE ON SCHEMA {SCHEMA} TO PUBLIC",
        *([f"CREATE EXTENSION unaccent SCHEMA {SCHEMA}"] if accents else []),
        f"CREATE FUNCTION {_NUM}(text) RETURNS float8 LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE "
        f"AS $f${_NUM_BODY}$f$",
        # SUM/AVG of a text column: numbers as above, NULLs skipped, NULL when no value was seen.
        f"CREATE FUNCTION {SCHEMA}.sum_step(float8, text) RETURNS float8 LANGUAGE sql IMMUTABLE PARALLEL SAFE "
        f"AS $f$SELECT CASE WHEN $2 IS NULL THEN $1 ELSE coalesce($1, 0) + {_NUM}($2) END$f$",
        f"CREATE AGGREGATE {SCHEMA}.sum(text) (SFUNC = {SCHEMA}.sum_step, STYPE = float8)",
        f"CREATE FUNCTION {SCHEMA}.avg_step(float8[], text) RETURNS float8[] LANGUAGE sql IMMUTABLE "
        f"PARALLEL SAFE AS $f$SELECT CASE WHEN $2 IS NULL THEN $1 ELSE float8_accum($1, {_NUM}($2)) END$f$",
        f"CREATE AGGREGATE {SCHEMA}.avg(text) (SFUNC = {SCHEMA}.avg_step, STYPE = float8[], "
        "FINALFUNC = float8_avg, INITCOND = '{0,0,0}')",
    ]
    for symbol, name in _COMPARISONS.items():
        for tag, (left, right) in _PAIRS.items():
            ddl += _operator(symbol, name, left, right, tag)
    for symbol, name in _ARITHMETIC.items():
        for tag, (left, right) in _ARITHMETIC_PAIRS.items():
            ddl += _operator(symbol, name, left, right, tag)
    return ddl + _text_equality(accents)


def version(accents: bool) -> str:
    return hashlib.sha256("\n".join(statements(accents)).encode()).hexdigest()[:16]


def install(admin: psycopg.Connection) -> None:
    """Build the schema unless this version is already there (safe with concurrent installers)."""
    with admin.transaction():
        admin.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (SCHEMA,))
        found = admin.execute(
            "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = %s", (SCHEMA,)).fetchone()
        # unaccent must be installable here, and not already installed in another schema
        accents = admin.execute(
            "SELECT EXISTS (SELECT FROM pg_available_extensions WHERE name = 'unaccent') AND NOT EXISTS "
            "(SELECT FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
            "WHERE e.extname = 'unaccent' AND n.nspname <> %s)", (SCHEMA,)).fetchone()[0]
        wanted = version(accents)
        if found is not None and found[0] == wanted:
            return
        admin.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        for statement in statements(accents):
            admin.execute(statement)
        admin.execute(f"COMMENT ON SCHEMA {SCHEMA} IS '{wanted}'")
