"""Points and a status for every autograded cell, from what the runner reported.

Points follow nbgrader's own rule (autograder.scoring: an error or stderr gives 0, a numeric last
output is partial credit), applied to the outputs the judge wrote. Only cells the judge reports as
run can score: a cell that never ran (the student's process died or the budget ran out) gets 0,
never "passed" (nbgrader #427); if the judge itself failed, the cell is a grader-error, not a 0.
"""

import json

import nbformat

from autograder import scoring
from autograder.grading.results import GRADER_ERROR, CellResult
from autograder.grading.sandbox import Outcome


def _reports(outcome: Outcome) -> list[dict]:
    """The judge's JSON lines; only the judge writes there, so a torn last line is a killed run."""
    reports = []
    for line in outcome.lines:
        try:
            reports.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return reports


def apply_outputs(notebook: nbformat.NotebookNode, outcome: Outcome) -> dict[int, str]:
    """Put the reported outputs into ``notebook``; return cell index -> status (ran, timeout, killed)."""
    statuses = {}
    for report in _reports(outcome):
        if "index" in report:
            cell = notebook.cells[report["index"]]
            cell.outputs = [nbformat.from_dict(o) for o in report["outputs"]]
            statuses[report["index"]] = report["status"]
    return statuses


def cell_seconds(outcome: Outcome) -> float:
    """Time spent executing cells, from the judge's last line; 0 if the run never finished."""
    done = [report for report in _reports(outcome) if report.get("done")]
    return float(done[-1].get("seconds", 0.0)) if done else 0.0


def score(notebook: nbformat.NotebookNode, statuses: dict[int, str], outcome: Outcome) -> list[CellResult]:
    """One CellResult per autograded cell of an executed, normalized notebook.

    Args:
        notebook: the normalized notebook with the outputs the runner reported.
        statuses: cell index -> runner status, from apply_outputs.
        outcome: how the sandboxed run ended (for cells that never ran).
    """
    points = scoring.score_cells(notebook)
    results = []
    for index, cell in enumerate(notebook.cells):
        cell_score = points.get(cell.metadata.get("nbgrader", {}).get("grade_id")) if cell.cell_type == "code" else None
        if cell_score is None:
            continue
        status = statuses.get(index)
        if status == "ran":
            results.append(_ran(cell, cell_score))
        elif status in ("timeout", "killed"):
            message = cell_score.message or status
            results.append(CellResult(cell_score.grade_id, 0.0, cell_score.max_points, status, message))
        else:
            abandoned = "timeout" in statuses.values()
            results.append(CellResult(cell_score.grade_id, 0.0, cell_score.max_points, *_not_run(outcome, abandoned)))
    return results


def _ran(cell, cell_score: scoring.CellScore) -> CellResult:
    if cell_score.points >= cell_score.max_points:
        return CellResult(cell_score.grade_id, cell_score.points, cell_score.max_points, "passed")
    errors = [o for o in cell.outputs if o.output_type == "error"]
    status = "failed" if not errors or errors[0].ename == "AssertionError" else "error"
    if not errors and cell_score.points == 0:
        status = "error"  # no exception, yet 0: it wrote to stderr
    message = cell_score.message or f"partial credit: {cell_score.points:g} of {cell_score.max_points:g}"
    return CellResult(cell_score.grade_id, cell_score.points, cell_score.max_points, status, message)


def _grader_failure(outcome: Outcome) -> str | None:
    """Why the judge failed (the sandbox never started, the judge itself crashed), or None if it did not."""
    reports = _reports(outcome)
    for report in reports:
        if report.get("grader_error"):
            return str(report["grader_error"])
    if not outcome.timed_out and not any(report.get("done") for report in reports):
        tail = outcome.stderr.strip().splitlines()[-1:] or [f"exit status {outcome.returncode}"]
        return f"the judge stopped before the end ({tail[0][:300]})"
    return None


def _not_run(outcome: Outcome, abandoned: bool) -> tuple[str, str]:
    """Status and message of a cell that never ran; ``abandoned``: an earlier cell timed out for good."""
    failure = _grader_failure(outcome)
    if failure:
        return GRADER_ERROR, f"not graded: {failure}"
    if outcome.timed_out:
        return "timeout", f"not run: the notebook exceeded its time budget ({outcome.seconds:.0f} s)"
    if abandoned:
        return "timeout", "not run: the kernel stopped answering after an earlier cell ran out of time"
    tail = outcome.stderr.strip().splitlines()[-1:] or [f"exit status {outcome.returncode}"]
    return "killed", f"not run: the kernel or the sandbox died ({tail[0][:200]})"
