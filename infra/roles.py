"""Least privilege in PostgreSQL: four roles, what each may do, as SQL.

| purpose | default role | may |
|---|---|---|
| owner | ``market_pulse_owner`` | own the warehouse database and its schema: DDL, run by migrations only |
| app | ``market_pulse_app`` | SELECT/INSERT/UPDATE/DELETE on the warehouse tables, temporary tables; no DDL |
| readonly | ``market_pulse_readonly`` | SELECT on the warehouse tables (read-only pages, the HTTP API) |
| dagster | ``market_pulse_dagster`` | own Dagster's storage database (Dagster creates its own tables) |

None is a superuser, none may create roles or databases, and none is a member of
``pg_execute_server_program``/``pg_read_server_files``/``pg_write_server_files`` (the roles that
turn ``COPY … TO PROGRAM`` or ``COPY … FROM '/etc/…'`` into a shell or a file reader). Default
privileges (``ALTER DEFAULT PRIVILEGES FOR ROLE owner``) give the app and read-only roles their
rights on every table a later migration creates, without re-running anything.

The same statements serve three callers: the embedded server is provisioned with them (we are
its superuser), the test suite gives every test database the same roles, and
``market-pulse db roles --sql`` prints them as a psql script for a DBA to run on a real server.
Passwords never appear in the statements: roles get SCRAM-SHA-256 *verifiers* computed here
(what ``\\password`` in psql sends), so neither a statement log nor the printed script holds one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from infra.connections import connect
from infra.settings import (
    APP,
    APP_DATABASE,
    DAGSTER,
    DAGSTER_DATABASE,
    OWNER,
    READONLY,
    ROLE_PURPOSES,
    with_database,
)

ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
SERVER_PROGRAM_ROLES = ("pg_execute_server_program", "pg_read_server_files", "pg_write_server_files")
"""Predefined roles that reach outside the database (programs and files of the server's OS user)."""


class RoleError(ValueError):
    """Role names or settings that cannot make a least-privilege setup; one line."""


@dataclass(frozen=True)
class RoleNames:
    """The role of each purpose (see the module's table)."""

    owner: str = "market_pulse_owner"
    app: str = "market_pulse_app"
    readonly: str = "market_pulse_readonly"
    dagster: str = "market_pulse_dagster"

    def __post_init__(self) -> None:
        for purpose, name in asdict(self).items():
            if not ROLE_NAME.match(name):
                raise RoleError(f"role name {name!r} ({purpose}): use lower-case letters, digits and _")
        names = list(asdict(self).values())
        for name in names:
            if names.count(name) > 1:
                uses = [p for p, n in asdict(self).items() if n == name]
                raise RoleError(f"role {name} is used for {' and '.join(uses)}: each purpose needs its own role "
                                "(the pipeline must not run as the schema owner)")
        if "postgres" in names:
            raise RoleError("role postgres is the server's superuser: give Market Pulse roles of its own")

    def of(self, purpose: str) -> str:
        return str(getattr(self, purpose))

    @classmethod
    def with_prefix(cls, prefix: str) -> RoleNames:
        return cls(*(f"{prefix}_{purpose}" for purpose in ROLE_PURPOSES))


@dataclass(frozen=True)
class Databases:
    warehouse: str = APP_DATABASE
    dagster: str = DAGSTER_DATABASE


def scram_verifier(password: str, *, iterations: int = 4096, salt: bytes | None = None) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for ``password`` (RFC 5802/7677).

    ``ALTER ROLE … PASSWORD '<verifier>'`` sets the password without the server (or its statement
    log) ever seeing it. Passwords are NFKC-normalised as SASLprep does for the common cases;
    the ones Market Pulse generates are ASCII.
    """
    salt = salt or os.urandom(16)
    normalized = unicodedata.normalize("NFKC", password).encode()
    salted = hashlib.pbkdf2_hmac("sha256", normalized, salt, iterations)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode("ascii")

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


@dataclass(frozen=True)
class Step:
    """One statement, run in ``database`` (None: the server's maintenance database).

    ``create_database`` = (name, owner) marks a CREATE DATABASE that runs only when the database
    is missing (it cannot run inside a DO block, so psql and Python spell the check differently).
    """

    database: str | None
    statement: sql.Composed
    comment: str = ""
    create_database: tuple[str, str] | None = None


def _id(name: str) -> sql.Identifier:
    return sql.Identifier(name)


def _literal(value: str) -> sql.Literal:
    return sql.Literal(value)


def role_steps(names: RoleNames, verifiers: Mapping[str, str | None]) -> list[Step]:
    """Create the four roles when missing and (re)set their attributes and passwords."""
    steps = []
    for purpose in ROLE_PURPOSES:
        role = names.of(purpose)
        steps.append(Step(None, sql.SQL(
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {name}) THEN CREATE ROLE {role}; "
            "END IF; END $$").format(name=_literal(role), role=_id(role)), comment=f"{purpose} role"))
        verifier = verifiers.get(purpose)
        password = sql.SQL(" PASSWORD {}").format(_literal(verifier)) if verifier else sql.SQL("")
        steps.append(Step(None, sql.SQL(
            "ALTER ROLE {role} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS{password}"
        ).format(role=_id(role), password=password)))
        steps.append(Step(None, sql.SQL("REVOKE {programs} FROM {role}").format(
            programs=sql.SQL(", ").join(map(_id, SERVER_PROGRAM_ROLES)), role=_id(role))))
    return steps


def database_steps(names: RoleNames, databases: Databases) -> list[Step]:
    """Both databases, owned by their roles; nobody else may connect (PUBLIC may by default)."""
    warehouse, dagster = databases.warehouse, databases.dagster
    steps = []
    for database, owner in ((warehouse, names.owner), (dagster, names.dagster)):
        steps.append(Step(None, sql.SQL("CREATE DATABASE {} OWNER {}").format(_id(database), _id(owner)),
                          comment=f"database {database}", create_database=(database, owner)))
        steps.append(Step(None, sql.SQL("ALTER DATABASE {} OWNER TO {}").format(_id(database), _id(owner))))
        steps.append(Step(None, sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(_id(database))))
    steps.append(Step(None, sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(
        _id(warehouse), _id(names.app)), comment="the pipeline's staging steps use temporary tables"))
    steps.append(Step(None, sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(_id(warehouse), _id(names.readonly))))
    return steps


def warehouse_database_steps(names: RoleNames, database: str) -> list[Step]:
    """Database-level rights of one warehouse database (not copied by ``CREATE DATABASE … TEMPLATE``)."""
    return [Step(None, sql.SQL("ALTER DATABASE {} OWNER TO {}").format(_id(database), _id(names.owner))),
            Step(None, sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(_id(database))),
            Step(None, sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(_id(database), _id(names.app))),
            Step(None, sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(_id(database), _id(names.readonly)))]


def schema_steps(names: RoleNames, database: str) -> list[Step]:
    """Inside the warehouse: the owner owns the schema; app and read-only get table rights, now and
    for every table created later (default privileges); nobody but the owner writes alembic_version."""
    owner, app, readonly = _id(names.owner), _id(names.app), _id(names.readonly)
    statements = [
        ("ALTER SCHEMA public OWNER TO {owner}", "the schema belongs to the owner role (migrations)"),
        ("REVOKE ALL ON SCHEMA public FROM PUBLIC", ""),
        ("GRANT USAGE ON SCHEMA public TO {app}, {readonly}", "usage only: no CREATE, so no DDL"),
        ("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {app}", ""),
        ("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {app}", ""),
        ("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {readonly}", ""),
        ("ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
         "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {app}", "tables of later migrations"),
        ("ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {app}", ""),
        ("ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public GRANT SELECT ON TABLES TO {readonly}", ""),
        ("DO $$ BEGIN IF to_regclass('public.alembic_version') IS NOT NULL THEN "
         "REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON public.alembic_version FROM {app}; END IF; END $$",
         "only migrations move the schema version"),
    ]
    return [Step(database, sql.SQL(text).format(owner=owner, app=app, readonly=readonly), comment=comment)
            for text, comment in statements]


def dagster_schema_steps(names: RoleNames, database: str) -> list[Step]:
    return [Step(database, sql.SQL("ALTER SCHEMA public OWNER TO {}").format(_id(names.dagster)),
                 comment="Dagster's storage: its role creates and migrates its own tables"),
            Step(database, sql.Composed([sql.SQL("REVOKE ALL ON SCHEMA public FROM PUBLIC")]))]


def setup_steps(names: RoleNames, databases: Databases, verifiers: Mapping[str, str | None]) -> list[Step]:
    """Everything, in order: roles, databases, the warehouse's schema rights, Dagster's schema."""
    return [*role_steps(names, verifiers), *database_steps(names, databases),
            *schema_steps(names, databases.warehouse), *dagster_schema_steps(names, databases.dagster)]


def render_script(steps: Iterable[Step], header: Iterable[str] = ()) -> str:
    """The steps as a psql script (``psql -v ON_ERROR_STOP=1 -f FILE`` as a superuser)."""
    lines = [f"-- {line}" if line else "--" for line in header]
    lines.append("\\set ON_ERROR_STOP on")
    current: str | None = None
    for step in steps:
        if step.database != current:
            target = step.database or "postgres"
            lines += ["", f"\\connect {sql.Identifier(target).as_string(None)}"]
            current = step.database
        if step.comment:
            lines.append(f"-- {step.comment}")
        if step.create_database:
            name, _owner = step.create_database
            lines.append(sql.SQL("SELECT {} WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = {})").format(
                _literal(step.statement.as_string(None)), _literal(name)).as_string(None) + " \\gexec")
        else:
            lines.append(step.statement.as_string(None) + ";")
    return "\n".join(lines) + "\n"


def apply(admin_url: str, steps: Iterable[Step]) -> None:
    """Run ``steps`` as the server's superuser (``admin_url`` names its maintenance database)."""
    connections: dict[str | None, psycopg.Connection[Any]] = {}
    try:
        for step in steps:
            conn = connections.get(step.database)
            if conn is None:
                url = admin_url if step.database is None else with_database(admin_url, step.database)
                conn = connections[step.database] = connect(url, autocommit=True)
            if step.create_database:
                name, _owner = step.create_database
                if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                    continue
            conn.execute(step.statement)  # a REVOKE of a right never granted is only a notice
    finally:
        for conn in connections.values():
            conn.close()


def adopt(admin_url: str, database: str, owner: str) -> int:
    """Give ``owner`` every object of ``database``'s public schema another role owns (tables,
    views, sequences, functions, types); how many were given. For installs made before the roles
    existed (everything owned by the superuser) and for restores run as the superuser."""
    moved = 0
    with connect(with_database(admin_url, database), autocommit=True) as conn:
        target = conn.execute("SELECT oid FROM pg_roles WHERE rolname = %s", (owner,)).fetchone()
        if target is None:
            raise RoleError(f"role {owner} does not exist")
        relations = conn.execute("""
            SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND c.relowner <> %s
              AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                              AND d.deptype IN ('a', 'i') AND c.relkind = 'S')
        """, (target[0],)).fetchall()
        for (name,) in relations:
            conn.execute(sql.SQL("ALTER TABLE public.{} OWNER TO {}").format(_id(name), _id(owner)))
        functions = conn.execute("""
            SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'public' AND p.proowner <> %s
        """, (target[0],)).fetchall()
        for (signature,) in functions:
            conn.execute(sql.SQL("ALTER FUNCTION {} OWNER TO {}").format(sql.SQL(signature), _id(owner)))
        types = conn.execute("""
            SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
            WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd') AND t.typowner <> %s
        """, (target[0],)).fetchall()
        for (name,) in types:
            conn.execute(sql.SQL("ALTER TYPE public.{} OWNER TO {}").format(_id(name), _id(owner)))
        moved = len(relations) + len(functions) + len(types)
    return moved


@dataclass(frozen=True)
class RoleReport:
    """What a connection's role may do beyond DML; ``problems`` lists why it is not least privilege."""

    role: str
    superuser: bool
    owns_schema: bool
    owns_tables: bool
    can_create: bool
    server_programs: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        found = []
        if self.superuser:
            found.append("is a superuser")
        if self.owns_schema or self.owns_tables:
            found.append("owns the schema or its tables")
        elif self.can_create:
            found.append("may create objects in the schema (DDL)")
        if self.server_programs and not self.superuser:
            found.append(f"is a member of {', '.join(self.server_programs)}")
        return found

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "least_privilege": not self.problems, "problems": self.problems}


def inspect_role(conn: psycopg.Connection[Any]) -> RoleReport:
    """The connected role's rights in the current database's ``public`` schema."""
    row = conn.execute("""
        SELECT current_user, r.rolsuper, pg_has_role(n.nspowner, 'MEMBER'),
               EXISTS (SELECT FROM pg_class c WHERE c.relnamespace = n.oid AND pg_has_role(c.relowner, 'MEMBER')),
               has_schema_privilege(n.oid, 'CREATE'),
               ARRAY(SELECT p FROM unnest(%s::text[]) p WHERE pg_has_role(p, 'MEMBER'))
        FROM pg_roles r, pg_namespace n WHERE r.rolname = current_user AND n.nspname = 'public'
    """, (list(SERVER_PROGRAM_ROLES),)).fetchone()
    assert row is not None
    return RoleReport(role=row[0], superuser=row[1], owns_schema=row[2], owns_tables=row[3], can_create=row[4],
                      server_programs=list(row[5]))


PURPOSE_LABELS = {OWNER: "migrations", APP: "pipeline", READONLY: "read-only pages and API",
                  DAGSTER: "Dagster storage"}
