"""The package layout keeps the two environments apart (docs/architecture.md).

The Rasa server runs in `.venv` (rasa, SQLAlchemy 1.4); the action server and the web app
run in `.venv-actions` (rasa_sdk, SQLAlchemy 2, no rasa). The folders say which side a
module is on, and these checks read every import (also those inside functions) to keep
it so:

- `dianxiaoer/core` is the base: importable from both sides, it imports neither rasa,
  rasa_sdk nor SQLAlchemy, and nothing of the project outside core;
- `nlu`, `shop` and `knowledge` are pure too (the Rasa side loads them);
- the action/web side (`actions`, `webapp`, `store`, `analytics`, `coaching`,
  `action_server`) never imports rasa; only `actions` and the action server import rasa_sdk;
- `rasa_plugins` never reaches the shop store or anything of the action/web side, not
  even through the pure modules it imports (transitively).
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("dianxiaoer", "actions", "webapp")
PURE = ("dianxiaoer.core", "dianxiaoer.nlu", "dianxiaoer.shop", "dianxiaoer.knowledge")
ACTION_SIDE = (
    "actions",
    "webapp",
    "dianxiaoer.store",
    "dianxiaoer.analytics",
    "dianxiaoer.coaching",
    "dianxiaoer.action_server",
)
RASA_SIDE = ("dianxiaoer.rasa_plugins",)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                found[module_name(path)] = path
    return found


@cache
def imports(name: str) -> frozenset[str]:
    """Every module `name` imports, anywhere in its code (absolute dotted names)."""
    path = modules()[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            # `from dianxiaoer.shop import complaints` imports the module shop.complaints
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return frozenset(found)


def project_imports(name: str) -> set[str]:
    return {m for m in imports(name) if m in modules()}


def third_party(name: str) -> set[str]:
    return {m.split(".")[0] for m in imports(name) if m.split(".")[0] not in PACKAGES}


def within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def reachable(start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(project_imports(name))
    return seen


def test_the_layout_is_what_the_checks_expect():
    names = modules()
    for prefix in PURE + ACTION_SIDE + RASA_SIDE:
        assert any(within(n, (prefix,)) for n in names), prefix
    # every module of the package belongs to exactly one side
    loose = [
        n
        for n in names
        if n.startswith("dianxiaoer.") and not within(n, PURE + ACTION_SIDE + RASA_SIDE)
    ]
    assert loose == []


def test_core_is_the_base():
    for name in modules():
        if within(name, ("dianxiaoer.core",)):
            assert not third_party(name) & {"rasa", "rasa_sdk", "sqlalchemy"}, name
            outside = {m for m in project_imports(name) if not within(m, ("dianxiaoer.core",))}
            outside.discard("dianxiaoer")
            assert not outside, (name, outside)


def test_pure_modules_import_no_framework():
    for name in modules():
        if within(name, PURE):
            assert not third_party(name) & {"rasa", "rasa_sdk", "sqlalchemy"}, name
            assert not {m for m in project_imports(name) if within(m, ACTION_SIDE + RASA_SIDE)}


def test_action_side_never_imports_rasa():
    for name in modules():
        if within(name, ACTION_SIDE):
            assert "rasa" not in third_party(name), name
            if not within(name, ("actions", "dianxiaoer.action_server")):
                assert "rasa_sdk" not in third_party(name), name


def test_rasa_side_never_reaches_the_action_side():
    for name in modules():
        if within(name, RASA_SIDE):
            for dependency in reachable(name):
                assert not within(dependency, ACTION_SIDE), (name, dependency)
                if dependency != "dianxiaoer.rasa_plugins.tracker_store":  # Rasa's own 1.4
                    assert "sqlalchemy" not in third_party(dependency), (name, dependency)
