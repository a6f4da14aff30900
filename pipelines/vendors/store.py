"""The ``vendors`` table: the catalogue sync and the vendor lookups other domains share."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from pipelines.shared.sql import SqlFiles

if TYPE_CHECKING:
    from pipelines.vendors.catalog import VendorRow

SQL = SqlFiles.beside(__file__)


class UnknownVendor(LookupError):
    pass


def find_vendor_id(conn: Connection, name: str) -> int | None:
    """The ``vendors.id`` of ``name``, or None when the warehouse does not know it."""
    vendor_id = SQL.scalar(conn, "select_vendor_id", {"name": name})
    return None if vendor_id is None else int(vendor_id)


def vendor_id_for(conn: Connection, name: str) -> int:
    """The ``vendors.id`` of ``name``; a clear error when the catalogue was never synced."""
    vendor_id = find_vendor_id(conn, name)
    if vendor_id is None:
        raise UnknownVendor(f"vendor {name!r} is not in the warehouse yet: materialize vendor_catalog first")
    return vendor_id


def vendor_ids(conn: Connection, names: Iterable[str]) -> dict[str, int]:
    """``{name: id}`` of the given vendors the warehouse knows (unknown names are left out)."""
    return {r.name: r.id for r in SQL.rows(conn, "select_vendor_ids", {"names": list(names)})}


def vendor_names(conn: Connection) -> set[str]:
    """Every vendor in the warehouse, active or not."""
    return {r.name for r in SQL.rows(conn, "select_vendor_names")}


def upsert_vendor(conn: Connection, row: VendorRow) -> bool | None:
    """Write one vendor file's row: True when inserted, False when updated, None when unchanged."""
    result = SQL.one_or_none(conn, "upsert_vendor", row.as_params())
    return None if result is None else bool(result.inserted)


def deactivate_missing(conn: Connection, names: Iterable[str]) -> list[str]:
    """Deactivate the active vendors not in ``names``; the names deactivated."""
    return [r.name for r in SQL.rows(conn, "deactivate_missing_vendors", {"names": list(names)})]


def count_vendors(conn: Connection) -> int:
    return int(SQL.scalar(conn, "count_vendors"))
