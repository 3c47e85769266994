"""The house keeps its shape (docs/architecture.md): imports between top-level folders run one
way, no folder imports a higher one, and no import hides inside a function.

Run as a script to count what runs against the layers in any tree:
    python tests/test_layers.py [ROOT]
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# From the ground up: a folder may import only the folders before it.
LAYERS = ("models", "events", "sharing", "storage", "reads", "access", "delivery", "schema", "resolvers", "subscriptions", "demo",
          "app", "server")
NOT_APPLICATION = ("tests", "bench", "migrations")


def application_files(root: Path) -> list[Path]:
    files = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).parts
        if parts[0] in NOT_APPLICATION or parts[0].startswith("."):
            continue
        files.append(path)
    return files


def layer_of(root: Path, path: Path) -> str:
    parts = path.relative_to(root).parts
    return parts[0] if len(parts) > 1 else path.stem


def imported_modules(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        return [node.module]
    return []


def imports_against_layers(root: Path) -> list[str]:
    """Every import, anywhere in a file (type-checking blocks and functions too), of a folder
    that stands above the importer's."""
    rank = {name: i for i, name in enumerate(LAYERS)}
    found = []
    for path in application_files(root):
        layer = layer_of(root, path)
        for node in ast.walk(ast.parse(path.read_text())):
            for module in imported_modules(node):
                target = module.split(".")[0]
                if target in rank and layer in rank and rank[target] > rank[layer]:
                    found.append(f"{path.relative_to(root)}:{node.lineno} imports {module}")
    return found


def folders_importing_each_other(root: Path) -> list[tuple[str, str]]:
    arrows: dict[str, set[str]] = defaultdict(set)
    for path in application_files(root):
        layer = layer_of(root, path)
        for node in ast.walk(ast.parse(path.read_text())):
            for module in imported_modules(node):
                target = module.split(".")[0]
                if target != layer and (root / target).is_dir():
                    arrows[layer].add(target)
    pairs = {(a, b) for a, targets in arrows.items() for b in targets}
    return sorted({(min(a, b), max(a, b)) for a, b in pairs if (b, a) in pairs})


def function_local_imports(root: Path) -> list[str]:
    found = []
    for path in application_files(root):
        for function in ast.walk(ast.parse(path.read_text())):
            if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for node in ast.walk(function):
                    if isinstance(node, (ast.Import, ast.ImportFrom)):
                        found.append(f"{path.relative_to(root)}:{node.lineno}")
    return found


def test_every_application_file_sits_in_a_layer() -> None:
    assert [p for p in application_files(ROOT) if layer_of(ROOT, p) not in LAYERS] == []


def test_no_import_runs_against_the_layers() -> None:
    assert imports_against_layers(ROOT) == []


def test_no_two_folders_import_each_other() -> None:
    assert folders_importing_each_other(ROOT) == []


def test_no_import_hides_inside_a_function() -> None:
    # A cycle of the schema's type graph goes through strawberry.lazy, not a local import.
    assert function_local_imports(ROOT) == []


if __name__ == "__main__":
    tree = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT
    against = imports_against_layers(tree)
    print(f"imports against the layers {' < '.join(LAYERS)}: {len(against)}")
    for line in against:
        print("  " + line)
    print(f"folders importing each other: {folders_importing_each_other(tree)}")
    print(f"imports inside functions: {len(function_local_imports(tree))}")
