"""What a graded run leaves behind: the gradebook (nbgrader export works), CSVs, feedback, the cache."""

import csv
import json
import subprocess
import sys

import pytest
from conftest import LIMITS, write_submissions

import grading_corpus
import tiny_course
from autograder import config
from autograder.__main__ import main
from autograder.grading import canvas, pipeline, sandbox


@pytest.mark.slow
def test_gradebook_is_nbgraders_and_export_works(graded_corpus):
    run, _, results = graded_corpus
    exported = subprocess.run([sys.executable, "-m", "nbgrader", "export"], cwd=run.course, capture_output=True, text=True)
    assert exported.returncode == 0, exported.stderr
    rows = {r["student_id"]: r for r in csv.DictReader((run.course / "grades.csv").open())}
    assert set(rows) == set(results)
    for student, result in results.items():
        # nbgrader's total also counts the written answer (1 point, ungraded here).
        assert float(rows[student]["raw_score"]) == result.score, student
    assert (run.course / "autograded" / "reference" / "00-tiny" / "01-tiny.ipynb").exists()


@pytest.mark.slow
def test_results_csv_and_feedback(graded_corpus):
    run, _, results = graded_corpus
    data = json.loads((run.out / "results.json").read_text())
    cell = data["infinite-loop"]["notebooks"][0]["cells"][0]
    assert set(cell) == {"grade_id", "points", "max_points", "status", "message"}
    grades = list(csv.DictReader((run.out / "grades.csv").open()))
    assert {g["student"]: float(g["score"]) for g in grades}["reference"] == tiny_course.MAX_SCORE
    assert next(csv.reader((run.out / "canvas.csv").open()))[:2] == ["Student", "ID"]
    assert len(list(csv.DictReader((run.out / "tests.csv").open()))) == 3 * len(results)
    page = (run.out / "feedback" / "untouched" / "00-tiny.html").read_text()
    assert "double-hidden" in page and "NotImplementedError" in page
    assert "BEGIN HIDDEN TESTS" not in page and "7.25" not in page  # the hidden test's source stays hidden
    assert main(["feedback", "00-tiny", "--out", str(run.out), "--reveal-hidden"]) == 0
    assert "7.25" in (run.out / "feedback" / "untouched" / "00-tiny.html").read_text()


@pytest.mark.slow
def test_rerun_grades_only_changed_submissions(graded_corpus, monkeypatch):
    run, _, results = graded_corpus
    changed = run.submissions / "untouched" / "00-tiny" / "01-tiny.ipynb"
    changed.write_bytes(grading_corpus._with(lambda nb: None)[tiny_course.NOTEBOOK])
    graded = []
    original = pipeline.worker.grade_task
    monkeypatch.setattr(pipeline.worker, "grade_task", lambda task, hidden: graded.append(task[0].student) or original(task, hidden))
    # The local pool pickles the function by name, so run the one job in this process instead.
    monkeypatch.setattr(pipeline.executors, "make", lambda *a: _InProcess())
    again = {r.student: r for r in pipeline.grade(run, progress=False)}
    assert set(graded) == {"untouched"}
    assert again["untouched"].score == tiny_course.MAX_SCORE
    for student in set(results) - {"untouched"}:
        assert again[student].to_dict() == results[student].to_dict()


class _InProcess:
    def map_unordered(self, fn, items):
        return ((item, fn(item), None) for item in items)

    def close(self):
        pass


def test_grade_refuses_without_sandbox(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    course = tiny_course.make_course(tmp_path / "course")
    code = main(["grade", "00-tiny", "--course", str(course), "--submissions", str(tmp_path), "--out", str(tmp_path / "out")])
    assert code == 2
    assert "--unsafe" in capsys.readouterr().err


def test_canvas_import(tmp_path):
    import zipfile

    archive = tmp_path / "submissions.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("doejane_1234_5678_01-tiny.ipynb", "{}")
        zipped.writestr("roebob_LATE_42_99_01-tiny-2.ipynb", "{}")
        zipped.writestr("smithann_7_8_notes.txt", "hi")
    stored = canvas.import_zip(archive, "00-tiny", {"01-tiny.ipynb"}, tmp_path / "submitted")
    assert stored == {"1234": ["01-tiny.ipynb"], "42": ["01-tiny.ipynb"], "7": ["notes.txt"]}
    assert (tmp_path / "submitted" / "42" / "00-tiny" / "01-tiny.ipynb").exists()


@pytest.mark.slow
def test_validate_fails_on_input_and_passes_the_reference(tmp_path, capsys):
    import nbformat

    good = tmp_path / "good.ipynb"
    nbformat.write(tiny_course.reference(), good)
    bad = tmp_path / "bad.ipynb"
    bad.write_bytes(grading_corpus._with(grading_corpus._answer("name = input()\ndef double(x):\n    return 2 * x"))[tiny_course.NOTEBOOK])
    assert main(["validate", str(good), "--cell-timeout", "20"]) == 0
    printed = capsys.readouterr().out
    # The release's hidden-test cells are placeholders: validate says they run at grading, never that they passed.
    assert "hidden   double-hidden (2 points)" in printed and "passed   double-hidden" not in printed
    assert "passed   double-visible (1/1)" in printed
    assert main(["validate", str(bad), "--cell-timeout", "20"]) == 1


@pytest.mark.slow
def test_dask_path_gives_the_local_pool_scores(graded_corpus, tmp_path):
    run, cases, results = graded_corpus
    chosen = [c for c in cases if c.student in ("reference", "untouched", "syntax-error", "eq-always-true")]
    course = tiny_course.make_course(tmp_path / "course")
    write_submissions(course / "submitted", chosen)
    dask_run = pipeline.Run("00-tiny", course, course / "submitted", tmp_path / "out", LIMITS, workers=2, dask=True)
    for result in pipeline.grade(dask_run, progress=False):
        assert [c.__dict__ for n in result.notebooks for c in n.cells] == [
            c.__dict__ for n in results[result.student].notebooks for c in n.cells
        ], result.student


@pytest.mark.slow
def test_output_is_capped_per_notebook(graded_corpus):
    _, _, results = graded_corpus
    for student in ("many-outputs", "huge-output"):
        executed = results[student].notebooks[0].executed
        assert len(executed) < config.NOTEBOOK_OUTPUT_LIMIT_BYTES + 2 * config.OUTPUT_LIMIT_BYTES, student


@pytest.mark.slow
def test_a_grader_failure_is_never_a_students_zero(tmp_path, monkeypatch):
    """A sandbox that cannot start: grader-error, nothing in the gradebook or the cache, a non-zero exit."""
    course = tiny_course.make_course(tmp_path / "course")
    write_submissions(course / "submitted", [grading_corpus.Case("alice", grading_corpus._with(lambda nb: None), {})])
    monkeypatch.setattr(pipeline.executors, "make", lambda *a: _InProcess())
    monkeypatch.setattr(pipeline.worker.sandbox, "command", lambda argv, *a, **k: ["sh", "-c", "echo no namespace >&2; exit 3"])
    run = pipeline.Run(tiny_course.ASSIGNMENT, course, course / "submitted", tmp_path / "out", LIMITS)
    (result,) = pipeline.grade(run, progress=False)
    assert {c.status for n in result.notebooks for c in n.cells} == {"grader-error"}
    assert "no namespace" in result.notebooks[0].cells[0].message
    assert not (tmp_path / "out" / "cache").exists() or not any((tmp_path / "out" / "cache").iterdir())
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        assert not gb.assignment_submissions(tiny_course.ASSIGNMENT)
    code = main(["grade", tiny_course.ASSIGNMENT, "--course", str(course), "--submissions", str(course / "submitted"),
                 "--out", str(tmp_path / "out2")])
    assert code != 0
