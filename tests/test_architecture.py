"""The structure DESIGN.md asks for, checked on the source with :mod:`ast`.

- No module imports a name starting with ``_`` (or a private module) from another
  subpackage; the top-level ``likely._checks``, ``likely._io``, ``likely._device`` and ``likely._persist`` are
  the shared low layers everyone may use.
- No import circle between modules (imports at module level; those inside functions and
  ``if TYPE_CHECKING:`` blocks do not run at import time).
- No circle hidden by moving an import into a function: a circle of imports that is
  broken only because one side imports lazily is still a circle of dependencies.
- The layer order of DESIGN.md (e.g. ``likely.nn`` knows nothing of the models built on
  it, nothing but the entry point imports ``likely.cli``), ``likely.metrics`` and
  ``likely.stats`` are NumPy only, and neither benchmarks nor examples use the command's
  internals.
- Every benchmark script still starts (``--help``).

The checkers are plain functions of source text so that their own tests below can show
that each check fails on a violation.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
#: top-level private modules every layer may import (DESIGN.md's lowest layers)
SHARED_LOW_LAYERS = frozenset({"likely._checks", "likely._io", "likely._device", "likely._persist"})
#: DESIGN.md's layers, top first: each imports only from itself and the layers before it
#: ('' is the package ``likely`` itself, ``__main__`` the command's entry point)
LAYERS = ("", "_checks", "_io", "_device", "_persist", "nn", "transforms", "metrics", "stats", "data", "sim", "density",
          "classify", "autoencoders", "represent", "detect", "search", "calo", "plot", "cli", "__main__")
#: packages that must not use torch (DESIGN.md: NumPy / SciPy only)
NUMPY_ONLY = ("likely.metrics", "likely.stats")
CLI = "likely.cli"

#: where an import statement runs
MODULE, FUNCTION, TYPE_CHECKING = "module", "function", "type checking"


@dataclass(frozen=True)
class Import:
    """One imported module (``target``) and the names taken from it, as written in ``module``."""

    module: str
    line: int
    target: str
    names: tuple[str, ...]
    when: str

    def where(self) -> str:
        """``module:line``, for messages."""
        return f"{self.module}:{self.line}"


def module_name(path: Path, root: Path = SRC) -> str:
    """Dotted name of the module in ``path`` (a package's ``__init__.py`` is the package)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(nodes: Iterable[ast.AST], when: str = MODULE) -> Iterator[tuple[ast.stmt, str]]:
    """Every import statement under ``nodes`` and when it runs (MODULE, FUNCTION or TYPE_CHECKING)."""
    for node in nodes:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, when
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _import_nodes(node.body, TYPE_CHECKING)
            yield from _import_nodes(node.orelse, when)
        else:
            deferred = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            yield from _import_nodes(ast.iter_child_nodes(node), FUNCTION if deferred and when == MODULE else when)


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The absolute module of a (possibly relative) ``from ... import``."""
    if not node.level:
        return node.module
    package = module.split(".") if is_package else module.split(".")[:-1]
    if node.level - 1 >= len(package):
        raise ValueError(f"{module}:{node.lineno}: relative import beyond the top-level package")
    base = package[: len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def parse_imports(source: str, module: str, is_package: bool = False) -> list[Import]:
    """Every import statement of ``source`` (the module ``module``), relative ones made absolute."""
    imports = []
    for node, when in _import_nodes(ast.parse(source).body):
        if isinstance(node, ast.Import):
            imports += [Import(module, node.lineno, alias.name, (), when) for alias in node.names]
        else:
            names = tuple(alias.name for alias in node.names)
            imports.append(Import(module, node.lineno, _absolute(node, module, is_package), names, when))
    return imports


def _subpackage(module: str) -> str:
    """The layer a module belongs to: the first component under ``likely`` ('' for ``likely`` itself)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_imports(imports: Iterable[Import]) -> list[str]:
    """Imports of private names or modules across subpackages, one line each."""
    violations = []
    for imp in imports:
        if imp.target.split(".")[0] != "likely" or _subpackage(imp.target) == _subpackage(imp.module):
            continue
        if imp.target not in SHARED_LOW_LAYERS and any(map(_is_private, imp.target.split("."))):
            violations.append(f"{imp.where()} imports the private module {imp.target}")
        for name in imp.names:
            if _is_private(name) and f"{imp.target}.{name}" not in SHARED_LOW_LAYERS:
                violations.append(f"{imp.where()} imports the private name {name} from {imp.target}")
    return violations


def _loaded(imp: Import, modules: frozenset[str]) -> Iterator[str]:
    """The modules that ``imp`` makes Python run: the target, its parent packages and any
    submodules named in a ``from`` import, except the packages of ``imp.module`` itself."""
    parts = imp.target.split(".")
    parents = (".".join(parts[:k]) for k in range(2, len(parts)))
    submodules = (f"{imp.target}.{name}" for name in imp.names if f"{imp.target}.{name}" in modules)
    for target in (*parents, imp.target, *submodules):
        if not _within(imp.module, target):  # a package being imported is loaded already
            yield target


def import_graph(imports: Iterable[Import], modules: Iterable[str], when: tuple[str, ...] = (MODULE,),
                 ) -> dict[str, dict[str, int]]:
    """``graph[a][b]``: the line of module ``a`` whose import runs module ``b``, counting the
    import statements that run at the times in ``when`` (at import time by default)."""
    modules = frozenset(modules)
    graph: dict[str, dict[str, int]] = {module: {} for module in modules}
    for imp in imports:
        if imp.when in when:
            for target in _loaded(imp, modules):
                if target in modules and target != imp.module:
                    graph[imp.module].setdefault(target, imp.line)
    return graph


def strongly_connected(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Tarjan's strongly connected components of ``graph``, each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    components = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = [stack.pop()]
            while component[-1] != v:
                component.append(stack.pop())
            components.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return components


def import_cycles(graph: dict[str, dict[str, int]]) -> list[str]:
    """Every import circle of more than one module, with the import lines that close it."""
    cycles = []
    for component in strongly_connected(graph):
        if len(component) > 1:
            edges = [f"{a}:{graph[a][b]} -> {b}" for a in component for b in component if b in graph[a]]
            cycles.append("circle of " + ", ".join(component) + ": " + "; ".join(edges))
    return cycles


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def _layer_violation(imp: Import, layers: tuple[str, ...]) -> str | None:
    if any(_within(imp.module, package) for package in NUMPY_ONLY) and _within(imp.target, "torch"):
        return f"{imp.where()} imports {imp.target}, but {imp.module} must be NumPy only"
    if imp.target.split(".")[0] != "likely":
        return None
    own, used = _subpackage(imp.module), _subpackage(imp.target)
    unknown = [layer for layer in (own, used) if layer not in layers]
    if unknown:
        return f"{imp.where()}: likely.{unknown[0]} is not a layer of DESIGN.md (add it to the list and to LAYERS)"
    if layers.index(used) > layers.index(own):
        return f"{imp.where()} imports {imp.target}, but {used} is a lower layer than {own}"
    return None


def layer_violations(imports: Iterable[Import], layers: tuple[str, ...] = LAYERS) -> list[str]:
    """Imports (outside ``if TYPE_CHECKING:``) against DESIGN.md's layer order or its NumPy-only rule."""
    found = (_layer_violation(imp, layers) for imp in imports if imp.when != TYPE_CHECKING)
    return [violation for violation in found if violation]


#: what scripts may use of the command: running it, and its run-directory conventions
CLI_FOR_SCRIPTS = frozenset({CLI, f"{CLI}.rundir"})


def cli_imports(imports: Iterable[Import], allowed: frozenset[str] = frozenset()) -> list[str]:
    """Imports of ``likely.cli`` (the command's argument parsing) from outside it, less ``allowed`` modules."""
    return [f"{imp.where()} imports {imp.target}" for imp in imports
            if _within(imp.target, CLI) and not _within(imp.module, CLI) and imp.target not in allowed]


def _package_imports() -> tuple[list[Import], list[str]]:
    imports, modules = [], []
    for path in sorted((SRC / "likely").rglob("*.py")):
        module = module_name(path)
        modules.append(module)
        imports += parse_imports(path.read_text(), module, is_package=path.name == "__init__.py")
    return imports, modules


IMPORTS, MODULES = _package_imports()
BENCHMARKS = sorted(p for p in (ROOT / "benchmarks").glob("*.py") if p.name != "_common.py")
SCRIPTS = BENCHMARKS + sorted((ROOT / "examples").glob("*.py"))


def _report(violations: list[str]) -> str:
    return f"{len(violations)} violation(s):\n  " + "\n  ".join(violations)


# --- the checks on likely itself ----------------------------------------------------------


@pytest.mark.parametrize("package", ["likely.metrics", "likely.stats"])
def test_numpy_only_package_does_not_import_torch(package):
    if not (SRC / Path(*package.split("."))).exists():
        pytest.skip(f"{package} does not exist yet")
    code = f"import sys, {package}; print('torch' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False", f"import {package} imports torch"


def test_no_private_names_across_subpackages():
    violations = private_imports(IMPORTS)
    assert not violations, _report(violations)


def test_no_import_circles():
    cycles = import_cycles(import_graph(IMPORTS, MODULES))
    assert not cycles, _report(cycles)


def test_no_import_circles_hidden_in_functions():
    cycles = import_cycles(import_graph(IMPORTS, MODULES, when=(MODULE, FUNCTION)))
    assert not cycles, _report(cycles)


def test_layer_order():
    violations = layer_violations(IMPORTS)
    assert not violations, _report(violations)


def test_scripts_do_not_import_the_cli():
    """Benchmarks and examples may run the command (``likely.cli.main``) and use its run
    directories, but library code they need lives in the library, not in the command."""
    scripts = [imp for path in SCRIPTS for imp in parse_imports(path.read_text(), str(path.relative_to(ROOT)))]
    violations = cli_imports(scripts, CLI_FOR_SCRIPTS)
    assert not violations, _report(violations)


@pytest.mark.parametrize("script", BENCHMARKS, ids=lambda path: path.name)
def test_benchmark_script_starts(script):
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    result = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True, env=env,
                            cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "usage" in result.stdout


# --- the checkers can fail ----------------------------------------------------------------


def _imports(sources: dict[str, str]) -> list[Import]:
    return [imp for module, source in sources.items() for imp in parse_imports(source, module)]


def test_private_name_from_another_subpackage_is_found():
    source = "import numpy\nfrom likely.density.base import (\n    encode,\n    _decode_params,\n)\n"
    assert private_imports(_imports({"likely.autoencoders.conditional": source})) == [
        "likely.autoencoders.conditional:2 imports the private name _decode_params from likely.density.base"
    ]


def test_private_module_and_relative_import_are_found():
    sources = {
        "likely.cli.generate": "def run():\n    from likely.data.generate._chunks import write\n",
        "likely.search.methods": "from ..density.base import _cond_latent\n",
    }
    assert private_imports(_imports(sources)) == [
        "likely.cli.generate:2 imports the private module likely.data.generate._chunks",
        "likely.search.methods:1 imports the private name _cond_latent from likely.density.base",
    ]


def test_clean_imports_pass_the_private_check():
    sources = {
        "likely.metrics.curves": "from .._checks import check_array\nfrom likely import _io, __version__\n",
        "likely.search.methods": "from likely.search.persistence import _encode\nfrom likely._persist import save\n",
        "likely.density.flow": "from ._base import thing\nimport likely.density._x\n",
    }
    assert private_imports(_imports(sources)) == []


def test_two_module_circle_is_found():
    sources = {
        "likely.search.methods": "from likely.search.persistence import save\n",
        "likely.search.persistence": "from . import methods\n",
        "likely.search": "from likely.search.methods import CATHODE\n",
    }
    graph = import_graph(_imports(sources), sources)
    assert import_cycles(graph) == [
        "circle of likely.search.methods, likely.search.persistence: "
        "likely.search.methods:1 -> likely.search.persistence; likely.search.persistence:1 -> likely.search.methods"
    ]


def test_circle_through_a_package_init_is_found():
    sources = {"likely.calo.evaluate": "from likely.data.showers import Showers\n",
               "likely.data.showers": "x = 1\n", "likely.data": "import likely.calo.evaluate\n"}
    assert import_cycles(import_graph(_imports(sources), sources)) == [
        "circle of likely.calo.evaluate, likely.data: likely.calo.evaluate:1 -> likely.data; "
        "likely.data:1 -> likely.calo.evaluate"
    ]


def test_deferred_imports_make_a_hidden_circle_only():
    sources = {
        "likely.cli.calo": "from likely.cli.calo_study import study\n",
        "likely.cli.calo_study": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from likely.cli.calo import x\n"
                                 "def f():\n    from likely.cli.calo import read\n",
    }
    imports = _imports(sources)
    assert import_cycles(import_graph(imports, sources)) == []
    assert import_cycles(import_graph(imports, sources, when=(MODULE, FUNCTION))) == [
        "circle of likely.cli.calo, likely.cli.calo_study: likely.cli.calo:1 -> likely.cli.calo_study; "
        "likely.cli.calo_study:5 -> likely.cli.calo"
    ]


def test_layer_order_is_enforced():
    sources = {
        "likely.metrics.two_sample": "import numpy\nfrom likely.classify import NNClassifier\n",
        "likely.metrics.curves": "def f():\n    import torch.nn\n",
        "likely.nn.checkpoint": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from likely.density import Flow\n",
        "likely.search.methods": "import torch\nimport likely\nfrom likely.density import Flow\nfrom likely.cli import x\n",
        "likely.evaluate": "from likely._checks import check_array\n",
    }
    assert layer_violations(_imports(sources)) == [
        "likely.metrics.two_sample:2 imports likely.classify, but classify is a lower layer than metrics",
        "likely.metrics.curves:2 imports torch.nn, but likely.metrics.curves must be NumPy only",
        "likely.search.methods:4 imports likely.cli, but cli is a lower layer than search",
        "likely.evaluate:1: likely.evaluate is not a layer of DESIGN.md (add it to the list and to LAYERS)",
    ]


def test_cli_imports_outside_the_command_are_found():
    sources = {
        "benchmarks/calo_anomaly.py": "from likely.cli.calo import read_showers\n",
        "examples/density_toy.py": "from likely.density import Flow\n",
        "likely.cli.calo": "from likely.cli.rundir import prepare_run_dir\n",
    }
    assert cli_imports(_imports(sources)) == ["benchmarks/calo_anomaly.py:1 imports likely.cli.calo"]
