"""X-Request-ID: taken from nginx (or made here), kept in a context variable, echoed and logged."""

import contextvars
import logging
import re
import uuid

from .tracing import ids

HEADER = "X-Request-ID"
_VALID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


def get_request_id() -> str | None:
    return _request_id.get()


def set_request_id(value: str | None) -> contextvars.Token:
    return _request_id.set(value)


def reset_request_id(token: contextvars.Token) -> None:
    _request_id.reset(token)


def clean_request_id(value: str | None) -> str:
    """The given id when it is safe to log and echo, else a fresh one."""
    if value and _VALID.match(value):
        return value
    return uuid.uuid4().hex


class RequestIDMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = clean_request_id(request.headers.get(HEADER))
        request.request_id = request_id
        token = set_request_id(request_id)
        try:
            response = self.get_response(request)
        finally:
            reset_request_id(token)
        response[HEADER] = request_id
        return response


class LogContextFilter(logging.Filter):
    """Adds `service`, `request_id` and the trace's `trace_id` and `span_id` to every record, for the JSON
    formatter."""

    def __init__(self, service: str = "", name: str = ""):
        super().__init__(name)
        self.service = service

    def filter(self, record):
        record.service = self.service
        # django.request logs a rejected request after the middleware has let go of its id.
        request = getattr(record, "request", None)
        record.request_id = get_request_id() or getattr(request, "request_id", None)
        record.trace_id, record.span_id = ids()
        return True
