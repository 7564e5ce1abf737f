"""The main job's last steps: autograde the sample submissions with plain nbgrader, print the scores."""

import shutil
import time
from pathlib import Path

from nbgrader.api import Gradebook

from autograder import config, release, samples


def run(assignments: list[str], course: Path = config.BUILD / "demo-course") -> int:
    print_table(grade_samples(assignments, course))
    return 0


def grade_samples(assignments: list[str], course: Path) -> list[tuple]:
    """Autograde the sample submissions in a fresh scratch course; return one row per notebook."""
    if course.exists():
        shutil.rmtree(course)
    release.make_course(course, assignments)
    rows = []
    for assignment in assignments:
        generated = release.generate_release(course, assignment)
        samples.make_submissions(assignment, generated, course / "submitted")
        started = time.perf_counter()
        release.nbgrader(course, "autograde", assignment, "--force")
        elapsed = time.perf_counter() - started
        print(f"nbgrader autograde {assignment}: {len(samples.STUDENTS)} submissions in {elapsed:.0f} s")
        rows += score_rows(course, assignment)
    return rows


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
