"""Open-loop HTTP load: requests leave on a fixed schedule, whatever the server does.

A closed loop (N clients, each waiting for its answer before the next request) slows down with
the server and so hides every stall: the requests that would have been sent during a 2 s pause are
simply never sent. Here request i is due at t0 + i / rate and its latency is measured from that
intended time, so a stall shows up in every request scheduled during it (no coordinated omission).
asyncio with aiohttp keeps hundreds of requests in flight from one thread; the generator's own lag
(actual send time minus intended) is recorded with each request so that a late generator is seen
rather than blamed on the platform.
"""

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

# Wall clock = monotonic + offset: the databases stamp rows with the wall clock, latencies use monotonic.
CLOCK_OFFSET = time.time() - time.monotonic()


def wall(mono: float) -> float:
    return mono + CLOCK_OFFSET


@dataclass
class Request:
    method: str
    url: str
    headers: dict[str, str] | None = None
    json: Any = None
    tag: str = ""  # the request id, to find the request's work in the databases


@dataclass
class Shot:
    """One request: when it was due, when it left, when it was answered (monotonic seconds)."""

    index: int
    tag: str
    intended: float
    sent: float
    done: float
    status: int  # 0: no answer (connection error or timeout)
    body: Any = None

    @property
    def latency_ms(self) -> float:
        return (self.done - self.intended) * 1000

    @property
    def lag_ms(self) -> float:
        return (self.sent - self.intended) * 1000


def make_session(timeout_s: float, connections: int = 1000) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(limit=connections, limit_per_host=connections, force_close=False)
    return aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=timeout_s))


async def _fire(session: aiohttp.ClientSession, index: int, intended: float, request: Request, parse: bool) -> Shot:
    sent = time.monotonic()
    try:
        async with session.request(request.method, request.url, headers=request.headers, json=request.json) as resp:
            raw = await resp.read()
            status = resp.status
    except (TimeoutError, aiohttp.ClientError, OSError):
        return Shot(index, request.tag, intended, sent, time.monotonic(), 0)
    done = time.monotonic()
    body = None
    if parse and raw:
        try:
            import json

            body = json.loads(raw)
        except ValueError:
            body = None
    return Shot(index, request.tag, intended, sent, done, status, body)


async def open_loop(
    session: aiohttp.ClientSession,
    *,
    rate: float,
    duration_s: float,
    make_request: Callable[[int], Request],
    parse: bool = False,
    start_index: int = 0,
    until: asyncio.Event | None = None,
) -> list[Shot]:
    """Send round(rate * duration) requests at a fixed rate, or fewer if `until` is set first; bounded in
    count and, by the session's timeout, in time."""
    count = max(1, round(rate * duration_s))
    t0 = time.monotonic() + 0.02
    tasks = []
    for i in range(count):
        intended = t0 + i / rate
        delay = intended - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        if until is not None and until.is_set():
            break
        request = make_request(start_index + i)
        tasks.append(asyncio.create_task(_fire(session, start_index + i, intended, request, parse)))
    return list(await asyncio.gather(*tasks))


async def closed_loop(session: aiohttp.ClientSession, url: str, *, connections: int, duration_s: float) -> dict:
    """Throughput at a fixed concurrency, for when wrk is not installed: each client sends its next
    request when the previous one is answered."""
    deadline = time.monotonic() + duration_s
    counts = {"ok": 0, "errors": 0}

    async def client():
        while time.monotonic() < deadline:
            try:
                async with session.get(url) as resp:
                    await resp.read()
                    counts["ok" if resp.status == 200 else "errors"] += 1
            except (TimeoutError, aiohttp.ClientError, OSError):
                counts["errors"] += 1

    started = time.monotonic()
    await asyncio.gather(*(client() for _ in range(connections)))
    elapsed = time.monotonic() - started
    return {"rps": round(counts["ok"] / elapsed, 1), "errors": counts["errors"], "tool": "aiohttp"}
