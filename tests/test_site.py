"""The self-study site (autograder/site.py): complete, with no broken link and no missing image."""

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest

from autograder import config, site


class Links(HTMLParser):
    """Every href and src of a page, and the src of each <img>."""

    def __init__(self) -> None:
        super().__init__()
        self.targets: list[str] = []
        self.images: list[str] = []
        self.stylesheets: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.targets += [v for k, v in attrs if k in ("href", "src") and v]
        if tag == "img":
            self.images.append(values.get("src") or "")
        if tag == "link" and values.get("rel") == "stylesheet":
            self.stylesheets.append(values.get("href") or "")


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


@pytest.fixture(scope="module")
def site_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    assert site.main(out) == 0
    return out


@pytest.mark.parametrize("assignment", config.assignments())
def test_every_handout_gives_the_index_its_title_time_and_objectives(assignment):
    handout = site.read_handout(assignment)
    assert handout.title and handout.time
    assert handout.objectives_html.count("<li>") >= 3, "the objectives should be a list"


def problems(site_dir: Path) -> list[str]:
    """Broken links, links out of the site, missing images and remote stylesheets of every page.

    Args:
        site_dir: the built site's folder.
    """
    found = []
    for page in sorted(site_dir.rglob("*.html")):
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
    return found


def test_the_link_check_finds_broken_links_and_missing_images(tmp_path):
    (tmp_path / "lab").mkdir()
    (tmp_path / "lab" / "page.html").write_text(
        "<a href='../index.html'>up</a><a href='gone.html#top'>x</a><a href='https://example.org'>out</a>"
        "<img src='data:image/png;base64,AAAA'><img src='missing.png'><img>"
    )
    (tmp_path / "index.html").write_text("<a href='lab/page.html'>page</a><a href='#top'>top</a>")
    assert problems(tmp_path) == [
        "lab/page.html: broken link gone.html#top",
        "lab/page.html: broken link missing.png",
        "lab/page.html: missing image 'missing.png'",
        "lab/page.html: missing image ''",
    ]


@pytest.mark.slow
def test_the_site_has_no_broken_link_and_no_missing_image(site_dir):
    assert (site_dir / "index.html").is_file()
    assert problems(site_dir) == []


@pytest.mark.slow
def test_every_solution_has_a_page_with_its_figures_and_its_release_notebook(site_dir):
    index = (site_dir / "index.html").read_text()
    assert built_assignments(), "no assignment has executed solutions"
    for assignment in built_assignments():
        assert site.read_handout(assignment).time in index
        for solution in sorted((config.SOLUTIONS / assignment).glob("[0-9][0-9]-*.ipynb")):
            page = Path(assignment) / f"{solution.stem}.html"
            release = Path("release") / assignment / solution.name
            assert f"href='{page}'" in index and f"href='{release}'" in index, solution.name
            links = parse(site_dir / page)
            assert len(links.images) >= figures_in(solution) > 0, f"{page}: figures missing"
            assert f"../{release}" in links.targets, f"{page} does not link to its release notebook"
            assert (site_dir / release).read_bytes() == (config.RELEASE / assignment / solution.name).read_bytes()
