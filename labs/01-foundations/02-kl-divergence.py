# %% [markdown]
# # Lab 1.2: KL divergence, the yardstick of variational inference
#
# Every generative model in this course is trained by making one distribution close to another, and
# "close" almost always means a small **Kullback–Leibler divergence**. The VAE's loss contains
# $\mathrm{KL}(q_\phi(z|x)\,\|\,p(z))$; the ELBO's gap is $\mathrm{KL}(q_\phi(z|x)\,\|\,p_\theta(z|x))$.
# In this lab you build the KL three ways and see why its direction matters.
#
# **Learning objectives.** By the end you can
# 1. state the definition of $\mathrm{KL}(p\,\|\,q)$, prove it is non-negative, and say why variational
#    inference minimises $\mathrm{KL}(q\,\|\,p)$ rather than $\mathrm{KL}(p\,\|\,q)$;
# 2. estimate a KL by Monte Carlo and give the estimate's standard error;
# 3. derive and implement the closed form for two Gaussians, and the VAE's KL to $p(z) = \mathcal{N}(0, I)$;
# 4. explain, with a picture, why forward KL is *mode-covering* and reverse KL is *mode-seeking*.
#
# **Prerequisites.** Expectations and the Gaussian density; working in log space (log-sum-exp), as in the
# previous notebook; PyTorch tensors, broadcasting and autograd.
#
# **Estimated time.** 55 minutes.
#
# **How this notebook is graded.** One derivation entered as a SymPy expression and three methods to
# fill in (cells marked `# YOUR CODE HERE`), each followed by a visible test you can run and a hidden
# test that runs when your notebook is graded; the written steps of the derivation, one explanation of
# a figure and one written answer near the end are graded by hand. The visible tests check properties
# (shapes, KL(p‖p) = 0, a value computed by another route), never the formula. Each docstring ends with
# a **Contract**, the properties the hidden tests check; the types follow the policy of notebook 1.1 (tensors in, tensors of the same
# dtype out).

# %%
import math

import ipywidgets as widgets
import matplotlib.pyplot as plt
import sympy
import torch
from torch.distributions import MultivariateNormal, Normal, kl_divergence

from labkit import add_to_class, runtime, seed_everything
from labkit.checks import (
    as_float,
    check_close,
    check_equivalent,
    check_expression,
    check_gradient_flows,
    check_statistic,
    check_tensor,
    check_unchanged,
)
from labkit.plots import label, use_course_style
from labkit.toy import bimodal_target

seed_everything(0)
use_course_style()
print(runtime.describe())

# %% [markdown]
# ## 1. What KL measures
#
# For two densities $p$ and $q$ on the same space, the KL divergence of $p$ from $q$,
# $\mathrm{KL}(p\,\|\,q)$, is the expected log-ratio **under the first argument**:
#
# $$\mathrm{KL}(p\,\|\,q) \;=\; \mathbb{E}_{x\sim p}\big[\log p(x) - \log q(x)\big] \;=\; \int p(x)\,\log\frac{p(x)}{q(x)}\,dx .$$
#
# It is the average number of extra nats you pay for coding samples of $p$ with a code built for $q$.
#
# **Non-negativity (Gibbs' inequality).** The logarithm is concave, so Jensen's inequality gives
#
# $$-\mathrm{KL}(p\,\|\,q) = \mathbb{E}_{p}\Big[\log\frac{q(x)}{p(x)}\Big] \;\le\; \log \mathbb{E}_{p}\Big[\frac{q(x)}{p(x)}\Big] = \log\int q(x)\,dx = \log 1 = 0,$$
#
# with equality only when $q/p$ is constant, that is when $q = p$. So $\mathrm{KL} \ge 0$ and
# $\mathrm{KL} = 0 \iff p = q$. It is **not** a distance: in general
# $\mathrm{KL}(p\,\|\,q) \neq \mathrm{KL}(q\,\|\,p)$, and it has no triangle inequality.
#
# **Why variational inference uses $\mathrm{KL}(q\,\|\,p)$.** We want an approximation $q_\phi(z|x)$ of the
# posterior $p_\theta(z|x) = p_\theta(x, z) / p_\theta(x)$, whose normaliser $p_\theta(x)$ is intractable.
# Put the expectation under $q_\phi$:
#
# $$\mathrm{KL}(q_\phi(z|x)\,\|\,p_\theta(z|x)) = \mathbb{E}_{q_\phi}\big[\log q_\phi(z|x) - \log p_\theta(x, z)\big] + \log p_\theta(x) = \log p_\theta(x) - \mathrm{ELBO}(\phi, \theta).$$
#
# Two things make this direction usable. The expectation is under $q_\phi$, which we chose, so we can
# sample it (and reparameterise it); and the unknown $\log p_\theta(x)$ is a constant that drops out
# of the gradient. The forward direction $\mathrm{KL}(p_\theta(z|x)\,\|\,q_\phi(z|x))$ needs samples of
# the posterior itself, which is exactly what we cannot get.
#
# The three methods you write live in one class; each gets its own cell below.

# %%
class KLDivergenceBuilder:
    """KL divergences three ways: a Monte Carlo estimate from samples, the closed form for two
    Gaussians, and the VAE's KL from a diagonal Gaussian to the prior N(0, I).

    The methods are attached one per cell with @add_to_class, so each has its tests right after it.
    """


kl = KLDivergenceBuilder()

# %% [markdown]
# ## 2. The Monte Carlo estimate
#
# **Why it matters.** Most KLs met in practice (a mixture against a Gaussian, a flow against its data,
# an encoder against a non-Gaussian prior) have no closed form. If you can sample $p$ and evaluate both
# log-densities, an average of log-ratios estimates the KL without bias, and its error shrinks like
# $1/\sqrt{N}$.
#
# **The mathematics.** With $x_1, \dots, x_N$ drawn independently from $p$,
#
# $$\widehat{\mathrm{KL}}_N = \frac{1}{N}\sum_{i=1}^{N}\big[\log p(x_i) - \log q(x_i)\big], \qquad
# \mathbb{E}\big[\widehat{\mathrm{KL}}_N\big] = \mathrm{KL}(p\,\|\,q), \qquad
# \mathrm{SE}\big[\widehat{\mathrm{KL}}_N\big] = \frac{\operatorname{sd}_{p}\big[\log p(x) - \log q(x)\big]}{\sqrt{N}} .$$
#
# The density $p(x)$ of the integral $\int p \log(p/q)$ is *not* multiplied in: drawing the $x_i$ from
# $p$ already weights them by $p$. In code, the samples come first (dimension 0); a batch of $B$
# distributions gives log-probabilities of shape $(N, B)$, and you average over the samples only, to
# get $B$ estimates in one call.

# %% nbgrader={"grade_id": "monte-carlo-kl", "solution": true}
@add_to_class(KLDivergenceBuilder)
def monte_carlo_kl(self, p_samples: torch.Tensor, p_logprob_fn, q_logprob_fn) -> torch.Tensor:
    """Estimate KL(p ‖ q) = E_p[log p(x) − log q(x)] from samples of p.

    Args:
        p_samples: x_1, ..., x_N drawn from p, shape (N, ...): the sample dimension comes first.
        p_logprob_fn: a function mapping p_samples to log p(x_i), of shape (N,), or (N, B) for a
            batch of B distributions.
        q_logprob_fn: a function mapping p_samples to log q(x_i), of the same shape.

    Returns:
        (1/N) Σ_i [log p(x_i) − log q(x_i)], averaged over dimension 0 only: a 0-d tensor (a float
        is accepted too) for log-probabilities of shape (N,), a tensor of shape (B,) for (N, B).

    Contract:
        - a 0-d tensor or a float for log-probabilities of shape (N,); shape (B,) and the dtype of the
          log-probabilities for (N, B);
        - exactly the sample mean of the log-ratios over dimension 0: no density weighting, no sampling
          of its own (the same samples give the same value), any functions accepted;
        - as an estimator, within 5 standard errors of the closed-form KL;
        - differentiable: gradients reach the parameters of p and q through the two functions.
    """
    ### BEGIN SOLUTION
    log_ratio = p_logprob_fn(p_samples) - q_logprob_fn(p_samples)
    return log_ratio.mean(dim=0)
    ### END SOLUTION


# %% nbgrader={"grade_id": "monte-carlo-kl-visible", "points": 2}
# Visible test: p = N(1, 0.8²), q = N(0, 1). Properties of the estimator, not its formula.
torch.manual_seed(0)
builder = KLDivergenceBuilder()
p = Normal(torch.tensor(1.0, dtype=torch.float64), torch.tensor(0.8, dtype=torch.float64))
q = Normal(torch.tensor(0.0, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64))
x = p.sample((2000,))
name = "monte_carlo_kl(x, p.log_prob, q.log_prob)"
value = as_float(builder.monte_carlo_kl(x, p.log_prob, q.log_prob), name)
# No sampling of its own: the same samples give the same value; q = p gives exactly 0.
check_close(builder.monte_carlo_kl(x, p.log_prob, q.log_prob), value, name + ", called a second time", rtol=0.0,
            atol=0.0)
check_close(builder.monte_carlo_kl(x, p.log_prob, p.log_prob), 0.0, "monte_carlo_kl(x, p.log_prob, p.log_prob)",
            atol=0.0)
# Unbiased: 200 independent estimates in one batched call (samples of shape (N, 200) = (500, 200));
# their average is within 5 standard errors (their own spread / √200) of the exact KL.
estimates = check_tensor(builder.monte_carlo_kl(p.sample((500, 200)), p.log_prob, q.log_prob),
                         name + " on samples of shape (500, 200)", shape=(200,), dtype=torch.float64)
check_statistic(estimates.mean(), kl_divergence(p, q).item(), estimates.std().item() / math.sqrt(200),
                "the average of 200 estimates")
print("monte_carlo_kl: visible tests passed.")

# %% nbgrader={"grade_id": "monte-carlo-kl-hidden", "points": 4}
# Hidden tests for monte_carlo_kl run when your notebook is graded.
### BEGIN HIDDEN TESTS
torch.manual_seed(1)
builder = KLDivergenceBuilder()


def _mc_mistakes(log_p: torch.Tensor, log_q: torch.Tensor) -> dict:
    ratio = log_p - log_q
    n = ratio.shape[0]
    return {
        "log q − log p: the ratio is upside down (that is −KL(p‖q)).": -ratio.mean(0),
        "a sum over the samples instead of their mean.": ratio.sum(0),
        "p(x) multiplied in: sampling from p already weights each x_i by p(x_i).": (log_p.exp() * ratio).mean(0),
        "the log of the mean ratio instead of the mean of the log-ratios.": torch.logsumexp(ratio, 0) - math.log(n),
    }


# Contract: the sample mean of the log-ratios; within 5 standard errors of the closed form.
# 1. One pair of 1-D Gaussians, a wide p and a narrow q, so that KL(p‖q) ≠ KL(q‖p).
p = Normal(torch.tensor(0.5, dtype=torch.float64), torch.tensor(1.5, dtype=torch.float64))
q = Normal(torch.tensor(-0.3, dtype=torch.float64), torch.tensor(0.6, dtype=torch.float64))
x = p.sample((5000,))
log_p, log_q = p.log_prob(x), q.log_prob(x)
name = "monte_carlo_kl(x, p.log_prob, q.log_prob)"
value = as_float(builder.monte_carlo_kl(x, p.log_prob, q.log_prob), name)
check_close(value, (log_p - log_q).mean(), name, mistakes=_mc_mistakes(log_p, log_q))
# Standard error sd[log p − log q] / √N with N = 5000.
check_statistic(value, kl_divergence(p, q).item(), ((log_p - log_q).std() / math.sqrt(len(x))).item(), name)

# Contract: shape (B,) and dtype for a batch.
# 2. A batch of B = 3 distributions: x has shape (N, B) = (400, 3), so do the log-probabilities.
#    Only the sample dimension is averaged; N ≠ B catches an average over the last dimension.
p = Normal(torch.tensor([0.0, 1.0, -2.0], dtype=torch.float64), torch.tensor([1.0, 0.5, 2.0], dtype=torch.float64))
q = Normal(torch.tensor([0.5, -1.0, -2.0], dtype=torch.float64), torch.tensor([1.0, 1.5, 0.7], dtype=torch.float64))
x = p.sample((400,))
log_p, log_q = p.log_prob(x), q.log_prob(x)
name = "monte_carlo_kl on a batch of 3 distributions (log-probs of shape (400, 3))"
estimate = check_tensor(builder.monte_carlo_kl(x, p.log_prob, q.log_prob), name, shape=(3,), dtype=torch.float64)
check_close(estimate, (log_p - log_q).mean(0), name, mistakes=_mc_mistakes(log_p, log_q))
# Contract: no sampling of its own: the same samples give the same value.
check_close(builder.monte_carlo_kl(x, p.log_prob, q.log_prob), estimate, name + ", called a second time", rtol=0.0,
            atol=0.0)

# 3. Vector samples: x has shape (N, D) = (300, 2) and the log-probabilities shape (N,).
p = MultivariateNormal(torch.tensor([1.0, -1.0]), covariance_matrix=torch.tensor([[1.0, 0.6], [0.6, 2.0]]))
q = MultivariateNormal(torch.zeros(2), covariance_matrix=torch.eye(2))
x = p.sample((300,))
log_p, log_q = p.log_prob(x), q.log_prob(x)
name = "monte_carlo_kl on 2-D samples"
value = as_float(builder.monte_carlo_kl(x, p.log_prob, q.log_prob), name)
check_close(value, (log_p - log_q).mean(), name, rtol=1e-4, mistakes=_mc_mistakes(log_p, log_q))

# 4. Any functions will do: q is a Laplace density written by hand, with no torch.distributions object.
p = Normal(torch.tensor(0.0, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64))
x = p.sample((1000,))


def laplace_log_prob(values: torch.Tensor) -> torch.Tensor:
    return -values.abs() - math.log(2.0)


log_p, log_q = p.log_prob(x), laplace_log_prob(x)
name = "monte_carlo_kl(x, p.log_prob, laplace_log_prob)"
value = as_float(builder.monte_carlo_kl(x, p.log_prob, laplace_log_prob), name)
check_close(value, (log_p - log_q).mean(), name, mistakes=_mc_mistakes(log_p, log_q))

# Contract: exactly the sample mean, also when it is negative. A KL is ≥ 0, but its estimate from few
# samples need not be: p = N(0, 1), q = N(0.1, 1) and samples all above 0.05 give a negative mean
# log-ratio (log p − log q = 0.005 − 0.1 x). Clamping at 0 would bias the estimator upwards.
p = Normal(torch.tensor(0.0, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64))
q = Normal(torch.tensor(0.1, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64))
x = p.sample((30,)).abs() + 0.05
name = "monte_carlo_kl on 30 samples where the estimate is negative"
reference_value = (p.log_prob(x) - q.log_prob(x)).mean()
assert reference_value < 0  # the case is meaningful
check_close(as_float(builder.monte_carlo_kl(x, p.log_prob, q.log_prob), name), reference_value, name)

# Contract: differentiable. With the samples held fixed, ∂/∂θ of the mean log-ratio is the mean of
# ∂ log p/∂θ_p − ∂ log q/∂θ_q; compare with autograd on the reference, for a batch of 2.
leaves = {name: torch.tensor(value, dtype=torch.float64, requires_grad=True)
          for name, value in (("mu_p", [0.2, -1.0]), ("sigma_p", [1.1, 0.7]), ("mu_q", [0.5, 0.0]), ("sigma_q", [0.9, 2.0]))}
p = Normal(leaves["mu_p"], leaves["sigma_p"])
q = Normal(leaves["mu_q"], leaves["sigma_q"])
x = p.sample((50,))
name = "monte_carlo_kl with parameters that require grad"
estimate = builder.monte_carlo_kl(x, p.log_prob, q.log_prob)
check_tensor(estimate, name, shape=(2,), dtype=torch.float64)
check_gradient_flows(builder.monte_carlo_kl(x, p.log_prob, q.log_prob), leaves, name)
weights_v = torch.tensor([0.6, -1.4], dtype=torch.float64)
got = torch.autograd.grad((estimate * weights_v).sum(), list(leaves.values()))
want = torch.autograd.grad(((p.log_prob(x) - q.log_prob(x)).mean(0) * weights_v).sum(), list(leaves.values()))
for label_, g, w in zip(leaves, got, want):
    check_close(g, w, f"the gradient of {name} with respect to {label_}", rtol=1e-9, atol=1e-12)
print("monte_carlo_kl: hidden tests passed.")
### END HIDDEN TESTS

# %% [markdown]
# **Picture: the estimate converges like $1/\sqrt{N}$.** For $p = \mathcal{N}(1, 0.8^2)$ and
# $q = \mathcal{N}(0, 1)$ we repeat the estimate 20 times at each sample size $N$. The twenty runs are
# one batched call: samples of shape $(N, 20)$ give 20 estimates. The shaded bands are the exact
# value $\pm 1$ and $\pm 2$ standard errors $\operatorname{sd}[\log p - \log q]/\sqrt{N}$; the reference line
# is `torch.distributions.kl_divergence`.

# %%
p_demo = Normal(torch.tensor(1.0), torch.tensor(0.8))
q_demo = Normal(torch.tensor(0.0), torch.tensor(1.0))
exact_kl = kl_divergence(p_demo, q_demo).item()
# The spread of one log-ratio, from a large sample: it sets the standard error of every estimate.
x_large = p_demo.sample((200_000,))
log_ratio_sd = (p_demo.log_prob(x_large) - q_demo.log_prob(x_large)).std().item()

sample_sizes = torch.logspace(1, runtime.scaled(5, 4), runtime.scaled(13, 7)).round().long().tolist()
repeats = 20
estimates = torch.stack(
    [kl.monte_carlo_kl(p_demo.sample((n, repeats)), p_demo.log_prob, q_demo.log_prob) for n in sample_sizes]
)  # (number of sample sizes, repeats)

sizes = torch.tensor(sample_sizes, dtype=torch.float32)
standard_errors = log_ratio_sd / sizes.sqrt()
fig, (ax_estimates, ax_spread) = plt.subplots(1, 2, figsize=(11, 4))
for n_se, alpha in ((2, 0.15), (1, 0.25)):
    ax_estimates.fill_between(
        sizes, exact_kl - n_se * standard_errors, exact_kl + n_se * standard_errors,
        color="C0", alpha=alpha, label=f"exact ± {n_se} SE",
    )
ax_estimates.plot(sizes.repeat_interleave(repeats), estimates.reshape(-1), ".", color="C1", alpha=0.5, label="one estimate")
ax_estimates.axhline(exact_kl, color="k", lw=1, label=f"closed form {exact_kl:.3f}")
ax_estimates.set_xscale("log")
ax_estimates.legend()
label(ax_estimates, "Monte Carlo estimates of KL(p‖q)", "number of samples N", "estimate (nats)")

ax_spread.loglog(sizes, estimates.std(dim=1), "o", color="C1", label="spread of the 20 estimates")
ax_spread.loglog(sizes, standard_errors, color="C0", label="sd[log p − log q] / √N")
ax_spread.legend()
label(ax_spread, "The error shrinks like 1/√N", "number of samples N", "standard deviation (nats)")
fig.tight_layout()
plt.show()

# %% [markdown]
# **Explain the figure (graded).** At the smallest $N$ the band of $\pm 2$ standard errors reaches down
# nearly to 0, so an estimate from a few samples can be *negative* (over many repeats some are),
# although $\mathrm{KL} \ge 0$. Why is that no contradiction? To gain one more correct decimal digit, by
# what factor must $N$ grow? Two or three sentences in the cell below.

# %% [markdown] nbgrader={"grade_id": "kl-negative-estimates", "solution": true, "points": 1}
# ### BEGIN SOLUTION
# **Model answer.** $\mathrm{KL} \ge 0$ is a statement about the expectation
# $\mathbb{E}_p[\log p - \log q]$, not about each log-ratio: individual $\log p(x_i) - \log q(x_i)$ are
# negative wherever $q(x_i) > p(x_i)$, so an average of a few of them can be negative; the estimator is
# unbiased, and at small $N$ its spread $\operatorname{sd}/\sqrt{N}$ is of the order of the KL itself (about
# half of it at $N = 10$ here), so an estimate two standard errors low is near or below 0. One more
# decimal digit means a standard error 10 times smaller, so $N$ must grow 100-fold.
#
# **Rubric (1 point).** Both parts: (a) the bound holds for the expectation, single log-ratios (hence
# small averages) can be negative, and (b) the factor 100 from the $1/\sqrt{N}$ law. "A numerical
# error" or "the estimator is biased" for (a), or 10 for (b), earns 0.
# ### END SOLUTION

# %% [markdown]
# ## 3. The closed form for two Gaussians: derive it, then implement it
#
# **Why it matters.** Between Gaussians the KL has an exact, cheap, differentiable formula. Using it
# instead of a Monte Carlo estimate removes a source of noise from every gradient step of a VAE.
# You derive it here; nothing below prints it.
#
# **The mathematics.** Take $p = \mathcal{N}(\mu_1, \sigma_1^2)$ and $q = \mathcal{N}(\mu_2, \sigma_2^2)$
# ($\sigma$ are standard deviations), with densities
# $\mathcal{N}(x; \mu, \sigma^2) = (2\pi\sigma^2)^{-1/2}\exp\!\big(-(x-\mu)^2/(2\sigma^2)\big)$, and
# $\mathrm{KL}(p\,\|\,q) = \mathbb{E}_{x\sim p}[\log p(x) - \log q(x)]$. Three steps:
#
# 1. write $\log p(x) - \log q(x)$ as a function of $x$ (the $2\pi$ cancels);
# 2. take its expectation under $p$: you need $\mathbb{E}_p[(x-\mu_1)^2]$ and $\mathbb{E}_p[(x-\mu_2)^2]$
#    (write $x - \mu_2 = (x - \mu_1) + (\mu_1 - \mu_2)$);
# 3. collect the terms into one expression in $\mu_1, \sigma_1, \mu_2, \sigma_2$.
#
# Check your result before you type it: it must be $0$ when $p = q$, and it must not be symmetric in
# $p$ and $q$.

# %% [markdown]
# **Step 3 in SymPy.** Enter your result as a SymPy expression in the symbols `mu1, sigma1, mu2,
# sigma2` defined below (`sympy.log`, `sympy.sqrt`, `sympy.Rational(1, 2)` and ordinary arithmetic).
# Any form equal to the right one for every $\mu_1, \mu_2$ and every $\sigma_1, \sigma_2 > 0$ is
# accepted: the grader checks symbolic equivalence, not the way you wrote it.

# %%
mu1_s, mu2_s = sympy.symbols("mu1 mu2", real=True)
sigma1_s, sigma2_s = sympy.symbols("sigma1 sigma2", positive=True)
KL_SYMBOLS = (mu1_s, sigma1_s, mu2_s, sigma2_s)

# %% nbgrader={"grade_id": "derive-gaussian-kl", "solution": true}
def derived_gaussian_kl(mu1, sigma1, mu2, sigma2):
    """KL(N(μ₁, σ₁²) ‖ N(μ₂, σ₂²)) as a SymPy expression in the four symbols it is given.

    Contract:
        - a SymPy expression in mu1, sigma1, mu2, sigma2 only (any subset), real and finite for σ > 0;
        - equal, for every value of the four symbols, to the KL of step 3 (any equivalent form).
    """
    ### BEGIN SOLUTION
    return sympy.log(sigma2 / sigma1) + (sigma1**2 + (mu1 - mu2) ** 2) / (2 * sigma2**2) - sympy.Rational(1, 2)
    ### END SOLUTION


# %% nbgrader={"grade_id": "derive-gaussian-kl-visible", "points": 1}
# Visible test: properties any correct KL has; none of them spells out the formula.
name = "derived_gaussian_kl(mu1, sigma1, mu2, sigma2)"
expression = check_expression(derived_gaussian_kl(*KL_SYMBOLS), name, symbols=KL_SYMBOLS,
                              points=[{mu1_s: 0.3, sigma1_s: 0.7, mu2_s: -1.0, sigma2_s: 1.9}])
# KL(p‖p) = 0 for every μ and σ: substituting μ₂ = μ₁, σ₂ = σ₁ must simplify to 0.
assert sympy.simplify(expression.subs({mu2_s: mu1_s, sigma2_s: sigma1_s})) == 0, f"{name} is not 0 when p = q."
# One worked point by another route: the integral ∫ p log(p/q) dx by the trapezoidal rule on a fine grid.
grid = torch.linspace(-15.0, 15.0, 30001, dtype=torch.float64)
p_point = Normal(torch.tensor(1.0, dtype=torch.float64), torch.tensor(0.8, dtype=torch.float64))
q_point = Normal(torch.tensor(-0.5, dtype=torch.float64), torch.tensor(1.7, dtype=torch.float64))
log_p_grid, log_q_grid = p_point.log_prob(grid), q_point.log_prob(grid)
quadrature = torch.trapezoid(log_p_grid.exp() * (log_p_grid - log_q_grid), grid).item()
at_point = float(expression.subs({mu1_s: 1.0, sigma1_s: 0.8, mu2_s: -0.5, sigma2_s: 1.7}))
check_close(at_point, quadrature, name + " at μ₁ = 1, σ₁ = 0.8, μ₂ = −0.5, σ₂ = 1.7", rtol=1e-6, atol=1e-8)
print("derived_gaussian_kl: visible tests passed.")

# %% nbgrader={"grade_id": "derive-gaussian-kl-hidden", "points": 3}
# Hidden tests for derived_gaussian_kl run when your notebook is graded.
### BEGIN HIDDEN TESTS
# Contract: symbolic equivalence with the closed form, whatever the form; with plain symbols too.
name = "derived_gaussian_kl(mu1, sigma1, mu2, sigma2)"
_reference_kl = (sympy.log(sigma2_s) - sympy.log(sigma1_s)
                 + (sigma1_s**2 + (mu1_s - mu2_s) ** 2) / (2 * sigma2_s**2) - sympy.Rational(1, 2))
_domain = {mu1_s: (-3.0, 3.0), sigma1_s: (0.1, 4.0), mu2_s: (-3.0, 3.0), sigma2_s: (0.1, 4.0)}
check_equivalent(derived_gaussian_kl(*KL_SYMBOLS), _reference_kl, name, symbols=KL_SYMBOLS, sample=_domain)
# Called with symbols that carry no assumptions (a student may define their own): the same expression.
_plain = sympy.symbols("mu1 sigma1 mu2 sigma2")
check_equivalent(derived_gaussian_kl(*_plain), _reference_kl, name + " with plain symbols", symbols=KL_SYMBOLS,
                 sample=_domain)
print("derived_gaussian_kl: hidden tests passed.")
### END HIDDEN TESTS

# %% [markdown]
# **Your steps.** Write steps 1 and 2 of your derivation in the cell below (LaTeX or plain text): the
# log-ratio as a function of $x$, and the two expectations with a line of justification each.

# %% [markdown] nbgrader={"grade_id": "derive-gaussian-kl-steps", "solution": true, "points": 2}
# ### BEGIN SOLUTION
# **Model answer.**
# 1. $\log p(x) - \log q(x) = -\tfrac12\log(2\pi\sigma_1^2) - \frac{(x-\mu_1)^2}{2\sigma_1^2}
#    + \tfrac12\log(2\pi\sigma_2^2) + \frac{(x-\mu_2)^2}{2\sigma_2^2}
#    = \log\frac{\sigma_2}{\sigma_1} - \frac{(x-\mu_1)^2}{2\sigma_1^2} + \frac{(x-\mu_2)^2}{2\sigma_2^2}$.
# 2. Under $p$, $\mathbb{E}[(x-\mu_1)^2] = \sigma_1^2$ (the definition of the variance). With
#    $x - \mu_2 = (x-\mu_1) + (\mu_1-\mu_2)$, $\mathbb{E}[(x-\mu_2)^2] = \sigma_1^2 + 2(\mu_1-\mu_2)\,\mathbb{E}[x-\mu_1]
#    + (\mu_1-\mu_2)^2 = \sigma_1^2 + (\mu_1-\mu_2)^2$, since $\mathbb{E}_p[x - \mu_1] = 0$.
#    Hence $\mathrm{KL} = \log\frac{\sigma_2}{\sigma_1} - \frac12 + \frac{\sigma_1^2 + (\mu_1-\mu_2)^2}{2\sigma_2^2}$.
#
# **Rubric (2 points), one per step.**
# - Step 1 (1 point): the log-ratio with both normalising constants reduced to $\log(\sigma_2/\sigma_1)$
#   (or $\tfrac12\log(\sigma_2^2/\sigma_1^2)$) and both quadratic terms with their own variances and signs.
#   A missing $\tfrac12$ on the log or a swapped sign earns 0.
# - Step 2 (1 point): $\mathbb{E}_p[(x-\mu_1)^2] = \sigma_1^2$ **and** $\mathbb{E}_p[(x-\mu_2)^2] =
#   \sigma_1^2 + (\mu_1-\mu_2)^2$ with the reason the cross term vanishes ($\mathbb{E}_p[x-\mu_1] = 0$).
#   $\sigma_2^2$ in either expectation (an expectation taken under $q$) earns 0.
# ### END SOLUTION

# %% [markdown]
# **Implement it.** Now turn your result into a function of tensors, applied element by element and
# broadcasting the four arguments as torch does.

# %% nbgrader={"grade_id": "gaussian-kl-closed-form", "solution": true}
@add_to_class(KLDivergenceBuilder)
def gaussian_kl_closed_form(
    self, mu1: torch.Tensor, sigma1: torch.Tensor, mu2: torch.Tensor, sigma2: torch.Tensor
) -> torch.Tensor:
    """KL(N(μ₁, σ₁²) ‖ N(μ₂, σ₂²)), element by element.

    Args:
        mu1: μ₁, the mean of the first Gaussian p; any shape.
        sigma1: σ₁ > 0, the standard deviation (not the variance) of p; broadcastable with mu1.
        mu2: μ₂, the mean of the second Gaussian q.
        sigma2: σ₂ > 0, the standard deviation of q.

    Returns:
        The KL of each element, with the broadcast shape of the four arguments.

    Contract:
        - the broadcast shape of the four arguments, their dtype;
        - the closed form of your derivation, in that direction (p first), with standard deviations
          as arguments;
        - 0 when p = q; differentiable in all four arguments; the inputs are left unchanged.
    """
    ### BEGIN SOLUTION
    return torch.log(sigma2 / sigma1) + (sigma1**2 + (mu1 - mu2) ** 2) / (2 * sigma2**2) - 0.5
    ### END SOLUTION


# %% nbgrader={"grade_id": "gaussian-kl-closed-form-visible", "points": 2}
# Visible test: properties of any KL, and one value by another route (numerical integration).
builder = KLDivergenceBuilder()
mu1, sigma1, mu2, sigma2 = (torch.tensor(v, dtype=torch.float64) for v in (1.0, 0.8, -0.5, 1.7))
name = "gaussian_kl_closed_form(1.0, 0.8, -0.5, 1.7)"
result = check_tensor(builder.gaussian_kl_closed_form(mu1, sigma1, mu2, sigma2), name, shape=(), dtype=torch.float64)
# ∫ p log(p/q) dx by the trapezoidal rule on a fine grid.
grid = torch.linspace(-15.0, 15.0, 30001, dtype=torch.float64)
log_p_grid, log_q_grid = Normal(mu1, sigma1).log_prob(grid), Normal(mu2, sigma2).log_prob(grid)
check_close(result, torch.trapezoid(log_p_grid.exp() * (log_p_grid - log_q_grid), grid), name, rtol=1e-6, atol=1e-8)
# KL(p‖p) = 0, and the KL is not symmetric: swapping p and q changes the value here.
same = check_tensor(builder.gaussian_kl_closed_form(mu1, sigma1, mu1, sigma1), "gaussian_kl_closed_form(p, p)", shape=())
check_close(same, 0.0, "gaussian_kl_closed_form(p, p)", atol=1e-12)
swapped = as_float(builder.gaussian_kl_closed_form(mu2, sigma2, mu1, sigma1), "gaussian_kl_closed_form(q, p)")
assert abs(swapped - result.item()) > 0.1, "KL(q‖p) equals KL(p‖q) here: is the formula symmetric in p and q?"
print("gaussian_kl_closed_form: visible tests passed.")

# %% nbgrader={"grade_id": "gaussian-kl-closed-form-hidden", "points": 3}
# Hidden tests for gaussian_kl_closed_form run when your notebook is graded.
### BEGIN HIDDEN TESTS
torch.manual_seed(2)
builder = KLDivergenceBuilder()
# Contract: the inputs are left unchanged (no in-place arithmetic on them).
mu1, mu2 = torch.randn(5, dtype=torch.float64), torch.randn(5, dtype=torch.float64)
sigma1, sigma2 = 0.5 + torch.rand(5, dtype=torch.float64), 0.5 + torch.rand(5, dtype=torch.float64)
inputs = {"mu1": mu1, "sigma1": sigma1, "mu2": mu2, "sigma2": sigma2}
originals = {key: value.clone() for key, value in inputs.items()}
builder.gaussian_kl_closed_form(mu1, sigma1, mu2, sigma2)
for key in inputs:
    check_unchanged(originals[key], inputs[key], key)

# Contract: the broadcast shape and dtype; the closed form, in that direction.
# Shapes (3, 1), (3, 1), (4,), (4,) broadcast to (3, 4); σ between 0.3 and 2.3, so σ₁ ≠ σ₂ almost surely.
mu1 = torch.randn(3, 1, dtype=torch.float64)
sigma1 = 0.3 + 2 * torch.rand(3, 1, dtype=torch.float64)
mu2 = torch.randn(4, dtype=torch.float64)
sigma2 = 0.3 + 2 * torch.rand(4, dtype=torch.float64)
inputs = {"mu1": mu1, "sigma1": sigma1, "mu2": mu2, "sigma2": sigma2}
name = "gaussian_kl_closed_form(mu1, sigma1, mu2, sigma2)"
result = check_tensor(builder.gaussian_kl_closed_form(mu1, sigma1, mu2, sigma2), name, shape=(3, 4), dtype=torch.float64)

# Reference and the common wrong formulas, written out from first principles.
log_ratio = torch.log(sigma2 / sigma1)
gap2 = (mu1 - mu2) ** 2
mistakes = {
    "the arguments swapped: that is KL(q‖p).": kl_divergence(Normal(mu2, sigma2), Normal(mu1, sigma1)),
    "log(σ₂²/σ₁²) without its factor 1/2.": 2 * log_ratio + (sigma1**2 + gap2) / (2 * sigma2**2) - 0.5,
    "σ₁ where σ₁² belongs.": log_ratio + (sigma1 + gap2) / (2 * sigma2**2) - 0.5,
    "σ treated as a variance: the arguments are standard deviations.": 0.5 * log_ratio + (sigma1 + gap2) / (2 * sigma2) - 0.5,
    "the constant −1/2 is missing.": log_ratio + (sigma1**2 + gap2) / (2 * sigma2**2),
    "the factor 1/2 of the quadratic term is missing.": log_ratio + (sigma1**2 + gap2) / sigma2**2 - 0.5,
    "log(σ₁/σ₂): the log term has the wrong sign.": -log_ratio + (sigma1**2 + gap2) / (2 * sigma2**2) - 0.5,
}
check_close(result, kl_divergence(Normal(mu1, sigma1), Normal(mu2, sigma2)), name, mistakes=mistakes)

# float32 in, float32 out (rounding of a few float32 operations on numbers of order 1: 1e-5 is ample).
args32 = [t.float() for t in (mu1, sigma1, mu2, sigma2)]
result32 = check_tensor(builder.gaussian_kl_closed_form(*args32), name + " in float32", shape=(3, 4), dtype=torch.float32)
check_close(result32, kl_divergence(Normal(mu1, sigma1), Normal(mu2, sigma2)), name + " in float32", rtol=1e-5, atol=1e-5)

# Contract: KL(p‖p) = 0.
same = check_tensor(builder.gaussian_kl_closed_form(mu1, sigma1, mu1, sigma1), "gaussian_kl_closed_form(p, p)", shape=(3, 1))
check_close(same, torch.zeros(3, 1, dtype=torch.float64), "gaussian_kl_closed_form(p, p)", atol=1e-12)

# Equal means: only the widths count. Wide p against narrow q, and the reverse.
narrow, wide, zero = (torch.tensor(v, dtype=torch.float64) for v in (0.5, 2.0, 0.0))
for a, b in ((wide, narrow), (narrow, wide)):
    case = f"gaussian_kl_closed_form(0, {a.item()}, 0, {b.item()})"
    value = check_tensor(builder.gaussian_kl_closed_form(zero, a, zero, b), case, shape=())
    check_close(value, kl_divergence(Normal(zero, a), Normal(zero, b)), case)

# Contract: gradients reach all four parameters (the formula must stay differentiable).
leaves = {key: value.clone().requires_grad_(True) for key, value in inputs.items()}
output = builder.gaussian_kl_closed_form(leaves["mu1"], leaves["sigma1"], leaves["mu2"], leaves["sigma2"])
check_gradient_flows(output, leaves, name)
print("gaussian_kl_closed_form: hidden tests passed.")
### END HIDDEN TESTS

# %% [markdown]
# **Picture: the two directions disagree about a wrong width.** Fix $p = \mathcal{N}(0, 1)$ and let
# $q = \mathcal{N}(0, \sigma_q^2)$. On the left, $\mathrm{KL}(p\,\|\,q)$ and $\mathrm{KL}(q\,\|\,p)$ as $\sigma_q$
# varies; on the right, $q = \mathcal{N}(\Delta\mu, 1)$ as its mean moves.

# %%
zero, one = torch.tensor(0.0), torch.tensor(1.0)
sigma_q = torch.logspace(-1, 1, 200)  # σ_q from 0.1 to 10
width_forward = kl.gaussian_kl_closed_form(zero, one, zero, sigma_q)
width_reverse = kl.gaussian_kl_closed_form(zero, sigma_q, zero, one)
shift = torch.linspace(-3, 3, 200)
shift_forward = kl.gaussian_kl_closed_form(zero, one, shift, one)
shift_reverse = kl.gaussian_kl_closed_form(shift, one, zero, one)

fig, (ax_width, ax_shift) = plt.subplots(1, 2, figsize=(11, 4))
ax_width.plot(sigma_q, width_forward, label="KL(p‖q): expectation under p")
ax_width.plot(sigma_q, width_reverse, "--", label="KL(q‖p): expectation under q")
ax_width.set_xscale("log")
ax_width.set_ylim(0, 6)
ax_width.legend()
label(ax_width, "p = N(0, 1) against q = N(0, σ_q²)", "σ_q (log scale)", "KL (nats)")

ax_shift.plot(shift, shift_forward, label="KL(p‖q)")
ax_shift.plot(shift, shift_reverse, "--", label="KL(q‖p)")
ax_shift.legend()
label(ax_shift, "p = N(0, 1) against q = N(Δμ, 1)", "Δμ", "KL (nats)")
fig.tight_layout()
plt.show()

# %% [markdown]
# **Think:** on the left, $\mathrm{KL}(p\,\|\,q)$ explodes as $\sigma_q \to 0$ but grows only like
# $\log \sigma_q$ as $\sigma_q \to \infty$. Which term of the formula causes each behaviour? On the
# right the two curves coincide: show from the formula that the KL is symmetric whenever $\sigma_1 = \sigma_2$.

# %% [markdown]
# ## 4. The VAE's KL to the standard normal prior
#
# **Why it matters.** A VAE's encoder outputs, for each $x$, a diagonal Gaussian
# $q_\phi(z|x) = \mathcal{N}(\mu, \operatorname{diag}\sigma^2)$, and its loss pays
# $\mathrm{KL}(q_\phi(z|x)\,\|\,p(z))$ with $p(z) = \mathcal{N}(0, I)$. The encoder predicts
# $\log\sigma^2$ (`logvar`), an unconstrained real number, so that $\sigma^2 = e^{\log\sigma^2}$ is
# positive without any clamping.
#
# **The mathematics.** A diagonal Gaussian is a product of independent 1-D Gaussians, and the KL
# between products is the **sum** of the KLs of the factors. For each latent dimension $j$, set
# $\mu_1 = \mu_j$, $\sigma_1^2 = \sigma_j^2 = \exp(\log\sigma_j^2)$, $\mu_2 = 0$, $\sigma_2 = 1$ in your result of
# section 3, and simplify: the KL of dimension $j$ is then a function of $\mu_j$ and $\log\sigma_j^2$ only,
# with no square root and no division. (Writing the terms with `logvar` directly, rather than through
# $\sigma$, keeps it finite for very small and very large variances.)
#
# Sum over the latent dimensions (the last axis) and keep every other axis: one KL per data point.

# %% nbgrader={"grade_id": "standard-normal-kl", "solution": true}
@add_to_class(KLDivergenceBuilder)
def standard_normal_kl(self, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(μ, diag σ²) ‖ N(0, I)) for each row, in closed form.

    Args:
        mu: μ, shape (..., latent_dim).
        logvar: log σ², shape (..., latent_dim) (the log of the variance, not of σ).

    Returns:
        Shape (...,): the KL of each row, summed over latent_dim. The inputs are left unchanged.

    Contract:
        - shape (...,) (the last dimension summed, every other kept), the dtype of mu;
        - the closed form of section 3 with μ₂ = 0, σ₂ = 1, σ₁² = exp(logvar), summed over the latent
          dimensions; finite for log σ² from −10 to 5, 0 at μ = 0, log σ² = 0;
        - differentiable in mu and logvar; the inputs are left unchanged;
        - if it calls gaussian_kl_closed_form (pass it tensors), it is graded with a correct version of
          that method.
    """
    ### BEGIN SOLUTION
    return 0.5 * (mu**2 + logvar.exp() - 1.0 - logvar).sum(dim=-1)
    ### END SOLUTION


# %% nbgrader={"grade_id": "standard-normal-kl-visible", "points": 2}
# Visible test: shapes, the prior itself, additivity over dimensions, and one value by another route.
torch.manual_seed(3)
builder = KLDivergenceBuilder()
mu = torch.randn(5, 3, dtype=torch.float64)
logvar = torch.randn(5, 3, dtype=torch.float64)
name = "standard_normal_kl(mu, logvar) with mu, logvar of shape (5, 3)"
result = check_tensor(builder.standard_normal_kl(mu, logvar), name, shape=(5,), dtype=torch.float64)
# q = p(z) costs nothing.
zeros = torch.zeros(2, 3, dtype=torch.float64)
check_close(builder.standard_normal_kl(zeros, zeros), torch.zeros(2, dtype=torch.float64), "KL(N(0, I) ‖ N(0, I))",
            atol=1e-12)
# Independent dimensions add up: the KL of each row is the sum of the KLs of its three 1-D columns.
columns = sum(check_tensor(builder.standard_normal_kl(mu[:, j : j + 1], logvar[:, j : j + 1]), name, shape=(5,))
              for j in range(3))
check_close(result, columns, "standard_normal_kl of a row against the sum over its dimensions")
# One 1-D value by numerical integration of p log(p/q) with p = N(0.7, e^{-0.4}), q = N(0, 1).
grid = torch.linspace(-15.0, 15.0, 30001, dtype=torch.float64)
log_p_grid = Normal(torch.tensor(0.7, dtype=torch.float64), math.exp(-0.2)).log_prob(grid)
log_q_grid = Normal(torch.tensor(0.0, dtype=torch.float64), 1.0).log_prob(grid)
one = builder.standard_normal_kl(torch.tensor([0.7], dtype=torch.float64), torch.tensor([-0.4], dtype=torch.float64))
check_close(check_tensor(one, "standard_normal_kl of one dimension", shape=()),
            torch.trapezoid(log_p_grid.exp() * (log_p_grid - log_q_grid), grid), "standard_normal_kl(0.7, −0.4)",
            rtol=1e-6, atol=1e-8)
print("standard_normal_kl: visible tests passed.")

# %% nbgrader={"grade_id": "standard-normal-kl-hidden", "points": 5}
# Hidden tests for standard_normal_kl run when your notebook is graded.
### BEGIN HIDDEN TESTS
class _WithReferenceClosedForm(KLDivergenceBuilder):
    """A correct gaussian_kl_closed_form under the student's standard_normal_kl: one mistake, one penalty."""

    def gaussian_kl_closed_form(self, mu1, sigma1, mu2, sigma2):
        return kl_divergence(Normal(mu1, sigma1), Normal(mu2, sigma2))


torch.manual_seed(4)
builder = _WithReferenceClosedForm()


def _reference(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    q = Normal(mu, torch.exp(0.5 * logvar))
    return kl_divergence(q, Normal(torch.zeros_like(mu), torch.ones_like(mu))).sum(-1)


def _mistakes(mu: torch.Tensor, logvar: torch.Tensor) -> dict:
    variance = logvar.exp()
    return {
        "a mean over the latent dimensions instead of a sum.": (0.5 * (mu**2 + variance - 1 - logvar)).mean(-1),
        "logvar treated as log σ: it is log σ².": (0.5 * (mu**2 + torch.exp(2 * logvar) - 1 - 2 * logvar)).sum(-1),
        "the factor 1/2 is missing.": (mu**2 + variance - 1 - logvar).sum(-1),
        "the constant −1 is missing.": (0.5 * (mu**2 + variance - logvar)).sum(-1),
        "the sign is flipped (Kingma's form is −1/2 Σ(1 + log σ² − μ² − σ²)).": (-0.5 * (mu**2 + variance - 1 - logvar)).sum(-1),
        "μ where μ² belongs.": (0.5 * (mu + variance - 1 - logvar)).sum(-1),
    }


# Contract: shape and dtype; the closed form; inputs unchanged.
# 1. Three batch shapes: (4, 6) -> (4,), (2, 3, 5) -> (2, 3), and a single encoding (6,) -> ().
for shape in ((4, 6), (2, 3, 5), (6,)):
    mu = torch.randn(*shape, dtype=torch.float64)
    logvar = torch.randn(*shape, dtype=torch.float64)
    mu_before, logvar_before = mu.clone(), logvar.clone()
    name = f"standard_normal_kl on inputs of shape {shape}"
    result = check_tensor(builder.standard_normal_kl(mu, logvar), name, shape=shape[:-1], dtype=torch.float64)
    check_unchanged(mu_before, mu, "mu")
    check_unchanged(logvar_before, logvar, "logvar")
    check_close(result, _reference(mu, logvar), name, mistakes=_mistakes(mu, logvar))

# float32 in, float32 out.
mu32, logvar32 = torch.randn(3, 4), torch.randn(3, 4)
result32 = check_tensor(builder.standard_normal_kl(mu32, logvar32), "standard_normal_kl in float32", shape=(3,),
                        dtype=torch.float32)
check_close(result32, _reference(mu32.double(), logvar32.double()), "standard_normal_kl in float32", rtol=1e-5,
            atol=1e-5)

# Contract: q = p(z) exactly gives 0; large and small variances stay finite (no exp of a huge number).
zeros = torch.zeros(3, 4, dtype=torch.float64)
check_close(check_tensor(builder.standard_normal_kl(zeros, zeros), "KL(N(0, I) ‖ N(0, I))", shape=(3,)), 0.0, "KL(N(0, I) ‖ N(0, I))")
mu = torch.tensor([[0.0, 2.0], [-1.0, 0.5]], dtype=torch.float64)
logvar = torch.tensor([[-10.0, 5.0], [3.0, -6.0]], dtype=torch.float64)
name = "standard_normal_kl with log σ² in [−10, 5]"
result = check_tensor(builder.standard_normal_kl(mu, logvar), name, shape=(2,))
check_close(result, _reference(mu, logvar), name, mistakes=_mistakes(mu, logvar))

# Contract: gradients reach mu and logvar, so the encoder can be trained through this term.
mu = torch.randn(4, 3, requires_grad=True)
logvar = torch.randn(4, 3, requires_grad=True)
check_gradient_flows(builder.standard_normal_kl(mu, logvar), {"mu": mu, "logvar": logvar}, "standard_normal_kl(mu, logvar)")
print("standard_normal_kl: hidden tests passed.")
### END HIDDEN TESTS

# %% [markdown]
# **Picture: the price of one latent dimension.** The KL of one dimension as a function of $\mu$ and
# $\log\sigma^2$ (left), and a slice at $\mu = 0$ (right). The minimum, $0$, is at the prior itself.

# %%
mu_axis = torch.linspace(-3, 3, 121)
logvar_axis = torch.linspace(-6, 3, 121)
mu_grid, logvar_grid = torch.meshgrid(mu_axis, logvar_axis, indexing="xy")
# A trailing latent_dim of 1: the method sums over it, leaving one KL per grid point.
kl_grid = kl.standard_normal_kl(mu_grid.unsqueeze(-1), logvar_grid.unsqueeze(-1))
slice_kl = kl.standard_normal_kl(torch.zeros(121, 1), logvar_axis.unsqueeze(-1))

fig, (ax_map, ax_slice) = plt.subplots(1, 2, figsize=(11, 4))
contours = ax_map.contourf(mu_axis, logvar_axis, kl_grid, levels=[0, 0.1, 0.25, 0.5, 1, 2, 3, 4, 6, 8], cmap="viridis")
fig.colorbar(contours, ax=ax_map, label="KL (nats)")
ax_map.plot(0, 0, "w*", markersize=12, label="q = p(z)")
ax_map.legend(loc="lower left")
label(ax_map, "KL(N(μ, σ²) ‖ N(0, 1)), one dimension", "μ", "log σ²")

ax_slice.plot(logvar_axis, slice_kl)
label(ax_slice, "At μ = 0: ½(σ² − 1 − log σ²)", "log σ²", "KL (nats)")
fig.tight_layout()
plt.show()

# %% [markdown]
# **Think:** at $\mu = 0$ the KL grows *linearly* as $\log\sigma^2 \to -\infty$ but *exponentially* as
# $\log\sigma^2 \to +\infty$. What does this asymmetry do to an encoder that wants very precise codes
# (small $\sigma$) for reconstruction? And why is a sum over dimensions, not a mean, the right
# reduction? (What is the KL between two products of independent factors? A mean would charge a VAE
# with $d = 64$ latents as if it had one: what would that do to the balance with its reconstruction?)

# %% [markdown]
# ## 5. Check all three against torch.distributions
#
# Before building on them, compare your three methods with PyTorch's own `kl_divergence` on a few
# cases, including the Monte Carlo estimate with its standard error (one batched call of $10^5$
# samples each). The closed form should agree with `kl_divergence` to every printed digit, and each
# Monte Carlo estimate should lie within a few standard errors of it.

# %%
torch.manual_seed(0)
cases = [(1.0, 0.8, 0.0, 1.0), (0.0, 0.5, 1.0, 1.5), (0.0, 1.5, 1.0, 0.5), (-2.0, 0.3, 2.0, 3.0)]
n_samples = runtime.scaled(100_000, 10_000)
print(f"{'p':<13} {'q':<13} | {'closed form':>11} {'torch':>9} | Monte Carlo ± SE")
for mu_p, sd_p, mu_q, sd_q in cases:
    p, q = Normal(torch.tensor(mu_p), torch.tensor(sd_p)), Normal(torch.tensor(mu_q), torch.tensor(sd_q))
    x = p.sample((n_samples,))
    closed = kl.gaussian_kl_closed_form(p.loc, p.scale, q.loc, q.scale)
    estimate = as_float(kl.monte_carlo_kl(x, p.log_prob, q.log_prob), "monte_carlo_kl")
    standard_error = (p.log_prob(x) - q.log_prob(x)).std().item() / math.sqrt(n_samples)
    print(
        f"N({mu_p:+.1f}, {sd_p:.1f}²) N({mu_q:+.1f}, {sd_q:.1f}²) | {closed.item():11.5f} "
        f"{kl_divergence(p, q).item():9.5f} | {estimate:9.5f} ± {standard_error:.5f}"
    )

mu_batch, logvar_batch = torch.randn(4, 8), torch.randn(4, 8)
reference = kl_divergence(
    Normal(mu_batch, (0.5 * logvar_batch).exp()), Normal(torch.zeros(4, 8), torch.ones(4, 8))
).sum(-1)
print("\nstandard_normal_kl:", kl.standard_normal_kl(mu_batch, logvar_batch).numpy().round(5))
print("torch.distributions:", reference.numpy().round(5))

# %% [markdown]
# ## 6. Asymmetry: which regions each direction punishes
#
# **Why it matters.** Choosing a KL direction is choosing which mistakes are expensive. In
# $\mathrm{KL}(p\,\|\,q) = \int p \log(p/q)$ the log-ratio is weighted by $p$: wherever $p$ has mass and
# $q$ has almost none, $\log(p/q)$ is huge. In $\mathrm{KL}(q\,\|\,p) = \int q \log(q/p)$ the weight is $q$:
# where $q$ has no mass the integrand vanishes, so mass of $p$ that $q$ ignores is charged only
# indirectly (since $p$ integrates to 1, it is then smaller where $q$ lives), never as a blow-up:
# section 7 prices an ignored mode of weight ½ at about $\log 2$.
#
# The method below (provided) takes a narrow $p = \mathcal{N}(0, 0.5^2)$ and a wide
# $q = \mathcal{N}(1, 1.5^2)$, prints both directions with Monte Carlo checks, and draws the
# integrands: the shaded area under each is the KL itself.

# %%
@add_to_class(KLDivergenceBuilder)
def explore_kl_asymmetry(self, mu_p=0.0, sigma_p=0.5, mu_q=1.0, sigma_q=1.5, n_samples=100_000):
    """Print KL(p‖q) and KL(q‖p) for p = N(mu_p, sigma_p²), q = N(mu_q, sigma_q²), and plot why they differ."""
    p = Normal(torch.tensor(mu_p), torch.tensor(sigma_p))
    q = Normal(torch.tensor(mu_q), torch.tensor(sigma_q))
    forward = self.gaussian_kl_closed_form(p.loc, p.scale, q.loc, q.scale)
    reverse = self.gaussian_kl_closed_form(q.loc, q.scale, p.loc, p.scale)
    # Each direction's Monte Carlo estimate needs samples of its own first argument.
    forward_mc = self.monte_carlo_kl(p.sample((n_samples,)), p.log_prob, q.log_prob)
    reverse_mc = self.monte_carlo_kl(q.sample((n_samples,)), q.log_prob, p.log_prob)
    print(f"p = N({mu_p}, {sigma_p}²) [narrow], q = N({mu_q}, {sigma_q}²) [wide]")
    print(f"KL(p‖q) = {forward.item():.4f}   (Monte Carlo {as_float(forward_mc, 'monte_carlo_kl'):.4f})")
    print(f"KL(q‖p) = {reverse.item():.4f}   (Monte Carlo {as_float(reverse_mc, 'monte_carlo_kl'):.4f})")
    self.visualize_asymmetry(p, q)


@add_to_class(KLDivergenceBuilder)
def visualize_asymmetry(self, p: Normal, q: Normal):
    """Four panels: the densities, the integrand of each direction, and both directions as q's width varies."""
    def span(n_sd: float) -> tuple[float, float]:
        return min(p.loc - n_sd * p.scale, q.loc - n_sd * q.scale).item(), max(p.loc + n_sd * p.scale, q.loc + n_sd * q.scale).item()

    # Integrate over 6 standard deviations either side, so each shaded area is the KL; draw 3.5.
    x = torch.linspace(*span(6.0), 2000)
    view = span(3.5)
    log_p, log_q = p.log_prob(x), q.log_prob(x)
    fig, axes = plt.subplots(2, 2, figsize=(11, 8))

    axes[0, 0].plot(x, log_p.exp(), label=f"p = N({p.loc.item():g}, {p.scale.item():g}²)")
    axes[0, 0].plot(x, log_q.exp(), label=f"q = N({q.loc.item():g}, {q.scale.item():g}²)")
    axes[0, 0].set_xlim(*view)
    axes[0, 0].legend()
    label(axes[0, 0], "The two densities", "x", "density")

    for ax, log_first, log_second, colour, text in (
        (axes[0, 1], log_p, log_q, "C0", "p(x) log p(x)/q(x): area = KL(p‖q)"),
        (axes[1, 0], log_q, log_p, "C1", "q(x) log q(x)/p(x): area = KL(q‖p)"),
    ):
        integrand = log_first.exp() * (log_first - log_second)
        area = torch.trapezoid(integrand, x).item()
        ax.plot(x, integrand, color=colour)
        ax.fill_between(x, integrand, color=colour, alpha=0.3)
        ax.axhline(0.0, color="k", lw=0.8)
        ax.set_xlim(*view)
        label(ax, f"{text} = {area:.3f}", "x", "integrand")

    widths = torch.linspace(0.2, 3.0, 200)
    forward = self.gaussian_kl_closed_form(p.loc, p.scale, q.loc, widths)
    reverse = self.gaussian_kl_closed_form(q.loc, widths, p.loc, p.scale)
    axes[1, 1].plot(widths, forward, label="KL(p‖q)")
    axes[1, 1].plot(widths, reverse, "--", label="KL(q‖p)")
    axes[1, 1].axvline(q.scale.item(), color="k", lw=0.8, ls=":", label="the q above")
    axes[1, 1].set_ylim(0, 8)
    axes[1, 1].legend()
    label(axes[1, 1], f"Both directions as q's width varies (q's mean {q.loc.item():g})", "σ_q", "KL (nats)")
    fig.tight_layout()
    plt.show()


# %%
torch.manual_seed(0)
kl.explore_kl_asymmetry(n_samples=runtime.scaled(100_000, 10_000))

# %% [markdown]
# Read the integrands. For $\mathrm{KL}(p\,\|\,q)$ the wide $q$ covers the narrow $p$ everywhere, so the
# log-ratio stays moderate where $p$ has mass: a small KL. For $\mathrm{KL}(q\,\|\,p)$, $q$ puts mass in
# the tails where the narrow $p$ is nearly zero and $\log(q/p)$ grows quadratically: a large KL.
#
# **Think:** the integrand $p\log(p/q)$ is negative in places, yet its area is never negative. Which
# inequality of section 1 guarantees that? In the bottom-right panel, which direction tolerates a $q$
# that is too wide, and which tolerates one that is too narrow?

# %% [markdown]
# ## 7. Beyond one Gaussian: mode-covering and mode-seeking
#
# **Why it matters.** A Gaussian $q$ cannot represent a posterior with two modes. Which compromise it
# makes depends entirely on the KL direction we minimise, and that choice decides whether an
# approximate posterior is over-confident or over-dispersed.
#
# **The mathematics.** Let $p$ be a mixture $w\,\mathcal{N}(-s/2, 0.7^2) + (1-w)\,\mathcal{N}(s/2, 0.7^2)$ and
# $q = \mathcal{N}(\mu, \sigma^2)$.
#
# * **Forward, $\min_q \mathrm{KL}(p\,\|\,q)$.** Only $-\mathbb{E}_p[\log q(x)]$ depends on $q$, and
#   $$-\mathbb{E}_p[\log q(x)] = \log\sigma + \frac{\operatorname{Var}_p[x] + (\mathbb{E}_p[x]-\mu)^2}{2\sigma^2} + \text{const},$$
#   which is minimised by **moment matching**: $\mu = \mathbb{E}_p[x]$, $\sigma^2 = \operatorname{Var}_p[x]$. The
#   fit covers both modes and puts mass in the valley between them (*mode-covering*).
# * **Reverse, $\min_q \mathrm{KL}(q\,\|\,p)$.** The expectation is under $q$, so mass of $q$ where
#   $p \approx 0$ is very expensive, while a mode of $p$ that $q$ ignores costs little. Once the modes
#   are well separated the fit locks on to one of them (*mode-seeking*); each mode is then a local
#   optimum, so we optimise from two starts and keep the better one. With a shallow valley between
#   the modes, one broad Gaussian between them can be the cheaper compromise (printed below).
#
# The helper below (provided) fits $\mu$ and $\log\sigma$ with Adam. Both KLs are 1-D integrals, so it
# computes them on a fixed quadrature grid (trapezoid rule) in log space: deterministic and
# differentiable in $\mu, \log\sigma$, with no sampling noise.

# %%
GRID = torch.linspace(-12.0, 12.0, 1201)  # wide enough for every target the sliders below allow


def kl_on_grid(log_first: torch.Tensor, log_second: torch.Tensor) -> torch.Tensor:
    """KL(first ‖ second) = ∫ first · (log first − log second) on GRID, from log-densities on GRID."""
    return torch.trapezoid(log_first.exp() * (log_first - log_second), GRID)


def fit_gaussian(target, direction: str, start_mu: float, steps: int) -> Normal:
    """Fit q = N(μ, σ²) to a 1-D target by minimising KL(target‖q) ("forward") or KL(q‖target) ("reverse")."""
    log_target = target.log_prob(GRID)  # fixed during the fit: compute it once
    mu = torch.tensor(start_mu, requires_grad=True)
    log_sigma = torch.tensor(0.0, requires_grad=True)  # optimise log σ so that σ stays positive
    optimizer = torch.optim.Adam([mu, log_sigma], lr=0.1)
    for _ in range(steps):  # fast: 200 steps on a fixed grid (the forward fit reaches moment matching, printed below)
        log_q = Normal(mu, log_sigma.exp()).log_prob(GRID)
        loss = kl_on_grid(log_target, log_q) if direction == "forward" else kl_on_grid(log_q, log_target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return Normal(mu.detach(), log_sigma.exp().detach())


def fit_both(target, steps: int = runtime.scaled(200, 60)) -> tuple[Normal, Normal]:
    """The forward-KL fit and the better of two reverse-KL fits (started left and right of 0)."""
    forward = fit_gaussian(target, "forward", 0.0, steps)
    starts = [fit_gaussian(target, "reverse", start, steps) for start in (-1.0, 1.0)]
    log_target = target.log_prob(GRID)
    reverse = min(starts, key=lambda q: kl_on_grid(q.log_prob(GRID), log_target).item())
    return forward, reverse


def draw_fits(ax, separation: float, weight: float) -> tuple[Normal, Normal]:
    """Plot the bimodal target and its two Gaussian fits on ax; return the fits."""
    target = bimodal_target(separation=separation, weight=weight)
    forward, reverse = fit_both(target)
    ax.fill_between(GRID, target.log_prob(GRID).exp(), color="0.8", label="target p (two modes)")
    ax.plot(GRID, forward.log_prob(GRID).exp(), lw=2, label="argmin KL(p‖q): mode-covering")
    ax.plot(GRID, reverse.log_prob(GRID).exp(), "--", lw=2, label="argmin KL(q‖p): mode-seeking")
    ax.set_xlim(-8, 8)
    ax.legend(loc="upper right")
    label(ax, f"One Gaussian fitted to two modes (s = {separation:g}, w = {weight:g})", "x", "density")
    return forward, reverse


# %% [markdown]
# **Picture: the two fits for the default target** ($s = 4$, $w = 0.5$), and the table of both
# divergences for both fits: each fit wins the objective it was fitted to.

# %%
fig, ax = plt.subplots(figsize=(8, 4.5))
forward_fit, reverse_fit = draw_fits(ax, separation=4.0, weight=0.5)
plt.show()

target = bimodal_target(separation=4.0, weight=0.5)
log_target = target.log_prob(GRID)
print(f"moment matching: μ = {target.mean.item():+.3f}, σ = {target.stddev.item():.3f}")
for fit_name, fit in (("forward-KL fit", forward_fit), ("reverse-KL fit", reverse_fit)):
    log_q = fit.log_prob(GRID)
    print(
        f"{fit_name}: μ = {fit.loc.item():+.3f}, σ = {fit.scale.item():.3f} | "
        f"KL(p‖q) = {kl_on_grid(log_target, log_q).item():.3f}, KL(q‖p) = {kl_on_grid(log_q, log_target).item():.3f}"
    )
print(f"log 2 = {math.log(2):.3f}")
for separation in (2.0, 3.0, 3.5):  # closer modes: does the reverse fit still pick one?
    _, reverse_close = fit_both(bimodal_target(separation=separation, weight=0.5))
    print(f"reverse-KL fit at s = {separation:g}: μ = {reverse_close.loc.item():+.3f}, σ = {reverse_close.scale.item():.3f}")

# %% [markdown]
# The forward fit reproduces the moment-matching formula. The reverse fit sits on one mode with
# $\sigma \approx 0.7$, and its $\mathrm{KL}(q\,\|\,p)$ is close to $\log 2$: near the mode it sits on,
# $m = \pm 2$ (the printed μ), $p(x) \approx \tfrac12\,\mathcal{N}(x; m, 0.7^2)$, so $\log q - \log p \approx \log 2$
# wherever $q$ lives.
#
# For closer modes the reverse fit does not pick one: at $s = 2$, $3$ and $3.5$ it sits between them
# ($\mu \approx 0$, printed), only narrower than the forward fit, because with a shallow valley one broad
# Gaussian is the cheaper reverse-KL compromise. Mode-seeking needs well-separated modes (here $s = 4$).
#
# **Try it.** Move the sliders (this needs a running kernel). Watch the reverse fit stay between the
# modes while $s$ is small and lock on to one as $s$ grows; then, with separated modes, watch it jump to
# the heavier mode when $w$ moves away from $0.5$. Below $s = 1.4$ ($2 \times 0.7$) the target has a single
# mode and the two fits nearly coincide.

# %%
def redraw_fits(separation: float = 4.0, weight: float = 0.5) -> None:
    fig, ax = plt.subplots(figsize=(8, 4.5))
    draw_fits(ax, separation, weight)
    plt.show()


controls = widgets.interactive(
    redraw_fits,
    separation=widgets.FloatSlider(value=4.0, min=0.5, max=8.0, step=0.5, continuous_update=False, description="separation s"),
    weight=widgets.FloatSlider(value=0.5, min=0.05, max=0.95, step=0.05, continuous_update=False, description="weight w"),
)
display(controls)

# %% [markdown]
# **Think:** with $w = 0.9$, which mode does the reverse fit choose, and roughly what is its
# $\mathrm{KL}(q\,\|\,p)$ (use the $\log 2$ argument above)? Why does the forward fit never have this
# choice to make?

# %% [markdown]
# ## 8. Written answer
#
# A VAE's encoder $q_\phi(z|x)$ is a diagonal Gaussian, trained by maximising the ELBO, that is by
# minimising $\mathrm{KL}(q_\phi(z|x)\,\|\,p_\theta(z|x))$. Suppose that for some $x$ the true posterior
# $p_\theta(z|x)$ has two well-separated modes of equal weight.
#
# 1. Using section 7, describe the $q_\phi(z|x)$ you expect, and what it means for the uncertainty
#    the VAE reports about $z$ and for the gap $\log p_\theta(x) - \mathrm{ELBO}$.
# 2. Why can't we simply minimise the forward $\mathrm{KL}(p_\theta(z|x)\,\|\,q_\phi(z|x))$ instead?
#
# Answer in the cell below (a few sentences each).

# %% [markdown] nbgrader={"grade_id": "kl-insight", "solution": true, "points": 2}
# ### BEGIN SOLUTION
# **Model answer.**
# 1. Reverse KL is mode-seeking: $q_\phi(z|x)$ sits on one of the two modes, with roughly that
#    mode's width, and ignores the other. The VAE therefore reports a posterior that is too confident:
#    it understates the uncertainty about $z$ and never proposes codes from the missed mode. The gap
#    $\log p_\theta(x) - \mathrm{ELBO} = \mathrm{KL}(q_\phi\,\|\,p_\theta(z|x))$ cannot close: for two
#    equal, well-separated modes it stays near $\log 2$ (where $q$ lives, $p_\theta(z|x)$ is about half a
#    Gaussian like $q$), so the bound is loose by about $\log 2$ nats however long we train $\phi$.
# 2. The forward KL is an expectation under $p_\theta(z|x)$: estimating it or its gradient needs
#    samples from the true posterior (and $\log p_\theta(z|x)$ needs the intractable $p_\theta(x)$).
#    Having no such samples is the very reason we approximate. The reverse KL only needs samples of
#    $q_\phi$, which we can reparameterise, and $\log p_\theta(x)$ enters it as a constant.
#
# **Rubric (2 points).**
# - 1 point: part 1 says $q$ picks one mode (mode-seeking) **and** gives a consequence: under-estimated
#   posterior variance / a missed mode, or a gap that stays positive (about $\log 2$). "q averages the
#   two modes" or "q covers both modes" earns 0 for this part.
# - 1 point: part 2 says the forward KL is an expectation under the intractable posterior (we cannot
#   sample it, or it needs $p_\theta(x)$). "Forward KL is not a valid divergence" or "it is not
#   differentiable" earns 0 for this part.
# ### END SOLUTION

# %% [markdown]
# ## Summary
#
# * $\mathrm{KL}(p\,\|\,q) = \mathbb{E}_p[\log p - \log q] \ge 0$ (Jensen), with equality only at $p = q$; it is
#   not symmetric.
# * Monte Carlo: average the log-ratio over samples of the **first** argument; the estimate is unbiased
#   and its standard error is $\operatorname{sd}[\log p - \log q]/\sqrt{N}$. Average over the sample axis only.
# * Gaussians: the closed form you derived in section 3 (a log of the ratio of widths, a quadratic term
#   in the means, a constant), and against $\mathcal{N}(0, I)$ its special case in `logvar` $= \log\sigma^2$,
#   summed over latent dimensions, one value per data point.
# * Variational inference minimises the reverse $\mathrm{KL}(q\,\|\,p)$: computable because the
#   expectation is under $q$ and $\log p_\theta(x)$ is a constant; the price is mode-seeking,
#   over-confident approximations. The forward KL is mode-covering and, for a Gaussian $q$, moment matching.
#
# **Questions to think about.**
# 1. The VAE loss is $-\mathrm{ELBO} = -\mathbb{E}_{q_\phi}[\log p_\theta(x|z)] + \beta\,\mathrm{KL}(q_\phi(z|x)\,\|\,p(z))$ with
#    $\beta = 1$. What does the closed form of section 4 push $\mu$ and $\log\sigma^2$ towards, and what
#    stops them from getting there?
# 2. If your encoder's KL term collapses to $0$ for every $x$ early in training, the latent code carries
#    no information. Would you increase or decrease $\beta$ (or warm it up from $0$), and why?
# 3. The Monte Carlo estimate with $K$ samples per data point is unbiased for the KL. Is
#    $\log$ of a Monte Carlo average of $p_\theta(x|z_k)p(z_k)/q_\phi(z_k|x)$ unbiased for $\log p_\theta(x)$?
#    (Hint: Jensen's inequality, as in section 1.)
# 4. Which fit of section 7 would you rather use as an importance-sampling proposal for the bimodal
#    target, and why does the answer favour the forward direction?
