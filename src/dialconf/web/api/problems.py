"""The problem+json body (RFC 9457) for the OpenAPI schema; web.errors builds the real answers."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route or router: these statuses answer with a Problem."""
    # the schema sits under the media type actually sent, so a client (or schemathesis) can check it
    schema = Problem.model_json_schema()
    return {
        status: {"content": {"application/problem+json": {"schema": schema}}, "description": "a problem"}
        for status in statuses
    }
