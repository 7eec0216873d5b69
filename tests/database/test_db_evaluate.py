"""Answer comparison and AgentBench's table checksum, as pure functions."""

import hashlib

from coachgym.envs.database.evaluate import answers_match, evaluate, tables_match
from coachgym.envs.database.tablehash import agentbench_md5, table_md5
from coachgym.envs.database.vocabulary import parse_answer_values


def test_answers_as_sets_with_numeric_tolerance_and_dbbench_conventions():
    assert answers_match(["b", "a"], ["a", "b"])
    assert answers_match([2011], ["2011.0"]) and answers_match(["1,174"], ["1174.0"])
    assert answers_match([0.3333], ["0.33"]) and not answers_match([0.35], ["0.33"])
    assert answers_match([], ["none"]) and answers_match([None], ["none"])
    assert not answers_match(["a"], ["a", "b"]) and not answers_match([], ["a"])
    assert answers_match([("Dallas",), ("Ottawa",)], ["Ottawa", "Dallas"])


def test_final_answer_text_is_parsed_never_evaluated():
    assert parse_answer_values("['a', 2]") == ["a", 2]
    assert parse_answer_values("__import__('os').system('touch /tmp/pwned')") == [
        "__import__('os').system('touch /tmp/pwned')"]
    assert parse_answer_values("") == []


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
