# %% [markdown]
# # Lab 1.3: Jensen's inequality, the ELBO and its gap
#
# A latent-variable model defines $p_\theta(x) = \int p_\theta(x|z)\,p(z)\,dz$, an integral we cannot
# compute for a neural decoder. Variational inference replaces $\log p_\theta(x)$ by a lower bound
# we *can* compute, the ELBO. The whole trick is one inequality about the logarithm: Jensen's.
#
# **Learning objectives.** By the end of this lab you will be able to
# 1. state Jensen's inequality for the concave $\log$ and estimate its gap $\log \mathbb{E}[X] - \mathbb{E}[\log X]$ from samples;
# 2. derive the ELBO from Jensen's inequality, and show that its gap is $\mathrm{KL}(q_\phi(z|x)\,\|\,p_\theta(z|x))$;
# 3. implement the importance-weighted bound $\mathcal{L}_K$ stably in log space, and watch it tighten toward $\log p_\theta(x)$ as $K$ grows.
#
# **Prerequisites.** Expectations and Monte Carlo averages; Gaussian densities and the KL divergence
# (the previous lab); PyTorch tensors, broadcasting and reductions over a chosen dimension.
#
# **Estimated time.** 50 minutes.
#
# **How this notebook is graded.** Two methods to write and one derivation entered as a SymPy
# expression (cells marked `YOUR CODE HERE`), each followed by a visible test you can run and a hidden
# test that runs at grading; a short proof and one written answer, graded by hand. The visible tests
# check properties, never the formula. Each docstring ends with a **Contract**, the properties the hidden tests
# check; the types follow the policy of notebook 1.1 (tensors in, tensors of the same dtype out).

# %%
import math

import ipywidgets as widgets
import matplotlib.pyplot as plt
import sympy
import torch
from torch.distributions import Exponential, Gamma, Independent, MultivariateNormal, Normal, Uniform, kl_divergence
from tqdm.auto import tqdm

from labkit import add_to_class, runtime, seed_everything
from labkit.checks import (
    check_close,
    check_equivalent,
    check_expression,
    check_gradient_flows,
    check_statistic,
    check_tensor,
    check_unchanged,
)
from labkit.plots import label, use_course_style
from labkit.toy import make_linear_gaussian

seed_everything(0)
use_course_style()
print(runtime.describe())

# %% [markdown]
# ## Part 1: Jensen's inequality for the logarithm
#
# **Why it matters.** The log-likelihood of a latent-variable model is the log of an expectation,
# $\log \mathbb{E}[\cdot]$. Expectations of logs, $\mathbb{E}[\log \cdot]$, are what Monte Carlo and
# stochastic gradients handle well. Jensen's inequality says which of the two is larger, and by how much
# is exactly what makes a variational bound loose or tight.
#
# **The mathematics.** A function $f$ is concave if every chord lies below its graph. For a concave
# $f$ and any random variable $X$,
# $$f(\mathbb{E}[X]) \;\ge\; \mathbb{E}[f(X)],$$
# with equality if and only if $X$ is constant (for a strictly concave $f$). The logarithm is
# strictly concave ($\log'' x = -1/x^2 < 0$), so for a positive $X$
# $$\log \mathbb{E}[X] \;\ge\; \mathbb{E}[\log X], \qquad
#   \Delta \;=\; \log \mathbb{E}[X] - \mathbb{E}[\log X] \;\ge\; 0 .$$
# We call $\Delta$ the **Jensen gap**. From samples $x_1, \dots, x_n$ we estimate both expectations
# by averages:
# $$\hat\Delta_n \;=\; \log\Big(\frac{1}{n}\sum_{i=1}^n x_i\Big) \;-\; \frac{1}{n}\sum_{i=1}^n \log x_i .$$
# This is the log of the arithmetic mean minus the log of the geometric mean, so $\hat\Delta_n \ge 0$
# for *any* samples: it is Jensen's inequality for the empirical distribution.
#
# Two facts to keep in mind: the gap does not change if $X$ is rescaled ($X \to cX$ adds $\log c$
# to both terms), and, roughly, it grows with how spread out $X$ is relative to its mean: for a small
# spread it is about $\operatorname{Var}[X]/(2\,\mathbb{E}[X]^2)$. Only roughly: two variables with the same mean
# and variance can have different gaps, because the log weighs values near 0 heavily.
#
# The class below gathers this lab's methods; you fill them in one cell at a time.

# %%
class JensensInequalityDemo:
    """Jensen's inequality for the logarithm, and the variational bounds it gives.

    Methods are attached one cell at a time with ``@add_to_class(JensensInequalityDemo)``:
    ``jensen_gap`` (Part 1) and ``importance_weighted_elbo`` (Part 3).
    """


jensen = JensensInequalityDemo()

# %% [markdown]
# ### Task 1: the Jensen gap from samples
#
# Write `jensen_gap`. The samples come stacked along dimension 0; any further dimensions index
# independent random variables (for example one column per distribution), and each gets its own gap.

# %% nbgrader={"grade_id": "jensen-gap", "solution": true}
@add_to_class(JensensInequalityDemo)
def jensen_gap(self, samples: torch.Tensor) -> torch.Tensor:
    """Estimate the Jensen gap log E[X] − E[log X] of a positive random variable from samples.

    Args:
        samples: positive samples of X, shape (n_samples, ...); dimension 0 indexes the samples,
            the other dimensions index independent variables.

    Returns:
        Shape (...): for each variable, log of the sample mean minus the sample mean of the logs
        (reduced over dimension 0 only). It is ≥ 0 by Jensen's inequality.

    Contract:
        - shape samples.shape[1:] (a 0-d tensor for samples of shape (n,)), the dtype of samples;
        - log(mean) − mean(log), reduced over dimension 0 only, to within the rounding of the dtype;
        - 0 for constant samples, unchanged when the samples are rescaled (X → cX), and, as an
          estimator, close to the exact gap of Gamma(2, 1) for many samples (5 standard errors);
        - samples is left unchanged.
    """
    ### BEGIN SOLUTION
    log_of_mean = torch.log(samples.mean(dim=0))
    mean_of_log = torch.log(samples).mean(dim=0)
    return log_of_mean - mean_of_log
    ### END SOLUTION


# %% nbgrader={"grade_id": "jensen-gap-visible", "points": 1}
# Visible test: properties of the gap and one known value; the formula is yours to write.
torch.manual_seed(0)
samples = Uniform(0.5, 5.0).sample((6, 2))
gap = check_tensor(jensen.jensen_gap(samples), "jensen_gap(samples of shape (6, 2))", shape=(2,), dtype=torch.float32)
assert (gap > 0).all(), "jensen_gap should be positive for samples that are not all equal (Jensen's inequality)."
# A constant has no gap, and the units do not matter (X → 10 X).
check_close(jensen.jensen_gap(torch.full((5, 2), 3.0)), torch.zeros(2), "jensen_gap(constant samples)", atol=1e-6)
check_close(jensen.jensen_gap(10.0 * samples), gap, "jensen_gap(10 · samples), which should equal jensen_gap(samples)",
            rtol=1e-4, atol=1e-6)
# A known value: for X ~ Exponential(1) the gap is Euler's γ ≈ 0.5772 (Picture 2 below shows why). With n
# samples its standard error is √((ψ'(1) − 1)/n) = √((π²/6 − 1)/n) (the hidden tests derive it).
n = 200_000
check_statistic(jensen.jensen_gap(Exponential(1.0).sample((n,)).double()), 0.5772156649015329,
                math.sqrt((math.pi**2 / 6 - 1) / n), "jensen_gap(200000 samples of Exponential(1))")
print("jensen_gap: visible tests passed.")

# %% nbgrader={"grade_id": "jensen-gap-hidden", "points": 2}
# Hidden tests for jensen_gap run when your notebook is graded.
### BEGIN HIDDEN TESTS
torch.manual_seed(3)


def gap_from_first_principles(samples: torch.Tensor) -> torch.Tensor:
    """log(arithmetic mean) − log(geometric mean) of each variable, with Python floats."""
    columns = samples.to(torch.float64).reshape(samples.shape[0], -1).T.tolist()
    gaps = [math.log(sum(col) / len(col)) - sum(math.log(v) for v in col) / len(col) for col in columns]
    return torch.tensor(gaps, dtype=torch.float64).reshape(samples.shape[1:])


# Contract: shape and dtype; log(mean) − mean(log) over dimension 0; samples unchanged.
# Several variables, float32: shape (...) = (3, 2) and the values of each variable.
samples = Uniform(0.5, 5.0).sample((7, 3, 2))
before = samples.clone()
name = "jensen_gap(samples of shape (7, 3, 2)), which should reduce over dimension 0 only"
gap = check_tensor(jensen.jensen_gap(samples), name, shape=(3, 2), dtype=torch.float32)
check_unchanged(before, samples, "samples")
expected = gap_from_first_principles(samples)
check_close(gap, expected, name, rtol=1e-4, atol=1e-5, mistakes={
    "E[log X] − log E[X]: the sign is reversed": -expected,
    "log of the sum instead of the log of the mean (off by log n)": expected + math.log(7),
})

# A square sample, so that reducing over the wrong dimension keeps the right shape.
samples = Exponential(1.0).sample((5, 5)).double()
gap = check_tensor(jensen.jensen_gap(samples), "jensen_gap(samples of shape (5, 5))", shape=(5,), dtype=torch.float64)
expected = gap_from_first_principles(samples)
check_close(gap, expected, "jensen_gap(samples of shape (5, 5))", mistakes={
    "reduced over dimension 1 instead of dimension 0 (the samples)": gap_from_first_principles(samples.T),
    "E[log X] − log E[X]: the sign is reversed": -expected,
})

# One variable: samples of shape (n,) give a 0-d tensor.
samples = Gamma(3.0, 2.0).sample((11,)).double()
gap = check_tensor(jensen.jensen_gap(samples), "jensen_gap(samples of shape (11,))", shape=(), dtype=torch.float64)
check_close(gap, gap_from_first_principles(samples), "jensen_gap(samples of shape (11,))")

# Contract: a constant has no gap; the gap never depends on the units (X -> cX).
constant = torch.full((6, 2), 2.5, dtype=torch.float64)
check_close(jensen.jensen_gap(constant), torch.zeros(2, dtype=torch.float64), "jensen_gap(constant samples)",
            atol=1e-12)
samples = Uniform(1.0, 4.0).sample((9, 4)).double()
check_close(jensen.jensen_gap(1000.0 * samples), gap_from_first_principles(samples),
            "jensen_gap(1000 · samples), which should equal jensen_gap(samples)", rtol=1e-6, atol=1e-9)
# Small units too (X → 10⁻¹² X): an "epsilon inside the log" is then no longer negligible.
check_close(jensen.jensen_gap(1e-12 * samples), gap_from_first_principles(samples),
            "jensen_gap(1e-12 · samples), which should equal jensen_gap(samples)", rtol=1e-6, atol=1e-9)
# Contract: shape samples.shape[1:], also when a trailing dimension has size 1: (n, 1) gives shape (1,).
samples = Uniform(1.0, 4.0).sample((8, 1)).double()
gap = check_tensor(jensen.jensen_gap(samples), "jensen_gap(samples of shape (8, 1))", shape=(1,), dtype=torch.float64)
check_close(gap, gap_from_first_principles(samples), "jensen_gap(samples of shape (8, 1))")

# Contract: as an estimator, close to the exact gap of Gamma(α, 1): log α − ψ(α).
# Standard error (delta method): ĝ ≈ Δ + mean of (X/α − log X) − its mean, and
# Var(X/α − log X) = Var(X)/α² + Var(log X) − 2 Cov(X, log X)/α = 1/α + ψ'(α) − 2/α = ψ'(α) − 1/α,
# since Var(X) = α, Var(log X) = ψ'(α) and Cov(X, log X) = α ψ(α + 1) − α ψ(α) = 1.
# So SE = sqrt((ψ'(α) − 1/α) / n); the O(1/n) bias, −1/(2αn), is far below it.
alpha, n = torch.tensor(2.0, dtype=torch.float64), 200_000
samples = Gamma(alpha, torch.tensor(1.0, dtype=torch.float64)).sample((n,))
exact = float(torch.log(alpha) - torch.digamma(alpha))
std_error = math.sqrt(float(torch.polygamma(1, alpha) - 1 / alpha) / n)
check_statistic(jensen.jensen_gap(samples), exact, std_error, "jensen_gap(200000 samples of Gamma(2, 1))")
print("jensen_gap: hidden tests passed.")
### END HIDDEN TESTS

# %% [markdown]
# ### Picture 1: the chord below the curve
#
# Take a two-point random variable: $X = x_1$ with probability $\lambda$ and $X = x_2$ otherwise.
# Then $\mathbb{E}[\log X] = \lambda \log x_1 + (1-\lambda)\log x_2$ lies on the **chord** joining
# $(x_1, \log x_1)$ and $(x_2, \log x_2)$, at the abscissa $\mathbb{E}[X]$, while
# $\log \mathbb{E}[X]$ lies on the **curve** above it. The vertical distance is the Jensen gap.
# Below, a sample of ten values (three copies of $x_1$, seven of $x_2$) has exactly this
# distribution, so your `jensen_gap` of it is the exact gap.

# %%
x1, x2, copies_of_x1, n_values = 1.0, 4.0, 3, 10
lam = copies_of_x1 / n_values
two_point_sample = torch.tensor([x1] * copies_of_x1 + [x2] * (n_values - copies_of_x1))
mean_x = lam * x1 + (1 - lam) * x2
chord_height = lam * math.log(x1) + (1 - lam) * math.log(x2)
gap = float(jensen.jensen_gap(two_point_sample))

grid = torch.linspace(0.5, 5.0, 400)
fig, ax = plt.subplots()
ax.plot(grid, torch.log(grid), lw=2.5, label=r"$\log x$ (concave)")
ax.plot([x1, x2], [math.log(x1), math.log(x2)], "o--", color="tab:red", label="chord between $x_1$ and $x_2$")
ax.plot(mean_x, math.log(mean_x), "o", color="tab:green", ms=9, label=r"$\log \mathbb{E}[X]$ (on the curve)")
ax.plot(mean_x, chord_height, "o", color="tab:purple", ms=9, label=r"$\mathbb{E}[\log X]$ (on the chord)")
ax.annotate("", xy=(mean_x, math.log(mean_x)), xytext=(mean_x, chord_height),
            arrowprops=dict(arrowstyle="<->", color="black", lw=1.5))
ax.text(mean_x + 0.08, (math.log(mean_x) + chord_height) / 2, f"Jensen gap = {gap:.3f}", va="center")
ax.axvline(mean_x, color="gray", lw=0.8, ls=":")
ax.legend(loc="lower right")
title = (r"Jensen's inequality: $\log \mathbb{E}[X] \geq \mathbb{E}[\log X]$"
         rf" ($\lambda$ = {lam:g}, $\mathbb{{E}}[X]$ = {mean_x:g})")
label(ax, title, "$x$", r"$\log x$")
plt.show()

# %% [markdown]
# ### Picture 2: the gap of three distributions, estimated from more and more samples
#
# Three test cases: $\mathrm{Uniform}(1, 4)$, $\mathrm{Exponential}(1)$ and
# $\mathrm{Gamma}(2, 1)$. Their exact gaps are known:
# - $\mathrm{Gamma}(\alpha, \text{rate})$: $\mathbb{E}[X] = \alpha/\text{rate}$ and
#   $\mathbb{E}[\log X] = \psi(\alpha) - \log \text{rate}$ ($\psi$ is the digamma function), so
#   $\Delta = \log\alpha - \psi(\alpha)$, whatever the rate. $\mathrm{Exponential}(1)$ is
#   $\mathrm{Gamma}(1, 1)$, with $\Delta = -\psi(1) = \gamma \approx 0.577$ (Euler's constant).
# - $\mathrm{Uniform}(a, b)$: $\mathbb{E}[X] = \frac{a+b}{2}$ and
#   $\mathbb{E}[\log X] = \frac{b\log b - a\log a}{b-a} - 1$.
#
# One call of `jensen_gap` on a $(n, 3)$ tensor (one column per distribution) gives the three
# estimates at once.

# %%
distributions = {
    "Uniform(1, 4)": Uniform(1.0, 4.0),
    "Exponential(1)": Exponential(1.0),
    "Gamma(2, 1)": Gamma(2.0, 1.0),
}
exact_gaps = {
    "Uniform(1, 4)": math.log(2.5) - ((4 * math.log(4) - 1 * math.log(1)) / 3 - 1),
    "Exponential(1)": float(-torch.digamma(torch.tensor(1.0))),
    "Gamma(2, 1)": float(math.log(2.0) - torch.digamma(torch.tensor(2.0))),
}
max_samples = runtime.scaled(100_000, 5_000)
columns = torch.stack([d.sample((max_samples,)) for d in distributions.values()], dim=1)  # (n, 3)

print(f"{'distribution':16s} {'estimated gap (n = 5000)':>25s} {'exact gap':>10s}")
for name, estimate in zip(distributions, jensen.jensen_gap(columns[:5000])):
    print(f"{name:16s} {float(estimate):25.4f} {exact_gaps[name]:10.4f}")

sizes = torch.unique(torch.logspace(0, math.log10(max_samples), 40).long())
estimates = torch.stack([jensen.jensen_gap(columns[:n]) for n in sizes.tolist()])  # (len(sizes), 3)
fig, ax = plt.subplots()
for index, (name, color) in enumerate(zip(distributions, ["tab:blue", "tab:orange", "tab:green"])):
    ax.plot(sizes, estimates[:, index], color=color, label=f"{name}: estimate")
    ax.axhline(exact_gaps[name], color=color, ls="--", lw=1, label=f"{name}: exact")
ax.set_xscale("log")
ax.legend(ncol=2, fontsize=8, loc="center right", bbox_to_anchor=(1.0, 0.62))
label(ax, "Estimated Jensen gap against the number of samples", "number of samples $n$",
      r"$\hat\Delta_n = \log \overline{x} - \overline{\log x}$")
plt.show()

# %% [markdown]
# **Think:** With a single sample ($n = 1$) the estimated gap is exactly 0, and for the first few
# samples the curves mostly sit *below* their exact values. Why is $\hat\Delta_n$ biased downward? (Hint: $\hat\Delta_n$
# is the Jensen gap of the empirical distribution, which is less spread out than $X$ itself when $n$
# is small.) And why is the Exponential's gap the largest of the three?

# %% [markdown]
# ## Part 2: from Jensen's inequality to the ELBO
#
# **Why it matters.** This is the derivation behind every VAE. Jensen's inequality turns the
# intractable $\log p_\theta(x)$ into a bound made of expectations under $q_\phi(z|x)$, which we
# can estimate by sampling and differentiate.
#
# **The mathematics.** Multiply and divide by $q_\phi(z|x)$ inside the integral, then apply Jensen to
# the random variable $W = p_\theta(x, z) / q_\phi(z|x)$ with $z \sim q_\phi(z|x)$:
# $$
# \log p_\theta(x)
# = \log \int q_\phi(z|x)\,\frac{p_\theta(x, z)}{q_\phi(z|x)}\,dz
# = \log \mathbb{E}_{q_\phi(z|x)}\!\left[\frac{p_\theta(x, z)}{q_\phi(z|x)}\right]
# \;\ge\; \mathbb{E}_{q_\phi(z|x)}\!\left[\log \frac{p_\theta(x, z)}{q_\phi(z|x)}\right]
# = \mathrm{ELBO}(x).
# $$
# With $p_\theta(x, z) = p_\theta(x|z)\,p(z)$ the ELBO splits into the two familiar terms,
# $\mathrm{ELBO}(x) = \mathbb{E}_{q_\phi(z|x)}[\log p_\theta(x|z)] - \mathrm{KL}(q_\phi(z|x)\,\|\,p(z))$.
#
# The **ELBO is the bound**. The **Jensen gap** $\log p_\theta(x) - \mathrm{ELBO}(x)$ is how loose
# the bound is (a common slip is to call the gap "the lower bound": it is not). The gap has a
# name. Since $p_\theta(x, z) = p_\theta(z|x)\,p_\theta(x)$,
# $$
# \log p_\theta(x) - \mathrm{ELBO}(x)
# = \mathbb{E}_{q_\phi(z|x)}\!\left[\log p_\theta(x) - \log \frac{p_\theta(z|x)\,p_\theta(x)}{q_\phi(z|x)}\right]
# = \mathbb{E}_{q_\phi(z|x)}\!\left[\log \frac{q_\phi(z|x)}{p_\theta(z|x)}\right]
# = \mathrm{KL}\big(q_\phi(z|x)\,\|\,p_\theta(z|x)\big) \;\ge\; 0 .
# $$
# The bound is tight exactly when $q_\phi(z|x)$ is the true posterior; then $W = p_\theta(x)$ for
# every $z$: a constant, the equality case of Jensen.
#
# **Seeing it.** The linear-Gaussian model $p(z) = \mathcal{N}(0, I)$,
# $p_\theta(x|z) = \mathcal{N}(Wz + b, \sigma^2 I)$ has an exact $\log p_\theta(x)$ and an exact
# Gaussian posterior (`labkit.toy`). Below we pick one $x$, try several Gaussians
# $q(z|x) = \mathcal{N}(\mu, \operatorname{diag}\sigma_q^2)$, estimate each ELBO by Monte Carlo, and
# compare $\log p_\theta(x) - \mathrm{ELBO}$ with the exact $\mathrm{KL}(q\,\|\,p_\theta(z|x))$.

# %%
model = make_linear_gaussian(latent_dim=2, data_dim=3, noise_std=0.5, seed=0)
x, _ = model.sample(1, generator=torch.Generator().manual_seed(1))
x = x[0]  # one data point, shape (data_dim,)
log_px = float(model.log_marginal(x))
posterior = model.posterior(x)
post_mu, post_sigma = posterior.mean, posterior.covariance_matrix.diagonal().sqrt()  # diagonal: orthogonal W


def log_terms(q_mu, q_sigma, sample_shape, generator):
    """For the data point x above, draw z ~ q(z|x) = N(q_mu, diag q_sigma²).

    Returns log p_θ(x|z), log p(z) and log q(z|x).

    Args:
        q_mu, q_sigma: mean and standard deviation of q, shape (latent_dim,).
        sample_shape: the shape of the returned tensors, e.g. (K, batch).
        generator: the torch.Generator that draws z.

    Returns:
        Three tensors of shape sample_shape.
    """
    z = q_mu + q_sigma * torch.randn(*sample_shape, model.latent_dim, generator=generator)
    log_px_given_z = Independent(Normal(model.decoder_mean(z), model.noise_std), 1).log_prob(x)
    log_pz = Independent(Normal(torch.zeros(model.latent_dim), 1.0), 1).log_prob(z)
    log_qz = Independent(Normal(q_mu, q_sigma), 1).log_prob(z)
    return log_px_given_z, log_pz, log_qz


# Shifts and widths in units of the posterior's standard deviation σ (per coordinate).
candidate_qs = {
    "exact posterior": (post_mu, post_sigma),
    "mean shifted by σ": (post_mu + post_sigma, post_sigma),
    "mean shifted by 2σ": (post_mu + 2 * post_sigma, post_sigma),
    "too narrow (σ/2)": (post_mu, post_sigma / 2),
    "too wide (2σ)": (post_mu, 2 * post_sigma),
    "shifted by σ, too wide (1.5σ)": (post_mu + post_sigma, 1.5 * post_sigma),
    "shifted by σ, too narrow (0.7σ)": (post_mu + post_sigma, 0.7 * post_sigma),
}
n_mc = runtime.scaled(200_000, 20_000)
generator = torch.Generator().manual_seed(2)
rows = []
print(f"exact log p(x) = {log_px:.4f}\n")
print(f"{'q(z|x)':32s} {'ELBO (MC)':>10s} {'log p(x) − ELBO':>16s} {'KL(q || p(z|x))':>16s}")
for name, (q_mu, q_sigma) in candidate_qs.items():
    log_px_given_z, log_pz, log_qz = log_terms(q_mu, q_sigma, (n_mc,), generator)
    log_weights = log_px_given_z + log_pz - log_qz  # log p(x, z) − log q(z|x), shape (n_mc,)
    elbo, elbo_se = float(log_weights.mean()), float(log_weights.std() / math.sqrt(n_mc))
    q = MultivariateNormal(q_mu, scale_tril=torch.diag(q_sigma))
    kl = float(kl_divergence(q, posterior))
    rows.append((name, log_px - elbo, elbo_se, kl))
    print(f"{name:32s} {elbo:10.4f} {log_px - elbo:16.4f} {kl:16.4f}")

fig, ax = plt.subplots(figsize=(6, 5))
largest = max(max(r[1], r[3]) for r in rows) * 1.1
ax.plot([0, largest], [0, largest], color="gray", ls="--", lw=1, label="gap = KL")
for name, gap, gap_se, kl in rows:
    ax.errorbar(kl, gap, yerr=5 * gap_se, fmt="o", ms=7, capsize=3, label=name)
ax.legend(fontsize=8)
label(ax, "The ELBO's gap is the KL from q to the exact posterior",
      r"exact $\mathrm{KL}(q(z|x)\,\|\,p_\theta(z|x))$", r"$\log p_\theta(x) - \mathrm{ELBO}$ (Monte Carlo, ±5 SE)")
plt.show()

# %% [markdown]
# Every point lies on the diagonal: the looseness of the ELBO is the KL divergence from $q$ to the
# exact posterior. For the exact posterior the gap is 0 and, notice, its Monte Carlo estimate has no
# error bar at all: every log-weight equals $\log p_\theta(x)$.
#
# **Think:** $\log p_\theta(x)$ does not depend on $\phi$. So what does maximizing the ELBO over $\phi$
# do to the gap? And the too-narrow and too-wide $q$ have the right mean: which of the two costs
# more here, and does the answer change if you swap the arguments of the KL?

# %% [markdown]
# ### A written answer
#
# A teammate sums up Part 2 in one sentence: *"The Jensen gap $\log \mathbb{E}[W] - \mathbb{E}[\log W]$
# is our lower bound on $\log p_\theta(x)$, so training a VAE makes the gap as large as possible."*
# What is wrong with this sentence? Say what the bound is, what the gap is (name it), and what
# maximizing the ELBO over the encoder parameters $\phi$ does to the gap, and why. (Three to five
# sentences.)

# %% [markdown] nbgrader={"grade_id": "jensen-insight", "solution": true, "points": 2}
# ### BEGIN SOLUTION
# **Model answer.** The bound is the ELBO, $\mathbb{E}_{q_\phi(z|x)}[\log W]$ with
# $W = p_\theta(x, z)/q_\phi(z|x)$; the gap $\log p_\theta(x) - \mathrm{ELBO}$ is not a bound but the
# bound's looseness, and it equals $\mathrm{KL}(q_\phi(z|x)\,\|\,p_\theta(z|x)) \ge 0$. Training
# *maximizes the ELBO*, not the gap. Since $\log p_\theta(x)$ does not depend on $\phi$,
# maximizing the ELBO over $\phi$ is the same as *minimizing* the gap, i.e. pulling $q_\phi(z|x)$
# toward the exact posterior; the gap is 0 only when $q_\phi(z|x) = p_\theta(z|x)$ (then $W$ is
# constant, the equality case of Jensen), as the exact-posterior point of the plot shows.
# (Over $\theta$, a higher ELBO comes from a higher $\log p_\theta(x)$ or a smaller gap.)
#
# **Rubric (2 points).**
# - 1 point: says the ELBO ($\mathbb{E}_q[\log W]$) is the bound and the gap is its looseness,
#   identified as $\mathrm{KL}(q_\phi(z|x)\,\|\,p_\theta(z|x))$ (or "the KL to the true posterior").
# - 1 point: says maximizing the ELBO over $\phi$ minimizes (does not maximize) the gap, *because*
#   $\log p_\theta(x)$ does not depend on $\phi$; the gap vanishes when $q$ is the exact posterior.
#   No point for "minimizes the gap" without the reason.
# ### END SOLUTION

# %% [markdown]
# ## Part 3: a tighter bound from more samples
#
# **Why it matters.** The ELBO is loose by $\mathrm{KL}(q_\phi(z|x)\,\|\,p_\theta(z|x))$, and with an
# encoder of limited flexibility that KL never reaches 0. Jensen's gap is small when the variable
# inside the log is concentrated, and an average of $K$ independent weights is more concentrated
# than one weight. This gives the importance-weighted bound (Burda, Grosse and Salakhutdinov, 2016),
# used to train IWAEs and to evaluate the log-likelihood of VAEs.
#
# **The mathematics.** Draw $z_1, \dots, z_K \sim q_\phi(z|x)$ independently and let
# $w_k = p_\theta(x, z_k)/q_\phi(z_k|x)$, so $\mathbb{E}[w_k] = p_\theta(x)$. Then
# $\mathbb{E}\big[\tfrac{1}{K}\sum_k w_k\big] = p_\theta(x)$ too, and Jensen gives
# $$
# \log p_\theta(x) \;\ge\; \mathcal{L}_K(x) \;=\; \mathbb{E}_{z_{1:K}}\!\left[\log \frac{1}{K}\sum_{k=1}^{K} w_k\right].
# $$
# With $K = 1$ it is the ELBO, and $\mathcal{L}_K$ tends to $\log p_\theta(x)$ as $K \to \infty$ (for
# bounded weights). That it never decreases with $K$ is yours to prove, below.
#
# **In log space.** The weights are tiny: $\log w_k = \log p_\theta(x|z_k) + \log p(z_k) - \log q_\phi(z_k|x)$
# sums over every pixel of an image, so it is often hundreds or thousands of nats below 0. Already
# $e^{-200}$ is 0 in float32 (the smallest float32 is about $e^{-103}$), and $e^{-1000}$ is 0 in float64
# too (the smallest float64 is about $e^{-745}$), so $\log(\mathrm{mean}(\exp(\cdot)))$ returns $-\infty$. Instead,
# with $m = \max_k \log w_k$,
# $$
# \log \frac{1}{K}\sum_{k=1}^{K} w_k \;=\; m + \log \sum_{k=1}^{K} e^{\log w_k - m} \;-\; \log K
# \;=\; \operatorname{logsumexp}_k(\log w_k) - \log K ,
# $$
# where every exponent is $\le 0$ and the largest term is $e^0 = 1$, so nothing underflows to a sum
# of 0. `torch.logsumexp` does exactly this.

# %% [markdown]
# **Derive: $\mathcal{L}_K \le \mathcal{L}_{K+1}$.** Write the average of $K + 1$ weights as an average,
# over the $K + 1$ ways of leaving one weight out, of averages of $K$ weights:
# $\frac{1}{K+1}\sum_{k=1}^{K+1} w_k = \frac{1}{K+1}\sum_{j=1}^{K+1}\Big(\frac{1}{K}\sum_{k \ne j} w_k\Big)$.
# Check that identity, then apply Jensen's inequality to the outer average and take expectations.
# Write the three steps in the cell below, and say where you used that the $z_k$ are drawn
# independently from the same $q_\phi(z|x)$.

# %% [markdown] nbgrader={"grade_id": "iwae-monotonicity", "solution": true, "points": 3}
# ### BEGIN SOLUTION
# **Model answer.**
# 1. Each $w_k$ is left out of exactly one of the $K + 1$ inner averages and appears in the other $K$,
#    each time with weight $1/K$, so the right-hand side is $\frac{1}{K+1}\sum_k \frac{K}{K} w_k
#    = \frac{1}{K+1}\sum_k w_k$.
# 2. $\log$ is concave, so the log of the outer average is at least the average of the logs:
#    $\log \frac{1}{K+1}\sum_k w_k \ge \frac{1}{K+1}\sum_j \log\big(\frac{1}{K}\sum_{k\ne j} w_k\big)$.
# 3. Take expectations over $z_{1:K+1}$. The $z_k$ are i.i.d. from $q_\phi(z|x)$, so each inner
#    average of $K$ weights has the law of $\frac1K\sum_{k=1}^K w_k$ and each term on the right has
#    expectation $\mathcal{L}_K$: hence $\mathcal{L}_{K+1} \ge \mathcal{L}_K$. (Without exchangeability the
#    terms would have different expectations and the argument would fail.)
#
# **Rubric (3 points), one per step.**
# - Step 1 (1 point): the leave-one-out identity checked (each weight counted $K$ times with weight
#   $1/K$, then divided by $K + 1$).
# - Step 2 (1 point): Jensen applied to the **outer** average, in the right direction ($\log$ of a
#   mean $\ge$ mean of $\log$s). Jensen on the whole sum, giving only $\mathcal{L}_{K+1} \le \log p$, earns 0.
# - Step 3 (1 point): the expectation of each leave-one-out term is $\mathcal{L}_K$ **because** the
#   samples are i.i.d. (exchangeable); a proof that never uses this earns 0 for this step.
# ### END SOLUTION

# %% [markdown]
# ### Task 2: the importance-weighted bound
#
# Write `importance_weighted_elbo`. It returns the estimate $\log \frac{1}{K}\sum_k w_k$ for one draw
# of $z_{1:K}$ (an unbiased estimate of $\mathcal{L}_K$), for each element of the batch.

# %% nbgrader={"grade_id": "importance-weighted-elbo", "solution": true}
@add_to_class(JensensInequalityDemo)
def importance_weighted_elbo(
    self, log_px_given_z: torch.Tensor, log_pz: torch.Tensor, log_qz: torch.Tensor
) -> torch.Tensor:
    """The importance-weighted bound log (1/K) Σ_k p_θ(x, z_k) / q_φ(z_k|x), computed in log space.

    Args:
        log_px_given_z: log p_θ(x|z_k), shape (K, batch).
        log_pz: log p(z_k), shape (K, batch).
        log_qz: log q_φ(z_k|x), shape (K, batch).
        (Row k holds the K samples z_k ~ q_φ(z|x); column b is one data point x.)

    Returns:
        Shape (batch,): logsumexp over dimension 0 of the log-weights, minus log K.
        With K = 1 it is the single-sample ELBO.

    Contract:
        - shape (batch,), the dtype of the inputs;
        - logsumexp over dimension 0 of log w = log p_θ(x|z) + log p(z) − log q_φ(z|x), minus log K, to
          within the rounding of the dtype (any correct idiom passes, log K computed in float32 too);
        - finite for log-weights near −1000 and +1000, in float32 and float64;
        - K = 1 gives log w itself; with q the exact posterior it gives log p(x) for any K;
        - differentiable, with ∂/∂log p_θ(x|z_k) = ∂/∂log p(z_k) = −∂/∂log q_φ(z_k|x) = w_k / Σ_j w_j;
        - the inputs are left unchanged.
    """
    ### BEGIN SOLUTION
    log_weights = log_px_given_z + log_pz - log_qz
    num_samples = log_weights.shape[0]
    return torch.logsumexp(log_weights, dim=0) - math.log(num_samples)
    ### END SOLUTION


# %% nbgrader={"grade_id": "importance-weighted-elbo-visible", "points": 2}
# Visible test: properties any log of a mean of weights has; the formula is yours to write.
torch.manual_seed(0)
K, batch = 4, 3
log_px_given_z, log_pz, log_qz = -torch.rand(3, K, batch) * 3  # moderate values
name = "importance_weighted_elbo(K = 4, batch = 3)"
bound = check_tensor(jensen.importance_weighted_elbo(log_px_given_z, log_pz, log_qz),
                     name + ", which should reduce over dimension 0 (the K samples)",
                     shape=(batch,), dtype=torch.float32)
log_w = log_px_given_z + log_pz - log_qz
# K = 1 is the single-sample ELBO, log w itself.
check_close(jensen.importance_weighted_elbo(log_px_given_z[:1], log_pz[:1], log_qz[:1]), log_w[0],
            "importance_weighted_elbo(K = 1)")
# Jensen: between the mean of the log-weights and their maximum, strictly so for unequal weights.
assert (bound > log_w.mean(dim=0) + 1e-4).all() and (bound < log_w.max(dim=0).values - 1e-4).all(), (
    f"{name} is not between the mean and the maximum of the log-weights."
)
# A mean, not a sum: the same K samples listed twice (2K samples) give the same value.
twice = jensen.importance_weighted_elbo(*(torch.cat([t, t]) for t in (log_px_given_z, log_pz, log_qz)))
check_close(twice, bound, name + " with every sample listed twice", rtol=1e-5, atol=1e-5)
# Equal log-weights ℓ give ℓ, even at ℓ = −1000 where exp underflows to 0.
flat = torch.full((K, batch), -1000.0)
check_close(check_tensor(jensen.importance_weighted_elbo(flat, torch.zeros_like(flat), torch.zeros_like(flat)),
                         name + " at log-weights of −1000", shape=(batch,)),
            torch.full((batch,), -1000.0), name + " at log-weights of −1000", rtol=1e-6)
print("importance_weighted_elbo: visible tests passed.")

# %% nbgrader={"grade_id": "importance-weighted-elbo-hidden", "points": 3}
# Hidden tests for importance_weighted_elbo run when your notebook is graded.
### BEGIN HIDDEN TESTS
torch.manual_seed(11)


def log_mean_weight(log_px_given_z, log_pz, log_qz):
    """log (1/K) Σ_k w_k for each column, from first principles: shift by the max, in Python floats."""
    log_w = (log_px_given_z.double() + log_pz.double() - log_qz.double()).T.tolist()  # batch lists of K
    values = [max(col) + math.log(sum(math.exp(v - max(col)) for v in col) / len(col)) for col in log_w]
    return torch.tensor(values, dtype=torch.float64)


def log_terms_for_test(K, batch, offset, dtype):
    """Random log-terms whose log-weights are near `offset`."""
    log_px_given_z = offset + 3 * torch.randn(K, batch, dtype=dtype)
    log_pz = -1 - torch.rand(K, batch, dtype=dtype)
    log_qz = 2 * torch.randn(K, batch, dtype=dtype)
    return log_px_given_z, log_pz, log_qz


def rounding_tolerance(terms, dtype) -> float:
    """The absolute error a correct idiom can make, from the rounding of its dtype.

    Every correct idiom forms log w = a + b − c (two roundings of numbers up to |a| + |b| + |c|), shifts
    by the largest log w, sums K exponentials of at most 1 and takes a log (a few roundings, relative to
    log K), and subtracts log K. Students often write log K as torch.log(torch.tensor(K)), a float32
    value even for float64 inputs, rounded by up to 2⁻²⁴·log K (3e-8 for K = 5: more than a 1e-9
    tolerance). So allow 16 roundings of the largest magnitude involved, plus 2 float32 roundings of log K.
    """
    K = terms[0].shape[0]
    magnitude = float(sum(t.double().abs().max() for t in terms)) + math.log(K) + 1.0
    return 16 * torch.finfo(dtype).eps * magnitude + 2 * 2**-24 * math.log(K)


# Contract: shape and dtype; the value, and the common mistakes; inputs unchanged. K != batch, float32.
K, batch = 6, 4
terms = log_terms_for_test(K, batch, -2.0, torch.float32)
copies = [t.clone() for t in terms]
name = "importance_weighted_elbo(K = 6, batch = 4)"
bound = check_tensor(jensen.importance_weighted_elbo(*terms),
                     name + ", which should reduce over dimension 0 (the K samples)",
                     shape=(batch,), dtype=torch.float32)
for before, after, arg in zip(copies, terms, ["log_px_given_z", "log_pz", "log_qz"]):
    check_unchanged(before, after, arg)
expected = log_mean_weight(*terms)
log_w = (terms[0] + terms[1] - terms[2]).double()
check_close(bound, expected, name, rtol=0.0, atol=rounding_tolerance(terms, torch.float32), mistakes={
    "the mean of the log-weights (the ELBO, Jensen's lower bound on this) instead of the log of the mean weight":
        log_w.mean(0),
    "the − log K is missing (log of the sum of the weights, not of their mean)": expected + math.log(K),
    "log q(z|x) is added instead of subtracted: w = p(x, z) / q(z|x)": log_mean_weight(terms[0], terms[1], -terms[2]),
    "log K uses the batch size instead of K": expected + math.log(K) - math.log(batch),
})

# K == batch, float64: reducing over the batch dimension keeps the shape, not the values.
terms = log_terms_for_test(5, 5, 0.0, torch.float64)
name = "importance_weighted_elbo(K = 5, batch = 5)"
bound = check_tensor(jensen.importance_weighted_elbo(*terms), name, shape=(5,), dtype=torch.float64)
check_close(bound, log_mean_weight(*terms), name, rtol=0.0, atol=rounding_tolerance(terms, torch.float64), mistakes={
    "logsumexp over the batch (dimension 1) instead of over the K samples (dimension 0)":
        log_mean_weight(*(t.T for t in terms)),
})

# Contract: the shift is per data point: one batch whose columns sit at −1000, 0 and +1000 (a single
# max over the whole tensor leaves exp(−2000) = 0 in the first column).
torch.manual_seed(12)
mixed = torch.randn(6, 3, dtype=torch.float64) + torch.tensor([-1000.0, 0.0, 1000.0], dtype=torch.float64)
zeros_mixed = torch.zeros_like(mixed)
name = "importance_weighted_elbo on columns of log-weights near −1000, 0 and +1000"
bound = check_tensor(jensen.importance_weighted_elbo(mixed, zeros_mixed, zeros_mixed), name, shape=(3,),
                     dtype=torch.float64)
shift = mixed.max(dim=0).values
# Tolerance: log K computed in float32 (an accepted idiom) is off by about 1e-7.
check_close(bound, shift + torch.log(torch.exp(mixed - shift).mean(dim=0)), name, rtol=1e-9, atol=1e-6)

# Contract: finite for log-weights near −1000 (and +1000), where exp underflows (overflows) in float32 and float64.
for offset in (-1000.0, 1000.0):
    for dtype in (torch.float32, torch.float64):
        terms = log_terms_for_test(8, 3, offset, dtype)
        name = f"importance_weighted_elbo with log-weights near {offset:g} in {dtype}"
        bound = jensen.importance_weighted_elbo(*terms)
        if type(bound) is torch.Tensor and not torch.isfinite(bound).all():
            raise AssertionError(
                f"{name} is not finite ({bound.tolist()}): exp({offset:g}) is {'0' if offset < 0 else 'inf'} in "
                f"{dtype}, so log(mean(exp(log_w))) breaks. Use torch.logsumexp(log_w, dim=0) - log K, "
                "which shifts by the largest log-weight before exponentiating."
            )
        bound = check_tensor(bound, name, shape=(3,), dtype=dtype)
        check_close(bound, log_mean_weight(*terms), name, rtol=0.0, atol=rounding_tolerance(terms, dtype))

# Contract: K = 1 is the single-sample ELBO.
terms = log_terms_for_test(1, 7, -5.0, torch.float64)
check_close(jensen.importance_weighted_elbo(*terms), (terms[0] + terms[1] - terms[2])[0],
            "importance_weighted_elbo(K = 1), which should equal log p(x|z) + log p(z) − log q(z|x)",
            rtol=0.0, atol=rounding_tolerance(terms, torch.float64))

# Contract: with q = the exact posterior, the bound is log p(x) for any K.
# Every weight is p(x) (torch.distributions); float32 log-densities of a few nats, so 1e-4 is ample.
lg = make_linear_gaussian(latent_dim=2, data_dim=4, noise_std=0.7, seed=5)
xs, _ = lg.sample(3)
post = lg.posterior(xs)
z = post.sample((10,))  # (K = 10, batch = 3, latent_dim)
bound = jensen.importance_weighted_elbo(
    Independent(Normal(lg.decoder_mean(z), lg.noise_std), 1).log_prob(xs),
    Independent(Normal(torch.zeros(2), 1.0), 1).log_prob(z),
    post.log_prob(z),
)
bound = check_tensor(bound, "importance_weighted_elbo with q = exact posterior", shape=(3,))
check_close(bound, lg.log_marginal(xs), "importance_weighted_elbo with q = exact posterior (should be log p(x))",
            rtol=1e-4, atol=1e-4)

# Contract: gradients reach all three inputs (the bound is trained with them), with the right values:
# ∂L_b/∂log w_kb is the normalised weight softmax_k(log w)_kb, and log q enters log w with a minus sign.
terms = [t.requires_grad_() for t in log_terms_for_test(4, 2, -3.0, torch.float64)]
bound = jensen.importance_weighted_elbo(*terms)
check_tensor(bound, "importance_weighted_elbo(K = 4, batch = 2)", shape=(2,), dtype=torch.float64)
check_gradient_flows(jensen.importance_weighted_elbo(*terms), dict(zip(["log_px_given_z", "log_pz", "log_qz"], terms)),
                     "importance_weighted_elbo")
weights_v = torch.tensor([0.7, -1.3], dtype=torch.float64)
gradients = torch.autograd.grad((bound * weights_v).sum(), terms)
normalised = torch.softmax((terms[0] + terms[1] - terms[2]).detach(), dim=0) * weights_v
for gradient, sign, arg in zip(gradients, (1.0, 1.0, -1.0), ["log_px_given_z", "log_pz", "log_qz"]):
    check_close(gradient, sign * normalised, f"the gradient of importance_weighted_elbo with respect to {arg}",
                rtol=1e-9, atol=1e-12, mistakes={
                    "every sample gets the same gradient 1/K: the mean of the log-weights, not the log of the mean weight":
                        sign * weights_v.expand(4, 2) / 4,
                })
print("importance_weighted_elbo: hidden tests passed.")
### END HIDDEN TESTS

# %% [markdown]
# ### Picture 3: the bound tightens as $K$ grows
#
# Back to the linear-Gaussian model and its data point $x$, with two deliberately imperfect
# Gaussians $q(z|x)$ from Part 2: both have their mean shifted by one posterior standard deviation
# $\sigma$, one is too wide ($1.5\sigma$), the other too narrow ($0.7\sigma$). For each $K$ we average
# many independent estimates $\log\frac{1}{K}\sum_k w_k$ (one per column of the batch) to estimate
# $\mathcal{L}_K$, and repeat the whole sweep a few times with independent random numbers; the error
# bars are the standard error over these repeats.

# %%
Ks = runtime.scaled([1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000], [1, 2, 5, 10, 50, 100])
n_estimates = runtime.scaled(200, 50)  # independent estimates per K and repeat (the batch dimension)
repeats = range(runtime.scaled(5, 2))
imperfect_qs = ["shifted by σ, too wide (1.5σ)", "shifted by σ, too narrow (0.7σ)"]

bounds = torch.zeros(len(imperfect_qs), len(repeats), len(Ks))
with tqdm(total=bounds.numel(), desc="K sweep") as progress:
    for i, q_name in enumerate(imperfect_qs):
        q_mu, q_sigma = candidate_qs[q_name]
        for j, repeat in enumerate(repeats):
            generator = torch.Generator().manual_seed(100 + repeat)
            for k, K in enumerate(Ks):
                log_px_given_z, log_pz, log_qz = log_terms(q_mu, q_sigma, (K, n_estimates), generator)
                bounds[i, j, k] = jensen.importance_weighted_elbo(log_px_given_z, log_pz, log_qz).mean()
                progress.update()

fig, ax = plt.subplots()
ax.axhline(log_px, color="black", ls="--", label=r"exact $\log p_\theta(x)$")
for q_name, q_bounds, color in zip(imperfect_qs, bounds, ["tab:blue", "tab:orange"]):
    q_mu, q_sigma = candidate_qs[q_name]
    exact_elbo = log_px - float(kl_divergence(MultivariateNormal(q_mu, scale_tril=torch.diag(q_sigma)), posterior))
    std_error = q_bounds.std(dim=0) / math.sqrt(len(repeats))
    ax.errorbar(Ks, q_bounds.mean(dim=0), yerr=std_error, fmt="o-", color=color, capsize=3,
                label=rf"$\mathcal{{L}}_K$, q {q_name}")
    ax.axhline(exact_elbo, color=color, ls=":", lw=1, label=f"exact ELBO, q {q_name}")
    gaps = ", ".join(f"K={K}: {log_px - float(v):.3f}" for K, v in zip(Ks, q_bounds.mean(dim=0)))
    print(f"q {q_name}: gap log p(x) − L_K ≈ {gaps}")
ax.set_xscale("log")
ax.legend(loc="center right", fontsize=8)


def relative_weight_variance(shift: float, width: float, latent_dim: int) -> float:
    """Var_q[w] / p(x)² for q = N(μ_post + shift·σ, (width·σ)²) per coordinate, against the exact posterior.

    In units of the posterior's σ each coordinate compares N(0, 1) with q = N(shift, width²), and
    E_q[(p(z|x)/q)²] = ∫ N(z; 0, 1)² / q(z) dz = width / √(2a) · exp(shift²/(2 width²) + shift²/(4 a width⁴)),
    a = 1 − 1/(2 width²). The integral diverges when width² ≤ 1/2: the weights then have infinite variance.
    """
    a = 1 - 1 / (2 * width**2)
    if a <= 0:
        return math.inf
    per_coordinate = width / math.sqrt(2 * a) * math.exp(shift**2 / (2 * width**2) + shift**2 / (4 * a * width**4))
    return per_coordinate**latent_dim - 1


for q_name, shift, width in (("shifted by σ, too wide (1.5σ)", 1.0, 1.5), ("shifted by σ, too narrow (0.7σ)", 1.0, 0.7)):
    relative_variance = relative_weight_variance(shift, width, model.latent_dim)
    if math.isinf(relative_variance):
        print(f"q {q_name}: Var[w] / p(x)² is infinite (σ_q² < σ²/2), so no Var[w]/(2K) law applies")
    else:
        predicted = ", ".join(f"K={K}: {relative_variance / (2 * K):.3f}" for K in Ks if K >= 10)
        print(f"q {q_name}: Var[w] / p(x)² = {relative_variance:.3f}; predicted gap Var[w]/(2K p(x)²) ≈ {predicted}")
label(ax, "The importance-weighted bound tightens toward log p(x) as K grows",
      "number of samples $K$ (log scale)", "bound (nats)")
plt.show()

# %% [markdown]
# At $K = 1$ each curve sits on its exact ELBO, to within Monte Carlo noise; as $K$ grows it climbs toward $\log p_\theta(x)$.
# How fast depends on the tails of the weights. When $w$ has a finite variance, a second-order
# expansion of the log (as in notebook 1.1) gives a gap of about $\operatorname{Var}[w] / (2K\,p_\theta(x)^2)$
# for large $K$: for the too-wide $q$ the printed prediction is close to the measured gaps from
# $K \approx 10$ on (beyond a few hundred samples both are within Monte Carlo noise of 0). The too-narrow $q$ has no such law: with $\sigma_q^2 = 0.49\,\sigma^2 < \sigma^2/2$,
# $\mathbb{E}_q[w^2] \propto \int p_\theta(z|x)^2 / q(z|x)\,dz$ diverges in the tails, so $\operatorname{Var}[w]$ is
# infinite. The gap still goes to 0, because $\mathbb{E}[w] = p_\theta(x)$ is finite, but more slowly
# than $1/K$, decided by rare huge weights from the tails of $q$. So the too-narrow $q$ starts with the
# smaller KL (a tighter ELBO) and is overtaken by the too-wide one.
#
# **Try it.** Choose $K$, and the shift and width of $q(z|x)$ in units of the posterior's $\sigma$ (this
# needs a running kernel). The histogram shows 400 independent estimates $\log\frac{1}{K}\sum_k w_k$,
# computed with your `importance_weighted_elbo`; their mean estimates $\mathcal{L}_K$. Look for the
# histogram narrowing and its mean closing on $\log p_\theta(x)$ as $K$ grows, fast for a wide $q$ and
# slowly, with a long right tail, for a narrow one; and for single estimates that land above
# $\log p_\theta(x)$.

# %% tags=["demo"]
def redraw_iwae_bound(K: float, shift: float, width: float) -> None:
    K = int(round(K))
    q_mu, q_sigma = post_mu + shift * post_sigma, width * post_sigma
    generator = torch.Generator().manual_seed(0)  # the same draws at every redraw
    estimates = jensen.importance_weighted_elbo(*log_terms(q_mu, q_sigma, (K, 400), generator))
    q = MultivariateNormal(q_mu, scale_tril=torch.diag(q_sigma))
    exact_elbo = log_px - float(kl_divergence(q, posterior))
    low = log_px - 4.0  # a fixed axis, so that moving a slider moves the histogram, not the axis
    fig, ax = plt.subplots(figsize=(8, 4.2))
    ax.hist(estimates.clamp(low, log_px + 1.0), bins=60, range=(low, log_px + 1.0), color="0.7",
            label="400 estimates (any beyond the axis in its end bins)")
    ax.axvline(log_px, color="black", ls="--", label=r"exact $\log p_\theta(x)$")
    ax.axvline(float(estimates.mean()), color="C0", label=r"their mean ($\mathcal{L}_K$)")
    ax.axvline(exact_elbo, color="C1", ls=":", label="exact ELBO of q, the $K = 1$ bound")
    ax.set_xlim(low, log_px + 1.0)
    ax.legend(loc="upper left", fontsize=8)
    label(ax, f"K = {K}: log p(x) − mean estimate = {log_px - float(estimates.mean()):.3f} nats",
          r"$\log\frac{1}{K}\sum_k w_k$ (nats)", "number of estimates")
    plt.show()


controls = widgets.interactive(
    redraw_iwae_bound,
    K=widgets.FloatLogSlider(value=1, base=10, min=0, max=3, step=0.1, continuous_update=False, description="K"),
    shift=widgets.FloatSlider(value=1.0, min=0.0, max=3.0, step=0.25, continuous_update=False, description="shift (σ)"),
    width=widgets.FloatSlider(value=1.5, min=0.5, max=3.0, step=0.1, continuous_update=False, description="width (σ)"),
)
display(controls)

# %% [markdown]
# **Think:** at shift 1, compare width 0.7 with width 1.5 at $K = 1$ and at $K = 1000$. Which $q$ gives the
# better bound at each $K$, and which histogram keeps a long right tail? Then set shift 0 and width 1:
# why do all 400 estimates collapse onto one value, whatever $K$?
#
# **Derive, predict, then check: log-normal weights.** Suppose $\log w_k \sim \mathcal{N}(\mu, s^2)$,
# independently. (Here $s$ is the standard deviation of $\log w$, not notebook 1.1's $s$, the relative
# standard deviation $\mathrm{sd}[w]/\mathbb{E}[w]$ of $w$ itself; your result links the two.)
# Compute $\mathbb{E}[w]$ and $\operatorname{Var}[w]$ (the moment generating function of a
# Gaussian), and put them in the second-order law above to get the gap $\log\mathbb{E}[w] - \mathcal{L}_K$
# for large $K$ as a SymPy expression in `s` and `K` (it does not depend on $\mu$). Before you run the
# check cell after the tests, predict: at $s = 0.5$, is the gap at $K = 50$ bigger or smaller than
# $0.01$ nats?

# %%
s_sym, K_sym = sympy.symbols("s K", positive=True)
GAP_SYMBOLS = (s_sym, K_sym)

# %% nbgrader={"grade_id": "derive-iwae-gap", "solution": true}
def derived_lognormal_gap(s, K):
    """The large-K gap log E[w] − L_K for log w ~ N(μ, s²), as a SymPy expression in s and K.

    Contract:
        - a SymPy expression in s and K only, real and finite for s, K > 0;
        - equal, for every s, K > 0, to Var[w] / (2K E[w]²) for these weights (any equivalent form).
    """
    ### BEGIN SOLUTION
    return (sympy.exp(s**2) - 1) / (2 * K)
    ### END SOLUTION


# %% nbgrader={"grade_id": "derive-iwae-gap-visible", "points": 1}
# Visible test: the shape of the law (positive, 1/K, no gap without spread), not its constant.
name = "derived_lognormal_gap(s, K)"
gap_expression = check_expression(derived_lognormal_gap(*GAP_SYMBOLS), name, symbols=GAP_SYMBOLS,
                                  points=[{s_sym: 0.5, K_sym: 10}])
assert float(gap_expression.subs({s_sym: 0.5, K_sym: 10})) > 0, f"{name} should be positive."
assert sympy.simplify(gap_expression.subs(K_sym, 2 * K_sym) * 2 - gap_expression) == 0, (
    f"{name}: doubling K should halve the gap (the law is proportional to 1/K)."
)
assert sympy.limit(gap_expression, s_sym, 0) == 0, f"{name} should vanish when the weights do not vary (s → 0)."
print("derived_lognormal_gap: visible tests passed.")

# %% nbgrader={"grade_id": "derive-iwae-gap-hidden", "points": 2}
# Hidden tests for derived_lognormal_gap run when your notebook is graded.
### BEGIN HIDDEN TESTS
# Contract: symbolic equivalence with Var[w] / (2K E[w]²) = (e^{s²} − 1) / (2K), whatever the form.
name = "derived_lognormal_gap(s, K)"
_reference_gap = sympy.exp(s_sym**2) / (2 * K_sym) - 1 / (2 * K_sym)
_domain = {s_sym: (0.05, 2.0), K_sym: (1.0, 1000.0)}
check_equivalent(derived_lognormal_gap(*GAP_SYMBOLS), _reference_gap, name, symbols=GAP_SYMBOLS, sample=_domain)
check_equivalent(derived_lognormal_gap(*sympy.symbols("s K")), _reference_gap, name + " with plain symbols",
                 symbols=GAP_SYMBOLS, sample=_domain)
print("derived_lognormal_gap: hidden tests passed.")
### END HIDDEN TESTS

# %% tags=["demo"]
# Check the prediction: 100,000 independent estimates of L_K at s = 0.5, μ = 0 (so log E[w] = s²/2),
# with your method, in chunks of 20,000.
generator = torch.Generator().manual_seed(7)
n_chunks_demo, chunk_demo = 5, 20_000
for K in (5, 50, 200):
    estimates_demo = []
    for _ in range(n_chunks_demo):
        log_w_demo = 0.5 * torch.randn(K, chunk_demo, generator=generator, dtype=torch.float64)
        zero_demo = torch.zeros_like(log_w_demo)
        estimates_demo.append(jensen.importance_weighted_elbo(log_w_demo, zero_demo, zero_demo))
    estimates_demo = torch.cat(estimates_demo)
    measured = 0.125 - estimates_demo.mean().item()
    se = estimates_demo.std().item() / math.sqrt(len(estimates_demo))
    predicted = float(derived_lognormal_gap(*GAP_SYMBOLS).subs({s_sym: 0.5, K_sym: K}))
    print(f"K = {K:3d}: measured gap {measured:.4f} ± {se:.4f}, predicted {predicted:.4f}")

# %% [markdown]
# **Predict, then check (graded).** Write your prediction for $s = 0.5$, $K = 50$ (before running the
# cell above) and what the cell measured. Then use your expression: how many samples $K$ bring the gap
# below $0.001$ nats at $s = 0.5$, and at $s = 2$? What does that say about importance weights whose
# log has a standard deviation of a few nats?

# %% [markdown] nbgrader={"grade_id": "iwae-prediction", "solution": true, "points": 1}
# ### BEGIN SOLUTION
# **Model answer.** The law gives $(e^{0.25} - 1)/(2 \cdot 50) \approx 0.0028$ nats at $K = 50$, well
# below $0.01$, and the measurement agrees within its standard error. Setting $(e^{s^2} - 1)/(2K) < 0.001$:
# $K > (e^{0.25} - 1)/0.002 \approx 142$ at $s = 0.5$, but $K > (e^{4} - 1)/0.002 \approx 27{,}000$ at $s = 2$.
# The gap grows like $e^{s^2}$: when the log-weights spread over a few nats, $\mathcal{L}_K$ needs
# exponentially many samples to become tight, so a better $q$ (smaller $s$) beats a larger $K$.
#
# **Rubric (1 point).** Both sample sizes within 10% (about 140 and about 27,000) **and** the conclusion
# that the cost grows exponentially in $s^2$ (so improving $q$ matters more than raising $K$). A
# prediction that turned out wrong still earns the point if it is stated and compared honestly.
# ### END SOLUTION

# %% [markdown]
# **Think:** $\mathcal{L}_K$ is a lower bound, yet a single estimate $\log\frac{1}{K}\sum_k w_k$ can
# land *above* $\log p_\theta(x)$. Why is there no contradiction? And why does a $q$ that is too
# *narrow* give weights of much larger variance than a $q$ that is too wide? (Look at
# $w = p_\theta(x, z)/q(z|x)$ in the tails of $q$.)

# %% [markdown]
# ## Summary
#
# - Jensen's inequality for the concave $\log$: $\log \mathbb{E}[X] \ge \mathbb{E}[\log X]$; the gap
#   is 0 only for a constant $X$ and grows with the spread of $X$ relative to its mean.
# - Applied to $W = p_\theta(x, z)/q_\phi(z|x)$ it gives $\log p_\theta(x) \ge \mathrm{ELBO}(x)$. The
#   ELBO is the bound; the gap, its looseness, is exactly $\mathrm{KL}(q_\phi(z|x)\,\|\,p_\theta(z|x))$.
# - Averaging $K$ weights inside the log concentrates the variable, so the Jensen gap shrinks:
#   $\mathrm{ELBO} = \mathcal{L}_1 \le \mathcal{L}_K \le \log p_\theta(x)$, with $\mathcal{L}_K \to \log p_\theta(x)$.
# - Work in log space: $\log \frac{1}{K}\sum_k w_k = \operatorname{logsumexp}_k \log w_k - \log K$ never
#   underflows, where $\log(\mathrm{mean}(\exp(\cdot)))$ returns $-\infty$ for log-weights around $-1000$.
#
# ## Questions to think about
#
# 1. Jensen's inequality for the *convex* $-\log$ reads $-\log \mathbb{E}[W] \le \mathbb{E}[-\log W]$.
#    Show that this is the same bound as the ELBO, not a new one. What would an *upper* bound on
#    $\log p_\theta(x)$ need instead (a different inequality, or a different expectation)?
# 2. In Part 2 the ELBO can be made tight because the exact posterior of this linear-Gaussian model is
#    Gaussian with a diagonal covariance ($W$ has orthogonal columns), so a mean-field Gaussian $q$ can
#    equal it. Name a decoder whose posterior $p_\theta(z|x)$ no Gaussian $q$ can match (think of one
#    with two codes $z$ that explain the same $x$ equally well), and predict the smallest gap a
#    Gaussian $q$ can reach there.
# 3. Training with $\mathcal{L}_K$ instead of the ELBO gives a tighter bound. What happens to the
#    gradient signal reaching the encoder $q_\phi(z|x)$ as $K \to \infty$? (Rainforth et al., 2018.)
# 4. In Picture 2 the Exponential's gap is exactly Euler's $\gamma$. Using
#    $\Delta = \log\alpha - \psi(\alpha) \approx 1/(2\alpha)$ for large $\alpha$, explain why a Gamma
#    variable with a large shape has a small gap.
