"""The Kubernetes manifests (deploy/kubernetes/), checked without a cluster.

The committed files must be the ones generated from the process list; kustomize (kubectl's, installed by
scripts/bootstrap.sh) must render each overlay; every rendered object must validate against the Kubernetes API's
schemas (kubernetes-validate, strict) or, for KEDA's ScaledObject, against its vendored schema; and the app
containers must run the process list's commands with its variable names, every value they read from a Secret or
ConfigMap being there. Needs no running stack.
"""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from stack import kubernetes
from stack.config import MESSAGING_SERVICES, ROOT, SERVICES
from stack.processes import SETUP_COMMANDS, app_processes

DEPLOY = ROOT / "deploy" / "kubernetes"
KEDA_SCHEMA = DEPLOY / "schemas" / "keda.sh_v1alpha1_scaledobject.json"
KUBERNETES_VERSION = "1.32"  # the oldest minor still supported upstream when this was written
OVERLAYS = ("dev", "prod")


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
        assert set(names) == expected, process.name
        for placeholder in re.findall(r"\$\((\w+)\)", " ".join(container["command"])):
            assert placeholder in names, f"{process.name}: $({placeholder}) is not in its environment"
    assert {name for name in deployments if name != "gateway"} == {p.name for p in processes}


def test_each_migration_job_runs_the_process_list_set_up_commands(rendered):
    _, objects = rendered
    jobs = by_kind(objects, "Job")
    assert set(jobs) == {f"{service}-migrate" for service in SERVICES}
    for service in SERVICES:
        container = jobs[f"{service}-migrate"]["spec"]["template"]["spec"]["containers"][0]
        shell, flag, script = container["command"]
        assert (shell, flag) == ("sh", "-c")
        commands = [part.split()[2:] for part in script.split(" && ")]
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
        assert sources == [{"podSelector": {"matchLabels": {"shop-platform/service": service}}}]


def test_prod_reads_its_databases_and_redis_from_secrets_kept_out_of_git():
    ignored = subprocess.run(
        ["git", "check-ignore", "deploy/kubernetes/overlays/prod/secrets/orders-secrets.env"], cwd=ROOT
    )
    assert ignored.returncode == 0
    for service in SERVICES:
        example = (DEPLOY / "overlays" / "prod" / "secrets" / f"{service}-secrets.env.example").read_text()
        assert re.search(r"^DATABASE_URL=postgres://", example, re.MULTILINE)
