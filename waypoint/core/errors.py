"""Typed application errors: a stable `code`, a message a person can act on, an HTTP status.

Services raise these; the API's one handler and the web views turn them into responses.
"""

from collections.abc import Mapping


class ApplicationError(Exception):
    code = "error"
    status = 400

    def __init__(self, message: str, *, fields: Mapping[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields: dict[str, list[str]] = dict(fields or {})


class ValidationFailed(ApplicationError):
    code = "validation_failed"
    status = 422


class NotFound(ApplicationError):
    code = "not_found"
    status = 404


class PermissionRefused(ApplicationError):
    code = "permission_denied"
    status = 403


class Conflict(ApplicationError):
    code = "conflict"
    status = 409
