"""The import graph of lib/rayscore: no cycles, and the generic layers never reach into a domain
or into jobs/.

    .venv/bin/pytest tests/unit/test_import_graph.py -q

Every `import` and `from ... import` of a rayscore module counts, wherever it is written:
module level, inside a function, under `if TYPE_CHECKING:` (a loop a type checker or a later
refactor trips on is still a loop). Relative imports are resolved; `from pkg import name`
is an edge to the submodule pkg.name when there is one, else to pkg itself. Read from the
source with `ast`, so nothing is imported and the test stays fast.
"""

from __future__ import annotations

import ast
import re
import sys
from collections import defaultdict
from pathlib import Path

LIB = Path(__file__).resolve().parents[2] / "lib"
PACKAGE = "rayscore"

# Generic layers: they serve any domain, so they must not depend on one (rayscore.addresses)
# nor on the entry points that wire the layers together (jobs/).
GENERIC = ("rayscore.config", "rayscore.io", "rayscore.models", "rayscore.checks", "rayscore.score",
           "rayscore.train", "rayscore.eval", "rayscore.serve", "rayscore.data")
FORBIDDEN = ("rayscore.addresses", "jobs")
# Judging builds on evaluation (verdicts, judge-text readers, metrics), never the reverse.
BELOW_JUDGE = ("rayscore.eval",)
JUDGE = ("rayscore.judge",)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(LIB).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted((LIB / PACKAGE).rglob("*.py"))}


def under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def imports(path: Path, known: set[str]) -> list[tuple[int, str]]:
    """(line, imported module) for each import in the file, relative ones resolved; only rayscore
    modules and jobs/ are kept (the rest are not this project's arrows)."""
    name = module_name(path)
    # The package a relative import is relative to: a package's __init__ is its own package.
    here = name if is_package(path) else name.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here.split(".")[: len(here.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.append((node.lineno, sub if sub in known else target))
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None))
              in ("import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)):
            found.append((node.lineno, node.args[0].value))  # a literal name is an import like any other
    return [(line, target) for line, target in found if under(target, PACKAGE) or under(target, "jobs")]


def resolve(target: str, known: set[str]) -> str | None:
    """The deepest known module a dotted name lands in (`from rayscore.io import read_table` was
    recorded as rayscore.io already; this covers `import rayscore.x.y` of a missing y)."""
    while target and target not in known:
        target = target.rpartition(".")[0]
    return target or None


def graph() -> tuple[dict[str, set[str]], dict[tuple[str, str], list[str]]]:
    """module -> modules it imports, and (module, imported) -> the file:line of each such import."""
    mods = modules()
    known = set(mods)
    edges: dict[str, set[str]] = {name: set() for name in mods}
    where: dict[tuple[str, str], list[str]] = defaultdict(list)
    for name, path in mods.items():
        for line, target in imports(path, known):
            dest = resolve(target, known) if under(target, PACKAGE) else target
            if dest is None:
                continue
            edges[name].add(dest)
            loc = f"{path.relative_to(LIB.parent)}:{line}"
            if loc not in where[name, dest]:  # `from x import a, b` is one import, not two
                where[name, dest].append(loc)
    return edges, where


def strongly_connected(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm; components in no particular order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in edges:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            out.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def cycles(edges: dict[str, set[str]], where: dict) -> list[str]:
    """One line per loop: its modules, then each import inside it with file:line."""
    found = []
    for component in strongly_connected(edges):
        if len(component) == 1 and component[0] not in edges[component[0]]:
            continue
        members = set(component)
        inside = [f"    {a} -> {b}  ({', '.join(where[a, b])})"
                  for a in component for b in sorted(edges[a] & members)]
        found.append(" <-> ".join(component) + "\n" + "\n".join(inside))
    return found


def package_of(name: str) -> str:
    """rayscore.eval.metrics -> rayscore.eval; top-level modules (rayscore.io) are their own."""
    parts = name.split(".")
    return ".".join(parts[:2])


def test_the_graph_sees_the_imports_it_should():
    # A parser that missed function-level or relative imports would pass the tests below vacuously.
    edges, where = graph()
    assert "rayscore.score.generative" in edges["rayscore.score.scorers"]   # inside a function
    assert "rayscore.config" in edges["rayscore.serve.app"]
    assert len(modules()) > 40


def test_relative_imports_resolve(tmp_path, monkeypatch):
    pkg = tmp_path / "lib" / PACKAGE / "pkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("from . import a\n")
    (pkg / "a.py").write_text("from .b import thing\nfrom .. import io\n\ndef f():\n    from .sub import c\n")
    (pkg / "b.py").write_text("thing = 1\n")
    (pkg / "sub").mkdir()
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "c.py").write_text("")
    (tmp_path / "lib" / PACKAGE / "io.py").write_text("")
    monkeypatch.setattr(sys.modules[__name__], "LIB", tmp_path / "lib")
    known = set(modules())
    assert imports(pkg / "__init__.py", known) == [(1, "rayscore.pkg.a")]
    assert sorted(imports(pkg / "a.py", known)) == [(1, "rayscore.pkg.b"), (2, "rayscore.io"),
                                                    (5, "rayscore.pkg.sub.c")]


def test_no_module_is_in_an_import_cycle():
    edges, where = graph()
    found = cycles(edges, where)
    assert not found, "import cycles (each line: importer -> imported (file:line)):\n" + "\n".join(found)


def test_no_package_is_in_an_import_cycle():
    # Arrows go down between packages too: eval.metrics -> judge.x and judge.y -> eval.z is a
    # loop between eval and judge even when no single module is in one.
    edges, where = graph()
    packages: dict[str, set[str]] = defaultdict(set)
    pwhere: dict[tuple[str, str], list[str]] = defaultdict(list)
    for a, targets in edges.items():
        packages[package_of(a)]
        for b in targets:
            if under(b, PACKAGE) and package_of(a) != package_of(b):
                packages[package_of(a)].add(package_of(b))
                pwhere[package_of(a), package_of(b)] += where[a, b]
    found = cycles(dict(packages), pwhere)
    assert not found, "package cycles (each line: importer -> imported (file:line)):\n" + "\n".join(found)


def layering_violations(importers: tuple[str, ...] = GENERIC, forbidden: tuple[str, ...] = FORBIDDEN) -> list[str]:
    """file:line: importer imports imported, for each import of `forbidden` by `importers`."""
    edges, where = graph()
    bad = []
    for a in sorted(edges):
        if not any(under(a, layer) for layer in importers):
            continue
        for b in sorted(edges[a]):
            if any(under(b, f) for f in forbidden):
                bad += [f"{loc}: {a} imports {b}" for loc in where[a, b]]
    return bad


def test_layering_rule_finds_a_violation(tmp_path, monkeypatch):
    # The rule itself, on a made-up tree: a generic layer importing the domain is caught.
    root = tmp_path / "lib" / PACKAGE
    (root / "eval").mkdir(parents=True)
    (root / "addresses").mkdir()
    for path in (root / "__init__.py", root / "eval" / "__init__.py", root / "addresses" / "__init__.py",
                 root / "addresses" / "records.py"):
        path.write_text("")
    (root / "eval" / "m.py").write_text("def f():\n    from rayscore.addresses import records\n    import jobs.demo\n")
    monkeypatch.setattr(sys.modules[__name__], "LIB", tmp_path / "lib")
    assert layering_violations() == [
        "lib/rayscore/eval/m.py:3: rayscore.eval.m imports jobs.demo",
        "lib/rayscore/eval/m.py:2: rayscore.eval.m imports rayscore.addresses.records",
    ]


def test_generic_layers_import_no_domain_and_no_job():
    bad = layering_violations()
    assert not bad, ("generic layers importing a domain or a job:\n  " + "\n  ".join(bad))


def test_eval_imports_nothing_from_judge():
    bad = layering_violations(BELOW_JUDGE, JUDGE)
    assert not bad, ("eval importing judge (move what it needs into eval):\n  " + "\n  ".join(bad))


# The output store (rayscore.score.store) is the one place that knows how a store's parts are
# named; other modules read them through its read side (part_files, iter_parts, rewrite_parts).
# Directories of part files that are no ChunkStore's, each writing and reading its own:
OWN_PARTS = {
    "rayscore.score.store": "the output store itself",
    "rayscore.audit.store": "the audit label store's append-only parts",
    "rayscore.addresses.records": "the record generator's output files",
}
PART_GLOB = re.compile(r"part-[*?\[]")


def part_globs(path: Path) -> list[int]:
    """Lines of the file's strings that glob part files (`part-*`, `part-?`, `part-[`), docstrings
    aside: an f-string's literal pieces count, a docstring that names the layout does not."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    prose = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
    return sorted({node.lineno for node in ast.walk(tree)
                   if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in prose
                   and PART_GLOB.search(node.value)})


def test_part_glob_rule_finds_a_glob(tmp_path):
    path = tmp_path / "m.py"
    path.write_text('"""Reads out/part-*.parquet."""\nimport glob\n\n'
                    'def f(d):\n    """part-*.parquet, in order."""\n    return glob.glob(f"{d}/part-*.parquet")\n')
    assert part_globs(path) == [6]


def test_only_the_store_globs_a_stores_parts():
    bad = [f"{path.relative_to(LIB.parent)}:{line}: {name} globs part files (use rayscore.score.store's read side)"
           for name, path in modules().items() if name not in OWN_PARTS for line in part_globs(path)]
    assert not bad, "\n  ".join(["part files globbed outside the store:"] + bad)
