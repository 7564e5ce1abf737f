"""``python -m autograder validate``: the student's check, in the grader's own execution environment.

The notebook runs through the same judge as grading: grading mode (NBGRADER_EXECUTION=autograde),
stdin disabled, the same limits, in the sandbox when bubblewrap is there. So ``input()`` fails here
as it would when graded (nbgrader #1844), and any failure makes the command exit 1 (#1908).
"""

import ast
from pathlib import Path

import nbformat

from autograder import notebooks
from autograder.grading import sandbox, score, worker
from autograder.grading.layout import Assignment, Job, Limits


def validate(path: Path, limits: Limits) -> tuple[bool, list[str]]:
    """Run one notebook; return whether it passes, and one line per graded cell or failing cell.

    Args:
        path: the notebook the student will hand in.
        limits: the grader's limits (``unsafe`` when there is no sandbox on this machine).
    """
    try:
        notebook = nbformat.read(path, as_version=4)
    except Exception as error:  # nbformat raises several types for broken JSON
        return False, [f"{path.name}: not a valid notebook ({type(error).__name__}: {error})"]
    others = {str(p.relative_to(path.parent)): p.read_bytes() for p in path.parent.iterdir() if p.is_file() and p.suffix != ".ipynb"}
    job = Job("validate", Assignment(path.parent.name, {}, others), {}, limits)
    # The student's own notebook is its own "source": its visible tests run in the judge, as when graded.
    outcome = worker.execute(notebook, notebook, job, [path.parent.resolve()])
    statuses = score.apply_outputs(notebook, outcome)
    lines, ok = [], True
    placeholders = {notebooks.grade_id(c) for c in notebook.cells if c.cell_type == "code" and _only_comments(c.source)}
    for cell in score.score(notebook, statuses, outcome):
        if cell.grade_id in placeholders:  # a hidden-test cell of the release: empty until the grader fills it
            lines.append(f"hidden   {cell.grade_id} ({cell.max_points:g} points): its tests run only when your notebook is graded")
            continue
        ok &= cell.status == "passed"
        lines.append(f"{cell.status:8s} {cell.grade_id} ({cell.points:g}/{cell.max_points:g}) {cell.message}".rstrip())
    graded = {c.grade_id for c in score.score(notebook, statuses, outcome)}
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code" or cell.metadata.get("nbgrader", {}).get("grade_id") in graded:
            continue
        errors = [o for o in cell.outputs if o.output_type == "error"]
        if errors or (cell.source.strip() and index not in statuses):
            ok = False
            what = f"{errors[0].ename}: {errors[0].evalue}" if errors else "did not run"
            lines.append(f"error    cell {index}: {what}")
    return ok, lines


def _only_comments(source: str) -> bool:
    try:
        return not ast.parse(source).body
    except SyntaxError:
        return False


def main(paths: list[Path], limits: Limits) -> int:
    """Validate each notebook, print the results; exit status 1 if any notebook fails."""
    if not limits.unsafe:
        try:
            sandbox.check_available()
        except sandbox.SandboxUnavailable as why:
            print(f"note: {why}. Validating without the sandbox: same runner, limits and grading mode.")
            limits = Limits(limits.cell_timeout, limits.notebook_timeout, limits.memory_mb, limits.max_processes, unsafe=True)
    failed = 0
    for path in paths:
        ok, lines = validate(path, limits)
        print(f"{'PASS' if ok else 'FAIL'} {path}")
        for line in lines:
            print(f"    {line}")
        failed += not ok
    return 1 if failed else 0
