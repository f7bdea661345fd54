"""Code-shape numbers of issue 16, printed so that a before/after can be reproduced on any commit.

    .venv/bin/python bench/code_metrics.py            # numbers
    .venv/bin/python bench/code_metrics.py --verbose  # plus the offending imports, cycles, modules, functions

- imports against the order: direct imports (importer module → imported module, function-level ones
  included, as grimp sees them) from an app to an app of a higher layer, or between the two sinks, in the
  order of docs/architecture.md (LAYERS below). The composition root (cerebrum.urls, cerebrum.celery,
  cerebrum.settings) is exempt.
- imports hidden from the graph: importlib.import_module / __import__ calls in the apps' code.
- import cycles between files: strongly connected groups of two or more modules in the import graph of
  every app (each group is at least one cycle; its size is printed with --verbose).
- modules over 400 lines, functions over 40 lines (def to last line, nested and methods included) and
  lines of code: tracked .py files outside tests/ and */migrations/.
- pairs of repeated six-line blocks: the `duplicates` command (/work/.library) over the whole tree.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
# Lowest first; packages in one tuple are one layer and must not import each other.
LAYERS = [
    ("cerebrum",),
    ("communications", "analytics"),
    ("accounts",),
    ("courses",),
    ("practice",),
    ("payments",),
    ("reports", "audit"),  # staff reports and the audit trail
    ("demo",),  # seed_demo's people and activity over every app
]
APPS = [name for layer in LAYERS for name in layer]
COMPOSITION_ROOT = ("cerebrum.urls", "cerebrum.celery", "cerebrum.settings")
# The demo seeder, named in the count: it lived in courses (courses.management) before the demo app.
SEEDER = "courses.management"
MODULE_LINES, FUNCTION_LINES = 400, 40


def layer_of(package: str) -> int:
    for index, layer in enumerate(LAYERS):
        if package in layer:
            return index
    raise ValueError(f"{package} is in no layer")


def is_root(module: str) -> bool:
    return any(module == root or module.startswith(root + ".") for root in COMPOSITION_ROOT)


def build_graph() -> grimp.ImportGraph:
    present = [name for name in APPS if (ROOT / name / "__init__.py").exists()]
    sys.path.insert(0, str(ROOT))
    return grimp.build_graph(*present, cache_dir=None)


def imports_against_order(graph) -> list[str]:
    found = []
    for importer in sorted(graph.modules):
        if is_root(importer) or ".migrations" in importer:
            continue
        source = importer.split(".")[0]
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            target = imported.split(".")[0]
            if source == target:
                continue
            if layer_of(target) >= layer_of(source):  # uphill, or sideways within a layer
                found.append(f"{importer} -> {imported}")
    return found


def import_cycles(graph) -> list[list[str]]:
    """Tarjan's strongly connected components over module imports; groups of two or more."""
    modules = sorted(m for m in graph.modules if ".migrations" not in m)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for child in edges.get(node, ()):
            if child not in index:
                visit(child)
                low[node] = min(low[node], low[child])
            elif child in stack:
                low[node] = min(low[node], index[child])
        if low[node] == index[node]:
            group = stack[stack.index(node) :]
            del stack[stack.index(node) :]
            if len(group) > 1:
                groups.append(sorted(group))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(modules)))
    for module in modules:
        if module not in index:
            visit(module)
    return sorted(groups)


def hidden_imports(files: list[Path]) -> list[str]:
    """Imports grimp cannot see: importlib.import_module / __import__ calls in the apps' code."""
    found = []
    for path in files:
        if path.relative_to(ROOT).parts[0] not in APPS:
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
                if name in ("import_module", "__import__"):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def source_files() -> list[Path]:
    tracked = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [
        ROOT / name
        for name in tracked
        if not name.startswith("tests/") and "/migrations/" not in name and (ROOT / name).exists()
    ]


def long_functions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1})"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > FUNCTION_LINES
    ]


def duplicate_pairs() -> str:
    tool = shutil.which("duplicates") or "/work/.library/duplicates/duplicates"
    try:
        out = subprocess.run([tool, "--seconds", "120"], cwd=ROOT, capture_output=True, text=True, check=False).stdout
    except OSError:
        return "n/a (duplicates not installed)"
    match = re.match(r"(\d+) pairs", out)
    return match.group(1) if match else out.splitlines()[0] if out else "n/a"


def main() -> None:
    verbose = "--verbose" in sys.argv
    graph = build_graph()
    against = imports_against_order(graph)
    cycles = import_cycles(graph)
    files = source_files()
    lines = {path: len(path.read_text().splitlines()) for path in files}
    big = sorted((n, str(p.relative_to(ROOT))) for p, n in lines.items() if n > MODULE_LINES)
    functions = [row for path in files for row in long_functions(path)]
    code = sum(
        1
        for path in files
        for line in path.read_text().splitlines()
        if line.strip() and not line.strip().startswith("#")
    )
    seeder = [row for row in against if row.startswith(SEEDER + ".")]
    print(f"imports against the order: {len(against)} ({len(seeder)} of them the demo seeder's in courses)")
    hidden = hidden_imports(files)
    print(f"imports hidden from the graph (importlib): {len(hidden)}")
    print(f"import cycles between files: {len(cycles)}")
    print(f"modules over {MODULE_LINES} lines: {len(big)}")
    print(f"functions over {FUNCTION_LINES} lines: {len(functions)}")
    print(f"lines of code (non-test, non-migration .py; blank and comment lines left out): {code}")
    print(f"lines (the same files, every line): {sum(lines.values())}")
    print(f"pairs of repeated six-line blocks: {duplicate_pairs()}")
    if verbose:
        print("\n# imports against the order", *against, sep="\n  ")
        print("\n# hidden imports", *hidden, sep="\n  ")
        print("\n# cycles", *(" ".join(group) for group in cycles), sep="\n  ")
        print("\n# modules", *(f"{p} ({n})" for n, p in big), sep="\n  ")
        print("\n# functions", *functions, sep="\n  ")


if __name__ == "__main__":
    main()
