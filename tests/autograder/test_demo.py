"""Plain nbgrader on the sample submissions: full marks, zero, and lost points where they belong."""

import pytest

from autograder import config, demo


@pytest.mark.slow
def test_sample_submissions_score_as_expected(tmp_path):
    rows = demo.grade_samples(config.assignments(), tmp_path / "course")
    by_student = {}
    for student, notebook, score, max_score, _ in rows:
        by_student.setdefault(student, {})[notebook] = (score, max_score)
    for notebook, (score, max_score) in by_student["reference"].items():
        assert score == max_score, notebook
    for notebook, (score, max_score) in by_student["untouched"].items():
        assert score == 0, notebook
    for notebook, (score, max_score) in by_student["mistakes"].items():
        if max_score:
            assert score < max_score, notebook
