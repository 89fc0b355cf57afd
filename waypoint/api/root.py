"""The API at /api/v1/: authentication, the one error handler, and each app's router."""

import logging
from typing import Any

from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Router, Swagger
from ninja.errors import AuthenticationError, HttpError, ValidationError

from waypoint.api.auth import session_auth, token_auth
from waypoint.attainments.api import router as attainments_router
from waypoint.core.errors import ApplicationError
from waypoint.people.api import router as people_router
from waypoint.plans.api import router as plans_router
from waypoint.plans.sync.api import router as sync_router
from waypoint.programmes.api import router as programmes_router

logger = logging.getLogger(__name__)

api = NinjaAPI(
    title="Waypoint API",
    version="1",
    description="Learners, employers, programmes, enrolments and learning plans. See docs/api.md.",
    urls_namespace="api",
    auth=[token_auth, session_auth],
    # The docs page loads Swagger UI from ninja's own static files; no validator badge call-out either.
    docs=Swagger(settings={"validatorUrl": None}),
)

_LOCATIONS = frozenset({"body", "query", "path", "header", "cookie", "form", "file"})


def _invalid_input_fields(errors: list[dict[str, Any]]) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for error in errors:
        loc = [str(part) for part in error.get("loc", ())]
        if loc and loc[0] == "body" and len(loc) >= 2:
            loc = loc[2:] or ["body"]  # drop "body" and the body parameter's name
        elif loc and loc[0] in _LOCATIONS:
            loc = loc[1:]
        message = str(error.get("msg", "Invalid value.")).removeprefix("Value error, ")
        fields.setdefault(".".join(loc) or "body", []).append(message)
    return fields


def _body(code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "fields": fields or {}}


def error_response(request: HttpRequest, exc: Exception | type[Exception]) -> HttpResponse:
    """Every error the API answers goes through here: one JSON shape, `{code, message, fields}`."""
    status: int
    if isinstance(exc, ApplicationError):
        status, body = exc.status, _body(exc.code, exc.message, exc.fields)
    elif isinstance(exc, ValidationError):
        fields = _invalid_input_fields(exc.errors)
        summary = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in fields.items())
        status, body = 422, _body("invalid_input", f"The request is not valid. {summary}", fields)
    elif isinstance(exc, AuthenticationError):
        status = 401
        body = _body("not_authenticated", "Sign in, or send an API token as 'Authorization: Bearer <key>'.")
    elif isinstance(exc, Http404):
        status, body = 404, _body("not_found", "Not found.")
    elif isinstance(exc, HttpError):
        status = exc.status_code
        code = getattr(exc, "code", None) or {400: "invalid_input", 403: "permission_denied"}.get(status, "error")
        message = "The request body is not valid JSON." if exc.message == "Cannot parse request body" else exc.message
        body = _body(code, message)
    elif isinstance(exc, DataError):
        # A value the database cannot store that validation let through: the client's input, not our failure.
        logger.warning("API input refused by the database: %s", exc)
        status, body = 422, _body("invalid_input", "A value is out of the range the database can store.")
    else:
        logger.error("Unhandled error in the API", exc_info=exc if isinstance(exc, Exception) else None)
        status, body = 500, _body("server_error", "Something went wrong on our side; it has been logged.")
    return api.create_response(request, body, status=status)


for _exc in (Exception, ApplicationError, ValidationError, HttpError, AuthenticationError, Http404):
    api.add_exception_handler(_exc, error_response)

api.add_router("", people_router)
api.add_router("", programmes_router)
api.add_router("", plans_router)
api.add_router("", sync_router)
api.add_router("", attainments_router)
api.add_router("", "waypoint.epa.api.router")
api.add_router("", "waypoint.automation.api.router")
api.add_router("", "waypoint.curriculum.api_plans.router")
api.add_router("", "waypoint.curriculum.api_people.router")
api.add_router("", "waypoint.curriculum.api_reports.router")
api.add_router("", "waypoint.curriculum.api_groups.router")


_fallback = Router()


@_fallback.api_operation(["GET", "POST", "PUT", "PATCH", "DELETE"], "/{path:rest}", auth=None, include_in_schema=False)
def unknown_path(request: HttpRequest, rest: str) -> HttpResponse:
    """Anything under /api/v1/ that is not an endpoint: a JSON 404 rather than Django's HTML page."""
    raise Http404


api.add_router("", _fallback)  # last: its pattern matches every path
