"""Per-student HTML feedback: each test's result and message, and never the hidden tests' source (#917).

The source of a graded cell is shown with its ``### BEGIN HIDDEN TESTS`` region cut out, unless the
instructor reveals it (after the deadline, say).
"""

import html
from datetime import datetime, timezone
from pathlib import Path

import nbformat

from autograder import notebooks
from autograder.grading.results import NotebookResult, SubmissionResult

STYLE = """body{font-family:sans-serif;max-width:60em;margin:2em auto}table{border-collapse:collapse;width:100%}
td,th{border:1px solid #ccc;padding:.3em .5em;vertical-align:top}pre{background:#f6f6f6;padding:.5em;white-space:pre-wrap}
.passed{color:#1a7f37}.failed,.error,.timeout,.killed,.missing,.tampered{color:#b42318}"""


def reveal_now(after: str | None) -> bool:
    """True if ``after`` (an ISO date-time, UTC if no zone is given) has passed; False if it is None."""
    if after is None:
        return False
    deadline = datetime.fromisoformat(after)
    if deadline.tzinfo is None:
        deadline = deadline.replace(tzinfo=timezone.utc)
    return datetime.now(timezone.utc) >= deadline


def write_all(out: Path, results: list[SubmissionResult], reveal_hidden: bool = False) -> list[Path]:
    """Write ``out/feedback/<student>/<assignment>.html`` for every result; return the paths."""
    paths = []
    for result in results:
        path = out / "feedback" / result.student / f"{result.assignment}.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(result, reveal_hidden))
        paths.append(path)
    return paths


def render(result: SubmissionResult, reveal_hidden: bool = False) -> str:
    """One student's feedback page.

    Args:
        result: the student's graded submission.
        reveal_hidden: show the hidden tests' source too.
    """
    title = f"{result.assignment}: {result.student}"
    parts = [f"<!doctype html><meta charset=utf-8><title>{_e(title)}</title><style>{STYLE}</style>",
             f"<h1>{_e(title)}</h1><p>Autograded score: <b>{result.score:g} / {result.max_score:g}</b></p>"]
    for notebook in result.notebooks:
        parts.append(_notebook(notebook, reveal_hidden))
    return "\n".join(parts)


def _notebook(notebook: NotebookResult, reveal_hidden: bool) -> str:
    sources = {}
    if notebook.executed:
        sources = {gid: cell.source for gid, cell in notebooks.cells_by_id(nbformat.reads(notebook.executed, as_version=4)).items()}
    rows = []
    for cell in notebook.cells:
        source = sources.get(cell.grade_id, "")
        shown = source if reveal_hidden else notebooks.strip_hidden_tests(source)
        rows.append(
            f"<tr><td>{_e(cell.grade_id)}</td><td>{cell.points:g} / {cell.max_points:g}</td>"
            f"<td class={cell.status}>{cell.status}</td><td>{_e(cell.message)}"
            + (f"<pre>{_e(shown.strip())}</pre>" if shown.strip() else "")
            + "</td></tr>"
        )
    notes = "".join(f"<li>{_e(n)}</li>" for n in notebook.notes)
    return (
        f"<h2>{_e(notebook.name)}: {notebook.score:g} / {notebook.max_score:g}</h2>"
        + (f"<p>What the grader repaired before running your notebook:</p><ul>{notes}</ul>" if notes else "")
        + "<table><tr><th>test</th><th>points</th><th>status</th><th>message</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _e(text: str) -> str:
    return html.escape(text, quote=True)
