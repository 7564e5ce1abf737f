"""Measure, in one run: each source notebook's full execution time, and nbgrader autograde per student.

    python benchmarks/notebook_times.py [ASSIGNMENT ...]

Targets (issue 2): every notebook executes in under 2 minutes on 2 cores, and an assignment
autogrades in under 2 minutes per student.
"""

import sys
import tempfile
import time
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autograder import config, execute, release, samples  # noqa: E402

LIMIT_S = 120


def time_notebooks(assignment: str) -> list[tuple[str, float]]:
    rows = []
    for path in sorted((config.SOURCE / assignment).glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        with tempfile.TemporaryDirectory() as work:
            started = time.perf_counter()
            execute.execute(notebook, Path(work), mode="full")
            rows.append((path.name, time.perf_counter() - started))
    return rows


def time_autograde(assignment: str) -> float:
    """Seconds of plain `nbgrader autograde` for one student (the reference submission)."""
    with tempfile.TemporaryDirectory() as scratch:
        course = release.make_course(Path(scratch), [assignment])
        generated = release.generate_release(course, assignment)
        samples.make_submissions(assignment, generated, course / "submitted")
        started = time.perf_counter()
        release.nbgrader(course, "autograde", assignment, "--student", samples.STUDENTS[0], "--force")
        return time.perf_counter() - started


def main(assignments: list[str]) -> int:
    print(f"{'notebook':48s} {'full run (s)':>12s}  target < {LIMIT_S} s")
    worst = 0.0
    for assignment in assignments:
        for name, seconds in time_notebooks(assignment):
            worst = max(worst, seconds)
            print(f"{assignment + '/' + name:48s} {seconds:12.1f}  {'ok' if seconds < LIMIT_S else 'OVER'}")
    for assignment in assignments:
        seconds = time_autograde(assignment)
        worst = max(worst, seconds)
        print(f"autograde {assignment}, one student: {seconds:.1f} s  {'ok' if seconds < LIMIT_S else 'OVER'}")
    return 0 if worst < LIMIT_S else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or config.assignments()))
