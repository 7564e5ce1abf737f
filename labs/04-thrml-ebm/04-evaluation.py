# %% [markdown]
# # Lab 4.4: What did we get? Evaluation, efficiency claims, and hidden units
#
# This notebook evaluates the fitted Potts grid honestly: what its samples look like and how digit-like
# a classifier finds them, how well it inpaints against two baselines, whether chains from different
# starts agree (R̂), how fast they mix, whether 4 colours beat 2, what a sweep costs in flops, bytes and
# joules, and what the "~10,000× less energy" claim does and does not say. It ends with a small
# restricted Boltzmann machine (RBM) trained with THRML's sampler, against a binary Potts grid on the
# same binary digits, to see what hidden units buy.
#
# **Learning objectives.** By the end you can
# 1. evaluate an EBM by samples, a classifier's confidence on them, inpainting by the posterior marginal
#    mode against baselines, and its energy trace;
# 2. diagnose mixing from several starts with R̂, and estimate an integrated autocorrelation time and an
#    effective sample size (ESS) from chains;
# 3. compare block schedules (2 vs 4 colours) per sweep *and* per second;
# 4. estimate flops, bytes and energy per sweep, and read a hardware efficiency claim critically;
# 5. build a bipartite (visible + hidden) model in THRML and explain why hidden units change what the
#    model can represent.
#
# **Prerequisites.** Notebooks 4.1 to 4.3. It reads notebook 4.3's fits (`potts_fits.npz`) and trains
# its own when that file is missing, so it runs on its own.
#
# **Estimated time.** 50 minutes.

# %%
import time

import ipywidgets as widgets
import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display
from matplotlib.animation import FuncAnimation, PillowWriter
from thrml.models import FactorizedEBM
from tqdm.auto import tqdm

from labkit import runtime, seed_everything
from labkit.mnist import load_mnist
from labkit.plots import label, use_course_style
from labkit.ebm_fit import (fit_pcd, nearest_neighbour_fill, per_edge, rbm_sampler, sample_quality, split_r_hat,
                            train_digit_classifier)
from labkit.potts import PottsParams, ThrmlGrid, compiler_options

seed_everything(0)
use_course_style()
print(runtime.describe())

K = 4
data = load_mnist()
grey8 = np.round(data.x_train.reshape(-1, 28, 28) * 255).astype(np.int64)
digits = (grey8 >> 6).astype(np.uint8)  # the top two bits of each 8-bit grey value: 4 levels (K = 4 only)
test_grey8 = np.round(data.x_test.reshape(-1, 28, 28) * 255).astype(np.int64)
test_digits = (test_grey8 >> 6).astype(np.uint8)

# %% [markdown]
# ## 1. The models to evaluate
#
# Notebook 4.3 fitted a Potts grid on all digits and one per digit by persistent CD with
# `labkit.ebm_fit.fit_pcd`, and saved them. If that file is missing this cell fits them again, with the
# CD gradient taken by automatic differentiation of THRML's own energy: the gradient of
# $\bar E_{\text{data}} - \bar E_{\text{negatives}}$ with respect to the parameters is the CD gradient.

# %%
grid = ThrmlGrid(28, 28, K)
sample5 = grid.sampler(5)


def thrml_energy(b, W_h, W_v, x):
    """E(x) for states x of shape (B, 28, 28) from THRML's FactorizedEBM over the grid's factors; shape (B,)."""
    ebm = FactorizedEBM(grid.factors(b, W_h, W_v))
    states = jnp.asarray(x, jnp.uint8).reshape(len(x), -1)
    return jax.vmap(lambda s: ebm.energy([s], [grid.all_block]))(states)


energy = jax.jit(thrml_energy, compiler_options=compiler_options())
contrast = jax.jit(jax.grad(lambda b, W_h, W_v, xd, xm: thrml_energy(b, W_h, W_v, xd).mean() - thrml_energy(b, W_h, W_v, xm).mean(),
                            argnums=(0, 1, 2)), compiler_options=compiler_options())


params_at_zero = PottsParams(np.zeros((28, 28, K)), np.zeros((K, K)), np.zeros((K, K)))
rng = np.random.default_rng(0)


def autodiff_gradient(x_data, x_model):
    """The CD gradient (model minus data moments) as the gradient of the energy difference; the energy
    is linear in the parameters, so the point it is taken at does not matter."""
    return PottsParams(*(np.asarray(g) for g in contrast(*params_at_zero, x_data, x_model)))


def ink(x):
    """The fraction of pixels at level ≥ 2 (grey ≥ 0.5): the binary digit's ink."""
    return float(np.mean(np.asarray(x) >= K // 2))


def read_params(saved, prefix):
    return PottsParams(*(saved[f"{prefix}_{n}"] for n in PottsParams._fields))


try:
    saved = np.load("potts_fits.npz")
    params, chains = read_params(saved, "all"), saved["all_chains"]
    class_params = {d: read_params(saved, f"digit{d}") for d in range(10)}
    print("read notebook 4.3's fits from potts_fits.npz")
except FileNotFoundError:
    fit = fit_pcd(digits, autodiff_gradient, sample5, K, runtime.scaled(300, 3), progress="PCD-5, all digits")
    params, chains = fit.params, fit.chains
    class_params = {d: fit_pcd(digits[data.y_train == d], autodiff_gradient, sample5, K, runtime.scaled(100, 2),
                               n_chains=32, seed=10 + d, progress=f"PCD-5, digit {d}").params for d in range(10)}
mismatch = per_edge(autodiff_gradient(digits, chains), 28, 28)
print(f"all-digit model: pixel mismatch of its persistent chains {np.sqrt(np.mean(mismatch.b**2)):.4f}, "
      f"ink {ink(chains):.3f} (data {ink(digits):.3f})")

# %% [markdown]
# ## 2. Samples, the chain from noise, and R̂
#
# We run 16 fresh chains from uniform noise and 16 from real test digits, and record every sweep. The
# energy trace shows the burn-in; the frames show what a chain does on the way. If the model mixes, the
# two groups forget their starts and meet: Gelman–Rubin's split R̂ (between-chain against
# within-chain variance, `labkit.ebm_fit.split_r_hat`) is then close to 1; above about 1.1, chains from
# different starts still disagree.

# %%
n_record = runtime.scaled(1000, 20)
record = grid.trajectory(n_record)
noise = rng.integers(0, K, size=(16, 28, 28)).astype(np.uint8)
data_start = test_digits[:16]
start = time.perf_counter()
traj = np.asarray(record(*params, jax.random.split(jax.random.key(3), 16), noise))  # (16, T, 28, 28)
print(f"recorded {traj.shape[1]} sweeps of 16 chains in {time.perf_counter() - start:.1f} s (compile included)")
traj_data = np.asarray(record(*params, jax.random.split(jax.random.key(13), 16), data_start))
trace = np.asarray(energy(*params, traj.reshape(-1, 28, 28))).reshape(16, -1)
trace_data = np.asarray(energy(*params, traj_data.reshape(-1, 28, 28))).reshape(16, -1)
ink_traces = {"noise": (traj >= 2).mean(axis=(2, 3)), "data": (traj_data >= 2).mean(axis=(2, 3))}

fig, axes = plt.subplots(1, 3, figsize=(13, 3.4), gridspec_kw={"width_ratios": [1.3, 1.3, 1]})
for chain in range(16):
    axes[0].plot(trace[chain], lw=0.7, alpha=0.7, color="C0")
    axes[0].plot(trace_data[chain], lw=0.7, alpha=0.7, color="C1")
    axes[1].plot(ink_traces["noise"][chain], lw=0.7, alpha=0.7, color="C0")
    axes[1].plot(ink_traces["data"][chain], lw=0.7, alpha=0.7, color="C1")
axes[0].axhline(float(np.mean(energy(*params, digits[:500]))), color="k", ls="--", label="mean E of real digits")
axes[0].plot([], color="C0", label="from noise")
axes[0].plot([], color="C1", label="from test digits")
axes[0].legend(fontsize=7)
axes[1].axhline(ink(digits), color="k", ls="--")
label(axes[0], "Energy trace of 32 chains", "sweep", "E(x)")
label(axes[1], "Ink fraction of each chain", "sweep", "fraction at level ≥ 2")
gallery = np.concatenate([np.concatenate(list(traj[r * 4:(r + 1) * 4, -1]), axis=1) for r in range(4)], axis=0)
axes[2].imshow(gallery, cmap="gray_r", vmin=0, vmax=K - 1)
axes[2].axis("off")
axes[2].set_title(f"16 samples from noise after {traj.shape[1] - 1} sweeps")
plt.show()

windows = [(0, n_record // 10), (n_record // 2, n_record)]
for lo, hi in windows:
    both_e = np.concatenate([trace[:, lo:hi], trace_data[:, lo:hi]])
    both_ink = np.concatenate([ink_traces["noise"][:, lo:hi], ink_traces["data"][:, lo:hi]])
    print(f"sweeps {lo}-{hi}: R-hat of the energy {split_r_hat(both_e):.2f}, of the ink {split_r_hat(both_ink):.2f}; "
          f"mean ink from noise {both_ink[:16].mean():.3f}, from data {both_ink[16:].mean():.3f}")
print(f"ink of the 16 chains from noise after {n_record - 1} sweeps: {ink(traj[:, -1]):.3f} (data {ink(digits):.3f})")

frames = np.unique(np.geomspace(1, traj.shape[1] - 1, 8).astype(int))
frames = np.concatenate([[0], frames])
fig, axes = plt.subplots(3, len(frames), figsize=(1.2 * len(frames), 3.9))
for row in range(3):
    for col, f in enumerate(frames):
        axes[row, col].imshow(traj[row, f], cmap="gray_r", vmin=0, vmax=K - 1)
        axes[row, col].axis("off")
        if row == 0:
            axes[row, col].set_title(f"sweep {f}", fontsize=8)
fig.suptitle("From noise to sample: three chains")
plt.show()

# A light animation of one chain (saved next to the notebook; 40 frames of 28x28).
fig, ax = plt.subplots(figsize=(2.2, 2.2))
image = ax.imshow(traj[0, 0], cmap="gray_r", vmin=0, vmax=K - 1)
ax.axis("off")
ax.set_title("sweep 0", fontsize=8)
steps_shown = np.unique(np.geomspace(1, traj.shape[1], 40).astype(int) - 1)


def draw(i):
    image.set_data(traj[0, steps_shown[i]])
    ax.set_title(f"sweep {steps_shown[i]}", fontsize=8)
    return (image,)


FuncAnimation(fig, draw, frames=len(steps_shown)).save("noise_to_digit.gif", writer=PillowWriter(fps=8))
plt.close(fig)
print("wrote noise_to_digit.gif")

# %% [markdown]
# **Try it.** The 32 recorded chains, sweep by sweep (this needs a running kernel): pick the start and
# move the sweep. The gallery shows all 16 chains of that start at that sweep; the traces show every
# chain's ink, with the sweep marked. Watch when the chains from noise stop looking like noise, whether
# the chains from test digits keep their digits, and whether the two groups look alike by the end.

# %%
recorded = {"noise": traj, "test digits": traj_data}


def redraw_recorded(start: str = "noise", sweep: int = n_record - 1) -> None:
    states = recorded[start][:, sweep]
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 3.6), gridspec_kw={"width_ratios": [1, 1.6]})
    ax.imshow(np.concatenate([np.concatenate(list(states[r * 4:(r + 1) * 4]), axis=1) for r in range(4)]),
              cmap="gray_r", vmin=0, vmax=K - 1)
    ax.axis("off")
    ax.set_title(f"16 chains from {start}, sweep {sweep}", fontsize=9)
    for name, colour in (("noise", "C0"), ("data", "C1")):
        bx.plot(ink_traces[name].T, lw=0.6, alpha=0.5, color=colour)
        bx.plot([], color=colour, label=f"from {'noise' if name == 'noise' else 'test digits'}")
    bx.axvline(sweep, color="k", ls=":")
    bx.axhline(ink(digits), color="gray", ls="--", label="data's ink")
    bx.legend(fontsize=7)
    label(bx, "Ink fraction of each chain", "sweep", "fraction at level ≥ 2")
    plt.show()


controls = widgets.interactive(
    redraw_recorded,
    start=widgets.Dropdown(options=list(recorded), value="noise", description="start"),
    sweep=widgets.IntSlider(value=n_record - 1, min=0, max=n_record - 1, step=1, continuous_update=False,
                            description="sweep"),
)
display(controls)

# %% [markdown]
# **Think:** by the last sweep, could you tell from a single picture which group a chain started in?
# What does R̂ of the ink above measure that your eye on 16 pictures cannot?

# %% [markdown]
# ## 3. Inpainting quality
#
# Clamp the top half of held-out test digits and sample the bottom half. One posterior sample is the
# wrong thing to score against the truth: if a pixel's posterior puts probability p_k on level k, a
# sample is right with probability Σ_k p_k², the most probable level with probability max_k p_k. So we
# draw 12 samples per digit, estimate each pixel's **posterior marginal**, and score its **mode**,
# and the log-probability the marginal gives the true level (a proper score: mush is punished). Two
# baselines: the per-pixel mode of the training data (it ignores the top half), and the **nearest
# neighbour**: the training digit whose top half is closest, its bottom half copied. Most pixels are
# background, so we score the stroke pixels (true level > 0) apart.

# %%
clamped = np.zeros((28, 28), bool)
clamped[:14] = True
inpaint_grid = ThrmlGrid(28, 28, K, clamped=clamped)
inpaint = inpaint_grid.sampler(runtime.scaled(150, 5))
n_test, n_draws = runtime.scaled(40, 4), runtime.scaled(12, 2)
truth = test_digits[np.random.default_rng(1).permutation(len(test_digits))[:n_test]]
starts = np.repeat(np.where(clamped, truth, 0).astype(np.uint8), n_draws, axis=0)  # the bottom starts blank
draws = np.asarray(inpaint(*params, jax.random.split(jax.random.key(4), len(starts)), starts))
draws = draws.reshape(n_test, n_draws, 28, 28)
marginal = (np.eye(K)[draws].sum(axis=1) + 0.5) / (n_draws + 0.5 * K)  # (n_test, 28, 28, K), smoothed
counts = np.stack([(digits == k).sum(axis=0) for k in range(K)], axis=-1) + 1.0
guesses = {
    "Potts, marginal mode": marginal.argmax(axis=-1),
    "Potts, one sample": draws[:, 0],
    "nearest neighbour": nearest_neighbour_fill(digits, truth, clamped),
    "per-pixel mode": np.broadcast_to(np.argmax(counts, axis=-1), truth.shape),
}
bottom = ~clamped
stroke = (truth > 0) & bottom
scores = {name: ((g == truth)[:, bottom].mean(), (g == truth)[stroke].mean(), np.abs(g.astype(int) - truth)[:, bottom].mean())
          for name, g in guesses.items()}
true_logp = np.log(np.take_along_axis(marginal, truth[..., None].astype(np.intp), axis=-1)[..., 0])
print(f"{'':22s} {'accuracy (bottom)':>18s} {'accuracy (strokes)':>19s} {'mean |level error|':>19s}")
for name, (acc, acc_stroke, err) in scores.items():
    print(f"{name:22s} {acc:18.3f} {acc_stroke:19.3f} {err:19.3f}")
print(f"Potts posterior marginal: mean log-probability of the true level {true_logp[:, bottom].mean():.3f} nats per hidden pixel")

n_show = min(8, n_test)
fig, axes = plt.subplots(4, n_show, figsize=(9, 4.8), squeeze=False)
for col in range(n_show):
    for row, img in enumerate([truth[col], draws[col, 0], guesses["Potts, marginal mode"][col], guesses["nearest neighbour"][col]]):
        axes[row, col].imshow(np.where(clamped, truth[col], img), cmap="gray_r", vmin=0, vmax=K - 1)
        axes[row, col].axis("off")
for row, name in enumerate(["truth", "one sample", "marginal mode", "nearest neighbour"]):
    axes[row, 0].set_title(name, fontsize=8, loc="left")
fig.suptitle("Inpainting held-out digits: top half clamped")
plt.show()

# %% [markdown]
# ## 4. Mixing: autocorrelation time and effective sample size
#
# Successive sweeps of a chain are correlated. The **integrated autocorrelation time** of a statistic
# f (here the energy),
# $\tau = 1 + 2\sum_{t\ge1}\rho(t)$, says how many sweeps are worth one independent draw; the
# **effective sample size** of T sweeps is $\mathrm{ESS} = T/\tau$. We estimate $\rho$ from the chains
# started at test digits, after a short burn-in (FFT, averaged over chains), and truncate the sum with
# Sokal's window (the first M with $M \ge 5\,\hat\tau(M)$).
#
# A 4-neighbour model can also be swept with 4 colours, the diagonal stripes $(r + s) \bmod 4$
# (`ThrmlGrid(..., n_colours=4)`). That is still valid, because neighbours differ by one in $r + s$ and
# so no block has an internal edge, but each sweep now has 4 sequential phases. Which mixes better per
# sweep, and per second?

# %%
def autocorrelation(traces):
    """ρ(t) of (chains, T) traces, averaged over chains."""
    x = traces - traces.mean(axis=1, keepdims=True)
    T = x.shape[1]
    f = np.fft.rfft(x, n=2 * T, axis=1)
    acf = np.fft.irfft(f * np.conj(f), axis=1)[:, :T].mean(axis=0)
    return acf / acf[0]


def integrated_time(rho, window=5.0):
    taus = 1 + 2 * np.cumsum(rho[1:])
    for m in range(1, len(taus)):
        if m >= window * taus[m - 1]:
            return float(taus[m - 1])
    return float(taus[-1])


burn = traj.shape[1] // 5  # chains started at test digits: a short burn-in
results = {}
for n_colours in (2, 4):
    g = grid if n_colours == 2 else ThrmlGrid(28, 28, K, n_colours=4)
    rec = record if n_colours == 2 else g.trajectory(n_record)
    if n_colours == 4:
        jax.block_until_ready(rec(*params, jax.random.split(jax.random.key(5), 16), data_start))  # compile
        t0 = time.perf_counter()
        tr = np.asarray(rec(*params, jax.random.split(jax.random.key(5), 16), data_start))
        seconds = time.perf_counter() - t0
        e = np.asarray(energy(*params, tr.reshape(-1, 28, 28))).reshape(16, -1)
    else:  # 2 colours: the data-started run of section 2 (compiled already), timed once more
        t0 = time.perf_counter()
        jax.block_until_ready(rec(*params, jax.random.split(jax.random.key(6), 16), data_start))
        seconds = time.perf_counter() - t0
        e = trace_data
    rho = autocorrelation(e[:, burn:])
    tau = integrated_time(rho)
    T = e.shape[1] - burn
    results[n_colours] = dict(rho=rho, tau=tau, ess=16 * T / tau, sweeps_per_s=16 * e.shape[1] / seconds)

fig, ax = plt.subplots(figsize=(7, 3.2))
for n_colours, r in results.items():
    ax.plot(r["rho"][:300], label=f"{n_colours} colours: τ ≈ {r['tau']:.1f} sweeps")
ax.axhline(0, color="gray", lw=0.5)
ax.legend()
label(ax, "Autocorrelation of the energy after burn-in", "lag (sweeps)", "ρ(lag)")
plt.show()
for n_colours, r in results.items():
    print(f"{n_colours} colours: τ ≈ {r['tau']:5.1f} sweeps, ESS ≈ {r['ess']:7.0f} of {16 * (traj.shape[1] - burn)} "
          f"chain-sweeps, {r['sweeps_per_s']:8,.0f} chain-sweeps/s -> {r['sweeps_per_s'] / r['tau']:7,.0f} effective samples/s")

# %% [markdown] nbgrader={"grade_id": "convergence-insight", "solution": true, "points": 2}
# **Question (2 points).** From your energy and ink traces and R̂: do the chains from noise and from
# test digits meet within the run, and what does that say about burn-in? How many sweeps apart should
# two samples of one chain be to count as nearly independent? Do 4 colours help or hurt, per sweep and
# per second? Explain why from what a colour phase does.
#
# ### BEGIN SOLUTION
# They do not meet: over sweeps 500 to 1000 the split R̂ of the ink is 2.70 (of the energy 2.16), far
# above 1.1; the chains from noise still carry more ink (0.206 against 0.122 from test digits, data
# 0.132), and after 999 sweeps from noise the ink is still 0.194. Burn-in from noise is longer than the
# whole run: the grid's total ink is a slow, collective mode (the blank and inky phases of notebook 4.3),
# so a few hundred sweeps from noise do not give the model's samples. From data starts, the
# within-chain τ of the energy comes out at about 85 sweeps, but that is only a lower bound: the
# autocorrelation is still well above 0 at lag 100 in the figure, removing each chain's own mean forces
# the estimate's tail negative, and the R̂ above shows a slow mode between the blank and inky phases
# that a per-chain autocorrelation cannot see. So samples about 2τ ≈ 170 sweeps apart are not shown to
# be independent, and the ESS of only about 150 that the 12,800 chain-sweeps give by the formula is an
# upper bound: no trustworthy ESS can be quoted from this run. With 4 colours every pixel is still
# updated once per sweep from its exact conditional, only in a different order, so mixing per sweep is
# about the same (τ 88.5 against 85.3, with the same caveat); but each sweep has 4 sequential phases of
# a quarter of the pixels instead of 2 of half, so it should run fewer chain-sweeps per second, and in
# this run's single timing of each it did, and gave fewer effective samples per second (one timing each
# on a shared machine: repeat them, interleaved, before trusting the size of the gap). For a
# 4-neighbour model 2 colours are the better schedule. Rubric: 1 point for the R̂/burn-in and τ read
# correctly from the student's run, 1 for the 2-vs-4 comparison with the reason.
# ### END SOLUTION

# %% [markdown]
# ## 5. Flops, bytes and joules per sweep, and the "~10,000× less energy" claim
#
# Count what one chain-sweep of the 28×28, K = 4 grid needs: per pixel, 5 table rows of K float32
# log-potentials gathered and summed, K exponentials, a K-long cumulative sum, one uniform random number
# and a comparison. Then turn measured time into energy with an *assumed* power draw: we cannot measure
# power here, so the cell states its assumptions and you should change them for your machine.

# %%
pixels = 28 * 28
flops = pixels * (5 * K + 3 * K)
bytes_moved = pixels * (5 * K * 4 + 1 + 4)  # table rows, the pixel's state, one random number
measured = results[2]["sweeps_per_s"]  # THRML, 2 colours, 16 chains, this machine
cpu_watts = 2 * 10.0  # ASSUMPTION: about 10 W per busy core for a 2-core share of a server CPU
gpu_rate, gpu_watts = 13_100, 250.0  # a reference GPU run: 262 samples/s x 50 sweeps at batch 64; ASSUMED 250 W board
print(f"per chain-sweep: {flops:,} flops, {bytes_moved / 1e3:.1f} kB of table and state traffic")
print(f"this CPU  : {measured:9,.0f} chain-sweeps/s at ~{cpu_watts:.0f} W -> {cpu_watts / measured * 1e6:8.1f} µJ per chain-sweep")
print(f"a GPU run: {gpu_rate:9,.0f} chain-sweeps/s at ~{gpu_watts:.0f} W -> {gpu_watts / gpu_rate * 1e6:8.1f} µJ per chain-sweep")
print(f"energy per flop implied on this CPU: {cpu_watts / (measured * flops) * 1e12:.0f} pJ "
      f"(a well-used CPU reaches ~10-100 pJ per flop, so most energy here is overhead, not arithmetic)")
print(f"a 10,000x saving over that GPU run would be {gpu_watts / gpu_rate / 1e4 * 1e9:.0f} nJ per chain-sweep, "
      f"{gpu_watts / gpu_rate / 1e4 / pixels * 1e12:.0f} pJ per pixel update")

# %% [markdown]
# **Reading the claim.** Extropic's "approximately 10,000× less energy" comes from arXiv 2510.23972
# (denoising thermodynamic models). It is a **system-level simulation** of proposed hardware in which
# each pixel update is a physical random bit flip of a small circuit, compared with GPU-run generative
# models on an image benchmark. The ratio was not measured by running a complete model on a chip,
# and it depends on the baseline: a reference GPU run of this model (13,100 chain-sweeps/s at batch 64) is about what two CPU cores
# reach with THRML here, far below what a GPU's thousands of cores and its memory
# bandwidth allow, so its energy per chain-sweep is inflated. A factor measured against an inefficient
# baseline says as much about the baseline as about the new hardware.

# %% [markdown] nbgrader={"grade_id": "efficiency-insight", "solution": true, "points": 3}
# **Question (3 points).** (a) Using your numbers, where does the energy of a chain-sweep go on a CPU:
# arithmetic, memory traffic, random numbers, or overhead? (b) Suppose a thermodynamic sampling unit
# spends 1 fJ per pixel update. How much energy per 28×28 chain-sweep is that, and how does it compare
# with your CPU estimate? (c) Name two things the ~10,000× claim does not establish for *this* task.
#
# ### BEGIN SOLUTION
# (a) The flop count (25,088 per sweep) at 10 to 100 pJ per flop would be 0.25 to 2.5 µJ, yet
# at the assumed 20 W the CPU spends thousands of µJ per chain-sweep (2,045 in the reference run on the
# course's 2-core build machine, shared with other jobs): the energy goes to random-number generation,
# gathers of small tables, data movement and per-call overhead, not arithmetic. (b) 784 updates × 1 fJ ≈
# 0.8 pJ per sweep: about 10^9 to 10^10 times less than the CPU estimate, so per update the physics is
# very favourable, but that excludes I/O, clamping, reading out samples and programming the weights.
# (c) It does not establish sample quality (the all-digit grid's samples are not digits: a cheaper
# sampler of a weak model is not a better generative model), nor a measured end-to-end energy including
# memory and I/O, nor a fair baseline (an optimised GPU or CPU sampler, or a different model class such
# as a VAE that needs one forward pass per sample, not hundreds or thousands of sweeps; here the chains
# from noise had not mixed after 1,000 sweeps). Rubric: 1 point per part with the student's own numbers.
# ### END SOLUTION

# %% [markdown]
# ## 6. What hidden units buy (same data, different training budgets)
#
# A pixel grid only couples neighbours: its biases can hold one mean shape, but nothing in it can choose
# among shapes ("this is a 3, not a 7"). A **restricted Boltzmann machine** adds a layer of hidden
# units h, each coupled to every pixel and to no other hidden unit:
#
# $$
# E(v, h) = -\sum_i a_i v_i - \sum_j c_j h_j - \sum_{i,j} v_i\, w_{ij}\, h_j ,\qquad v_i, h_j \in \{0, 1\}.
# $$
#
# The graph is bipartite, so THRML needs just two blocks: all hidden units, then all visible units
# (`labkit.ebm_fit.rbm_sampler`, categorical nodes with K = 2 and a weight table $[[0, 0], [0, w_{ij}]]$
# per visible-hidden pair). Both models see the **same binary digits** (grey ≥ 0.5) and are trained by
# persistent CD with THRML drawing every negative, but not with the same budget: the RBM (16 hidden
# units) gets 300 PCD-1 updates of 32 chains, plain gradient steps at lr 0.05 decayed linearly to 0 and
# no averaging; the binary Potts grid (an Ising model, K = 2) gets notebook 4.3's `fit_pcd`, 200 PCD-5
# steps of 64 chains with per-edge steps and averaging, from the independent-pixel fit.
# THRML runs the RBM's dense bipartite graph as 784 × 16 = 12,544 pair factors, about 8 times the grid's
# 1,512 edges, which is what keeps this RBM small.
#
# To judge samples without rewarding blank images we train a small classifier (softmax regression on
# the binary training digits) and report, over each model's samples: its **confidence** (mean max
# p(y|x)), the mean entropy of p(y|x), and the **class entropy** of the predicted labels (log 10 ≈ 2.30
# when all ten classes appear equally).

# %%
def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


v_data = (data.x_train >= 0.5).astype(np.float64)  # binary pixels, (n, 784)
n_hidden = runtime.scaled(16, 4)  # THRML's dense bipartite program is slow: 784 x 16 pair factors
rbm_rng = np.random.default_rng(0)
w = rbm_rng.normal(0, 0.01, size=(784, n_hidden))
a = np.log((v_data.mean(0) + 1e-3) / (1 - v_data.mean(0) + 1e-3))
c = np.zeros(n_hidden)
lr_rbm, rbm_batch = 0.05, 32
rbm_step = rbm_sampler(784, n_hidden, 1)  # one THRML sweep per step: PCD-1
fantasy = v_data[rbm_rng.integers(0, len(v_data), rbm_batch)].astype(np.uint8)  # persistent chains
n_updates = runtime.scaled(300, 4)
key = jax.random.key(21)


def rbm_updates(first, last):
    """PCD-1 updates first..last-1 of the RBM, THRML drawing every negative (numpy for the gradient)."""
    global w, a, c, fantasy, key
    for update in tqdm(range(first, last), desc=f"RBM PCD-1 with THRML, updates {first}-{last}"):
        lr_now = lr_rbm * (1 - update / n_updates)
        v0 = v_data[rbm_rng.integers(0, len(v_data), rbm_batch)]
        key, sub = jax.random.split(key)
        fantasy = np.asarray(rbm_step(a, c, w, jax.random.split(sub, rbm_batch), fantasy))
        vf = fantasy.astype(np.float64)
        ph0, ph1 = sigmoid(v0 @ w + c), sigmoid(vf @ w + c)
        w += lr_now * (v0.T @ ph0 / rbm_batch - vf.T @ ph1 / rbm_batch)
        a += lr_now * (v0.mean(0) - vf.mean(0))
        c += lr_now * (ph0.mean(0) - ph1.mean(0))


rbm_updates(0, n_updates // 2)

# %%
rbm_updates(n_updates // 2, n_updates)

# %%
rbm_sweeps = runtime.scaled(200, 5)
rbm_long = rbm_sampler(784, n_hidden, rbm_sweeps)
v_start = rbm_rng.integers(0, 2, size=(32, 784)).astype(np.uint8)
rbm_samples = np.asarray(rbm_long(a, c, w, jax.random.split(jax.random.key(8), 32), v_start)).reshape(32, 28, 28)

# %%
binary = (digits >= 2).astype(np.uint8)  # the same binary digits, as a K = 2 grid
ising_grid = ThrmlGrid(28, 28, 2)
ising_sample = ising_grid.sampler(5)
ising_zero = PottsParams(np.zeros((28, 28, 2)), np.zeros((2, 2)), np.zeros((2, 2)))


def ising_energy(b, W_h, W_v, x):
    ebm = FactorizedEBM(ising_grid.factors(b, W_h, W_v))
    return jax.vmap(lambda s: ebm.energy([s], [ising_grid.all_block]))(jnp.asarray(x, jnp.uint8).reshape(len(x), -1))


ising_contrast = jax.jit(jax.grad(lambda b, W_h, W_v, xd, xm: ising_energy(b, W_h, W_v, xd).mean() - ising_energy(b, W_h, W_v, xm).mean(),
                                  argnums=(0, 1, 2)), compiler_options=compiler_options())
ising_fit = fit_pcd(binary, lambda xd, xm: PottsParams(*(np.asarray(g) for g in ising_contrast(*ising_zero, xd, xm))),
                    ising_sample, 2, runtime.scaled(200, 3), progress="Ising PCD-5")
ising_samples = np.asarray(ising_grid.sampler(rbm_sweeps)(*ising_fit.params, jax.random.split(jax.random.key(9), 64),
                                                          rbm_rng.integers(0, 2, size=(64, 28, 28)).astype(np.uint8)))

# %%
# Per-digit Potts models: 8 samples of each from noise, thresholded to binary.
per_digit_sampler = grid.sampler(runtime.scaled(300, 5))
per_digit = np.concatenate([np.asarray(per_digit_sampler(*class_params[d], jax.random.split(jax.random.key(30 + d), 8),
                                                         rng.integers(0, K, size=(8, 28, 28)).astype(np.uint8)))
                            for d in range(10)])
samples_binary = {
    "binary test digits": (test_digits[:80] >= 2).astype(np.uint8),
    "blank images": np.zeros((64, 28, 28), np.uint8),
    "Potts, all digits (K=4, thresholded)": (traj[:, -1] >= 2).astype(np.uint8),
    "Potts, one per digit (thresholded)": (per_digit >= 2).astype(np.uint8),
    "Ising grid (K=2)": ising_samples,
    f"RBM, {n_hidden} hidden units": rbm_samples,
}
classifier = train_digit_classifier(v_data, data.y_train)
test_accuracy = np.mean(classifier.probabilities(data.x_test >= 0.5).argmax(1) == data.y_test)
print(f"classifier: softmax regression on the binary training digits, test accuracy {test_accuracy:.3f}")
print(f"{'':38s} {'ink':>6s} {'confidence':>11s} {'entropy':>8s} {'class entropy':>14s}")
quality = {}
for name, imgs in samples_binary.items():
    quality[name] = sample_quality(classifier.probabilities(imgs))
    q = quality[name]
    print(f"{name:38s} {imgs.mean():6.3f} {q['confidence']:11.3f} {q['entropy']:8.3f} {q['class entropy']:14.3f}")
per_digit_hits = classifier.probabilities(per_digit >= 2).argmax(1) == np.repeat(np.arange(10), 8)
print(f"per-digit models: the classifier names the intended digit for {per_digit_hits.mean():.2f} of their samples "
      f"({', '.join(f'{d}: {per_digit_hits[8 * d:8 * d + 8].mean():.2f}' for d in range(10))})")

fig, axes = plt.subplots(1, 4, figsize=(13, 3.8))
for ax, name in zip(axes, ["binary test digits", "Potts, one per digit (thresholded)", "Ising grid (K=2)", f"RBM, {n_hidden} hidden units"]):
    imgs = samples_binary[name][:16] if name != "Potts, one per digit (thresholded)" else samples_binary[name][::5][:16]
    tiles = np.concatenate([np.concatenate(list(imgs[r * 4:(r + 1) * 4]), axis=1) for r in range(4)], axis=0)
    ax.imshow(tiles, cmap="gray_r", vmin=0, vmax=1)
    ax.axis("off")
    ax.set_title(f"{name}\nconfidence {quality[name]['confidence']:.2f}", fontsize=9)
fig.suptitle("Samples from noise, on the same binary digits")
plt.show()

# %% [markdown]
# ## 7. Results
#
# The cell below gathers this run's numbers in one place; the written answer after it is where you
# interpret them.

# %%
print("Potts grid, 28x28, K = 4, PCD-5 on all digits")
print(f"  ink: persistent chains {ink(chains):.3f}, 16 chains from noise after {n_record - 1} sweeps {ink(traj[:, -1]):.3f}, data {ink(digits):.3f}")
print(f"  inpainting accuracy on strokes         : marginal mode {scores['Potts, marginal mode'][1]:.3f}, one sample "
      f"{scores['Potts, one sample'][1]:.3f}, nearest neighbour {scores['nearest neighbour'][1]:.3f}, per-pixel mode {scores['per-pixel mode'][1]:.3f}")
print(f"  integrated autocorrelation time (2 col): {results[2]['tau']:8.1f} sweeps")
print(f"  THRML throughput, 16 chains (2 colours): {results[2]['sweeps_per_s']:8,.0f} chain-sweeps/s")
print(f"  4 colours instead of 2                 : tau {results[4]['tau']:.1f}, {results[4]['sweeps_per_s']:,.0f} chain-sweeps/s")
print("classifier confidence: " + ", ".join(f"{name} {q['confidence']:.2f}" for name, q in quality.items()))

# %% [markdown] nbgrader={"grade_id": "results-insight", "solution": true, "points": 4}
# **Question (4 points).** Write the honest results section of this project in 6 to 10 sentences,
# citing your numbers: does the all-digit Potts grid generate recognisable digits, and do the per-digit
# models? Did its chains mix? Does it inpaint better than the baselines, and where? What did the RBM's
# hidden units change against the Ising grid on the same binary digits, and why? What would you tell
# someone who read "10,000× less energy" and wanted to use a thermodynamic sampler for MNIST?
#
# ### BEGIN SOLUTION
# A model answer covers: (1) the all-digit grid was fitted (notebook 4.3: moments matched, its
# persistent chains' ink 0.131 against the data's 0.132), yet its samples are blobs without class: the
# classifier's confidence on them is 0.55, against 0.89 on test digits and 0.17 on blank images; one
# grid per digit puts ink where its class has it (confidence 0.81, the intended digit named for 0.82 of the
# samples, though many samples are blobs rather than clean digits), because each class's biases carry
# its mean shape; (2) the chains did not mix: from noise and
# from test digits they disagree after 1,000 sweeps (R̂ of the ink 2.70; ink 0.194 from noise), so
# samples from a few hundred sweeps are not the model's (the R̂ shows it; τ
# from data starts is about 85 sweeps, only a lower bound);
# (3) inpainting by the posterior marginal mode gets 0.841 of the bottom half right (per-pixel mode
# 0.835) but only 0.110 of the stroke pixels, and the nearest neighbour, which copies a real digit,
# ties it on the whole bottom half and beats it clearly on strokes (0.845 and 0.390): the grid's
# short-range couplings cannot carry shape from the top half, and with chains that mix this slowly
# (150 sweeps from a blank bottom) the draws may not even be posterior samples; one sample per digit
# recovers more strokes (0.204) and more background wrong (0.804), which is why a sample is the wrong
# thing to score; (4) the RBM with 16 hidden units, after 300 PCD-1 updates with THRML, made speckled
# samples (confidence 0.39, below the Ising grid's 0.60): at this size and training budget the hidden
# units did not help, so this run cannot say that the model class, rather than training, limited the
# grid; class information (the per-digit biases) is what made digits here; (5) the 10,000× figure is a
# simulation against a particular baseline; for MNIST a sampler's energy per sweep matters only once the
# model is good and its chains mix, and a fair comparison needs measured hardware and an efficient
# baseline. Rubric: 4 points for a results section with the student's numbers covering quality,
# mixing, inpainting, hidden units and the claim; 3 if one is missing; 2 if the numbers are absent or
# the conclusions are overstated; 1 for a partial attempt.
# ### END SOLUTION

# %% [markdown]
# ## Summary
#
# - A fitted nearest-neighbour Potts grid has the data's pixel and pair frequencies but no class: a
#   classifier is unsure of its samples. One grid per digit puts ink where its class has it: the
#   classifier names the intended digit for most of its samples, though many are blobs, not clean digits.
# - Its chains mix slowly: chains from noise and from data still disagree after 1,000 sweeps (R̂ well
#   above 1.1); τ from data starts is at least tens of sweeps (the per-chain estimate is a lower bound),
#   and the time to mix between the blank and inky phases is longer than the run. 2 colours are the
#   right schedule for 4 neighbours.
# - Score inpainting by the posterior marginal, against a nearest-neighbour baseline: here the baseline
#   wins on strokes: the grid's short-range couplings do not complete shapes (and its slow chains may
#   not reach the posterior).
# - Per sweep, the arithmetic is tiny: time and energy go to random numbers, gathers and overhead; the
#   "10,000×" claim is a simulation whose baseline matters.
# - A small RBM trained with THRML did not beat the Ising grid at this size and budget: hidden units can
#   encode shape, but only once they are trained.
#
# **Questions to take away.**
# 1. How would you measure, rather than assume, the energy of a chain-sweep on your own machine?
# 2. What would a fair hardware comparison for MNIST generation hold fixed: the model, the sample
#    quality, or the number of sweeps?
# 3. An RBM's hidden block has 16 units and its visible block 784. What does that imbalance mean for
#    block Gibbs on parallel hardware?
