"""The widget probe (issue 18): does every ipywidgets control of a notebook change what it draws?

A notebook's widgets follow one convention (the course's, for issue 18):
``controls = widgets.interactive(redraw_fn, name=widgets.FloatSlider(...)); display(controls)``.
After the notebook has run, a probe cell runs in the same kernel. For every live ``interactive`` it
draws the function once at the initial values, then, one control at a time, moves the control to a
clearly different value (a slider to its far end, a dropdown to its far option, a checkbox to its
other state), records what the function drew and printed, and puts the control back (which must
draw the initial picture again: else the drawing is not reproducible, e.g. unseeded randomness).
Nothing is sent to the frontend while probing, so each widget still shows its initial picture. ``interactive`` catches a redraw's exception and only shows its
traceback, so the probe listens for that traceback and counts it as a failure.

Each control gives one row: widget (the function's name), control (its keyword), kind, moved from and
to, whether the drawing changed, the error if any, and the seconds the redraw took (information only:
timings are never asserted). The build records the rows in ``metadata.build.widgets`` of each executed
solution (autograder/build.py); ``python -m autograder widgets`` runs the probe on demand;
tests/test_widgets.py checks the records.
"""

import inspect
import json
import tempfile
import time
import uuid
from pathlib import Path

import nbformat

from autograder import config, execute


def _kernel_probe(results_path: str) -> None:
    """Runs inside the notebook's kernel (its source is sent as a cell): probe every live interactive.

    Self-contained (it imports what it needs), so the kernel needs nothing of the autograder.
    Writes a JSON object {"controls": [row, ...], "reproducible": {function: bool}, "seconds": s}.
    """
    import contextlib
    import hashlib
    import io
    import json
    import math
    import sys
    import time

    import ipywidgets
    import matplotlib.pyplot as plt
    from IPython import get_ipython
    from ipywidgets.widgets import widget as widget_module

    started = time.perf_counter()
    shell = get_ipython()
    errors = []

    def record_traceback(*args, **kwargs):  # interactive.update calls this inside its `except`
        kind, value, _ = sys.exc_info()
        errors.append(f"{kind.__name__}: {value}" if kind else "the redraw showed a traceback")

    drawn, published = [], []

    def publish(data, *args, **kwargs):  # the shell's display publisher, during a redraw: keep, do not send
        published.append(data)

    def clear_output(*args, **kwargs):
        published.clear()

    def show(*args, **kwargs):  # plt.show, whatever the backend: render each open figure, then close it
        for number in plt.get_fignums():
            buffer = io.BytesIO()
            plt.figure(number).savefig(buffer, format="png")
            drawn.append(("figure", hashlib.sha256(buffer.getvalue()).hexdigest()))
        plt.close("all")

    def digest(text):
        """What one redraw drew, displayed and printed, as hashable parts."""
        parts = list(drawn)
        for data in published:
            for mime, content in sorted(data.items()):
                if mime != "text/plain" or not str(content).startswith("<Figure"):
                    parts.append((mime, hashlib.sha256(str(content).encode()).hexdigest()))
        if text.strip():
            parts.append(("stdout", hashlib.sha256(text.encode()).hexdigest()))
        return parts

    def redraw(interactive, change=None):
        """Run ``change`` (or a plain update), capturing what the redraw drew; return (parts, errors, seconds)."""
        drawn.clear()
        published.clear()
        errors.clear()
        start = time.perf_counter()
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
            if change is None or interactive.manual:
                if change is not None:
                    change()
                interactive.update()
            else:
                change()  # the control's observer calls interactive.update, as a real move does
            show()  # figures the function left open
        return digest(printed.getvalue()), list(errors), time.perf_counter() - start

    def target(control):
        """A clearly different value for ``control``, or None when the probe cannot move it."""
        value = control.value
        if isinstance(control, ipywidgets.FloatLogSlider):
            exponent = math.log(value, control.base)  # the far end in the slider's own, logarithmic, scale
            return control.base ** max((control.min, control.max), key=lambda end: abs(end - exponent))
        if isinstance(control, (ipywidgets.IntRangeSlider, ipywidgets.FloatRangeSlider)):
            wide = (control.min, control.max)
            return wide if tuple(value) != wide else (control.min, (control.min + control.max) / 2)
        if isinstance(control, (ipywidgets.Checkbox, ipywidgets.ToggleButton)):
            return not value
        if isinstance(getattr(control, "index", None), int):
            last = len(control.options) - 1
            return max((0, last), key=lambda end: abs(end - control.index))  # an index, set through .index
        if hasattr(control, "min") and hasattr(control, "max"):
            return max((control.min, control.max), key=lambda end: abs(end - value))
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value + max(1, abs(value))
        return None

    def readable(value):
        return value if isinstance(value, (int, float, str, bool)) or value is None else repr(value)

    instances = getattr(widget_module, "_instances", None) or ipywidgets.Widget.widgets
    interactives = [w for w in list(instances.values()) if isinstance(w, ipywidgets.interactive)]
    rows, reproducible = [], {}
    def probe_control(interactive, name, control, initial, initial_errors):
        """Move one control to its far value, compare the drawing with the initial one, move it back."""
        row = {"widget": name, "control": control._kwarg, "kind": type(control).__name__,
               "from": readable(control.value), "to": None, "changed": False, "error": None, "seconds": 0.0}
        attribute = "index" if isinstance(getattr(control, "index", None), int) else "value"
        before = getattr(control, attribute)
        try:
            goal = target(control)
            if goal is None or goal == before:
                row["error"] = f"the probe cannot move this {type(control).__name__} to another value"
                return row
            parts, moved_errors, seconds = redraw(interactive, lambda: setattr(control, attribute, goal))
            row["to"], row["changed"], row["seconds"] = readable(control.value), parts != initial, round(seconds, 3)
            problems = initial_errors + moved_errors
            if not parts and not problems:
                problems.append("the redraw drew and printed nothing")
            row["error"] = "; ".join(problems) or None
        except Exception as error:  # a value the control refuses, a failing observer
            row["error"] = f"{type(error).__name__}: {error}"
        finally:  # moving back must draw the initial picture again, or the drawing is not reproducible
            if getattr(control, attribute) != before:
                restored, _, _ = redraw(interactive, lambda: setattr(control, attribute, before))
                reproducible[name] = reproducible[name] and restored == initial
        return row

    def probe_widget(interactive):
        name = getattr(interactive.f, "__name__", repr(interactive.f))
        reproducible[name] = True
        try:
            initial, initial_errors, _ = redraw(interactive)
        except Exception as error:  # e.g. a figure that cannot be rendered
            return [{"widget": name, "control": None, "kind": None, "from": None, "to": None,
                     "changed": False, "error": f"{type(error).__name__}: {error}", "seconds": 0.0}]
        controls = [c for c in interactive.kwargs_widgets if isinstance(c, ipywidgets.Widget)]
        if not controls:
            return [{"widget": name, "control": None, "kind": None, "from": None, "to": None,
                     "changed": False, "error": "the interactive has no control", "seconds": 0.0}]
        return [probe_control(interactive, name, control, initial, initial_errors) for control in controls]

    original_show, publisher = plt.show, shell.display_pub
    plt.show, shell.showtraceback = show, record_traceback
    publisher.publish, publisher.clear_output = publish, clear_output
    try:
        for interactive in interactives:
            rows += probe_widget(interactive)
    finally:  # nothing was sent during the probe, so each widget still shows what it showed before
        plt.show = original_show
        del shell.showtraceback, publisher.publish, publisher.clear_output
    with open(results_path, "w", encoding="utf-8") as results:
        json.dump({"controls": rows, "reproducible": reproducible, "seconds": round(time.perf_counter() - started, 1)}, results)


def probe_cell(results_path: Path) -> nbformat.NotebookNode:
    """The code cell that probes the kernel's widgets and writes its results to ``results_path``."""
    source = inspect.getsource(_kernel_probe)
    return nbformat.v4.new_code_cell(f"{source}\n_kernel_probe({str(results_path)!r})\ndel _kernel_probe\n")


def execute_and_probe(notebook: nbformat.NotebookNode, cwd: Path, *, mode: str, timeout: int = config.CELL_TIMEOUT_S) -> dict:
    """Execute ``notebook`` in place (as execute.execute does), then probe its widgets in the same kernel.

    The probe cell is removed again, so ``notebook`` holds only its own cells. Returns the probe's
    record: {"controls": rows, "reproducible": {function: bool}, "seconds": the probe's own time}.
    """
    results = cwd / f".widget-probe-{uuid.uuid4().hex}.json"
    notebook.cells.append(probe_cell(results))
    try:
        execute.execute(notebook, cwd, mode=mode, timeout=timeout)
    finally:
        notebook.cells.pop()
    try:
        return json.loads(results.read_text(encoding="utf-8"))
    finally:
        results.unlink(missing_ok=True)


def problems(record: dict) -> list[str]:
    """What is wrong with one notebook's probe record, as readable reasons (empty: every widget teaches)."""
    rows = record.get("controls", [])
    found = [] if rows else ["no ipywidgets interactive in the notebook"]
    for row in rows:
        where = f"{row['widget']}({row['control']})"
        if row["error"]:
            found.append(f"{where}: {row['error']}")
        elif not row["changed"]:
            found.append(f"{where}: moving it from {row['from']} to {row['to']} did not change the drawing")
    for function, same in record.get("reproducible", {}).items():
        if not same:
            found.append(f"{function}: two redraws at the same values differ (unseeded randomness?)")
    return found


def table(name: str, record: dict) -> str:
    """One notebook's probe record as a small text table."""
    lines = [f"{name}: {len(record.get('controls', []))} control(s), probe {record.get('seconds', 0):.1f} s",
             f"  {'widget':<24} {'control':<16} {'moved from → to':<32} {'changed':<8} {'s':>6}  error"]
    for row in record.get("controls", []):
        moved = f"{row['from']} → {row['to']}"
        lines.append(f"  {row['widget']:<24} {str(row['control']):<16} {moved:<32} {'yes' if row['changed'] else 'NO':<8} "
                     f"{row['seconds']:>6.2f}  {row['error'] or ''}")
    return "\n".join(lines)


def run(assignment: str, notebook: str | None = None, mode: str = "test", source: Path = config.SOURCE) -> dict[str, dict]:
    """Execute the source notebooks of ``assignment`` (solutions in) in order in one scratch folder, probing each.

    With ``notebook`` (a file name), the earlier notebooks still run, unprobed, since later ones read
    what they write; nothing after it runs. Returns {notebook file name: probe record}.
    """
    records = {}
    with tempfile.TemporaryDirectory() as work:
        for path in sorted((source / assignment).glob("*.ipynb")):
            executed = nbformat.read(path, as_version=4)
            if notebook is None or path.name == notebook:
                records[path.name] = execute_and_probe(executed, Path(work), mode=mode)
                print(table(f"{assignment}/{path.name}", records[path.name]), flush=True)
            else:
                execute.execute(executed, Path(work), mode=mode)
                print(f"{assignment}/{path.name}: executed (read by later notebooks), not probed", flush=True)
            if path.name == notebook:
                break
    return records


def main(assignments: list[str], notebook: str | None = None, mode: str = "test") -> int:
    """The ``widgets`` command: probe, print the tables and every problem; 1 if any notebook has one."""
    failed = 0
    for assignment in assignments:
        for name, record in run(assignment, notebook, mode).items():
            for problem in problems(record):
                print(f"{assignment}/{name}: {problem}")
                failed += 1
    print("every control changes its drawing" if not failed else f"{failed} widget problem(s)")
    return 1 if failed else 0
