"""check-tests: the catalog meets its minimums, the tests tell right from wrong, and a weakened test is noticed.

The check-tests run is also where every source notebook runs in the suite: once untouched (it must
score 0) and once with its reference solution (full marks, the same under other global seeds). Each
notebook is its own test, so the workers share them out; their tables are printed at the end of the run.
"""

import dataclasses
import re
import sys
from pathlib import Path

import pytest

from autograder import checktests, config, mutants, notebooks

sys.path.insert(0, str(Path(__file__).parent / "grading"))  # the tiny course beside the grading tests

import tiny_course  # noqa: E402

NOTEBOOKS = [(a, p.name) for a in config.assignments() for p in sorted((config.SOURCE / a).glob("*.ipynb"))]
# Generated mutants per answer cell in the suite: a smaller fixed-seed sample than the command's default.
# In the suite they can fail only as a killed "equivalent"; the full check is
# `python -m autograder check-tests --mutants all --require-killed` (labs/AUTHORING.md, "Catalog").
SUITE_MUTANTS_PER_CELL = 8
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
@pytest.mark.spread
@pytest.mark.parametrize("assignment, name", NOTEBOOKS, ids=[f"{a}/{n}" for a, n in NOTEBOOKS])
def test_check_tests_passes_on_the_notebook(assignment, name, record_property):
    report = checktests.check_notebook(assignment, name, mutant_limit=SUITE_MUTANTS_PER_CELL)
    record_property("report", "\n".join(checktests.report_lines([report])))  # printed at the end (tests/conftest.py)
    assert not report.misses, "\n".join(report.misses)


@pytest.mark.slow
def test_a_weakened_hidden_test_is_reported(monkeypatch):
    assignment, name = WITH_TODOS[0]
    source = mutants.load_source(assignment, name)
    todo = notebooks.solution_ids(source)[0]
    catalog = [v for v in mutants.load_catalog(mutants.catalog_path(assignment, name)) if v.cell == todo]
    monkeypatch.setattr(mutants, "load_catalog", lambda path: catalog)  # the other TODOs' variants prove nothing here
    hidden = notebooks.cells_by_id(source)[mutants.hidden_cell(todo)]
    hidden.source = re.sub(
        r"### BEGIN HIDDEN TESTS.*### END HIDDEN TESTS", "### BEGIN HIDDEN TESTS\npass\n### END HIDDEN TESTS",
        hidden.source, flags=re.S,
    )
    report = checktests.check_notebook(assignment, name, source, mutant_limit=0)
    assert any("wrong implementation not caught" in m and todo in m for m in report.misses)


def _tiny(monkeypatch, source=None, catalog=(), equivalents=None, **kwargs) -> checktests.Report:
    """check-tests on the tiny course's notebook with every generated mutant, and the catalog given here."""
    monkeypatch.setattr(mutants, "load_catalog", lambda path: list(catalog))
    monkeypatch.setattr(mutants, "load_equivalents", lambda path: equivalents or {})
    source = source or tiny_course.source_notebook()
    kwargs.setdefault("mutant_limit", None)
    return checktests.check_notebook(tiny_course.ASSIGNMENT, tiny_course.NOTEBOOK, source, **kwargs)


@pytest.mark.slow
def test_generated_mutants_are_killed_and_a_false_equivalence_is_a_miss(monkeypatch):
    sampled, every = checktests.generated_mutants(tiny_course.source_notebook(), tiny_course.NOTEBOOK, 3)
    claimed = next(m.id for m in sampled if m.cell == "double")
    unsampled = next(i for i in every["double"] if i not in {m.id for m in sampled})
    equivalents = {"double": {
        claimed: "claimed equivalent, but it is not", unsampled: "not in this sample", "arithmetic:L9:00000000": "no such mutant",
    }}
    report = _tiny(monkeypatch, equivalents=equivalents, require_killed=True, mutant_limit=3)
    assert report.candidates == {cell: len(ids) for cell, ids in every.items()} and set(every) == {"double", "mean"}
    assert [o.mutant.id for o in report.generated] == [m.id for m in sampled] and all(o.killed for o in report.generated)
    assert report.misses == [f"recorded as equivalent, yet loses points: double: {claimed}"]
    assert report.stale_equivalents == ["double: arithmetic:L9:00000000"]
    assert any(line.startswith("01-tiny") or "double" in line for line in checktests.mutation_table([report]))


@pytest.mark.slow
def test_survivors_of_a_weakened_hidden_test_fail_only_with_require_killed(monkeypatch):
    source = tiny_course.source_notebook()
    hidden = notebooks.cells_by_id(source)["double-hidden"]
    hidden.source = "### BEGIN HIDDEN TESTS\ncheck_number(double(0.0), 0.0, 'double(0)')\n### END HIDDEN TESTS"
    lenient = _tiny(monkeypatch, source, require_killed=False)
    survivors = [o for o in lenient.generated if o.survived]
    assert survivors and {o.mutant.cell for o in survivors} == {"double"}
    assert not lenient.misses
    # The same run judged strictly, then with every survivor recorded as equivalent.
    strict = dataclasses.replace(lenient, require_killed=True)
    assert sorted(strict.misses) == sorted(f"generated mutant survives: double: {o.mutant.id}" for o in survivors)
    assert any(line.startswith("SURVIVOR") for line in checktests.survivor_lines([strict]))
    justified = [dataclasses.replace(o, reason="a reason") if o.survived else o for o in lenient.generated]
    assert not dataclasses.replace(strict, generated=justified).misses


@pytest.mark.slow
def test_mutants_of_an_answer_whose_reference_fails_its_hidden_test_are_not_judged(monkeypatch):
    source = tiny_course.source_notebook()
    hidden = notebooks.cells_by_id(source)["double-hidden"]
    hidden.source = "### BEGIN HIDDEN TESTS\ncheck_number(double(1.0), 3.0, 'double(1)')\n### END HIDDEN TESTS"
    report = _tiny(monkeypatch, source)
    assert report.unjudged == ["double"]
    assert {o.mutant.cell for o in report.generated} == {"mean"}
    assert any(m.startswith("reference loses points: double-hidden") for m in report.misses)
    assert any("double" in line and "not run" in line for line in checktests.mutation_table([report]))


@pytest.mark.slow
def test_a_variant_that_kills_the_kernel_or_hangs_is_caught_and_the_rest_still_run(monkeypatch):
    monkeypatch.setattr(checktests, "VARIANT_TIMEOUT_S", 5)
    catalog = [
        mutants.Variant("double", "exits the kernel", "import os\nos._exit(1)", correct=False),
        mutants.Variant("double", "never returns", "def double(x):\n    while True:\n        pass", correct=False),
        mutants.Variant("double", "x + x", "def double(x):\n    return x + x", correct=True),
    ]
    report = _tiny(monkeypatch, catalog=catalog)
    assert [o.ok for o in report.outcomes] == [True, True, True]
    messages = [o.scores["double-hidden"].message for o in report.outcomes[:2]]
    assert messages[0].startswith("DeadKernelError") and messages[1].startswith("CellTimeoutError")
    assert report.generated and all(o.killed for o in report.generated) and not report.misses
