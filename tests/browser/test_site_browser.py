"""The self-study site in a real browser (Debian's chromium driven by Playwright), with no network.

Every request that is not a file of the site (or of localhost) is aborted and recorded, so a page
that still needs a CDN fails here as it would on a learner's offline laptop. Every page is opened
from disk: formulas typeset by the bundled MathJax (no raw $...$ left, no TeX error, its web fonts
loaded), the page's own title, every image decoded, no hidden test or solution marker in its text. Then the previous/next
links, the sidebar, the search box, and the layout on a phone-sized screen. Screenshots go to
build/browser-test/site-*.png.
"""

from pathlib import Path
from urllib.parse import urlsplit

import nbformat
import pytest

from autograder import config, site

pytestmark = pytest.mark.slow

TIMEOUT_MS = config.BROWSER_TIMEOUT_S * 1000
PHONE = {"width": 390, "height": 844}
# Raw TeX left in the rendered prose: a $...$ pair, or a \( \) or \[ \] delimiter.
RAW_MATH = r"""() => {
    const text = [...document.querySelectorAll('.jp-RenderedMarkdown')].map(e => e.innerText).join('\n');
    return text.match(/\$[^$\n]{1,200}\$|\\\(|\\\[/g) || [];
}"""
FORMULAS = "() => document.querySelectorAll('.MathJax, .MathJax_Display').length"
STIX_LOADED = "() => [...document.fonts].some(f => f.family.includes('STIXMathJax') && f.status === 'loaded')"
BROKEN_IMAGES = "() => [...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src.slice(0, 80))"
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"
# Code cells that run past the screen's edge, or are wider than their box and cannot scroll (cut off).
CUT_CODE = """() => [...document.querySelectorAll('.jp-InputArea-editor')].filter(e =>
    e.getBoundingClientRect().right > window.innerWidth + 1
    || (e.scrollWidth > e.clientWidth && !['auto', 'scroll'].includes(getComputedStyle(e).overflowX))).length"""


@pytest.fixture(scope="module")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The self-study edition, built once for this module into a temporary folder."""
    out = tmp_path_factory.mktemp("site")
    assert site.main(out) == 0
    return out


class Offline:
    """Opens pages of the site with every request off this machine aborted and recorded.

    Attributes:
        blocked: the URLs that were aborted.
    """

    def __init__(self, browser, root: Path) -> None:
        self.browser, self.root, self.blocked = browser, root, []

    def _route(self, route) -> None:
        url = urlsplit(route.request.url)
        if url.scheme in ("file", "data") or url.hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def open(self, href: str, viewport: dict | None = None, math: bool = True):
        """A new page showing ``href`` (relative to the site root), its math typeset unless ``math`` is False."""
        page = self.browser.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        if viewport:
            page.set_viewport_size(viewport)
        page.route("**/*", self._route)
        page.goto((self.root / href).as_uri())
        if math:
            self.settle(page)
        return page

    @staticmethod
    def settle(page) -> None:
        """Wait until MathJax has finished (notebook pages) or the page has loaded (the index)."""
        page.wait_for_load_state("load")
        if page.locator("script[src*='MathJax.js']").count():
            page.wait_for_selector("html[data-math='done']", state="attached", timeout=TIMEOUT_MS)


@pytest.fixture()
def offline(browser, built_site: Path):
    opened = Offline(browser, built_site)
    yield opened
    assert opened.blocked == [], f"pages asked the network for {opened.blocked[:5]}"


def solutions_of(assignment: str) -> list[Path]:
    return sorted((config.SOLUTIONS / assignment).glob("[0-9][0-9]-*.ipynb"))


def has_math(notebook: nbformat.NotebookNode) -> bool:
    return any("$" in c.source for c in notebook.cells if c.cell_type == "markdown")


@pytest.mark.parametrize("assignment", config.assignments())
def test_every_page_shows_typeset_math_its_title_and_its_figures_and_no_hidden_test(offline, assignment, artifacts):
    for solution in solutions_of(assignment):
        notebook = nbformat.read(solution, as_version=4)
        page = offline.open(f"{assignment}/{solution.stem}.html")
        name = f"{assignment}/{solution.stem}"
        assert page.title().startswith(site.notebook_title(notebook, "?")), f"{name}: title {page.title()!r}"
        assert page.evaluate(RAW_MATH) == [], f"{name}: raw TeX left in the text"
        text = page.evaluate("() => document.body.innerText")
        assert not [word for word in site.LEAKS if word in text], f"{name}: shows a hidden test or a solution marker"
        assert page.evaluate("() => window.mathErrors") == [], f"{name}: TeX errors"
        if has_math(notebook):
            assert page.evaluate(FORMULAS) > 0, f"{name}: no typeset formula"
            assert page.evaluate(STIX_LOADED), f"{name}: MathJax's fonts did not load"
        assert page.locator("#MathJax_Font_Warning").count() == 0
        assert page.evaluate(BROKEN_IMAGES) == [], f"{name}: images that did not load"
        assert page.locator(".site-main img").count() >= 1 or not any(
            "image/png" in o.get("data", {}) for c in notebook.cells if c.cell_type == "code" for o in c.outputs
        ), f"{name}: its figures are missing"
        page.screenshot(path=artifacts / f"site-{assignment}-{solution.stem}.png")
        page.close()


def test_previous_next_sidebar_and_search_lead_to_the_right_pages(offline, artifacts):
    order = [(a, s) for a in config.assignments() for s in solutions_of(a)]
    titles = {f"{a}/{s.stem}.html": site.notebook_title(nbformat.read(s, as_version=4), "?") for a, s in order}
    hrefs = list(titles)
    page = offline.open(hrefs[0], math=False)  # links work before MathJax is done
    assert page.locator("a[rel='prev']").count() == 0, "the first page has no previous page"
    for expected in hrefs[1:3]:
        page.locator("a[rel='next']").click()
        page.wait_for_url(f"**/{expected}")
        assert page.title().startswith(titles[expected])
    page.locator("a[rel='prev']").click()
    page.wait_for_url(f"**/{hrefs[1]}")

    # The sidebar reaches the last lab, and marks the page it is on.
    last = hrefs[-1]
    page.locator(".site-sidebar a", has_text=titles[last]).click()
    page.wait_for_url(f"**/{last}")
    assert page.locator(".site-sidebar a[aria-current='page']").text_content() == titles[last]

    # The search box finds a page by a word of its title, and its result opens that page.
    word = max(titles[hrefs[0]].split(":")[-1].split(), key=len)
    page.fill("#site-search", word)
    result = page.locator("#site-results a", has_text=titles[hrefs[0]])
    assert result.count() == 1, f"searching {word!r} did not list {titles[hrefs[0]]!r}"
    page.screenshot(path=artifacts / "site-search.png")
    result.click()
    page.wait_for_url(f"**/{hrefs[0]}")

    page.locator(".site-home").click()
    page.wait_for_url("**/index.html")
    assert page.locator(".site-main h2").count() == len(config.assignments())
    page.close()


@pytest.mark.parametrize("href", ["index.html", "/".join(config.BROWSER_NOTEBOOK).replace(".ipynb", ".html")])
def test_a_phone_sized_screen_scrolls_only_down_and_opens_the_contents(offline, href, artifacts):
    page = offline.open(href, viewport=PHONE)
    assert page.evaluate(OVERFLOW) <= 0, f"{href} is wider than a phone's screen"
    assert page.evaluate(CUT_CODE) == 0, f"{href}: code cells cut off at the screen's edge"
    toc = page.locator(".site-toc")
    assert not toc.is_visible(), "the contents should fold away on a phone"
    page.locator(".site-menu").click()
    assert toc.is_visible()
    page.screenshot(path=artifacts / f"site-phone-{Path(href).stem}.png")
    page.close()


def test_the_checks_catch_raw_tex_and_a_page_that_asks_the_network(browser, tmp_path):
    (tmp_path / "page.html").write_text(
        "<html><head><title>t</title><script src='https://cdn.example.org/MathJax.js'></script></head>"
        "<body><div class='jp-RenderedMarkdown'>the KL $q_\\phi(z|x)$ and \\(x\\)</div><img src='gone.png'>"
        "<div class='jp-InputArea-editor' style='width: 3000px'>a long line</div></body></html>"
    )
    opened = Offline(browser, tmp_path)
    page = opened.open("page.html", math=False)
    page.wait_for_load_state("load")
    assert page.evaluate(RAW_MATH) == ["$q_\\phi(z|x)$", "\\("]
    assert len(page.evaluate(BROKEN_IMAGES)) == 1
    assert page.evaluate(CUT_CODE) == 1
    assert opened.blocked == ["https://cdn.example.org/MathJax.js"]
    page.close()
