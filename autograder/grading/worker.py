"""What a worker does for one notebook of a submission: normalize it, run it in the sandbox, score it.

Runs in a local worker process or on a Dask worker: it takes a Job (bytes only) and a notebook name,
and returns a NotebookResult (plain data). It never touches the gradebook; the parent is its only writer.
"""

import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

import nbformat

from autograder import config
from autograder.grading import normalize, sandbox, score
from autograder.grading.layout import Job
from autograder.grading.results import GRADER_ERROR, CellResult, NotebookResult, SubmissionResult

AGENT = config.REPO / "autograder" / "judge" / "agent.py"


def grade_task(task: tuple[Job, str], hidden: tuple[str, ...] = ()) -> tuple[str, NotebookResult]:
    """Grade one notebook of one submission; a failure of the grader itself scores 0 with status error.

    One notebook is the unit of work, so the last submissions of a run spread over every worker.

    Args:
        task: the submission, and the name of the assignment notebook to grade.
        hidden: folders the sandbox must hide besides the repository and the home folder
            (the course folder, the submissions, the output).

    Returns:
        The student, and the notebook's result.
    """
    job, name = task
    source = nbformat.reads(job.assignment.sources[name], as_version=4)
    others = [n for n in sorted(job.files) if n.endswith(".ipynb") and n not in job.assignment.sources]
    try:
        return job.student, grade_notebook(name, source, job.files.get(name), others, job, [Path(h) for h in hidden])
    except Exception:  # the batch must go on; the instructor sees the traceback in the message
        return grader_error(task, "internal error: " + traceback.format_exc(limit=3)[-800:])


def grader_error(task: tuple[Job, str], message: str) -> tuple[str, NotebookResult]:
    """The result of a notebook the grader failed on: status grader-error on every cell, no points, never recorded."""
    job, name = task
    source = nbformat.reads(job.assignment.sources[name], as_version=4)
    cells = [CellResult(gid, 0.0, pts, GRADER_ERROR, message) for gid, pts in normalize.graded_cells(source)]
    return job.student, NotebookResult(name, cells)


def tasks(job: Job) -> list[tuple[Job, str]]:
    """The notebooks of one submission as tasks, in notebook order."""
    return [(job, name) for name in sorted(job.assignment.sources)]


def submission_result(job: Job, notebooks: list[NotebookResult]) -> SubmissionResult:
    """Put one submission's notebook results together, in notebook order."""
    return SubmissionResult(job.student, job.assignment.name, job.key(), sorted(notebooks, key=lambda n: n.name), job.timestamp)


def grade_notebook(
    name: str, source: nbformat.NotebookNode, submitted: bytes | None, others: list[str], job: Job, hidden: list[Path]
) -> NotebookResult:
    """Normalize, run and score one notebook.

    Args:
        name: the notebook's file name.
        source: the instructor's source notebook.
        submitted: the student's file, or None if it is missing.
        others: notebook names in the student's folder that the assignment does not have.
        job: the job (limits, other files).
        hidden: folders the sandbox hides.
    """
    started = time.perf_counter()
    normalized = normalize.normalize(source, submitted, others)
    if normalized.notebook is None:
        cells = [CellResult(gid, 0.0, pts, normalized.status, normalized.message) for gid, pts in normalize.graded_cells(source)]
        return NotebookResult(name, cells, normalized.notes)
    notebook = normalized.notebook
    outcome = execute(source, notebook, job, hidden)
    statuses = score.apply_outputs(notebook, outcome)
    cells = score.score(notebook, statuses, outcome)
    seconds = round(time.perf_counter() - started, 2)
    return NotebookResult(name, cells, normalized.notes, seconds, score.cell_seconds(outcome), nbformat.writes(notebook))


def execute(
    source: nbformat.NotebookNode, notebook: nbformat.NotebookNode, job: Job, hidden: list[Path], mode: str = "autograde",
) -> sandbox.Outcome:
    """Judge ``notebook``: the instructor's cells run in a judge process, the student's in the sandbox.

    The judge's folder holds the assignment's files only; the student's work folder is a fresh,
    size-limited tmpfs inside the sandbox, filled from a read-only copy of the assignment's files and
    the data files the student handed in.
    """
    with tempfile.TemporaryDirectory(prefix="grade-") as scratch:
        scratch = Path(scratch)
        _fill(scratch / "judge", job.assignment.files)
        handed_in = {k: v for k, v in job.files.items() if not k.endswith(".ipynb")}
        _fill(scratch / "input", {**handed_in, **job.assignment.files})  # the course's own files win
        fonts = _font_cache(scratch / "fonts")
        for path in [scratch, *scratch.rglob("*")]:
            path.chmod(path.stat().st_mode | 0o055)  # readable by the sandbox's throwaway uid
        threads = dict.fromkeys(config.THREAD_VARIABLES, str(config.KERNEL_THREADS))
        variables = {"NBGRADER_EXECUTION": mode, **threads}
        work = scratch / "work"
        work.mkdir(mode=0o777)
        agent_env = sandbox.environment(work, variables)
        agent = [sys.executable, "-I", str(AGENT), str(scratch / "input"), str(fonts)]
        job_json = {
            "source": nbformat.writes(source), "notebook": nbformat.writes(notebook),
            "agent": {"argv": sandbox.command(agent, work, job.limits, hidden, [AGENT.parent, scratch / "input", fonts]), "env": agent_env,
                      "cwd": str(work)},
            "cell_timeout": job.limits.cell_timeout, "output_limit": config.OUTPUT_LIMIT_BYTES,
            "notebook_output_limit": config.NOTEBOOK_OUTPUT_LIMIT_BYTES,
            "cgroup": sandbox.cgroup_limits(job.limits),
        }
        judge_env = {**os.environ, **variables, "PYTHONPATH": str(config.REPO), "MPLBACKEND": "Agg"}
        return sandbox.run([sys.executable, "-m", "autograder.judge.judge"], json.dumps(job_json), job.limits.notebook_timeout,
                           judge_env, cwd=scratch / "judge")


def _font_cache(target: Path) -> Path:
    """A copy of matplotlib's font list for the agent: building it anew costs about 0.5 s per notebook."""
    import matplotlib  # only here: a worker that grades no notebook never needs it

    target.mkdir(parents=True, exist_ok=True)
    for cached in Path(matplotlib.get_cachedir()).glob("fontlist-*.json"):
        shutil.copy(cached, target / cached.name)
    return target


def _fill(work: Path, files: dict[str, bytes]) -> None:
    work.mkdir(parents=True)
    for relative, data in files.items():
        target = (work / relative).resolve()
        if work.resolve() not in target.parents:
            continue  # a path like ../../x in an LMS download must not escape the work folder
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
