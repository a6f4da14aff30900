"""Where SQL lives: each domain's ``sql/`` folder, loaded by that domain's ``store.py`` only.

Static checks over the source tree (no database): every SQL file parses and is used by its store,
every file a store names exists, and no other module loads a ``sql/`` folder.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from infra.settings import PROJECT_ROOT
from pipelines.shared.sql import SqlFiles

SQL_FOLDERS = sorted(p for p in (PROJECT_ROOT / "pipelines").glob("*/sql") if p.is_dir())
LOADER_METHODS = {"statements", "statement", "run", "rows", "one", "one_or_none", "scalar", "run_many", "copy"}


def _string_constants(files: list[Path]) -> set[str]:
    return {node.value for file in files for node in ast.walk(ast.parse(file.read_text()))
            if isinstance(node, ast.Constant) and isinstance(node.value, str)}


def _names_passed_to_loader(files: list[Path]) -> set[str]:
    """Literal file names in calls like ``SQL.rows(conn, "select_x", ...)`` / ``SQL.statement("x")``."""
    names = set()
    for file in files:
        for node in ast.walk(ast.parse(file.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in LOADER_METHODS and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == "SQL"):
                names |= {arg.value for arg in node.args[:2]
                          if isinstance(arg, ast.Constant) and isinstance(arg.value, str)}
    return names


def test_every_domain_keeps_its_sql_beside_its_store() -> None:
    assert {p.parent.name for p in SQL_FOLDERS} >= {"alerts", "analytics", "listings", "prices", "scraping",
                                                    "vendors"}
    for folder in SQL_FOLDERS:
        assert (folder.parent / "store.py").is_file(), f"{folder} has no store.py beside it"


@pytest.mark.parametrize("folder", [*SQL_FOLDERS, PROJECT_ROOT / "bench" / "sql"], ids=lambda p: p.parent.name)
def test_every_sql_file_parses_and_is_used(folder: Path) -> None:
    users = [folder.parent / "store.py"] if folder.parent.name != "bench" else sorted(folder.parent.glob("*.py"))
    named = _string_constants(users)
    files = SqlFiles(folder)
    for path in sorted(folder.glob("*.sql")):
        assert files.statements(path.stem), path
        assert path.stem in named, f"{path.relative_to(PROJECT_ROOT)} is not used by {users[0].name}"
    missing = sorted(name for name in _names_passed_to_loader(users) if not (folder / f"{name}.sql").is_file())
    assert not missing, f"{folder.relative_to(PROJECT_ROOT)} has no {missing}"


def test_only_store_modules_load_a_domain_sql_folder() -> None:
    loaders = sorted(str(path.relative_to(PROJECT_ROOT)) for path in (PROJECT_ROOT / "pipelines").rglob("*.py")
                     if "SqlFiles" in path.read_text() and path.name != "sql.py")
    assert loaders and all(path.endswith("/store.py") for path in loaders), loaders
