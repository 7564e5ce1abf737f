"""Each lab handout's rubric matches the points in its notebooks."""

import re

import nbformat
import pytest

from autograder import config, notebooks

ROW = re.compile(r"^\|\s*(?P<part>[^|]+?)\s*\|\s*(?P<notebook>[0-9]{2}-[^|]+?)\s*\|[^|]*\|\s*(?P<cells>[^|]+?)\s*\|\s*(?P<points>[0-9.]+)\s*\|")


def rubric_rows(assignment):
    text = (config.LABS / assignment / "README.md").read_text()
    return [m.groupdict() for m in map(ROW.match, text.splitlines()) if m]


def graded_points(assignment):
    points = {}
    for path in sorted((config.SOURCE / assignment).glob("*.ipynb")):
        for grade_id, cell in notebooks.cells_by_id(nbformat.read(path, as_version=4)).items():
            if cell.metadata["nbgrader"].get("grade"):
                points[(path.stem, grade_id)] = cell.metadata["nbgrader"]["points"]
    return points


@pytest.mark.parametrize("assignment", config.assignments())
def test_rubric_points_match_the_notebooks(assignment):
    rows = rubric_rows(assignment)
    assert rows, "the handout has no rubric table"
    points = graded_points(assignment)
    listed = []
    for row in rows:
        cells = [(row["notebook"], c.strip()) for c in row["cells"].split(",")]
        missing = [c for c in cells if c not in points]
        assert not missing, f"rubric names cells that do not exist: {missing}"
        assert sum(points[c] for c in cells) == float(row["points"]), row
        listed += cells
    assert sorted(listed) == sorted(points), "every graded cell appears in the rubric exactly once"


def test_foundations_rubric_has_the_seed_totals():
    totals = {}
    for row in rubric_rows("01-foundations"):
        totals[row["part"]] = totals.get(row["part"], 0) + float(row["points"])
    assert totals == {"Intractable demo": 20, "KL": 25, "Jensen": 15, "ELBO": 30, "Insight": 10}
