"""Mutants the authors did not write: classic mutation operators applied to every solution region.

``generate(cell_id, source, framework)`` reads one answer cell as the source notebook holds it (with
its ``### BEGIN SOLUTION`` / ``### END SOLUTION`` markers), applies every operator of ``OPERATORS``
to every node inside the solution region, and returns the distinct mutants, each as the whole cell a
student would hand in. Only generation lives here; checktests runs the mutants (so switching it to
another execution path leaves this module alone).

Why not mutmut or cosmic-ray: both mutate files on disk and drive a test runner (pytest / a session
database); here a unit is one notebook cell run in a live kernel. Their operators are generic
(every binary operator to every other one, numbers ± 1) and lack the ones these labs need (sum↔mean,
a reduction axis, exp↔log, σ↔σ², detach, a re-seeded generator), and they bring libcst/parso.
``ast`` + ``ast.unparse`` does the whole job in the standard library.

A mutant's ``id`` is stable across rebuilds and edits elsewhere in the cell:
``<operator>:L<line>:<digest>``, with the line counted from the first line of the solution region
and the digest a hash of the code before and after the change. Catalogs record equivalent mutants
by that id (see autograder.mutants).
"""

import ast
import copy
import dataclasses
import hashlib
import random
import re
from collections.abc import Callable, Iterator

from autograder import notebooks

FRAMEWORKS = ("torch", "mlx", "jax", "numpy")
# Calls whose result is random: a function that makes one draws randomness (re-seeding it is a bug).
RANDOM_CALL = re.compile(r"rand|normal|sample|permutation|shuffle|choice|integers|uniform|bernoulli|reparameter")
AXIS_KEYWORDS = ("dim", "axis")
REDUCTIONS = {"sum": "mean", "mean": "sum", "nansum": "nanmean", "nanmean": "nansum"}
# Calls that take the axis as their only positional argument when called as a method: x.sum(-1).
AXIS_METHODS = {"sum", "mean", "prod", "max", "min", "logsumexp", "std", "var", "softmax", "log_softmax", "cumsum"}
ARITHMETIC = {
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
    ast.Pow: ast.Mult, ast.FloorDiv: ast.Div, ast.Mod: ast.FloorDiv, ast.MatMult: ast.Mult,
}
# Each comparison gets two mutants: its boundary twin (< ↔ <=) and its opposite direction (< → >).
COMPARISONS = {
    ast.Lt: (ast.LtE, ast.Gt), ast.LtE: (ast.Lt, ast.GtE), ast.Gt: (ast.GtE, ast.Lt), ast.GtE: (ast.Gt, ast.LtE),
    ast.Eq: (ast.NotEq,), ast.NotEq: (ast.Eq,), ast.Is: (ast.IsNot,), ast.IsNot: (ast.Is,),
    ast.In: (ast.NotIn,), ast.NotIn: (ast.In,),
}
RESEED = {"torch": "torch.manual_seed(0)", "mlx": "mx.random.seed(0)", "numpy": "np.random.seed(0)"}
# Values with no gradient to cut: detaching noise or a constant array changes nothing.
NO_GRADIENT_CALLS = {
    "randn", "randn_like", "rand", "rand_like", "normal", "uniform", "randint", "permutation", "bernoulli",
    "zeros", "zeros_like", "ones", "ones_like", "arange", "eye",
}
STOP_GRADIENT = {"torch": "({}).detach()", "mlx": "mx.stop_gradient({})", "jax": "jax.lax.stop_gradient({})"}


@dataclasses.dataclass(frozen=True)
class Mutant:
    """One generated mutant of an answer cell.

    Attributes:
        cell: the grade_id of the answer cell.
        operator: the operator's name, e.g. ``arithmetic``.
        line: the line of the change, counted from 1 at the first line of the solution region.
        before, after: the code the operator changed, and what it made of it (one expression or statement).
        code: the whole mutated cell, without solution markers.
        id: ``<operator>:L<line>:<digest>``, stable across rebuilds.
    """

    cell: str
    operator: str
    line: int
    before: str
    after: str
    code: str
    id: str


@dataclasses.dataclass(frozen=True)
class Context:
    """What an operator may need to know about the cell besides the node it looks at.

    Attributes:
        framework: the array library of the solution (one of FRAMEWORKS); decides detach and re-seeding.
        function: the function definition that holds the solution region.
    """

    framework: str
    function: ast.FunctionDef | None


# An operator maps (node, context) to the nodes that may take the place of ``node``.
Replacement = ast.AST
Operator = Callable[[ast.AST, Context], Iterator[Replacement]]


def _name(func: ast.expr) -> str | None:
    """The called name: ``exp`` for ``torch.exp``, ``x.exp`` and ``exp``."""
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def _renamed(call: ast.Call, name: str) -> ast.Call:
    new = copy.deepcopy(call)
    if isinstance(new.func, ast.Attribute):
        new.func.attr = name
    else:
        new.func.id = name
    return new


def _expr(code: str) -> ast.expr:
    return ast.parse(code, mode="eval").body


def _number(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) in (int, float)


def arithmetic(node, ctx):
    """Swap an arithmetic operator: + ↔ −, * ↔ /, ** → *, // → /, % → //, in expressions and ``+=``."""
    if isinstance(node, ast.BinOp | ast.AugAssign) and type(node.op) in ARITHMETIC:
        new = copy.deepcopy(node)
        new.op = ARITHMETIC[type(node.op)]()
        yield new


def comparison(node, ctx):
    """Swap one comparison operator for its boundary twin (< ↔ <=) or its opposite (< → >)."""
    if not isinstance(node, ast.Compare):
        return
    for i, op in enumerate(node.ops):
        for swapped in COMPARISONS.get(type(op), ()):
            new = copy.deepcopy(node)
            new.ops[i] = swapped()
            yield new


def sign(node, ctx):
    """Flip a sign: drop a unary minus, reverse a subtraction, negate a returned expression."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        yield copy.deepcopy(node.operand)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub):
        yield ast.BinOp(copy.deepcopy(node.right), ast.Sub(), copy.deepcopy(node.left))
    if isinstance(node, ast.Return) and isinstance(node.value, ast.BinOp | ast.Call | ast.Name | ast.UnaryOp):
        yield ast.Return(ast.UnaryOp(ast.USub(), copy.deepcopy(node.value)))


def sigma(node, ctx):
    """Confuse σ with σ²: exp(½·v) ↔ exp(v), a square root dropped, a square (x**2, x.pow(2)) dropped."""
    if isinstance(node, ast.Call) and _name(node.func) == "exp":
        # The exponent is the argument, or the receiver of a method call such as logvar.exp().
        if node.args:
            arg = node.args[0]
        elif isinstance(node.func, ast.Attribute):
            arg = node.func.value
        else:
            return
        halved = isinstance(arg, ast.BinOp) and isinstance(arg.op, ast.Mult)
        halved = halved and any(_number(side) and side.value == 0.5 for side in (arg.left, arg.right))
        if halved:
            replacement = arg.right if _number(arg.left) else arg.left
        else:
            replacement = ast.BinOp(ast.Constant(0.5), ast.Mult(), arg)
        new = copy.deepcopy(node)
        if node.args:
            new.args[0] = copy.deepcopy(replacement)
        else:
            new.func.value = copy.deepcopy(replacement)
        yield new
    if isinstance(node, ast.Call) and _name(node.func) == "sqrt" and len(node.args) == 1:
        yield copy.deepcopy(node.args[0])
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow) and _number(node.right) and node.right.value in (2, 0.5):
        yield copy.deepcopy(node.left)
    if (
        isinstance(node, ast.Call) and _name(node.func) == "pow" and isinstance(node.func, ast.Attribute)
        and len(node.args) == 1 and _number(node.args[0]) and node.args[0].value == 2
    ):
        yield copy.deepcopy(node.func.value)


def constant(node, ctx):
    """Change a number (an int by ± 1, a float times 2 or ½, 0 → 1) or drop a constant factor (c·x → x)."""
    if _number(node) and not getattr(node, "_axis", False):
        value = node.value
        if isinstance(value, int):
            changed = (value + 1, value - 1)
        elif value == 0:
            changed = (1.0,)
        else:
            changed = (value * 2, value / 2)
        for v in changed:
            yield ast.Constant(v)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult | ast.Div):
        if _number(node.right):
            yield copy.deepcopy(node.left)
        if _number(node.left) and isinstance(node.op, ast.Mult):
            yield copy.deepcopy(node.right)


def reduction(node, ctx):
    """Swap a sum for a mean and back (torch.sum, x.mean(dim=0), np.mean, mx.sum, ...)."""
    if isinstance(node, ast.Call) and _name(node.func) in REDUCTIONS:
        yield _renamed(node, REDUCTIONS[_name(node.func)])


def _changed_axis(value: ast.expr) -> ast.expr | None:
    try:
        axis = ast.literal_eval(value)
    except ValueError:
        return None
    if isinstance(axis, int) and not isinstance(axis, bool):
        return ast.Constant(1 if axis == 0 else 0)
    if isinstance(axis, tuple) and len(axis) > 1:
        return _expr(repr(axis[-1]))
    return None


def axis(node, ctx):
    """Drop a reduction axis (dim= / axis=, or the lone positional axis of x.sum(-1)), or change it."""
    if not isinstance(node, ast.Call):
        return
    for i, keyword in enumerate(node.keywords):
        if keyword.arg in AXIS_KEYWORDS:
            dropped = copy.deepcopy(node)
            del dropped.keywords[i]
            yield dropped
            changed = _changed_axis(keyword.value)
            if changed is not None:
                new = copy.deepcopy(node)
                new.keywords[i].value = changed
                yield new
    if isinstance(node.func, ast.Attribute) and node.func.attr in AXIS_METHODS and len(node.args) == 1:
        changed = _changed_axis(node.args[0])
        if changed is not None:
            dropped = copy.deepcopy(node)
            dropped.args = []
            yield dropped
            new = copy.deepcopy(node)
            new.args[0] = changed
            yield new


def drop_term(node, ctx):
    """Drop one term of a sum: a + b → a, a + b → b, a − b → −b; a ``+=`` / ``-=`` statement → pass."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub):
        yield copy.deepcopy(node.left)
        right = copy.deepcopy(node.right)
        yield right if isinstance(node.op, ast.Add) else ast.UnaryOp(ast.USub(), right)
    if isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Add | ast.Sub):
        yield ast.Pass()


def exp_log(node, ctx):
    """Swap exp for log and back (torch.exp, np.log, x.exp(), math.log, ...)."""
    if isinstance(node, ast.Call) and _name(node.func) in ("exp", "log"):
        yield _renamed(node, "log" if _name(node.func) == "exp" else "exp")


def swap_args(node, ctx):
    """Swap the first two positional arguments of a call."""
    if isinstance(node, ast.Call) and len(node.args) >= 2 and not any(isinstance(a, ast.Starred) for a in node.args[:2]):
        new = copy.deepcopy(node)
        new.args[0], new.args[1] = new.args[1], new.args[0]
        if ast.dump(new.args[0]) != ast.dump(new.args[1]):
            yield new


def _stop_gradient(expr: ast.expr, framework: str) -> ast.expr:
    return _expr(STOP_GRADIENT[framework].format(ast.unparse(expr)))


def detach(node, ctx):
    """Cut the gradient of an assigned or returned value: .detach() (torch), mx.stop_gradient, jax.lax.stop_gradient."""
    if ctx.framework not in STOP_GRADIENT:
        return
    if isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) for t in node.targets):
        value = node.value
        constant = isinstance(value, ast.Constant | ast.Dict | ast.List | ast.Tuple | ast.Lambda)
        if not constant and not (isinstance(value, ast.Call) and _name(value.func) in NO_GRADIENT_CALLS):
            yield ast.Assign(copy.deepcopy(node.targets), _stop_gradient(node.value, ctx.framework), type_comment=None)
    if isinstance(node, ast.Return) and node.value is not None:
        value = node.value
        if isinstance(value, ast.Tuple):
            for i, element in enumerate(value.elts):
                new = copy.deepcopy(node)
                new.value.elts[i] = _stop_gradient(element, ctx.framework)
                yield new
        elif isinstance(value, ast.Dict):
            for i, element in enumerate(value.values):
                new = copy.deepcopy(node)
                new.value.values[i] = _stop_gradient(element, ctx.framework)
                yield new
        elif not isinstance(value, ast.Constant):
            yield ast.Return(_stop_gradient(value, ctx.framework))


def _parameters(function: ast.FunctionDef) -> list[str]:
    names = [a.arg for a in function.args.posonlyargs + function.args.args + function.args.kwonlyargs]
    return [n for n in names if n not in ("self", "cls")]


def _draws_randomness(function: ast.FunctionDef, framework: str) -> bool:
    """Whether the function calls the framework's global generator (for NumPy: np.random.<name>(...),
    not a generator of its own from np.random.default_rng)."""
    calls = [n for n in ast.walk(function) if isinstance(n, ast.Call)]
    if framework == "numpy":
        return any(
            isinstance(c.func, ast.Attribute) and ast.unparse(c.func.value) == "np.random" and c.func.attr != "default_rng"
            for c in calls
        )
    return any(RANDOM_CALL.search((_name(c.func) or "").lower()) for c in calls)


def _at_top(function: ast.FunctionDef, statement: str) -> ast.FunctionDef:
    """A copy of ``function`` with ``statement`` as the first statement after its docstring."""
    new = copy.deepcopy(function)
    first = new.body[0]
    docstring = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str)
    new.body.insert(1 if docstring else 0, ast.parse(statement).body[0])
    return new


def reseed(node, ctx):
    """Re-seed the generator at the top of the function: torch.manual_seed(0), np.random.seed(0),
    mx.random.seed(0), a fresh ``rng = np.random.default_rng(0)``, or ``seed = 0`` over a seed argument."""
    if node is not ctx.function:
        return
    parameters = _parameters(node)
    if "rng" in parameters:
        yield _at_top(node, "rng = np.random.default_rng(0)")
    if "seed" in parameters:
        yield _at_top(node, "seed = 0")
    if ctx.framework in RESEED and _draws_randomness(node, ctx.framework):
        yield _at_top(node, RESEED[ctx.framework])


def early_return(node, ctx):
    """Return one of the inputs unchanged, first thing in the function."""
    if node is ctx.function:
        for parameter in _parameters(node):
            yield _at_top(node, f"return {parameter}")


# The order decides which operator names a mutant that two operators produce alike (the first one).
OPERATORS: dict[str, Operator] = {
    "arithmetic": arithmetic,
    "comparison": comparison,
    "sign": sign,
    "sigma": sigma,
    "constant": constant,
    "reduction": reduction,
    "axis": axis,
    "drop-term": drop_term,
    "exp-log": exp_log,
    "swap-args": swap_args,
    "detach": detach,
    "reseed": reseed,
    "early-return": early_return,
}


def solution_lines(source: str) -> set[int]:
    """Line numbers (1-based, in the cell with its markers stripped) inside a solution region."""
    inside, kept, lines = False, 0, set()
    for line in source.splitlines():
        marker = notebooks.SOLUTION_MARKER.match(line)
        if marker:
            inside = marker.group(1) == "BEGIN"
            continue
        kept += 1
        if inside:
            lines.add(kept)
    return lines


def _slots(tree: ast.AST) -> Iterator[tuple[ast.AST, str, int | None, ast.AST]]:
    """Every node with where it sits: (parent, field, index in the field's list or None, node), in a fixed order."""
    for parent in ast.walk(tree):
        for field, value in ast.iter_fields(parent):
            if isinstance(value, list):
                for i, child in enumerate(value):
                    if isinstance(child, ast.AST):
                        yield parent, field, i, child
            elif isinstance(value, ast.AST):
                yield parent, field, None, value


def _mark_axes(tree: ast.AST) -> None:
    """Tag the numbers that are an axis, so that ``constant`` leaves them to ``axis``."""
    for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
        axes = [k.value for k in call.keywords if k.arg in AXIS_KEYWORDS]
        if isinstance(call.func, ast.Attribute) and call.func.attr in AXIS_METHODS and len(call.args) == 1:
            axes.append(call.args[0])
        for node in (n for a in axes for n in ast.walk(a)):
            node._axis = True


def _enclosing_function(tree: ast.AST, lines: set[int]) -> ast.FunctionDef | None:
    """The innermost function whose body holds the first line of the solution region."""
    first = min(lines)
    found = None
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.body[0].lineno <= first <= node.end_lineno:
            if found is None or node.lineno > found.lineno:
                found = node
    return found


def _in_region(node: ast.AST, lines: set[int], function: ast.FunctionDef | None) -> bool:
    if node is function:
        return True
    if not hasattr(node, "lineno"):
        return False
    return node.lineno in lines and node.end_lineno in lines


def _digest(*parts: str) -> str:
    return hashlib.sha1("\x00".join(parts).encode()).hexdigest()[:8]


def _change(original: ast.AST, replacement: Replacement) -> tuple[str, str]:
    """The code an operator changed and what it made of it; for a whole function, the inserted statement."""
    if isinstance(original, ast.FunctionDef):
        old = {ast.dump(s) for s in original.body}
        inserted = [s for s in replacement.body if ast.dump(s) not in old]
        return "", "\n".join(ast.unparse(s) for s in inserted)
    return ast.unparse(original), ast.unparse(replacement)


def framework_of(cell_source: str, imports: set[str]) -> str:
    """The array library an answer cell works in: MLX or JAX if its code names them, else torch if the
    notebook imports torch (``imports``: the frameworks it imports) and the cell does not work in NumPy."""
    try:
        names = {n.id for n in ast.walk(ast.parse(cell_source)) if isinstance(n, ast.Name)}
    except SyntaxError:
        return "numpy"
    if "mx" in names:
        return "mlx"
    if names & {"jnp", "jax"}:
        return "jax"
    if "torch" in imports and ("np" not in names or names & {"torch", "F", "nn"}):
        return "torch"
    return "numpy"


def generate(cell: str, source: str, framework: str) -> list[Mutant]:
    """Every distinct mutant of one answer cell, in a fixed order.

    Args:
        cell: the answer cell's grade_id.
        source: the cell as the source notebook holds it, solution markers included.
        framework: the array library of the solution, one of FRAMEWORKS (see ``framework_of``).

    Returns:
        The mutants whose code parses, compiles and differs from the reference (compared by ``ast.dump``),
        each distinct from the others; none if the cell has no solution region or does not parse.
    """
    lines = solution_lines(source)
    plain = notebooks.strip_solution_markers(source)
    try:
        reference = ast.parse(plain)
    except SyntaxError:
        return []
    if not lines:
        return []
    _mark_axes(reference)
    function = _enclosing_function(reference, lines)
    context = Context(framework, function)
    slots = [s for s in _slots(reference) if _in_region(s[3], lines, function)]
    seen = {ast.dump(reference)}
    found: list[tuple[int, int, int, str, Mutant]] = []
    for operator_index, (name, operator) in enumerate(OPERATORS.items()):
        for parent, field, index, node in slots:
            for replacement in list(operator(node, context)):
                replacement = ast.fix_missing_locations(ast.copy_location(replacement, node))
                code = _unparsed(_substitute(reference, parent, field, index, node, replacement))
                if code is None:
                    continue
                dump = ast.dump(ast.parse(code))
                if dump in seen:
                    continue
                seen.add(dump)
                before, after = _change(node, replacement)
                line = 0 if node is function else node.lineno - min(lines) + 1
                ident = f"{name}:L{line}:{_digest(before, after)}"
                mutant = Mutant(cell, name, line, before, after, code, ident)
                found.append((operator_index, line, getattr(node, "col_offset", 0), ident, mutant))
    return _unique_ids(sorted(found, key=lambda f: f[:3]))


def _substitute(tree, parent, field, index, node, replacement) -> ast.AST:
    """A copy of ``tree`` with ``node`` (at parent.field[index]) replaced; ``tree`` itself is left as it was."""
    if index is None:
        setattr(parent, field, replacement)
    else:
        getattr(parent, field)[index] = replacement
    mutated = copy.deepcopy(tree)
    if index is None:
        setattr(parent, field, node)
    else:
        getattr(parent, field)[index] = node
    return mutated


def _unparsed(tree: ast.AST) -> str | None:
    """The mutated cell as source, or None if it does not unparse, parse again or compile."""
    try:
        code = ast.unparse(ast.fix_missing_locations(tree))
        compile(code, "<mutant>", "exec")
    except (SyntaxError, ValueError, TypeError, AttributeError, RecursionError):
        return None
    return code


def _unique_ids(found) -> list[Mutant]:
    """The mutants in order, an id that occurs twice (the same edit twice on one line) numbered #2, #3, ..."""
    counts: dict[str, int] = {}
    result = []
    for *_, ident, mutant in found:
        counts[ident] = counts.get(ident, 0) + 1
        if counts[ident] > 1:
            mutant = dataclasses.replace(mutant, id=f"{ident}#{counts[ident]}")
        result.append(mutant)
    return result


def sample(mutants: list[Mutant], limit: int | None, seed: str) -> list[Mutant]:
    """At most ``limit`` mutants, spread over the operators, chosen the same way on every run.

    Args:
        mutants: all mutants of one cell, as ``generate`` returns them.
        limit: how many to keep; None keeps all.
        seed: fixes the choice (e.g. the cell's id and the course's mutant seed).

    Returns:
        Each operator's mutants shuffled by a generator seeded with ``seed`` and the operator's name,
        then taken in turn, one per operator, until ``limit``; in the order of ``mutants``.
    """
    if limit is None or len(mutants) <= limit:
        return list(mutants)
    queues: dict[str, list[Mutant]] = {}
    for mutant in mutants:
        queues.setdefault(mutant.operator, []).append(mutant)
    for name, queue in queues.items():
        random.Random(f"{seed}:{name}").shuffle(queue)
    chosen: set[str] = set()
    while len(chosen) < limit:
        for queue in queues.values():
            if queue and len(chosen) < limit:
                chosen.add(queue.pop(0).id)
    return [m for m in mutants if m.id in chosen]
