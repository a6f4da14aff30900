"""Alembic environment: migrates the warehouse at the URL the caller gives (the owner role's)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine, pool, text

from infra.schema import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    explicit = context.get_x_argument(as_dictionary=True).get("url") or config.attributes.get("url")
    if explicit:
        return explicit
    from infra.database import resolve_urls
    from infra.settings import load_settings

    return resolve_urls(load_settings()).owner


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True,
                      compare_type=True, compare_server_default=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(_url(), poolclass=pool.NullPool)
    with engine.connect() as conn:
        _run(conn)


def _run(connection: Connection) -> None:
    partitions = _partitions(connection)

    def include_name(name: str | None, type_: str, parent_names: object) -> bool:
        """Month partitions are the parent table's storage, not tables of the model."""
        return not (type_ == "table" and name in partitions)

    context.configure(connection=connection, target_metadata=target_metadata, compare_type=True,
                      transaction_per_migration=True, include_name=include_name)
    with context.begin_transaction():
        context.run_migrations()
    if connection.in_transaction():
        connection.commit()
    _keep_version_to_owner(connection)


def _partitions(connection) -> set[str]:  # type: ignore[no-untyped-def]
    found = set(connection.execute(text(
        "SELECT relname FROM pg_class WHERE relispartition AND relkind IN ('r', 'p') "
        "AND relnamespace = CAST(current_schema() AS regnamespace)")).scalars())
    if connection.in_transaction():
        connection.commit()
    return found


# Default privileges give the app role DML on every table the owner creates, alembic_version
# included; only migrations may move the schema's version, so writes to it are taken back.
KEEP_VERSION_TO_OWNER = text("""
DO $$
DECLARE grantee text;
BEGIN
  IF EXISTS (SELECT FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'alembic_version'
             AND tableowner = current_user) THEN
    FOR grantee IN SELECT DISTINCT g.grantee FROM information_schema.role_table_grants g
                   WHERE g.table_schema = current_schema() AND g.table_name = 'alembic_version'
                     AND g.privilege_type IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE')
                     AND g.grantee NOT IN (current_user, 'PUBLIC') LOOP
      EXECUTE format('REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM %I', grantee);
    END LOOP;
  END IF;
END $$
""")


def _keep_version_to_owner(connection: Connection) -> None:
    connection.execute(KEEP_VERSION_TO_OWNER)
    connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
