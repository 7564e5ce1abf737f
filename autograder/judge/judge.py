"""Grade one notebook: the instructor's cells run here, the student's in the sandboxed agent.

    python -m autograder.judge.judge < job.json > report lines

The judge walks the instructor's source notebook. Provided cells and every graded test cell,
visible or hidden, run in this process, which never runs a line the student wrote (provided cells
after the last test, and those tagged ``demo``, are skipped: they grade nothing). At each answer
cell the agent runs the student's cells up to it, and the judge binds the names the reference
solution binds to what the student's process holds: data by value, anything else as a ``Remote``
handle whose calls run there. The verdict on each test cell is taken here.

The job (JSON on stdin): ``source`` and ``notebook`` (the instructor's notebook and the normalized
submission, as JSON text), ``agent`` (``argv`` and ``env`` of the sandboxed agent), ``cell_timeout``
and ``output_limit``. The report (JSON lines on stdout), as the grader's score step reads it: one
``{"index", "status", "outputs"}`` per cell of the normalized notebook that ran, then
``{"done": true, "seconds": S}``.
"""

import json
import os
import subprocess
import sys
import threading
import time
import types

# jsonschema imports rfc3987_syntax, when installed, to check URI formats that notebooks never use;
# building its grammar costs about 5 s per process.
sys.modules.setdefault("rfc3987_syntax", None)

from autograder.grading import cgroups  # noqa: E402
from autograder.judge import bindings, wire  # noqa: E402
from autograder.judge.remote import AgentGone, CallTimedOut, Channel, Session  # noqa: E402

STDERR_TAIL_BYTES = 4000
DEMO_TAG = "demo"


class Judge:
    """Runs the instructor's side of one notebook against one student's agent.

    Args:
        source: the instructor's notebook (solutions and hidden tests).
        notebook: the normalized submission; its graded cells are the source's, its answers the student's.
        channel: the channel to the started agent.
        cell_timeout: seconds per cell, for the student's code and the judge's together.
        report: called with each report line (a dict).
    """

    def __init__(self, source, notebook, channel: Channel, cell_timeout: float, report):
        self.source = source
        self.notebook = notebook
        self.channel = channel
        self.cell_timeout = cell_timeout
        self.report = report
        self.index = {_grade_id(c): i for i, c in enumerate(notebook.cells) if _grade_id(c)}
        self.deadline = 0.0
        self.module = types.ModuleType("__main__")
        sys.modules["__main__"] = self.module
        self.session = Session(channel, self.module.__dict__, lambda: max(self.deadline - time.monotonic(), 0.5))
        self.shell = _shell(self.module)
        self.busy = 0.0
        self.timings: list[tuple[int, str, float, int]] = []  # source cell, kind, seconds, requests to the agent

    def run(self) -> None:
        last_test = max((i for i, c in enumerate(self.source.cells) if _is_test(c)), default=-1)
        for position, cell in enumerate(self.source.cells):
            # Nothing after the last test can change a grade, and a demo cell is marked as grading nothing.
            if cell.cell_type != "code" or position > last_test or _is_demo(cell):
                continue
            started, requests = time.perf_counter(), self.channel.requests
            self.deadline = time.monotonic() + self.cell_timeout
            if _is_solution(cell):
                kind = "answer"
                self._answer(cell)
            elif _is_test(cell):
                kind = "test"
                self._test(cell)
            else:
                kind = "provided"
                self._provided(cell)
            seconds = time.perf_counter() - started
            self.busy += seconds
            self.timings.append((position, kind, round(seconds, 3), self.channel.requests - requests))

    def _provided(self, cell) -> None:
        before = dict(self.module.__dict__)
        self._execute(cell.source)
        for name, value in self.module.__dict__.items():
            if before.get(name) is not value and isinstance(value, (type, types.FunctionType)) and value.__module__ == "__main__":
                self.session.shared[id(value)] = name

    def _answer(self, cell) -> None:
        gid = _grade_id(cell)
        wanted = bindings.answer_bindings(cell.source)
        for name in wanted.names:
            self.module.__dict__.pop(name, None)
        if self.channel.gone:
            return
        agent_cells = [i for i, c in enumerate(self.notebook.cells) if _runs_in_agent(c) and i <= self.index[gid]]
        try:
            reply, buffers = self.channel.request(
                {"op": "run", "upto": self.index[gid], "names": wanted.names, "attrs": wanted.attrs},
                budget=self.cell_timeout, wait=self.cell_timeout * max(len(agent_cells), 1),
            )
        except AgentGone:
            return
        for cell_report in reply.get("cells") or []:
            self._report_agent_cell(cell_report)
        decoder = self.session.decoder(buffers)
        try:
            self._bind(decoder.decode(reply.get("values")), decoder.decode(reply.get("attrs")))
        except wire.ProtocolError:
            self.channel.close()

    def _bind(self, values, attrs) -> None:
        namespace = self.module.__dict__
        for name, value in (values or {}).items():
            if isinstance(name, str):
                namespace[name] = value
        for key, value in (attrs or {}).items():
            owner, _, attr = str(key).partition(".")
            cls = namespace.get(owner)
            if isinstance(cls, type) and self.session.shared.get(id(cls)) == owner:
                setattr(cls, attr, value)

    def _test(self, cell) -> None:
        index = self.index[_grade_id(cell)]
        gone = self.channel.gone
        if gone:
            self.report({"index": index, "status": gone.status, "outputs": [_error("NotRun", f"not run: {gone}")]})
            return
        self.session.printed.clear()
        result, stdout = self._execute(cell.source)
        outputs = []
        printed = "".join(self.session.printed)
        if stdout or printed:
            outputs.append(_stream(stdout + _label(printed)))
        error = result.error_before_exec or result.error_in_exec
        status = "ran"
        if isinstance(error, AgentGone):
            status = error.status
            outputs.append(_error("DeadKernelError" if status == "killed" else "CellTimeoutError", str(error)))
        elif isinstance(error, CallTimedOut):
            status = "timeout"
            outputs.append(_error("CellTimeoutError", f"your code ran longer than the cell's limit ({error})"))
        elif error is not None:
            outputs.append(_error(type(error).__name__, str(error), getattr(error, "student_traceback", "")))
        elif isinstance(result.result, (int, float)) and not isinstance(result.result, bool):
            outputs.append({"output_type": "execute_result", "data": {"text/plain": repr(result.result)}, "metadata": {}, "execution_count": None})
        self.report({"index": index, "status": status, "outputs": outputs})

    def _execute(self, source: str):
        from IPython.utils.capture import capture_output

        with capture_output(display=False) as captured:
            result = self.shell.run_cell(source, store_history=False)
        return result, captured.stdout

    def _report_agent_cell(self, cell_report: dict) -> None:
        index = cell_report.get("index")
        if type(index) is not int or not 0 <= index < len(self.notebook.cells):
            raise wire.ProtocolError("report for an unknown cell")
        outputs = []
        text = str(cell_report.get("stdout") or "") + str(cell_report.get("stderr") or "")
        if text:
            outputs.append(_stream(text))
        for shown in cell_report.get("displays") or []:
            if isinstance(shown, dict):
                data = {k: str(v) for k, v in shown.items() if k in ("text/plain", "image/png")}
                if data:
                    outputs.append({"output_type": "display_data", "data": data, "metadata": {}})
        error = cell_report.get("error")
        if isinstance(error, dict):
            outputs.append(_error(str(error.get("type"))[:100], str(error.get("message"))[:2000], str(error.get("traceback"))[-4000:]))
        self.report({"index": index, "status": "ran", "outputs": outputs})


def _shell(module: types.ModuleType):
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False
    shell = InteractiveShell.instance(user_module=module, config=config)
    # A traceback would print the hidden test's source lines into the feedback: report only the exception.
    shell.showtraceback = lambda *args, **kwargs: None
    shell.showsyntaxerror = lambda *args, **kwargs: None
    return shell


def _grade_id(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _is_demo(cell) -> bool:
    """A provided cell tagged ``demo`` (a figure, a benchmark): the judge skips it; see labs/AUTHORING.md."""
    return DEMO_TAG in cell.metadata.get("tags", []) and not cell.metadata.get("nbgrader", {}).get("grade_id")


def _is_solution(cell) -> bool:
    return bool(cell.metadata.get("nbgrader", {}).get("solution"))


def _is_test(cell) -> bool:
    """A graded cell that is not an answer: a test (nbgrader's autograder tests; importing nbgrader costs 2 s)."""
    return bool(cell.metadata.get("nbgrader", {}).get("grade")) and not _is_solution(cell)


def _runs_in_agent(cell) -> bool:
    """The student's process runs every code cell of the submission except the graded test cells."""
    return cell.cell_type == "code" and bool(cell.source.strip()) and not _is_test(cell)


def _label(printed: str) -> str:
    return f"\n[printed by your code]\n{printed}" if printed else ""


def _stream(text: str) -> dict:
    return {"output_type": "stream", "name": "stdout", "text": text}


def _error(ename: str, evalue: str, student_traceback: str = "") -> dict:
    lines = [f"{ename}: {evalue}"]
    if student_traceback:
        lines += ["", "In your code:", student_traceback]
    return {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": lines}


class _Node(dict):
    """A notebook's JSON object with attribute access (``cell.source``), as nbformat's nodes give it."""

    def __getattr__(self, name: str):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def _read_notebook(text: str) -> _Node:
    """A notebook from its JSON text, each cell's source joined into one string.

    Plain JSON, not nbformat: the grader validated and normalized the notebook already, and importing
    and validating with nbformat would cost this process about 0.4 s.
    """
    notebook = json.loads(text, object_hook=_Node)
    for cell in notebook.cells:
        cell["source"] = "".join(cell.source) if isinstance(cell.source, list) else cell.source
        cell.setdefault("metadata", _Node())
    return notebook


class SandboxFailed(Exception):
    """The sandbox did not start: the grader's failure, not the student's (no student code has run yet)."""


def spawn_agent(job: dict, group: cgroups.Group | None) -> tuple[subprocess.Popen, list]:
    """Start the sandboxed agent in ``group``; return its process and its stderr tail (filled as it comes).

    The judge starts it first, so that the agent's start-up overlaps the judge's own.
    """
    join = (lambda: group.add(os.getpid())) if group is not None else None
    process = subprocess.Popen(job["agent"]["argv"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env=job["agent"]["env"], cwd=job["agent"]["cwd"], preexec_fn=join)
    tail: list[bytes] = []
    threading.Thread(target=_keep_tail, args=(process.stderr, tail), daemon=True).start()
    return process, tail


def greet_agent(channel: Channel, tail: list, job: dict, notebook) -> None:
    """Hand the started agent the student's cells.

    The agent greets before it runs any student code, so no greeting means the sandbox failed.
    """
    cells = [[i, c.source] for i, c in enumerate(notebook.cells) if _runs_in_agent(c)]
    try:
        channel.request({"cells": cells, "output_limit": int(job["output_limit"])}, budget=60)
    except AgentGone as gone:
        time.sleep(0.2)  # let the stderr reader catch the sandbox's last words
        raise SandboxFailed(f"the sandbox did not start ({gone}): {b''.join(tail).decode(errors='replace')[-1000:]}") from None


def _keep_tail(stream, tail: list) -> None:
    for chunk in iter(lambda: stream.read(4096), b""):
        tail.append(chunk)
        while sum(map(len, tail)) > STDERR_TAIL_BYTES and len(tail) > 1:
            tail.pop(0)


def main() -> int:
    job = json.loads(sys.stdin.read())
    report_stream = os.fdopen(os.dup(1), "w", buffering=1)
    os.set_inheritable(report_stream.fileno(), False)
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)

    budget = [int(job.get("notebook_output_limit", 4_000_000))]

    def report(line: dict) -> None:
        text = json.dumps(line)
        if "outputs" in line:
            budget[0] -= len(text)
            if budget[0] < 0:  # past the notebook's output budget: the status stays, the outputs go
                dropped = _stream("[output dropped: the notebook's output limit was reached]\n")
                kept = [o for o in line["outputs"] if o.get("output_type") == "error"][:1]
                text = json.dumps({**line, "outputs": [*kept, dropped]})
        report_stream.write(text + "\n")

    limits = job["cgroup"]
    group = cgroups.create(limits["memory_bytes"], limits["pids"], limits["cpus"]) if limits["enabled"] else None
    process, tail = spawn_agent(job, group)
    channel = Channel(process)
    source, notebook = _read_notebook(job["source"]), _read_notebook(job["notebook"])
    judge = Judge(source, notebook, channel, float(job["cell_timeout"]), report)  # its shell starts while the agent's does
    try:
        greet_agent(channel, tail, job, notebook)
        judge.run()
    except SandboxFailed as failure:
        report({"grader_error": str(failure)})
        return 1
    finally:
        if not channel.gone:
            try:
                wire.write_message(channel.process.stdin, {"op": "bye"})
            except OSError:
                pass
        channel.close()
        if group is not None:
            group.remove()
    report({"done": True, "seconds": round(judge.busy, 3), "timings": judge.timings,
            "agent_stderr": b"".join(tail).decode(errors="replace")[-2000:]})
    return 0


if __name__ == "__main__":
    code = main()
    sys.stderr.flush()
    os._exit(code)  # the report is written: skip the interpreter's teardown (torch and the rest), a few tenths of a second
