"""One mistake, one penalty (issue 14): block_gibbs_sweep's tests do not fail again for a wrong conditional_logits.

block_gibbs_sweep takes its conditional logits from a ``logits`` argument (by default the student's
conditional_logits); its visible test passes logits from exact enumeration and its hidden test a
reference implementation. Here the two test cells of notebook 4.2 run, in one namespace, after the
reference sweep on a conditional_logits that is wrong (transposed couplings) or still a stub: both
must pass. A sweep that is itself wrong must still fail both, so the check cannot pass vacuously.
"""

import contextlib
import io
import os

import pytest

from autograder import config, twins

TWIN = config.REPO / "labs" / "04-thrml-ebm" / "02-samplers.py"

TRANSPOSED_LOGITS = '''
def conditional_logits(x, params):
    b, W_h, W_v = (np.asarray(p, dtype=np.float64) for p in params)
    x = np.asarray(x).astype(np.intp)
    logits = np.broadcast_to(b, x.shape + b.shape[-1:]).copy()
    logits[..., :, 1:, :] += W_h.T[x[..., :, :-1], :]
    logits[..., :, :-1, :] += W_h[x[..., :, 1:], :]
    logits[..., 1:, :, :] += W_v.T[x[..., :-1, :], :]
    logits[..., :-1, :, :] += W_v[x[..., 1:, :], :]
    return logits
'''
STUB_LOGITS = '''
def conditional_logits(x, params):
    raise NotImplementedError
'''
SWEEP = '''
def block_gibbs_sweep(x, params, colours, u, logits=conditional_logits):
    x = np.array(x, dtype=np.uint8)
    for c in range(int(np.max(colours)) + 1):
        new = sample_categorical(logits(x, params), u)
        x = np.where(colours == c, new, x).astype(np.uint8)
    return x
'''
STALE_SWEEP = '''
def block_gibbs_sweep(x, params, colours, u, logits=conditional_logits):
    return sample_categorical(logits(np.asarray(x, dtype=np.uint8), params), u).astype(np.uint8)
'''


def _grade_id(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


@pytest.fixture(scope="module")
def notebook_state():
    """The namespace after the provided cells before block_gibbs_sweep, and its two test cells' sources."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    cells = [c for c in twins.read_twin(TWIN).cells if c.cell_type == "code"]
    namespace = {"__name__": "__main__"}
    for cell in cells:
        gid = _grade_id(cell) or ""
        if gid == "block-gibbs-sweep":
            break
        if not gid.endswith(("-visible", "-hidden")):  # provided cells and earlier answers, not their tests
            with contextlib.redirect_stdout(io.StringIO()):
                exec(cell.source, namespace)
    tests = {_grade_id(c): c.source for c in cells if _grade_id(c) in ("block-gibbs-sweep-visible", "block-gibbs-sweep-hidden")}
    return namespace, tests


def _passes(namespace, answer, test_source) -> bool:
    env = dict(namespace)
    exec(answer, env)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            exec(test_source, env)
    except (AssertionError, NotImplementedError, ValueError, TypeError):
        return False
    return True


@pytest.mark.parametrize("which", ["block-gibbs-sweep-visible", "block-gibbs-sweep-hidden"])
@pytest.mark.parametrize("logits", [TRANSPOSED_LOGITS, STUB_LOGITS], ids=["transposed", "stub"])
def test_a_right_sweep_passes_whatever_conditional_logits_does(notebook_state, which, logits):
    namespace, tests = notebook_state
    assert _passes(namespace, logits + SWEEP, tests[which])


@pytest.mark.parametrize("which", ["block-gibbs-sweep-visible", "block-gibbs-sweep-hidden"])
def test_a_wrong_sweep_still_fails(notebook_state, which):
    namespace, tests = notebook_state
    assert not _passes(namespace, TRANSPOSED_LOGITS + STALE_SWEEP, tests[which])
