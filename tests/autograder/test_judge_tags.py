"""A provided cell tagged ``demo`` is skipped by the judge, so it must define nothing a later test reads."""

import ast

import nbformat
import pytest

from autograder import config


def _bound(source: str) -> set[str]:
    tree = ast.parse("\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
    return names


def _read(source: str) -> set[str]:
    tree = ast.parse("\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()))
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}


@pytest.mark.parametrize("path", sorted(config.SOURCE.glob("*/*.ipynb")), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_demo_cells_define_nothing_a_later_test_reads(path):
    cells = nbformat.read(path, as_version=4).cells
    for index, cell in enumerate(cells):
        if cell.cell_type != "code" or "demo" not in cell.metadata.get("tags", []):
            continue
        later_tests = [c for c in cells[index + 1:] if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")]
        used = set().union(*(_read(c.source) for c in later_tests)) if later_tests else set()
        assert not (_bound(cell.source) & used), (index, _bound(cell.source) & used)
