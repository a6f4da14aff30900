"""Response bodies moved out of Postgres to files or an object store, and read back from there.

Bodies are the bulk of the warehouse (every page ever fetched, compressed) and are only read
again to re-parse old days. Past an age they can live at an fsspec URL (a local folder by
default, ``s3://``, ``gs://``... when the matching fsspec package is installed): the file holds
the row's compressed bytes unchanged, at ``<archive>/<sha[:2]>/<sha>.<encoding>``, and the row
keeps ``archive_url`` with ``body`` NULL. Re-parsing reads the file instead of the column.

Each body is written, read back and checked against its content hash before its row lets go of
it, one committed batch at a time: a crash leaves at worst a file whose row still holds the
body, and running again rewrites it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import fsspec
from sqlalchemy import Engine

from pipelines.scraping import store

BATCH = 200


@dataclass(frozen=True)
class OffloadSummary:
    bodies: int
    bytes: int


def body_url(archive: str, sha256: str, encoding: str) -> str:
    """Where a body goes under ``archive`` (a folder or fsspec URL)."""
    return f"{archive.rstrip('/')}/{sha256[:2]}/{sha256}.{encoding}"


def read_archived(url: str) -> bytes:
    """The compressed bytes of a body kept at ``url``."""
    with fsspec.open(url, "rb") as handle:
        data: bytes = handle.read()
    return data


def _expand(data: bytes, encoding: str) -> bytes:
    if encoding != "zlib":
        raise ValueError(f"unknown capture body encoding {encoding!r}")
    return zlib.decompress(data)


def _write_checked(url: str, sha256: str, encoding: str, data: bytes) -> None:
    fs, path = fsspec.core.url_to_fs(url)
    fs.makedirs(fs._parent(path), exist_ok=True)
    with fs.open(path, "wb") as handle:
        handle.write(data)
    if hashlib.sha256(_expand(read_archived(url), encoding)).hexdigest() != sha256:
        raise OSError(f"{url}: what was read back does not match the body's hash; nothing moved")


def pending_offload(engine: Engine, before: dt.datetime) -> OffloadSummary:
    """What :func:`offload_bodies` would move (a dry run)."""
    with engine.connect() as conn:
        row = store.count_bodies_to_offload(conn, before)
    return OffloadSummary(bodies=row.bodies, bytes=row.bytes)


def offload_bodies(engine: Engine, *, before: dt.datetime, archive: str, batch: int = BATCH,
                   progress: Callable[[int], None] | None = None) -> OffloadSummary:
    """Move the bodies first stored before ``before`` (and not used by the listing cache) to ``archive``."""
    moved = moved_bytes = 0
    while True:
        with engine.begin() as conn:
            rows = store.bodies_to_offload(conn, before, batch)
            for row in rows:
                url = body_url(archive, row.sha256, row.encoding)
                _write_checked(url, row.sha256, row.encoding, row.body)
                moved += store.mark_body_offloaded(conn, row.sha256, url)
                moved_bytes += len(row.body)
        if progress:
            progress(moved)
        if len(rows) < batch:
            return OffloadSummary(bodies=moved, bytes=moved_bytes)


def restore_bodies(engine: Engine, *, batch: int = BATCH) -> int:
    """Bring every body kept outside back into the database (the files stay); returns how many."""
    restored = 0
    while True:
        with engine.begin() as conn:
            rows = store.offloaded_bodies(conn, batch)
            for row in rows:
                data = read_archived(row.archive_url)
                if hashlib.sha256(_expand(data, row.encoding)).hexdigest() != row.sha256:
                    raise OSError(f"{row.archive_url}: the file does not match body {row.sha256}")
                restored += store.restore_body(conn, row.sha256, data)
        if len(rows) < batch:
            return restored


def remove_archived(urls: list[str]) -> int:
    """Delete archived body files (of bodies pruned from the database); returns how many were there."""
    removed = 0
    for url in urls:
        fs, path = fsspec.core.url_to_fs(url)
        if fs.exists(path):
            fs.rm(path)
            removed += 1
    return removed
