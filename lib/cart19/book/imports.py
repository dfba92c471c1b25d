"""What a chapter's code depends on in ``lib/cart19``: its import graph, found with ``ast``.

A chapter's cache key holds every ``lib/cart19`` module it imports directly or transitively, and the
data files those modules declare they read (:data:`DATA_READS_NAME`). Imports done dynamically
(``importlib``) are not seen: import modules by name.
"""
from __future__ import annotations

import ast
from pathlib import Path

from cart19.book.layout import BuildError


def _python_of(source: str) -> str:
    """Cell source with IPython-only lines (magics, shell escapes) blanked, so ``ast`` can parse it."""
    out = []
    for line in source.splitlines():
        stripped = line.lstrip()
        out.append("" if stripped.startswith(("%", "!")) or stripped.endswith("?") else line)
    return "\n".join(out)


def imported_modules(code: str, current: str | None = None, package: str = "cart19",
                     cell: bool = True) -> set[str]:
    """Names ``package.x[.y]`` that ``code`` imports (``import cart19.x``, ``from cart19 import x``,
    ``from cart19.x import f`` and, inside the package, relative imports). Candidates such as
    ``cart19.x.f`` may name functions; callers keep only names that are modules.

    ``cell``: notebook code, whose IPython-only lines are blanked first (a cell that still does
    not parse imports nothing). A module file (``cell=False``) is parsed as it is: blanking a
    docstring line that ends in "?" broke the parse and silently dropped every import of two
    modules, so their chapters were not re-executed when the code they run changed."""
    if cell:
        try:
            tree = ast.parse(_python_of(code))
        except SyntaxError:
            return set()
    else:
        tree = ast.parse(code)
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == package or alias.name.startswith(package + "."):
                    found.add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level and current:
                base = current.split(".")
                # a module's package is its name minus the last part (current names a module)
                base = base[: len(base) - node.level]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod == package or mod.startswith(package + "."):
                found.add(mod)
                found.update(f"{mod}.{alias.name}" for alias in node.names)
    return found


def module_graph(lib: Path, package: str = "cart19") -> dict[str, tuple[Path, set[str]]]:
    """``{module: (file, modules it imports)}`` for every module of the package in ``lib``."""
    graph = {}
    for f in sorted(lib.rglob("*.py")):
        parts = list(f.relative_to(lib).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        if is_pkg:
            parts = parts[:-1]
        name = ".".join([package] + parts)
        # relative imports in a package's __init__ resolve against the package itself
        current = name + ".__init__" if is_pkg else name
        graph[name] = (f, imported_modules(f.read_text(encoding="utf-8"), current, package,
                                           cell=False))
    return graph


#: Module-level name by which a ``lib/cart19`` module declares the data files it reads itself (paths
#: from the repository root, a literal tuple of strings), e.g. ``DATA_READS =
#: ("data/published/design.yml",)``: they count as reads of every chapter that imports the module,
#: directly or not (cache key, sandbox, order), so no chapter has to list them.
DATA_READS_NAME = "DATA_READS"


def declared_reads(graph: dict[str, tuple[Path, set[str]]]) -> dict[str, tuple[str, ...]]:
    """``{module: data files it declares in DATA_READS}`` for the modules of ``graph`` that declare
    any. A declaration that is not a literal tuple or list of strings is an error of the code."""
    out = {}
    for name, (path, _) in graph.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            targets = node.targets if isinstance(node, ast.Assign) else (
                [node.target] if isinstance(node, ast.AnnAssign) and node.value is not None else [])
            if any(isinstance(t, ast.Name) and t.id == DATA_READS_NAME for t in targets):
                try:
                    value = ast.literal_eval(node.value)
                except ValueError:
                    value = None
                if not isinstance(value, (tuple, list)) or not all(isinstance(v, str) for v in value):
                    raise BuildError(f"{path}: {DATA_READS_NAME} must be a literal tuple of paths")
                out[name] = tuple(value)
    return out


def closure(direct: set[str], graph: dict[str, tuple[Path, set[str]]]) -> set[str]:
    """Every module executed by importing ``direct``: parents packages included, transitively."""
    seen: set[str] = set()
    todo = list(direct)
    while todo:
        name = todo.pop()
        parts = name.split(".")
        for i in range(1, len(parts) + 1):
            mod = ".".join(parts[:i])
            if mod in graph and mod not in seen:
                seen.add(mod)
                todo.extend(graph[mod][1])
    return seen
