"""The names an answer cell hands to the tests come from the instructor's cell, imports excluded."""

from autograder.judge.bindings import answer_bindings


def test_functions_classes_assignments_and_add_to_class():
    found = answer_bindings(
        "import numpy as np\n%time x = 1\n@add_to_class(VAE)\ndef forward(self, x):\n    return x\n"
        "def helper():\n    pass\nclass Model:\n    pass\nbeta, (gamma, *rest) = 1, (2, 3)\nVAE.latent = 2\n"
        "for i in range(2):\n    total = i\nwith open('f') as handle:\n    pass\n"
    )
    assert found.names == ["Model", "beta", "gamma", "handle", "helper", "i", "rest", "total"]
    assert found.attrs == [("VAE", "forward"), ("VAE", "latent")]


def test_a_syntax_error_binds_nothing():
    assert answer_bindings("def broken(:\n").names == []
