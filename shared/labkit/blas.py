"""A fast BLAS for MLX on Linux: call ``use_fast_blas()`` before ``import mlx.core``.

MLX's Linux CPU wheel (``mlx[cpu]``) links a bundled *reference* BLAS (netlib ``libblas.so.3``): a
128 × 784 @ 784 × 400 float32 matmul takes 13 to 25 ms there, against about 1 ms in an optimized BLAS,
and a VAE epoch runs some 20 times slower than in PyTorch. MLX finds its ``cblas_*`` functions by the
dynamic linker's usual rules, which search libraries loaded with ``RTLD_GLOBAL`` before MLX's own
dependencies. So loading an optimized BLAS globally *before* MLX is imported is enough: no
``LD_PRELOAD``, no special kernel.

``use_fast_blas()`` looks, in order, for

1. the library named by ``$LABKIT_BLAS`` (a path or a soname, e.g. the ``mkl`` wheel's
   ``<venv>/lib/libmkl_rt.so.2``);
2. Debian/Ubuntu's OpenBLAS (``apt-get install libopenblas0-pthread``), for x86_64 and aarch64,
   and Fedora's ``/usr/lib64/libopenblas.so.0``;

loads the first one that exports ``cblas_sgemm`` with ``RTLD_GLOBAL``, and returns (and prints) what it
did. On macOS it does nothing: MLX uses Accelerate there. It respects the thread limits the grader sets
(``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS``, ``MKL_NUM_THREADS``), which the library reads when it loads.

``matmul_ms()`` times the matmul above in MLX after the import, and ``check_speed()`` turns that into
one line saying whether the fast path is active, so a notebook can show it.
"""

import ctypes
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ENV_VARIABLE = "LABKIT_BLAS"
# A 128×784 @ 784×400 float32 matmul: about 1 ms with an optimized BLAS on one core, 13-25 ms with the
# reference BLAS. Anything slower than this is the reference BLAS (or a machine too busy to tell).
SLOW_MATMUL_MS = 6.0
MATMUL_SHAPE = (128, 784, 400)

FIX = (
    "To make MLX fast on Linux, install an optimized BLAS and restart the kernel:\n"
    "  - Debian/Ubuntu (root): apt-get install libopenblas0-pthread\n"
    "  - without root (x86_64): pip install mkl, then set LABKIT_BLAS=<venv>/lib/libmkl_rt.so.2\n"
    "    (the file name the wheel installed) before starting Jupyter.\n"
    "MLX still works without it, only about 20 times slower on matrix products."
)


@dataclass(frozen=True)
class BlasStatus:
    """What ``use_fast_blas`` found and did.

    Attributes:
        fast: True when an optimized BLAS is (or, on macOS, needs nothing to be) in place for MLX.
        library: the path of the library loaded, or None.
        message: one or more lines for the notebook's output.
    """

    fast: bool
    library: str | None
    message: str


def candidates() -> list[str]:
    """Library paths or sonames to try, in order: ``$LABKIT_BLAS`` first, then the distributions' OpenBLAS."""
    named = os.environ.get(ENV_VARIABLE, "").strip()
    arch = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}.get(
        platform.machine().lower(), platform.machine().lower()
    )
    multiarch = f"/usr/lib/{arch}-linux-gnu"
    found = [
        f"{multiarch}/openblas-pthread/libopenblas.so.0",
        f"{multiarch}/openblas-openmp/libopenblas.so.0",
        f"{multiarch}/openblas-serial/libopenblas.so.0",
        f"{multiarch}/libopenblas.so.0",
        "/usr/lib64/libopenblas.so.0",
        "/usr/lib64/libopenblasp.so.0",
    ]
    return ([named] if named else []) + found


def loaded_libraries() -> list[str]:
    """The shared libraries mapped into this process (Linux: from /proc/self/maps)."""
    try:
        lines = Path("/proc/self/maps").read_text().splitlines()
    except OSError:
        return []
    paths = {line.split(maxsplit=5)[5] for line in lines if len(line.split(maxsplit=5)) == 6}
    return sorted(p for p in paths if ".so" in p)


def _optimized_loaded() -> str | None:
    """The first optimized BLAS already mapped into the process, if any."""
    for path in loaded_libraries():
        name = Path(path).name.lower()
        if name.startswith(("libopenblas", "libmkl_rt", "libblis")):  # not numpy's scipy_openblas: its symbols are prefixed
            return path
    return None


def _threads() -> str:
    shown = [f"{v}={os.environ[v]}" for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS") if v in os.environ]
    return ", ".join(shown) if shown else "threads: library default"


def use_fast_blas(verbose: bool = True) -> BlasStatus:
    """Load an optimized BLAS globally so that MLX, imported afterwards, uses it. Safe to call twice.

    Args:
        verbose: print the status message.

    Returns:
        A ``BlasStatus``: whether the fast path is in place, the library, and a message that says how to
        fix a slow set-up (install OpenBLAS or MKL, or restart the kernel).
    """
    status = _use_fast_blas()
    if verbose:
        print(status.message)
    return status


def _use_fast_blas() -> BlasStatus:
    if sys.platform == "darwin":
        return BlasStatus(True, None, "BLAS: macOS, MLX uses Apple's Accelerate; nothing to do.")
    if not sys.platform.startswith("linux"):
        return BlasStatus(False, None, f"BLAS: {sys.platform} is not Linux or macOS; left as it is.")
    already = _optimized_loaded()
    if "mlx.core" in sys.modules:
        if already:
            return BlasStatus(True, already, f"BLAS: {already} was loaded before MLX; MLX uses it.")
        return BlasStatus(
            False, None,
            "BLAS: MLX was imported before use_fast_blas(), so it is bound to its slow reference BLAS.\n"
            "Restart the kernel and run the cell that calls labkit.blas.use_fast_blas() before `import mlx.core`.",
        )
    if already:
        return BlasStatus(True, already, f"BLAS: {already} already loaded ({_threads()}).")
    tried = []
    for candidate in candidates():
        if "/" in candidate and not Path(candidate).exists():
            tried.append(f"{candidate} (not found)")
            continue
        try:
            library = ctypes.CDLL(candidate, mode=ctypes.RTLD_GLOBAL)
        except OSError as error:
            tried.append(f"{candidate} ({error})")
            continue
        if not hasattr(library, "cblas_sgemm"):
            tried.append(f"{candidate} (no cblas_sgemm)")
            continue
        return BlasStatus(True, candidate, f"BLAS: loaded {candidate} for MLX ({_threads()}).")
    named = os.environ.get(ENV_VARIABLE)
    detail = f" ${ENV_VARIABLE}={named!r} could not be used." if named else ""
    return BlasStatus(
        False, None,
        f"BLAS: no optimized BLAS found; MLX will use its slow reference BLAS.{detail}\n{FIX}\n"
        "Tried: " + "; ".join(tried),
    )


def matmul_ms(repeats: int = 7) -> float:
    """The fastest of ``repeats`` timings, in milliseconds, of a 128×784 @ 784×400 float32 matmul in MLX.

    Imports MLX (so call ``use_fast_blas`` first). The fastest run is the least disturbed by other work.
    """
    import mlx.core as mx

    m, k, n = MATMUL_SHAPE
    a = mx.random.normal((m, k), key=mx.random.key(0))
    b = mx.random.normal((k, n), key=mx.random.key(1))
    mx.eval(a, b, a @ b)
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        mx.eval(a @ b)
        best = min(best, time.perf_counter() - started)
    return 1000 * best


def check_speed(verbose: bool = True) -> bool:
    """Time MLX's matmul and say whether the fast BLAS path is active; return True if it is."""
    if sys.platform == "darwin":
        fast, line = True, "MLX speed check: macOS (Accelerate)."
    else:
        ms = matmul_ms()
        fast = ms < SLOW_MATMUL_MS
        verdict = "fast BLAS active" if fast else f"SLOW: the reference BLAS (or a very busy machine).\n{FIX}"
        line = f"MLX speed check: 128×784 @ 784×400 matmul in {ms:.2f} ms: {verdict}"
    if verbose:
        print(line)
    return fast
