"""Reading vendor files from disk: strict YAML, then validation; a folder file by file, so one bad
file takes out only its own vendor (:func:`read_vendor_folder`)."""

from __future__ import annotations

import os
import re
from collections.abc import Hashable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class VendorFileProblem:
    """One vendor file that cannot be used: where it is, which vendor it meant to declare (its
    ``name`` when that much could be read, else ``None``) and one line per problem."""

    path: str
    name: str | None
    errors: tuple[str, ...]


@dataclass(frozen=True)
class VendorFolder:
    """A vendor folder read file by file: the good vendors (by name, with their file) and the bad files."""

    vendors: dict[str, tuple[VendorConfig, str]]
    problems: tuple[VendorFileProblem, ...] = ()

    @property
    def configs(self) -> list[VendorConfig]:
        return [self.vendors[name][0] for name in sorted(self.vendors)]


def read_vendor_folder(directory: str | os.PathLike[str]) -> VendorFolder:
    """Load every ``*.yaml``/``*.yml`` in ``directory`` on its own: a bad file (malformed YAML, an
    unknown key, a selector that does not compile, a second file with a taken ``name``) becomes a
    :class:`VendorFileProblem` and never keeps the other vendors from loading.

    A missing folder is not one vendor's problem: it raises ``VendorConfigError``.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise VendorConfigError([f"{_display_path(directory)}: not a directory"])
    files = sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    vendors: dict[str, tuple[VendorConfig, str]] = {}
    problems: list[VendorFileProblem] = []
    for path in files:
        shown = _display_path(path)
        try:
            vendor = load_vendor_file(path)
        except VendorConfigError as exc:
            problems.append(VendorFileProblem(shown, _declared_name(path), tuple(exc.errors)))
            continue
        if vendor.name in vendors:
            problems.append(VendorFileProblem(shown, None, (
                f"{shown}: name: duplicate vendor name {vendor.name!r} (also in {vendors[vendor.name][1]})",)))
            continue
        vendors[vendor.name] = (vendor, shown)
    return VendorFolder(vendors, tuple(problems))


def _declared_name(path: Path) -> str | None:
    """The vendor a broken file meant: its ``name`` when the YAML is readable that far, else the
    file's stem (``toko.yaml``: ``toko``), so that vendor is not mistaken for a deleted one."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        data = None
    name = data.get("name") if isinstance(data, dict) else path.stem
    return name if isinstance(name, str) and re.fullmatch(r"[a-z0-9_-]{1,64}", name) else None


def load_vendors(directory: str | os.PathLike[str]) -> list[VendorConfig]:
    """Load every ``*.yaml``/``*.yml`` in ``directory``, sorted by vendor name, all or nothing.

    All files are checked and every problem is reported in one ``VendorConfigError``; if there
    is any problem (including two files declaring the same ``name``) nothing is returned. The
    code location reads the folder with :func:`read_vendor_folder` instead, so one bad file
    only takes its own vendor out.
    """
    folder = read_vendor_folder(directory)
    if folder.problems:
        raise VendorConfigError([line for problem in folder.problems for line in problem.errors])
    return folder.configs
