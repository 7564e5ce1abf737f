"""Every path, name and limit the tooling uses, in one place."""

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LABS = REPO / "labs"
SOURCE = REPO / "source"
RELEASE = REPO / "release"
SOLUTIONS = REPO / "solutions"
BUILD = REPO / "build"
NBGRADER_CONFIG = REPO / "nbgrader_config.py"

COURSE_ID = "generative-models-labs"
KERNEL_NAME = "python3"

# Per-cell limit while executing; matches c.ExecutePreprocessor.timeout in nbgrader_config.py.
CELL_TIMEOUT_S = 120

# The environment variable that puts the labs in test mode (see labkit.runtime).
TEST_MODE_ENV = {"LABKIT_MODE": "test"}

TWIN_SUFFIX = ".py"
CATALOG_SUFFIX = ".mutants.yml"


def assignments() -> list[str]:
    """Assignment ids in course order: every folder of labs/ that holds a text twin."""
    return sorted(p.name for p in LABS.iterdir() if p.is_dir() and any(twins(p.name)))


def twins(assignment: str) -> list[Path]:
    """The text twins of one assignment, in notebook order."""
    return sorted(p for p in (LABS / assignment).glob(f"[0-9][0-9]-*{TWIN_SUFFIX}"))


def notebook_name(twin: Path) -> str:
    """The notebook file name a twin builds, e.g. 01-intractable-likelihood.ipynb."""
    return twin.name[: -len(TWIN_SUFFIX)] + ".ipynb"
