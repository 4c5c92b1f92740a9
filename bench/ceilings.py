"""Ceilings measured in the same run on the same machine, so every figure can be read as a ratio.

- read ceiling: the bare one-view Django app (bench/ceiling/) under gunicorn with the inventory web
  process's own command line (stack.processes.WEB_COMMAND, its worker count read from the running
  process), against the inventory database;
- the catalogue straight from inventory's gunicorn and through nginx, with the same tools;
- messaging ceiling: a no-op Celery task round trip on the same Redis (another database number, so
  the platform's queues and Flower do not see it) with the services' Celery settings and the
  inventory worker's own command line.
Reads are measured twice: throughput at a fixed concurrency (wrk, or the Python generator when wrk
is not installed) and latency percentiles at a fixed rate (the open-loop generator).
"""

import asyncio
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import redis

from .loadgen import Request, closed_loop, make_session, open_loop, wall
from .stats import latency_summary
from .target import ROOT, Target


def _cmdline(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")


def _option(argv: list[str], name: str, default: str) -> str:
    for i, part in enumerate(argv):
        if part == name and i + 1 < len(argv):
            return argv[i + 1]
        if part.startswith(name + "="):
            return part.split("=", 1)[1]
    return default


def _fill(command: list[str], env: dict[str, str]) -> list[str]:
    from stack.processes import VENV_BIN

    filled = [re.sub(r"\$\{(\w+)\}", lambda m: env[m.group(1)], part) for part in command]
    if (VENV_BIN / filled[0]).exists():
        filled[0] = str(VENV_BIN / filled[0])
    return filled


def _wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing answers on port {port}")


def _wait_answering(url: str, timeout: float = 60) -> None:
    """Until the URL answers 200: a gunicorn binds its port before its workers have loaded the app, and on a
    busy machine a first second of load would then measure nothing."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310  (a local URL of our own)
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} does not answer 200")


@contextmanager
def _process(argv: list[str], env: dict[str, str], log: Path):
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as out:
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _base_env(target: Target) -> dict[str, str]:
    from stack.processes import VENV_BIN

    return {
        **os.environ,
        "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
    }


@contextmanager
def ceiling_web(target: Target):
    """The bare app on gunicorn, with the inventory web process's settings; yields its URL."""
    from stack.processes import WEB_COMMAND

    pid = target.supervised()["inventory-web"]
    workers = _option(_cmdline(pid), "--workers", os.environ.get("WEB_WORKERS") or "2")
    port = target.spare_port(1)
    env = {
        **_base_env(target),
        "WEB_BIND": f"127.0.0.1:{port}",
        "WEB_WORKERS": workers,
        "SERVICE_NAME": "bench-ceiling",
        "DATABASE_URL": target.database_urls["inventory"],
        "DJANGO_SETTINGS_MODULE": "bench.ceiling.settings",
    }
    command = ["bench.ceiling.wsgi:application" if p == "config.wsgi:application" else p for p in WEB_COMMAND]
    with _process(_fill(command, env), env, target.var_dir / "log" / "bench-ceiling-web.log"):
        _wait_port(port)
        _wait_answering(f"http://127.0.0.1:{port}/products/")
        yield f"http://127.0.0.1:{port}/products/", int(workers)


def wrk(url: str, *, connections: int, seconds: float) -> dict:
    """Requests/s at a fixed concurrency, and wrk's own latency percentiles (closed loop: indicative)."""
    if not shutil.which("wrk"):

        async def fallback():
            async with make_session(30) as session:
                return await closed_loop(session, url, connections=connections, duration_s=seconds)

        return asyncio.run(fallback())
    threads = min(2, connections)
    out = subprocess.run(
        [shutil.which("wrk"), f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", url],
        capture_output=True, text=True, timeout=seconds + 60, check=True,
    ).stdout  # fmt: skip
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    result = {"rps": round(rps, 1), "errors": int(errors.group(1)) if errors else 0, "tool": "wrk",
              "connections": connections}  # fmt: skip
    units = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    for pct, value, unit in re.findall(r"^\s+(50|90|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M):
        result[f"closed_loop_p{pct}_ms"] = round(float(value) * units[unit], 2)
    return result


def fixed_rate(url: str, *, rate: float, seconds: float) -> dict:
    """Latency percentiles of GETs sent at a fixed rate, from each one's intended send time."""

    async def go():
        async with make_session(30) as session:
            return await open_loop(session, rate=rate, duration_s=seconds, make_request=lambda i: Request("GET", url))

    shots = asyncio.run(go())
    summary = latency_summary([s.latency_ms for s in shots])
    summary["rate"] = rate
    summary["errors"] = sum(1 for s in shots if s.status != 200)
    return summary


def read_ceilings(target: Target, settings) -> dict:
    """The catalogue's first page: bare app, inventory's gunicorn, nginx; throughput and fixed-rate latency."""
    urls = {
        "direct": f"http://127.0.0.1:{target.web_port('inventory')}/api/inventory/products/",
        "nginx": f"{target.gateway}/api/inventory/products/",
    }
    found = {}
    with ceiling_web(target) as (ceiling_url, workers):
        urls = {"ceiling": ceiling_url, **urls}
        for name, url in urls.items():
            wrk(url, connections=settings.read_connections, seconds=1)  # warm: workers, connections, caches
            throughput = wrk(url, connections=settings.read_connections, seconds=settings.read_seconds)
            latency = fixed_rate(url, rate=settings.read_rate, seconds=settings.read_seconds)
            found[name] = {"url": url, "throughput": throughput, "fixed_rate": latency}
            print(f"[bench] read {name}: {throughput['rps']} req/s, p99 {latency['p99']} ms at {latency['rate']}/s",
                  flush=True)  # fmt: skip
    found["web_workers"] = workers
    return found


def messaging_ceiling(target: Target, settings) -> dict:
    """No-op Celery task round trips: a burst (tasks/s the worker settles) and a fixed rate (latency)."""
    from stack.processes import WORKER_COMMAND

    from .ceiling import noop

    redis_url = re.sub(r"/\d+$", "", target.redis_url) + "/1"
    pid = target.supervised()["inventory-worker"]
    concurrency = _option(_cmdline(pid), "--concurrency", os.environ.get("WORKER_CONCURRENCY") or "4")
    pool = _option(_cmdline(pid), "--pool", os.environ.get("WORKER_POOL") or "threads")
    env = {
        **_base_env(target),
        "REDIS_URL": redis_url,
        "SERVICE_NAME": noop.QUEUE,
        "WORKER_HOST": "bench",
        "WORKER_POOL": pool,
        "WORKER_CONCURRENCY": concurrency,
    }
    command = list(WORKER_COMMAND)
    command[command.index("config")] = "bench.ceiling.noop"
    command[command.index("--loglevel") + 1] = "WARNING"
    client = redis.Redis.from_url(redis_url)
    noop.app.conf.broker_url = redis_url
    result = {"worker_pool": pool, "worker_concurrency": int(concurrency)}
    with _process(_fill(command, env), env, target.var_dir / "log" / "bench-noop-worker.log"):
        client.delete(noop.DONE_KEY, noop.QUEUE)
        # Warm: the worker is up when a first task comes back.
        noop.app.send_task("bench.noop", args=[-1, time.time()], queue=noop.QUEUE)
        _wait_list(client, 1, 60)
        client.delete(noop.DONE_KEY)

        started = time.time()
        for i in range(settings.noop_tasks):
            noop.app.send_task("bench.noop", args=[i, time.time()], queue=noop.QUEUE)
        published = time.time()
        _wait_list(client, settings.noop_tasks, 120)
        finished = max(float(x.split()[2]) for x in client.lrange(noop.DONE_KEY, 0, -1))
        result["burst"] = {
            "tasks": settings.noop_tasks,
            "tasks_per_s": round(settings.noop_tasks / (finished - started), 1),
            "publish_per_s": round(settings.noop_tasks / (published - started), 1),
        }
        client.delete(noop.DONE_KEY)

        count = max(1, round(settings.noop_rate * settings.noop_seconds))
        t0 = time.monotonic() + 0.02
        for i in range(count):
            due = t0 + i / settings.noop_rate
            if due > time.monotonic():
                time.sleep(due - time.monotonic())
            noop.app.send_task("bench.noop", args=[i, wall(due)], queue=noop.QUEUE)
        _wait_list(client, count, 120)
        latencies = [(float(x.split()[2]) - float(x.split()[1])) * 1000 for x in client.lrange(noop.DONE_KEY, 0, -1)]
        result["fixed_rate"] = {"rate": settings.noop_rate, **latency_summary(latencies)}
        client.delete(noop.DONE_KEY, noop.QUEUE)
    client.close()
    print(f"[bench] messaging: {result['burst']['tasks_per_s']} no-op tasks/s, p99 "
          f"{result['fixed_rate']['p99']} ms at {settings.noop_rate}/s", flush=True)  # fmt: skip
    return result


def _wait_list(client: redis.Redis, length: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while client.llen(noop_key()) < length:
        if time.monotonic() > deadline:
            raise RuntimeError(f"no-op tasks: {client.llen(noop_key())} of {length} came back")
        time.sleep(0.05)


def noop_key() -> str:
    from .ceiling.noop import DONE_KEY

    return DONE_KEY
