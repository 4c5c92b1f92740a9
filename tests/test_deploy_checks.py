"""Production settings pass Django's deployment checks in every service (`manage.py check --deploy`)."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ["users", "inventory", "orders", "payments"]


@pytest.mark.parametrize("service", SERVICES)
def test_production_settings_pass_the_deploy_checks(service, tmp_path):
    env = {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "DJANGO_TLS": "1",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "shop.example.com",
        "JWT_PRIVATE_KEY_FILE": str(tmp_path / "private.pem"),
        "JWT_PUBLIC_KEY_FILE": str(tmp_path / "public.pem"),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT / f"{service}_svc",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("service", SERVICES)
def test_debug_is_off_unless_asked_for(service):
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_DEBUG"}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", "from django.conf import settings; print(settings.DEBUG)"],
        cwd=ROOT / f"{service}_svc",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stdout.strip().splitlines()[-1] == "False", result.stderr
