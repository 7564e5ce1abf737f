"""CSV files from the gradebook, so the scores a TA gives in the formgrader and the late penalties count.

- ``grades.csv``: per student, the score that counts (raw less the late penalty), its maximum, the raw
  score, the penalty, the submission time, whether a written answer still waits for a person, and
  notes: the files refused and the notebooks that never ran, and why;
- ``notebooks.csv``: the same per notebook, its notes saying why it did not run or what was repaired;
- ``canvas.csv``: a Canvas gradebook import for an existing assignment: its column header as Canvas
  exported it ("Lab 1 (123456)"), one row per student of the roster;
- ``tests.csv``: the autograder's per-test breakdown (from the results).
"""

import csv
import logging
from pathlib import Path

from autograder.grading import gradebook, store
from autograder.grading.canvas import CanvasTarget, RosterStudent
from autograder.grading.results import SubmissionResult

log = logging.getLogger("autograder")

# Canvas's gradebook import matches students on ID (the Canvas user id, which `import` keeps as the
# student folder name) and ignores the other leading columns when they are empty.
CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")


def write_all(
    out: Path, course: Path, assignment: str, results: list[SubmissionResult], target: CanvasTarget = CanvasTarget(),
    grades: list[gradebook.StudentGrades] | None = None,
) -> list[Path]:
    """Write grades.csv, notebooks.csv, canvas.csv and tests.csv into ``out``; return their paths.

    Args:
        grades: the gradebook's view, when the caller has just read it (default: read it now).
    """
    grades = gradebook.read_grades(course, assignment) if grades is None else grades
    ordered = sorted(results, key=lambda r: r.student)
    ungraded = sorted({r.student for r in results} - {g.student for g in grades})
    if ungraded:
        log.warning("not in the gradebook (the grader failed on them; grade them again): %s. Their scores are left empty", ", ".join(ungraded))
    refused = {student: entry.get("refused", []) for student, entry in store.read_results(out).items()}
    graded = {g.student for g in grades}
    not_graded = {s: why for s, why in store.read_not_graded(out).items() if s not in graded}
    return [
        totals(out / "grades.csv", assignment, grades, ungraded, submission_notes(ordered, refused), not_graded),
        per_notebook(out / "notebooks.csv", grades, ordered),
        canvas(out / "canvas.csv", assignment, grades, target, [*ungraded, *not_graded]),
        breakdown(out / "tests.csv", ordered),
    ]


def submission_notes(results: list[SubmissionResult], refused: dict[str, list[str]]) -> dict[str, str]:
    """Student id -> what was not graded and why: the files refused, the notebooks that never ran."""
    notes = {}
    for result in results:
        lines = list(refused.get(result.student, []))  # each says what was refused and why
        lines += [f"{n.name} not graded ({n.refusal})" for n in result.notebooks if n.refusal]
        if lines:
            notes[result.student] = "; ".join(lines)
    return notes


def totals(
    path: Path, assignment: str, grades: list[gradebook.StudentGrades], ungraded: list[str] = (), notes: dict[str, str] | None = None,
    not_graded: dict[str, str] | None = None,
) -> Path:
    """One row per submission in the gradebook, and one with an empty score per submission not in it.

    Args:
        ungraded: students the grader failed on (grade them again).
        not_graded: student id -> why the whole submission was refused (the score stays empty, so an
            LMS import leaves the student's grade alone until the instructor decides).
    """
    notes, not_graded = notes or {}, not_graded or {}
    header = ("student", "assignment", "score", "max_score", "raw_score", "late_penalty", "submitted_at", "seconds_late",
              "needs_manual_grade", "notes")
    rows = [
        (g.student, assignment, f"{g.score:g}", f"{g.max_score:g}", f"{g.raw_score:g}", f"{g.penalty:g}",
         g.lateness.submitted_at or "", f"{g.lateness.seconds_late:g}", str(any(n.needs_manual_grade for n in g.notebooks)).lower(),
         notes.get(g.student, ""))
        for g in grades
    ]
    rows += [(student, assignment, "", "", "", "", "", "", "", "the grader failed: grade again") for student in ungraded]
    rows += [(student, assignment, "", "", "", "", "", "", "", f"not graded: {why}") for student, why in not_graded.items()]
    return _write(path, header, sorted(rows))


def per_notebook(path: Path, grades: list[gradebook.StudentGrades], results: list[SubmissionResult] = ()) -> Path:
    """One row per notebook in the gradebook; its notes from the result: why it did not run, what was repaired."""
    notes = {(r.student, Path(n.name).stem): n.summary() for r in results for n in r.notebooks}
    header = ("student", "notebook", "score", "max_score", "raw_score", "late_penalty", "needs_manual_grade", "notes")
    rows = [
        (g.student, n.name, f"{max(0.0, n.score - n.penalty):g}", f"{n.max_score:g}", f"{n.score:g}", f"{n.penalty:g}",
         str(n.needs_manual_grade).lower(), notes.get((g.student, n.name), ""))
        for g in grades
        for n in g.notebooks
    ]
    return _write(path, header, rows)


def canvas(path: Path, assignment: str, grades: list[gradebook.StudentGrades], target: CanvasTarget, ungraded: list[str] = ()) -> Path:
    """A Canvas import: the assignment's column, a Points Possible row, one row per roster student.

    With a roster, every roster student gets a row (0 when there is no submission, as nbgrader export
    does; empty, which Canvas leaves unchanged, when the grader failed on it) and a graded student
    missing from the roster is reported, not written (Canvas could not match them); ``ungraded`` are the
    students whose score stays empty (the grader failed, or their whole submission was refused). Without one, one
    row per graded student.
    """
    column = target.column(assignment)
    if target.export is None:
        log.warning("canvas.csv: no --canvas-export given, so its column %r is not an existing Canvas assignment: "
                    "Canvas creates a new one on import", column)
    by_id = {g.student: g for g in grades}
    maximum = max((g.max_score for g in grades), default=0.0)
    roster = target.export.students if target.export else [RosterStudent(_canvas_name(g), g.student) for g in grades]
    missing = [s.id for s in roster if s.id not in by_id and s.id not in ungraded]
    if missing:
        log.warning("canvas.csv: %d roster student(s) without a submission get 0: %s", len(missing), ", ".join(missing))
    extra = sorted(set(by_id) - {s.id for s in roster})
    if extra:
        log.warning("canvas.csv: graded but not in the Canvas roster, left out: %s", ", ".join(extra))
    possible = target.export.points_possible.get(column, "") if target.export else ""
    if possible and _number(possible) not in (None, maximum):
        log.warning("canvas.csv: Canvas says %s points possible for %r, the gradebook %g", possible, column, maximum)
    rows = [("Points Possible", "", "", "", "", possible or f"{maximum:g}")]
    rows += [(*s.row(), f"{by_id[s.id].score:g}" if s.id in by_id else "" if s.id in ungraded else "0") for s in roster]
    return _write(path, (*CANVAS_COLUMNS, column), rows)


def breakdown(path: Path, results: list[SubmissionResult]) -> Path:
    header = ("student", "assignment", "notebook", "grade_id", "points", "max_points", "status", "message")
    rows = [
        (r.student, r.assignment, n.name, c.grade_id, f"{c.points:g}", f"{c.max_points:g}", c.status, c.message)
        for r in results
        for n in r.notebooks
        for c in n.cells
    ]
    return _write(path, header, rows)


def _canvas_name(grades: gradebook.StudentGrades) -> str:
    """Canvas's "Last, First" form when the gradebook has a name, else the id."""
    if grades.last_name and grades.first_name:
        return f"{grades.last_name}, {grades.first_name}"
    return grades.full_name or grades.student


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _write(path: Path, header: tuple, rows: list[tuple]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path
