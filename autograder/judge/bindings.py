"""What an answer cell hands to the tests: the names its reference solution binds, read from the source.

The judge asks the student's process for exactly these names after the answer cell has run, and
binds nothing else: an answer cell that also rebinds ``check_close`` or ``np.mean`` changes the
student's own process only. The list comes from the instructor's cell, never from the student's.
Imports are not bindings: the judge keeps its own modules.
"""

import ast
from dataclasses import dataclass, field


@dataclass
class Bindings:
    """The names an answer cell binds.

    Args:
        names: module-level names (functions, classes, variables).
        attrs: (class name, attribute) pairs set on a class of the provided cells (``add_to_class``).
    """

    names: list[str] = field(default_factory=list)
    attrs: list[tuple[str, str]] = field(default_factory=list)


def answer_bindings(source: str) -> Bindings:
    """The names and class attributes that the solution in ``source`` (an answer cell) binds."""
    try:
        tree = ast.parse(_without_magics(source))
    except SyntaxError:
        return Bindings()
    found = Bindings()
    for node in tree.body:
        _collect(node, found)
    found.names = sorted(set(found.names))
    found.attrs = sorted(set(found.attrs))
    return found


def _collect(node: ast.stmt, found: Bindings) -> None:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        owner = _added_to(node) if not isinstance(node, ast.ClassDef) else None
        if owner:
            found.attrs.append((owner, node.name))
        else:
            found.names.append(node.name)
    elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
            _targets(target, found)
    elif isinstance(node, (ast.For, ast.AsyncFor, ast.With, ast.AsyncWith, ast.If, ast.Try)):
        if isinstance(node, (ast.For, ast.AsyncFor)):
            _targets(node.target, found)
        if isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if item.optional_vars is not None:
                    _targets(item.optional_vars, found)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt):
                _collect(child, found)


def _targets(target: ast.expr, found: Bindings) -> None:
    if isinstance(target, ast.Name):
        found.names.append(target.id)
    elif isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            _targets(element, found)
    elif isinstance(target, ast.Starred):
        _targets(target.value, found)
    elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
        found.attrs.append((target.value.id, target.attr))


def _added_to(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """``Cls`` for a function decorated with ``@add_to_class(Cls)``, else None."""
    for decorator in node.decorator_list:
        if (
            isinstance(decorator, ast.Call)
            and getattr(decorator.func, "id", getattr(decorator.func, "attr", None)) == "add_to_class"
            and decorator.args
            and isinstance(decorator.args[0], ast.Name)
        ):
            return decorator.args[0].id
    return None


def _without_magics(source: str) -> str:
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())
