"""Sign-in throttling: failed sign-ins counted per account and per client address in Redis.

Every service's API and admin sign-in goes through `login_attempt` / `login_succeeded`, and users_svc's
registration through `registration_attempt`, all on the shared Redis, so one account's guesses are
counted once across the four services (the staff account has one password in all four admins).

Why not django-axes: it has one failure limit for every lockout parameter, where an account needs a
low limit and an address (possibly many people behind one NAT) a higher one, so that a correct password
of another account from that address still works; it also answers a lockout with its own page rather
than the API's envelope, and does nothing for registration.

How it counts: fixed windows. The first counted attempt opens a window of `LOGIN_WINDOW` seconds on its
key; past the limit within it every attempt answers 429 with `Retry-After` = what is left of the
window, and the key expires with it. An attempt is counted *before* the password is checked (one
atomic script checks both limits and counts), so concurrent guesses cannot run past the limit; a
success then takes its count back from the address and clears the account's count. A success does not
clear the address's earlier failures: an attacker holding one valid account could otherwise interleave
its sign-ins to reset the count while trying passwords of others.

Redis down: sign-ins go on unthrottled and an error is logged (users_svc does not otherwise depend on
Redis; nginx's per-address rate limit still applies).
"""

import hashlib
import logging
import math

import redis
from django.http import HttpRequest
from rest_framework import status
from rest_framework.exceptions import Throttled

from .conf import kit_settings

logger = logging.getLogger(__name__)

# KEYS: the counters, ARGV: their limits (same order), then the window in seconds.
# Returns 0 when counted, else the seconds until the first exhausted key expires (at least 1).
_COUNT_SCRIPT = """
local wait = 0
for i, key in ipairs(KEYS) do
    local count = tonumber(redis.call('GET', key) or '0')
    if count >= tonumber(ARGV[i]) then
        local ttl = redis.call('TTL', key)
        if ttl < 1 then ttl = 1 end
        if ttl > wait then wait = ttl end
    end
end
if wait > 0 then return wait end
local window = tonumber(ARGV[#KEYS + 1])
for _, key in ipairs(KEYS) do
    if redis.call('INCR', key) == 1 then redis.call('EXPIRE', key, window) end
end
return 0
"""

# A success gives the address its count back (never below zero) and clears the account's.
_SUCCESS_SCRIPT = """
if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then redis.call('DECR', KEYS[1]) end
redis.call('DEL', KEYS[2])
return 0
"""

_clients: dict[str, redis.Redis] = {}


class TooManyAttempts(Throttled):
    """429 in the envelope (code `throttled`) with `Retry-After`, raised before the password is checked."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_detail = "Too many failed sign-ins."
    extra_detail_singular = "Try again in {wait} second."
    extra_detail_plural = "Try again in {wait} seconds."


def client_address(request: HttpRequest) -> str:
    """The client's address: nginx overwrites X-Real-IP with the connection's own address."""
    meta = request.META
    return meta.get("HTTP_X_REAL_IP") or meta.get("REMOTE_ADDR") or "unknown"


def _account_key(identifier: str) -> str:
    # Hashed: no email address is written to Redis; lower-cased as the accounts compare them.
    digest = hashlib.sha256(identifier.strip().lower().encode()).hexdigest()
    return f"{kit_settings.LOGIN_KEY_PREFIX}:account:{digest}"


def _address_key(kind: str, address: str) -> str:
    return f"{kit_settings.LOGIN_KEY_PREFIX}:{kind}:{address}"


def _client() -> redis.Redis | None:
    url = kit_settings.LOGIN_REDIS_URL
    if not url:
        return None
    if url not in _clients:
        _clients[url] = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    return _clients[url]


def _count(keys: list[str], limits: list[int], window: int) -> int:
    """0 when the attempt is counted, else the seconds to wait."""
    client = _client()
    if client is None:
        return 0
    try:
        return int(client.eval(_COUNT_SCRIPT, len(keys), *keys, *limits, window))
    except redis.RedisError:
        logger.exception("sign-in throttle unavailable: attempt not counted")
        return 0


def login_attempt(*, request: HttpRequest, identifier: str) -> None:
    """Counts a sign-in attempt for the account and the address, or raises TooManyAttempts (no count)."""
    keys = [_address_key("address", client_address(request))]
    limits = [kit_settings.LOGIN_ADDRESS_LIMIT]
    if identifier.strip():
        keys.append(_account_key(identifier))
        limits.append(kit_settings.LOGIN_ACCOUNT_LIMIT)
    wait = _count(keys, limits, kit_settings.LOGIN_WINDOW)
    if wait:
        raise TooManyAttempts(wait=wait)


def login_succeeded(*, request: HttpRequest, identifier: str) -> None:
    """The attempt counted by login_attempt was a success: it is no failure of the address or the account."""
    client = _client()
    if client is None:
        return
    keys = [_address_key("address", client_address(request)), _account_key(identifier)]
    try:
        client.eval(_SUCCESS_SCRIPT, len(keys), *keys)
    except redis.RedisError:
        logger.exception("sign-in throttle unavailable: success not recorded")


def registration_attempt(*, request: HttpRequest) -> None:
    """Counts a registration from the address, whatever its outcome, or raises TooManyAttempts."""
    keys = [_address_key("register", client_address(request))]
    wait = _count(keys, [kit_settings.REGISTER_ADDRESS_LIMIT], kit_settings.REGISTER_WINDOW)
    if wait:
        raise TooManyAttempts(wait=wait, detail="Too many registrations from this address.")


def retry_after(wait: int | float | None) -> str:
    return str(max(1, math.ceil(wait or 1)))
