# %% [markdown]
# # Project 3.3: Anomaly detection — VAE against PCA and k-NN, with statistics
#
# Train a model on "normal" digits only; call a digit anomalous when the model finds it surprising. This
# notebook scores test digits with the VAEs notebook 1 trained on normal digits, compares them with two
# classical detectors, PCA reconstruction error and k-nearest-neighbour distance, and asks whether the
# differences are real: bootstrap confidence intervals for each AUC, and two tests for the difference of two
# AUCs (a paired bootstrap and DeLong's test, which the original plan left undone).
#
# **Learning objectives.** By the end you can
# 1. build PCA and k-NN anomaly detectors on scikit-learn and score digits with a VAE, by reconstruction
#    error and by the negative ELBO;
# 2. read ROC and precision–recall curves, the AUC and the detection rate at a fixed false-positive rate;
# 3. put a bootstrap confidence interval on an AUC and check it against `scipy.stats.bootstrap`;
# 4. test whether two detectors' AUCs differ, with a paired bootstrap and with DeLong's test, and say why
#    the test must be *paired*;
# 5. pre-register hypotheses and a primary comparison, and correct a family of tests with Holm's procedure;
# 6. open an AUC up: score distributions, per-class detection rates, failure cases, the latent map, and three
#    controls (the run-to-run spread of the VAE, a VAE trained twice as long, and a VAE trained on the anomalies too).
#
# **Prerequisites.** Notebook 1 (run it first: it saves the anomaly models); ROC curves; the bootstrap;
# the normal approximation to a test statistic.
#
# **Estimated time.** 210 minutes (week 2 of the project).
#
# **How this notebook is graded.** A pre-registration (written, graded by hand, section 0) and six functions to
# write, each with a visible and a hidden test. The tests use their own small data and models, so they do not
# depend on how well your models trained.
#
# **The splits are non-standard.** No published AUC exists for MNIST [0–4] vs [5–9] and the like: report your
# own numbers with their confidence intervals. Without full MNIST on disk this notebook uses the embedded
# 5,000-digit subset (1,000 test digits per split; 500 normal and 500 anomalous for [0–4] vs [5–9]), so the
# intervals are wide.

# %%
from labkit import blas

blas.use_fast_blas()  # before `import mlx.core` (see notebook 1)

import json
import math

import ipywidgets as widgets
import matplotlib.pyplot as plt
import mlx.core as mx
import mlx.nn as nn
import numpy as np
from IPython.display import display
from scipy import stats
from sklearn.decomposition import PCA
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import NearestNeighbors
from tqdm.auto import tqdm

from labkit import add_to_class, runtime
from labkit.checks import as_float, check_array, check_close, check_statistic
from labkit.mlx_vae import OUTPUTS, VAEBody, load_run
from labkit.mnist import load_mnist
from labkit.plots import label, use_course_style

print(runtime.describe())
use_course_style()
mx.random.seed(0)
data = load_mnist()
N_BOOTSTRAP = runtime.scaled(1000, 100)


# %%
def setup_anomaly_detection_data(data, normal_digits, anomaly_digits):
    """Training digits of the normal classes only, and test digits labelled 0 (normal) or 1 (anomaly).

    Returns:
        x_train_normal (n_train, 784), x_eval (n_eval, 784), labels (n_eval,) in {0, 1}.
    """
    x_train_normal = data.x_train[np.isin(data.y_train, normal_digits)]
    normal, anomalous = np.isin(data.y_test, normal_digits), np.isin(data.y_test, anomaly_digits)
    x_eval = np.concatenate([data.x_test[normal], data.x_test[anomalous]])
    labels = np.concatenate([np.zeros(normal.sum(), dtype=int), np.ones(anomalous.sum(), dtype=int)])
    return x_train_normal, x_eval, labels


def eval_classes(data, normal_digits, anomaly_digits):
    """The digit (0–9) of each test digit, in the order setup_anomaly_detection_data puts them."""
    normal, anomalous = np.isin(data.y_test, normal_digits), np.isin(data.y_test, anomaly_digits)
    return np.concatenate([data.y_test[normal], data.y_test[anomalous]])


def shrink(x_train_normal, *evaluation):
    """In test and grading runs, a fixed subset (600 training, 300 test digits) keeps the demos fast.

    Every array of ``evaluation`` (test digits, labels, classes) is cut with the same test indices."""
    if not runtime.is_reduced():
        return (x_train_normal, *evaluation)
    rng = np.random.default_rng(0)
    train, test = rng.choice(len(x_train_normal), 600, replace=False), np.sort(rng.choice(len(evaluation[0]), 300, replace=False))
    return (x_train_normal[train], *(array[test] for array in evaluation))


SPLITS = {"0-4": ([0, 1, 2, 3, 4], [5, 6, 7, 8, 9]), "0-6": ([0, 1, 2, 3, 4, 5, 6], [7, 8, 9]), "even": ([0, 2, 4, 6, 8], [1, 3, 5, 7, 9])}
x_train_normal, x_eval, labels, classes = shrink(*setup_anomaly_detection_data(data, *SPLITS["0-4"]), eval_classes(data, *SPLITS["0-4"]))
print(f"split [0-4] vs [5-9]: {len(x_train_normal):,} normal training digits; {len(x_eval):,} test digits, {labels.sum()} anomalies")

# %% [markdown]
# ## 0. Pre-registration: your hypotheses, before any result
#
# **Why it matters.** This notebook computes four detectors, three splits, nine settings and six tests. With
# that many numbers, a story can be found afterwards for any outcome. A research project states beforehand
# what it expects, which comparison decides the question, and how it will treat the family of tests; then
# the results can refute it. The prose further down describes the instructor's run and pre-registration: write yours
# **now, before running the cells below or reading past this section** (the grader
# cannot check when you wrote it: it rewards hypotheses that are specific and could be refuted, never ones
# that turn out right).
#
# What this notebook will run: on [0–4] vs [5–9], four detectors (the VAE's −ELBO and reconstruction scores,
# PCA with 20 components, k-NN with k = 5) fitted on the **same** normal training digits and scored on the same
# test digits; each AUC with a 95 % bootstrap interval; DeLong's test (and a paired bootstrap) on each of the
# six pairs; the two other splits and a sensitivity table (intervals, no tests); and three controls, the VAE
# retrained from two other random initialisations, the VAE trained twice as long, and a VAE trained on all ten digits.
#
# Write (a) your hypotheses, as statements about AUCs that the data could refute (which detector you expect to
# be best, and whether the VAE's −ELBO beats PCA and k-NN), with a reason for each; (b) your **primary
# comparison**, the family of tests, the level α and how you will correct for running several tests; (c) what
# each control is for, and one result of it that would make you doubt your conclusion.

# %% [markdown] nbgrader={"grade_id": "pre-registration", "solution": true, "points": 3}
# ### BEGIN SOLUTION
# **Model answer.** (a) *H1:* the VAE's −ELBO has a higher AUC than PCA (20 components) on [0–4] vs [5–9]: the VAE
# is a non-linear model of the normal digits and PCA a linear one. *H2:* k-NN (k = 5) has the highest AUC of the
# four: with about 2,000 normal digits in 784 dimensions a new normal digit usually has a close neighbour of its own
# class, and an anomaly does not. *H3:* the reconstruction score and the −ELBO of the same VAE differ, since the
# −ELBO adds the KL term and weighs pixels by the Bernoulli loss instead of the squared error.
# (b) The primary comparison is the VAE's −ELBO against PCA (does the deep model beat the simplest detector?). The
# family is the six pairwise DeLong tests on [0–4] vs [5–9], at α = 0.05, with Holm's correction for the six; a
# difference is called real only if its Holm-adjusted p-value is below 0.05. The paired bootstrap is a check on
# DeLong's normal approximation, not a second family. The other splits and the sensitivity table are descriptive
# (intervals, no tests). (c) The retrained runs measure how much the VAE's AUC moves between training runs: if that spread
# is as large as the difference between the VAE and PCA, a single run cannot rank them, whatever the test says.
# The model trained twice as long measures whether the VAE's short training budget decides its ranking: if its AUC
# rose past PCA's or k-NN's, the comparison would be about the budget, not the detectors. The contaminated model measures what training on the anomalies costs: I expect its AUC to drop; if it did not,
# the VAE would not be detecting "unlike the training digits" but something else (for example the amount of ink).
#
# **Rubric (3 points).**
# - 1 point: (a) at least two hypotheses with a direction, each about a named detector or pair, each with a reason.
# - 1 point: (b) one primary comparison named, the family of tests, α, and a correction for multiple comparisons
#   (Holm or Bonferroni) stated before the results.
# - 1 point: (c) the purpose of a control (the retrained runs, the longer training or the contaminated model) and a concrete result of it that
#   would change the conclusion.
# - No point is lost for a hypothesis the results refute, nor for a primary comparison or family other than the ones
#   the prose below discusses (it describes the instructor's run and pre-registration, not the only right one).
# ### END SOLUTION

# %% [markdown]
# ## 1. Two classical detectors
#
# **Why it matters.** A deep model earns its place only if it beats simple detectors. PCA fitted to normal
# digits reconstructs them well from $k$ components and anomalies less well; a $k$-nearest-neighbour detector
# calls a digit anomalous when it is far from every normal training digit.
#
# **The mathematics.** With the PCA mean $m$ and the $k$ orthonormal components $W \in \mathbb{R}^{784 \times k}$,
# the reconstruction is $\hat x = m + W W^\top (x - m)$ and the score is the mean squared error
# $\frac1{784}\lVert x - \hat x\rVert^2$. The k-NN score is the mean Euclidean distance from $x$ to its $k$
# nearest normal training digits, $\frac1k \sum_{i=1}^k \lVert x - x_{(i)}\rVert$. Higher means more anomalous.

# %%
class PCABaseline:
    """PCA reconstruction error as an anomaly score (fit on normal digits only)."""

    def __init__(self, n_components: int = 20):
        self.n_components = n_components
        self.pca = PCA(n_components=n_components, random_state=0)

    def fit(self, x_normal: np.ndarray) -> "PCABaseline":
        self.pca.fit(x_normal)
        return self


class KNNBaseline:
    """Mean distance to the k nearest normal training digits as an anomaly score."""

    def __init__(self, n_neighbors: int = 5):
        self.n_neighbors = n_neighbors
        self.knn = NearestNeighbors(n_neighbors=n_neighbors, metric="euclidean")

    def fit(self, x_normal: np.ndarray) -> "KNNBaseline":
        self.knn.fit(x_normal)
        return self


# %% nbgrader={"grade_id": "pca-reconstruction-error", "solution": true}
@add_to_class(PCABaseline)
def reconstruction_error(self, x: np.ndarray) -> np.ndarray:
    """The PCA anomaly score of each row of x.

    Args:
        x: digits, shape (n, 784).

    Returns:
        A NumPy array of shape (n,): the mean over the columns (the 784 pixels of a digit) of (x − x̂)², where x̂ is x projected on
        the fitted components and mapped back (self.pca.transform, then self.pca.inverse_transform).
    """
    ### BEGIN SOLUTION
    reconstructed = self.pca.inverse_transform(self.pca.transform(x))
    return np.mean((x - reconstructed) ** 2, axis=1)
    ### END SOLUTION


# %% nbgrader={"grade_id": "pca-reconstruction-error-visible", "points": 2}
# Visible test: shape, and a point on the fitted plane scores 0.
rng = np.random.default_rng(0)
plane = rng.standard_normal((200, 2)) @ rng.standard_normal((2, 6))
pca = PCABaseline(n_components=2).fit(plane)
scores = check_array(pca.reconstruction_error(plane[:5]), "reconstruction_error(x)", shape=(5,))
check_close(scores, np.zeros(5), "the score of points on the fitted plane", atol=1e-8)
print("PCABaseline.reconstruction_error: visible tests passed.")

# %% nbgrader={"grade_id": "pca-reconstruction-error-hidden", "points": 4}
# Hidden tests for PCABaseline.reconstruction_error run when your notebook is graded.
### BEGIN HIDDEN TESTS
# Contract, each clause checked below (a number names the numbered test):
#   values: shape (n,), the mean over features of the squared residual after projecting on the top-k components, for k = 1, 3, 6.
rng = np.random.default_rng(1)
train = rng.standard_normal((300, 12)) * np.linspace(3, 0.1, 12) + 5.0
for k in (1, 3, 6):
    baseline = PCABaseline(n_components=k).fit(train)
    x = rng.standard_normal((40, 12)) * 2 + 5.0
    scores = check_array(baseline.reconstruction_error(x), f"reconstruction_error (k = {k})", shape=(40,))
    # Reference from first principles: centre with the training mean, project on the top-k right singular vectors.
    mean = train.mean(axis=0)
    _, _, vt = np.linalg.svd(train - mean, full_matrices=False)
    w = vt[:k].T
    residual = (x - mean) - (x - mean) @ w @ w.T
    check_close(
        scores, (residual**2).mean(axis=1), f"reconstruction_error (k = {k})", rtol=1e-6,
        mistakes={"a sum over features: the score is the mean over the pixels.": (residual**2).sum(axis=1),
                  "the root mean squared error: the score is the mean squared error.": np.sqrt((residual**2).mean(axis=1)),
                  "the error of the projection, not of the residual.": (((x - mean) @ w @ w.T) ** 2).mean(axis=1)},
    )
print("PCABaseline.reconstruction_error: hidden tests passed.")
### END HIDDEN TESTS


# %% nbgrader={"grade_id": "knn-anomaly-score", "solution": true}
@add_to_class(KNNBaseline)
def anomaly_score(self, x: np.ndarray) -> np.ndarray:
    """The k-NN anomaly score of each row of x.

    Args:
        x: digits, shape (n, 784).

    Returns:
        A NumPy array of shape (n,): the mean Euclidean distance from each row to its self.n_neighbors
        nearest training digits (self.knn.kneighbors).
    """
    ### BEGIN SOLUTION
    distances, _ = self.knn.kneighbors(x)
    return distances.mean(axis=1)
    ### END SOLUTION


# %% nbgrader={"grade_id": "knn-anomaly-score-visible", "points": 2}
# Visible test: on a line of points 0, 1, 2, ..., 9 the 2 nearest neighbours of 4.5 are 4 and 5.
knn = KNNBaseline(n_neighbors=2).fit(np.arange(10.0)[:, None])
scores = check_array(knn.anomaly_score(np.array([[4.5], [20.0]])), "anomaly_score(x)", shape=(2,))
check_close(scores, [0.5, 11.5], "k-NN scores", mistakes={"the sum of the distances, not their mean.": [1.0, 23.0]})
print("KNNBaseline.anomaly_score: visible tests passed.")

# %% nbgrader={"grade_id": "knn-anomaly-score-hidden", "points": 4}
# Hidden tests for KNNBaseline.anomaly_score run when your notebook is graded.
### BEGIN HIDDEN TESTS
# Contract, each clause checked below (a number names the numbered test):
#   values: shape (n,), the mean Euclidean distance to the k nearest training points, for k = 1, 3, 10.
rng = np.random.default_rng(2)
train, x = rng.standard_normal((150, 5)), rng.standard_normal((30, 5)) * 1.5
for k in (1, 3, 10):
    scores = check_array(KNNBaseline(n_neighbors=k).fit(train).anomaly_score(x), f"anomaly_score (k = {k})", shape=(30,))
    distances = np.sqrt(((x[:, None, :] - train[None, :, :]) ** 2).sum(axis=-1))
    nearest = np.sort(distances, axis=1)[:, :k]
    check_close(
        scores, nearest.mean(axis=1), f"anomaly_score (k = {k})", rtol=1e-6,
        mistakes={"the sum of the k distances: take their mean.": nearest.sum(axis=1),
                  "the distance to the k-th neighbour only: take the mean of all k.": nearest[:, -1],
                  "squared distances: the score uses Euclidean distances.": (nearest**2).mean(axis=1)},
    )
print("KNNBaseline.anomaly_score: hidden tests passed.")
### END HIDDEN TESTS

# %% [markdown]
# **Picture: what PCA keeps.** Normal and anomalous test digits and their PCA reconstructions from 20 components fitted on [0–4].

# %%
pca20 = PCABaseline(20).fit(x_train_normal)
picks = np.concatenate([np.flatnonzero(labels == 0)[::97][:5], np.flatnonzero(labels == 1)[::97][:5]])
rebuilt = pca20.pca.inverse_transform(pca20.pca.transform(x_eval[picks]))
fig, axes = plt.subplots(2, 10, figsize=(11, 2.8))
for i, index in enumerate(picks):
    for row, image in enumerate((x_eval[index], rebuilt[i])):
        axes[row, i].imshow(image.reshape(28, 28), cmap="gray", vmin=0, vmax=1)
        axes[row, i].axis("off")
    axes[0, i].set_title("normal" if labels[index] == 0 else "anomaly", fontsize=8)
fig.suptitle("Test digits (top) and their PCA reconstructions from 20 components fitted on [0–4] (bottom)")
plt.show()

# %% [markdown]
# ## 2. VAE anomaly scores
#
# **Why it matters.** The VAE offers two scores. The plan used the **reconstruction error**, a squared error
# like PCA's. The model's own measure of surprise is the **negative ELBO**. On binary pixels the −ELBO would be an
# upper bound on $-\log p_\theta(x)$, and $s_{\text{ELBO}}$, which estimates it with $K$ samples, an upper bound in
# expectation (one digit's estimate can fall below); on these grey levels it is neither a likelihood nor a bound
# (Lab 2.2 measured why), but it is still the loss the model was trained to make small on normal digits:
#
# $$s_{\text{recon}}(x) = \frac1{784}\big\lVert x - \operatorname{sigmoid}(f_\theta(\mu_\phi(x)))\big\rVert^2, \qquad
#   s_{\text{ELBO}}(x) = \frac1K\sum_{k=1}^K \sum_{d}\big[\operatorname{softplus}(\ell^{(k)}_d) - x_d\ell^{(k)}_d\big]
#   + \mathrm{KL}(q_\phi(z|x)\,\|\,p(z)),$$
#
# with $\ell^{(k)} = f_\theta(z^{(k)})$, $z^{(k)} = \mu + \sigma\odot\varepsilon^{(k)}$. The reconstruction
# score decodes the mean $\mu$ (deterministic); the ELBO score averages $K$ samples. Write the sample inline
# here (the model below has no `reparameterize`).

# %% nbgrader={"grade_id": "vae-anomaly-scores", "solution": true}
def compute_vae_anomaly_scores(model: VAEBody, x: np.ndarray, kind: str = "elbo", n_samples: int = 8) -> np.ndarray:
    """Per-digit VAE anomaly scores (higher = more anomalous).

    Args:
        model: a VAE with model.encoder(x) → (μ, log σ²) and model.decoder(z) → logits.
        x: digits, a NumPy array of shape (n, 784).
        kind: "recon" for the mean squared error of sigmoid(decoder(μ)) over the 784 pixels, or "elbo" for
            the negative ELBO: the Bernoulli reconstruction term softplus(ℓ) − xℓ summed over pixels and
            averaged over n_samples draws z = μ + σ ⊙ ε (fresh ε from mx.random on every call, independent
            for every digit and draw), plus the closed-form KL(q_φ(z|x) ‖ N(0, I)).
        n_samples: K, the number of draws of z per digit for kind="elbo".

    Returns:
        A NumPy array of shape (n,).
    """
    ### BEGIN SOLUTION
    xs = mx.array(x)
    mu, logvar = model.encoder(xs)
    if kind == "recon":
        return np.array(mx.mean((xs - mx.sigmoid(model.decoder(mu))) ** 2, axis=1))
    if kind != "elbo":
        raise ValueError(f"kind must be 'recon' or 'elbo', got {kind!r}")
    reconstruction = mx.zeros(mu.shape[0])
    for _ in range(n_samples):
        z = mu + mx.exp(0.5 * logvar) * mx.random.normal(mu.shape)
        logits = model.decoder(z)
        reconstruction = reconstruction + mx.sum(mx.logaddexp(0.0, logits) - xs * logits, axis=1)
    kl = 0.5 * mx.sum(mu**2 + mx.exp(logvar) - 1.0 - logvar, axis=1)
    return np.array(reconstruction / n_samples + kl)
    ### END SOLUTION


# %% nbgrader={"grade_id": "vae-anomaly-scores-visible", "points": 3}
# Visible test: shapes for both kinds, and the reconstruction score against NumPy.
mx.random.seed(0)
vae = VAEBody(hidden_dim=32, latent_dim=3)
digits = data.x_test[:6]
for kind in ("recon", "elbo"):
    check_array(compute_vae_anomaly_scores(vae, digits, kind=kind), f"compute_vae_anomaly_scores(kind={kind!r})", shape=(6,))
mu = vae.encoder(mx.array(digits))[0]
probabilities = np.array(mx.sigmoid(vae.decoder(mu)), dtype=np.float64)
check_close(compute_vae_anomaly_scores(vae, digits, kind="recon"), ((digits - probabilities) ** 2).mean(axis=1), "recon scores", rtol=1e-4)
print("compute_vae_anomaly_scores: visible tests passed.")


# %% nbgrader={"grade_id": "vae-anomaly-scores-hidden", "points": 5}
# Hidden tests for compute_vae_anomaly_scores run when your notebook is graded.
### BEGIN HIDDEN TESTS
# Contract, each clause checked below (a number names the numbered test):
#   values: shape (n,) for both kinds; elbo = Bernoulli term summed over pixels + KL (1, 2); recon = mean squared error of
#   sigmoid(decoder(μ)), deterministic (3).
#   statistics: the elbo score averages n_samples independent draws z = μ + exp(½ log σ²)·ε: its standardized mean and
#   variance against the test's own Monte Carlo reference (4).
#   randomness: recon is deterministic; elbo draws fresh ε from mx.random on every call (4).
def _softplus_terms(logits, x):
    return (np.logaddexp(0, logits) - x * logits).sum(axis=1)


mx.random.seed(5)
rng = np.random.default_rng(5)
digits = data.x_test[rng.choice(len(data.x_test), 9, replace=False)].astype(np.float64)
# 1. A decoder whose weights are 0 outputs its bias whatever z is: the ELBO score is then exact for any σ,
#    and tests the KL term with large variances.
vae = VAEBody(hidden_dim=16, latent_dim=4)
vae.decoder.fc2.weight = mx.zeros_like(vae.decoder.fc2.weight)
vae.decoder.fc2.bias = mx.array(rng.standard_normal(784).astype(np.float32))
vae.encoder.fc_logvar.bias = mx.array(np.array([2.0, -1.0, 0.5, 1.5], dtype=np.float32))
mu, logvar = (np.array(v, dtype=np.float64) for v in vae.encoder(mx.array(digits.astype(np.float32))))
bias_logits = np.broadcast_to(np.array(vae.decoder.fc2.bias, dtype=np.float64), digits.shape)
recon = _softplus_terms(bias_logits, digits)
kl = 0.5 * (mu**2 + np.exp(logvar) - 1 - logvar).sum(axis=1)
scores = check_array(compute_vae_anomaly_scores(vae, digits.astype(np.float32), kind="elbo", n_samples=3), "elbo scores", shape=(9,))
check_close(
    scores, recon + kl, "the negative ELBO (decoder independent of z)", rtol=1e-4,
    mistakes={"the ELBO, not its negative: higher must mean more anomalous.": -(recon + kl),
              "the KL term is missing.": recon, "the KL enters with the wrong sign.": recon - kl,
              "the squared error instead of the Bernoulli term.": ((digits - 1 / (1 + np.exp(-bias_logits))) ** 2).sum(axis=1) + kl},
)
# 2. A near-zero variance makes z = μ: the ELBO score is then the Bernoulli term of the decoder at μ plus the KL.
vae = VAEBody(hidden_dim=16, latent_dim=4)
vae.encoder.fc_logvar.weight = mx.zeros_like(vae.encoder.fc_logvar.weight)
vae.encoder.fc_logvar.bias = mx.full((4,), -30.0)
mu, logvar = (np.array(v, dtype=np.float64) for v in vae.encoder(mx.array(digits.astype(np.float32))))
logits = np.array(vae.decoder(mx.array(mu.astype(np.float32))), dtype=np.float64)
kl = 0.5 * (mu**2 + np.exp(logvar) - 1 - logvar).sum(axis=1)
scores = check_array(compute_vae_anomaly_scores(vae, digits.astype(np.float32), kind="elbo"), "elbo scores", shape=(9,))
check_close(scores, _softplus_terms(logits, digits) + kl, "the negative ELBO when σ ≈ 0", rtol=1e-4,
            mistakes={"a mean over pixels: sum the Bernoulli term over the 784 pixels.": (np.logaddexp(0, logits) - digits * logits).mean(axis=1) + kl})
# 3. The reconstruction score decodes μ (deterministic) and compares probabilities, not logits, with x.
vae = VAEBody(hidden_dim=16, latent_dim=4)
first, second = (compute_vae_anomaly_scores(vae, digits.astype(np.float32), kind="recon") for _ in range(2))
check_array(first, "recon scores", shape=(9,))
mu = np.array(vae.encoder(mx.array(digits.astype(np.float32)))[0])
logits = np.array(vae.decoder(mx.array(mu)), dtype=np.float64)
check_close(first, second, "two calls of the recon score (decode μ, do not sample)", rtol=1e-6)
check_close(first, ((digits - 1 / (1 + np.exp(-logits))) ** 2).mean(axis=1), "recon scores", rtol=1e-4,
            mistakes={"logits compared with x: apply the sigmoid.": ((digits - logits) ** 2).mean(axis=1),
                      "a sum over pixels: the recon score is the mean over the 784 pixels.": ((digits - 1 / (1 + np.exp(-logits))) ** 2).sum(axis=1)})

# 4. The sampling itself, with a decoder that depends on z and q = N((0.5, −1), diag(4, 0.25)) for every digit.
#    Per digit the ELBO score is the mean of K = 4 draws of f(z) = Σ_d softplus(ℓ_d(z)) − x·ℓ(z), z ~ q, plus the
#    KL; the test computes E[f] and Var[f] per digit from M = 10,000 draws of its own (float64). Standardized,
#    t = (score − E[f] − KL)/√(Var[f]/K) has mean 0 (SE √(1/n + K/M) over n digits: the digits' draws are
#    independent, and the reference's own Monte Carlo error) and variance 1 (SE √((m₄ − 1)/n), with the fourth
#    moment m₄ of t from the reference's draws grouped by K). Decoding μ, σ = exp(log σ²) or exp(¼ log σ²),
#    another K, or one ε for all K draws or all digits each move one of the two far beyond 5 SE.
n, K, M = 300, 4, 10_000
vae = VAEBody(hidden_dim=16, latent_dim=2)
mu_q, logvar_q = np.array([0.5, -1.0]), np.log(np.array([4.0, 0.25]))
vae.encoder.fc_mu.weight = mx.zeros_like(vae.encoder.fc_mu.weight)
vae.encoder.fc_logvar.weight = mx.zeros_like(vae.encoder.fc_logvar.weight)
vae.encoder.fc_mu.bias, vae.encoder.fc_logvar.bias = mx.array(mu_q.astype(np.float32)), mx.array(logvar_q.astype(np.float32))
vae.decoder.fc2.weight = 3 * vae.decoder.fc2.weight  # logits that move with z
x = (rng.random((n, 784)) < 0.3).astype(np.float32)
w1, b1, w2, b2 = (np.array(a, dtype=np.float64) for a in (vae.decoder.fc1.weight, vae.decoder.fc1.bias, vae.decoder.fc2.weight, vae.decoder.fc2.bias))
z = mu_q + np.exp(0.5 * logvar_q) * rng.standard_normal((M, 2))
ell = np.maximum(z @ w1.T + b1, 0) @ w2.T + b2
f = np.logaddexp(0, ell).sum(axis=1)[None, :] - x.astype(np.float64) @ ell.T  # (n, M)
kl_q = 0.5 * (mu_q**2 + np.exp(logvar_q) - 1 - logvar_q).sum()
f_mean, f_var = f.mean(axis=1), f.var(axis=1)
grouped = (f.reshape(n, -1, K).mean(axis=2) - f_mean[:, None]) / np.sqrt(f_var[:, None] / K)
m4 = np.mean(grouped**4)
scores = check_array(compute_vae_anomaly_scores(vae, x, kind="elbo", n_samples=K), "elbo scores (n_samples = 4)", shape=(n,))
t = (scores - f_mean - kl_q) / np.sqrt(f_var / K)
check_statistic(t.mean(), 0.0, math.sqrt(1 / n + K / M),
                "the mean of the standardized ELBO scores (is z = μ + exp(½ log σ²)·ε decoded, a fresh ε per draw?)")
check_statistic(t.var(ddof=1), 1.0, math.sqrt((m4 - 1) / n),
                "the spread of the ELBO scores (n_samples independent draws per digit, a fresh ε for every digit?)")
# Fresh draws from mx.random on every call: two calls give different ELBO scores (re-seeding inside would not).
first, second = (compute_vae_anomaly_scores(vae, x[:5], kind="elbo", n_samples=2) for _ in range(2))
assert not np.allclose(first, second), "two calls gave the same ELBO scores: draw fresh ε from mx.random on every call (no re-seeding inside)"
print("compute_vae_anomaly_scores: hidden tests passed.")
### END HIDDEN TESTS

# %% [markdown]
# ## 3. ROC, precision–recall, and the detection rate at a fixed false-positive rate
#
# `compare_anomaly_detection` (given) summarises each detector: the ROC curve and its area (AUC, the
# probability that a random anomaly scores above a random normal digit), the precision–recall curve and its
# average precision, and the **detection rate** (true-positive rate) at false-positive rates of 1 %, 5 % and 10 %,
# the number an operator who can afford so many false alarms cares about.

# %%
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_curve  # noqa: E402


def compare_anomaly_detection(scores: dict[str, np.ndarray], labels: np.ndarray, fprs=(0.01, 0.05, 0.10)) -> dict[str, dict]:
    """For each detector: AUC, ROC and PR curves, average precision and the detection rate at each FPR."""
    results = {}
    for name, score in scores.items():
        fpr, tpr, _ = roc_curve(labels, score)
        precision, recall, _ = precision_recall_curve(labels, score)
        results[name] = {
            "auc": roc_auc_score(labels, score), "fpr": fpr, "tpr": tpr, "precision": precision, "recall": recall,
            "average_precision": average_precision_score(labels, score),
            "detection_rate": {f: float(tpr[fpr <= f].max()) for f in fprs},
        }
    return results


def plot_roc_pr(results: dict, title: str) -> None:
    fig, (ax_roc, ax_pr) = plt.subplots(1, 2, figsize=(11, 4.2))
    for name, r in results.items():
        ax_roc.plot(r["fpr"], r["tpr"], label=f"{name} (AUC {r['auc']:.3f})")
        ax_pr.plot(r["recall"], r["precision"], label=f"{name} (AP {r['average_precision']:.3f})")
    ax_roc.plot([0, 1], [0, 1], "k:", lw=1)
    ax_roc.legend(fontsize=8)
    ax_pr.legend(fontsize=8)
    label(ax_roc, f"ROC: {title}", "false-positive rate", "true-positive rate (detection rate)")
    label(ax_pr, f"Precision–recall: {title}", "recall", "precision")
    fig.tight_layout()
    plt.show()


def detector_scores(split: str, x_train_normal: np.ndarray, x_eval: np.ndarray, latent_dim: int = 20, n_components: int = 20, k: int = 5) -> dict:
    model, _, _ = load_run(f"anomaly-{split}-z{latent_dim}", latent_dim)
    mx.random.seed(0)
    return {
        "VAE −ELBO": compute_vae_anomaly_scores(model, x_eval, kind="elbo"),
        "VAE recon": compute_vae_anomaly_scores(model, x_eval, kind="recon"),
        f"PCA ({n_components})": PCABaseline(n_components).fit(x_train_normal).reconstruction_error(x_eval),
        f"k-NN (k={k})": KNNBaseline(k).fit(x_train_normal).anomaly_score(x_eval),
    }


scores_04, results_04 = {}, {}  # filled in once the detectors above are written
scores_04 = detector_scores("0-4", x_train_normal, x_eval)
results_04 = compare_anomaly_detection(scores_04, labels)
plot_roc_pr(results_04, "[0–4] normal, [5–9] anomalous")
for name, r in results_04.items():
    rates = ", ".join(f"{100 * f:.0f}%: {rate:.2f}" for f, rate in r["detection_rate"].items())
    print(f"{name:12s} AUC {r['auc']:.3f}  AP {r['average_precision']:.3f}  detection rate at FPR {rates}")

# %% [markdown]
# **Think:** two detectors with the same AUC can differ a lot at 1 % false positives. Which part of the ROC
# curve does an operator with a small alarm budget live on?

# %% [markdown]
# ## 4. How sure are we? A bootstrap confidence interval for the AUC
#
# **Why it matters.** About a thousand test digits give an AUC with an uncertainty of a few hundredths (about
# ±0.03 for the detectors below): enough to swap the ranking of two detectors. The bootstrap estimates that
# uncertainty by resampling the test set.
#
# **The mathematics.** Draw $B$ resamples of the $n$ (score, label) **pairs** with replacement, compute the AUC
# $\hat A^{*}_b$ of each, and report the observed AUC $\hat A$ (on the original data) with the percentile interval
# $\big[q_{\alpha/2}(\hat A^*),\, q_{1-\alpha/2}(\hat A^*)\big]$, $\alpha = 1 - \text{confidence}$. The plan returned the
# mean of the $\hat A^*_b$ instead of $\hat A$; report the AUC you observed.
#
# **Speed.** `roc_auc_score` sorts the scores again on every call; a thousand resamples of several detectors
# add up. `auc_by_ranks` (given) computes the AUC as the Mann–Whitney statistic from ranks, for a whole
# (B, n) array of resamples at once: `auc_by_ranks(scores[index], labels[index], axis=1)` with `index` of shape
# (B, n). A resample that happens to hold one class only has no AUC: leave it out.

# %%
def auc_by_ranks(scores: np.ndarray, labels: np.ndarray, axis: int = -1) -> np.ndarray:
    """AUC = (sum of the anomalies' ranks − n₁(n₁ + 1)/2) / (n₁ n₀), along ``axis`` (ties get mid-ranks).

    Equal to sklearn's roc_auc_score for one row; vectorized over the other axes. Rows must hold both classes.
    """
    ranks = stats.rankdata(scores, axis=axis)
    n1 = labels.sum(axis=axis)
    n0 = labels.shape[axis] - n1
    return ((ranks * labels).sum(axis=axis) - n1 * (n1 + 1) / 2) / (n1 * n0)


# %% nbgrader={"grade_id": "bootstrap-auc-ci", "solution": true}
def bootstrap_auc_ci(scores: np.ndarray, labels: np.ndarray, n_bootstrap: int = 1000, confidence: float = 0.95, seed: int = 0) -> tuple[float, float, float]:
    """The AUC of scores for labels, with a percentile bootstrap confidence interval.

    Args:
        scores: anomaly scores, shape (n,), higher = more anomalous.
        labels: 0 (normal) or 1 (anomaly), shape (n,).
        n_bootstrap: B, the number of resamples of the n (score, label) pairs, drawn with replacement.
        confidence: the interval's coverage, e.g. 0.95.
        seed: seed of np.random.default_rng for the resampling.

    Returns:
        (auc, lower, upper): three floats; auc = roc_auc_score on the original data, lower and upper the
        (1 − confidence)/2 and (1 + confidence)/2 percentiles of the B bootstrap AUCs. A resample that holds one
        class only has no AUC and is left out, so the ends are finite and 0 ≤ lower ≤ upper ≤ 1 however small the
        data; with n_bootstrap = 1 there is one bootstrap AUC and lower = upper.
    """
    ### BEGIN SOLUTION
    rng = np.random.default_rng(seed)
    index = rng.integers(0, len(labels), (n_bootstrap, len(labels)))
    resampled = labels[index]
    both = resampled.min(axis=1) != resampled.max(axis=1)  # resamples holding both classes
    aucs = auc_by_ranks(scores[index[both]], resampled[both], axis=1)
    alpha = 1 - confidence
    lower, upper = np.quantile(aucs, [alpha / 2, 1 - alpha / 2])
    return float(roc_auc_score(labels, scores)), float(lower), float(upper)
    ### END SOLUTION


# %% nbgrader={"grade_id": "bootstrap-auc-ci-visible", "points": 3}
# Visible test: three floats, the observed AUC, and the interval around it.
rng = np.random.default_rng(0)
toy_labels = np.repeat([0, 1], 150)
toy_scores = rng.standard_normal(300) + 0.8 * toy_labels
result = bootstrap_auc_ci(toy_scores, toy_labels, n_bootstrap=500, seed=1)
assert isinstance(result, tuple) and len(result) == 3, "bootstrap_auc_ci should return (auc, lower, upper)"
auc, lower, upper = (as_float(v, n) for v, n in zip(result, ("auc", "lower", "upper")))
check_close(auc, roc_auc_score(toy_labels, toy_scores), "auc (on the original data, not a bootstrap mean)", rtol=1e-9)
assert lower < auc < upper, f"the interval [{lower:.3f}, {upper:.3f}] should contain the observed AUC {auc:.3f}"
reference = stats.bootstrap((toy_scores, toy_labels), auc_by_ranks, paired=True, vectorized=True, n_resamples=5000,
                            confidence_level=0.95, method="percentile", random_state=np.random.default_rng(2)).confidence_interval
# With only 500 resamples the percentiles are rough: within 0.03 of scipy's.
check_close(np.array([lower, upper]), [reference.low, reference.high], "the 95% interval against scipy.stats.bootstrap", atol=0.03)
print(f"bootstrap_auc_ci: visible tests passed (AUC {auc:.3f}, 95% CI [{lower:.3f}, {upper:.3f}]).")

# %% nbgrader={"grade_id": "bootstrap-auc-ci-hidden", "points": 5}
# Hidden tests for bootstrap_auc_ci run when your notebook is graded.
### BEGIN HIDDEN TESTS
# Contract, each clause checked below (a number names the numbered test):
#   values: three floats; auc on the original data; the percentile interval's ends against scipy.stats.bootstrap
#   within the standard error of a percentile, at two confidence levels.
#   randomness: the resampling follows seed (same seed, same interval; other seed values, other intervals); every row
#   can be drawn (the row-0 case). n_bootstrap is used (one resample: lower = upper). The ends are percentiles of AUCs:
#   finite and inside [0, 1] on 8 digits (one-class resamples left out; a reflected "basic" interval is not inside).
def _auc_stat(s, labels, axis=-1):
    """The test's own rank AUC, vectorized for scipy.stats.bootstrap."""
    ranks = stats.rankdata(s, axis=axis)
    n1 = labels.sum(axis=axis)
    return ((ranks * labels).sum(axis=axis) - n1 * (n1 + 1) / 2) / (n1 * (labels.shape[axis] - n1))


rng = np.random.default_rng(21)
for confidence, n, shift in [(0.95, 300, 0.6), (0.80, 240, 1.2)]:
    hid_labels = (rng.random(n) < 0.4).astype(int)
    hid_scores = rng.standard_normal(n) + shift * hid_labels
    result = bootstrap_auc_ci(hid_scores, hid_labels, n_bootstrap=2000, confidence=confidence, seed=3)
    assert isinstance(result, tuple) and len(result) == 3, "bootstrap_auc_ci should return (auc, lower, upper)"
    auc, lower, upper = (as_float(v, f"{name} ({confidence:.0%})") for v, name in zip(result, ("auc", "lower", "upper")))
    check_close(auc, roc_auc_score(hid_labels, hid_scores), f"auc ({confidence:.0%})", rtol=1e-9)
    boot = stats.bootstrap((hid_scores, hid_labels), _auc_stat, paired=True, vectorized=True, n_resamples=10_000,
                           confidence_level=confidence, method="percentile", random_state=np.random.default_rng(4))
    distribution = boot.bootstrap_distribution
    for q, got, name in (((1 - confidence) / 2, lower, "lower"), ((1 + confidence) / 2, upper, "upper")):
        # A percentile of B = 2000 resamples has standard error √(q(1 − q)/B) / f(x_q); f from the spread of
        # scipy's 10,000 resamples between the quantiles q ± 0.02 (scipy's own error adds 2000/10000 of the variance).
        spread = np.quantile(distribution, min(q + 0.02, 1)) - np.quantile(distribution, max(q - 0.02, 0))
        se = spread / 0.04 * math.sqrt(q * (1 - q) / 2000) * math.sqrt(1 + 0.2)
        check_statistic(got, float(np.quantile(distribution, q)), se, f"the {name} end of the {confidence:.0%} interval against scipy.stats.bootstrap")
# The resampling follows `seed` (np.random.default_rng(seed)): the same seed gives the same interval, other
# seed values other ones (three runs of 300 resamples cannot all give the same percentiles of a continuous spread).
runs = [bootstrap_auc_ci(hid_scores, hid_labels, n_bootstrap=300, seed=s) for s in (5, 5, 6, 7)]
check_close(np.array(runs[1], dtype=float), np.array(runs[0], dtype=float), "the interval for the same seed twice", rtol=1e-12)
assert len({tuple(r[1:]) for r in runs[1:]}) > 1, "seed values 5, 6 and 7 gave the same interval: resample with np.random.default_rng(seed)"
# Every pair can be drawn, row 0 included: 20 anomalies and 20 normal digits, all anomalies scored above every
# normal one except row 0, scored below them all (AUC 0.95). A resample with k copies of row 0 among n₁ anomalies has
# AUC 1 − k/n₁; k ≥ 2 (probability about 0.26) puts the lower end below 0.95, which it cannot be if row 0 is never drawn.
row0_labels = np.tile([1, 0], 20)
row0_scores = np.where(row0_labels == 1, 10.0, 0.0) + np.arange(40) / 100
row0_scores[0] = -1.0
auc_row0, lower_row0, _ = bootstrap_auc_ci(row0_scores, row0_labels, n_bootstrap=400, seed=1)
assert lower_row0 < auc_row0, "the lower end equals the AUC for data whose first row decides it: can every row be drawn (rng.integers(0, n, ...))?"
# n_bootstrap is used: with one resample (two-class: 40 balanced digits) both ends are its AUC.
one_labels = np.repeat([0, 1], 20)
one_scores = np.random.default_rng(52).standard_normal(40) + one_labels
_, lower_one, upper_one = (as_float(v, n_) for v, n_ in zip(bootstrap_auc_ci(one_scores, one_labels, n_bootstrap=1, seed=3), ("auc", "lower", "upper")))
check_close(lower_one, upper_one, "lower and upper for n_bootstrap = 1 (one bootstrap AUC: is n_bootstrap used?)", rtol=1e-12)
# On 8 digits about 1 resample in 128 holds one class only: it has no AUC and must be left out, not turned into nan.
# The ends are percentiles of AUCs, so they lie in [0, 1]; a reflected ("basic") interval, 2·AUC − the percentiles,
# passes 1 here (the AUC is 0.81, the upper percentile 1).
tiny_labels = np.tile([0, 1], 4)
tiny_scores = np.arange(8.0) + 1.5 * tiny_labels
_, lower_tiny, upper_tiny = bootstrap_auc_ci(tiny_scores, tiny_labels, n_bootstrap=400, seed=3)
assert np.isfinite(lower_tiny) and np.isfinite(upper_tiny) and 0.0 <= lower_tiny <= upper_tiny <= 1.0, (
    f"the interval on 8 digits is [{lower_tiny}, {upper_tiny}]: leave out the resamples that hold one class only, "
    "and report the percentiles of the bootstrap AUCs themselves")
print("bootstrap_auc_ci: hidden tests passed.")
### END HIDDEN TESTS

# %%
intervals_04 = {}
for name, score in tqdm(scores_04.items(), desc="bootstrap CIs"):
    intervals_04[name] = bootstrap_auc_ci(score, labels, n_bootstrap=N_BOOTSTRAP)
fig, ax = plt.subplots(figsize=(7, 3.2))
for row, (name, (auc, lower, upper)) in enumerate(intervals_04.items()):
    ax.errorbar(auc, row, xerr=[[auc - lower], [upper - auc]], fmt="o", capsize=4)
    print(f"{name:12s} AUC {auc:.3f}  95% CI [{lower:.3f}, {upper:.3f}]  ({N_BOOTSTRAP} resamples, {len(labels)} test digits)")
ax.set_yticks(range(len(intervals_04)), list(intervals_04))
label(ax, "AUC with 95% bootstrap intervals, split [0–4] vs [5–9]", "AUC", "detector")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 5. Are two detectors different? Paired bootstrap and DeLong's test
#
# **Why it matters.** Two intervals that overlap do not show that two AUCs are equal, and two that do not
# overlap are a crude test. Both detectors score the **same** digits, so their AUCs are correlated: a test of
# their difference must resample (or model) them *together*.
#
# **The mathematics.** Let $\hat\Delta = \hat A_1 - \hat A_2$.
#
# * **Paired bootstrap.** Resample the $n$ (score₁, score₂, label) triples $B$ times, compute
#   $\hat\Delta^*_b$; under the null the centred bootstrap distribution $\hat\Delta^*_b - \hat\Delta$ stands in for
#   the distribution of $\hat\Delta$, so the two-sided p-value is $\frac1B\#\{b : |\hat\Delta^*_b - \hat\Delta| \ge |\hat\Delta|\}$.
#   (The plan compared $|\hat\Delta^*_b|$ with $|\hat\Delta|$ without centring, which gives p of about 0.5 or more
#   whatever the data.)
# * **DeLong (1988).** For detector $r$, each anomaly $i$ ($m$ of them) and each normal digit $j$ ($n$ of them)
#   get placement values $V^r_{10}(i) = \frac1n\sum_j \psi(s^r_i, s^r_j)$ and $V^r_{01}(j) = \frac1m\sum_i \psi(s^r_i, s^r_j)$,
#   with $\psi(a, b) = 1$ if $a > b$, ½ if $a = b$, 0 otherwise (so $\hat A_r$ is the mean of either). With $S_{10}$ and
#   $S_{01}$ the 2 × 2 sample covariance matrices (divide by $m - 1$ and $n - 1$) of the placement values of the
#   two detectors,
#   $$\operatorname{Var}(\hat\Delta) = \frac{S_{10}^{11} + S_{10}^{22} - 2S_{10}^{12}}{m} + \frac{S_{01}^{11} + S_{01}^{22} - 2S_{01}^{12}}{n},
#     \qquad z = \frac{\hat\Delta}{\sqrt{\operatorname{Var}(\hat\Delta)}}, \qquad p = 2\,\Phi(-|z|).$$

# %% nbgrader={"grade_id": "compare-auc-statistical-test", "solution": true}
def compare_auc_statistical_test(
    scores1: np.ndarray, scores2: np.ndarray, labels: np.ndarray, method: str = "delong", n_bootstrap: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """Two-sided test of H₀: AUC₁ = AUC₂ for two detectors scored on the same digits.

    Args:
        scores1, scores2: the two detectors' scores, shape (n,) each.
        labels: 0 (normal) or 1 (anomaly), shape (n,).
        method: "delong" (DeLong's test, normal approximation) or "bootstrap" (paired, centred).
        n_bootstrap: B for method="bootstrap".
        seed: seed of np.random.default_rng for method="bootstrap".

    Returns:
        (p_value, diff): two floats; diff = AUC₁ − AUC₂ on the original data.
    """
    ### BEGIN SOLUTION
    diff = roc_auc_score(labels, scores1) - roc_auc_score(labels, scores2)
    if method == "delong":
        positives, negatives = labels == 1, labels == 0
        v10, v01 = [], []
        for s in (scores1, scores2):
            psi = (s[positives][:, None] > s[negatives][None, :]) + 0.5 * (s[positives][:, None] == s[negatives][None, :])
            v10.append(psi.mean(axis=1))
            v01.append(psi.mean(axis=0))
        s10, s01 = np.cov(np.array(v10)), np.cov(np.array(v01))
        contrast = np.array([1.0, -1.0])
        variance = contrast @ s10 @ contrast / positives.sum() + contrast @ s01 @ contrast / negatives.sum()
        z = diff / math.sqrt(variance)
        return float(2 * stats.norm.sf(abs(z))), float(diff)
    if method == "bootstrap":
        rng = np.random.default_rng(seed)
        index = rng.integers(0, len(labels), (n_bootstrap, len(labels)))
        index = index[labels[index].min(axis=1) != labels[index].max(axis=1)]
        diffs = auc_by_ranks(scores1[index], labels[index], axis=1) - auc_by_ranks(scores2[index], labels[index], axis=1)
        return float(np.mean(np.abs(diffs - diff) >= abs(diff))), float(diff)
    raise ValueError(f"method must be 'delong' or 'bootstrap', got {method!r}")
    ### END SOLUTION


# %% nbgrader={"grade_id": "compare-auc-statistical-test-visible", "points": 3}
# Visible test: types, the observed difference, and p-values in [0, 1] for both methods.
rng = np.random.default_rng(0)
toy_labels = np.repeat([0, 1], 100)
common = rng.standard_normal(200)
toy1 = common + 1.0 * toy_labels
toy2 = common + 0.3 * rng.standard_normal(200) + 0.7 * toy_labels
for method in ("delong", "bootstrap"):
    result = compare_auc_statistical_test(toy1, toy2, toy_labels, method=method, n_bootstrap=300)
    assert isinstance(result, tuple) and len(result) == 2, "compare_auc_statistical_test should return (p_value, diff)"
    p_value, diff = (as_float(v, f"{n} ({method})") for v, n in zip(result, ("p_value", "diff")))
    assert 0.0 <= p_value <= 1.0, f"a p-value lies in [0, 1], got {p_value} ({method})"
    check_close(diff, roc_auc_score(toy_labels, toy1) - roc_auc_score(toy_labels, toy2), f"diff ({method})", rtol=1e-9,
                mistakes={"AUC₂ − AUC₁: diff is AUC₁ − AUC₂.": roc_auc_score(toy_labels, toy2) - roc_auc_score(toy_labels, toy1)})
print("compare_auc_statistical_test: visible tests passed.")

# %% nbgrader={"grade_id": "compare-auc-statistical-test-hidden", "points": 6}
# Hidden tests for compare_auc_statistical_test run when your notebook is graded.
### BEGIN HIDDEN TESTS
# Contract, each clause checked below (a number names the numbered test):
#   values: (p, diff) floats; DeLong's p against a written-out reference, with ties (1); identical detectors give
#   diff 0 and bootstrap p 1 (2); the paired, centred, two-sided bootstrap p against the test's own, at a small p (3) and
#   in the middle of its range (4); DeLong's standard error agrees with the bootstrap's (3); every row drawable (5).
#   randomness: the bootstrap follows seed (4).
def _delong_reference(a, b, y):
    """DeLong's variance from the pairwise comparison matrices, written out term by term."""
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    m, n = len(pos), len(neg)
    placements = []
    for s in (a, b):
        wins = np.sign(s[pos][:, None] - s[neg][None, :]) * 0.5 + 0.5  # 1, ½ or 0
        placements.append((wins.sum(axis=1) / n, wins.sum(axis=0) / m, wins.mean()))
    (x1, y1, auc1), (x2, y2, auc2) = placements
    cov = lambda u, v: np.sum((u - u.mean()) * (v - v.mean())) / (len(u) - 1)
    var_x = cov(x1, x1) + cov(x2, x2) - 2 * cov(x1, x2)
    var_y = cov(y1, y1) + cov(y2, y2) - 2 * cov(y1, y2)
    variance = var_x / m + var_y / n
    z = (auc1 - auc2) / math.sqrt(variance)
    return 2 * stats.norm.sf(abs(z)), auc1 - auc2, var_x / m + var_y / n, (cov(x1, x1) + cov(x2, x2)) / m + (cov(y1, y1) + cov(y2, y2)) / n


rng = np.random.default_rng(31)
n = 400
y = (rng.random(n) < 0.45).astype(int)
common = rng.standard_normal(n)
a = np.round(common + 0.9 * y, 1)  # rounded: ties, which ψ counts as ½
b = common + 0.35 * rng.standard_normal(n) + 0.75 * y
p_ref, diff_ref, var_ref, var_independent = _delong_reference(a, b, y)
# 1. DeLong against the reference, with the usual slips as hints.
result = compare_auc_statistical_test(a, b, y, method="delong")
assert isinstance(result, tuple) and len(result) == 2, "compare_auc_statistical_test should return (p_value, diff)"
p_value, diff = (as_float(v, n_) for v, n_ in zip(result, ("p_value (delong)", "diff (delong)")))
check_close(diff, diff_ref, "diff (delong)", rtol=1e-9)
check_close(
    p_value, p_ref, "DeLong p-value", rtol=1e-6, atol=1e-9,
    mistakes={"the covariance of the two detectors is ignored: the test must be paired.": 2 * stats.norm.sf(abs(diff_ref) / math.sqrt(var_independent)),
              "a one-sided p-value: the test is two-sided, p = 2Φ(−|z|).": stats.norm.sf(abs(diff_ref) / math.sqrt(var_ref))},
)
# 2. On two identical detectors the difference is 0 and the bootstrap p-value is 1.
p_same, diff_same = (as_float(v, n_) for v, n_ in zip(compare_auc_statistical_test(b, b.copy(), y, method="bootstrap", n_bootstrap=200, seed=1), ("p", "diff")))
check_close(diff_same, 0.0, "diff of a detector with itself", atol=1e-12)
check_close(p_same, 1.0, "bootstrap p-value of a detector against itself")
# 3. The paired bootstrap against our own paired bootstrap (another seed): two estimates of the same p,
#    each with standard error √(p(1 − p)/B).
B = 1000
p_boot, _ = (as_float(v, n_) for v, n_ in zip(compare_auc_statistical_test(a, b, y, method="bootstrap", n_bootstrap=B, seed=2), ("p (bootstrap)", "diff")))
def _auc_rows(s, labels):
    ranks = stats.rankdata(s, axis=1)
    n1 = labels.sum(axis=1)
    return ((ranks * labels).sum(axis=1) - n1 * (n1 + 1) / 2) / (n1 * (labels.shape[1] - n1))


index = rng.integers(0, n, (B, n))
ours = _auc_rows(a[index], y[index]) - _auc_rows(b[index], y[index])
p_ours = np.mean(np.abs(ours - diff_ref) >= abs(diff_ref))
se = math.sqrt(max(p_ours * (1 - p_ours), 0.01) / B * 2)
check_statistic(p_boot, p_ours, se, "the paired bootstrap p-value (centre the bootstrap differences; resample the triples together)")
# ... and the bootstrap and DeLong agree on the standard error of the difference (to 5 SEs of a SD estimate).
check_statistic(math.sqrt(var_ref), ours.std(ddof=1), ours.std(ddof=1) / math.sqrt(2 * (B - 1)) * 2, "DeLong's standard error against the bootstrap's")

# 4. In the middle of its range: two detectors a small distance apart (p near 0.5), where a one-sided or an
#    uncentred bootstrap p-value is far from the two-sided one. Same check, same standard error as in 3, B = 400.
B = 400
close = common + 0.3 * rng.standard_normal(n) + 0.95 * y  # ΔAUC ≈ −0.002, p ≈ 0.8; one-sided ≈ 0.4
_, diff_close, _, _ = _delong_reference(a, close, y)
p_mid, _ = (as_float(v, n_) for v, n_ in zip(compare_auc_statistical_test(a, close, y, method="bootstrap", n_bootstrap=B, seed=3), ("p (bootstrap)", "diff")))
index = rng.integers(0, n, (B, n))
ours = _auc_rows(a[index], y[index]) - _auc_rows(close[index], y[index])
p_ours = np.mean(np.abs(ours - diff_close) >= abs(diff_close))
se = math.sqrt(max(p_ours * (1 - p_ours), 0.01) / B * 2)
check_statistic(p_mid, p_ours, se, "the paired bootstrap p-value for two close detectors (two-sided: |Δ* − Δ| ≥ |Δ|)")
# The resampling follows `seed`: the same seed six times gives the same p, three seed values not all the same one.
# (B = 200 at p ≈ 0.8: two unseeded runs tie with probability about 5 %, six about 1e-6.)
runs = [compare_auc_statistical_test(a, close, y, method="bootstrap", n_bootstrap=200, seed=s)[0] for s in (5, 5, 5, 5, 5, 5, 6, 7)]
for again in runs[1:6]:
    check_close(again, runs[0], "the bootstrap p-value for the same seed again", rtol=1e-12)
assert len(set(runs[5:])) > 1, "seed values 5, 6 and 7 gave the same bootstrap p-value: resample with np.random.default_rng(seed)"
# 5. Every triple can be drawn, row 0 included: two detectors that differ only on row 0, an anomaly (Δ = 1/20 with
#    20 anomalies). Resamples without row 0 have Δ* = 0 and count; with k = 1 copy, Δ* ≈ Δ and do not; so p is
#    about 0.36 + 0.26 = 0.6, and 1 if row 0 is never drawn.
row0_labels = np.tile([1, 0], 20)
first_detector = np.where(row0_labels == 1, 10.0, 0.0) + np.arange(40) / 100
second_detector = first_detector.copy()
second_detector[0] = -1.0
p_row0, _ = compare_auc_statistical_test(first_detector, second_detector, row0_labels, method="bootstrap", n_bootstrap=400, seed=1)
assert as_float(p_row0, "p (row 0)") < 0.9, "p is 1 for two detectors that differ on row 0 only: can every row be drawn (rng.integers(0, n, ...))?"
print("compare_auc_statistical_test: hidden tests passed.")
### END HIDDEN TESTS

# %% tags=["demo"]
names = list(scores_04)
pairs = [(names[i], names[j]) for i in range(len(names)) for j in range(i + 1, len(names))]
tests_04 = {}
for first, second in tqdm(pairs, desc="AUC difference tests"):
    p_delong, diff = compare_auc_statistical_test(scores_04[first], scores_04[second], labels, method="delong")
    p_boot, _ = compare_auc_statistical_test(scores_04[first], scores_04[second], labels, method="bootstrap", n_bootstrap=N_BOOTSTRAP)
    tests_04[f"{first} vs {second}"] = {"diff": diff, "p_delong": p_delong, "p_bootstrap": p_boot}
    shown = f"{p_boot:.3g}" if p_boot > 0 else f"< {1 / N_BOOTSTRAP:.0g}"  # no resample reached the observed difference
    print(f"{first:12s} − {second:12s}: ΔAUC {diff:+.3f}   DeLong p = {p_delong:.3g}   paired bootstrap p {'= ' if p_boot > 0 else ''}{shown}")

# %% [markdown]
# ## 6. Six tests at once: Holm's correction
#
# **Why it matters.** Six tests at the 5 % level, when all four detectors were equally good, would give at least
# one "significant" difference far more often than 5 % of the time (about 1 − 0.95⁶ ≈ 26 % if the tests were
# independent, and up to 6 × 5 % = 30 % in general). A correction for the **family** of tests keeps the chance of any false claim, the family-wise error
# rate, at α. Bonferroni multiplies every p-value by m, the number of tests; Holm's step-down procedure does the
# same for the smallest p-value only and less for the others, so it rejects everything Bonferroni rejects, and
# often more, with the same guarantee.
#
# **The mathematics.** Sort the m p-values, $p_{(1)} \le p_{(2)} \le \dots \le p_{(m)}$. Holm's procedure at level
# α rejects $H_{(1)}, \dots, H_{(k)}$ for the largest k with $p_{(j)} \le \alpha/(m - j + 1)$ for every $j \le k$, and
# stops at the first j that fails. The **adjusted p-value** of each test is the smallest α at which the procedure
# rejects it:
#
# $$\tilde p_{(i)} = \max_{j \le i}\ \min\big(1,\ (m - j + 1)\, p_{(j)}\big),$$
#
# so $\tilde p_{(i)} \le \alpha$ exactly when Holm rejects $H_{(i)}$ at level α. The running maximum makes the adjusted
# values keep the order of the raw ones (a test cannot overtake one with a smaller raw p-value), and the cap keeps
# them probabilities. Return them in the order of the input: adjusted value i belongs to test i.

# %% nbgrader={"grade_id": "holm-adjust", "solution": true}
def holm_adjust(p_values) -> np.ndarray:
    """Holm's step-down adjusted p-values for a family of m tests.

    Args:
        p_values: the m raw p-values, a sequence or array of shape (m,), each in [0, 1], in any order.

    Returns:
        A float NumPy array of shape (m,), in the order of the input (entry i belongs to test i):
        with the p-values sorted, p₍₁₎ ≤ … ≤ p₍ₘ₎, the adjusted value of the i-th smallest is
        max over j ≤ i of min(1, (m − j + 1)·p₍ⱼ₎). So each adjusted value is ≥ its raw p-value and ≤ 1,
        the adjusted values keep the order of the raw ones (equal raw p-values get equal adjusted ones),
        and adjusted value i ≤ α exactly when Holm's procedure at level α rejects test i.
        The input is left unchanged.
    """
    ### BEGIN SOLUTION
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p, kind="stable")
    m = len(p)
    stepped = np.minimum(1.0, (m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.maximum.accumulate(stepped)
    return adjusted
    ### END SOLUTION


# %% nbgrader={"grade_id": "holm-adjust-visible", "points": 2}
# Visible test: the shape, three properties, and Holm's procedure run step by step at three levels α.
raw = np.array([0.04, 0.001, 0.6, 0.012, 0.03, 0.9])
adjusted = check_array(holm_adjust(raw), "holm_adjust(p_values)", shape=(6,))
assert np.all(adjusted >= raw - 1e-12), f"an adjusted p-value is below its raw one: {adjusted} for {raw}"
assert np.all(adjusted <= 1.0), f"an adjusted p-value above 1: {adjusted}"
assert np.all(np.diff(adjusted[np.argsort(raw)]) >= 0), f"the adjusted p-values {adjusted} do not keep the order of the raw ones {raw}"
shuffle = np.array([3, 5, 0, 2, 4, 1])
check_close(holm_adjust(raw[shuffle]), adjusted[shuffle], "the adjusted p-values of the same tests in another order (keep the input's order)")


def _holm_rejects(p, alpha):
    """Holm's procedure at level alpha: step through the sorted p-values, stop at the first that fails."""
    rejected = np.zeros(len(p), dtype=bool)
    for step, index in enumerate(np.argsort(p)):
        if p[index] > alpha / (len(p) - step):
            break
        rejected[index] = True
    return rejected


for alpha in (0.01, 0.05, 0.2):
    assert np.array_equal(adjusted <= alpha, _holm_rejects(raw, alpha)), (
        f"at α = {alpha} Holm's procedure rejects tests {np.flatnonzero(_holm_rejects(raw, alpha)).tolist()}, "
        f"but the adjusted p-values ≤ α are those of tests {np.flatnonzero(adjusted <= alpha).tolist()}")
print("holm_adjust: visible tests passed.")

# %% nbgrader={"grade_id": "holm-adjust-hidden", "points": 3}
# Hidden tests for holm_adjust run when your notebook is graded.
### BEGIN HIDDEN TESTS
# Contract, each clause checked below (a number names the numbered test):
#   types: a float ndarray of shape (m,), from a list or an array, m = 1 included (1).
#   values: the step-down adjusted values against the closed-testing route (the largest Bonferroni p-value over every
#   subset of tests containing test i), for families of 2 to 7 tests (2); monotone: a case where the raw products
#   (m − j + 1)p₍ⱼ₎ decrease (3); capped at 1 (4); equal raw p-values give equal adjusted ones (5).
#   order: the input's order kept, for shuffled and reversed inputs (6); the input left unchanged (6).
from itertools import combinations


def _closed_testing(p):
    """Holm by another route: test i is rejected at α when every intersection hypothesis containing it is rejected by
    Bonferroni, so its adjusted value is the maximum over subsets S ∋ i of min(1, |S|·min over S of p)."""
    m = len(p)
    adjusted = np.zeros(m)
    for size in range(1, m + 1):
        for subset in combinations(range(m), size):
            value = min(1.0, size * min(p[member] for member in subset))
            for member in subset:
                adjusted[member] = max(adjusted[member], value)
    return adjusted


def _slips(p):
    """The usual wrong versions, as hints."""
    p = np.asarray(p, dtype=float)
    m, order = len(p), np.argsort(p, kind="stable")
    products = (m - np.arange(m)) * p[order]

    def unsorted(sorted_values):
        values = np.empty(m)
        values[order] = sorted_values
        return values

    return {
        "Bonferroni (every p-value times m): Holm multiplies the i-th smallest by m − i + 1.": np.minimum(1.0, m * p),
        "no running maximum: the adjusted values must keep the order of the raw ones.": unsorted(np.minimum(1.0, products)),
        "not capped at 1: an adjusted p-value is a probability.": unsorted(np.maximum.accumulate(products)),
        "the adjusted values in sorted order: return them in the order of the input.": np.minimum(1.0, np.maximum.accumulate(products)),
        "a step-up (Hochberg) running minimum from the largest p-value: Holm steps down, with a running maximum.":
            unsorted(np.minimum.accumulate(np.minimum(1.0, products)[::-1])[::-1]),
    }


# 1. Types and shapes: from a list and from an array; one test alone is not adjusted.
from_list = check_array(holm_adjust([0.2, 0.01, 0.03]), "holm_adjust(a list)", shape=(3,))
assert np.issubdtype(from_list.dtype, np.floating), f"holm_adjust should return floats, got {from_list.dtype}"
check_close(check_array(holm_adjust(np.array([0.3])), "holm_adjust (m = 1)", shape=(1,)), [0.3], "one test: its p-value unchanged")
# 2. Against closed testing, on random families of 2 to 7 tests (p-values spread over [0, 0.3] so that many are adjusted).
rng = np.random.default_rng(41)
for m in range(2, 8):
    p = rng.random(m) * 0.3 * rng.random(m)
    check_close(check_array(holm_adjust(p), f"holm_adjust (m = {m})", shape=(m,)), _closed_testing(p),
                f"Holm-adjusted p-values (m = {m}) against closed testing", rtol=1e-9, mistakes=_slips(p))
# 3. The running maximum: raw products 4·0.010 = 0.040, 3·0.011 = 0.033, 2·0.012 = 0.024, 1·0.5 = 0.5 decrease at first.
p = np.array([0.5, 0.012, 0.010, 0.011])
check_close(holm_adjust(p), _closed_testing(p), "Holm-adjusted p-values when the raw products decrease", rtol=1e-9, mistakes=_slips(p))
# 4. The cap: p-values whose products pass 1.
p = np.array([0.4, 0.3, 0.35, 0.9, 0.2])
capped = holm_adjust(p)
check_close(capped, _closed_testing(p), "Holm-adjusted p-values above the cap", rtol=1e-9, mistakes=_slips(p))
assert np.all(capped <= 1.0), f"adjusted p-values above 1: {capped}"
# 5. Ties: equal raw p-values, wherever they stand, get equal adjusted values.
p = np.array([0.02, 0.005, 0.02, 0.3, 0.02])
tied = holm_adjust(p)
check_close(tied, _closed_testing(p), "Holm-adjusted p-values with ties", rtol=1e-9, mistakes=_slips(p))
check_close(tied[[2, 4]], tied[[0, 0]], "the adjusted values of three equal raw p-values")
# 6. The input's order, for shuffled and reversed inputs, and the input left as it was.
p = np.sort(rng.random(6) * 0.1)
for name, permutation in (("reversed", np.arange(6)[::-1]), ("shuffled", rng.permutation(6))):
    given = p[permutation].copy()
    check_close(holm_adjust(given), _closed_testing(p)[permutation], f"Holm-adjusted p-values of a {name} input",
                rtol=1e-9, mistakes=_slips(given))
    check_close(given, p[permutation], f"the {name} input after holm_adjust (do not sort it in place)")
print("holm_adjust: hidden tests passed.")
### END HIDDEN TESTS

# %% [markdown]
# **The family, adjusted.** The six DeLong tests above are the pre-registered family; Holm's correction applies to
# them together. (The paired bootstrap p-values check DeLong's normal approximation; they are not a second family.)

# %%
holm_04 = {}  # pair -> Holm-adjusted DeLong p-value, once holm_adjust is written
holm_04 = dict(zip(tests_04, holm_adjust([t["p_delong"] for t in tests_04.values()]))) if tests_04 else {}
for pair, adjusted_p in holm_04.items():
    tests_04[pair]["p_delong_holm"] = float(adjusted_p)
    verdict = "differ" if adjusted_p < 0.05 else "cannot be told apart"
    print(f"{pair:28s} ΔAUC {tests_04[pair]['diff']:+.3f}   DeLong p {tests_04[pair]['p_delong']:.3g}   "
          f"Holm-adjusted p {adjusted_p:.3g}: {verdict} at α = 0.05")

# %% [markdown]
# **What the family says.** After Holm's correction five of the six differences stand (adjusted p ≤ 0.0003). The
# sixth is the pre-registered primary comparison: the VAE's −ELBO and PCA cannot be told apart (ΔAUC −0.005,
# adjusted p = 0.61: as the largest of the six raw p-values, its adjusted value is its raw one). The correction changes no verdict here because the five small p-values are very small; the
# smallest of six p-values would need to be below 0.05/6 ≈ 0.008 to survive it.
#
# **Think:** the adjusted p-value of a pair depends on the other five tests. If you had pre-registered only the
# primary comparison, what would its p-value be, and why is a post-hoc choice of "the one comparison that matters"
# not allowed the same luxury?

# %% [markdown]
# ## 7. Three splits and a sensitivity table
#
# The same comparison for the three splits, then, on [0–4] vs [5–9], the sensitivity of each detector to its
# one hyperparameter: the VAE's latent size (10, 20, 50; trained in notebook 1), PCA's number of components
# (10, 20, 50) and k (3, 5, 10).

# %%
split_table, split_scores = {}, {}
for split, (normal, anomalous) in tqdm(SPLITS.items(), desc="splits"):
    train_normal, evaluation, truth, digit = shrink(*setup_anomaly_detection_data(data, normal, anomalous), eval_classes(data, normal, anomalous))
    scores = scores_04 if split == "0-4" else detector_scores(split, train_normal, evaluation)
    split_scores[split] = {"scores": scores, "labels": truth, "classes": digit, "x": evaluation}
    split_table[split] = {name: bootstrap_auc_ci(s, truth, n_bootstrap=N_BOOTSTRAP) for name, s in scores.items()}
header = "split      " + "".join(f"{name:>24s}" for name in split_table["0-4"])
print(header)
for split, row in split_table.items():
    print(f"{split:10s} " + "".join(f"{auc:8.3f} [{lo:.3f}, {hi:.3f}]" for auc, lo, hi in row.values()))

# %%
sensitivity = {}
for d in (10, 20, 50):
    model_d, _, _ = load_run(f"anomaly-0-4-z{d}", d)
    mx.random.seed(0)
    sensitivity[f"VAE −ELBO, latent {d}"] = bootstrap_auc_ci(compute_vae_anomaly_scores(model_d, x_eval, kind="elbo"), labels, n_bootstrap=N_BOOTSTRAP)
for c in (10, 20, 50):
    sensitivity[f"PCA, {c} components"] = bootstrap_auc_ci(PCABaseline(c).fit(x_train_normal).reconstruction_error(x_eval), labels, n_bootstrap=N_BOOTSTRAP)
for k in (3, 5, 10):
    sensitivity[f"k-NN, k = {k}"] = bootstrap_auc_ci(KNNBaseline(k).fit(x_train_normal).anomaly_score(x_eval), labels, n_bootstrap=N_BOOTSTRAP)
fig, ax = plt.subplots(figsize=(7, 4.2))
for row, (name, (auc, lower, upper)) in enumerate(sensitivity.items()):
    ax.errorbar(auc, row, xerr=[[auc - lower], [upper - auc]], fmt="o", capsize=3, color=f"C{row // 3}")
    print(f"{name:24s} AUC {auc:.3f} [{lower:.3f}, {upper:.3f}]")
ax.set_yticks(range(len(sensitivity)), list(sensitivity))
label(ax, "Sensitivity on [0–4] vs [5–9] (95% bootstrap CIs)", "AUC", "detector and setting")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 8. Where the detectors fail
#
# An AUC is one number for a thousand digits. The figures below, given code run on your scores, open it up:
# the scores of normal and anomalous digits side by side, the detection rate of each digit class at a 5 %
# false-positive rate, the anomalies each detector misses most confidently, and the VAE's latent space coloured
# by its anomaly score.
#
# **Score distributions.** Each detector's scores on the normal test digits [0–4] and on the anomalies [5–9].
# The AUC is the probability that a random anomaly lands to the right of a random normal digit.

# %%
fig, axes = plt.subplots(1, max(len(scores_04), 1), figsize=(13, 3.2), squeeze=False)
for ax, (name, score) in zip(axes[0], scores_04.items()):
    bins = np.linspace(*np.quantile(score, [0.0, 0.99]), 40)
    ax.hist(score[labels == 0], bins=bins, density=True, alpha=0.6, label="normal [0–4]")
    ax.hist(score[labels == 1], bins=bins, density=True, alpha=0.6, label="anomaly [5–9]")
    ax.legend(fontsize=7)
    label(ax, name, "anomaly score (1 % largest cut)", "density")
fig.suptitle("Scores of normal and anomalous test digits, split [0–4] vs [5–9]")
fig.tight_layout()
plt.show()

# %% [markdown]
# **Try it.** An operator does not use the AUC: she picks a threshold and flags every digit scored above it. Choose a
# detector and the false-alarm rate she can afford; the threshold is set at that quantile of the normal digits'
# scores, and the title gives the detection rate it buys. Compare the detectors at 1 % and at 20 %: the order can
# change along the way, which one AUC per detector cannot show.

# %%
def redraw_threshold(detector: str = "VAE −ELBO", false_alarm_rate: float = 0.05) -> None:
    fig, ax = plt.subplots(figsize=(8, 3.6))
    if detector not in scores_04:
        ax.text(0.5, 0.5, "no scores yet: write the functions above and run section 3", ha="center", va="center", transform=ax.transAxes)
        label(ax, "Threshold on the scores", "anomaly score", "density")
        plt.show()
        return
    score = scores_04[detector]
    normal, anomalous = score[labels == 0], score[labels == 1]
    threshold = np.quantile(normal, 1 - false_alarm_rate)
    bins = np.linspace(*np.quantile(score, [0.0, 0.99]), 40)
    ax.hist(normal, bins=bins, density=True, alpha=0.6, label="normal [0–4]")
    ax.hist(anomalous, bins=bins, density=True, alpha=0.6, label="anomaly [5–9]")
    ax.axvline(threshold, color="k", lw=2, label="threshold")
    ax.legend(fontsize=8)
    label(ax, f"{detector}: {np.mean(normal > threshold):.1%} false alarms, {np.mean(anomalous > threshold):.1%} of anomalies detected",
          "anomaly score (1 % largest cut)", "density")
    fig.tight_layout()
    plt.show()


controls = widgets.interactive(
    redraw_threshold,
    detector=widgets.Dropdown(options=list(scores_04) or ["(no scores yet)"], description="detector"),
    false_alarm_rate=widgets.FloatSlider(value=0.05, min=0.01, max=0.30, step=0.01, continuous_update=False, description="false alarms"),
)
display(controls)

# %% [markdown]
# **Think:** at which false-alarm rate does the VAE's reconstruction score catch up with k-NN, if it does? Why is the
# detection rate at 1 % false alarms, which rests on the five highest-scored of 500 normal digits, a noisy number?

# %% [markdown]
# **Per-class detection rates.** Each detector's threshold is set so that 5 % of the normal test digits are flagged
# (its 95th percentile on them). For a normal class the rate is that class's false-alarm rate; for an anomalous class,
# its detection rate.

# %%
def class_rates(scores: dict, labels: np.ndarray, classes: np.ndarray, fpr: float = 0.05) -> dict[str, np.ndarray]:
    """For each detector: the fraction of each digit class 0–9 scored above its (1 − fpr) quantile on normal digits."""
    rates = {}
    for name, score in scores.items():
        threshold = np.quantile(score[labels == 0], 1 - fpr)
        rates[name] = np.array([np.mean(score[classes == c] > threshold) if np.any(classes == c) else np.nan for c in range(10)])
    return rates


rates_04 = class_rates(scores_04, labels, classes)
print("flagged at 5% FPR, by digit:  " + " ".join(f"{c:>5d}" for c in range(10)))
for name, row in rates_04.items():
    print(f"{name:28s} " + " ".join(f"{r:5.2f}" for r in row))
fig, ax = plt.subplots(figsize=(8, 2.8))
ax.imshow(np.array(list(rates_04.values())) if rates_04 else np.zeros((1, 10)), cmap="viridis", vmin=0, vmax=1, aspect="auto")
ax.set_xticks(range(10))
ax.set_yticks(range(len(rates_04)), list(rates_04))
for (row, c), rate in np.ndenumerate(np.array(list(rates_04.values())) if rates_04 else np.zeros((0, 10))):
    ax.text(c, row, f"{rate:.2f}", ha="center", va="center", fontsize=7, color="white" if rate < 0.5 else "black")
label(ax, "Fraction flagged at 5% false positives, split [0–4] vs [5–9] (0–4 normal)", "digit", "detector")
fig.tight_layout()
plt.show()

# %% [markdown]
# **Failure cases.** The eight anomalies each detector scores *lowest*: the ones it misses most confidently.

# %%
fig, axes = plt.subplots(max(len(scores_04), 1), 8, figsize=(10, 1.45 * max(len(scores_04), 1)), squeeze=False)
for row, (name, score) in enumerate(scores_04.items()):
    anomalies = np.flatnonzero(labels == 1)
    for column, index in enumerate(anomalies[np.argsort(score[anomalies])[:8]]):
        axes[row, column].imshow(x_eval[index].reshape(28, 28), cmap="gray", vmin=0, vmax=1)
        axes[row, column].set_title(f"{name.split(' (')[0]}: {classes[index]}" if column == 0 else f"{classes[index]}", fontsize=7)
for ax in axes.ravel():
    ax.axis("off")
fig.suptitle("The anomalies each detector scores lowest (row: detector; title: the digit)")
plt.show()
lowest_digits = {name: classes[np.flatnonzero(labels == 1)[np.argsort(score[labels == 1])[:8]]] for name, score in scores_04.items()}
for name, digits in lowest_digits.items():
    print(f"{name:12s} misses most confidently: {' '.join(str(d) for d in digits)}")
if lowest_digits:
    print(f"7s or 9s among the {8 * len(lowest_digits)} shown: {sum(int(np.isin(d, [7, 9]).sum()) for d in lowest_digits.values())}")

# %% [markdown]
# **What the table and the pictures show.** Every detector misses the 9s: at most 0.08 of them are flagged at 5 %
# false positives, close to the false-alarm rates of the normal digits. The anomalies scored lowest are mostly 7s
# and 9s (29 of the 32 shown; the other three are 5s): look at their shapes, and at how close each comes to a normal
# 1 or 4. k-NN's lead over the
# others comes mostly from the 5s and 6s (0.49 and 0.59 of them flagged),
# which sit far from every normal training digit; PCA flags the 7s least (0.12).

# %% [markdown]
# **Even against odd, measured.** On the even-vs-odd split the VAE's −ELBO has its lowest AUC. One explanation is that some odd
# digits, a "1" above all, are simple images with little ink that a model of normal digits finds *likely*. The
# table measures it: per digit, the mean ink (mean pixel value), the mean −ELBO score, and the fraction flagged at
# 5 % false positives; then the rank correlation of ink and −ELBO score among the anomalies.

# %%
even = split_scores.get("even", {})
if even and "VAE −ELBO" in even["scores"]:
    elbo_even, digit_even = even["scores"]["VAE −ELBO"], even["classes"]
    ink = even["x"].mean(axis=1)
    flagged = class_rates({"VAE −ELBO": elbo_even}, even["labels"], digit_even)["VAE −ELBO"]
    for c in range(10):
        rows = digit_even == c
        print(f"digit {c} ({'normal' if c % 2 == 0 else 'anomaly'}): ink {ink[rows].mean():.3f}   "
              f"−ELBO {elbo_even[rows].mean():6.1f}   flagged at 5% FPR {flagged[c]:.2f}")
    odd = even["labels"] == 1
    rho, p_rho = stats.spearmanr(ink[odd], elbo_even[odd])
    print(f"odd digits: Spearman correlation of ink and −ELBO score {rho:.2f} (p = {p_rho:.2g}, {odd.sum()} digits)")
else:
    print("no scores for the even-vs-odd split yet: write the functions above and run section 7.")

# %% [markdown]
# **Measured, not asserted.** Among the odd digits the −ELBO score rises with the ink (Spearman correlation 0.71).
# The 1s carry the least ink of any digit (0.077) and get a lower mean −ELBO (125.2) than any normal digit, so the
# VAE flags almost none of them (0.01). The 7s are thin too (ink 0.113) yet flagged 0.24 of the time: "simple
# digits look likely" explains the 1s, not the 7s. The correlation is not a cause: a control would score a 1 thickened
# to a normal digit's ink.

# %% [markdown]
# **The latent map coloured by the anomaly score.** The means $\mu_\phi(x)$ of the 20-dimensional [0–4] model,
# projected on their first two principal components: normal digits as dots, anomalies as crosses, coloured by
# the −ELBO score (left) and by the digit (right).

# %%
latent_model, _, _ = load_run("anomaly-0-4-z20", 20)
mu_eval = np.array(latent_model.encoder(mx.array(x_eval))[0])
plane = PCA(n_components=2, random_state=0).fit_transform(mu_eval)
fig, (ax_score, ax_digit) = plt.subplots(1, 2, figsize=(12, 4.6))
colour = scores_04.get("VAE −ELBO", np.zeros(len(x_eval)))
for marker, group in (("o", labels == 0), ("x", labels == 1)):
    shown = ax_score.scatter(*plane[group].T, c=colour[group], cmap="magma", s=10, marker=marker,
                             vmin=np.quantile(colour, 0.02), vmax=np.quantile(colour, 0.98))
    ax_digit.scatter(*plane[group].T, c=classes[group], cmap="tab10", vmin=-0.5, vmax=9.5, s=10, marker=marker)
fig.colorbar(shown, ax=ax_score, label="−ELBO score")
fig.colorbar(plt.cm.ScalarMappable(cmap="tab10", norm=plt.Normalize(-0.5, 9.5)), ax=ax_digit, ticks=range(10), label="digit")
label(ax_score, "μ of the [0–4] VAE, coloured by −ELBO (• normal, × anomaly)", "principal component 1", "principal component 2")
label(ax_digit, "The same points, coloured by digit", "principal component 1", "principal component 2")
fig.tight_layout()
plt.show()
if "VAE −ELBO" in scores_04:
    mean_score = {c: scores_04["VAE −ELBO"][classes == c].mean() for c in range(10)}
    centres = {c: plane[classes == c].mean(axis=0) for c in range(10)}
    nearest_to_9 = min((c for c in range(5)), key=lambda c: np.linalg.norm(centres[9] - centres[c]))
    print(f"lowest mean −ELBO: digit {min(mean_score, key=mean_score.get)} ({min(mean_score.values()):.1f}); "
          f"the normal digit whose centre on this plane is nearest the 9s' centre: {nearest_to_9}")

# %% [markdown]
# In the executed solution the lowest mean −ELBO belongs to the 1s (the darkest points), and on this plane the 9s'
# centre is nearest the 4s'. **Think:** where do the anomalies the VAE misses sit on this map, and would a detector in latent
# space (a distance between $\mu_\phi(x)$ and the normal digits' means) miss the same ones?

# %% [markdown]
# ## 9. Controls: what is matched, random initialisations, training length and contamination
#
# **What is matched.** Every detector on [0–4] vs [5–9] fits the **same** training digits (all the normal training
# digits of the split) and is scored on the same test digits. (In the grader's short runs only the test digits are
# matched: the VAE trained on the first 512 normal training digits, PCA and k-NN fit a random 600.) PCA and k-NN
# use them in closed form; the VAE passes over them for half the main model's epochs (notebook 1). The compute is
# not matched, and a VAE trained longer might score differently: the retrained runs below measure how much the AUC moves
# between training runs of the same length, and the **training-length** control, the same VAE trained twice as long,
# measures how much it moves with the budget.
#
# **Random initialisations.** Notebook 1 trained the [0–4] model from three random initialisations (seed values 0, 1, 2). A bootstrap
# interval describes resampling the test digits for *one* trained model; a second model trained the same way adds
# its own variation. The intervals below show both: each seed's bootstrap interval, and (squares) an interval for
# the AUC of one training run, centred on the three runs' mean, whose variance adds the run-to-run variance to
# the bootstrap's.
#
# **Contamination.** The plan trained its VAE on all of MNIST, anomalies included. The ablation trains the same
# VAE on all ten digits and scores the same test digits: the paired DeLong test of the clean model against the
# contaminated one (one test per score, Holm-adjusted over the two) says what the mistake costs.

# %%
seed_runs = {0: "anomaly-0-4-z20", 1: "anomaly-0-4-z20-seed1", 2: "anomaly-0-4-z20-seed2"}
seed_table, seed_scores = {}, {}
for seed, run in tqdm(seed_runs.items(), desc="training runs"):
    seed_model, _, _ = load_run(run, 20)
    mx.random.seed(0)
    seed_scores[seed] = {kind: compute_vae_anomaly_scores(seed_model, x_eval, kind=kind) for kind in ("elbo", "recon")}
    seed_table[seed] = {kind: bootstrap_auc_ci(s, labels, n_bootstrap=N_BOOTSTRAP) for kind, s in seed_scores[seed].items()}


# %%
def seed_interval(rows: list) -> tuple[float, float, float, float]:
    """Mean AUC over training runs, the run-to-run SD, and a 95 % interval for the AUC of one training run: its
    variance is the bootstrap variance (from each run's interval, (upper − lower)/(2·1.96), squared and averaged) plus
    the variance between runs. The test digits are the same for every run, so averaging runs does not shrink the first."""
    aucs = np.array([r[0] for r in rows])
    bootstrap_var = np.mean([((hi - lo) / (2 * 1.96)) ** 2 for _, lo, hi in rows])
    seed_sd = aucs.std(ddof=1) if len(aucs) > 1 else 0.0
    half = 1.96 * math.sqrt(bootstrap_var + seed_sd**2)
    return float(aucs.mean()), float(seed_sd), float(aucs.mean() - half), float(aucs.mean() + half)


seed_summary = {}
fig, ax = plt.subplots(figsize=(7, 3.4))
for k, (kind, name) in enumerate((("elbo", "VAE −ELBO"), ("recon", "VAE recon"))):
    rows = [seed_table[seed][kind] for seed in seed_table]
    for seed, (auc, lower, upper) in zip(seed_table, rows):
        ax.errorbar(auc, 4 * k + seed, xerr=[[auc - lower], [upper - auc]], fmt="o", capsize=3, color=f"C{k}")
        print(f"{name:10s} seed {seed}: AUC {auc:.3f} [{lower:.3f}, {upper:.3f}]")
    if rows:
        mean, sd, lower, upper = seed_summary[name] = seed_interval(rows)
        ax.errorbar(mean, 4 * k + 3, xerr=[[mean - lower], [upper - mean]], fmt="s", capsize=3, color=f"C{k}")
        print(f"{name:10s} over runs: mean AUC {mean:.3f}, run-to-run SD {sd:.3f}, 95% interval for one run, run-to-run variance included [{lower:.3f}, {upper:.3f}]")
ax.set_yticks(range(8), [f"{n}, seed {s}" if s < 3 else f"{n}, one run, both variances" for n in ("−ELBO", "recon") for s in range(4)])
label(ax, "VAE AUC by seed value, and for one run with the run-to-run variance (95% intervals)", "AUC", "score and training run")
fig.tight_layout()
plt.show()

# %% [markdown]
# **Random initialisations.** The tables above used seed 0, which turns out the best of three: seed values 1 and 2 give −ELBO AUCs of 0.731
# and 0.727 (run-to-run SD 0.011, more than twice the −ELBO's difference from PCA). With the run-to-run variance in it, one run's interval, [0.698, 0.773], contains PCA's AUC
# (0.752): a single VAE run cannot rank the −ELBO against PCA, and the test of section 5, which holds the trained
# model fixed, does not see this source of variation.

# %% [markdown]
# **Training length.** The same [0–4] VAE (seed value 0) trained for the main model's 15 epochs instead of 7, scored on
# the same test digits: the paired DeLong test of the longer run against the shorter (one test per score, Holm-adjusted
# over the two) says whether the budget moves the AUC, and the held-out −ELBO says how much the longer training still
# improved the fit.

# %%
def paired_control(control_model, control_first: bool) -> dict:
    """A control VAE against the clean [0–4] model, for each VAE score: the control's AUC with its bootstrap
    interval, and DeLong's paired test of the difference on the same test digits, Holm-adjusted over the scores.

    Args:
        control_model: the control's trained VAE.
        control_first: the difference is control − clean if True, clean − control if False.
    """
    mx.random.seed(0)
    found = {}
    for kind, name in (("elbo", "VAE −ELBO"), ("recon", "VAE recon")):
        if name not in scores_04:
            continue
        control = compute_vae_anomaly_scores(control_model, x_eval, kind=kind)
        pair = (control, scores_04[name]) if control_first else (scores_04[name], control)
        p_value, diff = compare_auc_statistical_test(*pair, labels, method="delong")
        found[name] = {"auc": bootstrap_auc_ci(control, labels, n_bootstrap=N_BOOTSTRAP), "diff": diff, "p_delong": p_value}
    if found:
        for name, adjusted_p in zip(found, holm_adjust([c["p_delong"] for c in found.values()])):
            found[name]["p_delong_holm"] = float(adjusted_p)
    return found


def print_control(found: dict, trained: str, difference: str) -> None:
    for name, c in found.items():
        auc, lower, upper = c["auc"]
        print(f"{name} trained {trained}: AUC {auc:.3f} [{lower:.3f}, {upper:.3f}]; {difference} ΔAUC "
              f"{c['diff']:+.3f}, DeLong p {c['p_delong']:.3g}, Holm-adjusted {c['p_delong_holm']:.3g}")


longer, longer_history, _ = load_run("anomaly-0-4-z20-long", 20)
_, shorter_history, _ = load_run("anomaly-0-4-z20", 20)
training_length = paired_control(longer, control_first=True)
print_control(training_length, "twice as long", "longer − shorter")
if shorter_history and longer_history:
    print(f"held-out −ELBO per digit of the normal test digits: {shorter_history['test_loss'][-1]:.1f} after "
          f"{len(shorter_history['test_loss'])} epochs, {longer_history['test_loss'][-1]:.1f} after {len(longer_history['test_loss'])}")

# %% [markdown]
# **Training length.** Trained for 15 epochs instead of 7, the VAE of seed value 0 fits the normal test digits better (held-out
# −ELBO 131.2 per digit after 15 epochs, against 143.3 after 7): it was still learning at 7 epochs, and the other
# 7-epoch models probably were too. On these test digits its −ELBO AUC is 0.031 higher, 0.778 [0.750, 0.806], and the
# reconstruction score's 0.040 higher, 0.828 [0.805, 0.853] (Holm-adjusted p below 1e-9 for both). Those p-values hold
# the two trained models fixed, like the tests of section 5: they do not include the run-to-run variation (SD 0.011),
# against which a gain of 0.031 is about two standard deviations of a difference between two runs (√2 × 0.011 ≈ 0.016).
# So longer training probably helps, by an amount one long run cannot pin down. The longer run's −ELBO AUC is a point
# estimate above PCA's 0.752, but its interval contains 0.752, one run cannot rank the two, and no test was run: the
# evidence supports "the −ELBO and PCA cannot be told apart" for the 7-epoch VAE, and leaves it open for a VAE trained
# to convergence. Likewise k-NN's lead is tested only against the 7-epoch VAE; the longer run's reconstruction score
# comes within 0.011 of k-NN's 0.839 (untested).

# %%
contaminated, _, _ = load_run("anomaly-all-z20", 20)
contamination = paired_control(contaminated, control_first=False)
print_control(contamination, "on all digits", "clean − contaminated")

# %% [markdown]
# **Contamination.** Trained on all ten digits, the VAE's −ELBO falls to chance (AUC 0.478 [0.442, 0.514]; the
# reconstruction score to 0.502): the VAE detects "unlike the training digits", and the plan's mistake of training on
# the anomalies would have left it detecting nothing.

# %% [markdown]
# **Saving the results for the report.** Notebook 4 reads this file.

# %%
if not (results_04 and len(sensitivity) == 9):
    print("nothing saved: write the functions above and run every cell of this notebook, then this one again.")
else:
    summary = {
        "data": data.describe(), "mode": runtime.mode(), "n_bootstrap": N_BOOTSTRAP,
        "split_0_4": {name: {"auc": r["auc"], "average_precision": r["average_precision"], "ci95": intervals_04[name][1:],
                             "detection_rate": {str(f): v for f, v in r["detection_rate"].items()}} for name, r in results_04.items()},
        "tests_0_4": tests_04,
        "splits": {split: {name: list(v) for name, v in row.items()} for split, row in split_table.items()},
        "sensitivity": {name: list(v) for name, v in sensitivity.items()},
        "class_rates_0_4": {name: [None if np.isnan(r) else float(r) for r in row] for name, row in rates_04.items()},
        "seeds_0_4": {name: {"mean": v[0], "sd": v[1], "ci95": v[2:],
                             "per_seed": [seed_table[seed][kind] for seed in seed_table]}
                      for (name, v), kind in zip(seed_summary.items(), ("elbo", "recon"))},
        "contamination_0_4": contamination,
        "training_length_0_4": training_length,
    }
    OUTPUTS.mkdir(exist_ok=True)
    (OUTPUTS / "anomaly-results.json").write_text(json.dumps(summary, indent=1))
    print(f"saved {OUTPUTS / 'anomaly-results.json'}; {data.describe()}")
    if not data.is_full:
        print("These figures come from the embedded 5,000-digit subset. With full MNIST on disk (see labkit.mnist), "
              "notebook 1 and this notebook use it and the intervals shrink by a factor of about three.")

# %% [markdown]
# ## Summary
#
# * PCA and k-NN are strong baselines. On [0–4] vs [5–9] k-NN has the highest AUC, and PCA cannot be told apart from
#   the VAE's own −ELBO (DeLong p = 0.61), the pre-registered primary comparison, for the 7-epoch VAE (trained twice as
#   long, its −ELBO AUC is 0.031 higher, a point estimate above PCA's, untested); the other five differences survive
#   Holm's correction for the six tests. On the other two splits k-NN has the highest point estimate, but no test was
#   run there, and on [0–6] its lead over the VAE's reconstruction score is only 0.012.
# * An AUC from about a thousand digits carries an uncertainty of a few hundredths: report it with a bootstrap
#   interval (checked here against `scipy.stats.bootstrap`).
# * Differences between detectors need a **paired** test: the paired, centred bootstrap or DeLong's test, which
#   uses the covariance of the two detectors' placement values.
# * The gaps move with the split: PCA − (−ELBO) is +0.005 on [0–4] (p = 0.61: not distinguishable; differences of about ±0.02 remain compatible), −0.016 on [0–6] and
#   +0.049 on even vs odd (both untested); with each detector's hyperparameter (PCA with 50 components, 0.774, is above
#   the −ELBO at every latent size, untested too) and with the VAE's random initialisation: report the table and the
#   run-to-run spread, not one number, and test a gap before calling it a change of ranking.
# * The failures have a measured shape: every detector misses the 9s; the −ELBO tracks the ink and misses the 1s; a VAE
#   trained on the anomalies too detects nothing.
#
# **Questions to think about** (answer them in your report, notebook 4).
# 1. Which experiment would tell whether the ink *causes* the low −ELBO of the 1s?
# 2. Is the −ELBO score or the reconstruction score closer to a likelihood ratio test? What is missing from both?
# 3. How many test digits would you need to tell apart two detectors whose AUCs differ by 0.01?
