"""Prometheus's rules and configuration, checked with Debian's promtool (no running stack needed).

The rules of monitoring/rules.yml pass `promtool check rules` and their unit tests (monitoring/rules_test.yml);
a rule broken on purpose fails those tests; the configuration generated from the process list, native and
Compose, passes `promtool check config` and names every process that serves metrics.
"""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from stack import compose, prometheus
from stack.config import StackConfig
from stack.processes import all_processes, app_processes, exporter_processes

MONITORING = Path(__file__).resolve().parent.parent / "monitoring"
RULES = MONITORING / "rules.yml"
RULES_TEST = MONITORING / "rules_test.yml"


def promtool(*args: str, cwd: Path = MONITORING) -> subprocess.CompletedProcess:
    tool = shutil.which("promtool")
    assert tool, "promtool is missing: scripts/bootstrap.sh installs Debian's prometheus"
    return subprocess.run([tool, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_rules_pass_promtool_check():
    result = promtool("check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_rules_pass_their_unit_tests():
    result = promtool("test", "rules", str(RULES_TEST))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("rule", "broken"),
    [
        ("outbox_oldest_unsent_age_seconds > 30", "outbox_oldest_unsent_age_seconds > 300"),
        ("dead_letters_open > 0", "dead_letters_open > 1"),
        ("expr: up == 0", "expr: up == 2"),
    ],
)
def test_a_broken_rule_fails_the_unit_tests(tmp_path, rule, broken):
    text = RULES.read_text()
    assert rule in text
    (tmp_path / "rules.yml").write_text(text.replace(rule, broken))
    shutil.copy(RULES_TEST, tmp_path / "rules_test.yml")
    result = promtool("test", "rules", "rules_test.yml", cwd=tmp_path)
    assert result.returncode != 0, result.stdout


def every_target(config: dict) -> set[str]:
    return {
        static["labels"]["process"]
        for job in config["scrape_configs"]
        for static in job["static_configs"]
        for _ in static["targets"]
    }


def test_native_configuration_scrapes_every_process_that_serves_metrics(tmp_path):
    cfg = StackConfig(var=tmp_path, port_base=19000, gateway_port=19080)
    processes = all_processes(cfg)
    (tmp_path / "prometheus.yml").write_text(prometheus.native_config(cfg, processes))
    result = promtool("check", "config", str(tmp_path / "prometheus.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
    config = yaml.safe_load((tmp_path / "prometheus.yml").read_text())
    serving = {process.name for process in processes if process.metrics_port}
    assert every_target(config) == serving | {"prometheus"}
    # Every web, worker and relay of the list, Flower and the exporters.
    assert {p.name for p in processes if p.role in {"web", "worker", "relay", "flower", "exporter"}} <= serving
    assert {"redis-exporter", "postgres-exporter", "nginx-exporter"} <= serving


def test_compose_configuration_is_the_same_list_at_container_names(tmp_path):
    config = yaml.safe_load(compose.prometheus_file())
    processes = app_processes(compose.VALUES) + exporter_processes(compose.VALUES)
    assert every_target(config) == {p.name for p in processes} | {"prometheus"}
    for job in config["scrape_configs"]:
        for static in job["static_configs"]:
            host = static["targets"][0].split(":")[0]
            assert host == static["labels"]["process"] or job["job_name"] == "prometheus"
    config["rule_files"] = [str(RULES)]
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    result = promtool("check", "config", str(tmp_path / "prometheus.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
