"""check-tests --judge: the reference and every correct alternative of the catalogs, graded by the real grader.

check-tests runs its variants in one kernel, test cells included, which is fast but is not how a
submission is graded: the judge (autograder/judge) binds only the names the reference answer binds,
gets the student's values across a wire and bridges gradients and in-place changes. An honest
alternative that passes in a kernel can still lose points there (a helper it defines and a test
needs, a value the wire cannot carry), so this check grades them the way students are graded.

Correct alternatives of different cells are independent, so they are graded together: round k hands
in the k-th alternative of every cell that has one (the reference elsewhere). Every graded cell of
every round must pass; a failing test names the round's alternatives to look at.
"""

import sys
import time
from dataclasses import dataclass

import nbformat

from autograder import checktests, config, mutants, notebooks
from autograder.grading import executors, layout, worker


@dataclass(frozen=True)
class Round:
    label: str  # "reference", or the alternatives it hands in
    notebook: nbformat.NotebookNode


def rounds(source: nbformat.NotebookNode, variants: list[mutants.Variant]) -> list[Round]:
    """The reference, then one round per rank of correct alternative."""
    reference = checktests.reference(source)
    by_cell: dict[str, list[mutants.Variant]] = {}
    for variant in variants:
        if variant.correct:
            by_cell.setdefault(variant.cell, []).append(variant)
    made = [Round("reference", reference)]
    for rank in range(max((len(v) for v in by_cell.values()), default=0)):
        chosen = {cell: options[rank] for cell, options in by_cell.items() if rank < len(options)}
        notebook = nbformat.from_dict(reference)
        for cell in notebook.cells:
            variant = chosen.get(notebooks.grade_id(cell)) if cell.metadata.get("nbgrader", {}).get("solution") else None
            if variant is not None:
                cell.source = variant.code
        made.append(Round("; ".join(f"{v.cell}: {v.name}" for v in chosen.values()), notebook))
    return made


def check_notebook(assignment: str, name: str) -> list[str]:
    """Problems found grading the rounds of one notebook through the judge; empty when all pass."""
    course = layout.Assignment.load(config.SOURCE, assignment)
    source = nbformat.reads(course.sources[name], as_version=4)
    variants = mutants.load_catalog(mutants.catalog_path(assignment, name))
    problems = []
    for index, round_ in enumerate(rounds(source, variants)):
        job = layout.Job(f"judge-check-{index}", course, {name: nbformat.writes(round_.notebook).encode()}, layout.Limits())
        _, result = worker.grade_task((job, name))
        for cell in result.cells:
            if cell.points < cell.max_points:
                problems.append(f"{assignment}/{name} [{round_.label}]: {cell.grade_id} {cell.status}: {cell.message[:300]}")
    return problems


def check_all(assignments: list[str], notebook: str | None = None, workers: int | None = None) -> list[str]:
    """Grade the rounds of every notebook of ``assignments`` (or the one named) on the grader's workers."""
    jobs = [(a, p.name) for a in assignments for p in sorted((config.SOURCE / a).glob("*.ipynb")) if notebook in (None, p.name)]
    if not jobs:
        raise SystemExit(f"no notebook to check in {assignments}" + (f" named {notebook}" if notebook else ""))
    pool = executors.make(workers)
    problems = []
    try:
        for job, found, error in pool.map_unordered(_check, jobs):
            if isinstance(error, mutants.CatalogError):
                raise error
            problems += found if error is None else [f"{job[0]}/{job[1]}: the check itself failed: {error}"]
    finally:
        pool.close()
    return sorted(problems)


def _check(job: tuple[str, str]) -> list[str]:
    return check_notebook(*job)


def main(assignments: list[str], notebook: str | None = None) -> int:
    started = time.perf_counter()
    try:
        problems = check_all(assignments, notebook)
    except mutants.CatalogError as mistake:
        print(f"check-tests: {mistake}", file=sys.stderr)
        return 2
    for line in problems:
        print(line)
    print(f"check-tests --judge: {len(problems)} honest answer(s) or alternative(s) misgraded by the judge, "
          f"{time.perf_counter() - started:.0f} s wall time")
    return 1 if problems else 0
