"""labkit: the helper package every lab notebook imports.

One concern per module:

- ``runtime``: how much work a notebook does (full, test or grading mode);
- ``seeding``: one call that makes a notebook reproducible;
- ``classes``: ``add_to_class``, so one method can live in its own notebook cell;
- ``data``: the spiral, the linear-Gaussian model and the other toy data makers;
- ``plots``: the course's figure style and small plotting helpers;
- ``checks``: assertions for test cells whose messages diagnose the likely mistake.

It never holds the answer to a TODO: students can import it.
"""

from labkit.classes import add_to_class
from labkit.seeding import seed_everything

__all__ = ["add_to_class", "seed_everything"]
