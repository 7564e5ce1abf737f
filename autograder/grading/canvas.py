"""Canvas: its ``submissions.zip`` into nbgrader's submitted/ layout, and its gradebook export (the roster).

Canvas names each file ``<name>[_LATE]_<user id>_<submission id>_<original file name>``, and adds
``-1``, ``-2``... to the original name when a student resubmits. Each file lands in
``submitted/<user id>/<assignment>/<original name>``, the suffix dropped when that gives a notebook
the assignment expects (the highest resubmission wins); a file that still matches nothing keeps its
name, so grading reports the expected notebook as missing and names what was found.

The submission time is recorded outside the student's folder (see ``lateness``): the zip entry's
time, which Canvas sets to the submission time. Canvas's extended-timestamp field (UTC) is used when
the entry has one; otherwise the entry's local date-time is read in ``zone`` (UTC by default).
"""

import csv
import re
import struct
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
from pathlib import Path, PurePosixPath

from autograder.grading import lateness
from autograder.inputs import UsageError

CANVAS_NAME = re.compile(r"^(?P<name>[^_]+)(?P<late>_LATE)?_(?P<user>\d+)_(?P<submission>\d+)_(?P<file>.+)$")
RESUBMISSION = re.compile(r"^(?P<stem>.+?)-(?P<number>\d+)(?P<suffix>\.[^.]+)$")
ASSIGNMENT_COLUMN = re.compile(r"^(?P<name>.*\S)\s*\((?P<id>\d+)\)$")  # "Lab 1 (123456)"
EXTENDED_TIMESTAMP = 0x5455  # the zip extra field holding a Unix mtime, UTC


def target_name(original: str, expected: set[str]) -> tuple[str, int]:
    """The file name to store, and the resubmission number (0 for the first) Canvas's suffix gives."""
    if original in expected:
        return original, 0
    match = RESUBMISSION.match(original)
    if match and match["stem"] + match["suffix"] in expected:
        return match["stem"] + match["suffix"], int(match["number"])
    return original, 0


def entry_time(member: zipfile.ZipInfo, zone: tzinfo = timezone.utc) -> datetime:
    """When a zip entry was written: its extended timestamp (UTC) if it has one, else its date-time in ``zone``."""
    extra = member.extra
    while len(extra) >= 4:
        kind, size = struct.unpack("<HH", extra[:4])
        body = extra[4 : 4 + size]
        if kind == EXTENDED_TIMESTAMP and size >= 5 and body[0] & 1:
            return datetime.fromtimestamp(struct.unpack("<I", body[1:5])[0], timezone.utc)
        extra = extra[4 + size :]
    return datetime(*member.date_time, tzinfo=zone).astimezone(timezone.utc)


def import_zip(archive: Path, assignment: str, expected: set[str], submitted: Path, zone: tzinfo = timezone.utc) -> dict[str, list[str]]:
    """Unpack ``archive`` into ``submitted`` and record each submission's time; return student id -> file names.

    Args:
        archive: Canvas's submissions.zip.
        assignment: the assignment id, the folder each student's files go in.
        expected: the notebook names the assignment has, e.g. ``{"01-demo.ipynb"}``.
        submitted: the submitted/ folder to fill.
        zone: the zone of entry times without an extended timestamp.

    Raises:
        UsageError: when no file in the archive has a Canvas name (nothing is written then).
    """
    with zipfile.ZipFile(archive) as zipped:
        chosen = _choose(zipped.infolist(), expected)
        if not chosen:
            names = [m.filename for m in zipped.infolist()][:3]
            raise UsageError(f"{archive} holds no Canvas submission (files named <name>_<user id>_<submission id>_<file>); "
                             f"found {', '.join(names) or 'nothing'}")
        stored: dict[str, list[str]] = {}
        times: dict[str, tuple[datetime, bool]] = {}
        for (user, name), (_, member, late) in sorted(chosen.items()):
            folder = submitted / user / assignment
            folder.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(zipped.read(member))
            stored.setdefault(user, []).append(name)
            moment = entry_time(member, zone)
            previous = times.get(user)
            times[user] = (max(moment, previous[0]) if previous else moment, late or bool(previous and previous[1]))
    for user, (moment, late) in times.items():
        source = "canvas zip entry time"
        lateness.write_record(submitted, user, assignment, lateness.Submitted(moment.isoformat(timespec="seconds"), source, late))
    return stored


def _choose(members: list[zipfile.ZipInfo], expected: set[str]) -> dict[tuple[str, str], tuple[int, zipfile.ZipInfo, bool]]:
    """(user, file name) -> (resubmission number, entry, late flag): the latest resubmission of each file."""
    chosen = {}
    for member in members:
        base = PurePosixPath(member.filename).name  # never trust folders inside an archive
        match = CANVAS_NAME.match(base)
        if member.is_dir() or not match:
            continue
        name, number = target_name(match["file"], expected)
        key = (match["user"], name)
        if key not in chosen or number >= chosen[key][0]:
            chosen[key] = (number, member, bool(match["late"]))
    return chosen


@dataclass(frozen=True)
class RosterStudent:
    """One row of Canvas's gradebook export: what its import matches students on."""

    name: str
    id: str
    sis_user_id: str = ""
    sis_login_id: str = ""
    section: str = ""

    def row(self) -> tuple[str, str, str, str, str]:
        return (self.name, self.id, self.sis_user_id, self.sis_login_id, self.section)


@dataclass(frozen=True)
class GradebookExport:
    """Canvas's gradebook export (Grades > Export > CSV): the roster, the assignment columns, points possible."""

    students: list[RosterStudent]
    columns: list[str]
    points_possible: dict[str, str]

    def column(self, wanted: str | None, assignment: str) -> str:
        """The assignment column to fill: by Canvas id or name (``wanted``), else the one named like ``assignment``."""
        parsed = [(c, ASSIGNMENT_COLUMN.match(c)) for c in self.columns]
        keys = [wanted] if wanted else [assignment]
        for key in keys:
            for column, match in parsed:
                if key in (column, match["id"], match["name"]):
                    return column
        listed = "; ".join(self.columns) or "none"
        hint = "pass --canvas-assignment with its name or id" if not wanted else "check the name or id"
        raise UsageError(f"no assignment column {keys[0]!r} in the Canvas export ({hint}); its assignments: {listed}")


def read_gradebook_export(path: Path) -> GradebookExport:
    """Parse Canvas's gradebook export CSV; a UsageError when the file is not one."""
    if not path.is_file():
        raise UsageError(f"Canvas export {path} does not exist: download it from Grades > Export > Export Entire Gradebook")
    try:
        rows = list(csv.reader(path.open(encoding="utf-8-sig", newline="")))
    except (UnicodeDecodeError, csv.Error) as error:
        raise UsageError(f"Canvas export {path} is not a CSV file: {error}") from None
    if not rows or rows[0][:2] != ["Student", "ID"]:
        raise UsageError(f"{path} is not a Canvas gradebook export: its first columns should be Student, ID")
    header = rows[0]
    columns = [c for c in header if ASSIGNMENT_COLUMN.match(c)]
    students, points = [], {}
    for row in rows[1:]:
        cells = dict(zip(header, row))
        label = cells.get("Student", "").strip()
        if label == "Points Possible":
            points = {c: cells.get(c, "") for c in columns}
        elif cells.get("ID", "").strip().isdigit():
            students.append(RosterStudent(label, cells["ID"].strip(), cells.get("SIS User ID", ""), cells.get("SIS Login ID", ""), cells.get("Section", "")))
    return GradebookExport(students, columns, points)


@dataclass(frozen=True)
class CanvasTarget:
    """Where the grades go in Canvas.

    Args:
        export: the instructor's Canvas gradebook export (roster and columns), None without one.
        assignment: the Canvas assignment's name or id, None for the one named like the assignment id.
    """

    export: GradebookExport | None = None
    assignment: str | None = None

    def column(self, assignment: str) -> str:
        """The header of the score column; without an export, the name given (Canvas makes a new assignment)."""
        return self.export.column(self.assignment, assignment) if self.export else (self.assignment or assignment)
