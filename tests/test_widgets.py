"""Every notebook has a widget that teaches (issue 18): each control, moved, changes what it draws.

Probing a notebook means executing it, so the suite does not probe every notebook itself: the build
(autograder/build.py) probes each solution in the kernel that executed it, and records the rows in
``metadata.build.widgets``. Here:
- each executed solution records at least one widget, every control changed its drawing, none raised,
  and moving a control back drew the initial picture again (reproducible);
- the record is up to date with the twin: every recorded widget is still in it, every
  ``widgets.interactive(`` of the twin is recorded (a widget deleted or added since the build fails);
- the probe itself runs live, on a small synthetic notebook whose broken widgets it must report and on
  one real notebook, so a probe that stopped seeing anything would fail here.
"""

import re

import nbformat
import pytest

from autograder import config, widgetprobe

# Solutions not yet rebuilt with the probe, or notebooks still without a widget, with the reason;
# remove an entry once its notebook passes (the xfail is strict, so a passing entry fails).
NOT_YET: dict[str, str] = {}
INTERACTIVE = re.compile(r"\binteractive\(\s*(\w+)")


def solution_params() -> list:
    params = []
    for assignment in config.assignments():
        for twin in config.twins(assignment):
            key = f"{assignment}/{config.notebook_name(twin)}"
            reason = NOT_YET.get(key) or NOT_YET.get(assignment)
            marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
            params.append(pytest.param(twin, id=key, marks=marks))
    return params


def recorded(twin) -> dict:
    path = config.SOLUTIONS / twin.parent.name / config.notebook_name(twin)
    record = nbformat.read(path, as_version=4).metadata.get("build", {}).get("widgets")
    assert record is not None, f"{path.relative_to(config.REPO)} records no widget probe: rebuild it (python -m autograder build {twin.parent.name})"
    return record


@pytest.mark.parametrize("twin", solution_params())
def test_every_control_of_the_notebook_changes_its_drawing(twin):
    problems = widgetprobe.problems(recorded(twin))
    assert not problems, f"{twin.relative_to(config.REPO)}, as the build probed it:\n" + "\n".join(problems)


@pytest.mark.parametrize("twin", solution_params())
def test_the_record_names_the_widgets_of_the_twin(twin):
    text = twin.read_text(encoding="utf-8")
    in_twin = set(INTERACTIVE.findall(text))
    rows = recorded(twin)["controls"]
    in_record = {row["widget"] for row in rows}
    assert in_record <= in_twin, f"recorded widgets no longer in the twin (rebuild): {sorted(in_record - in_twin)}"
    assert in_twin <= in_record, f"widgets of the twin the build did not probe (rebuild): {sorted(in_twin - in_record)}"
    for row in rows:
        assert re.search(rf"\b{re.escape(str(row['control']))}\s*=", text), f"control {row['control']!r} of {row['widget']} is not in the twin"


SYNTHETIC = [
    """import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np


def draws(slope=1.0, style="-", grid=False):
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [0, slope], style)
    ax.grid(grid)
    plt.show()


def ignores(slope=1):
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [0, 1])
    plt.show()


def stub(slope=1.0):
    if slope > 2:
        raise NotImplementedError("the student's TODO")
    print("slope", slope)


def unseeded(scale=1.0):
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot(scale * np.random.rand(3))
    plt.show()


def quiet(slope=1.0):
    pass
""",
    """display(widgets.interactive(draws, slope=widgets.FloatSlider(value=1.0, min=0.0, max=3.0, continuous_update=False),
                            style=widgets.Dropdown(options=["-", "--", ":"]), grid=widgets.Checkbox(value=False)))
display(widgets.interactive(ignores, slope=widgets.IntSlider(value=1, min=0, max=5)))
display(widgets.interactive(stub, slope=widgets.FloatSlider(value=1.0, min=0.0, max=3.0)))
display(widgets.interactive(unseeded, scale=widgets.FloatLogSlider(value=0.5, base=10, min=-3, max=0)))
display(widgets.interactive(quiet, slope=widgets.FloatSlider(value=1.0, min=0.0, max=3.0)))""",
]


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in SYNTHETIC])
    record = widgetprobe.execute_and_probe(notebook, tmp_path_factory.mktemp("widgets"), mode="test")
    return notebook, record


@pytest.mark.slow
def test_the_probe_moves_every_kind_of_control_and_sees_the_drawing_change(synthetic):
    _, record = synthetic
    rows = {(row["widget"], row["control"]): row for row in record["controls"]}
    assert set(rows) == {("draws", "slope"), ("draws", "style"), ("draws", "grid"), ("ignores", "slope"),
                         ("stub", "slope"), ("unseeded", "scale"), ("quiet", "slope")}
    moved = {name: (rows[("draws", name)]["from"], rows[("draws", name)]["to"]) for name in ("slope", "style", "grid")}
    assert moved == {"slope": (1.0, 3.0), "style": ("-", ":"), "grid": (False, True)}, "each control goes to its far end"
    assert rows[("unseeded", "scale")]["to"] == pytest.approx(0.001), "a log slider's far end, in its log scale"
    for name in ("slope", "style", "grid"):
        assert rows[("draws", name)]["changed"] and rows[("draws", name)]["error"] is None, rows[("draws", name)]
    assert record["reproducible"]["draws"]


@pytest.mark.slow
def test_the_probe_reports_a_widget_that_does_not_change_raises_draws_nothing_or_is_unseeded(synthetic):
    _, record = synthetic
    problems = "\n".join(widgetprobe.problems(record))
    assert "ignores(slope): moving it from 1 to 5 did not change the drawing" in problems
    assert "stub(slope): NotImplementedError: the student's TODO" in problems
    assert "quiet(slope): the redraw drew and printed nothing" in problems
    assert "unseeded: two redraws at the same values differ" in problems
    assert "draws(" not in problems and "draws:" not in problems


@pytest.mark.slow
def test_the_probe_leaves_the_notebook_and_its_widgets_as_they_were(synthetic):
    notebook, _ = synthetic
    assert [c.source for c in notebook.cells] == SYNTHETIC, "the probe cell is removed again"
    state = notebook.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    outputs = [model["state"].get("outputs", []) for model in state.values() if model["model_name"] == "OutputModel"]
    assert len(outputs) == 5 and all(len(shown) <= 1 for shown in outputs), "the probe's drawings reached the widgets"
    figures = [shown for shown in outputs if shown and "image/png" in shown[0].get("data", {})]
    assert len(figures) == 3, "draws, ignores and unseeded each show their initial figure"


def test_a_notebook_without_widgets_is_a_problem():
    assert widgetprobe.problems({"controls": [], "reproducible": {}, "seconds": 0.0}) == ["no ipywidgets interactive in the notebook"]


LIVE = ("01-foundations", "02-kl-divergence.ipynb")  # a real notebook with a widget; no earlier notebook's files needed


@pytest.mark.slow
def test_the_probe_sees_the_widget_of_a_real_notebook(tmp_path):
    assignment, name = LIVE
    notebook = nbformat.read(config.SOURCE / assignment / name, as_version=4)
    record = widgetprobe.execute_and_probe(notebook, tmp_path, mode="test")
    assert record["controls"], f"the probe found no widget in {assignment}/{name}"
    assert not widgetprobe.problems(record), widgetprobe.table(name, record)


def test_the_command_names_an_unknown_assignment_or_notebook(capsys):
    from autograder import cli

    assert cli.main(["widgets", "nope"]) == cli.USAGE_ERROR
    assert cli.main(["widgets", config.assignments()[0], "--notebook", "99-none"]) == cli.USAGE_ERROR
    errors = capsys.readouterr().err
    assert "unknown assignment 'nope'" in errors and "no notebook '99-none'" in errors
