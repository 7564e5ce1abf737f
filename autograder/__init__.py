"""The instructor's tooling around nbgrader: build, grade, feedback, export, and testing the tests."""

import os
import sys
from pathlib import Path

# nbgrader runs its `alembic` console script by name whenever it opens a gradebook, in this process
# or in an nbgrader subprocess. With this interpreter's bin folder first on PATH, running
# `.venv/bin/python -m autograder ...` works without activating the virtualenv.
_BIN = str(Path(sys.executable).parent)
if _BIN not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = os.pathsep.join([_BIN, os.environ.get("PATH", "")])
