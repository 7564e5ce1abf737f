"""What every program that runs student code in the sandbox does: set up its folders, reap strays.

Standalone (standard library only): the agent loads it by path inside the
sandbox, where the course repository is not visible.
"""

import os
import shutil
import signal

FOLDER_VARIABLES = ("HOME", "IPYTHONDIR", "MPLCONFIGDIR", "JUPYTER_RUNTIME_DIR", "JUPYTER_CONFIG_DIR")


def prepare(inbox: str, fonts: str | None = None) -> None:
    """Fill the empty work folder from the read-only inbox; make the home, IPython and matplotlib folders.

    Args:
        inbox: the files the work folder starts with.
        fonts: matplotlib's font list to start from (building it anew costs about 0.5 s), or None.
    """
    copy_files(inbox, os.getcwd())
    for variable in FOLDER_VARIABLES:
        if os.environ.get(variable):
            os.makedirs(os.environ[variable], exist_ok=True)
    if fonts and os.environ.get("MPLCONFIGDIR") and os.path.isdir(fonts):
        copy_files(fonts, os.environ["MPLCONFIGDIR"])


def copy_files(source: str, target: str) -> None:
    """Copy the files below ``source`` into ``target`` (contents only: the target's own mode stays)."""
    for folder, _, names in os.walk(source):
        destination = os.path.join(target, os.path.relpath(folder, source))
        os.makedirs(destination, exist_ok=True)
        for name in names:
            shutil.copyfile(os.path.join(folder, name), os.path.join(destination, name))


PR_SET_CHILD_SUBREAPER = 36


def adopt_orphans() -> None:
    """Make this process the parent of every orphan below it (Linux; elsewhere a no-op).

    Without it, a fork whose parent has exited is handed to the PID namespace's init, out of
    ``reap_strays``' reach: a fork bomb's orphans would outlive the cell and exhaust the memory.
    """
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def reap_strays(root_pid: int) -> int:
    """Kill every descendant of ``root_pid`` (forks, background jobs the student left); return how many.

    A forked copy shares its parent's channels and could answer for it, so nothing may outlive the
    cell or call that started it. Repeats until none is left, since a copy may fork while we look,
    and collects the dead, since a zombie still holds one of the sandbox's process slots.
    """
    killed = set()
    while True:
        _collect_dead()
        strays = _descendants(root_pid)
        if not strays:
            return len(killed)
        for pid in strays:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        killed |= strays


def _descendants(root_pid: int) -> set[int]:
    """The live processes below ``root_pid``, from /proc."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue  # the process ended while we looked
            if fields[0] != "Z":
                parents[int(entry)] = int(fields[1])
    found, frontier = set(), {root_pid}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier and pid not in found}
        found |= frontier
    return found


def _collect_dead() -> None:
    """Wait for every child of ours that has ended (a no-op for a process that is not their parent)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
