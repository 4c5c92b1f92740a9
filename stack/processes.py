"""The platform's process list, defined once: supervisord runs it natively, Compose one container each.

App processes (web, worker, outbox relay, flower) run the same commands with the same environment variable names
everywhere; only the values differ. Infrastructure (PostgreSQL, Redis, nginx) is the machine's own
binaries natively and the official images in Compose.
"""

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from .config import MESSAGING_SERVICES, ROOT, SERVICES, StackConfig

VENV_BIN = Path(os.environ.get("VENV_BIN") or ROOT / ".venv" / "bin")

# Commands of the app processes, with ${NAME} filled from the process's environment.
WEB_COMMAND = [
    "gunicorn", "config.wsgi:application",
    "--bind", "${WEB_BIND}",
    "--workers", "${WEB_WORKERS}",
    "--timeout", "30",
    "--graceful-timeout", "20",
    "--config", "python:service_kit.gunicorn_conf",
    "--name", "${SERVICE_NAME}-web",
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
]  # fmt: skip


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

    def argv(self) -> list[str]:
        """The command with ${NAME} placeholders filled from the process's environment."""
        filled = [re.sub(r"\$\{(\w+)\}", lambda m: self.env[m.group(1)], part) for part in self.command]
        program = filled[0]
        if (VENV_BIN / program).exists():
            filled[0] = str(VENV_BIN / program)
        return filled


def service_env(cfg: StackConfig, service: str) -> dict[str, str]:
    """The environment of every process (web, worker, management command) of one service."""
    env = {
        "SERVICE_NAME": service,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_SECRET_KEY": cfg.secrets[f"secret_key_{service}"],
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_CSRF_TRUSTED_ORIGINS": f"http://127.0.0.1:{cfg.gateway_port},http://localhost:{cfg.gateway_port}",
        "DATABASE_URL": cfg.database_url(service),
        "REDIS_URL": cfg.redis_url,
        "JWT_PUBLIC_KEY_FILE": str(cfg.keys_dir / "jwt_public.pem"),
        "STATIC_ROOT": str(cfg.var / "static" / service),
        "WEB_BIND": f"127.0.0.1:{cfg.web_port(service)}",
        "WEB_WORKERS": os.environ.get("WEB_WORKERS") or "2",
        "WORKER_POOL": os.environ.get("WORKER_POOL") or "threads",
        "WORKER_CONCURRENCY": os.environ.get("WORKER_CONCURRENCY") or "4",
        "WORKER_HOST": "native",
        "PYTHONUNBUFFERED": "1",
        "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
    }
    if service == "users":
        env["JWT_PRIVATE_KEY_FILE"] = str(cfg.keys_dir / "jwt_private.pem")
    if service == "orders":
        # Reconciliation: the other services' own web ports (their /internal/ endpoints, which nginx does not
        # route), and the service client it signs in to users_svc with.
        for other in ("users", "inventory", "payments"):
            env[f"{other.upper()}_INTERNAL_URL"] = f"http://127.0.0.1:{cfg.web_port(other)}"
        env["SERVICE_CLIENT_ID"] = cfg.service_client_id
        env["SERVICE_CLIENT_SECRET"] = cfg.service_client_secret
    return env


def app_processes(cfg: StackConfig) -> list[Process]:
    processes = []
    for service in SERVICES:
        env = service_env(cfg, service)
        directory = ROOT / f"{service}_svc"
        processes.append(Process(f"{service}-web", WEB_COMMAND, env, directory))
        if service not in MESSAGING_SERVICES:
            continue
        # SIGTERM to Celery's main process only: its warm shutdown lets the pool finish the running tasks,
        # where the signal sent to the pool's children too would kill them in the middle of one.
        processes.append(
            Process(f"{service}-worker", WORKER_COMMAND, env, directory, stop_wait=60, stop_as_group=False)
        )
        processes.append(Process(f"{service}-relay", RELAY_COMMAND, env, directory))
    flower_env = {
        "REDIS_URL": cfg.redis_url,
        "FLOWER_ADDRESS": "127.0.0.1",
        "FLOWER_PORT": str(cfg.flower_port),
        "FLOWER_BASIC_AUTH": f"{cfg.flower_user}:{cfg.flower_password}",
        "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
    }
    processes.append(Process("flower", FLOWER_COMMAND, flower_env, ROOT))
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
        )
    )
    processes.append(
        Process(
            "nginx",
            ["nginx", "-p", str(cfg.var / "nginx"), "-c", str(cfg.var / "nginx" / "nginx.conf"), "-g", "daemon off;"],
            stop_signal="QUIT",
            group="edge",
        )
    )
    return processes


def all_processes(cfg: StackConfig) -> list[Process]:
    return infra_processes(cfg) + app_processes(cfg)
