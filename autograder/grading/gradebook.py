"""Merge results into nbgrader's gradebook, from one process, as nbgrader's autograde would.

Workers never open the database: the parent writes each result as it arrives, so sqlite never sees
two writers. What is written mirrors nbgrader's Autograde converter and SaveAutoGrades preprocessor:
the student and the submission (with its timestamp), an auto_score for every autograded cell, the
"needs manual grade" flags, and the graded notebook in autograded/<student>/<assignment>/ for the
formgrader.
"""

import warnings
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbgrader import utils as nbutils
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import SaveCells

from autograder import config
from autograder.grading import lateness
from autograder.grading.canvas import RosterStudent
from autograder.grading.layout import Assignment
from autograder.grading.results import SubmissionResult


def db_url(course: Path) -> str:
    return f"sqlite:///{course / config.GRADEBOOK}"


def ensure_assignment(course: Path, assignment: Assignment) -> None:
    """Record the assignment's notebooks and cells, as generate_assignment does, if the gradebook lacks them."""
    with Gradebook(db_url(course)) as gradebook:
        gradebook.update_or_create_assignment(assignment.name)
        for name, text in assignment.sources.items():
            notebook_id = Path(name).stem
            try:
                gradebook.find_notebook(notebook_id, assignment.name)
                continue
            except MissingEntry:
                pass
            resources = {"nbgrader": {"notebook": notebook_id, "assignment": assignment.name, "db_url": db_url(course)}}
            SaveCells().preprocess(nbformat.reads(text, as_version=4), resources)


def merge(course: Path, result: SubmissionResult) -> None:
    """Write one submission's scores into the gradebook and its graded notebooks into autograded/."""
    with Gradebook(db_url(course)) as gradebook, warnings.catch_warnings():
        # nbgrader's update_or_create_submission trips SQLAlchemy's autoflush warnings; its own autograde does too.
        warnings.filterwarnings("ignore", message=".*not in session.*")
        gradebook.update_or_create_student(result.student)
        stamp = {"timestamp": nbutils.parse_utc(result.timestamp)} if result.timestamp else {}
        gradebook.update_or_create_submission(result.assignment, result.student, **stamp)
        for notebook in result.notebooks:
            notebook_id = Path(notebook.name).stem
            executed = nbformat.reads(notebook.executed, as_version=4) if notebook.executed else None
            scores = {c.grade_id: c.points for c in notebook.cells}
            submission = gradebook.find_submission_notebook(notebook_id, result.assignment, result.student)
            for grade in submission.grades:
                _set_grade(grade, scores, executed is not None)
            for comment in submission.comments:
                comment.auto_comment = None
            gradebook.db.commit()
            if executed is not None:
                target = course / config.AUTOGRADED_DIR / result.student / result.assignment / notebook.name
                target.parent.mkdir(parents=True, exist_ok=True)
                nbformat.write(executed, target)


def _set_grade(grade, scores: dict[str, float], ran: bool) -> None:
    """nbgrader's rule: an autograded cell gets its score; a written answer waits for a person."""
    if grade.name in scores:
        grade.auto_score = scores[grade.name]
    elif ran:
        grade.auto_score = None  # a written answer: nobody but a grader can score it
    else:
        grade.auto_score = 0  # a notebook that never ran, as nbgrader does for a missing file
    grade.needs_manual_grade = grade.manual_score is not None or grade.auto_score is None


@dataclass(frozen=True)
class CellGrade:
    """One graded cell as the gradebook has it: the autograder's score, or the one a person gave.

    Args:
        name: the cell's grade_id.
        score: the points that count (the manual score when there is one), None when nobody scored it yet.
        max_score: the cell's maximum.
        manual: True when a person gave the score.
        comment: the grader's comment on the cell, if any.
    """

    name: str
    score: float | None
    max_score: float
    manual: bool
    comment: str | None


@dataclass(frozen=True)
class NotebookGrades:
    name: str
    cells: dict[str, CellGrade]
    score: float
    max_score: float
    penalty: float
    needs_manual_grade: bool


@dataclass(frozen=True)
class StudentGrades:
    """One student's submission of one assignment, from the gradebook (manual scores and penalties included)."""

    student: str
    first_name: str
    last_name: str
    notebooks: list[NotebookGrades]
    lateness: lateness.Lateness

    @property
    def raw_score(self) -> float:
        return sum(n.score for n in self.notebooks)

    @property
    def penalty(self) -> float:
        return sum(n.penalty for n in self.notebooks)

    @property
    def score(self) -> float:
        """What counts: the raw score less the late penalty, never below 0 (as nbgrader export)."""
        return max(0.0, self.raw_score - self.penalty)

    @property
    def max_score(self) -> float:
        return sum(n.max_score for n in self.notebooks)

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)


def exists(course: Path) -> bool:
    return (course / config.GRADEBOOK).is_file()


def apply_lateness(course: Path, assignment: str, policy: lateness.Policy, times: dict[str, str | None]) -> list[str]:
    """Due date, extensions, submission times and late penalties into the gradebook (see lateness.apply)."""
    with Gradebook(db_url(course)) as gradebook:
        return lateness.apply(gradebook, assignment, policy, times, lateness.plugin(course))


def read_grades(course: Path, assignment: str, reassign_penalties: bool = True) -> list[StudentGrades]:
    """Every submission of ``assignment`` in the course's gradebook, students in sorted order.

    Args:
        course: the nbgrader course folder.
        assignment: the assignment id.
        reassign_penalties: assign the late penalties again first, with the current scores (a manual
            score given since grading changes what a percentage penalty takes).
    """
    with Gradebook(db_url(course)) as gradebook:
        if reassign_penalties:
            lateness.assign_penalties(gradebook, assignment, lateness.plugin(course))
        late = lateness.summary(gradebook, assignment)
        found = []
        for submission in gradebook.find_assignment(assignment).submissions:
            student = submission.student
            notebooks = [_notebook_grades(n) for n in sorted(submission.notebooks, key=lambda n: n.name)]
            found.append(StudentGrades(student.id, student.first_name or "", student.last_name or "", notebooks, late[student.id]))
    return sorted(found, key=lambda s: s.student)


def _notebook_grades(notebook) -> NotebookGrades:
    comments = {c.name: c.manual_comment for c in notebook.comments}
    cells = {
        g.name: CellGrade(g.name, g.score if (g.manual_score is not None or g.auto_score is not None) else None,
                          float(g.max_score), g.manual_score is not None, comments.get(g.name))
        for g in notebook.grades
    }
    for name, comment in comments.items():
        cells.setdefault(name, CellGrade(name, None, 0.0, False, comment))
    return NotebookGrades(notebook.name, cells, float(notebook.score), float(notebook.max_score),
                          float(notebook.late_submission_penalty or 0.0), bool(notebook.needs_manual_grade))


def record_roster(course: Path, students: list[RosterStudent]) -> None:
    """Every roster student into the gradebook, with their name, so the formgrader and ``nbgrader export`` show it.

    Args:
        course: the nbgrader course folder.
        students: the LMS roster; Canvas writes names as "Last, First".
    """
    with Gradebook(db_url(course)) as gradebook:
        for student in students:
            last, _, first = student.name.partition(",")
            gradebook.update_or_create_student(student.id, first_name=first.strip() or None, last_name=last.strip() or None,
                                               lms_user_id=student.id)
