"""Settings of users_svc: the shared ones from service_kit, then its own."""

from pathlib import Path

from accounts.keys import signing_keys_ensure
from service_kit.defaults import env, jwt_settings, service_settings

BASE_DIR = Path(__file__).resolve().parent.parent

# GENERAL
globals().update(service_settings(name="users", base_dir=BASE_DIR, apps=["accounts", "service_clients"]))

# APPS
INSTALLED_APPS = [*INSTALLED_APPS, "rest_framework_simplejwt", "rest_framework_simplejwt.token_blacklist"]  # noqa: F821

# AUTHENTICATION
AUTH_USER_MODEL = "accounts.User"

# JWT: users_svc signs with its private key; the key pair is made on first start when missing.
_KEYS_DIR = BASE_DIR.parent / "var" / "keys"
JWT_PRIVATE_KEY_FILE = env("JWT_PRIVATE_KEY_FILE", str(_KEYS_DIR / "jwt_private.pem"))
JWT_PUBLIC_KEY_FILE = env("JWT_PUBLIC_KEY_FILE", str(_KEYS_DIR / "jwt_public.pem"))
_PRIVATE_KEY, _PUBLIC_KEY = signing_keys_ensure(private_path=JWT_PRIVATE_KEY_FILE, public_path=JWT_PUBLIC_KEY_FILE)
SIMPLE_JWT = {
    **jwt_settings(signing_key=_PRIVATE_KEY),
    "VERIFYING_KEY": _PUBLIC_KEY,
    # The signer verifies with its own key, never through a JWKS URL.
    "JWK_URL": None,
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
}
