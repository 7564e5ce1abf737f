"""Chain-sweeps per second of lab 4's Gibbs samplers (04-thrml-ebm), each against its own roofline, in one run.

    python benchmarks/thrml_sweeps.py [--size 28] [--batch 64] [--levels 4] [--sweeps 20] [--repeats 5]

The four samplers are notebook 4.2's section 7: the naive raster sweep in plain Python
(``python_sweep``, one chain), a tight numpy checkerboard (``NumpyCheckerboard``: one sublattice at a
time, float32, one uniform per pixel), a jitted JAX checkerboard (``jax_checkerboard``: the same, with
THRML's threefry generator) and THRML's block Gibbs sampler through ``labkit.potts.ThrmlGrid``
(``jax.jit(jax.vmap(...))`` over chains). The reference ``block_gibbs_sweep`` (the students' TODO,
written for clarity) is timed beside them. All of it, and the timing code, is read from
``source/04-thrml-ebm/02-samplers.ipynb`` (``python -m autograder twin labs/04-thrml-ebm/02-samplers.py``
rebuilds it), so there is no second copy to drift.

Each sampler's **roofline** is the rate at which it could merely draw the random numbers its own method
needs, measured in the same run: one ``random.random()`` per pixel in a Python loop; one float32 numpy
uniform per pixel; one threefry uniform per pixel; THRML's key splits and K Gumbel numbers per pixel
(``jax.random.categorical``). A chain-sweep updates every pixel of one chain once. JAX compile times are
reported apart; each rate is the best of several repeats, the samplers taking turns in each round, because the time is
wall-clock and other programs on the machine slow it down (the load average is printed).

Target (issue 16): the best vectorised sampler (numpy or JAX) at least as fast as THRML at batch 64 on
28×28. The exit status is 0 when it is met.
"""

import argparse
import math
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "shared")]

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from autograder import config  # noqa: E402
from labkit import potts  # noqa: E402
from notebook_code import load_definitions  # noqa: E402

NOTEBOOK = config.SOURCE / "04-thrml-ebm" / "02-samplers.ipynb"
SAMPLERS = ("python_sweep", "sublattices", "neighbour_tables", "NumpyCheckerboard", "jax_checkerboard")
ROOFLINES = ("python_uniforms", "numpy_uniforms", "jax_uniforms", "thrml_gumbels")
TIMING = ("best_times", "first_call", "measure_naive", "measure_vectorised", "measure_yours", "show_table")
STUDENT = ("conditional_logits", "gibbs_site_update", "naive_sweep", "checkerboard", "block_gibbs_sweep")
VECTORISED = ("numpy checkerboard", "JAX checkerboard")


def load_lab() -> dict:
    """The notebook's samplers, rooflines and timing code, run in a namespace holding its imports."""
    namespace = {
        "np": np, "jax": jax, "jnp": jnp, "math": math, "random": random, "time": time,
        "PottsParams": potts.PottsParams, "ThrmlGrid": potts.ThrmlGrid, "random_params": potts.random_params,
        "sample_categorical": potts.sample_categorical, "compiler_options": potts.compiler_options,
    }
    return load_definitions(NOTEBOOK, SAMPLERS + ROOFLINES + TIMING + STUDENT, namespace)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=28)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--levels", type=int, default=4)
    parser.add_argument("--sweeps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    size, batch, K, sweeps = args.size, args.batch, args.levels, args.sweeps

    lab = load_lab()
    naive = lab["measure_naive"](size, K, max(2, sweeps // 10), args.repeats)
    rows = {**naive, **lab["measure_vectorised"](size, K, batch, sweeps, args.repeats),
            **lab["measure_yours"](size, K, batch, max(2, sweeps // 5), max(2, args.repeats // 2))}

    print(f"{size}x{size} grid, K = {K}, batch {batch}, {sweeps} sweeps per call; "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; JAX {jax.__version__}")
    lab["show_table"](size, batch, rows, rows["naive sweep, plain Python"][0])
    best = max(VECTORISED, key=lambda name: rows[name][0])
    ratio = rows[best][0] / rows["THRML"][0]
    ok = ratio >= 1.0
    print(f"target (best vectorised sampler >= 1x THRML): {'met' if ok else 'NOT met'}: {best} at {ratio:.2f}x THRML")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
