"""The output folder: one cached result per student, and results.json for the whole class.

A student's cached result is reused while its key (the hash of the submitted files, the source
notebooks and the limits) is unchanged, so a re-run grades only new or changed submissions.
"""

import json
from pathlib import Path

from autograder.grading.lateness import Lateness
from autograder.grading.results import SubmissionResult

CACHE = "cache"
NOT_GRADED = "not-graded.json"  # student id -> why the whole submission was not taken (layout.Scan.not_graded)


def cached(out: Path, student: str, key: str) -> SubmissionResult | None:
    """The stored result for ``student`` if it was graded from the same input, else None."""
    path = out / CACHE / f"{student}.json"
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError:
        return None  # a run killed mid-write: grade again
    return SubmissionResult.from_dict(data) if data.get("key") == key else None


def save(out: Path, result: SubmissionResult) -> None:
    path = out / CACHE / f"{result.student}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(result.to_dict()))
    temporary.replace(path)  # atomic: an interrupted run never leaves half a result


def write_results(
    out: Path, results: list[SubmissionResult], lateness: dict[str, Lateness] | None = None, refused: dict[str, list[str]] | None = None,
) -> Path:
    """results.json: per student, notebook and autograded cell, the points, maximum, status and message.

    Args:
        out: the output folder.
        results: every graded submission.
        lateness: student id -> lateness as the gradebook has it, shown under "lateness" for each student.
        refused: student id -> why files of the submission were refused (links, special files), under "refused".
    """
    path = out / "results.json"
    lateness = lateness or {}
    data = {r.student: r.to_dict(with_notebooks=False) for r in sorted(results, key=lambda r: r.student)}
    for student, entry in data.items():
        if student in lateness:
            entry["lateness"] = {**lateness[student].to_dict(), "summary": lateness[student].describe()}
        if refused and student in refused:
            entry["refused"] = refused[student]
    path.write_text(json.dumps(data, indent=1))
    return path


def read_results(out: Path) -> dict[str, dict]:
    """results.json as written by write_results; empty when it is missing or unreadable."""
    try:
        return json.loads((out / "results.json").read_text())
    except (OSError, json.JSONDecodeError):
        return {}


def load_all(out: Path) -> list[SubmissionResult]:
    """Every cached result in ``out`` (for feedback and export after a run); an unreadable one is skipped."""
    results = []
    for path in sorted((out / CACHE).glob("*.json")):
        try:
            results.append(SubmissionResult.from_dict(json.loads(path.read_text())))
        except (json.JSONDecodeError, TypeError, KeyError):
            continue  # a run killed mid-write: that student is graded again next time
    return results


def graded(out: Path) -> bool:
    """True if ``out`` holds the results of a grading run."""
    return (out / CACHE).is_dir() and any((out / CACHE).glob("*.json"))


def write_not_graded(out: Path, not_graded: dict[str, str]) -> None:
    (out / NOT_GRADED).write_text(json.dumps(dict(sorted(not_graded.items())), indent=1))


def read_not_graded(out: Path) -> dict[str, str]:
    """not-graded.json as write_not_graded wrote it; empty when it is missing or unreadable."""
    try:
        return json.loads((out / NOT_GRADED).read_text())
    except (OSError, json.JSONDecodeError):
        return {}
