"""The self-study site: every notebook of the course as a static HTML page, readable offline.

    python -m autograder.site [--out build/site] [--no-solutions]

Layout of the site (self-contained: copy the folder anywhere and open index.html, with or without a
network):

    index.html                              the labs in course order: objectives, time, notebooks
    <assignment>/<NN-name>.html             one notebook, figures embedded
    release/<assignment>/<NN-name>.ipynb    the student notebook each page links to
    mathjax/                                MathJax 2, from the jupyter-server-mathjax package
    site.css, site.js, search-index.js      the layout, the search box and its index
    .labs-site                              the list of files this build wrote (see prepare_out)

Two editions:

- **self-study** (the default): the solution notebooks executed with the reference solution, with
  their outputs; hidden tests removed, nbgrader's solution markers removed (the solution code stays).
- **--no-solutions**, for a course that still grades these labs: the release notebooks as students get
  them from nbgrader (no solutions, no hidden tests, no outputs). They are not executed: run as they are,
  they stop at the first TODO, so their outputs would be a trail of NotImplementedError.

Nothing on a page is fetched from the network: MathJax is a copy in mathjax/, figures are data: URIs,
and ipywidgets controls, which need a live kernel, are replaced by the figure they showed when the
notebook was executed, with a note.
"""

import argparse
import html
import json
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import jinja2
import nbformat
from nbconvert import HTMLExporter
from nbconvert.filters import markdown2html

from autograder import config

SITE_TITLE = "Generative models, from the ELBO up"
# Its presence marks a folder as a site this command built; it lists every file the build wrote.
MANIFEST = ".labs-site"
MATHJAX_DIR = "mathjax"
MATHJAX_CONFIG = "TeX-AMS-MML_HTMLorMML-full,Safe"  # the combined configuration the package ships
# The CPU-only wheel of torch, where the default Linux wheel is the CUDA one (PyTorch's documented index).
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
TORCH_PIN = "torch==2.13.0"  # keep in step with requirements.txt (tests/test_learner_install.py checks)

SECTION = re.compile(r"^## (?P<name>.+?)\s*$(?P<body>.*?)(?=^## |\Z)", re.M | re.S)
# The time estimate runs to the next "· **Field:**" of the handout's header, or to the paragraph's end.
TIME = re.compile(r"\*\*Time:\*\*\s*(?P<time>.+?)\s*(?=·\s*\*\*|\n\s*\n|\Z)", re.S)
TITLE = re.compile(r"^# (?P<title>.+?)\s*$", re.M)
HIDDEN_TESTS = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS[ \t]*$.*?^[ \t]*### END HIDDEN TESTS[ \t]*(\n|\Z)", re.M | re.S)
SOLUTION_MARKER = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*(\n|\Z)", re.M)
ANSWER_STUB = re.compile(r"^YOUR ANSWER HERE[ \t]*(\n\s*|\Z)", re.M)
# What must never reach a page: the grader's hidden tests and nbgrader's markers.
LEAKS = ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "BEGIN SOLUTION", "END SOLUTION")
MARKUP = re.compile(r"[*#`>|]+")  # markdown punctuation, left out of the search text
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


class SiteError(RuntimeError):
    """A site that cannot be built: a handout without objectives or time, a missing release
    notebook, a leftover hidden test, an --out folder this command did not create."""


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
        notebook: the notebook the page shows: solutions/<assignment>/<NN-name>.ipynb, or the release
            notebook in the --no-solutions edition.
        title: the notebook's first heading.
    """

    assignment: str
    notebook: Path
    title: str

    @property
    def href(self) -> str:
        """The page's path, relative to the site root."""
        return f"{self.assignment}/{self.notebook.stem}.html"

    @property
    def release_href(self) -> str:
        """The release notebook's path, relative to the site root."""
        return f"release/{self.assignment}/{self.notebook.name}"


@dataclass
class Lab:
    """One lab of the site: its id, its handout and its pages in notebook order."""

    assignment: str
    handout: Handout
    pages: list[Page]


# ---- Reading the course ----

def read_handout(assignment: str) -> Handout:
    """Parse the title, the time estimate and the objectives of one lab's handout.

    Args:
        assignment: an assignment id; its handout is labs/<assignment>/README.md.
    """
    path = config.LABS / assignment / config.HANDOUT
    return parse_handout(path.read_text(), path)


def parse_handout(text: str, path: Path) -> Handout:
    """The title, the time estimate and the objectives of a handout's markdown.

    Args:
        text: the handout's markdown.
        path: where it comes from, for the error message.
    """
    sections = {m["name"].strip(): m["body"].strip() for m in SECTION.finditer(text)}
    title, time = TITLE.search(text), TIME.search(text)
    if not (title and time and sections.get("Objectives")):
        raise SiteError(f"{path}: the site needs a '# title', a '**Time:**' line and a '## Objectives' section")
    return Handout(title["title"], " ".join(time["time"].split()), markdown2html(sections["Objectives"]))


def notebook_title(notebook: nbformat.NotebookNode, fallback: str) -> str:
    """The first level-one heading of a notebook's markdown, or ``fallback``."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and (match := TITLE.search(cell.source)):
            return match["title"]
    return fallback


def extra_for(assignment: str) -> str:
    """The labkit extra that installs one lab's dependencies: 01-foundations -> lab1."""
    return f"lab{int(assignment[:2])}"


def collect_labs(solutions: bool) -> list[Lab]:
    """Every lab the site shows, in course order, with its pages.

    Args:
        solutions: True for the executed solutions, False for the release notebooks.

    Assignments without executed solutions yet are left out of either edition (they are not ready),
    with a note on stderr.
    """
    labs = []
    for assignment in config.assignments():
        executed = sorted((config.SOLUTIONS / assignment).glob("[0-9][0-9]-*.ipynb"))
        if not executed:
            print(f"site: skipping {assignment}: no executed solutions in solutions/{assignment}", file=sys.stderr)
            continue
        pages = []
        for solution in executed:
            release = config.RELEASE / assignment / solution.name
            if not release.exists():
                raise SiteError(f"{solution} has no release notebook {release}")
            shown = solution if solutions else release
            pages.append(Page(assignment, shown, notebook_title(nbformat.read(shown, as_version=4), shown.stem)))
        labs.append(Lab(assignment, read_handout(assignment), pages))
    return labs


# ---- Preparing a notebook for the page ----

def strip_grading(notebook: nbformat.NotebookNode) -> None:
    """Remove the hidden tests and nbgrader's markers, keep the solutions; in place.

    A code cell loses its ``### BEGIN/END HIDDEN TESTS`` blocks (and its outputs, which could show
    what they checked); every cell loses its ``### BEGIN/END SOLUTION`` lines, and a written answer
    its "YOUR ANSWER HERE" stub when a model answer follows, so the answer reads as prose (a release
    notebook keeps its stubs).
    """
    for cell in notebook.cells:
        source = cell.source
        if cell.cell_type == "code" and HIDDEN_TESTS.search(source):
            source = HIDDEN_TESTS.sub("", source)
            cell.outputs, cell.execution_count = [], None
        if cell.cell_type == "markdown" and SOLUTION_MARKER.search(source):  # a model answer follows the stub
            source = ANSWER_STUB.sub("", source)
        source = SOLUTION_MARKER.sub("", source)
        cell.source = source.rstrip("\n")
    leaks = [word for cell in notebook.cells for word in LEAKS if word in cell.source]
    if leaks:
        raise SiteError(f"an unmatched marker is left after stripping: {leaks[0]!r}")


def widget_models(view: dict, state: dict) -> list[dict]:
    """The saved state of a widget and of every widget inside it.

    Args:
        view: the output's widget-view data, {"model_id": ...}.
        state: the notebook's saved widget state, model id -> {"model_name", "state"}.
    """
    found, todo, seen = [], [view.get("model_id", "")], set()
    while todo:
        model_id = todo.pop(0)
        if model_id in seen or model_id not in state:
            continue
        seen.add(model_id)
        model = state[model_id]
        found.append(model)
        children = model["state"].get("children", [])
        todo += [child.removeprefix("IPY_MODEL_") for child in children if isinstance(child, str)]
    return found


def widget_note(models: list[dict], has_figure: bool) -> nbformat.NotebookNode:
    """The note that stands in for a control: what it sets, and that the figure below is a still."""
    settings = [
        f"{m['state']['description']} = {m['state']['value']}"
        for m in models if m["state"].get("description") and "value" in m["state"]
    ]
    where = f" ({html.escape(', '.join(settings))})" if settings else ""
    still = (
        "Below, the output it showed at its starting values" if has_figure
        else "Its output was not saved with the notebook"
    )
    text = (
        f"<p class='site-widget-note'><strong>Interactive control</strong>{where}: it needs a running "
        f"notebook. {still}; open the release notebook in JupyterLab to move it.</p>"
    )
    return nbformat.v4.new_output("display_data", data={"text/html": text})


def progress_bar(models: list[dict]) -> nbformat.NotebookNode:
    """A progress bar (tqdm's, in a notebook) as static HTML: its labels and its final position."""
    parts = []
    for model in models:
        name, values = model["model_name"], model["state"]
        if name == "HTMLModel":
            parts.append(html.escape(html.unescape(values.get("value", "")).replace("\u2007", " ")))
        elif name.endswith("ProgressModel"):
            parts.append(f"<progress value='{values.get('value', 0)}' max='{values.get('max', 100)}'></progress>")
    text = f"<div class='site-progress'>{' '.join(parts)}</div>"
    return nbformat.v4.new_output("display_data", data={"text/html": text})


def static_widgets(notebook: nbformat.NotebookNode) -> None:
    """Replace every ipywidgets output by its saved output (a figure) and a note, and every progress
    bar by a still of its last state; in place.

    The notebook's widget state goes too, so the page loads no widget manager from the network.
    """
    state = notebook.metadata.pop("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        outputs = []
        for output in cell.outputs:
            view = output.get("data", {}).get(WIDGET_VIEW)
            if view is None:
                outputs.append(output)
                continue
            models = widget_models(view, state)
            captured = [o for m in models if m["model_name"] == "OutputModel" for o in m["state"].get("outputs", [])]
            if not captured and any(m["model_name"].endswith("ProgressModel") for m in models):
                outputs.append(progress_bar(models))  # tqdm's bar in a notebook: nothing to interact with
            else:
                outputs += [widget_note(models, bool(captured)), *map(nbformat.from_dict, captured)]
        cell.outputs = outputs


def install_note(assignment: str, notebook_name: str) -> str:
    """The "run this notebook" note, in markdown: exactly what to install and how to start it.

    Args:
        assignment: the notebook's assignment id.
        notebook_name: the release notebook's file name.
    """
    extra = extra_for(assignment)
    return (
        "**Run this notebook yourself.** In a new virtual environment (Python 3.11 or 3.12):\n\n"
        f"1. on Linux only, first `pip install {TORCH_PIN} --index-url {TORCH_CPU_INDEX}`: the default Linux "
        "wheel of torch brings CUDA libraries that these labs do not use;\n"
        f"2. from a copy of the course repository, `pip install \"./shared[{extra}]\"` (or, without a copy, "
        f"`pip install \"labkit[{extra}] @ git+<the repository's URL>#subdirectory=shared\"`);\n"
        f"3. `jupyter lab {notebook_name}`.\n"
    )


def release_copy(release: Path, assignment: str) -> nbformat.NotebookNode:
    """The release notebook as the site offers it for download: with the install note on top."""
    notebook = nbformat.read(release, as_version=4)
    note = nbformat.v4.new_markdown_cell(install_note(assignment, release.name))
    note.metadata["tags"] = ["install-note"]
    notebook.cells.insert(0, note)
    return notebook


# ---- Rendering ----

PAGE_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block html_head_js_mathjax -%}{{ resources.site.head }}{%- endblock html_head_js_mathjax -%}
{%- block body_header -%}
<body class="jp-Notebook site-page" data-jp-theme-light="true" data-jp-theme-name="JupyterLab Light">
{{ resources.site.before }}
<main class="site-main">
{{ resources.site.note }}
{%- endblock body_header -%}
{% block body_footer %}
{{ resources.site.after }}
</main>
{{ resources.site.scripts }}
</body>
{% endblock body_footer %}
"""

MATHJAX_SETUP = """<script type="text/x-mathjax-config">
MathJax.Hub.Config({
  tex2jax: {inlineMath: [['$', '$'], ['\\\\(', '\\\\)']], displayMath: [['$$', '$$'], ['\\\\[', '\\\\]']],
            processEscapes: true, processEnvironments: true},
  TeX: {equationNumbers: {autoNumber: 'AMS', useLabelIds: true}},
  'HTML-CSS': {availableFonts: [], preferredFont: null, webFont: 'STIX-Web', imageFont: null,
               linebreaks: {automatic: true}},
  displayAlign: 'center', messageStyle: 'none', showMathMenu: false
});
// Formulas MathJax could not typeset, for the browser test and for anyone debugging a page.
window.mathErrors = [];
MathJax.Hub.Register.MessageHook('TeX Jax - parse error', function (m) { window.mathErrors.push(String(m[1])); });
MathJax.Hub.Register.MessageHook('Math Processing Error', function (m) { window.mathErrors.push(String(m[2] || m[1])); });
MathJax.Hub.Queue(function () { document.documentElement.setAttribute('data-math', 'done'); });
</script>
<script src="{root}mathjax/MathJax.js?config={config}"></script>"""

SITE_CSS = """
:root { --site-sidebar: 17rem; --site-link: #0645ad; }
body.site-page, body.site-index { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; }
.site-sidebar { position: fixed; top: 0; bottom: 0; left: 0; width: var(--site-sidebar); overflow-y: auto;
  box-sizing: border-box; padding: 1rem; background: #f6f6f4; border-right: 1px solid #ddd; font-size: 0.9rem;
  line-height: 1.4; z-index: 10; }
.site-sidebar a { color: var(--site-link); text-decoration: none; }
.site-sidebar a:hover, .site-pager a:hover { text-decoration: underline; }
.site-sidebar .site-home { font-weight: 600; display: block; margin-bottom: 0.8rem; }
.site-sidebar h2 { font-size: 0.95rem; margin: 1rem 0 0.3rem; }
.site-sidebar ol { margin: 0; padding-left: 1.3rem; }
.site-sidebar li { margin: 0.2rem 0; }
.site-sidebar a[aria-current="page"] { font-weight: 700; color: #000; }
.site-search input { width: 100%; box-sizing: border-box; padding: 0.4rem; font-size: 1rem; }
.site-results { list-style: none; padding: 0 !important; margin: 0.4rem 0; }
.site-results li { margin: 0.4rem 0; }
.site-results small { display: block; color: #555; }
.site-main { margin-left: var(--site-sidebar); padding: 1rem 2rem; max-width: 70rem; box-sizing: border-box; }
.site-index .site-main { max-width: 60rem; line-height: 1.5; }
.site-note { background: #eef4fb; border-left: 4px solid #5b8fd6; padding: 0.6rem 1rem; margin: 0.5rem 0 1rem;
  font-size: 0.95rem; line-height: 1.5; }
.site-note code { word-break: break-word; }
.site-progress { font-family: var(--jp-code-font-family, monospace); font-size: 0.85rem; }
.site-progress progress { vertical-align: middle; }
.site-widget-note { background: #fff7e0; border-left: 4px solid #e0b040; padding: 0.4rem 0.8rem; margin: 0.3rem 0; }
.site-pager { display: flex; justify-content: space-between; gap: 1rem; margin: 2rem 0 1rem;
  padding-top: 1rem; border-top: 1px solid #ddd; }
.site-pager a { color: var(--site-link); text-decoration: none; max-width: 48%; }
.site-pager .site-next { margin-left: auto; text-align: right; }
.jp-OutputArea-output img, .site-main img { max-width: 100%; height: auto; }
/* A long code line scrolls inside its cell instead of being cut off (nbconvert hides the overflow). */
.jp-InputArea-editor { min-width: 0; overflow-x: auto; }
.jp-OutputArea-output pre, .jp-RenderedHTMLCommon table { overflow-x: auto; }
.jp-RenderedHTMLCommon table { display: block; max-width: 100%; }
.jp-Cell, .jp-InputArea, .jp-OutputArea-child, .jp-OutputArea-output { min-width: 0; max-width: 100%; }
.MathJax_Display { overflow-x: auto; overflow-y: hidden; }
.site-index .time { color: #555; }
.site-index h1 { font-size: clamp(1.5rem, 5vw, 2rem); }
.site-note summary { cursor: pointer; }
.site-index td { padding: 0.2rem 1rem 0.2rem 0; vertical-align: top; }
@media (max-width: 60rem) {
  .site-sidebar { position: static; width: auto; border-right: none; border-bottom: 1px solid #ddd; }
  .site-sidebar .site-toc { display: none; }
  .site-sidebar.site-open .site-toc { display: block; }
  .site-menu { display: inline-block !important; }
  .site-main { margin-left: 0; padding: 0.5rem 0.8rem; }
  .jp-InputPrompt, .jp-OutputPrompt { display: none !important; }
  .jp-Cell { padding: 0.3rem 0 !important; }
}
.site-menu { display: none; float: right; font-size: 0.9rem; }
"""

SITE_JS = """
(function () {
  var root = document.body.getAttribute('data-root') || '';
  var menu = document.querySelector('.site-menu');
  if (menu) menu.addEventListener('click', function () {
    document.querySelector('.site-sidebar').classList.toggle('site-open');
  });
  var box = document.getElementById('site-search'), list = document.getElementById('site-results');
  if (!box || !window.SITE_INDEX) return;
  function snippet(text, word) {
    var at = text.toLowerCase().indexOf(word);
    var start = Math.max(0, at - 60);
    return (start > 0 ? '…' : '') + text.slice(start, at + 100) + '…';
  }
  box.addEventListener('input', function () {
    var words = box.value.toLowerCase().split(/\\s+/).filter(Boolean);
    list.textContent = '';
    if (!words.length) return;
    var hits = window.SITE_INDEX.filter(function (page) {
      var hay = (page.title + ' ' + page.text).toLowerCase();
      return words.every(function (w) { return hay.indexOf(w) >= 0; });
    });
    if (!hits.length) { var none = document.createElement('li'); none.textContent = 'No page matches.'; list.appendChild(none); }
    hits.slice(0, 20).forEach(function (page) {
      var item = document.createElement('li'), link = document.createElement('a'), where = document.createElement('small');
      link.href = root + page.href;
      link.textContent = page.title;
      where.textContent = snippet(page.text, words[0]);
      item.appendChild(link); item.appendChild(where); list.appendChild(item);
    });
  });
})();
"""


def sidebar(labs: list[Lab], current: Page | None, root: str) -> str:
    """The sidebar: a link home, the search box, and every lab's notebooks in course order.

    Args:
        labs: the site's labs.
        current: the page being rendered (marked as current), or None on the index.
        root: the relative path from the page's folder back to the site root, "" or "../".
    """
    parts = [
        "<nav class='site-sidebar' aria-label='Course'>",
        "<button class='site-menu' type='button'>Contents</button>",
        f"<a class='site-home' href='{root}index.html'>{html.escape(SITE_TITLE)}</a>",
        "<div class='site-search' role='search'><input id='site-search' type='search' "
        "placeholder='Search the labs' aria-label='Search the labs'><ul id='site-results' class='site-results'></ul></div>",
        "<div class='site-toc'>",
    ]
    for lab in labs:
        parts.append(f"<h2><a href='{root}index.html#{lab.assignment}'>{html.escape(lab.handout.title)}</a></h2><ol>")
        for page in lab.pages:
            mark = " aria-current='page'" if page == current else ""
            parts.append(f"<li><a href='{root}{page.href}'{mark}>{html.escape(page.title)}</a></li>")
        parts.append("</ol>")
    parts.append("</div></nav>")
    return "".join(parts)


def pager(order: list[Page], current: Page, root: str) -> str:
    """Previous and next links, in course order across labs."""
    at = order.index(current)
    links = []
    if at > 0:
        links.append(f"<a class='site-prev' rel='prev' href='{root}{order[at - 1].href}'>← {html.escape(order[at - 1].title)}</a>")
    if at + 1 < len(order):
        links.append(f"<a class='site-next' rel='next' href='{root}{order[at + 1].href}'>{html.escape(order[at + 1].title)} →</a>")
    return f"<nav class='site-pager' aria-label='Previous and next'>{''.join(links)}</nav>"


def page_note(page: Page, solutions: bool, root: str) -> str:
    """The note on top of a page: what the page is, where the notebook is, and how to run it."""
    download = f"<a href='{root}{page.release_href}' download>the release notebook</a>"
    if solutions:
        what = (f"This page is the notebook executed with the reference solution (the grader's hidden tests "
                f"are left out). Work {download} yourself first, then compare.")
    else:
        what = f"This page is {download}, as students receive it: no solutions, not executed."
    extra = extra_for(page.assignment)
    return (
        f"<div class='site-note'><p>{what}</p><details><summary>Run it yourself: "
        f"<code>pip install \"./shared[{extra}]\"</code>, and on Linux the CPU build of torch first</summary>"
        f"{markdown2html(install_note(page.assignment, page.notebook.name))}</details></div>"
    )


def scripts(root: str) -> str:
    """The script tags every page ends with: the search index and the search and menu code."""
    return f"<script src='{root}search-index.js'></script><script src='{root}site.js'></script>"


def render_page(page: Page, notebook: nbformat.NotebookNode, labs: list[Lab], solutions: bool,
                exporter: HTMLExporter) -> str:
    """One notebook as HTML, inside the site's sidebar, note and previous/next links.

    Args:
        page: where the page sits in the site.
        notebook: the notebook, already stripped of hidden tests and widgets.
        labs: every lab of the site (for the sidebar and the pager).
        solutions: which edition is built (it changes the note).
        exporter: the HTMLExporter, with the site's template.
    """
    root = "../" * page.href.count("/")  # from the page's folder back to the site root
    lab = next(lab for lab in labs if lab.assignment == page.assignment)
    notebook.metadata["title"] = f"{page.title} · {lab.handout.title}"
    resources = {"site": {
        "head": MATHJAX_SETUP.replace("{root}", root).replace("{config}", MATHJAX_CONFIG)
                + f"<link rel='stylesheet' href='{root}site.css'>",
        "before": sidebar(labs, page, root),
        "note": page_note(page, solutions, root),
        "after": pager([p for lab in labs for p in lab.pages], page, root),
        "scripts": scripts(root),
    }}
    body, _ = exporter.from_notebook_node(notebook, resources=resources)
    return body.replace("<body class=\"jp-Notebook site-page\"", f"<body class=\"jp-Notebook site-page\" data-root=\"{root}\"", 1)


def render_index(labs: list[Lab], solutions: bool = True) -> str:
    """The index page: for each lab in course order, its objectives, time and notebooks.

    Args:
        labs: the labs on the site, in course order.
        solutions: which edition is built (it changes the introduction and the column heading).
    """
    intro = (
        "Each lab's notebooks, executed with the reference solution. Work the release notebook first "
        "(in JupyterLab), then compare with the executed solution." if solutions else
        "Each lab's notebooks as students receive them: work the release notebook in JupyterLab."
    )
    column = "executed solution" if solutions else "page"
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{html.escape(SITE_TITLE)}: self-study</title>",
        "<link rel='stylesheet' href='site.css'></head><body class='site-index' data-root=''>",
        sidebar(labs, None, ""),
        f"<main class='site-main'><h1>{html.escape(SITE_TITLE)}: self-study</h1><p>{intro}</p>",
    ]
    for lab in labs:
        rows = "".join(
            f"<tr><td><a href='{p.href}'>{html.escape(p.title)}</a></td>"
            f"<td><a href='{p.release_href}' download>{p.notebook.name}</a></td></tr>"
            for p in lab.pages
        )
        parts += [
            f"<h2 id='{lab.assignment}'>{html.escape(lab.handout.title)}</h2>",
            f"<p class='time'><strong>Time:</strong> {html.escape(lab.handout.time)} · <code>{lab.assignment}</code></p>",
            f"<h3>Objectives</h3>{lab.handout.objectives_html}",
            f"<h3>Notebooks</h3><table><tr><th>{column}</th><th>release notebook</th></tr>{rows}</table>",
        ]
    parts += ["</main>", scripts(""), "</body></html>"]
    return "\n".join(parts)


def search_entry(page: Page, lab: Lab, notebook: nbformat.NotebookNode) -> dict:
    """What the search box searches for one page: its title, its lab and its markdown text."""
    text = " ".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    return {"title": page.title, "lab": lab.handout.title, "href": page.href, "text": " ".join(MARKUP.sub(" ", text).split())}


def mathjax_files() -> Path:
    """The folder of MathJax's files in the installed jupyter-server-mathjax package."""
    try:
        import jupyter_server_mathjax
    except ImportError:
        raise SiteError("the site needs MathJax from the jupyter-server-mathjax package: "
                        "pip install -r requirements.txt (or pip install jupyter-server-mathjax)") from None
    static = Path(jupyter_server_mathjax.__file__).parent / "static"
    if not (static / "MathJax.js").is_file():
        raise SiteError(f"{static} holds no MathJax.js: reinstall jupyter-server-mathjax")
    return static


def exporter() -> HTMLExporter:
    """nbconvert's JupyterLab HTML exporter with the site's page template (no CDN script)."""
    return HTMLExporter(
        template_name="lab", template_file="site-page.html.j2", embed_images=True,
        extra_loaders=[jinja2.DictLoader({"site-page.html.j2": PAGE_TEMPLATE})],
    )


def write_site(stage: Path, solutions: bool) -> None:
    """Write every file of the site into the empty folder ``stage``.

    Args:
        stage: an empty folder.
        solutions: True for the self-study edition, False for the --no-solutions edition.
    """
    labs, html_exporter, index = collect_labs(solutions), exporter(), []
    for lab in labs:
        for page in lab.pages:
            notebook = nbformat.read(page.notebook, as_version=4)
            strip_grading(notebook)
            static_widgets(notebook)
            text = render_page(page, notebook, labs, solutions, html_exporter)
            leaks = [word for word in LEAKS if word in text]
            if leaks:
                raise SiteError(f"{page.notebook}: {leaks[0]!r} would be published; nothing was written")
            (stage / page.href).parent.mkdir(parents=True, exist_ok=True)
            (stage / page.href).write_text(text)
            release = stage / page.release_href
            release.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(release_copy(config.RELEASE / page.assignment / page.notebook.name, page.assignment), release)
            index.append(search_entry(page, lab, notebook))
    (stage / "index.html").write_text(render_index(labs, solutions))
    (stage / "site.css").write_text(SITE_CSS)
    (stage / "site.js").write_text(SITE_JS)
    # A script, not JSON: a page opened from disk (file://) may not fetch a JSON file.
    (stage / "search-index.js").write_text("window.SITE_INDEX = " + json.dumps(index, ensure_ascii=False) + ";\n")
    shutil.copytree(mathjax_files(), stage / MATHJAX_DIR)


# ---- The --out folder: replace what a previous build wrote, touch nothing else ----

def previous_build(out: Path) -> set[Path]:
    """The files a previous build wrote into ``out``, or an empty set for a new or empty folder.

    Raises SiteError, touching nothing, when ``out`` is a file, or a non-empty folder without the
    manifest of a previous build (a folder of someone's files), or when the manifest names a path
    outside ``out``.
    """
    if out.exists() and not out.is_dir():
        raise SiteError(f"--out {out} is a file, not a folder")
    if not out.exists() or not any(out.iterdir()):
        return set()
    manifest = out / MANIFEST
    if not manifest.is_file():
        raise SiteError(
            f"{out} is not empty and has no {MANIFEST} file, so it is not a site this command built; "
            "nothing in it was touched. Give a new or empty folder with --out."
        )
    files = {Path(line) for line in manifest.read_text().splitlines() if line and not line.startswith("#")}
    outside = [f for f in files if f.is_absolute() or ".." in f.parts or f.name == MANIFEST]
    if outside:
        raise SiteError(f"{manifest} names {outside[0]}, which is not a file of the site; nothing was touched")
    return files


def install(stage: Path, out: Path, previous: set[Path]) -> None:
    """Move the staged site into ``out``: replace the previous build's files, keep every other file.

    Args:
        stage: the folder the new site was written into.
        out: the site's folder.
        previous: the files the previous build wrote (from its manifest).
    """
    new = {p.relative_to(stage) for p in stage.rglob("*") if p.is_file()}
    clashes = sorted(str(f) for f in new - previous if (out / f).exists() or (out / f).is_symlink())
    if clashes:
        raise SiteError(
            f"{out} holds {len(clashes)} file(s) the previous build did not write, where the site puts its "
            f"own (first: {clashes[0]}); nothing was touched. Move them, or give another --out."
        )
    for stale in sorted(previous - new):
        path = out / stale
        if path.is_file() or path.is_symlink():
            path.unlink()
        for folder in path.parents:  # the folders it was in, once they are empty
            if folder == out or not folder.is_dir() or any(folder.iterdir()):
                break
            folder.rmdir()
    for relative in sorted(new):
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(stage / relative, target)
    lines = ["# the files `python -m autograder site` wrote; the next build replaces these and no others"]
    (out / MANIFEST).write_text("\n".join(lines + [str(f) for f in sorted(new)]) + "\n")


def build_site(out: Path = config.SITE_OUT, solutions: bool = True) -> Path:
    """Build the site into ``out`` and return the path of its index.html.

    Args:
        out: the site's folder, e.g. build/site: new, empty, or a previous build of this command.
        solutions: True for the self-study edition (executed solutions), False for the release notebooks.
    """
    previous = previous_build(out)
    with tempfile.TemporaryDirectory(prefix="site-") as stage:
        write_site(Path(stage), solutions)
        out.mkdir(parents=True, exist_ok=True)
        install(Path(stage), out, previous)
    return out / "index.html"


def main(out: Path = config.SITE_OUT, solutions: bool = True) -> int:
    """Build the site into ``out`` and say where it is; the exit status for the command line.

    Args:
        out: the site's folder.
        solutions: False for the --no-solutions edition.
    """
    try:
        index = build_site(out, solutions)
    except SiteError as error:
        print(f"site: error: {error}", file=sys.stderr)
        return 1
    pages = sum(1 for _ in out.glob("*/*.html"))
    edition = "self-study edition (executed solutions)" if solutions else "--no-solutions edition (release notebooks)"
    print(f"site: {pages} notebook pages, {edition}; open {index}")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m autograder.site", description="Build the self-study site.")
    parser.add_argument("--out", type=Path, default=config.SITE_OUT, help="the site's folder (default: build/site)")
    parser.add_argument("--no-solutions", action="store_true",
                        help="publish the release notebooks only (no solutions, no outputs), for a course that grades these labs")
    arguments = parser.parse_args()
    sys.exit(main(arguments.out, solutions=not arguments.no_solutions))
