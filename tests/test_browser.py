"""The built book, read in a real browser (headless Debian Chromium driven by Playwright).

Serves ``book/_build/html`` on 127.0.0.1 (ephemeral port) and, for every page listed in the book's
TOC (``book/_toc.yml``) and sidebar, checks that it

* loads (HTTP 200) without console errors or uncaught page errors;
* has no broken image (every ``<img>`` finished loading with ``naturalWidth > 0``);
* has no broken internal link (each same-site href names an existing file and, if it has a
  fragment, an element with that id/name in the target page);
* shows at least the figures and tables that its executed notebook (``book/<file>.ipynb``) says it
  should (image outputs, HTML-table outputs, ``{glue}``/``{glue:figure}``/``{glue:table}`` references
  to glued images or tables, markdown images/tables), and each named figure or table (``:name:``) is
  on the page with the right number label: "Fig. N" for a figure, "Table N" for a table;
* renders its math with the vendored MathJax (``book/_static/mathjax``) without MathJax errors;
* requests nothing from any host other than localhost (every request is recorded; Chromium resolves
  no other host, so a bad page fails fast and the test lists the foreign URLs);
* reads like a journal's page (:func:`test_reading` at 1280 and 390 px wide): at 1280 px no table
  is wider than its column (the text column, or the page's full width for a ``full-width`` table)
  and the smallest text of every figure is at least 9 px as displayed (measured in the SVG: the
  size of each text times the displayed width over the drawing's width); at both widths no table
  is cut ("..." cells, "N rows x M columns"), every figure is an SVG with a real alt text, every
  figure of a page that warns of reconstructed data carries the "Reconstructed cohort" mark in the
  image and the word in its caption, one search control is in view, no code cell or "Show code
  cell" toggle is on the page (the code is in the notebooks), and every download link (``data:`` CSV or file) resolves to
  what it promises.

The search page is exercised by typing a chapter-title word into the theme's search box, and
screenshots of the front page and of a Kaplan-Meier chapter go to ``tests/screenshots/``.

Skips (with the reason) only when the book has not been built. If Chromium or Playwright is missing
it skips on a developer machine but FAILS when ``CI=true`` (run ``.ci/install-browser.sh``).
``CART19_BOOK_HTML=/path/to/_build/html`` points the test at another built book (its source root,
where ``_toc.yml`` is, is looked for two then three levels up: ``book/_build/html`` -> repo root).

Why own code rather than a link checker package: the checks run inside the same page loads that
look for console errors and foreign requests, so the whole book is read once by one browser.
"""

from __future__ import annotations

import functools
import html
import http.server
import json
import os
import re
import threading
import urllib.parse
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from browser_support import CHROMIUM, CHROMIUM_ARGS, is_local, missing_browser

with warnings.catch_warnings():
    # The `browser` mark selects/deselects this module (-m browser / -m "not browser"); until it is
    # registered in the pytest configuration, keep pytest's unknown-mark warning out of every run.
    warnings.simplefilter("ignore", pytest.PytestUnknownMarkWarning)
    pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
HTML_DIR = Path(os.environ.get("CART19_BOOK_HTML", REPO / "book" / "_build" / "html")).resolve()

def _source_root(html_dir: Path) -> Path:
    """The jupyter-book source root: where ``_toc.yml`` is (``<src>/_build/html``; this project
    stages the repository root, whose ``_toc.yml`` lists ``book/NN_*`` files)."""
    for candidate in (html_dir.parent.parent, html_dir.parent.parent.parent):
        if (candidate / "_toc.yml").is_file():
            return candidate
    return html_dir.parent.parent


SRC_DIR = _source_root(HTML_DIR)
SCREENSHOTS = REPO / "tests" / "screenshots"
NAV_TIMEOUT_MS = 30_000

if not (HTML_DIR / "index.html").is_file():
    pytest.skip(
        f"book not built: {HTML_DIR}/index.html missing (run `python -m cart19 build` first)",
        allow_module_level=True,
    )


# --------------------------------------------------------------------------- what the book holds


def _toc_files(src: Path) -> list[str]:
    """Document names (no extension) listed in ``_toc.yml``, root first, in reading order."""
    import yaml

    toc_path = src / "_toc.yml"
    if not toc_path.is_file():
        return []
    toc = yaml.safe_load(toc_path.read_text(encoding="utf-8"))
    names: list[str] = []

    def add(name: str) -> None:
        name = re.sub(r"\.(md|ipynb|rst)$", "", name.strip().lstrip("./"))
        if name not in names:
            names.append(name)

    def walk(node) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            if "file" in node:
                add(str(node["file"]))
            if "glob" in node:
                for hit in sorted(src.glob(str(node["glob"]))):
                    if hit.suffix in {".md", ".ipynb", ".rst"}:
                        add(hit.relative_to(src).with_suffix("").as_posix())
            for key in ("parts", "chapters", "sections", "subtrees", "entries"):
                if key in node:
                    walk(node[key])

    if "root" in toc:
        add(str(toc["root"]))
    walk(toc)
    return names


def _redirect_target(html_dir: Path, page: str) -> str | None:
    """Where a meta-refresh page (jupyter-book's index.html -> root) points, if it is one."""
    text = (html_dir / page).read_text(encoding="utf-8", errors="replace")[:2000]
    m = re.search(r'http-equiv="Refresh"\s+content="\d+;\s*url=([^"]+)"', text, re.I)
    return urllib.parse.urljoin(page, m.group(1)) if m else None


def _front_page() -> str:
    """The page a reader lands on: the TOC root (index.html only redirects to it)."""
    return _redirect_target(HTML_DIR, "index.html") or "index.html"


def _sidebar_pages(html_dir: Path, page: str) -> list[str]:
    """Pages linked from the sidebar navigation of ``page`` (as html paths)."""
    text = (html_dir / page).read_text(encoding="utf-8")
    nav = re.search(r'<nav class="[^"]*\bbd-docs-nav\b[^"]*".*?</nav>', text, re.S)
    hrefs = re.findall(r'href="([^"#?]+\.html)[^"]*"', nav.group(0)) if nav else []
    out: list[str] = []
    for href in hrefs:
        path = urllib.parse.unquote(urllib.parse.urljoin(page, href))
        if "://" not in href and path not in out:
            out.append(path)
    return out


def _book_pages() -> list[str]:
    """Every html page (relative to HTML_DIR) listed in the TOC or the sidebar, TOC order first."""
    front = _front_page()
    pages = [front]
    for name in _toc_files(SRC_DIR):
        if name + ".html" not in pages:
            pages.append(name + ".html")
    for page in _sidebar_pages(HTML_DIR, front):
        if page not in pages:
            pages.append(page)
    return pages


PAGES = _book_pages()


def _source_of(page: str) -> Path | None:
    stem = page[: -len(".html")]
    for ext in (".ipynb", ".md"):
        candidate = SRC_DIR / (stem + ext)
        if candidate.is_file():
            return candidate
    return None


# Output MIME types in the order myst-nb's HTML renderer picks them (nb_mime_priority for "html").
_MIME_PRIORITY = [
    "application/vnd.jupyter.widget-view+json",
    "application/javascript",
    "text/html",
    "image/svg+xml",
    "image/png",
    "image/jpeg",
    "text/markdown",
    "text/latex",
    "text/plain",
]
_GLUE_PREFIX = "application/papermill.record/"
_HIDDEN_OUTPUT_TAGS = {"remove-cell", "remove-output", "remove_cell", "remove_output"}
_GLUE_BLOCK = re.compile(r"^[ \t]*(?:`{3,}|:{3,})\{glue(?::figure|:table|:any|:)?\}[ \t]+(\S+)", re.M)
_GLUE_ROLE = re.compile(r"\{glue(?::any|:)?\}`([^`]+)`")
_NAME_OPT = re.compile(r"^[ \t]*:name:[ \t]*(\S+)", re.M)
_FIGURE_BLOCK = re.compile(r"^[ \t]*(?:`{3,}|:{3,})\{(figure|glue:figure|glue:table|table)\}([^\n]*)\n((?:[ \t]*:[^\n]*\n)*)", re.M)
#: The number label Sphinx gives each captioned block (_config.yml numfig_format: the book's own
#: tables and figures are "Book table N" / "Book figure N", so "Table 3" always means the paper's).
_NUMBER_LABEL = {"figure": "Book figure", "glue:figure": "Book figure", "glue:table": "Book table",
                 "table": "Book table"}
_MD_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]+\)|<img\b|^[ \t]*(?:`{3,}|:{3,})\{(?:image|figure)\}", re.M | re.I)
_PIPE_TABLE_RULE = re.compile(r"^[ \t]*\|?[ \t]*:?-{3,}:?[ \t]*(\|[ \t]*:?-{3,}:?[ \t]*)+\|?[ \t]*$", re.M)
_TABLE_DIRECTIVE = re.compile(r"^[ \t]*(?:`{3,}|:{3,})\{(?:list-table|csv-table)\}", re.M)


def _rendered(data: dict) -> tuple[int, int]:
    """(images, tables) that one output's mime bundle renders to in HTML."""
    for mime in _MIME_PRIORITY:
        if mime in data:
            body = data[mime]
            body = "".join(body) if isinstance(body, list) else str(body)
            if mime.startswith("image/"):
                return 1, 0
            if mime == "text/html":
                return len(re.findall(r"<img\b", body, re.I)), len(re.findall(r"<table\b", body, re.I))
            return 0, 0
    return 0, 0


_FIGURE_REPR = re.compile(r"^<(?:matplotlib\.figure\.)?Figure size [^>]*>")


def _text_only_figure(data: dict) -> str | None:
    """The repr if a mime bundle is a matplotlib Figure that reached the page as text, not as an image
    (a Figure built outside pyplot when no inline backend has registered IPython's image formatter)."""
    if any(m.startswith("image/") or m == "text/html" for m in data):
        return None
    text = data.get("text/plain", "")
    text = "".join(text) if isinstance(text, list) else str(text)
    return text.strip() if _FIGURE_REPR.match(text.strip()) else None


@dataclass
class Expected:
    images: int = 0
    tables: int = 0
    figure_ids: list[str] = field(default_factory=list)
    #: named figure/table id -> the label its caption number must start with ("Fig." / "Table")
    labels: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _glue_outputs(nb: dict) -> dict[str, tuple[int, int, str | None]]:
    """Glued keys of one notebook -> (images, tables, text-only Figure repr) each renders to."""
    store: dict[str, tuple[int, int, str | None]] = {}
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            meta = (out.get("metadata") or {}).get("scrapbook") or {}
            if "name" in meta:
                prefix = meta.get("mime_prefix", _GLUE_PREFIX)
                data = {k[len(prefix):]: v for k, v in out.get("data", {}).items() if k.startswith(prefix)}
                store[meta["name"]] = (*_rendered(data), _text_only_figure(data))
    return store


@functools.lru_cache(maxsize=None)
def _glue_store() -> dict[str, tuple[int, int, str | None]]:
    """Glued keys of every notebook of the book (for a key glued in another notebook)."""
    store: dict[str, tuple[int, int, str | None]] = {}
    for page in PAGES:
        nb_path = _source_of(page)
        if nb_path is not None and nb_path.suffix == ".ipynb":
            store.update(_glue_outputs(json.loads(nb_path.read_text(encoding="utf-8"))))
    return store


def _expected(source: Path) -> Expected:
    """What the page built from ``source`` must show, read from the source (executed notebook)."""
    from docutils.nodes import make_id

    exp = Expected()
    if source.suffix == ".ipynb":
        nb = json.loads(source.read_text(encoding="utf-8"))
        cells = [(c.get("cell_type"), "".join(c.get("source", "")), c) for c in nb.get("cells", [])]
        own = _glue_outputs(nb)
    else:  # MyST markdown page: no outputs, only its markdown
        cells = [("markdown", source.read_text(encoding="utf-8"), {})]
        own = {}
    glue = {**_glue_store(), **own}
    for kind, text, cell in cells:
        tags = set((cell.get("metadata") or {}).get("tags", [])) if cell else set()
        if kind == "code":
            if tags & _HIDDEN_OUTPUT_TAGS:
                continue
            for out in cell.get("outputs", []):
                if out.get("output_type") in {"display_data", "execute_result"}:
                    if (out.get("metadata") or {}).get("scrapbook"):
                        continue  # a glue record: shown where a {glue} refers to it
                    imgs, tabs = _rendered(out.get("data", {}))
                    exp.images += imgs
                    exp.tables += tabs
                    if text_fig := _text_only_figure(out.get("data", {})):
                        exp.notes.append(f"a code cell shows a figure as text {text_fig!r}, not as an image")
        elif kind == "markdown":
            if tags & _HIDDEN_OUTPUT_TAGS:
                continue
            for key in _GLUE_BLOCK.findall(text) + _GLUE_ROLE.findall(text):
                key = key.split("::")[-1]
                if key not in glue:
                    exp.notes.append(f"glue key {key!r} not found in any notebook output")
                    continue
                imgs, tabs, text_fig = glue[key]
                exp.images += imgs
                exp.tables += tabs
                if text_fig:
                    exp.notes.append(
                        f"glued {key!r} is a figure without an image: the page shows the text "
                        f"{text_fig!r} (matplotlib Figure glued with no inline backend active)"
                    )
            exp.images += len(_MD_IMAGE.findall(text))
            exp.tables += len(_PIPE_TABLE_RULE.findall(text)) + len(_TABLE_DIRECTIVE.findall(text))
            for kind_, arg, options in _FIGURE_BLOCK.findall(text):
                label = _NUMBER_LABEL[kind_]
                key = arg.strip().split("::")[-1]
                if kind_ == "glue:figure" and key in glue and glue[key][1] and not glue[key][0]:
                    label = "Book table"  # a glued table captioned as a figure must still read as a table
                for name in _NAME_OPT.findall(options):
                    exp.figure_ids.append(make_id(name))
                    exp.labels[make_id(name)] = label
    return exp


# ------------------------------------------------------------------------------ server + browser


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - signature fixed by the base class
        pass


@pytest.fixture(scope="session")
def book_url():
    handler = functools.partial(_QuietHandler, directory=str(HTML_DIR))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="book-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Visit:
    """What happened while one page was open."""

    requests: list[str] = field(default_factory=list)  # local ones
    foreign: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    bad_responses: list[str] = field(default_factory=list)


@pytest.fixture(scope="session")
def context(tmp_path_factory):
    """One headless Chromium for the whole session, on a new empty profile (--user-data-dir)."""
    if not CHROMIUM.is_file():
        missing_browser(f"{CHROMIUM} not found (Debian packages chromium + chromium-driver)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - playwright is in requirements.lock
        missing_browser(f"playwright not importable: {exc}")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as pw:
        # Playwright passes the profile to Chromium as --user-data-dir.
        ctx = pw.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
            service_workers="block",
        )
        ctx.set_default_timeout(NAV_TIMEOUT_MS)
        ctx.foreign_log = []  # every non-local request of the session
        ctx.on("request", lambda req: None if is_local(req.url) else ctx.foreign_log.append(req.url))
        try:
            yield ctx
        finally:
            ctx.close()


def _console(visit: Visit, msg) -> None:
    if msg.type != "error":
        return
    where = (msg.location or {}).get("url", "")
    # Chromium itself asks for /favicon.ico when a page declares no icon; that 404 is the
    # browser's guess, not a resource of the book.
    if urllib.parse.urlsplit(where).path == "/favicon.ico":
        return
    visit.console_errors.append(f"{msg.text} ({where})" if where else msg.text)


def _open(context, url: str):
    """Open ``url`` in a new page; return (page, Visit) once it and its math have settled."""
    visit = Visit()
    page = context.new_page()
    page.on("request", lambda req: (visit.requests if is_local(req.url) else visit.foreign).append(req.url))
    page.on("console", lambda msg: _console(visit, msg))
    page.on("pageerror", lambda exc: visit.page_errors.append(str(exc)))
    page.on(
        "response",
        lambda resp: visit.bad_responses.append(f"{resp.status} {resp.url}") if resp.status >= 400 else None,
    )
    response = page.goto(url, wait_until="load")
    status = response.status if response is not None else None
    if status != 200:
        page.close()
        pytest.fail(f"{url}: HTTP {status}", pytrace=False)
    page.evaluate(
        """async () => {
            if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
                await MathJax.startup.promise;
            }
            await document.fonts.ready;
        }"""
    )
    return page, visit


_IMAGES_JS = """async () => {
    const imgs = [...document.images];
    await Promise.all(imgs.map(img => {
        if (img.loading === 'lazy') img.loading = 'eager';
        return img.complete ? null : new Promise(r => { img.onload = img.onerror = r; setTimeout(r, 10000); });
    }));
    return imgs.filter(i => !i.complete || i.naturalWidth === 0).map(i => i.getAttribute('src'));
}"""

_CONTENT_JS = """() => {
    const main = document.querySelector('article.bd-article') || document.querySelector('main') || document.body;
    return {
        images: main.querySelectorAll('img').length,
        tables: main.querySelectorAll('table').length,
        math: main.querySelectorAll('.math').length,
        mathjax: main.querySelectorAll('mjx-container').length,
        mathErrors: [...main.querySelectorAll('mjx-merror')].map(e => e.getAttribute('data-mjx-error') || e.textContent),
        ids: [...document.querySelectorAll('[id]')].map(e => e.id),
        numbers: Object.fromEntries([...main.querySelectorAll('[id]')].map(e => {
            const n = e.querySelector(':scope > figcaption .caption-number, :scope > caption .caption-number');
            return [e.id, n ? n.textContent.trim() : null];
        })),
        hrefs: [...document.querySelectorAll('a[href], area[href], link[href]')].map(a => a.href),
        title: document.title,
    };
}"""


@functools.lru_cache(maxsize=None)
def _anchors(path: Path) -> frozenset[str]:
    text = path.read_text(encoding="utf-8", errors="replace")
    return frozenset(re.findall(r"""\s(?:id|name)\s*=\s*["']([^"']+)["']""", text))


def _broken_links(page_url: str, base: str, hrefs: list[str], page_ids: set[str]) -> list[str]:
    """Same-site hrefs whose file or fragment does not exist in the built book."""
    broken = []
    for href in sorted(set(hrefs)):
        parts = urllib.parse.urlsplit(href)
        if parts.scheme not in {"http", "https"} or not href.startswith(base):
            continue  # other sites are links a reader may follow, not requests the book makes
        rel = urllib.parse.unquote(parts.path[len(urllib.parse.urlsplit(base).path):])
        target = (HTML_DIR / rel).resolve()
        if target.is_dir():
            target = target / "index.html"
        if HTML_DIR not in target.parents and target != HTML_DIR:
            broken.append(f"{href} (outside the book)")
            continue
        if not target.is_file():
            broken.append(f"{href} (no such file)")
            continue
        frag = urllib.parse.unquote(parts.fragment)
        if frag and target.suffix == ".html":
            same_page = href.split("#")[0] == page_url.split("#")[0]
            ids = page_ids if same_page else _anchors(target)
            if frag not in ids and frag not in _anchors(target):
                broken.append(f"{href} (no element with id {frag!r})")
    return broken


_READING_JS = r"""async () => {
    const main = document.querySelector('article.bd-article');
    const content = main.getBoundingClientRect();
    const style = getComputedStyle(main);
    const textRight = content.right - parseFloat(style.paddingRight);
    const out = {tables: [], truncated: [], figures: [], downloads: [], width: window.innerWidth,
                 warns: [...main.querySelectorAll('.admonition.warning')].some(
                     a => /reconstruct/i.test(a.textContent))};
    const visible = e => { const r = e.getBoundingClientRect();
                           return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden'; };
    // one search control in view (the theme's header and sidebar each drew one, overlapping)
    out.searches = [...document.querySelectorAll('.search-button-field, button.search-button, form.bd-search')]
        .filter(e => !e.closest('.search-button__wrapper') && visible(e))
        .map(e => e.className + ' at ' + Math.round(e.getBoundingClientRect().left) + ',' +
                  Math.round(e.getBoundingClientRect().top));
    // code toggles on the page ("Show code cell source/content"): pages show results, not code
    out.toggles = [...main.querySelectorAll('details.hide, .tag_hide-input, .tag_hide-cell, .tag_hide-output, div.cell_input')]
        .filter(visible).map(e => (e.closest('.cell') || e).className.slice(0, 80));
    document.querySelectorAll('details').forEach(d => { d.open = true; });
    for (const t of main.querySelectorAll('table')) {
        const r = t.getBoundingClientRect();
        if (!r.width) continue;
        const box = t.closest('figure, .cart19-journal, .cell_output, div.pst-scrollable-table-container')
                    || t.parentElement;
        const scroller = t.parentElement;
        const full = !!t.closest('.full-width');
        out.tables.push({id: (t.closest('[id]') || {}).id || '', right: Math.round(r.right),
                         width: Math.round(r.width), full: full,
                         scroll: scroller.scrollWidth - scroller.clientWidth,
                         limit: Math.round(full ? window.innerWidth : textRight)});
        for (const c of t.querySelectorAll('td, th')) {
            const text = c.textContent.trim();
            if (text === '...' || text === '\u2026') out.truncated.push((t.closest('[id]') || {}).id + ': a "..." cell');
        }
    }
    const body = main.innerText;
    const m = body.match(/\d+ rows \u00d7 \d+ columns/);
    if (m) out.truncated.push(m[0]);
    for (const img of main.querySelectorAll('figure img')) {
        const fig = img.closest('figure');
        const cap = fig.querySelector('figcaption');
        out.figures.push({src: img.getAttribute('src'), url: img.src, alt: img.getAttribute('alt') || '',
                          shown: img.getBoundingClientRect().width, id: fig.id || '',
                          caption: cap ? cap.textContent : '', full: fig.classList.contains('full-width'),
                          zoomable: img.classList.contains('cart19-zoomable')});
    }
    for (const a of main.querySelectorAll('a[download], a.reference.download')) {
        out.downloads.push({href: a.href, name: a.getAttribute('download') || a.textContent,
                            rows: parseInt((a.title.match(/^(\d+) rows/) || [])[1] || '-1')});
    }
    return out;
}"""

_SVG_TEXT = re.compile(r"<!-- (.*?) -->\s*<g [^>]*?transform=\"[^\"]*?scale\(([0-9.e-]+) -", re.S)
_SVG_VIEWBOX = re.compile(r'viewBox="0 0 ([0-9.]+) ([0-9.]+)"')


def svg_text_sizes(svg: str) -> tuple[float, list[tuple[str, float]]]:
    """(drawing width in SVG units, [(text, size in SVG units)]) of a matplotlib SVG whose text is
    drawn as paths: each text is an XML comment followed by a group scaled by size / 100."""
    m = _SVG_VIEWBOX.search(svg)
    width = float(m.group(1)) if m else float("nan")
    return width, [(html.unescape(t), float(k) * 100) for t, k in _SVG_TEXT.findall(svg)]


def _fetch(url: str) -> bytes:
    import base64
    import urllib.request

    if url.startswith("data:"):
        head, _, payload = url.partition(",")
        return base64.b64decode(payload) if head.endswith(";base64") else urllib.parse.unquote_to_bytes(payload)
    with urllib.request.urlopen(url, timeout=10) as resp:  # the local book server only
        return resp.read()


MIN_FIGURE_TEXT_PX = 9.0
MARK = "Reconstructed cohort"
#: figures too detailed for the text column: full-width and click-to-zoom
WIDE_FIGURES = ("fig-forest", "fig-swimmer")


def reading_problems(content: dict, check_width: bool) -> list[str]:
    """What :data:`_READING_JS` found that a reader would not accept (see the module docstring)."""
    problems = list(content["truncated"])
    if len(content["searches"]) > 1:
        problems.append(f"{len(content['searches'])} search controls in view: {content['searches']}")
    if content["toggles"]:
        problems.append(f"code on the page (a 'Show code cell' toggle or a code cell): "
                        f"{content['toggles']}")
    if check_width:
        for t in content["tables"]:
            if t["right"] > t["limit"] + 1 or t["scroll"] > 1:
                problems.append(f"table {t['id']!r} ({t['width']} px) overflows its column "
                                f"(right edge {t['right']} > {t['limit']} px, or scrolls "
                                f"{t['scroll']} px sideways)")
    for f in content["figures"]:
        name = f["id"] or f["src"]
        if f["id"] in WIDE_FIGURES and not (f["full"] and f["zoomable"]):
            problems.append(f"figure {name}: should span the page (full-width) and enlarge on a "
                            f"click (full-width: {f['full']}, zoomable: {f['zoomable']})")
        if len(f["alt"]) < 40:
            problems.append(f"figure {name}: alt text {f['alt']!r} does not say what it shows")
        if not f["src"].lower().endswith(".svg"):
            problems.append(f"figure {name}: {f['src']} is not an SVG")
            continue
        svg = _fetch(f["url"]).decode("utf-8")
        width, texts = svg_text_sizes(svg)
        marked = 'id="cart19-reconstructed"' in svg and any(MARK in t for t, _ in texts)
        if content["warns"] and not marked:
            problems.append(f"figure {name}: drawn on a page of reconstructed data without the "
                            f"{MARK!r} mark in the image")
        if marked and "reconstruct" not in f["caption"].lower():
            problems.append(f"figure {name}: its caption does not say 'reconstructed'")
        if check_width and texts and f["shown"]:
            size, text = min((k, t) for t, k in texts)
            px = size * f["shown"] / width
            if px < MIN_FIGURE_TEXT_PX - 0.05:
                problems.append(f"figure {name}: smallest text {text!r} is {px:.1f} px as shown "
                                f"({f['shown']:.0f} px wide), under {MIN_FIGURE_TEXT_PX} px")
    for d in content["downloads"]:
        try:
            data = _fetch(d["href"])
        except Exception as exc:  # noqa: BLE001 - any failure to fetch is the finding
            problems.append(f"download {d['name']!r} does not resolve: {exc}")
            continue
        if d["name"].endswith(".csv"):
            import io

            import pandas as pd

            frame = pd.read_csv(io.BytesIO(data))
            if d["rows"] >= 0 and len(frame) != d["rows"]:
                problems.append(f"download {d['name']!r}: {len(frame)} rows, the link promises "
                                f"{d['rows']}")
        elif not data:
            problems.append(f"download {d['name']!r} is empty")
    return problems


# ------------------------------------------------------------------------------------------ tests


def test_toc_pages_are_in_sidebar_and_built():
    toc = [name + ".html" for name in _toc_files(SRC_DIR)]
    missing = [p for p in PAGES if not (HTML_DIR / p).is_file()]
    assert not missing, f"pages listed in the TOC/sidebar but not built: {missing}"
    sidebar = set(_sidebar_pages(HTML_DIR, PAGES[0]))
    if toc:
        assert toc[0] == PAGES[0], f"index.html leads to {PAGES[0]}, the TOC root is {toc[0]}"
        not_in_nav = [p for p in toc[1:] if p not in sidebar]
        assert not not_in_nav, f"TOC pages missing from the sidebar of {PAGES[0]}: {not_in_nav}"
    assert len(PAGES) >= 2, f"the book lists only {PAGES}"


@pytest.mark.parametrize("page_path", PAGES)
def test_page(page_path, context, book_url):
    url = urllib.parse.urljoin(book_url, urllib.parse.quote(page_path))
    page, visit = _open(context, url)
    try:
        broken_images = page.evaluate(_IMAGES_JS)
        content = page.evaluate(_CONTENT_JS)
    finally:
        page.close()

    problems: list[str] = []
    if visit.foreign:
        problems.append("requests to other hosts:\n    " + "\n    ".join(sorted(set(visit.foreign))))
    if visit.page_errors:
        problems.append("page errors:\n    " + "\n    ".join(visit.page_errors))
    if visit.console_errors:
        problems.append("console errors:\n    " + "\n    ".join(visit.console_errors))
    if visit.bad_responses:
        problems.append("failed responses:\n    " + "\n    ".join(visit.bad_responses))
    if broken_images:
        problems.append(f"broken images: {broken_images}")
    broken = _broken_links(url, book_url, content["hrefs"], set(content["ids"]))
    if broken:
        problems.append("broken internal links:\n    " + "\n    ".join(broken))
    if content["math"] and not content["mathjax"]:
        problems.append(f"{content['math']} math elements but MathJax rendered none")
    if content["mathErrors"]:
        problems.append(f"MathJax errors: {content['mathErrors']}")

    source = _source_of(page_path)
    if source is not None:
        exp = _expected(source)
        problems += [f"{source.name}: {note}" for note in exp.notes]
        if content["images"] < exp.images:
            problems.append(
                f"{content['images']} images on the page, {source.name} renders {exp.images}"
            )
        if content["tables"] < exp.tables:
            problems.append(
                f"{content['tables']} tables on the page, {source.name} renders {exp.tables}"
            )
        missing_figs = [fid for fid in exp.figure_ids if fid not in content["ids"]]
        if missing_figs:
            problems.append(f"named figures/tables missing from the page: {missing_figs}")
        mislabelled = {fid: content["numbers"].get(fid) for fid, label in exp.labels.items()
                       if fid in content["ids"] and not re.fullmatch(
                           rf"{re.escape(label)} \d+(\.\d+)*", content["numbers"].get(fid) or "")}
        if mislabelled:
            problems.append(f"captions numbered wrongly (want 'Book figure N' for figures, 'Book "
                            f"table N' for tables): {mislabelled}")

    assert not problems, f"{page_path} ({content['title']!r}):\n  " + "\n  ".join(problems)


def _chapter_titles() -> dict[str, str]:
    titles = {}
    for page in PAGES:
        if not (HTML_DIR / page).is_file():
            continue
        text = (HTML_DIR / page).read_text(encoding="utf-8", errors="replace")
        m = re.search(r"<h1[^>]*>(.*?)</h1>", text, re.S)
        titles[page] = re.sub(r"<[^>]+>|¶|#", "", m.group(1)).strip() if m else page
    return titles


def _km_page(titles: dict[str, str]) -> str:
    for page, title in titles.items():
        if re.search(r"long-term|survival", title, re.I):
            return page
    return PAGES[1] if len(PAGES) > 1 else PAGES[0]


def test_search_finds_a_chapter(context, book_url):
    titles = _chapter_titles()
    chapter = _km_page(titles)
    words = sorted(re.findall(r"[A-Za-z]{5,}", titles[chapter]), key=len, reverse=True)
    assert words, f"no searchable word in the title of {chapter}: {titles[chapter]!r}"
    word = words[0].lower()

    page, visit = _open(context, urllib.parse.urljoin(book_url, urllib.parse.quote(PAGES[0])))
    try:
        # Type into the theme's search box (the dialog opened by the search button), as a reader would.
        page.locator("button.search-button:visible, .search-button-field:visible").first.click()
        box = page.locator("form.bd-search input[name='q']:visible").first
        box.fill(word)
        with page.expect_navigation(wait_until="load"):
            box.press("Enter")
        assert "search.html" in page.url and f"q={word}" in page.url, page.url
        results = page.locator("#search-results ul.search li a")
        results.first.wait_for(state="attached", timeout=NAV_TIMEOUT_MS)
        hrefs = [urllib.parse.urlsplit(h).path.lstrip("/") for h in results.evaluate_all("as => as.map(a => a.href)")]
    finally:
        page.close()
    assert chapter in hrefs, f"searching {word!r} did not list {chapter}; got {hrefs}"
    foreign = sorted(set(visit.foreign))
    assert not foreign, "search requested other hosts:\n  " + "\n  ".join(foreign)
    errors = visit.console_errors + visit.page_errors
    assert not errors, "errors while searching:\n  " + "\n  ".join(errors)


def test_screenshots(context, book_url):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    chapter = _km_page(_chapter_titles())
    shots = {"front_page.png": PAGES[0], "km_chapter.png": chapter}
    for name, page_path in shots.items():
        page, _visit = _open(context, urllib.parse.urljoin(book_url, urllib.parse.quote(page_path)))
        try:
            # The top of the page, up to 2400 px: a long chapter's full height (>14000 px) is
            # unreadable as one picture and slow to encode.
            height = min(page.evaluate("document.documentElement.scrollHeight"), 2400)
            clip = {"x": 0, "y": 0, "width": 1280, "height": height}
            page.screenshot(path=str(SCREENSHOTS / name), full_page=True, clip=clip)
        finally:
            page.close()
        assert (SCREENSHOTS / name).stat().st_size > 10_000, f"{name} ({page_path}) looks empty"


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("page_path", PAGES)
def test_reading(page_path, width, context, book_url):
    """The page as a reader sees it at ``width`` px: tables within their column (1280 px), none cut,
    figure text of at least 9 px (1280 px), SVG figures with alt text and, from reconstructed data,
    the mark; every download resolves."""
    url = urllib.parse.urljoin(book_url, urllib.parse.quote(page_path))
    page, visit = _open(context, url)
    try:
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(100)
        content = page.evaluate(_READING_JS)
    finally:
        page.close()
    problems = reading_problems(content, check_width=width >= 1280)
    if visit.foreign:
        problems.append("requests to other hosts: " + ", ".join(sorted(set(visit.foreign))))
    assert not problems, f"{page_path} at {width} px:\n  " + "\n  ".join(problems)


def test_figure_enlarges_on_click(context, book_url):
    """Clicking the forest plot shows it at the window's width; Escape closes it."""
    page_path = next((p for p in PAGES if p.endswith("22_forest.html")), None)
    if page_path is None:
        pytest.skip("no forest-plot chapter in this book")
    page, visit = _open(context, urllib.parse.urljoin(book_url, urllib.parse.quote(page_path)))
    try:
        img = page.locator("#fig-forest img").first
        small = img.bounding_box()["width"]
        img.click()
        big = page.locator(".cart19-zoom img")
        big.wait_for(state="visible")
        assert big.evaluate("e => e.src") == img.evaluate("e => e.src")
        assert big.bounding_box()["width"] > small
        page.keyboard.press("Escape")
        assert page.locator(".cart19-zoom").is_hidden()
    finally:
        page.close()
    assert not visit.page_errors and not visit.console_errors


def _scorecard_counts() -> dict:
    """What the scorecard's filters must show, counted from the committed scorecard file."""
    import pandas as pd

    from cart19.presentation.tables import SOURCE_NAMES

    card = pd.read_csv(REPO / "data" / "derived" / "scorecard.csv")
    section = card["source"].map(lambda s: SOURCE_NAMES.get(s, s))
    return {"all": len(card), "differs": int((card["status"] == "differs").sum()),
            "table3": int((section == "Table 3").sum()),
            "table3_exact": int(((section == "Table 3") & (card["status"] == "exact")).sum()),
            "table3_exact_fitted": int(((section == "Table 3") & (card["status"] == "exact")
                                        & (card["basis"] == "fitted")).sum())}


_INFO = re.compile(r"of ([\d,]+) entries")


def test_scorecard_filters_work(context, book_url):
    """The scorecard's filter panes (part of the paper, status, basis) and its "Differences only"
    button narrow the table to the rows the scorecard file says they should; Clear All restores it.
    The page stays under 8,000 px tall at 1280 px."""
    page_path = next((p for p in PAGES if p.endswith("12_scorecard.html")), None)
    if page_path is None:
        pytest.skip("no scorecard chapter in this book")
    want = _scorecard_counts()
    page, visit = _open(context, urllib.parse.urljoin(book_url, urllib.parse.quote(page_path)))
    try:
        info = page.locator("#cart19-scorecard_info")
        info.wait_for(state="visible")

        def shown() -> int:
            page.wait_for_timeout(150)
            return int(_INFO.search(info.inner_text()).group(1).replace(",", ""))

        assert shown() == want["all"]
        button = page.get_by_role("button", name="Differences only")
        button.click()
        assert shown() == want["differs"]
        button.click()
        assert shown() == want["all"]

        def pick(pane: str, value: str) -> None:
            box = page.locator("div.dtsp-searchPane").filter(
                has=page.locator(f"input[placeholder='{pane}']"))
            box.locator("tr").filter(has=page.locator("span.dtsp-name", has_text=re.compile(
                rf"^{re.escape(value)}$"))).first.click()

        pick("Part of the paper", "Table 3")
        assert shown() == want["table3"]
        pick("Status", "exact")
        assert shown() == want["table3_exact"]
        pick("Basis", "fitted")
        assert shown() == want["table3_exact_fitted"]
        page.get_by_role("button", name="Clear All").click()
        assert shown() == want["all"]
        height = page.evaluate("document.documentElement.scrollHeight")
    finally:
        page.close()
    assert height < 8000, f"the scorecard page is {height} px tall at 1280 px"
    assert not visit.foreign and not visit.page_errors and not visit.console_errors, (
        visit.foreign, visit.page_errors, visit.console_errors)


def test_vendored_datatables_is_the_installed_one():
    """book/_static/itables/ holds the bundle of the itables in the lock, byte for byte."""
    import itables

    pkg = Path(itables.__file__).parent / "html"
    for name in ("dt_bundle.js", "dt_bundle.css"):
        vendored = REPO / "book" / "_static" / "itables" / name
        assert vendored.read_bytes() == (pkg / name).read_bytes(), (
            f"{vendored} differs from {pkg / name}: copy it again (book/_static/itables/README.md)")


def test_whole_session_requested_only_localhost(context, book_url):
    """Runs last in this module: nothing the book did in this session went to another host."""
    assert not context.foreign_log, "the book requested other hosts:\n  " + "\n  ".join(
        sorted(set(context.foreign_log))
    )
