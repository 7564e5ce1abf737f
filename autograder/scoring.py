"""Score an executed notebook with nbgrader's own rule (nbgrader.utils.determine_grade)."""

from dataclasses import dataclass

import nbformat
from nbgrader.utils import determine_grade

from autograder.notebooks import grade_id


@dataclass(frozen=True)
class CellScore:
    grade_id: str
    points: float
    max_points: float
    message: str


def score_cells(notebook: nbformat.NotebookNode) -> dict[str, CellScore]:
    """Points for every autograded code cell of an executed notebook, keyed by grade_id."""
    scores = {}
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("grade") or meta.get("solution"):
            continue
        points, max_points = determine_grade(cell)
        scores[grade_id(cell)] = CellScore(grade_id(cell), float(points), float(max_points), _message(cell))
    return scores


def _message(cell) -> str:
    for output in cell.get("outputs", []):
        if output.output_type == "error":
            return f"{output.ename}: {output.evalue}"
        if output.output_type == "stream" and output.name == "stderr":
            return "wrote to stderr: " + output.text.strip().splitlines()[-1][:200] if output.text.strip() else "wrote to stderr"
    return ""
