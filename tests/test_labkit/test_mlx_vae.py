"""labkit.mlx_vae: Lab 3's given networks and its saved runs. MLX runs in a fresh Python (see test_blas)."""

import subprocess
import sys
from pathlib import Path

import pytest

LABKIT_ROOT = str(Path(__file__).resolve().parents[2] / "shared")
needs_mlx = pytest.mark.skipif(subprocess.run([sys.executable, "-c", "import mlx.core"]).returncode != 0, reason="MLX not installed")

ROUND_TRIP = """
import sys
sys.path.insert(0, {root!r})
from pathlib import Path
from labkit import mlx_vae
import mlx.core as mx
import numpy as np

folder = Path({folder!r})
mx.random.seed(0)
model = mlx_vae.VAEBody(hidden_dim=16, latent_dim=3)
x = mx.random.uniform(shape=(5, 784))
mu, logvar = model.encoder(x)
assert mu.shape == (5, 3) and logvar.shape == (5, 3)
assert model.decoder(mu).shape == (5, 784) and model.generate(4).shape == (4, 784)
assert not hasattr(model, "reparameterize")  # notebook 1's TODO
empty, history, trained = mlx_vae.load_run("missing", 3, folder)
assert history == {{}} and not trained
mlx_vae.save_run(model, {{"test_loss": [1.0]}}, "tiny", folder, latent_dim=3)
again = mlx_vae.VAEBody(hidden_dim=16, latent_dim=3)
again.load_weights(str(folder / "tiny.safetensors"))
same = np.allclose(np.array(again.decode_mean(x)), np.array(model.decode_mean(x)))
print("ok" if same else "different")
"""


@needs_mlx
def test_a_saved_run_loads_back_and_a_missing_one_says_so(tmp_path):
    code = ROUND_TRIP.format(root=LABKIT_ROOT, folder=str(tmp_path))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "run notebook 1 first" in done.stdout and done.stdout.strip().endswith("ok")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.json", "tiny.safetensors"]
