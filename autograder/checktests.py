"""Test the tests (``python -m autograder check-tests``).

For every notebook it checks that
1. the reference solution gets full marks;
2. the untouched release (every answer a stub) scores zero and the kernel survives;
3. every recorded wrong implementation loses points, in its own ``-hidden`` cell at least;
4. every recorded correct alternative gets full marks;
5. the tests are deterministic: run again under other global seeds, every test cell gives the same outcome.

Re-running a whole notebook for every variant would cost a kernel start and every demo each time.
Instead each notebook runs once, in grading mode, in one kernel. Then, for each variant, the kernel
runs the variant's answer cell and every graded test cell after it, scores those cells with
nbgrader's own rule, and runs the reference answer cell again to put the kernel back.
Notebooks are checked in parallel on the grader's own workers (autograder.grading.executors).
"""

import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from autograder import config, execute, mutants, notebooks, scoring
from autograder.grading import executors

RESEED_CELL = """\
import random as _random
_random.seed({seed})
try:
    import numpy as _np
    _np.random.seed({seed})
except ImportError:
    pass
try:
    import torch as _torch
    _torch.manual_seed({seed})
except ImportError:
    pass
"""
DETERMINISM_SEEDS = (12345, 987)


@dataclass(frozen=True)
class Outcome:
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


@dataclass
class Report:
    """Everything check-tests found about one notebook."""

    assignment: str
    notebook: str
    reference_lost: list[str] = field(default_factory=list)
    untouched_scored: list[str] = field(default_factory=list)
    nondeterministic: list[str] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def misses(self) -> list[str]:
        found = [f"reference loses points: {m}" for m in self.reference_lost]
        found += [f"untouched release scores: {m}" for m in self.untouched_scored]
        found += [f"not deterministic: {m}" for m in self.nondeterministic]
        kinds = {True: "correct alternative rejected", False: "wrong implementation not caught"}
        found += [f"{kinds[o.variant.correct]}: {o.variant.cell}: {o.variant.name}" for o in self.outcomes if not o.ok]
        return found


def reference(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A source notebook with its solution markers removed, as the reference student would hand it in."""
    ref = nbformat.from_dict(notebook)
    for cell in ref.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = notebooks.strip_solution_markers(cell.source)
    return ref


def untouched(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """nbgrader's stubs in every answer cell, with the hidden tests in place, as grading sees a blank copy."""
    cleared = notebooks.clear_solutions(notebook)
    stubs = notebooks.cells_by_id(cleared)
    blank = nbformat.from_dict(notebook)
    for cell in blank.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = stubs[notebooks.grade_id(cell)].source
    return blank


def _is_test(cell) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


@contextmanager
def _kernel(notebook: nbformat.NotebookNode, cwd: Path):
    env = execute.kernel_env("grading")
    # One worker per core already: more BLAS threads per kernel only oversubscribe the cores.
    env["OMP_NUM_THREADS"] = "1"
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


def _run_tests_after(client, notebook, start: int) -> dict[str, scoring.CellScore]:
    tested = nbformat.v4.new_notebook()
    tested.cells = [_run(client, c, i) for i, c in enumerate(notebook.cells) if i > start and _is_test(c)]
    return scoring.score_cells(tested)


def _run_all(notebook) -> dict[str, scoring.CellScore]:
    with tempfile.TemporaryDirectory() as work:
        executed = execute.execute(nbformat.from_dict(notebook), Path(work), mode="grading", allow_errors=True)
    return scoring.score_cells(executed)


def check_notebook(assignment: str, name: str, source: nbformat.NotebookNode | None = None) -> Report:
    """Check one notebook; ``source`` overrides the notebook read from source/ (to test this checker)."""
    source = source or mutants.load_source(assignment, name)
    notebook = reference(source)
    catalog = mutants.load_catalog(mutants.catalog_path(assignment, name))
    positions = {notebooks.grade_id(c): i for i, c in enumerate(notebook.cells) if notebooks.grade_id(c)}
    report = Report(assignment, name)

    blank = _run_all(untouched(source))
    report.untouched_scored = [f"{s.grade_id} ({s.points:g})" for s in blank.values() if s.points > 0]

    with tempfile.TemporaryDirectory() as work, _kernel(notebook, Path(work)) as client:
        baseline = scoring.score_cells(nbformat.v4.new_notebook(cells=[_run(client, c, i) for i, c in enumerate(notebook.cells)]))
        report.reference_lost = [f"{s.grade_id}: {s.message}" for s in baseline.values() if s.points < s.max_points]
        for seed in DETERMINISM_SEEDS:
            _run(client, nbformat.v4.new_code_cell(RESEED_CELL.format(seed=seed)), 0)
            again = _run_tests_after(client, notebook, -1)
            report.nondeterministic += [
                f"{k} (global seed {seed}: {again[k].message or 'passes'})"
                for k in baseline
                if again[k].points != baseline[k].points
            ]
        for variant in catalog:
            start = positions[variant.cell]
            # nbclient stores each executed cell back into notebook.cells[index]: keep the reference
            # answer aside, or the "restore" below would run the variant again.
            reference_answer = nbformat.from_dict(notebook.cells[start])
            answer = nbformat.from_dict(reference_answer)
            answer.source = variant.code
            _run(client, answer, start)
            report.outcomes.append(Outcome(variant, _run_tests_after(client, notebook, start)))
            _run(client, reference_answer, start)
            notebook.cells[start] = reference_answer
    return report


def _check(job: tuple[str, str]) -> Report:
    return check_notebook(*job)


def check_all(assignments: list[str], notebook: str | None = None, workers: int | None = None) -> list[Report]:
    jobs = [
        (a, p.name)
        for a in assignments
        for p in sorted((config.SOURCE / a).glob("*.ipynb"))
        if notebook is None or p.name == notebook
    ]
    if not jobs:
        raise SystemExit(f"no notebook to check in {assignments}" + (f" named {notebook}" if notebook else ""))
    pool = executors.make(workers)
    try:
        reports = list(pool.map_unordered(_check, jobs))
    finally:
        pool.close()
    return sorted(reports, key=lambda r: (r.assignment, r.notebook))


def print_reports(reports: list[Report]) -> None:
    print(f"{'assignment':16s} {'notebook':30s} {'cell':36s} {'mutants caught':>15s} {'alternatives accepted':>22s}")
    for report in reports:
        cells = dict.fromkeys(o.variant.cell for o in report.outcomes)
        for cell in cells:
            wrong = [o for o in report.outcomes if o.variant.cell == cell and not o.variant.correct]
            right = [o for o in report.outcomes if o.variant.cell == cell and o.variant.correct]
            caught = f"{sum(o.ok for o in wrong)}/{len(wrong)}"
            accepted = f"{sum(o.ok for o in right)}/{len(right)}"
            print(f"{report.assignment:16s} {report.notebook:30s} {cell:36s} {caught:>15s} {accepted:>22s}")
    for report in reports:
        for miss in report.misses:
            print(f"MISS {report.assignment}/{report.notebook}: {miss}")
        for outcome in report.outcomes:
            if not outcome.ok:
                for line in outcome.failing() or ["no test cell lost points"]:
                    print(f"     {outcome.variant.name}: {line}")


def main(assignments: list[str], notebook: str | None = None) -> int:
    started = time.perf_counter()
    reports = check_all(assignments, notebook)
    print_reports(reports)
    misses = sum(len(r.misses) for r in reports)
    print(f"check-tests: {len(reports)} notebook(s), {misses} miss(es), {time.perf_counter() - started:.0f} s wall time")
    return 1 if misses else 0
