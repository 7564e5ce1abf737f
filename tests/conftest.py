"""How the suite shares the cores: pytest-xdist, one worker per core (``-n auto --dist loadgroup``, pytest.ini).

- Tests that share a fixture built once per module or per session run on one worker, in order, so the
  fixture is built once: the tests of a module form a group, and modules that use the same
  session-scoped fixture of ours join one group.
- A test marked ``spread`` (a whole notebook's check, an assignment's demo) uses no such fixture, and
  runs on whichever worker is free.
- The longest work goes first and the quick tests fill the gaps at the end: the units of work (a group,
  or one spread test) run in order of their cost, longest first. A unit's cost is the sum of its tests'
  durations as ``tests/durations.json`` records them (``pytest --store-durations`` rewrites it); a test
  it does not know yet counts as ``NEW_SLOW_S`` if marked slow, else ``NEW_QUICK_S``. The order only
  changes how the cores are shared, never what a test checks.
- Each worker's notebook kernels get one BLAS/OpenMP thread: the workers already take every core.

Tables a test records with ``record_property("report", text)`` are printed after the run, since the
workers' own output does not reach the terminal.
"""

import json
import os
import re
from collections import defaultdict
from pathlib import Path

import pytest
from _pytest.nodeid import coerce_node_id

from autograder import config

for variable in config.THREAD_VARIABLES:
    os.environ.setdefault(variable, "1")

TESTS = Path(__file__).parent
DURATIONS = TESTS / "durations.json"
NEW_SLOW_S, NEW_QUICK_S = 60.0, 0.5
GROUP_SUFFIX = re.compile(r"@[^@\]]*$")


def pytest_addoption(parser):
    parser.addoption("--store-durations", action="store_true",
                     help=f"record each test's duration in {DURATIONS.relative_to(TESTS.parent)}, for ordering later runs")


def _own_session_fixtures(item: pytest.Item) -> set[str]:
    """The session-scoped fixtures defined in this suite (not pytest's own) that ``item`` uses."""
    found = set()
    for name, definitions in item._fixtureinfo.name2fixturedefs.items():
        definition = definitions[-1]
        if definition.scope == "session" and Path(definition.func.__code__.co_filename).is_relative_to(TESTS):
            found.add(name)
    return found


def _groups(items: list[pytest.Item]) -> dict[str, str]:
    """Each module's group: modules that share a session fixture of ours share a group (union-find)."""
    parent: dict[str, str] = {}

    def root(module: str) -> str:
        while parent.setdefault(module, module) != module:
            module = parent[module]
        return module

    users: dict[str, str] = {}
    for item in items:
        module = str(item.path.relative_to(TESTS))
        root(module)
        for fixture in _own_session_fixtures(item):
            first = users.setdefault(fixture, module)
            a, b = sorted((root(first), root(module)))
            parent[b] = a
    return {module: root(module) for module in parent}


@pytest.hookimpl(wrapper=True)  # before every plain hook, so that the order below is the one the workers report
def pytest_collection_modifyitems(config, items):
    modules = _groups(items)
    group = {item: None if item.get_closest_marker("spread") else modules[str(item.path.relative_to(TESTS))] for item in items}
    unit = {item: group[item] or item.nodeid for item in items}
    cost = _unit_costs(items, unit)
    first = {}
    for index, item in enumerate(items):
        first.setdefault(unit[item], index)
    items.sort(key=lambda item: (-cost[unit[item]], first[unit[item]]))  # stable: a group's tests keep their order
    if getattr(config.option, "loadgroup", False):  # set on xdist's workers under --dist loadgroup
        for item in items:
            if group[item] is not None:
                _join(item, group[item])
    return (yield)


def _unit_costs(items: list[pytest.Item], unit: dict[pytest.Item, str]) -> dict[str, float]:
    """Each unit's expected seconds: its tests' recorded durations, or a guess for a test not recorded yet."""
    recorded = json.loads(DURATIONS.read_text()) if DURATIONS.exists() else {}
    cost: dict[str, float] = defaultdict(float)
    for item in items:
        guess = NEW_SLOW_S if item.get_closest_marker("slow") else NEW_QUICK_S
        cost[unit[item]] += recorded.get(item.nodeid, guess)
    return cost


def _join(item: pytest.Item, group: str) -> None:
    """Put ``item`` in ``group``: loadgroup sends the tests whose node id ends in the same ``@group`` to one worker.

    xdist's own ``xdist_group`` marker sets ``item._nodeid``, which pytest 9 no longer reads (a node's id
    comes from ``item._id``), so the suffix is set here, where pytest 9 reads it.
    """
    item._id = coerce_node_id(f"{item.nodeid}@{group}")


def pytest_terminal_summary(terminalreporter):
    reports = [r for kind in ("passed", "failed") for r in terminalreporter.stats.get(kind, []) if r.when == "call"]
    tables = [(r.nodeid, text) for r in reports for name, text in r.user_properties if name == "report"]
    if tables:
        terminalreporter.section("reports the tests recorded")
        for nodeid, text in sorted(tables):
            terminalreporter.write_line(nodeid)
            terminalreporter.write_line(text)


_durations: dict[str, float] = defaultdict(float)


def pytest_runtest_logreport(report):
    _durations[GROUP_SUFFIX.sub("", report.nodeid)] += report.duration


def pytest_sessionfinish(session):
    worker = hasattr(session.config, "workerinput")  # under xdist the controller, which sees every report, writes
    if session.config.getoption("store_durations") and not worker and _durations:
        recorded = json.loads(DURATIONS.read_text()) if DURATIONS.exists() else {}
        recorded.update({nodeid: round(seconds, 2) for nodeid, seconds in _durations.items()})
        DURATIONS.write_text(json.dumps(dict(sorted(recorded.items())), indent=0) + "\n")
