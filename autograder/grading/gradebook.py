"""Merge results into nbgrader's gradebook, from one process, as nbgrader's autograde would.

Workers never open the database: the parent writes each result as it arrives, so sqlite never sees
two writers. What is written mirrors nbgrader's Autograde converter and SaveAutoGrades preprocessor:
the student and the submission (with its timestamp), an auto_score for every autograded cell, the
"needs manual grade" flags, and the graded notebook in autograded/<student>/<assignment>/ for the
formgrader.
"""

import warnings
from pathlib import Path

import nbformat
from nbgrader import utils as nbutils
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import SaveCells

from autograder import config
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
