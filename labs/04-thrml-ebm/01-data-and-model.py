# %% [markdown]
# # Lab 4.1: Digits as a Potts grid
#
# This assignment builds an **energy-based model** (EBM) of MNIST digits whose pixels are discrete
# levels on a 28×28 grid, samples it with block Gibbs sampling, the algorithm that Extropic's THRML
# library (and its proposed "thermodynamic sampling units") runs, trains it by contrastive divergence,
# and then checks honestly what such a sampler buys. This first notebook builds the data and the model.
#
# **Learning objectives.** By the end you can
# 1. discretize grey-level images into K levels and say what each choice of K keeps and loses;
# 2. write the energy of a Potts grid with biases and direction-dependent couplings, vectorized, and
#    check it against a brute-force sum;
# 3. explain the sign convention (weights are log-potentials: a larger weight makes a state *more*
#    likely) and why the coupling matrices must not be transposed;
# 4. colour the grid so that no two neighbours share a colour (2 colours for 4 neighbours, 4 for 8),
#    the property that lets block Gibbs sampling update a whole colour at once.
#
# **Prerequisites.** numpy broadcasting and fancy indexing; the Boltzmann distribution
# p(x) ∝ exp(−E(x)); Lab 1 is not needed.
#
# **Estimated time.** 40 minutes.

# %%
import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display

from labkit import runtime, seed_everything
from labkit.checks import check_array, check_close
from labkit.mnist import load_mnist
from labkit.plots import label, use_course_style
from labkit.potts import PottsParams, all_states, colouring_conflicts, exact_distribution, random_params

seed_everything(0)
use_course_style()
print(runtime.describe())

data = load_mnist()
images = data.x_train.reshape(-1, 28, 28)  # float32 in [0, 1]
labels = data.y_train
some = np.random.default_rng(0).permutation(len(images))

# %% [markdown]
# ## 1. Discretization
#
# **Why it matters.** A Potts model has a finite set of K levels per pixel, so grey levels in [0, 1]
# must become integers 0, …, K − 1. More levels keep more of the anti-aliased strokes, but a pixel needs
# K bias parameters (one per level), and each K×K coupling table grows as K².
#
# We use K equal-width bins of [0, 1]:
#
# $$
# \operatorname{level}(v) = \min\big(\lfloor K v \rfloor,\; K - 1\big),
# \qquad\text{so level } k \text{ holds } v \in \big[\tfrac{k}{K}, \tfrac{k+1}{K}\big) \text{ and } v = 1 \text{ is level } K-1.
# $$
#
# THRML stores categorical states as `uint8`, so the levels are `np.uint8` from the start.

# %% nbgrader={"grade_id": "discretize", "solution": true}
def discretize(images: np.ndarray, n_levels: int) -> np.ndarray:
    """Map grey levels in [0, 1] to K = n_levels equal-width bins.

    Args:
        images: grey levels in [0, 1], any shape (e.g. (n, 28, 28)), float32 or float64.
        n_levels: K ≥ 2.

    Returns:
        np.uint8 array of the same shape with values in {0, …, K − 1}: min(floor(K·v), K − 1).
    """
    ### BEGIN SOLUTION
    levels = np.floor(np.asarray(images, dtype=np.float64) * n_levels)
    return np.clip(levels, 0, n_levels - 1).astype(np.uint8)
    ### END SOLUTION


# %% nbgrader={"grade_id": "discretize-visible", "points": 2}
_grey = np.array([[0.0, 0.2499, 0.26, 0.49], [0.51, 0.74, 0.76, 1.0]])
_out = check_array(discretize(_grey, 4), "discretize(grey, 4)", shape=(2, 4), dtype=np.uint8)
check_close(_out, [[0, 0, 1, 1], [2, 2, 3, 3]], "discretize(grey, 4)")
# K = 3, one dimension, and values on the bin edges 1/3 and 2/3 (level k holds v in [k/K, (k+1)/K)).
_out = check_array(discretize(np.array([0.0, 1 / 3, 0.5, 2 / 3, 0.9, 1.0]), 3), "discretize(values, 3)",
                   shape=(6,), dtype=np.uint8)
check_close(_out, [0, 1, 1, 2, 2, 2], "discretize(values, 3)")
print("discretize: visible tests pass.")

# %% nbgrader={"grade_id": "discretize-hidden", "points": 3}
# Hidden tests for discretize run when your notebook is graded.
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(11)
_values = np.concatenate([np.arange(256) / 255.0, _rng.uniform(0, 1, 526), [0.0, 1.0]])
for _K in (2, 3, 4, 16):
    # Reference: count the bin edges l/K (l = 1..K-1) at or below each value.
    _edges = np.arange(1, _K) / _K
    _want = (_values[:, None] >= _edges[None, :]).sum(axis=1)
    _got = check_array(discretize(_values, _K), f"discretize(values, {_K})", shape=_values.shape, dtype=np.uint8)
    check_close(
        _got, _want, f"discretize(values, {_K})",
        mistakes={"rounds K-1 scaled values instead of flooring K bins": np.round(_values * (_K - 1))},
    )
    for _dtype in (np.float32, np.float64):
        _img = _values[:784].reshape(28, 28).astype(_dtype)
        _got = check_array(discretize(_img, _K), "discretize(28x28 image)", shape=(28, 28), dtype=np.uint8)
        check_close(_got, _want[:784].reshape(28, 28), f"discretize({np.dtype(_dtype).name} image, {_K})")
_batch = _rng.uniform(0, 1, size=(3, 5, 7))
_before = _batch.copy()
check_array(discretize(_batch, 4), "discretize(batch (3, 5, 7), 4)", shape=(3, 5, 7), dtype=np.uint8)
check_close(_batch, _before, "the input of discretize (it must not be modified)")
print("discretize: hidden tests pass.")
### END HIDDEN TESTS

# %% [markdown]
# The same digits at 2, 4 and 16 levels, and how the pixels spread over the levels. Most pixels are
# background (level 0); the strokes' anti-aliased edges are what extra levels keep.

# %%
levels = {K: discretize(images[some[:6]], K) for K in (2, 4, 16)}
fig, axes = plt.subplots(4, 6, figsize=(9, 6.4))
for col in range(6):
    axes[0, col].imshow(images[some[col]], cmap="gray_r", vmin=0, vmax=1)
    for row, K in enumerate((2, 4, 16), start=1):
        axes[row, col].imshow(levels[K][col], cmap="gray_r", vmin=0, vmax=K - 1)
for row, name in enumerate(["grey", "K = 2", "K = 4", "K = 16"]):
    axes[row, 0].set_ylabel(name)
for ax in axes.ravel():
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("The same digits, discretized to 2, 4 and 16 levels")
plt.show()

fig, ax = plt.subplots(figsize=(7, 3.2))
for K in (2, 4, 16):
    counts = np.bincount(discretize(images[some[:500]], K).ravel(), minlength=K) / (500 * 784)
    ax.plot(np.arange(K) / max(K - 1, 1), counts, "o-", label=f"K = {K}")
ax.set_yscale("log")
ax.legend()
label(ax, "How the pixels spread over the levels (500 digits)", "level / (K − 1)", "fraction of pixels")
plt.show()

# %% [markdown]
# **Think:** at K = 16 how many bias parameters does a 28×28 grid have, and how many pixels of a
# training set of 4,000 digits land in a typical non-background level of one pixel? What does that
# say about how well those biases can be estimated?
#
# The rest of the lab uses **K = 4**: it keeps part of the strokes' anti-aliased edges for 4 bias
# parameters per pixel.

# %% [markdown]
# ## 2. The Potts energy, and a choice of couplings
#
# Two descriptions of a Potts grid's couplings are common: "2 parameters: horizontal +
# vertical" with the energy $-\sum w\,x_i x_j$ (levels multiplied as *numbers*), and THRML
# factors with a $4\times4$ **Potts matrix per edge** (756 matrices of shape (4, 4) for the horizontal
# edges alone). Neither is what we want:
#
# - $w\,x_i x_j$ treats the levels as numbers: it cannot say "levels 1 and 3 go together, 2 does not",
#   and with x = 0 for background it gives the background no interaction at all;
# - a free matrix per edge has 2·756·16 ≈ 24,000 coupling parameters, more than seven times the 3,136
#   bias parameters (784 pixels × K), while each digit gives only 784 pixel values of data; and it shares
#   nothing across the image.
#
# **Our choice:** one $K\times K$ matrix per *direction*, shared by every edge of that direction:
#
# $$
# E(x) = -\sum_{i} b_i[x_i] \;-\; \sum_{(i,j)\in\mathcal{H}} W_h[x_i, x_j] \;-\; \sum_{(i,j)\in\mathcal{V}} W_v[x_i, x_j],
# \qquad p(x) = \frac{e^{-E(x)}}{Z}.
# $$
#
# It contains the product form as the special case $W[a, b] = w\,ab$, has $2K^2 = 32$ coupling
# parameters, and maps onto THRML by broadcasting the shared matrix to every edge. Three conventions
# matter, and the tests check each:
#
# - $\mathcal{H}$ lists every horizontal edge **once**, as (left pixel, right pixel), and $\mathcal{V}$
#   every vertical edge once, as (upper pixel, lower pixel). $W_h[a, b]$ is "left is $a$, right is $b$";
#   the matrices need not be symmetric, so $W_h[x_j, x_i]$ is a different (wrong) model.
# - The grid does **not** wrap around: a pixel on the border has fewer neighbours.
# - Weights are **log-potentials** (THRML's convention): the energy carries a minus sign, so a larger
#   $b_i[k]$ or $W[a, b]$ makes that configuration more probable.
#
# The parameters live in a `PottsParams(b, W_h, W_v)` named tuple with `b` of shape (H, W, K).

# %% nbgrader={"grade_id": "energy", "solution": true}
def energy(x: np.ndarray, params: PottsParams) -> np.ndarray:
    """The Potts energy E(x) of a batch of states, vectorized (no Python loop over pixels).

    Args:
        x: integer levels, shape (..., H, W), values in {0, …, K − 1} (any integer dtype, e.g. uint8).
        params: PottsParams(b, W_h, W_v) with b of shape (H, W, K) and W_h, W_v of shape (K, K).

    Returns:
        Floating array of shape (...): one energy per state (a number or 0-d array for one (H, W) state).
    """
    ### BEGIN SOLUTION
    b, W_h, W_v = (np.asarray(p) for p in params)
    x = np.asarray(x).astype(np.intp)
    H, W = x.shape[-2:]
    rows, cols = np.arange(H)[:, None], np.arange(W)[None, :]
    bias = b[rows, cols, x].sum(axis=(-2, -1))
    horizontal = W_h[x[..., :, :-1], x[..., :, 1:]].sum(axis=(-2, -1))
    vertical = W_v[x[..., :-1, :], x[..., 1:, :]].sum(axis=(-2, -1))
    return -(bias + horizontal + vertical)
    ### END SOLUTION


# %% nbgrader={"grade_id": "energy-visible", "points": 3}
# A 2x3 grid (not square) with K = 3 and random, asymmetric parameters; three checks that need no loop.
_params = random_params(2, 3, 3, seed=1)
_b, _W_h, _W_v = _params
# 1. A constant image x ≡ k takes every pixel's bias b_i[k], and W_h[k, k] on each of its 2·2 horizontal
#    edges and W_v[k, k] on each of its 1·3 vertical edges.
for _k in range(3):
    _constant = np.full((2, 3), _k, dtype=np.uint8)
    check_close(energy(_constant, _params), -(_b[..., _k].sum() + 4 * _W_h[_k, _k] + 3 * _W_v[_k, _k]),
                f"energy of the constant image x ≡ {_k}", rtol=1e-6, atol=1e-6)
# 2. p(x) ∝ exp(−E(x)), so E(x) − E(x') = log p(x') − log p(x) for the exact distribution of this grid
#    (all 3^6 = 729 states enumerated, from THRML's own factors): this catches any edge of the wrong kind.
_states = all_states(2, 3, 3)
_log_p = np.log(exact_distribution(_params))
_e = check_array(energy(_states, _params), "energy of all 729 states of the 2x3 grid", shape=(729,))
check_close(_e - _e[0], -(_log_p - _log_p[0]), "E(x) − E(x₀) against −log p(x)/p(x₀)", rtol=1e-4, atol=1e-4)
# 3. Any batch shape: a (2, 4) batch of states gives (2, 4) energies, each the energy of its state alone.
_batch = _states[::97][:8].reshape(2, 4, 2, 3)
_eb = check_array(energy(_batch, _params), "energy(x, params) for a (2, 4) batch of states", shape=(2, 4))
check_close(_eb[1, 2], energy(_batch[1, 2], _params), "a state's energy in a (2, 4) batch and alone", rtol=1e-6)
print("energy: visible tests pass.")

# %% nbgrader={"grade_id": "energy-hidden", "points": 6}
# Hidden tests for energy run when your notebook is graded.
### BEGIN HIDDEN TESTS
def _brute_energy(state, b, W_h, W_v, wrap=False, transpose=False, twice=False):
    """E(x) by loops over pixels and edges, with switches that reproduce common mistakes."""
    H, W = state.shape
    total = 0.0
    for r in range(H):
        for c in range(W):
            total -= b[r, c, state[r, c]]
    for r in range(H):
        for c in range(W if wrap else W - 1):
            a, z = state[r, c], state[r, (c + 1) % W]
            total -= (W_h[z, a] if transpose else W_h[a, z]) + (W_h[z, a] if twice else 0.0)
    for r in range(H if wrap else H - 1):
        for c in range(W):
            a, z = state[r, c], state[(r + 1) % H, c]
            total -= (W_v[z, a] if transpose else W_v[a, z]) + (W_v[z, a] if twice else 0.0)
    return total


_rng = np.random.default_rng(21)
for (_H, _W, _K, _batch) in [(2, 3, 4, (6,)), (3, 5, 2, (2, 3)), (4, 2, 3, ()), (1, 4, 4, (3,))]:
    _p = random_params(_H, _W, _K, scale=1.0, seed=_H * 10 + _W)
    _x = _rng.integers(0, _K, size=(*_batch, _H, _W)).astype(np.uint8)
    _flat = _x.reshape(-1, _H, _W)
    _want = np.array([_brute_energy(s, *_p) for s in _flat]).reshape(_batch)
    _x_before = _x.copy()
    _got = energy(_x, _p)
    if _batch:  # a single state may give a float or a 0-d array; check_close reads either as a number
        _got = check_array(_got, f"energy on a batch {_batch} of {_H}x{_W} grids", shape=_batch)
    check_close(
        _got, _want, f"energy on {_H}x{_W} grids with K={_K}", rtol=1e-4, atol=1e-4,
        mistakes={
            "couplings transposed: W_h[x_right, x_left] / W_v[x_lower, x_upper]": np.array(
                [_brute_energy(s, *_p, transpose=True) for s in _flat]).reshape(_batch),
            "each edge counted twice (once in each direction)": np.array(
                [_brute_energy(s, *_p, twice=True) for s in _flat]).reshape(_batch),
            "the grid wraps around (np.roll adds edges between opposite borders)": np.array(
                [_brute_energy(s, *_p, wrap=True) for s in _flat]).reshape(_batch),
            "the wrong sign: E should be minus the sum of the log-potentials": -_want,
        },
    )
    check_close(_x, _x_before, "the input x of energy (it must not be modified)")
# int64 states give the same energies as uint8 ones.
_p = random_params(2, 3, 4, seed=5)
_x = _rng.integers(0, 4, size=(4, 2, 3))
check_close(energy(_x, _p), energy(_x.astype(np.uint8), _p), "energy of int64 vs uint8 states", rtol=1e-6)
print("energy: hidden tests pass.")
### END HIDDEN TESTS

# %% [markdown]
# **A hand-made model.** Before any training we can set parameters from counts: the bias of a pixel
# from how often each level occurs there, and each coupling from how often two levels sit side by side,
# relative to chance. (This is *not* maximum likelihood, only a sensible guess.) Does such a model give
# real digits a lower energy than the same pixels shuffled, or than noise?

# %%
K = 4
train_levels = discretize(images, K)
eps = 1.0
counts = np.stack([(train_levels == k).sum(axis=0) for k in range(K)], axis=-1) + eps
b_init = np.log(counts / counts.sum(axis=-1, keepdims=True))
marginal = np.bincount(train_levels.ravel(), minlength=K) / train_levels.size


def pair_log_ratio(left, right):
    joint = np.zeros((K, K)) + eps
    np.add.at(joint, (left.ravel(), right.ravel()), 1.0)
    joint /= joint.sum()
    return 0.5 * np.log(joint / np.outer(marginal, marginal))


hand_made = PottsParams(
    b=b_init,
    W_h=pair_log_ratio(train_levels[:, :, :-1], train_levels[:, :, 1:]),
    W_v=pair_log_ratio(train_levels[:, :-1, :], train_levels[:, 1:, :]),
)
rng = np.random.default_rng(0)
real = train_levels[some[:300]]
shuffled = np.stack([rng.permutation(d.ravel()).reshape(28, 28) for d in real])
noise = rng.integers(0, K, size=(300, 28, 28)).astype(np.uint8)
fig, ax = plt.subplots(figsize=(7, 3.4))
for name, batch in [("real digits", real), ("shuffled pixels", shuffled), ("uniform noise", noise)]:
    ax.hist(energy(batch, hand_made), bins=40, alpha=0.6, label=name)
    print(f"hand-made model, mean energy of {name}: {np.mean(energy(batch, hand_made)):.1f}")
ax.legend()
label(ax, "Energies under the hand-made Potts model", "E(x)", "number of images")
plt.show()

fig, axes = plt.subplots(1, 2, figsize=(7, 3.2))
for ax, (name, W) in zip(axes, [("W_h (left, right)", hand_made.W_h), ("W_v (upper, lower)", hand_made.W_v)]):
    im = ax.imshow(W, cmap="RdBu_r", vmin=-1.5, vmax=1.5)
    label(ax, name, "level of the second pixel", "level of the first pixel")
fig.colorbar(im, ax=axes, shrink=0.8)
plt.show()
ink_block = hand_made.W_h[1:, 1:]
print(f"hand-made W_h: W_h[0, 0] = {hand_made.W_h[0, 0]:.2f}, W_h[0, 3] = {hand_made.W_h[0, 3]:.2f}; "
      f"among the ink levels 1-3 the entries run from {ink_block.min():.2f} to {ink_block.max():.2f}; "
      f"the diagonal is the largest entry of every row: {bool(np.all(np.argmax(hand_made.W_h, axis=1) == np.arange(K)))}")

# %% [markdown]
# **Think:** the couplings mostly say that ink goes next to ink (every entry among the levels 1–3 is
# large, the diagonal a little larger) and that background next to dark ink is unlikely (W_h[0, 3] ≈ −1).
# Why are W_h and W_v nearly, but not exactly, symmetric matrices? What would a transposed W_h change for
# this model, and why do the tests use deliberately asymmetric matrices?

# %% [markdown]
# **Try it.** The slider multiplies both coupling matrices of the hand-made model by λ (the biases stay)
# and redraws the three histograms (this needs a running kernel). At λ = 0 only the biases rank the
# images: do the real digits and their shuffled pixels overlap there? Watch where each group moves as
# the couplings come in.

# %% tags=["demo"]
def energy_groups() -> dict:
    """The three groups of images of the figure above, once the cell that draws it has run."""
    try:
        return {"real digits": real, "shuffled pixels": shuffled, "uniform noise": noise}
    except NameError:
        raise NotImplementedError("this needs the hand-made model above: write discretize, then rerun") from None


def redraw_energies(coupling_scale: float = 1.0) -> None:
    groups = energy_groups()
    scaled = PottsParams(hand_made.b, coupling_scale * hand_made.W_h, coupling_scale * hand_made.W_v)
    fig, ax = plt.subplots(figsize=(7, 3.4))
    for name, batch in groups.items():
        ax.hist(energy(batch, scaled), bins=40, alpha=0.6, label=name)
    ax.legend()
    label(ax, f"Energies under the hand-made model, couplings × {coupling_scale:g}", "E(x)", "number of images")
    plt.show()


controls = widgets.interactive(
    redraw_energies,
    coupling_scale=widgets.FloatSlider(value=1.0, min=0.0, max=3.0, step=0.25, continuous_update=False,
                                       description="couplings × λ"),
)
display(controls)
for scale in (0.0, 1.0):
    means = {name: np.mean(energy(batch, PottsParams(hand_made.b, scale * hand_made.W_h, scale * hand_made.W_v)))
             for name, batch in energy_groups().items()}
    print(f"couplings × {scale:g}: mean energy of " + ", ".join(f"{name} {value:.1f}" for name, value in means.items()))

# %% [markdown]
# **Think:** a digit and its shuffled pixels hold the same levels, so their bias terms differ only by
# where the levels sit. Why do the couplings move the two groups in opposite directions? And which
# entries of W_h and W_v make the energy of uniform noise change the way it does as λ grows?

# %% [markdown]
# ## 3. Colouring the grid
#
# **Why it matters.** Gibbs sampling updates one pixel from its conditional given all the others.
# Pixels that share no edge are conditionally independent given the rest, so a whole set of them can
# be updated at once, in parallel, and the result is still an exact Gibbs sweep. A **proper colouring**
# assigns each pixel a colour so that no edge joins two pixels of the same colour; every colour is then
# one block. With 4 neighbours (up, down, left, right) the checkerboard
# $c(r, s) = (r + s) \bmod 2$ needs 2 colours; with 8 neighbours (adding the diagonals) two diagonal
# neighbours share $(r+s) \bmod 2$, and 4 colours are needed.
#
# Write `grid_colouring`: a proper colouring with exactly 2 colours (4 neighbours) or exactly 4
# colours (8 neighbours), every colour used. Any such colouring is accepted.

# %% nbgrader={"grade_id": "grid-colouring", "solution": true}
def grid_colouring(height: int, width: int, n_neighbours: int) -> np.ndarray:
    """A proper colouring of an H×W grid for a 4- or 8-neighbour model.

    Args:
        height, width: the grid size (each ≥ 2).
        n_neighbours: 4 (horizontal and vertical edges) or 8 (also both diagonals).

    Returns:
        Integer array of shape (height, width) with colours 0, …, n − 1 (n = 2 for 4 neighbours,
        n = 4 for 8), every colour used, and no edge between two pixels of the same colour.
    """
    ### BEGIN SOLUTION
    rows, cols = np.indices((height, width))
    if n_neighbours == 4:
        return (rows + cols) % 2
    return 2 * (rows % 2) + (cols % 2)
    ### END SOLUTION


# %% nbgrader={"grade_id": "grid-colouring-visible", "points": 2}
# Both neighbourhoods on a 28x28 and a 3x5 grid (not square, so a (width, height) array shows).
# colouring_conflicts counts the edges, diagonals included for 8 neighbours, whose ends share a colour.
for (_H, _W), (_n, _n_colours) in [((28, 28), (4, 2)), ((3, 5), (4, 2)), ((28, 28), (8, 4)), ((3, 5), (8, 4))]:
    _name = f"grid_colouring({_H}, {_W}, {_n})"
    _raw = grid_colouring(_H, _W, _n)
    _c = check_array(_raw, _name, shape=(_H, _W), dtype=getattr(_raw, "dtype", None), finite=False)
    assert np.issubdtype(_c.dtype, np.integer), f"{_name}: the colours should be integers, got {_c.dtype}"
    _used = sorted(np.unique(_c).tolist())
    assert _used == list(range(_n_colours)), f"{_name}: expected colours {list(range(_n_colours))}, got {_used}"
    assert colouring_conflicts(_c, _n) == 0, f"{_name}: {colouring_conflicts(_c, _n)} edges join two pixels of the same colour"
print("grid_colouring: visible tests pass.")

# %% nbgrader={"grade_id": "grid-colouring-hidden", "points": 3}
# Hidden tests for grid_colouring run when your notebook is graded.
### BEGIN HIDDEN TESTS
def _conflicts(colours, diagonals):
    """Edges whose two ends share a colour, by a loop over every pixel and neighbour offset."""
    H, W = colours.shape
    offsets = [(0, 1), (1, 0)] + ([(1, 1), (1, -1)] if diagonals else [])
    bad = []
    for r in range(H):
        for s in range(W):
            for dr, ds in offsets:
                if 0 <= r + dr < H and 0 <= s + ds < W and colours[r, s] == colours[r + dr, s + ds]:
                    bad.append(((r, s), (r + dr, s + ds)))
    return bad


for _H, _W in [(2, 2), (2, 3), (3, 2), (5, 7), (6, 4), (28, 28)]:
    for _n, _n_colours in ((4, 2), (8, 4)):
        _name = f"grid_colouring({_H}, {_W}, {_n})"
        _raw = grid_colouring(_H, _W, _n)
        _c = check_array(_raw, _name, shape=(_H, _W), dtype=getattr(_raw, "dtype", None), finite=False)
        assert np.issubdtype(_c.dtype, np.integer), f"{_name}: the colours should be integers, got {_c.dtype}"
        _used = sorted(np.unique(_c).tolist())
        assert _used == list(range(_n_colours)), f"{_name}: expected colours {list(range(_n_colours))}, got {_used}"
        _bad = _conflicts(_c, diagonals=(_n == 8))
        assert not _bad, f"{_name}: {len(_bad)} edges join two pixels of the same colour, e.g. {_bad[0]}"
print("grid_colouring: hidden tests pass.")
### END HIDDEN TESTS

# %%
fig, axes = plt.subplots(1, 2, figsize=(7.5, 3.8))
for ax, n in zip(axes, (4, 8)):
    colours = grid_colouring(8, 8, n)
    ax.imshow(colours, cmap="tab10", vmin=0, vmax=9)
    for r in range(8):
        for s in range(8):
            ax.text(s, r, str(colours[r, s]), ha="center", va="center", fontsize=8, color="white")
    label(ax, f"{n} neighbours: {colours.max() + 1} colours, {colouring_conflicts(colours, n)} conflicts",
          "column", "row")
plt.show()

# %% [markdown] nbgrader={"grade_id": "colouring-insight", "solution": true, "points": 2}
# **Question (2 points).** Suppose you update *both* checkerboard colours at once, every pixel drawn
# from its conditional given the grid as it was *before* the sweep. Is that still a Gibbs sampler of
# p(x)? Argue from a 1×2 grid with K = 2 and a strong coupling favouring equal neighbours (what happens
# to a state with unequal pixels?), and say why updating one colour at a time fixes it.
#
# ### BEGIN SOLUTION
# No. The synchronous update draws each pixel from p(x_i | x_old neighbours): the new state's law is a
# product of conditionals evaluated at the old state, which in general does not leave p invariant.
# On a 1×2 grid with W[a, a] large, from (0, 1) the left pixel copies the old right (→1) and the right
# copies the old left (→0): the chain flips to (1, 0) and back, oscillating between the two unlikely
# states, and its stationary distribution is not p. Updating one colour at a time is a sequence of exact
# single-site Gibbs updates (pixels of one colour are conditionally independent given the other colour),
# each of which leaves p invariant. Rubric: 2 points for "not invariant" with the 1×2 oscillation (or an
# equivalent argument) and why colour-by-colour is exact; 1 for a correct conclusion without argument.
# ### END SOLUTION

# %% [markdown]
# ## Summary
#
# - Digits become K-level images with `discretize` (K = 4 from now on).
# - The model is a Potts grid: per-pixel biases plus one shared K×K coupling per direction, with
#   weights as log-potentials, E = −(biases + couplings), and no wrap-around.
# - A proper colouring (2 colours for 4 neighbours, 4 for 8) splits the grid into blocks of conditionally
#   independent pixels: the basis of block Gibbs sampling in the next notebook.
#
# **Questions to take away.**
# 1. How many parameters does our model have at K = 4? How many would per-edge Potts
#    matrices have had?
# 2. The hand-made model already ranks real digits below shuffled pixels. Does that mean its samples
#    will look like digits? (Keep your answer; notebook 4 checks it.)
# 3. For a model with only horizontal edges, how few colours would do?
