"""CSV files: grades.csv (the contract), a Canvas gradebook import, and the per-test breakdown."""

import csv
from pathlib import Path

from autograder.grading.results import SubmissionResult

# Canvas's gradebook import wants these leading columns; it matches students on ID (the Canvas user id,
# which `import` keeps as the student folder name) and ignores the ones left empty.
CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")


def write_all(out: Path, results: list[SubmissionResult]) -> list[Path]:
    """Write grades.csv, canvas.csv and tests.csv into ``out``; return their paths."""
    ordered = sorted(results, key=lambda r: r.student)
    return [grades(out / "grades.csv", ordered), canvas(out / "canvas.csv", ordered), breakdown(out / "tests.csv", ordered)]


def grades(path: Path, results: list[SubmissionResult]) -> Path:
    rows = [(r.student, r.assignment, f"{r.score:g}", f"{r.max_score:g}") for r in results]
    return _write(path, ("student", "assignment", "score", "max_score"), rows)


def canvas(path: Path, results: list[SubmissionResult]) -> Path:
    """One column named after the assignment, plus a Points Possible row, as Canvas exports and imports."""
    assignment = results[0].assignment if results else "assignment"
    header = (*CANVAS_COLUMNS, assignment)
    possible = ("Points Possible", "", "", "", "", f"{results[0].max_score:g}" if results else "")
    rows = [possible] + [(r.student, r.student, "", "", "", f"{r.score:g}") for r in results]
    return _write(path, header, rows)


def breakdown(path: Path, results: list[SubmissionResult]) -> Path:
    header = ("student", "assignment", "notebook", "grade_id", "points", "max_points", "status", "message")
    rows = [
        (r.student, r.assignment, n.name, c.grade_id, f"{c.points:g}", f"{c.max_points:g}", c.status, c.message)
        for r in results
        for n in r.notebooks
        for c in n.cells
    ]
    return _write(path, header, rows)


def _write(path: Path, header: tuple, rows: list[tuple]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path
