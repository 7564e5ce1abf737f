"""Spot code that rebinds what the tests compare with (``torch.allclose = lambda *a: True``).

The tests compare numbers as numbers (labkit.checks), which defeats an ``__eq__`` that always says
True, but a test cannot defend against a student who replaces the comparison itself in the same
kernel. So the grader reads the student's cells before running them and flags, for review, any
assignment, deletion or ``setattr`` that rebinds a comparison of a protected module (torch, numpy,
labkit...) or a name the locked cells imported from one.
"""

import ast

from autograder import config


def protected_names(locked: list[str], written: list[str]) -> dict[str, str]:
    """Local name -> where it comes from, for every name the tests may rely on.

    Args:
        locked: the locked cells' sources: their imports of protected modules and the checking helpers
            they define (``check_*``, ``assert_*``) are protected.
        written: the student's cells: their imports of protected modules are protected too.
    """
    names = _imports(locked + written)
    for tree in _parse_all(locked):
        for node in tree.body:
            # Only checking helpers: locked cells also define classes that students' cells extend.
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith(config.CHECK_PREFIXES):
                names[node.name] = "locked cell"
    return names


def _imports(sources: list[str]) -> dict[str, str]:
    """Local name -> module path, for every import of a protected module in ``sources``."""
    names = {}
    for tree in _parse_all(sources):
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] in config.PROTECTED_MODULES:
                        names[(alias.asname or alias.name).split(".")[0]] = alias.name
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in config.PROTECTED_MODULES:
                for alias in node.names:
                    names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def rebindings(student_sources: list[str], protected: dict[str, str]) -> list[str]:
    """Descriptions of every rebinding of a protected comparison in the student's cells.

    Args:
        student_sources: the cells the student wrote (answers and added cells).
        protected: local name -> origin, from protected_names.
    """
    found = []
    for tree in _parse_all(student_sources):
        for node in ast.walk(tree):
            for target in _targets(node):
                described = _describe(target, protected)
                if described:
                    found.append(described)
    return sorted(set(found))


def _targets(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, (ast.Assign, ast.Delete)):
        return list(node.targets)
    if isinstance(node, (ast.AugAssign, ast.AnnAssign)):
        return [node.target]
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [ast.Name(id=node.name)]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr" and len(node.args) >= 2:
        obj, name = node.args[0], node.args[1]
        if isinstance(name, ast.Constant) and isinstance(name.value, str):
            return [ast.Attribute(value=obj, attr=name.value)]
    return []


def _describe(target: ast.AST, protected: dict[str, str]) -> str | None:
    """``torch.allclose`` for a rebinding of a protected comparison, else None."""
    if isinstance(target, ast.Name):
        module_path = protected.get(target.id, "")
        # Rebinding a locked helper, a name imported from labkit (check_close...) or an imported comparison.
        if module_path.startswith(("labkit", "locked cell")) or module_path.rsplit(".", 1)[-1] in config.COMPARISON_NAMES:
            return f"{target.id} (imported from {module_path})"
        return None
    chain = []
    while isinstance(target, ast.Attribute):
        chain.append(target.attr)
        target = target.value
    if not isinstance(target, ast.Name) or target.id not in protected or not chain:
        return None
    if any(part in config.COMPARISON_NAMES for part in chain):
        return ".".join([target.id, *reversed(chain)])
    return None


def _parse_all(sources: list[str]) -> list[ast.AST]:
    trees = []
    for source in sources:
        try:
            trees.append(ast.parse(_without_magics(source)))
        except SyntaxError:
            continue  # a syntax error shows up, with its message, when the cell runs
    return trees


def _without_magics(source: str) -> str:
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())
