"""Chain-sweeps per second of the three Gibbs samplers of lab 4 (04-thrml-ebm), measured in one run.

    python benchmarks/thrml_sweeps.py [--size 28] [--batch 64] [--levels 4] [--sweeps 20]

The samplers are the notebook's own: ``gibbs_site_update`` with the provided ``naive_sweep`` (one chain,
pixel by pixel), ``block_gibbs_sweep`` (numpy checkerboard, vectorized over pixels and chains), both read
from ``source/04-thrml-ebm/02-samplers.ipynb`` (solutions included, so there is no second copy to
drift), and THRML's block Gibbs sampler through ``labkit.potts.ThrmlGrid`` (``jax.jit(jax.vmap(...))``
over chains). A chain-sweep updates every pixel of one chain once. THRML's compile time is reported
apart; each rate is the best of several repeats, the least disturbed one, because the time is
wall-clock and other programs on the machine slow it down (the load average is printed).

Target (issue #5): the vectorized and THRML samplers at least 40× faster than the naive sweep per
chain-sweep at batch 64 on 28×28.
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
import numpy as np  # noqa: E402

from autograder import config  # noqa: E402
from labkit import potts  # noqa: E402
from notebook_code import load_definitions  # noqa: E402

NOTEBOOK = config.SOURCE / "04-thrml-ebm" / "02-samplers.ipynb"
DEFINITIONS = ("conditional_logits", "gibbs_site_update", "naive_sweep", "checkerboard", "block_gibbs_sweep")


def pure_python_sweep(x: list, b: list, W_h: list, W_v: list, rng: random.Random) -> list:
    """A tighter naive baseline: the same raster-order single-site sweep on Python lists, no numpy per pixel."""
    H, W, K = len(b), len(b[0]), len(b[0][0])
    for r in range(H):
        row = x[r]
        for s in range(W):
            theta = list(b[r][s])
            if s > 0:
                left = W_h[row[s - 1]]
                theta = [t + left[k] for k, t in enumerate(theta)]
            if s < W - 1:
                c = row[s + 1]
                theta = [t + W_h[k][c] for k, t in enumerate(theta)]
            if r > 0:
                up = W_v[x[r - 1][s]]
                theta = [t + up[k] for k, t in enumerate(theta)]
            if r < H - 1:
                c = x[r + 1][s]
                theta = [t + W_v[k][c] for k, t in enumerate(theta)]
            m = max(theta)
            p = [math.exp(t - m) for t in theta]
            u = rng.random() * sum(p)
            k, acc = 0, p[0]
            while u >= acc and k < K - 1:
                k += 1
                acc += p[k]
            row[s] = k
    return x


def best_rate(run, chain_sweeps: int, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(run())
        best = min(best, time.perf_counter() - start)
    return chain_sweeps / best


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=28)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--levels", type=int, default=4)
    parser.add_argument("--sweeps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    size, batch, K, sweeps = args.size, args.batch, args.levels, args.sweeps

    lab = load_definitions(NOTEBOOK, DEFINITIONS, {"np": np, "PottsParams": potts.PottsParams, "sample_categorical": potts.sample_categorical})
    params = potts.random_params(size, size, K, scale=0.5, seed=0)
    colours = lab["checkerboard"](size, size)
    rng = np.random.default_rng(0)
    x0 = rng.integers(0, K, size=(batch, size, size)).astype(np.uint8)

    naive_sweeps = max(2, sweeps // 10)
    naive = best_rate(lambda: [lab["naive_sweep"](x0[0], params, rng) for _ in range(naive_sweeps)],
                      naive_sweeps, max(2, args.repeats // 2))

    lists = [p.tolist() for p in params]
    state = x0[0].tolist()
    py_rng = random.Random(0)
    pure = best_rate(lambda: [pure_python_sweep(state, *lists, py_rng) for _ in range(naive_sweeps)],
                     naive_sweeps, max(2, args.repeats // 2))

    u = rng.random((sweeps, 2, batch, size, size))

    def numpy_run():
        x = x0
        for s in range(sweeps):
            x = lab["block_gibbs_sweep"](x, params, colours, u[s])
        return x

    vectorized = best_rate(numpy_run, batch * sweeps, args.repeats)

    sampler = potts.ThrmlGrid(size, size, K).sampler(sweeps)
    keys = jax.random.split(jax.random.key(0), batch)
    start = time.perf_counter()
    jax.block_until_ready(sampler(*params, keys, x0))
    compile_s = time.perf_counter() - start
    thrml_rate = best_rate(lambda: sampler(*params, keys, x0), batch * sweeps, args.repeats)

    print(f"{size}x{size} grid, K = {K}, batch {batch}, {sweeps} sweeps per call; "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"  naive single-site sweep (1 chain)  : {naive:10,.0f} chain-sweeps/s  (the notebook's, numpy per pixel)")
    print(f"  naive sweep on Python lists (1 ch.) : {pure:10,.0f} chain-sweeps/s  ({pure / naive:6.1f}x naive; a tighter baseline)")
    print(f"  numpy checkerboard block sweep      : {vectorized:10,.0f} chain-sweeps/s  ({vectorized / naive:6.0f}x naive)")
    print(f"  THRML block Gibbs (jit+vmap)        : {thrml_rate:10,.0f} chain-sweeps/s  ({thrml_rate / naive:6.0f}x naive)"
          f"  compile {compile_s:.1f} s apart")
    ok = vectorized / naive >= 40 and thrml_rate / naive >= 40
    print(f"target (both >= 40x the naive sweep): {'met' if ok else 'NOT met'}; "
          f"against the list baseline: numpy {vectorized / pure:.0f}x, THRML {thrml_rate / pure:.0f}x")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
