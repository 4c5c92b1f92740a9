"""HTTP session, error-envelope assertion, token forgeries and stack control for the end-to-end tests."""

import base64
import hashlib
import hmac
import json
import random
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from requests.adapters import HTTPAdapter

SERVICES = ["users", "inventory", "orders", "payments"]
ERROR_TYPES = {"validation_error", "client_error", "server_error"}


def fresh_loopback_address() -> str:
    """A random address of 127.0.0.0/8 other than 127.0.0.1: Linux lets a client use any as its source."""
    return f"127.{random.randint(1, 254)}.{random.randint(0, 255)}.{random.randint(1, 254)}"


class SourceAddressAdapter(HTTPAdapter):
    """Connections from a given local address: one client, as the services see its X-Real-IP."""

    def __init__(self, source_address: str, **kwargs):
        self.source_address = source_address
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.source_address, 0)
        super().init_poolmanager(*args, **kwargs)


class GatewaySession(requests.Session):
    """A session whose paths ("/api/...") are relative to the gateway, with a default timeout.

    Against a gateway on 127.0.0.1 each session is a client of its own, at a fresh loopback address
    (`client_address`): the sign-in and registration limits per address (service_kit.logins) then count
    one test's requests, not the whole run's."""

    def __init__(self, base_url: str, token: str | None = None, *, client_address: str | None = None):
        super().__init__()
        self.base_url = base_url
        self.client_address = client_address
        if client_address is None and base_url.startswith("http://127.0.0.1:"):
            self.client_address = fresh_loopback_address()
        if self.client_address:
            self.mount("http://", SourceAddressAdapter(self.client_address))
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def request(self, method, url, *args, **kwargs):
        kwargs.setdefault("timeout", 30)
        if url.startswith("/"):
            url = self.base_url + url
        return super().request(method, url, *args, **kwargs)

    def post_patiently(self, path: str, **kwargs) -> requests.Response:
        """POST, waiting out nginx's rate limit (429) on the throttled auth endpoints."""
        for _ in range(60):
            response = self.post(path, **kwargs)
            if response.status_code != 429:
                return response
            time.sleep(0.25)
        return response


def assert_envelope(response: requests.Response, status: int, error_type: str | None = None) -> dict:
    """The response is API.md's error envelope, as JSON, with the given status."""
    assert response.status_code == status, f"{response.status_code}: {response.text[:500]}"
    assert response.headers["Content-Type"].startswith("application/json"), response.headers["Content-Type"]
    body = response.json()
    assert body["type"] in ERROR_TYPES, body
    if error_type is not None:
        assert body["type"] == error_type, body
    assert body["errors"], body
    assert {"code", "detail", "attr"} <= set(body["errors"][0]), body
    return body


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token_parts(token: str) -> tuple[dict, dict]:
    """Header and claims of a token, not verified."""
    return jwt.get_unverified_header(token), jwt.decode(token, options={"verify_signature": False})


def fresh_private_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def sign_with_fresh_key(header: dict, claims: dict) -> str:
    """RS256 with a key the platform never saw, keeping the real header (and its `kid`)."""
    extra = {key: value for key, value in header.items() if key not in {"alg", "typ"}}
    return jwt.encode(claims, fresh_private_pem(), algorithm="RS256", headers=extra)


def unsigned(header: dict, claims: dict) -> str:
    """`alg: none` with an empty signature."""
    return f"{_b64(json.dumps({**header, 'alg': 'none'}).encode())}.{_b64(json.dumps(claims).encode())}."


def hs256(header: dict, claims: dict, secret: bytes) -> str:
    """HS256 by hand: PyJWT refuses a PEM key as an HMAC secret, an attacker does not."""
    signing_input = f"{_b64(json.dumps({**header, 'alg': 'HS256'}).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def with_signature_kept(token: str, *, header: dict | None = None, claims: dict | None = None) -> str:
    """The token with its header or claims changed and re-encoded, its original signature kept."""
    original_header, original_claims = token_parts(token)
    encoded_header, encoded_claims, signature = token.split(".")
    if header is not None:
        encoded_header = _b64(json.dumps({**original_header, **header}).encode())
    if claims is not None:
        encoded_claims = _b64(json.dumps({**original_claims, **claims}).encode())
    return f"{encoded_header}.{encoded_claims}.{signature}"


def public_pem_from_jwk(jwk: dict) -> bytes:
    public_key = RSAAlgorithm.from_jwk(json.dumps(jwk))
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


REPO_ROOT = Path(__file__).resolve().parent.parent


def stack_ctl(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """`python -m stack ctl <args>` on the stack this environment points at (VAR_DIR, PORT_BASE)."""
    result = subprocess.run(
        [sys.executable, "-m", "stack", "ctl", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"stack ctl {' '.join(args)} failed: {result.stdout} {result.stderr}")
    return result


def wait_until(predicate: Callable[[], object], *, timeout: float, interval: float = 0.1, message: str = ""):
    """Poll until `predicate()` is truthy and return its value; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:.0f} s: {message or predicate}")
        time.sleep(interval)


def process_state(name: str) -> str:
    """supervisord's state of one process ("app:orders-worker"): RUNNING, STOPPED, STARTING, BACKOFF, ..."""
    output = stack_ctl("status", name, check=False).stdout.split()
    return output[1] if len(output) > 1 else "UNKNOWN"


def process_pid(name: str) -> int | None:
    """The pid supervisord gives for a running process, else None."""
    output = stack_ctl("pid", name, check=False).stdout.strip()
    return int(output) if output.isdigit() and int(output) > 0 else None


def ensure_running(*names: str, timeout: float = 60) -> None:
    """Start each process unless supervisord has it running (or is restarting it); wait for RUNNING."""
    for name in names:
        if process_state(name) not in {"RUNNING", "STARTING", "BACKOFF"}:
            stack_ctl("start", name, check=False)
    for name in names:
        wait_until(lambda name=name: process_state(name) == "RUNNING", timeout=timeout, interval=0.3, message=name)


# Browser tests (Debian's chromium through Playwright): screenshots and other artifacts of a run.
ARTIFACTS = REPO_ROOT / "var" / "test-artifacts"


SIGNIN_PAGE = "/api/users/signin/"


def sign_in(page, credentials: dict) -> None:
    """Fills and sends the platform's sign-in form (users_svc) open in a Playwright page."""
    assert SIGNIN_PAGE in page.url, page.url
    page.fill("input[name=email]", credentials["email"])
    page.fill("input[name=password]", credentials["password"])
    with page.expect_navigation():
        page.click("button[type=submit]")


def sign_in_session(session: requests.Session, base_url: str, credentials: dict, next_path: str = "/"):
    """Signs a requests session in through the platform's sign-in page, as a browser would; the answer."""
    page = session.get(f"{base_url}{SIGNIN_PAGE}", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    return session.post(
        f"{base_url}{SIGNIN_PAGE}",
        data={
            "csrfmiddlewaretoken": token,
            "email": credentials["email"],
            "password": credentials["password"],
            "next": next_path,
        },
        headers={"Referer": f"{base_url}{SIGNIN_PAGE}"},
        allow_redirects=False,
        timeout=30,
    )
