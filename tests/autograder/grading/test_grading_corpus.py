"""Every bad submission of the corpus gets the right score and status, in one batch that never aborts."""

import pytest
from conftest import statuses

import grading_corpus

CASES = [c.student for c in grading_corpus.cases(__import__("pathlib").Path("/course"), __import__("pathlib").Path("/submitted"))]


@pytest.mark.slow
@pytest.mark.parametrize("student", CASES)
def test_case_gets_its_status_and_score(graded_corpus, student):
    _, cases, results = graded_corpus
    case = next(c for c in cases if c.student == student)
    result = results[student]
    got = statuses(result)
    for grade_id, expected in case.expected.items():
        if expected is None:
            assert got[grade_id] != "passed", (grade_id, got)
        else:
            assert got[grade_id] == expected, (grade_id, got, [c.message for n in result.notebooks for c in n.cells])
    points = {c.grade_id: c.points for n in result.notebooks for c in n.cells}
    for grade_id, status in got.items():
        assert (status == "passed") == (points[grade_id] > 0), (grade_id, status, points)
    if case.note:
        assert any(case.note in note for n in result.notebooks for note in n.notes), result.notebooks[0].notes
    # No message the student sees holds the hidden tests' source.
    messages = " ".join(c.message for n in result.notebooks for c in n.cells)
    assert not any(text in messages for text in grading_corpus.HIDDEN_SOURCE), messages


@pytest.mark.slow
def test_no_other_student_is_touched(graded_corpus):
    run, _, results = graded_corpus
    victim = run.submissions / "reference" / "00-tiny" / "01-tiny.ipynb"
    assert victim.read_bytes().startswith(b"{\n")  # still the notebook, not the attacker's '{}'
    assert set(results) == set(CASES)
    assert results["reference"].score == results["reference"].max_score == 4
