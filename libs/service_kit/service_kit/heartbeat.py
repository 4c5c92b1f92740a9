"""Health of the processes that answer no HTTP: a worker's and a relay's heartbeat, and the check of it.

Each touches a file, `<HEARTBEAT_DIR>/<service>-<role>`, when it has just shown that it works:
- a worker on each Celery heartbeat (every 2 s), which its consumer sends from its own loop while it is
  connected to the broker and consuming (Celery stops it while it reconnects);
- a relay after each sweep that reached its database and the broker (a failed sweep does not count).

`python -m service_kit.heartbeat worker|relay` is the check: exit 0 (ready) while the file is younger than
the role's bound, 1 otherwise. It reads one file and imports nothing of Django, so Compose's healthcheck and
Kubernetes' probes can run it every few seconds; `python -m stack status` reads the same files.

A relay also watches itself (`Watchdog`): a sweep that has not returned within RELAY_STALL_AFTER seconds is
wedged (waiting on a lock, a socket that never answers), and the process exits so that what supervises it
(supervisord, Compose's restart policy, Kubernetes) starts a fresh one. A sweep that fails, the database
down say, is not wedged: it returns, and the next one retries without a restart that would not help.
"""

import logging
import os
import sys
import threading
import time
from pathlib import Path

logger = logging.getLogger(__name__)

# Seconds a heartbeat stays fresh: a worker beats every 2 s; a relay after every sweep (about every second
# when idle, longer while it publishes a backlog in batches).
READY_WITHIN = {"worker": 10.0, "relay": 30.0}
# The exit status of a relay that stopped itself because a sweep was wedged.
EXIT_WEDGED = 70


def heartbeat_file(role: str, *, service: str | None = None, directory: str | None = None) -> Path:
    """The file of this process's role, or of another service's in another folder (`python -m stack status`)."""
    directory = directory or os.environ.get("HEARTBEAT_DIR") or "/tmp/heartbeats"  # noqa: S108  (set by every stack)
    return Path(directory) / f"{service or os.environ['SERVICE_NAME']}-{role}"


def beat(role: str) -> None:
    """The process of this role has just shown that it works."""
    path = heartbeat_file(role)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    except OSError:  # a full or read-only disk must not stop the work itself; the check will say not ready
        logger.exception("heartbeat not written", extra={"path": str(path)})


def forget(role: str) -> None:
    """At a process's start: an earlier process's heartbeat says nothing of this one."""
    heartbeat_file(role).unlink(missing_ok=True)


def age(role: str, **where) -> float | None:
    """Seconds since the last heartbeat, or None when there has been none."""
    try:
        return max(0.0, time.time() - heartbeat_file(role, **where).stat().st_mtime)
    except FileNotFoundError:
        return None


def ready(role: str, **where) -> bool:
    return check(role, **where)[0]


def check(role: str, **where) -> tuple[bool, str]:
    """Whether the role's process is ready, and the line that says so (`where`: as for `heartbeat_file`)."""
    seconds = age(role, **where)
    if seconds is not None and seconds <= READY_WITHIN[role]:
        return True, f"{role} ready: last heartbeat {seconds:.1f} s ago"
    said = "no heartbeat yet" if seconds is None else f"last heartbeat {seconds:.1f} s ago"
    return False, f"{role} not ready: {said} (bound {READY_WITHIN[role]:.0f} s)"


class Watchdog:
    """Exits the process when the sweep it was told of has not ended within `stall_after` seconds."""

    def __init__(self, stall_after: float):
        self.stall_after = stall_after
        self._started: float | None = None
        self._thread = threading.Thread(target=self._watch, name="relay-watchdog", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def sweep_started(self) -> None:
        self._started = time.monotonic()

    def sweep_ended(self) -> None:
        self._started = None

    def _watch(self) -> None:
        while True:
            time.sleep(min(1.0, self.stall_after / 4))
            started = self._started
            if started is not None and time.monotonic() - started > self.stall_after:
                logger.error(
                    "relay sweep wedged: exiting so that a fresh relay starts", extra={"seconds": self.stall_after}
                )
                logging.shutdown()
                os._exit(EXIT_WEDGED)


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in READY_WITHIN:
        print(f"usage: python -m service_kit.heartbeat {{{'|'.join(READY_WITHIN)}}}", file=sys.stderr)
        return 2
    is_ready, line = check(argv[0])
    print(line, file=sys.stdout if is_ready else sys.stderr)
    return 0 if is_ready else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
