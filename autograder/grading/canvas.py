"""``python -m autograder import``: a Canvas ``submissions.zip`` into nbgrader's submitted/ layout.

Canvas names each file ``<name>[_LATE]_<user id>_<submission id>_<original file name>``, and adds
``-1``, ``-2``... to the original name when a student resubmits. Each file lands in
``submitted/<user id>/<assignment>/<original name>``, the suffix dropped when that gives a notebook
the assignment expects; a file that still matches nothing keeps its name, so grading reports the
expected notebook as missing and names what was found.
"""

import re
import zipfile
from pathlib import Path, PurePosixPath

CANVAS_NAME = re.compile(r"^(?P<name>[^_]+)(?P<late>_LATE)?_(?P<user>\d+)_(?P<submission>\d+)_(?P<file>.+)$")
RESUBMISSION = re.compile(r"^(?P<stem>.+?)-\d+(?P<suffix>\.[^.]+)$")


def target_name(original: str, expected: set[str]) -> str:
    """The file name to store: ``original`` without Canvas's ``-N`` resubmission suffix when that matches."""
    if original in expected:
        return original
    match = RESUBMISSION.match(original)
    if match and match["stem"] + match["suffix"] in expected:
        return match["stem"] + match["suffix"]
    return original


def import_zip(archive: Path, assignment: str, expected: set[str], submitted: Path) -> dict[str, list[str]]:
    """Unpack ``archive`` into ``submitted``; return student id -> stored file names.

    Args:
        archive: Canvas's submissions.zip.
        assignment: the assignment id, the folder each student's files go in.
        expected: the notebook names the assignment has, e.g. ``{"01-demo.ipynb"}``.
        submitted: the submitted/ folder to fill.
    """
    stored: dict[str, list[str]] = {}
    with zipfile.ZipFile(archive) as zipped:
        for member in zipped.infolist():
            base = PurePosixPath(member.filename).name  # never trust folders inside an archive
            match = CANVAS_NAME.match(base)
            if member.is_dir() or not match:
                continue
            name = target_name(match["file"], expected)
            folder = submitted / match["user"] / assignment
            folder.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(zipped.read(member))
            stored.setdefault(match["user"], []).append(name)
    return stored
