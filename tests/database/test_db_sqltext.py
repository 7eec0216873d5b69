"""The SQL lexer: statement splitting and the MySQL-to-SQLite/PostgreSQL rewrite."""

from coachgym.envs.database.sqltext import from_mysql, statements


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
