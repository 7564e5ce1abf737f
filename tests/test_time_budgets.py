"""Each handout's timeline adds up: its rows are its notebooks' own estimates, and its total is their sum.

The machine-readable form (labs/AUTHORING.md, "Time budgets"):
- a notebook's first markdown cell says ``**Estimated time.** N minutes`` (any words may follow);
- the handout's "## The notebooks and the timeline" table gives each notebook, and the set-up, one row
  with a cell ``a–b min``; the rows follow each other from 0, and a notebook's row lasts its estimate;
- the handout's ``**Time:**`` line names the total as its first ``N minutes``, the end of the last row.
"""

import re

import jupytext
import pytest

from autograder import config

ESTIMATE = re.compile(r"\*\*Estimated time\.\*\*\s*(\d+) minutes")
TOTAL = re.compile(r"\*\*Time:\*\*[^·\n]*?(\d+) minutes")
SPAN = re.compile(r"(\d+)–(\d+) min\b")
NOTEBOOK = re.compile(r"`(\d\d-[\w-]+)`|\((set-up)\)")
TIMELINE = "## The notebooks and the timeline"

# Assignments whose handout or notebooks do not follow the form yet, with the reason.
NOT_YET: dict[str, str] = {}


def estimate(twin) -> int:
    """The minutes a twin's opening cell estimates; fails if it does not say it in the form."""
    first = next(c for c in jupytext.read(twin, fmt="py:percent").cells if c.cell_type == "markdown")
    found = ESTIMATE.search(first.source)
    assert found, f"{twin.name}: its first markdown cell needs '**Estimated time.** N minutes'"
    return int(found[1])


def timeline(handout: str) -> list[tuple[str, int, int]]:
    """(notebook or 'set-up', start, end) of each row of the handout's timeline table."""
    assert TIMELINE in handout, f"the handout needs a section '{TIMELINE}'"
    rows = []
    for line in handout.split(TIMELINE, 1)[1].split("\n## ", 1)[0].splitlines():
        span, name = SPAN.search(line), NOTEBOOK.search(line)
        if line.startswith("|") and span and name:
            rows.append((name[1] or name[2], int(span[1]), int(span[2])))
    assert rows, "the timeline table has no row with 'a–b min' and a `NN-name` or (set-up)"
    return rows


def assignment_params() -> list:
    return [pytest.param(a, id=a, marks=[pytest.mark.xfail(reason=NOT_YET[a], strict=True)] if a in NOT_YET else [])
            for a in config.assignments()]


def budget_problems(handout: str, estimates: dict[str, int]) -> list[str]:
    """Every way a handout's timeline disagrees with its notebooks' estimates (name -> minutes, in order)."""
    rows = timeline(handout)
    problems = []
    if [name for name, _, _ in rows if name != "set-up"] != list(estimates):
        problems.append(f"the timeline should have one row per notebook, in order: {list(estimates)}")
    clock = 0
    for name, start, end in rows:
        if start != clock:
            problems.append(f"the row of {name} starts at {start} min, the row before it ends at {clock}")
        if name in estimates and end - start != estimates[name]:
            problems.append(f"{name}: the handout gives {end - start} min, the notebook estimates {estimates[name]}")
        clock = end
    total = TOTAL.search(handout)
    if not total:
        problems.append("the **Time:** line needs the total as 'N minutes'")
    elif int(total[1]) != clock:
        problems.append(f"**Time:** says {total[1]} minutes, the timeline adds up to {clock}")
    return problems


@pytest.mark.parametrize("assignment", assignment_params())
def test_the_handout_timeline_is_the_sum_of_the_notebooks_estimates(assignment):
    handout = (config.LABS / assignment / config.HANDOUT).read_text(encoding="utf-8")
    estimates = {twin.name[: -len(config.TWIN_SUFFIX)]: estimate(twin) for twin in config.twins(assignment)}
    problems = budget_problems(handout, estimates)
    assert not problems, f"{assignment}/{config.HANDOUT}:\n" + "\n".join(problems)


def test_a_timeline_that_does_not_add_up_is_caught():
    handout = f"**Time:** 100 minutes · x\n\n{TIMELINE}\n| 0–10 min | (set-up) | x |\n| 10–70 min | `01-a` | y |\n| 70–99 min | `02-b` | z |\n"
    assert budget_problems(handout, {"01-a": 60, "02-b": 29}) == ["**Time:** says 100 minutes, the timeline adds up to 99"]
    assert budget_problems(handout, {"01-a": 50, "02-b": 29}) == [
        "01-a: the handout gives 60 min, the notebook estimates 50", "**Time:** says 100 minutes, the timeline adds up to 99"]
    assert budget_problems(handout, {"01-a": 60}) != []
