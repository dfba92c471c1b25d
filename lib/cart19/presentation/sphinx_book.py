"""Sphinx extension: the book's footer (repository, version, build date) and its bibliography style.

The footer says which sources a page was built from: the package version, the *sources commit*
(the last commit that changed the chapters, the package, the data, the executed notebooks or the
book's configuration: :mod:`cart19.book.provenance`), that commit's date (so two builds of the
same sources print the same footer: the date is the commit's, never the clock's), whether the
checkout held uncommitted changes to them, and a link to the repository. The build hands the
footer the same account of the sources that it puts in the render key, so committing the sources
re-renders the footer that names the commit (it used to name the commit before). The URL is the
``cart19_repository_url`` setting of ``_config.yml`` or, if that is empty, the ``origin`` remote of
the checkout; a copy without git history (e.g. the clean copies of tests/test_determinism.py) says
so instead of a commit.

Why own code: jupyter-book's ``extra_footer`` is static text; the commit is known only at build
time. This is the smallest piece that puts it there (one ``config-inited`` handler).
"""
from __future__ import annotations

import html
import json
import os
import urllib.parse
from pathlib import Path

__all__ = ["AuthorYearLabels", "AuthorYearStyle", "commit_info", "footer_html", "setup"]

from pybtex.plugin import register_plugin

from cart19.book import provenance
from pybtex.style.formatting.plain import Style as _Plain
from pybtex.style.labels import BaseLabelStyle


class AuthorYearLabels(BaseLabelStyle):
    """Labels "Kaplan and Meier, 1958" / "Zhang et al., 2020" for the reference list, so that the
    list reads like the (Author, year) citations of the text (``bibtex_reference_style:
    author_year``); pybtex's plain style numbers the list instead, which no citation refers to."""

    def format_labels(self, sorted_entries):
        for entry in sorted_entries:
            people = entry.persons.get("author") or entry.persons.get("editor") or []
            names = [" ".join(p.last_names) for p in people if p.last_names]
            etal = "others" in names or len(names) > 2  # BibTeX's "and others" is et al.
            names = [n for n in names if n != "others"]
            if not names:  # a corporate author such as {GraphPad Software} or a web page
                org = entry.fields.get("organization") or entry.fields.get("publisher") or ""
                names = [str(org or entry.key)]
            who = f"{names[0]} et al." if etal else " and ".join(names)
            yield f"{who}, {entry.fields.get('year', 'n.d.')}".replace("{", "").replace("}", "")


class AuthorYearStyle(_Plain):
    """pybtex's plain entries with author-year labels, sorted by author then year."""
    default_label_style = AuthorYearLabels


register_plugin("pybtex.style.formatting", "cart19_author_year", AuthorYearStyle)


def commit_info(root: Path) -> dict[str, str]:
    """``{"commit", "short", "date", "dirty", "remote"}``: the sources commit of the checkout
    holding ``root`` (:func:`cart19.book.provenance.source_commit`; empty strings when it is not a
    git checkout)."""
    return provenance.source_commit(root)


def _web_url(remote: str) -> str:
    """A browsable URL for a git remote (git@host:owner/repo.git -> https://host/owner/repo)."""
    if remote.startswith("git@") and ":" in remote:
        host, path = remote[4:].split(":", 1)
        remote = f"https://{host}/{path}"
    if not remote.startswith(("https://", "http://")):
        # a clone of a local path or file:// remote has no page a reader can open: no link
        return ""
    parts = urllib.parse.urlsplit(remote)  # drop any user:token@ from the address
    remote = urllib.parse.urlunsplit(parts._replace(netloc=(parts.hostname or "") + (f":{parts.port}" if parts.port else "")))
    return remote[:-4] if remote.endswith(".git") else remote


def footer_html(version: str, info: dict[str, str], repository_url: str = "") -> str:
    url = repository_url or _web_url(info.get("remote", ""))
    parts = [f"cart19 {html.escape(version)}"]
    if info.get("commit"):
        commit = html.escape(info["short"])
        if url:
            commit = (f'<a href="{html.escape(url)}/commit/{html.escape(info["commit"])}">'
                      f"{commit}</a>")
        dirty = " with uncommitted changes" if info.get("dirty") else ""
        parts.append(f"built from commit {commit} of {html.escape(info['date'])}{dirty} (the "
                     "last commit that changed the chapters, code or data)")
    else:
        parts.append("built from a copy without git history")
    if url:
        parts.append(f'source: <a href="{html.escape(url)}">{html.escape(url)}</a>')
    else:
        parts.append("source: the git repository this book is built from (no web address configured)")
    parts.append("figures and numbers drawn from a reconstructed cohort, not the trial's data")
    return '<p class="cart19-footer">' + " · ".join(parts) + "</p>"


def _root(app) -> Path:
    """The checkout the book is built from: the one holding the (staged) source directory, else
    ``CART19_ROOT``."""
    top = provenance.toplevel(Path(app.srcdir))
    if top:
        return Path(top)
    return Path(os.environ.get("CART19_ROOT") or app.srcdir)


def _config_inited(app, config) -> None:
    try:
        from cart19 import __version__ as version
    except ImportError:  # pragma: no cover - the package is installed with the book
        version = "?"
    handed = Path(app.srcdir) / provenance.SOURCES_FILE  # the build's, the one in its render key
    info = json.loads(handed.read_text()) if handed.is_file() else commit_info(_root(app))
    footer = footer_html(version, info, config.cart19_repository_url)
    options = dict(config.html_theme_options or {})
    options["extra_footer"] = footer + options.get("extra_footer", "")
    config.html_theme_options = options


def setup(app) -> dict:
    app.add_config_value("cart19_repository_url", "", "html")
    app.connect("config-inited", _config_inited)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
