"""Text twin (jupytext percent format) to nbgrader source notebook.

A twin carries only the nbgrader keys that say what a cell is; the build fills in the rest, so the
twin stays readable:

    # %% nbgrader={"grade_id": "standard-normal-kl", "solution": true}           a TODO cell
    # %% nbgrader={"grade_id": "standard-normal-kl-visible", "points": 3}         a test cell
    # %% [markdown] nbgrader={"grade_id": "insight-q1", "solution": true, "points": 2}   a written answer

A cell with points is graded; a graded cell without ``solution`` is a locked test cell.
"""

from pathlib import Path

import jupytext
import nbformat

from autograder import config

NBGRADER_KEYS = {"grade_id", "solution", "points", "locked", "task", "grade"}


class TwinError(ValueError):
    """A twin whose nbgrader metadata is inconsistent."""


def read_twin(path: Path) -> nbformat.NotebookNode:
    """Read a twin and return the nbgrader source notebook it describes."""
    notebook = jupytext.read(path, fmt="py:percent")
    notebook.metadata = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": config.KERNEL_NAME},
        "language_info": {"name": "python"},
    }
    seen: set[str] = set()
    for index, cell in enumerate(notebook.cells):
        cell.metadata.pop("lines_to_next_cell", None)
        if "nbgrader" in cell.metadata:
            cell.metadata["nbgrader"] = _full_metadata(cell.metadata["nbgrader"], path, index)
            grade_id = cell.metadata["nbgrader"]["grade_id"]
            if grade_id in seen:
                raise TwinError(f"{path.name}: grade_id {grade_id!r} is used twice")
            seen.add(grade_id)
            cell.id = grade_id
        else:
            cell.id = f"cell-{index:03d}"
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nbformat.validate(notebook)
    return notebook


def _full_metadata(short: dict, path: Path, index: int) -> dict:
    unknown = set(short) - NBGRADER_KEYS
    if unknown or "grade_id" not in short:
        raise TwinError(f"{path.name}, cell {index}: nbgrader needs a grade_id and only {sorted(NBGRADER_KEYS)}")
    solution = bool(short.get("solution", False))
    grade = "points" in short
    full = {
        "grade": grade,
        "grade_id": short["grade_id"],
        "locked": bool(short.get("locked", not solution)),
        "schema_version": 3,
        "solution": solution,
        "task": False,
    }
    if grade:
        full["points"] = short["points"]
    return full


def write_source(twin: Path, target: Path) -> None:
    """Build one source notebook from its twin."""
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(read_twin(twin), target)
