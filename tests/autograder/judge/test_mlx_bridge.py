"""The judge grades MLX code it cannot see: gradients through the student's calls, models trained in
place, and MLX's global random state, as if the tests ran in the student's process.

One tiny MLX notebook, graded through the real judge and sandbox: the reference must get every point,
and each wrong answer must lose exactly the clause it breaks.
"""

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from autograder import checktests, config
from autograder.grading import layout, worker

pytest.importorskip("mlx.core")

NOTEBOOK = "01-mlx.ipynb"
PROVIDED = """import numpy as np
import mlx.core as mx
import mlx.nn as nn
import mlx.optimizers as optim


class Line(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.Linear(3, 1)

    def __call__(self, x):
        return self.layer(x)
"""
SQUARE = "def scaled_square(x, w):\n    ### BEGIN SOLUTION\n    return (w * x) ** 2\n    ### END SOLUTION"
STEP = """def sgd_step(model, optimizer, x, y):
    ### BEGIN SOLUTION
    def loss(m):
        return ((m(x) - y) ** 2).mean()
    value, grads = nn.value_and_grad(model, loss)(model)
    optimizer.update(model, grads)
    mx.eval(model.parameters(), optimizer.state)
    return value.item()
    ### END SOLUTION"""
NOISE = "def noise(n):\n    ### BEGIN SOLUTION\n    return mx.random.normal((n,))\n    ### END SOLUTION"
TESTS = {
    # The judge differentiates through the student's function, with respect to both arguments.
    "square-grad": """x, w = mx.array([1.0, -2.0]), mx.array([3.0, 0.5])
gx, gw = mx.grad(lambda x, w: scaled_square(x, w).sum(), argnums=(0, 1))(x, w)
assert np.allclose(np.array(gx), 2 * np.array(w) ** 2 * np.array(x)), "d/dx"
assert np.allclose(np.array(gw), 2 * np.array(x) ** 2 * np.array(w)), "d/dw"
""",
    # A model's parameters, as the judge holds them, reach the student's code and its gradient comes back.
    "model-grad": """model = Line()
x = mx.array([[1.0, 2.0, 3.0]])
loss_and_grad = nn.value_and_grad(model, lambda m, x: scaled_square(m(x), mx.array(1.0)).sum())
value, grads = loss_and_grad(model, x)
out = np.array(model(x))
assert np.allclose(np.array(grads["layer"]["bias"]), 2 * out.sum()), "d/d bias"
""",
    # A training step in the student's process updates the judge's model and optimizer.
    "step-in-place": """model, optimizer = Line(), optim.SGD(learning_rate=0.1)
x, y = mx.array([[1.0, 0.0, 0.0]]), mx.array([[1.0]])
bias, residual = np.array(model.layer.bias), np.array(model(x) - y)
loss = sgd_step(model, optimizer, x, y)
assert np.isclose(loss, float((residual ** 2).mean())), "the loss before the step"
assert np.allclose(np.array(model.layer.bias), bias - 0.1 * 2 * residual.ravel(), atol=1e-6), "one SGD step on the judge's model"
""",
    # The student's draws come from the judge's MLX random state: the same seed gives the same numbers.
    "noise-seeded": """mx.random.seed(7)
got = np.array(noise(5))
mx.random.seed(7)
assert np.allclose(got, np.array(mx.random.normal((5,)))), "not drawn from the global MLX state"
assert not np.allclose(np.array(noise(5)), np.array(noise(5))), "two calls gave the same draws"
""",
}


def _source() -> nbformat.NotebookNode:
    def cell(text, grade_id, **flags):
        made = new_code_cell(text)
        made.metadata["nbgrader"] = {"grade_id": grade_id, "schema_version": 3, "solution": False, "grade": False,
                                     "locked": False, **flags}
        return made

    cells = [cell(PROVIDED, "setup", locked=True)]
    for grade_id, text in (("square", SQUARE), ("step", STEP), ("noise", NOISE)):
        cells.append(cell(text, grade_id, solution=True))
    cells += [cell(text, grade_id, grade=True, locked=True, points=1) for grade_id, text in TESTS.items()]
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": config.KERNEL_NAME, "display_name": "Python 3", "language": "python"}
    return notebook


def _grade(answers: dict[str, str] | None = None) -> dict[str, str]:
    source = _source()
    submitted = checktests.reference(source)
    for cell in submitted.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if answers and grade_id in answers:
            cell.source = answers[grade_id]
    assignment = layout.Assignment("00-mlx", {NOTEBOOK: nbformat.writes(source)})
    limits = layout.Limits(cell_timeout=60, notebook_timeout=240)
    job = layout.Job("student", assignment, {NOTEBOOK: nbformat.writes(submitted).encode()}, limits)
    _, result = worker.grade_task((job, NOTEBOOK))
    return {c.grade_id: c.status for c in result.cells}


def test_the_reference_gets_every_point():
    assert _grade() == dict.fromkeys(TESTS, "passed")


def test_each_wrong_answer_loses_the_clause_it_breaks():
    wrong = {
        "square": "def scaled_square(x, w):\n    return (mx.stop_gradient(w) * x) ** 2",  # no gradient to w
        "step": "def sgd_step(model, optimizer, x, y):\n    return 0.0",  # trains nothing
        "noise": "def noise(n):\n    mx.random.seed(0)\n    return mx.random.normal((n,))",  # its own seed
    }
    got = _grade(wrong)
    assert got["square-grad"] != "passed" and got["model-grad"] == "passed"
    assert got["step-in-place"] != "passed"
    assert got["noise-seeded"] != "passed"
