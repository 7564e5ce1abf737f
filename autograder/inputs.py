"""Checks on what an instructor types: each failure is a UsageError that says what is wrong and how to fix it.

Every check runs before a command writes anything, and none imports nbgrader or nbformat, so a
mistake is reported in a fraction of a second and leaves the folders as they were.
"""

import json
import zipfile
from datetime import datetime, timezone, tzinfo
from pathlib import Path

from autograder import config


class UsageError(Exception):
    """A mistake in a command's arguments or inputs; the message is shown to the user as it is."""


def known_assignments(course: Path | None = None) -> list[str]:
    """Assignment ids: the labs/ folders for the repository, or ``<course>/source/*`` for a course."""
    if course is None or course.resolve() == config.REPO:
        return config.assignments()
    return sorted(p.name for p in (course / "source").iterdir() if p.is_dir()) if (course / "source").is_dir() else []


def assignments(chosen: list[str], course: Path | None = None) -> list[str]:
    """``chosen`` if every id is known (all known ones when empty); else a UsageError listing them."""
    known = known_assignments(course)
    unknown = [a for a in chosen if a not in known]
    if unknown:
        where = f" in {course / 'source'}" if course is not None and course.resolve() != config.REPO else ""
        raise UsageError(f"unknown assignment {', '.join(map(repr, unknown))}{where}; known: {', '.join(known) or 'none'}")
    return chosen or known


def course(path: Path) -> Path:
    """An nbgrader course folder: it exists and has source/."""
    if not path.is_dir():
        raise UsageError(f"course folder {path} does not exist: pass --course with the folder that holds source/")
    if not (path / "source").is_dir():
        raise UsageError(f"{path} is not an nbgrader course: it has no source/ folder (build the assignments first)")
    return path.resolve()


def assignment_in(course_folder: Path, assignment: str) -> list[str]:
    """The notebook names of ``assignment`` in ``course_folder/source``; a UsageError if there are none."""
    assignments([assignment], course_folder)
    paths = sorted((course_folder / "source" / assignment).glob("*.ipynb"))
    if not paths:
        raise UsageError(f"{course_folder / 'source' / assignment} holds no notebooks: run `python -m autograder build {assignment}`")
    for path in paths:
        try:
            notebook_file(path)
        except UsageError as problem:
            raise UsageError(f"source notebook {problem}: rebuild it with `python -m autograder build {assignment}`") from None
    return [p.name for p in paths]


def existing_file(path: Path, what: str, suffix: str | None = None) -> Path:
    """``path`` if it is a file (ending in ``suffix`` when given); else a UsageError naming ``what``."""
    if not path.exists():
        raise UsageError(f"{what} {path} does not exist")
    if not path.is_file():
        raise UsageError(f"{what} {path} is not a file")
    if suffix and path.suffix != suffix:
        raise UsageError(f"{what} {path} should be a {suffix} file")
    return path


def notebook_file(path: Path) -> Path:
    """``path`` if it is a readable .ipynb holding JSON."""
    existing_file(path, "notebook", ".ipynb")
    try:
        json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UsageError(f"{path} is not a notebook (not valid JSON: {error})") from None
    return path


def zip_file(path: Path) -> Path:
    """``path`` if it is a zip archive."""
    existing_file(path, "archive")
    if not zipfile.is_zipfile(path):
        raise UsageError(f"{path} is not a zip archive: pass the submissions.zip Canvas downloads (Assignment > Download Submissions)")
    return path


def output_folder(path: Path) -> Path:
    """A folder that exists or can be made: not an existing file."""
    if path.exists() and not path.is_dir():
        raise UsageError(f"output folder {path} is a file: pass a folder")
    return path


def folder(path: Path, what: str) -> Path:
    if not path.exists():
        raise UsageError(f"{what} {path} does not exist")
    if not path.is_dir():
        raise UsageError(f"{what} {path} is not a folder")
    return path


def utc_datetime(text: str, what: str = "date") -> datetime:
    """An ISO date-time (``2026-12-01T17:00``, UTC when no zone is given) as an aware datetime."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"{what} {text!r} is not an ISO date-time; write e.g. 2026-12-01T17:00 (UTC) or 2026-12-01T17:00+01:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def time_zone(name: str) -> tzinfo:
    """An IANA time zone, e.g. ``Europe/Zurich``."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"unknown time zone {name!r}: use an IANA name such as UTC or Europe/Zurich") from None


def scheduler(address: str) -> str:
    """A Dask scheduler address, ``tcp://host:port`` (or another Dask protocol)."""
    protocol, _, rest = address.partition("://")
    if not protocol or not rest or ":" not in rest:
        raise UsageError(f"--scheduler {address!r} is not a Dask scheduler address: write e.g. tcp://host:8786")
    return address


def positive(value: float, what: str) -> float:
    if not value > 0:
        raise UsageError(f"{what} must be positive, got {value:g}")
    return value


def submissions_layout(submissions: Path, assignment: str, notebooks: list[str]) -> None:
    """A UsageError unless ``submissions`` holds at least one ``<student>/<assignment>/`` folder.

    The message names the layout expected and what was found, e.g. notebooks directly in a student's
    folder (``submitted/alice/01-demo.ipynb``) or a folder per assignment first.
    """
    folder(submissions, "submissions folder")
    expected = f"{submissions}/<student>/{assignment}/{notebooks[0] if notebooks else '*.ipynb'}"
    students = [p for p in submissions.iterdir() if p.is_dir() and not p.name.startswith(".")]
    if any((p / assignment).is_dir() for p in students):
        return
    found = _describe(submissions, assignment)
    raise UsageError(f"no submissions of {assignment} in {submissions}: expected {expected}, found {found}")


def _describe(submissions: Path, assignment: str) -> str:
    """What a submissions folder holds, in a few words, for a layout error."""
    flat = sorted(submissions.glob("*.ipynb"))
    if flat:
        return f"notebooks directly in it ({flat[0].name}...): put each student's in <student>/{assignment}/"
    nested = sorted(submissions.glob("*/*.ipynb"))
    if nested:
        example = nested[0].relative_to(submissions)
        return f"notebooks directly in each student's folder ({example}): move them into <student>/{assignment}/"
    if (submissions / assignment).is_dir():
        return f"a folder {assignment}/ first ({assignment}/<student>/?): the student comes first in nbgrader's layout"
    others = sorted({p.name for p in submissions.glob("*/*") if p.is_dir()})
    if others:
        return f"other assignments only ({', '.join(others[:5])})"
    return "no student folders at all"
