"""Make a notebook reproducible with one call."""

import random

import numpy as np


def seed_everything(seed: int = 0) -> None:
    """Seed Python's, NumPy's and (if installed) PyTorch's global generators.

    Args:
        seed: any non-negative integer; the labs use 0 unless a cell says otherwise.
    """
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    random.seed(seed)
    np.random.seed(seed)
    try:
        import torch
    except ImportError:
        return
    torch.manual_seed(seed)
