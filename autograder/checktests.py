"""Test the tests: every recorded wrong implementation loses points, every correct one gets full marks.

Re-running a whole notebook for every variant would cost a kernel start and every demo each time.
Instead each notebook runs once, in grading mode, in one kernel. Then, for each variant, the kernel
runs the variant's answer cell and every graded test cell after it, scores those cells with
nbgrader's own rule, and runs the reference answer cell again to put the kernel back.
"""

import os
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient

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


def _is_test(cell) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "code" and meta.get("grade") and not meta.get("solution")


@contextmanager
def _kernel(notebook: nbformat.NotebookNode, cwd: Path):
    env = {k: v for k, v in os.environ.items() if k != "LABKIT_MODE"}
    env.update(execute.MODE_ENV["grading"])
    client = NotebookClient(
        notebook,
        timeout=config.CELL_TIMEOUT_S,
        kernel_name=config.KERNEL_NAME,
        allow_errors=True,
        record_timing=False,
        resources={"metadata": {"path": str(cwd)}},
    )
    with client.setup_kernel(env=env):
        yield client


def _run(client: NotebookClient, cell, index: int):
    cell = nbformat.from_dict(cell)
    client.execute_cell(cell, index)
    return cell


def check_notebook(assignment: str, name: str) -> tuple[dict[str, scoring.CellScore], list[Outcome]]:
    """Score the reference solution, then every catalogued variant; return both."""
    notebook = reference(mutants.load_source(assignment, name))
    catalog = mutants.load_catalog(mutants.catalog_path(assignment, name))
    positions = {notebooks.grade_id(c): i for i, c in enumerate(notebook.cells) if notebooks.grade_id(c)}
    outcomes = []
    with tempfile.TemporaryDirectory() as work, _kernel(notebook, Path(work)) as client:
        executed = nbformat.from_dict(notebook)
        for index, cell in enumerate(executed.cells):
            client.execute_cell(cell, index)
        baseline = scoring.score_cells(executed)
        for variant in catalog:
            start = positions[variant.cell]
            answer = nbformat.from_dict(notebook.cells[start])
            answer.source = variant.code
            _run(client, answer, start)
            tested = nbformat.v4.new_notebook()
            tested.cells = [_run(client, c, i) for i, c in enumerate(notebook.cells) if i > start and _is_test(c)]
            outcomes.append(Outcome(name, variant, scoring.score_cells(tested)))
            _run(client, notebook.cells[start], start)
    return baseline, outcomes


def main(assignment: str, notebook: str | None = None) -> int:
    names = [notebook] if notebook else [p.name for p in sorted((config.SOURCE / assignment).glob("*.ipynb"))]
    started = time.perf_counter()
    misses = 0
    for name in names:
        baseline, outcomes = check_notebook(assignment, name)
        lost = [f"{s.grade_id}: {s.message}" for s in baseline.values() if s.points < s.max_points]
        print(f"{assignment}/{name}: reference {'full marks' if not lost else 'LOSES POINTS: ' + '; '.join(lost)}")
        misses += bool(lost)
        for outcome in outcomes:
            kind = "correct" if outcome.variant.correct else "wrong"
            status = "ok  " if outcome.ok else "MISS"
            print(f"  {status} {kind:7s} {outcome.variant.cell:34s} {outcome.variant.name} (lost {outcome.lost:g})")
            if not outcome.ok:
                misses += 1
                for line in outcome.failing():
                    print(f"         {line}")
    print(f"check-tests: {misses} miss(es), {time.perf_counter() - started:.0f} s wall time")
    return 1 if misses else 0
