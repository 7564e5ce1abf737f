"""Run a command in a bubblewrap sandbox, with limits and a wall-clock budget.

Inside, the sandbox sees the system read-only, with the instructor's home, the course repository,
the course folder (source/, solutions/, the gradebook, other students' submissions) and the output
folder each hidden under an empty tmpfs; only the Python installation and labkit are bound back,
read-only. The work folder is the one writable place, /tmp is private, and there is no network
(a fresh network namespace has only loopback). The process runs in its own session and PID
namespace and dies with its parent; on a timeout the whole process group is killed.

Limits come from prlimit: RLIMIT_AS (memory), RLIMIT_NPROC (fork bombs) and RLIMIT_CPU. The kernel
exempts root from RLIMIT_NPROC, so when the grader runs as root the sandboxed code runs as a
throwaway uid (setpriv), which also means it owns nothing but its work folder.
"""

import hashlib
import itertools
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from autograder import config
from autograder.grading.layout import Limits

STDERR_TAIL_BYTES = 20_000


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or does not work here, and --unsafe was not given."""


@dataclass
class Outcome:
    """How a sandboxed run ended: its stdout lines, the tail of stderr, and whether the budget ran out."""

    lines: list[str]
    stderr: str
    returncode: int | None
    timed_out: bool
    seconds: float


def check_available() -> None:
    """Raise SandboxUnavailable, with what to do, when bubblewrap cannot run here."""
    if shutil.which("bwrap") is None:
        raise SandboxUnavailable(
            "bubblewrap (bwrap) is not installed: install it (Debian/Ubuntu: apt-get install bubblewrap) "
            "or pass --unsafe to run student code without a sandbox"
        )
    probe = subprocess.run(["bwrap", *_namespaces(), "--ro-bind", "/", "/", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        raise SandboxUnavailable(f"bubblewrap cannot create a sandbox here ({probe.stderr.strip()}); pass --unsafe to grade without one")


def command(argv: list[str], work: Path, limits: Limits, hidden: list[Path], readable: list[Path] = ()) -> list[str]:
    """The full command line that runs ``argv`` in ``work``.

    Args:
        argv: the program and its arguments, e.g. ``[python, -I, agent.py, ...]``.
        work: the work folder: the kernel's cwd and the only writable place.
        limits: memory, process and time limits.
        hidden: folders the code must not see (the course, the submissions, the output).
        readable: files or folders inside hidden ones to show again, read-only (the agent script).
    """
    cpu_seconds = int(limits.notebook_timeout) + 1
    limited = ["prlimit", f"--as={limits.memory_mb * 2**20}", f"--nproc={limits.max_processes}", f"--cpu={cpu_seconds}",
               f"--fsize={config.SANDBOX_FILE_MB * 2**20}", "--"]
    if limits.unsafe:
        return [*limited, *argv]
    return ["bwrap", *_namespaces(), *_mounts(work, hidden, readable), "--chdir", str(work), "--", *_drop_root(), *limited, *argv]


def cgroup_limits(limits: Limits) -> dict:
    """What the sandbox's control group allows all its processes together (see grading/cgroups.py)."""
    return {"memory_bytes": limits.memory_mb * 2**20, "pids": limits.max_processes, "cpus": config.SANDBOX_CPUS,
            "enabled": not limits.unsafe}


def environment(work: Path, extra: dict[str, str]) -> dict[str, str]:
    """The whole environment of the sandboxed program: nothing of the instructor's but PATH and the locale.

    The home, IPython and matplotlib folders are fresh folders of the private /tmp, never the work
    folder, so no file a student hands in can configure the process that runs their code.

    Args:
        work: the work folder (the program's working directory).
        extra: more variables, e.g. ``NBGRADER_EXECUTION``.
    """
    return {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "HOME": "/tmp/home",
        "TMPDIR": "/tmp",
        "JUPYTER_RUNTIME_DIR": "/tmp/jupyter",
        "JUPYTER_CONFIG_DIR": "/tmp/jupyter-config",
        "IPYTHONDIR": "/tmp/ipython",
        "MPLCONFIGDIR": "/tmp/matplotlib",
        "MPLBACKEND": "Agg",
        "PWD": str(work),
        **extra,
    }


_SANDBOXES = itertools.count()


def sandbox_uid() -> int | None:
    """A fresh uid for each sandbox (so each has its own NPROC budget, whatever thread starts it), or None if not root."""
    if os.geteuid() != 0:
        return None
    key = f"{os.getpid()}-{threading.get_ident()}-{next(_SANDBOXES)}-{time.monotonic_ns()}"
    return config.SANDBOX_UID_BASE + int(hashlib.sha256(key.encode()).hexdigest(), 16) % config.SANDBOX_UID_SPAN


def run(cmd: list[str], stdin: str, timeout: float, env: dict[str, str], cwd: Path | None = None) -> Outcome:
    """Run ``cmd`` with ``stdin`` and ``env``, collect its stdout lines; kill its process group after ``timeout`` seconds."""
    started = time.perf_counter()
    process = subprocess.Popen(
        cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True, env=env, cwd=cwd
    )
    lines: list[str] = []
    tail = bytearray()
    readers = [
        threading.Thread(target=lambda: lines.extend(line.decode(errors="replace") for line in process.stdout)),
        threading.Thread(target=_keep_tail, args=(process.stderr, tail)),
    ]
    for reader in readers:
        reader.start()
    try:
        process.stdin.write(stdin.encode())
        process.stdin.close()
    except BrokenPipeError:
        pass  # the program died before reading its input; its exit status tells the rest
    timed_out = False
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
    _kill_group(process)
    for reader in readers:
        reader.join()
    return Outcome(lines, tail.decode(errors="replace"), process.returncode, timed_out, time.perf_counter() - started)


def _kill_group(process: subprocess.Popen) -> None:
    """Kill everything left in the run's process group (with bwrap, its PID namespace dies too)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def _keep_tail(stream, tail: bytearray) -> None:
    for chunk in iter(lambda: stream.read(65536), b""):
        tail.extend(chunk)
        del tail[:-STDERR_TAIL_BYTES]


def _namespaces() -> list[str]:
    # As root, no user namespace: setpriv then drops to a throwaway uid, which RLIMIT_NPROC binds.
    user = [] if os.geteuid() == 0 else ["--unshare-user"]
    return [*user, "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
            "--die-with-parent", "--new-session"]


def _mounts(work: Path, hidden: list[Path], readable: list[Path]) -> list[str]:
    visible = [Path(sys.prefix), Path(sys.base_prefix), Path(_labkit_root()), *readable]
    # A private, world-writable /tmp of bounded size: libraries (MLX's compiler, tempfile) need one, and a
    # student filling it fills only their own.
    tmp = ["--perms", "1777", "--size", str(config.SANDBOX_TMP_MB * 2**20), "--tmpfs", "/tmp"]
    args = ["--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", *tmp]
    for folder in sorted({p.resolve() for p in [Path.home(), config.REPO, *hidden] if p.exists()}):
        args += ["--tmpfs", str(folder)]  # a folder that does not exist yet has nothing to hide
    made: set[Path] = set()
    for path in sorted({p.resolve() for p in visible}):
        args += _parents(path, made) + ["--ro-bind", str(path), str(path)]
    # The work folder is a tmpfs of bounded size: one student cannot fill the grader's disk.
    work_tmpfs = ["--perms", "1777", "--size", str(config.SANDBOX_WORK_MB * 2**20), "--tmpfs", str(work.resolve())]
    return args + _parents(work.resolve(), made) + work_tmpfs


def _parents(folder: Path, made: set[Path]) -> list[str]:
    """``--dir`` for each missing parent, world-readable: bwrap would make them 0700, shutting out the sandbox uid."""
    args = []
    for parent in reversed(folder.parents):
        if parent not in made and parent != Path("/"):
            args += ["--perms", "0755", "--dir", str(parent)]
            made.add(parent)
    return args


def _drop_root() -> list[str]:
    uid = sandbox_uid()
    if uid is None:
        return []
    return ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all", "--no-new-privs", "--"]


def _labkit_root() -> str:
    import labkit  # the course's helper package: the notebooks import it, so the sandbox must see it

    return str(Path(labkit.__file__).resolve().parent.parent)
