"""The CLI on an instructor's ordinary mistakes: a clear message on stderr, a non-zero exit, no traceback,
and nothing written or deleted. Each case runs ``python -m autograder`` as a subprocess, from a folder
outside the repository, against a scratch copy of the tiny course."""

import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder import config

sys.path.insert(0, str(Path(__file__).parent / "grading"))
import tiny_course  # noqa: E402


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    """A scratch tree: the tiny course, submission folders in right and wrong layouts, and odd files."""
    root = tmp_path_factory.mktemp("cli")
    course = tiny_course.make_course(root / "course")
    good = root / "submitted" / "alice" / tiny_course.ASSIGNMENT
    good.mkdir(parents=True)
    nbformat.write(tiny_course.reference(), good / tiny_course.NOTEBOOK)
    flat = root / "flat" / "alice"  # the commonest mistake: no assignment folder
    flat.mkdir(parents=True)
    nbformat.write(tiny_course.reference(), flat / tiny_course.NOTEBOOK)
    backwards = root / "backwards" / tiny_course.ASSIGNMENT / "alice"
    backwards.mkdir(parents=True)
    nbformat.write(tiny_course.reference(), backwards / tiny_course.NOTEBOOK)
    (root / "notes.txt").write_text("not a zip, not a twin")
    (root / "stray.py").write_text("# not in labs/\n")
    (root / "broken.ipynb").write_text("{ not json")
    (root / "no-due.csv").write_text("student,assignment\nalice,00-tiny\n")
    (root / "extensions.csv").write_text("student,assignment,due\nzed,00-tiny,2026-12-04T00:00\n")
    (root / "canvas-export.csv").write_text("Student,ID,SIS User ID,SIS Login ID,Section,Lab 9 (999)\n"
                                            "    Points Possible,,,,,5\n\"Doe, Alice\",1,,,,\n")
    (course / "source" / "00-broken").mkdir()
    (course / "source" / "00-broken" / "01-broken.ipynb").write_text("{ half a notebook")
    with zipfile.ZipFile(root / "other.zip", "w") as zipped:
        zipped.writestr("homework.ipynb", "{}")
    assert course == root / "course"
    return root


# (arguments, what stderr must say); {root} is the scratch tree, {course} its course.
GRADE = ["grade", "00-tiny", "--course", "{course}", "--submissions", "{root}/submitted", "--out", "{root}/out"]
MISTAKES = [
    (["build", "nope"], "unknown assignment 'nope'"),
    (["check-build", "nope"], "known: "),
    (["check-tests", "nope"], "unknown assignment 'nope'"),
    (["check-tests", config.assignments()[0], "--notebook", "nope.ipynb"], "no notebook 'nope.ipynb'"),
    (["demo", "nope"], "unknown assignment 'nope'"),
    (["twin", "{root}/missing.py"], "does not exist"),
    (["twin", "{root}/notes.txt"], "should be a .py file"),
    (["twin", "{root}/stray.py"], "not in an assignment folder"),
    (["run", "{root}/missing.ipynb", "--out", "{root}/run.ipynb"], "does not exist"),
    (["run", "{root}/broken.ipynb", "--out", "{root}/run.ipynb"], "is not a notebook"),
    (["run", "{course}/source/00-tiny/01-tiny.ipynb", "--out", "{root}"], "is a folder"),
    (["grade", "00-tiny", "--course", "{course}", "--submissions", "{root}/nowhere"], "does not exist"),
    (["grade", "00-tiny", "--course", "{course}"], "submissions folder {course}/submitted does not exist"),
    (["grade", "00-tiny", "--submissions", "{root}/submitted"], "the current folder {root} is not an nbgrader course"),
    (["export", "00-tiny"], "or pass --course PATH"),
    (["grade", "nope", "--course", "{course}", "--submissions", "{root}/submitted"], "known: 00-broken, 00-tiny"),
    (["grade", "00-tiny", "--course", "{course}", "--submissions", "{root}/flat"], "alice/01-tiny.ipynb"),
    (["grade", "00-tiny", "--course", "{course}", "--submissions", "{root}/backwards"], "the student comes first"),
    (["grade", "00-tiny", "--course", "{course}", "--submissions", "{root}/notes.txt"], "is not a folder"),
    (["grade", "00-tiny", "--course", "{root}/no-course", "--submissions", "{root}/submitted"], "course folder"),
    (["grade", "00-tiny", "--course", "{root}", "--submissions", "{root}/submitted"], "no source/ folder"),
    ([*GRADE, "--workers", "0"], "--workers must be positive"),
    ([*GRADE, "--cell-timeout", "-1"], "--cell-timeout must be positive"),
    ([*GRADE, "--memory", "0"], "--memory must be positive"),
    ([*GRADE, "--scheduler", "localhost"], "not a Dask scheduler address"),
    (["grade", "00-broken", "--course", "{course}", "--submissions", "{root}/submitted"], "source notebook "),
    ([*GRADE, "--due", "next friday"], "not an ISO date-time"),
    ([*GRADE, "--extensions", "{root}/missing.csv"], "does not exist"),
    ([*GRADE, "--extensions", "{root}/no-due.csv", "--due", "2026-12-01T17:00"], "needs student, assignment and due"),
    ([*GRADE, "--student", "bob"], "--student bob"),
    ([*GRADE, "--extensions", "{root}/extensions.csv", "--due", "2026-12-01T17:00", "--canvas-export", "{root}/canvas-export.csv",
      "--canvas-assignment", "999"], "not in the Canvas roster: zed"),
    (["grade", "00-tiny", "--course", "{course}", "--submissions", "{root}/submitted", "--out", "{root}/notes.txt"], "is a file"),
    ([*GRADE, "--canvas-export", "{root}/canvas-export.csv"], "Lab 9 (999)"),
    ([*GRADE, "--canvas-export", "{root}/notes.txt"], "not a Canvas gradebook export"),
    (["import", "00-tiny", "{root}/missing.zip", "--course", "{course}", "--submissions", "{root}/new"], "does not exist"),
    (["import", "00-tiny", "{root}/notes.txt", "--course", "{course}", "--submissions", "{root}/new"], "is not a zip archive"),
    (["import", "00-tiny", "{root}/other.zip", "--course", "{course}", "--submissions", "{root}/new"], "no Canvas submission"),
    (["import", "nope", "{root}/other.zip", "--course", "{course}", "--submissions", "{root}/new"], "unknown assignment"),
    (["import", "00-tiny", "{root}/other.zip", "--course", "{course}", "--submissions", "{root}/new", "--timezone", "Mars/Olympus"], "unknown time zone"),
    (["feedback", "00-tiny", "--course", "{course}", "--out", "{root}/never-graded"], "holds no graded run"),
    (["feedback", "00-tiny", "--course", "{course}", "--reveal-after", "yesterday"], "--reveal-after 'yesterday'"),
    (["export", "00-tiny", "--course", "{course}", "--out", "{root}/out"], "run `python -m autograder grade 00-tiny` first"),
    (["validate", "{root}/missing.ipynb", "--unsafe"], "does not exist"),
]


def _snapshot(root: Path) -> dict[str, str]:
    """Every path under ``root`` with a digest of its content (folders as "dir")."""
    return {
        str(p.relative_to(root)): "dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
    }


@pytest.mark.parametrize("arguments,message", MISTAKES, ids=[" ".join(m[0][:2]) + f" [{i}]" for i, m in enumerate(MISTAKES)])
def test_a_mistake_gets_a_message_and_changes_nothing(root, arguments, message):
    before = _snapshot(root)
    argv = [a.format(root=root, course=root / "course") for a in arguments]
    env = {**os.environ, "PYTHONPATH": str(config.REPO)}
    done = subprocess.run([sys.executable, "-m", "autograder", *argv], cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0, done.stdout
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    assert message.format(root=root, course=root / "course") in done.stderr, done.stderr
    assert done.stderr.startswith(f"autograder {arguments[0]}: error: "), done.stderr
    assert _snapshot(root) == before
    assert not (root / "course" / config.GRADEBOOK).exists()


def test_enough_mistakes_are_covered():
    assert len(MISTAKES) >= 20


def test_version_and_help_show_defaults():
    env = {**os.environ, "PYTHONPATH": str(config.REPO)}
    run = lambda *a: subprocess.run([sys.executable, "-m", "autograder", *a], env=env, capture_output=True, text=True)  # noqa: E731
    assert run("--version").stdout.startswith("autograder ")
    helped = run("grade", "--help").stdout
    assert "(default: 120)" in helped and "--student" in helped and "--force" in helped and "--verbose" in helped


def test_every_argument_has_help_and_its_default():
    import argparse

    from autograder import cli

    parser = cli._parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, sub in commands.choices.items():
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help, f"{name} {action.dest} has no help text"
            formatted = cli._Formatter(name)._get_help_string(action)
            assert "default" in formatted or action.required or not action.option_strings, f"{name} {action.dest} shows no default"
