"""Settings of users_svc: the shared ones from service_kit (built from SERVICE_NAME), then its own."""

from service_kit.settings import *
from service_kit.settings import INSTALLED_APPS, ROOT_DIR, SIMPLE_JWT, env, read_key

# APPS
INSTALLED_APPS = [
    *INSTALLED_APPS,
    "accounts",
    "service_clients",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
]

# AUTHENTICATION
AUTH_USER_MODEL = "accounts.User"

# JWT: users_svc signs with its private key. `manage.py jwt_keys` makes the pair when missing (the stack runs it
# before the web starts); until then the keys read as empty, so that command itself can load these settings.
_KEYS_DIR = ROOT_DIR / "var" / "keys"
JWT_PRIVATE_KEY_FILE = env("JWT_PRIVATE_KEY_FILE", str(_KEYS_DIR / "jwt_private.pem"))
JWT_PUBLIC_KEY_FILE = env("JWT_PUBLIC_KEY_FILE", str(_KEYS_DIR / "jwt_public.pem"))
SIMPLE_JWT = {
    **SIMPLE_JWT,
    "SIGNING_KEY": read_key(JWT_PRIVATE_KEY_FILE) or "",
    "VERIFYING_KEY": read_key(JWT_PUBLIC_KEY_FILE),
    # The signer verifies with its own key, never through a JWKS URL.
    "JWK_URL": None,
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
}
