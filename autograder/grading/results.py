"""What grading produces: one result per graded cell, notebook and submission, and their JSON form."""

from dataclasses import asdict, dataclass, field

# grader-error: the grader, not the student, failed (a sandbox that could not start, a crashed worker).
STATUSES = ("passed", "failed", "error", "timeout", "killed", "missing", "tampered", "grader-error")
GRADER_ERROR = "grader-error"
# The notebook never ran: not handed in, or not a readable notebook (normalize.Normalized's statuses).
NOT_RUN = ("missing", "tampered")


@dataclass
class CellResult:
    """One autograded cell: its points out of its maximum, a status from STATUSES and a message."""

    grade_id: str
    points: float
    max_points: float
    status: str
    message: str = ""


@dataclass
class NotebookResult:
    """One notebook of a submission.

    Args:
        name: the notebook's file name, e.g. ``01-demo.ipynb``.
        cells: the autograded cells, in notebook order.
        notes: what normalizing changed (restored cells, dropped duplicates...), for the instructor.
        seconds: wall time to grade the notebook: normalize, start the sandbox and kernel, run, score.
        cell_seconds: the part of it the kernel spent executing cells; the rest is the grader's overhead.
        executed: the executed notebook as JSON text (None when it never ran).
    """

    name: str
    cells: list[CellResult]
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    cell_seconds: float = 0.0
    executed: str | None = None

    @property
    def score(self) -> float:
        return sum(c.points for c in self.cells)

    @property
    def max_score(self) -> float:
        return sum(c.max_points for c in self.cells)

    @property
    def refusal(self) -> str | None:
        """Why the notebook was not run (e.g. ``missing: notebook not submitted``), None when it ran.

        Every graded cell of a notebook that never ran carries the same status and message.
        """
        if self.executed is None and self.cells and all(c.status in NOT_RUN for c in self.cells):
            return f"{self.cells[0].status}: {self.cells[0].message}"
        return None

    def summary(self) -> str:
        """What the instructor should know about this notebook in one line: why it did not run, what was repaired."""
        return "; ".join(([self.refusal] if self.refusal else []) + self.notes)


@dataclass
class SubmissionResult:
    """One student's submission of one assignment; ``key`` identifies its input (see layout.submission_key)."""

    student: str
    assignment: str
    key: str
    notebooks: list[NotebookResult]
    timestamp: str | None = None

    @property
    def score(self) -> float:
        return sum(n.score for n in self.notebooks)

    @property
    def max_score(self) -> float:
        return sum(n.max_score for n in self.notebooks)

    @property
    def grader_failed(self) -> bool:
        """True if any cell's status is grader-error: the result is not the student's and must not be recorded."""
        return any(c.status == GRADER_ERROR for n in self.notebooks for c in n.cells)

    def grader_errors(self) -> list[str]:
        return sorted({f"{n.name}: {c.message}" for n in self.notebooks for c in n.cells if c.status == GRADER_ERROR})

    def to_dict(self, with_notebooks: bool = True) -> dict:
        """Plain data for JSON; ``with_notebooks=False`` drops the executed notebooks (results.json)."""
        data = asdict(self)
        if not with_notebooks:
            for notebook in data["notebooks"]:
                notebook.pop("executed")
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "SubmissionResult":
        notebooks = [
            NotebookResult(**{**n, "cells": [CellResult(**c) for c in n["cells"]]}) for n in data["notebooks"]
        ]
        return cls(**{**data, "notebooks": notebooks})
