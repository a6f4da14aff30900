"""Reading vendor files from disk: strict YAML, then validation, all files of a folder at once."""

from __future__ import annotations

import os
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml

from pipelines.vendors.config.errors import VendorConfigError
from pipelines.vendors.config.vendor import VendorConfig, parse_vendor


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys (PyYAML silently keeps the last one)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if not isinstance(key, Hashable):
            continue  # PyYAML reports unhashable keys itself
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _display_path(path: Path) -> str:
    """The path as the user would type it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def load_vendor_file(path: str | os.PathLike[str]) -> VendorConfig:
    """Load and fully validate one vendor file; raise ``VendorConfigError`` on any problem."""
    path = Path(path)
    shown = _display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise VendorConfigError([f"{shown}: cannot read file: {exc}"]) from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise VendorConfigError([f"{shown}: {where}invalid YAML: {problem}"]) from None
    return parse_vendor(data, source=shown)


def load_vendors(directory: str | os.PathLike[str]) -> list[VendorConfig]:
    """Load every ``*.yaml``/``*.yml`` in ``directory``, sorted by vendor name.

    All files are checked and every problem is reported in one ``VendorConfigError``; if there
    is any problem (including two files declaring the same ``name``) nothing is returned, so a
    half-valid directory never runs.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise VendorConfigError([f"{_display_path(directory)}: not a directory"])
    files = sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    errors: list[str] = []
    vendors: dict[str, tuple[VendorConfig, Path]] = {}
    for path in files:
        try:
            vendor = load_vendor_file(path)
        except VendorConfigError as exc:
            errors.extend(exc.errors)
            continue
        if vendor.name in vendors:
            other = _display_path(vendors[vendor.name][1])
            errors.append(f"{_display_path(path)}: name: duplicate vendor name {vendor.name!r} (also in {other})")
            continue
        vendors[vendor.name] = (vendor, path)
    if errors:
        raise VendorConfigError(errors)
    return [vendors[name][0] for name in sorted(vendors)]
