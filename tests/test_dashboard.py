"""Grafana's dashboard (monitoring/grafana/): its queries checked against the metrics that exist.

Without a stack: the dashboard and the provisioning files parse, every panel reads the provisioned Prometheus,
every query passes `promtool check rules` as a recording rule, and the data source is the Compose Prometheus.
On the test stack (whose native Prometheus has the same scrape jobs and rules as Compose's): after a few orders
every query runs through Prometheus' HTTP API, answers `success` with data, and every metric name it names is
one Prometheus has or a recording rule of monitoring/rules.yml. No Grafana runs here (its image cannot be pulled
and Debian has none), so the queries are plain PromQL with no Grafana variable: what Grafana sends is what is
checked.
"""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import requests
import yaml

from stack import compose
from stack.config import ROOT
from stack.processes import PROMETHEUS_ROUTE_PREFIX

from .helpers import sign_in_session, wait_until
from .invariants import wait_terminal
from .test_saga import DECLINED, VISA, placed

GRAFANA = ROOT / compose.GRAFANA_DIR
DASHBOARD = ROOT / compose.DASHBOARD_FILE
DATASOURCES = GRAFANA / "provisioning" / "datasources" / "prometheus.yml"
DASHBOARD_PROVIDERS = GRAFANA / "provisioning" / "dashboards" / "shop-platform.yml"
RULES = ROOT / "monitoring" / "rules.yml"

# What the dashboard shows, by panel title.
PANELS = {
    "Orders per second by outcome",
    "Saga: POST to terminal status, p50 / p90 / p99",
    "Saga hops: p99 by message type",
    "HTTP p99 per service",
    "Outbox: unsent messages per service",
    "Outbox: oldest unsent row per service",
    "Queue depth per queue",
    "Open dead letters per service",
    "Targets up",
}


def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


def queries(board: dict) -> list[tuple[str, str]]:
    """(panel title and refId, PromQL) of every target of every panel."""
    return [(f"{panel['title']} [{t['refId']}]", t["expr"]) for panel in board["panels"] for t in panel["targets"]]


def recording_rules() -> set[str]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return {rule["record"] for group in groups for rule in group["rules"] if "record" in rule}


# PromQL's words that are not metric names: keywords, and what a number or a duration may hold.
PROMQL_WORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset",
    "inf", "nan",
}  # fmt: skip


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects: every identifier that is not a function or an aggregation
    (followed by a parenthesis), a keyword, a label of a `by (...)`-like clause, or inside a label matcher, a
    range or a string."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', " ", expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = set()
    for match in re.finditer(r"(?<![\w.:])([A-Za-z_:][\w:]*)\s*(\()?", text):
        word, call = match.groups()
        if not call and word.lower() not in PROMQL_WORDS:
            names.add(word)
    return names


def unknown_names(expr: str, known: set[str]) -> set[str]:
    return metric_names(expr) - known


# WITHOUT A STACK
def test_metric_names_are_read_from_promql_as_prometheus_would_select_them():
    assert metric_names("histogram_quantile(0.99, sum by (service, le) (rate(x_bucket{job='web'}[5m])))") == {
        "x_bucket"
    }
    assert metric_names("a:b:rate5m > 2 and on (status) c_total offset 5m unless d") == {"a:b:rate5m", "c_total", "d"}
    assert metric_names('max by (queue) (queue_messages{queue=~"in.*"}) * 1e3') == {"queue_messages"}
    assert metric_names("sum(rate(m[1m:10s])) / ignoring(le) count without (x) (n)") == {"m", "n"}


def test_dashboard_has_the_panels_of_the_platform_each_on_the_provisioned_prometheus():
    board = dashboard()
    assert board["title"] == "Shop platform" and board["uid"] == "shop-platform"
    assert {panel["title"] for panel in board["panels"]} == PANELS
    source = yaml.safe_load(DATASOURCES.read_text())["datasources"]
    assert len(source) == 1 and source[0]["type"] == "prometheus"
    reference = {"type": "prometheus", "uid": source[0]["uid"]}
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids))
    for panel in board["panels"]:
        assert panel["datasource"] == reference, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == reference, (panel["title"], target["refId"])
            # Plain PromQL: no Grafana variable ($__rate_interval, $__range, ...), so the check below is of
            # what Grafana sends.
            assert "$" not in target["expr"], (panel["title"], target["expr"])
        assert len({target["refId"] for target in panel["targets"]}) == len(panel["targets"]), panel["title"]


def test_panels_fill_a_24_column_grid_without_overlapping():
    cells: dict[tuple[int, int], str] = {}
    for panel in dashboard()["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                assert (x, y) not in cells, f"{panel['title']} overlaps {cells[(x, y)]}"
                cells[(x, y)] = panel["title"]


def test_data_source_is_the_compose_prometheus_at_its_route_prefix():
    source = yaml.safe_load(DATASOURCES.read_text())["datasources"][0]
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    listen = next(a for a in services["prometheus"]["command"] if a.startswith("--web.listen-address="))
    prefix = next(a for a in services["prometheus"]["command"] if a.startswith("--web.route-prefix="))
    assert prefix.split("=", 1)[1] == PROMETHEUS_ROUTE_PREFIX
    port = listen.rsplit(":", 1)[1]
    assert source["url"] == f"http://prometheus:{port}{PROMETHEUS_ROUTE_PREFIX.rstrip('/')}"
    assert source["access"] == "proxy"  # Grafana's server asks, on the Compose network; no browser does


def test_dashboard_provider_reads_the_folder_compose_mounts():
    provider = yaml.safe_load(DASHBOARD_PROVIDERS.read_text())["providers"][0]
    grafana = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["grafana"]
    mounts = dict(volume.rsplit(":", 2)[:2] for volume in grafana["volumes"] if volume.startswith("./"))
    assert mounts[f"./{compose.GRAFANA_DIR}/dashboards"] == provider["options"]["path"]
    assert mounts[f"./{compose.GRAFANA_DIR}/provisioning"] == grafana["environment"]["GF_PATHS_PROVISIONING"]
    assert (ROOT / compose.GRAFANA_DIR / "dashboards" / DASHBOARD.name).exists()
    assert grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"] == (
        f"{provider['options']['path']}/{DASHBOARD.name}"
    )


def promtool_check(tmp_path: Path, expressions: list[tuple[str, str]]) -> subprocess.CompletedProcess:
    """`promtool check rules` of the expressions, each wrapped as a recording rule, in one temporary file."""
    tool = shutil.which("promtool")
    assert tool, "promtool is missing: scripts/bootstrap.sh installs Debian's prometheus"
    rules = [{"record": f"dashboard:query_{i}", "expr": expr} for i, (_, expr) in enumerate(expressions)]
    path = tmp_path / "dashboard-rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}, sort_keys=False))
    return subprocess.run([tool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60)


def test_every_query_passes_promtool_as_a_recording_rule(tmp_path):
    found = queries(dashboard())
    result = promtool_check(tmp_path, found)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(found)} rules found" in result.stdout, result.stdout
    # ... and a query broken on purpose does not.
    broken = promtool_check(tmp_path, [*found, ("broken", "sum by (service (up)")])
    assert broken.returncode != 0, broken.stdout


# ON THE TEST STACK
def staff_session(gateway_url: str, admin_credentials: dict) -> requests.Session:
    session = requests.Session()
    answer = sign_in_session(session, gateway_url, admin_credentials, next_path=PROMETHEUS_ROUTE_PREFIX)
    assert answer.status_code == 302, answer.text
    return session


def test_every_dashboard_query_runs_on_prometheus_over_metrics_that_exist(
    gateway_url, admin_credentials, buyer, make_product
):
    product = make_product(stock=10)
    orders = [placed(buyer, [(product["sku"], 1)], VISA) for _ in range(2)]
    orders.append(placed(buyer, [(product["sku"], 1)], DECLINED))
    wait_terminal([order["id"] for order in orders], timeout=60)

    staff = staff_session(gateway_url, admin_credentials)
    api = f"{gateway_url}{PROMETHEUS_ROUTE_PREFIX}api/v1"
    found = queries(dashboard())

    # Every metric name a query names is one Prometheus has, or a rule of monitoring/rules.yml records. A name
    # appears once its first sample is scraped (every 10 s), moments after the orders end.
    known: set[str] = set()

    def unknown() -> dict[str, set[str]]:
        return {name: unknown_names(expr, known) for name, expr in found if unknown_names(expr, known)}

    def all_known() -> bool:
        answer = staff.get(f"{api}/label/__name__/values", timeout=10).json()
        assert answer["status"] == "success", answer
        known.clear()
        known.update(set(answer["data"]) | recording_rules())
        return not unknown()

    try:
        wait_until(all_known, timeout=60, interval=5)
    except AssertionError:
        pytest.fail(f"metric names Prometheus does not have and no rule of rules.yml records: {unknown()}")
    # Every query names at least one metric, so the check above checks something.
    assert all(metric_names(expr) for _, expr in found)

    # Every query answers `success`, and with data once a recording rule has been evaluated over the orders'
    # figures (two scrapes and an evaluation, every 10 s each).
    results: dict[str, dict] = {}

    def without_data() -> list[str]:
        return [name for name, got in results.items() if got["status"] != "success" or not got["data"]["result"]]

    def all_answered() -> bool:
        for name, expr in found:
            results[name] = staff.get(f"{api}/query", params={"query": expr}, timeout=10).json()
        return not without_data()

    try:
        wait_until(all_answered, timeout=120, interval=5)
    except AssertionError:
        pytest.fail(f"queries without data after 120 s: {without_data()}")
    assert {answer["status"] for answer in results.values()} == {"success"}

    # A misspelt name in a query is caught by the same check, though Prometheus answers it `success` (empty).
    expr = next(expr for _, expr in found if "outbox_oldest_unsent_age_seconds" in expr)
    misspelt = expr.replace("outbox_oldest_unsent_age_seconds", "outbox_oldest_unsent_age_second")
    answer = staff.get(f"{api}/query", params={"query": misspelt}, timeout=10).json()
    assert answer["status"] == "success" and answer["data"]["result"] == []
    assert unknown_names(misspelt, known) == {"outbox_oldest_unsent_age_second"}
