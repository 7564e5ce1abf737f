"""Small data makers and toy models for the foundations labs (PyTorch).

- ``make_spiral``: the 2-D spiral the seed trains its first VAE on.
- ``LinearGaussian``: a latent-variable model whose log p(x) and posterior p(z|x) are exact, so an
  estimator or a bound can be compared with the truth.
- ``bimodal_target``: a 1-D two-component Gaussian mixture, for forward versus reverse KL.
"""

import math
from dataclasses import dataclass

import torch
from torch.distributions import Categorical, MixtureSameFamily, MultivariateNormal, Normal


def make_spiral(n_samples: int = 500, noise: float = 0.1, turns: float = 1.5, seed: int = 0) -> torch.Tensor:
    """A noisy 2-D Archimedean spiral, r = t for t in [0, 2π·turns].

    Args:
        n_samples: number of points.
        noise: standard deviation of the Gaussian noise added to each coordinate.
        turns: how many times the spiral winds round the origin.
        seed: seed of the private generator, so the data never depends on global state.

    Returns:
        A float32 tensor of shape (n_samples, 2).
    """
    if n_samples < 1:
        raise ValueError(f"n_samples must be positive, got {n_samples}")
    generator = torch.Generator().manual_seed(seed)
    t = torch.linspace(0.0, 2 * math.pi * turns, n_samples)
    points = torch.stack([t * torch.cos(t), t * torch.sin(t)], dim=1)
    return points + noise * torch.randn(n_samples, 2, generator=generator)


@dataclass(frozen=True)
class LinearGaussian:
    """The model p(z) = N(0, I_d), p(x|z) = N(W z + b, σ² I_D).

    Attributes:
        weight: W, shape (data_dim, latent_dim).
        bias: b, shape (data_dim,).
        noise_std: σ, the decoder's standard deviation.
    """

    weight: torch.Tensor
    bias: torch.Tensor
    noise_std: float

    @property
    def latent_dim(self) -> int:
        return self.weight.shape[1]

    @property
    def data_dim(self) -> int:
        return self.weight.shape[0]

    def decoder_mean(self, z: torch.Tensor) -> torch.Tensor:
        """f(z) = W z + b for z of shape (..., latent_dim); returns (..., data_dim)."""
        return z @ self.weight.T + self.bias

    def marginal(self) -> MultivariateNormal:
        """The exact marginal p(x) = N(b, W Wᵀ + σ² I)."""
        covariance = self.weight @ self.weight.T + self.noise_std**2 * torch.eye(self.data_dim)
        return MultivariateNormal(self.bias, covariance_matrix=covariance)

    def log_marginal(self, x: torch.Tensor) -> torch.Tensor:
        """Exact log p(x) for x of shape (..., data_dim); returns (...)."""
        return self.marginal().log_prob(x)

    def posterior(self, x: torch.Tensor) -> MultivariateNormal:
        """The exact posterior p(z|x) = N(Σ Wᵀ (x − b) / σ², Σ) with Σ = (I + Wᵀ W / σ²)⁻¹."""
        precision = torch.eye(self.latent_dim) + self.weight.T @ self.weight / self.noise_std**2
        covariance = torch.linalg.inv(precision)
        mean = (x - self.bias) @ self.weight @ covariance / self.noise_std**2
        return MultivariateNormal(mean, covariance_matrix=covariance)

    def sample(self, n_samples: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw (x, z) pairs from the joint; returns x (n, data_dim) and z (n, latent_dim)."""
        z = torch.randn(n_samples, self.latent_dim, generator=generator)
        noise = torch.randn(n_samples, self.data_dim, generator=generator)
        return self.decoder_mean(z) + self.noise_std * noise, z


def make_linear_gaussian(
    latent_dim: int = 2, data_dim: int = 2, noise_std: float = 0.5, seed: int = 0, orthogonal: bool = True
) -> LinearGaussian:
    """Build a random ``LinearGaussian`` model.

    Args:
        latent_dim: d, the size of z.
        data_dim: D, the size of x.
        noise_std: σ.
        seed: seed of the private generator.
        orthogonal: give W orthogonal columns (needs D ≥ d). Then the exact posterior has a diagonal
            covariance, so a mean-field Gaussian q(z|x) can match it exactly.
    """
    generator = torch.Generator().manual_seed(seed)
    weight = torch.randn(data_dim, latent_dim, generator=generator)
    if orthogonal:
        if data_dim < latent_dim:
            raise ValueError(f"orthogonal columns need data_dim >= latent_dim, got {data_dim} < {latent_dim}")
        q, _ = torch.linalg.qr(weight)
        scales = torch.linspace(2.0, 1.0, latent_dim)
        weight = q * scales
    bias = 0.5 * torch.randn(data_dim, generator=generator)
    return LinearGaussian(weight=weight, bias=bias, noise_std=noise_std)


def bimodal_target(separation: float = 4.0, weight: float = 0.5, std: float = 0.7) -> MixtureSameFamily:
    """A 1-D mixture weight·N(−s/2, std²) + (1 − weight)·N(s/2, std²).

    Args:
        separation: s, the distance between the two modes.
        weight: the mass of the left mode, in (0, 1).
        std: the standard deviation of each mode.
    """
    if not 0.0 < weight < 1.0:
        raise ValueError(f"weight must lie strictly between 0 and 1, got {weight}")
    mixing = Categorical(probs=torch.tensor([weight, 1.0 - weight]))
    components = Normal(torch.tensor([-separation / 2, separation / 2]), torch.tensor([std, std]))
    return MixtureSameFamily(mixing, components)
