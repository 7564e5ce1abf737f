"""Test the tests (``python -m autograder check-tests``).

For every notebook it checks that
1. the reference solution gets full marks;
2. the untouched release (every answer a stub) scores zero and the kernel survives;
3. every recorded wrong implementation loses points, in its own ``-hidden`` cell at least;
4. every recorded correct alternative gets full marks;
5. the tests are deterministic: run again under other global seeds, every test cell gives the same outcome;
6. the mutants generated from each solution (autograder.mutation) are killed: the answer's hidden
   test cell loses points. A survivor must be recorded in the catalog as equivalent, with a reason
   (autograder.mutants); with ``require_killed`` an unjustified survivor is a miss. A mutant recorded
   as equivalent that loses points is always a miss: either it is not equivalent or the tests reject
   a correct answer.

Re-running a whole notebook for every variant would cost a kernel start and every demo each time.
Instead each notebook runs once, in grading mode, in one kernel, up to its last test cell (what
follows it cannot change a grade). Then, for each variant, the kernel
runs the variant's answer cell and every graded test cell after it, scores those cells with
nbgrader's own rule, and runs the reference answer cell again to put the kernel back. A generated
mutant runs the same way, but only up to its own hidden test cell, which is all its verdict needs.
A variant that kills the kernel or times out loses that cell's points; a fresh kernel then runs the
reference notebook again for the variants after it.
Notebooks are checked in parallel on the grader's own workers (autograder.grading.executors).
"""

import argparse
import re
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from autograder import config, execute, mutants, mutation, notebooks, scoring
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
# Generated mutants run per answer cell: a fixed-seed sample of this many (None: all of them). The
# sample keeps check-tests in the CI budget; `check-tests --mutants all` runs every one.
MUTANTS_PER_CELL = 16
MUTANT_SEED = "check-tests"
# Per-cell limit while a variant and its tests run: the grader's, so a variant times out where grading would.
VARIANT_TIMEOUT_S = config.CELL_TIMEOUT_S
# Whether a generated mutant that survives unjustified is a miss. Off until the labs' tests kill or
# justify every survivor (issue 14); the table is printed either way.
REQUIRE_KILLED = False
IMPORTED_FRAMEWORK = re.compile(r"^\s*(?:import|from)\s+(torch|mlx|jax)\b", re.M)


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


@dataclass(frozen=True)
class MutantOutcome:
    """A generated mutant, the scores of the test cells it ran, and the catalog's reason if it is recorded as equivalent."""

    mutant: mutation.Mutant
    scores: dict[str, scoring.CellScore]
    reason: str | None
    seconds: float

    @property
    def killed(self) -> bool:
        hidden = self.scores.get(mutants.hidden_cell(self.mutant.cell))
        if hidden is not None:
            return hidden.points < hidden.max_points
        return any(s.points < s.max_points for s in self.scores.values())

    @property
    def survived(self) -> bool:
        """Not killed and not recorded as equivalent."""
        return not self.killed and self.reason is None


@dataclass
class Report:
    """Everything check-tests found about one notebook."""

    assignment: str
    notebook: str
    require_killed: bool = REQUIRE_KILLED
    reference_lost: list[str] = field(default_factory=list)
    untouched_scored: list[str] = field(default_factory=list)
    nondeterministic: list[str] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    generated: list[MutantOutcome] = field(default_factory=list)
    candidates: dict[str, int] = field(default_factory=dict)  # answer cell -> mutants before sampling
    stale_equivalents: list[str] = field(default_factory=list)  # recorded ids the solution no longer produces
    unjudged: list[str] = field(default_factory=list)  # answer cells whose reference fails its own hidden test
    seconds: float = 0.0  # wall time of the whole check of this notebook

    @property
    def misses(self) -> list[str]:
        found = [f"reference loses points: {m}" for m in self.reference_lost]
        found += [f"untouched release scores: {m}" for m in self.untouched_scored]
        found += [f"not deterministic: {m}" for m in self.nondeterministic]
        kinds = {True: "correct alternative rejected", False: "wrong implementation not caught"}
        found += [f"{kinds[o.variant.correct]}: {o.variant.cell}: {o.variant.name}" for o in self.outcomes if not o.ok]
        found += [
            f"recorded as equivalent, yet loses points: {o.mutant.cell}: {o.mutant.id}"
            for o in self.generated if o.killed and o.reason is not None
        ]
        if self.require_killed:
            found += [f"generated mutant survives: {o.mutant.cell}: {o.mutant.id}" for o in self.generated if o.survived]
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


def graded_part(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook up to its last test cell: nothing after it can change a grade (the judge skips it too)."""
    last = max((i for i, c in enumerate(notebook.cells) if _is_test(c)), default=-1)
    part = nbformat.from_dict(notebook)
    part.cells = part.cells[: last + 1]
    return part


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


def _run_tests_after(client, notebook, start: int, until: str | None = None) -> dict[str, scoring.CellScore]:
    """Run and score the graded test cells after cell ``start``: all of them, or up to the cell ``until``."""
    tested = nbformat.v4.new_notebook()
    for i, cell in enumerate(notebook.cells):
        if i > start and _is_test(cell):
            tested.cells.append(_run(client, cell, i))
            if notebooks.grade_id(cell) == until:
                break
    return scoring.score_cells(tested)


def _try_variant(client, notebook, start: int, code: str, until: str | None) -> dict[str, scoring.CellScore]:
    """Scores of the test cells after answer cell ``start`` with ``code`` in its place; the reference is put back."""
    # nbclient stores each executed cell back into notebook.cells[index]: keep the reference answer
    # aside, or the "restore" below would run the variant again.
    reference_answer = nbformat.from_dict(notebook.cells[start])
    answer = nbformat.from_dict(reference_answer)
    answer.source = code
    client.timeout = VARIANT_TIMEOUT_S
    try:
        _run(client, answer, start)
        scores = _run_tests_after(client, notebook, start, until)
        _run(client, reference_answer, start)
    finally:
        notebook.cells[start] = reference_answer
        client.timeout = config.CELL_TIMEOUT_S
    return scores


def graded_answers(source: nbformat.NotebookNode) -> list[str]:
    """The answer cells that have a hidden test cell, in notebook order."""
    cells = notebooks.cells_by_id(source)
    return [c for c in notebooks.solution_ids(source) if mutants.hidden_cell(c) in cells]


def generated_mutants(
    source: nbformat.NotebookNode, notebook: str, limit: int | None
) -> tuple[list[mutation.Mutant], dict[str, list[str]]]:
    """The generated mutants to run for every graded answer cell, and the ids of all of each cell's mutants.

    Args:
        source: the source notebook, solution markers in place.
        notebook: its file name (part of the sampling seed, so that equal cells of two notebooks sample alike only by chance).
        limit: mutants per cell (a fixed-seed sample), or None for all.

    Returns:
        (the sample to run, {answer cell: the ids of every mutant generated for it, sampled or not}).
    """
    imports = set(IMPORTED_FRAMEWORK.findall("\n".join(c.source for c in source.cells if c.cell_type == "code")))
    cells = notebooks.cells_by_id(source)
    chosen, every = [], {}
    for cell_id in graded_answers(source):
        cell_source = cells[cell_id].source
        framework = mutation.framework_of(notebooks.strip_solution_markers(cell_source), imports)
        found = mutation.generate(cell_id, cell_source, framework)
        every[cell_id] = [m.id for m in found]
        chosen += mutation.sample(found, limit, f"{MUTANT_SEED}:{notebook}:{cell_id}")
    return chosen, every


def _run_all(notebook) -> dict[str, scoring.CellScore]:
    with tempfile.TemporaryDirectory() as work:
        executed = execute.execute(nbformat.from_dict(notebook), Path(work), mode="grading", allow_errors=True)
    return scoring.score_cells(executed)


@dataclass(frozen=True)
class _Job:
    """One variant to run: a catalog entry, or a generated mutant (``mutant`` set). Wrong ones stop at their hidden test."""

    variant: mutants.Variant
    mutant: mutation.Mutant | None = None


def _crashed(job: _Job, why: Exception, baseline: dict[str, scoring.CellScore]) -> dict[str, scoring.CellScore]:
    """The verdict on a variant that killed the kernel or timed out: its hidden test cell loses its points."""
    hidden = mutants.hidden_cell(job.variant.cell)
    max_points = baseline[hidden].max_points if hidden in baseline else 1.0
    return {hidden: scoring.CellScore(hidden, 0.0, max_points, f"{type(why).__name__}: {why}".splitlines()[0][:200])}


def check_notebook(
    assignment: str,
    name: str,
    source: nbformat.NotebookNode | None = None,
    mutant_limit: int | None = MUTANTS_PER_CELL,
    require_killed: bool = REQUIRE_KILLED,
) -> Report:
    """Check one notebook.

    Args:
        assignment, name: the assignment id and the notebook's file name.
        source: overrides the notebook read from source/ (to test this checker).
        mutant_limit: generated mutants per answer cell (a fixed-seed sample); None runs all, 0 none.
        require_killed: count an unjustified surviving mutant as a miss.
    """
    started = time.perf_counter()
    source = source or mutants.load_source(assignment, name)
    notebook = graded_part(reference(source))
    path = mutants.catalog_path(assignment, name)
    catalog, equivalents = mutants.load_catalog(path), mutants.load_equivalents(path)
    positions = {notebooks.grade_id(c): i for i, c in enumerate(notebook.cells) if notebooks.grade_id(c)}
    report = Report(assignment, name, require_killed)
    generated, every = generated_mutants(source, name, mutant_limit) if mutant_limit != 0 else ([], {})
    report.candidates = {cell: len(ids) for cell, ids in every.items()}
    pending = [_Job(v) for v in catalog]
    pending += [_Job(mutants.Variant(m.cell, m.id, m.code, correct=False), m) for m in generated]

    blank = _run_all(graded_part(untouched(source)))
    report.untouched_scored = [f"{s.grade_id} ({s.points:g})" for s in blank.values() if s.points > 0]

    baseline = None
    while baseline is None or pending:
        with tempfile.TemporaryDirectory() as work, _kernel(notebook, Path(work)) as client:
            ran = scoring.score_cells(nbformat.v4.new_notebook(cells=[_run(client, c, i) for i, c in enumerate(notebook.cells)]))
            if baseline is None:
                baseline = ran
                report.reference_lost = [f"{s.grade_id}: {s.message}" for s in baseline.values() if s.points < s.max_points]
                report.nondeterministic = _nondeterministic(client, notebook, baseline)
                # A mutant cannot be killed by a test the reference fails already: leave those cells unjudged.
                report.unjudged = [c for c in report.candidates if _fails(baseline.get(mutants.hidden_cell(c)))]
                pending = [j for j in pending if j.mutant is None or j.mutant.cell not in report.unjudged]
            while pending:
                job = pending.pop(0)
                began = time.perf_counter()
                # A wrong answer is judged by its own hidden test; a correct one must lose nothing anywhere.
                until = None if job.variant.correct else mutants.hidden_cell(job.variant.cell)
                try:
                    scores, crashed = _try_variant(client, notebook, positions[job.variant.cell], job.variant.code, until), False
                except (DeadKernelError, CellTimeoutError) as why:
                    scores, crashed = _crashed(job, why, baseline), True
                if job.mutant is None:
                    report.outcomes.append(Outcome(job.variant, scores))
                else:
                    reason = equivalents.get(job.mutant.cell, {}).get(job.mutant.id)
                    report.generated.append(MutantOutcome(job.mutant, scores, reason, time.perf_counter() - began))
                if crashed:
                    break  # the rest run in a fresh kernel
    if mutant_limit != 0:
        report.stale_equivalents = [f"{c}: {i}" for c, ids in equivalents.items() for i in ids if i not in every.get(c, [])]
    report.seconds = time.perf_counter() - started
    return report


def _fails(score: scoring.CellScore | None) -> bool:
    return score is not None and score.points < score.max_points


def _nondeterministic(client, notebook, baseline: dict[str, scoring.CellScore]) -> list[str]:
    """Test cells whose outcome changes when the tests run again under another global seed."""
    found = []
    if not baseline:  # no test cell: nothing to rerun
        return found
    for seed in DETERMINISM_SEEDS:
        _run(client, nbformat.v4.new_code_cell(RESEED_CELL.format(seed=seed)), 0)
        again = _run_tests_after(client, notebook, -1)
        found += [
            f"{k} (global seed {seed}: {again[k].message or 'passes'})"
            for k in baseline
            if again[k].points != baseline[k].points
        ]
    return found


def _check(job: tuple[str, str, int | None, bool]) -> Report:
    return check_notebook(*job[:2], mutant_limit=job[2], require_killed=job[3])


def check_all(
    assignments: list[str],
    notebook: str | None = None,
    workers: int | None = None,
    mutant_limit: int | None = MUTANTS_PER_CELL,
    require_killed: bool = REQUIRE_KILLED,
) -> list[Report]:
    """Check every notebook of ``assignments`` (or the one named ``notebook``) on the grader's workers.

    Args:
        assignments: assignment ids.
        notebook: one notebook file name, or None for all.
        workers: worker processes (default one per core).
        mutant_limit, require_killed: see ``check_notebook``.
    """
    jobs = [
        (a, p.name, mutant_limit, require_killed)
        for a in assignments
        for p in sorted((config.SOURCE / a).glob("*.ipynb"))
        if notebook is None or p.name == notebook
    ]
    if not jobs:
        raise SystemExit(f"no notebook to check in {assignments}" + (f" named {notebook}" if notebook else ""))
    pool = executors.make(workers)
    try:
        reports = []
        for job, report, error in pool.map_unordered(_check, jobs):
            if isinstance(error, mutants.CatalogError):
                raise error  # the author's mistake, reported as one line by main
            if error is not None:
                raise RuntimeError(f"check-tests failed on {job[0]}/{job[1]}: {error}") from error
            reports.append(report)
    finally:
        pool.close()
    return sorted(reports, key=lambda r: (r.assignment, r.notebook))


def catalog_table(reports: list[Report]) -> list[str]:
    """One line per answer cell: catalog mutants caught, correct alternatives accepted."""
    lines = [f"{'assignment':16s} {'notebook':30s} {'cell':36s} {'mutants caught':>15s} {'alternatives accepted':>22s}"]
    for report in reports:
        cells = dict.fromkeys(o.variant.cell for o in report.outcomes)
        for cell in cells:
            wrong = [o for o in report.outcomes if o.variant.cell == cell and not o.variant.correct]
            right = [o for o in report.outcomes if o.variant.cell == cell and o.variant.correct]
            caught = f"{sum(o.ok for o in wrong)}/{len(wrong)}"
            accepted = f"{sum(o.ok for o in right)}/{len(right)}"
            lines.append(f"{report.assignment:16s} {report.notebook:30s} {cell:36s} {caught:>15s} {accepted:>22s}")
    return lines


def mutation_table(reports: list[Report]) -> list[str]:
    """The mutation score of every graded answer cell, a total, and the time the generated mutants took."""
    header = f"{'notebook':44s} {'cell':36s} {'generated':>9s} {'killed':>6s} {'equiv.':>6s} {'survived':>8s} {'score':>6s} {'s':>6s}"
    lines = ["generated mutants: killed = the cell's hidden test loses points; equiv. = recorded as equivalent", header]
    total = {"generated": 0, "killed": 0, "equivalent": 0, "survived": 0, "seconds": 0.0}
    for report in reports:
        for cell, candidates in report.candidates.items():
            ran = [o for o in report.generated if o.mutant.cell == cell]
            row = {
                "generated": len(ran), "killed": sum(o.killed for o in ran),
                "equivalent": sum(not o.killed and o.reason is not None for o in ran),
                "survived": sum(o.survived for o in ran), "seconds": sum(o.seconds for o in ran),
            }
            if cell in report.unjudged:
                lines.append(f"{report.assignment + '/' + report.notebook:44s} {cell:36s} not run: the reference fails its hidden test")
                continue
            total = {k: total[k] + row[k] for k in total}
            generated = f"{row['generated']}" + (f"/{candidates}" if candidates != row["generated"] else "")
            lines.append(
                f"{report.assignment + '/' + report.notebook:44s} {cell:36s} {generated:>9s} {row['killed']:>6d} "
                f"{row['equivalent']:>6d} {row['survived']:>8d} {_score(row):>6s} {row['seconds']:>6.0f}"
            )
    lines.append(
        f"{'total':44s} {'':36s} {total['generated']:>9d} {total['killed']:>6d} {total['equivalent']:>6d} "
        f"{total['survived']:>8d} {_score(total):>6s} {total['seconds']:>6.0f}"
    )
    lines.append("(generated n/m: a fixed-seed sample of n of the cell's m mutants; s: seconds spent running them)")
    lines += [
        f"{r.assignment + '/' + r.notebook:44s} checked in {r.seconds:.0f} s, "
        f"{sum(o.seconds for o in r.generated):.0f} s of it on generated mutants"
        for r in reports
    ]
    return lines


def _score(row: dict) -> str:
    """Killed or justified, out of all run: 1 when every mutant is accounted for."""
    return f"{(row['killed'] + row['equivalent']) / row['generated']:.2f}" if row["generated"] else "-"


def survivor_lines(reports: list[Report]) -> list[str]:
    """Every generated mutant that survives unjustified: where, its id and its change."""
    lines = []
    for report in reports:
        for o in (o for o in report.generated if o.survived):
            change = f"{o.mutant.before} -> {o.mutant.after}" if o.mutant.before else f"inserts {o.mutant.after}"
            lines.append(f"SURVIVOR {report.assignment}/{report.notebook}: {o.mutant.cell}: {o.mutant.id}: {change}")
        for stale in report.stale_equivalents:
            lines.append(f"note {report.assignment}/{report.notebook}: recorded as equivalent, no longer generated: {stale}")
    return lines


def report_lines(reports: list[Report]) -> list[str]:
    """What check-tests prints: the catalog table, the mutation table, survivors and every miss with its failing tests."""
    lines = catalog_table(reports)
    if any(r.candidates for r in reports):
        lines += mutation_table(reports) + survivor_lines(reports)
    for report in reports:
        lines += [f"MISS {report.assignment}/{report.notebook}: {miss}" for miss in report.misses]
        for outcome in report.outcomes:
            if not outcome.ok:
                lines += [f"     {outcome.variant.name}: {line}" for line in outcome.failing() or ["no test cell lost points"]]
    return lines


def print_reports(reports: list[Report]) -> None:
    print("\n".join(report_lines(reports)))


def main(
    assignments: list[str],
    notebook: str | None = None,
    mutant_limit: int | None = MUTANTS_PER_CELL,
    require_killed: bool = REQUIRE_KILLED,
) -> int:
    started = time.perf_counter()
    try:
        reports = check_all(assignments, notebook, mutant_limit=mutant_limit, require_killed=require_killed)
    except mutants.CatalogError as mistake:
        print(f"check-tests: {mistake}", file=sys.stderr)
        return 2
    print_reports(reports)
    misses = sum(len(r.misses) for r in reports)
    survivors = sum(o.survived for r in reports for o in r.generated)
    print(
        f"check-tests: {len(reports)} notebook(s), {misses} miss(es), {survivors} unjustified surviving mutant(s)"
        f"{'' if require_killed else ' (not failing: --require-killed is off)'}, {time.perf_counter() - started:.0f} s wall time"
    )
    return 1 if misses else 0


def parse_mutant_limit(text: str) -> int | None:
    """A --mutants argument: a count, or "all" (None)."""
    if text == "all":
        return None
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"--mutants takes a count or 'all', not {text!r}")
    return int(text)


if __name__ == "__main__":
    # python -m autograder.checktests: check-tests with the generated mutants' options.
    parser = argparse.ArgumentParser(prog="python -m autograder.checktests", description=__doc__.split("\n")[0])
    parser.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    parser.add_argument("--notebook", help="one notebook file name, e.g. 02-kl-divergence.ipynb")
    parser.add_argument("--mutants", type=parse_mutant_limit, default=MUTANTS_PER_CELL, metavar="N|all",
                        help=f"generated mutants per answer cell, a fixed-seed sample (default {MUTANTS_PER_CELL}; 0: none)")
    parser.add_argument("--require-killed", action="store_true", help="fail on a surviving mutant not recorded as equivalent")
    args = parser.parse_args()
    unknown = sorted(set(args.assignments) - set(config.assignments()))
    if unknown:
        parser.error(f"no assignment {', '.join(unknown)}; there are: {', '.join(config.assignments())}")
    # Run the imported module, not this __main__ copy, so that the workers unpickle the same classes.
    from autograder import checktests

    sys.exit(checktests.main(args.assignments or config.assignments(), args.notebook, args.mutants, args.require_killed))
