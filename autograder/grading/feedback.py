"""Per-student HTML feedback: the student's own code and outputs, each test's result and message, the
scores and comments a TA gave in the formgrader, lateness, and never the hidden tests' source (#917).

A graded cell's source is shown with its ``### BEGIN HIDDEN TESTS`` region cut out and without its
outputs (a traceback quotes the cell's code), unless the instructor reveals the hidden tests (after the
deadline, say). Any output or message that quotes a line of a hidden test is withheld too.

Written for each student, into ``out/feedback/<student>/``: ``<assignment>.html`` (the whole
assignment), ``<assignment>/<notebook>.html`` (nbgrader's feedback layout, with ``timestamp.txt``, as
``nbgrader release_feedback`` reads it from the course's feedback/ folder, where it is copied when
a course is given), and ``out/feedback-zips/<assignment>-<student>.zip`` to upload to the LMS.
"""

import html
import re
import shutil
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import nbformat

from autograder import notebooks
from autograder.grading.gradebook import NotebookGrades, StudentGrades
from autograder.grading.results import NotebookResult, SubmissionResult

STYLE = """body{font-family:sans-serif;max-width:60em;margin:2em auto}table{border-collapse:collapse;width:100%}
td,th{border:1px solid #ccc;padding:.3em .5em;vertical-align:top}pre{background:#f6f6f6;padding:.5em;white-space:pre-wrap}
.cell{margin:1em 0}.out{background:#fff;border-left:3px solid #ccc}.result{padding:.3em .5em;border:1px solid #ccc}
.passed{color:#1a7f37}.failed,.error,.timeout,.killed,.missing,.tampered,.grader-error{color:#b42318}.comment{background:#fff8c5;padding:.3em .5em}"""
ANSI = re.compile(r"\x1b\[[0-9;]*m")
WITHHELD = "(withheld: it quotes a hidden test)"
SECRET = "submission_secret.txt"  # nbgrader's exchange: names the released feedback file
MIN_QUOTED = 8  # a hidden line shorter than this ("pass", "x = 1") is too common to count as a quote


def reveal_now(after) -> bool:
    """True if ``after`` (an aware datetime, or an ISO text, UTC when it has no zone) has passed; False if None."""
    if after is None:
        return False
    deadline = datetime.fromisoformat(after) if isinstance(after, str) else after
    if deadline.tzinfo is None:
        deadline = deadline.replace(tzinfo=timezone.utc)
    return datetime.now(timezone.utc) >= deadline


def write_all(
    out: Path, results: list[SubmissionResult], reveal_hidden: bool = False,
    grades: dict[str, StudentGrades] | None = None, names: dict[str, str] | None = None, course: Path | None = None,
    submissions: Path | None = None, refused: dict[str, list[str]] | None = None,
) -> list[Path]:
    """Write every student's feedback; return the paths of the whole-assignment pages.

    Args:
        out: the grading run's output folder.
        results: the graded submissions.
        reveal_hidden: show the hidden tests' source too.
        grades: student id -> the gradebook's view (manual scores, comments, lateness), when there is one.
        names: student id -> the name to title the page with (e.g. from the LMS roster).
        course: the nbgrader course, whose feedback/ folder gets nbgrader's layout.
        submissions: the submitted/ folder: the ``submission_secret.txt`` nbgrader's exchange left there
            is copied beside the feedback, as ``release_feedback`` needs it.
        refused: student id -> why files of the submission were refused (a link, a FIFO...).
    """
    grades, names, refused = grades or {}, names or {}, refused or {}
    paths = []
    for result in results:
        if result.grader_failed:
            continue  # the grader's failure, not the student's work: nothing to tell them until it is graded
        folder = out / "feedback" / result.student
        folder.mkdir(parents=True, exist_ok=True)
        record = grades.get(result.student)
        name = names.get(result.student) or (record.full_name if record else "") or result.student
        page = folder / f"{result.assignment}.html"
        page.write_text(render(result, reveal_hidden, record, name, refused.get(result.student, [])))
        paths.append(page)
        per_notebook = _per_notebook(folder / result.assignment, result, reveal_hidden, record, name, refused.get(result.student, []))
        _zip(out / "feedback-zips" / f"{result.assignment}-{result.student}.zip", folder, [page, *per_notebook[:-1]])
        if course is not None:
            _release(course / "feedback" / result.student / result.assignment, per_notebook,
                     submissions / result.student / result.assignment / SECRET if submissions else None)
    return paths


def _release(released: Path, files: list[Path], secret: Path | None) -> None:
    """nbgrader's feedback layout: the per-notebook pages, timestamp.txt and the exchange's submission secret."""
    released.mkdir(parents=True, exist_ok=True)
    for path in files:
        shutil.copy(path, released / path.name)
    if secret is not None and secret.is_file() and not secret.is_symlink():
        shutil.copy(secret, released / SECRET)


def _per_notebook(
    folder: Path, result: SubmissionResult, reveal: bool, record: StudentGrades | None, name: str, refused: list[str],
) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for notebook in result.notebooks:
        single = SubmissionResult(result.student, result.assignment, result.key, [notebook], result.timestamp)
        path = folder / f"{Path(notebook.name).stem}.html"
        path.write_text(render(single, reveal, record, name, refused))
        written.append(path)
    stamp = (record.lateness.submitted_at if record else None) or result.timestamp or ""
    (folder / "timestamp.txt").write_text(stamp)
    return [*written, folder / "timestamp.txt"]


def _zip(path: Path, root: Path, files: list[Path]) -> None:
    """One student's pages in one zip, named as in their feedback folder, ready to upload to the LMS."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zipped:
        for file in files:
            zipped.write(file, str(file.relative_to(root)))


def render(
    result: SubmissionResult, reveal_hidden: bool = False, record: StudentGrades | None = None, name: str | None = None,
    refused: list[str] = (),
) -> str:
    """One student's feedback page.

    Args:
        result: the student's graded submission (one notebook or all).
        reveal_hidden: show the hidden tests' source too.
        record: the gradebook's view of the submission: manual scores, comments, lateness.
        name: the student's name for the title (default: the id).
        refused: why files of the submission were not taken.
    """
    title = f"{result.assignment}: {name or result.student}"
    parts = [f"<!doctype html><meta charset=utf-8><title>{_e(title)}</title><style>{STYLE}</style><h1>{_e(title)}</h1>"]
    parts.append(_summary(result, record))
    if refused:
        parts.append("<p>Files the grader did not take:</p><ul>" + "".join(f"<li>{_e(why)}</li>" for why in refused) + "</ul>")
    by_name = {n.name: n for n in record.notebooks} if record else {}
    for notebook in result.notebooks:
        parts.append(_notebook(notebook, reveal_hidden, by_name.get(Path(notebook.name).stem)))
    return "\n".join(parts)


def _summary(result: SubmissionResult, record: StudentGrades | None) -> str:
    if record is None:
        return f"<p>Autograded score: <b>{result.score:g} / {result.max_score:g}</b></p>"
    shown = {Path(n.name).stem for n in result.notebooks}
    chosen = [n for n in record.notebooks if n.name in shown]
    raw, penalty, maximum = sum(n.score for n in chosen), sum(n.penalty for n in chosen), sum(n.max_score for n in chosen)
    waiting = any(n.needs_manual_grade for n in chosen)
    text = f"<p>Score: <b>{max(0.0, raw - penalty):g} / {maximum:g}</b>"
    text += f" ({raw:g} less a late penalty of {penalty:g})" if penalty else ""
    text += "; some answers still wait for a grader" if waiting else ""
    return text + f"</p><p>{_e(record.lateness.describe())}</p>"


def _notebook(notebook: NotebookResult, reveal: bool, record: NotebookGrades | None) -> str:
    heading = f"<h2>{_e(notebook.name)}: {notebook.score:g} / {notebook.max_score:g} autograded</h2>"
    if record is not None:
        heading = f"<h2>{_e(notebook.name)}: {record.score:g} / {record.max_score:g}</h2>"
    notes = "".join(f"<li>{_e(n)}</li>" for n in notebook.notes)
    parts = [heading]
    if notebook.refusal:
        why = notebook.cells[0].message
        parts.append(f"<p class=result><b class={notebook.cells[0].status}>This notebook was not graded</b>: "
                     f"{_e(why)}{'' if why.endswith(('.', '?')) else '.'} Every test below scores 0.</p>")
    if notes:
        parts.append(f"<p>What the grader repaired before running your notebook:</p><ul>{notes}</ul>")
    results = {c.grade_id: c for c in notebook.cells}
    executed = nbformat.reads(notebook.executed, as_version=4) if notebook.executed else None
    hidden = _hidden_lines(executed) if executed is not None and not reveal else set()
    shown: set[str] = set()
    if executed is not None:
        for cell in executed.cells:
            gid = notebooks.grade_id(cell)
            shown.add(gid)
            parts.append(_cell(cell, results.get(gid), record.cells.get(gid) if record and gid else None, reveal, hidden))
    rest = [c for c in notebook.cells if c.grade_id not in shown]
    if rest:
        parts.append("<table><tr><th>test</th><th>points</th><th>status</th><th>message</th></tr>" + "".join(
            f"<tr><td>{_e(c.grade_id)}</td><td>{c.points:g} / {c.max_points:g}</td><td class={c.status}>{c.status}</td>"
            f"<td>{'' if notebook.refusal else _e(_quoted(c.message, hidden))}</td></tr>" for c in rest) + "</table>")
    return "\n".join(parts)


def _cell(cell, result, grade, reveal: bool, hidden: set[str]) -> str:
    """One cell: its source, its outputs (not for a graded test), its test result, its manual score and comment."""
    is_test = result is not None
    source = cell.source if reveal else notebooks.strip_hidden_tests(cell.source)
    parts = [f"<div class=cell><pre>{_e(source.strip())}</pre>"] if source.strip() else ["<div class=cell>"]
    if cell.cell_type == "code" and (reveal or not (is_test or source != cell.source)):  # a traceback quotes its cell
        parts += [f"<pre class=out>{_e(_quoted(text, hidden))}</pre>" for text in _outputs(cell)]
        parts += [f"<img alt=figure src='data:image/png;base64,{png.strip()}'>" for png in _images(cell)]
    if is_test:
        points = grade.score if grade is not None and grade.manual else result.points
        by = " (set by a grader)" if grade is not None and grade.manual else ""
        parts.append(f"<div class=result><b class={result.status}>{_e(result.grade_id)}: {result.status}</b>, "
                     f"{points:g} / {result.max_points:g}{by}. {_e(_quoted(result.message, hidden))}</div>")
    elif grade is not None and grade.max_score:
        score = "not graded yet" if grade.score is None else f"{grade.score:g} / {grade.max_score:g}"
        parts.append(f"<div class=result><b>{_e(grade.name)}</b>: {score}</div>")
    if grade is not None and grade.comment:
        parts.append(f"<div class=comment>Comment from your grader: {_e(grade.comment)}</div>")
    return "".join(parts) + "</div>"


def _outputs(cell) -> list[str]:
    texts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            texts.append(output.text)
        elif output.output_type == "error":
            texts.append(ANSI.sub("", "\n".join(output.traceback)) or f"{output.ename}: {output.evalue}")
        elif "text/plain" in output.get("data", {}):
            texts.append(output.data["text/plain"])
    return [t for t in texts if t.strip()]


def _images(cell) -> list[str]:
    """The base64 PNG figures a cell drew."""
    return [o.data["image/png"] for o in cell.get("outputs", []) if "image/png" in o.get("data", {}) and isinstance(o.data["image/png"], str)]


def _hidden_lines(notebook) -> set[str]:
    """The lines of every hidden-test region of ``notebook``, long enough to recognise when quoted."""
    lines = set()
    for cell in notebook.cells:
        for region in notebooks.HIDDEN_REGION.finditer(cell.source):
            lines |= {line.strip() for line in region.group(0).splitlines()[1:-1] if len(line.strip()) >= MIN_QUOTED}
    return lines


def _quoted(text: str, hidden: set[str]) -> str:
    return WITHHELD if any(line in text for line in hidden) else text


def _e(text: str) -> str:
    return html.escape(text, quote=True)
