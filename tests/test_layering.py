"""The layering of docs/architecture.md, read from the source: imports point down, and every import sits at the top
of its file.

backend < core < ops < keras < distribute < tuner / evolution < cli. An import placed after a module's
definitions (to break an import cycle) makes the import order matter: importing the other module first
fails. Both rules are checked on every module of the package with ``ast``, without importing anything.
"""

import ast
import functools
import pathlib

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "featherflow"
RANK = {"backend": 0, "compiler": 0.5, "core": 1, "ops": 2, "image": 2, "data": 2, "summary": 2, "train": 2, "strings": 2, "io": 2, "lookup": 2,
        "keras": 3,
        "distribute": 4, "tuner": 5, "evolution": 5, "cli": 6}


def _modules():
    assert PACKAGE.is_dir()
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(parts), path


MODULES = list(_modules())


@functools.cache
def _parse(path: pathlib.Path) -> ast.Module:
    return ast.parse(path.read_text(), str(path))


def _layer(module: str):
    parts = module.split(".")
    return RANK.get(parts[1]) if len(parts) > 1 and parts[0] == "featherflow" else None


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base[:len(base) - node.level + (1 if is_package else 0)]
    return ".".join(base + ([node.module] if node.module else []))


def upward_imports(module: str, path: pathlib.Path) -> list:
    """``(line, imported module)`` of every import in ``module`` that reaches a higher layer."""
    own = _layer(module)
    if own is None:
        return []
    found = []
    for node in ast.walk(_parse(path)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [_absolute(node, module, path.name == "__init__.py")]
        else:
            continue
        found += [(node.lineno, name) for name in names if (_layer(name) or -1) > own]
    return found


def late_imports(path: pathlib.Path) -> list:
    """Lines of module-level imports that come after the module's first function or class."""
    late, defined = [], False
    for node in _parse(path).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined = True
        elif defined and isinstance(node, (ast.Import, ast.ImportFrom)):
            late.append(node.lineno)
    return late


def test_imports_point_down():
    upward = {module: found for module, path in MODULES if (found := upward_imports(module, path))}
    assert upward == {}, "these modules import from a higher layer (docs/architecture.md)"


def test_imports_sit_at_the_top_of_every_module():
    late = {module: lines for module, path in MODULES if (lines := late_imports(path))}
    assert late == {}, "these modules import after their definitions (an import cycle to untangle)"


def test_the_checks_see_what_they_look_for(tmp_path):
    # the two checks themselves, on a module that breaks both rules
    bad = tmp_path / "bad.py"
    bad.write_text("import os\n\ndef f():\n    from featherflow.tuner import Hyperband\n\n"
                   "from featherflow.ops import conv\n")
    assert upward_imports("featherflow.ops.bad", bad) == [(4, "featherflow.tuner")]
    assert late_imports(bad) == [6]
    assert upward_imports("featherflow.cli.bad", bad) == []
