"""`python -m stack up|down|status|ctl|env|compose`: run the native stack under supervisord.

up      set up what is missing (clusters, roles, migrations, static files, staff, demo data),
        start every process, wait until the gateway answers, print the URLs and credentials;
        without --detach, Ctrl-C stops everything.
down    stop every process and supervisord.
ctl     supervisorctl on this stack (`python -m stack ctl stop orders-worker`).
env     shell exports for tests (GATEWAY_URL, ADMIN_EMAIL, ...).
manage  a management command of one service with its processes' environment
        (`python -m stack manage orders reconcile`).
compose print docker-compose.yml, generated from the same process list (--prometheus: its Prometheus configuration).
redeploy    one service's new code, while the rest runs and orders flow: its set-up commands (migrations),
        then its web reloaded by gunicorn (HUP: new workers, the old ones finish their requests), its relay
        (ends its sweep) and worker (warm shutdown: finishes its tasks) restarted
        (`python -m stack redeploy orders`).
kubernetes  write deploy/kubernetes/ (kustomize base and overlays), generated from the same process list.
"""

import argparse
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import compose, kubernetes, prometheus, render
from .config import MESSAGING_SERVICES, ROOT, SERVICES, StackConfig
from .processes import (
    HEARTBEAT_CHECKS,
    SETUP_COMMANDS,
    VENV_BIN,
    NativeValues,
    all_processes,
    app_processes,
    postgres_bin,
    run_as,
    service_env,
)


def pg_user_can_enter(user: str, folder: Path) -> bool:
    return subprocess.run(["runuser", "-u", user, "--", "test", "-x", str(folder)]).returncode == 0


def process_alive(pid: int) -> bool:
    """Running, not merely not yet reaped: a zombie (where PID 1 reaps nothing, in a container) has exited."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")


def children(pid: int) -> set[int]:
    """The pids of a process's children (gunicorn's workers, of its master)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if int(fields[1]) == pid and fields[0] not in ("Z", "X"):
            found.add(int(stat.parent.name))
    return found


def log(message: str) -> None:
    print(f"[stack] {message}", flush=True)


def run(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(argv, check=True, **kwargs)


def as_pg(argv: list[str]) -> list[str]:
    user = run_as()
    return ["runuser", "-u", user, "--", *argv] if user else argv


class Stack:
    def __init__(self, cfg: StackConfig):
        self.cfg = cfg

    # SUPERVISORD
    def ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        argv = [str(VENV_BIN / "supervisorctl"), "-c", str(self.cfg.supervisor_conf), *args]
        return subprocess.run(argv, check=check, capture_output=True, text=True)

    def supervisord_running(self) -> bool:
        pidfile = self.cfg.run_dir / "supervisord.pid"
        if not pidfile.exists():
            return False
        try:
            if not process_alive(int(pidfile.read_text().strip())):
                return False
        except ValueError:
            return False
        return self.ctl("pid", check=False).returncode == 0

    def start(self, *names: str) -> None:
        result = self.ctl("start", *names, check=False)
        failed = [line for line in result.stdout.splitlines() if "ERROR" in line and "already started" not in line]
        if failed:
            raise SystemExit("could not start: " + "; ".join(failed) + f" (see {self.cfg.log_dir})")

    # FILES
    def prepare_dirs(self) -> None:
        cfg = self.cfg
        folders = (cfg.run_dir, cfg.log_dir, cfg.keys_dir, cfg.var / "redis", cfg.var / "nginx" / "tmp")
        for folder in (*folders, cfg.metrics_dir, cfg.prometheus_dir / "data"):
            folder.mkdir(parents=True, exist_ok=True)
        self.prepare_pg_dir()
        cfg.supervisor_conf.write_text(render.supervisor_conf(cfg))
        (cfg.prometheus_dir / "prometheus.yml").write_text(prometheus.native_config(cfg, all_processes(cfg)))
        (cfg.var / "nginx" / "nginx.conf").write_text(render.nginx_conf(cfg))

    def prepare_pg_dir(self) -> None:
        """var/pg for the clusters, owned by the PostgreSQL user, who must be able to reach it.

        As root, PostgreSQL runs as `postgres`, which cannot enter a clone in a closed home folder
        (/root is mode 0700). There the clusters live in a folder of their own outside the clone,
        and var/pg links to it; a new stack (no var/pg yet) starts that folder anew."""
        cfg, user = self.cfg, run_as()
        link = cfg.pg_link
        if user and not link.exists() and (link.is_symlink() or not pg_user_can_enter(user, cfg.var)):
            target = cfg.pg_elsewhere
            log(
                f"PostgreSQL runs as {user}, who cannot enter {cfg.var} (a folder above it is closed to other "
                f"users): its clusters live in {target}, linked from {link}"
            )
            if not link.is_symlink():
                shutil.rmtree(target, ignore_errors=True)  # left by an earlier stack of the same var/
                link.symlink_to(target)
            target.mkdir(parents=True, exist_ok=True)
            os.chmod(target, 0o700)
        link.mkdir(parents=True, exist_ok=True)
        cfg.pg_socket_dir.mkdir(parents=True, exist_ok=True)
        if user:
            run(["chown", user, str(cfg.pg_socket_dir), str(link.resolve())])
            if not pg_user_can_enter(user, link.resolve()):
                raise SystemExit(
                    f"PostgreSQL runs as {user}, who cannot enter {link.resolve()}: a folder above it is closed "
                    f"to other users. Remove {link} (a new one is made where {user} can reach it), or clone "
                    "the project into a folder other users may enter."
                )

    def init_clusters(self) -> None:
        for service in SERVICES:
            data = self.cfg.pg_data(service)
            if (data / "PG_VERSION").exists():
                continue
            log(f"initdb {data}")
            data.mkdir(parents=True, exist_ok=True)
            if run_as():
                run(["chown", run_as(), str(data)])
            run(
                as_pg([postgres_bin("initdb"), "-D", str(data), "-U", "postgres", "--auth-local=trust",
                       "--auth-host=scram-sha-256", "--encoding=UTF8", "--locale=C.UTF-8"]),
                stdout=subprocess.DEVNULL,
            )  # fmt: skip

    def wait_postgres(self, service: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        argv = as_pg([postgres_bin("pg_isready"), "-q", "-h", str(self.cfg.pg_socket_dir),
                      "-p", str(self.cfg.pg_port(service))])  # fmt: skip
        while subprocess.run(argv).returncode != 0:
            if time.monotonic() > deadline:
                raise SystemExit(f"PostgreSQL of {service} did not start; see {self.cfg.log_dir}/pg-{service}.log")
            time.sleep(0.3)

    def ensure_database(self, service: str) -> None:
        password = self.cfg.secrets[f"db_password_{service}"]
        psql = as_pg([postgres_bin("psql"), "-q", "-v", "ON_ERROR_STOP=1", "-h", str(self.cfg.pg_socket_dir),
                      "-p", str(self.cfg.pg_port(service)), "-U", "postgres", "-d", "postgres"])  # fmt: skip
        role = f"""
            SELECT 'CREATE ROLE {service} LOGIN CREATEDB'
            WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{service}') \\gexec
            ALTER ROLE {service} PASSWORD '{password}';
            SELECT 'CREATE DATABASE {service} OWNER {service}'
            WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '{service}') \\gexec
        """
        run(psql, input=role, text=True, stdout=subprocess.DEVNULL)

    def wait_tcp(self, name: str, port: int, timeout: float = 30) -> None:
        import socket

        deadline = time.monotonic() + timeout
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit(f"{name} did not open port {port}; see {self.cfg.log_dir}/{name}.log") from None
                time.sleep(0.2)

    def setup_env(self, service: str) -> dict[str, str]:
        """A service's environment plus what its set-up commands need: the staff account, the service client."""
        env = {**os.environ, **service_env(NativeValues(self.cfg), service)}
        env.update(ADMIN_EMAIL=self.cfg.admin_email, ADMIN_PASSWORD=self.cfg.admin_password)
        env.update(SERVICE_CLIENT_ID=self.cfg.service_client_id, SERVICE_CLIENT_SECRET=self.cfg.service_client_secret)
        return env

    def manage_command(self, service: str, args: list[str]) -> int:
        """`manage.py <args>` of one service, its output passed through; the exit status."""
        argv = [str(VENV_BIN / "python"), "manage.py", *args]
        env = {**os.environ, **service_env(NativeValues(self.cfg), service)}
        return subprocess.run(argv, cwd=ROOT / f"{service}_svc", env=env).returncode

    def manage(self, service: str, args: list[str]) -> None:
        env = self.setup_env(service)
        logfile = self.cfg.log_dir / f"{service}-setup.log"
        with logfile.open("a") as out:
            result = subprocess.run(
                [str(VENV_BIN / "python"), "manage.py", *args], cwd=ROOT / f"{service}_svc", env=env,
                stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        if result.returncode != 0:
            raise SystemExit(f"{service}: manage.py {' '.join(args)} failed; see {logfile}")

    def setup_service(self, service: str) -> None:
        for args in SETUP_COMMANDS[service]:
            self.manage(service, args)

    def wait_healthy(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        pending = list(SERVICES)
        while pending:
            service = pending[0]
            try:
                with urllib.request.urlopen(f"{self.cfg.gateway_url}/api/{service}/health/", timeout=5) as response:
                    if response.status == 200:
                        pending.pop(0)
                        continue
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"{service} is not healthy through the gateway; see {self.cfg.log_dir}")
            time.sleep(0.5)

    def pid(self, name: str) -> int:
        output = self.ctl("pid", name, check=False).stdout.strip()
        if not output.isdigit() or int(output) == 0:
            raise SystemExit(f"{name} is not running (python -m stack status)")
        return int(output)

    def web_ready(self, service: str) -> bool:
        url = f"http://127.0.0.1:{self.cfg.web_port(service)}/api/{service}/health/ready/"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def reload_web(self, service: str, timeout: float = 90) -> None:
        """gunicorn's graceful reload (HUP): its master keeps the listening socket, starts new workers on the new
        code and stops the old ones once they have answered what they were serving, so no connection is refused
        (one may wait in the socket's backlog while the new workers load). Done when none of the old is left,
        the new ones are all there and the service answers ready."""
        name = f"app:{service}-web"  # supervisord's name: group and program
        master = self.pid(name)
        old = children(master)
        self.ctl("signal", "HUP", name)
        deadline = time.monotonic() + timeout
        while True:
            current = children(master)
            if not current & old and len(current) >= len(old) and self.web_ready(service):
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"{name}: the reload did not finish in {timeout:.0f} s; see {self.cfg.log_dir}")
            time.sleep(0.2)
        if self.pid(name) != master:
            raise SystemExit(f"{name}: its master restarted during the reload; see {self.cfg.log_dir}")

    def restart(self, name: str) -> None:
        """supervisord's stop (the process's stop signal, waiting up to its stop time), then start."""
        result = self.ctl("restart", name, check=False)
        if "ERROR" in result.stdout or result.returncode != 0:
            raise SystemExit(f"{name}: restart failed: {result.stdout.strip()} {result.stderr.strip()}")

    def heartbeats(self) -> str:
        """Each worker's and relay's readiness, from the heartbeat files its checks read (service_kit/heartbeat.py)."""
        from service_kit.heartbeat import check

        lines = []
        for process in app_processes(NativeValues(self.cfg)):
            if process.role in HEARTBEAT_CHECKS:
                _, line = check(process.role, service=process.service, directory=process.env["HEARTBEAT_DIR"])
                lines.append(f"{process.name:<32} {line}\n")
        return "".join(lines)

    def redeploy(self, service: str) -> dict[str, float]:
        """One service's new code while everything else runs; the seconds each step took."""
        if not self.supervisord_running():
            raise SystemExit("the stack is not running (python -m stack up --detach)")
        steps = {"set-up": lambda: self.setup_service(service), "web": lambda: self.reload_web(service)}
        if service in MESSAGING_SERVICES:
            # The relay ends its sweep on TERM; the worker's warm shutdown finishes the tasks it runs, and what it
            # had fetched but not started goes back to the queue (acks late), for the new worker.
            steps["relay"] = lambda: self.restart(f"app:{service}-relay")
            steps["worker"] = lambda: self.restart(f"app:{service}-worker")
        took = {}
        for step, action in steps.items():
            started = time.monotonic()
            action()
            took[step] = round(time.monotonic() - started, 2)
            log(f"{service}: {step} in {took[step]} s")
        return took

    # COMMANDS
    def up(self) -> None:
        started = time.monotonic()
        self.prepare_dirs()
        self.init_clusters()
        if not self.supervisord_running():
            run([str(VENV_BIN / "supervisord"), "-c", str(self.cfg.supervisor_conf)])
        else:
            self.ctl("reread")
            self.ctl("update")
        self.start("infra:*")
        for service in SERVICES:
            self.wait_postgres(service)
            self.ensure_database(service)
        self.wait_tcp("redis", self.cfg.redis_port)
        log("migrating, collecting static files, seeding")
        self.setup_service("users")  # first: `jwt_keys` makes the key pair the others verify with
        with ThreadPoolExecutor(max_workers=3) as pool:
            list(pool.map(self.setup_service, SERVICES[1:]))
        self.start("app:*", "edge:*")
        self.wait_healthy()
        log(f"up in {time.monotonic() - started:.1f} s")
        self.print_summary()

    def down(self) -> None:
        if not self.supervisord_running():
            log("not running")
            return
        pid = int((self.cfg.run_dir / "supervisord.pid").read_text())
        self.ctl("stop", "edge:*", "app:*", check=False)
        self.ctl("shutdown", check=False)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if not process_alive(pid):
                log("stopped")
                return
            time.sleep(0.3)
        raise SystemExit("supervisord did not stop in time")

    def print_summary(self) -> None:
        url = self.cfg.gateway_url
        lines = [
            f"gateway        {url}",
            *(f"{s + ' API':<14} {url}/api/{s}/   docs {url}/api/{s}/docs/   admin {url}/admin/{s}/" for s in SERVICES),
            f"flower         {url}/flower/   ({self.cfg.flower_user} / {self.cfg.flower_password})",
            f"prometheus     {url}/prometheus/   (signed in as staff)",
            f"staff account  {self.cfg.admin_email} / {self.cfg.admin_password}",
            f"logs           {self.cfg.log_dir}",
            f"processes      python -m stack ctl status   (VAR_DIR={self.cfg.var})",
        ]
        print("\n".join(lines), flush=True)

    def shell_env(self) -> str:
        values = {
            "GATEWAY_URL": self.cfg.gateway_url,
            "ADMIN_EMAIL": self.cfg.admin_email,
            "ADMIN_PASSWORD": self.cfg.admin_password,
            "FLOWER_USER": self.cfg.flower_user,
            "FLOWER_PASSWORD": self.cfg.flower_password,
            "STACK_VAR_DIR": str(self.cfg.var),
            "STACK_PORT_BASE": str(self.cfg.port_base),
        }
        for service in SERVICES:
            values[f"{service.upper()}_DATABASE_URL"] = self.cfg.database_url(service)
        values["REDIS_URL"] = self.cfg.redis_url
        values["PROMETHEUS_URL"] = f"http://127.0.0.1:{self.cfg.prometheus_port}/prometheus"
        return "\n".join(f"export {key}={shlex.quote(value)}" for key, value in values.items())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m stack", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up")
    up.add_argument("--detach", action="store_true", help="leave the stack running in the background")
    sub.add_parser("down")
    sub.add_parser("status")
    sub.add_parser("env")
    compose_parser = sub.add_parser("compose")
    compose_parser.add_argument(
        "--prometheus",
        action="store_true",
        help=f"print Compose's Prometheus configuration ({compose.PROMETHEUS_FILE})",
    )
    sub.add_parser("kubernetes")
    redeploy = sub.add_parser("redeploy")
    redeploy.add_argument("service", choices=SERVICES)
    manage = sub.add_parser("manage")
    manage.add_argument("service", choices=SERVICES)
    manage.add_argument("args", nargs=argparse.REMAINDER)
    ctl = sub.add_parser("ctl")
    ctl.add_argument("args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    stack = Stack(StackConfig.from_env())

    if args.command == "up":
        try:
            stack.up()
        except BaseException:
            if not args.detach:
                stack.down()
            raise
        if not args.detach:
            log("running; Ctrl-C stops every process")
            # Both stop the stack, even where the shell started this process with SIGINT ignored.
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
            signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
            try:
                while stack.supervisord_running():
                    time.sleep(1)
            except (KeyboardInterrupt, SystemExit):
                pass
            finally:
                stack.down()
    elif args.command == "down":
        stack.down()
    elif args.command == "status":
        print(stack.ctl("status", check=False).stdout, end="")
        print(stack.heartbeats(), end="")
    elif args.command == "env":
        print(stack.shell_env())
    elif args.command == "manage":
        sys.exit(stack.manage_command(args.service, args.args))
    elif args.command == "compose":
        print(compose.prometheus_file() if args.prometheus else compose.render(), end="")
    elif args.command == "redeploy":
        took = stack.redeploy(args.service)
        log(f"{args.service} redeployed in {sum(took.values()):.1f} s")
    elif args.command == "kubernetes":
        for path in kubernetes.write():
            print(path.relative_to(ROOT))
    elif args.command == "ctl":
        result = stack.ctl(*args.args, check=False)
        print(result.stdout, end="", file=sys.stdout)
        print(result.stderr, end="", file=sys.stderr)
        sys.exit(result.returncode)


if __name__ == "__main__":
    main()
