"""The agent's housekeeping: no fork of the student's outlives the cell, orphaned or not."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

JUDGE = Path(__file__).parents[3] / "autograder" / "judge"

# A child that forks a sleeping grandchild and exits: the grandchild is an orphan.
ORPHAN = textwrap.dedent(f"""
    import os, sys, time
    sys.path.insert(0, {str(JUDGE)!r})
    from sandboxed import adopt_orphans, reap_strays
    me = os.getpid()
    if sys.argv[1] == "adopt":
        adopt_orphans()
    read, write = os.pipe()
    if os.fork() == 0:
        grandchild = os.fork()
        if grandchild == 0:
            time.sleep(60)
            os._exit(0)
        os.write(write, str(grandchild).encode())
        os._exit(0)
    grandchild = int(os.read(read, 20))
    os.wait()
    reap_strays(me)
    time.sleep(0.2)
    try:
        os.kill(grandchild, 0)
        alive = open(f"/proc/{{grandchild}}/stat").read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        alive = False
    if alive:
        os.kill(grandchild, 9)
    print("alive" if alive else "gone")
""")


def _grandchild_after_reaping(mode: str) -> str:
    return subprocess.run([sys.executable, "-c", ORPHAN, mode], capture_output=True, text=True, timeout=30, check=True).stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="child subreapers are Linux's")
def test_an_orphaned_fork_is_reaped_once_the_agent_adopts_orphans():
    assert _grandchild_after_reaping("adopt") == "gone"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="child subreapers are Linux's")
def test_without_adoption_the_orphan_escapes():
    """The reason for adopt_orphans: this test fails if reaping ever finds orphans on its own."""
    assert _grandchild_after_reaping("leave") == "alive"
