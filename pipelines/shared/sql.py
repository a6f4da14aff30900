"""The one way a domain runs its SQL: ``.sql`` files in the domain's ``sql/`` folder.

SQL lives in files so it can be read, diffed and run by hand (``psql -f``) like any other code,
and so every statement is parameterised (``:name`` placeholders, bound by SQLAlchemy). A file
may hold several statements; they are split by ``sqlparse``, which knows about comments,
quoted literals and dollar-quoted bodies, so a ``;`` inside a string never splits a statement.
Comments are dropped from the statements sent (a ``:name`` in a comment would otherwise become
a bind parameter).

Each domain's ``store.py`` holds its folder's ``SqlFiles`` and is the only module that names the
files; the rest of the domain calls the store's functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any, TypeAlias

from sqlalchemy import Connection, Row, TextClause, text
from sqlparse import tokens
from sqlparse.engine import FilterStack

# A result row of any width: SQLAlchemy's `Row` is generic over its column types (a TypeVarTuple),
# and `Row[Any]` would mean a row of exactly one column.
AnyRow: TypeAlias = Row[*tuple[Any, ...]]


class SqlFiles:
    """The ``*.sql`` files of one folder, parsed once and cached per process."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)

    @classmethod
    def beside(cls, module_file: str) -> SqlFiles:
        """The ``sql/`` folder next to a module: ``SQL = SqlFiles.beside(__file__)``."""
        return cls(Path(module_file).parent / "sql")

    @cache  # noqa: B019 - a handful of long-lived instances, one per SQL folder
    def statements(self, name: str) -> tuple[TextClause, ...]:
        """Every statement of ``name.sql``, in order, ready to execute."""
        code = (self.directory / f"{name}.sql").read_text()
        statements = tuple(text(part) for part in _split(code))
        if not statements:
            raise ValueError(f"{self.directory / name}.sql holds no SQL statement")
        return statements

    def preload(self) -> int:
        """Parse every file of the folder now (a long-running process's warm-up); returns how many."""
        names = sorted(path.stem for path in self.directory.glob("*.sql"))
        for name in names:
            self.statements(name)
        return len(names)

    def statement(self, name: str) -> TextClause:
        """The single statement of ``name.sql`` (a file meant as one query)."""
        statements = self.statements(name)
        if len(statements) != 1:
            raise ValueError(f"{self.directory / name}.sql holds {len(statements)} statements, expected one")
        return statements[0]

    def run(self, conn: Connection, name: str, params: Mapping[str, Any] | None = None) -> int:
        """Execute every statement of ``name``; returns the rows the last one affected."""
        rowcount = 0
        for statement in self.statements(name):
            rowcount = conn.execute(statement, dict(params or {})).rowcount
        return rowcount

    def rows(self, conn: Connection, name: str, params: Mapping[str, Any] | None = None) -> list[AnyRow]:
        """All rows of a one-statement query file."""
        return list(conn.execute(self.statement(name), dict(params or {})))

    def one(self, conn: Connection, name: str, params: Mapping[str, Any] | None = None) -> AnyRow:
        return conn.execute(self.statement(name), dict(params or {})).one()

    def one_or_none(self, conn: Connection, name: str, params: Mapping[str, Any] | None = None) -> AnyRow | None:
        return conn.execute(self.statement(name), dict(params or {})).one_or_none()

    def scalar(self, conn: Connection, name: str, params: Mapping[str, Any] | None = None) -> Any:
        return conn.execute(self.statement(name), dict(params or {})).scalar()

    def run_many(self, conn: Connection, name: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Execute the single statement of ``name`` once per parameter mapping (one executemany;
        SQLAlchemy batches an ``INSERT … VALUES`` into multi-row statements)."""
        if rows:
            conn.execute(self.statement(name), [dict(row) for row in rows])

    def copy(self, conn: Connection, name: str, rows: Iterable[Sequence[Any]]) -> None:
        """Stream ``rows`` through the ``COPY … FROM STDIN`` statement of ``name`` (psycopg 3's
        COPY: the fast way to fill a staging table). Each row lists its values in the column
        order the file's ``COPY`` names; the copy joins the caller's transaction."""
        raw = conn.connection.driver_connection
        if raw is None:
            raise RuntimeError("the connection has no driver connection to COPY through")
        with raw.cursor() as cursor, cursor.copy(self.statement(name).text) as copy:
            for row in rows:
                copy.write_row(row)


def _split(code: str) -> list[str]:
    """The statements of ``code`` without comments or trailing ``;``, in one pass of sqlparse's
    lexer and statement splitter (what ``sqlparse.split`` runs). ``sqlparse.format(strip_comments=
    True)`` would do the same but groups tokens into a parse tree first, several times slower: a
    run's step process parses each file it uses once (``bench/sql_files.py``)."""
    out = []
    for statement in FilterStack().run(code):
        stripped = "".join(("\n" if token.ttype in tokens.Comment.Single else " ")
                           if token.ttype in tokens.Comment else token.value for token in statement.flatten())
        stripped = stripped.strip().rstrip(";").strip()
        if stripped:
            out.append(stripped)
    return out
