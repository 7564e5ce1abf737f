"""A student's session in JupyterLab 4, in a real browser (Debian's chromium driven by Playwright).

One release notebook is opened and run, its visible tests must report the unfinished TODOs, its
ipywidgets control must render and respond, and nbgrader's Validate button must show its result.
A notebook of each other lab (Lab 2's PyTorch VAE, the MLX lab, the THRML lab) is run whole too: in the notebook JupyterLab
saves, the only errors are the TODO stubs' NotImplementedError, and their figures render.
Screenshots of each step are saved to build/browser-test/.
"""

import time
from pathlib import Path

import nbformat
import pytest

from autograder import config

pytestmark = pytest.mark.slow

TIMEOUT_MS = config.BROWSER_TIMEOUT_S * 1000
# True once the kernel is idle and no cell is queued or running ("[*]").
KERNEL_IDLE = """() => {
    const indicator = document.querySelector('.jp-NotebookPanel .jp-Notebook-ExecutionIndicator');
    const busy = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].some(p => p.textContent.includes('*'));
    return indicator !== null && indicator.getAttribute('data-status') === 'idle' && !busy;
}"""


def visible_test_positions(notebook: Path) -> list[int]:
    """Positions, among the code cells of ``notebook``, of the visible test cells (grade_id *-visible)."""
    code_cells = [c for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code"]
    return [
        i for i, cell in enumerate(code_cells)
        if cell.metadata.get("nbgrader", {}).get("grade_id", "").endswith("-visible")
    ]


def run_from_menu(page, item: str) -> None:
    """Click Run → ``item`` in JupyterLab's menu bar, then wait for the kernel to finish."""
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-item:visible .lm-Menu-itemLabel", has_text=item).first.click()
    page.wait_for_function(KERNEL_IDLE, timeout=TIMEOUT_MS)


def run_every_cell(page, code_cells) -> None:
    """Run All Cells, and after each error (a failing visible test stops the run) carry on below it.

    A student working through the notebook sees each unfinished TODO's visible test fail in turn; the
    kernel aborts the cells queued after an error, so they are run again from the first one skipped.
    """
    run_from_menu(page, "Run All Cells")
    for _ in range(code_cells.count()):
        prompts = [code_cells.nth(i).locator(".jp-InputPrompt").text_content().strip() for i in range(code_cells.count())]
        never_run = [i for i, prompt in enumerate(prompts) if prompt in ("[ ]:", "")]
        if not never_run:
            return
        dialog = page.locator(".jp-Dialog")
        if dialog.count():  # a modal (a kernel that failed to start, say) would swallow every click below
            raise AssertionError(f"JupyterLab shows a dialog: {dialog.first.inner_text()[:500]!r}")
        code_cells.nth(never_run[0]).locator(".jp-InputPrompt").click()
        run_from_menu(page, "Run Selected Cell and All Below")
    raise AssertionError("some cells never ran")


def test_a_student_runs_and_validates_a_release_notebook(lab_server, browser, artifacts: Path, capsys):
    notebook = "/".join(config.BROWSER_NOTEBOOK)
    page = browser.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(lab_server.lab_url(notebook))
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-CodeCell")
    page.wait_for_function(KERNEL_IDLE, timeout=TIMEOUT_MS)  # the kernel has started
    page.screenshot(path=artifacts / "1-opened.png")

    code_cells = page.locator(".jp-NotebookPanel .jp-Notebook .jp-CodeCell")
    run_every_cell(page, code_cells)

    # Every visible test reports its TODO as unfinished: the stub raises NotImplementedError.
    positions = visible_test_positions(lab_server.root / notebook)
    assert positions, f"{notebook} has no visible test cells"
    for position in positions:
        output = code_cells.nth(position).locator(".jp-OutputArea").text_content()
        assert "NotImplementedError" in output, f"visible test cell {position} did not report the TODO: {output[:500]}"
    first_failure = code_cells.nth(positions[0])
    first_failure.scroll_into_view_if_needed()
    page.screenshot(path=artifacts / "2-visible-test-reports-todo.png")

    # The ipywidgets control renders, and moving its slider redraws its figure.
    slider = page.locator(".jp-OutputArea .widget-slider").first
    slider.scroll_into_view_if_needed()
    widget_cell = page.locator(".jp-CodeCell", has=slider).first
    figure = widget_cell.locator(".widget-output img").first
    readout = slider.locator(".widget-readout")
    before_value, before_figure = readout.text_content(), figure.get_attribute("src")
    page.screenshot(path=artifacts / "3-widget-before.png")
    slider.locator(".noUi-handle").first.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "([cell, src]) => { const img = cell.querySelector('.widget-output img'); return img && img.src !== src; }",
        arg=[widget_cell.element_handle(), before_figure],
        timeout=TIMEOUT_MS,
    )
    assert readout.text_content() != before_value, "the slider's value did not change"
    page.screenshot(path=artifacts / "4-widget-after.png")

    # nbgrader's Validate (toolbar button of @jupyter/nbgrader) runs the notebook as the grader would.
    page.locator(".jp-NotebookPanel-toolbar .validate-button").click()
    dialog = page.locator(".jp-Dialog", has_text="Validation Results")
    dialog.wait_for(timeout=TIMEOUT_MS)
    result = dialog.text_content()
    page.screenshot(path=artifacts / "5-validate-result.png")
    # The unfinished TODOs fail validation, with the stub's error shown to the student.
    assert dialog.locator(".validation-failed").count() == 1, result[:1000]
    assert "The following cell failed" in result and "NotImplementedError" in result, result[:1000]
    dialog.get_by_role("button", name="Ok").click()
    page.close()

    with capsys.disabled():
        print(f"\nbrowser test screenshots: {artifacts}")


def saved_notebook(page, path: Path) -> nbformat.NotebookNode:
    """Save the open notebook with JupyterLab's Ctrl+S and read what it wrote (the release file has no outputs)."""
    page.locator(".jp-NotebookPanel .jp-Notebook").first.click()
    page.keyboard.press("Control+s")
    deadline = time.monotonic() + config.BROWSER_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            saved = nbformat.read(path, as_version=4)
        except Exception:  # noqa: BLE001 — caught mid-write; read again
            saved = None
        if saved is not None and any(cell.get("outputs") for cell in saved.cells if cell.cell_type == "code"):
            return saved
        time.sleep(0.5)
    raise AssertionError(f"JupyterLab did not save {path.name} with outputs within {config.BROWSER_TIMEOUT_S} s")


@pytest.mark.parametrize("assignment, notebook", config.BROWSER_LAB_NOTEBOOKS, ids=lambda part: part.split("-")[0])
def test_a_release_notebook_of_each_other_lab_runs_in_jupyterlab(lab_server, browser, artifacts: Path, assignment, notebook):
    path = f"{assignment}/{notebook}"
    page = browser.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(lab_server.lab_url(path))
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-CodeCell")
    page.wait_for_function(KERNEL_IDLE, timeout=TIMEOUT_MS)
    code_cells = page.locator(".jp-NotebookPanel .jp-Notebook .jp-CodeCell")
    run_every_cell(page, code_cells)
    page.screenshot(path=artifacts / f"{assignment}-run.png", full_page=True)

    saved = saved_notebook(page, lab_server.root / path)
    errors = {
        cell.metadata.get("nbgrader", {}).get("grade_id") or cell.get("id"): output.ename
        for cell in saved.cells if cell.cell_type == "code"
        for output in cell.get("outputs", []) if output.output_type == "error"
    }
    assert errors, f"{path}: no TODO stub reported NotImplementedError"
    assert set(errors.values()) == {"NotImplementedError"}, f"{path}: unintended errors {errors}"
    assert page.locator(".jp-OutputArea-output img").count() > 0, f"{path}: no figure rendered"
    page.close()
