"""labkit.potts: edges, colouring checks, inverse-CDF sampling, enumeration, THRML sampling; and no answers."""

import itertools

import numpy as np
import pytest

from labkit import potts


def loop_energy(state, params):
    b, W_h, W_v = params
    H, W = state.shape
    e = -sum(b[r, s, state[r, s]] for r in range(H) for s in range(W))
    e -= sum(W_h[state[r, s], state[r, s + 1]] for r in range(H) for s in range(W - 1))
    e -= sum(W_v[state[r, s], state[r + 1, s]] for r in range(H - 1) for s in range(W))
    return e


def test_grid_edges_list_every_edge_once_in_order():
    edges = potts.grid_edges(3, 4, 8)
    assert len(edges["h"]) == 3 * 3 and len(edges["v"]) == 2 * 4
    assert len(edges["d"]) == 2 * 3 and len(edges["a"]) == 2 * 3
    assert (edges["h"][:, 1] - edges["h"][:, 0] == 1).all()  # (left, right)
    assert (edges["v"][:, 1] - edges["v"][:, 0] == 4).all()  # (top, bottom)
    all_pairs = {tuple(sorted(e)) for k in edges for e in edges[k]}
    assert len(all_pairs) == sum(len(e) for e in edges.values())
    with pytest.raises(ValueError):
        potts.grid_edges(2, 2, 6)


def test_colouring_conflicts_counts_same_coloured_edges():
    assert potts.colouring_conflicts(np.zeros((2, 2), int), 4) == 4
    assert potts.colouring_conflicts(np.zeros((2, 2), int), 8) == 6
    assert potts.colouring_conflicts(np.indices((3, 4)).sum(axis=0) % 2, 4) == 0
    assert potts.colouring_conflicts(np.indices((3, 4)).sum(axis=0) % 2, 8) == 12  # every diagonal edge


def test_labkit_holds_no_energy_or_colouring_answers():
    """Notebook 4.1's TODOs: ``energy`` and ``grid_colouring``. labkit must not offer either."""
    public = {name for name in dir(potts) if not name.startswith("_")}
    assert not {n for n in public if "colouring" in n} - {"colouring_conflicts"}
    assert not {n for n in public if "energy" in n}
    assert not [n for n in dir(potts.ThrmlGrid) if "energy" in n or "colour" in n]


def test_sample_categorical_is_the_inverse_cdf():
    logits = np.log(np.array([0.1, 0.2, 0.3, 0.4]))
    u = np.array([0.05, 0.15, 0.29, 0.31, 0.59, 0.61, 0.999])
    got = potts.sample_categorical(np.broadcast_to(logits, (7, 4)), u)
    assert got.dtype == np.uint8
    assert got.tolist() == [0, 1, 1, 2, 2, 3, 3]
    # shift invariance, and frequencies for random u
    rng = np.random.default_rng(0)
    draws = potts.sample_categorical(np.broadcast_to(logits + 5.0, (200_000, 4)), rng.random(200_000))
    freq = np.bincount(draws, minlength=4) / 200_000
    assert np.abs(freq - [0.1, 0.2, 0.3, 0.4]).max() < 5 * np.sqrt(0.25 / 200_000)


def test_state_index_matches_all_states():
    states = potts.all_states(2, 2, 3)
    assert states.shape == (81, 2, 2) and states.dtype == np.uint8
    assert (potts.state_index(states, 3) == np.arange(81)).all()
    assert potts.empirical_distribution(states[[0, 0, 5]], 3)[[0, 5]].tolist() == [2 / 3, 1 / 3]


def test_exact_distribution_matches_a_loop(monkeypatch):
    monkeypatch.setenv("LABKIT_MODE", "test")
    params = potts.random_params(2, 3, 3, seed=4)
    want = np.array([loop_energy(s, params) for s in potts.all_states(2, 3, 3)])
    q = np.exp(-want - (-want).max())
    assert np.allclose(potts.exact_distribution(params), q / q.sum(), atol=1e-6)


def test_total_variation_and_its_floor():
    p = np.array([0.5, 0.25, 0.25])
    assert potts.total_variation(p, [0.25, 0.5, 0.25]) == pytest.approx(0.25)
    rng = np.random.default_rng(1)
    p = rng.dirichlet(np.ones(50))
    n = 4000
    tvs = [potts.total_variation(p, np.bincount(rng.choice(50, n, p=p), minlength=50) / n) for _ in range(200)]
    assert np.mean(tvs) == pytest.approx(potts.tv_floor(p, n), rel=0.1)


def test_thrml_sampler_reaches_the_exact_distribution_and_respects_clamps(monkeypatch):
    import jax

    monkeypatch.setenv("LABKIT_MODE", "test")  # compile without XLA's backend optimizations: ~1 s a program

    params = potts.random_params(2, 2, 3, scale=0.8, seed=2)
    grid = potts.ThrmlGrid(2, 2, 3)
    sampler = grid.sampler(10)
    assert grid.sampler(10) is sampler  # compiled once per number of sweeps
    n = 6000
    x0 = np.random.default_rng(0).integers(0, 3, size=(n, 2, 2)).astype(np.uint8)
    out = np.asarray(sampler(*params, jax.random.split(jax.random.key(0), n), x0))
    assert out.shape == (n, 2, 2) and out.dtype == np.uint8
    exact = potts.exact_distribution(params)
    tv = potts.total_variation(exact, potts.empirical_distribution(out, 3))
    assert tv < potts.tv_floor(exact, n) + 5 * np.sqrt((1 - 2 / np.pi) / (4 * n))

    clamped = np.array([[True, False], [False, False]])
    cgrid = potts.ThrmlGrid(2, 2, 3, clamped=clamped)
    out = np.asarray(cgrid.sampler(3)(*params, jax.random.split(jax.random.key(1), 50), x0[:50]))
    assert (out[:, 0, 0] == x0[:50, 0, 0]).all()
    traj = np.asarray(grid.trajectory(4)(*params, jax.random.split(jax.random.key(2), 3), x0[:3]))
    assert traj.shape == (3, 4, 2, 2) and (traj[:, 0] == x0[:3]).all()


def test_thrml_sampler_with_more_colours_is_still_exact(monkeypatch):
    import jax

    monkeypatch.setenv("LABKIT_MODE", "test")
    params = potts.random_params(2, 3, 2, scale=0.8, seed=3)
    grid = potts.ThrmlGrid(2, 3, 2, n_colours=3)
    assert len(grid.free_blocks) == 3
    n = 6000
    x0 = np.random.default_rng(1).integers(0, 2, size=(n, 2, 3)).astype(np.uint8)
    out = np.asarray(grid.sampler(10)(*params, jax.random.split(jax.random.key(3), n), x0))
    exact = potts.exact_distribution(params)
    tv = potts.total_variation(exact, potts.empirical_distribution(out, 2))
    assert tv < potts.tv_floor(exact, n) + 5 * np.sqrt((1 - 2 / np.pi) / (4 * n))
    with pytest.raises(ValueError, match="at least 2 colours"):
        potts.ThrmlGrid(2, 3, 2, n_colours=1)


def test_reduced_runs_compile_thrml_without_backend_optimizations(monkeypatch):
    monkeypatch.setenv("LABKIT_MODE", "test")
    assert potts.compiler_options() == {"xla_backend_optimization_level": 0}
    monkeypatch.delenv("LABKIT_MODE")
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    assert potts.compiler_options() == {}


def test_all_states_refuses_huge_grids():
    with pytest.raises(ValueError):
        potts.all_states(5, 5, 4)
    assert len(list(itertools.islice(potts.all_states(1, 3, 2), 10))) == 8


def test_adam_minimises_a_quadratic_and_takes_jax_gradients():
    import jax.numpy as jnp

    target = potts.random_params(2, 2, 3, seed=7)
    params = potts.PottsParams(*(np.zeros_like(t) for t in target))
    opt = potts.Adam(params, lr=0.1)
    first = opt.step(params, [jnp.asarray(p - t) for p, t in zip(params, target)])
    assert isinstance(first, potts.PottsParams) and first.b.dtype == np.float64
    assert np.allclose(first.W_h, 0.1 * np.sign(target.W_h))  # bias-corrected first step: lr · sign(−g)
    params = first
    for _ in range(300):
        params = opt.step(params, [p - t for p, t in zip(params, target)])
    assert all(np.abs(p - t).max() < 0.05 for p, t in zip(params, target))
