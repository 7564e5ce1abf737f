"""labkit: the helper package every lab notebook imports.

One concern per module:

- ``runtime``: how much work a notebook does (full, test or grading mode);
- ``seeding``: one call that makes a notebook reproducible;
- ``classes``: ``add_to_class``, so one method can live in its own notebook cell;
- ``toy``: the spiral, the linear-Gaussian model and the other toy data makers;
- ``mnist``: full MNIST when it is available, else the embedded 5,000-digit subset;
- ``plots``: the course's figure style and small plotting helpers;
- ``checks``: assertions for test cells whose messages diagnose the likely mistake;
- ``blas``: a fast BLAS for MLX on Linux (Lab 3);
- ``mlx_vae``: Lab 3's given networks, and saving and loading its trained models;
- ``potts``: Lab 4's Potts grids, THRML programs and exact enumeration;
- ``ebm_fit``: Lab 4's fitting loop (persistent CD, its diagnostics), the RBM in THRML, R-hat and the sample-quality classifier.

It never holds the answer to a TODO: students can import it.
"""

from labkit.classes import add_to_class
from labkit.seeding import seed_everything

__all__ = ["add_to_class", "seed_everything"]
