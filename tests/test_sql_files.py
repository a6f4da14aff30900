"""``SqlFiles``, the one loader of the domains' ``sql/`` folders, against a real PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.shared.sql import SqlFiles
from pipelines.shared.warehouse import Warehouse


@pytest.fixture
def files(tmp_path: Path) -> SqlFiles:
    (tmp_path / "create_notes.sql").write_text(
        "-- Two statements; the semicolons inside the literal and the dollar-quoted body do not split.\n"
        "CREATE TEMP TABLE notes (id int PRIMARY KEY, body text NOT NULL) ON COMMIT DROP;\n"
        "INSERT INTO notes VALUES (1, 'a;b'), (2, $$c;d$$); -- trailing comment; with a semicolon\n")
    (tmp_path / "insert_note.sql").write_text("INSERT INTO notes (id, body) VALUES (:id, :body)\n")
    (tmp_path / "copy_notes.sql").write_text("-- Row order: id, body\nCOPY notes (id, body) FROM STDIN;\n")
    (tmp_path / "select_notes.sql").write_text("SELECT id, body FROM notes WHERE id >= :min_id ORDER BY id;\n")
    (tmp_path / "only_comments.sql").write_text("-- nothing to run here;\n")
    return SqlFiles(tmp_path)


def test_a_file_splits_into_its_statements_without_comments(files: SqlFiles) -> None:
    statements = [s.text for s in files.statements("create_notes")]
    assert statements == [
        "CREATE TEMP TABLE notes (id int PRIMARY KEY, body text NOT NULL) ON COMMIT DROP",
        "INSERT INTO notes VALUES (1, 'a;b'), (2, $$c;d$$)",
    ]


def test_statement_insists_on_exactly_one(files: SqlFiles) -> None:
    assert files.statement("insert_note").text == "INSERT INTO notes (id, body) VALUES (:id, :body)"
    with pytest.raises(ValueError, match="holds 2 statements, expected one"):
        files.statement("create_notes")
    with pytest.raises(ValueError, match="holds no SQL statement"):
        files.statements("only_comments")


def test_beside_is_the_sql_folder_next_to_a_module(tmp_path: Path) -> None:
    assert SqlFiles.beside(str(tmp_path / "store.py")).directory == tmp_path / "sql"


def test_run_run_many_copy_and_queries_on_one_transaction(files: SqlFiles, warehouse: Warehouse) -> None:
    with warehouse.begin() as conn:
        assert files.run(conn, "create_notes") == 2  # rows the last statement inserted
        files.run_many(conn, "insert_note", [{"id": 3, "body": "e"}, {"id": 4, "body": "it's"}])
        files.run_many(conn, "insert_note", [])
        files.copy(conn, "copy_notes", [(5, "tab\there"), (6, "line\nbreak")])
        assert [tuple(r) for r in files.rows(conn, "select_notes", {"min_id": 0})] == [
            (1, "a;b"), (2, "c;d"), (3, "e"), (4, "it's"), (5, "tab\there"), (6, "line\nbreak")]
        assert files.one(conn, "select_notes", {"min_id": 6}).body == "line\nbreak"
        assert files.one_or_none(conn, "select_notes", {"min_id": 7}) is None
        assert files.scalar(conn, "select_notes", {"min_id": 2}) == 2
