"""End to end on the real 01-foundations: the reference gets full marks, the untouched release zero."""

import nbformat
import pytest

from autograder import checktests, config, release
from autograder.grading import layout, pipeline

ASSIGNMENT = "01-foundations"


@pytest.mark.slow
def test_reference_and_untouched_submissions(tmp_path):
    course = release.make_course(tmp_path / "course", [ASSIGNMENT])
    for path in sorted((config.SOURCE / ASSIGNMENT).glob("*.ipynb")):
        source = nbformat.read(path, as_version=4)
        for student, notebook in (("reference", checktests.reference(source)), ("untouched", checktests.untouched(source))):
            target = course / "submitted" / student / ASSIGNMENT / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(notebook, target)
    run = pipeline.Run(ASSIGNMENT, course, course / "submitted", tmp_path / "out", layout.Limits(), workers=2)
    results = {r.student: r for r in pipeline.grade(run, progress=False)}
    reference, untouched = results["reference"], results["untouched"]
    failing = [(n.name, c.grade_id, c.message) for n in reference.notebooks for c in n.cells if c.status != "passed"]
    assert not failing
    assert reference.score == reference.max_score > 0
    assert untouched.score == 0
    assert {c.status for n in untouched.notebooks for c in n.cells} <= {"error", "failed"}
