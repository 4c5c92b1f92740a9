"""Health view: 200 while the database and Redis answer, 503 when one does not."""

import socket

import pytest

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_health_is_ok_when_database_and_redis_answer(api_client):
    response = api_client.get("/api/kit/health/")

    assert response.status_code == 200
    assert response.json() == {"service": "kit", "status": "ok", "checks": {"database": "ok", "redis": "ok"}}


@pytest.mark.parametrize("path", ["/api/kit/health/", "/api/kit/health/ready/"])
def test_health_is_503_when_redis_does_not_answer(api_client, settings, path):
    settings.SERVICE_KIT = {"SERVICE_NAME": "kit", "HEALTH_REDIS_URL": f"redis://127.0.0.1:{closed_port()}/0"}

    response = api_client.get(path)

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"].startswith("down")


def test_health_checks_only_the_database_for_a_service_without_redis(api_client, settings):
    settings.SERVICE_KIT = {"SERVICE_NAME": "quiet", "HEALTH_REDIS_URL": None}

    response = api_client.get("/api/kit/health/")

    assert response.status_code == 200
    assert response.json() == {"service": "quiet", "status": "ok", "checks": {"database": "ok"}}


def test_health_ignores_a_bad_token(api_client):
    response = api_client.get("/api/kit/health/", HTTP_AUTHORIZATION="Bearer not-a-token")

    assert response.status_code == 200


def test_live_answers_without_asking_the_dependencies(api_client, settings):
    settings.SERVICE_KIT = {"SERVICE_NAME": "kit", "HEALTH_REDIS_URL": f"redis://127.0.0.1:{closed_port()}/0"}

    assert api_client.get("/api/kit/health/ready/").status_code == 503
    response = api_client.get("/api/kit/health/live/")
    assert response.status_code == 200
    assert response.json() == {"service": "kit", "status": "ok"}
