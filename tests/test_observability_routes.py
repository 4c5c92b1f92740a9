"""The gateway's /grafana/ and /jaeger/: not routed natively; in Compose behind the staff check, and a clear 503
when Grafana and Jaeger do not run (their Compose profile is off).

No Grafana or Jaeger runs on this machine, so Compose's routes (nginx/observability.conf.template, filled with
Compose's values) are run in an nginx of their own beside the test stack, on the stack's upstreams: its
users_svc answers the staff check, and the names grafana and jaeger resolve nowhere, as in a Compose stack
started without the profile.
"""

import shutil
import socket
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from stack import compose
from stack.config import ROOT, StackConfig
from stack.render import fill_template, nginx_main, nginx_values

from .helpers import sign_in_session, wait_until

PATHS = ("/grafana/", "/jaeger/", "/grafana/api/health", "/jaeger/api/services")


def staff_session(gateway_url: str, admin_credentials: dict) -> requests.Session:
    session = requests.Session()
    answer = sign_in_session(session, gateway_url, admin_credentials, next_path="/")
    assert answer.status_code == 302, answer.text
    return session


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def local_resolvers() -> str:
    """The nameservers of /etc/resolv.conf, as the nginx image gives them in NGINX_LOCAL_RESOLVERS."""
    lines = Path("/etc/resolv.conf").read_text().splitlines()
    servers = [line.split()[1] for line in lines if line.split()[:1] == ["nameserver"] and len(line.split()) > 1]
    assert servers, "/etc/resolv.conf names no nameserver"
    return " ".join(servers)


def test_the_native_gateway_does_not_route_grafana_or_jaeger(gateway_url, admin_credentials):
    staff = staff_session(gateway_url, admin_credentials)
    for path in PATHS:
        for session in (requests.Session(), staff):
            answer = session.get(f"{gateway_url}{path}", allow_redirects=False, timeout=10)
            assert answer.status_code == 404, (path, answer.status_code, answer.text[:200])
            assert answer.json()["errors"][0]["code"] == "not_found"


@pytest.fixture
def compose_routes_gateway(tmp_path):
    """An nginx of the shared template and Compose's routes to Grafana and Jaeger, in front of the test stack."""
    for name in ("grafana", "jaeger"):
        with pytest.raises(OSError):
            socket.getaddrinfo(name, None)  # as in Compose without the profile
    stack = StackConfig.from_env()
    cfg = StackConfig(var=tmp_path, port_base=stack.port_base, gateway_port=free_port())
    routes = tmp_path / "routes"
    for folder in (routes, cfg.log_dir, cfg.run_dir, tmp_path / "nginx" / "tmp"):
        folder.mkdir(parents=True)
    values = {**compose.observability_values(), "NGINX_LOCAL_RESOLVERS": local_resolvers()}
    (routes / "observability.conf").write_text(fill_template((ROOT / compose.OBSERVABILITY_ROUTES).read_text(), values))
    # The stack's upstreams (the same port base), a port of its own for stub_status.
    gateway = {
        **nginx_values(cfg),
        "NGINX_STATUS_LISTEN": f"127.0.0.1:{free_port()}",
        "NGINX_EXTRA_ROUTES": str(routes / "*.conf"),
    }
    conf = tmp_path / "nginx.conf"
    conf.write_text(nginx_main(cfg, fill_template((ROOT / "nginx" / "platform.conf.template").read_text(), gateway)))
    program = shutil.which("nginx") or "/usr/sbin/nginx"
    process = subprocess.Popen(
        [program, "-p", str(tmp_path), "-c", str(conf), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:

        def started() -> bool:
            assert process.poll() is None, process.stderr.read().decode()
            try:
                return requests.get(f"{cfg.gateway_url}/health", timeout=2).status_code == 200
            except requests.ConnectionError:
                return False

        wait_until(started, timeout=20, interval=0.2, message="the gateway with Compose's routes")
        yield cfg.gateway_url
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_compose_routes_send_an_anonymous_person_to_sign_in_and_refuse_a_person_not_staff(
    compose_routes_gateway, gateway_url, buyer
):
    person = requests.Session()
    assert sign_in_session(person, gateway_url, buyer.user, next_path="/").status_code == 302
    for path in PATHS:
        anonymous = requests.get(f"{compose_routes_gateway}{path}", allow_redirects=False, timeout=10)
        assert anonymous.status_code == 302, (path, anonymous.status_code)
        location = urlsplit(anonymous.headers["Location"])
        assert (location.path, location.query) == ("/api/users/session/renew/", f"next={path}")
        # The platform's cookies are the host's, whatever the port: this gateway gets the person's.
        refused = person.get(f"{compose_routes_gateway}{path}", allow_redirects=False, timeout=10)
        assert refused.status_code == 403, (path, refused.status_code)
        assert refused.json()["errors"][0]["code"] == "permission_denied"


def test_compose_routes_without_grafana_and_jaeger_answer_staff_503_and_the_rest_still_works(
    compose_routes_gateway, gateway_url, admin_credentials
):
    staff = staff_session(gateway_url, admin_credentials)
    for path in PATHS:
        answer = staff.get(f"{compose_routes_gateway}{path}", allow_redirects=False, timeout=20)
        assert answer.status_code == 503, (path, answer.status_code, answer.text[:300])
        error = answer.json()["errors"][0]
        assert error["code"] == "service_unavailable"
        assert "--profile observability" in error["detail"]
        assert answer.headers.get("X-Request-ID")
    # nginx started without them, and routes everything else.
    assert requests.get(f"{compose_routes_gateway}/api/orders/health/", timeout=10).status_code == 200
    assert staff.get(f"{compose_routes_gateway}/prometheus/api/v1/query?query=up", timeout=10).json()["status"] == (
        "success"
    )
