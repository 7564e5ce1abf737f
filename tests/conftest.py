"""How the suite shares the cores: pytest-xdist, one worker per core (``-n auto --dist loadgroup``, pytest.ini).

- Tests that share a fixture built once per module or per session run on one worker, in order, so the
  fixture is built once: the tests of a module form a group, and modules that use the same
  session-scoped fixture of ours join one group.
- A test marked ``spread`` (a whole notebook's check, an assignment's demo) uses no such fixture, and
  runs on whichever worker is free.
- Spread tests go first, then the modules with slow tests, then the quick ones, so the longest work
  starts early and the quick tests fill the gaps at the end.
- Each worker's notebook kernels get one BLAS/OpenMP thread: the workers already take every core.

Tables a test records with ``record_property("report", text)`` are printed after the run, since the
workers' own output does not reach the terminal.
"""

import os
from pathlib import Path

import pytest

from autograder import config

for variable in config.THREAD_VARIABLES:
    os.environ.setdefault(variable, "1")

TESTS = Path(__file__).parent


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


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config, items):
    groups = _groups(items)
    for item in items:
        if not item.get_closest_marker("spread") and not item.get_closest_marker("xdist_group"):
            item.add_marker(pytest.mark.xdist_group(groups[str(item.path.relative_to(TESTS))]))
    slow_groups = {m.args[0] for item in items if item.get_closest_marker("slow") for m in item.iter_markers("xdist_group")}

    def order(item: pytest.Item) -> int:
        if item.get_closest_marker("spread"):
            return 0
        return 1 if {m.args[0] for m in item.iter_markers("xdist_group")} & slow_groups else 2

    items.sort(key=order)  # stable: a group's tests keep their order and stay together


def pytest_terminal_summary(terminalreporter):
    reports = [r for kind in ("passed", "failed") for r in terminalreporter.stats.get(kind, []) if r.when == "call"]
    tables = [(r.nodeid, text) for r in reports for name, text in r.user_properties if name == "report"]
    if tables:
        terminalreporter.section("reports the tests recorded")
        for nodeid, text in sorted(tables):
            terminalreporter.write_line(nodeid)
            terminalreporter.write_line(text)
