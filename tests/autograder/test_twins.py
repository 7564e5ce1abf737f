import pytest

from autograder import twins

TWIN = '''# %% [markdown]
# # Title

# %% nbgrader={"grade_id": "f", "solution": true}
def f(x):
    ### BEGIN SOLUTION
    return x
    ### END SOLUTION

# %% nbgrader={"grade_id": "f-visible", "points": 2}
assert f(1) == 1

# %% [markdown] nbgrader={"grade_id": "why", "solution": true, "points": 1}
# ### BEGIN SOLUTION
# Because.
# ### END SOLUTION
'''


def write(tmp_path, text):
    path = tmp_path / "01-x.py"
    path.write_text(text)
    return path


def test_compact_metadata_is_expanded_to_nbgrader_schema(tmp_path):
    notebook = twins.read_twin(write(tmp_path, TWIN))
    answer, test, written = (c.metadata["nbgrader"] for c in notebook.cells[1:])
    assert answer == {"grade": False, "grade_id": "f", "locked": False, "schema_version": 3, "solution": True, "task": False}
    assert test["grade"] and test["locked"] and not test["solution"] and test["points"] == 2
    assert written["grade"] and written["solution"] and not written["locked"] and written["points"] == 1


def test_cell_ids_are_stable(tmp_path):
    notebook = twins.read_twin(write(tmp_path, TWIN))
    assert [c.id for c in notebook.cells] == ["cell-000", "f", "f-visible", "why"]
    assert all(c.outputs == [] for c in notebook.cells if c.cell_type == "code")


def test_duplicate_grade_ids_are_rejected(tmp_path):
    with pytest.raises(twins.TwinError, match="used twice"):
        twins.read_twin(write(tmp_path, TWIN.replace('"grade_id": "f-visible"', '"grade_id": "f"')))


def test_unknown_keys_are_rejected(tmp_path):
    with pytest.raises(twins.TwinError, match="grade_id"):
        twins.read_twin(write(tmp_path, TWIN.replace('"points": 2', '"pionts": 2')))
