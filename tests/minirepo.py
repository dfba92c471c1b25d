"""A throw-away repository for the build's tests: its own lib/cart19 package, data/, notebooks/.

Its kernels import that package (the build puts the build root's lib/ first on PYTHONPATH), so the
tests never touch the real book.
"""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

NOTEBOOK = """\
---
jupytext: {{text_representation: {{extension: .md, format_name: myst}}}}
kernelspec: {{name: python3, display_name: Python 3, language: python}}
cart19: {{reads: {reads}, writes: {writes}}}
---

# {title}

```{{code-cell}} python
:tags: [parameters]
{params}
```

```{{code-cell}} python
{code}
```
"""


def write_nb(root: Path, stem: str, code: str, params: str = "seed = 1", reads=(), writes=()):
    (root / "notebooks" / f"{stem}.md").write_text(NOTEBOOK.format(
        reads=json.dumps(list(reads)), writes=json.dumps(list(writes)), title=stem, params=params,
        code=code))


def make_repo(root: Path) -> Path:
    """Two chapters importing different lib modules (01_a also reads data/x.csv)."""
    for d in ("notebooks", "book", "data"):
        (root / d).mkdir(parents=True)
    lib = root / "lib" / "cart19"
    lib.mkdir(parents=True)
    modules = {"__init__": "", "alpha": "def value():\n    return 1\n",
               "beta": "from cart19 import gamma\n\ndef value():\n    return gamma.G\n",
               "gamma": "G = 2\n"}
    for name, text in modules.items():
        (lib / f"{name}.py").write_text(textwrap.dedent(text))
    (root / "requirements.lock").write_text("pkg==1\n")
    (root / "notebooks" / "params.yml").write_text("seed: 1   # random seed [0..1000]\n"
                                                   "size: 3   # a size [1..100]\n")
    (root / "data" / "x.csv").write_text("a\n1\n")
    write_nb(root, "01_a", "import cart19.alpha\nprint(cart19.alpha.value() + seed)",
             reads=["data/x.csv"])
    write_nb(root, "02_b", "from cart19 import beta\nprint(beta.value() * size)",
             params="seed = 1\nsize = 3")
    return root


def add_book_config(root: Path, real: Path) -> Path:
    """The real repository's ``_config.yml`` and what it needs under book/ (the bibliography, a
    ``_static`` folder, the front page), so that ``root`` renders as the real book does."""
    (root / "_config.yml").write_text((real / "_config.yml").read_text())
    (root / "book").mkdir(exist_ok=True)
    (root / "book" / "references.bib").write_text((real / "book" / "references.bib").read_text())
    (root / "book" / "_static").mkdir(exist_ok=True)
    (root / "book" / "_static" / "placeholder.txt").write_text("static files of the test book\n")
    (root / "book" / "intro.md").write_text("# Intro\n")
    return root
