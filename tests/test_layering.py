"""The layout is a checked contract: data flows one way (import-linter's layers contract in pyproject.toml),
no private name crosses a module boundary, modules and functions stay readable, and no block of code is
written twice inside the package."""

import ast
import hashlib
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "cnnviz"
MODULE_LINES = 400
FUNCTION_LINES = 60
#: Functions allowed over FUNCTION_LINES, each with the reason (see the closing notes).
LONG_FUNCTIONS = {
    "build_atlas": "one resumable pass per layer with its own Ctrl-C handling; split, the resume state would be passed around",
    "adversarial": "the projected-gradient loop keeps the best 8-bit image in one closure",
    "run": "Ascent.run: the compiled step loop over stages with progress, stop checks and bounds",
}


def _modules():
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def test_imports_flow_one_way():
    """import-linter's contract (pyproject.toml): cli -> demo/callbacks -> api -> methods -> results -> output
    -> optvis -> models -> inputs -> backends -> base modules; nothing imports upward, no cycle across layers."""
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0 and "BROKEN" not in result.stdout, result.stdout[-3000:]


def test_no_import_cycle():
    """No two modules import each other, directly or round about (within a layer too, where the layers
    contract does not look): strongly connected components of the import graph, by Tarjan's algorithm."""
    import grimp

    graph = grimp.build_graph("cnnviz")
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges.get(v, []):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(edges):
        if module not in index:
            visit(module)
    assert not cycles, cycles


def test_no_private_name_crosses_a_module():
    found = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("cnnviz")):
                found += [f"{path.relative_to(ROOT)}: {node.module}.{a.name}" for a in node.names
                          if a.name.startswith("_") and not a.name.startswith("__")]
    assert not found, found


def test_modules_and_functions_stay_readable():
    big = [f"{p.relative_to(ROOT)} ({n})" for p in _modules() if (n := len(p.read_text().splitlines())) > MODULE_LINES]
    assert not big, f"modules over {MODULE_LINES} lines: {big}"
    long = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > FUNCTION_LINES and node.name not in LONG_FUNCTIONS:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({n})")
    assert not long, f"functions over {FUNCTION_LINES} lines: {long}"


def _code_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, text) of the lines that are code: no blanks, comments, imports or docstring lines."""
    tree = ast.parse(path.read_text())
    skip = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
            skip.update(range(body[0].lineno, body[0].end_lineno + 1))
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            skip.update(range(node.lineno, node.end_lineno + 1))
    out = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        text = line.strip()
        if n in skip or not text or text.startswith("#") or re.fullmatch(r"[)\]},:]+", text):
            continue
        out.append((n, text))
    return out


def test_no_block_of_six_lines_is_written_twice():
    seen: dict[str, str] = {}
    twice = []
    for path in _modules():
        lines = _code_lines(path)
        for k in range(len(lines) - 5):
            window = lines[k:k + 6]
            key = hashlib.sha1("\n".join(t for _, t in window).encode()).hexdigest()
            where = f"{path.relative_to(ROOT)}:{window[0][0]}"
            if key in seen and not seen[key].startswith(f"{path.relative_to(ROOT)}:"):
                twice.append(f"{seen[key]} ~ {where}")
            seen.setdefault(key, where)
    assert not twice, twice
