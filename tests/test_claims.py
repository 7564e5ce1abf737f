"""Every number the text states about a run agrees with the executed solution (autograder/claims.py).

Each twin's claims file (labs/<assignment>/NN-name.claims.yml) is checked against solutions/: a stated
number the run no longer gives, a direction the numbers no longer show, or a claim whose text was edited
out of the notebook or handout fails here. The tests below also show that each check can fail.
"""

import re
from pathlib import Path

import nbformat
import pytest

from autograder import build, claims, config

# Assignments whose claims are not written yet, with the reason. Remove an entry when its files exist.
NOT_YET: dict[str, str] = {}


def twin_params() -> list:
    params = []
    for assignment in config.assignments():
        marks = [pytest.mark.xfail(reason=NOT_YET[assignment], strict=True)] if assignment in NOT_YET else []
        params += [pytest.param(t, id=f"{assignment}/{t.name}", marks=marks) for t in config.twins(assignment)]
    return params


@pytest.mark.parametrize("twin", twin_params())
def test_every_claim_of_the_notebook_and_its_handout_matches_the_run(twin):
    path = claims.claims_path(twin)
    assert path.exists(), f"{path.relative_to(config.REPO)} is missing: list the notebook's claims about its run"
    problems = claims.check(path)
    assert not problems, "the text and the executed solution disagree:\n" + "\n".join(problems)


def test_every_claims_file_has_a_twin():
    orphans = [p.name for p in config.LABS.glob(f"*/*{claims.SUFFIX}") if not p.with_name(p.name[: -len(claims.SUFFIX)] + ".py").exists()]
    assert not orphans


def stated_claims() -> list:
    params = []
    for path in sorted(config.LABS.glob(f"*/*{claims.SUFFIX}")):
        _, loaded = claims.load(path)
        params += [pytest.param(path, index, id=f"{path.parent.name}/{path.name}#{index + 1}")
                   for index, claim in enumerate(loaded) if claim.stated]
    return params


@pytest.mark.parametrize(("path", "index"), stated_claims())
def test_each_stated_number_fails_when_the_run_disagrees(path, index):
    """Move each stated number by three times its allowed error: the check must catch it (no claim is vacuous)."""
    definitions, loaded = claims.load(path)
    claim = loaded[index]
    run = claims.Run(path.parent.name, path.name[: -len(claims.SUFFIX)], definitions)
    name, written = next(iter(claim.stated.items()))
    wrong = claims.parse_number(written) + 3 * claims.allowed_error(written, claim, run.value(name)) + 1e-12
    moved = claims.Claim(claim.text.replace(f"{{{name}={written}}}", f"{{{name}={wrong!r}}}", 1), claim.stated | {name: repr(wrong)},
                         claim.holds, claim.tolerance, claim.rel, claim.cores, claim.where)
    problems = claims.check_claim(moved, run, {moved.where: claims.normalized(moved.literal)})
    assert any("the run gives" in p for p in problems), problems


# ---- The mechanism, on a small made-up assignment ----

TWIN = '''# %% [markdown]
# # A notebook
#
# The KL term ends around
# 13.7 nats, and the autoencoder reconstructs better.

# %%
print("KL 13.73; autoencoder 116.2, VAE 120.6")
'''


@pytest.fixture
def made_up(tmp_path: Path) -> Path:
    """labs/99-demo/01-demo.py with its executed solution; returns the claims file's path (not yet written)."""
    labs, solutions = tmp_path / "labs" / "99-demo", tmp_path / "solutions" / "99-demo"
    labs.mkdir(parents=True)
    solutions.mkdir(parents=True)
    (labs / "01-demo.py").write_text(TWIN)
    (labs / "README.md").write_text("**Time:** 10 minutes. The demo takes about 20 s on the build machine (2 cores).\n")
    cell = nbformat.v4.new_code_cell('print("...")', outputs=[nbformat.v4.new_output("stream", name="stdout", text="KL 13.73; autoencoder 116.2, VAE 120.6\n")])
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# A notebook"), cell], metadata={"build": {"seconds": 21.0, "cores": 2}})
    nbformat.write(notebook, solutions / "01-demo.ipynb")
    return labs / "01-demo.claims.yml"


VALUES = """values:
  kl: 'KL ([\\d.]+)'
  ae: 'autoencoder ([\\d.]+)'
  vae: 'VAE ([\\d.]+)'
  seconds: {build: seconds}
claims:
"""


def problems(path: Path, claims_text: str) -> list[str]:
    path.write_text(VALUES + claims_text)
    return claims.check(path, solutions=path.parent.parent.parent / "solutions")


def test_claims_that_match_the_run_pass(made_up):
    assert problems(made_up, '''  - text: "The KL term ends around {kl=13.7} nats"
  - text: "the autoencoder reconstructs better"
    holds: "ae < vae"
  - text: "about {seconds=20} s on the build machine (2 cores)"
    in: README.md
    rel: 0.5
    cores: 2
''') == []


def test_a_wrong_number_is_caught(made_up):
    found = problems(made_up, '  - text: "The KL term ends around {kl=25} nats"\n')
    assert len(found) == 2  # the text says 25 (not in the notebook) and the run gives 13.73
    assert any("the text says 25, the run gives kl = 13.73" in p for p in found)


def test_a_number_rounded_wrongly_is_caught(made_up):
    assert problems(made_up, '  - text: "ends around {kl=13.8} nats"\n    in: README.md\n')[-1].endswith("'ends around 13.8 nats'")


def test_a_wrong_direction_is_caught(made_up):
    found = problems(made_up, '  - text: "the autoencoder reconstructs better"\n    holds: "ae > vae"\n')
    assert found == ["99-demo/01-demo.py: the run does not show ae > vae (ae = 116.2, vae = 120.6): 'the autoencoder reconstructs better'"]


def test_a_false_compound_direction_shows_the_values_not_the_keywords(made_up):
    found = problems(made_up, '  - text: "the autoencoder reconstructs better"\n    holds: "ae > vae and not kl < 0"\n')
    assert found == ["99-demo/01-demo.py: the run does not show ae > vae and not kl < 0 (ae = 116.2, kl = 13.73, vae = 120.6): "
                     "'the autoencoder reconstructs better'"]


def test_a_claim_whose_text_was_edited_away_is_caught(made_up):
    found = problems(made_up, '  - text: "the KL term ends around {kl=13.7} nats per digit"\n')
    assert len(found) == 1 and "not found in 01-demo.py" in found[0]


def test_a_timing_claim_names_its_machine(made_up):
    found = problems(made_up, '  - text: "about {seconds=20} s on the build machine (2 cores)"\n    in: README.md\n    rel: 0.5\n    cores: 8\n')
    assert len(found) == 1 and "8-core machine" in found[0] and "built on 2 cores" in found[0]
    assert "the run gives seconds = 21" in problems(made_up, '  - text: "about {seconds=20} s"\n    in: README.md\n    rel: 0.01\n')[0]


def test_an_ambiguous_or_missing_value_is_reported(made_up):
    made_up.write_text('values:\n  any: \'(\\d+)\'\nclaims:\n  - text: "ends around"\n    holds: "any > 0"\n  - text: "ends around"\n    holds: "nothing > 0"\n')
    found = claims.check(made_up, solutions=made_up.parent.parent.parent / "solutions")
    assert "matches 6 times" in found[0] and "'nothing' is not defined" in found[1]


def test_a_claim_that_checks_nothing_is_refused(made_up):
    made_up.write_text('claims:\n  - text: "The KL term ends around 13.7 nats"\n')
    assert "checks nothing" in claims.check(made_up)[0]


def test_expressions_allow_arithmetic_and_comparisons_only():
    assert claims.evaluate("abs(a - b) < 0.5 and a > 0", {"a": 1.0, "b": 1.2}.get) is True
    with pytest.raises(claims.ClaimsError):
        claims.evaluate("__import__('os').getcwd()", {}.get)


@pytest.mark.parametrize(("written", "allowed"), [("13.7", 0.05), ("−0.005", 0.0005), ("4,000", 0.5), ("1.2e-13", 0.05e-13)])
def test_a_stated_number_allows_half_a_unit_of_its_last_digit(written, allowed):
    claim = claims.Claim(text="")
    assert claims.allowed_error(written, claim, 0.0) == pytest.approx(allowed)


# ---- Prose-only changes: refresh the solutions' markdown (and code comments) without executing them ----

def test_refresh_markdown_copies_prose_and_comments_keeps_outputs_and_refuses_changed_code(tmp_path):
    source, solutions = tmp_path / "source" / "99-demo", tmp_path / "solutions" / "99-demo"
    source.mkdir(parents=True)
    solutions.mkdir(parents=True)
    output = nbformat.v4.new_output("stream", name="stdout", text="KL 13.73\n")
    for name, code in (("01-prose.ipynb", "print(1)  # one"), ("02-code.ipynb", "print(2)")):
        executed = [nbformat.v4.new_markdown_cell("old prose"), nbformat.v4.new_code_cell(code, outputs=[output])]
        nbformat.write(nbformat.v4.new_notebook(cells=executed), solutions / name)
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("new prose"), nbformat.v4.new_code_cell("print(1)  # the number one")]), source / "01-prose.ipynb")
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("new prose"), nbformat.v4.new_code_cell("print(3)")]), source / "02-code.ipynb")

    refused = build.refresh_markdown("99-demo", source=tmp_path / "source", out=tmp_path / "solutions")

    assert refused == ["99-demo/02-code.ipynb"]
    refreshed = nbformat.read(solutions / "01-prose.ipynb", as_version=4)
    assert refreshed.cells[0].source == "new prose" and refreshed.cells[1].source == "print(1)  # the number one"
    assert refreshed.cells[1].outputs[0].text == "KL 13.73\n"
    assert nbformat.read(solutions / "02-code.ipynb", as_version=4).cells[0].source == "old prose"


def test_claims_files_are_yaml_with_values_and_claims_only():
    for path in config.LABS.glob(f"*/*{claims.SUFFIX}"):
        keys = set(re.findall(r"^(\w+):", path.read_text(), re.M))
        assert keys <= {"values", "claims"}, f"{path.name}: unknown top-level keys {keys - {'values', 'claims'}}"


# ---- A library fact the text states, checked against the installed libraries ----

SATURATION = re.compile(r"`1 - sigmoid\(ℓ\)` is exactly 0 once ℓ passes about ([\d.]+) in MLX ([\d.]+) \(in PyTorch about ([\d.]+)\)")
SATURATION_SCRIPT = """
import mlx.core as mx, numpy as np
grid = np.arange(15.0, 20.0, 0.01).astype(np.float32)
print(mx.__version__, grid[np.array(mx.sigmoid(mx.array(grid))) == 1.0].min())
"""


def test_lab3_says_where_float32_sigmoid_reaches_1_in_mlx_and_in_torch():
    import subprocess
    import sys

    import torch

    text = claims.twin_text(config.LABS / "03-mlx-vae-project" / "01-model-and-training.py")
    stated = SATURATION.search(text)
    assert stated, "03-mlx-vae-project/01-model-and-training.py no longer states where 1 − sigmoid(ℓ) becomes 0"
    mlx_at, version, torch_at = float(stated[1]), stated[2], float(stated[3])
    # MLX runs in its own process: importing it here would bind it to whatever BLAS this process loaded.
    result = subprocess.run([sys.executable, "-c", SATURATION_SCRIPT], capture_output=True, text=True, check=True)
    installed, measured = result.stdout.split()
    assert installed.startswith(version + "."), f"the text is about MLX {version}, MLX {installed} is installed"
    assert abs(float(measured) - mlx_at) <= 0.05, f"MLX's float32 sigmoid reaches 1 at {measured}, the text says {mlx_at}"
    grid = torch.arange(15.0, 20.0, 0.01)
    torch_measured = grid[torch.sigmoid(grid) == 1.0].min().item()
    assert abs(torch_measured - torch_at) <= 0.05, f"torch's reaches 1 at {torch_measured:.2f}, the text says {torch_at}"


def test_a_value_without_a_source_or_with_an_unknown_option_is_refused(made_up):
    made_up.write_text('values:\n  kl: {patern: "KL ([\\\\d.]+)"}\nclaims:\n  - text: "ends around {kl=13.7} nats"\n')
    assert "needs one of pattern, expr, tqdm, build" in claims.check(made_up)[0]
    made_up.write_text('values:\n  kl: \'(KL) [\\d.]+\'\nclaims:\n  - text: "ends around"\n    holds: "kl > 0"\n')
    assert "'KL', is not a number" in claims.check(made_up, solutions=made_up.parent.parent.parent / "solutions")[0]
