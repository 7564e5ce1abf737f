"""Execute a notebook with nbclient, in one of labkit's run modes."""

import os
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from autograder import config

MODE_ENV = {"full": {}, "test": config.TEST_MODE_ENV, "grading": {"NBGRADER_EXECUTION": "autograde"}}


def kernel_env(mode: str) -> dict[str, str]:
    """This process's environment with the run-mode variables set for ``mode`` and nothing else of them."""
    env = {k: v for k, v in os.environ.items() if k not in ("NBGRADER_EXECUTION", "LABKIT_MODE")}
    env.update(MODE_ENV[mode])
    env.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    return env


def execute(
    notebook: nbformat.NotebookNode,
    cwd: Path,
    *,
    mode: str = "test",
    allow_errors: bool = False,
    timeout: int = config.CELL_TIMEOUT_S,
) -> nbformat.NotebookNode:
    """Run every cell of ``notebook`` in place, in a fresh kernel started in ``cwd``.

    Args:
        notebook: the notebook to run; its outputs are replaced.
        cwd: the kernel's working directory.
        mode: ``full``, ``test`` or ``grading`` (see labkit.runtime).
        allow_errors: keep going after a failing cell, as grading does.
        timeout: per-cell limit in seconds.
    """
    env = kernel_env(mode)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name=config.KERNEL_NAME,
        record_timing=False,
        allow_errors=allow_errors,
        resources={"metadata": {"path": str(cwd)}},
    )
    return client.execute(env=env)
