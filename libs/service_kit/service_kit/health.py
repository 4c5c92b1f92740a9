"""Health of a web process, as Kubernetes and Compose ask it: live and ready.

`health/live/`: the process answers requests (no dependency is asked, so a database outage does not get
every web process restarted). `health/ready/` (and `health/`, its older name): the database, and Redis
where the service uses it, answer: 200, else 503 with which one did not.
"""

import redis
from django.db import connection
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from .conf import kit_settings


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def check_redis() -> None:
    client = redis.Redis.from_url(kit_settings.HEALTH_REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
    try:
        client.ping()
    finally:
        client.close()


def run_checks() -> dict[str, str]:
    checks = {"database": check_database}
    if kit_settings.HEALTH_REDIS_URL:
        checks["redis"] = check_redis
    results = {}
    for name, check in checks.items():
        try:
            check()
        except Exception as exc:  # any failure of a dependency means "down"
            results[name] = f"down: {exc.__class__.__name__}"
        else:
            results[name] = "ok"
    return results


class HealthSerializer(serializers.Serializer):
    service = serializers.CharField()
    status = serializers.CharField()
    checks = serializers.DictField(child=serializers.CharField())


class LiveSerializer(serializers.Serializer):
    service = serializers.CharField()
    status = serializers.CharField()


class LiveView(generics.GenericAPIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    serializer_class = LiveSerializer

    @extend_schema(responses={200: LiveSerializer})
    def get(self, request):
        return Response({"service": kit_settings.SERVICE_NAME, "status": "ok"})


class HealthView(generics.GenericAPIView):
    """Ready: every dependency of the service answers."""

    authentication_classes = []
    permission_classes = [AllowAny]
    serializer_class = HealthSerializer

    @extend_schema(responses={200: HealthSerializer, 503: HealthSerializer})
    def get(self, request):
        checks = run_checks()
        healthy = all(value == "ok" for value in checks.values())
        body = {"service": kit_settings.SERVICE_NAME, "status": "ok" if healthy else "down", "checks": checks}
        return Response(body, status=200 if healthy else 503)
