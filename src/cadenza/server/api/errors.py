"""Errors of the API: JSON ``{"code": ..., "message": ...}`` with one status per code.

Every error the API returns goes through :func:`error_response`, and every code
maps to its HTTP status in :data:`ERROR_CODE_TO_HTTP_STATUS`, in one place.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from cadenza.exceptions import (
    CadenzaError,
    ObjectNotFound,
    StoreCorruptError,
    StoreError,
    StoreFullError,
    StoreSchemaError,
)

ERROR_CODE_TO_HTTP_STATUS: dict[str, int] = {
    "INVALID_PARAMETER_VALUE": 400,
    "INVALID_REQUEST": 400,
    "UNAUTHENTICATED": 401,
    "NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "CONFLICT": 409,
    "PAYLOAD_TOO_LARGE": 413,
    "INVALID_STATE": 409,
    "INTERNAL_ERROR": 500,
    "STORE_UNAVAILABLE": 503,
    "STORE_FULL": 507,
}


class ApiError(CadenzaError):
    """An error the API reports to its client as ``{"code", "message"}``."""

    def __init__(self, code: str, message: str, details: Any = None) -> None:
        if code not in ERROR_CODE_TO_HTTP_STATUS:
            raise ValueError(f"unknown API error code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


def error_response(code: str, message: str, details: Any = None) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return JSONResponse(body, status_code=ERROR_CODE_TO_HTTP_STATUS[code])


def _code_for(exc: Exception) -> str:
    if isinstance(exc, ObjectNotFound):
        return "NOT_FOUND"
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


def install_error_handlers(app: FastAPI) -> None:
    """Make every error of the API a JSON body with a code and a message."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.code, exc.message, exc.details)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
            problems.append({"field": loc, "message": err.get("msg", "invalid")})
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
        return error_response(_code_for(exc), str(exc))
