import re

import numpy as np
import pytest
import torch

from labkit.checks import (
    as_float,
    check_array,
    check_close,
    check_gradient_flows,
    check_statistic,
    check_tensor,
    check_unchanged,
    diagnose,
)


class AlwaysEqual:
    def __eq__(self, other):
        return True


def test_check_tensor_accepts_a_matching_tensor():
    value = torch.zeros(3, 2)
    assert check_tensor(value, "v", shape=(3, None), dtype=torch.float32).shape == (3, 2)


@pytest.mark.parametrize(
    "value, kwargs, message",
    [
        (None, {}, "return"),
        (AlwaysEqual(), {}, "torch.Tensor"),
        ([1.0, 2.0], {}, "torch.Tensor"),
        (torch.zeros(3, 2), {"shape": (3,)}, "extra dimensions"),
        (torch.zeros(3), {"shape": (3, 2)}, "too few dimensions"),
        (torch.zeros(4), {"shape": (3,)}, "shape (4,)"),
        (torch.zeros(3, dtype=torch.float64), {"dtype": torch.float32}, "dtype"),
        (torch.zeros(3, dtype=torch.int64), {}, "floating-point"),
        (torch.tensor([1.0, float("nan")]), {}, "index [1]"),
    ],
)
def test_check_tensor_rejects_with_a_diagnosis(value, kwargs, message):
    with pytest.raises(AssertionError, match=message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        check_tensor(value, "v", **kwargs)


def test_as_float_accepts_numbers_and_rejects_cheats():
    assert as_float(torch.tensor(2.5), "v") == 2.5
    assert as_float(3, "v") == 3.0
    for bad in (AlwaysEqual(), True, None, torch.zeros(2)):
        with pytest.raises(AssertionError):
            as_float(bad, "v")


def test_check_close_names_the_element_and_the_mistake():
    want = torch.tensor([1.0, 2.0, 3.0])
    with pytest.raises(AssertionError, match=r"index \[2\].*factor 1/2"):
        check_close(2 * want + torch.tensor([0.0, 0.0, 0.1]) * 0, want, "v")
    with pytest.raises(AssertionError, match="opposite sign"):
        check_close(-want, want, "v")
    with pytest.raises(AssertionError, match="same amount"):
        check_close(want + 0.5, want, "v")
    with pytest.raises(AssertionError, match="swapped"):
        check_close(want * 7 + 1, want, "v", mistakes={"arguments swapped": want * 7 + 1})
    check_close(want + 1e-7, want, "v")


def test_check_close_never_trusts_the_students_eq():
    with pytest.raises(AssertionError):
        check_close(AlwaysEqual(), torch.tensor(1.0), "v")


def test_diagnose_returns_none_for_an_unrelated_error():
    assert diagnose(torch.tensor([1.0, 5.0]), torch.tensor([2.0, 3.0])) is None


def test_check_statistic_uses_standard_errors():
    check_statistic(1.04, 1.0, std_error=0.01, name="mean")
    with pytest.raises(AssertionError, match="6.0 standard errors"):
        check_statistic(1.06, 1.0, std_error=0.01, name="mean")


def test_check_gradient_flows_detects_detach():
    mu = torch.zeros(3, requires_grad=True)
    check_gradient_flows(mu * 2, {"mu": mu}, "z")
    with pytest.raises(AssertionError, match="does not require grad"):
        check_gradient_flows((mu * 2).detach(), {"mu": mu}, "z")
    other = torch.zeros(3, requires_grad=True)
    with pytest.raises(AssertionError, match="No gradient reaches other"):
        check_gradient_flows(mu * 2, {"mu": mu, "other": other}, "z")


def test_check_unchanged_detects_in_place_edits():
    before = torch.ones(2)
    check_unchanged(before, torch.ones(2), "mu")
    with pytest.raises(AssertionError, match="in place"):
        check_unchanged(before, torch.ones(2) * 2, "mu")


def test_check_array_accepts_numpy_mlx_and_jax_arrays():
    import jax.numpy as jnp
    import mlx.core as mx

    for value in (np.zeros((2, 3), np.float32), mx.zeros((2, 3)), jnp.zeros((2, 3))):
        array = check_array(value, "f(x)", shape=(2, None), dtype=np.float32)
        assert isinstance(array, np.ndarray) and array.shape == (2, 3)
        check_close(value, np.zeros((2, 3)), "f(x)")
        assert as_float(value[0, 0], "f(x)[0, 0]") == 0.0


@pytest.mark.parametrize(
    "value, kwargs, message",
    [
        (None, {}, "returned None"),
        ([1.0, 2.0], {}, "should return an array"),
        (torch.zeros(2), {}, "got a torch.Tensor"),
        (np.zeros((2, 3)), {"shape": (2,)}, "extra dimensions"),
        (np.zeros(3, np.int64), {}, "expected a floating-point array"),
        (np.zeros(3, np.int64), {"dtype": np.uint8}, "expected uint8"),
        (np.array([0.0, np.inf]), {}, "not finite at index [1]"),
    ],
)
def test_check_array_rejects_with_a_diagnosis(value, kwargs, message):
    with pytest.raises(AssertionError, match=re.escape(message)):
        check_array(value, "f(x)", **kwargs)


def test_check_close_diagnoses_array_mistakes():
    import mlx.core as mx

    with pytest.raises(AssertionError, match="opposite sign"):
        check_close(mx.array([-1.0, -2.0]), np.array([1.0, 2.0]), "g(x)")
    with pytest.raises(AssertionError, match="transposed"):
        check_close(np.eye(2)[::-1] * 2, np.eye(2), "W", mistakes={"transposed": np.eye(2)[::-1] * 2})


def _miss_message(got, want, **kwargs) -> str:
    with pytest.raises(AssertionError) as failure:
        check_close(got, want, "v", **kwargs)
    return str(failure.value)


def test_diagnose_gives_no_factor_hint_for_one_number():
    # One ratio says nothing about its cause: not "1.2 times", not "a missing constant factor".
    for got, want in ((1.2, 1.0), (2.0, 1.0), (-3.0, 3.0), (1.0004, 1.0)):
        assert diagnose(torch.tensor([got]), torch.tensor([want])) is None
        assert diagnose(torch.tensor(got), torch.tensor(want)) is None
        assert "Likely mistake" not in _miss_message(torch.tensor(got), torch.tensor(want), rtol=1e-6, atol=0.0)


def test_diagnose_says_nothing_for_ratios_near_one():
    want = torch.tensor([1.0, 2.0, 3.0])
    assert diagnose(want * (1 + 3e-4), want) is None
    message = _miss_message(want * (1 + 3e-4), want, rtol=1e-6, atol=0.0)
    assert "times the expected value" not in message and "Likely mistake" not in message


def test_diagnose_names_a_common_factor_without_stating_it():
    want = torch.tensor([1.0, 2.0, 3.0])
    hint = diagnose(3.7 * want, want)
    assert hint is not None and "same factor" in hint and "3.7" not in hint
    assert "twice" in diagnose(2 * want, want)
    assert "opposite sign" in diagnose(-want, want)


def test_diagnose_names_a_common_offset_without_stating_it():
    want = torch.tensor([1.0, 2.0, 3.0])
    hint = diagnose(want + 0.75, want)
    assert hint is not None and "same amount" in hint and "0.75" not in hint


def test_a_miss_never_states_the_expected_value():
    want = torch.tensor([1.2345, 2.5])
    got = torch.tensor([1.2345, 7.25])
    message = _miss_message(got, want)
    for revealing in ("2.5", "4.75", "7.25"):
        assert revealing not in message
    assert "index [1]" in message and "too high" in message and "1 of 2" in message


def test_a_miss_says_the_direction_and_the_sign():
    assert "too low, with the wrong sign" in _miss_message(torch.tensor([-1.0, 5.0]), torch.tensor([1.0, 5.0]))
    assert "NaN" in _miss_message(torch.tensor([float("nan")]), torch.tensor([1.0]))
