"""check-tests: the catalog meets its minimums, the tests tell right from wrong, and a weakened test is noticed.

The check-tests run is also where every source notebook runs in the suite: once untouched (it must
score 0) and once with its reference solution (full marks, the same under other global seeds).
"""

import re

import pytest

from autograder import checktests, config, mutants, notebooks

NOTEBOOKS = [(a, p.name) for a in config.assignments() for p in sorted((config.SOURCE / a).glob("*.ipynb"))]
WITH_TODOS = [(a, n) for a, n in NOTEBOOKS if notebooks.solution_ids(mutants.load_source(a, n))]


@pytest.mark.parametrize("assignment, name", NOTEBOOKS)
def test_catalog_covers_every_todo(assignment, name):
    todos = notebooks.solution_ids(mutants.load_source(assignment, name))
    catalog = mutants.load_catalog(mutants.catalog_path(assignment, name))
    for todo in todos:
        wrong = [v for v in catalog if v.cell == todo and not v.correct]
        correct = [v for v in catalog if v.cell == todo and v.correct]
        assert len(wrong) >= 3 and len(correct) >= 1, f"{todo}: {len(wrong)} wrong, {len(correct)} correct"
    assert {v.cell for v in catalog} <= set(todos), "the catalog names a cell that is not a TODO"


@pytest.mark.slow
def test_check_tests_passes_on_every_notebook():
    reports = checktests.check_all(config.assignments())
    checktests.print_reports(reports)
    misses = [f"{r.notebook}: {m}" for r in reports for m in r.misses]
    assert not misses, "\n".join(misses)


@pytest.mark.slow
def test_a_weakened_hidden_test_is_reported():
    assignment, name = WITH_TODOS[0]
    source = mutants.load_source(assignment, name)
    todo = notebooks.solution_ids(source)[0]
    hidden = notebooks.cells_by_id(source)[mutants.hidden_cell(todo)]
    hidden.source = re.sub(
        r"### BEGIN HIDDEN TESTS.*### END HIDDEN TESTS", "### BEGIN HIDDEN TESTS\npass\n### END HIDDEN TESTS",
        hidden.source, flags=re.S,
    )
    report = checktests.check_notebook(assignment, name, source)
    assert any("wrong implementation not caught" in m and todo in m for m in report.misses)
