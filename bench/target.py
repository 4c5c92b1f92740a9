"""The stack under test: a private one this run starts and stops, or one already running.

`make bench` starts its own stack exactly as `make up` does (`python -m stack up --detach`, Flower on)
under var/bench with its own ports, so it runs beside a developer's and a test stack. Given the
environment of `python -m stack env` (GATEWAY_URL, *_DATABASE_URL, REDIS_URL, STACK_VAR_DIR,
STACK_PORT_BASE), it measures that stack instead and starts nothing (the tiny test in `make test`).
"""

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ("users", "inventory", "orders", "payments")

# The bench stack: beside `make up` (18000/8080), `make test` (19000/19080) and `make test-compose` (24080).
OWN_STACK_ENV = {
    "VAR_DIR": "var/bench",
    "PORT_BASE": "25000",
    "GATEWAY_PORT": "25080",
    # Throttles and token lifetimes sized for people would otherwise be what is measured.
    "ORDERS_RATE": "1000000/min",
    "JWT_ACCESS_MINUTES": "120",
    # Every buyer registers from this one address.
    "REGISTER_ADDRESS_LIMIT": "1000000",
}


@dataclass
class Target:
    gateway: str
    database_urls: dict[str, str]
    redis_url: str
    var_dir: Path
    port_base: int
    admin_email: str
    admin_password: str
    own: bool

    def stack_env(self) -> dict[str, str]:
        """Environment for `python -m stack ...` on this stack."""
        return {**os.environ, "VAR_DIR": str(self.var_dir), "PORT_BASE": str(self.port_base)}

    def web_port(self, service: str) -> int:
        return self.port_base + 11 + SERVICES.index(service)

    def pg_port(self, service: str) -> int:
        return self.port_base + 21 + SERVICES.index(service)

    def spare_port(self, offset: int) -> int:
        """A port of this stack's range that no supervised process takes (the ceilings' servers)."""
        return self.port_base + 40 + offset

    def superuser_conninfo(self, service: str) -> str | None:
        """The cluster's superuser over its Unix socket (trust): what ALTER SYSTEM and statistics need."""
        link = self.var_dir / "pg"
        if not link.exists():
            return None
        return f"host={link.resolve() / 'run'} port={self.pg_port(service)} user=postgres dbname={service}"

    def supervised(self) -> dict[str, int]:
        """Name and pid of every RUNNING supervised process (`python -m stack ctl status`)."""
        out = stack("ctl", "status", env=self.stack_env(), capture=True, check=False)
        found = {}
        for line in out.splitlines():
            parts = line.split()
            if len(parts) > 3 and parts[1] == "RUNNING" and parts[2] == "pid":
                found[parts[0].split(":")[-1]] = int(parts[3].rstrip(","))
        return found

    @property
    def results_path(self) -> Path:
        if os.environ.get("BENCH_OUT"):
            return Path(os.environ["BENCH_OUT"])
        return self.var_dir / ("results.json" if self.own else "bench-results.json")


def stack(*args: str, env: dict[str, str] | None = None, capture: bool = False, check: bool = True) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "stack", *args], cwd=ROOT, env=env, check=check, text=True, capture_output=capture
    )
    return result.stdout if capture else ""


def from_environment(env: dict[str, str], *, own: bool) -> Target:
    var = Path(env["STACK_VAR_DIR"])
    return Target(
        gateway=env["GATEWAY_URL"].rstrip("/"),
        database_urls={s: env[f"{s.upper()}_DATABASE_URL"] for s in SERVICES},
        redis_url=env["REDIS_URL"],
        var_dir=var if var.is_absolute() else ROOT / var,
        port_base=int(env["STACK_PORT_BASE"]),
        admin_email=env["ADMIN_EMAIL"],
        admin_password=env["ADMIN_PASSWORD"],
        own=own,
    )


def external_requested() -> bool:
    return bool(os.environ.get("GATEWAY_URL") and os.environ.get("STACK_VAR_DIR"))


def parse_exports(text: str) -> dict[str, str]:
    import shlex

    env = {}
    for line in text.splitlines():
        key, _, value = line.removeprefix("export ").partition("=")
        env[key] = shlex.split(value)[0] if value else ""
    return env


@contextlib.contextmanager
def own_stack() -> Iterator[Target]:
    """Start the bench stack the way `make up` does, and always stop it."""
    env = {**os.environ, **OWN_STACK_ENV}
    try:
        stack("up", "--detach", env=env)
        yield from_environment(parse_exports(stack("env", env=env, capture=True)), own=True)
    finally:
        stack("down", env=env, check=False)


def restart_own_stack() -> Target:
    """Down and up again (after a cluster setting that needs a restart), the same way as the first time."""
    env = {**os.environ, **OWN_STACK_ENV}
    stack("down", env=env)
    stack("up", "--detach", env=env)
    return from_environment(parse_exports(stack("env", env=env, capture=True)), own=True)


@contextlib.contextmanager
def target() -> Iterator[Target]:
    if external_requested():
        yield from_environment(dict(os.environ), own=False)
    else:
        with own_stack() as found:
            yield found
