"""Run chosen definitions of a source notebook, so a benchmark measures the lab's own code.

Source notebooks hold the reference solutions, so the functions and classes a benchmark times come
from there rather than from a second copy that could drift.
"""

import ast
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import nbformat


def load_definitions(notebook: Path, names: Iterable[str], namespace: dict) -> dict:
    """Run the top-level ``def``s and ``class``es called ``names`` in ``namespace``, in notebook order.

    Test cells are skipped; every other statement of a cell is left out, so nothing else runs.

    Args:
        notebook: a source notebook (solutions included).
        names: the functions and classes to define; each must be defined exactly once.
        namespace: the globals they need (the notebook's imports); it receives the definitions.

    Returns:
        ``namespace``.
    """
    wanted, found = set(names), Counter()
    for cell in nbformat.read(notebook, as_version=4).cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or (meta.get("points") and not meta.get("solution")):
            continue
        keep = [n for n in ast.parse(cell.source).body if isinstance(n, (ast.ClassDef, ast.FunctionDef)) and n.name in wanted]
        found.update(n.name for n in keep)
        if keep:
            exec(compile(ast.Module(body=keep, type_ignores=[]), notebook.name, "exec"), namespace)
    wrong = {name: found[name] for name in wanted if found[name] != 1}
    if wrong:
        raise RuntimeError(f"{notebook.name}: each of these should be defined once, found {wrong}")
    return namespace
