"""Preview screenshots of the built book for the README: the front page, the paper's Figure 3,
its Table 3 and the forest plot, each at 1280 px (desktop) and 390 px (phone) wide.

    python -m cart19.presentation.preview [--html book/_build/html] [--out book/_static/preview]

Each shot is the element as a reader sees it (its caption included), in headless Chromium
(Playwright, the browser of tests/test_browser.py) with no network beyond the local files; the
front page is its first screen. Run it after ``python -m cart19 build``; the PNGs are committed
so that the README shows them without a build.
"""
from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["SHOTS", "WIDTHS", "capture"]

#: (file stem, page, CSS selector of the element or None for the first screen)
SHOTS = (
    ("front_page", "book/intro.html", None),
    ("figure3", "book/07_longterm.html", "#fig-km-fig3"),
    ("table3", "book/06_day30.html", "#tbl-table3"),
    ("forest", "book/22_forest.html", "#fig-forest"),
)
WIDTHS = (1280, 390)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"]


def capture(html_dir: Path, out_dir: Path, chromium: str = "/usr/bin/chromium") -> list[Path]:
    """Write ``<stem>_<width>.png`` for every shot and width; return the paths."""
    from playwright.sync_api import sync_playwright

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            for width in WIDTHS:
                page = browser.new_page(viewport={"width": width, "height": 900})
                for stem, rel, selector in SHOTS:
                    page.goto((html_dir / rel).resolve().as_uri())
                    page.wait_for_load_state("load")
                    page.wait_for_timeout(300)
                    path = out_dir / f"{stem}_{width}.png"
                    if selector is None:
                        page.screenshot(path=str(path))
                    else:
                        # the element in the whole page as laid out (a stitched element shot
                        # would repeat the sticky article header inside a tall table)
                        box = page.locator(selector).first.bounding_box()
                        scroll = page.evaluate("[window.scrollX, window.scrollY]")
                        clip = {"x": max(box["x"] + scroll[0] - 8, 0),
                                "y": max(box["y"] + scroll[1] - 8, 0),
                                "width": min(box["width"] + 16, width),
                                "height": box["height"] + 16}
                        page.screenshot(path=str(path), full_page=True, clip=clip)
                    written.append(path)
                page.close()
        finally:
            browser.close()
    return written


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--html", type=Path, default=Path("book/_build/html"))
    ap.add_argument("--out", type=Path, default=Path("book/_static/preview"))
    args = ap.parse_args(argv)
    for path in capture(args.html, args.out):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
