"""Limits for a whole sandbox, not per process: one control group per notebook run.

RLIMIT_AS and RLIMIT_CPU bind each process separately, so eight children of 300 MB each pass a
1 GB limit, and a student's threads can take every core. A control group holds every process of
one sandbox, so its memory, process count and CPU share are limits on the student's run as a whole.

Needs root. cgroup v2 is used where the unified hierarchy has the memory, pids and cpu controllers
for us; otherwise cgroup v1's memory, pids and cpu hierarchies where they are writable. Where
neither works (not root, a read-only /sys/fs/cgroup), ``create`` returns None and the sandbox falls
back on per-process rlimits, a fresh uid per sandbox (RLIMIT_NPROC) and the PID namespace (every
process dies with the sandbox): the fallback the README documents.
"""

import os
import re
import signal
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
CPU_PERIOD_US = 100_000
CONTROLLERS = ("memory", "pids", "cpu")
# A group's name carries the pid of the process that made it, so a group left behind by a grader that
# was killed (SIGKILL leaves no chance to clean up) can be told from one a live grader still uses.
NAME = re.compile(r"autograder-(\d+)-[0-9a-f]+")


@dataclass
class Group:
    """One sandbox's control group: a folder per hierarchy (one for v2, three for v1)."""

    folders: list[Path]

    def add(self, pid: int) -> None:
        """Put process ``pid`` (and so all its future children) in the group."""
        for folder in self.folders:
            (folder / "cgroup.procs").write_text(str(pid))

    def kill(self) -> None:
        """Kill every process left in the group."""
        for folder in self.folders:
            if (folder / "cgroup.kill").exists():
                (folder / "cgroup.kill").write_text("1")
                continue
            for line in _read(folder / "cgroup.procs").split():
                try:
                    os.kill(int(line), signal.SIGKILL)
                except (OSError, ValueError):
                    pass

    def remove(self) -> None:
        self.kill()
        for folder in self.folders:
            for _ in range(50):  # the kernel frees a group only once its last process is reaped
                try:
                    folder.rmdir()
                    break
                except OSError:
                    time.sleep(0.02)

    def peak_memory(self) -> int | None:
        """The most memory the group used, in bytes, where the kernel reports it."""
        for folder in self.folders:
            for name in ("memory.peak", "memory.max_usage_in_bytes"):
                text = _read(folder / name).strip()
                if text.isdigit():
                    return int(text)
        return None


def create(memory_bytes: int, pids: int, cpus: float) -> Group | None:
    """A fresh control group with these limits, or None where control groups are not available to us."""
    if os.geteuid() != 0:
        return None
    remove_orphans()
    name = f"autograder-{os.getpid()}-{uuid.uuid4().hex[:12]}"
    for make in (_v2, _v1):
        try:
            group = make(name, memory_bytes, pids, cpus)
        except OSError:
            group = None
        if group is not None:
            return group
    return None


def remove_orphans() -> list[Path]:
    """Remove the groups of ours whose maker is dead, and return their folders.

    Only folders named by ``create`` are touched, and only once the process that made them has gone;
    the processes still in such a group (a killed grader's sandbox) are killed first.
    """
    removed = []
    for parent in _parents():
        for folder in parent.glob("autograder-*"):
            match = NAME.fullmatch(folder.name)
            if match and not Path(f"/proc/{match[1]}").exists():
                Group([folder]).remove()
                removed.append(folder)
    return removed


def _parents() -> list[Path]:
    """The folders our groups may be made in (v2's, each of v1's hierarchies) that exist here."""
    v2 = [_v2_parent()] if (ROOT / "cgroup.controllers").exists() else []
    return [folder for folder in v2 + [_v1_parent(c) for c in CONTROLLERS] if folder.is_dir()]


def _v2_parent() -> Path:
    return ROOT / _own_path("0", "")


def _v1_parent(controller: str) -> Path:
    return ROOT / controller / _own_path(controller, controller)


def _v2(name: str, memory_bytes: int, pids: int, cpus: float) -> Group | None:
    if not (ROOT / "cgroup.controllers").exists():
        return None
    parent = _v2_parent()
    if not set(CONTROLLERS) <= set(_read(parent / "cgroup.subtree_control").split()):
        return None  # enabling controllers here would move our own processes: leave the host's layout alone
    folder = parent / name
    folder.mkdir()
    group = Group([folder])
    try:
        (folder / "memory.max").write_text(str(memory_bytes))
        (folder / "memory.swap.max").write_text("0") if (folder / "memory.swap.max").exists() else None
        (folder / "pids.max").write_text(str(pids))
        (folder / "cpu.max").write_text(f"{int(cpus * CPU_PERIOD_US)} {CPU_PERIOD_US}")
    except OSError:
        group.remove()
        raise
    return group


def _v1(name: str, memory_bytes: int, pids: int, cpus: float) -> Group | None:
    limits = {
        "memory": {"memory.limit_in_bytes": memory_bytes},
        "pids": {"pids.max": pids},
        "cpu": {"cpu.cfs_period_us": CPU_PERIOD_US, "cpu.cfs_quota_us": int(cpus * CPU_PERIOD_US)},
    }
    if not all((ROOT / controller / "cgroup.procs").exists() for controller in limits):
        return None
    group = Group([])
    try:
        for controller, settings in limits.items():
            folder = _v1_parent(controller) / name
            folder.mkdir()
            group.folders.append(folder)
            for setting, value in settings.items():
                (folder / setting).write_text(str(value))
    except OSError:
        group.remove()
        raise
    return group


def _own_path(key: str, controller: str) -> str:
    """Our own group's path in a hierarchy, from /proc/self/cgroup (``0`` is v2's line)."""
    for line in _read(Path("/proc/self/cgroup")).splitlines():
        number, controllers, path = line.split(":", 2)
        if (key == "0" and number == "0") or controller in controllers.split(","):
            return path.lstrip("/")
    return ""


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""
