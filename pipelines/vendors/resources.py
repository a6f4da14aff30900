"""The vendor files as a Dagster resource, so assets and tests can point at any folder."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from dagster import ConfigurableResource, MultiPartitionsDefinition
from pydantic import Field

from pipelines.shared.partitions import day_vendor_partitions
from pipelines.vendors.config.errors import VendorConfigError
from pipelines.vendors.config.loading import VendorFileProblem, VendorFolder, read_vendor_folder
from pipelines.vendors.config.vendor import VendorConfig

DEMO_DEFAULT_URL = "http://127.0.0.1:8765"
"""Where the bundled vendor files expect the demo marketplace."""


class VendorRegistry(ConfigurableResource):
    """Reads and validates ``vendors/*.yaml``, each file on its own.

    A bad file (malformed YAML, an unknown key, a cron that would not build...) takes out only
    its own vendor: :meth:`load` returns the good ones, :meth:`problems` says what is wrong with
    the others (file, field, problem), and ``vendor_catalog``'s ``vendor_files_valid`` check shows
    it in the UI and the CLI. A missing folder is an error of the whole load.

    Vendor files of the bundled demo point at ``http://127.0.0.1:8765``; when the demo runs
    elsewhere (``MARKET_PULSE_DEMO_URL``, or a test's free port) those URLs are rebased onto it.
    """

    directory: str = Field(description="Folder holding one YAML file per vendor.")
    demo_url: str = Field(default=DEMO_DEFAULT_URL, description="Where the demo marketplace listens.")

    def read(self) -> VendorFolder:
        """The folder, file by file: good vendors (rebased onto the demo URL) and bad files.

        Parsed again only when a file changed (its name or its bytes), else taken from this
        process's memory: parsing and validating the YAML costs ~30 ms a file, and every step of a
        run (and every on-demand search) asks; reading and hashing the files costs microseconds."""
        signature = _folder_signature(Path(self.directory))
        key = (self.directory, self.demo_url, signature)
        cached = _READ.get((self.directory, self.demo_url))
        if cached is not None and cached[0] == key:
            return cached[1]
        folder = read_vendor_folder(Path(self.directory))
        demo = self.demo_url.rstrip("/")
        if demo != DEMO_DEFAULT_URL:
            folder = VendorFolder({name: (rebase(vendor, DEMO_DEFAULT_URL, demo), path)
                                   for name, (vendor, path) in folder.vendors.items()}, folder.problems)
        if signature is not None:
            _READ[(self.directory, self.demo_url)] = (key, folder)
        return folder

    def load(self) -> list[VendorConfig]:
        """The vendors whose files are valid, sorted by name."""
        return self.read().configs

    def problems(self) -> tuple[VendorFileProblem, ...]:
        """The vendor files that cannot be used, with one line per problem."""
        return self.read().problems

    def partitions(self, vendors: list[VendorConfig] | None = None) -> MultiPartitionsDefinition:
        """Day-by-vendor partitions of the scraping assets: one vendor dimension key per enabled vendor."""
        return day_vendor_partitions(v.name for v in (self.load() if vendors is None else vendors) if v.enabled)

    def get(self, name: str) -> VendorConfig:
        """The vendor ``name``; a vendor whose file is broken raises ``VendorConfigError`` with its problems."""
        return self.entry(name)[0]

    def entry(self, name: str) -> tuple[VendorConfig, str]:
        """The vendor ``name`` and the file that declares it (as the user would type the path)."""
        folder = self.read()
        if name in folder.vendors:
            return folder.vendors[name]
        for problem in folder.problems:
            if problem.name == name:
                raise VendorConfigError(list(problem.errors))
        raise KeyError(f"no vendor named {name!r} in {self.directory}")


_READ: dict[tuple[str, str], tuple[tuple[str, str, object], VendorFolder]] = {}
"""The last read of each (folder, demo URL), with the folder's signature when it was read."""


def _folder_signature(directory: Path) -> tuple[tuple[str, str], ...] | None:
    """Each vendor file's name and content hash (None when the folder cannot be read: then it is
    read, and its error raised, every time). Contents, not modification times: a file rewritten
    within the file system's timestamp granularity must not be missed."""
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
        return tuple((e.name, hashlib.blake2b(Path(e.path).read_bytes(), digest_size=16).hexdigest())
                     for e in entries if e.name.endswith((".yaml", ".yml")) and e.is_file())
    except OSError:
        return None


def rebase(vendor: VendorConfig, old: str, new: str) -> VendorConfig:
    """The same vendor with its base URL moved from under ``old`` to under ``new``."""
    if not vendor.base_url.startswith(old):
        return vendor
    return vendor.with_base_url(new + vendor.base_url[len(old):])
