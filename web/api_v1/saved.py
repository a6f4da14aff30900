"""The caller's saved searches (create, list, rename / pause, delete) and notifications.

Only the caller's own rows exist for them: another user's saved search answers 404, exactly like
one that does not exist, so ids reveal nothing. Targets are sealed as the CLI seals them
(:mod:`pipelines.alerts.vault`) and only their masked labels are ever shown.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Connection, Engine

from infra.secrets import SecretBox
from pipelines.alerts import manage
from pipelines.alerts.alerts_file import AlertEntry
from pipelines.alerts.criteria import format_validation_error
from pipelines.alerts.vault import stored_settings
from web.api import Problem
from web.api_v1 import cursors, models, store
from web.api_v1.deps import ReadEngine, Reader, Writer, write_engine
from web.api_v1.params import BIGINT, Cursor, SearchId, page_size

router = APIRouter(tags=["saved searches"])

WriteEngine = Annotated[Engine, Depends(write_engine)]


class PriceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min: Decimal | None = Field(default=None, ge=0, le=Decimal("1e12"))
    max: Decimal | None = Field(default=None, ge=0, le=Decimal("1e12"))
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")


class NotifyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    urls: list[Annotated[str, Field(min_length=1, max_length=2000)]] = Field(
        min_length=1, max_length=10, description="Apprise URLs (json://, mailto://, ...); stored encrypted.")
    digest: bool = False


class SavedSearchIn(BaseModel):
    """A saved search as the CLI's ``alerts add`` takes it (the owner is the key's user)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    query: str = Field(min_length=1, max_length=200)
    all_words: list[str] | None = Field(default=None, max_length=20, description="Default: the query's words.")
    any_words: list[str] = Field(default_factory=list, max_length=20)
    none_words: list[str] = Field(default_factory=list, max_length=20)
    vendors: list[str] = Field(default_factory=list, max_length=50)
    price: PriceIn = Field(default_factory=PriceIn)
    condition: list[str] = Field(default_factory=list, max_length=20)
    rules: list[str] = Field(default_factory=lambda: ["new"], min_length=1, max_length=3,
                             description="new, drop:10%, drop:50, below:15% ...")
    notify: NotifyIn
    active: bool = True


class SavedSearchPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=100)
    active: bool | None = None


def _out(row: Any) -> models.SavedSearch:
    try:
        settings = stored_settings(row.notification_settings)
        targets = [models.Target(id=t.id, label=t.label) for t in settings.targets]
        digest = settings.digest
    except (ValidationError, ValueError):
        targets, digest = [], False
    return models.SavedSearch(id=row.id, name=row.name, query=row.query, criteria=row.criteria, targets=targets,
                              digest=digest, is_active=row.is_active, last_checked_at=row.last_checked_at,
                              last_matched_at=row.last_matched_at, created_at=row.created_at,
                              updated_at=row.updated_at)


def _own(conn: Connection, user_id: int, search_id: int) -> models.SavedSearch:
    rows = store.saved_searches(conn, user_id, search_id)
    if not rows:
        raise Problem(404, "Not Found", f"no saved search {search_id}")
    return _out(rows[0])


def _no_nul(values: list[str]) -> None:
    if any("\x00" in v for v in values):
        raise Problem(422, "Unprocessable Content", "body: text may not contain NUL characters")


@router.get("/saved-searches", summary="Your saved searches")
def list_saved(caller: Reader, engine: ReadEngine) -> list[models.SavedSearch]:
    with engine.connect() as conn:
        return [_out(r) for r in store.saved_searches(conn, caller.user_id)]


@router.get("/saved-searches/{search_id}", summary="One of your saved searches")
def get_saved(search_id: SearchId, caller: Reader, engine: ReadEngine) -> models.SavedSearch:
    with engine.connect() as conn:
        return _own(conn, caller.user_id, search_id)


@router.post("/saved-searches", status_code=201, summary="Save a search (matches are sent to its targets)",
             responses={409: models.problem("You have a saved search of this name"),
                        503: models.problem("The server has no key to seal targets")})
def create_saved(body: SavedSearchIn, caller: Writer, engine: WriteEngine) -> models.SavedSearch:
    _no_nul([body.name, body.query, *(body.all_words or []), *body.any_words, *body.none_words, *body.vendors,
             *body.condition, *body.rules, *body.notify.urls])
    if any("${" in url for url in body.notify.urls):
        raise Problem(422, "Unprocessable Content", "notify.urls: ${VARIABLE} references are for the server's "
                      "own alerts file, not for the API: write the URL itself")
    try:
        entry = AlertEntry.model_validate({**body.model_dump(exclude={"all_words"}, exclude_none=False),
                                           "all": body.all_words, "user": caller.username})
    except ValidationError as exc:
        raise Problem(422, "Unprocessable Content", format_validation_error(exc)) from None
    box = SecretBox.from_env()
    if not box.configured:
        raise Problem(503, "Service Unavailable", "saved searches cannot be stored: the server has no secret key "
                      "to seal their targets (market-pulse secrets init)")
    with engine.begin() as conn:
        try:
            search_id = manage.add_search(conn, entry, manage.known_vendors(conn), box)
        except manage.ManageError as exc:
            status = 409 if "already has a saved search" in str(exc) else 422
            raise Problem(status, "Conflict" if status == 409 else "Unprocessable Content", str(exc)) from None
        return _own(conn, caller.user_id, search_id)


@router.patch("/saved-searches/{search_id}", summary="Rename, pause or resume one of your saved searches",
              responses={409: models.problem("You have a saved search of this name")})
def patch_saved(search_id: SearchId, body: SavedSearchPatch, caller: Writer, engine: WriteEngine
                ) -> models.SavedSearch:
    if body.name is not None:
        _no_nul([body.name])
    from sqlalchemy.exc import IntegrityError

    with engine.begin() as conn:
        try:
            with conn.begin_nested():
                found = store.set_saved_search(conn, caller.user_id, search_id,
                                               name=" ".join(body.name.split()) or None if body.name else None,
                                               active=body.active)
        except IntegrityError:
            raise Problem(409, "Conflict", f"you already have a saved search named {body.name!r}") from None
        if not found:
            raise Problem(404, "Not Found", f"no saved search {search_id}")
        return _own(conn, caller.user_id, search_id)


@router.delete("/saved-searches/{search_id}", status_code=204, response_class=Response,
               summary="Delete one of your saved searches")
def delete_saved(search_id: SearchId, caller: Writer, engine: WriteEngine) -> Response:
    with engine.begin() as conn:
        if not store.delete_saved_search(conn, caller.user_id, search_id):
            raise Problem(404, "Not Found", f"no saved search {search_id}")
    return Response(status_code=204)


@router.get("/notifications", summary="Messages sent (or to send) about your saved searches, newest first")
def list_notifications(caller: Reader, engine: ReadEngine,
                       status: Annotated[str | None, Query(pattern=r"^(pending|sending|sent|failed)$")] = None,
                       cursor: Cursor = None, limit: Annotated[int, page_size()] = 50) -> models.NotificationPage:
    with engine.connect() as conn:
        before = cursors.decode(cursor, "notifications")[1] if cursor else BIGINT
        rows = store.notifications(conn, caller.user_id, status, before, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = cursors.encode("notifications", str(rows[-1].id), rows[-1].id) if more else None
        return models.NotificationPage(items=[models.Notification.model_validate(r) for r in rows],
                                       next_cursor=next_cursor)
