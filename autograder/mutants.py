"""Recorded student mistakes and correct alternatives, and the check that the tests tell them apart.

Each lab keeps a catalog beside its twin, ``labs/<assignment>/<notebook>.mutants.yml``:

    standard-normal-kl:                 # the grade_id of the answer cell
      wrong:
        - name: averages over the latent dimensions instead of summing
          code: |
            ...the whole cell, as a student would write it...
      correct:
        - name: torch.distributions
          code: |
            ...

A wrong implementation must lose points, and the answer's hidden test cell (``<id>-hidden``) must be
among the cells that fail. A correct alternative must get full marks.

check-tests also generates mutants from the solution itself (autograder.mutation). One that no test
kills and that behaves like the reference is recorded under its cell, by its stable id, with why:

      equivalent:
        - mutant: detach:L2:1a2b3c4d
          reason: eps is drawn with randn_like, which carries no gradient to cut
"""

from dataclasses import dataclass
from pathlib import Path

import nbformat
import yaml

from autograder import config


class CatalogError(ValueError):
    """A catalog entry that check-tests cannot use; the message names the catalog and the cell."""


@dataclass(frozen=True)
class Variant:
    cell: str
    name: str
    code: str
    correct: bool


def catalog_path(assignment: str, notebook: str) -> Path:
    return config.LABS / assignment / (Path(notebook).stem + config.CATALOG_SUFFIX)


def load_catalog(path: Path) -> list[Variant]:
    """Read one catalog; a missing file is an empty catalog."""
    if not path.exists():
        return []
    data = yaml.safe_load(path.read_text()) or {}
    variants = []
    for cell, entry in data.items():
        for kind, correct in (("wrong", False), ("correct", True)):
            for item in entry.get(kind, []) or []:
                variants.append(Variant(cell=cell, name=item["name"], code=item["code"].rstrip("\n"), correct=correct))
    return variants


def load_equivalents(path: Path) -> dict[str, dict[str, str]]:
    """The generated mutants a catalog records as equivalent: {cell: {mutant id: reason}}.

    Raises:
        CatalogError: an entry lacks its mutant id or a reason.
    """
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text()) or {}
    found: dict[str, dict[str, str]] = {}
    for cell, entry in data.items():
        for item in (entry or {}).get("equivalent", []) or []:
            mutant, reason = (item or {}).get("mutant"), str((item or {}).get("reason") or "").strip()
            if not mutant or not reason:
                raise CatalogError(f"{path.name}: {cell}: every equivalent mutant needs 'mutant: <id>' and a one-line 'reason'")
            found.setdefault(cell, {})[str(mutant)] = reason
    return found


def hidden_cell(cell: str) -> str:
    return f"{cell}-hidden"


def notebook_path(assignment: str, name: str) -> Path:
    return config.SOURCE / assignment / name


def load_source(assignment: str, name: str) -> nbformat.NotebookNode:
    return nbformat.read(notebook_path(assignment, name), as_version=4)
