"""Where things are: the assignment's source, the submissions in nbgrader's layout, and what a job carries.

A job carries the bytes of everything it needs, so a Dask worker on another machine needs no shared
file system: only the same Python environment.
"""

import fnmatch
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from autograder import config, notebooks


@dataclass(frozen=True)
class Limits:
    """Resource limits for one notebook run.

    Args:
        cell_timeout: seconds per cell before the kernel is interrupted.
        notebook_timeout: seconds per notebook before the whole sandbox is killed.
        memory_mb: address-space limit per process, in MB.
        max_processes: processes the sandboxed user may own.
        unsafe: run without bubblewrap (only when the instructor says so).
    """

    cell_timeout: float = config.CELL_TIMEOUT_S
    notebook_timeout: float = config.NOTEBOOK_TIMEOUT_S
    memory_mb: int = config.MEMORY_MB
    max_processes: int = config.MAX_PROCESSES
    unsafe: bool = False


@dataclass(frozen=True)
class Assignment:
    """What the instructor holds for one assignment.

    Args:
        name: the assignment id, e.g. ``01-foundations``.
        sources: notebook file name -> the source notebook's JSON text (solutions and hidden tests).
        files: relative path -> bytes of every other file nbgrader would copy next to the notebooks.
    """

    name: str
    sources: dict[str, str]
    files: dict[str, bytes] = field(default_factory=dict)

    @classmethod
    def load(cls, source_root: Path, name: str) -> "Assignment":
        folder = source_root / name
        sources = {p.name: p.read_text() for p in sorted(folder.glob("*.ipynb"))}
        if not sources:
            raise SystemExit(f"no source notebooks in {folder}: build the assignment first")
        files = {
            str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*"))
            if p.is_file() and p.suffix != ".ipynb" and not _ignored(p.relative_to(folder))
        }
        return cls(name, sources, files)

    def digest(self) -> str:
        return _digest({"sources": self.sources, "files": {k: v.hex() for k, v in self.files.items()}})


@dataclass(frozen=True)
class Job:
    """One student's submission to grade: the student id and the submitted files, name -> bytes."""

    student: str
    assignment: Assignment
    files: dict[str, bytes]
    limits: Limits
    timestamp: str | None = None

    def key(self) -> str:
        """Identifies the input: same key, same scores; a changed file or limit means grading again."""
        return _digest(
            {
                "files": {k: hashlib.sha256(v).hexdigest() for k, v in self.files.items()},
                "assignment": self.assignment.digest(),
                "limits": repr(self.limits),
            }
        )


def find_jobs(submissions: Path, assignment: Assignment, limits: Limits) -> list[Job]:
    """One job per ``<submissions>/<student>/<assignment>/`` folder, students in sorted order."""
    jobs = []
    for folder in sorted(submissions.glob(f"*/{assignment.name}")):
        if not folder.is_dir():
            continue
        files = {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
        stamp = files.pop("timestamp.txt", None)
        timestamp = stamp.decode(errors="replace").strip() if stamp else None
        jobs.append(Job(folder.parent.name, assignment, files, limits, timestamp))
    return jobs


def _ignored(relative: Path) -> bool:
    """True for files nbgrader never copies from source/ (nbgrader_config.py's ignore list)."""
    ignored = notebooks._course_config().CourseDirectory.ignore
    return any(fnmatch.fnmatch(part, pattern) for part in relative.parts for pattern in ignored)


def _digest(data: dict) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]
