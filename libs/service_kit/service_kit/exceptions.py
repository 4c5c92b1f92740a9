"""The platform's domain errors: services raise them, the kit's one exception handler answers them.

Each class is a status class of API.md's envelope; a service subclasses one (or raises it with its own
`code`) and never builds an HTTP answer itself. `service_kit.errors.ExceptionHandler` turns an `Invalid`
into a `validation_error` whose `attr` is its `field`, and every other error into a `client_error` with
the class's status code.
"""

from collections.abc import Mapping, Sequence


class ServiceError(Exception):
    """A request the platform's rules refuse, with a machine-readable `code` and a message for people."""

    status_code = 400
    default_code = "invalid"
    default_message = "The request is invalid."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        field: str | None = None,
        details: Mapping[str, Sequence[str]] | None = None,
    ):
        self.message = message or self.default_message
        self.code = code or self.default_code
        self.field = field
        # Further errors of the same code on other fields (`attr` -> messages), answered together.
        self.details = dict(details or {})
        super().__init__(self.message)


class Invalid(ServiceError):
    """400 `validation_error`: a value breaks a rule; `field` names it (None: the request as a whole)."""


class Unauthenticated(ServiceError):
    """401: credentials missing, wrong, or no longer good."""

    status_code = 401
    default_code = "authentication_failed"
    default_message = "Incorrect authentication credentials."


class Forbidden(ServiceError):
    """403: the caller is known but may not do this."""

    status_code = 403
    default_code = "permission_denied"
    default_message = "You do not have permission to perform this action."


class NotFound(ServiceError):
    """404: no such thing, or none the caller may see."""

    status_code = 404
    default_code = "not_found"
    default_message = "Not found."


class Conflict(ServiceError):
    """409: the request conflicts with the current state of the resource."""

    status_code = 409
    default_code = "conflict"
    default_message = "The request conflicts with the current state of the resource."


class Unprocessable(ServiceError):
    """422: well-formed, yet it cannot be done (an idempotency key reused for another request)."""

    status_code = 422
    default_code = "unprocessable"
    default_message = "The request cannot be processed."
