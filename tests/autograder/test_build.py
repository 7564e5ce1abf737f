"""The generated folders are up to date, leak nothing, and carry no outputs."""

import json

import nbformat
import pytest

from autograder import build, config, notebooks

ASSIGNMENTS = config.assignments()
RELEASED = sorted(config.RELEASE.glob("*/*.ipynb"))


def test_every_assignment_is_built():
    assert ASSIGNMENTS, "no assignment found in labs/"
    for assignment in ASSIGNMENTS:
        names = {config.notebook_name(t) for t in config.twins(assignment)}
        for folder in (config.SOURCE, config.RELEASE, config.SOLUTIONS):
            assert {p.name for p in (folder / assignment).glob("*.ipynb")} == names, folder


@pytest.mark.slow
def test_generated_files_are_up_to_date():
    problems = build.stale_files(ASSIGNMENTS)
    assert not problems, "run `python -m autograder build`:\n" + "\n".join(problems)


@pytest.mark.parametrize("path", RELEASED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_release_holds_no_solution_and_no_hidden_test(path):
    text = path.read_text()
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in text
    source = nbformat.read(config.SOURCE / path.parent.name / path.name, as_version=4)
    released = notebooks.cells_by_id(nbformat.read(path, as_version=4))
    for grade_id, cell in notebooks.cells_by_id(source).items():
        meta = cell.metadata["nbgrader"]
        if meta["solution"] and cell.cell_type == "code":
            assert "raise NotImplementedError()" in released[grade_id].source
        if "### BEGIN HIDDEN TESTS" in cell.source:
            assert released[grade_id].source.strip() == notebooks.strip_hidden_tests(cell.source).strip()


@pytest.mark.parametrize("folder", [config.SOURCE, config.RELEASE], ids=["source", "release"])
def test_no_stored_outputs(folder):
    for path in folder.glob("*/*.ipynb"):
        for cell in json.loads(path.read_text())["cells"]:
            assert not cell.get("outputs") and cell.get("execution_count") is None, path


def test_only_notebooks_are_released():
    for assignment in ASSIGNMENTS:
        for folder in (config.SOURCE, config.RELEASE):
            assert {p.suffix for p in (folder / assignment).iterdir()} == {".ipynb"}


def test_solutions_are_executed_with_outputs():
    for path in config.SOLUTIONS.glob("*/*.ipynb"):
        cells = nbformat.read(path, as_version=4).cells
        code = [c for c in cells if c.cell_type == "code"]
        assert all(c.execution_count for c in code), f"{path} has unexecuted cells"
        assert any(o.get("output_type") == "display_data" for c in code for o in c.outputs), f"{path} has no figure"


def test_run_executes_next_to_its_output_and_leaves_the_notebook_folder_alone(tmp_path):
    from autograder.__main__ import main

    authored = tmp_path / "source"
    authored.mkdir()
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("open('written.txt', 'w').write('x')")])
    nbformat.write(notebook, authored / "writes.ipynb")
    out = tmp_path / "executed" / "writes.ipynb"
    assert main(["run", str(authored / "writes.ipynb"), "--mode", "test", "--out", str(out)]) == 0
    assert (out.parent / "written.txt").exists()
    assert sorted(p.name for p in authored.iterdir()) == ["writes.ipynb"]
