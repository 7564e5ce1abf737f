# %% [markdown]
# # Project 3.2: What the VAE learned — latent-space experiments
#
# Notebook 1 trained and saved the VAEs. This notebook loads them and looks inside: the training curves,
# reconstructions and samples, how close the codes come to the prior $p(z) = \mathcal{N}(0, I)$, what lies
# between two codes, and a 2-dimensional latent space drawn in full.
#
# **Learning objectives.** By the end you can
# 1. read the three training curves (total, reconstruction, KL) and say what each term is doing;
# 2. compute the moments of the **aggregate posterior** $q(z) = \frac1N \sum_n q_\phi(z|x_n)$ and compare
#    them with the prior, dimension by dimension, and spot inactive latent dimensions;
# 3. interpolate between two codes, and read a 2-D latent map coloured by digit and its decoded manifold.
#
# **Prerequisites.** Notebook 1 (run it first: it saves the models this notebook loads); the law of total
# variance.
#
# **Estimated time.** 60 minutes (week 1 of the project).
#
# **How this notebook is graded.** One function to write, with a visible and a hidden test; the rest are
# pictures to read and questions to think about (your answers go in the report, notebook 4).
#
# **Why the model code is not repeated here.** This notebook loads the encoder and decoder that notebook 1
# trained and saved, with `labkit.mlx_vae.load_run`; it never needs your `reparameterize`, `__call__` or
# `vae_loss`, so it does not show them. Without notebook 1's files it says so and uses **untrained** models:
# the code still runs, the pictures mean nothing.

# %%
from labkit import blas

blas.use_fast_blas()  # before `import mlx.core` (see notebook 1)

import math

import ipywidgets as widgets
import matplotlib.pyplot as plt
import mlx.core as mx
import mlx.nn as nn
import numpy as np
from IPython.display import display
from scipy import stats

from labkit import runtime
from labkit.checks import check_array, check_close, check_statistic
from labkit.mlx_vae import load_run
from labkit.mnist import load_mnist
from labkit.plots import label, training_curves, use_course_style

print(runtime.describe())
use_course_style()
mx.random.seed(0)
data = load_mnist()
x_test, y_test = data.x_test, data.y_test


# %%
model, history, trained = load_run("vae-z20", 20)
model2d, history2d, trained2d = load_run("vae-z2", 2)

# %% [markdown]
# ## 1. Training curves
#
# **Why it matters.** The total loss hides a tug-of-war: the reconstruction term wants codes that say
# everything about $x$, the KL term wants every $q_\phi(z|x)$ to be the prior. Their two curves show who wins, and when.
# (On grey-level pixels the reconstruction term and the total are not log-likelihoods; see notebook 1, section 3.)

# %%
fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
for ax, term, title in zip(axes, ("loss", "recon", "kl"), ("Total: −ELBO", "Reconstruction", "KL(q(z|x) ‖ p(z))")):
    curves = {split: history[f"{split}_{term}"] for split in ("train", "test")} if history else {"(no saved history)": [0.0]}
    training_curves(ax, curves, f"{title} (per digit)", xlabel="epoch")
fig.tight_layout()
plt.show()
if history:
    print(f"final test −ELBO {history['test_loss'][-1]:.1f} = reconstruction {history['test_recon'][-1]:.1f} + KL {history['test_kl'][-1]:.1f} per digit")
    print(f"test KL per digit: {history['test_kl'][0]:.1f} after the first epoch, {history['test_kl'][-1]:.1f} after the last")
    print("test KL per digit, epoch by epoch: " + ", ".join(f"{kl:.1f}" for kl in history["test_kl"]))

# %% [markdown]
# **Think:** the KL term *rises*: in this run from 3.5 to 15.1 nats over the first five epochs, then only to 17.9
# over the other ten. Why is that not a sign of trouble?

# %% [markdown]
# ## 2. Reconstructions and samples

# %%
mx.random.seed(1)
gallery = np.random.default_rng(0).choice(len(x_test), 10, replace=False)
reconstructions = np.array(model.decode_mean(mx.array(x_test[gallery])))
samples = np.array(model.generate(10))
fig, axes = plt.subplots(3, 10, figsize=(11, 3.6))
for i in range(10):
    for row, image in enumerate((x_test[gallery[i]], reconstructions[i], samples[i])):
        axes[row, i].imshow(image.reshape(28, 28), cmap="gray", vmin=0, vmax=1)
        axes[row, i].axis("off")
for row, name in enumerate(("test digit x", "sigmoid(decoder(μ(x)))", "sample, z ~ N(0, I)")):
    axes[row, 0].set_title(name, fontsize=8, loc="left")
fig.suptitle("Reconstructions of test digits and samples from the prior" + ("" if trained else " (UNTRAINED model)"))
plt.show()

# %% [markdown]
# **Think:** the samples are blurrier than the reconstructions. Which part of the latent space do samples
# come from that reconstructions never visit?

# %% [markdown]
# ## 3. The latent marginals against N(0, 1)
#
# **Why it matters.** The KL term pulls each $q_\phi(z|x)$ towards $p(z)$; if the model met it exactly for
# every $x$ the codes would carry no information. What should match the prior is the **aggregate
# posterior** $q(z) = \frac1N\sum_n q_\phi(z|x_n)$, the distribution of codes over the whole data set:
# samples from $p(z)$ only decode well where $q(z)$ puts mass.
#
# **The mathematics.** $q(z)$ is a mixture of Gaussians $\mathcal{N}(\mu_n, \operatorname{diag}\sigma^2_n)$.
# Per dimension $j$, its mean and (by the law of total variance) its variance are
#
# $$\mathbb{E}_{q}[z_j] = \frac1N\sum_n \mu_{nj} = \bar\mu_j, \qquad
#   \operatorname{Var}_{q}[z_j] = \underbrace{\frac1N\sum_n \sigma^2_{nj}}_{\text{within}} + \underbrace{\frac1N\sum_n (\mu_{nj} - \bar\mu_j)^2}_{\text{between}}.$$
#
# A dimension with variance near 1 made of *within* variance only is **inactive**: every digit gets the same
# code there (posterior collapse in that dimension).

# %% nbgrader={"grade_id": "latent-marginal-statistics", "solution": true}
def latent_marginal_statistics(mu: mx.array, logvar: mx.array) -> tuple[mx.array, mx.array]:
    """Mean and variance of the aggregate posterior q(z) = (1/N) Σ_n N(μ_n, diag σ²_n), per latent dimension.

    Args:
        mu: μ of q_φ(z|x_n) for N data points, shape (N, latent_dim).
        logvar: log σ² of the same, shape (N, latent_dim).

    Returns:
        (mean, variance), two arrays of shape (latent_dim,) (mx.array or NumPy): mean = (1/N) Σ_n μ_n and
        variance = (1/N) Σ_n σ²_n + (1/N) Σ_n (μ_n − mean)² (divide by N: the mixture has exactly N components).
    """
    ### BEGIN SOLUTION
    mean = mx.mean(mu, axis=0)
    variance = mx.mean(mx.exp(logvar), axis=0) + mx.mean((mu - mean) ** 2, axis=0)
    return mean, variance
    ### END SOLUTION


# %% nbgrader={"grade_id": "latent-marginal-statistics-visible", "points": 2}
# Visible test: shapes, and two codes whose mixture is known exactly.
outputs = latent_marginal_statistics(mx.array([[1.0, 0.0], [-1.0, 2.0]]), mx.array([[0.0, 0.0], [0.0, math.log(4.0)]]))
assert isinstance(outputs, tuple) and len(outputs) == 2, "latent_marginal_statistics should return (mean, variance)"
mean, variance = (check_array(v, n, shape=(2,)) for v, n in zip(outputs, ("mean", "variance")))
check_close(mean, [0.0, 1.0], "mean")
# Dimension 0: σ² = 1 and 1, μ = ±1 → 1 + 1 = 2. Dimension 1: σ² = 1 and 4, μ = 0 and 2 → 2.5 + 1 = 3.5.
check_close(variance, [2.0, 3.5], "variance", mistakes={"only the spread of μ: add the mean σ² (within variance).": [1.0, 1.0],
                                                       "only the mean σ²: add the spread of μ (between variance).": [1.0, 2.5]})
print("latent_marginal_statistics: visible tests passed.")

# %% nbgrader={"grade_id": "latent-marginal-statistics-hidden", "points": 4}
# Hidden tests for latent_marginal_statistics run when your notebook is graded.
### BEGIN HIDDEN TESTS
# Contract, each clause checked below (a number names the numbered test):
#   values: (mean, variance) of shape (latent_dim,), any array type; mean of μ, variance = mean σ² + spread of μ (divide by N),
#   for several N and latent sizes; the moments agree with samples drawn from q(z).
#   No gradient clause: descriptive statistics (equivalent: stop_gradient on the results).
rng = np.random.default_rng(11)
for n, d in [(7, 3), (500, 20), (1, 4)]:
    mu_np, logvar_np = rng.standard_normal((n, d)) * 2, rng.standard_normal((n, d))
    outputs = latent_marginal_statistics(mx.array(mu_np.astype(np.float32)), mx.array(logvar_np.astype(np.float32)))
    assert isinstance(outputs, tuple) and len(outputs) == 2, "latent_marginal_statistics should return (mean, variance)"
    # Any array type is accepted (the docstring allows mx.array or NumPy); check_array checks it is one.
    mean, variance = (check_array(v, f"{name} (N = {n}, latent_dim = {d})", shape=(d,)) for v, name in zip(outputs, ("mean", "variance")))
    within, between = np.exp(logvar_np).mean(axis=0), mu_np.var(axis=0)
    check_close(mean, mu_np.mean(axis=0), f"mean (N = {n})", rtol=1e-4, atol=1e-5)
    check_close(
        variance, within + between, f"variance (N = {n})", rtol=1e-4, atol=1e-5,
        mistakes={"only the spread of μ: add the mean σ².": between, "only the mean σ²: add the spread of μ.": within,
                  "σ instead of σ²: exp(logvar) is the variance.": np.exp(0.5 * logvar_np).mean(axis=0) + between,
                  "a standard deviation, not a variance.": np.sqrt(within + between)},
    )
# The moments of the mixture match those of samples drawn from it (SE of a sample mean of n draws: √(Var/n)).
mu_np, logvar_np = rng.standard_normal((50, 2)), rng.standard_normal((50, 2)) - 0.5
mean, variance = (np.array(v) for v in latent_marginal_statistics(mx.array(mu_np.astype(np.float32)), mx.array(logvar_np.astype(np.float32))))
component = rng.integers(0, 50, 200_000)
samples = mu_np[component] + np.exp(0.5 * logvar_np[component]) * rng.standard_normal((200_000, 2))
for j in range(2):
    check_statistic(float(mean[j]), samples[:, j].mean(), math.sqrt(samples[:, j].var() / 200_000), f"mean[{j}] against samples of q(z)")
    # SE of a sample variance: √((m₄ − s⁴)/n), with the fourth central moment m₄ of the draws (a mixture is not Gaussian).
    centred = samples[:, j] - samples[:, j].mean()
    check_statistic(float(variance[j]), centred.var(), math.sqrt((np.mean(centred**4) - centred.var() ** 2) / 200_000), f"variance[{j}] against samples of q(z)")
print("latent_marginal_statistics: hidden tests passed.")
### END HIDDEN TESTS

# %% [markdown]
# **Picture: each dimension of q(z) against the prior.** Top: the aggregate variance of each dimension, split
# into within (mean σ²) and between (spread of μ) parts; the prior's is 1. Bottom: histograms of μ and of
# samples of $q(z)$ for the four most active dimensions, with the N(0, 1) density.

# %%
mu_all, logvar_all = model.encoder(mx.array(x_test))
mean_q, variance_q = (np.array(v) for v in latent_marginal_statistics(mu_all, logvar_all))
within = np.exp(np.array(logvar_all)).mean(axis=0)
order = np.argsort(-(variance_q - within))
fig = plt.figure(figsize=(12, 6))
grid = fig.add_gridspec(2, 4)
ax_bar = fig.add_subplot(grid[0, :])
ax_bar.bar(np.arange(20), within, label="within: mean σ²")
ax_bar.bar(np.arange(20), variance_q - within, bottom=within, label="between: spread of μ")
ax_bar.axhline(1.0, color="k", ls="--", lw=1, label="prior N(0, 1)")
ax_bar.legend(fontsize=8)
label(ax_bar, "Aggregate posterior variance per latent dimension (test digits)", "latent dimension j", "Var_q[z_j]")
grid_z = np.linspace(-4, 4, 200)
q_samples = np.array(mu_all) + np.exp(0.5 * np.array(logvar_all)) * np.random.default_rng(0).standard_normal(mu_all.shape)
for k, j in enumerate(order[:4]):
    ax = fig.add_subplot(grid[1, k])
    ax.hist(q_samples[:, j], bins=40, density=True, alpha=0.6, label="z ~ q(z)")
    ax.hist(np.array(mu_all)[:, j], bins=40, density=True, alpha=0.4, label="μ")
    ax.plot(grid_z, stats.norm.pdf(grid_z), "k", lw=1, label="N(0, 1)")
    ax.legend(fontsize=7)
    label(ax, f"dimension {j}", "z_j", "density")
fig.tight_layout()
plt.show()
active = int(np.sum(variance_q - within > 0.01))
print(f"{active} of 20 dimensions are active (between-variance > 0.01).")

# %% [markdown]
# **Think:** an inactive dimension has mean ≈ 0 and variance ≈ 1 — it matches the prior *perfectly*. Why is
# that exactly the dimension the decoder ignores?

# %% [markdown]
# ## 4. Interpolation
#
# Encode two test digits to their means $\mu_a, \mu_b$, decode $z(\alpha) = (1 - \alpha)\mu_a + \alpha\mu_b$ for
# $\alpha$ from 0 to 1. A smooth path of plausible digits suggests that the latent space is organised around the data.
# The first and last columns show the two test digits themselves: the path starts and ends at the *decodings* of
# $\mu_a$ and $\mu_b$, which can already differ from the digits.

# %%
pairs = [(int(np.flatnonzero(y_test == a)[0]), int(np.flatnonzero(y_test == b)[0])) for a, b in ((1, 7), (3, 8), (4, 9))]
alphas = np.linspace(0, 1, 9)
fig, axes = plt.subplots(len(pairs), len(alphas) + 2, figsize=(12, 3.6))
for row, (ia, ib) in enumerate(pairs):
    mu_pair = np.array(model.encoder(mx.array(x_test[[ia, ib]]))[0])
    path = mx.array(np.stack([(1 - a) * mu_pair[0] + a * mu_pair[1] for a in alphas]).astype(np.float32))
    images = [x_test[ia], *np.array(mx.sigmoid(model.decoder(path))), x_test[ib]]  # the digits themselves at both ends
    titles = ["x_a"] + [f"α={a:.2f}" for a in alphas] + ["x_b"]
    for col, (image, title) in enumerate(zip(images, titles)):
        axes[row, col].imshow(image.reshape(28, 28), cmap="gray", vmin=0, vmax=1)
        axes[row, col].axis("off")
        if row == 0:
            axes[row, col].set_title(title, fontsize=8)
fig.suptitle(f"Decoding (1 − α) μ_a + α μ_b between digits {', '.join(f'{y_test[a]}→{y_test[b]}' for a, b in pairs)}")
plt.show()

# %% [markdown]
# **Think:** the midpoint of two codes can have a smaller norm than either. Under $\mathcal{N}(0, I)$ in 20
# dimensions, where does most of the prior's mass lie, and what does that suggest about linear interpolation?

# %% [markdown]
# ## 5. A 2-dimensional latent space
#
# With `latent_dim = 2` the whole latent space fits on a page. Left: the means $\mu(x)$ of the test digits,
# coloured by digit. Right: the decoder's output on a grid of $z$ at the 5 %, …, 95 % quantiles of $\mathcal{N}(0, 1)$
# in each coordinate (equal steps of prior mass; the outer 5 % tails are left out), the "manifold" picture.

# %%
mu2 = np.array(model2d.encoder(mx.array(x_test))[0])
n_grid = 15
levels = np.linspace(0.05, 0.95, n_grid)
quantiles = stats.norm.ppf(levels)
grid_points = np.array([[a, b] for b in quantiles[::-1] for a in quantiles], dtype=np.float32)
tiles = np.array(mx.sigmoid(model2d.decoder(mx.array(grid_points)))).reshape(n_grid, n_grid, 28, 28)
canvas = tiles.transpose(0, 2, 1, 3).reshape(n_grid * 28, n_grid * 28)
fig, (ax_map, ax_grid) = plt.subplots(1, 2, figsize=(12, 5.5))
points = ax_map.scatter(mu2[:, 0], mu2[:, 1], c=y_test, cmap="tab10", s=6, alpha=0.7)
fig.colorbar(points, ax=ax_map, label="digit")
label(ax_map, "μ(x) of test digits, 2-d VAE" + ("" if trained2d else " (UNTRAINED)"), "z₁", "z₂")
half_step = (levels[1] - levels[0]) / 2  # each tile is centred on its quantile level
ax_grid.imshow(canvas, cmap="gray", extent=(levels[0] - half_step, levels[-1] + half_step) * 2)
label(ax_grid, "Decoded grid at N(0, 1) quantiles 5%…95%", "Φ(z₁)", "Φ(z₂)")
fig.tight_layout()
plt.show()

# %% [markdown]
# **Think:** which digits overlap in the 2-d map, and does the decoded grid show the same neighbours? What
# would a 2-d latent space cost in reconstruction compared with 20 dimensions? Compare like with like: the 2-d model
# was trained for fewer epochs than the 20-d one, so the cell below reads the 20-d history after as many epochs.

# %%
if history and history2d:
    same = len(history2d["test_loss"])  # the 2-d model's number of epochs
    print(f"test −ELBO per digit after {same} epochs: 20-d {history['test_loss'][same - 1]:.1f} "
          f"(recon {history['test_recon'][same - 1]:.1f}, KL {history['test_kl'][same - 1]:.1f}), "
          f"2-d {history2d['test_loss'][-1]:.1f} (recon {history2d['test_recon'][-1]:.1f}, KL {history2d['test_kl'][-1]:.1f}); "
          f"20-d after all {len(history['test_loss'])} epochs {history['test_loss'][-1]:.1f}")

# %% [markdown]
# **Try it.** Pick a point $z = (z_1, z_2)$ of the 2-d latent space: the cross marks it on the map of the test
# digits' codes (left), and the decoder draws what it means (right). Walk from one cluster to another and watch
# where the decoded digit changes class; go out to $|z_j| = 3$, where the prior has little mass and no code lies.

# %%
def redraw_latent_point(z1: float = 0.0, z2: float = 0.0) -> None:
    image = np.array(mx.sigmoid(model2d.decoder(mx.array([[z1, z2]], dtype=mx.float32))))[0]
    fig, (ax_map, ax_image) = plt.subplots(1, 2, figsize=(10, 4.2))
    ax_map.scatter(mu2[:, 0], mu2[:, 1], c=y_test, cmap="tab10", s=5, alpha=0.5)
    ax_map.plot(z1, z2, "kx", markersize=14, markeredgewidth=3)
    label(ax_map, "μ(x) of the test digits, and the chosen z (×)", "z₁", "z₂")
    ax_image.imshow(image.reshape(28, 28), cmap="gray", vmin=0, vmax=1)
    ax_image.axis("off")
    density = stats.norm.pdf(z1) * stats.norm.pdf(z2)
    ax_image.set_title(f"sigmoid(decoder(z)) at z = ({z1:+.1f}, {z2:+.1f}); prior density {density:.3f}", fontsize=9)
    fig.tight_layout()
    plt.show()


controls = widgets.interactive(
    redraw_latent_point,
    z1=widgets.FloatSlider(value=0.0, min=-3.0, max=3.0, step=0.25, continuous_update=False, description="z₁"),
    z2=widgets.FloatSlider(value=0.0, min=-3.0, max=3.0, step=0.25, continuous_update=False, description="z₂"),
)
display(controls)

# %% [markdown]
# **Think:** between two clusters of the map, does the decoded digit change smoothly or jump? What does a point far
# from every code (a corner at $|z_j| = 3$) decode to, and why does the decoder have no reason to draw a good digit there?

# %% [markdown]
# ## Summary
#
# * The total loss splits into reconstruction and KL; the KL rises while the encoder learns to use its codes.
# * The aggregate posterior $q(z)$, not each $q_\phi(z|x)$, should look like the prior. Its variance splits into
#   within (mean σ²) and between (spread of μ) parts; dimensions with no between-variance are inactive.
# * Interpolating codes and decoding a 2-d grid show how the latent space is organised by digit.
#
# **Questions to think about** (answer them in your report, notebook 4).
# 1. The test above finds 20 of 20 dimensions active. Is a between-variance above 0.01 a strong enough test of
#    "used", and would a 50-d model use all of its dimensions?
# 2. Would a larger β make more or fewer dimensions inactive?
# 3. Are blurry samples a property of the VAE or of the Bernoulli decoder of grey-level pixels?
