"""Turn what a student handed in into the notebook to grade, as nbgrader's sanitize step would, but sturdier.

The graded cells and every locked cell come from the instructor's source notebook, by grade_id, in
source order, with the hidden tests (nbgrader's OverwriteCells, with add_missing_cells on). The
student's answers and the cells they added are kept, each added cell after the graded cell it followed.
This one rule covers deleted, duplicated (#1083), reordered and retyped (#1941) cells: the student
cannot change what is tested, only the answers. Nothing here judges the student's code: the judge
(autograder/judge) runs the tests where that code cannot reach them.
"""

import copy
from dataclasses import dataclass, field

import nbformat
from nbgrader import utils as nbutils

from autograder import notebooks


@dataclass
class Normalized:
    """The notebook to run, or why there is none.

    Args:
        notebook: the notebook to run, or None when the submission cannot be graded.
        status: ``missing`` or ``tampered`` (not a readable notebook) when every graded cell gets 0
            without running, else None.
        message: why, for the student and the instructor.
        notes: what was repaired, e.g. ``restored deleted cell double-hidden``.
    """

    notebook: nbformat.NotebookNode | None
    status: str | None = None
    message: str = ""
    notes: list[str] = field(default_factory=list)


def graded_cells(source: nbformat.NotebookNode) -> list[tuple[str, float]]:
    """(grade_id, points) of every autograded cell of a source notebook, in order."""
    return [
        (notebooks.grade_id(c), float(c.metadata["nbgrader"].get("points", 0)))
        for c in source.cells
        if c.cell_type == "code" and nbutils.is_grade(c)
    ]


def normalize(source: nbformat.NotebookNode, submitted: bytes | None, extra_files: list[str] = ()) -> Normalized:
    """The notebook to grade.

    Args:
        source: the instructor's source notebook (solutions and hidden tests).
        submitted: the bytes the student handed in under this notebook's name, or None.
        extra_files: other notebook names in the student's folder, to name a misnamed notebook.
    """
    if submitted is None:
        hint = f"; found {', '.join(extra_files)}: was it renamed?" if extra_files else ""
        return Normalized(None, "missing", f"notebook not submitted{hint}")
    try:
        student = nbformat.reads(submitted.decode("utf-8"), as_version=4)
        nbformat.validate(student)
    except Exception as error:  # nbformat raises several types for broken JSON or schema
        return Normalized(None, "tampered", f"the notebook file is not a valid notebook: {type(error).__name__}: {str(error)[:200]}")

    notes: list[str] = []
    return Normalized(_merge(source, student, notes), notes=notes)


def _merge(source, student, notes: list[str]) -> nbformat.NotebookNode:
    known = {notebooks.grade_id(c): c for c in source.cells if notebooks.grade_id(c)}
    order = [notebooks.grade_id(c) for c in source.cells if notebooks.grade_id(c)]
    answers: dict[str, nbformat.NotebookNode] = {}
    added: dict[str | None, list] = {None: []}
    current = None
    for cell in student.cells:
        gid = notebooks.grade_id(cell)
        if gid in known and gid not in answers:
            answers[gid] = cell
            current = gid
            continue
        if gid:
            notes.append(f"{'duplicated' if gid in known else 'unknown'} cell id {gid}: kept as an ordinary cell")
        added.setdefault(current, []).append(_plain(cell))
    if [g for g in order if g in answers] != list(answers):
        notes.append("cells were reordered: graded cells put back in the source order")

    merged = nbformat.v4.new_notebook(metadata=copy.deepcopy(source.metadata))
    merged.cells = list(added[None])
    # Plain source cells before the first graded cell (imports, setup) are the student's own copies,
    # already in added[None]; later plain source cells likewise travel with the student's cells.
    for gid in order:
        merged.cells.append(_restore(known[gid], answers.get(gid), notes))
        merged.cells += added.get(gid, [])
    seen: set[str] = set()
    for index, cell in enumerate(merged.cells):
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        if cell.get("id") in seen or "id" not in cell:
            cell.id = f"graded-{index}"  # copied cells share ids, which nbformat rejects
        seen.add(cell.id)
    return merged


def _restore(source_cell, answer, notes: list[str]) -> nbformat.NotebookNode:
    """The cell to grade for one grade_id: the source's, with the student's answer if it is a solution."""
    gid = notebooks.grade_id(source_cell)
    restored = copy.deepcopy(source_cell)
    if not nbutils.is_solution(source_cell):
        if answer is None:
            notes.append(f"restored deleted cell {gid}")
        elif answer.source != source_cell.source and not nbutils.is_grade(source_cell):
            notes.append(f"restored edited locked cell {gid}")
        return restored
    if answer is None:
        notes.append(f"answer cell {gid} was deleted: graded as the unanswered stub")
        restored.source = notebooks.clear_solutions(nbformat.v4.new_notebook(cells=[restored])).cells[0].source
        return restored
    if answer.cell_type != source_cell.cell_type:
        notes.append(f"cell {gid} was changed to {answer.cell_type}: restored to {source_cell.cell_type}")
    restored.source = answer.source
    return restored


def _plain(cell) -> nbformat.NotebookNode:
    """A student's own cell, with no nbgrader metadata (nbgrader's DeduplicateIds does the same)."""
    plain = copy.deepcopy(cell)
    plain.metadata.pop("nbgrader", None)
    return plain
