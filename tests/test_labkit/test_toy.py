import math

import pytest
import torch

from labkit.toy import bimodal_target, make_linear_gaussian, make_spiral


def test_spiral_is_deterministic_and_shaped():
    a, b = make_spiral(100, seed=3), make_spiral(100, seed=3)
    assert a.shape == (100, 2) and a.dtype == torch.float32
    assert torch.equal(a, b)
    with pytest.raises(ValueError):
        make_spiral(0)


def test_linear_gaussian_marginal_matches_numerical_integration():
    model = make_linear_gaussian(latent_dim=1, data_dim=1, noise_std=0.5, seed=1)
    x = torch.tensor([[0.3]])
    z = torch.linspace(-10, 10, 20001).unsqueeze(1)
    joint = torch.distributions.Normal(model.decoder_mean(z), model.noise_std).log_prob(x).sum(-1)
    joint = joint + torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(-1)
    numeric = torch.logsumexp(joint, 0) + math.log(float(z[1] - z[0]))
    assert torch.allclose(model.log_marginal(x)[0], numeric, atol=2e-3)  # float32 quadrature


def test_linear_gaussian_posterior_is_bayes_rule():
    model = make_linear_gaussian(latent_dim=2, data_dim=3, noise_std=0.4, seed=2)
    x, _ = model.sample(1, torch.Generator().manual_seed(0))
    z = torch.randn(5, 2, generator=torch.Generator().manual_seed(1))
    log_joint = torch.distributions.Normal(model.decoder_mean(z), model.noise_std).log_prob(x).sum(-1)
    log_joint = log_joint + torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(-1)
    log_posterior = model.posterior(x).log_prob(z)
    assert torch.allclose(log_joint - model.log_marginal(x), log_posterior, atol=1e-4)


def test_orthogonal_weights_give_a_diagonal_posterior():
    model = make_linear_gaussian(latent_dim=3, data_dim=5, seed=0)
    covariance = model.posterior(torch.zeros(1, 5)).covariance_matrix[0]
    assert torch.allclose(covariance, torch.diag(torch.diagonal(covariance)), atol=1e-6)
    with pytest.raises(ValueError):
        make_linear_gaussian(latent_dim=3, data_dim=2)


def test_bimodal_target_has_two_modes_and_validates_weight():
    target = bimodal_target(separation=4.0, weight=0.3)
    assert target.log_prob(torch.tensor(2.0)) > target.log_prob(torch.tensor(0.0))
    assert torch.allclose(target.mean, torch.tensor(-0.3 * 2.0 + 0.7 * 2.0))
    with pytest.raises(ValueError):
        bimodal_target(weight=1.0)
