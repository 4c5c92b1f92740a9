"""The Kubernetes manifests (deploy/kubernetes/), checked without a cluster.

The committed files must be the ones generated from the process list; kustomize (kubectl's, installed by
scripts/bootstrap.sh) must render each overlay; every rendered object must validate against the Kubernetes API's
schemas (kubernetes-validate, strict) or, for KEDA's ScaledObject, against its vendored schema; and the app
containers must run the process list's commands with its variable names, every value they read from a Secret or
ConfigMap being there. Prometheus's configuration is walked through on the rendered pods as its discovery and
relabelling would (every pod of each process with a metrics port is scraped, nothing else), and checked by
promtool. Needs no running stack.
"""

import base64
import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from stack import compose, kubernetes, prometheus
from stack.config import MESSAGING_SERVICES, ROOT, SERVICES
from stack.processes import PROMETHEUS_ROUTE_PREFIX, SETUP_COMMANDS, app_processes, exporter_processes

DEPLOY = ROOT / "deploy" / "kubernetes"
KEDA_SCHEMA = DEPLOY / "schemas" / "keda.sh_v1alpha1_scaledobject.json"
KUBERNETES_VERSION = "1.32"  # the oldest minor still supported upstream when this was written
OVERLAYS = ("dev", "prod")
NAMESPACES = {"dev": "shop-dev", "prod": "shop"}
# What the kubelet adds to a service's variables: DJANGO_ALLOWED_HOSTS is the ConfigMap's list and the pod's IP.
ALLOWED_HOSTS_PARTS = {"PLATFORM_ALLOWED_HOSTS", "POD_IP"}


def kubectl() -> str:
    found = Path(sys.executable).parent / "kubectl"
    if not found.exists():
        pytest.fail("kubectl is missing from .venv: run scripts/bootstrap.sh", pytrace=False)
    return str(found)


def render(overlay: str, tmp_path: Path) -> list[dict]:
    """`kubectl kustomize` of an overlay, on a copy of deploy/kubernetes whose prod secrets are the examples."""
    copy = tmp_path / "kubernetes"
    shutil.copytree(DEPLOY, copy, ignore=shutil.ignore_patterns("*.env"))
    for example in (copy / "overlays" / "prod" / "secrets").glob("*.env.example"):
        shutil.copy(example, example.with_suffix(""))
    result = subprocess.run(
        [kubectl(), "kustomize", str(copy / "overlays" / overlay)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module", params=OVERLAYS)
def rendered(request, tmp_path_factory) -> tuple[str, list[dict]]:
    return request.param, render(request.param, tmp_path_factory.mktemp(request.param))


def by_kind(objects: list[dict], kind: str) -> dict[str, dict]:
    return {obj["metadata"]["name"]: obj for obj in objects if obj["kind"] == kind}


def validation_error(obj: dict) -> str | None:
    """Why an object does not validate against its schema; None when it does."""
    try:
        if obj["apiVersion"] == "keda.sh/v1alpha1":
            schema = json.loads(KEDA_SCHEMA.read_text())
            assert obj["kind"] == "ScaledObject", f"no schema vendored for {obj['kind']}"
            jsonschema.Draft202012Validator(schema).validate(obj)
        else:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    except (jsonschema.ValidationError, kubernetes_validate.utils.SchemaNotFoundError) as error:
        return f"{'.'.join(map(str, getattr(error, 'path', [])))}: {getattr(error, 'message', error)}"
    return None


def test_committed_manifests_are_the_ones_generated_from_the_process_list():
    expected = kubernetes.files()
    for path, text in expected.items():
        assert (DEPLOY / path).exists() and (DEPLOY / path).read_text() == text, (
            f"deploy/kubernetes/{path} is stale: run `.venv/bin/python -m stack kubernetes`"
        )
    committed = subprocess.run(
        ["git", "ls-files", "deploy/kubernetes"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    left = {path.removeprefix("deploy/kubernetes/") for path in committed} - set(expected)
    assert left <= {"schemas/README.md", f"schemas/{KEDA_SCHEMA.name}"}, left


def test_every_rendered_object_validates_against_the_kubernetes_api_schemas(rendered):
    overlay, objects = rendered
    errors = [
        f"{obj['kind']}/{obj['metadata']['name']} {validation_error(obj)}" for obj in objects if validation_error(obj)
    ]
    assert not errors, f"{overlay}: " + "; ".join(errors)


def test_validation_rejects_a_misspelt_field_and_a_wrong_type(rendered):
    """The check above can fail: the schemas are strict about unknown fields and types, KEDA's included."""
    _, objects = rendered
    deployment = json.loads(json.dumps(by_kind(objects, "Deployment")["orders-web"]))
    deployment["spec"]["template"]["spec"]["containers"][0]["comand"] = ["true"]
    assert validation_error(deployment)
    scaled = json.loads(json.dumps(by_kind(objects, "ScaledObject")["orders-worker"]))
    scaled["spec"]["maxReplicaCount"] = "ten"
    assert validation_error(scaled)
    scaled["spec"]["maxReplicaCount"] = 10
    scaled["spec"]["triggers"][0]["metdata"] = {}
    assert validation_error(scaled)


def test_app_containers_run_the_process_list_commands_with_its_variable_names(rendered):
    _, objects = rendered
    deployments = by_kind(objects, "Deployment")
    processes = app_processes(kubernetes.KubernetesValues())
    for process in processes:
        container = deployments[process.name]["spec"]["template"]["spec"]["containers"][0]
        # ${NAME} in the process list is $(NAME) in Kubernetes: the kubelet fills it from the container's env.
        assert container["command"] == [re.sub(r"\$\{(\w+)\}", r"$(\1)", part) for part in process.command]
        names = [variable["name"] for variable in container["env"]]
        expected = set(process.env) - {"PATH"}  # the image's own PATH finds its programs
        if process.service in {"inventory", "orders", "payments"}:
            expected = expected - {"JWT_PUBLIC_KEY_FILE"} | {"JWT_JWKS_URL"}  # as in Compose: users_svc's JWKS
        if process.service:
            expected |= ALLOWED_HOSTS_PARTS
        assert set(names) == expected, process.name
        for placeholder in re.findall(r"\$\((\w+)\)", " ".join(container["command"])):
            assert placeholder in names, f"{process.name}: $({placeholder}) is not in its environment"
    own = {p.name for p in exporter_processes(kubernetes.KubernetesValues()) if p.name not in kubernetes.SIDECARS}
    assert set(deployments) - {"gateway", "prometheus"} == {p.name for p in processes} | own


def test_each_migration_job_runs_the_process_list_set_up_commands(rendered):
    _, objects = rendered
    jobs = by_kind(objects, "Job")
    assert set(jobs) == {f"{service}-migrate" for service in SERVICES}
    for service in SERVICES:
        container = jobs[f"{service}-migrate"]["spec"]["template"]["spec"]["containers"][0]
        assert container["command"][:3] == ["python", "-m", "service_kit.setup_commands"]
        commands = [shlex.split(command) for command in container["command"][3:]]
        # As Compose's migrate containers: less collectstatic, the image holds its static files.
        assert commands == [args for args in SETUP_COMMANDS[service] if args[0] != "collectstatic"]
        names = {variable["name"] for variable in container["env"]}
        assert {"DATABASE_URL", "REDIS_URL", "DJANGO_SECRET_KEY"} <= names
        if service == "users":
            assert {"ADMIN_EMAIL", "ADMIN_PASSWORD", "SERVICE_CLIENT_ID", "SERVICE_CLIENT_SECRET"} <= names


def test_every_secret_and_config_value_an_app_reads_is_there(rendered):
    overlay, objects = rendered
    secrets, configs = by_kind(objects, "Secret"), by_kind(objects, "ConfigMap")
    for obj in objects:
        if obj["kind"] not in {"Deployment", "Job", "StatefulSet"}:
            continue
        pod = obj["spec"]["template"]["spec"]
        for container in pod.get("initContainers", []) + pod["containers"]:
            for variable in container.get("env", []):
                source = variable.get("valueFrom", {})
                if "secretKeyRef" in source:
                    ref = source["secretKeyRef"]
                    assert ref["key"] in secrets[ref["name"]]["data"], f"{overlay}: {obj['metadata']['name']} {ref}"
                elif "configMapKeyRef" in source:
                    ref = source["configMapKeyRef"]
                    assert ref["key"] in configs[ref["name"]]["data"], f"{overlay}: {obj['metadata']['name']} {ref}"


def test_web_has_probes_on_the_health_endpoints_an_hpa_and_a_disruption_budget(rendered):
    _, objects = rendered
    deployments, hpas, pdbs = (by_kind(objects, kind) for kind in ("Deployment", "HorizontalPodAutoscaler",
                                                                       "PodDisruptionBudget"))  # fmt: skip
    for service in SERVICES:
        web = deployments[f"{service}-web"]
        container = web["spec"]["template"]["spec"]["containers"][0]
        assert container["livenessProbe"]["httpGet"]["path"] == f"/api/{service}/health/live/"
        assert container["readinessProbe"]["httpGet"]["path"] == f"/api/{service}/health/ready/"
        assert container["resources"]["requests"] and container["resources"]["limits"]
        assert web["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
        assert hpas[f"{service}-web"]["spec"]["scaleTargetRef"]["name"] == f"{service}-web"
        assert pdbs[f"{service}-web"]["spec"]["minAvailable"] == 1


def test_each_worker_scales_on_the_length_of_its_contract_queues(rendered):
    overlay, objects = rendered
    scaled = by_kind(objects, "ScaledObject")
    contract = yaml.safe_load((ROOT / "contracts" / "asyncapi.yaml").read_text())
    channels = {channel["address"] for channel in contract["channels"].values()}
    assert set(scaled) == {f"{service}-worker" for service in MESSAGING_SERVICES}
    for service in MESSAGING_SERVICES:
        spec = scaled[f"{service}-worker"]["spec"]
        assert spec["scaleTargetRef"]["name"] == f"{service}-worker"
        lists = [trigger["metadata"]["listName"] for trigger in spec["triggers"]]
        assert lists == [service, f"{service}.receipts"]
        assert set(lists) <= channels
        assert all(trigger["type"] == "redis" for trigger in spec["triggers"])
        addresses = {trigger["metadata"]["address"] for trigger in spec["triggers"]}
        assert addresses == ({"redis:6379"} if overlay == "dev" else {kubernetes.PROD_REDIS_ADDRESS})


def ingress_sources(policy: dict) -> list[dict]:
    return [source for rule in policy["spec"]["ingress"] for source in rule.get("from", [])]


def test_network_policies_let_only_the_gateway_reach_web_and_only_a_service_its_database(rendered):
    overlay, objects = rendered
    policies = by_kind(objects, "NetworkPolicy")
    assert policies["default-deny-ingress"]["spec"] == {"podSelector": {}, "policyTypes": ["Ingress"]}
    gateway = {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "gateway"}}}
    for service in SERVICES:
        sources = ingress_sources(policies[f"{service}-web-ingress"])
        assert sources[0] == gateway
        # Besides the gateway: the services that read users_svc's JWKS, and orders_svc's reconciliation.
        others = {s["podSelector"]["matchLabels"]["shop-platform/service"] for s in sources[1:]}
        expected = set(SERVICES) - {"users"} if service == "users" else set() if service == "orders" else {"orders"}
        assert others == expected, service
    statefulsets = by_kind(objects, "StatefulSet")
    if overlay == "prod":
        assert not statefulsets  # managed PostgreSQL and Redis, by URL
        return
    assert set(statefulsets) == {f"{s}-db" for s in SERVICES} | {"redis"}
    for service in SERVICES:
        sources = ingress_sources(policies[f"{service}-db-ingress"])
        assert sources == [
            {"podSelector": {"matchLabels": {"shop-platform/service": service}}},
            {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "postgres-exporter"}}},
        ]


def test_prod_reads_its_databases_and_redis_from_secrets_kept_out_of_git():
    ignored = subprocess.run(
        ["git", "check-ignore", "deploy/kubernetes/overlays/prod/secrets/orders-secrets.env"], cwd=ROOT
    )
    assert ignored.returncode == 0
    for service in SERVICES:
        example = (DEPLOY / "overlays" / "prod" / "secrets" / f"{service}-secrets.env.example").read_text()
        assert re.search(r"^DATABASE_URL=postgres://", example, re.MULTILINE)
    example = (DEPLOY / "overlays" / "prod" / "secrets" / f"{kubernetes.EXPORTER_SECRET}.env.example").read_text()
    sources = re.search(r"^DATA_SOURCE_NAME=(.+)$", example, re.MULTILINE).group(1).split(",")
    assert [source.split("/")[-1].split("?")[0] for source in sources] == list(SERVICES)  # a server per service


# PROMETHEUS AND THE EXPORTERS


def metrics_processes() -> list:
    values = kubernetes.KubernetesValues()
    return [p for p in app_processes(values) + exporter_processes(values) if p.metrics_port is not None]


def prometheus_config(objects: list[dict]) -> dict:
    return yaml.safe_load(by_kind(objects, "ConfigMap")["prometheus-config"]["data"]["prometheus.yml"])


def pod_templates(objects: list[dict]) -> dict[str, dict]:
    """Each workload's pod template, by the workload's name."""
    kinds = {"Deployment", "StatefulSet", "Job"}
    return {obj["metadata"]["name"]: obj["spec"]["template"] for obj in objects if obj["kind"] in kinds}


POD_IP = "10.1.2.3"


def discovered(template: dict, name: str, phase: str = "Running") -> list[dict]:
    """The targets Kubernetes' discovery of pods gives Prometheus for one pod of a template: one per declared port
    of each container, one per container declaring none (Prometheus's documentation, `role: pod`)."""
    pod = {
        "__meta_kubernetes_pod_name": f"{name}-5d9c7b-x2x4q",
        "__meta_kubernetes_pod_phase": phase,
        **{f"__meta_kubernetes_pod_label_{re.sub(r'[^A-Za-z0-9_]', '_', k)}": v
           for k, v in template["metadata"]["labels"].items()},
    }  # fmt: skip
    found = []
    spec = template["spec"]
    for container in spec.get("initContainers", []) + spec["containers"]:
        for port in container.get("ports") or [None]:
            number = str(port["containerPort"]) if port else ""
            found.append(
                {
                    **pod,
                    "__meta_kubernetes_pod_container_name": container["name"],
                    "__meta_kubernetes_pod_container_port_number": number,
                    "__address__": f"{POD_IP}:{number}" if port else POD_IP,
                }
            )
    return found


def relabel(labels: dict[str, str], rules: list[dict]) -> dict[str, str] | None:
    """Prometheus's relabelling (the actions the configuration uses); None: the target is dropped."""
    labels = dict(labels)
    for rule in rules:
        value = rule.get("separator", ";").join(labels.get(name, "") for name in rule.get("source_labels", []))
        match = re.fullmatch(rule.get("regex", "(.*)"), value)  # Prometheus anchors its regexes
        action = rule.get("action", "replace")
        if (action == "keep" and not match) or (action == "drop" and match):
            return None
        if action == "replace" and match:
            replacement = re.sub(r"\$\{?(\w+)\}?", r"\\g<\1>", rule.get("replacement", "$1"))
            result = match.expand(replacement)
            if result:
                labels[rule["target_label"]] = result
            else:
                labels.pop(rule["target_label"], None)  # an empty label is no label
        assert action in {"keep", "drop", "replace"}, f"relabel() does not know {action}"
    return labels


def scraped(objects: list[dict], phase: str = "Running") -> list[tuple[str, dict]]:
    """Every (job, target labels) Prometheus would scrape in a cluster holding one pod of each template."""
    found = []
    for job in prometheus_config(objects)["scrape_configs"]:
        if "kubernetes_sd_configs" not in job:
            continue
        for name, template in pod_templates(objects).items():
            for target in discovered(template, name, phase):
                kept = relabel(target, job["relabel_configs"])
                if kept is not None:
                    found.append((job["job_name"], kept))
    return found


def test_prometheus_scrapes_every_pod_of_each_process_that_serves_metrics(rendered):
    """Walked through as Prometheus's discovery and relabelling would: each process with a metrics port is one
    target per pod, in its role's job, on its port, labelled with its process and service; no other pod or port
    of the namespace is, and a pod not running yet is not."""
    _, objects = rendered
    config = prometheus_config(objects)
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    targets = scraped(objects)
    processes = metrics_processes()
    assert sorted(labels["process"] for _, labels in targets) == sorted(p.name for p in processes)
    for process in processes:
        (job, labels), *_ = [(job, labels) for job, labels in targets if labels["process"] == process.name]
        assert job == process.role
        assert jobs[job]["metrics_path"] == process.metrics_path
        assert labels["__address__"] == f"{POD_IP}:{process.metrics_port}"
        assert labels.get("service") == process.service
        assert labels["pod"].startswith(f"{kubernetes.pod_of(process)}-")
    for job in jobs.values():
        if "kubernetes_sd_configs" in job:
            assert job["kubernetes_sd_configs"] == [{"role": "pod", "namespaces": {"own_namespace": True}}]
    assert not scraped(objects, phase="Pending")
    assert jobs["prometheus"]["static_configs"][0]["targets"] == [f"127.0.0.1:{compose.PROMETHEUS_PORT}"]


def resolved_env(container: dict, objects: list[dict]) -> dict[str, str]:
    """A container's environment as the kubelet makes it: sources read, `$(NAME)` of earlier variables filled."""
    secrets, configs = by_kind(objects, "Secret"), by_kind(objects, "ConfigMap")
    env: dict[str, str] = {}
    for variable in container["env"]:
        source = variable.get("valueFrom", {})
        if "configMapKeyRef" in source:
            ref = source["configMapKeyRef"]
            env[variable["name"]] = configs[ref["name"]]["data"][ref["key"]]
        elif "secretKeyRef" in source:
            ref = source["secretKeyRef"]
            env[variable["name"]] = base64.b64decode(secrets[ref["name"]]["data"][ref["key"]]).decode()
        elif "fieldRef" in source:
            assert source["fieldRef"]["fieldPath"] == "status.podIP"
            env[variable["name"]] = POD_IP
        else:
            env[variable["name"]] = re.sub(r"\$\((\w+)\)", lambda m: env.get(m[1], m[0]), variable["value"])
    return env


def test_web_pods_answer_a_scrape_at_their_own_ip(rendered):
    """Prometheus asks a pod at its IP, the Host Django checks against DJANGO_ALLOWED_HOSTS; the ConfigMap's
    names stay allowed beside it."""
    _, objects = rendered
    templates = pod_templates(objects)
    configured = by_kind(objects, "ConfigMap")[kubernetes.CONFIG]["data"]["DJANGO_ALLOWED_HOSTS"].split(",")
    for service in SERVICES:
        container = templates[f"{service}-web"]["spec"]["containers"][0]
        allowed = resolved_env(container, objects)["DJANGO_ALLOWED_HOSTS"].split(",")
        assert POD_IP in allowed and set(configured) <= set(allowed), service


def test_prometheus_configuration_passes_promtool(tmp_path):
    """promtool checks everything but the discovery itself (Debian's Prometheus is built without Kubernetes'
    discovery): each job's discovery is replaced by a static target, the rules are the repository's."""
    config = yaml.safe_load(kubernetes.prometheus_configuration(metrics_processes()))
    assert config["rule_files"] == [f"{kubernetes.PROMETHEUS_DIR}/rules.yml"]
    config["rule_files"] = [str(prometheus.RULES_FILE)]
    for job in config["scrape_configs"]:
        if job.pop("kubernetes_sd_configs", None):
            job["static_configs"] = [{"targets": [f"{POD_IP}:9100"]}]
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    tool = shutil.which("promtool")
    assert tool, "promtool is missing: scripts/bootstrap.sh installs Debian's prometheus"
    result = subprocess.run(
        [tool, "check", "config", str(tmp_path / "prometheus.yml")], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_prometheus_runs_compose_image_and_flags_as_non_root_with_its_files_and_rights(rendered):
    overlay, objects = rendered
    deployments, configs = by_kind(objects, "Deployment"), by_kind(objects, "ConfigMap")
    deployment = deployments["prometheus"]
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}  # one volume, one TSDB lock
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == compose.PROMETHEUS_IMAGE
    args = container["args"]
    # Compose's flags, its external URL from the ConfigMap (the public host in prod).
    for flag in compose.prometheus()["command"]:
        if not flag.startswith("--web.external-url="):
            assert flag in args, flag
    assert "--web.external-url=$(PROMETHEUS_EXTERNAL_URL)" in args
    external = resolved_env(container, objects)["PROMETHEUS_EXTERNAL_URL"]
    expected = "http://localhost:8080" if overlay == "dev" else f"https://{kubernetes.PROD_HOST}"
    assert external == expected + PROMETHEUS_ROUTE_PREFIX
    assert container["readinessProbe"]["httpGet"]["path"] == f"{PROMETHEUS_ROUTE_PREFIX}-/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == f"{PROMETHEUS_ROUTE_PREFIX}-/healthy"
    assert {probe["httpGet"]["port"] for probe in (container["readinessProbe"], container["livenessProbe"])} == {
        compose.PROMETHEUS_PORT
    }
    assert container["resources"]["requests"] and container["resources"]["limits"]
    assert pod["securityContext"]["runAsNonRoot"] and pod["securityContext"]["runAsUser"] != 0
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    # Its configuration and the rules in the folder its flags name.
    folder = next(a for a in args if a.startswith("--config.file=")).split("=")[1].rsplit("/", 1)[0]
    mount = next(m for m in container["volumeMounts"] if m["mountPath"] == folder)
    volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
    projected = [source["configMap"]["name"] for source in volume["projected"]["sources"]]
    files = {name for config in projected for name in configs[config]["data"]}
    assert files == {"prometheus.yml", "rules.yml"}
    assert prometheus_config(objects)["rule_files"] == [f"{folder}/rules.yml"]
    # Its discovery's rights: the pods of its own namespace, read only.
    bindings = [b for b in by_kind(objects, "RoleBinding").values()
                if {"kind": "ServiceAccount", "name": pod["serviceAccountName"], "namespace": NAMESPACES[overlay]}
                in b["subjects"]]  # fmt: skip
    assert len(bindings) == 1 and bindings[0]["roleRef"]["kind"] == "Role"
    role = by_kind(objects, "Role")[bindings[0]["roleRef"]["name"]]
    assert role["rules"] == [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}]
    assert pod["serviceAccountName"] in by_kind(objects, "ServiceAccount")
    service = by_kind(objects, "Service")["prometheus"]
    assert service["spec"]["ports"][0]["port"] == compose.PROMETHEUS_PORT
    assert service["spec"]["selector"].items() <= deployment["spec"]["template"]["metadata"]["labels"].items()


def test_prometheus_rules_are_a_copy_of_monitoring_rules(rendered):
    _, objects = rendered
    copy = by_kind(objects, "ConfigMap")["prometheus-rules"]["data"]["rules.yml"]
    assert copy == prometheus.RULES_FILE.read_text(), "run `.venv/bin/python -m stack kubernetes`"


def test_gateway_sends_prometheus_to_its_service_and_keeps_stub_status_in_its_pod(rendered):
    _, objects = rendered
    conf = by_kind(objects, "ConfigMap")["gateway-config"]["data"]["default.conf"]
    upstream = re.search(r"upstream prometheus\s*\{\s*server\s+([^;\s]+);", conf).group(1)
    host, port = upstream.split(":")
    service = by_kind(objects, "Service")[host]
    assert int(port) in {p["port"] for p in service["spec"]["ports"]}
    labels = pod_templates(objects)["prometheus"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    # stub_status listens on the pod's loopback alone, where the exporter beside nginx reads it.
    listen = re.search(r"listen (\S+);\s*access_log off;\s*location = /stub_status", conf).group(1)
    assert listen == f"127.0.0.1:{compose.NGINX_STATUS_PORT}"
    gateway = pod_templates(objects)["gateway"]["spec"]["containers"]
    exporter = next(c for c in gateway if c["name"] == "nginx-exporter")
    assert resolved_env(exporter, objects)["NGINX_STATUS_URL"] == f"http://{listen}/stub_status"
    assert "readinessProbe" not in exporter  # it never takes a gateway out of its Service


def test_exporters_run_the_process_list_commands_in_compose_exporter_image(rendered):
    overlay, objects = rendered
    templates = pod_templates(objects)
    for process in exporter_processes(kubernetes.KubernetesValues()):
        pod = templates[kubernetes.pod_of(process)]
        container = next(c for c in pod["spec"]["containers"] if c["name"] == process.name)
        assert container["image"].split(":")[0] == kubernetes.EXPORTER_IMAGE
        assert container["command"] == [re.sub(r"\$\{(\w+)\}", r"$(\1)", part) for part in process.command]
        assert {variable["name"] for variable in container["env"]} == set(process.env) - {"PATH"}
        assert container["ports"] == [{"name": "metrics", "containerPort": process.metrics_port}]
        security = {**pod["spec"].get("securityContext", {}), **container["securityContext"]}
        assert security["runAsNonRoot"] and security["runAsUser"] != 0
    postgres = templates["postgres-exporter"]["spec"]["containers"][0]
    sources = resolved_env(postgres, objects)["DATA_SOURCE_NAME"].split(",")
    if overlay == "dev":  # the services' own servers, without TLS (they have none)
        urls = [resolved_env(templates[f"{s}-web"]["spec"]["containers"][0], objects)["DATABASE_URL"] for s in SERVICES]
        assert sources == [f"{url}?sslmode=disable" for url in urls]
    # The Redis the services use, in either overlay (its URL from the one Secret).
    redis = resolved_env(templates["redis-exporter"]["spec"]["containers"][0], objects)["REDIS_URL"]
    assert redis == resolved_env(templates["orders-worker"]["spec"]["containers"][0], objects)["REDIS_URL"]


def selects(selector: dict, labels: dict[str, str]) -> bool:
    """A NetworkPolicy's label selector (the forms the manifests use) against a pod's labels."""
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    for expression in selector.get("matchExpressions", []):
        assert expression["operator"] == "In"
        if labels.get(expression["key"]) not in expression["values"]:
            return False
    return True


def reaches(objects: list[dict], source: str, target: str, port: int) -> bool:
    """Whether a pod of the workload `source` may open `port` on a pod of `target` (ingress policies)."""
    templates = pod_templates(objects)
    source_labels, target_labels = templates[source]["metadata"]["labels"], templates[target]["metadata"]["labels"]
    for policy in by_kind(objects, "NetworkPolicy").values():
        if not selects(policy["spec"]["podSelector"], target_labels):
            continue
        for rule in policy["spec"].get("ingress", []):
            if rule.get("ports") and port not in {p["port"] for p in rule["ports"]}:
                continue
            if "from" not in rule or any(selects(s["podSelector"], source_labels) for s in rule["from"]):
                return True
    return False


def test_network_policies_let_prometheus_reach_metrics_ports_and_the_gateway_reach_prometheus(rendered):
    overlay, objects = rendered
    for process in metrics_processes():
        assert reaches(objects, "prometheus", kubernetes.pod_of(process), process.metrics_port), process.name
    assert reaches(objects, "gateway", "prometheus", compose.PROMETHEUS_PORT)
    for other in ("users-web", "orders-worker", "flower", "redis-exporter"):
        assert not reaches(objects, other, "prometheus", compose.PROMETHEUS_PORT), other
    # Only its metrics ports: not a worker's or the gateway's other ones.
    assert not reaches(objects, "prometheus", "orders-worker", kubernetes.WEB_PORT)
    assert not reaches(objects, "prometheus", "gateway", compose.NGINX_STATUS_PORT)
    assert not reaches(objects, "users-web", "orders-worker", compose.METRICS_PORT)
    # The new policies name Prometheus alone as their source.
    for name, policy in by_kind(objects, "NetworkPolicy").items():
        if name.startswith("metrics-"):
            assert ingress_sources(policy) == [kubernetes.PROMETHEUS_PODS], name
    if overlay == "dev":  # the exporters reach the datastores they watch, and no other
        assert reaches(objects, "redis-exporter", "redis", 6379)
        assert not reaches(objects, "redis-exporter", "orders-db", 5432)
        assert not reaches(objects, "prometheus", "redis", 6379)
        for service in SERVICES:
            assert reaches(objects, "postgres-exporter", f"{service}-db", 5432)
            assert not reaches(objects, "prometheus", f"{service}-db", 5432)
        assert not reaches(objects, "postgres-exporter", "redis", 6379)
