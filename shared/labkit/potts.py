"""Potts grids for the THRML energy-based-model lab (04-thrml-ebm): everything but the answers.

The lab's model is a K-level Potts grid of H×W pixels with energy

    E(x) = −Σ_i b_i[x_i] − Σ_{(i,j)∈H} W_h[x_i, x_j] − Σ_{(i,j)∈V} W_v[x_i, x_j],

where H holds each horizontal edge once as (left, right) and V each vertical edge once as (top,
bottom). This module holds the plumbing around it: the parameters, edge lists, THRML programs,
exact enumeration of tiny grids, total variation and its sampling floor, and inverse-CDF sampling
of categorical logits.

It never holds the answer to a TODO, because students can import it. So it has no function from a
state to its energy (notebook 4.1's ``energy``) and no colouring of an 8-neighbour grid (notebook
4.1's ``grid_colouring``): the notebooks that need energies build them from THRML's FactorizedEBM
themselves, and the sampler's blocks are diagonal stripes, proper only for the 4-neighbour model.
"""

from __future__ import annotations

import itertools
import math
from typing import NamedTuple

import numpy as np


class PottsParams(NamedTuple):
    """The parameters of a Potts grid; factor weights are log-potentials (positive favours a state).

    Attributes:
        b: per-pixel biases b_i[k], shape (H, W, K).
        W_h: the horizontal coupling W_h[left level, right level], shape (K, K), shared by every
            horizontal edge.
        W_v: the vertical coupling W_v[top level, bottom level], shape (K, K), shared by every
            vertical edge.
    """

    b: np.ndarray
    W_h: np.ndarray
    W_v: np.ndarray

    @property
    def shape(self) -> tuple[int, int, int]:
        """(H, W, K)."""
        return tuple(int(s) for s in np.shape(self.b))


def random_params(height: int, width: int, n_levels: int, scale: float = 1.0, seed: int = 0) -> PottsParams:
    """Random float64 parameters, couplings deliberately not symmetric (so a transpose is visible)."""
    rng = np.random.default_rng(seed)
    return PottsParams(
        b=rng.normal(0.0, scale, size=(height, width, n_levels)),
        W_h=rng.normal(0.0, scale, size=(n_levels, n_levels)),
        W_v=rng.normal(0.0, scale, size=(n_levels, n_levels)),
    )


# ---------------------------------------------------------------------------------------------- edges
def grid_edges(height: int, width: int, n_neighbours: int = 4) -> dict[str, np.ndarray]:
    """Every edge of the grid once, as flat site indices (row-major: site = row · width + col).

    Returns a dict of (n_edges, 2) int arrays: ``"h"`` (left, right) and ``"v"`` (top, bottom), and
    for ``n_neighbours=8`` also ``"d"`` (top-left, bottom-right) and ``"a"`` (top-right, bottom-left).
    """
    if n_neighbours not in (4, 8):
        raise ValueError("n_neighbours must be 4 or 8")
    idx = np.arange(height * width).reshape(height, width)
    pairs = {
        "h": (idx[:, :-1], idx[:, 1:]),
        "v": (idx[:-1, :], idx[1:, :]),
    }
    if n_neighbours == 8:
        pairs["d"] = (idx[:-1, :-1], idx[1:, 1:])
        pairs["a"] = (idx[:-1, 1:], idx[1:, :-1])
    return {k: np.stack([u.ravel(), v.ravel()], axis=1) for k, (u, v) in pairs.items()}


def colouring_conflicts(colours: np.ndarray, n_neighbours: int = 4) -> int:
    """How many edges join two sites of the same colour (0 for a valid colouring)."""
    colours = np.asarray(colours)
    flat = colours.reshape(-1)
    edges = np.concatenate(list(grid_edges(*colours.shape, n_neighbours).values()))
    return int(np.sum(flat[edges[:, 0]] == flat[edges[:, 1]]))


# --------------------------------------------------------------------------------------- training help
class Adam:
    """Adam with bias correction on PottsParams (it minimises), for the lab's CD training loops.

    Args:
        params: the starting PottsParams; their shapes fix the moment estimates.
        lr: the step size. It may be changed between steps, e.g. by a decay schedule.
        beta1, beta2, eps: Adam's usual constants.
    """

    def __init__(self, params: PottsParams, lr: float = 0.05, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        self.lr, self.beta1, self.beta2, self.eps, self.t = lr, beta1, beta2, eps, 0
        self.m = [np.zeros(np.shape(p)) for p in params]
        self.v = [np.zeros(np.shape(p)) for p in params]

    def step(self, params: PottsParams, grads) -> PottsParams:
        """The parameters after one step against ``grads`` (numpy or JAX arrays of the params' shapes)."""
        self.t += 1
        new = []
        for i, (p, g) in enumerate(zip(params, grads)):
            g = np.asarray(g, dtype=np.float64)
            self.m[i] = self.beta1 * self.m[i] + (1 - self.beta1) * g
            self.v[i] = self.beta2 * self.v[i] + (1 - self.beta2) * g * g
            m_hat = self.m[i] / (1 - self.beta1**self.t)
            v_hat = self.v[i] / (1 - self.beta2**self.t)
            new.append(np.asarray(p) - self.lr * m_hat / (np.sqrt(v_hat) + self.eps))
        return PottsParams(*new)


# --------------------------------------------------------------------------------------- sampling help
def sample_categorical(logits, u) -> np.ndarray:
    """Inverse-CDF sampling: the smallest level k with u < Σ_{l≤k} softmax(logits)_l, as uint8.

    Args:
        logits: unnormalised log-probabilities, shape (..., K) (numpy or JAX).
        u: uniforms in [0, 1), shape (...).

    Returns:
        uint8 levels, shape (...).
    """
    logits = np.asarray(logits, dtype=np.float64)
    u = np.asarray(u, dtype=np.float64)
    p = np.exp(logits - logits.max(axis=-1, keepdims=True))
    cdf = np.cumsum(p, axis=-1)
    cdf /= cdf[..., -1:]
    k = np.sum(u[..., None] >= cdf[..., :-1], axis=-1)
    return k.astype(np.uint8)


# ------------------------------------------------------------------------------------------- THRML
def compiler_options() -> dict:
    """XLA options for THRML programs: in test and grading runs, skip the backend optimizations.

    XLA's optimizing CPU compile of a THRML program takes 4 to 8 s on 2 cores whatever the grid size;
    without backend optimization it takes about 1 s and the code runs about 4 times slower, which
    is the right trade when a notebook only has to show that it works. Full runs (and benchmarks)
    compile normally.
    """
    from labkit import runtime

    return {"xla_backend_optimization_level": 0} if runtime.is_reduced() else {}


def _thrml():
    import jax  # noqa: F401  (imported lazily: a torch-only lab never pays for JAX)
    import thrml
    from thrml import models

    return thrml, models


class ThrmlGrid:
    """A Potts grid as THRML nodes and blocks, with factors built from parameters on demand.

    Args:
        height, width: the grid.
        n_levels: K, the number of levels (categories) per pixel.
        n_colours: how many blocks a sweep updates in turn. Block c holds the pixels on the diagonal
            stripes (row + col) mod n_colours = c; neighbours differ by one in row + col, so no block
            contains an edge of this 4-neighbour model. 2 gives the checkerboard; more colours give
            more sequential phases per sweep (notebook 4.4 compares them).
        clamped: an optional (H, W) bool mask of pixels that stay fixed (inpainting).
    """

    def __init__(self, height: int, width: int, n_levels: int, n_colours: int = 2, clamped: np.ndarray | None = None):
        if n_colours < 2:
            raise ValueError(f"a sweep needs at least 2 colours on a grid with edges, got n_colours={n_colours}")
        thrml, models = _thrml()
        self.height, self.width, self.n_levels = height, width, n_levels
        self.nodes = [thrml.CategoricalNode() for _ in range(height * width)]
        colours = np.indices((height, width)).sum(axis=0).reshape(-1) % n_colours
        clamped = np.zeros(height * width, bool) if clamped is None else np.asarray(clamped, bool).reshape(-1)
        self.free_sites = [np.flatnonzero((colours == c) & ~clamped) for c in np.unique(colours)]
        self.free_sites = [s for s in self.free_sites if len(s)]
        self.clamped_sites = np.flatnonzero(clamped)
        self.free_blocks = [thrml.Block([self.nodes[i] for i in s]) for s in self.free_sites]
        self.clamped_blocks = [thrml.Block([self.nodes[i] for i in self.clamped_sites])] if len(self.clamped_sites) else []
        self.all_block = thrml.Block(self.nodes)
        self.spec = thrml.BlockGibbsSpec(self.free_blocks, self.clamped_blocks)
        self.edges = grid_edges(height, width, 4)
        self._samplers: dict = {}
        self._factor_blocks = {
            k: (thrml.Block([self.nodes[i] for i in e[:, 0]]), thrml.Block([self.nodes[i] for i in e[:, 1]]))
            for k, e in self.edges.items()
            if len(e)
        }

    def factors(self, b, W_h, W_v) -> list:
        """THRML's CategoricalEBMFactors for the bias and the two coupling directions (JAX arrays ok)."""
        import jax.numpy as jnp

        _, models = _thrml()
        n = self.height * self.width
        K = self.n_levels
        factors = [models.CategoricalEBMFactor([self.all_block], jnp.reshape(jnp.asarray(b), (n, K)))]
        for name, W in (("h", W_h), ("v", W_v)):
            if name in self._factor_blocks:  # a grid of one row (or column) has no edges of that direction
                first, second = self._factor_blocks[name]
                weights = jnp.broadcast_to(jnp.asarray(W), (len(self.edges[name]), K, K))
                factors.append(models.CategoricalEBMFactor([first, second], weights))
        return factors

    def program(self, b, W_h, W_v):
        """A FactorSamplingProgram: one CategoricalGibbsConditional per free block."""
        thrml, models = _thrml()
        samplers = [models.CategoricalGibbsConditional(self.n_levels) for _ in self.free_blocks]
        return thrml.FactorSamplingProgram(self.spec, samplers, self.factors(b, W_h, W_v), [])

    def split(self, x_flat):
        """A (..., H·W) state as THRML's list of free-block states (and the clamped-block state)."""
        import jax.numpy as jnp

        x_flat = jnp.asarray(x_flat, dtype=jnp.uint8)
        free = [x_flat[..., s] for s in self.free_sites]
        clamp = [x_flat[..., self.clamped_sites]] if len(self.clamped_sites) else []
        return free, clamp

    def sampler(self, n_sweeps: int):
        """A jitted, vmapped function ``(b, W_h, W_v, keys (B,), x (B, H, W) uint8) -> (B, H, W) uint8``
        that runs ``n_sweeps`` block-Gibbs sweeps per chain from x (clamped pixels keep their value).

        The program is built inside the traced function, so new parameters of the same shapes reuse
        the compiled code (no recompilation during training). Asking twice for the same ``n_sweeps``
        returns the same function (and so its compiled code).
        """
        if n_sweeps in self._samplers:
            return self._samplers[n_sweeps]
        import jax
        import jax.numpy as jnp

        thrml, _ = _thrml()
        H, W = self.height, self.width
        schedule = thrml.SamplingSchedule(n_warmup=n_sweeps, n_samples=1, steps_per_sample=1)

        def one_chain(program, key, x):
            free, clamp = self.split(x.reshape(H * W))
            out = thrml.sample_states(key, program, schedule, free, clamp, [self.all_block])
            return out[0][-1].reshape(H, W)

        def run(b, W_h, W_v, keys, x):
            program = self.program(b, W_h, W_v)
            return jax.vmap(lambda k, xx: one_chain(program, k, xx))(keys, jnp.asarray(x, jnp.uint8))

        self._samplers[n_sweeps] = jax.jit(run, compiler_options=compiler_options())
        return self._samplers[n_sweeps]

    def trajectory(self, n_samples: int, steps_per_sample: int = 1):
        """Like :meth:`sampler`, but records the chain: ``(b, W_h, W_v, keys (B,), x (B, H, W)) ->
        (B, n_samples, H, W)`` uint8, the state after 0, s, 2s, … sweeps (s = ``steps_per_sample``)."""
        import jax
        import jax.numpy as jnp

        thrml, _ = _thrml()
        H, W = self.height, self.width
        schedule = thrml.SamplingSchedule(n_warmup=0, n_samples=n_samples, steps_per_sample=steps_per_sample)

        def run(b, W_h, W_v, keys, x):
            program = self.program(b, W_h, W_v)

            def one_chain(key, xx):
                free, clamp = self.split(xx.reshape(H * W))
                out = thrml.sample_states(key, program, schedule, free, clamp, [self.all_block])
                return out[0].reshape(n_samples, H, W)

            return jax.vmap(one_chain)(keys, jnp.asarray(x, jnp.uint8))

        return jax.jit(run, compiler_options=compiler_options())


# --------------------------------------------------------------------------------- exact enumeration
def all_states(height: int, width: int, n_levels: int) -> np.ndarray:
    """Every state of a tiny grid, shape (K^(H·W), H, W) uint8, in the order of :func:`state_index`."""
    n = height * width
    if n_levels**n > 2**22:
        raise ValueError("too many states to enumerate")
    states = np.array(list(itertools.product(range(n_levels), repeat=n)), dtype=np.uint8)
    return states.reshape(-1, height, width)


def state_index(x, n_levels: int) -> np.ndarray:
    """The index in :func:`all_states` of each state x (..., H, W): base-K digits, first pixel most significant."""
    x = np.asarray(x).astype(np.int64)
    flat = x.reshape(*x.shape[:-2], -1)
    weights = n_levels ** np.arange(flat.shape[-1] - 1, -1, -1, dtype=np.int64)
    return flat @ weights


def exact_distribution(params: PottsParams) -> np.ndarray:
    """The Boltzmann distribution p(x) ∝ exp(−E(x)) of a tiny grid over :func:`all_states`.

    The energies come from THRML's own FactorizedEBM over :class:`ThrmlGrid`'s factors, an
    independent reference for the lab's numpy samplers.
    """
    import jax
    import jax.numpy as jnp

    _, models = _thrml()
    H, W, K = params.shape
    grid = ThrmlGrid(H, W, K)
    ebm = models.FactorizedEBM(grid.factors(*params))
    states = jnp.asarray(all_states(H, W, K).reshape(-1, H * W))
    energies = np.asarray(jax.vmap(lambda s: ebm.energy([s], [grid.all_block]))(states), dtype=np.float64)
    logp = -energies - np.max(-energies)
    p = np.exp(logp)
    return p / p.sum()


def empirical_distribution(samples, n_levels: int) -> np.ndarray:
    """Frequencies of the states in samples (..., H, W) over :func:`all_states`."""
    samples = np.asarray(samples)
    H, W = samples.shape[-2:]
    counts = np.bincount(state_index(samples, n_levels).reshape(-1), minlength=n_levels ** (H * W))
    return counts / counts.sum()


def total_variation(p, q) -> float:
    """TV(p, q) = ½ Σ |p − q|."""
    return 0.5 * float(np.abs(np.asarray(p, np.float64) - np.asarray(q, np.float64)).sum())


def tv_floor(p, n_samples: float) -> float:
    """The expected TV between p and the empirical distribution of n independent draws from it.

    Each frequency is Binomial(n, p_s)/n, so E|p̂_s − p_s| ≈ √(2 p_s(1 − p_s)/(π n)) (normal
    approximation; exact enough when n·p_s is not tiny, an upper bound otherwise). For a Markov
    chain pass the effective sample size, not the number of draws.
    """
    p = np.asarray(p, np.float64)
    exact_small = np.minimum(np.sqrt(2 * p * (1 - p) / (math.pi * n_samples)), 2 * p)
    return 0.5 * float(exact_small.sum())
