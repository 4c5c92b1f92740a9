"""The platform's process list, defined once: supervisord runs it natively, Compose one container each.

App processes (web, worker, outbox relay, flower) run the same commands with the same environment variable names
everywhere; only the values differ. Infrastructure (PostgreSQL, Redis, nginx) is the machine's own
binaries natively and the official images in Compose.
"""

import os
import re
import shutil
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Protocol

from .config import MESSAGING_SERVICES, ROOT, SERVICES, StackConfig

VENV_BIN = Path(os.environ.get("VENV_BIN") or ROOT / ".venv" / "bin")

# Commands of the app processes, with ${NAME} filled from the process's environment. gunicorn names its
# processes "<service>-web" itself (service_kit/gunicorn_conf.py), so the command is the same for every service
# and the one image's CMD (Dockerfile) is this command as it is.
WEB_COMMAND = [
    "gunicorn", "config.wsgi:application",
    "--bind", "${WEB_BIND}",
    "--workers", "${WEB_WORKERS}",
    "--timeout", "30",
    "--graceful-timeout", "20",
    "--config", "python:service_kit.gunicorn_conf",
]  # fmt: skip
WORKER_COMMAND = [
    "celery", "--app", "config", "worker",
    # Its saga messages, and the receipts of the messages it sent (never behind a backlog of the former).
    "--queues", "${SERVICE_NAME},${SERVICE_NAME}.receipts",
    "--hostname", "${SERVICE_NAME}@${WORKER_HOST}",
    "--pool", "${WORKER_POOL}",
    "--concurrency", "${WORKER_CONCURRENCY}",
    "--task-events",
    "--loglevel", "INFO",
]  # fmt: skip
RELAY_COMMAND = ["python", "manage.py", "outbox_relay"]
FLOWER_COMMAND = [
    # monitoring/flower_app.py: the platform's queues, and a list of workers that mends itself.
    "celery", "--app", "monitoring.flower_app", "--broker", "${REDIS_URL}", "flower",
    "--address=${FLOWER_ADDRESS}", "--port=${FLOWER_PORT}",
    "--url_prefix=flower", "--basic_auth=${FLOWER_BASIC_AUTH}",
    # Workers answer `inspect conf` with all their settings: 1 s (the default) is too short for it.
    "--inspect_timeout=5000",
    "--purge_offline_workers=60",
    # The tasks it keeps in memory for its pages (its default: 100,000): each holds ~5 kB (measured: 50 -> 78 MiB
    # of PSS over 5,200 tasks), so Flower grew by half a GiB on a busy day; 10,000 is the last ~1,700 orders.
    "--max_tasks=10000",
]  # fmt: skip

# Debian's Prometheus exporters, natively and in Compose (stack/exporter.Dockerfile installs the same packages):
# Redis, the four PostgreSQL servers (one exporter, a data source each), and nginx's stub_status on its private
# port. Each listens on ${EXPORTER_LISTEN}.
REDIS_EXPORTER_COMMAND = [
    "prometheus-redis-exporter", "-redis.addr=${REDIS_URL}", "-web.listen-address=${EXPORTER_LISTEN}",
]  # fmt: skip
POSTGRES_EXPORTER_COMMAND = [
    "prometheus-postgres-exporter", "--web.listen-address=${EXPORTER_LISTEN}",
    # These two collectors know one server only: with several data sources they answer each figure twice
    # and the scrape fails. The per-server figures (pg_up, pg_stat_database_*, ...) stay, labelled `server`.
    "--no-collector.bgwriter", "--no-collector.database",
]  # fmt: skip
NGINX_EXPORTER_COMMAND = [
    "prometheus-nginx-exporter", "-nginx.scrape-uri=${NGINX_STATUS_URL}", "-web.listen-address=${EXPORTER_LISTEN}",
    # nginx may start after it: wait for it rather than exit.
    "-nginx.retries=30", "-nginx.retry-interval=1s",
]  # fmt: skip

# Prometheus serves its pages under the gateway's /prometheus/ (nginx passes the path as it is, behind the
# staff check).
PROMETHEUS_ROUTE_PREFIX = "/prometheus/"

# Containers only (supervisord checks nothing): the port a web container listens on, and the check of a web
# container, the same for every service's image (its SERVICE_NAME says which health endpoint).
CONTAINER_WEB_PORT = 8000
WEB_HEALTHCHECK = [
    "python", "-c",
    "import os, urllib.request; "
    f"urllib.request.urlopen('http://127.0.0.1:{CONTAINER_WEB_PORT}/api/%s/health/' % os.environ['SERVICE_NAME'], "
    "timeout=4)",
]  # fmt: skip

# The check of a worker or a relay, the same everywhere (service_kit/heartbeat.py): its heartbeat file is fresh.
# Compose's healthchecks, Kubernetes' probes and `python -m stack status` use it.
HEARTBEAT_CHECKS = {role: ["python", "-m", "service_kit.heartbeat", role] for role in ("worker", "relay")}


# What runs once per service before its processes start, natively (`python -m stack up`) and in Compose
# (its migrate container, less collectstatic: the image holds its static files). The staff account lives in
# users_svc alone: the other admins know a person by the platform's sign-in (service_kit.signin).
SETUP_COMMANDS = {
    # jwt_keys first: the signing key pair the web signs with and the other services verify with.
    "users": [
        ["jwt_keys"],
        ["migrate", "--noinput"],
        ["collectstatic", "--noinput"],
        ["ensure_staff"],
        ["ensure_service_client", "--scope", "reconcile:read"],
    ],
    "inventory": [["migrate", "--noinput"], ["collectstatic", "--noinput"], ["seed_demo"]],
    "orders": [["migrate", "--noinput"], ["collectstatic", "--noinput"]],
    "payments": [["migrate", "--noinput"], ["collectstatic", "--noinput"]],
}


@dataclass
class Process:
    name: str
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)
    directory: Path | None = None
    user: str | None = None
    stop_signal: str = "TERM"
    stop_wait: int = 20
    # The stop signal goes to the whole process group, unless the main process stops its children itself.
    stop_as_group: bool = True
    group: str = "app"
    # The service it belongs to (None: the platform's own, as Flower and the infrastructure), and what it does
    # there ("web", "worker", "relay", "flower"): Compose picks a container's image and checks by these.
    service: str | None = None
    role: str | None = None
    # Where Prometheus scrapes it (stack/prometheus.py): the port on the process's address, and the path;
    # None: it serves no metrics.
    metrics_port: int | None = None
    metrics_path: str = "/metrics"

    def argv(self) -> list[str]:
        """The command with ${NAME} placeholders filled from the process's environment."""
        filled = [re.sub(r"\$\{(\w+)\}", lambda m: self.env[m.group(1)], part) for part in self.command]
        program = filled[0]
        if (VENV_BIN / program).exists():
            filled[0] = str(VENV_BIN / program)
        return filled


class Values(Protocol):
    """The values one kind of stack gives the variables of the environment table below.

    NativeValues (here) are 127.0.0.1 ports and var/; ComposeValues (compose.py) are Compose service names and
    interpolations of .env. The variable names come from the table alone, so both stacks share them."""

    def secret_key(self, service: str) -> str: ...
    def allowed_hosts(self, service: str) -> str: ...
    def csrf_trusted_origins(self) -> str: ...
    def database_url(self, service: str) -> str: ...
    def redis_url(self) -> str: ...
    def token_keys(self, service: str) -> dict[str, str]: ...
    def static_root(self, service: str) -> str: ...
    def heartbeat_dir(self) -> str: ...
    def tracing(self) -> dict[str, str]: ...
    def web_bind(self, service: str) -> str: ...
    def tunable(self, name: str, default: str) -> str: ...
    def worker_host(self) -> str: ...
    def internal_url(self, service: str) -> str: ...
    def service_client(self) -> dict[str, str]: ...
    def flower(self) -> dict[str, str]: ...
    def runtime(self) -> dict[str, str]: ...
    def web_port(self, service: str) -> int: ...
    def flower_port(self) -> int: ...
    def metrics(self, process: str, role: str, service: str) -> tuple[dict[str, str], int]: ...
    def exporter_listen(self, process: str) -> tuple[str, int]: ...
    def nginx_status_url(self) -> str: ...


class NativeValues:
    """The native stack's values: everything on 127.0.0.1 at the ports of its StackConfig, files in its var/."""

    def __init__(self, cfg: StackConfig):
        self.cfg = cfg

    def secret_key(self, service: str) -> str:
        return self.cfg.secrets[f"secret_key_{service}"]

    def allowed_hosts(self, service: str) -> str:
        return "127.0.0.1,localhost"

    def csrf_trusted_origins(self) -> str:
        port = self.cfg.gateway_port
        return f"http://127.0.0.1:{port},http://localhost:{port}"

    def database_url(self, service: str) -> str:
        return self.cfg.database_url(service)

    def redis_url(self) -> str:
        return self.cfg.redis_url

    def token_keys(self, service: str) -> dict[str, str]:
        # Every service verifies with the public key file; users_svc also signs with the private one.
        keys = {"JWT_PUBLIC_KEY_FILE": str(self.cfg.keys_dir / "jwt_public.pem")}
        if service == "users":
            keys["JWT_PRIVATE_KEY_FILE"] = str(self.cfg.keys_dir / "jwt_private.pem")
        return keys

    def static_root(self, service: str) -> str:
        return str(self.cfg.var / "static" / service)

    def heartbeat_dir(self) -> str:
        return str(self.cfg.var / "run" / "heartbeats")

    def tracing(self) -> dict[str, str]:
        # Spans as OTLP JSON files under var/<stack>/traces (service_kit/tracing.py), unless an OTLP endpoint
        # (a Jaeger, a collector) is given when the stack starts, and with it where its UI shows a trace.
        endpoint = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "")
        return {
            "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
            "TRACES_DIR": "" if endpoint else str(self.cfg.var / "traces"),
            "TRACE_UI_URL": os.environ.get("TRACE_UI_URL", ""),
        }

    def web_bind(self, service: str) -> str:
        return f"127.0.0.1:{self.cfg.web_port(service)}"

    def tunable(self, name: str, default: str) -> str:
        return os.environ.get(name) or default

    def worker_host(self) -> str:
        return "native"

    def internal_url(self, service: str) -> str:
        # The service's own web port: its /internal/ endpoints, which nginx does not route.
        return f"http://127.0.0.1:{self.cfg.web_port(service)}"

    def service_client(self) -> dict[str, str]:
        return {
            "SERVICE_CLIENT_ID": self.cfg.service_client_id,
            "SERVICE_CLIENT_SECRET": self.cfg.service_client_secret,
        }

    def flower(self) -> dict[str, str]:
        return {
            "FLOWER_ADDRESS": "127.0.0.1",
            "FLOWER_PORT": str(self.cfg.flower_port),
            "FLOWER_BASIC_AUTH": f"{self.cfg.flower_user}:{self.cfg.flower_password}",
        }

    def runtime(self) -> dict[str, str]:
        # An image's own PATH finds its programs; natively, the virtual environment's come first.
        return {"PATH": f"{VENV_BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}"}

    def web_port(self, service: str) -> int:
        return self.cfg.web_port(service)

    def flower_port(self) -> int:
        return self.cfg.flower_port

    def metrics(self, process: str, role: str, service: str) -> tuple[dict[str, str], int]:
        # Each process group its own folder under var/metrics, emptied as it starts (service_kit/metrics.py).
        env = {"PROMETHEUS_MULTIPROC_DIR": str(self.cfg.metrics_dir / process)}
        if role == "web":
            return env, self.cfg.web_port(service)
        port = self.cfg.metrics_port(role, service)
        return {**env, "METRICS_ADDRESS": "127.0.0.1", "METRICS_PORT": str(port)}, port

    def exporter_listen(self, process: str) -> tuple[str, int]:
        port = self.cfg.exporter_port(process)
        return f"127.0.0.1:{port}", port

    def nginx_status_url(self) -> str:
        return f"http://127.0.0.1:{self.cfg.nginx_status_port}/stub_status"


def service_env(values: Values, service: str) -> dict[str, str]:
    """The environment of every process (web, worker, management command) of one service, on either stack."""
    env = {
        "SERVICE_NAME": service,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_SECRET_KEY": values.secret_key(service),
        "DJANGO_ALLOWED_HOSTS": values.allowed_hosts(service),
        "DJANGO_CSRF_TRUSTED_ORIGINS": values.csrf_trusted_origins(),
        "DATABASE_URL": values.database_url(service),
        "REDIS_URL": values.redis_url(),
        **values.token_keys(service),
        "STATIC_ROOT": values.static_root(service),
        "HEARTBEAT_DIR": values.heartbeat_dir(),
        **values.tracing(),
        # The share of new traces recorded (service_kit/tracing.py): every order's by default.
        "OTEL_TRACES_SAMPLER_ARG": values.tunable("OTEL_TRACES_SAMPLER_ARG", "1"),
        "WEB_BIND": values.web_bind(service),
        "WEB_WORKERS": values.tunable("WEB_WORKERS", "2"),
        # One task at a time in the worker's own loop (Celery's solo pool): measured against 4 threads, same
        # run, 8 orders/s, CPU per order -15 % (workers -21 %); more work in parallel is more worker processes.
        "WORKER_POOL": values.tunable("WORKER_POOL", "solo"),
        "WORKER_CONCURRENCY": values.tunable("WORKER_CONCURRENCY", "1"),
        "WORKER_HOST": values.worker_host(),
        "PYTHONUNBUFFERED": "1",
        **values.runtime(),
    }
    if service == "orders":
        # Reconciliation: the other services' internal endpoints, and the service client it signs in to users_svc
        # with.
        for other in ("users", "inventory", "payments"):
            env[f"{other.upper()}_INTERNAL_URL"] = values.internal_url(other)
        env.update(values.service_client())
    return env


def flower_env(values: Values) -> dict[str, str]:
    return {"REDIS_URL": values.redis_url(), **values.flower(), **values.runtime()}


def service_process(values: Values, service: str, role: str, command: list[str], **options) -> Process:
    """One process of a service (web, worker, relay): the service's environment, and where its metrics go."""
    name = f"{service}-{role}"
    metrics_env, port = values.metrics(name, role, service)
    env = {**service_env(values, service), **metrics_env}
    return Process(
        name, command, env, ROOT / f"{service}_svc", service=service, role=role, metrics_port=port, **options
    )


def exporter_processes(values: Values) -> list[Process]:
    """Redis's, PostgreSQL's and nginx's exporters: what the platform's own metrics do not see. Natively, in
    Compose and in Kubernetes (stack/kubernetes.py: nginx's beside nginx in each gateway pod)."""
    # lib/pq, the exporter's driver, asks for TLS unless told: the servers are on a private network.
    sources = ",".join(f"{values.database_url(service)}?sslmode=disable" for service in SERVICES)
    variables = {
        "redis-exporter": (REDIS_EXPORTER_COMMAND, {"REDIS_URL": values.redis_url()}),
        "postgres-exporter": (POSTGRES_EXPORTER_COMMAND, {"DATA_SOURCE_NAME": sources}),
        "nginx-exporter": (NGINX_EXPORTER_COMMAND, {"NGINX_STATUS_URL": values.nginx_status_url()}),
    }
    processes = []
    for name, (command, env) in variables.items():
        listen, port = values.exporter_listen(name)
        env = {**env, "EXPORTER_LISTEN": listen, **values.runtime()}
        processes.append(Process(name, command, env, ROOT, role="exporter", metrics_port=port))
    return processes


def app_processes(values: Values) -> list[Process]:
    processes = []
    for service in SERVICES:
        process = partial(service_process, values, service)
        processes.append(process("web", WEB_COMMAND))
        if service not in MESSAGING_SERVICES:
            continue
        # SIGTERM to Celery's main process only: its warm shutdown lets the pool finish the running tasks,
        # where the signal sent to the pool's children too would kill them in the middle of one.
        processes.append(process("worker", WORKER_COMMAND, stop_wait=60, stop_as_group=False))
        processes.append(process("relay", RELAY_COMMAND))
    # Flower's own /metrics (Celery's tasks and workers), which it serves without its basic auth: nginx
    # does not route it.
    processes.append(
        Process(
            "flower", FLOWER_COMMAND, flower_env(values), ROOT, role="flower",
            metrics_port=values.flower_port(), metrics_path="/flower/metrics",
        )
    )  # fmt: skip
    return processes


def postgres_bin(program: str) -> str:
    """A PostgreSQL server binary: Debian keeps them under /usr/lib/postgresql/<version>/bin."""
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{program}"), key=lambda p: int(p.parent.parent.name))
    if found:
        return str(found[-1])
    return shutil.which(program) or program


def run_as() -> str | None:
    """PostgreSQL refuses to run as root; as root its processes run as the postgres user."""
    return "postgres" if os.geteuid() == 0 else None


def infra_processes(cfg: StackConfig) -> list[Process]:
    processes = [
        Process(
            f"pg-{service}",
            [
                postgres_bin("postgres"),
                "-D",
                str(cfg.pg_data(service)),
                "-p",
                str(cfg.pg_port(service)),
                "-k",
                str(cfg.pg_socket_dir),
                "-c",
                "listen_addresses=127.0.0.1",
                # Statement statistics for operators and `make bench` (round trips per order).
                "-c",
                "shared_preload_libraries=pg_stat_statements",
            ],
            # Its own folder, which the PostgreSQL user can enter (the clone may be in a closed home folder).
            directory=cfg.pg_data(service),
            user=run_as(),
            stop_signal="INT",
            stop_wait=30,
            group="infra",
            service=service,
            role="postgres",
        )
        for service in SERVICES
    ]
    processes.append(
        Process(
            "redis",
            [
                "redis-server",
                "--port",
                str(cfg.redis_port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(cfg.var / "redis"),
                "--appendonly",
                "yes",
                "--save",
                "",
                "--daemonize",
                "no",
                "--logfile",
                "",
            ],
            group="infra",
            role="redis",
        )
    )
    processes.append(
        Process(
            "nginx",
            ["nginx", "-p", str(cfg.var / "nginx"), "-c", str(cfg.var / "nginx" / "nginx.conf"), "-g", "daemon off;"],
            stop_signal="QUIT",
            group="edge",
            role="nginx",
        )
    )
    return processes


def prometheus_arguments(
    *, config_file: str, data_dir: str, listen: str, external_url: str, retention_size: str | None = None
) -> list[str]:
    """Prometheus's options on every stack (natively, in Compose, in Kubernetes): a week of data (and no more than
    `retention_size`, where its volume is of a fixed size), served under the gateway's /prometheus/."""
    size = [f"--storage.tsdb.retention.size={retention_size}"] if retention_size else []
    return [
        f"--config.file={config_file}",
        f"--storage.tsdb.path={data_dir}",
        "--storage.tsdb.retention.time=7d",
        *size,
        f"--web.listen-address={listen}",
        f"--web.external-url={external_url}",
        f"--web.route-prefix={PROMETHEUS_ROUTE_PREFIX}",
    ]


def prometheus_process(cfg: StackConfig) -> Process:
    """Debian's Prometheus, its configuration written by `python -m stack up` (stack/prometheus.py)."""
    return Process(
        "prometheus",
        [
            "prometheus",
            *prometheus_arguments(
                config_file=str(cfg.prometheus_dir / "prometheus.yml"),
                data_dir=str(cfg.prometheus_dir / "data"),
                listen=f"127.0.0.1:{cfg.prometheus_port}",
                external_url=f"{cfg.gateway_url}{PROMETHEUS_ROUTE_PREFIX}",
            ),
        ],
        directory=cfg.prometheus_dir,
        group="edge",
        role="prometheus",
    )


def all_processes(cfg: StackConfig) -> list[Process]:
    values = NativeValues(cfg)
    return infra_processes(cfg) + app_processes(values) + exporter_processes(values) + [prometheus_process(cfg)]
