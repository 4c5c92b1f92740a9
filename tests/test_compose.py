"""Compose and the container images, checked without a Docker engine.

docker-compose.yml must be the one generated from the native process list, valid under the Compose
specification, with a healthcheck on every long-running container and every dependency waiting on health or
completion; its commands and variable names must be the native stack's; each Dockerfile must pass hadolint, and
each image's pinned requirements must be enough to load what its containers run. Needs no running stack.
"""

import fnmatch
import glob
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from stack import compose
from stack.__main__ import SETUP_COMMANDS
from stack.config import MESSAGING_SERVICES, ROOT, SERVICES, StackConfig
from stack.processes import WEB_COMMAND, WEB_HEALTHCHECK, NativeValues, app_processes, exporter_processes
from stack.render import fill_template, nginx_main, nginx_values
from stack.requirements import service_requirements

COMPOSE_FILE = ROOT / "docker-compose.yml"
SERVICE_DOCKERFILE = ROOT / "Dockerfile"  # the four services' one image, the service a build argument
DOCKERFILES = [SERVICE_DOCKERFILE, ROOT / "stack" / "flower.Dockerfile", ROOT / "stack" / "exporter.Dockerfile"]


@pytest.fixture(scope="module")
def services() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())["services"]


@pytest.fixture
def native(tmp_path) -> NativeValues:
    """The native stack's values, its secrets written to a temporary directory."""
    return NativeValues(StackConfig(var=tmp_path, port_base=18000, gateway_port=8080))


def tool(name: str) -> str:
    """A program of the virtual environment (installed by scripts/bootstrap.sh), else from PATH."""
    found = Path(sys.executable).parent / name
    path = str(found) if found.exists() else shutil.which(name)
    if not path:
        pytest.fail(f"{name} is missing: run scripts/bootstrap.sh", pytrace=False)
    return path


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    lines = [line for line in path.read_text().splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    return [tuple(line.split(maxsplit=1)) for line in joined.splitlines() if line.strip()]


def dockerfile_values(path: Path, instruction: str) -> list[str]:
    return [arguments for name, arguments in dockerfile_instructions(path) if name == instruction]


def test_committed_prometheus_configuration_of_compose_is_the_one_generated_from_the_process_list():
    path = compose.PROMETHEUS_FILE
    assert (ROOT / path).read_text() == compose.prometheus_file(), (
        f"{path} is stale: run `.venv/bin/python -m stack compose --prometheus > {path}`"
    )


def test_committed_compose_file_is_the_one_generated_from_the_process_list():
    assert COMPOSE_FILE.read_text() == compose.render(), (
        "docker-compose.yml is stale: run `.venv/bin/python -m stack compose > docker-compose.yml`"
    )


def test_compose_file_validates_against_the_compose_specification():
    argv = [tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(COMPOSE_FILE)]
    result = subprocess.run(argv, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_long_running_container_has_a_healthcheck(services):
    for name, service in services.items():
        if name.endswith("-migrate"):
            continue
        check = service.get("healthcheck", {})
        assert not check.get("disable") and check.get("test"), f"{name} has no healthcheck"
        assert service.get("restart") == "unless-stopped", name


def test_every_dependency_waits_for_health_or_for_a_one_shot_to_succeed(services):
    for name, service in services.items():
        for target, rule in service.get("depends_on", {}).items():
            assert target in services, f"{name} depends on unknown {target}"
            if target.endswith("-migrate"):
                assert rule == {"condition": "service_completed_successfully"}, f"{name} -> {target}"
            else:
                assert rule == {"condition": "service_healthy"}, f"{name} -> {target}"
                assert services[target]["healthcheck"]["test"], f"{target} has no healthcheck to wait for"


def test_every_app_process_of_the_native_stack_is_one_container_and_nothing_else_is(services, native):
    infrastructure = {"redis", "nginx", "prometheus", "grafana", "jaeger", *(f"{s}-db" for s in SERVICES)}
    infrastructure |= {process.name for process in exporter_processes(native)}
    infrastructure |= {f"{s}-migrate" for s in SERVICES}
    assert set(services) - infrastructure == {process.name for process in app_processes(native)}


def test_app_containers_run_the_native_commands_filled_from_their_own_environment(services, native):
    for process in app_processes(native):
        container = services[process.name]
        expected = [fill_template(part, container["environment"]) for part in process.command]
        assert container["command"] == expected, process.name


def test_app_containers_use_the_native_variable_names(services, native):
    for process in app_processes(native):
        names = set(process.env) - {"PATH"}  # the image's own PATH finds its programs
        if process.service in {"inventory", "orders", "payments"}:
            # They fetch users_svc's public key from its JWKS; only users_svc mounts the key volume.
            names = names - {"JWT_PUBLIC_KEY_FILE"} | {"JWT_JWKS_URL"}
        assert set(services[process.name]["environment"]) == names, process.name


def test_one_shot_set_up_runs_the_native_set_up_commands_with_the_staff_account(services, native):
    for service in SERVICES:
        container = services[f"{service}-migrate"]
        # Each argument of the kit's runner is one manage.py command line (service_kit/setup_commands.py).
        runner, command_lines = container["command"][:3], container["command"][3:]
        assert runner == ["python", "-m", "service_kit.setup_commands"]
        commands = [shlex.split(line) for line in command_lines]
        assert commands == [args for args in SETUP_COMMANDS[service] if args[0] != "collectstatic"]
        assert {"ADMIN_EMAIL", "ADMIN_PASSWORD", "DATABASE_URL"} <= set(container["environment"])
        assert container["depends_on"] == {
            f"{service}-db": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
        }


def test_web_worker_and_relay_of_a_service_share_its_image_and_wait_for_its_set_up(services):
    for service in SERVICES:
        kinds = ("web", "worker", "relay", "migrate") if service in MESSAGING_SERVICES else ("web", "migrate")
        for kind in kinds:
            container = services[f"{service}-{kind}"]
            assert container["build"] == {"context": ".", "dockerfile": "Dockerfile", "args": {"SERVICE": service}}
            assert container["image"] == f"shop-platform/{service}-svc"
            if kind != "migrate":
                assert container["depends_on"][f"{service}-migrate"]["condition"] == "service_completed_successfully"


def test_users_key_pair_is_in_a_volume_and_the_other_services_verify_with_its_jwks(services):
    django_containers = {name: c for name, c in services.items() if "DATABASE_URL" in c.get("environment", {})}
    assert len(django_containers) == 2 * len(SERVICES) + 2 * len(MESSAGING_SERVICES)
    for name, container in django_containers.items():
        env = container["environment"]
        if env["SERVICE_NAME"] == "users":
            assert "users-keys:/keys" in container["volumes"], name
            assert env["JWT_PRIVATE_KEY_FILE"].startswith("/keys/"), name
            assert env["JWT_PUBLIC_KEY_FILE"].startswith("/keys/"), name
        else:
            assert "volumes" not in container, name
            assert "JWT_PRIVATE_KEY_FILE" not in env, name
            assert env["JWT_JWKS_URL"] == "http://users-web:8000/api/users/jwks/", name
    # The JWKS is asked for as users-web:8000, so users_svc must answer to that host name.
    assert "users-web" in services["users-web"]["environment"]["DJANGO_ALLOWED_HOSTS"].split(",")


def placeholders(path: Path) -> set[str]:
    return set(re.findall(r"\$\{(\w+)\}", path.read_text()))


def test_nginx_uses_the_native_template_with_compose_service_names_on_their_ports(services, native):
    nginx = services["nginx"]
    template = ROOT / "nginx" / "platform.conf.template"
    routes = ROOT / compose.OBSERVABILITY_ROUTES
    assert f"./{template.relative_to(ROOT)}:/etc/nginx/templates/default.conf.template:ro" in nginx["volumes"]
    env = nginx["environment"]
    # The shared template's placeholders, and those of Compose's own routes (less the one the image sets itself).
    assert set(nginx_values(native.cfg)) == placeholders(template)
    observability = set(compose.observability_values()) - {"NGINX_ENTRYPOINT_LOCAL_RESOLVERS"}
    assert observability == placeholders(routes) - {"NGINX_LOCAL_RESOLVERS"}
    assert set(env) == placeholders(template) | set(compose.observability_values())
    listening = {f"{s}-web": services[f"{s}-web"]["environment"]["WEB_BIND"].split(":")[1] for s in SERVICES}
    listening["flower"] = services["flower"]["environment"]["FLOWER_PORT"]
    listening["prometheus"] = next(
        arg.rsplit(":", 1)[1] for arg in services["prometheus"]["command"] if arg.startswith("--web.listen-address=")
    )
    listening["grafana"] = services["grafana"]["environment"]["GF_SERVER_HTTP_PORT"]
    listening["jaeger"] = services["jaeger"]["environment"]["QUERY_HTTP_SERVER_HOST_PORT"].lstrip(":")
    upstreams = {name: value for name, value in env.items() if name.endswith("_UPSTREAM")}
    assert len(upstreams) == len(SERVICES) + 4
    for name, value in upstreams.items():
        host, port = value.split(":")
        assert host in services, f"{name}={value}: no such Compose service"
        assert port == listening[host], f"{name}={value}: {host} listens on {listening[host]}"
        if "profiles" in services[host]:
            # It may not run: nginx looks it up per request (nginx/observability.conf.template), never waits.
            assert host not in nginx["depends_on"], host
        else:
            assert nginx["depends_on"][host] == {"condition": "service_healthy"}
    assert nginx["ports"] == [f"${{GATEWAY_PORT:-8080}}:{env['GATEWAY_LISTEN']}"]


def test_compose_routes_to_grafana_and_jaeger_are_a_subfolder_template_the_shared_one_includes(services):
    nginx = services["nginx"]
    env = nginx["environment"]
    mounted = dict(volume.rsplit(":", 2)[:2] for volume in nginx["volumes"])
    target = mounted[f"./{compose.OBSERVABILITY_ROUTES}"]
    # The image fills /etc/nginx/templates/<path>.template into /etc/nginx/conf.d/<path>; its own nginx.conf
    # includes conf.d/*.conf, not a subfolder, so these locations land in the gateway's server block alone.
    assert target.startswith(f"{compose.NGINX_TEMPLATES_DIR}/") and target.endswith(".template")
    rendered = compose.NGINX_CONF_DIR + target.removeprefix(compose.NGINX_TEMPLATES_DIR).removesuffix(".template")
    assert Path(rendered).parent != Path(compose.NGINX_CONF_DIR)
    assert fnmatch.fnmatch(rendered, env["NGINX_EXTRA_ROUTES"])
    assert "include ${NGINX_EXTRA_ROUTES};" in (ROOT / "nginx" / "platform.conf.template").read_text()
    assert env["NGINX_ENTRYPOINT_LOCAL_RESOLVERS"]


def test_the_native_gateway_and_kubernetes_include_no_extra_routes(native):
    native_routes = nginx_values(native.cfg)["NGINX_EXTRA_ROUTES"]
    assert native_routes.startswith(str(native.cfg.var)) and not glob.glob(native_routes)
    documents = yaml.safe_load_all((ROOT / "deploy" / "kubernetes" / "base" / "platform.yaml").read_text())
    gateway = next(doc for doc in documents if doc["metadata"]["name"] == "gateway-config")
    conf = gateway["data"]["default.conf"]
    # The ConfigMap, mounted at /etc/nginx/conf.d, holds default.conf alone: the pattern matches nothing there.
    assert f"include {compose.NGINX_CONF_DIR}/{compose.EXTRA_ROUTES_DIR}/*.conf;" in conf
    assert set(gateway["data"]) == {"default.conf"}
    assert "location /grafana/" not in conf and "location /jaeger/" not in conf


def test_compose_gateway_filled_as_the_image_fills_it_passes_nginx_t_without_grafana_or_jaeger(services, tmp_path):
    """Both templates, mounted as Compose mounts them, through the nginx image's template step (its copy in the
    stand-in image, which also finds the container's resolvers as the image's 15-local-resolvers does) with
    Compose's values: nginx accepts the result, though no grafana or jaeger resolves here, since it looks them
    up per request. The upstreams it resolves at start point at this machine instead, and the paths into
    tmp_path."""
    nginx = services["nginx"]
    templates, conf_d = tmp_path / "templates", tmp_path / "conf.d"
    for volume in nginx["volumes"]:
        source, target, _ = volume.split(":")
        copy = templates / Path(target).relative_to(compose.NGINX_TEMPLATES_DIR)
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / source, copy)
    env = {name: str(value) for name, value in nginx["environment"].items()}
    for port, name in enumerate(
        sorted(n for n in env if n.endswith("_UPSTREAM") and not n.startswith(("GRAFANA", "JAEGER")))
    ):
        env[name] = f"127.0.0.1:{20001 + port}"
    env.update(
        GATEWAY_LISTEN="127.0.0.1:20080",
        NGINX_STATUS_LISTEN="127.0.0.1:20081",
        NGINX_ACCESS_LOG=str(tmp_path / "access.log"),
        NGINX_CACHE_DIR=str(tmp_path / "cache"),
        NGINX_EXTRA_ROUTES=str(conf_d / env["NGINX_EXTRA_ROUTES"].removeprefix(f"{compose.NGINX_CONF_DIR}/")),
        NGINX_ENVSUBST_TEMPLATE_DIR=str(templates),
        NGINX_ENVSUBST_OUTPUT_DIR=str(conf_d),
        PATH=os.environ["PATH"],
    )
    cfg = StackConfig(var=tmp_path, port_base=20000, gateway_port=20080)
    for folder in (cfg.log_dir, cfg.run_dir, tmp_path / "nginx" / "tmp"):
        folder.mkdir(parents=True)
    # The image's nginx.conf includes conf.d/*.conf.
    (tmp_path / "nginx.conf").write_text(nginx_main(cfg, f"include {conf_d}/*.conf;"))
    for program in ("envsubst", "nginx"):
        assert shutil.which(program) or Path(f"/usr/sbin/{program}").exists(), (
            f"{program} is missing: run make bootstrap"
        )
    entrypoint = ROOT / "scripts" / "compose" / "standins" / "nginx-entrypoint.sh"
    argv = ["sh", str(entrypoint), "nginx", "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")]
    result = subprocess.run(
        argv, env={**env, "PATH": f"{env['PATH']}:/usr/sbin"}, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    routes = (conf_d / "routes" / "observability.conf").read_text()
    assert placeholders(conf_d / "routes" / "observability.conf") == placeholders(conf_d / "default.conf") == set()
    assert re.search(r"^resolver \S+.* valid=10s", routes, re.MULTILINE), routes[:800]
    assert "proxy_pass http://$grafana_upstream;" in routes and "set $grafana_upstream grafana:3000;" in routes
    assert "proxy_pass http://$jaeger_upstream;" in routes and "set $jaeger_upstream jaeger:16686;" in routes


def test_grafana_and_jaeger_run_in_a_profile_and_nothing_outside_it_waits_for_them(services):
    profiled = {name for name, service in services.items() if "profiles" in service}
    assert profiled == {"grafana", "jaeger"}
    for name in profiled:
        assert services[name]["profiles"] == [compose.OBSERVABILITY_PROFILE], name
    for name, service in services.items():
        if name not in profiled:
            assert not set(service.get("depends_on", {})) & profiled, f"{name} waits for {profiled}"
    # Without the profile, `docker compose up` (and `make test-compose`) pulls neither image: the run's list of
    # base images to pull or stand in for leaves them out.
    checks = ROOT / "scripts" / "compose" / "checks.py"
    listed = subprocess.run(
        [sys.executable, str(checks), "base-images", str(COMPOSE_FILE)], capture_output=True, text=True, check=True
    ).stdout.split()
    assert compose.PROMETHEUS_IMAGE in listed
    assert not {services[name]["image"] for name in profiled} & set(listed), listed
    assert services["grafana"]["image"] == compose.GRAFANA_IMAGE and services["jaeger"]["image"] == compose.JAEGER_IMAGE
    for name in profiled:
        image, tag = services[name]["image"].rsplit(":", 1)
        assert re.fullmatch(r"\d+\.\d+\.\d+", tag), f"{name}: {image} is not pinned to a version"


def test_grafana_is_provisioned_read_only_and_served_under_grafana(services):
    grafana = services["grafana"]
    env = grafana["environment"]
    assert grafana["image"].startswith("grafana/grafana-oss:")
    assert env["GF_SERVER_ROOT_URL"] == "http://localhost:${GATEWAY_PORT:-8080}/grafana/"
    assert env["GF_SERVER_SERVE_FROM_SUB_PATH"] == "true"
    # The admin's password from .env, required; no self sign-up.
    assert env["GF_SECURITY_ADMIN_PASSWORD"] == "${GRAFANA_ADMIN_PASSWORD:?see .env.example}"
    assert env["GF_USERS_ALLOW_SIGN_UP"] == "false"
    for volume in grafana["volumes"]:
        if volume.startswith("./"):
            source, _, mode = volume.split(":")
            assert mode == "ro", volume
            assert (ROOT / source).is_dir(), volume
    assert "grafana-data:/var/lib/grafana" in grafana["volumes"]
    assert grafana["depends_on"] == {"prometheus": {"condition": "service_healthy"}}
    # Its check asks the path the gateway routes to it.
    assert f"127.0.0.1:{env['GF_SERVER_HTTP_PORT']}/grafana/api/health" in grafana["healthcheck"]["test"][1]


def test_jaeger_takes_otlp_over_http_and_serves_its_ui_under_jaeger(services):
    jaeger = services["jaeger"]
    env = jaeger["environment"]
    assert jaeger["image"].startswith("jaegertracing/all-in-one:")
    assert env["COLLECTOR_OTLP_ENABLED"] == "true"
    assert env["COLLECTOR_OTLP_HTTP_HOST_PORT"] == ":4318"
    assert env["QUERY_BASE_PATH"] == "/jaeger"
    # .env.example's endpoint (opt-in) and the admin's trace link are this Jaeger's.
    example = (ROOT / ".env.example").read_text()
    assert "OTEL_EXPORTER_OTLP_ENDPOINT=http://jaeger:4318" in example
    assert re.search(r"^OTEL_EXPORTER_OTLP_ENDPOINT=$", example, re.MULTILINE)
    assert re.search(r"^TRACE_UI_URL=/jaeger/trace/\{trace_id\}$", example, re.MULTILINE)
    for process in app_processes(compose.VALUES):
        if process.service:
            assert services[process.name]["environment"]["TRACE_UI_URL"] == "${TRACE_UI_URL:-}", process.name
            assert services[process.name]["environment"]["OTEL_EXPORTER_OTLP_ENDPOINT"] == (
                "${OTEL_EXPORTER_OTLP_ENDPOINT:-}"
            ), process.name


def test_every_password_of_env_example_is_one_test_compose_replaces_with_a_secret():
    # scripts/test-compose.sh makes its .env from .env.example, a fresh secret for every change-me value.
    example = (ROOT / ".env.example").read_text()
    for name in ("GRAFANA_ADMIN_PASSWORD", "FLOWER_PASSWORD", "ADMIN_PASSWORD"):
        assert re.search(rf"^{name}=change-me", example, re.MULTILINE), name


def test_every_compose_variable_is_documented_in_env_example_and_none_else():
    used = set(re.findall(r"(?<!\$)\$\{(\w+)", COMPOSE_FILE.read_text()))
    documented = set(re.findall(r"^(\w+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    assert used == documented


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda path: str(path.relative_to(ROOT)))
def test_dockerfile_passes_hadolint(dockerfile):
    result = subprocess.run([tool("hadolint"), "--no-color", str(dockerfile)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_image_runs_the_native_web_command_and_the_compose_healthcheck_as_a_non_root_user(services):
    dockerfile = SERVICE_DOCKERFILE
    assert dockerfile_values(dockerfile, "FROM") == ["python:3.11-slim"]
    image_env = {"WEB_BIND": "0.0.0.0:8000", "WEB_WORKERS": "2"}
    assert json.loads(dockerfile_values(dockerfile, "CMD")[0]) == [fill_template(p, image_env) for p in WEB_COMMAND]
    healthcheck = json.loads(dockerfile_values(dockerfile, "HEALTHCHECK")[0].split(" CMD ", 1)[1])
    assert healthcheck == WEB_HEALTHCHECK
    for service in SERVICES:
        # Compose runs the same check as one shell command (stack/compose.py: shell_form).
        assert services[f"{service}-web"]["healthcheck"]["test"] == ["CMD-SHELL", shlex.join(healthcheck)], service
        static_root = services[f"{service}-web"]["environment"]["STATIC_ROOT"]
        assert f"STATIC_ROOT={static_root}" in dockerfile.read_text(), service
    assert dockerfile_values(dockerfile, "USER") == ["10001"]
    # The service is the build argument, and names itself to the settings and processes (SERVICE_NAME).
    assert "SERVICE" in dockerfile_values(dockerfile, "ARG")
    assert "SERVICE_NAME=${SERVICE}" in dockerfile.read_text()


def test_image_installs_dependencies_before_copying_the_source():
    steps = dockerfile_instructions(SERVICE_DOCKERFILE)
    install = next(i for i, (name, arguments) in enumerate(steps) if name == "RUN" and "pip install" in arguments)
    copied_before = " ".join(arguments for name, arguments in steps[:install] if name == "COPY")
    assert "constraints.txt" in copied_before
    assert "${SERVICE}_svc/pyproject.toml" in copied_before
    assert "COPY ${SERVICE}_svc ${SERVICE}_svc" in [f"{name} {arguments}" for name, arguments in steps[install:]]


def test_image_requirements_are_all_pinned_as_in_constraints():
    def key(requirement: str) -> str:
        return re.sub(r"\[.*\]", "", requirement).lower().replace("_", "-")

    constraints = {key(line) for line in (ROOT / "constraints.txt").read_text().split()}
    for service in SERVICES:
        for requirement in service_requirements(ROOT, f"{service}_svc"):
            assert "==" in requirement and key(requirement) in constraints, f"{service}: {requirement}"
    flower_run = " ".join(dockerfile_values(ROOT / "stack" / "flower.Dockerfile", "RUN"))
    for pin in re.findall(r"\b[\w.-]+==[\w.]+", flower_run):
        assert key(pin) in constraints, f"stack/flower.Dockerfile: {pin}"


def requirement_closure(requirements: list[str]) -> set[str]:
    """Distribution names that pip installs for `requirements`, read from the installed packages' metadata."""
    found: set[tuple[str, frozenset]] = set()
    pending = [Requirement(line) for line in requirements]
    while pending:
        requirement = pending.pop()
        key = (canonicalize_name(requirement.name), frozenset(requirement.extras))
        if key in found:
            continue
        found.add(key)
        for line in metadata.requires(requirement.name) or []:
            dependency = Requirement(line)
            extras = requirement.extras or {""}
            if dependency.marker is None or any(dependency.marker.evaluate({"extra": e}) for e in extras):
                pending.append(dependency)
    return {name for name, _ in found}


def modules_outside(distributions: set[str]) -> set[str]:
    """Top-level modules of this virtual environment that none of `distributions` provides."""
    provided_by = metadata.packages_distributions()
    return {
        module
        for module, names in provided_by.items()
        if not {canonicalize_name(name) for name in names} & distributions
    }


# Run in a subprocess: modules the image would not have fail to import, then the container's entry points load.
IMPORT_GUARD = """
import importlib.abc, sys
absent = set(sys.argv[1].split(","))

class NotInImage(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in absent:
            raise ModuleNotFoundError(f"No module named {name!r} in the image", name=name)

sys.meta_path.insert(0, NotInImage())
"""
SERVICE_ENTRY_POINTS = """
import django
django.setup()
from django.conf import settings
from django.core.management import call_command, get_commands, load_command_class
from kombu import Connection
call_command("check")
for command, app in get_commands().items():
    load_command_class(app, command)
import config.celery, config.wsgi, celery.bin.celery, gunicorn.app.wsgiapp, service_kit.gunicorn_conf
import service_kit.setup_commands
Connection(settings.CELERY_BROKER_URL).transport
"""
FLOWER_ENTRY_POINTS = """
import celery.bin.celery, flower.command, monitoring.flower_app
from kombu import Connection
Connection("redis://redis:6379/0").transport
"""


def run_with_only(distributions: set[str], code: str, **kwargs) -> subprocess.CompletedProcess:
    absent = ",".join(sorted(modules_outside(distributions)))
    return subprocess.run(
        [sys.executable, "-c", IMPORT_GUARD + code, absent], capture_output=True, text=True, timeout=120, **kwargs
    )


@pytest.mark.parametrize("service", SERVICES)
def test_image_requirements_are_enough_for_web_worker_relay_and_set_up(service, tmp_path):
    distributions = requirement_closure(service_requirements(ROOT, f"{service}_svc")) | {"service-kit"}
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "config.settings",
        # The kit of this checkout, as the image's PYTHONPATH gives it (Dockerfile), whichever one the virtual
        # environment installed.
        "PYTHONPATH": str(ROOT / "libs" / "service_kit"),
        "DATABASE_URL": f"postgres://{service}@{service}-db:5432/{service}",
        "REDIS_URL": "redis://redis:6379/0",
        "STATIC_ROOT": str(tmp_path / "static"),
        "JWT_PRIVATE_KEY_FILE": str(tmp_path / "keys" / "private.pem"),
        "JWT_PUBLIC_KEY_FILE": str(tmp_path / "keys" / "public.pem"),
    }
    result = run_with_only(distributions, SERVICE_ENTRY_POINTS, cwd=ROOT / f"{service}_svc", env=env)
    assert result.returncode == 0, result.stderr[-3000:]


def test_flower_image_requirements_are_enough_for_flower_on_redis():
    run = " ".join(dockerfile_values(ROOT / "stack" / "flower.Dockerfile", "RUN"))
    distributions = requirement_closure(re.findall(r"\b[\w.-]+==[\w.]+", run))
    result = run_with_only(distributions, FLOWER_ENTRY_POINTS, cwd=ROOT, env={"PATH": os.environ["PATH"]})
    assert result.returncode == 0, result.stderr[-3000:]


def test_generated_file_does_not_depend_on_the_native_stack_settings(monkeypatch):
    for name, value in {"WEB_WORKERS": "7", "FLOWER_USER": "someone", "ADMIN_PASSWORD": "x", "PORT_BASE": "1"}.items():
        monkeypatch.setenv(name, value)
    assert compose.render() == COMPOSE_FILE.read_text()
