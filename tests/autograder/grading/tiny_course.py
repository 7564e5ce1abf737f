"""A tiny nbgrader course for the grading tests: one notebook, two answers, three autograded cells.

Small on purpose: each sandboxed run costs a kernel start and nothing more. It does not import torch
(2-3 s a kernel); its locked helper compares numbers as numbers, as labkit.checks does, and the
end-to-end test on 01-foundations covers labkit itself.
"""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder import checktests, config, release

ASSIGNMENT = "00-tiny"
HELPER = """import math

def check_number(value, expected, name):
    # Numbers as numbers: an object whose __eq__ always says True is not a float.
    if type(value) not in (int, float):
        raise AssertionError(f"{name} should be a number, got {type(value).__name__}")
    if not math.isclose(float(value), expected, rel_tol=1e-9, abs_tol=1e-12):
        raise AssertionError(f"{name} is off by {abs(float(value) - expected):.3g}")
"""
NOTEBOOK = "01-tiny.ipynb"
MAX_SCORE = 4.0


def _cell(source: str, grade_id: str | None = None, *, solution=False, grade=False, locked=False, points=0, markdown=False):
    cell = (new_markdown_cell if markdown else new_code_cell)(source)
    if grade_id:
        meta = {"grade_id": grade_id, "solution": solution, "grade": grade, "locked": locked, "schema_version": 3}
        if grade:
            meta["points"] = points
        cell.metadata["nbgrader"] = meta
    return cell


def source_notebook() -> nbformat.NotebookNode:
    """The instructor's notebook, with solutions and hidden tests."""
    cells = [
        _cell("# A tiny lab", markdown=True),
        _cell(HELPER, "setup", locked=True),
        _cell("def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION", "double", solution=True),
        _cell('check_number(double(1.5), 3.0, "double(1.5)")', "double-visible", grade=True, locked=True, points=1),
        _cell(
            "# Hidden tests for double run when your notebook is graded.\n### BEGIN HIDDEN TESTS\n"
            'for x in (0.0, -2.0, 7.25):\n    check_number(double(x), 2 * x, f"double({x})")\n### END HIDDEN TESTS',
            "double-hidden", grade=True, locked=True, points=2,
        ),
        _cell("def mean(xs):\n    ### BEGIN SOLUTION\n    return sum(xs) / len(xs)\n    ### END SOLUTION", "mean", solution=True),
        _cell(
            "# Hidden tests for mean.\n### BEGIN HIDDEN TESTS\n"
            'check_number(mean([1.0, 2.0, 6.0]), 3.0, "mean")\n### END HIDDEN TESTS',
            "mean-hidden", grade=True, locked=True, points=1,
        ),
        _cell("### BEGIN SOLUTION\nBecause.\n### END SOLUTION", "why", solution=True, grade=True, points=1, markdown=True),
    ]
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": config.KERNEL_NAME, "display_name": "Python 3", "language": "python"}
    return notebook


def make_course(root: Path) -> Path:
    """Write the course: nbgrader_config.py and source/00-tiny/01-tiny.ipynb; return its folder."""
    course = release.make_course(root, [])
    target = course / "source" / ASSIGNMENT / NOTEBOOK
    target.parent.mkdir(parents=True)
    nbformat.write(source_notebook(), target)
    return course


def reference() -> nbformat.NotebookNode:
    """The right answers, as a student hands them in: no solution markers, no hidden tests."""
    notebook = checktests.reference(source_notebook())
    for cell in notebook.cells:
        cell.source = cell.source.split("### BEGIN HIDDEN TESTS")[0]
    return notebook


def untouched() -> nbformat.NotebookNode:
    """The release as handed out: every answer a stub."""
    notebook = checktests.untouched(source_notebook())
    for cell in notebook.cells:
        cell.source = cell.source.split("### BEGIN HIDDEN TESTS")[0]
    return notebook
