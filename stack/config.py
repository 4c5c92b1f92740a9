"""Where a native stack lives and which ports it takes, derived from a few environment variables.

VAR_DIR (default var/) holds everything a stack writes; PORT_BASE moves all private ports at once, so
a test stack (var/test, PORT_BASE=19000) runs beside a developer's stack without clashing.
"""

import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ("users", "inventory", "orders", "payments")
# The services that send and receive messages: only they run a Celery worker and an outbox relay.
MESSAGING_SERVICES = ("inventory", "orders", "payments")


@dataclass(frozen=True)
class StackConfig:
    var: Path
    port_base: int
    gateway_port: int

    @classmethod
    def from_env(cls) -> "StackConfig":
        var = Path(os.environ.get("VAR_DIR") or ROOT / "var")
        if not var.is_absolute():
            var = ROOT / var
        return cls(
            var=var,
            port_base=int(os.environ.get("PORT_BASE") or 18000),
            gateway_port=int(os.environ.get("GATEWAY_PORT") or 8080),
        )

    # PORTS
    def web_port(self, service: str) -> int:
        return self.port_base + 11 + SERVICES.index(service)

    def pg_port(self, service: str) -> int:
        return self.port_base + 21 + SERVICES.index(service)

    @property
    def flower_port(self) -> int:
        return self.port_base + 15

    @property
    def redis_port(self) -> int:
        return self.port_base + 31

    def metrics_port(self, role: str, service: str) -> int:
        """The /metrics port of a service's worker (71-74) or relay (81-84); the web's is its own port. (40-49 are
        the bench's.)"""
        return self.port_base + {"worker": 71, "relay": 81}[role] + SERVICES.index(service)

    @property
    def prometheus_port(self) -> int:
        return self.port_base + 60

    def exporter_port(self, name: str) -> int:
        return self.port_base + {"redis-exporter": 61, "postgres-exporter": 62, "nginx-exporter": 63}[name]

    @property
    def nginx_status_port(self) -> int:
        """nginx's stub_status, for its exporter only."""
        return self.port_base + 64

    # URLS
    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    def database_url(self, service: str) -> str:
        password = self.secrets[f"db_password_{service}"]
        return f"postgres://{service}:{password}@127.0.0.1:{self.pg_port(service)}/{service}"

    # PATHS
    @property
    def run_dir(self) -> Path:
        return self.var / "run"

    @property
    def log_dir(self) -> Path:
        return self.var / "log"

    @property
    def keys_dir(self) -> Path:
        return self.var / "keys"

    @property
    def pg_link(self) -> Path:
        """var/pg: the clusters' folder, or a link to it where the PostgreSQL user cannot enter var/."""
        return self.var / "pg"

    @property
    def pg_elsewhere(self) -> Path:
        """Where the clusters live when var/ is closed to the PostgreSQL user (a clone in /root, mode 0700):
        a folder of their own per stack, named after this stack's var/ so two stacks never share one."""
        digest = hashlib.sha256(str(self.var).encode()).hexdigest()[:12]
        return Path(os.environ.get("PG_ELSEWHERE_ROOT") or "/var/lib/shop-platform") / f"pg-{digest}"

    def pg_data(self, service: str) -> Path:
        # Resolved, so PostgreSQL never walks through var/ to reach a relocated cluster.
        return self.pg_link.resolve() / service

    @property
    def pg_socket_dir(self) -> Path:
        return self.pg_link.resolve() / "run"

    @property
    def metrics_dir(self) -> Path:
        return self.var / "metrics"

    @property
    def prometheus_dir(self) -> Path:
        return self.var / "prometheus"

    @property
    def supervisor_conf(self) -> Path:
        return self.var / "supervisord.conf"

    # CREDENTIALS: made once per stack, kept in var/secrets.json (mode 0600), overridable by environment.
    @cached_property
    def secrets(self) -> dict[str, str]:
        path = self.var / "secrets.json"
        stored = json.loads(path.read_text()) if path.exists() else {}
        wanted = {f"db_password_{s}" for s in SERVICES} | {f"secret_key_{s}" for s in SERVICES}
        wanted |= {"admin_password", "flower_password", "service_client_secret"}
        missing = wanted - stored.keys()
        if missing:
            stored.update({name: secrets.token_urlsafe(24) for name in missing})
            self.var.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(json.dumps(stored, indent=2))
        return stored

    @property
    def admin_email(self) -> str:
        return os.environ.get("ADMIN_EMAIL") or "admin@example.com"

    @property
    def admin_password(self) -> str:
        return os.environ.get("ADMIN_PASSWORD") or self.secrets["admin_password"]

    # The service client orders_svc signs in to users_svc with (client credentials, for reconciliation).
    @property
    def service_client_id(self) -> str:
        return os.environ.get("SERVICE_CLIENT_ID") or "orders-reconciler"

    @property
    def service_client_secret(self) -> str:
        return os.environ.get("SERVICE_CLIENT_SECRET") or self.secrets["service_client_secret"]

    @property
    def flower_user(self) -> str:
        return os.environ.get("FLOWER_USER") or "flower"

    @property
    def flower_password(self) -> str:
        return os.environ.get("FLOWER_PASSWORD") or self.secrets["flower_password"]
