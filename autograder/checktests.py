"""Test the tests: every recorded wrong implementation loses points, every correct one gets full marks."""

import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder import config, execute, mutants, notebooks, scoring


@dataclass(frozen=True)
class Outcome:
    notebook: str
    variant: mutants.Variant
    scores: dict[str, scoring.CellScore]

    @property
    def lost(self) -> float:
        return sum(s.max_points - s.points for s in self.scores.values())

    @property
    def ok(self) -> bool:
        if self.variant.correct:
            return self.lost == 0
        hidden = self.scores.get(mutants.hidden_cell(self.variant.cell))
        return self.lost > 0 and hidden is not None and hidden.points < hidden.max_points

    def failing(self) -> list[str]:
        return [f"{s.grade_id}: {s.message}" for s in self.scores.values() if s.points < s.max_points]


def reference(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A source notebook with its solution markers removed, as the reference student would hand it in."""
    ref = nbformat.from_dict(notebook)
    for cell in ref.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = notebooks.strip_solution_markers(cell.source)
    return ref


def run_variant(assignment: str, name: str, variant: mutants.Variant | None) -> dict[str, scoring.CellScore]:
    notebook = reference(mutants.load_source(assignment, name))
    if variant is not None:
        notebook = notebooks.replace_cell(notebook, variant.cell, variant.code)
    with tempfile.TemporaryDirectory() as work:
        executed = execute.execute(notebook, Path(work), mode="grading", allow_errors=True)
    return scoring.score_cells(executed)


def check_notebook(assignment: str, name: str) -> list[Outcome]:
    catalog = mutants.load_catalog(mutants.catalog_path(assignment, name))
    return [Outcome(name, v, run_variant(assignment, name, v)) for v in catalog]


def main(assignment: str, notebook: str | None = None) -> int:
    names = [notebook] if notebook else [p.name for p in sorted((config.SOURCE / assignment).glob("*.ipynb"))]
    misses = 0
    for name in names:
        base = run_variant(assignment, name, None)
        lost = [f"{s.grade_id}: {s.message}" for s in base.values() if s.points < s.max_points]
        print(f"{assignment}/{name}: reference {'full marks' if not lost else 'LOSES POINTS: ' + '; '.join(lost)}")
        misses += bool(lost)
        for outcome in check_notebook(assignment, name):
            kind = "correct" if outcome.variant.correct else "wrong"
            status = "ok  " if outcome.ok else "MISS"
            print(f"  {status} {kind:7s} {outcome.variant.cell:32s} {outcome.variant.name} (lost {outcome.lost:g})")
            if not outcome.ok:
                misses += 1
                for line in outcome.failing():
                    print(f"         {line}")
    return 1 if misses else 0
