"""Databases for tests, with the roles a real install has (:mod:`infra.roles`).

The suite runs the pipeline as an app role (DML only), migrations as an owner role and Dagster as
its storage role, on the embedded server and on a shared PostgreSQL service alike. Roles are
server-wide, so each pytest session makes its own (``mpt_<pid>_owner`` …) and drops them with
the databases they own when it ends; passwords are random per session (the embedded server
refuses a connection without one; the CI service trusts, and they do no harm there).
"""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass, field

from psycopg import sql

from infra.connections import DatabaseUnavailable, connect
from infra.roles import (
    Databases,
    RoleNames,
    apply,
    dagster_schema_steps,
    role_steps,
    schema_steps,
    scram_verifier,
    warehouse_database_steps,
)
from infra.settings import (
    APP,
    DAGSTER,
    OWNER,
    READONLY,
    ROLE_PURPOSES,
    URL_SETTINGS,
    with_database,
    with_driver,
    with_user,
)


@dataclass(frozen=True)
class SessionRoles:
    """A session's roles on one server; ``admin`` is the server's superuser URL (``postgres`` database)."""

    admin: str = field(repr=False)
    names: RoleNames
    passwords: dict[str, str] = field(repr=False)

    @classmethod
    def create(cls, admin: str, prefix: str) -> SessionRoles:
        roles = cls(admin, RoleNames.with_prefix(prefix), {p: secrets.token_urlsafe(24) for p in ROLE_PURPOSES})
        apply(admin, role_steps(roles.names, {p: scram_verifier(pw) for p, pw in roles.passwords.items()}))
        return roles

    def url(self, database: str, purpose: str = APP) -> str:
        return with_user(with_database(self.admin, database), self.names.of(purpose), self.passwords[purpose])

    def create_warehouse(self, name: str, template: str | None = None) -> str:
        """A warehouse database owned by the owner role (a copy of ``template`` when given, whose
        schema rights and default privileges come along); its URL as the app role."""
        with connect(self.admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            statement = sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name),
                                                                     sql.Identifier(self.names.owner))
            if template:
                statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
            conn.execute(statement)
        steps = warehouse_database_steps(self.names, name)
        if template is None:
            steps += schema_steps(self.names, name)
        apply(self.admin, steps)
        return self.url(name, APP)

    def create_dagster_storage(self, name: str) -> str:
        """A database owned by the Dagster role; its URL as that role, for dagster-postgres."""
        with connect(self.admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name),
                                                                      sql.Identifier(self.names.dagster)))
        apply(self.admin, [*dagster_schema_steps(self.names, name)])
        return with_driver(self.url(name, DAGSTER), "psycopg2")

    def environment(self, warehouse: str, dagster: str) -> dict[str, str]:
        """The settings a deployment on this server would have (one URL per role)."""
        env = {URL_SETTINGS[purpose]: self.url(warehouse, purpose) for purpose in (OWNER, APP, READONLY)}
        env[URL_SETTINGS[DAGSTER]] = self.url(dagster, DAGSTER)
        return env

    def stack(self, prefix: str, template: str | None = None) -> dict[str, str]:
        """A warehouse (from ``template``, or empty for the commands to migrate) and Dagster storage
        named after ``prefix``, as settings."""
        self.create_warehouse(prefix, template)
        self.create_dagster_storage(f"{prefix}_dagster")
        return self.environment(prefix, f"{prefix}_dagster")

    def drop(self) -> None:
        """Drop every database the roles own, then the roles (best effort: a session that ends
        must not fail because another one still holds a connection)."""
        owners = [self.names.owner, self.names.dagster]
        with contextlib.suppress(DatabaseUnavailable), connect(self.admin, autocommit=True) as conn:
            names = [r[0] for r in conn.execute(
                "SELECT datname FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba WHERE r.rolname = ANY(%s)",
                (owners,))]
            for name in names:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            for purpose in ROLE_PURPOSES:
                with contextlib.suppress(Exception):
                    conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(self.names.of(purpose))))


def warehouse_name(url: str) -> str:
    return url.rsplit("/", 1)[-1]


__all__ = ["Databases", "SessionRoles", "warehouse_name"]
