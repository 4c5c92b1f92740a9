"""What the platform is doing, read from the outside: backlog, counters, CPU and memory.

- backlog: Redis queue lengths (LLEN of each service's queue) and unsent outbox rows per service;
- counters: pg_stat_database (commits, sessions) and, where the cluster preloads it,
  pg_stat_statements (statement calls = client round trips) of each service's role; Redis
  INFO commandstats; CPU time of every supervised process with its descendants (/proc/<pid>/stat);
- memory: PSS (/proc/<pid>/smaps_rollup) of every supervised process with its descendants, which
  counts shared pages once across a pre-forked family instead of once per process as RSS would.

The probe's own queries and Redis commands are counted and taken off the deltas, so measuring does
not inflate the per-order figures.
"""

import os
import threading
import time
from pathlib import Path

import psycopg
import redis

from .target import SERVICES, Target

CLOCK_TICK = os.sysconf("SC_CLK_TCK")
QUEUES = SERVICES


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def _tree(pid: int, children: dict[int, list[int]]) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def _cpu_seconds(pid: int) -> float:
    """utime + stime, plus the children it has reaped (cutime + cstime): a worker that exited keeps counting."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(x) for x in fields[11:15]) / CLOCK_TICK


def _pss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class Probe:
    def __init__(self, target: Target):
        self.target = target
        self.lock = threading.Lock()
        self.redis = redis.Redis.from_url(target.redis_url)
        self.db = {s: psycopg.connect(target.database_urls[s], autocommit=True) for s in SERVICES}
        # Transactions and Redis commands this probe itself issued, taken off the deltas.
        self.own_xacts = dict.fromkeys(SERVICES, 0)
        self.own_redis = 0
        self.statements = self._statements_connections()

    def close(self) -> None:
        for conn in [*self.db.values(), *self.statements.values()]:
            conn.close()
        self.redis.close()

    def _statements_connections(self) -> dict[str, psycopg.Connection]:
        """Superuser connections to each cluster's `postgres` database, where pg_stat_statements is
        readable; none where the cluster does not preload it."""
        found = {}
        for service in SERVICES:
            info = self.target.superuser_conninfo(service)
            if not info:
                continue
            try:
                conn = psycopg.connect(info.replace(f"dbname={service}", "dbname=postgres"), autocommit=True)
                libs = conn.execute("SHOW shared_preload_libraries").fetchone()[0]
                if "pg_stat_statements" not in libs:
                    conn.close()
                    continue
                conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
                found[service] = conn
            except psycopg.Error:
                continue
        return found

    def _query(self, service: str, sql: str, params=None):
        with self.lock:
            self.own_xacts[service] += 1
            return self.db[service].execute(sql, params).fetchall()

    def _redis(self, *command):
        with self.lock:
            self.own_redis += 1
            return self.redis.execute_command(*command)

    # BACKLOG
    def backlog(self) -> dict:
        queues = {q: int(self._redis("LLEN", q)) for q in QUEUES}
        outbox = {
            s: self._query(s, "SELECT count(*) FROM service_kit_outboxmessage WHERE sent_at IS NULL")[0][0]
            for s in SERVICES
        }
        return {
            "t": time.monotonic(),
            "queues": queues,
            "unsent_outbox": outbox,
            "total": sum(queues.values()) + sum(outbox.values()),
        }

    # COUNTERS
    def counters(self) -> dict:
        """A snapshot of every cumulative counter; `delta` turns two into figures."""
        snapshot = {"t": time.monotonic(), "db": {}, "statements": {}, "cpu": self.cpu()}
        for service in SERVICES:
            row = self._query(
                service,
                "SELECT xact_commit, xact_rollback, sessions FROM pg_stat_database WHERE datname = current_database()",
            )[0]
            snapshot["db"][service] = {"commits": row[0], "rollbacks": row[1], "sessions": row[2]}
        for service, conn in self.statements.items():
            calls = conn.execute(
                "SELECT coalesce(sum(s.calls), 0) FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid "
                "JOIN pg_database d ON d.oid = s.dbid WHERE r.rolname = %s AND d.datname = %s",
                (service, service),
            ).fetchone()[0]
            snapshot["statements"][service] = int(calls)
        with self.lock:
            self.own_redis += 1
            stats = self.redis.info("commandstats")
        snapshot["redis_commands"] = sum(int(v["calls"]) for k, v in stats.items() if k.startswith("cmdstat_"))
        with self.lock:
            snapshot["own_xacts"] = dict(self.own_xacts)
            snapshot["own_redis"] = self.own_redis
        return snapshot

    def cpu(self) -> dict[str, float]:
        children = _children_map()
        return {
            name: sum(_cpu_seconds(p) for p in _tree(pid, children)) for name, pid in self.target.supervised().items()
        }

    # MEMORY
    def pss_mib(self) -> dict[str, float]:
        children = _children_map()
        return {
            name: round(sum(_pss_kib(p) for p in _tree(pid, children)) / 1024, 1)
            for name, pid in self.target.supervised().items()
        }


def delta(before: dict, after: dict) -> dict:
    """What happened between two snapshots, the probe's own share taken off."""
    out = {"seconds": after["t"] - before["t"], "db": {}, "statements": {}, "cpu_s": {}}
    for service, now in after["db"].items():
        own = after["own_xacts"][service] - before["own_xacts"][service]
        then = before["db"][service]
        out["db"][service] = {
            "commits": now["commits"] - then["commits"] - own,
            "rollbacks": now["rollbacks"] - then["rollbacks"],
            "sessions": now["sessions"] - then["sessions"],
        }
    for service, now in after["statements"].items():
        out["statements"][service] = now - before["statements"].get(service, now)
    # INFO itself counts as a command; the probe's own LLENs and INFOs come off.
    out["redis_commands"] = (
        after["redis_commands"] - before["redis_commands"] - (after["own_redis"] - before["own_redis"])
    )
    for name, seconds in after["cpu"].items():
        if name in before["cpu"]:
            out["cpu_s"][name] = max(0.0, seconds - before["cpu"][name])
    return out


def per_order(work: dict, idle: dict | None, orders: int) -> dict:
    """Per-order figures of a step: its deltas less what the idle platform does in as long (relays
    polling, Flower, heartbeats), divided by the orders placed."""
    if orders <= 0:
        return {}

    def net(value: float, idle_value: float) -> float:
        return value - (idle_value / idle["seconds"] * work["seconds"] if idle and idle["seconds"] else 0.0)

    result = {"db": {}, "cpu_ms": {}}
    for service, counts in work["db"].items():
        idle_counts = idle["db"][service] if idle else {}
        result["db"][service] = {
            key: round(net(counts[key], idle_counts.get(key, 0)) / orders, 2) for key in ("commits", "sessions")
        }
        if service in work["statements"]:
            idle_calls = idle["statements"].get(service, 0) if idle else 0
            result["db"][service]["statements"] = round(net(work["statements"][service], idle_calls) / orders, 2)
    idle_redis = idle["redis_commands"] if idle else 0
    result["redis_commands"] = round(net(work["redis_commands"], idle_redis) / orders, 2)
    for name, seconds in work["cpu_s"].items():
        idle_seconds = idle["cpu_s"].get(name, 0.0) if idle else 0.0
        # Net of idle, floored at 0: an idle process's noise is not a negative cost.
        result["cpu_ms"][name] = max(0.0, round(net(seconds, idle_seconds) * 1000 / orders, 2))
    result["cpu_ms_total"] = round(sum(result["cpu_ms"].values()), 1)
    return result
