"""On a real lab notebook: a wrong answer plus a trick scores exactly what the wrong answer scores alone.

01-foundations/02-kl-divergence, with ``standard_normal_kl`` averaging over the latent dimensions
instead of summing. Each trick rebinds, inside the student's process, something the tests rely on:
the comparison helpers, torch's comparisons, or the reference the hidden test computes its expected
value with (``torch.distributions.kl_divergence``). Under the judge none of it reaches the tests.
"""

import nbformat
import pytest

from autograder import checktests, config, release
from autograder.grading import layout, pipeline

ASSIGNMENT, NOTEBOOK, ANSWER = "01-foundations", "02-kl-divergence.ipynb", "standard-normal-kl"
WRONG = """@add_to_class(KLDivergenceBuilder)
def standard_normal_kl(self, mu, logvar):
    return 0.5 * (mu**2 + logvar.exp() - 1.0 - logvar).mean(dim=-1)
"""
TRICKS = {
    "rebinds-reference": """import torch.distributions as _d
_fake = lambda p, q: 0.5 * (p.loc**2 + p.scale**2 - 1.0 - 2 * p.scale.log()) / p.loc.shape[-1]
_d.kl_divergence = _d.kl.kl_divergence = _fake
globals()["kl_divergence"] = _fake
""",
    "rebinds-checks": """import sys
import labkit.checks as _checks
for _name in ("check_close", "check_tensor", "check_statistic", "check_gradient_flows", "check_unchanged"):
    setattr(_checks, _name, lambda *a, **k: a[0] if a else None)
    globals()[_name] = getattr(_checks, _name)
sys.modules["labkit.checks"] = _checks
""",
    "rebinds-torch-comparisons": """import torch
torch.allclose = lambda *a, **k: True
torch.isclose = lambda a, b, *r, **k: torch.ones_like(torch.as_tensor(a), dtype=torch.bool)
torch.Tensor.__eq__ = lambda self, other: True
""",
    "settrace-skips-assertions": """import sys
def _tracer(frame, event, arg):
    if event == "exception" and arg[0] is AssertionError:
        frame.f_locals.clear()
    return _tracer
sys.settrace(_tracer)
""",
    "magic-and-hooks": """%time _warm = 1
get_ipython().events.register("post_run_cell", lambda result: setattr(result, "error_in_exec", None))
""",
}


def _submission(answer: str) -> bytes:
    source = nbformat.read(config.SOURCE / ASSIGNMENT / NOTEBOOK, as_version=4)
    notebook = checktests.reference(source)
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == ANSWER:
            cell.source = answer
    return nbformat.writes(notebook).encode()


@pytest.mark.slow
def test_tricks_on_a_lab_notebook_score_what_the_wrong_answer_scores(tmp_path):
    course = release.make_course(tmp_path / "course", [ASSIGNMENT])
    students = {"wrong": WRONG, **{name: code + "\n" + WRONG for name, code in TRICKS.items()}}
    for student, answer in students.items():
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        (folder / NOTEBOOK).write_bytes(_submission(answer))
    run = pipeline.Run(ASSIGNMENT, course, course / "submitted", tmp_path / "out", layout.Limits(), workers=2)
    results = {r.student: r for r in pipeline.grade(run, progress=False)}
    scores = {s: {c.grade_id: c.points for n in r.notebooks if n.name == NOTEBOOK for c in n.cells} for s, r in results.items()}
    wrong = scores["wrong"]
    assert wrong[f"{ANSWER}-hidden"] == 0, "the wrong answer itself must lose its hidden test's points"
    for trick in TRICKS:
        assert scores[trick] == wrong, (trick, {g: (scores[trick][g], wrong[g]) for g in wrong if scores[trick][g] != wrong[g]})
