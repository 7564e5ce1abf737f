# %% [markdown]
# # Lab 4.3: Training the Potts grid by contrastive divergence
#
# An energy-based model is trained by pushing the energy of data down and the energy of the model's
# own samples up. The "model's own samples" are where the sampler of notebook 4.2 earns its keep: every
# gradient step needs fresh negatives. Here THRML draws them, you write the gradient, and we find out
# what it takes for the training to converge, then train on one digit class, on all ten, and one model
# per digit.
#
# **Learning objectives.** By the end you can
# 1. derive the log-likelihood gradient of an exponential-family EBM as data moments minus model moments;
# 2. implement that gradient for the Potts grid's biases and couplings (moment matching), and check it
#    against finite differences of the energy;
# 3. train with CD-k (chains restarted at the data) and persistent CD (chains carried across steps),
#    with THRML drawing the negatives, and say why the step size of the couplings decides whether PCD
#    converges;
# 4. show convergence by moment matching (pixel and neighbour-pair frequencies, mean energies) against
#    a noise floor, and say what the energy gap and samples can and cannot tell you.
#
# **Prerequisites.** Notebooks 4.1 and 4.2; gradient descent and Adam.
#
# **Estimated time.** 45 minutes (the training runs take several minutes).

# %%
import ipywidgets as widgets
import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display
from thrml.models import FactorizedEBM
from tqdm.auto import tqdm

from labkit import runtime, seed_everything
from labkit.checks import check_array, check_close
from labkit.mnist import load_mnist
from labkit.plots import label, use_course_style
from labkit.ebm_fit import fit_pcd, per_edge
from labkit.potts import PottsParams, ThrmlGrid, compiler_options, random_params

seed_everything(0)
use_course_style()
print(runtime.describe())

K = 4
data = load_mnist()
grey8 = np.round(data.x_train.reshape(-1, 28, 28) * 255).astype(np.int64)
digits = (grey8 >> 6).astype(np.uint8)  # the top two bits of each 8-bit grey value: 4 levels (K = 4 only)
print("training digits:", digits.shape, digits.dtype)

# %% [markdown]
# ## 1. The gradient: data moments minus model moments
#
# (In this notebook θ = (b, W_h, W_v) stands for all the parameters, not for notebook 4.2's local logits θ_i.)
#
# **Why it matters.** We cannot compute $\log p_\theta(x) = -E_\theta(x) - \log Z_\theta$, but we can
# compute its gradient up to an expectation we can *sample*. For the average negative log-likelihood
# $\mathcal{L}(\theta) = \mathbb{E}_{\text{data}}[E_\theta(x)] + \log Z_\theta$,
#
# $$
# \nabla_\theta \mathcal{L} = \mathbb{E}_{\text{data}}\big[\nabla_\theta E_\theta(x)\big]
#                            - \mathbb{E}_{p_\theta}\big[\nabla_\theta E_\theta(x)\big].
# $$
#
# Our energy is *linear* in its parameters, $E_\theta(x) = -\langle \theta, T(x)\rangle$, so
# $\nabla_\theta E = -T(x)$ with the sufficient statistics
#
# $$
# T_{b_i[k]}(x) = \mathbb{1}[x_i = k], \qquad
# T_{W_h[a, c]}(x) = \#\{(i, j) \in \mathcal{H} : x_i = a,\ x_j = c\}, \qquad
# T_{W_v[a, c]}(x) = \#\{(i, j) \in \mathcal{V} : x_i = a,\ x_j = c\},
# $$
#
# (counts over the edges of one image, with $i$ the left or upper pixel), and
#
# $$
# \nabla_\theta \mathcal{L} = \mathbb{E}_{p_\theta}[T(x)] - \mathbb{E}_{\text{data}}[T(x)] .
# $$
#
# Training is **moment matching**: at the optimum the model reproduces the data's pixel-level
# frequencies and neighbour-pair counts. Contrastive divergence replaces $\mathbb{E}_{p_\theta}$ by an
# average over a few samples from a short Markov chain.

# %% nbgrader={"grade_id": "cd-gradient", "solution": true}
def cd_gradient(x_data: np.ndarray, x_model: np.ndarray, n_levels: int) -> PottsParams:
    """The contrastive-divergence estimate of ∇_θ L: model moments minus data moments.

    Args:
        x_data: a batch of data states, integer levels of shape (B_data, H, W).
        x_model: a batch of model samples (negatives), shape (B_model, H, W); B_model may differ.
        n_levels: K, the number of levels of the model. It sets the shapes below even when the batches
            use fewer levels (a level no state takes gets a gradient of 0): never infer K from the data.

    Returns:
        PottsParams(b, W_h, W_v) of gradients (float arrays): b of shape (H, W, K), W_h and W_v of
        shape (K, K); each the mean over the model batch of T(x) minus the mean over the data batch
        (T's pair counts are summed over the edges of each image, not averaged).
    """
    ### BEGIN SOLUTION
    def moments(x):
        onehot = np.eye(n_levels)[np.asarray(x).astype(np.intp)]  # (B, H, W, K)
        b = onehot.mean(axis=0)
        h = np.einsum("nrsa,nrsc->ac", onehot[:, :, :-1], onehot[:, :, 1:]) / len(onehot)
        v = np.einsum("nrsa,nrsc->ac", onehot[:, :-1, :], onehot[:, 1:, :]) / len(onehot)
        return b, h, v

    data_m, model_m = moments(x_data), moments(x_model)
    return PottsParams(*(m - d for m, d in zip(model_m, data_m)))
    ### END SOLUTION


# %% nbgrader={"grade_id": "cd-gradient-visible", "points": 3}
# The energy is linear in the parameters, E_θ(x) = −⟨θ, T(x)⟩, so along any direction Δ = (Δb, ΔW_h, ΔW_v)
#   ⟨∇_θ L, Δ⟩ = mean over the data of E_Δ(x) − mean over the negatives of E_Δ(x),
# with E_Δ the energy whose parameters are Δ, here from THRML's FactorizedEBM (an independent reference).
# Batches of 5 and 8 states on a 2x3 grid; n_levels = 4 though the states use only levels 0 to 2.
_H, _W, _K = 2, 3, 4
_rng = np.random.default_rng(3)
_xd = _rng.integers(0, 3, size=(5, _H, _W)).astype(np.uint8)
_xm = _rng.integers(0, 3, size=(8, _H, _W)).astype(np.uint8)
_g = cd_gradient(_xd, _xm, _K)
assert isinstance(_g, tuple) and len(_g) == 3, "cd_gradient should return PottsParams(b, W_h, W_v)"
_shapes = {"b": (_H, _W, _K), "W_h": (_K, _K), "W_v": (_K, _K)}
_grads = [check_array(_gi, f"gradient of {_name}", shape=_shape) for _gi, (_name, _shape) in zip(_g, _shapes.items())]
_grid = ThrmlGrid(_H, _W, _K)
_energies = jax.jit(lambda b, W_h, W_v, x: jax.vmap(
    lambda s: FactorizedEBM(_grid.factors(b, W_h, W_v)).energy([s], [_grid.all_block]))(x.reshape(len(x), -1)),
    compiler_options=compiler_options())
_both = jnp.asarray(np.concatenate([_xd, _xm]))  # one batch, one compilation
for _which, (_name, _shape) in enumerate(_shapes.items()):
    _deltas = _rng.normal(size=(3, *_shape))  # three random directions in this parameter alone
    _got, _want = [], []
    for _delta in _deltas:
        _params = [np.zeros(_shapes["b"]), np.zeros((_K, _K)), np.zeros((_K, _K))]
        _params[_which] = _delta
        _e = np.asarray(_energies(*(jnp.asarray(_a, jnp.float32) for _a in _params), _both), np.float64)
        _got.append(float(np.sum(np.asarray(_grads[_which], np.float64) * _delta)))
        _want.append(_e[:len(_xd)].mean() - _e[len(_xd):].mean())
    check_close(np.array(_got), _want, f"⟨gradient of {_name}, Δ⟩ for three directions Δ", rtol=1e-4, atol=1e-4,
                mistakes={"sign flipped: data minus model": -np.array(_want)})
for _gi, (_name, _shape) in zip(cd_gradient(_xd, _xd, _K), _shapes.items()):
    check_close(check_array(_gi, f"gradient of {_name}", shape=_shape), np.zeros(_shape),
                f"gradient of {_name} when the negatives are the data (it must be 0)")
print("cd_gradient: visible tests pass.")

# %% nbgrader={"grade_id": "cd-gradient-hidden", "points": 6}
# Hidden tests for cd_gradient run when your notebook is graded.
### BEGIN HIDDEN TESTS
def _loop_energy(state, b, W_h, W_v):
    H, W = state.shape
    e = -sum(b[r, s, state[r, s]] for r in range(H) for s in range(W))
    e -= sum(W_h[state[r, s], state[r, s + 1]] for r in range(H) for s in range(W - 1))
    e -= sum(W_v[state[r, s], state[r + 1, s]] for r in range(H - 1) for s in range(W))
    return e


def _surrogate(params, x_data, x_model):
    """mean E(data) − mean E(model): its gradient is the CD gradient (energies by loops)."""
    return (np.mean([_loop_energy(s, *params) for s in x_data]) - np.mean([_loop_energy(s, *params) for s in x_model]))


_rng = np.random.default_rng(61)
# (H, W, K, data batch, model batch, the number of levels the states use: fewer than K in the last case,
# where the gradients must still have K levels)
for (_H, _W, _K, _Bd, _Bm, _used) in [(2, 3, 3, 4, 7, 3), (3, 2, 2, 5, 5, 2), (3, 4, 4, 6, 3, 4), (2, 3, 4, 4, 6, 2)]:
    _p = random_params(_H, _W, _K, seed=_H + _W)
    _xd = _rng.integers(0, _used, size=(_Bd, _H, _W)).astype(np.uint8)
    _xm = _rng.integers(0, _used, size=(_Bm, _H, _W)).astype(np.uint8)
    _xd_before, _xm_before = _xd.copy(), _xm.copy()
    _g = cd_gradient(_xd, _xm, _K)
    assert isinstance(_g, tuple) and len(_g) == 3, "cd_gradient should return PottsParams(b, W_h, W_v)"
    # The energy is linear in the parameters, so a unit finite difference is the exact derivative.
    _base = _surrogate(_p, _xd, _xm)
    for _which, (_name, _shape) in enumerate([("b", (_H, _W, _K)), ("W_h", (_K, _K)), ("W_v", (_K, _K))]):
        _want = np.zeros(_shape)
        for _idx in np.ndindex(*_shape):
            _bumped = [np.array(a, dtype=np.float64) for a in _p]
            _bumped[_which][_idx] += 1.0
            # dL/dθ = E_data[∇E] − E_model[∇E], and d(surrogate)/dθ is exactly that.
            _want[_idx] = _surrogate(PottsParams(*_bumped), _xd, _xm) - _base
        _got = check_array(_g[_which], f"gradient of {_name} on {_H}x{_W} grids", shape=_shape)
        _mistakes = {"the sign is flipped: it should be model moments minus data moments": -_want}
        if _name != "b":
            _mistakes["pair counts transposed (right/lower pixel as the first index)"] = _want.T
            _mistakes["pair counts symmetrised (each edge counted in both orders)"] = _want + _want.T
            _n_edges = _H * (_W - 1) if _name == "W_h" else (_H - 1) * _W
            _mistakes["pair counts averaged over edges: the energy sums over edges"] = _want / _n_edges
        check_close(_got, _want, f"gradient of {_name} on {_H}x{_W} grids (K={_K})", rtol=1e-5, atol=1e-6,
                    mistakes=_mistakes)
    check_close(_xd, _xd_before, "x_data after cd_gradient (it must not be modified)")
    check_close(_xm, _xm_before, "x_model after cd_gradient (it must not be modified)")
print("cd_gradient: hidden tests pass.")
### END HIDDEN TESTS

# %% [markdown]
# **Think:** when the negatives are the data themselves (x_model = x_data) the gradient is exactly 0.
# Why does CD-k with a small k therefore learn slowly near the data, and what does persistent CD change?

# %% [markdown]
# ## 2. The training loop, and what makes it converge
#
# Each step continues a set of chains for k sweeps with THRML, forms the gradient with your
# `cd_gradient`, and takes a step on all parameters. Two ways to run the chains:
#
# - **CD-k**: restart every chain at a batch of training digits and run k sweeps. Cheap and
#   low-variance, but the negatives never wander far from the data, so the model never learns where
#   *else* it puts mass.
# - **Persistent CD (PCD)**: keep one set of chains across all steps; each step continues them for k
#   sweeps. With a small enough step the chains track the model, and the negatives explore.
#
# `labkit.ebm_fit.fit_pcd` runs either, with four choices that make PCD converge on this model:
#
# 1. **One step size for frequencies.** A shared coupling sits on 756 edges, so its gradient (a pair
#    *count*) is hundreds of times larger than a bias's, and one step on it moves an image's energy by
#    tens of nats. The loop divides the coupling gradient by the number of edges (pair counts become
#    pair *frequencies*), so every entry of the gradient is a difference of frequencies in [−1, 1] and
#    one plain gradient step (no momentum) fits all of them.
# 2. **The data's moments once.** They do not change, so the loop takes them over the whole training
#    set: the gradient's only noise is the chains'.
# 3. **A decaying step with averaging.** The step is constant for the first half and decays as 1/t
#    after; the parameters are averaged over the second half, which averages the chains' noise away.
# 4. **Chains started at data**, 64 of them, 5 sweeps per step.
#
# The diagnostics are the **moment mismatch** that defines convergence (the gradient itself): the RMS
# over pixels and levels of model-minus-data level frequencies, and the largest model-minus-data
# neighbour-pair frequency; and the mean energies of data and chains, which must meet.
# We start at the independent-pixel fit: biases at the data's log-frequencies, couplings 0.

# %%
grid = ThrmlGrid(28, 28, K)
cd_k = 5
sample = grid.sampler(cd_k)  # compiled once, reused by every run below


def thrml_energy(b, W_h, W_v, x):
    """E(x) for states x of shape (B, 28, 28) from THRML's FactorizedEBM over the grid's factors; shape (B,)."""
    ebm = FactorizedEBM(grid.factors(b, W_h, W_v))
    states = jnp.asarray(x, jnp.uint8).reshape(len(x), -1)
    return jax.vmap(lambda s: ebm.energy([s], [grid.all_block]))(states)


energy = jax.jit(thrml_energy, compiler_options=compiler_options())


def gradient(x_data, x_model):
    return cd_gradient(x_data, x_model, K)


def train(x_train, steps, **options):
    """fit_pcd with this notebook's gradient, THRML sampler and energy."""
    return fit_pcd(x_train, gradient, sample, K, steps, energy=energy, **options)


def noise_floor(x_train, n, seed=0):
    """The pixel and pair mismatch of n random training digits against all of them: what chains
    drawn exactly from a perfect model would show, by sampling noise alone."""
    subset = x_train[np.random.default_rng(seed).integers(0, len(x_train), size=n)]
    g = per_edge(gradient(x_train, subset), 28, 28)
    return float(np.sqrt(np.mean(g.b**2))), float(max(np.abs(g.W_h).max(), np.abs(g.W_v).max()))


def needs(result):
    """Stop a cell whose training run has not happened (cd_gradient not written yet)."""
    if result is None:
        raise NotImplementedError("this cell needs the training run above: write cd_gradient, then rerun")


def ink(x):
    """The fraction of pixels at level ≥ 2 (grey ≥ 0.5): the binary digit's ink."""
    return float(np.mean(np.asarray(x) >= K // 2))


def show_grid(rows, title, row_names=None):
    fig, axes = plt.subplots(len(rows), len(rows[0]), figsize=(0.9 * len(rows[0]), 0.95 * len(rows) + 0.4), squeeze=False)
    for r, imgs in enumerate(rows):
        for c, img in enumerate(imgs):
            axes[r, c].imshow(img, cmap="gray_r", vmin=0, vmax=K - 1)
            axes[r, c].axis("off")
        if row_names:
            axes[r, 0].set_title(row_names[r], fontsize=8, loc="left")
    fig.suptitle(title)
    plt.show()


# %% [markdown]
# ## 3. Why the step matters: three optimizers on all digits
#
# A short run of each on all ten classes, watching the chains' ink fraction, which at the fit must
# equal the data's. Adam at lr 0.05 on the raw gradient (it takes the same step on every parameter,
# couplings included), the per-edge gradient step of `fit_pcd` at lr 1, and the same with the
# couplings' step 4 times larger.

# %%
study_steps = runtime.scaled(100, 3)
study = {}
for name, options in [("Adam lr 0.05", dict(optimizer="adam", lr=0.05)),
                      ("per-edge step, lr 1", dict(lr=1.0)),
                      ("per-edge step, couplings lr 4", dict(lr=1.0, lr_couplings=4.0))]:
    try:
        study[name] = train(digits, study_steps, seed=2, progress=name, **options)
    except NotImplementedError:
        print("cd_gradient is not written yet: the runs below need it")
        break

fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
for name, fit in study.items():
    axes[0].plot(fit.history["ink"], label=name)
    axes[1].semilogy(fit.history["pixel mismatch"], label=name)
axes[0].axhline(ink(digits), color="k", ls="--", label="data")
axes[0].legend(fontsize=7)
label(axes[0], "Ink fraction of the persistent chains", "step", "fraction of pixels at level ≥ 2")
label(axes[1], "Pixel moment mismatch", "step", "RMS model − data frequency")
plt.show()
for name, fit in study.items():
    print(f"{name:30s}: chains' ink over the last 30 steps {np.mean(fit.history['ink'][-30:]):.3f} "
          f"(min {np.min(fit.history['ink'][-30:]):.3f}, max {np.max(fit.history['ink'][-30:]):.3f}); data {ink(digits):.3f}")
for name, fit in study.items():  # fit_pcd keeps the step constant for the first half of the run
    first = fit.history["ink"][: study_steps // 2]
    print(f"{name:30s}: chains' ink over the first {study_steps // 2} steps (constant step): "
          f"min {np.min(first):.3f}, max {np.max(first):.3f}")

# %% [markdown]
# **Think:** in which runs do the chains swing between an almost blank phase and an inky one? A
# nearest-neighbour grid has two such phases; a step that moves the couplings too far at once throws
# the chains from one to the other, and the next gradient throws them back.

# %% [markdown]
# ## 4. One digit: CD-5 against persistent CD
#
# We train on the 3s only (about 400 digits in the embedded subset), with the per-edge step.

# %%
threes = digits[data.y_train == 3]
steps = runtime.scaled(100, 3)
runs = {}  # filled by the two runs below
runs["CD-5"] = train(threes, steps, persistent=False, progress="CD-5")

# %%
runs["PCD-5"] = train(threes, steps, progress="PCD-5")

fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
for name, fit in runs.items():
    gap = np.subtract(fit.history["E data"], fit.history["E chains"])
    axes[0].plot(gap, label=name)
    axes[1].semilogy(fit.history["pixel mismatch"], label=name)
axes[0].legend()
axes[1].legend()
label(axes[0], "Energy gap during training (3s)", "step", "mean E(data) − mean E(chains)")
label(axes[1], "Pixel moment mismatch (3s)", "step", "RMS model − data frequency")
plt.show()
for name, fit in runs.items():
    gap = np.subtract(fit.history["E data"], fit.history["E chains"])
    print(f"{name}: energy gap at step 0 {gap[0]:.1f}, mean over the second half {np.mean(gap[len(gap) // 2:]):.1f}, "
          f"largest |gap| over the second half {np.max(np.abs(gap[len(gap) // 2:])):.1f}")

# %% [markdown]
# What did the two runs learn? The couplings are 4×4 tables; their diagonal says how strongly equal
# neighbours attract. And the real test of a generative model: fresh chains from noise, run long.

# %%
long_sweeps = runtime.scaled(300, cd_k)
long_run = grid.sampler(long_sweeps)  # test runs reuse the compiled CD-5 sampler
fig, axes = plt.subplots(2, 9, figsize=(10, 2.8), squeeze=False)
for row, (name, fit) in enumerate(runs.items()):
    keys = jax.random.split(jax.random.key(7), 8)
    noise = np.random.default_rng(7).integers(0, K, size=(8, 28, 28)).astype(np.uint8)
    fresh = np.asarray(long_run(*fit.params, keys, noise))
    axes[row, 0].imshow(fit.params.W_h, cmap="RdBu_r", vmin=-1, vmax=1)
    axes[row, 0].set_title(f"{name} W_h", fontsize=8)
    axes[row, 0].axis("off")
    for col in range(8):
        axes[row, col + 1].imshow(fresh[col], cmap="gray_r", vmin=0, vmax=K - 1)
        axes[row, col + 1].axis("off")
    print(f"{name}: W_h diagonal {np.round(np.diag(fit.params.W_h), 2)}, ink of 8 chains from noise "
          f"after {long_sweeps} sweeps {ink(fresh):.3f} (3s: {ink(threes):.3f})")
fig.suptitle(f"Learned W_h, and samples from noise after {long_sweeps} sweeps")
plt.show()

# %% [markdown]
# **Think:** both runs show energy gaps of tens of nats. Would a small gap mean the model is good?
# CD-5's negatives are only 5 sweeps from the data: compare the two rows of samples from noise.

# %% [markdown]
# ## 5. All digits, fitted
#
# The same PCD on all ten classes, run longer. A single Potts grid must now place its probability
# mass on ten different shapes with one set of biases. The dashed lines are the noise floor: the
# mismatch that 64 digits drawn from the data itself show against all of them.

# %%
all_steps = runtime.scaled(300, 4)
all_fit = None  # until the run below succeeds
all_fit = train(digits, all_steps, seed=1, progress="PCD-5, all digits")
floor_pixel, floor_pair = noise_floor(digits, 64)

fig, axes = plt.subplots(1, 3, figsize=(12, 3.3))
axes[0].semilogy(all_fit.history["pixel mismatch"], label="pixels")
axes[0].semilogy(all_fit.history["pair mismatch"], label="neighbour pairs (max)")
axes[0].axhline(floor_pixel, color="C0", ls="--")
axes[0].axhline(floor_pair, color="C1", ls="--")
axes[0].legend(fontsize=7)
label(axes[0], "Moment mismatch, chains vs data", "step", "model − data frequency")
axes[1].plot(all_fit.history["E data"], label="data")
axes[1].plot(all_fit.history["E chains"], label="chains")
axes[1].legend()
label(axes[1], "Mean energies", "step", "mean E(x)")
axes[2].plot(all_fit.history["ink"], label="chains")
axes[2].axhline(ink(digits), color="k", ls="--", label="data")
axes[2].legend()
label(axes[2], "Ink fraction", "step", "fraction at level ≥ 2")
plt.show()

averaged = all_fit.mismatch
tail = slice(all_steps // 2, None)
print(f"all digits, averaged over the second half: pixel mismatch {np.sqrt(np.mean(averaged.b**2)):.4f} "
      f"(one step's noise floor {floor_pixel:.4f}), pair mismatch {max(np.abs(averaged.W_h).max(), np.abs(averaged.W_v).max()):.4f} "
      f"(floor {floor_pair:.4f})")
print(f"mean energy over the second half: data {np.mean(all_fit.history['E data'][tail]):.1f}, "
      f"chains {np.mean(all_fit.history['E chains'][tail]):.1f}")
print(f"ink over the second half: chains {np.mean(all_fit.history['ink'][tail]):.3f}, data {ink(digits):.3f}")
print(f"per step over the second half: pixel mismatch {np.mean(all_fit.history['pixel mismatch'][tail]):.4f} "
      f"(floor {floor_pixel:.4f}), pair mismatch {np.mean(all_fit.history['pair mismatch'][tail]):.4f} (floor {floor_pair:.4f})")
print(f"mean energy of the data under the current parameters: {all_fit.history['E data'][all_steps // 2]:.1f} "
      f"at step {all_steps // 2}, {all_fit.history['E data'][-1]:.1f} at step {all_steps}")

# %% [markdown]
# The fit is the *averaged* parameters. Its samples: the persistent chains continued for 300 more
# sweeps under them.

# %%
needs(all_fit)
keys = jax.random.split(jax.random.key(11), len(all_fit.chains))
all_samples = np.asarray(long_run(*all_fit.params, keys, all_fit.chains))
print(f"all-digit samples ({len(all_samples)} chains, {long_sweeps} sweeps more): ink {ink(all_samples):.3f}, "
      f"data {ink(digits):.3f}, ratio {ink(all_samples) / ink(digits):.2f}")
show_grid([all_samples[r * 12:(r + 1) * 12] for r in range(2)], "Samples of the all-digit Potts grid (continued PCD chains)")

# %% [markdown]
# **Read these numbers together.** Per step, over the second half, the chains' pixel frequencies sit
# at the noise floor of 64 samples, and the ink fraction is the data's; the pair frequencies stay a few
# times above their floor, and the mean energies of data and chains meet but keep rising, so the
# parameters were still moving. The averaged mismatch is far smaller than one step's floor, but that is
# partly by construction: it is the mean of the steps' gradients, so it is small whenever the parameters
# drift little over the window; it is no convergence test on its own.
# Yet the same chains, run on under the averaged parameters, lose ink, either because they were not at
# the averaged model's equilibrium or because the averaged parameters differ from the last ones the
# chains tracked (this run does not separate the two). Left alone, a nearest-neighbour grid drifts
# between an almost blank and an inky phase over hundreds to thousands of sweeps, far more than PCD's 5
# sweeps a step; whether the chains are the model's equilibrium is a mixing question, which notebook
# 4.4 asks with R̂.

# %% [markdown]
# **Try it.** How close to a phase change does the fit sit? Below, the fit's 64 persistent chains are
# continued under the averaged parameters with both couplings multiplied by β (the biases stay), for
# five values of β run in advance. Move β (this needs a running kernel) and watch the ink: does a
# change of the couplings by a tenth keep the chains near the data's ink, or throw them towards a
# blank or an inky phase?

# %%
coupling_scales = [0.8, 0.9, 1.0, 1.1, 1.2]
scale_calls = runtime.scaled(6, 1)  # each call continues the chains for cd_k sweeps
scaled_runs = {}  # β -> (the chains' ink after each call, the chains at the end)
if all_fit is not None:
    for beta in tqdm(coupling_scales, desc="chains under scaled couplings"):
        b, W_h, W_v = all_fit.params
        x, inks = all_fit.chains, [ink(all_fit.chains)]
        for call in range(scale_calls):
            x = np.asarray(sample(b, beta * W_h, beta * W_v, jax.random.split(jax.random.key(100 + call), len(x)), x))
            inks.append(ink(x))
        scaled_runs[beta] = (np.array(inks), x)


def redraw_scaled(beta: float = 1.0) -> None:
    needs(all_fit)
    inks, chains = scaled_runs[beta]
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 3.2), gridspec_kw={"width_ratios": [1, 1.5]})
    ax.plot(np.arange(len(inks)) * cd_k, inks, "o-", label="chains")
    ax.axhline(ink(digits), color="k", ls="--", label="data")
    ax.set_ylim(0, max(0.4, inks.max() * 1.1))
    ax.legend(fontsize=8)
    label(ax, f"Ink of the 64 chains, couplings × {beta:g}", "sweeps under the scaled fit", "fraction at level ≥ 2")
    bx.imshow(np.concatenate([np.concatenate(list(chains[r * 6:(r + 1) * 6]), axis=1) for r in range(2)]),
              cmap="gray_r", vmin=0, vmax=K - 1)
    bx.axis("off")
    bx.set_title(f"12 of the chains after {(len(inks) - 1) * cd_k} sweeps", fontsize=9)
    plt.show()


controls = widgets.interactive(
    redraw_scaled,
    beta=widgets.SelectionSlider(options=coupling_scales, value=1.0, continuous_update=False, description="couplings × β"),
)
display(controls)
for beta, (inks, _) in scaled_runs.items():
    print(f"couplings × {beta:g}: chains' ink {inks[0]:.3f} at the start, {inks[-1]:.3f} after {(len(inks) - 1) * cd_k} sweeps")

# %% [markdown]
# **Think:** in this run weaker couplings gave the chains *more* ink within 30 sweeps, and stronger
# ones a little less. Which entries of the fitted W_h and W_v would explain that direction? And what
# does the size of the change say about how precisely PCD must estimate the couplings?

# %% [markdown]
# ## 6. All ten digits: one model per class
#
# "Can we get all of 0–9?" One grid for all classes cannot choose a class: nothing in it is global. So
# we fit one grid per digit (class-conditional sampling: pick the class, then sample its model), 32
# chains each, and draw each model's samples **from noise**.

# %%
class_steps = runtime.scaled(100, 2)
class_sweeps = runtime.scaled(300, cd_k)
class_fits, class_samples = {}, {}
from_noise = grid.sampler(class_sweeps)


def fit_digit(digit):
    fit = fit_pcd(digits[data.y_train == digit], gradient, sample, K, class_steps, n_chains=32, seed=10 + digit)
    noise = np.random.default_rng(digit).integers(0, K, size=(8, 28, 28)).astype(np.uint8)
    return fit, np.asarray(from_noise(*fit.params, jax.random.split(jax.random.key(digit), 8), noise))


for digit in tqdm(range(5), desc="models of digits 0-4"):
    class_fits[digit], class_samples[digit] = fit_digit(digit)

# %%
for digit in tqdm(range(5, 10), desc="models of digits 5-9"):
    class_fits[digit], class_samples[digit] = fit_digit(digit)
show_grid([class_samples[d] for d in range(10)], f"Each digit's model, 8 chains from noise after {class_sweeps} sweeps",
          row_names=[str(d) for d in range(10)])
for digit in range(10):
    print(f"digit {digit}: ink of samples {ink(class_samples[digit]):.3f}, of its data {ink(digits[data.y_train == digit]):.3f}")

# The fits, for notebook 4.4 (which trains its own when this file is missing).
np.savez("potts_fits.npz", **{f"all_{n}": np.asarray(p) for n, p in zip(PottsParams._fields, all_fit.params)},
         **{f"digit{d}_{n}": np.asarray(p) for d, f in class_fits.items() for n, p in zip(PottsParams._fields, f.params)},
         all_chains=all_fit.chains)
print("wrote potts_fits.npz")

# %% [markdown] nbgrader={"grade_id": "training-insight", "solution": true, "points": 3}
# **Question (3 points).** (a) Why is the energy gap not a loss you can read like a training loss:
# what value does it approach when the model is perfect, and why can a bad model also reach it?
# (b) From your runs: which optimizer kept the chains' ink near the data's, which did not, and why?
# How do CD-5's and PCD-5's samples from noise differ? (c) What shows that the all-digit fit
# converged, what do its continued chains say about that, and what do the per-digit models' samples
# look like compared with the all-digit model's?
#
# ### BEGIN SOLUTION
# (a) When p_θ = p_data, samples and data have the same energy distribution, so the gap tends to 0;
# but a bad model can reach it too: the gap only compares the negatives with the data, so negatives
# that never get far from the data (CD-k with very short chains, or chains that never mix) give a small
# gap whatever the model does elsewhere. It diagnoses the negatives, not the likelihood (log Z is
# unknown). On this model 5 sweeps already carry CD's negatives far from the data: CD-5's gap averaged
# −19.5 nats over the second half of its run, so here neither run's gap is small.
# (b) Adam at lr 0.05 swung the chains between an almost blank and an inky phase to the end
# (ink between 0.007 and 0.381 over its last 30 steps, data 0.132): it steps every entry by about lr,
# whatever the gradient's scale, and a step on a shared coupling moves an image's energy by hundreds of
# edges' worth. With the coupling gradient divided per edge and plain steps at lr 1, the ink stayed
# between 0.123 and 0.138 over the last 30 steps. With the couplings' step 4 times larger the chains
# swung too while the step was constant (ink between 0.001 and 0.348 over the
# first 50 steps), and settled only once the step decayed (between 0.128 and 0.139 over the last 30, in
# this run): the size of the coupling step, not the optimizer's name, decides whether the chains are
# thrown between phases. CD-5 and PCD-5 learned
# nearly the same couplings on the 3s (W_h diagonals 0.79 … 0.94 and 0.77 … 0.92), but CD-5's model
# was never shown its own samples: from noise its chains end with ink 0.078 against PCD-5's 0.128 (the
# 3s: 0.147). (c) Per step over the second half, the chains' pixel mismatch sits at the noise floor of
# 64 samples (0.0250 against 0.0267), while the pair mismatch stays above its floor
# (0.0048 against 0.0008); the mean energies of data and chains meet (191.9 and 191.9 over
# the second half) but keep rising (the data's from 159.3 to 209.8), so the parameters were still
# moving; the chains' ink is the data's (0.132). The averaged mismatch (0.0013) is small partly by
# construction, being the mean of the steps' gradients. Continuing the chains under the
# averaged parameters for 300 sweeps drops their ink to 0.105 (0.80 of the data's): either the chains
# were not the averaged model's equilibrium or the averaged parameters differ from those the chains
# tracked, and the grid mixes between its blank and inky phases slowly, so matched moments along the
# way are necessary, not sufficient. The all-digit samples are blobs of the right amount of ink with no
# class; each per-digit model, drawn from noise, puts ink where its class has it, so some samples are
# recognisable (0s, 1s, some 3s and 5s) and others are blobs or nearly blank: one set of biases holds
# one class's mean shape, which one set for ten classes cannot.
# cannot. Rubric: 1 point per part, with the student's own numbers.
# ### END SOLUTION

# %% [markdown]
# ## Summary
#
# - The gradient of the negative log-likelihood is model moments minus data moments; for the Potts grid
#   these are pixel-level frequencies and neighbour-pair counts.
# - CD-k restarts chains at the data; persistent CD carries them, and its negatives show what the model
#   really generates. THRML draws them in one compiled, batched call per step.
# - PCD converges when every parameter moves on the same scale: pair counts divided per edge, plain
#   steps, a decaying step and averaged parameters. Adam (which steps every entry by about lr, whatever
#   the gradient's scale) and too large a constant coupling step both throw the chains between a
#   blank and an inky phase.
# - Convergence is moment matching against a noise floor, and mean energies that meet; the energy gap
#   alone measures the negatives, not the model. Chains continued under the fit show whether the
#   negatives were the model's equilibrium.
# - One grid per digit puts ink where that class has it, so some of its samples are recognisable digits
#   and others blobs; one grid for all ten gives blobs with no class.
#
# **Questions to take away.**
# 1. How many THRML sweeps per step could you afford if a step had to take 10 ms on this machine?
# 2. The continued chains lose ink. Would more sweeps per step, more chains, or a smaller step fix that,
#    and how would you tell?
# 3. What extra variables would let one model represent all ten shapes? (Notebook 4.4 tries one answer.)
