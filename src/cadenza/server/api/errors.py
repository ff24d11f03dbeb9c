"""Errors of the API: JSON ``{"code": ..., "message": ...}`` with one status per code.

Every error the API returns goes through :func:`error_response`, and every code
maps to its HTTP status in :data:`ERROR_CODE_TO_HTTP_STATUS`, in one place.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from cadenza.exceptions import (
    CadenzaError,
    ObjectAlreadyExists,
    ObjectNotFound,
    ParameterTypeError,
    RunStateError,
    StoreCorruptError,
    StoreError,
    StoreFullError,
    StoreSchemaError,
)

logger = logging.getLogger("cadenza.server.api")

ERROR_CODE_TO_HTTP_STATUS: dict[str, int] = {
    "INVALID_PARAMETER_VALUE": 400,
    "INVALID_REQUEST": 400,
    "INVALID_FILTER": 400,
    "INVALID_ARTIFACT_PATH": 400,
    "UNAUTHENTICATED": 401,
    "NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "CONFLICT": 409,
    "RESOURCE_DOES_NOT_EXIST": 404,
    "RESOURCE_ALREADY_EXISTS": 409,
    "INVALID_STATE": 409,
    "PARAM_CONFLICT": 409,
    "PAYLOAD_TOO_LARGE": 413,
    "INTERNAL_ERROR": 500,
    "STORE_UNAVAILABLE": 503,
    "STORE_FULL": 507,
}


class ErrorDetail(BaseModel):
    """One problem of a request: the parameter concerned and what is wrong with it."""

    field: str
    message: str


class ErrorBody(BaseModel):
    """The body of every error response."""

    code: str
    """A stable, machine-readable code (see the table of codes)."""
    message: str
    """What went wrong and, where possible, what to do."""
    details: list[ErrorDetail] | None = None
    """For invalid parameters, each parameter at fault."""
    error_type: str | None = None
    """The name of cadenza's exception class behind the error (``WorkPoolNotFound``...),
    so that a client raises the same error."""


class ApiError(CadenzaError):
    """An error the API reports to its client as ``{"code", "message"}``."""

    def __init__(self, code: str, message: str, details: Any = None) -> None:
        if code not in ERROR_CODE_TO_HTTP_STATUS:
            raise ValueError(f"unknown API error code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


def invalid(field: str, message: str) -> ApiError:
    """An ``INVALID_PARAMETER_VALUE`` error about the parameter ``field``."""
    return ApiError(
        "INVALID_PARAMETER_VALUE",
        f"Invalid value for {field!r}: {message}",
        [{"field": field, "message": message}],
    )


def not_found(kind: str, object_id: str) -> ApiError:
    """A ``NOT_FOUND`` error naming what was looked for."""
    return ApiError("NOT_FOUND", f"There is no {kind} with id {object_id!r}.")


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The error responses of a route, for its OpenAPI description."""
    text = {
        400: "An invalid parameter (code INVALID_PARAMETER_VALUE).",
        401: "A missing or wrong API key (code UNAUTHENTICATED).",
        404: "No such object (code NOT_FOUND).",
        409: "The run is not in a state that allows this (code INVALID_STATE), or the "
        "object exists already (code CONFLICT).",
        413: "The request is too large (code PAYLOAD_TOO_LARGE).",
        503: "The store cannot be read or written (code STORE_UNAVAILABLE).",
    }
    return {s: {"model": ErrorBody, "description": text[s]} for s in statuses}


def error_response(
    code: str, message: str, details: Any = None, *, error_type: str | None = None
) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    if error_type is not None:
        body["error_type"] = error_type
    return JSONResponse(body, status_code=ERROR_CODE_TO_HTTP_STATUS[code])


def _code_for(exc: Exception) -> str:
    code = getattr(exc, "error_code", None)  # errors that name their code (the registry's)
    if code in ERROR_CODE_TO_HTTP_STATUS:
        return str(code)
    if isinstance(exc, ObjectNotFound):
        return "NOT_FOUND"
    if isinstance(exc, RunStateError):
        return "INVALID_STATE"
    if isinstance(exc, ObjectAlreadyExists):
        return "CONFLICT"
    if isinstance(exc, ParameterTypeError):
        return "INVALID_PARAMETER_VALUE"
    if isinstance(exc, StoreFullError):
        return "STORE_FULL"
    if isinstance(exc, StoreSchemaError | StoreCorruptError | StoreError):
        return "STORE_UNAVAILABLE"
    if isinstance(exc, ValueError):
        return "INVALID_PARAMETER_VALUE"
    return "INTERNAL_ERROR"


_HTTP_CODES = {
    400: "INVALID_REQUEST",
    401: "UNAUTHENTICATED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
}


def _field_name(loc: Any) -> str:
    return ".".join(str(p) for p in loc if p not in ("body", "query", "path", "header"))


def install_error_handlers(app: FastAPI) -> None:
    """Make every error of the API a JSON body with a code and a message."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.code, exc.message, exc.details)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"field": _field_name(err.get("loc", ())), "message": err.get("msg", "invalid")}
            for err in exc.errors()
        ]
        first = problems[0] if problems else {"field": "", "message": "invalid request"}
        message = (
            f"Invalid value for {first['field']!r}: {first['message']}"
            if first["field"]
            else first["message"]
        )
        return error_response("INVALID_PARAMETER_VALUE", message, problems)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(
            exc.status_code, "INTERNAL_ERROR" if exc.status_code >= 500 else "INVALID_REQUEST"
        )
        return JSONResponse(
            {"code": code, "message": str(exc.detail)},
            status_code=exc.status_code,
            headers=exc.headers,
        )

    @app.exception_handler(CadenzaError)
    async def _cadenza(request: Request, exc: CadenzaError) -> JSONResponse:
        code = _code_for(exc)
        if code == "INTERNAL_ERROR":
            logger.error("Error in %s %s", request.method, request.url.path, exc_info=exc)
        own = type(exc).__module__ == "cadenza.exceptions"
        return error_response(
            code,
            str(exc),
            getattr(exc, "details", None),
            error_type=type(exc).__name__ if own else None,
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.error("Error in %s %s", request.method, request.url.path, exc_info=exc)
        return error_response(
            "INTERNAL_ERROR",
            f"The server failed to answer ({type(exc).__name__}); its log has the details.",
        )
