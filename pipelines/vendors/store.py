"""Vendor lookups shared by the per-vendor assets."""

from __future__ import annotations

from sqlalchemy import Connection, text


class UnknownVendor(LookupError):
    pass


def vendor_id_for(conn: Connection, name: str) -> int:
    """The ``vendors.id`` of ``name``; a clear error when the catalogue was never synced."""
    vendor_id = conn.execute(text("SELECT id FROM vendors WHERE name = :name"), {"name": name}).scalar()
    if vendor_id is None:
        raise UnknownVendor(f"vendor {name!r} is not in the warehouse yet: materialize vendor_catalog first")
    return int(vendor_id)
