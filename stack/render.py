"""Config files of the native stack, written under var/ from the process list and the nginx template."""

import os
import re
import shlex

from .config import ROOT, SERVICES, StackConfig
from .processes import Process, all_processes


def _supervisor_quote(value: str) -> str:
    # supervisord expands %(name)s in these values, so a literal % is doubled.
    return value.replace("%", "%%")


def _program(process: Process, cfg: StackConfig) -> str:
    env = ",".join(f'{key}="{_supervisor_quote(value)}"' for key, value in process.env.items())
    lines = [
        f"[program:{process.name}]",
        f"command={_supervisor_quote(shlex.join(process.argv()))}",
        f"directory={process.directory or ROOT}",
        "autostart=false",
        "autorestart=true",
        "startsecs=1",
        "startretries=10",
        f"stopsignal={process.stop_signal}",
        f"stopwaitsecs={process.stop_wait}",
        f"stopasgroup={'true' if process.stop_as_group else 'false'}",
        "killasgroup=true",
        "redirect_stderr=true",
        f"stdout_logfile={cfg.log_dir / process.name}.log",
        "stdout_logfile_maxbytes=20MB",
        "stdout_logfile_backups=2",
    ]
    if env:
        lines.append(f"environment={env}")
    if process.user:
        lines.append(f"user={process.user}")
    return "\n".join(lines)


def supervisor_conf(cfg: StackConfig) -> str:
    processes = all_processes(cfg)
    groups = {}
    for process in processes:
        groups.setdefault(process.group, []).append(process.name)
    head = f"""[unix_http_server]
file={cfg.run_dir / "supervisor.sock"}
chmod=0700

[supervisord]
logfile={cfg.log_dir / "supervisord.log"}
pidfile={cfg.run_dir / "supervisord.pid"}
childlogdir={cfg.log_dir}
nodaemon=false
silent=true

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://{cfg.run_dir / "supervisor.sock"}
"""
    group_sections = [f"[group:{name}]\nprograms={','.join(members)}" for name, members in groups.items()]
    return "\n\n".join([head, *(_program(p, cfg) for p in processes), *group_sections]) + "\n"


def nginx_values(cfg: StackConfig) -> dict[str, str]:
    values = {f"{s.upper()}_UPSTREAM": f"127.0.0.1:{cfg.web_port(s)}" for s in SERVICES}
    values.update(
        FLOWER_UPSTREAM=f"127.0.0.1:{cfg.flower_port}",
        PROMETHEUS_UPSTREAM=f"127.0.0.1:{cfg.prometheus_port}",
        NGINX_STATUS_LISTEN=f"127.0.0.1:{cfg.nginx_status_port}",
        GATEWAY_LISTEN=f"127.0.0.1:{cfg.gateway_port}",
        NGINX_ACCESS_LOG=str(cfg.log_dir / "nginx-access.log"),
        NGINX_CACHE_DIR=str(cfg.var / "nginx" / "cache"),
        # No Grafana or Jaeger natively: the pattern matches no file, so /grafana/ and /jaeger/ are not routed.
        NGINX_EXTRA_ROUTES=str(cfg.var / "nginx" / "routes" / "*.conf"),
    )
    return values


def fill_template(text: str, values: dict[str, str]) -> str:
    """Fill ${NAME} as envsubst would; nginx's own $variables stay as they are."""
    return re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)], text)


def nginx_conf(cfg: StackConfig) -> str:
    return nginx_main(cfg, fill_template((ROOT / "nginx" / "platform.conf.template").read_text(), nginx_values(cfg)))


def nginx_main(cfg: StackConfig, platform: str) -> str:
    """nginx's main file around the filled template: what the nginx image's own nginx.conf gives in Compose."""
    tmp = cfg.var / "nginx" / "tmp"
    user = "user root root;\n" if os.geteuid() == 0 else ""
    return f"""{user}worker_processes 2;
pid {cfg.run_dir / "nginx.pid"};
error_log {cfg.log_dir / "nginx-error.log"} warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    sendfile on;
    keepalive_timeout 65;
{platform}
}}
"""
