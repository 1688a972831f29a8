"""Bot API error answers, shaped exactly as Telegram sends them so clients map them as in production.

Tree:
    ApiError                 -> {"ok": false, "error_code": N, "description": ...}
      (built by bad_request, forbidden, not_found, unauthorized, conflict, too_many_requests)
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error answer of the Bot API: HTTP status, description and optional parameters."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(f"{code} {description}")
        self.code = code
        self.description = description
        self.parameters = parameters

    def body(self) -> dict[str, Any]:
        """Render the JSON body Telegram answers with."""
        out: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            out["parameters"] = self.parameters
        return out


def bad_request(detail: str) -> ApiError:
    """400 with Telegram's "Bad Request: ..." wording."""
    return ApiError(400, f"Bad Request: {detail}")


def forbidden(detail: str) -> ApiError:
    """403 with Telegram's "Forbidden: ..." wording."""
    return ApiError(403, f"Forbidden: {detail}")


def not_found() -> ApiError:
    """404 as answered for unknown methods and malformed tokens."""
    return ApiError(404, "Not Found")


def unauthorized() -> ApiError:
    """401 as answered for a well-formed but invalid token."""
    return ApiError(401, "Unauthorized")


def conflict(detail: str) -> ApiError:
    """409 with Telegram's "Conflict: ..." wording."""
    return ApiError(409, f"Conflict: {detail}")


def too_many_requests(retry_after: int) -> ApiError:
    """429 carrying parameters.retry_after, which clients turn into a back-off."""
    return ApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


SERVER_ERROR_PHRASES = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def server_error(status: int) -> ApiError:
    """A 5xx answer; status must be one of SERVER_ERROR_PHRASES."""
    if status not in SERVER_ERROR_PHRASES:
        allowed = ", ".join(str(s) for s in SERVER_ERROR_PHRASES)
        raise ValueError(f"server error status {status!r} is not supported; allowed: {allowed}")
    return ApiError(status, SERVER_ERROR_PHRASES[status])
