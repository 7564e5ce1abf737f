"""The self-study site: every executed solution notebook as a static HTML page, and an index.

    python -m autograder.site [--out build/site]

Layout of the site (self-contained: copy the folder anywhere and open index.html):

    index.html                              the labs in course order: objectives, time, notebooks
    <assignment>/<NN-name>.html             one executed solution notebook, figures embedded
    release/<assignment>/<NN-name>.ipynb    the student notebook each page links back to

Pages carry their CSS and figures inline. Formulas are typeset by MathJax from a CDN when the reader
is online; offline they stay readable as their LaTeX source.
"""

import argparse
import html
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter
from nbconvert.filters import markdown2html

from autograder import config

SECTION = re.compile(r"^## (?P<name>.+?)\s*$(?P<body>.*?)(?=^## |\Z)", re.M | re.S)
TIME = re.compile(r"\*\*Time:\*\*\s*(?P<time>[^·\n]+)")
TITLE = re.compile(r"^# (?P<title>.+?)\s*$", re.M)
BODY_TAG = re.compile(r"<body[^>]*>")

INDEX_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }
body { line-height: 1.5; }
h1 { font-size: 1.8rem; } h2 { margin-top: 2.5rem; border-bottom: 1px solid #ddd; }
.time { color: #555; } table { border-collapse: collapse; } td { padding: 0.2rem 1rem 0.2rem 0; }
"""
# The bar above each notebook page; the notebook keeps nbconvert's own styles.
NAV_STYLE = """
.site-nav { font-family: system-ui, sans-serif; padding: 0.6rem 1rem; background: #f3f3f3; border-bottom: 1px solid #ddd; }
.site-nav a { color: #0645ad; text-decoration: underline; }
"""


class SiteError(RuntimeError):
    """A lab the site cannot describe: a handout without objectives or time, a missing release notebook."""


@dataclass
class Handout:
    """What the index shows of one lab, read from its handout labs/<assignment>/README.md.

    Attributes:
        title: the handout's first-level heading.
        time: the text after "**Time:**", e.g. "90 minutes in class, plus reading".
        objectives_html: the "## Objectives" section, rendered from markdown.
    """

    title: str
    time: str
    objectives_html: str


@dataclass
class Page:
    """One notebook of the site.

    Attributes:
        assignment: the assignment id, e.g. 01-foundations.
        solution: the executed solution notebook, solutions/<assignment>/<NN-name>.ipynb.
        title: the notebook's first heading.
    """

    assignment: str
    solution: Path
    title: str

    @property
    def href(self) -> str:
        """The page's path, relative to the site root."""
        return f"{self.assignment}/{self.solution.stem}.html"

    @property
    def release_href(self) -> str:
        """The release notebook's path, relative to the site root."""
        return f"release/{self.assignment}/{self.solution.name}"


def read_handout(assignment: str) -> Handout:
    """Parse the title, the time estimate and the objectives of one lab's handout.

    Args:
        assignment: an assignment id; its handout is labs/<assignment>/README.md.
    """
    path = config.LABS / assignment / config.HANDOUT
    text = path.read_text()
    sections = {m["name"].strip(): m["body"].strip() for m in SECTION.finditer(text)}
    title, time = TITLE.search(text), TIME.search(text)
    if not (title and time and sections.get("Objectives")):
        raise SiteError(f"{path}: the site needs a '# title', a '**Time:**' line and a '## Objectives' section")
    return Handout(title["title"], time["time"].strip(), markdown2html(sections["Objectives"]))


def notebook_title(notebook: nbformat.NotebookNode, fallback: str) -> str:
    """The first level-one heading of a notebook's markdown, or ``fallback``."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and (match := TITLE.search(cell.source)):
            return match["title"]
    return fallback


def render_page(page: Page, notebook: nbformat.NotebookNode, exporter: HTMLExporter) -> str:
    """One notebook as HTML, with a bar linking to the index and to the release notebook.

    Args:
        page: where the page sits in the site.
        notebook: the executed solution notebook.
        exporter: the HTMLExporter (figures are already inline in the outputs as data: URIs).
    """
    body, _ = exporter.from_notebook_node(notebook)
    up = "../" * page.href.count("/")  # from the page's folder back to the site root
    nav = (
        f'<nav class="site-nav"><a href="{up}index.html">All labs</a> · {html.escape(page.title)} · '
        f'<a href="{up}{page.release_href}" download>the release notebook, to work it yourself</a></nav>'
        f"<style>{NAV_STYLE}</style>"
    )
    tag = BODY_TAG.search(body)
    return body[: tag.end()] + nav + body[tag.end():]


def render_index(labs: list[tuple[str, Handout, list[Page]]]) -> str:
    """The index page: for each lab in course order, its objectives, time and notebooks.

    Args:
        labs: (assignment id, handout, pages) for each lab on the site, in course order.
    """
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<title>Generative models, from the ELBO up: self-study</title>",
        f"<style>{INDEX_STYLE}</style></head><body>",
        "<h1>Generative models, from the ELBO up: self-study</h1>",
        "<p>Each lab's notebooks, executed with the reference solution. Work the release notebook "
        "first (in JupyterLab), then compare with the executed solution.</p>",
    ]
    for assignment, handout, pages in labs:
        rows = "".join(
            f"<tr><td><a href='{p.href}'>{html.escape(p.title)}</a></td>"
            f"<td><a href='{p.release_href}' download>{p.solution.name}</a></td></tr>"
            for p in pages
        )
        parts += [
            f"<h2 id='{assignment}'>{html.escape(handout.title)}</h2>",
            f"<p class='time'><strong>Time:</strong> {html.escape(handout.time)} · <code>{assignment}</code></p>",
            f"<h3>Objectives</h3>{handout.objectives_html}",
            f"<h3>Notebooks</h3><table><tr><th>executed solution</th><th>release notebook</th></tr>{rows}</table>",
        ]
    parts.append("</body></html>")
    return "\n".join(parts)


def build_site(out: Path = config.SITE_OUT) -> Path:
    """Build the site into ``out`` (emptied first) and return the path of its index.html.

    Args:
        out: the site's folder, e.g. build/site.

    Assignments without executed solutions yet (solutions/<assignment>/ empty or missing) are left
    out, with a note on stderr.
    """
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    exporter = HTMLExporter(template_name="lab", embed_images=True)
    labs = []
    for assignment in config.assignments():
        solutions = sorted((config.SOLUTIONS / assignment).glob("[0-9][0-9]-*.ipynb"))
        if not solutions:
            print(f"site: skipping {assignment}: no executed solutions in solutions/{assignment}", file=sys.stderr)
            continue
        handout, pages = read_handout(assignment), []
        for solution in solutions:
            release = config.RELEASE / assignment / solution.name
            if not release.exists():
                raise SiteError(f"{solution} has no release notebook {release}")
            notebook = nbformat.read(solution, as_version=4)
            page = Page(assignment, solution, notebook_title(notebook, solution.stem))
            (out / page.href).parent.mkdir(parents=True, exist_ok=True)
            (out / page.href).write_text(render_page(page, notebook, exporter))
            (out / page.release_href).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(release, out / page.release_href)
            pages.append(page)
        labs.append((assignment, handout, pages))
    index = out / "index.html"
    index.write_text(render_index(labs))
    return index


def main(out: Path = config.SITE_OUT) -> int:
    """Build the site into ``out`` and say where it is; the exit status (0) for the command line.

    Args:
        out: the site's folder.
    """
    index = build_site(out)
    pages = sum(1 for _ in out.glob("*/*.html"))
    print(f"site: {pages} notebook pages; open {index}")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m autograder.site", description="Build the self-study site.")
    parser.add_argument("--out", type=Path, default=config.SITE_OUT, help="the site's folder (default: build/site)")
    sys.exit(main(parser.parse_args().out))
