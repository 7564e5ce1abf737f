"""The benchmark samplers of notebook 4.2 (section 7) and its exact mixing curves (section 8) are correct.

They are read from the text twin itself, so the test checks what the notebook and
``benchmarks/thrml_sweeps.py`` run. Correctness only: speed belongs to the benchmark script, never to
a test. References are independent of the notebook: distributions by enumeration, one sweep's exact
distribution from transition matrices built state by state.
"""

import math
import random
import sys
import time
from pathlib import Path

import jupytext
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from notebook_code import load_definitions  # noqa: E402

from labkit import potts  # noqa: E402

jax = pytest.importorskip("jax")
import jax.numpy as jnp  # noqa: E402

TWIN = ROOT / "labs" / "04-thrml-ebm" / "02-samplers.py"
NAMES = ("python_sweep", "sublattices", "neighbour_tables", "NumpyCheckerboard", "jax_checkerboard",
         "python_uniforms", "numpy_uniforms", "jax_uniforms", "thrml_gumbels", "exact_sweeps")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    notebook = tmp_path_factory.mktemp("lab4") / "02-samplers.ipynb"
    jupytext.write(jupytext.read(TWIN, fmt="py:percent"), notebook)
    namespace = {"np": np, "jax": jax, "jnp": jnp, "math": math, "random": random, "time": time,
                 "PottsParams": potts.PottsParams, "compiler_options": potts.compiler_options}
    return load_definitions(notebook, NAMES, namespace)


def log_potential(states, params):
    """−E(x) of states (N, H, W) by sums over pixels and edges (an independent reference)."""
    b, W_h, W_v = params
    H, W = states.shape[1:]
    rows, cols = np.indices((H, W))
    return np.array([b[rows, cols, s].sum() + W_h[s[:, :-1], s[:, 1:]].sum() + W_v[s[:-1, :], s[1:, :]].sum()
                     for s in states])


def exact(params):
    H, W, K = params.shape
    states = potts.all_states(H, W, K)
    logp = log_potential(states, params)
    p = np.exp(logp - logp.max())
    return states, p / p.sum()


def one_sweep_matrix(params, order):
    """The transition matrix of one sweep resampling the pixels (flat indices) in `order`, state by state."""
    H, W, K = params.shape
    states, p = exact(params)
    n = len(states)
    index = {tuple(s.ravel()): i for i, s in enumerate(states)}
    T = np.eye(n)
    for pixel in order:
        site = np.zeros((n, n))
        for i, s in enumerate(states):
            variants = [s.ravel().copy() for _ in range(K)]
            for k, v in enumerate(variants):
                v[pixel] = k
            j = [index[tuple(v)] for v in variants]
            site[i, j] = p[j] / p[j].sum()
        T = T @ site
    return T


def tv_allowed(p, n):
    """The sampling floor of TV for n draws, plus 5 of its standard deviations ≈ sqrt((1 − 2/π)/(4n))."""
    return potts.tv_floor(p, n) + 5 * math.sqrt((1 - 2 / math.pi) / (4 * n))


def run_python(lab, params, starts, n_sweeps, seed):
    lists, rng = [q.tolist() for q in params], random.Random(seed)
    out = []
    for s in starts:
        s = s.tolist()
        for _ in range(n_sweeps):
            lab["python_sweep"](s, *lists, rng)
        out.append(s)
    return np.array(out, np.uint8)


def run_numpy(lab, params, starts, n_sweeps, seed):
    return lab["NumpyCheckerboard"](params).run(starts, n_sweeps, np.random.default_rng(seed))


def run_jax(lab, params, starts, n_sweeps, seed):
    H, W, K = params.shape
    sampler = lab["jax_checkerboard"](H, W, K, n_sweeps)
    return np.asarray(sampler(*params, jax.random.key(seed), starts))


RUNNERS = {"python": run_python, "numpy": run_numpy, "jax": run_jax}


@pytest.mark.parametrize("name", list(RUNNERS))
def test_types_shapes_and_input_untouched(lab, name):
    params = potts.random_params(3, 4, 3, seed=2)
    starts = np.random.default_rng(0).integers(0, 3, (5, 3, 4)).astype(np.uint8)
    before = starts.copy()
    out = RUNNERS[name](lab, params, starts, 2, seed=1)
    assert out.shape == (5, 3, 4) and out.dtype == np.uint8
    assert out.min() >= 0 and out.max() < 3
    np.testing.assert_array_equal(starts, before)


@pytest.mark.parametrize("name", list(RUNNERS))
@pytest.mark.parametrize("shape", [(2, 3, 4), (3, 3, 3), (1, 4, 3)])
def test_stationary_distribution_matches_enumeration(lab, name, shape):
    H, W, K = shape
    params = potts.random_params(H, W, K, scale=0.8, seed=H * W + K)
    states, p = exact(params)
    n = 3_000 if name == "python" else 20_000
    starts = np.random.default_rng(7).integers(0, K, (n, H, W)).astype(np.uint8)
    out = RUNNERS[name](lab, params, starts, 12, seed=3)
    tv = potts.total_variation(p, potts.empirical_distribution(out, K))
    assert tv < tv_allowed(p, n), f"{name} on {shape}: TV {tv:.3f}, allowed {tv_allowed(p, n):.3f}"


@pytest.mark.parametrize("name, order", [("python", "raster"), ("numpy", "checkerboard"), ("jax", "checkerboard")])
def test_one_sweep_is_the_right_chain(lab, name, order):
    """From one fixed state, one sweep's outcome has the distribution of the right scan order (raster or
    colour 0 then colour 1), and not that of the other order."""
    H, W, K = 2, 3, 2
    params = potts.PottsParams(b=np.random.default_rng(1).normal(0, 0.3, (H, W, K)),
                               W_h=np.array([[1.0, -1.0], [-1.0, 1.0]]), W_v=np.array([[0.8, -0.6], [-0.6, 0.8]]))
    colours = (np.indices((H, W)).sum(0) % 2).ravel()
    orders = {"raster": list(range(H * W)),
              "checkerboard": [*np.flatnonzero(colours == 0), *np.flatnonzero(colours == 1)]}
    start = np.array([[0, 1, 0], [1, 0, 1]], np.uint8)  # a checkerboard pattern: the orders disagree most
    start_index = int(potts.state_index(start, K))
    want = one_sweep_matrix(params, orders[order])[start_index]
    other = one_sweep_matrix(params, orders["checkerboard" if order == "raster" else "raster"])[start_index]
    n = 20_000
    starts = np.repeat(start[None], n, axis=0)
    got = potts.empirical_distribution(RUNNERS[name](lab, params, starts, 1, seed=5), K)
    assert potts.total_variation(want, got) < tv_allowed(want, n)
    assert potts.total_variation(want, other) > 3 * tv_allowed(want, n), "the two orders must be distinguishable here"
    assert potts.total_variation(other, got) > tv_allowed(want, n)


def test_exact_sweeps_matches_transition_matrices(lab):
    H, W, K = 2, 2, 3
    params = potts.random_params(H, W, K, scale=1.0, seed=4)
    _, p = exact(params)
    order = [0, 3, 1, 2]
    start = np.array([[2, 0], [1, 2]])
    start_index = int(potts.state_index(start, K))
    curves = lab["exact_sweeps"](p, H, W, K, order, 3, start)
    assert curves.shape == (4, K ** (H * W))
    T = one_sweep_matrix(params, order)
    q = np.eye(len(p))[start_index]
    for s in range(4):
        np.testing.assert_allclose(curves[s], q, atol=1e-12)
        q = q @ T
    # the reference itself: p is stationary for one sweep
    np.testing.assert_allclose(p @ T, p, atol=1e-12)


def test_rooflines_draw_and_return_finite_values(lab):
    assert 0 < lab["python_uniforms"](100, random.Random(0)) < 100
    lab["numpy_uniforms"]([(2, 3, 3)], 2, np.random.default_rng(0))
    total = float(lab["jax_uniforms"]([(4, 3, 3), (4, 2, 2)], 3)(jax.random.key(0)))
    assert 0 < total < 3 * (36 + 16)  # a sum of 3 · 52 uniforms in (0, 1)
    per_chain = np.asarray(lab["thrml_gumbels"]([5, 4], 4, 3)(jax.random.split(jax.random.key(0), 6)))
    assert per_chain.shape == (6,) and np.isfinite(per_chain).all()
