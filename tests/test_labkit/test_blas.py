"""labkit.blas: each case runs in a fresh Python, so the order of `use_fast_blas` and `import mlx.core` is controlled."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from labkit import blas

LABKIT_ROOT = str(Path(blas.__file__).resolve().parent.parent)
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the BLAS swap is for Linux")
needs_openblas = pytest.mark.skipif(
    not any(Path(c).exists() for c in blas.candidates() if "/" in c),
    reason="no system OpenBLAS here (apt-get install libopenblas0-pthread)",
)
needs_mlx = pytest.mark.skipif(subprocess.run([sys.executable, "-c", "import mlx.core"]).returncode != 0, reason="MLX not installed")

PROBE = """
import json, os, sys
sys.path.insert(0, {root!r})
from labkit import blas
{before}
status = blas.use_fast_blas(verbose=False)
{after}
print(json.dumps({{"fast": status.fast, "library": status.library, "message": status.message,
                  "loaded": [p for p in blas.loaded_libraries() if status.library and p == os.path.realpath(status.library)],
                  "ms": blas.matmul_ms() if {time} else None}}))
"""


def probe(before: str = "", after: str = "", time: bool = False, env: dict | None = None) -> dict:
    code = PROBE.format(root=LABKIT_ROOT, before=before, after=after, time=time)
    base = {"PATH": "/usr/bin:/bin", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**base, **(env or {})}, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@linux_only
@needs_openblas
def test_loads_openblas_globally_before_mlx():
    result = probe()
    assert result["fast"] and "openblas" in result["library"].lower()
    assert result["loaded"], "the library is not mapped into the process"
    assert "OPENBLAS_NUM_THREADS=1" in result["message"]


@linux_only
@needs_openblas
@needs_mlx
def test_fast_path_makes_the_mlx_matmul_faster():
    """In one run of each: with the library loaded first, the matmul is several times faster."""
    fast = probe(after="import mlx.core", time=True)
    slow = probe(before="import mlx.core", time=True)
    assert fast["fast"] and not slow["fast"]
    assert "Restart the kernel" in slow["message"]
    assert fast["ms"] * 3 < slow["ms"], (fast["ms"], slow["ms"])
    assert fast["ms"] < blas.SLOW_MATMUL_MS <= slow["ms"]


@linux_only
def test_reports_how_to_fix_a_missing_library(monkeypatch):
    monkeypatch.setattr(blas, "candidates", lambda: ["/nonexistent/libopenblas.so.0"])
    monkeypatch.setattr(blas, "_optimized_loaded", lambda: None)
    monkeypatch.delitem(sys.modules, "mlx.core", raising=False)
    status = blas.use_fast_blas(verbose=False)
    assert not status.fast and status.library is None
    assert "apt-get install libopenblas0-pthread" in status.message and "pip install mkl" in status.message
    assert "/nonexistent/libopenblas.so.0 (not found)" in status.message


@linux_only
def test_labkit_blas_names_a_library_that_is_tried_first(monkeypatch):
    monkeypatch.setenv(blas.ENV_VARIABLE, "/opt/vendor/libmkl_rt.so.2")
    assert blas.candidates()[0] == "/opt/vendor/libmkl_rt.so.2"
    result = probe(env={blas.ENV_VARIABLE: "libm.so.6"})  # a real library without cblas_sgemm: skipped, then OpenBLAS
    assert "libm.so.6" not in (result["library"] or "")


def test_macos_needs_nothing(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    status = blas.use_fast_blas(verbose=False)
    assert status.fast and "Accelerate" in status.message
