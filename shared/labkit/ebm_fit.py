"""Fitting and judging Lab 4's energy-based models (04-thrml-ebm): everything but the answers.

- :func:`fit_pcd` trains a Potts grid by persistent contrastive divergence with a sampler it is given
  (THRML's) and a CD gradient it is given (the student's ``cd_gradient``, or autodiff of THRML's
  energy): plain gradient steps with the coupling gradient normalised per edge, a decaying step size
  and parameter averaging, and the moment-matching diagnostics that say whether it converged.
- :func:`rbm_sampler` is a restricted Boltzmann machine as a THRML program whose weights are arguments.
- :func:`split_r_hat`, :func:`train_digit_classifier`, :func:`sample_quality` and
  :func:`nearest_neighbour_fill` judge samples, mixing and inpainting.

Like :mod:`labkit.potts`, it never holds the answer to a TODO: it has no moment or energy function of
its own, and takes the gradient as an argument.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from labkit.potts import PottsParams


class PCDFit(NamedTuple):
    """What :func:`fit_pcd` returns.

    Attributes:
        params: the averaged parameters (the fit to use).
        chains: the persistent chains at the end, (n_chains, H, W) uint8.
        history: per step, "pixel mismatch" (RMS over pixels and levels of model minus data level
            frequencies), "pair mismatch" (largest |model − data| neighbour-pair frequency per edge),
            "ink" (the chains' fraction of pixels at level ≥ K/2), and, when an energy function is
            given, "E data" and "E chains" (mean energies under the current parameters).
        mismatch: the gradient (model minus data moments, couplings per edge) averaged over the
            averaging window: near 0 when the chains' moments match the data's.
    """

    params: PottsParams
    chains: np.ndarray
    history: dict
    mismatch: PottsParams


def per_edge(grads: PottsParams, height: int, width: int) -> PottsParams:
    """Coupling gradients divided by their number of edges: pair counts become pair frequencies.

    A shared coupling sits on H·(W − 1) (or (H − 1)·W) edges, so one step on the counts moves an
    image's energy hundreds of times more than a step on one pixel's bias; per edge, all the
    gradient's entries are differences of frequencies in [−1, 1] and one step size fits all.
    """
    b, W_h, W_v = (np.asarray(g, dtype=np.float64) for g in grads)
    return PottsParams(b, W_h / max(height * (width - 1), 1), W_v / max((height - 1) * width, 1))


def fit_pcd(
    x_train: np.ndarray,
    gradient: Callable,
    sampler: Callable,
    n_levels: int,
    steps: int,
    *,
    n_chains: int = 64,
    lr: float = 1.0,
    lr_couplings: float | None = None,
    persistent: bool = True,
    init: PottsParams | None = None,
    energy: Callable | None = None,
    optimizer: str = "sgd",
    seed: int = 0,
    progress: str | None = None,
) -> PCDFit:
    """Persistent CD (or CD-k) for a Potts grid, with its convergence diagnostics.

    Each step runs ``sampler`` on the chains, takes the gradient model-minus-data moments against the
    whole training set (its moments never change, so they are computed once), divides the coupling
    gradient per edge (:func:`per_edge`) and steps. The step size is constant for the first half and
    then decays as 1/t; the parameters are averaged over the second half (Polyak averaging), which
    removes the chains' noise from the fit.

    Args:
        x_train: the training states, (n, H, W) integer levels.
        gradient: ``gradient(x_data, x_model) -> PottsParams``, the CD gradient (model moments minus
            data moments, pair counts summed over edges), as notebook 4.3's ``cd_gradient`` with K bound.
        sampler: ``sampler(b, W_h, W_v, keys, x) -> x``, e.g. ``ThrmlGrid.sampler(k)``.
        n_levels: K.
        steps: gradient steps.
        n_chains: persistent chains (or data states per CD step); they start at random training states.
        lr: the step size of the biases (and of the couplings unless ``lr_couplings`` is given).
        lr_couplings: the step size of the per-edge coupling gradient.
        persistent: False for CD-k: every step restarts the chains at a fresh batch of training states.
        init: the starting parameters; default: biases at the data's smoothed log-frequencies, no couplings.
        energy: optional ``energy(b, W_h, W_v, x) -> (B,)`` for the "E data"/"E chains" history.
        optimizer: "sgd" (the above) or "adam" (labkit.potts.Adam with ``lr``, on the raw gradient:
            the first edition's choice, kept for comparison).
        seed: for the data draws and the sampler's keys.
        progress: a tqdm description, or None for no bar.
    """
    import jax

    from labkit.potts import Adam

    x_train = np.asarray(x_train, dtype=np.uint8)
    n, H, W = x_train.shape
    rng = np.random.default_rng(seed)
    key = jax.random.key(seed)
    params = init if init is not None else initial_params(x_train, n_levels)
    params = PottsParams(*(np.asarray(p, dtype=np.float64) for p in params))
    lr_w = lr if lr_couplings is None else lr_couplings
    adam = Adam(params, lr=lr) if optimizer == "adam" else None
    anchor = x_train[:1]
    data_part = gradient(x_train, anchor)  # m(anchor) − m(data); adding gradient(anchor, x) gives m(x) − m(data)
    chains = x_train[rng.integers(0, n, size=n_chains)]
    history = {"pixel mismatch": [], "pair mismatch": [], "ink": []}
    if energy is not None:
        history.update({"E data": [], "E chains": []})
    half = max(steps // 2, 1)
    averaged, mismatch, n_averaged = None, None, 0
    loop = range(steps)
    if progress:
        from tqdm.auto import tqdm

        loop = tqdm(loop, desc=progress, leave=False)
    for step in loop:
        key, sub = jax.random.split(key)
        start = chains if persistent else x_train[rng.integers(0, n, size=n_chains)]
        chains = np.asarray(sampler(*params, jax.random.split(sub, n_chains), start))
        raw = PottsParams(*(np.asarray(g, np.float64) + d for g, d in zip(gradient(anchor, chains), data_part)))
        grads = per_edge(raw, H, W)
        if adam is not None:
            params = adam.step(params, raw)
        else:
            rate = min(1.0, half / (step + 1))
            params = PottsParams(params.b - lr * rate * grads.b, params.W_h - lr_w * rate * grads.W_h,
                                 params.W_v - lr_w * rate * grads.W_v)
        history["pixel mismatch"].append(float(np.sqrt(np.mean(grads.b**2))))
        history["pair mismatch"].append(float(max(np.abs(grads.W_h).max(), np.abs(grads.W_v).max())))
        history["ink"].append(float(np.mean(chains >= n_levels // 2)))
        if energy is not None:
            batch = x_train[rng.integers(0, n, size=n_chains)]
            history["E data"].append(float(np.mean(energy(*params, batch))))
            history["E chains"].append(float(np.mean(energy(*params, chains))))
        if step >= steps - half:
            n_averaged += 1
            if averaged is None:
                averaged, mismatch = params, grads
            else:
                averaged = PottsParams(*(a + (p - a) / n_averaged for a, p in zip(averaged, params)))
                mismatch = PottsParams(*(a + (g - a) / n_averaged for a, g in zip(mismatch, grads)))
    if adam is not None:
        averaged = params
    return PCDFit(averaged, chains, history, mismatch)


def initial_params(x: np.ndarray, n_levels: int) -> PottsParams:
    """Biases at the data's log-frequencies (add-one smoothed), couplings 0: the independent-pixel fit."""
    x = np.asarray(x)
    counts = np.stack([(x == k).sum(axis=0) for k in range(n_levels)], axis=-1) + 1.0
    b = np.log(counts / counts.sum(-1, keepdims=True))
    return PottsParams(b, np.zeros((n_levels, n_levels)), np.zeros((n_levels, n_levels)))


# ------------------------------------------------------------------------------------------ the RBM
def rbm_sampler(n_visible: int, n_hidden: int, n_sweeps: int):
    """A restricted Boltzmann machine (binary v, h) as a THRML program, jitted and vmapped.

    Returns ``run(a (V,), c (Hd,), w (V, Hd), keys (B,), v (B, V) uint8) -> v (B, V) uint8``: n_sweeps
    block-Gibbs sweeps (all hidden units, then all visible units, one block each) from v. The nodes are
    THRML categorical nodes with 2 levels; a weight w_ij is the pair table [[0, 0], [0, w_ij]] and a
    bias a_i the table [0, a_i], so E(v, h) = −a·v − c·h − vᵀ w h. Weights are traced arguments: new
    weights of the same shapes reuse the compiled program.
    """
    import jax
    import jax.numpy as jnp
    import thrml
    from thrml.models import CategoricalEBMFactor, CategoricalGibbsConditional

    from labkit.potts import compiler_options

    v_nodes = [thrml.CategoricalNode() for _ in range(n_visible)]
    h_nodes = [thrml.CategoricalNode() for _ in range(n_hidden)]
    v_block, h_block = thrml.Block(v_nodes), thrml.Block(h_nodes)
    pairs_v = thrml.Block([v_nodes[i] for i in range(n_visible) for _ in range(n_hidden)])
    pairs_h = thrml.Block([h_nodes[j] for _ in range(n_visible) for j in range(n_hidden)])
    spec = thrml.BlockGibbsSpec([h_block, v_block], [])
    schedule = thrml.SamplingSchedule(n_warmup=n_sweeps, n_samples=1, steps_per_sample=1)

    def run(a, c, w, keys, v):
        zeros = jnp.zeros_like
        tables = jnp.zeros((n_visible * n_hidden, 2, 2)).at[:, 1, 1].set(jnp.reshape(w, -1))
        factors = [
            CategoricalEBMFactor([v_block], jnp.stack([zeros(a), a], axis=1)),
            CategoricalEBMFactor([h_block], jnp.stack([zeros(c), c], axis=1)),
            CategoricalEBMFactor([pairs_v, pairs_h], tables),
        ]
        program = thrml.FactorSamplingProgram(spec, [CategoricalGibbsConditional(2) for _ in range(2)], factors, [])

        def one(key, v0):
            init = [jnp.zeros(n_hidden, jnp.uint8), v0]
            return thrml.sample_states(key, program, schedule, init, [], [v_block])[0][-1]

        return jax.vmap(one)(keys, jnp.asarray(v, jnp.uint8))

    return jax.jit(run, compiler_options=compiler_options())


# ------------------------------------------------------------------------------------------ judging
def split_r_hat(traces: np.ndarray) -> float:
    """Gelman–Rubin's split R̂ of a statistic traced by several chains.

    Each chain's trace (chains, T) is cut in two halves, and R̂ compares the variance between the
    halves' means with the variance within them: about 1 when every chain samples the same
    distribution, above 1.01–1.1 when chains started apart have not met (or drift).
    """
    traces = np.asarray(traces, dtype=np.float64)
    half = traces.shape[1] // 2
    halves = np.concatenate([traces[:, :half], traces[:, half:2 * half]], axis=0)
    n = halves.shape[1]
    within = halves.var(axis=1, ddof=1).mean()
    between = n * halves.mean(axis=1).var(ddof=1)
    pooled = (n - 1) / n * within + between / n
    return float(np.sqrt(pooled / within))


class DigitClassifier(NamedTuple):
    """Softmax regression on binary 28×28 digits: p(y | x) = softmax(x·weights + bias)."""

    weights: np.ndarray
    bias: np.ndarray

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """p(y | x), shape (n, 10), for binary images x of shape (n, 28, 28) or (n, 784)."""
        logits = np.asarray(x, np.float64).reshape(len(x), -1) @ self.weights + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)


def train_digit_classifier(x: np.ndarray, y: np.ndarray, steps: int = 300, lr: float = 0.5, l2: float = 1e-3) -> DigitClassifier:
    """Full-batch gradient descent on the L2-regularised cross-entropy of softmax regression.

    Args:
        x: binary images (n, 28, 28) or (n, 784); y: their labels 0–9.
    """
    x = np.asarray(x, np.float64).reshape(len(x), -1)
    onehot = np.eye(10)[np.asarray(y)]
    clf = DigitClassifier(np.zeros((x.shape[1], 10)), np.zeros(10))
    for _ in range(steps):
        error = (clf.probabilities(x) - onehot) / len(x)
        clf = DigitClassifier(clf.weights - lr * (x.T @ error + l2 * clf.weights), clf.bias - lr * error.sum(0))
    return clf


def sample_quality(probabilities: np.ndarray) -> dict:
    """How digit-like and how varied a set of samples is, from a classifier's p(y | x) (n, 10).

    Returns "confidence" (the mean of max_y p(y | x): high when each sample looks like some digit),
    "entropy" (the mean entropy of p(y | x) in nats: low for clear digits, near log 10 for mush) and
    "class entropy" (the entropy of the predicted classes' histogram: log 10 ≈ 2.30 when all ten
    classes appear equally, 0 when every sample is the same class).
    """
    p = np.asarray(probabilities, np.float64)
    entropy = -(p * np.log(np.clip(p, 1e-12, 1))).sum(axis=1)
    counts = np.bincount(p.argmax(axis=1), minlength=p.shape[1]) / len(p)
    class_entropy = -(counts[counts > 0] * np.log(counts[counts > 0])).sum()
    return {"confidence": float(p.max(axis=1).mean()), "entropy": float(entropy.mean()),
            "class entropy": float(class_entropy)}


def nearest_neighbour_fill(train: np.ndarray, queries: np.ndarray, clamped: np.ndarray) -> np.ndarray:
    """Inpainting by copying: each query's hidden pixels from the training image whose clamped pixels
    are nearest (fewest differing levels).

    Args:
        train: (n, H, W) levels; queries: (m, H, W) levels (only their clamped pixels are read);
        clamped: (H, W) bool, the pixels that are known.

    Returns:
        (m, H, W): the clamped pixels of the queries, the others from each one's nearest training image.
    """
    train, queries = np.asarray(train), np.asarray(queries)
    known = np.asarray(clamped, bool)
    t, q = train[:, known].astype(np.int16), queries[:, known].astype(np.int16)
    distances = np.stack([(t != row).sum(axis=1) for row in q])
    nearest = train[distances.argmin(axis=1)]
    return np.where(known, queries, nearest)
