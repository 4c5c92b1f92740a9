"""Permissions shared by the services: staff writes, and scopes of service clients."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from .authentication import ServicePrincipal


class IsStaffOrReadOnly(BasePermission):
    """Anyone reads; only a token with `is_staff` writes."""

    def has_permission(self, request, view):
        if request.method in SAFE_METHODS:
            return True
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)


class HasScope(BasePermission):
    """Only a service client whose token grants every given scope: `permission_classes = [HasScope("a:read")]`.

    A person's token, staff or not, is refused (403): people never reach the internal endpoints.
    DRF instantiates each entry of `permission_classes`; an instance returns itself when called.
    """

    message = "This endpoint is for service clients with the required scope."

    def __init__(self, *scopes: str):
        if not scopes:
            raise ValueError("HasScope needs at least one scope.")
        self.scopes = frozenset(scopes)

    def __call__(self) -> "HasScope":
        return self

    def has_permission(self, request, view):
        principal = request.user
        return isinstance(principal, ServicePrincipal) and self.scopes <= principal.scopes
