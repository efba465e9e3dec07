"""Import hygiene of the package: no import cycle, and no module reaching into another package's
private modules or names.

Every import statement counts, the lazy ones inside functions too (a cycle through a lazy import
still means two modules that cannot be understood, or moved, one without the other); imports under
`if TYPE_CHECKING:` do not, since they never run. A private module or name (`_x`) belongs to the
package that holds it: `discover.choose._rule` may be imported inside `discover.choose` only,
while the top-level `discover._errors`, `discover._config`, ... are the whole package's shared base.
Benchmarks and tests may use private names; the rule is for the package.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "discover"


def _modules(package: Path) -> dict[str, tuple[Path, bool]]:
    """Dotted module name -> (file, is a package's __init__) for every .py file under `package`."""
    out = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        is_init = parts[-1] == "__init__"
        out[".".join(parts[:-1] if is_init else parts)] = (path, is_init)
    return out


def _runtime_nodes(tree: ast.Module) -> list[ast.AST]:
    """Every node of `tree` except those under `if TYPE_CHECKING:`."""
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    return [n for n in ast.walk(tree) if id(n) not in skipped]


def _imports(name: str, is_init: bool, tree: ast.Module, modules) -> list[tuple[int, str, str | None]]:
    """(line, imported module, imported name or None) for each import of a module of the package."""
    here = name.split(".") if is_init else name.split(".")[:-1]
    out = []
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name, None) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(here[: len(here) - node.level + 1] + ([node.module] if node.module else [])) \
                if node.level else node.module
            for a in node.names:  # `from pkg import submodule` imports the submodule
                sub = f"{base}.{a.name}"
                out.append((node.lineno, sub, None) if sub in modules else (node.lineno, base, a.name))
    root = next(iter(modules)).split(".")[0]
    return [(line, m, n) for line, m, n in out if m.split(".")[0] == root]


def _owner(dotted: str) -> str | None:
    """The package a private module or name belongs to: the path up to its first `_x` part (None if public)."""
    parts = dotted.split(".")
    for i, part in enumerate(parts):
        if part.startswith("_") and not part.startswith("__"):
            return ".".join(parts[:i])
    return None


def import_graph(package: Path) -> tuple[dict[str, set[str]], list[str]]:
    """The module -> imported modules graph of `package`, and each private cross-package import."""
    modules = _modules(package)
    graph, private = {}, []
    for name, (path, is_init) in modules.items():
        here = name if is_init else name.rsplit(".", 1)[0]
        graph[name] = set()
        for line, target, imported in _imports(name, is_init, ast.parse(path.read_text()), modules):
            if target in modules and target != name:
                graph[name].add(target)
            dotted = target if imported is None else f"{target}.{imported}"
            owner = _owner(dotted)
            if owner is not None and here != owner and not here.startswith(f"{owner}."):
                private.append(f"{path.relative_to(package.parent)}:{line} imports {dotted} (private to {owner})")
    return graph, private


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of `graph` with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while not component or component[-1] != v:
                component.append(stack.pop())
                on_stack.discard(component[-1])
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_package_has_no_import_cycle():
    graph, _ = import_graph(PACKAGE)
    assert len(graph) > 50  # the walk found the package
    assert cycles(graph) == []


def test_no_module_imports_another_packages_private_modules_or_names():
    graph, private = import_graph(PACKAGE)
    assert any(graph.values())
    assert private == []


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text))
    return root / "pkg"


def test_the_checks_find_a_lazy_cycle_and_a_private_import_across_packages(tmp_path):
    package = _write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/_base.py": "from .a import helper\n",
        "pkg/a/__init__.py": "from ._impl import helper as helper\n",
        "pkg/a/_impl.py": "def helper():\n    from .._base import x\n",
        "pkg/b/__init__.py": "",
        "pkg/b/_use.py": "from ..a._impl import helper\nfrom ..a import _impl\nfrom .._base import y\n",
        "pkg/b/_typed.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..a._impl import helper\n",
    })
    graph, private = import_graph(package)
    assert cycles(graph) == [["pkg._base", "pkg.a", "pkg.a._impl"]]
    assert private == ["pkg/b/_use.py:1 imports pkg.a._impl.helper (private to pkg.a)",
                       "pkg/b/_use.py:2 imports pkg.a._impl (private to pkg.a)"]
