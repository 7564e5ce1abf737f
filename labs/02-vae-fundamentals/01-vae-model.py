# %% [markdown]
# # Lab 2.1: The VAE model: generative process, ELBO and reparameterization
#
# Lab 1 built the ELBO on toy problems. Here it meets real data: a variational autoencoder (VAE)
# for MNIST digits, written in PyTorch: the classic PyTorch example (784-400-20) with a second hidden
# layer, 784-400-400-20. This notebook builds the model and its loss; the next one trains it and
# analyses what it learned.
#
# **Learning objectives.** By the end you can
# 1. write the VAE's generative process $z \sim p(z) = \mathcal{N}(0, I)$, $x \sim p_\theta(x|z)$, and
#    derive its evidence lower bound (ELBO) and the identity $\log p_\theta(x) = \mathrm{ELBO} + \mathrm{KL}(q_\phi(z|x)\,\|\,p_\theta(z|x))$;
# 2. implement the reparameterization trick and show, with gradients, why sampling with
#    `torch.normal` silently breaks training;
# 3. implement `BasicVAE.forward` and `BasicVAE.sample` on top of a given encoder and decoder;
# 4. implement the VAE loss $-\mathrm{ELBO}$ with a Bernoulli decoder that outputs **logits**, explain
#    why logits are numerically safer than probabilities, and compare it with the MSE loss.
#
# **Prerequisites.** Lab 1 (KL divergence, Jensen's inequality, the ELBO); PyTorch modules,
# autograd and reductions over a chosen dimension.
#
# **Estimated time.** 60 minutes.
#
# **How this notebook is graded.** Five functions to write (cells marked `YOUR CODE HERE`), each
# followed by a visible test you can run and a hidden test that runs when your notebook is graded;
# one written answer near the end, graded by hand.

# %%
import math

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Normal, kl_divergence

from labkit import add_to_class, runtime, seed_everything
from labkit.checks import (
    as_float,
    check_close,
    check_gradient_flows,
    check_statistic,
    check_tensor,
    check_unchanged,
)
from labkit.mnist import load_mnist
from labkit.plots import label, use_course_style

seed_everything(0)
use_course_style()
print(runtime.describe())

data = load_mnist(verbose=False)
print(data.describe())
x_train = torch.from_numpy(data.x_train)  # (N, 784) grey levels in [0, 1]
y_train = torch.from_numpy(data.y_train)  # (N,) digits 0-9
# Pictures use a fixed random selection, the same in every run.
gallery = torch.randperm(len(x_train), generator=torch.Generator().manual_seed(0))[:64]

# %% [markdown]
# ## 1. The data and the generative process
#
# **Why it matters.** A VAE is first of all a *generative model*: a recipe that turns random numbers
# into digits. Everything else (the encoder, the ELBO, the reparameterization) exists to fit that
# recipe to data.
#
# **The mathematics.** Each image is a vector $x \in [0, 1]^{784}$ (28 × 28 pixels, flattened). The
# model draws a latent code, then the pixels given the code:
#
# $$z \sim p(z) = \mathcal{N}(0, I_{20}), \qquad
#   x_d \mid z \sim \mathrm{Bernoulli}(\pi_d), \quad \pi = \operatorname{sigmoid}(\ell), \quad \ell = f_\theta(z) \in \mathbb{R}^{784},$$
#
# where the decoder network $f_\theta$ outputs one **logit** $\ell_d$ per pixel. Pixels are independent
# given $z$, so the log-likelihood is a *sum* over the 784 pixels:
#
# $$\log p_\theta(x|z) = \sum_{d=1}^{784} \big[x_d \log \pi_d + (1 - x_d) \log(1 - \pi_d)\big] = -\mathrm{BCE}(\ell, x).$$
#
# A Bernoulli variable is 0 or 1, so this is a true likelihood only for **binary** pixels. MNIST
# pixels are grey levels; the picture shows how many are neither 0 nor 1. We will use the formula on
# grey levels too (as most tutorials do) and see in the next notebook what that costs.

# %%
fig = plt.figure(figsize=(11, 3.2))
grid = fig.add_gridspec(2, 11)
for i, index in enumerate(gallery[:16].tolist()):
    ax = fig.add_subplot(grid[i // 8, i % 8])
    ax.imshow(x_train[index].view(28, 28), cmap="gray", vmin=0, vmax=1)
    ax.set_title(f"label {y_train[index].item()}", fontsize=8)
    ax.axis("off")
ax_hist = fig.add_subplot(grid[:, 8:])
ax_hist.hist(x_train[:500].flatten(), bins=50, log=True, color="C0")
label(ax_hist, "Pixel values (500 digits)", "pixel value", "count (log scale)")
fig.suptitle("MNIST digits as the model sees them: 784 numbers in [0, 1]")
fig.tight_layout()
plt.show()
grey = ((x_train > 0.05) & (x_train < 0.95)).float().mean().item()
print(f"{grey:.1%} of all pixels are grey (strictly between 0.05 and 0.95).")

# %% [markdown]
# **Think:** most pixels are exactly 0. What does that mean for the logits a good decoder outputs at
# the border of the image? In float32 a probability as small as $e^{-20}$ is an ordinary number, but
# $\operatorname{sigmoid}(20) \approx 1 - e^{-20}$ rounds to exactly 1 (section 7 prints where this starts).
# When the decoder is confidently wrong about such a pixel, why does a loss computed from probabilities
# break while one computed from logits does not?

# %% [markdown]
# ## 2. The ELBO
#
# **Why it matters.** Training by maximum likelihood needs $\log p_\theta(x) = \log \int p_\theta(x|z)\,p(z)\,dz$,
# an integral over $\mathbb{R}^{20}$ through a neural network: intractable. The ELBO is a lower bound we
# can estimate and differentiate.
#
# **The mathematics.** Bring in an encoder $q_\phi(z|x) = \mathcal{N}(\mu_\phi(x), \operatorname{diag}\sigma^2_\phi(x))$.
# For any such $q_\phi$, multiply and divide by it inside the log, then use Jensen's inequality (the log is concave):
#
# $$\log p_\theta(x) = \log \mathbb{E}_{q_\phi(z|x)}\Big[\frac{p_\theta(x|z)\,p(z)}{q_\phi(z|x)}\Big]
#   \;\ge\; \mathbb{E}_{q_\phi(z|x)}\Big[\log \frac{p_\theta(x|z)\,p(z)}{q_\phi(z|x)}\Big]
#   = \underbrace{\mathbb{E}_{q_\phi(z|x)}[\log p_\theta(x|z)]}_{\text{reconstruction}} - \underbrace{\mathrm{KL}(q_\phi(z|x)\,\|\,p(z))}_{\text{regularization}}
#   = \mathrm{ELBO}.$$
#
# The inequality loses exactly one KL. Writing $p_\theta(x, z) = p_\theta(z|x)\,p_\theta(x)$ inside the expectation gives the identity
#
# $$\log p_\theta(x) = \mathrm{ELBO}(x) + \mathrm{KL}(q_\phi(z|x)\,\|\,p_\theta(z|x)),$$
#
# so the **gap** between $\log p_\theta(x)$ and the bound is the KL from $q_\phi$ to the true posterior:
# the bound's looseness, zero only when the encoder is exact. (The gap is not the bound; the ELBO is.)
# For a diagonal Gaussian $q_\phi$ and $p(z) = \mathcal{N}(0, I)$ the regularizer has a closed form
# (Lab 1.2), with `logvar` $= \log\sigma^2$:
#
# $$\mathrm{KL}(q_\phi(z|x)\,\|\,p(z)) = \frac12 \sum_{j=1}^{20} \big(\mu_j^2 + \sigma_j^2 - 1 - \log\sigma_j^2\big).$$
#
# The loss we minimise is $-\mathrm{ELBO}$, with a weight $\beta$ on the KL ($\beta = 1$ is the true bound;
# other values give the β-VAE of Lab 1.5):
#
# $$\mathcal{L}(x) = \mathrm{BCE}(\ell, x) + \beta\,\mathrm{KL}(q_\phi(z|x)\,\|\,p(z)), \qquad \ell = f_\theta(z),\; z \sim q_\phi(z|x).$$
#
# **Picture: what the KL adds up.** The KL of one latent coordinate $q = \mathcal{N}(\mu, \sigma^2)$ from
# $p = \mathcal{N}(0, 1)$ is the area under $q(z) \log\frac{q(z)}{p(z)}$; the integrand is negative
# where $q < p$, and the total is still $\ge 0$. (The overlap of the two densities, which some tutorials
# shade, is a different quantity.)

# %%
z_grid = torch.linspace(-4, 5, 1001)
prior_1d, q_1d = Normal(0.0, 1.0), Normal(1.0, 0.6)
integrand = q_1d.log_prob(z_grid).exp() * (q_1d.log_prob(z_grid) - prior_1d.log_prob(z_grid))
kl_area = torch.trapezoid(integrand, z_grid).item()

fig, (ax_densities, ax_integrand) = plt.subplots(1, 2, figsize=(11, 3.8))
ax_densities.plot(z_grid, prior_1d.log_prob(z_grid).exp(), label="prior p(z) = N(0, 1)")
ax_densities.plot(z_grid, q_1d.log_prob(z_grid).exp(), label="encoder q(z|x) = N(1, 0.6²)")
ax_densities.legend()
label(ax_densities, "One latent coordinate", "z", "density")
ax_integrand.fill_between(z_grid, integrand, color="C2", alpha=0.4)
ax_integrand.plot(z_grid, integrand, color="C2")
ax_integrand.axhline(0, color="k", lw=0.8)
closed_form = kl_divergence(q_1d, prior_1d).item()
label(ax_integrand, f"q log(q/p): area {kl_area:.4f} = KL (closed form {closed_form:.4f})", "z", "integrand (nats per unit z)")
fig.tight_layout()
plt.show()

# %% [markdown]
# **Think:** the KL term is minimised by $\mu = 0$, $\sigma = 1$ for every $x$. What would the
# reconstruction term look like then, and why does the sum of the two terms prevent it?

# %% [markdown]
# ## 3. The model
#
# The class below is given. The encoder maps $x$ (784) through two hidden layers of 400 ReLU units to
# $\mu$ and $\log\sigma^2$ (20 each); the decoder maps $z$ (20) through two hidden layers of 400 back
# to 784 **logits**. The decoder ends in a linear layer, not a sigmoid: the loss receives logits and
# uses `F.binary_cross_entropy_with_logits`, which computes
# $\log \operatorname{sigmoid}(\ell) = -\operatorname{softplus}(-\ell)$ without ever forming a probability.
# A sigmoid followed by `F.binary_cross_entropy` rounds $\operatorname{sigmoid}(-120)$ to exactly 0 in float32,
# and PyTorch then clamps $\log 0$ to $-100$: the loss is wrong, and its gradient there is zero.
#
# **Return conventions.** `forward(x)` returns `(recon_x, mu, logvar)` where `recon_x` are the
# decoder's logits $\ell$ (shape $(B, 784)$); apply `torch.sigmoid` to see pixel probabilities.
# `sample(num_samples)` returns pixel probabilities, ready to plot. The network encodes the log-variance,
# not $\sigma$: any real number is a valid $\log\sigma^2$, so no constraint is needed.

# %%
class BasicVAE(nn.Module):
    """A VAE for flattened 28 × 28 images: x (784) → 400 → 400 → (μ, log σ²) (20 + 20); z (20) → 400 → 400 → logits (784).

    Methods filled in below, one cell each: ``reparameterize``, ``forward``, ``sample``.
    """

    def __init__(self, input_dim: int = 784, hidden_dim: int = 400, latent_dim: int = 20):
        super().__init__()
        self.input_dim, self.latent_dim = input_dim, latent_dim
        self.encoder = nn.Sequential(
            nn.Linear(input_dim, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, hidden_dim), nn.ReLU()
        )
        self.fc_mu = nn.Linear(hidden_dim, latent_dim)
        self.fc_logvar = nn.Linear(hidden_dim, latent_dim)
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, hidden_dim), nn.ReLU(),
            nn.Linear(hidden_dim, hidden_dim), nn.ReLU(),
            nn.Linear(hidden_dim, input_dim),  # logits: no sigmoid here, see the text above
        )

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (B, 784) → μ (B, latent_dim), log σ² (B, latent_dim): the parameters of q_φ(z|x)."""
        hidden = self.encoder(x)
        return self.fc_mu(hidden), self.fc_logvar(hidden)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z (B, latent_dim) → logits ℓ (B, 784) of the Bernoulli p_θ(x|z)."""
        return self.decoder(z)


model = BasicVAE()
print(model)
print(f"{sum(p.numel() for p in model.parameters()):,} parameters")

# %% [markdown]
# ## 4. The reparameterization trick
#
# **Why it matters.** The reconstruction term is an expectation under $q_\phi(z|x)$, whose parameters we
# train. A sample drawn by a random number generator carries no derivative with respect to $\mu$ and
# $\sigma$; PyTorch does not even complain: `torch.normal(mu, std)` returns a sample whose gradient
# with respect to `mu` and `std` is **zero**, and the encoder then learns only from the KL term.
#
# **The mathematics.** Write the sample as a deterministic, differentiable function of the parameters
# and of noise that does not depend on them:
#
# $$z = \mu + \sigma \odot \varepsilon, \qquad \varepsilon \sim \mathcal{N}(0, I), \qquad \sigma = \exp\big(\tfrac12 \log\sigma^2\big).$$
#
# Then $z \sim \mathcal{N}(\mu, \operatorname{diag}\sigma^2)$ and
# $\nabla_\phi \mathbb{E}_{q_\phi}[g(z)] = \mathbb{E}_{\varepsilon}[\nabla_\phi\, g(\mu + \sigma \odot \varepsilon)]$, with
# $\partial z/\partial\mu = 1$ and $\partial z/\partial \log\sigma^2 = \tfrac12 \sigma\varepsilon = \tfrac12 (z - \mu)$.
# Every element of `mu` gets its own $\varepsilon$: one draw shared by the whole batch would make all
# samples move together.

# %% nbgrader={"grade_id": "reparameterize", "solution": true}
@add_to_class(BasicVAE)
def reparameterize(self, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Draw z ~ N(μ, diag σ²) as z = μ + σ ⊙ ε, ε ~ N(0, I), so that gradients reach μ and log σ².

    Args:
        mu: μ, shape (B, latent_dim) (any shape works: the operation is element-wise).
        logvar: log σ², the same shape as mu.

    Returns:
        z, the same shape as mu, with a fresh ε for every element and every call, drawn from torch's
        global generator (torch.randn_like, for example). Do not modify the inputs.
    """
    ### BEGIN SOLUTION
    std = torch.exp(0.5 * logvar)
    eps = torch.randn_like(std)
    return mu + eps * std
    ### END SOLUTION


# %% nbgrader={"grade_id": "reparameterize-visible", "points": 3}
# Visible test: shape, gradient flow, and the mean and variance of z for μ = 1.5, σ = 0.5.
torch.manual_seed(0)
vae = BasicVAE()
mu = torch.zeros(4, 20, requires_grad=True)
logvar = torch.zeros(4, 20, requires_grad=True)
z = vae.reparameterize(mu, logvar)
check_tensor(z, "reparameterize(mu, logvar)", shape=(4, 20))
check_gradient_flows(z, {"mu": mu, "logvar": logvar}, "reparameterize(mu, logvar)")

n = 20_000
z = check_tensor(vae.reparameterize(torch.full((n, 1), 1.5), torch.full((n, 1), math.log(0.25))), "z", shape=(n, 1))
# The mean of n draws of N(1.5, 0.5²) has standard error 0.5 / √n.
check_statistic(z.mean(), 1.5, 0.5 / math.sqrt(n), "the mean of z for μ = 1.5")
# The sample variance of n Gaussian draws has standard error σ²·√(2 / (n − 1)), here σ² = 0.25.
check_statistic(z.var(), 0.25, 0.25 * math.sqrt(2 / (n - 1)), "the variance of z for log σ² = log 0.25")
print("reparameterize: visible tests passed.")

# %% nbgrader={"grade_id": "reparameterize-hidden", "points": 5}
# Hidden tests for reparameterize run when your notebook is graded.
### BEGIN HIDDEN TESTS
# Contract, each clause checked below (a number names the numbered test):
#   values: z has μ's shape, for any shape; μ and log σ² are not modified (1).
#   gradients: ∂z/∂μ = 1 and ∂z/∂log σ² = ½(z − μ), element by element (2).
#   statistics: each coordinate has mean μ and variance σ² = exp(log σ²) (3); ε independent across coordinates (4) and rows (3).
#   randomness: a fresh ε on every call, from torch's global generator (5).
#   equivalent: μ − σε (ε is symmetric).
torch.manual_seed(1)
vae = BasicVAE()

# 1. Shapes: any batch shape, and the inputs are left unchanged.
for shape in [(3, 5), (2, 3, 4), (1, 20)]:
    mu, logvar = torch.randn(shape), torch.randn(shape)
    mu_before, logvar_before = mu.clone(), logvar.clone()
    check_tensor(vae.reparameterize(mu, logvar), f"reparameterize on shape {shape}", shape=shape)
    check_unchanged(mu_before, mu, "mu")
    check_unchanged(logvar_before, logvar, "logvar")

# 2. The pathwise derivatives: ∂z/∂μ = 1 and ∂z/∂log σ² = ½(z − μ), element by element.
#    torch.normal(mu, std) gives zero here; .sample() (which runs under torch.no_grad) and .detach()
#    give no gradient at all.
mu = torch.randn(6, 3, requires_grad=True)
logvar = torch.randn(6, 3, requires_grad=True)
check_gradient_flows(vae.reparameterize(mu, logvar), {"mu": mu, "logvar": logvar}, "reparameterize(mu, logvar)")
z = vae.reparameterize(mu, logvar)
grad_mu, grad_logvar = torch.autograd.grad(z.sum(), [mu, logvar])
check_close(grad_mu, torch.ones_like(mu), "∂z/∂μ")
check_close(
    grad_logvar, 0.5 * (z - mu).detach(), "∂z/∂log σ²", rtol=1e-4, atol=1e-5,
    mistakes={"σ = exp(log σ²): exp(logvar) is the variance, σ = exp(½ logvar).": (z - mu).detach()},
)

# 3. The distribution, coordinate by coordinate: three (μ, σ) pairs, n independent rows.
n = 20_000
mus = torch.tensor([-1.0, 0.0, 2.0])
variances = torch.tensor([0.25, 1.0, 4.0])
z = vae.reparameterize(mus.expand(n, 3), variances.log().expand(n, 3))
z = check_tensor(z, "reparameterize on (20000, 3) inputs", shape=(n, 3))
for j in range(3):
    sd = variances[j].sqrt().item()
    # Mean of n draws: standard error σ/√n. Sample variance: standard error σ²·√(2/(n−1)).
    check_statistic(z[:, j].mean(), mus[j].item(), sd / math.sqrt(n), f"the mean of z[:, {j}] (μ = {mus[j].item()})")
    check_statistic(
        z[:, j].var(), variances[j].item(), variances[j].item() * math.sqrt(2 / (n - 1)),
        f"the variance of z[:, {j}] (σ² = {variances[j].item()}): σ and σ² mixed up, or one ε for every row?",
    )

# 4. Independent noise across latent coordinates: the correlation of two coordinates is 0, with
#    standard error 1/√n for independent Gaussians. One ε per row shared by all coordinates gives 1.
z = vae.reparameterize(torch.zeros(n, 2), torch.zeros(n, 2))
correlation = torch.corrcoef(z.detach().T)[0, 1]
check_statistic(correlation, 0.0, 1 / math.sqrt(n), "the correlation between two latent coordinates")

# 5. Fresh noise on every call, drawn from the global generator the caller seeded: two calls differ
#    (re-seeding inside the function would repeat one ε at every training step), and the same seed
#    before each call gives the same z.
mu, logvar = torch.zeros(4, 3), torch.zeros(4, 3)
first, second = vae.reparameterize(mu, logvar), vae.reparameterize(mu, logvar)
assert not torch.allclose(first, second), "two calls of reparameterize gave the same z: draw a fresh ε on every call (no re-seeding inside)"
torch.manual_seed(11)
first = vae.reparameterize(mu, logvar)
torch.manual_seed(11)
check_close(vae.reparameterize(mu, logvar), first, "z after the same torch.manual_seed (ε comes from torch's generator)")
print("reparameterize: hidden tests passed.")
### END HIDDEN TESTS

# %% [markdown]
# **Picture: the gradient-flow demonstration.** The same distribution, two ways to sample it. We
# estimate $\frac{\partial}{\partial\mu}\mathbb{E}[z^2]$ for $z \sim \mathcal{N}(\mu, \sigma^2)$, whose exact value is
# $2\mu$, by backpropagating through 10,000 samples drawn in one batched call. With the trick the
# gradient is right; with `torch.normal` it is exactly zero, and no error is raised.

# %%
mu_demo = torch.full((10_000,), 0.8, requires_grad=True)
logvar_demo = torch.full((10_000,), math.log(0.5**2), requires_grad=True)
z_trick = model.reparameterize(mu_demo, logvar_demo)
(grad_trick,) = torch.autograd.grad((z_trick**2).mean(), mu_demo)
z_normal = torch.normal(mu_demo, torch.exp(0.5 * logvar_demo))
(grad_normal,) = torch.autograd.grad((z_normal**2).mean(), mu_demo)
print(f"exact ∂E[z²]/∂μ = 2μ = {2 * 0.8:.3f}")
print(f"reparameterized estimate: {grad_trick.sum().item():.3f}")
print(f"torch.normal estimate:    {grad_normal.sum().item():.3f}   (requires_grad={z_normal.requires_grad}: no error, just zero)")

fig, (ax_hist, ax_grad) = plt.subplots(1, 2, figsize=(11, 3.8))
bins = torch.linspace(-1.5, 3.0, 60)
ax_hist.hist(z_trick.detach(), bins=bins, density=True, alpha=0.5, label="μ + σ·ε (reparameterized)")
ax_hist.hist(z_normal.detach(), bins=bins, density=True, alpha=0.5, label="torch.normal(μ, σ)")
ax_hist.plot(bins, Normal(0.8, 0.5).log_prob(bins).exp(), "k", lw=1, label="N(0.8, 0.5²)")
ax_hist.legend(fontsize=8)
label(ax_hist, "Same distribution of samples", "z", "density")
ax_grad.bar(["exact 2μ", "reparameterized", "torch.normal"], [1.6, grad_trick.sum().item(), grad_normal.sum().item()], color=["k", "C0", "C1"])
label(ax_grad, "Different gradients: ∂E[z²]/∂μ", "estimator", "gradient")
fig.tight_layout()
plt.show()

# %% [markdown]
# **Think:** with `torch.normal`, which term of the loss still sends gradients to the encoder, and
# where will it push $\mu$ and $\log\sigma^2$? What will the decoder learn to do with $z$ then?

# %% [markdown]
# ## 5. The forward pass
#
# **Why it matters.** `forward` is one draw of the whole pipeline of the ELBO: encode $x$ into
# $q_\phi(z|x)$, draw one $z$ from it, and decode $z$ into the logits of $p_\theta(x|z)$. Its outputs are
# exactly what the loss needs.
#
# **The mathematics.** For a batch $x \in [0,1]^{B \times 784}$:
# $(\mu, \log\sigma^2) = \mathrm{enc}_\phi(x)$, $z = \mu + \sigma \odot \varepsilon$, $\ell = f_\theta(z)$, and
# $\mathrm{ELBO} \approx \log p_\theta(x|z) - \mathrm{KL}(q_\phi(z|x)\,\|\,p(z))$ with this single $z$.

# %% nbgrader={"grade_id": "forward", "solution": true}
@add_to_class(BasicVAE)
def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Encode, sample one z per example with the reparameterization trick, decode.

    Use self.encode, self.reparameterize and self.decode.

    Args:
        x: a batch of flattened images, shape (B, 784), values in [0, 1].

    Returns:
        (recon_x, mu, logvar): the decoder's logits ℓ of shape (B, 784) (not probabilities),
        and μ, log σ² of q_φ(z|x), each of shape (B, latent_dim).
    """
    ### BEGIN SOLUTION
    mu, logvar = self.encode(x)
    z = self.reparameterize(mu, logvar)
    return self.decode(z), mu, logvar
    ### END SOLUTION


# %% nbgrader={"grade_id": "forward-visible", "points": 2}
# Visible test: shapes, and the three outputs against encode and decode.
torch.manual_seed(0)
vae = BasicVAE()
x = torch.rand(5, 784)
outputs = vae(x)
assert isinstance(outputs, tuple) and len(outputs) == 3, "forward should return a tuple (recon_x, mu, logvar)"
recon_x, mu, logvar = outputs
check_tensor(recon_x, "recon_x", shape=(5, 784))
check_tensor(mu, "mu", shape=(5, 20))
check_tensor(logvar, "logvar", shape=(5, 20))
mu_ref, logvar_ref = vae.encode(x)
check_close(mu, mu_ref, "mu", mistakes={"mu and logvar swapped": logvar_ref.detach()})
check_close(logvar, logvar_ref, "logvar", mistakes={"mu and logvar swapped": mu_ref.detach()})
print("forward: visible tests passed.")

# %% nbgrader={"grade_id": "forward-hidden", "points": 3}
# Hidden tests for forward run when your notebook is graded.
### BEGIN HIDDEN TESTS
# Contract, each clause checked below (a number names the numbered test):
#   values: (recon_x, mu, logvar) with shapes (B, 784), (B, latent_dim) × 2; recon_x = decode(self.reparameterize(μ, log σ²)),
#   logits not probabilities; μ, log σ² = encode(x); x not modified.
#   gradients: reach the encoder through recon_x (via z) and through the returned μ and log σ², and reach the decoder.
#   randomness: a fresh z on every call (two calls differ).
torch.manual_seed(2)
vae = BasicVAE(latent_dim=7)
x = torch.rand(9, 784)
x_before = x.clone()


def shifted_by_two_sigma(mu, logvar):
    """A deterministic stand-in for the sampler: z = μ + 2σ, so decode(z) is known exactly."""
    return mu + 2 * torch.exp(0.5 * logvar)


vae.reparameterize = shifted_by_two_sigma  # on this instance only: forward must call self.reparameterize
recon_x, mu, logvar = vae(x)
check_unchanged(x_before, x, "x")
check_tensor(recon_x, "recon_x", shape=(9, 784))
check_tensor(mu, "mu", shape=(9, 7))
mu_ref, logvar_ref = vae.encode(x)
expected = vae.decode(shifted_by_two_sigma(mu_ref, logvar_ref)).detach()
check_close(
    recon_x, expected, "recon_x (logits of decode(z))", rtol=1e-4, atol=1e-5,
    mistakes={
        "probabilities returned: forward returns the decoder's logits, the loss applies the sigmoid.": torch.sigmoid(expected),
        "decoded μ instead of the sample z: that is a plain autoencoder.": vae.decode(mu_ref).detach(),
        "μ and log σ² swapped on their way to reparameterize.": vae.decode(shifted_by_two_sigma(logvar_ref, mu_ref)).detach(),
    },
)
check_close(logvar, logvar_ref, "logvar", mistakes={"mu and logvar swapped": mu_ref.detach()})
# Gradients reach the encoder through z, and the decoder; and through the returned μ and log σ² (the KL
# term of the loss trains the encoder through them).
check_gradient_flows(
    recon_x, {"fc_mu.weight": vae.fc_mu.weight, "fc_logvar.weight": vae.fc_logvar.weight, "decoder[0].weight": vae.decoder[0].weight},
    "recon_x",
)
for position, name, head in ((1, "mu", vae.fc_mu.weight), (2, "logvar", vae.fc_logvar.weight)):
    check_gradient_flows(vae(x)[position], {f"fc_{name}.weight": head, "encoder[0].weight": vae.encoder[0].weight}, f"the returned {name}")
# With the real sampler, two calls give different reconstructions (a fresh z each time).
del vae.reparameterize
first, second = vae(x)[0], vae(x)[0]
assert not torch.allclose(first, second), "forward gave the same logits twice: is z sampled, or is μ decoded?"
print("forward: hidden tests passed.")
### END HIDDEN TESTS

# %% [markdown]
# **Picture: what an untrained VAE reconstructs.** Before training, the decoder's logits are near 0,
# so every pixel probability is near ½: grey noise, whatever the input.

# %%
with torch.no_grad():
    logits, _, _ = model(x_train[gallery[:6]])
fig, axes = plt.subplots(2, 6, figsize=(9, 3.2))
for i in range(6):
    axes[0, i].imshow(x_train[gallery[i]].view(28, 28), cmap="gray", vmin=0, vmax=1)
    axes[1, i].imshow(torch.sigmoid(logits[i]).view(28, 28), cmap="gray", vmin=0, vmax=1)
    axes[0, i].axis("off")
    axes[1, i].axis("off")
axes[0, 0].set_title("input x", loc="left")
axes[1, 0].set_title("sigmoid(recon_x), untrained", loc="left")
fig.suptitle("Inputs and untrained reconstructions")
fig.tight_layout()
plt.show()

# %% [markdown]
# **Think:** in `forward`, why do we decode a *sample* $z$ rather than the mean $\mu$ during training?
# What term of the ELBO would decoding $\mu$ fail to estimate?

# %% [markdown]
# ## 6. Sampling from the model
#
# **Why it matters.** Generation is the point of a generative model: draw $z$ from the prior and
# decode. It uses the prior $p(z)$, not the encoder: there is no $x$ to encode.
#
# **The mathematics.** $z^{(i)} \sim \mathcal{N}(0, I_{\text{latent\_dim}})$ independently for $i = 1, \dots, n$, then
# $\pi^{(i)} = \operatorname{sigmoid}(f_\theta(z^{(i)}))$, the mean image of $p_\theta(x|z^{(i)})$. We return the
# mean image $\pi$ (smooth, good to look at) rather than a binary draw $x \sim \mathrm{Bernoulli}(\pi)$ (speckled).

# %% nbgrader={"grade_id": "sample", "solution": true}
@add_to_class(BasicVAE)
def sample(self, num_samples: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """Generate images: z ~ p(z) = N(0, I), then the pixel probabilities sigmoid(decoder logits).

    Args:
        num_samples: n, how many images.
        device: where to create z (the model's device).

    Returns:
        Pixel probabilities π in [0, 1], shape (num_samples, 784), one independent z per image.
    """
    ### BEGIN SOLUTION
    z = torch.randn(num_samples, self.latent_dim, device=device)
    return torch.sigmoid(self.decode(z))
    ### END SOLUTION


# %% nbgrader={"grade_id": "sample-visible", "points": 2}
# Visible test: shape and range.
torch.manual_seed(0)
vae = BasicVAE()
images = check_tensor(vae.sample(16, "cpu"), "sample(16, 'cpu')", shape=(16, 784))
assert images.min() >= 0 and images.max() <= 1, "sample should return probabilities in [0, 1]: apply torch.sigmoid to the logits"
print("sample: visible tests passed.")

# %% nbgrader={"grade_id": "sample-hidden", "points": 3}
# Hidden tests for sample run when your notebook is graded.
### BEGIN HIDDEN TESTS
# Contract, each clause checked below (a number names the numbered test):
#   values: shape (n, 784) for any n and device; probabilities in [0, 1]; sigmoid of the decoder's logits of one code per image.
#   statistics: the codes z ~ N(0, I): mean 0, variance 1 over 12,000 coordinates; one code per image.
#   randomness: fresh codes on every call. No gradient clause (equivalent: a detached result).
torch.manual_seed(3)
vae = BasicVAE(latent_dim=3)
# A known linear decoder, logits = W z + b with W of full column rank: each code z is recovered from the
# image sample returns (least squares on the logits), so the test checks z and the sigmoid without
# looking inside sample.
vae.decoder = torch.nn.Linear(3, 784)
weight, bias = vae.decoder.weight.detach().double(), vae.decoder.bias.detach().double()
for n, device in [(1, "cpu"), (7, torch.device("cpu")), (4000, "cpu")]:
    images = check_tensor(vae.sample(n, device), f"sample({n}, {device!r})", shape=(n, 784))
    assert images.min() >= 0 and images.max() <= 1, f"sample({n}) should return probabilities in [0, 1]: apply torch.sigmoid"
    logits = torch.logit(images.double().clamp(1e-7, 1 - 1e-7))
    z = torch.linalg.lstsq(weight, (logits - bias).T).solution.T
    # float32 sigmoids of logits of size ~3 round at ~1e-7, so the recovered z reproduces the images to ~1e-6.
    check_close(images, torch.sigmoid(z @ weight.T + bias).float(), f"sample({n}): sigmoid of the decoder's logits of one code per image",
                rtol=1e-4, atol=1e-5)
# z ~ N(0, I): n·3 = 12,000 coordinates. Their mean has standard error 1/√12000, their sample
# variance √(2/11999); uniform noise (torch.rand) or a shared z fails one of them.
coordinates = z.flatten()
check_statistic(coordinates.mean(), 0.0, 1 / math.sqrt(coordinates.numel()), "the mean of the prior draws z")
check_statistic(coordinates.var(), 1.0, math.sqrt(2 / (coordinates.numel() - 1)), "the variance of the prior draws z")
# Every image has its own z: the first two codes differ.
assert not torch.allclose(z[0], z[1]), "all images share one z: draw num_samples independent codes"
# Fresh codes on every call, from the global generator: two calls give different images (re-seeding
# inside sample would return the same images every time).
assert not torch.allclose(vae.sample(3), vae.sample(3)), "two calls of sample gave the same images: draw a fresh z on every call (no re-seeding inside)"
print("sample: hidden tests passed.")
### END HIDDEN TESTS

# %% [markdown]
# **Picture: samples from the untrained model.** Sixteen draws of $z \sim p(z)$, decoded. They are grey
# blurs now; after training (next notebook) the same call produces digits.

# %%
with torch.no_grad():
    untrained_samples = model.sample(16)
fig, axes = plt.subplots(2, 8, figsize=(10, 2.8))
for ax, image in zip(axes.flat, untrained_samples):
    ax.imshow(image.view(28, 28), cmap="gray", vmin=0, vmax=1)
    ax.axis("off")
fig.suptitle("BasicVAE.sample(16) before training (pixel probabilities)")
fig.tight_layout()
plt.show()

# %% [markdown]
# **Think:** `sample` never calls the encoder. So what, during training, makes decoded prior draws
# look like digits? (Hint: which term of the loss pulls $q_\phi(z|x)$ towards $p(z)$?)

# %% [markdown]
# ## 7. The loss: −ELBO with a Bernoulli decoder
#
# **Why it matters.** This one function *is* the training objective. Most VAE bugs are here: a mean
# where a sum belongs, a KL with a wrong sign or factor, a β that is accepted but never used.
#
# **The mathematics.** For a batch of $B$ examples, summing (not averaging) over pixels, latent
# coordinates and the batch, as the classic PyTorch example does:
#
# $$\text{recon} = \sum_{b=1}^{B}\sum_{d=1}^{784} \big[\operatorname{softplus}(\ell_{bd}) - x_{bd}\,\ell_{bd}\big] = \sum_{b,d}\mathrm{BCE}(\ell_{bd}, x_{bd}), \qquad
#   \text{kl} = \frac12\sum_{b=1}^{B}\sum_{j} \big(\mu_{bj}^2 + \sigma_{bj}^2 - 1 - \log\sigma_{bj}^2\big),$$
#
# $$\text{total} = \text{recon} + \beta \cdot \text{kl}.$$
#
# The first identity is the stable form of $-[x \log\operatorname{sigmoid}(\ell) + (1-x)\log(1-\operatorname{sigmoid}(\ell))]$;
# `F.binary_cross_entropy_with_logits` computes it from the logits; choose its `reduction` so that it
# gives the sum above. Divide `total` by $B$ to get the loss per example that papers report.

# %% nbgrader={"grade_id": "vae-loss", "solution": true}
def vae_loss(
    recon_x: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, beta: float = 1.0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The β-weighted negative ELBO of a batch, with a Bernoulli decoder given by logits.

    Args:
        recon_x: decoder logits ℓ, shape (B, 784).
        x: targets in [0, 1], shape (B, 784): binary or grey levels.
        mu: μ of q_φ(z|x), shape (B, latent_dim).
        logvar: log σ² of q_φ(z|x), shape (B, latent_dim).
        beta: β, the weight of the KL term.

    Returns:
        (total, recon, kl), three 0-d tensors summed over the batch: recon = Σ BCE(ℓ, x),
        kl = Σ KL(q_φ(z|x) ‖ N(0, I)), total = recon + β·kl. Keep them differentiable (no .item()).
    """
    ### BEGIN SOLUTION
    recon = F.binary_cross_entropy_with_logits(recon_x, x, reduction="sum")
    kl = 0.5 * torch.sum(mu.pow(2) + logvar.exp() - 1.0 - logvar)
    return recon + beta * kl, recon, kl
    ### END SOLUTION


# %% nbgrader={"grade_id": "vae-loss-visible", "points": 3}
# Visible test: the three terms on a small batch of binary pixels, against first principles.
torch.manual_seed(0)
recon_x, x = torch.randn(4, 784), torch.bernoulli(torch.full((4, 784), 0.3))
mu, logvar = torch.randn(4, 20), torch.randn(4, 20)
outputs = vae_loss(recon_x, x, mu, logvar, beta=1.0)
assert isinstance(outputs, tuple) and len(outputs) == 3, "vae_loss should return (total, recon, kl)"
total, recon, kl = (check_tensor(v, n, shape=()) for v, n in zip(outputs, ("total", "recon", "kl")))

ell, x64 = recon_x.double(), x.double()
bce = -(x64 * F.logsigmoid(ell) + (1 - x64) * F.logsigmoid(-ell))  # −log Bernoulli(x; sigmoid(ℓ)), per pixel
kl_rows = 0.5 * (mu.double() ** 2 + logvar.double().exp() - 1 - logvar.double()).sum(dim=1)
check_close(recon, bce.sum(), "recon", rtol=1e-5, mistakes={"a mean over pixels and batch instead of a sum": bce.mean()})
check_close(kl, kl_rows.sum(), "kl", rtol=1e-5, mistakes={"the KL with the wrong sign": -kl_rows.sum()})
check_close(total, bce.sum() + kl_rows.sum(), "total", rtol=1e-5)
# Grey-level targets are allowed too (MNIST's pixels are grey levels): the same formula, no error.
grey = torch.rand(4, 784)
try:
    _, recon_grey, _ = vae_loss(recon_x, grey, mu, logvar, beta=1.0)
except ValueError as error:
    raise AssertionError(
        f"vae_loss raised ValueError on grey-level targets ({error}). x may be any value in [0, 1]: "
        "torch.distributions.Bernoulli checks that x is 0 or 1 unless validate_args=False; "
        "F.binary_cross_entropy_with_logits accepts grey levels."
    ) from None
grey_bce = -(grey.double() * F.logsigmoid(ell) + (1 - grey.double()) * F.logsigmoid(-ell))
check_close(recon_grey, grey_bce.sum(), "recon on grey-level targets", rtol=1e-5)
print("vae_loss: visible tests passed.")

# %% nbgrader={"grade_id": "vae-loss-hidden", "points": 7}
# Hidden tests for vae_loss run when your notebook is graded.
### BEGIN HIDDEN TESTS
# Contract, each clause checked below (a number names the numbered test):
#   values: three 0-d tensors; recon = Σ BCE(ℓ, x) for binary and grey x, exact at logits ±120; kl = Σ of the closed form;
#   total = recon + β·kl (β = 0.3, 2, 1); inputs not modified.
#   gradients: total reaches recon_x, μ, log σ²; recon reaches recon_x; kl reaches μ and log σ².
torch.manual_seed(4)


def _reference_terms(recon_x, x, mu, logvar):
    """Per-pixel BCE (B, D) and per-example KL (B,), in float64, from first principles."""
    ell, target = recon_x.double(), x.double()
    bce = -(target * F.logsigmoid(ell) + (1 - target) * F.logsigmoid(-ell))
    mu64, logvar64 = mu.double(), logvar.double()
    prior = Normal(torch.zeros_like(mu64), torch.ones_like(mu64))
    kl = kl_divergence(Normal(mu64, torch.exp(0.5 * logvar64)), prior).sum(dim=1)
    return bce, kl


def _loss_mistakes(recon_x, x, mu, logvar, beta):
    bce, kl_rows = _reference_terms(recon_x, x, mu, logvar)
    recon, kl = bce.sum(), kl_rows.sum()
    mse = ((torch.sigmoid(recon_x.double()) - x.double()) ** 2).sum()
    return {
        "recon": {
            "a mean over all elements instead of a sum.": bce.mean(),
            "a sum over pixels but a mean over the batch: return batch sums.": bce.sum(dim=1).mean(),
            "MSE instead of the Bernoulli BCE.": mse,
        },
        "kl": {
            "the KL with the wrong sign.": -kl,
            "the KL without its factor ½.": 2 * kl,
            "a mean over latent coordinates instead of a sum.": kl_rows.sum() / mu.shape[1],
        },
        "total": {
            "β not applied: total = recon + kl.": recon + kl,
            "β multiplies the reconstruction instead of the KL.": beta * recon + kl,
        },
    }


def _check_loss(recon_x, x, mu, logvar, beta, case):
    inputs = (recon_x, x, mu, logvar)
    before = [t.clone() for t in inputs]
    outputs = vae_loss(recon_x, x, mu, logvar, beta=beta)
    assert isinstance(outputs, tuple) and len(outputs) == 3, "vae_loss should return (total, recon, kl)"
    total, recon, kl = (check_tensor(v, f"{n} ({case})", shape=()) for v, n in zip(outputs, ("total", "recon", "kl")))
    for name, b, a in zip(("recon_x", "x", "mu", "logvar"), before, inputs):
        check_unchanged(b, a, name)
    bce, kl_rows = _reference_terms(*inputs)
    hints = _loss_mistakes(*inputs, beta)
    check_close(recon, bce.sum(), f"recon ({case})", rtol=1e-4, mistakes=hints["recon"])
    check_close(kl, kl_rows.sum(), f"kl ({case})", rtol=1e-4, mistakes=hints["kl"])
    check_close(total, bce.sum() + beta * kl_rows.sum(), f"total ({case})", rtol=1e-4, mistakes=hints["total"])


# 1. Binary pixels, β = 0.3 (β must multiply the KL), a batch of 6 and latent_dim 5.
_check_loss(torch.randn(6, 784) * 3, torch.bernoulli(torch.full((6, 784), 0.2)), torch.randn(6, 5), torch.randn(6, 5), 0.3, "β = 0.3")
# 2. Grey-level targets, β = 2, batch of 3.
_check_loss(torch.randn(3, 784), torch.rand(3, 784), 2 * torch.randn(3, 20), torch.randn(3, 20) - 1, 2.0, "grey levels, β = 2")
# 3. Confident and wrong: logits of ±120 against the opposite pixel. The exact BCE is 120 per pixel;
#    a sigmoid followed by F.binary_cross_entropy rounds the probability to 0 and clamps log 0 to −100.
x = torch.bernoulli(torch.full((2, 784), 0.5))
recon_x = 120.0 * (1 - 2 * x)
mu, logvar = torch.zeros(2, 4), torch.zeros(2, 4)
_, recon, _ = vae_loss(recon_x, x, mu, logvar, beta=1.0)
check_close(
    as_float(recon, "recon for logits ±120"), 120.0 * x.numel(), "recon for confident wrong logits (±120)", rtol=1e-5,
    mistakes={"probabilities instead of logits: use F.binary_cross_entropy_with_logits, sigmoid + BCE clamps log 0 to −100.": 100.0 * x.numel()},
)
# 4. Differentiable in every input (no .item(), no detach).
leaves = {"recon_x": torch.randn(2, 784, requires_grad=True), "mu": torch.randn(2, 5, requires_grad=True), "logvar": torch.randn(2, 5, requires_grad=True)}
target = torch.rand(2, 784)
check_gradient_flows(vae_loss(leaves["recon_x"], target, leaves["mu"], leaves["logvar"], beta=0.5)[0], leaves, "total")
# ... and each returned term is differentiable on its own (training curves and β schedules use them).
check_gradient_flows(vae_loss(leaves["recon_x"], target, leaves["mu"], leaves["logvar"], beta=0.5)[1], {"recon_x": leaves["recon_x"]}, "recon")
check_gradient_flows(vae_loss(leaves["recon_x"], target, leaves["mu"], leaves["logvar"], beta=0.5)[2], {"mu": leaves["mu"], "logvar": leaves["logvar"]}, "kl")
print("vae_loss: hidden tests passed.")
### END HIDDEN TESTS

# %% [markdown]
# **Picture: why logits.** The BCE of one pixel as a function of the logit $\ell$, for a black, a white
# and a grey target. For $x = 0.5$ the minimum is $\log 2 \approx 0.69$, not 0: keep that in mind for the
# next notebook. Dashed: a sigmoid followed by `F.binary_cross_entropy` in float32, which saturates once
# $\operatorname{sigmoid}(\ell)$ rounds to 0 or 1: at 100 nats for a black or white target (PyTorch clamps
# $\log 0$ to $-100$), at 50 for $x = 0.5$, and with zero gradient there. For a black pixel
# that happens already at $\ell \approx 17$: $\operatorname{sigmoid}(17)$ is exactly `1.0` in float32.

# %%
logit_grid = torch.linspace(-130, 130, 2001)
fig, (ax_wide, ax_near) = plt.subplots(1, 2, figsize=(11, 3.8))
for target, color in ((1.0, "C0"), (0.0, "C1"), (0.5, "C2")):
    targets = torch.full_like(logit_grid, target)
    stable = F.binary_cross_entropy_with_logits(logit_grid, targets, reduction="none")
    naive = F.binary_cross_entropy(torch.sigmoid(logit_grid), targets, reduction="none")
    for ax in (ax_wide, ax_near):
        ax.plot(logit_grid, stable, color=color, label=f"x = {target}: with logits")
        ax.plot(logit_grid, naive, "--", color=color, label=f"x = {target}: sigmoid + BCE")
ax_wide.legend(fontsize=7)
label(ax_wide, "Per-pixel BCE over a wide range of logits", "logit ℓ", "BCE (nats)")
ax_near.set_xlim(-6, 6)
ax_near.set_ylim(0, 6)
ax_near.axhline(math.log(2), color="k", lw=0.8, ls=":")
label(ax_near, "Near 0: the grey target's minimum is log 2", "logit ℓ", "BCE (nats)")
fig.tight_layout()
plt.show()
for logit in (16.0, 17.0):
    print(f"float32: sigmoid({logit:.0f}) == 1.0 is {torch.sigmoid(torch.tensor(logit)).item() == 1.0}")
print(f"float32: sigmoid(-120) == 0.0 is {torch.sigmoid(torch.tensor(-120.0)).item() == 0.0}")

# %% [markdown]
# **Think:** the loss sums over the batch. If you halve the batch size, what happens to the size of the
# gradient, and why does Adam barely care? Which reported numbers would you divide by $B$?

# %% [markdown]
# ## 8. The MSE variant, and what it assumes
#
# **Why it matters.** Many VAEs use mean-squared error as the reconstruction term. That is not a free
# choice of "distance": it is the negative log-likelihood of a Gaussian decoder with a **fixed variance**,
# and the variance silently sets the balance between the two terms of the ELBO.
#
# **The mathematics.** With a Gaussian decoder of mean $m = \operatorname{sigmoid}(\ell) \in [0,1]^{784}$ and
# variance $s^2$ per pixel,
# $-\log \mathcal{N}(x; m, s^2 I) = \frac{1}{2s^2}\lVert x - m\rVert^2 + \frac{784}{2}\log(2\pi s^2)$.
# The summed squared error $\lVert x - m\rVert^2$ is this with $s^2 = \tfrac12$, minus a constant. So
#
# $$\text{recon}_{\text{MSE}} = \sum_{b,d} \big(\operatorname{sigmoid}(\ell_{bd}) - x_{bd}\big)^2, \qquad
#   \text{total} = \text{recon}_{\text{MSE}} + \beta\cdot\text{kl},$$
#
# with the same KL as before. Use the same logits `recon_x` as `vae_loss`, so one model can be trained
# with either loss: the Gaussian mean is $\operatorname{sigmoid}(\ell)$.

# %% nbgrader={"grade_id": "vae-loss-mse", "solution": true}
def vae_loss_mse(
    recon_x: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, beta: float = 1.0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The β-weighted loss with a squared-error reconstruction term (a Gaussian decoder, s² = ½).

    Args:
        recon_x: decoder logits ℓ, shape (B, 784); the Gaussian mean is sigmoid(ℓ).
        x: targets in [0, 1], shape (B, 784).
        mu: μ of q_φ(z|x), shape (B, latent_dim).
        logvar: log σ² of q_φ(z|x), shape (B, latent_dim).
        beta: β, the weight of the KL term.

    Returns:
        (total, recon, kl), three 0-d tensors summed over the batch: recon = Σ (sigmoid(ℓ) − x)²,
        kl = Σ KL(q_φ(z|x) ‖ N(0, I)), total = recon + β·kl. Keep them differentiable (no .item()).
    """
    ### BEGIN SOLUTION
    recon = F.mse_loss(torch.sigmoid(recon_x), x, reduction="sum")
    kl = 0.5 * torch.sum(mu.pow(2) + logvar.exp() - 1.0 - logvar)
    return recon + beta * kl, recon, kl
    ### END SOLUTION


# %% nbgrader={"grade_id": "vae-loss-mse-visible", "points": 2}
# Visible test: the three terms on a small batch, against first principles.
torch.manual_seed(0)
recon_x, x = torch.randn(4, 784), torch.rand(4, 784)
mu, logvar = torch.randn(4, 20), torch.randn(4, 20)
outputs = vae_loss_mse(recon_x, x, mu, logvar, beta=1.0)
assert isinstance(outputs, tuple) and len(outputs) == 3, "vae_loss_mse should return (total, recon, kl)"
total, recon, kl = (check_tensor(v, n, shape=()) for v, n in zip(outputs, ("total", "recon", "kl")))
squared = (torch.sigmoid(recon_x.double()) - x.double()) ** 2
kl_ref = 0.5 * (mu.double() ** 2 + logvar.double().exp() - 1 - logvar.double()).sum()
check_close(recon, squared.sum(), "recon", rtol=1e-5, mistakes={"the squared error of the logits: compare sigmoid(recon_x) with x.": ((recon_x.double() - x.double()) ** 2).sum()})
check_close(total, squared.sum() + kl_ref, "total", rtol=1e-5)
print("vae_loss_mse: visible tests passed.")

# %% nbgrader={"grade_id": "vae-loss-mse-hidden", "points": 4}
# Hidden tests for vae_loss_mse run when your notebook is graded.
### BEGIN HIDDEN TESTS
# Contract, each clause checked below (a number names the numbered test):
#   values: three 0-d tensors; recon = Σ (sigmoid(ℓ) − x)²; kl = Σ of the closed form; total = recon + β·kl; inputs not modified.
#   gradients: total reaches recon_x, μ, log σ²; recon reaches recon_x; kl reaches μ and log σ².
#   equivalent: F.mse_loss with its arguments swapped (symmetric).
torch.manual_seed(5)
for batch, latent, beta in [(5, 6, 0.25), (2, 20, 3.0)]:
    recon_x, x = 2 * torch.randn(batch, 784), torch.rand(batch, 784)
    mu, logvar = torch.randn(batch, latent), torch.randn(batch, latent)
    before = [t.clone() for t in (recon_x, x, mu, logvar)]
    case = f"B = {batch}, β = {beta}"
    outputs = vae_loss_mse(recon_x, x, mu, logvar, beta=beta)
    assert isinstance(outputs, tuple) and len(outputs) == 3, "vae_loss_mse should return (total, recon, kl)"
    total, recon, kl = (check_tensor(v, f"{n} ({case})", shape=()) for v, n in zip(outputs, ("total", "recon", "kl")))
    for name, b, a in zip(("recon_x", "x", "mu", "logvar"), before, (recon_x, x, mu, logvar)):
        check_unchanged(b, a, name)
    mean = torch.sigmoid(recon_x.double())
    squared = (mean - x.double()) ** 2
    bce = -(x.double() * F.logsigmoid(recon_x.double()) + (1 - x.double()) * F.logsigmoid(-recon_x.double()))
    mu64, logvar64 = mu.double(), logvar.double()
    prior = Normal(torch.zeros_like(mu64), torch.ones_like(mu64))
    kl_ref = kl_divergence(Normal(mu64, torch.exp(0.5 * logvar64)), prior).sum()
    check_close(
        recon, squared.sum(), f"recon ({case})", rtol=1e-4,
        mistakes={
            "a mean instead of a sum.": squared.mean(),
            "the squared error of the logits: compare sigmoid(recon_x) with x.": ((recon_x.double() - x.double()) ** 2).sum(),
            "the Bernoulli BCE instead of the squared error.": bce.sum(),
            "½ Σ (m − x)²: that is s² = 1; this loss is Σ (m − x)².": 0.5 * squared.sum(),
        },
    )
    check_close(kl, kl_ref, f"kl ({case})", rtol=1e-4, mistakes={"the KL with the wrong sign.": -kl_ref, "the KL without its factor ½.": 2 * kl_ref})
    check_close(
        total, squared.sum() + beta * kl_ref, f"total ({case})", rtol=1e-4,
        mistakes={"β not applied: total = recon + kl.": squared.sum() + kl_ref, "β multiplies the reconstruction.": beta * squared.sum() + kl_ref},
    )
leaves = {"recon_x": torch.randn(2, 784, requires_grad=True), "mu": torch.randn(2, 5, requires_grad=True), "logvar": torch.randn(2, 5, requires_grad=True)}
target = torch.rand(2, 784)
check_gradient_flows(vae_loss_mse(leaves["recon_x"], target, leaves["mu"], leaves["logvar"])[0], leaves, "total")
check_gradient_flows(vae_loss_mse(leaves["recon_x"], target, leaves["mu"], leaves["logvar"])[1], {"recon_x": leaves["recon_x"]}, "recon")
check_gradient_flows(vae_loss_mse(leaves["recon_x"], target, leaves["mu"], leaves["logvar"])[2], {"mu": leaves["mu"], "logvar": leaves["logvar"]}, "kl")
print("vae_loss_mse: hidden tests passed.")
### END HIDDEN TESTS

# %% [markdown]
# **Picture: how hard each loss pushes.** The reconstruction term of one white pixel ($x = 1$) as a
# function of the predicted probability / mean $m$. The squared error is at most 1 per pixel, the BCE
# grows without bound as $m \to 0$. Against the same KL, the MSE model can afford to get many pixels
# wrong, so one expects blurrier reconstructions and samples unless β is lowered (equivalently, $s^2$ is
# made smaller). This lab trains no model with the MSE loss: train one to see.

# %%
m_grid = torch.linspace(0.001, 0.999, 500)
logits_grid = torch.logit(m_grid)
ones = torch.ones_like(m_grid)
fig, ax = plt.subplots(figsize=(6.5, 3.8))
ax.plot(m_grid, F.binary_cross_entropy_with_logits(logits_grid, ones, reduction="none"), label="BCE: −log m")
ax.plot(m_grid, (m_grid - 1) ** 2, label="squared error: (m − 1)²")
ax.legend()
label(ax, "Reconstruction term of a white pixel (x = 1)", "predicted m = sigmoid(ℓ)", "loss (per pixel)")
plt.show()

torch.manual_seed(0)
with torch.no_grad():
    batch = x_train[gallery]
    logits, mu_b, logvar_b = model(batch)
    for name, loss_fn in (("vae_loss (BCE)", vae_loss), ("vae_loss_mse", vae_loss_mse)):
        total, recon, kl = loss_fn(logits, batch, mu_b, logvar_b)
        print(f"{name:15s} untrained model, per example: total {total.item() / 64:8.2f}  recon {recon.item() / 64:8.2f}  kl {kl.item() / 64:6.3f}")

# %% [markdown]
# **Think:** with the MSE loss, what value of β would make the objective the exact −ELBO of a
# Gaussian decoder with $s^2 = 0.01$ (up to a constant)? Would you expect sharper or blurrier samples?

# %% [markdown]
# **Try it: one grey pixel, two decoders.** The reconstruction term of one pixel of grey level $x$, as a
# function of the decoder's mean $m$, each less its minimum over $m$, so that both curves touch 0 at
# $m = x$: the Bernoulli decoder's BCE, and a Gaussian decoder's $(x - m)^2 / (2s^2)$. Move $x$ and the
# variance $s^2$ (this needs a running kernel). The squared error of `vae_loss_mse` is the Gaussian curve
# at $s^2 = \tfrac12$. Look for the $s^2$ at which the two curves agree near $m = x$, and watch how that
# $s^2$ moves with $x$.

# %% tags=["demo"]
mean_grid = torch.linspace(0.001, 0.999, 999, dtype=torch.float64)


def redraw_pixel_losses(x: float = 0.5, s2: float = 0.5) -> None:
    """Both reconstruction terms of one pixel of grey level x against the decoder's mean, less their minima."""
    target = torch.full_like(mean_grid, x)
    entropy = F.binary_cross_entropy(target[:1], target[:1])  # the BCE's minimum, at m = x
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(mean_grid, F.binary_cross_entropy(mean_grid, target, reduction="none") - entropy, label="Bernoulli: BCE(m; x) − its minimum")
    ax.plot(mean_grid, (x - mean_grid) ** 2 / (2 * s2), label=f"Gaussian, s² = {s2:.3g}: (x − m)² / (2s²)")
    ax.axvline(x, color="k", lw=0.8, ls=":")
    ax.set_ylim(0, 3)
    ax.legend(loc="upper center")
    label(ax, f"One pixel of grey level x = {x:.2f}: the reconstruction term, less its minimum", "decoder mean m", "loss − minimum (nats)")
    plt.show()


controls = widgets.interactive(
    redraw_pixel_losses,
    x=widgets.FloatSlider(value=0.5, min=0.05, max=0.95, step=0.05, continuous_update=False, description="grey level x"),
    s2=widgets.FloatLogSlider(value=0.5, base=10, min=-3, max=0, step=0.1, continuous_update=False, description="variance s²"),
)
display(controls)

# %% [markdown]
# **Think:** for $x = 0.5$ and for $x = 0.1$, at which $s^2$ do the two curves agree near $m = x$
# (compare their second derivatives there)? So what variance does a Bernoulli decoder implicitly give a
# pixel of mean $m$, and is the squared error's $s^2 = \tfrac12$ a looser or a tighter fit than the BCE
# for every grey level?

# %% [markdown]
# ## 9. Written answer
#
# A classmate's VAE samples the latent code with `z = torch.normal(mu, torch.exp(0.5 * logvar))`.
# Training runs without any error message and the loss goes down.
#
# 1. What is wrong, and what do the encoder's $\mu$ and $\log\sigma^2$ converge to? Say which term
#    of the loss still reaches them, and what the decoder learns to do as a consequence.
# 2. Name one quick check (a number you can print) that would have revealed the bug.
#
# Answer in the cell below (a few sentences).

# %% [markdown] nbgrader={"grade_id": "vae-model-insight", "solution": true, "points": 2}
# ### BEGIN SOLUTION
# **Model answer.**
# 1. `torch.normal` is not reparameterized: its output's derivative with respect to `mu` and the
#    standard deviation is zero, so the reconstruction term sends no gradient into the encoder.
#    Only the KL term reaches $\mu$ and $\log\sigma^2$, and it pulls them to its minimum $\mu = 0$,
#    $\log\sigma^2 = 0$ for every $x$: $q_\phi(z|x) = p(z)$, posterior collapse. The code $z$ then
#    carries no information about $x$, and the decoder learns to ignore it and output one average digit
#    (the loss still falls because the decoder improves).
# 2. For example: the gradient of the reconstruction term with respect to the encoder's weights is
#    exactly zero (`fc_mu.weight.grad` after `recon.backward()`); or the KL term falls to about 0
#    nats; or reconstructions of different digits are identical.
#
# **Rubric (2 points).**
# - 1 point: part 1 says the gradient through the sample is zero (not an error) **and** that the KL alone
#   drives the encoder to the prior / posterior collapse, with the decoder ignoring $z$. "It raises an
#   error" or "the samples have the wrong distribution" earns 0.
# - 1 point: part 2 gives a concrete check that would detect it (zero encoder gradient from the
#   reconstruction term, KL near 0, identical reconstructions).
# ### END SOLUTION

# %% [markdown]
# ## Summary
#
# * The VAE's generative process: $z \sim \mathcal{N}(0, I)$, then independent Bernoulli pixels with
#   logits $f_\theta(z)$. Its log-likelihood is intractable; the ELBO,
#   $\mathbb{E}_{q_\phi}[\log p_\theta(x|z)] - \mathrm{KL}(q_\phi(z|x)\,\|\,p(z))$, is a lower bound whose gap is
#   $\mathrm{KL}(q_\phi(z|x)\,\|\,p_\theta(z|x))$.
# * Reparameterize: $z = \mu + \exp(\tfrac12\log\sigma^2)\odot\varepsilon$. `torch.normal` gives samples
#   of the right distribution with a zero gradient, and `.sample()` gives them detached (no gradient);
#   neither raises an error in training.
# * The decoder outputs logits; the loss uses `binary_cross_entropy_with_logits`, summed over pixels and
#   batch, plus β times the closed-form KL. Probabilities plus `binary_cross_entropy` saturate (at 100
#   nats per pixel for a binary target) with zero gradient.
# * MSE is a Gaussian decoder with a fixed variance ($s^2 = \tfrac12$ for the plain sum); the variance is a
#   hidden β.
#
# **Questions to think about.**
# 1. The encoder outputs $\log\sigma^2$. What could go wrong if it output $\sigma$ directly, through a
#    linear layer?
# 2. Why does the KL have a closed form here while the reconstruction term needs a sample?
# 3. Next notebook: training. If the KL term collapses to 0 early in training, should β go up or down?
