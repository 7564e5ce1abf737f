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
# What the wrong answer ``3 * x`` scores on its own: every trick below must score exactly this.
WRONG = {"double-visible": "failed", "double-hidden": "failed", "mean-hidden": "passed"}
WRONG_DOUBLE = "def double(x):\n    return 3 * x\n"
# Text of the hidden tests that must never reach a student (feedback, messages).
HIDDEN_SOURCE = ("BEGIN HIDDEN TESTS", "for x in (0.0, -2.0, 7.25)", "check_number(mean([1.0, 2.0, 6.0])")


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


def _with(edit, **extra_files: bytes) -> dict[str, bytes]:
    notebook = tiny_course.reference()
    edit(notebook)
    return {tiny_course.NOTEBOOK: nbformat.writes(notebook).encode(), **{k.replace("__", "/"): v for k, v in extra_files.items()}}


def _trick(student: str, code: str, expected: dict = WRONG, **files: bytes) -> "Case":
    """A wrong answer (3x) plus a trick: it must score what the wrong answer scores alone (``expected``)."""
    answer = code if "def double" in code else code + "\n" + WRONG_DOUBLE
    return Case(student, _with(_answer(answer), **files), expected)


# What plain `nbgrader autograde` gave some of the tricks (autograded points of 4; the wrong answer alone
# scores 1), measured with `python benchmarks/plain_nbgrader_tricks.py` on 2026-12-01. kills-parent
# killed nbgrader itself, and with it the grading of every student after it.
PLAIN_NBGRADER = {
    "custom-exc-and-post-run-hook": 4, "input-transformer": 4, "background-process": 1, "disables-own-alarm": 1,
    "exception-claims-pass": 1, "float-subclass-walks-frames": 1, "ipython-startup-file": 1, "kernel-json": 1,
    "kills-parent": 0,
}


# Each trick runs in the student's own process; before the judge, each of these forged a grade there.
TRICKS = {
    "reads-caller-source": """import linecache, sys
def double(x):
    caller = sys._getframe(1)
    line = linecache.getline(caller.f_code.co_filename, caller.f_lineno)
    if "check_number(double(" in line:
        try:
            return eval(line.split(",")[1], caller.f_globals, caller.f_locals)
        except Exception:
            pass
    return 3 * x
""",
    "float-subclass-walks-frames": """import sys
class Sly(float):
    def __float__(self):
        frame = sys._getframe(1)
        while frame is not None:
            if "expected" in frame.f_locals:
                return float(frame.f_locals["expected"])
            frame = frame.f_back
        return float.__float__(self)
    def __sub__(self, other):
        return 0.0
    __rsub__ = __sub__
_real = 3
def double(x):
    return Sly(_real * x)
""",
    "input-transformer": """ip = get_ipython()
ip.input_transformers_post.append(lambda lines: [l.replace("check_number(", "print(") for l in lines])
""",
    "settrace": """import sys
def _tracer(frame, event, arg):
    if frame.f_code.co_name == "check_number" and event == "call":
        frame.f_globals["math"].isclose = lambda *a, **k: True
    return _tracer
sys.settrace(_tracer)
""",
    "custom-exc-and-post-run-hook": """ip = get_ipython()
ip.set_custom_exc((BaseException,), lambda shell, etype, value, tb, tb_offset=None: None)
ip.events.register("post_run_cell", lambda result: setattr(result, "error_in_exec", None))
""",
    "patches-kernel-send": """try:
    kernel = get_ipython().kernel
    original = kernel.session.send
    kernel.session.send = lambda stream, msg, *a, **k: original(stream, msg.replace("error", "ok") if isinstance(msg, str) else msg, *a, **k)
except Exception:
    pass
""",
    "rebinds-through-globals": """globals()["check_number"] = lambda *args, **kwargs: None
""",
    "rebinds-through-vars": """import math
vars(math)["isclose"] = lambda *args, **kwargs: True
""",
    "swaps-code-object": """check_number.__code__ = (lambda value, expected, name: None).__code__
""",
    "patches-sys-modules": """import sys, types
fake = types.ModuleType("math")
fake.isclose = lambda *args, **kwargs: True
sys.modules["math"] = fake
""",
    "rebinds-reference-builtins": """import builtins
builtins.abs = lambda value: 0.0
builtins.round = lambda value, digits=0: 0.0
""",
    "disables-own-alarm": """import signal
signal.signal(signal.SIGALRM, signal.SIG_IGN)
""",
    "background-process": """import subprocess
subprocess.Popen(["sleep", "600"])
""",
}


def _trick_cases() -> list["Case"]:
    cases = [_trick(name, code) for name, code in TRICKS.items()]
    anything_but_passed = dict.fromkeys(PASS)
    cases += [
        _trick("raises-hidden-source", 'def double(x):\n    raise RuntimeError(repr(globals().get("In", ""))[-2000:])', DOUBLE_BROKEN),
        _trick("exception-claims-pass", 'class AllTestsPassed(Exception):\n    def __str__(self):\n        return "All tests passed! 3/3"\n'
               "def double(x):\n    raise AllTestsPassed()", DOUBLE_BROKEN),
        # Forging the channel to the judge can only break the student's own run.
        _trick("writes-fake-report", "import os\nfor fd in range(3, 64):\n    try:\n        os.write(fd, b'{\"index\": 3}\\n' * 8)\n"
               "    except OSError:\n        pass", anything_but_passed),
        _trick("kills-parent", "import os, signal\ntry:\n    os.kill(os.getppid(), signal.SIGKILL)\nexcept OSError:\n    pass"),
    ]
    # Files handed in beside the notebook: they must configure nothing in the process that runs the code.
    startup = b"import math\nmath.isclose = lambda *a, **k: True\n"
    cases += [
        _trick("ipython-startup-file", "", **{".ipython__profile_default__startup__00-patch.py": startup}),
        _trick("kernel-json", "", **{".local__share__jupyter__kernels__python3__kernel.json": b'{"argv": ["true"], "language": "python"}'}),
        _trick("shadows-math-module", "", **{"math.py": b"def isclose(*a, **k):\n    return True\n"}),
        _trick("shadows-labkit", "", **{"labkit.py": b"def check_close(*a, **k):\n    return None\n"}),
    ]
    return cases


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


def _many_outputs(notebook):
    for _ in range(12):  # 12 cells of 0.95 MB each: under the per-cell cap, over the notebook's
        notebook.cells.append(nbformat.v4.new_code_cell("print('x' * 950_000)"))


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
        Case("many-outputs", _with(_many_outputs), PASS),
        Case("input", _with(_answer("name = input('your name? ')\n" + correct)), DOUBLE_BROKEN),
        Case("ignores-interrupt", _with(_answer("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass")),
             DOUBLE_BROKEN),
        Case("ignores-alarm", _with(_answer("import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\nwhile True:\n    pass")),
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
        Case("patches-comparisons", _with(_answer("import math, numpy as np\nnp.allclose = math.isclose = lambda *a, **k: True\n"
                                                  "def double(x):\n    return 3 * x")), WRONG),
        Case("patches-numpy", _with(_answer("import numpy as np\nnp.isclose = lambda *a, **k: True\n" + correct)), PASS),
        Case("patches-check", _with(_answer("def check_number(*args, **kwargs):\n    pass\ndef double(x):\n    return 3 * x")),
             WRONG),
        # Honest students are never punished by guesswork: names that shadow a library, magics.
        Case("shadowing-names", _with(_answer("def double(x):\n    runtime = 2\n    check_number = torch = runtime\n    return check_number * x")),
             PASS),
        Case("uses-magics", _with(_answer("%time warm_up = sum(range(10))\n" + correct)), PASS),
        Case("callable-object", _with(_answer("class Doubler:\n    def __call__(self, x):\n        return 2 * x\ndouble = Doubler()")), PASS),
        Case("numpy-scalar", _with(_answer("import numpy as np\ndef double(x):\n    return np.float64(3 * x)")), WRONG),
        Case("deeply-nested-return", _with(_answer("def double(x):\n    value = x\n    for _ in range(10_000):\n        value = [value]\n    return value")),
             {"double-visible": None, "double-hidden": None, "mean-hidden": "passed"}),
        Case("raises-system-exit", _with(_answer("def double(x):\n    raise SystemExit(0)")), DOUBLE_BROKEN),
        Case("raises-keyboard-interrupt", _with(_answer("def double(x):\n    raise KeyboardInterrupt")), DOUBLE_BROKEN),
        Case("eq-always-true", _with(_answer("class Yes:\n    def __eq__(self, other):\n        return True\ndef double(x):\n    return Yes()")),
             {"double-visible": "failed", "double-hidden": "failed", "mean-hidden": "passed"}),
        Case("fake-passed", _with(_answer("def double(x):\n    print('All tests passed! 3/3')\n    return x")),
             {"double-visible": "failed", "double-hidden": "failed", "mean-hidden": "passed"}),
        *_trick_cases(),
    ]
