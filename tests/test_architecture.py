"""The layering, read from the code's imports (an AST walk, no import runs).

spec -> tasks -> layers -> backend: backend/ imports nothing from layers/, tasks/ or
commands/; layers/ nothing from tasks/ or commands/ and has no backend switches; data/ and
spec/ import no backend at module level; only commands/ and the CLI import commands/; only
backend/ imports torch, jax, tensorflow or Keras' private `keras.src` at module level.
"""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).parent.parent
PACKAGE = ROOT / "keras_seq"
BACKENDS = ("tensorflow", "jax", "torch")


def _resolve(path, node, root):
    """The absolute module name of an `ImportFrom` (relative imports resolved)."""
    if not node.level:
        return node.module or ""
    parts = list(path.relative_to(root).with_suffix("").parts)[: -node.level]
    return ".".join(parts + ([node.module] if node.module else []))


def imports(path, module_level_only=False, root=ROOT):
    """(module name, line) of every import in the file; `from a import b` gives `a.b` too."""
    tree = ast.parse(path.read_text(), filename=str(path))
    nodes = tree.body if module_level_only else ast.walk(tree)
    found = []
    for node in nodes:
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(path, node, root)
            found.append((base, node.lineno))
            found += [(f"{base}.{alias.name}", node.lineno) for alias in node.names]
    return found


def files(*parts):
    folder = ROOT.joinpath(*parts)
    return sorted(folder.rglob("*.py")) if folder.is_dir() else [folder.with_suffix(".py")]


def violations(paths, forbidden, module_level_only=False):
    """`file:line imports name` for each import of a module under one of `forbidden`."""
    found = []
    for path in paths:
        for name, line in imports(path, module_level_only):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                found.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    return sorted(set(found))


def test_the_walk_sees_imports_of_every_form(tmp_path):
    """The checker itself: absolute, from-, relative and function-level imports."""
    source = tmp_path / "keras_seq" / "layers" / "probe.py"
    source.parent.mkdir(parents=True)
    source.write_text(
        "import torch\nfrom keras_seq import tasks\nfrom ..commands import train\n"
        "def f():\n    import jax\n"
    )
    names = {name for name, _ in imports(source, root=tmp_path)}
    top = {name for name, _ in imports(source, module_level_only=True, root=tmp_path)}
    assert {"torch", "keras_seq.tasks", "keras_seq.commands.train", "jax"} <= names
    assert "jax" not in top


def test_backend_imports_no_layers_tasks_or_commands():
    forbidden = ("keras_seq.layers", "keras_seq.tasks", "keras_seq.commands")
    assert violations(files("keras_seq", "backend"), forbidden) == []


def test_layers_import_no_tasks_or_commands():
    forbidden = ("keras_seq.tasks", "keras_seq.commands")
    assert violations(files("keras_seq", "layers"), forbidden) == []


def test_layers_have_no_backend_switches_or_backend_imports():
    """Layer code is `keras.ops`; what differs per backend lives in keras_seq/backend."""
    found = violations(files("keras_seq", "layers"), BACKENDS + ("keras.src",))
    for path in files("keras_seq", "layers"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and ast.unparse(node) == "keras.backend.backend":
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} calls keras.backend.backend")
    assert found == []


@pytest.mark.parametrize("package", ["data", "spec", "diagnosis"])
def test_data_and_spec_import_no_backend_at_module_level(package):
    assert violations(files("keras_seq", package), BACKENDS, module_level_only=True) == []


def test_only_backend_imports_a_backend_or_private_keras_at_module_level():
    others = [p for p in files("keras_seq") if "backend" not in p.relative_to(PACKAGE).parts]
    forbidden = BACKENDS + ("keras.src",)
    assert violations(others, forbidden, module_level_only=True) == []


def test_starter_imports_no_keras_model_code_or_commands():
    forbidden = ("keras", "keras_seq.tasks", "keras_seq.layers", "keras_seq.backend")
    forbidden += BACKENDS + ("keras_seq.commands", "keras_seq.model")
    assert violations(files("keras_seq", "starter"), forbidden) == []


def test_export_and_portability_ask_the_task_instead_of_testing_its_head_type():
    """Head-specific texts and arrays live on the task classes (`graph_outputs`,
    `export_preprocessing`, `card_sections`, `integer_targets`)."""
    found = []
    for path in files("keras_seq", "export") + files("keras_seq", "portability"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare) and any(
                name in ast.unparse(node) for name in ("head_type", "head.type", "head.output")
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {ast.unparse(node)}")
    assert found == []


def test_only_commands_and_the_cli_import_commands():
    inside = {PACKAGE / "cli.py", *files("keras_seq", "commands")}
    others = [p for p in files("keras_seq") if p not in inside]
    assert violations(others, ("keras_seq.commands",)) == []


def test_benchmarks_import_no_commands():
    assert violations(files("benchmarks"), ("keras_seq.commands",)) == []
