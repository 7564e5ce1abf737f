# %% [markdown]
# # Lab 4.2: Three Gibbs samplers, checked against the exact distribution
#
# A Potts grid is easy to write down and impossible to normalise: Z sums over $4^{784}$ states. We
# sample it instead, with Gibbs sampling, three ways: a naive pixel-by-pixel sweep (the baseline), a
# vectorized checkerboard block sampler, and THRML's block Gibbs sampler. Then we test all three
# against the *exact* Boltzmann distribution of a grid small enough to enumerate, use THRML to inpaint
# half a digit, and measure what each costs.
#
# **Learning objectives.** By the end you can
# 1. derive the conditional of one pixel given its neighbours (the "local conditional logits");
# 2. write a single-site Gibbs update and a checkerboard block update, and say why the block update
#    must use the *new* values of the first colour when it updates the second;
# 3. build a THRML program (nodes, blocks, factors, conditionals, schedule) and run it batched with
#    `jax.vmap`, with some pixels clamped;
# 4. validate a sampler by total variation against exact enumeration, relative to the sampling floor;
# 5. benchmark samplers fairly (compile time apart, chain-sweeps per second) and compare to a roofline.
#
# **Prerequisites.** Notebook 4.1 (the model, its conventions and the colourings); numpy broadcasting;
# a little JAX (`jax.random`, `jax.jit`, `jax.vmap`).
#
# **Estimated time.** 60 minutes.

# %%
import time

import jax
import matplotlib.pyplot as plt
import numpy as np
from tqdm.auto import tqdm

from labkit import runtime, seed_everything
from labkit.checks import as_float, check_array, check_close
from labkit.mnist import load_mnist
from labkit.plots import label, use_course_style
from labkit.potts import (
    PottsParams,
    ThrmlGrid,
    all_states,
    empirical_distribution,
    exact_distribution,
    random_params,
    sample_categorical,
    state_index,
    total_variation,
    tv_floor,
)

seed_everything(0)
use_course_style()
print(runtime.describe())
print("JAX", jax.__version__, "on", jax.devices()[0].platform)

# %% [markdown]
# ## 1. The conditional of one pixel
#
# **Why it matters.** Gibbs sampling never needs Z: it only ever draws one pixel from its conditional
# given the rest, and in that ratio Z cancels. With the energy of notebook 4.1, every term that does
# not involve pixel $i$ cancels too, and what is left is a softmax over its K levels:
#
# $$
# p(x_i = k \mid x_{-i}) = \frac{e^{\theta_i[k]}}{\sum_{l} e^{\theta_i[l]}},\qquad
# \theta_i[k] = b_i[k] + W_h[x_{\text{left}}, k] + W_h[k, x_{\text{right}}]
#              + W_v[x_{\text{up}}, k] + W_v[k, x_{\text{down}}],
# $$
#
# where a neighbour that does not exist (at the border) contributes nothing. Note the *position* of
# k: pixel $i$ is the **right** end of the edge to its left neighbour, so its level is the **second**
# index of $W_h$ there, and the **first** index on the edge to its right neighbour. These $\theta_i$
# are the **local conditional logits**; $\theta_i[k] = -E(x_{i \leftarrow k}) + \text{const}$.

# %% nbgrader={"grade_id": "conditional-logits", "solution": true}
def conditional_logits(x: np.ndarray, params: PottsParams) -> np.ndarray:
    """The local conditional logits θ_i[k] of every pixel given its neighbours in x, vectorized.

    Args:
        x: integer levels, shape (..., H, W).
        params: PottsParams(b, W_h, W_v), b of shape (H, W, K), W_h and W_v of shape (K, K).

    Returns:
        Floating array of shape (..., H, W, K): θ_i[k] = b_i[k] + the coupling terms above, for
        every pixel i of every state (the value of x_i itself does not enter θ_i).
    """
    ### BEGIN SOLUTION
    b, W_h, W_v = (np.asarray(p, dtype=np.float64) for p in params)
    x = np.asarray(x).astype(np.intp)
    logits = np.broadcast_to(b, x.shape + b.shape[-1:]).copy()
    logits[..., :, 1:, :] += W_h[x[..., :, :-1], :]  # left neighbour a: W_h[a, k]
    logits[..., :, :-1, :] += W_h.T[x[..., :, 1:], :]  # right neighbour c: W_h[k, c]
    logits[..., 1:, :, :] += W_v[x[..., :-1, :], :]  # upper neighbour: W_v[a, k]
    logits[..., :-1, :, :] += W_v.T[x[..., 1:, :], :]  # lower neighbour: W_v[k, c]
    return logits
    ### END SOLUTION


# %% nbgrader={"grade_id": "conditional-logits-visible", "points": 3}
# Reference: a conditional is a ratio of joint probabilities, θ_i[k] − θ_i[0] = log p(x_{i←k}) − log p(x_{i←0}),
# with p the exact distribution of this 2x3 grid (all 729 states, energies from THRML's own factors).
_p = random_params(2, 3, 3, seed=3)
_x = np.array([[0, 2, 1], [1, 1, 0]], dtype=np.uint8)
_theta = check_array(conditional_logits(_x, _p), "conditional_logits(x, params)", shape=(2, 3, 3))
_variants = np.repeat(_x[None, None], 3, axis=1).repeat(6, axis=0)  # (pixel, k, H, W)
for _i in range(6):
    for _k in range(3):
        _variants[_i, _k].reshape(-1)[_i] = _k
_log_p = np.log(exact_distribution(_p))[state_index(_variants, 3)].reshape(2, 3, 3)
check_close(_theta - _theta[..., :1], _log_p - _log_p[..., :1], "θ_i[k] − θ_i[0]", rtol=1e-4, atol=1e-4)
print("conditional_logits: visible tests pass.")

# %% nbgrader={"grade_id": "conditional-logits-hidden", "points": 6}
# Hidden tests for conditional_logits run when your notebook is graded.
### BEGIN HIDDEN TESTS
def _brute_logits(state, b, W_h, W_v, transpose=False, wrap=False, sign=1.0, skip_vertical=False):
    """θ by a loop over pixels and their neighbours, with switches for common mistakes."""
    H, W, K = b.shape
    out = np.zeros((H, W, K))
    for r in range(H):
        for s in range(W):
            t = b[r, s].astype(np.float64).copy()
            Wh, Wv = (W_h.T, W_v.T) if transpose else (W_h, W_v)
            if s > 0 or wrap:
                t += Wh[state[r, s - 1], :]
            if s < W - 1 or wrap:
                t += Wh[:, state[r, (s + 1) % W]]
            if not skip_vertical:
                if r > 0 or wrap:
                    t += Wv[state[r - 1, s], :]
                if r < H - 1 or wrap:
                    t += Wv[:, state[(r + 1) % H, s]]
            out[r, s] = sign * t if sign > 0 else -t + 2 * b[r, s]
    return out


def _centred(t):
    t = np.asarray(t, dtype=np.float64)
    return t - t[..., :1]


_rng = np.random.default_rng(31)
for (_H, _W, _K, _batch) in [(3, 4, 4, (5,)), (4, 3, 3, ()), (2, 5, 2, (2, 3)), (1, 4, 4, (2,))]:
    _p = random_params(_H, _W, _K, scale=1.0, seed=7 * _H + _W)
    _x = _rng.integers(0, _K, size=(*_batch, _H, _W)).astype(np.uint8)
    _flat = _x.reshape(-1, _H, _W)
    _x_before = _x.copy()
    _ref = lambda **kw: np.stack([_brute_logits(s, *_p, **kw) for s in _flat]).reshape(*_batch, _H, _W, _K)
    _got = check_array(conditional_logits(_x, _p), f"conditional_logits on {_batch} x {_H}x{_W}",
                       shape=(*_batch, _H, _W, _K))
    check_close(
        _centred(_got), _centred(_ref()), f"θ_i[k] − θ_i[0] on {_H}x{_W} grids, K={_K}", rtol=1e-4, atol=1e-4,
        mistakes={
            "couplings transposed: the pixel's level is the second index of W_h on the edge to its left":
                _centred(_ref(transpose=True)),
            "the grid wraps around (np.roll)": _centred(_ref(wrap=True)),
            "the wrong sign on the couplings (energies instead of log-potentials)": _centred(_ref(sign=-1.0)),
            "vertical neighbours missing": _centred(_ref(skip_vertical=True)),
        },
    )
    check_close(_x, _x_before, "the input x of conditional_logits (it must not be modified)")
print("conditional_logits: hidden tests pass.")
### END HIDDEN TESTS

# %% [markdown]
# **Think:** the test compares $\theta_i[k] - \theta_i[0]$, not $\theta_i$ itself. Why is any
# per-pixel constant harmless, and which constant does the relation $\theta_i[k] = -E(x_{i\leftarrow k})
# + \text{const}$ hide?

# %% [markdown]
# ## 2. The naive sampler: one pixel at a time
#
# **Why it matters.** The simplest correct sampler visits the pixels in raster order and redraws each
# from its conditional, *using the values already updated in this sweep*. It is exact, and slow: 784
# small Python steps per sweep. It is the baseline every faster sampler must match in distribution.
#
# To make a random draw testable we separate the randomness from the rule: a draw from the softmax of
# $\theta$ is the smallest level k with $u < \sum_{l \le k} \operatorname{softmax}(\theta)_l$ for a
# uniform $u \in [0, 1)$ (inverse-CDF sampling). `labkit.potts.sample_categorical(logits, u)` does that
# for you. Compute only this one pixel's K logits (O(K) work), not the whole grid's.

# %% nbgrader={"grade_id": "gibbs-site-update", "solution": true}
def gibbs_site_update(x: np.ndarray, params: PottsParams, r: int, s: int, u: float) -> int:
    """Draw a new level for pixel (r, s) from p(x_rs | its neighbours in x), by inverse CDF with u.

    Args:
        x: one state, integer levels of shape (H, W) (read only: do not modify it).
        params: PottsParams(b, W_h, W_v), b of shape (H, W, K), W_h and W_v of shape (K, K).
        r, s: the row and column of the pixel.
        u: a uniform number in [0, 1).

    Returns:
        The new level, an int in {0, …, K − 1}: the smallest k with u < CDF(k).
    """
    ### BEGIN SOLUTION
    b, W_h, W_v = params
    H, W = x.shape
    theta = np.array(b[r, s], dtype=np.float64)
    if s > 0:
        theta += W_h[x[r, s - 1], :]
    if s < W - 1:
        theta += W_h[:, x[r, s + 1]]
    if r > 0:
        theta += W_v[x[r - 1, s], :]
    if r < H - 1:
        theta += W_v[:, x[r + 1, s]]
    return int(sample_categorical(theta, u))
    ### END SOLUTION


# %% nbgrader={"grade_id": "gibbs-site-update-visible", "points": 2}
_p = PottsParams(b=np.zeros((1, 2, 2)), W_h=np.array([[3.0, 0.0], [0.0, 0.0]]), W_v=np.zeros((2, 2)))
_x = np.array([[0, 1]], dtype=np.uint8)
# Pixel (0, 1) has left neighbour 0, so θ = (W_h[0, 0], W_h[0, 1]) = (3, 0): p(0) = e³ / (e³ + 1) ≈ 0.953.
for _u, _want in [(0.5, 0), (0.94, 0), (0.96, 1)]:
    _new = gibbs_site_update(_x, _p, 0, 1, _u)
    check_close(as_float(_new, "gibbs_site_update(...)"), _want, f"gibbs_site_update with u = {_u}")
check_close(_x, [[0, 1]], "x after gibbs_site_update (it must not be modified)")
print("gibbs_site_update: visible tests pass.")

# %% nbgrader={"grade_id": "gibbs-site-update-hidden", "points": 4}
# Hidden tests for gibbs_site_update run when your notebook is graded.
### BEGIN HIDDEN TESTS
def _site_theta(state, b, W_h, W_v, r, s):
    """θ of one pixel by looping over the four offsets (an independent reference)."""
    H, W, K = b.shape
    t = b[r, s].astype(np.float64).copy()
    for dr, ds, first in [(0, -1, True), (0, 1, False), (-1, 0, True), (1, 0, False)]:
        rr, ss = r + dr, s + ds
        if 0 <= rr < H and 0 <= ss < W:
            M = W_h if dr == 0 else W_v
            t += M[state[rr, ss], :] if first else M[:, state[rr, ss]]
    return t


def _inverse_cdf(theta, u):
    p = np.exp(theta - theta.max())
    cdf = np.cumsum(p / p.sum())
    return int(np.searchsorted(cdf[:-1], u, side="right")), cdf


_rng = np.random.default_rng(41)
_n_checked = 0
for (_H, _W, _K) in [(3, 4, 4), (4, 3, 3), (2, 2, 2), (1, 5, 4)]:
    _p = random_params(_H, _W, _K, scale=1.2, seed=_H + 10 * _W)
    for _trial in range(8):
        _x = _rng.integers(0, _K, size=(_H, _W)).astype(np.uint8)
        for _r in range(_H):
            for _s in range(_W):
                _theta = _site_theta(_x, *_p, _r, _s)
                _u = float(_rng.uniform())
                _want, _cdf = _inverse_cdf(_theta, _u)
                if np.min(np.abs(_cdf - _u)) < 1e-6:
                    continue  # too close to a boundary for float32 arithmetic to agree
                _x_before = _x.copy()
                _got = gibbs_site_update(_x, _p, _r, _s, _u)
                _value = as_float(_got, f"gibbs_site_update(x, params, {_r}, {_s}, u)")
                if _value != _want:
                    _hint = ""
                    if _value == int(np.argmax(_theta)):
                        _hint = " It equals the most likely level: is u used to sample at all?"
                    elif _value == _inverse_cdf(-_theta, _u)[0]:
                        _hint = " It matches softmax(−θ): check the sign convention (weights are log-potentials)."
                    elif _value == _inverse_cdf(_site_theta(_x, _p.b, _p.W_h.T, _p.W_v.T, _r, _s), _u)[0]:
                        _hint = " It matches transposed couplings: the pixel is the second index of W_h on its left edge."
                    raise AssertionError(
                        f"gibbs_site_update on a {_H}x{_W} grid (K={_K}) at pixel ({_r}, {_s}) "
                        f"returned {_value:g}, expected {_want}.{_hint}"
                    )
                check_close(_x, _x_before, "x after gibbs_site_update (it must not be modified)")
                _n_checked += 1
assert _n_checked > 200, "too few pixels were checked"
print("gibbs_site_update: hidden tests pass.")
### END HIDDEN TESTS

# %% [markdown]
# The naive sweep visits every pixel once, in raster order, and writes each new level back before
# moving on. (It is provided: it only loops over your update.)

# %%
def naive_sweep(x: np.ndarray, params: PottsParams, rng: np.random.Generator) -> np.ndarray:
    """One sequential Gibbs sweep of one state (H, W); returns a new uint8 array."""
    x = np.array(x, dtype=np.uint8)
    H, W = x.shape
    u = rng.random((H, W))
    for r in range(H):
        for s in range(W):
            x[r, s] = gibbs_site_update(x, params, r, s, u[r, s])
    return x


# %% [markdown]
# ## 3. The checkerboard block sampler
#
# **Why it matters.** Pixels of one colour share no edge, so given the other colour they are
# independent and can all be drawn at once, in one vectorized step. A **sweep** updates colour 0 from
# the current state, and then colour 1 from the state *as colour 0 left it*. Computing the logits once
# and updating both colours from that stale state is a different (wrong) Markov chain: notebook 4.1's
# question showed it can oscillate instead of converging.
#
# The colours are notebook 4.1's checkerboard, $(r + s) \bmod 2$, given below. `u[c]` holds the
# uniforms for the update of colour c.

# %%
def checkerboard(height: int, width: int) -> np.ndarray:
    """The 2-colouring (row + col) mod 2 of a 4-neighbour grid, an int array of shape (height, width)."""
    return np.indices((height, width)).sum(axis=0) % 2


# %% nbgrader={"grade_id": "block-gibbs-sweep", "solution": true}
def block_gibbs_sweep(x: np.ndarray, params: PottsParams, colours: np.ndarray, u: np.ndarray) -> np.ndarray:
    """One block Gibbs sweep: update colour 0, then colour 1, …, each from the current state.

    Args:
        x: integer levels, shape (B, H, W) (read only: return a new array).
        params: PottsParams(b, W_h, W_v), b of shape (H, W, K).
        colours: integer colours 0, …, C − 1 of shape (H, W), a proper colouring.
        u: uniforms in [0, 1), shape (C, B, H, W); u[c] is used for the pixels of colour c.

    Returns:
        np.uint8 array (B, H, W): the state after the sweep. Each pixel of colour c takes
        sample_categorical(θ, u[c]) with θ its conditional logits given the state after colours < c.
    """
    ### BEGIN SOLUTION
    x = np.array(x, dtype=np.uint8)
    for c in range(u.shape[0]):
        new = sample_categorical(conditional_logits(x, params), u[c])
        x = np.where(colours == c, new, x).astype(np.uint8)
    return x
    ### END SOLUTION


# %% nbgrader={"grade_id": "block-gibbs-sweep-visible", "points": 3}
# A 1x2 grid, two colours, a strong coupling that favours equal levels: the right pixel must follow
# the left pixel's *new* level (u = 0.5 is far from every CDF boundary here).
_p = PottsParams(b=np.zeros((1, 2, 2)), W_h=np.array([[4.0, -4.0], [-4.0, 4.0]]), W_v=np.zeros((2, 2)))
_x = np.array([[[0, 1]], [[1, 0]]], dtype=np.uint8)
_colours = np.array([[0, 1]])
_u = np.full((2, 2, 1, 2), 0.5)
_out = check_array(block_gibbs_sweep(_x, _p, _colours, _u), "block_gibbs_sweep(...)", shape=(2, 1, 2), dtype=np.uint8)
check_close(_out, [[[1, 1]], [[0, 0]]], "block_gibbs_sweep on a 1x2 grid")
check_close(_x, [[[0, 1]], [[1, 0]]], "x after block_gibbs_sweep (it must not be modified)")
print("block_gibbs_sweep: visible tests pass.")

# %% nbgrader={"grade_id": "block-gibbs-sweep-hidden", "points": 6}
# Hidden tests for block_gibbs_sweep run when your notebook is graded.
### BEGIN HIDDEN TESTS
def _ref_theta(states, b, W_h, W_v):
    """θ for a batch (B, H, W) by looping over pixels and offsets (independent of the student's code)."""
    B, H, W = states.shape
    out = np.broadcast_to(b.astype(np.float64), (B, H, W, b.shape[-1])).copy()
    for r in range(H):
        for s in range(W):
            if s > 0:
                out[:, r, s] += W_h[states[:, r, s - 1], :]
            if s < W - 1:
                out[:, r, s] += W_h[:, states[:, r, s + 1]].T
            if r > 0:
                out[:, r, s] += W_v[states[:, r - 1, s], :]
            if r < H - 1:
                out[:, r, s] += W_v[:, states[:, r + 1, s]].T
    return out


def _ref_sweep(states, params, colours, u, stale=False):
    """The reference sweep; also moves u away from CDF boundaries (returns the adjusted u)."""
    x = states.copy()
    u = u.copy()
    frozen = _ref_theta(x, *params)
    for c in range(u.shape[0]):
        theta = frozen if stale else _ref_theta(x, *params)
        p = np.exp(theta - theta.max(-1, keepdims=True))
        cdf = np.cumsum(p / p.sum(-1, keepdims=True), axis=-1)
        near = (np.abs(cdf - u[c][..., None]).min(-1) < 1e-5) & (colours == c)
        u[c] = np.where(near, (u[c] + 0.37) % 1.0, u[c])
        near = (np.abs(cdf - u[c][..., None]).min(-1) < 1e-5) & (colours == c)
        u[c] = np.where(near, (u[c] + 0.19) % 1.0, u[c])
        new = (u[c][..., None] >= cdf[..., :-1]).sum(-1)
        x = np.where(colours == c, new, x).astype(np.uint8)
    return x, u


_rng = np.random.default_rng(51)
for (_H, _W, _K, _B, _nbrs) in [(3, 4, 4, 5, 4), (4, 4, 3, 3, 8), (2, 5, 2, 4, 4)]:
    _p = random_params(_H, _W, _K, scale=1.5, seed=_H * _W + _K)
    _rows, _cols = np.indices((_H, _W))
    _colours = (_rows + _cols) % 2 if _nbrs == 4 else 2 * (_rows % 2) + _cols % 2
    _C = int(_colours.max()) + 1
    _x = _rng.integers(0, _K, size=(_B, _H, _W)).astype(np.uint8)
    _want, _u = _ref_sweep(_x, _p, _colours, _rng.uniform(size=(_C, _B, _H, _W)))
    _stale, _ = _ref_sweep(_x, _p, _colours, _u, stale=True)
    _x_before = _x.copy()
    _got = check_array(block_gibbs_sweep(_x, _p, _colours, _u), f"block_gibbs_sweep on {_B} x {_H}x{_W}",
                       shape=(_B, _H, _W), dtype=np.uint8)
    check_close(_x, _x_before, "x after block_gibbs_sweep (it must not be modified)")
    check_close(_got, _want, f"block_gibbs_sweep on {_B} x {_H}x{_W} (K={_K}, {_C} colours)",
                mistakes={"both colours updated from the stale state before the sweep": _stale})

# The chain it defines has the right stationary distribution: 4,000 chains on a 2x3 grid (K = 3, 729
# states), 25 sweeps each from uniform noise, against the exact Boltzmann distribution by enumeration.
_p = random_params(2, 3, 3, scale=0.8, seed=5)
_states = np.array(np.meshgrid(*[np.arange(3)] * 6, indexing="ij")).reshape(6, -1).T[:, ::-1].reshape(-1, 2, 3)
_rows, _cols = np.indices((2, 3))
_log_potential = np.array([_p.b[_rows, _cols, s].sum() + _p.W_h[s[:, :-1], s[:, 1:]].sum() + _p.W_v[s[:-1, :], s[1:, :]].sum()
                           for s in _states])  # −E(x) by a sum over this grid's 6 pixels and 7 edges
_exact = np.exp(_log_potential - _log_potential.max())
_exact /= _exact.sum()
_index = {tuple(s.ravel()): i for i, s in enumerate(_states)}
_n = 4000
_x = _rng.integers(0, 3, size=(_n, 2, 3)).astype(np.uint8)
_colours = np.indices((2, 3)).sum(axis=0) % 2
for _sweep in range(25):
    _x = np.asarray(block_gibbs_sweep(_x, _p, _colours, _rng.uniform(size=(2, _n, 2, 3))))
_freq = np.bincount([_index[tuple(s.ravel())] for s in _x], minlength=len(_states)) / _n
_tv = 0.5 * np.abs(_freq - _exact).sum()
# Sampling floor: E|p̂ − p| ≈ sqrt(2p(1−p)/(πn)) per state (capped at 2p), and the TV of n iid draws has
# standard deviation ≈ sqrt((1 − 2/π)/(4n)); allow the floor + 5 standard deviations.
_floor = 0.5 * np.minimum(np.sqrt(2 * _exact * (1 - _exact) / (np.pi * _n)), 2 * _exact).sum()
_allowed = _floor + 5 * np.sqrt((1 - 2 / np.pi) / (4 * _n))
assert _tv < _allowed, f"TV to the exact distribution is {_tv:.3f}, more than the sampling floor allows ({_allowed:.3f})"
print("block_gibbs_sweep: hidden tests pass.")
### END HIDDEN TESTS

# %% [markdown]
# ## 4. THRML's block Gibbs sampler
#
# THRML expresses the same model as a *factor graph*. Each pixel is a `CategoricalNode`; a `Block`
# is a list of nodes updated together; a `CategoricalEBMFactor` holds a batch of log-potential tables,
# one per group of nodes: `[Block(all pixels)]` with weights (n, K) for the biases, and
# `[Block(left ends), Block(right ends)]` with weights (n_edges, K, K) for the horizontal couplings
# (our shared W_h broadcast to every edge, in the (left, right) order of our convention). A
# `BlockGibbsSpec` lists the free blocks (our colours) and the clamped ones; a
# `CategoricalGibbsConditional(K)` per block turns the factors into exactly the softmax you wrote;
# `FactorSamplingProgram` compiles all of that into gathers, and `sample_states` runs a
# `SamplingSchedule(n_warmup, n_samples, steps_per_sample)`. Here is the whole construction, for a
# tiny 2×3 grid, once by hand:

# %%
import jax.numpy as jnp
import thrml
from thrml.models import CategoricalEBMFactor, CategoricalGibbsConditional

tiny = random_params(2, 3, 4, scale=0.7, seed=1)
nodes = [thrml.CategoricalNode() for _ in range(6)]
tiny_colours = checkerboard(2, 3).ravel()
blocks = [thrml.Block([nodes[i] for i in range(6) if tiny_colours[i] == c]) for c in (0, 1)]
h_pairs, v_pairs = [(0, 1), (1, 2), (3, 4), (4, 5)], [(0, 3), (1, 4), (2, 5)]
factors = [
    CategoricalEBMFactor([thrml.Block(nodes)], jnp.asarray(tiny.b.reshape(6, 4))),
    CategoricalEBMFactor([thrml.Block([nodes[i] for i, _ in h_pairs]), thrml.Block([nodes[j] for _, j in h_pairs])],
                         jnp.broadcast_to(jnp.asarray(tiny.W_h), (4, 4, 4))),
    CategoricalEBMFactor([thrml.Block([nodes[i] for i, _ in v_pairs]), thrml.Block([nodes[j] for _, j in v_pairs])],
                         jnp.broadcast_to(jnp.asarray(tiny.W_v), (3, 4, 4))),
]
spec = thrml.BlockGibbsSpec(blocks, [])
program = thrml.FactorSamplingProgram(spec, [CategoricalGibbsConditional(4) for _ in blocks], factors, [])
schedule = thrml.SamplingSchedule(n_warmup=20, n_samples=1, steps_per_sample=1)
init = [jnp.zeros(len(block), dtype=jnp.uint8) for block in blocks]  # THRML wants uint8 states
one = thrml.sample_states(jax.random.key(0), program, schedule, init, [], [thrml.Block(nodes)])
print("one chain after 20 sweeps:", np.asarray(one[0][-1]).reshape(2, 3))

# %% [markdown]
# `labkit.potts.ThrmlGrid` wraps exactly this construction for any grid, with the checkerboard as its
# blocks and optional clamped pixels. Its `sampler(n_sweeps)` returns `jax.jit(jax.vmap(...))` over
# chains: one key and one initial state per chain. It builds the program *inside* the jitted function,
# so new parameters of the same shapes reuse the compiled code, which notebook 4.3 needs when the
# parameters change at every training step.
#
# ## 5. All three samplers against the exact distribution
#
# On the 2×3 grid with K = 4 there are $4^6 = 4096$ states: few enough to compute Z. Each sampler runs
# many independent chains from uniform noise; we compare the histogram of their final states to the
# exact distribution by total variation, $\mathrm{TV}(p, \hat p) = \tfrac12\sum_x |p(x) - \hat p(x)|$.
# Even a perfect sampler does not reach 0: n draws leave a **sampling floor**
# $\mathbb{E}\,\mathrm{TV} \approx \tfrac12 \sum_x \sqrt{2p(x)(1-p(x))/(\pi n)}$. A correct sampler sits
# at the floor; the wrong variants sit far above it.

# %%
n_chains = runtime.scaled(20_000, 4_000)
n_naive = runtime.scaled(1_000, 200)
n_sweeps = 20
exact = exact_distribution(tiny)
rng = np.random.default_rng(0)
colours_2x3 = checkerboard(2, 3)
finals = {}

x = rng.integers(0, 4, size=(n_naive, 2, 3)).astype(np.uint8)
for chain in tqdm(range(n_naive), desc="naive chains"):
    for _ in range(n_sweeps):  # fast: 6 pixels
        x[chain] = naive_sweep(x[chain], tiny, rng)
finals["naive"] = x

x = rng.integers(0, 4, size=(n_chains, 2, 3)).astype(np.uint8)
for _ in range(n_sweeps):  # fast: vectorized over chains
    x = block_gibbs_sweep(x, tiny, colours_2x3, rng.random((2, n_chains, 2, 3)))
finals["checkerboard"] = x

grid = ThrmlGrid(2, 3, 4)  # its blocks are the same checkerboard
thrml_sample = grid.sampler(n_sweeps)
keys = jax.random.split(jax.random.key(1), n_chains)
finals["THRML"] = np.asarray(thrml_sample(tiny.b, tiny.W_h, tiny.W_v, keys, rng.integers(0, 4, (n_chains, 2, 3))))

# A deliberately broken THRML model: couplings transposed.
finals["THRML, W transposed"] = np.asarray(thrml_sample(tiny.b, tiny.W_h.T, tiny.W_v.T, keys, rng.integers(0, 4, (n_chains, 2, 3))))

tv = {name: total_variation(exact, empirical_distribution(s, 4)) for name, s in finals.items()}
floor = {name: tv_floor(exact, len(s)) for name, s in finals.items()}
for name in finals:
    print(f"{name:22s} n = {len(finals[name]):6d}  TV = {tv[name]:.3f}   floor = {floor[name]:.3f}")

fig, ax = plt.subplots(figsize=(7.5, 3.4))
names = list(finals)
ax.bar(np.arange(len(names)) - 0.2, [tv[n] for n in names], width=0.4, label="TV to exact")
ax.bar(np.arange(len(names)) + 0.2, [floor[n] for n in names], width=0.4, label="sampling floor")
ax.set_xticks(np.arange(len(names)), names)
ax.legend()
label(ax, "Samplers vs the exact distribution of a 2×3, K = 4 grid", "sampler", "total variation")
plt.show()

# %% [markdown]
# **Think:** the naive sampler uses fewer chains, so its floor is higher. Why is "TV ≈ floor" the right
# criterion rather than "TV < 0.05"? How would you change the comparison for a *single* long chain whose
# successive states are correlated?

# %% [markdown]
# ## 6. Inpainting with clamped blocks
#
# Clamping is conditioning: pixels in a clamped block keep their value, and the free blocks are sampled
# from the conditional distribution given them. We need a model of digits; until notebook 4.3 trains
# one, we use the count-based guess of notebook 4.1 (biases from per-pixel level frequencies, couplings
# from neighbour co-occurrences). The levels below come from a 256-entry lookup table on the original
# 8-bit grey values.

# %%
K = 4
data = load_mnist()
grey8 = np.round(data.x_train.reshape(-1, 28, 28) * 255).astype(np.int64)
digits = ((grey8 * K) >> 8).astype(np.uint8)  # 8-bit grey to 4 levels by a lookup on the top two bits

counts = np.stack([(digits == k).sum(axis=0) for k in range(K)], axis=-1) + 1.0
marginal = np.bincount(digits.ravel(), minlength=K) / digits.size


def pair_log_ratio(first, second):
    joint = np.ones((K, K))
    np.add.at(joint, (first.ravel(), second.ravel()), 1.0)
    joint /= joint.sum()
    return 0.5 * np.log(joint / np.outer(marginal, marginal))


guess = PottsParams(
    b=np.log(counts / counts.sum(axis=-1, keepdims=True)),
    W_h=pair_log_ratio(digits[:, :, :-1], digits[:, :, 1:]),
    W_v=pair_log_ratio(digits[:, :-1, :], digits[:, 1:, :]),
)

side = runtime.scaled(28, 14)  # test runs inpaint 14x14 crops of the centre: THRML compiles faster
crop = slice((28 - side) // 2, (28 + side) // 2)
clamped = np.zeros((side, side), bool)
clamped[: side // 2] = True  # the top half is given
inpaint_grid = ThrmlGrid(side, side, K, clamped=clamped)
inpaint = inpaint_grid.sampler(runtime.scaled(200, 20))
crop_params = PottsParams(guess.b[crop, crop], guess.W_h, guess.W_v)
targets = digits[data.y_train == 3][:6][:, crop, crop]
starts = np.where(clamped, targets, rng.integers(0, K, size=targets.shape)).astype(np.uint8)
filled = np.asarray(inpaint(crop_params.b, crop_params.W_h, crop_params.W_v, jax.random.split(jax.random.key(2), 6), starts))
assert (filled[:, clamped] == targets[:, clamped]).all(), "clamped pixels must not change"

fig, axes = plt.subplots(3, 6, figsize=(9, 4.8))
for col in range(6):
    for row, (name, img) in enumerate([("original", targets[col]), ("start", starts[col]), ("inpainted", filled[col])]):
        axes[row, col].imshow(img, cmap="gray_r", vmin=0, vmax=K - 1)
        axes[row, col].axis("off")
        if col == 0:
            axes[row, col].set_title(name, loc="left", fontsize=9)
fig.suptitle("Inpainting the bottom half of 3s under the count-based Potts guess")
plt.show()

# %% [markdown]
# **Think:** the bottom halves come out as blobs of ink hanging from the clamped strokes, not as the
# rest of a 3. What in the model's structure makes long strokes unlikely, whatever its parameters?

# %% [markdown]
# ## 7. How fast? A fair benchmark
#
# We count **chain-sweeps per second**: one sweep updates every pixel of one chain once, so a batch of
# B chains run for S sweeps is B·S chain-sweeps. JAX compiles THRML's program on the first call; we time
# that call apart ("compile") and then the best of a few repeats ("run"). (Test and grading runs compile
# THRML without XLA's backend optimizations, about 4× slower code: their figures are not benchmarks.) Everything runs on this
# machine's CPU; the seed project's figures were on a GPU: **0.27 ms per Gibbs step for one chain
# (3,700 chain-sweeps/s)** and **262 samples/s of 50 steps at batch 64 (13,100 chain-sweeps/s)**.

# %%
def best_time(fn, repeats=3):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - start)
    return min(times)


def benchmark_thrml(size, batch, sweeps):
    params = random_params(size, size, K, scale=0.5, seed=0)
    sampler = ThrmlGrid(size, size, K).sampler(sweeps)
    keys = jax.random.split(jax.random.key(0), batch)
    x0 = np.zeros((batch, size, size), np.uint8)
    run = lambda: sampler(params.b, params.W_h, params.W_v, keys, x0)
    start = time.perf_counter()
    jax.block_until_ready(run())
    compile_s = time.perf_counter() - start
    return compile_s, batch * sweeps / best_time(run)


def benchmark_numpy(size, batch, sweeps):
    params = random_params(size, size, K, scale=0.5, seed=0)
    colours = checkerboard(size, size)
    x = np.zeros((batch, size, size), np.uint8)
    u = np.random.default_rng(0).random((sweeps, 2, batch, size, size))

    def run():
        y = x
        for s in range(sweeps):  # fast: a few sweeps
            y = block_gibbs_sweep(y, params, colours, u[s])
        return y

    return batch * sweeps / best_time(run)


def benchmark_naive(size, sweeps):
    params = random_params(size, size, K, scale=0.5, seed=0)
    x = np.zeros((size, size), np.uint8)
    rng = np.random.default_rng(0)

    def run():
        y = x
        for _ in range(sweeps):  # fast: a few sweeps
            y = naive_sweep(y, params, rng)
        return y

    return sweeps / best_time(run, repeats=2)


def benchmark(configs):
    rows = []
    for size, batch in tqdm(configs, desc="benchmark"):
        compile_s, thrml_rate = benchmark_thrml(size, batch, sweeps=runtime.scaled(20, 5))
        numpy_rate = benchmark_numpy(size, batch, sweeps=runtime.scaled(5, 2))
        naive_rate = benchmark_naive(size, sweeps=runtime.scaled(2, 1))
        rows.append((size, batch, compile_s, thrml_rate, numpy_rate, naive_rate))
    return rows


def show_table(rows):
    print(f"{'grid':>6s} {'batch':>6s} {'THRML compile':>14s} {'THRML':>10s} {'numpy':>10s} {'naive':>8s}  (chain-sweeps/s)")
    for size, batch, compile_s, t, v, n in rows:
        print(f"{size:>4d}²  {batch:>6d} {compile_s:>12.1f} s {t:>10,.0f} {v:>10,.0f} {n:>8,.0f}   "
              f"THRML/naive {t / n:5.0f}×, numpy/naive {v / n:5.0f}×")


side = runtime.scaled(28, 6)  # test runs time a 6x6 grid: their figures are not benchmarks
by_batch = benchmark([(side, b) for b in runtime.scaled([1, 64, 256], [16])])
show_table(by_batch)

fig, ax = plt.subplots(figsize=(7.5, 3.6))
ax.plot([r[1] for r in by_batch], [r[3] for r in by_batch], "o-", label="THRML (CPU)")
ax.plot([r[1] for r in by_batch], [r[4] for r in by_batch], "s-", label="your numpy checkerboard")
ax.axhline(by_batch[0][5], color="gray", ls=":", label="naive sweep (one chain)")
ax.axhline(13_100, color="tab:red", ls="--", label="seed, GPU, batch 64")
ax.axhline(3_700, color="tab:red", ls=":", label="seed, GPU, one chain")
ax.set_xscale("log")
ax.set_yscale("log")
ax.legend(fontsize=8)
label(ax, f"Throughput on a {side}×{side} grid, K = 4", "batch (chains)", "chain-sweeps per second")
plt.show()

# %% [markdown]
# The grid size at batch 64: 14×14 has a quarter of the pixels of 28×28, 56×56 four times as many
# (an upscaled MNIST, as the seed suggested).

# %%
by_size = benchmark([(s, 64) for s in runtime.scaled([14, 56], [4])])
show_table(by_size + [r for r in by_batch if r[1] == 64])

# %% [markdown]
# **A roofline for one sweep.** Per pixel, a sweep gathers 5 rows of K log-potentials (bias and four
# neighbours) and adds them (≈ 5K flops), takes K exponentials and a K-long cumulative sum (≈ 3K), and
# draws one uniform number. At K = 4 that is ≈ 32 flops and ≈ 80 bytes of table reads (from cache: the
# tables are a few kB) per pixel, so ≈ 25 kflops and 784 random numbers per 28×28 sweep. The cell
# below measures two ceilings of this CPU, its float32 matrix-multiply rate (the most flops it can do)
# and how fast JAX generates uniform random numbers, and turns each into chain-sweeps/s.

# %%
m = np.random.default_rng(0).random((512, 512), dtype=np.float32)
flops_per_s = 2 * 512**3 / best_time(lambda: m @ m, repeats=5)
n_random = 2_000_000
uniform = jax.jit(lambda key: jax.random.uniform(key, (n_random,)))
jax.block_until_ready(uniform(jax.random.key(0)))
randoms_per_s = n_random / best_time(lambda: uniform(jax.random.key(1)), repeats=5)
pixels = 28 * 28
print(f"matmul: {flops_per_s / 1e9:.1f} Gflop/s -> flop roofline {flops_per_s / (pixels * 8 * K):,.0f} chain-sweeps/s")
print(f"JAX uniforms: {randoms_per_s / 1e6:.0f} M/s -> random-number roofline {randoms_per_s / pixels:,.0f} chain-sweeps/s")

# %% [markdown] nbgrader={"grade_id": "benchmark-insight", "solution": true, "points": 3}
# **Question (3 points).** Using *your* table and plot: (a) how many times faster than the naive sweep
# are the numpy checkerboard and THRML at batch 64 on 28×28, and where does the gain come from?
# (b) How do your CPU figures compare with the seed's GPU figures, and with the roofline estimate? What
# does the gap to the roofline tell you the samplers spend their time on? (c) How do the rates change
# from 14×14 to 56×56, and what does that say about overheads?
#
# ### BEGIN SOLUTION
# Model answer (figures vary by machine; credit the reasoning against the student's own table):
# (a) Both block samplers are far faster per chain-sweep than the naive sweep (on the reference run
# about 50–100× for numpy and 150–560× for THRML, well above 40×): the naive sweep pays the Python
# interpreter and a few numpy calls for each of 784 pixels, while the block samplers update half the
# pixels of B chains in a handful of array operations; batching amortises per-call overhead further.
# (A tighter naive sweep on Python lists is about 5× faster than this one: the ratio depends on the
# baseline.) (b) On 2 CPU cores THRML reaches thousands of 28×28 chain-sweeps/s (reference runs:
# 2,600–5,600 for one chain, 6,600–14,500 at batch 64, the higher figures on an idle machine), the same
# order as the seed's GPU figures for one chain (3,700/s) and at batch 64 (13,100/s): the seed's GPU
# numbers were overhead-bound, far from what a GPU can do. THRML is two orders of magnitude below the flop roofline and several times below
# the random-number roofline: its time goes to random numbers (per-chain threefry keys), gathers and
# per-call overhead, not arithmetic. (c) Per chain-sweep, rates fall roughly with the number of pixels
# (about 4× per doubling of the side) once the batch is large enough; at batch 1 overhead dominates,
# and a very large batch can lose a little to cache effects. Compile time (several seconds) grows only
# mildly with the grid: it is mostly XLA's fixed cost for THRML's program.
# Rubric: 1 point per part with numbers from the student's run and a correct explanation.
# ### END SOLUTION

# %% [markdown]
# ## Summary
#
# - The conditional of a pixel is a softmax of its local logits: the bias plus one coupling row or
#   column per neighbour, with the pixel's level in the right slot of each (non-symmetric) matrix.
# - The naive sweep, your checkerboard sweep and THRML's block sampler all reach the sampling floor
#   against the exact distribution of a tiny grid; transposed couplings do not.
# - Clamped blocks turn the same sampler into an inpainter.
# - On a CPU, vectorizing across pixels and chains is what buys speed; the roofline shows how much is
#   still left.
#
# **Questions to take away.**
# 1. A 4-colour sweep of an 8-neighbour model updates a quarter of the pixels per step. Is a 4-colour
#    sweep slower than a 2-colour one per chain-sweep, and does it mix worse?
# 2. Which of your three samplers would you trust on a 28×28 grid where no exact answer exists, and why?
# 3. What would a hardware sampler have to do per pixel to beat the roofline you computed?
