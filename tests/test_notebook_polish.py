"""Every text twin (labs/*/NN-name.py) reads as the course promises (labs/AUTHORING.md).

Static checks on the twins' source, so they run in a second and name the file to fix:
- it opens with objectives and prerequisites, and closes with a summary and questions;
- a notebook with a training loop shows progress with tqdm.auto (heuristic below);
- every figure has a title and labelled axes (heuristic below);
- one notation: log σ² is `logvar` in code.
"""

import ast
import re
from pathlib import Path

import jupytext
import pytest

from autograder import config

TWINS = [twin for assignment in config.assignments() for twin in config.twins(assignment)]
# A check that fails on a committed twin is marked here, with the file, until the twin is fixed.
KNOWN_FAILURES: dict[tuple[str, str], str] = {}

# Loop counters that mean "training steps": range(steps), range(n_steps), range(1, EPOCHS + 1), ...
TRAINING_COUNTER = re.compile(r"step|epoch", re.I)
# Calls that give an axes its title and both labels: labkit.plots' helpers all call label().
LABELLING_HELPERS = {"label", "scatter_2d", "training_curves"}
FIGURE_MAKERS = {"subplots", "figure"}
# Other spellings of log σ², which the course writes `logvar` everywhere.
OTHER_LOGVAR_NAMES = {"log_var", "lv", "logvariance", "log_variance", "log_sigma2", "log_sigma_sq", "logsigma2"}
MAGIC = re.compile(r"^\s*[%!]", re.M)


def twin_id(twin: Path) -> str:
    return f"{twin.parent.name}/{twin.name}"


def checked(test_name: str) -> list:
    """The twins as pytest params, each known failure of ``test_name`` marked xfail with its reason."""
    return [
        pytest.param(twin, id=twin_id(twin), marks=[pytest.mark.xfail(reason=KNOWN_FAILURES[key], strict=True)]
                     if (key := (test_name, twin_id(twin))) in KNOWN_FAILURES else [])
        for twin in TWINS
    ]


def cells(twin: Path) -> list:
    return jupytext.read(twin, fmt="py:percent").cells


def code_tree(cell) -> ast.Module:
    """A code cell's syntax tree; IPython magics and shell escapes become blank lines."""
    return ast.parse(MAGIC.sub("", cell.source))


def is_provided(cell) -> bool:
    """A code cell the student neither writes nor is graded on (no nbgrader metadata)."""
    return cell.cell_type == "code" and "nbgrader" not in cell.metadata


def called(tree: ast.AST) -> set[str]:
    """The names of every function or method called in ``tree`` (``ax.set_title(...)`` gives set_title)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            names.add(func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", ""))
    return names


def labels_directly(names: set[str]) -> bool:
    """Title and both axis labels set by hand, or a gallery of images with its axes turned off and a title."""
    titled = bool(names & {"set_title", "suptitle"})
    return titled and ({"set_xlabel", "set_ylabel"} <= names or "axis" in names)


def labelling_functions(twin: Path) -> set[str]:
    """labkit's helpers, plus every function of the twin that labels its figure (directly or through one)."""
    bodies = {
        node.name: called(node)
        for cell in cells(twin) if cell.cell_type == "code"
        for node in ast.walk(code_tree(cell)) if isinstance(node, ast.FunctionDef)
    }
    labelling = set(LABELLING_HELPERS)
    while True:
        more = {name for name, calls in bodies.items() if calls & labelling or labels_directly(calls)} - labelling
        if not more:
            return labelling
        labelling |= more


# A loop an author has timed and found fast says so on its line; it needs no progress bar.
FAST_LOOP = "# fast:"


def training_loops(tree: ast.AST, source: str = "") -> list[str]:
    """The `for` statements of ``tree`` over a range of steps or epochs (possibly wrapped, as in tqdm(range(...))),
    except those whose line carries a ``# fast: <why>`` comment."""
    lines = source.splitlines()
    loops = []
    for node in ast.walk(tree):
        if isinstance(node, ast.For) and not (lines and FAST_LOOP in lines[node.lineno - 1]):
            ranges = [
                c for c in ast.walk(node.iter)
                if isinstance(c, ast.Call) and getattr(c.func, "id", "") in ("range", "trange")
            ]
            if any(TRAINING_COUNTER.search(ast.unparse(arg)) for r in ranges for arg in r.args):
                loops.append(ast.unparse(node.iter))
    return loops


@pytest.mark.parametrize("twin", checked("test_opens_with_objectives_and_prerequisites"))
def test_opens_with_objectives_and_prerequisites(twin):
    first = cells(twin)[0]
    assert first.cell_type == "markdown", f"{twin_id(twin)}: the first cell should be the introduction"
    for word in ("objectives", "prerequisites"):
        assert word in first.source.lower(), f"{twin_id(twin)}: the first cell does not state its {word}"


@pytest.mark.parametrize("twin", checked("test_closes_with_a_summary_and_questions"))
def test_closes_with_a_summary_and_questions(twin):
    last = cells(twin)[-1]
    assert last.cell_type == "markdown", f"{twin_id(twin)}: the notebook should close with its summary"
    assert re.search(r"^#+ .*summary", last.source, re.I | re.M), f"{twin_id(twin)}: no closing '## Summary' heading"
    assert "question" in last.source.lower(), f"{twin_id(twin)}: the closing cell asks no questions"


@pytest.mark.parametrize("twin", checked("test_training_loops_show_progress_with_tqdm"))
def test_training_loops_show_progress_with_tqdm(twin):
    """Heuristic: a provided cell that loops over range(<steps or epochs>) is a training loop that can
    run for seconds, so the notebook must import tqdm from tqdm.auto (the notebook-aware bar). It does
    not prove that bar wraps that very loop (an outer loop over βs may carry it), nor does it catch a
    long loop with another counter. Test cells must not show tqdm: nbgrader scores stderr as a failure.
    """
    source = twin.read_text()
    loops = [loop for cell in cells(twin) if is_provided(cell) for loop in training_loops(code_tree(cell), cell.source)]
    if loops:
        assert re.search(r"^from tqdm\.auto import|^import tqdm\.auto", source, re.M), (
            f"{twin_id(twin)}: training loops {loops} but no `from tqdm.auto import tqdm`"
        )
    assert not re.search(r"^from tqdm import|^import tqdm$", source, re.M), f"{twin_id(twin)}: use tqdm.auto"
    test_cells = [
        c for c in cells(twin)
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("points") and not c.metadata["nbgrader"].get("solution")
    ]
    assert not any({"tqdm", "trange"} & called(code_tree(c)) for c in test_cells), (
        f"{twin_id(twin)}: a test cell shows a progress bar (stderr)"
    )


@pytest.mark.parametrize("twin", checked("test_every_figure_has_a_title_and_labelled_axes"))
def test_every_figure_has_a_title_and_labelled_axes(twin):
    """Heuristic: each code cell that makes a figure (plt.subplots, plt.figure) also labels it, by
    calling labkit's label() or a helper of labkit or of the twin that does, or by setting a title and
    both axis labels, or (an image gallery) by turning its axes off and giving it a title. It checks
    the cell, not each axes of the figure."""
    labelling = labelling_functions(twin)
    unlabelled = []
    for index, cell in enumerate(cells(twin)):
        if cell.cell_type != "code":
            continue
        names = called(code_tree(cell))
        if names & FIGURE_MAKERS and not (names & labelling or labels_directly(names)):
            unlabelled.append(f"cell {index}: {cell.source.strip().splitlines()[0][:70]}")
    assert not unlabelled, f"{twin_id(twin)}: figures without a title and axis labels: {unlabelled}"


@pytest.mark.parametrize("twin", checked("test_log_variance_is_called_logvar"))
def test_log_variance_is_called_logvar(twin):
    names = set()
    for cell in cells(twin):
        if cell.cell_type == "code":
            for node in ast.walk(code_tree(cell)):
                names.add(getattr(node, "id", None) or getattr(node, "arg", None) or getattr(node, "attr", None))
    others = names & OTHER_LOGVAR_NAMES
    assert not others, f"{twin_id(twin)}: log σ² is `logvar` in code, not {others}"
