"""Answer comparison and AgentBench's table checksum, as pure functions."""

import hashlib

from coachgym.envs.database.evaluate import answers_match, evaluate, tables_match
from coachgym.envs.database.tablehash import agentbench_md5, table_md5
from coachgym.envs.database.vocabulary import parse_answer_values


def test_single_values_compare_as_numbers_within_a_hundredth_else_as_exact_text():
    assert answers_match([2011], ["2011.0"]) and answers_match([0.3333], ["0.33"])
    assert not answers_match([0.35], ["0.33"])
    assert answers_match(["Ann"], ["Ann"]) and not answers_match(["ann"], ["Ann"])


def test_values_are_stripped_of_spaces_and_quotes():
    assert answers_match([" 'Ann' "], ["Ann"]) and answers_match(['"House of Cards"'], ["House of Cards"])


def test_percent_sign_and_thousands_commas_are_dropped():
    assert answers_match(["12%"], ["12"]) and answers_match(["1,174"], ["1174.0"])
    assert answers_match(["Smith, John"], ["Smith John"])  # AgentBench drops every comma


def test_no_value_spellings_read_as_zero():
    assert answers_match([None], ["none"]) and answers_match(["NULL"], ["0"]) and answers_match([""], ["nan"])
    assert not answers_match([], ["none"])  # an empty answer is not "no value"
    assert answers_match([], []) and answers_match(None, ["none"])


def test_several_values_compare_as_sets_unless_all_numeric():
    assert answers_match(["b", "a", "a"], ["a", "b"]) and not answers_match(["a"], ["a", "b"])
    assert not answers_match(["1", "a"], ["1.0", "a"])  # mixed: exact text, no tolerance
    assert answers_match([1.001, 2], ["2.0", "1"]) and not answers_match([1, 1], ["1"])  # numeric: multiset


def test_single_cell_rows_unwrap_and_multi_cell_rows_drop_as_in_agentbench():
    assert answers_match([("Dallas",), ("Ottawa",)], ["Ottawa", "Dallas"])
    assert answers_match([("Jo", "11"), ("Ann",)], ["Ann"])
    assert not answers_match(["Ann", ("Jo", "11")], ["Ann"])  # not all rows: the row counts as its text


def test_final_answer_text_is_parsed_never_evaluated():
    assert parse_answer_values("['a', 2]") == ["a", 2]
    assert parse_answer_values("__import__('os').system('touch /tmp/pwned')") == [
        "__import__('os').system('touch /tmp/pwned')"]
    assert parse_answer_values("") == []


def test_final_answer_text_is_a_list_only_when_bracketed():
    assert parse_answer_values("1,174") == ["1,174"] and parse_answer_values("'Ann'") == ["'Ann'"]
    assert parse_answer_values("[Ann, 'Smith, J']") == ["Ann", "Smith, J"]  # not a literal: split


def test_table_md5_matches_mysql_definition():
    rows = [("x", None, "1"), ("y", "2", "3")]
    hashes = sorted(hashlib.md5(s.encode()).hexdigest()[:5] for s in ["x,1", "y,2,3"])
    assert table_md5(rows) == hashlib.md5(",".join(hashes).encode()).hexdigest()
    assert agentbench_md5([]) == "[(None,)]"
    assert agentbench_md5(rows) == f"[('{table_md5(rows)}',)]"


def test_tables_match_reports_differences():
    ok, _ = tables_match([(1, 2.0), (3, "a")], [[3, "a"], [1, 2]])
    bad, detail = tables_match([(1, 2.5)], [[1, 2]])
    assert ok and not bad and "missing" in detail


def test_missing_table_is_a_failure_not_a_crash():
    def read(table, columns):
        raise LookupError(f"cannot read table {table!r}")

    result = evaluate({"kind": "table", "table": "gone", "expected_rows": []}, [], read)
    assert not result.success and "gone" in result.detail
