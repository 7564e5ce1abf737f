"""Assertions for test cells, with messages that diagnose the likely mistake.

Every check converts what the student returned into numbers before it compares anything, so an
object whose ``__eq__`` always says True gains nothing. A failing check says which element is off
in which direction and how far beyond the tolerance, and, only where one cause is likely (a recorded
wrong variant matches, or every element is off by one factor or one offset), names it. It never prints
the expected value, nor a number it could be recovered from.
"""

import math
import sys
from collections.abc import Mapping, Sequence
from numbers import Real

import numpy as np
import torch

TENSOR_TYPES = (torch.Tensor, torch.nn.Parameter)

# Factors a student's value commonly differs from the right one by, and what each usually means.
FACTOR_HINTS = {
    2.0: "every element is twice the expected value: is a factor 1/2 missing?",
    0.5: "every element is half the expected value: is there an extra factor 1/2?",
    -1.0: "every element has the opposite sign of the expected value: check the sign convention.",
}


def check_tensor(
    value: object,
    name: str,
    *,
    shape: Sequence[int | None] | None = None,
    dtype: torch.dtype | None = None,
    finite: bool = True,
) -> torch.Tensor:
    """Check that ``value`` is a real tensor of the given shape and dtype; return it detached.

    Args:
        value: what the student's function returned.
        name: how to call it in messages, e.g. ``"standard_normal_kl(mu, logvar)"``.
        shape: the expected shape; ``None`` in a position accepts any size there.
        dtype: the expected dtype, or ``None`` to accept any floating dtype.
        finite: also require every element to be finite.
    """
    if value is None:
        raise AssertionError(f"{name} returned None: is the `return` statement missing?")
    if type(value) not in TENSOR_TYPES:
        raise AssertionError(f"{name} should return a torch.Tensor, got {type(value).__name__}.")
    tensor = value.detach()
    if shape is not None:
        _check_shape(tensor, tuple(shape), name)
    if dtype is not None and tensor.dtype != dtype:
        raise AssertionError(f"{name} has dtype {tensor.dtype}, expected {dtype}.")
    if dtype is None and not tensor.is_floating_point():
        raise AssertionError(f"{name} has dtype {tensor.dtype}, expected a floating-point tensor.")
    if finite and not torch.isfinite(tensor).all():
        bad = torch.nonzero(~torch.isfinite(tensor))[0].tolist()
        raise AssertionError(
            f"{name} is not finite at index {bad} (value {tensor[tuple(bad)].item()}): "
            "an overflow, a log of 0, or a division by 0?"
        )
    return tensor


def array_types() -> tuple[type, ...]:
    """The array types the labs use besides torch: numpy, and MLX and JAX once a notebook imports them.

    Only modules already imported are consulted, so a torch lab never pays for loading MLX or JAX.
    """
    types: list[type] = [np.ndarray]
    if "mlx.core" in sys.modules:
        types.append(sys.modules["mlx.core"].array)
    if "jax" in sys.modules:
        types.append(sys.modules["jax"].Array)
    return tuple(types)


def _is_array(value: object) -> bool:
    return isinstance(value, array_types()) and not isinstance(value, np.generic)


def check_array(
    value: object,
    name: str,
    *,
    shape: Sequence[int | None] | None = None,
    dtype: object | None = None,
    finite: bool = True,
) -> np.ndarray:
    """Check that ``value`` is a numpy, MLX or JAX array of the given shape and dtype; return it as numpy.

    Args:
        value: what the student's function returned.
        name: how to call it in messages, e.g. ``"energy(x, params)"``.
        shape: the expected shape; ``None`` in a position accepts any size there.
        dtype: the expected numpy dtype (e.g. ``np.float32``, ``np.uint8``), or ``None`` to accept any
            floating dtype.
        finite: also require every element to be finite (floating arrays only).
    """
    if value is None:
        raise AssertionError(f"{name} returned None: is the `return` statement missing?")
    if type(value) in TENSOR_TYPES:
        raise AssertionError(f"{name} should return an array, got a torch.Tensor.")
    if not _is_array(value):
        kinds = ", ".join(t.__module__.split(".")[0] for t in array_types())
        raise AssertionError(f"{name} should return an array ({kinds}), got {type(value).__name__}.")
    array = np.asarray(value)
    if shape is not None:
        _check_shape(array, tuple(shape), name)
    if dtype is not None and array.dtype != np.dtype(dtype):
        raise AssertionError(f"{name} has dtype {array.dtype}, expected {np.dtype(dtype)}.")
    if dtype is None and not np.issubdtype(array.dtype, np.floating):
        raise AssertionError(f"{name} has dtype {array.dtype}, expected a floating-point array.")
    if finite and np.issubdtype(array.dtype, np.floating) and not np.isfinite(array).all():
        bad = [int(i) for i in np.argwhere(~np.isfinite(array))[0]]
        raise AssertionError(
            f"{name} is not finite at index {bad} (value {array[tuple(bad)]}): "
            "an overflow, a log of 0, or a division by 0?"
        )
    return array


def _check_shape(tensor: torch.Tensor | np.ndarray, expected: tuple[int | None, ...], name: str) -> None:
    actual = tuple(tensor.shape)
    fits = len(actual) == len(expected) and all(e is None or a == e for a, e in zip(actual, expected))
    if fits:
        return
    shown = tuple("any" if e is None else e for e in expected)
    hint = ""
    if len(actual) > len(expected):
        hint = " It has extra dimensions: did you forget to sum or average over one?"
    elif len(actual) < len(expected):
        hint = " It has too few dimensions: did you reduce over the batch too?"
    raise AssertionError(f"{name} has shape {actual}, expected {shown}.{hint}")


def as_float(value: object, name: str) -> float:
    """Return a Python float from a float, an int or a one-element tensor; reject anything else."""
    if isinstance(value, bool) or value is None:
        raise AssertionError(f"{name} should be a number, got {value!r}.")
    if type(value) in TENSOR_TYPES:
        if value.numel() != 1:
            raise AssertionError(f"{name} should be a single number, got a tensor of shape {tuple(value.shape)}.")
        return float(value.detach().item())
    if isinstance(value, Real) and type(value).__eq__ in (int.__eq__, float.__eq__):
        return float(value)
    if _is_array(value) or isinstance(value, np.generic):
        array = np.asarray(value)
        if array.size != 1:
            raise AssertionError(f"{name} should be a single number, got an array of shape {array.shape}.")
        return float(array.reshape(()))
    raise AssertionError(f"{name} should be a number or a 0-d tensor, got {type(value).__name__}.")


def check_close(
    actual: object,
    expected: torch.Tensor | np.ndarray | float,
    name: str,
    *,
    rtol: float = 1e-5,
    atol: float = 1e-6,
    mistakes: Mapping[str, torch.Tensor | float] | None = None,
) -> None:
    """Assert ``actual`` is close to ``expected`` element by element, and explain any miss.

    Args:
        actual: the student's value: a torch tensor, a numpy, MLX or JAX array, or a number.
        expected: the reference value, computed independently in the test.
        name: how to call the value in messages.
        rtol, atol: the tolerance, as in ``torch.allclose``.
        mistakes: known wrong variants, keyed by a hint such as ``"KL(q||p) instead of KL(p||q)"``.
            If ``actual`` matches one, the message gives that hint.
    """
    got = _to_float64(actual, name)
    want = _reference64(expected)
    try:
        got, want = torch.broadcast_tensors(got, want)
    except RuntimeError:
        raise AssertionError(f"{name} has shape {tuple(got.shape)}, expected {tuple(want.shape)}.") from None
    if torch.allclose(got, want, rtol=rtol, atol=atol):
        return
    raise AssertionError(_describe_miss(got, want, name, rtol, atol, mistakes or {}))


def _to_float64(value: object, name: str) -> torch.Tensor:
    if type(value) in TENSOR_TYPES:
        return value.detach().to(torch.float64)
    if _is_array(value):
        return torch.from_numpy(np.array(value, dtype=np.float64))
    return torch.tensor(as_float(value, name), dtype=torch.float64)


def _reference64(value: object) -> torch.Tensor:
    """A value the test computed (tensor, any array, number or nested list) as float64."""
    if _is_array(value):
        return torch.from_numpy(np.array(value, dtype=np.float64))
    return torch.as_tensor(value, dtype=torch.float64).detach()


def _describe_miss(got, want, name, rtol, atol, mistakes) -> str:
    """Say what differs (which elements, in which direction, how far beyond the tolerance), then a hint
    if one is likely; never the expected value itself, nor a number it could be recovered from."""
    error = (got - want).abs()
    allowed = atol + rtol * want.abs()
    excess = torch.where(torch.isnan(got), torch.full_like(error, float("inf")), error - allowed)
    worst = int(torch.argmax(excess.reshape(-1)))
    index = [int(i) for i in torch.unravel_index(torch.tensor(worst), got.shape)] if got.dim() else []
    n_off = int((excess > 0).sum())
    where = f" at index {index}" if index else ""
    got_worst, want_worst = float(got.reshape(-1)[worst]), float(want.reshape(-1)[worst])
    if got_worst != got_worst:
        how = "is NaN"
    else:
        direction = "too high" if got_worst > want_worst else "too low"
        if want_worst != 0 and (got_worst > 0) != (want_worst > 0):
            direction += ", with the wrong sign"
        beyond = float(error.reshape(-1)[worst]) / max(float(allowed.reshape(-1)[worst]), 1e-300)
        # Only the order of magnitude: with the exact ratio and the direction, the expected value follows.
        how = f"is {direction} (by about 10^{max(0, round(math.log10(beyond)))} times the tolerance)"
    line = f"{name}{where} {how}; {n_off} of {got.numel()} element(s) are outside the tolerance."
    hint = diagnose(got, want, mistakes)
    return f"{line} Likely mistake: {hint}" if hint else line


# How close to 1 a common ratio must be before it counts as "every element is off by one factor"; and how
# close to 1 counts as "right up to rounding", where no factor is worth naming.
_RATIO_RTOL = 1e-3
_ROUNDING_RTOL = 1e-3


def diagnose(
    got: torch.Tensor, want: torch.Tensor, mistakes: Mapping[str, torch.Tensor | float] | None = None
) -> str | None:
    """Name the likely mistake, or return None when none is likely.

    A hint is given only when the evidence points to one cause: a recorded wrong variant that the value
    matches; or, over at least two elements, one common factor of 2, ½ or −1, one common factor of
    another size, or one common offset. A single number, or values within rounding of the expected ones,
    get no hint: one ratio says nothing about its cause. No hint states the expected value, a factor or
    an offset (any of them would give the expected value away).
    """
    got, want = torch.as_tensor(got, dtype=torch.float64), torch.as_tensor(want, dtype=torch.float64)
    for hint, wrong in (mistakes or {}).items():
        wrong = _reference64(wrong)
        if wrong.shape == got.shape and torch.allclose(got, wrong, rtol=1e-4, atol=1e-6):
            return hint
    if got.shape != want.shape or got.numel() < 2 or not torch.isfinite(got).all():
        return None
    nonzero = want.abs() > 1e-8
    if int(nonzero.sum()) >= 2:
        ratios = got[nonzero] / want[nonzero]
        ratio = float(ratios.mean())
        if torch.allclose(ratios, torch.full_like(ratios, ratio), rtol=_RATIO_RTOL):
            if abs(ratio - 1.0) < _ROUNDING_RTOL:
                return None
            for factor, hint in FACTOR_HINTS.items():
                if abs(ratio - factor) < _RATIO_RTOL * abs(factor):
                    return hint
            return "every element is off by the same factor: is a constant factor missing or extra?"
    offsets = got - want
    offset = float(offsets.mean())
    scale = float(want.abs().max()) + 1.0
    if abs(offset) > 1e-5 * scale and torch.allclose(offsets, torch.full_like(offsets, offset), atol=1e-5 * scale):
        return "every element is off by the same amount: is an additive constant missing or extra?"
    return None


def check_statistic(estimate: object, target: float, std_error: float, name: str, *, n_se: float = 5.0) -> None:
    """Assert a random estimate lies within ``n_se`` standard errors of its target.

    The test that calls this fixes its seed, so the outcome is deterministic; ``n_se = 5`` makes a
    correct implementation fail with probability below 1e-6 for any seed.

    Args:
        estimate: the student's estimate (a number or a one-element tensor).
        target: the exact value the estimate is for.
        std_error: the estimate's standard error, derived in the test from the sample size.
        name: how to call the estimate in messages.
        n_se: how many standard errors are allowed.
    """
    value = as_float(estimate, name)
    distance = abs(value - target) / std_error
    if not distance <= n_se:
        raise AssertionError(
            f"{name} is {distance:.1f} standard errors from its target (allowed {n_se:g}); "
            f"a correct estimator this far off is less likely than one in a million."
        )


def check_same_law(sample: object, reference: object, name: str, *, alpha: float = 1e-6) -> None:
    """Assert a sample of a random estimate has the law of a reference sample (two-sample Kolmogorov–Smirnov).

    Mean and variance can be forged (an exact value times noise of the right spread); the whole
    distribution cannot without doing the computation. The critical distance is the asymptotic one,
    √(−ln(α/2)/2)·√((n + m)/(n m)): a correct estimator fails with probability about ``alpha``.

    Args:
        sample: the student's estimates, one per independent call (1-D).
        reference: estimates drawn in the test by the reference recipe, independently (1-D, larger).
        name: how to call the estimates in messages.
        alpha: the false-alarm probability.
    """
    got, want = _to_float64(sample, name).reshape(-1).sort().values, _reference64(reference).reshape(-1).sort().values
    points = torch.cat([got, want])
    distance = (
        torch.searchsorted(got, points, right=True) / len(got) - torch.searchsorted(want, points, right=True) / len(want)
    ).abs().max().item()
    critical = math.sqrt(-math.log(alpha / 2) / 2) * math.sqrt((len(got) + len(want)) / (len(got) * len(want)))
    if not distance <= critical:
        raise AssertionError(
            f"{name} do not have the distribution of the estimator: their empirical distribution function is "
            f"{distance / critical:.1f} times the allowed distance from the estimator's. Are the codes drawn from "
            "the prior and the densities averaged, rather than an exact value with noise added?"
        )


def check_expression(
    value: object, name: str, *, symbols: Sequence[object], points: Sequence[Mapping] = ()
) -> object:
    """Check that ``value`` is a SymPy expression in (a subset of) ``symbols``, finite at ``points``; return it.

    Args:
        value: what the student's cell defined.
        name: how to call it in messages.
        symbols: the SymPy symbols it may contain (a symbol of the same name but other assumptions
            counts as the same).
        points: substitutions {symbol: number} at which it must evaluate to a finite real number.
    """
    import sympy

    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = sympy.sympify(value)
    if not isinstance(value, sympy.Expr):
        raise AssertionError(f"{name} should be a SymPy expression, got {type(value).__name__}.")
    allowed = {str(s): s for s in symbols}
    extra = sorted(str(s) for s in value.free_symbols if str(s) not in allowed)
    if extra:
        raise AssertionError(f"{name} contains symbols it should not: {extra}; use only {sorted(allowed)}.")
    value = value.subs({s: allowed[str(s)] for s in value.free_symbols})
    for point in points:
        number = complex(sympy.N(value.subs(point)))
        if not (math.isfinite(number.real) and abs(number.imag) < 1e-12):
            raise AssertionError(f"{name} is not a finite real number at {point}.")
    return value


def check_equivalent(
    value: object,
    expected: object,
    name: str,
    *,
    symbols: Sequence[object],
    sample: Mapping[object, tuple[float, float]],
    n_points: int = 12,
    rtol: float = 1e-9,
) -> None:
    """Assert that two SymPy expressions are equal for every value of their symbols, in any written form.

    First ``sympy.simplify(value - expected) == 0``; when simplify cannot decide, the two are compared
    at ``n_points`` points drawn (fixed seed) from ``sample``, in 50-digit arithmetic. The message says
    only that they differ, never what was expected.

    Args:
        value: the student's expression.
        expected: the reference, written in the test.
        name: how to call the value in messages.
        symbols: the symbols both may use.
        sample: for each symbol, the interval its spot-check values are drawn from (its domain).
        n_points: how many spot checks.
        rtol: the relative tolerance of a spot check (the arithmetic has 50 digits: only a different
            expression misses it).
    """
    import sympy

    value = check_expression(value, name, symbols=symbols)
    difference = value - expected
    try:
        if sympy.simplify(difference) == 0:
            return
    except (TypeError, ValueError, NotImplementedError):  # an expression simplify cannot handle
        pass
    generator = np.random.default_rng(20261201)
    for _ in range(n_points):
        point = {s: sympy.Float(generator.uniform(*interval), 50) for s, interval in sample.items()}
        got, want = complex(sympy.N(value.subs(point), 50)), complex(sympy.N(expected.subs(point), 50))
        if not abs(got - want) <= rtol * max(1.0, abs(want)):
            raise AssertionError(
                f"{name} is not equivalent to the right expression: it differs, for example, at "
                f"{ {str(s): round(float(v), 3) for s, v in point.items()} }."
            )


def check_gradient_flows(output: torch.Tensor, inputs: Mapping[str, torch.Tensor], name: str) -> None:
    """Assert that a gradient reaches each named input from ``output.sum()``.

    Args:
        output: the tensor the student's function returned.
        inputs: leaf tensors with ``requires_grad=True``, keyed by the name to use in messages.
        name: how to call the output in messages.
    """
    if not output.requires_grad:
        raise AssertionError(
            f"{name} does not require grad: no gradient can flow back. "
            "Was it sampled with torch.normal / .sample(), or passed through .detach(), .item() or numpy?"
        )
    grads = torch.autograd.grad(output.sum(), list(inputs.values()), allow_unused=True)
    for (label, _), grad in zip(inputs.items(), grads):
        if grad is None or not torch.any(grad != 0):
            raise AssertionError(f"No gradient reaches {label} through {name}: is it detached somewhere?")


def check_unchanged(before: torch.Tensor, after: torch.Tensor, name: str) -> None:
    """Assert an input tensor was not modified in place."""
    if not torch.equal(before, after):
        raise AssertionError(f"{name} was modified in place: work on a copy (avoid +=, .add_(), x[...] = ...).")
