"""The SQL lexer: statement splitting and the MySQL-to-SQLite/PostgreSQL rewrite."""

import pytest

from coachgym.envs.database.sqltext import MySQLSyntaxError, from_mysql, statements


def test_statements_ignore_semicolons_in_strings_names_and_comments():
    assert statements("SELECT ';' FROM `a;b` -- x;\n;", mysql=True) == ["SELECT ';' FROM `a;b` -- x;"]
    assert statements("SELECT 1;  ;\n SELECT 2;", mysql=False) == ["SELECT 1", "SELECT 2"]
    assert statements("  -- only a comment\n;", mysql=False) == []


def test_backslash_escapes_only_in_mysql():
    text = r"SELECT 'a\'; DROP TABLE t; --'"
    assert len(statements(text, mysql=True)) == 1
    assert len(statements(text, mysql=False)) == 2


def test_rewrite_for_postgres_keeps_case_strings_and_functions():
    names = {"year": "Year", "count": "Count", "t a": "T a"}
    out = from_mysql(r"""SELECT COUNT(*), Year FROM `T a` WHERE Count = "Women's" AND x = 'a\nb' # c""",
                     "postgres", names)
    assert out == 'SELECT COUNT(*), "Year" FROM "T a" WHERE "Count" = \'Women\'\'s\' AND x = \'a\nb\' -- c'


def test_rewrite_for_sqlite_quotes_names_starting_with_digits():
    out = from_mysql("INSERT INTO 1952_race (Pos) VALUES (22)", "sqlite")
    assert out == 'INSERT INTO "1952_race" (Pos) VALUES (22)'


def test_rewrite_for_postgres_quotes_a_table_before_its_column_list():
    names = {"medalists": "Medalists", "medal": "Medal", "count": "Count"}
    text = "INSERT INTO Medalists (Medal, Count) SELECT COUNT(Medal), Count (x) FROM Medalists"
    out = from_mysql(text, "postgres", names)
    assert out == 'INSERT INTO "Medalists" ("Medal", "Count") SELECT COUNT("Medal"), Count (x) FROM "Medalists"'


def test_rewrite_for_postgres_makes_like_case_insensitive_as_in_mysql():
    out = from_mysql("SELECT 'like' FROM t WHERE a NOT like '%x%' AND `like` = 1", "postgres", {"like": "Like"})
    assert out == """SELECT 'like' FROM t WHERE a NOT ILIKE '%x%' AND "Like" = 1"""
    assert from_mysql("SELECT a FROM t WHERE a LIKE 'x'", "sqlite") == "SELECT a FROM t WHERE a LIKE 'x'"


def test_rewrite_for_sqlite_reads_a_column_compared_with_a_number_as_mysql_does():
    names = {"points": "Points", "year": "Year", "t": "t"}
    out = from_mysql("UPDATE t SET Points = 5 WHERE `Year`=2001 AND 20 <= Points AND Points <> '3' AND Year > -1",
                     "sqlite", names)
    assert out == ("UPDATE t SET Points = 5 WHERE mysql_num(\"Year\")=2001 AND 20 <= mysql_num(\"Points\") "
                   "AND Points <> '3' AND mysql_num(\"Year\") > -1")


def test_rewrite_refuses_what_mysql_refuses():
    names = {"release": "Release", "t": "t"}
    for sql in ("SELECT [x] FROM t", 'SELECT x FROM "t"', "SELECT MIN(Release) FROM t"):
        for target in ("sqlite", "postgres"):
            with pytest.raises(MySQLSyntaxError):
                from_mysql(sql, target, names)
    assert from_mysql('SELECT "t" FROM t WHERE x = "a"', "postgres", names) == "SELECT 't' FROM \"t\" WHERE x = 'a'"
