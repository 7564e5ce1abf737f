"""The in-kernel path: execute one notebook, tests included, in one kernel inside the sandbox.

    python runner.py CELL_TIMEOUT OUTPUT_LIMIT RECOVERY_S INBOX < notebook.ipynb

Only for the notebooks the judge cannot yet grade (config.IN_KERNEL_NOTEBOOKS): here the tests run
in the student's kernel, so a determined student can forge their result (README, threat model).

Standalone on purpose (it imports only nbformat and nbclient): the sandbox sees the virtualenv, not
the course repository. The notebook arrives on stdin, so no file in the sandbox holds the hidden
tests, and results leave on a private copy of stdout that the kernel cannot reach: the runner
points its own fd 1 at /dev/null, the kernel does not inherit the copy, and the runner makes itself
non-dumpable so code running as the same user cannot read its memory or file descriptors.

Each line is ``{"index": i, "status": "ran" | "timeout" | "killed", "outputs": [...]}``; the last is
``{"done": true, "seconds": S}``, with S the time spent executing cells (the rest of the run is start-up
and shut-down: the grader's overhead). stdin is disabled in the kernel (nbclient's allow_stdin=False): input() fails
at once instead of hanging.
"""

import ctypes
import json
import os
import sys
import time

# jsonschema imports rfc3987_syntax, when installed, to check URI formats that notebooks never use;
# building its grammar costs about 5 s per process, more than the rest of the start-up together.
sys.modules.setdefault("rfc3987_syntax", None)

# The sandbox shows this script and the judge's folder; the rest of the repository is hidden.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "judge"))

import nbformat  # noqa: E402
from nbclient import NotebookClient  # noqa: E402
from nbclient.exceptions import DeadKernelError  # noqa: E402
from sandboxed import prepare, reap_strays  # noqa: E402

PR_SET_DUMPABLE = 4


class CappedClient(NotebookClient):
    """An nbclient that keeps at most ``output_limit`` bytes of output per cell."""

    output_limit = 1_000_000

    def output(self, outs, msg, display_id, cell_index):
        sizes = self.__dict__.setdefault("_sizes", {})
        size = sizes.get(cell_index, 0)
        if size > self.output_limit:
            return None
        sizes[cell_index] = size + len(json.dumps(msg["content"]))
        if sizes[cell_index] > self.output_limit:
            note = nbformat.v4.new_output("stream", name="stdout", text=f"\n[output truncated by the grader after {self.output_limit} bytes]\n")
            outs.append(note)
            return note
        return super().output(outs, msg, display_id, cell_index)


def error_output(ename: str, evalue: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


def timed_out(reply: dict | None) -> bool:
    return bool(reply) and reply.get("ename") == "CellTimeoutError"


def recovered(client: NotebookClient, replies: dict, seconds: float) -> bool:
    """True if the kernel, interrupted after a timeout, answers again within ``seconds``."""
    probe = nbformat.v4.new_code_cell("pass")
    timeout, client.timeout = client.timeout, seconds
    try:
        client.execute_cell(probe, -1)
        return not timed_out(replies.get(-1))
    except DeadKernelError:
        return False
    finally:
        client.timeout = timeout


def main(cell_timeout: float, output_limit: int, recovery_s: float, inbox: str) -> int:
    prepare(inbox)
    notebook = nbformat.reads(sys.stdin.read(), as_version=4)
    report = os.fdopen(os.dup(1), "w", buffering=1)
    os.set_inheritable(report.fileno(), False)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)

    def send(**line):
        report.write(json.dumps(line) + "\n")

    CappedClient.output_limit = output_limit
    # On a timeout nbclient interrupts the kernel and hands back this reply; its own output polling
    # stays consistent, which interrupting by hand does not (a stale poller would swallow outputs).
    timeout_reply = {"ename": "CellTimeoutError", "evalue": f"the cell ran longer than {cell_timeout:g} s", "traceback": []}
    client = CappedClient(notebook, timeout=cell_timeout, allow_errors=True, record_timing=False, shutdown_kernel="immediate",
                          interrupt_on_timeout=True, error_on_timeout=timeout_reply,
                          kernel_name=os.environ.get("GRADER_KERNEL", "python3"),
                          resources={"metadata": {"path": os.getcwd()}})
    replies = {}
    busy = 0.0
    client.on_cell_executed = lambda cell, cell_index, execute_reply: replies.__setitem__(cell_index, execute_reply["content"])
    with client.setup_kernel():
        kernel_pid = client.km.provisioner.process.pid
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            started = time.perf_counter()
            try:
                client.execute_cell(cell, index)
            except DeadKernelError:
                cell.outputs.append(error_output("DeadKernelError", "the kernel died while running this cell"))
                send(index=index, status="killed", outputs=cell.outputs)
                break
            finally:
                busy += time.perf_counter() - started
            if reap_strays(kernel_pid):
                cell.outputs.append(nbformat.v4.new_output("stream", name="stdout", text="\n[the grader stopped processes this cell left running]\n"))
            reply = replies.get(index) or {}
            if timed_out(reply):
                cell.outputs.append(error_output("CellTimeoutError", reply["evalue"]))
                send(index=index, status="timeout", outputs=cell.outputs)
                if not recovered(client, replies, recovery_s):
                    break
                continue
            if reply.get("status") != "ok" and not any(o.output_type == "error" for o in cell.outputs):
                # The kernel said error (or never said ok) but sent no traceback: never let that pass (#427).
                cell.outputs.append(error_output("KernelError", f"the kernel replied {reply.get('status')!r} without a traceback"))
            send(index=index, status="ran", outputs=cell.outputs)
    send(done=True, seconds=round(busy, 3))
    return 0


if __name__ == "__main__":
    sys.exit(main(float(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]))
