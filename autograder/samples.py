"""The bundled sample submissions: the reference solution, an untouched release, typical mistakes."""

from pathlib import Path

import nbformat

from autograder import config, mutants, notebooks

STUDENTS = ("reference", "untouched", "mistakes")


def first_mistakes(assignment: str, name: str) -> list[mutants.Variant]:
    """One recorded wrong implementation per answer cell: the first one in the catalog."""
    chosen: dict[str, mutants.Variant] = {}
    for variant in mutants.load_catalog(mutants.catalog_path(assignment, name)):
        if not variant.correct:
            chosen.setdefault(variant.cell, variant)
    return list(chosen.values())


def make_submissions(assignment: str, release: Path, submitted: Path) -> None:
    """Write submitted/<student>/<assignment>/*.ipynb for the three sample students."""
    for release_path in sorted(release.glob("*.ipynb")):
        released = nbformat.read(release_path, as_version=4)
        source = nbformat.read(config.SOURCE / assignment / release_path.name, as_version=4)
        reference = notebooks.reference_submission(source, released)
        mistaken = reference
        for variant in first_mistakes(assignment, release_path.name):
            mistaken = notebooks.replace_cell(mistaken, variant.cell, variant.code)
        for student, notebook in zip(STUDENTS, (reference, released, mistaken)):
            target = submitted / student / assignment / release_path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(notebook, target)
