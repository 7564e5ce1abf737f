"""The main job's last steps: autograde the sample submissions with plain nbgrader, print the scores."""

import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from nbgrader.api import Gradebook

from autograder import config, release, samples


def run(assignments: list[str], course: Path = config.BUILD / "demo-course") -> int:
    print_table(grade_samples(assignments, course))
    return 0


def grade_samples(assignments: list[str], root: Path, workers: int = 2) -> list[tuple]:
    """Autograde the sample submissions, one fresh scratch course per assignment; return one row per notebook.

    nbgrader grades one notebook at a time, so the assignments run side by side, ``workers`` at a
    time, each course with its own gradebook (sqlite takes one writer).
    """
    if root.exists():
        shutil.rmtree(root)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        graded = list(pool.map(lambda a: _grade_assignment(a, root / a, parallel=workers > 1), assignments))
    return [row for rows in graded for row in rows]


def _grade_assignment(assignment: str, course: Path, parallel: bool) -> list[tuple]:
    release.make_course(course, [assignment])
    generated = release.generate_release(course, assignment)
    samples.make_submissions(assignment, generated, course / "submitted")
    started = time.perf_counter()
    # Kernels running side by side get one BLAS/OpenMP thread each: more only oversubscribe the cores.
    threads = {**dict.fromkeys(config.THREAD_VARIABLES, "1"), "OMP_WAIT_POLICY": "PASSIVE"} if parallel else {}
    release.nbgrader(course, "autograde", assignment, "--force", env=threads)
    elapsed = time.perf_counter() - started
    print(f"nbgrader autograde {assignment}: {len(samples.STUDENTS)} submissions in {elapsed:.0f} s")
    return score_rows(course, assignment)


def score_rows(course: Path, assignment: str) -> list[tuple]:
    rows = []
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for student in samples.STUDENTS:
            submission = gradebook.find_submission(assignment, student)
            for notebook in sorted(submission.notebooks, key=lambda n: n.name):
                rows.append(
                    (
                        student,
                        f"{assignment}/{notebook.name}",
                        notebook.code_score,
                        notebook.max_code_score,
                        notebook.max_written_score,
                    )
                )
    return rows


def print_table(rows: list[tuple]) -> None:
    print()
    print(f"{'student':10s} {'notebook':44s} {'autograded':>12s} {'written (manual)':>18s}")
    totals: dict[str, list[float]] = {}
    for student, notebook, score, max_score, written in rows:
        print(f"{student:10s} {notebook:44s} {score:6g} / {max_score:<4g} {'needs grading, ' + format(written, 'g') + ' pts':>18s}")
        total = totals.setdefault(student, [0.0, 0.0, 0.0])
        total[0] += score
        total[1] += max_score
        total[2] += written
    print()
    for student, (score, max_score, written) in totals.items():
        print(f"{student:10s} autograded {score:g} / {max_score:g}, plus {written:g} points of written answers to grade by hand")
