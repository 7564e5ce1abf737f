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
from _pytest.nodeid import coerce_node_id

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


@pytest.hookimpl(wrapper=True)  # before every plain hook, so that the order below is the one the workers report
def pytest_collection_modifyitems(config, items):
    modules = _groups(items)
    group = {item: None if item.get_closest_marker("spread") else modules[str(item.path.relative_to(TESTS))] for item in items}
    slow_groups = {group[item] for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: 0 if group[item] is None else 1 if group[item] in slow_groups else 2)  # stable
    if getattr(config.option, "loadgroup", False):  # set on xdist's workers under --dist loadgroup
        for item in items:
            if group[item] is not None:
                _join(item, group[item])
    return (yield)


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
