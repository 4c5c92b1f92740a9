"""The steps of `make test-compose` (scripts/test-compose.sh) that read the Compose file or talk to the gateway.

    python3 scripts/compose/checks.py <step> <state folder> [arguments]

Standard library and PyYAML only (Debian's docker-compose brings python3-yaml), so that it runs with the
machine's python3 before any virtual environment exists. Everything goes through the gateway, as a client
would; the state folder holds .env (the credentials) and what one step leaves for a later one (state.json).
Each step prints one line for the summary and exits non-zero, with the reason, when a check fails.
"""

import base64
import http.cookiejar
import json
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import yaml

TERMINAL = {"confirmed", "cancelled"}
PASSWORD = "a long passphrase 42"


class Failed(Exception):
    pass


def images(compose_file: str) -> None:
    """The images the Compose file builds, one a line: image, Dockerfile, SERVICE build argument (or -)."""
    services = yaml.safe_load(Path(compose_file).read_text())["services"]
    seen = set()
    for service in services.values():
        build = service.get("build")
        if not build or service["image"] in seen:
            continue
        seen.add(service["image"])
        print(service["image"], build.get("dockerfile", "Dockerfile"), build.get("args", {}).get("SERVICE", "-"))


def base_images(compose_file: str, dockerfiles: list[str]) -> None:
    """Every image the stack starts from: the FROM of each Dockerfile the Compose file builds (and of any
    given), and the image of each service not built. Not those of a profile's services (Grafana and Jaeger's
    `observability`): `up` without the profile, as the run does, neither pulls nor starts them."""
    services = yaml.safe_load(Path(compose_file).read_text())["services"]
    services = {name: service for name, service in services.items() if not service.get("profiles")}
    built = [
        Path(compose_file).parent / service["build"]["context"] / service["build"].get("dockerfile", "Dockerfile")
        for service in services.values()
        if "build" in service
    ]
    found = []
    for dockerfile in dict.fromkeys([*built, *map(Path, dockerfiles)]):
        found += re.findall(r"^FROM\s+(\S+)", dockerfile.read_text(), re.MULTILINE)
    found += [service["image"] for service in services.values() if "build" not in service]
    print("\n".join(dict.fromkeys(found)))


class Gateway:
    """HTTP through the gateway with urllib: JSON in and out, cookies kept, each call bounded."""

    def __init__(self, state_dir: Path):
        self.state_dir = state_dir
        self.env = dict(
            line.split("=", 1) for line in (state_dir / ".env").read_text().splitlines() if re.match(r"^\w+=", line)
        )
        self.base = f"http://127.0.0.1:{self.env['GATEWAY_PORT']}"
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), urllib.request.HTTPRedirectHandler()
        )
        self.state_file = state_dir / "state.json"

    def state(self) -> dict:
        return json.loads(self.state_file.read_text()) if self.state_file.exists() else {}

    def save(self, **values) -> None:
        self.state_file.write_text(json.dumps({**self.state(), **values}, indent=1))

    def call(self, method, path, body=None, headers=None, expect=(200,), raw=False, form=None):
        # Every call carries a request id, which nginx and the services log: a failure names it, and the
        # run then prints the lines of every container that mention it (scripts/test-compose.sh, trail).
        headers = {"X-Request-ID": f"compose-{uuid.uuid4()}", **(headers or {})}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        elif form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        # Always http://127.0.0.1:<port> and a path of ours: no other scheme can come in.
        request = urllib.request.Request(self.base + path, data=data, headers=headers, method=method)  # noqa: S310
        try:
            with self.opener.open(request, timeout=30) as response:
                status, text, url = response.status, response.read().decode(errors="replace"), response.url
        except urllib.error.HTTPError as error:
            status, text, url = error.code, error.read().decode(errors="replace"), error.url
        if status not in expect:
            raise Failed(
                f"{method} {path}: {status} (expected {expect}, request {headers['X-Request-ID']}): {text[:300]}"
            )
        if raw:
            return text, url
        return json.loads(text) if text else None

    def token(self, email: str, password: str) -> str:
        return self.call("POST", "/api/users/token/", {"email": email, "password": password})["access"]

    def place(self, token: str, payment_method: str, key: str, sku: str = "DEMO-MUG") -> str:
        order = self.call(
            "POST",
            "/api/orders/",
            {"lines": [{"sku": sku, "quantity": 1}], "payment_method": payment_method},
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key, "X-Request-ID": key},
            expect=(201,),
        )
        if order["status"] != "pending":
            raise Failed(f"order {order['id']} placed as {order['status']}, not pending")
        return order["id"]

    def orders(self, token: str) -> dict[str, dict]:
        found, path = {}, "/api/orders/?page_size=100"
        while path:
            page = self.call("GET", path, headers={"Authorization": f"Bearer {token}"})
            results = page["results"] if isinstance(page, dict) else page
            found.update({order["id"]: order for order in results})
            following = page.get("next") if isinstance(page, dict) else None
            path = following[following.index("/api/") :] if following else None
        return found

    def until_terminal(self, token: str, ids: list[str], limit: float) -> dict[str, dict]:
        deadline = time.monotonic() + limit
        while True:
            orders = self.orders(token)
            missing = [i for i in ids if i not in orders]
            if missing:
                raise Failed(f"orders not listed: {missing}")
            if all(orders[i]["status"] in TERMINAL for i in ids) or time.monotonic() > deadline:
                return {i: orders[i] for i in ids}
            time.sleep(1)


def customer(gateway: Gateway) -> str:
    """Register, sign in, one order paid (confirmed) and one declined (cancelled, payment_declined)."""
    email = f"compose-{int(time.time())}@example.com"
    gateway.call("POST", "/api/users/register/", {"email": email, "password": PASSWORD}, expect=(201,))
    token = gateway.token(email, PASSWORD)
    paid = gateway.place(token, "pm_card_visa", f"compose-paid-{email}")
    declined = gateway.place(token, "pm_card_chargeDeclined", f"compose-declined-{email}")
    orders = gateway.until_terminal(token, [paid, declined], limit=120)
    if orders[paid]["status"] != "confirmed":
        raise Failed(f"the paid order ended {orders[paid]['status']}: {orders[paid]}")
    if (orders[declined]["status"], orders[declined]["cancel_reason"]) != ("cancelled", "payment_declined"):
        raise Failed(f"the declined order ended {orders[declined]}")
    payments = gateway.call("GET", "/api/payments/", headers={"Authorization": f"Bearer {token}"})
    payments = payments["results"] if isinstance(payments, dict) else payments
    statuses = sorted(payment["status"] for payment in payments)
    if statuses != ["declined", "succeeded"]:
        raise Failed(f"payments: {statuses}, expected one succeeded and one declined")
    keys = sorted(key["kid"] for key in gateway.call("GET", "/api/users/jwks/")["keys"])
    gateway.save(email=email, keys=keys, orders={i: o["status"] for i, o in orders.items()})
    return (
        f"{email}: order {paid[:8]} confirmed, order {declined[:8]} cancelled (payment_declined); payments {statuses}"
    )


def operator_pages(gateway: Gateway) -> str:
    """The staff account signs in once on the platform's sign-in page; each admin opens; Flower with its password."""
    env = gateway.env
    page, _ = gateway.call("GET", "/api/users/signin/", raw=True)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = {"csrfmiddlewaretoken": csrf, "email": env["ADMIN_EMAIL"], "password": env["ADMIN_PASSWORD"], "next": "/"}
    gateway.call("POST", "/api/users/signin/", form=form, headers={"Referer": gateway.base + "/api/users/signin/"},
                 raw=True)  # fmt: skip
    opened = []
    for service in ("users", "inventory", "orders", "payments"):
        html, url = gateway.call("GET", f"/admin/{service}/", raw=True)
        if f"{service}_svc administration" not in html or not url.endswith(f"/admin/{service}/"):
            raise Failed(f"/admin/{service}/ did not open signed in (landed on {url})")
        opened.append(f"/admin/{service}/")
    gateway.call("GET", "/flower/", expect=(401,), raw=True)
    secret = base64.b64encode(f"{env['FLOWER_USER']}:{env['FLOWER_PASSWORD']}".encode()).decode()
    auth = {"Authorization": f"Basic {secret}"}
    html, _ = gateway.call("GET", "/flower/", headers=auth, raw=True)
    if "Flower" not in html:
        raise Failed("/flower/ answered without Flower's page")
    workers = gateway.call("GET", "/flower/api/workers?refresh=1", headers=auth)
    nodes = sorted(name.split("@")[0] for name in workers)
    if not {"inventory", "orders", "payments"} <= set(nodes):
        raise Failed(f"Flower sees the workers {nodes}")
    return (
        f"{', '.join(opened)} signed in as {env['ADMIN_EMAIL']}; "
        f"/flower/ 401 without and 200 with its password, workers {nodes}"
    )


def place_and_kill(gateway: Gateway, count: str, *kill: str) -> str:
    """`count` orders placed four at a time, and the kill command run once a third of them are in, while the
    rest are still being placed: the saga of every order placed before the kill and charged after it was
    under way when the kill came (the terminal step counts them)."""
    token = gateway.token(gateway.state()["email"], PASSWORD)
    stamp = int(time.time())
    with ThreadPoolExecutor(max_workers=4) as pool:
        placing = [
            pool.submit(gateway.place, token, "pm_card_visa", f"compose-burst-{stamp}-{n}") for n in range(int(count))
        ]
        while sum(future.done() for future in placing) < len(placing) // 3:
            time.sleep(0.01)
        kill_at = datetime.now(UTC)
        subprocess.run(kill, check=True, capture_output=True, timeout=60)  # noqa: S603 (test-compose.sh's own command)
        ids = [future.result() for future in placing]
    gateway.save(burst=ids, kill_at=kill_at.isoformat())
    return f"{len(ids)} orders placed, `{' '.join(kill[:3])} ...` run at {kill_at:%H:%M:%S.%f} while they were"


def burst_terminal(gateway: Gateway, limit: str) -> str:
    """Every order of the burst ends terminal, though a worker was killed while they were in flight; at least one
    was placed before the kill and charged after it."""
    state = gateway.state()
    ids = state["burst"]
    token = gateway.token(state["email"], PASSWORD)
    orders = gateway.until_terminal(token, ids, limit=float(limit))
    left = {i[:8]: o["status"] for i, o in orders.items() if o["status"] not in TERMINAL}
    if left:
        raise Failed(f"not terminal after {limit} s: {left}")
    kill_at = datetime.fromisoformat(state["kill_at"])
    payments = gateway.call("GET", "/api/payments/?page_size=100", headers={"Authorization": f"Bearer {token}"})
    payments = payments["results"] if isinstance(payments, dict) else payments
    charged = {payment["order_id"]: datetime.fromisoformat(payment["created_at"]) for payment in payments}
    across = [i for i in ids if datetime.fromisoformat(orders[i]["created_at"]) < kill_at < charged.get(i, kill_at)]
    if not across:
        raise Failed("no order was placed before the kill and charged after it: none was mid-saga")
    outcome = {}
    for order in orders.values():
        outcome[order["status"]] = outcome.get(order["status"], 0) + 1
    gateway.save(orders={**state["orders"], **{i: o["status"] for i, o in orders.items()}})
    return f"{len(across)} of {len(ids)} placed before the kill and charged after it; all terminal: {outcome}"


def persisted(gateway: Gateway) -> str:
    """After `down` and `up`: the customer signs in again (users' volume), every order is there with its status
    (the other databases' volumes), and users_svc signs with the same key (the key pair's volume)."""
    state = gateway.state()
    orders = gateway.orders(gateway.token(state["email"], PASSWORD))
    expected = state["orders"]
    found = {i: orders[i]["status"] for i in expected if i in orders}
    if found != expected:
        raise Failed(f"orders after the restart: {found}, before: {expected}")
    keys = sorted(key["kid"] for key in gateway.call("GET", "/api/users/jwks/")["keys"])
    if keys != state["keys"]:
        raise Failed(f"signing keys after the restart: {keys}, before: {state['keys']}")
    return f"the customer signs in again; {len(found)} orders there with their statuses; same signing key {keys}"


def steady_orders(gateway: Gateway, rate: str, *command: str) -> str:
    """Orders placed through the gateway at `rate` a second (open loop, fixed schedule: a slow answer does not
    delay the next) from `lead` seconds before the command until `tail` seconds after it ended, by five fresh
    customers in turn (each may place 30 orders a minute; the gateway's address may register 10 an hour), one in
    ten with a declined card; the command (a redeploy) must succeed. Then: every POST answered 201; one order per
    POST (each customer lists exactly the orders its POSTs were answered with: a POST run twice would show as one
    more); every order ends as its card says. Bounded: at most rate x (lead + command_limit + tail) orders."""
    lead, tail, command_limit, buyers_count = 2.0, 3.0, 480.0, 5
    every = 1 / float(rate)
    stamp = int(time.time())
    # A product of the run's own with stock for every order (the demo mug's 100 would run out).
    sku = f"COMPOSE-STEADY-{stamp}"
    staff = gateway.token(gateway.env["ADMIN_EMAIL"], gateway.env["ADMIN_PASSWORD"])
    product = {"sku": sku, "name": "Steady orders", "price": "2.50", "stock": 10_000}
    gateway.call("POST", "/api/inventory/products/", product, headers={"Authorization": f"Bearer {staff}"},
                 expect=(201,))  # fmt: skip
    buyers = []
    for n in range(buyers_count):  # the sign-up routes allow a few a second: paced
        email = f"compose-steady-{stamp}-{n}@example.com"
        gateway.call("POST", "/api/users/register/", {"email": email, "password": PASSWORD}, expect=(201,))
        buyers.append(gateway.token(email, PASSWORD))
        time.sleep(0.5)
    sent: list[dict] = []
    stop = threading.Event()

    def place(index: int) -> None:
        card = "pm_card_chargeDeclined" if index % 10 == 9 else "pm_card_visa"
        entry = {"buyer": index % buyers_count, "card": card, "status": 0, "id": None, "error": ""}
        sent.append(entry)
        key = f"compose-steady-{stamp}-{index}"
        began = time.monotonic()
        try:
            order = gateway.call(
                "POST",
                "/api/orders/",
                {"lines": [{"sku": sku, "quantity": 1}], "payment_method": card},
                headers={"Authorization": f"Bearer {buyers[entry['buyer']]}", "Idempotency-Key": key,
                         "X-Request-ID": key},
                expect=(201,),
            )  # fmt: skip
            entry.update(status=201, id=order["id"])
        except (Failed, urllib.error.URLError, OSError) as error:
            entry["error"] = str(error)[:200]
        entry["seconds"] = time.monotonic() - began

    limit = int(float(rate) * (lead + command_limit + tail))
    with ThreadPoolExecutor(max_workers=16) as pool:

        def schedule() -> None:
            began = time.monotonic()
            for index in range(limit):
                if stop.wait(max(0.0, began + index * every - time.monotonic())):
                    return
                pool.submit(place, index)

        scheduler = threading.Thread(target=schedule, daemon=True)
        scheduler.start()
        time.sleep(lead)
        started = time.monotonic()
        # test-compose.sh's own command: its output goes to the step's log (standard error: standard output is
        # this step's one line).
        result = subprocess.run(command, timeout=command_limit, check=False, stdout=sys.stderr)  # noqa: S603
        took = time.monotonic() - started
        time.sleep(tail)
        stop.set()
        scheduler.join(timeout=10)
    if result.returncode != 0:
        raise Failed(f"`{' '.join(command[:3])} ...` exited {result.returncode}")
    failed = [entry for entry in sent if entry["status"] != 201]
    if failed:
        first = [f"{entry['error'][:90]} after {entry['seconds']:.1f} s" for entry in failed[:3]]
        raise Failed(f"{len(failed)} of {len(sent)} POSTs failed: {first}")
    if len(sent) < float(rate) * (lead + took):
        raise Failed(f"only {len(sent)} orders in {lead + took:.0f} s")
    orders = {}
    for n, token in enumerate(buyers):
        ids = [entry["id"] for entry in sent if entry["buyer"] == n]
        listed = gateway.orders(token)
        if sorted(listed) != sorted(ids) or len(set(ids)) != len(ids):
            raise Failed(f"buyer {n}: {len(ids)} POSTs answered, {len(listed)} orders listed: not one order each")
        orders.update(gateway.until_terminal(token, ids, limit=240))
    outcome = {}
    for entry in sent:
        order = orders[entry["id"]]
        expected = ("confirmed", "") if entry["card"] == "pm_card_visa" else ("cancelled", "payment_declined")
        if (order["status"], order["cancel_reason"] or "") != expected:
            raise Failed(f"order {entry['id']} ({entry['card']}) ended {order['status']} {order['cancel_reason']}")
        outcome[order["status"]] = outcome.get(order["status"], 0) + 1
    slowest = max(entry["seconds"] for entry in sent)
    return (
        f"{took:.0f} s; {len(sent)} orders at {rate}/s, 0 failed, one order each, all as their cards say "
        f"{outcome}; slowest POST {slowest:.2f} s"
    )


STEPS = {"customer": customer, "operator-pages": operator_pages, "place": place_and_kill, "terminal": burst_terminal,
         "persisted": persisted, "steady": steady_orders}  # fmt: skip


def main(argv: list[str]) -> int:
    step, *args = argv
    if step == "images":
        images(*args)
        return 0
    if step == "base-images":
        base_images(args[0], args[1:])
        return 0
    try:
        print(STEPS[step](Gateway(Path(args[0])), *args[1:]))
    except (Failed, urllib.error.URLError, OSError, KeyError, ValueError) as error:
        print(f"{step}: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
