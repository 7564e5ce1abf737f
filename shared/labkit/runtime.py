"""One place that decides how much work a notebook does.

Three modes:

- ``full``: a person runs the notebook; training runs to convergence.
- ``test``: the course's own test suite runs it (``LABKIT_MODE=test``); everything shrinks.
- ``grading``: nbgrader runs it (``NBGRADER_EXECUTION`` is ``autograde`` or ``validate``); everything shrinks.

Notebooks ask this module; they never read environment variables themselves.
"""

import os
from pathlib import Path
from typing import Literal, TypeVar

Mode = Literal["full", "test", "grading"]
T = TypeVar("T")

MODE_VARIABLE = "LABKIT_MODE"


def mode() -> Mode:
    """The current mode. Grading wins over test, which wins over full."""
    if os.environ.get("NBGRADER_EXECUTION"):
        return "grading"
    if os.environ.get(MODE_VARIABLE, "").strip().lower() == "test":
        return "test"
    return "full"


def is_reduced() -> bool:
    """True when heavy work should shrink (test or grading mode)."""
    return mode() != "full"


def scaled(full: T, reduced: T) -> T:
    """Pick the full-size value, or the reduced one in test and grading mode.

    Args:
        full: the value a person running the notebook should get, e.g. 2000 training steps.
        reduced: the value for test and grading runs, e.g. 50 steps.
    """
    return reduced if is_reduced() else full


def describe() -> str:
    """One line for the top of a notebook, so its output says how it was run."""
    if is_reduced():
        return f"Run mode: {mode()} (training and sweeps are shortened)."
    return "Run mode: full."


def outputs_folder(name: str) -> Path:
    """The folder, relative to the notebooks', where a lab's notebooks leave files for the next ones.

    It is ``name`` in full mode and ``name-shortened`` in test and grading mode, so validating a
    notebook (a shortened run) never replaces what the student's full run saved.

    Args:
        name: the lab's folder name, e.g. ``"vae-project-outputs"``.
    """
    return Path(f"{name}-shortened" if is_reduced() else name)
