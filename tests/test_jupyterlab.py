"""A chapter in a real JupyterLab (issue 15, item 6): open notebooks/NN_*.md as a notebook
(jupytext), run all cells, see a figure and a journal table among the outputs and each glue
caption in the rendered markdown with no "Unknown Directive" error box of jupyterlab-myst (Lab runs
with ``cart19.book.lab.LabContentsManager``, as ``make lab`` does), save, and find the file byte for
byte as committed (so ``git diff`` stays empty and the ``cart19`` front matter the build relies on
survives).

JupyterLab is started from this checkout's environment on 127.0.0.1 with a throwaway token and
config, settings and runtime directories under pytest's tmp_path; it opens ``.md`` files with
the "Jupytext Notebook" viewer through a user setting in that directory. Chromium (Playwright)
drives the page as a reader would: the Run menu's "Run All Cells", then Ctrl+S. The chapter's
file is restored from its bytes afterwards whatever happens.

Errors raised by JupyterLab's own scripts in the page are reported as a warning, not a failure;
an error of the chapter (a traceback in an output) fails the test.

Also here, without a browser: opening and saving every chapter through jupytext's contents
manager (what Lab does on save, with the metadata Lab adds) leaves each file unchanged.

Skips when Chromium or Playwright is missing on a developer machine; fails when ``CI=true``.
"""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import warnings
from pathlib import Path

import pytest
from browser_support import CHROMIUM, CHROMIUM_ARGS, is_local, missing_browser

with warnings.catch_warnings():  # the `browser` mark, as in test_browser.py
    warnings.simplefilter("ignore", pytest.PytestUnknownMarkWarning)
    pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.md"))
#: a chapter that writes no data file, draws a figure and shows journal tables, and runs in
#: about half a minute
LAB_CHAPTER = "notebooks/22_forest.md"


def _contents_manager(root: Path):
    from jupyter_server.services.contents.largefilemanager import LargeFileManager
    from jupytext.sync_contentsmanager import build_sync_jupytext_contents_manager_class

    return build_sync_jupytext_contents_manager_class(LargeFileManager)(root_dir=str(root))


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_lab_save_leaves_the_chapter_unchanged(path, tmp_path):
    """What Lab sends on save (outputs, execution counts, language_info, cell execution timings)
    is dropped by notebooks/jupytext.toml; the file comes back byte for byte."""
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "jupytext.toml").write_bytes(
        (REPO / "notebooks" / "jupytext.toml").read_bytes())
    before = path.read_bytes()
    (tmp_path / "notebooks" / path.name).write_bytes(before)
    cm = _contents_manager(tmp_path)
    rel = f"notebooks/{path.name}"
    model = cm.get(rel, content=True, type="notebook")
    nb = model["content"]
    assert nb["metadata"]["cart19"].keys() >= {"reads", "writes"}
    assert nb["metadata"]["kernelspec"]["language"] == "python"
    nb["metadata"]["language_info"] = {"name": "python", "version": "3.11.2"}
    nb["metadata"]["widgets"] = {"application/vnd.jupyter.widget-state+json": {}}
    for cell in nb["cells"]:
        cell["metadata"]["execution"] = {"iopub.status.idle": "2026-01-01T00:00:00Z"}
        cell["metadata"]["scrolled"] = True
        cell["metadata"]["trusted"] = True
        if cell["cell_type"] == "code":
            cell["execution_count"] = 7
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "run\n"}]
    cm.save({"type": "notebook", "format": "json", "content": nb}, rel)
    after = (tmp_path / "notebooks" / path.name).read_bytes()
    assert after == before, f"saving {path.name} from JupyterLab would rewrite it"


def _captions(md: str) -> list[str]:
    """The first words of each {glue:figure} / {glue:table} caption of a chapter, as rendered
    text (bold and italics marks dropped)."""
    out = []
    for m in re.finditer(r"^(`{3,}|:{3,})\{glue:(?:figure|table)\}[^\n]*\n((?::[^\n]*\n)*)\n*"
                         r"(?P<body>[^\n]+)", md, re.M):
        words = re.sub(r"[*_]", "", m["body"]).split()[:6]
        if words:
            out.append(" ".join(words))
    return out


def test_lab_sees_captions_and_saves_the_glue_directives_back(tmp_path):
    """What Lab gets from cart19.book.lab.LabContentsManager (``make lab``): every chapter's
    markdown without a glue directive (jupyterlab-myst drew each as an "Unknown Directive" box),
    its caption still there; what Lab saves back is the chapter, byte for byte."""
    import asyncio

    from cart19.book.lab import LabContentsManager

    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "jupytext.toml").write_bytes(
        (REPO / "notebooks" / "jupytext.toml").read_bytes())
    for path in CHAPTERS:
        (tmp_path / "notebooks" / path.name).write_bytes(path.read_bytes())
    cm = LabContentsManager(root_dir=str(tmp_path))

    async def round_trip(name: str) -> tuple[str, bytes]:
        rel = f"notebooks/{name}"
        model = await cm.get(rel, content=True, type="notebook")
        md = "\n".join(c["source"] for c in model["content"]["cells"]
                       if c["cell_type"] == "markdown")
        for cell in model["content"]["cells"]:
            cell["metadata"]["trusted"] = True
        await cm.save({"type": "notebook", "format": "json", "content": model["content"]}, rel)
        return md, (tmp_path / rel).read_bytes()

    from concurrent.futures import ThreadPoolExecutor

    n_captions = 0
    for path in CHAPTERS:
        # in a thread of its own: test_browser.py's session browser (Playwright's sync API) keeps
        # an asyncio loop running in this one when both modules run in one pytest process
        with ThreadPoolExecutor(1) as pool:
            md, after = pool.submit(asyncio.run, round_trip(path.name)).result()
        assert not re.search(r"^(`{3,}|:{3,})\{glue", md, re.M), path.name
        text = " ".join(re.sub(r"[*_]", "", md).split())
        for caption in _captions(path.read_text()):
            assert caption in text, (path.name, caption)
            n_captions += 1
        assert after == path.read_bytes(), f"a Lab save rewrote {path.name}"
    assert n_captions >= 60  # 20 figures and 59 tables in the chapters (2026-12)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    """A JupyterLab server on this checkout; yields its base URL with the token."""
    if not CHROMIUM.is_file():
        missing_browser(f"{CHROMIUM} not found (Debian packages chromium + chromium-driver)")
    port, token = _free_port(), "cart19-test-" + os.urandom(8).hex()
    settings = tmp_path / "lab-settings"
    plugin = settings / "@jupyterlab" / "docmanager-extension"
    plugin.mkdir(parents=True)
    (plugin / "plugin.jupyterlab-settings").write_text(json.dumps(
        {"defaultViewers": {"markdown": "Jupytext Notebook", "myst": "Jupytext Notebook"}}))
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), IPYTHONDIR=str(tmp_path / "ipython"),
               MPLCONFIGDIR=str(tmp_path / "mpl"))
    env.pop("JPY_SESSION_NAME", None)
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}",
           "--ip=127.0.0.1", "--allow-root", f"--IdentityProvider.token={token}",
           f"--ServerApp.root_dir={REPO}", f"--LabApp.user_settings_dir={settings}",
           # as `make lab`: the glue directives reach jupyterlab-myst as captions it can draw
           "--ServerApp.contents_manager_class=cart19.book.lab.LabContentsManager",
           f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}",
           "--LabApp.news_url=", "--LabApp.extension_manager=readonly",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    log = open(tmp_path / "lab.log", "w")
    proc = subprocess.Popen(cmd, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            if proc.poll() is not None:
                break
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not start in 60 s:\n" + (tmp_path / "lab.log").read_text())
        if proc.poll() is not None:
            pytest.fail("JupyterLab exited:\n" + (tmp_path / "lab.log").read_text())
        yield base, token
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _drive(base: str, token: str, tmp_path: Path, path: Path) -> dict:
    """The browser part of the test, in its own thread: Playwright's sync API refuses to run
    in a thread whose asyncio loop is already running (tests/test_browser.py's session
    browser, when both modules run in one pytest process)."""
    from playwright.sync_api import sync_playwright

    foreign, errors, box, n_fig = [], [], None, 0
    with sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=str(CHROMIUM), headless=True,
            args=CHROMIUM_ARGS, viewport={"width": 1280, "height": 900})
        ctx.set_default_timeout(60_000)
        ctx.on("request", lambda r: None if is_local(r.url) else foreign.append(r.url))
        page = ctx.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{base}/lab/tree/{LAB_CHAPTER}?token={token}")
        page.locator(".jp-Notebook .jp-Cell").first.wait_for(state="visible", timeout=90_000)

        def accept_kernel() -> None:
            """Lab may ask which kernel to start ("Select Kernel"): take its proposal, the
            chapter's kernelspec (Python 3, ipykernel)."""
            dialog = page.locator(".jp-Dialog", has_text="Select Kernel")
            if dialog.count() and dialog.first.is_visible():
                dialog.locator("button", has_text=re.compile(r"^Select$")).first.click()

        page.wait_for_timeout(3000)
        accept_kernel()
        # the kernel is up when the toolbar's kernel status says idle
        page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(
            state="attached", timeout=90_000)
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).first.click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).first.click()
        page.wait_for_timeout(3000)
        accept_kernel()
        # run all done: every code cell numbered, none pending ("[*]")
        prompts_js = """() => [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
                              .map(e => e.textContent.trim())"""
        try:
            page.wait_for_function(
                f"() => {{ const p = ({prompts_js})();"
                " return p.length > 0 && p.every(t => /^\\[\\d+\\]:$/.test(t)); }",
                timeout=300_000)
        except Exception:  # noqa: BLE001 - say where it stopped
            page.screenshot(path=str(tmp_path / "lab-timeout.png"))
            shown = page.locator(".jp-OutputArea-output").all_inner_texts()
            pytest.fail(f"Run All did not finish: prompts {page.evaluate(prompts_js)}; "
                        f"last outputs {[t[:300] for t in shown[-3:]]}")
        tracebacks = page.locator(".jp-OutputArea-output[data-mime-type="
                                  "'application/vnd.jupyter.stderr'], .jp-RenderedText"
                                  "[data-mime-type='application/vnd.jupyter.error']")
        n_err = tracebacks.count()
        err_text = tracebacks.first.inner_text() if n_err else ""
        figures = page.locator(".jp-OutputArea-output img, .jp-OutputArea-output svg, "
                               ".jp-RenderedSVG, .jp-RenderedImage")
        n_fig = figures.count()
        if n_fig:
            figures.first.scroll_into_view_if_needed()
            box = figures.first.bounding_box()
        n_tables = page.locator(".jp-OutputArea-output .cart19-journal table").count()
        # what jupyterlab-myst drew of the markdown cells: no "Unknown Directive" error box, and
        # the glue captions as text (textContent: cells outside the viewport are not laid out)
        # (jupyterlab-myst draws a markdown cell in a div.myst, stock Lab in .jp-MarkdownOutput)
        shown_md = ".jp-MarkdownCell .myst, .jp-MarkdownCell .jp-MarkdownOutput"
        markdown = page.evaluate(f"""() => [...document.querySelectorAll('{shown_md}')]
                                        .map(e => e.textContent).join('\\n')""")
        n_unknown = page.locator(shown_md, has_text="Unknown Directive").count()
        page.screenshot(path=str(tmp_path / "lab.png"))
        # save, as a reader would
        page.locator(".jp-Notebook").first.click()
        page.keyboard.press("Control+s")
        page.wait_for_function(
            "() => !document.querySelector('.jp-mod-dirty')", timeout=30_000)
        time.sleep(1.0)
        after = path.read_bytes()
        ctx.close()
    return {'n_err': n_err, 'err_text': err_text, 'n_fig': n_fig, 'box': box,
            'n_tables': n_tables, 'after': after, 'foreign': foreign, 'errors': errors,
            'markdown': markdown, 'n_unknown': n_unknown}

def test_chapter_runs_in_jupyterlab_shows_a_figure_and_saves_clean(lab, tmp_path):
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:  # pragma: no cover - playwright is in requirements.lock
        missing_browser(f"playwright not importable: {exc}")
    base, token = lab
    path = REPO / LAB_CHAPTER
    before = path.read_bytes()
    from concurrent.futures import ThreadPoolExecutor

    try:
        with ThreadPoolExecutor(1) as pool:
            r = pool.submit(_drive, base, token, tmp_path, path).result()
    finally:
        if path.read_bytes() != before:
            path.write_bytes(before)
    assert not r['n_err'], f"the chapter raised an error in JupyterLab:\n{r['err_text'][:2000]}"
    assert r["n_fig"] >= 1 and r["box"] and r["box"]["width"] > 300, (
        f"no figure shown ({r['n_fig']} images)")
    assert r['n_tables'] >= 1, "no journal table shown among the outputs"
    assert r['after'] == before, "saving the chapter in JupyterLab changed the file"
    assert "Table 3 as a forest plot" in r["markdown"] or len(r["markdown"]) > 2000, (
        f"no rendered markdown found: {r['markdown'][:300]!r}")  # the checks below are not vacuous
    assert r["n_unknown"] == 0 and "Unknown Directive" not in r["markdown"], (
        "jupyterlab-myst drew an 'Unknown Directive' error box")
    captions = _captions(before.decode())
    assert captions, f"{LAB_CHAPTER} has no glue figure or table"
    text = " ".join(r["markdown"].split())
    missing = [c for c in captions if c not in text]
    assert not missing, f"captions not shown in JupyterLab: {missing}"
    assert not r['foreign'], f"JupyterLab requested other hosts: {sorted(set(r['foreign']))}"
    if r["errors"]:  # JupyterLab's own scripts (seen: "Cannot read properties of undefined
        # (reading 'node')" from Lab 4.6 after Run All); the chapter's errors are tracebacks above
        warnings.warn(f"JupyterLab page errors: {r['errors']}")
