"""The package's layers import downward only (docs/architecture.md has the picture).

Every import statement counts, top-level or inside a function. A module may import its own
layer (without cycles) and the layers its entry below allows; nothing else.
"""

import ast
from pathlib import Path

import pnetc

PACKAGE = Path(pnetc.__file__).resolve().parent

# layer -> the layers it may import. The order of this dict is the picture, bottom first.
ALLOWED = {
    "spec": set(),                                   # errors, resources, hashing, kernels, outdir, results, quantization, metrics, ir.limits
    "datasets": {"spec"},
    "boards": {"spec"},                              # boards/*.toml: read by codegen packages and targets
    "ir": {"spec"},                                  # the IR, its passes and the golden interpreter
    "frontend": {"spec", "ir"},
    "codegen": {"spec", "ir", "boards"},
    "compiler": {"spec", "ir", "frontend", "codegen"},
    "targets": {"spec", "boards", "codegen", "compiler"},  # toolchains, emulators, protocol, comparison
    "measure": {"spec", "boards", "compiler", "targets"},
    "evaluate": {"spec", "datasets", "boards", "ir", "frontend", "compiler", "targets"},  # eval, verify, run
    "training": {"spec", "datasets"},                # torch; beside the compiler, never under it
    "progress": {"spec"},                            # progress bars and the --json line, for the API and CLI
    "budget": {"spec", "datasets", "boards", "compiler", "measure", "training", "progress"},  # search within a budget
    "api": {"spec", "datasets", "boards", "ir", "frontend", "compiler", "targets", "measure", "evaluate",
            "training", "progress", "budget"},
    "demo": {"spec", "boards", "api", "progress"},
    "cli": {"spec", "boards", "ir", "api", "demo", "datasets", "compiler", "training", "evaluate", "progress",
            "targets", "budget"},                              # targets: the device error types it reports
}


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "pnetc" or len(parts) == 1:
        return None  # outside the package, or its root (__version__, the lazy API names)
    head = parts[1]
    if head in ("errors", "resources", "hashing", "kernels", "outdir", "results", "quantization", "metrics"):
        return "spec"
    if head == "targets" and len(parts) > 2 and parts[2] == "boards":
        return "boards"
    if head == "ir" and len(parts) > 2 and parts[2] == "limits":
        return "spec"  # the sizes a model may have: the compiler enforces them, training stays within them
    if head in ("cli", "__main__", "report"):  # the command line and everything it prints
        return "cli"
    return head


def modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def imports(module: str, path: Path, known: dict) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name != module and not module.startswith(name + "."):
                found.add(name)
    return found


def test_every_module_has_a_layer():
    unknown = sorted(m for m in modules() if m != "pnetc" and layer_of(m) not in ALLOWED)
    assert unknown == [], f"modules outside every layer (add them to ALLOWED and the picture): {unknown}"


def test_layers_import_downward_only():
    known = modules()
    upward = []
    for module, path in sorted(known.items()):
        mine = layer_of(module)
        if mine is None:
            continue
        for target in sorted(imports(module, path, known)):
            theirs = layer_of(target)
            if theirs is not None and theirs != mine and theirs not in ALLOWED.get(mine, set()):
                upward.append(f"{module} ({mine}) imports {target} ({theirs})")
    assert upward == []


def test_no_import_cycles():
    known = modules()
    graph = {m: {t for t in imports(m, p, known) if t != "pnetc"} for m, p in known.items()}
    cycles, index, low, stack, on = [], {}, {}, [], set()

    def visit(v, counter=[0]):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    assert cycles == []


def test_the_checker_sees_an_upward_import(tmp_path):
    """The rule bites: a frontend module importing the CLI is reported."""
    fake = tmp_path / "x.py"
    fake.write_text("def f():\n    from pnetc.cli import main\n")
    known = {**modules(), "pnetc.frontend.x": fake}
    assert imports("pnetc.frontend.x", fake, known) == {"pnetc.cli"}
    assert "cli" not in ALLOWED[layer_of("pnetc.frontend.x")]
