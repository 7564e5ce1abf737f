"""The self-study site (autograder/site.py): complete, offline, and it publishes no hidden test.

The quick tests check each step on small made-up inputs; the slow ones build both editions of the
real site once and read every page. tests/browser/test_site_browser.py opens it in a browser.
"""

import html
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest

from autograder import config, site


class Links(HTMLParser):
    """Every href and src of a page, the src of each <img> and <script>, the page's title and text."""

    def __init__(self) -> None:
        super().__init__()
        self.targets: list[str] = []
        self.images: list[str] = []
        self.scripts: list[str] = []
        self.stylesheets: list[str] = []
        self.title = ""
        self.text: list[str] = []
        self._in: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.targets += [v for k, v in attrs if k in ("href", "src") and v]
        if tag == "img":
            self.images.append(values.get("src") or "")
        if tag == "script" and values.get("src"):
            self.scripts.append(values["src"])
        if tag == "link" and values.get("rel") == "stylesheet":
            self.stylesheets.append(values.get("href") or "")
        self._in.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._in:
            del self._in[len(self._in) - 1 - self._in[::-1].index(tag):]

    def handle_data(self, data: str) -> None:
        if self._in and self._in[-1] == "title":
            self.title += data
        elif not (self._in and self._in[-1] in ("script", "style")):
            self.text.append(data)

    @property
    def plain_text(self) -> str:
        """The page's visible text with whitespace collapsed (code is split into spans by highlighting)."""
        return " ".join("".join(self.text).split())


class Navigation(HTMLParser):
    """The links of a page's sidebar, in order, and its rel=prev / rel=next links."""

    def __init__(self) -> None:
        super().__init__()
        self.sidebar: list[str] = []
        self.rel: dict[str, str] = {}
        self._depth = 0  # >0 inside the sidebar's <nav>

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "nav" and (self._depth or "site-sidebar" in (values.get("class") or "").split()):
            self._depth += 1
        if tag == "a" and values.get("href"):
            if self._depth:
                self.sidebar.append(values["href"])
            if values.get("rel") in ("prev", "next"):
                self.rel[values["rel"]] = values["href"]

    def handle_endtag(self, tag: str) -> None:
        if tag == "nav" and self._depth:
            self._depth -= 1


def parse(page: Path) -> Links:
    links = Links()
    links.feed(page.read_text())
    return links


def is_relative(target: str) -> bool:
    """A link into the site: no scheme (http:, data:, mailto:), no host, not only a #fragment."""
    parts = urlsplit(target)
    return not (parts.scheme or parts.netloc) and bool(parts.path)


def figures_in(notebook: Path) -> int:
    """How many images the executed notebook's outputs hold."""
    cells = nbformat.read(notebook, as_version=4).cells
    return sum(
        1 for cell in cells if cell.cell_type == "code"
        for output in cell.outputs if any(k.startswith("image/") for k in output.get("data", {}))
    )


def built_assignments() -> list[str]:
    return [a for a in config.assignments() if any((config.SOLUTIONS / a).glob("[0-9][0-9]-*.ipynb"))]


def solutions_of(assignment: str) -> list[Path]:
    return sorted((config.SOLUTIONS / assignment).glob("[0-9][0-9]-*.ipynb"))


def block_lines(assignment: str, begin: str, end: str) -> list[tuple[str, str]]:
    """(notebook stem, line) for each code line inside begin/end blocks of the source notebooks.

    Only lines of 30 characters or more count: a short line (``return x``) may appear elsewhere too.
    """
    found = []
    for notebook in sorted((config.SOURCE / assignment).glob("[0-9][0-9]-*.ipynb")):
        for cell in nbformat.read(notebook, as_version=4).cells:
            if cell.cell_type != "code":
                continue
            for block in re.findall(rf"^\s*{begin}\s*$(.*?)^\s*{end}\s*$", cell.source, re.M | re.S):
                found += [
                    (notebook.stem, " ".join(line.split())) for line in block.splitlines()
                    if len(line.strip()) >= 30 and not line.strip().startswith("#")
                ]
    return found


def visible_code(assignment: str, stem: str) -> str:
    """A source notebook's code outside its hidden-test blocks, whitespace collapsed.

    A hidden test may repeat a line of the reference solution (to isolate one student function):
    such a line is on the page as part of the solution, not as a hidden test.
    """
    cells = nbformat.read(config.SOURCE / assignment / f"{stem}.ipynb", as_version=4).cells
    code = "\n".join(site.HIDDEN_TESTS.sub("", c.source) for c in cells if c.cell_type == "code")
    return " ".join(code.split())


def release_text(assignment: str, stem: str) -> str:
    """A release notebook's cells, whitespace collapsed (given code or prose may repeat a line of a solution)."""
    cells = nbformat.read(config.RELEASE / assignment / f"{stem}.ipynb", as_version=4).cells
    return " ".join("\n".join(c.source for c in cells).split())


@pytest.fixture(scope="module")
def site_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    assert site.main(out) == 0
    return out


@pytest.fixture(scope="module")
def release_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("release-site")
    assert site.main(out, solutions=False) == 0
    return out


# ---- The index's handouts ----

@pytest.mark.parametrize("assignment", config.assignments())
def test_every_handout_gives_the_index_its_title_time_and_objectives(assignment):
    handout = site.read_handout(assignment)
    assert handout.title and handout.time
    assert handout.objectives_html.count("<li>") >= 3, "the objectives should be a list"
    # The whole estimate: the handout's text from "**Time:**" to the next "· **Field:**".
    header = " ".join((config.LABS / assignment / config.HANDOUT).read_text().split())
    assert f"**Time:** {handout.time} · **" in header


def test_a_time_line_wrapped_over_two_lines_is_read_whole():
    text = (
        "# Lab 9\n\n**Assignment id:** `09-x` · **Time:** 4 weeks, about 8–10 hours plus the\n"
        "written report · **Team:** 1 student\n\n## Objectives\n- one\n- two\n- three\n"
    )
    assert site.parse_handout(text, Path("README.md")).time == "4 weeks, about 8–10 hours plus the written report"
    last = "# Lab 9\n\n**Time:** 3 hours (four notebooks\nof 40–60 minutes)\n\nMore.\n\n## Objectives\n- a\n"
    assert site.parse_handout(last, Path("README.md")).time == "3 hours (four notebooks of 40–60 minutes)"


def test_a_handout_without_a_time_line_is_refused_with_its_path():
    with pytest.raises(site.SiteError, match="README.md.*Time"):
        site.parse_handout("# Lab 9\n\n## Objectives\n- a\n", Path("labs/09-x/README.md"))


# ---- Preparing a notebook: hidden tests, markers, widgets ----

def test_hidden_tests_and_solution_markers_go_and_the_solution_stays():
    code = nbformat.v4.new_code_cell(
        "def f(x):\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION\n",
        outputs=[nbformat.v4.new_output("stream", text="kept\n")],
    )
    tests = nbformat.v4.new_code_cell(
        "# Hidden tests run when your notebook is graded.\n### BEGIN HIDDEN TESTS\nassert f(1) == 2\n### END HIDDEN TESTS\n",
        outputs=[nbformat.v4.new_output("stream", text="hidden result\n")],
    )
    answer = nbformat.v4.new_markdown_cell("YOUR ANSWER HERE\n\n### BEGIN SOLUTION\n**Model answer.** Because.\n### END SOLUTION")
    stub = nbformat.v4.new_markdown_cell("YOUR ANSWER HERE")  # a release notebook's: it stays
    notebook = nbformat.v4.new_notebook(cells=[code, tests, answer, stub])
    site.strip_grading(notebook)
    assert code.source == "def f(x):\n    return x + 1" and code.outputs[0]["text"] == "kept\n"
    assert tests.source == "# Hidden tests run when your notebook is graded." and tests.outputs == []
    assert answer.source == "**Model answer.** Because." and stub.source == "YOUR ANSWER HERE"


def test_an_unmatched_hidden_test_marker_stops_the_build():
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("### BEGIN HIDDEN TESTS\nassert secret\n")])
    with pytest.raises(site.SiteError, match="BEGIN HIDDEN TESTS"):
        site.strip_grading(notebook)


def test_a_widget_becomes_its_saved_figure_and_a_note():
    def model(name: str, **state) -> dict:
        return {"model_name": name, "state": state}

    figure = {"output_type": "display_data", "data": {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"}, "metadata": {}}
    state = {
        "box": model("VBoxModel", children=["IPY_MODEL_slider", "IPY_MODEL_out"]),
        "slider": model("FloatSliderModel", description="β", value=4.0),
        "out": model("OutputModel", outputs=[figure]),
    }
    view = nbformat.v4.new_output(
        "display_data", data={site.WIDGET_VIEW: {"model_id": "box"}, "text/plain": "interactive(...)"}
    )
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("display(controls)", outputs=[view])])
    notebook.metadata["widgets"] = {site.WIDGET_STATE: {"state": state, "version_major": 2, "version_minor": 0}}
    site.static_widgets(notebook)
    note, still = notebook.cells[0].outputs
    assert "Interactive control" in note["data"]["text/html"] and "β = 4.0" in note["data"]["text/html"]
    assert still["data"]["image/png"] == "iVBORw0KGgo="
    assert "widgets" not in notebook.metadata


def test_a_progress_bar_becomes_its_last_state_without_a_note():
    state = {
        "bar": {"model_name": "HBoxModel", "state": {"children": ["IPY_MODEL_left", "IPY_MODEL_p", "IPY_MODEL_right"]}},
        "left": {"model_name": "HTMLModel", "state": {"value": "epochs:\u2007100%"}},
        "p": {"model_name": "FloatProgressModel", "state": {"value": 15.0, "max": 15.0}},
        "right": {"model_name": "HTMLModel", "state": {"value": "\u200715/15\u2007[05:08&lt;00:00]"}},
    }
    view = nbformat.v4.new_output("display_data", data={site.WIDGET_VIEW: {"model_id": "bar"}})
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("train()", outputs=[view])])
    notebook.metadata["widgets"] = {site.WIDGET_STATE: {"state": state}}
    site.static_widgets(notebook)
    (still,) = notebook.cells[0].outputs
    assert still["data"]["text/html"] == (
        "<div class='site-progress'>epochs: 100% <progress value='15.0' max='15.0'></progress>  15/15 [05:08&lt;00:00]</div>"
    )


def test_a_widget_whose_state_was_not_saved_gets_a_note_that_says_so():
    view = nbformat.v4.new_output("display_data", data={site.WIDGET_VIEW: {"model_id": "gone"}})
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("w", outputs=[view])])
    site.static_widgets(notebook)
    (note,) = notebook.cells[0].outputs
    assert "not saved" in note["data"]["text/html"]


@pytest.mark.parametrize("assignment", config.assignments())
def test_the_install_note_names_the_labs_extra_and_the_cpu_torch_index(assignment):
    note = site.install_note(assignment, "01-x.ipynb")
    assert f'pip install "./shared[{site.extra_for(assignment)}]"' in note
    assert f"--index-url {site.TORCH_CPU_INDEX}" in note and "jupyter lab 01-x.ipynb" in note


# ---- --out never deletes what it did not create ----

def stage_with(tmp_path: Path, *files: str) -> Path:
    stage = tmp_path / "stage"
    for name in files:
        (stage / name).parent.mkdir(parents=True, exist_ok=True)
        (stage / name).write_text(f"new {name}")
    return stage


def test_a_non_empty_folder_that_is_not_a_site_is_refused_and_left_as_it_was(tmp_path, capsys):
    mine = tmp_path / "out" / "notes.txt"
    mine.parent.mkdir()
    mine.write_text("my notes")
    assert site.main(mine.parent) == 1
    assert "not a site this command built" in capsys.readouterr().err
    assert [p.name for p in mine.parent.iterdir()] == ["notes.txt"] and mine.read_text() == "my notes"


def test_a_file_given_as_out_is_refused(tmp_path, capsys):
    (tmp_path / "site").write_text("x")
    assert site.main(tmp_path / "site") == 1
    assert "is a file" in capsys.readouterr().err


def test_a_rebuild_replaces_its_own_files_and_keeps_everyone_elses(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    site.install(stage_with(tmp_path / "1", "index.html", "old-lab/page.html", "lab/page.html"), out, set())
    (out / "lab" / "mine.txt").write_text("mine")
    (out / "old-lab" / "mine.txt").write_text("mine too")
    previous = site.previous_build(out)
    assert previous == {Path("index.html"), Path("old-lab/page.html"), Path("lab/page.html")}
    site.install(stage_with(tmp_path / "2", "index.html", "lab/page.html"), out, previous)
    assert (out / "index.html").read_text() == "new index.html"
    assert not (out / "old-lab" / "page.html").exists(), "a page the new build no longer has should go"
    assert (out / "lab" / "mine.txt").read_text() == "mine" and (out / "old-lab" / "mine.txt").read_text() == "mine too"
    assert site.previous_build(out) == {Path("index.html"), Path("lab/page.html")}


def test_a_rebuild_removes_the_folders_it_emptied(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    site.install(stage_with(tmp_path / "1", "index.html", "gone/deep/page.html"), out, set())
    site.install(stage_with(tmp_path / "2", "index.html"), out, site.previous_build(out))
    assert sorted(p.name for p in out.iterdir()) == [site.MANIFEST, "index.html"]


def test_a_file_of_someone_else_where_the_site_writes_stops_the_build(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    site.install(stage_with(tmp_path / "1", "index.html"), out, set())
    (out / "site.css").write_text("my style")
    with pytest.raises(site.SiteError, match="site.css"):
        site.install(stage_with(tmp_path / "2", "index.html", "site.css"), out, site.previous_build(out))
    assert (out / "site.css").read_text() == "my style" and (out / "index.html").read_text() == "new index.html"


def test_a_manifest_that_points_outside_the_site_is_refused(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / site.MANIFEST).write_text("index.html\n../../home/notes.txt\n")
    with pytest.raises(site.SiteError, match="not a file of the site"):
        site.previous_build(out)


# ---- The built site ----

def problems(site_dir: Path) -> list[str]:
    """Broken links, links out of the site, missing images and scripts or stylesheets from the network.

    Args:
        site_dir: the built site's folder.
    """
    found = []
    for page in sorted(site_dir.rglob("*.html")):
        if site.MATHJAX_DIR in page.relative_to(site_dir).parts:
            continue  # MathJax's own test pages
        name, links = page.relative_to(site_dir), parse(page)
        for target in filter(is_relative, links.targets):
            resolved = page.parent / unquote(urlsplit(target).path)
            if not resolved.resolve().is_relative_to(site_dir.resolve()):
                found.append(f"{name}: {target} leaves the site")
            elif not resolved.is_file():
                found.append(f"{name}: broken link {target}")
        for src in links.images:
            # An image is inline (data:) or a file of the site: never fetched from the network.
            if not (src.startswith("data:image/") or (is_relative(src) and (page.parent / src).is_file())):
                found.append(f"{name}: missing image {src[:80]!r}")
        found += [f"{name}: stylesheet from the network {href}" for href in links.stylesheets if not is_relative(href)]
        found += [f"{name}: script from the network {src}" for src in links.scripts if not is_relative(src)]
    return found


def test_the_link_check_finds_broken_links_missing_images_and_remote_scripts(tmp_path):
    (tmp_path / "lab").mkdir()
    (tmp_path / "lab" / "page.html").write_text(
        "<a href='../index.html'>up</a><a href='gone.html#top'>x</a><a href='https://example.org'>out</a>"
        "<img src='data:image/png;base64,AAAA'><img src='missing.png'><img>"
        "<script src='https://cdn.example.org/MathJax.js'></script>"
    )
    (tmp_path / "index.html").write_text("<a href='lab/page.html'>page</a><a href='#top'>top</a>")
    assert problems(tmp_path) == [
        "lab/page.html: broken link gone.html#top",
        "lab/page.html: broken link missing.png",
        "lab/page.html: missing image 'missing.png'",
        "lab/page.html: missing image ''",
        "lab/page.html: script from the network https://cdn.example.org/MathJax.js",
    ]


@pytest.mark.slow
@pytest.mark.parametrize("edition", ["site_dir", "release_site"])
def test_the_site_has_no_broken_link_no_missing_image_and_nothing_from_the_network(edition, request):
    site_dir = request.getfixturevalue(edition)
    assert (site_dir / "index.html").is_file() and (site_dir / site.MATHJAX_DIR / "MathJax.js").is_file()
    assert problems(site_dir) == []


@pytest.mark.slow
def test_every_solution_has_a_page_with_its_figures_title_and_release_notebook(site_dir):
    index = (site_dir / "index.html").read_text()
    assert built_assignments(), "no assignment has executed solutions"
    titles = set()
    for assignment in built_assignments():
        assert html.escape(site.read_handout(assignment).time) in index
        for solution in solutions_of(assignment):
            page = Path(assignment) / f"{solution.stem}.html"
            release = Path("release") / assignment / solution.name
            assert f"href='{page}'" in index and f"href='{release}'" in index, solution.name
            links = parse(site_dir / page)
            assert len(links.images) >= figures_in(solution) > 0, f"{page}: figures missing"
            assert f"../{release}" in links.targets, f"{page} does not link to its release notebook"
            title = site.notebook_title(nbformat.read(solution, as_version=4), "")
            assert links.title.startswith(title) and title, f"{page}: title {links.title!r}"
            titles.add(links.title)
            # The download is the release notebook with the install note on top, nothing else changed.
            offered = nbformat.read(site_dir / release, as_version=4)
            original = nbformat.read(config.RELEASE / assignment / solution.name, as_version=4)
            assert offered.cells[1:] == original.cells, f"{release} differs from the release notebook"
            assert f"./shared[{site.extra_for(assignment)}]" in offered.cells[0].source
    assert len(titles) == sum(len(solutions_of(a)) for a in built_assignments()), "two pages share a title"


@pytest.mark.slow
def test_no_page_shows_a_hidden_test_or_a_marker_and_the_solutions_stay(site_dir):
    for assignment in built_assignments():
        pages = {s.stem: parse(site_dir / assignment / f"{s.stem}.html").plain_text for s in solutions_of(assignment)}
        for text in pages.values():
            assert not [w for w in (*site.LEAKS, "YOUR ANSWER HERE") if w in text]
        hidden = block_lines(assignment, "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
        shown = [f"{stem}: {line}" for stem, line in hidden if line in pages[stem] and line not in visible_code(assignment, stem)]
        assert not shown, f"hidden test code on a page: {shown[:3]}"
        solution = block_lines(assignment, "### BEGIN SOLUTION", "### END SOLUTION")
        missing = [f"{stem}: {line}" for stem, line in solution if line not in pages[stem]]
        assert not missing, f"solution code missing from the page: {missing[:3]}"


@pytest.mark.slow
def test_the_no_solutions_edition_shows_the_release_notebooks_and_no_solution(release_site):
    for assignment in built_assignments():
        pages = {s.stem: parse(release_site / assignment / f"{s.stem}.html") for s in solutions_of(assignment)}
        for stem, links in pages.items():
            release = (config.RELEASE / assignment / f"{stem}.ipynb").read_text()
            for stub in ("raise NotImplementedError", "YOUR ANSWER HERE"):  # nbgrader's stubs for code and prose
                assert (stub in links.plain_text) == (stub in release), f"{stem}: {stub!r} is not as in the release notebook"
            assert not [src for src in links.images if src.startswith("data:image/")], f"{stem}: has outputs"
        solution = block_lines(assignment, "### BEGIN SOLUTION", "### END SOLUTION")
        shown = [
            f"{stem}: {line}" for stem, line in solution
            if line in pages[stem].plain_text and line not in release_text(assignment, stem)
        ]
        assert not shown, f"solution code in the --no-solutions edition: {shown[:3]}"
    assert "executed with the reference solution" not in (release_site / "index.html").read_text()


@pytest.mark.slow
def test_every_page_has_the_sidebar_in_course_order_previous_next_and_the_search_index(site_dir):
    order = [f"{a}/{s.stem}.html" for a in built_assignments() for s in solutions_of(a)]
    index = (site_dir / "search-index.js").read_text()
    for at, href in enumerate(order):
        page = (site_dir / href).read_text()
        assert "name=\"viewport\"" in page, f"{href}: no viewport meta"
        nav = Navigation()
        nav.feed(page)
        assert [h.removeprefix("../") for h in nav.sidebar if "#" not in h][1:] == order, f"{href}: sidebar out of course order"
        assert nav.rel.get("prev") == (f"../{order[at - 1]}" if at else None), href
        assert nav.rel.get("next") == (f"../{order[at + 1]}" if at + 1 < len(order) else None), href
        assert "site-search" in page and f'"href": "{href}"' in index


@pytest.mark.slow
def test_widget_outputs_are_static_figures_with_a_note(site_dir):
    assignment, notebook = config.BROWSER_NOTEBOOK  # the notebook with an ipywidgets control
    page = (site_dir / assignment / notebook.replace(".ipynb", ".html")).read_text()
    assert page.count("site-widget-note") == 1, "one control, one note (progress bars get none)"
    assert "widget-view+json" not in page and "require.min.js" not in page
    note_at = page.index("site-widget-note")
    assert "data:image/png" in page[note_at: note_at + 200_000], "no figure after the widget's note"
