"""Seconds per training epoch of the 784-400-20 VAE in MLX and in PyTorch, in one run, and their ratio.

    python benchmarks/mlx_epoch.py [--threads 1] [--epochs 3] [--digits 4000] [--reference-blas]

The MLX side is the notebook's own code: the definitions (classes and functions, no tests, no demos) of
source/03-mlx-vae-project/01-model-and-training.ipynb are executed here, so the benchmark times exactly the
reference `train_epoch` (with `mx.compile`), `VAE` and `vae_loss` the students are graded against. Before MLX is
imported, `labkit.blas.use_fast_blas()` loads the system's OpenBLAS, as the notebooks do. The PyTorch side is the
same model written in PyTorch below (it exists in no notebook): encoder 784→400→(20, 20), decoder 20→400→784
logits, BCE-with-logits summed over pixels plus the closed-form KL, averaged over the batch; Adam (lr 1e-3),
batches of 128, one optimizer step per batch.

Both use the same number of threads (BLAS and torch intra-op), 1 by default as under grading. The times are
wall-clock and the machine may be shared: the script reports the fastest epoch of each (the least disturbed)
and the load average. Target: MLX at most 1.5 × PyTorch. With --reference-blas it also times MLX in a
subprocess *without* the fast BLAS, to show what the swap buys.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from notebook_code import load_definitions

REPO = Path(__file__).resolve().parent.parent
NOTEBOOK = REPO / "source" / "03-mlx-vae-project" / "01-model-and-training.ipynb"
TARGET_RATIO = 1.5
DEFINITIONS = ("get_batches", "VAE", "reparameterize", "__call__", "vae_loss", "loss_fn", "evaluate", "train_epoch")


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per framework; the fastest is reported")
    parser.add_argument("--digits", type=int, default=4000, help="digits per epoch (the embedded training set, tiled if needed)")
    parser.add_argument("--reference-blas", action="store_true", help="also time MLX without the fast BLAS (subprocess)")
    parser.add_argument("--mlx-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-fast-blas", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


def data(digits: int):
    import numpy as np

    from labkit.mnist import load_mnist

    mnist = load_mnist(verbose=False, allow_download=False)
    x = np.concatenate([mnist.x_train] * (-(-digits // len(mnist.x_train))))[:digits]
    return x, mnist.source


def time_mlx(x, epochs: int) -> list[float]:
    import mlx.core as mx
    import mlx.nn as nn
    import mlx.optimizers as optim
    import numpy as np

    from labkit import add_to_class, runtime
    from labkit.mlx_vae import VAEBody

    import json
    import math

    from tqdm.auto import tqdm

    names = {"mx": mx, "nn": nn, "optim": optim, "np": np, "add_to_class": add_to_class, "runtime": runtime,
             "json": json, "math": math, "tqdm": tqdm, "VAEBody": VAEBody}  # what the notebook's first cell imports
    ns = load_definitions(NOTEBOOK, DEFINITIONS, names)
    mx.random.seed(0)
    model, optimizer = ns["VAE"](), optim.Adam(learning_rate=1e-3)
    rng = np.random.default_rng(0)
    ns["train_epoch"](model, optimizer, x[:1024], 128, rng)  # warm-up: compilation, allocations
    times = []
    for _ in range(epochs):
        started = time.perf_counter()
        metrics = ns["train_epoch"](model, optimizer, x, 128, rng)
        times.append(time.perf_counter() - started)
    print(f"  MLX     loss after {epochs + 1} epochs: {metrics['loss']:.1f} nats per digit")
    return times


def time_torch(x, epochs: int) -> list[float]:
    import torch
    import torch.nn as tnn
    import torch.nn.functional as F

    class TorchVAE(tnn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc_mu, self.fc_logvar = tnn.Linear(784, 400), tnn.Linear(400, 20), tnn.Linear(400, 20)
            self.fc3, self.fc4 = tnn.Linear(20, 400), tnn.Linear(400, 784)

        def forward(self, batch):
            h = F.relu(self.fc1(batch))
            mu, logvar = self.fc_mu(h), self.fc_logvar(h)
            z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
            return self.fc4(F.relu(self.fc3(z))), mu, logvar

    torch.manual_seed(0)
    model = TorchVAE()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    data_t = torch.from_numpy(x)

    def epoch(rows):
        total = 0.0
        order = torch.randperm(len(rows))
        for start in range(0, len(rows), 128):
            batch = rows[order[start : start + 128]]
            logits, mu, logvar = model(batch)
            recon = F.binary_cross_entropy_with_logits(logits, batch, reduction="sum") / len(batch)
            kl = 0.5 * torch.sum(mu.pow(2) + logvar.exp() - 1.0 - logvar) / len(batch)
            loss = recon + kl
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        return total / len(rows)

    epoch(data_t[:1024])
    times = []
    for _ in range(epochs):
        started = time.perf_counter()
        loss = epoch(data_t)
        times.append(time.perf_counter() - started)
    print(f"  PyTorch loss after {epochs + 1} epochs: {loss:.1f} nats per digit")
    return times


def main() -> int:
    args = parse()
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = str(args.threads)
    from labkit import blas

    if not args.no_fast_blas:
        status = blas.use_fast_blas(verbose=False)
        blas_line = status.message.splitlines()[0]
    else:
        blas_line = "BLAS: MLX's bundled reference BLAS (--no-fast-blas)"
    x, source = data(args.digits)
    if args.mlx_only:
        best = min(time_mlx(x, args.epochs))
        print(f"MLX_EPOCH_S={best:.4f}")
        return 0

    print(f"{args.digits:,} digits per epoch ({source}); {args.threads} thread(s); {blas_line}")
    blas.check_speed()
    import torch

    torch.set_num_threads(args.threads)
    load = os.getloadavg()[0]
    mlx_s = min(time_mlx(x, args.epochs))
    torch_s = min(time_torch(x, args.epochs))
    ratio = mlx_s / torch_s
    print(f"fastest epoch: MLX {mlx_s:.3f} s, PyTorch {torch_s:.3f} s; ratio MLX/PyTorch = {ratio:.2f} "
          f"(target ≤ {TARGET_RATIO}); 1-min load average {load:.2f} on {os.cpu_count()} cores")
    if args.reference_blas:
        done = subprocess.run(
            [sys.executable, __file__, "--mlx-only", "--no-fast-blas", f"--threads={args.threads}", f"--epochs={args.epochs}", f"--digits={args.digits}"],
            capture_output=True, text=True, check=True,
        )
        slow = float(done.stdout.strip().splitlines()[-1].split("=")[1])
        print(f"MLX with its bundled reference BLAS: {slow:.3f} s per epoch ({slow / torch_s:.1f} × PyTorch, {slow / mlx_s:.1f} × MLX with the fast BLAS)")
    verdict = "within" if ratio <= TARGET_RATIO else "OVER"
    print(f"{verdict} the target")
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
