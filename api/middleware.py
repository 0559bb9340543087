"""Every answer under /api/ in the API's one error shape, also the ones no API view made: an
unknown path (404), a method the path does not take (405), a body too large for Django, and
an exception that escaped (500, logged, no stack trace)."""

from __future__ import annotations

import json
import logging

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"
MESSAGES = {
    400: ("bad_request", "The request could not be read."),
    401: ("not_authenticated", "Send an API key as 'Authorization: Bearer <key>', or sign in."),
    403: ("forbidden", "You may not do this."),
    404: ("not_found", "There is nothing at this address. See /api/v1/docs for the API."),
    405: ("method_not_allowed", "This address does not take this method."),
    413: ("too_large", "The request is too large."),
    429: ("rate_limited", "Too many requests. Wait a moment and try again."),
    500: (
        "server_error",
        "Something went wrong on our side. Try again, and tell us if it keeps happening.",
    ),
}


def error_response(status: int, code: str = "", message: str = "") -> JsonResponse:
    default_code, default_message = MESSAGES.get(status, ("error", "The request failed."))
    return JsonResponse(
        {"code": code or default_code, "message": message or default_message}, status=status
    )


def _is_shaped(response) -> bool:
    if not response.get("Content-Type", "").startswith("application/json"):
        return False
    try:
        body = json.loads(response.content)
    except (ValueError, AttributeError):
        return False
    return isinstance(body, dict) and {"code", "message"} <= body.keys()


class ApiErrorShapeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path.startswith(API_PREFIX) or response.status_code < 400:
            return response
        if getattr(response, "streaming", False) or _is_shaped(response):
            return response
        shaped = error_response(response.status_code)
        for header in ("Allow", "Retry-After"):
            if header in response:
                shaped[header] = response[header]
        return shaped

    def process_exception(self, request, exception):
        # Not found and not allowed become 404 and 403 the usual way (then shaped above).
        if not request.path.startswith(API_PREFIX) or isinstance(
            exception, Http404 | PermissionDenied
        ):
            return None
        logger.exception("API request failed: %s %s", request.method, request.path)
        return error_response(500)


def api_not_found(request, rest: str = ""):
    return error_response(404)
