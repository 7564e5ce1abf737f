# %% [markdown]
# # Lab 4.3: Training the Potts grid by contrastive divergence
#
# An energy-based model is trained by pushing the energy of data down and the energy of the model's
# own samples up. The "model's own samples" are where the sampler of notebook 4.2 earns its keep: every
# gradient step needs fresh negatives. Here THRML draws them, you write the gradient, and we train on
# one digit class, then on all ten.
#
# **Learning objectives.** By the end you can
# 1. derive the log-likelihood gradient of an exponential-family EBM as data moments minus model moments;
# 2. implement that gradient for the Potts grid's biases and couplings (moment matching), and check it
#    against finite differences of the energy;
# 3. train with CD-k (chains restarted at the data) and persistent CD (chains carried across steps),
#    with THRML drawing the negatives and Adam taking the steps;
# 4. monitor training by the energy gap and by looking at samples, and say what each can and cannot
#    tell you.
#
# **Prerequisites.** Notebooks 4.1 and 4.2; gradient descent and Adam.
#
# **Estimated time.** 45 minutes (training runs take about a minute).

# %%
import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
from thrml.models import FactorizedEBM
from tqdm.auto import tqdm

from labkit import runtime, seed_everything
from labkit.checks import check_array, check_close
from labkit.mnist import load_mnist
from labkit.plots import label, use_course_style
from labkit.potts import Adam, PottsParams, ThrmlGrid, compiler_options, random_params

seed_everything(0)
use_course_style()
print(runtime.describe())

K = 4
data = load_mnist()
grey8 = np.round(data.x_train.reshape(-1, 28, 28) * 255).astype(np.int64)
digits = ((grey8 * K) >> 8).astype(np.uint8)  # 8-bit grey to 4 levels by a lookup on the top two bits
print("training digits:", digits.shape, digits.dtype)

# %% [markdown]
# ## 1. The gradient: data moments minus model moments
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
        n_levels: K.

    Returns:
        PottsParams(b, W_h, W_v) of gradients (float arrays): b of shape (H, W, K), W_h and W_v of
        shape (K, K); each the mean over the model batch of T(x) minus the mean over the data batch.
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
# One 1x2 data image (levels 0, 1) and one model sample (1, 1), K = 2.
_g = cd_gradient(np.array([[[0, 1]]]), np.array([[[1, 1]]]), 2)
assert isinstance(_g, tuple) and len(_g) == 3, "cd_gradient should return PottsParams(b, W_h, W_v)"
_b = check_array(_g[0], "gradient of b", shape=(1, 2, 2))
_Wh = check_array(_g[1], "gradient of W_h", shape=(2, 2))
_Wv = check_array(_g[2], "gradient of W_v", shape=(2, 2))
# The model puts its left pixel at level 1 (+1) where the data had level 0 (−1); the pair (1, 1)
# replaces the data's pair (0, 1); there are no vertical edges.
check_close(_b, [[[-1.0, 1.0], [0.0, 0.0]]], "gradient of b")
check_close(_Wh, [[0.0, -1.0], [0.0, 1.0]], "gradient of W_h", mistakes={"sign flipped: data minus model": [[0.0, 1.0], [0.0, -1.0]]})
check_close(_Wv, np.zeros((2, 2)), "gradient of W_v")
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
for (_H, _W, _K, _Bd, _Bm) in [(2, 3, 3, 4, 7), (3, 2, 2, 5, 5), (3, 4, 4, 6, 3)]:
    _p = random_params(_H, _W, _K, seed=_H + _W)
    _xd = _rng.integers(0, _K, size=(_Bd, _H, _W)).astype(np.uint8)
    _xm = _rng.integers(0, _K, size=(_Bm, _H, _W)).astype(np.uint8)
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
# ## 2. The training loop
#
# Each step draws a batch of digits, runs the THRML sampler for k sweeps to get negatives, forms the
# gradient with your `cd_gradient`, and takes an Adam step on all parameters. Two ways to start the
# chains:
#
# - **CD-k**: restart every chain at the data batch and run k sweeps. Cheap and low-variance, but the
#   negatives never wander far from the data, so the model never learns where *else* it puts mass.
# - **Persistent CD (PCD)**: keep one set of chains across all steps; each step continues them for k
#   sweeps. With a small learning rate the chains track the model, and the negatives explore.
#
# We start with the biases at the data's log-frequencies and the couplings at 0 (independent pixels).
# The monitor is the **energy gap** $\bar E_{\text{data}} - \bar E_{\text{model}}$: strongly negative
# means the model's samples sit at much higher energy than data, i.e. the model still "knows" its
# samples are not data.

# %%
def initial_params(x):
    counts = np.stack([(x == k).sum(axis=0) for k in range(K)], axis=-1) + 1.0
    return PottsParams(np.log(counts / counts.sum(-1, keepdims=True)), np.zeros((K, K)), np.zeros((K, K)))


batch = 64
cd_k = 5
grid = ThrmlGrid(28, 28, K)
sample = grid.sampler(cd_k)  # compiled once, reused by every run below


def thrml_energy(b, W_h, W_v, x):
    """E(x) for states x of shape (B, 28, 28) from THRML's FactorizedEBM over the grid's factors; shape (B,)."""
    ebm = FactorizedEBM(grid.factors(b, W_h, W_v))
    states = jnp.asarray(x, jnp.uint8).reshape(len(x), -1)
    return jax.vmap(lambda s: ebm.energy([s], [grid.all_block]))(states)


energy = jax.jit(thrml_energy, compiler_options=compiler_options())


def train(x_train, steps, persistent, lr=0.05, seed=0, snapshots=4):
    """Train a Potts grid on x_train by CD-k or PCD with THRML negatives; returns params, history, snapshots."""
    rng = np.random.default_rng(seed)
    key = jax.random.key(seed)
    params = initial_params(x_train)
    opt = Adam(params, lr=lr)
    chains = rng.integers(0, K, size=(batch, 28, 28)).astype(np.uint8)
    history = {"energy gap": [], "E data": [], "E model": []}
    shots = []
    every = max(steps // snapshots, 1)
    for step in tqdm(range(steps), desc="PCD" if persistent else f"CD-{cd_k}", leave=False):
        x_data = x_train[rng.integers(0, len(x_train), size=batch)]
        key, sub = jax.random.split(key)
        start = chains if persistent else x_data
        negatives = np.asarray(sample(*params, jax.random.split(sub, batch), start))
        if persistent:
            chains = negatives
        grads = cd_gradient(x_data, negatives, K)
        params = opt.step(params, grads)
        e_data, e_model = float(energy(*params, x_data).mean()), float(energy(*params, negatives).mean())
        history["energy gap"].append(e_data - e_model)
        history["E data"].append(e_data)
        history["E model"].append(e_model)
        if (step + 1) % every == 0:
            shots.append((step + 1, negatives[:8].copy()))
    return params, history, shots


def show_snapshots(shots, title):
    fig, axes = plt.subplots(len(shots), 8, figsize=(8, 1.1 * len(shots) + 0.4), squeeze=False)
    for row, (step, imgs) in enumerate(shots):
        for col in range(8):
            axes[row, col].imshow(imgs[col], cmap="gray_r", vmin=0, vmax=K - 1)
            axes[row, col].axis("off")
        axes[row, 0].set_title(f"step {step}", fontsize=8, loc="left")
    fig.suptitle(title)
    plt.show()


# %% [markdown]
# ## 3. One digit: CD-5 against persistent CD
#
# We train on the 3s only (about 400 digits in the embedded subset).

# %%
threes = digits[data.y_train == 3]
steps = runtime.scaled(200, 4)
runs = {"CD-5": train(threes, steps, persistent=False)}

# %%
runs["PCD-5"] = train(threes, steps, persistent=True)

fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
for name, (_, history, _) in runs.items():
    axes[0].plot(history["energy gap"], label=name)
    axes[1].plot(history["E data"], label=f"{name}: data")
    axes[1].plot(history["E model"], "--", label=f"{name}: samples")
axes[0].legend()
axes[1].legend(fontsize=7)
label(axes[0], "Energy gap during training (3s)", "step", "mean E(data) − mean E(samples)")
label(axes[1], "Energies of data and negatives", "step", "mean energy")
plt.show()
for name, (_, _, shots) in runs.items():
    show_snapshots(shots, f"{name} negatives during training on 3s")

# %% [markdown]
# What did the two runs learn? The couplings are 4×4 tables; their diagonal says how strongly equal
# neighbours attract. And the real test of a generative model: fresh chains from noise, run long.

# %%
long_run = grid.sampler(runtime.scaled(300, cd_k))  # test runs reuse the compiled CD-5 sampler
fig, axes = plt.subplots(2, 9, figsize=(10, 2.8))
for row, (name, (params, _, _)) in enumerate(runs.items()):
    keys = jax.random.split(jax.random.key(7), 8)
    noise = np.random.default_rng(7).integers(0, K, size=(8, 28, 28)).astype(np.uint8)
    fresh = np.asarray(long_run(*params, keys, noise))
    axes[row, 0].imshow(params.W_h, cmap="RdBu_r", vmin=-2, vmax=2)
    axes[row, 0].set_title(f"{name} W_h", fontsize=8)
    axes[row, 0].axis("off")
    for col in range(8):
        axes[row, col + 1].imshow(fresh[col], cmap="gray_r", vmin=0, vmax=K - 1)
        axes[row, col + 1].axis("off")
fig.suptitle("Learned W_h, and samples from noise after long chains")
plt.show()

# %% [markdown]
# **Think:** CD-5's negatives start at data, so its energy gap looks small from the start. Does a small
# gap mean the model is good? Compare with the samples from noise. If PCD's gap swings up and down in
# waves, the parameters are moving faster than the persistent chains can follow (a classic PCD
# instability at a large learning rate): what would you change?

# %% [markdown]
# ## 4. All digits
#
# The same PCD run on all ten classes. A single Potts grid must now place its probability mass on ten
# different shapes with one set of biases.

# %%
all_params, all_history, all_shots = train(digits, runtime.scaled(250, 4), persistent=True, seed=1)
fig, ax = plt.subplots(figsize=(7, 3.2))
ax.plot(all_history["energy gap"])
label(ax, "PCD-5 on all digits: energy gap", "step", "mean E(data) − mean E(samples)")
plt.show()
show_snapshots(all_shots, "PCD-5 negatives during training on all digits")

# %% [markdown] nbgrader={"grade_id": "training-insight", "solution": true, "points": 3}
# **Question (3 points).** (a) Why is the energy gap not a loss you can read like a training loss:
# what value does it approach when the model is perfect, and why can a bad model also reach it?
# (b) From your runs, how do CD-5 and PCD-5 differ in what their negatives look like and in what they
# learn? (c) What do the samples of the all-digit model look like, and what in the model limits them?
#
# ### BEGIN SOLUTION
# (a) When p_θ = p_data, samples and data have the same energy distribution, so the gap tends to 0;
# but the gap is also 0 whenever the negatives come from where the data are (CD-k restarted at data,
# or chains that never mix), whatever the model does elsewhere. It is a diagnostic of the negatives,
# not of the likelihood (log Z is unknown). (b) CD-5 negatives stay close to the data batch (they
# look like slightly noisy digits), so its gradient is small and the model is never told about the
# spurious modes far from data: fresh chains from noise produce blotches. PCD's chains wander and show
# what the model actually generates; it corrects mass in the wrong places and learns stronger
# couplings; on one class its samples from noise look like rough 3s, because the per-pixel biases of a
# single class already draw the mean shape. Its energy gap oscillates at lr = 0.05: the model outruns
# the chains, and a smaller learning rate (or more sweeps per step) damps it. (c) Blurry blobs: the
# biases give a mean digit "cloud" and the nearest-neighbour couplings only smooth locally; a pairwise
# grid has no variables that encode global shape or class, so it cannot represent "this is a 3".
# Rubric: 1 point per part.
# ### END SOLUTION

# %% [markdown]
# ## Summary
#
# - The gradient of the negative log-likelihood is model moments minus data moments; for the Potts grid
#   these are pixel-level frequencies and neighbour-pair counts.
# - CD-k restarts chains at the data; persistent CD carries them, and its negatives show what the model
#   really generates. THRML draws them in one compiled, batched call per step.
# - The energy gap measures the negatives, not the model; samples from noise are the honest check.
#
# **Questions to take away.**
# 1. How many THRML sweeps per step could you afford if a step had to take 10 ms on this machine?
# 2. Would a larger k or a smaller learning rate help PCD more here? How would you find out?
# 3. What extra variables would let the model represent digit shape? (Notebook 4.4 tries one answer.)
