"""The instructor's round trip: a Canvas submissions.zip -> import -> grade -> a manual score written
through nbgrader's gradebook API (as the formgrader does) -> export to Canvas -> feedback.

The class: Alice on time; Bob 1.5 days late (and a forged timestamp.txt saying he was early);
Cara resubmitted (the second file wins); Dan late but with an extension; Eve never submitted; Fay's
file is not a notebook (refused: it never runs, and her feedback and the CSVs say why).
The course's late-penalty plugin takes 10 % of the score per day or part of a day late.
"""

import csv
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

import tiny_course
from autograder.__main__ import main
from autograder.grading import layout, lateness

DUE = "2026-12-01T00:00"
PLUGIN = '''
import math
from nbgrader.plugins import LateSubmissionPlugin


class TenPercentPerDay(LateSubmissionPlugin):
    """An instructor's own plugin: 10 % of the score per day or part of a day late."""

    def late_submission_penalty(self, student_id, score, total_seconds_late):
        return score * 0.1 * math.ceil(total_seconds_late / 86400)


c.AssignLatePenalties.plugin_class = TenPercentPerDay
'''
CANVAS_EXPORT = """Student,ID,SIS User ID,SIS Login ID,Section,Tiny lab (555),Other lab (556),Current Score
    Points Possible,,,,,5.00,10.00,(read only)
"Doe, Alice",101,s101,alice,A,,,
"Roe, Bob",102,s102,bob,A,,,
"Kim, Cara",103,s103,cara,A,,,
"Lee, Dan",104,s104,dan,A,,,
"Park, Eve",105,s105,eve,A,,,
"Tan, Fay",106,s106,fay,A,,,
"""
OWN_CODE = "# Alice's own words: twice x"
TA_COMMENT = "A clear argument; cite the definition next time."


def _notebook(double: str = "return 2 * x", mean: str = "return sum(xs) / len(xs)") -> bytes:
    notebook = tiny_course.reference()
    for cell in notebook.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid == "double":
            cell.source = f"def double(x):\n    {double}"
        elif gid == "mean":
            cell.source = f"def mean(xs):\n    {mean}"
    return nbformat.writes(notebook).encode()


def _entry(name: str, when: tuple, data: bytes) -> tuple[zipfile.ZipInfo, bytes]:
    return zipfile.ZipInfo(name, date_time=when), data


def _canvas_zip(path: Path) -> Path:
    entries = [
        _entry("doealice_101_9001_01-tiny.ipynb", (2026, 11, 30, 12, 0, 0), _notebook(f"{OWN_CODE}\n    return 2 * x")),
        _entry("roebob_LATE_102_9002_01-tiny.ipynb", (2026, 12, 2, 12, 0, 0), _notebook()),
        _entry("kimcara_103_9003_01-tiny.ipynb", (2026, 11, 29, 9, 0, 0), nbformat.writes(tiny_course.untouched()).encode()),
        _entry("kimcara_103_9004_01-tiny-1.ipynb", (2026, 11, 30, 9, 0, 0), _notebook()),
        _entry("leedan_LATE_104_9005_01-tiny.ipynb", (2026, 12, 2, 12, 0, 0), _notebook(mean="return sum(xs) / (len(xs) + 1)")),
        _entry("tanfay_106_9006_01-tiny.ipynb", (2026, 11, 30, 8, 0, 0), b"{ half a notebook"),
    ]
    with zipfile.ZipFile(path, "w") as zipped:
        for info, data in entries:
            zipped.writestr(info, data)
    return path


@pytest.mark.slow
def test_round_trip(tmp_path, monkeypatch):
    from nbgrader.api import Gradebook

    course = tiny_course.make_course(tmp_path / "course")
    with (course / "nbgrader_config.py").open("a") as config_file:
        config_file.write(PLUGIN)
    submissions, out = course / "submitted", tmp_path / "out"
    (tmp_path / "canvas-export.csv").write_text(CANVAS_EXPORT)
    (tmp_path / "extensions.csv").write_text("student,assignment,due\ndan,00-tiny,2026-12-04T00:00\n")  # his SIS login
    canvas_options = ["--canvas-export", str(tmp_path / "canvas-export.csv"), "--canvas-assignment", "555"]

    # import and grade as the README writes them, in the course folder: --course and --submissions by default.
    monkeypatch.chdir(course)
    assert main(["import", "00-tiny", str(_canvas_zip(tmp_path / "submissions.zip"))]) == 0
    assert sorted(p.name for p in submissions.iterdir() if not p.name.startswith(".")) == ["101", "102", "103", "104", "106"]
    assert json.loads(lateness.record_path(submissions, "102", "00-tiny").read_text())["lms_late"] is True
    (submissions / "102" / "00-tiny" / "timestamp.txt").write_text("2026-11-01 00:00:00")  # forged: never trusted
    (submissions / "104" / "00-tiny" / "answers.txt").symlink_to("/etc/passwd")  # refused, never followed

    code = main(["grade", "00-tiny", "--out", str(out),
                 "--due", DUE, "--extensions", str(tmp_path / "extensions.csv"), "--workers", "2",
                 "--cell-timeout", "30", "--notebook-timeout", "120", *canvas_options])
    assert code == 0
    assert list((out / "logs").glob("grade-*.log"))
    results = json.loads((out / "results.json").read_text())
    assert results["102"]["lateness"]["seconds_late"] == 1.5 * 86400
    assert results["104"]["lateness"]["seconds_late"] == 0 and results["104"]["lateness"]["extended"]
    assert results["104"]["refused"] == ["answers.txt is a symbolic link: refused, not followed; hand in the file itself"]
    assert {s: sum(c["points"] for n in r["notebooks"] for c in n["cells"]) for s, r in results.items()} == {
        "101": 4.0, "102": 4.0, "103": 4.0, "104": 3.0, "106": 0.0}  # Cara's resubmission is graded, not her first try
    assert {c["status"] for c in results["106"]["notebooks"][0]["cells"]} == {"tampered"}

    # The TA grades the written answers in the formgrader, which writes through nbgrader's gradebook API
    # as its API handlers do (nbgrader/server_extensions/formgrader/apihandlers.py).
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for student in ("101", "102"):
            grade = gradebook.find_grade("why", "01-tiny", "00-tiny", student)
            grade.manual_score, grade.needs_manual_grade = 1.0, False
        gradebook.find_comment("why", "01-tiny", "00-tiny", "101").manual_comment = TA_COMMENT
        gradebook.db.commit()

    monkeypatch.chdir(tmp_path)  # from elsewhere, naming the course
    assert main(["export", "00-tiny", "--course", str(course), "--out", str(out), *canvas_options]) == 0
    rows = list(csv.reader((out / "canvas.csv").open()))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Tiny lab (555)"]
    assert rows[1] == ["Points Possible", "", "", "", "", "5.00"]
    scores = {row[1]: float(row[5]) for row in rows[2:]}
    # Alice: 4 + the manual 1. Bob: (4 + 1) less 2 days x 10 %. Cara: 4, her written answer not graded yet.
    # Dan: 3, late but within his extension. Eve: in the roster, no submission: 0. Fay: nothing ran: 0.
    assert scores == {"101": 5.0, "102": 4.0, "103": 4.0, "104": 3.0, "105": 0.0, "106": 0.0}
    notebooks = {r["student"]: r for r in csv.DictReader((out / "notebooks.csv").open())}
    assert notebooks["102"]["late_penalty"] == "1" and notebooks["102"]["notebook"] == "01-tiny"
    assert notebooks["106"]["notes"].startswith("tampered: the notebook file is not a valid notebook") and notebooks["101"]["notes"] == ""
    totals = {r["student"]: r for r in csv.DictReader((out / "grades.csv").open())}
    assert totals["104"]["notes"] == "answers.txt is a symbolic link: refused, not followed; hand in the file itself"
    assert totals["106"]["notes"].startswith("01-tiny.ipynb not graded (tampered: ") and totals["101"]["notes"] == ""

    # nbgrader's own export reads the same gradebook: the manual score and the penalty are there.
    exported = subprocess.run([sys.executable, "-m", "nbgrader", "export"], cwd=course, capture_output=True, text=True,
                              env={**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"})
    assert exported.returncode == 0, exported.stderr
    theirs = {r["student_id"]: r for r in csv.DictReader((course / "grades.csv").open())}
    assert float(theirs["102"]["late_submission_penalty"]) == 1.0 and float(theirs["102"]["score"]) == 4.0
    assert (theirs["105"]["last_name"], theirs["105"]["score"]) == ("Park", "0.0")  # the roster is in the gradebook

    assert main(["feedback", "00-tiny", "--course", str(course), "--out", str(out), "--canvas-export", str(tmp_path / "canvas-export.csv")]) == 0
    alice = (out / "feedback" / "101" / "00-tiny.html").read_text()
    assert "<title>00-tiny: Alice Doe</title>" in alice
    assert OWN_CODE.replace("'", "&#x27;") in alice and TA_COMMENT in alice
    assert "7.25" not in alice and "BEGIN HIDDEN TESTS" not in alice and "2 * x, f" not in alice
    bob = (out / "feedback" / "102" / "00-tiny.html").read_text()
    assert "late penalty of 1" in bob and "1 d 12 h late" in bob and "wait for a grader" not in bob
    assert "wait for a grader" in (out / "feedback" / "103" / "00-tiny.html").read_text()  # Cara's answer is not graded yet
    dan = (out / "feedback" / "104" / "00-tiny.html").read_text()
    assert "answers.txt is a symbolic link" in dan and "root:" not in dan
    fay = (out / "feedback" / "106" / "00-tiny.html").read_text()
    assert "This notebook was not graded</b>: the notebook file is not a valid notebook" in fay
    assert (course / "feedback" / "101" / "00-tiny" / "01-tiny.html").exists()  # nbgrader's release_feedback layout
    with zipfile.ZipFile(out / "feedback-zips" / "00-tiny-101.zip") as zipped:
        assert sorted(zipped.namelist()) == ["00-tiny.html", "00-tiny/01-tiny.html"]

    # One student graded again by hand: only Cara's cache changes; the class's outputs and manual scores stay.
    cached = {p.name: p.stat().st_mtime_ns for p in (out / "cache").glob("*.json")}
    assert main(["grade", "00-tiny", "--course", str(course), "--submissions", str(submissions), "--out", str(out),
                 "--student", "103", "--force", "--cell-timeout", "30", "--notebook-timeout", "120", *canvas_options]) == 0
    changed = {p.name for p in (out / "cache").glob("*.json") if p.stat().st_mtime_ns != cached[p.name]}
    assert changed == {"103.json"}
    regraded = json.loads((out / "results.json").read_text())
    assert sorted(regraded) == ["101", "102", "103", "104", "106"]
    assert regraded["104"]["refused"] == results["104"]["refused"]  # Dan was not scanned again: his refused file stays reported
    assert {row[1]: float(row[5]) for row in list(csv.reader((out / "canvas.csv").open()))[2:]} == scores


# ---- what the scan takes from a submission folder (issue 13 items 2 and 6) ----


def _assignment() -> layout.Assignment:
    return layout.Assignment("00-tiny", {"01-tiny.ipynb": "{}"}, {"data.csv": b"course's"})


def test_scan_refuses_links_and_special_files_and_skips_bad_names(tmp_path):
    submissions = tmp_path / "submitted"
    folder = submissions / "alice" / "00-tiny"
    folder.mkdir(parents=True)
    (folder / "01-tiny.ipynb").symlink_to("/etc/passwd")
    os.mkfifo(folder / "pipe")
    (folder / "timestamp.txt").write_text("2020-01-01")
    (folder / "ipython_config.py").write_text("c.InteractiveShellApp.exec_lines = ['x']")
    (folder / "data.csv").write_text("student's")
    (folder / "renamed.ipynb").write_text("{}")
    with (folder / "huge.ipynb").open("wb") as huge:  # sparse: no disk used
        huge.truncate(layout.MAX_FILE_MB * 2**20 + 1)
    odd = submissions / os.fsdecode(b"b\xffd") / "00-tiny"
    odd.mkdir(parents=True)
    (odd / "01-tiny.ipynb").write_text("{}")
    (submissions / "dave").mkdir()
    (submissions / "dave" / "01-tiny.ipynb").write_text("{}")  # no assignment folder
    garbage = submissions / "carol" / "00-tiny"
    garbage.mkdir(parents=True)
    (garbage / "01-tiny.ipynb").write_text("{}")
    lateness.record_path(submissions, "carol", "00-tiny").parent.mkdir(parents=True)
    lateness.record_path(submissions, "carol", "00-tiny").write_text("not json at all")

    found = layout.scan(submissions, _assignment(), layout.Limits())
    jobs = {job.student: job for job in found.jobs}
    assert sorted(jobs) == ["alice", "carol"]
    # The link is not followed, the FIFO not opened, the course's data.csv wins, configuration is not taken.
    assert jobs["alice"].files == {"renamed.ipynb": b""}
    assert jobs["alice"].timestamp is None  # timestamp.txt is the student's: never read
    assert any("01-tiny.ipynb is a symbolic link" in why for why in jobs["alice"].refused)
    assert any("pipe is not a regular file" in why for why in jobs["alice"].refused)
    assert any(why.startswith("huge.ipynb is larger than") for why in jobs["alice"].refused)
    assert any("not UTF-8" in problem for problem in found.problems)
    assert any("carol: unreadable submission time" in problem for problem in found.problems)
    assert any(problem.startswith("dave: notebooks directly in the student's folder") for problem in found.problems)
    assert set(found.not_graded) == {"dave"} and "expected dave/00-tiny/01-tiny.ipynb" in found.not_graded["dave"]
    assert jobs["carol"].timestamp is None and jobs["carol"].files == {"01-tiny.ipynb": b"{}"}


def test_scan_takes_declared_data_files_and_the_lms_time(tmp_path):
    submissions = tmp_path / "submitted"
    folder = submissions / "alice" / "00-tiny"
    (folder / "results").mkdir(parents=True)
    (folder / "01-tiny.ipynb").write_text("{}")
    (folder / "results" / "run.npz").write_bytes(b"weights")
    (folder / "notes.txt").write_text("not declared")
    lateness.write_record(submissions, "alice", "00-tiny", lateness.Submitted("2026-12-01T10:00:00+00:00", "test", False))
    assignment = layout.Assignment("00-tiny", {"01-tiny.ipynb": "{}"}, {layout.SUBMITTED_FILES: b"# data\nresults/*.npz\n"})

    job, = layout.scan(submissions, assignment, layout.Limits()).jobs
    assert job.files == {"01-tiny.ipynb": b"{}", "results/run.npz": b"weights"}
    assert job.timestamp == "2026-12-01T10:00:00+00:00"


def test_extensions_file_csv_and_yaml(tmp_path):
    (tmp_path / "e.csv").write_text("student,assignment,due\n7,00-tiny,2026-12-04T00:00\n8,other,2026-12-05\n")
    (tmp_path / "e.yml").write_text("- {student: 7, assignment: 00-tiny, due: '2026-12-04T00:00+01:00'}\n")
    assert [str(d) for d in lateness.read_extensions(tmp_path / "e.csv", "00-tiny").values()] == ["2026-12-04 00:00:00+00:00"]
    assert list(lateness.read_extensions(tmp_path / "e.yml", "00-tiny")) == ["7"]


def test_feedback_withholds_what_quotes_a_hidden_test():
    from autograder.grading import feedback
    from autograder.grading.results import CellResult, NotebookResult, SubmissionResult

    executed = tiny_course.source_notebook()
    for cell in executed.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "mean":  # a student's cell that prints a hidden test
            cell.outputs = [nbformat.v4.new_output("stream", text='for x in (0.0, -2.0, 7.25):\n'), nbformat.v4.new_output("stream", text="my own output\n")]
    cells = [CellResult("double-hidden", 0.0, 2.0, "failed", 'check_number(double(x), 2 * x, f"double({x})") failed')]
    result = SubmissionResult("s", "00-tiny", "k", [NotebookResult("01-tiny.ipynb", cells, executed=nbformat.writes(executed))])
    page = feedback.render(result)
    assert "7.25" not in page and "2 * x, f" not in page
    assert page.count(feedback.WITHHELD) == 2 and "my own output" in page
    assert "7.25" in feedback.render(result, reveal_hidden=True)


def test_canvas_csv_keeps_a_grader_failure_out_of_canvas(tmp_path):
    from autograder.grading import canvas, export, gradebook

    on_time = lateness.Lateness(None, None, 0.0, 0.0, False)
    graded = [gradebook.StudentGrades("101", "Alice", "Doe", [gradebook.NotebookGrades("01-tiny", {}, 5.0, 5.0, 0.0, False)], on_time)]
    (tmp_path / "export.csv").write_text(CANVAS_EXPORT)
    target = canvas.CanvasTarget(canvas.read_gradebook_export(tmp_path / "export.csv"), "Tiny lab")
    rows = list(csv.reader(export.canvas(tmp_path / "canvas.csv", "00-tiny", graded, target, ["102"]).open()))
    # Bob's grading failed: his cell stays empty (Canvas keeps what it has); Cara, Dan and Eve never submitted: 0.
    assert {row[1]: row[5] for row in rows[2:]} == {"101": "5", "102": "", "103": "0", "104": "0", "105": "0", "106": "0"}
    totals = list(csv.DictReader(export.totals(tmp_path / "grades.csv", "00-tiny", graded, ["102"]).open()))
    assert [(t["student"], t["score"]) for t in totals] == [("101", "5"), ("102", "")]


def test_submission_time_from_the_zip():
    import struct
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo

    from autograder.grading import canvas

    stamped = zipfile.ZipInfo("a_1_2_01-tiny.ipynb", date_time=(2026, 12, 1, 9, 0, 0))
    stamped.extra = struct.pack("<HHBI", canvas.EXTENDED_TIMESTAMP, 5, 1, 1796112000)  # UTC mtime: the LMS's own time
    assert canvas.entry_time(stamped) == datetime.fromtimestamp(1796112000, timezone.utc)
    plain = zipfile.ZipInfo("a_1_2_01-tiny.ipynb", date_time=(2026, 12, 1, 9, 0, 0))  # local time: read in the zone given
    assert canvas.entry_time(plain, ZoneInfo("Europe/Zurich")) == datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)
    assert canvas.entry_time(plain) == datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


def test_no_feedback_for_a_grader_failure(tmp_path):
    from autograder.grading import feedback
    from autograder.grading.results import GRADER_ERROR, CellResult, NotebookResult, SubmissionResult

    failed = SubmissionResult("s", "00-tiny", "k", [NotebookResult("01-tiny.ipynb", [CellResult("double-hidden", 0.0, 2.0, GRADER_ERROR, "no sandbox")])])
    graded = SubmissionResult("t", "00-tiny", "k", [NotebookResult("01-tiny.ipynb", [CellResult("double-hidden", 2.0, 2.0, "passed")])])
    assert feedback.write_all(tmp_path, [failed, graded]) == [tmp_path / "feedback" / "t" / "00-tiny.html"]
    assert not (tmp_path / "feedback" / "s").exists()


def test_a_notebook_that_never_ran_says_why(tmp_path):
    from autograder.grading import export, feedback, gradebook
    from autograder.grading.results import CellResult, NotebookResult, SubmissionResult

    why = "notebook not submitted; found 01-tiny (1).ipynb: was it renamed?"
    missing = NotebookResult("01-tiny.ipynb", [CellResult(g, 0.0, 2.0, "missing", why) for g in ("double-hidden", "mean-test")])
    ran = NotebookResult("01-tiny.ipynb", [CellResult("double-hidden", 0.0, 2.0, "failed", "off by 1")], ["restored deleted cell setup"],
                         executed=nbformat.writes(tiny_course.source_notebook()))
    assert (missing.refusal, missing.summary()) == (f"missing: {why}", f"missing: {why}")
    assert (ran.refusal, ran.summary()) == (None, "restored deleted cell setup")

    page = feedback.render(SubmissionResult("s", "00-tiny", "k", [missing]))
    assert page.count(why) == 1 and "This notebook was not graded</b>: notebook not submitted" in page

    on_time = lateness.Lateness(None, None, 0.0, 0.0, False)
    graded = [gradebook.StudentGrades(s, "", "", [gradebook.NotebookGrades("01-tiny", {}, 0.0, 4.0, 0.0, False)], on_time) for s in ("s", "t")]
    results = [SubmissionResult("s", "00-tiny", "k", [missing]), SubmissionResult("t", "00-tiny", "k", [ran])]
    rows = {r["student"]: r["notes"] for r in csv.DictReader(export.per_notebook(tmp_path / "notebooks.csv", graded, results).open())}
    assert rows == {"s": f"missing: {why}", "t": "restored deleted cell setup"}
    notes = export.submission_notes(results, {"t": ["pipe is not a regular file (a FIFO, socket or device): refused"]})
    assert notes == {"s": f"01-tiny.ipynb not graded (missing: {why})", "t": "pipe is not a regular file (a FIFO, socket or device): refused"}


@pytest.mark.slow
def test_a_submission_refused_whole_gets_a_row_with_an_empty_score_and_the_reason(tmp_path):
    from autograder.grading import pipeline

    course = tiny_course.make_course(tmp_path / "course")
    submissions = tmp_path / "submitted"
    (submissions / "dave").mkdir(parents=True)
    (submissions / "dave" / tiny_course.NOTEBOOK).write_text("{}")  # no assignment folder
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (submissions / "erin").mkdir()
    (submissions / "erin" / tiny_course.ASSIGNMENT).symlink_to(elsewhere, target_is_directory=True)
    (submissions / "fay" / "other-lab").mkdir(parents=True)  # nothing handed in for this assignment: no row
    run = pipeline.Run(tiny_course.ASSIGNMENT, course, submissions, tmp_path / "out", layout.Limits(unsafe=True), workers=1)

    assert pipeline.grade(run, progress=False) == []
    rows = {r["student"]: r for r in csv.DictReader((run.out / "grades.csv").open())}
    assert sorted(rows) == ["dave", "erin"]
    assert rows["dave"]["score"] == "" and rows["dave"]["notes"].startswith("not graded: notebooks directly")
    assert rows["erin"]["score"] == "" and "not a plain folder" in rows["erin"]["notes"]

    # Graded again for one student only, the other's row stays.
    run = pipeline.Run(tiny_course.ASSIGNMENT, course, submissions, tmp_path / "out", layout.Limits(unsafe=True), workers=1,
                       students=("erin",))
    pipeline.grade(run, progress=False)
    assert sorted(r["student"] for r in csv.DictReader((run.out / "grades.csv").open())) == ["dave", "erin"]
