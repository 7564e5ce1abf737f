"""The corpus of bad submissions: the reference submission of the tiny course plus one small edit each.

Generated, not stored, so it stays in sync with the notebook. Each case names the statuses its
autograded cells must get; ``None`` leaves a cell free (a fork bomb's collateral damage varies) but
it still may not pass.
"""

from dataclasses import dataclass, field
from pathlib import Path

import nbformat

import tiny_course

PASS = {"double-visible": "passed", "double-hidden": "passed", "mean-hidden": "passed"}
DOUBLE_BROKEN = {"double-visible": "error", "double-hidden": "error", "mean-hidden": "passed"}


@dataclass
class Case:
    """One bad submission.

    Args:
        student: the student id it is submitted as.
        files: file name -> bytes, as handed in.
        expected: grade_id -> the status it must get (None: anything but passed).
        note: a repair the grader must report, if any.
    """

    student: str
    files: dict[str, bytes]
    expected: dict[str, str | None]
    note: str = ""
    after: list = field(default_factory=list)


def _with(edit) -> dict[str, bytes]:
    notebook = tiny_course.reference()
    edit(notebook)
    return {tiny_course.NOTEBOOK: nbformat.writes(notebook).encode()}


def _answer(code: str, cell_id: str = "double"):
    def edit(notebook):
        for cell in notebook.cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") == cell_id:
                cell.source = code
    return edit


def _index(notebook, grade_id: str) -> int:
    return next(i for i, c in enumerate(notebook.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def _delete(*ids):
    def edit(notebook):
        notebook.cells = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") not in ids]
    return edit


def _duplicate(notebook):
    copy = nbformat.from_dict(notebook.cells[_index(notebook, "double-visible")])
    copy.source = "print('my own check')"
    copy.id = "copied"
    notebook.cells.insert(_index(notebook, "mean"), copy)
    answer = nbformat.from_dict(notebook.cells[_index(notebook, "double")])
    answer.source = "def double(x):\n    return 3 * x"  # a copy of the answer cell: ignored as an answer
    answer.id = "copied-answer"
    notebook.cells.append(answer)


def _reorder(notebook):
    hidden = notebook.cells.pop(_index(notebook, "double-hidden"))
    notebook.cells.insert(1, hidden)


def _retype(notebook):
    answer = notebook.cells[_index(notebook, "double")]
    notebook.cells[_index(notebook, "double")] = nbformat.v4.new_markdown_cell(answer.source, metadata=answer.metadata)
    test = notebook.cells[_index(notebook, "mean-hidden")]
    notebook.cells[_index(notebook, "mean-hidden")] = nbformat.v4.new_raw_cell(test.source, metadata=test.metadata)


def cases(course: Path, submissions: Path) -> list[Case]:
    """Every case; ``course`` and ``submissions`` are where the secrets and the other students are."""
    source = course / "source" / tiny_course.ASSIGNMENT / tiny_course.NOTEBOOK
    victim = submissions / "reference" / tiny_course.ASSIGNMENT / tiny_course.NOTEBOOK
    gradebook = course / "gradebook.db"
    correct = "def double(x):\n    return 2 * x\n"
    zero = dict.fromkeys(PASS, "error")
    return [
        Case("reference", _with(lambda nb: None), PASS),
        Case("untouched", {tiny_course.NOTEBOOK: nbformat.writes(tiny_course.untouched()).encode()}, zero),
        # Runaway code: limits stop it, the rest of the notebook still runs.
        Case("infinite-loop", _with(_answer("while True:\n    pass")), DOUBLE_BROKEN),
        Case("memory-bomb", _with(_answer("hog = bytearray(3 * 2**30)\n" + correct)), DOUBLE_BROKEN),
        Case("fork-bomb", _with(_answer("import os\nwhile True:\n    os.fork()\n" + correct)),
             {"double-visible": None, "double-hidden": None, "mean-hidden": "passed"}),
        Case("uses-tmp", _with(_answer("import tempfile\nwith tempfile.TemporaryFile() as f:\n    f.write(b'x' * 1000)\n" + correct)), PASS),
        Case("fills-tmp", _with(_answer("with open('/tmp/fill', 'wb') as f:\n    for _ in range(4096):\n        f.write(bytes(2**20))\n" + correct)),
             DOUBLE_BROKEN),
        Case("huge-output", _with(_answer("print('x' * 20_000_000)\n" + correct)), PASS),
        Case("input", _with(_answer("name = input('your name? ')\n" + correct)), DOUBLE_BROKEN),
        Case("ignores-interrupt", _with(_answer("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass")),
             {"double-visible": "timeout", "double-hidden": "timeout", "mean-hidden": "timeout"}),
        # Crashes.
        Case("sys-exit", _with(_answer("import sys\nsys.exit(1)\n" + correct)), DOUBLE_BROKEN),
        Case("os-exit", _with(_answer("import os\nos._exit(0)\n" + correct)), dict.fromkeys(PASS, "killed")),
        Case("segfault", _with(_answer("import ctypes\nctypes.string_at(0)\n" + correct)), dict.fromkeys(PASS, "killed")),
        Case("dead-kernel", _with(_answer("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n" + correct)),
             dict.fromkeys(PASS, "killed")),
        Case("syntax-error", _with(_answer("def double(x)\n    return 2 * x")), DOUBLE_BROKEN),
        # Tampering with the notebook.
        Case("deleted-tests", _with(_delete("double-hidden", "mean-hidden")), PASS, "restored deleted cell double-hidden"),
        Case("duplicated-cells", _with(_duplicate), PASS, "duplicated cell id"),
        Case("reordered-cells", _with(_reorder), PASS, "reordered"),
        Case("retyped-cells", _with(_retype), PASS, "was changed to markdown"),
        Case("corrupt-json", {tiny_course.NOTEBOOK: b'{"cells": [ this is not json'}, dict.fromkeys(PASS, "tampered")),
        Case("missing-notebook", {"notes.txt": b"I forgot"}, dict.fromkeys(PASS, "missing")),
        Case("misnamed-notebook", {"01-tiny (1).ipynb": _with(lambda nb: None)[tiny_course.NOTEBOOK]}, dict.fromkeys(PASS, "missing")),
        # Cheating.
        Case("reads-source", _with(_answer(f"def double(x):\n    open({str(source)!r}).read()\n    return 2 * x")), DOUBLE_BROKEN),
        Case("network", _with(_answer("import socket\nsocket.create_connection(('1.1.1.1', 80), timeout=3)\n" + correct)), DOUBLE_BROKEN),
        Case("writes-other-student", _with(_answer(f"open({str(victim)!r}, 'w').write('{{}}')\n" + correct)), DOUBLE_BROKEN),
        Case("writes-gradebook", _with(_answer(f"open({str(gradebook)!r}, 'w').write('')\n" + correct)), DOUBLE_BROKEN),
        Case("patches-torch", _with(_answer("import torch\ntorch.allclose = lambda *a, **k: True\ndef double(x):\n    return 3 * x")),
             dict.fromkeys(PASS, "tampered")),
        Case("patches-numpy", _with(_answer("import numpy as np\nnp.isclose = lambda *a, **k: True\n" + correct)),
             dict.fromkeys(PASS, "tampered")),
        Case("patches-check", _with(_answer("def check_number(*args, **kwargs):\n    pass\ndef double(x):\n    return 3 * x")),
             dict.fromkeys(PASS, "tampered")),
        Case("eq-always-true", _with(_answer("class Yes:\n    def __eq__(self, other):\n        return True\ndef double(x):\n    return Yes()")),
             {"double-visible": "failed", "double-hidden": "failed", "mean-hidden": "passed"}),
        Case("fake-passed", _with(_answer("def double(x):\n    print('All tests passed! 3/3')\n    return x")),
             {"double-visible": "failed", "double-hidden": "failed", "mean-hidden": "passed"}),
    ]
