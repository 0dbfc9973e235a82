"""Request dependencies that every route may use."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from dialconf.store.uow import UnitOfWork


def get_uow(request: Request) -> UnitOfWork:
    """A fresh unit of work for this request (one is never shared between requests)."""
    uow: UnitOfWork = request.app.state.uow_factory()
    return uow


Uow = Annotated[UnitOfWork, Depends(get_uow)]
