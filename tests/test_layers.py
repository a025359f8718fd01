"""The house shows the pipeline: imports run one way, the store knows no source, SQL lives in
the store. Checked from the syntax tree (imports, attribute use, string constants), not by
names in the text."""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "scraper"

# Stages, lowest first; a module imports from its own stage or a lower one, never a higher.
# Stages of one rank (the store and the sources) do not import each other.
RANK = {
    "shared": 0,  # records, files, sanitize, jsonio, interrupt, the package itself
    "net": 1,
    "store": 2,
    "sources": 2,
    "catalog": 3,
    "datasette_plugin": 3,
    "cards": 4,
    "site": 5,
    "library": 6,  # local model files: uses the site's NSFW rules
    "jobs": 7,
    "demo": 8,
    "cli": 9,
    "entry": 10,
}
# What shared code may use of the registry: the registry and the interface, no source module.
REGISTRY = {"SOURCES", "Source", "Option", "Filters", "get", "titles", "saved_items", "register"}
REGISTRY |= {"UnknownSource", "base"}
SQL = re.compile(
    r"\bSELECT\b[\s\S]+\bFROM\b|\bINSERT\s+(OR\s+[A-Z]+\s+)?INTO\b|\bUPDATE\s+\S+\s+SET\b|"
    r"\bDELETE\s+FROM\b|\b(CREATE|DROP|ALTER)\s+(VIRTUAL\s+)?(TABLE|INDEX|VIEW|TRIGGER)\b|"
    r"\bPRAGMA\s+\w+|\b(ATTACH|DETACH)\s+DATABASE\b|\bWITH\s+\w+\s+AS\s*\(",
)
EXECUTE = {"execute", "executemany", "executescript"}


@functools.cache
def modules() -> list[tuple[str, Path, ast.Module]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found.append((name, path, ast.parse(path.read_text(encoding="utf-8"))))
    return found


def stage(module: str) -> str:
    """scraper.store.reader -> store; scraper.records -> shared."""
    parts = module.split(".")
    if len(parts) == 1 or parts[1] not in RANK:
        return "shared"
    return parts[1]


def imports(name: str, path: Path, tree: ast.Module) -> list[tuple[str, int, str]]:
    """(imported name, line, local name) of every import of our own package."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [
                (a.name, node.lineno, a.asname or a.name)
                for a in node.names
                if a.name.startswith("scraper")
            ]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("scraper"):
                continue
            found += [(f"{target}.{a.name}", node.lineno, a.asname or a.name) for a in node.names]
    return found


def test_imports_run_one_way_and_no_lower_stage_imports_the_cli() -> None:
    wrong = []
    for name, path, tree in modules():
        own = stage(name)
        for target, line, _ in imports(name, path, tree):
            other = stage(target)
            if other == own:
                continue
            if RANK[other] >= RANK[own]:
                wrong.append(f"{path.relative_to(PACKAGE)}:{line}: {own} imports {target}")
    assert len(modules()) > 40 and wrong == []


def test_the_store_imports_nothing_from_the_sources() -> None:
    found = [
        f"{path.relative_to(PACKAGE)}:{line}: {target}"
        for name, path, tree in modules()
        if stage(name) == "store"
        for target, line, _ in imports(name, path, tree)
        if stage(target) not in ("store", "shared", "net")
    ]
    assert found == []


def test_shared_code_uses_only_the_registry_of_the_sources() -> None:
    """No module outside sources/ reaches a source's own module or attributes (the demo, whose
    stand-in servers are each one source's, aside)."""
    found = []
    for name, path, tree in modules():
        if stage(name) in ("sources", "demo"):
            continue
        aliases = set()
        for target, line, local in imports(name, path, tree):
            if target == "scraper.sources":
                aliases.add(local)
            elif target.startswith("scraper.sources."):
                rest = target.removeprefix("scraper.sources.").split(".")[0]
                if rest not in REGISTRY:
                    found.append(f"{path.relative_to(PACKAGE)}:{line}: imports {target}")
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and node.attr not in REGISTRY
            ):
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: sources.{node.attr}")
    assert found == []


def _strings(tree: ast.Module) -> list[tuple[str, int]]:
    """Every string constant and f-string (its literal parts joined, a field as ?)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else "?" for v in node.values)
            found.append((text, node.lineno))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append((node.value, node.lineno))
    return found


def test_no_sql_outside_the_store() -> None:
    found = []
    for name, path, tree in modules():
        if stage(name) == "store":
            continue
        where = path.relative_to(PACKAGE)
        found += [
            f"{where}:{line}: {text[:60]!r}" for text, line in _strings(tree) if SQL.search(text)
        ]
        found += [
            f"{where}:{node.lineno}: .{node.func.attr}()"
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in EXECUTE
        ]
    assert found == []


def test_the_sql_pattern_finds_what_it_must() -> None:
    """The pattern above, tried on the kinds of statement the store makes."""
    for text in (
        "SELECT m.id FROM models m",
        "select_count",  # not a statement
        "INSERT OR REPLACE INTO cards VALUES (?)",
        "UPDATE models SET raw = ?",
        "DELETE FROM checks WHERE source = ?",
        "CREATE INDEX IF NOT EXISTS idx ON t (a)",
        "PRAGMA user_version",
        "ATTACH DATABASE ? AS man",
    ):
        assert bool(SQL.search(text)) == (text != "select_count"), text
    assert _strings(ast.parse('f"SELECT {x} FROM models"'))[0][0] == "SELECT ? FROM models"
