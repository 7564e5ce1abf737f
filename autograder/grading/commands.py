"""The instructor's grading commands: import, grade, export, feedback. Inputs are checked before anything is written."""

import argparse
import logging
import sys
from datetime import datetime, timezone
from pathlib import Path

from autograder import inputs
from autograder.grading import canvas, lateness
from autograder.grading.layout import Limits

log = logging.getLogger("autograder")


def import_zip(args: argparse.Namespace) -> int:
    """``import``: a Canvas submissions.zip into the submissions folder, with each submission's time."""
    course = inputs.course(args.course)
    expected = set(inputs.assignment_in(course, args.assignment))
    inputs.zip_file(args.zip)
    inputs.output_folder(args.submissions)
    zone = inputs.time_zone(args.timezone)
    stored = canvas.import_zip(args.zip, args.assignment, expected, args.submissions, zone)
    unexpected = sorted({name for names in stored.values() for name in names} - expected)
    if unexpected:
        log.warning("files that are not notebooks of %s (not graded): %s", args.assignment, ", ".join(unexpected))
    print(f"imported {sum(map(len, stored.values()))} file(s) of {len(stored)} student(s) into {args.submissions}; "
          f"submission times in {args.submissions / lateness.RECORD_DIR}")
    return 0


def _canvas_target(args: argparse.Namespace) -> canvas.CanvasTarget:
    """The Canvas column and roster, checked (the column must exist in the export)."""
    roster = canvas.read_gradebook_export(args.canvas_export) if args.canvas_export else None
    target = canvas.CanvasTarget(roster, args.canvas_assignment)
    target.column(args.assignment)  # a UsageError now, not after grading
    return target


def _by_canvas_id(extensions: dict, roster: canvas.GradebookExport | None) -> dict:
    """Extensions keyed by Canvas user id: a roster's SIS login or SIS user id is accepted in their place."""
    if roster is None:
        return extensions
    ids = {key: s.id for s in roster.students for key in (s.id, s.sis_login_id, s.sis_user_id) if key}
    unknown = sorted(set(extensions) - set(ids))
    if unknown:
        raise inputs.UsageError(f"extensions for students not in the Canvas roster: {', '.join(unknown)} (use the Canvas ID or SIS login)")
    return {ids[student]: due for student, due in extensions.items()}


def _names(roster: canvas.GradebookExport | None) -> dict[str, str]:
    """Student id -> name from the Canvas roster ("Last, First" shown as "First Last")."""
    if roster is None:
        return {}
    return {s.id: " ".join(reversed([p.strip() for p in s.name.split(",", 1)])) for s in roster.students}


def grade(args: argparse.Namespace, limits: Limits, out: Path) -> int:
    """``grade``: check every input, then grade, merge, export and write feedback; a log file in ``out``."""
    from autograder.grading import sandbox

    if not limits.unsafe:
        inputs.course(args.course)
        try:
            sandbox.check_available()
        except sandbox.SandboxUnavailable as why:
            print(f"autograder grade: refusing to grade: {why}", file=sys.stderr)
            return 2
    run = _checked_run(args, limits, out)

    from autograder.grading import pipeline

    out.mkdir(parents=True, exist_ok=True)
    log_file = _log_to(out)
    log.info("grading %s: course %s, submissions %s, out %s, %s", run.assignment, run.course, run.submissions, out, limits)
    results = pipeline.grade(run)
    statuses: dict[str, int] = {}
    for cell in (c for r in results for n in r.notebooks for c in n.cells):
        statuses[cell.status] = statuses.get(cell.status, 0) + 1
    for result in results:
        log.debug("%s: %g/%g", result.student, result.score, result.max_score)
    summary = f"graded {len(results)} submission(s) of {run.assignment}: " + ", ".join(f"{v} {k}" for k, v in sorted(statuses.items()))
    log.info(summary)
    print(summary)
    print(f"results: {out / 'results.json'}, grades: {out / 'grades.csv'}, Canvas: {out / 'canvas.csv'}, "
          f"feedback: {out / 'feedback'}, log: {log_file}")
    return 1 if "grader-error" in statuses else 0


def _checked_run(args: argparse.Namespace, limits: Limits, out: Path):
    """The grading run ``args`` ask for, every input checked (a UsageError for the first mistake)."""
    course = inputs.course(args.course)
    notebooks = inputs.assignment_in(course, args.assignment)
    submissions = args.submissions.resolve()
    inputs.submissions_layout(submissions, args.assignment, notebooks)
    for student in args.student:
        if not (submissions / student / args.assignment).is_dir():
            raise inputs.UsageError(f"--student {student}: no folder {submissions / student / args.assignment}")
    if args.workers is not None:
        inputs.positive(args.workers, "--workers")
    if args.scheduler:
        inputs.scheduler(args.scheduler)
    due = inputs.utc_datetime(args.due, "--due") if args.due else None
    extensions = lateness.read_extensions(args.extensions, args.assignment) if args.extensions else {}
    has_due = due is not None or _has_due_date(course, args.assignment)
    if extensions and not has_due:
        raise inputs.UsageError("--extensions needs a due date: pass --due (the gradebook has none for this assignment)")
    target = _canvas_target(args)
    extensions = _by_canvas_id(extensions, target.export)
    flagged = lateness.flagged_late(submissions, args.assignment)
    if flagged and not has_due:
        log.warning("Canvas flags %d submission(s) late (%s) but %s has no due date, so no late penalty applies: pass --due",
                    len(flagged), ", ".join(flagged[:5]), args.assignment)
    from autograder.grading.pipeline import Run  # the grader itself: imported once the inputs are good

    return Run(args.assignment, course, submissions, out, limits, args.workers, args.scheduler, args.dask, tuple(args.student),
               args.force, lateness.Policy(due, extensions), target, _names(target.export))


def export(args: argparse.Namespace, out: Path) -> int:
    """``export``: grades.csv, notebooks.csv and canvas.csv from the gradebook, after manual grading."""
    course = inputs.course(args.course)
    _graded_assignment(course, args.assignment)
    target = _canvas_target(args)
    from autograder.grading import export as csvs
    from autograder.grading import store

    paths = csvs.write_all(out, course, args.assignment, store.load_all(out), target)
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0


def feedback(args: argparse.Namespace, out: Path) -> int:
    """``feedback``: re-render the feedback of a graded run, with the gradebook's manual scores and comments."""
    reveal_after = inputs.utc_datetime(args.reveal_after, "--reveal-after") if args.reveal_after else None
    course = inputs.course(args.course)
    from autograder.grading import store

    if not store.graded(out):
        raise inputs.UsageError(f"{out} holds no graded run of {args.assignment}: run `python -m autograder grade {args.assignment}` first "
                                "(or pass its --out)")
    names = _names(canvas.read_gradebook_export(args.canvas_export) if args.canvas_export else None)
    from autograder.grading import feedback as pages
    from autograder.grading import gradebook

    # Only a course whose gradebook holds the assignment gets nbgrader's feedback layout and the manual scores.
    graded_here = _in_gradebook(course, args.assignment)
    grades = {g.student: g for g in gradebook.read_grades(course, args.assignment)} if graded_here else {}
    reveal = args.reveal_hidden or pages.reveal_now(reveal_after)
    refused = {student: entry.get("refused", []) for student, entry in store.read_results(out).items()}
    paths = pages.write_all(out, store.load_all(out), reveal, grades, names, course if graded_here else None, args.submissions, refused)
    released = f", nbgrader's layout in {course / 'feedback'}" if graded_here else f"; {course} has no gradebook entry for {args.assignment}: no manual scores"
    print(f"wrote {len(paths)} feedback page(s) into {out / 'feedback'} (zips in {out / 'feedback-zips'}{released})"
          f"{'; hidden tests shown' if reveal else ''}")
    return 0


def _graded_assignment(course: Path, assignment: str) -> None:
    inputs.assignments([assignment], course)
    if not _in_gradebook(course, assignment):
        raise inputs.UsageError(f"the gradebook of {course} has no submission of {assignment}: run `python -m autograder grade {assignment}` first")


def _in_gradebook(course: Path, assignment: str) -> bool:
    """True when the course's gradebook exists and has ``assignment`` (never creates the gradebook)."""
    import sqlite3

    path = course / "gradebook.db"
    if not path.is_file():
        return False
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        try:
            return db.execute("select 1 from assignment where name = ?", (assignment,)).fetchone() is not None
        except sqlite3.DatabaseError:
            return False


def _has_due_date(course: Path, assignment: str) -> bool:
    import sqlite3

    if not _in_gradebook(course, assignment):
        return False
    with sqlite3.connect(f"file:{course / 'gradebook.db'}?mode=ro", uri=True) as db:
        row = db.execute("select duedate from assignment where name = ?", (assignment,)).fetchone()
    return bool(row and row[0])


def _log_to(out: Path) -> Path:
    """Log everything of this run, debug included, into ``out/logs/grade-<UTC time>.log``."""
    path = out / "logs" / f"grade-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    handler.setLevel(logging.DEBUG)
    log.addHandler(handler)
    log.info("command line: %s", " ".join(sys.argv))
    return path
