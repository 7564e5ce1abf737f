"""Fixtures for the grading tests: the tiny course, and the whole corpus graded once per session."""

import sys
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the corpus and course helpers beside this file

import grading_corpus  # noqa: E402
import tiny_course  # noqa: E402

from autograder.grading import layout, pipeline  # noqa: E402

# Tight limits keep the corpus fast; the memory limit is well under what the memory bomb asks for.
LIMITS = layout.Limits(cell_timeout=5, notebook_timeout=40, memory_mb=1024, max_processes=128)


def write_submissions(submissions: Path, cases) -> None:
    for case in cases:
        folder = submissions / case.student / tiny_course.ASSIGNMENT
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in case.files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(data)


@pytest.fixture(scope="session")
def graded_corpus(tmp_path_factory):
    """The corpus graded in one batch on the local pool: (run, cases, results by student)."""
    root = tmp_path_factory.mktemp("corpus")
    course = tiny_course.make_course(root / "course")
    submissions = course / "submitted"
    cases = grading_corpus.cases(course, submissions)
    write_submissions(submissions, cases)
    run = pipeline.Run(tiny_course.ASSIGNMENT, course, submissions, root / "out", LIMITS, workers=2)
    results = pipeline.grade(run, progress=False)
    return run, cases, {r.student: r for r in results}


def statuses(result) -> dict[str, str]:
    return {c.grade_id: c.status for n in result.notebooks for c in n.cells}


def reference_bytes() -> bytes:
    return nbformat.writes(tiny_course.reference()).encode()
