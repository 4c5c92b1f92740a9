"""The error envelope of API.md for responses made outside DRF views (unknown routes, crashes)."""

from django.http import JsonResponse


def error_body(error_type: str, code: str, detail: str, attr: str | None = None) -> dict:
    return {"type": error_type, "errors": [{"code": code, "detail": detail, "attr": attr}]}


def page_not_found(request, exception=None):
    return JsonResponse(error_body("client_error", "not_found", "Not found."), status=404)


def server_error(request):
    return JsonResponse(error_body("server_error", "error", "A server error occurred."), status=500)


def bad_request(request, exception=None):
    return JsonResponse(error_body("client_error", "bad_request", "Bad request."), status=400)


def permission_denied(request, exception=None):
    detail = "You do not have permission to perform this action."
    return JsonResponse(error_body("client_error", "permission_denied", detail), status=403)
