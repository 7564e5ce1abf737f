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


# An assignment still being written holds this file; the build and the tests pass it over until it goes.
DRAFT_MARKER = "DRAFT.md"


def assignments() -> list[str]:
    """Assignment ids in course order: every folder of labs/ that holds a text twin and is not a draft."""
    return sorted(
        p.name for p in LABS.iterdir() if p.is_dir() and any(twins(p.name)) and not (p / DRAFT_MARKER).exists()
    )


def twins(assignment: str) -> list[Path]:
    """The text twins of one assignment, in notebook order."""
    return sorted(p for p in (LABS / assignment).glob(f"[0-9][0-9]-*{TWIN_SUFFIX}"))


def notebook_name(twin: Path) -> str:
    """The notebook file name a twin builds, e.g. 01-intractable-likelihood.ipynb."""
    return twin.name[: -len(TWIN_SUFFIX)] + ".ipynb"


# ---- Grading a class (autograder/grading/) ----
SUBMITTED_DIR = "submitted"  # nbgrader's layout: submitted/<student>/<assignment>/*.ipynb
AUTOGRADED_DIR = "autograded"  # where nbgrader keeps graded notebooks, which the formgrader shows
GRADEBOOK = "gradebook.db"
GRADES_OUT = BUILD / "grades"  # default --out: build/grades/<assignment>

# Threads per kernel while grading. Workers run one per core, so a kernel that spreads its BLAS and
# torch work over every core oversubscribes the machine and slows the whole class down.
KERNEL_THREADS = 1
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")

# Per-notebook budget: a notebook killed here gets "timeout" on every cell it did not finish.
NOTEBOOK_TIMEOUT_S = 600
# Address-space limit per sandboxed process (RLIMIT_AS). A kernel with torch imported maps ~1 GB.
MEMORY_MB = 3072
# Size of the sandbox's private /tmp and of its work folder (tmpfs, so they count against memory).
SANDBOX_TMP_MB = 512
SANDBOX_WORK_MB = 256
# Largest file the student's code may write (RLIMIT_FSIZE).
SANDBOX_FILE_MB = 128
# Cores one sandbox may use at once (its control group's CPU quota), whatever threads it starts.
SANDBOX_CPUS = 1.0
# Processes the sandboxed user may own (RLIMIT_NPROC): stops a fork bomb, leaves room for threads.
MAX_PROCESSES = 256
# Output kept per cell; the rest is dropped, so a print loop cannot exhaust the grader's memory.
OUTPUT_LIMIT_BYTES = 1_000_000
# Output kept per notebook: past it, cells report only that their output was dropped.
NOTEBOOK_OUTPUT_LIMIT_BYTES = 4_000_000
# Sandboxed code runs as a throwaway uid (root only): base + worker pid, so each sandbox has its
# own RLIMIT_NPROC budget and owns nothing outside its work folder.
SANDBOX_UID_BASE = 200_000
SANDBOX_UID_SPAN = 100_000

# ---- The real-browser test (tests/browser/) ----
# Debian's chromium, driven by Playwright: browser downloads (playwright install) are not needed.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_PACKAGES = ("chromium", "chromium-driver")
# No sandbox (the test may run as root in a container), no GPU, and no traffic to Google's services.
CHROMIUM_ARGS = (
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
)
# The notebook the browser test works through: it has visible tests and an ipywidgets control.
BROWSER_NOTEBOOK = ("01-foundations", "02-kl-divergence.ipynb")
# A notebook of each other lab (PyTorch on MNIST, MLX, THRML on JAX), run whole in JupyterLab too.
BROWSER_LAB_NOTEBOOKS = (
    ("02-vae-fundamentals", "01-vae-model.ipynb"),
    ("03-mlx-vae-project", "01-model-and-training.ipynb"),
    ("04-thrml-ebm", "01-data-and-model.ipynb"),
)
BROWSER_ARTIFACTS = BUILD / "browser-test"  # screenshots and the JupyterLab log
BROWSER_TIMEOUT_S = 300  # the longest single wait: running a whole notebook, or nbgrader's Validate

# ---- The self-study site (autograder/site.py) ----
SITE_OUT = BUILD / "site"
HANDOUT = "README.md"  # labs/<assignment>/README.md: objectives under "## Objectives", a "**Time:**" line
