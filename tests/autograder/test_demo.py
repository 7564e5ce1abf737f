"""Plain nbgrader on the sample submissions: full marks, zero, and lost points where they belong."""

import pytest

from autograder import config, demo


@pytest.mark.slow
@pytest.mark.spread
@pytest.mark.parametrize("assignment", config.assignments())
def test_sample_submissions_score_as_expected(assignment, tmp_path):
    rows = demo.grade_samples([assignment], tmp_path / "course", workers=1)
    by_student = {}
    for student, notebook, score, max_score, _ in rows:
        by_student.setdefault(student, {})[notebook] = (score, max_score)
    assert set(by_student) == {"reference", "untouched", "mistakes"}
    for notebook, (score, max_score) in by_student["reference"].items():
        assert score == max_score, notebook
    for notebook, (score, max_score) in by_student["untouched"].items():
        assert score == 0, notebook
    for notebook, (score, max_score) in by_student["mistakes"].items():
        if max_score:
            assert score < max_score, notebook
