"""The learner's install (shared/pyproject.toml, requirements-student.txt) is complete, small and in step.

Quick checks read the files: every module labkit and each lab's notebooks import is declared, by
labkit itself or by the lab's extra; every pin is requirements.txt's; the student file holds no grading
or test tooling. The slow test installs Lab 1's set into a new virtual environment and runs a release
notebook and its executed solution outside the checkout.
"""

import ast
import os
import shutil
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

import nbformat
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from autograder import config, site

SHARED = config.REPO / "shared"
LABKIT = SHARED / "labkit"
# The distribution that provides each third-party module the course imports.
DISTRIBUTIONS = {
    "torch": "torch", "numpy": "numpy", "matplotlib": "matplotlib", "mlxtend": "mlxtend", "mlx": "mlx",
    "jax": "jax", "thrml": "thrml", "scipy": "scipy", "sklearn": "scikit-learn", "tqdm": "tqdm",
    "ipywidgets": "ipywidgets", "sympy": "sympy", "IPython": "ipython",
}
INSTRUCTOR_ONLY = {"nbgrader", "pytest", "pytest-xdist", "playwright", "dask", "jupytext", "jupyter-server-mathjax"}
INSTALL_TIMEOUT_S = 1800
RUN_TIMEOUT_S = 900


def project() -> dict:
    return tomllib.loads((SHARED / "pyproject.toml").read_text())["project"]


def names(requirements: list[str]) -> set[str]:
    return {canonicalize_name(Requirement(r).name) for r in requirements}


def instructor_requirements() -> dict[str, Requirement]:
    """requirements.txt's pinned requirements, by (name, marker)."""
    lines = (config.REPO / "requirements.txt").read_text().splitlines()
    pinned = [Requirement(line) for line in map(str.strip, lines) if line and not line.startswith(("#", "-"))]
    return {(canonicalize_name(r.name), str(r.marker)): r for r in pinned}


def imports_of(path: Path) -> set[str]:
    """The top-level names of every module ``path`` imports, at module level or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def third_party(modules: set[str]) -> set[str]:
    """The distributions behind ``modules``, with labkit's own modules followed to what they import."""
    seen, todo, out = set(), list(modules), set()
    while todo:
        module = todo.pop()
        top = module.split(".")[0]
        if module in seen or top in sys.stdlib_module_names or top == "__future__":
            continue
        seen.add(module)
        if top == "labkit":
            part = LABKIT / f"{module.split('.')[1]}.py" if "." in module else LABKIT / "__init__.py"
            todo += imports_of(part) if part.is_file() else []  # `from labkit import runtime` names a module too
            continue
        assert top in DISTRIBUTIONS, f"{module}: which distribution provides it? add it to DISTRIBUTIONS and to an extra"
        out.add(canonicalize_name(DISTRIBUTIONS[top]))
    return out


def test_labkit_declares_what_every_lab_imports_of_it():
    always = set().union(*(third_party({f"labkit.{m}"}) for m in ("checks", "toy", "plots", "runtime", "seeding", "classes")))
    assert always <= names(project()["dependencies"]), "labkit's modules used by every lab import these"


@pytest.mark.parametrize("assignment", config.assignments())
def test_each_labs_extra_installs_everything_its_notebooks_import(assignment):
    extras = project()["optional-dependencies"]
    extra = site.extra_for(assignment)
    assert extra in extras, f"shared/pyproject.toml has no extra {extra!r} for {assignment}"
    needed = set().union(*(third_party(imports_of(twin)) for twin in config.twins(assignment)))
    declared = names(project()["dependencies"]) | names(extras[extra]) | names(extras["all"])
    assert needed <= names(project()["dependencies"]) | names(extras[extra]), sorted(needed - declared)
    assert names(extras[extra]) <= names(extras["all"]), "the 'all' extra should hold every lab's"
    assert {"jupyterlab", "ipykernel"} <= names(extras[extra]), "a learner needs JupyterLab to run the notebooks"


def test_every_pin_of_labkit_is_the_instructors():
    instructor = instructor_requirements()
    declared = project()["dependencies"] + [r for group in project()["optional-dependencies"].values() for r in group]
    for line in declared:
        requirement = Requirement(line)
        key = (canonicalize_name(requirement.name), str(requirement.marker))
        assert key in instructor, f"{line}: not in requirements.txt"
        theirs = instructor[key]
        assert (requirement.specifier, requirement.extras) == (theirs.specifier, theirs.extras), f"{line} vs {theirs}"
    assert site.TORCH_PIN == str(instructor[("torch", "None")])


def test_the_student_file_installs_labkit_with_every_lab_and_no_instructor_tooling():
    lines = [line.strip() for line in (config.REPO / "requirements-student.txt").read_text().splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    assert lines == ["./shared[all]"]
    everything = names(project()["dependencies"]) | names(project()["optional-dependencies"]["all"])
    assert not everything & INSTRUCTOR_ONLY


def run(command: list, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{' '.join(map(str, command))} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def errors(notebook: Path) -> list[str]:
    """The error names of an executed notebook's outputs, in order."""
    cells = nbformat.read(notebook, as_version=4).cells
    return [o["ename"] for c in cells if c.cell_type == "code" for o in c.outputs if o["output_type"] == "error"]


@pytest.mark.slow
def test_a_learner_installs_lab_1_and_runs_a_release_notebook_outside_the_checkout(tmp_path):
    assignment, notebook = config.BROWSER_NOTEBOOK  # Lab 1's notebook with a widget and visible tests
    assert site.extra_for(assignment) == "lab1"
    env_dir, work = tmp_path / "venv", tmp_path / "work"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    # What the README's learner section says: the lab's extra, from a copy of the repository (a copy of
    # shared/ here, since pip builds a local project in its folder and would leave shared/build/ behind).
    shared = shutil.copytree(SHARED, tmp_path / "shared", ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    run([python, "-m", "pip", "install", "--quiet", f"{shared}[lab1]"], timeout=INSTALL_TIMEOUT_S)
    installed = {canonicalize_name(line.split("==")[0]) for line in run([python, "-m", "pip", "freeze"]).stdout.split()}
    assert not installed & INSTRUCTOR_ONLY, f"the learner got instructor tooling: {installed & INSTRUCTOR_ONLY}"

    work.mkdir()
    release, solution = work / notebook, work / f"solution-{notebook}"
    shutil.copy(config.RELEASE / assignment / notebook, release)
    shutil.copy(config.SOLUTIONS / assignment / notebook, solution)
    probe = nbformat.v4.new_code_cell("import sys, labkit; print(sys.prefix); print(labkit.__file__)")
    for copy in (release, solution):
        loaded = nbformat.read(copy, as_version=4)
        loaded.cells.insert(0, probe)
        nbformat.write(loaded, copy)
    # A clean environment: nothing of the checkout's .venv, user kernels or PYTHONPATH leaks in.
    env = {
        "PATH": f"{env_dir / 'bin'}{os.pathsep}/usr/bin:/bin", "HOME": str(tmp_path / "home"),
        **config.TEST_MODE_ENV,
    }
    for copy in (release, solution):
        run([python, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", "--allow-errors", "--inplace",
             "--ExecutePreprocessor.timeout=600", copy.name], cwd=work, env=env, timeout=RUN_TIMEOUT_S)
        first = nbformat.read(copy, as_version=4).cells[0].outputs[0]["text"].split()
        assert first[0] == str(env_dir) and Path(first[1]).is_relative_to(env_dir), f"ran outside the new venv: {first}"
    # The release notebook runs up to each TODO, which tells the learner to write it; nothing else fails.
    assert errors(release) and set(errors(release)) == {"NotImplementedError"}, errors(release)
    assert errors(solution) == [], "the executed solution fails in the learner's install"
