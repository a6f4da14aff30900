"""``/health`` (the process answers) and ``/health/ready`` (it can read the warehouse): no key,
and nothing about the internals (no versions, hosts or errors) in either answer."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from web.api_v1 import models, store
from web.api_v1.reading import read_with_retry

log = logging.getLogger("market_pulse.web")

router = APIRouter(prefix="/health", tags=["health"])


@router.get("", summary="The API answers (no key needed)")
def health() -> models.Health:
    return models.Health(status="ok")


@router.get("/ready", summary="The API can read the warehouse (no key needed)",
            response_model=models.Health, responses={503: {"model": models.Health}})
def ready(request: Request) -> JSONResponse:
    try:
        ok = read_with_retry(request.app.state.read_engine, store.ready)
    except SQLAlchemyError as exc:
        log.warning("readiness: the warehouse does not answer (%s)", type(exc).__name__)
        ok = False
    if not ok:
        return JSONResponse({"status": "unavailable"}, status_code=503, headers={"Retry-After": "5"})
    return JSONResponse({"status": "ready"})
