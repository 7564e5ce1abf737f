"""Where things are: the assignment's source, the submissions in nbgrader's layout, and what a job carries.

A job carries the bytes of everything it needs, so a Dask worker on another machine needs no shared
file system: only the same Python environment.
"""

import fnmatch
import hashlib
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from autograder import config
from autograder.grading import lateness

# A file in source/<assignment>/ listing, one glob a line, the data files a student hands in besides the
# notebooks (e.g. ``results/*.npz``). Without it only the assignment's notebooks are taken.
SUBMITTED_FILES = "SUBMITTED_FILES"
# A submitted file larger than this is refused unread (a notebook of the labs is well under 10 MB).
MAX_FILE_MB = 200


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

    def declared_files(self) -> list[str]:
        """Globs of the data files a submission may carry besides the notebooks (from SUBMITTED_FILES)."""
        text = self.files.get(SUBMITTED_FILES, b"").decode("utf-8", errors="replace")
        return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]

    def digest(self) -> str:
        return _digest({"sources": self.sources, "files": {k: v.hex() for k, v in self.files.items()}})


@dataclass(frozen=True)
class Job:
    """One student's submission to grade.

    Args:
        student: the student id (the folder name).
        assignment: what the instructor holds.
        files: the files taken from the submission, relative name -> bytes.
        limits: the sandbox's limits.
        timestamp: the submission time the LMS recorded (ISO), None when there is no record.
        refused: why files were refused (symbolic links, special files), one message each.
    """

    student: str
    assignment: Assignment
    files: dict[str, bytes]
    limits: Limits
    timestamp: str | None = None
    refused: tuple[str, ...] = ()

    def key(self) -> str:
        """Identifies the input: same key, same scores; a changed file or limit means grading again."""
        return _digest(
            {
                "files": {k: hashlib.sha256(v).hexdigest() for k, v in self.files.items()},
                "assignment": self.assignment.digest(),
                "limits": repr(self.limits),
            }
        )


@dataclass(frozen=True)
class Scan:
    """What a submissions folder holds for one assignment.

    Args:
        jobs: one per student folder that has the assignment, students in sorted order.
        problems: what was skipped or refused and why, for the instructor (one line each).
        not_graded: student id -> why a student's whole submission was not taken (a linked assignment
            folder, notebooks outside it, an unreadable folder), so grades.csv can say so.
    """

    jobs: list[Job]
    problems: list[str]
    not_graded: dict[str, str] = field(default_factory=dict)


def scan(submissions: Path, assignment: Assignment, limits: Limits, students: tuple[str, ...] = ()) -> Scan:
    """The jobs of ``submissions``, and what was skipped; one bad folder never stops the others.

    Only the assignment's notebooks and the files its source folder declares (``SUBMITTED_FILES``) are
    taken; a symbolic link or a special file (FIFO, device) is refused, never followed. A folder name
    that is not UTF-8 is skipped and reported. The submission time comes from the LMS record that
    ``import`` wrote (lateness.RECORD_DIR), never from a file in the student's folder.

    Args:
        submissions: the folder in nbgrader's ``<student>/<assignment>/`` layout.
        assignment: the assignment as loaded from source/.
        limits: the limits each job carries.
        students: only these student ids (all when empty).
    """
    jobs, problems, not_graded = [], [], {}
    for entry in sorted(os.scandir(submissions), key=lambda e: e.name):
        if entry.name.startswith(".") or not entry.is_dir(follow_symlinks=False) or (students and entry.name not in students):
            continue
        if not _utf8(entry.name):
            problems.append(f"skipped student folder {os.fsencode(entry.name)!r}: its name is not UTF-8; rename it")
            continue
        folder = Path(entry.path) / assignment.name
        why = _refused_whole(Path(entry.path), folder)
        if why:
            not_graded[entry.name] = why
            problems.append(f"{entry.name}: {why}")
        if why or not folder.is_dir():  # no folder and no loose notebooks: nothing handed in for this assignment
            continue
        try:
            files, refused = _take(folder, assignment)
        except OSError as error:  # unreadable (permissions, a disk error): this student only
            not_graded[entry.name] = f"cannot read {folder} ({error}); not graded"
            problems.append(f"{entry.name}: {not_graded[entry.name]}")
            continue
        problems += [f"{entry.name}: {why}" for why in refused]
        submitted, problem = lateness.read_record(submissions, entry.name, assignment.name)
        problems += [problem] if problem else []
        jobs.append(Job(entry.name, assignment, files, limits, submitted.at if submitted else None, tuple(refused)))
    return Scan(jobs, problems, not_graded)


def _refused_whole(student: Path, folder: Path) -> str | None:
    """Why a student's whole submission for the assignment in ``folder`` is not taken, or None."""
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        return f"{folder.name} is not a plain folder (a link or a file): refused"
    loose = [] if folder.exists() else sorted(p.name for p in student.glob("*.ipynb"))
    if loose:
        return (f"notebooks directly in the student's folder ({', '.join(loose[:3])}), not graded: "
                f"expected {student.name}/{folder.name}/{loose[0]}")
    return None


def _take(folder: Path, assignment: Assignment) -> tuple[dict[str, bytes], list[str]]:
    """The files the grader takes from one submission folder, and why others were refused.

    Other notebooks are kept by name only (empty), so grading can say what a misnamed notebook was called.
    """
    declared = assignment.declared_files()
    files, refused = {}, []
    for path in sorted(_walk(folder)):
        relative = str(path.relative_to(folder))
        mode = path.lstat().st_mode
        if not _utf8(relative):
            refused.append(f"{os.fsencode(relative)!r}: the file name is not UTF-8; refused")
        elif stat.S_ISLNK(mode):
            refused.append(f"{relative} is a symbolic link: refused, not followed; hand in the file itself")
        elif not stat.S_ISREG(mode):
            refused.append(f"{relative} is not a regular file (a FIFO, socket or device): refused")
        elif path.lstat().st_size > MAX_FILE_MB * 2**20:
            refused.append(f"{relative} is larger than {MAX_FILE_MB} MB: refused")
        elif relative in assignment.sources or any(fnmatch.fnmatch(relative, pattern) for pattern in declared):
            if relative not in assignment.files:  # the course's own files win over the student's
                files[relative] = path.read_bytes()
        elif path.suffix == ".ipynb" and path.parent == folder:
            files[relative] = b""
    return files, refused


def _walk(folder: Path) -> list[Path]:
    """Every entry under ``folder``, never entering a linked folder."""
    found = []
    for entry in os.scandir(folder):
        path = Path(entry.path)
        if entry.is_dir(follow_symlinks=False):
            found += _walk(path)
        else:
            found.append(path)
    return found


def _utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes arrive as surrogates
        return False
    return True


def _ignored(relative: Path) -> bool:
    """True for files nbgrader never copies from source/ (nbgrader_config.py's ignore list)."""
    from autograder import notebooks  # nbgrader's config loader: imported only when an assignment is loaded

    ignored = notebooks._course_config().CourseDirectory.ignore
    return any(fnmatch.fnmatch(part, pattern) for part in relative.parts for pattern in ignored)


def _digest(data: dict) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]
