"""coachgym's imports have no circles and point down the layers, so each package can change alone.

Every import counts: module-level, inside functions (lazy), and under `if TYPE_CHECKING:`, because
each is a dependency a reader and a refactoring must follow, and a lazy import is how a circle
hides. An import names the module it loads (`from coachgym.envs import registry` is
`coachgym.envs.registry`), not the parent packages Python initialises on the way.

Layers, lowest first; a module may import its own layer and the ones below, never one above:

1. `vision`: the CrossAttnVLM (config, model, processor). It ships as Hub remote code, where
   coachgym is not installed, so it imports nothing else of coachgym. In the data flow training
   produces its weights, but in code it is a model library like transformers, which agents
   (`hf.py`) and training both use. (README.md, "What is here", says the same in short.)
2. `errors`, then `strict`: helpers every package may use.
3. `envs` -> 4. `agents` -> 5. `trajectories` -> 6. `training` -> 7. `benchmarks`: the pipeline;
   each stage uses the ones before it (an agent acts in an env, a trajectory records an agent in
   an env, training reads trajectories, a benchmark runs all of it).
8. The command line: `coachgym.cli`, the package's `__init__` (it registers the envs with
   Gymnasium), and each package's `commands` module (the CLI commands it adds to `coachgym`),
   which wire the layers together and may import any of them.
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ["vision", "errors", "strict", "envs", "agents", "trajectories", "training", "benchmarks", "cli"]
Graph = dict[str, set[str]]


def module_names(root: Path, package: str) -> dict[str, Path]:
    """Dotted name -> file, for every module of `package` under `root` (packages by their __init__)."""
    modules = {}
    for path in (root / package).rglob("*.py"):
        parts = path.relative_to(root).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool, known: set[str]) -> set[str]:
    """The modules of `known` that an import statement loads."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names} & known
    if node.level:  # relative: resolved against the importing module's package
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - node.level + 1]
        source = ".".join(base + ([node.module] if node.module else []))
    else:
        source = node.module or ""
    named = {f"{source}.{alias.name}" for alias in node.names}
    return (named & known) or ({source} & known)


def import_graph(root: Path, package: str = "coachgym") -> Graph:
    """Module -> the package's modules it imports anywhere in its file."""
    modules = module_names(root, package)
    known = set(modules)
    graph: Graph = {}
    for module, path in modules.items():
        is_package = path.name == "__init__.py"
        graph[module] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                graph[module] |= _imported(node, module, is_package, known) - {module}
    return graph


def find_cycle(graph: Graph) -> list[str] | None:
    """One import circle (its modules, the first repeated at the end), or None."""
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as error:
        return error.args[1]
    return None


def layer(module: str) -> int:
    parts = module.split(".")
    if len(parts) == 1 or parts[-1] == "commands":
        return LAYERS.index("cli")
    return LAYERS.index(parts[1])


def upward_imports(graph: Graph) -> list[str]:
    return sorted(f"{module} -> {target}" for module, targets in graph.items() for target in targets
                  if layer(target) > layer(module))


def test_coachgym_has_no_import_circle():
    cycle = find_cycle(import_graph(ROOT))
    assert cycle is None, "import circle: " + " -> ".join(cycle)


def test_coachgym_imports_only_its_own_layer_or_lower():
    graph = import_graph(ROOT)
    assert {module.split(".")[1] for module in graph if "." in module} <= set(LAYERS), \
        "a new top-level package of coachgym needs a place in LAYERS (and in this module's docstring)"
    assert upward_imports(graph) == []


def test_the_checks_see_lazy_type_only_and_relative_imports(tmp_path):
    """A planted circle through a function-level import and one through a TYPE_CHECKING import are
    found, and so is an upward import written relatively."""
    package = tmp_path / "coachgym"
    for folder in ["envs", "agents"]:
        (package / folder).mkdir(parents=True)
        (package / folder / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "envs" / "core.py").write_text("def make():\n    from coachgym.envs.registry import load\n")
    (package / "envs" / "registry.py").write_text("from coachgym.envs import core\n")
    (package / "agents" / "base.py").write_text("from typing import TYPE_CHECKING\n"
                                                "if TYPE_CHECKING:\n    from .scripted import Expert\n")
    (package / "agents" / "scripted.py").write_text("from coachgym.agents.base import Agent\n")
    (package / "envs" / "server.py").write_text("from ..agents import base\n")
    graph = import_graph(tmp_path)
    assert graph["coachgym.envs.core"] == {"coachgym.envs.registry"}
    assert graph["coachgym.agents.base"] == {"coachgym.agents.scripted"}
    assert upward_imports(graph) == ["coachgym.envs.server -> coachgym.agents.base"]
    assert set(find_cycle(graph)) in ({"coachgym.envs.core", "coachgym.envs.registry"},
                                      {"coachgym.agents.base", "coachgym.agents.scripted"})
    del graph["coachgym.envs.core"]
    assert set(find_cycle(graph)) == {"coachgym.agents.base", "coachgym.agents.scripted"}
    del graph["coachgym.agents.base"]
    assert find_cycle(graph) is None


@pytest.mark.parametrize("module, expected", [("coachgym", "cli"), ("coachgym.cli", "cli"),
                                              ("coachgym.agents.commands", "cli"), ("coachgym.vision.parts", "vision"),
                                              ("coachgym.envs.shell.env", "envs")])
def test_layer_of_a_module(module, expected):
    assert LAYERS[layer(module)] == expected
