"""Fixtures of the end-to-end tests: the gateway, sessions, fresh users and the staff account.

Configuration comes from the environment: GATEWAY_URL (default http://127.0.0.1:8080),
ADMIN_EMAIL and ADMIN_PASSWORD (the seeded staff account), FLOWER_USER and FLOWER_PASSWORD; the saga
tests also read the four *_DATABASE_URL (tests/invariants.py) and drive the stack named by VAR_DIR and
PORT_BASE (`python -m stack ctl`).
"""

import json
import os
import statistics
import uuid

import pytest
from playwright.sync_api import sync_playwright

from .helpers import REPO_ROOT, GatewaySession

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def required_env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} must be set to run the end-to-end tests (see tests/conftest.py)", pytrace=False)
    return value


@pytest.fixture(scope="session")
def gateway_url() -> str:
    return os.environ.get("GATEWAY_URL", "http://127.0.0.1:8080").rstrip("/")


@pytest.fixture(scope="session")
def admin_credentials() -> dict:
    return {"email": required_env("ADMIN_EMAIL"), "password": required_env("ADMIN_PASSWORD")}


@pytest.fixture(scope="session")
def flower_credentials() -> tuple[str, str]:
    return required_env("FLOWER_USER"), required_env("FLOWER_PASSWORD")


@pytest.fixture(scope="session")
def make_session(gateway_url):
    """`make_session(token=None)`: a new GatewaySession, optionally sending a bearer token."""
    sessions = []

    def make(token: str | None = None) -> GatewaySession:
        session = GatewaySession(gateway_url, token)
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        session.close()


@pytest.fixture
def api(make_session) -> GatewaySession:
    """An anonymous session."""
    return make_session()


@pytest.fixture(scope="session")
def register_user(make_session):
    """`register_user()`: a new user with its tokens: {id, email, password, access, refresh}."""

    def register() -> dict:
        session = make_session()
        email = f"e2e-{uuid.uuid4().hex}@example.com"
        # Letters outside the hex alphabet of the email: two random hex strings are, now and then, "too
        # similar" for Django's UserAttributeSimilarityValidator.
        password = "E2e-" + uuid.uuid4().hex.translate(str.maketrans("0123456789abcdef", "ghijklmnopqrstuv")) + "!"
        created = session.post_patiently("/api/users/register/", json={"email": email, "password": password})
        assert created.status_code == 201, created.text
        tokens = session.post_patiently("/api/users/token/", json={"email": email, "password": password})
        assert tokens.status_code == 200, tokens.text
        return {"id": created.json()["id"], "email": email, "password": password, **tokens.json()}

    return register


@pytest.fixture
def user(register_user) -> dict:
    return register_user()


@pytest.fixture
def user_api(make_session, user) -> GatewaySession:
    """A session authenticated as a new ordinary user."""
    return make_session(user["access"])


@pytest.fixture
def staff_token(make_session, admin_credentials) -> str:
    """A fresh access token of the seeded staff account (tokens live five minutes)."""
    response = make_session().post_patiently("/api/users/token/", json=admin_credentials)
    assert response.status_code == 200, f"staff sign-in failed: {response.text}"
    return response.json()["access"]


@pytest.fixture
def staff_api(make_session, staff_token) -> GatewaySession:
    """A session authenticated as the seeded staff account."""
    return make_session(staff_token)


@pytest.fixture
def make_product(staff_api):
    """`make_product(stock, price="19.99")`: a new product made by staff for one test, as the API shows it.

    It is kept afterwards: reservations of the test's orders refer to it."""

    def make(stock: int, price: str = "19.99") -> dict:
        sku = f"E2E-{uuid.uuid4().hex.upper()}"
        payload = {"sku": sku, "name": "E2E saga product", "price": price, "stock": stock}
        response = staff_api.post("/api/inventory/products/", json=payload)
        assert response.status_code == 201, response.text
        return response.json()

    return make


@pytest.fixture
def buyer(make_session, register_user) -> GatewaySession:
    """A session of a new ordinary user, with `.user` holding its id and credentials."""
    registered = register_user()
    session = make_session(registered["access"])
    session.user = registered
    return session


@pytest.fixture(scope="session")
def saga_timings():
    """Seconds from POST to confirmed, recorded by the saga tests; summed up once the session ends.

    Printed with the prefix SAGA_TIMING (visible with `pytest -s`) and written to
    var/test-artifacts/saga-timing.json."""
    samples: list[dict] = []
    yield samples
    if not samples:
        return
    summary = {
        "orders": len(samples),
        "measured": "server: order created_at to its confirmed history row; "
        "client: POST sent to confirmed seen by polling the orders database every 50 ms",
    }
    for side in ("server", "client"):
        values = sorted(sample[side] for sample in samples)
        summary[side] = {
            "median_s": round(statistics.median(values), 3),
            "max_s": round(values[-1], 3),
            "min_s": round(values[0], 3),
        }
    summary["samples"] = samples
    artifact = REPO_ROOT / "var" / "test-artifacts" / "saga-timing.json"
    artifact.parent.mkdir(parents=True, exist_ok=True)
    artifact.write_text(json.dumps(summary, indent=2))
    print(
        f"\nSAGA_TIMING POST->confirmed over {len(samples)} orders: "
        f"server median {summary['server']['median_s']} s, max {summary['server']['max_s']} s; "
        f"client median {summary['client']['median_s']} s, max {summary['client']['max_s']} s ({artifact})"
    )


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium, driven by Playwright: the browser of the tests of pages people look at."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def context(browser):
    context = browser.new_context()
    yield context
    context.close()
