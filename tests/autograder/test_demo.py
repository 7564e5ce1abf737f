"""Plain nbgrader on the sample submissions: full marks, zero, and lost points where they belong.

The demo's machinery runs here on two assignments: Lab 1 (written answers, widgets, SymPy) and Lab 3
(MLX, a hand-graded report). Whether every notebook's tests score the reference, the untouched release
and each recorded mistake right is check-tests' job (tests/autograder/test_checktests.py), for all four
labs; ``./course all`` runs the demo on all four.
"""

import pytest

from autograder import demo

ASSIGNMENTS = ("01-foundations", "03-mlx-vae-project")


@pytest.mark.slow
@pytest.mark.spread
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
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
