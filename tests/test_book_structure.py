"""The book's structure (issue 15 item 5): sidebar parts, methods after the paper's sections, a
bibliography cited with {cite}, a footer that names the sources a page was built from, and no code
on the pages (the notebooks keep it).

Source-level tests run on every checkout; the rendered-html tests run when book/_build/html exists
(``python -m cart19 build``) and are skipped otherwise.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml
from pybtex.database import parse_file

from cart19.presentation import sphinx_book

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "book" / "_build" / "html" / "book"
BIB = ROOT / "book" / "references.bib"
CHAPTERS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.md"))
PAGES = CHAPTERS + [ROOT / "book" / "intro.md"]
CITE = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]+)`")

PARTS = ["The paper, reproduced", "Beyond the paper", "How it was made"]


def toc():
    return yaml.safe_load((ROOT / "_toc.yml").read_text())


def test_sidebar_has_the_three_parts_in_order():
    assert [p["caption"] for p in toc()["parts"]] == PARTS


def test_every_chapter_is_in_one_part_and_methods_come_after_the_paper():
    files = [c["file"] for p in toc()["parts"] for c in p["chapters"]]
    stems = [f"book/{p.stem}" for p in CHAPTERS]
    assert sorted(set(files) & set(stems)) == sorted(stems) and len(files) == len(set(files))
    part_of = {c["file"]: i for i, p in enumerate(toc()["parts"]) for c in p["chapters"]}
    # the paper's sections (01, 04-12) in the first part; the audit and the reconstruction, which
    # say how the data were made, in the last, after everything the paper reports
    assert part_of["book/01_design"] == 0 and part_of["book/07_longterm"] == 0
    assert part_of["book/02_audit"] == 2 and part_of["book/03_reconstruction"] == 2
    assert files.index("book/02_audit") > files.index("book/12_scorecard")
    assert part_of["book/references"] == 2


def cited_keys():
    keys = {}
    for page in PAGES:
        for group in CITE.findall(page.read_text()):
            for key in group.split(","):
                keys.setdefault(key.strip(), page.name)
    return keys


def test_every_citation_is_in_the_bibliography():
    bib = parse_file(str(BIB)).entries
    missing = {k: page for k, page in cited_keys().items() if k not in bib}
    assert not missing, f"cited but not in book/references.bib: {missing}"


def test_the_bibliography_holds_what_the_book_relies_on():
    """The paper, the methods the book relies on (Guyot 2012, lifelines, GraphPad's HR
    definitions), and the trials of the paper's reference list that the book compares with."""
    bib = parse_file(str(BIB)).entries
    assert {"zhang2020", "guyot2012", "lifelines", "graphpad_survival"} <= set(bib)
    assert bib["zhang2020"].fields["doi"] == "10.1182/bloodadvances.2020001466"
    cited = cited_keys()
    assert {"zhang2020", "guyot2012", "lifelines", "graphpad_survival"} <= set(cited)
    # every trial the book cites is one the paper's own reference list names (by first author
    # and year): the book does not invent context the paper did not use
    paper = (Path("/work/shared/paper/zhang2020_bloodadv_cd19_cart_ball.txt"))
    refs = paper.read_text() if paper.exists() else ""
    if not refs:
        pytest.skip("the paper's text is not on this machine")
    trials = [k for k in cited if bib[k].fields.get("journal", "") in
              {"New England Journal of Medicine", "Blood", "Lancet", "Leukemia",
               "Science Translational Medicine", "Journal of Clinical Investigation"}]
    assert trials
    for key in trials:
        first = bib[key].persons["author"][0].last_names[0].replace("{\\`e}", "è")
        year = bib[key].fields["year"]
        assert re.search(rf"{re.escape(first)} [A-Z]+,.*{year}", refs), (key, first, year)


def test_reference_list_labels_read_author_year():
    style = sphinx_book.AuthorYearStyle()
    bib = parse_file(str(BIB))
    labels = dict(zip(bib.entries, style.format_labels(bib.entries.values())))
    assert labels["zhang2020"] == "Zhang et al., 2020"
    assert labels["kaplan1958"] == "Kaplan and Meier, 1958"
    assert labels["guyot2012"] == "Guyot et al., 2012"  # four authors
    assert labels["cox1972"] == "Cox, 1972"
    assert all(not re.fullmatch(r"\d+", v) for v in labels.values())


def _git(cwd, *args, env=None):
    return subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True,
                          text=True, env=env).stdout.strip()


def test_footer_is_the_commit_and_its_date_not_the_clock(tmp_path):
    import os
    env = dict(os.environ, GIT_AUTHOR_DATE="2021-02-03T04:05:06Z",
               GIT_COMMITTER_DATE="2021-02-03T04:05:06Z", GIT_AUTHOR_NAME="t",
               GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t")
    _git(tmp_path, "init", "-q")
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "f").write_text("x")
    _git(tmp_path, "add", "lib/f")
    _git(tmp_path, "commit", "-qm", "c", env=env)
    _git(tmp_path, "remote", "add", "origin", "git@github.com:owner/cart19.git")
    info = sphinx_book.commit_info(tmp_path)
    assert info["date"] == "2021-02-03" and len(info["commit"]) == 40
    footer = sphinx_book.footer_html("1.2.3", info)
    assert "cart19 1.2.3" in footer and info["short"] in footer and "2021-02-03" in footer
    assert 'href="https://github.com/owner/cart19"' in footer
    assert f'href="https://github.com/owner/cart19/commit/{info["commit"]}"' in footer
    assert sphinx_book.footer_html("1.2.3", info) == footer  # same commit, same footer
    assert "reconstructed cohort" in footer
    # an explicit URL wins over the remote; a copy without history says so
    assert "https://example.org/x" in sphinx_book.footer_html("1", info, "https://example.org/x")
    bare = sphinx_book.footer_html("1", sphinx_book.commit_info(tmp_path / "nogit"))
    assert "without git history" in bare


def test_footer_names_the_sources_commit_and_rerenders_when_it_changes(tmp_path):
    """Issue 15: the footer named the commit before the one that committed the book, because the
    render key did not change with the commit. It names the last commit that changed the sources
    (cart19.book.provenance.SOURCES), says when they hold uncommitted changes, and the render key
    holds exactly that, so committing the sources re-renders the footer."""
    import os

    from cart19.book import provenance
    from cart19.book import render as R

    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@t")
    _git(tmp_path, "init", "-q")
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "01_a.md").write_text("# A\n")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-qm", "sources", env=env)
    first = _git(tmp_path, "rev-parse", "HEAD")
    files = {"book/x.ipynb": b"{}"}

    def state():
        info = provenance.source_commit(tmp_path)
        return info, R.render_key(files, info), sphinx_book.footer_html("1", info)

    info, key, footer = state()
    assert info["commit"] == first and not info["dirty"]
    assert f"built from commit {first[:7]}" in footer and "uncommitted" not in footer
    # a commit that touches no source (the README, tests) changes neither footer nor key
    (tmp_path / "README.md").write_text("readme\n")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-qm", "readme", env=env)
    assert state() == (info, key, footer)
    # an uncommitted change of a source: the footer says so, and the key changes
    (tmp_path / "notebooks" / "01_a.md").write_text("# A, edited\n")
    dirty, key_dirty, footer_dirty = state()
    assert dirty["commit"] == first and dirty["dirty"] and key_dirty != key
    assert "with uncommitted changes" in footer_dirty
    # committing it: the footer names the new commit, and the key differs again (a re-render)
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-qm", "edit", env=env)
    new, key_new, footer_new = state()
    head = _git(tmp_path, "rev-parse", "HEAD")
    assert new["commit"] == head != first and not new["dirty"]
    assert key_new not in (key, key_dirty) and f"built from commit {head[:7]}" in footer_new
    # executed notebooks rendered before they are installed count as uncommitted
    out = tmp_path / "new.ipynb"
    out.write_text("{}")
    (tmp_path / "book").mkdir()
    assert provenance.pending_outputs(tmp_path / "book", {"x": out})
    (tmp_path / "book" / "x.ipynb").write_text("{}")
    assert not provenance.pending_outputs(tmp_path / "book", {"x": out})
    assert provenance.source_commit(tmp_path, pending=True)["dirty"]


def test_pages_show_no_code_that_only_draws():
    """Cells of the chapters that draw a table or figure carry remove-input (the code stays in
    notebooks/*.md, which JupyterLab opens); only the parameters cell remains as code."""
    shown = []
    for page in CHAPTERS:
        text = page.read_text()
        for m in re.finditer(r"```\{code-cell\}[^\n]*\n((?::[^\n]*\n)*)", text):
            opts = m.group(1)
            if "parameters" in opts or "remove-input" in opts or "remove-cell" in opts:
                continue
            shown.append(f"{page.name}:{text[:m.start()].count(chr(10)) + 1}")
    assert not shown, f"code cells shown on the page: {shown}"


@pytest.fixture(scope="module")
def html_pages():
    if not HTML.exists():
        pytest.skip("book not built (python -m cart19 build)")
    return {p.name: p.read_text() for p in sorted(HTML.glob("*.html"))}


def test_every_page_has_the_footer(html_pages):
    for name, text in html_pages.items():
        assert 'class="cart19-footer"' in text, name
        m = re.search(r'<p class="cart19-footer">(.*?)</p>', text, re.S)
        assert re.search(r"cart19 \S+", m.group(1)), name
        assert ("built from commit" in m.group(1) or "without git history" in m.group(1)), name


def test_rendered_references_and_citations(html_pages):
    refs = html_pages["references.html"]
    entries = re.findall(r'role="doc-biblioentry"', refs)
    assert len(entries) == len(parse_file(str(BIB)).entries)
    assert "Zhang et al., 2020" in refs and "Guyot et al., 2012" in refs
    # a citation links to its entry on the references page
    assert re.search(r'class="bibtex-citation"[^>]*>\[<a class="reference internal" '
                     r'href="references.html#', html_pages["07_longterm.html"])
    assert "{cite" not in "".join(html_pages.values())  # no unrendered role


def test_rendered_sidebar_parts(html_pages):
    captions = re.findall(r'<p aria-level="2" class="caption"[^>]*>\s*<span class="caption-text">'
                          r'([^<]+)</span>', html_pages["intro.html"])
    assert captions == PARTS


def test_preview_screenshots_are_committed_and_in_the_readme():
    """Issue 15: the front page, Figure 3, Table 3 and the forest plot at 1280 and 390 px, under
    book/_static/preview/ (python -m cart19.presentation.preview) and shown in the README."""
    from cart19.presentation.preview import SHOTS, WIDTHS

    readme = (ROOT / "README.md").read_text()
    assert [s[0] for s in SHOTS] == ["front_page", "figure3", "table3", "forest"]
    for stem, _page, _selector in SHOTS:
        for width in WIDTHS:
            rel = f"book/_static/preview/{stem}_{width}.png"
            data = (ROOT / rel).read_bytes()
            assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000, rel
            png_width = int.from_bytes(data[16:20], "big")
            assert png_width <= width, (rel, png_width)  # an element of a page that wide
            assert f"]({rel})" in readme, f"README does not show {rel}"


def test_every_chapter_opens_with_key_points():
    """A "Key points" box near the top of each chapter (after its data warning, before the text);
    chapter 26 is trust's (issue 17) and has its own summary."""
    missing = []
    for page in CHAPTERS:
        if page.name.startswith("26_"):
            continue
        text = page.read_text()
        body = text[text.index("\n# "):]
        at = body.find(":::{admonition} Key points")
        first_code = body.find("```{code-cell}")
        if at < 0 or (0 <= first_code < at):
            missing.append(page.name)
    assert not missing, f"no key-points box before the first code cell: {missing}"


@pytest.mark.parametrize("remote, url", [
    ("/work/main", ""), ("file:///srv/cart19.git", ""), ("../cart19", ""),
    ("git@github.com:owner/cart19.git", "https://github.com/owner/cart19"),
    ("https://user:token@example.org:8443/owner/cart19.git", "https://example.org:8443/owner/cart19"),
])
def test_footer_links_only_a_web_address(remote, url):
    """A clone of a local path must not get a footer link to a page that does not exist (the
    fresh-clone browser test found /work/main linked from every page); credentials never show."""
    assert sphinx_book._web_url(remote) == url
    info = {"commit": "a" * 40, "short": "aaaaaaa", "date": "2026-12-03", "remote": remote}
    footer = sphinx_book.footer_html("1.0", info)
    assert ("href" in footer) == bool(url) and "token" not in footer
