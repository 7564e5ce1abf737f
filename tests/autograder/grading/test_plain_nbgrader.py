"""Plain ``nbgrader autograde`` on the corpus's tricks, for comparison with our judge (the ``nbgrader`` column).

Each trick is a wrong answer (1 of 4 autograded points on its own) plus a trick run in the student's
kernel. Plain nbgrader runs tests in that kernel, so most tricks give it full marks; the judge gives
every one of them exactly the wrong answer's score (test_grading_corpus.py). This test measures the
column, so it cannot go stale.
"""

import subprocess
import sys

import pytest
from conftest import write_submissions

import grading_corpus
import tiny_course


@pytest.mark.slow
def test_plain_nbgrader_column_is_what_nbgrader_gives(tmp_path):
    course = tiny_course.make_course(tmp_path / "course")
    cases = [c for c in grading_corpus.cases(course, course / "submitted") if c.nbgrader]
    write_submissions(course / "submitted", cases)
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", tiny_course.ASSIGNMENT, "--force"],
                   cwd=course, capture_output=True, check=True)
    # A student who kills the kernel's parent kills plain nbgrader's whole batch, so those run alone.
    alone = [c.student for c in cases if c.student.startswith("k")]
    for pattern in ["[!k]*", *alone]:
        subprocess.run([sys.executable, "-m", "nbgrader", "autograde", tiny_course.ASSIGNMENT, "--force", f"--student={pattern}"],
                       cwd=course, capture_output=True)
    from nbgrader.api import Gradebook

    measured = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for case in cases:
            try:
                submission = gradebook.find_submission(tiny_course.ASSIGNMENT, case.student)
            except Exception:  # nbgrader could not grade it at all
                measured[case.student] = "not graded"
                continue
            points = sum(g.score for n in submission.notebooks for g in n.grades if g.auto_score is not None)
            measured[case.student] = f"{points:g}"
    print("\n".join(f"{student:32s} plain nbgrader {points}/4" for student, points in sorted(measured.items())))
    assert {c.student: c.nbgrader for c in cases} == measured
