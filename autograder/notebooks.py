"""Small edits on nbgrader notebooks: find cells by grade_id, fill in or replace a solution."""

import re
from functools import cache

import nbformat
from nbgrader.preprocessors import ClearSolutions
from traitlets.config.loader import PyFileConfigLoader

from autograder import config

SOLUTION_MARKER = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")
HIDDEN_REGION = re.compile(r"^\s*### BEGIN HIDDEN TESTS\s*$.*?^\s*### END HIDDEN TESTS\s*$\n?", re.M | re.S)


def grade_id(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def cells_by_id(notebook: nbformat.NotebookNode) -> dict:
    return {grade_id(c): c for c in notebook.cells if grade_id(c)}


def solution_ids(notebook: nbformat.NotebookNode) -> list[str]:
    """grade_ids of the code cells a student fills in, in notebook order."""
    return [
        grade_id(c)
        for c in notebook.cells
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")
    ]


def strip_solution_markers(source: str) -> str:
    """A source cell as a student who wrote the reference solution would leave it."""
    return "\n".join(line for line in source.splitlines() if not SOLUTION_MARKER.match(line))


def strip_hidden_tests(source: str) -> str:
    return HIDDEN_REGION.sub("", source)


def replace_cell(notebook: nbformat.NotebookNode, cell_id: str, source: str) -> nbformat.NotebookNode:
    """A copy of ``notebook`` with the cell ``cell_id`` holding ``source``."""
    changed = nbformat.from_dict(notebook)
    cell = cells_by_id(changed).get(cell_id)
    if cell is None:
        raise KeyError(f"no cell with grade_id {cell_id!r}")
    cell.source = source
    return changed


def reference_submission(source_notebook: nbformat.NotebookNode, release_notebook: nbformat.NotebookNode):
    """The release notebook with every answer cell filled in with the reference solution."""
    solutions = cells_by_id(source_notebook)
    filled = nbformat.from_dict(release_notebook)
    for cell in filled.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            cell.source = strip_solution_markers(solutions[meta["grade_id"]].source)
    return filled


@cache
def _course_config():
    return PyFileConfigLoader(config.NBGRADER_CONFIG.name, path=str(config.REPO)).load_config()


def clear_solutions(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy with every solution replaced by the course's stub, by nbgrader's own ClearSolutions."""
    cleared, _ = ClearSolutions(config=_course_config()).preprocess(nbformat.from_dict(notebook), {"language": "python"})
    return cleared
