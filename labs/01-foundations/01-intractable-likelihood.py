# %% [markdown]
# # Lab 1.1: The intractable likelihood
#
# A latent-variable model explains each data point $x$ by a hidden code $z$: draw $z$ from a prior
# $p(z)$, then draw $x$ from a decoder $p_\theta(x|z)$. To train it by maximum likelihood we need
# $$p_\theta(x) = \int p_\theta(x|z)\,p(z)\,dz ,$$
# an integral over every possible code. This notebook estimates it the obvious way, by Monte Carlo,
# and measures, against the exact answer, how and why the obvious way fails.
#
# **Learning objectives.** By the end of this lab you will be able to
# 1. sample the prior $p(z) = \mathcal{N}(0, I)$ and evaluate the Gaussian decoder density $p_\theta(x|z)$;
# 2. estimate $p_\theta(x)$ by averaging $p_\theta(x|z_k)$ over $K$ prior samples, and the same estimate
#    in log space with `torch.logsumexp`, which does not underflow;
# 3. measure the estimator's error against an exact $\log p_\theta(x)$: how it shrinks with $K$, and how
#    it explodes with the latent dimension;
# 4. explain why Bayes' rule cannot hand us the posterior $p_\theta(z|x)$ either, and why this motivates
#    variational inference.
#
# **Prerequisites.** Multivariate Gaussian densities, expectations and sample averages; PyTorch tensors,
# broadcasting and reductions over a chosen dimension.
#
# **Estimated time.** 50 minutes.
#
# **How this notebook is graded.** Four methods to write (cells marked `YOUR CODE HERE`), each followed
# by a visible test you can run and a hidden test that runs at grading; one short written answer,
# graded by hand. Each method's docstring ends with its **Contract**: the properties a correct answer
# has, each of which a hidden test checks. A method that builds on an earlier one is graded with a
# correct version of the earlier one, so one mistake costs points once.
#
# **Types, for the whole of Lab 1.** Every function takes and returns `torch.Tensor`s (not NumPy
# arrays, not lists). A result has the floating dtype of the tensors it is computed from: float32 in,
# float32 out; float64 in, float64 out; fresh random draws are float32, torch's default. Where a
# docstring says a number may be returned, a Python float or a 0-d tensor both do. Values are compared
# with tolerances a little wider than the rounding of float32 arithmetic, so any correct and
# numerically sound way of writing a formula passes (sound: it stays right wherever the result itself
# is a float32 number; work in log space and exponentiate once, at the end). Random draws come from torch's global generator (`torch.randn`,
# `torch.randn_like`, `torch.distributions`), so `torch.manual_seed` makes them reproducible, and every
# call draws afresh.

# %%
import math
import time

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch
from torch.distributions import MultivariateNormal, Normal, kl_divergence
from tqdm.auto import tqdm

from labkit import add_to_class, runtime, seed_everything
from labkit.checks import check_close, check_same_law, check_statistic, check_tensor, check_unchanged
from labkit.plots import label, use_course_style
from labkit.toy import make_linear_gaussian

seed_everything(0)
use_course_style()
print(runtime.describe())

# %% [markdown]
# ## Part 1: A model whose likelihood we secretly know
#
# Our model is
# $$p(z) = \mathcal{N}(0, I_d), \qquad p_\theta(x|z) = \mathcal{N}\big(x;\ f_\theta(z),\ \sigma^2 I_D\big),$$
# with a latent dimension $d$, a data dimension $D$ and a fixed noise level $\sigma$. In a VAE the
# decoder mean $f_\theta$ is a neural network, and then $p_\theta(x)$ has no closed form: that is the
# whole problem.
#
# Here we choose a **linear** decoder, $f_\theta(z) = Wz + b$, on purpose. Then $x = Wz + b + \sigma\varepsilon$
# is a linear function of the Gaussians $z$ and $\varepsilon$, so $x$ is Gaussian too:
# $$p_\theta(x) = \mathcal{N}\big(x;\ b,\ WW^\top + \sigma^2 I_D\big).$$
# The Monte Carlo estimator you will write never uses this formula (it only needs samples of $z$ and
# the density $p_\theta(x|z)$, exactly as it would for a neural decoder), but *we* can use it to
# measure the estimator's error. With an MLP decoder we could only watch the estimates wobble; here
# we can say how far from the truth they are. `labkit.toy.make_linear_gaussian` builds $W$ and $b$
# and knows the exact $\log p_\theta(x)$ and the exact posterior $p_\theta(z|x)$.

# %%
class IntractableLikelihoodDemo:
    """The model p(z) = N(0, I), p_θ(x|z) = N(f_θ(z), σ² I) with a linear decoder f_θ(z) = W z + b.

    The decoder is linear so that the exact log p(x) is known and every estimate can be checked.

    Attributes:
        latent_dim: d, the size of z.
        data_dim: D, the size of x.
        noise_std: σ, the decoder's standard deviation.
        model: the labkit LinearGaussian (W, b, σ, exact marginal and posterior).
        decoder: f_θ, maps z of shape (..., latent_dim) to the mean of x, shape (..., data_dim).
    """

    def __init__(self, latent_dim: int = 2, data_dim: int = 2, noise_std: float = 0.5, seed: int = 0):
        self.latent_dim = latent_dim
        self.data_dim = data_dim
        self.noise_std = noise_std
        self.model = make_linear_gaussian(latent_dim, data_dim, noise_std, seed=seed)
        self.decoder = self.model.decoder_mean

    def exact_log_marginal(self, x: torch.Tensor) -> torch.Tensor:
        """The true log p(x) for x of shape (batch, data_dim); returns (batch,). Only a linear decoder allows it."""
        return self.model.log_marginal(x)


demo = IntractableLikelihoodDemo()
data, _ = demo.model.sample(500, generator=torch.Generator().manual_seed(0))

grid = torch.linspace(-5.0, 5.0, 200)
x1, x2 = torch.meshgrid(grid, grid, indexing="xy")
exact_density = demo.exact_log_marginal(torch.stack([x1, x2], dim=-1)).exp()

fig, ax = plt.subplots(figsize=(5.5, 5))
ax.contour(x1, x2, exact_density, levels=8, cmap="viridis")
ax.scatter(data[:, 0], data[:, 1], s=6, alpha=0.5, color="gray", label="x drawn from the model")
ax.set_aspect("equal")
ax.legend(loc="upper left", frameon=True, framealpha=0.9)
label(ax, "500 samples of x and the exact density p(x) (contours)", "$x_1$", "$x_2$")
plt.show()

# %% [markdown]
# ## Part 2: Sampling the prior
#
# **Why it matters.** Every Monte Carlo estimate below starts from codes $z_k$ drawn from the prior.
# If those draws are not exactly $\mathcal{N}(0, I)$ (uniform instead of normal, the same draw
# repeated, the wrong shape), every later number is silently wrong.
#
# **The mathematics.** The prior is the standard normal in $d$ dimensions,
# $$p(z) = \mathcal{N}(z;\ 0, I_d) = (2\pi)^{-d/2} \exp\!\big(-\tfrac{1}{2}\lVert z\rVert^2\big),$$
# so the $d$ coordinates of $z$ are independent $\mathcal{N}(0, 1)$ numbers. $K$ draws form a tensor
# of shape $(K, d)$, one code per row, each row drawn independently.

# %% nbgrader={"grade_id": "sample-prior", "solution": true}
@add_to_class(IntractableLikelihoodDemo)
def sample_prior(self, n_samples: int) -> torch.Tensor:
    """Draw n_samples independent codes z ~ p(z) = N(0, I).

    Args:
        n_samples: K, the number of codes.

    Returns:
        A float32 tensor of shape (n_samples, latent_dim), one code per row.

    Contract:
        - shape (n_samples, latent_dim), dtype float32;
        - every element an independent N(0, 1) draw: mean 0, variance 1, a normal (not uniform) shape,
          no correlation between coordinates or between rows;
        - fresh codes at every call, drawn from torch's global generator (reproducible after
          torch.manual_seed).
    """
    ### BEGIN SOLUTION
    return torch.randn(n_samples, self.latent_dim)
    ### END SOLUTION


# %% nbgrader={"grade_id": "sample-prior-visible", "points": 2}
torch.manual_seed(1)
demo_3_5 = IntractableLikelihoodDemo(latent_dim=3, data_dim=5)
z = check_tensor(demo_3_5.sample_prior(4000), "sample_prior(4000)", shape=(4000, 3), dtype=torch.float32)
# Each coordinate is N(0, 1): over n draws its sample mean has standard error 1/√n and the mean of
# z² (its variance estimate) has standard error √(Var z² / n) = √(2/n).
n = z.shape[0]
for j in range(3):
    check_statistic(z[:, j].double().mean(), 0.0, 1 / math.sqrt(n), f"the mean of coordinate {j}")
    check_statistic((z[:, j].double() ** 2).mean(), 1.0, math.sqrt(2 / n), f"the mean of z_{j}² (the variance)")
print("sample_prior: shape, dtype, mean and variance look right.")

# %% nbgrader={"grade_id": "sample-prior-hidden", "points": 3}
# Hidden tests for sample_prior run when your notebook is graded.
### BEGIN HIDDEN TESTS
# Contract: shape and dtype; independent N(0, 1) elements (moments, the normal shape, no correlation).
torch.manual_seed(2)
hidden_demo = IntractableLikelihoodDemo(latent_dim=4, data_dim=7, noise_std=0.3, seed=3)
check_tensor(hidden_demo.sample_prior(1), "sample_prior(1)", shape=(1, 4), dtype=torch.float32)
n = 40_000
z = check_tensor(hidden_demo.sample_prior(n), f"sample_prior({n})", shape=(n, 4), dtype=torch.float32).double()
# Standard errors over n independent draws of N(0, 1):
#   sample mean: 1/√n;   mean of z²: Var(z²) = E z⁴ − 1 = 2, so √(2/n);
#   fraction with |z| < 1: a Bernoulli(p) mean, p = erf(1/√2) ≈ 0.683, so √(p(1 − p)/n);
#   mean of z_j z_j' (j ≠ j') or of z_i z_(i+1) along the rows: each term has variance 1 and the
#   terms are uncorrelated, so 1/√n (1/√(n − 1) along the rows).
p_inside = math.erf(1 / math.sqrt(2))
for j in range(4):
    column = z[:, j]
    check_statistic(column.mean(), 0.0, 1 / math.sqrt(n), f"the mean of coordinate {j} (the prior has mean 0)")
    check_statistic(
        (column**2).mean(), 1.0, math.sqrt(2 / n), f"the mean of z_{j}² (the prior's variance is 1, not σ²)"
    )
    check_statistic(
        (column.abs() < 1).double().mean(),
        p_inside,
        math.sqrt(p_inside * (1 - p_inside) / n),
        f"the fraction of |z_{j}| < 1 (68.3% for a normal; a uniform gives another value)",
    )
check_statistic((z[:, 0] * z[:, 3]).mean(), 0.0, 1 / math.sqrt(n), "the correlation of coordinates 0 and 3")
check_statistic(
    (z[:-1, 1] * z[1:, 1]).mean(), 0.0, 1 / math.sqrt(n - 1), "the correlation of consecutive rows (repeated draws?)"
)
# Rows independent across the whole call: row i against row i + n/2 (each product has variance 1, n/2
# of them per coordinate, 4 coordinates pooled: SE 1/√(2n)). Mirrored halves (z, −z) give −1.
check_statistic((z[: n // 2] * z[n // 2 :]).mean(), 0.0, 1 / math.sqrt(2 * n),
                "the correlation of row i with row i + n/2 (are the second half's draws the first half's, mirrored?)")
# Contract: fresh codes at every call, from torch's global generator.
first, second = hidden_demo.sample_prior(5), hidden_demo.sample_prior(5)
if torch.equal(first, second):
    raise AssertionError("Two calls of sample_prior returned the same codes: do you re-seed inside it?")
torch.manual_seed(21)
first = hidden_demo.sample_prior(6)
torch.manual_seed(21)
again = hidden_demo.sample_prior(6)
if not torch.equal(first, again):
    raise AssertionError(
        "sample_prior gave other codes after the same torch.manual_seed: draw them from torch's global "
        "generator (torch.randn or torch.distributions), not NumPy, Python's random or a torch.Generator of your own."
    )
### END HIDDEN TESTS

# %% [markdown]
# **A picture.** On the left, 1000 codes in $d = 2$. On the right, the length $\lVert z\rVert$ of prior
# codes in more dimensions: in high dimension almost no code lies near the origin; they live on a thin
# shell of radius about $\sqrt{d}$.

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
codes = demo.sample_prior(1000)
left.scatter(codes[:, 0], codes[:, 1], s=6, alpha=0.5)
left.add_patch(plt.Circle((0, 0), 1.0, fill=False, color="C3", label="‖z‖ = 1"))
left.set_aspect("equal")
left.legend(loc="upper left")
label(left, "1000 codes from p(z) = N(0, I), d = 2", "$z_1$", "$z_2$")
for d in (1, 2, 10, 50):
    norms = IntractableLikelihoodDemo(latent_dim=d, data_dim=d).sample_prior(5000).norm(dim=1)
    right.hist(norms, bins=60, density=True, alpha=0.5, label=f"d = {d}")
right.legend()
label(right, "Length of prior codes: a shell of radius ≈ √d", "‖z‖", "density")
plt.tight_layout()
plt.show()

# %% [markdown]
# **Think:** in $d = 50$, what fraction of prior codes lie within distance 1 of the origin? Would a
# "typical" code ever look like the all-zeros code $z = 0$, the prior's most likely point?

# %% [markdown]
# ## Part 3: The decoder density $p_\theta(x|z)$
#
# **Why it matters.** $p_\theta(x|z)$ is the one ingredient we *can* compute: it scores how well a
# code $z$ explains a data point $x$. The Monte Carlo estimate of $p_\theta(x)$ is an average of these
# scores.
#
# **The mathematics.** With mean $\mu = f_\theta(z)$, the $D$ coordinates of $x$ are independent
# $\mathcal{N}(\mu_i, \sigma^2)$, so the density is a *product* over coordinates:
# $$p_\theta(x|z) = \prod_{i=1}^{D} \frac{1}{\sqrt{2\pi\sigma^2}} \exp\!\Big(-\frac{(x_i - \mu_i)^2}{2\sigma^2}\Big)
#   = (2\pi\sigma^2)^{-D/2} \exp\!\Big(-\frac{\lVert x - f_\theta(z)\rVert^2}{2\sigma^2}\Big).$$
# In log space the product becomes a sum over the $D$ coordinates:
# $\log p_\theta(x|z) = -\tfrac{D}{2}\log(2\pi\sigma^2) - \lVert x - f_\theta(z)\rVert^2 / (2\sigma^2)$.
# Mind the constant: without $(2\pi\sigma^2)^{-D/2}$ the numbers are not a density, and $\sigma^2$
# (the variance) is not $\sigma$ (the standard deviation `self.noise_std`). Return the density itself,
# not its log: Part 4 averages densities, and Part 5 shows what that costs.

# %% nbgrader={"grade_id": "likelihood-given-z", "solution": true}
@add_to_class(IntractableLikelihoodDemo)
def likelihood_given_z(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """The density p_θ(x|z) = N(x; f_θ(z), σ² I) of each pair (x[i], z[i]).

    Args:
        x: data points, shape (batch, data_dim).
        z: codes, shape (batch, latent_dim); row i goes with row i of x.

    Returns:
        Shape (batch,): the density p_θ(x[i] | z[i]) (not its log).

    Contract:
        - shape (batch,), dtype float32 (the model is float32);
        - the density itself, with its normalising constant (2πσ²)^(-D/2), for any d, D and σ, to a
          relative 1e-4 (float32 rounding of exp of a log-density is far smaller), wherever the density
          is a normal float32 number: also at D = 80, σ = 0.1, where (2πσ²)^(-D/2) alone overflows
          float32 (so compute the log-density and exponentiate once);
        - no randomness: the global random state is left as it was;
        - x and z are left unchanged.
    """
    ### BEGIN SOLUTION
    decoded = Normal(self.decoder(z), self.noise_std)
    return decoded.log_prob(x).sum(dim=-1).exp()
    ### END SOLUTION


# %% nbgrader={"grade_id": "likelihood-given-z-visible", "points": 2}
# Visible test: what a density of x must do, checked by numerical integration over x; it never writes
# the density out.
torch.manual_seed(3)
demo_1_2 = IntractableLikelihoodDemo(latent_dim=1, data_dim=2, noise_std=0.4, seed=1)
name = "likelihood_given_z(x, z)"
z = torch.randn(6, 1)
check_tensor(demo_1_2.likelihood_given_z(torch.randn(6, 2), z), name, shape=(6,), dtype=torch.float32)
# For one code z, evaluate p(x|z) on a 301 × 301 grid of x around the decoder's mean (± 7.5σ).
z_one = torch.tensor([[0.8]])
centre = demo_1_2.decoder(z_one)[0]
offsets = torch.linspace(-3.0, 3.0, 301)
g1, g2 = torch.meshgrid(offsets, offsets, indexing="ij")
x_grid = centre + torch.stack([g1, g2], dim=-1).reshape(-1, 2)
density = check_tensor(demo_1_2.likelihood_given_z(x_grid, z_one.expand(len(x_grid), 1)), name + " on a grid",
                       shape=(len(x_grid),), dtype=torch.float32).double().reshape(301, 301)
step = (offsets[1] - offsets[0]).item()
mass = density.sum().item() * step**2  # the grid reaches 7.5σ: the mass beyond it is below 1e-12
check_close(mass, 1.0, "∫ p(x|z) dx (a density integrates to 1)", rtol=1e-3)
# Its spread: each coordinate of x has variance σ² = noise_std² around the mean.
variance_1 = (density * g1.double() ** 2).sum().item() * step**2
check_close(variance_1, demo_1_2.noise_std**2, "the variance of x₁ under p(x|z)", rtol=1e-3)
# Finite wherever the density is a float32 number: D = 80, σ = 0.1 gives densities around e^71 < 3e38.
demo_80 = IntractableLikelihoodDemo(latent_dim=2, data_dim=80, noise_std=0.1, seed=2)
z_80 = torch.randn(3, 2)
x_80 = demo_80.decoder(z_80) + 0.1 * torch.randn(3, 80)
check_tensor(demo_80.likelihood_given_z(x_80, z_80), name + " with D = 80, σ = 0.1", shape=(3,), dtype=torch.float32)
print("likelihood_given_z: visible tests passed.")

# %% nbgrader={"grade_id": "likelihood-given-z-hidden", "points": 4}
# Hidden tests for likelihood_given_z run when your notebook is graded.
### BEGIN HIDDEN TESTS
def reference_log_likelihood(model, x, z, std):
    """log N(x; Wz + b, std² I) in float64 from first principles; (batch,)."""
    mean = z.double() @ model.weight.double().T + model.bias.double()
    squared = ((x.double() - mean) ** 2).sum(dim=1)
    return -0.5 * x.shape[1] * math.log(2 * math.pi * std**2) - squared / (2 * std**2), squared


# Contract: shape and dtype; the density with its constant, for several d, D, σ; inputs unchanged.
torch.manual_seed(4)
for latent_dim, data_dim, noise_std, batch in ((3, 3, 0.7, 5), (2, 6, 0.3, 1), (4, 7, 2.0, 9)):
    hidden_demo = IntractableLikelihoodDemo(latent_dim=latent_dim, data_dim=data_dim, noise_std=noise_std, seed=5)
    z = 0.8 * torch.randn(batch, latent_dim)
    x = hidden_demo.decoder(z) + noise_std * torch.randn(batch, data_dim)
    x_before, z_before = x.clone(), z.clone()
    name = f"likelihood_given_z with d={latent_dim}, D={data_dim}, σ={noise_std}"
    density = check_tensor(hidden_demo.likelihood_given_z(x, z), name, shape=(batch,), dtype=torch.float32)
    check_unchanged(x_before, x, "x")
    check_unchanged(z_before, z, "z")
    expected_log, squared = reference_log_likelihood(hidden_demo.model, x, z, noise_std)
    per_coordinate = Normal(
        (z.double() @ hidden_demo.model.weight.double().T + hidden_demo.model.bias.double()), noise_std
    ).log_prob(x.double())
    variance = noise_std**2
    check_close(
        density,
        expected_log.exp(),
        name,
        rtol=1e-4,
        atol=0.0,
        mistakes={
            "you returned log p(x|z); return the density p(x|z) itself.": expected_log,
            "the normalising constant (2πσ²)^(-D/2) is missing.": (-squared / (2 * variance)).exp(),
            "σ² was used as the standard deviation (Normal takes the std σ, not the variance).": (
                reference_log_likelihood(hidden_demo.model, x, z, variance)[0].exp()
            ),
            "σ is used where σ² belongs in the exponent: divide ‖x − f(z)‖² by 2σ².": (
                -0.5 * data_dim * math.log(2 * math.pi * variance) - squared / (2 * noise_std)
            ).exp(),
            "the normalising constant is for one coordinate: it is (2πσ²)^(-D/2), one factor per coordinate.": (
                -0.5 * math.log(2 * math.pi * variance) - squared / (2 * variance)
            ).exp(),
            "you averaged the per-coordinate densities: independent coordinates multiply (their logs add).": (
                per_coordinate.exp().mean(dim=1)
            ),
            "you averaged the per-coordinate log-densities over D: sum them.": per_coordinate.mean(dim=1).exp(),
            "σ is written where log σ belongs: the log-constant is −(D/2) log 2π − D log σ.": (
                -0.5 * data_dim * math.log(2 * math.pi) - data_dim * noise_std - squared / (2 * variance)
            ).exp(),
        },
    )

# Contract: any d, D and σ, to a relative 1e-4, wherever the density itself is a normal float32
# (between about 1e-38 and 3e38), even where a factor of it alone is not.
#   D = 80, σ = 0.1: (2πσ²)^(-D/2) ≈ e^111 overflows float32, the density, ≈ e^(111 − D/2) = e^71, does not;
#   x far from f(z): a density ≈ e^-80.5 ≈ 1e-35, below any "floor" of 1e-30;
#   σ = 0.003: σ² = 9e-6, so a stabilising "+1e-6" on it changes the density by orders of magnitude
#   (rtol 1e-3 here: float32 rounds x − f(z) to about 1e-5 σ when f(z) is of order 1).
for latent_dim, data_dim, noise_std, offset, rtol in ((3, 80, 0.1, 0.0, 1e-4), (2, 2, 0.5, math.sqrt(20.0), 1e-4),
                                                      (2, 2, 0.003, 0.0, 1e-3)):
    hidden_demo = IntractableLikelihoodDemo(latent_dim=latent_dim, data_dim=data_dim, noise_std=noise_std, seed=6)
    z = torch.randn(4, latent_dim)
    # x = f(z) + noise, or f(z) + √20 in each coordinate: ‖x − f(z)‖² = 40, log-density −0.45 − 80.
    x = hidden_demo.decoder(z) + (offset if offset else noise_std * torch.randn(4, data_dim))
    name = f"likelihood_given_z with d={latent_dim}, D={data_dim}, σ={noise_std}" + (" far from f(z)" if offset else "")
    density = check_tensor(hidden_demo.likelihood_given_z(x, z), name, shape=(4,), dtype=torch.float32)
    check_close(density, reference_log_likelihood(hidden_demo.model, x, z, noise_std)[0].exp(), name, rtol=rtol, atol=0.0)

# Contract: x and z are left unchanged, bit for bit, also for data of large magnitude (where x − f(z) + f(z)
# is not x in float32).
hidden_demo = IntractableLikelihoodDemo(latent_dim=3, data_dim=5, noise_std=0.5, seed=7)
x, z = 37.0 * torch.randn(50, 5), torch.randn(50, 3)
x_before, z_before = x.clone(), z.clone()
hidden_demo.likelihood_given_z(x, z)
check_unchanged(x_before, x, "x")
check_unchanged(z_before, z, "z")

# Contract: no randomness, so the global random state is left as it was.
torch.manual_seed(9)
expected_next = torch.randn(3)
torch.manual_seed(9)
hidden_demo.likelihood_given_z(x, z)
if not torch.equal(torch.randn(3), expected_next):
    raise AssertionError(
        "likelihood_given_z changed the global random state (a torch.manual_seed or a random draw inside it?): "
        "a density draws nothing, and re-seeding here would freeze every later sample."
    )
### END HIDDEN TESTS

# %% [markdown]
# **A picture.** Fix one data point $x$ and colour the code plane by $p_\theta(x|z)$. The bright region
# is where codes explain $x$ well; the dots are 300 draws from the prior. Count how many land in it.

# %%
x_point, z_true = demo.model.sample(1, generator=torch.Generator().manual_seed(3))
z_grid = torch.stack(torch.meshgrid(torch.linspace(-3.5, 3.5, 150), torch.linspace(-3.5, 3.5, 150), indexing="xy"), -1)
flat_codes = z_grid.reshape(-1, 2)
landscape = demo.likelihood_given_z(x_point.expand(len(flat_codes), -1), flat_codes).reshape(150, 150)

prior_codes = demo.sample_prior(300)
scores = demo.likelihood_given_z(x_point.expand(300, -1), prior_codes)
useful = scores > 0.01 * landscape.max()
print(f"{int(useful.sum())} of 300 prior codes reach 1% of the largest p(x|z); the rest add almost nothing.")

fig, ax = plt.subplots(figsize=(6, 5))
image = ax.contourf(z_grid[..., 0], z_grid[..., 1], landscape, levels=20, cmap="magma")
fig.colorbar(image, ax=ax, label="p(x|z)")
ax.scatter(prior_codes[:, 0], prior_codes[:, 1], s=8, color="white", edgecolor="black", linewidth=0.3, label="z ~ p(z)")
ax.scatter(z_true[:, 0], z_true[:, 1], marker="*", s=150, color="C0", label="the code that made x")
ax.set_aspect("equal")
ax.legend(loc="lower left", frameon=True, framealpha=0.9)
label(ax, "p(x|z) over the code plane for one fixed x", "$z_1$", "$z_2$")
plt.show()

# %% [markdown]
# **Think:** the bright region has a width of roughly $\sigma$ divided by the length of $W$'s columns.
# What happens to the fraction of useful prior codes if $\sigma$ is halved? If $d$ doubles?

# %% [markdown]
# ## Part 4: Monte Carlo estimate of $p_\theta(x)$
#
# **Why it matters.** $p_\theta(x) = \mathbb{E}_{p(z)}[p_\theta(x|z)]$ is an expectation, and the simplest
# way to estimate an expectation is to average over samples. It needs only the two pieces you wrote.
#
# **The mathematics.** Draw $z_1, \dots, z_K \sim p(z)$ independently and average:
# $$\hat p_K(x) = \frac{1}{K}\sum_{k=1}^{K} p_\theta(x|z_k), \qquad
#   \mathbb{E}[\hat p_K(x)] = p_\theta(x), \qquad
#   \mathrm{Var}[\hat p_K(x)] = \frac{\mathrm{Var}_{p(z)}[p_\theta(x|z)]}{K}.$$
# The estimate is **unbiased**, and its standard deviation shrinks like $1/\sqrt{K}$, but the constant
# in front, the spread of $p_\theta(x|z)$ over the prior, can be enormous: most codes give almost 0
# and a few give a lot (the picture above).
#
# For a batch of points you need $p_\theta(x_i|z_k)$ for every pair $(i, k)$. You may use one set of
# $K$ codes for the whole batch or a fresh set for each point: both give a correct estimate for each
# $x_i$. `likelihood_given_z` takes *paired* rows, so build the $B \cdot K$ pairs (e.g. with
# `repeat_interleave` and `repeat`) and reshape the result to $(B, K)$.
#
# **How we know the truth.** For the linear decoder even the estimator's spread is exact. Squaring a
# Gaussian density gives another Gaussian, $\mathcal{N}(x; \mu, \sigma^2 I)^2 = (4\pi\sigma^2)^{-D/2}\,
# \mathcal{N}(x; \mu, \tfrac{\sigma^2}{2} I)$, so
# $$\mathbb{E}_{p(z)}\big[p_\theta(x|z)^2\big] = (4\pi\sigma^2)^{-D/2}\ \mathcal{N}\big(x;\ b,\ WW^\top + \tfrac{\sigma^2}{2} I\big),$$
# and the standard error of $\hat p_K(x)/p_\theta(x)$ is $\sqrt{\mathbb{E}[p_\theta(x|z)^2]/p_\theta(x)^2 - 1}\,/\sqrt{K}$.
# The tests use this to check your estimates to within 5 standard errors; the cell below writes it out.

# %% nbgrader={"grade_id": "exact-references", "locked": true}
# Exact references for the tests and the pictures. They use the closed forms of the linear model;
# none of them estimates p(x) by sampling.
def gaussian_log_density(model, x: torch.Tensor, noise_var: float) -> torch.Tensor:
    """log N(x; b, W Wᵀ + noise_var · I) in float64; x (batch, data_dim) -> (batch,)."""
    weight = model.weight.double()
    covariance = weight @ weight.T + noise_var * torch.eye(model.data_dim, dtype=torch.float64)
    return MultivariateNormal(model.bias.double(), covariance_matrix=covariance).log_prob(x.double())


def reference_log_marginal(model, x: torch.Tensor) -> torch.Tensor:
    """The exact log p(x) = log N(x; b, W Wᵀ + σ² I), float64, shape (batch,)."""
    return gaussian_log_density(model, x, model.noise_std**2)


def relative_std_of_likelihood(model, x: torch.Tensor) -> torch.Tensor:
    """sd_{p(z)}[p(x|z)] / p(x), the spread of one term of the estimator; shape (batch,)."""
    variance = model.noise_std**2
    log_second_moment = -0.5 * model.data_dim * math.log(4 * math.pi * variance) + gaussian_log_density(
        model, x, variance / 2
    )
    return torch.sqrt(torch.expm1(log_second_moment - 2 * reference_log_marginal(model, x)))


def expected_log_likelihood(model, x: torch.Tensor) -> torch.Tensor:
    """E_{p(z)}[log p(x|z)], using E‖x − Wz − b‖² = ‖x − b‖² + tr(WᵀW); shape (batch,)."""
    variance = model.noise_std**2
    squared = ((x.double() - model.bias.double()) ** 2).sum(dim=1) + (model.weight.double() ** 2).sum()
    return -0.5 * model.data_dim * math.log(2 * math.pi * variance) - squared / (2 * variance)


def check_log_estimate(log_estimate, model, x, n_samples: int, name: str, mistakes=None) -> None:
    """Check each log p̂_K(x_i) against the exact log p(x_i) to within 5 standard errors.

    The check is on the ratio p̂_K(x)/p(x), an average of K independent terms with mean 1 and
    standard deviation relative_std_of_likelihood, so its standard error is that over √K.
    ``mistakes`` maps a hint to the log value that mistake would give (matched to within 1 nat).
    """
    exact = reference_log_marginal(model, x)
    ratio = torch.exp(log_estimate.double() - exact)
    std_error = relative_std_of_likelihood(model, x) / math.sqrt(n_samples)
    for i in range(len(x)):
        try:
            check_statistic(ratio[i], 1.0, float(std_error[i]), f"{name}[{i}] / p(x[{i}])")
        except AssertionError:
            gap = float(log_estimate[i] - exact[i])
            message = (
                f"{name}[{i}] is {abs(gap):.3g} nats too {'high' if gap > 0 else 'low'} against the exact "
                f"log p(x[{i}]); with K = {n_samples} a correct estimate is off by more than 5 standard errors "
                f"(≈ {5 * float(std_error[i]):.2g} nats here) less than once in a million."
            )
            hints = [hint for hint, wrong in (mistakes or {}).items() if abs(float(wrong[i]) - float(log_estimate[i])) < 1.0]
            raise AssertionError(f"{message} Likely mistake: {hints[0]}" if hints else message) from None


def likelihood_ratio_moments(model, x: torch.Tensor) -> list[torch.Tensor]:
    """E_{p(z)}[t^m] for m = 2, 3, 4, where t = p(x|z)/p(x) is one term of the estimator; float64, (batch,) each.

    N(x; μ, σ² I)^m = (2πσ²)^(-(m-1)D/2) m^(-D/2) N(x; μ, (σ²/m) I), so E_{p(z)}[p(x|z)^m] is again a
    Gaussian density of x, with the decoder variance divided by m.
    """
    variance, data_dim = model.noise_std**2, model.data_dim
    log_px = reference_log_marginal(model, x)
    return [
        torch.exp(
            -0.5 * (m - 1) * data_dim * math.log(2 * math.pi * variance)
            - 0.5 * data_dim * math.log(m)
            + gaussian_log_density(model, x, variance / m)
            - m * log_px
        )
        for m in (2, 3, 4)
    ]


def check_spread(ratios: torch.Tensor, model, x: torch.Tensor, n_samples: int, name: str) -> None:
    """Check that estimates of p(x) vary from call to call exactly as an average of K prior terms should.

    ``ratios`` has shape (n_calls, batch): p̂_K(x)/p(x) from independent calls. Each is the mean of K
    independent terms t with E[t] = 1, so Q = mean over calls of (ratio − 1)² estimates
    Var[p̂_K/p] = Var[t]/K without bias. Its standard error is √((μ₄ − Var[p̂_K/p]²)/n_calls), where the
    fourth central moment of a mean of K terms is μ₄ = (μ₄(t) + 3(K − 1) Var[t]²)/K³. An exact answer,
    or any estimator without the sampling noise of K prior codes, has Q = 0.
    """
    m2, m3, m4 = likelihood_ratio_moments(model, x)
    term_variance = m2 - 1
    term_fourth = m4 - 4 * m3 + 6 * m2 - 3  # the fourth central moment of t, since E[t] = 1
    target = term_variance / n_samples
    fourth = (term_fourth + 3 * (n_samples - 1) * term_variance**2) / n_samples**3
    std_error = torch.sqrt((fourth - target**2) / ratios.shape[0])
    spread = ((ratios.double() - 1) ** 2).mean(dim=0)
    for i in range(len(x)):
        distance = float((spread[i] - target[i]) / std_error[i])
        if abs(distance) <= 5:
            continue
        if float(spread[i]) < 1e-3 * float(target[i]):
            raise AssertionError(
                f"{name}[{i}] hardly changes from call to call: a Monte Carlo estimate from K fresh prior codes "
                "varies, and the exact p(x) (or a sampler that already knows the posterior) does not."
            )
        more_or_less = "more" if distance > 0 else "less"
        raise AssertionError(
            f"{name}[{i}] varies {more_or_less} from call to call than an average of K = {n_samples} terms "
            f"p(x|z_k), z_k ~ p(z), can ({abs(distance):.1f} standard errors): are exactly K codes drawn from "
            "the prior, fresh at every call, and each used once per point?"
        )


def check_positive(estimate: torch.Tensor, name: str) -> None:
    """An average of densities is positive: name the two usual reasons it is not."""
    if not (estimate > 0).all():
        raise AssertionError(
            f"{name} should be positive, since it averages densities. A negative value suggests a log was "
            "returned; exactly 0 suggests a log of 0 (a p(x|z) that underflowed) entered the computation."
        )


# %% nbgrader={"grade_id": "approximate-marginal-likelihood", "solution": true}
@add_to_class(IntractableLikelihoodDemo)
def approximate_marginal_likelihood(self, x: torch.Tensor, n_samples: int = 1000) -> torch.Tensor:
    """Monte Carlo estimate p̂_K(x) = (1/K) Σ_k p_θ(x|z_k) with z_k ~ p(z).

    Args:
        x: data points, shape (batch, data_dim).
        n_samples: K, the number of prior codes.

    Returns:
        Shape (batch,): the estimate of p(x[i]) for each point.

    Contract:
        - shape (batch,), dtype float32, every value positive;
        - an estimate, not the exact value: over repeated calls its mean is p(x) and its variance
          Var_{p(z)}[p_θ(x|z)]/K, both checked to within 5 standard errors;
        - the K codes are drawn from the prior, fresh at every call, from torch's global generator;
        - x is left unchanged;
        - it is graded with correct versions of sample_prior and likelihood_given_z.
    """
    ### BEGIN SOLUTION
    batch = x.shape[0]
    z = self.sample_prior(n_samples)  # one set of K codes, shared by the batch
    x_pairs = x.repeat_interleave(n_samples, dim=0)  # x_0 K times, then x_1 K times, ...
    z_pairs = z.repeat(batch, 1)  # z_0 ... z_(K-1), once per point
    likelihoods = self.likelihood_given_z(x_pairs, z_pairs).reshape(batch, n_samples)
    return likelihoods.mean(dim=1)
    ### END SOLUTION


# %% nbgrader={"grade_id": "approximate-marginal-likelihood-visible", "points": 2}
torch.manual_seed(5)
demo_2_2 = IntractableLikelihoodDemo(latent_dim=2, data_dim=2, noise_std=0.5, seed=0)
x, _ = demo_2_2.model.sample(4, generator=torch.Generator().manual_seed(0))
K = 20_000
estimate = check_tensor(
    demo_2_2.approximate_marginal_likelihood(x, n_samples=K), "approximate_marginal_likelihood(x)", shape=(4,), dtype=torch.float32
)
check_positive(estimate, "approximate_marginal_likelihood(x)")
check_log_estimate(estimate.log(), demo_2_2.model, x, K, "approximate_marginal_likelihood(x)")
print("approximate_marginal_likelihood: within 5 standard errors of the exact p(x).")

# %% nbgrader={"grade_id": "approximate-marginal-likelihood-hidden", "points": 3}
# Hidden tests for approximate_marginal_likelihood run when your notebook is graded.
### BEGIN HIDDEN TESTS
class WithReferenceParts(IntractableLikelihoodDemo):
    """Correct sample_prior and likelihood_given_z under the student's estimator: one mistake, one penalty."""

    def sample_prior(self, n_samples: int) -> torch.Tensor:
        return torch.randn(n_samples, self.latent_dim)

    def likelihood_given_z(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return Normal(self.decoder(z), self.noise_std).log_prob(x).sum(dim=-1).exp()


# Contract: shape, dtype, positive; the mean is p(x) (5 standard errors); x unchanged.
torch.manual_seed(6)
# (2, 30, 2.0): p(x) ≈ 1e-28, still a normal float32, where an "epsilon so it is never 0" is all there is.
for latent_dim, data_dim, noise_std, batch in ((3, 5, 0.7, 4), (2, 5, 0.5, 1), (2, 30, 2.0, 3)):
    hidden_demo = WithReferenceParts(latent_dim=latent_dim, data_dim=data_dim, noise_std=noise_std, seed=1)
    x, _ = hidden_demo.model.sample(batch, generator=torch.Generator().manual_seed(1))
    x_before = x.clone()
    K = 20_000
    name = f"approximate_marginal_likelihood with d={latent_dim}, D={data_dim}, batch={batch}"
    estimate = check_tensor(
        hidden_demo.approximate_marginal_likelihood(x, n_samples=K), name, shape=(batch,), dtype=torch.float32
    )
    check_unchanged(x_before, x, "x")
    check_positive(estimate, name)
    exact = reference_log_marginal(hidden_demo.model, x)
    check_log_estimate(
        estimate.log(),
        hidden_demo.model,
        x,
        K,
        name,
        mistakes={
            "you summed p(x|z_k) over the K codes: average them (divide by K).": exact + math.log(K),
            "you averaged log p(x|z_k) (a geometric mean): average the densities themselves.": (
                expected_log_likelihood(hidden_demo.model, x)
            ),
        },
    )

# Contract: an estimate with the spread of K prior terms, not the exact value (see check_spread).
spread_demo = WithReferenceParts(latent_dim=2, data_dim=3, noise_std=1.5, seed=1)
x, _ = spread_demo.model.sample(2, generator=torch.Generator().manual_seed(1))
K, n_calls = 4, 1000
name = f"approximate_marginal_likelihood(x, n_samples={K})"
estimates = [check_tensor(spread_demo.approximate_marginal_likelihood(x, n_samples=K), name, shape=(2,)) for _ in range(n_calls)]
check_spread(torch.stack(estimates).double() / reference_log_marginal(spread_demo.model, x).exp(), spread_demo.model, x, K, name)

# Contract: an estimate with the whole distribution of (1/K) Σ_k p(x|z_k), not only its mean and variance
# (an exact p(x) times noise of the right spread has those). With K = 1, d = 1, D = 2, σ = 0.5 the law of
# p(x|z) is far from any smooth noise; 1000 calls against 100,000 reference draws (two-sample KS test).
law_demo = WithReferenceParts(latent_dim=1, data_dim=2, noise_std=0.5, seed=1)
x_law, _ = law_demo.model.sample(1, generator=torch.Generator().manual_seed(1))
name = "approximate_marginal_likelihood(x, n_samples=1), 1000 calls"
estimates = torch.stack([check_tensor(law_demo.approximate_marginal_likelihood(x_law, n_samples=1), name, shape=(1,))
                         for _ in range(1000)]).reshape(-1)
reference_codes = torch.randn(100_000, 1, generator=torch.Generator().manual_seed(8), dtype=torch.float64)
reference_draws = Normal(reference_codes @ law_demo.model.weight.double().T + law_demo.model.bias.double(),
                         law_demo.noise_std).log_prob(x_law.double()).sum(dim=-1).exp()
check_same_law(estimates, reference_draws, name)

# Contract: fresh codes at every call, from torch's global generator.
torch.manual_seed(31)
first = spread_demo.approximate_marginal_likelihood(x, n_samples=50)
torch.manual_seed(31)
again = spread_demo.approximate_marginal_likelihood(x, n_samples=50)
if not torch.equal(first, again):
    raise AssertionError(
        f"{name} gave another value after the same torch.manual_seed: draw the codes with self.sample_prior "
        "or torch's global generator, not NumPy or a generator of your own."
    )
if torch.equal(again, spread_demo.approximate_marginal_likelihood(x, n_samples=50)):
    raise AssertionError(f"Two calls of {name} gave the same estimate: draw fresh codes at every call.")
### END HIDDEN TESTS

# %% [markdown]
# **A picture: the estimator against the truth.** `demonstrate_failure` (given) repeats the estimate
# for several $K$ on three points: two typical ones, and one unusual point that only codes deep in the
# prior's tail explain. It reports the time per call, the spread over repeated trials, and the exact
# $p_\theta(x)$ that a neural decoder would never tell us.

# %%
@add_to_class(IntractableLikelihoodDemo)
def demonstrate_failure(self, x: torch.Tensor, sample_counts, n_trials: int) -> dict:
    """Estimate p(x) n_trials times for each K, against the exact p(x).

    Args:
        x: points, shape (batch, data_dim).
        sample_counts: the values of K to try.
        n_trials: independent repetitions per K.

    Returns:
        {K: (estimates of shape (n_trials, batch), seconds of the fastest call)}.
    """
    exact = self.exact_log_marginal(x).exp()
    results = {}
    for n_samples in tqdm(sample_counts, desc="K"):
        estimates, durations = [], []
        for _ in range(n_trials):
            start = time.perf_counter()
            estimates.append(self.approximate_marginal_likelihood(x, n_samples))
            durations.append(time.perf_counter() - start)
        estimates = torch.stack(estimates)
        seconds = min(durations)  # the fastest call: the least disturbed by other programs
        results[n_samples] = (estimates, seconds)
        spread = "; ".join(
            f"x{i}: {m:.3g} ± {s:.2g} (exact {e:.3g})"
            for i, (m, s, e) in enumerate(zip(estimates.mean(0), estimates.std(0), exact))
        )
        print(f"K = {n_samples:>7,}  {1e3 * seconds:7.2f} ms/call  {spread}")
    return results


typical, _ = demo.model.sample(2, generator=torch.Generator().manual_seed(4))
unusual = demo.decoder(torch.tensor([[3.0, -2.5]]))  # explained only by codes far in the prior's tail
test_points = torch.cat([typical, unusual])
sample_counts = runtime.scaled((10, 100, 1_000, 10_000, 100_000), (10, 100, 1_000))
failure = demo.demonstrate_failure(test_points, sample_counts, n_trials=runtime.scaled(12, 3))

exact_p = demo.exact_log_marginal(test_points).exp()
fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.2))
for i, (name, shift) in enumerate((("typical x0", 0.85), ("typical x1", 1.0), ("unusual x2", 1.18))):
    ratios = torch.stack([failure[k][0][:, i] / exact_p[i] for k in sample_counts])  # (len(K), n_trials)
    shifted = [k * shift for k in sample_counts]  # side by side, so the points do not overlap
    left.plot(shifted, ratios.mean(1), marker="o", color=f"C{i}", label=f"{name}: mean over trials")
    for k, trials in zip(shifted, ratios):
        left.scatter([k] * len(trials), trials.clamp(max=3.0), s=8, alpha=0.4, color=f"C{i}")  # larger ones on the top edge
left.axhline(1.0, color="black", linestyle="--", linewidth=1, label="exact")
left.set_xscale("log")
left.set_ylim(-0.1, 3.0)
left.legend()
label(left, "Estimate / exact p(x): trials (dots, clipped at 3) and mean", "K (prior samples)", "$\\hat p_K(x) \\,/\\, p(x)$")
right.loglog(sample_counts, [failure[k][1] * 1e3 for k in sample_counts], marker="o")
right.loglog(sample_counts, [failure[sample_counts[-1]][1] * 1e3 * k / sample_counts[-1] for k in sample_counts], ":", color="gray", label="∝ K, for comparison")
right.legend()
label(right, "Cost: time per call against K", "K (prior samples)", "time per call (ms)")
plt.tight_layout()
plt.show()

# %% [markdown]
# In two dimensions the estimator works, at a price: the cloud of trials shrinks only like $1/\sqrt{K}$, and
# the unusual point needs far more samples than the typical ones, because almost every prior code
# misses the small region that explains it. The usual list of the method's failures ("high variance",
# "most random $z$ give very low $p(x|z)$", "a cost that grows with $K$") is now a measurement rather
# than a claim. The time per call grows with $K$; how fast, and how much of it is a fixed overhead,
# depends on your machine and on what else it is running (timings are noisy on a shared machine).
#
# **Think:** the estimate is unbiased, so why does its *mean over trials* for the unusual point sit
# below the truth for small $K$, while a single trial now and then lands far above it? (Hint: what does
# a typical trial look like when the rare big terms are missed, and what happens to the mean when one
# trial catches one?)

# %% [markdown]
# ## Part 5: The same estimate in log space
#
# **Why it matters.** A density in $D$ dimensions is a product of $D$ factors. With $\sigma = 0.5$ each
# factor is typically about $e^{-0.7}$ even for the code that made $x$, so at $D = 200$ the product is
# about $e^{-145}$ (the exact $p_\theta(x)$, an average over all codes, is smaller still: the table
# below prints $\log p_\theta(x) \approx -158$), far below the
# smallest positive float32 ($\approx 1.4\times10^{-45} \approx e^{-103}$): it is stored as exactly 0,
# and $\log \hat p_K(x) = \log 0 = -\infty$. (For a small $\sigma$ the factors exceed 1 and the product
# *overflows* instead: a density is not a probability.) Images have $D$ in the thousands, so real
# models only ever work with log-densities. Adding a small $\epsilon$ before the log does not help: it
# returns $\log \epsilon$, a number that has nothing to do with $p_\theta(x)$.
#
# **The mathematics.** Write $\ell_k = \log p_\theta(x|z_k)$, which you can compute without ever forming
# $p_\theta(x|z_k)$ (Part 3 gave the formula). Then
# $$\log \hat p_K(x) = \log \frac{1}{K}\sum_{k=1}^{K} e^{\ell_k}
#   = \underbrace{m + \log \sum_{k=1}^{K} e^{\ell_k - m}}_{\texttt{torch.logsumexp}} - \log K,
#   \qquad m = \max_k \ell_k .$$
# Subtracting the largest $\ell_k$ makes the biggest term $e^0 = 1$, so nothing underflows to a
# useless 0 or overflows; `torch.logsumexp` does exactly this. It is the log of the *average*, not the
# average of the logs: $\frac{1}{K}\sum_k \ell_k$ is a different, smaller number (Jensen's inequality,
# Lab 1.3).

# %% nbgrader={"grade_id": "approximate-log-marginal-likelihood", "solution": true}
@add_to_class(IntractableLikelihoodDemo)
def approximate_log_marginal_likelihood(self, x: torch.Tensor, n_samples: int = 1000) -> torch.Tensor:
    """Monte Carlo estimate in log space: log p̂_K(x) = logsumexp_k log p_θ(x|z_k) − log K, z_k ~ p(z).

    Args:
        x: data points, shape (batch, data_dim).
        n_samples: K, the number of prior codes.

    Returns:
        Shape (batch,): log p̂_K(x[i]), finite even when every p_θ(x[i]|z_k) underflows in float32.

    Contract:
        - shape (batch,), dtype float32, finite for data dimensions in the hundreds;
        - the log of an estimate, not of the exact value: over repeated calls exp(result)/p(x) has mean 1
          and variance Var_{p(z)}[p_θ(x|z)]/(K p(x)²), both checked to within 5 standard errors;
        - the K codes are drawn from the prior, fresh at every call, from torch's global generator;
        - x is left unchanged;
        - it is graded with correct versions of sample_prior and likelihood_given_z.
    """
    ### BEGIN SOLUTION
    z = self.sample_prior(n_samples)  # (K, latent_dim), shared by the batch
    decoded = Normal(self.decoder(z).unsqueeze(0), self.noise_std)  # batch shape (1, K, data_dim)
    log_likelihoods = decoded.log_prob(x.unsqueeze(1)).sum(dim=-1)  # (batch, K)
    return torch.logsumexp(log_likelihoods, dim=1) - math.log(n_samples)
    ### END SOLUTION


# %% nbgrader={"grade_id": "approximate-log-marginal-likelihood-visible", "points": 1}
torch.manual_seed(7)
demo_2_2 = IntractableLikelihoodDemo(latent_dim=2, data_dim=2, noise_std=0.5, seed=0)
x, _ = demo_2_2.model.sample(4, generator=torch.Generator().manual_seed(0))
K = 20_000
log_estimate = check_tensor(
    demo_2_2.approximate_log_marginal_likelihood(x, n_samples=K),
    "approximate_log_marginal_likelihood(x)",
    shape=(4,),
    dtype=torch.float32,
)
check_log_estimate(
    log_estimate,
    demo_2_2.model,
    x,
    K,
    "approximate_log_marginal_likelihood(x)",
    mistakes={"the − log K is missing: logsumexp alone is the log of the sum, not of the mean.": (
        reference_log_marginal(demo_2_2.model, x) + math.log(K)
    )},
)
print("approximate_log_marginal_likelihood: within 5 standard errors of the exact log p(x) (D = 2).")
print("The hidden tests also try data dimensions in the hundreds, where p(x|z) underflows in float32.")

# %% nbgrader={"grade_id": "approximate-log-marginal-likelihood-hidden", "points": 3}
# Hidden tests for approximate_log_marginal_likelihood run when your notebook is graded.
### BEGIN HIDDEN TESTS
class WithReferenceParts(IntractableLikelihoodDemo):
    """Correct sample_prior and likelihood_given_z under the student's estimator: one mistake, one penalty."""

    def sample_prior(self, n_samples: int) -> torch.Tensor:
        return torch.randn(n_samples, self.latent_dim)

    def likelihood_given_z(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return Normal(self.decoder(z), self.noise_std).log_prob(x).sum(dim=-1).exp()


# Contract: shape, dtype, finite in D = 600; the mean of exp(result)/p(x) is 1 (5 standard errors); x unchanged.
torch.manual_seed(8)
for latent_dim, data_dim, noise_std, batch, K in ((2, 600, 1.0, 3, 4000), (3, 5, 0.7, 4, 20_000)):
    hidden_demo = WithReferenceParts(latent_dim=latent_dim, data_dim=data_dim, noise_std=noise_std, seed=3)
    x, _ = hidden_demo.model.sample(batch, generator=torch.Generator().manual_seed(2))
    x_before = x.clone()
    name = f"approximate_log_marginal_likelihood with d={latent_dim}, D={data_dim}"
    log_estimate = check_tensor(
        hidden_demo.approximate_log_marginal_likelihood(x, n_samples=K),
        name,
        shape=(batch,),
        dtype=torch.float32,
        finite=False,
    )
    check_unchanged(x_before, x, "x")
    if not torch.isfinite(log_estimate).all():
        raise AssertionError(
            f"{name} is not finite ({log_estimate.tolist()}). In D={data_dim} dimensions p(x|z) is about "
            f"e^{float(expected_log_likelihood(hidden_demo.model, x).max()):.0f}, far below the smallest float32 "
            "(≈ e^-103): it underflows to exactly 0 and its log is -inf. Never form p(x|z): compute "
            "log p(x|z) directly and combine the K values with torch.logsumexp."
        )
    exact = reference_log_marginal(hidden_demo.model, x)
    check_log_estimate(
        log_estimate,
        hidden_demo.model,
        x,
        K,
        name,
        mistakes={
            "the − log K is missing: logsumexp alone is the log of the sum, not of the mean.": exact + math.log(K),
            "you averaged log p(x|z_k) (Jensen: the mean of logs is below the log of the mean); use logsumexp − log K.": (
                expected_log_likelihood(hidden_demo.model, x)
            ),
            "you summed log p(x|z_k) over the K codes; use logsumexp − log K.": (
                K * expected_log_likelihood(hidden_demo.model, x)
            ),
        },
    )

# Contract: the log of an estimate with the spread of K prior terms, not of the exact value.
spread_demo = WithReferenceParts(latent_dim=2, data_dim=3, noise_std=1.5, seed=1)
x, _ = spread_demo.model.sample(2, generator=torch.Generator().manual_seed(1))
K, n_calls = 4, 1000
name = f"approximate_log_marginal_likelihood(x, n_samples={K})"
log_estimates = [
    check_tensor(spread_demo.approximate_log_marginal_likelihood(x, n_samples=K), name, shape=(2,))
    for _ in range(n_calls)
]
ratios = torch.exp(torch.stack(log_estimates).double() - reference_log_marginal(spread_demo.model, x))
check_spread(ratios, spread_demo.model, x, K, f"exp({name}) / p(x)")

# Contract: fresh codes at every call, from torch's global generator.
torch.manual_seed(32)
first = spread_demo.approximate_log_marginal_likelihood(x, n_samples=50)
torch.manual_seed(32)
again = spread_demo.approximate_log_marginal_likelihood(x, n_samples=50)
if not torch.equal(first, again):
    raise AssertionError(
        f"{name} gave another value after the same torch.manual_seed: draw the codes with self.sample_prior "
        "or torch's global generator, not NumPy or a generator of your own."
    )
if torch.equal(again, spread_demo.approximate_log_marginal_likelihood(x, n_samples=50)):
    raise AssertionError(f"Two calls of {name} gave the same estimate: draw fresh codes at every call.")
### END HIDDEN TESTS

# %% [markdown]
# **A picture: underflow.** For growing $D$ (with $d = 2$ and $\sigma = 0.5$) we estimate one point's
# likelihood both ways with $K = 1000$. The naive $\hat p_K(x)$ reaches exactly 0 once $D$ is in the
# low hundreds (MNIST has $D = 784$); the log-space estimate stays finite and sits on the exact
# $\log p_\theta(x)$.

# %%
data_dims = runtime.scaled((2, 10, 50, 100, 200, 500, 784), (2, 200, 784))
float32_floor = math.log(torch.finfo(torch.float32).smallest_normal * torch.finfo(torch.float32).eps)
rows = []
for data_dim in tqdm(data_dims, desc="D"):
    demo_d = IntractableLikelihoodDemo(latent_dim=2, data_dim=data_dim, noise_std=0.5, seed=0)
    x_d, _ = demo_d.model.sample(1, generator=torch.Generator().manual_seed(1))
    naive = demo_d.approximate_marginal_likelihood(x_d, 1000).item()
    log_space = demo_d.approximate_log_marginal_likelihood(x_d, 1000).item()
    rows.append((data_dim, naive, log_space, demo_d.exact_log_marginal(x_d).item()))

print(f"{'D':>5} {'naive p̂(x)':>12} {'log(naive)':>11} {'log-space':>10} {'exact log p(x)':>15}")
for data_dim, naive, log_space, exact in rows:
    log_naive = math.log(naive) if naive > 0 else -math.inf
    print(f"{data_dim:>5} {naive:>12.3g} {log_naive:>11.2f} {log_space:>10.2f} {exact:>15.2f}")

fig, ax = plt.subplots(figsize=(7.5, 4.5))
dims = [r[0] for r in rows]
ax.plot(dims, [r[3] for r in rows], color="black", label="exact log p(x)")
ax.plot(dims, [r[2] for r in rows], "o", color="C0", label="log-space estimate (logsumexp)")
finite = [(r[0], math.log(r[1])) for r in rows if r[1] > 0]
zeros = [r[0] for r in rows if r[1] == 0]
ax.plot(*zip(*finite), "s", color="C1", markerfacecolor="none", markersize=9, label="log of naive estimate")
if zeros:
    ax.plot(zeros, [float32_floor] * len(zeros), "x", color="C3", markersize=10, label="naive estimate = 0 (log = −∞)")
ax.axhline(float32_floor, color="C3", linestyle="--", linewidth=1, label="smallest float32 ≈ e^-103")
ax.set_xscale("log")
ax.legend(loc="lower left")
label(ax, "The naive estimate underflows; the log-space one does not", "data dimension D", "log p(x)")
plt.show()

# %% [markdown]
# **Think:** the exact $\log p_\theta(x)$ falls roughly linearly in $D$. From the formula for
# $\log p_\theta(x|z)$, what is its slope for $\sigma = 0.5$? And for which $\sigma$ would it be flat?

# %% [markdown]
# ## Part 6: How good is the estimate? $K$ and the latent dimension
#
# **Why it matters.** A finite answer is not yet a right one. Because we know the exact $\log p_\theta(x)$
# we can measure the error $\log \hat p_K(x) - \log p_\theta(x)$ over repeated runs, and see what drives it.
#
# **The mathematics.** Write $w = p_\theta(x|z)/p_\theta(x)$, the term being averaged in relative units:
# $\mathbb{E}[w] = 1$ and $\mathrm{sd}[w] = s$ (the `relative_std_of_likelihood` above). The ratio
# $\hat p_K(x)/p_\theta(x) = 1 + u$ is an average of $K$ such terms, so $\mathbb{E}[u] = 0$ and
# $\mathrm{Var}[u] = s^2/K$. Expanding the log to second order, $\log(1 + u) \approx u - u^2/2$:
# the first-order term $u$ has mean 0 and gives the spread, the second-order term $-u^2/2$ gives the
# mean, so for large $K$ (where $u$ is small and, by the central limit theorem, nearly normal)
# $$\log \hat p_K(x) - \log p_\theta(x) \;\approx\; \mathcal{N}\!\Big(-\frac{s^2}{2K},\ \frac{s^2}{K}\Big):$$
# a spread of $s/\sqrt{K}$ and a small *downward* bias, which comes from the curvature of the log
# (Jensen again); a first-order expansion alone would predict no bias at all. The
# catch is $s$: it measures how badly prior codes miss the posterior, and it grows exponentially with
# the latent dimension $d$. A useful rule of thumb (Chatterjee and Diaconis, 2018): sampling from
# $p(z)$ to average over $p_\theta(z|x)$ needs about $K \approx e^{\mathrm{KL}(p_\theta(z|x)\,\|\,p(z))}$ samples.

# %%
sweep_counts = runtime.scaled((10, 30, 100, 300, 1_000, 3_000, 10_000, 30_000), (10, 100, 1_000))
n_trials = runtime.scaled(40, 3)
fig, ax = plt.subplots(figsize=(7.5, 4.5))
for color, latent_dim in zip(("C0", "C1"), (2, 6)):
    demo_k = IntractableLikelihoodDemo(latent_dim=latent_dim, data_dim=10, noise_std=0.5, seed=0)
    x_k, _ = demo_k.model.sample(1, generator=torch.Generator().manual_seed(1))
    exact = demo_k.exact_log_marginal(x_k)
    errors = torch.stack([
        torch.cat([demo_k.approximate_log_marginal_likelihood(x_k, k) - exact for _ in range(n_trials)])
        for k in tqdm(sweep_counts, desc=f"d = {latent_dim}")
    ])  # (len(sweep_counts), n_trials)
    s = float(relative_std_of_likelihood(demo_k.model, x_k))
    mean_errors, low_fractions = errors.mean(dim=1).tolist(), (errors < 0).double().mean(dim=1).tolist()
    print(f"d = {latent_dim} (s = {s:.3g}): mean error " + "  ".join(f"K={k}: {m:+.3f}" for k, m in zip(sweep_counts, mean_errors)))
    print(f"d = {latent_dim}: fraction of trials too low " + "  ".join(f"K={k}: {f:.2f}" for k, f in zip(sweep_counts, low_fractions)))
    counts = torch.tensor(sweep_counts, dtype=torch.float64)
    ax.loglog(sweep_counts, errors.std(dim=1), "o", color=color, label=f"d = {latent_dim}: spread (sd over trials)")
    ax.loglog(sweep_counts, errors.mean(dim=1).abs(), "^", color=color, markerfacecolor="none", label=f"d = {latent_dim}: |mean error|")
    ax.loglog(counts, s / counts.sqrt(), "-", color=color, linewidth=1, label=f"theory s/√K, s = {s:.3g}")
    ax.loglog(counts, s**2 / (2 * counts), ":", color=color, linewidth=1, label="theory s²/(2K)")
ax.legend(fontsize=7, ncol=2)
label(ax, "Error of log p̂_K(x) against the exact log p(x)", "K (prior samples)", "error (nats)")
plt.show()

# %% [markdown]
# For $d = 2$ the measured spread follows the $1/\sqrt{K}$ line. At $K = 10$, not yet $\gg s^2$, the
# mean error is clearly negative (printed above); from $K = 30$ on the bias is so small that the
# |mean error| markers mostly show the noise of a 40-trial average (its own sd is spread/√40). For
# $d = 6$ ($s$ is several times larger: see the legend) the second-order expansion holds only once
# $K \gg s^2$. For $K$ below $s^2$ (here $K \le 100$) the |mean error| markers lie under the
# $s^2/(2K)$ line, which overstates the bias there, and most trials come out *too low* (the printed mean
# errors are negative, and so are most trials' errors, a sign this plot of |mean error| hides), because
# the rare codes that carry most of $p_\theta(x)$ have not been drawn yet.
# Now fix $K = 1000$ and grow $d$.

# %%
latent_dims = runtime.scaled((1, 2, 4, 8, 16, 32), (1, 4, 16))
fixed_k = 1000
n_trials = runtime.scaled(20, 3)
error_mean, error_sd, posterior_kl = [], [], []
for latent_dim in tqdm(latent_dims, desc="d"):
    demo_d = IntractableLikelihoodDemo(latent_dim=latent_dim, data_dim=32, noise_std=0.5, seed=0)
    x_d, _ = demo_d.model.sample(1, generator=torch.Generator().manual_seed(1))
    exact = demo_d.exact_log_marginal(x_d)
    errors = torch.cat([demo_d.approximate_log_marginal_likelihood(x_d, fixed_k) - exact for _ in range(n_trials)])
    error_mean.append(errors.mean().item())
    error_sd.append(errors.std().item())
    prior = MultivariateNormal(torch.zeros(latent_dim), torch.eye(latent_dim))
    posterior_kl.append(kl_divergence(demo_d.model.posterior(x_d), prior).item())

fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.2))
left.errorbar(latent_dims, error_mean, yerr=error_sd, marker="o", capsize=3)
left.axhline(0.0, color="black", linestyle="--", linewidth=1)
label(left, f"Error of log p̂_K(x), K = {fixed_k} (mean ± sd)", "latent dimension d", "log p̂_K(x) − log p(x) (nats)")
right.plot(latent_dims, posterior_kl, marker="o", label="KL(p(z|x) ‖ p(z)) (exact)")
right.axhline(math.log(fixed_k), color="C3", linestyle="--", label=f"log K = {math.log(fixed_k):.1f}")
right.legend()
label(right, "How far the posterior is from the prior", "latent dimension d", "nats")
plt.tight_layout()
plt.show()

# %% [markdown]
# The error is small while $\mathrm{KL}(p_\theta(z|x)\,\|\,p(z)) < \log K$ and falls off a cliff once
# the posterior is further from the prior than $K$ samples can reach. The KL grows about linearly in
# $d$, so the $K$ needed grows exponentially: read the KL at $d = 32$ off the right panel (about 37 nats),
# and one would need about $e^{37} \approx 10^{16}$ prior samples *per data point*, per gradient step.
#
# **Think:** the prior codes are wasted because they are drawn without looking at $x$. Which
# distribution over $z$ would you rather draw them from, and what would you have to know to do so?

# %% [markdown]
# ## Part 7: Bayes' rule goes in a circle
#
# The good codes for $x$ are those the posterior favours, so why not sample from the posterior? Bayes' rule
# $$p_\theta(z|x) = \frac{p_\theta(x|z)\,p(z)}{p_\theta(x)}$$
# has two computable pieces in the numerator: the decoder density (Part 3) and the prior (Part 2). The
# denominator is $p_\theta(x) = \int p_\theta(x|z)\,p(z)\,dz$, the very integral we failed to compute:
# it is exactly the constant that makes the numerator integrate to 1. To get the posterior we need
# $p_\theta(x)$; to estimate $p_\theta(x)$ well we need samples from the posterior. The circle.
#
# The linear-Gaussian model is the exception that breaks it: there $p_\theta(x)$ is a known Gaussian, so
# Bayes' rule can be applied on a grid, and the posterior even has a closed form,
# $\mathcal{N}\big(\Sigma W^\top (x - b)/\sigma^2,\ \Sigma\big)$ with $\Sigma = (I + W^\top W/\sigma^2)^{-1}$.
# Below, the numerator $p_\theta(x|z)p(z)$ divided by the exact $p_\theta(x)$ is compared with that closed form.

# %%
cell_area = (z_grid[0, 1, 0] - z_grid[0, 0, 0]) * (z_grid[1, 0, 1] - z_grid[0, 0, 1])
prior_density = Normal(0.0, 1.0).log_prob(flat_codes).sum(dim=1).exp()
numerator = (demo.likelihood_given_z(x_point.expand(len(flat_codes), -1), flat_codes) * prior_density).reshape(150, 150)
exact_p_x = demo.exact_log_marginal(x_point).exp()
bayes_posterior = numerator / exact_p_x
closed_form = demo.model.posterior(x_point).log_prob(flat_codes).exp().reshape(150, 150)

print(f"∫ p(x|z) p(z) dz on the grid: {float(numerator.sum() * cell_area):.5f}   exact p(x): {float(exact_p_x):.5f}")
print(f"largest |Bayes posterior − closed-form posterior| on the grid: {float((bayes_posterior - closed_form).abs().max()):.2e}")

fig, ax = plt.subplots(figsize=(6, 5))
image = ax.contourf(z_grid[..., 0], z_grid[..., 1], bayes_posterior, levels=20, cmap="Blues")
fig.colorbar(image, ax=ax, label="p(x|z) p(z) / p(x)")
contour_levels = [float(closed_form.max()) * fraction for fraction in (0.05, 0.3, 0.6, 0.9)]
ax.contour(z_grid[..., 0], z_grid[..., 1], closed_form, levels=contour_levels, colors="C3", linewidths=1, linestyles="dashed")
ax.scatter(prior_codes[:, 0], prior_codes[:, 1], s=5, color="gray", alpha=0.6, label="z ~ p(z)")
ax.plot([], [], color="C3", linestyle="dashed", label="closed-form p(z|x)")
ax.set_aspect("equal")
ax.legend(loc="lower left", frameon=True, framealpha=0.9)
label(ax, "Bayes' rule with the exact p(x) gives the posterior", "$z_1$", "$z_2$")
plt.show()

# %% [markdown]
# The grid integral of the numerator *is* $p_\theta(x)$, and the Bayes posterior matches the closed form
# to float32 rounding (the largest difference printed above). A grid is only feasible because $d = 2$: a
# grid of 150 points per axis has $150^d$ cells, already more than $10^{17}$ for $d = 8$. With a neural decoder we have
# neither the closed form nor the grid. **Variational inference** breaks the circle differently: it
# gives up the exact posterior and *learns* an approximation $q_\phi(z|x)$, from which codes that
# explain $x$ are cheap to draw. The price is that we no longer get $\log p_\theta(x)$ itself, only a lower
# bound on it, the ELBO (Labs 1.3 and 1.4).
#
# **Think:** if you could draw $z$ from the exact posterior, what would the terms
# $p_\theta(x|z)\,p(z)/p_\theta(z|x)$ of an importance-sampling average be? How many samples would you need?

# %% [markdown]
# **Try it.** What if the codes came from somewhere else? Draw them from a proposal
# $q(z) = \mathcal{N}(t\,\mu_{\text{post}},\ \sigma_q^2 I)$ and weight each term by $p(z_k)/q(z_k)$, so that
# $\frac{1}{K}\sum_k p_\theta(x|z_k)\,p(z_k)/q(z_k)$ still estimates $p_\theta(x)$ without bias. The model is
# Part 6's ($d = 6$, $D = 10$), with $K = 100$; $t = 0$, $\sigma_q = 1$ is the prior estimator of Part 4
# and $t = 1$ centres the proposal on the exact posterior mean $\mu_{\text{post}}$ (the cell prints the
# posterior's standard deviations). The histogram shows the error $\log \hat p_K(x) - \log p_\theta(x)$ of
# 200 independent estimates, with your `likelihood_given_z`. Look for the spread shrinking as the
# proposal moves onto the posterior and narrows to about its width, and growing again, with mostly low
# estimates, once $\sigma_q$ is well below the posterior's standard deviations.

# %%
proposal_demo = IntractableLikelihoodDemo(latent_dim=6, data_dim=10, noise_std=0.5, seed=0)
x_proposal, _ = proposal_demo.model.sample(1, generator=torch.Generator().manual_seed(1))
exact_proposal = float(proposal_demo.exact_log_marginal(x_proposal))
posterior_proposal = proposal_demo.model.posterior(x_proposal)
print("posterior standard deviations:", posterior_proposal.covariance_matrix[0].diagonal().sqrt().numpy().round(2))


def redraw_proposal(t: float, sigma_q: float) -> None:
    n_trials, n_codes = 200, 100
    generator = torch.Generator().manual_seed(0)  # the same draws at every redraw
    proposal = Normal(t * posterior_proposal.mean[0], sigma_q)
    codes = proposal.loc + sigma_q * torch.randn(n_trials * n_codes, 6, generator=generator)
    densities = proposal_demo.likelihood_given_z(x_proposal.expand(len(codes), -1), codes)
    prior_over_proposal = (Normal(0.0, 1.0).log_prob(codes) - proposal.log_prob(codes)).sum(dim=1).exp()
    estimates = (densities * prior_over_proposal).reshape(n_trials, n_codes).mean(dim=1)
    errors = (estimates.log() - exact_proposal).clamp(-6.0, 1.5)  # −∞ (an estimate of 0) lands in the first bin
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    ax.hist(errors, bins=50, range=(-6.0, 1.5), color="C0")
    ax.axvline(0.0, color="black", ls="--", label="exact log p(x)")
    ax.legend(loc="upper left")
    label(ax, f"Proposal N({t:.1f}·μ_post, {sigma_q:.2f}² I): error sd {errors.std():.2f} nats",
          "log p̂_K(x) − log p(x) (nats; beyond the axis in its end bins)", "number of estimates")
    plt.show()


controls = widgets.interactive(
    redraw_proposal,
    t=widgets.FloatSlider(value=0.0, min=0.0, max=1.0, step=0.1, continuous_update=False, description="centre t"),
    sigma_q=widgets.FloatSlider(value=1.0, min=0.05, max=1.5, step=0.05, continuous_update=False, description="σ_q"),
)
display(controls)

# %% [markdown]
# **Think:** at $t = 1$, find the $\sigma_q$ with the smallest spread. Why is it not 0, as it would be for
# the exact posterior? And why does a proposal narrower than the posterior give estimates that are
# mostly *low*, with rare high ones? (The same happens in notebook 1.3, with a name.)

# %% [markdown]
# ## Written answer
#
# Your experiments showed two things. First, $\hat p_K(x)$ is an unbiased estimate of $p_\theta(x)$, yet
# $\log \hat p_K(x)$ lies *below* $\log p_\theta(x)$ on average. Second, for a fixed $K$ the error explodes
# as the latent dimension $d$ grows. Explain both in a few sentences, in the notation of this notebook.
# Then say from which distribution you would rather draw the codes $z_k$, and what stops you.

# %% [markdown] nbgrader={"grade_id": "intractable-insight", "solution": true, "points": 2}
# ### BEGIN SOLUTION
# **Model answer.** The log is concave, so by Jensen's inequality
# $\mathbb{E}[\log \hat p_K(x)] \le \log \mathbb{E}[\hat p_K(x)] = \log p_\theta(x)$: unbiasedness does
# not survive the log. Most runs miss the rare codes with a large $p_\theta(x|z)$ and come out low; a few
# runs catch one and come out high, and on the log scale those few high runs no longer make up for the
# many low ones. For large $K$ ($K \gg s^2$) the bias is about $-s^2/(2K)$, and it vanishes as $K$ grows;
# for small $K$ that formula overstates it.
# The error grows with $d$ because $p_\theta(x|z)$ is large only where the posterior $p_\theta(z|x)$
# puts its mass, and that region covers a fraction of the prior that shrinks exponentially with $d$
# (roughly $e^{-\mathrm{KL}(p_\theta(z|x)\,\|\,p(z))}$, and the KL grows linearly in $d$). With fixed $K$, no
# prior code lands there once the KL exceeds $\log K$, and the estimate is far too low.
# The best codes come from the posterior $p_\theta(z|x)$ itself: with importance weights
# $p_\theta(x|z)p(z)/p_\theta(z|x) = p_\theta(x)$ every term equals the answer, so one sample would do. But
# Bayes' rule gives $p_\theta(z|x)$ only through $p_\theta(x)$, the very quantity we want. Hence variational
# inference: learn an approximation $q_\phi(z|x)$ and sample from it instead.
#
# **Rubric (2 points).**
# - 1 point: the downward bias is explained by the concavity of the log (Jensen's inequality,
#   $\mathbb{E}[\log \hat p] \le \log \mathbb{E}[\hat p]$), or equivalently by the rare large terms being
#   missed in most runs. "Because of variance" alone earns nothing.
# - 1 point: the blow-up with $d$ is explained by prior samples rarely landing where the posterior is
#   (a volume or KL argument), *and* the posterior $p_\theta(z|x)$ (or an approximation $q_\phi(z|x)$) is
#   named as the better distribution, with the circularity (it needs $p_\theta(x)$) as the obstacle.
#   Half a point if only one of the two parts is there.
# ### END SOLUTION

# %% [markdown]
# ## Summary
#
# - A latent-variable model's likelihood $p_\theta(x) = \mathbb{E}_{p(z)}[p_\theta(x|z)]$ can be estimated
#   without bias by averaging $p_\theta(x|z_k)$ over prior codes, but its relative spread,
#   $\mathrm{sd}[\hat p_K(x)]/p_\theta(x)$ (for large $K$ also the spread of $\log \hat p_K(x)$ in nats), is
#   $s/\sqrt{K}$ with an $s$ that grows exponentially with the latent dimension.
# - Densities of many dimensions underflow to 0 in float32: work with $\log p_\theta(x|z)$ and combine
#   with `torch.logsumexp` $- \log K$; the log of the average, never the average of the logs.
# - In log space the unbiased estimate becomes a slightly low one (Jensen).
# - Bayes' rule needs $p_\theta(x)$ to give the posterior, and sampling well needs the posterior: the
#   circle that variational inference breaks with a learned $q_\phi(z|x)$.
#
# **Questions to think about.**
# 1. A linear decoder let us check every estimate. What could you still check with an MLP decoder?
#    (Hint: a very large $K$ in low $d$, or the consistency of estimates across $K$.)
# 2. If you draw $z_k$ from some $q_\phi(z|x)$ instead of $p(z)$, how must each term of the average
#    change so that it still estimates $p_\theta(x)$?
# 3. Why would maximizing $\log \hat p_K(x)$ over $\theta$ with a small $K$ be a biased training signal,
#    and in which direction?
