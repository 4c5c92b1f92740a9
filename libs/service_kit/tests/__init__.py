"""The kit's own tests, run against a minimal Django project named "kit" (SERVICE_NAME, as a service's
config/__init__.py names it)."""

import os

os.environ.setdefault("SERVICE_NAME", "kit")
