"""The build: text twins to source/, source/ to release/ (nbgrader), source/ to solutions/ (executed).

``build`` writes the three folders; ``check`` rebuilds into a scratch folder and reports every
committed file that differs, so a stale notebook fails the tests.
"""

import filecmp
import io
import os
import platform
import shutil
import tempfile
import time
import tokenize
from pathlib import Path

import nbformat

from autograder import config, release, twins, widgetprobe

# Per-cell limit while executing solutions in full mode. They are not graded, so nbgrader's limit
# (config.CELL_TIMEOUT_S) need not hold, and a full training cell on a shared 2-core machine can exceed it.
SOLUTION_CELL_TIMEOUT_S = 4 * config.CELL_TIMEOUT_S


def build_source(assignment: str, out: Path = config.SOURCE) -> list[Path]:
    """Write out/<assignment>/<notebook>.ipynb from each twin; return the paths written."""
    folder = out / assignment
    if folder.exists():
        shutil.rmtree(folder)
    written = []
    for twin in config.twins(assignment):
        target = folder / config.notebook_name(twin)
        twins.write_source(twin, target)
        written.append(target)
    return written


def build_release(assignment: str, source: Path = config.SOURCE, out: Path = config.RELEASE) -> None:
    """Generate out/<assignment> from source/<assignment> with nbgrader generate_assignment."""
    with tempfile.TemporaryDirectory() as scratch:
        course = release.make_course(Path(scratch), [assignment], source)
        generated = release.generate_release(course, assignment)
        target = out / assignment
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(generated, target)


def build_solutions(assignment: str, source: Path = config.SOURCE, out: Path = config.SOLUTIONS) -> None:
    """Execute each source notebook in full mode and write it, with outputs, to out/<assignment>.

    The notebooks run in order in one scratch folder, so a later notebook can read what an earlier one
    saved (as students run them), and nothing they write lands in source/. Each records how long it took
    and on what machine (``metadata.build``), so claims about run times can be checked (autograder.claims),
    and what its widgets do when each control moves (``metadata.build.widgets``, autograder/widgetprobe.py),
    for tests/test_widgets.py; the probe's own time is not counted in ``seconds``.
    """
    with tempfile.TemporaryDirectory() as work:
        for path in sorted((source / assignment).glob("*.ipynb")):
            notebook = nbformat.read(path, as_version=4)
            start = time.perf_counter()
            widgets = widgetprobe.execute_and_probe(notebook, Path(work), mode="full", timeout=SOLUTION_CELL_TIMEOUT_S)
            notebook.metadata["build"] = build_record(time.perf_counter() - start - widgets["seconds"]) | {"widgets": widgets}
            target = out / assignment / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(notebook, target)
            print(f"  executed {assignment}/{path.name}")
            for problem in widgetprobe.problems(widgets):
                print(f"    widgets: {problem}")


def refresh_markdown(assignment: str, source: Path = config.SOURCE, out: Path = config.SOLUTIONS) -> list[str]:
    """Copy the cells' sources of source/<assignment> into its executed solutions, outputs untouched.

    For a change of prose only (markdown, or comments in code): a solution whose code differs from
    source/ in anything but comments is left alone and named in the returned list (it needs executing:
    ``build``). Returns the solutions it could not refresh.
    """
    refused = []
    for path in sorted((source / assignment).glob("*.ipynb")):
        target = out / assignment / path.name
        fresh = nbformat.read(path, as_version=4)
        executed = nbformat.read(target, as_version=4) if target.exists() else None
        if executed is None or _code(fresh) != _code(executed):
            refused.append(f"{assignment}/{path.name}")
            continue
        for new, old in zip(fresh.cells, executed.cells):
            old.source, old.metadata = new.source, new.metadata
        nbformat.write(executed, target)
    return refused


def _code(notebook: nbformat.NotebookNode) -> list[tuple[str, str | None]]:
    """Each cell's type and, for code, its tokens without comments: what decides the outputs."""
    return [(c.cell_type, _without_comments(c.source) if c.cell_type == "code" else None) for c in notebook.cells]


def _without_comments(source: str) -> str:
    try:
        tokens = tokenize.generate_tokens(io.StringIO(source).readline)
        return " ".join(t.string for t in tokens if t.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE))
    except (tokenize.TokenError, SyntaxError):  # IPython magics and the like: compare as written
        return source


def build_record(seconds: float) -> dict:
    """What a solution notebook records about its own execution: wall time, cores, architecture, load."""
    return {
        "seconds": round(seconds, 1),
        "cores": os.cpu_count(),
        "machine": platform.machine(),
        "load_average": round(os.getloadavg()[0], 1),
    }


def build(assignments: list[str], with_solutions: bool = True) -> None:
    """Regenerate source/, release/ and (optionally) solutions/ for the given assignments."""
    for assignment in assignments:
        build_source(assignment)
        build_release(assignment)
        print(f"built source/ and release/ for {assignment}")
        if with_solutions:
            build_solutions(assignment)


def stale_files(assignments: list[str]) -> list[str]:
    """Committed generated files that differ from a fresh build, as readable reasons."""
    problems = []
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        for assignment in assignments:
            build_source(assignment, scratch / "source")
            build_release(assignment, scratch / "source", scratch / "release")
            for kind in ("source", "release"):
                problems += _compare(scratch / kind / assignment, config.REPO / kind / assignment)
            problems += _compare_solutions(scratch / "source" / assignment, config.SOLUTIONS / assignment)
    return problems


def _compare(fresh: Path, committed: Path) -> list[str]:
    fresh_files = {p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file()}
    committed_files = {p.relative_to(committed) for p in committed.rglob("*") if p.is_file()} if committed.exists() else set()
    label = committed.relative_to(config.REPO)
    problems = [f"{label}/{name}: missing" for name in sorted(fresh_files - committed_files)]
    problems += [f"{label}/{name}: not generated by the build" for name in sorted(committed_files - fresh_files)]
    for name in sorted(fresh_files & committed_files):
        if not filecmp.cmp(fresh / name, committed / name, shallow=False):
            problems.append(f"{label}/{name}: out of date")
    return problems


def _compare_solutions(source: Path, solutions: Path) -> list[str]:
    """Solutions carry outputs that vary run to run, so compare their cells' sources only."""
    problems = []
    for path in sorted(source.glob("*.ipynb")):
        executed = solutions / path.name
        label = executed.relative_to(config.REPO)
        if not executed.exists():
            problems.append(f"{label}: missing")
            continue
        want = [c.source for c in nbformat.read(path, as_version=4).cells]
        got = [c.source for c in nbformat.read(executed, as_version=4).cells]
        if want != got:
            problems.append(f"{label}: out of date (its cells differ from source/)")
    return problems
