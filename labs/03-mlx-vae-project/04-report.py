# %% [markdown]
# # Project 3.4: The written report
#
# The project ends with a report: the question and your pre-registered hypotheses, related work, the method,
# the results with their figures and intervals, and the limits of what they show, with the theory in your own
# derivation. This notebook holds it in four answer cells, graded by hand against a rubric: the derivation, the
# interpretation and the limitations (sections 1–3), and the report itself (section 4), which draws on the
# other three.
#
# **Learning objectives.** By the end you can
# 1. derive the ELBO from $\log p_\theta(x)$ in LaTeX, name the inequality used, and identify the gap;
# 2. interpret your anomaly-detection results with their uncertainty, not just their ranking;
# 3. state the limitations of your experiments and what would remove each;
# 4. write a research report: question, related work, method, results with figures and intervals, conclusions
#    that follow from the corrected tests.
#
# **Prerequisites.** Notebooks 1–3, run in order (this notebook prints the results notebook 3 saved); Lab 1's
# derivation of the ELBO.
#
# **Estimated time.** 240 minutes of writing (weeks 3–4 of the project).
#
# **How this notebook is graded.** Four written answers, graded by hand (32 points in all). Write in full
# sentences, use the course notation ($x$, $z$, $\mu$, $\log\sigma^2$, $q_\phi(z|x)$, $p_\theta(x|z)$, $p(z)$), and quote your own numbers.
# The graders read the numbers your submitted notebooks printed (a grading run is shortened and prints others), so
# hand in the notebooks with the outputs of your full run.

# %% [markdown]
# ## Your results
#
# The cell below prints what notebook 3 saved in `vae-project-outputs/anomaly-results.json` (or says that it is
# missing). Quote these numbers in your answers.

# %%
import json

from scipy import stats

from labkit import runtime

results_file = runtime.outputs_folder("vae-project-outputs") / "anomaly-results.json"
if results_file.exists():
    results = json.loads(results_file.read_text())
    print(f"{results['data']} (run mode: {results['mode']}, {results['n_bootstrap']} bootstrap resamples)\n")
    print("Split [0-4] vs [5-9]:")
    for name, r in results["split_0_4"].items():
        low, high = r["ci95"]
        rates = ", ".join(f"{float(f):.0%}: {v:.2f}" for f, v in r["detection_rate"].items())
        print(f"  {name:12s} AUC {r['auc']:.3f} [{low:.3f}, {high:.3f}]  AP {r['average_precision']:.3f}  detection at FPR {rates}")
    print("\nDifferences of AUCs (split [0-4]; Holm-adjusted over the six DeLong tests; SE(Δ) = |Δ|/z from DeLong's p,")
    print("  and the SE two independent AUCs with these intervals would have, ((width₁/3.92)² + (width₂/3.92)²)^½):")
    for pair, t in results["tests_0_4"].items():
        boot = f"{t['p_bootstrap']:.3g}" if t["p_bootstrap"] > 0 else f"< {1 / results['n_bootstrap']:.0g}"
        holm = f"{t['p_delong_holm']:.3g}" if "p_delong_holm" in t else "(not computed)"
        se = abs(t["diff"]) / stats.norm.isf(t["p_delong"] / 2) if 0 < t["p_delong"] < 1 else float("nan")
        widths = [results["split_0_4"][name]["ci95"][1] - results["split_0_4"][name]["ci95"][0] for name in pair.split(" vs ")]
        independent = sum((w / 3.92) ** 2 for w in widths) ** 0.5
        print(f"  {pair:30s} ΔAUC {t['diff']:+.3f}  DeLong p {t['p_delong']:.3g}  Holm {holm}  bootstrap p {boot}  "
              f"SE(Δ) {se:.4f}, independent {independent:.4f}")
    print("\nAll splits (AUC [95% CI]):")
    for split, row in results["splits"].items():
        print(f"  {split:5s} " + "  ".join(f"{name} {a:.3f} [{lo:.3f}, {hi:.3f}]" for name, (a, lo, hi) in row.items()))
    print("\nSensitivity (split [0-4]):")
    for name, (a, lo, hi) in results["sensitivity"].items():
        print(f"  {name:24s} {a:.3f} [{lo:.3f}, {hi:.3f}]")
    print("\nFlagged at 5% FPR, by digit (split [0-4]; 0-4 normal):")
    for name, row in results.get("class_rates_0_4", {}).items():
        print(f"  {name:12s} " + " ".join("  -  " if r is None else f"{r:5.2f}" for r in row))
    print("\nRandom initialisations (split [0-4], VAE trained from seed values 0, 1, 2):")
    for name, v in results.get("seeds_0_4", {}).items():
        per_seed = ", ".join(f"{a:.3f}" for a, _, _ in v["per_seed"])
        print(f"  {name:10s} AUC per seed {per_seed}; mean {v['mean']:.3f}, SD {v['sd']:.3f}, "
              f"one run, run-to-run variance included [{v['ci95'][0]:.3f}, {v['ci95'][1]:.3f}]")
    print("\nContamination (VAE trained on all ten digits, split [0-4]):")
    for name, c in results.get("contamination_0_4", {}).items():
        a, lo, hi = c["auc"]
        print(f"  {name:10s} AUC {a:.3f} [{lo:.3f}, {hi:.3f}]  clean − contaminated {c['diff']:+.3f}  "
              f"DeLong p {c['p_delong']:.3g}  Holm {c.get('p_delong_holm', float('nan')):.3g}")
    print("\nTraining length (the same VAE trained twice as long, split [0-4]):")
    for name, t in results.get("training_length_0_4", {}).items():
        a, lo, hi = t["auc"]
        print(f"  {name:10s} AUC {a:.3f} [{lo:.3f}, {hi:.3f}]  longer − shorter {t['diff']:+.3f}  "
              f"DeLong p {t['p_delong']:.3g}  Holm {t.get('p_delong_holm', float('nan')):.3g}")
else:
    print(f"{results_file} not found: run notebooks 1 and 3 first (in this folder), then this cell again.")

# %% [markdown]
# **Picture: one figure for your report.** Every detector's AUC with its 95 % bootstrap interval, on each split.

# %%
import matplotlib.pyplot as plt
import numpy as np

from labkit.plots import label, use_course_style

use_course_style()
fig, ax = plt.subplots(figsize=(8, 3.8))
if results_file.exists():
    for s, (split, row) in enumerate(results["splits"].items()):
        for d, (name, (auc, low, high)) in enumerate(row.items()):
            ax.errorbar(auc, d + 0.2 * (s - 1), xerr=[[auc - low], [high - auc]], fmt="o", capsize=3, color=f"C{s}",
                        label=f"split {split}" if d == 0 else None)
    ax.set_yticks(range(len(row)), list(row))
    ax.legend(fontsize=8)
else:
    ax.text(0.5, 0.5, "no results yet: run notebooks 1 and 3", ha="center", va="center", transform=ax.transAxes)
label(ax, "Figure 1. AUC with 95% bootstrap intervals, by split", "AUC", "detector")
fig.tight_layout()
plt.show()

# %% [markdown]
# **Try it.** Holm's correction at the level you choose. Each bar is one of the six DeLong tests of [0–4] vs [5–9]:
# its raw p-value (light) and its Holm-adjusted p-value (dark), on a log scale, against the level α (dashed line). Move
# α and count the differences each reading lets you claim: where would the raw p-values and the adjusted ones give
# different verdicts, and which test is the first to change?

# %%
import ipywidgets as widgets
from IPython.display import display

holm_pairs = results["tests_0_4"] if results_file.exists() else {}


def redraw_holm(log10_alpha: float = -1.3) -> None:
    alpha = 10.0**log10_alpha
    fig, ax = plt.subplots(figsize=(9, 3.8))
    names = [pair for pair, t in holm_pairs.items() if "p_delong_holm" in t]
    if not names:
        ax.text(0.5, 0.5, "no Holm-adjusted p-values yet: run notebook 3 to the end", ha="center", va="center", transform=ax.transAxes)
    floor = 1e-35  # p-values below this are drawn at it (the log axis cannot show 1e-111)
    raw = np.array([max(holm_pairs[n]["p_delong"], floor) for n in names])
    adjusted = np.array([max(holm_pairs[n]["p_delong_holm"], floor) for n in names])
    rows = np.arange(len(names))
    ax.barh(rows + 0.2, raw, height=0.4, color="C0", alpha=0.45, label="raw DeLong p")
    ax.barh(rows - 0.2, adjusted, height=0.4, color="C0", label="Holm-adjusted p")
    ax.axvline(alpha, color="k", ls="--", label=f"α = {alpha:.2g}")
    ax.set_xscale("log")
    ax.set_xlim(floor, 1.5)
    ax.set_yticks(rows, names)
    ax.legend(fontsize=8, loc="lower right")
    label(ax, f"At α = {alpha:.2g}: {int(np.sum(raw <= alpha))} of {len(names)} raw p-values ≤ α, "
          f"{int(np.sum(adjusted <= alpha))} Holm-adjusted", "p-value (log scale)", "pair of detectors")
    fig.tight_layout()
    plt.show()


controls = widgets.interactive(
    redraw_holm,
    log10_alpha=widgets.FloatSlider(value=-1.3, min=-30.0, max=0.0, step=0.1, continuous_update=False, description="log₁₀ α"),
)
display(controls)

# %% [markdown]
# **Think:** at α = 0.05 the two readings agree on this run. Below which α do they first disagree, and for which pair?
# What does that say about how much the correction costs a family whose p-values are either tiny or large?

# %% [markdown]
# **Picture: the controls and the failures.** The VAE's AUC for each training seed and with the anomalies in its
# training data (left), and the fraction of each digit flagged at 5 % false positives (right).

# %%
fig, (ax_controls, ax_classes) = plt.subplots(1, 2, figsize=(13, 3.8))
seeds = results.get("seeds_0_4", {}) if results_file.exists() else {}
dirty = results.get("contamination_0_4", {}) if results_file.exists() else {}
ticks = []
for name, v in seeds.items():
    for seed, (auc, low, high) in enumerate(v["per_seed"]):
        ax_controls.errorbar(auc, len(ticks), xerr=[[auc - low], [high - auc]], fmt="o", capsize=3, color="C0")
        ticks.append(f"{name}, seed {seed}")
    if name in dirty:
        auc, low, high = dirty[name]["auc"]
        ax_controls.errorbar(auc, len(ticks), xerr=[[auc - low], [high - auc]], fmt="s", capsize=3, color="C3")
        ticks.append(f"{name}, trained on all digits")
ax_controls.set_yticks(range(len(ticks)), ticks)
label(ax_controls, "Figure 2. Random initialisations and contamination, [0–4] vs [5–9]", "AUC (95% bootstrap interval)", "VAE score and training")
rates = results.get("class_rates_0_4", {}) if results_file.exists() else {}
grid = np.array([[np.nan if r is None else r for r in row] for row in rates.values()]) if rates else np.zeros((1, 10))
ax_classes.imshow(grid, cmap="viridis", vmin=0, vmax=1, aspect="auto")
ax_classes.set_xticks(range(10))
ax_classes.set_yticks(range(len(rates)), list(rates))
label(ax_classes, "Figure 3. Flagged at 5% false positives, by digit (0–4 normal)", "digit", "detector")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 1. The ELBO, derived (5 points)
#
# Starting from $\log p_\theta(x) = \log \int p_\theta(x|z)\,p(z)\,dz$, derive
#
# $$\log p_\theta(x) \;\ge\; \mathbb{E}_{q_\phi(z|x)}[\log p_\theta(x|z)] - \mathrm{KL}(q_\phi(z|x)\,\|\,p(z)) = \mathrm{ELBO}(x),$$
#
# in LaTeX, one justified step per line. Then (a) show that the gap $\log p_\theta(x) - \mathrm{ELBO}(x)$ equals
# $\mathrm{KL}(q_\phi(z|x)\,\|\,p_\theta(z|x))$, (b) give the closed form of the KL term for
# $q_\phi(z|x) = \mathcal{N}(\mu, \operatorname{diag}\sigma^2)$ and $p(z) = \mathcal{N}(0, I)$, and (c) say in one sentence
# why training needs the reparameterization $z = \mu + \sigma\odot\varepsilon$.

# %% [markdown] nbgrader={"grade_id": "elbo-derivation", "solution": true, "points": 5}
# ### BEGIN SOLUTION
# **Model answer.** For any density $q_\phi(z|x)$ that is positive wherever $p_\theta(x|z)p(z)$ is,
#
# $$\begin{aligned}
# \log p_\theta(x) &= \log \int p_\theta(x|z)\,p(z)\,dz
#   = \log \int q_\phi(z|x)\,\frac{p_\theta(x|z)\,p(z)}{q_\phi(z|x)}\,dz
#   = \log \mathbb{E}_{q_\phi(z|x)}\Big[\frac{p_\theta(x|z)\,p(z)}{q_\phi(z|x)}\Big] \\
# &\ge \mathbb{E}_{q_\phi(z|x)}\Big[\log \frac{p_\theta(x|z)\,p(z)}{q_\phi(z|x)}\Big]
#   \qquad\text{(Jensen: log is concave)} \\
# &= \mathbb{E}_{q_\phi(z|x)}[\log p_\theta(x|z)] - \mathbb{E}_{q_\phi(z|x)}\Big[\log\frac{q_\phi(z|x)}{p(z)}\Big]
#   = \mathbb{E}_{q_\phi(z|x)}[\log p_\theta(x|z)] - \mathrm{KL}(q_\phi(z|x)\,\|\,p(z)).
# \end{aligned}$$
#
# (a) Write $p_\theta(x|z)p(z) = p_\theta(z|x)\,p_\theta(x)$ inside the expectation:
# $\mathrm{ELBO}(x) = \mathbb{E}_{q_\phi}[\log p_\theta(x) + \log p_\theta(z|x) - \log q_\phi(z|x)] = \log p_\theta(x) - \mathrm{KL}(q_\phi(z|x)\,\|\,p_\theta(z|x))$,
# so the gap is that KL, $\ge 0$, and zero only when $q_\phi(z|x)$ is the true posterior.
#
# (b) $\mathrm{KL}(\mathcal{N}(\mu, \operatorname{diag}\sigma^2)\,\|\,\mathcal{N}(0, I)) = \tfrac12\sum_j(\mu_j^2 + \sigma_j^2 - 1 - \log\sigma_j^2)$.
#
# (c) The reconstruction term is an expectation under a distribution that depends on $\phi$; writing the sample as a
# differentiable function of $(\mu, \log\sigma^2)$ and parameter-free noise lets its gradient be estimated by
# backpropagation through the sample, typically with much lower variance than the score-function (REINFORCE)
# estimator (no variance was measured in this project).
#
# **Rubric (5 points).**
# - 2 points: a correct chain from $\log p_\theta(x)$ to the ELBO, with the multiply-and-divide by $q_\phi$ and Jensen's
#   inequality named as the step that gives "≥" (1 point if Jensen is used but not named or the direction is unjustified).
# - 1 point: (a) the gap identity, derived (not only stated).
# - 1 point: (b) the closed form, with the factor ½, the sum over latent dimensions and σ² (not σ) inside.
# - 1 point: (c) the reparameterization's purpose: a gradient through the sample (not "to make sampling possible").
# - No points for a derivation pasted as an image or without LaTeX; deduct 1 for notation that changes mid-derivation.
# ### END SOLUTION

# %% [markdown]
# ## 2. Interpretation of your results (4 points)
#
# Using your own numbers (printed above): (a) rank the detectors on [0–4] vs [5–9] and say which differences your
# tests support at the 5 % level, and whether DeLong and the paired bootstrap agree; (b) say which detector you
# would deploy for an operator who tolerates 1 % false alarms, and why the AUC alone does not decide it; (c) describe
# how the ranking changes across the three splits and with the hyperparameters of the sensitivity table.

# %% [markdown] nbgrader={"grade_id": "interpretation", "solution": true, "points": 4}
# ### BEGIN SOLUTION
# **Model answer (a student's numbers may differ from these; a good answer quotes its own).** On the embedded subset
# (1,000 test digits) the instructor's executed solutions gave, for [0–4] vs [5–9]: k-NN (k = 5) AUC 0.84 [0.82, 0.86],
# VAE reconstruction 0.79 [0.76, 0.81], PCA (20) 0.75 [0.72, 0.78], VAE −ELBO 0.75 [0.72, 0.78]. The plain k-NN
# detector is best; the VAE's reconstruction score beats PCA, but its own −ELBO does not: the −ELBO and PCA are
# indistinguishable (Δ = −0.005, DeLong p = 0.61, paired bootstrap p = 0.59), while every other pair differs after
# Holm's correction for the six tests (adjusted p ≤ 0.0003). That holds for the 7-epoch VAE: trained twice as long, its
# −ELBO AUC is 0.778 [0.750, 0.806], a point estimate above PCA's whose interval still contains it (untested). DeLong and the paired bootstrap agree where the
# bootstrap can resolve p (0.61 against 0.59 for the −ELBO against PCA, 0.0001 against 0.001 for the reconstruction
# score against PCA), and both put the other p-values below 0.001. The two AUCs of the same VAE are strongly
# correlated: DeLong's standard error of their difference is about 0.0055, against about 0.020 if they were
# independent, so their difference of 0.04 is highly significant in a paired test even though their intervals
# overlap. At 1 % false positives every detector finds fewer than 15 % of the anomalies (k-NN 0.13, the others
# 0.05–0.06): an operator with a small alarm budget lives on the far left of the ROC curve, which the AUC averages
# away. I would deploy k-NN (k = 5): at 1 % false alarms it detects 0.13 of the anomalies, twice the 0.05–0.06 of the
# others; on 500 normal digits the 1 % threshold rests on 5 of them, and 0.13 of 500 anomalies has a binomial
# standard error of about 0.015 before the threshold's own noise, so these rates are rough (a bootstrap interval on
# the detection rate would make the comparison firm). k-NN has the highest AUC on every split: on [0–4] by a tested
# margin, on even vs odd by 0.044 over the next detector and on [0–6] by only 0.012 (both untested: no paired test was
# run on those splits, and 0.012 is within their noise); the level drops from [0–4] to [0–6] and most for even vs
# odd, where the −ELBO falls to 0.60. Notebook 3 measured a likely reason: among the odd digits the −ELBO score rises with the amount of ink
# (Spearman 0.71), and the 1s, with the least ink, get a lower mean −ELBO (125.2) than any normal digit, so the VAE
# flags almost none of them (0.01 at 5 % false positives); the 7s, thin too, are flagged 0.24 of the time, so "simple
# digits look likely" explains the 1s, not the 7s. In the sensitivity table latent sizes 10 and 20 give
# indistinguishable −ELBO AUCs (0.744 and 0.747) and 50 a lower point estimate (0.711 [0.678, 0.744]; a paired test
# would be needed to call it lower; trained as briefly, the larger model fits its own test digits worse: 157.4
# against 143.3 per digit); PCA's components and k move the AUC by 0.02–0.03, about half an
# interval's width. Retrained from seed values 1 and 2, the VAE's −ELBO AUC is 0.731 and 0.727: the run-to-run SD (0.011)
# is larger than the −ELBO's difference from PCA, so one training run could not have ranked them either way.
#
# **Rubric (4 points).**
# - 1 point: (a) a ranking with the confidence intervals and the p-values quoted, and a correct reading of which
#   differences are significant (overlapping intervals are not treated as a test).
# - 1 point: (a) a comment on whether DeLong and the bootstrap agree, and why a paired test is needed.
# - 1 point: (b) a choice based on the detection rate at 1 % FPR (or the left part of the ROC curve), not on the AUC.
# - 1 point: (c) at least one concrete observation about splits or hyperparameters, with a plausible reason.
# ### END SOLUTION

# %% [markdown]
# ## 3. Limitations (3 points)
#
# Name at least three limitations of your experiments or of the VAE as an anomaly detector, and for each say what
# experiment or change would address it. Think about the data, the likelihood, the statistics and the model.

# %% [markdown] nbgrader={"grade_id": "limitations", "solution": true, "points": 3}
# ### BEGIN SOLUTION
# **Model answer (any three, each with a remedy).**
# - **Small, non-standard evaluation.** About a thousand test digits (the embedded subset) give wide intervals, and the
#   splits are not a published benchmark. Remedy: full MNIST (10,000 test digits), other data sets (Fashion-MNIST),
#   more random initialisations than three.
# - **Grey levels under a Bernoulli likelihood.** The −ELBO is not a likelihood in nats for grey pixels; scores depend on
#   stroke thickness. Remedy: binarize (dynamically), or use a continuous likelihood (e.g. a discretized logistic).
# - **Likelihood is not typicality.** Deep generative models can assign *higher* likelihood to simple out-of-distribution
#   inputs (a "1" has few ink pixels). Remedy: likelihood ratios against a background model, typicality tests, or
#   per-digit one-vs-rest analysis.
# - **Short training, one architecture, three initialisations.** The compute is not matched between the detectors
#   and the VAE stops after 7 epochs, before it has converged: trained for 15, its held-out −ELBO falls from 143.3 to
#   131.2 per digit and its −ELBO AUC is 0.031 higher on the same test digits (a test that holds both models fixed;
#   the run-to-run SD is 0.011). Remedy: train to
#   convergence on a validation set of normal digits, compare latent sizes and β, more training runs.
# - **A correction covers only the family it names.** Holm's correction covers the six pre-registered tests; the
#   splits, the sensitivity table and the per-class rates were looked at without one. Remedy: treat them as
#   exploratory, and confirm any finding from them on full MNIST with a new pre-registration.
# - **The −ELBO is only a bound, and only on binary pixels.** Its gap varies by digit. Remedy: binarize, and score
#   with importance-weighted estimates of $\log p_\theta(x)$ (Lab 1.3, Lab 2.2).
#
# **Rubric (3 points).** 1 point per limitation that is specific to this project **and** comes with a concrete remedy
# (max 3). A limitation without a remedy, or a generic one ("more data would help"), earns ½.
# ### END SOLUTION

# %% [markdown]
# ## 4. The report (20 points)
#
# Write the project's report in the cell below, in markdown, as a short paper (about 1,500 words; LaTeX for
# formulas). Sections 1–3 above are its theory, discussion and limitations: refer to them, do not repeat them. It
# has five parts:
# 1. **Question and hypotheses.** The question (can a VAE trained on normal digits flag the others, and does it
#    beat simple detectors?), why it matters, and your pre-registration from notebook 3, quoted; then, for each
#    hypothesis, whether it held.
# 2. **Related work.** A paragraph placing the project: VAEs and reconstruction-based anomaly detection;
#    likelihood-based detection and its known failure (deep generative models that find simple out-of-distribution
#    inputs *likely*) and a proposed remedy; the classical detectors (PCA, k-nearest neighbours); the statistics
#    (DeLong's test, Holm's correction). Cite at least four works by author and year.
# 3. **Method.** The data (which MNIST, which splits, how many training and test digits), the models and their
#    training (architecture, epochs, random initialisations, and exactly what is matched between the detectors), the scores, and
#    the statistics (bootstrap intervals, DeLong's test and the paired bootstrap, the family of tests and its
#    correction), in enough detail for someone to repeat them.
# 4. **Results.** Refer to Figures 1–3 above by number, each with a one-sentence caption of what it shows; every
#    AUC you discuss with its 95 % interval (a table is welcome); the primary comparison and the family with Holm-adjusted p-values; the run-to-run
#    spread and the contamination ablation; which digits each detector misses, with the measurement from notebook 3
#    (ink, per-class rates) that supports or refutes an explanation.
# 5. **Conclusions.** What the evidence supports and what it does not, in a few sentences: a difference is claimed
#    only where its adjusted p-value is below α, and a ranking only where the run-to-run spread does not swamp it.
#
# The report is also graded for clarity: complete sentences, the course notation, a structure a reader can follow, and
# about 1,500 words for the five parts (sections 1–3 do not count towards them).

# %% [markdown] nbgrader={"grade_id": "report", "solution": true, "points": 20}
# ### BEGIN SOLUTION
# **Model report (a sketch of a good one, with the instructor's numbers; a student's report quotes its own).**
#
# **1. Question and hypotheses.** Can a VAE trained only on the digits 0–4 flag the digits 5–9 as anomalous, and
# does it beat two simple detectors, PCA reconstruction error and k-nearest-neighbour distance? Anomaly detection
# with a generative model is attractive because it needs no examples of the anomalies; it is only worth its cost if
# it beats the simple detectors. Pre-registered in notebook 3: H1, the VAE's −ELBO beats PCA (primary comparison);
# H2, k-NN is the best of the four; H3, the −ELBO and the reconstruction score of the same VAE differ; six pairwise
# DeLong tests at α = 0.05, Holm-corrected. H1 was not supported, H2 and H3 were.
#
# **2. Related work.** VAEs (Kingma and Welling 2014; Rezende et al. 2014) were used for anomaly detection through
# their reconstruction probability early on (An and Cho 2015). Likelihood-based detection has a known failure: deep
# generative models can give *higher* likelihood to simple out-of-distribution inputs than to their training data
# (Nalisnick et al. 2019; Choi et al. 2018), which has been traced to input complexity (Serrà et al. 2020); proposed
# remedies are likelihood ratios against a background model (Ren et al. 2019) and typicality tests. Distance to the
# k-th nearest neighbour (Ramaswamy et al. 2000) and the residual of a principal-component projection are the classical
# baselines (reviewed, with deep detectors, by Ruff et al. 2021). Correlated AUCs are compared with DeLong et al.
# (1988); a family of tests is corrected with Holm (1979).
#
# **3. Method.** The embedded 5,000-digit subset of MNIST (4,000 training, 1,000 test digits); normal digits 0–4
# (2,000 training digits), anomalies 5–9; test set 500 normal and 500 anomalous digits; two further splits ([0–6] vs
# [7–9], even vs odd). A VAE 784-400-20 with a Bernoulli decoder on the grey levels, Adam, 7 epochs, trained on the
# normal training digits only, from seed values 0, 1 and 2; a control trained twice as long (15 epochs) and one trained on all ten digits. PCA with 20 components and
# k-NN with k = 5 fit the same normal training digits; what is matched is the data, not the compute. Scores: the −ELBO
# (8 samples of z) and the squared error of the decoded mean. Statistics: percentile bootstrap intervals (1,000
# resamples of the test digits), DeLong's test and a paired, centred bootstrap for each pair, Holm's correction over
# the six pairs.
#
# **4. Results.** Figure 1 (AUC by detector and split): k-NN 0.84 [0.82, 0.86], VAE reconstruction 0.79 [0.76, 0.81],
# PCA 0.75 [0.72, 0.78], VAE −ELBO 0.75 [0.72, 0.78] on [0–4] vs [5–9]. The primary comparison, −ELBO against PCA,
# gives ΔAUC = −0.005, Holm-adjusted p = 0.61; the other five pairs differ (adjusted p ≤ 0.0003). Figure 2 (training runs and
# contamination): the −ELBO AUC over three training runs has mean 0.735 and SD 0.011, and one run's interval with the run-to-run
# variance included is [0.698, 0.773] (printed above the figure); trained twice as long, the −ELBO AUC is 0.778 [0.750, 0.806]
# (ΔAUC +0.031 for these two fixed models, Holm-adjusted p < 10⁻⁹), the reconstruction score's 0.828 [0.805, 0.853]; trained on all ten digits the VAE falls to chance, AUC 0.478 [0.442, 0.514]
# (adjusted p < 10⁻¹⁰⁰ against the clean model). Figure 3 (fraction flagged at 5 % false positives, by digit):
# no detector flags more than 0.08 of the 9s; k-NN's lead comes from the 5s and 6s (0.49 and 0.59). On even vs odd the
# −ELBO's AUC is 0.60; among the odd digits its score rises with the ink (Spearman 0.71), and the 1s score below every
# normal digit on average.
#
# **5. Conclusions.** On this subset the 7-epoch VAE's own −ELBO does not beat PCA, and k-NN beats both VAE scores; the
# run-to-run spread is larger than the −ELBO–PCA difference, so no single run could rank them. Trained twice as long,
# the −ELBO's point estimate lies above PCA's, inside one run's noise and untested, and the reconstruction score comes
# within 0.011 of k-NN's: both rankings are established for the 7-epoch VAE only. The VAE detects
# "unlike its training digits" (the contaminated control is at chance), but its −ELBO also tracks the amount of ink,
# which is consistent with its missing the 1s (a correlation: scoring thickened 1s would test it as a cause). These are findings on 1,000 test digits of one subset, for short training; the
# limitations (section 3) say what would test them further.
#
# *References:* An and Cho (2015), SNU Data Mining Center tech. report; Choi, Jang and Alemi (2018), arXiv:1810.01392;
# DeLong, DeLong and Clarke-Pearson (1988), Biometrics 44; Holm (1979), Scand. J. Statist. 6; Kingma and Welling
# (2014), ICLR; Nalisnick et al. (2019), ICLR; Ramaswamy, Rastogi and Shim (2000), SIGMOD; Ren et al. (2019), NeurIPS;
# Rezende, Mohamed and Wierstra (2014), ICML; Ruff et al. (2021), Proc. IEEE 109; Serrà et al. (2020), ICLR.
#
# **Rubric (20 points).**
# - 2 points: **question and hypotheses.** The question and why it matters (1); the pre-registered hypotheses quoted,
#   each marked as held or not, by the evidence (1).
# - 3 points: **related work.** At least four works cited by author and year, correctly placed: the failure of
#   likelihood-based detection on simple inputs and a remedy (1), reconstruction-based VAE detection and the
#   classical detectors (1), the statistics (DeLong, Holm) (1).
# - 4 points: **method.** Data and splits with their counts (1); models and training, with epochs, random initialisations and exactly
#   what is matched between the detectors (1); the scores (1); the statistics, naming the family of tests and its
#   correction (1). Deduct 1 if someone could not repeat the experiment from it.
# - 7 points: **results.** Every AUC discussed, with its interval (1); the figures referred to by number with captions (1);
#   the primary comparison and the family with Holm-adjusted p-values, read correctly (2); the run-to-run spread
#   compared with the differences claimed (1); the contamination ablation (1); the per-class failures with a
#   *measured* explanation, not an asserted one (1).
# - 2 points: **conclusions.** They follow from the adjusted p-values and the intervals (1); no claim beyond the
#   evidence, such as a ranking the run-to-run spread does not support or a result stated for MNIST in general (1).
# - 2 points: **clarity.** Complete sentences, the course notation, a structure a reader can follow (1); length about
#   1,500 words, no pasted code or unexplained output (1).
# ### END SOLUTION

# %% [markdown]
# ## Summary
#
# * The ELBO is Jensen's inequality applied to an importance-weighted integral; its gap is the KL to the true posterior.
# * Results come with their uncertainty: intervals for each AUC, paired tests for each difference, and the operating
#   point that matters to the user.
# * A good limitations section pairs each weakness with the experiment that would remove it.
#
# **Questions to think about.**
# 1. If you could run one more experiment, which limitation would it address, and what result would change your conclusion?
# 2. How would an importance-weighted bound change the VAE's anomaly scores, and which digits would move most?
