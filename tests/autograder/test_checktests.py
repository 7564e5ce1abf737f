"""The recorded wrong implementations lose points and the correct alternatives get full marks."""

import nbformat
import pytest

from autograder import checktests, config, mutants, notebooks

NOTEBOOKS = [(a, p.name) for a in config.assignments() for p in sorted((config.SOURCE / a).glob("*.ipynb"))]


@pytest.mark.parametrize("assignment, name", NOTEBOOKS)
def test_catalog_covers_every_todo(assignment, name):
    todos = notebooks.solution_ids(mutants.load_source(assignment, name))
    catalog = mutants.load_catalog(mutants.catalog_path(assignment, name))
    for todo in todos:
        wrong = [v for v in catalog if v.cell == todo and not v.correct]
        correct = [v for v in catalog if v.cell == todo and v.correct]
        assert len(wrong) >= 3 and len(correct) >= 1, f"{todo}: {len(wrong)} wrong, {len(correct)} correct"
    assert {v.cell for v in catalog} <= set(todos), "catalog names a cell that is not a TODO"


@pytest.mark.slow
@pytest.mark.parametrize("assignment, name", NOTEBOOKS)
def test_tests_tell_right_from_wrong(assignment, name):
    baseline, outcomes = checktests.check_notebook(assignment, name)
    assert all(s.points == s.max_points for s in baseline.values())
    misses = [f"{o.variant.cell}: {o.variant.name} -> {o.failing() or 'no points lost'}" for o in outcomes if not o.ok]
    assert not misses, "\n".join(misses)
