"""Late work: when a submission arrived (from the LMS, never from a student's file), due dates, penalties.

``import`` writes one record per student and assignment, ``<submissions>/.lms/<student>/<assignment>.json``,
outside the student's folder, holding the time the LMS gives. ``grade`` stores that time in the
gradebook, the due date (``--due``) and per-student extensions (``--extensions``, a small CSV or YAML
file) as nbgrader's own fields, and assigns each notebook's penalty with nbgrader's late-penalty plugin
(``c.AssignLatePenalties.plugin_class`` and ``c.LateSubmissionPlugin.penalty_method`` in the course's
nbgrader_config.py), so an instructor's existing plugin works. Penalties are assigned again on each
export, with the current scores, so a manual score the formgrader added counts.
"""

import csv
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from autograder.inputs import UsageError, utc_datetime

RECORD_DIR = ".lms"  # hidden, beside the student folders; students never write there


@dataclass(frozen=True)
class Submitted:
    """When one submission arrived, as the LMS says.

    Args:
        at: the submission time, ISO 8601 with its zone.
        source: where the time comes from, e.g. ``canvas zip entry time``.
        lms_late: the LMS's own late flag (Canvas's ``_LATE``), None when it gives none.
    """

    at: str
    source: str
    lms_late: bool | None = None


@dataclass(frozen=True)
class Policy:
    """What the instructor says about due dates for one grading run.

    Args:
        due: the assignment's due date (None: keep the gradebook's).
        extensions: student id -> that student's own due date for this assignment.
    """

    due: datetime | None = None
    extensions: dict[str, datetime] = field(default_factory=dict)


@dataclass(frozen=True)
class Lateness:
    """One submission's lateness, as the gradebook has it (shown in results.json and the feedback)."""

    submitted_at: str | None
    due: str | None
    seconds_late: float
    penalty: float
    extended: bool

    def describe(self) -> str:
        if self.submitted_at is None:
            return "no submission time recorded: not treated as late"
        if self.due is None:
            return f"submitted {self.submitted_at}; no due date set"
        if self.seconds_late <= 0:
            return f"submitted {self.submitted_at}, on time (due {self.due}{', extended' if self.extended else ''})"
        return (f"submitted {self.submitted_at}, {_duration(self.seconds_late)} late (due {self.due}"
                f"{', extended' if self.extended else ''}); late penalty {self.penalty:g} point(s)")

    def to_dict(self) -> dict:
        return asdict(self)


def record_path(submissions: Path, student: str, assignment: str) -> Path:
    return submissions / RECORD_DIR / student / f"{assignment}.json"


def write_record(submissions: Path, student: str, assignment: str, submitted: Submitted) -> Path:
    path = record_path(submissions, student, assignment)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(submitted), indent=1))
    return path


def read_record(submissions: Path, student: str, assignment: str) -> tuple[Submitted | None, str | None]:
    """The recorded submission time, and a problem to report when the record is unreadable.

    A broken record never stops the class: that submission is graded with no time (not late), and the
    problem is reported to the instructor.
    """
    path = record_path(submissions, student, assignment)
    if not path.is_file():
        return None, None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        submitted = Submitted(**data)
        utc_datetime(submitted.at)
    except (ValueError, TypeError, UsageError, UnicodeDecodeError) as error:
        return None, f"{student}: unreadable submission time in {path} ({error}); graded as not late"
    return submitted, None


def flagged_late(submissions: Path, assignment: str) -> list[str]:
    """Students whose submission the LMS flagged late (Canvas's ``_LATE``), from the import records."""
    late = []
    for path in sorted((submissions / RECORD_DIR).glob(f"*/{assignment}.json")):
        submitted, _ = read_record(submissions, path.parent.name, assignment)
        if submitted is not None and submitted.lms_late:
            late.append(path.parent.name)
    return late


def read_extensions(path: Path, assignment: str) -> dict[str, datetime]:
    """Per-student due dates for ``assignment`` from a CSV (columns student, assignment, due) or YAML file.

    The YAML form is a list of mappings with the same three keys. Rows for other assignments are skipped.
    """
    if not path.is_file():
        raise UsageError(f"extensions file {path} does not exist")
    try:
        rows = _yaml_rows(path) if path.suffix in (".yml", ".yaml") else list(csv.DictReader(path.open(encoding="utf-8")))
    except (UnicodeDecodeError, csv.Error) as error:
        raise UsageError(f"extensions file {path} is not readable text: {error}") from None
    chosen = {}
    for number, row in enumerate(rows, start=2):
        if not isinstance(row, dict) or not {"student", "assignment", "due"} <= set(row):
            raise UsageError(f"{path}: entry {number - 1} needs student, assignment and due (e.g. 1234,01-foundations,2026-12-08T17:00)")
        if str(row["assignment"]).strip() == assignment:
            chosen[str(row["student"]).strip()] = utc_datetime(str(row["due"]), f"{path}: due date of {row['student']}")
    return chosen


def _yaml_rows(path: Path) -> list:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise UsageError(f"extensions file {path} is not valid YAML: {error}") from None
    if not isinstance(data, list):
        raise UsageError(f"extensions file {path} should be a list of entries with student, assignment and due")
    return data


def apply(gradebook, assignment: str, policy: Policy, times: dict[str, str | None], plugin) -> list[str]:
    """Store due date, extensions and submission times in ``gradebook``; assign every late penalty.

    Args:
        gradebook: an open nbgrader ``Gradebook``.
        assignment: the assignment id.
        policy: the due date and extensions given for this run.
        times: student id -> the trusted submission time (ISO) for the submissions found this run.
        plugin: a ``LateSubmissionPlugin`` (see ``plugin``).

    Returns:
        Problems to report (an extension for a student with no submission, or one before the due date).
    """
    from nbgrader import utils as nbutils
    from nbgrader.api import MissingEntry

    if policy.due is not None:
        gradebook.update_or_create_assignment(assignment, duedate=policy.due)
    record = gradebook.find_assignment(assignment)
    problems = []
    for student, stamp in times.items():
        try:
            gradebook.find_submission(assignment, student).timestamp = nbutils.parse_utc(stamp) if stamp else None
        except MissingEntry:
            continue  # not merged (a grader error): nothing to date
    for student, due in policy.extensions.items():
        if record.duedate is None:
            raise UsageError("extensions need a due date: pass --due")
        try:
            submission = gradebook.find_submission(assignment, student)
        except MissingEntry:
            problems.append(f"extension for {student}, who has no graded submission of {assignment}")
            continue
        submission.extension = nbutils.parse_utc(due) - record.duedate
        if submission.extension.total_seconds() < 0:
            problems.append(f"extension for {student} is before the due date: it makes the deadline earlier")
    gradebook.db.commit()
    assign_penalties(gradebook, assignment, plugin)
    return problems


def assign_penalties(gradebook, assignment: str, plugin) -> None:
    """Each notebook's penalty from the plugin, as nbgrader's AssignLatePenalties does, with the current scores."""
    for submission in gradebook.find_assignment(assignment).submissions:
        late = submission.total_seconds_late
        for notebook in submission.notebooks:
            penalty = plugin.late_submission_penalty(submission.student.id, notebook.score, late) if late > 0 else None
            # nbgrader's own bounds (AssignLatePenalties._check_late_penalty): 0 <= penalty <= score.
            notebook.late_submission_penalty = None if penalty is None else min(max(penalty, 0.0), notebook.score)
    gradebook.db.commit()


def plugin(course: Path):
    """The course's late-penalty plugin, configured from its nbgrader_config.py as nbgrader would."""
    from nbgrader.preprocessors import AssignLatePenalties
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    settings = Config()
    if (course / "nbgrader_config.py").is_file():
        settings = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    assigner = AssignLatePenalties(config=settings)
    assigner.init_plugin()
    return assigner.plugin_inst


def summary(gradebook, assignment: str) -> dict[str, Lateness]:
    """Student id -> lateness, for every submission of ``assignment`` in ``gradebook``."""
    lateness = {}
    for submission in gradebook.find_assignment(assignment).submissions:
        due = submission.duedate
        lateness[submission.student.id] = Lateness(
            _iso(submission.timestamp), _iso(due), float(submission.total_seconds_late),
            float(submission.late_submission_penalty or 0.0), submission.extension is not None,
        )
    return lateness


def _iso(moment: datetime | None) -> str | None:
    """nbgrader keeps naive UTC datetimes: shown with their zone."""
    return None if moment is None else moment.replace(tzinfo=timezone.utc).isoformat(timespec="seconds")


def _duration(seconds: float) -> str:
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    return " ".join(f"{n} {unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "min")) if n) or f"{int(seconds)} s"
