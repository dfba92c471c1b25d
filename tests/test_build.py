"""The book pipeline (cart19.book.build, cart19.book.params): cache keys, scheduling, strictness, determinism.

The integration tests build a tiny throw-away repository (its own lib/cart19 package, data/, notebooks/)
so that they never touch the real book; its kernels import that package (the build puts the build
root's lib/ first on PYTHONPATH).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import textwrap
from pathlib import Path

import pytest

from cart19.book import build as B
from cart19.book import chapters as C
from cart19.book import execute as X
from cart19.book import imports as I
from cart19.book import keys as K
from cart19.book import params as P
from cart19.book import render as R
from cart19.errors import InputError
from cart19.paths import ROOT
from minirepo import add_book_config, make_repo
from minirepo import write_nb as _write_nb

# ------------------------------------------------------------------------------------ static analysis


def test_imported_modules_finds_every_import_form():
    code = textwrap.dedent("""
        import os
        import cart19.alpha
        import cart19.beta as b
        from cart19 import gamma, delta as d
        from cart19.eps import some_function
        %matplotlib inline
        !ls
        def f():
            import cart19.zeta
    """)
    found = I.imported_modules(code)
    for mod in ["cart19.alpha", "cart19.beta", "cart19.gamma", "cart19.delta", "cart19.eps",
                "cart19.zeta"]:
        assert mod in found
    assert "os" not in found


def test_relative_imports_resolve_inside_the_package():
    assert "cart19.x" in I.imported_modules("from .x import y", current="cart19.a")
    assert "cart19.x" in I.imported_modules("from . import x", current="cart19.a")
    assert "cart19.sub.y" in I.imported_modules("from .y import z", current="cart19.sub.a")


def test_a_module_docstring_line_ending_in_a_question_mark_keeps_its_imports(tmp_path):
    # regression: module files were read like notebook cells, where a line ending in "?" is
    # IPython help and is blanked; inside a docstring that broke the parse and lost every import
    lib = _lib(tmp_path, {"a": 'def f():\n    """Why?\n    Because."""\n    from cart19 import b\n',
                          "b": ""})
    assert "cart19.b" in I.module_graph(lib)["cart19.a"][1]


def test_every_real_module_import_is_seen():
    """Each lib module's graph entry lists what it imports at top level (none is parsed as empty)."""
    import ast

    lib = Path(I.__file__).parents[1]
    graph = I.module_graph(lib)
    for name, (path, found) in graph.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top = {n.module for n in tree.body if isinstance(n, ast.ImportFrom) and n.module
               and n.module.startswith("cart19.")}
        assert top <= found, (name, top - found)
    assert "cart19.reconstruction.pipeline" in graph["cart19.comparison.ensemble"][1]


def _lib(tmp_path: Path, modules: dict[str, str]) -> Path:
    lib = tmp_path / "lib" / "cart19"
    lib.mkdir(parents=True)
    for name, text in modules.items():
        (lib / f"{name}.py").write_text(textwrap.dedent(text))
    return lib


def test_closure_follows_the_module_graph(tmp_path):
    lib = _lib(tmp_path, {"__init__": "", "a": "from cart19 import b\n", "b": "from .c import f\n",
                          "c": "def f(): pass\n", "unrelated": "import cart19.a\n"})
    graph = I.module_graph(lib)
    assert I.closure({"cart19.a"}, graph) == {"cart19", "cart19.a", "cart19.b", "cart19.c"}
    # a name that is a function, not a module, is ignored
    assert I.closure({"cart19.c.f"}, graph) == {"cart19", "cart19.c"}


def test_dependency_order_and_cycles(tmp_path):
    def nb(stem, reads=(), writes=()):
        return C.Notebook(stem, tmp_path / f"{stem}.md", tmp_path / f"{stem}.ipynb", tuple(reads),
                          tuple(writes), frozenset(), {})

    deps = C.order([nb("01_a", reads=["d/x"]), nb("02_b", writes=["d/x"]), nb("03_c")])
    assert deps == {"01_a": {"02_b"}, "02_b": set(), "03_c": set()}
    with pytest.raises(B.BuildError, match="cycle"):
        C.order([nb("01_a", reads=["x"], writes=["y"]), nb("02_b", reads=["y"], writes=["x"])])
    with pytest.raises(B.BuildError, match="written by both"):
        C.order([nb("01_a", writes=["x"]), nb("02_b", writes=["x"])])


# ------------------------------------------------------------------------------ the build's own code
def test_build_code_key_is_the_execution_modules_files(tmp_path):
    """The key covers execute.py (normaliser, scrubbers, kernel set-up), sandbox.py and kernels.py,
    byte for byte; the scheduler, the CLI, rendering do not re-execute anything."""
    pkg = tmp_path / "book"
    shutil.copytree(Path(K.__file__).parent, pkg)
    base = K.build_code_hash(pkg)
    assert K.build_code_hash(pkg) == base and K.build_code_hash() == base
    for name in K.EXECUTION_MODULES:
        f = pkg / f"{name}.py"
        text = f.read_text()
        f.write_text(text + "\n# edited\n")
        assert K.build_code_hash(pkg) != base, name
        f.write_text(text)
    for name in ("schedule", "build", "render", "plan", "keys", "chapters"):
        f = pkg / f"{name}.py"
        f.write_text(f.read_text() + "\n# edited\n")
    assert K.build_code_hash(pkg) == base
    assert set(K.EXECUTION_MODULES) == {"execute", "sandbox", "kernels"}


# -------------------------------------------------------------------------------------------- params
PARAMS_YML = """\
# test parameters
seed: 1            # random seed [>= 0]
scale: 2.0         # a float [0..10]
label: hello       # a string
flag: false        # a bool
"""


def test_params_load_types_and_docs(tmp_path):
    f = tmp_path / "params.yml"
    f.write_text(PARAMS_YML)
    ps = P.load_params(f)
    assert {n: p.type for n, p in ps.items()} == {"seed": int, "scale": float, "label": str,
                                                   "flag": bool}
    assert ps["seed"].doc == "random seed" and ps["seed"].line == 2


def test_param_without_doc_is_refused(tmp_path):
    f = tmp_path / "params.yml"
    f.write_text("seed: 1\n")
    with pytest.raises(InputError, match="comment"):
        P.load_params(f)
    f.write_text("seed: 1   # random seed\n")
    with pytest.raises(InputError, match=r"every number and path needs its allowed values"):
        P.load_params(f)


def test_overrides_are_typed_and_checked(tmp_path):
    f = tmp_path / "params.yml"
    f.write_text(PARAMS_YML)
    ps = P.load_params(f)
    assert P.parse_overrides([("seed", "7"), ("scale", "3"), ("label", "7"), ("flag", "true")], ps) \
        == {"seed": 7, "scale": 3.0, "label": "7", "flag": True}
    with pytest.raises(InputError, match="unknown parameter 'sed'"):
        P.parse_overrides([("sed", "7")], ps)
    with pytest.raises(InputError, match="must be of type int"):
        P.parse_overrides([("seed", "seven")], ps)
    with pytest.raises(InputError, match="must be of type int"):
        P.parse_overrides([("seed", "1.5")], ps)
    with pytest.raises(InputError, match="must be of type bool"):
        P.parse_overrides([("flag", "3")], ps)


def test_params_are_yaml_1_2_typed_and_ranged(tmp_path):
    """010 is 10 (not octal 8), 1:20 is text (not sexagesimal 80), yes is text; a key given twice
    is refused with both lines; every number has a range, every path must exist."""
    f = tmp_path / "params.yml"
    (tmp_path / "data.csv").write_text("a\n")
    f.write_text("seed: 010   # random seed [0..100]\nlabel: yes   # a label\n"
                 "when: 1:20  # a time\nhex: 0x10  # hex [>= 0]\npath: data.csv  # a file [file]\n")
    ps = P.load_params(f)
    assert {n: p.default for n, p in ps.items()} == {"seed": 10, "label": "yes", "when": "1:20",
                                                      "hex": 16, "path": "data.csv"}
    assert ps["seed"].doc == "random seed" and ps["seed"].allowed() == "from 0 to 100"
    assert P.parse_overrides([("seed", "010")], ps) == {"seed": 10}
    for text, rule in [("1:20", "must be of type int"), ("-1", "must be from 0 to 100"),
                       ("101", "must be from 0 to 100"), ("1e9", "must be of type int"),
                       ("yes", "must be of type int")]:
        with pytest.raises(InputError, match=rule):
            P.parse_overrides([("seed", text)], ps)
    with pytest.raises(InputError, match="no such file"):
        P.parse_overrides([("path", "nope.csv")], ps)
    f.write_text("seed: 1   # random seed [0..100]\nseed: 2   # again [0..100]\n")
    with pytest.raises(InputError, match=r"key 'seed' is given twice \(lines 1 and 2\)") as e:
        P.load_params(f)
    assert e.value.row == 2
    f.write_text("seed: 500   # random seed [0..100]\n")
    with pytest.raises(InputError, match="default must be from 0 to 100"):
        P.load_params(f)
    f.write_bytes("seed: 1   # graine al\xe9atoire [0..100]\n".encode("latin-1"))
    with pytest.raises(InputError, match="not valid UTF-8") as e:
        P.load_params(f)
    assert e.value.row == 1
    f.write_text("seed: [1, 2\n")
    with pytest.raises(InputError, match="not valid YAML"):
        P.load_params(f)


def test_real_params_have_ranges_that_refuse_the_issues_values():
    ps = P.load_params(ROOT / "notebooks" / "params.yml")
    for name, text in [("landmark_days", "0"), ("landmark_days", "-30"), ("landmark_days", "1000000000"),
                       ("ensemble_size", "0"), ("seed", "-1"), ("cohort_path", "../data/nope.csv")]:
        with pytest.raises(InputError, match=f"parameter '{name}'"):
            P.parse_overrides([(name, text)], ps)
    assert P.parse_overrides([("landmark_days", "182")], ps) == {"landmark_days": 182}


def test_an_empty_or_untitled_chapter_is_refused_before_any_kernel(repo, monkeypatch):
    started = []
    monkeypatch.setattr(X, "execute", lambda *a, **k: started.append(a))
    (repo.root / "notebooks" / "03_empty.md").write_text("")
    with pytest.raises(InputError, match="notebooks/03_empty.md: the chapter is empty"):
        _build(repo)
    (repo.root / "notebooks" / "03_empty.md").write_text("Some text, no title.\n")
    with pytest.raises(InputError, match="has no title"):
        _build(repo)
    assert started == []


def test_a_path_parameter_override_is_a_read(repo):
    """-p with another file: its content is in the key and the sandbox lets the chapter read it."""
    (repo.root / "notebooks" / "params.yml").write_text(
        "seed: 1   # random seed [0..1000]\nsize: 3   # a size [1..100]\n"
        "x_path: ../data/x.csv   # input [file]\n")
    (repo.root / "data" / "y.csv").write_text("a\n7\n")
    _write_nb(repo.root, "02_b", "print(open(x_path).read().split()[1])",
              params='seed = 1\nx_path = "../data/x.csv"')
    assert _build(repo)["executed"] == 2 and _stdout(repo, "02_b").strip() == "1"
    r = _build(repo, overrides=[("x_path", "../data/y.csv")])
    assert r["executed"] == 1 and _stdout(repo, "02_b").strip() == "7"
    (repo.root / "data" / "y.csv").write_text("a\n8\n")
    r = _build(repo, overrides=[("x_path", "../data/y.csv")])
    assert r["executed"] == 1 and _stdout(repo, "02_b").strip() == "8"


def test_notebook_parameters_cell_must_agree_with_params_yml(tmp_path):
    f = tmp_path / "params.yml"
    f.write_text(PARAMS_YML)
    ps = P.load_params(f)
    P.check_notebook("nb.md", {"seed": 1, "local_only": 3}, ps)
    with pytest.raises(InputError, match="params.yml .* says 1"):
        P.check_notebook("nb.md", {"seed": 2}, ps)
    with pytest.raises(InputError, match="has type str"):
        P.check_notebook("nb.md", {"seed": "1"}, ps)
    with pytest.raises(InputError, match="not assigned in the parameters cell"):
        P.check_overrides({"scale": 1.0}, {"seed": {"01_a"}})


def test_real_params_yml_documents_the_required_parameters():
    ps = P.load_params(ROOT / "notebooks" / "params.yml")
    assert {"seed", "landmark_days", "ensemble_size", "cohort_path"} <= set(ps)


def test_real_notebooks_agree_with_params_yml_and_toc():
    layout = B.Layout(ROOT)
    ps = P.load_params(layout.params_yml)
    notebooks = C.discover(layout)
    assert notebooks, "no notebooks/NN_*.md"
    for nb in notebooks:
        P.check_notebook(layout.rel(nb.source), nb.cell_params, ps)
    toc = R.check_toc(layout, notebooks, write=False)
    listed = R._toc_files(__import__("yaml").safe_load(toc))
    # (a generated _toc.yml may lag behind new notebooks: the build regenerates it before rendering)
    assert {f"book/{nb.stem}" for nb in notebooks} <= listed


def test_hand_edited_toc_missing_a_notebook_fails_clearly(tmp_path):
    layout = B.Layout(tmp_path)
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nchapters:\n"
                                       "- file: book/01_a\n")
    nbs = [C.Notebook(s, tmp_path / f"{s}.md", tmp_path / f"{s}.ipynb", (), (), frozenset(), {})
           for s in ("01_a", "02_b")]
    with pytest.raises(B.BuildError, match="does not list book/02_b"):
        R.check_toc(layout, nbs)


def test_normalize_strips_run_specific_metadata():
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["papermill"] = {"start_time": "2026-01-01", "duration": 3.2}
    nb.metadata["language_info"] = {"name": "python", "version": "3.11.7"}
    cell = nbformat.v4.new_code_cell("x", id="random-id")
    cell.metadata["papermill"] = {"duration": 1.0}
    cell.metadata["execution"] = {"iopub.status.busy": "2026-01-01T00:00:00"}
    cell.outputs = [nbformat.v4.new_output("execute_result",
                                           {"text/plain": "<Axes at 0x7f3a2b4c5d60>"})]
    nb.cells.append(cell)
    X.normalize(nb, None, {"seed": 1})
    assert "papermill" not in nb.metadata and nb.metadata["cart19"]["parameters"] == {"seed": 1}
    assert nb.metadata["language_info"]["version"] == "3.11"
    assert nb.cells[0].id == "cell-000" and nb.cells[0].metadata == {}
    assert nb.cells[0].outputs[0]["data"]["text/plain"] == "<Axes at 0xADDRESS>"


def test_normalize_writes_checkout_and_venv_paths_as_placeholders(tmp_path):
    """An output that prints where the checkout or the venv is (a warning's file) must not make the
    notebook depend on that location: two clean builds in two directories give the same bytes."""
    import nbformat

    root = tmp_path / "checkout"
    warning = (f"{root}/lib/cart19/stats.py:12: RuntimeWarning: divide by zero\n"
               "/opt/x/.venv/lib/python3.11/site-packages/pandas/core/frame.py:3: FutureWarning: y\n")
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [nbformat.v4.new_output("stream", name="stderr", text=warning),
                    nbformat.v4.new_output("execute_result", {"text/plain": f"'{root}/data/x.csv'"})]
    nb.cells.append(cell)
    X.normalize(nb, None, {}, root)
    assert nb.cells[0].outputs[0]["text"] == (
        "REPO/lib/cart19/stats.py:12: RuntimeWarning: divide by zero\n"
        "SITE-PACKAGES/pandas/core/frame.py:3: FutureWarning: y\n")
    assert nb.cells[0].outputs[1]["data"]["text/plain"] == "'REPO/data/x.csv'"


# ------------------------------------------------------------------------------- integration (kernels)
@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A minimal repository: two chapters importing different lib modules, one reading a data file."""
    root = make_repo(tmp_path / "repo")
    # the build exports PYTHONPATH/CART19_ROOT for its kernels: keep them out of the other tests
    monkeypatch.setattr(os, "environ", dict(os.environ))
    monkeypatch.setenv("PYTHONPATH", "")
    return B.Layout(root)


def _build(layout, **kw):
    kw.setdefault("render_book", False)
    kw.setdefault("jobs", 2)
    return B.run(layout, **kw)


def _outputs(layout):
    return {p.name: p.read_bytes() for p in sorted(layout.book.glob("*.ipynb"))}


def _stdout(layout, stem):
    nb = json.loads((layout.book / f"{stem}.ipynb").read_text())
    texts = [o.get("text", "") for c in nb["cells"] for o in c.get("outputs", [])]
    return "".join("".join(t) if isinstance(t, list) else t for t in texts)


def test_cache_reexecutes_exactly_what_changed(repo):
    r = _build(repo)
    assert (r["executed"], r["cached"]) == (2, 0)
    assert _stdout(repo, "01_a").strip() == "2" and _stdout(repo, "02_b").strip() == "6"
    first = _outputs(repo)
    manifest = repo.manifest.read_text()

    r = _build(repo)  # nothing changed: nothing executes, nothing is rewritten
    assert (r["executed"], r["cached"]) == (0, 2)
    assert _outputs(repo) == first and repo.manifest.read_text() == manifest

    # a lib module imported only transitively (beta -> gamma) re-executes only 02_b
    (repo.lib / "gamma.py").write_text("G = 5\n")
    r = _build(repo)
    assert (r["executed"], r["cached"]) == (1, 1)
    assert _stdout(repo, "02_b").strip() == "15"

    # a data file in cart19.reads re-executes only its reader
    (repo.root / "data" / "x.csv").write_text("a\n2\n")
    r = _build(repo)
    assert (r["executed"], r["cached"]) == (1, 1)

    # a parameter re-executes only the notebooks whose parameters cell takes it
    r = _build(repo, overrides=[("size", "4")])
    assert (r["executed"], r["cached"]) == (1, 1)
    assert _stdout(repo, "02_b").strip() == "20"
    assert json.loads((repo.book / "02_b.ipynb").read_text())["metadata"]["cart19"]["parameters"] \
        == {"seed": 1, "size": 4}

    # the lock file re-executes everything; an edited output is re-executed too
    (repo.lock).write_text("pkg==2\n")
    assert _build(repo)["executed"] == 2
    (repo.book / "01_a.ipynb").write_text("{}")
    assert _build(repo)["executed"] == 1


def test_a_change_of_the_normaliser_code_reexecutes_everything(repo, monkeypatch, capsys, tmp_path):
    """The cache key holds the files of the code that post-processes executed notebooks (no --force
    needed after editing a scrubber); edits elsewhere in cart19/book keep the cache. (The key is taken
    from an edited copy of the package; the real code runs.)"""
    assert _build(repo)["executed"] == 2
    pkg = tmp_path / "book-copy"
    shutil.copytree(Path(K.__file__).parent, pkg)
    monkeypatch.setattr(K, "PACKAGE", pkg)
    # an edit of the scheduler's messages: not part of the key, nothing re-executes
    sched = pkg / "schedule.py"
    sched.write_text(sched.read_text().replace('"(from an earlier, unfinished build)"', '"(kept)"'))
    assert _build(repo)["executed"] == 0
    # an edit of a scrubber (the address pattern): every notebook is stale and re-executes
    ex = pkg / "execute.py"
    text = ex.read_text()
    scrubbed = text.replace('0x[0-9a-fA-F]{6,16}', '0x[0-9a-fA-F]{4,16}')
    assert scrubbed != text
    ex.write_text(scrubbed)
    capsys.readouterr()
    assert B.check(repo) == 1
    assert "build code" in capsys.readouterr().out
    r = _build(repo)
    assert (r["executed"], r["cached"]) == (2, 0)
    assert "build code" in capsys.readouterr().out
    assert _build(repo)["executed"] == 0
    manifest = json.loads(repo.manifest.read_text())
    assert {e["inputs"]["build_code"] for e in manifest["notebooks"].values()} == {K.build_code_hash()}


def test_executed_notebooks_are_byte_identical_across_runs(repo):
    _build(repo)
    first = _outputs(repo)
    text = first["01_a.ipynb"].decode()
    for word in ("start_time", "end_time", "duration", "papermill", "iopub"):
        assert word not in text, word
    _build(repo, force=True)
    assert _outputs(repo) == first


def test_failing_cell_stops_the_build_and_leaves_book_untouched(repo, capsys):
    _build(repo)
    before = _outputs(repo), repo.manifest.read_text()
    _write_nb(repo.root, "02_b", "x = 1\ny = x / 0", params="seed = 1\nsize = 3")
    (repo.lib / "alpha.py").write_text("def value():\n    return 10\n")  # 01_a re-executes fine
    with pytest.raises(B.BuildError) as err:
        _build(repo)
    msg = str(err.value)
    assert "notebooks/02_b.md" in msg and "cell 3" in msg and "ZeroDivisionError" in msg
    assert (_outputs(repo), repo.manifest.read_text()) == before  # 01_a's new output not installed
    assert "FAILED" in capsys.readouterr().out
    # once fixed, the next build reuses 01_a's output from the failed build instead of re-running it
    _write_nb(repo.root, "02_b", "print(size)", params="seed = 1\nsize = 3")
    r = _build(repo)
    assert (r["executed"], r["cached"]) == (1, 1)
    assert "from an earlier, unfinished build" in capsys.readouterr().out
    assert _stdout(repo, "01_a").strip() == "11"
    assert _build(repo)["executed"] == 0


def test_bad_parameters_and_missing_reads_are_refused_before_any_kernel(repo, monkeypatch):
    started = []
    monkeypatch.setattr(X, "execute", lambda *a, **k: started.append(a))
    with pytest.raises(InputError, match="unknown parameter 'sed'"):
        _build(repo, overrides=[("sed", "1")])
    with pytest.raises(InputError, match="must be of type int"):
        _build(repo, overrides=[("size", "big")])
    _write_nb(repo.root, "03_c", "pass", reads=["data/missing.csv"])
    with pytest.raises(InputError, match="data/missing.csv.*03_c.md"):
        _build(repo)
    assert started == []
    # through the command line: non-zero exit and the message, no traceback
    from cart19.cli import main

    assert main(["build", "--root", str(repo.root), "-p", "sed", "1"]) == 1


def test_writer_runs_before_reader(repo):
    _write_nb(repo.root, "03_make", "open('../data/made.csv', 'w').write('m\\n1\\n')",
              writes=["data/made.csv"])
    _write_nb(repo.root, "00_use", "print(open('../data/made.csv').read().split()[1])",
              reads=["data/made.csv"])
    r = _build(repo)
    assert r["executed"] == 4 and _stdout(repo, "00_use").strip() == "1"


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for d in ("book", "data")
            for p in sorted((root / d).rglob("*")) if p.is_file()}


def test_an_undeclared_read_fails_the_build_naming_the_file(repo):
    (repo.root / "data" / "secret.csv").write_text("s\n1\n")
    _build(repo)
    before = _tree(repo.root)
    _write_nb(repo.root, "02_b", "print(open('../data/secret.csv').read())")
    with pytest.raises(B.BuildError) as err:
        _build(repo)
    assert "chapter 02_b may not read data/secret.csv" in str(err.value)
    assert "not in cart19.reads" in str(err.value)
    assert _tree(repo.root) == before
    # caught by the chapter's own code: the build still fails (the refusal is logged)
    _write_nb(repo.root, "02_b", "try:\n    open('../data/secret.csv')\nexcept OSError:\n    pass")
    with pytest.raises(B.BuildError, match=r"02_b.md: reads data/secret.csv, which is not in cart19.reads"):
        _build(repo)
    # a library function reading through cart19.paths (CART19_ROOT is the sandbox) is seen too
    (repo.lib / "delta.py").write_text("from pathlib import Path\nimport os\n"
                                       "def value():\n"
                                       "    return len(Path(os.environ['CART19_ROOT'], 'data', 'secret.csv')"
                                       ".read_text())\n")
    _write_nb(repo.root, "02_b", "from cart19 import delta\nprint(delta.value())")
    with pytest.raises(B.BuildError, match="may not read data/secret.csv"):
        _build(repo)
    _write_nb(repo.root, "02_b", "from cart19 import delta\nprint(delta.value())",
              reads=["data/secret.csv"])
    assert _build(repo)["executed"] == 1 and _stdout(repo, "02_b").strip() == "4"


def test_data_files_declared_by_a_lib_module_are_reads_of_its_importers(repo):
    (repo.root / "data" / "design.yml").write_text("a: 1\n")
    (repo.lib / "gamma.py").write_text('DATA_READS = ("data/design.yml",)\nimport os\n'
                                       "G = len(open(os.path.join(os.environ['CART19_ROOT'], "
                                       "'data', 'design.yml')).read())\n")
    r = _build(repo)  # 02_b imports beta -> gamma, which reads the file: allowed, and keyed
    assert r["executed"] == 2 and _stdout(repo, "02_b").strip() == "15"
    (repo.root / "data" / "design.yml").write_text("a: 22\n")
    r = _build(repo)
    assert (r["executed"], r["cached"]) == (1, 1) and _stdout(repo, "02_b").strip() == "18"
    (repo.lib / "gamma.py").write_text("DATA_READS = [f'data/{1}']\nG = 1\n")
    with pytest.raises(B.BuildError, match="DATA_READS must be a literal tuple of paths"):
        _build(repo)


def test_a_read_in_a_worker_process_is_traced_too(repo):
    (repo.root / "data" / "secret.csv").write_text("s\n1\n")
    code = ("import subprocess, sys\n"
            "r = subprocess.run([sys.executable, '-c', \"open('../data/secret.csv').read()\"],"
            " capture_output=True, text=True)\n"
            "print(r.returncode)")
    _write_nb(repo.root, "02_b", code)
    with pytest.raises(B.BuildError, match="reads data/secret.csv"):
        _build(repo)


def test_an_undeclared_write_is_refused_and_data_stays(repo):
    _build(repo)
    before = _tree(repo.root)
    _write_nb(repo.root, "02_b", "open('../data/x.csv', 'w').write('clobbered')")
    with pytest.raises(B.BuildError, match="may not write data/x.csv"):
        _build(repo)
    _write_nb(repo.root, "02_b", "import os\nos.remove('../data/x.csv')")
    with pytest.raises(B.BuildError, match="may not write data/x.csv"):
        _build(repo)
    _write_nb(repo.root, "02_b", f"open({str(repo.root / 'data' / 'new.csv')!r}, 'w').write('x')",
              writes=["data/new.csv"])  # declared, but aimed past the sandbox at the real data/
    with pytest.raises(B.BuildError, match="outside the build's sandbox"):
        _build(repo)
    assert _tree(repo.root) == before


def test_declared_writes_are_staged_installed_with_the_book_and_checked(repo, capsys):
    writer = ("from cart19 import io\n"
              "io.write_text('../data/out/made.csv', f'm\\n{seed}\\n', parents=True)\n"
              "import os\nos.makedirs('../data/scratch', exist_ok=True)\n"
              "open('../data/scratch/c1.csv', 'w').write('1')")
    (repo.lib / "io.py").write_text((ROOT / "lib" / "cart19" / "io.py").read_text())
    (repo.lib / "errors.py").write_text((ROOT / "lib" / "cart19" / "errors.py").read_text())
    (repo.lib / "paths.py").write_text((ROOT / "lib" / "cart19" / "paths.py").read_text())
    _write_nb(repo.root, "03_w", writer, writes=["data/out/made.csv", "data/scratch/"])
    _write_nb(repo.root, "02_b", "x = 1 / 0")  # fails: nothing of 03_w's may be installed
    with pytest.raises(B.BuildError):
        _build(repo)
    assert not (repo.root / "data" / "out").exists() and not (repo.root / "data" / "scratch").exists()
    _write_nb(repo.root, "02_b", "print(2)")
    _build(repo)
    made = repo.root / "data" / "out" / "made.csv"
    assert made.read_text() == "m\n1\n" and (repo.root / "data" / "scratch" / "c1.csv").exists()
    entry = json.loads(repo.manifest.read_text())["notebooks"]["03_w"]
    assert entry["writes"] == {"data/out/made.csv": K.sha256_path(made)}
    assert B.check(repo) == 0
    # the written file edited or deleted: stale, and the next build makes it anew
    made.write_text("edited\n")
    capsys.readouterr()
    assert B.check(repo) == 1
    assert "written file missing or edited: data/out/made.csv" in capsys.readouterr().out
    assert _build(repo)["executed"] == 1 and made.read_text() == "m\n1\n"
    made.unlink()
    assert B.check(repo) == 1
    assert _build(repo)["executed"] == 1 and made.read_text() == "m\n1\n"
    # a declared file the chapter does not write fails the build
    _write_nb(repo.root, "03_w", "pass", writes=["data/out/made.csv", "data/out/other.csv"])
    with pytest.raises(B.BuildError, match="did not write data/out/other.csv"):
        _build(repo)


def test_render_is_atomic_and_strict(repo):
    add_book_config(repo.root, ROOT)
    (repo.book / "intro.md").write_text("# Intro\n\nSee {ref}`a-label`.\n\n(a-label)=\n## Here\n")
    r = B.run(repo, jobs=2)
    assert r["rendered"] and (repo.html / "book" / "01_a.html").exists()
    assert "generated by" in (repo.root / "_toc.yml").read_text()
    good = (repo.html / "book" / "intro.html").read_text()
    # nothing changed: no render
    assert not B.run(repo, jobs=2)["rendered"]
    # a broken reference is an error (-W) and the previous html stays
    (repo.book / "intro.md").write_text("# Intro\n\nSee {ref}`no-such-label`.\n")
    with pytest.raises(B.BuildError, match="jupyter-book failed"):
        B.run(repo, jobs=2)
    assert (repo.html / "book" / "intro.html").read_text() == good


def test_jupytext_contents_manager_opens_md_as_notebook():
    """`make lab`: the jupytext contents manager serves notebooks/*.md as notebooks."""
    from jupytext import TextFileContentsManager  # the class `make lab` configures

    cm = TextFileContentsManager(root_dir=str(ROOT / "notebooks"))
    model = cm.get("01_design.md", content=True, type="notebook")
    assert model["type"] == "notebook"
    cells = model["content"]["cells"]
    assert any("parameters" in c["metadata"].get("tags", []) for c in cells)


def test_the_render_key_holds_every_sphinx_extension_of_the_package():
    """An edit of any of our Sphinx extensions that _config.yml names (in book/ or elsewhere, e.g. the
    footer's cart19.presentation.sphinx_book) re-renders the book: their files are in the render key."""
    from cart19.book import render as R

    config = (ROOT / "_config.yml").read_bytes()
    files = {p.relative_to(ROOT / "lib").as_posix() for p in R.extension_files(config)}
    named = {n for n in re.findall(r"\bcart19(?:\.\w+)+", config.decode()) if not n.endswith((".css", ".js"))}
    assert named, "_config.yml names none of our extensions"
    for name in named:
        assert name.replace(".", "/") + ".py" in files, (name, files)
    assert R.extension_files(b"sphinx: {config: {extensions: [myst_nb]}}\n") == []
    base = {"_config.yml": config}
    other = {"_config.yml": config.replace(b"cart19.presentation.sphinx_book", b"sphinx_design")}
    assert R.render_key(base) != R.render_key(other)
