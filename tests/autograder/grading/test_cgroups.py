"""A sandbox's limits bind all its processes together (control groups), where the machine has them."""

import os
from pathlib import Path
import subprocess
import sys

import pytest

from autograder.grading import cgroups

CHILDREN_EACH_300_MB = """
import os, time
children = []
for _ in range(3):
    pid = os.fork()
    if pid == 0:
        block = bytearray(300 * 2**20)
        time.sleep(2)
        os._exit(0)
    children.append(pid)
block = bytearray(300 * 2**20)
time.sleep(2)
# The kernel may kill any of the four: a child killed must count as much as this process killed.
if all(os.waitpid(pid, 0)[1] == 0 for pid in children):
    print("all four alive")
"""


@pytest.fixture
def group():
    made = cgroups.create(memory_bytes=512 * 2**20, pids=16, cpus=1.0)
    if made is None:
        pytest.skip("no writable control groups here (not root, or /sys/fs/cgroup read-only): the rlimit fallback applies")
    yield made
    made.remove()


def _run_in(group: cgroups.Group, code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], preexec_fn=lambda: group.add(os.getpid()), capture_output=True,
                          text=True, timeout=60)


def test_memory_is_limited_for_all_processes_together(group):
    # Four processes of 300 MB each: each is under any per-process limit, together they are over 512 MB.
    done = _run_in(group, CHILDREN_EACH_300_MB)
    assert "all four alive" not in done.stdout
    peak = group.peak_memory()
    assert peak is None or peak <= 512 * 2**20


def test_processes_are_limited_for_the_group(group):
    done = _run_in(group, "import os\nfor _ in range(40):\n    os.fork() or os._exit(0)\nprint('forked 40')")
    assert "forked 40" not in done.stdout


def test_remove_kills_what_is_left(group):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], preexec_fn=lambda: group.add(os.getpid()))
    group.remove()
    assert sleeper.wait(timeout=10) != 0


def test_a_killed_makers_group_is_removed_and_a_live_makers_is_kept(group):
    # A grader killed with SIGKILL cannot remove its group; the next grader to make one removes it.
    made_by_child = subprocess.run(
        [sys.executable, "-c", "from autograder.grading import cgroups; print(cgroups.create(2**28, 8, 1.0).folders[0])"],
        capture_output=True, text=True, check=True, timeout=60,
    )
    orphan = Path(made_by_child.stdout.strip())
    assert orphan.is_dir()
    removed = cgroups.remove_orphans()
    assert orphan in removed and not orphan.exists()
    assert all(folder.is_dir() for folder in group.folders), "the live grader's own group was removed"
