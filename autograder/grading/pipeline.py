"""``python -m autograder grade``: find the submissions, grade the new or changed ones, merge, export.

    jobs (layout) ─▶ one task per notebook ─▶ executor (local pool | Dask) ─▶ worker: normalize ▸ sandbox ▸ score
                 └─ cached result (store) ────────────────────────────┐
    results ─▶ gradebook (one writer) ▸ store ▸ results.json ▸ CSVs (export) ▸ HTML (feedback)
"""

import functools
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from autograder.grading import executors, export, feedback, gradebook, lateness, sandbox, store, worker
from autograder.grading.canvas import CanvasTarget
from autograder.grading.layout import Assignment, Job, Limits, scan
from autograder.grading.results import NotebookResult, SubmissionResult

log = logging.getLogger("autograder")


@dataclass(frozen=True)
class Run:
    """One grading run.

    Args:
        assignment: the assignment id.
        course: the nbgrader course folder: source/ and gradebook.db live there.
        submissions: the folder in nbgrader's submitted/<student>/<assignment>/ layout.
        out: where results, CSVs and feedback go.
        limits: the sandbox's limits.
        workers: worker processes (None: one per core).
        scheduler: a Dask scheduler address; None uses the local pool unless ``dask`` is set.
        dask: use Dask (an embedded LocalCluster when no scheduler is given).
        students: grade only these student ids (everyone when empty).
        force: grade again even when a cached result has the same key.
        policy: the due date and extensions (lateness.Policy).
        canvas: where canvas.csv's grades go (canvas.CanvasTarget).
        names: student id -> name for the feedback titles (from the LMS roster).
    """

    assignment: str
    course: Path
    submissions: Path
    out: Path
    limits: Limits
    workers: int | None = None
    scheduler: str | None = None
    dask: bool = False
    students: tuple[str, ...] = ()
    force: bool = False
    policy: lateness.Policy = lateness.Policy()
    canvas: CanvasTarget = CanvasTarget()
    names: dict[str, str] | None = None


def _grade_all(pool, jobs: list[Job], hidden: tuple[str, ...], progress: bool, name: str) -> Iterator[SubmissionResult]:
    """Grade every notebook of ``jobs`` on ``pool``; yield each submission once all its notebooks are in."""
    by_student = {job.student: job for job in jobs}
    done: dict[str, list[NotebookResult]] = {job.student: [] for job in jobs}
    tasks = [task for job in jobs for task in worker.tasks(job)]
    bar = tqdm(total=len(tasks), desc=f"grading {name}", unit="notebook", disable=not progress)
    for task, graded, error in pool.map_unordered(functools.partial(worker.grade_task, hidden=hidden), tasks):
        student, notebook = graded if error is None else worker.grader_error(task, f"the worker failed: {error!r}")
        bar.update()
        done[student].append(notebook)
        job = by_student[student]
        if len(done[student]) == len(job.assignment.sources):
            result = worker.submission_result(job, done.pop(student))
            bar.set_postfix_str(f"{student}: {result.score:g}/{result.max_score:g}")
            yield result
    bar.close()


def grade(run: Run, progress: bool = True) -> list[SubmissionResult]:
    """Grade every submission of ``run``; return all results, cached ones included."""
    if not run.limits.unsafe:
        sandbox.check_available()
    assignment = Assignment.load(run.course / "source", run.assignment)
    found = scan(run.submissions, assignment, run.limits, run.students)
    for problem in found.problems:
        log.warning(problem)
    jobs = found.jobs
    reused = {j.student: None if run.force else store.cached(run.out, j.student, j.key()) for j in jobs}
    todo = [j for j in jobs if reused[j.student] is None]
    gradebook.ensure_assignment(run.course, assignment)
    run.out.mkdir(parents=True, exist_ok=True)
    hidden = tuple(str(p.resolve()) for p in (run.course, run.submissions, run.out))
    results = [r for r in reused.values() if r is not None]
    if todo:
        pool = executors.make(run.workers, run.scheduler, run.dask)
        try:
            for result in _grade_all(pool, todo, hidden, progress, run.assignment):
                results.append(result)
                if result.grader_failed:
                    log.error(f"{result.student}: the grader failed, nothing recorded: " + "; ".join(result.grader_errors()))
                    continue  # never a score, never cached: the next run grades it again
                # The parent is the gradebook's only writer: submissions merge one at a time as they complete.
                gradebook.merge(run.course, result)
                store.save(run.out, result)
        finally:
            pool.close()
    if run.students:  # the others' results stay in the outputs
        chosen = {r.student for r in results}
        results += [r for r in store.load_all(run.out) if r.student not in chosen]
    results.sort(key=lambda r: r.student)
    if run.canvas.export is not None:
        gradebook.record_roster(run.course, run.canvas.export.students)
    for problem in gradebook.apply_lateness(run.course, run.assignment, run.policy, {j.student: j.timestamp for j in jobs}):
        log.warning(problem)
    grades = {g.student: g for g in gradebook.read_grades(run.course, run.assignment)}
    scanned = {j.student for j in jobs}  # with --student, the others' refused files stay as their last run found them
    refused = {s: e["refused"] for s, e in store.read_results(run.out).items() if "refused" in e and s not in scanned}
    refused |= {j.student: list(j.refused) for j in jobs if j.refused}
    store.write_results(run.out, results, {s: g.lateness for s, g in grades.items()}, refused)
    others = {s: why for s, why in store.read_not_graded(run.out).items() if run.students and s not in run.students}
    store.write_not_graded(run.out, others | found.not_graded)
    export.write_all(run.out, run.course, run.assignment, results, run.canvas, list(grades.values()))
    feedback.write_all(run.out, results, grades=grades, names=run.names, course=run.course, submissions=run.submissions, refused=refused)
    return results
