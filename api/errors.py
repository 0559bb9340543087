"""The API's one error shape: ``{"code": "...", "message": "..."}`` with an HTTP status."""

from __future__ import annotations


class ApiError(Exception):
    """An answer other than success. ``code`` is stable and machine-readable; ``message`` is
    one plain sentence for a person; ``headers`` go on the response (Retry-After)."""

    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict:
        return {"code": self.code, "message": self.message}
