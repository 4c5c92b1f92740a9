"""Per-service staff roles: granted in users_svc's admin, carried in the token's `roles` claim, turned into
Django permissions by each service's admin.

A staff person who is not a superuser enters a service's admin only with a role for that service
(`{"roles": {"orders": "operator"}}` in the access token); inside, the role gives Django's own permissions
on the models of the service's own code and the kit's tables: `viewer` may view them, `operator` may also
add, change and delete them (where the admin allows it at all) and run the admin actions that act through
the service's code (cancel an order, replay a dead letter). The permissions are computed from the claim on
every request, never stored: a role taken away in users_svc is gone at the next renewal of the access
token (minutes), in every service at once.
"""

import os
from functools import cache
from importlib import import_module
from pathlib import Path

from django.apps import apps

from .conf import kit_settings

ROLES_CLAIM = "roles"
# Role -> the Django actions it permits on the service's own models.
ROLES = {"viewer": ("view",), "operator": ("view", "add", "change", "delete")}
ROLE_CHOICES = [
    ("viewer", "viewer: sees the service's admin"),
    ("operator", "operator: also changes rows and runs the admin's actions"),
]


def service_role(token) -> str | None:
    """The role the token gives its holder in this service, if any."""
    roles = token.get(ROLES_CLAIM)
    role = roles.get(kit_settings.SERVICE_NAME) if isinstance(roles, dict) else None
    return role if role in ROLES else None


def _service_dir() -> Path:
    """The service's own folder: the one holding its settings package (orders_svc/ for config.settings)."""
    # Django's own pointer to the settings (an override of settings in tests has no SETTINGS_MODULE).
    return Path(import_module(os.environ["DJANGO_SETTINGS_MODULE"]).__file__).resolve().parents[1]


def _own_app(config, service_dir: Path) -> bool:
    """An app of the service's own code, or the kit's: not Django's nor a library's."""
    return config.name == "service_kit" or Path(config.path).resolve().is_relative_to(service_dir)


@cache
def role_permissions(role: str) -> frozenset[str]:
    """The permissions ("orders.view_order", ...) a role gives on the service's own models."""
    service_dir = _service_dir()
    return frozenset(
        f"{model._meta.app_label}.{action}_{model._meta.model_name}"
        for config in apps.get_app_configs()
        if _own_app(config, service_dir)
        for model in config.get_models()
        for action in ROLES[role]
        if action in model._meta.default_permissions
    )


class ServiceRoleBackend:
    """Django permissions from the role the request's token gave its user (`user.service_role`, set by
    service_kit.signin.StaffFromCookieMiddleware); nothing for anyone else. Authenticates nobody.

    Django's BaseBackend is not subclassed: importing it loads the user model, and users_svc's user model
    module imports this one."""

    def authenticate(self, request, **credentials):
        return None

    def get_user(self, user_id):
        return None

    def get_all_permissions(self, user_obj, obj=None):
        role = getattr(user_obj, "service_role", None)
        if obj is not None or role is None or not user_obj.is_active:
            return set()
        return set(role_permissions(role))

    def has_perm(self, user_obj, perm, obj=None):
        return perm in self.get_all_permissions(user_obj, obj)

    def has_module_perms(self, user_obj, app_label):
        return any(permission.startswith(f"{app_label}.") for permission in self.get_all_permissions(user_obj))
