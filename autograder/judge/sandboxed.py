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


def reap_strays(root_pid: int) -> int:
    """Kill every descendant of ``root_pid`` (forks, background jobs the student left); return how many.

    A forked copy shares its parent's channels and could answer for it, so nothing may outlive the
    cell or call that started it.
    """
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parents[int(entry)] = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # the process ended while we looked
    strays, frontier = set(), {root_pid}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier and pid not in strays}
        strays |= frontier
    for pid in strays:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return len(strays)
