"""The layout's rules, checked on the source: no import cycle between bertr's modules, function-local imports only
with their reason written next to them, and `import bertr` starting neither TensorFlow nor the optional libraries."""

import ast
import os
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "bertr"
MODULES = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem not in ("__init__", "__main__"))


def _imports(module: str) -> list[tuple[ast.AST, str, bool]]:
    """(node, imported bertr module, at module level) for each import of a bertr module in ``module``."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            names = [node.module] if node.module else [alias.name for alias in node.names]
            found += [(node, name.split(".")[0], id(node) in top) for name in names if name.split(".")[0] in MODULES]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("bertr."):
            found.append((node, node.module.split(".")[1], id(node) in top))
    return found


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 visiting, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = 2
        path.pop()
        return None

    for node in graph:
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_cycle_between_modules_counting_function_local_imports():
    graph = {module: {target for _, target, _ in _imports(module) if target != module} for module in MODULES}
    assert _cycle(graph) is None, f"import cycle: {' -> '.join(_cycle(graph))}"


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_function_local_imports_state_their_reason():
    unexplained = []
    for module in MODULES:
        lines = (PACKAGE / f"{module}.py").read_text().splitlines()
        tree = ast.parse("\n".join(lines))
        top = {id(node) for node in tree.body}
        for node in ast.walk(tree):
            local = isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in top
            if local and "#" not in lines[node.end_lineno - 1]:
                unexplained.append(f"{module}.py:{node.lineno}: {lines[node.lineno - 1].strip()}")
    assert not unexplained, "function-local imports without a reason:\n" + "\n".join(unexplained)


def test_import_bertr_starts_neither_tensorflow_nor_the_optional_libraries():
    code = (
        "import sys, bertr; heavy = ['tensorflow', 'tf_keras', 'keras_bert', 'tokenizers', 'safetensors'];"
        "print(','.join(m for m in heavy if m in sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": str(PACKAGE.parent)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == ""
