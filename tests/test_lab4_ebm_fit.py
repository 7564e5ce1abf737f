"""labkit.ebm_fit: the judging helpers against first principles, the RBM program against enumeration, and no answers."""

import itertools

import numpy as np

from labkit import ebm_fit, potts


def test_ebm_fit_holds_no_moment_or_energy_answers():
    """Notebook 4.3's TODO is the CD gradient (moments); 4.1's the energy. ebm_fit takes the gradient as an argument."""
    public = {name for name in dir(ebm_fit) if not name.startswith("_")}
    assert not {n for n in public if "moment" in n or "energy" in n or "gradient" in n}


def test_per_edge_divides_couplings_by_their_edge_counts():
    g = potts.PottsParams(np.ones((3, 5, 2)), np.full((2, 2), 12.0), np.full((2, 2), 10.0))
    out = ebm_fit.per_edge(g, 3, 5)
    assert np.allclose(out.b, 1.0)
    assert np.allclose(out.W_h, 12.0 / (3 * 4)) and np.allclose(out.W_v, 10.0 / (2 * 5))


def test_split_r_hat_is_one_for_one_distribution_and_large_for_chains_apart():
    rng = np.random.default_rng(0)
    same = rng.normal(size=(8, 2000))
    # R̂² ≈ 1 + O(1/n) for iid chains: within 1% at n = 1000 per half-chain.
    assert abs(ebm_fit.split_r_hat(same) - 1.0) < 0.01
    apart = same + np.repeat([0.0, 3.0], 4)[:, None]  # half the chains stuck 3 sd away
    assert ebm_fit.split_r_hat(apart) > 1.5
    drifting = same + np.linspace(0, 3, 2000)[None, :]  # every chain drifts: the split halves disagree
    assert ebm_fit.split_r_hat(drifting) > 1.2


def test_sample_quality_on_known_probabilities():
    sure = np.eye(10)[np.arange(20) % 10] * 0.99 + 0.001
    q = ebm_fit.sample_quality(sure)
    assert abs(q["confidence"] - 0.991) < 1e-9
    assert abs(q["class entropy"] - np.log(10)) < 1e-9
    flat = ebm_fit.sample_quality(np.full((5, 10), 0.1))
    assert abs(flat["entropy"] - np.log(10)) < 1e-9 and abs(flat["confidence"] - 0.1) < 1e-9
    one_class = ebm_fit.sample_quality(np.eye(10)[np.zeros(7, int)])
    assert one_class["class entropy"] == 0.0


def test_digit_classifier_learns_a_separable_problem():
    rng = np.random.default_rng(1)
    protos = rng.random((10, 784)) < 0.2
    y = rng.integers(0, 10, 500)
    x = protos[y] ^ (rng.random((500, 784)) < 0.05)
    clf = ebm_fit.train_digit_classifier(x, y, steps=100)
    p = clf.probabilities(x.reshape(500, 28, 28))
    assert p.shape == (500, 10) and np.allclose(p.sum(1), 1.0)
    assert np.mean(p.argmax(1) == y) > 0.95


def test_nearest_neighbour_fill_copies_the_nearest_known_half():
    train = np.zeros((3, 2, 3), np.uint8)
    train[1, 0] = [1, 1, 1]
    train[1, 1] = [2, 2, 2]
    train[2, 0] = [3, 3, 3]
    train[2, 1] = [1, 0, 1]
    queries = np.array([[[1, 1, 0], [0, 0, 0]], [[3, 3, 3], [9, 9, 9]]], np.uint8)
    known = np.array([[True] * 3, [False] * 3])
    out = ebm_fit.nearest_neighbour_fill(train, queries, known)
    assert out[0, 1].tolist() == [2, 2, 2] and out[0, 0].tolist() == [1, 1, 0]
    assert out[1, 1].tolist() == [1, 0, 1] and out[1, 0].tolist() == [3, 3, 3]


def test_rbm_sampler_draws_the_exact_marginal_of_a_tiny_rbm():
    import jax

    rng = np.random.default_rng(2)
    n_v, n_h = 3, 2
    a, c, w = rng.normal(0, 1, n_v), rng.normal(0, 1, n_h), rng.normal(0, 1.5, (n_v, n_h))
    # Exact p(v) ∝ exp(a·v) Π_j (1 + exp(c_j + v·w_j)), by enumeration of v.
    vs = np.array(list(itertools.product([0, 1], repeat=n_v)))
    logp = vs @ a + np.log1p(np.exp(c + vs @ w)).sum(axis=1)
    p = np.exp(logp - logp.max())
    p /= p.sum()
    n_chains, n_sweeps = 4096, 30
    run = ebm_fit.rbm_sampler(n_v, n_h, n_sweeps)
    v = np.asarray(run(a, c, w, jax.random.split(jax.random.key(0), n_chains), np.zeros((n_chains, n_v), np.uint8)))
    assert v.shape == (n_chains, n_v) and v.dtype == np.uint8
    freq = np.bincount(v @ (2 ** np.arange(n_v - 1, -1, -1)), minlength=2**n_v) / n_chains
    tv = potts.total_variation(freq, p)
    # Independent chains after 30 sweeps of a 5-unit RBM: the TV floor of 4096 draws, 3 times over.
    assert tv < 3 * potts.tv_floor(p, n_chains), f"TV {tv:.4f} vs floor {potts.tv_floor(p, n_chains):.4f}"
    # A transposed table (h as the first index) or a flipped sign is far off.
    wrong = np.exp(-(logp - logp.max()))
    assert potts.total_variation(freq, wrong / wrong.sum()) > 10 * potts.tv_floor(p, n_chains)
