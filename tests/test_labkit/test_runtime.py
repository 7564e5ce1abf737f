import pytest

from labkit import add_to_class, runtime, seed_everything


@pytest.mark.parametrize(
    "env, mode",
    [({}, "full"), ({"LABKIT_MODE": "test"}, "test"), ({"NBGRADER_EXECUTION": "autograde"}, "grading"),
     ({"LABKIT_MODE": "test", "NBGRADER_EXECUTION": "validate"}, "grading")],
)
def test_mode_follows_the_environment(monkeypatch, env, mode):
    monkeypatch.delenv("LABKIT_MODE", raising=False)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert runtime.mode() == mode
    assert runtime.scaled(1000, 10) == (1000 if mode == "full" else 10)
    assert mode in runtime.describe()
    # a shortened run (Validate's) must not replace what a full run saved for the next notebooks
    assert str(runtime.outputs_folder("lab-outputs")) == ("lab-outputs" if mode == "full" else "lab-outputs-shortened")


def test_add_to_class_attaches_a_method():
    class Box:
        pass

    @add_to_class(Box)
    def twice(self, x):
        return 2 * x

    assert Box().twice(3) == 6


def test_seed_everything_rejects_negative_seeds():
    with pytest.raises(ValueError):
        seed_everything(-1)
