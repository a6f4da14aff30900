"""`async with` for the fetchers' sessions: open on entry, close on exit (even on an error)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self


class OpenedOnEntry(ABC):
    """A resource with ``open()`` and ``close()`` that ``async with`` opens and always closes
    (a subclass that lacks either cannot be made at all)."""

    @abstractmethod
    async def open(self) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
