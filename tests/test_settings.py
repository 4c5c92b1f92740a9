"""Settings load without side effects; users_svc's key pair is made by `manage.py jwt_keys` alone."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ["users", "inventory", "orders", "payments"]


def manage(service: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT / f"{service}_svc",
        env={**{k: v for k, v in os.environ.items() if k != "SERVICE_NAME"}, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("service", SERVICES)
def test_loading_the_settings_writes_no_file_and_changes_no_variable(service, tmp_path):
    keys = {"JWT_PRIVATE_KEY_FILE": str(tmp_path / "keys" / "private.pem")}
    keys["JWT_PUBLIC_KEY_FILE"] = str(tmp_path / "keys" / "public.pem")
    code = (
        "import os; before = dict(os.environ); "
        "from django.conf import settings; settings.INSTALLED_APPS; "
        "print(sorted(set(os.environ.items()) ^ set(before.items())))"
    )
    result = manage(service, "shell", "-c", code, env=keys)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_names_itself_and_the_shared_settings_follow_the_name(service):
    code = (
        "from django.conf import settings as s; "
        "print(s.SERVICE_NAME, s.CELERY_TASK_DEFAULT_QUEUE, s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME, "
        "s.STATIC_URL, s.SPECTACULAR_SETTINGS['TITLE'], s.SERVICE_KIT['SERVICE_NAME'], "
        "s.LOGGING['filters']['context']['service'])"
    )
    result = manage(service, "shell", "-c", code, env={})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == [
        service,
        service,
        f"{service}_sessionid",
        f"{service}_csrftoken",
        f"/static/{service}/",
        f"{service}_svc",
        "API",
        service,
        service,
    ]


def test_the_shared_settings_refuse_to_load_without_a_service_name():
    env = {k: v for k, v in os.environ.items() if k != "SERVICE_NAME"}
    result = subprocess.run(
        [sys.executable, "-c", "import service_kit.settings"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured: SERVICE_NAME is not set" in result.stderr


def test_jwt_keys_makes_the_pair_once_and_the_settings_read_it(tmp_path):
    keys = {"JWT_PRIVATE_KEY_FILE": str(tmp_path / "private.pem"), "JWT_PUBLIC_KEY_FILE": str(tmp_path / "public.pem")}
    assert manage("users", "jwt_keys", env=keys).returncode == 0
    private_pem = (tmp_path / "private.pem").read_text()
    assert manage("users", "jwt_keys", env=keys).returncode == 0
    assert (tmp_path / "private.pem").read_text() == private_pem

    code = (
        "from django.conf import settings; jwt = settings.SIMPLE_JWT; print(jwt['SIGNING_KEY'], jwt['VERIFYING_KEY'])"
    )
    result = manage("users", "shell", "-c", code, env=keys)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith(f"{private_pem} {(tmp_path / 'public.pem').read_text()}".strip())
