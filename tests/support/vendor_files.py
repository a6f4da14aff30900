"""Vendor folders for tests: the bundled vendor files with some options changed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from infra.settings import PROJECT_ROOT


def _merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def vendor_dir(target: Path, patches: dict[str, dict[str, Any]] | None = None,
               only: list[str] | None = None) -> Path:
    """Copy ``vendors/*.yaml`` (or just ``only``) into ``target``, deep-merging ``patches[name]``
    into each (a ``None`` value removes the key). Returns ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    for path in sorted((PROJECT_ROOT / "vendors").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if only is not None and data["name"] not in only:
            continue
        data = _merge(data, (patches or {}).get(data["name"], {}))
        (target / path.name).write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return target
