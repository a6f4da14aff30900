"""`async with` for the fetchers' sessions: open on entry, close on exit (even on an error)."""

from __future__ import annotations

from types import TracebackType
from typing import Self


class OpenedOnEntry:
    """A resource with ``open()`` and ``close()`` that ``async with`` opens and always closes."""

    async def open(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
