"""Imports run one way through the package's layers, lazy imports inside functions included."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "sk_reseq"

#: Each top-level module or subpackage and its layer; a module may import its own
#: layer and those below. The auto equalizer joins the equalizer and a model, so
#: the equalizer sits above the models and their persistence.
LAYERS = {
    "__init__": 0, "__main__": 9, "_validation": 0, "_atomic": 0, "_optional": 0, "_constants": 0,
    "audio": 0, "loudness": 0,
    "spectral": 0, "metrics": 0, "utils": 1,
    "preprocessing": 1, "features": 1,
    "models": 2,
    "persistence": 3,
    "equalizer": 4,
    "datasets": 5, "stats": 5, "plotting": 5,
    "model_selection": 6,
    "training": 7, "evaluation": 7, "experiment": 7, "listen": 7,
    "cli": 8,
}


def _imports(path):
    """Top-level sk_reseq modules that ``path`` imports (relative or absolute)."""
    part = path.relative_to(PACKAGE).parts
    depth = len(part) - 1  # folders below sk_reseq
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module and node.module.startswith("sk_reseq."):
                yield node.module.split(".")[1], node.lineno
            elif node.level == depth + 1 and node.module:  # from ..x import y at sk_reseq level
                yield node.module.split(".")[0], node.lineno
            elif node.level == depth + 1:
                for alias in node.names:
                    yield alias.name, node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("sk_reseq."):
                    yield alias.name.split(".")[1], node.lineno


def test_every_top_level_module_has_a_layer():
    names = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()
             if (p.suffix == ".py" or (p / "__init__.py").exists())}
    assert names == set(LAYERS), names ^ set(LAYERS)


def test_imports_run_one_way():
    upward = []
    for path in PACKAGE.rglob("*.py"):
        part = path.relative_to(PACKAGE).parts
        own = part[0].removesuffix(".py")
        for target, line in _imports(path):
            if target in LAYERS and target != own and LAYERS[target] > LAYERS[own]:
                upward.append(f"{path.relative_to(PACKAGE)}:{line} imports {target}")
    assert not upward, "\n".join(upward)


def test_sklearn_internals_are_imported_in_one_module():
    # scikit-learn's private names move between releases: one file to fix.
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "_sklearn_compat.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sklearn"):
                private = any(part.startswith("_") for part in node.module.split("."))
                private |= any(alias.name.startswith("_") for alias in node.names)
                if private:
                    offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert not offenders, offenders


def test_no_import_cycle_between_top_level_modules():
    # Modules of one layer may import each other, but not both ways round.
    graph = {}
    for path in PACKAGE.rglob("*.py"):
        own = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
        graph.setdefault(own, set()).update(
            t for t, _ in _imports(path) if t in LAYERS and t not in (own, "__init__"))
    state, cycles = {}, []

    def visit(node, trail):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                cycles.append(" -> ".join(trail[trail.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not cycles, cycles
