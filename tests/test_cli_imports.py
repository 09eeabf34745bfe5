"""The command is the top layer: the library never imports it, and its modules import no circle."""

import ast
from pathlib import Path

import likely

SRC = Path(likely.__file__).parent


def _imports(path: Path) -> set[str]:
    """Modules imported by ``path`` (at any depth of the file, lazy imports included)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _module(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_the_library_does_not_import_the_command():
    library = [p for p in SRC.rglob("*.py") if "cli" not in p.relative_to(SRC).parts and p.name != "__main__.py"]
    offenders = {_module(p): sorted(n for n in _imports(p) if n.startswith("likely.cli")) for p in library}
    assert {m: n for m, n in offenders.items() if n} == {}


def test_command_modules_import_no_circle():
    graph = {_module(p): {n for n in _imports(p) if n.startswith("likely.cli.")} for p in (SRC / "cli").glob("*.py")}

    def reaches(start, target, seen):
        return any(n == target or (n not in seen and reaches(n, target, seen | {n})) for n in graph.get(start, ()))

    assert [m for m in graph if reaches(m, m, {m})] == []
