"""Every source notebook runs in test mode, and its reference solution passes its own tests."""

import nbformat
import pytest

from autograder import checktests, config, execute, scoring

SOURCES = sorted(config.SOURCE.glob("*/*.ipynb"))


@pytest.mark.slow
@pytest.mark.parametrize("path", SOURCES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_source_notebook_runs_and_passes_its_tests(path, tmp_path):
    notebook = checktests.reference(nbformat.read(path, as_version=4))
    execute.execute(notebook, tmp_path, mode="test")
    lost = {k: s.message for k, s in scoring.score_cells(notebook).items() if s.points < s.max_points}
    assert not lost
