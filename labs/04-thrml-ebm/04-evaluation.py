# %% [markdown]
# # Lab 4.4: What did we get? Evaluation, efficiency claims, and hidden units
#
# The seed project set out to "validate Extropic's efficiency claims for real ML tasks". This notebook
# does the evaluation honestly: what the Potts grid's samples look like, how well it inpaints, how fast
# its chains mix, whether 4 colours beat 2, what a sweep costs in flops, bytes and joules, and what the
# "~10,000× less energy" claim does and does not say. It ends beyond the seed: a small restricted
# Boltzmann machine (RBM) in THRML, to see what hidden units buy.
#
# **Learning objectives.** By the end you can
# 1. evaluate an EBM by samples, inpainting accuracy against a baseline, and its energy trace;
# 2. estimate an integrated autocorrelation time and an effective sample size (ESS) from chains;
# 3. compare block schedules (2 vs 4 colours) per sweep *and* per second;
# 4. estimate flops, bytes and energy per sweep, and read a hardware efficiency claim critically;
# 5. build a bipartite (visible + hidden) model in THRML and explain why hidden units change what the
#    model can represent.
#
# **Prerequisites.** Notebooks 4.1 to 4.3. This notebook trains its own model (about half a minute),
# so it runs on its own.
#
# **Estimated time.** 50 minutes.

# %%
import time
from functools import partial

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import thrml
from matplotlib.animation import FuncAnimation, PillowWriter
from thrml.models import CategoricalEBMFactor, CategoricalGibbsConditional, FactorizedEBM
from tqdm.auto import tqdm

from labkit import runtime, seed_everything
from labkit.mnist import load_mnist
from labkit.plots import label, use_course_style
from labkit.potts import Adam, PottsParams, ThrmlGrid, compiler_options

seed_everything(0)
use_course_style()
print(runtime.describe())

K = 4
data = load_mnist()
grey8 = np.round(data.x_train.reshape(-1, 28, 28) * 255).astype(np.int64)
digits = ((grey8 * K) >> 8).astype(np.uint8)  # 8-bit grey to 4 levels by a lookup on the top two bits
test_grey8 = np.round(data.x_test.reshape(-1, 28, 28) * 255).astype(np.int64)
test_digits = ((test_grey8 * K) >> 8).astype(np.uint8)

# %% [markdown]
# ## 1. A model to evaluate
#
# We train a Potts grid on all digits with persistent CD, as in notebook 4.3, but the gradient here
# comes from automatic differentiation of THRML's own energy: the gradient of
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

counts = np.stack([(digits == k).sum(axis=0) for k in range(K)], axis=-1) + 1.0
params = PottsParams(np.log(counts / counts.sum(-1, keepdims=True)), np.zeros((K, K)), np.zeros((K, K)))
opt = Adam(params, lr=0.03)
rng = np.random.default_rng(0)
key = jax.random.key(0)
batch = 64
n_steps = runtime.scaled(200, 3)
chains = rng.integers(0, K, size=(batch, 28, 28)).astype(np.uint8)
gap = []
for step in tqdm(range(n_steps), desc="PCD-5, all digits"):
    opt.lr = 0.03 * (1 - step / n_steps)  # decay to 0: damps PCD's oscillations (notebook 4.3) at the end
    x_data = digits[rng.integers(0, len(digits), size=batch)]
    key, sub = jax.random.split(key)
    chains = np.asarray(sample5(*params, jax.random.split(sub, batch), chains))
    params = opt.step(params, contrast(*params, x_data, chains))
    gap.append(float(energy(*params, x_data).mean() - energy(*params, chains).mean()))
print(f"energy gap over the last 20 steps: {np.mean(gap[-20:]):.1f}")

# %% [markdown]
# ## 2. Samples, and the chain from noise to digit
#
# We run 16 fresh chains from uniform noise and record every sweep. The energy trace shows the burn-in;
# the frames show what the chain does on the way.

# %%
n_record = runtime.scaled(400, 20)
record = grid.trajectory(n_record)
noise = rng.integers(0, K, size=(16, 28, 28)).astype(np.uint8)
start = time.perf_counter()
traj = np.asarray(record(*params, jax.random.split(jax.random.key(3), 16), noise))  # (16, T, 28, 28)
print(f"recorded {traj.shape[1]} sweeps of 16 chains in {time.perf_counter() - start:.1f} s (compile included)")
trace = np.asarray(energy(*params, traj.reshape(-1, 28, 28))).reshape(16, -1)

fig, axes = plt.subplots(1, 2, figsize=(10, 3.4), gridspec_kw={"width_ratios": [1.3, 1]})
for chain in range(16):
    axes[0].plot(trace[chain], lw=0.7, alpha=0.7)
axes[0].axhline(float(np.mean(energy(*params, digits[:500]))), color="k", ls="--", label="mean E of real digits")
axes[0].legend()
label(axes[0], "Energy trace of 16 chains from noise", "sweep", "E(x)")
gallery = np.concatenate([np.concatenate(list(traj[r * 4:(r + 1) * 4, -1]), axis=1) for r in range(4)], axis=0)
axes[1].imshow(gallery, cmap="gray_r", vmin=0, vmax=K - 1)
axes[1].axis("off")
axes[1].set_title(f"16 samples after {traj.shape[1] - 1} sweeps")
plt.show()

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
# ## 3. Inpainting quality
#
# Clamp the top half of held-out test digits, sample the bottom half, and score the bottom half
# against the truth. A useful model must beat the trivial baseline "each pixel takes its most
# frequent level" (the per-pixel mode, which knows nothing about the top half). Because most pixels are
# background, we score the stroke pixels (true level > 0) apart.

# %%
clamped = np.zeros((28, 28), bool)
clamped[:14] = True
inpaint_grid = ThrmlGrid(28, 28, K, clamped=clamped)
inpaint = inpaint_grid.sampler(runtime.scaled(100, 5))
n_test = runtime.scaled(200, 16)
truth = test_digits[np.random.default_rng(1).permutation(len(test_digits))[:n_test]]
starts = np.where(clamped, truth, rng.integers(0, K, size=truth.shape)).astype(np.uint8)
filled = np.asarray(inpaint(*params, jax.random.split(jax.random.key(4), n_test), starts))
mode = np.broadcast_to(np.argmax(counts, axis=-1), truth.shape)
bottom = ~clamped
stroke = (truth > 0) & bottom
scores = {
    name: ((guess == truth)[:, bottom].mean(), (guess == truth)[stroke].mean(), np.abs(guess.astype(int) - truth)[:, bottom].mean())
    for name, guess in [("Potts model", filled), ("per-pixel mode", mode)]
}
print(f"{'':16s} {'accuracy (bottom)':>18s} {'accuracy (strokes)':>19s} {'mean |level error|':>19s}")
for name, (acc, acc_stroke, err) in scores.items():
    print(f"{name:16s} {acc:18.3f} {acc_stroke:19.3f} {err:19.3f}")

fig, axes = plt.subplots(3, 8, figsize=(9, 3.6))
for col in range(8):
    for row, img in enumerate([truth[col], starts[col], filled[col]]):
        axes[row, col].imshow(img, cmap="gray_r", vmin=0, vmax=K - 1)
        axes[row, col].axis("off")
for row, name in enumerate(["truth", "clamped top", "inpainted"]):
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
# after burn-in (FFT, averaged over chains) and truncate the sum with Sokal's window (the first M with
# $M \ge 5\,\hat\tau(M)$).
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


burn = traj.shape[1] // 3
results = {}
for n_colours in (2, 4):
    g = grid if n_colours == 2 else ThrmlGrid(28, 28, K, n_colours=4)
    rec = record if n_colours == 2 else g.trajectory(n_record)
    if n_colours == 4:
        jax.block_until_ready(rec(*params, jax.random.split(jax.random.key(5), 16), noise))  # compile
        t0 = time.perf_counter()
        tr = np.asarray(rec(*params, jax.random.split(jax.random.key(5), 16), noise))
        seconds = time.perf_counter() - t0
        e = np.asarray(energy(*params, tr.reshape(-1, 28, 28))).reshape(16, -1)
    else:  # 2 colours: the run of section 2 (compiled already), timed once more
        t0 = time.perf_counter()
        jax.block_until_ready(rec(*params, jax.random.split(jax.random.key(6), 16), noise))
        seconds = time.perf_counter() - t0
        e = trace
    rho = autocorrelation(e[:, burn:])
    tau = integrated_time(rho)
    T = e.shape[1] - burn
    results[n_colours] = dict(rho=rho, tau=tau, ess=16 * T / tau, sweeps_per_s=16 * e.shape[1] / seconds)

fig, ax = plt.subplots(figsize=(7, 3.2))
for n_colours, r in results.items():
    ax.plot(r["rho"][:60], label=f"{n_colours} colours: τ ≈ {r['tau']:.1f} sweeps")
ax.axhline(0, color="gray", lw=0.5)
ax.legend()
label(ax, "Autocorrelation of the energy after burn-in", "lag (sweeps)", "ρ(lag)")
plt.show()
for n_colours, r in results.items():
    print(f"{n_colours} colours: τ ≈ {r['tau']:5.1f} sweeps, ESS ≈ {r['ess']:7.0f} of {16 * (traj.shape[1] - burn)} "
          f"chain-sweeps, {r['sweeps_per_s']:8,.0f} chain-sweeps/s -> {r['sweeps_per_s'] / r['tau']:7,.0f} effective samples/s")

# %% [markdown] nbgrader={"grade_id": "convergence-insight", "solution": true, "points": 2}
# **Question (2 points).** From your energy trace and τ: how many sweeps of burn-in does this model
# need, and how many sweeps apart should two samples of one chain be to count as nearly independent?
# Do 4 colours help or hurt, per sweep and per second? Explain why from what a colour phase does.
#
# ### BEGIN SOLUTION
# The energy reaches its stationary band within about ten to twenty sweeps (read off the trace), and τ
# is a few sweeps (5 to 8 on reference runs), so samples ~2τ apart are nearly independent and ESS ≈ T/τ. With 4
# colours every pixel is still updated once per sweep from its exact conditional; the phases just come
# in a different order, so mixing per sweep is about the same (sometimes marginally different), but each
# sweep needs 4 sequential phases of a quarter of the pixels instead of 2 of half, so per second it is
# slower on parallel hardware (more, smaller kernels, more overhead). For a 4-neighbour model 2 colours
# are the better schedule; 4 colours are needed only when diagonal couplings exist. Rubric: 1 point for
# burn-in/τ read correctly from the student's figures, 1 for the 2-vs-4 comparison with the reason.
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
seed_gpu_rate, gpu_watts = 13_100, 250.0  # seed: 262 samples/s x 50 sweeps at batch 64; ASSUMED 250 W board
print(f"per chain-sweep: {flops:,} flops, {bytes_moved / 1e3:.1f} kB of table and state traffic")
print(f"this CPU  : {measured:9,.0f} chain-sweeps/s at ~{cpu_watts:.0f} W -> {cpu_watts / measured * 1e6:8.1f} µJ per chain-sweep")
print(f"seed's GPU: {seed_gpu_rate:9,.0f} chain-sweeps/s at ~{gpu_watts:.0f} W -> {gpu_watts / seed_gpu_rate * 1e6:8.1f} µJ per chain-sweep")
print(f"energy per flop implied on this CPU: {cpu_watts / (measured * flops) * 1e12:.0f} pJ "
      f"(a well-used CPU reaches ~10-100 pJ per flop, so most energy here is overhead, not arithmetic)")
print(f"a 10,000x saving over the seed's GPU would be {gpu_watts / seed_gpu_rate / 1e4 * 1e9:.0f} nJ per chain-sweep, "
      f"{gpu_watts / seed_gpu_rate / 1e4 / pixels * 1e12:.0f} pJ per pixel update")

# %% [markdown]
# **Reading the claim.** Extropic's "approximately 10,000× less energy" comes from arXiv 2510.23972
# (denoising thermodynamic models). It is a **system-level simulation** of proposed hardware in which
# each pixel update is a physical random bit flip of a small circuit, compared with GPU-run generative
# models on an image benchmark. Nothing in it was measured on a chip, and the ratio depends on the
# baseline: the seed's own GPU figures (13,100 chain-sweeps/s at batch 64) are about what two CPU cores
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
# (a) The flop count (~25 kflops per sweep) at ~10-100 pJ/flop would be well under a µJ, yet the CPU
# spends tens to hundreds of µJ per chain-sweep: the energy goes to random-number generation (THRML
# spends most of its time there), gathers of small tables, data movement and per-call overhead, not
# arithmetic. (b) 784 updates × 1 fJ ≈ 0.8 pJ per sweep: about 10^8 times less than the CPU estimate
# (tens of µJ), so per-update the physics is very favourable, but that excludes I/O, clamping, reading
# out samples and programming the weights. (c) It does not establish sample quality (our Potts samples
# are not digits: a cheaper sampler of a weak model is not a better generative model), nor a measured
# end-to-end energy including memory/I-O, nor a fair baseline (an optimised GPU/CPU sampler, or a
# different model class such as a VAE that needs one forward pass per sample, not hundreds of sweeps).
# Rubric: 1 point per part with the student's own numbers.
# ### END SOLUTION

# %% [markdown]
# ## 6. Beyond the seed: what hidden units buy
#
# A pixel grid only couples neighbours, so it can learn stroke texture but not *shape*: nothing in it
# knows "this is a 3". A **restricted Boltzmann machine** adds a layer of hidden units h, each coupled
# to every pixel and to no other hidden unit:
#
# $$
# E(v, h) = -\sum_i a_i v_i - \sum_j c_j h_j - \sum_{i,j} v_i\, w_{ij}\, h_j ,\qquad v_i, h_j \in \{0, 1\}.
# $$
#
# The graph is bipartite, so THRML needs just two blocks: all visible units, then all hidden units.
# We train a small RBM (binary pixels, 64 hidden units) by persistent CD in numpy, where the
# conditionals are one matrix product each, and then *sample it with THRML*, as a factor graph of categorical nodes with
# K = 2 (a weight table $[[0, 0], [0, w_{ij}]]$ per visible-hidden pair).

# %%
def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


v_data = (data.x_train >= 0.5).astype(np.float64)  # binary pixels, (n, 784)
n_hidden = runtime.scaled(64, 4)  # test runs build a much smaller THRML program
rbm_rng = np.random.default_rng(0)
w = rbm_rng.normal(0, 0.01, size=(784, n_hidden))
a = np.log((v_data.mean(0) + 1e-3) / (1 - v_data.mean(0) + 1e-3))
c = np.zeros(n_hidden)
lr_rbm = 0.05
fantasy = (rbm_rng.random((64, 784)) < 0.5).astype(np.float64)  # persistent chains
n_epochs = runtime.scaled(10, 1)
n_updates, update = n_epochs * (len(v_data) // 64), 0
for epoch in tqdm(range(n_epochs), desc="RBM PCD-1 epochs"):
    for idx in np.array_split(rbm_rng.permutation(len(v_data)), len(v_data) // 64):
        update += 1
        lr_now = lr_rbm * (1 - update / n_updates)
        v0 = v_data[idx]
        ph0 = sigmoid(v0 @ w + c)
        h = (rbm_rng.random((64, n_hidden)) < sigmoid(fantasy @ w + c)).astype(np.float64)
        fantasy = (rbm_rng.random(fantasy.shape) < sigmoid(h @ w.T + a)).astype(np.float64)
        ph1 = sigmoid(fantasy @ w + c)
        w += lr_now * (v0.T @ ph0 / len(v0) - fantasy.T @ ph1 / len(fantasy))
        a += lr_now * (v0.mean(0) - fantasy.mean(0))
        c += lr_now * (ph0.mean(0) - ph1.mean(0))

# The RBM as a THRML program: two free blocks, three factors.
v_nodes = [thrml.CategoricalNode() for _ in range(784)]
h_nodes = [thrml.CategoricalNode() for _ in range(n_hidden)]
pairs_v = thrml.Block([v_nodes[i] for i in range(784) for _ in range(n_hidden)])
pairs_h = thrml.Block([h_nodes[j] for _ in range(784) for j in range(n_hidden)])
pair_tables = np.zeros((784 * n_hidden, 2, 2))
pair_tables[:, 1, 1] = w.reshape(-1)
rbm_factors = [
    CategoricalEBMFactor([thrml.Block(v_nodes)], jnp.asarray(np.stack([np.zeros(784), a], axis=1))),
    CategoricalEBMFactor([thrml.Block(h_nodes)], jnp.asarray(np.stack([np.zeros(n_hidden), c], axis=1))),
    CategoricalEBMFactor([pairs_v, pairs_h], jnp.asarray(pair_tables)),
]
rbm_blocks = [thrml.Block(v_nodes), thrml.Block(h_nodes)]
rbm_program = thrml.FactorSamplingProgram(
    thrml.BlockGibbsSpec(rbm_blocks, []), [CategoricalGibbsConditional(2) for _ in rbm_blocks], rbm_factors, []
)
rbm_sweeps = runtime.scaled(500, 10)
rbm_schedule = thrml.SamplingSchedule(n_warmup=rbm_sweeps, n_samples=1, steps_per_sample=1)


@partial(jax.jit, compiler_options=compiler_options())
def rbm_sample(keys, v0):
    def one(key, v):
        init = [v, jnp.zeros(n_hidden, jnp.uint8)]
        return thrml.sample_states(key, rbm_program, rbm_schedule, init, [], [thrml.Block(v_nodes)])[0][-1]

    return jax.vmap(one)(keys, v0)


v_start = rbm_rng.integers(0, 2, size=(16, 784)).astype(np.uint8)
rbm_samples = np.asarray(rbm_sample(jax.random.split(jax.random.key(8), 16), v_start)).reshape(16, 28, 28)
potts_samples = (traj[:, -1] >= 2).astype(np.uint8)  # the Potts samples above, thresholded to binary


def nearest_distance(samples):
    """Mean Hamming distance (in pixels) from each sample to its nearest binary training digit.

    A crude score with a trap: a nearly blank image is close to every thin digit (a "1"), so read it
    together with the ink fraction and the pictures."""
    flat = samples.reshape(len(samples), -1).astype(np.float64)
    d = flat @ (1 - v_data.T) + (1 - flat) @ v_data.T
    return float(d.min(axis=1).mean())


fig, axes = plt.subplots(1, 3, figsize=(10, 3.6))
shown = rbm_rng.choice(len(v_data), 16, replace=False)
for ax, (name, imgs) in zip(axes, [("binary training digits", v_data[shown].reshape(16, 28, 28)),
                                     ("Potts grid (K=4, thresholded)", potts_samples),
                                     (f"RBM, {n_hidden} hidden units", rbm_samples)]):
    tiles = np.concatenate([np.concatenate(list(imgs[r * 4:(r + 1) * 4]), axis=1) for r in range(4)], axis=0)
    ax.imshow(tiles, cmap="gray_r", vmin=0, vmax=1)
    ax.axis("off")
    ax.set_title(f"{name}\nink {imgs.mean():.2f}, nearest-digit distance {nearest_distance(imgs):.0f} px", fontsize=9)
fig.suptitle("What hidden units buy: samples from noise")
plt.show()

# %% [markdown]
# ## 7. Results
#
# The cell below gathers this run's numbers in one place; the written answer after it is where you
# interpret them.

# %%
print("Potts grid, 28x28, K = 4, PCD-5 on all digits")
print(f"  final energy gap (last 20 steps)       : {np.mean(gap[-20:]):8.1f}")
print(f"  inpainting accuracy on strokes         : model {scores['Potts model'][1]:.3f} vs per-pixel mode {scores['per-pixel mode'][1]:.3f}")
print(f"  integrated autocorrelation time (2 col): {results[2]['tau']:8.1f} sweeps")
print(f"  THRML throughput, 16 chains (2 colours): {results[2]['sweeps_per_s']:8,.0f} chain-sweeps/s")
print(f"  4 colours instead of 2                 : tau {results[4]['tau']:.1f}, {results[4]['sweeps_per_s']:,.0f} chain-sweeps/s")
real16 = (data.x_test[rbm_rng.choice(len(data.x_test), 16, replace=False)] >= 0.5).reshape(16, 28, 28)
print(f"ink fraction of binary samples           : Potts {potts_samples.mean():.3f}, RBM {rbm_samples.mean():.3f}, "
      f"real digits {v_data.mean():.3f}")
print(f"nearest-training-digit distance (px)     : Potts {nearest_distance(potts_samples):.0f}, RBM {nearest_distance(rbm_samples):.0f}, "
      f"real test digits {nearest_distance(real16):.0f}")

# %% [markdown] nbgrader={"grade_id": "results-insight", "solution": true, "points": 4}
# **Question (4 points).** Write the honest results section of this project in 6 to 10 sentences,
# citing your numbers: does the Potts grid generate recognisable digits? Does it inpaint better than the
# baseline, and where? Is THRML fast on this hardware, and compared with what? What did the RBM's hidden
# units change, and why? What would you tell someone who read "10,000× less energy" and wanted to use a
# thermodynamic sampler for MNIST?
#
# ### BEGIN SOLUTION
# A model answer covers: (1) the nearest-neighbour Potts grid does **not** generate recognisable digits:
# its samples are ink blobs or nearly blank images (which one depends on where PCD's oscillation between
# an "ink" and a "background" phase left the parameters: two reference runs gave ink fractions of 0.28
# and 0.03 against the data's 0.13); (2) its inpainting never completes shapes: in a blob phase it
# recovers more stroke pixels than the per-pixel mode but gets more background wrong, in a blank phase
# it is about as good as the mode (reference runs: strokes 0.48 vs 0.05 and 0.10 vs 0.07); (3) THRML on
# 2 CPU cores runs about 10,000 28×28 chain-sweeps/s at 16 to 64 chains (reference runs: 11,000 to
# 14,000), the same order as the seed's GPU figures (3,700 for one chain, 13,100 at batch 64), 100× or
# more above the naive sweep, and an order of magnitude below the random-number roofline; (4) chains from noise burn in within about ten
# sweeps and τ is a few sweeps; 4 colours mix about as well per sweep but give fewer effective samples
# per second; (5) with 64 hidden units
# the RBM's samples look like digits (ink fraction close to the data's, several classes), because hidden
# units are global variables that can encode shape and class: the model class, not the sampler, limited
# the Potts grid (the nearest-digit distance alone is misleading: blank images score well); (6) the 10,000× figure is
# a simulation against a particular baseline; for MNIST a sampler's energy per sweep matters only after
# the model class is good enough, and a fair comparison needs measured hardware and an efficient
# baseline. Rubric: 4 points for a results section with the student's numbers covering quality,
# inpainting, speed, hidden units and the claim; 3 if one is missing; 2 if the numbers are absent or
# the conclusions are overstated; 1 for a partial attempt.
# ### END SOLUTION

# %% [markdown]
# ## Summary
#
# - A nearest-neighbour Potts grid learns pixel frequencies and local texture; its samples are not
#   digits, and its inpainting does not complete shapes.
# - Its chains mix in a few sweeps (τ), and 2 colours are the right schedule for 4 neighbours.
# - Per sweep, the arithmetic is tiny: time and energy go to random numbers, gathers and overhead; the
#   "10,000×" claim is a simulation whose baseline matters.
# - Hidden units (an RBM) are what make samples look like digits: the model class, not the sampler,
#   was the bottleneck.
#
# **Questions to take away.**
# 1. How would you measure, rather than assume, the energy of a chain-sweep on your own machine?
# 2. What would a fair hardware comparison for MNIST generation hold fixed: the model, the sample
#    quality, or the number of sweeps?
# 3. An RBM's hidden block has 64 units and its visible block 784. What does that imbalance mean for
#    block Gibbs on parallel hardware?
