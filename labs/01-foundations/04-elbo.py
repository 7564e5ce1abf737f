# %% [markdown]
# # Lab 1.4: The ELBO, built by hand
#
# Many latent-variable models, from the variational autoencoder (VAE) to (in a reweighted form) the
# diffusion model, are trained by maximising the same quantity: the **evidence lower bound** (ELBO). In this notebook you
# build it from its parts, check each part against the mathematics, train a small VAE with it, and
# then measure exactly how far below the true log-likelihood it sits.
#
# **Learning objectives.** By the end you can
# 1. derive the ELBO from log p(x) and say what its gap to log p(x) is;
# 2. implement the reparameterisation trick and explain why it lets gradients reach the encoder;
# 3. implement the two ELBO terms: the Gaussian log-likelihood E_q[log p_θ(x|z)] and the closed-form
#    KL(q_φ(z|x) ‖ p(z));
# 4. train a VAE on 2-D data and read its training curves;
# 5. verify, on a model whose log p(x) is known exactly, that ELBO ≤ log p(x), with equality when
#    q_φ(z|x) is the true posterior.
#
# **Prerequisites.** Notebooks 1.1 to 1.3 (the intractable likelihood, KL divergence, Jensen's
# inequality); Gaussian densities; PyTorch modules and autograd.
#
# **Estimated time.** 65 minutes.
#
# **How this notebook is graded.** One derivation written out (graded by hand, per step) and one entered
# as a SymPy expression, four methods to fill in (each with a visible and a hidden test), a failure case
# to find and one written answer (graded by hand). The visible tests check properties (a density
# integrates to 1, KL(p‖p) = 0, a bound and its equality case), never the formula.

# %%
import math

import ipywidgets as widgets
import matplotlib.pyplot as plt
import sympy
import torch
import torch.nn as nn
from matplotlib.patches import Ellipse
from torch.distributions import Normal, kl_divergence
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
from labkit.plots import label, scatter_2d, training_curves, use_course_style
from labkit.toy import make_linear_gaussian, make_spiral

torch.set_num_threads(1)  # the networks here are tiny: no time goes into splitting them across cores
seed_everything(0)
use_course_style()
print(runtime.describe())

# %% [markdown]
# ## 1. The data and the bound
#
# We model a noisy 2-D spiral. We standardise it (zero mean, unit variance per coordinate) so that a
# decoder variance of about 1 means "I explain nothing" and a small one means "I explain the data well".

# %%
raw_spiral = make_spiral(n_samples=500, noise=0.1)
data = (raw_spiral - raw_spiral.mean(dim=0)) / raw_spiral.std(dim=0)

fig, ax = plt.subplots(figsize=(4.5, 4.5))
scatter_2d(ax, data, "The standardised spiral (500 points)")
plt.show()

# %% [markdown]
# **Why a bound?** A latent-variable model says: draw z ~ p(z) = N(0, I), then x ~ p_θ(x|z). Its
# likelihood $p_\theta(x) = \int p_\theta(x|z)\,p(z)\,dz$ is an integral we cannot compute for a neural
# decoder, and the posterior $p_\theta(z|x) = p_\theta(x|z)p(z)/p_\theta(x)$ needs that same integral.
# So we bring in an encoder $q_\phi(z|x)$ that we *can* sample from and evaluate, and rewrite the
# integral as an expectation under it:
#
# $$
# \log p_\theta(x) = \log \int q_\phi(z|x)\,\frac{p_\theta(x, z)}{q_\phi(z|x)}\,dz
#                  = \log \mathbb{E}_{q_\phi(z|x)}\!\left[\frac{p_\theta(x, z)}{q_\phi(z|x)}\right]
#                  \;\ge\; \mathbb{E}_{q_\phi(z|x)}\!\left[\log \frac{p_\theta(x, z)}{q_\phi(z|x)}\right]
#                  =: \mathrm{ELBO}(x).
# $$
#
# The inequality is Jensen's (log is concave). Splitting $p_\theta(x, z) = p_\theta(x|z)\,p(z)$ gives the
# two terms you will implement:
#
# $$
# \mathrm{ELBO}(x) = \underbrace{\mathbb{E}_{q_\phi(z|x)}[\log p_\theta(x|z)]}_{\text{reconstruction}}
#                  \;-\; \underbrace{\mathrm{KL}(q_\phi(z|x)\,\|\,p(z))}_{\text{regularisation}} .
# $$
#
# How loose is the bound? **Derive it yourself**: show that
# $\log p_\theta(x) - \mathrm{ELBO}(x)$ is a KL divergence between $q_\phi(z|x)$ and the true posterior
# $p_\theta(z|x)$ (which direction?), and say when it is zero. Start from
# $\log p_\theta(x) = \mathbb{E}_{q}[\log p_\theta(x)]$ (a constant in $z$) and
# $p_\theta(x) = p_\theta(x, z)/p_\theta(z|x)$. Write your steps in the cell below; section 6 measures
# the gap you find.

# %% [markdown] nbgrader={"grade_id": "derive-elbo-steps", "solution": true, "points": 2}
# ### BEGIN SOLUTION
# **Model answer.**
# 1. $\log p_\theta(x)$ does not depend on $z$, so $\log p_\theta(x) = \mathbb{E}_{q}[\log p_\theta(x)]
#    = \mathbb{E}_{q}\big[\log \frac{p_\theta(x, z)}{p_\theta(z|x)}\big]$ (Bayes' rule, for every $z$).
# 2. Multiply and divide by $q_\phi(z|x)$ inside the log:
#    $\log p_\theta(x) = \mathbb{E}_{q}\big[\log \frac{p_\theta(x, z)}{q_\phi(z|x)}\big]
#    + \mathbb{E}_{q}\big[\log \frac{q_\phi(z|x)}{p_\theta(z|x)}\big] = \mathrm{ELBO}(x) + \mathrm{KL}(q_\phi(z|x)\,\|\,p_\theta(z|x))$.
# 3. The KL is $\ge 0$ and zero exactly when $q_\phi(z|x) = p_\theta(z|x)$ (almost everywhere), so the
#    ELBO is a lower bound that is tight exactly at the true posterior; the expectation is under $q$,
#    so it is the reverse KL of notebook 1.2.
#
# **Rubric (2 points).**
# - 1 point: steps 1 and 2, the identity $\log p = \mathrm{ELBO} + \mathrm{KL}(q\,\|\,p(z|x))$ with the
#   KL in this direction (an expectation under $q$). Using Jensen's inequality instead gives only
#   $\log p \ge \mathrm{ELBO}$, not the identity: 0 for this point.
# - 1 point: step 3, the gap is $\ge 0$ and is zero if and only if $q$ is the true posterior.
# ### END SOLUTION

# %% [markdown]
# **The identity in a model you can solve by hand.** Take one latent and one observed dimension:
# $p(z) = \mathcal{N}(0, 1)$, $p_\theta(x|z) = \mathcal{N}(z, \sigma^2)$, and $q(z) = \mathcal{N}(m, v)$ with
# mean $m$ and **variance** $v$. Derive $\mathrm{ELBO}(x) = \mathbb{E}_q[\log p_\theta(x|z)] -
# \mathrm{KL}(q\,\|\,p(z))$ in closed form (you need $\mathbb{E}_q[(x - z)^2]$, and the KL of notebook
# 1.2 with $\sigma_1^2 = v$), and enter it as a SymPy expression in `x, m, v, sigma`. The visible test
# checks what your derivation says it must: the ELBO is below $\log p(x)$, with equality at the exact
# posterior.

# %%
x_s, m_s = sympy.symbols("x m", real=True)
v_s, sigma_s = sympy.symbols("v sigma", positive=True)
ELBO_SYMBOLS = (x_s, m_s, v_s, sigma_s)

# %% nbgrader={"grade_id": "derive-elbo", "solution": true}
def derived_elbo(x, m, v, sigma):
    """ELBO(x) for p(z) = N(0, 1), p(x|z) = N(z, σ²), q(z) = N(m, v), as a SymPy expression.

    Contract:
        - a SymPy expression in x, m, v, sigma only, real and finite for v, σ > 0;
        - equal, for every value of the four symbols, to E_q[log p(x|z)] − KL(q ‖ p(z)) (any form).
    """
    ### BEGIN SOLUTION
    reconstruction = -sympy.log(2 * sympy.pi * sigma**2) / 2 - ((x - m) ** 2 + v) / (2 * sigma**2)
    kl_to_prior = (m**2 + v - 1 - sympy.log(v)) / 2
    return reconstruction - kl_to_prior
    ### END SOLUTION


# %% nbgrader={"grade_id": "derive-elbo-visible", "points": 1}
# Visible test: the bound and its equality case, at numbers; nothing here is the ELBO's formula.
name = "derived_elbo(x, m, v, sigma)"
elbo_expression = check_expression(derived_elbo(*ELBO_SYMBOLS), name, symbols=ELBO_SYMBOLS,
                                   points=[{x_s: 0.4, m_s: -0.2, v_s: 0.6, sigma_s: 0.9}])
x_value, noise = 1.3, 0.7
# The marginal is Gaussian: x = z + noise has variance 1 + σ²; the posterior is Gaussian too.
log_evidence = Normal(torch.tensor(0.0, dtype=torch.float64), math.sqrt(1 + noise**2)).log_prob(
    torch.tensor(x_value, dtype=torch.float64)).item()
posterior_mean, posterior_var = x_value / (1 + noise**2), noise**2 / (1 + noise**2)
at = lambda mean, var: float(elbo_expression.subs({x_s: x_value, m_s: mean, v_s: var, sigma_s: noise}))
check_close(at(posterior_mean, posterior_var), log_evidence, name + " at the exact posterior", rtol=1e-9, atol=1e-9)
for mean, var in ((0.0, 1.0), (posterior_mean + 0.5, posterior_var), (posterior_mean, 3 * posterior_var)):
    assert at(mean, var) < log_evidence - 1e-6, f"{name} is not below log p(x) at m = {mean:.2f}, v = {var:.2f}."
print("derived_elbo: visible tests passed.")

# %% nbgrader={"grade_id": "derive-elbo-hidden", "points": 2}
# Hidden tests for derived_elbo run when your notebook is graded.
### BEGIN HIDDEN TESTS
# Contract: symbolic equivalence with E_q[log N(x; z, σ²)] − KL(N(m, v) ‖ N(0, 1)), whatever the form.
name = "derived_elbo(x, m, v, sigma)"
_reference_elbo = (-sympy.log(2 * sympy.pi) / 2 - sympy.log(sigma_s) - ((x_s - m_s) ** 2 + v_s) / (2 * sigma_s**2)
                   - (m_s**2 + v_s - 1 - sympy.log(v_s)) / 2)
_domain = {x_s: (-3.0, 3.0), m_s: (-3.0, 3.0), v_s: (0.05, 4.0), sigma_s: (0.1, 3.0)}
check_equivalent(derived_elbo(*ELBO_SYMBOLS), _reference_elbo, name, symbols=ELBO_SYMBOLS, sample=_domain)
check_equivalent(derived_elbo(*sympy.symbols("x m v sigma")), _reference_elbo, name + " with plain symbols",
                 symbols=ELBO_SYMBOLS, sample=_domain)
print("derived_elbo: hidden tests passed.")
### END HIDDEN TESTS

# %% [markdown]
# ## 2. The model
#
# `ELBOFramework` is a tiny VAE and a real `nn.Module`, so `model.parameters()` finds the encoder, the
# decoder and the decoder's log-variance without any help.
#
# - Encoder: x ↦ (μ, log σ²), the parameters of $q_\phi(z|x) = \mathcal{N}(\mu, \operatorname{diag}\sigma^2)$.
# - Decoder: z ↦ the mean of $p_\theta(x|z) = \mathcal{N}(\text{decoder}(z), \sigma_x^2 I)$, with one learned
#   scalar $\log\sigma_x^2$ (`decoder_logvar`) shared by every coordinate. It starts at $\log\sigma_x^2 = -3$
#   (a confident decoder), a common guard against early training settling on "z is useless, call
#   everything noise".
#
# The four methods you write are attached one cell at a time with `@add_to_class(ELBOFramework)`.

# %%
class ELBOFramework(nn.Module):
    """A VAE with a Gaussian encoder q_φ(z|x), a Gaussian decoder p_θ(x|z) and prior p(z) = N(0, I)."""

    def __init__(self, latent_dim: int = 2, data_dim: int = 2, hidden_dim: int = 32):
        super().__init__()
        self.latent_dim = latent_dim
        self.data_dim = data_dim
        self.encoder = nn.Sequential(
            nn.Linear(data_dim, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, 2 * latent_dim)
        )
        self.decoder = nn.Sequential(nn.Linear(latent_dim, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, data_dim))
        self.decoder_logvar = nn.Parameter(torch.full((1,), -3.0))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The parameters of q_φ(z|x): μ and log σ², each of shape (batch, latent_dim)."""
        mu, logvar = self.encoder(x).chunk(2, dim=-1)
        return mu, logvar


# %% [markdown]
# ## 3. The reparameterisation trick
#
# **Why it matters.** The reconstruction term is an expectation under $q_\phi(z|x)$, which depends on the
# encoder's parameters φ. If we draw z with a black-box sampler, the sample carries no gradient back to
# φ and the encoder never learns. The trick moves the randomness into a parameter-free noise ε:
#
# $$
# z = \mu + \sigma \odot \varepsilon, \qquad \sigma = \exp\!\big(\tfrac12 \log\sigma^2\big), \qquad
# \varepsilon \sim \mathcal{N}(0, I),
# $$
#
# so z has the law $\mathcal{N}(\mu, \operatorname{diag}\sigma^2)$ and $\partial z/\partial\mu = 1$,
# $\partial z/\partial\sigma = \varepsilon$ are ordinary derivatives. Two details matter: σ is
# $\exp(\frac12\log\sigma^2)$, not $\exp(\log\sigma^2)$ (that is the variance); and every element of
# the batch gets its own ε (one shared ε makes all rows with the same μ, σ identical).

# %% nbgrader={"grade_id": "reparameterize", "solution": true}
@add_to_class(ELBOFramework)
def reparameterize(self, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Draw z ~ N(μ, diag σ²) as z = μ + σ ⊙ ε, so that gradients reach μ and log σ².

    Args:
        mu: μ, shape (..., latent_dim).
        logvar: log σ², same shape as mu.

    Returns:
        z, same shape as mu, with a fresh ε ~ N(0, 1) for every element.

    Contract:
        - the shape and the floating dtype of mu, for any number of leading dimensions;
        - z ~ N(μ, diag σ²) with σ = exp(½ log σ²): right mean and variance, independent coordinates and rows;
        - a fresh ε at every call, from torch's global generator (two calls are independent; the same
          torch.manual_seed gives the same z);
        - differentiable: ∂z/∂μ = 1 and ∂z/∂log σ² = ½ σ ε;
        - mu and logvar are left unchanged.
    """
    ### BEGIN SOLUTION
    std = torch.exp(0.5 * logvar)
    eps = torch.randn_like(std)
    return mu + std * eps
    ### END SOLUTION


# %% nbgrader={"grade_id": "reparameterize-visible", "points": 2}
torch.manual_seed(0)
_model = ELBOFramework(latent_dim=3)
_mu = torch.randn(5, 3, requires_grad=True)
_logvar = torch.randn(5, 3, requires_grad=True)
_z = _model.reparameterize(_mu, _logvar)
check_tensor(_z, "reparameterize(mu, logvar)", shape=(5, 3))
check_gradient_flows(_z, {"mu": _mu, "logvar": _logvar}, "reparameterize(mu, logvar)")
# With log σ² = -50, σ = e^-25 is negligible: z must equal μ.
_tiny = _model.reparameterize(_mu.detach(), torch.full((5, 3), -50.0))
check_close(_tiny, _mu.detach(), "reparameterize(mu, logvar = -50)", atol=1e-6)
print("reparameterize: visible tests passed.")

# %% nbgrader={"grade_id": "reparameterize-hidden", "points": 2}
# Hidden tests for reparameterize run when your notebook is graded.
### BEGIN HIDDEN TESTS
# Contract: shape and dtype of mu.
torch.manual_seed(11)
_model = ELBOFramework(latent_dim=3)
for _shape in [(1, 3), (7, 3), (4, 6, 3)]:
    check_tensor(
        _model.reparameterize(torch.randn(_shape), torch.randn(_shape)), f"reparameterize on shape {_shape}", shape=_shape
    )
check_tensor(
    _model.reparameterize(torch.randn(4, 3, dtype=torch.float64), torch.randn(4, 3, dtype=torch.float64)),
    "reparameterize on float64 input",
    shape=(4, 3),
    dtype=torch.float64,
)

# Contract: z ~ N(μ, diag σ²). Statistics of n draws, all in ONE batched call (one row per draw).
_n = 40_000
_mu_row = torch.tensor([1.0, -0.5, 2.0])
_logvar_row = torch.tensor([0.8, -1.2, 1.5])
_var_row = _logvar_row.exp()
_z = _model.reparameterize(_mu_row.repeat(_n, 1), _logvar_row.repeat(_n, 1)).detach()
check_tensor(_z, "reparameterize on a batch of 40000 rows", shape=(_n, 3))
for _d in range(3):
    # The sample mean of n i.i.d. N(μ, σ²) draws has standard error σ / √n.
    check_statistic(
        _z[:, _d].mean(), float(_mu_row[_d]), math.sqrt(_var_row[_d] / _n), f"the mean of z[:, {_d}] (target μ)"
    )
    # The sample variance of n Gaussian draws has variance 2σ⁴/(n − 1), so its standard error is
    # σ²·√(2/(n − 1)).
    check_statistic(
        _z[:, _d].var(),
        float(_var_row[_d]),
        float(_var_row[_d]) * math.sqrt(2 / (_n - 1)),
        f"the variance of z[:, {_d}] (target σ² = exp(log σ²); is σ = exp(½ log σ²)?)",
    )
# Independent coordinates: the sample correlation of two independent coordinates has standard error
# about 1/√n.
_eps = (_z - _mu_row) / _var_row.sqrt()
_corr = (_eps[:, 0] * _eps[:, 1]).mean()
check_statistic(_corr, 0.0, 1 / math.sqrt(_n), "the correlation of ε between two latent coordinates (one ε per row?)")
# Normal, not only mean 0 and variance 1: the fraction of |ε| > 2 is 2(1 − Φ(2)) ≈ 0.0455 for a normal
# (a unit-variance uniform never exceeds √3); over 3n draws it is a Bernoulli mean with SE √(p(1 − p)/(3n)).
_p_tail = math.erfc(2 / math.sqrt(2))
check_statistic((_eps.abs() > 2).double().mean(), _p_tail, math.sqrt(_p_tail * (1 - _p_tail) / (3 * _n)),
                "the fraction of |ε| > 2 (4.55% for a normal ε: is ε drawn with torch.randn_like?)")
# Independent rows: rows with the same μ and σ must still differ.
if torch.allclose(_z[0], _z[1]):
    raise AssertionError("Rows with the same μ and σ got the same z: draw a fresh ε for every row (torch.randn_like).")

# Contract: a fresh ε at every call. A second call with the same μ and σ must draw an independent ε:
# the mean of ε₁ε₂ over n independent pairs has standard error 1/√n.
_z_again = _model.reparameterize(_mu_row.repeat(_n, 1), _logvar_row.repeat(_n, 1)).detach()
_eps_again = (_z_again - _mu_row) / _var_row.sqrt()
for _d in range(3):
    check_statistic((_eps[:, _d] * _eps_again[:, _d]).mean(), 0.0, 1 / math.sqrt(_n),
                    f"the correlation of ε[:, {_d}] between two calls (is the generator re-seeded inside?)")
torch.manual_seed(5)
_first = _model.reparameterize(torch.zeros(4, 3), torch.zeros(4, 3))
torch.manual_seed(5)
if not torch.equal(_first, _model.reparameterize(torch.zeros(4, 3), torch.zeros(4, 3))):
    raise AssertionError("reparameterize gave another z after the same torch.manual_seed: draw ε from torch's global "
                         "generator (torch.randn_like), not NumPy or a generator of your own.")

# Contract: differentiable, with the right derivatives. For z = μ + σ ε and any weights v,
# ∂(v·z)/∂μ = v and ∂(v·z)/∂log σ² = ½ v σ ε = ½ v (z − μ).
_mu = torch.randn(6, 3, requires_grad=True)
_logvar = torch.randn(6, 3, requires_grad=True)
check_gradient_flows(_model.reparameterize(_mu, _logvar), {"mu": _mu, "logvar": _logvar}, "reparameterize(mu, logvar)")
_z = _model.reparameterize(_mu, _logvar)
_v = torch.randn(6, 3)
_grad_mu, _grad_logvar = torch.autograd.grad((_z * _v).sum(), [_mu, _logvar])
check_close(_grad_mu, _v, "the gradient of reparameterize(mu, logvar) with respect to mu", rtol=1e-4, atol=1e-5)
check_close(_grad_logvar, 0.5 * _v * (_z.detach() - _mu.detach()),
            "the gradient of reparameterize(mu, logvar) with respect to logvar", rtol=1e-4, atol=1e-5, mistakes={
                "z = μ + exp(log σ²)·ε: σ is exp(½ log σ²)": _v * (_z.detach() - _mu.detach()),
            })

# Contract: mu and logvar are left unchanged.

_mu, _logvar = torch.randn(6, 3), torch.randn(6, 3)
_mu_before, _logvar_before = _mu.clone(), _logvar.clone()
_model.reparameterize(_mu, _logvar)
check_unchanged(_mu_before, _mu, "mu")
check_unchanged(_logvar_before, _logvar, "logvar")
### END HIDDEN TESTS

# %% [markdown]
# **Picture.** 20,000 draws from one batched call, for two encoders' outputs, against the density
# $\mathcal{N}(\mu, \sigma^2)$ they should follow.

# %%
demo_model = ELBOFramework(latent_dim=1)
grid = torch.linspace(-5, 6, 400)
fig, ax = plt.subplots()
for mu_value, logvar_value, color in [(-1.0, math.log(0.25), "C0"), (2.0, math.log(2.0), "C1")]:
    n_draws = 20_000
    z_draws = demo_model.reparameterize(torch.full((n_draws, 1), mu_value), torch.full((n_draws, 1), logvar_value))
    ax.hist(z_draws.squeeze(1).numpy(), bins=80, density=True, alpha=0.4, color=color,
            label=f"draws, μ = {mu_value}, σ² = {math.exp(logvar_value):.2g}")
    density = Normal(mu_value, math.exp(0.5 * logvar_value)).log_prob(grid).exp()
    ax.plot(grid, density, color=color)
ax.legend()
label(ax, "Reparameterised draws follow N(μ, σ²)", "z", "density")
plt.show()

# %% [markdown]
# **Think:** `torch.normal(mu, std)` also returns draws from N(μ, σ²). Why is it useless for training
# the encoder, even though its samples are just as good? (Section 6.1 shows the gradient it returns.)

# %% [markdown]
# ## 4. The two ELBO terms
#
# ### 4.1 The reconstruction term
#
# **Why it matters.** This term rewards the decoder for putting high probability on the data point x
# when it is fed a code z drawn from q_φ(z|x). With a Gaussian decoder it is a *log-likelihood*, not a
# squared error: the squared error is scaled by the decoder's variance, and the normalising constant
# lets that variance be learned (a squared error alone cannot say how noisy the data is).
#
# For one sample $z \sim q_\phi(z|x)$, with decoder mean $\mu_\theta(z)$ and log-variance $\log\sigma_{x,i}^2$ per
# data coordinate i = 1, …, D (d stays the latent dimension):
#
# $$
# \log p_\theta(x|z) = \sum_{i=1}^{D} -\frac12\left[\log 2\pi + \log\sigma_{x,i}^2 + \frac{(x_i - \mu_{\theta,i}(z))^2}{\sigma_{x,i}^2}\right].
# $$
#
# Averaging this over z ~ q_φ(z|x) is E_q[log p_θ(x|z)]; one sample is an unbiased estimate of it.
#
# **Naming convention.** The method is called `reconstruction_loss`, as in much VAE code, but it **returns the
# log-likelihood**, a quantity to *maximise* (higher is better), exactly as it enters the ELBO. The
# training loss is the negative ELBO, and the minus sign is applied there, once.

# %% nbgrader={"grade_id": "reconstruction-loss", "solution": true}
@add_to_class(ELBOFramework)
def reconstruction_loss(
    self, x: torch.Tensor, x_recon_mu: torch.Tensor, x_recon_logvar: torch.Tensor
) -> torch.Tensor:
    """The Gaussian log-likelihood log p_θ(x|z), summed over data dimensions (higher is better).

    Args:
        x: the data, shape (..., data_dim).
        x_recon_mu: the decoder's mean for the sampled z, broadcastable to x's shape.
        x_recon_logvar: the decoder's log-variance log σ², broadcastable to x's shape.

    Returns:
        Shape (...,): log N(x; x_recon_mu, exp(x_recon_logvar)) summed over data_dim. It is the
        one-sample estimate of E_q[log p_θ(x|z)]; it is NOT negated.

    Contract:
        - shape (...,) (the last dimension summed, every leading one kept), the floating dtype of x;
        - the Gaussian log-density with its constant −½ log 2π and its −½ log σ² per dimension, for a
          log-variance of x's shape or one that broadcasts (a scalar);
        - deterministic; gradients reach x_recon_mu and x_recon_logvar;
        - the inputs are left unchanged.
    """
    ### BEGIN SOLUTION
    squared_error = (x - x_recon_mu) ** 2
    log_density = -0.5 * (math.log(2 * math.pi) + x_recon_logvar + squared_error / torch.exp(x_recon_logvar))
    return log_density.sum(dim=-1)
    ### END SOLUTION


# %% nbgrader={"grade_id": "reconstruction-loss-visible", "points": 2}
# Visible test: what any log-density must do (normalise, peak at its mean, have the stated variance),
# checked by numerical integration; nothing here writes the density out.
torch.manual_seed(1)
_model = ELBOFramework()
_name = "reconstruction_loss(x, x_recon_mu, x_recon_logvar)"
_x, _x_mu, _x_logvar = torch.randn(4, 2), torch.randn(4, 2), 0.5 * torch.randn(4, 2)
check_tensor(_model.reconstruction_loss(_x, _x_mu, _x_logvar), _name, shape=(4,), dtype=torch.float32)
# Independent coordinates: the value of a row is the sum of the values of its coordinates.
_columns = sum(_model.reconstruction_loss(_x[:, j : j + 1], _x_mu[:, j : j + 1], _x_logvar[:, j : j + 1]) for j in range(2))
check_close(_model.reconstruction_loss(_x, _x_mu, _x_logvar), _columns, _name + " against the sum over coordinates")
# One dimension, mean 0.3, log-variance −0.5, on a fine grid of x (float64): exp(value) integrates to 1,
# its variance is exp(−0.5), and it is largest at x = 0.3.
_grid = torch.linspace(-12.0, 12.0, 24001, dtype=torch.float64).unsqueeze(-1)
_mean, _logvar_1d = torch.tensor([0.3], dtype=torch.float64), torch.tensor([-0.5], dtype=torch.float64)
_density = check_tensor(_model.reconstruction_loss(_grid, _mean, _logvar_1d), _name + " on a grid", shape=(24001,)).exp()
_xs = _grid.squeeze(-1)
check_close(torch.trapezoid(_density, _xs), 1.0, "∫ exp(reconstruction_loss) dx (a density integrates to 1)", rtol=1e-6)
check_close(torch.trapezoid((_xs - 0.3) ** 2 * _density, _xs), math.exp(-0.5),
            "the variance of exp(reconstruction_loss) (it should be exp(x_recon_logvar))", rtol=1e-6)
assert abs(_xs[_density.argmax()].item() - 0.3) < 1e-3, f"{_name} does not peak at x = x_recon_mu."
print("reconstruction_loss: visible tests passed.")

# %% nbgrader={"grade_id": "reconstruction-loss-hidden", "points": 3}
# Hidden tests for reconstruction_loss run when your notebook is graded.
### BEGIN HIDDEN TESTS
# Contract: shape; the log-density with its constants.
torch.manual_seed(12)
_model = ELBOFramework()
_D = 3
_x, _x_mu, _x_logvar = torch.randn(6, _D), torch.randn(6, _D), 0.8 * torch.randn(6, _D)
_name = "reconstruction_loss(x, x_recon_mu, x_recon_logvar)"
_value = check_tensor(_model.reconstruction_loss(_x, _x_mu, _x_logvar), _name, shape=(6,))
_var = _x_logvar.exp()
_sq = (_x - _x_mu) ** 2
_expected = Normal(_x_mu, _var.sqrt()).log_prob(_x).sum(dim=-1)
_log2pi = math.log(2 * math.pi)
_mistakes = {
    "the sign is flipped: return log p(x|z), a log-likelihood to maximise, not its negative": -_expected,
    "the normalising constant -½·log 2π per dimension is missing": _expected + 0.5 * _log2pi * _D,
    "the factor ½ is missing": 2 * _expected,
    "averaged over data dimensions instead of summed": _expected / _D,
    "a plain squared error is not a Gaussian log-likelihood": _sq.sum(-1),
    "a plain negative squared error ignores the decoder variance and the normalising constant": -_sq.sum(-1),
    "(x - μ)² divided by σ = exp(½ log σ²) instead of the variance σ² = exp(log σ²)":
        (-0.5 * (_log2pi + _x_logvar + _sq / torch.exp(0.5 * _x_logvar))).sum(-1),
    "log σ² treated as log σ (variance taken as exp(2·logvar))":
        (-0.5 * (_log2pi + 2 * _x_logvar + _sq / torch.exp(2 * _x_logvar))).sum(-1),
    "the log σ² term is missing": (-0.5 * (_log2pi + _sq / _var)).sum(-1),
}
check_close(_value, _expected, _name, rtol=1e-4, atol=1e-4, mistakes=_mistakes)

# Contract: leading batch dimensions (e.g. K samples of z per data point) are kept; a scalar
# log-variance broadcasts; the dtype of x is kept.
_x3, _mu3 = torch.randn(4, 5, _D), torch.randn(4, 5, _D)
_logvar_scalar = torch.tensor([0.3])
_value3 = check_tensor(_model.reconstruction_loss(_x3, _mu3, _logvar_scalar), _name + " on shape (4, 5, 3)", shape=(4, 5))
check_close(_value3, Normal(_mu3, math.exp(0.15)).log_prob(_x3).sum(-1), _name + " on shape (4, 5, 3)",
            rtol=1e-4, atol=1e-4)
_x64, _mu64, _logvar64 = (_t.double() for _t in (_x, _x_mu, _x_logvar))
check_close(check_tensor(_model.reconstruction_loss(_x64, _mu64, _logvar64), _name + " in float64", shape=(6,),
                         dtype=torch.float64),
            Normal(_mu64, torch.exp(0.5 * _logvar64)).log_prob(_x64).sum(-1), _name + " in float64",
            rtol=1e-9, atol=1e-9)

# Contract: gradients reach the decoder's mean and log-variance.
_mu_leaf = _x_mu.clone().requires_grad_(True)
_logvar_leaf = _x_logvar.clone().requires_grad_(True)
check_gradient_flows(_model.reconstruction_loss(_x, _mu_leaf, _logvar_leaf),
                     {"x_recon_mu": _mu_leaf, "x_recon_logvar": _logvar_leaf}, _name)

# Contract: deterministic (the same inputs give the same value); the inputs are left untouched.
_before = [_t.clone() for _t in (_x, _x_mu, _x_logvar)]
check_close(_model.reconstruction_loss(_x, _x_mu, _x_logvar), _value, _name + ", called a second time", rtol=0.0, atol=0.0)
for _b, _t, _label in zip(_before, (_x, _x_mu, _x_logvar), ("x", "x_recon_mu", "x_recon_logvar")):
    check_unchanged(_b, _t, _label)
### END HIDDEN TESTS

# %% [markdown]
# **Picture.** Fix a residual r = x − μ_θ(z) and vary the decoder's log-variance. The log-likelihood
# is highest at σ² = r²: a learned decoder variance settles at the size of the errors it makes. A
# plain squared error has no such term and cannot learn it.

# %%
demo_model = ELBOFramework(data_dim=1)
logvar_grid = torch.linspace(-7, 3, 300).unsqueeze(1)
fig, ax = plt.subplots()
for residual in [0.1, 0.5, 1.0]:
    log_lik = demo_model.reconstruction_loss(torch.full_like(logvar_grid, residual), torch.zeros_like(logvar_grid),
                                             logvar_grid)
    ax.plot(logvar_grid.squeeze(1), log_lik, label=f"|x − μ| = {residual}")
    ax.axvline(math.log(residual**2), ls=":", color=ax.lines[-1].get_color())
ax.set_ylim(-6, 3)
ax.legend()
label(ax, "log p(x|z) is highest at σ² = (x − μ)² (dotted)", "decoder log σ²", "log p(x|z)")
plt.show()

# %% [markdown]
# **Think:** If the decoder could drive σ² → 0 while reconstructing one point perfectly, what happens
# to log p(x|z)? Why is a density allowed to exceed 1, and why does this make "maximise the
# likelihood" dangerous for a decoder with a free variance?

# %% [markdown]
# ### 4.2 The KL term
#
# **Why it matters.** Without it, the encoder could give each x its own far-away, razor-thin code, and
# sampling z ~ p(z) at generation time would land where the decoder was never trained. The KL pulls
# every $q_\phi(z|x)$ towards the prior. For diagonal Gaussians against $\mathcal{N}(0, I)$ it has a
# closed form (notebook 1.2), summed over the latent dimensions j = 1, …, d:
#
# $$
# \mathrm{KL}\big(\mathcal{N}(\mu, \operatorname{diag}\sigma^2)\,\|\,\mathcal{N}(0, I)\big)
#   = \frac12 \sum_{j=1}^{d} \left(\mu_j^2 + \sigma_j^2 - 1 - \log\sigma_j^2\right) \;\ge\; 0 .
# $$

# %% nbgrader={"grade_id": "kl-regularization", "solution": true}
@add_to_class(ELBOFramework)
def kl_regularization(self, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(q_φ(z|x) ‖ p(z)) for q_φ(z|x) = N(μ, diag σ²) and p(z) = N(0, I).

    Args:
        mu: μ, shape (..., latent_dim).
        logvar: log σ², same shape as mu.

    Returns:
        Shape (...,): the KL of each row, summed over latent_dim.

    Contract:
        - shape (...,) (latent_dim summed, every leading dimension kept), the floating dtype of mu;
        - the closed form ½ Σ_j (μ_j² + σ_j² − 1 − log σ_j²): never negative beyond float32 rounding
          (a few 1e-8 near the prior), 0 at μ = 0, log σ² = 0;
        - the closed form for any log σ² (checked from −20 to 15): no clamping;
        - gradients reach mu and logvar; the inputs are left unchanged.
    """
    ### BEGIN SOLUTION
    return 0.5 * (mu**2 + torch.exp(logvar) - 1.0 - logvar).sum(dim=-1)
    ### END SOLUTION


# %% nbgrader={"grade_id": "kl-regularization-visible", "points": 1}
# Visible test: properties of a KL and one value by numerical integration; not the formula.
torch.manual_seed(2)
_model = ELBOFramework()
_name = "kl_regularization(mu, logvar)"
_mu, _logvar = torch.randn(4, 2), torch.randn(4, 2)
_value = check_tensor(_model.kl_regularization(_mu, _logvar), _name, shape=(4,), dtype=torch.float32)
# Never negative. In float32 the textbook form can round to about −3e-8 near the prior, so the
# tolerance is 1e-6, not 0.
_near = 1e-3 * torch.randn(1000, 2)
assert (_model.kl_regularization(_near, _near) >= -1e-6).all(), f"{_name} is negative: a sign or a term is off."
check_close(_model.kl_regularization(torch.zeros(3, 2), torch.zeros(3, 2)), torch.zeros(3), "KL(p(z) ‖ p(z))")
# One dimension, μ = 0.7, log σ² = −0.4: ∫ q log(q/p) dz by the trapezoidal rule, in float64.
_grid = torch.linspace(-15.0, 15.0, 30001, dtype=torch.float64)
_log_q = Normal(torch.tensor(0.7, dtype=torch.float64), math.exp(-0.2)).log_prob(_grid)
_log_p = Normal(torch.tensor(0.0, dtype=torch.float64), 1.0).log_prob(_grid)
_one = _model.kl_regularization(torch.tensor([0.7], dtype=torch.float64), torch.tensor([-0.4], dtype=torch.float64))
check_close(check_tensor(_one, _name + " of one dimension", shape=()),
            torch.trapezoid(_log_q.exp() * (_log_q - _log_p), _grid), _name + " at μ = 0.7, log σ² = −0.4", rtol=1e-6,
            atol=1e-8)
print("kl_regularization: visible tests passed.")

# %% nbgrader={"grade_id": "kl-regularization-hidden", "points": 2}
# Hidden tests for kl_regularization run when your notebook is graded.
### BEGIN HIDDEN TESTS
# Contract: shape and dtype; the closed form, on several shapes.
torch.manual_seed(13)
_model = ELBOFramework()
_name = "kl_regularization(mu, logvar)"
for _shape in [(6, 4), (3, 5, 4), (1, 1)]:
    _mu, _logvar = torch.randn(_shape), 1.5 * torch.randn(_shape)
    _value = check_tensor(_model.kl_regularization(_mu, _logvar), f"{_name} on shape {_shape}", shape=_shape[:-1])
    _per_dim = kl_divergence(Normal(_mu, torch.exp(0.5 * _logvar)), Normal(0.0, 1.0))
    _expected = _per_dim.sum(dim=-1)
    check_close(_value, _expected, f"{_name} on shape {_shape}", rtol=1e-4, atol=1e-4, mistakes={
        "the sign is flipped: KL is never negative": -_expected,
        "averaged over latent dimensions instead of summed": _per_dim.mean(dim=-1),
        "the factor ½ is missing": 2 * _expected,
        "σ used where σ² belongs (exp(½ log σ²) instead of exp(log σ²))":
            0.5 * (_mu**2 + torch.exp(0.5 * _logvar) - 1 - _logvar).sum(-1),
    })
_mu64, _logvar64 = torch.randn(5, 4, dtype=torch.float64), torch.randn(5, 4, dtype=torch.float64)
check_close(check_tensor(_model.kl_regularization(_mu64, _logvar64), f"{_name} in float64", shape=(5,),
                         dtype=torch.float64),
            kl_divergence(Normal(_mu64, torch.exp(0.5 * _logvar64)), Normal(0.0, 1.0)).sum(-1),
            f"{_name} in float64", rtol=1e-9, atol=1e-9)
# Contract: the closed form for every log σ², also far from 0 (no clamping): log σ² from −20 to 15, float64.
_mu_far = torch.tensor([[0.5, -1.0, 0.0, 2.0]], dtype=torch.float64)
_logvar_far = torch.tensor([[-20.0, -12.0, 12.0, 15.0]], dtype=torch.float64)
check_close(check_tensor(_model.kl_regularization(_mu_far, _logvar_far), f"{_name} with log σ² in [−20, 15]", shape=(1,)),
            kl_divergence(Normal(_mu_far, torch.exp(0.5 * _logvar_far)), Normal(0.0, 1.0)).sum(-1),
            f"{_name} with log σ² in [−20, 15] (is log σ² clamped?)", rtol=1e-9, atol=1e-9)
# Contract: q = p(z) gives KL = 0.
check_close(_model.kl_regularization(torch.zeros(3, 4), torch.zeros(3, 4)), torch.zeros(3),
            f"{_name} at μ = 0, log σ² = 0", atol=1e-6)
# Contract: gradients reach μ and log σ²; inputs are left untouched.
_mu = torch.randn(6, 4, requires_grad=True)
_logvar = torch.randn(6, 4, requires_grad=True)
check_gradient_flows(_model.kl_regularization(_mu, _logvar), {"mu": _mu, "logvar": _logvar}, _name)
_mu, _logvar = torch.randn(6, 4), torch.randn(6, 4)
_mu_before, _logvar_before = _mu.clone(), _logvar.clone()
_model.kl_regularization(_mu, _logvar)
check_unchanged(_mu_before, _mu, "mu")
check_unchanged(_logvar_before, _logvar, "logvar")
### END HIDDEN TESTS

# %% [markdown]
# **Picture.** The KL of one latent dimension over (μ, log σ²). It is zero only at the prior
# (μ = 0, log σ² = 0). Moving μ costs μ²/2; shrinking σ² costs about −½ log σ², which grows without
# bound as the code becomes precise.

# %%
demo_model = ELBOFramework(latent_dim=1)
mu_axis = torch.linspace(-3, 3, 121)
logvar_axis = torch.linspace(-6, 3, 121)
mu_mesh, logvar_mesh = torch.meshgrid(mu_axis, logvar_axis, indexing="xy")
kl_mesh = demo_model.kl_regularization(mu_mesh.unsqueeze(-1), logvar_mesh.unsqueeze(-1))
fig, ax = plt.subplots(figsize=(6, 4.5))
image = ax.contourf(mu_mesh, logvar_mesh, kl_mesh, levels=30, cmap="viridis")
ax.contour(mu_mesh, logvar_mesh, kl_mesh, levels=[0.5, 1, 2, 4], colors="white", linewidths=0.8)
ax.plot(0, 0, "r*", markersize=12, label="the prior: KL = 0")
fig.colorbar(image, ax=ax, label="KL (nats)")
ax.legend(loc="lower right")
label(ax, "KL(N(μ, σ²) ‖ N(0, 1)) for one latent dimension", "μ", "log σ²")
plt.show()

# %% [markdown]
# **Think:** The reconstruction term wants precise codes (small σ², distinct μ for distinct x); the KL
# wants every code to look like N(0, 1). What would an encoder look like if only one of the two terms
# were present?

# %% [markdown]
# ## 5. The whole ELBO, and training
#
# **Why it matters.** Put together, one forward pass gives a one-sample, differentiable estimate of
# the ELBO for every data point, and training is gradient ascent on its mean:
#
# 1. encode: $(\mu, \log\sigma^2) = \text{encoder}(x)$;
# 2. sample with the trick: $z = \mu + \sigma \odot \varepsilon$;
# 3. decode: $\mu_\theta(z)$ and $\log\sigma_x^2$ (`decoder_logvar`, expanded to x's shape);
# 4. $\mathrm{ELBO}(x) \approx \log p_\theta(x|z) - \mathrm{KL}(q_\phi(z|x)\,\|\,p(z))$.
#
# The KL is exact (closed form); only the reconstruction term is estimated with the sample z. Because
# z came from the trick, the gradient of the ELBO reaches both the encoder's μ and its log σ².

# %% nbgrader={"grade_id": "compute-elbo", "solution": true}
@add_to_class(ELBOFramework)
def compute_elbo(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """A one-sample estimate of the ELBO of each data point, and the pieces it is made of.

    Args:
        x: the data, shape (batch, data_dim).

    Returns:
        A dict with
            'elbo': (batch,), reconstruction − kl_divergence;
            'reconstruction': (batch,), log p_θ(x|z) for the reparameterised sample z;
            'kl_divergence': (batch,), KL(q_φ(z|x) ‖ p(z));
            'mu', 'logvar': (batch, latent_dim), the encoder's outputs;
            'z': (batch, latent_dim), the reparameterised sample;
            'x_recon': (batch, data_dim), the decoder's mean for z.

    Contract:
        - a dict with these seven keys, of these shapes;
        - 'mu', 'logvar' are the encoder's outputs for x, 'x_recon' the decoder's mean for the returned
          'z', and 'z' a reparameterised sample (not μ), fresh at every call;
        - 'reconstruction' is log p_θ(x|z) with the decoder variance exp(decoder_logvar),
          'kl_divergence' the closed-form KL, 'elbo' their difference;
        - training differentiates 'elbo', 'reconstruction' and 'kl_divergence': each carries the full
          gradient to every parameter (encoder, decoder, decoder_logvar), nothing detached;
        - it is graded with correct versions of reparameterize, reconstruction_loss and
          kl_regularization.
    """
    ### BEGIN SOLUTION
    mu, logvar = self.encode(x)
    z = self.reparameterize(mu, logvar)
    x_recon = self.decoder(z)
    x_recon_logvar = self.decoder_logvar.expand_as(x_recon)
    reconstruction = self.reconstruction_loss(x, x_recon, x_recon_logvar)
    kl = self.kl_regularization(mu, logvar)
    return {
        "elbo": reconstruction - kl,
        "reconstruction": reconstruction,
        "kl_divergence": kl,
        "mu": mu,
        "logvar": logvar,
        "z": z,
        "x_recon": x_recon,
    }
    ### END SOLUTION


# %% nbgrader={"grade_id": "compute-elbo-visible", "points": 2}
torch.manual_seed(3)
_model = ELBOFramework(latent_dim=2, data_dim=2)
_x = torch.randn(8, 2)
_out = _model.compute_elbo(_x)
if not isinstance(_out, dict):
    raise AssertionError(f"compute_elbo should return a dict, got {type(_out).__name__}.")
_missing = {"elbo", "reconstruction", "kl_divergence", "mu", "logvar", "z", "x_recon"} - set(_out)
if _missing:
    raise AssertionError(f"compute_elbo's dict lacks the key(s) {sorted(_missing)}.")
for _key in ("elbo", "reconstruction", "kl_divergence"):
    check_tensor(_out[_key], f"compute_elbo(x)['{_key}']", shape=(8,))
for _key in ("mu", "logvar", "z"):
    check_tensor(_out[_key], f"compute_elbo(x)['{_key}']", shape=(8, 2))
check_tensor(_out["x_recon"], "compute_elbo(x)['x_recon']", shape=(8, 2))
check_close(_out["elbo"], _out["reconstruction"].detach() - _out["kl_divergence"].detach(),
            "compute_elbo(x)['elbo'] (should be reconstruction − kl_divergence)", rtol=1e-5, atol=1e-5)
print("compute_elbo: visible tests passed.")

# %% nbgrader={"grade_id": "compute-elbo-hidden", "points": 3}
# Hidden tests for compute_elbo run when your notebook is graded.
### BEGIN HIDDEN TESTS
class _WithReferenceParts(ELBOFramework):
    """Correct reparameterize, reconstruction_loss and kl_regularization under the student's compute_elbo, so
    that a mistake in one of those costs its own points only."""

    def reparameterize(self, mu, logvar):
        return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)

    def reconstruction_loss(self, x, x_recon_mu, x_recon_logvar):
        return Normal(x_recon_mu, torch.exp(0.5 * x_recon_logvar)).log_prob(x).sum(dim=-1)

    def kl_regularization(self, mu, logvar):
        return kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), Normal(0.0, 1.0)).sum(dim=-1)


# Contract: a dict with the seven keys, of the right shapes.
torch.manual_seed(14)
_model = _WithReferenceParts(latent_dim=3, data_dim=2)
with torch.no_grad():
    _model.decoder_logvar.fill_(0.7)  # a value the default would not hide
_x = torch.randn(10, 2)
_out = _model.compute_elbo(_x)
if not isinstance(_out, dict):
    raise AssertionError(f"compute_elbo should return a dict, got {type(_out).__name__}.")
_missing = {"elbo", "reconstruction", "kl_divergence", "mu", "logvar", "z", "x_recon"} - set(_out)
if _missing:
    raise AssertionError(f"compute_elbo's dict lacks the key(s) {sorted(_missing)}.")
_elbo, _rec, _kl = (check_tensor(_out[_k], f"compute_elbo(x)['{_k}']", shape=(10,))
                    for _k in ("elbo", "reconstruction", "kl_divergence"))
_mu, _logvar, _z = (check_tensor(_out[_k], f"compute_elbo(x)['{_k}']", shape=(10, 3)) for _k in ("mu", "logvar", "z"))
_x_recon = check_tensor(_out["x_recon"], "compute_elbo(x)['x_recon']", shape=(10, 2))

# Contract: the pieces are the encoder's outputs, and x_recon is the decoder's mean for z.
with torch.no_grad():
    _mu_ref, _logvar_ref = _model.encoder(_x).chunk(2, dim=-1)
    _x_recon_ref = _model.decoder(_z)
check_close(_mu, _mu_ref, "compute_elbo(x)['mu']", atol=1e-5)
check_close(_logvar, _logvar_ref, "compute_elbo(x)['logvar']", atol=1e-5)
check_close(_x_recon, _x_recon_ref, "compute_elbo(x)['x_recon'] (the decoder's mean for the returned z)", atol=1e-5)

# Contract: z is a sample, not the mean, and fresh at every call.
if torch.allclose(_z, _mu):
    raise AssertionError("compute_elbo(x)['z'] equals mu: sample z with the reparameterisation trick.")
if torch.equal(_z, check_tensor(_model.compute_elbo(_x)["z"], "compute_elbo(x)['z']", shape=(10, 3))):
    raise AssertionError("Two calls of compute_elbo(x) returned the same z: draw a fresh sample at every call.")

# Contract: each term against torch.distributions, from the returned mu, logvar and z.
_dec_std = math.exp(0.5 * 0.7)
_rec_ref = Normal(_x_recon_ref, _dec_std).log_prob(_x).sum(-1)
_kl_ref = kl_divergence(Normal(_mu_ref, torch.exp(0.5 * _logvar_ref)), Normal(0.0, 1.0)).sum(-1)
check_close(_rec, _rec_ref, "compute_elbo(x)['reconstruction']", rtol=1e-4, atol=1e-4, mistakes={
    "decoder_logvar is ignored (the decoder variance was taken as 1)": Normal(_x_recon_ref, 1.0).log_prob(_x).sum(-1),
    "the sign is flipped: keep log p(x|z), not its negative": -_rec_ref,
})
check_close(_kl, _kl_ref, "compute_elbo(x)['kl_divergence']", rtol=1e-4, atol=1e-4)
check_close(_elbo, _rec_ref - _kl_ref, "compute_elbo(x)['elbo']", rtol=1e-4, atol=1e-4, mistakes={
    "reconstruction + KL: the ELBO subtracts the KL": _rec_ref + _kl_ref,
    "KL − reconstruction: that is the negative ELBO (the loss)": _kl_ref - _rec_ref,
})

# Contract: every term training differentiates carries the full gradient to every parameter. The reference
# rebuilds each term from the parameters with the same ε, recovered from the returned z.
_eps = ((_z - _mu) / torch.exp(0.5 * _logvar)).detach()
_mu_graph, _logvar_graph = _model.encoder(_x).chunk(2, dim=-1)
_z_graph = _mu_graph + torch.exp(0.5 * _logvar_graph) * _eps
_rec_graph = Normal(_model.decoder(_z_graph), torch.exp(0.5 * _model.decoder_logvar)).log_prob(_x).sum(-1)
_kl_graph = kl_divergence(Normal(_mu_graph, torch.exp(0.5 * _logvar_graph)), Normal(0.0, 1.0)).sum(-1)
_reference_terms = {"elbo": _rec_graph - _kl_graph, "reconstruction": _rec_graph, "kl_divergence": _kl_graph}
_params = dict(_model.named_parameters())
for _key, _reference in _reference_terms.items():
    _name = f"compute_elbo(x)['{_key}']"
    if not _out[_key].requires_grad:
        raise AssertionError(f"{_name} carries no gradient, yet training differentiates it: was it computed under "
                             "torch.no_grad() or passed through .detach(), .item() or NumPy?")
    _got = torch.autograd.grad(_out[_key].sum(), list(_params.values()), retain_graph=True, allow_unused=True)
    _want = torch.autograd.grad(_reference.sum(), list(_params.values()), retain_graph=True, allow_unused=True)
    for (_pname, _param), _g, _w in zip(_params.items(), _got, _want):
        _g = torch.zeros_like(_param) if _g is None else _g
        _w = torch.zeros_like(_param) if _w is None else _w
        if torch.any(_w != 0) and not torch.any(_g != 0):
            raise AssertionError(f"No gradient reaches {_pname} through {_name}: is a part of it detached, or is z "
                                 "not sampled with the reparameterisation trick?")
        # float32 sums of ten points' products: rounding ~1e-6 of the largest entry; 1e-4 leaves room for
        # every algebraically equal way of writing the terms.
        check_close(_g, _w, f"the gradient of {_name} with respect to {_pname}", rtol=1e-3,
                    atol=1e-4 * (1.0 + float(_w.abs().max())))
### END HIDDEN TESTS

# %% [markdown]
# **Training.** The loss is the negative mean ELBO. We train on the whole spiral at once with Adam
# and record the three curves: the loss (−ELBO), the reconstruction cost (−E_q[log p(x|z)]) and the KL.
# All three are in nats per data point.

# %%
def train_elbo(model: ELBOFramework, x: torch.Tensor, steps: int, lr: float = 1e-2) -> dict[str, list[float]]:
    """Maximise the mean ELBO of x with Adam; return the history of −ELBO, −reconstruction and KL."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = {"−ELBO (loss)": [], "−reconstruction": [], "KL": []}
    for _ in tqdm(range(steps), desc="training the VAE"):
        optimizer.zero_grad()
        terms = model.compute_elbo(x)
        loss = -terms["elbo"].mean()
        loss.backward()
        optimizer.step()
        history["−ELBO (loss)"].append(loss.item())
        history["−reconstruction"].append(-terms["reconstruction"].mean().item())
        history["KL"].append(terms["kl_divergence"].mean().item())
    return history


torch.manual_seed(0)
vae = ELBOFramework(latent_dim=2, data_dim=2)
history = train_elbo(vae, data, steps=runtime.scaled(2000, 40))

fig, ax = plt.subplots()
training_curves(ax, history, "Training the VAE on the spiral (nats per point)")
ax.set_ylim(min(min(v) for v in history.values()) - 0.5, max(history["−ELBO (loss)"][len(history["KL"]) // 10:]) + 1)
plt.show()
print(f"final: ELBO = {-history['−ELBO (loss)'][-1]:.3f}, E_q[log p(x|z)] = {-history['−reconstruction'][-1]:.3f}, "
      f"KL = {history['KL'][-1]:.3f} nats; decoder σ = {math.exp(0.5 * vae.decoder_logvar.item()):.3f}")

# %% [markdown]
# What did it learn? Left: each point and its reconstruction (the decoder's mean for a sampled z).
# Right: new points, drawn the generative way, z ~ p(z) then x ~ p_θ(x|z).

# %%
with torch.no_grad():
    terms = vae.compute_elbo(data)
    z_prior = torch.randn(1000, vae.latent_dim)
    generated = vae.decoder(z_prior) + torch.exp(0.5 * vae.decoder_logvar) * torch.randn(1000, 2)
fig, (ax_left, ax_right) = plt.subplots(1, 2, figsize=(10, 4.5))
scatter_2d(ax_left, data, "Data and reconstructions", color="0.6", label="data x")
scatter_2d(ax_left, terms["x_recon"], "Data and reconstructions", color="C3", label="decoder mean for z ~ q(z|x)")
ax_left.legend(loc="lower left")
scatter_2d(ax_right, generated, "Samples: z ~ p(z), x ~ p_θ(x|z)", color="C0")
plt.show()

# %% [markdown]
# **Think:** Read the curves: a freshly initialised encoder has a small KL, which jumps in the first
# steps; later, where the KL grows again, the reconstruction cost falls faster than the KL rises. Why is
# paying more KL worth it for the ELBO? Where in the
# right-hand picture do you see the price of a latent space squeezed towards N(0, I) (hint: the points
# between the arms of the spiral)?

# %% [markdown]
# ## 6. Validation
#
# ### 6.1 Three checks on your implementation
#
# Three checks, each done so that it can actually fail:
# 1. **The sample statistics of the trick**, from *one* batched call with 100,000 rows (a Python loop of
#    single draws would make 100,000 calls and test nothing more).
# 2. **The decomposition** ELBO = reconstruction − KL, on the trained model.
# 3. **Gradient flow through the sample**: the reconstruction term's gradient with respect to log σ²,
#    through your reparameterised z, against the same quantity with z drawn by `torch.normal`.

# %%
torch.manual_seed(0)
n_draws = 100_000
mu_check = torch.tensor([1.0, -0.5])
logvar_check = torch.tensor([0.5, -0.2])
z_check = vae.reparameterize(mu_check.repeat(n_draws, 1), logvar_check.repeat(n_draws, 1))
print("1. Statistics of", n_draws, "reparameterised draws")
print(f"   mean     {z_check.mean(0).numpy().round(3)}   target μ  {mu_check.numpy()}   (standard error ≈ "
      f"{(logvar_check.exp().sqrt() / math.sqrt(n_draws)).numpy().round(4)})")
print(f"   variance {z_check.var(0).numpy().round(3)}   target σ² {logvar_check.exp().numpy().round(3)}")

with torch.no_grad():
    terms = vae.compute_elbo(data)
decomposition_error = (terms["elbo"] - (terms["reconstruction"] - terms["kl_divergence"])).abs().max()
print(f"2. max |ELBO − (reconstruction − KL)| over the spiral: {decomposition_error:.2e}")

mu_leaf = torch.zeros(1, 2, requires_grad=True)
logvar_leaf = torch.zeros(1, 2, requires_grad=True)
x_point = data[:1]
for sampler_name, sampler in [
    ("reparameterize", lambda: vae.reparameterize(mu_leaf, logvar_leaf)),
    ("torch.normal  ", lambda: torch.normal(mu_leaf, torch.exp(0.5 * logvar_leaf))),
]:
    torch.manual_seed(1)
    z_sample = sampler()
    log_lik = vae.reconstruction_loss(x_point, vae.decoder(z_sample), vae.decoder_logvar)
    grad_logvar, = torch.autograd.grad(log_lik.sum(), logvar_leaf)
    print(f"3. {sampler_name}: d log p(x|z) / d log σ² = {grad_logvar.numpy().round(4)}")

# %% [markdown]
# `torch.normal` returns the same kind of sample, but autograd treats its output as constant in μ and
# σ: the gradient it passes back is exactly zero, and the encoder's variance would never be trained.
#
# ### 6.2 The ELBO against the exact log p(x)
#
# **Why it matters.** For a neural decoder we can never see log p(x), so we cannot see how loose the
# bound is. A **linear-Gaussian** model, p(z) = N(0, I), p(x|z) = N(Wz + b, σ_x² I), has an exact
# marginal $p(x) = \mathcal{N}(b, WW^\top + \sigma_x^2 I)$ and an exact Gaussian posterior. With
# orthogonal columns in W, that posterior has a *diagonal* covariance, so our mean-field
# $q(z|x) = \mathcal{N}(\mu, \operatorname{diag}\sigma^2)$ can match it exactly. We use **your**
# `reparameterize`, `reconstruction_loss` and `kl_regularization` to estimate the ELBO with K samples of z:
#
# $$
# \widehat{\mathrm{ELBO}}(x) = \frac1K \sum_{k=1}^{K} \log p(x|z_k) - \mathrm{KL}(q(z|x)\,\|\,p(z)),
# \qquad z_k \sim q(z|x),
# $$
#
# and compare the gap $\log p(x) - \widehat{\mathrm{ELBO}}(x)$ with the identity of Section 1,
# gap = KL(q(z|x) ‖ p(z|x)), for (a) q set to the exact posterior and (b) worse q's.

# %%
linear_model = make_linear_gaussian(latent_dim=2, data_dim=3, noise_std=0.5, seed=0)
x_observed, _ = linear_model.sample(4, generator=torch.Generator().manual_seed(0))
exact_log_px = linear_model.log_marginal(x_observed)                          # (4,)
exact_posterior = linear_model.posterior(x_observed)
posterior_mu = exact_posterior.mean                                           # (4, 2)
posterior_cov = exact_posterior.covariance_matrix                             # (4, 2, 2)
posterior_logvar = torch.diagonal(posterior_cov, dim1=-2, dim2=-1).log()      # (4, 2)
off_diagonal = (posterior_cov - torch.diag_embed(posterior_logvar.exp())).abs().max()
print(f"largest off-diagonal entry of the exact posterior covariance: {off_diagonal:.1e} (so it is diagonal)")
decoder_logvar_exact = torch.full((linear_model.data_dim,), 2 * math.log(linear_model.noise_std))
n_z_samples = runtime.scaled(20_000, 2_000)


def elbo_estimate(q_mu: torch.Tensor, q_logvar: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """K-sample ELBO estimate for each observed x, and its standard error; q_mu, q_logvar: (n, latent_dim)."""
    z = vae.reparameterize(q_mu.repeat(n_z_samples, 1, 1), q_logvar.repeat(n_z_samples, 1, 1))  # (K, n, d)
    log_lik = vae.reconstruction_loss(x_observed, linear_model.decoder_mean(z), decoder_logvar_exact)  # (K, n)
    elbo_samples = log_lik - vae.kl_regularization(q_mu, q_logvar)
    return elbo_samples.mean(dim=0), elbo_samples.std(dim=0) / math.sqrt(n_z_samples)


def kl_to_posterior(q_mu: torch.Tensor, q_logvar: torch.Tensor) -> torch.Tensor:
    """KL(q(z|x) ‖ p(z|x)) in closed form (both diagonal Gaussians), for each observed x."""
    q = Normal(q_mu, torch.exp(0.5 * q_logvar))
    posterior = Normal(posterior_mu, torch.exp(0.5 * posterior_logvar))
    return kl_divergence(q, posterior).sum(dim=-1)


torch.manual_seed(0)
with torch.no_grad():
    elbo_exact_q, se_exact_q = elbo_estimate(posterior_mu, posterior_logvar)
print("(a) q = the exact posterior, K =", n_z_samples)
for i in range(len(x_observed)):
    print(f"    x_{i}: log p(x) = {exact_log_px[i]:.4f}   ELBO = {elbo_exact_q[i]:.4f} ± {se_exact_q[i]:.4f}"
          f"   gap = {exact_log_px[i] - elbo_exact_q[i]:+.4f}")

# %% [markdown]
# Now spoil q on purpose, for the first observation x₀: (left) shift its mean along z₁ by δ;
# (right) scale its variance by a factor s. The dots are the Monte Carlo gap log p(x) − ELBO with
# ±2 standard errors; the line is KL(q ‖ p(z|x)) in closed form.

# %%
shifts = torch.linspace(-2.0, 2.0, 9)
scales = torch.logspace(-1.5, 1.5, 9)
direction = torch.tensor([1.0, 0.0])
gap_shift, gap_shift_se, kl_shift = [], [], []
gap_scale, gap_scale_se, kl_scale = [], [], []
torch.manual_seed(1)
with torch.no_grad():
    for delta in tqdm(shifts, desc="shifted means"):
        q_mu, q_logvar = posterior_mu[:1] + delta * direction, posterior_logvar[:1]
        elbo, se = elbo_estimate(q_mu, q_logvar)
        gap_shift.append(float(exact_log_px[0] - elbo[0])), gap_shift_se.append(float(se[0]))
        kl_shift.append(float(kl_to_posterior(q_mu, q_logvar)[0]))
    for scale in tqdm(scales, desc="scaled variances"):
        q_mu, q_logvar = posterior_mu[:1], posterior_logvar[:1] + math.log(scale)
        elbo, se = elbo_estimate(q_mu, q_logvar)
        gap_scale.append(float(exact_log_px[0] - elbo[0])), gap_scale_se.append(float(se[0]))
        kl_scale.append(float(kl_to_posterior(q_mu, q_logvar)[0]))

fig, (ax_shift, ax_scale) = plt.subplots(1, 2, figsize=(11, 4))
ax_shift.errorbar(shifts, gap_shift, yerr=[2 * s for s in gap_shift_se], fmt="o", label="log p(x) − ELBO (Monte Carlo)")
ax_shift.plot(shifts, kl_shift, "-", label="KL(q ‖ p(z|x)), closed form")
ax_shift.legend()
label(ax_shift, "Shifting the mean of q away from the posterior's", "shift δ of μ along z₁", "gap (nats)")
ax_scale.errorbar(scales, gap_scale, yerr=[2 * s for s in gap_scale_se], fmt="o", label="log p(x) − ELBO (Monte Carlo)")
ax_scale.plot(scales, kl_scale, "-", label="KL(q ‖ p(z|x)), closed form")
ax_scale.set_xscale("log")
ax_scale.legend()
label(ax_scale, "Scaling the variance of q by s", "variance factor s", "gap (nats)")
plt.show()

# %% [markdown]
# The gap is zero, up to Monte Carlo noise, only at δ = 0 and s = 1, where q is the exact posterior;
# everywhere else the ELBO is strictly below log p(x), by exactly KL(q ‖ p(z|x)). The right panel is
# lopsided: per dimension the gap is ½(s − 1 − log s), which grows like −½ log s for a q that is too
# narrow but like s/2 for one that is too wide. This is the reverse KL of notebook 1.2 at work: an
# ELBO-trained q is pushed harder away from being too wide than from being too narrow.
#
# **Try it.** Move q(z|x₀) away from the exact posterior: shift its mean μ and its log σ², one slider
# per coordinate, each starting at the posterior's value (this needs a running kernel). The left panel
# draws q's 1σ and 2σ ellipses over the exact posterior's; the right panel splits log p(x₀) into the
# ELBO (estimated with your functions) and the gap KL(q ‖ p(z|x₀)) in closed form. Look for what stays
# put: whatever q you choose, the ELBO and the KL together reach the same log p(x₀) line, and the KL
# vanishes only when the ellipses coincide.

# %%
def draw_ellipses(ax, mu, logvar, color, name):
    """The 1σ and 2σ ellipses of N(mu, diag exp(logvar)) in the (z₁, z₂) plane."""
    sigma = torch.exp(0.5 * logvar)
    for n_sigma, style in ((1, "-"), (2, ":")):
        ax.add_patch(Ellipse((float(mu[0]), float(mu[1])), 2 * n_sigma * float(sigma[0]), 2 * n_sigma * float(sigma[1]),
                             fill=False, color=color, ls=style, label=name if n_sigma == 1 else None))


def redraw_elbo_split(shift_mu_1: float, shift_mu_2: float, shift_logvar_1: float, shift_logvar_2: float) -> None:
    q_mu = posterior_mu[:1] + torch.tensor([shift_mu_1, shift_mu_2])
    q_logvar = posterior_logvar[:1] + torch.tensor([shift_logvar_1, shift_logvar_2])
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        torch.manual_seed(0)  # the same draws at every redraw, and the notebook's own random state untouched
        elbo, elbo_se = elbo_estimate(q_mu, q_logvar)
    elbo, gap, log_px = float(elbo[0]), float(kl_to_posterior(q_mu, q_logvar)[0]), float(exact_log_px[0])
    fig, (ax_z, ax_bar) = plt.subplots(1, 2, figsize=(11, 4.2))
    draw_ellipses(ax_z, posterior_mu[0], posterior_logvar[0], "black", "exact p(z|x₀)")
    draw_ellipses(ax_z, q_mu[0], q_logvar[0], "C0", "your q(z|x₀)")
    ax_z.set_xlim(float(posterior_mu[0, 0]) - 3, float(posterior_mu[0, 0]) + 3)
    ax_z.set_ylim(float(posterior_mu[0, 1]) - 3, float(posterior_mu[0, 1]) + 3)
    ax_z.set_aspect("equal")
    ax_z.legend(loc="upper right")
    label(ax_z, "q(z|x₀) against the exact posterior (1σ solid, 2σ dotted)", "$z_1$", "$z_2$")
    # Two bars on one column: the ELBO from 0 down, then the KL from the ELBO back up to log p(x₀).
    ax_bar.bar(0.5, elbo, yerr=2 * float(elbo_se[0]), width=0.6, color="C0", label="ELBO (Monte Carlo, ±2 SE)")
    ax_bar.bar(0.5, gap, bottom=elbo, width=0.6, color="C3", label="KL(q ‖ p(z|x₀)), closed form")
    ax_bar.axhline(log_px, color="black", ls="--", label="exact log p(x₀)")
    ax_bar.set_xlim(-1, 1)
    ax_bar.set_xticks([])
    ax_bar.legend(loc="lower left", fontsize=8)
    label(ax_bar, f"ELBO {elbo:.2f} + KL {gap:.2f} = {elbo + gap:.2f}; log p(x₀) = {log_px:.2f}", "", "nats")
    fig.subplots_adjust(wspace=0.3)  # not tight_layout: it would double the cost of a redraw
    plt.show()


def shift_slider(description: str) -> widgets.FloatSlider:
    """A slider for a shift from the exact posterior's value: 0 is the posterior itself."""
    return widgets.FloatSlider(value=0.0, min=-2.0, max=2.0, step=0.1, continuous_update=False, description=description)


controls = widgets.interactive(
    redraw_elbo_split,
    shift_mu_1=shift_slider("Δμ₁"),
    shift_mu_2=shift_slider("Δμ₂"),
    shift_logvar_1=shift_slider("Δ log σ²₁"),
    shift_logvar_2=shift_slider("Δ log σ²₂"),
)
display(controls)

# %% [markdown]
# **Think:** move only Δ log σ²₁, to −2 and then to +2. Which move opens the larger gap, and does
# that agree with the lopsided right panel of the figure above? Then move Δμ₁ in small steps: how far
# must μ move before the gap reaches 1 nat, in posterior standard deviations? Which term of
# KL(q ‖ p(z|x₀)) charges for the shift?
#
# **Find the failure case (graded).** In (a) the ELBO estimate still has a nonzero standard error even
# though the gap is zero. Where does the randomness come from? No number of samples makes it exactly
# zero with this estimator (Monte Carlo reconstruction minus the closed-form KL): why not? Which other
# estimator of the same ELBO has zero variance at the exact posterior, for any number of samples, even
# one? (Hint: for the exact posterior, $\log p(x, z) - \log q(z|x)$ is the same for every z.) Answer in
# the cell below.

# %% [markdown] nbgrader={"grade_id": "elbo-estimator-variance", "solution": true, "points": 1}
# ### BEGIN SOLUTION
# **Model answer.** The randomness is the draw of $z_k \sim q(z|x)$ in the reconstruction term: each
# sample contributes $\log p_\theta(x|z_k) - \mathrm{KL}(q\,\|\,p(z))$, and $\log p_\theta(x|z_k)$ varies with
# $z_k$ even when $q$ is the exact posterior, so any finite $K$ leaves a positive variance (it only
# shrinks like $1/K$). The all-Monte-Carlo estimator $\frac1K\sum_k[\log p_\theta(x, z_k) - \log q(z_k|x)]$
# has zero variance there: at $q = p_\theta(z|x)$ each term equals $\log p_\theta(x)$ exactly, for any $K$,
# including $K = 1$. (Away from the posterior the closed-form KL usually gives the smaller variance.)
#
# **Rubric (1 point).** Names the $z$-dependence of $\log p_\theta(x|z)$ as the source **and** the
# all-Monte-Carlo log-weight estimator as the zero-variance one for any $K$. An answer that says a
# large enough $K$ makes it zero earns 0.
# ### END SOLUTION

# %% [markdown]
# ## 7. Your turn to explain: find the failure case
#
# A classmate reads your derivation, $\log p_\theta(x) = \mathrm{ELBO}(x) + \mathrm{KL}(q_\phi(z|x)\,\|\,p_\theta(z|x))$,
# and concludes: "so every training step that raises the ELBO, over θ as well as φ, raises
# $\log p_\theta(x)$ too." Find the failure case: how can a step in θ raise the ELBO while
# $\log p_\theta(x)$ falls (which term of the identity does θ change besides $\log p_\theta(x)$)? Take it
# to its extreme: which decoder makes the KL term exactly 0 for a Gaussian $q$, and what does it do
# with $z$? Answer in three to five sentences.

# %% [markdown] nbgrader={"grade_id": "elbo-insight", "solution": true, "points": 2}
# ### BEGIN SOLUTION
# **Model answer.** θ appears in both terms: changing the decoder changes the true posterior
# $p_\theta(z|x)$, and so the gap $\mathrm{KL}(q_\phi(z|x)\,\|\,p_\theta(z|x))$. A step in θ can therefore lower
# the gap by more than it lowers $\log p_\theta(x)$: the ELBO rises while the likelihood falls. Maximising
# the ELBO thus prefers models whose posterior is easy for $q$ to fit (close to a diagonal Gaussian),
# not only models with a high likelihood. The extreme is a decoder that ignores $z$: then
# $p_\theta(z|x) = p(z) = \mathcal{N}(0, I)$, which $q = \mathcal{N}(0, I)$ matches exactly, so the gap is 0 (and so is
# the KL to the prior): posterior collapse, with $z$ carrying no information about $x$.
#
# **Rubric (2 points).**
# - 1 point: says θ also changes the true posterior, hence the KL gap, so the ELBO can rise through a
#   smaller gap while $\log p_\theta(x)$ falls. "Jensen's inequality can fail" or "the ELBO is noisy"
#   earns 0.
# - 1 point: the extreme case: a decoder that ignores $z$ makes $p_\theta(z|x) = p(z)$, matched exactly
#   by $q$ (gap 0), i.e. posterior collapse / a bias towards models with simple posteriors.
# ### END SOLUTION

# %% [markdown]
# ## Summary
#
# - The ELBO is $\mathbb{E}_q[\log p_\theta(x, z) - \log q_\phi(z|x)] = \mathbb{E}_q[\log p_\theta(x|z)] - \mathrm{KL}(q_\phi(z|x)\,\|\,p(z))$,
#   and $\log p_\theta(x) = \mathrm{ELBO} + \mathrm{KL}(q_\phi(z|x)\,\|\,p_\theta(z|x))$: the gap is the bound's looseness.
# - The reparameterisation trick $z = \mu + \exp(\frac12\log\sigma^2)\odot\varepsilon$ makes the sample a
#   differentiable function of the encoder's outputs; `torch.normal` and `.sample()` do not.
# - The reconstruction term is a Gaussian **log-likelihood** (to maximise), with its normalising
#   constant and a learnable variance; the KL to N(0, I) has a closed form.
# - On a linear-Gaussian model the ELBO equals log p(x) for the exact posterior and falls below it by
#   KL(q ‖ p(z|x)) for any other q.
#
# **Questions to think about.**
# 1. The ELBO uses one sample of z per data point. What changes if you average K samples inside the
#    log instead of outside it (the importance-weighted bound)? Which way does the bound move?
# 2. Our q is a diagonal Gaussian. Give a linear-Gaussian model where no diagonal q can reach gap 0.
# 3. In notebook 1.5 the KL term gets a weight β. For which values of β is the objective still a lower
#    bound on log p(x), which value makes it the ELBO itself, and what do the others optimise instead?
