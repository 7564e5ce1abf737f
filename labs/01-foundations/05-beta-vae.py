# %% [markdown]
# # Lab 1.5: Two forces: the β-VAE, rate and distortion
#
# The ELBO is a tug of war. Its reconstruction term E_q[log p_θ(x|z)] wants codes z that say as much
# as possible about x; its KL term KL(q_φ(z|x) ‖ p(z)) wants every code to look like the prior and say
# nothing. In this notebook you put a weight β on the KL, train one VAE per β, and watch the balance
# move: from codes that memorise, through a useful middle, to **posterior collapse**, where the latent
# variable is ignored altogether. We end with a look ahead at diffusion models, whose variational bound
# is the same kind of ELBO.
#
# **Learning objectives.** By the end you can
# 1. write the β-weighted objective and say what it optimises when β ≠ 1;
# 2. implement a fair β sweep (same data, same initialisation, a fresh model per β);
# 3. read a rate–distortion plot, KL per latent dimension and the number of active units;
# 4. recognise posterior collapse and name the fixes that work (and one that does not);
# 5. say which parts of the VAE's ELBO reappear in a diffusion model.
#
# **Prerequisites.** Notebook 1.4 (the ELBO and its two terms). This notebook stands alone: it gives
# you a ready-made VAE, so it does not need your answers from 1.4.
#
# **Estimated time.** 40 minutes.
#
# **How this notebook is graded.** One derivation entered as a SymPy expression (visible and hidden
# tests), one method to fill in (visible and hidden tests), a failure case to find and one written
# answer (graded by hand).

# %%
import ipywidgets as widgets
import matplotlib.pyplot as plt
import sympy
import torch
import torch.nn as nn
from torch.distributions import Normal, kl_divergence
from tqdm.auto import tqdm

from labkit import add_to_class, runtime, seed_everything
from labkit.checks import as_float, check_close, check_equivalent, check_expression, check_tensor
from labkit.plots import label, scatter_2d, use_course_style
from labkit.toy import make_spiral

torch.set_num_threads(1)  # the networks here are tiny: no time goes into splitting them across cores
seed_everything(0)
use_course_style()
print(runtime.describe())

# %% [markdown]
# The data is the standardised 2-D spiral of notebook 1.4. The spiral is a one-dimensional curve
# (plus a little noise) drawn in two dimensions: keep that in mind when you count how many latent
# dimensions the models end up using.

# %%
def standardise(points: torch.Tensor) -> torch.Tensor:
    """Zero mean and unit variance per coordinate."""
    return (points - points.mean(dim=0)) / points.std(dim=0)


data = standardise(make_spiral(n_samples=500, noise=0.1))
fig, ax = plt.subplots(figsize=(4.5, 4.5))
scatter_2d(ax, data, "The standardised spiral (500 points)", c=torch.arange(len(data)), cmap="viridis")
plt.show()

# %% [markdown]
# ## 1. The two forces, weighted
#
# **Why it matters.** The ELBO fixes the exchange rate between the two terms at 1 : 1. Changing that
# rate shows what each force does on its own, and it is a knob practitioners really turn (β-VAE for
# disentangling with β > 1, warm-up schedules with β < 1).
#
# Averaged over the data, the two terms have names from information theory (Alemi et al., 2018):
#
# $$
# D = -\,\mathbb{E}_{x}\,\mathbb{E}_{q_\phi(z|x)}[\log p_\theta(x|z)] \quad\text{(distortion)}, \qquad
# R = \mathbb{E}_{x}\,\mathrm{KL}(q_\phi(z|x)\,\|\,p(z)) \quad\text{(rate, in nats)} .
# $$
#
# The rate is how much information the code carries about x (an upper bound on it); the distortion is
# how badly x is rebuilt from the code. The β-VAE minimises
#
# $$
# \mathcal{L}_\beta = D + \beta R = -\,\mathbb{E}_{x}\mathbb{E}_{q}[\log p_\theta(x|z)] + \beta\, \mathbb{E}_{x}\mathrm{KL}(q_\phi(z|x)\,\|\,p(z)) .
# $$
#
# Only β = 1 makes $-\mathcal{L}_\beta$ the ELBO itself. Is $-\mathcal{L}_\beta$ still a lower bound on
# log p(x) when β ≠ 1? You decide, below. Whatever β, the trained model is the point of the
# rate–distortion trade-off where the curve has slope −β: small β buys low distortion with a lot of
# rate, large β pays distortion to save rate.
#
# **Derive: when is the β-objective a bound?** Per data point, the β-objective is
# $F_\beta(x) = \mathbb{E}_q[\log p_\theta(x|z)] - \beta\,\mathrm{KL}(q\,\|\,p(z))$. Using
# $\log p = \mathrm{ELBO} + \mathrm{KL}(q\,\|\,p_\theta(z|x))$ (notebook 1.4), write the gap
# $\log p_\theta(x) - F_\beta(x)$ as a sum of two KL terms, each with its coefficient, and conclude for
# which β it is never negative. Then make it concrete in the model of notebook 1.4: $p(z) = \mathcal{N}(0, 1)$,
# $p_\theta(x|z) = \mathcal{N}(z, \sigma^2)$, $q(z) = \mathcal{N}(m, v)$ ($v$ a variance), where
# $p_\theta(x) = \mathcal{N}(x; 0, 1 + \sigma^2)$. Enter the gap as a SymPy expression in
# `x, m, v, sigma, beta`.

# %%
x_s, m_s = sympy.symbols("x m", real=True)
v_s, sigma_s, beta_s = sympy.symbols("v sigma beta", positive=True)
BETA_SYMBOLS = (x_s, m_s, v_s, sigma_s, beta_s)

# %% nbgrader={"grade_id": "derive-beta-gap", "solution": true}
def derived_beta_gap(x, m, v, sigma, beta):
    """log p(x) − F_β(x) for p(z) = N(0, 1), p(x|z) = N(z, σ²), q(z) = N(m, v), as a SymPy expression.

    Contract:
        - a SymPy expression in x, m, v, sigma, beta only, real and finite for v, σ, β > 0;
        - equal, for every value of the five symbols, to log N(x; 0, 1 + σ²) − E_q[log p(x|z)]
          + β KL(q ‖ p(z)) (any equivalent form).
    """
    ### BEGIN SOLUTION
    kl_to_posterior = (sympy.log(sigma**2 / (1 + sigma**2) / v) / 2
                       + (v + (m - x / (1 + sigma**2)) ** 2) / (2 * sigma**2 / (1 + sigma**2)) - sympy.Rational(1, 2))
    kl_to_prior = (m**2 + v - 1 - sympy.log(v)) / 2
    return kl_to_posterior + (beta - 1) * kl_to_prior
    ### END SOLUTION


# %% nbgrader={"grade_id": "derive-beta-gap-visible", "points": 1}
# Visible test: what the gap must do, at numbers; it never writes the gap out.
name = "derived_beta_gap(x, m, v, sigma, beta)"
beta_gap = check_expression(derived_beta_gap(*BETA_SYMBOLS), name, symbols=BETA_SYMBOLS,
                            points=[{x_s: 0.4, m_s: -0.2, v_s: 0.6, sigma_s: 0.9, beta_s: 2.0}])
at = lambda x, m, v, sigma, beta: float(beta_gap.subs(dict(zip(BETA_SYMBOLS, (x, m, v, sigma, beta)))))
x_value, noise = 1.3, 0.7
post_m, post_v = x_value / (1 + noise**2), noise**2 / (1 + noise**2)  # the exact posterior of this model
check_close(at(x_value, post_m, post_v, noise, 1.0), 0.0, name + " at β = 1, q = the posterior", atol=1e-9)
# Twenty other q (m in [−0.6, 1.4], v in [0.4, 2.4]) and β in [1, 5]: never negative.
generator = torch.Generator().manual_seed(5)
for u_m, u_v, u_beta in torch.rand(20, 3, generator=generator, dtype=torch.float64).tolist():
    beta_value = 1.0 + 4.0 * u_beta
    assert at(x_value, 2.0 * u_m - 0.6, 0.4 + 2.0 * u_v, noise, beta_value) > 0, (
        f"{name} is negative at β = {beta_value:.2f} ≥ 1: the β-objective would exceed log p(x)."
    )
print("derived_beta_gap: visible tests passed.")

# %% nbgrader={"grade_id": "derive-beta-gap-hidden", "points": 2}
# Hidden tests for derived_beta_gap run when your notebook is graded.
### BEGIN HIDDEN TESTS
# Contract: symbolic equivalence with log N(x; 0, 1 + σ²) − E_q[log N(x; z, σ²)] + β KL(N(m, v) ‖ N(0, 1)).
name = "derived_beta_gap(x, m, v, sigma, beta)"
_log_evidence = -sympy.log(2 * sympy.pi * (1 + sigma_s**2)) / 2 - x_s**2 / (2 * (1 + sigma_s**2))
_reconstruction = -sympy.log(2 * sympy.pi * sigma_s**2) / 2 - ((x_s - m_s) ** 2 + v_s) / (2 * sigma_s**2)
_reference_gap = _log_evidence - _reconstruction + beta_s * (m_s**2 + v_s - 1 - sympy.log(v_s)) / 2
_domain = {x_s: (-3.0, 3.0), m_s: (-3.0, 3.0), v_s: (0.05, 4.0), sigma_s: (0.1, 3.0), beta_s: (0.0, 10.0)}
check_equivalent(derived_beta_gap(*BETA_SYMBOLS), _reference_gap, name, symbols=BETA_SYMBOLS, sample=_domain)
check_equivalent(derived_beta_gap(*sympy.symbols("x m v sigma beta")), _reference_gap, name + " with plain symbols",
                 symbols=BETA_SYMBOLS, sample=_domain)
print("derived_beta_gap: hidden tests passed.")
### END HIDDEN TESTS

# %% [markdown]
# **Find the failure case (graded).** Your expression says for which β the gap can be negative. Find
# one: a β < 1 and a $q$ for which $F_\beta(x) > \log p_\theta(x)$ in this model (try $q$ = the exact
# posterior), and say in a sentence why warm-up schedules with β < 1 must not report $-\mathcal{L}_\beta$
# as a bound. Answer in the cell below.

# %% [markdown] nbgrader={"grade_id": "beta-failure-case", "solution": true, "points": 1}
# ### BEGIN SOLUTION
# **Model answer.** $\log p_\theta(x) - F_\beta = \mathrm{KL}(q\,\|\,p_\theta(z|x)) + (\beta - 1)\,\mathrm{KL}(q\,\|\,p(z))$.
# For β ≥ 1 both terms are ≥ 0, so $F_\beta \le \mathrm{ELBO} \le \log p_\theta(x)$. Take $q$ = the exact
# posterior $\mathcal{N}(x/(1+\sigma^2), \sigma^2/(1+\sigma^2))$: the first KL is 0, and the second is
# positive whenever the posterior differs from the prior (any $x \neq 0$ or $\sigma < \infty$), so any
# β < 1, e.g. β = 0.5 with $x = 1.3$, $\sigma = 0.7$, gives $F_\beta > \log p_\theta(x)$. During a warm-up
# with β < 1 the reported objective can exceed the log-likelihood, so it is not a bound and must not be
# compared with other models' ELBOs.
#
# **Rubric (1 point).** The two-KL decomposition with coefficient $\beta - 1$ **and** a concrete
# failure case (β < 1 with $q$ the posterior, or any $q$ where the second term dominates), with the
# consequence for warm-up. "β < 1 gives a tighter bound" earns 0.
# ### END SOLUTION

# %% [markdown]
# ## 2. A ready-made VAE
#
# `SpiralVAE` is the VAE of notebook 1.4 with a slightly deeper encoder and decoder and **four** latent
# dimensions (more than the spiral needs, so that we can see which ones get used). Its ELBO terms come
# from `torch.distributions`: `Normal(...).rsample()` is the library's reparameterisation trick,
# `Normal.log_prob` the Gaussian log-likelihood and `kl_divergence` the closed-form KL, the library
# versions of `reparameterize`, `reconstruction_loss` and `kl_regularization` that you built by hand in
# notebook 1.4. As there, the reconstruction term is a **log-likelihood: higher is better**.
#
# `elbo_terms(x)` keeps the KL of each latent dimension separately (`kl_per_dim`); the KL of a data
# point is their sum. `summary(x)` evaluates a trained model and returns the dictionary your sweep
# will store for each β.

# %%
class SpiralVAE(nn.Module):
    """A Gaussian VAE for 2-D points: q_φ(z|x) = N(μ, diag σ²), p_θ(x|z) = N(decoder(z), σ_x² I), p(z) = N(0, I)."""

    def __init__(self, data_dim: int = 2, latent_dim: int = 4, hidden_dim: int = 32):
        super().__init__()
        self.latent_dim = latent_dim
        self.encoder = nn.Sequential(
            nn.Linear(data_dim, hidden_dim), nn.ReLU(),
            nn.Linear(hidden_dim, hidden_dim), nn.ReLU(),
            nn.Linear(hidden_dim, 2 * latent_dim),
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, hidden_dim), nn.ReLU(),
            nn.Linear(hidden_dim, hidden_dim), nn.ReLU(),
            nn.Linear(hidden_dim, data_dim),
        )
        # log σ_x², shared by every coordinate. Starting confident (σ_x² = e⁻³) is meant to make the decoder use z early.
        self.decoder_logvar = nn.Parameter(torch.full((1,), -3.0))

    def posterior(self, x: torch.Tensor) -> Normal:
        """q_φ(z|x), a batch of diagonal Gaussians with batch shape (batch, latent_dim)."""
        mu, logvar = self.encoder(x).chunk(2, dim=-1)
        return Normal(mu, torch.exp(0.5 * logvar))

    def elbo_terms(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """One-sample ELBO terms for x of shape (batch, data_dim).

        Returns a dict with 'reconstruction' (batch,) = log p_θ(x|z) for z ~ q_φ(z|x) (higher is better),
        'kl_per_dim' (batch, latent_dim) = KL(q_φ(z_j|x) ‖ N(0, 1)) for each latent dimension j,
        'mu' and 'z' (batch, latent_dim), and 'x_recon' (batch, data_dim), the decoder's mean for z.
        """
        q = self.posterior(x)
        z = q.rsample()
        x_recon = self.decoder(z)
        likelihood = Normal(x_recon, torch.exp(0.5 * self.decoder_logvar))
        return {
            "reconstruction": likelihood.log_prob(x).sum(dim=-1),
            "kl_per_dim": kl_divergence(q, Normal(0.0, 1.0)),
            "mu": q.loc,
            "z": z,
            "x_recon": x_recon,
        }

    @torch.no_grad()
    def summary(self, x: torch.Tensor) -> dict:
        """Evaluate the model on x: the entry of one β in the sweep's results."""
        terms = self.elbo_terms(x)
        return {
            "reconstruction": terms["reconstruction"].mean().item(),          # mean E_q[log p(x|z)]
            "kl_divergence": terms["kl_per_dim"].sum(dim=-1).mean().item(),   # mean KL, the rate R
            "kl_per_dim": terms["kl_per_dim"].mean(dim=0),                    # (latent_dim,)
            "latent_samples": terms["z"],                                     # (n, latent_dim)
            "reconstructions": terms["x_recon"],                              # (n, data_dim)
            "latent_means": terms["mu"],                                      # (n, latent_dim), E_q[z]
        }


torch.manual_seed(0)
untrained = SpiralVAE()
untrained_summary = untrained.summary(data)
print(f"untrained: E_q[log p(x|z)] = {untrained_summary['reconstruction']:.2f}, "
      f"KL = {untrained_summary['kl_divergence']:.3f} nats, KL per dimension = "
      f"{untrained_summary['kl_per_dim'].numpy().round(3)}")

# %% [markdown]
# ## 3. The β sweep
#
# **Why it matters.** A comparison across β is only fair if nothing but β changes. So every β gets a
# **fresh** model, built right after `torch.manual_seed(seed)`: all models start from the same
# weights and see the same noise, and the result for one β does not depend on which βs were trained
# before it. (Reusing one model across β would make β = 10 start where β = 0 stopped.)
#
# For each β, minimise with Adam (learning rate `self.lr`), on the whole data set at every step,
#
# $$
# \mathcal{L}_\beta = -\frac1n\sum_{i=1}^{n} \log p_\theta(x_i|z_i) \;+\; \beta\,\frac1n\sum_{i=1}^{n}\mathrm{KL}(q_\phi(z|x_i)\,\|\,p(z)),
# \qquad z_i \sim q_\phi(z|x_i),
# $$
#
# where a data point's KL is the sum of `kl_per_dim` over its latent dimensions. Then store
# `model.summary(data)` under the key β.

# %%
class TwoForcesAnalysis:
    """Train one SpiralVAE per β, from the same initialisation, and collect what each one learned."""

    def __init__(self, latent_dim: int = 4, lr: float = 1e-2):
        self.latent_dim = latent_dim
        self.lr = lr


# %% nbgrader={"grade_id": "analyze-beta-vae", "solution": true}
@add_to_class(TwoForcesAnalysis)
def analyze_beta_vae(
    self,
    data: torch.Tensor,
    beta_values: tuple[float, ...] = (0.0, 0.1, 1.0, 5.0, 10.0),
    steps: int | None = None,
    seed: int = 0,
) -> dict[float, dict]:
    """Train a fresh SpiralVAE for each β on the β-weighted objective and summarise it.

    Args:
        data: x, shape (n, data_dim); every step uses all n points.
        beta_values: the βs to train, each ≥ 0.
        steps: Adam steps per β; None means runtime.scaled(1000, 50).
        seed: passed to torch.manual_seed right before building each β's model, so that every β
            starts from the same weights and draws the same noise.

    Returns:
        A dict mapping each β to model.summary(data) of its trained model: 'reconstruction' (float,
        mean E_q[log p(x|z)]), 'kl_divergence' (float, mean KL), 'kl_per_dim' (latent_dim,),
        'latent_samples' (n, latent_dim), 'reconstructions' (n, data_dim), 'latent_means'
        (n, latent_dim).

    Contract:
        - a dict keyed by the given βs, each entry model.summary(data) with its keys and shapes;
        - every β gets a fresh SpiralVAE(data_dim, self.latent_dim) built right after
          torch.manual_seed(seed), and the Adam optimiser of its parameters with lr = self.lr; each step
          calls model.elbo_terms(data) once (its only random draw) and takes one step on
          −mean reconstruction + β · mean KL (a point's KL being the sum of its kl_per_dim; a positive
          constant multiple, such as the sum over the n points, trains the same, since Adam's steps do
          not depend on the loss's scale), so that the same β gives the same result in any order and
          whatever the global random state on entry;
        - the β-weighting is checked in the middle of the range (0 < β < 1 and β > 1) against a run of
          this recipe with the same seed, to within float32 rounding, and at β = 0 and β = 10 by what
          each force alone must do.
    """
    ### BEGIN SOLUTION
    steps = runtime.scaled(1000, 50) if steps is None else steps
    results = {}
    for beta in beta_values:
        torch.manual_seed(seed)
        model = SpiralVAE(data_dim=data.shape[-1], latent_dim=self.latent_dim)
        optimizer = torch.optim.Adam(model.parameters(), lr=self.lr)
        for _ in range(steps):
            optimizer.zero_grad()
            terms = model.elbo_terms(data)
            reconstruction = terms["reconstruction"].mean()
            kl = terms["kl_per_dim"].sum(dim=-1).mean()
            loss = -reconstruction + beta * kl
            loss.backward()
            optimizer.step()
        results[beta] = model.summary(data)
    return results
    ### END SOLUTION


# %% nbgrader={"grade_id": "analyze-beta-vae-visible", "points": 1}
_x = standardise(make_spiral(n_samples=64, seed=3))
_results = TwoForcesAnalysis().analyze_beta_vae(_x, beta_values=(0.0, 1.0), steps=5, seed=0)
if not isinstance(_results, dict):
    raise AssertionError(f"analyze_beta_vae should return a dict, got {type(_results).__name__}.")
if sorted(float(_b) for _b in _results) != [0.0, 1.0]:
    raise AssertionError(f"the keys should be the βs (0.0, 1.0), got {list(_results)}.")
for _beta in (0.0, 1.0):
    _entry = _results[_beta]
    for _key in ("reconstruction", "kl_divergence", "kl_per_dim", "latent_samples", "reconstructions"):
        if _key not in _entry:
            raise AssertionError(f"results[{_beta}] lacks the key '{_key}'.")
    as_float(_entry["reconstruction"], f"results[{_beta}]['reconstruction']")
    as_float(_entry["kl_divergence"], f"results[{_beta}]['kl_divergence']")
    check_tensor(_entry["kl_per_dim"], f"results[{_beta}]['kl_per_dim']", shape=(4,))
    check_tensor(_entry["latent_samples"], f"results[{_beta}]['latent_samples']", shape=(64, 4))
    check_tensor(_entry["reconstructions"], f"results[{_beta}]['reconstructions']", shape=(64, 2))
print("analyze_beta_vae: visible tests passed.")

# %% nbgrader={"grade_id": "analyze-beta-vae-hidden", "points": 2}
# Hidden tests for analyze_beta_vae run when your notebook is graded.
### BEGIN HIDDEN TESTS
# Contract: a dict keyed by the βs, each entry with the summary's keys and shapes; order and global state
# do not matter.
_x = standardise(make_spiral(n_samples=160, seed=5))
_steps = 150
_analysis = TwoForcesAnalysis()
torch.manual_seed(0)
_forward = _analysis.analyze_beta_vae(_x, beta_values=(0.0, 10.0), steps=_steps, seed=0)
torch.manual_seed(1)  # a different global state on entry must not matter either
_backward = _analysis.analyze_beta_vae(_x, beta_values=(10.0, 0.0), steps=_steps, seed=0)

for _results in (_forward, _backward):
    if not isinstance(_results, dict) or sorted(float(_b) for _b in _results) != [0.0, 10.0]:
        raise AssertionError("analyze_beta_vae should return a dict whose keys are the given βs.")
    for _beta in (0.0, 10.0):
        _entry = _results[_beta]
        _name = f"results[{_beta}]"
        as_float(_entry["reconstruction"], f"{_name}['reconstruction']")
        _kl_total = as_float(_entry["kl_divergence"], f"{_name}['kl_divergence']")
        _kl_dims = check_tensor(_entry["kl_per_dim"], f"{_name}['kl_per_dim']", shape=(4,))
        check_tensor(_entry["latent_samples"], f"{_name}['latent_samples']", shape=(160, 4))
        check_tensor(_entry["reconstructions"], f"{_name}['reconstructions']", shape=(160, 2))
        check_close(_kl_dims.sum(), _kl_total, f"the sum of {_name}['kl_per_dim'] (should be the mean KL)",
                    rtol=1e-4, atol=1e-4)

# The same β gives the same result whatever was trained before it: a fresh model per β, seeded.
for _beta in (0.0, 10.0):
    for _key in ("reconstruction", "kl_divergence", "latent_samples"):
        check_close(_backward[_beta][_key], _forward[_beta][_key],
                    f"results[{_beta}]['{_key}'] after training the βs in the other order (a fresh model, "
                    "built right after torch.manual_seed(seed), for every β?)", rtol=1e-4, atol=1e-5)

# Contract: at the ends of the range, each force alone. The reference point: the same initial model,
# untrained, evaluated on the same data.
torch.manual_seed(0)
_untrained = SpiralVAE()
with torch.no_grad():
    _base_reconstruction = _untrained.elbo_terms(_x)["reconstruction"].mean().item()
    _base_kl = _untrained.elbo_terms(_x)["kl_per_dim"].sum(dim=-1).mean().item()

# β = 0: only the reconstruction force acts, so training must improve the reconstruction a lot.
_rec0 = as_float(_forward[0.0]["reconstruction"], "results[0.0]['reconstruction']")
if not _rec0 > _base_reconstruction + 0.5 * abs(_base_reconstruction):
    raise AssertionError(
        f"At β = 0 the trained model's E_q[log p(x|z)] ({_rec0:.2f}) is barely better than, or worse than, the "
        f"untrained model's ({_base_reconstruction:.2f}). The loss must be −reconstruction + β·KL: check the sign "
        "of the reconstruction term, that β multiplies only the KL, and that optimizer.zero_grad() runs every step."
    )
# β = 10: the KL force dominates, so the KL must be far below its β = 0 value.
_kl0 = as_float(_forward[0.0]["kl_divergence"], "results[0.0]['kl_divergence']")
_kl10 = as_float(_forward[10.0]["kl_divergence"], "results[10.0]['kl_divergence']")
if not _kl10 < 0.2 * _kl0:
    raise AssertionError(
        f"The mean KL at β = 10 ({_kl10:.3f}) is not much smaller than at β = 0 ({_kl0:.3f}): is β used, "
        "does it multiply the KL with a plus sign in the loss, and is a fresh model trained for each β?"
    )
if not _kl10 < _base_kl:
    raise AssertionError(
        f"At β = 10 training should pull the KL below the untrained model's ({_base_kl:.3f}), got {_kl10:.3f}: "
        "check the sign of β·KL in the loss."
    )


# Contract: steps=None means runtime.scaled(1000, 50) steps.
_default = _analysis.analyze_beta_vae(_x, beta_values=(1.0,), steps=None, seed=2)
_explicit = _analysis.analyze_beta_vae(_x, beta_values=(1.0,), steps=runtime.scaled(1000, 50), seed=2)
check_close(as_float(_default[1.0]["kl_divergence"], "results[1.0]['kl_divergence']"), _explicit[1.0]["kl_divergence"],
            "results[1.0]['kl_divergence'] with steps=None (the docstring's default is runtime.scaled(1000, 50) steps)",
            rtol=1e-5, atol=1e-6)


# Contract: in the middle of the range, the β-weighted objective itself. The docstring's recipe fixes every
# random draw, so a run of it with the same seed is a reference; differently ordered but equal losses
# agree with it to about 1e-5 after 60 steps (float32 rounding), so 1e-3 leaves room.
def _recipe_run(data, beta, steps, seed, lr, latent_dim):
    torch.manual_seed(seed)
    model = SpiralVAE(data_dim=data.shape[-1], latent_dim=latent_dim)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        optimizer.zero_grad()
        terms = model.elbo_terms(data)
        loss = -terms["reconstruction"].mean() + beta * terms["kl_per_dim"].sum(dim=-1).mean()
        loss.backward()
        optimizer.step()
    return model.summary(data)


_middle_steps, _middle_seed = 60, 3
_middle = _analysis.analyze_beta_vae(_x, beta_values=(0.3, 2.0), steps=_middle_steps, seed=_middle_seed)
for _beta in (0.3, 2.0):
    _name = f"results[{_beta}]"
    if _beta not in _middle:
        raise AssertionError(f"analyze_beta_vae(beta_values=(0.3, 2.0)) has no key {_beta}.")
    _reference = _recipe_run(_x, _beta, _middle_steps, _middle_seed, _analysis.lr, _analysis.latent_dim)
    _kl_wrong = {
        "the KL is averaged over the latent dimensions: a point's KL is the SUM of its kl_per_dim.":
            _recipe_run(_x, _beta / _analysis.latent_dim, _middle_steps, _middle_seed, _analysis.lr,
                        _analysis.latent_dim),
        "the KL is summed over the data points: average it over the batch, like the reconstruction.":
            _recipe_run(_x, _beta * len(_x), _middle_steps, _middle_seed, _analysis.lr, _analysis.latent_dim),
    }
    for _key in ("kl_divergence", "reconstruction"):
        check_close(as_float(_middle[_beta][_key], f"{_name}['{_key}']"), _reference[_key],
                    f"{_name}['{_key}'] after {_middle_steps} steps at β = {_beta} (a run of the docstring's recipe "
                    "with the same seed differs)", rtol=1e-3, atol=1e-3,
                    mistakes={_hint: _wrong[_key] for _hint, _wrong in _kl_wrong.items()})
### END HIDDEN TESTS

# %% [markdown]
# **The sweep.** We call your function once per β (the loop shows a progress bar), which gives the
# same result as one call with all five βs, since every β starts afresh.

# %%
analysis = TwoForcesAnalysis()
beta_values = (0.0, 0.1, 1.0, 5.0, 10.0)
sweep = {}


def require_sweep() -> None:
    """Stop a figure cell with a clear message while the sweep has no results yet."""
    missing = [beta for beta in beta_values if beta not in sweep]
    if missing:
        raise NotImplementedError(
            f"The β sweep has no results for β = {missing}: write analyze_beta_vae, then run the sweep cell again."
        )


for beta in tqdm(beta_values, desc="β sweep"):
    sweep.update(analysis.analyze_beta_vae(data, beta_values=(beta,)))

print(" β     E_q[log p(x|z)]   KL (rate)   ELBO = rec − KL")
for beta, result in sweep.items():
    print(f"{beta:4.1f}   {result['reconstruction']:14.3f}   {result['kl_divergence']:9.3f}   "
          f"{result['reconstruction'] - result['kl_divergence']:14.3f}")

# %% [markdown]
# **Picture: the rate–distortion plane.** Each trained model is one point (R, D). The dashed line
# D + R = const through the β = 1 model is a line of equal ELBO: a model below it would have a higher
# ELBO. Small β sits at high rate and low distortion (bottom right), large β at zero rate and high
# distortion (top left).

# %%
require_sweep()
rates = [sweep[b]["kl_divergence"] for b in beta_values]
distortions = [-sweep[b]["reconstruction"] for b in beta_values]
fig, ax = plt.subplots(figsize=(7, 4.5))
ax.plot(rates, distortions, "o-", color="C0")
for beta, rate, distortion in zip(beta_values, rates, distortions):
    offset = (6, -14) if beta == max(beta_values) else (6, 6)  # the two largest βs sit on top of each other
    ax.annotate(f"β = {beta:g}", (rate, distortion), textcoords="offset points", xytext=offset)
elbo_level = rates[beta_values.index(1.0)] + distortions[beta_values.index(1.0)]
rate_line = torch.linspace(0, max(rates), 50)
ax.plot(rate_line, elbo_level - rate_line, "--", color="0.5", label="D + R = −ELBO of the β = 1 model")
ax.set_ylim(min(distortions) - 1, max(distortions) + 1.5)
ax.legend()
label(ax, "Rate–distortion: one trained VAE per β", "rate R = mean KL(q(z|x) ‖ p(z)) (nats)",
      "distortion D = −mean E_q[log p(x|z)] (nats)")
plt.show()

# %% [markdown]
# **Think:** Why is no point below the dashed line, even though the β = 0 model reconstructs far better
# than the β = 1 model? What does the β = 0 model pay for its low distortion, and why would sampling
# z ~ p(z) from it give poor points?

# %% [markdown]
# **Try it.** Each β is a slope in this plane: the β-objective $D + \beta R$ is constant along lines of
# slope $-\beta$. Move β (this needs a running kernel; it redraws from the five trained models above,
# nothing is retrained). The solid line is the lowest line of slope $-\beta$ that touches a trained model,
# and the red ring marks that model: the best of the five for the objective at this β. Look for the
# ring moving from bottom right to top left as β grows, and check whether, at each β of the sweep, the
# ring sits on the model that was trained with that β.

# %%
def redraw_beta_slope(beta: float) -> None:
    require_sweep()
    rates = [sweep[b]["kl_divergence"] for b in beta_values]
    distortions = [-sweep[b]["reconstruction"] for b in beta_values]
    objectives = [d + beta * r for r, d in zip(rates, distortions)]
    best = objectives.index(min(objectives))
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot(rates, distortions, "o-", color="C0", label="trained models (one per β of the sweep)")
    ax.plot(rates[best], distortions[best], "o", ms=14, mfc="none", mec="C3", mew=2,
            label=f"lowest D + βR: the model trained at β = {beta_values[best]:g}")
    rate_line = torch.linspace(0, max(rates), 50)
    ax.plot(rate_line, min(objectives) - beta * rate_line, "-", color="C3", lw=1, label=f"D + {beta:g} R = {min(objectives):.2f}")
    ax.set_ylim(min(distortions) - 1, max(distortions) + 1.5)
    ax.legend(loc="upper right", fontsize=8)
    label(ax, f"The β-objective at β = {beta:g}: a line of slope −β", "rate R = mean KL(q(z|x) ‖ p(z)) (nats)",
          "distortion D = −mean E_q[log p(x|z)] (nats)")
    plt.show()


controls = widgets.interactive(
    redraw_beta_slope,
    beta=widgets.FloatSlider(value=1.0, min=0.0, max=10.0, step=0.1, continuous_update=False, description="β"),
)
display(controls)

# %% [markdown]
# **Think:** at β = 0 the line is flat, so the lowest distortion wins whatever its rate. As β grows
# from 1, at which β does the ring leave the β = 1 model, and for which model? What does the slope at
# that jump say about how many nats of distortion one nat of rate buys between those two models?

# %% [markdown]
# ## 4. Which latent dimensions are used? Posterior collapse
#
# **Why it matters.** A VAE can lower the KL by giving up on z altogether: if $q_\phi(z|x) = p(z)$ for
# every x, the KL is 0 and the decoder, which then receives pure noise, learns to output the average
# data point with a large variance. This is **posterior collapse**. It can also hit some latent
# dimensions and not others, so we look at each dimension j:
#
# - its mean KL, $\mathbb{E}_x\,\mathrm{KL}(q_\phi(z_j|x)\,\|\,\mathcal{N}(0,1))$ (`kl_per_dim`);
# - whether it is **active** (Burda, Grosse and Salakhutdinov, 2016): $A_j = \operatorname{Cov}_x\big(\mathbb{E}_{q_\phi(z|x)}[z_j]\big) > 0.01$.
#   An inactive dimension has an encoder mean that hardly moves with x, so it carries no information.

# %%
def active_units(latent_means: torch.Tensor, threshold: float = 0.01) -> torch.Tensor:
    """Which latent dimensions are active: Var over the data of E_q[z_j], compared with a threshold."""
    return latent_means.var(dim=0) > threshold


require_sweep()
fig, (ax_kl, ax_var) = plt.subplots(1, 2, figsize=(12, 4.2))
width = 0.8 / len(beta_values)
dims = torch.arange(analysis.latent_dim)
for i, beta in enumerate(beta_values):
    ax_kl.bar(dims + i * width, sweep[beta]["kl_per_dim"], width=width, label=f"β = {beta:g}")
    ax_var.bar(dims + i * width, sweep[beta]["latent_means"].var(dim=0).clamp_min(1e-6), width=width,
               label=f"β = {beta:g}")
for ax in (ax_kl, ax_var):
    ax.set_xticks(dims + 0.4 - width / 2, [f"$z_{j + 1}$" for j in dims])
ax_kl.set_yscale("symlog", linthresh=0.1)
label(ax_kl, "KL per latent dimension", "latent dimension", "mean KL (nats, symlog scale)")
ax_var.axhline(0.01, color="k", ls="--", label="active threshold 0.01")
ax_var.set_yscale("log")
label(ax_var, "Activity: Var over x of E_q[z_j]", "latent dimension", "Cov_x(E_q[z_j]) (log scale)")
plt.tight_layout()
fig.legend(*ax_var.get_legend_handles_labels(), loc="upper center", ncol=6, bbox_to_anchor=(0.5, 0.0))
plt.show()
for beta in beta_values:
    active = active_units(sweep[beta]["latent_means"])
    print(f"β = {beta:4.1f}: {int(active.sum())} active unit(s) of {analysis.latent_dim}")

# %% [markdown]
# At β = 0 nothing holds the codes back, and all four dimensions carry information (far more than a
# one-dimensional curve needs). As β grows, the number of active dimensions falls (the counts printed
# above). When the count reaches 0, every dimension has collapsed to the prior and the decoder draws
# the same blurred cloud for every x: its distortion is then that of $\mathcal{N}(0, I)$ fitted to the
# standardised data, $\log 2\pi + 1 \approx 2.84$ nats, the data's mean with the data's own variance.
# Read your own counts: where exactly that happens depends on the
# run (the random initialisation and the number of steps), so a sweep whose collapse starts at another
# β is not wrong.
#
# **A correction to folk advice.** You may read "if the KL goes to 0, increase β". That is backwards:
# a larger β *strengthens* the pull towards the prior, which is what caused the collapse. The fixes
# that work are
# - **lower β** (β ≤ 1), so that information in z pays for itself;
# - **KL warm-up (annealing)**: start training at β = 0 and raise it gradually to 1, so that the
#   decoder learns to use z before the KL starts charging for it;
# - related tricks: "free bits" (no KL penalty below a few nats per dimension), a weaker decoder, or a
#   decoder variance that cannot grow to absorb everything.
#
# **Think:** Why does the decoder's learned variance σ_x² make collapse easier? (Compare what the
# decoder must do to explain the data when it ignores z, with and without a free σ_x².)

# %% [markdown]
# ## 5. Four views of the trade-off
#
# A summary figure. The reconstruction axis is a log-likelihood (higher is better, not a "loss"), and
# the x-axis is symmetric-logarithmic so that β = 0 and β = 10 both show. The latent panel shows, for
# each β, its two dimensions with the largest KL.

# %%
require_sweep()
shown_betas, colors = (0.0, 1.0, 10.0), ("C3", "C2", "C4")
fig, ((ax1, ax2), (ax3, ax4)) = plt.subplots(2, 2, figsize=(12, 10))

ax1.plot(beta_values, [sweep[b]["reconstruction"] for b in beta_values], "o-", color="C3",
         label="E_q[log p(x|z)] (higher is better)")
ax1.set_xscale("symlog", linthresh=0.1)
ax1.tick_params(axis="y", labelcolor="C3")
ax1_twin = ax1.twinx()
ax1_twin.plot(beta_values, [sweep[b]["kl_divergence"] for b in beta_values], "s-", color="C0",
              label="KL(q(z|x) ‖ p(z))")
ax1_twin.set_ylabel("KL (nats)", color="C0")
ax1_twin.tick_params(axis="y", labelcolor="C0")
label(ax1, "Two forces: reconstruction vs KL", "β (KL weight, symlog scale)", "E_q[log p(x|z)] (nats)")
ax1.yaxis.label.set_color("C3")
ax1.legend(loc="lower left")
ax1_twin.legend(loc="upper right")

for beta, color in zip(shown_betas, colors):
    top_two = torch.argsort(sweep[beta]["kl_per_dim"], descending=True)[:2]
    z = sweep[beta]["latent_samples"][:, top_two]
    ax2.scatter(z[:, 0], z[:, 1], s=8, alpha=0.5, color=color,
                label=f"β = {beta:g} ($z_{int(top_two[0]) + 1}$, $z_{int(top_two[1]) + 1}$)")
ax2.legend()
label(ax2, "Latent samples z ~ q(z|x): the two most used dimensions", "first of the two", "second of the two")

scatter_2d(ax3, data, "Original data", color="k", s=10)

example_indices = torch.tensor([40, 160, 280, 400, 480])
for beta, color in zip(shown_betas, colors):
    recons = sweep[beta]["reconstructions"][example_indices]
    ax4.scatter(recons[:, 0], recons[:, 1], s=60, alpha=0.8, color=color, label=f"β = {beta:g}")
originals = data[example_indices]
ax4.scatter(originals[:, 0], originals[:, 1], s=100, color="k", marker="x", label="original")
ax4.legend()
label(ax4, "Reconstructions of five points", "$x_1$", "$x_2$")
plt.tight_layout()
plt.show()

# %% [markdown]
# **Think:** In the lower-right panel the β = 10 reconstructions of five very different points land in
# the same place. Where, and why there?

# %% [markdown]
# ## 6. Your turn to explain
#
# A teammate runs the sweep, sees that at β = 5 the KL of every latent dimension is about 0, and
# proposes: "the KL has collapsed, so let us increase β to 20 to fix it." Explain (a) what the encoder
# and the decoder are doing at that point and why increasing β makes it worse, and (b) two changes that
# would actually bring the latent variable back into use. Answer in four to six sentences.

# %% [markdown] nbgrader={"grade_id": "two-forces-insight", "solution": true, "points": 2}
# ### BEGIN SOLUTION
# **Model answer.** A KL of 0 in every dimension is posterior collapse: q_φ(z|x) equals the prior
# N(0, I) for every x, so z carries no information about x; the decoder, fed pure noise, ignores z and
# outputs about the same mean for every x with a large variance σ_x², so the five reconstructions
# coincide. The KL term is what pulls q to the prior, and β is its weight: raising β makes any
# information in z more expensive, so the collapsed solution becomes even more attractive. To bring z
# back, lower β (to 1 or below), or anneal it (KL warm-up from 0 to 1) so the decoder learns to use z
# before the KL penalty bites; free bits or a weaker / fixed-variance decoder also help.
#
# **Rubric (2 points).**
# - 1 point: identifies posterior collapse (q(z|x) = p(z), z ignored by the decoder, same output for
#   every x) and explains that a larger β strengthens the force that causes it.
# - 1 point: gives two valid remedies, at least one of them lower β or KL warm-up / annealing (free
#   bits, a weaker decoder or limiting the decoder variance count as the second).
# ### END SOLUTION

# %% [markdown]
# ## 7. Looking ahead: the same bound in diffusion models
#
# A diffusion model is a latent-variable model with a whole chain of latents $x_1, \dots, x_T$ of the
# data's own size. Its "encoder" is the **forward process**, fixed in advance: Gaussian noise is added
# step by step, and in closed form
#
# $$
# q(x_t|x_0) = \mathcal{N}\big(\sqrt{\bar\alpha_t}\,x_0,\ (1 - \bar\alpha_t) I\big),
# \qquad x_t = \sqrt{\bar\alpha_t}\,x_0 + \sqrt{1 - \bar\alpha_t}\,\varepsilon ,
# $$
#
# which is the reparameterisation trick once more. Its variational bound is an ELBO with the same
# kinds of terms as yours (in practice it is often trained on a reweighted version of it, such as the
# simplified noise-prediction loss of Ho et al., 2020):
#
# $$
# \log p_\theta(x_0) \ge \mathbb{E}_q[\log p_\theta(x_0|x_1)]
# - \mathrm{KL}(q(x_T|x_0)\,\|\,p(x_T))
# - \sum_{t=2}^{T}\mathbb{E}_q\,\mathrm{KL}(q(x_{t-1}|x_t, x_0)\,\|\,p_\theta(x_{t-1}|x_t)) .
# $$
#
# A reconstruction term, a prior-matching KL (the rate, here with no parameters in it) and a sum of
# KLs between two Gaussians, each computed in closed form as in notebook 1.2's `gaussian_kl_closed_form`
# (your `kl_regularization` is its special case with $\mathcal{N}(0, I)$ as the second argument). Since q has no
# parameters, it cannot collapse and needs no training; but the bound is still a bound. Its gap is the
# KL from the fixed q to the model's own posterior over $x_{1:T}$, and it is small only if the learned
# reverse steps $p_\theta(x_{t-1}|x_t)$ are good. The picture below runs a standard forward process
# (linear noise schedule, T = 1000) on the spiral and computes the prior-matching KL per data point.

# %%
n_steps_diffusion = 1000
noise_schedule = torch.linspace(1e-4, 0.02, n_steps_diffusion)
alpha_bar = torch.cumprod(1 - noise_schedule, dim=0)
torch.manual_seed(0)
fig, (ax_noise, ax_rate) = plt.subplots(1, 2, figsize=(12, 4.5))
for t, color in zip((999, 200, 50, 0), ("C2", "C1", "C0", "k")):  # the clean data is drawn last, on top
    x_t = alpha_bar[t].sqrt() * data + (1 - alpha_bar[t]).sqrt() * torch.randn_like(data)
    ax_noise.scatter(x_t[:, 0], x_t[:, 1], s=6, alpha=0.5, color=color, label=f"t = {t + 1}")
ax_noise.legend()
ax_noise.set_aspect("equal", adjustable="datalim")
label(ax_noise, "Forward process: x_t ~ q(x_t | x_0)", "$x_1$", "$x_2$")

steps_axis = torch.arange(1, n_steps_diffusion + 1)
prior_matching = torch.stack([
    kl_divergence(Normal(alpha_bar[t].sqrt() * data, (1 - alpha_bar[t]).sqrt()), Normal(0.0, 1.0)).sum(-1).mean()
    for t in range(n_steps_diffusion)
])
ax_rate.plot(steps_axis, prior_matching)
ax_rate.set_yscale("log")
label(ax_rate, "KL(q(x_t | x_0) ‖ N(0, I)), mean over the spiral", "step t", "KL (nats, log scale)")
plt.tight_layout()
plt.show()
print(f"prior-matching KL at t = T: {prior_matching[-1]:.2e} nats per point")

# %% [markdown]
# **Think:** In a VAE, a large β drives the rate to zero and destroys the code. In a diffusion model
# the rate term at t = T is almost zero by construction. Why is that harmless there? (Where does the
# information about $x_0$ live during generation?)

# %% [markdown]
# ## 8. Reflection and summary
#
# **Summary.**
# - β weights the KL: $\mathcal{L}_\beta = D + \beta R$. β = 1 gives the ELBO, every β ≥ 1 a lower bound
#   on log p(x) (looser as β grows), β < 1 no bound; each β picks another point of the rate–distortion
#   trade-off.
# - A fair sweep trains a fresh, identically initialised model per β.
# - Small β: high rate, many active dimensions, good reconstructions, and codes far from N(0, I) (the
#   latent panel), so samples drawn from the prior are expected to be poor (not shown here: try it).
#   Large β: zero rate, **posterior collapse**, every x reconstructed as the same blur.
# - A collapsed KL calls for a *smaller* β or a warm-up, not a larger β.
# - Diffusion models have an ELBO of the same shape, with a fixed, parameter-free encoder (and are
#   often trained on a reweighted version of it).
#
# **Questions to reflect on** (with your partner).
# 1. Which part of notebooks 1.4 and 1.5 was the hardest to get right, and which test caught it?
# 2. How many active units would you expect for the spiral at β = 1, and why? Did the sweep agree?
# 3. Without the reparameterisation trick, how would you get a gradient for the encoder? Why would it
#    be noisier?
# 4. Jensen's inequality gives the bound; the KL to the true posterior measures its gap. In a
#    diffusion model, which part of the model must be good for that gap to be small?
