"""The given parts of Lab 3's MLX VAE: its two networks, and the files notebook 1 saves.

Notebook 1 writes reparameterization, the forward pass and the loss (its TODOs); none of them is here.
Notebooks 2 and 3 only need the trained networks, so they load what notebook 1 saved with
:func:`load_run`, and no notebook repeats another's model code.

Importing this module imports MLX, so it first makes sure MLX will use a fast BLAS (see ``labkit.blas``).
"""

from __future__ import annotations

import json
from pathlib import Path

from labkit import blas, runtime

blas.use_fast_blas(verbose=False)

import mlx.core as mx  # noqa: E402  (after use_fast_blas: MLX binds its BLAS when imported)
import mlx.nn as nn  # noqa: E402

OUTPUTS = runtime.outputs_folder("vae-project-outputs")
"""Where notebook 1 saves its models, relative to the notebooks' folder; notebooks 2 and 3 read them.
(A shortened run uses a folder of its own: see ``runtime.outputs_folder``.)"""

WEIGHTS = ".safetensors"
"""MLX's own format: MLX reads it without Python file objects. (Reading an ``.npz`` from MLX's
loader threads sometimes aborts Python at exit on a busy machine.)"""


class Encoder(nn.Module):
    """x (B, input_dim) → μ, log σ² (B, latent_dim) of q_φ(z|x): one hidden ReLU layer, two linear heads.

    Args:
        input_dim: pixels per digit (784).
        hidden_dim: width of the hidden layer.
        latent_dim: dimension of z.
    """

    def __init__(self, input_dim: int = 784, hidden_dim: int = 400, latent_dim: int = 20):
        super().__init__()
        self.fc1 = nn.Linear(input_dim, hidden_dim)
        self.fc_mu = nn.Linear(hidden_dim, latent_dim)
        self.fc_logvar = nn.Linear(hidden_dim, latent_dim)

    def __call__(self, x: mx.array) -> tuple[mx.array, mx.array]:
        h = mx.maximum(self.fc1(x), 0)
        return self.fc_mu(h), self.fc_logvar(h)


class Decoder(nn.Module):
    """z (B, latent_dim) → logits ℓ (B, output_dim) of the Bernoulli p_θ(x|z).

    It ends without a sigmoid, so that the loss can work with logits (notebook 1, section 3).

    Args:
        latent_dim: dimension of z.
        hidden_dim: width of the hidden layer.
        output_dim: pixels per digit (784).
    """

    def __init__(self, latent_dim: int = 20, hidden_dim: int = 400, output_dim: int = 784):
        super().__init__()
        self.fc1 = nn.Linear(latent_dim, hidden_dim)
        self.fc2 = nn.Linear(hidden_dim, output_dim)

    def __call__(self, z: mx.array) -> mx.array:
        return self.fc2(mx.maximum(self.fc1(z), 0))


class VAEBody(nn.Module):
    """An encoder and a decoder (parameter names ``encoder.*`` and ``decoder.*``), and two ways to look at them.

    It has no ``reparameterize`` and no forward pass: notebook 1 adds those to its own subclass.

    Args:
        input_dim, hidden_dim, latent_dim: as for :class:`Encoder`.
    """

    def __init__(self, input_dim: int = 784, hidden_dim: int = 400, latent_dim: int = 20):
        super().__init__()
        self.encoder = Encoder(input_dim, hidden_dim, latent_dim)
        self.decoder = Decoder(latent_dim, hidden_dim, input_dim)
        self.latent_dim = latent_dim

    def generate(self, num_samples: int = 1) -> mx.array:
        """Pixel probabilities (num_samples, 784) of digits decoded from z ~ p(z) = N(0, I)."""
        return mx.sigmoid(self.decoder(mx.random.normal((num_samples, self.latent_dim))))

    def decode_mean(self, x: mx.array) -> mx.array:
        """Pixel probabilities (B, 784) decoded from μ(x): the model's best-guess reconstruction of x (B, 784)."""
        return mx.sigmoid(self.decoder(self.encoder(x)[0]))


def save_run(model: nn.Module, history: dict, name: str, folder: Path = OUTPUTS, **config) -> Path:
    """Save a trained model's weights to folder/<name>.safetensors, and its history, configuration and
    run mode to folder/<name>.json. Returns the weights' path."""
    folder.mkdir(parents=True, exist_ok=True)
    weights = folder / f"{name}{WEIGHTS}"
    model.save_weights(str(weights))
    record = {"config": config, "history": history, "mode": runtime.mode()}
    (folder / f"{name}.json").write_text(json.dumps(record, indent=1))
    return weights


def load_run(name: str, latent_dim: int, folder: Path = OUTPUTS) -> tuple[VAEBody, dict, bool]:
    """The model and history :func:`save_run` saved as ``name``, and True.

    Without the files it says so, and returns an untrained model, an empty history and False: the
    notebook still runs, but its pictures mean nothing.
    """
    model = VAEBody(latent_dim=latent_dim)
    weights, record = folder / f"{name}{WEIGHTS}", folder / f"{name}.json"
    if weights.exists() and record.exists():
        model.load_weights(str(weights))
        saved = json.loads(record.read_text())
        print(f"loaded {weights} (trained in {saved['mode']} mode)")
        return model, saved["history"], True
    print(f"NOTE: {weights} not found: run notebook 1 first. Using an UNTRAINED {latent_dim}-d model; "
          "its pictures mean nothing.")
    return model, {}, False
