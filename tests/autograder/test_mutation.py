"""autograder.mutation: each operator on small snippets, the discarding rules, stable ids and the sample."""

import ast
import textwrap

import pytest

from autograder import checktests, config, mutants, mutation, notebooks


def cell(body: str, params: str = "x, y", before: str = "") -> str:
    """An answer cell: def f(params) with ``body`` as its solution region, ``before`` above the region."""
    lines = ["def f(" + params + "):", '    """Docstring."""']
    lines += [textwrap.indent(before, "    ")] if before else []
    lines += ["    ### BEGIN SOLUTION", textwrap.indent(textwrap.dedent(body).strip("\n"), "    "), "    ### END SOLUTION"]
    return "\n".join(lines) + "\n"


def changes(body: str, operator: str, framework: str = "torch", **kwargs) -> set[tuple[str, str]]:
    found = mutation.generate("f", cell(body, **kwargs), framework)
    return {(m.before, m.after) for m in found if m.operator == operator}


def test_arithmetic_swaps_each_operator_once():
    assert changes("return x + y * 2", "arithmetic") == {("x + y * 2", "x - y * 2"), ("y * 2", "y / 2")}
    assert changes("return x ** 2", "arithmetic") == {("x ** 2", "x * 2")}
    assert changes("x += y\nreturn x", "arithmetic") == {("x += y", "x -= y")}


def test_comparison_gets_its_boundary_twin_and_its_opposite():
    assert changes("return x < y", "comparison") == {("x < y", "x <= y"), ("x < y", "x > y")}
    assert changes("return x == y", "comparison") == {("x == y", "x != y")}


def test_sign_drops_a_minus_reverses_a_difference_and_negates_a_return():
    assert ("-x", "x") in changes("return -x", "sign")
    assert changes("return x - y", "sign") == {("x - y", "y - x"), ("return x - y", "return -(x - y)")}


def test_constant_doubles_halves_and_drops_a_factor():
    assert changes("return 0.5 * x", "constant") == {("0.5", "1.0"), ("0.5", "0.25"), ("0.5 * x", "x")}
    assert changes("return x[1]", "constant") == {("1", "2"), ("1", "0")}
    assert changes("return x / 2.0", "constant") >= {("x / 2.0", "x")}


def test_constant_leaves_axes_to_the_axis_operator():
    assert changes("return x.sum(dim=1)", "constant") == set()
    assert changes("return x.mean(0)", "constant") == set()


def test_reduction_swaps_sum_and_mean_as_method_and_function():
    assert changes("return x.sum(dim=0)", "reduction") == {("x.sum(dim=0)", "x.mean(dim=0)")}
    assert changes("return torch.mean(x)", "reduction") == {("torch.mean(x)", "torch.sum(x)")}
    assert changes("return np.sum(x, axis=1)", "reduction", "numpy") == {("np.sum(x, axis=1)", "np.mean(x, axis=1)")}


def test_axis_is_dropped_or_changed():
    assert changes("return x.sum(dim=-1)", "axis") == {("x.sum(dim=-1)", "x.sum()"), ("x.sum(dim=-1)", "x.sum(dim=0)")}
    assert changes("return x.mean(0)", "axis") == {("x.mean(0)", "x.mean()"), ("x.mean(0)", "x.mean(1)")}
    assert ("x.sum(axis=(-2, -1))", "x.sum(axis=-1)") in changes("return x.sum(axis=(-2, -1))", "axis", "numpy")


def test_drop_term_removes_one_term_or_an_accumulating_statement():
    assert changes("return x - y", "drop-term") == {("x - y", "x"), ("x - y", "-y")}
    assert ("x += y", "pass") in changes("x += y\nreturn x", "drop-term")


def test_exp_and_log_swap():
    assert changes("return torch.exp(x)", "exp-log") == {("torch.exp(x)", "torch.log(x)")}
    assert changes("return x.log()", "exp-log") == {("x.log()", "x.exp()")}


def test_sigma_confuses_the_standard_deviation_with_the_variance():
    assert changes("return torch.exp(0.5 * x)", "sigma") == {("torch.exp(0.5 * x)", "torch.exp(x)")}
    assert changes("return x.exp()", "sigma") == {("x.exp()", "(0.5 * x).exp()")}
    assert changes("return torch.sqrt(x)", "sigma") == {("torch.sqrt(x)", "x")}
    assert changes("return x ** 2", "sigma") == {("x ** 2", "x")}
    assert changes("return x.pow(2)", "sigma") == {("x.pow(2)", "x")}


def test_swap_args_swaps_the_first_two_positional_arguments_only_when_they_differ():
    assert changes("return g(x, y, 3)", "swap-args") == {("g(x, y, 3)", "g(y, x, 3)")}
    assert changes("return g(x, x)", "swap-args") == set()


def test_detach_uses_each_frameworks_stop_gradient():
    assert changes("z = x * y\nreturn z", "detach") == {
        ("z = x * y", "z = (x * y).detach()"), ("return z", "return z.detach()"),
    }
    assert ("return x * y", "return mx.stop_gradient(x * y)") in changes("return x * y", "detach", "mlx")
    assert ("return x * y", "return jax.lax.stop_gradient(x * y)") in changes("return x * y", "detach", "jax")
    assert changes("return x * y", "detach", "numpy") == set()


def test_detach_cuts_each_returned_element_and_leaves_noise_alone():
    assert changes("return x * y, x", "detach") == {
        ("return (x * y, x)", "return ((x * y).detach(), x)"), ("return (x * y, x)", "return (x * y, x.detach())"),
    }
    assert changes("eps = torch.randn_like(x)\nreturn x", "detach") == {("return x", "return x.detach()")}


def test_reseed_goes_first_in_the_body_of_a_function_that_draws_randomness():
    found = [m for m in mutation.generate("f", cell("return x + torch.randn_like(x)"), "torch") if m.operator == "reseed"]
    assert [m.after for m in found] == ["torch.manual_seed(0)"]
    body = ast.parse(found[0].code).body[0].body
    assert ast.unparse(body[1]) == "torch.manual_seed(0)"  # after the docstring
    assert changes("return x + y", "reseed") == set()


def test_reseed_replaces_a_generator_or_a_seed_argument():
    assert changes("return rng.permutation(x)", "reseed", "numpy", params="x, rng") == {("", "rng = np.random.default_rng(0)")}
    assert changes("return g(x, seed)", "reseed", "numpy", params="x, seed") == {("", "seed = 0")}
    assert changes("return np.random.normal(size=x)", "reseed", "numpy") == {("", "np.random.seed(0)")}
    assert changes("return np.random.default_rng(1).normal(size=x)", "reseed", "numpy") == set()
    assert changes("return mx.random.normal(x.shape)", "reseed", "mlx") == {("", "mx.random.seed(0)")}


def test_early_return_returns_each_input_but_self():
    assert changes("return x + y", "early-return", params="self, x, y") == {("", "return x"), ("", "return y")}


def test_only_the_solution_region_is_mutated():
    found = mutation.generate("f", cell("return x", before="y = y + 1"), "numpy")
    assert {m.operator for m in found} == {"sign", "early-return"}


def test_a_mutant_that_does_not_compile_or_equals_the_reference_is_discarded(monkeypatch):
    def broken(node, ctx):
        if isinstance(node, ast.Name) and node.id == "x":
            yield ast.Name("1x")  # unparses to code that does not parse
            yield ast.Name("x")  # the reference again

    monkeypatch.setattr(mutation, "OPERATORS", {"broken": broken})
    assert mutation.generate("f", cell("return x"), "numpy") == []


def test_mutants_are_distinct_and_never_the_reference():
    source = cell("return torch.exp(0.5 * x) + y")
    found = mutation.generate("f", source, "torch")
    dumps = [ast.dump(ast.parse(m.code)) for m in found]
    assert len(set(dumps)) == len(dumps)
    assert ast.dump(ast.parse(notebooks.strip_solution_markers(source))) not in dumps


def test_ids_are_unique_and_survive_an_edit_outside_the_region():
    body = "a = x[:, None] + x[:, None]\nreturn a"
    plain = {m.id: m.after for m in mutation.generate("f", cell(body), "numpy")}
    edited = {m.id: m.after for m in mutation.generate("f", cell(body, before="# a comment\nz = 1"), "numpy")}
    assert len(plain) == len(mutation.generate("f", cell(body), "numpy"))
    assert plain == edited
    assert all(i.count(":") == 2 for i in plain if "#" not in i)


def test_a_cell_without_region_or_that_does_not_parse_has_no_mutants():
    assert mutation.generate("f", "def f(x):\n    return x + 1\n", "numpy") == []
    assert mutation.generate("f", "%matplotlib inline\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n", "numpy") == []


def test_the_sample_is_fixed_bounded_and_spread_over_the_operators():
    found = mutation.generate("f", cell("s = torch.exp(0.5 * x).sum(dim=-1) - y ** 2\nreturn s < y"), "torch")
    chosen = mutation.sample(found, 8, "seed")
    assert len(chosen) == 8 and chosen == mutation.sample(found, 8, "seed")
    assert len({m.operator for m in chosen}) == 8
    assert mutation.sample(found, None, "seed") == found
    assert [m.id for m in chosen] == [m.id for m in found if m in chosen]  # in generation order


@pytest.mark.parametrize("framework, region", [
    ("mlx", "return mx.exp(x)"), ("jax", "return jnp.exp(x)"), ("torch", "return x.exp()"), ("numpy", "return np.exp(x)"),
])
def test_framework_is_read_from_the_region_and_the_imports(framework, region):
    assert mutation.framework_of(region, {"torch"} if framework == "torch" else {"jax", "mlx"} - {framework}) == framework


NOTEBOOKS = [(a, p.name) for a in config.assignments() for p in sorted((config.SOURCE / a).glob("*.ipynb"))]


@pytest.mark.parametrize("assignment, name", NOTEBOOKS)
def test_every_graded_answer_of_the_course_has_compiling_mutants(assignment, name):
    source = mutants.load_source(assignment, name)
    found, every = checktests.generated_mutants(source, name, None)
    assert set(every) == set(checktests.graded_answers(source))
    assert all(every.values()), every
    assert [m.id for m in found] == [i for ids in every.values() for i in ids]
    for mutant in found:
        compile(mutant.code, mutant.id, "exec")
    assert len({(m.cell, m.id) for m in found}) == len(found)


def test_region_lines_skip_the_markers():
    source = "a\n### BEGIN SOLUTION\nb\nc\n### END SOLUTION\nd\n"
    assert mutation.solution_lines(source) == {2, 3}


@pytest.mark.parametrize("entry", ["- mutant: sign:L1:00000000", "- reason: why", "- mutant: sign:L1:00000000\n      reason: ''"])
def test_an_equivalent_entry_without_its_id_or_reason_is_refused_by_name(tmp_path, entry):
    catalog = tmp_path / "01-x.mutants.yml"
    catalog.write_text(f"some-cell:\n  equivalent:\n    {entry}\n")
    with pytest.raises(mutants.CatalogError, match="01-x.mutants.yml: some-cell: every equivalent mutant needs"):
        mutants.load_equivalents(catalog)


def test_equivalent_entries_are_read_by_cell_and_id(tmp_path):
    catalog = tmp_path / "01-x.mutants.yml"
    catalog.write_text("a:\n  wrong: []\n  equivalent:\n    - mutant: sign:L1:0a0a0a0a\n      reason: the square\nb:\n  wrong: []\n")
    assert mutants.load_equivalents(catalog) == {"a": {"sign:L1:0a0a0a0a": "the square"}}
    assert mutants.load_catalog(catalog) == []
    assert mutants.load_equivalents(tmp_path / "missing.mutants.yml") == {}
