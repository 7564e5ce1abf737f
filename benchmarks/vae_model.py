"""The lab's VAE for the two VAE benchmark scripts, taken from the source notebook itself.

The model, its loss and the importance-sampling estimator are read from
``source/02-vae-fundamentals/02-training-and-analysis.ipynb`` (the instructor's truth, solutions
included), so the benchmarks measure exactly what the notebooks run: there is no second copy to
drift. This module adds only the timing harness: batches, Adam steps and the test metric.
"""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Bernoulli, Normal, kl_divergence

from autograder import config
from notebook_code import load_definitions

NOTEBOOK = config.SOURCE / "02-vae-fundamentals" / "02-training-and-analysis.ipynb"
BATCH_SIZE = 128
LEARNING_RATE = 1e-3


_NOTEBOOK = load_definitions(
    NOTEBOOK,
    ("BasicVAE", "vae_loss", "importance_sampled_log_px"),
    {"math": math, "torch": torch, "nn": nn, "F": F, "Normal": Normal, "Bernoulli": Bernoulli, "kl_divergence": kl_divergence},
)
BasicVAE = _NOTEBOOK["BasicVAE"]
vae_loss = _NOTEBOOK["vae_loss"]
importance_sampled_log_px = torch.no_grad()(_NOTEBOOK["importance_sampled_log_px"])


def make_optimizer(model: nn.Module) -> torch.optim.Adam:
    """Adam with lr 1e-3, the same algorithm as the notebooks' default Adam; the fused kernel saves ~15 % of a step."""
    return torch.optim.Adam(model.parameters(), lr=LEARNING_RATE, fused=True)


def grey_level_loss(recon_x, x, mu, logvar, beta=1.0):
    """pytorch/examples' loss on grey levels: (total, Σ BCE(logits, x), Σ KL(q ‖ N(0, I))).

    Not a likelihood (notebook 2.2, section 7), which is why the notebook's ``vae_loss``, a Bernoulli
    log-probability, refuses grey levels; the benchmarks need it only to compare with pytorch/examples.
    """
    recon = F.binary_cross_entropy_with_logits(recon_x, x, reduction="sum")
    kl = kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), Normal(0.0, 1.0)).sum()
    return recon + beta * kl, recon, kl


def _loss_for(x: torch.Tensor):
    return vae_loss if bool(((x == 0) | (x == 1)).all()) else grey_level_loss


def train_steps(model, optimizer, x: torch.Tensor, steps: int, binarize: torch.Generator | None = None) -> None:
    """Run `steps` Adam steps on shuffled mini-batches of x (reshuffled every pass over x).

    With a generator in `binarize`, every batch is dynamically binarized, x ~ Bernoulli(grey levels),
    and the loss is the notebook's ``vae_loss`` (the lab's setting); without, the grey levels are fed
    to ``grey_level_loss`` (the pytorch/examples setting).
    """
    loss = vae_loss if binarize is not None else grey_level_loss
    model.train()
    done = 0
    while done < steps:
        order = torch.randperm(len(x))
        for start in range(0, len(x), BATCH_SIZE):
            if done == steps:
                return
            batch = x[order[start : start + BATCH_SIZE]]
            if binarize is not None:
                batch = torch.bernoulli(batch, generator=binarize)
            optimizer.zero_grad()
            total, _, _ = loss(*_forward(model, batch))
            total.backward()
            optimizer.step()
            done += 1


def _forward(model, batch):
    recon_x, mu, logvar = model(batch)
    return recon_x, batch, mu, logvar


def steps_per_epoch(n: int) -> int:
    return math.ceil(n / BATCH_SIZE)


@torch.no_grad()
def test_loss(model, x: torch.Tensor) -> float:
    """The pytorch/examples test metric: Σ over the test set of BCE + KL with one z per digit, divided by N.

    On binary x it is the notebook's −ELBO in nats; on grey levels, pytorch/examples' loss.
    """
    model.eval()
    loss = _loss_for(x)
    total = 0.0
    for batch in x.split(1000):
        total += loss(*_forward(model, batch))[0].item()
    return total / len(x)


def tiled(x: np.ndarray, n: int) -> np.ndarray:
    """The first n rows of x repeated as often as needed (60,000 digits from the 4,000 embedded ones)."""
    return np.resize(x, (n, x.shape[1]))
